//! `--format junit`: JUnit XML for CI systems that show test reports
//! (GitLab `artifacts:reports:junit`, Jenkins, Azure Pipelines, CircleCI).
//!
//! One testsuite, `aiguard`, with one testcase per checklist item: `fail`
//! and `warn` items get a `<failure>` whose body lists their findings
//! (place, rule, message, redacted evidence, fix); `n/a`, `manual` and
//! `skipped` items are `<skipped/>`; `pass` items are plain testcases. It
//! deliberately has no per-finding testcases (a finding is not a test, and
//! names would change as findings come and go) and uses no XML crate: the
//! document is small and every value goes through [`escape`].

use std::io::{self, Write};

use super::Report;
use crate::checklist::{Item, Status};
use crate::findings::Finding;

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let items = &report.checklist;
    let failures = items
        .iter()
        .filter(|i| matches!(i.status, Status::Fail | Status::Warn))
        .count();
    let skipped = items
        .iter()
        .filter(|i| {
            matches!(
                i.status,
                Status::NotApplicable | Status::Manual | Status::Skipped
            )
        })
        .count();
    let counts = format!(
        "tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{:.3}\"",
        items.len(),
        report.summary.duration_ms as f64 / 1000.0
    );
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(out, "<testsuites name=\"aiguard\" {counts}>")?;
    writeln!(out, "  <testsuite name=\"aiguard\" {counts}>")?;
    for item in items {
        write_testcase(item, report, out)?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

fn write_testcase(item: &Item, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let open = format!(
        "    <testcase name=\"{}\" classname=\"aiguard\" time=\"0\"",
        escape(item.check.as_str(), true)
    );
    match item.status {
        Status::Pass => writeln!(out, "{open}/>"),
        Status::Fail | Status::Warn => {
            let kind = if item.status == Status::Fail {
                "error"
            } else {
                "warning"
            };
            let message = format!(
                "{}: {} finding{}",
                item.title,
                item.findings,
                if item.findings == 1 { "" } else { "s" }
            );
            let body: String = report
                .findings
                .iter()
                .filter(|f| f.check == item.check)
                .map(describe)
                .collect();
            writeln!(out, "{open}>")?;
            writeln!(
                out,
                "      <failure message=\"{}\" type=\"{kind}\">{}</failure>",
                escape(&message, true),
                escape(&body, false)
            )?;
            writeln!(out, "    </testcase>")
        }
        Status::NotApplicable | Status::Manual | Status::Skipped => {
            let message = match &item.note {
                Some(note) => format!("{}: {note}", item.status.as_str()),
                None => item.status.as_str().to_string(),
            };
            writeln!(out, "{open}>")?;
            writeln!(
                out,
                "      <skipped message=\"{}\"/>",
                escape(&message, true)
            )?;
            writeln!(out, "    </testcase>")
        }
    }
}

/// `path:line:col: severity [rule] message (evidence)`, then the fix,
/// indented; one finding per block.
fn describe(f: &Finding) -> String {
    let place = match f.span {
        Some(s) => format!("{}:{}:{}", f.path, s.line, s.column),
        None => f.path.clone(),
    };
    let mut text = format!(
        "\n{place}: {} [{}] {}\n",
        f.severity.as_str(),
        f.rule,
        super::describe(f)
    );
    if let Some(fix) = &f.fix {
        for (i, line) in fix.lines().enumerate() {
            let lead = if i == 0 { "  fix: " } else { "       " };
            text.push_str(&format!("{lead}{line}\n"));
        }
    }
    text
}

/// Escape for XML 1.0 text (`attribute = false`) or a double- or
/// single-quoted attribute value. Characters XML 1.0 cannot hold at all
/// (most C0 controls) become U+FFFD; in attributes, line breaks and tabs
/// become character references so parsers keep them.
fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            escape("a<b> & \"c\" 'd'\n\u{1}", false),
            "a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;\n\u{FFFD}"
        );
        assert_eq!(escape("x\ny\tz", true), "x&#10;y&#9;z");
    }
}
