//! `--format gitlab`: GitLab Code Quality JSON (`artifacts:reports:codequality`),
//! a subset of the Code Climate issue format: one issue per finding.
//!
//! Fingerprints are those of SARIF (check, rule, path and redacted evidence,
//! numbered when repeated), so GitLab tracks an issue across line shifts and
//! never merges two findings. It deliberately leaves out the checklist, notes
//! and Code Climate fields GitLab ignores (`content`, `remediation_points`).

use serde::Serialize;
use std::io::{self, Write};

use super::{describe, fingerprints, Report};
use crate::findings::Severity;

#[derive(Serialize)]
struct Issue<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    categories: [&'static str; 1],
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<u32>,
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let issues: Vec<Issue> = report
        .findings
        .iter()
        .zip(fingerprints(&report.findings))
        .map(|(f, fingerprint)| Issue {
            kind: "issue",
            description: format!("{} [{}]", describe(f), f.check),
            check_name: &f.rule,
            fingerprint,
            severity: match f.severity {
                Severity::Error => "critical",
                Severity::Warning => "minor",
            },
            categories: ["Security"],
            location: Location {
                path: &f.path,
                lines: Lines {
                    // A whole-file finding points at the first line.
                    begin: f.span.map_or(1, |s| s.line),
                    end: f.span.map(|s| s.end_line),
                },
            },
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &issues)?;
    writeln!(out)
}
