//! `aiguard completions SHELL` and `aiguard man [SUBCOMMAND]`: generated
//! from the clap definition in `cli.rs` by clap's own crates, so they cannot
//! drift from the options. Printed at run time rather than built into files:
//! a package (wheel, npm, distro) or a user writes them where the platform
//! looks, e.g. `aiguard completions bash > ~/.local/share/bash-completion/completions/aiguard`
//! and `aiguard man > ~/.local/share/man/man1/aiguard.1`.

use clap::CommandFactory;
use std::io::Write;

use crate::cli::Cli;
use crate::ExitStatus;

pub fn completions(
    shell: clap_complete::Shell,
    stdout: &mut dyn Write,
) -> anyhow::Result<ExitStatus> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "aiguard", stdout);
    Ok(ExitStatus::Clean)
}

/// aiguard(1), or aiguard-SUBCOMMAND(1) with the subcommand's options.
pub fn man(subcommand: Option<&str>, stdout: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let command = Cli::command();
    let page = match subcommand {
        None => command,
        Some(name) => {
            let Some(sub) = command.find_subcommand(name) else {
                let names: Vec<&str> = command
                    .get_subcommands()
                    .map(|s| s.get_name())
                    .filter(|n| *n != "help")
                    .collect();
                anyhow::bail!("no subcommand `{name}` (one of: {})", names.join(", "));
            };
            // clap names are `&'static str`; one page per process.
            let page_name: &'static str = Box::leak(format!("aiguard-{name}").into_boxed_str());
            sub.clone()
                .name(page_name)
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    clap_mangen::Man::new(page).render(stdout)?;
    Ok(ExitStatus::Clean)
}
