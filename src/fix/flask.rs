//! rate-limit for Flask: Flask-Limiter in the requirements, its imports,
//! `limiter = Limiter(get_remote_address, app=app, storage_uri=...)` after
//! `app = Flask(...)`, and `@limiter.limit("5 per minute")` +
//! `@limiter.limit("50 per day")` under the route decorator. A file that
//! already has a Flask-Limiter limiter gets that one applied. Blueprints
//! in files without the app stay manual (the limiter must be attached to
//! the app where it is made).

use super::python::{self, def_line};
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
    let t = &ctx.templates.flask;
    let existing = ctx
        .inventory
        .limiters
        .iter()
        .find(|l| l.file == e.file && l.kind.starts_with("flask_limiter"))
        .map(|l| l.variable.clone());
    let app = find_app(file);
    if existing.is_none() && app.is_none() {
        return false;
    }
    let limiter = existing.clone().unwrap_or_else(|| "limiter".to_string());
    let (per_minute, per_day) = (
        ctx.limits.per_minute.to_string(),
        ctx.limits.per_day.to_string(),
    );
    let path = file.path.clone();
    let Some(doc) = plan.doc(&path) else {
        return false;
    };
    let Some(def) = def_line(doc, e.line, &function.name) else {
        return false;
    };
    let above: String = ((e.line as usize).saturating_sub(1)..def)
        .map(|i| doc.line(i).to_string())
        .collect();
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
    if !wanted.is_empty() {
        let indent = indent_of(doc.line(def)).to_string();
        let what = wanted.join(" ");
        doc.insert_before(def, wanted.into_iter().map(|d| format!("{indent}{d}")));
        plan.change(&path, &f.rule, format!("{what} on {} {}", e.method, e.path));
    }
    if existing.is_none() {
        let Some((app, line)) = app else { return true };
        let Some(doc) = plan.doc(&path) else {
            return true;
        };
        if !doc.contains(&format!("{limiter} = Limiter(")) {
            python::ensure_imports(doc, Some(file), &t.imports);
            python::insert_after_statement(
                doc,
                line,
                vec![fill(&t.limiter, &[("limiter", &limiter), ("app", &app)])],
            );
            plan.change(
                &path,
                &f.rule,
                format!("added Flask-Limiter limiter `{limiter}` on {app}"),
            );
            deps::python(plan, &path, &t.requirement, &f.rule);
            let dir = super::app_dir(plan, &path);
            super::env_example(plan, &dir, &t.env, "", &f.rule);
            plan.manual.env.insert(
                t.env.clone(),
                format!(
                    "shared limiter storage, e.g. {} (unset: process memory)",
                    t.env_example
                ),
            );
        }
    }
    true
}

/// `(app, line)` of `app = Flask(...)` in the file.
fn find_app(file: &FileFacts) -> Option<(String, u32)> {
    file.assignments
        .iter()
        .find(|a| {
            a.in_function.is_none()
                && a.value_callee
                    .as_deref()
                    .is_some_and(|c| c == "Flask" || c.ends_with(".Flask"))
        })
        .map(|a| (a.target.clone(), a.line))
}
