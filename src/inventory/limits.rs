//! Rate limits on endpoints, the generic part: every limiter the project
//! creates (for the store check), hand-written in-memory counters, limiters
//! named in the config (`extra-limiters`), and limiter SDKs
//! (`rules/protections.toml` `js_limit_calls`: their check on the request
//! path, `ratelimit.limit(id)`, Arcjet `aj.protect(req)` with a live window
//! rule, rate-limiter-flexible `limiter.consume(ip)`, @vercel/firewall
//! `checkRateLimit(…)`, with the windows of their rules and options; misuse
//! when the limiter is created per request in memory). What each framework
//! declares around its routes (decorators, middleware, defaults) is read by
//! its family in `frameworks/`. Gaps: whether the check's answer is acted
//! on (`decision.isDenied()`) is not verified; Arcjet's `guard()` API.

use std::collections::HashMap;

use regex::Regex;

use super::counters::Counters;
use super::frameworks::{of_family, Framework, FAMILIES};
use super::{Endpoint, Inventory};
use crate::catalog::{Catalog, RateLimitSpec};
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
    pub counters: &'a Counters,
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

/// `counters` gives the project's limiters ([`super::counters::collect`]),
/// which the thread beside may have worked out already.
pub(super) fn apply<'a>(
    inv: &mut Inventory,
    facts: &'a ProjectFacts,
    catalog: &'a Catalog,
    extras: &Extras,
    counters: impl FnOnce() -> &'a Counters,
) {
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
        counters: counters(),
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
    // Limits enforced in front of the app (nginx, Traefik, Caddy, Kong).
    super::gateways::apply(facts, &mut inv.endpoints);
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
        // `aj.withRule(…).protect(req)` derives from a module-level client.
        let module_level = sdk_call(facts, cf, call, spec).is_some_and(|sdk| {
            facts
                .file(sdk.maker)
                .assignments
                .iter()
                .any(|a| a.target == sdk.variable && a.in_function.is_none())
        });
        let created_here = in_handler
            && !module_level
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
        } else if let Some(limit) = sdk_limits_at(facts, chain.call, spec) {
            e.limits.push(limit);
        }
    }
}

/// The limit of the limiter SDK check `at`, with every other check the
/// same function makes (`perMinute.consume(ip); perDay.consume(ip)`): their
/// windows together.
pub(crate) fn sdk_limits_at(
    facts: &ProjectFacts,
    at: (usize, usize),
    spec: &RateLimitSpec,
) -> Option<Limit> {
    let (cf, _) = at;
    let call = facts.call(at);
    let file = facts.file(cf);
    let mut specs: Vec<String> = Vec::new();
    let mut windows: Vec<u64> = Vec::new();
    let checks = file.calls.iter().filter(|c| {
        c.in_function == call.in_function && (c.line, c.column) >= (call.line, call.column)
    });
    for c in std::iter::once(call).chain(checks.filter(|c| !std::ptr::eq(*c, call))) {
        let Some(sdk) = sdk_call(facts, cf, c, spec) else {
            continue;
        };
        let Some((text, w)) = sdk_limit(facts, cf, c, &sdk, spec) else {
            continue;
        };
        if !specs.contains(&text) {
            specs.push(text);
            windows.extend(w);
        }
    }
    (!specs.is_empty()).then(|| Limit {
        how: format!("{}()", call.callee),
        file: cf,
        line: call.line,
        spec: specs.join("; "),
        windows,
    })
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
            shared_store: !memory && (is_upstash || shared(&args_text) || store_given),
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
            let window = spec.window_calls.iter().any(|w| w == name);
            (window && is_live(c, spec)).then(|| {
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
    // Arcjet's numeric `interval` / `window`: seconds.
    let seconds = Regex::new(r"\b(?:interval|window)\s*:\s*(\d[\d\s*_]*)").expect("static regex");
    for c in seconds.captures_iter(spec) {
        let product: u64 = c[1]
            .split('*')
            .filter_map(|p| p.trim().replace('_', "").parse::<u64>().ok())
            .product();
        out.push(product);
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

/// The limiter SDK objects of one file, by variable: the module of the
/// constructor that made each (`aj = arcjet({…})`, `limiter = new
/// Ratelimit({…})`, `perMinute = new RateLimiterRedis({…})`), also one
/// derived from another (`ajChat = aj.withRule(slidingWindow({…}))`).
fn sdk_limiters<'f>(file: &'f FileFacts, spec: &RateLimitSpec) -> HashMap<&'f str, &'f str> {
    let mut out: HashMap<&str, &str> = HashMap::new();
    for a in &file.assignments {
        let Some(callee) = &a.value_callee else {
            continue;
        };
        if a.target.starts_with(['{', '[']) {
            continue;
        }
        let head = callee.split('.').next().unwrap_or(callee);
        let module = match file.import_of(head) {
            Some(i) if spec.js_limit_calls.contains(&i.module) => Some(i.module.as_str()),
            _ => out.get(head).copied().filter(|_| callee != head),
        };
        if let Some(module) = module {
            out.insert(a.target.as_str(), module);
        }
    }
    out
}

/// A call that checks a limiter SDK, with where its limiter is made.
pub(crate) struct SdkCall {
    /// The file that makes the limiter.
    pub maker: usize,
    /// Its variable there (empty for a function of the library:
    /// `checkRateLimit("id", { request })`).
    pub variable: String,
    pub module: String,
}

/// Is `call` (of file `fi`) the check of a limiter SDK? A method of
/// `js_limit_methods` on a limiter made in the file or imported from the
/// project file that makes it (`aj.protect(req)`, `limiter.consume(ip)`,
/// `ratelimit.limit(id)`), or a function of `js_limit_functions` imported
/// from a limit-call library (`checkRateLimit`). `.limit(…)` also counts on
/// any object of a file that imports a limit-call library, or of one it
/// imports it from (Upstash limiters are often kept in maps and objects).
pub(crate) fn sdk_call(
    facts: &ProjectFacts,
    fi: usize,
    call: &Call,
    spec: &RateLimitSpec,
) -> Option<SdkCall> {
    let file = facts.file(fi);
    let head = call.callee.split('.').next()?;
    let Some((_, method)) = call.callee.rsplit_once('.') else {
        let i = file.import_of(head)?;
        let name = i.name.as_deref().unwrap_or(head);
        let listed = spec.js_limit_calls.contains(&i.module)
            && spec.js_limit_functions.iter().any(|f| f == name);
        // Given a limiter of the file (Arcjet's `createMiddleware(aj)`).
        let variable = call
            .args
            .first()
            .map(|a| a.text.trim())
            .filter(|t| sdk_limiters(file, spec).contains_key(t))
            .unwrap_or_default()
            .to_string();
        return listed.then(|| SdkCall {
            maker: fi,
            variable,
            module: i.module.clone(),
        });
    };
    if !spec.js_limit_methods.iter().any(|m| m == method) {
        return None;
    }
    let limit_module = |f: &FileFacts| {
        f.imports
            .iter()
            .find(|i| spec.js_limit_calls.contains(&i.module))
            .map(|i| i.module.clone())
    };
    let own = sdk_limiters(file, spec);
    if let Some(module) = own.get(head) {
        return Some(SdkCall {
            maker: fi,
            variable: head.to_string(),
            module: module.to_string(),
        });
    }
    let imported = file.import_of(head).and_then(|i| {
        let target = facts.resolve_import(fi, i)?;
        let theirs = sdk_limiters(facts.file(target), spec);
        let name = i.name.as_deref().filter(|n| *n != "default");
        // A default export: the file's only limiter.
        let found = match name {
            Some(n) => theirs.get_key_value(n),
            None if theirs.len() == 1 => theirs.iter().next(),
            None => None,
        };
        match found {
            Some((var, module)) => Some(SdkCall {
                maker: target,
                variable: var.to_string(),
                module: module.to_string(),
            }),
            None if method == "limit" => limit_module(facts.file(target)).map(|module| SdkCall {
                maker: target,
                variable: String::new(),
                module,
            }),
            None => None,
        }
    });
    if imported.is_some() {
        return imported;
    }
    // `.limit(…)` on any object of a file importing the library.
    if method == "limit" {
        return limit_module(file).map(|module| SdkCall {
            maker: fi,
            variable: String::new(),
            module,
        });
    }
    None
}

/// A call of a limiter SDK, its check or its constructor (`new
/// RateLimiterMemory(…)`): that library's evidence, read here, not a
/// limiter the project wrote.
pub(crate) fn is_sdk_call(
    facts: &ProjectFacts,
    fi: usize,
    call: &Call,
    spec: &RateLimitSpec,
) -> bool {
    let head = call.callee.split('.').next().unwrap_or("");
    facts
        .file(fi)
        .import_of(head)
        .is_some_and(|i| spec.js_limit_calls.contains(&i.module))
        || sdk_call(facts, fi, call, spec).is_some()
}

/// The limit a limiter SDK check applies, as written and in windows: the
/// limiter's constructor options (`duration: 60`, `interval: "1m"`) and
/// its window rules (`slidingWindow({ mode: "LIVE", interval: "1m", max: 10 })`),
/// also those added at the call (`aj.withRule(…)` in the function).
/// `None` when the library limits only with a window rule
/// (`js_window_rules`: Arcjet) and it has none outside dry-run mode.
pub(crate) fn sdk_limit(
    facts: &ProjectFacts,
    fi: usize,
    call: &Call,
    sdk: &SdkCall,
    spec: &RateLimitSpec,
) -> Option<(String, Vec<u64>)> {
    let maker = facts.file(sdk.maker);
    let mut parts: Vec<String> = Vec::new();
    let mut ctor_text = None;
    if !sdk.variable.is_empty() {
        if let Some(a) = maker
            .assignments
            .iter()
            .find(|a| a.target == sdk.variable && a.value_callee.is_some())
        {
            let ctor = maker
                .calls
                .iter()
                .find(|c| c.line == a.line && Some(&c.callee) == a.value_callee.as_ref());
            ctor_text = ctor
                .filter(|c| !c.args.is_empty())
                .map(|c| format!("{}({})", c.callee, args_text(c)));
        }
    }
    let is_window = |c: &Call| {
        let name = c.callee.rsplit('.').next().unwrap_or("");
        spec.window_calls.iter().any(|w| w == name)
    };
    let mut windows: Vec<&Call> = Vec::new();
    if !sdk.variable.is_empty() {
        windows.extend(
            variable_range(maker, &sdk.variable)
                .map(|(start, end)| {
                    maker
                        .calls
                        .iter()
                        .filter(move |c| c.line >= start && c.line < end)
                })
                .into_iter()
                .flatten()
                .filter(|c| is_window(c)),
        );
    }
    // A limiter not made by a plain assignment (`const ratelimit = redis ?
    // new Ratelimit({…}) : undefined`): every window of its file.
    if sdk.variable.is_empty() && call.callee.contains('.') {
        windows.extend(maker.calls.iter().filter(|c| is_window(c)));
    }
    let caller = facts.file(fi);
    windows.extend(
        caller.calls.iter().filter(|c| {
            c.in_function.is_some() && c.in_function == call.in_function && is_window(c)
        }),
    );
    windows.sort_by_key(|c| (c.line, c.column));
    windows.dedup_by_key(|c| (c.line, c.column));
    let live_windows: Vec<&Call> = windows.into_iter().filter(|c| is_live(c, spec)).collect();
    if spec.js_window_rules.contains(&sdk.module) && live_windows.is_empty() {
        return None;
    }
    for c in &live_windows {
        let name = c.callee.rsplit('.').next().unwrap_or("");
        parts.push(format!("{name}({})", args_text(c)));
    }
    // The constructor's options say the limit when no window rule does
    // (`new RateLimiterRedis({ points: 10, duration: 60 })`).
    if parts.is_empty() {
        parts.extend(ctor_text);
    }
    if parts.is_empty() && sdk.variable.is_empty() {
        parts.push(format!("{}({})", call.callee, args_text(call)));
    }
    let text = strip_comments(&parts.join("; "))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let parsed = if spec.millisecond_durations.contains(&sdk.module) {
        text.replace("duration", "windowMs")
    } else {
        text.clone()
    };
    Some((text, parse_windows(&parsed)))
}

/// Options as written without their comments (`interval: "10m", // 10
/// minute window`, `1 /* day */ * 24`).
fn strip_comments(text: &str) -> String {
    let block = Regex::new(r"(?s)/\*.*?\*/").expect("static regex");
    let line = Regex::new(r"(^|[\s,{(\[])//[^\n]*").expect("static regex");
    let text = block.replace_all(text, " ");
    line.replace_all(&text, "$1").into_owned()
}

/// A window rule that limits: not in dry-run mode (`mode: "DRY_RUN"` only
/// logs), unless a live mode is picked too (`… ? "LIVE" : "DRY_RUN"`).
fn is_live(c: &Call, spec: &RateLimitSpec) -> bool {
    let text = args_text(c);
    let dry = spec.dry_run_words.iter().any(|w| text.contains(w.as_str()));
    !dry || spec.live_words.iter().any(|w| text.contains(w.as_str()))
}

/// The arguments of a call as written, `, `-joined.
fn args_text(c: &Call) -> String {
    c.args
        .iter()
        .map(|a| a.text.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The file that makes the limiter of a limit call (`ratelimit.limit(ip)`):
/// the project file its object is imported from, else the call's own.
pub(crate) fn limiter_file(facts: &ProjectFacts, at: (usize, usize)) -> usize {
    let (cf, _) = at;
    let call = facts.call(at);
    let head = call.callee.split('.').next().unwrap_or("");
    facts
        .file(cf)
        .import_of(head)
        .and_then(|i| facts.resolve_import(cf, i))
        .unwrap_or(cf)
}

/// The lines of a module-level variable's definition: from its assignment
/// to the next module-level one.
pub(crate) fn variable_range(file: &FileFacts, var: &str) -> Option<(u32, u32)> {
    let top = || file.assignments.iter().filter(|a| a.in_function.is_none());
    let start = top().find(|a| a.target == var)?.line;
    let end = top()
        .map(|a| a.line)
        .filter(|l| *l > start)
        .min()
        .unwrap_or(u32::MAX);
    Some((start, end))
}

/// Functions that check a limiter SDK on the request path ([`sdk_call`]
/// with a limit, [`sdk_limit`]), with the chain to that check.
pub(crate) fn limit_call_functions(
    facts: &ProjectFacts,
    spec: &RateLimitSpec,
) -> HashMap<FnRef, Chain> {
    // No limiter SDK is imported anywhere (most Python trees): no call can
    // be one, and the walk over every call is skipped.
    let imports_sdk = facts
        .files()
        .iter()
        .any(|f| crate::catalog::loops::imports_from(f, &spec.js_limit_calls));
    if !imports_sdk {
        return HashMap::new();
    }
    facts.functions_reaching(
        |fi, _, c| {
            sdk_call(facts, fi, c, spec)
                .is_some_and(|sdk| sdk_limit(facts, fi, c, &sdk, spec).is_some())
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
        // Arcjet rules (string or seconds) and rate-limiter-flexible.
        assert_eq!(
            parse_windows("slidingWindow({ mode: \"LIVE\", interval: \"1m\", max: 10 })"),
            vec![60]
        );
        assert_eq!(
            parse_windows("tokenBucket({ refillRate: 5, interval: 10, capacity: 10 })"),
            vec![10]
        );
        assert_eq!(
            parse_windows("fixedWindow({ window: \"1h\", max: 60 })"),
            vec![3600]
        );
        assert_eq!(
            parse_windows("tokenBucket({ interval: 1 * 24 * 60 * 60, capacity: 40_000 })"),
            vec![86_400]
        );
        assert_eq!(
            parse_windows("{ points: 100, duration: 60 * 60 * 24 }"),
            vec![86_400]
        );
    }
}
