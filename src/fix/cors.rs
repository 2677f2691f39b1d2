//! cors: a wildcard origin becomes the origins read from `CORS_ORIGINS`
//! (comma-separated, `http://localhost:3000` when unset) in FastAPI's
//! `CORSMiddleware`, Flask-CORS, and the `cors` middleware of Express,
//! Hono and Fastify; the variable goes into `.env.example`.
//!
//! A hand-set `Access-Control-Allow-Origin` (`*`, or the request's Origin
//! unchecked) becomes `allowedOrigin(<the request's Origin>)`, a helper
//! added once per file that answers the Origin when `CORS_ORIGINS` lists
//! it and the first listed origin otherwise, plus `Vary: Origin` where the
//! header is set by a statement or an object literal. The request is read
//! in the file's idiom: Express / Node `req.headers.origin`, fetch-style
//! handlers (Next.js route handlers and middleware) `request.headers.get`,
//! Hono `c.req.header`, Flask's `request`, Starlette / FastAPI / Django the
//! handler's `request`. `next.config.*` headers are static: the first
//! listed origin. Regexes that match everything, callbacks, JSON configs
//! (`vercel.json`) and a header with no request in reach stay manual.

use regex::Regex;

use super::edit::statement_end;
use super::{app_dir, env_example, python, Ctx, Plan};
use crate::findings::Finding;

pub fn fix(ctx: &Ctx, plan: &mut Plan, f: &Finding) {
    let t = &ctx.templates.cors;
    let Some(span) = f.span else {
        return super::manual(ctx, plan, f);
    };
    if matches!(
        f.rule.as_str(),
        "cors-header-wildcard" | "cors-header-reflects-origin"
    ) {
        if !fix_header(ctx, plan, f, span.line) {
            super::manual(ctx, plan, f);
        }
        return;
    }
    let is_python = f.path.ends_with(".py");
    let is_js = [".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx", ".mts", ".cts"]
        .iter()
        .any(|e| f.path.ends_with(e));
    if !(is_python || is_js)
        || !matches!(
            f.rule.as_str(),
            "cors-wildcard-origin" | "cors-default-any-origin" | "cors-reflects-any-origin"
        )
    {
        return super::manual(ctx, plan, f);
    }
    let Some(doc) = plan.doc(&f.path) else { return };
    let first = (span.line as usize).saturating_sub(1);
    let last = statement_end(doc, first).max(first);
    let mut done = false;
    for i in first..=last.min(first + 20) {
        let line = doc.line(i).to_string();
        let new = match is_python {
            true => python_line(&line, &t.python, f.rule == "cors-default-any-origin"),
            false => js_line(&line, &t.js, f.rule == "cors-default-any-origin"),
        };
        if let Some(new) = new {
            doc.replace(i, new);
            done = true;
            break;
        }
    }
    if !done {
        return super::manual(ctx, plan, f);
    }
    if is_python {
        let file = ctx.facts.index_of(&f.path).map(|fi| ctx.facts.file(fi));
        python::ensure_imports(doc, file, &["import os".to_string()]);
    }
    plan.change(&f.path, &f.rule, format!("origins read from {}", t.env));
    let dir = app_dir(plan, &f.path);
    env_example(plan, &dir, &t.env, &t.default_origin, &f.rule);
    plan.manual.env.insert(
        t.env.clone(),
        format!(
            "the allowed origins, comma-separated (unset: {})",
            t.default_origin
        ),
    );
}

/// The languages a hand-set header is fixed in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    Python,
    Js,
    Ts,
}

fn lang_of(path: &str) -> Option<Lang> {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "py" => Some(Lang::Python),
        "js" | "mjs" | "cjs" | "jsx" => Some(Lang::Js),
        "ts" | "mts" | "cts" | "tsx" => Some(Lang::Ts),
        _ => None,
    }
}

/// How the file's framework reads the request's Origin.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Idiom {
    /// Flask's global `request`.
    Flask,
    /// A `request` parameter with `.headers.get` (Starlette, FastAPI, Django).
    PythonParam,
    /// `req.headers.origin` (Express, Node's http).
    Node,
    /// `request.headers.get("origin")` (Fetch API: Next.js, Workers).
    Fetch,
    /// `c.req.header("origin")`.
    Hono,
    /// `next.config.*`: no request, one origin.
    Static,
}

/// Hand-set `Access-Control-Allow-Origin`: the value becomes the checked
/// Origin. False when it cannot be done safely here (a manual step then).
fn fix_header(ctx: &Ctx, plan: &mut Plan, f: &Finding, line: u32) -> bool {
    let t = &ctx.templates.cors;
    let Some(lang) = lang_of(&f.path) else {
        return false;
    };
    let Some(file) = super::file_facts(ctx, &f.path) else {
        return false;
    };
    let file = file.as_ref();
    let name = f.path.rsplit('/').next().unwrap_or(&f.path);
    let module = |m: &str| {
        file.imports
            .iter()
            .any(|i| i.module == m || i.module.starts_with(&format!("{m}/")))
    };
    let reflect = f.rule == "cors-header-reflects-origin";
    let idiom = if name.starts_with("next.config.") {
        Idiom::Static
    } else if lang == Lang::Python {
        if module("flask") {
            Idiom::Flask
        } else {
            Idiom::PythonParam
        }
    } else if module("hono") {
        Idiom::Hono
    } else if module("next")
        || name.starts_with("route.")
        || name.starts_with("middleware.")
        || enclosing(file, line)
            .iter()
            .any(|&k| file.functions[k].params.iter().any(|p| is_fetch_request(p)))
    {
        Idiom::Fetch
    } else {
        Idiom::Node
    };
    let Some(doc) = plan.doc(&f.path) else {
        return false;
    };
    // A helper of that name that aiguard did not write: not this way.
    let helper = match lang {
        Lang::Python => "allowed_origin",
        _ => "allowedOrigin",
    };
    if idiom != Idiom::Static
        && doc.lines().iter().any(|l| l.contains(helper))
        && !doc.lines().iter().any(|l| l.contains("(aiguard fix)"))
    {
        return false;
    }
    // The value: on the header's line, or (a call spread over lines) one of
    // the next two.
    let i = (line as usize).saturating_sub(1);
    let value = Regex::new(match reflect {
        true => r#"(?:req|request|c\.req|ctx\.request)\.(?:headers\.origin|headers\.get\(\s*["']origin["']\s*\)|headers\[["']origin["']\]|header\(\s*["']origin["']\s*\))"#,
        false => r#"["'`]\*["'`]"#,
    })
    .ok();
    let Some(value) = value else { return false };
    let found = (i..(i + 3).min(doc.lines().len())).find_map(|k| {
        let text = doc.line(k).to_string();
        let from = match k == i {
            true => text
                .to_ascii_lowercase()
                .find("access-control-allow-origin")?,
            false => 0,
        };
        let (start, end) = value.find_at(&text, from).map(|m| (m.start(), m.end()))?;
        Some((k, text, start, end))
    });
    let Some((k, text, start, end)) = found else {
        return false;
    };
    let origin = match (idiom, reflect) {
        (Idiom::Static, _) => None,
        (_, true) => Some(text[start..end].to_string()),
        (Idiom::Flask, false) => Some("request.headers.get(\"Origin\")".to_string()),
        (_, false) => {
            let Some(request) = request_param(plan, file, line, idiom, lang) else {
                return false;
            };
            Some(match idiom {
                Idiom::PythonParam => format!("{request}.headers.get(\"origin\")"),
                Idiom::Node => format!("{request}.headers.origin"),
                Idiom::Hono => format!("{request}.req.header(\"origin\")"),
                _ => format!("{request}.headers.get(\"origin\")"),
            })
        }
    };
    let Some(doc) = plan.doc(&f.path) else {
        return false;
    };
    let new_value = match (&origin, lang) {
        (None, _) => t.js_first.clone(),
        (Some(o), Lang::Python) => format!("allowed_origin({o})"),
        (Some(o), _) => format!("allowedOrigin({o})"),
    };
    let mut rest = text[end..].to_string();
    let literal = text[..start].trim_end().ends_with(':');
    let statement = !literal && doc.line(k).trim_end().ends_with([';', ')', ']', '"', '\''])
        || lang == Lang::Python;
    if literal && origin.is_some() && !text.to_ascii_lowercase().contains("vary") {
        let next = rest.trim_start();
        if next.starts_with('}') || next.starts_with(',') {
            let key = match lang {
                Lang::Python => "\"Vary\"",
                _ => "Vary",
            };
            rest = format!(", {key}: \"Origin\"{rest}");
        }
    }
    doc.replace(k, format!("{}{new_value}{rest}", &text[..start]));
    // `Vary: Origin` after a statement that sets the header.
    if origin.is_some() && !literal {
        let first = doc.line(i).to_string();
        let end = statement_end(doc, i);
        let fn_text: String = enclosing(file, line)
            .first()
            .map(|&fnk| {
                let fun = &file.functions[fnk];
                ((fun.line as usize).saturating_sub(1)..(fun.end_line as usize))
                    .map(|l| doc.line(l).to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(vary) = vary_line(
            &first,
            idiom,
            lang,
            module("express"),
            module("fastapi") || module("starlette"),
        ) {
            if statement && !fn_text.contains("vary") {
                doc.insert_before(end + 1, [vary]);
            }
        }
    }
    if lang == Lang::Python {
        python::ensure_imports(doc, Some(file), &["import os".to_string()]);
        if idiom == Idiom::Flask && !reflect && file.import_of("request").is_none() {
            python::ensure_imports(doc, Some(file), &["from flask import request".to_string()]);
        }
    }
    if origin.is_some() {
        let (helper, defined) = match lang {
            Lang::Python => (&t.python_helper, "def allowed_origin("),
            Lang::Js => (&t.js_helper, "function allowedOrigin("),
            Lang::Ts => (&t.ts_helper, "function allowedOrigin("),
        };
        if !doc.contains(defined) {
            let last = file
                .imports
                .iter()
                .map(|i| (i.line as usize).saturating_sub(1))
                .max();
            let at = match last {
                Some(l) => statement_end(doc, l) + 1,
                None => usize::from(!file.directives.is_empty()),
            };
            let mut lines: Vec<String> = vec![String::new()];
            if lang == Lang::Python {
                lines.push(String::new());
            }
            lines.extend(helper.trim().lines().map(str::to_string));
            doc.insert_before(at, lines);
        }
    }
    let what = match origin {
        Some(_) => format!(
            "Access-Control-Allow-Origin: the request's Origin when {} lists it",
            t.env
        ),
        None => format!("Access-Control-Allow-Origin: the first origin in {}", t.env),
    };
    plan.change(&f.path, &f.rule, what);
    if idiom == Idiom::Static {
        plan.manual.steps.insert(format!(
            "{}:{line} cors: next.config headers are static, so only the first origin in {} is sent; for several origins, set the header in middleware with the request's Origin checked",
            f.path, t.env
        ));
    }
    let dir = app_dir(plan, &f.path);
    env_example(plan, &dir, &t.env, &t.default_origin, &f.rule);
    plan.manual.env.insert(
        t.env.clone(),
        format!(
            "the allowed origins, comma-separated (unset: {})",
            t.default_origin
        ),
    );
    true
}

/// The functions around `line`, innermost first.
fn enclosing(file: &crate::facts::FileFacts, line: u32) -> Vec<usize> {
    let mut around: Vec<usize> = (0..file.functions.len())
        .filter(|&k| (file.functions[k].line..=file.functions[k].end_line).contains(&line))
        .collect();
    around.sort_by_key(|&k| std::cmp::Reverse(file.functions[k].line));
    around
}

/// `request: Request`, `req: NextRequest`: a Fetch API request.
fn is_fetch_request(param: &str) -> bool {
    param
        .split_once(':')
        .is_some_and(|(_, t)| t.trim().trim_end_matches(['?', ' ']).ends_with("Request"))
}

/// The name of the request in reach of `line`: a parameter of an
/// enclosing function that reads as one (`req`, `request`, `c` in Hono, a
/// `Request`-typed one). A fetch-style top-level handler with no parameter
/// gets `request: Request`.
fn request_param(
    plan: &mut Plan,
    file: &crate::facts::FileFacts,
    line: u32,
    idiom: Idiom,
    lang: Lang,
) -> Option<String> {
    let around = enclosing(file, line);
    for &k in &around {
        let function = &file.functions[k];
        for (n, p) in function.params.iter().enumerate() {
            let name = python::param_name(p);
            let annotated = p.split_once(':').map_or("", |(_, t)| t.trim());
            let fits = match idiom {
                Idiom::Hono => {
                    n == 0 && (name == "c" || name == "ctx" || annotated.starts_with("Context"))
                }
                Idiom::PythonParam => {
                    name == "request" || name == "req" || annotated.ends_with("Request")
                }
                _ => name == "req" || name == "request" || is_fetch_request(p),
            };
            if fits && !name.is_empty() && !name.starts_with('{') {
                return Some(name.to_string());
            }
        }
    }
    // No request in reach: a fetch-style handler `export async function GET()`.
    let outer = *around.last()?;
    let function = &file.functions[outer];
    if idiom != Idiom::Fetch || !function.params.is_empty() || !function.exported {
        return None;
    }
    let path = file.path.clone();
    let doc = plan.doc(&path)?;
    let at = (function.line as usize).saturating_sub(1);
    let text = doc.line(at).to_string();
    let open = text.find("()")?;
    let param = match lang {
        Lang::Ts => "request: Request",
        _ => "request",
    };
    doc.replace(
        at,
        format!("{}({param}){}", &text[..open], &text[open + 2..]),
    );
    Some("request".to_string())
}

/// `Vary: Origin` for the statement `line` that sets the header, in the
/// same receiver's idiom; `None` when the statement is not one this knows.
fn vary_line(
    line: &str,
    idiom: Idiom,
    lang: Lang,
    express: bool,
    starlette: bool,
) -> Option<String> {
    let indent = super::edit::indent_of(line);
    let body = line.trim();
    let semi = if body.ends_with(';') { ";" } else { "" };
    if lang == Lang::Python {
        let (receiver, _) = body.split_once(".headers[")?;
        let plain = receiver
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
        return match idiom {
            Idiom::Flask if plain => Some(format!("{indent}{receiver}.vary.add(\"Origin\")")),
            Idiom::PythonParam if plain && starlette => Some(format!(
                "{indent}{receiver}.headers.append(\"Vary\", \"Origin\")"
            )),
            _ => None,
        };
    }
    let call = Regex::new(r"^([\w.]+)\.(setHeader|header|set)\(").ok()?;
    let m = call.captures(body)?;
    let receiver = m.get(1)?.as_str();
    let method = m.get(2)?.as_str();
    let stmt = match (idiom, method) {
        (Idiom::Hono, "header") => {
            format!("{receiver}.header(\"Vary\", \"Origin\", {{ append: true }})")
        }
        (Idiom::Node, _) if express => format!("{receiver}.vary(\"Origin\")"),
        (Idiom::Node, "setHeader") => format!("{receiver}.setHeader(\"Vary\", \"Origin\")"),
        (Idiom::Fetch, "set") => format!("{receiver}.append(\"Vary\", \"Origin\")"),
        _ => return None,
    };
    Some(format!("{indent}{stmt}{semi}"))
}

/// `allow_origins=["*"]`, `origins="*"`, `"origins": "*"`, or a bare `CORS(app)`.
fn python_line(line: &str, origins: &str, default_any: bool) -> Option<String> {
    let wildcard =
        Regex::new(r#"(allow_origins|origins)\s*=\s*(\[\s*)?["']\*["'](\s*\])?"#).ok()?;
    if let Some(m) = wildcard.captures(line) {
        let key = m.get(1)?.as_str();
        return Some(
            wildcard
                .replace(line, format!("{key}={origins}").as_str())
                .into_owned(),
        );
    }
    let dict = Regex::new(r#"["']origins["']\s*:\s*(\[\s*)?["']\*["'](\s*\])?"#).ok()?;
    if dict.is_match(line) {
        return Some(
            dict.replace(line, format!("\"origins\": {origins}").as_str())
                .into_owned(),
        );
    }
    if default_any {
        let bare = Regex::new(r"\bCORS\(\s*(\w+)\s*\)").ok()?;
        if bare.is_match(line) {
            return Some(
                bare.replace(line, format!("CORS($1, origins={origins})").as_str())
                    .into_owned(),
            );
        }
        let decorator = Regex::new(r"\bcross_origin\(\s*\)").ok()?;
        if decorator.is_match(line) {
            let new = format!("cross_origin(origins={origins})");
            return Some(decorator.replace(line, new.as_str()).into_owned());
        }
    }
    None
}

/// `origin: "*"`, `origin: true`, or a bare `cors()`.
fn js_line(line: &str, origins: &str, default_any: bool) -> Option<String> {
    let wildcard = Regex::new(r#"\borigin\s*:\s*(["']\*["']|true\b)"#).ok()?;
    if wildcard.is_match(line) {
        return Some(
            wildcard
                .replace(line, format!("origin: {origins}").as_str())
                .into_owned(),
        );
    }
    if default_any {
        let bare = Regex::new(r"\bcors\(\s*\)").ok()?;
        if bare.is_match(line) {
            return Some(
                bare.replace(line, format!("cors({{ origin: {origins} }})").as_str())
                    .into_owned(),
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_become_the_environment() {
        let py = r#"os.environ.get("CORS_ORIGINS", "x").split(",")"#;
        assert_eq!(
            python_line(
                r#"app.add_middleware(CORSMiddleware, allow_origins=["*"])"#,
                py,
                false
            )
            .unwrap(),
            format!("app.add_middleware(CORSMiddleware, allow_origins={py})")
        );
        assert_eq!(
            python_line("CORS(app)", py, true).unwrap(),
            format!("CORS(app, origins={py})")
        );
        assert!(python_line("CORS(app)", py, false).is_none());
        let js = "ORIGINS";
        assert_eq!(
            js_line("app.use(cors());", js, true).unwrap(),
            "app.use(cors({ origin: ORIGINS }));"
        );
        assert_eq!(
            js_line("cors({ origin: '*' })", js, false).unwrap(),
            "cors({ origin: ORIGINS })"
        );
        assert!(js_line("cors({ origin: allowed })", js, true).is_none());
    }
}
