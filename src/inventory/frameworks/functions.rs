//! Serverless functions routed by file or by export (issue 17 item 5),
//! besides Cloudflare Workers (`workers.rs`) and AWS Lambda:
//! - Supabase Edge Functions: `supabase/functions/<name>/index.ts` serving
//!   with `Deno.serve(…)` / `serve(…)` is `ANY /functions/v1/<name>`. The
//!   gateway's `verify_jwt` (on unless `[functions.<name>] verify_jwt =
//!   false` in `supabase/config.toml`) accepts the public anon key, so it
//!   is recorded as a check of no user (`AuthKind::NotUser`); auth is the
//!   handler reading the user (`supabase.auth.getUser(token)`) and
//!   rejecting without one (generic).
//! - Firebase Cloud Functions: `export const chat = onRequest(…)` (public
//!   HTTP, `ANY /chat`) and `onCall(…)` (`POST /chat`), v1
//!   (`functions.https.onRequest`) and v2. An `onCall` handler that throws
//!   `HttpsError("unauthenticated")` (checking `request.auth` /
//!   `context.auth`) is authenticated; `enforceAppCheck: true` attests the
//!   app, not a user (`NotUser`), and limits nothing.
//! - Vercel Functions outside Next.js: `api/**/*.{ts,js,py}` at the project
//!   root (or beside a `vercel.json`) are `/api/<name>`: the exported
//!   `GET`/`POST`/… functions, else the default export
//!   (`handler(req, res)`), or a Python `class handler(BaseHTTPRequestHandler)`
//!   (`do_POST`, …). Not in a Next.js app, whose `pages/api` is Next's.
//! - Netlify Functions: `netlify/functions/<name>.ts`, `<name>/index.ts`
//!   or `<name>/<name>.ts` (the folder may be set in `netlify.toml`,
//!   `[functions] directory`) are `ANY /.netlify/functions/<name>`, or the
//!   `path` of their `export const config = { path: "/api/chat" }`.
//!
//! Limits and auth otherwise are what the handler does (generic). The
//! slice parses function files by their words (`Deno.serve`,
//! `firebase-functions`, `export const handler`, … in `rules/facts.toml`),
//! not by folder: a folder of functions also holds helpers, which an app
//! file imports as helpers, not as routers.
//! Configuration files are parsed here (TOML with `toml`, JSON with
//! comments with serde_json); a broken one is skipped. Gaps: Netlify edge
//! functions, `vercel.json` rewrites, Firebase `onCallGenkit` flows. Firebase
//! `cors:` options are read by the cors check.

use super::{collect_apps, unquote, Family, Framework};
use crate::facts::{Call, ConfigFile, FileFacts, FnRef, ProjectFacts};
use crate::inventory::auth::{last, AuthContext};
use crate::inventory::{AuthEvidence, AuthKind, Endpoint};

pub struct Functions;

const FRAMEWORKS: &[Framework] = &[
    Framework::SupabaseFunction,
    Framework::FirebaseFunction,
    Framework::VercelFunction,
    Framework::NetlifyFunction,
];

const SCRIPT_EXTENSIONS: &[&str] = &["ts", "js", "mts", "mjs", "cts", "cjs", "tsx", "jsx"];

const JS_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"];

impl Family for Functions {
    fn frameworks(&self) -> &'static [Framework] {
        FRAMEWORKS
    }

    fn project_endpoints(&self, facts: &ProjectFacts, out: &mut Vec<Endpoint>) {
        let netlify: Vec<String> = facts.configs().iter().flat_map(netlify_dirs).collect();
        let vercel_roots = vercel_roots(facts);
        for (index, file) in facts.files().iter().enumerate() {
            let Some(lang) = file.lang else { continue };
            let before = out.len();
            if !lang.is_python() {
                supabase_endpoints(index, file, out);
                firebase_endpoints(index, file, out);
                netlify_endpoints(index, file, &netlify, out);
            }
            // `[functions] directory = "api"` in netlify.toml: Netlify's.
            if out.len() == before {
                vercel_endpoints(index, file, &vercel_roots, out);
            }
        }
    }

    fn declared_auth(&self, cx: &AuthContext<'_>, endpoints: &mut [&mut Endpoint]) {
        for e in endpoints.iter_mut() {
            match e.framework {
                Framework::SupabaseFunction => {
                    let gate = verify_jwt(cx.facts, &cx.facts.file(e.file).path, e.line);
                    e.auth.push(gate);
                }
                Framework::FirebaseFunction => firebase_auth(cx.facts, e),
                _ => {}
            }
        }
    }
}

/// The folder of a configuration file (`""` at the root).
pub(super) fn config_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A configuration file as JSON: TOML files through `toml`, the others as
/// JSON with comments and trailing commas; `None` when it does not parse.
pub(super) fn config_value(config: &ConfigFile) -> Option<serde_json::Value> {
    if config.path.ends_with(".toml") {
        let value: toml::Table = toml::from_str(&config.text).ok()?;
        serde_json::to_value(value).ok()
    } else {
        serde_json::from_str(&crate::graph::strip_jsonc(&config.text)).ok()
    }
}

/// The folders of `path` after the folder named `root` (a path prefix of
/// one or more segments), from the project or a package in it.
fn after<'p>(path: &'p str, root: &str) -> Option<&'p str> {
    let at = path.find(root)?;
    (at == 0 || path[..at].ends_with('/')).then(|| &path[at + root.len()..])
}

fn script_stem(name: &str) -> Option<&str> {
    let (stem, ext) = name.rsplit_once('.')?;
    (SCRIPT_EXTENSIONS.contains(&ext) && !stem.ends_with(".d")).then_some(stem)
}

/// The function an argument of `call` gives (a literal or a named one of
/// the file), the last such argument first (options come first).
fn handler_argument(file: &FileFacts, call: &Call) -> Option<usize> {
    call.args
        .iter()
        .rev()
        .find_map(|a| a.function.or_else(|| file.function_named(a.text.trim())))
}

fn endpoint(
    framework: Framework,
    method: &str,
    path: String,
    index: usize,
    line: u32,
    function: usize,
) -> Endpoint {
    Endpoint::new(
        framework,
        method.to_string(),
        path,
        index,
        line,
        Some(FnRef {
            file: index,
            function,
        }),
        "",
    )
}

// ---- Supabase Edge Functions ----

/// `supabase/functions/chat/index.ts` → `chat` (not `_shared/`).
fn supabase_name(path: &str) -> Option<&str> {
    let rest = after(path, "supabase/functions/")?;
    let (name, file) = rest.split_once('/')?;
    let stem = script_stem(file)?;
    (stem == "index" && !name.starts_with('_') && !name.starts_with('.')).then_some(name)
}

fn supabase_endpoints(index: usize, file: &FileFacts, out: &mut Vec<Endpoint>) {
    let Some(name) = supabase_name(&file.path) else {
        return;
    };
    let serve = file
        .calls
        .iter()
        .find(|c| c.in_function.is_none() && matches!(c.callee.as_str(), "Deno.serve" | "serve"));
    if let Some((call, f)) = serve.and_then(|c| Some((c, handler_argument(file, c)?))) {
        out.push(endpoint(
            Framework::SupabaseFunction,
            "ANY",
            format!("/functions/v1/{name}"),
            index,
            call.line,
            f,
        ));
    }
}

/// The gateway check of a Supabase function: `verify_jwt` of its
/// `supabase/config.toml` (on by default). Neither setting checks a user.
fn verify_jwt(facts: &ProjectFacts, path: &str, line: u32) -> AuthEvidence {
    let name = supabase_name(path).unwrap_or_default();
    let root = path
        .find("supabase/functions/")
        .map_or("", |at| &path[..at]);
    let config = facts
        .configs()
        .iter()
        .find(|c| c.path == format!("{root}supabase/config.toml"));
    let off = config.and_then(|c| {
        let value = config_value(c)?;
        let on = value
            .pointer(&format!("/functions/{name}/verify_jwt"))?
            .as_bool()?;
        let line = c
            .text
            .lines()
            .position(|l| l.trim_start().starts_with(&format!("[functions.{name}]")))
            .map_or(1, |i| i as u32 + 2);
        (!on).then(|| (c.path.clone(), line))
    });
    let how = match off {
        Some((config, at)) => format!(
            "verify_jwt = false ({config}:{at}): the Supabase gateway lets every request through"
        ),
        None => "verify_jwt on (the default): the Supabase gateway accepts the public anon key every browser has, so it alone checks no user".into(),
    };
    AuthEvidence {
        kind: AuthKind::NotUser,
        how,
        line,
    }
}

// ---- Firebase Cloud Functions ----

/// Is `callee` an HTTPS trigger of firebase-functions (`onRequest`,
/// `functions.https.onCall`, `functions.region(…).https.onRequest`)?
fn firebase_trigger<'c>(file: &FileFacts, callee: &'c str) -> Option<&'c str> {
    let trigger = callee.rsplit('.').next()?;
    if !matches!(trigger, "onRequest" | "onCall") {
        return None;
    }
    let head = callee.split(['.', '(']).next()?;
    file.import_of(head)
        .is_some_and(|i| i.module.starts_with("firebase-functions"))
        .then_some(trigger)
}

fn firebase_endpoints(index: usize, file: &FileFacts, out: &mut Vec<Endpoint>) {
    if !file
        .imports
        .iter()
        .any(|i| i.module.starts_with("firebase-functions"))
    {
        return;
    }
    for a in file.assignments.iter().filter(|a| a.in_function.is_none()) {
        let Some(callee) = &a.value_callee else {
            continue;
        };
        let Some(trigger) = firebase_trigger(file, callee) else {
            continue;
        };
        let name = a
            .target
            .trim_start_matches("module.")
            .trim_start_matches("exports.");
        let Some(call) = file
            .calls
            .iter()
            .find(|c| c.line >= a.line && &c.callee == callee)
        else {
            continue;
        };
        let Some(f) = handler_argument(file, call) else {
            continue;
        };
        let method = if trigger == "onCall" { "POST" } else { "ANY" };
        out.push(endpoint(
            Framework::FirebaseFunction,
            method,
            format!("/{name}"),
            index,
            call.line,
            f,
        ));
    }
}

/// `onCall` handlers that throw `HttpsError("unauthenticated")` (after
/// checking `request.auth`), and `enforceAppCheck: true` (not a user).
fn firebase_auth(facts: &ProjectFacts, e: &mut Endpoint) {
    let file = facts.file(e.file);
    let Some(h) = e.handler else { return };
    let Some(trigger) = file
        .calls
        .iter()
        .find(|c| c.line == e.line && firebase_trigger(file, &c.callee).is_some())
    else {
        return;
    };
    // Options: the trigger's first argument, or `runWith({…})` before it.
    let app_check = file
        .calls
        .iter()
        .filter(|c| {
            c.line == e.line && (c.callee == trigger.callee || last(&c.callee) == "runWith")
        })
        .flat_map(|c| c.args.first())
        .flat_map(|a| a.pairs.iter())
        .any(|(k, v)| k == "enforceAppCheck" && v == "true");
    if app_check {
        e.auth.push(AuthEvidence {
            kind: AuthKind::NotUser,
            how: "enforceAppCheck: true (App Check attests the app, not the user: anyone using the app passes it)".into(),
            line: e.line,
        });
    }
    let ai_line = ai_line_in_handler(facts, e);
    let rejects = file.calls.iter().find(|c| {
        c.in_function.is_some_and(|f| file.is_within(f, h.function))
            && last(&c.callee) == "HttpsError"
            && c.args
                .first()
                .is_some_and(|a| a.text.contains("unauthenticated"))
    });
    if let Some(c) = rejects {
        let after = ai_line.is_some_and(|ai| c.line > ai);
        e.auth.push(AuthEvidence {
            kind: if after {
                AuthKind::AfterAiCall
            } else {
                AuthKind::Enforced
            },
            how: "throw new HttpsError(\"unauthenticated\") when request.auth (context.auth) is missing".into(),
            line: c.line,
        });
    }
}

/// The line in the handler that leads to the endpoint's AI call.
fn ai_line_in_handler(facts: &ProjectFacts, e: &Endpoint) -> Option<u32> {
    let chain = e.reaches.as_ref()?;
    let h = e.handler?;
    match chain.functions.get(1) {
        None => Some(facts.call(chain.call).line),
        Some(&next) => facts
            .file(h.file)
            .calls
            .iter()
            .filter(|c| c.in_function == Some(h.function))
            .find(|c| facts.resolve_call(h.file, c) == Some(next))
            .map(|c| c.line),
    }
}

// ---- Vercel Functions ----

/// Folders whose `api/` Vercel serves: the root and every folder with a
/// `vercel.json`, unless a file there imports Next.js (Next.js apps route
/// `pages/api` and `app/` themselves).
fn vercel_roots(facts: &ProjectFacts) -> Vec<String> {
    let mut roots = vec![String::new()];
    roots.extend(
        facts
            .configs()
            .iter()
            .filter(|c| file_name(&c.path) == "vercel.json")
            .map(|c| config_dir(&c.path))
            .filter(|d| !d.is_empty())
            .map(|d| format!("{d}/")),
    );
    roots.retain(|root| {
        !facts.files().iter().any(|f| {
            f.path.starts_with(root.as_str())
                && f.imports
                    .iter()
                    .any(|i| i.module == "next" || i.module.starts_with("next/"))
        })
    });
    roots
}

/// `api/chat.ts` → `/api/chat`; `api/chat/index.py` → `/api/chat`; files
/// and folders starting with `_` are not functions.
fn vercel_route(path: &str, roots: &[String]) -> Option<String> {
    let rest = roots
        .iter()
        .find_map(|r| path.strip_prefix(r.as_str())?.strip_prefix("api/"))?;
    let (stem, ext) = rest.rsplit_once('.')?;
    if !(SCRIPT_EXTENSIONS.contains(&ext) || ext == "py") || stem.ends_with(".d") {
        return None;
    }
    if stem
        .split('/')
        .any(|s| s.starts_with('_') || s.starts_with('.'))
    {
        return None;
    }
    let stem = stem.strip_suffix("/index").unwrap_or(stem);
    Some(match stem {
        "index" => "/api".into(),
        s => format!("/api/{s}"),
    })
}

fn vercel_endpoints(index: usize, file: &FileFacts, roots: &[String], out: &mut Vec<Endpoint>) {
    let Some(route) = vercel_route(&file.path, roots) else {
        return;
    };
    if !collect_apps(file).is_empty() {
        return; // an Express/Flask/FastAPI app: its own routes
    }
    let top = |f: &&crate::facts::Function| f.parent.is_none();
    if file.lang.is_some_and(|l| l.is_python()) {
        // `class handler(BaseHTTPRequestHandler)`: `do_GET`, `do_POST`, ….
        for class in file.classes.iter().filter(|c| {
            c.bases
                .iter()
                .any(|b| b.ends_with("BaseHTTPRequestHandler"))
        }) {
            for (fi, f) in file.functions.iter().enumerate() {
                let Some(method) = f
                    .name
                    .strip_prefix(&format!("{}.do_", class.name))
                    .filter(|m| JS_METHODS.contains(m))
                else {
                    continue;
                };
                out.push(endpoint(
                    Framework::VercelFunction,
                    method,
                    route.clone(),
                    index,
                    f.line,
                    fi,
                ));
            }
        }
        return;
    }
    let mut named = false;
    for (fi, f) in file.functions.iter().enumerate() {
        if top(&f) && f.exported && JS_METHODS.contains(&f.name.as_str()) {
            named = true;
            out.push(endpoint(
                Framework::VercelFunction,
                &f.name,
                route.clone(),
                index,
                f.line,
                fi,
            ));
        }
    }
    if !named {
        if let Some(fi) = default_handler(file) {
            let line = file.functions[fi].line;
            out.push(endpoint(
                Framework::VercelFunction,
                "ANY",
                route,
                index,
                line,
                fi,
            ));
        }
    }
}

/// The default export of a function file: `export default function
/// handler(req, res)`, `export default async (req, context) => …`,
/// `module.exports = (req, res) => …` or `module.exports = handler`; else
/// the one exported function taking the request.
fn default_handler(file: &FileFacts) -> Option<usize> {
    let top = |f: &crate::facts::Function| f.parent.is_none() && !f.params.is_empty();
    let module_exports = file
        .assignments
        .iter()
        .filter(|a| a.in_function.is_none() && a.target == "module.exports");
    let commonjs = |line: u32| module_exports.clone().any(|a| a.line == line);
    let named = module_exports
        .clone()
        .find_map(|a| file.function_named(a.text.trim()))
        .filter(|&f| top(&file.functions[f]));
    file.functions
        .iter()
        .position(|f| top(f) && (f.exported || commonjs(f.line)) && f.name.starts_with('<'))
        .or(named)
        .or_else(|| {
            file.functions
                .iter()
                .position(|f| top(f) && f.exported && f.name == "handler")
        })
        .or_else(|| {
            let exported: Vec<usize> = (0..file.functions.len())
                .filter(|&i| top(&file.functions[i]) && file.functions[i].exported)
                .collect();
            (exported.len() == 1).then(|| exported[0])
        })
}

// ---- Netlify Functions ----

/// The functions folders a `netlify.toml` names (`[functions] directory`,
/// or `[build] functions`), from the audited root.
fn netlify_dirs(config: &ConfigFile) -> Vec<String> {
    if file_name(&config.path) != "netlify.toml" {
        return Vec::new();
    }
    let Some(value) = config_value(config) else {
        return Vec::new();
    };
    let dir = value
        .pointer("/functions/directory")
        .or_else(|| value.pointer("/build/functions"))
        .and_then(|d| d.as_str());
    let Some(dir) = dir else { return Vec::new() };
    let dir = dir.trim_start_matches("./").trim_end_matches('/');
    vec![match config_dir(&config.path) {
        "" => dir.to_string(),
        base => format!("{base}/{dir}"),
    }]
}

/// `netlify/functions/chat.ts`, `…/chat/index.ts`, `…/chat/chat.ts` →
/// `chat`, in the default folder or one of `dirs`.
fn netlify_name<'p>(path: &'p str, dirs: &[String]) -> Option<&'p str> {
    let rest = dirs
        .iter()
        .find_map(|d| path.strip_prefix(d.as_str())?.strip_prefix('/'))
        .or_else(|| after(path, "netlify/functions/"))?;
    match rest.split_once('/') {
        None => script_stem(rest),
        Some((folder, file)) => {
            let stem = script_stem(file)?;
            (!file.contains('/') && (stem == "index" || stem == folder)).then_some(folder)
        }
    }
}

fn netlify_endpoints(index: usize, file: &FileFacts, dirs: &[String], out: &mut Vec<Endpoint>) {
    let Some(name) = netlify_name(&file.path, dirs) else {
        return;
    };
    if !collect_apps(file).is_empty() {
        return;
    }
    // v1: `export const handler = async (event) => …` / `exports.handler = …`
    // (also `const handler = …; export { handler }`: any top-level `handler`).
    let v1 = file.functions.iter().position(|f| {
        f.parent.is_none()
            && (f.name == "handler"
                || file.assignments.iter().any(|a| {
                    a.line == f.line
                        && a.in_function.is_none()
                        && matches!(
                            a.target.as_str(),
                            "exports.handler" | "module.exports.handler"
                        )
                }))
    });
    let Some(f) = v1.or_else(|| default_handler(file)) else {
        return;
    };
    // v2: `export const config = { path: "/api/chat" }`.
    let configured = file
        .assignments
        .iter()
        .find(|a| a.in_function.is_none() && a.target == "config")
        .and_then(|a| config_path(&a.text));
    let route = configured.unwrap_or_else(|| format!("/.netlify/functions/{name}"));
    out.push(endpoint(
        Framework::NetlifyFunction,
        "ANY",
        route,
        index,
        file.functions[f].line,
        f,
    ));
}

/// The first `path` of a Netlify function's `config` object
/// (`{ path: "/api/chat" }`, `{ path: ["/api/chat", …] }`).
fn config_path(text: &str) -> Option<String> {
    let at = text.find("path")?;
    let rest = text[at + 4..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('[').unwrap_or(rest).trim_start();
    let quote = rest.chars().next()?;
    let end = rest[1..].find(quote)?;
    unquote(&rest[..end + 2]).filter(|p| p.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_and_routes_from_paths() {
        assert_eq!(
            supabase_name("supabase/functions/chat/index.ts"),
            Some("chat")
        );
        assert_eq!(supabase_name("supabase/functions/_shared/cors.ts"), None);
        assert_eq!(supabase_name("supabase/functions/chat/prompt.ts"), None);
        let roots = vec![String::new(), "web/".to_string()];
        assert_eq!(
            vercel_route("api/chat.ts", &roots).as_deref(),
            Some("/api/chat")
        );
        assert_eq!(
            vercel_route("web/api/v1/index.py", &roots).as_deref(),
            Some("/api/v1")
        );
        assert_eq!(vercel_route("api/_lib/ai.ts", &roots), None);
        assert_eq!(vercel_route("src/api/chat.ts", &roots), None);
        assert_eq!(vercel_route("api/types.d.ts", &roots), None);
        let dirs = vec!["functions".to_string()];
        assert_eq!(netlify_name("functions/chat.mts", &dirs), Some("chat"));
        assert_eq!(
            netlify_name("netlify/functions/chat/index.ts", &[]),
            Some("chat")
        );
        assert_eq!(
            netlify_name("netlify/functions/chat/chat.ts", &[]),
            Some("chat")
        );
        assert_eq!(netlify_name("netlify/functions/chat/util.ts", &[]), None);
        assert_eq!(
            config_path("{ path: \"/api/chat\" }").as_deref(),
            Some("/api/chat")
        );
        assert_eq!(
            config_path("{ path: ['/api/ask', '/api/ask/*'] }").as_deref(),
            Some("/api/ask")
        );
        assert_eq!(config_path("{ method: \"POST\" }"), None);
    }

    #[test]
    fn netlify_folders_and_broken_configs() {
        let config = |path: &str, text: &str| ConfigFile {
            path: path.into(),
            text: text.into(),
        };
        assert_eq!(
            netlify_dirs(&config(
                "site/netlify.toml",
                "[functions]\ndirectory = \"fns/\"\n"
            )),
            ["site/fns"]
        );
        assert_eq!(
            netlify_dirs(&config(
                "netlify.toml",
                "[build]\nfunctions = \"./lambda\"\n"
            )),
            ["lambda"]
        );
        // Broken files: skipped, no panic.
        assert!(netlify_dirs(&config("netlify.toml", "[functions")).is_empty());
        assert_eq!(config_value(&config("vercel.json", "{ \"a\": ")), None);
    }
}
