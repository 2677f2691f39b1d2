//! auth: every endpoint that reaches a paid AI call requires an
//! authenticated user, checked before the AI call.
//!
//! Reads the inventory's auth evidence (`src/inventory/auth.rs`). Errors:
//! no auth at all (`ai-endpoint-no-auth`), a session read that nothing
//! checks (`auth-not-checked`), a check that comes after the AI call
//! (`auth-after-ai-call`). An anonymous session is not auth; the message
//! says so. Gap: auth enforced by a gateway or proxy in front of the app.

use super::{Check, CheckId, Coverage};
use crate::context::ProjectContext;
use crate::findings::{Finding, Redacted, Severity, Span};
use crate::inventory::{AuthKind, Endpoint};

pub struct Auth;

impl Check for Auth {
    fn id(&self) -> CheckId {
        CheckId::Auth
    }

    fn check_project(&self, project: &ProjectContext<'_>, out: &mut Vec<Finding>) -> Coverage {
        let inv = project.inventory;
        let fixes = &project.catalog.auth_fix;
        for e in inv.ai_endpoints() {
            if super::is_stacked_route(inv, e) {
                continue;
            }
            if e.auth.iter().any(|a| a.kind == AuthKind::Enforced) {
                continue;
            }
            let path = project.facts.file(e.file).path.clone();
            let route = format!("{} {}", e.method, e.path);
            let first = |k: AuthKind| e.auth.iter().find(|a| a.kind == k);
            // An anonymous sign-in explains the rest (its SDK reads look like session reads).
            let (rule, line, message, fix) = if let Some(a) = first(AuthKind::Anonymous) {
                ("ai-endpoint-no-auth", a.line, format!("{route} reaches a paid AI call with only an anonymous session ({}): anonymous sessions count as sessions, not auth; it still needs a rate limit and a quota", a.how), fixes.anonymous.clone())
            } else if let Some(a) = first(AuthKind::AfterAiCall) {
                ("auth-after-ai-call", a.line, format!("{route} checks {} only after its AI call: unauthenticated requests are billed before they are rejected", a.how), fixes.after.clone())
            } else if let Some(a) = first(AuthKind::Unchecked) {
                ("auth-not-checked", a.line, format!("{route} reads the session ({}) but never rejects a request without a user: that is not auth", a.how), fixes.unchecked.clone())
            } else if let Some(a) = first(AuthKind::NotUser) {
                (
                    "ai-endpoint-no-auth",
                    e.line,
                    format!(
                        "{route} ({}) reaches a paid AI call without an authenticated user: {}",
                        e.framework.name(),
                        a.how
                    ),
                    fix_for(e, fixes),
                )
            } else {
                (
                    "ai-endpoint-no-auth",
                    e.line,
                    format!(
                        "{route} ({}) reaches a paid AI call without an authenticated user",
                        e.framework.name()
                    ),
                    fix_for(e, fixes),
                )
            };
            out.push(Finding {
                check: CheckId::Auth,
                rule: rule.into(),
                severity: Severity::Error,
                path,
                span: Some(Span {
                    line,
                    column: 1,
                    end_line: line,
                    end_column: 1,
                }),
                message,
                evidence: Some(Redacted::public(&route)),
                fix: Some(fix.trim().to_string()),
            });
        }
        super::endpoint_coverage(inv)
    }
}

/// The framework's own recipe (its fix key in `rules/protections.toml`).
fn fix_for(e: &Endpoint, fixes: &crate::catalog::AuthFixes) -> String {
    fixes
        .framework
        .get(e.framework.fix_key())
        .cloned()
        .unwrap_or_default()
}
