//! Middleware of the file-routed frameworks, as auth and rate-limit
//! evidence for the routes it runs in front of (issue 17 item 4):
//! - SvelteKit: `handle` exported by `src/hooks.server.ts`, a function or
//!   `sequence(a, b, …)` of them;
//! - Astro: `onRequest` exported by `src/middleware.ts` (or
//!   `src/middleware/index.ts`), through `defineMiddleware(…)` or
//!   `sequence(…)`;
//! - Nuxt / Nitro: every `server/middleware/*` file's
//!   `defineEventHandler(…)`, and the `onRequest` hooks of a route's own
//!   `defineEventHandler({ onRequest: [...], handler })`.
//!
//! A middleware function authenticates where it rejects: a 401
//! (`error(401)`, `createError({ statusCode: 401 })`, a 401 `Response`, a
//! project function given 401 that answers with it), a 403 or a redirect
//! under a condition on the user or session, or a self-checking call of
//! the catalogue (`requireUserSession`). Not the generic auth helpers
//! (project functions that reject somewhere): one that rejects a bad token
//! also runs, unchecked, in front of the login page. It limits where it
//! calls a limiter (a limit-call library's `.limit()`, the project's own
//! counters). A handle that only resolves, or only sets `locals.user`, is
//! neither. The project functions a middleware hands its own parameters to
//! (`handleRequest(input)`) are read the same way, behind the guards of
//! the call.
//!
//! Each of those calls covers the paths the guards around it let through:
//! `if (url.pathname.startsWith("/api") && !locals.user)` covers `/api…`;
//! an earlier `if (!pathname.startsWith("/api")) return resolve(event)`
//! lets only `/api…` reach what follows; a local holding a path test
//! (`const isApi = …`) is read through; a method test
//! (`!["GET"].includes(request.method)`) leaves methods out. A path test
//! aiguard cannot read (a list of prefixes in a variable, `includes`)
//! covers nothing: no evidence is better than a false pass.

use regex::Regex;
use std::sync::LazyLock;

use crate::facts::{Call, FileFacts, FnRef, ProjectFacts};
use crate::inventory::auth::{last, named, AuthContext};
use crate::inventory::limits::{
    limit_call_functions, limiter_file, parse_windows, window_spec, LimitScope,
};
use crate::inventory::{AuthEvidence, AuthKind, Endpoint, Framework, Limit};

/// One middleware function and the routes it can run in front of.
pub(super) struct Middleware {
    pub framework: Framework,
    /// Endpoint files under this folder are covered (`web/src/routes/`).
    pub routes: String,
    pub function: FnRef,
    /// How the file names it: `handle`, `onRequest`, `server/middleware`.
    pub label: String,
}

/// A function a middleware runs: itself, or a project function it hands
/// the request to (`handle = (input) => handleRequest(input)`), with the
/// calls that led there (their guards narrow the paths too).
pub(super) struct Step {
    pub function: FnRef,
    pub outer: Vec<(FnRef, u32)>,
}

/// How deep a middleware's hand-offs are followed.
const HANDOFF_DEPTH: usize = 3;

/// `f` and the project functions it hands its own parameters to
/// (`handleRequest(input)`, `authorize({ event, resolve })`), breadth
/// first.
fn steps_of(facts: &ProjectFacts, f: FnRef) -> Vec<Step> {
    let mut out = vec![Step {
        function: f,
        outer: Vec::new(),
    }];
    let mut at = 0;
    while at < out.len() {
        if out[at].outer.len() < HANDOFF_DEPTH {
            for (g, line) in handoffs(facts, out[at].function) {
                if out.iter().any(|s| s.function == g) {
                    continue;
                }
                let mut outer = out[at].outer.clone();
                outer.push((out[at].function, line));
                out.push(Step { function: g, outer });
            }
        }
        at += 1;
    }
    out
}

/// Project functions `f` passes its own parameters to, with the line.
fn handoffs(facts: &ProjectFacts, f: FnRef) -> Vec<(FnRef, u32)> {
    let file = facts.file(f.file);
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
            .filter(|w| w.starts_with(|c: char| c.is_ascii_lowercase()))
            .map(str::to_string)
            .collect()
    };
    let params: Vec<String> = file.functions[f.function]
        .params
        .iter()
        .flat_map(|p| words(p.split(':').next().unwrap_or(p)))
        .collect();
    let mut out = Vec::new();
    for c in calls_in(file, f.function) {
        let passes = c.args.iter().any(|a| {
            let t = a.text.trim();
            let w = words(t);
            !w.is_empty()
                && (t.starts_with('{') || w.len() == 1)
                && !t.contains('(')
                && w.iter().all(|x| params.contains(x))
        });
        if !passes {
            continue;
        }
        if let Some(g) = facts.resolve_call(f.file, c).filter(|g| *g != f) {
            out.push((g, c.line));
        }
    }
    out
}

/// Does every guard on the way to `line` of `step` let `path` through?
fn step_covers(facts: &ProjectFacts, step: &Step, line: u32, e: &Endpoint) -> bool {
    let here = (step.function, line);
    step.outer
        .iter()
        .chain(std::iter::once(&here))
        .all(|(f, l)| scope_at(facts.file(f.file), f.function, *l).covers(&e.path, &e.method))
}

/// The middleware functions of the project's SvelteKit hooks, Astro
/// middleware and Nuxt server middleware.
pub(super) fn collect(facts: &ProjectFacts) -> Vec<Middleware> {
    let mut out = Vec::new();
    for (fi, file) in facts.files().iter().enumerate() {
        if file.lang.is_none_or(|l| l.is_python()) {
            continue;
        }
        let path = file.path.as_str();
        let (framework, routes, entry) = if let Some(root) = root_of(path, "src/hooks.server.") {
            (Framework::SvelteKit, format!("{root}src/routes/"), "handle")
        } else if let Some(root) =
            root_of(path, "src/middleware.").or_else(|| root_of(path, "src/middleware/index."))
        {
            (Framework::Astro, format!("{root}src/pages/"), "onRequest")
        } else if let Some(root) = nuxt_middleware_root(path) {
            for function in event_handlers(file) {
                out.push(Middleware {
                    framework: Framework::Nuxt,
                    routes: format!("{root}server/"),
                    function: FnRef { file: fi, function },
                    label: "server middleware".into(),
                });
            }
            continue;
        } else {
            continue;
        };
        for function in functions_named(facts, fi, entry, 0) {
            out.push(Middleware {
                framework,
                routes: routes.clone(),
                function,
                label: entry.to_string(),
            });
        }
    }
    out
}

/// The folder before `marker` when the path's file is `marker` + a script
/// extension (`web/src/hooks.server.ts` → `web/`).
fn root_of(path: &str, marker: &str) -> Option<String> {
    let at = path.find(marker)?;
    if at > 0 && !path[..at].ends_with('/') {
        return None;
    }
    let ext = &path[at + marker.len()..];
    matches!(ext, "ts" | "js" | "mts" | "mjs").then(|| path[..at].to_string())
}

fn nuxt_middleware_root(path: &str) -> Option<String> {
    let at = path.find("server/middleware/")?;
    if at > 0 && !path[..at].ends_with('/') {
        return None;
    }
    let ext = path.rsplit_once('.')?.1;
    matches!(ext, "ts" | "js" | "mts" | "mjs").then(|| path[..at].to_string())
}

/// Is `callee` Nitro's / h3's handler maker (`defineEventHandler`,
/// `eventHandler`, `defineCachedEventHandler`)?
pub(super) fn is_event_handler(callee: &str) -> bool {
    let last = callee.rsplit('.').next().unwrap_or(callee);
    last.ends_with("EventHandler") || last == "eventHandler"
}

/// The handler functions given to top-level `defineEventHandler(…)` calls:
/// the function argument, or the `handler` of the object form
/// (`defineEventHandler({ onRequest: [...], handler })`).
pub(super) fn event_handlers(file: &FileFacts) -> Vec<usize> {
    let mut out = Vec::new();
    for c in file
        .calls
        .iter()
        .filter(|c| c.in_function.is_none() && is_event_handler(&c.callee))
    {
        if let Some(f) = c.args.iter().find_map(|a| a.function) {
            out.push(f);
        } else if let Some(f) = object_handler(file, c) {
            out.push(f);
        }
    }
    out
}

/// The `handler` function of `defineEventHandler({ …, handler })`.
fn object_handler(file: &FileFacts, call: &Call) -> Option<usize> {
    let key = format!("{}.handler", call.callee);
    let arg = call.args.first()?;
    file.functions
        .iter()
        .position(|f| {
            f.parent.is_none() && f.line >= arg.line && f.property.as_deref() == Some(&key)
        })
        .or_else(|| {
            // `{ handler }` / `{ handler: chat }`: a function of the file.
            let value = arg.pairs.iter().find(|(k, _)| k == "handler")?.1.trim();
            file.functions
                .iter()
                .position(|f| f.parent.is_none() && f.name == value)
        })
}

/// The `onRequest` hooks of a Nuxt route's object-form handler, as
/// functions (`defineEventHandler({ onRequest: [requireUser], handler })`).
pub(super) fn route_hooks(facts: &ProjectFacts, e: &Endpoint) -> Vec<FnRef> {
    let file = facts.file(e.file);
    let Some(h) = e.handler else {
        return Vec::new();
    };
    let Some(call) = file.calls.iter().find(|c| {
        c.in_function.is_none()
            && is_event_handler(&c.callee)
            && object_handler(file, c) == Some(h.function)
    }) else {
        return Vec::new();
    };
    let Some(arg) = call.args.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in &arg.pairs {
        if key != "onRequest" {
            continue;
        }
        let value = value.trim().trim_start_matches('[').trim_end_matches(']');
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let found = functions_named(facts, e.file, name, 0);
            if found.is_empty() {
                out.extend(server_util(facts, &file.path, name));
            } else {
                out.extend(found);
            }
        }
    }
    out
}

/// A function Nuxt auto-imports into server code: exported by a file of
/// the app's `server/utils/` (`rateLimiter` used without an import).
fn server_util(facts: &ProjectFacts, route: &str, name: &str) -> Option<FnRef> {
    let root = &route[..route.find("server/")?];
    let utils = format!("{root}server/utils/");
    facts.files().iter().enumerate().find_map(|(fi, f)| {
        if !f.path.starts_with(&utils) {
            return None;
        }
        let function = f
            .functions
            .iter()
            .position(|x| x.exported && x.parent.is_none() && x.name == name)?;
        Some(FnRef { file: fi, function })
    })
}

/// The functions a name of file `fi` stands for: a function of that
/// name, the function(s) given to the call it is assigned
/// (`defineMiddleware(fn)`, `sequence(a, b)`), another name it is
/// assigned, or what an import of it resolves to.
fn functions_named(facts: &ProjectFacts, fi: usize, name: &str, depth: usize) -> Vec<FnRef> {
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if depth > 4 || !is_name {
        return Vec::new();
    }
    let file = facts.file(fi);
    if let Some(function) = file
        .functions
        .iter()
        .position(|f| f.parent.is_none() && f.name == name)
    {
        return vec![FnRef { file: fi, function }];
    }
    if let Some(a) = file
        .assignments
        .iter()
        .find(|a| a.in_function.is_none() && a.target == name)
    {
        let call = a.value_callee.as_ref().and_then(|callee| {
            file.calls
                .iter()
                .find(|c| c.in_function.is_none() && c.line == a.line && &c.callee == callee)
        });
        return match call {
            Some(call) => call
                .args
                .iter()
                .flat_map(|arg| match arg.function {
                    Some(function) => vec![FnRef { file: fi, function }],
                    None => functions_named(facts, fi, arg.text.trim(), depth + 1),
                })
                .collect(),
            None => functions_named(facts, fi, a.text.trim(), depth + 1),
        };
    }
    let Some(import) = file.import_of(name) else {
        return Vec::new();
    };
    let Some(target) = facts.resolve_import(fi, import) else {
        return Vec::new();
    };
    let wanted = import
        .name
        .as_deref()
        .filter(|n| *n != "default")
        .unwrap_or(name);
    let defined = facts.definition_file(target, wanted);
    functions_named(facts, defined, wanted, depth + 1)
}

/// The paths a line of a middleware function is reached for.
#[derive(Debug, Default, PartialEq)]
struct PathScope {
    /// Only these (prefix tests; `(path, exact)`), when any.
    only: Vec<(String, bool)>,
    /// Never these.
    except: Vec<(String, bool)>,
    /// A path test aiguard cannot read: covers nothing.
    unknown: bool,
    /// Only these request methods, when any (`request.method === "POST"`).
    methods_only: Vec<String>,
    /// Never these (`!["GET", "HEAD"].includes(request.method)`).
    methods_except: Vec<String>,
}

impl PathScope {
    fn covers(&self, path: &str, method: &str) -> bool {
        // `ANY` routes answer every method: a method test leaves some out.
        let method_ok = if self.methods_only.is_empty() && self.methods_except.is_empty() {
            true
        } else if matches!(method, "ANY" | "ALL") {
            false
        } else {
            (self.methods_only.is_empty() || self.methods_only.iter().any(|m| m == method))
                && !self.methods_except.iter().any(|m| m == method)
        };
        method_ok && self.covers_path(path)
    }

    fn covers_path(&self, path: &str) -> bool {
        let hit = |(p, exact): &(String, bool)| {
            if *exact {
                path == p
            } else {
                path.starts_with(p.as_str())
            }
        };
        !self.unknown
            && (self.only.is_empty() || self.only.iter().any(hit))
            && !self.except.iter().any(hit)
    }

    /// `only` / `except` reads as prefixes to show: `/api…`.
    fn describe(&self) -> String {
        let show = |list: &[(String, bool)]| {
            list.iter()
                .map(|(p, exact)| if *exact { p.clone() } else { format!("{p}…") })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let paths = match (self.only.is_empty(), self.except.is_empty()) {
            (true, true) => "every path".into(),
            (false, true) => show(&self.only),
            (true, false) => format!("every path but {}", show(&self.except)),
            (false, false) => format!("{} but {}", show(&self.only), show(&self.except)),
        };
        if !self.methods_only.is_empty() {
            format!("{paths}, {} only", self.methods_only.join("/"))
        } else if !self.methods_except.is_empty() {
            format!("{paths}, not {}", self.methods_except.join("/"))
        } else {
            paths
        }
    }
}

/// A path test in a condition: `pathname.startsWith("/api")`,
/// `url.pathname === "/chat"`, `event.path.startsWith('/api/')`,
/// `route.id?.startsWith("/(app)")`: (negated, path, exact).
fn path_tests(condition: &str) -> (Vec<(bool, String, bool)>, bool) {
    static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(!\s*)?[\w$.?]*\b(?:pathname|path|url|id)\s*\??\.\s*startsWith\(\s*["'`]([^"'`]+)["'`]"#)
            .expect("static regex")
    });
    static EXACT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"\b(?:pathname|path)\s*(===|==|!==|!=)\s*["'`]([^"'`]+)["'`]"#)
            .expect("static regex")
    });
    static MENTIONS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"\b(?:pathname|route\.id|url\.href|event\.path|routePath)\b|\.includes\(\s*["'`]/"#,
        )
        .expect("static regex")
    });
    // `${base}/api`: SvelteKit's base path, empty unless configured.
    let bare = |p: &str| match p.strip_prefix("${") {
        Some(rest) => rest.split_once('}').map_or(p, |(_, r)| r).to_string(),
        None => p.to_string(),
    };
    let mut tests = Vec::new();
    for c in PREFIX.captures_iter(condition) {
        tests.push((c.get(1).is_some(), bare(&c[2]), false));
    }
    for c in EXACT.captures_iter(condition) {
        tests.push((c[1].starts_with('!'), bare(&c[2]), true));
    }
    let unreadable = tests.is_empty() && MENTIONS.is_match(condition);
    (tests, unreadable)
}

/// A method test in a condition: `request.method === "POST"`,
/// `!["GET", "HEAD"].includes(event.request.method)`: (negated, method).
fn method_tests(condition: &str) -> Vec<(bool, String)> {
    static LIST: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(!\s*)?\[([^\]]*)\]\s*\.includes\(\s*[\w$.?]*\bmethod\s*\)"#)
            .expect("static regex")
    });
    static COMPARE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"\bmethod\s*(===|==|!==|!=)\s*["'`]([A-Za-z]+)["'`]"#).expect("static regex")
    });
    let mut out = Vec::new();
    for c in LIST.captures_iter(condition) {
        for m in c[2].split(',') {
            let m = m.trim().trim_matches(['"', '\'', '`']);
            if !m.is_empty() {
                out.push((c.get(1).is_some(), m.to_uppercase()));
            }
        }
    }
    for c in COMPARE.captures_iter(condition) {
        out.push((c[1].starts_with('!'), c[2].to_uppercase()));
    }
    out
}

/// Does a guard body only pass the request on (`return resolve(event)`,
/// `return next()`, a bare `return`)?
fn passes_on(body: &str) -> bool {
    let b: String = body.split_whitespace().collect();
    let b = b
        .trim_start_matches('{')
        .trim_end_matches('}')
        .trim_end_matches(';');
    b == "return"
        || b.starts_with("returnresolve(")
        || b.starts_with("returnnext(")
        || b.starts_with("returnawaitresolve(")
        || b.starts_with("returnawaitnext(")
}

/// Locals of middleware function `f` assigned a path test
/// (`const isApi = url.pathname.startsWith("/api")`), with their value.
fn path_locals(file: &FileFacts, f: usize) -> Vec<(&str, &str)> {
    file.assignments
        .iter()
        .filter(|a| a.in_function.is_some_and(|af| file.is_within(af, f)))
        .filter(|a| {
            a.target
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        })
        .filter(|a| {
            let (tests, unknown) = path_tests(&a.text);
            !tests.is_empty() || unknown
        })
        .map(|a| (a.target.as_str(), a.text.as_str()))
        .collect()
}

/// The paths for which line `line` of middleware function `f` runs.
fn scope_at(file: &FileFacts, f: usize, line: u32) -> PathScope {
    let mut scope = PathScope::default();
    for g in file
        .guards
        .iter()
        .filter(|g| g.function.is_some_and(|gf| file.is_within(gf, f)))
    {
        let (mut tests, mut unreadable) = path_tests(&g.condition);
        // `const isProtected = pathname.startsWith("/app"); if (isProtected
        // && !session)`: the tests of the local the condition names.
        for (name, value) in path_locals(file, f) {
            let Ok(named) = Regex::new(&format!(r"(!\s*)?\b{}\b", regex::escape(name))) else {
                continue;
            };
            if let Some(m) = named.captures(&g.condition) {
                let negated = m.get(1).is_some();
                let (inner, unknown) = path_tests(value);
                unreadable |= unknown;
                tests.extend(inner.into_iter().map(|(n, p, e)| (n != negated, p, e)));
            }
        }
        let methods = method_tests(&g.condition);
        let around = g.line <= line && line <= g.end_line;
        let before = g.end_line < line && passes_on(&g.body);
        if around {
            // The call runs when the condition holds.
            scope.unknown |= unreadable;
            for (negated, p, exact) in tests {
                if negated {
                    scope.except.push((p, exact));
                } else {
                    scope.only.push((p, exact));
                }
            }
            for (negated, m) in methods {
                if negated {
                    scope.methods_except.push(m);
                } else {
                    scope.methods_only.push(m);
                }
            }
        } else if before {
            // Earlier paths that leave: the call runs when it fails.
            scope.unknown |= unreadable;
            for (negated, p, exact) in tests {
                if negated {
                    scope.only.push((p, exact));
                } else {
                    scope.except.push((p, exact));
                }
            }
            for (negated, m) in methods {
                if negated {
                    scope.methods_only.push(m);
                } else {
                    scope.methods_except.push(m);
                }
            }
        }
    }
    scope
}

/// Calls in middleware function `f`, nested functions included.
fn calls_in<'f>(file: &'f FileFacts, f: usize) -> impl Iterator<Item = &'f Call> + 'f {
    file.calls
        .iter()
        .filter(move |c| c.in_function.is_some_and(|cf| file.is_within(cf, f)))
}

/// Reject words that say "forbidden" rather than "who are you".
const FORBIDDEN: [&str; 3] = ["403", "FORBIDDEN", "Forbidden"];

/// The lines of `f` where it rejects a request without a user, with what.
fn auth_lines(cx: &AuthContext<'_>, f: FnRef) -> Vec<(u32, String)> {
    let facts = cx.facts;
    let file = facts.file(f.file);
    let spec = &cx.spec;
    let handed = handoffs(facts, f);
    let mut out = Vec::new();
    for c in calls_in(file, f.function) {
        let name = last(&c.callee);
        // Under a condition on the user or session.
        let about_user = file.guards.iter().any(|g| {
            g.function.is_some_and(|gf| file.is_within(gf, f.function))
                && g.line <= c.line
                && c.line <= g.end_line
                && {
                    let cond = g.condition.to_lowercase();
                    spec.user_condition_words
                        .iter()
                        .any(|w| cond.contains(w.as_str()))
                }
        });
        // 401 is about the user; a 403 may be a CSRF or origin check,
        // so it counts under a condition on the user.
        let status = |exact: bool| {
            c.args.iter().any(|a| {
                spec.reject_words.iter().any(|w| {
                    let hit = if exact {
                        a.text.trim() == w.as_str()
                    } else {
                        a.text.contains(w.as_str())
                    };
                    hit && (about_user || !FORBIDDEN.contains(&w.as_str()))
                })
            })
        };
        let answers_401 =
            (spec.is_reject_call(name) || c.callee == "error" || name == "createError")
                && status(false);
        let resolved = facts.resolve_call(f.file, c);
        // A hand-off is judged by its own lines (see `steps_of`).
        if resolved.is_some_and(|g| handed.iter().any(|(h, _)| *h == g)) {
            continue;
        }
        // Not the generic auth helpers (`AuthContext::rejecting`): a
        // function that rejects a bad token somewhere also runs, unchecked,
        // in front of the login page. Middleware must reject here.
        let helper = named(&spec.self_checking_calls, &c.callee);
        // `errorResponse(401, "Unauthorized")`: a project function given
        // the status, that answers with it (`new Response(…, { status })`).
        let answers_given = resolved.is_some_and(|r| {
            let file = facts.file(r.file);
            file.calls.iter().any(|rc| {
                rc.in_function
                    .is_some_and(|rf| file.is_within(rf, r.function))
                    && spec.is_reject_call(last(&rc.callee))
            })
        }) && status(true);
        let redirects = matches!(name, "redirect" | "sendRedirect" | "navigateTo") && about_user;
        if answers_401 || answers_given || helper || redirects {
            let what = if redirects {
                format!("redirects ({}) without a user", c.callee)
            } else if helper || answers_given {
                let status = c.args.first().map_or("", |a| a.text.as_str());
                format!("calls {}({status}…)", c.callee)
            } else {
                format!("rejects with {}(…401/403…)", c.callee)
            };
            out.push((c.line, what));
        }
    }
    out
}

/// Auth evidence for the endpoints the middleware of the project covers.
pub(super) fn declared_auth(cx: &AuthContext<'_>, endpoints: &mut [&mut Endpoint]) {
    let facts = cx.facts;
    let middleware = collect(facts);
    for e in endpoints.iter_mut() {
        let path = facts.file(e.file).path.clone();
        let mut found = Vec::new();
        for mw in middleware
            .iter()
            .filter(|m| m.framework == e.framework && path.starts_with(&m.routes))
        {
            'steps: for step in steps_of(facts, mw.function) {
                let file = facts.file(step.function.file);
                for (line, what) in auth_lines(cx, step.function) {
                    if step_covers(facts, &step, line, e) {
                        let scope = scope_at(file, step.function.function, line);
                        found.push(AuthEvidence {
                            kind: AuthKind::Enforced,
                            how: format!(
                                "{}{} in {}:{line} {what} (covers {})",
                                who(facts, &mw.label, mw.function),
                                via(facts, &step),
                                file.path,
                                scope.describe()
                            ),
                            line: e.line,
                        });
                        break 'steps;
                    }
                }
            }
        }
        for hook in route_hooks(facts, e) {
            if let Some((line, what)) = auth_lines(cx, hook).into_iter().next() {
                found.push(AuthEvidence {
                    kind: AuthKind::Enforced,
                    how: format!(
                        "{} ({}:{line}) {what}",
                        who(facts, "onRequest hook", hook),
                        facts.file(hook.file).path
                    ),
                    line: e.line,
                });
            }
        }
        e.auth.extend(found);
    }
}

/// ` → handleRequest` for a hand-off, nothing for the middleware itself.
fn via(facts: &ProjectFacts, step: &Step) -> String {
    if step.outer.is_empty() {
        String::new()
    } else {
        format!(" → {}", facts.function(step.function).shown_name())
    }
}

/// How evidence names a middleware function: its label, and its name
/// unless it is anonymous (`handle `guard``, `onRequest`).
fn who(facts: &ProjectFacts, label: &str, f: FnRef) -> String {
    let function = facts.function(f);
    match function.shown_name() {
        n if n.starts_with('<') => label.to_string(),
        n => format!("{label} `{n}`"),
    }
}

/// The lines of `f` that limit the request, with the limit they apply.
fn limit_lines(
    scope: &LimitScope<'_>,
    limit_calls: &std::collections::HashMap<FnRef, crate::facts::Chain>,
    f: FnRef,
) -> Vec<(u32, Limit)> {
    let facts = scope.facts;
    let spec = &scope.catalog.rate_limit;
    let mut out = Vec::new();
    let handed = handoffs(facts, f);
    let through_handoff = |chain: &crate::facts::Chain| {
        chain
            .functions
            .get(1)
            .is_some_and(|g| handed.iter().any(|(h, _)| h == g))
    };
    if let Some(chain) = limit_calls.get(&f).filter(|c| !through_handoff(c)) {
        let call = facts.call(chain.call);
        let maker = limiter_file(facts, chain.call);
        let text = window_spec(facts.file(maker), spec);
        let line = line_in(facts, f, chain).unwrap_or(call.line);
        out.push((
            line,
            Limit {
                how: format!("{}()", call.callee),
                file: f.file,
                line,
                windows: parse_windows(&text),
                spec: text,
            },
        ));
    }
    if let Some(l) = scope
        .counters
        .reaching
        .get(&f)
        .filter(|chain| !through_handoff(chain))
        .and_then(|chain| scope.counters.of_chain(chain).map(|l| (chain, l)))
    {
        let (chain, limiter) = l;
        let limit = limiter.limit(facts);
        out.push((line_in(facts, f, chain).unwrap_or(limit.line), limit));
    }
    out
}

/// The line in `f` where `chain` starts: its call, or the call to the
/// chain's next function.
fn line_in(facts: &ProjectFacts, f: FnRef, chain: &crate::facts::Chain) -> Option<u32> {
    match chain.functions.get(1) {
        None => Some(facts.call(chain.call).line),
        Some(next) => {
            let file = facts.file(f.file);
            calls_in(file, f.function)
                .find(|c| facts.resolve_call(f.file, c) == Some(*next))
                .map(|c| c.line)
        }
    }
}

/// A step of a middleware with the lines where it limits.
type StepLimits = (Step, Vec<(u32, Limit)>);

/// Rate limits for the endpoints the middleware of the project covers.
pub(super) fn limits(scope: &LimitScope<'_>, endpoints: &mut [&mut Endpoint]) {
    let facts = scope.facts;
    let middleware = collect(facts);
    let limit_calls = limit_call_functions(facts, &scope.catalog.rate_limit);
    let per_middleware: Vec<Vec<StepLimits>> = middleware
        .iter()
        .map(|m| {
            steps_of(facts, m.function)
                .into_iter()
                .map(|step| {
                    let lines = limit_lines(scope, &limit_calls, step.function);
                    (step, lines)
                })
                .collect()
        })
        .collect();
    for e in endpoints.iter_mut() {
        let path = facts.file(e.file).path.clone();
        let mut found = Vec::new();
        for (mw, steps) in middleware.iter().zip(&per_middleware) {
            if mw.framework != e.framework || !path.starts_with(&mw.routes) {
                continue;
            }
            for (step, lines) in steps {
                let file = facts.file(step.function.file);
                for (line, limit) in lines {
                    if step_covers(facts, step, *line, e) {
                        let covered = scope_at(file, step.function.function, *line);
                        let mut limit = limit.clone();
                        limit.how = format!(
                            "{}{} in {}:{line} calls {} (covers {})",
                            who(facts, &mw.label, mw.function),
                            via(facts, step),
                            file.path,
                            limit.how,
                            covered.describe()
                        );
                        found.push(limit);
                    }
                }
            }
        }
        for hook in route_hooks(facts, e) {
            for (line, mut limit) in limit_lines(scope, &limit_calls, hook) {
                limit.how = format!(
                    "{} ({}:{line}) calls {}",
                    who(facts, "onRequest hook", hook),
                    facts.file(hook.file).path,
                    limit.how
                );
                found.push(limit);
            }
        }
        e.limits.extend(found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_tests_in_conditions() {
        let (t, unknown) =
            path_tests("event.url.pathname.startsWith('/api') && !event.locals.user");
        assert_eq!(t, vec![(false, "/api".to_string(), false)]);
        assert!(!unknown);
        let (t, _) = path_tests("!context.url.pathname.startsWith(\"/api/\")");
        assert_eq!(t, vec![(true, "/api/".to_string(), false)]);
        let (t, _) = path_tests("!event.url.pathname.startsWith(`${base}/login`)");
        assert_eq!(t, vec![(true, "/login".to_string(), false)]);
        let (t, _) = path_tests("url.pathname === '/chat'");
        assert_eq!(t, vec![(false, "/chat".to_string(), true)]);
        let (t, unknown) = path_tests("PROTECTED.some((p) => event.url.pathname.startsWith(p))");
        assert!(t.is_empty() && unknown);
        let (t, unknown) = path_tests("!session");
        assert!(t.is_empty() && !unknown);
    }

    #[test]
    fn scopes_cover_paths() {
        let only = PathScope {
            only: vec![("/api".into(), false)],
            ..PathScope::default()
        };
        assert!(only.covers_path("/api/chat") && !only.covers_path("/about"));
        let except = PathScope {
            except: vec![("/api/public".into(), false)],
            ..PathScope::default()
        };
        assert!(except.covers_path("/api/chat") && !except.covers_path("/api/public/x"));
        let unknown = PathScope {
            unknown: true,
            ..PathScope::default()
        };
        assert!(!unknown.covers_path("/api/chat"));
        let not_get = PathScope {
            methods_except: vec!["GET".into(), "HEAD".into()],
            ..PathScope::default()
        };
        assert!(not_get.covers("/api/chat", "POST") && !not_get.covers("/api/chat", "GET"));
        assert!(!not_get.covers("/api/chat", "ANY"));
        assert_eq!(
            method_tests(
                "loginEnabled && !user && ![\"GET\", \"OPTIONS\"].includes(event.request.method)"
            ),
            vec![(true, "GET".to_string()), (true, "OPTIONS".to_string())]
        );
        assert_eq!(
            method_tests("request.method === 'POST'"),
            vec![(false, "POST".to_string())]
        );
        assert!(passes_on("{ return resolve(event); }"));
        assert!(passes_on("return next()"));
        assert!(!passes_on("{ throw error(401, 'no'); }"));
    }
}
