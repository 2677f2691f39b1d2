//! `--format github`: GitHub Actions workflow commands, one `::error` or
//! `::warning` per finding, which Actions shows as annotations on the diff.
//!
//! Values are escaped as the Actions runner expects (`%`, CR, LF everywhere;
//! also `:` and `,` in properties). A span over several lines gets no
//! `col`/`endColumn` (GitHub rejects those, as ruff found); a whole-file
//! finding gets only `file=`. It deliberately prints nothing else on stdout:
//! no checklist, no summary (notes go to stderr).

use std::io::{self, Write};

use super::{describe, Report};
use crate::catalog::Catalog;
use crate::findings::{Finding, Severity};

pub fn write(report: &Report, catalog: &Catalog, out: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        writeln!(out, "{}", command(f, catalog))?;
    }
    Ok(())
}

/// `::error file=…,line=…,endLine=…,col=…,endColumn=…,title=…::message`.
fn command(f: &Finding, catalog: &Catalog) -> String {
    let name = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut props = vec![("file", f.path.clone())];
    if let Some(s) = f.span {
        props.push(("line", s.line.to_string()));
        props.push(("endLine", s.end_line.to_string()));
        if s.line == s.end_line {
            props.push(("col", s.column.to_string()));
            props.push(("endColumn", s.end_column.max(s.column).to_string()));
        }
    }
    let check = catalog.check(f.check);
    props.push(("title", check.title.clone()));
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    let fix = f.fix.as_deref().unwrap_or(&check.fix);
    let message = format!("{} [{}]\nFix: {fix}", describe(f), f.rule);
    format!("::{name} {}::{}", props.join(","), escape_data(&message))
}

/// A command's message: `%`, CR and LF are percent-encoded.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as [`escape_data`], plus `:` and `,`, which would
/// otherwise end the value.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::CheckId;
    use crate::findings::{Redacted, Span};
    use crate::report::Summary;

    fn report(findings: Vec<Finding>) -> Report {
        Report {
            root: ".".into(),
            summary: Summary::new(&findings, 1, 0),
            checklist: Vec::new(),
            findings,
            places: Vec::new(),
            notes: Vec::new(),
            inventory: Default::default(),
            stats: Default::default(),
        }
    }

    fn render(findings: Vec<Finding>) -> String {
        let catalog = Catalog::load(&[]).expect("built-in catalog");
        let mut out = Vec::new();
        write(&report(findings), &catalog, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn finding(span: Option<Span>) -> Finding {
        Finding {
            check: CheckId::Cors,
            rule: "cors-wildcard".into(),
            severity: Severity::Error,
            path: "app/a,b:c.py".into(),
            span,
            message: "100% open: any origin,\r\nany site".into(),
            evidence: Some(Redacted::public("allow_origins=[\"*\"]")),
            fix: Some("List origins: a,b\nfrom settings".into()),
        }
    }

    #[test]
    fn escapes_messages_and_properties() {
        let span = Span {
            line: 3,
            column: 5,
            end_line: 3,
            end_column: 20,
        };
        let out = render(vec![finding(Some(span))]);
        assert_eq!(
            out,
            "::error file=app/a%2Cb%3Ac.py,line=3,endLine=3,col=5,endColumn=20,\
             title=CORS is restricted to known origins::\
             100%25 open: any origin,%0D%0Aany site (allow_origins=[\"*\"]) [cors-wildcard]\
             %0AFix: List origins: a,b%0Afrom settings\n"
        );
        assert_eq!(out.lines().count(), 1);
    }

    #[test]
    fn multi_line_spans_drop_columns_and_whole_files_keep_only_the_file() {
        let span = Span {
            line: 3,
            column: 5,
            end_line: 6,
            end_column: 2,
        };
        let mut warning = finding(Some(span));
        warning.severity = Severity::Warning;
        let out = render(vec![warning, finding(None)]);
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("::warning file=app/a%2Cb%3Ac.py,line=3,endLine=6,title="),
            "{out}"
        );
        assert!(!lines[0].contains("col="));
        assert!(
            lines[1].starts_with("::error file=app/a%2Cb%3Ac.py,title="),
            "{out}"
        );
    }
}
