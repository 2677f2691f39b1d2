//! Command-line arguments (clap derive). Validation that needs more than
//! clap (config files, check names) happens in `config`.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "aiguard",
    version,
    about = "Audit a project against the security checklist for paid AI APIs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the checklist for a project and exit 1 if it fails.
    Audit(AuditArgs),
    /// List every endpoint, the AI call it reaches (and how), its rate limits, auth and quota
    /// evidence, and the project's per-user usage tracking (text, or JSON objects).
    Inventory(InventoryArgs),
    /// Record the current findings, so later audits with --baseline report only new ones.
    Baseline(BaselineArgs),
    /// List the checks and their rules.
    Rules,
    /// Explain a check or rule: why it matters, bad and good code, the fix.
    Explain(ExplainArgs),
    /// Write a commented aiguard.toml and print pre-commit and CI snippets.
    Init(InitArgs),
    /// Write .git/hooks/pre-commit: run `aiguard audit --staged` before each commit.
    InstallHook(InstallHookArgs),
    /// Apply the fixes: rate limits, CORS origins, .gitignore lines, keys to the environment.
    Fix(FixArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Print a man page (roff): `aiguard man > aiguard.1`, `aiguard man audit > aiguard-audit.1`.
    Man(ManArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The checklist, for people.
    Text,
    /// The JSON contract of CHECKS.md.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions annotations (workflow commands).
    Github,
    /// JUnit XML: one test case per checklist item.
    Junit,
    /// GitLab Code Quality JSON.
    Gitlab,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The projects to audit; several give one report, each file named from
    /// the current directory (`apps/web/app.py`).
    #[arg(default_value = ".", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity [default: error, or the config's].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Config file [default: aiguard.toml, or [tool.aiguard] in pyproject.toml, at PATH].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run only these checks or rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "CHECK,...")]
    pub select: Vec<String>,
    /// Skip these checks or rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "CHECK,...")]
    pub ignore: Vec<String>,
    /// Colour in the text report (NO_COLOR is honoured by auto).
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// Worker threads [default: the number of cores].
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Print what the engine did on stderr: files walked, scanned for keys,
    /// summarized and parsed (with bytes), and the time of each phase.
    #[arg(long)]
    pub stats: bool,
    /// Parse every file again: neither read nor write the facts cache (in
    /// the user's cache folder; AIGUARD_NO_CACHE=1 does the same,
    /// AIGUARD_CACHE_DIR moves it).
    #[arg(long)]
    pub no_cache: bool,
    /// Hide the findings recorded in FILE (made by `aiguard baseline`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Do not report suppression comments that lack a reason or suppress nothing.
    #[arg(long)]
    pub no_suppression_warnings: bool,
    /// Audit what is staged in git (the index), for pre-commit hooks.
    #[arg(long, conflicts_with = "history")]
    pub staged: bool,
    /// Also scan every commit reachable from HEAD for keys (key-history).
    #[arg(long)]
    pub history: bool,
    /// With --history: only the commits after REV (REV..HEAD).
    #[arg(long, value_name = "REV", requires = "history")]
    pub since: Option<String>,
    /// Text report: list every finding (by default a check lists its first 20).
    #[arg(long)]
    pub all: bool,
}

impl AuditArgs {
    /// An audit of `path` with every option at its default.
    pub fn defaults(path: PathBuf) -> AuditArgs {
        AuditArgs {
            paths: vec![path],
            format: Format::Text,
            output: None,
            fail_on: None,
            config: None,
            select: Vec::new(),
            ignore: Vec::new(),
            color: ColorChoice::Auto,
            threads: None,
            stats: false,
            no_cache: false,
            baseline: None,
            no_suppression_warnings: false,
            staged: false,
            history: false,
            since: None,
            all: false,
        }
    }
}

/// `aiguard inventory`: only the options that change it; the others of
/// `audit` (`--staged`, `--format sarif`, `--baseline`, …) are usage errors
/// here, never silently ignored.
#[derive(Debug, clap::Args)]
pub struct InventoryArgs {
    /// The projects to list (several: as `audit` names their files).
    #[arg(default_value = ".", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// text: one block per endpoint; json: AI calls, limits, auth and usage
    /// evidence as objects (kind, path, line, detail).
    #[arg(long, value_enum, default_value = "text")]
    pub format: InventoryFormat,
    /// Config file [default: aiguard.toml, or [tool.aiguard] in pyproject.toml, at PATH].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Worker threads [default: the number of cores].
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Parse every file again: neither read nor write the facts cache.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InventoryFormat {
    /// One block per endpoint, for people.
    Text,
    /// The inventory as JSON objects.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    /// The projects to audit (several: as `audit` names their files).
    #[arg(default_value = ".", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Where to write the baseline (JSON).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
    /// Config file [default: aiguard.toml, or [tool.aiguard] in pyproject.toml, at PATH].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Worker threads [default: the number of cores].
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Also record keys found in git history (key-history), for `audit --history --baseline`.
    #[arg(long)]
    pub history: bool,
    /// Parse every file again: neither read nor write the facts cache.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A check id (`cors`) or a rule id (`openai-project-key`).
    #[arg(value_name = "RULE_OR_CHECK")]
    pub id: String,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Where to write aiguard.toml.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite an existing aiguard.toml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct InstallHookArgs {
    /// A directory inside the git repository.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Replace an existing pre-commit hook.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The subcommand's page (aiguard-SUBCOMMAND(1)) instead of aiguard(1).
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct FixArgs {
    /// The project to fix.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Write nothing: print a unified diff, exit 1 when there is something to fix.
    #[arg(long)]
    pub diff: bool,
    /// Fix only these checks or rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "CHECK,...")]
    pub select: Vec<String>,
    /// Do not fix these checks or rules (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "CHECK,...")]
    pub ignore: Vec<String>,
    /// Also edit files with uncommitted changes (or outside a git repository).
    #[arg(long)]
    pub allow_dirty: bool,
    /// Requests per minute per client on each AI route [default: 5, or [fix] per-minute].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub per_minute: Option<u64>,
    /// Requests per day per client on each AI route [default: 50, or [fix] per-day].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub per_day: Option<u64>,
    /// Config file [default: aiguard.toml, or [tool.aiguard] in pyproject.toml, at PATH].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}
