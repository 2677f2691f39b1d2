//! The checks of the `fix_plan` target, shared with its replay in
//! `tests/fuzz_regressions.rs`: plan `aiguard fix` on a project, write the
//! edits as `fix` does, and require that
//! - every edited Python, TypeScript or JavaScript file that parsed without
//!   an error node before (or is new) still does, and an edited `.json`
//!   file that was valid JSON still is;
//! - a second plan over the fixed files edits nothing (a fix is idempotent).
//!
//! Why "clean in, clean out" and not "no error node that was not already
//! there": tree-sitter's error recovery places ERROR nodes differently once
//! lines are inserted, so errors of a broken input cannot be matched one to
//! one after an edit; on a broken input only idempotence is asserted.

use std::path::Path;

use aiguard::catalog::fixes::FixTemplates;
use aiguard::catalog::Catalog;
use aiguard::config::Settings;
use aiguard::lang::{Lang, Parsers};

/// Plan every fix on `settings.root`.
pub fn plan(
    settings: &Settings,
    catalog: &Catalog,
    templates: &FixTemplates,
) -> aiguard::fix::Plan {
    aiguard::fix::plan_fixes(settings, catalog, templates, templates.limits, &|_| true)
        .expect("the default settings load")
}

fn has_grammar(path: &str) -> bool {
    Lang::from_path(Path::new(path)).is_some() || path.ends_with(".json")
}

/// Does `bytes` parse cleanly as what `path` names? `None`: no grammar.
fn parses(parsers: &mut Parsers, path: &str, bytes: &[u8]) -> Option<bool> {
    if let Some(lang) = Lang::from_path(Path::new(path)) {
        // Ruff's parser for Python, tree-sitter for the rest.
        let facts = aiguard::facts::FileFacts::parse(parsers, path, lang, bytes)?;
        return Some(!facts.has_errors);
    }
    if path.ends_with(".json") {
        return Some(serde_json::from_slice::<serde_json::Value>(bytes).is_ok());
    }
    None
}

/// Plan, write, check the result parses, plan again: nothing more to do.
pub fn check(settings: &Settings, catalog: &Catalog, templates: &FixTemplates) {
    let root = &settings.root;
    let first = plan(settings, catalog, templates);
    let mut parsers = Parsers::default();
    for doc in first.changed_docs() {
        let before = std::fs::read(root.join(&doc.path)).ok();
        let after = doc.render();
        let was_clean = match &before {
            Some(bytes) => parses(&mut parsers, &doc.path, bytes),
            // A new file must parse, if it has a grammar.
            None => has_grammar(&doc.path).then_some(true),
        };
        if was_clean == Some(true) {
            assert_eq!(
                parses(&mut parsers, &doc.path, &after),
                Some(true),
                "{} parsed before the fix, not after:\n{}",
                doc.path,
                String::from_utf8_lossy(&after)
            );
        }
        if let Err(e) = doc.write(root) {
            panic!("the fix could not write {}: {e}", doc.path);
        }
    }
    let second = plan(settings, catalog, templates);
    let again: Vec<String> = second.changed_docs().map(|d| d.unified_diff()).collect();
    assert!(
        again.is_empty(),
        "a second `aiguard fix` would edit again:\n{}",
        again.concat()
    );
}
