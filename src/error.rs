//! The error of what a user wrote (a config file, a baseline, a flag): it
//! names the file and line, and the run exits 2. Below the config and the
//! baseline, which both produce it.

use thiserror::Error;

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
