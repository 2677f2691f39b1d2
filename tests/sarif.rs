//! `--format sarif`: the output of every fixture validates against the
//! official SARIF 2.1.0 schema (`../shared/sarif-schema-2.1.0.json`), holds
//! what GitHub code scanning needs, and its fingerprints survive line shifts.

mod common;

use common::*;
use serde_json::Value;
use std::collections::HashSet;
use std::fs;
use std::path::Path;

const FINGERPRINT_KEY: &str = "aiguardFingerprint/v1";

/// Every fixture, set up as `tests/fixtures.rs` does (git, forced adds,
/// args from its `fixture.toml`), with its SARIF.
fn every_fixture_sarif() -> Vec<(String, Value)> {
    let mut names: Vec<String> = fs::read_dir(repo_root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no fixtures");
    names
        .into_iter()
        .map(|name| {
            let dir = materialize(&name);
            let args = prepare(&name, dir.path());
            let mut argv = vec!["audit", ".", "--format", "sarif"];
            argv.extend(args.iter().map(String::as_str));
            let (_, sarif) = sarif_of(dir.path(), &argv, &name);
            (name, sarif)
        })
        .collect()
}

/// Apply a fixture's `fixture.toml` set-up; returns its extra arguments.
fn prepare(name: &str, dir: &Path) -> Vec<String> {
    let spec = repo_root().join("fixtures").join(name).join("fixture.toml");
    let Ok(text) = fs::read_to_string(spec) else {
        return Vec::new();
    };
    let spec: toml::Table = toml::from_str(&text).expect("fixture.toml parses");
    let strings = |key: &str| -> Vec<String> {
        spec.get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    if spec.get("git").and_then(|v| v.as_bool()) == Some(true) {
        git_init(dir);
        git(dir, &["add", "-A"]);
        for f in strings("force_add") {
            git(dir, &["add", "-f", &f]);
        }
        for f in strings("untracked") {
            git(dir, &["rm", "-q", "--cached", &f]);
        }
        git(dir, &["commit", "-qm", "fixture", "--allow-empty"]);
    }
    strings("args")
}

fn sarif_of(dir: &Path, args: &[&str], what: &str) -> (i32, Value) {
    let run = aiguard(args, dir);
    assert!(
        run.code == 0 || run.code == 1,
        "{what}: exit {}: {}",
        run.code,
        run.stderr
    );
    let sarif = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", run.stdout));
    (run.code, sarif)
}

#[test]
fn every_fixture_validates_against_the_sarif_schema() {
    let schema_path = repo_root().join("../shared/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(
        &fs::read_to_string(&schema_path)
            .unwrap_or_else(|e| panic!("{}: {e}", schema_path.display())),
    )
    .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let mut results = 0;
    let mut regionless = 0;
    for (name, sarif) in every_fixture_sarif() {
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {}", errors.join("\n"));
        let found = sarif["runs"][0]["results"].as_array().unwrap();
        results += found.len();
        regionless += found
            .iter()
            .filter(|r| r["locations"][0]["physicalLocation"]["region"].is_null())
            .count();
    }
    // The fixtures exercise both kinds of location.
    assert!(
        results > regionless && regionless > 0,
        "{results} {regionless}"
    );
    // A broken document is rejected, so the validator is really checking.
    let bad = serde_json::json!({"version": "2.1.0", "runs": [{"results": []}]});
    assert!(!validator.is_valid(&bad));
}

/// What GitHub code scanning reads from an upload.
#[test]
fn every_fixture_holds_what_github_code_scanning_needs() {
    for (name, sarif) in every_fixture_sarif() {
        assert_eq!(sarif["version"], "2.1.0", "{name}");
        assert!(
            sarif["$schema"].as_str().unwrap().contains("sarif"),
            "{name}"
        );
        let runs = sarif["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1, "{name}: one run");
        let run = &runs[0];
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "aiguard");
        assert!(driver["version"].is_string());
        assert!(driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://"));
        let rules = driver["rules"].as_array().unwrap();
        assert!(rules.len() > 10, "{name}: every rule is listed");
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            ids.len(),
            "{name}: rule ids are unique"
        );
        for rule in rules {
            for field in [
                "/name",
                "/shortDescription/text",
                "/fullDescription/text",
                "/help/text",
                "/help/markdown",
            ] {
                let text = rule.pointer(field).and_then(Value::as_str);
                assert!(text.is_some_and(|t| !t.is_empty()), "{name}: {rule}{field}");
            }
            let level = rule["defaultConfiguration"]["level"].as_str().unwrap();
            assert!(["error", "warning", "note"].contains(&level));
            let tags = rule["properties"]["tags"].as_array().unwrap();
            assert!(
                tags.iter()
                    .any(|t| aiguard::checks::CheckId::parse(t.as_str().unwrap()).is_some()),
                "{name}: {rule} is tagged with its check"
            );
            let score: Option<f64> = rule["properties"]["security-severity"]
                .as_str()
                .and_then(|s| s.parse().ok());
            assert!(
                score.is_some_and(|s| (0.0..=10.0).contains(&s)),
                "{name}: {rule} has a security-severity of 0-10"
            );
        }
        for result in run["results"].as_array().unwrap() {
            let rule_id = result["ruleId"].as_str().unwrap();
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(ids.get(index), Some(&rule_id), "{name}: ruleIndex");
            let level = result["level"].as_str().unwrap();
            assert!(["error", "warning", "note"].contains(&level), "{name}");
            assert!(!result["message"]["text"].as_str().unwrap().is_empty());
            let physical = &result["locations"][0]["physicalLocation"];
            let artifact = &physical["artifactLocation"];
            let uri = artifact["uri"].as_str().unwrap();
            assert!(
                !uri.starts_with("file:") && !uri.starts_with('/') && !uri.contains('\\'),
                "{name}: relative URI {uri}"
            );
            assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
            let fingerprint = result["partialFingerprints"][FINGERPRINT_KEY].as_str();
            assert!(
                fingerprint.is_some_and(|f| f.len() > 16),
                "{name}: {result}"
            );
            let region = &physical["region"];
            if !region.is_null() {
                let start = region["startLine"].as_u64().unwrap();
                assert!(start >= 1);
                assert!(region["endLine"].as_u64().unwrap() >= start);
                assert!(region["startColumn"].as_u64().unwrap() >= 1);
            }
        }
    }
}

#[test]
fn fingerprints_survive_a_line_shift() {
    let dir = materialize("keys-providers");
    let args = ["audit", ".", "--format", "sarif"];
    let (_, before) = sarif_of(dir.path(), &args, "before");
    let results = |sarif: &Value| -> Vec<(String, String, u64)> {
        sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| {
                let physical = &r["locations"][0]["physicalLocation"];
                Some((
                    physical["artifactLocation"]["uri"].as_str()?.to_string(),
                    r["partialFingerprints"][FINGERPRINT_KEY]
                        .as_str()?
                        .to_string(),
                    physical["region"]["startLine"].as_u64()?,
                ))
            })
            .collect()
    };
    let old = results(&before);
    let (path, _, _) = old
        .iter()
        .find(|(p, _, _)| p.ends_with(".py") || p.ends_with(".ts") || p.ends_with(".js"))
        .expect("a finding with a region in a source file")
        .clone();
    let file = dir.path().join(&path);
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, format!("\n\n\n{text}")).unwrap();
    let (_, after) = sarif_of(dir.path(), &args, "after");
    let new = results(&after);
    let in_file = |all: &[(String, String, u64)]| -> Vec<(String, u64)> {
        all.iter()
            .filter(|(p, _, _)| *p == path)
            .map(|(_, f, l)| (f.clone(), *l))
            .collect()
    };
    let (old_in, new_in) = (in_file(&old), in_file(&new));
    assert!(!old_in.is_empty());
    assert_eq!(old_in.len(), new_in.len(), "same findings in {path}");
    for ((old_print, old_line), (new_print, new_line)) in old_in.iter().zip(&new_in) {
        assert_eq!(old_print, new_print, "{path}: fingerprint changed");
        assert_eq!(*new_line, old_line + 3, "{path}: the line moved");
    }
    // Other files are untouched.
    let others = |all: &[(String, String, u64)]| -> Vec<(String, String, u64)> {
        all.iter().filter(|(p, _, _)| *p != path).cloned().collect()
    };
    assert_eq!(others(&old), others(&new));
    // Every fingerprint in the run is distinct.
    let prints: HashSet<&String> = new.iter().map(|(_, f, _)| f).collect();
    assert_eq!(prints.len(), new.len());
}

/// GitHub ranks alerts by `security-severity` and filters by tags: every
/// checklist rule is tagged `security`, with its CWE in GitHub's form and
/// the OWASP LLM Top 10 entry; errors score high (7.0+), warnings medium.
#[test]
fn rules_carry_cwe_owasp_tags_and_a_security_severity() {
    let dir = materialize("demo");
    let (_, sarif) = sarif_of(dir.path(), &["audit", ".", "--format", "sarif"], "demo");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let rule = |id: &str| {
        rules
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no rule {id}"))
    };
    let tags = |r: &Value| -> Vec<String> {
        r["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    };
    let score = |r: &Value| -> f64 {
        r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    for (id, expected) in [
        (
            "openai-project-key",
            ["keys-in-code", "external/cwe/cwe-798"],
        ),
        (
            "ai-endpoint-not-rate-limited",
            ["rate-limit", "external/cwe/cwe-770"],
        ),
        ("cors-wildcard-origin", ["cors", "external/cwe/cwe-942"]),
        ("ai-endpoint-no-auth", ["auth", "external/cwe/cwe-306"]),
    ] {
        let tags = tags(rule(id));
        for tag in ["security", "owasp-llm10"].iter().chain(&expected) {
            assert!(tags.iter().any(|t| t == tag), "{id}: {tag} in {tags:?}");
        }
    }
    assert!(
        score(rule("openai-project-key")) >= 9.0,
        "a leaked key is critical"
    );
    for r in rules {
        let s = score(r);
        match r["defaultConfiguration"]["level"].as_str().unwrap() {
            "error" => assert!(s >= 7.0, "{r}"),
            "warning" => assert!((4.0..7.0).contains(&s), "{r}"),
            _ => assert!(s < 4.0, "{r}"),
        }
        let tags = tags(r);
        assert!(
            tags.iter().any(|t| t.starts_with("external/cwe/cwe-")),
            "{r}"
        );
        assert!(tags.iter().any(|t| t == "owasp-llm10"), "{r}");
    }
}
