//! Issue 16: every finding worth reading. The fixtures' exact findings are
//! asserted by tests/fixtures.rs; this file asserts what a reader sees in
//! them: the other places listed, fix texts that are true of the case.

mod common;

use common::*;

/// The finding of `rule` at `path:line` in a fixture's JSON report.
fn finding<'a>(json: &'a serde_json::Value, rule: &str, at: &str) -> &'a serde_json::Value {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["rule"] == rule && format!("{}:{}", f["path"].as_str().unwrap(), f["line"]) == at
        })
        .unwrap_or_else(|| panic!("no {rule} at {at}: {json:#}"))
}

fn text<'a>(f: &'a serde_json::Value, field: &str) -> &'a str {
    f[field].as_str().unwrap_or("")
}

#[test]
fn public_env_one_finding_per_variable_and_rotate_only_with_a_key() {
    let dir = materialize("public-env-names");
    let (_, json, _) = audit_json(dir.path(), &[]);
    let openai = finding(&json, "public-env-secret", ".env.local:13");
    assert!(
        text(openai, "message").ends_with(
            "Also at .github/workflows/deploy.yml:9, Dockerfile:3, Dockerfile:4, \
             app/chat/Chat.tsx:5 and docker-compose.yml:6."
        ),
        "{openai:#}"
    );
    assert!(text(openai, "fix").contains("Rotate the key"), "{openai:#}");
    let anthropic = finding(&json, "public-env-secret", ".env.example:2");
    assert!(
        text(anthropic, "message").ends_with("Also at app/login/page.tsx:8."),
        "{anthropic:#}"
    );
    let fix = text(anthropic, "fix");
    assert!(!fix.contains("Rotate the key"), "{fix}");
    assert!(fix.contains("If a build with a real value"), "{fix}");
}

#[test]
fn one_finding_per_key_and_maps_keys_are_not_gemini_keys() {
    let dir = materialize("keys-google-maps");
    let (_, json, _) = audit_json(dir.path(), &[]);
    let gemini = finding(&json, "google-gemini-api-key", "scripts/smoke.sh:3");
    assert!(
        text(gemini, "message").ends_with("Also at server/describe.py:3."),
        "{gemini:#}"
    );
    assert!(
        text(gemini, "fix").contains("aistudio.google.com"),
        "{gemini:#}"
    );
    let bare = finding(&json, "google-gemini-api-key", "server/geocode.py:3");
    assert_eq!(bare["severity"], "warning");
    assert!(
        !text(bare, "message").contains("Gemini / Google AI"),
        "{bare:#}"
    );
    let fix = text(bare, "fix");
    assert!(
        fix.contains("console.cloud.google.com/apis/credentials"),
        "{fix}"
    );
    assert!(!fix.contains("aistudio"), "{fix}");
}

#[test]
fn one_gitignore_finding_per_missing_rule_at_the_root() {
    let dir = materialize("env-gitignore-monorepo");
    let (_, json, _) = audit_json(dir.path(), &["--select", "env-gitignore"]);
    let gap = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "env-gitignore-gap")
        .unwrap();
    assert_eq!(gap["path"], ".gitignore");
    let message = text(gap, "message");
    assert!(
        message.contains("in the project root, apps/api/, apps/web/ and packages/codemods/"),
        "{message}"
    );
    assert!(
        !message.contains("eslint-plugin") && !message.contains("terraform"),
        "{message}"
    );
    assert!(
        message.ends_with(".gitignore has no `.env.*` rule"),
        "{message}"
    );
    assert_eq!(
        text(gap, "fix"),
        "Add these lines to .gitignore (a rule without a slash applies in every folder below it):\n\
         .env.*\n!.env.defaults\n!.env.dist\n!.env.example.local"
    );
    let local = finding(
        &json,
        "env-not-ignored",
        "packages/codemods/.env.local:null",
    );
    assert_eq!(text(local, "fix"), "Add `.env.local` to .gitignore");
}

/// Runs a fixture the way tests/fixtures.rs does for `git = true` ones.
fn audit_git_fixture(name: &str, force_add: &[&str], args: &[&str]) -> serde_json::Value {
    let dir = materialize(name);
    git_init(dir.path());
    git(dir.path(), &["add", "-A"]);
    for f in force_add {
        git(dir.path(), &["add", "-f", f]);
    }
    git(dir.path(), &["commit", "-qm", "fixture"]);
    audit_json(dir.path(), args).1
}

#[test]
fn fixes_say_what_is_true_of_the_project() {
    let json = audit_git_fixture(
        "fixes-true",
        &[".env.ci"],
        &["--select", "rate-limit,env-gitignore"],
    );
    let own = text(
        finding(&json, "ai-endpoint-not-rate-limited", "api/app/main.py:24"),
        "fix",
    );
    assert!(
        own.starts_with("Apply the project's limiter `limiter` (slowapi, api/app/main.py:10)"),
        "{own}"
    );
    assert!(
        own.contains("@limiter.limit(\"5/minute;50/day\")") && !own.contains("storage_uri"),
        "{own}"
    );
    let express = text(
        finding(
            &json,
            "ai-endpoint-not-rate-limited",
            "node/src/server.ts:8",
        ),
        "fix",
    );
    assert!(
        express.contains("express-rate-limit") && !express.contains("slowapi"),
        "{express}"
    );
    let tracked = text(finding(&json, "env-tracked", ".env.ci:null"), "fix");
    assert!(!tracked.contains("rotate"), "{tracked}");
}

#[test]
fn text_report_prints_a_fix_once_per_rule_and_cuts_long_lists() {
    let dir = materialize("report-many-routes");
    let run = aiguard(&["audit", "."], dir.path());
    let fixes: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("fix"))
        .collect();
    assert_eq!(fixes.len(), 2, "{}", run.stdout);
    assert!(
        fixes.iter().all(|l| l.contains("fix (all 15 above):")),
        "{fixes:?}"
    );
    assert!(!run.stdout.contains("more (--all"), "{}", run.stdout);
    let (_, json, _) = audit_json(dir.path(), &[]);
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 30);
    assert!(findings
        .iter()
        .all(|f| f["fix"].as_str().is_some_and(|x| !x.is_empty())));

    // Ten more routes: 25 findings per check, 20 listed.
    let server = dir.path().join("src/server.ts");
    let mut code = std::fs::read_to_string(&server).unwrap();
    for i in 0..10 {
        code.push_str(&format!(
            "app.post(\"/api/more{i}\", async (req, res) => res.json({{ out: await run(\"x\", String(req.body.text)) }}));\n"
        ));
    }
    std::fs::write(&server, code).unwrap();
    let cut = aiguard(&["audit", "."], dir.path());
    assert_eq!(
        cut.stdout.matches("… and 5 more (--all lists them").count(),
        2,
        "{}",
        cut.stdout
    );
    assert_eq!(cut.stdout.matches("error  ai-endpoint-no-auth").count(), 20);
    assert!(cut.stdout.contains("fix (all 20 above):"), "{}", cut.stdout);
    let all = aiguard(&["audit", ".", "--all"], dir.path());
    assert!(!all.stdout.contains("more (--all"));
    assert_eq!(all.stdout.matches("error  ai-endpoint-no-auth").count(), 25);
    assert!(all.stdout.contains("fix (all 25 above):"));
}

#[test]
fn cors_messages_name_what_the_policy_exposes() {
    let dir = materialize("cors-exposure");
    let (_, json, _) = audit_json(dir.path(), &["--select", "cors"]);
    let backend = text(
        finding(&json, "cors-wildcard-origin", "backend/app/main.py:10"),
        "message",
    );
    assert!(
        backend.contains("`*` wherever CORS_ORIGINS is not set"),
        "{backend}"
    );
    assert!(backend.contains("With credentials allowed"), "{backend}");
    assert!(
        backend.contains("Its AI endpoints (POST /chat)"),
        "{backend}"
    );
    assert!(
        !backend.contains("anthropic") && !backend.contains("/api/ask"),
        "{backend}"
    );
    let docs = finding(&json, "cors-default-any-origin", "docs-api/src/server.ts:7");
    assert_eq!(docs["severity"], "warning");
    assert!(
        text(docs, "message").contains("It covers only /static"),
        "{docs:#}"
    );
    let settings = text(
        finding(&json, "cors-wildcard-origin", "settings-api/app/main.py:7"),
        "message",
    );
    assert!(
        settings.contains("`*` by default: the setting `cors_origins`"),
        "{settings}"
    );
    assert!(settings.contains("No AI calls were found"), "{settings}");
    let discovery = finding(&json, "cors-wildcard-origin", "discovery/app.py:6");
    assert_eq!(discovery["severity"], "warning");
    let message = text(discovery, "message");
    assert!(
        message.contains("It covers only /.well-known/*"),
        "{message}"
    );
    assert!(!message.contains("/api/ask"), "{message}");
}

#[test]
fn rate_limit_details_combine_exempt_and_point_at_the_config() {
    let dir = materialize("ratelimit-details");
    let (_, json, _) = audit_json(dir.path(), &["--select", "rate-limit"]);
    let config = text(
        finding(
            &json,
            "rate-limit-no-daily-cap",
            "express-app/src/server.ts:8",
        ),
        "message",
    );
    assert!(
        config.contains("the only limit on POST /api/chat, POST /api/title"),
        "{config}"
    );
    let stacked = text(
        finding(&json, "rate-limit-no-daily-cap", "flask-app/app/main.py:36"),
        "message",
    );
    assert!(
        stacked.contains("also routed as /v1/complete/"),
        "{stacked}"
    );
    let free = text(
        finding(
            &json,
            "ai-endpoint-not-rate-limited",
            "flask-app/app/main.py:30",
        ),
        "message",
    );
    assert!(free.contains("@limiter.exempt"), "{free}");
}

#[test]
fn usage_tracking_is_evidence_with_a_place() {
    let dir = materialize("quota-tracked");
    let run = aiguard(&["inventory", ".", "--format", "json"], dir.path());
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json["usage_tracking"],
        serde_json::json!([
            {"kind": "budget-check", "path": "app/api/chat/route.ts", "line": 12, "detail": "spendTokens"},
            {"kind": "store-write", "path": "lib/budget.ts", "line": 6, "detail": "redis.incrby"}
        ])
    );
    let dir = materialize("quota-evidence");
    let run = aiguard(&["inventory", ".", "--format", "json"], dir.path());
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        json["usage_tracking"],
        serde_json::json!([]),
        "analytics, setters and usage reads are not tracking"
    );
}
