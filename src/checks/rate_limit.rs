//! rate-limit: every endpoint that reaches a paid AI call is rate limited,
//! per minute and per day.
//!
//! Reads the inventory (`src/inventory/`): AI endpoints and the limits that
//! cover them. Errors: an AI endpoint with no limit; slowapi wired so that
//! it does not limit; a limiter created per request. Warning: limits with
//! no daily window. Gap: limits enforced outside the code (API gateway,
//! Cloudflare) are not seen.

use super::{Check, CheckId, Coverage};
use crate::catalog::RateLimitFixes;
use crate::context::ProjectContext;
use crate::findings::{Finding, Redacted, Severity, Span};
use crate::inventory::{Endpoint, Framework};

pub struct RateLimit;

const DAY: u64 = 86_400;

impl Check for RateLimit {
    fn id(&self) -> CheckId {
        CheckId::RateLimit
    }

    fn check_project(&self, project: &ProjectContext<'_>, out: &mut Vec<Finding>) -> Coverage {
        let inv = project.inventory;
        let facts = project.facts;
        let fixes = &project.catalog.rate_limit_fix;
        for e in inv.ai_endpoints() {
            let path = facts.file(e.file).path.clone();
            let span = Some(Span {
                line: e.line,
                column: 1,
                end_line: e.line,
                end_column: 1,
            });
            let chain = describe_chain(project, e);
            if e.limits.is_empty() {
                out.push(Finding {
                    check: CheckId::RateLimit,
                    rule: "ai-endpoint-not-rate-limited".into(),
                    severity: Severity::Error,
                    path,
                    span,
                    message: format!(
                        "{} {} {} reaches a paid AI call ({chain}) with no rate limit",
                        e.framework.name(),
                        e.method,
                        e.path
                    ),
                    evidence: Some(Redacted::public(&format!("{} {}", e.method, e.path))),
                    fix: Some(fix_for(e.framework, fixes).trim().to_string()),
                });
                continue;
            }
            let windows: Vec<u64> = e
                .limits
                .iter()
                .flat_map(|l| l.windows.iter().copied())
                .collect();
            if !windows.is_empty() && windows.iter().all(|w| *w < DAY) {
                let limits: Vec<String> = e.limits.iter().map(|l| l.spec.clone()).collect();
                out.push(Finding {
                    check: CheckId::RateLimit,
                    rule: "rate-limit-no-daily-cap".into(),
                    severity: Severity::Warning,
                    path,
                    span,
                    message: format!(
                        "{} {} is limited ({}) but has no daily cap",
                        e.method,
                        e.path,
                        limits.join(", ")
                    ),
                    evidence: Some(Redacted::public(&limits.join(", "))),
                    fix: Some(fixes.daily.trim().to_string()),
                });
            }
        }
        for m in &inv.misuse {
            out.push(Finding {
                check: CheckId::RateLimit,
                rule: m.rule.into(),
                severity: Severity::Error,
                path: facts.file(m.file).path.clone(),
                span: Some(Span {
                    line: m.line,
                    column: 1,
                    end_line: m.line,
                    end_column: 1,
                }),
                message: m.message.clone(),
                evidence: None,
                fix: Some(fixes.fastapi.trim().to_string()),
            });
        }
        if inv.ai_endpoints().next().is_none() && !inv.misuse.is_empty() {
            Coverage::Checked
        } else {
            super::endpoint_coverage(inv)
        }
    }
}

/// `OpenAI call at app/llm.py:12 via chat → answer`.
fn describe_chain(project: &ProjectContext<'_>, e: &Endpoint) -> String {
    let Some(chain) = &e.reaches else {
        return String::new();
    };
    let facts = project.facts;
    let (cf, cc) = chain.call;
    let call = facts.call((cf, cc));
    let provider = project
        .inventory
        .ai_calls
        .iter()
        .find(|a| a.file == cf && a.call == cc)
        .map(|a| a.provider.as_str())
        .unwrap_or("AI");
    let via: Vec<&str> = chain
        .functions
        .iter()
        .map(|f| facts.function(*f).name.as_str())
        .collect();
    let via = if via.len() > 1 {
        format!(" via {}", via.join(" → "))
    } else {
        String::new()
    };
    format!(
        "{provider} `{}` at {}:{}{via}",
        call.callee,
        facts.file(cf).path,
        call.line
    )
}

fn fix_for(framework: Framework, fixes: &RateLimitFixes) -> &str {
    match framework {
        Framework::FastApi => &fixes.fastapi,
        Framework::Flask => &fixes.flask,
        Framework::NextApp | Framework::NextPages | Framework::ServerAction => &fixes.next,
        Framework::Express => &fixes.express,
        Framework::Hono => &fixes.hono,
        Framework::Fastify => &fixes.fastify,
    }
}
