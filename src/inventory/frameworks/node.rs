//! Express, Hono, Fastify and itty-router: routes are calls on app and router objects
//! (`app.post("/chat", mw, handler)`), mounted with `app.use("/api",
//! router)`, `app.route("/api", sub)` or `fastify.register(plugin, …)`.
//! Limits: limiter middleware on the route or on its object
//! (`app.use(limiter)`, `app.use("/api", limiter)`), Fastify's
//! `register(rateLimit)`. Auth: auth middleware on the route or its object.

use std::collections::HashMap;

use super::{covering_uses, unquote, Family, Framework, HTTP_METHODS};
use crate::facts::{Arg, Call, Chain, FileFacts, FnRef};
use crate::inventory::auth::{last, named, AuthContext};
use crate::inventory::limits::{limit_call_functions, parse_windows, sdk_limits_at, LimitScope};
use crate::inventory::{AuthEvidence, AuthKind, Endpoint, Limit, Misuse};

pub struct Node;

const FRAMEWORKS: &[Framework] = &[
    Framework::Express,
    Framework::Hono,
    Framework::Fastify,
    Framework::IttyRouter,
];

/// Fastify's rate-limit plugin: `fastify.register(rateLimit, {…})`.
const FASTIFY_RATE_LIMIT: &str = "@fastify/rate-limit";

impl Family for Node {
    fn frameworks(&self) -> &'static [Framework] {
        FRAMEWORKS
    }

    fn qualify(&self, module: &str, name: &str) -> Option<String> {
        (module == "express").then(|| format!("express.{name}"))
    }

    fn app_constructor(&self, callee: &str, module: Option<&str>) -> Option<Framework> {
        let last = callee.rsplit('.').next().unwrap_or(callee);
        match (last, module) {
            ("Hono" | "OpenAPIHono", _) => Some(Framework::Hono),
            // itty-router on Cloudflare Workers (`AutoRouter()`, `Router()`).
            ("Router" | "AutoRouter" | "IttyRouter", Some("itty-router")) => {
                Some(Framework::IttyRouter)
            }
            ("Router", Some("express")) | ("express", _) => Some(Framework::Express),
            ("Fastify" | "fastify", _) => Some(Framework::Fastify),
            ("Router", _) if callee == "express.Router" => Some(Framework::Express),
            _ => None,
        }
    }

    fn endpoints(
        &self,
        index: usize,
        file: &FileFacts,
        apps: &HashMap<String, Framework>,
        out: &mut Vec<Endpoint>,
    ) {
        if file.lang.is_none_or(|l| l.is_python()) {
            return;
        }
        for call in &file.calls {
            let Some((object, method)) = call.callee.rsplit_once('.') else {
                continue;
            };
            let Some(&framework) = apps.get(object) else {
                continue;
            };
            if !FRAMEWORKS.contains(&framework) || !HTTP_METHODS.contains(&method) {
                continue;
            }
            let Some(path) = call.args.first().and_then(|a| unquote(&a.text)) else {
                continue;
            };
            let handler = call.args.last().and_then(|a| {
                a.function
                    .or_else(|| file.function_named(&a.text))
                    .map(|function| FnRef {
                        file: index,
                        function,
                    })
            });
            let mut e = Endpoint::new(
                framework,
                method.to_uppercase(),
                path,
                index,
                call.line,
                handler,
                object,
            );
            // Between the path and the handler; none with one argument
            // (`app.get("env")` reads an Express setting: it panicked here).
            // An array of middleware (`[validatedRequest, role([ADMIN])]`)
            // is its elements.
            e.middleware = call
                .args
                .get(1..call.args.len().saturating_sub(1))
                .unwrap_or_default()
                .iter()
                .flat_map(|a| route_hooks(&a.text))
                .collect();
            out.push(e);
        }
    }

    fn mount<'c>(&self, call: &'c Call) -> Option<(&'c Arg, String)> {
        let last = call.callee.rsplit('.').next().unwrap_or("");
        if !matches!(last, "use" | "route" | "register") || call.args.len() < 2 {
            return None;
        }
        let prefix = call.args.first().and_then(|a| unquote(&a.text))?;
        Some((call.args.get(1)?, prefix))
    }

    fn limits(
        &self,
        scope: &LimitScope<'_>,
        endpoints: &mut [&mut Endpoint],
        _misuse: &mut Vec<Misuse>,
    ) {
        let sdk = limit_call_functions(scope.facts, &scope.catalog.rate_limit);
        for e in endpoints.iter_mut() {
            route_limits(e, scope, &sdk);
        }
    }

    fn declared_auth(&self, cx: &AuthContext<'_>, endpoints: &mut [&mut Endpoint]) {
        for e in endpoints.iter_mut() {
            let is_auth = |text: &str| {
                let name = text.split('(').next().unwrap_or(text);
                named(&cx.spec.js_middleware, name) || cx.rejecting.contains(last(name))
            };
            let mut out = Vec::new();
            for m in e.middleware.iter().filter(|m| is_auth(m)) {
                out.push(AuthEvidence {
                    kind: AuthKind::Enforced,
                    how: format!("route middleware {m}"),
                    line: e.line,
                });
            }
            for (fi, call, _, rest) in covering_uses(cx.facts, e, &["use"]) {
                // On the router passed in from another file: say where.
                let at = if fi == e.file {
                    String::new()
                } else {
                    format!(" ({}:{})", cx.facts.file(fi).path, call.line)
                };
                // Also middleware made per request inside a wrapper, to
                // read the Workers env: `(c, next) => bearerAuth({ token:
                // c.env.TOKEN })(c, next)`.
                let wrapped = |a: &crate::facts::Arg| {
                    let f = a.function?;
                    cx.facts.file(fi).calls.iter().find_map(|c| {
                        (c.in_function == Some(f) && is_auth(&c.callee))
                            .then(|| format!("{}(…)", c.callee.trim_end_matches("()")))
                    })
                };
                for a in rest {
                    let Some(what) = is_auth(&a.text)
                        .then(|| a.text.clone())
                        .or_else(|| wrapped(a))
                    else {
                        continue;
                    };
                    out.push(AuthEvidence {
                        kind: AuthKind::Enforced,
                        how: format!("{}({what}){at}", call.callee),
                        line: if fi == e.file { call.line } else { e.line },
                    });
                }
            }
            if e.framework == Framework::Fastify {
                out.extend(fastify_hook_auth(cx, e, &is_auth));
            }
            e.auth.extend(out);
        }
    }
}

/// Fastify request hooks on the route's instance (`fastify.addHook("onRequest",
/// authenticate)`, or a hook function that calls `request.jwtVerify()` or
/// rejects with 401): they run before every route of that instance.
fn fastify_hook_auth(
    cx: &AuthContext<'_>,
    e: &Endpoint,
    is_auth: &dyn Fn(&str) -> bool,
) -> Vec<AuthEvidence> {
    let own = (e.file, e.object.as_str());
    let passed = e.mounted_on.as_ref().map(|(f, o)| (*f, o.as_str()));
    let mut out = Vec::new();
    for (fi, name) in std::iter::once(own).chain(passed) {
        let file = cx.facts.file(fi);
        for call in &file.calls {
            let Some((object, "addHook")) = call.callee.rsplit_once('.') else {
                continue;
            };
            let hook = call.args.first().and_then(|a| unquote(&a.text));
            if object != name
                || !hook
                    .as_ref()
                    .is_some_and(|h| ROUTE_HOOKS.contains(&h.as_str()))
            {
                continue;
            }
            let Some(f) = call.args.get(1) else { continue };
            let checks_inside = f.function.is_some_and(|g| {
                file.calls.iter().any(|c| {
                    c.in_function.is_some_and(|h| file.is_within(h, g))
                        && (named(&cx.spec.self_checking_calls, &c.callee)
                            || cx.rejecting.contains(last(&c.callee)))
                }) || cx.rejecting.contains(last(&file.functions[g].name))
            });
            if is_auth(&f.text) || checks_inside {
                out.push(AuthEvidence {
                    kind: AuthKind::Enforced,
                    how: format!("{}(\"{}\", …)", call.callee, hook.unwrap_or_default()),
                    line: if fi == e.file { call.line } else { e.line },
                });
            }
        }
    }
    out
}

fn route_limits(e: &mut Endpoint, scope: &LimitScope<'_>, sdk: &HashMap<FnRef, Chain>) {
    let facts = scope.facts;
    // A limiter variable of file `fi` (or one imported from a project file).
    let is_limiter = |fi: usize, name: &str| {
        let file = facts.file(fi);
        scope.per_file[fi].js.contains(&name)
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
    let mut found = Vec::new();
    // The project's own limiter as route middleware or on the router.
    let project = |text: &str| {
        scope
            .counters
            .named(text)
            .map(|l| (l.windows.clone(), l.spec(facts)))
    };
    // A middleware function that checks a limiter SDK (`arcjetMiddleware`
    // calling `aj.protect(req)`, a wrapper around `limiter.consume(ip)`).
    let sdk_limit = |fi: usize, text: &str, function: Option<usize>| {
        let f = match function {
            Some(function) => Some(FnRef { file: fi, function }),
            None => {
                let call = Call {
                    callee: text.split('(').next().unwrap_or(text).trim().to_string(),
                    ..Call::default()
                };
                facts.resolve_call(fi, &call)
            }
        };
        let chain = sdk.get(&f?)?;
        sdk_limits_at(facts, chain.call, &scope.catalog.rate_limit)
    };
    for m in e.middleware.iter() {
        if let Some(mut l) = sdk_limit(e.file, m, None) {
            l.how = format!("route middleware {m}: {}", l.how);
            found.push(l);
        } else if let Some((windows, spec)) = project(m) {
            found.push(Limit {
                how: format!("project limiter {m} (route middleware)"),
                file: e.file,
                line: e.line,
                spec,
                windows,
            });
        }
    }
    for m in e.middleware.iter().filter(|m| {
        project(m).is_none() && sdk_limit(e.file, m, None).is_none() && is_limiter(e.file, m)
    }) {
        found.push(Limit {
            how: format!("route middleware {m}"),
            file: e.file,
            line: e.line,
            spec: m.clone(),
            windows: limiter_windows(facts.file(e.file), m),
        });
    }
    // `app.use(limiter)` / `app.use("/api", limiter)` on the route's object.
    for (fi, call, method, rest) in covering_uses(facts, e, &["use", "register"]) {
        let file = facts.file(fi);
        let object = call.callee.rsplit_once('.').map_or("", |(o, _)| o);
        for a in rest {
            // `register(rateLimit, { global: false })` limits only the
            // routes that ask for it (read from their options).
            let global = !rest
                .iter()
                .any(|o| o.text.replace(' ', "").contains("global:false"));
            let fastify_plugin = method == "register"
                && global
                && file
                    .import_of(&a.text)
                    .is_some_and(|i| i.module == FASTIFY_RATE_LIMIT);
            if let Some(mut l) = sdk_limit(fi, &a.text, a.function) {
                l.how = format!("{object}.{method}({}): {}", a.text, l.how);
                found.push(l);
            } else if let Some((windows, spec)) = project(&a.text) {
                found.push(Limit {
                    how: format!("project limiter {object}.{method}({})", a.text),
                    file: fi,
                    line: call.line,
                    spec,
                    windows,
                });
            } else if is_limiter(fi, &a.text) || fastify_plugin {
                found.push(Limit {
                    how: format!("{object}.{method}({})", a.text),
                    file: fi,
                    line: call.line,
                    spec: a.text.clone(),
                    windows: limiter_windows(file, &a.text),
                });
            }
        }
    }
    e.limits.extend(found);
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

/// The middleware of one argument between a route's path and its handler:
/// an array's elements, and a Fastify route options object's hooks
/// (`{ preHandler: aiRateLimit }`, `onRequest: [fastify.authenticate]`).
fn route_hooks(text: &str) -> Vec<String> {
    let t = text.trim();
    if !t.starts_with('{') {
        return array_elements(t);
    }
    let mut out = Vec::new();
    for hook in ROUTE_HOOKS {
        let mut rest = t;
        while let Some(at) = rest.find(hook) {
            rest = &rest[at + hook.len()..];
            let Some(value) = rest.trim_start().strip_prefix(':') else {
                continue;
            };
            let value = value.trim_start();
            let end = if value.starts_with('[') {
                value.find(']').map_or(value.len(), |i| i + 1)
            } else {
                value.find([',', '}']).unwrap_or(value.len())
            };
            out.extend(array_elements(value[..end].trim()));
        }
    }
    // `config: { rateLimit: { max: 5, timeWindow: "1 minute" } }`: the
    // route's own limit under @fastify/rate-limit, as a limiter call.
    if let Some(at) = t.find("rateLimit") {
        let value = t[at + "rateLimit".len()..].trim_start();
        if let Some(object) = value.strip_prefix(':').map(str::trim_start) {
            if object.starts_with('{') {
                let mut depth = 0;
                let end = object
                    .char_indices()
                    .find(|&(_, c)| {
                        match c {
                            '{' => depth += 1,
                            '}' => depth -= 1,
                            _ => {}
                        }
                        depth == 0
                    })
                    .map_or(object.len(), |(i, _)| i + 1);
                out.push(format!("rateLimit({})", &object[..end]));
            }
        }
    }
    out
}

/// Fastify's request hooks, which run before the handler.
const ROUTE_HOOKS: [&str; 3] = ["onRequest", "preValidation", "preHandler"];

/// The elements of an array literal (`[a, b(c, d)]` → `a`, `b(c, d)`), split
/// at top-level commas; any other text is itself.
fn array_elements(text: &str) -> Vec<String> {
    let Some(inner) = text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
    else {
        return vec![text.to_string()];
    };
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    for c in inner.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut current).trim().to_string());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current.trim().to_string());
    out.retain(|e| !e.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::array_elements;

    #[test]
    fn middleware_arrays_are_their_elements() {
        assert_eq!(
            array_elements("[validatedRequest, flexUserRoleValid([ROLES.admin, ROLES.manager])]"),
            vec![
                "validatedRequest",
                "flexUserRoleValid([ROLES.admin, ROLES.manager])"
            ]
        );
        assert_eq!(array_elements("requireAuth"), vec!["requireAuth"]);
        assert_eq!(array_elements("[]"), Vec::<String>::new());
    }

    #[test]
    fn fastify_route_options_give_their_hooks() {
        use super::route_hooks;
        assert_eq!(
            route_hooks("{ preHandler: aiRateLimit, schema: { body: {} } }"),
            vec!["aiRateLimit"]
        );
        assert_eq!(
            route_hooks("{ onRequest: [fastify.authenticate, audit], config: {} }"),
            vec!["fastify.authenticate", "audit"]
        );
        assert_eq!(route_hooks("{ schema: {} }"), Vec::<String>::new());
        assert_eq!(
            route_hooks("{ config: { rateLimit: { max: 5, timeWindow: \"1 minute\" } } }"),
            vec!["rateLimit({ max: 5, timeWindow: \"1 minute\" })"]
        );
        assert_eq!(route_hooks("requireAuth"), vec!["requireAuth"]);
    }
}
