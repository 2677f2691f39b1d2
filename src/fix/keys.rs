//! keys-in-code: a key literal in Python or TS/JS source becomes an
//! environment read in the file's idiom (`os.environ["OPENAI_API_KEY"]`,
//! `process.env.OPENAI_API_KEY`; a pydantic settings field loses its
//! default, so the settings object reads the variable), the name goes into
//! `.env.example` without a value, the value into the app's ignored `.env`
//! (so it keeps working locally), and the key is listed to rotate.
//! Notebooks, JSON, YAML, Markdown, shell and the like stay manual.
//!
//! keys-in-client `public-env-secret`: renamed to the unprefixed name when
//! only server code reads it (see [`fix_public`]); hosting settings are a
//! manual step.

use super::{app_dir, env_example, join, python, Ctx, Plan};
use crate::findings::Finding;
use regex::Regex;
use std::collections::BTreeSet;

pub fn fix(ctx: &Ctx, plan: &mut Plan, f: &Finding) {
    let is_python = f.path.ends_with(".py");
    let is_js = [".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx", ".mts", ".cts"]
        .iter()
        .any(|e| f.path.ends_with(e));
    let Some(span) = f.span.filter(|_| is_python || is_js) else {
        return super::manual(ctx, plan, f);
    };
    let env_var = ctx
        .catalog
        .keys
        .rules()
        .iter()
        .find(|r| r.spec.id == f.rule)
        .and_then(|r| r.spec.env_var.clone());
    let Some(doc) = plan.doc(&f.path) else { return };
    let i = (span.line as usize).saturating_sub(1);
    let line = doc.line(i).to_string();
    let Some((start, end)) = literal_at(&line, span.column as usize) else {
        return super::manual(ctx, plan, f);
    };
    let value = line[start + 1..end - 1].to_string();
    let name = assigned_name(&line[..start])
        .or(env_var)
        .unwrap_or_else(|| {
            format!(
                "{}_API_KEY",
                f.rule.split('-').next().unwrap_or("AI").to_uppercase()
            )
        });
    let settings_field = is_python
        && doc.lines().iter().any(|l| l.contains("BaseSettings"))
        && line.starts_with([' ', '\t'])
        && line[..start].contains(':');
    // The project's settings object (a class reading the environment that
    // this file imports, Django's settings): the key becomes its attribute.
    let object = match is_python && !settings_field {
        true => settings_object(ctx, plan, &f.path, &name, &f.rule),
        false => None,
    };
    let Some(doc) = plan.doc(&f.path) else { return };
    let new = if settings_field {
        // `openai_api_key: str = "sk-…"` → `openai_api_key: str`
        let head = line[..start].trim_end().trim_end_matches('=').trim_end();
        format!("{head}{}", &line[end..])
    } else if let Some(o) = &object {
        format!("{}{}.{name}{}", &line[..start], o.expr, &line[end..])
    } else if is_python {
        let read = env_read(doc, &name);
        format!("{}{read}{}", &line[..start], &line[end..])
    } else {
        format!("{}process.env.{name}{}", &line[..start], &line[end..])
    };
    doc.replace(i, new);
    doc.mask(&value);
    let file = ctx.facts.index_of(&f.path).map(|fi| ctx.facts.file(fi));
    match &object {
        Some(o) => {
            if let Some(import) = &o.import {
                python::ensure_imports(doc, file, std::slice::from_ref(import));
            }
        }
        None if is_python && !settings_field => {
            python::ensure_imports(doc, file, &["import os".to_string()]);
        }
        None => {}
    }
    match &object {
        Some(o) => plan.change(
            &f.path,
            &f.rule,
            format!("key read from {}.{name} ({})", o.expr, o.path),
        ),
        None => plan.change(&f.path, &f.rule, format!("key read from {name}")),
    }
    let dir = app_dir(plan, &f.path);
    env_example(plan, &dir, &name, "", &f.rule);
    let dotenv = join(&dir, ".env");
    let shown = crate::findings::Redacted::from_secret(&value);
    // Whether the value is kept in `.env` (not when `.env` cannot be
    // edited: a symlink, not UTF-8).
    let mut kept = false;
    if ctx.dotenv_ignored {
        if let Some(env) = plan.doc(&dotenv) {
            kept = true;
            env.mask(&value);
            if !env
                .lines()
                .iter()
                .any(|l| l.starts_with(&format!("{name}=")))
                && !env.contains(&format!("{name}="))
            {
                env.append([format!("{name}={value}")]);
                plan.change(&dotenv, &f.rule, format!("{name} set (ignored by git)"));
            }
        }
    }
    let what = match kept {
        true => format!("the key (its old value is in {dotenv} for local runs)"),
        false => "the key".to_string(),
    };
    plan.manual.env.insert(name.clone(), what);
    plan.manual.rotate.insert(format!(
        "{shown} ({}, was in {}:{})",
        f.rule, f.path, span.line
    ));
}

/// The project's settings object a key can live in.
struct SettingsObject {
    /// How the code reads it: `Config`, `settings`.
    expr: String,
    /// The import the code needs (`from django.conf import settings`).
    import: Option<String>,
    /// The settings module.
    path: String,
}

/// `os.environ["NAME"]`, or the file's own idiom when it reads the
/// environment with `os.getenv` / `os.environ.get` (a missing variable
/// then is `None` where the file expects it, not an error at import).
fn env_read(doc: &super::edit::Doc, name: &str) -> String {
    if doc.contains("os.getenv(") {
        format!("os.getenv(\"{name}\")")
    } else if doc.contains("os.environ.get(") {
        format!("os.environ.get(\"{name}\")")
    } else {
        format!("os.environ[\"{name}\"]")
    }
}

/// The settings object of the project for a key in `rel`, with `NAME`
/// added to it (reading the environment in the settings module's idiom)
/// unless it has it: a class that `rel` imports from a project module
/// reading `os.environ` / `os.getenv` (`from config import Config`), or
/// Django's settings (`DJANGO_SETTINGS_MODULE` in the nearest
/// `manage.py`). Pydantic settings are fixed in place (their field loses
/// its default).
fn settings_object(
    ctx: &Ctx,
    plan: &mut Plan,
    rel: &str,
    name: &str,
    rule: &str,
) -> Option<SettingsObject> {
    let reads_env = |d: &super::edit::Doc| d.contains("os.environ") || d.contains("os.getenv(");
    // A settings class this file imports.
    if let Some(fi) = ctx.facts.index_of(rel) {
        let file = ctx.facts.file(fi);
        for import in &file.imports {
            let Some(class) = import.name.as_deref() else {
                continue;
            };
            let Some(target) = ctx.facts.resolve_import_path(fi, import) else {
                continue;
            };
            if target == rel || !target.ends_with(".py") {
                continue;
            }
            let Some(doc) = plan.doc(&target) else {
                continue;
            };
            let Some(at) = (0..doc.lines().len()).find(|&k| {
                let l = &doc.lines()[k];
                l.strip_prefix("class ")
                    .and_then(|r| r.strip_prefix(class))
                    .is_some_and(|r| r.starts_with(['(', ':']))
            }) else {
                continue;
            };
            if !reads_env(doc) || doc.lines().iter().any(|l| l.contains("BaseSettings")) {
                continue;
            }
            // The class body: indented lines after it.
            let body: Vec<usize> = (at + 1..doc.lines().len())
                .take_while(|&k| {
                    let l = &doc.lines()[k];
                    l.trim().is_empty() || l.starts_with([' ', '\t'])
                })
                .filter(|&k| !doc.lines()[k].trim().is_empty())
                .collect();
            let (Some(&first), Some(&last)) = (body.first(), body.last()) else {
                continue;
            };
            let has = body.iter().any(|&k| {
                doc.lines()[k]
                    .trim_start()
                    .starts_with(&format!("{name} ="))
            });
            if !has {
                let indent = super::edit::indent_of(&doc.lines()[first]).to_string();
                let read = env_read(doc, name);
                let end = super::edit::statement_end(doc, last);
                doc.insert_before(end + 1, [format!("{indent}{name} = {read}")]);
                plan.change(
                    &target,
                    rule,
                    format!("{class}.{name} read from the environment"),
                );
            }
            return Some(SettingsObject {
                expr: import.local.clone(),
                import: None,
                path: target,
            });
        }
    }
    // Django: DJANGO_SETTINGS_MODULE in the nearest manage.py.
    let module = Regex::new(r#"DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']"#).ok()?;
    let mut dir = super::parent(rel);
    let settings = loop {
        let manage = join(&dir, "manage.py");
        if plan.exists(&manage) {
            let text = std::fs::read_to_string(ctx.root.join(&manage)).ok()?;
            let m = module.captures(&text)?.get(1)?.as_str().replace('.', "/");
            let file = [format!("{m}.py"), format!("{m}/__init__.py")]
                .into_iter()
                .map(|p| join(&dir, &p))
                .find(|p| plan.exists(p))?;
            break file;
        }
        if dir.is_empty() {
            return None;
        }
        dir = super::parent(&dir);
    };
    if settings == rel {
        return None;
    }
    // `settings` bound to something else in this file: not this way.
    if let Some(fi) = ctx.facts.index_of(rel) {
        let file = ctx.facts.file(fi);
        if file
            .imports
            .iter()
            .any(|i| i.local == "settings" && i.module != "django.conf")
            || file.assignments.iter().any(|a| a.target == "settings")
        {
            return None;
        }
    }
    let doc = plan.doc(&settings)?;
    let defined = doc
        .lines()
        .iter()
        .any(|l| l.starts_with(&format!("{name} =")) || l.starts_with(&format!("{name}=")));
    if !defined {
        let read = env_read(doc, name);
        doc.append([format!("{name} = {read}")]);
        python::ensure_imports(doc, None, &["import os".to_string()]);
        plan.change(
            &settings,
            rule,
            format!("settings.{name} read from the environment"),
        );
    }
    Some(SettingsObject {
        expr: "settings".into(),
        import: Some("from django.conf import settings".into()),
        path: settings,
    })
}

/// The byte range of the quoted literal around 1-based column `column`
/// (in characters), quotes included.
fn literal_at(line: &str, column: usize) -> Option<(usize, usize)> {
    let at = line
        .char_indices()
        .nth(column.saturating_sub(1))
        .map(|(b, _)| b)?;
    let upto = at + line[at..].chars().next().map_or(0, char::len_utf8);
    let (open, quote) = line[..upto]
        .char_indices()
        .rev()
        .find(|(_, c)| matches!(c, '"' | '\'' | '`'))?;
    let close = line[open + 1..].find(quote)? + open + 1;
    (close >= at).then_some((open, close + 1))
}

/// `OPENAI_API_KEY` in `OPENAI_API_KEY = ` / `const OPENAI_API_KEY = `, when
/// the name reads like an environment variable.
fn assigned_name(before: &str) -> Option<String> {
    let head = before.trim_end().strip_suffix('=')?.trim_end();
    let head = head.split(':').next()?.trim_end();
    let name = head.rsplit([' ', '\t', '.', '(', ',']).next()?;
    let upper = name.to_ascii_uppercase();
    let envish = name.len() > 3
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && (upper.contains("KEY") || upper.contains("TOKEN") || upper.contains("SECRET"));
    (envish && name != "api_key" && name != "apiKey").then_some(upper)
}

/// public-env-secret: when every read of the variable is in server code
/// (a file with route handlers, API routes or server actions, `"use
/// server"`, `server-only`; never `"use client"`), drop the public prefix
/// in every place the audit flagged it (reads, `.env*`, CI and deploy
/// files). Otherwise the call has to move to the server: manual.
pub fn fix_public(ctx: &Ctx, plan: &mut Plan, f: &Finding, all: &[&Finding]) {
    let Some(name) = f.evidence.as_ref().map(|e| e.as_str().to_string()) else {
        return super::manual(ctx, plan, f);
    };
    if plan.renamed.contains(&name) {
        return;
    }
    let Some((_, bare)) = ctx.catalog.public_env.prefix_of(&name) else {
        return super::manual(ctx, plan, f);
    };
    let bare = bare.to_string();
    let group: Vec<&Finding> = all
        .iter()
        .filter(|g| {
            g.rule == "public-env-secret" && g.evidence.as_ref().is_some_and(|e| e.as_str() == name)
        })
        .copied()
        .collect();
    let reads: Vec<&&Finding> = group
        .iter()
        .filter(|g| ctx.facts.index_of(&g.path).is_some() || is_script(&g.path))
        .collect();
    let server_only = !reads.is_empty() && reads.iter().all(|g| is_server_file(ctx, &g.path));
    if !server_only {
        return super::manual(ctx, plan, f);
    }
    plan.renamed.insert(name.clone());
    for g in &group {
        let Some(line) = g.span.map(|s| (s.line as usize).saturating_sub(1)) else {
            continue;
        };
        let Some(doc) = plan.doc(&g.path) else {
            continue;
        };
        let text = doc.line(line).to_string();
        let renamed = rename_word(&text, &name, &bare);
        if renamed != text {
            doc.replace(line, renamed);
            plan.change(
                &g.path,
                &g.rule,
                format!("{name} renamed {bare} (read only by server code)"),
            );
        }
    }
    // `.env*` files that define it with no value (not findings: an empty
    // value is no secret) must follow, or the renamed read finds nothing.
    let mut folders: BTreeSet<String> = group
        .iter()
        .map(|g| g.path.rsplit_once('/').map_or("", |(d, _)| d).to_string())
        .collect();
    folders.insert(String::new());
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(ctx.root.join(&folder)) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with(".env") || n.ends_with(".env"))
            .collect();
        names.sort();
        for file in names {
            let rel = match folder.is_empty() {
                true => file,
                false => format!("{folder}/{file}"),
            };
            let Some(doc) = plan.doc(&rel) else { continue };
            let mut changed = false;
            for line in 0..doc.lines().len() {
                let text = doc.line(line).to_string();
                let defines = text
                    .trim_start()
                    .trim_start_matches("export ")
                    .starts_with(&format!("{name}="));
                if defines {
                    doc.replace(line, rename_word(&text, &name, &bare));
                    changed = true;
                }
            }
            if changed {
                plan.change(&rel, "public-env-secret", format!("{name} renamed {bare}"));
            }
        }
    }
    plan.manual.steps.insert(format!(
        "{name}: renamed {bare} in the code and the files aiguard saw; rename it in your hosting and CI settings too, and rotate the key if a build with {name} was deployed (it was in the bundle)"
    ));
}

fn is_script(path: &str) -> bool {
    [
        ".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx", ".mts", ".cts", ".py",
    ]
    .iter()
    .any(|e| path.ends_with(e))
}

/// Server code by what the audit knows: endpoints of a server framework
/// in the file, a `"use server"` directive, a `server-only` import.
fn is_server_file(ctx: &Ctx, path: &str) -> bool {
    let Some(fi) = ctx.facts.index_of(path) else {
        return false;
    };
    let file = ctx.facts.file(fi);
    if file.directives.iter().any(|d| d == "use client") {
        return false;
    }
    file.directives.iter().any(|d| d == "use server")
        || file.imports.iter().any(|i| i.module == "server-only")
        || ctx.inventory.endpoints.iter().any(|e| e.file == fi)
}

/// `text` with the identifier `old` replaced by `new` (not inside a longer name).
fn rename_word(text: &str, old: &str, new: &str) -> String {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(old) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + old.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(word) || after.is_some_and(word) {
            out.push_str(old);
        } else {
            out.push_str(new);
        }
        rest = &rest[at + old.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_name() {
        let line = r#"OPENAI_API_KEY = "abc-123""#;
        assert_eq!(literal_at(line, 19), Some((17, 26)));
        // Columns count characters; a multi-byte character is no problem.
        assert_eq!(literal_at("é = \"ü-key\"", 5), Some((5, 13)));
        assert_eq!(literal_at("ü", 1), None);
        assert_eq!(
            assigned_name(&line[..17]).as_deref(),
            Some("OPENAI_API_KEY")
        );
        assert_eq!(assigned_name("client = OpenAI(api_key="), None);
        assert_eq!(
            assigned_name("    openai_api_key: str ="),
            Some("OPENAI_API_KEY".into())
        );
    }
}
