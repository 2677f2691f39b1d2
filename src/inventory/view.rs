//! The inventory as plain data for reports: what `aiguard inventory` prints
//! and what the audit header counts. Built from the inventory and facts;
//! reporters never see facts.

use serde::Serialize;

use super::Inventory;
use crate::facts::ProjectFacts;

#[derive(Clone, Debug, Default, Serialize)]
pub struct InventoryView {
    pub frameworks: Vec<String>,
    pub ai_call_sites: usize,
    pub ai_endpoints: usize,
    /// Every AI call site: `provider callee at path:line`.
    pub ai_calls: Vec<String>,
    /// The AI call sites no endpoint reaches (same form): while there are
    /// any, what the endpoint checks say is incomplete.
    pub unlinked_ai_calls: Vec<String>,
    pub endpoints: Vec<EndpointView>,
    /// Signs of per-user usage tracking (credits, usage tables, limits by user).
    pub usage_tracking: Vec<String>,
    /// AI call sites that sit in a loop or a recursive function, and what
    /// bounds each (issue 21); call sites not listed run once per call.
    pub ai_call_loops: Vec<AiLoopView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AiLoopView {
    /// The AI call site, as in `ai_calls`.
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
    pub rate_limits: Vec<LimitView>,
    /// Authentication found: `enforced: Depends(get_current_user) (line 12)`.
    pub auth: Vec<String>,
    /// Quota evidence: client-chosen cost arguments, missing output bound.
    pub quota: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AiView {
    pub provider: String,
    pub call: String,
    /// `path:line` of the AI call.
    pub at: String,
    /// Project functions from the handler to the call.
    pub chain: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LimitView {
    pub how: String,
    pub spec: String,
    pub at: String,
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
                handler: e.handler.map(|h| facts.function(h).name.clone()),
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
                        at: format!("{}:{}", facts.file(cf).path, call.line),
                        chain: chain
                            .functions
                            .iter()
                            .map(|f| {
                                format!(
                                    "{} ({}:{})",
                                    facts.function(*f).name,
                                    facts.file(f.file).path,
                                    facts.function(*f).line
                                )
                            })
                            .collect(),
                    }
                }),
                rate_limits: e
                    .limits
                    .iter()
                    .map(|l| LimitView {
                        how: l.how.clone(),
                        spec: l.spec.clone(),
                        at: format!("{}:{}", facts.file(l.file).path, l.line),
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
                        format!("{kind}: {} (line {})", a.how, a.line)
                    })
                    .collect(),
                quota: e
                    .quota
                    .iter()
                    .flat_map(|q| {
                        let mut out: Vec<String> = q
                            .client_chosen
                            .iter()
                            .map(|c| format!("client chooses {c}"))
                            .collect();
                        out.extend(
                            q.fan_out
                                .iter()
                                .map(|f| format!("client chooses the fan-out: {f}")),
                        );
                        if q.unbounded_output {
                            out.push(format!(
                                "no output token bound on the AI call at {}",
                                q.call_at
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
                .map(|a| describe_call(a, facts))
                .collect(),
            unlinked_ai_calls: inv
                .unlinked
                .iter()
                .map(|a| describe_call(a, facts))
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
        // `… at path:line`, `name (path:line)`: the path follows the last
        // ` at ` or ` (`.
        let after = |text: &mut String, marker: &str| {
            if let Some(i) = text.rfind(marker) {
                text.insert_str(i + marker.len(), prefix);
            }
        };
        for call in self.ai_calls.iter_mut().chain(&mut self.unlinked_ai_calls) {
            after(call, " at ");
        }
        for e in &mut self.endpoints {
            e.file.insert_str(0, prefix);
            for l in &mut e.rate_limits {
                l.at.insert_str(0, prefix);
            }
            for q in &mut e.quota {
                if q.starts_with("no output token bound") {
                    after(q, " at ");
                }
            }
            if let Some(ai) = &mut e.ai {
                ai.at.insert_str(0, prefix);
                for f in &mut ai.chain {
                    after(f, " (");
                }
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
    }
}

/// `provider callee at path:line`.
fn describe_call(a: &super::AiCall, facts: &ProjectFacts) -> String {
    let call = facts.call((a.file, a.call));
    format!(
        "{} `{}` at {}:{}",
        a.provider,
        call.callee,
        facts.file(a.file).path,
        call.line
    )
}
