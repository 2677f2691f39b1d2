//! `aiguard inventory`: endpoints, the AI calls they reach (and how), and
//! the rate limits that cover them, across frameworks and files.

mod common;

use common::*;

/// (method, path, reaches AI, rate-limit count) for every endpoint.
fn endpoints(fixture: &str) -> (serde_json::Value, Vec<(String, String, bool, usize)>) {
    let dir = materialize(fixture);
    let run = aiguard(&["inventory", ".", "--format", "json"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("inventory JSON");
    let list = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().to_string(),
                e["path"].as_str().unwrap().to_string(),
                !e["ai"].is_null(),
                e["rate_limits"].as_array().unwrap().len(),
            )
        })
        .collect();
    (json, list)
}

fn has(
    list: &[(String, String, bool, usize)],
    method: &str,
    path: &str,
    ai: bool,
    limits: usize,
) -> bool {
    list.iter()
        .any(|e| e.0 == method && e.1 == path && e.2 == ai && e.3 == limits)
}

#[test]
fn fastapi_routers_prefixes_and_cross_file_chains() {
    let (json, list) = endpoints("ratelimit-fastapi");
    assert!(has(&list, "POST", "/chat", true, 1), "{list:?}");
    assert!(has(&list, "POST", "/summarize", true, 0), "{list:?}");
    assert!(has(&list, "GET", "/health", false, 0), "{list:?}");
    // include_router(prefix="/api") on an APIRouter(prefix="/images").
    assert!(
        has(&list, "POST", "/api/images/caption", true, 0),
        "{list:?}"
    );
    let summarize = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/summarize")
        .unwrap();
    let chain: Vec<&str> = summarize["ai"]["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(chain.len(), 3, "{chain:?}");
    assert!(
        chain[1].starts_with("summarize (app/services/llm.py:"),
        "{chain:?}"
    );
    assert_eq!(summarize["ai"]["provider"], "OpenAI");
    assert_eq!(json["frameworks"], serde_json::json!(["FastAPI"]));
}

#[test]
fn next_handlers_middleware_matchers_and_upstash() {
    let (_, list) = endpoints("ratelimit-next");
    assert!(has(&list, "POST", "/api/chat", true, 1), "{list:?}");
    assert!(
        has(&list, "POST", "/api/summarize", true, 1),
        "middleware matcher covers it: {list:?}"
    );
    assert!(has(&list, "POST", "/api/image", true, 0), "{list:?}");
}

#[test]
fn express_app_use_prefix_and_route_middleware() {
    let (_, list) = endpoints("ratelimit-express");
    assert!(has(&list, "POST", "/api/chat", true, 1), "{list:?}");
    assert!(has(&list, "POST", "/public/ask", true, 0), "{list:?}");
    assert!(has(&list, "POST", "/admin/ask", true, 1), "{list:?}");
}

#[test]
fn hono_flask_and_text_output() {
    let (_, list) = endpoints("cors-node");
    assert!(
        has(&list, "POST", "/api/ask", true, 0),
        "Hono route reaching generateText: {list:?}"
    );
    let dir = materialize("ratelimit-next");
    let run = aiguard(&["inventory", "."], dir.path());
    assert!(run.stdout.contains("POST /api/image"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("via POST (app/api/image/route.ts:3) → makeImage (lib/images.ts:5)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("rate limit: NONE"), "{}", run.stdout);
    let audit = aiguard(&["audit", "."], dir.path());
    assert!(
        audit
            .stdout
            .lines()
            .nth(1)
            .unwrap()
            .contains("3 AI endpoints of 3 · 3 AI call sites"),
        "{}",
        audit.stdout
    );
}

#[test]
fn service_classes_typed_receivers_and_unlinked_calls() {
    let (json, list) = endpoints("engine-resolution");
    assert!(has(&list, "POST", "/api/chat", true, 0), "{list:?}");
    assert!(has(&list, "POST", "/api/summary", true, 0), "{list:?}");
    assert!(has(&list, "GET", "/api/health", false, 0), "{list:?}");
    let chain = |path: &str| -> Vec<String> {
        json["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == path)
            .unwrap()["ai"]["chain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().split(' ').next().unwrap().to_string())
            .collect()
    };
    // `svc: LLMService = Depends(…)`, then `svc.ask()`.
    assert_eq!(chain("/api/chat"), ["chat", "LLMService.ask"]);
    // `LLMService().summarize()`, then `self.ask()`.
    assert_eq!(
        chain("/api/summary"),
        ["summary", "LLMService.summarize", "LLMService.ask"]
    );
    // One call site for `create(...).choices[0].message.content.strip()`,
    // none from tests, and the script's call listed as unlinked.
    let calls: Vec<&str> = json["ai_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls.iter().all(|c| !c.contains("tests/")), "{calls:?}");
    let unlinked = json["unlinked_ai_calls"].as_array().unwrap();
    assert_eq!(unlinked.len(), 1, "{unlinked:?}");
    assert!(unlinked[0]
        .as_str()
        .unwrap()
        .contains("scripts/backfill.py:8"));
}

#[test]
fn unlinked_ai_calls_make_the_endpoint_checks_warn_not_na() {
    let dir = materialize("engine-unlinked");
    let run = aiguard(&["audit", ".", "--format", "json"], dir.path());
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("audit JSON");
    for check in ["rate-limit", "auth", "quota"] {
        let item = json["checklist"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == check)
            .unwrap();
        assert_eq!(item["status"], "warn", "{item}");
        assert!(
            item["note"].as_str().unwrap().contains("1 AI call site"),
            "{item}"
        );
    }
}

#[test]
fn stats_say_what_the_engine_parsed() {
    let dir = materialize("engine-resolution");
    let run = aiguard(&["audit", ".", "--stats", "--fail-on", "never"], dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    // main, the route, the service and the script: the test file is
    // summarized for nothing and never parsed.
    assert!(
        run.stderr.contains("slice 4 files, 4 parsed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("walk+scan"), "{}", run.stderr);
}
