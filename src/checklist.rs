//! Findings → the checklist: one status per line of CHECKS.md.
//!
//! Also the manual items' attestations: `[attest] spend-limits = DATE` in the
//! config turns `manual` into `pass`, and into a `stale-attestation` warning
//! once the date is more than [`MAX_ATTESTATION_AGE_DAYS`] before the audit.

use serde::Serialize;

use crate::catalog::Catalog;
use crate::checks::{self, CheckId, Coverage};
use crate::config::{Attestation, Settings};
use crate::findings::{Finding, Redacted, Severity};

/// How old an attestation may get before it is a warning (CHECKS.md).
pub const MAX_ATTESTATION_AGE_DAYS: i64 = 90;

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
                (Status::Skipped, Some("deselected (--select/--ignore, or off in the config)".to_string()))
            } else if let Some(a) = settings.attestations.iter().find(|a| a.check == check) {
                let age = settings.today.days() - a.date.days();
                let status = if mine.iter().any(|f| f.severity == Severity::Error) {
                    Status::Fail
                } else if mine.is_empty() {
                    Status::Pass
                } else {
                    Status::Warn
                };
                (status, Some(format!("attested {}, {age} day{} ago", a.date, if age == 1 { "" } else { "s" })))
            } else if check == CheckId::SpendLimits {
                (Status::Manual, Some("set them in each provider's billing console, then attest it in aiguard.toml".into()))
            } else if check == CheckId::KeyHistory && !settings.history {
                (Status::Skipped, Some("needs --history: pass it to scan every commit reachable from HEAD".into()))
            } else if !implemented.contains(&check) {
                (Status::Skipped, Some("not implemented in this version".into()))
            } else if mine.iter().any(|f| f.severity == Severity::Error) {
                (Status::Fail, None)
            } else if !mine.is_empty() {
                (Status::Warn, None)
            } else {
                match coverage.iter().find(|(c, _)| *c == check).map(|(_, cov)| cov) {
                    Some(Coverage::NotApplicable(why)) => (Status::NotApplicable, Some(why.clone())),
                    Some(Coverage::Unknown(why)) => (Status::Warn, Some(why.clone())),
                    Some(Coverage::CheckedWith(why)) => (Status::Pass, Some(why.clone())),
                    _ => (Status::Pass, None),
                }
            };
            Item { check, title: catalog.check(check).title.clone(), status, findings: mine.len(), note }
        })
        .collect()
}

/// A `stale-attestation` warning for each attestation older than
/// [`MAX_ATTESTATION_AGE_DAYS`], pointing at its date in the config file.
pub fn stale_attestations(settings: &Settings) -> Vec<Finding> {
    let Some(path) = settings.config_display_path() else {
        return Vec::new();
    };
    settings
        .attestations
        .iter()
        .filter(|a| settings.checks.contains(&a.check))
        .filter_map(|a| {
            let age = settings.today.days() - a.date.days();
            (age > MAX_ATTESTATION_AGE_DAYS).then(|| stale(a, age, &path, settings))
        })
        .collect()
}

fn stale(a: &Attestation, age: i64, path: &str, settings: &Settings) -> Finding {
    let key = a.check.as_str();
    Finding {
        check: a.check,
        rule: "stale-attestation".into(),
        severity: Severity::Warning,
        path: path.to_string(),
        span: Some(a.span),
        message: format!(
            "{key} was last attested on {}, {age} days ago (more than {MAX_ATTESTATION_AGE_DAYS})",
            a.date
        ),
        evidence: Some(Redacted::public(&format!("{key} = {}", a.date))),
        fix: Some(format!(
            "Check the spend limits and billing alerts in each provider's console again, then update the date: {key} = {}",
            settings.today
        )),
    }
}
