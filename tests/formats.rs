//! The CI formats on real fixtures: GitHub Actions annotations, JUnit XML
//! and GitLab Code Quality JSON (SARIF has its own file, `sarif.rs`).

mod common;

use common::*;
use serde_json::Value;
use std::collections::HashSet;

#[test]
fn github_prints_one_annotation_per_finding_and_exits_1() {
    let dir = materialize("keys-providers");
    git_init(dir.path());
    let (_, json, _) = audit_json(dir.path(), &[]);
    let run = aiguard(&["audit", ".", "--format", "github"], dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), json["findings"].as_array().unwrap().len());
    for line in &lines {
        assert!(
            line.starts_with("::error file=") || line.starts_with("::warning file="),
            "{line}"
        );
        let (props, message) = line[2..].split_once("::").expect("props::message");
        assert!(props.contains(",title="), "{line}");
        assert!(!message.is_empty());
    }
    // A finding with a one-line span carries its columns.
    let first = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["line"].is_u64())
        .unwrap();
    let expected = format!(
        "file={},line={},endLine={},col={},endColumn={},title=",
        first["path"].as_str().unwrap(),
        first["line"],
        first["end_line"],
        first["column"],
        first["end_column"]
    );
    assert!(run.stdout.contains(&expected), "{expected}\n{}", run.stdout);

    // Whole-file findings carry only the file.
    let env = materialize("env-no-gitignore");
    let run = aiguard(&["audit", ".", "--format", "github"], env.path());
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("::error file=.env,title="),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("aiguard: note:"),
        "notes go to stderr: {}",
        run.stderr
    );
}

#[test]
fn junit_has_one_testcase_per_checklist_item() {
    let dir = materialize("env-no-gitignore");
    let run = aiguard(&["audit", ".", "--format", "junit"], dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    let xml = &run.stdout;
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    assert_well_formed(xml);
    assert_eq!(xml.matches("<testsuite ").count(), 1);
    assert!(xml.contains("<testsuite name=\"aiguard\" tests=\"11\""));
    assert_eq!(xml.matches("<testcase ").count(), 11);
    for id in ["keys-in-code", "env-gitignore", "spend-limits"] {
        assert!(
            xml.contains(&format!("<testcase name=\"{id}\" classname=\"aiguard\"")),
            "{id}"
        );
    }
    let env_case = testcase(xml, "env-gitignore");
    assert!(env_case.contains("<failure message=\".env files are ignored by git"));
    assert!(env_case.contains("type=\"error\""));
    assert!(
        env_case.contains(".env: error [env-not-ignored]"),
        "{env_case}"
    );
    let manual = testcase(xml, "spend-limits");
    assert!(manual.contains("<skipped message=\"manual: "), "{manual}");
    assert!(!testcase(xml, "keys-in-code").contains("<failure"));
    let failures = xml.matches("<failure ").count();
    assert!(xml.contains(&format!("failures=\"{failures}\"")));
}

/// The text of `<testcase name="id" …>` up to its end.
fn testcase<'x>(xml: &'x str, id: &str) -> &'x str {
    let start = xml
        .find(&format!("<testcase name=\"{id}\""))
        .unwrap_or_else(|| panic!("no testcase {id}"));
    let rest = &xml[start..];
    let end = rest
        .find("\n    <testcase ")
        .or_else(|| rest.find("</testsuite>"))
        .unwrap();
    &rest[..end]
}

/// A small well-formedness check: tags nest and close, attributes are
/// quoted, and no raw `<` or `&` hides in text or attribute values.
fn assert_well_formed(xml: &str) {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .unwrap();
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        check_text(&rest[..open]);
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open + 1..close];
        assert!(!tag.contains('<'), "raw < in tag {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "mismatched </{name}>");
        } else {
            let name = tag.split([' ', '/']).next().unwrap();
            assert!(!name.is_empty(), "empty tag name");
            let attrs = tag[name.len()..].trim_end_matches('/');
            assert_eq!(
                attrs.matches('"').count() % 2,
                0,
                "unbalanced quotes: {tag}"
            );
            for value in attrs.split('"').skip(1).step_by(2) {
                check_text(value);
            }
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
        rest = &rest[close + 1..];
    }
    check_text(rest);
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

fn check_text(text: &str) {
    assert!(
        !text.contains('<') && !text.contains('>'),
        "raw markup: {text}"
    );
    for (i, _) in text.match_indices('&') {
        let entity = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#10;", "&#13;", "&#9;"]
                .contains(&entity),
            "bad entity {entity:?} in {text:?}"
        );
    }
}

#[test]
fn gitlab_is_a_code_quality_array_with_unique_fingerprints() {
    let dir = materialize("keys-providers");
    git_init(dir.path());
    let (_, json, _) = audit_json(dir.path(), &[]);
    let run = aiguard(&["audit", ".", "--format", "gitlab"], dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    let issues: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let issues = issues.as_array().expect("an array");
    assert_eq!(issues.len(), json["findings"].as_array().unwrap().len());
    assert!(issues.len() > 5);
    let mut prints = HashSet::new();
    for issue in issues {
        for field in ["description", "check_name", "fingerprint"] {
            assert!(
                issue[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field}: {issue}"
            );
        }
        assert!(["critical", "minor"].contains(&issue["severity"].as_str().unwrap()));
        assert!(issue["location"]["path"].is_string());
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        assert!(prints.insert(issue["fingerprint"].as_str().unwrap().to_string()));
    }

    // Whole-file findings begin at line 1.
    let env = materialize("env-no-gitignore");
    let run = aiguard(&["audit", ".", "--format", "gitlab"], env.path());
    let issues: Value = serde_json::from_str(&run.stdout).unwrap();
    let env_file = issues
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["location"]["path"] == ".env")
        .unwrap();
    assert_eq!(env_file["location"]["lines"]["begin"], 1);
    assert_eq!(env_file["severity"], "critical");
}

#[test]
fn every_format_writes_to_a_file_with_the_same_exit_code() {
    let dir = materialize("env-no-gitignore");
    for format in ["sarif", "github", "junit", "gitlab"] {
        let out = dir.path().join(format!("report.{format}"));
        let run = aiguard(
            &[
                "audit",
                ".",
                "--format",
                format,
                "--output",
                out.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{format}");
        assert!(!std::fs::read_to_string(&out).unwrap().is_empty());
    }
}

/// The same key twice in one file: two findings with the same check, rule,
/// path and evidence still get distinct fingerprints in GitLab and SARIF.
#[test]
fn a_repeated_key_gets_distinct_fingerprints() {
    let catalog = catalog();
    let template = aiguard::fake::key_template(&catalog.keys, "openai-project-key").unwrap();
    let key = aiguard::fake::expand(&template, &mut fastrand::Rng::with_seed(7));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("settings.py"),
        format!("OPENAI_API_KEY = \"{key}\"\nBACKUP_KEY = \"{key}\"\n"),
    )
    .unwrap();
    let args = ["audit", ".", "--select", "keys-in-code", "--format"];
    let gitlab = aiguard(&[&args[..], &["gitlab"]].concat(), dir.path());
    let issues: Value = serde_json::from_str(&gitlab.stdout).unwrap();
    let prints: HashSet<&str> = issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(prints.len(), 2, "{}", gitlab.stdout);
    let sarif = aiguard(&[&args[..], &["sarif"]].concat(), dir.path());
    let sarif: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let prints: HashSet<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["partialFingerprints"]["aiguardFingerprint/v1"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(prints.len(), 2);
}
