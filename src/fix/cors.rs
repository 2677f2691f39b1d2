//! cors: a wildcard origin becomes the origins read from `CORS_ORIGINS`
//! (comma-separated, `http://localhost:3000` when unset) in FastAPI's
//! `CORSMiddleware`, Flask-CORS, and the `cors` middleware of Express,
//! Hono and Fastify; the variable goes into `.env.example`. Regexes that
//! match everything, reflected origins and hand-set headers stay manual:
//! rewriting them safely needs the code around them.

use regex::Regex;

use super::edit::statement_end;
use super::{app_dir, env_example, python, Ctx, Plan};
use crate::findings::Finding;

pub fn fix(ctx: &Ctx, plan: &mut Plan, f: &Finding) {
    let t = &ctx.templates.cors;
    let Some(span) = f.span else {
        return super::manual(ctx, plan, f);
    };
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
