//! rate-limit-store: limiters that count in process memory (slowapi or
//! flask-limiter without a shared `storage_uri`, express-rate-limit without
//! a `store`, `RateLimiterMemory`). Such a limit resets on every deploy and
//! is multiplied by the number of instances or serverless functions.
//! Hand-written limiters count too (JS `Map`, Python `dict`), when the
//! inventory sees a real limiter: a module-level map keyed by client that
//! rejects, or reads the clock under a counting name (`src/inventory/limits.rs`).
//! Gap: a 429 sent by a caller in another file is not followed.

use super::{Check, CheckId, Coverage};
use crate::context::ProjectContext;
use crate::findings::{Finding, Redacted, Severity, Span};

pub struct RateLimitStore;

impl Check for RateLimitStore {
    fn id(&self) -> CheckId {
        CheckId::RateLimitStore
    }

    fn check_project(&self, project: &ProjectContext<'_>, out: &mut Vec<Finding>) -> Coverage {
        let limiters = &project.inventory.limiters;
        for l in limiters.iter().filter(|l| !l.shared_store) {
            out.push(Finding {
                check: CheckId::RateLimitStore,
                rule: "rate-limit-memory-store".into(),
                severity: Severity::Warning,
                path: project.facts.file(l.file).path.clone(),
                span: Some(Span {
                    line: l.line,
                    column: l.column,
                    end_line: l.line,
                    end_column: l.column,
                }),
                message: format!(
                    "`{}` ({}) counts in process memory: each instance keeps its own count",
                    l.variable, l.kind
                ),
                evidence: Some(Redacted::public(&l.variable)),
                fix: Some(project.catalog.rate_limit_fix.store.trim().to_string()),
            });
        }
        if limiters.is_empty() {
            Coverage::NotApplicable("no rate limiter found".into())
        } else {
            Coverage::Checked
        }
    }
}
