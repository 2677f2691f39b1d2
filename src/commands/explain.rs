//! `aiguard rules` (the checks and rules as two tables) and
//! `aiguard explain ID` (why, bad and good code, and the fix).

use std::io::Write;

use super::{indent, wrap};
use crate::catalog::keys::{SeveritySpec, WithoutContext};
use crate::catalog::{Catalog, CheckSpec, RuleInfo};
use crate::checks::{self, CheckId};
use crate::cli::ExplainArgs;
use crate::ExitStatus;

const WIDTH: usize = 88;

/// `aiguard rules`: every check, then every rule.
pub fn rules(stdout: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let catalog = Catalog::load(&[])?;
    let implemented: Vec<CheckId> = checks::implemented().iter().map(|c| c.id()).collect();
    let mut checks_table = vec![row(["CHECK", "SEVERITY", "IN THIS BUILD", "FILES"])];
    for &id in &CheckId::ALL {
        let spec = catalog.check(id);
        let status = match id {
            CheckId::SpendLimits => "attested",
            _ if implemented.contains(&id) => "yes",
            _ => "not yet",
        };
        checks_table.push(row([id.as_str(), &spec.severity, status, &spec.files]));
    }
    let mut rules_table = vec![row(["RULE", "CHECK", "SEVERITY", "DESCRIPTION"])];
    for info in catalog.all_rules() {
        let description = match rule_files(&catalog, &info) {
            Some(files) => format!("{} [{files}]", info.title),
            None => info.title.clone(),
        };
        rules_table.push(row([
            &info.id,
            info.check.as_str(),
            &rule_severity(&catalog, &info),
            &description,
        ]));
    }
    for meta in &catalog.meta_rules {
        rules_table.push(row([&meta.id, "(the one named)", "warning", &meta.title]));
    }
    write!(stdout, "{}", table(&checks_table))?;
    writeln!(stdout)?;
    write!(stdout, "{}", table(&rules_table))?;
    writeln!(
        stdout,
        "\n`aiguard explain ID` tells why a check or rule matters and how to fix it."
    )?;
    Ok(ExitStatus::Clean)
}

fn row<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// Columns padded to their widest cell; the last column is not padded.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            if i + 1 == columns {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn rule_severity(catalog: &Catalog, info: &RuleInfo) -> String {
    if let Some(key) = catalog.keys.rules().iter().find(|r| r.spec.id == info.id) {
        let base = match key.spec.severity {
            Some(SeveritySpec::Warning) => "warning",
            _ => "error",
        };
        return match key.spec.without_context {
            Some(WithoutContext::Warning) if base == "error" => "error/warning".into(),
            _ => base.into(),
        };
    }
    match catalog.check(info.check).severity.as_str() {
        "manual" => "warning".into(),
        other => other.into(),
    }
}

/// A rule's own `files`, when narrower than its check's.
fn rule_files<'c>(catalog: &'c Catalog, info: &RuleInfo) -> Option<&'c str> {
    catalog
        .other_rules
        .iter()
        .find(|r| r.id == info.id)
        .and_then(|r| r.files.as_deref())
}

/// `aiguard explain RULE_OR_CHECK`.
pub fn explain(args: &ExplainArgs, stdout: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let catalog = Catalog::load(&[])?;
    let id = args.id.trim();
    let text = if let Some(check) = CheckId::parse(id) {
        explain_check(&catalog, check)
    } else if let Some(info) = catalog.find_rule(id) {
        explain_rule(&catalog, &info)
    } else if let Some(meta) = catalog.meta_rules.iter().find(|m| m.id == id) {
        let mut out = format!("{}: {}\n", meta.id, meta.title);
        out.push_str("suppression rule · warning · reported under the check the comment names\n");
        out.push_str(&sections(&meta.why, &meta.bad, &meta.good, &meta.fix, None));
        out
    } else {
        let close = catalog.close_matches(id);
        let hint = if close.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = close.iter().map(|c| format!("`{c}`")).collect();
            format!("; did you mean {}?", quoted.join(", "))
        };
        anyhow::bail!("unknown check or rule `{id}`{hint} (`aiguard rules` lists them)");
    };
    stdout.write_all(text.as_bytes())?;
    Ok(ExitStatus::Clean)
}

fn explain_check(catalog: &Catalog, check: CheckId) -> String {
    let spec = catalog.check(check);
    let mut out = format!("{}: {}\n", spec.id, spec.title);
    out.push_str(&format!(
        "check · {} · reads {}\n",
        spec.severity, spec.files
    ));
    let rules: Vec<String> = catalog
        .all_rules()
        .into_iter()
        .filter(|r| r.check == check)
        .map(|r| r.id)
        .collect();
    let rules = (!rules.is_empty()).then(|| rules.join(", "));
    out.push_str(&standards(catalog, spec));
    out.push_str(&sections_of(spec, rules.as_deref()));
    out.push_str(&format!(
        "\nTo accept one finding, say why on its line or the line above:\n  # aiguard: ignore[{}] <reason>\n",
        spec.id
    ));
    out
}

fn explain_rule(catalog: &Catalog, info: &RuleInfo) -> String {
    let check = catalog.check(info.check);
    let mut out = format!("{}: {}\n", info.id, info.title);
    out.push_str(&format!(
        "rule of `{}` ({}) · {}\n",
        check.id,
        check.title,
        rule_severity(catalog, info)
    ));
    if let Some(key) = catalog.keys.rules().iter().find(|r| r.spec.id == info.id) {
        out.push_str(&format!("provider: {}\n", key.spec.provider));
        if let Some(var) = &key.spec.env_var {
            out.push_str(&format!("environment variable: {var}\n"));
        }
    }
    if let Some(url) = &info.revoke_url {
        out.push_str(&format!("revoke and replace a leaked key at: {url}\n"));
    }
    out.push_str(&standards(catalog, check));
    let own = catalog.other_rules.iter().find(|r| r.id == info.id);
    match own.and_then(|r| Some((r.bad.as_deref()?, r.good.as_deref()?))) {
        Some((bad, good)) => out.push_str(&sections(&check.why, bad, good, &check.fix, None)),
        None => out.push_str(&sections_of(check, None)),
    }
    out.push_str(&format!(
        "\nTo accept one finding, say why on its line or the line above:\n  # aiguard: ignore[{}] <reason>\n",
        info.id
    ));
    out
}

/// `OWASP LLM10:2025 Unbounded Consumption` and `CWE-798 Use of …` lines.
fn standards(catalog: &Catalog, spec: &CheckSpec) -> String {
    let mut out = String::new();
    for id in &spec.owasp {
        let name = catalog.standards.owasp.get(id).map_or("", String::as_str);
        out.push_str(&format!(
            "OWASP Top 10 for LLM Applications: {id}:2025 {name}\n"
        ));
    }
    for id in &spec.cwe {
        let name = catalog.standards.cwe.get(id).map_or("", String::as_str);
        out.push_str(&format!("{id}: {name}\n"));
    }
    out
}

fn sections_of(spec: &CheckSpec, rules: Option<&str>) -> String {
    sections(&spec.why, &spec.bad, &spec.good, &spec.fix, rules)
}

fn sections(why: &str, bad: &str, good: &str, fix: &str, rules: Option<&str>) -> String {
    let mut out = format!("\nWhy it matters\n{}", wrap(why, WIDTH, "  "));
    out.push_str(&format!("\nBad\n{}", indent(bad, "  ")));
    out.push_str(&format!("\nGood\n{}", indent(good, "  ")));
    out.push_str(&format!("\nFix\n{}", wrap(fix, WIDTH, "  ")));
    if let Some(rules) = rules {
        out.push_str(&format!("\nRules\n{}", wrap(rules, WIDTH, "  ")));
    }
    out
}
