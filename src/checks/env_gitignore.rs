//! env-gitignore: `.env` files must be ignored by git, and none committed.
//!
//! Reads: the walked paths, the project's gitignore model (git's own
//! semantics, see `gitignore.rs`) and git's index. Three rules:
//! - `env-gitignore-gap`: in the root or an app folder (one holding a
//!   `package.json`, `pyproject.toml`, …), a standard `.env` variant that
//!   git would not ignore, whether or not it exists yet;
//! - `env-not-ignored`: a `.env*` file present in the tree that git would
//!   not ignore (the next `git add .` commits it);
//! - `env-tracked`: a `.env*` file git already tracks, ignored now or not.
//!
//! Example files (`.env.example`, …) are meant to be committed.
//! Gap: a global excludes file is not read (it protects one machine only).

use std::collections::BTreeSet;

use super::{Check, CheckId, Coverage};
use crate::catalog::EnvSpec;
use crate::context::ProjectContext;
use crate::findings::{Finding, Severity};

pub struct EnvGitignore;

impl Check for EnvGitignore {
    fn id(&self) -> CheckId {
        CheckId::EnvGitignore
    }

    fn check_project(&self, project: &ProjectContext<'_>, out: &mut Vec<Finding>) -> Coverage {
        let env = &project.catalog.env;
        let ignored = |rel: &str| project.gitignore.is_ignored(&project.root.join(rel), false);
        for folder in collect_app_folders(project.paths, env) {
            let missing: Vec<&str> = env
                .variants
                .iter()
                .map(String::as_str)
                .filter(|v| !ignored(&join(&folder, v)))
                .collect();
            if !missing.is_empty() {
                out.push(gap_finding(project, &folder, &missing));
            }
        }
        for path in project.paths.iter().filter(|p| is_secret_env(env, p)) {
            if !ignored(path) && !project.git.is_tracked(path) {
                out.push(not_ignored_finding(path));
            }
        }
        if let Some(tracked) = &project.git.tracked {
            let tracked: BTreeSet<&String> = tracked
                .iter()
                .filter(|p| is_secret_env(env, p) && !project.is_excluded(p))
                .collect();
            for path in tracked {
                out.push(tracked_finding(path, ignored(path)));
            }
        }
        Coverage::Checked
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_secret_env(env: &EnvSpec, path: &str) -> bool {
    let name = file_name(path);
    EnvSpec::is_env_file(name) && !env.is_example(name)
}

fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    }
}

/// The root, and every folder holding an app marker file.
fn collect_app_folders(paths: &[String], env: &EnvSpec) -> BTreeSet<String> {
    let mut folders = BTreeSet::from([String::new()]);
    for path in paths {
        let name = file_name(path);
        if env.app_markers.iter().any(|m| m == name) {
            let folder = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            folders.insert(folder.to_string());
        }
    }
    folders
}

fn gap_finding(project: &ProjectContext<'_>, folder: &str, missing: &[&str]) -> Finding {
    let gitignore = join(folder, ".gitignore");
    let mut lines = Vec::new();
    if missing.contains(&".env") {
        lines.push(".env".to_string());
    }
    if missing.iter().any(|m| *m != ".env") {
        lines.push(".env.*".to_string());
        // `.env.*` would hide the examples meant to be committed.
        for example in &project.catalog.env.examples {
            if project.paths.iter().any(|p| *p == join(folder, example)) {
                lines.push(format!("!{example}"));
            }
        }
    }
    let place = if folder.is_empty() {
        "the project root".to_string()
    } else {
        format!("{folder}/")
    };
    Finding {
        check: CheckId::EnvGitignore,
        rule: "env-gitignore-gap".into(),
        severity: Severity::Error,
        path: gitignore.clone(),
        span: None,
        message: format!("git would not ignore {} in {place}", missing.join(", ")),
        evidence: None,
        fix: Some(format!(
            "Add these lines to {gitignore}:\n{}",
            lines.join("\n")
        )),
    }
}

fn not_ignored_finding(path: &str) -> Finding {
    let folder = path
        .rsplit_once('/')
        .map(|(d, _)| format!("{d}/"))
        .unwrap_or_default();
    Finding {
        check: CheckId::EnvGitignore,
        rule: "env-not-ignored".into(),
        severity: Severity::Error,
        path: path.to_string(),
        span: None,
        message: format!(
            "{} is not ignored by git: the next `git add .` commits it",
            file_name(path)
        ),
        evidence: None,
        fix: Some(format!("Add `{}` to {folder}.gitignore", file_name(path))),
    }
}

fn tracked_finding(path: &str, ignored_now: bool) -> Finding {
    let detail = if ignored_now {
        " (it is ignored now, but ignoring does not untrack it)"
    } else {
        ""
    };
    Finding {
        check: CheckId::EnvGitignore,
        rule: "env-tracked".into(),
        severity: Severity::Error,
        path: path.to_string(),
        span: None,
        message: format!("{} is committed to git{detail}", file_name(path)),
        evidence: None,
        fix: Some(format!(
            "git rm --cached {path}, commit, and rotate every key it held: they are in the history"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_env_names() {
        let env = EnvSpec {
            variants: vec![],
            examples: vec![".env.example".into()],
            app_markers: vec![],
        };
        assert!(is_secret_env(&env, "apps/web/.env.local") && is_secret_env(&env, ".env"));
        assert!(is_secret_env(&env, "prod.env"));
        assert!(!is_secret_env(&env, ".env.example") && !is_secret_env(&env, "x/.env.sample"));
        assert!(!is_secret_env(&env, ".envrc"));
    }

    #[test]
    fn app_folders_are_root_and_marker_folders() {
        let spec = EnvSpec {
            variants: vec![],
            examples: vec![],
            app_markers: vec!["package.json".into()],
        };
        let paths = vec![
            "apps/web/package.json".to_string(),
            "apps/web/src/package.json.bak".to_string(),
        ];
        let folders: Vec<String> = collect_app_folders(&paths, &spec).into_iter().collect();
        assert_eq!(folders, vec!["".to_string(), "apps/web".to_string()]);
    }
}
