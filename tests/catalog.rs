//! The rule catalogue as data: every key rule's examples behave as they say
//! (gitleaks' `Validate`, in Rust), and each rule is complete.

mod common;

use aiguard::source::Source;

#[test]
fn every_key_rule_flags_its_flag_examples_and_passes_its_pass_examples() {
    let catalog = common::catalog();
    let keys = &catalog.keys;
    let mut rng = fastrand::Rng::with_seed(20261123);
    let mut problems = Vec::new();
    for (index, rule) in keys.rules().iter().enumerate() {
        let spec = &rule.spec;
        if spec.examples.flag.len() < 2 || spec.examples.pass.len() < 2 {
            problems.push(format!(
                "{}: needs at least 2 flag and 2 pass examples",
                spec.id
            ));
        }
        for template in &spec.examples.flag {
            // Several draws: a rule must not depend on a lucky random key.
            for _ in 0..8 {
                let snippet = aiguard::fake::expand(template, &mut rng);
                let found = keys.scan(&Source::new(snippet.clone().into_bytes()));
                if !found.iter().any(|m| m.rule == index) {
                    let others: Vec<&str> = found
                        .iter()
                        .map(|m| keys.rule(m.rule).id.as_str())
                        .collect();
                    problems.push(format!(
                        "{}: did not flag {snippet:?} (found {others:?})",
                        spec.id
                    ));
                    break;
                }
            }
        }
        for template in &spec.examples.pass {
            let snippet = aiguard::fake::expand(template, &mut rng);
            let found = keys.scan(&Source::new(snippet.clone().into_bytes()));
            // A pass example is a non-key for this rule and every more general
            // rule after it (a public `pk-lf-` key must not fall to a generic
            // rule); a more specific rule before it may claim it.
            if let Some(m) = found.iter().find(|m| m.rule >= index) {
                let by = &keys.rule(m.rule).id;
                problems.push(format!(
                    "{}: pass example {snippet:?} flagged by {by}",
                    spec.id
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn every_key_rule_is_complete() {
    let catalog = common::catalog();
    for rule in catalog.keys.rules() {
        let s = &rule.spec;
        assert!(
            s.id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}",
            s.id
        );
        assert!(
            s.revoke_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
            "{}: revoke_url",
            s.id
        );
        assert!(
            s.keywords.iter().all(|k| *k == k.to_ascii_lowercase()),
            "{}: keywords are lower-case",
            s.id
        );
        assert!(
            aiguard::fake::key_template(&catalog.keys, &s.id).is_some(),
            "{}: no fake template",
            s.id
        );
    }
}

#[test]
fn the_catalogue_covers_the_providers_the_checklist_names() {
    let catalog = common::catalog();
    let ids: Vec<&str> = catalog
        .keys
        .rules()
        .iter()
        .map(|r| r.spec.id.as_str())
        .collect();
    for needed in [
        "openai-project-key",
        "openai-service-account-key",
        "openai-admin-key",
        "anthropic-api-key",
        "anthropic-admin-key",
        "google-gemini-api-key",
        "groq-api-key",
        "huggingface-token",
        "replicate-api-token",
        "xai-api-key",
        "openrouter-api-key",
        "perplexity-api-key",
        "generic-ai-key-assignment",
    ] {
        assert!(ids.contains(&needed), "missing rule {needed}");
    }
}

/// `line` rules run their regex on the lines where one of their keywords
/// is (`rules/keys.toml`, `line = true`): on every example of every rule,
/// alone, after other lines (LF and CRLF), indented, after text on its own
/// line, and all together, they find what the whole file's search finds.
#[test]
fn line_rules_find_on_their_lines_what_the_whole_file_finds() {
    let catalog = common::catalog();
    let keys = &catalog.keys;
    let line_rules: Vec<&str> = keys
        .rules()
        .iter()
        .filter(|r| r.spec.line)
        .map(|r| r.spec.id.as_str())
        .collect();
    assert!(
        line_rules.contains(&"generic-ai-key-assignment"),
        "{line_rules:?}"
    );
    let mut rng = fastrand::Rng::with_seed(20261207);
    let mut all = String::new();
    let mut flagged_by_line_rules = 0;
    for rule in keys.rules() {
        for template in rule
            .spec
            .examples
            .flag
            .iter()
            .chain(&rule.spec.examples.pass)
        {
            let snippet = aiguard::fake::expand(template, &mut rng);
            for text in [
                snippet.clone(),
                format!("x = 1\n{snippet}\ny = 2\n"),
                format!("x = 1\r\n{}\r\ny = 2", snippet.replace('\n', "\r\n")),
                format!("    {snippet}"),
                format!("a; {snippet}"),
            ] {
                let source = Source::new(text.clone().into_bytes());
                let found = keys.scan(&source);
                assert_eq!(found, keys.scan_whole_files(&source), "{text:?}");
                flagged_by_line_rules += found
                    .iter()
                    .filter(|m| keys.rules()[m.rule].spec.line)
                    .count();
                all.push_str(&text);
                all.push('\n');
            }
        }
    }
    let source = Source::new(all.into_bytes());
    assert_eq!(keys.scan(&source), keys.scan_whole_files(&source));
    // The line search did find keys, not only agree on none.
    assert!(flagged_by_line_rules > 10, "{flagged_by_line_rules}");
}
