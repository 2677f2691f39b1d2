//! quota (warning): an AI endpoint that lets the caller pick the cost —
//! `model` or a token bound taken from the request without a cap or an
//! allowlist — or whose AI call has no output token bound, in a project
//! with no sign of per-user usage tracking (credits/usage/quota code, a
//! limiter keyed by user id). The message names what is missing. A loop
//! over a request-supplied list with one AI call per item and no cap on
//! the list is the caller choosing the cost too (fan-out, issue 21).

use super::{Check, CheckId, Coverage};
use crate::context::ProjectContext;
use crate::findings::{Finding, Redacted, Severity, Span};

pub struct Quota;

impl Check for Quota {
    fn id(&self) -> CheckId {
        CheckId::Quota
    }

    fn check_project(&self, project: &ProjectContext<'_>, out: &mut Vec<Finding>) -> Coverage {
        let inv = project.inventory;
        if inv.ai_endpoints().next().is_none() {
            return super::endpoint_coverage(inv);
        }
        if !inv.usage_tracking.is_empty() {
            return super::endpoint_coverage(inv);
        }
        let fixes = &project.catalog.quota_fix;
        for e in inv.ai_endpoints() {
            let Some(q) = &e.quota else { continue };
            let route = format!("{} {}", e.method, e.path);
            let path = project.facts.file(e.file).path.clone();
            let span = Some(Span {
                line: e.line,
                column: 1,
                end_line: e.line,
                end_column: 1,
            });
            if let Some(fan_out) = &q.fan_out {
                out.push(Finding {
                    check: CheckId::Quota,
                    rule: "quota-client-chooses-cost".into(),
                    severity: Severity::Warning,
                    path: path.clone(),
                    span,
                    message: format!(
                        "{route} makes {fan_out}: the caller sends the list, so the caller picks how many AI calls one request costs; nothing caps its length or tracks usage per user"
                    ),
                    evidence: Some(Redacted::public(&format!("fan-out {route}"))),
                    fix: Some(project.catalog.loops.fix.fan_out.trim().to_string()),
                });
            }
            if !q.client_chosen.is_empty() {
                out.push(Finding {
                    check: CheckId::Quota,
                    rule: "quota-client-chooses-cost".into(),
                    severity: Severity::Warning,
                    path: path.clone(),
                    span,
                    message: format!(
                        "{route} lets the caller choose {} for the AI call at {}, with no cap or allowlist, and nothing tracks usage per user",
                        q.client_chosen.join(", "),
                        q.call_at
                    ),
                    evidence: Some(Redacted::public(&q.client_chosen.join(", "))),
                    fix: Some(fixes.client_chosen.trim().to_string()),
                });
            } else if q.unbounded_output {
                out.push(Finding {
                    check: CheckId::Quota,
                    rule: "quota-no-token-bound".into(),
                    severity: Severity::Warning,
                    path,
                    span,
                    message: format!(
                        "{route}: the AI call at {} sets no output token bound, and nothing tracks usage per user",
                        q.call_at
                    ),
                    evidence: Some(Redacted::public(&route)),
                    fix: Some(fixes.unbounded.trim().to_string()),
                });
            }
        }
        super::endpoint_coverage(inv)
    }
}
