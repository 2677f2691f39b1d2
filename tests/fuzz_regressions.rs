//! Every input in `fuzz/regressions/<target>/` (inputs that crashed,
//! hung or blew up a fuzz target once, kept after the fix) replayed as a
//! plain test, without libFuzzer: materialised as the target would, then
//! audited in-process in every output format. A panic fails the test; so
//! does an exit status other than 0/1 (2 is allowed for `config` inputs).
//! `fix_plan` inputs go through that target's own checks instead
//! (`fuzz_targets/fix_check.rs`), as does every fixture project.
//! See `fuzz/README.md` for running the fuzzers themselves.

mod common;
#[path = "../fuzz/fuzz_targets/fix_check.rs"]
mod fix_check;
#[path = "../fuzz/fuzz_targets/common.rs"]
mod fuzz_common;

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut found: Vec<PathBuf> = fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

fn write(root: &Path, name: &str, bytes: &[u8]) {
    let path = root.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

/// Audit `root` in every format and require exit codes up to `worst`.
fn assert_audits_within(root: &Path, worst: i32, case: &Path) {
    let codes = audit_all_formats(root);
    assert!(
        codes.iter().all(|c| *c <= worst),
        "{}: {codes:?}",
        case.display()
    );
}

/// Audit `root` in-process in every format; the exit codes seen.
fn audit_all_formats(root: &Path) -> Vec<i32> {
    ["text", "json", "sarif", "github", "junit", "gitlab"]
        .iter()
        .map(|format| {
            let args: Vec<OsString> = vec![
                "aiguard".into(),
                "audit".into(),
                root.into(),
                "--format".into(),
                (*format).into(),
                "--no-cache".into(),
            ];
            let (mut out, mut err) = (Vec::new(), Vec::new());
            aiguard::run(args, &mut out, &mut err).code()
        })
        .collect()
}

#[test]
fn audit_files_regressions() {
    let cases = inputs("audit_files");
    assert!(
        !cases.is_empty(),
        "fuzz/regressions/audit_files holds inputs"
    );
    for case in cases {
        let data = fs::read(&case).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in fuzz_common::files(&data) {
            write(dir.path(), name, bytes);
        }
        assert_audits_within(dir.path(), 1, &case);
    }
}

#[test]
fn per_file_regressions() {
    for case in inputs("per_file") {
        let data = fs::read(&case).unwrap();
        let Some((&pick, bytes)) = data.split_first() else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let name = fuzz_common::NAMES[pick as usize % fuzz_common::NAMES.len()];
        write(dir.path(), name, bytes);
        assert_audits_within(dir.path(), 1, &case);
    }
}

#[test]
fn config_regressions() {
    for case in inputs("config") {
        let data = fs::read(&case).unwrap();
        let sep = b"\n//--\n";
        let (config, rules) = match data.windows(sep.len()).position(|w| w == sep) {
            Some(i) => (&data[..i], &data[i + sep.len()..]),
            None => (&data[..], &[][..]),
        };
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "aiguard.toml", config);
        write(dir.path(), "rules.toml", rules);
        assert_audits_within(dir.path(), 2, &case);
    }
}

/// Baseline files (`fuzz_targets/baseline.rs`): loading one either fails
/// with a message or gives a baseline; an audit with it runs.
#[test]
fn baseline_regressions() {
    for case in inputs("baseline") {
        let project = tempfile::tempdir().unwrap();
        write(project.path(), "app.py", b"import os\n");
        // A panic fails the test; any exit status is an answer.
        aiguard::run(
            vec![
                OsString::from("aiguard"),
                "audit".into(),
                project.path().into(),
                "--baseline".into(),
                case.clone().into(),
                "--no-cache".into(),
            ],
            &mut Vec::new(),
            &mut Vec::new(),
        );
    }
}

/// Load the default settings for `root` (as the `fix_plan` target does)
/// and run its checks: fixes keep parsing files parsing, a second plan
/// edits nothing.
fn check_fix_plan(root: &Path) {
    let mut args = aiguard::cli::AuditArgs::defaults(root.to_path_buf());
    args.threads = Some(1);
    let (settings, catalog) = aiguard::commands::load(&args).expect("default settings");
    let templates = aiguard::catalog::fixes::FixTemplates::load().expect("rules/fixes.toml");
    fix_check::check(&settings, &catalog, &templates);
}

/// `fix_plan` inputs (`fuzz_targets/fix_plan.rs`): files named from
/// `FIX_NAMES`, fixed, checked by `fix_check.rs`.
#[test]
fn fix_plan_regressions() {
    for case in inputs("fix_plan") {
        let data = fs::read(&case).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in fuzz_common::files_named(&data, fuzz_common::FIX_NAMES) {
            write(dir.path(), name, bytes);
        }
        eprintln!("{}", case.display());
        check_fix_plan(dir.path());
    }
}

/// The `fix_plan` checks on every fixture project: what `aiguard fix`
/// writes parses when the input did, and fixing twice changes nothing.
#[test]
fn fix_plan_checks_hold_on_every_fixture() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut names: Vec<String> = fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.iter().any(|n| n.starts_with("fix-")));
    for name in names {
        let dir = common::materialize(&name);
        eprintln!("fixture {name}");
        check_fix_plan(dir.path());
    }
}
