//! Per-file facts and the project-wide view over them.
//!
//! The per-file pass (on walker threads) turns a syntax tree into a small
//! [`FileFacts`]: imports, functions (with decorators), calls (with their
//! enclosing function and arguments), assignments and directives. Trees are
//! dropped after that: the project pass ([`ProjectFacts`]) answers
//! cross-file questions — "which project functions reach a call that matches
//! X, through imports, and by which chain" — on these structs alone, so no
//! file is parsed twice.
//!
//! Deliberately approximate: calls are resolved by name through imports and
//! same-file definitions, not by type inference.

mod js;
mod loops;
mod project;
mod python;

pub use loops::{Effect, Loop, LoopKind, Recursion};
pub use project::{annotated_class, Chain, ConfigFile, FnRef, ProjectFacts};
pub use python::SCRIPT_SCOPE;

use crate::lang::FieldExt;
use crate::lang::{Lang, OutOfTime, Parsers};
use std::time::Instant;
use tree_sitter::Node;

/// Longest argument text kept; checks need the start of an argument (a
/// literal, a name), never megabytes of an inlined object.
const MAX_TEXT: usize = 160;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Import {
    /// As written: `openai`, `app.services.llm`, `.llm`, `./lib/ai`, `@/lib/ai`.
    pub module: String,
    /// The imported name; `None` for the module itself (`import openai`,
    /// `import * as ai`, `require("x")`). JS default imports are `default`.
    pub name: Option<String>,
    /// The name bound in this file (empty for side-effect imports).
    pub local: String,
    pub line: u32,
    /// TypeScript `import type` / `import { type X }`: erased at build time,
    /// so no code ships with it.
    pub type_only: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Arg {
    /// Keyword (`model=` in Python); `None` for positional arguments.
    pub keyword: Option<String>,
    /// Source text, cut at `MAX_TEXT` bytes.
    pub text: String,
    /// For an object-literal argument (JS), its `key: value` pairs.
    pub pairs: Vec<(String, String)>,
    pub line: u32,
    /// 1-based column of the argument (its keyword, if any).
    pub column: u32,
    /// A function literal passed here (`app.post("/x", async (c) => …)`):
    /// its index in `FileFacts::functions`.
    pub function: Option<usize>,
    /// Where the argument ends: line, and 1-based byte column (as
    /// [`Call::column`] counts), for calls nested in it.
    pub end_line: u32,
    pub end_column: u32,
}

impl Arg {
    /// Is `call` written inside this argument (`path("x/", v)` inside
    /// `include([…])`)?
    pub fn encloses(&self, call: &Call) -> bool {
        let at = (call.line, call.column);
        at > (self.line, self.column) && at <= (self.end_line, self.end_column)
    }
}

/// An `if` statement whose body leaves early, as written: what the auth
/// and middleware readers judge (`if (url.pathname.startsWith("/api") &&
/// !locals.user) throw error(401)`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Guard {
    /// The enclosing function.
    pub function: Option<usize>,
    pub line: u32,
    pub end_line: u32,
    /// The condition without its outer parentheses, cut at
    /// `GUARD_CONDITION` bytes (path and method tests often come after the
    /// user test: `!user && !path… && …`).
    pub condition: String,
    /// The body, cut like every text.
    pub body: String,
}

/// Longest guard condition kept.
const GUARD_CONDITION: usize = 600;

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Call {
    /// Dotted callee: `client.chat.completions.create`, `OpenAI().chat.create`.
    pub callee: String,
    pub is_new: bool,
    pub args: Vec<Arg>,
    pub line: u32,
    pub column: u32,
    /// Index into `FileFacts::functions` of the innermost enclosing function.
    pub in_function: Option<usize>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Function {
    /// `handler`, or `Class.method` for methods.
    pub name: String,
    pub line: u32,
    pub end_line: u32,
    pub is_async: bool,
    /// JS: exported; Python: defined at module level.
    pub exported: bool,
    pub params: Vec<String>,
    /// Decorators as calls (`@app.post("/x")` has callee `app.post`); bare
    /// decorators (`@login_required`) have no arguments.
    pub decorators: Vec<Call>,
    /// The enclosing function, for nested definitions.
    pub parent: Option<usize>,
    /// JS: the function is the value of a property of an object literal
    /// held by a variable or passed to a call: that holder and the key
    /// (`actions.chat` for `const actions = { chat: async (e) => … }`,
    /// `defineEventHandler.handler` for `defineEventHandler({ handler })`).
    pub property: Option<String>,
}

impl Function {
    /// The name to show: an anonymous function that is a property value
    /// goes by its holder and key (`actions.chat`).
    pub fn shown_name(&self) -> &str {
        match &self.property {
            Some(p) if self.name.starts_with('<') => p,
            _ => &self.name,
        }
    }
}

/// An assignment. TypeScript class fields and constructor parameter
/// properties are recorded as the assignments they stand for
/// (`this.openai = new OpenAI()`, `this.chat = chat`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Assignment {
    pub target: String,
    /// When the value is a call or `new`: its callee.
    pub value_callee: Option<String>,
    pub text: String,
    pub line: u32,
    pub in_function: Option<usize>,
}

/// A class: its bases, decorators and class-level assignments (Python
/// `permission_classes = [IsAuthenticated]`; TypeScript fields), for
/// frameworks that declare routes and protections on classes (Django
/// views, NestJS controllers).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Class {
    pub name: String,
    /// Base classes as written (`APIView`, `mixins.LoginRequiredMixin`);
    /// keyword arguments (`metaclass=…`) are left out. TypeScript: the
    /// `extends` value (`AuthGuard("jwt")`), then the `implements` types.
    pub bases: Vec<String>,
    pub decorators: Vec<Call>,
    /// Assignments in the class body, outside its methods.
    pub attributes: Vec<Assignment>,
    pub line: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileFacts {
    pub path: String,
    pub lang: Option<Lang>,
    /// Leading string directives: `use client`, `use server`.
    pub directives: Vec<String>,
    pub imports: Vec<Import>,
    pub functions: Vec<Function>,
    pub calls: Vec<Call>,
    pub assignments: Vec<Assignment>,
    /// Guards: `if` statements whose body leaves early (return, raise,
    /// throw, abort, redirect).
    pub guards: Vec<Guard>,
    /// The tree had syntax errors; facts are best effort.
    pub has_errors: bool,
    /// Loops (`while True`, `for x in items`, `items.map(…)`), for `loops`.
    pub loops: Vec<Loop>,
    /// Functions that call themselves directly.
    pub recursion: Vec<Recursion>,
    /// Early exits whose condition compares a counter, length or clock with
    /// a limit, as (enclosing function, line, condition).
    pub limit_guards: Vec<(Option<usize>, u32, String)>,
    /// React `useEffect` calls (JS).
    pub effects: Vec<Effect>,
    /// Classes.
    pub classes: Vec<Class>,
    /// Entries of dictionaries assigned at module level, nested ones
    /// included (Python settings modules: `REST_FRAMEWORK = {…}`, `CACHES`);
    /// JS/TS: the object and array literals passed to calls made outside
    /// any function (`@Module({ providers: […] })`, module configuration).
    pub dict_entries: Vec<DictEntry>,
    /// Calls written as property values of an object passed to another
    /// call (JS).
    pub property_calls: Vec<PropertyCall>,
    /// Python `if` statements at module level, with their condition: the
    /// gates of a script (Streamlit `if not st.user.is_logged_in: …
    /// st.stop()`).
    pub top_level_ifs: Vec<TopLevelIf>,
}

/// An `if` statement at module level (Python).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TopLevelIf {
    pub line: u32,
    /// The last line of the whole statement, `elif`/`else` included.
    pub end_line: u32,
    /// The condition as written (cut like every text).
    pub condition: String,
    /// Its body leaves early (a guard: return, raise, `st.stop()`).
    pub leaves: bool,
}

/// A call that is the value of an object-literal property, the object being
/// an argument of another call: `router({ send: proc.mutation(…) })` (RPC
/// routers declare their procedures this way). By start positions, as
/// `Call::line`/`Call::column`: the calls of one method chain share their
/// start, and the outermost comes first in `FileFacts::calls`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PropertyCall {
    pub key: String,
    /// (line, column) of the call the object is passed to.
    pub holder: (u32, u32),
    /// (line, column) of the call that is the value.
    pub value: (u32, u32),
}

/// One `key: value` of a module-level dictionary (Python).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DictEntry {
    /// The variable and the keys above it: `REST_FRAMEWORK`,
    /// `REST_FRAMEWORK.DEFAULT_THROTTLE_RATES`; JS/TS: the callee, then
    /// `.key` per nested object and `[i]` per array element
    /// (`Module.providers[1]`).
    pub path: String,
    /// The key without quotes.
    pub key: String,
    /// The value as written (cut like every text).
    pub value: String,
    pub line: u32,
}

impl FileFacts {
    /// Parse `src` and extract its facts: Python with Ruff's parser,
    /// TypeScript and JavaScript with tree-sitter (one parser per language
    /// in `parsers`). `None` when the parser gave up.
    pub fn parse(parsers: &mut Parsers, path: &str, lang: Lang, src: &[u8]) -> Option<FileFacts> {
        Self::parse_until(parsers, path, lang, src, None)
            .ok()
            .flatten()
    }

    /// [`FileFacts::parse`], given up at `deadline` (issue 20).
    pub fn parse_until(
        parsers: &mut Parsers,
        path: &str,
        lang: Lang,
        src: &[u8],
        deadline: Option<Instant>,
    ) -> Result<Option<FileFacts>, OutOfTime> {
        if lang.is_python() {
            // Ruff's parser is fuzzed, but a panic on one file must not end
            // the audit: that file then lends no facts.
            let extracted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Self::build(path, lang, deadline, |facts, budget| {
                    python::extract(src, facts, budget)
                })
            }));
            return match extracted {
                Ok(facts) => facts.map(Some),
                Err(_) => Ok(None),
            };
        }
        let Some(tree) = parsers.parse_until(lang, src, deadline)? else {
            return Ok(None);
        };
        Self::build(path, lang, deadline, |facts, budget| {
            facts.has_errors = tree.root_node().has_error();
            js::extract(tree.root_node(), src, facts, budget)
        })
        .map(Some)
    }

    /// The facts of `src`, parsed now; empty when the parser gave up (tests
    /// and one-off reads).
    pub fn of_source(path: &str, lang: Lang, src: &[u8]) -> FileFacts {
        Self::parse(&mut Parsers::default(), path, lang, src).unwrap_or_default()
    }

    fn build(
        path: &str,
        lang: Lang,
        deadline: Option<Instant>,
        extract: impl FnOnce(&mut FileFacts, &mut Budget),
    ) -> Result<FileFacts, OutOfTime> {
        let mut facts = FileFacts {
            path: path.to_string(),
            lang: Some(lang),
            ..FileFacts::default()
        };
        let mut budget = Budget {
            deadline,
            steps: 0,
            expired: false,
        };
        extract(&mut facts, &mut budget);
        if budget.expired {
            return Err(OutOfTime);
        }
        loops::finish(&mut facts);
        facts.shrink();
        Ok(facts)
    }

    /// Give back the spare capacity of every list: the facts of a whole
    /// slice stay in memory until the audit ends, and a list grown by
    /// pushes holds up to twice what it needs.
    fn shrink(&mut self) {
        self.directives.shrink_to_fit();
        self.imports.shrink_to_fit();
        self.functions.shrink_to_fit();
        self.calls.shrink_to_fit();
        self.assignments.shrink_to_fit();
        self.guards.shrink_to_fit();
        self.loops.shrink_to_fit();
        self.recursion.shrink_to_fit();
        self.limit_guards.shrink_to_fit();
        self.effects.shrink_to_fit();
        self.property_calls.shrink_to_fit();
        self.top_level_ifs.shrink_to_fit();
    }

    /// Is function `inner` `outer` or defined (at any depth) inside it?
    pub fn is_within(&self, inner: usize, outer: usize) -> bool {
        let mut cur = Some(inner);
        for _ in 0..64 {
            match cur {
                Some(f) if f == outer => return true,
                Some(f) => cur = self.functions.get(f).and_then(|x| x.parent),
                None => return false,
            }
        }
        false
    }

    /// Keep only what links this module to others (`Parse::Imports` of the
    /// slice): its directives and imports, and `names` (the names it
    /// declares, read from its lines) as assignments, so that an import
    /// of one of them is known not to be a type. Every other fact of the
    /// import block goes.
    pub fn links_only(mut self, names: Vec<String>) -> FileFacts {
        FileFacts {
            path: std::mem::take(&mut self.path),
            lang: self.lang,
            directives: std::mem::take(&mut self.directives),
            imports: std::mem::take(&mut self.imports),
            assignments: names
                .into_iter()
                .map(|target| Assignment {
                    target,
                    value_callee: None,
                    text: String::new(),
                    line: 0,
                    in_function: None,
                })
                .collect(),
            ..FileFacts::default()
        }
    }

    pub fn has_directive(&self, d: &str) -> bool {
        self.directives.iter().any(|x| x == d)
    }

    /// The import that binds `local` in this file.
    pub fn import_of(&self, local: &str) -> Option<&Import> {
        self.imports.iter().find(|i| i.local == local)
    }

    pub fn function_named(&self, name: &str) -> Option<usize> {
        self.functions
            .iter()
            .position(|f| f.name == name)
            .or_else(|| {
                // `self.helper()` → `Class.helper`
                self.functions
                    .iter()
                    .position(|f| f.name.rsplit('.').next() == Some(name))
            })
    }
}

/// The time left for one file's extraction: the clock is read every
/// 256 nodes (a node's own work is bounded: texts are cut at `MAX_TEXT`,
/// guards look at 400 nodes).
pub(crate) struct Budget {
    deadline: Option<Instant>,
    steps: u32,
    expired: bool,
}

impl Budget {
    /// Count one node; true once the deadline has passed (then always).
    pub(crate) fn spent(&mut self) -> bool {
        if let Some(deadline) = self.deadline.filter(|_| !self.expired) {
            self.steps = self.steps.wrapping_add(1);
            self.expired = self.steps % 256 == 1 && Instant::now() >= deadline;
        }
        self.expired
    }
}

/// Does the `if` statement `node` leave early in its consequence (return,
/// raise, throw, or a call such as `abort(401)` / `redirect("/login")`)?
/// Looks at a bounded number of nodes.
/// Record a guard (`is_guard`), and a limit guard if its condition counts.
fn note_guard(node: Node<'_>, src: &[u8], function: Option<usize>, facts: &mut FileFacts) {
    let condition = node
        .field("condition")
        .map(|c| {
            let bytes = &src[c.byte_range()];
            let cut = &bytes[..bytes.len().min(GUARD_CONDITION)];
            loops::bare_condition(&String::from_utf8_lossy(cut))
        })
        .unwrap_or_default();
    facts.guards.push(Guard {
        function,
        line: line_of(node),
        end_line: node.end_position().row as u32 + 1,
        condition,
        body: node
            .field("consequence")
            .map(|c| text_of(c, src))
            .unwrap_or_default(),
    });
    loops::note_limit_guard(node, src, function, facts);
}

pub(crate) fn is_guard(node: Node<'_>, src: &[u8]) -> bool {
    let Some(body) = node.field("consequence") else {
        return false;
    };
    let mut cursor = body.walk();
    let mut seen = 0;
    loop {
        let n = cursor.node();
        match n.kind() {
            "return_statement" | "raise_statement" | "throw_statement" => return true,
            "call" | "call_expression" => {
                let callee = n
                    .field("function")
                    .map(|f| text_of(f, src))
                    .unwrap_or_default();
                if leaves_early(&callee) {
                    return true;
                }
            }
            _ => {}
        }
        seen += 1;
        if seen > 400 {
            return false;
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.node().id() == body.id() {
                return false;
            }
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return false;
            }
        }
    }
}

/// Does a call to `callee` (as written) leave the request? `abort(401)`,
/// `redirect("/login")`, `notFound()`; a bare `error(401)` throws
/// (SvelteKit), `console.error` does not; `st.stop()` ends a Streamlit
/// script run. Both languages' guard scans ask this.
pub(crate) fn leaves_early(callee: &str) -> bool {
    let last = callee.rsplit('.').next().unwrap_or(callee);
    matches!(
        last,
        "abort" | "redirect" | "notFound" | "unauthorized" | "forbidden"
    ) || matches!(callee, "error" | "st.stop" | "streamlit.stop")
}

/// Source text of a node, cut at `MAX_TEXT` bytes on a char boundary.
pub(crate) fn text_of(node: Node<'_>, src: &[u8]) -> String {
    text_ref(node, src).into_owned()
}

/// [`text_of`], borrowed from the source when it is valid UTF-8.
pub(crate) fn text_ref<'s>(node: Node<'_>, src: &'s [u8]) -> std::borrow::Cow<'s, str> {
    let bytes = &src[node.byte_range()];
    let cut = &bytes[..bytes.len().min(MAX_TEXT)];
    String::from_utf8_lossy(cut)
}

/// The node kinds a traversal acts on, as one flag per grammar symbol:
/// the other nodes (most of a tree) are passed by their numeric kind, and
/// leaves are never visited (no kind the traversals act on is a leaf).
pub(crate) struct Kinds(Vec<bool>);

impl Kinds {
    pub(crate) fn new(lang: Lang, names: &[&str]) -> Kinds {
        let Some(language) = lang.grammar() else {
            return Kinds(Vec::new());
        };
        Kinds(
            (0..language.node_kind_count())
                .map(|id| {
                    language
                        .node_kind_for_id(id as u16)
                        .is_some_and(|k| names.contains(&k))
                })
                .collect(),
        )
    }

    /// May `node` be one of the kinds? (Unknown symbols, such as errors: yes.)
    pub(crate) fn may_be(&self, node: Node<'_>) -> bool {
        self.0.get(node.kind_id() as usize).copied().unwrap_or(true)
    }

    /// Does a traversal need to visit `node`? Not a leaf of another kind:
    /// it holds no facts.
    pub(crate) fn worth_visiting(&self, node: Node<'_>) -> bool {
        self.may_be(node) || node.named_child_count() > 0
    }
}

pub(crate) fn full_text<'s>(node: Node<'_>, src: &'s [u8]) -> std::borrow::Cow<'s, str> {
    String::from_utf8_lossy(&src[node.byte_range()])
}

pub(crate) fn line_of(node: Node<'_>) -> u32 {
    node.start_position().row as u32 + 1
}

/// 1-based columns in code points (tree-sitter's are 0-based bytes), as
/// `Source::position` counts them: every byte but a UTF-8 continuation byte
/// starts a character. Counting from the line start for every argument was
/// quadratic on a minified one-line bundle (a 1 MB file took a minute); long
/// lines use a table of counts per block, built on first need.
pub(crate) struct Columns<'s> {
    src: &'s [u8],
    blocks: std::cell::OnceCell<Vec<usize>>,
}

/// Block size of the table, and the longest line prefix counted directly.
const COLUMN_BLOCK: usize = 4096;

impl<'s> Columns<'s> {
    pub(crate) fn new(src: &'s [u8]) -> Columns<'s> {
        Columns {
            src,
            blocks: std::cell::OnceCell::new(),
        }
    }

    pub(crate) fn of(&self, node: Node<'_>) -> u32 {
        let start = node.start_byte();
        self.at(start, start.saturating_sub(node.start_position().column))
    }

    /// The column of byte `start`, whose line starts at byte `line_start`.
    pub(crate) fn at(&self, start: usize, line_start: usize) -> u32 {
        let start = start.min(self.src.len());
        let line_start = line_start.min(start);
        let chars = if start - line_start <= COLUMN_BLOCK {
            count_chars(&self.src[line_start..start])
        } else {
            self.chars_before(start) - self.chars_before(line_start)
        };
        chars as u32 + 1
    }

    fn chars_before(&self, offset: usize) -> usize {
        let blocks = self.blocks.get_or_init(|| {
            let mut total = 0;
            let mut table = vec![0];
            for block in self.src.chunks(COLUMN_BLOCK) {
                total += count_chars(block);
                table.push(total);
            }
            table
        });
        let block = offset / COLUMN_BLOCK;
        blocks[block] + count_chars(&self.src[block * COLUMN_BLOCK..offset])
    }
}

fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count()
}

/// The content of a string literal node without quotes or prefixes.
pub(crate) fn string_value(node: Node<'_>, src: &[u8]) -> Option<String> {
    let text = full_text(node, src);
    let t = text.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    for q in ["\"\"\"", "'''", "\"", "'", "`"] {
        if t.len() >= 2 * q.len() && t.starts_with(q) && t.ends_with(q) {
            return Some(t[q.len()..t.len() - q.len()].to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests;
