//! The per-file pipeline in memory, no file system, no threads: fast, so
//! it goes deep where `audit_files` goes wide. The first byte picks the
//! file name (`common::NAMES`), the rest is the file: UTF-16 decoding,
//! line index and spans, suppression comments, the tree-sitter parse,
//! facts, the project pass over that one file (imports, inventory), every
//! check's per-file part, the key scanner, and for `.gitignore` files the
//! ignore model.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aiguard::catalog::Catalog;
use aiguard::config::Settings;
use aiguard::context::FileContext;
use aiguard::facts::{FileFacts, ProjectFacts};
use aiguard::lang::{Lang, Parsers};
use aiguard::source::Source;

#[path = "common.rs"]
mod common;

fn setup() -> &'static (Settings, Catalog) {
    static SETUP: OnceLock<(Settings, Catalog)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = common::scratch();
        common::reset(&dir);
        let mut args = aiguard::cli::AuditArgs::defaults(dir);
        args.no_cache = true; // no state between runs
        aiguard::commands::load(&args).expect("default settings")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let (settings, catalog) = setup();
    let name = common::NAMES[pick as usize % common::NAMES.len()];
    let source =
        Source::new(aiguard::source::decode_utf16(bytes).unwrap_or_else(|| bytes.to_vec()));
    let bytes = source.bytes();
    for m in catalog.keys.scan(&source) {
        let span = source.span(m.start, m.end);
        assert!(span.line >= 1 && span.end_line >= span.line);
    }
    let _ = aiguard::suppress::collect(name, &source);
    let lang = Lang::from_path(Path::new(name));
    let facts = lang.and_then(|l| FileFacts::parse(&mut Parsers::default(), name, l, bytes));
    // The walk's one read (key keywords and role words together) finds
    // what the two separate searches find.
    let (key_rules, words) = catalog.source_words(bytes);
    assert_eq!(
        catalog.keys.scan_rules(&source, &key_rules),
        catalog.keys.scan(&source)
    );
    // `line` rules run on their keywords' lines: as over the whole file.
    assert_eq!(
        catalog.keys.scan(&source),
        catalog.keys.scan_whole_files(&source)
    );
    if let Some(l) = lang {
        assert_eq!(
            catalog.roles_from_words(name, bytes, words, l.is_python(), &[]),
            catalog.roles_with_imports(name, bytes, l.is_python(), &[])
        );
    }
    let ctx = FileContext {
        path: name,
        source: &source,
        lang,
        facts: facts.as_ref(),
        catalog,
        settings,
        key_rules: Some(&key_rules),
    };
    let mut findings = Vec::new();
    for check in aiguard::checks::implemented() {
        check.check_file(&ctx, &mut findings);
    }
    if let Some(facts) = facts {
        let project = ProjectFacts::new(vec![facts], &[name.to_string()]);
        let _ = project.missing_imports();
        let _ = aiguard::inventory::Inventory::build(&project, catalog, &settings.extras);
    }
    if name.ends_with(".gitignore") {
        let top = PathBuf::from("/repo");
        let dir = top.join(name).parent().unwrap().to_path_buf();
        let text = String::from_utf8_lossy(bytes).into_owned();
        let model = aiguard::gitignore::GitignoreModel::new(&top, &[(dir, text)], None);
        for path in [
            ".env",
            "web/.env.local",
            "web/a/b/.env",
            "web/node_modules/x",
        ] {
            let _ = model.is_ignored(&top.join(path), false);
        }
    }
});
