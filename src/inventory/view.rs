//! The inventory as plain data for reports: what `aiguard inventory` prints
//! and what the audit header counts. Built from the inventory and facts;
//! reporters never see facts. Every piece of evidence (AI calls, the chain
//! to them, rate limits, auth, quota, usage tracking) is an object with a
//! kind, a path, a line and a detail, never a display string.

use serde::Serialize;

use super::Inventory;
use crate::facts::ProjectFacts;

#[derive(Clone, Debug, Default, Serialize)]
pub struct InventoryView {
    pub frameworks: Vec<String>,
    pub ai_call_sites: usize,
    pub ai_endpoints: usize,
    /// Every AI call site (kind `ai-call`, detail `provider callee`).
    pub ai_calls: Vec<EvidenceView>,
    /// The AI call sites no endpoint reaches (same form): while there are
    /// any, what the endpoint checks say is incomplete.
    pub unlinked_ai_calls: Vec<EvidenceView>,
    pub endpoints: Vec<EndpointView>,
    /// Per-user usage tracking accepted as evidence (kind, path, line, detail).
    pub usage_tracking: Vec<super::UsageEvidence>,
    /// AI call sites that sit in a loop or a recursive function, and what
    /// bounds each (issue 21); call sites not listed run once per call.
    pub ai_call_loops: Vec<AiLoopView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AiLoopView {
    /// The AI call site: `provider callee at path:line`.
    pub call: String,
    /// `while-true`, `for-ever`, `do-while-true`, `for-each`,
    /// `while-condition` or `recursion`.
    pub kind: String,
    /// `path:line` of the loop, or of the recursive function.
    pub at: String,
    /// The project function called in the loop on the way to the AI call.
    pub via: Option<String>,
    /// What bounds it; `None`: nothing does.
    pub bound: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EndpointView {
    pub framework: String,
    pub method: String,
    pub path: String,
    pub file: String,
    pub line: u32,
    pub handler: Option<String>,
    /// The AI call it reaches, if any.
    pub ai: Option<AiView>,
    /// Rate limits (kind `rate-limit`, detail: how it applies and its spec).
    pub rate_limits: Vec<EvidenceView>,
    /// Authentication found (kind `enforced`, `checked`, …; detail: how).
    pub auth: Vec<EvidenceView>,
    /// Quota evidence (kind `client-chosen` or `unbounded-output`).
    pub quota: Vec<EvidenceView>,
}

/// One piece of evidence, at a place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EvidenceView {
    pub kind: String,
    pub path: String,
    pub line: u32,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct AiView {
    pub provider: String,
    pub call: String,
    pub path: String,
    pub line: u32,
    /// Project functions from the handler to the call (kind `function`).
    pub chain: Vec<EvidenceView>,
}

fn at(kind: &str, path: &str, line: u32, detail: String) -> EvidenceView {
    EvidenceView {
        kind: kind.to_string(),
        path: path.to_string(),
        line,
        detail,
    }
}

impl InventoryView {
    pub fn new(inv: &Inventory, facts: &ProjectFacts) -> InventoryView {
        let endpoints = inv
            .endpoints
            .iter()
            .map(|e| EndpointView {
                framework: e.framework.name().to_string(),
                method: e.method.clone(),
                path: e.path.clone(),
                file: facts.file(e.file).path.clone(),
                line: e.line,
                handler: e
                    .handler
                    .map(|h| facts.function(h).shown_name().to_string()),
                ai: e.reaches.as_ref().map(|chain| {
                    let (cf, cc) = chain.call;
                    let call = facts.call((cf, cc));
                    AiView {
                        provider: inv
                            .ai_calls
                            .iter()
                            .find(|a| a.file == cf && a.call == cc)
                            .map(|a| a.provider.clone())
                            .unwrap_or_default(),
                        call: call.callee.clone(),
                        path: facts.file(cf).path.clone(),
                        line: call.line,
                        chain: chain
                            .functions
                            .iter()
                            .map(|f| {
                                let function = facts.function(*f);
                                at(
                                    "function",
                                    &facts.file(f.file).path,
                                    function.line,
                                    function.shown_name().to_string(),
                                )
                            })
                            .collect(),
                    }
                }),
                rate_limits: e
                    .limits
                    .iter()
                    .map(|l| {
                        let detail = format!("{} {}", l.how, l.spec);
                        at("rate-limit", &facts.file(l.file).path, l.line, detail)
                    })
                    .collect(),
                auth: e
                    .auth
                    .iter()
                    .map(|a| {
                        let kind = serde_json::to_value(a.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default();
                        // Auth evidence carries a line, not a file: the
                        // endpoint's file, or the middleware its text names.
                        let path = match a.how.split_once(" (auth on a matcher") {
                            Some((mw, _)) => mw.to_string(),
                            None => facts.file(e.file).path.clone(),
                        };
                        at(&kind, &path, a.line, a.how.clone())
                    })
                    .collect(),
                quota: e
                    .quota
                    .iter()
                    .flat_map(|q| {
                        let (path, line) = e
                            .reaches
                            .as_ref()
                            .map(|c| (facts.file(c.call.0).path.clone(), facts.call(c.call).line))
                            .unwrap_or_default();
                        let mut out: Vec<EvidenceView> = q
                            .client_chosen
                            .iter()
                            .map(|c| at("client-chosen", &path, line, c.clone()))
                            .collect();
                        out.extend(
                            q.fan_out
                                .iter()
                                .map(|f| at("client-chosen-fan-out", &path, line, f.clone())),
                        );
                        if q.unbounded_output {
                            out.push(at(
                                "unbounded-output",
                                &path,
                                line,
                                "no output token bound".into(),
                            ));
                        }
                        out
                    })
                    .collect(),
            })
            .collect();
        let site_of = |file: usize, call: usize| {
            let c = facts.call((file, call));
            let provider = inv
                .ai_calls
                .iter()
                .find(|a| a.file == file && a.call == call)
                .map(|a| a.provider.as_str())
                .unwrap_or_default();
            format!(
                "{provider} `{}` at {}:{}",
                c.callee,
                facts.file(file).path,
                c.line
            )
        };
        let mut ai_call_loops: Vec<AiLoopView> = inv
            .loop_sites
            .iter()
            .map(|s| AiLoopView {
                call: site_of(s.ai_call.0, s.ai_call.1),
                kind: s.kind_id(facts),
                at: format!("{}:{}", facts.file(s.file).path, s.line(facts)),
                via: s.via.map(|f| facts.function(f).name.clone()),
                bound: s.bound(facts),
            })
            .collect();
        ai_call_loops.sort_by(|a, b| (&a.call, &a.at).cmp(&(&b.call, &b.at)));
        InventoryView {
            ai_call_loops,
            frameworks: inv
                .frameworks
                .iter()
                .map(|f| f.name().to_string())
                .collect(),
            ai_call_sites: inv.ai_calls.len(),
            ai_calls: inv
                .ai_calls
                .iter()
                .map(|a| call_evidence(a, facts))
                .collect(),
            unlinked_ai_calls: inv
                .unlinked
                .iter()
                .map(|a| call_evidence(a, facts))
                .collect(),
            ai_endpoints: inv.ai_endpoints().count(),
            endpoints,
            usage_tracking: inv.usage_tracking.clone(),
        }
    }
}

impl InventoryView {
    /// Put `prefix` (a root, `apps/web/`) before every file path, for a
    /// report of several roots.
    pub fn prefix_paths(&mut self, prefix: &str) {
        if prefix.is_empty() {
            return;
        }
        // `… at path:line`: the path follows the last ` at `.
        let after = |text: &mut String, marker: &str| {
            if let Some(i) = text.rfind(marker) {
                text.insert_str(i + marker.len(), prefix);
            }
        };
        let evidence = |e: &mut EvidenceView| e.path.insert_str(0, prefix);
        self.ai_calls.iter_mut().for_each(evidence);
        self.unlinked_ai_calls.iter_mut().for_each(evidence);
        for u in &mut self.usage_tracking {
            u.path.insert_str(0, prefix);
        }
        for l in &mut self.ai_call_loops {
            after(&mut l.call, " at ");
            l.at.insert_str(0, prefix);
        }
        for e in &mut self.endpoints {
            e.file.insert_str(0, prefix);
            e.rate_limits.iter_mut().for_each(evidence);
            e.auth.iter_mut().for_each(evidence);
            e.quota.iter_mut().for_each(evidence);
            if let Some(ai) = &mut e.ai {
                ai.path.insert_str(0, prefix);
                ai.chain.iter_mut().for_each(evidence);
            }
        }
    }

    /// Add another root's inventory (already prefixed).
    pub fn extend(&mut self, other: InventoryView) {
        for f in other.frameworks {
            if !self.frameworks.contains(&f) {
                self.frameworks.push(f);
            }
        }
        self.ai_call_sites += other.ai_call_sites;
        self.ai_endpoints += other.ai_endpoints;
        self.ai_calls.extend(other.ai_calls);
        self.unlinked_ai_calls.extend(other.unlinked_ai_calls);
        self.endpoints.extend(other.endpoints);
        self.usage_tracking.extend(other.usage_tracking);
        self.ai_call_loops.extend(other.ai_call_loops);
    }
}

/// An AI call site as evidence: kind `ai-call`, detail `provider callee`.
fn call_evidence(a: &super::AiCall, facts: &ProjectFacts) -> EvidenceView {
    let call = facts.call((a.file, a.call));
    let detail = format!("{} {}", a.provider, call.callee);
    at("ai-call", &facts.file(a.file).path, call.line, detail)
}
