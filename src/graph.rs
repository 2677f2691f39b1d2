//! The lexical import graph of every source file, and the slice of it worth
//! parsing (the engine issue; `../shared/ENGINE.md`).
//!
//! Parsing is ~100× slower than reading, and real repositories are mostly
//! code that never touches an AI call, a route or a protection. So the walk
//! reads every file once and keeps a [`Summary`]: its imports, found by
//! looking at lines (`import x`, `from x import y`, `… from "x"`,
//! `require("x")`, `import("x")`), and the [`Roles`] its text can play,
//! found by literal search (the catalogue's `rules/facts.toml`). Then
//! [`slice`] picks the files to parse: AI files and every file that imports
//! one, directly or not (services, routes, the app that mounts them); the
//! protections those endpoints import; and the files that configure the
//! whole app (CORS, middleware, limiters). Everything else is scanned for keys and
//! never parsed.
//!
//! Module resolution ([`ModuleIndex`]) lives here once: the project pass
//! resolves parsed imports with the same code.
//!
//! Deliberately over-approximate: a commented-out import or one inside a
//! string adds an edge, which only makes the slice a little larger. What it
//! cannot see is a dependency that no import names (dynamic registration,
//! DI containers configured by strings): such a file is parsed only when
//! its own text gives it a role.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::lang::Lang;

/// What a file's text can be, as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Roles(pub u16);

impl Roles {
    /// Names an AI SDK, a provider host or a provider API path.
    pub const AI: Roles = Roles(1);
    /// Declares routes, an app, a router, or is a route file by its path.
    pub const ENDPOINT: Roles = Roles(2);
    /// Names a limiter, an auth helper or an HTTP 401/403/429.
    pub const PROTECTION: Roles = Roles(4);
    /// Browser or server boundary markers (`"use client"`, `server-only`).
    pub const CLIENT: Roles = Roles(8);
    /// Configures the whole app (CORS, middleware): always parsed.
    pub const ALWAYS: Roles = Roles(16);
    /// Names a provider host or API path (raw HTTP): AI whatever it imports.
    pub const AI_HTTP: Roles = Roles(32);
    /// Creates the app (`FastAPI()`, `express()`, `new Hono()`): always
    /// parsed, with the helpers it imports (app-wide middleware, limiters).
    pub const APP: Roles = Roles(64);
    /// Names an endless loop or a retry library (`while True`, `tenacity`):
    /// parsed only when its imports lead to an AI file. A loop or a retry
    /// repeats an AI call only through calls the facts resolve, and those
    /// follow imports; a worker's `while True` far from any AI file is
    /// none of `loops`' business.
    pub const LOOP: Roles = Roles(128);
    /// A `"use client"` module (with CLIENT): browser code. What imports
    /// it renders it; no AI call is reached through it.
    pub const BROWSER: Roles = Roles(256);

    pub fn has(self, other: Roles) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn without(self, other: Roles) -> Roles {
        Roles(self.0 & !other.0)
    }
}

impl std::ops::BitOr for Roles {
    type Output = Roles;
    fn bitor(self, rhs: Roles) -> Roles {
        Roles(self.0 | rhs.0)
    }
}

impl std::ops::BitOrAssign for Roles {
    fn bitor_assign(&mut self, rhs: Roles) {
        self.0 |= rhs.0;
    }
}

/// One import as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LexImport {
    /// `app.services.llm`, `.llm`, `./lib/ai`, `@/lib/ai`.
    pub module: String,
    /// Python `from m import a, b`: the names (one may be a submodule).
    pub names: Vec<String>,
}

/// What the walk keeps of a source file: a few hundred bytes, never its text.
#[derive(Clone, Debug)]
pub struct Summary {
    pub path: String,
    pub lang: Lang,
    pub roles: Roles,
    pub imports: Vec<LexImport>,
    /// Python: the base classes its classes name (`class LitellmLLM(LLM)`
    /// → `LLM`), as written; an AI file's bases lead the slice to the
    /// interface other code calls it through ([`scan_bases`]).
    pub bases: Vec<String>,
    pub bytes: u64,
}

/// The imports of a source file, by its lines (in lists of their exact
/// size: the summaries of a whole tree are held until the slice is chosen).
pub fn scan_imports(lang: Lang, bytes: &[u8]) -> Vec<LexImport> {
    let mut imports = match lang {
        Lang::Python => python_imports(bytes),
        Lang::TypeScript | Lang::Tsx => js_imports(bytes),
    };
    imports.shrink_to_fit();
    for import in &mut imports {
        import.names.shrink_to_fit();
    }
    imports
}

fn python_imports(bytes: &[u8]) -> Vec<LexImport> {
    let text = crate::source::lossy(bytes);
    let mut out = Vec::new();
    // Every import holds `import `: only the lines that do are read (with
    // the lines a `(…)` or `\` continues onto), in order, each once.
    let mut read_to = 0;
    for at in memchr::memmem::find_iter(text.as_bytes(), b"import ") {
        if at < read_to {
            continue;
        }
        let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let mut lines = Lines {
            text: &text,
            at: start,
        };
        if let Some(line) = lines.next() {
            python_import_line(line, &mut lines, &mut out);
        }
        read_to = lines.at;
    }
    out
}

/// `str::lines` from a byte offset, which it keeps.
struct Lines<'t> {
    text: &'t str,
    at: usize,
}

impl<'t> Iterator for Lines<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        let rest = self.text.get(self.at..).filter(|r| !r.is_empty())?;
        let line = rest.split_inclusive('\n').next()?;
        self.at += line.len();
        let Some(line) = line.strip_suffix('\n') else {
            return Some(line);
        };
        Some(line.strip_suffix('\r').unwrap_or(line))
    }
}

/// One line of a Python file: its imports, reading on from `lines` for a
/// parenthesized or continued name list.
fn python_import_line<'t>(
    line: &str,
    lines: &mut impl Iterator<Item = &'t str>,
    out: &mut Vec<LexImport>,
) {
    let line = line.trim_start();
    if let Some(rest) = line.strip_prefix("import ") {
        for part in rest.split(',') {
            let module = part.split_whitespace().next().unwrap_or("");
            if is_python_module(module) {
                out.push(LexImport {
                    module: module.to_string(),
                    names: Vec::new(),
                });
            }
        }
    } else if let Some(rest) = line.strip_prefix("from ") {
        let Some((module, names)) = rest.split_once(" import ") else {
            return;
        };
        let module = module.trim();
        if !is_python_module(module) {
            return;
        }
        let mut names = names.trim().to_string();
        // `from m import (\n a,\n b)` and `\` continuations.
        if names.starts_with('(') {
            let mut guard = 0;
            while !names.contains(')') && guard < 200 {
                match lines.next() {
                    Some(next) => names.push_str(next),
                    None => break,
                }
                guard += 1;
            }
        } else {
            let mut guard = 0;
            while names.ends_with('\\') && guard < 200 {
                names.pop();
                match lines.next() {
                    Some(next) => names.push_str(next),
                    None => break,
                }
                guard += 1;
            }
        }
        let names = names
            .trim_matches(|c| c == '(' || c == ')' || char::is_whitespace(c))
            .split([',', ')'])
            .filter_map(|n| {
                let n = n.split('#').next()?.split_whitespace().next()?;
                is_identifier(n).then(|| n.to_string())
            })
            .collect();
        out.push(LexImport {
            module: module.to_string(),
            names,
        });
    }
}

/// The base classes a Python file's classes name (`class A(B, mod.C):` →
/// `B`, `mod.C`), by its lines: keyword arguments (`metaclass=…`) and
/// subscripts (`Generic[T]`) left out. Nothing for TypeScript.
pub fn scan_bases(lang: Lang, bytes: &[u8]) -> Vec<String> {
    if !lang.is_python() || memchr::memmem::find(bytes, b"class ").is_none() {
        return Vec::new();
    }
    let text = crate::source::lossy(bytes);
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix("class ") else {
            continue;
        };
        let Some((_, after)) = rest.split_once('(') else {
            continue;
        };
        let inside = after.split(')').next().unwrap_or("");
        for base in inside.split(',') {
            let base = base.trim();
            let dotted = !base.is_empty()
                && base.len() < 200
                && base
                    .bytes()
                    .all(|b| b == b'.' || b == b'_' || b.is_ascii_alphanumeric());
            if dotted && !out.iter().any(|b| b == base) {
                out.push(base.to_string());
            }
        }
    }
    out.shrink_to_fit();
    out
}

fn is_python_module(m: &str) -> bool {
    !m.is_empty()
        && m.len() < 200
        && m.bytes()
            .all(|b| b == b'.' || b == b'_' || b.is_ascii_alphanumeric())
}

fn is_identifier(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric())
}

/// `from "x"` (import and export), `import "x"`, `require("x")`,
/// `import("x")`: the module in group 1.
static JS_IMPORT: std::sync::LazyLock<regex::bytes::Regex> = std::sync::LazyLock::new(|| {
    regex::bytes::Regex::new(
        r#"(?:\bfrom\s*|\bimport\s*|\brequire\s*\(\s*|\bimport\s*\(\s*)["']([^"'\r\n]{1,300})["']"#,
    )
    .expect("the import regex compiles")
});

/// Where the static imports of a JS/TS module end (the end of the line of
/// the last `import … from "…"`, `import "…"`, `export … from "…"`; 0 when
/// there is none), by the imports [`scan_imports`] reads; `None` when the
/// module also imports dynamically (`require("…")`, `import("…")`:
/// anywhere in the file, so it is parsed whole).
pub fn import_block_end(bytes: &[u8]) -> Option<usize> {
    let mut end = 0;
    for m in JS_IMPORT.find_iter(bytes) {
        if m.as_bytes().contains(&b'(') {
            return None;
        }
        end = m.end();
    }
    if end == 0 {
        return Some(0);
    }
    Some(memchr::memchr(b'\n', &bytes[end..]).map_or(bytes.len(), |i| end + i + 1))
}

fn js_imports(bytes: &[u8]) -> Vec<LexImport> {
    let mut out: Vec<LexImport> = Vec::new();
    for caps in JS_IMPORT.captures_iter(bytes) {
        let Some(m) = caps.get(1) else { continue };
        let module = String::from_utf8_lossy(m.as_bytes()).into_owned();
        if !out.iter().any(|i| i.module == module) {
            out.push(LexImport {
                module,
                names: Vec::new(),
            });
        }
    }
    out
}

const JS_EXTENSIONS: [&str; 7] = ["ts", "tsx", "js", "jsx", "mjs", "cjs", "mts"];

/// Every source path of the project, indexed for import resolution: Python
/// modules by their last dotted name, JS files by path.
#[derive(Default)]
pub struct ModuleIndex {
    known: HashSet<String>,
    /// `compilerOptions.paths` / `baseUrl` of the tsconfig.json and
    /// jsconfig.json files, deepest folder first.
    aliases: Vec<Alias>,
    /// Python module name (`llm`) → (dotted module path, file) of every
    /// file that provides a module of that name (`app.services.llm`,
    /// `app/services/llm.py`); a dotted suffix resolves among them.
    py_modules: HashMap<String, Vec<(String, String)>>,
}

/// One tsconfig/jsconfig: the folder it governs, its `baseUrl` (relative
/// to the root), and its `paths` patterns (`@lib/*` → `src/lib/*`).
#[derive(Debug, Default)]
struct Alias {
    dir: String,
    base: String,
    paths: Vec<(String, Vec<String>)>,
}

impl ModuleIndex {
    /// Read the `compilerOptions` (`baseUrl`, `paths`) of the tsconfig.json
    /// or jsconfig.json at `path` (JSON with comments and trailing commas);
    /// a file that does not parse is left out.
    pub fn add_tsconfig(&mut self, path: &str, text: &str) {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&strip_jsonc(text)) else {
            return;
        };
        let options = &json["compilerOptions"];
        let dir = parent_dir(path).to_string();
        let base_url = options["baseUrl"].as_str();
        let base = normalize(&format!("{dir}/{}", base_url.unwrap_or(".")));
        let paths: Vec<(String, Vec<String>)> = options["paths"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(pattern, targets)| {
                        let targets = targets
                            .as_array()
                            .map(|t| {
                                t.iter()
                                    .filter_map(|x| x.as_str().map(String::from))
                                    .collect()
                            })
                            .unwrap_or_default();
                        (pattern.clone(), targets)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if paths.is_empty() && base_url.is_none() {
            return;
        }
        self.aliases.push(Alias { dir, base, paths });
        // Deepest first: the nearest config governs a file.
        self.aliases.sort_by_key(|a| {
            std::cmp::Reverse(a.dir.matches('/').count() + usize::from(!a.dir.is_empty()))
        });
    }

    /// The bases a bare specifier stands for under the nearest tsconfig of
    /// `from_path`: its `paths` matches, else the spec under `baseUrl`.
    fn alias_bases(&self, from_path: &str, spec: &str) -> Vec<String> {
        let Some(alias) = self
            .aliases
            .iter()
            .find(|a| a.dir.is_empty() || from_path.starts_with(&format!("{}/", a.dir)))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (pattern, targets) in &alias.paths {
            let matched = match pattern.strip_suffix('*') {
                Some(prefix) => spec.strip_prefix(prefix),
                None => (spec == pattern).then_some(""),
            };
            if let Some(rest) = matched {
                for t in targets {
                    out.push(normalize(&format!(
                        "{}/{}",
                        alias.base,
                        t.replace('*', rest)
                    )));
                }
            }
        }
        out.push(normalize(&format!("{}/{spec}", alias.base)));
        out
    }

    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> ModuleIndex {
        let mut index = ModuleIndex::default();
        for path in paths {
            index.add(path);
        }
        index
    }

    pub fn add(&mut self, path: &str) {
        if !self.known.insert(path.to_string()) {
            return;
        }
        if path.ends_with(".py") || path.ends_with(".pyi") {
            let stem = path.trim_end_matches(".pyi").trim_end_matches(".py");
            let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
            let name = stem.rsplit('/').next().unwrap_or(stem);
            self.py_modules
                .entry(name.to_string())
                .or_default()
                .push((stem.replace('/', "."), path.to_string()));
        }
    }

    pub fn contains(&self, path: &str) -> bool {
        self.known.contains(path)
    }

    /// The project file `module` (imported from `from`) refers to.
    pub fn resolve(
        &self,
        lang: Lang,
        from: &str,
        module: &str,
        name: Option<&str>,
    ) -> Option<String> {
        match lang {
            Lang::Python => self.resolve_python(from, module, name),
            Lang::TypeScript | Lang::Tsx => self.resolve_js(from, module),
        }
    }

    fn resolve_python(&self, from: &str, module: &str, name: Option<&str>) -> Option<String> {
        let dir = parent_dir(from);
        let dots = module.chars().take_while(|c| *c == '.').count();
        let absolute = if dots > 0 {
            // `.llm` from `app/api/chat.py` → `app/api/llm`; `..x` goes one more up.
            let mut base = dir.to_string();
            for _ in 1..dots {
                base = parent_dir(&base).to_string();
            }
            let rest = &module[dots..];
            [base.replace('/', "."), rest.to_string()]
                .iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(".")
        } else {
            module.to_string()
        };
        // `from pkg import mod` may name a submodule rather than a symbol.
        let candidates = name
            .map(|n| format!("{absolute}.{n}"))
            .into_iter()
            .chain([absolute.clone()]);
        for candidate in candidates {
            let key = candidate.trim_start_matches('.');
            if key.is_empty() {
                continue;
            }
            if let Some(found) = self.python_module(key) {
                return closest(&found, from);
            }
        }
        None
    }

    /// The files whose dotted module path ends with `key` at a `.`:
    /// `services.llm` is `app/services/llm.py` or `services/llm/__init__.py`.
    fn python_module(&self, key: &str) -> Option<Vec<String>> {
        let name = key.rsplit('.').next().unwrap_or(key);
        let found: Vec<String> = self
            .py_modules
            .get(name)?
            .iter()
            .filter(|(dotted, _)| {
                dotted
                    .strip_suffix(key)
                    .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
            })
            .map(|(_, path)| path.clone())
            .collect();
        (!found.is_empty()).then_some(found)
    }

    fn resolve_js(&self, from_path: &str, spec: &str) -> Option<String> {
        let mut bases = Vec::new();
        if spec.starts_with('.') {
            bases.push(normalize(&format!("{}/{}", parent_dir(from_path), spec)));
        } else if let Some(rest) = spec.strip_prefix("@/").or_else(|| spec.strip_prefix("~/")) {
            // The nearest tsconfig's own mapping first, when it has one.
            bases.extend(self.alias_bases(from_path, spec));
            // The conventional tsconfig alias: the app root or its `src/`.
            let mut dir = parent_dir(from_path).to_string();
            loop {
                for base in [format!("{dir}/{rest}"), format!("{dir}/src/{rest}")] {
                    bases.push(normalize(&base));
                }
                if dir.is_empty() {
                    break;
                }
                dir = parent_dir(&dir).to_string();
            }
        } else if let Some(rest) = spec.strip_prefix("$lib/") {
            // SvelteKit's built-in alias: `src/lib` of the app (its
            // tsconfig mapping is generated, not in the tree).
            let mut dir = parent_dir(from_path).to_string();
            loop {
                bases.push(normalize(&format!("{dir}/src/lib/{rest}")));
                if dir.is_empty() {
                    break;
                }
                dir = parent_dir(&dir).to_string();
            }
        } else if !self.aliases.is_empty() {
            // tsconfig `paths` (`@lib/ai`, `~components/x`) and `baseUrl`.
            bases = self.alias_bases(from_path, spec);
        } else {
            return None;
        }
        // Candidates in one reused buffer: this runs for every import of
        // every source file, up to 15 candidates per base.
        let mut buf = String::new();
        let known = |candidate: &str| {
            let candidate = candidate.trim_start_matches('/');
            self.known
                .contains(candidate)
                .then(|| candidate.to_string())
        };
        for base in bases {
            let stem = base
                .trim_end_matches(".js")
                .trim_end_matches(".jsx")
                .trim_end_matches(".mjs");
            if let Some(found) = known(&base) {
                return Some(found);
            }
            for e in JS_EXTENSIONS {
                buf.clear();
                buf.push_str(stem);
                buf.push('.');
                buf.push_str(e);
                if let Some(found) = known(&buf) {
                    return Some(found);
                }
            }
            for e in JS_EXTENSIONS {
                buf.clear();
                buf.push_str(&base);
                buf.push_str("/index.");
                buf.push_str(e);
                if let Some(found) = known(&buf) {
                    return Some(found);
                }
            }
        }
        None
    }
}

/// JSON with comments (`//`, `/* */`) and trailing commas, as tsconfig
/// files are written, made plain JSON.
pub(crate) fn strip_jsonc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for n in chars.by_ref() {
                    if prev == '*' && n == '/' {
                        break;
                    }
                    prev = n;
                }
            }
            _ => out.push(c),
        }
    }
    drop_trailing_commas(&out)
}

/// `[1, 2,]` → `[1, 2]`, outside strings (comments already gone).
fn drop_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == ',' {
            let next = text[i + 1..].chars().find(|n| !n.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

pub fn parent_dir(path: &str) -> &str {
    path.rfind('/').map(|i| &path[..i]).unwrap_or("")
}

/// Resolve `.` and `..` in a `/` path.
fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

/// Of several files providing a module, the one sharing the longest
/// directory prefix with the importer.
fn closest(found: &[String], importer: &str) -> Option<String> {
    found
        .iter()
        .max_by_key(|p| {
            let shared = p
                .split('/')
                .zip(importer.split('/'))
                .take_while(|(a, b)| a == b)
                .count();
            // Ties go to the first path in sorted order, whatever the
            // order of `found`.
            (shared, std::cmp::Reverse(p.len()), std::cmp::Reverse(*p))
        })
        .cloned()
}

/// How deep the protections an endpoint imports are followed (a route
/// imports `deps.py`, which imports `auth/jwt.py`).
const PROTECTION_DEPTH: usize = 2;

/// How much of a file the slice needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parse {
    Skip,
    /// Every fact.
    Whole,
    /// A browser module that only links a `"use client"` file to an AI
    /// file: its imports and directives are all any check reads of it
    /// (`keys-in-client` follows browser imports), so only its import block
    /// is parsed (`FileFacts::links_only`).
    Imports,
}

/// The files worth parsing, as a flag per summary (same order), and how
/// many import edges resolved to project files.
pub fn slice(summaries: &[Summary], index: &ModuleIndex) -> (Vec<bool>, usize) {
    let (parse, edges) = slice_parses(summaries, index, 1);
    (parse.into_iter().map(|p| p != Parse::Skip).collect(), edges)
}

/// Each file's imports, one entry per imported name (`None` for the module
/// itself), with the file it resolves to. Files of one folder import the
/// same modules: each (folder, module, name) is resolved once per thread
/// (resolution depends on the importer only through its folder). The
/// files are split between `threads` threads; the result is in order.
#[allow(clippy::type_complexity)]
fn resolve_imports<'s>(
    summaries: &'s [Summary],
    index: &ModuleIndex,
    by_path: &HashMap<&str, usize>,
    threads: usize,
) -> Vec<Vec<(Option<&'s str>, Option<usize>)>> {
    let resolve = |part: &'s [Summary]| {
        let mut resolved: HashMap<(bool, &str, &str, Option<&str>), Option<usize>> = HashMap::new();
        part.iter()
            .map(|s| {
                let dir = parent_dir(&s.path);
                let mut out = Vec::new();
                for import in &s.imports {
                    let names: Vec<Option<&str>> = match import.names.is_empty() {
                        true => vec![None],
                        false => import.names.iter().map(|n| Some(n.as_str())).collect(),
                    };
                    for name in names {
                        let key = (s.lang.is_python(), dir, import.module.as_str(), name);
                        let target = *resolved.entry(key).or_insert_with(|| {
                            index
                                .resolve(s.lang, &s.path, &import.module, name)
                                .and_then(|target| by_path.get(target.as_str()).copied())
                        });
                        out.push((name, target));
                    }
                }
                out
            })
            .collect::<Vec<_>>()
    };
    let threads = threads.clamp(1, 8);
    if threads == 1 || summaries.len() < 512 {
        return resolve(summaries);
    }
    let chunk = summaries.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = summaries
            .chunks(chunk)
            .map(|part| scope.spawn(move || resolve(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// [`slice`], saying how much of each file to parse, with the import
/// resolution split between `threads` threads.
pub fn slice_parses(
    summaries: &[Summary],
    index: &ModuleIndex,
    threads: usize,
) -> (Vec<Parse>, usize) {
    let by_path: HashMap<&str, usize> = summaries
        .iter()
        .enumerate()
        .map(|(i, s)| (s.path.as_str(), i))
        .collect();
    let mut imports: Vec<Vec<usize>> = vec![Vec::new(); summaries.len()];
    let mut importers: Vec<Vec<usize>> = vec![Vec::new(); summaries.len()];
    let mut edges = 0;
    let targets = resolve_imports(summaries, index, &by_path, threads);
    // (file, imported name) → the file it resolves to, for the bases of
    // AI files.
    let mut named: HashMap<(usize, &str), usize> = HashMap::new();
    for (i, (s, targets)) in summaries.iter().zip(&targets).enumerate() {
        for &(name, target) in targets {
            let Some(j) = target else {
                continue;
            };
            if let (Some(name), true) = (name, s.roles.has(Roles::AI)) {
                named.insert((i, name), j);
            }
            if j != i && !imports[i].contains(&j) {
                imports[i].push(j);
                importers[j].push(i);
                edges += 1;
            }
        }
    }
    let mut wanted = vec![false; summaries.len()];
    let mut queue: VecDeque<usize> = VecDeque::new();
    for (i, s) in summaries.iter().enumerate() {
        if s.roles.has(Roles::AI) || s.roles.has(Roles::ALWAYS) {
            wanted[i] = true;
        }
        if s.roles.has(Roles::AI) {
            queue.push_back(i);
        }
    }
    // The interfaces AI classes implement: `class LitellmLLM(LLM)` in an AI
    // file, `LLM` imported from `llm/interfaces.py`. Code typed against the
    // interface (`def step(llm: LLM): llm.stream(…)`) reaches the AI call
    // through it without importing the AI file, so the interface is parsed
    // and its importers are walked up as an AI file's are.
    for (i, s) in summaries.iter().enumerate() {
        if !s.roles.has(Roles::AI) {
            continue;
        }
        for base in &s.bases {
            let head = base.split('.').next().unwrap_or(base);
            if let Some(&j) = named.get(&(i, head)) {
                if j != i && !wanted[j] {
                    wanted[j] = true;
                    queue.push_back(j);
                }
            }
        }
    }
    // Up from the AI files: every importer may carry a chain to an AI call
    // (a service, a route, the app that mounts the route). Tests never
    // get here: the walk gives them no imports.
    let mut up = vec![false; summaries.len()];
    // The walk stops at files that join the slice as roots of their own
    // chains rather than as links in another's: always-parsed files, LOOP
    // files, and client modules (what imports a `"use client"` module
    // renders it in the browser; it reaches no AI call through it, and the
    // module's own chain is followed from the module).
    while let Some(f) = queue.pop_front() {
        for &importer in &importers[f] {
            if !wanted[importer] && !up[importer] {
                up[importer] = true;
                let roles = summaries[importer].roles;
                if !roles.has(Roles::LOOP) && !roles.has(Roles::BROWSER) {
                    queue.push_back(importer);
                }
            }
        }
    }
    // Of those, only the files on a path from something that serves or
    // runs in the browser (an endpoint, an app, a client file) down to the
    // AI file: an importer no endpoint, app or client file reaches (a
    // script with no endless loop, a component of a page that calls
    // nothing, a test helper)
    // links no endpoint to a call. On application trees this is most of
    // the importers.
    // (ALWAYS and LOOP files too: an endless loop in a script repeats the
    // AI call its chain ends in, which `loops` reports.)
    let root = |s: &Summary| {
        s.roles.has(Roles::ENDPOINT)
            || s.roles.has(Roles::APP)
            || s.roles.has(Roles::CLIENT)
            || s.roles.has(Roles::ALWAYS)
            || s.roles.has(Roles::LOOP)
    };
    // Twice: from the servers' roots, then from the browser modules that
    // play no other part, whose chains need only their links.
    let browser_root = |s: &Summary| {
        s.roles.has(Roles::BROWSER) && s.roles.without(Roles::CLIENT | Roles::BROWSER).is_empty()
    };
    let on_path_from = |is_root: &dyn Fn(&Summary) -> bool| {
        let mut on_path = vec![false; summaries.len()];
        let mut queue: VecDeque<usize> = (0..summaries.len())
            .filter(|&i| (up[i] || wanted[i]) && root(&summaries[i]) && is_root(&summaries[i]))
            .collect();
        for &i in &queue {
            on_path[i] = true;
        }
        while let Some(f) = queue.pop_front() {
            for &j in &imports[f] {
                if up[j] && !on_path[j] {
                    on_path[j] = true;
                    queue.push_back(j);
                }
            }
        }
        on_path
    };
    let on_server = on_path_from(&|s| !browser_root(s));
    let on_browser = on_path_from(&browser_root);
    let mut links = vec![false; summaries.len()];
    for i in 0..summaries.len() {
        if up[i] && on_server[i] {
            wanted[i] = true;
        } else if up[i] && on_browser[i] {
            match summaries[i]
                .roles
                .without(Roles::CLIENT | Roles::BROWSER)
                .is_empty()
            {
                true => links[i] = true,
                false => wanted[i] = true,
            }
        }
    }
    // The app files' own helpers (middleware and limiters applied app-wide,
    // whatever words they use), but not the routers they mount.
    for (i, s) in summaries.iter().enumerate() {
        if s.roles.has(Roles::APP) {
            wanted[i] = true;
            for &j in &imports[i] {
                if !summaries[j].roles.has(Roles::ENDPOINT) {
                    wanted[j] = true;
                }
            }
        }
    }
    // Down from the endpoints in the slice: the protections they import.
    // Not from the app files: they import every router, and a router that
    // names `current_user` is not a protection of another router.
    let endpoints: Vec<usize> = (0..summaries.len())
        .filter(|&i| {
            wanted[i]
                && summaries[i].roles.has(Roles::ENDPOINT)
                && !summaries[i].roles.has(Roles::APP)
        })
        .collect();
    let mut depth: HashMap<usize, usize> = endpoints.iter().map(|&i| (i, 0)).collect();
    let mut queue: VecDeque<usize> = endpoints.into_iter().collect();
    while let Some(f) = queue.pop_front() {
        let d = depth[&f];
        if d >= PROTECTION_DEPTH {
            continue;
        }
        for &j in &imports[f] {
            if depth.contains_key(&j) || !summaries[j].roles.has(Roles::PROTECTION) {
                continue;
            }
            wanted[j] = true;
            depth.insert(j, d + 1);
            queue.push_back(j);
        }
    }
    let parse = wanted
        .iter()
        .zip(&links)
        .map(|(&w, &l)| match (w, l) {
            (true, _) => Parse::Whole,
            (false, true) => Parse::Imports,
            (false, false) => Parse::Skip,
        })
        .collect();
    (parse, edges)
}

#[cfg(test)]
mod tests {

    #[test]
    fn tsconfig_paths_and_base_url_resolve() {
        let mut index = ModuleIndex::new([
            "web/src/lib/ai/index.ts",
            "web/src/lib/db.ts",
            "web/src/app/api/chat/route.ts",
            "web/src/utils/format.ts",
            "other/src/lib/db.ts",
        ]);
        index.add_tsconfig(
            "web/tsconfig.json",
            r#"{
              // comments and trailing commas, as tsconfig files have them
              "compilerOptions": {
                "baseUrl": "./src", /* relative to the config */
                "paths": { "@lib/*": ["lib/*"], /* helpers */ "~ai": ["lib/ai/index.ts"], /* x */ },
              },
            }"#,
        );
        let from = "web/src/app/api/chat/route.ts";
        let resolve = |spec: &str| index.resolve(Lang::TypeScript, from, spec, None);
        assert_eq!(resolve("@lib/db").as_deref(), Some("web/src/lib/db.ts"));
        assert_eq!(
            resolve("@lib/ai").as_deref(),
            Some("web/src/lib/ai/index.ts")
        );
        assert_eq!(resolve("~ai").as_deref(), Some("web/src/lib/ai/index.ts"));
        // baseUrl alone: `utils/format` under ./src.
        assert_eq!(
            resolve("utils/format").as_deref(),
            Some("web/src/utils/format.ts")
        );
        // A package is not a project file, and another app's config does
        // not apply.
        assert_eq!(resolve("openai"), None);
        assert_eq!(
            index.resolve(Lang::TypeScript, "other/src/x.ts", "@lib/db", None),
            None
        );
    }

    #[test]
    fn a_broken_tsconfig_is_left_out() {
        let mut index = ModuleIndex::new(["src/lib/db.ts"]);
        index.add_tsconfig("tsconfig.json", "{ \"compilerOptions\": { \"paths\": ");
        assert_eq!(
            index.resolve(Lang::TypeScript, "src/a.ts", "lib/db", None),
            None
        );
    }

    use super::*;

    fn modules(lang: Lang, src: &str) -> Vec<(String, Vec<String>)> {
        scan_imports(lang, src.as_bytes())
            .into_iter()
            .map(|i| (i.module, i.names))
            .collect()
    }

    #[test]
    fn python_imports_by_line() {
        let src = "import os, openai as oa\nfrom app.services import llm, db as database\n\
                   def f():\n    from .helpers import (\n        ask,\n        tell,  # two\n    )\n\
                   from x import \\\n    y\ntext = 'from nowhere'\n";
        assert_eq!(
            modules(Lang::Python, src),
            vec![
                ("os".into(), vec![]),
                ("openai".into(), vec![]),
                ("app.services".into(), vec!["llm".into(), "db".into()]),
                (".helpers".into(), vec!["ask".into(), "tell".into()]),
                ("x".into(), vec!["y".into()]),
            ]
        );
        // Only lines holding `import ` are read, each once: a continued
        // line that holds one is part of its import, not another; a line
        // with two is read once; CRLF ends lines as LF does.
        let src = "from a import (\r\n    b,\r\n    d)  # import c\r\nimport e, f  # import g\r\nimport h";
        assert_eq!(
            modules(Lang::Python, src),
            vec![
                ("a".into(), vec!["b".into(), "d".into()]),
                ("e".into(), vec![]),
                ("f".into(), vec![]),
                ("h".into(), vec![]),
            ]
        );
    }

    #[test]
    fn js_imports_of_every_form() {
        let src = "import OpenAI from \"openai\";\nimport {\n  a,\n  b,\n} from './lib/ai';\n\
                   export * from '@/lib/x';\nimport './side';\nconst m = require('../m');\n\
                   const d = await import(\"./dyn\");\n";
        let got: Vec<String> = modules(Lang::Tsx, src).into_iter().map(|m| m.0).collect();
        assert_eq!(
            got,
            ["openai", "./lib/ai", "@/lib/x", "./side", "../m", "./dyn"]
        );
    }

    #[test]
    fn a_module_name_is_at_most_300_characters() {
        // Found by the `imports` fuzz target: the bound counts characters,
        // so a specifier of 300 two-byte characters is 600 bytes; one of 301
        // is not an import at all.
        let src = format!(
            "import x from \"{}\";\nimport y from \"{}\";\n",
            "é".repeat(300),
            "é".repeat(301)
        );
        let got = scan_imports(Lang::Tsx, src.as_bytes());
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].module.chars().count(), 300);
        assert_eq!(got[0].module.len(), 600);
    }

    fn summary(path: &str, roles: Roles, imports: &[&str]) -> Summary {
        let lang = Lang::from_path(std::path::Path::new(path)).unwrap();
        Summary {
            path: path.into(),
            lang,
            roles,
            imports: imports
                .iter()
                .map(|m| LexImport {
                    module: m.to_string(),
                    names: Vec::new(),
                })
                .collect(),
            bases: Vec::new(),
            bytes: 0,
        }
    }

    /// The import resolution is split between threads past 512 files:
    /// the slice and the edge count are the same with one thread or two.
    #[test]
    fn the_slice_is_the_same_with_one_thread_or_two() {
        // A chain per package: routes → service → client (AI), across
        // both halves of the list, and Python relative imports.
        let mut files = Vec::new();
        for p in 0..300 {
            files.push(summary(
                &format!("pkg{p}/routes.py"),
                Roles::ENDPOINT,
                &[".service", "fastapi"],
            ));
            files.push(summary(
                &format!("pkg{p}/other.py"),
                Roles::default(),
                &["os"],
            ));
            files.push(summary(
                &format!("pkg{p}/client.py"),
                match p % 2 {
                    0 => Roles::AI,
                    _ => Roles::default(),
                },
                &["openai"],
            ));
        }
        for p in 0..300 {
            // The service of package p uses the client of package 299 - p:
            // the edge crosses from one half of the files to the other.
            files.push(summary(
                &format!("pkg{p}/service.py"),
                Roles::default(),
                &[&format!("pkg{}.client", 299 - p)],
            ));
        }
        let index = ModuleIndex::new(files.iter().map(|s| s.path.as_str()));
        let one = slice_parses(&files, &index, 1);
        let two = slice_parses(&files, &index, 2);
        assert_eq!(one, two);
        // routes → service and service → client in every package.
        assert_eq!(one.1, 600);
        let parsed = |name: &str| {
            files
                .iter()
                .zip(&one.0)
                .filter(|(s, p)| s.path.ends_with(name) && **p != Parse::Skip)
                .count()
        };
        // The AI clients (every other package's), the services that import
        // them and the routes above those services; no `other.py`.
        assert_eq!(
            (
                parsed("client.py"),
                parsed("service.py"),
                parsed("routes.py")
            ),
            (150, 150, 150)
        );
        assert_eq!(parsed("other.py"), 0);
    }

    #[test]
    fn python_bases_by_their_lines() {
        let src = "import abc\n\nclass LitellmLLM(LLM, mixins.Retry, metaclass=abc.ABCMeta):\n    pass\n\nclass Plain:\n    pass\n\n    class Inner(Generic[T], Base):\n        pass\n";
        assert_eq!(
            scan_bases(Lang::Python, src.as_bytes()),
            ["LLM", "mixins.Retry", "Base"]
        );
        assert!(scan_bases(Lang::TypeScript, b"class A extends B {}").is_empty());
    }

    #[test]
    fn the_interface_an_ai_class_implements_joins_with_its_importers() {
        let named = |path: &str, roles: Roles, imports: &[(&str, &str)], bases: &[&str]| {
            let mut s = summary(path, roles, &[]);
            s.imports = imports
                .iter()
                .map(|(m, n)| LexImport {
                    module: m.to_string(),
                    names: vec![n.to_string()],
                })
                .collect();
            s.bases = bases.iter().map(|b| b.to_string()).collect();
            s
        };
        let files = vec![
            named(
                "app/main.py",
                Roles::ENDPOINT,
                &[("app.step", "run_step"), ("app.providers", "OpenAIChat")],
                &[],
            ),
            named(
                "app/step.py",
                Roles::default(),
                &[("app.interfaces", "LLM")],
                &[],
            ),
            named("app/interfaces.py", Roles::default(), &[], &[]),
            named(
                "app/providers.py",
                Roles::AI,
                &[("app.interfaces", "LLM"), ("app.util", "clean")],
                &["LLM"],
            ),
            named("app/util.py", Roles::default(), &[], &[]),
            named(
                "app/other.py",
                Roles::default(),
                &[("app.util", "clean")],
                &[],
            ),
        ];
        // The interface and the code typed against it; not the helper the
        // AI file also imports, nor its other importers.
        assert_eq!(
            picked(&files),
            [
                "app/main.py",
                "app/step.py",
                "app/interfaces.py",
                "app/providers.py"
            ]
        );
    }

    #[test]
    fn the_slice_follows_chains_and_leaves_the_rest() {
        let files = vec![
            summary("app/main.py", Roles::ENDPOINT, &["app.routes.chat"]),
            summary(
                "app/routes/chat.py",
                Roles::ENDPOINT,
                &["app.services.answer", "app.deps", "app.models"],
            ),
            summary("app/services/answer.py", Roles::default(), &["app.llm"]),
            summary("app/llm.py", Roles::AI, &[]),
            summary("app/deps.py", Roles::PROTECTION, &["app.jwt"]),
            summary("app/jwt.py", Roles::PROTECTION, &[]),
            summary("app/models.py", Roles::default(), &[]),
            summary("app/routes/health.py", Roles::ENDPOINT, &["app.models"]),
            summary(
                "tests/test_answer.py",
                Roles::default(),
                &["app.services.answer"],
            ),
            summary("app/cors.py", Roles::ALWAYS, &[]),
        ];
        let index = ModuleIndex::new(files.iter().map(|s| s.path.as_str()));
        let (wanted, edges) = slice(&files, &index);
        let picked: Vec<&str> = files
            .iter()
            .zip(&wanted)
            .filter(|(_, w)| **w)
            .map(|(s, _)| s.path.as_str())
            .collect();
        assert_eq!(
            picked,
            [
                "app/main.py",
                "app/routes/chat.py",
                "app/services/answer.py",
                "app/llm.py",
                "app/deps.py",
                "app/jwt.py",
                "app/cors.py",
            ]
        );
        assert_eq!(edges, 8);
        // `tests/test_answer.py` imports the AI chain, but no endpoint, app
        // or client file reaches it: it links nothing and is not parsed.
    }

    fn picked(files: &[Summary]) -> Vec<&str> {
        let index = ModuleIndex::new(files.iter().map(|s| s.path.as_str()));
        let (wanted, _) = slice(files, &index);
        files
            .iter()
            .zip(&wanted)
            .filter(|(_, w)| **w)
            .map(|(s, _)| s.path.as_str())
            .collect()
    }

    #[test]
    fn loop_files_join_only_when_their_imports_lead_to_an_ai_file() {
        let files = vec![
            summary("worker/poll.py", Roles::LOOP, &["app.queue"]),
            summary("app/queue.py", Roles::default(), &[]),
            summary("agent/run.py", Roles::LOOP, &["agent.steps"]),
            summary("agent/steps.py", Roles::default(), &["app.llm"]),
            summary("app/llm.py", Roles::AI, &[]),
            // Imports the loop file: reached through it, not parsed for it.
            summary("cli.py", Roles::default(), &["agent.run"]),
        ];
        assert_eq!(
            picked(&files),
            ["agent/run.py", "agent/steps.py", "app/llm.py"]
        );
    }

    #[test]
    fn a_browser_module_stops_the_walk_up_and_a_server_only_one_does_not() {
        let browser = Roles::CLIENT | Roles::BROWSER;
        let files = vec![
            // page → "use client" component → lib → AI: the component is
            // a root of its own; the page renders it and is not parsed.
            summary("app/page.tsx", Roles::ENDPOINT, &["../components/chat"]),
            summary("components/chat.tsx", browser, &["../lib/format"]),
            summary("lib/format.ts", Roles::default(), &["./ai"]),
            summary("lib/ai.ts", Roles::AI, &[]),
            // route → server-only service → AI: followed.
            summary(
                "app/api/ask/route.ts",
                Roles::ENDPOINT,
                &["../../../lib/service"],
            ),
            summary("lib/service.ts", Roles::CLIENT, &["./ai"]),
        ];
        assert_eq!(
            picked(&files),
            [
                "components/chat.tsx",
                "lib/format.ts",
                "lib/ai.ts",
                "app/api/ask/route.ts",
                "lib/service.ts"
            ]
        );
    }

    #[test]
    fn the_import_block_ends_after_the_last_static_import() {
        let src = "\"use client\";\nimport { a } from \"./a\";\nimport {\n  B,\n} from '../b';\nexport * from \"./c\";\n\nexport function C() {\n  return <B x={a} />;\n}\n";
        let end = import_block_end(src.as_bytes()).expect("static only");
        assert!(
            src[..end].ends_with("export * from \"./c\";\n"),
            "{}",
            &src[..end]
        );
        assert_eq!(import_block_end(b"export const x = 1;\n"), Some(0));
        // Dynamic imports can be anywhere: the whole file is parsed.
        assert_eq!(
            import_block_end(b"import a from 'a';\nconst C = dynamic(() => import('./chat'));\n"),
            None
        );
        assert_eq!(import_block_end(b"const m = require ('m');\n"), None);
    }

    #[test]
    fn js_resolution_of_relative_and_alias_paths() {
        let index = ModuleIndex::new([
            "web/src/lib/ai.ts",
            "web/src/app/api/chat/route.ts",
            "web/src/lib/db/index.ts",
        ]);
        let from = "web/src/app/api/chat/route.ts";
        assert_eq!(
            index.resolve(Lang::TypeScript, from, "@/lib/ai", None),
            Some("web/src/lib/ai.ts".into())
        );
        assert_eq!(
            index.resolve(Lang::TypeScript, from, "../../../lib/db", None),
            Some("web/src/lib/db/index.ts".into())
        );
        assert_eq!(index.resolve(Lang::TypeScript, from, "openai", None), None);
    }
}
