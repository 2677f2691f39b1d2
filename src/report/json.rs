//! `--format json`: the JSON contract of CHECKS.md. Fields may be added,
//! never renamed.

use serde::Serialize;
use std::io::{self, Write};

use super::{Report, Summary};
use crate::checklist::Item;
use crate::findings::{Note, Redacted};

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    tool: Tool,
    root: &'a str,
    summary: &'a Summary,
    checklist: &'a [Item],
    findings: Vec<JsonFinding<'a>>,
    notes: &'a [Note],
    inventory: &'a crate::inventory::InventoryView,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    check: &'static str,
    rule: &'a str,
    severity: &'static str,
    path: &'a str,
    line: Option<u32>,
    column: Option<u32>,
    end_line: Option<u32>,
    end_column: Option<u32>,
    message: &'a str,
    evidence: Option<&'a Redacted>,
    fix: Option<&'a str>,
}

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let findings = report
        .findings
        .iter()
        .map(|f| JsonFinding {
            check: f.check.as_str(),
            rule: &f.rule,
            severity: f.severity.as_str(),
            path: &f.path,
            line: f.span.map(|s| s.line),
            column: f.span.map(|s| s.column),
            end_line: f.span.map(|s| s.end_line),
            end_column: f.span.map(|s| s.end_column),
            message: &f.message,
            evidence: f.evidence.as_ref(),
            fix: f.fix.as_deref(),
        })
        .collect();
    let doc = JsonReport {
        version: 1,
        tool: Tool {
            name: "aiguard",
            version: env!("CARGO_PKG_VERSION"),
        },
        root: &report.root,
        summary: &report.summary,
        checklist: &report.checklist,
        findings,
        notes: &report.notes,
        inventory: &report.inventory,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
