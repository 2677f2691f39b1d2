//! rate-limit for Next.js route handlers: one shared module
//! (`lib/ratelimit.ts`, or `lib/ai-ratelimit.ts` when the project has its
//! own) with a per-minute and a per-day `@upstash/ratelimit` limiter in
//! Upstash Redis, checked at the start of each AI handler, answering 429;
//! both packages in `package.json`, the two Upstash variables in
//! `.env.example`. Server actions call `limitAction()` from a module beside
//! it (the address from `next/headers`; over a limit it throws). Pages API
//! routes answer `res.status(429)`.

use super::{app_dir, deps, edit::indent_of, env_example, join, parent, Ctx, Plan};
use crate::catalog::fixes::fill;
use crate::findings::Finding;
use crate::inventory::{Endpoint, Framework};

pub fn fix(ctx: &Ctx, plan: &mut Plan, f: &Finding, e: &Endpoint) -> bool {
    let Some(handler) = e.handler else {
        return false;
    };
    let t = &ctx.templates.next;
    let file = ctx.facts.file(e.file);
    let function = ctx.facts.function(handler);
    let path = file.path.clone();
    let dir = app_dir(plan, &path);
    let lib = match plan.root_has_dir(&join(&dir, "src/app")) {
        true => join(&dir, "src/lib"),
        false => join(&dir, "lib"),
    };
    let module = [join(&lib, "ratelimit.ts"), join(&lib, "ai-ratelimit.ts")]
        .into_iter()
        .find(|m| {
            !plan.exists(m)
                || plan
                    .doc(m)
                    .is_some_and(|d| d.contains("export async function rateLimited("))
        })
        .unwrap_or_else(|| join(&lib, "ai-ratelimit.ts"));
    let request = function
        .params
        .first()
        .map(|p| {
            p.split([':', '=', '?'])
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .filter(|p| !p.is_empty() && !p.starts_with('{'));
    let Some(doc) = plan.doc(&path) else {
        return false;
    };
    let start = (function.line as usize).saturating_sub(1);
    // A handler with its own limiter call: the audit reads one limiter per
    // handler, so a second one would go unseen; adding windows to the
    // project's limiter is left to the user.
    let end = (function.end_line as usize).min(doc.lines().len());
    if (start..end).any(|i| doc.lines()[i].contains(".limit(")) {
        return false;
    }
    let Some(open) = (start..(start + 12).min(doc.lines().len()))
        .find(|&i| doc.line(i).trim_end().ends_with('{'))
    else {
        return false;
    };

    let action = e.framework == Framework::ServerAction;
    let pages = e.framework == Framework::NextPages;
    let response = function
        .params
        .get(1)
        .map(|p| {
            p.split([':', '=', '?'])
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .filter(|p| !p.is_empty() && !p.starts_with('{'));
    if pages && (request.is_none() || response.is_none()) {
        return false;
    }
    let request = match request {
        _ if action => String::new(),
        Some(r) => r,
        None => {
            let line = doc.line(start).to_string();
            let Some(at) = line.find("()") else {
                return false;
            };
            doc.replace(
                start,
                format!("{}(request: Request){}", &line[..at], &line[at + 2..]),
            );
            "request".to_string()
        }
    };
    let next = doc.lines().get(open + 1).cloned().unwrap_or_default();
    let indent = match indent_of(&next).len() > indent_of(doc.line(open)).len() {
        true => indent_of(&next).to_string(),
        false => format!("{}  ", indent_of(doc.line(open))),
    };
    let which = match f.rule.as_str() {
        "rate-limit-no-daily-cap" => ", [perDay]",
        _ => "",
    };
    let check = match (action, pages) {
        (true, _) => t.action_check.clone(),
        (_, true) => fill(
            &t.pages_check,
            &[
                ("request", &request),
                ("response", response.as_deref().unwrap_or("res")),
                ("which", which),
            ],
        ),
        _ => fill(&t.check, &[("request", &request), ("which", which)]),
    };
    doc.insert_before(open + 1, check.lines().map(|l| format!("{indent}{l}")));
    let stem = module.trim_end_matches(".ts").to_string();
    let action_module = format!("{stem}-action.ts");
    let target = match action {
        true => action_module.trim_end_matches(".ts"),
        false => stem.as_str(),
    };
    let import_path = relative_import(&parent(&path), target);
    let names = match (action, pages, which.is_empty()) {
        (true, _, _) => "limitAction",
        (_, true, true) => "rateLimited",
        (_, true, false) => "perDay, rateLimited",
        (_, _, true) => "clientKey, rateLimited",
        (_, _, false) => "clientKey, perDay, rateLimited",
    };
    let import = format!("import {{ {names} }} from \"{import_path}\";");
    let last_import = file
        .imports
        .iter()
        .map(|i| i.line as usize)
        .max()
        .unwrap_or(0);
    let at = match last_import {
        0 => usize::from(file.directives.iter().any(|d| d == "use server")),
        l => super::edit::statement_end(doc, l - 1) + 1,
    };
    if !doc.contains(&import) {
        doc.insert_before(at, [import]);
    }
    plan.change(
        &path,
        &f.rule,
        format!("429 from {module} on {} {}", e.method, e.path),
    );
    if !plan.exists(&module) {
        let (per_minute, per_day) = (
            ctx.limits.per_minute.to_string(),
            ctx.limits.per_day.to_string(),
        );
        let text = fill(
            &t.module,
            &[("per_minute", &per_minute), ("per_day", &per_day)],
        );
        if let Some(doc) = plan.doc(&module) {
            doc.append(text.trim_start().lines().map(str::to_string));
            plan.change(
                &module,
                &f.rule,
                "per-minute and per-day limiters (@upstash/ratelimit)",
            );
        }
    }
    if action && !plan.exists(&action_module) {
        let base = stem.rsplit('/').next().unwrap_or("ratelimit").to_string();
        let text = fill(&t.action_module, &[("module", &base)]);
        if let Some(doc) = plan.doc(&action_module) {
            doc.append(text.trim_start().lines().map(str::to_string));
            plan.change(&action_module, &f.rule, "limitAction() for server actions");
        }
    }
    for (name, version) in &t.dependencies {
        deps::npm(plan, &path, name, version, &f.rule);
    }
    for name in &t.env {
        env_example(plan, &dir, name, "", &f.rule);
        plan.manual.env.insert(
            name.clone(),
            "from the Upstash console (Redis database, REST API)".into(),
        );
    }
    true
}

/// `./x`-style import of `target` (root-relative, no extension) from `from_dir`.
pub fn relative_import(from_dir: &str, target: &str) -> String {
    let from: Vec<&str> = from_dir.split('/').filter(|s| !s.is_empty()).collect();
    let to: Vec<&str> = target.split('/').filter(|s| !s.is_empty()).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = from.len() - common;
    let mut parts: Vec<String> = match ups {
        0 => vec![".".to_string()],
        n => vec!["..".to_string(); n],
    };
    parts.extend(to[common..].iter().map(|s| s.to_string()));
    parts.join("/")
}

#[cfg(test)]
mod tests {
    #[test]
    fn relative_imports() {
        assert_eq!(
            super::relative_import("app/api/chat", "lib/ratelimit"),
            "../../../lib/ratelimit"
        );
        assert_eq!(
            super::relative_import("", "lib/ratelimit"),
            "./lib/ratelimit"
        );
        assert_eq!(super::relative_import("web/app", "web/lib/x"), "../lib/x");
    }
}
