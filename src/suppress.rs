//! Inline suppressions: `# aiguard: ignore[rule-or-check] reason` or
//! `// aiguard: ignore[id,other-id] reason` (also `/* … */` and `<!-- … -->`)
//! on a finding's line or the line above hides that finding.
//!
//! Comments are collected per file on the walker threads from the bytes
//! already read ([`collect`]); [`apply`] filters the project's findings
//! once every check has run, so project-level findings honour the
//! suppressions of the file they point at. A finding about a whole file
//! counts as being on line 1.
//!
//! A suppression still works without a reason, but it is reported, as is
//! an id that suppressed nothing (`suppression-without-reason`,
//! `unused-suppression`, warnings; `--no-suppression-warnings` turns both
//! off). They are reported under the check the comment names, so the
//! checklist item whose finding was silenced shows `warn`; an unknown id
//! goes to the check of a finding on the covered lines (the one it was
//! probably meant for), else to the check of the closest known id. An id
//! is "unused" only when its check ran and its rule is enabled: a comment
//! for a check this build does not run, or that the config deselects, is
//! left alone. Not parsed: files too large to read whole, and files the
//! walk does not read (a git-ignored but tracked `.env`). In Markdown only
//! `<!-- aiguard: ignore[...] -->` counts: docs quote the other forms.

use regex::bytes::Regex;
use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use crate::catalog::Catalog;
use crate::config::Settings;
use crate::findings::CheckId;
use crate::findings::{Finding, Redacted, Severity, Span};
use crate::source::Source;

pub const UNUSED: &str = "unused-suppression";
pub const WITHOUT_REASON: &str = "suppression-without-reason";

static MARKER: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new("aiguard:"));

static COMMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:#|//|/\*|<!--)[ \t]*aiguard:[ \t]*ignore\[([^\]\r\n]*)\]([^\r\n]*)")
        .expect("the suppression pattern compiles")
});

/// One `aiguard: ignore[...]` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// From the comment marker to the end of the line.
    pub span: Span,
    pub ids: Vec<String>,
    pub reason: Option<String>,
}

impl Suppression {
    /// Does it cover a finding starting on `line` (its own line or the next)?
    fn covers(&self, line: u32) -> bool {
        line == self.span.line || line == self.span.line + 1
    }
}

/// Every suppression comment in a file.
pub fn collect(path: &str, source: &Source) -> Vec<Suppression> {
    let bytes = source.bytes();
    if MARKER.find(bytes).is_none() {
        return Vec::new();
    }
    // In JSON (notebooks) a comment sits inside a string: `...reason\n",`.
    let json = path.ends_with(".ipynb") || path.ends_with(".json");
    // Docs quote suppression comments in code blocks: there only an HTML
    // comment counts.
    let markdown = [".md", ".markdown", ".mdx"]
        .iter()
        .any(|e| path.ends_with(e));
    COMMENT
        .captures_iter(bytes)
        .filter_map(|c| {
            let whole = c.get(0)?;
            if markdown && !whole.as_bytes().starts_with(b"<!--") {
                return None;
            }
            // Inside a string or inline code on its line (an odd number of
            // quotes or backticks before it), it is text about suppressions,
            // not one. Notebooks are JSON: there every comment is in a string.
            if !json && inside_quotes(&bytes[line_start(bytes, whole.start())..whole.start()]) {
                return None;
            }
            let ids = String::from_utf8_lossy(c.get(1)?.as_bytes())
                .split(',')
                .map(|id| id.trim().to_string())
                .filter(|id| !id.is_empty())
                .collect();
            let rest = String::from_utf8_lossy(c.get(2)?.as_bytes()).into_owned();
            Some(Suppression {
                span: source.span(whole.start(), whole.end()),
                ids,
                reason: clean_reason(&rest, json),
            })
        })
        .collect()
}

fn line_start(bytes: &[u8], at: usize) -> usize {
    bytes[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1)
}

/// An odd count of `"`, `'`… is too noisy (apostrophes); double quotes and
/// backticks are what wrap quoted suppressions in code and docs.
fn inside_quotes(before: &[u8]) -> bool {
    let count = |q: u8| before.iter().filter(|b| **b == q).count();
    count(b'"') % 2 == 1 || count(b'`') % 2 == 1
}

/// The reason after the brackets, without comment closers; `None` unless it
/// holds a letter or digit.
fn clean_reason(rest: &str, json: bool) -> Option<String> {
    let mut text = rest;
    if json {
        text = text.split(['"']).next().unwrap_or("");
        text = text.split("\\n").next().unwrap_or("");
    }
    for closer in ["*/", "-->"] {
        if let Some(i) = text.find(closer) {
            text = &text[..i];
        }
    }
    let text = text.trim();
    text.chars()
        .any(char::is_alphanumeric)
        .then(|| text.to_string())
}

/// What [`apply`] leaves: the findings still reported (suppression warnings
/// included) and how many it hid.
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub suppressed: usize,
}

/// Hide the findings a suppression covers; add the suppression warnings.
/// `ran` are the checks that ran in this audit.
pub fn apply(
    findings: Vec<Finding>,
    suppressions: &BTreeMap<String, Vec<Suppression>>,
    catalog: &Catalog,
    settings: &Settings,
    ran: &[CheckId],
) -> Outcome {
    // used[path][i][j]: did id j of suppression i in path hide a finding?
    let mut used: HashMap<&str, Vec<Vec<bool>>> = suppressions
        .iter()
        .map(|(p, list)| {
            (
                p.as_str(),
                list.iter().map(|s| vec![false; s.ids.len()]).collect(),
            )
        })
        .collect();
    let mut kept = Vec::with_capacity(findings.len());
    let mut suppressed = 0;
    for f in findings {
        let line = f.span.map_or(1, |s| s.line);
        let mut hidden = false;
        if let (Some(list), Some(marks)) =
            (suppressions.get(&f.path), used.get_mut(f.path.as_str()))
        {
            for (s, marks) in list.iter().zip(marks.iter_mut()) {
                if !s.covers(line) {
                    continue;
                }
                for (id, mark) in s.ids.iter().zip(marks.iter_mut()) {
                    if *id == f.rule || id == f.check.as_str() {
                        *mark = true;
                        hidden = true;
                    }
                }
            }
        }
        if hidden {
            suppressed += 1;
        } else {
            kept.push(f);
        }
    }
    if settings.suppression_warnings {
        let warnings = Warnings::new(catalog, settings, ran, &kept);
        let mut extra = Vec::new();
        for (path, list) in suppressions {
            for (s, marks) in list.iter().zip(&used[path.as_str()]) {
                warnings.report(path, s, marks, &mut extra);
            }
        }
        kept.extend(settings.filter.apply(extra));
    }
    Outcome {
        findings: kept,
        suppressed,
    }
}

/// Builds the suppression warnings of one audit.
struct Warnings<'a> {
    catalog: &'a Catalog,
    settings: &'a Settings,
    ran: &'a [CheckId],
    rule_checks: HashMap<String, CheckId>,
    /// The findings left after suppression, for unknown ids.
    findings: &'a [Finding],
}

impl<'a> Warnings<'a> {
    fn new(
        catalog: &'a Catalog,
        settings: &'a Settings,
        ran: &'a [CheckId],
        findings: &'a [Finding],
    ) -> Warnings<'a> {
        let rule_checks = catalog
            .all_rules()
            .into_iter()
            .map(|r| (r.id, r.check))
            .collect();
        Warnings {
            catalog,
            settings,
            ran,
            rule_checks,
            findings,
        }
    }

    fn check_of_id(&self, id: &str) -> Option<CheckId> {
        CheckId::parse(id).or_else(|| self.rule_checks.get(id).copied())
    }

    /// The check a warning about `id` in `s` is reported under.
    fn check_for(&self, path: &str, s: &Suppression, id: &str) -> CheckId {
        if let Some(check) = self.check_of_id(id) {
            return check;
        }
        let on_lines = self
            .findings
            .iter()
            .find(|f| f.path == path && s.covers(f.span.map_or(1, |sp| sp.line)));
        if let Some(f) = on_lines {
            return f.check;
        }
        self.catalog
            .close_matches(id)
            .iter()
            .find_map(|c| self.check_of_id(c))
            .unwrap_or(CheckId::KeysInCode)
    }

    /// Could `id` have matched a finding in this audit?
    fn could_match(&self, id: &str) -> bool {
        match (CheckId::parse(id), self.rule_checks.get(id)) {
            (Some(check), _) => self.ran.contains(&check),
            (None, Some(&check)) => {
                self.ran.contains(&check) && self.settings.filter.is_enabled(check, id)
            }
            (None, None) => true, // unknown: it never can, so say so
        }
    }

    fn report(&self, path: &str, s: &Suppression, marks: &[bool], out: &mut Vec<Finding>) {
        let listed = format!("ignore[{}]", s.ids.join(","));
        let warning = |check: CheckId, rule: &str, message: String, evidence: &str| Finding {
            check,
            rule: rule.to_string(),
            severity: Severity::Warning,
            path: path.to_string(),
            span: Some(s.span),
            message,
            evidence: Some(Redacted::public(evidence)),
            fix: self
                .catalog
                .meta_rules
                .iter()
                .find(|r| r.id == rule)
                .map(|r| r.fix.trim().to_string()),
        };
        if s.reason.is_none() {
            let check = s
                .ids
                .first()
                .map_or(CheckId::KeysInCode, |id| self.check_for(path, s, id));
            out.push(warning(
                check,
                WITHOUT_REASON,
                "this suppression gives no reason".into(),
                &listed,
            ));
        }
        if s.ids.is_empty() {
            let check = self.check_for(path, s, "");
            let message = "this suppression names no check or rule".into();
            out.push(warning(check, UNUSED, message, &listed));
        }
        for (id, used) in s.ids.iter().zip(marks) {
            if *used || !self.could_match(id) {
                continue;
            }
            let message = if self.check_of_id(id).is_some() {
                format!(
                    "`{id}` is suppressed here but no `{id}` finding is on this line or the next"
                )
            } else {
                let hint = match self.catalog.close_matches(id).first() {
                    Some(c) => format!("; did you mean `{c}`?"),
                    None => String::new(),
                };
                format!("`{id}` is not a check or rule id, so this suppresses nothing{hint}")
            };
            out.push(warning(
                self.check_for(path, s, id),
                UNUSED,
                message,
                &format!("ignore[{id}]"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(path: &str, text: &str) -> Vec<Suppression> {
        collect(path, &Source::new(text.as_bytes().to_vec()))
    }

    #[test]
    fn suppressions_quoted_in_strings_or_docs_are_not_suppressions() {
        let text = "msg = \"write # aiguard: ignore[cors] reason\"\n\
                    //! Use `// aiguard: ignore[rule] reason` on the line\n\
                    x = 1  # aiguard: ignore[cors] real one\n";
        let found = parse("a.py", text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].span.line, 3);
    }

    #[test]
    fn comments_in_each_syntax() {
        let found = parse(
            "app.py",
            // One quoted string per line, so aiguard auditing its own source
            // sees these as strings, not as suppressions.
            concat!(
                "x = 1  # aiguard: ignore[cors] internal tool\n",
                "// aiguard: ignore[keys-in-code, openai-project-key] test fixture, revoked\n",
                "/* aiguard: ignore[cors] */\n",
                "{/* aiguard:ignore[keys-in-client] docs demo */}\n",
                "<!-- aiguard: ignore[keys-in-code] example -->\n",
                "url = \"aiguard: ignore[cors] not a comment\"\n",
            ),
        );
        let summary: Vec<(u32, Vec<&str>, Option<&str>)> = found
            .iter()
            .map(|s| {
                (
                    s.span.line,
                    s.ids.iter().map(String::as_str).collect(),
                    s.reason.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, vec!["cors"], Some("internal tool")),
                (
                    2,
                    vec!["keys-in-code", "openai-project-key"],
                    Some("test fixture, revoked")
                ),
                (3, vec!["cors"], None),
                (4, vec!["keys-in-client"], Some("docs demo")),
                (5, vec!["keys-in-code"], Some("example")),
            ]
        );
        assert_eq!(found[0].span.column, 8);
    }

    #[test]
    fn reasons_need_a_word_and_notebooks_lose_their_json() {
        assert_eq!(
            parse("a.py", "# aiguard: ignore[cors] -- \n")[0].reason,
            None
        );
        let cell = r#"    "key = load()  # aiguard: ignore[keys-in-code] revoked demo key\n","#;
        assert_eq!(
            parse("n.ipynb", cell)[0].reason.as_deref(),
            Some("revoked demo key")
        );
    }

    #[test]
    fn markdown_takes_only_html_comments() {
        let text = "```python\n# aiguard: ignore[cors] quoted in the docs\n```\n<!-- aiguard: ignore[keys-in-code] revoked example key -->\n";
        let found = parse("README.md", text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].ids, ["keys-in-code"]);
        assert_eq!(parse("notes.txt", text).len(), 2);
    }

    #[test]
    fn covers_its_line_and_the_next() {
        let s = &parse("a.py", "\n\n# aiguard: ignore[cors] why\n")[0];
        assert!(!s.covers(2) && s.covers(3) && s.covers(4) && !s.covers(5));
    }
}
