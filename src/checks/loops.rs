//! loops (warning): no AI call can run away (issue 21).
//!
//! Reads the inventory's loop sites (loops and recursive functions that
//! make an AI call, directly or through project functions), the facts'
//! calls and decorators matched against `rules/loops.toml` (agents, retry
//! libraries, SDK clients), and React effects and data hooks
//! (`loops/browser.rs`). Gaps: a `while cond` loop is judged only when its
//! own body sets what the condition reads (a worker's `while running:` is
//! stopped from outside); a bound held in a variable
//! (`max_iterations=LIMIT`) is trusted; a worker's `while True` that makes
//! an AI call per job it reads is reported (suppress it with a reason).

mod browser;

use super::{Check, CheckId, Coverage};
use crate::catalog::loops::{
    imports_from, is_imported_call, setting, AgentSpec, RetrySpec, Setting,
};
use crate::context::ProjectContext;
use crate::facts::{Call, FileFacts, FnRef};
use crate::findings::{Finding, Redacted, Severity, Span};
use crate::inventory::{LoopSite, Repeater};

pub struct Loops;

impl Check for Loops {
    fn id(&self) -> CheckId {
        CheckId::Loops
    }

    fn check_project(&self, project: &ProjectContext<'_>, out: &mut Vec<Finding>) -> Coverage {
        let before = out.len();
        unbounded_loops(project, out);
        agents(project, out);
        retries(project, out);
        browser::effects(project, out);
        let inv = project.inventory;
        if inv.ai_calls.is_empty() && inv.ai_endpoints().next().is_none() && out.len() == before {
            return Coverage::NotApplicable("no AI call site".into());
        }
        Coverage::Checked
    }
}

fn finding(
    rule: &str,
    path: &str,
    line: u32,
    column: u32,
    message: String,
    evidence: &str,
    fix: &str,
) -> Finding {
    Finding {
        check: CheckId::Loops,
        rule: rule.into(),
        severity: Severity::Warning,
        path: path.to_string(),
        span: Some(Span {
            line,
            column,
            end_line: line,
            end_column: column,
        }),
        message,
        evidence: Some(Redacted::public(evidence)),
        fix: Some(fix.trim().to_string()),
    }
}

/// `OpenAI `client.chat.completions.create` at llm.py:8 (via `complete`)`.
fn describe_ai(project: &ProjectContext<'_>, site: &LoopSite) -> String {
    let facts = project.facts;
    let (f, c) = site.ai_call;
    let call = facts.call((f, c));
    let provider = project
        .inventory
        .ai_calls
        .iter()
        .find(|a| a.file == f && a.call == c)
        .map(|a| a.provider.as_str())
        .unwrap_or("AI");
    let via = site
        .via
        .map(|v| format!(", through `{}`", facts.function(v).name))
        .unwrap_or_default();
    format!(
        "{provider} `{}` at {}:{}{via}",
        call.callee,
        facts.file(f).path,
        call.line
    )
}

/// Rule 1, and rule 3's hand-written retry: one finding per loop or
/// recursive function (its first AI call names it).
fn unbounded_loops(project: &ProjectContext<'_>, out: &mut Vec<Finding>) {
    let facts = project.facts;
    let fixes = &project.catalog.loops.fix;
    let mut done: Vec<(usize, Repeater)> = Vec::new();
    for site in &project.inventory.loop_sites {
        if !site.is_unbounded(facts) || done.contains(&(site.file, site.repeater)) {
            continue;
        }
        done.push((site.file, site.repeater));
        let file = facts.file(site.file);
        let python = file.lang.is_some_and(|l| l.is_python());
        let ai = describe_ai(project, site);
        match site.repeater {
            Repeater::Loop(i) => {
                let l = &file.loops[i];
                let (rule, message, fix) = if l.retries_on_error {
                    (
                        "retry-unbounded",
                        format!(
                            "{} retries an AI call ({ai}) after every error, with no limit on attempts",
                            l.kind.label(python)
                        ),
                        if python { &fixes.retry_python } else { &fixes.retry_js },
                    )
                } else {
                    let stops = match (&l.condition, &l.exit_on) {
                        (Some(c), _) => {
                            format!("it runs while `{c}`, which only its own body changes")
                        }
                        (None, Some(c)) => {
                            format!("it stops only when `{c}`, which the response decides")
                        }
                        (None, None) => "no counter is compared with a limit".to_string(),
                    };
                    (
                        "ai-call-in-unbounded-loop",
                        format!(
                            "{} makes an AI call ({ai}) and nothing bounds its iterations: {stops}",
                            l.kind.label(python)
                        ),
                        if python {
                            &fixes.loop_python
                        } else {
                            &fixes.loop_js
                        },
                    )
                };
                let evidence =
                    format!("{} in {}", l.kind.label(python), place(file, l.in_function));
                out.push(finding(
                    rule, &file.path, l.line, 1, message, &evidence, fix,
                ));
            }
            Repeater::Recursion(i) => {
                let r = &file.recursion[i];
                let f = &file.functions[r.function];
                let message = format!(
                    "`{}` calls itself (line {}) and makes an AI call ({ai}) with no depth limit",
                    f.name, r.line
                );
                let evidence = format!("recursion {}", f.name);
                out.push(finding(
                    "ai-call-in-unbounded-loop",
                    &file.path,
                    f.line,
                    1,
                    message,
                    &evidence,
                    &fixes.recursion,
                ));
            }
        }
    }
}

/// Rule 2: agents whose every step bound is off.
fn agents(project: &ProjectContext<'_>, out: &mut Vec<Finding>) {
    for file in project.facts.files() {
        let specs: Vec<&AgentSpec> = (project.catalog.loops.agent.iter())
            .filter(|spec| imports_from(file, &spec.modules))
            .collect();
        if specs.is_empty() {
            continue;
        }
        for call in &file.calls {
            for spec in &specs {
                if !is_imported_call(file, call, &spec.modules, &spec.calls) {
                    continue;
                }
                if let Some(how) = unbounded_agent(call, spec) {
                    let message = format!(
                        "`{}` ({}) runs without a step bound ({how}): the agent loops until the model stops calling tools",
                        call.callee, spec.name
                    );
                    let evidence =
                        format!("{} {how} in {}", call.callee, place(file, call.in_function));
                    out.push(finding(
                        "agent-unbounded",
                        &file.path,
                        call.line,
                        call.column,
                        message,
                        &evidence,
                        &spec.fix,
                    ));
                }
            }
        }
    }
}

/// `max_iterations=None, no max_execution_time` when no bound holds.
fn unbounded_agent(call: &Call, spec: &AgentSpec) -> Option<String> {
    let mut how = Vec::new();
    for bound in &spec.bounds {
        let key = present_key(call, &bound.keys);
        match setting(call, &bound.keys) {
            Setting::Absent => match bound.default {
                Some(d) if d <= spec.max => return None,
                _ => how.push(format!("no {key}")),
            },
            Setting::Off(v) => how.push(format!("{key}={v}")),
            Setting::Number(n) if n > spec.max => {
                how.push(format!("{key}={n} (above {})", spec.max))
            }
            Setting::Number(_) | Setting::Other(_) => return None,
        }
    }
    Some(how.join(", "))
}

/// Rule 3: retry decorators and wrappers without a stop around an AI
/// call, and SDK clients with too many automatic retries.
fn retries(project: &ProjectContext<'_>, out: &mut Vec<Finding>) {
    let loops = &project.catalog.loops;
    let reaching = &project.inventory.reaching;
    for (fi, file) in project.facts.files().iter().enumerate() {
        let reaches = |f: usize| {
            reaching.contains_key(&FnRef {
                file: fi,
                function: f,
            })
        };
        let specs: Vec<&RetrySpec> = (loops.retry.iter())
            .filter(|spec| imports_from(file, &spec.modules))
            .collect();
        for (f, function) in file.functions.iter().enumerate() {
            for d in &function.decorators {
                for spec in &specs {
                    if !is_imported_call(file, d, &spec.modules, &spec.calls) || !reaches(f) {
                        continue;
                    }
                    if let Some(how) = endless_retry(d, spec) {
                        let message = format!(
                            "{} `@{}` on `{}` retries an AI call without end ({how})",
                            spec.name, d.callee, function.name
                        );
                        out.push(finding(
                            "retry-unbounded",
                            &file.path,
                            d.line,
                            d.column,
                            message,
                            &format!("{} {}", d.callee, function.name),
                            &spec.fix,
                        ));
                    }
                }
            }
        }
        for call in &file.calls {
            for spec in &specs {
                if !is_imported_call(file, call, &spec.modules, &spec.calls) {
                    continue;
                }
                // The wrapped function literal, else the function the wrapper is in.
                let wrapped = call
                    .args
                    .first()
                    .and_then(|a| a.function)
                    .or(call.in_function);
                if !wrapped.is_some_and(reaches) {
                    continue;
                }
                if let Some(how) = endless_retry(call, spec) {
                    let message = format!(
                        "{} `{}` retries an AI call without end ({how})",
                        spec.name, call.callee
                    );
                    out.push(finding(
                        "retry-unbounded",
                        &file.path,
                        call.line,
                        call.column,
                        message,
                        &format!("{} in {}", call.callee, place(file, call.in_function)),
                        &spec.fix,
                    ));
                }
            }
            sdk_retries(project, file, call, out);
        }
    }
}

fn endless_retry(call: &Call, spec: &RetrySpec) -> Option<String> {
    for key in &spec.forever_keys {
        if setting(call, std::slice::from_ref(key)) == Setting::Other("true".into()) {
            return Some(format!("{key}: true"));
        }
    }
    let mut any = false;
    for key in &spec.stop_keys {
        match setting(call, std::slice::from_ref(key)) {
            Setting::Absent => {}
            Setting::Off(v) => return Some(format!("{key}={v}")),
            Setting::Other(v) if spec.endless_values.contains(&v) => {
                return Some(format!("{key}={v}"))
            }
            Setting::Number(_) | Setting::Other(_) => any = true,
        }
    }
    match any || spec.bounded_by_default {
        true => None,
        false => Some(format!("no {}", spec.stop_keys.join(" or "))),
    }
}

/// An AI SDK client built with more automatic retries than the catalogue allows.
fn sdk_retries(
    project: &ProjectContext<'_>,
    file: &FileFacts,
    call: &Call,
    out: &mut Vec<Finding>,
) {
    let spec = &project.catalog.loops.sdk_retries;
    // The setting first: few calls have one, every call has a callee.
    let how = match setting(call, &spec.keys) {
        Setting::Off(v) => v,
        Setting::Number(n) if n > spec.max => n.to_string(),
        _ => return,
    };
    let head = call.callee.split('.').next().unwrap_or(&call.callee);
    let python = file.lang.is_some_and(|l| l.is_python());
    let is_sdk = file.import_of(head).is_some_and(|i| {
        project
            .catalog
            .sdk_for_name(&i.module, i.name.as_deref(), python)
            .is_some()
    });
    if !is_sdk {
        return;
    }
    let message = format!(
        "`{}` is created with {}={how}: every failed AI call is retried up to that many times (the limit here is {})",
        call.callee,
        present_key(call, &spec.keys),
        spec.max
    );
    out.push(finding(
        "retry-unbounded",
        &file.path,
        call.line,
        call.column,
        message,
        &format!("{} {how}", call.callee),
        &spec.fix,
    ));
}

/// The one of `keys` the call sets (for messages), else the first.
fn present_key<'k>(call: &Call, keys: &'k [String]) -> &'k str {
    keys.iter()
        .find(|k| setting(call, std::slice::from_ref(*k)) != Setting::Absent)
        .unwrap_or(&keys[0])
}

/// Where a finding sits, for evidence (and so fingerprints) that survive
/// edits: the enclosing function's name, not a line.
pub(super) fn place(file: &FileFacts, function: Option<usize>) -> String {
    function
        .and_then(|f| file.functions.get(f))
        .map(|f| format!("`{}`", f.name))
        .unwrap_or_else(|| "the module".to_string())
}
