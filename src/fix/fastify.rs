//! rate-limit for Fastify (`@fastify/rate-limit`): the plugin registered
//! after the app is made with `global: false` (routes without a limit of
//! their own keep answering as before), and on each AI route
//! `{ preHandler: aiRateLimit }`: two `createRateLimit` counts, per minute
//! and per day, answering 429 with `Retry-After`. Not the route's
//! `config.rateLimit`: it takes one window, and applies only when the
//! plugin was awaited before the route was added (no top-level await in
//! CommonJS). A route that already has an options object on its line gets
//! the key added to it. A route with its own `preHandler`/`onRequest`/
//! `config`, a `fastify.route({...})` route, routes in a route plugin's file
//! (not endpoints the audit sees yet) and a missing daily cap alone stay
//! manual.

use super::edit::statement_end;
use super::{deps, Ctx, Plan};
use crate::catalog::fixes::fill;
use crate::facts::{Assignment, FileFacts};
use crate::findings::Finding;
use crate::inventory::Endpoint;

pub fn fix(ctx: &Ctx, plan: &mut Plan, f: &Finding, e: &Endpoint) -> bool {
    if f.rule != "ai-endpoint-not-rate-limited" {
        return false;
    }
    let t = &ctx.templates.fastify;
    let file = ctx.facts.file(e.file);
    let Some(call) = file.calls.iter().find(|c| {
        c.line == e.line
            && c.callee.starts_with(&format!("{}.", e.object))
            && c.args
                .first()
                .is_some_and(|a| a.text.starts_with(['"', '\'', '`']))
    }) else {
        return false;
    };
    // The app, made in this file: the plugin is registered on it. (Routes
    // in a route plugin's file are not endpoints the audit sees yet.)
    if app_in(file, Some(&e.object)).is_none() {
        return false;
    }
    let app_file = e.file;
    let path_arg = &call.args[0];
    if path_arg.line != call.line || path_arg.text.len() > 150 {
        return false;
    }
    let (per_minute, per_day) = (
        ctx.limits.per_minute.to_string(),
        ctx.limits.per_day.to_string(),
    );
    let options = t.options.clone();
    let path = file.path.clone();
    let is_ts = is_ts(&path);
    let Some(doc) = plan.doc(&path) else {
        return false;
    };
    let i = (path_arg.line as usize).saturating_sub(1);
    let line = doc.line(i).to_string();
    let start: usize = line
        .char_indices()
        .nth((path_arg.column as usize).saturating_sub(1))
        .map_or(line.len(), |(b, _)| b);
    let end = start + path_arg.text.len();
    if line.get(start..end) != Some(path_arg.text.as_str()) {
        return false;
    }
    // An options object after the path: the key goes into it.
    let after = &line[end..];
    let next = after.trim_start().strip_prefix(',').map(str::trim_start);
    let new = match next {
        Some(rest) if rest.starts_with('{') => {
            let object = call.args.get(1).map_or("", |a| a.text.as_str());
            let mine = ["config", "preHandler", "onRequest", "preValidation"];
            if call.args.get(1).is_none_or(|a| a.line != call.line)
                || mine.iter().any(|k| object.contains(&format!("{k}:")))
            {
                return false;
            }
            let inner = options
                .trim()
                .trim_start_matches('{')
                .trim_end_matches('}')
                .trim();
            let at = end + (after.len() - rest.len()) + 1;
            format!("{} {inner},{}", &line[..at], &line[at..])
        }
        _ => format!("{}, {options}{}", &line[..end], after),
    };
    doc.replace(i, new);
    let pkg = &t.dependency.0;
    plan.change(
        &path,
        &f.rule,
        format!("{pkg} limits on {} {}", e.method, e.path),
    );
    register(ctx, plan, app_file, &f.rule);
    // The check, once per file, after the app.
    let Some(doc) = plan.doc(&path) else {
        return true;
    };
    if !doc.contains("async function aiRateLimit(") {
        let types = |s: &'static str| if is_ts { s } else { "" };
        let check = fill(
            &t.check,
            &[
                ("per_minute", &per_minute),
                ("per_day", &per_day),
                (
                    "limits_type",
                    types(": ReturnType<FastifyInstance[\"createRateLimit\"]>[] | undefined"),
                ),
                ("request_type", types(": FastifyRequest")),
                ("reply_type", types(": FastifyReply")),
            ],
        );
        let lines: Vec<String> = check.trim().lines().map(str::to_string).collect();
        let at = app_in(file, Some(&e.object)).map_or(0, |app| {
            statement_end(doc, (app.line as usize).saturating_sub(1)) + 1
        });
        doc.insert_before(at, lines);
        if is_ts {
            doc.insert_before(last_import_end(doc, file), [t.import_types.clone()]);
        }
        plan.change(
            &path,
            &f.rule,
            "aiRateLimit: per minute and per day (createRateLimit)",
        );
    }
    true
}

/// `@fastify/rate-limit` registered right after the app is made (once),
/// imported, and in `package.json`.
fn register(ctx: &Ctx, plan: &mut Plan, fi: usize, rule: &str) {
    let t = &ctx.templates.fastify;
    let (pkg, version) = &t.dependency;
    let file = ctx.facts.file(fi);
    let Some(app) = app_in(file, None) else {
        return;
    };
    let local = file
        .imports
        .iter()
        .find(|i| &i.module == pkg)
        .map(|i| i.local.clone());
    let path = file.path.clone();
    let Some(doc) = plan.doc(&path) else { return };
    let name = local.clone().unwrap_or_else(|| "rateLimit".to_string());
    if doc.contains(&format!(".register({name},")) {
        return;
    }
    let line =
        fill(&t.register, &[("app", &app.target)]).replacen("(rateLimit,", &format!("({name},"), 1);
    let at = statement_end(doc, (app.line as usize).saturating_sub(1)) + 1;
    doc.insert_before(at, [line]);
    if local.is_none() {
        let esm = is_ts(&path)
            || path.ends_with(".mjs")
            || file.imports.iter().any(|imp| {
                doc.lines()
                    .get((imp.line as usize).saturating_sub(1))
                    .is_some_and(|l| l.trim_start().starts_with("import "))
            });
        let import = match esm {
            true => t.import_esm.clone(),
            false => t.import_cjs.clone(),
        };
        doc.insert_before(last_import_end(doc, file), [import]);
        deps::npm(plan, &path, pkg, version, rule);
    }
    plan.change(&path, rule, format!("registered {pkg} (global: false)"));
    plan.manual.steps.insert(format!(
        "{path}: the {pkg} counts are in process memory; give the plugin a shared store (its `redis` option) before running more than one instance"
    ));
}

fn is_ts(path: &str) -> bool {
    [".ts", ".mts", ".cts"].iter().any(|x| path.ends_with(x))
}

/// The line after the file's last import (0 when it has none).
fn last_import_end(doc: &super::edit::Doc, file: &FileFacts) -> usize {
    file.imports
        .iter()
        .map(|i| (i.line as usize).saturating_sub(1))
        .max()
        .map_or(0, |l| statement_end(doc, l) + 1)
}

/// `const app = Fastify(...)` at the top of the file (named `object` when given).
fn app_in<'f>(file: &'f FileFacts, object: Option<&str>) -> Option<&'f Assignment> {
    file.assignments.iter().find(|a| {
        object.is_none_or(|o| a.target == o)
            && a.in_function.is_none()
            && a.value_callee
                .as_deref()
                .is_some_and(|c| c == "Fastify" || c == "fastify" || c.ends_with(".fastify"))
    })
}
