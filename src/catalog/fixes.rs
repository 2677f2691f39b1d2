//! The templates of `aiguard fix` (`rules/fixes.toml`): the code each
//! automatic fix writes, per framework, and the manual steps of the checks
//! with no automatic fix. Loaded only by `aiguard fix`, so audits never pay
//! for parsing it.

use serde::Deserialize;

use super::{parse_toml, CatalogError};

pub const FIXES_TOML: &str = include_str!("../../rules/fixes.toml");

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixTemplates {
    pub limits: Limits,
    pub gitignore: GitignoreFix,
    pub cors: CorsFix,
    pub fastapi: PythonLimiterFix,
    pub flask: PythonLimiterFix,
    pub django: DjangoFix,
    pub express: JsLimiterFix,
    pub hono: JsLimiterFix,
    pub fastify: FastifyFix,
    pub next: NextFix,
    pub quota: QuotaFix,
    /// Check or rule id → what to do by hand.
    pub manual: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub per_minute: u64,
    pub per_day: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitignoreFix {
    pub lines: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsFix {
    pub env: String,
    pub default_origin: String,
    pub python: String,
    pub js: String,
    pub python_helper: String,
    pub js_helper: String,
    pub ts_helper: String,
    pub js_first: String,
}

/// slowapi (FastAPI) or Flask-Limiter.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PythonLimiterFix {
    pub requirement: String,
    pub imports: Vec<String>,
    #[serde(default)]
    pub request_import: Option<String>,
    pub limiter: String,
    #[serde(default)]
    pub register: Vec<String>,
    pub decorators: Vec<String>,
    pub env: String,
    pub env_example: String,
    /// Flask blueprints away from the app: the limiter in `extensions.py`.
    #[serde(default)]
    pub blueprint_limiter: String,
    #[serde(default)]
    pub extensions_docstring: String,
}

/// express-rate-limit or hono-rate-limiter.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsLimiterFix {
    /// Package name and version range.
    pub dependency: (String, String),
    pub import_esm: String,
    #[serde(default)]
    pub import_cjs: Option<String>,
    pub limiters: String,
    pub middleware: String,
}

/// @fastify/rate-limit: the plugin, and a per-minute and per-day check.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FastifyFix {
    pub dependency: (String, String),
    pub import_esm: String,
    pub import_cjs: String,
    pub import_types: String,
    pub register: String,
    pub check: String,
    pub options: String,
}

/// `[django]`: django-ratelimit decorators on the view.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DjangoFix {
    pub requirement: String,
    pub import: String,
    pub decorators: Vec<String>,
    pub method_import: String,
    pub method_decorators: Vec<String>,
    pub manual: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextFix {
    pub dependencies: Vec<(String, String)>,
    pub env: Vec<String>,
    pub module: String,
    pub check: String,
    pub pages_check: String,
    pub action_check: String,
    pub action_module: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaFix {
    pub max_tokens: u64,
    pub python_cap: String,
    pub js_cap: String,
    pub python_model: String,
    pub js_model: String,
    pub python_models: Vec<String>,
    pub js_models: Vec<String>,
    /// Provider → the model an allowlist starts with.
    pub default_models: std::collections::BTreeMap<String, String>,
}

impl FixTemplates {
    pub fn load() -> Result<FixTemplates, CatalogError> {
        parse_toml("rules/fixes.toml", FIXES_TOML)
    }
}

/// `template` with each `{name}` replaced by its value.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_fix_templates_load() {
        let t = FixTemplates::load().expect("rules/fixes.toml");
        assert_eq!((t.limits.per_minute, t.limits.per_day), (5, 50));
        assert!(t.manual.contains_key("auth"));
    }

    #[test]
    fn unknown_field_names_its_line() {
        let text = "[limits]\nper_minute = 5\nper_day = 50\nper_hour = 1\n";
        let e = parse_toml::<FixTemplates>("x.toml", text).unwrap_err();
        assert_eq!(e.line, 4, "{}", e.message);
    }
}
