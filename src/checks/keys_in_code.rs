//! keys-in-code: a literal AI provider key in a file git would commit.
//!
//! Runs per file on the walker threads over the bytes already read (every
//! text file the walk sees: source, notebooks, config, docs, and `.env*`
//! files that git does not ignore, since the walk honours .gitignore). The
//! scanner lives in `catalog::keys` (keyword prefilter → regex → placeholder,
//! entropy, dummy and context filters); this file turns matches into
//! redacted findings with a fix that fits the file.
//! Files over `max-file-size` are not read whole: [`scan_large_file`]
//! streams them in fixed-size chunks with an overlap longer than any key, so
//! a 1 GB minified bundle costs a few MiB of memory.

use std::io::Read;
use std::path::Path;

use super::{Check, CheckId, Coverage};
use crate::catalog::keys::{KeyRuleSpec, SeveritySpec, WithoutContext};
use crate::catalog::Catalog;
use crate::context::{FileContext, ProjectContext};
use crate::findings::{Finding, Redacted, Severity, Span};
use crate::source::Source;

/// Chunk size for files over the size cap.
const CHUNK: usize = 4 * 1024 * 1024;
/// Bytes carried from one chunk to the next: longer than any key.
const OVERLAP: usize = 4096;

pub struct KeysInCode;

impl Check for KeysInCode {
    fn id(&self) -> CheckId {
        CheckId::KeysInCode
    }

    fn check_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        let keys = &file.catalog.keys;
        let found = match file.key_rules {
            Some(wanted) => keys.scan_rules(file.source, wanted),
            None => keys.scan(file.source),
        };
        for m in found {
            let span = file.source.span(m.start, m.end);
            out.push(finding(file.catalog, file.path, file.source, &m, span));
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

fn finding(
    catalog: &Catalog,
    path: &str,
    source: &Source,
    m: &crate::catalog::keys::KeyMatch,
    span: Span,
) -> Finding {
    let spec = catalog.keys.rule(m.rule);
    let secret = String::from_utf8_lossy(&source.bytes()[m.start..m.end]);
    // Reported for want of context: the rule's provider is not known.
    let bare = m.severity == Severity::Warning
        && spec.without_context == Some(WithoutContext::Warning)
        && spec.severity != Some(SeveritySpec::Warning);
    let message = match (&spec.without_context_message, bare) {
        (Some(message), true) => message.clone(),
        _ => spec.message.clone(),
    };
    Finding {
        check: CheckId::KeysInCode,
        rule: spec.id.clone(),
        severity: m.severity,
        path: path.to_string(),
        span: Some(span),
        message,
        evidence: Some(Redacted::from_secret(&secret)),
        fix: Some(fix_text(spec, path, bare)),
    }
}

/// Scan a file too large to read whole, chunk by chunk, in bounded memory.
/// Positions are exact: lines and columns carry over chunk boundaries.
/// Returns `Ok(false)` for a binary file (nothing scanned).
pub fn scan_large_file(
    catalog: &Catalog,
    abs: &Path,
    path: &str,
    out: &mut Vec<Finding>,
) -> std::io::Result<bool> {
    scan_large_reader(catalog, &mut std::fs::File::open(abs)?, path, out)
}

/// [`scan_large_file`] over any reader (a staged blob streamed from git).
pub fn scan_large_reader(
    catalog: &Catalog,
    file: &mut dyn Read,
    path: &str,
    out: &mut Vec<Finding>,
) -> std::io::Result<bool> {
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + OVERLAP);
    // Where `buf` starts: line (0-based) and column (0-based, code points).
    let (mut line_base, mut col_base) = (0u32, 0u32);
    let mut carried = 0usize;
    loop {
        let before = buf.len();
        (&mut *file).take(CHUNK as u64).read_to_end(&mut buf)?;
        let at_end = buf.len() - before < CHUNK;
        if line_base == 0 && col_base == 0 && carried == 0 && crate::source::is_binary(&buf) {
            return Ok(false);
        }
        let source = Source::new(std::mem::take(&mut buf));
        for m in catalog.keys.scan(&source) {
            // Wholly inside the carried bytes: reported with the last chunk.
            if m.end <= carried {
                continue;
            }
            let local = source.span(m.start, m.end);
            let shift = |line: u32, col: u32| {
                if line == 1 {
                    (line_base + 1, col_base + col)
                } else {
                    (line_base + line, col)
                }
            };
            let (line, column) = shift(local.line, local.column);
            let (end_line, end_column) = shift(local.end_line, local.end_column);
            out.push(finding(
                catalog,
                path,
                &source,
                &m,
                Span {
                    line,
                    column,
                    end_line,
                    end_column,
                },
            ));
        }
        if at_end {
            return Ok(true);
        }
        // Carry the tail, and move the base to where the tail starts.
        let bytes = source.bytes();
        let keep_from = bytes.len().saturating_sub(OVERLAP);
        let (tail_line, tail_col) = source.position(keep_from);
        (line_base, col_base) = if tail_line == 1 {
            (line_base, col_base + tail_col - 1)
        } else {
            (line_base + tail_line - 1, tail_col - 1)
        };
        buf = bytes[keep_from..].to_vec();
        carried = buf.len();
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
fn fix_text(spec: &KeyRuleSpec, path: &str, bare: bool) -> String {
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
    let revoke_url = match (&spec.without_context_revoke_url, bare) {
        (Some(url), true) => Some(url),
        _ => spec.revoke_url.as_ref(),
    };
    let rotate = match revoke_url {
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
