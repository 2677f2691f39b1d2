//! Facts for the `loops` check (issue 21): loops with what bounds them,
//! direct recursion, early exits that compare a counter with a limit, and
//! React `useEffect` calls with their dependency array.
//!
//! Both grammars share the node kinds used here (`while_statement`,
//! `for_statement`, `if_statement`, `break_statement`…); the few that differ
//! are matched side by side. Bodies are scanned with a node budget, never
//! recursively, so hostile nesting costs bounded time.

use crate::lang::FieldExt;
use tree_sitter::Node;

use super::{line_of, text_of, Call, FileFacts};

/// How a loop repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoopKind {
    /// `while True:` / `while (true)`.
    WhileTrue,
    /// `for (;;)`, `for _ in itertools.count()`.
    ForEver,
    /// `do { … } while (true)`.
    DoWhileTrue,
    /// Over a finite collection or range: `for x in items`, `items.map(…)`.
    ForEach,
    /// `while cond` / `for (…; cond; …)` with a real condition.
    WhileCondition,
}

impl LoopKind {
    /// As the source writes it, for messages.
    pub fn label(self, python: bool) -> &'static str {
        match self {
            LoopKind::WhileTrue if python => "`while True` loop",
            LoopKind::WhileTrue => "`while (true)` loop",
            LoopKind::ForEver if python => "`for` loop over an endless iterator",
            LoopKind::ForEver => "`for (;;)` loop",
            LoopKind::DoWhileTrue => "`do … while (true)` loop",
            LoopKind::ForEach => "`for` loop over a collection",
            LoopKind::WhileCondition => "`while` loop",
        }
    }

    /// Does this kind repeat until something inside stops it?
    pub fn is_endless(self) -> bool {
        matches!(
            self,
            LoopKind::WhileTrue | LoopKind::ForEver | LoopKind::DoWhileTrue
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Loop {
    pub kind: LoopKind,
    pub line: u32,
    pub end_line: u32,
    pub in_function: Option<usize>,
    /// `items.map(async (x) => …)`: the callback, whose calls run per item.
    pub body_function: Option<usize>,
    /// What bounds it: a counting condition (`steps < 10`), a counting exit
    /// (`if i >= MAX: break`) or the collection (`range(MAX_STEPS)`).
    pub bound: Option<String>,
    /// The condition of an exit that counts nothing (`if done: break`): the
    /// loop stops only when the data (the AI response) says so.
    pub exit_on: Option<String>,
    /// A hand-written retry: a `try` that leaves on success and whose
    /// handler swallows the error, so the loop goes round again.
    pub retries_on_error: bool,
    /// For-each loops: the iterable as written.
    pub iterable: Option<String>,
    /// `while cond` whose condition counts nothing (`not done`): the loop
    /// is unbounded when its own body sets what the condition reads.
    pub condition: Option<String>,
}

impl Loop {
    /// A loop over a collection from `line` to `end_line`, nothing known
    /// yet of what bounds it.
    pub(super) fn new(line: u32, end_line: u32, in_function: Option<usize>) -> Loop {
        Loop {
            kind: LoopKind::ForEach,
            line,
            end_line,
            in_function,
            body_function: None,
            bound: None,
            exit_on: None,
            retries_on_error: false,
            iterable: None,
            condition: None,
        }
    }

    /// Does a call made in function `function` at `line` run in this loop?
    pub fn contains(&self, facts: &FileFacts, function: Option<usize>, line: u32) -> bool {
        if let Some(body) = self.body_function {
            return function.is_some_and(|f| facts.is_within(f, body));
        }
        function == self.in_function && (self.line..=self.end_line).contains(&line)
    }
}

/// A function that calls itself directly.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Recursion {
    pub function: usize,
    /// Line of the self-call.
    pub line: u32,
    /// A counting early exit in the function (`if depth > 5: return`).
    pub bound: Option<String>,
}

/// A React `useEffect(callback, deps)`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Effect {
    pub line: u32,
    pub in_function: Option<usize>,
    /// The callback, when it is a function literal.
    pub callback: Option<usize>,
    /// `None`: no dependency array (runs after every render).
    pub deps: Option<Vec<String>>,
    /// State setters the effect calls (`setMessages`).
    pub setters: Vec<String>,
}

/// Nodes looked at per loop body, and per file over all loop bodies
/// (nested loops rescan their inner loops: 10,000 nested `while True`s must
/// not cost 10,000 scans).
const BUDGET: usize = 20_000;
pub(super) const FILE_BUDGET: usize = 200_000;

/// What a loop's bound says when the file's budget ran out: no finding
/// rather than a guess.
pub(super) const NOT_ANALYSED: &str = "not analysed (the file has too many loops)";

const FUNCTION_KINDS: [&str; 8] = [
    "function_definition",
    "lambda",
    "function_declaration",
    "generator_function_declaration",
    "generator_function",
    "function_expression",
    "arrow_function",
    "method_definition",
];

pub(super) const LOOP_KINDS: [&str; 4] = [
    "while_statement",
    "for_statement",
    "for_in_statement",
    "do_statement",
];

pub(super) const COMPREHENSIONS: [&str; 4] = [
    "list_comprehension",
    "generator_expression",
    "set_comprehension",
    "dictionary_comprehension",
];

/// Node kinds [`loop_of`] understands.
pub(super) fn is_loop_kind(kind: &str) -> bool {
    LOOP_KINDS.contains(&kind) || COMPREHENSIONS.contains(&kind)
}

/// The loop `node` is, if it is one (both grammars).
pub(super) fn loop_of(
    node: Node<'_>,
    src: &[u8],
    function: Option<usize>,
    budget: &mut usize,
) -> Option<Loop> {
    let kind = node.kind();
    let mut facts = Loop::new(line_of(node), node.end_position().row as u32 + 1, function);
    let condition =
        |field: &'static str| node.field(field).map(|c| bare_condition(&text_of(c, src)));
    match kind {
        "while_statement" | "do_statement" => {
            let cond = condition("condition").unwrap_or_default();
            if is_true(&cond) {
                facts.kind = if kind == "do_statement" {
                    LoopKind::DoWhileTrue
                } else {
                    LoopKind::WhileTrue
                };
            } else {
                facts.kind = LoopKind::WhileCondition;
                facts.bound = is_counting(&cond).then(|| format!("`{cond}`"));
                facts.condition = facts.bound.is_none().then_some(cond);
            }
        }
        // Python `for x in y` and JS `for (…; cond; …)`.
        "for_statement" if node.field("right").is_some() => {
            let iterable = condition("right").unwrap_or_default();
            for_each(&mut facts, iterable);
        }
        "for_statement" => {
            let cond = condition("condition").unwrap_or_default();
            if is_true(&cond) {
                facts.kind = LoopKind::ForEver;
            } else {
                facts.kind = LoopKind::WhileCondition;
                facts.bound = is_counting(&cond).then(|| format!("`{cond}`"));
            }
        }
        "for_in_statement" => {
            let iterable = condition("right").unwrap_or_default();
            for_each(&mut facts, iterable);
        }
        k if COMPREHENSIONS.contains(&k) => {
            let mut cursor = node.walk();
            let clause = node
                .named_children(&mut cursor)
                .find(|c| c.kind() == "for_in_clause")?;
            let iterable = clause
                .field("right")
                .map(|r| text_of(r, src))
                .unwrap_or_default();
            for_each(&mut facts, iterable);
            return Some(facts);
        }
        _ => return None,
    }
    if let Some(body) = node.field("body") {
        if !scan_body(body, src, &mut facts, budget) {
            facts.bound.get_or_insert_with(|| NOT_ANALYSED.to_string());
        }
    }
    Some(facts)
}

pub(super) fn for_each(facts: &mut Loop, iterable: String) {
    let endless = [
        "itertools.count(",
        "count(",
        "itertools.cycle(",
        "cycle(",
        "iter(int",
    ]
    .iter()
    .any(|p| iterable.starts_with(p));
    if endless {
        facts.kind = LoopKind::ForEver;
    } else {
        facts.kind = LoopKind::ForEach;
        facts.bound = Some(format!("iterates over `{iterable}`"));
    }
    facts.iterable = Some(iterable);
}

/// `(true)` → `true`; `x < 3;` → `x < 3`.
pub(super) fn bare_condition(text: &str) -> String {
    let mut t = text.trim().trim_end_matches(';').trim();
    while t.starts_with('(') && t.ends_with(')') {
        t = t[1..t.len() - 1].trim();
    }
    t.to_string()
}

pub(super) fn is_true(cond: &str) -> bool {
    matches!(cond, "" | "True" | "true" | "1" | "!0" | "!false")
}

/// Does a condition compare a counter (or a length, or a clock) with a
/// limit? `steps < 10`, `len(history) >= MAX`, `i == MAX_STEPS`.
pub(crate) fn is_counting(cond: &str) -> bool {
    let t = cond.replace("=>", "").replace("->", "");
    if t.contains('<') || t.contains('>') {
        return true;
    }
    // `i == 10`, `attempt === MAX_TRIES`: equality with a number or a constant.
    for op in ["===", "=="] {
        if let Some((_, right)) = t.split_once(op) {
            let right = right.trim_start_matches('=').trim();
            let constant = right.chars().next().is_some_and(|c| c.is_ascii_digit())
                || (right.len() > 1
                    && right
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()));
            return constant;
        }
    }
    false
}

struct Item<'t> {
    node: Node<'t>,
    /// Inside a nested loop: `break` leaves that loop, not ours.
    nested: bool,
}

/// Count one node against a loop's and the file's budgets; false once
/// either is spent.
pub(super) fn spend(seen: &mut usize, budget: &mut usize) -> bool {
    *seen += 1;
    if *seen > BUDGET || *budget == 0 {
        return false;
    }
    *budget -= 1;
    true
}

/// Look through a loop body for exits (`if …: break/return/raise`) and
/// hand-written retries. Nested function bodies are skipped. `false`
/// when a budget ran out before the end.
fn scan_body(body: Node<'_>, src: &[u8], facts: &mut Loop, budget: &mut usize) -> bool {
    let mut stack = vec![Item {
        node: body,
        nested: false,
    }];
    let mut seen = 0;
    while let Some(Item { node, nested }) = stack.pop() {
        if !spend(&mut seen, budget) {
            return false;
        }
        let kind = node.kind();
        if FUNCTION_KINDS.contains(&kind) {
            continue;
        }
        if kind == "if_statement" {
            if let Some(cond) = node.field("condition") {
                // An exit in either branch: `if i < MAX: … else: break` counts too.
                let consequence = node.field("consequence");
                let alternative = node.field("alternative");
                if consequence.is_some_and(|c| has_exit(c, nested, budget))
                    || alternative.is_some_and(|c| has_exit(c, nested, budget))
                {
                    let cond = bare_condition(&text_of(cond, src));
                    if is_counting(&cond) {
                        facts.bound.get_or_insert(format!("`{cond}` → exit"));
                    } else {
                        facts.exit_on.get_or_insert(cond);
                    }
                }
            }
        }
        if kind == "try_statement" && is_swallowing_retry(node, budget) {
            facts.retries_on_error = true;
        }
        let nested_here = nested || LOOP_KINDS.contains(&kind);
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            stack.push(Item {
                node: child,
                nested: nested_here,
            });
        }
    }
    true
}

/// Does `node` contain `return`/`raise`/`throw`, or a `break` that leaves
/// the loop being scanned (`nested`: already inside an inner loop)?
fn has_exit(node: Node<'_>, nested: bool, budget: &mut usize) -> bool {
    let mut stack = vec![(node, nested)];
    let mut seen = 0;
    while let Some((n, nested)) = stack.pop() {
        if !spend(&mut seen, budget) {
            return false;
        }
        match n.kind() {
            "return_statement" | "raise_statement" | "throw_statement" => return true,
            "break_statement" if !nested => return true,
            k if FUNCTION_KINDS.contains(&k) => continue,
            _ => {}
        }
        let inner = nested || LOOP_KINDS.contains(&n.kind());
        let mut cursor = n.walk();
        for child in n.named_children(&mut cursor) {
            stack.push((child, inner));
        }
    }
    false
}

/// `try: …; return/break  except: (no raise/return/break)`: success leaves
/// the loop, an error goes round again.
fn is_swallowing_retry(node: Node<'_>, budget: &mut usize) -> bool {
    let Some(body) = node.field("body") else {
        return false;
    };
    if !has_exit(body, false, budget) {
        return false;
    }
    let mut cursor = node.walk();
    let handlers: Vec<Node<'_>> = node
        .named_children(&mut cursor)
        .filter(|c| matches!(c.kind(), "except_clause" | "catch_clause"))
        .collect();
    !handlers.is_empty() && handlers.iter().any(|h| !has_exit(*h, false, budget))
}

/// After a file's walk: recursion, `.map` loops and effects (JS).
pub(super) fn finish(facts: &mut FileFacts) {
    let mut recursion = Vec::new();
    for call in &facts.calls {
        let Some(f) = call.in_function else { continue };
        let name = &facts.functions[f].name;
        let last = name.rsplit('.').next().unwrap_or(name);
        if last.starts_with('<') {
            continue;
        }
        let callee = call.callee.as_str();
        // A bare call is the function itself only for a plain name: in a
        // method (`Class.run`, `default.fetch`) `fetch()` is another one.
        let direct = (callee == last && !name.contains('.'))
            || ["self.", "this.", "cls."]
                .iter()
                .any(|p| callee.strip_prefix(p) == Some(last));
        if direct {
            let bound = facts
                .limit_guards
                .iter()
                .find(|(g, line, _)| {
                    // A depth check, not a loop's own exit.
                    *g == Some(f)
                        && *line <= call.line
                        && !facts.loops.iter().any(|l| l.contains(facts, *g, *line))
                })
                .map(|(_, _, c)| format!("`{c}` → exit"));
            recursion.push(Recursion {
                function: f,
                line: call.line,
                bound,
            });
        }
    }
    facts.recursion = recursion;
    if facts.lang.is_some_and(|l| !l.is_python()) {
        let mut loops = Vec::new();
        let mut effects = Vec::new();
        // `setX(…)` calls, gathered once (effects × calls was quadratic).
        let setters: Vec<&Call> = facts
            .calls
            .iter()
            .filter(|c| {
                c.callee
                    .strip_prefix("set")
                    .is_some_and(|r| r.starts_with(|ch: char| ch.is_ascii_uppercase()))
            })
            .collect();
        for call in &facts.calls {
            if let Some(l) = map_loop(facts, call) {
                loops.push(l);
            }
            if let Some(e) = effect_of(facts, call, &setters) {
                effects.push(e);
            }
        }
        facts.loops.extend(loops);
        facts.effects = effects;
    }
}

/// `items.map(async (x) => …)` / `.forEach` / `.flatMap`: a loop over `items`.
fn map_loop(facts: &FileFacts, call: &Call) -> Option<Loop> {
    let (iterable, method) = call.callee.rsplit_once('.')?;
    if !matches!(method, "map" | "forEach" | "flatMap") {
        return None;
    }
    let body = call.args.first()?.function?;
    Some(Loop {
        kind: LoopKind::ForEach,
        line: call.line,
        end_line: facts.functions[body].end_line,
        in_function: call.in_function,
        body_function: Some(body),
        bound: Some(format!("iterates over `{iterable}`")),
        exit_on: None,
        retries_on_error: false,
        iterable: Some(iterable.to_string()),
        condition: None,
    })
}

fn effect_of(facts: &FileFacts, call: &Call, setter_calls: &[&Call]) -> Option<Effect> {
    let last = call.callee.rsplit('.').next()?;
    if !crate::lex::EFFECT_HOOKS.contains(&last) {
        return None;
    }
    let callback = call.args.first().and_then(|a| a.function);
    let deps = call
        .args
        .get(1)
        .map(|a| crate::lex::dependency_list(&a.text));
    let mut setters: Vec<String> = Vec::new();
    if let Some(cb) = callback {
        for c in setter_calls {
            let inside = c.in_function.is_some_and(|f| facts.is_within(f, cb));
            if inside && !setters.contains(&c.callee) {
                setters.push(c.callee.clone());
            }
        }
    }
    Some(Effect {
        line: call.line,
        in_function: call.in_function,
        callback,
        deps,
        setters,
    })
}

/// Record an early exit whose condition counts (`if depth > MAX: return`).
pub(super) fn note_limit_guard(
    node: Node<'_>,
    src: &[u8],
    function: Option<usize>,
    facts: &mut FileFacts,
) {
    if let Some(cond) = node.field("condition") {
        let cond = bare_condition(&text_of(cond, src));
        if is_counting(&cond) {
            facts.limit_guards.push((function, line_of(node), cond));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::Lang;

    fn facts(path: &str, code: &str) -> FileFacts {
        let lang = Lang::from_path(std::path::Path::new(path)).unwrap();
        FileFacts::of_source(path, lang, code.as_bytes())
    }

    /// Kind, line, bound, exit condition, hand-written retry.
    type Summary = (LoopKind, u32, Option<String>, Option<String>, bool);

    fn summary(f: &FileFacts) -> Vec<Summary> {
        f.loops
            .iter()
            .map(|l| {
                (
                    l.kind,
                    l.line,
                    l.bound.clone(),
                    l.exit_on.clone(),
                    l.retries_on_error,
                )
            })
            .collect()
    }

    #[test]
    fn python_loops_and_their_bounds() {
        let f = facts(
            "a.py",
            r#"def run(q):
    while True:
        r = ask(q)
        if r.done:
            break
    while steps < 10:
        steps += 1
    for i in range(MAX_STEPS):
        pass
    while True:
        if i >= MAX:
            break
        for x in xs:
            if x:
                break
    while True:
        try:
            return ask(q)
        except Exception:
            continue
    for _ in itertools.count():
        pass
    out = [ask(p) for p in body.prompts]
"#,
        );
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            summary(&f),
            vec![
                (LoopKind::WhileTrue, 2, None, s("r.done"), false),
                (LoopKind::WhileCondition, 6, s("`steps < 10`"), None, false),
                (
                    LoopKind::ForEach,
                    8,
                    s("iterates over `range(MAX_STEPS)`"),
                    None,
                    false
                ),
                (LoopKind::WhileTrue, 10, s("`i >= MAX` → exit"), None, false),
                (
                    LoopKind::ForEach,
                    13,
                    s("iterates over `xs`"),
                    s("x"),
                    false
                ),
                (LoopKind::WhileTrue, 16, None, None, true),
                (LoopKind::ForEver, 21, None, None, false),
                (
                    LoopKind::ForEach,
                    23,
                    s("iterates over `body.prompts`"),
                    None,
                    false
                ),
            ]
        );
    }

    #[test]
    fn js_loops_recursion_and_effects() {
        let f = facts(
            "a.tsx",
            r#"async function agent(msgs, depth) {
  for (;;) { await step(); }
  do { x++; } while (true);
  for (let i = 0; i < 5; i++) {}
  while (true) { if (attempt === MAX_TRIES) throw e; }
  await Promise.all(items.map(async (x) => ask(x)));
  return agent(msgs, depth + 1);
}
function walk(n) { if (n > 3) return; this.walk(n + 1); }
function Page() {
  const [messages, setMessages] = useState([]);
  useEffect(() => { fetch("/api/chat").then(r => setMessages([])); });
  useEffect(() => { load(); }, []);
  useEffect(() => { setMessages([]); }, [messages, id]);
}
"#,
        );
        let kinds: Vec<(LoopKind, u32, Option<String>)> = f
            .loops
            .iter()
            .map(|l| (l.kind, l.line, l.bound.clone()))
            .collect();
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            kinds,
            vec![
                (LoopKind::ForEver, 2, None),
                (LoopKind::DoWhileTrue, 3, None),
                (LoopKind::WhileCondition, 4, s("`i < 5`")),
                (LoopKind::WhileTrue, 5, s("`attempt === MAX_TRIES` → exit")),
                (LoopKind::ForEach, 6, s("iterates over `items`")),
            ]
        );
        let rec: Vec<(u32, Option<String>)> = f
            .recursion
            .iter()
            .map(|r| (r.line, r.bound.clone()))
            .collect();
        assert_eq!(rec, vec![(7, None), (9, s("`n > 3` → exit"))]);
        let effects: Vec<(u32, Option<Vec<String>>, Vec<String>)> = f
            .effects
            .iter()
            .map(|e| (e.line, e.deps.clone(), e.setters.clone()))
            .collect();
        assert_eq!(
            effects,
            vec![
                (12, None, vec!["setMessages".to_string()]),
                (13, Some(vec![]), vec![]),
                (
                    14,
                    Some(vec!["messages".into(), "id".into()]),
                    vec!["setMessages".into()]
                ),
            ]
        );
    }

    /// Nested loops rescan their inner loops: the file budget keeps that
    /// linear, and loops past it get no verdict rather than a false one.
    #[test]
    fn deeply_nested_loops_stay_cheap() {
        let depth = 5000;
        let code = format!(
            "function f() {{\n{}ask();\n{}}}\n",
            "while (true) {\n".repeat(depth),
            "}\n".repeat(depth)
        );
        let started = std::time::Instant::now();
        let f = facts("deep.ts", &code);
        assert_eq!(f.loops.len(), depth);
        // The innermost is small enough to judge, but the budget went to
        // the loops around it.
        assert_eq!(f.loops[depth - 1].bound.as_deref(), Some(NOT_ANALYSED));
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }

    #[test]
    fn counting_conditions() {
        for yes in [
            "steps < 10",
            "len(history) >= MAX",
            "i == MAX_STEPS",
            "attempt === 3",
            "time.time() - start > TIMEOUT",
        ] {
            assert!(is_counting(yes), "{yes}");
        }
        for no in [
            "done",
            "not response.tool_calls",
            "finish == \"stop\"",
            "x => y",
            "ok == True",
        ] {
            assert!(!is_counting(no), "{no}");
        }
    }
}
