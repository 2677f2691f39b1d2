//! Endpoints and their full paths: each framework family lists the
//! endpoints of a file (`frameworks/`); this module applies mount prefixes
//! across files (a router constructor's own prefix, then every mount call a
//! family recognises, `include_router(r, prefix=…)` / `app.use("/p", r)`),
//! following the router through imports and re-exports.

use std::collections::HashMap;

use super::frameworks::{collect_apps, join_paths, FAMILIES};
use super::Endpoint;
use crate::facts::{FileFacts, ProjectFacts};

/// The endpoints a file declares, in family order.
pub(super) fn endpoints(index: usize, file: &FileFacts, out: &mut Vec<Endpoint>) {
    let apps = collect_apps(file);
    for family in FAMILIES {
        family.endpoints(index, file, &apps, out);
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
