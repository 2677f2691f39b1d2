//! Rate limits on endpoints, the generic part: every limiter the project
//! creates (for the store check), hand-written in-memory counters, limiters
//! named in the config (`extra-limiters`), and limit-call libraries
//! (`rules/protections.toml` `js_limit_calls`: `.limit(key)` on the request
//! path, misuse when the limiter is created per request). What each
//! framework declares around its routes (decorators, middleware, defaults)
//! is read by its family in `frameworks/`.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use super::counters::Counters;
use super::frameworks::{of_family, Framework, FAMILIES};
use super::{Endpoint, Inventory};
use crate::catalog::Catalog;
use crate::config::Extras;
use crate::facts::{Call, Chain, FileFacts, FnRef, ProjectFacts};

/// One limit that applies to an endpoint.
#[derive(Clone, Debug)]
pub struct Limit {
    /// What applies it: `@limiter.limit`, `default_limits`, `middleware.ts`, ….
    pub how: String,
    pub file: usize,
    pub line: u32,
    /// As written: `"5/minute"`, `windowMs: 60 * 1000`.
    pub spec: String,
    /// The windows it counts over, in seconds (empty when unknown).
    pub windows: Vec<u64>,
}

/// A limiter created somewhere in the project.
#[derive(Clone, Debug)]
pub struct Limiter {
    pub kind: String,
    pub file: usize,
    pub line: u32,
    pub column: u32,
    pub shared_store: bool,
    pub variable: String,
}

/// A limiter set up so that it does not limit.
#[derive(Clone, Debug)]
pub struct Misuse {
    pub rule: &'static str,
    /// The framework of the app it is wired into: its fix is that
    /// framework's fix.
    pub framework: Framework,
    pub file: usize,
    pub line: u32,
    pub message: String,
}

/// The limiters one file creates, by kind.
pub struct FileLimiters<'f> {
    /// Python `Limiter` variables (`python_limiters`), their calls, and the
    /// root module they come from.
    pub python: Vec<(&'f str, &'f Call, String)>,
    /// JS middleware limiter variables (`js_middleware`).
    pub js: Vec<&'f str>,
}

/// What a framework family reads to find the limits of its routes.
pub struct LimitScope<'a> {
    pub facts: &'a ProjectFacts,
    pub catalog: &'a Catalog,
    /// The limiters of each file, by file index.
    pub per_file: Vec<FileLimiters<'a>>,
    /// The project's own limiters (functions that count and answer 429).
    pub counters: Counters,
}

impl LimitScope<'_> {
    /// Same app: one file's folder contains the other's, or they share a
    /// top folder.
    pub fn same_app(&self, a: usize, b: usize) -> bool {
        let dir = |i: usize| {
            self.facts
                .file(i)
                .path
                .rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default()
        };
        let (da, db) = (dir(a), dir(b));
        let top = |d: &str| d.split('/').next().unwrap_or("").to_string();
        da.is_empty()
            || db.is_empty()
            || db.starts_with(&da)
            || da.starts_with(&db)
            || top(&da) == top(&db)
    }
}

pub(super) fn apply(inv: &mut Inventory, facts: &ProjectFacts, catalog: &Catalog, extras: &Extras) {
    let spec = &catalog.rate_limit;
    let mut per_file: Vec<FileLimiters<'_>> = Vec::new();
    for (fi, file) in facts.files().iter().enumerate() {
        let found = collect_limiters(fi, file, catalog, inv);
        per_file.push(found);
    }
    let limit_calls = limit_call_functions(facts, spec);
    for e in &mut inv.endpoints {
        configured_limits(e, facts.file(e.file), &extras.limiters);
    }
    let scope = LimitScope {
        facts,
        catalog,
        per_file,
        counters: super::counters::collect(facts, catalog),
    };
    // The handler is the project's limiter, or calls it before the AI call.
    for e in &mut inv.endpoints {
        let Some(chain) = e.handler.and_then(|h| scope.counters.reaching.get(&h)) else {
            continue;
        };
        if let Some(l) = scope.counters.of_chain(chain) {
            e.limits.push(l.limit(facts));
        }
    }
    for family in FAMILIES {
        family.limiters(facts, &mut inv.limiters);
    }
    for family in FAMILIES {
        let mut mine = of_family(*family, &mut inv.endpoints);
        family.limits(&scope, &mut mine, &mut inv.misuse);
    }
    for family in FAMILIES {
        family.platform_limits(facts, &mut inv.endpoints);
    }
    for e in &mut inv.endpoints {
        let Some(chain) = e.handler.and_then(|h| limit_calls.get(&h)) else {
            continue;
        };
        let (cf, cc) = chain.call;
        let call = facts.call((cf, cc));
        let in_handler = chain.functions.len() == 1;
        // A limiter with an external store (Redis, KV) made in the
        // handler still counts across requests: a limit, not misuse.
        let created_here = in_handler
            && created_in_function(facts.file(cf), call, e.handler.map(|h| h.function))
            && !created_with_shared_store(facts.file(cf), call, &spec.shared_store_words);
        if created_here {
            inv.misuse.push(Misuse {
                rule: "limiter-per-request",
                framework: e.framework,
                file: cf,
                line: call.line,
                message: "the limiter is created inside the request handler, so it starts from zero on every request".into(),
            });
        } else {
            let head = call.callee.split('.').next().unwrap_or("");
            let maker = facts
                .file(cf)
                .import_of(head)
                .and_then(|i| facts.resolve_import(cf, i))
                .unwrap_or(cf);
            let spec_text = window_spec(facts.file(maker), spec);
            let windows = parse_windows(&spec_text);
            e.limits.push(Limit {
                how: format!("{}()", call.callee),
                file: cf,
                line: call.line,
                spec: spec_text,
                windows,
            });
        }
    }
}

/// Project limiters named in the config (`extra-limiters`): a decorator on
/// the handler, a route middleware, or a call inside the handler.
fn configured_limits(e: &mut Endpoint, file: &FileFacts, names: &[String]) {
    if names.is_empty() {
        return;
    }
    let is_named = |text: &str| {
        let text = text.split('(').next().unwrap_or(text);
        let last = text.rsplit('.').next().unwrap_or(text);
        names.iter().any(|n| n == text || n == last)
    };
    let mut found: Vec<(String, u32)> = e
        .middleware
        .iter()
        .filter(|m| is_named(m))
        .map(|m| (m.clone(), e.line))
        .collect();
    if let Some(h) = e.handler {
        let function = &file.functions[h.function];
        found.extend(
            function
                .decorators
                .iter()
                .filter(|d| is_named(&d.callee))
                .map(|d| (format!("@{}", d.callee), d.line)),
        );
        found.extend(
            file.calls
                .iter()
                .filter(|c| c.in_function == Some(h.function) && is_named(&c.callee))
                .map(|c| (format!("{}()", c.callee), c.line)),
        );
    }
    for (how, line) in found {
        e.limits.push(Limit {
            how: format!("configured limiter {how}"),
            file: e.file,
            line,
            spec: how,
            windows: Vec::new(),
        });
    }
}

fn import_module<'f>(file: &'f FileFacts, callee: &str) -> Option<&'f str> {
    let head = callee.split('.').next()?;
    file.import_of(head.trim_end_matches("()"))
        .map(|i| i.module.as_str())
}

/// Hand-written limiters in process memory (`[rate_limit.hand_written]`):
/// a module-level `Map`/`dict` read or written with a client key in a
/// function that rejects (429, "too many"; or a caller that does), or
/// reads the clock under a limiting name, or is named for limiting. They
/// limit per process only. Caches, metrics, presence and token maps are
/// not limiters.
fn collect_memory_counters(fi: usize, file: &FileFacts, catalog: &Catalog, inv: &mut Inventory) {
    let spec = &catalog.rate_limit.hand_written;
    for a in file.assignments.iter().filter(|a| a.in_function.is_none()) {
        let value = a.text.trim();
        let is_map = spec.map_values.iter().any(|m| {
            if m == "{}" {
                value == "{}"
            } else {
                value.starts_with(m.as_str())
            }
        });
        if is_map && is_hand_written_limiter(file, &a.target, spec) {
            inv.limiters.push(Limiter {
                kind: "hand-written in-memory counter".into(),
                file: fi,
                line: a.line,
                column: 1,
                shared_store: false,
                variable: a.target.clone(),
            });
        }
    }
}

fn is_hand_written_limiter(
    file: &FileFacts,
    map: &str,
    spec: &crate::catalog::HandWrittenSpec,
) -> bool {
    let subscript = format!("{map}[");
    let method = format!("{map}.");
    let mentions = |text: &str| text.contains(&subscript) || text.contains(&method) || text == map;
    let has_word = |text: &str, words: &[String]| {
        let lower = text.to_ascii_lowercase();
        words.iter().any(|w| lower.contains(w.as_str()))
    };
    // Calls and assignments by enclosing function, once: scanning every
    // call per function was quadratic on large files (2 s on one app).
    let mut calls_in: Vec<Vec<&crate::facts::Call>> = vec![Vec::new(); file.functions.len()];
    for c in &file.calls {
        if let Some(slot) = c.in_function.and_then(|f| calls_in.get_mut(f)) {
            slot.push(c);
        }
    }
    let mut assignments_in: Vec<Vec<&crate::facts::Assignment>> =
        vec![Vec::new(); file.functions.len()];
    for a in &file.assignments {
        if let Some(slot) = a.in_function.and_then(|f| assignments_in.get_mut(f)) {
            slot.push(a);
        }
    }
    let rejects_in = |f: usize| {
        calls_in[f].iter().any(|c| {
            has_word(&c.callee, &spec.reject_words)
                || c.args.iter().any(|x| has_word(&x.text, &spec.reject_words))
        })
    };
    for (f, function) in file.functions.iter().enumerate() {
        // The keys the map is read or written with, in this function.
        let mut keys: Vec<&str> = Vec::new();
        for c in calls_in[f].iter().copied() {
            if c.callee.starts_with(&subscript) || c.callee.starts_with(&method) {
                keys.push(&c.callee);
                keys.extend(c.args.iter().map(|x| x.text.as_str()));
            } else {
                keys.extend(
                    c.args
                        .iter()
                        .map(|x| x.text.as_str())
                        .filter(|t| mentions(t)),
                );
            }
        }
        for a in assignments_in[f].iter().copied() {
            if mentions(&a.target) || mentions(&a.text) {
                keys.push(&a.target);
                keys.push(&a.text);
            }
        }
        if keys.is_empty() {
            continue;
        }
        let by_client = keys.iter().any(|k| {
            let key = k.split_once('[').map_or(*k, |(_, rest)| rest);
            let key = key.split_once('(').map_or(key, |(_, rest)| rest);
            collect_words(key)
                .iter()
                .any(|w| spec.client_key_words.iter().any(|k| k == w))
        });
        if !by_client {
            continue;
        }
        let short = function.name.rsplit('.').next().unwrap_or(&function.name);
        let named = has_word(short, &spec.limit_words);
        let clock = file
            .calls
            .iter()
            .any(|c| c.in_function == Some(f) && spec.clock_calls.contains(&c.callee));
        let callers_reject = file
            .calls
            .iter()
            .filter(|c| c.callee == short || c.callee.ends_with(&format!(".{short}")))
            .filter_map(|c| c.in_function)
            .any(rejects_in);
        let rejects = rejects_in(f) || callers_reject;
        if rejects || named || (clock && has_word(map, &spec.counter_words)) {
            return true;
        }
    }
    false
}

/// The lower-case words of identifiers in `text`: `req.ip` → req, ip;
/// `userId` → user, id; `client_addr` → client, addr.
fn collect_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if !c.is_ascii_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        word.push(c.to_ascii_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

fn collect_limiters<'f>(
    fi: usize,
    file: &'f FileFacts,
    catalog: &Catalog,
    inv: &mut Inventory,
) -> FileLimiters<'f> {
    let spec = &catalog.rate_limit;
    let mut found = FileLimiters {
        python: Vec::new(),
        js: Vec::new(),
    };
    collect_memory_counters(fi, file, catalog, inv);
    let shared = |text: &str| {
        spec.shared_store_words
            .iter()
            .any(|w| text.contains(w.as_str()))
    };
    for a in &file.assignments {
        let Some(callee) = &a.value_callee else {
            continue;
        };
        let Some(module) = import_module(file, callee) else {
            continue;
        };
        let call = file
            .calls
            .iter()
            .find(|c| c.line == a.line && &c.callee == callee);
        let args_text = call
            .map(|c| {
                c.args
                    .iter()
                    .map(|x| format!("{}={}", x.keyword.as_deref().unwrap_or(""), x.text))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_else(|| a.text.clone());
        let root = module.split(['.', '/']).next().unwrap_or(module);
        // `Limiter(...)`, or the class under another name (`Limiter as RL`).
        let head = callee.split('.').next().unwrap_or(callee);
        let class = spec.python_limiter_class.as_str();
        let class_named_limiter = !class.is_empty()
            && (callee.ends_with(class)
                || file.import_of(head).and_then(|i| i.name.as_deref()) == Some(class));
        let is_python_limiter =
            spec.python_limiters.iter().any(|m| m == root) && class_named_limiter;
        let is_js_mw = spec.js_middleware.iter().any(|m| m == module);
        let is_upstash = spec.js_limit_calls.iter().any(|m| m == module);
        if !(is_python_limiter || is_js_mw || is_upstash) {
            continue;
        }
        let memory = spec
            .memory_words
            .iter()
            .any(|w| args_text.contains(w.as_str()) || callee.contains(w.as_str()));
        let store_given = spec
            .store_options
            .iter()
            .any(|w| args_text.contains(w.as_str()));
        inv.limiters.push(Limiter {
            kind: module.to_string(),
            file: fi,
            line: a.line,
            column: call.map(|c| c.column).unwrap_or(1),
            shared_store: is_upstash || (!memory && (shared(&args_text) || store_given)),
            variable: a.target.clone(),
        });
        if let (true, Some(c)) = (is_python_limiter, call) {
            found.python.push((a.target.as_str(), c, root.to_string()));
        } else if is_js_mw {
            found.js.push(a.target.as_str());
        }
    }
    found
}

/// The windows of every limiter a file makes with the window constructors
/// of `rules/protections.toml` (`Ratelimit.slidingWindow(10, "10 s")`), as
/// written and `; `-joined: a shared module often has a per-minute and a
/// per-day one.
pub(super) fn window_spec(file: &FileFacts, spec: &crate::catalog::RateLimitSpec) -> String {
    file.calls
        .iter()
        .filter_map(|c| {
            let name = c.callee.rsplit('.').next().unwrap_or("");
            spec.window_calls.iter().any(|w| w == name).then(|| {
                format!(
                    "{name}({})",
                    c.args
                        .iter()
                        .map(|a| a.text.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn created_in_function(file: &FileFacts, call: &Call, function: Option<usize>) -> bool {
    let object = call.callee.rsplit_once('.').map(|(o, _)| o).unwrap_or("");
    file.assignments
        .iter()
        .any(|a| a.target == object && a.in_function == function && function.is_some())
        || object.ends_with("()")
}

/// Was the object `call` is made on (`ratelimit.limit` → `ratelimit`)
/// created with a shared store named in its arguments (`redis:`,
/// `Redis.fromEnv()`, `kv`)?
fn created_with_shared_store(file: &FileFacts, call: &Call, words: &[String]) -> bool {
    let object = call.callee.rsplit_once('.').map(|(o, _)| o).unwrap_or("");
    let text = match object.strip_suffix("()") {
        Some(_) => object.to_string(),
        None => file
            .assignments
            .iter()
            .filter(|a| a.target == object)
            .map(|a| a.text.clone())
            .collect::<Vec<_>>()
            .join(" "),
    };
    let lower = text.to_ascii_lowercase();
    words.iter().any(|w| text.contains(w.as_str()))
        || lower.contains("kv") && lower.contains("ratelimit")
}

/// Windows (seconds) named in a limit spec: `5/minute`, `100 per day`,
/// `"10 s"`, `windowMs: 15 * 60 * 1000`, `seconds=60`.
pub fn parse_windows(spec: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let unit = |u: &str| -> Option<u64> {
        Some(match u.trim_end_matches('s') {
            "second" | "sec" | "" => 1,
            "minute" | "min" | "m" => 60,
            "hour" | "h" | "hr" => 3600,
            "day" | "d" => 86_400,
            "month" => 2_592_000,
            "year" | "y" => 31_536_000,
            _ => return None,
        })
    };
    let per = Regex::new(
        r"(?i)\d+\s*(?:/|per)\s*(\d*)\s*(second|sec|minute|min|hour|day|month|year)s?\b",
    )
    .expect("static regex");
    for c in per.captures_iter(spec) {
        let n: u64 = c[1].parse().unwrap_or(1);
        if let Some(u) = unit(&c[2].to_lowercase()) {
            out.push(n * u);
        }
    }
    let duration = Regex::new(r#"["'`](\d+)\s*(ms|s|m|h|d|seconds?|minutes?|hours?|days?)["'`]"#)
        .expect("static regex");
    for c in duration.captures_iter(spec) {
        let n: u64 = c[1].parse().unwrap_or(0);
        let secs = if &c[2] == "ms" {
            n / 1000
        } else {
            n * unit(&c[2]).unwrap_or(1)
        };
        out.push(secs);
    }
    let window_ms =
        Regex::new(r"(?:windowMs|duration)\s*[:=]\s*([\d\s*_]+)").expect("static regex");
    for c in window_ms.captures_iter(spec) {
        let product: u64 = c[1]
            .split('*')
            .filter_map(|p| p.trim().replace('_', "").parse::<u64>().ok())
            .product();
        out.push(if spec.contains("windowMs") {
            product / 1000
        } else {
            product
        });
    }
    let kwargs = Regex::new(r"\b(milliseconds|seconds|minutes|hours|days)\s*=\s*(\d+)")
        .expect("static regex");
    for c in kwargs.captures_iter(spec) {
        let n: u64 = c[2].parse().unwrap_or(0);
        out.push(match &c[1] {
            "milliseconds" => n / 1000,
            "seconds" => n,
            "minutes" => n * 60,
            "hours" => n * 3600,
            _ => n * 86_400,
        });
    }
    out
}

/// Functions that call `.limit(…)` of a limit-call library (upstash), on a
/// limiter made in their file or imported from a project file that makes
/// one, with the chain to that call.
pub(crate) fn limit_call_functions(
    facts: &ProjectFacts,
    spec: &crate::catalog::RateLimitSpec,
) -> HashMap<FnRef, Chain> {
    let makes_limiter: HashSet<usize> = facts
        .files()
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.imports
                .iter()
                .any(|i| spec.js_limit_calls.contains(&i.module))
        })
        .map(|(i, _)| i)
        .collect();
    facts.functions_reaching(
        |fi, _, c| {
            let f = facts.file(fi);
            let head = c.callee.split('.').next().unwrap_or("");
            let imported_limiter = f
                .import_of(head)
                .and_then(|i| facts.resolve_import(fi, i))
                .is_some_and(|t| makes_limiter.contains(&t));
            c.callee.ends_with(".limit") && (makes_limiter.contains(&fi) || imported_limiter)
        },
        super::MAX_DEPTH,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert_eq!(parse_windows("\"5/minute\""), vec![60]);
        assert_eq!(
            parse_windows("\"5 per minute; 100 per day\""),
            vec![60, 86_400]
        );
        assert_eq!(
            parse_windows("[\"200 per day\", \"50 per hour\"]"),
            vec![86_400, 3600]
        );
        assert_eq!(parse_windows("slidingWindow(10, \"10 s\")"), vec![10]);
        assert_eq!(
            parse_windows("{ windowMs: 15 * 60 * 1000, limit: 100 }"),
            vec![900]
        );
        assert_eq!(
            parse_windows("[Depends(RateLimiter(times=2, seconds=5))]"),
            vec![5]
        );
        assert_eq!(parse_windows("\"10/2hours\""), vec![7200]);
        // @fastify/rate-limit's timeWindow.
        assert_eq!(
            parse_windows("{ max: 5, timeWindow: \"1 minute\" }"),
            vec![60]
        );
        assert_eq!(parse_windows("timeWindow: '1 day'"), vec![86_400]);
    }
}
