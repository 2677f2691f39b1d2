//! Baselines: the findings a team has accepted for now, recorded by
//! `aiguard baseline -o FILE` and hidden by `aiguard audit --baseline FILE`,
//! so CI fails only on new findings.
//!
//! A finding is recorded by its fingerprint (`findings::fingerprints`: check,
//! rule, path and redacted evidence, numbered when repeated in a file). The
//! line is left out, so moving code keeps a finding hidden; a different key
//! on the same line has other evidence and is reported. The file holds no
//! secret, no evidence and no line: only fingerprints and, for people
//! reading the diff, each finding's check, rule and path.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::ConfigError;
use crate::findings::fingerprints;
use crate::findings::Finding;

const VERSION: u32 = 1;

/// A loaded baseline: the fingerprints to hide.
#[derive(Clone, Debug)]
pub struct Baseline {
    pub path: PathBuf,
    fingerprints: HashSet<String>,
}

#[derive(Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    #[serde(default)]
    tool: Option<Tool>,
    findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Tool {
    name: String,
    version: String,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    #[serde(default)]
    check: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    path: String,
}

impl Baseline {
    /// Read a baseline file; a missing, broken or newer file is a usage
    /// error naming the file (and the line, for broken JSON).
    pub fn load(path: &Path) -> Result<Baseline, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
            file: file.clone(),
            message: format!("cannot read the baseline: {e}"),
        })?;
        let parsed: BaselineFile =
            serde_json::from_str(&text).map_err(|e| ConfigError::Invalid {
                file: file.clone(),
                line: e.line().max(1),
                message: format!("not an aiguard baseline: {e}"),
            })?;
        if parsed.version != VERSION {
            return Err(ConfigError::Invalid {
                file,
                line: 1,
                message: format!(
                    "baseline version {} is not supported (expected {VERSION}); record it again with `aiguard baseline`",
                    parsed.version
                ),
            });
        }
        Ok(Baseline {
            path: path.to_path_buf(),
            fingerprints: parsed.findings.into_iter().map(|e| e.fingerprint).collect(),
        })
    }

    /// Remove the recorded findings from `findings` (sorted as reports sort
    /// them, so repeated fingerprints number the same way); returns how many
    /// were hidden.
    pub fn hide(&self, findings: &mut Vec<Finding>) -> usize {
        let prints = fingerprints(findings);
        let before = findings.len();
        let mut keep = prints.iter().map(|p| !self.fingerprints.contains(p));
        findings.retain(|_| keep.next().unwrap_or(true));
        before - findings.len()
    }

    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }
}

/// Write `findings` (a finished report's) as a baseline file.
pub fn write(findings: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    let entries = fingerprints(findings)
        .into_iter()
        .zip(findings)
        .map(|(fingerprint, f)| Entry {
            fingerprint,
            check: f.check.as_str().to_string(),
            rule: f.rule.clone(),
            path: f.path.clone(),
        })
        .collect();
    let doc = BaselineFile {
        version: VERSION,
        tool: Some(Tool {
            name: "aiguard".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }),
        findings: entries,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::CheckId;
    use crate::findings::{Redacted, Severity, Span};

    fn key(line: u32, evidence: &str) -> Finding {
        Finding {
            check: CheckId::KeysInCode,
            rule: "openai-project-key".into(),
            severity: Severity::Error,
            path: "app.py".into(),
            span: Some(Span {
                line,
                column: 11,
                end_line: line,
                end_column: 80,
            }),
            message: "OpenAI project key written in code".into(),
            evidence: Some(Redacted::public(evidence)),
            fix: None,
        }
    }

    fn round_trip(findings: &[Finding]) -> Baseline {
        let mut out = Vec::new();
        write(findings, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("\"line\""), "no lines in a baseline: {text}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(&path, text).unwrap();
        Baseline::load(&path).unwrap()
    }

    #[test]
    fn hides_moved_findings_and_reports_new_keys() {
        let baseline = round_trip(&[key(3, "sk-proj-…Q2xA")]);
        assert_eq!(baseline.len(), 1);
        let mut moved = vec![key(9, "sk-proj-…Q2xA")];
        assert_eq!(baseline.hide(&mut moved), 1);
        assert!(moved.is_empty());
        let mut other_key = vec![key(3, "sk-proj-…Zz9k")];
        assert_eq!(baseline.hide(&mut other_key), 0);
        // The same key pasted a second time is new.
        let mut twice = vec![key(3, "sk-proj-…Q2xA"), key(20, "sk-proj-…Q2xA")];
        assert_eq!(baseline.hide(&mut twice), 1);
        assert_eq!(twice[0].span.unwrap().line, 20);
    }

    #[test]
    fn broken_files_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        std::fs::write(&path, "{\n  \"version\": 1,\n  \"findings\": [,]\n}\n").unwrap();
        let err = Baseline::load(&path).unwrap_err().to_string();
        assert!(err.contains("b.json:3: not an aiguard baseline"), "{err}");
        std::fs::write(&path, "{\"version\": 7, \"findings\": []}").unwrap();
        let err = Baseline::load(&path).unwrap_err().to_string();
        assert!(err.contains("version 7 is not supported"), "{err}");
        let err = Baseline::load(&dir.path().join("missing.json"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("missing.json: cannot read the baseline"),
            "{err}"
        );
    }
}
