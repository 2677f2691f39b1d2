//! No network, ever: aiguard reads a project on disk and talks to nothing.
//! Three layers, cheapest first.
//!
//! 1. **The lock file** ([`no_network_client_crate_in_the_lock_file`]):
//!    `Cargo.lock` (normal, build and dev dependencies, every platform) holds
//!    none of [`DENIED`]. The list is crates whose purpose is to open
//!    connections, or that only exist to serve them:
//!    - HTTP/WebSocket/gRPC clients and servers: `reqwest`, `hyper`, `ureq`,
//!      `curl`, `isahc`, `surf`, `attohttpc`, `minreq`, `h2`, `tonic`, …;
//!    - async runtimes and event loops built around sockets: `tokio`,
//!      `async-std`, `smol`, `async-net`, `mio`, and `socket2`. `Cargo.lock`
//!      does not record features, so `tokio` is denied whole rather than
//!      only with `net`: a CLI that reads files needs no runtime. (A file
//!      watcher pulling `mio` would trip this too: then narrow the rule with
//!      `cargo metadata`'s per-package features, don't drop it.)
//!    - TLS and DNS, useless without a socket: `rustls`, `native-tls`,
//!      `openssl`, `hickory-resolver`, …; and `libssh2-sys`, `git2`'s road
//!      to remotes (aiguard runs the `git` binary, locally).
//!
//!    Crates that only *describe* network things (`http`, `httparse`, `url`,
//!    `percent-encoding`) are allowed: they cannot connect. `std::net` is not
//!    a crate, so the sources are searched for it as well.
//! 2. **Git** ([`git_never_reaches_a_remote`]): aiguard runs `git`, and git
//!    does fetch on its own: in a partial clone (`--filter=blob:none`),
//!    reading a commit's blobs downloads them from the promisor remote. With
//!    `GIT_TRACE`, every git process an audit starts (plain, `--staged`,
//!    `--history`) is listed, in a blobless clone of a `file://` remote, and
//!    none may be a transport command (`fetch`, `upload-pack`, …).
//! 3. **System calls** ([`no_internet_socket_is_opened`]): under `strace -f`
//!    (when installed and allowed), the same audits, git included, open no
//!    AF_INET/AF_INET6 socket and connect nowhere.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

/// Crates that open network connections or exist to serve them.
const DENIED: &[&str] = &[
    // HTTP, WebSocket and RPC clients and servers.
    "reqwest",
    "hyper",
    "hyper-util",
    "ureq",
    "curl",
    "curl-sys",
    "isahc",
    "surf",
    "attohttpc",
    "minreq",
    "http-req",
    "ehttp",
    "awc",
    "actix-http",
    "actix-web",
    "tiny_http",
    "h2",
    "h3",
    "quinn",
    "tungstenite",
    "tokio-tungstenite",
    "tonic",
    // Async runtimes and event loops around sockets.
    "tokio",
    "async-std",
    "smol",
    "async-net",
    "mio",
    "socket2",
    // TLS and DNS.
    "rustls",
    "native-tls",
    "openssl",
    "openssl-sys",
    "boring",
    "boring-sys",
    "webpki-roots",
    "trust-dns-resolver",
    "hickory-resolver",
    "c-ares",
    // Remote git transports.
    "libssh2-sys",
    "ssh2",
];

fn locked_packages() -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("Cargo.lock")).expect("Cargo.lock");
    let lock: toml::Value = toml::from_str(&text).expect("Cargo.lock is TOML");
    lock["package"]
        .as_array()
        .expect("[[package]] entries")
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn no_network_client_crate_in_the_lock_file() {
    let packages = locked_packages();
    assert!(packages.iter().any(|p| p == "ignore"), "read the real lock");
    let denied: Vec<&String> = packages
        .iter()
        .filter(|p| DENIED.contains(&p.as_str()))
        .collect();
    assert!(
        denied.is_empty(),
        "network crates in Cargo.lock: {denied:?} (`cargo tree -i NAME` shows who pulls them in)"
    );
}

#[test]
fn no_std_net_in_the_sources() {
    let mut offenders = Vec::new();
    let mut dirs = vec![repo_root().join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for needle in ["std::net", "TcpStream", "UdpSocket", "TcpListener"] {
                    if text.contains(needle) {
                        offenders.push(format!("{}: {needle}", path.display()));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:?}");
}

/// A repository with history, and a blobless (partial) clone of it whose
/// blobs live only on a `file://` promisor remote. Returns (tempdir, clone).
fn partial_clone() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let origin = dir.path().join("origin");
    std::fs::create_dir(&origin).unwrap();
    git_init(&origin);
    std::fs::write(origin.join(".gitignore"), ".env\n.env.*\n").unwrap();
    for i in 0..3 {
        // One file rewritten: its old versions are blobs a clone lacks.
        std::fs::write(origin.join("m0.py"), format!("x = {i}\n")).unwrap();
        git(&origin, &["add", "."]);
        git(&origin, &["commit", "-q", "-m", &format!("c{i}")]);
    }
    git(&origin, &["config", "uploadpack.allowFilter", "true"]);
    let clone = dir.path().join("clone");
    let url = format!("file://{}", origin.display());
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--filter=blob:none",
            &url,
            clone.to_str().unwrap(),
        ],
    );
    // Stage a change, so `--staged` has work to do.
    std::fs::write(clone.join("m0.py"), "x = 10\n").unwrap();
    git(&clone, &["add", "m0.py"]);
    (dir, clone)
}

/// The audits a user can start; each must stay local.
const AUDITS: &[&[&str]] = &[
    &["audit", "."],
    &["audit", ".", "--staged"],
    &["audit", ".", "--history"],
    &["inventory", "."],
];

/// Git subcommands that talk to a remote (or serve one).
const TRANSPORT: &[&str] = &[
    "fetch",
    "fetch-pack",
    "pull",
    "push",
    "send-pack",
    "clone",
    "ls-remote",
    "upload-pack",
    "receive-pack",
    "remote-http",
    "remote-https",
    "remote-ftp",
    "submodule",
];

#[test]
fn git_never_reaches_a_remote() {
    let (dir, clone) = partial_clone();
    for args in AUDITS {
        let trace = dir.path().join("git-trace");
        let _ = std::fs::remove_file(&trace);
        let out = Command::new(env!("CARGO_BIN_EXE_aiguard"))
            .args(*args)
            .current_dir(&clone)
            .env("GIT_TRACE", &trace)
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        let log = std::fs::read_to_string(&trace).unwrap_or_default();
        let transports: Vec<&str> = log
            .lines()
            .filter(|l| {
                git_subcommand(l)
                    .is_some_and(|sub| TRANSPORT.contains(&sub) || sub.starts_with("remote-"))
            })
            .collect();
        assert!(
            transports.is_empty(),
            "aiguard {args:?} made git talk to a remote (exit {code}):\n{}",
            transports.join("\n")
        );
    }
}

/// The subcommand of a `GIT_TRACE` line that starts a git command
/// (`trace: built-in: git log …`, `trace: run_command: git fetch …`,
/// `trace: exec: git-upload-pack …`), if it is one.
fn git_subcommand(line: &str) -> Option<&str> {
    let (_, rest) = line.split_once("trace: ")?;
    let (_, command) = rest.split_once(": ")?;
    // Past an environment prelude: `unset A B; K=V 'git-upload-pack …'`.
    let mut words = command.split_whitespace().map(|w| w.trim_matches('\''));
    let first = words.find(|w| w.starts_with("git"))?;
    if let Some(sub) = first.strip_prefix("git-") {
        return Some(sub);
    }
    if first != "git" {
        return None;
    }
    // Skip global options (`-c key=value`, `-C dir`).
    let mut words = words.peekable();
    while let Some(w) = words.next() {
        match w {
            "-c" | "-C" => {
                words.next();
            }
            w if w.starts_with('-') => {}
            sub => return Some(sub),
        }
    }
    None
}

#[test]
fn git_trace_lines_parse() {
    assert_eq!(
        git_subcommand("12:00:00.1 git.c:463  trace: built-in: git log -p HEAD --"),
        Some("log")
    );
    assert_eq!(
        git_subcommand(
            "run-command.c:659 trace: run_command: git -c fetch.negotiationAlgorithm=noop fetch origin"
        ),
        Some("fetch")
    );
    assert_eq!(
        git_subcommand(
            "trace: run_command: unset GIT_PREFIX; GIT_PROTOCOL=version=2 'git-upload-pack '\\''/x'\\'''"
        ),
        Some("upload-pack")
    );
}

/// A fixture with keys, SDK calls and endpoints: every check has work.
const FIXTURE: &str = "demo";

fn strace_works() -> bool {
    Command::new("strace")
        .args(["-f", "-o", "/dev/null", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn no_internet_socket_is_opened() {
    if !strace_works() {
        eprintln!("skipped: strace is not installed or may not trace here");
        return;
    }
    let (dir, clone) = partial_clone();
    let clean = materialize(FIXTURE);
    git_init(clean.path());
    for (root, args) in AUDITS
        .iter()
        .map(|a| (clone.as_path(), *a))
        .chain([(clean.path(), &["audit", "."][..])])
    {
        let log = dir.path().join("strace.log");
        let status = Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=socket,connect,sendto", "-o"])
            .arg(&log)
            .arg(env!("CARGO_BIN_EXE_aiguard"))
            .args(args)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(status.status.code().is_some(), "{args:?}");
        let calls = std::fs::read_to_string(&log).unwrap();
        let inet: Vec<&str> = calls
            .lines()
            // AF_INET6 too; AF_UNIX (glibc asking nscd) is local.
            .filter(|l| l.contains("AF_INET"))
            .collect();
        assert!(
            inet.is_empty(),
            "aiguard {args:?} in {}: {inet:?}",
            short(root)
        );
    }
}

fn short(p: &Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}
