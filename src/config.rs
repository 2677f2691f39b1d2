//! Settings: `aiguard.toml` at the audited root, or `[tool.aiguard]` in its
//! `pyproject.toml`, or `--config FILE`, merged with the command line.
//! Unknown keys and bad values are errors naming the file and line (exit 2).

use serde::Deserialize;
use std::path::{Path, PathBuf};
use thiserror::Error;

use crate::catalog::line_at;
use crate::checks::CheckId;
use crate::cli::{AuditArgs, FailOn};

/// Folders never walked unless the config's `exclude` replaces this list.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    "dist",
    "build",
    ".next",
    ".nuxt",
    ".svelte-kit",
    ".output",
    ".turbo",
    ".vercel",
    ".cache",
    ".parcel-cache",
    "coverage",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
    "bower_components",
    ".expo",
    "target",
];

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Unreadable { file: String, message: String },
    #[error("{0}")]
    Usage(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigFile {
    /// Replaces the built-in folder excludes.
    exclude: Option<Vec<String>>,
    /// Adds to them.
    #[serde(default)]
    extend_exclude: Vec<String>,
    max_file_size: Option<u64>,
    max_parse_size: Option<u64>,
    fail_on: Option<FailOn>,
    select: Option<Vec<String>>,
    #[serde(default)]
    ignore: Vec<String>,
    /// Extra key rule files, same format as `rules/keys.toml`.
    #[serde(default)]
    key_rules: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
struct Pyproject {
    tool: Option<PyTool>,
}

#[derive(Debug, Deserialize)]
struct PyTool {
    aiguard: Option<ConfigFile>,
}

/// Everything an audit needs to know, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub root: PathBuf,
    pub excludes: Vec<String>,
    /// Files above this are skipped (not read).
    pub max_file_size: u64,
    /// Files above this are scanned as text but not parsed.
    pub max_parse_size: u64,
    pub fail_on: FailOn,
    pub checks: Vec<CheckId>,
    pub key_rules: Vec<PathBuf>,
    pub threads: usize,
    /// Where the settings came from, for the report.
    pub config_file: Option<PathBuf>,
}

impl Settings {
    pub fn from_args(args: &AuditArgs) -> Result<Settings, ConfigError> {
        let root = args.path.clone();
        if !root.is_dir() {
            return Err(ConfigError::Usage(format!(
                "{}: not a directory",
                root.display()
            )));
        }
        let (file, config) = load_config(&root, args.config.as_deref())?;
        let name = file
            .as_ref()
            .map(|f| f.display().to_string())
            .unwrap_or_default();
        let mut excludes: Vec<String> = match &config.exclude {
            Some(list) => list.clone(),
            None => DEFAULT_EXCLUDES.iter().map(|s| s.to_string()).collect(),
        };
        excludes.extend(config.extend_exclude.iter().cloned());
        let select = if args.select.is_empty() {
            config.select.clone()
        } else {
            Some(args.select.clone())
        };
        let mut ignore = config.ignore.clone();
        ignore.extend(args.ignore.iter().cloned());
        let checks = select_checks(select.as_deref(), &ignore).map_err(|m| match &file {
            Some(_) if args.select.is_empty() && args.ignore.is_empty() => ConfigError::Invalid {
                file: name.clone(),
                line: 1,
                message: m,
            },
            _ => ConfigError::Usage(m),
        })?;
        let base = file
            .as_ref()
            .and_then(|f| f.parent())
            .unwrap_or(Path::new("."));
        Ok(Settings {
            root,
            excludes,
            max_file_size: config.max_file_size.unwrap_or(20 * 1024 * 1024),
            max_parse_size: config.max_parse_size.unwrap_or(1024 * 1024),
            fail_on: args.fail_on.or(config.fail_on).unwrap_or(FailOn::Error),
            checks,
            key_rules: config.key_rules.iter().map(|p| base.join(p)).collect(),
            threads: args.threads.unwrap_or(0),
            config_file: file,
        })
    }
}

fn select_checks(select: Option<&[String]>, ignore: &[String]) -> Result<Vec<CheckId>, String> {
    let parse = |s: &String| {
        CheckId::parse(s.trim()).ok_or_else(|| {
            let all: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
            format!("unknown check `{s}`; checks are: {}", all.join(", "))
        })
    };
    let selected: Vec<CheckId> = match select {
        Some(list) => list.iter().map(parse).collect::<Result<_, _>>()?,
        None => CheckId::ALL.to_vec(),
    };
    let ignored: Vec<CheckId> = ignore.iter().map(parse).collect::<Result<_, _>>()?;
    Ok(CheckId::ALL
        .into_iter()
        .filter(|c| selected.contains(c) && !ignored.contains(c))
        .collect())
}

fn load_config(
    root: &Path,
    explicit: Option<&Path>,
) -> Result<(Option<PathBuf>, ConfigFile), ConfigError> {
    if let Some(path) = explicit {
        let text = read(path)?;
        return Ok((Some(path.to_path_buf()), parse(path, &text)?));
    }
    let own = root.join("aiguard.toml");
    if own.is_file() {
        let text = read(&own)?;
        return Ok((Some(own.clone()), parse(&own, &text)?));
    }
    let pyproject = root.join("pyproject.toml");
    if pyproject.is_file() {
        let text = read(&pyproject)?;
        if text.contains("[tool.aiguard") {
            let parsed: Pyproject =
                toml::from_str(&text).map_err(|e| invalid(&pyproject, &text, e))?;
            if let Some(config) = parsed.tool.and_then(|t| t.aiguard) {
                return Ok((Some(pyproject), config));
            }
        }
    }
    Ok((None, ConfigFile::default()))
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
        file: path.display().to_string(),
        message: e.to_string(),
    })
}

fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    toml::from_str(text).map_err(|e| invalid(path, text, e))
}

fn invalid(path: &Path, text: &str, e: toml::de::Error) -> ConfigError {
    ConfigError::Invalid {
        file: path.display().to_string(),
        line: e.span().map(|s| line_at(text, s.start)).unwrap_or(1),
        message: e.message().trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_name_the_line_and_the_allowed_keys() {
        let err = parse(
            Path::new("aiguard.toml"),
            "fail-on = \"error\"\nexclud = [\"x\"]\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("aiguard.toml:2: unknown field `exclud`"),
            "{text}"
        );
        assert!(
            text.contains("extend-exclude"),
            "lists what is allowed: {text}"
        );
    }

    #[test]
    fn bad_values_name_the_line() {
        let err = parse(Path::new("a.toml"), "\n\nfail-on = \"sometimes\"\n").unwrap_err();
        assert!(err.to_string().starts_with("a.toml:3:"), "{err}");
    }

    #[test]
    fn select_and_ignore() {
        let checks = select_checks(
            Some(&["cors".into(), "env-gitignore".into()]),
            &["cors".into()],
        )
        .unwrap();
        assert_eq!(checks, vec![CheckId::EnvGitignore]);
        assert!(select_checks(None, &["nope".into()])
            .unwrap_err()
            .contains("unknown check `nope`"));
    }
}
