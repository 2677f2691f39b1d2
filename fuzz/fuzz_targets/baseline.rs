//! The baseline reader (`aiguard audit --baseline FILE`): fuzzed bytes as
//! a baseline file. A baseline is often committed to the audited
//! repository, so its bytes are the repository's. Errors are fine (exit 2
//! naming the file and line); panics and hangs are not. A baseline that
//! loads must hide findings, and what `baseline::write` makes of the rest
//! must load again and hide exactly those.
#![no_main]

use aiguard::baseline::{self, Baseline};
use aiguard::checks::CheckId;
use aiguard::findings::{Finding, Redacted, Severity, Span};
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fn finding(rule: &str, path: &str, line: u32, evidence: &str) -> Finding {
    Finding {
        check: CheckId::KeysInCode,
        rule: rule.to_string(),
        severity: Severity::Error,
        path: path.to_string(),
        span: Some(Span {
            line,
            column: 1,
            end_line: line,
            end_column: 9,
        }),
        message: "key written in code".to_string(),
        evidence: Some(Redacted::public(evidence)),
        fix: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let dir = common::scratch();
    common::reset(&dir);
    let path = dir.join("baseline.json");
    std::fs::write(&path, data).unwrap();
    let loaded = match Baseline::load(&path) {
        Ok(b) => b,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let mut findings = vec![
        finding("openai-project-key", "app.py", 3, "sk-proj-…Q2xA"),
        finding("openai-project-key", "app.py", 9, "sk-proj-…Q2xA"),
        finding("anthropic-api-key", "lib/ai.ts", 1, "sk-ant-…9kZz"),
    ];
    let hidden = loaded.hide(&mut findings);
    assert!(hidden <= 3 && hidden <= loaded.len());
    // Round trip: what is left, written and read back, hides itself.
    let mut bytes = Vec::new();
    baseline::write(&findings, &mut bytes).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let again = Baseline::load(&path).expect("a written baseline loads");
    let mut rest = findings.clone();
    assert_eq!(again.hide(&mut rest), findings.len());
    assert!(rest.is_empty());
});
