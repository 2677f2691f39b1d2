//! One audit, start to end: walk and per-file pass (parallel), then the
//! project pass, then the checklist. Produces a [`Report`]; printing it is
//! the reporters' job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use std::time::Instant;

use crate::cache::{FactsCache, Key};
use crate::catalog::Catalog;
use crate::checklist;
use crate::checks::{self, Check, CheckId, Coverage};
use crate::config::{ConfigError, Settings};
use crate::context::{FileContext, ProjectContext};
use crate::facts::{ConfigFile, FileFacts, ProjectFacts};
use crate::findings::{Finding, Note, NoteKind};
use crate::git::GitInfo;
use crate::gitignore::GitignoreModel;
use crate::graph::{ModuleIndex, Parse, Roles, Summary};
use crate::lang::{Lang, Parsers};
use crate::report::{Report, Stats, Summary as ReportSummary};
use crate::source::{human_bytes, Loaded, Source};
use crate::suppress::{self, Suppression};
use crate::walk::{self, Entry, Visit};

/// What the per-file pass learns about one file.
struct FileResult {
    path: String,
    abs: PathBuf,
    /// Boxed: only `--staged` parses in the walk, and a walked tree has
    /// tens of thousands of results held until the slice is chosen.
    facts: Option<Box<FileFacts>>,
    findings: Vec<Finding>,
    note: Option<Note>,
    scanned: bool,
    /// The text of a `.gitignore`, for the project's ignore model.
    gitignore: Option<String>,
    /// Dependency names, for a `package.json`.
    package_deps: Option<Vec<String>>,
    /// The text of a configuration file (`[configs]` of rules/facts.toml).
    config: Option<String>,
    /// `aiguard: ignore[...]` comments, applied after the project pass.
    suppressions: Vec<Suppression>,
    /// A source file's imports and roles, for the slice (not parsed yet).
    summary: Option<Summary>,
    /// Bytes read.
    bytes: u64,
}

/// The per-thread side of the walk: parsers, and results kept locally
/// until the thread ends (no lock per file).
struct Worker<'a> {
    env: &'a Env<'a>,
    parsers: Parsers,
    local: Vec<FileResult>,
}

struct Env<'a> {
    settings: &'a Settings,
    /// Walked files are summarized, and parsed after the walk if the slice
    /// wants them; staged audits parse as they go (their context is gated
    /// and cached by `staged`).
    lexical: bool,
    catalog: &'a Catalog,
    checks: Vec<&'static dyn Check>,
    shared: Arc<Mutex<Vec<FileResult>>>,
}

impl Visit for Worker<'_> {
    fn visit(&mut self, entry: Entry) {
        let result = match entry {
            Entry::File { abs, rel } => self.process(abs, rel),
            Entry::Staged { rel, blob } => self.process_staged(rel, blob),
            Entry::Context { rel, bytes } => self.process_context(rel, &bytes),
            Entry::Listed { rel } => FileResult::new(rel, PathBuf::new()),
            Entry::Problem { rel, kind, message } => FileResult {
                note: Some(Note {
                    path: rel.clone(),
                    kind,
                    message,
                }),
                ..FileResult::new(rel, PathBuf::new())
            },
        };
        self.local.push(result);
    }
}

impl FileResult {
    fn new(path: String, abs: PathBuf) -> FileResult {
        FileResult {
            path,
            abs,
            facts: None,
            findings: Vec::new(),
            note: None,
            scanned: false,
            gitignore: None,
            package_deps: None,
            config: None,
            suppressions: Vec::new(),
            summary: None,
            bytes: 0,
        }
    }
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        // Sorted here, in parallel; the main thread merges the runs.
        self.local.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        if let Ok(mut shared) = self.env.shared.lock() {
            shared.append(&mut self.local);
        }
    }
}

impl Worker<'_> {
    fn scans_keys(&self) -> bool {
        self.env
            .checks
            .iter()
            .any(|c| c.id() == crate::findings::CheckId::KeysInCode)
    }

    fn process(&mut self, abs: PathBuf, path: String) -> FileResult {
        let mut result = FileResult::new(path, abs);
        let settings = self.env.settings;
        let source = match Source::load(&result.abs, settings.max_file_size) {
            Loaded::Text(source) => source,
            Loaded::Skipped(NoteKind::TooLarge, message) if self.scans_keys() => {
                // Too large to read whole, never too large to leak a key.
                let scanned = crate::checks::keys_in_code::scan_large_file(
                    self.env.catalog,
                    &result.abs,
                    &result.path,
                    &mut result.findings,
                );
                result.scanned = matches!(scanned, Ok(true));
                let message = match scanned {
                    Ok(true) => format!("{message}: scanned for keys in chunks, not parsed"),
                    Ok(false) => format!("{message}, and binary: skipped"),
                    Err(e) => format!("{message}; reading it failed: {e}"),
                };
                result.note = Some(Note {
                    path: result.path.clone(),
                    kind: NoteKind::TooLarge,
                    message,
                });
                return result;
            }
            Loaded::Skipped(kind, message) => {
                result.note = Some(Note {
                    path: result.path.clone(),
                    kind,
                    message,
                });
                return result;
            }
        };
        let mut result = self.analyse(result, source);
        // Read: the absolute path is not needed again (results are held
        // for the whole tree until the slice is chosen).
        result.abs = PathBuf::new();
        result
    }

    /// `--staged`: a staged file, from its blob.
    fn process_staged(&mut self, path: String, blob: crate::walk::Blob) -> FileResult {
        let abs = self.env.settings.root.join(&path);
        let mut result = FileResult::new(path, abs);
        match blob {
            crate::walk::Blob::Text(source) => return self.analyse(result, source),
            crate::walk::Blob::Skipped(kind, message) => {
                result.note = Some(Note {
                    path: result.path.clone(),
                    kind,
                    message,
                })
            }
            crate::walk::Blob::Large {
                findings,
                note,
                scanned,
            } => (result.findings, result.note, result.scanned) = (findings, Some(note), scanned),
        }
        result
    }

    /// `--staged`: a file the commit does not change, for the project
    /// checks' facts only (no checks, no notes).
    fn process_context(&mut self, path: String, bytes: &[u8]) -> FileResult {
        let mut result = FileResult::new(path, PathBuf::new());
        match result.path.rsplit('/').next() {
            Some(".gitignore") => {
                result.gitignore = Some(String::from_utf8_lossy(bytes).into_owned())
            }
            Some("package.json") => result.package_deps = Some(package_deps(bytes)),
            _ => {}
        }
        result.config = config_text(self.env.catalog, &result.path, bytes);
        if let Some(lang) = Lang::from_path(Path::new(&result.path)) {
            let deadline = Instant::now() + self.env.settings.max_parse_time;
            // Out of time: a context file only lends facts; none then.
            result.facts = FileFacts::parse_until(
                &mut self.parsers,
                &result.path,
                lang,
                bytes,
                Some(deadline),
            )
            .ok()
            .flatten()
            .map(Box::new);
        }
        result
    }

    /// Facts and per-file checks of a file read whole.
    fn analyse(&mut self, mut result: FileResult, source: Source) -> FileResult {
        let settings = self.env.settings;
        result.scanned = true;
        result.bytes = source.len() as u64;
        result.suppressions = suppress::collect(&result.path, &source);
        match result.path.rsplit('/').next() {
            Some(".gitignore") => {
                result.gitignore = Some(String::from_utf8_lossy(source.bytes()).into_owned())
            }
            Some("package.json") => result.package_deps = Some(package_deps(source.bytes())),
            _ => {}
        }
        result.config = config_text(self.env.catalog, &result.path, source.bytes());
        let lang = Lang::from_path(Path::new(&result.path));
        // One budget for parsing and extracting facts.
        let deadline = Instant::now() + settings.max_parse_time;
        let mut key_rules = None;
        let facts = match lang {
            Some(_) if source.len() as u64 > settings.max_parse_size => {
                result.note = Some(Note {
                    path: result.path.clone(),
                    kind: NoteKind::NotParsed,
                    message: format!(
                        "{} is over the {} parse limit: scanned as text only",
                        human_bytes(source.len() as u64),
                        human_bytes(settings.max_parse_size)
                    ),
                });
                None
            }
            // A walked file: its imports and roles now, parsed later only
            // if the slice wants it (engine v2).
            Some(_) if self.env.lexical && self.env.catalog.is_test_path(&result.path) => None,
            Some(l) if self.env.lexical => {
                let imports = crate::graph::scan_imports(l, source.bytes());
                // Key keywords and role words in one read of the text.
                let (keys, words) = self.env.catalog.source_words(source.bytes());
                key_rules = Some(keys);
                let roles = self.env.catalog.roles_from_words(
                    &result.path,
                    source.bytes(),
                    words,
                    l.is_python(),
                    &imports,
                );
                result.summary = Some(Summary {
                    path: result.path.clone(),
                    lang: l,
                    roles,
                    imports,
                    // Only an AI file's bases are read (`graph::slice_parses`).
                    bases: match roles.has(crate::graph::Roles::AI) {
                        true => crate::graph::scan_bases(l, source.bytes()),
                        false => Vec::new(),
                    },
                    bytes: source.len() as u64,
                });
                None
            }
            Some(l) if self.env.catalog.wants_parse(&result.path, source.bytes()) => {
                let path = &result.path;
                FileFacts::parse_until(&mut self.parsers, path, l, source.bytes(), Some(deadline))
                    .unwrap_or_else(|_| {
                        // Out of time: text only, as if never parsed.
                        result.note = Some(out_of_time(&result.path, settings));
                        None
                    })
            }
            _ => None,
        };
        if !source.is_utf8() {
            result.note = Some(Note {
                path: result.path.clone(),
                kind: NoteKind::NotUtf8,
                message: "not valid UTF-8: scanned as bytes".into(),
            });
        }
        let ctx = FileContext {
            path: &result.path,
            source: &source,
            lang,
            facts: facts.as_ref(),
            catalog: self.env.catalog,
            settings,
            key_rules: key_rules.as_ref(),
        };
        for check in &self.env.checks {
            check.check_file(&ctx, &mut result.findings);
        }
        result.facts = facts.map(Box::new);
        result
    }
}

/// The largest configuration file kept whole.
const MAX_CONFIG_BYTES: usize = 1 << 20;

/// The text of a configuration file the framework modules read, if `path`
/// is one.
fn config_text(catalog: &Catalog, path: &str, bytes: &[u8]) -> Option<String> {
    (bytes.len() <= MAX_CONFIG_BYTES && catalog.is_config(path))
        .then(|| String::from_utf8_lossy(bytes).into_owned())
}

/// The note of a file whose parse and facts overran `max-parse-time-ms`.
fn out_of_time(path: &str, settings: &Settings) -> Note {
    Note {
        path: path.to_string(),
        kind: NoteKind::NotParsed,
        message: format!(
            "parsing took over the {} ms budget (max-parse-time-ms): scanned as text only",
            settings.max_parse_time.as_millis()
        ),
    }
}

/// Run an audit. Errors are configuration problems (exit 2).
pub fn audit(settings: &Settings, catalog: &Catalog) -> Result<Report, ConfigError> {
    let (report, facts, inventory) = audit_with_facts(settings, catalog)?;
    // Freeing the facts of a large tree takes tens of milliseconds: another
    // thread does it while the caller writes the report.
    // (If no thread can be started, the closure is dropped here instead.)
    let garbage = (facts, inventory);
    if settings.threads != 1 {
        let _ = std::thread::Builder::new().spawn(move || drop(garbage));
    }
    Ok(report)
}

/// Each check's project pass, on two threads when there are two: every
/// check that only adds findings writes its own list, and the lists are
/// appended in checklist order, so the findings are those of one thread.
/// A check that edits the findings so far runs in its turn, on the
/// calling thread.
fn project_checks(
    checks: &[&'static dyn Check],
    ctx: &ProjectContext<'_>,
    findings: &mut Vec<Finding>,
    threads: usize,
) -> Vec<(CheckId, Coverage)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let done: Vec<std::sync::OnceLock<(Coverage, Vec<Finding>)>> =
        checks.iter().map(|_| std::sync::OnceLock::new()).collect();
    let next = AtomicUsize::new(0);
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(check) = checks.get(i) else {
            break;
        };
        if !check.edits_findings() {
            let mut out = Vec::new();
            let coverage = check.check_project(ctx, &mut out);
            let _ = done[i].set((coverage, out));
        }
    };
    match threads {
        0 | 1 => work(),
        _ => std::thread::scope(|scope| {
            let beside = std::thread::Builder::new().spawn_scoped(scope, work);
            work();
            if let Ok(handle) = beside {
                handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p));
            }
        }),
    }
    checks
        .iter()
        .zip(done)
        .map(|(check, done)| {
            let coverage = match done.into_inner() {
                Some((coverage, out)) => {
                    findings.extend(out);
                    coverage
                }
                None => check.check_project(ctx, findings),
            };
            (check.id(), coverage)
        })
        .collect()
}

/// [`audit`], also returning the facts and the inventory it was built from
/// (`aiguard fix` plans its edits from them).
pub fn audit_with_facts(
    settings: &Settings,
    catalog: &Catalog,
) -> Result<(Report, ProjectFacts, crate::inventory::Inventory), ConfigError> {
    let started = Instant::now();
    let checks: Vec<&'static dyn Check> = checks::implemented()
        .into_iter()
        .filter(|c| settings.checks.contains(&c.id()))
        // key-history reads all of git history: only when asked (--history).
        .filter(|c| settings.history || c.id() != CheckId::KeyHistory)
        .collect();
    let env = Env {
        settings,
        lexical: !settings.staged,
        catalog,
        checks: checks.clone(),
        shared: Arc::new(Mutex::new(Vec::new())),
    };
    let make_worker = || Worker {
        env: &env,
        parsers: Parsers::default(),
        local: Vec::new(),
    };
    let wants_env_files = checks.iter().any(|c| c.id() == CheckId::KeysInClient);
    // The facts cache is read beside the walk (`--staged` parses what is
    // staged, a few files: no cache).
    let cache = OpeningCache::start(settings, catalog);
    let (walk_git, staged, env_files) = if settings.staged {
        let plan = crate::staged::Plan::discover(settings).map_err(ConfigError::Usage)?;
        let outcome = crate::staged::visit_parallel(settings, catalog, &plan, make_worker)
            .map_err(ConfigError::Usage)?;
        plan.verify(&outcome).map_err(ConfigError::Usage)?;
        let env_files = match wants_env_files {
            true => outcome.env_files.clone(),
            false => Vec::new(),
        };
        (None, Some((plan, outcome)), env_files)
    } else {
        // Asking git what it tracks, and a second (serial, listing-only)
        // walk for the `.env*` files, ignored ones included: on their own
        // thread beside the main walk, unless one thread was asked for.
        let side = || {
            let git = GitInfo::discover(&settings.root);
            let env_files = match wants_env_files {
                true => read_env_files(settings),
                false => Ok(Vec::new()),
            };
            (git, env_files)
        };
        let (git, env_files) = if settings.threads == 1 {
            walk::walk_parallel(settings, make_worker)?;
            side()
        } else {
            std::thread::scope(|scope| {
                let side = scope.spawn(side);
                walk::walk_parallel(settings, make_worker)?;
                Ok::<_, ConfigError>(
                    side.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                )
            })?
        };
        (Some(git), None, env_files?)
    };
    let mut results = std::mem::take(&mut *env.shared.lock().unwrap_or_else(|e| e.into_inner()));
    // Each worker sorted its own results: this merges the sorted runs.
    results.sort_by(|a, b| a.path.cmp(&b.path));

    let root_abs = std::fs::canonicalize(&settings.root).unwrap_or_else(|_| settings.root.clone());
    let git = match (&staged, walk_git) {
        (Some((plan, _)), _) => plan.git_info(),
        (None, Some(git)) => git,
        (None, None) => GitInfo::discover(&settings.root),
    };
    let gitignore = gitignore_model(&root_abs, &results, &git);
    let mut findings: Vec<Finding> = Vec::new();
    let mut notes: Vec<Note> = Vec::new();
    let mut paths = Vec::with_capacity(results.len());
    let mut all_facts = Vec::new();
    let mut packages: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut files_scanned = 0;
    let mut suppressions = BTreeMap::new();
    let mut stats = Stats {
        files_walked: results.len(),
        walk_ms: started.elapsed().as_millis() as u64,
        ..Stats::default()
    };
    let mut summaries = Vec::new();
    let mut configs = Vec::new();
    for r in results {
        files_scanned += r.scanned as usize;
        stats.bytes_scanned += r.bytes;
        summaries.extend(r.summary);
        if !r.suppressions.is_empty() {
            suppressions.insert(r.path.clone(), r.suppressions);
        }
        findings.extend(r.findings);
        notes.extend(r.note);
        all_facts.extend(r.facts.map(|f| *f));
        if let Some(deps) = r.package_deps {
            packages.insert(
                r.path
                    .rsplit_once('/')
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_default(),
                deps,
            );
        }
        if let Some(text) = r.config {
            configs.push(ConfigFile {
                path: r.path.clone(),
                text,
            });
        }
        if !r.path.is_empty() {
            paths.push(r.path);
        }
    }
    if let Some(problem) = &git.problem {
        notes.push(Note {
            path: String::new(),
            kind: NoteKind::Git,
            message: problem.clone(),
        });
    }
    stats.files_scanned = files_scanned;
    let mut saving = None;
    let facts = match staged {
        Some(_) => complete_imports(
            ProjectFacts::with_index(all_facts, module_index(settings, &paths)),
            settings,
        ),
        None => {
            let slice_started = Instant::now();
            let index = module_index(settings, &paths);
            // Handlers a configuration routes to (`handler: src/chat.handler`)
            // are endpoints, whatever their text says.
            let routed = crate::inventory::frameworks::config_sources(&configs);
            mark_routed(&mut summaries, &routed);
            let (parses, edges) =
                crate::graph::slice_parses(&summaries, &index, settings.worker_threads());
            stats.files_summarized = summaries.len();
            stats.import_edges = edges;
            let todo: Vec<(Summary, Parse)> = summaries
                .into_iter()
                .zip(parses)
                .filter(|(_, p)| *p != Parse::Skip)
                .collect();
            stats.files_in_slice = todo.len();
            if let Some(out) = std::env::var_os("AIGUARD_DEBUG_SLICE") {
                let text: String = todo
                    .iter()
                    .map(|(s, p)| format!("{} {:?} {}\n", s.roles.0, p, s.path))
                    .collect();
                let _ = std::fs::write(out, text);
            }
            stats.slice_ms = slice_started.elapsed().as_millis() as u64;
            let parse_started = Instant::now();
            let cache = cache.finish();
            let (parsed, overran) = parse_slice(settings, catalog, &cache, todo);
            notes.extend(overran.into_iter().map(|path| out_of_time(&path, settings)));
            let fresh = parsed.iter().filter(|p| p.cache.is_err());
            stats.files_parsed = fresh.clone().count();
            stats.bytes_parsed = fresh.clone().map(|p| p.bytes).sum();
            stats.files_links_only = fresh.filter(|p| p.links_only).count();
            stats.files_cached = parsed.len() - stats.files_parsed;
            let (mut hits, mut new) = (Vec::new(), Vec::new());
            for p in parsed {
                match p.cache {
                    Ok(key) => hits.push(key),
                    Err(entry) => new.extend(entry),
                }
                all_facts.push(p.facts);
            }
            stats.parse_ms = parse_started.elapsed().as_millis() as u64;
            // Written beside the project pass (waited for before the
            // report), or now with `--threads 1`.
            match settings.threads {
                1 => cache.save(&hits, new),
                _ => {
                    saving = std::thread::Builder::new()
                        .spawn(move || cache.save(&hits, new))
                        .ok()
                }
            }
            ProjectFacts::with_index(all_facts, index)
        }
    }
    .with_configs(configs);
    let project_started = Instant::now();
    let excludes = walk::exclude_matcher(settings)?;
    let inventory = crate::inventory::Inventory::build_on(
        &facts,
        catalog,
        &settings.extras,
        settings.worker_threads(),
    );
    let history = match checks.iter().any(|c| c.id() == CheckId::KeyHistory) {
        true => {
            Some(crate::history::scan(settings, catalog, &excludes).map_err(ConfigError::Usage)?)
        }
        false => None,
    };
    notes.extend(history.as_ref().map(|h| h.note.clone()));
    let ctx = ProjectContext {
        root: &root_abs,
        facts: &facts,
        paths: &paths,
        gitignore: &gitignore,
        git: &git,
        catalog,
        settings,
        files_scanned,
        excludes: &excludes,
        packages: &packages,
        env_files: &env_files,
        inventory: &inventory,
        history: history.as_ref(),
    };
    let coverage = project_checks(&checks, &ctx, &mut findings, settings.worker_threads());
    // Config and suppressions first, then the baseline: a baseline records
    // what audits report, and fingerprints number findings in report order.
    findings.extend(checklist::stale_attestations(settings));
    let ran: Vec<CheckId> = checks.iter().map(|c| c.id()).collect();
    let filtered = settings.filter.apply(findings);
    let outcome = suppress::apply(filtered, &suppressions, catalog, settings, &ran);
    let mut findings = outcome.findings;
    if let Some((plan, outcome)) = &staged {
        findings.retain(|f| plan.keeps(f));
        notes.retain(|n| plan.keeps_note(n));
        notes.push(plan.summary_note(outcome));
    }
    if !settings.prefix.is_empty() {
        // One root of several: paths from the current directory, before
        // the baseline's fingerprints are taken.
        for f in &mut findings {
            f.path.insert_str(0, &settings.prefix);
        }
        for n in &mut notes {
            match n.path.is_empty() {
                true => n.path = settings.prefix.trim_end_matches('/').to_string(),
                false => n.path.insert_str(0, &settings.prefix),
            }
        }
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.dedup();
    // The baseline sees every place (a second paste of a recorded key is
    // new), and records every place; then places of one problem merge.
    let baselined = settings
        .baseline
        .as_ref()
        .map_or(0, |b| b.hide(&mut findings));
    let places = findings.clone();
    crate::checks::merge_places(&mut findings);
    notes.sort();
    let checklist = checklist::build(catalog, settings, &coverage, &findings);
    if let Some(saving) = saving {
        let _ = saving.join();
    }
    stats.project_ms = project_started.elapsed().as_millis() as u64;
    stats.total_ms = started.elapsed().as_millis() as u64;
    let mut summary = ReportSummary::new(
        &findings,
        files_scanned,
        started.elapsed().as_millis() as u64,
    );
    summary.suppressed = outcome.suppressed;
    summary.baselined = baselined;
    let report = Report {
        root: settings.root.display().to_string(),
        summary,
        checklist,
        findings,
        places,
        notes,
        inventory: {
            let mut view = crate::inventory::InventoryView::new(&inventory, &facts);
            view.prefix_paths(&settings.prefix);
            view
        },
        stats,
    };
    Ok((report, facts, inventory))
}

/// Give the endpoint role to the source files configurations route
/// requests to: a path names a file with or without its extension
/// (`src/handlers/chat` → `src/handlers/chat.ts`), or, ending in `/`,
/// every file under a folder.
fn mark_routed(summaries: &mut [Summary], routed: &[String]) {
    if routed.is_empty() {
        return;
    }
    for s in summaries.iter_mut() {
        let stem = s
            .path
            .rsplit_once('.')
            .map_or(s.path.as_str(), |(stem, _)| stem);
        let hit = routed.iter().any(|r| match r.strip_suffix('/') {
            Some(dir) => s.path.starts_with(dir) && s.path[dir.len()..].starts_with('/'),
            None => *r == s.path || r == stem,
        });
        if hit {
            s.roles |= Roles::ENDPOINT;
        }
    }
}

/// Every file of the project as a module, with the path aliases of its
/// `tsconfig.json` / `jsconfig.json` files (read from the working tree,
/// as the files `--staged` imports are).
fn module_index(settings: &Settings, paths: &[String]) -> ModuleIndex {
    let mut index = ModuleIndex::new(paths.iter().map(String::as_str));
    for config in paths.iter().filter(|p| {
        let name = p.rsplit('/').next().unwrap_or(p);
        name == "tsconfig.json" || name == "jsconfig.json"
    }) {
        if let Loaded::Text(source) = Source::load(&settings.root.join(config), 1 << 20) {
            index.add_tsconfig(config, &String::from_utf8_lossy(source.bytes()));
        }
    }
    index
}

/// The project's ignore model: every `.gitignore` the walk read, those of
/// the folders between the repository top and the audited root, and
/// `.git/info/exclude`.
fn gitignore_model(root: &Path, results: &[FileResult], git: &GitInfo) -> GitignoreModel {
    let mut files: Vec<(PathBuf, String)> = results
        .iter()
        .filter_map(|r| {
            let text = r.gitignore.clone()?;
            Some((root.join(&r.path).parent()?.to_path_buf(), text))
        })
        .collect();
    // A root .gitignore that lists itself (`.gitignore` in .gitignore) is
    // skipped by the walk, but git still reads it.
    if !files.iter().any(|(d, _)| d == root) {
        if let Ok(text) = std::fs::read_to_string(root.join(".gitignore")) {
            files.push((root.to_path_buf(), text));
        }
    }
    let top = git
        .top
        .as_ref()
        .and_then(|t| std::fs::canonicalize(t).ok())
        .filter(|t| root.starts_with(t));
    if let Some(top) = &top {
        let mut dir = root.parent();
        while let Some(d) = dir.filter(|d| d.starts_with(top)) {
            if let Ok(text) = std::fs::read_to_string(d.join(".gitignore")) {
                files.push((d.to_path_buf(), text));
            }
            dir = d.parent();
        }
    }
    let exclude = top.as_ref().and(git.info_exclude());
    GitignoreModel::new(top.as_deref().unwrap_or(root), &files, exclude.as_deref())
}

/// The facts cache, read on its own thread while the walk runs (on the
/// caller's with `--threads 1`).
enum OpeningCache {
    Off,
    Ready(FactsCache),
    Opening(std::thread::JoinHandle<FactsCache>),
}

impl OpeningCache {
    fn start(settings: &Settings, catalog: &Catalog) -> OpeningCache {
        let Some(dir) = settings.cache_dir.clone().filter(|_| !settings.staged) else {
            return OpeningCache::Off;
        };
        let root = settings.root.clone();
        // What else decides an entry: the parse budget (a file over a
        // smaller one is noted, not read back) and the key rules (a file one
        // of them matches is never cached).
        let mut context = settings.max_parse_time.as_millis().to_string().into_bytes();
        context.push(b' ');
        context.extend_from_slice(&catalog.keys.fingerprint());
        if settings.threads == 1 {
            return OpeningCache::Ready(FactsCache::open(&dir, &root, &context));
        }
        match std::thread::Builder::new().spawn(move || FactsCache::open(&dir, &root, &context)) {
            Ok(opening) => OpeningCache::Opening(opening),
            Err(_) => OpeningCache::Off,
        }
    }

    fn finish(self) -> FactsCache {
        match self {
            OpeningCache::Off => FactsCache::disabled(),
            OpeningCache::Ready(cache) => cache,
            OpeningCache::Opening(opening) => opening
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        }
    }
}

/// A file of the slice, parsed (or read from the facts cache).
struct ParsedFile {
    facts: FileFacts,
    /// The bytes given to the parser.
    bytes: u64,
    links_only: bool,
    /// Its facts came from the cache (`Ok`, the key), or were made now and
    /// may be stored (`Err`, the key and the stored form; `None` when the
    /// file must not be cached).
    cache: Result<Key, Option<(Key, Vec<u8>)>>,
}

/// Parse the files of the slice on `settings.threads` threads (re-read from
/// disk: the walk kept no text), each tree dropped once its facts are out;
/// a module the slice needs only for its links up to its last import
/// (whole when it also imports dynamically). A file whose facts `cache`
/// holds for its bytes is not parsed. Also returns the files whose
/// parse and facts overran `max-parse-time-ms` (their keys were scanned in
/// the walk; they lend no facts).
fn parse_slice(
    settings: &Settings,
    catalog: &Catalog,
    cache: &FactsCache,
    mut todo: Vec<(Summary, Parse)>,
) -> (Vec<ParsedFile>, Vec<String>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Largest first: the threads take files off one list, and a large file
    // taken last would leave the other threads idle while it is parsed.
    todo.sort_by_key(|(s, _)| std::cmp::Reverse(s.bytes));
    type Parsed = Result<ParsedFile, String>;
    let threads = settings.worker_threads().min(todo.len().max(1));
    let next = AtomicUsize::new(0);
    let work = |parsers: &mut Parsers, out: &mut Vec<Parsed>| loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some((s, parse)) = todo.get(i) else { break };
        let Loaded::Text(source) =
            Source::load(&settings.root.join(&s.path), settings.max_parse_size)
        else {
            continue;
        };
        let whole = source.bytes();
        let block = match parse {
            Parse::Imports if !s.lang.is_python() => crate::graph::import_block_end(whole),
            _ => None,
        };
        let bytes = block.map_or(whole, |end| &whole[..end]);
        let key = cache
            .is_enabled()
            .then(|| FactsCache::key(&s.path, block.is_some(), whole));
        if let Some(facts) = key.as_ref().and_then(|k| cache.get(k)) {
            out.push(Ok(ParsedFile {
                facts,
                bytes: bytes.len() as u64,
                links_only: block.is_some(),
                cache: Ok(key.unwrap_or_default()),
            }));
            continue;
        }
        let deadline = Some(Instant::now() + settings.max_parse_time);
        match FileFacts::parse_until(parsers, &s.path, s.lang, bytes, deadline) {
            Ok(Some(facts)) => {
                let facts = match block {
                    Some(_) => facts.links_only(crate::lex::declared_names(whole)),
                    None => facts,
                };
                // Never a file whose text a key rule matches: the cache
                // holds no found secret.
                let entry = key
                    .filter(|_| !catalog.keys.may_hold_key(whole))
                    .and_then(|k| Some((k, FactsCache::encode(&facts)?)));
                out.push(Ok(ParsedFile {
                    facts,
                    bytes: bytes.len() as u64,
                    links_only: block.is_some(),
                    cache: Err(entry),
                }));
            }
            Ok(None) => {}
            Err(_) => out.push(Err(s.path.clone())),
        }
    };
    let all: Vec<Parsed> = if threads <= 1 {
        let mut out = Vec::new();
        work(&mut Parsers::default(), &mut out);
        out
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut out = Vec::new();
                        work(&mut Parsers::default(), &mut out);
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    let mut parsed = Vec::with_capacity(all.len());
    let mut overran = Vec::new();
    for r in all {
        match r {
            Ok(p) => parsed.push(p),
            Err(path) => overran.push(path),
        }
    }
    (parsed, overran)
}

/// How many rounds of on-demand parsing follow imports (a chain of helper
/// files this deep, each skipped by the parse gate, is still linked).
const IMPORT_ROUNDS: usize = 6;

/// Parse the project files that parsed files import but that the walk's
/// parse gate skipped, so cross-file questions (reachability, client
/// boundaries) see whole import chains. Only files on such chains are read
/// a second time; the rest of the tree is parsed never.
fn complete_imports(mut facts: ProjectFacts, settings: &Settings) -> ProjectFacts {
    let mut parsers = Parsers::default();
    // `--staged` paths come from git's index, not the walk.
    let mut linked = walk::LinkedDirs::new(&settings.root);
    for _ in 0..IMPORT_ROUNDS {
        let missing = facts.missing_imports();
        if missing.is_empty() {
            break;
        }
        let mut more = Vec::new();
        for path in missing {
            let Some(lang) = Lang::from_path(Path::new(&path)) else {
                continue;
            };
            if linked.is_linked(&path) {
                continue;
            }
            let Loaded::Text(source) =
                Source::load(&settings.root.join(&path), settings.max_parse_size)
            else {
                continue;
            };
            let deadline = Some(Instant::now() + settings.max_parse_time);
            if let Ok(Some(facts)) =
                FileFacts::parse_until(&mut parsers, &path, lang, source.bytes(), deadline)
            {
                more.push(facts);
            }
        }
        if more.is_empty() {
            break;
        }
        facts = facts.with_more(more);
    }
    facts
}

/// The dependency names of a package.json (all kinds); empty if it is broken.
fn package_deps(bytes: &[u8]) -> Vec<String> {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Vec::new();
    };
    let kinds = [
        "dependencies",
        "devDependencies",
        "peerDependencies",
        "optionalDependencies",
    ];
    let mut deps: Vec<String> = kinds
        .iter()
        .filter_map(|k| json.get(k)?.as_object())
        .flat_map(|o| o.keys().cloned())
        .collect();
    deps.sort();
    deps.dedup();
    deps
}

/// Every `.env*` file with its text, ignored ones included; files over
/// the parse cap or unreadable are left out.
fn read_env_files(settings: &Settings) -> Result<Vec<(String, String)>, ConfigError> {
    Ok(walk::collect_env_files(settings)?
        .into_iter()
        .filter_map(
            |rel| match Source::load(&settings.root.join(&rel), settings.max_parse_size) {
                Loaded::Text(s) => Some((rel, String::from_utf8_lossy(s.bytes()).into_owned())),
                Loaded::Skipped(..) => None,
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(path: &str) -> Summary {
        Summary {
            path: path.into(),
            lang: Lang::TypeScript,
            roles: Roles::default(),
            imports: Vec::new(),
            bases: Vec::new(),
            bytes: 0,
        }
    }

    #[test]
    fn routed_handlers_become_endpoints() {
        let mut summaries: Vec<Summary> = [
            "src/handlers/chat.ts",
            "src/handlers/chat_util.ts",
            "functions/ask/index.ts",
            "functions-old/x.ts",
            "worker.ts",
        ]
        .into_iter()
        .map(summary)
        .collect();
        let routed = [
            "src/handlers/chat".into(),
            "functions/".into(),
            "worker.ts".into(),
        ];
        mark_routed(&mut summaries, &routed);
        let marked: Vec<&str> = summaries
            .iter()
            .filter(|s| s.roles.has(Roles::ENDPOINT))
            .map(|s| s.path.as_str())
            .collect();
        assert_eq!(
            marked,
            [
                "src/handlers/chat.ts",
                "functions/ask/index.ts",
                "worker.ts"
            ]
        );
    }
}
