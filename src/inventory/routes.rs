//! Endpoints and their full paths: each framework family lists the
//! endpoints of a file (`frameworks/`); this module applies mount prefixes
//! across files (a router constructor's own prefix, then every mount call a
//! family recognises, `include_router(r, prefix=…)` / `app.use("/p", r)`),
//! following the router through imports and re-exports.

use std::collections::HashMap;

use super::frameworks::{collect_apps, join_paths, Framework, FAMILIES};
use super::Endpoint;
use crate::facts::{FileFacts, ProjectFacts};

/// An app or router passed to a project function: the function's
/// parameter is that app inside it.
pub(super) struct Binding {
    framework: Framework,
    /// Where the app or router is made: (file, variable).
    app: (usize, String),
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
                    });
            }
        }
    }
    out
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
        }
    }
}

/// Prefixes of routers, as (file holding the router, router variable) →
/// prefix.
pub(super) fn collect_prefixes(facts: &ProjectFacts) -> HashMap<(usize, String), String> {
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
