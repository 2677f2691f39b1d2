//! Differential test of ignore semantics: aiguard's model
//! (`aiguard::gitignore::GitignoreModel`, which decides `env-gitignore`)
//! against `git check-ignore` itself, on generated trees.
//!
//! Each case is a small tree of folders and files with `.gitignore` files
//! at several depths (and sometimes `.git/info/exclude`), written by a
//! seeded generator: negations, leading and middle slashes (anchors), `**`
//! in every position, trailing `/` (folders only), `*`, `?`, ranges,
//! escapes, comments, blank lines and trailing spaces. Every file and
//! folder of the tree is asked of both; the first disagreement fails the
//! test with the case's files, so it can be replayed by hand.
//!
//! ```sh
//! cargo test --test gitignore_diff                                  # 300 cases
//! AIGUARD_GITIGNORE_CASES=5000 AIGUARD_GITIGNORE_SEED=7 cargo test --test gitignore_diff
//! ```
//!
//! Git runs with no global or system configuration (`core.excludesFile`
//! is deliberately not modelled: one developer's excludes do not protect a
//! team), `core.ignoreCase=false`, and `check-ignore --no-index`, so the
//! verdict is about the patterns, not about what happens to be tracked.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use aiguard::gitignore::GitignoreModel;

/// Folders a tree can have (the root is "").
const DIRS: &[&str] = &[
    "a",
    "a/b",
    "a/b/c",
    "a/c",
    "b",
    "b/a",
    "node_modules",
    "node_modules/pkg",
    "apps",
    "apps/web",
    "apps/web/src",
    ".config",
];

/// File names, chosen for the patterns below to hit and miss.
const FILES: &[&str] = &[
    ".env",
    ".env.local",
    ".env.example",
    ".envrc",
    "x.env",
    "a",
    "b",
    "c",
    "foo.txt",
    "bar.log",
    "main.py",
    "secret",
    "!important",
    "#hash",
    "sp ace",
];

/// Pattern stems: names and globs over the vocabulary above.
const STEMS: &[&str] = &[
    ".env",
    ".env*",
    ".env.*",
    "*.env",
    "*.log",
    "*",
    "a",
    "b",
    "c",
    "a/b",
    "b/c",
    "a/b/c",
    "apps/web",
    "*.txt",
    "?",
    "?.env",
    "[ab]",
    "[a-c]",
    "[!a]",
    "foo.*",
    "node_modules",
    "secret",
    "\\!important",
    "\\#hash",
    "sp ace",
    "sp\\ ace",
    ".env.local",
    ".env.example",
    "web",
    "src",
    "pkg",
    ".config",
    "x*",
    "*.*",
    // Git's corners.
    "[^a]",
    "[]a]",
    "[a-]",
    "***",
    "**a",
    "a**",
    "a/**b",
    "\\*",
    "a\\",
    "**/",
    "/",
    "!",
    "\\ ",
    ".env\\ ",
    "a/./b",
    "a/../b",
    "a//b",
];

/// Corners where aiguard's model (the `ignore` crate's matcher) and git
/// differ, left alone because no real `.gitignore` has them. Found by this
/// test and confirmed with `git check-ignore` by hand:
/// - `**` that is not a whole path component (`a**`, `/a**`, `**a/`,
///   `a**/**`), and runs of three or more stars (`***`, `/***`): git's
///   wildmatch gives these its own meanings (`!/***` re-includes
///   everything; `/a**` also matches inside `a/`), the `ignore` crate reads
///   them as plain stars. gitignore(5) only defines `**/`, `/**/` and `/**`;
/// - a doubled trailing slash (`**//`): git matches nothing;
/// - an escaped trailing slash (`a\/`): git matches nothing.
///
/// (A lone `!`, which the `ignore` crate read as "un-ignore everything",
/// was fixed in `src/gitignore.rs` instead: it is a plausible typo.)
fn is_known_quirk(line: &str) -> bool {
    let p = line.trim_end_matches([' ', '\r']);
    let p = p.strip_prefix('!').unwrap_or(p);
    if p.ends_with("//") || p.ends_with("\\/") {
        return true;
    }
    // Every run of stars: `**` must be a whole component, and no longer.
    let bytes = p.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'*' {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i] == b'*' {
            i += 1;
        }
        let run = i - start;
        let whole =
            (start == 0 || bytes[start - 1] == b'/') && (i == bytes.len() || bytes[i] == b'/');
        if run > 2 || (run == 2 && !whole) {
            return true;
        }
    }
    false
}

/// One `.gitignore` line, never a known quirk.
fn pattern(rng: &mut fastrand::Rng) -> String {
    loop {
        let p = any_pattern(rng);
        if !is_known_quirk(&p) {
            return p;
        }
    }
}

fn any_pattern(rng: &mut fastrand::Rng) -> String {
    let mut p = STEMS[rng.usize(..STEMS.len())].to_string();
    match rng.u8(..10) {
        0 => p = format!("**/{p}"),
        1 => p = format!("{p}/**"),
        2 => {
            let mid = ["a", "b", "apps", "*"][rng.usize(..4)];
            p = format!("{mid}/**/{p}");
        }
        3 => p = format!("*/{p}"),
        _ => {}
    }
    if rng.u8(..4) == 0 {
        p = format!("/{p}");
    }
    if rng.u8(..5) == 0 {
        p.push('/');
    }
    if rng.u8(..4) == 0 {
        p = format!("!{p}");
    }
    match rng.u8(..20) {
        0 => p.push_str("   "),
        1 => p = format!("# {p}"),
        2 => p = String::new(),
        3 => p.push('\r'),
        _ => {}
    }
    p
}

struct Case {
    /// Folders, then files, relative to the root.
    dirs: Vec<String>,
    files: Vec<String>,
    /// (folder, text) of each `.gitignore`.
    gitignores: Vec<(String, String)>,
    info_exclude: Option<String>,
}

fn generate(rng: &mut fastrand::Rng) -> Case {
    let mut dirs: Vec<String> = vec![String::new()];
    for d in DIRS {
        if rng.u8(..3) != 0 {
            // A folder needs its parents.
            let mut prefix = String::new();
            for part in d.split('/') {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                if !dirs.contains(&prefix) {
                    dirs.push(prefix.clone());
                }
            }
        }
    }
    let mut files = Vec::new();
    for d in &dirs {
        for _ in 0..rng.usize(1..5) {
            let f = FILES[rng.usize(..FILES.len())];
            let path = join(d, f);
            // A file may not take a folder's name.
            if !dirs.contains(&path) && !files.contains(&path) {
                files.push(path);
            }
        }
    }
    let mut gitignores = Vec::new();
    for d in &dirs {
        if d.is_empty() || rng.u8(..3) == 0 {
            let lines: Vec<String> = (0..rng.usize(1..7)).map(|_| pattern(rng)).collect();
            let mut text = lines.join("\n");
            if rng.bool() {
                text.push('\n');
            }
            gitignores.push((d.clone(), text));
        }
    }
    let info_exclude = (rng.u8(..4) == 0).then(|| {
        let lines: Vec<String> = (0..rng.usize(1..4)).map(|_| pattern(rng)).collect();
        lines.join("\n") + "\n"
    });
    Case {
        dirs,
        files,
        gitignores,
        info_exclude,
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn git(root: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", root)
        .args(["-c", "core.excludesFile=", "-c", "core.ignoreCase=false"]);
    c
}

/// Write the case into `root` (a repository; its `.git` is kept).
fn write(root: &Path, case: &Case) {
    for entry in fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        if path.is_dir() {
            fs::remove_dir_all(&path).unwrap();
        } else {
            fs::remove_file(&path).unwrap();
        }
    }
    for d in &case.dirs {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    for f in &case.files {
        fs::write(root.join(f), "x\n").unwrap();
    }
    for (d, text) in &case.gitignores {
        fs::write(root.join(d).join(".gitignore"), text).unwrap();
    }
    fs::write(
        root.join(".git/info/exclude"),
        case.info_exclude.as_deref().unwrap_or(""),
    )
    .unwrap();
}

/// git's verdict for each path: `Some(pattern source)` when ignored.
fn git_verdicts(root: &Path, paths: &[String]) -> Vec<Option<String>> {
    let mut child = git(root)
        .args(["check-ignore", "--no-index", "-v", "-n", "-z", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("git runs");
    let mut input = Vec::new();
    for p in paths {
        input.extend_from_slice(p.as_bytes());
        input.push(0);
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    // check-ignore exits 1 when nothing is ignored.
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "git check-ignore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // -z -v: source NUL line NUL pattern NUL path NUL, per path, in order.
    let fields: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let mut verdicts = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let record = &fields[i * 4..i * 4 + 4];
        assert_eq!(&record[3], p, "git answered out of order");
        let (source, line, pattern) = (&record[0], &record[1], &record[2]);
        verdicts.push(
            (!pattern.is_empty() && !pattern.starts_with('!'))
                .then(|| format!("{source}:{line}: {pattern}")),
        );
    }
    verdicts
}

fn model(root: &Path, case: &Case) -> GitignoreModel {
    let files: Vec<(PathBuf, String)> = case
        .gitignores
        .iter()
        .map(|(d, text)| (root.join(d).components().collect(), text.clone()))
        .collect();
    GitignoreModel::new(root, &files, case.info_exclude.as_deref())
}

fn describe(case: &Case) -> String {
    let mut s = String::new();
    for (d, text) in &case.gitignores {
        let _ = writeln!(s, "--- {}/.gitignore", if d.is_empty() { "." } else { d });
        let _ = writeln!(s, "{}", text.escape_debug());
    }
    if let Some(text) = &case.info_exclude {
        let _ = writeln!(s, "--- .git/info/exclude\n{}", text.escape_debug());
    }
    let _ = writeln!(s, "--- folders: {:?}", case.dirs);
    let _ = writeln!(s, "--- files: {:?}", case.files);
    s
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn gitignore_model_agrees_with_git_check_ignore() {
    let cases = env_number("AIGUARD_GITIGNORE_CASES", 300);
    let seed = env_number("AIGUARD_GITIGNORE_SEED", 10);
    let scratch = tempfile::tempdir().unwrap();
    let root = fs::canonicalize(scratch.path()).unwrap();
    let init = git(&root).args(["init", "-q"]).status().unwrap();
    assert!(init.success());
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut asked = 0;
    let mut ignored = 0;
    for n in 0..cases {
        let case = generate(&mut rng);
        write(&root, &case);
        let paths: Vec<String> = case
            .dirs
            .iter()
            .filter(|d| !d.is_empty())
            .chain(&case.files)
            .cloned()
            .collect();
        let verdicts = git_verdicts(&root, &paths);
        let model = model(&root, &case);
        for (path, by_git) in paths.iter().zip(&verdicts) {
            let is_dir = case.dirs.contains(path);
            let by_model = model.is_ignored(&root.join(path), is_dir);
            asked += 1;
            ignored += by_git.is_some() as usize;
            assert_eq!(
                by_model,
                by_git.is_some(),
                "case {n} (seed {seed}): `{path}`{}: git says {}, aiguard says {}\n{}",
                if is_dir { " (folder)" } else { "" },
                match by_git {
                    Some(why) => format!("ignored ({why})"),
                    None => "not ignored".into(),
                },
                if by_model { "ignored" } else { "not ignored" },
                describe(&case)
            );
        }
    }
    // The generator must exercise both answers.
    assert!(
        ignored > asked / 10 && ignored < asked * 9 / 10,
        "{ignored}/{asked}"
    );
}

#[test]
fn known_quirks_are_recognised() {
    for quirk in [
        "a**/**", "!***/**", "**//", "a\\/  ", "x/a**/b", "/a**", "!/***", "**a",
    ] {
        assert!(is_known_quirk(quirk), "{quirk}");
    }
    for fine in ["**/a", "a/**", "/**/x", "a/**/b", "*.env", "a/", "!**/x/"] {
        assert!(!is_known_quirk(fine), "{fine}");
    }
}
