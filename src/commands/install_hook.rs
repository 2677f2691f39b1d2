//! `aiguard install-hook`: write the repository's `pre-commit` hook, a small
//! sh script that runs `aiguard audit --staged`, for teams without the
//! pre-commit framework. The hooks folder is git's own answer
//! (`git rev-parse --git-path hooks/pre-commit`: worktrees and
//! `core.hooksPath` included). A hook aiguard did not write is never
//! replaced without `--force`.

use anyhow::{bail, Context};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::InstallHookArgs;
use crate::ExitStatus;

/// The line that marks a hook as aiguard's (replaced without `--force`).
const MARKER: &str = "# aiguard pre-commit hook";

pub fn install_hook(args: &InstallHookArgs, stdout: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let path = hook_path(&args.dir)?;
    let exe = std::env::current_exe().context("cannot tell where aiguard is installed")?;
    let script = script(&exe);
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing == script => {
            writeln!(stdout, "{} is already aiguard's hook", path.display())?;
            return Ok(ExitStatus::Clean);
        }
        Ok(existing) if !args.force && !existing.contains(MARKER) => bail!(
            "{} exists and was not written by aiguard: pass --force to replace it, or add `aiguard audit --staged` to it",
            path.display()
        ),
        _ => {}
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    std::fs::write(&path, &script).with_context(|| format!("{}: cannot write", path.display()))?;
    make_executable(&path)?;
    writeln!(
        stdout,
        "wrote {}: each commit now runs `aiguard audit --staged` (skip once with git commit --no-verify)",
        path.display()
    )?;
    Ok(ExitStatus::Clean)
}

/// `.git/hooks/pre-commit`, as git resolves it from `dir`.
fn hook_path(dir: &Path) -> anyhow::Result<PathBuf> {
    crate::git::Git::open(dir)
        .hook_path("pre-commit")
        .map_err(|e| anyhow::anyhow!("install-hook needs a git repository: {e}"))
}

/// The hook: `aiguard` from PATH, else the binary that installed it.
fn script(exe: &Path) -> String {
    let fallback = exe.display().to_string().replace('\'', r"'\''");
    format!(
        "#!/bin/sh\n\
         {MARKER} (written by `aiguard install-hook`).\n\
         # Audits what is staged; a finding at or above fail-on blocks the commit.\n\
         # Skip it once with `git commit --no-verify`.\n\
         if command -v aiguard >/dev/null 2>&1; then\n\
         \x20 exec aiguard audit --staged\n\
         fi\n\
         exec '{fallback}' audit --staged\n"
    )
}

#[cfg(unix)]
fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("{}: cannot make it executable", path.display()))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_quotes_the_fallback_path() {
        let s = script(Path::new("/opt/it's/aiguard"));
        assert!(s.starts_with("#!/bin/sh\n") && s.contains(MARKER));
        assert!(
            s.contains(r"exec '/opt/it'\''s/aiguard' audit --staged"),
            "{s}"
        );
    }
}
