//! The command-line contract: exit codes, the JSON shape, --output,
//! colour, config errors, and bad input that must never stop an audit.

mod common;

use common::*;
use std::fs;

#[test]
fn exit_codes_follow_fail_on() {
    let dir = materialize("env-no-gitignore");
    assert_eq!(aiguard(&["audit", "."], dir.path()).code, 1);
    assert_eq!(
        aiguard(&["audit", ".", "--fail-on", "never"], dir.path()).code,
        0
    );
    let clean = materialize("env-ok");
    git_init(clean.path());
    assert_eq!(aiguard(&["audit", "."], clean.path()).code, 0);
    assert_eq!(
        aiguard(&["audit", ".", "--fail-on", "warning"], clean.path()).code,
        0
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = aiguard(&["audit", ".", "--format", "xml"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("xml"));
    let run = aiguard(&["audit", "does-not-exist"], dir.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("does-not-exist: not a directory"),
        "{}",
        run.stderr
    );
    let run = aiguard(&["audit", ".", "--select", "rate-limits"], dir.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown check `rate-limits`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_broken_config_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("aiguard.toml"),
        "fail-on = \"error\"\n\nmax-file-sise = 10\n",
    )
    .unwrap();
    let run = aiguard(&["audit", "."], dir.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("aiguard.toml:3: unknown field `max-file-sise`"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());

    fs::remove_file(dir.path().join("aiguard.toml")).unwrap();
    fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\n\n[tool.aiguard]\nfail-on = 3\n",
    )
    .unwrap();
    let run = aiguard(&["audit", "."], dir.path());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("pyproject.toml:5:"), "{}", run.stderr);
}

#[test]
fn config_sets_fail_on_and_excludes() {
    let dir = materialize("env-no-gitignore");
    fs::write(dir.path().join("aiguard.toml"), "fail-on = \"never\"\n").unwrap();
    assert_eq!(aiguard(&["audit", "."], dir.path()).code, 0);
    // The command line wins over the config.
    assert_eq!(
        aiguard(&["audit", ".", "--fail-on", "error"], dir.path()).code,
        1
    );
}

#[test]
fn json_follows_the_contract() {
    let dir = materialize("env-no-gitignore");
    let (code, json, _) = audit_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(json["version"], 1);
    assert_eq!(json["tool"]["name"], "aiguard");
    assert_eq!(json["root"], ".");
    for field in ["errors", "warnings", "files_scanned", "duration_ms"] {
        assert!(json["summary"][field].is_u64(), "summary.{field}");
    }
    assert_eq!(json["summary"]["errors"], 2);
    let checklist = json["checklist"].as_array().unwrap();
    let ids: Vec<&str> = checklist
        .iter()
        .map(|i| i["check"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "keys-in-code",
            "keys-in-client",
            "rate-limit",
            "rate-limit-store",
            "auth",
            "quota",
            "loops",
            "cors",
            "env-gitignore",
            "key-history",
            "spend-limits"
        ]
    );
    for item in checklist {
        assert!(item["title"].is_string() && item["findings"].is_u64());
        let status = item["status"].as_str().unwrap();
        assert!(
            ["pass", "fail", "warn", "n/a", "manual", "skipped"].contains(&status),
            "{status}"
        );
    }
    assert_eq!(status_of(&json, "spend-limits"), "manual");
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "env-not-ignored")
        .unwrap();
    for field in ["check", "rule", "severity", "path", "message", "fix"] {
        assert!(finding[field].is_string(), "finding.{field}");
    }
    // A whole-file finding has null positions.
    for field in ["line", "column", "end_line", "end_column"] {
        assert!(finding[field].is_null(), "finding.{field}");
    }
    assert_eq!(finding["path"], ".env");
}

#[test]
fn output_file_gets_the_report_and_the_exit_code_is_unchanged() {
    let dir = materialize("env-no-gitignore");
    let out = dir.path().join("report.json");
    let run = aiguard(
        &[
            "audit",
            ".",
            "--format",
            "json",
            "--output",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(json["summary"]["errors"], 2);
}

#[test]
fn text_report_is_a_checklist_with_places_and_fixes() {
    let dir = materialize("env-no-gitignore");
    let run = aiguard(&["audit", "."], dir.path());
    assert!(
        !run.stdout.contains('\u{1b}'),
        "no colour when not a terminal"
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    let fail = lines
        .iter()
        .position(|l| l.contains("FAIL") && l.contains(".env files are ignored by git"))
        .unwrap();
    assert!(
        lines[fail + 1].contains(".env  error  env-not-ignored")
            || lines[fail + 1].contains(".gitignore  error")
    );
    assert!(
        run.stdout.contains(
            "fix: Create .gitignore with:\n                 .env\n                 .env.*"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("MANUAL"));
    assert!(run.stdout.contains("not a git repository"));
    assert!(
        run.stdout
            .trim_end()
            .ends_with("failed: 2 errors, 0 warnings (fail on error, exit 1)"),
        "{}",
        run.stdout
    );
    let colored = aiguard(&["audit", ".", "--color", "always"], dir.path());
    assert!(colored.stdout.contains('\u{1b}'));
}

#[test]
fn bad_input_is_noted_and_the_audit_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("image.png"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    fs::write(root.join("latin1.py"), b"name = 'caf\xe9'\n").unwrap();
    let big = fs::File::create(root.join("huge.log")).unwrap();
    big.set_len(50 * 1024 * 1024).unwrap(); // sparse: 50 MB of NULs, over the size cap
    drop(big);
    fs::create_dir(root.join("loop")).unwrap();
    std::os::unix::fs::symlink("..", root.join("loop/up")).unwrap();
    std::os::unix::fs::symlink("missing.txt", root.join("dangling")).unwrap();
    let fifo = root.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let secret = root.join("secret.txt");
    fs::write(&secret, "locked\n").unwrap();
    let mut perms = fs::metadata(&secret).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o000);
    fs::set_permissions(&secret, perms).unwrap();
    let locked_out = fs::read(&secret).is_err(); // false as root

    let (code, json, stderr) = audit_json(root, &[]);
    assert_eq!(code, 1, "the .env gap still fails; stderr: {stderr}");
    let notes = notes_of(&json);
    let has = |path: &str, kind: &str| notes.contains(&(path.to_string(), kind.to_string()));
    assert!(has("image.png", "binary"), "{notes:?}");
    assert!(has("latin1.py", "not-utf8"), "{notes:?}");
    assert!(has("huge.log", "too-large"), "{notes:?}");
    assert!(has("loop/up", "symlink"), "{notes:?}");
    assert!(has("dangling", "symlink"), "{notes:?}");
    if made {
        assert!(has("pipe", "not-regular"), "{notes:?}");
    }
    if locked_out {
        assert!(has("secret.txt", "unreadable"), "{notes:?}");
    }
    assert!(
        stderr.contains("huge.log"),
        "notes reach stderr in JSON mode: {stderr}"
    );
}

#[test]
fn help_and_version_print_once_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["--version"],
        &["audit", "--help"],
        &["inventory", "-h"],
    ] {
        let run = aiguard(args, dir.path());
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr, "", "{args:?}");
        assert!(!run.stdout.is_empty(), "{args:?}");
    }
    let run = aiguard(&["--version"], dir.path());
    assert_eq!(
        run.stdout,
        format!("aiguard {}\n", env!("CARGO_PKG_VERSION"))
    );
    let run = aiguard(&["--help"], dir.path());
    assert_eq!(
        run.stdout.matches("Usage: aiguard").count(),
        1,
        "{}",
        run.stdout
    );
}

/// Flags `inventory` has no use for are usage errors, never ignored.
#[test]
fn inventory_refuses_flags_that_do_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["inventory", ".", "--format", "sarif"][..],
        &["inventory", ".", "--staged"],
        &["inventory", ".", "--history"],
        &["inventory", ".", "--baseline", "b.json"],
        &["inventory", ".", "--fail-on", "warning"],
        &["inventory", ".", "-o", "x.txt"],
    ] {
        let run = aiguard(args, dir.path());
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
    }
    assert_eq!(
        aiguard(&["inventory", ".", "--format", "json"], dir.path()).code,
        0
    );
}

/// `aiguard audit apps/web apps/api`: each folder audited as its own
/// project, one report, files named from the current directory.
#[test]
fn several_paths_make_one_report() {
    let (dir, keys) = materialize_with_keys("keys-providers");
    let top = tempfile::tempdir().unwrap();
    let apps = top.path().join("apps");
    std::fs::create_dir_all(&apps).unwrap();
    copy_dir(dir.path(), &apps.join("web"));
    let api = materialize("ratelimit-express");
    copy_dir(api.path(), &apps.join("api"));
    let alone = |name: &str| {
        let (_, json, _) = audit_json(&apps.join(name), &[]);
        finding_keys(&json)
    };
    let expected: Vec<String> = {
        let mut all: Vec<String> = ["web", "api"]
            .iter()
            .flat_map(|name| {
                alone(name).into_iter().map(move |k| {
                    // `check rule path:line` → the path from `top`.
                    let mut parts = k.splitn(3, ' ');
                    let (check, rule, place) = (
                        parts.next().unwrap(),
                        parts.next().unwrap(),
                        parts.next().unwrap(),
                    );
                    format!("{check} {rule} apps/{name}/{place}")
                })
            })
            .collect();
        all.sort();
        all
    };
    assert!(expected.len() > 4, "{expected:?}");
    let run = aiguard(
        &["audit", "apps/web", "./apps/api/", "--format", "json"],
        top.path(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(finding_keys(&json), expected);
    let files: u64 = ["web", "api"]
        .iter()
        .map(|n| {
            audit_json(&apps.join(n), &[]).1["summary"]["files_scanned"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(json["summary"]["files_scanned"], files);
    for key in &keys {
        assert!(!run.stdout.contains(key.as_str()));
    }
    // Same order of paths or not, the same fingerprints (SARIF).
    let prints = |args: &[&str]| {
        let run = aiguard(args, top.path());
        let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let mut prints: Vec<String> = sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].to_string())
            .collect();
        prints.sort();
        prints
    };
    let a = prints(&["audit", "apps/web", "apps/api", "--format", "sarif"]);
    let b = prints(&["audit", "apps/api", "apps/web", "--format", "sarif"]);
    assert_eq!(a, b);
    assert_eq!(
        a.iter().collect::<std::collections::HashSet<_>>().len(),
        a.len()
    );
    // A baseline of both hides everything in both.
    let base = top.path().join("base.json");
    let run = aiguard(
        &[
            "baseline",
            "apps/web",
            "apps/api",
            "-o",
            base.to_str().unwrap(),
        ],
        top.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = aiguard(
        &[
            "audit",
            "apps/api",
            "apps/web",
            "--baseline",
            base.to_str().unwrap(),
        ],
        top.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    // The same folder twice, or one inside another: a usage error.
    for args in [
        &["audit", "apps/web", "apps/web/"][..],
        &["audit", "apps", "apps/api"],
    ] {
        let run = aiguard(args, top.path());
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("overlap"), "{}", run.stderr);
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
