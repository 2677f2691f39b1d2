//! The facts cache: what parsing a file of the slice gave, kept between
//! runs, so a second audit of a tree parses only the files that changed
//! (issue 15: parsing is most of a cold audit's time on a large
//! monorepo).
//!
//! An entry is keyed by the file's path, how much of it was parsed, and a
//! SHA-256 of its bytes; a cache file holds the entries of one audited
//! root and is read only under the context that wrote it: the build of
//! aiguard (its version and its executable's path, size and modification
//! time), the parse-time budget (a file over a smaller budget must be
//! noted, not read back) and the key rules (below). Other rules never
//! change facts (`FileFacts::parse_until` reads only the file).
//!
//! Safety:
//! - It lives in the user's cache folder (`AIGUARD_CACHE_DIR`, else
//!   `$XDG_CACHE_HOME/aiguard`, `~/.cache/aiguard`, `%LOCALAPPDATA%\aiguard`)
//!   and no config file can move it: a repository could otherwise ship
//!   facts that hide its own findings. For the same reason it is not used
//!   when that folder is inside the audited tree, or (Unix) another user's or writable by
//!   others (`AIGUARD_CACHE_DIR=/tmp`).
//! - A file whose text matches a key rule's pattern is never cached, so no
//!   found secret is written here; a change of the key rules starts a new
//!   cache. Entries hold snippets (arguments, values and conditions, cut
//!   at 160 and 600 bytes): the folder and files are made for the user
//!   only (0700, 0600).
//! - Anything unreadable, not a regular file, over `MAX_BYTES`, truncated
//!   or written under another context is a miss, never an error; a cache
//!   that cannot be written is skipped in silence. Writes go to a new
//!   temporary file (never an existing one or a link) renamed over the old
//!   one, so two audits at once leave one whole file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::facts::FileFacts;

/// An entry's key: SHA-256 of (path, links only, bytes).
pub type Key = [u8; 32];

/// The layout of a cache file, and of the facts in it; bumped when either
/// changes.
const MAGIC: &[u8] = b"aiguard-facts-1\n";

/// The largest cache file read (a 50,000-file tree's is ~15 MB).
const MAX_BYTES: u64 = 512 << 20;

/// The entries of one audited root, as read at the start of an audit.
#[derive(Debug, Default)]
pub struct FactsCache {
    file: Option<PathBuf>,
    header: Vec<u8>,
    entries: HashMap<Key, Vec<u8>>,
    /// A file is there that was not read (another context's, damaged):
    /// it is replaced even when this audit adds nothing, so what another
    /// context stored (a file a new key rule now matches) does not stay.
    replace: bool,
}

impl FactsCache {
    /// No cache: every lookup misses and nothing is written.
    pub fn disabled() -> FactsCache {
        FactsCache::default()
    }

    /// The cache of `root` in `dir`, for entries written under `context`
    /// (empty if there is none yet, or it cannot be read, or it was written
    /// under another context). Disabled when `dir` is inside `root` or
    /// writable by others or another user's.
    pub fn open(dir: &Path, root: &Path, context: &[u8]) -> FactsCache {
        let Some(build) = build_id() else {
            return FactsCache::disabled();
        };
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let dir = match dir.is_absolute() {
            true => dir.to_path_buf(),
            false => match std::env::current_dir() {
                Ok(cwd) => cwd.join(dir),
                Err(_) => return FactsCache::disabled(),
            },
        };
        if resolved(&dir).starts_with(&root) || shared(&dir) {
            return FactsCache::disabled();
        }
        let name = hex(&Sha256::digest(root.to_string_lossy().as_bytes())[..16]);
        let file = dir.join(format!("{name}.facts"));
        let mut header = build.into_bytes();
        header.push(b' ');
        header.extend_from_slice(context);
        let on_disk = read_file(&file);
        let entries = on_disk.as_ref().and_then(|bytes| decode(bytes, &header));
        let replace = entries.is_none() && std::fs::symlink_metadata(&file).is_ok();
        FactsCache {
            file: Some(file),
            header,
            entries: entries.unwrap_or_default(),
            replace,
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.file.is_some()
    }

    /// The key of a file's entry.
    pub fn key(path: &str, links_only: bool, bytes: &[u8]) -> Key {
        let mut hash = Sha256::new();
        hash.update((path.len() as u64).to_le_bytes());
        hash.update(path.as_bytes());
        hash.update([links_only as u8]);
        hash.update(bytes);
        hash.finalize().into()
    }

    /// The facts stored under `key`, if any (and readable).
    pub fn get(&self, key: &Key) -> Option<FileFacts> {
        postcard::from_bytes(self.entries.get(key)?).ok()
    }

    /// The stored form of `facts`.
    pub fn encode(facts: &FileFacts) -> Option<Vec<u8>> {
        postcard::to_allocvec(facts).ok()
    }

    /// Write the entries this audit used: the ones it read (`hits`) and the
    /// new ones. Entries of files that changed or left the slice are
    /// dropped, so the file stays the size of one slice. When nothing
    /// changed, the file is only marked as used (for pruning).
    pub fn save(self, hits: &[Key], new: Vec<(Key, Vec<u8>)>) {
        let Some(file) = &self.file else { return };
        let Some(dir) = file.parent() else { return };
        if new.is_empty() && hits.len() == self.entries.len() && !self.replace {
            touch(file);
            return;
        }
        let mut entries = self.entries;
        let mut kept: Vec<(Key, Vec<u8>)> = hits
            .iter()
            .filter_map(|k| entries.remove_entry(k))
            .chain(new)
            .collect();
        kept.sort_by_key(|e| e.0);
        kept.dedup_by(|a, b| a.0 == b.0);
        let bytes = encode(&self.header, &kept);
        let mut create = std::fs::DirBuilder::new();
        create.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut create, 0o700);
        if create.create(dir).is_err() {
            return;
        }
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            file.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            std::process::id()
        ));
        let _ = replace_file(&tmp, file, &bytes);
        prune(dir);
    }

    /// How many entries were read.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Write `bytes` to `file` whole or not at all: into `tmp`, a new file for
/// the user only (never one that is there already, or a link), renamed
/// over `file`. Also `--staged`'s context cache (`src/staged.rs`).
pub fn replace_file(tmp: &Path, file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
        .open(tmp)
        .and_then(|mut f| std::io::Write::write_all(&mut f, bytes))
        .and_then(|_| std::fs::rename(tmp, file));
    if written.is_err() {
        let _ = std::fs::remove_file(tmp);
    }
    written
}

/// Cache files (and temporary files) untouched for this long belong to
/// trees no longer audited (temporary checkouts, old builds' runs).
const STALE: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// Remove the stale files of the cache folder: only names this module
/// writes (`<32 hex>.facts`, `.<32 hex>.facts.<pid>.tmp`), so other files
/// in a folder shared with them are safe.
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > STALE);
        if stale && ours(&name.to_string_lossy()) && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A name this module writes.
fn ours(name: &str) -> bool {
    let hex32 = |s: &str| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(stem) = name.strip_suffix(".facts") {
        return hex32(stem);
    }
    let Some(tmp) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) else {
        return false;
    };
    let Some((stem, pid)) = tmp.split_once(".facts.") else {
        return false;
    };
    hex32(stem) && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())
}

/// Mark a cache file as used today (its modification time), at most once a
/// day: a tree audited every day keeps its cache however long it is unchanged.
fn touch(file: &Path) {
    let now = std::time::SystemTime::now();
    let old = std::fs::metadata(file)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| now.duration_since(t).ok())
        .is_some_and(|age| age > std::time::Duration::from_secs(24 * 3600));
    if old {
        if let Ok(f) = crate::source::open(file) {
            let _ = f.set_modified(now);
        }
    }
}

/// The bytes of a cache file: a regular file (not a link, FIFO or device)
/// of at most `MAX_BYTES`.
fn read_file(file: &Path) -> Option<Vec<u8>> {
    let mut f = crate::source::open(file).ok()?;
    let meta = f.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_BYTES {
        return None;
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(&mut f, MAX_BYTES), &mut bytes).ok()?;
    Some(bytes)
}

/// `path` with its existing part resolved (links followed), the rest as
/// written: where it would be once made.
fn resolved(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut at = path;
    loop {
        if let Ok(real) = std::fs::canonicalize(at) {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// Could someone else have put files in the folder? (Unix: it is there and
/// others may write to it, or another user owns it: `AIGUARD_CACHE_DIR=/tmp`,
/// a folder made by someone else. One that is not there yet is made for
/// the user only when the cache is written.)
fn shared(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let Ok(meta) = std::fs::metadata(dir) else {
            return false;
        };
        // The user: the owner of this process's /proc entry (Linux), else
        // of their home folder.
        let me = std::fs::metadata("/proc/self")
            .or_else(|_| std::fs::metadata(std::env::var_os("HOME").unwrap_or_default()))
            .map(|m| m.uid());
        meta.permissions().mode() & 0o022 != 0 || me.is_ok_and(|uid| uid != meta.uid())
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        false
    }
}

/// Which build of aiguard this is, as hex: a SHA-256 of its version and
/// its executable's path, size and modification time (a rebuild changes
/// the facts code without changing the version). `None` when the
/// executable cannot be looked at: then nothing is cached. Also the key of
/// `--staged`'s context cache (`src/staged.rs`).
pub fn build_id() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(&exe).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let mut key = Sha256::new();
    key.update(env!("CARGO_PKG_VERSION"));
    key.update(exe.to_string_lossy().as_bytes());
    key.update(meta.len().to_le_bytes());
    key.update(modified.as_nanos().to_le_bytes());
    Some(hex(&key.finalize()))
}

/// `MAGIC`, the header (build and context: u32 length, bytes), the entries
/// (key, u32 length, bytes), and a SHA-256 of all that (a file damaged on
/// disk is not read).
fn encode(header: &[u8], entries: &[(Key, Vec<u8>)]) -> Vec<u8> {
    let size: usize = entries.iter().map(|(_, b)| 36 + b.len()).sum();
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + header.len() + size + 32);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(header);
    for (key, blob) in entries {
        out.extend_from_slice(key);
        out.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        out.extend_from_slice(blob);
    }
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&digest);
    out
}

/// The entries of a cache file written under `header`; `None` when it is
/// another's, or not a whole cache file.
fn decode(bytes: &[u8], header: &[u8]) -> Option<HashMap<Key, Vec<u8>>> {
    let (body, digest) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
    if Sha256::digest(body).as_slice() != digest {
        return None;
    }
    let mut rest = body.strip_prefix(MAGIC)?;
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = (rest.get(..n)?, rest.get(n..)?);
        rest = tail;
        Some(head)
    };
    let len = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap_or([0xff; 4])) as usize;
    let header_len = len(take(4)?);
    if take(header_len)? != header {
        return None;
    }
    let mut entries = HashMap::new();
    while let Some(key) = take(32) {
        let key: Key = key.try_into().ok()?;
        let blob_len = len(take(4)?);
        entries.insert(key, take(blob_len)?.to_vec());
    }
    Some(entries)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_file_reads_back_only_whole_and_for_its_build() {
        let entries = vec![([1u8; 32], b"one".to_vec()), ([2u8; 32], Vec::new())];
        let bytes = encode(b"build-a", &entries);
        let read = decode(&bytes, b"build-a").expect("whole file");
        assert_eq!(read.len(), 2);
        assert_eq!(read[&[1u8; 32]], b"one");
        assert!(read[&[2u8; 32]].is_empty());
        // Another build's file, a truncated one, and garbage are misses.
        assert!(decode(&bytes, b"build-b").is_none());
        for cut in [bytes.len() - 1, bytes.len() - 5, MAGIC.len() + 2, 3] {
            assert!(decode(&bytes[..cut], b"build-a").is_none(), "cut at {cut}");
        }
        assert!(decode(b"\xff\xfe not a cache", b"build-a").is_none());
        // One byte changed anywhere (a blob's, here) is caught.
        let mut damaged = bytes.clone();
        damaged[bytes.len() - 40] ^= 1;
        assert!(decode(&damaged, b"build-a").is_none());
    }

    #[test]
    fn no_cache_inside_the_audited_tree_or_in_a_shared_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("project");
        std::fs::create_dir(&root).expect("root");
        // Inside the tree, also through a path that does not exist yet.
        for inside in [root.join(".cache"), root.join("a/b/../c")] {
            assert!(
                !FactsCache::open(&inside, &root, b"").is_enabled(),
                "{inside:?}"
            );
        }
        assert!(FactsCache::open(&dir.path().join("cache"), &root, b"").is_enabled());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let shared = dir.path().join("shared");
            std::fs::create_dir(&shared).expect("shared");
            std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777))
                .expect("chmod");
            assert!(!FactsCache::open(&shared, &root, b"").is_enabled());
            // A folder to be made there is made for the user only: usable.
            assert!(FactsCache::open(&shared.join("aiguard"), &root, b"").is_enabled());
        }
    }

    #[test]
    fn only_names_this_module_writes_are_ours() {
        let h = "0123456789abcdef0123456789abcdef";
        assert!(ours(&format!("{h}.facts")));
        assert!(ours(&format!(".{h}.facts.4242.tmp")));
        for other in [
            "notes.facts".to_string(),
            format!("{h}x.facts"),
            format!(".{h}.facts.tmp"),
            format!(".{h}.facts.12a.tmp"),
            ".session.tmp".to_string(),
            format!("{h}.facts.bak"),
        ] {
            assert!(!ours(&other), "{other}");
        }
    }

    #[test]
    fn pruning_removes_only_stale_cache_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = std::time::SystemTime::now() - STALE - std::time::Duration::from_secs(60);
        let h = "0123456789abcdef0123456789abcdef";
        let (stale, stale_tmp, fresh) = (
            format!("{h}.facts"),
            format!(".{h}.facts.12.tmp"),
            format!("{}.facts", "f".repeat(32)),
        );
        for (name, age) in [
            (stale.as_str(), Some(old)),
            (stale_tmp.as_str(), Some(old)),
            ("old-but-not-ours.txt", Some(old)),
            ("notes.facts", Some(old)),
            (fresh.as_str(), None),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, b"x").expect("write");
            if let Some(t) = age {
                let file = std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .expect("open");
                file.set_modified(t).expect("set mtime");
            }
        }
        prune(dir.path());
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [fresh.as_str(), "notes.facts", "old-but-not-ours.txt"]
        );
    }

    #[test]
    fn keys_differ_by_path_mode_and_bytes() {
        let k = FactsCache::key("a.py", false, b"x = 1\n");
        assert_eq!(k, FactsCache::key("a.py", false, b"x = 1\n"));
        assert_ne!(k, FactsCache::key("b.py", false, b"x = 1\n"));
        assert_ne!(k, FactsCache::key("a.py", true, b"x = 1\n"));
        assert_ne!(k, FactsCache::key("a.py", false, b"x = 2\n"));
        // The path's length is hashed, so a path cannot borrow the bytes' start.
        assert_ne!(
            FactsCache::key("a.p", false, b"yx"),
            FactsCache::key("a.py", false, b"x")
        );
    }

    #[test]
    fn saved_facts_come_back_equal_and_unused_entries_are_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("project");
        std::fs::create_dir(&root).expect("root");
        let cache_dir = dir.path().join("cache");
        let source: &[u8] = b"from openai import OpenAI\nclient = OpenAI()\n\ndef ask(q):\n    return client.chat.completions.create(model='m', messages=q)\n";
        let lang = crate::lang::Lang::Python;
        let facts = FileFacts::of_source("app.py", lang, source);
        assert!(!facts.calls.is_empty());
        let key = FactsCache::key("app.py", false, b"v1");
        let stale = FactsCache::key("gone.py", false, b"v1");
        let cache = FactsCache::open(&cache_dir, &root, b"ctx");
        assert!(cache.is_enabled() && cache.is_empty());
        let blob = FactsCache::encode(&facts).expect("encodes");
        cache.save(&[], vec![(key, blob.clone()), (stale, blob)]);
        let cache = FactsCache::open(&cache_dir, &root, b"ctx");
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&key).as_ref(), Some(&facts));
        // Only `key` was used this time: `stale` is dropped.
        cache.save(&[key], Vec::new());
        let cache = FactsCache::open(&cache_dir, &root, b"ctx");
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&stale).is_none());
        // Another context (a smaller parse budget, other key rules) reads nothing.
        assert!(FactsCache::open(&cache_dir, &root, b"other").is_empty());
        assert_eq!(FactsCache::open(&cache_dir, &root, b"ctx").len(), 1);
        // Another root has its own file.
        let other = dir.path().join("other");
        std::fs::create_dir(&other).expect("other");
        assert!(FactsCache::open(&cache_dir, &other, b"ctx").is_empty());
    }
}
