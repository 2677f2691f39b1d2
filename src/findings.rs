//! The findings model: the seam between detection and output.
//!
//! Checks build [`Finding`]s; reporters only read them. A found secret enters
//! this module only through [`Redacted::from_secret`], so no reporter can leak
//! one: nothing here ever holds a raw secret.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;

/// The checklist items, in checklist order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    KeysInCode,
    KeysInClient,
    RateLimit,
    RateLimitStore,
    Auth,
    Quota,
    Loops,
    Cors,
    EnvGitignore,
    KeyHistory,
    SpendLimits,
}

impl CheckId {
    pub const ALL: [CheckId; 11] = [
        CheckId::KeysInCode,
        CheckId::KeysInClient,
        CheckId::RateLimit,
        CheckId::RateLimitStore,
        CheckId::Auth,
        CheckId::Quota,
        CheckId::Loops,
        CheckId::Cors,
        CheckId::EnvGitignore,
        CheckId::KeyHistory,
        CheckId::SpendLimits,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::KeysInCode => "keys-in-code",
            CheckId::KeysInClient => "keys-in-client",
            CheckId::RateLimit => "rate-limit",
            CheckId::RateLimitStore => "rate-limit-store",
            CheckId::Auth => "auth",
            CheckId::Quota => "quota",
            CheckId::Loops => "loops",
            CheckId::Cors => "cors",
            CheckId::EnvGitignore => "env-gitignore",
            CheckId::KeyHistory => "key-history",
            CheckId::SpendLimits => "spend-limits",
        }
    }

    pub fn parse(s: &str) -> Option<CheckId> {
        CheckId::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a finding is. Ordered: `Warning < Error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A 1-based region of a file, columns counted in Unicode code points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

/// A secret after redaction: its prefix and its last four characters.
/// Redacting is the only way to build one.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Redacted(String);

impl Redacted {
    /// Keep the provider prefix (up to and including the last `-` or `_` of
    /// the first 12 characters, never more than a third of the secret) and
    /// the last four characters. Secrets under 20 characters keep only their
    /// last two, under 8 nothing.
    pub fn from_secret(secret: &str) -> Redacted {
        let chars: Vec<char> = secret.chars().collect();
        if chars.len() < 8 {
            return Redacted("…".to_string());
        }
        if chars.len() < 20 {
            let tail: String = chars[chars.len() - 2..].iter().collect();
            return Redacted(format!("…{tail}"));
        }
        let head_limit = 12.min(chars.len() / 3);
        let prefix_len = chars[..head_limit]
            .iter()
            .rposition(|c| *c == '-' || *c == '_')
            .map(|i| i + 1)
            .unwrap_or(head_limit.min(4));
        let prefix: String = chars[..prefix_len].iter().collect();
        let tail: String = chars[chars.len() - 4..].iter().collect();
        Redacted(format!("{prefix}…{tail}"))
    }

    /// Evidence that is not a secret (a variable name, a config line).
    pub fn public(text: &str) -> Redacted {
        Redacted(text.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Something wrong, found by a check, at a place in the audited tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub check: CheckId,
    /// The rule id, e.g. `openai-project-key` or `env-not-ignored`.
    pub rule: String,
    pub severity: Severity,
    /// `/`-separated, relative to the audited root.
    pub path: String,
    /// `None`: the finding is about the whole file.
    pub span: Option<Span>,
    /// What is wrong, not how to fix it.
    pub message: String,
    pub evidence: Option<Redacted>,
    pub fix: Option<String>,
}

impl Finding {
    /// Sort key: path, then position, then rule, so reports are deterministic.
    pub fn sort_key(&self) -> (&str, u32, u32, CheckId, &str) {
        let (line, col) = self.span.map(|s| (s.line, s.column)).unwrap_or((0, 0));
        (&self.path, line, col, self.check, &self.rule)
    }
}

/// Something the audit could not do or wants the user to know: a file it
/// skipped and why, a git repository it could not read. Never a finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Note {
    /// `/`-separated, relative to the audited root; empty for the project.
    pub path: String,
    pub kind: NoteKind,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    Binary,
    TooLarge,
    Unreadable,
    NotUtf8,
    NotParsed,
    NotRegular,
    Symlink,
    WalkError,
    Git,
}

impl NoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Binary => "binary",
            NoteKind::TooLarge => "too large",
            NoteKind::Unreadable => "unreadable",
            NoteKind::NotUtf8 => "not UTF-8",
            NoteKind::NotParsed => "not parsed",
            NoteKind::NotRegular => "not a regular file",
            NoteKind::Symlink => "symlink",
            NoteKind::WalkError => "walk error",
            NoteKind::Git => "git",
        }
    }
}

/// One fingerprint per finding, in order: a SHA-256 of check, rule, path and
/// redacted evidence, then `:n` for the n-th finding with that hash (the same
/// key twice in one file). The line is left out on purpose, so a fingerprint
/// survives code moving up or down; the evidence is already redacted, so it
/// never hashes a secret that could be brute-forced back from a short list.
pub fn fingerprints(findings: &[Finding]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let base = fingerprint_hash(f);
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            format!("{base}:{n}")
        })
        .collect()
}

fn fingerprint_hash(f: &Finding) -> String {
    let evidence = f.evidence.as_ref().map_or("", |e| e.as_str());
    let mut hasher = Sha256::new();
    for part in [f.check.as_str(), &f.rule, &f.path, evidence] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]); // a separator no part contains
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_prefix_and_last_four() {
        let r = Redacted::from_secret("sk-proj-abcdefghijklmnopqrstuvwxyzQ2xA");
        assert_eq!(r.as_str(), "sk-proj-…Q2xA");
        let r = Redacted::from_secret("AIzaSyA1234567890abcdefghijklmnopqrstu");
        assert_eq!(r.as_str(), "AIza…rstu");
        let r = Redacted::from_secret("0123456789abcdef0123456789abcdef");
        assert_eq!(r.as_str(), "0123…cdef");
    }

    #[test]
    fn redaction_never_shows_most_of_the_secret() {
        for secret in [
            "gsk_abcdefghijklmnopqrstuvwxyz0123456789",
            "short-secret",
            "abc",
        ] {
            let r = Redacted::from_secret(secret);
            let shown = r.as_str().chars().filter(|c| *c != '…').count();
            assert!(
                shown * 2 < secret.chars().count().max(4),
                "{r} shows too much of {secret}"
            );
        }
    }
}
