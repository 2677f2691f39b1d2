//! What git knows about the audited tree: whether it is a repository, its
//! top directory, and which files are tracked (the index, via
//! `git ls-files -z`). Never fatal: without git the audit says so and goes on.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct GitInfo {
    /// The repository's top directory.
    pub top: Option<PathBuf>,
    /// Tracked files, relative to the audited root, `/`-separated.
    pub tracked: Option<HashSet<String>>,
    /// Why `tracked` is unknown.
    pub problem: Option<String>,
}

impl GitInfo {
    pub fn discover(root: &Path) -> GitInfo {
        let top = match git(root, &["rev-parse", "--show-toplevel"]) {
            Ok(out) => PathBuf::from(String::from_utf8_lossy(&out).trim()),
            Err(problem) => {
                return GitInfo {
                    top: None,
                    tracked: None,
                    problem: Some(problem),
                }
            }
        };
        match git(root, &["ls-files", "-z", "--cached", "--", "."]) {
            Ok(out) => {
                let tracked = out
                    .split(|b| *b == 0)
                    .filter(|p| !p.is_empty())
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect();
                GitInfo {
                    top: Some(top),
                    tracked: Some(tracked),
                    problem: None,
                }
            }
            Err(problem) => GitInfo {
                top: Some(top),
                tracked: None,
                problem: Some(problem),
            },
        }
    }

    pub fn is_tracked(&self, rel: &str) -> bool {
        self.tracked.as_ref().is_some_and(|t| t.contains(rel))
    }

    /// `.git/info/exclude` of the repository, if any.
    pub fn info_exclude(&self) -> Option<String> {
        let top = self.top.as_ref()?;
        std::fs::read_to_string(top.join(".git/info/exclude")).ok()
    }
}

/// `git`, kept off the network: in a partial clone, reading a blob the
/// clone lacks makes git fetch it from the promisor remote, and aiguard
/// never talks to a network (issue 10, `tests/no_network.rs`).
/// `GIT_NO_LAZY_FETCH` (git 2.44+) turns lazy fetching off; for older git,
/// allowing no transport protocol makes any fetch fail instead.
pub fn command() -> Command {
    let mut command = Command::new("git");
    command
        .env("GIT_NO_LAZY_FETCH", "1")
        .env("GIT_ALLOW_PROTOCOL", "none");
    command
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut command = command();
    // Paths as bytes, relative to `dir`, whatever the user's config says.
    command.env("GIT_CONFIG_PARAMETERS", "'core.quotepath=false'");
    output(command, dir, args).map_err(|e| match e {
        Failure::NotInstalled => "git is not installed: tracked files were not checked".into(),
        Failure::Spawn(e) => format!("could not run git: {e}"),
        Failure::Failed(err) if err.contains("not a git repository") => {
            "not a git repository: tracked files were not checked (.gitignore rules still were)"
                .into()
        }
        Failure::Failed(err) => format!("git failed: {}", first_line(&err)),
    })
}

/// Run `git -C dir args…` and return its stdout; the error is git's first
/// line of stderr, or why git could not run.
pub fn run(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    output(command(), dir, args).map_err(|e| match e {
        Failure::NotInstalled => "git is not installed".into(),
        Failure::Spawn(e) => format!("could not run git: {e}"),
        Failure::Failed(err) => format!(
            "git {} failed: {}",
            args.first().copied().unwrap_or(""),
            first_line(&err)
        ),
    })
}

/// Why a git command gave no output.
enum Failure {
    NotInstalled,
    Spawn(std::io::Error),
    /// It ran and failed: its stderr.
    Failed(String),
}

fn output(mut command: Command, dir: &Path, args: &[&str]) -> Result<Vec<u8>, Failure> {
    let output = command
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Failure::NotInstalled,
            _ => Failure::Spawn(e),
        })?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(Failure::Failed(
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}
