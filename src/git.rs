//! Every git process aiguard starts, and what git knows about the audited
//! tree: whether it is a repository, its top directory, and which files are
//! tracked (the index, via `git ls-files -z`). Never fatal for a plain
//! audit: without git the audit says so and goes on.
//!
//! aiguard is pointed at repositories it did not write (a fork's pull
//! request, a downloaded archive), and a repository's config can make git
//! run programs: `core.fsmonitor`, hooks (`.git/hooks`, `core.hooksPath`),
//! the clean/smudge/process filters and diff textconv/command drivers that
//! `.gitattributes` names, `diff.external`, pagers, `core.sshCommand`,
//! askpass and credential helpers, transports, `core.alternateRefsCommand`,
//! and whatever `include.path`/`includeIf` bring in. So git is only ever
//! started through [`Git`], which turns each of them off on the command line
//! of every process (`-c`, the strongest config scope, and environment
//! variables), issue 20 and `tests/hostile.rs`. The driver names come from
//! `git config --list`, which reads the config (includes too) and runs
//! nothing. Each command waited for has a time limit ([`time_limit`]): a
//! FIFO where git reads a file would block it for ever; the two commands
//! read while they run (`cat-file --batch`, `log -p`) go through [`Stream`],
//! whose watchdog stops them at theirs. Not neutralised on
//! purpose: `core.worktree` and a `.git` file pointing elsewhere (git's idea
//! of the repository is trusted; see SECURITY.md).

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `core.hooksPath` for every process: a folder that holds no hook.
#[cfg(windows)]
const NO_HOOKS: &str = "NUL";
#[cfg(not(windows))]
const NO_HOOKS: &str = "/dev/null";

/// Config that can make git run a program or open a connection, set for
/// every git process. Values git reads as "none": an empty pager is no
/// pager, an empty askpass none, an empty `credential.helper` empties the
/// helper list.
const FIXED: &[(&str, &str)] = &[
    ("core.fsmonitor", "false"),
    ("core.hooksPath", NO_HOOKS),
    ("core.pager", ""),
    ("core.askPass", ""),
    ("core.sshCommand", "false"),
    ("core.gitProxy", ""),
    ("core.alternateRefsCommand", ""),
    ("credential.helper", ""),
    ("protocol.allow", "never"),
    ("diff.external", ""),
    ("diff.ignoreSubmodules", "all"),
    ("submodule.recurse", "false"),
    ("log.showSignature", "false"),
    // Paths as bytes, whatever the user's config says.
    ("core.quotepath", "false"),
];

/// git, ready to run in one directory with every repository-controlled
/// program turned off. Built once per audit (one `git config` process);
/// each command then starts from [`Git::command`].
pub struct Git {
    dir: PathBuf,
    /// `key=value` pairs for `-c`, the fixed ones and those naming drivers.
    overrides: Vec<(OsString, OsString)>,
    /// A command outlived [`time_limit`]: git blocks in this repository (a
    /// FIFO where it expects a file: an included config, `HEAD`, the
    /// index). Later commands fail at once instead of waiting again.
    stalled: AtomicBool,
    /// Why git could not list its config: without the driver names no
    /// command is safe, so none runs (git would fail on that config anyway).
    unlisted: Option<String>,
}

impl Git {
    /// Learn which drivers the repository's config (and what it includes)
    /// names. If git cannot list its config, no later command runs: each
    /// fails with the listing's error.
    pub fn open(dir: &Path) -> Git {
        let mut git = Git {
            dir: dir.to_path_buf(),
            overrides: FIXED
                .iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v)))
                .collect(),
            stalled: AtomicBool::new(false),
            unlisted: None,
        };
        match git.output(git.command(), &["config", "--includes", "-z", "--list"]) {
            Ok(list) => git.overrides.extend(driver_overrides(&list)),
            Err(Failure::Failed(err)) => git.unlisted = Some(err),
            // Not installed, cannot start, stalled: later commands say so.
            Err(_) => {}
        }
        git
    }

    /// [`output`], unless git already stalled here; a stall is remembered.
    fn output(&self, command: Command, args: &[&str]) -> Result<Vec<u8>, Failure> {
        if self.stalled.load(Ordering::Relaxed) {
            return Err(Failure::TimedOut);
        }
        if let Some(err) = &self.unlisted {
            return Err(Failure::Failed(err.clone()));
        }
        let result = output(command, args);
        if matches!(result, Err(Failure::TimedOut)) {
            self.stalled.store(true, Ordering::Relaxed);
        }
        result
    }

    /// `git -C dir` with every override; the caller adds the subcommand.
    pub fn command(&self) -> Command {
        self.command_with(|_| true)
    }

    fn command_with(&self, keep: impl Fn(&OsString) -> bool) -> Command {
        let mut command = Command::new("git");
        hardened_env(&mut command);
        command.arg("--no-pager");
        // `-c` cannot say a key holding `=` (git splits at the first one):
        // those go through GIT_CONFIG_COUNT (git 2.31+) instead.
        let mut by_env = 0;
        for (key, value) in self.overrides.iter().filter(|(k, _)| keep(k)) {
            if key.as_encoded_bytes().contains(&b'=') {
                command
                    .env(format!("GIT_CONFIG_KEY_{by_env}"), key)
                    .env(format!("GIT_CONFIG_VALUE_{by_env}"), value);
                by_env += 1;
            } else {
                let mut pair = key.clone();
                pair.push("=");
                pair.push(value);
                command.arg("-c").arg(pair);
            }
        }
        if by_env > 0 {
            command.env("GIT_CONFIG_COUNT", by_env.to_string());
        }
        command.arg("-C").arg(&self.dir);
        command
    }

    /// Run `git -C dir args…` and return its stdout; the error is git's
    /// first line of stderr, or why git could not run.
    pub fn run(&self, args: &[&str]) -> Result<Vec<u8>, String> {
        self.output(self.command(), args).map_err(|e| match e {
            Failure::NotInstalled => "git is not installed".into(),
            Failure::Spawn(e) => format!("could not run git: {e}"),
            Failure::TimedOut => stalled_message(),
            Failure::Failed(err) => format!(
                "git {} failed: {}",
                args.first().copied().unwrap_or(""),
                first_line(&err)
            ),
        })
    }

    /// Start `command` (from [`Git::command`], its arguments added) as a
    /// [`Stream`]: stdout piped for the caller to read as it comes, stdin
    /// piped when `stdin`, stopped at `limit` ([`stream_time_limit`]).
    pub fn stream(
        &self,
        mut command: Command,
        stdin: bool,
        limit: Duration,
    ) -> Result<Stream, String> {
        if self.stalled.load(Ordering::Relaxed) {
            return Err(stalled_message());
        }
        if let Some(err) = &self.unlisted {
            return Err(format!("git config failed: {}", first_line(err)));
        }
        let mut child = command
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => "git is not installed".to_string(),
                _ => format!("could not run git: {e}"),
            })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take().map(|mut pipe| {
            // Drained on its own thread so that a chatty git never blocks on it.
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                String::from_utf8_lossy(&bytes).into_owned()
            })
        });
        let child = Arc::new(Mutex::new(child));
        let expired = Arc::new(AtomicBool::new(false));
        let (stop, stopped) = channel::<()>();
        let watchdog = {
            let (child, expired) = (child.clone(), expired.clone());
            std::thread::spawn(move || {
                if let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(limit) {
                    expired.store(true, Ordering::Relaxed);
                    let mut child = child.lock().unwrap_or_else(|e| e.into_inner());
                    let _ = child.kill();
                }
            })
        };
        Ok(Stream {
            stdin,
            stdout,
            child,
            stderr,
            stop: Some(stop),
            watchdog: Some(watchdog),
            expired,
            limit,
        })
    }

    /// Where git runs the hook `name` from (`core.hooksPath` honoured: the
    /// one question that needs it, and `rev-parse` runs no hook).
    pub fn hook_path(&self, name: &str) -> Result<PathBuf, String> {
        let command = self.command_with(|k| !k.eq_ignore_ascii_case("core.hooksPath"));
        let out = self
            .output(
                command,
                &["rev-parse", "--git-path", &format!("hooks/{name}")],
            )
            .map_err(|e| match e {
                Failure::NotInstalled => "git is not installed".to_string(),
                Failure::Spawn(e) => format!("could not run git: {e}"),
                Failure::TimedOut => stalled_message(),
                Failure::Failed(err) => format!("git rev-parse failed: {}", first_line(&err)),
            })?;
        let rel = PathBuf::from(String::from_utf8_lossy(&out).trim());
        Ok(if rel.is_absolute() {
            rel
        } else {
            self.dir.join(rel)
        })
    }
}

/// A git command whose output is read while it runs (`cat-file --batch`
/// for `--staged`, `log -p` for `--history`), so it cannot be waited for
/// like the others: a watchdog thread kills it once its time limit has
/// passed, which ends its output (the reader sees the end of the stream),
/// and [`Stream::finish`] says so. A repository with a huge history, or a
/// FIFO in place of an object git reads, stalls aiguard no longer than that.
pub struct Stream {
    pub stdin: Option<ChildStdin>,
    pub stdout: Option<ChildStdout>,
    child: Arc<Mutex<Child>>,
    stderr: Option<JoinHandle<String>>,
    stop: Option<Sender<()>>,
    watchdog: Option<JoinHandle<()>>,
    expired: Arc<AtomicBool>,
    limit: Duration,
}

/// How a [`Stream`] ended.
#[derive(Debug)]
pub enum StreamEnd {
    /// git exited: whether it succeeded, and its stderr.
    Exited { success: bool, stderr: String },
    /// It ran past its time limit and was stopped.
    TimedOut(Duration),
    /// It could not be waited for.
    Failed(String),
}

impl Stream {
    /// Wait for git to exit (it is killed at the time limit, so this
    /// returns by then) and say how it ended. Close stdin and drop the
    /// reader of stdout first: git may be waiting on them.
    pub fn finish(mut self) -> StreamEnd {
        self.stdin = None;
        self.stdout = None;
        let mut pause = Duration::from_micros(100);
        let status = loop {
            let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => {}
                Err(e) => break Err(e.to_string()),
            }
            drop(child);
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        };
        self.stop_watchdog();
        let stderr = self
            .stderr
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        if self.expired.load(Ordering::Relaxed) {
            return StreamEnd::TimedOut(self.limit);
        }
        match status {
            Ok(status) => StreamEnd::Exited {
                success: status.success(),
                stderr,
            },
            Err(e) => StreamEnd::Failed(e),
        }
    }

    fn stop_watchdog(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.watchdog.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Stream {
    /// Ended early (an error while reading): stop git, do not leave it running.
    fn drop(&mut self) {
        if self.watchdog.is_some() {
            self.stop_watchdog();
            let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The time limit of a [`Stream`]: `default`, unless
/// `AIGUARD_GIT_STREAM_TIMEOUT_MS` says otherwise (for a history too long
/// for the default, and for tests).
pub fn stream_time_limit(default: Duration) -> Duration {
    std::env::var("AIGUARD_GIT_STREAM_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(default, Duration::from_millis)
}

/// How long a stream ran before it was stopped, for messages: `90 s`, `30 min`.
pub fn human_duration(d: Duration) -> String {
    match d.as_secs() {
        0 => format!("{} ms", d.as_millis()),
        s if s >= 120 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// The environment half of the hardening: no lazy fetch in a partial clone
/// (`GIT_NO_LAZY_FETCH`, git 2.44+) and no transport at all for older git
/// (issue 10, `tests/no_network.rs`); no prompt, askpass or pager; no
/// opportunistic index writes; no system config (only a repository's own
/// config is a threat, but the system's is not the user's either, and one
/// less input keeps runs alike); the user's `GIT_EXTERNAL_DIFF`, ssh and
/// askpass programs unset.
fn hardened_env(command: &mut Command) {
    command
        .env("GIT_NO_LAZY_FETCH", "1")
        .env("GIT_ALLOW_PROTOCOL", "none")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("GIT_PAGER", "")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("SSH_ASKPASS")
        .env_remove("GIT_EXTERNAL_DIFF")
        .env_remove("GIT_SSH")
        .env_remove("GIT_SSH_COMMAND")
        .env_remove("GIT_PROXY_COMMAND")
        .env_remove("GIT_CONFIG_COUNT");
}

/// Overrides for the drivers and per-URL settings a config listing
/// (`git config -z --list`: `key\nvalue\0`, keys lower-cased but for
/// their subsection) names: each filter's commands emptied and made
/// optional (an empty command filters nothing; a required filter that
/// did not run would fail the command), each diff driver's textconv and
/// command emptied, each merge driver's command emptied, per-URL
/// credential helpers emptied, per-protocol permissions revoked, per-command
/// pagers off.
fn driver_overrides(list: &[u8]) -> Vec<(OsString, OsString)> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for entry in list.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let key = match entry.iter().position(|b| *b == b'\n') {
            Some(end) => &entry[..end],
            None => entry,
        };
        let Some((section, rest)) = split_once(key, b'.') else {
            continue;
        };
        // `section.subsection.name`: the subsection may hold dots.
        let Some(dot) = rest.iter().rposition(|b| *b == b'.') else {
            if section == b"pager" && seen.insert(key.to_vec()) {
                out.push((bytes_to_os(key), OsString::from("false")));
            }
            continue;
        };
        let (sub, name) = (&rest[..dot], &rest[dot + 1..]);
        let with = |name: &str| {
            let mut k = section.to_vec();
            k.push(b'.');
            k.extend_from_slice(sub);
            k.push(b'.');
            k.extend_from_slice(name.as_bytes());
            k
        };
        let pairs: &[(&str, &str)] = match (section, name) {
            (b"filter", _) => &[
                ("clean", ""),
                ("smudge", ""),
                ("process", ""),
                ("required", "false"),
            ],
            (b"diff", b"textconv" | b"command" | b"cachetextconv") => {
                &[("textconv", ""), ("command", "")]
            }
            (b"merge", b"driver") => &[("driver", "")],
            (b"credential", b"helper") => &[("helper", "")],
            (b"protocol", b"allow") => &[("allow", "never")],
            _ => &[],
        };
        for (name, value) in pairs {
            let k = with(name);
            if seen.insert(k.clone()) {
                out.push((bytes_to_os(&k), OsString::from(value)));
            }
        }
    }
    out
}

fn split_once(bytes: &[u8], at: u8) -> Option<(&[u8], &[u8])> {
    let i = bytes.iter().position(|b| *b == at)?;
    Some((&bytes[..i], &bytes[i + 1..]))
}

#[cfg(unix)]
fn bytes_to_os(bytes: &[u8]) -> OsString {
    use std::os::unix::ffi::OsStringExt;
    OsString::from_vec(bytes.to_vec())
}

#[cfg(not(unix))]
fn bytes_to_os(bytes: &[u8]) -> OsString {
    OsString::from(String::from_utf8_lossy(bytes).into_owned())
}

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
        let git = Git::open(root);
        let top = match discovered(&git, &["rev-parse", "--show-toplevel"]) {
            Ok(out) => PathBuf::from(String::from_utf8_lossy(&out).trim()),
            Err(problem) => {
                return GitInfo {
                    top: None,
                    tracked: None,
                    problem: Some(problem),
                }
            }
        };
        match discovered(&git, &["ls-files", "-z", "--cached", "--", "."]) {
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

/// [`Git::run`] with the messages of a plain audit, where git is optional.
fn discovered(git: &Git, args: &[&str]) -> Result<Vec<u8>, String> {
    git.output(git.command(), args).map_err(|e| match e {
        Failure::NotInstalled => "git is not installed: tracked files were not checked".into(),
        Failure::Spawn(e) => format!("could not run git: {e}"),
        Failure::TimedOut => format!("{}: tracked files were not checked", stalled_message()),
        Failure::Failed(err) if err.contains("not a git repository") => {
            "not a git repository: tracked files were not checked (.gitignore rules still were)"
                .into()
        }
        Failure::Failed(err) => format!("git failed: {}", first_line(&err)),
    })
}

/// Why a git command gave no output.
enum Failure {
    NotInstalled,
    Spawn(std::io::Error),
    /// It ran past [`time_limit`] and was stopped.
    TimedOut,
    /// It ran and failed: its stderr.
    Failed(String),
}

/// How long one git command other than the streamed `cat-file --batch` and
/// `log -p` ([`Stream`]) may take: far more than any of them needs on a large
/// repository (`ls-files` of a million files takes seconds), so only a git
/// blocked by the repository reaches it. `AIGUARD_GIT_TIMEOUT_MS` sets
/// another (for tests).
fn time_limit() -> Duration {
    let ms = std::env::var("AIGUARD_GIT_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120_000);
    Duration::from_millis(ms)
}

fn stalled_message() -> String {
    format!(
        "git did not answer within {} s and was stopped (something in the repository blocks it, such as a FIFO where git reads a file)",
        time_limit().as_secs()
    )
}

fn output(mut command: Command, args: &[&str]) -> Result<Vec<u8>, Failure> {
    let mut child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Failure::NotInstalled,
            _ => Failure::Spawn(e),
        })?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = wait_within(&mut child, time_limit());
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    match status {
        None => Err(Failure::TimedOut),
        Some(Err(e)) => Err(Failure::Spawn(e)),
        Some(Ok(status)) if status.success() => Ok(stdout),
        Some(Ok(_)) => Err(Failure::Failed(
            String::from_utf8_lossy(&stderr).into_owned(),
        )),
    }
}

/// Wait for `child` until `limit`, then kill it (`None`). Polls, from a
/// tenth of a millisecond up to 10 ms apart: a quick git costs no more.
fn wait_within(child: &mut Child, limit: Duration) -> Option<std::io::Result<ExitStatus>> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_micros(100);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(Ok(status)),
            Err(e) => return Some(Err(e)),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(10));
            }
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[u8]) -> Vec<String> {
        driver_overrides(list)
            .into_iter()
            .map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy()))
            .collect()
    }

    #[test]
    fn drivers_named_in_config_are_emptied() {
        let list =
            b"core.bare\nfalse\0filter.Evil.Dot.clean\ntouch x\0filter.Evil.Dot.smudge\ntouch y\0\
diff.pic.textconv\nexiftool\0credential.https://example.com.helper\nstore\0\
protocol.file.allow\nalways\0pager.log\nless -R\0merge.ours.driver\ntrue\0user.name\nx\0";
        assert_eq!(
            keys(list),
            [
                "filter.Evil.Dot.clean=",
                "filter.Evil.Dot.smudge=",
                "filter.Evil.Dot.process=",
                "filter.Evil.Dot.required=false",
                "diff.pic.textconv=",
                "diff.pic.command=",
                "credential.https://example.com.helper=",
                "protocol.file.allow=never",
                "pager.log=false",
                "merge.ours.driver=",
            ]
        );
    }

    /// `git cat-file --batch` waits for ids on stdin for ever while it is
    /// open: the watchdog stops it at the limit, and `finish` says so;
    /// with stdin closed the same command exits on its own.
    #[test]
    fn a_stream_is_stopped_at_its_time_limit() {
        let dir = tempfile::tempdir().unwrap();
        let init = Command::new("git")
            .args(["init", "-q"])
            .current_dir(dir.path())
            .status();
        if !init.is_ok_and(|s| s.success()) {
            println!("skipped: git is not installed");
            return;
        }
        let git = Git::open(dir.path());
        let command = || {
            let mut c = git.command();
            c.args(["cat-file", "--batch"]);
            c
        };
        let mut stream = git
            .stream(command(), true, Duration::from_millis(300))
            .unwrap();
        let held = stream.stdin.take();
        let started = Instant::now();
        let end = stream.finish();
        assert!(matches!(end, StreamEnd::TimedOut(_)), "{end:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
        drop(held);
        let stream = git
            .stream(command(), true, Duration::from_secs(60))
            .unwrap();
        let end = stream.finish();
        assert!(
            matches!(end, StreamEnd::Exited { success: true, .. }),
            "{end:?}"
        );
        assert_eq!(human_duration(Duration::from_millis(300)), "300 ms");
        assert_eq!(human_duration(Duration::from_secs(300)), "5 min");
        assert_eq!(human_duration(Duration::from_secs(90)), "90 s");
    }

    #[test]
    fn keys_holding_equals_go_through_the_environment() {
        let git = Git {
            dir: PathBuf::from("."),
            overrides: driver_overrides(b"filter.a=b.clean\nevil\0"),
            stalled: AtomicBool::new(false),
            unlisted: None,
        };
        let command = git.command();
        let args: Vec<_> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(!args.iter().any(|a| a.contains("a=b")), "{args:?}");
        let envs: Vec<_> = command
            .get_envs()
            .filter_map(|(k, v)| {
                Some((
                    k.to_string_lossy().into_owned(),
                    v?.to_string_lossy().into_owned(),
                ))
            })
            .collect();
        assert!(
            envs.contains(&("GIT_CONFIG_COUNT".into(), "4".into())),
            "{envs:?}"
        );
        assert!(envs.contains(&("GIT_CONFIG_KEY_0".into(), "filter.a=b.clean".into())));
    }
}
