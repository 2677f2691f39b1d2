//! Lexical looks at source text that decide what the slice parses: no
//! tree, one pass over the bytes of the few files they are asked about.
//!
//! [`declared_names`]: a browser module that only links a client file to
//! an AI file is parsed up to its last import
//! (`graph::import_block_end`), and its top-level names are read from its
//! lines (`src/graph.rs`, `Parse::Imports`).
//!
//! [`effect_may_rerun`]: can a React effect in this file run again because
//! of itself? The `loops` check reports an effect that calls an AI
//! endpoint and re-runs itself — no dependency array, or a dependency it
//! sets (`src/checks/loops/browser.rs`). Most components have effects with
//! a fixed dependency list and a request, and parsing them all cost a
//! third of the parse time of an application tree; this answer is `true`
//! whenever the parsed facts could show such an effect (and whenever the
//! text is too odd to tell), so the slice leaves out only files the check
//! would pass.

use std::sync::LazyLock;

/// The names a JS/TS module declares at the start of a line: functions,
/// classes, variables and enums, exported or not (`export default
/// function Chat`, `const Button = …`). Types and interfaces are not names
/// of code.
pub fn declared_names(text: &[u8]) -> Vec<String> {
    static DECLARED: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(
            r"(?m)^[ \t]*(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:async[ \t]+)?(?:abstract[ \t]+)?(?:function\*?|class|const|let|var|enum)[ \t]+([A-Za-z_$][\w$]*)",
        )
        .expect("the regex compiles")
    });
    let mut names: Vec<String> = DECLARED
        .captures_iter(text)
        .filter_map(|c| c.get(1))
        .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The React effect hooks: the facts read their calls as effects, and
/// [`effect_may_rerun`] looks at them in the text.
pub const EFFECT_HOOKS: [&str; 2] = ["useEffect", "useLayoutEffect"];

/// Does some `useEffect(…)` / `useLayoutEffect(…)` call of `text` have no
/// dependency array, or a dependency whose setter (`setX(…)`) its callback
/// calls? `true` too when a call's arguments cannot be read.
pub fn effect_may_rerun(text: &[u8]) -> bool {
    let mut pairs: Option<Vec<(&[u8], &[u8])>> = None;
    for hook in EFFECT_HOOKS.map(str::as_bytes) {
        for at in memchr::memmem::find_iter(text, hook) {
            let before = at.checked_sub(1).map(|i| text[i]);
            if before.is_some_and(is_ident) {
                continue;
            }
            let mut i = at + hook.len();
            if text.get(i).is_some_and(|&b| is_ident(b)) {
                continue;
            }
            while text.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            if text.get(i) != Some(&b'(') {
                // An import or a reference, not a call.
                continue;
            }
            let Some(args) = call_args(text, i) else {
                return true;
            };
            let pairs = pairs.get_or_insert_with(|| state_pairs(text));
            if reruns(&args, pairs) {
                return true;
            }
        }
    }
    false
}

/// As the facts read an effect (`effect_of` in `src/facts/loops.rs`): no
/// second argument, or a dependency that a setter called in the first
/// argument sets (by `const [x, setX] = useState()` or by name).
fn reruns(args: &[&[u8]], pairs: &[(&[u8], &[u8])]) -> bool {
    let Some(deps) = args.get(1) else {
        return true;
    };
    let deps = dependency_list(&String::from_utf8_lossy(deps));
    let bases: Vec<&str> = deps.iter().map(|d| dependency_base(d)).collect();
    if bases.is_empty() {
        return false;
    }
    setters(args[0]).any(|setter| {
        let by_name = std::str::from_utf8(setter).ok().and_then(state_by_name);
        bases.iter().any(|b| {
            by_name.as_deref() == Some(*b)
                || pairs
                    .iter()
                    .any(|(state, s)| *s == setter && state == &b.as_bytes())
        })
    })
}

/// Does a line at module level (not indented) assign a value that starts
/// with one of `values`? `hits = defaultdict(list)`,
/// `_seen: dict[str, float] = {}`, `const hits = new Map()`: state every
/// request of the process shares, as a hand-written limiter keeps it.
pub fn module_level_value(text: &[u8], values: &[String]) -> bool {
    text.split(|&b| b == b'\n').any(|line| {
        if line.first().is_none_or(|b| b.is_ascii_whitespace()) {
            return false;
        }
        let Some(eq) = assignment(line) else {
            return false;
        };
        let value = line[eq + 1..].trim_ascii_start();
        values.iter().any(|v| value.starts_with(v.as_bytes()))
    })
}

/// Where the first `=` of a line assigns (not `==`, `=>`, `<=`, `>=`, `!=`).
fn assignment(line: &[u8]) -> Option<usize> {
    let i = memchr::memchr(b'=', line)?;
    let next = line.get(i + 1).copied();
    let prev = i.checked_sub(1).map(|p| line[p]);
    match (prev, next) {
        (_, Some(b'=' | b'>')) | (Some(b'<' | b'>' | b'!' | b'='), _) => None,
        _ => Some(i),
    }
}

/// An effect's dependency list as written (`[messages, user.id]`, or a
/// variable): its entries. The facts read effects with it too, so this
/// look and theirs agree.
pub fn dependency_list(text: &str) -> Vec<String> {
    let t = text.trim();
    let inner = t.strip_prefix('[').and_then(|t| t.strip_suffix(']'));
    inner
        .unwrap_or(t)
        .split(',')
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

/// `messages.length` → `messages`: the state a dependency reads.
pub fn dependency_base(dep: &str) -> &str {
    dep.split(['.', '[', '?']).next().unwrap_or(dep)
}

/// `setMessages` → `messages`: the state a setter sets, by its name.
pub fn state_by_name(setter: &str) -> Option<String> {
    let rest = setter.strip_prefix("set")?;
    let mut chars = rest.chars();
    let first = chars.next()?.to_ascii_lowercase();
    Some(std::iter::once(first).chain(chars).collect())
}

/// `setMessages(` calls in `text`: the setter names.
fn setters(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    memchr::memmem::find_iter(text, b"set").filter_map(move |at| {
        if at > 0 && is_ident(text[at - 1]) {
            return None;
        }
        if !text.get(at + 3).is_some_and(u8::is_ascii_uppercase) {
            return None;
        }
        let end = at + 3 + text[at + 3..].iter().take_while(|&&b| is_ident(b)).count();
        let mut i = end;
        while text.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        (text.get(i) == Some(&b'(')).then(|| &text[at..end])
    })
}

/// Every `[state, setState]` pair of the text (state first).
fn state_pairs(text: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    for open in memchr::memchr_iter(b'[', text) {
        let mut i = open + 1;
        let state = word(text, &mut i);
        if state.is_empty() || text.get(i) != Some(&b',') {
            continue;
        }
        i += 1;
        let setter = word(text, &mut i);
        if setter.is_empty() || text.get(i) != Some(&b']') {
            continue;
        }
        out.push((state, setter));
    }
    out
}

/// The identifier at `*i` (spaces around it skipped; `*i` moves past them).
fn word<'a>(text: &'a [u8], i: &mut usize) -> &'a [u8] {
    while text.get(*i).is_some_and(u8::is_ascii_whitespace) {
        *i += 1;
    }
    let start = *i;
    while text.get(*i).is_some_and(|&b| is_ident(b)) {
        *i += 1;
    }
    let end = *i;
    while text.get(*i).is_some_and(u8::is_ascii_whitespace) {
        *i += 1;
    }
    &text[start..end]
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The top-level arguments of the call whose `(` is at `open` (a trailing
/// comma gives no argument), skipping strings, template literals, comments
/// and regular expressions. `None` when the text ends first.
fn call_args(text: &[u8], open: usize) -> Option<Vec<&[u8]>> {
    let mut args = Vec::new();
    let mut depth = 0usize;
    let mut start = open + 1;
    // Template literals nest: the brace depth each `${` opened at.
    let mut templates: Vec<usize> = Vec::new();
    let mut i = open;
    while i < text.len() {
        let b = text[i];
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                if b == b'}' && templates.last() == Some(&depth) {
                    templates.pop();
                    i = skip_template(text, i + 1, &mut templates, depth)?;
                    continue;
                }
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    args.push(&text[start..i]);
                    args.retain(|a: &&[u8]| !a.trim_ascii().is_empty());
                    return Some(args);
                }
            }
            b',' if depth == 1 => {
                args.push(&text[start..i]);
                start = i + 1;
            }
            b'"' | b'\'' => {
                i = skip_string(text, i + 1, b)?;
                continue;
            }
            b'`' => {
                i = skip_template(text, i + 1, &mut templates, depth)?;
                continue;
            }
            b'/' => match text.get(i + 1) {
                Some(b'/') => {
                    i += memchr::memchr(b'\n', &text[i..])?;
                    continue;
                }
                Some(b'*') => {
                    i += 2 + memchr::memmem::find(&text[i + 2..], b"*/")? + 2;
                    continue;
                }
                _ if starts_regex(text, i) => {
                    i = skip_regex(text, i + 1)?;
                    continue;
                }
                _ => {}
            },
            _ => {}
        }
        i += 1;
    }
    None
}

/// Past the closing `quote` of a string whose body starts at `i`.
fn skip_string(text: &[u8], mut i: usize, quote: u8) -> Option<usize> {
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'\n' => return None,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Past the closing backtick of a template body starting at `i`, or just
/// past a `${` (its depth is pushed: the matching `}` resumes the body).
fn skip_template(
    text: &[u8],
    mut i: usize,
    templates: &mut Vec<usize>,
    depth: usize,
) -> Option<usize> {
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'`' => return Some(i + 1),
            b'$' if text.get(i + 1) == Some(&b'{') => {
                templates.push(depth);
                return Some(i + 2);
            }
            _ => i += 1,
        }
    }
    None
}

/// Is the `/` at `i` the start of a regular expression (after an operator
/// or an opening bracket), not a division?
fn starts_regex(text: &[u8], i: usize) -> bool {
    let prev = text[..i]
        .iter()
        .rev()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    match prev {
        None => true,
        Some(p) => b"(,=:[!&|?{};+-*%<>~^".contains(&p),
    }
}

/// Past the closing `/` (and flags) of a regular expression whose body
/// starts at `i`.
fn skip_regex(text: &[u8], mut i: usize) -> Option<usize> {
    let mut class = false;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'\n' => return None,
            b'[' => {
                class = true;
                i += 1;
            }
            b']' => {
                class = false;
                i += 1;
            }
            b'/' if !class => {
                i += 1;
                while text.get(i).is_some_and(u8::is_ascii_alphabetic) {
                    i += 1;
                }
                return Some(i);
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{declared_names, effect_may_rerun, module_level_value};

    #[test]
    fn module_level_values_are_unindented_assignments() {
        let maps: Vec<String> = ["new Map(", "{}", "defaultdict("]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let yes = |t: &str| module_level_value(t.as_bytes(), &maps);
        assert!(yes("const hits = new Map();\nfunction rateLimit(ip) {}\n"));
        assert!(yes("import time\n_hits: dict[str, list] = {}\n"));
        assert!(yes("hits = defaultdict(list)\n"));
        // In a function, compared, or another value: not shared state.
        assert!(!yes("def limit(ip):\n    hits = {}\n"));
        assert!(!yes("function f() {\n  const hits = new Map();\n}\n"));
        assert!(!yes("if x == {}:\n    pass\n"));
        assert!(!yes("const limit = 10;\nconst f = () => {};\n"));
    }

    #[test]
    fn declared_names_are_code_not_types() {
        let src = "export default function Chat() {}\nconst Button = () => null;\nexport class Store {}\n\
                   export async function load() {}\ntype Props = {};\ninterface Model {}\n  let inner = 1;\n";
        assert_eq!(
            declared_names(src.as_bytes()),
            ["Button", "Chat", "Store", "inner", "load"]
        );
    }

    fn reruns(src: &str) -> bool {
        effect_may_rerun(src.as_bytes())
    }

    #[test]
    fn fixed_dependencies_do_not_rerun() {
        assert!(!reruns(
            "useEffect(() => { fetch(`/api/r/${id}`).then((r) => r.text()).then(setData); }, [title]);"
        ));
        assert!(!reruns("useEffect(() => { load(); }, []);"));
        assert!(!reruns(
            "React.useEffect(() => {\n  // a comment with ) and ]\n  const re = /[)]/g;\n  setData(x);\n}, [id, user.name],);"
        ));
        // Imports and references are no calls.
        assert!(!reruns(
            "import { useEffect } from 'react';\nconst x = useEffect;"
        ));
    }

    #[test]
    fn no_array_or_a_set_dependency_reruns() {
        assert!(reruns("useEffect(() => { fetch('/api/chat'); });"));
        assert!(reruns("useLayoutEffect (() => { fetch('/api/chat') })"));
        assert!(reruns(
            "useEffect(() => { fetch('/api/chat').then(() => setMessages([...messages, m])); }, [messages]);"
        ));
        assert!(reruns(
            "useEffect(() => { setCount(count + 1); }, [count.value]);"
        ));
        // By the state pair, whatever the names.
        assert!(reruns(
            "const [items, store] = useState([]);\nconst [a, setList] = useState();\n\
             useEffect(() => { setList(1); }, [a]);"
        ));
        // `setList` sets `a` (its pair), and also `list` by name: both count.
        assert!(reruns(
            "const [a, setList] = useState();\nuseEffect(() => { setList(1); }, [list]);"
        ));
    }

    #[test]
    fn unreadable_calls_count_as_rerunning() {
        assert!(reruns("useEffect(() => { fetch('/api/chat'"));
        assert!(reruns("useEffect(() => { const s = \"open\n }, []);"));
    }
}
