//! Inline suppressions: `# aiguard: ignore[id] reason` on a finding's line
//! or the line above hides it, for per-file and project-level findings;
//! suppressions without a reason or that suppress nothing are warnings.

mod common;

use common::*;
use std::fs;
use std::path::Path;

/// A random key of `rule`'s format (no key-shaped text in git).
fn fake_key(rule: &str, seed: u64) -> String {
    let catalog = catalog();
    let template = aiguard::fake::key_template(&catalog.keys, rule).expect("a template");
    aiguard::fake::expand(&template, &mut fastrand::Rng::with_seed(seed))
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// `(check, rule, line)` of every finding in `path`.
fn in_file(json: &serde_json::Value, path: &str) -> Vec<(String, String, u64)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"] == path)
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn owned(items: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    items
        .iter()
        .map(|(c, r, l)| (c.to_string(), r.to_string(), *l))
        .collect()
}

fn keys_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", ".env\n.env.*\n");
    let (a, b, c, d) = (
        fake_key("openai-project-key", 1),
        fake_key("anthropic-api-key", 2),
        fake_key("groq-api-key", 3),
        fake_key("openai-project-key", 4),
    );
    write(
        root,
        "config.py",
        &format!(
            "A = \"{a}\"  # aiguard: ignore[openai-project-key] revoked test key, kept for the replay test\n\
             # aiguard: ignore[keys-in-code] rotated on 2026-10-01\n\
             B = \"{b}\"\n\
             C = \"{c}\"\n\
             \n\
             D = \"{d}\"\n"
        ),
    );
    write(
        root,
        "web/client.js",
        &format!(
            "// aiguard: ignore[groq-api-key]\nconst k = \"{c}\";\n/* aiguard: ignore[keys-in-code] docs sample, revoked */ const j = \"{a}\";\n"
        ),
    );
    dir
}

#[test]
fn suppressions_on_the_line_or_the_line_above_hide_findings() {
    let dir = keys_project();
    let (code, json, _) = audit_json(dir.path(), &[]);
    assert_eq!(
        in_file(&json, "config.py"),
        owned(&[
            ("keys-in-code", "groq-api-key", 4),
            ("keys-in-code", "openai-project-key", 6),
        ]),
        "A (same line) and B (line above) are hidden; C is two lines below the comment"
    );
    assert_eq!(
        in_file(&json, "web/client.js"),
        owned(&[("keys-in-code", "suppression-without-reason", 1)]),
        "a suppression without a reason still hides, and is reported"
    );
    assert_eq!(json["summary"]["suppressed"], 4);
    assert_eq!(code, 1);
    let text = aiguard(&["audit", "."], dir.path()).stdout;
    assert!(
        text.contains(", 4 suppressed (fail on error, exit 1)"),
        "{text}"
    );
}

#[test]
fn unused_and_unknown_suppressions_are_warnings_under_the_check_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", ".env\n.env.*\n");
    let key = fake_key("openai-project-key", 9);
    write(
        root,
        "app.py",
        &format!(
            "from fastapi import FastAPI\n\
             from fastapi.middleware.cors import CORSMiddleware\n\
             app = FastAPI()\n\
             # aiguard: ignore[cors] the finding moved away: stale\n\
             \n\
             app.add_middleware(CORSMiddleware, allow_origins=[\"*\"])\n\
             # aiguard: ignore[cors-wildcard] typo, suppresses nothing\n\
             x = 1\n\
             # aiguard: ignore[openai-key] not an id\n\
             K = \"{key}\"\n"
        ),
    );
    let (code, json, _) = audit_json(root, &[]);
    assert_eq!(
        in_file(&json, "app.py"),
        owned(&[
            ("cors", "unused-suppression", 4),
            ("cors", "cors-wildcard-origin", 6),
            ("cors", "unused-suppression", 7),
            ("keys-in-code", "unused-suppression", 9),
            ("keys-in-code", "openai-project-key", 10),
        ])
    );
    let message = |line: u64| {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["line"] == line && f["rule"] == "unused-suppression")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert!(
        message(7).contains("did you mean `cors-wildcard-"),
        "{}",
        message(7)
    );
    assert!(message(9).contains("`openai-key` is not a check or rule id"));
    for f in json["findings"].as_array().unwrap() {
        if f["rule"] == "unused-suppression" {
            assert_eq!(f["severity"], "warning");
        }
    }
    assert_eq!(code, 1);

    // Off with a flag, or by rule id in the config.
    let (_, json, _) = audit_json(root, &["--no-suppression-warnings"]);
    assert_eq!(in_file(&json, "app.py").len(), 2);
    write(root, "aiguard.toml", "ignore = [\"unused-suppression\"]\n");
    let (_, json, _) = audit_json(root, &[]);
    assert_eq!(in_file(&json, "app.py").len(), 2);
}

#[test]
fn suppressions_of_checks_that_did_not_run_are_not_unused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", ".env\n.env.*\n");
    write(
        root,
        "app.py",
        "# aiguard: ignore[cors] internal tool\nx = 1\n# aiguard: ignore[key-history] only runs with --history\ny = 2\n",
    );
    let (_, json, _) = audit_json(root, &["--select", "keys-in-code"]);
    assert!(in_file(&json, "app.py").is_empty(), "{json}");
    let (_, json, _) = audit_json(root, &[]);
    assert_eq!(
        in_file(&json, "app.py"),
        owned(&[("cors", "unused-suppression", 1)]),
        "key-history did not run (no --history): its suppression waits"
    );
}

#[test]
fn project_level_and_whole_file_findings_honour_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git_init(root);
    write(
        root,
        "api/main.py",
        "from fastapi import FastAPI\n\
         from fastapi.middleware.cors import CORSMiddleware\n\
         app = FastAPI()\n\
         app.add_middleware(  # aiguard: ignore[cors-wildcard-origin] public, read-only, no credentials\n\
             CORSMiddleware, allow_origins=[\"*\"])\n",
    );
    write(
        root,
        ".env",
        "# aiguard: ignore[env-not-ignored] only local defaults, no secrets\nPORT=8000\n",
    );
    write(root, ".gitignore", "node_modules/\n");
    let (_, before, _) = audit_json(root, &["--no-suppression-warnings"]);
    let (_, json, _) = audit_json(root, &[]);
    assert!(in_file(&json, "api/main.py").is_empty(), "{json}");
    assert!(in_file(&json, ".env").is_empty(), "{json}");
    assert!(
        in_file(&json, ".gitignore")
            .iter()
            .any(|(_, r, _)| r == "env-gitignore-gap"),
        "the .gitignore gap is another file's finding: {json}"
    );
    assert_eq!(json["summary"]["suppressed"], 2);
    assert_eq!(before["summary"]["suppressed"], 2);
    // Without the comments, both are findings.
    write(
        root,
        "api/main.py",
        "from fastapi import FastAPI\n\
         from fastapi.middleware.cors import CORSMiddleware\n\
         app = FastAPI()\n\
         app.add_middleware(\n\
             CORSMiddleware, allow_origins=[\"*\"])\n",
    );
    write(root, ".env", "PORT=8000\n");
    let (_, json, _) = audit_json(root, &[]);
    assert!(!in_file(&json, "api/main.py").is_empty());
    assert_eq!(
        in_file(&json, ".env"),
        owned(&[("env-gitignore", "env-not-ignored", 0)])
    );
}

/// Suppression warnings in SARIF: valid against the schema, with their rule
/// in the driver (tagged with the check they were reported under).
#[test]
fn suppression_warnings_are_valid_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", ".env\n.env.*\n");
    write(
        root,
        "app.py",
        "# aiguard: ignore[cors]\nx = 1\n# aiguard: ignore[corz] typo\ny = 2\n",
    );
    let run = aiguard(&["audit", ".", "--format", "sarif"], root);
    let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let schema_path = repo_root().join("../shared/sarif-schema-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let run0 = &sarif["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run0["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "suppression-without-reason",
            "unused-suppression",
            "unused-suppression"
        ]
    );
    for r in results {
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], r["ruleId"]);
        assert_eq!(r["level"], "warning");
        let tags = rule["properties"]["tags"].as_array().unwrap();
        assert!(tags.iter().any(|t| t == "cors"), "{rule}");
    }
}
