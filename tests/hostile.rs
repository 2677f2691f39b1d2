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
