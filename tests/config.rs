//! The config file: every key does what the README says, and every bad
//! config exits 2 naming the file, the line and what is allowed.

mod common;

use common::*;
use std::fs;
use std::path::Path;

/// Run aiguard in `dir` with the audit date pinned.
fn run_on(dir: &Path, today: &str, args: &[&str]) -> Run {
    aiguard_with_env(args, dir, &[("AIGUARD_TODAY", today)])
}

fn json_on(dir: &Path, today: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["audit", ".", "--format", "json"];
    args.extend_from_slice(extra);
    let run = run_on(dir, today, &args);
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr));
    (run.code, json)
}

/// A project with two CORS findings, a `.env` gap and a committed-looking key
/// file, in a git repository.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git_init(root);
    fs::write(
        root.join("main.py"),
        "from fastapi import FastAPI\n\
         from fastapi.middleware.cors import CORSMiddleware\n\
         app = FastAPI()\n\
         app.add_middleware(CORSMiddleware, allow_origins=[\"*\"])\n",
    )
    .unwrap();
    fs::create_dir(root.join("admin")).unwrap();
    fs::write(
        root.join("admin/settings.py"),
        "CORS_ALLOW_ALL_ORIGINS = True\n",
    )
    .unwrap();
    dir
}

/// Write `aiguard.toml` and expect exit 2 with `aiguard.toml:LINE:` and
/// every `needles` in stderr.
fn rejects(config: &str, line: usize, needles: &[&str]) {
    let dir = project();
    fs::write(dir.path().join("aiguard.toml"), config).unwrap();
    let run = run_on(dir.path(), "2026-11-23", &["audit", "."]);
    assert_eq!(run.code, 2, "{config}\nstderr: {}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let at = format!("aiguard.toml:{line}:");
    assert!(
        run.stderr.contains(&at),
        "{config}\nwant {at} in: {}",
        run.stderr
    );
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "want {needle:?} in: {}",
            run.stderr
        );
    }
}

#[test]
fn unknown_keys_exit_2_with_the_line_and_the_allowed_keys() {
    rejects(
        "fail-on = \"error\"\n\nincludes = [\"src/**\"]\n",
        3,
        &[
            "unknown field `includes`",
            "`include`",
            "`attest`",
            "`severity`",
        ],
    );
    rejects(
        "[attest]\nspend-limits = 2026-11-01\nrate-limit = 2026-11-01\n",
        3,
        &["unknown field `rate-limit`", "`spend-limits`"],
    );
}

#[test]
fn bad_values_exit_2_with_the_line_and_what_is_allowed() {
    rejects(
        "[severity]\ncors = \"fatal\"\n",
        2,
        &["unknown variant `fatal`", "`error`, `warning`, `off`"],
    );
    rejects(
        "fail-on = \"sometimes\"\n",
        1,
        &["`error`, `warning`, `never`"],
    );
    rejects(
        "include = [\"src/[a\"]\n",
        1,
        &["`include`: bad glob `src/[a`"],
    );
    rejects(
        "\nextend-exclude = [\"ok\", \"{a,b\"]\n",
        2,
        &["`extend-exclude`: bad glob"],
    );
    rejects(
        "max-file-size = \"big\"\n",
        1,
        &["invalid type: string \"big\", expected u64"],
    );
    rejects("\nmax-parse-size = -1\n", 2, &["expected u64"]);
    rejects("exclude = \"dist\"\n", 1, &["expected a sequence"]);
    rejects(
        "key-rules = [\"missing.toml\"]\n",
        1,
        &["`key-rules`", "missing.toml is not a file"],
    );
}

#[test]
fn unknown_ids_exit_2_with_the_line_and_close_matches() {
    rejects(
        "select = [\n  \"cors\",\n  \"rate-limits\",\n]\n",
        3,
        &[
            "`select`: unknown check `rate-limits`",
            "did you mean `rate-limit`?",
        ],
    );
    rejects(
        "ignore = [\"openai-projekt-key\"]\n",
        1,
        &["`ignore`", "did you mean `openai-project-key`?"],
    );
    rejects(
        "[severity]\ncors = \"warning\"\nkeys-in-cod = \"off\"\n",
        3,
        &[
            "`severity`: unknown check `keys-in-cod`",
            "did you mean `keys-in-code`?",
        ],
    );
}

#[test]
fn attestations_must_be_past_toml_dates() {
    rejects(
        "[attest]\nspend-limits = \"2026-11-01\"\n",
        2,
        &["as a TOML date without quotes", "spend-limits = 2026-11-23"],
    );
    rejects(
        "[attest]\nspend-limits = 2026-11-01T10:00:00\n",
        2,
        &["TOML date"],
    );
    rejects(
        "[attest]\nspend-limits = 2027-01-01\n",
        2,
        &["is in the future (today is 2026-11-23)"],
    );
    let dir = project();
    let run = run_on(dir.path(), "23/11/2026", &["audit", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("AIGUARD_TODAY=`23/11/2026`: expected YYYY-MM-DD"),
        "{}",
        run.stderr
    );
}

#[test]
fn pyproject_errors_point_into_pyproject() {
    let dir = project();
    fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\n\n[tool.aiguard]\nselect = [\"cors\"]\n\n[tool.aiguard.severity]\ncorz = \"warning\"\n",
    )
    .unwrap();
    let run = run_on(dir.path(), "2026-11-23", &["audit", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("pyproject.toml:8: `severity`: unknown check `corz`"),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_ids_on_the_command_line_are_usage_errors() {
    let dir = project();
    let run = run_on(
        dir.path(),
        "2026-11-23",
        &["audit", ".", "--ignore", "cors-wildcard"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--ignore: unknown check `cors-wildcard`"),
        "{}",
        run.stderr
    );
}

#[test]
fn select_and_ignore_take_checks_and_rules() {
    let dir = project();
    let (_, all) = json_on(dir.path(), "2026-11-23", &[]);
    let rules = |json: &serde_json::Value| -> Vec<String> {
        let mut r: Vec<String> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect();
        r.sort();
        r
    };
    assert!(rules(&all).contains(&"cors-wildcard-origin".to_string()));
    assert!(rules(&all).contains(&"cors-allow-all-origins".to_string()));
    assert!(rules(&all).contains(&"env-gitignore-gap".to_string()));

    fs::write(
        dir.path().join("aiguard.toml"),
        "select = [\"cors-allow-all-origins\"]\n",
    )
    .unwrap();
    let (code, json) = json_on(dir.path(), "2026-11-23", &[]);
    assert_eq!(rules(&json), ["cors-allow-all-origins"]);
    assert_eq!(code, 1);
    assert_eq!(status_of(&json, "cors"), "fail");
    assert_eq!(status_of(&json, "env-gitignore"), "skipped");

    fs::write(
        dir.path().join("aiguard.toml"),
        "ignore = [\"env-gitignore\", \"cors-wildcard-origin\"]\n",
    )
    .unwrap();
    let (_, json) = json_on(dir.path(), "2026-11-23", &[]);
    assert_eq!(rules(&json), ["cors-allow-all-origins"]);
    assert_eq!(status_of(&json, "env-gitignore"), "skipped");

    // The command line adds to the config's ignore list and replaces its select.
    let (code, json) = json_on(
        dir.path(),
        "2026-11-23",
        &["--ignore", "cors-allow-all-origins"],
    );
    assert!(rules(&json).is_empty(), "{:?}", rules(&json));
    assert_eq!(status_of(&json, "cors"), "pass");
    assert_eq!(code, 0);
    fs::remove_file(dir.path().join("aiguard.toml")).unwrap();
    let (_, json) = json_on(dir.path(), "2026-11-23", &["--select", "env-gitignore-gap"]);
    assert_eq!(rules(&json), ["env-gitignore-gap"]);
}

#[test]
fn severity_overrides_by_check_and_by_rule() {
    let dir = project();
    fs::write(
        dir.path().join("aiguard.toml"),
        "[severity]\ncors = \"warning\"\ncors-allow-all-origins = \"error\"\nenv-gitignore = \"off\"\n",
    )
    .unwrap();
    let (code, json) = json_on(dir.path(), "2026-11-23", &[]);
    let severity = |rule: &str| {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .map(|f| f["severity"].as_str().unwrap().to_string())
    };
    assert_eq!(severity("cors-wildcard-origin").as_deref(), Some("warning"));
    assert_eq!(severity("cors-allow-all-origins").as_deref(), Some("error"));
    assert_eq!(severity("env-gitignore-gap"), None);
    assert_eq!(status_of(&json, "env-gitignore"), "skipped");
    assert_eq!(code, 1);

    fs::write(
        dir.path().join("aiguard.toml"),
        "fail-on = \"warning\"\n[severity]\ncors = \"warning\"\nenv-gitignore = \"off\"\n",
    )
    .unwrap();
    let (code, json) = json_on(dir.path(), "2026-11-23", &[]);
    assert_eq!(json["summary"]["errors"], 0);
    assert_eq!(status_of(&json, "cors"), "warn");
    assert_eq!(code, 1, "fail-on = warning fails on warnings");
    let (code, _) = json_on(dir.path(), "2026-11-23", &["--fail-on", "error"]);
    assert_eq!(code, 0, "the command line wins");
}

#[test]
fn include_limits_the_walk_but_gitignore_files_are_always_read() {
    let dir = project();
    let root = dir.path();
    fs::write(root.join(".gitignore"), ".env\n.env.*\n").unwrap();
    fs::write(root.join("aiguard.toml"), "include = [\"admin/**\"]\n").unwrap();
    let (_, json) = json_on(root, "2026-11-23", &[]);
    let keys = finding_keys(&json);
    assert_eq!(
        keys,
        ["cors cors-allow-all-origins admin/settings.py:1"],
        "main.py is outside the include globs; the root .gitignore still counts"
    );
    assert_eq!(status_of(&json, "env-gitignore"), "pass");
}

#[test]
fn attestations_turn_manual_into_pass_or_a_warning_after_90_days() {
    let dir = project();
    fs::write(
        dir.path().join("aiguard.toml"),
        "# comment\n[attest]\nspend-limits = 2026-09-01\n",
    )
    .unwrap();
    let (_, json) = json_on(dir.path(), "2026-11-30", &[]);
    assert_eq!(status_of(&json, "spend-limits"), "pass");
    let item = json["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check"] == "spend-limits")
        .unwrap()
        .clone();
    assert_eq!(item["note"], "attested 2026-09-01, 90 days ago");

    let (code, json) = json_on(dir.path(), "2026-12-01", &["--select", "spend-limits"]);
    assert_eq!(status_of(&json, "spend-limits"), "warn");
    assert_eq!(
        finding_keys(&json),
        ["spend-limits stale-attestation aiguard.toml:3"]
    );
    assert_eq!(code, 0, "a warning does not fail at fail-on = error");
    let finding = &json["findings"][0];
    assert_eq!(finding["severity"], "warning");
    assert!(finding["message"].as_str().unwrap().contains("91 days ago"));
    assert!(finding["fix"]
        .as_str()
        .unwrap()
        .contains("spend-limits = 2026-12-01"));

    let (_, json) = json_on(dir.path(), "2026-12-01", &["--ignore", "stale-attestation"]);
    assert_eq!(status_of(&json, "spend-limits"), "pass");

    fs::remove_file(dir.path().join("aiguard.toml")).unwrap();
    let (_, json) = json_on(dir.path(), "2026-12-01", &[]);
    assert_eq!(status_of(&json, "spend-limits"), "manual");
}

#[test]
fn config_flag_and_extra_key_rules_relative_to_the_config() {
    let dir = project();
    let root = dir.path();
    fs::create_dir(root.join("ci")).unwrap();
    fs::write(
        root.join("ci/keys.toml"),
        r#"[[rule]]
id = "acme-ai-key"
provider = "Acme AI"
message = "Acme AI key written in code"
regex = '''\b(?P<secret>acme_live_[a-z0-9]{32})\b'''
keywords = ["acme_live_"]
revoke_url = "https://acme.example/keys"
"#,
    )
    .unwrap();
    fs::write(
        root.join("ci/aiguard.toml"),
        "key-rules = [\"keys.toml\"]\nselect = [\"acme-ai-key\"]\n[severity]\nacme-ai-key = \"warning\"\n",
    )
    .unwrap();
    fs::write(
        root.join("worker.py"),
        "ACME = \"acme_live_k3j9x0q7m2w8p4z6r1t5y0u3i8o2e7a9\"\n",
    )
    .unwrap();
    let (code, json) = json_on(root, "2026-11-23", &["--config", "ci/aiguard.toml"]);
    assert_eq!(
        finding_keys(&json),
        ["keys-in-code acme-ai-key worker.py:1"]
    );
    assert_eq!(json["findings"][0]["severity"], "warning");
    assert_eq!(code, 0);
}

#[test]
fn the_init_template_is_a_valid_config() {
    let dir = project();
    fs::write(
        dir.path().join("aiguard.toml"),
        aiguard::commands::CONFIG_TEMPLATE,
    )
    .unwrap();
    let run = run_on(dir.path(), "2026-11-23", &["audit", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Every example line, uncommented, is valid too.
    let uncommented: String = aiguard::commands::CONFIG_TEMPLATE
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.contains(" = ") && !rest.starts_with("exclude") => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(dir.path().join("aiguard-keys.toml"), "").unwrap();
    fs::write(dir.path().join("aiguard.toml"), &uncommented).unwrap();
    let run = run_on(dir.path(), "2026-11-23", &["audit", "."]);
    assert_ne!(run.code, 2, "{uncommented}\n{}", run.stderr);
}

/// The TOML blocks of the README's config reference are valid as written.
#[test]
fn the_readme_config_reference_examples_are_valid() {
    let readme = fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section = readme
        .split("## Config reference")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Config reference section");
    let blocks: Vec<&str> = section
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 2, "the config and a key rule file");
    let dir = project();
    fs::write(dir.path().join("aiguard.toml"), blocks[0]).unwrap();
    fs::write(dir.path().join("aiguard-keys.toml"), blocks[1]).unwrap();
    let run = run_on(dir.path(), "2026-11-23", &["audit", "."]);
    assert_ne!(run.code, 2, "{}", run.stderr);
    for key in [
        "fail-on",
        "select",
        "ignore",
        "include",
        "exclude",
        "extend-exclude",
        "max-file-size",
        "max-parse-size",
        "key-rules",
        "[severity]",
        "[attest]",
    ] {
        assert!(
            section.contains(&format!("| `{key}` |")),
            "the reference table documents {key}"
        );
    }
}
