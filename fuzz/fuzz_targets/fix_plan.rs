//! The `aiguard fix` edit planner (`src/fix/`) on a project of up to 8
//! fuzzed files (`app.py`, a FastAPI `main.py`, Express/Hono servers,
//! Next.js routes and server actions, `package.json`, `requirements.txt`,
//! `.gitignore`, `.env`, …; see `common::FIX_NAMES`): audit, plan every
//! fix, write the edits as `fix` does, then require that what parsed still
//! parses and that a second plan edits nothing (`fix_check.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

#[path = "common.rs"]
mod common;
#[path = "fix_check.rs"]
mod fix_check;

struct Setup {
    dir: std::path::PathBuf,
    settings: aiguard::config::Settings,
    catalog: aiguard::catalog::Catalog,
    templates: aiguard::catalog::fixes::FixTemplates,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        // No git, as in audit_files: the files are what is fuzzed.
        std::env::set_var("PATH", "");
        let dir = common::scratch();
        common::reset(&dir);
        let mut args = aiguard::cli::AuditArgs::defaults(dir.clone());
        args.no_cache = true; // no state between runs
        args.threads = Some(1);
        let (settings, catalog) = aiguard::commands::load(&args).expect("default settings");
        let templates = aiguard::catalog::fixes::FixTemplates::load().expect("rules/fixes.toml");
        Setup {
            dir,
            settings,
            catalog,
            templates,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    common::reset(&s.dir);
    for (name, bytes) in common::files_named(data, common::FIX_NAMES) {
        let path = s.dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    fix_check::check(&s.settings, &s.catalog, &s.templates);
});
