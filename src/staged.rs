//! `aiguard audit --staged`: audit what the next commit will hold.
//!
//! Git is asked three things, once each: which paths are staged (`git diff
//! --cached --name-only -z --diff-filter=ACMR --relative`: added, copied,
//! modified, renamed; a deletion commits no content), the blob id of every
//! index entry (`git ls-files -s -z`), and the staged content, streamed from
//! one `git cat-file --batch` process. Staged files are audited from those
//! blobs, never from the working tree: a key deleted in the working tree but
//! still staged is what gets committed.
//!
//! The rest of the project is context for the cross-file checks. It comes
//! from the index's file list, not a walk (a walk reads every file and costs
//! more than the whole staged audit may): source files, `.gitignore` and
//! `package.json` are read from the working tree for facts, but not checked;
//! other files are only listed. Untracked files are not in the commit and
//! are left out. Only findings in staged files are reported, plus the
//! repository-level `.gitignore` gaps ([`Plan::keeps`]).
//!
//! Reading every tracked source file is most of a staged audit's cost, and
//! almost all of them, having none of the parse gate's words, contribute
//! nothing. So `<git dir>/aiguard/staged-context` remembers the blob ids
//! whose content the gate turned down, and later staged audits skip those
//! files while the working tree holds that very content (`git diff-files`
//! lists the files that differ). Blob ids name content, and the cache is
//! keyed by the aiguard binary, so a hit is exact; deleting the folder only
//! costs one slower run.
//!
//! Gap: a tracked file with unstaged edits is context as it is in the
//! working tree, not as it is in the index.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Mutex;

use ignore::overrides::Override;

use crate::catalog::{Catalog, EnvSpec};
use crate::checks::CheckId;
use crate::config::Settings;
use crate::findings::{Finding, Note, NoteKind};
use crate::git::{Git, GitInfo};
use crate::lang::Lang;
use crate::source::{decode_utf16, human_bytes, is_binary, Source};
use crate::walk::{Blob, Entry, Visit};

/// How long `git cat-file --batch` may take to hand over the staged
/// content: a staged audit takes seconds, so only a git blocked by the
/// repository reaches it (`AIGUARD_GIT_STREAM_TIMEOUT_MS` sets another).
const CAT_FILE_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The index mode of a submodule: a commit id, not a blob.
const GITLINK: u32 = 0o160000;

/// What `--staged` audits, learned from the index before anything is read.
pub struct Plan {
    /// The repository's top directory.
    pub top: PathBuf,
    /// Its git directory (where the context cache lives).
    git_dir: PathBuf,
    /// git, hardened for this repository.
    git: Git,
    /// Index entries under the audited root, relative to it.
    entries: Vec<IndexEntry>,
    /// Staged files to audit (the config's excludes applied), relative to the root.
    pub staged: BTreeSet<String>,
    /// Staged files the config excludes.
    pub excluded: usize,
}

struct IndexEntry {
    path: String,
    mode: u32,
    oid: String,
}

/// What reading the staged content amounted to.
#[derive(Default)]
pub struct Outcome {
    /// Blobs read from `git cat-file`.
    pub blobs: usize,
    /// Bytes of staged content read, and the bytes git announced.
    pub bytes: u64,
    pub announced: u64,
    /// Staged `.env*` files with their text (keys-in-client judges them).
    pub env_files: Vec<(String, String)>,
}

impl Plan {
    /// Ask git what is staged under `settings.root`. Errors: not a
    /// repository, git missing or failing (the audit cannot run).
    pub fn discover(settings: &Settings) -> Result<Plan, String> {
        let git = Git::open(&settings.root);
        let dirs = git
            .run(&["rev-parse", "--show-toplevel", "--absolute-git-dir"])
            .map_err(|e| format!("--staged needs a git repository: {e}"))?;
        let dirs = String::from_utf8_lossy(&dirs);
        let mut dirs = dirs.lines().map(|l| PathBuf::from(l.trim()));
        let (Some(top), Some(git_dir)) = (dirs.next(), dirs.next()) else {
            return Err("--staged: git rev-parse gave no top directory".into());
        };
        let names = git.run(&[
            "diff",
            "--cached",
            "--name-only",
            "-z",
            "--diff-filter=ACMR",
            "--relative",
            "--no-ext-diff",
            "--no-textconv",
            "--ignore-submodules=all",
        ])?;
        let entries = parse_ls_files(&git.run(&["ls-files", "-s", "-z"])?);
        let excludes = crate::walk::exclude_matcher(settings).map_err(|e| e.to_string())?;
        let mut excluded = ExcludeCache::new(&excludes);
        let mut staged = BTreeSet::new();
        let mut skipped = 0;
        let in_index: HashMap<&str, u32> =
            entries.iter().map(|e| (e.path.as_str(), e.mode)).collect();
        for name in split_nul(&names) {
            match in_index.get(name.as_str()) {
                Some(&GITLINK) => {}
                Some(_) if excluded.is_excluded(&name) => skipped += 1,
                Some(_) => {
                    staged.insert(name);
                }
                None => return Err(format!("{name} is staged but not in the index")),
            }
        }
        Ok(Plan {
            top,
            git_dir,
            git,
            entries,
            staged,
            excluded: skipped,
        })
    }

    /// What git tracks: the index (staged files included).
    pub fn git_info(&self) -> GitInfo {
        GitInfo {
            top: Some(self.top.clone()),
            tracked: Some(self.entries.iter().map(|e| e.path.clone()).collect()),
            problem: None,
        }
    }

    /// Is `f` reported by a staged audit? Findings in staged files, and the
    /// repository's `.gitignore` gaps (the next `git add .` commits a `.env`).
    pub fn keeps(&self, f: &Finding) -> bool {
        self.staged.contains(&f.path) || f.rule == "env-gitignore-gap"
    }

    /// Is this note worth showing: about the project, or a staged file?
    pub fn keeps_note(&self, n: &Note) -> bool {
        n.path.is_empty() || self.staged.contains(&n.path)
    }

    /// The note the report opens with: what was audited.
    pub fn summary_note(&self, outcome: &Outcome) -> Note {
        let excluded = match self.excluded {
            0 => String::new(),
            n => format!(" ({n} more excluded by the config)"),
        };
        let message = if self.staged.is_empty() {
            format!("--staged: nothing staged to audit{excluded}")
        } else {
            format!(
                "--staged: {} staged file{} audited from the index ({}){excluded}; the other {} tracked files were context",
                self.staged.len(),
                if self.staged.len() == 1 { "" } else { "s" },
                human_bytes(outcome.bytes),
                self.entries.len().saturating_sub(self.staged.len()),
            )
        };
        Note {
            path: String::new(),
            kind: NoteKind::Git,
            message,
        }
    }

    /// Is the outcome a real audit of the staged content? Reading nothing
    /// while files are staged is an error, never a pass.
    pub fn verify(&self, outcome: &Outcome) -> Result<(), String> {
        let expected = self.staged.len();
        if outcome.blobs != expected {
            return Err(format!(
                "--staged: read {} of {expected} staged files from git: nothing was audited",
                outcome.blobs
            ));
        }
        if expected > 0 && outcome.announced > 0 && outcome.bytes == 0 {
            return Err(format!(
                "--staged: read no bytes of the {expected} staged files ({} announced by git): nothing was audited",
                human_bytes(outcome.announced)
            ));
        }
        Ok(())
    }
}

/// Work for the visitor threads.
enum Work {
    /// Handed to the visitor as is.
    Visit(Entry),
    /// A context file to read and put through the gate on the visitor's
    /// thread; `oid`, its index blob id, when a "not needed" verdict may be
    /// cached (kept only if `git diff-files` then says the working tree
    /// holds that content).
    Context { rel: String, oid: Option<String> },
}

/// Feed every index entry to visitors on `settings.threads` threads: staged
/// files as their blobs (streamed from one `git cat-file --batch`), source
/// files and ignore/package files as context read from the working tree
/// (unless the cache knows they are not needed), the rest as paths only.
pub fn visit_parallel<V: Visit>(
    settings: &Settings,
    catalog: &Catalog,
    plan: &Plan,
    mut make_visitor: impl FnMut() -> V,
) -> Result<Outcome, String> {
    let threads = match settings.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    // Without a staged source file no cross-file verdict can land on a
    // staged file: other sources need not be read.
    let sources_matter = plan.staged.iter().any(|p| is_source(p));
    let cache = ContextCache::open(&plan.git_dir);
    let known = cache.as_ref().map(|c| &c.oids);
    // Batches: one channel operation per file would cost more than a
    // small file's read.
    let (tx, rx) = sync_channel::<Vec<Work>>(64);
    let rx = Mutex::new(rx);
    let turned_down = Mutex::new(Vec::new());
    let (outcome, kept, differing) = std::thread::scope(|scope| {
        // Which tracked files differ from the index (stat only; run
        // meanwhile): only the others may use or feed the cache.
        let differing = scope.spawn(move || match (sources_matter, known) {
            (true, Some(_)) => plan
                .git
                .run(&[
                    "diff-files",
                    "--name-only",
                    "-z",
                    "--relative",
                    "--no-ext-diff",
                    "--no-textconv",
                    "--ignore-submodules=all",
                ])
                .ok()
                .map(|out| split_nul(&out).collect::<HashSet<String>>()),
            _ => None,
        });
        let producer = scope.spawn(move || {
            let outcome = read_staged(settings, catalog, plan, &tx)?;
            let excludes = crate::walk::exclude_matcher(settings).map_err(|e| e.to_string())?;
            let mut excluded = ExcludeCache::new(&excludes);
            let mut linked = crate::walk::LinkedDirs::new(&settings.root);
            // Files the cache vouches for wait until `git diff-files` says
            // whether the working tree still holds their content; the rest
            // go to the visitors at once (no waiting on git meanwhile).
            let mut vouched: Vec<&IndexEntry> = Vec::new();
            let mut batch = Vec::with_capacity(BATCH);
            for e in &plan.entries {
                if plan.staged.contains(&e.path) || e.mode == GITLINK {
                    continue;
                }
                if excluded.is_excluded(&e.path) {
                    continue;
                }
                let rel = e.path.clone();
                let name = e.path.rsplit('/').next().unwrap_or(&e.path);
                let always =
                    name == ".gitignore" || name == "package.json" || catalog.is_config(&e.path);
                if !is_regular(e.mode)
                    || !(always || (sources_matter && is_source(&e.path)))
                    || linked.is_linked(&e.path)
                {
                    batch.push(Work::Visit(Entry::Listed { rel }));
                } else {
                    let cacheable = !always && !is_middleware(name);
                    if cacheable && known.is_some_and(|k| k.contains(&e.oid)) {
                        vouched.push(e);
                    } else {
                        let oid = cacheable.then(|| e.oid.clone());
                        batch.push(Work::Context { rel, oid });
                    }
                }
                if batch.len() >= BATCH && tx.send(std::mem::take(&mut batch)).is_err() {
                    break;
                }
            }
            let differing = differing.join().ok().flatten();
            let mut kept = Vec::new();
            for e in vouched {
                let rel = e.path.clone();
                if differing.as_ref().is_some_and(|d| !d.contains(&e.path)) {
                    kept.push((rel.clone(), e.oid.clone()));
                    batch.push(Work::Visit(Entry::Listed { rel }));
                } else {
                    batch.push(Work::Context { rel, oid: None });
                }
                if batch.len() >= BATCH && tx.send(std::mem::take(&mut batch)).is_err() {
                    break;
                }
            }
            let _ = tx.send(batch);
            Ok::<_, String>((outcome, kept, differing))
        });
        for _ in 0..threads {
            let mut visitor = make_visitor();
            let (rx, turned_down) = (&rx, &turned_down);
            scope.spawn(move || {
                let mut mine = Vec::new();
                while let Ok(Ok(batch)) = rx.lock().map(|r| r.recv()) {
                    for work in batch {
                        match work {
                            Work::Visit(entry) => visitor.visit(entry),
                            Work::Context { rel, oid } => {
                                let entry = gate_context(settings, catalog, rel, oid, &mut mine);
                                visitor.visit(entry);
                            }
                        }
                    }
                }
                if let Ok(mut all) = turned_down.lock() {
                    all.append(&mut mine);
                }
            });
        }
        producer
            .join()
            .unwrap_or_else(|_| Err("--staged: the reader thread panicked".into()))
    })?;
    // Without sources read, `kept` is empty: storing would empty the cache.
    // A verdict is only kept for a file whose working tree held the
    // index's content (without `git diff-files`, none is).
    if let (Some(cache), Some(differing)) = (cache.filter(|_| sources_matter), differing) {
        let oids = kept
            .into_iter()
            .chain(turned_down.into_inner().unwrap_or_default())
            .filter(|(rel, _)| !differing.contains(rel))
            .map(|(_, oid)| oid)
            .collect();
        cache.store(oids);
    }
    Ok(outcome)
}

/// Read a context file and keep its bytes if the project checks can use
/// them; otherwise it is only listed, and noted in `turned_down` (with its
/// blob id, when it has one) for the cache.
fn gate_context(
    settings: &Settings,
    catalog: &Catalog,
    rel: String,
    oid: Option<String>,
    turned_down: &mut Vec<(String, String)>,
) -> Entry {
    let abs = settings.root.join(&rel);
    let name = rel.rsplit('/').next().unwrap_or(&rel);
    let always = name == ".gitignore" || name == "package.json" || catalog.is_config(&rel);
    let read = with_context_bytes(&abs, settings.max_parse_size, |bytes| {
        (always || wants_context_parse(catalog, &rel, bytes)).then(|| bytes.to_vec())
    });
    match read {
        Some(Some(bytes)) => Entry::Context { rel, bytes },
        Some(None) => {
            turned_down.extend(oid.map(|oid| (rel.clone(), oid)));
            Entry::Listed { rel }
        }
        None => Entry::Listed { rel },
    }
}

/// The blob ids whose content the context gate turned down, for one build
/// of aiguard (its version, path, size and modification time: any rebuild
/// starts afresh, so a changed gate never meets stale verdicts).
struct ContextCache {
    path: PathBuf,
    header: String,
    oids: HashSet<String>,
}

impl ContextCache {
    /// `None` when the binary cannot be identified (no caching then).
    fn open(git_dir: &Path) -> Option<ContextCache> {
        let key = crate::cache::build_id()?;
        let header = format!("aiguard staged-context v1 {key}");
        let path = git_dir.join("aiguard").join("staged-context");
        // A repository's own links must not send the cache (read, then
        // written) out of it (issue 20): no cache then.
        let linked = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_symlink());
        if linked(&git_dir.join("aiguard")) || linked(&path) {
            return None;
        }
        let oids = match std::fs::read_to_string(&path) {
            Ok(text) if text.lines().next() == Some(header.as_str()) => {
                text.lines().skip(1).map(str::to_string).collect()
            }
            _ => HashSet::new(),
        };
        Some(ContextCache { path, header, oids })
    }

    /// Write `oids` if they differ from what was read. Failing to write (a
    /// read-only repository) costs speed, never correctness: ignored.
    fn store(self, mut oids: Vec<String>) {
        oids.sort();
        oids.dedup();
        if oids.len() == self.oids.len() && oids.iter().all(|o| self.oids.contains(o)) {
            return;
        }
        let Some(dir) = self.path.parent() else {
            return;
        };
        let mut text = String::with_capacity(self.header.len() + 1 + oids.len() * 41);
        text.push_str(&self.header);
        text.push('\n');
        for oid in &oids {
            text.push_str(oid);
            text.push('\n');
        }
        let tmp = dir.join(format!("staged-context.{}", std::process::id()));
        if std::fs::create_dir_all(dir).is_ok() {
            let _ = crate::cache::replace_file(&tmp, &self.path, text.as_bytes());
        }
    }
}

fn is_middleware(name: &str) -> bool {
    name.starts_with("middleware.") || name.starts_with("proxy.")
}

/// Call `f` with a context file's bytes; `None` when it is missing,
/// unreadable, not a regular file, binary or over `cap` (the parse cap:
/// larger files are not parsed anyway). This runs for every tracked source
/// file, so it is lean: opened without a path `stat` first (non-blocking,
/// then checked with `fstat`), and one buffer per thread, large enough that
/// a small file takes two `read`s (an empty `Vec` grows by doubling, one
/// `read` per step).
fn with_context_bytes<R>(path: &Path, cap: u64, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(64 * 1024));
    }
    let file = crate::source::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    BUF.with_borrow_mut(|bytes| {
        bytes.clear();
        file.take(cap + 1).read_to_end(bytes).ok()?;
        if bytes.len() as u64 > cap {
            return None;
        }
        let utf16 = decode_utf16(bytes).filter(|_| !path.ends_with(".gitignore"));
        let bytes: &[u8] = utf16.as_deref().unwrap_or(bytes);
        (!is_binary(bytes)).then(|| f(bytes))
    })
}

/// Index modes of regular files (symlinks and submodules are listed only).
fn is_regular(mode: u32) -> bool {
    mode == 0o100644 || mode == 0o100755
}

/// Context entries per channel message.
const BATCH: usize = 64;

fn is_source(path: &str) -> bool {
    Lang::from_path(Path::new(path)).is_some()
}

/// The parse gate for context files. They are parsed when their text can
/// change a verdict about a staged file: it names an AI SDK, a web
/// framework or a protection (the gate's words), or it is a Next.js
/// middleware/proxy (which protects routes in other files). A route file
/// the full audit parses only for its path (`/api/`, `/routes/`) is read
/// but not parsed: what it reaches concerns findings in itself, which a
/// staged audit does not report, and parsing every such file would cost
/// more than the whole staged audit may.
pub fn wants_context_parse(catalog: &Catalog, path: &str, bytes: &[u8]) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    if is_middleware(name) {
        return catalog.wants_parse(path, bytes);
    }
    // No path: the gate judges the text alone.
    catalog.wants_parse("", bytes)
}

/// Stream every staged blob out of one `git cat-file --batch`, in index
/// order, and send each as an [`Entry::Staged`].
fn read_staged(
    settings: &Settings,
    catalog: &Catalog,
    plan: &Plan,
    tx: &SyncSender<Vec<Work>>,
) -> Result<Outcome, String> {
    let mut outcome = Outcome::default();
    let wanted: Vec<&IndexEntry> = plan
        .entries
        .iter()
        .filter(|e| plan.staged.contains(&e.path))
        .collect();
    if wanted.is_empty() {
        return Ok(outcome);
    }
    let mut command = plan.git.command();
    command.args(["cat-file", "--batch"]);
    let limit = crate::git::stream_time_limit(CAT_FILE_TIME_LIMIT);
    let mut stream = plan
        .git
        .stream(command, true, limit)
        .map_err(|e| format!("--staged: could not run git cat-file: {e}"))?;
    let mut stdin = stream.stdin.take().expect("stdin is piped");
    let ids: Vec<u8> = wanted
        .iter()
        .flat_map(|e| format!("{}\n", e.oid).into_bytes())
        .collect();
    // Written from another thread: git answers while we still ask.
    let writer = std::thread::spawn(move || stdin.write_all(&ids));
    let stdout = stream.stdout.take().expect("stdout is piped");
    let mut out = BufReader::with_capacity(256 * 1024, stdout);
    let scans_keys = settings.checks.contains(&CheckId::KeysInCode);
    let read = (|| -> Result<(), String> {
        for e in &wanted {
            let size = read_header(&mut out, e)?;
            let mut body = Counted {
                inner: (&mut out).take(size),
                n: 0,
            };
            let blob = read_blob(&mut body, size, &e.path, settings, catalog, scans_keys)
                .map_err(|err| format!("--staged: reading {} from git: {err}", e.path))?;
            std::io::copy(&mut body, &mut std::io::sink()).map_err(|err| err.to_string())?;
            let got = body.n;
            if got != size {
                return Err(format!(
                    "--staged: git cat-file ended inside {} ({got} of {size} bytes)",
                    e.path
                ));
            }
            let mut newline = [0u8; 1];
            out.read_exact(&mut newline)
                .map_err(|err| err.to_string())?;
            outcome.blobs += 1;
            outcome.bytes += got;
            outcome.announced += size;
            if let Blob::Text(source) = &blob {
                let name = e.path.rsplit('/').next().unwrap_or(&e.path);
                if EnvSpec::is_env_file(name) {
                    let text = String::from_utf8_lossy(source.bytes()).into_owned();
                    outcome.env_files.push((e.path.clone(), text));
                }
            }
            let entry = Entry::Staged {
                rel: e.path.clone(),
                blob,
            };
            if tx.send(vec![Work::Visit(entry)]).is_err() {
                return Err("--staged: the workers stopped".into());
            }
        }
        Ok(())
    })();
    drop(out);
    let end = stream.finish();
    let _ = writer.join();
    match end {
        // A partial staged audit would pass what it did not read: an error.
        crate::git::StreamEnd::TimedOut(limit) => Err(format!(
            "--staged: git cat-file ran past its time limit ({}) and was stopped, so not every \
             staged file was read (something in the repository blocks git, such as a FIFO in \
             place of an object; AIGUARD_GIT_STREAM_TIMEOUT_MS sets a longer limit)",
            crate::git::human_duration(limit)
        )),
        crate::git::StreamEnd::Failed(e) => Err(format!("--staged: git cat-file: {e}")),
        crate::git::StreamEnd::Exited { success, stderr } => {
            read?;
            if !success {
                return Err(format!(
                    "--staged: git cat-file failed: {}",
                    stderr.lines().next().unwrap_or("").trim()
                ));
            }
            Ok(outcome)
        }
    }
}

/// `<oid> blob <size>` → size; anything else is an error.
fn read_header(out: &mut impl BufRead, e: &IndexEntry) -> Result<u64, String> {
    let mut header = Vec::new();
    out.read_until(b'\n', &mut header)
        .map_err(|err| format!("--staged: reading git cat-file: {err}"))?;
    let header = String::from_utf8_lossy(&header);
    let parts: Vec<&str> = header.split_whitespace().collect();
    match parts.as_slice() {
        [oid, "blob", size] if *oid == e.oid => size
            .parse()
            .map_err(|_| format!("--staged: bad git cat-file header `{}`", header.trim())),
        [] => Err(format!(
            "--staged: git cat-file stopped before {} ({})",
            e.path, e.oid
        )),
        _ => Err(format!(
            "--staged: {} ({}): git cat-file answered `{}`",
            e.path,
            e.oid,
            header.trim()
        )),
    }
}

fn read_blob(
    body: &mut dyn Read,
    size: u64,
    path: &str,
    settings: &Settings,
    catalog: &Catalog,
    scans_keys: bool,
) -> std::io::Result<Blob> {
    if size > settings.max_file_size {
        let message = format!(
            "{} is over the {} size limit",
            human_bytes(size),
            human_bytes(settings.max_file_size)
        );
        if !scans_keys {
            return Ok(Blob::Skipped(NoteKind::TooLarge, message));
        }
        // Too large to read whole, never too large to leak a key.
        let mut findings = Vec::new();
        let scanned =
            crate::checks::keys_in_code::scan_large_reader(catalog, body, path, &mut findings)?;
        let message = if scanned {
            format!("{message}: scanned for keys in chunks, not parsed")
        } else {
            format!("{message}, and binary: skipped")
        };
        return Ok(Blob::Large {
            findings,
            note: Note {
                path: path.to_string(),
                kind: NoteKind::TooLarge,
                message,
            },
            scanned,
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    body.read_to_end(&mut bytes)?;
    // As the walk does: UTF-16 with a BOM is text (not for .gitignore,
    // which git reads as bytes).
    let is_gitignore = path.rsplit('/').next() == Some(".gitignore");
    if let Some(text) = decode_utf16(&bytes).filter(|_| !is_gitignore) {
        bytes = text;
    }
    if is_binary(&bytes) {
        return Ok(Blob::Skipped(NoteKind::Binary, "binary file".into()));
    }
    Ok(Blob::Text(Source::new(bytes)))
}

/// A reader that counts what it hands out.
struct Counted<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// `mode oid stage\tpath\0` records; unmerged paths (stages 1–3) once.
fn parse_ls_files(out: &[u8]) -> Vec<IndexEntry> {
    let mut seen = HashSet::new();
    let mut entries = Vec::new();
    for record in out.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let Some(tab) = record.iter().position(|b| *b == b'\t') else {
            continue;
        };
        let meta = String::from_utf8_lossy(&record[..tab]);
        let path = String::from_utf8_lossy(&record[tab + 1..]).into_owned();
        let mut fields = meta.split(' ');
        let (Some(mode), Some(oid), Some(stage)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Ok(mode) = u32::from_str_radix(mode, 8) else {
            continue;
        };
        if stage != "0" && !seen.insert(path.clone()) {
            continue;
        }
        entries.push(IndexEntry {
            path,
            mode,
            oid: oid.to_string(),
        });
    }
    entries
}

fn split_nul(out: &[u8]) -> impl Iterator<Item = String> + '_ {
    out.split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
}

/// [`crate::walk::is_excluded`] with each folder's answer remembered: the
/// index lists every file, and most share their folders.
struct ExcludeCache<'a> {
    matcher: &'a Override,
    dirs: HashMap<String, bool>,
}

impl<'a> ExcludeCache<'a> {
    fn new(matcher: &'a Override) -> ExcludeCache<'a> {
        ExcludeCache {
            matcher,
            dirs: HashMap::new(),
        }
    }

    fn is_excluded(&mut self, rel: &str) -> bool {
        match rel.rsplit_once('/') {
            Some((dir, _)) if self.dir_excluded(dir) => true,
            _ => self.matcher.matched(rel, false).is_ignore(),
        }
    }

    fn dir_excluded(&mut self, dir: &str) -> bool {
        if let Some(&known) = self.dirs.get(dir) {
            return known;
        }
        let parent = dir
            .rsplit_once('/')
            .is_some_and(|(p, _)| self.dir_excluded(p));
        let excluded = parent || self.matcher.matched(dir, true).is_ignore();
        self.dirs.insert(dir.to_string(), excluded);
        excluded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_files_records() {
        let out = b"100644 aaaa 0\tsrc/app.py\x00160000 bbbb 0\tvendor/lib\x00100644 cccc 1\tx.py\x00100644 dddd 2\tx.py\0";
        let entries = parse_ls_files(out);
        let paths: Vec<(&str, u32)> = entries.iter().map(|e| (e.path.as_str(), e.mode)).collect();
        assert_eq!(
            paths,
            [
                ("src/app.py", 0o100644),
                ("vendor/lib", GITLINK),
                ("x.py", 0o100644)
            ]
        );
    }

    #[test]
    fn context_files_parse_for_their_words_or_as_middleware() {
        let catalog = Catalog::load(&[]).unwrap();
        let plain = b"export function total(a: number) { return a + 1 }\n";
        let ai = b"import OpenAI from 'openai'\n";
        assert!(catalog.wants_parse("apps/web/app/api/chat/route.ts", plain));
        assert!(!wants_context_parse(
            &catalog,
            "apps/web/app/api/chat/route.ts",
            plain
        ));
        assert!(wants_context_parse(
            &catalog,
            "apps/web/app/api/chat/route.ts",
            ai
        ));
        assert!(wants_context_parse(
            &catalog,
            "apps/web/middleware.ts",
            plain
        ));
    }
}
