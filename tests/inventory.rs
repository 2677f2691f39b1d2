//! `aiguard inventory`: endpoints, the AI calls they reach (and how), and
//! the rate limits that cover them, across frameworks and files.

mod common;

use common::*;

/// (method, path, reaches AI, rate-limit count) for every endpoint.
fn endpoints(fixture: &str) -> (serde_json::Value, Vec<(String, String, bool, usize)>) {
    let json = fixture_inventory(fixture);
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
    let chain = summarize["ai"]["chain"].as_array().unwrap();
    assert_eq!(chain.len(), 3, "{chain:?}");
    assert_eq!(chain[1]["kind"], "function", "{chain:?}");
    assert_eq!(chain[1]["detail"], "summarize", "{chain:?}");
    assert_eq!(chain[1]["path"], "app/services/llm.py", "{chain:?}");
    assert!(
        chain[1]["line"].as_u64().is_some_and(|l| l > 0),
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
            .map(|f| f["detail"].as_str().unwrap().to_string())
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
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls.iter().all(|c| !c.starts_with("tests/")), "{calls:?}");
    let unlinked = json["unlinked_ai_calls"].as_array().unwrap();
    assert_eq!(unlinked.len(), 1, "{unlinked:?}");
    assert_eq!(unlinked[0]["path"], "scripts/backfill.py");
    assert_eq!(unlinked[0]["line"], 8);
}

#[test]
fn sdk_helpers_reexports_and_scoped_clients() {
    let (json, list) = endpoints("engine-sdk-helpers");
    // `from app.llm import litellm` (the package re-exports the SDK).
    assert!(has(&list, "POST", "/chat", true, 1), "{list:?}");
    // Format converters and token counting: no paid call.
    assert!(has(&list, "POST", "/convert", false, 0), "{list:?}");
    // `client` of httpx in two functions, OpenAI's in a third.
    assert!(has(&list, "POST", "/notify", false, 0), "{list:?}");
    // `from google import genai`.
    assert!(has(&list, "POST", "/gemini", true, 0), "{list:?}");
    let endpoint = |path: &str| endpoint_at(&json, path);
    assert_eq!(endpoint("/chat")["ai"]["call"], "litellm.completion");
    assert_eq!(endpoint("/gemini")["ai"]["provider"], "Google Gemini");
    assert_eq!(
        endpoint("/chat")["auth"][0]["detail"],
        "Depends(require_permission)"
    );
    assert!(
        endpoint("/summary")["auth"].as_array().unwrap().is_empty(),
        "{}",
        endpoint("/summary")
    );
    let calls: Vec<(String, u64)> = json["ai_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap().to_string(),
                c["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("app/llm/calls.py".to_string(), 12),
            ("app/llm/calls.py".to_string(), 29),
            ("app/llm/gemini.py".to_string(), 7),
            ("app/main.py".to_string(), 47),
        ]
    );
}

#[test]
fn text_lists_providers_with_spaces_and_the_loops_around_their_calls() {
    let dir = materialize("loops-next");
    let run = aiguard(&["inventory", "."], dir.path());
    // "Vercel AI SDK" is the provider, `generateText` the call.
    assert!(
        run.stdout
            .contains("    Vercel AI SDK `generateText` at lib/model.ts:7\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("        in while-true at lib/agent.ts:17 via ask: UNBOUNDED\n"),
        "{}",
        run.stdout
    );
    // The terminal chat waits for the person each round.
    assert!(
        run.stdout.contains(
            "        in while-true at lib/cli.ts:9 via ask: bounded: waits for outside input each time round (`question`)\n"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn the_handlers_own_call_and_a_limiter_counted_in_the_database() {
    let json = fixture_inventory("engine-next-chat");
    let chat = endpoint_at(&json, "/api/chat");
    // The closure's `streamText`, not the title's `generateText`.
    assert_eq!(chat["ai"]["call"], "streamText", "{chat}");
    assert_eq!(chat["ai"]["path"], "app/api/chat/route.ts", "{chat}");
    let limits = evidence(chat, "rate_limits");
    assert_eq!(limits.len(), 1, "{limits:?}");
    assert!(
        limits[0].1.starts_with("project limiter POST()"),
        "{limits:?}"
    );
    // `messages.filter(…)` on `messages: UIMessage[]` is no AI call.
    let calls: Vec<&str> = json["ai_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        calls,
        [
            "app/api/chat/route.ts",
            "app/api/draft/route.ts",
            "lib/ai/title.ts"
        ]
    );
}

#[test]
fn calls_through_an_interface_reach_the_overriding_provider() {
    let (json, list) = endpoints("engine-interfaces");
    assert!(has(&list, "POST", "/chat", true, 0), "{list:?}");
    // The project's own `BaseLLM` is not LangChain's.
    assert!(has(&list, "POST", "/echo", false, 0), "{list:?}");
    let chat = endpoint_at(&json, "/chat");
    let chain: Vec<&str> = chat["ai"]["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["detail"].as_str().unwrap())
        .collect();
    assert_eq!(
        chain,
        [
            "chat",
            "run_step",
            "OpenAIChat.stream",
            "OpenAIChat._complete"
        ]
    );
    assert_eq!(chat["auth"][0]["detail"], "Depends(get_current_user)");
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

/// `aiguard inventory` takes only its own formats and flags (exit 2
/// otherwise), says what it prints, and gives evidence as objects.
#[test]
fn inventory_flags_formats_and_objects() {
    let dir = materialize("ratelimit-express");
    for bad in [
        &["inventory", ".", "--format", "sarif"][..],
        &["inventory", ".", "--fail-on", "warning"],
        &["inventory", ".", "--staged"],
        &["inventory", ".", "--baseline", "x.json"],
    ] {
        let run = aiguard(bad, dir.path());
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
    }
    let help = aiguard(&["inventory", "--help"], dir.path());
    assert_eq!(help.code, 0);
    assert!(
        help.stdout.contains("- text:")
            && help.stdout.contains("- json:")
            && !help.stdout.contains("sarif"),
        "{}",
        help.stdout
    );
    assert!(help.stdout.contains("usage tracking"), "{}", help.stdout);
    let run = aiguard(&["inventory", ".", "--format", "json"], dir.path());
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let call = &json["ai_calls"][0];
    assert_eq!(call["kind"], "ai-call");
    assert_eq!(call["path"], "src/server.js");
    assert!(call["line"].is_u64() && call["detail"].as_str().unwrap().starts_with("OpenAI "));
    let chat = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/api/chat")
        .unwrap();
    let limit = &chat["rate_limits"][0];
    assert_eq!(limit["kind"], "rate-limit");
    assert_eq!(limit["path"], "src/server.js");
    assert_eq!(limit["line"], 13);
    assert!(chat["ai"]["path"].is_string() && chat["ai"]["line"].is_u64());
    for e in json["endpoints"].as_array().unwrap() {
        for field in ["rate_limits", "auth", "quota"] {
            assert!(
                e[field].as_array().unwrap().iter().all(|x| x.is_object()),
                "{field}: {e}"
            );
        }
    }
}

#[test]
fn routes_registered_in_functions_that_receive_the_router() {
    let (json, list) = endpoints("engine-router-functions");
    // Full paths through the router's mount in the server file; the
    // router's limiter (`apiRouter.use(limiter)`) covers both of its routes.
    assert!(has(&list, "POST", "/api/chat", true, 1), "{list:?}");
    assert!(
        has(&list, "POST", "/api/v1/chat/completions", true, 1),
        "{list:?}"
    );
    assert!(has(&list, "POST", "/ask", true, 0), "{list:?}");
    assert!(has(&list, "POST", "/summarize", true, 0), "{list:?}");
    let chat = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/api/chat")
        .unwrap();
    let auth: Vec<&str> = chat["auth"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["detail"].as_str().unwrap())
        .collect();
    assert!(
        auth.iter().any(|h| h.contains("validatedRequest")),
        "an array of middleware is its elements: {auth:?}"
    );
    // Only the SDK call is an AI call site: not the route declared at a
    // provider-like path, not a request to the project's own server, not
    // a model listing.
    let sites: Vec<String> = json["ai_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}:{}", c["path"].as_str().unwrap(), c["line"]))
        .collect();
    assert_eq!(sites, vec!["api/routes.py:10", "server/ai.js:6"], "{json}");
}

#[test]
fn an_endpoint_is_linked_to_its_main_generation_call() {
    let (json, _) = endpoints("engine-main-call");
    let ai = |path: &str| {
        let e = json["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == path)
            .unwrap_or_else(|| panic!("{path}: {json}"));
        (
            e["ai"]["call"].as_str().unwrap().to_string(),
            e["ai"]["line"].as_u64().unwrap(),
        )
    };
    // The embedding comes first and is closer; the generation is the call.
    assert_eq!(ai("/answer"), ("chain.invoke".to_string(), 27));
    // With nothing but an embedding, that is the call.
    assert_eq!(ai("/search"), ("embeddings.embed_query".to_string(), 34));
}

#[test]
fn project_limiters_in_a_store_are_rate_limit_evidence() {
    let (json, list) = endpoints("engine-project-limiter");
    let detail = |path: &str| -> Vec<String> {
        json["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == path)
            .unwrap()["rate_limits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["detail"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        detail("/chat"),
        vec!["project limiter Depends(rate_limit) 429 at api/limits.py:15"]
    );
    assert_eq!(
        detail("/summarize"),
        vec!["project limiter check_quota() 429 at api/limits.py:24"]
    );
    assert_eq!(
        detail("/api/chat"),
        vec!["project limiter limitPerUser (route middleware) 429 at web/server.js:23"]
    );
    // Passing the provider's 429 on counts nothing.
    assert!(has(&list, "POST", "/translate", true, 0), "{list:?}");
}

#[test]
fn fastify_plugins_get_their_register_prefix() {
    let (_, list) = endpoints("engine-fastify-plugins");
    // `config.rateLimit` limits /api/chat; `global: false` limits nothing else.
    assert!(has(&list, "POST", "/api/chat", true, 1), "{list:?}");
    assert!(has(&list, "POST", "/api/drafts", true, 0), "{list:?}");
    assert_eq!(list.len(), 2, "{list:?}");
}

#[test]
fn django_urls_views_throttles_and_permissions() {
    // include("chat.urls") under api/, a router under include(router.urls)
    // at v1/, class views one endpoint per method, @api_view methods.
    let (json, list) = endpoints("django-protected");
    assert!(has(&list, "POST", "/api/chat", true, 2), "{list:?}");
    assert!(has(&list, "POST", "/api/complete", true, 2), "{list:?}");
    assert!(has(&list, "ALL", "/api/legacy/ask", true, 2), "{list:?}");
    assert!(has(&list, "GET", "/api/status", false, 2), "{list:?}");
    assert!(has(&list, "ALL", "/api/health", false, 0), "{list:?}");
    assert!(has(&list, "POST", "/api/v1/summaries", true, 2), "{list:?}");
    assert!(
        has(&list, "POST", "/api/v1/summaries/bullet-points", true, 2),
        "{list:?}"
    );
    assert_eq!(list.len(), 7, "{list:?}");
    let endpoint = |path: &str| {
        json["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["path"] == path)
            .unwrap()
            .clone()
    };
    let chat = endpoint("/api/chat");
    assert_eq!(chat["handler"], "ChatView.post");
    // ScopedRateThrottle reads the view's throttle_scope; the project
    // throttle its own scope; both rates come from the settings.
    assert_eq!(
        details(&chat, "rate_limits"),
        vec![
            "throttle_classes ScopedRateThrottle \"5/minute\"",
            "throttle_classes ChatDayThrottle \"200/day\""
        ]
    );
    assert_eq!(
        details(&chat, "auth"),
        vec!["permission_classes = [IsAuthenticated]"]
    );
    let complete = endpoint("/api/complete");
    assert_eq!(complete["rate_limits"][0]["path"], "mysite/settings.py");
    assert_eq!(
        details(&complete, "auth"),
        vec!["DEFAULT_PERMISSION_CLASSES = [IsAuthenticated] (mysite/settings.py:27)"]
    );
    // AllowAny overrides the default permission: no auth evidence.
    assert!(details(&endpoint("/api/status"), "auth").is_empty());
    let legacy = endpoint("/api/legacy/ask");
    assert_eq!(details(&legacy, "auth"), vec!["@login_required"]);
    assert_eq!(
        details(&legacy, "rate_limits"),
        vec!["@ratelimit \"5/m\"", "@ratelimit \"100/d\""]
    );

    // Unprotected: the router added with `urlpatterns += router.urls`, an
    // empty permission_classes, a non-blocking @ratelimit.
    let (json, list) = endpoints("django-unprotected");
    assert!(has(&list, "POST", "/api/summaries", true, 0), "{list:?}");
    assert!(has(&list, "ALL", "/api/legacy/ask", true, 0), "{list:?}");
    assert!(has(&list, "POST", "/api/translate", true, 1), "{list:?}");
    for e in json["endpoints"].as_array().unwrap() {
        assert!(e["auth"].as_array().unwrap().is_empty(), "{e}");
    }
}

#[test]
fn two_threads_build_the_same_inventory_as_one() {
    // The inventory is built on two threads when there are cores for it
    // (`Inventory::build_on`): the answer must not depend on it.
    for fixture in [
        "engine-router-functions",
        "engine-project-limiter",
        "engine-provider-factory",
        "django-protected",
        "auth-fastapi",
        "ratelimit-express",
        // Loops and usage tracking are worked out on either thread.
        "loops-python",
        "loops-agent-app",
        "quota-tracked",
    ] {
        let dir = materialize(fixture);
        let one = aiguard(
            &["inventory", ".", "--format", "json", "--threads", "1"],
            dir.path(),
        );
        let two = aiguard(
            &["inventory", ".", "--format", "json", "--threads", "2"],
            dir.path(),
        );
        assert_eq!(one.code, 0, "{fixture}: {}", one.stderr);
        assert!(one.stdout.contains("\"endpoints\""), "{fixture}");
        assert_eq!(one.stdout, two.stdout, "{fixture}");
        // What moved to either thread is there, not merely equal.
        let filled = [
            ("loops-python", "ai_call_loops"),
            ("quota-tracked", "usage_tracking"),
        ];
        if let Some((_, key)) = filled.iter().find(|(f, _)| *f == fixture) {
            let json: serde_json::Value = serde_json::from_str(&one.stdout).unwrap();
            assert!(
                json[*key].as_array().is_some_and(|l| !l.is_empty()),
                "{fixture}: {key} is empty: {json}"
            );
        }
    }
}

/// A browser chain (`"use client"` page → component → helper → the module
/// that imports the SDK): the links between are parsed only up to their
/// last import, and the SDK still reaches the client check through them.
#[test]
fn browser_links_are_parsed_to_their_imports_and_still_carry_the_sdk() {
    let dir = write_project(&[
        (
            "app/chat/page.tsx",
            "\"use client\";\nimport { Panel } from \"../../components/Panel\";\n\nexport default function Page() {\n  return <Panel title=\"chat\" />;\n}\n",
        ),
        (
            "components/Panel.tsx",
            "import { format } from \"../lib/format\";\n\nexport function Panel({ title }: { title: string }) {\n  return <section><h2>{format(title)}</h2></section>;\n}\n",
        ),
        (
            "lib/format.ts",
            "import { ask } from \"./ai\";\n\nexport const format = (s: string) => `${s} ${typeof ask}`;\n",
        ),
        (
            "lib/ai.ts",
            "import OpenAI from \"openai\";\n\nconst client = new OpenAI();\nexport const ask = (q: string) =>\n  client.chat.completions.create({ model: \"gpt-4o-mini\", messages: [{ role: \"user\", content: q }] });\n",
        ),
    ]);
    let (_, json, stderr) = audit_json(dir.path(), &["--stats", "--fail-on", "never"]);
    let sdk: Vec<String> = finding_keys(&json)
        .into_iter()
        .filter(|k| k.contains("ai-sdk-in-client"))
        .collect();
    assert_eq!(sdk.len(), 1, "{sdk:?}\n{json}");
    assert!(sdk[0].contains("lib/ai.ts"), "{sdk:?}");
    // The page, the component and the helper only link (the page plays no
    // other part: no effect, no request): their import blocks are what
    // was parsed of them.
    assert!(
        stderr.contains("3 of them up to their last import"),
        "{stderr}"
    );
}
