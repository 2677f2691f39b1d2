//! A finished audit and the formats it is written in. Reporters read the
//! [`Report`] and the catalogue's texts; they never look at sources.
//!
//! Also what several formats share: a finding's one-line description and its
//! stable fingerprint (SARIF `partialFingerprints`, GitLab `fingerprint`).

pub mod github;
pub mod gitlab;
pub mod inventory;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use crate::checklist::Item;
use crate::findings::{Finding, Note, Severity};

pub struct Report {
    /// The audited path as the user gave it.
    pub root: String,
    pub summary: Summary,
    pub checklist: Vec<Item>,
    pub findings: Vec<Finding>,
    /// The findings before places of one problem were merged
    /// (`checks::merge_places`): what `aiguard baseline` records.
    pub places: Vec<Finding>,
    pub notes: Vec<Note>,
    /// Frameworks, endpoints, AI calls and rate limits found.
    pub inventory: crate::inventory::InventoryView,
    /// What the engine did (`--stats`).
    pub stats: Stats,
}

/// What the engine did, for `audit --stats` and benchmarks: how many files
/// each stage saw and how long each phase took.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Stats {
    pub files_walked: usize,
    pub files_scanned: usize,
    pub bytes_scanned: u64,
    /// Source files whose imports and roles were read (no parsing).
    pub files_summarized: usize,
    pub import_edges: usize,
    /// Files the slice chose, and how many of those were parsed.
    pub files_in_slice: usize,
    pub files_parsed: usize,
    pub bytes_parsed: u64,
    /// Of the parsed files, those parsed only up to their last import
    /// (browser modules that only link a client file to an AI file).
    pub files_links_only: usize,
    /// Files of the slice whose facts the cache held (not parsed).
    pub files_cached: usize,
    pub walk_ms: u64,
    pub slice_ms: u64,
    pub parse_ms: u64,
    pub project_ms: u64,
    pub total_ms: u64,
}

impl Stats {
    /// Add another root's (roots are audited one after another: times add up).
    pub fn add(&mut self, other: &Stats) {
        self.files_walked += other.files_walked;
        self.files_scanned += other.files_scanned;
        self.bytes_scanned += other.bytes_scanned;
        self.files_summarized += other.files_summarized;
        self.import_edges += other.import_edges;
        self.files_in_slice += other.files_in_slice;
        self.files_parsed += other.files_parsed;
        self.bytes_parsed += other.bytes_parsed;
        self.files_links_only += other.files_links_only;
        self.files_cached += other.files_cached;
        self.walk_ms += other.walk_ms;
        self.slice_ms += other.slice_ms;
        self.parse_ms += other.parse_ms;
        self.project_ms += other.project_ms;
        self.total_ms += other.total_ms;
    }

    /// The `--stats` lines (stderr).
    pub fn render(&self) -> String {
        format!(
            "stats: {} files walked, {} scanned for keys ({}), {} source files summarized ({} import edges)\n\
             stats: slice {} files, {} parsed ({}), {} of them up to their last import, {} from the cache\n\
             stats: walk+scan {} ms, slice {} ms, parse {} ms, project {} ms, total {} ms\n",
            self.files_walked,
            self.files_scanned,
            crate::source::human_bytes(self.bytes_scanned),
            self.files_summarized,
            self.import_edges,
            self.files_in_slice,
            self.files_parsed,
            crate::source::human_bytes(self.bytes_parsed),
            self.files_links_only,
            self.files_cached,
            self.walk_ms,
            self.slice_ms,
            self.parse_ms,
            self.project_ms,
            self.total_ms,
        )
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub files_scanned: usize,
    pub duration_ms: u64,
    /// Findings hidden by inline `aiguard: ignore[...]` comments.
    pub suppressed: usize,
    /// Findings hidden by `--baseline`.
    pub baselined: usize,
}

impl Report {
    /// One report of several roots' (`aiguard audit apps/web apps/api`),
    /// each already naming its files from the current directory. One
    /// report is returned as it is. The checklist takes each line's worst
    /// status (fail, warn, manual, pass, n/a, skipped: a line that needs
    /// attention in one project needs it in the report).
    pub fn merge(mut reports: Vec<Report>) -> Report {
        if reports.len() <= 1 {
            if let Some(report) = reports.pop() {
                return report;
            }
        }
        let root = reports
            .iter()
            .map(|r| r.root.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut parts = reports.into_iter();
        let Some(mut merged) = parts.next() else {
            return Report {
                root,
                summary: Summary::new(&[], 0, 0),
                checklist: Vec::new(),
                findings: Vec::new(),
                places: Vec::new(),
                notes: Vec::new(),
                inventory: Default::default(),
                stats: Stats::default(),
            };
        };
        merged.root = root;
        for r in parts {
            for (mine, theirs) in merged.checklist.iter_mut().zip(r.checklist) {
                mine.findings += theirs.findings;
                if rank(theirs.status) > rank(mine.status) {
                    (mine.status, mine.note) = (theirs.status, theirs.note);
                }
            }
            merged.findings.extend(r.findings);
            merged.places.extend(r.places);
            merged.notes.extend(r.notes);
            let s = &mut merged.summary;
            s.files_scanned += r.summary.files_scanned;
            s.duration_ms = s.duration_ms.max(r.summary.duration_ms);
            s.suppressed += r.summary.suppressed;
            s.baselined += r.summary.baselined;
            merged.inventory.extend(r.inventory);
            merged.stats.add(&r.stats);
        }
        merged
            .findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        merged.notes.sort();
        let s = &merged.summary;
        let summary = Summary {
            suppressed: s.suppressed,
            baselined: s.baselined,
            ..Summary::new(&merged.findings, s.files_scanned, s.duration_ms)
        };
        merged.summary = summary;
        merged
    }
}

/// How much a checklist status asks of the reader, for [`Report::merge`].
fn rank(status: crate::checklist::Status) -> u8 {
    use crate::checklist::Status::*;
    match status {
        Skipped => 0,
        NotApplicable => 1,
        Pass => 2,
        Manual => 3,
        Warn => 4,
        Fail => 5,
    }
}

impl Summary {
    pub fn new(findings: &[Finding], files_scanned: usize, duration_ms: u64) -> Summary {
        let errors = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        Summary {
            errors,
            warnings: findings.len() - errors,
            files_scanned,
            duration_ms,
            suppressed: 0,
            baselined: 0,
        }
    }
}

/// The finding's message with its (redacted) evidence: `message (evidence)`.
pub fn describe(f: &Finding) -> String {
    match &f.evidence {
        Some(e) => format!("{} ({e})", f.message),
        None => f.message.clone(),
    }
}

pub use crate::findings::fingerprints;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::CheckId;
    use crate::findings::{Redacted, Span};

    fn finding(rule: &str, path: &str, line: Option<u32>, evidence: &str) -> Finding {
        Finding {
            check: CheckId::KeysInCode,
            rule: rule.to_string(),
            severity: Severity::Error,
            path: path.to_string(),
            span: line.map(|line| Span {
                line,
                column: 5,
                end_line: line,
                end_column: 12,
            }),
            message: "OpenAI project key written in code".to_string(),
            evidence: Some(Redacted::public(evidence)),
            fix: Some("Read it from the environment".to_string()),
        }
    }

    #[test]
    fn fingerprints_ignore_the_line_and_number_repeats() {
        let a = fingerprints(&[finding(
            "openai-project-key",
            "a.py",
            Some(3),
            "sk-proj-…Q2xA",
        )]);
        let b = fingerprints(&[
            finding("openai-project-key", "a.py", Some(9), "sk-proj-…Q2xA"),
            finding("openai-project-key", "a.py", Some(12), "sk-proj-…Q2xA"),
            finding("openai-project-key", "b.py", Some(12), "sk-proj-…Q2xA"),
            finding("openai-project-key", "a.py", Some(12), "sk-proj-…Zz9k"),
        ]);
        assert_eq!(a[0], b[0]);
        assert!(a[0].ends_with(":1") && b[1].ends_with(":2"));
        assert_eq!(a[0].len(), 64 + 2);
        let unique: std::collections::HashSet<&String> = b.iter().collect();
        assert_eq!(unique.len(), 4);
    }
}
