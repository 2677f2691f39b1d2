//! Rate limits on endpoints: slowapi / flask-limiter decorators and global
//! `default_limits`, fastapi-limiter dependencies, JS limiter middleware on
//! the route or its app/router, `@upstash/ratelimit` `.limit()` on the
//! request path, and a Next.js `middleware.ts`/`proxy.ts` whose matcher
//! covers the route. Also every limiter created (for the store check) and
//! misuse (slowapi wiring, limiters created per request).

use std::collections::HashSet;

use regex::Regex;

use super::{Endpoint, Framework, Inventory};
use crate::catalog::Catalog;
use crate::config::Extras;
use crate::facts::{Call, FileFacts, ProjectFacts};

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
    pub file: usize,
    pub line: u32,
    pub message: String,
}

struct FileLimiters<'f> {
    /// Python `Limiter` variables (slowapi / flask-limiter) and their calls.
    python: Vec<(&'f str, &'f Call, String)>,
    /// JS middleware limiter variables.
    js: Vec<&'f str>,
}

pub(super) fn apply(inv: &mut Inventory, facts: &ProjectFacts, catalog: &Catalog, extras: &Extras) {
    let spec = &catalog.rate_limit;
    let mut per_file: Vec<FileLimiters<'_>> = Vec::new();
    for (fi, file) in facts.files().iter().enumerate() {
        let found = collect_limiters(fi, file, catalog, inv);
        per_file.push(found);
    }
    // Functions that call `.limit(…)` of a limit-call library (upstash),
    // on a limiter made here or imported from a project file that makes one.
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
    let limit_calls = facts.functions_reaching(
        |f, c| {
            let Some(fi) = facts.index_of(&f.path) else {
                return false;
            };
            let head = c.callee.split('.').next().unwrap_or("");
            let imported_limiter = f
                .import_of(head)
                .and_then(|i| facts.resolve_import(fi, i))
                .is_some_and(|t| makes_limiter.contains(&t));
            c.callee.ends_with(".limit") && (makes_limiter.contains(&fi) || imported_limiter)
        },
        super::MAX_DEPTH,
    );
    let globals = collect_globals(facts, &per_file);
    let middlewares = collect_next_middleware(facts, catalog);
    for e in &mut inv.endpoints {
        let file = facts.file(e.file);
        let limiters = &per_file[e.file];
        configured_limits(e, file, &extras.limiters);
        if e.framework.is_python() {
            python_route_limits(e, facts, &per_file, &mut inv.misuse);
        } else {
            js_route_limits(e, file, facts, limiters);
        }
        // slowapi / flask-limiter: a route's own `@limiter.limit` replaces
        // the app's default limits (`override_defaults=True` is their
        // default), and `@limiter.exempt` removes them.
        let skips_defaults = e.framework.is_python() && python_skips_defaults(e, file);
        for (framework, limit, app_var) in &globals {
            if *framework != e.framework || !same_app(facts, limit.file, e.file) {
                continue;
            }
            if skips_defaults && limit.how.ends_with("default_limits") {
                continue;
            }
            // flask-limiter binds one app: its routes and blueprints, not
            // another Flask() app in the project.
            let covered = match app_var {
                Some(app) => {
                    (e.file == limit.file && &e.object == app)
                        || is_blueprint(facts.file(e.file), &e.object)
                }
                None => true,
            };
            if covered {
                e.limits.push(limit.clone());
            }
        }
        if let Some(chain) = e.handler.and_then(|h| limit_calls.get(&h)) {
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
                let spec_text = upstash_spec(facts.file(maker));
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
        if matches!(
            e.framework,
            Framework::NextApp | Framework::NextPages | Framework::ServerAction
        ) {
            for (mw_file, patterns, limit) in &middlewares {
                let app_root = facts
                    .file(*mw_file)
                    .path
                    .rsplit_once('/')
                    .map(|(d, _)| d.trim_end_matches("/src").to_string())
                    .unwrap_or_default();
                let in_app = app_root.is_empty() || file.path.starts_with(&format!("{app_root}/"));
                if in_app && (patterns.is_empty() || patterns.iter().any(|p| p.is_match(&e.path))) {
                    e.limits.push(limit.clone());
                }
            }
        }
    }
    slowapi_wiring(facts, &per_file, inv);
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

/// Same app: one file's folder contains the other's, or they share a folder.
fn same_app(facts: &ProjectFacts, a: usize, b: usize) -> bool {
    let dir = |i: usize| {
        facts
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
        let class_named_limiter = callee.ends_with("Limiter")
            || file.import_of(head).and_then(|i| i.name.as_deref()) == Some("Limiter");
        let is_python_limiter =
            spec.python_limiters.iter().any(|m| m == root) && class_named_limiter;
        let is_js_mw = spec.js_middleware.iter().any(|m| m == module);
        let is_upstash = spec.js_limit_calls.iter().any(|m| m == module);
        if !(is_python_limiter || is_js_mw || is_upstash) {
            continue;
        }
        let memory = args_text.contains("memory://") || callee.contains("Memory");
        let store_given = args_text.contains("storage_uri")
            || args_text.contains("store:")
            || args_text.contains("store=");
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

/// Do the app's default limits not apply to this Python route: it is
/// `@limiter.exempt`, or it has its own `@limiter.limit` without
/// `override_defaults=False`?
fn python_skips_defaults(e: &Endpoint, file: &FileFacts) -> bool {
    let Some(h) = e.handler else { return false };
    let decorators = &file.functions[h.function].decorators;
    let exempt = decorators.iter().any(|d| d.callee.ends_with(".exempt"));
    let own: Vec<&Call> = decorators
        .iter()
        .filter(|d| d.callee.ends_with(".limit") || d.callee.ends_with(".shared_limit"))
        .collect();
    let keeps_defaults = own.iter().any(|d| {
        d.args
            .iter()
            .any(|a| a.keyword.as_deref() == Some("override_defaults") && a.text == "False")
    });
    exempt
        || (!own.is_empty() && !keeps_defaults && e.limits.iter().any(|l| l.how.starts_with('@')))
}

fn python_route_limits(
    e: &mut Endpoint,
    facts: &ProjectFacts,
    per_file: &[FileLimiters<'_>],
    misuse: &mut Vec<Misuse>,
) {
    let file = facts.file(e.file);
    let limiters = &per_file[e.file];
    let Some(h) = e.handler else { return };
    let function = &file.functions[h.function];
    let route_at = function.decorators.iter().position(|d| d.line == e.line);
    for (i, d) in function.decorators.iter().enumerate() {
        // fastapi-limiter: dependencies=[Depends(RateLimiter(times=5, seconds=60))]
        if Some(i) == route_at {
            if let Some(dep) = d.args.iter().find(|a| {
                a.keyword.as_deref() == Some("dependencies") && a.text.contains("RateLimiter(")
            }) {
                let windows = parse_windows(&dep.text);
                e.limits.push(Limit {
                    how: "fastapi-limiter RateLimiter".into(),
                    file: h.file,
                    line: dep.line,
                    spec: dep.text.clone(),
                    windows,
                });
            }
            continue;
        }
        let Some((object, method)) = d.callee.rsplit_once('.') else {
            continue;
        };
        // The limiter is made here, or imported from the file that makes it
        // (`from ..main import limiter` in `routers/chat.py`).
        let local = limiters
            .python
            .iter()
            .find(|(v, _, _)| *v == object)
            .map(|l| l.2.clone());
        let imported = || {
            let import = file.import_of(object)?;
            let target = facts.resolve_import(h.file, import)?;
            let name = import.name.as_deref().unwrap_or(object);
            per_file[target]
                .python
                .iter()
                .find(|(v, _, _)| *v == name)
                .map(|l| l.2.clone())
        };
        let Some(kind) = local.or_else(imported) else {
            continue;
        };
        if !matches!(method, "limit" | "shared_limit") {
            continue;
        }
        // `@limiter.limit("5/minute")` or `@limiter.limit(limit_value="5/minute")`.
        let spec = d
            .args
            .iter()
            .find(|a| a.keyword.is_none() || a.keyword.as_deref() == Some("limit_value"))
            .map(|a| a.text.clone())
            .unwrap_or_default();
        if route_at.is_some_and(|r| i < r) {
            misuse.push(Misuse {
                rule: "slowapi-decorator-order",
                file: h.file,
                line: d.line,
                message: format!(
                    "@{} is above the route decorator, so the route registers the unlimited function: put it below @{}",
                    d.callee,
                    function.decorators[route_at.unwrap_or(0)].callee
                ),
            });
            continue;
        }
        if kind == "slowapi"
            && !function
                .params
                .iter()
                .any(|p| p.starts_with("request") || p.contains(": Request"))
        {
            misuse.push(Misuse {
                rule: "slowapi-missing-request",
                file: h.file,
                line: function.line,
                message: format!(
                    "{} is limited by slowapi but takes no `request: Request` parameter: slowapi raises at the first call",
                    function.name
                ),
            });
        }
        let windows = parse_windows(&spec);
        e.limits.push(Limit {
            how: format!("@{}", d.callee),
            file: h.file,
            line: d.line,
            spec,
            windows,
        });
    }
    let deps_on_object = file
        .assignments
        .iter()
        .any(|a| a.target == e.object && a.text.contains("RateLimiter("));
    if deps_on_object {
        e.limits.push(Limit {
            how: format!("{} dependencies", e.object),
            file: h.file,
            line: e.line,
            spec: "RateLimiter".into(),
            windows: Vec::new(),
        });
    }
}

fn js_route_limits(
    e: &mut Endpoint,
    file: &FileFacts,
    facts: &ProjectFacts,
    limiters: &FileLimiters<'_>,
) {
    let is_limiter = |name: &str| {
        limiters.js.contains(&name)
            || name.contains("rateLimit(")
            || name.contains("rateLimiter(")
            || file.import_of(name).is_some_and(|i| {
                facts.index_of(&i.module).is_none()
                    && facts.files().iter().any(|f| {
                        f.assignments
                            .iter()
                            .any(|a| a.target == i.name.clone().unwrap_or_default())
                            && f.path != file.path
                            && name.to_lowercase().contains("limit")
                    })
            })
    };
    for m in &e.middleware {
        if is_limiter(m) {
            e.limits.push(Limit {
                how: format!("route middleware {m}"),
                file: e.file,
                line: e.line,
                spec: m.clone(),
                windows: limiter_windows(file, m),
            });
        }
    }
    // `app.use(limiter)` / `app.use("/api", limiter)` on the route's object.
    for call in &file.calls {
        let Some((object, method)) = call.callee.rsplit_once('.') else {
            continue;
        };
        if object != e.object || !matches!(method, "use" | "register") {
            continue;
        }
        let (prefix, rest) = match call
            .args
            .first()
            .and_then(|a| super::routes::unquote(&a.text))
        {
            Some(p) => (p, &call.args[1..]),
            None => (String::new(), &call.args[..]),
        };
        let covers = prefix.is_empty()
            || e.path
                .starts_with(prefix.trim_end_matches("/*").trim_end_matches('*'));
        for a in rest {
            let fastify_plugin = method == "register"
                && file
                    .import_of(&a.text)
                    .is_some_and(|i| i.module == "@fastify/rate-limit");
            if covers && (is_limiter(&a.text) || fastify_plugin) {
                e.limits.push(Limit {
                    how: format!("{}.{method}({})", object, a.text),
                    file: e.file,
                    line: call.line,
                    spec: a.text.clone(),
                    windows: limiter_windows(file, &a.text),
                });
            }
        }
    }
}

/// Windows of a JS limiter variable from its options (`windowMs`, `window`).
fn limiter_windows(file: &FileFacts, name: &str) -> Vec<u64> {
    let text = file
        .calls
        .iter()
        .find(|c| {
            c.args
                .iter()
                .any(|a| a.text.contains("windowMs") || a.text.contains("duration"))
                && file
                    .assignments
                    .iter()
                    .any(|a| a.target == name && a.line == c.line)
        })
        .map(|c| {
            c.args
                .iter()
                .map(|a| a.text.clone())
                .collect::<Vec<_>>()
                .join(",")
        });
    let text = text.unwrap_or_else(|| {
        if name.contains('(') {
            name.to_string()
        } else {
            String::new()
        }
    });
    parse_windows(&text)
}

/// slowapi `default_limits` with `SlowAPIMiddleware`, flask-limiter
/// `default_limits` bound to an app, `fastify.register(rateLimit)`.
fn is_blueprint(file: &FileFacts, object: &str) -> bool {
    file.assignments.iter().any(|a| {
        a.target == object
            && a.value_callee
                .as_deref()
                .is_some_and(|c| c.ends_with("Blueprint"))
    })
}

/// (framework, limit, the Flask app variable it is bound to).
fn collect_globals(
    facts: &ProjectFacts,
    per_file: &[FileLimiters<'_>],
) -> Vec<(Framework, Limit, Option<String>)> {
    let has_slowapi_mw = facts.files().iter().any(|f| {
        f.calls.iter().any(|c| {
            c.callee.ends_with("add_middleware")
                && c.args
                    .first()
                    .is_some_and(|a| a.text.contains("SlowAPIMiddleware"))
        })
    });
    let mut out = Vec::new();
    for (fi, limiters) in per_file.iter().enumerate() {
        for (var, call, kind) in &limiters.python {
            let Some(defaults) = call
                .args
                .iter()
                .find(|a| a.keyword.as_deref() == Some("default_limits"))
            else {
                continue;
            };
            let bound = match kind.as_str() {
                "slowapi" => has_slowapi_mw,
                _ => {
                    call.args.iter().any(|a| {
                        a.keyword.as_deref() == Some("app")
                            || (a.keyword.is_none() && a.text == "app")
                    }) || facts.files().iter().any(|f| {
                        f.calls
                            .iter()
                            .any(|c| c.callee == format!("{var}.init_app"))
                    })
                }
            };
            if bound {
                let (framework, app_var) =
                    if kind == "slowapi" {
                        (Framework::FastApi, None)
                    } else {
                        let app =
                            call.args
                                .iter()
                                .find(|a| a.keyword.as_deref() == Some("app"))
                                .map(|a| a.text.clone())
                                .or_else(|| {
                                    facts.files().iter().flat_map(|f| f.calls.iter()).find_map(
                                        |c| {
                                            (c.callee == format!("{var}.init_app"))
                                                .then(|| c.args.first().map(|a| a.text.clone()))?
                                        },
                                    )
                                })
                                .unwrap_or_else(|| "app".into());
                        (Framework::Flask, Some(app))
                    };
                let limit = Limit {
                    how: format!("{var} default_limits"),
                    file: fi,
                    line: call.line,
                    spec: defaults.text.clone(),
                    windows: parse_windows(&defaults.text),
                };
                out.push((framework, limit, app_var));
            }
        }
    }
    out
}

/// Next.js `middleware.*` / `proxy.*` files that limit, with their matchers.
fn collect_next_middleware(
    facts: &ProjectFacts,
    catalog: &Catalog,
) -> Vec<(usize, Vec<Matcher>, Limit)> {
    let spec = &catalog.rate_limit;
    let mut out = Vec::new();
    for (fi, file) in facts.files().iter().enumerate() {
        let name = file.path.rsplit('/').next().unwrap_or(&file.path);
        let stem = name.split('.').next().unwrap_or(name);
        if !matches!(stem, "middleware" | "proxy") || file.lang.is_none_or(|l| l.is_python()) {
            continue;
        }
        let limits = file.imports.iter().any(|i| {
            spec.js_limit_calls.contains(&i.module) || spec.js_middleware.contains(&i.module)
        }) && file
            .calls
            .iter()
            .any(|c| c.callee.ends_with(".limit") || c.callee.to_lowercase().contains("limit"));
        if !limits {
            continue;
        }
        let matchers = file
            .assignments
            .iter()
            .find(|a| a.target == "config")
            .map(|a| parse_matchers(&a.text))
            .unwrap_or_default();
        let spec_text = upstash_spec(file);
        let limit = Limit {
            how: format!(
                "{} (matcher {})",
                file.path,
                if matchers.is_empty() {
                    "all routes".to_string()
                } else {
                    "covers the route".into()
                }
            ),
            file: fi,
            line: 1,
            windows: parse_windows(&spec_text),
            spec: spec_text,
        };
        out.push((fi, matchers, limit));
    }
    out
}

/// A Next.js matcher: a path pattern, or the common negative-lookahead form
/// `/((?!api|_next/static).*)` (every path except those prefixes), which
/// the `regex` crate cannot compile as written.
pub enum Matcher {
    Pattern(Regex),
    AllExcept(Vec<String>),
}

impl Matcher {
    pub fn is_match(&self, path: &str) -> bool {
        match self {
            Matcher::Pattern(r) => r.is_match(path),
            Matcher::AllExcept(prefixes) => {
                let rest = path.trim_start_matches('/');
                !prefixes
                    .iter()
                    .any(|p| rest.starts_with(p.trim_start_matches('/')))
            }
        }
    }
}

/// `matcher: ["/api/:path*", "/((?!_next).*)"]` → matchers.
pub(super) fn parse_matchers(text: &str) -> Vec<Matcher> {
    let Some(at) = text.find("matcher") else {
        return Vec::new();
    };
    let strings = Regex::new(r#"["'`]([^"'`]+)["'`]"#).expect("static regex");
    strings
        .captures_iter(&text[at..])
        .filter_map(|c| {
            let m = &c[1];
            if let Some(inner) = m.strip_prefix("/((?!").and_then(|r| r.strip_suffix(").*)")) {
                return Some(Matcher::AllExcept(
                    inner.split('|').map(str::to_string).collect(),
                ));
            }
            let pattern = if m.contains('(') {
                m.to_string()
            } else {
                let named = Regex::new(r":[A-Za-z_]+([*+?]?)").expect("static regex");
                named
                    .replace_all(
                        &regex::escape(m)
                            .replace("\\*", "*")
                            .replace("\\+", "+")
                            .replace("\\?", "?"),
                        |c: &regex::Captures<'_>| match &c[1] {
                            "*" => "(?:/.*)?".to_string(),
                            "+" => "/.+".to_string(),
                            "?" => "(?:/[^/]+)?".to_string(),
                            _ => "[^/]+".to_string(),
                        },
                    )
                    .replace("/(?:/", "(?:/")
            };
            Regex::new(&format!("^{pattern}$"))
                .ok()
                .map(Matcher::Pattern)
        })
        .collect()
}

/// `Ratelimit.slidingWindow(10, "10 s")` in a file, as written.
/// The windows of every `@upstash/ratelimit` limiter the file makes (a
/// shared module often has a per-minute and a per-day one), `; `-joined.
fn upstash_spec(file: &FileFacts) -> String {
    file.calls
        .iter()
        .filter(|c| {
            c.callee.ends_with("slidingWindow")
                || c.callee.ends_with("fixedWindow")
                || c.callee.ends_with("tokenBucket")
        })
        .map(|c| {
            format!(
                "{}({})",
                c.callee.rsplit('.').next().unwrap_or(""),
                c.args
                    .iter()
                    .map(|a| a.text.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
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

/// slowapi needs `app.state.limiter = limiter` and a `RateLimitExceeded` handler.
fn slowapi_wiring(facts: &ProjectFacts, per_file: &[FileLimiters<'_>], inv: &mut Inventory) {
    let all_calls = || facts.files().iter().flat_map(|f| f.calls.iter());
    let attached = facts.files().iter().any(|f| {
        f.assignments
            .iter()
            .any(|a| a.target.ends_with("state.limiter"))
    });
    let handled = all_calls().any(|c| {
        c.callee.ends_with("add_exception_handler")
            && c.args
                .first()
                .is_some_and(|a| a.text.contains("RateLimitExceeded"))
    }) || facts.files().iter().any(|f| {
        f.functions.iter().any(|func| {
            func.decorators.iter().any(|d| {
                d.callee.ends_with("exception_handler")
                    && d.args
                        .first()
                        .is_some_and(|a| a.text.contains("RateLimitExceeded"))
            })
        })
    });
    let used: HashSet<&str> = per_file
        .iter()
        .flat_map(|l| {
            l.python
                .iter()
                .filter(|(_, _, k)| k == "slowapi")
                .map(|(v, _, _)| *v)
        })
        .collect();
    for (fi, limiters) in per_file.iter().enumerate() {
        for (var, call, kind) in &limiters.python {
            if kind != "slowapi" || !used.contains(var) {
                continue;
            }
            if !attached {
                inv.misuse.push(Misuse { rule: "slowapi-not-attached", file: fi, line: call.line, message: format!("the slowapi Limiter `{var}` is never set as app.state.limiter, so its limits are not enforced") });
            }
            if !handled {
                inv.misuse.push(Misuse { rule: "slowapi-no-exceeded-handler", file: fi, line: call.line, message: "no RateLimitExceeded handler is registered (app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)): limited calls fail with a 500".into() });
            }
        }
    }
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
    let duration = Regex::new(r#"["'`](\d+)\s*(ms|s|m|h|d)["'`]"#).expect("static regex");
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
    }

    #[test]
    fn matchers() {
        let m = parse_matchers("{ matcher: [\"/api/:path*\"] }");
        assert!(m[0].is_match("/api/chat") && m[0].is_match("/api") && !m[0].is_match("/about"));
        let m = parse_matchers("{ matcher: '/((?!_next/static|favicon.ico).*)' }");
        assert!(m[0].is_match("/api/chat") && !m[0].is_match("/_next/static/x.js"));
        let m = parse_matchers("{ matcher: ['/((?!api|_next).*)'] }");
        assert!(!m[0].is_match("/api/chat") && m[0].is_match("/dashboard"));
        let m = parse_matchers("{ matcher: \"/dashboard/:id\" }");
        assert!(m[0].is_match("/dashboard/7") && !m[0].is_match("/api/chat"));
    }
}
