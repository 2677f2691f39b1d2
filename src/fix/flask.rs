//! rate-limit for Flask: Flask-Limiter in the requirements, its imports,
//! `limiter = Limiter(get_remote_address, app=app, storage_uri=...)` after
//! `app = Flask(...)`, and `@limiter.limit("5 per minute")` +
//! `@limiter.limit("50 per day")` under the route decorator.
//!
//! A project with a Flask-Limiter limiter of its own gets that limiter
//! applied: in the route's file, or imported from the file that makes it
//! (in the style the project imports that file), never a second library.
//!
//! A blueprint in a file without the app: the limiter goes into the
//! project's `extensions.py` beside the app's file (appended when it
//! exists, created when not) as `Limiter(get_remote_address, ...)` with no
//! app, the app's file imports it and calls `limiter.init_app(app)` after
//! `app = Flask(...)` (inside `create_app()` too), and the blueprint's file
//! imports it from there: neither imports the other for it, so no import
//! cycle. The import is relative when the app imports the blueprint
//! relatively (a package), else absolute from the same root.

use super::python::{self, def_line, importable_limiter, module_for, style_of};
use super::{deps, edit::indent_of, join, parent, Ctx, Plan};
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
    let app = find_app(file, false);
    // Where the limiter comes from when it is not made in this file.
    let setup = match (&existing, &app) {
        (Some(_), _) => Setup::Existing,
        (None, Some(_)) => Setup::SameFile,
        (None, None) => match elsewhere(ctx, plan, e.file) {
            Some(s) => s,
            None => return false,
        },
    };
    let limiter = match &setup {
        Setup::Imported { name, .. } => name.clone(),
        _ => existing.clone().unwrap_or_else(|| "limiter".to_string()),
    };
    // A file that already binds the name to something else.
    let clash = file.imports.iter().any(|i| {
        i.local == limiter
            && !matches!(&setup, Setup::Imported { module, .. } if *module == i.module)
    }) || file
        .assignments
        .iter()
        .any(|a| a.target == limiter && a.in_function.is_none());
    if clash && matches!(setup, Setup::Imported { .. } | Setup::Extensions { .. }) {
        return false;
    }
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
    match setup {
        Setup::Existing => {}
        Setup::SameFile => {
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
                requirement_and_env(ctx, plan, &path, &f.rule);
            }
        }
        Setup::Imported { module, name } => {
            let import = format!("from {module} import {name}");
            if let Some(doc) = plan.doc(&path) {
                if python::ensure_imports(doc, Some(file), &[import]).is_empty() {
                    return true;
                }
                plan.change(
                    &path,
                    &f.rule,
                    format!("the project's limiter `{name}` imported from {module}"),
                );
            }
        }
        Setup::Extensions {
            extensions,
            app_file,
            app_var,
            app_line,
            from_app,
            from_blueprint,
        } => {
            // The blueprint's file imports the limiter.
            let import = format!("from {from_blueprint} import limiter");
            if let Some(doc) = plan.doc(&path) {
                python::ensure_imports(doc, Some(file), &[import]);
            }
            // extensions.py makes it, bound to no app.
            let Some(ext) = plan.doc(&extensions) else {
                return true;
            };
            if !ext.contains("limiter = Limiter(") {
                let made = fill(&t.blueprint_limiter, &[("limiter", "limiter")]);
                if ext.is_new() {
                    let mut lines = vec![t.extensions_docstring.clone()];
                    lines.extend(t.imports.iter().cloned());
                    lines.extend([String::new(), made]);
                    ext.append(lines);
                } else {
                    python::ensure_imports(ext, None, &t.imports);
                    ext.append([String::new(), made]);
                }
                plan.change(
                    &extensions,
                    &f.rule,
                    "added Flask-Limiter limiter `limiter` (bound in the app's file)",
                );
                requirement_and_env(ctx, plan, &extensions, &f.rule);
            }
            // The app's file binds it.
            let Some(app_doc) = plan.doc(&app_file) else {
                return true;
            };
            let init = format!("{app_var}.init_app({app_var})").replacen(
                &format!("{app_var}.init_app"),
                "limiter.init_app",
                1,
            );
            if !app_doc.contains(&init) {
                let facts = ctx.facts.index_of(&app_file).map(|i| ctx.facts.file(i));
                python::ensure_imports(
                    app_doc,
                    facts,
                    &[format!("from {from_app} import limiter")],
                );
                let at = (app_line as usize).saturating_sub(1);
                let indent = indent_of(app_doc.line(at)).to_string();
                python::insert_after_statement(app_doc, app_line, vec![format!("{indent}{init}")]);
                plan.change(
                    &app_file,
                    &f.rule,
                    format!("limiter.init_app({app_var}): the limiter from {from_app}"),
                );
            }
        }
    }
    true
}

fn requirement_and_env(ctx: &Ctx, plan: &mut Plan, path: &str, rule: &str) {
    let t = &ctx.templates.flask;
    deps::python(plan, path, &t.requirement, rule);
    let dir = super::app_dir(plan, path);
    super::env_example(plan, &dir, &t.env, "", rule);
    plan.manual.env.insert(
        t.env.clone(),
        format!(
            "shared limiter storage, e.g. {} (unset: process memory)",
            t.env_example
        ),
    );
}

enum Setup {
    /// A Flask-Limiter limiter made in the route's file.
    Existing,
    /// `app = Flask(...)` in the route's file: the limiter is made there.
    SameFile,
    /// The project's limiter, made in another file: imported.
    Imported { module: String, name: String },
    /// A blueprint away from the app: the limiter in `extensions.py`.
    Extensions {
        extensions: String,
        app_file: String,
        app_var: String,
        app_line: u32,
        /// The module to import `limiter` from, in the app's file and in
        /// the blueprint's.
        from_app: String,
        from_blueprint: String,
    },
}

/// The route's file has neither a limiter nor the app: the project's own
/// Flask-Limiter limiter in another file, else the app's file that imports
/// this one (with `extensions.py` beside it).
fn elsewhere(ctx: &Ctx, plan: &mut Plan, fi: usize) -> Option<Setup> {
    let file = ctx.facts.file(fi);
    let limiters = || {
        ctx.inventory
            .limiters
            .iter()
            .filter(|l| l.kind.starts_with("flask_limiter"))
    };
    if limiters().next().is_some() {
        // The project's own limiter, never a second one; none importable
        // without a cycle (it is made in the app's file, which imports
        // this one): manual.
        let fallback = || {
            let (app_fi, _, _) = app_importing(ctx, fi)?;
            style_of(ctx, app_fi, fi)
        };
        let (module, name) = importable_limiter(ctx, fi, "flask_limiter", fallback)?;
        return Some(Setup::Imported { module, name });
    }
    let (app_fi, app_var, app_line) = app_importing(ctx, fi)?;
    let app_file = ctx.facts.file(app_fi).path.clone();
    let style = style_of(ctx, app_fi, fi)?;
    let extensions = join(&parent(&app_file), "extensions.py");
    // An extensions.py that names `limiter` for something else: manual.
    if plan.exists(&extensions)
        && plan
            .doc(&extensions)
            .is_some_and(|d| d.contains("limiter") && !d.contains("limiter = Limiter("))
    {
        return None;
    }
    let from_app = module_for(&style, &app_file, &extensions)?;
    let from_blueprint = module_for(&style, &file.path, &extensions)?;
    Some(Setup::Extensions {
        extensions,
        app_file,
        app_var,
        app_line,
        from_app,
        from_blueprint,
    })
}

/// The file with `app = Flask(...)` (top level or in a factory) that
/// imports `fi`: (its index, the app variable, the assignment's line).
fn app_importing(ctx: &Ctx, fi: usize) -> Option<(usize, String, u32)> {
    ctx.facts.files().iter().enumerate().find_map(|(k, f)| {
        let (app, line) = find_app(f, true)?;
        f.imports
            .iter()
            .any(|i| ctx.facts.resolve_import(k, i) == Some(fi))
            .then_some((k, app, line))
    })
}

/// `(app, line)` of `app = Flask(...)` in the file (also inside a function
/// when `factory`).
fn find_app(file: &FileFacts, factory: bool) -> Option<(String, u32)> {
    file.assignments
        .iter()
        .find(|a| {
            (factory || a.in_function.is_none())
                && a.value_callee
                    .as_deref()
                    .is_some_and(|c| c == "Flask" || c.ends_with(".Flask"))
        })
        .map(|a| (a.target.clone(), a.line))
}
