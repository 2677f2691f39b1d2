//! `aiguard fix`: apply the security workflow to the code (in the idiom of
//! `ruff check --fix` / `cargo fix`). Audits once, plans edits from the
//! findings, the inventory (endpoints, handlers, limiters) and the facts —
//! never detecting anything itself — then either prints a unified diff
//! (`--diff`) or writes each file atomically, untracks committed `.env`
//! files, audits again and prints the checklist and the manual steps.
//!
//! Never: edits a file with uncommitted changes without `--allow-dirty`,
//! touches a file it cannot read as UTF-8, deletes a line, or fixes
//! what has no safe automatic fix (auth, spend limits, keys in client code):
//! those become manual steps with their fix text.
//!
//! Per-framework code lives in one file each (`fastapi.rs`, `flask.rs`, `django.rs`,
//! `next.rs`, `express.rs` with Hono beside Express, `fastify.rs`), ready to move into
//! the engine's framework modules; the code they write is in
//! `rules/fixes.toml`.

mod cors;
mod deps;
mod django;
pub mod edit;
mod express;
mod fastapi;
mod fastify;
mod flask;
mod gitignore;
mod keys;
mod next;
mod python;
mod quota;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::catalog::fixes::{FixTemplates, Limits};
use crate::checklist::Status;
use crate::cli::{AuditArgs, FixArgs};
use crate::facts::{FileFacts, ProjectFacts};
use crate::findings::CheckId;
use crate::findings::Finding;
use crate::inventory::Inventory;
use crate::ExitStatus;

use edit::Doc;

/// What a fixer reads: the audit's results and the templates.
pub struct Ctx<'a> {
    pub root: &'a Path,
    pub facts: &'a ProjectFacts,
    pub inventory: &'a Inventory,
    pub templates: &'a FixTemplates,
    pub catalog: &'a crate::catalog::Catalog,
    pub limits: Limits,
    /// `.env` files are ignored by git (now, or once this run's
    /// env-gitignore fixes are written): keys may be put there.
    pub dotenv_ignored: bool,
}

/// One line of the "changed" list.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub path: String,
    pub rule: String,
    pub what: String,
}

/// What the user must still do by hand.
#[derive(Default)]
pub struct Manual {
    /// `NAME` → where it goes.
    pub env: BTreeMap<String, String>,
    /// `package (file)`.
    pub deps: BTreeSet<String>,
    pub rotate: BTreeSet<String>,
    /// Items with no automatic fix: `path:line rule: fix text`.
    pub steps: BTreeSet<String>,
}

/// The planned edits.
pub struct Plan {
    root: PathBuf,
    docs: BTreeMap<String, Doc>,
    pub changes: BTreeSet<Change>,
    /// Tracked `.env*` files to `git rm --cached`.
    pub untrack: BTreeSet<String>,
    pub manual: Manual,
    /// Public env names already renamed (one fix renames every place).
    pub renamed: BTreeSet<String>,
    /// Handlers already given `request: Request` (path, `def` line): the
    /// limit fix and the decorator-order fix may both ask for one.
    pub requests: BTreeSet<(String, usize)>,
    /// Source files that did not parse (syntax errors): never edited, as
    /// `ruff --fix` leaves them. Their facts are best effort, so edits
    /// planned from them could land anywhere, and each edit changes how the
    /// rest is recovered (found by the `fix_plan` fuzz target: a second run
    /// planned more).
    unparsed: BTreeSet<String>,
}

impl Plan {
    fn new(root: &Path) -> Plan {
        Plan {
            root: root.to_path_buf(),
            docs: BTreeMap::new(),
            changes: BTreeSet::new(),
            untrack: BTreeSet::new(),
            manual: Manual::default(),
            renamed: BTreeSet::new(),
            requests: BTreeSet::new(),
            unparsed: BTreeSet::new(),
        }
    }

    /// The document at `rel`, read on first use; a missing file is a new,
    /// empty one. `None` (with a manual step) when it is not UTF-8 text.
    pub fn doc(&mut self, rel: &str) -> Option<&mut Doc> {
        if !self.docs.contains_key(rel) {
            if self.unparsed.contains(rel) {
                self.manual.steps.insert(format!(
                    "{rel}: has syntax errors, so aiguard did not edit it (fix them, then run aiguard fix again)"
                ));
                return None;
            }
            let abs = self.root.join(rel);
            if std::fs::symlink_metadata(&abs).is_ok_and(|m| m.file_type().is_symlink()) {
                self.manual
                    .steps
                    .insert(format!("{rel}: a symlink, so aiguard did not edit it"));
                return None;
            }
            let doc = match std::fs::read(&abs) {
                Ok(bytes) => match Doc::from_bytes(rel, bytes) {
                    Some(doc) => doc,
                    None => {
                        self.manual
                            .steps
                            .insert(format!("{rel}: not UTF-8 text, so aiguard did not edit it"));
                        return None;
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Doc::new_file(rel),
                Err(e) => {
                    self.manual.steps.insert(format!(
                        "{rel}: could not read it ({e}), so aiguard did not edit it"
                    ));
                    return None;
                }
            };
            self.docs.insert(rel.to_string(), doc);
        }
        self.docs.get_mut(rel)
    }

    /// Does `rel` exist, on disk or as a planned new file with content?
    pub fn exists(&self, rel: &str) -> bool {
        self.docs.get(rel).is_some_and(|d| d.is_changed()) || self.root.join(rel).is_file()
    }

    /// Is `rel` a folder on disk?
    pub fn root_has_dir(&self, rel: &str) -> bool {
        self.root.join(rel).is_dir()
    }

    pub fn change(&mut self, path: &str, rule: &str, what: impl Into<String>) {
        self.changes.insert(Change {
            path: path.to_string(),
            rule: rule.to_string(),
            what: what.into(),
        });
    }

    /// The files the plan edits or creates.
    pub fn changed_docs(&self) -> impl Iterator<Item = &Doc> {
        self.docs.values().filter(|d| d.is_changed())
    }

    /// Nothing to write and nothing to untrack.
    pub fn is_empty(&self) -> bool {
        self.changed_docs().next().is_none() && self.untrack.is_empty()
    }
}

/// `aiguard fix [PATH]`.
pub fn run(args: &FixArgs, stdout: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let mut audit_args = AuditArgs::defaults(args.path.clone());
    audit_args.config = args.config.clone();
    let (settings, catalog) = crate::commands::load(&audit_args)?;
    let known: BTreeSet<String> = catalog.known_ids().into_iter().collect();
    for id in args.select.iter().chain(&args.ignore) {
        if !known.contains(id.trim()) {
            anyhow::bail!(
                "unknown check `{id}`: not a check or rule id (`aiguard rules` lists them)"
            );
        }
    }
    let templates = FixTemplates::load()?;
    let limits = Limits {
        per_minute: args
            .per_minute
            .or(settings.fix.per_minute)
            .unwrap_or(templates.limits.per_minute),
        per_day: args
            .per_day
            .or(settings.fix.per_day)
            .unwrap_or(templates.limits.per_day),
    };
    if limits.per_minute == 0 || limits.per_day == 0 {
        anyhow::bail!("[fix] per-minute and per-day must be at least 1");
    }
    let wanted = |f: &Finding| {
        let names = |list: &[String]| {
            list.iter()
                .any(|id| id.trim() == f.check.as_str() || id.trim() == f.rule)
        };
        (args.select.is_empty() || names(&args.select)) && !names(&args.ignore)
    };
    let plan = plan_fixes(&settings, &catalog, &templates, limits, &wanted)?;
    let root = settings.root.clone();

    if args.diff {
        for doc in plan.changed_docs() {
            write!(stdout, "{}", doc.unified_diff())?;
        }
        for path in &plan.untrack {
            writeln!(stdout, "git rm --cached {path}")?;
        }
        return Ok(match plan.is_empty() {
            true => ExitStatus::Clean,
            false => ExitStatus::Findings,
        });
    }
    if !plan.is_empty() && !args.allow_dirty {
        refuse_dirty(&root, &plan)?;
    }
    let mut failed = Vec::new();
    for doc in plan.changed_docs() {
        if let Err(e) = doc.write(&root) {
            failed.push(e);
        }
    }
    for path in &plan.untrack {
        if let Err(e) = crate::git::Git::open(&root).run(&["rm", "--cached", "-q", "--", path]) {
            failed.push(format!("{path}: {e}"));
        }
    }
    let after = crate::app::audit(&settings, &catalog)?;
    print_outcome(&plan, &after, &failed, stdout)?;
    Ok(match failed.is_empty() {
        true => ExitStatus::Clean,
        false => ExitStatus::Error,
    })
}

/// Audit `settings.root` once and plan the fixes of the findings `wanted`
/// picks (`--select`/`--ignore`), writing nothing: what `aiguard fix` does
/// before `--diff` or writing. Public for the `fix_plan` fuzz target.
pub fn plan_fixes(
    settings: &crate::config::Settings,
    catalog: &crate::catalog::Catalog,
    templates: &FixTemplates,
    limits: Limits,
    wanted: &dyn Fn(&Finding) -> bool,
) -> anyhow::Result<Plan> {
    let (report, facts, inventory) = crate::app::audit_with_facts(settings, catalog)?;
    // Every place, before places of one problem were merged into one
    // finding: each place is its own edit.
    let gaps = report.places.iter().filter(|f| {
        matches!(
            f.rule.as_str(),
            "env-gitignore-gap" | "env-not-ignored" | "env-tracked"
        )
    });
    let dotenv_ignored = gaps.clone().all(wanted);
    let ctx = Ctx {
        root: &settings.root,
        facts: &facts,
        inventory: &inventory,
        templates,
        catalog,
        limits,
        dotenv_ignored,
    };
    let findings: Vec<&Finding> = report.places.iter().filter(|f| wanted(f)).collect();
    Ok(plan(&ctx, &findings))
}

/// Refuse when a file the fix edits has uncommitted changes (or the tree
/// is not in git), as `cargo fix` does.
fn refuse_dirty(root: &Path, plan: &Plan) -> anyhow::Result<()> {
    let status = crate::git::Git::open(root).run(&["status", "--porcelain", "-z", "--untracked-files=all", "--", "."])
        .map_err(|e| {
            anyhow::anyhow!("{e}: aiguard fix edits files only in a git repository, where they can be reviewed and undone; pass --allow-dirty to fix anyway")
        })?;
    let prefix = crate::git::Git::open(root)
        .run(&["rev-parse", "--show-prefix"])
        .unwrap_or_default();
    let prefix = String::from_utf8_lossy(&prefix).trim().to_string();
    let dirty: BTreeSet<String> = status
        .split(|b| *b == 0)
        .filter(|e| e.len() > 3)
        .map(|e| String::from_utf8_lossy(&e[3..]).into_owned())
        .filter_map(|p| p.strip_prefix(&prefix).map(str::to_string))
        .collect();
    let touched: Vec<&str> = plan
        .changed_docs()
        .map(|d| d.path.as_str())
        .filter(|p| dirty.contains(*p))
        .collect();
    if !touched.is_empty() {
        anyhow::bail!(
            "these files have uncommitted changes: {}; commit or stash them, or pass --allow-dirty",
            touched.join(", ")
        );
    }
    Ok(())
}

fn plan(ctx: &Ctx, findings: &[&Finding]) -> Plan {
    let mut plan = Plan::new(ctx.root);
    plan.unparsed = ctx
        .facts
        .files()
        .iter()
        .filter(|f| f.has_errors)
        .map(|f| f.path.clone())
        .collect();
    // Order matters only for readability of the output: each fixer edits
    // original lines, so fixes never shift each other.
    for f in findings {
        match f.check {
            CheckId::EnvGitignore => gitignore::fix(ctx, &mut plan, f, findings),
            CheckId::RateLimit if f.rule == "slowapi-decorator-order" => {
                if !fastapi::fix_order(ctx, &mut plan, f) {
                    manual(ctx, &mut plan, f)
                }
            }
            CheckId::RateLimit => rate_limit(ctx, &mut plan, f),
            CheckId::Cors => cors::fix(ctx, &mut plan, f),
            CheckId::KeysInCode => keys::fix(ctx, &mut plan, f),
            CheckId::KeysInClient if f.rule == "public-env-secret" => {
                keys::fix_public(ctx, &mut plan, f, findings)
            }
            CheckId::Quota => quota::fix(ctx, &mut plan, f),
            _ => manual(ctx, &mut plan, f),
        }
    }
    plan
}

/// The endpoint a rate-limit finding is about, and dispatch by framework.
fn rate_limit(ctx: &Ctx, plan: &mut Plan, f: &Finding) {
    use crate::inventory::Framework;
    let line = f.span.map_or(0, |s| s.line);
    let endpoint = ctx.inventory.endpoints.iter().find(|e| {
        ctx.facts.file(e.file).path == f.path
            && (e.line == line
                || e.handler.is_some_and(|h| {
                    let function = ctx.facts.function(h);
                    (function.line..=function.end_line).contains(&line)
                        || function.decorators.iter().any(|d| d.line == line)
                }))
    });
    if let Some(e) = endpoint {
        if let Some(other) = other_library(ctx, plan, e) {
            let place = format!("{}:{line}", f.path);
            plan.manual.steps.insert(format!(
                "{place} {}: the project limits with {other}; apply that limiter to {} {} too (aiguard adds no second rate-limit library)",
                f.rule, e.method, e.path
            ));
            return;
        }
    }
    let fixed = match endpoint {
        Some(e) => match e.framework {
            Framework::FastApi => fastapi::fix(ctx, plan, f, e),
            Framework::Flask => flask::fix(ctx, plan, f, e),
            Framework::Django => django::fix(ctx, plan, f, e),
            Framework::Express | Framework::Hono => express::fix(ctx, plan, f, e),
            Framework::Fastify => fastify::fix(ctx, plan, f, e),
            Framework::NextApp | Framework::NextPages | Framework::ServerAction => {
                next::fix(ctx, plan, f, e)
            }
            // Frameworks the engine may add before their fix exists.
            #[allow(unreachable_patterns)]
            _ => false,
        },
        None => fastapi::fix_misuse(ctx, plan, f),
    };
    if !fixed {
        manual(ctx, plan, f);
    }
}

/// The project's own limiter library, when the endpoint's app limits with
/// one and not with the library its fix would add: `kind (file:line)`.
/// Hand-written counters do not count (the audit says they do not hold).
fn other_library(ctx: &Ctx, plan: &Plan, e: &crate::inventory::Endpoint) -> Option<String> {
    use crate::inventory::Framework;
    let ours = match e.framework {
        Framework::FastApi => "slowapi",
        Framework::Flask => "flask_limiter",
        Framework::Express => "express-rate-limit",
        Framework::Hono => "hono-rate-limiter",
        Framework::Fastify => "@fastify/rate-limit",
        _ => "@upstash/ratelimit",
    };
    let app = app_dir(plan, &ctx.facts.file(e.file).path);
    let mine: Vec<_> = ctx
        .inventory
        .limiters
        .iter()
        .filter(|l| !l.kind.contains(' '))
        .filter(|l| app_dir(plan, &ctx.facts.file(l.file).path) == app)
        .collect();
    if mine.is_empty() || mine.iter().any(|l| l.kind.starts_with(ours)) {
        return None;
    }
    let l = mine[0];
    Some(format!(
        "{} ({}:{})",
        l.kind,
        ctx.facts.file(l.file).path,
        l.line
    ))
}

/// A finding with no automatic fix: its fix text becomes a manual step.
pub fn manual(ctx: &Ctx, plan: &mut Plan, f: &Finding) {
    let text = ctx
        .templates
        .manual
        .get(&f.rule)
        .or_else(|| ctx.templates.manual.get(f.check.as_str()))
        .cloned()
        .or_else(|| f.fix.clone())
        .unwrap_or_else(|| f.message.clone());
    let place = match f.span {
        Some(s) => format!("{}:{}", f.path, s.line),
        None => f.path.clone(),
    };
    let place = if place.is_empty() {
        "project".to_string()
    } else {
        place
    };
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    plan.manual
        .steps
        .insert(format!("{place} {}: {text}", f.rule));
}

fn print_outcome(
    plan: &Plan,
    after: &crate::report::Report,
    failed: &[String],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if plan.changes.is_empty() && plan.untrack.is_empty() {
        writeln!(out, "Nothing to fix automatically.")?;
    } else {
        writeln!(out, "Fixed:")?;
        for c in &plan.changes {
            writeln!(out, "  {}  {}  {}", c.path, c.rule, c.what)?;
        }
        for path in &plan.untrack {
            writeln!(
                out,
                "  {path}  env-tracked  untracked (git rm --cached; the file stays on disk)"
            )?;
        }
    }
    for e in failed {
        writeln!(out, "  not written: {e}")?;
    }
    writeln!(out, "\nChecklist after the fix:")?;
    for item in &after.checklist {
        let status = match item.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::NotApplicable => "N/A",
            Status::Manual => "MANUAL",
            _ => "SKIPPED",
        };
        writeln!(out, "  {status:<8} {}", item.title)?;
    }
    let m = &plan.manual;
    if m.env.is_empty() && m.deps.is_empty() && m.rotate.is_empty() && m.steps.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nStill to do by hand:")?;
    if !m.deps.is_empty() {
        writeln!(out, "  Install the added dependencies:")?;
        for d in &m.deps {
            writeln!(out, "    {d}")?;
        }
    }
    if !m.env.is_empty() {
        writeln!(
            out,
            "  Set these environment variables (in production too):"
        )?;
        for (name, what) in &m.env {
            writeln!(out, "    {name}  {what}")?;
        }
    }
    if !m.rotate.is_empty() {
        writeln!(out, "  Rotate these keys (they were committed: revoke them at the provider, issue new ones):")?;
        for r in &m.rotate {
            writeln!(out, "    {r}")?;
        }
    }
    if !m.steps.is_empty() {
        writeln!(out, "  No automatic fix:")?;
        for s in &m.steps {
            writeln!(out, "    {s}")?;
        }
    }
    Ok(())
}

/// The facts of `rel`: the audit's, or, for a file the audit did not need
/// to parse (facts are extracted only for files with a role), parsed now.
pub fn file_facts<'a>(ctx: &'a Ctx, rel: &str) -> Option<std::borrow::Cow<'a, FileFacts>> {
    if let Some(fi) = ctx.facts.index_of(rel) {
        return Some(std::borrow::Cow::Borrowed(ctx.facts.file(fi)));
    }
    let lang = crate::lang::Lang::from_path(Path::new(rel))?;
    let bytes = std::fs::read(ctx.root.join(rel)).ok()?;
    let facts = FileFacts::parse(&mut crate::lang::Parsers::default(), rel, lang, &bytes)?;
    Some(std::borrow::Cow::Owned(facts))
}

/// The folder of the app a file belongs to: the nearest ancestor (within
/// the root) holding a package manifest, else the root. `""` is the root.
pub fn app_dir(plan: &Plan, rel: &str) -> String {
    let mut dir = parent(rel);
    loop {
        for manifest in ["package.json", "requirements.txt", "pyproject.toml"] {
            if plan.exists(&join(&dir, manifest)) {
                return dir;
            }
        }
        if dir.is_empty() {
            return dir;
        }
        dir = parent(&dir);
    }
}

pub fn parent(rel: &str) -> String {
    rel.rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default()
}

pub fn join(dir: &str, name: &str) -> String {
    match dir.is_empty() {
        true => name.to_string(),
        false => format!("{dir}/{name}"),
    }
}

/// Add `NAME=value` to the `.env.example` of `dir` unless it names it.
pub fn env_example(plan: &mut Plan, dir: &str, name: &str, value: &str, rule: &str) {
    let path = join(dir, ".env.example");
    let Some(doc) = plan.doc(&path) else { return };
    let named = doc.lines().iter().any(|l| {
        l.trim_start()
            .trim_start_matches("export ")
            .starts_with(&format!("{name}="))
    }) || doc.contains(&format!("{name}="));
    if !named {
        doc.append([format!("{name}={value}")]);
        plan.change(&path, rule, format!("added {name}"));
    }
}
