//! The subcommands besides `audit`: `baseline`, `rules`, `explain`, `init`,
//! `install-hook`, `completions`, `man`, and the settings + catalogue loading they share with `audit`.
//!
//! `rules` and `explain` read only the built-in catalogue (not a project's
//! `key-rules`); every text they print comes from `rules/checks.toml` and
//! `rules/keys.toml`. `init` writes the template beside this file.

mod explain;
mod init;
mod install_hook;
mod shell;

use anyhow::Context;
use std::io::Write;
use std::path::Path;

use crate::catalog::Catalog;
use crate::cli::{AuditArgs, BaselineArgs};
use crate::config::Settings;
use crate::ExitStatus;

pub use explain::{explain, rules};
pub use init::{init, CONFIG_TEMPLATE};
pub use install_hook::install_hook;
pub use shell::{completions, man};

/// Settings and the catalogue they extend (users' key rules), with every
/// id the settings name checked against it.
pub fn load(args: &AuditArgs) -> anyhow::Result<(Settings, Catalog)> {
    let mut settings = Settings::from_args(args)?;
    let extra: Vec<&Path> = settings.key_rules.iter().map(|p| p.as_path()).collect();
    let catalog = Catalog::load(&extra)?;
    settings.resolve(&catalog)?;
    Ok((settings, catalog))
}

/// `aiguard baseline [PATH] -o FILE`: audit, then record every finding.
pub fn baseline(args: &BaselineArgs, stdout: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let mut audit_args = AuditArgs::defaults(args.path.clone());
    audit_args.config = args.config.clone();
    audit_args.threads = args.threads;
    audit_args.history = args.history;
    let (settings, catalog) = load(&audit_args)?;
    let report = crate::app::audit(&settings, &catalog)?;
    let file = std::fs::File::create(&args.output)
        .with_context(|| format!("{}: cannot write the baseline", args.output.display()))?;
    let mut out = std::io::BufWriter::new(file);
    crate::baseline::write(&report.places, &mut out)
        .and_then(|_| out.flush())
        .with_context(|| format!("{}: writing the baseline", args.output.display()))?;
    let n = report.places.len();
    let _ = writeln!(
        stdout,
        "recorded {n} finding{} in {}; `aiguard audit --baseline {}` reports only new ones",
        if n == 1 { "" } else { "s" },
        args.output.display(),
        args.output.display()
    );
    Ok(ExitStatus::Clean)
}

/// `text` wrapped at `width` columns, each line indented by `indent`;
/// existing line breaks are kept.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    for paragraph in text.trim().lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
                out.push_str(&format!("{indent}{line}\n"));
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&format!("{indent}{line}\n"));
    }
    out
}

/// Each line of `code` indented, blank lines kept empty.
fn indent(code: &str, indent: &str) -> String {
    code.trim_matches('\n')
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("{indent}{l}\n")
            }
        })
        .collect()
}
