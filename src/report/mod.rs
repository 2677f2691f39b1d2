//! A finished audit and the formats it is written in. Reporters read the
//! [`Report`] and the catalogue's texts; they never look at sources.

pub mod json;
pub mod text;

use crate::checklist::Item;
use crate::findings::{Finding, Note, Severity};

pub struct Report {
    /// The audited path as the user gave it.
    pub root: String,
    pub summary: Summary,
    pub checklist: Vec<Item>,
    pub findings: Vec<Finding>,
    pub notes: Vec<Note>,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub files_scanned: usize,
    pub duration_ms: u64,
}

impl Summary {
    pub fn new(findings: &[Finding], files_scanned: usize, duration_ms: u64) -> Summary {
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        Summary {
            errors,
            warnings: findings.len() - errors,
            files_scanned,
            duration_ms,
        }
    }
}
