//! The `loops` check end to end (issue 21): the "done when" audit, the
//! inventory's loop column, and `explain` for every loops rule.

mod common;

use common::*;

/// A FastAPI agent with `max_iterations=None` plus a Next.js page whose
/// `useEffect` posts to `/api/chat` on every render: the full audit reports
/// both, and names the endpoint and its handler.
#[test]
fn full_audit_reports_the_agent_and_the_effect_with_the_endpoint_named() {
    let dir = materialize("loops-agent-app");
    let (_, json, _) = audit_json(dir.path(), &[]);
    let loops: Vec<&serde_json::Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "loops")
        .collect();
    let rules: Vec<&str> = loops.iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(
        rules,
        vec!["agent-unbounded", "client-effect-loop"],
        "{loops:#?}"
    );
    let agent = loops[0]["message"].as_str().unwrap();
    assert!(agent.contains("max_iterations=None"), "{agent}");
    assert!(loops[0]["fix"]
        .as_str()
        .unwrap()
        .contains("max_iterations=10"));
    let effect = loops[1]["message"].as_str().unwrap();
    assert!(
        effect.contains("POST /api/chat") && effect.contains("`chat` at backend/main.py:29"),
        "{effect}"
    );
    assert!(effect.contains("no dependency array"), "{effect}");
    assert!(loops[1]["fix"]
        .as_str()
        .unwrap()
        .contains("dependency array"));
    assert_eq!(status_of(&json, "loops"), "warn");
    // Nothing else about this app is a loops problem, and the backend's
    // protections still pass.
    for check in ["rate-limit", "auth", "rate-limit-store"] {
        assert_eq!(status_of(&json, check), "pass", "{check}");
    }
}

/// The inventory shows, per AI call site, the loop it sits in and what
/// bounds it (text and JSON).
#[test]
fn inventory_shows_loops_and_their_bounds_per_ai_call() {
    let dir = materialize("loops-python");
    let run = aiguard(&["inventory", ".", "--format", "json"], dir.path());
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let loops = json["ai_call_loops"].as_array().unwrap();
    let find = |at: &str| {
        loops
            .iter()
            .find(|l| l["at"] == at)
            .unwrap_or_else(|| panic!("no loop at {at}: {loops:#?}"))
    };
    let unbounded = find("app/agent.py:8");
    assert_eq!(unbounded["kind"], "while-true");
    assert!(unbounded["bound"].is_null());
    assert!(unbounded["call"]
        .as_str()
        .unwrap()
        .contains("app/agent.py:9"));
    let ranged = find("app/agent.py:31");
    assert_eq!(ranged["kind"], "for-each");
    assert_eq!(ranged["bound"], "iterates over `range(MAX_STEPS)`");
    assert_eq!(ranged["via"], "complete");
    assert_eq!(find("app/agent.py:39")["bound"], "`steps < 10`");
    assert_eq!(find("app/agent.py:54")["kind"], "recursion");
    // `while not done` whose body sets `done`: unbounded; `while running`
    // (set outside): the inventory says what it runs on, the check is quiet.
    assert!(find("app/agent.py:71")["bound"].is_null());
    assert_eq!(
        find("app/agent.py:93")["bound"],
        "`running`, which the loop body does not change"
    );
    let text = aiguard(&["inventory", "."], dir.path()).stdout;
    assert!(
        text.contains("in while-true at app/agent.py:8: UNBOUNDED"),
        "{text}"
    );
    assert!(
        text.contains("in for-each at app/agent.py:31 via complete: bounded: iterates over `range(MAX_STEPS)`"),
        "{text}"
    );
}

/// `aiguard explain` knows the check and each of its rules, with the
/// rule's own example; `aiguard rules` lists them under `loops`.
#[test]
fn explain_and_rules_cover_loops() {
    let dir = tempfile::tempdir().unwrap();
    let check = aiguard(&["explain", "loops"], dir.path());
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(check.stdout.starts_with("loops: No AI call can run away"));
    for (rule, example) in [
        ("ai-call-in-unbounded-loop", "step < MAX_STEPS"),
        ("agent-unbounded", "max_iterations=10"),
        ("retry-unbounded", "stop_after_attempt(3)"),
        ("client-effect-loop", "}, []);"),
    ] {
        assert!(check.stdout.contains(rule), "explain loops lists {rule}");
        let run = aiguard(&["explain", rule], dir.path());
        assert_eq!(run.code, 0, "{rule}: {}", run.stderr);
        assert!(run.stdout.contains("rule of `loops`"), "{}", run.stdout);
        assert!(run.stdout.contains(example), "{rule}: {}", run.stdout);
    }
    let rules = aiguard(&["rules"], dir.path()).stdout;
    assert!(
        rules
            .lines()
            .any(|l| l.starts_with("loops ") && l.contains("warning") && l.contains("yes")),
        "{rules}"
    );
    assert!(
        rules
            .lines()
            .any(|l| l.starts_with("client-effect-loop ") && l.contains("loops")),
        "{rules}"
    );
}

/// Loops findings keep their fingerprints when code moves (evidence names
/// the enclosing function, not a line), and stay distinct from each other.
#[test]
fn loops_fingerprints_survive_code_moving() {
    let dir = materialize("loops-next");
    let fingerprints = |dir: &std::path::Path| {
        let run = aiguard(
            &["audit", ".", "--format", "sarif", "--select", "loops"],
            dir,
        );
        let sarif: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let mut prints: Vec<String> = sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["aiguardFingerprint/v1"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        prints.sort();
        prints
    };
    let before = fingerprints(dir.path());
    assert_eq!(before.len(), 16);
    let mut unique = before.clone();
    unique.dedup();
    assert_eq!(
        unique.len(),
        before.len(),
        "two loops findings share a fingerprint"
    );
    for file in [
        "lib/agent.ts",
        "app/chat/page.tsx",
        "components/Dashboard.tsx",
    ] {
        let path = dir.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("// moved down\n\n{text}")).unwrap();
    }
    assert_eq!(fingerprints(dir.path()), before);
}
