//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF
//! viewers, as private serde structs mirroring the spec (like ruff).
//!
//! One run; the driver lists every rule of the catalogue (so a viewer can
//! show a rule's help even for a clean run); results carry URIs relative to
//! `%SRCROOT%` and `partialFingerprints` that leave the line out, so an alert
//! survives code moving. It deliberately doesn't write `originalUriBaseIds`
//! (the reporter knows the root only as the user typed it; GitHub resolves
//! `%SRCROOT%` to the checkout), code flows, snippets or fixes: no source is
//! read here.

use serde::Serialize;
use std::collections::HashMap;
use std::io::{self, Write};

use super::{describe, fingerprints, Report};
use crate::catalog::{Catalog, CheckSpec, MetaRuleSpec, RuleInfo};
use crate::findings::CheckId;
use crate::findings::{Finding, NoteKind, Severity};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// The key of our entry in `partialFingerprints`; bump the version if the
/// hashed fields ever change, so old alerts close instead of matching wrongly.
pub const FINGERPRINT_KEY: &str = "aiguardFingerprint/v1";
const SRCROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
struct Sarif<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: [Invocation; 1],
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    /// `security`, the check, its CWE (`external/cwe/cwe-798`, GitHub's and
    /// CodeQL's form) and OWASP LLM Top 10 entries (`owasp-llm10`).
    tags: Vec<String>,
    /// GitHub's 0–10 score: 9.0+ shows as "critical", 7.0+ "high", 4.0+
    /// "medium" (the check's `security_severity` in rules/checks.toml).
    #[serde(rename = "security-severity")]
    security_severity: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    partial_fingerprints: HashMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<ResultProperties<'a>>,
}

#[derive(Serialize)]
struct ResultProperties<'a> {
    /// The finding's own fix (the rule's help has the generic one).
    fix: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

pub fn write(report: &Report, catalog: &Catalog, out: &mut dyn Write) -> io::Result<()> {
    let mut rules = Rules::new(catalog);
    let fingerprints = fingerprints(&report.findings);
    let results = report
        .findings
        .iter()
        .zip(fingerprints)
        .map(|(f, fingerprint)| SarifResult {
            rule_id: &f.rule,
            rule_index: rules.index_of(f),
            level: level(f.severity),
            message: Text { text: describe(f) },
            locations: [location(&f.path, f)],
            partial_fingerprints: HashMap::from([(FINGERPRINT_KEY, fingerprint)]),
            properties: f.fix.as_deref().map(|fix| ResultProperties { fix }),
        })
        .collect();
    let notifications = report
        .notes
        .iter()
        .filter(|n| n.kind != NoteKind::Binary)
        .map(|n| Notification {
            level: "note",
            message: Text {
                text: n.message.clone(),
            },
            locations: if n.path.is_empty() {
                Vec::new()
            } else {
                vec![file_location(&n.path)]
            },
        })
        .collect();
    let doc = Sarif {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "aiguard",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: rules.list,
                },
            },
            invocations: [Invocation {
                execution_successful: true,
                tool_execution_notifications: notifications,
            }],
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The driver's rule list and each rule's index in it.
struct Rules<'c> {
    catalog: &'c Catalog,
    list: Vec<Rule>,
    index: HashMap<String, usize>,
}

impl<'c> Rules<'c> {
    fn new(catalog: &'c Catalog) -> Rules<'c> {
        let mut rules = Rules {
            catalog,
            list: Vec::new(),
            index: HashMap::new(),
        };
        for info in catalog.all_rules() {
            rules.add(&info);
        }
        rules
    }

    fn add(&mut self, info: &RuleInfo) -> usize {
        if let Some(&i) = self.index.get(&info.id) {
            return i; // a user's key file may repeat a built-in id: first wins
        }
        self.list.push(rule(self.catalog, info));
        self.index.insert(info.id.clone(), self.list.len() - 1);
        self.list.len() - 1
    }

    /// A finding's rule should be in the catalogue (a test enforces it); if
    /// not, it is described from its check so `ruleIndex` stays valid.
    fn index_of(&mut self, f: &Finding) -> usize {
        if let Some(&i) = self.index.get(&f.rule) {
            return i;
        }
        // Suppression rules belong to no check: listed when they occur,
        // tagged with the check of their first finding.
        if let Some(meta) = self.catalog.meta_rules.iter().find(|m| m.id == f.rule) {
            self.list.push(meta_rule(meta, f.check));
            self.index.insert(f.rule.clone(), self.list.len() - 1);
            return self.list.len() - 1;
        }
        match self.index.get(&f.rule) {
            Some(&i) => i,
            None => self.add(&RuleInfo {
                id: f.rule.clone(),
                check: f.check,
                title: self.catalog.check(f.check).title.clone(),
                revoke_url: None,
            }),
        }
    }
}

fn rule(catalog: &Catalog, info: &RuleInfo) -> Rule {
    let check = catalog.check(info.check);
    let (mut text, mut markdown) = (check.fix.clone(), check.fix.clone());
    if let Some(url) = &info.revoke_url {
        text.push_str(&format!("\n\nRevoke and replace the key at {url}"));
        markdown.push_str(&format!("\n\n[Revoke and replace the key]({url})"));
    }
    markdown.push_str(&format!(
        "\n\nChecklist: *{}* (`{}`)",
        check.title, check.id
    ));
    let level = match check.severity.as_str() {
        "error" => "error",
        "warning" => "warning",
        _ => "note",
    };
    Rule {
        id: info.id.clone(),
        name: pascal_case(&info.id),
        short_description: Text {
            text: info.title.clone(),
        },
        full_description: Text {
            text: check.why.clone(),
        },
        help: Help { text, markdown },
        default_configuration: Configuration { level },
        properties: RuleProperties {
            tags: tags(check, info.check),
            security_severity: check.security_severity.clone(),
        },
    }
}

/// `security`, the check's id, then its CWE and OWASP entries as tags.
fn tags(spec: &CheckSpec, check: CheckId) -> Vec<String> {
    let mut tags = vec!["security".to_string(), check.as_str().to_string()];
    tags.extend(
        spec.cwe
            .iter()
            .map(|c| format!("external/cwe/{}", c.to_lowercase())),
    );
    tags.extend(
        spec.owasp
            .iter()
            .map(|o| format!("owasp-{}", o.to_lowercase())),
    );
    tags
}

fn meta_rule(meta: &MetaRuleSpec, check: CheckId) -> Rule {
    Rule {
        id: meta.id.clone(),
        name: pascal_case(&meta.id),
        short_description: Text {
            text: meta.title.clone(),
        },
        full_description: Text {
            text: meta.why.trim().to_string(),
        },
        help: Help {
            text: meta.fix.trim().to_string(),
            markdown: meta.fix.trim().to_string(),
        },
        default_configuration: Configuration { level: "warning" },
        properties: RuleProperties {
            tags: vec!["suppression".into(), check.as_str().into()],
            security_severity: "5.0".into(),
        },
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn location(path: &str, f: &Finding) -> Location {
    let mut location = file_location(path);
    location.physical_location.region = f.span.map(|s| Region {
        start_line: s.line,
        start_column: s.column,
        end_line: s.end_line,
        end_column: s.end_column,
    });
    location
}

fn file_location(path: &str) -> Location {
    Location {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: uri_of(path),
                uri_base_id: SRCROOT,
            },
            region: None,
        },
    }
}

/// A relative URI reference: percent-encode what a URI cannot hold as is
/// (spaces, `%`, `#`, `?`, non-ASCII), keep `/` separators.
fn uri_of(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=@".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// `openai-project-key` → `OpenaiProjectKey`.
fn pascal_case(id: &str) -> String {
    id.split(['-', '_'])
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(pascal_case("openai-project-key"), "OpenaiProjectKey");
        assert_eq!(pascal_case("env-not-ignored"), "EnvNotIgnored");
        assert_eq!(uri_of("app/my file#1.py"), "app/my%20file%231.py");
        assert_eq!(uri_of("docs/café.md"), "docs/caf%C3%A9.md");
        assert_eq!(uri_of(".env.local"), ".env.local");
    }
}
