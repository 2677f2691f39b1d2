//! One home per framework family: what each web framework (and the
//! libraries people use with it) looks like in code. A family finds its
//! apps and routers, its endpoints, its mount calls, the rate limits and
//! auth declared around its routes, and names its fix texts. The generic
//! inventory (`super`) links endpoints to AI calls, resolves mounts,
//! reads hand-written limiters and in-handler auth, and never names a
//! framework or library: that knowledge is here and in `rules/`.
//!
//! Shared logic exists once, in this file: keyword arguments and quoted
//! strings of calls, `app.use(prefix, …)` coverage, path joining.
//!
//! ## Adding a framework
//!
//! 1. Add its variant to [`Framework`] (display name, language, fix key).
//! 2. Write `frameworks/<family>.rs` with a unit struct implementing
//!    [`Family`] (or extend the family it belongs to): its app
//!    constructors, endpoints (method and full path), mount calls, limits
//!    and declared auth. Library names go in `rules/protections.toml` when
//!    they are lists a user may extend, else in this module.
//! 3. Register it in [`FAMILIES`].
//! 4. Give it fix texts under its fix key in `rules/protections.toml`
//!    (`[fix]` for rate limits, `[auth_fix]` for auth).
//! 5. Configuration files (function manifests, proxies): their globs go in
//!    `[configs]` of `rules/facts.toml`; the family reads them whole from
//!    [`ProjectFacts::configs`] and names the handler files they route to
//!    ([`Family::config_sources`]) so those are parsed.
//! 6. Fixtures: a protected and an unprotected app under `fixtures/`, with
//!    the exact findings asserted in `tests/fixtures.rs`, and a row in the
//!    README's coverage table.

mod django;
mod files;
mod functions;
mod gradio;
mod lambda;
mod nest;
mod next;
mod node;
mod python;
mod streamlit;
mod trpc;
mod workers;

use std::collections::HashMap;

use serde::Serialize;

use super::auth::AuthContext;
use super::limits::{LimitScope, Limiter};
use super::{Endpoint, Misuse};
use crate::facts::{Arg, Call, ConfigFile, FileFacts, ProjectFacts};

pub use files::is_astro_route;
pub use lambda::{cors_wildcards as lambda_cors_wildcards, proxies as lambda_proxies};
pub use next::{parse_matchers, Matcher};

/// The frameworks aiguard knows endpoints of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framework {
    FastApi,
    Flask,
    NextApp,
    NextPages,
    ServerAction,
    Express,
    Hono,
    Fastify,
    Django,
    Gradio,
    Nest,
    SvelteKit,
    Astro,
    Nuxt,
    Remix,
    Trpc,
    Lambda,
    Streamlit,
    Workers,
    IttyRouter,
    SupabaseFunction,
    FirebaseFunction,
    VercelFunction,
    NetlifyFunction,
}

impl Framework {
    pub fn name(self) -> &'static str {
        match self {
            Framework::FastApi => "FastAPI",
            Framework::Flask => "Flask",
            Framework::NextApp => "Next.js route handler",
            Framework::NextPages => "Next.js API route",
            Framework::ServerAction => "Next.js server action",
            Framework::Express => "Express",
            Framework::Hono => "Hono",
            Framework::Fastify => "Fastify",
            Framework::Django => "Django",
            Framework::Gradio => "Gradio",
            Framework::Nest => "NestJS",
            Framework::SvelteKit => "SvelteKit",
            Framework::Astro => "Astro",
            Framework::Nuxt => "Nuxt",
            Framework::Remix => "Remix",
            Framework::Trpc => "tRPC",
            Framework::Lambda => "AWS Lambda",
            Framework::Streamlit => "Streamlit",
            Framework::Workers => "Cloudflare Workers",
            Framework::IttyRouter => "itty-router",
            Framework::SupabaseFunction => "Supabase Edge Function",
            Framework::FirebaseFunction => "Firebase Cloud Function",
            Framework::VercelFunction => "Vercel Function",
            Framework::NetlifyFunction => "Netlify Function",
        }
    }

    pub fn is_python(self) -> bool {
        matches!(
            self,
            Framework::FastApi
                | Framework::Flask
                | Framework::Django
                | Framework::Gradio
                | Framework::Streamlit
        )
    }

    /// The key of its fix texts in `rules/protections.toml` (`[fix]`,
    /// `[auth_fix]`): one recipe per framework, shared where the idiom is.
    pub fn fix_key(self) -> &'static str {
        match self {
            Framework::FastApi => "fastapi",
            Framework::Flask => "flask",
            Framework::NextApp | Framework::NextPages | Framework::ServerAction => "next",
            Framework::Express => "express",
            Framework::Hono => "hono",
            Framework::Fastify => "fastify",
            Framework::Django => "django",
            Framework::Gradio => "gradio",
            Framework::Nest => "nest",
            Framework::SvelteKit => "sveltekit",
            Framework::Astro => "astro",
            Framework::Nuxt => "nuxt",
            Framework::Remix => "remix",
            Framework::Trpc => "trpc",
            Framework::Lambda => "lambda",
            Framework::Streamlit => "streamlit",
            Framework::Workers | Framework::IttyRouter => "workers",
            Framework::SupabaseFunction => "supabase",
            Framework::FirebaseFunction => "firebase",
            Framework::VercelFunction => "vercel",
            Framework::NetlifyFunction => "netlify",
        }
    }

    /// The family that owns it.
    pub fn family(self) -> &'static dyn Family {
        FAMILIES
            .iter()
            .copied()
            .find(|f| f.frameworks().contains(&self))
            .expect("every framework has a family")
    }
}

/// What a framework family knows. Every method has a default that finds
/// nothing, so a family implements only what it has.
pub trait Family: Sync {
    /// The frameworks of this family.
    fn frameworks(&self) -> &'static [Framework];

    /// The framework of an app or router made by a call to `callee`,
    /// resolved through the file's imports (`express.Router`, `APIRouter`),
    /// with the module it was imported from.
    fn app_constructor(&self, _callee: &str, _module: Option<&str>) -> Option<Framework> {
        None
    }

    /// The spelling of an imported name as the family's constructors are
    /// matched (`{ Router } from "express"` → `express.Router`).
    fn qualify(&self, _module: &str, _name: &str) -> Option<String> {
        None
    }

    /// The endpoints one file declares. `apps` are its app and router
    /// variables (from every family's [`Family::app_constructor`]).
    fn endpoints(
        &self,
        _index: usize,
        _file: &FileFacts,
        _apps: &HashMap<String, Framework>,
        _out: &mut Vec<Endpoint>,
    ) {
    }

    /// A call that mounts a router under a prefix: (the router argument,
    /// the prefix). `include_router(r, prefix="/api")`, `app.use("/api", r)`.
    fn mount<'c>(&self, _call: &'c Call) -> Option<(&'c Arg, String)> {
        None
    }

    /// The prefix a router constructor gives itself (`APIRouter(prefix=…)`).
    fn constructor_prefix(&self, _text: &str) -> Option<String> {
        None
    }

    /// Rate limits (and limiter misuse) declared around this family's
    /// endpoints; `endpoints` are all of them, so per-project state is
    /// computed once.
    fn limits(
        &self,
        _scope: &LimitScope<'_>,
        _endpoints: &mut [&mut Endpoint],
        _misuse: &mut Vec<Misuse>,
    ) {
    }

    /// Auth declared around this family's endpoints (dependencies,
    /// decorators, middleware, hooks), before the generic in-handler auth.
    fn declared_auth(&self, _cx: &AuthContext<'_>, _endpoints: &mut [&mut Endpoint]) {}

    /// Endpoints declared across files, after every file's own: a URL
    /// configuration naming views of other modules (Django's `urls.py`),
    /// with their full paths.
    fn project_endpoints(&self, _facts: &ProjectFacts, _out: &mut Vec<Endpoint>) {}

    /// Source files a configuration file routes requests to (a function
    /// manifest's handlers), so they are parsed as endpoints: paths from
    /// the audited root, with or without their extension, or a folder
    /// ending in `/`.
    fn config_sources(&self, _config: &ConfigFile) -> Vec<String> {
        Vec::new()
    }

    /// Limiters configured in the family's own idiom (settings, class
    /// attributes), with whether they count in a shared store, for the
    /// store check.
    fn limiters(&self, _facts: &ProjectFacts, _out: &mut Vec<Limiter>) {}

    /// Limits a platform enforces for whatever framework serves the
    /// request (a Workers rate-limiting binding declared in `wrangler.toml`
    /// and called from a Hono route): every endpoint of the project.
    fn platform_limits(&self, _facts: &ProjectFacts, _endpoints: &mut [Endpoint]) {}
}

/// Every family, in the order their endpoints are listed.
pub static FAMILIES: &[&dyn Family] = &[
    &python::Python,
    &django::Django,
    &gradio::Gradio,
    &node::Node,
    &next::Next,
    &nest::Nest,
    &files::FileRoutes,
    &trpc::Trpc,
    &lambda::Lambda,
    &streamlit::Streamlit,
    &workers::Workers,
    &functions::Functions,
];

/// Every family's [`Family::config_sources`] of the project's configuration
/// files.
pub fn config_sources(configs: &[ConfigFile]) -> Vec<String> {
    let mut out: Vec<String> = configs
        .iter()
        .flat_map(|c| FAMILIES.iter().flat_map(move |f| f.config_sources(c)))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The endpoints of one family, for its batch methods
/// ([`Family::limits`], [`Family::declared_auth`]).
pub fn of_family<'e>(family: &dyn Family, endpoints: &'e mut [Endpoint]) -> Vec<&'e mut Endpoint> {
    endpoints
        .iter_mut()
        .filter(|e| family.frameworks().contains(&e.framework))
        .collect()
}

/// App and router objects of a file: variable → framework.
pub fn collect_apps(file: &FileFacts) -> HashMap<String, Framework> {
    let mut apps = HashMap::new();
    for a in &file.assignments {
        let Some(callee) = &a.value_callee else {
            continue;
        };
        let head = callee.split('.').next().unwrap_or(callee);
        let import = file.import_of(head);
        let module = import.map(|i| i.module.as_str());
        // `Router` imported as `{ Router } from "express"` → `express.Router`;
        // `APIRouter as R` → `APIRouter`.
        let resolved = match import {
            Some(i) => match &i.name {
                Some(name) if name != "default" && callee == head => FAMILIES
                    .iter()
                    .find_map(|f| f.qualify(&i.module, name))
                    .unwrap_or_else(|| name.clone()),
                _ => callee.clone(),
            },
            None => callee.clone(),
        };
        if let Some(framework) = FAMILIES
            .iter()
            .find_map(|f| f.app_constructor(&resolved, module))
        {
            apps.insert(a.target.clone(), framework);
        }
    }
    apps
}

/// The text inside quotes (`"/chat"`, `f'/x'`, `` `/y` ``).
pub fn unquote(text: &str) -> Option<String> {
    let t = text.trim().trim_start_matches(['r', 'f', 'b']);
    let q = t.chars().next()?;
    (matches!(q, '"' | '\'' | '`') && t.len() >= 2 && t.ends_with(q))
        .then(|| t[1..t.len() - 1].to_string())
}

/// A keyword argument of a call.
pub fn kwarg<'c>(call: &'c Call, name: &str) -> Option<&'c Arg> {
    call.args
        .iter()
        .find(|a| a.keyword.as_deref() == Some(name))
}

pub const HTTP_METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "options", "head", "all",
];

/// `object.use("/prefix", a, b)` / `object.use(a)` calls on an endpoint's
/// object that cover its path, in its file and, for a router passed to a
/// function, on that router in its own file: (the call, its method, the
/// arguments after the prefix, with the file of the call). Middleware coverage for every family that
/// mounts middleware this way (`use`, and Fastify's `register`).
pub fn covering_uses<'f>(
    facts: &'f ProjectFacts,
    e: &Endpoint,
    methods: &[&str],
) -> Vec<(usize, &'f Call, &'f str, &'f [Arg])> {
    let mut out = Vec::new();
    let own = (e.file, e.object.as_str());
    let passed = e.mounted_on.as_ref().map(|(f, o)| (*f, o.as_str()));
    for (fi, name) in std::iter::once(own).chain(passed) {
        for call in &facts.file(fi).calls {
            let Some((object, method)) = call.callee.rsplit_once('.') else {
                continue;
            };
            if object != name || !methods.contains(&method) {
                continue;
            }
            let (prefix, rest) = match call.args.first().and_then(|a| unquote(&a.text)) {
                Some(p) => (p, &call.args[1..]),
                None => (String::new(), &call.args[..]),
            };
            let covers = prefix.is_empty()
                || e.path
                    .starts_with(prefix.trim_end_matches("/*").trim_end_matches('*'));
            if covers {
                let method: &'f str = &call.callee[call.callee.len() - method.len()..];
                out.push((fi, call, method, rest));
            }
        }
    }
    out
}

/// `"/api/"` + `"/chat"` → `/api/chat`.
pub fn join_paths(prefix: &str, path: &str) -> String {
    let joined = format!(
        "{}/{}",
        prefix.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    let joined = if joined.len() > 1 {
        joined.trim_end_matches('/').to_string()
    } else {
        joined
    };
    if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Framework; 24] = [
        Framework::FastApi,
        Framework::Flask,
        Framework::NextApp,
        Framework::NextPages,
        Framework::ServerAction,
        Framework::Express,
        Framework::Hono,
        Framework::Fastify,
        Framework::Django,
        Framework::Gradio,
        Framework::Nest,
        Framework::SvelteKit,
        Framework::Astro,
        Framework::Nuxt,
        Framework::Remix,
        Framework::Trpc,
        Framework::Lambda,
        Framework::Streamlit,
        Framework::Workers,
        Framework::IttyRouter,
        Framework::SupabaseFunction,
        Framework::FirebaseFunction,
        Framework::VercelFunction,
        Framework::NetlifyFunction,
    ];

    #[test]
    fn every_framework_has_its_fix_texts() {
        let catalog = crate::catalog::Catalog::load(&[]).unwrap();
        for f in ALL {
            let key = f.fix_key();
            let rate = catalog.rate_limit_fix.framework.get(key);
            let auth = catalog.auth_fix.framework.get(key);
            assert!(
                rate.is_some_and(|t| !t.trim().is_empty()),
                "{f:?}: [fix.framework] {key}"
            );
            assert!(
                auth.is_some_and(|t| !t.trim().is_empty()),
                "{f:?}: [auth_fix.framework] {key}"
            );
        }
    }

    #[test]
    fn every_framework_has_one_family() {
        for f in ALL {
            let owners = FAMILIES
                .iter()
                .filter(|fam| fam.frameworks().contains(&f))
                .count();
            assert_eq!(owners, 1, "{f:?}");
        }
    }

    #[test]
    fn paths_join() {
        assert_eq!(join_paths("/api/", "/chat"), "/api/chat");
        assert_eq!(join_paths("", "/"), "/");
        assert_eq!(join_paths("api", "x/"), "/api/x");
    }
}
