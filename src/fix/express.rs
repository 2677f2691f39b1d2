//! rate-limit for Express (express-rate-limit) and Hono (hono-rate-limiter):
//! a per-minute and a per-day limiter declared after the app (or router)
//! is made, and both passed as middleware between the route's path and its
//! handler. A file that already imports the library uses its import; a
//! project that made and exported a limiter of the library in another file
//! gets that one imported and applied instead (no new limiters).
//! Stores stay in memory: the manual steps say to give them a shared one.

use super::edit::statement_end;
use super::{deps, Ctx, Plan};
use crate::catalog::fixes::fill;
use crate::findings::Finding;
use crate::inventory::{Endpoint, Framework};

pub fn fix(ctx: &Ctx, plan: &mut Plan, f: &Finding, e: &Endpoint) -> bool {
    let t = match e.framework {
        Framework::Hono => &ctx.templates.hono,
        _ => &ctx.templates.express,
    };
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
    let path_arg = &call.args[0];
    if path_arg.line != call.line || path_arg.text.len() > 150 {
        return false;
    }
    let daily_only = f.rule == "rate-limit-no-daily-cap";
    // The project's own limiter of this library, exported from another
    // file: imported and applied, no new limiters.
    let theirs = match daily_only {
        true => None,
        false => project_limiter(ctx, plan, e),
    };
    let middleware = match (&theirs, daily_only) {
        (Some((name, _)), _) => name.clone(),
        (None, true) => "aiPerDay".to_string(),
        (None, false) => t.middleware.clone(),
    };
    let (pkg, version) = &t.dependency;
    let local = file
        .imports
        .iter()
        .find(|i| &i.module == pkg)
        .map(|i| i.local.clone());
    let path = file.path.clone();
    let Some(doc) = plan.doc(&path) else {
        return false;
    };
    // Middleware after the path argument.
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
    doc.replace(i, format!("{}, {middleware}{}", &line[..end], &line[end..]));
    plan.change(
        &path,
        &f.rule,
        format!("{middleware} on {} {}", e.method, e.path),
    );
    let Some(doc) = plan.doc(&path) else {
        return true;
    };
    if let Some((name, import)) = theirs {
        if !doc.contains(&import) {
            let last = file
                .imports
                .iter()
                .map(|i| (i.line as usize).saturating_sub(1))
                .max();
            let at = last.map_or(0, |l| statement_end(doc, l) + 1);
            doc.insert_before(at, [import]);
            plan.change(
                &path,
                &f.rule,
                format!("the project's limiter {name} imported"),
            );
        }
        plan.manual.steps.insert(format!(
            "{path}:{} {}: {} {} now goes through the project's limiter {name}; check that its windows include a per-day cap",
            e.line, f.rule, e.method, e.path
        ));
        return true;
    }
    // The limiters, once per file.
    if doc.contains("const aiPerMinute") {
        return true;
    }
    let is_esm = file.imports.iter().any(|imp| {
        doc.lines()
            .get((imp.line as usize).saturating_sub(1))
            .is_some_and(|l| l.trim_start().starts_with("import "))
    }) || path.ends_with(".ts")
        || path.ends_with(".mjs");
    let (per_minute, per_day) = (
        ctx.limits.per_minute.to_string(),
        ctx.limits.per_day.to_string(),
    );
    let mut limiters: Vec<String> = fill(
        &t.limiters,
        &[("per_minute", &per_minute), ("per_day", &per_day)],
    )
    .trim()
    .lines()
    .map(str::to_string)
    .collect();
    let default_name = if e.framework == Framework::Hono {
        "rateLimiter"
    } else {
        "rateLimit"
    };
    if let Some(local) = &local {
        for l in &mut limiters {
            *l = l.replace(&format!("{default_name}("), &format!("{local}("));
        }
    }
    let anchor = file
        .assignments
        .iter()
        .find(|a| a.target == e.object && a.in_function.is_none())
        .map(|a| (a.line as usize).saturating_sub(1))
        .or_else(|| {
            file.imports
                .iter()
                .map(|i| (i.line as usize).saturating_sub(1))
                .max()
        });
    let at = anchor.map_or(0, |a| statement_end(doc, a) + 1);
    doc.insert_before(at, limiters);
    if local.is_none() {
        let import = match (is_esm, &t.import_cjs) {
            (false, Some(cjs)) => cjs.clone(),
            _ => t.import_esm.clone(),
        };
        let last = file
            .imports
            .iter()
            .map(|i| (i.line as usize).saturating_sub(1))
            .max();
        let at = last.map_or(0, |l| statement_end(doc, l) + 1);
        doc.insert_before(at, [import]);
        deps::npm(plan, &path, pkg, version, &f.rule);
    }
    plan.change(
        &path,
        &f.rule,
        format!("added {pkg} limiters aiPerMinute, aiPerDay"),
    );
    plan.manual.steps.insert(format!(
        "{path}: aiPerMinute and aiPerDay count in process memory; give them a shared store (their `store` option, e.g. Redis) before running more than one instance"
    ));
    true
}

/// A limiter of this endpoint's library that the project made and exported
/// in another file of the same app (preferably one already on an AI
/// route): `(its name, the import statement for the endpoint's file)`.
fn project_limiter(ctx: &Ctx, plan: &mut Plan, e: &Endpoint) -> Option<(String, String)> {
    let library = match e.framework {
        Framework::Hono => &ctx.templates.hono.dependency.0,
        _ => &ctx.templates.express.dependency.0,
    };
    let file = ctx.facts.file(e.file);
    let app = super::app_dir(plan, &file.path);
    let mut candidates: Vec<&crate::inventory::Limiter> = ctx
        .inventory
        .limiters
        .iter()
        .filter(|l| &l.kind == library && l.file != e.file)
        .filter(|l| super::app_dir(plan, &ctx.facts.file(l.file).path) == app)
        .collect();
    // One already applied to an AI route first.
    candidates.sort_by_key(|l| {
        !ctx.inventory.ai_endpoints().any(|a| {
            a.limits
                .iter()
                .any(|lim| lim.spec == l.variable || lim.how.ends_with(&format!(" {}", l.variable)))
        })
    });
    let is_ts = [".ts", ".tsx", ".mts", ".cts"]
        .iter()
        .any(|x| file.path.ends_with(x));
    let esm = is_ts
        || file.path.ends_with(".mjs")
        || plan.doc(&file.path).is_some_and(|d| {
            file.imports.iter().any(|imp| {
                d.lines()
                    .get((imp.line as usize).saturating_sub(1))
                    .is_some_and(|l| l.trim_start().starts_with("import "))
            })
        });
    for l in candidates {
        let name = &l.variable;
        // A name the route's file already binds: not this way.
        if file.imports.iter().any(|i| &i.local == name)
            || file.assignments.iter().any(|a| &a.target == name)
        {
            continue;
        }
        let target = ctx.facts.file(l.file).path.clone();
        let doc = plan.doc(&target)?;
        let named = [
            format!("export const {name} "),
            format!("export const {name}="),
            format!("exports.{name} ="),
            format!("module.exports.{name} ="),
        ]
        .iter()
        .any(|p| doc.contains(p))
            || doc.lines().iter().any(|line| {
                let t = line.trim_start();
                (t.starts_with("module.exports = {") || t.starts_with("export {"))
                    && t.split(['{', '}', ',', ' ', ';'])
                        .any(|w| w == name.as_str())
            });
        if !named {
            continue;
        }
        let stem = match is_ts || !esm {
            true => target
                .rsplit_once('.')
                .map_or(target.as_str(), |(s, _)| s)
                .to_string(),
            false => target.clone(),
        };
        let spec = super::next::relative_import(&super::parent(&file.path), &stem);
        let import = match esm {
            true => format!("import {{ {name} }} from \"{spec}\";"),
            false => format!("const {{ {name} }} = require(\"{spec}\");"),
        };
        return Some((name.clone(), import));
    }
    None
}
