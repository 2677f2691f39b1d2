//! rate-limit for Django, with django-ratelimit: the requirement, and on
//! the view a short window and a daily cap, both keyed by the user (the
//! client's address when signed out) and blocking:
//! `@ratelimit(key="user_or_ip", rate="5/m", block=True)` and the same with
//! `rate="50/d"`, right above the view's `def` (under `@api_view`,
//! `@login_required` and the like). A method of a class view or a ViewSet
//! (`ChatView.post`, `ChatViewSet.create`) gets them inside
//! `@method_decorator(…)`. django-ratelimit counts in Django's cache: the
//! manual steps say to point `CACHES` at a shared one (the default
//! `LocMemCache` counts per process) and that a blocked request raises
//! `Ratelimited`, answered 403 unless `RATELIMIT_VIEW` names a view that
//! answers 429.

use super::python::{self, def_line};
use super::{deps, edit::indent_of, Ctx, Plan};
use crate::catalog::fixes::fill;
use crate::findings::Finding;
use crate::inventory::Endpoint;

pub fn fix(ctx: &Ctx, plan: &mut Plan, f: &Finding, e: &Endpoint) -> bool {
    let Some(handler) = e.handler else {
        return false;
    };
    let file = ctx.facts.file(e.file);
    let function = ctx.facts.function(handler);
    let t = &ctx.templates.django;
    // `ChatView.post`: a method of a class view.
    let method = function.name.contains('.');
    let (per_minute, per_day) = (
        ctx.limits.per_minute.to_string(),
        ctx.limits.per_day.to_string(),
    );
    let path = file.path.clone();
    let Some(doc) = plan.doc(&path) else {
        return false;
    };
    let Some(def) = def_line(doc, function.line, &function.name) else {
        return false;
    };
    let first = function
        .decorators
        .iter()
        .map(|d| d.line as usize)
        .min()
        .unwrap_or(def + 1);
    let above: String = (first.saturating_sub(1)..def)
        .map(|i| doc.line(i).to_string())
        .collect();
    // A view with a `@ratelimit` already (one that does not block, or in a
    // shape the audit did not read): manual, never a second one.
    if above.contains("ratelimit(") {
        return false;
    }
    let templates = match method {
        true => &t.method_decorators,
        false => &t.decorators,
    };
    let wanted: Vec<String> = templates
        .iter()
        .map(|d| fill(d, &[("per_minute", &per_minute), ("per_day", &per_day)]))
        .collect();
    let indent = indent_of(doc.line(def)).to_string();
    doc.insert_before(def, wanted.iter().map(|d| format!("{indent}{d}")));
    let mut imports = vec![t.import.clone()];
    if method {
        imports.push(t.method_import.clone());
    }
    python::ensure_imports(doc, Some(file), &imports);
    plan.change(
        &path,
        &f.rule,
        format!(
            "django-ratelimit, {per_minute}/m and {per_day}/d, on {} {}",
            e.method, e.path
        ),
    );
    deps::python(plan, &path, &t.requirement, &f.rule);
    plan.manual.steps.insert(t.manual.trim().to_string());
    true
}
