//! Every fixture project under `fixtures/` is audited and must produce
//! exactly the findings its `fixture.toml` lists (rule, path, line), the
//! listed checklist statuses, and the exit code. Exact equality: a finding
//! that appears or vanishes fails the test, so "must flag" and "must leave
//! alone" are both asserted.

mod common;

use common::*;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// `git init` and commit what .gitignore lets through.
    #[serde(default)]
    git: bool,
    /// Files to `git add -f` (tracked although ignored).
    #[serde(default)]
    force_add: Vec<String>,
    /// Files left out of the commit (present but untracked).
    #[serde(default)]
    untracked: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
    exit: i32,
    findings: Vec<String>,
    /// Severity counts, when the fixture is about severities.
    errors: Option<u64>,
    warnings: Option<u64>,
    #[serde(default)]
    checklist: BTreeMap<String, String>,
}

fn run_fixture(name: &str) -> Result<(), String> {
    let spec_path = repo_root().join("fixtures").join(name).join("fixture.toml");
    let expect: Expect = toml::from_str(&std::fs::read_to_string(&spec_path).unwrap())
        .map_err(|e| format!("{}: {e}", spec_path.display()))?;
    let dir = materialize(name);
    if expect.git {
        git_init(dir.path());
        git(dir.path(), &["add", "-A"]);
        for f in &expect.force_add {
            git(dir.path(), &["add", "-f", f]);
        }
        for f in &expect.untracked {
            git(dir.path(), &["rm", "-q", "--cached", f]);
        }
        git(dir.path(), &["commit", "-qm", "fixture", "--allow-empty"]);
    }
    let args: Vec<&str> = expect.args.iter().map(String::as_str).collect();
    let (code, json, stderr) = audit_json(dir.path(), &args);
    let mut problems = Vec::new();
    let mut want = expect.findings.clone();
    want.sort();
    let got = finding_keys(&json);
    if got != want {
        let missing: Vec<_> = want.iter().filter(|w| !got.contains(w)).collect();
        let extra: Vec<_> = got.iter().filter(|g| !want.contains(g)).collect();
        problems.push(format!(
            "findings differ\n    missing: {missing:#?}\n    unexpected: {extra:#?}"
        ));
    }
    for (what, want) in [("errors", expect.errors), ("warnings", expect.warnings)] {
        let got = json["summary"][what].as_u64();
        if want.is_some() && got != want {
            problems.push(format!("summary.{what}: expected {want:?}, got {got:?}"));
        }
    }
    for (check, status) in &expect.checklist {
        let actual = status_of(&json, check);
        if &actual != status {
            problems.push(format!(
                "checklist {check}: expected {status}, got {actual}"
            ));
        }
    }
    if code != expect.exit {
        problems.push(format!(
            "exit code {code}, expected {}; stderr: {stderr}",
            expect.exit
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("fixture {name}:\n  {}", problems.join("\n  ")))
    }
}

#[test]
fn every_fixture_matches_its_expectations() {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("fixtures"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("fixture.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 5, "fixtures found: {names:?}");
    let failures: Vec<String> = names.iter().filter_map(|n| run_fixture(n).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

/// Every rule a fixture produces is registered in the catalogue (so SARIF,
/// `aiguard rules` and `explain` know it), under the check it reports.
#[test]
fn every_emitted_rule_is_registered() {
    let catalog = catalog();
    let rules = catalog.all_rules();
    for entry in std::fs::read_dir(repo_root().join("fixtures")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let dir = materialize(&name);
        let (_, json, _) = audit_json(dir.path(), &[]);
        for f in json["findings"].as_array().unwrap() {
            let rule = rules.iter().find(|r| r.id == f["rule"].as_str().unwrap());
            let rule =
                rule.unwrap_or_else(|| panic!("{name}: rule {} is not in rules/*.toml", f["rule"]));
            assert_eq!(
                rule.check.as_str(),
                f["check"].as_str().unwrap(),
                "{name}: {}",
                rule.id
            );
        }
    }
}
