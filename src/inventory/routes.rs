//! Endpoints and their full paths: each framework family lists the
//! endpoints of a file (`frameworks/`); this module applies mount prefixes
//! across files (a router constructor's own prefix, then every mount call a
//! family recognises, `include_router(r, prefix=…)` / `app.use("/p", r)`),
//! following the router through imports and re-exports.

use std::collections::HashMap;

use super::frameworks::{collect_apps, join_paths, Framework, FAMILIES};
use super::Endpoint;
use crate::facts::{FileFacts, FnRef, ProjectFacts};

/// An app or router passed to a project function: the function's
/// parameter is that app inside it.
pub(super) struct Binding {
    framework: Framework,
    /// Where the app or router is made: (file, variable).
    app: (usize, String),
    /// The prefix the call gives it (`fastify.register(chat, { prefix: "/api" })`).
    prefix: Option<String>,
}

/// Parameters of project functions that receive an app or router
/// (`function chatEndpoints(app) { app.post(…) }` called as
/// `chatEndpoints(apiRouter)`; `def register_routes(app)` called with the
/// Flask app), by the function's file: parameter name → binding.
pub(super) fn router_bindings(facts: &ProjectFacts) -> HashMap<usize, HashMap<String, Binding>> {
    let mut out: HashMap<usize, HashMap<String, Binding>> = HashMap::new();
    for (fi, file) in facts.files().iter().enumerate() {
        let apps = collect_apps(file);
        if apps.is_empty() {
            continue;
        }
        for call in &file.calls {
            // A plugin registered on the app (`fastify.register(chatRoutes,
            // { prefix: "/api" })`): its first parameter is the app.
            if let Some((object, "register")) = call.callee.rsplit_once('.') {
                if let (Some(&framework), Some(plugin)) = (apps.get(object), call.args.first()) {
                    if let Some(target) = plugin_function(facts, fi, &plugin.text) {
                        let function = facts.function(target);
                        if let Some(param) = function.params.first().map(|p| param_name(p)) {
                            if !param.is_empty() {
                                let prefix = call.args.get(1).and_then(|o| option_prefix(&o.text));
                                out.entry(target.file)
                                    .or_default()
                                    .entry(param.to_string())
                                    .or_insert(Binding {
                                        framework,
                                        app: (fi, object.to_string()),
                                        prefix,
                                    });
                            }
                        }
                    }
                    continue;
                }
            }
            for (position, arg) in call.args.iter().enumerate() {
                let Some(&framework) = apps.get(arg.text.as_str()) else {
                    continue;
                };
                let Some(target) = facts.resolve_call(fi, call) else {
                    continue;
                };
                let function = facts.function(target);
                let Some(param) = function.params.get(position).map(|p| param_name(p)) else {
                    continue;
                };
                if param.is_empty() {
                    continue;
                }
                out.entry(target.file)
                    .or_default()
                    .entry(param.to_string())
                    .or_insert(Binding {
                        framework,
                        app: (fi, arg.text.clone()),
                        prefix: None,
                    });
            }
        }
    }
    out
}

/// The function a plugin argument names: a function of this file, or the
/// one an import brings (a named export, or the default export, which is
/// often anonymous: `export default async function (fastify) { … }`).
fn plugin_function(facts: &ProjectFacts, file: usize, text: &str) -> Option<FnRef> {
    let name = text.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    {
        return None;
    }
    let here = facts.file(file);
    if let Some(function) = here.function_named(name) {
        return Some(FnRef { file, function });
    }
    let import = here.import_of(name)?;
    let target = facts.resolve_import(file, import)?;
    let functions = &facts.file(target).functions;
    let wanted = import.name.as_deref().filter(|n| *n != "default");
    let function = match wanted {
        Some(n) => functions.iter().position(|f| f.name == n)?,
        None => functions
            .iter()
            .position(|f| f.exported && f.parent.is_none() && !f.params.is_empty())?,
    };
    Some(FnRef {
        file: target,
        function,
    })
}

/// `{ prefix: "/api" }` → `/api`.
fn option_prefix(text: &str) -> Option<String> {
    let at = text.find("prefix")?;
    let rest = text[at + "prefix".len()..].trim_start().strip_prefix(':')?;
    super::frameworks::unquote(rest.split([',', '}']).next()?.trim())
}

/// `app: Express` / `app = None` / `app` → `app`.
fn param_name(text: &str) -> &str {
    text.split([':', '=', '?'])
        .next()
        .unwrap_or(text)
        .trim()
        .trim_start_matches("...")
}

/// The endpoints a file declares, in family order; `bound` are the
/// parameters of its functions that receive an app or router.
pub(super) fn endpoints(
    index: usize,
    file: &FileFacts,
    bound: Option<&HashMap<String, Binding>>,
    out: &mut Vec<Endpoint>,
) {
    let mut apps = collect_apps(file);
    for (param, b) in bound.into_iter().flatten() {
        apps.entry(param.clone()).or_insert(b.framework);
    }
    let start = out.len();
    for family in FAMILIES {
        family.endpoints(index, file, &apps, out);
    }
    for e in &mut out[start..] {
        if let Some(b) = bound.and_then(|b| b.get(&e.object)) {
            e.mounted_on = Some(b.app.clone());
            if let Some(prefix) = &b.prefix {
                e.path = join_paths(prefix, &e.path);
            }
        }
    }
}

/// Prefixes of routers, as (file holding the router, router variable) →
/// prefix.
/// Mount prefixes: (file, app or router object) → prefix.
pub(super) type Prefixes = HashMap<(usize, String), String>;

pub(super) fn collect_prefixes(facts: &ProjectFacts) -> Prefixes {
    let mut prefixes = HashMap::new();
    for (fi, file) in facts.files().iter().enumerate() {
        for a in &file.assignments {
            if let Some(p) = FAMILIES.iter().find_map(|f| f.constructor_prefix(&a.text)) {
                prefixes.insert((fi, a.target.clone()), p);
            }
        }
    }
    for (fi, file) in facts.files().iter().enumerate() {
        for call in &file.calls {
            let Some((router, prefix)) = FAMILIES.iter().find_map(|f| f.mount(call)) else {
                continue;
            };
            let text = router.text.as_str();
            let head = text.split('.').next().unwrap_or(text);
            let target = match file.import_of(head) {
                Some(import) => match facts.resolve_import(fi, import) {
                    Some(t) => {
                        let var = if text.contains('.') {
                            text.rsplit('.').next().unwrap_or(text).to_string()
                        } else {
                            import
                                .name
                                .clone()
                                .filter(|n| n != "default")
                                .unwrap_or_else(|| "default".into())
                        };
                        // `export * from "./chat"` in routes/index.ts.
                        (facts.definition_file(t, &var), var)
                    }
                    None => continue,
                },
                None => (fi, text.to_string()),
            };
            let inner = prefixes.get(&target).cloned().unwrap_or_default();
            prefixes.insert(target, join_paths(&prefix, &inner));
        }
    }
    prefixes
}
