//! Quota evidence per AI endpoint: does the caller pick the cost (`model`
//! or a token bound taken from the request without a cap or allowlist), is
//! the output unbounded, and does the project track usage per user at all
//! (credits/usage/quota code, a limiter keyed by user id)?

use serde::Serialize;

use super::Endpoint;
use crate::catalog::QuotaSpec;
use crate::facts::{Call, ProjectFacts};

#[derive(Clone, Debug, Default, Serialize)]
pub struct QuotaEvidence {
    /// Arguments the client controls: `model=body.model`.
    pub client_chosen: Vec<String>,
    /// The AI call sets no output token bound.
    pub unbounded_output: bool,
    /// The AI call's `path:line`.
    pub call_at: String,
    /// A loop over a request-supplied list with no cap, one AI call per
    /// item (issue 21): `one AI call per item of `body.prompts` (…)`.
    pub fan_out: Option<String>,
}

/// Per-user usage tracking anywhere in the project, as `what (path:line)`.
pub(super) fn collect_usage_tracking(facts: &ProjectFacts, spec: &QuotaSpec) -> Vec<String> {
    let mut out = Vec::new();
    for file in facts.files() {
        for c in &file.calls {
            let callee = c.callee.to_lowercase();
            let limit_by_user = callee.ends_with(".limit")
                && c.args
                    .first()
                    .is_some_and(|a| a.text.to_lowercase().contains("user"));
            if limit_by_user
                || spec
                    .usage_words
                    .iter()
                    .any(|w| callee.contains(&w.to_lowercase()))
            {
                out.push(format!("{} ({}:{})", c.callee, file.path, c.line));
            }
        }
        for f in &file.functions {
            let name = f.name.to_lowercase();
            if spec
                .usage_words
                .iter()
                .any(|w| name.contains(&w.to_lowercase()))
            {
                out.push(format!("{} ({}:{})", f.name, file.path, f.line));
            }
        }
    }
    out
}

/// (argument name, value) pairs of an AI call: Python keywords, JS object pairs.
fn arguments(call: &Call) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in &call.args {
        if let Some(k) = &a.keyword {
            out.push((k.clone(), a.text.clone()));
        }
        out.extend(a.pairs.iter().cloned());
    }
    out
}

pub(super) fn evidence(
    e: &Endpoint,
    facts: &ProjectFacts,
    spec: &QuotaSpec,
) -> Option<QuotaEvidence> {
    let chain = e.reaches.as_ref()?;
    let call = facts.call(chain.call);
    let args = arguments(call);
    let all_text: String = call
        .args
        .iter()
        .map(|a| a.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let bounded = args.iter().any(|(k, _)| spec.token_bounds.contains(k))
        || spec
            .token_bounds
            .iter()
            .any(|b| all_text.contains(b.as_str()));
    let from_request = |v: &str| {
        spec.request_words.iter().any(|w| v.contains(w.as_str()))
            && !spec.cap_words.iter().any(|w| v.contains(w.as_str()))
    };
    let client_chosen = args
        .iter()
        .filter(|(k, v)| (k == "model" || spec.token_bounds.contains(k)) && from_request(v))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Some(QuotaEvidence {
        client_chosen,
        unbounded_output: !bounded,
        call_at: format!("{}:{}", facts.file(chain.call.0).path, call.line),
        fan_out: None,
    })
}
