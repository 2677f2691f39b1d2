//! Settings: `aiguard.toml` at the audited root, or `[tool.aiguard]` in its
//! `pyproject.toml`, or `--config FILE`, merged with the command line.
//! Unknown keys and bad values are errors naming the file and line (exit 2).
//!
//! Two steps: [`Settings::from_args`] reads everything that needs no
//! catalogue; [`Settings::resolve`] then checks the check and rule ids
//! (`select`, `ignore`, `[severity]`) against the catalogue, which users'
//! `key-rules` files extend. Extra limiter, auth and AI-client names are
//! not config keys yet: the checks that would read them are not built.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

use crate::baseline::Baseline;
use crate::catalog::{line_at, Catalog};
use crate::cli::{AuditArgs, FailOn};
use crate::findings::CheckId;
use crate::findings::{Finding, Severity, Span};

/// `max-parse-time-ms` unless the config sets it: 2 s, 20 to 100 times what
/// a release build takes for a 1 MiB source file (`max-parse-size`), so
/// only a pathological file reaches it. Unoptimised debug builds (`cargo
/// test`) parse about ten times slower, 1–2 s for such a file on an idle
/// machine: there the default is ten times longer, so that tests do not
/// depend on the machine's load.
const DEFAULT_PARSE_TIME_MS: u64 = if cfg!(debug_assertions) {
    20_000
} else {
    2_000
};

/// Folders never walked unless the config's `exclude` replaces this list.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    "dist",
    "build",
    ".next",
    ".nuxt",
    ".svelte-kit",
    ".output",
    ".turbo",
    ".vercel",
    ".cache",
    ".parcel-cache",
    "coverage",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
    "bower_components",
    ".expo",
    "target",
];

pub use crate::error::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigFile {
    /// Replaces the built-in folder excludes.
    exclude: Option<Vec<Spanned<String>>>,
    /// Adds to them.
    #[serde(default)]
    extend_exclude: Vec<Spanned<String>>,
    /// When set, only files matching one of these globs are audited.
    #[serde(default)]
    include: Vec<Spanned<String>>,
    max_file_size: Option<u64>,
    max_parse_size: Option<u64>,
    /// Milliseconds to parse one file and extract its facts.
    max_parse_time_ms: Option<u64>,
    fail_on: Option<FailOn>,
    /// Check or rule ids.
    select: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    /// Check or rule id → error, warning or off.
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Level>,
    /// Extra key rule files, same format as `rules/keys.toml`.
    #[serde(default)]
    key_rules: Vec<Spanned<PathBuf>>,
    /// Manual checklist items done by hand, with the day they were checked.
    #[serde(default)]
    attest: AttestTable,
    /// Project helpers that rate limit (decorators, middleware, functions).
    #[serde(default)]
    extra_limiters: Vec<String>,
    /// Project helpers that authenticate (dependencies, decorators, middleware, calls that reject).
    #[serde(default)]
    extra_auth: Vec<String>,
    /// Project functions or methods that call a paid AI API (wrappers of SDKs).
    #[serde(default)]
    extra_ai_clients: Vec<String>,
    /// `aiguard fix` settings.
    #[serde(default)]
    fix: FixLimits,
}

/// `[fix]`: the limits `aiguard fix` writes (the command line wins).
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FixLimits {
    pub per_minute: Option<u64>,
    pub per_day: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct AttestTable {
    spend_limits: Option<Spanned<toml::Value>>,
}

#[derive(Debug, Deserialize)]
struct Pyproject {
    tool: Option<PyTool>,
}

#[derive(Debug, Deserialize)]
struct PyTool {
    aiguard: Option<ConfigFile>,
}

/// A severity as the config sets it: `off` drops the findings (and, for a
/// check, does not run it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Off,
}

/// Which findings an audit keeps, and at what severity: `select`, `ignore`
/// and `[severity]`, each naming checks or rules. A rule's own setting wins
/// over its check's.
#[derive(Clone, Debug, Default)]
pub struct RuleFilter {
    select: Option<Vec<String>>,
    ignore: Vec<String>,
    levels: BTreeMap<String, Level>,
}

impl RuleFilter {
    fn names(list: &[String], check: CheckId, rule: &str) -> bool {
        list.iter().any(|id| id == rule || id == check.as_str())
    }

    fn level(&self, check: CheckId, rule: &str) -> Option<Level> {
        self.levels
            .get(rule)
            .or_else(|| self.levels.get(check.as_str()))
            .copied()
    }

    /// Is `rule` of `check` reported at all?
    pub fn is_enabled(&self, check: CheckId, rule: &str) -> bool {
        self.select
            .as_ref()
            .is_none_or(|s| Self::names(s, check, rule))
            && !Self::names(&self.ignore, check, rule)
            && self.level(check, rule) != Some(Level::Off)
    }

    /// Drop disabled findings and apply severity overrides.
    pub fn apply(&self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|f| self.is_enabled(f.check, &f.rule))
            .map(|mut f| {
                match self.level(f.check, &f.rule) {
                    Some(Level::Error) => f.severity = Severity::Error,
                    Some(Level::Warning) => f.severity = Severity::Warning,
                    _ => {}
                }
                f
            })
            .collect()
    }
}

/// A manual checklist item attested in the config: done by hand on `date`.
#[derive(Clone, Debug)]
pub struct Attestation {
    pub check: CheckId,
    pub date: Date,
    /// Where the date is written in the config file.
    pub span: Span,
}

/// A check or rule id named in the config or on the command line, kept
/// until the catalogue is loaded to validate it (`Settings::resolve`).
#[derive(Clone, Debug)]
struct NamedId {
    id: String,
    key: &'static str,
    /// File and line; `None` for the command line.
    at: Option<(String, usize)>,
}

/// Names of project helpers (`extra-limiters`, `extra-auth`,
/// `extra-ai-clients`), matched like the catalogue's names: on the last
/// segment of a call, decorator, dependency or middleware.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub limiters: Vec<String>,
    pub auth: Vec<String>,
    pub ai_clients: Vec<String>,
}

/// Everything an audit needs to know, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub root: PathBuf,
    /// Put before every reported path when several roots make one report
    /// (`apps/web/`); empty for one root.
    pub prefix: String,
    pub excludes: Vec<String>,
    /// When not empty, only files matching one of these are walked.
    pub includes: Vec<String>,
    /// Files above this are skipped (not read).
    pub max_file_size: u64,
    /// Files above this are scanned as text but not parsed.
    pub max_parse_size: u64,
    /// Time to parse one file and extract its facts; past it the file is
    /// scanned as text only (issue 20).
    pub max_parse_time: std::time::Duration,
    pub fail_on: FailOn,
    /// The checks to run: selected, not ignored, not `off`.
    pub checks: Vec<CheckId>,
    /// Rule-level selection and severity overrides.
    pub filter: RuleFilter,
    pub key_rules: Vec<PathBuf>,
    pub threads: usize,
    /// Where the settings came from, for the report.
    pub config_file: Option<PathBuf>,
    pub attestations: Vec<Attestation>,
    /// The audit date (`AIGUARD_TODAY=YYYY-MM-DD` overrides the clock, for tests).
    pub today: Date,
    /// Report suppressions that lack a reason or suppress nothing.
    pub suppression_warnings: bool,
    /// Findings to hide (`--baseline`).
    pub baseline: Option<Baseline>,
    /// `--staged`: audit the git index, not the working tree.
    pub staged: bool,
    /// `--history`: scan git history for keys (key-history), from `since` if set.
    pub history: bool,
    pub since: Option<String>,
    /// Project-specific names the config adds to the catalogue.
    pub extras: Extras,
    /// `[fix]` of the config.
    pub fix: FixLimits,
    /// Where the facts cache lives (`src/cache.rs`); `None`: no cache. Set
    /// from the command line and the environment only, never from a config
    /// file (the audited tree's config must not choose what is read back).
    pub cache_dir: Option<PathBuf>,
    named: Vec<NamedId>,
}

/// A parsed config file with the text its spans point into.
struct Loaded {
    path: PathBuf,
    text: String,
    config: ConfigFile,
    /// Named by `--config`: the user's, trusted to name files anywhere. A
    /// config found in the audited tree is the tree's, and may only name
    /// files inside it (issue 20).
    explicit: bool,
}

impl Loaded {
    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn line(&self, span: std::ops::Range<usize>) -> usize {
        line_at(&self.text, span.start)
    }

    fn invalid(&self, span: std::ops::Range<usize>, message: String) -> ConfigError {
        ConfigError::Invalid {
            file: self.name(),
            line: self.line(span),
            message,
        }
    }

    /// Walk globs, each checked to compile.
    fn globs(
        &self,
        root: &Path,
        list: &[Spanned<String>],
        key: &str,
    ) -> Result<Vec<String>, ConfigError> {
        list.iter()
            .map(|g| {
                check_glob(root, g.get_ref()).map_err(|e| {
                    self.invalid(
                        g.span(),
                        format!("`{key}`: bad glob `{}`: {e}", g.get_ref()),
                    )
                })?;
                Ok(g.get_ref().clone())
            })
            .collect()
    }

    /// Check or rule ids, with their lines for `Settings::resolve`.
    fn ids(&self, list: &[Spanned<String>], key: &'static str) -> Vec<NamedId> {
        list.iter()
            .map(|id| NamedId {
                id: id.get_ref().trim().to_string(),
                key,
                at: Some((self.name(), self.line(id.span()))),
            })
            .collect()
    }

    /// `key-rules`, relative to the config file; each must exist, and be
    /// inside the audited tree unless the config came from `--config`.
    fn key_rules(&self, root: &Path) -> Result<Vec<PathBuf>, ConfigError> {
        let base = self.path.parent().unwrap_or(Path::new("."));
        self.config
            .key_rules
            .iter()
            .map(|p| {
                let path = base.join(p.get_ref());
                if path.is_file() && !self.explicit && !is_inside(root, &path) {
                    return Err(self.invalid(
                        p.span(),
                        format!(
                            "`key-rules`: {} is outside the audited tree, not read (a config found in the tree names files inside it only; pass the config with --config to trust it)",
                            path.display()
                        ),
                    ));
                }
                if path.is_file() {
                    return Ok(path);
                }
                Err(self.invalid(
                    p.span(),
                    format!(
                        "`key-rules`: {} is not a file (paths are relative to the config file)",
                        path.display()
                    ),
                ))
            })
            .collect()
    }

    /// `[attest]`: each value must be a plain TOML date, not in the future.
    fn attestations(&self, today: Date) -> Result<Vec<Attestation>, ConfigError> {
        let mut out = Vec::new();
        let Some(value) = &self.config.attest.spend_limits else {
            return Ok(out);
        };
        let key = "spend-limits";
        let date = match value.get_ref() {
            toml::Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => dt
                .date
                .and_then(|d| Date::new(d.year as i32, d.month as u32, d.day as u32)),
            _ => None,
        };
        let Some(date) = date else {
            return Err(self.invalid(
                value.span(),
                format!(
                    "`attest.{key}` takes the date the item was last checked, as a TOML date without quotes or time: {key} = {today}"
                ),
            ));
        };
        // One day of slack: the config may be written in a time zone ahead of UTC.
        if date.days() > today.days() + 1 {
            return Err(self.invalid(
                value.span(),
                format!("`attest.{key}` = {date} is in the future (today is {today})"),
            ));
        }
        out.push(Attestation {
            check: CheckId::SpendLimits,
            date,
            span: span_of(&self.text, value.span()),
        });
        Ok(out)
    }
}

/// Ids from the command line (no file, no line).
fn cli_ids(list: &[String], key: &'static str) -> Vec<NamedId> {
    list.iter()
        .map(|id| NamedId {
            id: id.trim().to_string(),
            key,
            at: None,
        })
        .collect()
}

/// The facts cache's folder: `AIGUARD_CACHE_DIR`, else the platform's
/// cache folder plus `aiguard`; `None` when `AIGUARD_NO_CACHE` is set (to
/// anything but `0` or empty) or no folder is known.
pub fn cache_dir(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> Option<PathBuf> {
    let set = |name: &str| var(name).filter(|v| !v.is_empty());
    if set("AIGUARD_NO_CACHE").is_some_and(|v| v != "0") {
        return None;
    }
    if let Some(dir) = set("AIGUARD_CACHE_DIR") {
        return Some(dir.into());
    }
    let base = match cfg!(windows) {
        true => set("LOCALAPPDATA").map(PathBuf::from),
        false => set("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| set("HOME").map(|h| PathBuf::from(h).join(".cache"))),
    };
    base.map(|b| b.join("aiguard"))
}

impl Settings {
    /// How many threads to work on: `--threads`, or one per core when 0.
    pub fn worker_threads(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// Read the config and merge the command line. Check and rule ids are
    /// validated by [`Settings::resolve`], once the catalogue is loaded.
    pub fn from_args(args: &AuditArgs) -> Result<Settings, ConfigError> {
        let root = args.paths.first().cloned().unwrap_or_else(|| ".".into());
        Settings::from_args_at(args, root)
    }

    /// [`Settings::from_args`] for one of the roots `args` names.
    pub fn from_args_at(args: &AuditArgs, root: PathBuf) -> Result<Settings, ConfigError> {
        if !root.is_dir() {
            return Err(ConfigError::Usage(format!(
                "{}: not a directory",
                root.display()
            )));
        }
        let loaded = load_config(&root, args.config.as_deref())?;
        let today = Date::today()?;
        let empty = ConfigFile::default();
        let config = loaded.as_ref().map_or(&empty, |l| &l.config);
        let mut excludes: Vec<String> = DEFAULT_EXCLUDES.iter().map(|s| s.to_string()).collect();
        let (mut includes, mut key_rules, mut attestations) = (Vec::new(), Vec::new(), Vec::new());
        let (mut select, mut ignore, mut named) = (None, Vec::new(), Vec::new());
        if let Some(l) = &loaded {
            if let Some(list) = &config.exclude {
                excludes = l.globs(&root, list, "exclude")?;
            }
            excludes.extend(l.globs(&root, &config.extend_exclude, "extend-exclude")?);
            includes = l.globs(&root, &config.include, "include")?;
            key_rules = l.key_rules(&root)?;
            attestations = l.attestations(today)?;
            let severity: Vec<Spanned<String>> = config.severity.keys().cloned().collect();
            named.extend(l.ids(&severity, "severity"));
            select = config.select.as_deref().map(|s| l.ids(s, "select"));
            ignore = l.ids(&config.ignore, "ignore");
        }
        // The command line replaces the config's select and adds to its ignore.
        named.extend(select.iter().flatten().cloned());
        if !args.select.is_empty() {
            select = Some(cli_ids(&args.select, "--select"));
            named.extend(select.iter().flatten().cloned());
        }
        ignore.extend(cli_ids(&args.ignore, "--ignore"));
        named.extend(ignore.iter().cloned());
        let plain = |ids: &[NamedId]| ids.iter().map(|n| n.id.clone()).collect::<Vec<_>>();
        let filter = RuleFilter {
            select: select.as_deref().map(plain),
            ignore: plain(&ignore),
            levels: config
                .severity
                .iter()
                .map(|(k, v)| (k.get_ref().trim().to_string(), *v))
                .collect(),
        };
        let extras = Extras {
            limiters: config.extra_limiters.clone(),
            auth: config.extra_auth.clone(),
            ai_clients: config.extra_ai_clients.clone(),
        };
        let fix = config.fix;
        let mut settings = Settings {
            root,
            prefix: String::new(),
            excludes,
            includes,
            max_file_size: config.max_file_size.unwrap_or(20 * 1024 * 1024),
            max_parse_size: config.max_parse_size.unwrap_or(1024 * 1024),
            max_parse_time: std::time::Duration::from_millis(
                config.max_parse_time_ms.unwrap_or(DEFAULT_PARSE_TIME_MS),
            ),
            fail_on: args.fail_on.or(config.fail_on).unwrap_or(FailOn::Error),
            checks: Vec::new(),
            filter,
            key_rules,
            threads: args.threads.unwrap_or(0),
            config_file: loaded.map(|l| l.path),
            attestations,
            today,
            suppression_warnings: !args.no_suppression_warnings,
            baseline: args.baseline.as_deref().map(Baseline::load).transpose()?,
            staged: args.staged,
            history: args.history,
            since: args.since.clone(),
            extras,
            fix,
            cache_dir: match args.no_cache {
                true => None,
                false => cache_dir(|name| std::env::var_os(name)),
            },
            named,
        };
        settings.checks = settings.checks_to_run(&HashMap::new());
        Ok(settings)
    }

    /// Validate the check and rule ids the config and command line name
    /// against the catalogue (users' key rules included), and settle which
    /// checks run. Unknown ids are errors naming close matches.
    pub fn resolve(&mut self, catalog: &Catalog) -> Result<(), ConfigError> {
        let known: HashSet<String> = catalog.known_ids().into_iter().collect();
        for named in &self.named {
            if known.contains(&named.id) {
                continue;
            }
            let close = catalog.close_matches(&named.id);
            let hint = match close.first() {
                Some(c) => format!("did you mean `{c}`? "),
                None => String::new(),
            };
            let checks: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
            let message = format!(
                "unknown check `{}`: not a check or rule id; {hint}checks are {} (`aiguard rules` lists every rule)",
                named.id,
                checks.join(", ")
            );
            return Err(match &named.at {
                Some((file, line)) => ConfigError::Invalid {
                    file: file.clone(),
                    line: *line,
                    message: format!("`{}`: {message}", named.key),
                },
                None => ConfigError::Usage(format!("{}: {message}", named.key)),
            });
        }
        let rule_checks: HashMap<String, CheckId> = catalog
            .all_rules()
            .into_iter()
            .map(|r| (r.id, r.check))
            .collect();
        self.checks = self.checks_to_run(&rule_checks);
        Ok(())
    }

    /// A check runs when it, or one of its rules, is selected, and it is
    /// neither ignored nor `off`.
    fn checks_to_run(&self, rule_checks: &HashMap<String, CheckId>) -> Vec<CheckId> {
        let f = &self.filter;
        CheckId::ALL
            .into_iter()
            .filter(|&c| {
                let selected = f.select.as_ref().is_none_or(|list| {
                    list.iter()
                        .any(|id| id == c.as_str() || rule_checks.get(id) == Some(&c))
                });
                selected
                    && !f.ignore.iter().any(|id| id == c.as_str())
                    && f.levels.get(c.as_str()) != Some(&Level::Off)
            })
            .collect()
    }

    /// The config file's path as reports show it: relative to the audited
    /// root when it lies inside it.
    pub fn config_display_path(&self) -> Option<String> {
        let file = self.config_file.as_ref()?;
        Some(match file.strip_prefix(&self.root) {
            Ok(rel) => crate::paths::relative(Path::new(""), rel),
            Err(_) => file.display().to_string(),
        })
    }
}

/// 1-based span (code-point columns) of a byte range of `text`.
fn span_of(text: &str, range: std::ops::Range<usize>) -> Span {
    let source = crate::source::Source::new(text.as_bytes().to_vec());
    source.span(range.start, range.end)
}

/// Does `pattern` compile as a walk glob (gitignore syntax)?
fn check_glob(root: &Path, pattern: &str) -> Result<(), String> {
    // Globs match paths relative to the root: `..` would match nothing, and
    // is refused so that no one believes it widens the audit.
    if pattern.split('/').any(|part| part == "..") {
        return Err(
            "`..` cannot leave the audited root (globs match paths relative to it; a leading `/` anchors one at the root)"
                .into(),
        );
    }
    ignore::overrides::OverrideBuilder::new(root)
        .add(pattern)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn load_config(root: &Path, explicit: Option<&Path>) -> Result<Option<Loaded>, ConfigError> {
    if let Some(path) = explicit {
        let text = read(path)?;
        let config = parse(path, &text)?;
        return Ok(Some(Loaded {
            path: path.to_path_buf(),
            text,
            config,
            explicit: true,
        }));
    }
    let own = root.join("aiguard.toml");
    if own.is_file() {
        confined(root, &own)?;
        let text = read(&own)?;
        let config = parse(&own, &text)?;
        return Ok(Some(Loaded {
            path: own,
            text,
            config,
            explicit: false,
        }));
    }
    let pyproject = root.join("pyproject.toml");
    if pyproject.is_file() {
        confined(root, &pyproject)?;
        let text = read(&pyproject)?;
        if text.contains("[tool.aiguard") {
            let parsed: Pyproject =
                toml::from_str(&text).map_err(|e| invalid(&pyproject, &text, e))?;
            if let Some(config) = parsed.tool.and_then(|t| t.aiguard) {
                return Ok(Some(Loaded {
                    path: pyproject,
                    text,
                    config,
                    explicit: false,
                }));
            }
        }
    }
    Ok(None)
}

/// Is `path` (its symlinks resolved) inside `root`?
fn is_inside(root: &Path, path: &Path) -> bool {
    match (std::fs::canonicalize(root), std::fs::canonicalize(path)) {
        (Ok(root), Ok(path)) => path.starts_with(root),
        _ => false,
    }
}

/// A config file found in the tree that is a link out of it is not read:
/// its text could be anyone's, and errors quote it.
fn confined(root: &Path, path: &Path) -> Result<(), ConfigError> {
    if is_inside(root, path) {
        return Ok(());
    }
    Err(ConfigError::Unreadable {
        file: path.display().to_string(),
        message: "a symlink to a file outside the audited tree: not read (pass it with --config to use it)".into(),
    })
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
        file: path.display().to_string(),
        message: e.to_string(),
    })
}

fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    toml::from_str(text).map_err(|e| invalid(path, text, e))
}

fn invalid(path: &Path, text: &str, e: toml::de::Error) -> ConfigError {
    ConfigError::Invalid {
        file: path.display().to_string(),
        line: e.span().map(|s| line_at(text, s.start)).unwrap_or(1),
        message: e.message().trim().to_string(),
    }
}

/// A calendar day (proleptic Gregorian), for attestations and their age.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        let date = Date { year, month, day };
        (Date::from_days(date.days()) == date).then_some(date)
    }

    /// `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.trim().splitn(3, '-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }

    /// Today in UTC, or `AIGUARD_TODAY` (YYYY-MM-DD) when set: tests pin
    /// the audit date with it.
    pub fn today() -> Result<Date, ConfigError> {
        if let Some(value) = std::env::var_os("AIGUARD_TODAY") {
            let text = value.to_string_lossy();
            return Date::parse(&text).ok_or_else(|| {
                ConfigError::Usage(format!("AIGUARD_TODAY=`{text}`: expected YYYY-MM-DD"))
            });
        }
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Ok(Date::from_days((secs / 86_400) as i64))
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days(self) -> i64 {
        let (m, d) = (self.month as i64, self.day as i64);
        let y = self.year as i64 - (m <= 2) as i64;
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The day `days` after 1970-01-01 (`civil_from_days`).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + (month <= 2) as i64) as i32;
        Date { year, month, day }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_folder_comes_from_the_environment_only() {
        let with = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            cache_dir(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.into()))
        };
        let home = [
            ("HOME", "/home/u"),
            ("LOCALAPPDATA", "C:\\Users\\u\\AppData\\Local"),
        ];
        let default = match cfg!(windows) {
            true => PathBuf::from("C:\\Users\\u\\AppData\\Local").join("aiguard"),
            false => PathBuf::from("/home/u/.cache/aiguard"),
        };
        assert_eq!(with(&home), Some(default.clone()));
        assert_eq!(
            with(&[home[0], home[1], ("AIGUARD_CACHE_DIR", "/tmp/c")]),
            Some(PathBuf::from("/tmp/c"))
        );
        if !cfg!(windows) {
            let xdg = [home[0], ("XDG_CACHE_HOME", "/x")];
            assert_eq!(with(&xdg), Some(PathBuf::from("/x/aiguard")));
            // A relative XDG_CACHE_HOME is ignored, as the spec says.
            let relative = [home[0], ("XDG_CACHE_HOME", "x")];
            assert_eq!(with(&relative), Some(default.clone()));
        }
        for off in ["1", "true", "yes"] {
            let vars = [home[0], home[1], ("AIGUARD_NO_CACHE", off)];
            assert_eq!(with(&vars), None, "AIGUARD_NO_CACHE={off}");
        }
        for on in ["0", ""] {
            let vars = [home[0], home[1], ("AIGUARD_NO_CACHE", on)];
            assert_eq!(
                with(&vars),
                Some(default.clone()),
                "AIGUARD_NO_CACHE={on:?}"
            );
        }
        assert_eq!(with(&[]), None, "no home: no cache");
        // `cache-dir` is not a config key: a tree cannot choose it.
        assert!(parse(Path::new("aiguard.toml"), "cache-dir = \"x\"\n").is_err());
    }

    #[test]
    fn unknown_keys_name_the_line_and_the_allowed_keys() {
        let err = parse(
            Path::new("aiguard.toml"),
            "fail-on = \"error\"\nexclud = [\"x\"]\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("aiguard.toml:2: unknown field `exclud`"),
            "{text}"
        );
        assert!(
            text.contains("extend-exclude"),
            "lists what is allowed: {text}"
        );
    }

    #[test]
    fn bad_values_name_the_line() {
        let err = parse(Path::new("a.toml"), "\n\nfail-on = \"sometimes\"\n").unwrap_err();
        assert!(err.to_string().starts_with("a.toml:3:"), "{err}");
    }

    #[test]
    fn dates_round_trip_and_reject_impossible_days() {
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (2026, 11, 1), (2028, 12, 31)] {
            let date = Date::new(y, m, d).unwrap();
            assert_eq!(Date::from_days(date.days()), date);
        }
        assert_eq!(Date::new(1970, 1, 1).unwrap().days(), 0);
        assert_eq!(Date::parse("2026-11-01").unwrap().to_string(), "2026-11-01");
        let (a, b) = (
            Date::parse("2026-02-01").unwrap(),
            Date::parse("2026-05-02").unwrap(),
        );
        assert_eq!(b.days() - a.days(), 90);
        for bad in [
            "2026-02-30",
            "2025-02-29",
            "2026-13-01",
            "26-1-1",
            "yesterday",
        ] {
            assert!(Date::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_filter_selects_ignores_and_overrides_by_check_or_rule() {
        let filter = RuleFilter {
            select: Some(vec!["cors".into(), "openai-project-key".into()]),
            ignore: vec!["cors-header-wildcard".into()],
            levels: [
                ("cors".to_string(), Level::Warning),
                ("cors-allow-all-origins".to_string(), Level::Error),
                ("cors-wildcard-regex".to_string(), Level::Off),
            ]
            .into_iter()
            .collect(),
        };
        assert!(filter.is_enabled(CheckId::KeysInCode, "openai-project-key"));
        assert!(!filter.is_enabled(CheckId::KeysInCode, "anthropic-api-key"));
        assert!(!filter.is_enabled(CheckId::Cors, "cors-header-wildcard"));
        assert!(!filter.is_enabled(CheckId::Cors, "cors-wildcard-regex"));
        assert_eq!(
            filter.level(CheckId::Cors, "cors-wildcard-origin"),
            Some(Level::Warning)
        );
        assert_eq!(
            filter.level(CheckId::Cors, "cors-allow-all-origins"),
            Some(Level::Error)
        );
        assert_eq!(filter.level(CheckId::EnvGitignore, "env-tracked"), None);
    }
}
