//! Frameworks that route by file (issue 17 item 4), their endpoints found
//! by path and exports, as Next.js's are:
//! - SvelteKit: `src/routes/**/+server.ts` exporting `GET`, `POST`, …
//!   (`(group)` folders dropped, `[param]` kept).
//! - Astro: `src/pages/**/*.ts` (not `.astro` pages) exporting `GET`,
//!   `POST`, … or `ALL`.
//! - Nuxt / Nitro: `server/api/**` (under `/api`) and `server/routes/**`
//!   files, the method from the name (`chat.post.ts`; none: any), the
//!   handler the function given to `defineEventHandler`.
//! - Remix / React Router: `app/routes/*` modules exporting `action`
//!   (POST and other writes) or `loader` (GET); flat names (`api.chat.tsx`
//!   → `/api/chat`, `$id` → `:id`, `_index`, pathless `_layout` segments)
//!   and folder routes (`api.chat/route.tsx`).
//!
//! - SvelteKit `+page.server.ts`: its `load` (`GET /route`, run on every
//!   page view) and form actions (`export const actions = { default, chat
//!   }` → `POST /route` and `POST /route?/chat`).
//!
//! Limits and auth are what the handler does (a limiter it calls, a
//! session it checks and rejects without): the generic inventory reads
//! them; and what middleware in front of the route does
//! ([`middleware`]: SvelteKit `handle`, Astro `onRequest`, Nuxt
//! `server/middleware` and `onRequest` hooks), and the `nuxt-security`
//! rate limiter of `nuxt.config` ([`nuxt_security`]).

mod middleware;
mod nuxt_security;

use std::collections::HashMap;

use super::{Family, Framework};
use crate::facts::{FileFacts, FnRef, ProjectFacts};
use crate::inventory::auth::AuthContext;
use crate::inventory::limits::{LimitScope, Limiter};
use crate::inventory::{Endpoint, Misuse};

pub struct FileRoutes;

const FRAMEWORKS: &[Framework] = &[
    Framework::SvelteKit,
    Framework::Astro,
    Framework::Nuxt,
    Framework::Remix,
];

const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "ALL"];

impl Family for FileRoutes {
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
        let handler = |function| {
            Some(FnRef {
                file: index,
                function,
            })
        };
        let top = |name: &str| {
            file.functions
                .iter()
                .position(|f| f.exported && f.parent.is_none() && f.name == name)
        };
        let mut push = |framework, method: &str, route: &str, function: usize| {
            out.push(Endpoint::new(
                framework,
                method.to_string(),
                route.to_string(),
                index,
                file.functions[function].line,
                handler(function),
                "",
            ));
        };
        if let Some(route) = sveltekit_route(path) {
            for m in METHODS {
                if let Some(f) = top(m) {
                    push(Framework::SvelteKit, m, &route, f);
                }
            }
        } else if let Some(route) = sveltekit_page(path) {
            // `load` runs on every GET of the page.
            if let Some(f) = top("load") {
                push(Framework::SvelteKit, "GET", &route, f);
            }
            // `export const actions = { default: …, chat: … }`.
            for (fi, f) in file.functions.iter().enumerate() {
                let Some(key) = f
                    .property
                    .as_deref()
                    .and_then(|p| p.strip_prefix("actions."))
                else {
                    continue;
                };
                if f.parent.is_some() {
                    continue;
                }
                let action = match key {
                    "default" => route.clone(),
                    name => format!("{route}?/{name}"),
                };
                push(Framework::SvelteKit, "POST", &action, fi);
            }
        } else if let Some(route) = astro_route(path) {
            for m in METHODS {
                if let Some(f) = top(m) {
                    push(Framework::Astro, m, &route, f);
                }
            }
        } else if let Some((method, route)) = nuxt_route(path) {
            // `export default defineEventHandler(async (event) => …)`, or
            // its object form `defineEventHandler({ onRequest, handler })`.
            if let Some(f) = middleware::event_handlers(file).into_iter().next() {
                push(Framework::Nuxt, &method, &route, f);
            }
        } else if let Some(route) = remix_route(path) {
            for (export, method) in [("loader", "GET"), ("action", "POST")] {
                if let Some(f) = top(export) {
                    push(Framework::Remix, method, &route, f);
                }
            }
        }
    }

    fn limits(
        &self,
        scope: &LimitScope<'_>,
        endpoints: &mut [&mut Endpoint],
        _misuse: &mut Vec<Misuse>,
    ) {
        if endpoints.is_empty() {
            return;
        }
        middleware::limits(scope, endpoints);
        nuxt_security::limits(scope.facts, endpoints);
    }

    fn declared_auth(&self, cx: &AuthContext<'_>, endpoints: &mut [&mut Endpoint]) {
        if endpoints.is_empty() {
            return;
        }
        middleware::declared_auth(cx, endpoints);
    }

    fn limiters(&self, facts: &ProjectFacts, out: &mut Vec<Limiter>) {
        nuxt_security::limiters(facts, out);
    }
}

/// Is `path` an Astro API route (for Next.js, which reads `pages/api/`
/// too): under `src/pages/`, a script, not an `.astro` page.
pub fn is_astro_route(path: &str) -> bool {
    astro_route(path).is_some()
}

/// The folders of `path` after the folder named `root` (a path prefix of
/// one or more segments), from the project or a package in it.
fn after<'p>(path: &'p str, root: &str) -> Option<&'p str> {
    let at = path.find(root)?;
    (at == 0 || path[..at].ends_with('/')).then(|| &path[at + root.len()..])
}

/// `src/routes/api/chat/+server.ts` → `/api/chat`.
fn sveltekit_route(path: &str) -> Option<String> {
    let rest = after(path, "src/routes/")?;
    let (dir, name) = rest.rsplit_once('/').unwrap_or(("", rest));
    if !name.starts_with("+server.") {
        return None;
    }
    let segments: Vec<&str> = dir
        .split('/')
        .filter(|s| !(s.is_empty() || s.starts_with('(') && s.ends_with(')')))
        .collect();
    Some(format!("/{}", segments.join("/")))
}

/// `src/routes/chat/+page.server.ts` → `/chat` (form actions).
fn sveltekit_page(path: &str) -> Option<String> {
    let rest = after(path, "src/routes/")?;
    let (dir, name) = rest.rsplit_once('/').unwrap_or(("", rest));
    if !name.starts_with("+page.server.") {
        return None;
    }
    sveltekit_route(&format!("src/routes/{dir}/+server.ts").replace("//", "/"))
}

/// `src/pages/api/chat.ts` → `/api/chat`; `src/pages/api/index.ts` → `/api`.
fn astro_route(path: &str) -> Option<String> {
    let rest = after(path, "src/pages/")?;
    let (stem, ext) = rest.rsplit_once('.')?;
    if !matches!(ext, "ts" | "js" | "mts" | "mjs") {
        return None;
    }
    let stem = stem.strip_suffix("/index").unwrap_or(stem);
    Some(match stem {
        "index" => "/".to_string(),
        s => format!("/{s}"),
    })
}

/// `server/api/chat.post.ts` → (`POST`, `/api/chat`); `server/routes/x.ts`
/// → (`ANY`, `/x`).
fn nuxt_route(path: &str) -> Option<(String, String)> {
    let (base, rest) = match after(path, "server/api/") {
        Some(rest) => ("/api", rest),
        None => ("", after(path, "server/routes/")?),
    };
    let (stem, ext) = rest.rsplit_once('.')?;
    if !matches!(ext, "ts" | "js" | "mts" | "mjs") {
        return None;
    }
    let (stem, method) = match stem.rsplit_once('.') {
        Some((s, m)) if ["get", "post", "put", "patch", "delete"].contains(&m) => {
            (s, m.to_uppercase())
        }
        _ => (stem, "ANY".to_string()),
    };
    let stem = stem.strip_suffix("/index").unwrap_or(stem);
    let route = match stem {
        "index" => base.to_string(),
        s => format!("{base}/{s}"),
    };
    Some((method, if route.is_empty() { "/".into() } else { route }))
}

/// `app/routes/api.chat.tsx`, `app/routes/api.chat/route.tsx` →
/// `/api/chat`; `$id` → `:id`; `_index` and `_layout` segments dropped.
fn remix_route(path: &str) -> Option<String> {
    let rest = after(path, "app/routes/")?;
    let name = match rest.split_once('/') {
        Some((folder, file)) if file.starts_with("route.") => folder,
        Some(_) => return None,
        None => rest.rsplit_once('.')?.0,
    };
    let segments: Vec<String> = name
        .split('.')
        .filter(|s| !s.is_empty() && !s.starts_with('_'))
        .map(|s| match s.strip_prefix('$') {
            Some("") => "*".to_string(),
            Some(p) => format!(":{p}"),
            None => s.trim_end_matches('_').to_string(),
        })
        .collect();
    Some(format!("/{}", segments.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_from_paths() {
        assert_eq!(
            sveltekit_route("web/src/routes/(app)/api/chat/+server.ts").as_deref(),
            Some("/api/chat")
        );
        assert_eq!(sveltekit_route("src/routes/+page.svelte"), None);
        assert_eq!(
            astro_route("src/pages/api/chat.ts").as_deref(),
            Some("/api/chat")
        );
        assert_eq!(astro_route("src/pages/index.astro"), None);
        assert_eq!(
            nuxt_route("server/api/chat.post.ts"),
            Some(("POST".into(), "/api/chat".into()))
        );
        assert_eq!(
            nuxt_route("server/routes/health.ts"),
            Some(("ANY".into(), "/health".into()))
        );
        assert_eq!(
            remix_route("app/routes/api.chat.tsx").as_deref(),
            Some("/api/chat")
        );
        assert_eq!(
            remix_route("app/routes/_app.threads.$id/route.tsx").as_deref(),
            Some("/threads/:id")
        );
        assert_eq!(remix_route("app/routes/_index.tsx").as_deref(), Some("/"));
        assert_eq!(remix_route("app/routes/api.chat/helpers.ts"), None);
    }
}
