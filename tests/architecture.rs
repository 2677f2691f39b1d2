//! The shape of `src/`: imports between its top-level modules flow one way
//! (no cycle), and framework knowledge lives in the frameworks modules.
//!
//! The scan is lexical, as a reviewer would read `use crate::…` lines: every
//! `crate::name` (also inside `use crate::{a::X, b}` groups) in a file of
//! module `m` is an edge `m → name`. Test modules count too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for the crate
/// roots `lib.rs` and `main.rs`, which may name anything).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The modules a text names through `crate::`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a::X, b, c::{d, e}}`: the first name of each item.
            let mut depth = 1;
            let mut item_start = true;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') => name.push(c),
                    _ => {
                        if item_start && !name.is_empty() {
                            out.insert(std::mem::take(&mut name));
                            item_start = false;
                        }
                    }
                }
            }
            if !name.is_empty() {
                out.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let deps = graph.entry(module.clone()).or_default();
        for named in named_modules(&text) {
            if named != module {
                deps.insert(named);
            }
        }
    }
    graph
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on_stack.insert(v);
            let graph = self.graph;
            for w in graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !graph.contains_key(w) {
                    continue; // an external name such as `crate::VERSION`
                }
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                loop {
                    let w = self.stack.pop().unwrap();
                    self.on_stack.remove(w);
                    component.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn the_scanner_reads_grouped_imports() {
    let named = named_modules("use crate::{checks::{self, CheckId}, findings::Finding, walk};\nlet x = crate::config::load();");
    let expected: BTreeSet<String> = ["checks", "findings", "walk", "config"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(named, expected);
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.insert("a".into(), ["b".to_string()].into());
    graph.insert("b".into(), ["c".to_string()].into());
    graph.insert("c".into(), ["a".to_string()].into());
    graph.insert("d".into(), ["a".to_string()].into());
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);
}

#[test]
fn imports_between_top_level_modules_have_no_cycle() {
    let graph = module_graph();
    assert!(graph.contains_key("checks") && graph["checks"].contains("findings"));
    let found = cycles(&graph);
    let graph = &graph;
    let explain: Vec<String> = found
        .iter()
        .flat_map(|component| {
            component.iter().map(move |m| {
                let inside: Vec<&String> =
                    graph[m].iter().filter(|d| component.contains(d)).collect();
                format!("{m} -> {inside:?}")
            })
        })
        .collect();
    assert!(
        found.is_empty(),
        "import cycles in src/:\n{}",
        explain.join("\n")
    );
}

/// Framework and library names: they belong in `src/inventory/frameworks/`
/// and `rules/`, never in the generic inventory code.
const LIBRARY_NAMES: &[&str] = &[
    "fastapi",
    "flask",
    "django",
    "starlette",
    "express",
    "hono",
    "fastify",
    "next",
    "nextjs",
    "nestjs",
    "trpc",
    "sveltekit",
    "nuxt",
    "remix",
    "astro",
    "slowapi",
    "flask_limiter",
    "upstash",
    "clerk",
    "axios",
    "ofetch",
    "urlopen",
    "requests",
    "httpx",
    "aiohttp",
    "langchain",
    "openai",
    "anthropic",
    "apirouter",
    "blueprint",
    "depends",
];

/// The string literals of Rust code outside comments and test modules.
fn string_literals(text: &str) -> Vec<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    let mut out = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let mut chars = line.chars().peekable();
        let mut in_string = false;
        let mut current = String::new();
        while let Some(c) = chars.next() {
            match (in_string, c) {
                (false, '/') if chars.peek() == Some(&'/') => break,
                (false, '\'') => {
                    // A char literal ('"', '\''): skip it whole.
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                    }
                    chars.next();
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                    }
                }
                (false, '"') => in_string = true,
                (true, '\\') => {
                    chars.next();
                }
                (true, '"') => {
                    in_string = false;
                    out.push(std::mem::take(&mut current));
                }
                (true, c) => current.push(c),
                _ => {}
            }
        }
    }
    out
}

#[test]
fn the_literal_scanner_reads_strings_not_comments() {
    let text = "let a = \"fastapi\"; // \"flask\"\nlet q = '\"'; let b = \"x \\\" y\";\n#[cfg(test)]\nlet c = \"hono\";";
    assert_eq!(string_literals(text), vec!["fastapi", "x  y"]);
}

#[test]
fn the_generic_inventory_names_no_framework_or_library() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/inventory");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    let frameworks = dir.join("frameworks");
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&frameworks)) {
        let text = std::fs::read_to_string(file).unwrap();
        for literal in string_literals(&text) {
            let lower = literal.to_ascii_lowercase();
            for word in lower.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if LIBRARY_NAMES.contains(&word) {
                    found.push(format!("{}: {literal:?}", file.display()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "library names in the generic inventory (move them to frameworks/ or rules/):\n{}",
        found.join("\n")
    );
    assert!(files.iter().any(|f| f.starts_with(&frameworks)));
}
