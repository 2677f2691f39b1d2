//! The whole audit on a project of up to 8 fuzzed files (`.py`, `.ts`,
//! `.tsx`, `.ipynb`, `.env`, `.gitignore`, `next.config.js`, …; see
//! `common::NAMES`): walk, per-file pipeline (read, decode, parse gate,
//! tree-sitter, facts, keys, suppressions), project pass (imports, call
//! graph, inventory, every check), checklist, and every report format.
//! Settings and the rule catalogue are loaded once, as in one real run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

#[path = "common.rs"]
mod common;

struct Setup {
    dir: std::path::PathBuf,
    settings: aiguard::config::Settings,
    catalog: aiguard::catalog::Catalog,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        // No git: the files are what is fuzzed, and starting git per
        // input would halve the rate (the audit notes "git is not installed").
        std::env::set_var("PATH", "");
        let dir = common::scratch();
        common::reset(&dir);
        let mut args = aiguard::cli::AuditArgs::defaults(dir.clone());
        args.no_cache = true; // no state between runs
        args.threads = Some(1);
        let (settings, catalog) = aiguard::commands::load(&args).expect("default settings");
        Setup {
            dir,
            settings,
            catalog,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    common::reset(&s.dir);
    for (name, bytes) in common::files(data) {
        let path = s.dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let report = aiguard::app::audit(&s.settings, &s.catalog).expect("no config error");
    let sink = &mut std::io::sink();
    aiguard::report::json::write(&report, sink).unwrap();
    aiguard::report::sarif::write(&report, &s.catalog, sink).unwrap();
    aiguard::report::github::write(&report, &s.catalog, sink).unwrap();
    aiguard::report::junit::write(&report, sink).unwrap();
    aiguard::report::gitlab::write(&report, sink).unwrap();
    let options = aiguard::report::text::TextOptions {
        color: true,
        exit_code: 1,
        fail_on: "error",
        all: true,
    };
    aiguard::report::text::write(&report, &options, sink).unwrap();
    aiguard::report::inventory::write(&report.inventory, sink).unwrap();
});
