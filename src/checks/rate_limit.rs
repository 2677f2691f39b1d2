//! rate-limit: every endpoint that reaches a paid AI call is rate limited,
//! per minute and per day.
//!
//! Reads the inventory (`src/inventory/`): AI endpoints and the limits that
//! cover them. Errors: an AI endpoint with no limit; slowapi wired so that
//! it does not limit; a limiter created per request. Warning: limits with
//! no daily window. Limits enforced in front of the app and configured in
//! the repository (nginx, Traefik, Caddy, Kong, API Gateway in a Lambda
//! manifest) are limits like any other (`src/inventory/gateways.rs`,
//! `frameworks/lambda.rs`). Gap: limits configured outside the repository
//! (a Cloudflare dashboard, a managed gateway) are not seen.

use super::{Check, CheckId, Coverage};
use crate::catalog::RateLimitFixes;
use crate::context::ProjectContext;
use crate::findings::{Finding, Redacted, Severity, Span};
use crate::inventory::{Endpoint, Framework, Misuse};

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
        // Stacked route decorators on one handler are one endpoint.
        let mut seen: Vec<(usize, Option<usize>, &str)> = Vec::new();
        let mut daily: std::collections::BTreeMap<(usize, u32), Vec<String>> = Default::default();
        let mut daily_limits: std::collections::BTreeMap<(usize, u32), Vec<String>> =
            Default::default();
        for e in inv.ai_endpoints() {
            let handler = e.handler.map(|h| h.function);
            if handler.is_some() && seen.contains(&(e.file, handler, e.method.as_str())) {
                continue;
            }
            seen.push((e.file, handler, e.method.as_str()));
            let aliases: Vec<&str> = inv
                .ai_endpoints()
                .filter(|o| {
                    o.file == e.file
                        && handler.is_some()
                        && o.handler.map(|h| h.function) == handler
                        && o.method == e.method
                        && o.path != e.path
                })
                .map(|o| o.path.as_str())
                .collect();
            let also = if aliases.is_empty() {
                String::new()
            } else {
                format!(" (also routed as {})", aliases.join(", "))
            };
            let path = facts.file(e.file).path.clone();
            let span = Some(Span {
                line: e.line,
                column: 1,
                end_line: e.line,
                end_column: 1,
            });
            let chain = describe_chain(project, e);
            if e.limits.is_empty() {
                let exempt = if is_exempt(project, e) {
                    " (`@limiter.exempt` removes the app's default limits from it)"
                } else {
                    ""
                };
                out.push(Finding {
                    check: CheckId::RateLimit,
                    rule: "ai-endpoint-not-rate-limited".into(),
                    severity: Severity::Error,
                    path,
                    span,
                    message: format!(
                        "{} {} {}{also} reaches a paid AI call ({chain}) with no rate limit{exempt}",
                        e.framework.name(),
                        e.method,
                        e.path
                    ),
                    evidence: Some(Redacted::public(&format!("{} {}", e.method, e.path))),
                    fix: Some(unlimited_fix(project, e)),
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
                // Limits set only in a config or middleware: the warning goes
                // where the limiter is configured, naming the endpoints.
                if e.limits.iter().all(is_config_limit) {
                    // The limiter's own definition (`const apiLimiter =
                    // rateLimit({ windowMs })`) when it is a named one.
                    let l = &e.limits[0];
                    let at = inv
                        .limiters
                        .iter()
                        .find(|x| x.file == l.file && x.variable == l.spec)
                        .map_or((l.file, l.line), |x| (x.file, x.line));
                    daily
                        .entry(at)
                        .or_default()
                        .push(format!("{} {}{also}", e.method, e.path));
                    daily_limits.entry(at).or_insert(limits);
                    continue;
                }
                out.push(Finding {
                    check: CheckId::RateLimit,
                    rule: "rate-limit-no-daily-cap".into(),
                    severity: Severity::Warning,
                    path,
                    span,
                    message: format!(
                        "{} {}{also} is limited ({}) but has no daily cap",
                        e.method,
                        e.path,
                        limits.join(", ")
                    ),
                    evidence: Some(Redacted::public(&limits.join(", "))),
                    fix: Some(fixes.daily.trim().to_string()),
                });
            }
        }
        for ((file, line), endpoints) in daily {
            let limits = daily_limits.remove(&(file, line)).unwrap_or_default();
            out.push(Finding {
                check: CheckId::RateLimit,
                rule: "rate-limit-no-daily-cap".into(),
                severity: Severity::Warning,
                path: facts.file(file).path.clone(),
                span: Some(Span { line, column: 1, end_line: line, end_column: 1 }),
                message: format!(
                    "the limit configured here ({}) has no daily cap, and it is the only limit on {}",
                    limits.join(", "),
                    endpoints.join(", ")
                ),
                evidence: Some(Redacted::public(&limits.join(", "))),
                fix: Some(fixes.daily.trim().to_string()),
            });
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
                fix: Some(misuse_fix(m, fixes).trim().to_string()),
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

/// A limit set for the whole app or a prefix, not on the route: default
/// limits, `app.use(…)`, a Next.js middleware, router dependencies.
fn is_config_limit(l: &crate::inventory::Limit) -> bool {
    l.how.ends_with("default_limits")
        || l.how.contains(".use(")
        || l.how.contains("(matcher ")
        || l.how.ends_with(" dependencies")
}

/// Is the handler `@limiter.exempt` (a Python limiter's global limit removed)?
fn is_exempt(project: &ProjectContext<'_>, e: &Endpoint) -> bool {
    e.handler.is_some_and(|h| {
        project.facts.file(h.file).functions[h.function]
            .decorators
            .iter()
            .any(|d| d.callee.ends_with(".exempt"))
    })
}

/// The fix for misuse, by rule: each says what is wrong with that wiring;
/// else its framework's recipe.
fn misuse_fix<'f>(m: &Misuse, fixes: &'f RateLimitFixes) -> &'f str {
    match m.rule {
        "limiter-per-request" => &fixes.per_request,
        "slowapi-not-attached" | "slowapi-no-exceeded-handler" => &fixes.slowapi_wiring,
        "slowapi-decorator-order" | "slowapi-missing-request" => &fixes.slowapi_signature,
        _ => fix_for(m.framework, fixes),
    }
}

/// For an unlimited AI endpoint: apply the project's own limiter when it
/// has one for this kind of app (the same file first, else the same
/// language), else the framework's recipe.
fn unlimited_fix(project: &ProjectContext<'_>, e: &Endpoint) -> String {
    let fixes = &project.catalog.rate_limit_fix;
    let facts = project.facts;
    let python = e.framework.is_python();
    let spec = &project.catalog.rate_limit;
    let own = project
        .inventory
        .limiters
        .iter()
        .filter(|l| {
            facts
                .file(l.file)
                .lang
                .is_some_and(|lang| lang.is_python() == python)
        })
        .filter(|l| !l.variable.is_empty())
        .min_by_key(|l| (l.file != e.file, l.file, l.line));
    let Some(l) = own else {
        return fix_for(e.framework, fixes).trim().to_string();
    };
    let how = if spec.python_limiters.contains(&l.kind) {
        &fixes.own_limiter_decorator
    } else if spec.js_limit_calls.contains(&l.kind) {
        &fixes.own_limiter_call
    } else if spec.js_middleware.contains(&l.kind) {
        &fixes.own_limiter_middleware
    } else {
        return fix_for(e.framework, fixes).trim().to_string();
    };
    let at = format!("{}:{}", facts.file(l.file).path, l.line);
    let extra = match l.kind.as_str() {
        "slowapi" => format!(" {}", fixes.own_limiter_slowapi.trim()),
        _ => String::new(),
    };
    format!("{} {}{extra}", fixes.own_limiter.trim(), how.trim())
        .replace("{var}", &l.variable)
        .replace("{kind}", &l.kind)
        .replace("{at}", &at)
}

/// The framework's own recipe (its fix key in `rules/protections.toml`).
fn fix_for(framework: Framework, fixes: &RateLimitFixes) -> &str {
    fixes
        .framework
        .get(framework.fix_key())
        .map_or("", String::as_str)
}
