//! keys-in-code beyond the fixtures: redaction in every output, and files
//! too large to read whole.

mod common;

use common::*;
use std::fs;

/// Every fixture that holds fake keys, in every format, to stdout and to a
/// file: no key may appear in full anywhere.
#[test]
fn no_output_ever_holds_a_full_key() {
    let mut fixtures_with_keys = 0;
    let mut evidence_seen = 0;
    for entry in fs::read_dir(repo_root().join("fixtures")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let (dir, keys) = materialize_with_keys(&name);
        if keys.is_empty() {
            continue;
        }
        fixtures_with_keys += 1;
        for format in ["text", "json", "sarif", "github", "junit", "gitlab"] {
            let report = dir.path().join(format!("report.{format}"));
            for args in [
                vec!["audit", ".", "--format", format, "--color", "always"],
                vec![
                    "audit",
                    ".",
                    "--format",
                    format,
                    "--output",
                    report.to_str().unwrap(),
                ],
            ] {
                let run = aiguard(&args, dir.path());
                assert!(run.code == 0 || run.code == 1, "{name}: {}", run.stderr);
                let written = fs::read_to_string(&report).unwrap_or_default();
                for key in &keys {
                    for (what, text) in [
                        ("stdout", &run.stdout),
                        ("stderr", &run.stderr),
                        ("file", &written),
                    ] {
                        assert!(
                            !text.contains(key.as_str()),
                            "{name} --format {format}: full key in {what}"
                        );
                    }
                    let last4 = &key[key.len() - 4..];
                    evidence_seen += run.stdout.matches(&format!("…{last4}")).count();
                }
            }
        }
    }
    assert!(fixtures_with_keys >= 1, "no fixture holds a fake key");
    assert!(evidence_seen > 0, "redacted evidence is shown");
}

/// A file over the size cap is scanned in chunks, with exact positions,
/// including a key that straddles a chunk boundary and keys on a 9 MB line.
#[test]
fn huge_files_are_scanned_in_chunks_with_exact_positions() {
    let catalog = catalog();
    let mut rng = fastrand::Rng::with_seed(99);
    let template = aiguard::fake::key_template(&catalog.keys, "openai-project-key").unwrap();
    // Three different keys: the same key in several places is one finding.
    let mut key = || aiguard::fake::expand(&template, &mut rng);
    let dir = tempfile::tempdir().unwrap();
    // A minified bundle: one 9 MB line, a key near the start and one across
    // the first 4 MiB chunk boundary.
    let mut line = "var a=1;".repeat(1_200_000).into_bytes();
    let boundary = 4 * 1024 * 1024 - 20;
    let first = 100;
    for at in [first, boundary] {
        let snippet = format!("k=\"{}\";", key());
        line.splice(at..at + snippet.len(), snippet.bytes());
    }
    let mut text = b"/* bundle */\n".to_vec();
    text.extend_from_slice(&line);
    text.extend_from_slice(b"\nconst b = 2;\n");
    // And a key on line 5 after the long line.
    text.extend_from_slice(format!("const c = 3;\nconst k = \"{}\";\n", key()).as_bytes());
    fs::write(dir.path().join("bundle.min.js"), &text).unwrap();
    fs::write(dir.path().join("aiguard.toml"), "max-file-size = 1048576\n").unwrap();
    let (_, json, _) = audit_json(dir.path(), &["--select", "keys-in-code"]);
    let found: Vec<(u64, u64)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap()))
        .collect();
    let col = |at: usize| (at + 1 + 3) as u64; // 1-based, after `k="`
    assert_eq!(
        found,
        vec![(2, col(first)), (2, col(boundary)), (5, 12)],
        "{json}"
    );
    let note = json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["path"] == "bundle.min.js")
        .unwrap();
    assert_eq!(note["kind"], "too-large");
    assert!(note["message"]
        .as_str()
        .unwrap()
        .contains("scanned for keys in chunks"));
}
