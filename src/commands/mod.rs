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
use std::path::{Path, PathBuf};

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

/// [`load`] for every root `args` names. Each root is its own project (its
/// own config, `.gitignore` files and repository); with several, each one's
/// reported paths start with the root as given (`apps/web/app.py`), so
/// findings stay apart and their fingerprints do not depend on the other
/// roots. Roots that are the same folder or nest are a usage error (their
/// files would be reported twice). One catalogue holds every root's key
/// rules: one report, one rule set.
pub fn load_all(args: &AuditArgs) -> anyhow::Result<(Vec<Settings>, Catalog)> {
    if args.paths.len() <= 1 {
        let (settings, catalog) = load(args)?;
        return Ok((vec![settings], catalog));
    }
    let mut all = Vec::new();
    for path in &args.paths {
        let mut settings = Settings::from_args_at(args, path.clone())?;
        settings.prefix = prefix_of(path);
        all.push(settings);
    }
    let canonical: Vec<PathBuf> = all
        .iter()
        .map(|s| std::fs::canonicalize(&s.root).unwrap_or_else(|_| s.root.clone()))
        .collect();
    for (i, a) in canonical.iter().enumerate() {
        for (j, b) in canonical.iter().enumerate().skip(i + 1) {
            if a.starts_with(b) || b.starts_with(a) {
                anyhow::bail!(crate::config::ConfigError::Usage(format!(
                    "{} and {} overlap: name each folder once, and no folder inside another",
                    args.paths[i].display(),
                    args.paths[j].display()
                )));
            }
        }
    }
    let mut extra: Vec<PathBuf> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for path in all.iter().flat_map(|s| &s.key_rules) {
        if seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())) {
            extra.push(path.clone());
        }
    }
    let extra: Vec<&Path> = extra.iter().map(PathBuf::as_path).collect();
    let catalog = Catalog::load(&extra)?;
    for settings in &mut all {
        settings.resolve(&catalog)?;
    }
    Ok((all, catalog))
}

/// A root as the user gave it, as a path prefix: `./apps/web/` → `apps/web/`.
fn prefix_of(path: &Path) -> String {
    let text = path
        .to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, "/");
    let mut text = text.as_str();
    while let Some(rest) = text.strip_prefix("./") {
        text = rest.trim_start_matches('/');
    }
    let text = text.trim_end_matches('/');
    match text {
        "" | "." => String::new(),
        _ => format!("{text}/"),
    }
}

/// Audit every root of [`load_all`], each under its own settings.
pub fn audit_all(
    all: &[Settings],
    catalog: &Catalog,
) -> Result<Vec<crate::report::Report>, crate::config::ConfigError> {
    all.iter()
        .map(|settings| crate::app::audit(settings, catalog))
        .collect()
}

/// `aiguard baseline [PATH...] -o FILE`: audit, then record every finding.
pub fn baseline(args: &BaselineArgs, stdout: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let mut audit_args = AuditArgs::defaults(PathBuf::new());
    audit_args.paths = args.paths.clone();
    audit_args.config = args.config.clone();
    audit_args.no_cache = args.no_cache;
    audit_args.threads = args.threads;
    audit_args.history = args.history;
    let (all, catalog) = load_all(&audit_args)?;
    let report = crate::report::Report::merge(audit_all(&all, &catalog)?);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_as_prefixes() {
        for (path, prefix) in [
            ("apps/web", "apps/web/"),
            ("./apps/web/", "apps/web/"),
            (".//x", "x/"),
            (".", ""),
            ("../other", "../other/"),
        ] {
            assert_eq!(prefix_of(Path::new(path)), prefix, "{path}");
        }
    }
}
