//! rate-limit for FastAPI, as the workflow does it: slowapi in the
//! requirements, its imports, `limiter = Limiter(...)` with its storage
//! read from the environment, `app.state.limiter` and the
//! `RateLimitExceeded` handler on the app, and under the route decorator
//! `@limiter.limit("5/minute")` + `@limiter.limit("50/day")` with a
//! `request: Request` parameter. A file that already has a slowapi limiter
//! gets that limiter applied; so does a file that can import the project's
//! limiter from another module without an import cycle (a `limiter.py`);
//! otherwise a router file gets its own limiter (no import cycle with the
//! app module), the app file registers one.
//! Also mends slowapi misuse: a missing `request`, `app.state.limiter`,
//! the exceeded handler.

use super::python::{self, add_first_param, def_line, param_name};
use super::{deps, edit::indent_of, Ctx, Plan};
use crate::catalog::fixes::fill;
use crate::facts::FileFacts;
use crate::findings::Finding;
use crate::inventory::Endpoint;

pub fn fix(ctx: &Ctx, plan: &mut Plan, f: &Finding, e: &Endpoint) -> bool {
    let Some(handler) = e.handler else {
        return false;
    };
    let file = ctx.facts.file(e.file);
    let function = ctx.facts.function(handler);
    let t = &ctx.templates.fastapi;
    let per_minute = ctx.limits.per_minute.to_string();
    let per_day = ctx.limits.per_day.to_string();
    let existing = existing_limiter(ctx, e.file);
    // The project's own slowapi limiter in another file (a `limiter.py`),
    // when importing it makes no cycle; else this file gets one.
    let imported = match existing {
        Some(_) => None,
        None => python::importable_limiter(ctx, e.file, "slowapi", || {
            python::import_style(ctx, &file.path)
        })
        .filter(|(module, name)| {
            !file
                .imports
                .iter()
                .any(|i| i.local == *name && i.module != *module)
                && !file.assignments.iter().any(|a| a.target == *name)
        }),
    };
    // A limiter must end up on `app.state` of a `FastAPI()` the audit sees;
    // without one (the app is made elsewhere), the fix would be half done.
    if existing.is_none()
        && imported.is_none()
        && !ctx.facts.files().iter().any(|f| find_app(f).is_some())
    {
        return false;
    }
    let limiter = existing
        .clone()
        .or_else(|| imported.as_ref().map(|(_, name)| name.clone()))
        .unwrap_or_else(|| "limiter".to_string());
    let path = file.path.clone();
    {
        let Some(doc) = plan.doc(&path) else {
            return false;
        };
        let Some(def) = def_line(doc, e.line, &function.name) else {
            return false;
        };
        // The decorators that are missing, directly above the `def` (the
        // whole decorator block counts: a limiter above the route too).
        let mut top = (e.line as usize).saturating_sub(1);
        while top > 0 && doc.line(top - 1).trim_start().starts_with('@') {
            top -= 1;
        }
        let above: String = (top..def).map(|i| doc.line(i).to_string()).collect();
        let has = |unit: &str| above.contains(".limit(") && above.contains(unit);
        let wanted: Vec<String> = t
            .decorators
            .iter()
            .map(|d| {
                fill(
                    d,
                    &[
                        ("limiter", &limiter),
                        ("per_minute", &per_minute),
                        ("per_day", &per_day),
                    ],
                )
            })
            .filter(|d| !(d.contains("minute") && has("minute") || d.contains("day") && has("day")))
            .collect();
        let limiter_in_use = above
            .find(".limit(")
            .and_then(|at| above[..at].rsplit('@').next())
            .map(|s| s.trim().to_string());
        let wanted: Vec<String> = match &limiter_in_use {
            Some(name) if !name.is_empty() => wanted
                .into_iter()
                .map(|d| d.replacen(&format!("@{limiter}."), &format!("@{name}."), 1))
                .collect(),
            _ => wanted,
        };
        if !wanted.is_empty() {
            let indent = indent_of(doc.line(def)).to_string();
            let what = wanted.join(" ");
            doc.insert_before(def, wanted.into_iter().map(|d| format!("{indent}{d}")));
            plan.change(&path, &f.rule, format!("{what} on {} {}", e.method, e.path));
        }
    }
    ensure_request(plan, &path, file, function, e.line);
    match imported {
        Some((module, name)) => {
            let import = format!("from {module} import {name}");
            if let Some(doc) = plan.doc(&path) {
                if !python::ensure_imports(doc, Some(file), &[import]).is_empty() {
                    plan.change(
                        &path,
                        &f.rule,
                        format!("the project's limiter `{name}` imported from {module}"),
                    );
                }
            }
        }
        None if existing.is_none() => add_limiter(ctx, plan, e.file, &limiter, &f.rule),
        None => {}
    }
    true
}

/// The variable of a slowapi limiter made in `file`, if any.
fn existing_limiter(ctx: &Ctx, file: usize) -> Option<String> {
    ctx.inventory
        .limiters
        .iter()
        .find(|l| l.file == file && l.kind.starts_with("slowapi"))
        .map(|l| l.variable.clone())
}

/// `request: Request` in the handler's signature: added first, or, when a
/// parameter named `request` holds something else (a body model), that
/// one renamed to `payload` in the function first.
fn ensure_request(
    plan: &mut Plan,
    path: &str,
    file: &FileFacts,
    function: &crate::facts::Function,
    from: u32,
) {
    let t_import = "from fastapi import Request".to_string();
    let Some(doc) = plan.doc(path) else { return };
    let Some(def) = def_line(doc, from, &function.name) else {
        return;
    };
    if !plan.requests.insert((path.to_string(), def)) {
        return;
    }
    let Some(doc) = plan.doc(path) else { return };
    let existing = function.params.iter().find(|p| param_name(p) == "request");
    let typed_request = existing.is_some_and(|p| {
        let annotation = p
            .split_once(':')
            .map(|(_, a)| a.split('=').next().unwrap_or("").trim());
        annotation.is_none_or(|a| a == "Request" || a.ends_with(".Request"))
    });
    if existing.is_some() && typed_request {
        return;
    }
    let mut what = "added request: Request".to_string();
    if existing.is_some() {
        let taken = function.params.iter().any(|p| param_name(p) == "payload");
        let new = if taken { "request_body" } else { "payload" };
        python::rename_in(
            doc,
            def,
            (function.end_line as usize).saturating_sub(1),
            "request",
            new,
        );
        what = format!("renamed parameter request to {new}, added request: Request");
    }
    if add_first_param(doc, def, "request: Request", !function.params.is_empty()) {
        let imported = file.imports.iter().any(|i| i.local == "Request");
        if !imported {
            python::ensure_imports(doc, Some(file), &[t_import]);
        }
        plan.change(
            path,
            "slowapi-missing-request",
            format!("{what} to {}", function.name),
        );
    }
}

/// The limiter in the endpoint's file, and the registration on the app.
fn add_limiter(ctx: &Ctx, plan: &mut Plan, fi: usize, limiter: &str, rule: &str) {
    let t = &ctx.templates.fastapi;
    let file = ctx.facts.file(fi);
    let app = find_app(file);
    let path = file.path.clone();
    let Some(doc) = plan.doc(&path) else { return };
    if doc.contains(&format!("{limiter} = Limiter(")) {
        return;
    }
    python::ensure_imports(doc, Some(file), &t.imports);
    let mut lines = vec![fill(&t.limiter, &[("limiter", limiter)])];
    match &app {
        Some((name, line)) => {
            lines.extend(
                t.register
                    .iter()
                    .map(|r| fill(r, &[("app", name), ("limiter", limiter)])),
            );
            python::insert_after_statement(doc, *line, lines);
        }
        None => {
            // A router file: its own limiter after the imports.
            let last_import = file.imports.iter().map(|i| i.line).max().unwrap_or(0);
            let at = match last_import {
                0 => 0,
                l => super::edit::statement_end(doc, (l as usize).saturating_sub(1)) + 1,
            };
            lines.insert(0, String::new());
            doc.insert_before(at, lines);
        }
    }
    plan.change(&path, rule, format!("added slowapi limiter `{limiter}`"));
    if app.is_none() {
        register_on_app(ctx, plan, rule);
    }
    deps::python(plan, &path, &t.requirement, rule);
    let dir = super::app_dir(plan, &path);
    super::env_example(plan, &dir, &t.env, "", rule);
    plan.manual.env.insert(
        t.env.clone(),
        format!(
            "shared limiter storage, e.g. {} (unset: process memory)",
            t.env_example
        ),
    );
}

/// The file with `X = FastAPI(...)`: a limiter there, registered on X,
/// unless it has one.
fn register_on_app(ctx: &Ctx, plan: &mut Plan, rule: &str) {
    for (fi, file) in ctx.facts.files().iter().enumerate() {
        if find_app(file).is_some() {
            let limiter = existing_limiter(ctx, fi).unwrap_or_else(|| "limiter".into());
            let registered = plan
                .doc(&file.path)
                .is_some_and(|d| d.contains(".state.limiter"));
            if !registered {
                add_limiter(ctx, plan, fi, &limiter, rule);
            }
            return;
        }
    }
}

/// `(app, line)` of `app = FastAPI(...)` in the file.
fn find_app(file: &FileFacts) -> Option<(String, u32)> {
    file.assignments
        .iter()
        .find(|a| {
            a.in_function.is_none()
                && a.value_callee
                    .as_deref()
                    .is_some_and(|c| c == "FastAPI" || c.ends_with(".FastAPI"))
        })
        .map(|a| (a.target.clone(), a.line))
}

/// slowapi misuse findings not tied to an endpoint: the limiter is not on
/// `app.state`, or no handler answers `RateLimitExceeded`.
pub fn fix_misuse(ctx: &Ctx, plan: &mut Plan, f: &Finding) -> bool {
    let Some(fi) = ctx.facts.index_of(&f.path) else {
        return false;
    };
    let file = ctx.facts.file(fi);
    let (Some((app, line)), Some(limiter)) = (find_app(file), existing_limiter(ctx, fi)) else {
        return false;
    };
    let t = &ctx.templates.fastapi;
    let wanted: Vec<String> = match f.rule.as_str() {
        "slowapi-not-attached" => vec![t.register[0].clone()],
        "slowapi-no-exceeded-handler" => t.register[1..].to_vec(),
        _ => return false,
    };
    let Some(doc) = plan.doc(&file.path) else {
        return false;
    };
    let lines: Vec<String> = wanted
        .iter()
        .map(|r| fill(r, &[("app", &app), ("limiter", &limiter)]))
        .filter(|l| !doc.contains(l))
        .collect();
    if lines.is_empty() {
        return true;
    }
    let what = lines.join("; ");
    python::insert_after_statement(doc, line.max(1), lines);
    python::ensure_imports(doc, Some(file), &t.imports[1..]);
    plan.change(&f.path, &f.rule, format!("added {what}"));
    true
}

/// slowapi-decorator-order: the route decorator must be the outermost
/// (topmost), or FastAPI registers the unlimited function. Reorders a
/// block of one-line decorators: route decorators first, the rest after
/// them in their order.
///
/// A slowapi limit also needs `request: Request` in the handler, which the
/// inventory only asks for once the order is right: added here too, or the
/// fixed route would raise at its first call (and a second `aiguard fix`
/// would have more to do; found by the `fix_plan` fuzz target).
pub fn fix_order(ctx: &Ctx, plan: &mut Plan, f: &Finding) -> bool {
    if !reorder(plan, f) {
        return false;
    }
    let line = f.span.map_or(0, |s| s.line);
    let handler = ctx.facts.index_of(&f.path).and_then(|fi| {
        let file = ctx.facts.file(fi);
        let function = file
            .functions
            .iter()
            .find(|func| func.decorators.iter().any(|d| d.line == line))?;
        Some((file, function))
    });
    if let Some((file, function)) = handler {
        let slowapi = function.decorators.iter().any(|d| {
            d.callee.rsplit_once('.').is_some_and(|(object, _)| {
                ctx.inventory
                    .limiters
                    .iter()
                    .any(|l| l.variable == object && l.kind.starts_with("slowapi"))
            })
        });
        let from = function
            .decorators
            .first()
            .map_or(function.line, |d| d.line);
        if slowapi {
            ensure_request(plan, &f.path, file, function, from);
        }
    }
    true
}

/// Put the route decorators of the block around `f`'s line first.
fn reorder(plan: &mut Plan, f: &Finding) -> bool {
    let Some(line) = f.span.map(|s| (s.line as usize).saturating_sub(1)) else {
        return false;
    };
    let Some(doc) = plan.doc(&f.path) else {
        return false;
    };
    let is_decorator = |t: &str| t.trim_start().starts_with('@');
    let mut first = line;
    while first > 0 && is_decorator(doc.line(first - 1)) {
        first -= 1;
    }
    let mut last = line;
    while last + 1 < doc.lines().len() && is_decorator(doc.line(last + 1)) {
        last += 1;
    }
    let block: Vec<String> = (first..=last).map(|i| doc.line(i).to_string()).collect();
    // One-line decorators only: a call spread over lines is left alone.
    if block
        .iter()
        .any(|l| l.matches('(').count() != l.matches(')').count())
    {
        return false;
    }
    let is_route = |l: &&String| {
        !l.contains(".limit(")
            && [
                ".get(",
                ".post(",
                ".put(",
                ".patch(",
                ".delete(",
                ".api_route(",
                ".route(",
            ]
            .iter()
            .any(|m| l.contains(m))
    };
    let mut ordered: Vec<String> = block.iter().filter(is_route).cloned().collect();
    ordered.extend(block.iter().filter(|l| !is_route(l)).cloned());
    if ordered == block || !block.iter().any(|l| is_route(&l)) {
        return false;
    }
    for (k, text) in ordered.into_iter().enumerate() {
        doc.replace(first + k, text);
    }
    plan.change(&f.path, &f.rule, "route decorator moved above the limiter");
    true
}
