//! Which AI calls repeat (issue 21): every loop or recursive function that
//! makes an AI call, directly or through project functions (the same
//! reachability as endpoints), with what bounds it; and per AI endpoint,
//! a loop over a list taken from the request (the caller picks how many
//! AI calls one request makes).

use std::collections::HashMap;

use super::Endpoint;
use crate::catalog::loops::InteractiveSpec;
use crate::catalog::QuotaSpec;
use crate::facts::{Chain, FileFacts, FnRef, Loop, LoopKind, ProjectFacts};

/// What repeats: a loop of a file, or a recursive function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeater {
    /// Index into `FileFacts::loops`.
    Loop(usize),
    /// Index into `FileFacts::recursion`.
    Recursion(usize),
}

/// A loop (or recursion) that repeats an AI call.
#[derive(Clone, Debug)]
pub struct LoopSite {
    pub file: usize,
    pub repeater: Repeater,
    /// The AI call it repeats (file, call).
    pub ai_call: (usize, usize),
    /// The call in the loop that leads there (itself when direct).
    pub call: usize,
    /// The project function that call goes to, when not direct.
    pub via: Option<FnRef>,
    /// What outside the model paces or ends the loop, as a bound: a call
    /// that waits for input each time round (`input("You: ")`,
    /// `websocket.receive_json()`), or the next item taken before the AI
    /// call, whose absence ends it (a worker draining a queue).
    pub paced_by: Option<String>,
}

impl LoopSite {
    /// The enclosing function of the loop (the function itself for recursion).
    pub fn function(&self, facts: &ProjectFacts) -> Option<usize> {
        let file = facts.file(self.file);
        match self.repeater {
            Repeater::Loop(i) => file.loops[i].in_function,
            Repeater::Recursion(i) => Some(file.recursion[i].function),
        }
    }

    /// Line of the loop header or of the recursive function.
    pub fn line(&self, facts: &ProjectFacts) -> u32 {
        let file = facts.file(self.file);
        match self.repeater {
            Repeater::Loop(i) => file.loops[i].line,
            Repeater::Recursion(i) => file.functions[file.recursion[i].function].line,
        }
    }

    /// `while-true`, `for-each`, … or `recursion`.
    pub fn kind_id(&self, facts: &ProjectFacts) -> String {
        match self.repeater {
            Repeater::Loop(i) => serde_json::to_value(facts.file(self.file).loops[i].kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            Repeater::Recursion(_) => "recursion".into(),
        }
    }

    /// What bounds the repetition, if anything does.
    pub fn bound(&self, facts: &ProjectFacts) -> Option<String> {
        let file = facts.file(self.file);
        match self.repeater {
            Repeater::Loop(i) => {
                let l = &file.loops[i];
                l.bound
                    .clone()
                    .or_else(|| match &l.condition {
                        Some(c) if !sets_own_condition(file, l) => {
                            Some(format!("`{c}`, which the loop body does not change"))
                        }
                        _ => None,
                    })
                    .or_else(|| self.paced_by.clone())
            }
            Repeater::Recursion(i) => file.recursion[i].bound.clone(),
        }
    }

    /// Repeats without end unless something outside stops it.
    pub fn is_unbounded(&self, facts: &ProjectFacts) -> bool {
        let file = facts.file(self.file);
        match self.repeater {
            Repeater::Loop(i) => {
                let l = &file.loops[i];
                l.bound.is_none()
                    && self.paced_by.is_none()
                    && (l.kind.is_endless() || sets_own_condition(file, l))
            }
            Repeater::Recursion(i) => file.recursion[i].bound.is_none(),
        }
    }
}

/// `while not done: … done = reply.finish_reason == "stop"`: the body sets
/// what the condition reads, so only the data decides when it stops (a
/// worker's `while running:`, set from outside, is left alone).
fn sets_own_condition(file: &FileFacts, l: &Loop) -> bool {
    let Some(cond) = &l.condition else {
        return false;
    };
    let names: Vec<&str> = cond
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '$'))
        .filter(|n| !n.is_empty())
        .collect();
    file.assignments.iter().any(|a| {
        a.in_function == l.in_function
            && a.line > l.line
            && a.line <= l.end_line
            && names.contains(&a.target.trim())
    })
}

/// Every loop and recursive function that repeats an AI call.
pub(super) fn collect(
    facts: &ProjectFacts,
    is_ai: &dyn Fn(usize, usize) -> bool,
    reaching: &HashMap<FnRef, Chain>,
    interactive: &InteractiveSpec,
) -> Vec<LoopSite> {
    let mut sites = Vec::new();
    for (fi, file) in facts.files().iter().enumerate() {
        if file.loops.is_empty() && file.recursion.is_empty() {
            continue;
        }
        // The calls that lead to an AI call, found once per file: loops
        // times calls was quadratic on a minified bundle.
        let leads: Vec<(usize, (usize, usize), Option<FnRef>)> = file
            .calls
            .iter()
            .enumerate()
            .filter_map(|(ci, call)| {
                if is_ai(fi, ci) {
                    return Some((ci, (fi, ci), None));
                }
                let target = facts.resolve_call(fi, call)?;
                Some((ci, reaching.get(&target)?.call, Some(target)))
            })
            .collect();
        if leads.is_empty() {
            continue;
        }
        let repeaters = (0..file.loops.len())
            .map(Repeater::Loop)
            .chain((0..file.recursion.len()).map(Repeater::Recursion));
        for repeater in repeaters {
            let mut seen: Vec<(usize, usize)> = Vec::new();
            for &(ci, ai_call, via) in &leads {
                let call = &file.calls[ci];
                let inside = match repeater {
                    Repeater::Loop(i) => file.loops[i].contains(file, call.in_function, call.line),
                    Repeater::Recursion(i) => {
                        let f = file.recursion[i].function;
                        // The self-call is the recursion, not a way to the AI call.
                        let own = via.is_some_and(|v| v.file == fi && v.function == f);
                        !own && call.in_function.is_some_and(|g| file.is_within(g, f))
                    }
                };
                if inside && !seen.contains(&ai_call) {
                    seen.push(ai_call);
                    let paced_by = match repeater {
                        Repeater::Loop(i) => {
                            let l = &file.loops[i];
                            paced_by(facts, fi, l, interactive, is_ai)
                                .map(|c| format!("waits for outside input each time round (`{c}`)"))
                                .or_else(|| drains(file, l, call).map(|c| {
                                    format!("takes one item (`{c}`) each time round and stops when none is left")
                                }))
                        }
                        Repeater::Recursion(_) => None,
                    };
                    sites.push(LoopSite {
                        file: fi,
                        repeater,
                        ai_call,
                        call: ci,
                        via,
                        paced_by,
                    });
                }
            }
        }
    }
    sites
}

/// An endless loop whose exit tests what a call made before the AI call
/// gave (`file_id = claim_next(session)`, then `if file_id is None: break`,
/// then the work): it drains a queue or a cursor, so the input, not the
/// model's answer, ends it. The callee of that call.
fn drains(file: &FileFacts, l: &Loop, leading: &crate::facts::Call) -> Option<String> {
    let condition = l.exit_on.as_deref()?;
    let names: Vec<&str> = condition
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|n| !n.is_empty())
        .collect();
    file.assignments.iter().find_map(|a| {
        let callee = a.value_callee.as_deref()?;
        let before = a.in_function == l.in_function
            && a.line > l.line
            && a.line < leading.line
            && a.line <= l.end_line;
        (before && callee != leading.callee && names.contains(&a.target.trim()))
            .then(|| callee.to_string())
    })
}

/// A call in loop `l` that waits for outside input, or one to a function of the
/// same file that makes one (`userInput = await ask()`): its callee. Not
/// the AI call itself (a library's `model.prompt(…)`).
fn paced_by(
    facts: &ProjectFacts,
    fi: usize,
    l: &Loop,
    interactive: &InteractiveSpec,
    is_ai: &dyn Fn(usize, usize) -> bool,
) -> Option<String> {
    let file = facts.file(fi);
    let waits = |ci: usize, c: &crate::facts::Call| !is_ai(fi, ci) && interactive.waits(&c.callee);
    file.calls.iter().enumerate().find_map(|(ci, c)| {
        if !l.contains(file, c.in_function, c.line) {
            return None;
        }
        if waits(ci, c) {
            return Some(c.callee.clone());
        }
        let target = facts.resolve_call(fi, c).filter(|t| t.file == fi)?;
        let asks = file.calls.iter().enumerate().any(|(cj, d)| {
            d.in_function
                .is_some_and(|g| file.is_within(g, target.function))
                && waits(cj, d)
        });
        asks.then(|| c.callee.clone())
    })
}

/// A loop on the endpoint's way to its AI call that iterates over a list
/// taken from the request, with no cap on its length: `loop at path:line
/// over body.prompts`.
pub(super) fn fan_out(
    e: &Endpoint,
    sites: &[LoopSite],
    facts: &ProjectFacts,
    spec: &QuotaSpec,
) -> Option<String> {
    let handler = e.handler?;
    let chain = e.reaches.as_ref()?;
    for site in sites {
        let Repeater::Loop(i) = site.repeater else {
            continue;
        };
        let file = facts.file(site.file);
        let l = &file.loops[i];
        if l.kind != LoopKind::ForEach {
            continue;
        }
        let Some(function) = l.in_function else {
            continue;
        };
        let here = FnRef {
            file: site.file,
            function,
        };
        let on_path = chain.functions.contains(&here)
            || (site.file == handler.file && file.is_within(function, handler.function));
        if !on_path {
            continue;
        }
        let iterable = l.iterable.as_deref().unwrap_or_default();
        if !from_request(file, function, iterable, spec)
            || is_capped(file, function, iterable)
            || has_capped_schema(facts, iterable)
        {
            continue;
        }
        return Some(format!(
            "one AI call per item of `{iterable}` (loop at {}:{})",
            file.path, l.line
        ));
    }
    None
}

/// Does the iterable come from the request, as written or through one
/// assignment in the same function (`const { prompts } = await req.json()`)?
fn from_request(file: &FileFacts, function: usize, iterable: &str, spec: &QuotaSpec) -> bool {
    let mentions = |t: &str| spec.request_words.iter().any(|w| t.contains(w.as_str()));
    if mentions(iterable) {
        return true;
    }
    let name = iterable.split(['.', '[', '(']).next().unwrap_or(iterable);
    if name.is_empty() {
        return false;
    }
    file.assignments.iter().any(|a| {
        a.in_function.is_some_and(|f| file.is_within(function, f))
            && names_in(&a.target).any(|n| n == name)
            && mentions(&a.text)
    })
}

fn names_in(target: &str) -> impl Iterator<Item = &str> {
    target
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|s| !s.is_empty())
}

/// A slice in the iterable (`items[:10]`, `.slice(0, 10)`) or a length
/// check that exits early in the function.
fn is_capped(file: &FileFacts, function: usize, iterable: &str) -> bool {
    if iterable.contains("[:") || iterable.contains(".slice(") || iterable.contains("[0:") {
        return true;
    }
    file.limit_guards.iter().any(|(f, _, cond)| {
        f.is_some_and(|g| file.is_within(function, g))
            && (cond.contains("len(") || cond.contains(".length") || cond.contains(".size"))
    })
}

/// Words that cap a list in a request schema: pydantic `Field(max_length=10)`,
/// `conlist(str, max_length=10)`, zod `z.array(…).max(10)`.
const SCHEMA_CAPS: [&str; 5] = ["max_length", "max_items", "conlist(", ".max(", "maxItems"];

/// Does a schema anywhere in the project cap the list's field (`prompts`
/// of `body.prompts`)? Matched by field name, so any model with a capped
/// field of that name counts: a miss here is a finding, never a crash.
fn has_capped_schema(facts: &ProjectFacts, iterable: &str) -> bool {
    let field = iterable
        .rsplit('.')
        .next()
        .unwrap_or(iterable)
        .trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
    if field.is_empty() {
        return false;
    }
    let pair = format!("{field}:");
    facts.files().iter().flat_map(|f| &f.assignments).any(|a| {
        let capped = |t: &str| SCHEMA_CAPS.iter().any(|w| t.contains(w));
        // A class field (`prompts: list[str] = Field(max_length=10)`) or a
        // zod object (`prompts: z.array(z.string()).max(10)` in its text).
        (a.target == field && capped(&a.text))
            || a.text.split(&pair).skip(1).any(|rest| {
                let value = rest.split([',', '}']).next().unwrap_or(rest);
                capped(value)
            })
    })
}
