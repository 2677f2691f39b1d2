//! The checks: one file per line of the checklist in `../shared/CHECKS.md`.
//!
//! A check reads facts and sources; it never walks the tree or formats
//! output. `check_file` runs on the walker threads, once per file;
//! `check_project` runs once after the walk, over every file's facts.
//! Adding a check: `checks/<id>.rs`, its entry in [`implemented`], and its
//! `[[check]]` in `rules/checks.toml` (a test keeps the three in step).

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

pub use crate::findings::CheckId;

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

    /// Once, after the walk, over the whole project. `out` holds the
    /// findings so far only for a check that [`Check::edits_findings`];
    /// the others may run on another thread, each into its own list.
    fn check_project(&self, project: &ProjectContext<'_>, out: &mut Vec<Finding>) -> Coverage;

    /// Does the project pass read or drop findings already made (the
    /// file pass's, or other checks')? Then it runs in its turn on the
    /// whole list.
    fn edits_findings(&self) -> bool {
        false
    }
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

/// Is `e` a second route decorator stacked on a handler an earlier AI
/// endpoint already has (`@app.route("/x")` over `@app.route("/x/")`)?
/// Such routes are one endpoint: reported once.
pub fn is_stacked_route(inv: &crate::inventory::Inventory, e: &crate::inventory::Endpoint) -> bool {
    let Some(h) = e.handler else { return false };
    inv.ai_endpoints()
        .take_while(|o| !std::ptr::eq(*o, e))
        .any(|o| {
            o.file == e.file
                && o.method == e.method
                && o.handler.is_some_and(|x| x.function == h.function)
        })
}

/// Findings that are one problem seen in several places become one finding
/// (the first place in report order) whose message lists the other places:
/// a public env secret by its name (defined in `.env`, the Dockerfile, the
/// compose file and CI, read in three components), a key by its rule and
/// redacted form (the same key pasted in several files). Runs after
/// suppressions and the `--staged` filter, so only places still reported
/// are merged. The fix kept is the most demanding of the group (a group
/// holding a real key value says to rotate it).
pub fn merge_places(findings: &mut Vec<Finding>) {
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<(CheckId, String, String), Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        let mergeable = f.check == CheckId::KeysInCode || f.rule == "public-env-secret";
        if let (true, Some(evidence)) = (mergeable, &f.evidence) {
            groups
                .entry((f.check, f.rule.clone(), evidence.as_str().to_string()))
                .or_default()
                .push(i);
        }
    }
    let mut dropped = vec![false; findings.len()];
    for mut members in groups.into_values().filter(|m| m.len() > 1) {
        members.sort_by(|&a, &b| findings[a].sort_key().cmp(&findings[b].sort_key()));
        let places: Vec<String> = members[1..].iter().map(|&i| place(&findings[i])).collect();
        // The first place's fix unless another one's says more (ties: first).
        let fix = members
            .iter()
            .filter_map(|&i| findings[i].fix.clone())
            .fold(None::<String>, |best, fix| match best {
                Some(b) if fix_weight(&b) >= fix_weight(&fix) => Some(b),
                _ => Some(fix),
            });
        let severity = members.iter().map(|&i| findings[i].severity).max();
        let first = &mut findings[members[0]];
        let stop = if first.message.ends_with('.') {
            ""
        } else {
            "."
        };
        first.message = format!("{}{stop} Also at {}.", first.message, list_places(&places));
        first.fix = fix.or(first.fix.take());
        first.severity = severity.unwrap_or(first.severity);
        for &i in &members[1..] {
            dropped[i] = true;
        }
    }
    let mut i = 0;
    findings.retain(|_| {
        i += 1;
        !dropped[i - 1]
    });
}

fn place(f: &Finding) -> String {
    match f.span {
        Some(s) => format!("{}:{}", f.path, s.line),
        None => f.path.clone(),
    }
}

/// `a:1, b:2 and c:3`; past eight places, `… and 5 more places`.
fn list_places(places: &[String]) -> String {
    const SHOWN: usize = 8;
    match places.len() {
        0 => String::new(),
        1 => places[0].clone(),
        n if n <= SHOWN => format!("{} and {}", places[..n - 1].join(", "), places[n - 1]),
        n => format!(
            "{} and {} more places",
            places[..SHOWN].join(", "),
            n - SHOWN
        ),
    }
}

/// A fix that says to rotate outright outweighs one that says "if", which
/// outweighs one that does not mention rotating.
fn fix_weight(fix: &str) -> u8 {
    match (fix.contains("Rotate"), fix.contains("rotate")) {
        (true, _) => 2,
        (false, true) => 1,
        _ => 0,
    }
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

    fn at(rule: &str, path: &str, line: u32, evidence: &str, fix: &str) -> Finding {
        Finding {
            check: CheckId::KeysInClient,
            rule: rule.into(),
            severity: crate::findings::Severity::Error,
            path: path.into(),
            span: Some(crate::findings::Span {
                line,
                column: 1,
                end_line: line,
                end_column: 2,
            }),
            message: "NAME is here.".into(),
            evidence: Some(crate::findings::Redacted::public(evidence)),
            fix: Some(fix.into()),
        }
    }

    #[test]
    fn one_finding_per_variable_with_the_other_places() {
        let mut findings = vec![
            at(
                "public-env-secret",
                "web/.env",
                2,
                "NEXT_PUBLIC_A_KEY",
                "Drop it.",
            ),
            at(
                "public-env-secret",
                "Dockerfile",
                4,
                "NEXT_PUBLIC_A_KEY",
                "Drop it. If …, rotate.",
            ),
            at(
                "public-env-secret",
                "ci.yml",
                9,
                "NEXT_PUBLIC_B_KEY",
                "Drop it.",
            ),
            at("ai-sdk-in-client", "a.ts", 1, "openai", "Move it."),
            at("ai-sdk-in-client", "b.ts", 1, "openai", "Move it."),
            at(
                "public-env-secret",
                "app.ts",
                7,
                "NEXT_PUBLIC_A_KEY",
                "Drop it. Rotate.",
            ),
        ];
        merge_places(&mut findings);
        let kept: Vec<(&str, &str)> = findings
            .iter()
            .map(|f| (f.path.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                (
                    "Dockerfile",
                    "NAME is here. Also at app.ts:7 and web/.env:2."
                ),
                ("ci.yml", "NAME is here."),
                ("a.ts", "NAME is here."),
                ("b.ts", "NAME is here."),
            ]
        );
        assert_eq!(findings[0].fix.as_deref(), Some("Drop it. Rotate."));
        let many: Vec<String> = (1..=11).map(|i| format!("f{i}")).collect();
        assert_eq!(list_places(&many[..2]), "f1 and f2");
        assert!(list_places(&many).ends_with("f8 and 3 more places"));
    }
}
