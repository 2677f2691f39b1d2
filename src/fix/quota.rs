//! quota: a token bound the client picks is capped (`min(value, 1024)`,
//! `Math.min(Number(value), 1024)`), a model the client picks goes through
//! a server-side allowlist with a default (`ALLOWED_MODELS`, starting with
//! one cheap model of the provider). The cap is written at the call, so a
//! value that reached it through a variable (`limit = body.max_tokens`,
//! `const { max_tokens } = await req.json()` and the shorthand
//! `{ max_tokens }`) is capped too. Per-user usage tracking and an
//! unbounded output stay manual: they need the project's user model.

use super::{Ctx, Plan};
use crate::catalog::fixes::fill;
use crate::findings::Finding;

pub fn fix(ctx: &Ctx, plan: &mut Plan, f: &Finding) {
    if f.rule != "quota-client-chooses-cost" {
        return super::manual(ctx, plan, f);
    }
    let line = f.span.map_or(0, |s| s.line);
    let Some(e) = ctx
        .inventory
        .endpoints
        .iter()
        .find(|e| ctx.facts.file(e.file).path == f.path && e.line == line)
    else {
        return super::manual(ctx, plan, f);
    };
    let Some(q) = &e.quota else {
        return super::manual(ctx, plan, f);
    };
    let Some((path, call_line)) = q
        .call_at
        .rsplit_once(':')
        .and_then(|(p, l)| Some((p.to_string(), l.parse::<usize>().ok()?)))
    else {
        return super::manual(ctx, plan, f);
    };
    let provider = ctx
        .inventory
        .ai_calls
        .iter()
        .find(|c| {
            ctx.facts.file(c.file).path == path
                && ctx.facts.call((c.file, c.call)).line as usize == call_line
        })
        .map(|c| c.provider.to_lowercase())
        .unwrap_or_default();
    let t = &ctx.templates.quota;
    let is_python = path.ends_with(".py");
    let max = t.max_tokens.to_string();
    let Some(doc) = plan.doc(&path) else { return };
    let mut done = Vec::new();
    let mut needs_models = false;
    for chosen in &q.client_chosen {
        let Some((key, value)) = chosen.split_once('=') else {
            continue;
        };
        // `limit (from `limit = body.max_tokens`, line 12)`: the argument is
        // the variable; capping it at the call caps whatever flowed into it.
        let value = match value.find(" (") {
            Some(at) => &value[..at],
            None => value,
        };
        let is_model = key == "model";
        let new_value = match (is_model, is_python) {
            (true, true) => fill(&t.python_model, &[("value", value)]),
            (true, false) => fill(&t.js_model, &[("value", value)]),
            (false, true) => fill(&t.python_cap, &[("value", value), ("max", &max)]),
            (false, false) => fill(&t.js_cap, &[("value", value), ("max", &max)]),
        };
        let patterns = match is_python {
            true => vec![format!("{key}={value}"), format!("{key} = {value}")],
            false => vec![format!("{key}: {value}"), format!("{key}:{value}")],
        };
        let first = call_line.saturating_sub(1);
        let end = super::edit::statement_end(doc, first).min(first + 40);
        let hit = (first..=end).find_map(|i| {
            let l = doc.line(i).to_string();
            patterns
                .iter()
                .find(|p| l.contains(p.as_str()))
                .map(|p| (i, l.clone(), p.clone()))
        });
        // `{ model, max_tokens }`: a shorthand property (JS).
        let shorthand = || {
            if is_python || key != value {
                return None;
            }
            let word = regex::Regex::new(&format!(
                r"([{{,]\s*|^\s*){}(\s*[,}}]|\s*$)",
                regex::escape(key)
            ))
            .ok()?;
            (first..=end).find_map(|i| {
                let l = doc.line(i).to_string();
                let m = word.captures(&l)?;
                let all = m.get(0)?;
                let new = format!(
                    "{}{}{key}: {new_value}{}{}",
                    &l[..all.start()],
                    m.get(1)?.as_str(),
                    m.get(2)?.as_str(),
                    &l[all.end()..]
                );
                Some((i, new))
            })
        };
        if let Some((i, l, p)) = hit {
            let sep = if is_python { "=" } else { ": " };
            doc.replace(i, l.replacen(&p, &format!("{key}{sep}{new_value}"), 1));
            done.push(key.to_string());
            needs_models |= is_model;
        } else if let Some((i, new)) = shorthand() {
            doc.replace(i, new);
            done.push(key.to_string());
            needs_models |= is_model;
        }
    }
    if needs_models && !doc.contains("ALLOWED_MODELS =") {
        let model = t
            .default_models
            .iter()
            .find(|(p, _)| provider.contains(p.as_str()))
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| "gpt-4o-mini".into());
        let lines = match is_python {
            true => &t.python_models,
            false => &t.js_models,
        };
        let lines: Vec<String> = lines
            .iter()
            .map(|l| fill(l, &[("model", &model)]))
            .collect();
        let last_import = (0..doc.lines().len())
            .filter(|&i| {
                let l = &doc.lines()[i];
                l.starts_with("import ")
                    || l.starts_with("from ")
                    || l.starts_with("const ") && l.contains("require(")
            })
            .max();
        let at = last_import.map_or(0, |i| super::edit::statement_end(doc, i) + 1);
        doc.insert_before(at, lines);
    }
    if done.is_empty() {
        return super::manual(ctx, plan, f);
    }
    plan.change(
        &path,
        &f.rule,
        format!("server-side bound on {}", done.join(", ")),
    );
    plan.manual.steps.insert(format!(
        "{}:{} quota: the caller's choice is now capped; track usage per user too (a table of tokens per user and day, checked before the call)",
        f.path, line
    ));
}
