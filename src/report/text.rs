//! The text report: the checklist, with each item's findings under it
//! (`path:line:col`, rule, message, evidence, fix), then what was skipped,
//! then a summary line. The only reporter with colour.

use owo_colors::{OwoColorize, Style};
use std::io::{self, Write};

use super::Report;
use crate::checklist::Status;
use crate::findings::{Finding, NoteKind, Severity};

/// How many skipped-file notes are listed one by one.
const MAX_NOTES: usize = 20;

pub struct TextOptions {
    pub color: bool,
    /// The exit status this report leads to, for the summary line.
    pub exit_code: i32,
    pub fail_on: &'static str,
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
        for f in report.findings.iter().filter(|f| f.check == item.check) {
            write_finding(&p, f, out)?;
        }
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
    writeln!(out, "            {}{}", f.message, evidence)?;
    if let Some(fix) = &f.fix {
        let mut lines = fix.lines();
        if let Some(first) = lines.next() {
            writeln!(
                out,
                "            {} {}",
                p.paint("fix:", Style::new().cyan()),
                first
            )?;
        }
        for line in lines {
            writeln!(out, "                 {line}")?;
        }
    }
    Ok(())
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
