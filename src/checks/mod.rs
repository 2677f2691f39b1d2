//! The checks: one file per line of the checklist in `../shared/CHECKS.md`.
//!
//! A check reads facts and sources; it never walks the tree or formats
//! output. `check_file` runs on the walker threads, once per file;
//! `check_project` runs once after the walk, over every file's facts.
//! Adding a check: `checks/<id>.rs`, its entry in [`implemented`], and its
//! `[[check]]` in `rules/checks.toml` (a test keeps the three in step).

use serde::Serialize;
use std::fmt;

use crate::context::{FileContext, ProjectContext};
use crate::findings::Finding;

pub mod auth;
pub mod cors;
pub mod env_gitignore;
pub mod key_history;
pub mod keys_in_client;
pub mod keys_in_code;
pub mod loops;
pub mod quota;
pub mod rate_limit;
pub mod rate_limit_store;

/// The checklist items, in checklist order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    KeysInCode,
    KeysInClient,
    RateLimit,
    RateLimitStore,
    Auth,
    Quota,
    Loops,
    Cors,
    EnvGitignore,
    KeyHistory,
    SpendLimits,
}

impl CheckId {
    pub const ALL: [CheckId; 11] = [
        CheckId::KeysInCode,
        CheckId::KeysInClient,
        CheckId::RateLimit,
        CheckId::RateLimitStore,
        CheckId::Auth,
        CheckId::Quota,
        CheckId::Loops,
        CheckId::Cors,
        CheckId::EnvGitignore,
        CheckId::KeyHistory,
        CheckId::SpendLimits,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::KeysInCode => "keys-in-code",
            CheckId::KeysInClient => "keys-in-client",
            CheckId::RateLimit => "rate-limit",
            CheckId::RateLimitStore => "rate-limit-store",
            CheckId::Auth => "auth",
            CheckId::Quota => "quota",
            CheckId::Loops => "loops",
            CheckId::Cors => "cors",
            CheckId::EnvGitignore => "env-gitignore",
            CheckId::KeyHistory => "key-history",
            CheckId::SpendLimits => "spend-limits",
        }
    }

    pub fn parse(s: &str) -> Option<CheckId> {
        CheckId::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a check found anything to look at (`pass` needs something checked;
/// nothing of that kind in the project is `n/a`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Coverage {
    Checked,
    /// Checked, with something the user should know (shown as a note).
    CheckedWith(String),
    /// Something of that kind exists but could not be judged: `warn`, so
    /// the checklist never says `pass` or `n/a` for what it did not see.
    Unknown(String),
    NotApplicable(String),
}

/// The coverage of the endpoint checks (rate-limit, auth, quota): `n/a`
/// only when the project makes no AI call at all; unknown when it makes
/// AI calls that no endpoint was linked to and no endpoint reaches one.
pub fn endpoint_coverage(inv: &crate::inventory::Inventory) -> Coverage {
    let endpoints = inv.ai_endpoints().count();
    let unlinked = inv.unlinked.len();
    let sites = |n: usize| match n {
        1 => "1 AI call site".to_string(),
        n => format!("{n} AI call sites"),
    };
    match (endpoints, unlinked) {
        (0, 0) => Coverage::NotApplicable("no AI call found".into()),
        (0, n) => Coverage::Unknown(format!(
            "{} but no endpoint linked to them: coverage unknown (listed by `aiguard inventory`)",
            sites(n)
        )),
        (_, 0) => Coverage::Checked,
        (_, n) => Coverage::CheckedWith(format!(
            "{} not linked to any endpoint (scripts, workers, or routes aiguard does not see; listed by `aiguard inventory`)",
            sites(n)
        )),
    }
}

pub trait Check: Sync {
    fn id(&self) -> CheckId;

    /// Per file, on a walker thread.
    fn check_file(&self, _file: &FileContext<'_>, _out: &mut Vec<Finding>) {}

    /// Once, after the walk, over the whole project.
    fn check_project(&self, project: &ProjectContext<'_>, out: &mut Vec<Finding>) -> Coverage;
}

/// The checks this build implements, in checklist order. Checks of
/// `CheckId::ALL` missing here show as `skipped` in the checklist.
pub fn implemented() -> Vec<&'static dyn Check> {
    vec![
        &keys_in_code::KeysInCode,
        &keys_in_client::KeysInClient,
        &rate_limit::RateLimit,
        &rate_limit_store::RateLimitStore,
        &auth::Auth,
        &quota::Quota,
        &loops::Loops,
        &cors::Cors,
        &env_gitignore::EnvGitignore,
        &key_history::KeyHistory,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implemented_checks_are_unique_and_in_checklist_order() {
        let ids: Vec<CheckId> = implemented().iter().map(|c| c.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted);
    }
}
