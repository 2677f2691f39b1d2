//! `aiguard init`: write a commented `aiguard.toml` (never over an existing
//! one without `--force`) and print the pre-commit and GitHub Actions
//! snippets. The texts are files beside this one.

use anyhow::Context;
use std::io::Write;

use crate::cli::InitArgs;
use crate::ExitStatus;

/// The commented config `init` writes; a test keeps it valid.
pub const CONFIG_TEMPLATE: &str = include_str!("aiguard.toml");
const PRE_COMMIT: &str = include_str!("pre-commit.yaml");
const GITHUB_WORKFLOW: &str = include_str!("github-workflow.yml");

pub fn init(args: &InitArgs, stdout: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let path = args.dir.join("aiguard.toml");
    if path.exists() && !args.force {
        anyhow::bail!(
            "{} already exists; run `aiguard init --force` to overwrite it",
            path.display()
        );
    }
    std::fs::write(&path, CONFIG_TEMPLATE)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    let repository = env!("CARGO_PKG_REPOSITORY");
    writeln!(stdout, "wrote {}\n", path.display())?;
    writeln!(
        stdout,
        "To run aiguard before each commit, add this to .pre-commit-config.yaml:\n"
    )?;
    let version = env!("CARGO_PKG_VERSION");
    let fill = |text: &str| {
        text.replace("{repository}", repository)
            .replace("{version}", version)
    };
    writeln!(stdout, "{}", fill(PRE_COMMIT))?;
    writeln!(
        stdout,
        "To run it in GitHub Actions and see findings in code scanning, save this as\n.github/workflows/aiguard.yml:\n"
    )?;
    write!(stdout, "{}", fill(GITHUB_WORKFLOW))?;
    Ok(ExitStatus::Clean)
}
