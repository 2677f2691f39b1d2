//! Next.js: route handlers (`app/**/route.ts` exporting `POST`, …),
//! `pages/api/**` handlers and server actions (`"use server"` files), found
//! by file path and exports. Limits and auth: a `middleware.ts` /
//! `proxy.ts` whose matcher covers the route (rate limiting through a
//! limit-call or middleware library; auth through a middleware module of
//! `rules/protections.toml`, Clerk only where it calls `auth.protect()`).

use std::collections::HashMap;

use regex::Regex;

use super::{Family, Framework};
use crate::facts::{FileFacts, FnRef, ProjectFacts};
use crate::inventory::auth::{last, named, AuthContext};
use crate::inventory::limits::{parse_windows, sdk_call, sdk_limit, window_spec, LimitScope};
use crate::inventory::{AuthEvidence, AuthKind, Endpoint, Limit, Misuse};

pub struct Next;

const FRAMEWORKS: &[Framework] = &[
    Framework::NextApp,
    Framework::NextPages,
    Framework::ServerAction,
];

const ROUTE_METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

impl Family for Next {
    fn frameworks(&self) -> &'static [Framework] {
        FRAMEWORKS
    }

    fn endpoints(
        &self,
        index: usize,
        file: &FileFacts,
        _apps: &HashMap<String, Framework>,
        out: &mut Vec<Endpoint>,
    ) {
        if file.lang.is_none_or(|l| l.is_python()) {
            return;
        }
        let path = file.path.as_str();
        let name = path.rsplit('/').next().unwrap_or(path);
        let stem = name.split('.').next().unwrap_or(name);
        let exported = |(_, f): &(usize, &crate::facts::Function)| f.exported && f.parent.is_none();
        let handler = |function| {
            Some(FnRef {
                file: index,
                function,
            })
        };
        if stem == "route" {
            if let Some(route) = app_route_path(path) {
                for (fi, f) in file.functions.iter().enumerate().filter(exported) {
                    if ROUTE_METHODS.contains(&f.name.as_str()) {
                        out.push(Endpoint::new(
                            Framework::NextApp,
                            f.name.clone(),
                            route.clone(),
                            index,
                            f.line,
                            handler(fi),
                            "",
                        ));
                    }
                }
            }
        } else if let Some(api) = pages_api_path(path).filter(|_| {
            !super::is_astro_route(path)
                || !file
                    .functions
                    .iter()
                    .any(|f| f.exported && ROUTE_METHODS.contains(&f.name.as_str()))
        }) {
            if let Some(fi) = file
                .functions
                .iter()
                .position(|f| f.exported && f.parent.is_none())
            {
                let f = &file.functions[fi];
                out.push(Endpoint::new(
                    Framework::NextPages,
                    "ANY".into(),
                    api,
                    index,
                    f.line,
                    handler(fi),
                    "",
                ));
            }
        } else if file.has_directive("use server") {
            for (fi, f) in file
                .functions
                .iter()
                .enumerate()
                .filter(exported)
                .filter(|(_, f)| f.is_async)
            {
                out.push(Endpoint::new(
                    Framework::ServerAction,
                    "ACTION".into(),
                    f.name.clone(),
                    index,
                    f.line,
                    handler(fi),
                    "",
                ));
            }
        }
    }

    fn limits(
        &self,
        scope: &LimitScope<'_>,
        endpoints: &mut [&mut Endpoint],
        _misuse: &mut Vec<Misuse>,
    ) {
        let middlewares = limiting_middleware(scope);
        for e in endpoints.iter_mut() {
            for (mw_file, patterns, limit) in &middlewares {
                if covers(scope.facts, *mw_file, patterns, e) {
                    e.limits.push(limit.clone());
                }
            }
        }
    }

    fn declared_auth(&self, cx: &AuthContext<'_>, endpoints: &mut [&mut Endpoint]) {
        let middleware = auth_middleware(cx);
        for e in endpoints.iter_mut() {
            for (mw, matchers) in &middleware {
                if covers(cx.facts, *mw, matchers, e) {
                    e.auth.push(AuthEvidence {
                        kind: AuthKind::Enforced,
                        how: format!(
                            "{} (auth on a matcher covering the route)",
                            cx.facts.file(*mw).path
                        ),
                        line: 1,
                    });
                }
            }
        }
    }
}

/// Does the middleware file `mw` apply to the endpoint: it sits at the root
/// of the endpoint's app (beside `app/` or `src/`) and a matcher (or none)
/// covers its path?
fn covers(facts: &ProjectFacts, mw: usize, matchers: &[Matcher], e: &Endpoint) -> bool {
    let root = facts
        .file(mw)
        .path
        .rsplit_once('/')
        .map(|(d, _)| d.trim_end_matches("/src").to_string())
        .unwrap_or_default();
    let in_app = root.is_empty() || facts.file(e.file).path.starts_with(&format!("{root}/"));
    in_app && (matchers.is_empty() || matchers.iter().any(|m| m.is_match(&e.path)))
}

/// The project's `middleware.*` / `proxy.*` files (JS/TS).
fn middleware_files(facts: &ProjectFacts) -> impl Iterator<Item = (usize, &FileFacts)> {
    facts.files().iter().enumerate().filter(|(_, file)| {
        let name = file.path.rsplit('/').next().unwrap_or(&file.path);
        let stem = name.split('.').next().unwrap_or(name);
        matches!(stem, "middleware" | "proxy") && file.lang.is_some_and(|l| !l.is_python())
    })
}

/// The `config = { matcher: … }` of a middleware file.
fn config_matchers(file: &FileFacts) -> Vec<Matcher> {
    file.assignments
        .iter()
        .find(|a| a.target == "config")
        .map(|a| parse_matchers(&a.text))
        .unwrap_or_default()
}

/// Middleware files that limit, with their matchers.
fn limiting_middleware(scope: &LimitScope<'_>) -> Vec<(usize, Vec<Matcher>, Limit)> {
    let spec = &scope.catalog.rate_limit;
    let mut out = Vec::new();
    for (fi, file) in middleware_files(scope.facts) {
        let limits = file.imports.iter().any(|i| {
            spec.js_limit_calls.contains(&i.module) || spec.js_middleware.contains(&i.module)
        }) && file.calls.iter().any(|c| {
            // A limiter SDK's check (Arcjet `aj.protect(req)` or
            // `createMiddleware(aj)` with a window rule), or a limit call.
            match sdk_call(scope.facts, fi, c, spec) {
                Some(sdk) => sdk_limit(scope.facts, fi, c, &sdk, spec).is_some(),
                None => c.callee.ends_with(".limit") || c.callee.to_lowercase().contains("limit"),
            }
        });
        if !limits {
            continue;
        }
        let matchers = config_matchers(file);
        let spec_text = window_spec(file, spec);
        let limit = Limit {
            how: format!(
                "{} (matcher {})",
                file.path,
                if matchers.is_empty() {
                    "all routes"
                } else {
                    "covers the route"
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

/// Middleware files that authenticate, with the matchers they protect.
fn auth_middleware(cx: &AuthContext<'_>) -> Vec<(usize, Vec<Matcher>)> {
    let spec = &cx.spec;
    let mut out = Vec::new();
    for (fi, file) in middleware_files(cx.facts) {
        let uses_auth = file
            .imports
            .iter()
            .any(|i| spec.next_middleware_modules.contains(&i.module));
        let clerk = file.imports.iter().any(|i| i.module.starts_with("@clerk/"));
        // Clerk's middleware only protects what calls auth.protect().
        let protects = !clerk
            || file
                .calls
                .iter()
                .any(|c| named(&spec.self_checking_calls, &c.callee));
        if !(uses_auth && protects) {
            continue;
        }
        let protected: Vec<Matcher> = file
            .calls
            .iter()
            .filter(|c| last(&c.callee) == "createRouteMatcher")
            .flat_map(|c| {
                c.args
                    .iter()
                    .flat_map(|a| parse_matchers(&format!("matcher: {}", a.text)))
            })
            .collect();
        let matchers = if protected.is_empty() {
            config_matchers(file)
        } else {
            protected
        };
        out.push((fi, matchers));
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
pub fn parse_matchers(text: &str) -> Vec<Matcher> {
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

/// `src/app/(chat)/api/chat/route.ts` → `/api/chat`.
pub(super) fn app_route_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let app = parts.iter().rposition(|p| *p == "app")?;
    let segments: Vec<&str> = parts[app + 1..parts.len() - 1]
        .iter()
        .copied()
        .filter(|s| !(s.starts_with('@') || s.starts_with('(') && s.ends_with(')')))
        .collect();
    Some(format!("/{}", segments.join("/")))
}

/// `pages/api/chat/[id].ts` → `/api/chat/[id]`.
pub(super) fn pages_api_path(path: &str) -> Option<String> {
    let at = path.find("pages/api/")?;
    if at > 0 && !path[..at].ends_with('/') {
        return None;
    }
    let rest = &path[at + "pages/api/".len()..];
    let stem = rest.rsplit_once('.').map(|(s, _)| s).unwrap_or(rest);
    let stem = stem.strip_suffix("/index").unwrap_or(stem);
    Some(if stem == "index" {
        "/api".to_string()
    } else {
        format!("/api/{stem}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths() {
        assert_eq!(
            app_route_path("src/app/(chat)/api/chat/route.ts").as_deref(),
            Some("/api/chat")
        );
        assert_eq!(app_route_path("app/route.ts").as_deref(), Some("/"));
        assert_eq!(
            pages_api_path("pages/api/chat/[id].ts").as_deref(),
            Some("/api/chat/[id]")
        );
        assert_eq!(
            pages_api_path("web/src/pages/api/index.js").as_deref(),
            Some("/api")
        );
        assert_eq!(pages_api_path("mypages/api/x.ts"), None);
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
