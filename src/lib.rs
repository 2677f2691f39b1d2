//! aiguard: audit a project against the security checklist for paid AI APIs.
//!
//! The binary is a thin wrapper over [`run`], which tests call in-process.
//! Flow: `cli` → `config` → `app` (walk → facts → checks → checklist) →
//! `report`.

pub mod app;
pub mod baseline;
pub mod cache;
pub mod catalog;
pub mod checklist;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
pub mod error;
pub mod facts;
pub mod fake;
pub mod findings;
pub mod fix;
pub mod git;
pub mod gitignore;
pub mod graph;
pub mod history;
pub mod inventory;
pub mod lang;
pub mod lex;
pub mod paths;
pub mod report;
pub mod source;
pub mod staged;
pub mod suppress;
pub mod walk;

use clap::Parser;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};

use cli::{AuditArgs, Cli, ColorChoice, Command, FailOn, Format, InventoryArgs, InventoryFormat};
use findings::Severity;

/// The process exit status: 0 clean, 1 findings at or above `--fail-on`,
/// 2 usage or configuration error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Clean,
    Findings,
    Error,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Clean => 0,
            ExitStatus::Findings => 1,
            ExitStatus::Error => 2,
        }
    }
}

/// Run aiguard with `args` (including the program name).
pub fn run(args: Vec<OsString>, stdout: &mut dyn Write, stderr: &mut dyn Write) -> ExitStatus {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // Help and version are answers, not errors: once, on stdout.
        Err(e) => {
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    let _ = write!(stdout, "{}", e.render());
                    ExitStatus::Clean
                }
                _ => {
                    let _ = write!(stderr, "{}", e.render());
                    ExitStatus::Error
                }
            };
        }
    };
    let result = match cli.command {
        Command::Audit(args) => audit(&args, stdout, stderr),
        Command::Inventory(args) => inventory(&args, stdout),
        Command::Baseline(args) => commands::baseline(&args, stdout),
        Command::Rules => commands::rules(stdout),
        Command::Explain(args) => commands::explain(&args, stdout),
        Command::Init(args) => commands::init(&args, stdout),
        Command::InstallHook(args) => commands::install_hook(&args, stdout),
        Command::Fix(args) => fix::run(&args, stdout),
        Command::Completions(args) => commands::completions(args.shell, stdout),
        Command::Man(args) => commands::man(args.subcommand.as_deref(), stdout),
    };
    match result {
        Ok(status) => status,
        // A closed pipe (`aiguard rules | head`) is not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitStatus::Clean
        }
        Err(e) => {
            let _ = writeln!(stderr, "aiguard: error: {e:#}");
            ExitStatus::Error
        }
    }
}

fn audit(
    args: &AuditArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let (all, catalog) = commands::load_all(args)?;
    let reports = commands::audit_all(&all, &catalog)?;
    // Each root under its own fail-on; the worst decides.
    let status = all
        .iter()
        .zip(&reports)
        .map(|(settings, report)| {
            let worst = report.findings.iter().map(|f| f.severity).max();
            match (settings.fail_on, worst) {
                (FailOn::Never, _) | (_, None) => ExitStatus::Clean,
                (FailOn::Warning, Some(_)) | (FailOn::Error, Some(Severity::Error)) => {
                    ExitStatus::Findings
                }
                (FailOn::Error, Some(Severity::Warning)) => ExitStatus::Clean,
            }
        })
        .max_by_key(|s| s.code())
        .unwrap_or(ExitStatus::Clean);
    let settings = &all[0];
    let report = report::Report::merge(reports);
    if args.stats {
        let _ = write!(stderr, "{}", report.stats.render());
    }
    let mut file;
    let out: &mut dyn Write = match &args.output {
        Some(path) => {
            file = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            );
            &mut file
        }
        None => stdout,
    };
    if args.format != Format::Text {
        // Machine formats keep stdout parseable: notes go to stderr.
        for n in report
            .notes
            .iter()
            .filter(|n| n.kind != findings::NoteKind::Binary)
        {
            let _ = writeln!(
                stderr,
                "aiguard: note: {}{}",
                if n.path.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", n.path)
                },
                n.message
            );
        }
    }
    let written = match args.format {
        Format::Text => {
            let color = match args.color {
                ColorChoice::Always => true,
                ColorChoice::Never => false,
                ColorChoice::Auto => {
                    args.output.is_none()
                        && std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            };
            let fail_on = match settings.fail_on {
                FailOn::Error => "error",
                FailOn::Warning => "warning",
                FailOn::Never => "never",
            };
            report::text::write(
                &report,
                &report::text::TextOptions {
                    color,
                    exit_code: status.code(),
                    fail_on,
                    all: args.all,
                },
                out,
            )
        }
        Format::Json => report::json::write(&report, out),
        Format::Sarif => report::sarif::write(&report, &catalog, out),
        Format::Github => report::github::write(&report, &catalog, out),
        Format::Junit => report::junit::write(&report, out),
        Format::Gitlab => report::gitlab::write(&report, out),
    };
    match written.and_then(|_| out.flush()) {
        Ok(()) => Ok(status),
        // A closed pipe (`aiguard audit | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(status),
        Err(e) => Err(anyhow::anyhow!("writing the report: {e}")),
    }
}

/// `aiguard inventory`: the endpoint inventory, as text or JSON.
fn inventory(args: &InventoryArgs, stdout: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let mut audit_args = AuditArgs::defaults(".".into());
    audit_args.paths = args.paths.clone();
    audit_args.config = args.config.clone();
    audit_args.threads = args.threads;
    audit_args.no_cache = args.no_cache;
    let (all, catalog) = commands::load_all(&audit_args)?;
    let report = report::Report::merge(commands::audit_all(&all, &catalog)?);
    let written = match args.format {
        InventoryFormat::Json => serde_json::to_writer_pretty(&mut *stdout, &report.inventory)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(stdout)),
        InventoryFormat::Text => report::inventory::write(&report.inventory, stdout),
    };
    match written {
        Ok(()) => Ok(ExitStatus::Clean),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitStatus::Clean),
        Err(e) => Err(anyhow::anyhow!("writing the inventory: {e}")),
    }
}
