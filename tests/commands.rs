//! `aiguard rules`, `aiguard explain` and `aiguard init`.

mod common;

use common::*;
use std::fs;

#[test]
fn rules_lists_every_check_and_rule_with_check_severity_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let run = aiguard(&["rules"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with("CHECK")
            && lines[0].contains("SEVERITY")
            && lines[0].contains("FILES")
    );
    let catalog = catalog();
    for check in aiguard::checks::CheckId::ALL {
        let spec = catalog.check(check);
        let row = lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(check.as_str()))
            .unwrap_or_else(|| panic!("no row for {check}"));
        assert!(
            row.contains(&spec.severity) && row.contains(&spec.files),
            "{row}"
        );
    }
    let header = lines.iter().position(|l| l.starts_with("RULE")).unwrap();
    assert!(lines[header].contains("CHECK") && lines[header].contains("DESCRIPTION"));
    for rule in catalog.all_rules() {
        let row = lines[header..]
            .iter()
            .find(|l| l.split_whitespace().next() == Some(rule.id.as_str()))
            .unwrap_or_else(|| panic!("no row for {}", rule.id));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[1], rule.check.as_str(), "{row}");
        assert!(
            ["error", "warning", "error/warning"].contains(&cells[2]),
            "{row}"
        );
    }
    for meta in ["unused-suppression", "suppression-without-reason"] {
        assert!(lines.iter().any(|l| l.starts_with(meta)), "{meta}");
    }
}

#[test]
fn every_check_has_bad_and_good_examples() {
    let catalog = catalog();
    for spec in &catalog.checks {
        for (what, text) in [
            ("files", &spec.files),
            ("bad", &spec.bad),
            ("good", &spec.good),
        ] {
            assert!(!text.trim().is_empty(), "{}: empty {what}", spec.id);
        }
        assert_ne!(spec.bad.trim(), spec.good.trim(), "{}", spec.id);
    }
    assert_eq!(catalog.meta_rules.len(), 2);
}

#[test]
fn explain_a_check() {
    let dir = tempfile::tempdir().unwrap();
    let run = aiguard(&["explain", "cors"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let spec = catalog().check(aiguard::checks::CheckId::Cors).clone();
    let out = &run.stdout;
    assert!(
        out.starts_with("cors: CORS is restricted to known origins\n"),
        "{out}"
    );
    for heading in [
        "\nWhy it matters\n",
        "\nBad\n",
        "\nGood\n",
        "\nFix\n",
        "\nRules\n",
    ] {
        assert!(out.contains(heading), "{heading:?} in {out}");
    }
    let bad_line = spec.bad.trim().lines().next().unwrap();
    assert!(out.contains(&format!("  {bad_line}")), "{out}");
    assert!(out.contains("cors-wildcard-origin"));
    assert!(out.contains("# aiguard: ignore[cors] <reason>"));
}

#[test]
fn explain_a_key_rule_shows_the_revoke_url_and_its_checks_texts() {
    let dir = tempfile::tempdir().unwrap();
    let run = aiguard(&["explain", "openai-project-key"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(out.starts_with("openai-project-key: "), "{out}");
    assert!(out.contains("rule of `keys-in-code`"));
    assert!(out.contains("provider: OpenAI"));
    assert!(out.contains("https://platform.openai.com/"), "{out}");
    assert!(out.contains("os.environ[\"OPENAI_API_KEY\"]"));
    for id in [
        "cors-wildcard-origin",
        "stale-attestation",
        "unused-suppression",
    ] {
        let run = aiguard(&["explain", id], dir.path());
        assert_eq!(run.code, 0, "{id}: {}", run.stderr);
        assert!(
            run.stdout.contains("\nBad\n") && run.stdout.contains("\nFix\n"),
            "{id}"
        );
    }
}

#[test]
fn explain_an_unknown_id_exits_2_with_close_matches() {
    let dir = tempfile::tempdir().unwrap();
    let run = aiguard(&["explain", "openai-projet-key"], dir.path());
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains(
            "unknown check or rule `openai-projet-key`; did you mean `openai-project-key`"
        ),
        "{}",
        run.stderr
    );
    let run = aiguard(&["explain", "zzzzzzzz"], dir.path());
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
}

#[test]
fn init_writes_a_config_refuses_to_overwrite_and_prints_snippets() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let run = aiguard(&["init"], root);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written = fs::read_to_string(root.join("aiguard.toml")).unwrap();
    assert_eq!(written, aiguard::commands::CONFIG_TEMPLATE);
    for key in [
        "fail-on",
        "select",
        "ignore",
        "include",
        "extend-exclude",
        "exclude",
        "max-file-size",
        "max-parse-size",
        "key-rules",
        "[severity]",
        "[attest]",
        "spend-limits",
    ] {
        assert!(written.contains(key), "the template mentions {key}");
    }
    let out = &run.stdout;
    assert!(
        out.contains("repo: local") && out.contains("id: aiguard"),
        "{out}"
    );
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        out.contains("language: python")
            && out.contains(&format!(
                "additional_dependencies: [\"aiguard=={version}\"]"
            )),
        "the pre-commit hook installs the wheel: {out}"
    );
    assert!(out.contains("uses: aiguard/aiguard@v1"), "{out}");
    assert!(out.contains(&format!("version: {version}\n")), "{out}");
    assert!(out.contains("sarif: aiguard.sarif"));
    assert!(out.contains("security-events: write"));
    assert!(
        !out.contains("{version}") && !out.contains("{repository}"),
        "placeholders filled: {out}"
    );

    fs::write(root.join("aiguard.toml"), "fail-on = \"never\"\n").unwrap();
    let run = aiguard(&["init"], root);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("already exists") && run.stderr.contains("--force"));
    assert_eq!(
        fs::read_to_string(root.join("aiguard.toml")).unwrap(),
        "fail-on = \"never\"\n",
        "left alone"
    );
    let run = aiguard(&["init", "--force"], root);
    assert_eq!(run.code, 0);
    assert_eq!(
        fs::read_to_string(root.join("aiguard.toml")).unwrap(),
        aiguard::commands::CONFIG_TEMPLATE
    );
    // The written config is valid.
    let run = aiguard(&["audit", "."], root);
    assert_ne!(run.code, 2, "{}", run.stderr);
}

#[test]
fn rules_survives_a_closed_pipe() {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_aiguard"))
        .arg("rules")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn explain_names_the_owasp_and_cwe_entries_of_each_check() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = catalog();
    for spec in &catalog.checks {
        assert!(
            !spec.cwe.is_empty() && !spec.owasp.is_empty(),
            "{}",
            spec.id
        );
        let run = aiguard(&["explain", &spec.id], dir.path());
        assert_eq!(run.code, 0, "{}", run.stderr);
        for cwe in &spec.cwe {
            let line = format!("{cwe}: {}\n", catalog.standards.cwe[cwe]);
            assert!(run.stdout.contains(&line), "{line} in {}", run.stdout);
        }
    }
    let run = aiguard(&["explain", "rate-limit"], dir.path());
    assert!(run
        .stdout
        .contains("OWASP Top 10 for LLM Applications: LLM10:2025 Unbounded Consumption\n"));
    assert!(run
        .stdout
        .contains("CWE-770: Allocation of Resources Without Limits or Throttling\n"));
    // A rule names its check's entries.
    let run = aiguard(&["explain", "openai-project-key"], dir.path());
    assert!(run
        .stdout
        .contains("CWE-798: Use of Hard-coded Credentials\n"));
}

#[test]
fn completions_for_each_shell_name_the_subcommands_and_options() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _aiguard"),
        ("zsh", "#compdef aiguard"),
        ("fish", "complete -c aiguard"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let run = aiguard(&["completions", shell], dir.path());
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains(marker), "{shell}: {marker}");
        for word in ["audit", "explain", "completions", "fail-on", "staged"] {
            assert!(run.stdout.contains(word), "{shell} completes {word}");
        }
        if shell != "powershell" {
            assert!(
                run.stdout.contains("sarif"),
                "{shell} completes --format's values"
            );
        }
    }
    let run = aiguard(&["completions", "tcsh"], dir.path());
    assert_eq!(run.code, 2, "an unknown shell is a usage error");
}

#[test]
fn man_pages_from_the_cli_definition() {
    let dir = tempfile::tempdir().unwrap();
    let run = aiguard(&["man"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(".TH aiguard 1"), "{}", run.stdout);
    assert!(run.stdout.contains(".SH SUBCOMMANDS"));
    assert!(run.stdout.contains(env!("CARGO_PKG_VERSION")));
    let run = aiguard(&["man", "audit"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(".TH aiguard-audit 1"), "{}", run.stdout);
    assert!(run.stdout.contains("\\-\\-fail\\-on"), "options of audit");
    let run = aiguard(&["man", "nope"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("audit"), "{}", run.stderr);
}
