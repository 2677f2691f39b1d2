//! keys-in-code: a literal AI provider key in a file git would commit.
//!
//! Runs per file on the walker threads over the bytes already read (every
//! text file the walk sees: source, notebooks, config, docs, and `.env*`
//! files that git does not ignore, since the walk honours .gitignore). The
//! scanner lives in `catalog::keys` (keyword prefilter → regex → placeholder,
//! entropy, dummy and context filters); this file turns matches into
//! redacted findings with a fix that fits the file.
//! Gap: files over `max-file-size` are skipped, not scanned in chunks.

use super::{Check, CheckId, Coverage};
use crate::catalog::keys::KeyRuleSpec;
use crate::context::{FileContext, ProjectContext};
use crate::findings::{Finding, Redacted};

pub struct KeysInCode;

impl Check for KeysInCode {
    fn id(&self) -> CheckId {
        CheckId::KeysInCode
    }

    fn check_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        let keys = &file.catalog.keys;
        for m in keys.scan(file.source) {
            let spec = keys.rule(m.rule);
            let secret = String::from_utf8_lossy(&file.source.bytes()[m.start..m.end]);
            out.push(Finding {
                check: CheckId::KeysInCode,
                rule: spec.id.clone(),
                severity: m.severity,
                path: file.path.to_string(),
                span: Some(file.source.span(m.start, m.end)),
                message: spec.message.clone(),
                evidence: Some(Redacted::from_secret(&secret)),
                fix: Some(fix_text(spec, file.path)),
            });
        }
    }

    fn check_project(&self, project: &ProjectContext<'_>, _out: &mut Vec<Finding>) -> Coverage {
        if project.files_scanned == 0 {
            Coverage::NotApplicable("no text files".into())
        } else {
            Coverage::Checked
        }
    }
}

/// The environment variable a provider's key conventionally lives in.
fn env_var(provider: &str) -> String {
    let name: String = provider
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{}_API_KEY", name.trim_matches('_'))
}

/// Both halves of the fix: where the key should live, and rotating it.
fn fix_text(spec: &KeyRuleSpec, path: &str) -> String {
    let var = spec
        .env_var
        .clone()
        .unwrap_or_else(|| env_var(&spec.provider));
    let name = path.rsplit('/').next().unwrap_or(path);
    let ext = name.rsplit('.').next().unwrap_or("");
    let read = match ext {
        "py" | "pyi" | "ipynb" => format!("os.environ[\"{var}\"]"),
        "ts" | "tsx" | "js" | "jsx" | "mjs" | "cjs" | "mts" | "cts" => format!("process.env.{var}"),
        _ => format!("the {var} environment variable"),
    };
    let first = if crate::catalog::EnvSpec::is_env_file(name) {
        format!("Keep this file out of git (add {name} to .gitignore) and load {var} from it at run time.")
    } else {
        format!("Move the key out of the file: read it from {read}, set in your secret store.")
    };
    let rotate = match &spec.revoke_url {
        Some(url) => format!("Rotate it now at {url}: it has been exposed."),
        None => format!("Rotate it now at {}: it has been exposed.", spec.provider),
    };
    format!("{first}\n{rotate}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_names() {
        assert_eq!(env_var("OpenAI"), "OPENAI_API_KEY");
        assert_eq!(env_var("Hugging Face"), "HUGGING_FACE_API_KEY");
    }
}
