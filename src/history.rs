//! The key-history scan (`--history`): every commit reachable from `HEAD`
//! (after `--since REV` if given), oldest first, streamed from one
//! `git log -p`, judged by the same key rules as keys-in-code.
//!
//! Only the lines a commit adds are judged; a hunk's context lines are kept
//! around them so that rules needing nearby words (a bare Gemini key next to
//! "gemini") still see them. Each distinct key is reported once, at the
//! first commit that added it in topological order (parents before
//! children). Merge commits are diffed against their first parent: what a
//! merge brings from the other branch was seen on that branch already, and a
//! key added while resolving the merge is found too.
//!
//! Memory stays bounded whatever the number of commits: one SHA-256 per
//! distinct key, and one file's hunks at a time (scanned in pieces of
//! [`PIECE`] bytes when larger). Nothing here keeps a raw key: findings hold
//! only [`Redacted`] evidence.
//!
//! Gaps: binary files (git prints no lines for them), and commits only
//! reachable from other branches or tags (HEAD's history is what ships).

use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::time::{Duration, Instant};

use ignore::overrides::Override;

use crate::catalog::Catalog;
use crate::config::Settings;
use crate::findings::CheckId;
use crate::findings::{Finding, Note, NoteKind, Redacted, Severity, Span};
use crate::source::Source;

/// One file's hunks are scanned in pieces of about this size.
const PIECE: usize = 4 * 1024 * 1024;
/// Lines carried from one piece to the next (context for the rules).
const CARRIED_LINES: usize = 8;

/// What the scan found.
pub struct HistoryScan {
    /// One finding per distinct key, in the order the commits added them.
    pub findings: Vec<Finding>,
    /// Commits read.
    pub commits: usize,
    /// git log ran past its time limit: the newer commits were not read.
    pub incomplete: bool,
    /// What was scanned, for the report.
    pub note: Note,
}

/// Scan the history of the repository holding `settings.root`. Errors (not
/// a repository, a bad `--since`, git failing) mean the audit cannot run.
pub fn scan(
    settings: &Settings,
    catalog: &Catalog,
    excludes: &Override,
) -> Result<HistoryScan, String> {
    let git = crate::git::Git::open(&settings.root);
    git.run(&["rev-parse", "--show-toplevel"])
        .map_err(|e| format!("--history needs a git repository: {e}"))?;
    if git.run(&["rev-parse", "--verify", "-q", "HEAD"]).is_err() {
        return Ok(HistoryScan {
            findings: Vec::new(),
            commits: 0,
            incomplete: false,
            note: note("key-history: no commits yet".into()),
        });
    }
    let mut range = vec!["HEAD".to_string()];
    if let Some(since) = &settings.since {
        let commit = git
            .run(&[
                "rev-parse",
                "--verify",
                "-q",
                &format!("{since}^{{commit}}"),
            ])
            .map_err(|_| format!("--since {since}: not a commit of this repository"))?;
        range.push(format!("^{}", String::from_utf8_lossy(&commit).trim()));
    }
    let progress = Progress::new(std::io::stderr().is_terminal(), &git, &range);
    let mut scanner = Scanner::new(catalog, excludes, progress);
    let stopped = stream_log(&git, &range, &mut scanner)?;
    scanner.progress.done();
    let commits = scanner.commits;
    let since = match &settings.since {
        Some(rev) => format!(" after {rev}"),
        None => String::new(),
    };
    let plural = if commits == 1 { "" } else { "s" };
    let message = match stopped {
        None => format!("key-history: scanned {commits} commit{plural} reachable from HEAD{since}"),
        // Oldest first: what was not scanned is the newer end.
        Some(limit) => format!(
            "key-history: INCOMPLETE: git log ran past its time limit ({}) and was stopped; \
             {commits} commit{plural} reachable from HEAD{since} scanned, oldest first (the last \
             one perhaps in part), the newer ones not (AIGUARD_GIT_STREAM_TIMEOUT_MS sets a longer \
             limit, --since REV scans fewer commits)",
            crate::git::human_duration(limit)
        ),
    };
    let message = match scanner.cut_lines {
        0 => message,
        n => format!(
            "{message}; {n} line{} over {} scanned only in {}",
            if n == 1 { "" } else { "s" },
            crate::source::human_bytes(MAX_LINE as u64),
            if n == 1 {
                "its first part"
            } else {
                "their first parts"
            },
        ),
    };
    Ok(HistoryScan {
        findings: scanner.findings,
        commits,
        incomplete: stopped.is_some(),
        note: note(message),
    })
}

fn note(message: String) -> Note {
    Note {
        path: String::new(),
        kind: NoteKind::Git,
        message,
    }
}

/// A line of `git log -p` is kept up to this many bytes; the rest of a
/// longer one is read past, not scanned (a note counts them). Without it,
/// one committed line of hundreds of megabytes would be held whole.
const MAX_LINE: usize = PIECE;

/// Read one line (its newline included) into `line`, keeping at most `cap`
/// bytes of it; the rest up to the newline is read and dropped. Returns
/// the line's full length (0 at the end of the stream).
fn read_line_capped(
    out: &mut impl BufRead,
    line: &mut Vec<u8>,
    cap: usize,
) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let buf = match out.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(total);
        }
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let room = cap.saturating_sub(line.len()).min(take);
        line.extend_from_slice(&buf[..room]);
        out.consume(take);
        total += take;
        if done {
            return Ok(total);
        }
    }
}

/// How long `git log -p` may run: a history that takes longer is scanned
/// up to there, and the note says so (`AIGUARD_GIT_STREAM_TIMEOUT_MS` sets
/// another limit).
const LOG_TIME_LIMIT: Duration = Duration::from_secs(30 * 60);

/// Run `git log -p` over `range` and feed its output to `scanner` line by
/// line. `Some(limit)` when git ran past its time limit and was stopped:
/// what it printed until then was scanned.
fn stream_log(
    git: &crate::git::Git,
    range: &[String],
    scanner: &mut Scanner,
) -> Result<Option<Duration>, String> {
    let mut command = git.command();
    // Whatever the user's config says: plain prefixes, no signatures
    // (raw paths and the rest: `Git`).
    command
        .args([
            "-c",
            "diff.noprefix=false",
            "-c",
            "diff.mnemonicPrefix=false",
            "log",
            "-p",
            "--reverse",
            "--topo-order",
            "--diff-merges=first-parent",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--relative",
            "--submodule=short",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            "--date=short",
            "--format=%x00%H %h %ad",
        ])
        .args(range)
        .arg("--")
        // A line of output per commit as it comes (git's default on a
        // pipe, made sure): what git printed before a stop is all scanned.
        .env("GIT_FLUSH", "1");
    let limit = crate::git::stream_time_limit(LOG_TIME_LIMIT);
    let mut stream = git
        .stream(command, false, limit)
        .map_err(|e| format!("--history: could not run git log: {e}"))?;
    let stdout = stream.stdout.take().expect("stdout is piped");
    let mut out = BufReader::with_capacity(256 * 1024, stdout);
    let mut line = Vec::new();
    let read = loop {
        line.clear();
        match read_line_capped(&mut out, &mut line, MAX_LINE) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                scanner.cut_lines += usize::from(n > MAX_LINE);
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                scanner.line(text);
            }
            Err(e) => break Err(format!("--history: reading git log: {e}")),
        }
    };
    scanner.finish_file();
    drop(out);
    match stream.finish() {
        crate::git::StreamEnd::TimedOut(limit) => Ok(Some(limit)),
        crate::git::StreamEnd::Failed(e) => Err(format!("--history: git log: {e}")),
        crate::git::StreamEnd::Exited { success, stderr } => {
            read?;
            if !success {
                return Err(format!(
                    "--history: git log failed: {}",
                    stderr.lines().next().unwrap_or("").trim()
                ));
            }
            Ok(None)
        }
    }
}

struct Commit {
    short: String,
    date: String,
}

/// Where the current hunk is: the next line number in the new file, and
/// how many old and new lines it still has.
struct Hunk {
    next_line: u32,
    old_left: u32,
    new_left: u32,
}

/// One file's hunk lines of the current commit, waiting to be scanned.
#[derive(Default)]
struct Pending {
    path: Option<String>,
    bytes: Vec<u8>,
    /// Per buffered line: where it starts in `bytes`, its line in the file,
    /// and whether this commit added it.
    lines: Vec<(usize, u32, bool)>,
    /// Any added line since the last scan.
    added: bool,
}

struct Scanner<'a> {
    catalog: &'a Catalog,
    excludes: &'a Override,
    seen: HashSet<[u8; 32]>,
    findings: Vec<Finding>,
    commit: Option<Commit>,
    commits: usize,
    file: Pending,
    hunk: Option<Hunk>,
    progress: Progress,
    /// Lines over [`MAX_LINE`], scanned only up to it.
    cut_lines: usize,
}

impl<'a> Scanner<'a> {
    fn new(catalog: &'a Catalog, excludes: &'a Override, progress: Progress) -> Scanner<'a> {
        Scanner {
            catalog,
            excludes,
            seen: HashSet::new(),
            findings: Vec::new(),
            commit: None,
            commits: 0,
            file: Pending::default(),
            hunk: None,
            progress,
            cut_lines: 0,
        }
    }

    /// One line of `git log -p` output, without its newline.
    fn line(&mut self, line: &[u8]) {
        if let Some(h) = &mut self.hunk {
            if h.old_left > 0 || h.new_left > 0 {
                match line.first() {
                    Some(b'+') if h.new_left > 0 => {
                        let n = h.next_line;
                        h.next_line += 1;
                        h.new_left -= 1;
                        self.push(&line[1..], n, true);
                        return;
                    }
                    Some(b' ') | None => {
                        let n = h.next_line;
                        h.next_line += 1;
                        h.new_left = h.new_left.saturating_sub(1);
                        h.old_left = h.old_left.saturating_sub(1);
                        self.push(line.get(1..).unwrap_or_default(), n, false);
                        return;
                    }
                    Some(b'-') if h.old_left > 0 => {
                        h.old_left -= 1;
                        return;
                    }
                    _ => {}
                }
            }
            if line.first() == Some(&b'\\') {
                return; // "\ No newline at end of file"
            }
        }
        self.hunk = None;
        if line.first() == Some(&0) {
            self.finish_file();
            self.start_commit(&line[1..]);
        } else if line.starts_with(b"diff --git ") || line.starts_with(b"diff --cc ") {
            self.finish_file();
        } else if let Some(path) = line.strip_prefix(b"+++ ") {
            self.finish_file();
            self.file.path = new_path(path).filter(|p| !crate::walk::is_excluded(self.excludes, p));
        } else if line.starts_with(b"@@ ") && self.file.path.is_some() {
            self.hunk = parse_hunk_header(line);
        }
    }

    fn start_commit(&mut self, header: &[u8]) {
        let header = String::from_utf8_lossy(header);
        let mut parts = header.split(' ');
        let (_full, short, date) = (parts.next(), parts.next(), parts.next());
        self.commit = Some(Commit {
            short: short.unwrap_or("?").to_string(),
            date: date.unwrap_or("?").to_string(),
        });
        self.commits += 1;
        self.progress.tick(self.commits);
    }

    fn push(&mut self, text: &[u8], line: u32, added: bool) {
        let f = &mut self.file;
        f.lines.push((f.bytes.len(), line, added));
        f.bytes.extend_from_slice(text);
        f.bytes.push(b'\n');
        f.added |= added;
        if f.bytes.len() > PIECE {
            self.scan_pending(true);
        }
    }

    fn finish_file(&mut self) {
        self.scan_pending(false);
        self.file = Pending::default();
    }

    /// Scan what is buffered; with `carry`, keep the last lines as context
    /// for the next piece of the same file.
    fn scan_pending(&mut self, carry: bool) {
        let f = &mut self.file;
        let (Some(path), Some(commit)) = (&f.path, &self.commit) else {
            f.bytes.clear();
            f.lines.clear();
            return;
        };
        if !f.added {
            if !carry {
                f.bytes.clear();
                f.lines.clear();
            }
            return;
        }
        let keys = &self.catalog.keys;
        if keys.may_match(&f.bytes) {
            let source = Source::new(f.bytes.clone());
            for m in keys.scan(&source) {
                let index = source.line_of(m.start) as usize - 1;
                let Some(&(_, file_line, true)) = f.lines.get(index) else {
                    continue; // a context line: the key was added before
                };
                let secret = &source.bytes()[m.start..m.end];
                if !self.seen.insert(Sha256::digest(secret).into()) {
                    continue;
                }
                let local = source.span(m.start, m.end);
                let span = Span {
                    line: file_line,
                    column: local.column,
                    end_line: file_line + (local.end_line - local.line),
                    end_column: local.end_column,
                };
                let secret = String::from_utf8_lossy(secret);
                let spec = keys.rule(m.rule);
                self.findings
                    .push(finding(spec, m.severity, path, span, &secret, commit));
            }
        }
        f.added = false;
        if carry && f.lines.len() > CARRIED_LINES {
            let keep = f.lines.len() - CARRIED_LINES;
            let cut = f.lines[keep].0;
            f.bytes.drain(..cut);
            f.lines.drain(..keep);
            for l in &mut f.lines {
                l.0 -= cut;
            }
        } else if !carry {
            f.bytes.clear();
            f.lines.clear();
        }
    }
}

fn finding(
    spec: &crate::catalog::keys::KeyRuleSpec,
    severity: Severity,
    path: &str,
    span: Span,
    secret: &str,
    commit: &Commit,
) -> Finding {
    let at = match &spec.revoke_url {
        Some(url) => format!(" at {url}"),
        None => String::new(),
    };
    Finding {
        check: CheckId::KeyHistory,
        rule: "key-in-history".into(),
        severity,
        path: path.to_string(),
        span: Some(span),
        message: format!(
            "{} key committed in {} ({}): every clone of the repository still holds it",
            spec.provider, commit.short, commit.date
        ),
        evidence: Some(Redacted::from_secret(secret)),
        fix: Some(format!(
            "Rotate the key now{at}: rewriting history does not un-leak a key that was pushed.\n\
             Once it is revoked, accept this finding with a baseline (aiguard baseline --history -o FILE)."
        )),
    }
}

/// The new-side path of a `+++ b/path` line; `None` for `/dev/null`.
fn new_path(raw: &[u8]) -> Option<String> {
    let unquoted = if raw.first() == Some(&b'"') {
        unquote(raw)
    } else {
        raw.to_vec()
    };
    let path = unquoted.strip_prefix(b"b/")?;
    Some(String::from_utf8_lossy(path).into_owned())
}

/// Git's C-style quoting of unusual paths: `"a\tb\303\251"`.
fn unquote(raw: &[u8]) -> Vec<u8> {
    let inner = raw
        .strip_prefix(b"\"")
        .and_then(|r| r.strip_suffix(b"\""))
        .unwrap_or(raw);
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let b = inner[i];
        i += 1;
        if b != b'\\' || i >= inner.len() {
            out.push(b);
            continue;
        }
        let e = inner[i];
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let digits = &inner[i - 1..(i + 2).min(inner.len())];
                let value = digits
                    .iter()
                    .take_while(|d| (b'0'..=b'7').contains(*d))
                    .fold(0u32, |v, d| v * 8 + (d - b'0') as u32);
                i += digits
                    .iter()
                    .take_while(|d| (b'0'..=b'7').contains(*d))
                    .count()
                    - 1;
                out.push(value as u8);
            }
            other => out.push(other),
        }
    }
    out
}

/// `@@ -a[,b] +c[,d] @@ …` → where the new side starts and how long each side is.
fn parse_hunk_header(line: &[u8]) -> Option<Hunk> {
    let text = std::str::from_utf8(line).ok()?;
    let mut parts = text.split(' ').skip(1);
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let range = |r: &str| -> Option<(u32, u32)> {
        match r.split_once(',') {
            Some((start, len)) => Some((start.parse().ok()?, len.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (_, old_len) = range(old)?;
    let (start, new_len) = range(new)?;
    Some(Hunk {
        next_line: start,
        old_left: old_len,
        new_left: new_len,
    })
}

/// `commits/total` on stderr when it is a terminal and the scan takes a
/// while: from half a second in, at most ten times a second.
struct Progress {
    enabled: bool,
    total: usize,
    started: Instant,
    last: Option<Instant>,
    shown: bool,
}

impl Progress {
    fn new(enabled: bool, git: &crate::git::Git, range: &[String]) -> Progress {
        let total = if enabled {
            let mut args = vec!["rev-list", "--count"];
            args.extend(range.iter().map(String::as_str));
            git.run(&args)
                .ok()
                .and_then(|o| String::from_utf8_lossy(&o).trim().parse().ok())
                .unwrap_or(0)
        } else {
            0
        };
        Progress {
            enabled,
            total,
            started: Instant::now(),
            last: None,
            shown: false,
        }
    }

    fn tick(&mut self, done: usize) {
        if !self.enabled
            || self.started.elapsed() < Duration::from_millis(500)
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        self.shown = true;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\raiguard: scanning git history: {done}/{} commits",
            self.total
        );
        let _ = err.flush();
    }

    fn done(&mut self) {
        if self.shown {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line over the cap is kept up to it and read past to its end, in
    /// any buffer size.
    #[test]
    fn long_lines_are_cut_at_the_cap() {
        let long = "x".repeat(100);
        let text = format!("short\n{long}\ntail");
        let mut out = BufReader::with_capacity(8, text.as_bytes());
        let mut lines = Vec::new();
        loop {
            let mut line = Vec::new();
            let n = read_line_capped(&mut out, &mut line, 10).unwrap();
            if n == 0 {
                break;
            }
            lines.push((String::from_utf8(line).unwrap(), n));
        }
        assert_eq!(
            lines,
            [
                ("short\n".to_string(), 6),
                ("x".repeat(10), 101),
                ("tail".to_string(), 4)
            ]
        );
    }

    /// One file's hunks are held a piece at a time: a 6 MB added file
    /// never buffers much more than [`PIECE`], and a key deep inside it is
    /// found at its line.
    #[test]
    fn a_large_added_file_is_scanned_in_pieces() {
        let catalog = Catalog::load(&[]).unwrap();
        let excludes = ignore::overrides::OverrideBuilder::new(".")
            .build()
            .unwrap();
        let progress = Progress {
            enabled: false,
            total: 0,
            started: Instant::now(),
            last: None,
            shown: false,
        };
        let mut scanner = Scanner::new(&catalog, &excludes, progress);
        let template = crate::fake::key_template(&catalog.keys, "openai-project-key").unwrap();
        let key = crate::fake::expand(&template, &mut fastrand::Rng::with_seed(7));
        let lines = 60_000u32;
        let at = 55_000u32;
        scanner.line(b"\x000123456789abcdef 0123456 2026-01-01");
        scanner.line(b"diff --git a/big.py b/big.py");
        scanner.line(b"+++ b/big.py");
        scanner.line(format!("@@ -0,0 +1,{lines} @@").as_bytes());
        let pad = format!("+x = 1  # {}", "p".repeat(90));
        let mut most = 0;
        for n in 1..=lines {
            match n == at {
                true => scanner.line(format!("+KEY = \"{key}\"").as_bytes()),
                false => scanner.line(pad.as_bytes()),
            }
            most = most.max(scanner.file.bytes.len());
        }
        scanner.finish_file();
        assert!(most <= PIECE + 200, "{most} bytes held");
        assert_eq!(scanner.findings.len(), 1);
        assert_eq!(scanner.findings[0].span.unwrap().line, at);
    }

    #[test]
    fn hunk_headers() {
        let h = parse_hunk_header(b"@@ -3,2 +4,5 @@ def f():").unwrap();
        assert_eq!((h.next_line, h.old_left, h.new_left), (4, 2, 5));
        let h = parse_hunk_header(b"@@ -0,0 +1 @@").unwrap();
        assert_eq!((h.next_line, h.old_left, h.new_left), (1, 0, 1));
        assert!(parse_hunk_header(b"@@@ -1 -1 +1 @@@").is_none());
    }

    #[test]
    fn quoted_paths() {
        assert_eq!(new_path(b"b/src/app.py").as_deref(), Some("src/app.py"));
        assert_eq!(new_path(b"/dev/null"), None);
        assert_eq!(
            new_path(br#""b/a\"b\tc\303\251.py""#).as_deref(),
            Some("a\"b\tc\u{e9}.py")
        );
    }
}
