//! rate-limit for Fastify (`@fastify/rate-limit`): the plugin registered
//! after the app is made with `global: false` (routes without a limit of
//! their own keep answering as before), and on each AI route
//! `{ preHandler: aiRateLimit }`: two `createRateLimit` counts, per minute
//! and per day, answering 429 with `Retry-After`. Not the route's
//! `config.rateLimit`: it takes one window, and applies only when the
//! plugin was awaited before the route was added (no top-level await in
//! CommonJS). A route that already has an options object on its line gets
//! the key added to it; one with its own `preHandler`/`onRequest`/`config`,
//! a `fastify.route({...})` route, routes in a plugin file without the app
//! and a missing daily cap alone stay manual.

use super::edit::statement_end;
use super::{deps, Ctx, Plan};
use crate::catalog::fixes::fill;
use crate::findings::Finding;
use crate::inventory::Endpoint;

pub fn fix(ctx: &Ctx, plan: &mut Plan, f: &Finding, e: &Endpoint) -> bool {
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
    // The app, made in this file: the plugin is registered on it.
    let Some(app) = file.assignments.iter().find(|a| {
        a.target == e.object
            && a.in_function.is_none()
            && a.value_callee
                .as_deref()
                .is_some_and(|c| c == "Fastify" || c == "fastify" || c.ends_with(".fastify"))
    }) else {
        return false;
    };
    let path_arg = &call.args[0];
    if path_arg.line != call.line || path_arg.text.len() > 150 {
        return false;
    }
    let (per_minute, per_day) = (
        ctx.limits.per_minute.to_string(),
        ctx.limits.per_day.to_string(),
    );
    if f.rule != "ai-endpoint-not-rate-limited" {
        return false;
    }
    let options = t.options.clone();
    let (pkg, version) = &t.dependency;
    let local = file
        .imports
        .iter()
        .find(|i| &i.module == pkg)
        .map(|i| i.local.clone());
    let path = file.path.clone();
    let is_ts = [".ts", ".mts", ".cts"].iter().any(|x| path.ends_with(x));
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
    // An options object after the path: the keys go into it.
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
    plan.change(
        &path,
        &f.rule,
        format!("{pkg} limits on {} {}", e.method, e.path),
    );
    // The plugin and the daily check, once per file.
    let Some(doc) = plan.doc(&path) else {
        return true;
    };
    if doc.contains("async function aiRateLimit(") {
        return true;
    }
    let is_esm = is_ts
        || path.ends_with(".mjs")
        || file.imports.iter().any(|imp| {
            doc.lines()
                .get((imp.line as usize).saturating_sub(1))
                .is_some_and(|l| l.trim_start().starts_with("import "))
        });
    let types = |s: &'static str| if is_ts { s } else { "" };
    let mut register = fill(
        &t.register,
        &[
            ("app", &e.object),
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
    if let Some(local) = &local {
        register = register.replacen("(rateLimit,", &format!("({local},"), 1);
    }
    let at = statement_end(doc, (app.line as usize).saturating_sub(1)) + 1;
    doc.insert_before(at, register.trim().lines().map(str::to_string));
    let mut imports = Vec::new();
    if local.is_none() {
        imports.push(match is_esm {
            true => t.import_esm.clone(),
            false => t.import_cjs.clone(),
        });
    }
    if is_ts {
        imports.push(t.import_types.clone());
    }
    let last = file
        .imports
        .iter()
        .map(|i| (i.line as usize).saturating_sub(1))
        .max();
    let at = last.map_or(0, |l| statement_end(doc, l) + 1);
    doc.insert_before(at, imports);
    if local.is_none() {
        deps::npm(plan, &path, pkg, version, &f.rule);
    }
    plan.change(
        &path,
        &f.rule,
        format!("registered {pkg} (global: false), aiRateLimit per minute and per day"),
    );
    plan.manual.steps.insert(format!(
        "{path}: the {pkg} counts are in process memory; give the plugin a shared store (its `redis` option) before running more than one instance"
    ));
    true
}
