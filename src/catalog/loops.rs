//! `rules/loops.toml`: agent libraries and their step bounds, retry
//! libraries and their stops, the browser hooks that reach an app's AI
//! endpoints, and the `loops` fix texts. Matching by import lives here too,
//! so the check reads names, never module lists.

use serde::Deserialize;

use super::{line_of_entry, parse_toml, CatalogError};
use crate::facts::{Call, FileFacts};

pub const LOOPS_TOML: &str = include_str!("../../rules/loops.toml");

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopsSpec {
    pub agent: Vec<AgentSpec>,
    pub retry: Vec<RetrySpec>,
    pub sdk_retries: SdkRetriesSpec,
    #[serde(default)]
    pub interactive: InteractiveSpec,
    pub browser: BrowserSpec,
    pub fix: LoopFixes,
}

/// Calls that wait for the next input from outside (a person at a terminal,
/// a WebSocket client): a loop that makes one each time round goes at that
/// pace (a chat REPL, a socket's message loop).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InteractiveSpec {
    /// Whole callees (`input`, `click.prompt`, `sys.stdin.readline`).
    #[serde(default)]
    pub calls: Vec<String>,
    /// Methods of any object (`rl.question` of Node's readline,
    /// `websocket.receive_json`).
    #[serde(default)]
    pub methods: Vec<String>,
}

impl InteractiveSpec {
    /// Does `callee` wait for outside input?
    pub fn waits(&self, callee: &str) -> bool {
        self.calls.iter().any(|c| c == callee)
            || callee
                .rsplit_once('.')
                .is_some_and(|(_, m)| self.methods.iter().any(|x| x == m))
    }
}

/// An agent library: the calls that start or build an agent, and the
/// options that bound its steps.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    pub name: String,
    pub modules: Vec<String>,
    pub calls: Vec<String>,
    /// A numeric bound above this is as good as none.
    pub max: f64,
    pub bounds: Vec<BoundSpec>,
    pub fix: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundSpec {
    /// Option names (Python keyword, JS camelCase).
    pub keys: Vec<String>,
    /// The library's default when the option is absent; none: unbounded.
    pub default: Option<f64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    pub name: String,
    pub modules: Vec<String>,
    /// Decorators and wrappers (`default`: a module's default export).
    pub calls: Vec<String>,
    pub stop_keys: Vec<String>,
    /// Absent stop options still stop (p-retry: 10 retries by default).
    pub bounded_by_default: bool,
    pub endless_values: Vec<String>,
    #[serde(default)]
    pub forever_keys: Vec<String>,
    pub fix: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdkRetriesSpec {
    pub keys: Vec<String>,
    pub max: f64,
    pub fix: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrowserSpec {
    pub http_calls: Vec<String>,
    pub polling_hooks: Vec<String>,
    pub interval_keys: Vec<String>,
    pub min_interval_ms: f64,
    pub ui_hook: Vec<UiHookSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiHookSpec {
    pub hook: String,
    /// The route it posts to without an `api:` option (empty: none).
    pub default_api: String,
    pub sends: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopFixes {
    pub loop_python: String,
    pub loop_js: String,
    pub recursion: String,
    pub retry_python: String,
    pub retry_js: String,
    pub effect: String,
    pub polling: String,
    pub fan_out: String,
}

/// How an option of a call is set.
#[derive(Clone, Debug, PartialEq)]
pub enum Setting {
    Absent,
    /// None, null, undefined, Infinity, `float("inf")`.
    Off(String),
    Number(f64),
    /// A name or expression aiguard does not evaluate.
    Other(String),
}

impl LoopsSpec {
    pub fn load(file: &str, text: &str) -> Result<LoopsSpec, CatalogError> {
        let spec: LoopsSpec = parse_toml(file, text)?;
        for a in &spec.agent {
            let keyless = a.bounds.iter().any(|b| b.keys.is_empty());
            if keyless || a.bounds.is_empty() || a.calls.is_empty() || a.modules.is_empty() {
                let line = line_of_entry(text, &format!("name = \"{}\"", a.name));
                return Err(CatalogError::new(
                    file,
                    line,
                    format!(
                        "agent `{}` needs modules, calls and bounds with keys",
                        a.name
                    ),
                ));
            }
        }
        for r in &spec.retry {
            if r.calls.is_empty() || r.modules.is_empty() || r.stop_keys.is_empty() {
                let line = line_of_entry(text, &format!("name = \"{}\"", r.name));
                return Err(CatalogError::new(
                    file,
                    line,
                    format!("retry `{}` needs modules, calls and stop_keys", r.name),
                ));
            }
        }
        if spec.sdk_retries.keys.is_empty() {
            let line = line_of_entry(text, "[sdk_retries]");
            return Err(CatalogError::new(file, line, "sdk_retries needs keys"));
        }
        Ok(spec)
    }
}

/// Is `module` one of `modules`, or a submodule of one?
fn in_modules(module: &str, modules: &[String]) -> bool {
    modules.iter().any(|m| {
        module == m
            || module
                .strip_prefix(m.as_str())
                .is_some_and(|r| r.starts_with('.') || r.starts_with('/'))
    })
}

/// Does the file import anything from `modules`? When not, no call of it
/// is an [`is_imported_call`] of them (the cheap test per file).
pub fn imports_from(file: &FileFacts, modules: &[String]) -> bool {
    file.imports.iter().any(|i| in_modules(&i.module, modules))
}

/// Is `call` one of `names`, imported (directly or as a module object) from
/// one of `modules`? `names` may hold `Class.method` and `default`.
pub fn is_imported_call(
    file: &FileFacts,
    call: &Call,
    modules: &[String],
    names: &[String],
) -> bool {
    let callee = call.callee.as_str();
    let head = callee.split('.').next().unwrap_or(callee);
    let head = head.strip_suffix("()").unwrap_or(head);
    let in_modules = |module: &str| in_modules(module, modules);
    let Some(import) = file.import_of(head) else {
        // An object made from the library: `app = StateGraph(S).compile()`,
        // then `app.invoke(…)`; only its method name counts.
        let method = callee.rsplit('.').next().unwrap_or(callee);
        // The cheap test first: most calls are not of a catalogued method.
        return callee.contains('.')
            && names.iter().any(|n| n == method)
            && origin_module(file, head, 3).is_some_and(in_modules);
    };
    if !in_modules(&import.module) {
        return false;
    }
    // As imported: `from tenacity import retry` → `retry`; `import backoff`
    // → `backoff.on_exception` is `on_exception`; `import pRetry from` → `default`.
    let rest = callee[head.len()..].trim_start_matches("()");
    let rest = rest.trim_start_matches('.');
    let imported = import.name.as_deref();
    let candidates: Vec<String> = match imported {
        Some(name) if rest.is_empty() => vec![name.to_string()],
        Some(name) => vec![format!("{name}.{rest}"), rest.to_string()],
        None => vec![rest.to_string()],
    };
    candidates.iter().any(|c| {
        names
            .iter()
            .any(|n| c == n || c.rsplit('.').next() == Some(n.as_str()) && !n.contains('.'))
    })
}

/// The module a local name comes from: imported, or assigned from a call
/// on something imported (`graph = builder.compile()`, `builder = StateGraph(S)`).
fn origin_module<'f>(file: &'f FileFacts, name: &str, hops: usize) -> Option<&'f str> {
    if let Some(import) = file.import_of(name) {
        return Some(&import.module);
    }
    if hops == 0 {
        return None;
    }
    let a = file.assignments.iter().find(|a| a.target == name)?;
    let callee = a.value_callee.as_deref()?;
    let head = callee.split('.').next().unwrap_or(callee);
    let head = head.strip_suffix("()").unwrap_or(head);
    (head != name)
        .then(|| origin_module(file, head, hops - 1))
        .flatten()
}

/// The option `keys` of a call: a Python keyword, a JS object pair, or a
/// key of a dict literal argument (`config={"recursion_limit": 500}`).
pub fn setting(call: &Call, keys: &[String]) -> Setting {
    let mut raw: Option<String> = None;
    for a in &call.args {
        if a.keyword.as_ref().is_some_and(|k| keys.contains(k)) {
            raw = Some(a.text.clone());
        }
        for (k, v) in &a.pairs {
            if keys.contains(k) {
                raw = Some(v.clone());
            }
        }
        if raw.is_none() {
            raw = keys.iter().find_map(|k| dict_value(&a.text, k));
        }
        if raw.is_some() {
            break;
        }
    }
    match raw {
        None => Setting::Absent,
        Some(v) => classify(v.trim()),
    }
}

/// `{"recursion_limit": 500, …}` → `500`.
fn dict_value(text: &str, key: &str) -> Option<String> {
    if !text.contains(key) {
        return None;
    }
    for quoted in [format!("\"{key}\""), format!("'{key}'"), format!("{key}:")] {
        if let Some(i) = text.find(&quoted) {
            let rest = text[i + quoted.len()..].trim_start();
            let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
            let end = rest.find([',', '}', ')', '\n']).unwrap_or(rest.len());
            return Some(rest[..end].trim().to_string());
        }
    }
    None
}

fn classify(v: &str) -> Setting {
    let off = [
        "None",
        "null",
        "undefined",
        "Infinity",
        "float(\"inf\")",
        "float('inf')",
        "math.inf",
        "Number.POSITIVE_INFINITY",
        "Number.MAX_SAFE_INTEGER",
        "sys.maxsize",
    ];
    if off.contains(&v) {
        return Setting::Off(v.to_string());
    }
    match number(v) {
        Some(n) => Setting::Number(n),
        None => Setting::Other(v.to_string()),
    }
}

/// `500`, `60_000`, `5 * 1000`, `1e3`: a number aiguard can evaluate.
pub fn number(v: &str) -> Option<f64> {
    let mut product = 1.0;
    for factor in v.split('*') {
        let f = factor.trim().replace('_', "");
        product *= f.parse::<f64>().ok()?;
    }
    Some(product)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_loops_rules_load() {
        let spec = LoopsSpec::load("rules/loops.toml", LOOPS_TOML).expect("valid");
        let names: Vec<&str> = spec.agent.iter().map(|a| a.name.as_str()).collect();
        assert!(names.contains(&"LangChain AgentExecutor") && names.contains(&"AutoGen"));
        assert_eq!(spec.retry.len(), 4);
    }

    #[test]
    fn errors_name_file_and_line() {
        let bad = LOOPS_TOML.replacen("max = 100\n", "max = 100\nmaximum = 3\n", 1);
        let err = LoopsSpec::load("rules/loops.toml", &bad).unwrap_err();
        let expected = line_at_first(&bad, "maximum = 3");
        assert_eq!(
            (err.file.as_str(), err.line),
            ("rules/loops.toml", expected),
            "{err}"
        );
        assert!(err.message.contains("maximum"), "{err}");
        let empty = LOOPS_TOML.replacen(
            "calls = [\"retry\", \"Retrying\", \"AsyncRetrying\"]",
            "calls = []",
            1,
        );
        let err = LoopsSpec::load("x.toml", &empty).unwrap_err();
        assert!(err.message.contains("tenacity"), "{err}");
        assert_eq!(err.line, line_at_first(&empty, "name = \"tenacity\""));
    }

    fn line_at_first(text: &str, needle: &str) -> usize {
        text[..text.find(needle).unwrap()].matches('\n').count() + 1
    }

    #[test]
    fn settings_and_numbers() {
        let call = |args: Vec<crate::facts::Arg>| Call {
            args,
            ..Call::default()
        };
        let kw = |k: &str, v: &str| crate::facts::Arg {
            keyword: Some(k.into()),
            text: v.into(),
            ..Default::default()
        };
        let keys = vec!["recursion_limit".to_string(), "recursionLimit".to_string()];
        let c = call(vec![kw("config", "{\"recursion_limit\": 500}")]);
        assert_eq!(setting(&c, &keys), Setting::Number(500.0));
        let c = call(vec![kw("max_iterations", "None")]);
        assert_eq!(
            setting(&c, &["max_iterations".into()]),
            Setting::Off("None".into())
        );
        assert_eq!(setting(&c, &keys), Setting::Absent);
        assert_eq!(number("5 * 1000"), Some(5000.0));
        assert_eq!(number("60_000"), Some(60000.0));
        assert_eq!(number("MAX"), None);
    }
}
