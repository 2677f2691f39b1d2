//! Findings → the checklist: one status per line of CHECKS.md.

use serde::Serialize;

use crate::catalog::Catalog;
use crate::checks::{self, CheckId, Coverage};
use crate::config::Settings;
use crate::findings::{Finding, Severity};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Status {
    #[serde(rename = "pass")]
    Pass,
    #[serde(rename = "fail")]
    Fail,
    #[serde(rename = "warn")]
    Warn,
    #[serde(rename = "n/a")]
    NotApplicable,
    #[serde(rename = "manual")]
    Manual,
    /// Not run: deselected, needs a flag, or not implemented in this build.
    #[serde(rename = "skipped")]
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::NotApplicable => "n/a",
            Status::Manual => "manual",
            Status::Skipped => "skipped",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Item {
    pub check: CheckId,
    pub title: String,
    pub status: Status,
    pub findings: usize,
    /// Why the status is n/a, manual or skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub fn build(
    catalog: &Catalog,
    settings: &Settings,
    coverage: &[(CheckId, Coverage)],
    findings: &[Finding],
) -> Vec<Item> {
    let implemented: Vec<CheckId> = checks::implemented().iter().map(|c| c.id()).collect();
    CheckId::ALL
        .iter()
        .map(|&check| {
            let mine: Vec<&Finding> = findings.iter().filter(|f| f.check == check).collect();
            let (status, note) = if !settings.checks.contains(&check) {
                (Status::Skipped, Some("deselected (--select/--ignore or config)".to_string()))
            } else if check == CheckId::SpendLimits {
                (Status::Manual, Some("set them in each provider's billing console, then attest it in aiguard.toml".into()))
            } else if check == CheckId::KeyHistory && !implemented.contains(&check) {
                (Status::Skipped, Some("needs --history (not available in this version)".into()))
            } else if !implemented.contains(&check) {
                (Status::Skipped, Some("not implemented in this version".into()))
            } else if mine.iter().any(|f| f.severity == Severity::Error) {
                (Status::Fail, None)
            } else if !mine.is_empty() {
                (Status::Warn, None)
            } else {
                match coverage.iter().find(|(c, _)| *c == check).map(|(_, cov)| cov) {
                    Some(Coverage::NotApplicable(why)) => (Status::NotApplicable, Some(why.clone())),
                    _ => (Status::Pass, None),
                }
            };
            Item { check, title: catalog.check(check).title.clone(), status, findings: mine.len(), note }
        })
        .collect()
}
