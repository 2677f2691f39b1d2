//! env-gitignore: `.env` files must be ignored by git, and none committed.
//!
//! Reads: the walked paths, the project's gitignore model (git's own
//! semantics, see `gitignore.rs`) and git's index. Three rules:
//! - `env-gitignore-gap`: in the root or an app folder (one holding a
//!   `package.json`, `pyproject.toml`, …; tooling folders such as a lint
//!   rule package only when they read `.env` files), a standard `.env`
//!   variant that git would not ignore, whether or not it exists yet. One
//!   finding per missing rule (`.env`, `.env.*`), at the `.gitignore` whose
//!   fix covers every affected folder (the root's when it has one), listing
//!   the folders;
//! - `env-not-ignored`: a `.env*` file present in the tree that git would
//!   not ignore (the next `git add .` commits it);
//! - `env-tracked`: a `.env*` file git already tracks, ignored now or not.
//!
//! Example files (`.env.example`, `.example.env`, `.env.example.local`,
//! `.env.defaults`, …) are meant to be committed.
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
        let gitignores = collect_gitignores(project);
        let gaps: Vec<(String, Vec<&str>)> = collect_app_folders(project, env)
            .into_iter()
            .map(|folder| {
                let missing: Vec<&str> = env
                    .variants
                    .iter()
                    .map(String::as_str)
                    .filter(|v| !ignored(&join(&folder, v)))
                    .collect();
                (folder, missing)
            })
            .filter(|(_, missing)| !missing.is_empty())
            .collect();
        // The two rules a .gitignore needs: `.env`, and `.env.*` for the
        // rest; each goes where it covers every folder lacking it, and the
        // rules going to one .gitignore make one finding.
        let mut by_target: std::collections::BTreeMap<String, Vec<Missing>> = Default::default();
        for rule in [".env", ".env.*"] {
            let covered = |v: &&str| (*v == ".env") == (rule == ".env");
            let affected: Vec<(&str, Vec<&str>)> = gaps
                .iter()
                .map(|(f, m)| {
                    (
                        f.as_str(),
                        m.iter().copied().filter(covered).collect::<Vec<_>>(),
                    )
                })
                .filter(|(_, m)| !m.is_empty())
                .collect();
            if !affected.is_empty() {
                let folders: Vec<&str> = affected.iter().map(|(f, _)| *f).collect();
                let target = fix_folder(&gitignores, &folders);
                by_target.entry(target).or_default().push((rule, affected));
            }
        }
        for (target, missing) in &by_target {
            out.push(gap_finding(project, target, missing));
        }
        for path in project.paths.iter().filter(|p| is_secret_env(env, p)) {
            if !ignored(path) && !project.git.is_tracked(path) {
                out.push(not_ignored_finding(
                    path,
                    &nearest_gitignore(&gitignores, path),
                ));
            }
        }
        if let Some(tracked) = &project.git.tracked {
            let tracked: BTreeSet<&String> = tracked
                .iter()
                .filter(|p| is_secret_env(env, p) && !project.is_excluded(p))
                .collect();
            for path in tracked {
                let holds = holds_values(project, path);
                out.push(tracked_finding(path, ignored(path), holds));
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

/// The root, and every folder holding an app marker file, except tooling
/// folders that do not read `.env` files.
fn collect_app_folders(project: &ProjectContext<'_>, env: &EnvSpec) -> BTreeSet<String> {
    let mut folders = BTreeSet::from([String::new()]);
    for folder in collect_marker_folders(project.paths, env) {
        let name = file_name(&folder);
        if !env.is_tooling_folder(name) || reads_env_files(project, env, &folder) {
            folders.insert(folder);
        }
    }
    folders
}

/// Every folder holding an app marker file.
fn collect_marker_folders(paths: &[String], env: &EnvSpec) -> BTreeSet<String> {
    let mut folders = BTreeSet::new();
    for path in paths {
        let name = file_name(path);
        if env.app_markers.iter().any(|m| m == name) {
            let folder = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
            folders.insert(folder.to_string());
        }
    }
    folders
}

/// Does `folder` read `.env` files: hold one, depend on an env reader
/// (package.json), or import one?
fn reads_env_files(project: &ProjectContext<'_>, env: &EnvSpec, folder: &str) -> bool {
    let inside = |p: &str| p.starts_with(folder) && p[folder.len()..].starts_with('/');
    let is_reader = |module: &str| {
        env.env_readers.iter().any(|r| {
            module == r
                || module
                    .strip_prefix(r.as_str())
                    .is_some_and(|s| s.starts_with('/'))
        })
    };
    project
        .paths
        .iter()
        .any(|p| inside(p) && EnvSpec::is_env_file(file_name(p)))
        || project
            .packages
            .get(folder)
            .is_some_and(|deps| deps.iter().any(|d| is_reader(d)))
        || project
            .facts
            .files()
            .iter()
            .any(|f| inside(&f.path) && f.imports.iter().any(|i| is_reader(&i.module)))
}

/// Every `.gitignore` of the project: those the walk saw, those git tracks,
/// and the root's (a `.gitignore` listing itself is skipped by the walk).
fn collect_gitignores(project: &ProjectContext<'_>) -> Vec<String> {
    let mut found: Vec<String> = project
        .paths
        .iter()
        .chain(project.git.tracked.iter().flatten())
        .filter(|p| file_name(p) == ".gitignore")
        .cloned()
        .collect();
    if project.root.join(".gitignore").is_file() {
        found.push(".gitignore".into());
    }
    found.sort();
    found.dedup();
    found
}

/// Where a rule covering every affected folder goes: the shallowest
/// existing `.gitignore` among their common ancestors (the root's when it
/// has one), else the root's, to be created.
fn fix_folder(paths: &[String], affected: &[&str]) -> String {
    let common: Vec<&str> = affected
        .iter()
        .map(|f| f.split('/').filter(|p| !p.is_empty()).collect::<Vec<_>>())
        .reduce(|a, b| {
            a.iter()
                .zip(&b)
                .take_while(|(x, y)| x == y)
                .map(|(x, _)| *x)
                .collect()
        })
        .unwrap_or_default();
    (0..=common.len())
        .map(|n| common[..n].join("/"))
        .find(|folder| paths.iter().any(|p| *p == join(folder, ".gitignore")))
        .unwrap_or_default()
}

/// A missing rule (`.env`, `.env.*`) and the folders lacking it, with the
/// variants git would not ignore in each.
type Missing<'a> = (&'static str, Vec<(&'a str, Vec<&'a str>)>);

fn gap_finding(project: &ProjectContext<'_>, at: &str, missing: &[Missing<'_>]) -> Finding {
    let env = &project.catalog.env;
    let gitignore = join(at, ".gitignore");
    let mut folders: Vec<&str> = missing
        .iter()
        .flat_map(|(_, affected)| affected.iter().map(|(f, _)| *f))
        .collect();
    folders.sort();
    folders.dedup();
    let rules: Vec<&str> = missing.iter().map(|(r, _)| *r).collect();
    let mut lines: Vec<String> = rules.iter().map(|r| r.to_string()).collect();
    if rules.contains(&".env.*") {
        // `.env.*` would hide the examples meant to be committed.
        let mut examples: BTreeSet<&str> = BTreeSet::new();
        for path in project.paths {
            let (folder, name) = path.rsplit_once('/').unwrap_or(("", path));
            if folders.contains(&folder) && name.starts_with(".env.") && env.is_example(name) {
                examples.insert(name);
            }
        }
        lines.extend(examples.iter().map(|e| format!("!{e}")));
    }
    // Folders lacking the same variants are listed together.
    let mut by_variants: Vec<(Vec<&str>, Vec<String>)> = Vec::new();
    for folder in &folders {
        let variants: Vec<&str> = env
            .variants
            .iter()
            .map(String::as_str)
            .filter(|v| {
                missing
                    .iter()
                    .any(|(_, affected)| affected.iter().any(|(f, m)| f == folder && m.contains(v)))
            })
            .collect();
        let place = if folder.is_empty() {
            "the project root".to_string()
        } else {
            format!("{folder}/")
        };
        match by_variants.iter_mut().find(|(v, _)| *v == variants) {
            Some((_, places)) => places.push(place),
            None => by_variants.push((variants, vec![place])),
        }
    }
    let what: Vec<String> = by_variants
        .iter()
        .map(|(variants, places)| format!("{} in {}", variants.join(", "), list(places)))
        .collect();
    let exists = collect_gitignores(project).contains(&gitignore);
    let how = match (exists, lines.len()) {
        (true, 1) => format!("Add this line to {gitignore}"),
        (true, _) => format!("Add these lines to {gitignore}"),
        (false, _) => format!("Create {gitignore} with"),
    };
    let covers = if folders.iter().any(|f| *f != at) {
        " (a rule without a slash applies in every folder below it)"
    } else {
        ""
    };
    let quoted: Vec<String> = rules.iter().map(|r| format!("`{r}`")).collect();
    let lacks = if exists {
        format!("{gitignore} has no {} rule", quoted.join(" or "))
    } else {
        format!("there is no {gitignore}")
    };
    Finding {
        check: CheckId::EnvGitignore,
        rule: "env-gitignore-gap".into(),
        severity: Severity::Error,
        path: gitignore.clone(),
        span: None,
        message: format!("git would not ignore {}: {lacks}", what.join("; ")),
        evidence: None,
        fix: Some(format!("{how}{covers}:\n{}", lines.join("\n"))),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The `.gitignore` a rule for `path` goes into: the nearest existing one
/// in its folder or above, else the root's.
fn nearest_gitignore(paths: &[String], path: &str) -> String {
    let mut folder = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    loop {
        let candidate = join(folder, ".gitignore");
        if folder.is_empty() || paths.contains(&candidate) {
            return candidate;
        }
        folder = folder.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    }
}

fn not_ignored_finding(path: &str, gitignore: &str) -> Finding {
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
        fix: Some(format!("Add `{}` to {gitignore}", file_name(path))),
    }
}

/// Does the `.env` file at `path` hold a value that may be a secret? Not
/// when every value is empty, a boolean, a URL or a placeholder; unknown
/// (assumed yes) when its text cannot be read. The text comes from the
/// `.env` files keys-in-client gathered, else from disk (one small file).
fn holds_values(project: &ProjectContext<'_>, path: &str) -> bool {
    let text = match project.env_files.iter().find(|(p, _)| p == path) {
        Some((_, text)) => text.clone(),
        None => match crate::source::Source::load(
            &project.root.join(path),
            project.settings.max_parse_size,
        ) {
            crate::source::Loaded::Text(s) => String::from_utf8_lossy(s.bytes()).into_owned(),
            crate::source::Loaded::Skipped(..) => return true,
        },
    };
    let catalog = project.catalog;
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(_, v)| v.trim().trim_matches(['"', '\'']))
        .any(|v| {
            !catalog.public_env.is_public_value(v) && !catalog.keys.is_placeholder(v.as_bytes())
        })
}

fn tracked_finding(path: &str, ignored_now: bool, holds_values: bool) -> Finding {
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
        fix: Some(if holds_values {
            format!(
                "git rm --cached {path}, commit, and rotate every key it held: they are in the history"
            )
        } else {
            format!(
                "git rm --cached {path} and commit, so real values set later stay out of git (it holds none now)"
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_env_names() {
        let catalog = crate::catalog::Catalog::load(&[]).unwrap();
        let env = &catalog.env;
        assert!(is_secret_env(env, "apps/web/.env.local") && is_secret_env(env, ".env"));
        assert!(is_secret_env(env, "prod.env") && is_secret_env(env, ".env.production.local"));
        assert!(!is_secret_env(env, ".env.example") && !is_secret_env(env, "x/.env.sample"));
        for template in [
            ".example.env",
            "example.env",
            ".env.example.local",
            ".env.defaults",
            ".env.dist",
        ] {
            assert!(!is_secret_env(env, template), "{template}");
        }
        assert!(!is_secret_env(env, ".envrc"));
    }

    #[test]
    fn app_folders_are_root_and_marker_folders() {
        let spec = EnvSpec {
            variants: vec![],
            examples: vec![],
            example_words: vec![],
            app_markers: vec!["package.json".into()],
            tooling_folders: vec![],
            env_readers: vec![],
        };
        let paths = vec![
            "apps/web/package.json".to_string(),
            "apps/web/src/package.json.bak".to_string(),
        ];
        let folders: Vec<String> = collect_marker_folders(&paths, &spec).into_iter().collect();
        assert_eq!(folders, vec!["apps/web".to_string()]);
    }

    #[test]
    fn the_fix_goes_to_the_shallowest_gitignore_covering_every_folder() {
        let paths: Vec<String> = [
            "apps/.gitignore",
            "apps/web/.gitignore",
            "tools/x/.gitignore",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(fix_folder(&paths, &["apps/web", "apps/api"]), "apps");
        assert_eq!(fix_folder(&paths, &["apps/web"]), "apps");
        assert_eq!(fix_folder(&paths, &["apps/web", "tools/x"]), "");
        assert_eq!(
            nearest_gitignore(&paths, "apps/api/.env"),
            "apps/.gitignore"
        );
        assert_eq!(nearest_gitignore(&paths, "lib/.env"), ".gitignore");
    }
}
