//! The text report: the checklist, with each item's findings under it
//! (`path:line:col`, rule, message, evidence, fix), then what was skipped,
//! then a summary line. The only reporter with colour.
//!
//! Findings of one rule with the same fix are listed together and the fix
//! is printed once, after their places (15 unprotected routes: one fix, not
//! fifteen). A check lists its first [`MAX_FINDINGS`] findings and says how
//! many more there are, unless `--all`. Machine formats keep one result per
//! finding, each with its fix.

use owo_colors::{OwoColorize, Style};
use std::io::{self, Write};

use super::Report;
use crate::checklist::Status;
use crate::findings::{Finding, NoteKind, Severity};

/// How many skipped-file notes are listed one by one.
const MAX_NOTES: usize = 20;
/// How many findings a check lists without `--all`.
pub const MAX_FINDINGS: usize = 20;

pub struct TextOptions {
    pub color: bool,
    /// The exit status this report leads to, for the summary line.
    pub exit_code: i32,
    pub fail_on: &'static str,
    /// List every finding of a check, not only the first [`MAX_FINDINGS`].
    pub all: bool,
}

struct Painter(bool);

impl Painter {
    fn paint(&self, text: &str, style: Style) -> String {
        if self.0 {
            text.style(style).to_string()
        } else {
            text.to_string()
        }
    }
}

pub fn write(report: &Report, options: &TextOptions, out: &mut dyn Write) -> io::Result<()> {
    let p = Painter(options.color);
    let s = &report.summary;
    writeln!(
        out,
        "{} {} · audit of {} · {} files in {} ms",
        p.paint("aiguard", Style::new().bold()),
        env!("CARGO_PKG_VERSION"),
        report.root,
        s.files_scanned,
        s.duration_ms
    )?;
    let inv = &report.inventory;
    let frameworks = if inv.frameworks.is_empty() {
        "no web framework".to_string()
    } else {
        inv.frameworks.join(", ")
    };
    writeln!(
        out,
        "{frameworks} · {} AI endpoint{} of {} · {} AI call site{}  (details: aiguard inventory)\n",
        inv.ai_endpoints,
        plural(inv.ai_endpoints),
        inv.endpoints.len(),
        inv.ai_call_sites,
        plural(inv.ai_call_sites)
    )?;
    for item in &report.checklist {
        let (label, style) = status_style(item.status);
        let note = item
            .note
            .as_ref()
            .map(|n| format!("  ({n})"))
            .unwrap_or_default();
        writeln!(
            out,
            " {}  {}{}",
            p.paint(&format!("{label:<7}"), style),
            item.title,
            p.paint(&note, Style::new().dimmed())
        )?;
        let findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.check == item.check)
            .collect();
        write_check_findings(&p, &findings, options.all, out)?;
    }
    write_notes(report, &p, out)?;
    let verdict = match options.exit_code {
        0 => p.paint("passed", Style::new().green().bold()),
        _ => p.paint("failed", Style::new().red().bold()),
    };
    let mut hidden = String::new();
    if s.suppressed > 0 {
        hidden.push_str(&format!(", {} suppressed", s.suppressed));
    }
    if s.baselined > 0 {
        hidden.push_str(&format!(", {} hidden by the baseline", s.baselined));
    }
    writeln!(
        out,
        "\n{verdict}: {} error{}, {} warning{}{hidden} (fail on {}, exit {})",
        s.errors,
        plural(s.errors),
        s.warnings,
        plural(s.warnings),
        options.fail_on,
        options.exit_code
    )
}

/// `findings` grouped by rule and fix (groups in order of their first
/// finding), each group's fix after its last place; cut at
/// [`MAX_FINDINGS`] unless `all`.
fn write_check_findings(
    p: &Painter,
    findings: &[&Finding],
    all: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut groups: Vec<Vec<&Finding>> = Vec::new();
    for f in findings {
        match groups
            .iter_mut()
            .find(|g| g[0].rule == f.rule && g[0].fix == f.fix)
        {
            Some(group) => group.push(f),
            None => groups.push(vec![f]),
        }
    }
    let limit = if all { usize::MAX } else { MAX_FINDINGS };
    let mut shown = 0;
    for group in &groups {
        if shown >= limit {
            break;
        }
        let take = group.len().min(limit - shown);
        for f in &group[..take] {
            write_finding(p, f, out)?;
        }
        shown += take;
        if let Some(fix) = &group[0].fix {
            let label = if take > 1 {
                format!("fix (all {take} above):")
            } else {
                "fix:".to_string()
            };
            write_fix(p, &label, fix, out)?;
        }
    }
    if findings.len() > shown {
        writeln!(
            out,
            "          {}",
            p.paint(
                &format!(
                    "… and {} more (--all lists them, --format json gives each with its fix)",
                    findings.len() - shown
                ),
                Style::new().dimmed()
            )
        )?;
    }
    Ok(())
}

fn write_fix(p: &Painter, label: &str, fix: &str, out: &mut dyn Write) -> io::Result<()> {
    let mut lines = fix.lines();
    if let Some(first) = lines.next() {
        writeln!(
            out,
            "            {} {}",
            p.paint(label, Style::new().cyan()),
            first
        )?;
    }
    let indent = " ".repeat(13 + label.chars().count());
    for line in lines {
        writeln!(out, "{indent}{line}")?;
    }
    Ok(())
}

/// A finding's place, severity, rule and message (its fix is written once
/// per group, by the caller).
fn write_finding(p: &Painter, f: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let place = match f.span {
        Some(s) => format!("{}:{}:{}", f.path, s.line, s.column),
        None => f.path.clone(),
    };
    let severity = match f.severity {
        Severity::Error => p.paint("error", Style::new().red()),
        Severity::Warning => p.paint("warning", Style::new().yellow()),
    };
    writeln!(
        out,
        "          {}  {}  {}",
        p.paint(&place, Style::new().bold()),
        severity,
        p.paint(&f.rule, Style::new().dimmed())
    )?;
    let evidence = f
        .evidence
        .as_ref()
        .map(|e| format!(" ({e})"))
        .unwrap_or_default();
    writeln!(out, "            {}{}", f.message, evidence)
}

fn write_notes(report: &Report, p: &Painter, out: &mut dyn Write) -> io::Result<()> {
    if report.notes.is_empty() {
        return Ok(());
    }
    let binary = report
        .notes
        .iter()
        .filter(|n| n.kind == NoteKind::Binary)
        .count();
    let listed: Vec<_> = report
        .notes
        .iter()
        .filter(|n| n.kind != NoteKind::Binary)
        .collect();
    writeln!(out)?;
    if binary > 0 {
        writeln!(
            out,
            "{}",
            p.paint(
                &format!("skipped {binary} binary file{}", plural(binary)),
                Style::new().dimmed()
            )
        )?;
    }
    for n in listed.iter().take(MAX_NOTES) {
        let place = if n.path.is_empty() {
            String::new()
        } else {
            format!("{}: ", n.path)
        };
        writeln!(
            out,
            "{} {place}{}",
            p.paint("note:", Style::new().yellow()),
            n.message
        )?;
    }
    if listed.len() > MAX_NOTES {
        writeln!(
            out,
            "{} … and {} more (see --format json)",
            p.paint("note:", Style::new().yellow()),
            listed.len() - MAX_NOTES
        )?;
    }
    Ok(())
}

fn status_style(status: Status) -> (&'static str, Style) {
    match status {
        Status::Pass => ("PASS", Style::new().green().bold()),
        Status::Fail => ("FAIL", Style::new().red().bold()),
        Status::Warn => ("WARN", Style::new().yellow().bold()),
        Status::NotApplicable => ("N/A", Style::new().dimmed()),
        Status::Manual => ("MANUAL", Style::new().blue().bold()),
        Status::Skipped => ("SKIPPED", Style::new().dimmed()),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
