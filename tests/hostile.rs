//! Hostile repositories (issue 20): aiguard is pointed at trees it did not
//! write, so nothing in them may make it run a program.
//!
//! The scratch repository here (`fixtures/hostile-git`) has a git config
//! (local, `include.path` and `includeIf`) in which every setting that can
//! make git run something is a command writing a marker file, and a
//! `.gitattributes` that routes every source file through those filters and
//! diff drivers. Every aiguard command and git-backed mode runs on it; no
//! marker may appear, and the findings must be those of a harmless copy.
//! At the end plain git runs on the same repository and the markers do
//! appear: the trap was live.

mod common;

use common::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

/// A random fake key of `rule`'s format.
fn fake_key(rule: &str, seed: u64) -> String {
    let catalog = catalog();
    let template = aiguard::fake::key_template(&catalog.keys, rule).expect("rule has a template");
    aiguard::fake::expand(&template, &mut fastrand::Rng::with_seed(seed))
}

/// Hooks git runs on its own (index writes, ref updates, checkouts, gc,
/// commits, fsmonitor's legacy hook).
const HOOKS: &[&str] = &[
    "post-index-change",
    "reference-transaction",
    "post-checkout",
    "post-commit",
    "post-rewrite",
    "pre-auto-gc",
    "fsmonitor-watchman",
    "pre-push",
];

struct Hostile {
    repo: tempfile::TempDir,
    /// Where the traps write; also holds the hooks folder and baselines.
    outside: tempfile::TempDir,
    /// The committed key (app.py) and the staged one (staged.py).
    keys: Vec<String>,
}

impl Hostile {
    fn dir(&self) -> &Path {
        self.repo.path()
    }

    fn markers(&self) -> PathBuf {
        self.outside.path().join("markers")
    }

    fn hooks(&self) -> PathBuf {
        self.outside.path().join("hooks")
    }

    fn fired(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.markers())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Make every index entry racily clean: an index older than the
    /// files it describes. git must then hash each file, through its clean
    /// filter, to tell whether it changed (`git diff-files`, `git status`).
    fn make_racy(&self) {
        let index = fs::File::options()
            .write(true)
            .open(self.dir().join(".git/index"))
            .unwrap();
        index
            .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(946_684_800))
            .unwrap();
    }
}

/// A value that writes the marker `name` when git runs it, then does `then`.
fn trap(markers: &Path, name: &str, then: &str) -> String {
    format!("\"touch '{}/{name}'; {then}\"", markers.display())
}

fn hostile_repo() -> Hostile {
    let (repo, mut keys) = materialize_with_keys("hostile-git");
    let outside = tempfile::tempdir().unwrap();
    let dir = &repo.path().to_path_buf();
    git_init(dir);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--no-verify", "-m", "initial"]);
    // Staged, not committed: a second key, and an edit to a helper.
    let staged_key = fake_key("anthropic-api-key", 20);
    fs::write(
        dir.join("staged.py"),
        format!("ANTHROPIC_API_KEY = \"{staged_key}\"\n"),
    )
    .unwrap();
    keys.push(staged_key);
    let format_ts = dir.join("web/format.ts");
    let mut text = fs::read_to_string(&format_ts).unwrap();
    text.push_str("export const LIMIT = 2000;\n");
    fs::write(&format_ts, text).unwrap();
    git(dir, &["add", "staged.py", "web/format.ts"]);

    // From here on only aiguard runs git, until the closing control.
    let h = Hostile {
        repo,
        outside,
        keys,
    };
    let m = h.markers();
    fs::create_dir_all(&m).unwrap();
    fs::create_dir_all(h.hooks()).unwrap();
    for hook in HOOKS {
        for folder in [h.hooks(), dir.join(".git/hooks")] {
            let path = folder.join(hook);
            fs::write(
                &path,
                format!("#!/bin/sh\ntouch '{}/hook.{hook}'\n", m.display()),
            )
            .unwrap();
            make_executable(&path);
        }
    }
    let t = |name: &str, then: &str| trap(&m, name, then);
    let local = format!(
        "[core]\n\
         \tfsmonitor = {}\n\tpager = {}\n\tsshCommand = {}\n\taskPass = {}\n\
         \talternateRefsCommand = {}\n\tgitProxy = {}\n\teditor = {}\n\
         [diff \"evil\"]\n\ttextconv = {}\n\tcommand = {}\n\
         [filter \"evil\"]\n\tclean = {}\n\tsmudge = {}\n\trequired = true\n\
         [pager]\n\tlog = {}\n\tdiff = {}\n\tstatus = {}\n\
         [credential]\n\thelper = \"!touch '{}/credential.helper'; true\"\n\
         [protocol]\n\tallow = always\n\
         [uploadpack]\n\tpackObjectsHook = {}\n\
         [gpg]\n\tprogram = {}\n\
         [log]\n\tshowSignature = true\n\
         [submodule]\n\trecurse = true\n\
         [include]\n\tpath = hostile-include.cfg\n\
         [includeIf \"gitdir:{}/\"]\n\tpath = hostile-includeif.cfg\n",
        t("core.fsmonitor", "false"),
        t("core.pager", "cat"),
        t("core.sshCommand", "false"),
        t("core.askPass", "echo x"),
        t("core.alternateRefsCommand", "true"),
        t("core.gitProxy", "false"),
        t("core.editor", "true"),
        t("diff.evil.textconv", "cat"),
        t("diff.evil.command", "true"),
        t("filter.evil.clean", "cat"),
        t("filter.evil.smudge", "cat"),
        t("pager.log", "cat"),
        t("pager.diff", "cat"),
        t("pager.status", "cat"),
        m.display(),
        t("uploadpack.packObjectsHook", "false"),
        t("gpg.program", "false"),
        dir.display(),
    );
    let mut config = fs::read_to_string(dir.join(".git/config")).unwrap();
    config.push_str(&local);
    fs::write(dir.join(".git/config"), config).unwrap();
    // Included: an external diff for every file, and the .ts driver.
    fs::write(
        dir.join(".git/hostile-include.cfg"),
        format!(
            "[diff]\n\texternal = {}\n[diff \"inc\"]\n\ttextconv = {}\n\
             [filter \"inc\"]\n\tclean = {}\n\tsmudge = {}\n",
            t("diff.external", "true"),
            t("diff.inc.textconv", "cat"),
            t("filter.inc.clean", "cat"),
            t("filter.inc.smudge", "cat"),
        ),
    )
    .unwrap();
    // Included on a condition: the hooks folder, and the .js driver (a
    // long-running `process` filter wins over `clean`).
    fs::write(
        dir.join(".git/hostile-includeif.cfg"),
        format!(
            "[core]\n\thooksPath = {}\n[diff \"incif\"]\n\ttextconv = {}\n\
             [filter \"incif\"]\n\tprocess = {}\n\tclean = {}\n\tsmudge = {}\n",
            h.hooks().display(),
            t("diff.incif.textconv", "cat"),
            t("filter.incif.process", "false"),
            t("filter.incif.clean", "cat"),
            t("filter.incif.smudge", "cat"),
        ),
    )
    .unwrap();
    h.make_racy();
    h
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) {}

fn json_of(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", run.stdout, run.stderr))
}

/// Run aiguard in the hostile repository; no marker may appear, no key
/// may be printed whole.
fn run_safely(h: &Hostile, args: &[&str]) -> Run {
    let run = aiguard(args, h.dir());
    assert_eq!(
        h.fired(),
        Vec::<String>::new(),
        "aiguard {args:?} let git run the repository's programs; stderr: {}",
        run.stderr
    );
    for key in &h.keys {
        assert!(
            !run.stdout.contains(key.as_str()) && !run.stderr.contains(key.as_str()),
            "aiguard {args:?} printed a key whole"
        );
    }
    run
}

#[test]
fn git_runs_no_program_the_repository_names() {
    let h = hostile_repo();
    let outside = h.outside.path().to_path_buf();

    // The plain audit: the findings of the harmless fixture, git consulted.
    let run = run_safely(&h, &["audit", ".", "--format", "json"]);
    let json = json_of(&run);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        finding_keys(&json),
        [
            "auth ai-endpoint-no-auth app.py:8",
            "keys-in-code anthropic-api-key staged.py:1",
            "keys-in-code openai-project-key app.py:5",
            "quota quota-no-token-bound app.py:8",
            "rate-limit ai-endpoint-not-rate-limited app.py:8",
        ]
    );
    assert!(
        !notes_of(&json).iter().any(|(_, kind)| kind == "git"),
        "git failed: {:?}",
        json["notes"]
    );

    // --staged, twice (the first run fills the context cache, the second
    // uses it): both ask `git diff-files`, which hashes racy files.
    for _ in 0..2 {
        h.make_racy();
        let run = run_safely(&h, &["audit", ".", "--staged", "--format", "json"]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(
            finding_keys(&json_of(&run)),
            ["keys-in-code anthropic-api-key staged.py:1"]
        );
    }

    // --history: the committed key, at the commit that added it.
    let run = run_safely(&h, &["audit", ".", "--history", "--format", "json"]);
    let json = json_of(&run);
    let history: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "key-history")
        .collect();
    assert_eq!(history.len(), 1, "{:?}", json["findings"]);
    assert_eq!(history[0]["path"], "app.py");

    // baseline, with and without history: both record the findings.
    for (name, extra) in [("plain", None), ("history", Some("--history"))] {
        let file = outside.join(format!("baseline-{name}.json"));
        let file = file.to_str().unwrap();
        let mut args = vec!["baseline", ".", "-o", file];
        args.extend(extra);
        let run = run_safely(&h, &args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let base = fs::read_to_string(file).unwrap();
        assert!(base.contains("openai-project-key"), "{base}");
        let audit = run_safely(
            &h,
            &[
                "audit",
                ".",
                "--history",
                "--baseline",
                file,
                "--format",
                "json",
            ],
        );
        let hidden = json_of(&audit)["summary"]["baselined"].as_u64().unwrap();
        assert!(hidden >= 5, "{name}: {hidden} baselined");
    }

    // inventory, as text and JSON.
    let run = run_safely(&h, &["inventory", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("POST /chat"), "{}", run.stdout);
    let run = run_safely(&h, &["inventory", ".", "--format", "json"]);
    assert_eq!(json_of(&run)["endpoints"][0]["path"], "/chat");

    // fix --diff: the audit's git, and writes nothing; the fixture has
    // fixable findings, so it exits 1.
    let run = run_safely(&h, &["fix", ".", "--diff"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("+++ "), "{}", run.stdout);
    // fix, writing: first asks git which files are uncommitted (`git
    // status`, which fsmonitor and the racy files' clean filters reach).
    h.make_racy();
    // `staged.py` (staged, so uncommitted) holds a key it would move out.
    let run = run_safely(&h, &["fix", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("uncommitted changes: staged.py"),
        "{}",
        run.stderr
    );
    // Then writing its edits, and the audit after them.
    h.make_racy();
    let run = run_safely(&h, &["fix", ".", "--allow-dirty"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("app.py  openai-project-key  key read from OPENAI_API_KEY"),
        "{}",
        run.stdout
    );

    // install-hook: writes where git would run it (core.hooksPath, from the
    // conditional include), and runs nothing.
    let run = run_safely(&h, &["install-hook", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written = fs::read_to_string(h.hooks().join("pre-commit")).unwrap();
    assert!(written.contains("aiguard audit --staged"), "{written}");

    // The control: plain git, on the same repository, runs the traps.
    h.make_racy();
    let plain = |args: &[&str]| {
        let _ = Command::new("git")
            .args(args)
            .current_dir(h.dir())
            .output()
            .unwrap();
    };
    plain(&["status"]);
    plain(&["diff", "--cached"]);
    plain(&["log", "-p"]);
    // The files `fix` edited are no longer racy, just modified: adding
    // them is what runs their clean filters now.
    plain(&["add", "-A"]);
    plain(&[
        "-c",
        "filter.incif.process=",
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.invalid",
        "commit",
        "-q",
        "--no-verify",
        "--no-gpg-sign",
        "-m",
        "control",
    ]);
    let fired = h.fired();
    for expected in [
        "core.fsmonitor",
        "filter.evil.clean",
        "filter.inc.clean",
        "filter.incif.process",
        "diff.evil.textconv",
        "diff.inc.textconv",
        "diff.evil.command",
        "diff.external",
        "hook.post-commit",
        "hook.reference-transaction",
    ] {
        assert!(
            fired.iter().any(|f| f == expected),
            "plain git did not fire {expected}: the trap is not live ({fired:?})"
        );
    }
}

// ------------------------------------------------ nothing outside the tree

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

#[cfg(unix)]
fn symlink(target: impl AsRef<Path>, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// `aiguard fix` edits files of the tree only: a file it would edit that
/// is a symlink (here `requirements.txt` and `.env`, linking out of the
/// tree) is left alone with a manual step, and nothing outside changes.
#[cfg(unix)]
#[test]
fn fix_never_writes_through_a_symlink() {
    let project = materialize("fix-flask");
    let root = project.path();
    let outside = tempfile::tempdir().unwrap();
    let key = fake_key("openai-project-key", 26);
    let mut app = fs::read_to_string(root.join("app.py")).unwrap();
    app.push_str(&format!("\nOPENAI_KEY = \"{key}\"\n"));
    fs::write(root.join("app.py"), app).unwrap();
    let requirements = fs::read_to_string(root.join("requirements.txt")).unwrap();
    write(outside.path(), "requirements.txt", &requirements);
    write(outside.path(), "dotenv", "OTHER=1\n");
    fs::remove_file(root.join("requirements.txt")).unwrap();
    symlink(
        outside.path().join("requirements.txt"),
        &root.join("requirements.txt"),
    );
    symlink(outside.path().join("dotenv"), &root.join(".env"));
    let run = aiguard(&["fix", ".", "--allow-dirty"], root);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(outside.path().join("requirements.txt")).unwrap(),
        requirements
    );
    assert_eq!(
        fs::read_to_string(outside.path().join("dotenv")).unwrap(),
        "OTHER=1\n"
    );
    assert!(
        run.stdout
            .contains("requirements.txt: a symlink, so aiguard did not edit it"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(".env: a symlink, so aiguard did not edit it"),
        "{}",
        run.stdout
    );
    // The key left the code, but was not kept in `.env`: not said it was.
    assert!(
        !run.stdout.contains("old value is in .env"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(&key) && !run.stderr.contains(&key));
    // The link itself is still a link, not replaced by a file.
    assert!(fs::symlink_metadata(root.join(".env"))
        .unwrap()
        .file_type()
        .is_symlink());
}

/// `outer/secret/` holds keys; `outer/project/` is audited.
fn outer_with_secret() -> (tempfile::TempDir, PathBuf, String) {
    let outer = tempfile::tempdir().unwrap();
    let key = fake_key("openai-project-key", 21);
    write(
        outer.path(),
        "secret/creds.py",
        &format!("OPENAI_API_KEY = \"{key}\"\n"),
    );
    write(
        outer.path(),
        "secret/.env",
        &format!("NEXT_PUBLIC_OPENAI_API_KEY={key}\n"),
    );
    let project = outer.path().join("project");
    write(
        &project,
        "app.py",
        "import os\n\nKEY = os.environ[\"OPENAI_API_KEY\"]\n",
    );
    write(
        &project,
        "package.json",
        "{\"dependencies\": {\"next\": \"15.0.0\"}}\n",
    );
    write(&project, ".gitignore", ".env\n.env.*\n");
    (outer, project, key)
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_tree_is_not_read() {
    let (outer, project, key) = outer_with_secret();
    symlink("../secret/creds.py", &project.join("leak.py"));
    symlink(
        outer.path().join("secret/creds.py"),
        &project.join("abs.py"),
    );
    symlink("../secret/.env", &project.join(".env"));
    let run = aiguard(&["audit", ".", "--format", "json"], &project);
    let json = json_of(&run);
    assert!(
        !run.stdout.contains(&key[key.len() - 4..]),
        "{}",
        run.stdout
    );
    assert_eq!(finding_keys(&json), Vec::<String>::new());
    let notes: Vec<(String, String)> = json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["path"].as_str().unwrap().to_string(),
                n["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // (`.env` is ignored: not walked, and the `.env` listing skips links.)
    for link in ["leak.py", "abs.py"] {
        assert!(
            notes
                .iter()
                .any(|(p, m)| p == link && m.contains("outside the audited tree")),
            "{link}: {notes:?}"
        );
    }
    // The same files, really in the tree, are found: the test can fail.
    for (link, target) in [("leak.py", "creds.py"), (".env", ".env")] {
        fs::remove_file(project.join(link)).unwrap();
        fs::copy(outer.path().join("secret").join(target), project.join(link)).unwrap();
    }
    let json = json_of(&aiguard(&["audit", ".", "--format", "json"], &project));
    assert_eq!(
        finding_keys(&json),
        [
            "keys-in-client public-env-secret .env:1",
            "keys-in-code openai-project-key leak.py:1"
        ]
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_inside_the_tree_is_read_once_at_its_target() {
    let (_outer, project, _) = outer_with_secret();
    let key = fake_key("anthropic-api-key", 22);
    write(&project, "config/keys.py", &format!("KEY = \"{key}\"\n"));
    symlink("config/keys.py", &project.join("alias.py"));
    symlink("../config/keys.py", &project.join("config/again.py"));
    let json = json_of(&aiguard(&["audit", ".", "--format", "json"], &project));
    assert_eq!(
        finding_keys(&json),
        ["keys-in-code anthropic-api-key config/keys.py:1"]
    );
    assert_eq!(json["summary"]["files_scanned"], 4, "{}", json["summary"]);
}

/// `--staged` reads the files a commit does not change from the working
/// tree, for context: never through a folder that became a link out of it.
#[cfg(unix)]
#[test]
fn staged_context_is_not_read_through_a_linked_folder() {
    let (outer, project, _) = outer_with_secret();
    let helper = "from openai import OpenAI\n\nclient = OpenAI()\n\n\ndef ask(prompt):\n    return client.chat.completions.create(\n        model=\"gpt-4o-mini\", max_tokens=100,\n        messages=[{\"role\": \"user\", \"content\": prompt}],\n    )\n";
    write(outer.path(), "elsewhere/helpers.py", helper);
    write(&project, "lib/helpers.py", helper);
    write(
        &project,
        "main.py",
        "from fastapi import FastAPI\n\nfrom lib.helpers import ask\n\napp = FastAPI()\n",
    );
    git_init(&project);
    git(&project, &["add", "-A"]);
    git(&project, &["commit", "-q", "--no-verify", "-m", "initial"]);
    write(
        &project,
        "main.py",
        "from fastapi import FastAPI\n\nfrom lib.helpers import ask\n\napp = FastAPI()\n\n\n@app.post(\"/chat\")\ndef chat(prompt: str):\n    return ask(prompt)\n",
    );
    git(&project, &["add", "main.py"]);
    let staged = |project: &Path| {
        let run = aiguard(
            &[
                "audit",
                ".",
                "--staged",
                "--format",
                "json",
                "--select",
                "rate-limit",
            ],
            project,
        );
        finding_keys(&json_of(&run))
    };
    // Read from the folder itself, the helper makes /chat an AI endpoint.
    let limited = ["rate-limit ai-endpoint-not-rate-limited main.py:8"];
    assert_eq!(staged(&project), limited);
    // The folder replaced by a link out of the tree: not read.
    fs::remove_dir_all(project.join("lib")).unwrap();
    symlink(outer.path().join("elsewhere"), &project.join("lib"));
    assert_eq!(staged(&project), Vec::<String>::new());
}

#[cfg(unix)]
#[test]
fn config_cannot_widen_the_audit_past_the_root() {
    let (outer, project, _) = outer_with_secret();
    let config = |text: &str| fs::write(project.join("aiguard.toml"), text).unwrap();
    // `..` in a glob: refused, naming the line.
    for key_name in ["include", "exclude", "extend-exclude"] {
        config(&format!("{key_name} = [\"../secret/**\"]\n"));
        let run = aiguard(&["audit", "."], &project);
        assert_eq!(run.code, 2, "{key_name}: {}", run.stderr);
        assert!(
            run.stderr.contains("aiguard.toml:1") && run.stderr.contains("cannot leave"),
            "{}",
            run.stderr
        );
    }
    // A leading `/` anchors at the root: the outside `/secret` is not it.
    config("include = [\"/secret/**\", \"**/*.py\"]\n");
    let json = json_of(&aiguard(&["audit", ".", "--format", "json"], &project));
    assert_eq!(finding_keys(&json), Vec::<String>::new());
    // A key-rules file outside the tree: refused from the tree's config,
    // read when the user names the config.
    let rules = r#"[[rule]]
id = "acme-ai-key"
provider = "Acme AI"
message = "Acme AI key written in code"
regex = '''\b(?P<secret>acme_live_[a-z0-9]{32})\b'''
keywords = ["acme_live_"]
"#;
    write(outer.path(), "secret/rules.toml", rules);
    config("key-rules = [\"../secret/rules.toml\"]\n");
    let run = aiguard(&["audit", "."], &project);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("outside the audited tree"),
        "{}",
        run.stderr
    );
    let explicit = project.join("aiguard.toml");
    let run = aiguard(
        &["audit", ".", "--config", explicit.to_str().unwrap()],
        &project,
    );
    assert_ne!(run.code, 2, "{}", run.stderr);
    // The tree's config itself, a link out of the tree: not read.
    fs::remove_file(project.join("aiguard.toml")).unwrap();
    write(outer.path(), "secret/aiguard.toml", "fail-on = \"never\"\n");
    symlink("../secret/aiguard.toml", &project.join("aiguard.toml"));
    let run = aiguard(&["audit", "."], &project);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("outside the audited tree"),
        "{}",
        run.stderr
    );
}

// ------------------------------------------------------ bounded time per file

/// A FastAPI app whose one endpoint calls OpenAI unlimited, padded with
/// `lines` helper functions, and a key at the end.
fn long_app(lines: usize, key: &str) -> String {
    let mut text = String::from(
        "from fastapi import FastAPI\nfrom openai import OpenAI\n\napp = FastAPI()\nclient = OpenAI()\n\n\n@app.post(\"/chat\")\ndef chat(prompt: str):\n    return client.chat.completions.create(model=\"gpt-4o-mini\", max_tokens=100, messages=[])\n\n",
    );
    for i in 0..lines {
        text.push_str(&format!(
            "\ndef helper_{i}(x):\n    return [x, {i}, (x + {i}) * 2]\n"
        ));
    }
    text.push_str(&format!("\nBACKUP_KEY = \"{key}\"\n"));
    text
}

#[test]
fn a_file_over_the_parse_budget_is_scanned_for_keys_and_noted() {
    let dir = tempfile::tempdir().unwrap();
    let key = fake_key("openai-project-key", 23);
    write(dir.path(), ".gitignore", ".env\n");
    write(dir.path(), "app.py", &long_app(3000, &key));
    let run = |dir: &Path| {
        let run = aiguard(
            &[
                "audit",
                ".",
                "--format",
                "json",
                "--select",
                "keys-in-code,rate-limit",
            ],
            dir,
        );
        json_of(&run)
    };
    // Within the default budget (2 s): parsed, the endpoint is found.
    let json = run(dir.path());
    let key_line = 12 + 3 * 3000 + 1;
    assert_eq!(
        finding_keys(&json),
        [
            format!("keys-in-code openai-project-key app.py:{key_line}"),
            "rate-limit ai-endpoint-not-rate-limited app.py:8".to_string(),
        ]
    );
    assert!(
        !notes_of(&json).iter().any(|(_, kind)| kind == "not-parsed"),
        "{:?}",
        json["notes"]
    );
    // A budget nothing fits in: the key is still found, the file is named.
    write(dir.path(), "aiguard.toml", "max-parse-time-ms = 0\n");
    let json = run(dir.path());
    assert_eq!(
        finding_keys(&json),
        [format!("keys-in-code openai-project-key app.py:{key_line}")]
    );
    let note = json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "not-parsed")
        .expect("a not-parsed note");
    assert_eq!(
        (&note["path"], &note["kind"]),
        (&"app.py".into(), &"not-parsed".into())
    );
    assert!(
        note["message"]
            .as_str()
            .unwrap()
            .contains("max-parse-time-ms"),
        "{note}"
    );
}

/// Users' key rules run on the `regex` crate, whose matching time is linear
/// in the input: a pattern that backtracks exponentially elsewhere is
/// harmless, and features that need backtracking are refused.
#[test]
fn users_regexes_run_on_the_linear_time_engine() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", ".env\n.env.*\n");
    write(root, "aiguard.toml", "key-rules = [\"keys.toml\"]\n");
    let rule = |regex: &str| {
        write(
            root,
            "keys.toml",
            &format!(
                "[[rule]]\nid = \"acme-ai-key\"\nprovider = \"Acme AI\"\nmessage = \"Acme AI key\"\nregex = '''{regex}'''\nkeywords = [\"xx\"]\n"
            ),
        )
    };
    // (x+x+)+y on 30,000 x's: about 2^30000 steps for a backtracking engine.
    rule(r"(?P<secret>(x+x+)+y)");
    write(root, "pad.txt", &"x".repeat(30_000));
    let started = std::time::Instant::now();
    let run = aiguard(&["audit", ".", "--format", "json"], root);
    assert_eq!(finding_keys(&json_of(&run)), Vec::<String>::new());
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
    // Look-around and backreferences: refused, exit 2.
    for regex in [r"(?P<secret>xx(?=y))", r"(?P<secret>(x)\1)"] {
        rule(regex);
        let run = aiguard(&["audit", "."], root);
        assert_eq!(run.code, 2, "{regex}: {}", run.stderr);
        assert!(run.stderr.contains("keys.toml"), "{}", run.stderr);
    }
}

/// A FIFO where git reads a file (here: a config include) blocks git for
/// ever. Each git command has a time limit (`AIGUARD_GIT_TIMEOUT_MS` makes
/// it short here); past it git is stopped, and the audit goes on without
/// git, or, for modes that need git, fails with a message.
#[cfg(unix)]
#[test]
fn a_git_that_blocks_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git_init(root);
    write(root, ".gitignore", ".env\n.env.*\n");
    let key = fake_key("openai-project-key", 24);
    write(root, "app.py", &format!("KEY = \"{key}\"\n"));
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "--no-verify", "-m", "initial"]);
    let made = Command::new("mkfifo")
        .arg(root.join(".git/blocker"))
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        println!("skipped: mkfifo is not available");
        return;
    }
    let mut config = fs::read_to_string(root.join(".git/config")).unwrap();
    config.push_str("[include]\n\tpath = blocker\n");
    fs::write(root.join(".git/config"), config).unwrap();
    // The trap is live: plain git blocks.
    let mut plain = Command::new("git")
        .args(["config", "--list"])
        .current_dir(root)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(plain.try_wait().unwrap().is_none(), "git did not block");
    let _ = plain.kill();
    let _ = plain.wait();

    let env = [("AIGUARD_GIT_TIMEOUT_MS", "1000")];
    let started = std::time::Instant::now();
    let run = aiguard_with_env(&["audit", ".", "--format", "json"], root, &env);
    let json = json_of(&run);
    assert_eq!(
        finding_keys(&json),
        ["keys-in-code openai-project-key app.py:1"]
    );
    assert!(
        json["notes"].to_string().contains("did not answer"),
        "{}",
        json["notes"]
    );
    for mode in ["--staged", "--history"] {
        let run = aiguard_with_env(&["audit", ".", mode], root, &env);
        assert_eq!(run.code, 2, "{mode}: {}", run.stderr);
        assert!(run.stderr.contains("did not answer"), "{}", run.stderr);
    }
    // One stall per mode, not one per git command.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

/// Replace the loose object of `rev` (`HEAD:path`, `:path`) with a FIFO:
/// git blocks for ever reading it. False when `mkfifo` is missing.
#[cfg(unix)]
fn object_as_fifo(root: &Path, rev: &str) -> bool {
    let oid = Command::new("git")
        .args(["rev-parse", rev])
        .current_dir(root)
        .output()
        .unwrap();
    let oid = String::from_utf8(oid.stdout).unwrap();
    let oid = oid.trim();
    let object = root.join(".git/objects").join(&oid[..2]).join(&oid[2..]);
    fs::remove_file(&object).unwrap();
    Command::new("mkfifo")
        .arg(&object)
        .status()
        .is_ok_and(|s| s.success())
}

/// The two git commands aiguard reads while they run (`cat-file --batch`
/// for `--staged`, `log -p` for `--history`) have a time limit of their
/// own (`AIGUARD_GIT_STREAM_TIMEOUT_MS` makes it short here; the defaults
/// are 5 and 30 minutes): a FIFO in place of an object they must read
/// blocks git for ever, as would a history too long to read. Past the
/// limit git is stopped; `--staged` fails with a message (a partial staged
/// audit would pass what it did not read), `--history` reports what it
/// scanned, a note says the scan is incomplete, and the checklist says
/// `warn` for key-history when it found nothing in what it read.
#[cfg(unix)]
#[test]
fn a_streamed_git_that_blocks_is_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git_init(root);
    write(root, ".gitignore", ".env\n.env.*\n");
    let key = fake_key("openai-project-key", 25);
    write(root, "app.py", &format!("KEY = \"{key}\"\n"));
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "--no-verify", "-m", "initial"]);
    write(root, "lib.py", "def f():\n    return 1\n");
    git(root, &["add", "lib.py"]);
    git(root, &["commit", "-q", "--no-verify", "-m", "second"]);
    write(root, "new.py", "def g():\n    return 2\n");
    git(root, &["add", "new.py"]);
    // Unblocked, both modes finish: the time limit is what stops them below.
    let env = [("AIGUARD_GIT_STREAM_TIMEOUT_MS", "2000")];
    let run = aiguard_with_env(&["audit", ".", "--staged"], root, &env);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = aiguard_with_env(&["audit", ".", "--history", "--format", "json"], root, &env);
    assert!(
        json_of(&run)["notes"]
            .to_string()
            .contains("scanned 2 commits"),
        "{}",
        run.stdout
    );

    if !object_as_fifo(root, ":new.py") || !object_as_fifo(root, "HEAD:lib.py") {
        println!("skipped: mkfifo is not available");
        return;
    }
    // The trap is live: plain git blocks.
    let mut plain = Command::new("git")
        .args(["cat-file", "-p", ":new.py"])
        .current_dir(root)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    assert!(plain.try_wait().unwrap().is_none(), "git did not block");
    let _ = plain.kill();
    let _ = plain.wait();

    let started = std::time::Instant::now();
    let run = aiguard_with_env(&["audit", ".", "--staged"], root, &env);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("git cat-file ran past its time limit (2 s)"),
        "{}",
        run.stderr
    );
    // History: the first commit was scanned (its key found), the second
    // blocked git, and the note says the scan stopped.
    let run = aiguard_with_env(&["audit", ".", "--history", "--format", "json"], root, &env);
    let json = json_of(&run);
    assert!(
        finding_keys(&json).contains(&"key-history key-in-history app.py:1".to_string()),
        "{}",
        run.stdout
    );
    let notes = json["notes"].to_string();
    assert!(
        notes.contains("key-history: INCOMPLETE: git log ran past its time limit (2 s)"),
        "{notes}"
    );
    // Only the blocked commit: no key found, and the checklist does not
    // say `pass` for what it did not read.
    let run = aiguard_with_env(
        &[
            "audit",
            ".",
            "--history",
            "--since",
            "HEAD~1",
            "--format",
            "json",
        ],
        root,
        &env,
    );
    let json = json_of(&run);
    assert!(
        !finding_keys(&json)
            .iter()
            .any(|k| k.starts_with("key-history")),
        "{}",
        run.stdout
    );
    assert_eq!(status_of(&json, "key-history"), "warn", "{}", run.stdout);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

/// `--staged` keeps a cache in `.git/aiguard/`: a repository whose
/// `.git/aiguard` links elsewhere does not get aiguard to write there.
#[cfg(unix)]
#[test]
fn the_staged_cache_is_not_written_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let root = dir.path();
    git_init(root);
    write(root, ".gitignore", ".env\n.env.*\n");
    write(root, "app.py", "import openai\n");
    write(root, "lib.py", "def f():\n    return 1\n");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "--no-verify", "-m", "initial"]);
    write(root, "app.py", "import openai\n\nx = 1\n");
    git(root, &["add", "app.py"]);
    // Without a link the cache is written: the test can fail.
    let run = aiguard(&["audit", ".", "--staged"], root);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(root.join(".git/aiguard/staged-context").is_file());
    fs::remove_dir_all(root.join(".git/aiguard")).unwrap();
    symlink(elsewhere.path(), &root.join(".git/aiguard"));
    let run = aiguard(&["audit", ".", "--staged"], root);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}
