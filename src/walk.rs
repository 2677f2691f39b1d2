//! The parallel walk: `ignore`'s walker with aiguard's settings. Honours
//! `.gitignore` (nested, and those above the audited root inside the same
//! repository), `.ignore` and `.git/info/exclude`, plus the built-in folder
//! excludes; sees dotfiles (`.env`, `.github/`); never follows directory
//! symlinks (no loops, no escaping the tree) and never reads through a file
//! symlink: one whose target is outside the tree is noted, one inside is
//! read at its target only (issue 20). Problems become entries, never
//! aborts.

use ignore::overrides::{Override, OverrideBuilder};
use ignore::{WalkBuilder, WalkState};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::{ConfigError, Settings};
use crate::findings::{Finding, Note, NoteKind};
use crate::source::Source;

/// A staged file's content, as read from git.
pub enum Blob {
    Text(Source),
    Skipped(NoteKind, String),
    /// Over the size cap: scanned for keys in chunks while streamed.
    Large {
        findings: Vec<Finding>,
        note: Note,
        scanned: bool,
    },
}

pub enum Entry {
    File {
        abs: PathBuf,
        rel: String,
    },
    /// `--staged`: a staged file, read from git's index.
    Staged {
        rel: String,
        blob: Blob,
    },
    /// `--staged`: a file the commit does not change, read for the
    /// project checks' facts but not checked itself.
    Context {
        rel: String,
        bytes: Vec<u8>,
    },
    /// `--staged`: a file known only by its path.
    Listed {
        rel: String,
    },
    Problem {
        rel: String,
        kind: NoteKind,
        message: String,
    },
}

/// One visitor per walker thread; dropped when its thread ends.
pub trait Visit: Send {
    fn visit(&mut self, entry: Entry);
}

pub fn walk_parallel<V: Visit>(
    settings: &Settings,
    mut make_visitor: impl FnMut() -> V,
) -> Result<(), ConfigError> {
    let root = settings.root.clone();
    // What symlink targets are compared with.
    let canonical = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
    let overrides = exclude_matcher(settings)?;
    let mut builder = WalkBuilder::new(&root);
    builder
        .hidden(false)
        .require_git(false)
        .git_global(false) // one developer's global excludes must not hide a team's .env
        .follow_links(false)
        .overrides(overrides)
        .threads(settings.threads)
        .filter_entry(|e| e.file_name() != ".git");
    builder.build_parallel().run(|| {
        let mut visitor = make_visitor();
        let (root, canonical) = (root.clone(), canonical.clone());
        Box::new(move |result| {
            match result {
                Ok(entry) => {
                    if let Some(e) = classify(&root, &canonical, entry) {
                        visitor.visit(e);
                    }
                }
                Err(err) => visitor.visit(problem(&root, err)),
            }
            WalkState::Continue
        })
    });
    Ok(())
}

/// The built-in and configured folder excludes, and the config's
/// `include` globs, as `ignore` overrides. With includes, only matching
/// files are walked, except `.gitignore` files: git's semantics need every
/// one. Excludes come last, so they win over includes.
pub fn exclude_matcher(settings: &Settings) -> Result<Override, ConfigError> {
    let mut overrides = OverrideBuilder::new(&settings.root);
    if !settings.includes.is_empty() {
        for pattern in settings
            .includes
            .iter()
            .map(String::as_str)
            .chain(["**/.gitignore"])
        {
            overrides
                .add(pattern)
                .map_err(|e| ConfigError::Usage(format!("bad include `{pattern}`: {e}")))?;
        }
    }
    for pattern in &settings.excludes {
        overrides
            .add(&format!("!{pattern}"))
            .map_err(|e| ConfigError::Usage(format!("bad exclude `{pattern}`: {e}")))?;
    }
    overrides
        .build()
        .map_err(|e| ConfigError::Usage(e.to_string()))
}

/// Is `rel` (a file) excluded, itself or through one of its folders?
pub fn is_excluded(matcher: &Override, rel: &str) -> bool {
    let mut prefix = String::new();
    for part in rel.split('/') {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(part);
        let is_dir = prefix.len() < rel.len();
        if matcher.matched(&prefix, is_dir).is_ignore() {
            return true;
        }
    }
    false
}

/// Every `.env*` file in the tree, ignored by git or not (an ignored `.env`
/// still feeds the bundler), as paths relative to the root. The folder
/// excludes apply; nothing else does. Directory reads only: cheap.
pub fn collect_env_files(settings: &Settings) -> Result<Vec<String>, ConfigError> {
    let mut builder = WalkBuilder::new(&settings.root);
    builder
        .standard_filters(false)
        .hidden(false)
        .overrides(exclude_matcher(settings)?)
        .filter_entry(|e| e.file_name() != ".git");
    let mut found: Vec<String> = builder
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .filter(|e| crate::catalog::EnvSpec::is_env_file(&e.file_name().to_string_lossy()))
        .map(|e| relative(&settings.root, e.path()))
        .collect();
    found.sort();
    Ok(found)
}

pub use crate::paths::relative;

/// Whether a path's folders pass through a symlink, for paths that do not
/// come from the walk (which never enters a linked folder): git's index may
/// say `lib/app.py` while the working tree's `lib` is a link out of the
/// tree (git never checks such a file out, an archive can hold it). Such
/// files are not read (issue 20); the file itself is opened with
/// `O_NOFOLLOW` ([`crate::source::open`]). Each folder is looked at once
/// (`lstat`).
pub struct LinkedDirs<'a> {
    root: &'a Path,
    dirs: HashMap<String, bool>,
}

impl<'a> LinkedDirs<'a> {
    pub fn new(root: &'a Path) -> LinkedDirs<'a> {
        LinkedDirs {
            root,
            dirs: HashMap::new(),
        }
    }

    pub fn is_linked(&mut self, rel: &str) -> bool {
        rel.rsplit_once('/')
            .is_some_and(|(dir, _)| self.dir_linked(dir))
    }

    fn dir_linked(&mut self, dir: &str) -> bool {
        if let Some(&known) = self.dirs.get(dir) {
            return known;
        }
        let parent = dir
            .rsplit_once('/')
            .is_some_and(|(p, _)| self.dir_linked(p));
        let linked = parent
            || std::fs::symlink_metadata(self.root.join(dir))
                .is_ok_and(|m| m.file_type().is_symlink());
        self.dirs.insert(dir.to_string(), linked);
        linked
    }
}

fn classify(root: &Path, canonical: &Path, entry: ignore::DirEntry) -> Option<Entry> {
    let file_type = entry.file_type()?; // None: stdin, never here
    let rel = relative(root, entry.path());
    if file_type.is_dir() {
        return None;
    }
    if file_type.is_symlink() {
        return Some(symlink(canonical, entry.path(), rel));
    }
    if !file_type.is_file() {
        return Some(Entry::Problem {
            rel,
            kind: NoteKind::NotRegular,
            message: "not a regular file (FIFO, socket or device)".into(),
        });
    }
    Some(Entry::File {
        abs: entry.into_path(),
        rel,
    })
}

/// A symlink is never read. Its target outside the tree (`canonical`, the
/// root with its own links resolved) is not the project's: a note says so.
/// Its target inside the tree is read there, once, if the walk keeps it
/// (the link is only listed: checks that look at names still see it).
fn symlink(canonical: &Path, path: &Path, rel: String) -> Entry {
    let problem = |kind, message: &str| Entry::Problem {
        rel: rel.clone(),
        kind,
        message: message.into(),
    };
    let Ok(target) = std::fs::canonicalize(path) else {
        return problem(NoteKind::Symlink, "broken symlink");
    };
    match std::fs::metadata(&target) {
        Ok(m) if m.is_dir() => problem(NoteKind::Symlink, "symlink to a directory, not followed"),
        Ok(m) if !m.is_file() => problem(NoteKind::NotRegular, "not a regular file"),
        Ok(_) if !target.starts_with(canonical) => problem(
            NoteKind::Symlink,
            "symlink to a file outside the audited tree: not read",
        ),
        Ok(_) => Entry::Listed { rel },
        Err(_) => problem(NoteKind::Symlink, "broken symlink"),
    }
}

fn problem(root: &Path, err: ignore::Error) -> Entry {
    fn path_of(err: &ignore::Error) -> Option<&Path> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            ignore::Error::Loop { child, .. } => Some(child),
            _ => None,
        }
    }
    let rel = path_of(&err).map(|p| relative(root, p)).unwrap_or_default();
    let kind = if matches!(err, ignore::Error::Loop { .. }) {
        NoteKind::Symlink
    } else {
        NoteKind::WalkError
    };
    let message = match &err {
        ignore::Error::WithPath { err, .. } => err.to_string(),
        other => other.to_string(),
    };
    Entry::Problem { rel, kind, message }
}
