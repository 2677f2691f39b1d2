//! Baselines: `aiguard baseline -o FILE` records today's findings and
//! `aiguard audit --baseline FILE` reports only new ones: a finding that
//! moved stays hidden, a different key on the same line does not.

mod common;

use common::*;
use std::fs;
use std::path::Path;

fn fake_key(rule: &str, seed: u64) -> String {
    let catalog = catalog();
    let template = aiguard::fake::key_template(&catalog.keys, rule).expect("a template");
    aiguard::fake::expand(&template, &mut fastrand::Rng::with_seed(seed))
}

const APP: &str = "from fastapi import FastAPI\n\
                   from fastapi.middleware.cors import CORSMiddleware\n\
                   app = FastAPI()\n\
                   app.add_middleware(CORSMiddleware, allow_origins=[\"*\"])\n";

/// Two keys, a CORS wildcard and an unignored `.env`: four findings.
fn project(key: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git_init(root);
    fs::write(root.join(".gitignore"), "node_modules/\n").unwrap();
    fs::write(root.join(".env"), "PORT=8000\n").unwrap();
    fs::write(root.join("app.py"), APP).unwrap();
    fs::write(
        root.join("settings.py"),
        format!(
            "import os\n\nOPENAI_API_KEY = \"{key}\"\nGROQ = \"{}\"\n",
            fake_key("groq-api-key", 7)
        ),
    )
    .unwrap();
    dir
}

fn record(root: &Path) -> String {
    let run = aiguard(&["baseline", ".", "-o", "aiguard-baseline.json"], root);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("recorded") && run.stdout.contains("aiguard-baseline.json"),
        "{}",
        run.stdout
    );
    fs::read_to_string(root.join("aiguard-baseline.json")).unwrap()
}

#[test]
fn a_baseline_hides_what_it_recorded_and_says_how_many() {
    let key = fake_key("openai-project-key", 1);
    let dir = project(&key);
    let root = dir.path();
    let (code, before, _) = audit_json(root, &[]);
    assert_eq!(code, 1);
    let recorded = before["findings"].as_array().unwrap().len();
    assert!(recorded >= 4, "{before}");

    let text = record(root);
    let baseline: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(baseline["version"], 1);
    assert_eq!(baseline["findings"].as_array().unwrap().len(), recorded);
    assert!(!text.contains(&key), "the baseline never holds a secret");
    assert!(!text.contains(&key[key.len() - 4..]), "nor its redaction");
    assert!(!text.contains("\"line\""), "nor a line number");

    let (code, json, _) = audit_json(root, &["--baseline", "aiguard-baseline.json"]);
    assert_eq!(code, 0, "{json}");
    assert!(json["findings"].as_array().unwrap().is_empty(), "{json}");
    assert_eq!(json["summary"]["baselined"], recorded as u64);
    assert_eq!(status_of(&json, "keys-in-code"), "pass");
    let run = aiguard(&["audit", ".", "--baseline", "aiguard-baseline.json"], root);
    assert!(
        run.stdout.contains(&format!(
            "{recorded} hidden by the baseline (fail on error, exit 0)"
        )),
        "{}",
        run.stdout
    );
    let (_, json, _) = audit_json(root, &[]);
    assert_eq!(
        json["summary"]["baselined"], 0,
        "no baseline, nothing hidden"
    );
}

#[test]
fn moving_code_down_does_not_resurrect_a_baselined_finding() {
    let key = fake_key("openai-project-key", 2);
    let dir = project(&key);
    let root = dir.path();
    record(root);
    for file in ["settings.py", "app.py"] {
        let text = fs::read_to_string(root.join(file)).unwrap();
        fs::write(
            root.join(file),
            format!("# a new header\n\"\"\"Docs.\"\"\"\n\n\n{text}"),
        )
        .unwrap();
    }
    let (code, json, _) = audit_json(root, &["--baseline", "aiguard-baseline.json"]);
    assert_eq!(code, 0, "{json}");
    assert!(json["findings"].as_array().unwrap().is_empty(), "{json}");
}

#[test]
fn a_different_key_on_the_same_line_and_new_findings_are_reported() {
    let old = fake_key("openai-project-key", 3);
    let dir = project(&old);
    let root = dir.path();
    record(root);
    let new = fake_key("openai-project-key", 4);
    let settings = fs::read_to_string(root.join("settings.py")).unwrap();
    fs::write(root.join("settings.py"), settings.replace(&old, &new)).unwrap();
    fs::write(root.join("admin.py"), APP).unwrap();
    let (code, json, _) = audit_json(root, &["--baseline", "aiguard-baseline.json"]);
    assert_eq!(code, 1);
    assert_eq!(
        finding_keys(&json),
        [
            "cors cors-wildcard-origin admin.py:4",
            "keys-in-code openai-project-key settings.py:3",
        ]
    );
    let hidden = json["summary"]["baselined"].as_u64().unwrap();
    assert!(hidden >= 3, "the other findings stay hidden: {json}");

    // The same key pasted a second time is new too.
    fs::write(
        root.join("settings.py"),
        settings.clone() + &format!("AGAIN = \"{old}\"\n"),
    )
    .unwrap();
    let (_, json, _) = audit_json(root, &["--baseline", "aiguard-baseline.json"]);
    assert!(
        finding_keys(&json).contains(&"keys-in-code openai-project-key settings.py:5".to_string()),
        "{json}"
    );
}

#[test]
fn baselines_work_with_every_format_and_keep_the_exit_code_contract() {
    let dir = project(&fake_key("openai-project-key", 5));
    let root = dir.path();
    record(root);
    fs::write(root.join("admin.py"), APP).unwrap();
    for format in ["text", "sarif", "github", "junit", "gitlab"] {
        let run = aiguard(
            &[
                "audit",
                ".",
                "--format",
                format,
                "--baseline",
                "aiguard-baseline.json",
            ],
            root,
        );
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert!(run.stdout.contains("admin.py"), "{format}");
        assert!(!run.stdout.contains("settings.py"), "{format}: hidden");
    }
}

#[test]
fn a_missing_or_broken_baseline_exits_2() {
    let dir = project(&fake_key("openai-project-key", 6));
    let root = dir.path();
    let run = aiguard(&["audit", ".", "--baseline", "nope.json"], root);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("nope.json: cannot read the baseline"),
        "{}",
        run.stderr
    );
    fs::write(
        root.join("broken.json"),
        "{\n  \"version\": 1,\n  \"findings\": 3\n}\n",
    )
    .unwrap();
    let run = aiguard(&["audit", ".", "--baseline", "broken.json"], root);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("broken.json:3: not an aiguard baseline"),
        "{}",
        run.stderr
    );
    let run = aiguard(&["baseline", "."], root);
    assert_eq!(run.code, 2, "-o is required");
}
