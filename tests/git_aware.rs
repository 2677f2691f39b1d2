//! Git-aware audits on scratch repositories built here: `--staged` (the
//! index, not the working tree), `--history` (keys any commit ever held),
//! and `install-hook`.

mod common;

use common::*;
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::Command;

/// A random fake key of `rule`'s format.
fn fake_key(rule: &str, seed: u64) -> String {
    let catalog = catalog();
    let template = aiguard::fake::key_template(&catalog.keys, rule).expect("rule has a template");
    aiguard::fake::expand(&template, &mut fastrand::Rng::with_seed(seed))
}

/// A repository with one clean commit: `.gitignore` ignoring `.env*` and
/// a small Python app.
fn scratch_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git_init(dir.path());
    write(dir.path(), ".gitignore", ".env\n.env.*\n!.env.example\n");
    write(
        dir.path(),
        "app.py",
        "import os\n\nKEY = os.environ[\"OPENAI_API_KEY\"]\n",
    );
    git(dir.path(), &["add", "-A"]);
    commit(dir.path(), "initial");
    dir
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn commit(dir: &Path, message: &str) {
    git(dir, &["commit", "-q", "--no-verify", "-m", message]);
}

fn git_out(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn findings_of<'a>(json: &'a Value, check: &str) -> Vec<&'a Value> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .collect()
}

fn assert_no_key(key: &str, texts: &[&str]) {
    for text in texts {
        assert!(!text.contains(key), "a full key was printed:\n{text}");
    }
}

// ---------------------------------------------------------------- --staged

#[test]
fn staged_key_is_caught_after_the_working_tree_drops_it() {
    let repo = scratch_repo();
    let dir = repo.path();
    let key = fake_key("openai-project-key", 1);
    write(dir, "config.py", &format!("OPENAI_API_KEY = \"{key}\"\n"));
    write(dir, "gone.py", &format!("KEY = \"{key}\"\n"));
    git(dir, &["add", "config.py", "gone.py"]);
    // The working tree no longer holds the key, the index still does.
    write(
        dir,
        "config.py",
        "import os\nOPENAI_API_KEY = os.environ[\"OPENAI_API_KEY\"]\n",
    );
    fs::remove_file(dir.join("gone.py")).unwrap();

    let (code, json, stderr) = audit_json(dir, &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    // One key in two staged files: one finding, listing the other place.
    assert_eq!(
        finding_keys(&json),
        ["keys-in-code openai-project-key config.py:1"]
    );
    assert!(
        json["findings"][0]["message"]
            .as_str()
            .unwrap()
            .ends_with("Also at gone.py:1."),
        "{json}"
    );
    let evidence = json["findings"][0]["evidence"].as_str().unwrap();
    assert!(evidence.starts_with("sk-proj-") && evidence.ends_with(&key[key.len() - 4..]));
    assert_eq!(json["summary"]["files_scanned"], 2);
    assert_no_key(&key, &[&json.to_string(), &stderr]);

    // The plain audit reads the working tree: nothing there.
    let (code, json, _) = audit_json(dir, &[]);
    assert_eq!((code, finding_keys(&json).len()), (0, 0), "{json}");
}

#[test]
fn a_key_only_in_the_working_tree_is_not_reported_by_staged() {
    let repo = scratch_repo();
    let dir = repo.path();
    let key = fake_key("anthropic-api-key", 2);
    write(dir, "app.py", &format!("import os\n\nKEY = \"{key}\"\n"));
    write(dir, "notes.md", "clean\n");
    git(dir, &["add", "notes.md"]);

    let (code, json, stderr) = audit_json(dir, &["--staged"]);
    assert_eq!(code, 0, "{json} {stderr}");
    assert!(finding_keys(&json).is_empty(), "{json}");
    assert_eq!(status_of(&json, "keys-in-code"), "pass");
    // Not staged, but there: the plain audit finds it.
    let (code, json, _) = audit_json(dir, &[]);
    assert_eq!(code, 1);
    assert_eq!(
        finding_keys(&json),
        ["keys-in-code anthropic-api-key app.py:3"]
    );
}

#[test]
fn staged_reports_only_staged_files_plus_gitignore_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    git_init(dir);
    let key = fake_key("groq-api-key", 3);
    // Committed before aiguard was adopted; not part of this commit.
    write(dir, "old.py", &format!("KEY = \"{key}\"\n"));
    git(dir, &["add", "-A"]);
    commit(dir, "old");
    write(dir, "new.py", "print('hello')\n");
    git(dir, &["add", "new.py"]);

    let (code, json, stderr) = audit_json(dir, &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    // No .gitignore at all: the next `git add .` commits a .env.
    assert_eq!(
        finding_keys(&json),
        ["env-gitignore env-gitignore-gap .gitignore"]
    );
    let notes = json["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n["message"]
            .as_str()
            .unwrap()
            .contains("1 staged file audited")),
        "{notes:?}"
    );
}

#[test]
fn staged_follows_tsconfig_path_aliases() {
    // The AI helper is committed; the route that imports it through a
    // tsconfig `paths` alias (`@lib/ai`) is the staged change.
    let repo = scratch_repo();
    let dir = repo.path();
    let fixture = materialize("engine-tsconfig-paths");
    for rel in ["web/package.json", "web/tsconfig.json", "web/src/lib/ai.ts"] {
        write(
            dir,
            rel,
            &fs::read_to_string(fixture.path().join(rel)).unwrap(),
        );
    }
    git(dir, &["add", "-A"]);
    commit(dir, "lib");
    let route = "web/src/app/api/chat/route.ts";
    write(
        dir,
        route,
        &fs::read_to_string(fixture.path().join(route)).unwrap(),
    );
    git(dir, &["add", route]);

    let (code, json, stderr) = audit_json(dir, &["--staged", "--select", "rate-limit"]);
    assert_eq!(code, 1, "{stderr}");
    let found = findings_of(&json, "rate-limit");
    assert_eq!(found.len(), 1, "{json}");
    assert_eq!(found[0]["path"], route, "{json}");
}

#[test]
fn a_force_added_env_file_is_caught_from_the_index() {
    let repo = scratch_repo();
    let dir = repo.path();
    let key = fake_key("openai-project-key", 4);
    write(dir, ".env", &format!("OPENAI_API_KEY={key}\n"));
    git(dir, &["add", "-f", ".env"]);

    let (code, json, stderr) = audit_json(dir, &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        finding_keys(&json),
        [
            "env-gitignore env-tracked .env",
            "keys-in-code openai-project-key .env:1"
        ]
    );
    assert_no_key(&key, &[&json.to_string(), &stderr]);
}

#[test]
fn nothing_staged_passes_and_says_so() {
    let repo = scratch_repo();
    let run = aiguard(&["audit", "--staged"], repo.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("nothing staged"), "{}", run.stdout);
}

#[test]
fn staged_outside_a_repository_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.py", "print(1)\n");
    let run = aiguard(&["audit", "--staged"], dir.path());
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("--staged needs a git repository"),
        "{}",
        run.stderr
    );
}

/// A staged blob git cannot produce is an error, never a silent pass.
#[test]
fn staged_content_that_cannot_be_read_is_an_error() {
    let repo = scratch_repo();
    let dir = repo.path();
    write(dir, "lost.py", "print('this blob goes missing')\n");
    git(dir, &["add", "lost.py"]);
    let oid = git_out(dir, &["rev-parse", ":lost.py"]);
    fs::remove_file(dir.join(".git/objects").join(&oid[..2]).join(&oid[2..])).unwrap();

    let run = aiguard(&["audit", "--staged"], dir);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("lost.py"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "no report: {}", run.stdout);
}

/// Project checks still see the rest of the repository: a staged route
/// that calls an AI SDK is limited by a global limiter in an unstaged file.
#[test]
fn staged_route_is_judged_with_its_unstaged_context() {
    let repo = scratch_repo();
    let dir = repo.path();
    write(dir, "requirements.txt", "fastapi\nopenai\nslowapi\n");
    write(
        dir,
        "main.py",
        r#"from fastapi import FastAPI
from slowapi import Limiter, _rate_limit_exceeded_handler
from slowapi.util import get_remote_address
from slowapi.middleware import SlowAPIMiddleware
from slowapi.errors import RateLimitExceeded
from routes import router

limiter = Limiter(key_func=get_remote_address, default_limits=["5/minute", "50/day"])
app = FastAPI()
app.state.limiter = limiter
app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)
app.add_middleware(SlowAPIMiddleware)
app.include_router(router)
"#,
    );
    commit_all(dir, "app");
    write(
        dir,
        "routes.py",
        r#"from fastapi import APIRouter
from openai import OpenAI

router = APIRouter()
client = OpenAI()

@router.post("/chat")
def chat(q: str):
    return client.responses.create(model="gpt-4o-mini", input=q)
"#,
    );
    git(dir, &["add", "routes.py"]);
    let rate_limit = |json: &Value| -> Vec<String> {
        finding_keys(json)
            .into_iter()
            .filter(|k| k.starts_with("rate-limit "))
            .collect()
    };
    let (_, full, _) = audit_json(dir, &["--select", "rate-limit"]);
    let (code, staged, stderr) = audit_json(dir, &["--staged", "--select", "rate-limit"]);
    assert_eq!(code, 0, "{staged} {stderr}");
    assert_eq!(status_of(&full, "rate-limit"), "pass", "{full}");
    assert_eq!(status_of(&staged, "rate-limit"), "pass", "{staged}");
    // Without the app's global limiter the staged route is unlimited.
    git(dir, &["rm", "-q", "main.py"]);
    let (code, staged, _) = audit_json(dir, &["--staged", "--select", "rate-limit"]);
    assert_eq!(code, 1);
    assert_eq!(
        rate_limit(&staged),
        ["rate-limit ai-endpoint-not-rate-limited routes.py:7"]
    );
}

/// The context cache (`.git/aiguard/staged-context`) remembers files the
/// parse gate turned down; a file edited since (unstaged) is read again.
#[test]
fn the_context_cache_never_hides_an_edited_file() {
    let repo = scratch_repo();
    let dir = repo.path();
    write(dir, "requirements.txt", "fastapi\nopenai\nslowapi\n");
    write(dir, "main.py", "def unused():\n    return 1\n");
    commit_all(dir, "app without a limiter");
    write(
        dir,
        "routes.py",
        "from fastapi import APIRouter\nfrom openai import OpenAI\n\nrouter = APIRouter()\nclient = OpenAI()\n\n@router.post(\"/chat\")\ndef chat(q: str):\n    return client.responses.create(model=\"gpt-4o-mini\", input=q)\n",
    );
    git(dir, &["add", "routes.py"]);
    let (code, _, _) = audit_json(dir, &["--staged", "--select", "rate-limit"]);
    assert_eq!(code, 1, "unlimited route");
    let cache = fs::read_to_string(dir.join(".git/aiguard/staged-context")).unwrap();
    let main_oid = git_out(dir, &["rev-parse", ":main.py"]);
    assert!(
        cache.lines().any(|l| l == main_oid),
        "main.py is cached as not needed: {cache}"
    );
    // main.py now (in the working tree, unstaged) sets up a global limiter.
    write(
        dir,
        "main.py",
        "from fastapi import FastAPI\nfrom slowapi import Limiter, _rate_limit_exceeded_handler\nfrom slowapi.util import get_remote_address\nfrom slowapi.middleware import SlowAPIMiddleware\nfrom slowapi.errors import RateLimitExceeded\nfrom routes import router\n\nlimiter = Limiter(key_func=get_remote_address, default_limits=[\"5/minute\", \"50/day\"])\napp = FastAPI()\napp.state.limiter = limiter\napp.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)\napp.add_middleware(SlowAPIMiddleware)\napp.include_router(router)\n",
    );
    let (code, json, _) = audit_json(dir, &["--staged", "--select", "rate-limit"]);
    assert_eq!(
        (code, status_of(&json, "rate-limit").as_str()),
        (0, "pass"),
        "{json}"
    );
}

/// The audited root may be a folder of the repository: only what is
/// staged under it counts, with paths relative to it; excluded folders
/// are left out and the report says so.
#[test]
fn staged_audit_of_a_subfolder_and_excluded_paths() {
    let repo = scratch_repo();
    let dir = repo.path();
    let key = fake_key("openai-project-key", 13);
    write(dir, "web/.gitignore", ".env\n.env.*\n");
    write(dir, "web/package.json", "{\"name\": \"web\"}\n");
    commit_all(dir, "web app");
    write(
        dir,
        "web/lib/ai.ts",
        &format!("export const KEY = \"{key}\";\n"),
    );
    write(
        dir,
        "web/node_modules/pkg/index.js",
        &format!("module.exports = \"{key}\";\n"),
    );
    write(dir, "other/leak.py", &format!("KEY = \"{key}\"\n"));
    git(dir, &["add", "-f", "web", "other"]);

    let (code, json, stderr) = audit_json(&dir.join("web"), &["--staged"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        finding_keys(&json),
        ["keys-in-code openai-project-key lib/ai.ts:1"]
    );
    assert!(stderr.contains("1 more excluded by the config"), "{stderr}");
    assert_no_key(&key, &[&json.to_string(), &stderr]);
}

// --------------------------------------------------------------- --history

#[test]
fn a_deleted_key_is_found_with_the_commit_that_added_it() {
    let repo = scratch_repo();
    let dir = repo.path();
    let key = fake_key("openai-project-key", 5);
    write(
        dir,
        "src/settings.py",
        &format!("import os\n\nDEBUG = True\nOPENAI_API_KEY = \"{key}\"\n"),
    );
    git(dir, &["add", "-A"]);
    commit(dir, "add settings");
    let introduced = git_out(dir, &["rev-parse", "--short", "HEAD"]);
    let date = git_out(dir, &["log", "-1", "--format=%ad", "--date=short"]);
    // Touched again (the key stays), then deleted.
    write(
        dir,
        "src/settings.py",
        &format!("import os\n\nDEBUG = False\nOPENAI_API_KEY = \"{key}\"\n"),
    );
    commit_all(dir, "debug off");
    write(
        dir,
        "src/settings.py",
        "import os\n\nDEBUG = False\nOPENAI_API_KEY = os.environ[\"OPENAI_API_KEY\"]\n",
    );
    commit_all(dir, "read the key from the environment");

    // Today's tree is clean.
    let (code, json, _) = audit_json(dir, &[]);
    assert_eq!(code, 0, "{json}");
    assert_eq!(status_of(&json, "key-history"), "skipped");

    let (code, json, stderr) = audit_json(dir, &["--history"]);
    assert_eq!(code, 1, "{stderr}");
    let found = findings_of(&json, "key-history");
    assert_eq!(found.len(), 1, "{json}");
    let f = found[0];
    assert_eq!(f["rule"], "key-in-history");
    assert_eq!(f["path"], "src/settings.py");
    assert_eq!(f["line"], 4);
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains(&introduced) && message.contains(&date),
        "{message}"
    );
    assert!(f["fix"].as_str().unwrap().contains("Rotate the key now"));
    assert_eq!(status_of(&json, "key-history"), "fail");
    assert_no_key(&key, &[&json.to_string(), &stderr]);
    assert!(
        json["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["message"].as_str().unwrap().contains("scanned 4 commits")),
        "{json}"
    );
}

fn commit_all(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    commit(dir, message);
}

#[test]
fn an_env_file_committed_then_removed_stays_in_history() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    git_init(dir);
    let key = fake_key("anthropic-api-key", 6);
    write(dir, "app.py", "print('hi')\n");
    write(dir, ".env", &format!("ANTHROPIC_API_KEY={key}\n"));
    commit_all(dir, "initial, with .env");
    let introduced = git_out(dir, &["rev-parse", "--short", "HEAD"]);
    git(dir, &["rm", "-q", "--cached", ".env"]);
    write(dir, ".gitignore", ".env\n.env.*\n");
    commit_all(dir, "untrack .env");
    fs::remove_file(dir.join(".env")).unwrap();

    let (code, json, _) = audit_json(dir, &[]);
    assert_eq!(code, 0, "{json}");
    let (code, json, _) = audit_json(dir, &["--history"]);
    assert_eq!(code, 1);
    assert_eq!(finding_keys(&json), ["key-history key-in-history .env:1"]);
    let message = json["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Anthropic key committed in") && message.contains(&introduced),
        "{message}"
    );
}

#[test]
fn merges_report_each_key_once_at_its_first_commit() {
    let repo = scratch_repo();
    let dir = repo.path();
    let branch_key = fake_key("groq-api-key", 7);
    let merge_key = fake_key("openai-project-key", 8);
    git(dir, &["checkout", "-q", "-b", "feature"]);
    write(dir, "feature.py", &format!("GROQ = \"{branch_key}\"\n"));
    commit_all(dir, "feature with a key");
    let on_branch = git_out(dir, &["rev-parse", "--short", "HEAD"]);
    git(dir, &["checkout", "-q", "main"]);
    write(dir, "main_only.py", "print('main')\n");
    commit_all(dir, "main moves on");
    git(dir, &["merge", "-q", "--no-ff", "--no-commit", "feature"]);
    // A key added while resolving the merge belongs to the merge commit.
    write(dir, "merge_fix.py", &format!("KEY = \"{merge_key}\"\n"));
    git(dir, &["add", "merge_fix.py"]);
    commit(dir, "merge feature");
    let merge = git_out(dir, &["rev-parse", "--short", "HEAD"]);
    assert_eq!(
        git_out(dir, &["rev-list", "--parents", "-1", "HEAD"])
            .split(' ')
            .count(),
        3
    );

    let (code, json, stderr) = audit_json(dir, &["--history"]);
    assert_eq!(code, 1, "{stderr}");
    let found = findings_of(&json, "key-history");
    assert_eq!(found.len(), 2, "{json}");
    let by_path = |p: &str| {
        found
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("{p}: {json}"))["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(by_path("feature.py").contains(&on_branch));
    assert!(by_path("merge_fix.py").contains(&merge));
    // Both keys are still in the tree too: keys-in-code reports them.
    assert_eq!(findings_of(&json, "keys-in-code").len(), 2);
}

#[test]
fn since_limits_the_scan_to_later_commits() {
    let repo = scratch_repo();
    let dir = repo.path();
    let old_key = fake_key("groq-api-key", 9);
    let new_key = fake_key("huggingface-token", 10);
    write(dir, "old.py", &format!("K = \"{old_key}\"\n"));
    commit_all(dir, "old key");
    let mark = git_out(dir, &["rev-parse", "HEAD"]);
    fs::remove_file(dir.join("old.py")).unwrap();
    write(dir, "new.py", &format!("K = \"{new_key}\"\n"));
    commit_all(dir, "new key");
    fs::remove_file(dir.join("new.py")).unwrap();
    commit_all(dir, "clean");

    let (_, json, _) = audit_json(dir, &["--history"]);
    assert_eq!(findings_of(&json, "key-history").len(), 2);
    let (_, json, _) = audit_json(dir, &["--history", "--since", &mark]);
    assert_eq!(finding_keys(&json), ["key-history key-in-history new.py:1"]);

    let run = aiguard(&["audit", "--history", "--since", "no-such-rev"], dir);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--since no-such-rev"), "{}", run.stderr);
    let run = aiguard(&["audit", "--since", &mark], dir);
    assert_eq!(run.code, 2, "--since needs --history");
}

#[test]
fn history_outside_a_repository_is_an_error_and_empty_history_is_na() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.py", "print(1)\n");
    let run = aiguard(&["audit", "--history"], dir.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--history needs a git repository"),
        "{}",
        run.stderr
    );
    git_init(dir.path());
    let (code, json, _) = audit_json(dir.path(), &["--history"]);
    assert_eq!(code, 1, "no .gitignore: {json}");
    assert_eq!(status_of(&json, "key-history"), "n/a");
}

/// History findings are redacted in every format, on stdout and in files.
#[test]
fn history_findings_are_redacted_in_every_format() {
    let repo = scratch_repo();
    let dir = repo.path();
    let key = fake_key("openai-project-key", 11);
    write(dir, "leak.ts", &format!("export const KEY = \"{key}\";\n"));
    commit_all(dir, "leak");
    fs::remove_file(dir.join("leak.ts")).unwrap();
    commit_all(dir, "unleak");
    let redacted = aiguard::findings::Redacted::from_secret(&key).to_string();
    assert!(
        redacted.starts_with("sk-proj-") && redacted.len() < 24,
        "{redacted}"
    );
    let out = tempfile::tempdir().unwrap();
    for format in ["text", "json", "sarif", "github", "junit", "gitlab"] {
        let file = out.path().join(format!("report.{format}"));
        let run = aiguard(&["audit", "--history", "--format", format], dir);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        let to_file = aiguard(
            &[
                "audit",
                "--history",
                "--format",
                format,
                "--output",
                file.to_str().unwrap(),
            ],
            dir,
        );
        assert_eq!(to_file.code, 1);
        let written = fs::read_to_string(&file).unwrap();
        assert_no_key(&key, &[&run.stdout, &run.stderr, &written, &to_file.stderr]);
        assert!(run.stdout.contains(&redacted), "{format}: {}", run.stdout);
        assert!(run.stdout.contains("leak.ts"), "{format}");
    }
    // A baseline records it without the key, and hides it afterwards.
    let baseline = out.path().join("baseline.json");
    let run = aiguard(
        &["baseline", "--history", "-o", baseline.to_str().unwrap()],
        dir,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_key(&key, &[&fs::read_to_string(&baseline).unwrap()]);
    let (code, json, _) = audit_json(
        dir,
        &["--history", "--baseline", baseline.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["summary"]["baselined"], 1);
}

// ------------------------------------------------------------ install-hook

#[test]
fn install_hook_blocks_a_commit_with_a_key_and_keeps_foreign_hooks() {
    let repo = scratch_repo();
    let dir = repo.path();
    let hook = dir.join(".git/hooks/pre-commit");
    fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();
    let run = aiguard(&["install-hook"], dir);
    assert_eq!(run.code, 2, "an existing hook is kept");
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert_eq!(fs::read_to_string(&hook).unwrap(), "#!/bin/sh\necho mine\n");
    let run = aiguard(&["install-hook", "--force"], dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let script = fs::read_to_string(&hook).unwrap();
    assert!(script.contains("audit --staged"), "{script}");
    // Installing again is fine: the hook is aiguard's.
    assert_eq!(aiguard(&["install-hook"], dir).code, 0);

    let key = fake_key("openai-project-key", 12);
    write(dir, "leak.py", &format!("KEY = \"{key}\"\n"));
    git(dir, &["add", "leak.py"]);
    // Without aiguard on PATH the hook falls back to the binary that wrote it.
    let commit = |dir: &Path| {
        Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(["commit", "-q", "-m", "try"])
            .current_dir(dir)
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap()
    };
    let out = commit(dir);
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "the commit was not blocked: {shown}");
    let last4 = format!("…{}", &key[key.len() - 4..]);
    assert!(
        shown.contains("openai-project-key") && shown.contains(&last4),
        "{shown}"
    );
    assert_no_key(&key, &[&shown]);
    write(
        dir,
        "leak.py",
        "import os\nKEY = os.environ[\"OPENAI_API_KEY\"]\n",
    );
    git(dir, &["add", "leak.py"]);
    let out = commit(dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
