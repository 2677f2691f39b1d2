//! Serverless and edge functions (issue 17 item 5): Cloudflare Workers
//! (and itty-router / Hono on Workers), Supabase Edge Functions, Firebase
//! Cloud Functions, Vercel and Netlify Functions. The fixtures' findings
//! are exact in their `fixture.toml` (tests/fixtures.rs); here the
//! inventory's endpoints and evidence, and small projects for the cases
//! the fixtures do not hold.

mod common;

use common::*;

fn kinds(e: &serde_json::Value) -> Vec<String> {
    evidence(e, "auth")
        .into_iter()
        .map(|(kind, _)| kind)
        .collect()
}

#[test]
fn workers_fetch_handlers_itty_router_workers_ai_and_ai_gateway() {
    let dir = materialize("workers-unprotected");
    let json = inventory_json(dir.path());
    assert_eq!(
        json["frameworks"],
        serde_json::json!(["Cloudflare Workers", "itty-router"])
    );
    assert_eq!(
        endpoint_routes(&json),
        vec![
            route("POST", "/v1/summarize", true),
            route("GET", "/health", false),
            route("ANY", "/", true),
        ]
    );
    // `const worker = { async fetch() }; export default worker` in the
    // file wrangler.toml's `main` names; Workers AI through a helper.
    let worker = endpoint_at(&json, "/");
    assert_eq!(worker["framework"], "Cloudflare Workers");
    assert_eq!(worker["ai"]["path"], "src/answer.ts");
    assert!(details(worker, "rate_limits").is_empty());
    assert!(details(worker, "auth").is_empty());
    let gateway = endpoint_at(&json, "/v1/summarize");
    assert_eq!(gateway["ai"]["path"], "gateway/src/index.ts");
}

#[test]
fn workers_rate_limiting_binding_counts_for_any_framework() {
    let dir = materialize("workers-protected");
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        vec![route("POST", "/api/chat", true), route("ANY", "/", true)]
    );
    assert_eq!(
        details(endpoint_at(&json, "/"), "rate_limits"),
        vec!["env.CHAT_LIMITER.limit() (Workers rate limiting binding CHAT_LIMITER, wrangler.toml) 10/60 seconds"]
    );
    assert_eq!(
        details(endpoint_at(&json, "/"), "auth"),
        vec!["requireUser()"]
    );
    // Hono on Workers: the binding of api/wrangler.toml ([[unsafe.bindings]]),
    // and bearerAuth made per request inside a wrapper reading c.env.
    let hono = endpoint_at(&json, "/api/chat");
    assert_eq!(hono["framework"], "Hono");
    assert_eq!(
        details(hono, "rate_limits"),
        vec!["c.env.API_LIMITER.limit() (Workers rate limiting binding API_LIMITER, api/wrangler.toml) 20/60 seconds"]
    );
    assert_eq!(details(hono, "auth"), vec!["app.use(bearerAuth(…))"]);
}

#[test]
fn a_limit_call_without_a_declared_binding_is_no_limit() {
    let dir = write_project(&[
        (
            "wrangler.toml",
            "name = \"w\"\nmain = \"src/index.ts\"\n[[ratelimits]]\nname = \"OTHER\"\nnamespace_id = \"1\"\nsimple = { limit = 5, period = 60 }\n",
        ),
        (
            "src/index.ts",
            "export default {\n  async fetch(request, env) {\n    await env.CHAT_LIMITER.limit({ key: \"x\" });\n    return Response.json(await env.AI.run(\"@cf/meta/llama-3.1-8b-instruct\", { prompt: \"hi\" }));\n  },\n};\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    let worker = endpoint_at(&json, "/");
    assert!(!worker["ai"].is_null());
    assert!(details(worker, "rate_limits").is_empty());
}

#[test]
fn exported_fetch_handlers_without_wrangler_and_broken_configs() {
    // No wrangler file is needed for `export default { fetch }` (nor for
    // a `fetch:` arrow); a broken wrangler.toml is skipped quietly. An
    // exported function named `fetch` (a wrapper in a Next.js app) and a
    // browser service worker (`addEventListener("fetch")` outside the
    // wrangler entry) are no workers.
    let dir = write_project(&[
        ("wrangler.toml", "main = [\n"),
        (
            "worker.js",
            "export default {\n  fetch: async (request, env) => {\n    const out = await env.WORKERS_AI.run(\"@cf/mistral/mistral-7b-instruct-v0.1\", { prompt: \"x\" });\n    return Response.json(out);\n  },\n};\n",
        ),
        (
            "lib/fetch.ts",
            "import OpenAI from \"openai\";\nconst openai = new OpenAI();\nexport async function fetch(url: string, init: RequestInit) {\n  return openai.chat.completions.create({ model: \"gpt-4o-mini\", messages: [] });\n}\n",
        ),
        (
            "public/sw.js",
            "self.addEventListener(\"fetch\", (event) => event.respondWith(handle(event.request)));\nasync function handle(request) {\n  return fetch(\"https://api.openai.com/v1/chat/completions\", { method: \"POST\", body: await request.text() });\n}\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    let found: Vec<(&str, &str, &str)> = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap(),
                e["handler"].as_str().unwrap(),
                e["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, vec![("worker.js", "default.fetch", "/")]);
}

#[test]
fn service_worker_syntax_in_the_wrangler_entry() {
    // The `fetch` method calling the global `fetch` to a provider is no
    // recursion (loops passes).
    let dir = write_project(&[
        ("wrangler.json", "{ \"main\": \"src/sw.js\" }"),
        (
            "src/sw.js",
            "addEventListener(\"fetch\", (event) => event.respondWith(handle(event.request)));\nasync function handle(request) {\n  return fetch(\"https://api.openai.com/v1/chat/completions\", { method: \"POST\", body: await request.text() });\n}\n",
        ),
        (
            "src/module.js",
            "export default {\n  async fetch(request, env) {\n    return fetch(\"https://api.openai.com/v1/chat/completions\", { method: \"POST\", body: await request.text() });\n  },\n};\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        vec![route("ANY", "/", true), route("ANY", "/", true)]
    );
    let (_, audit, _) = audit_json(dir.path(), &["--select", "loops"]);
    assert_eq!(status_of(&audit, "loops"), "pass", "{audit}");
}

#[test]
fn supabase_functions_verify_jwt_is_not_user_auth() {
    let dir = materialize("supabase-functions-unprotected");
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        vec![
            route("ANY", "/functions/v1/ask", true),
            route("ANY", "/functions/v1/chat", true),
        ]
    );
    // `npm:` and `https://esm.sh/` imports are the SDKs.
    let ask = endpoint_at(&json, "/functions/v1/ask");
    assert_eq!(kinds(ask), vec!["not-user"]);
    assert_eq!(
        details(ask, "auth"),
        vec!["verify_jwt = false (supabase/config.toml:7): the Supabase gateway lets every request through"]
    );
    let chat = endpoint_at(&json, "/functions/v1/chat");
    assert_eq!(kinds(chat), vec!["not-user"]);
    assert!(details(chat, "auth")[0].starts_with("verify_jwt on (the default)"));

    let dir = materialize("supabase-functions-protected");
    let json = inventory_json(dir.path());
    let chat = endpoint_at(&json, "/functions/v1/chat");
    assert_eq!(kinds(chat), vec!["not-user", "enforced"]);
    assert_eq!(details(chat, "auth")[1], "supabase.auth.getUser()");
    assert_eq!(details(chat, "rate_limits").len(), 1);
}

#[test]
fn firebase_on_request_on_call_and_app_check() {
    let dir = materialize("firebase-functions-unprotected");
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        vec![
            route("ANY", "/chat", true),
            route("POST", "/summarize", true)
        ]
    );
    assert!(details(endpoint_at(&json, "/chat"), "auth").is_empty());
    let summarize = endpoint_at(&json, "/summarize");
    assert_eq!(kinds(summarize), vec!["not-user"]);
    assert!(details(summarize, "auth")[0].starts_with("enforceAppCheck: true"));

    let dir = materialize("firebase-functions-protected");
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        vec![route("POST", "/chat", true), route("ANY", "/ask", true)]
    );
    assert_eq!(
        details(endpoint_at(&json, "/chat"), "auth"),
        vec![
            "throw new HttpsError(\"unauthenticated\") when request.auth (context.auth) is missing"
        ]
    );
    assert_eq!(kinds(endpoint_at(&json, "/ask"))[0], "enforced");
}

#[test]
fn firebase_auth_check_after_the_ai_call_is_reported_as_such() {
    let dir = write_project(&[(
        "functions/index.js",
        "const { onCall, HttpsError } = require(\"firebase-functions/v2/https\");\nconst OpenAI = require(\"openai\");\nconst openai = new OpenAI();\nexports.chat = onCall(async (request) => {\n  const out = await openai.chat.completions.create({ model: \"gpt-4o-mini\", messages: [] });\n  if (!request.auth) {\n    throw new HttpsError(\"unauthenticated\", \"no\");\n  }\n  return out;\n});\n",
    )]);
    let json = inventory_json(dir.path());
    assert_eq!(kinds(endpoint_at(&json, "/chat")), vec!["after-ai-call"]);
}

#[test]
fn vercel_and_netlify_functions_by_file() {
    let dir = materialize("vercel-netlify-unprotected");
    let json = inventory_json(dir.path());
    assert_eq!(
        json["frameworks"],
        serde_json::json!(["Vercel Function", "Netlify Function"])
    );
    assert_eq!(
        endpoint_routes(&json),
        vec![
            route("POST", "/api/ask", true),
            route("ANY", "/api/chat", true),
            route("ANY", "/api/summarize", true),
        ]
    );
    let dir = materialize("vercel-netlify-protected");
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        vec![
            route("POST", "/api/chat", true),
            route("ANY", "/.netlify/functions/ask", true),
        ]
    );
}

#[test]
fn a_next_app_root_api_folder_is_not_a_vercel_function() {
    // Next.js serves pages/api; a root api/ folder in a Next.js app is
    // not deployed as functions: no double endpoints.
    let dir = write_project(&[
        (
            "pages/api/chat.ts",
            "import type { NextApiRequest, NextApiResponse } from \"next\";\nimport OpenAI from \"openai\";\nconst openai = new OpenAI();\nexport default async function handler(req: NextApiRequest, res: NextApiResponse) {\n  res.json(await openai.chat.completions.create({ model: \"gpt-4o-mini\", messages: [] }));\n}\n",
        ),
        (
            "api/chat.ts",
            "import OpenAI from \"openai\";\nconst openai = new OpenAI();\nexport default async function handler(req, res) {\n  res.json(await openai.chat.completions.create({ model: \"gpt-4o-mini\", messages: [] }));\n}\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    let frameworks: Vec<&str> = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["framework"].as_str().unwrap())
        .collect();
    assert_eq!(frameworks, vec!["Next.js API route"]);
}

#[test]
fn firebase_cors_option() {
    // `cors: true` answers every origin; a list of origins passes.
    let dir = write_project(&[(
        "functions/index.js",
        "const { onRequest } = require(\"firebase-functions/v2/https\");\nconst OpenAI = require(\"openai\");\nconst openai = new OpenAI();\nexports.open = onRequest({ cors: \"*\" }, async (req, res) => {\n  res.json(await openai.chat.completions.create({ model: \"gpt-4o-mini\", max_tokens: 5, messages: [] }));\n});\nexports.closed = onRequest({ cors: [\"https://app.example.com\"] }, async (req, res) => {\n  res.json(await openai.chat.completions.create({ model: \"gpt-4o-mini\", max_tokens: 5, messages: [] }));\n});\n",
    )]);
    let (_, audit, _) = audit_json(dir.path(), &["--select", "cors"]);
    assert_eq!(
        finding_keys(&audit),
        vec!["cors cors-wildcard-origin functions/index.js:4"]
    );
}

#[test]
fn commonjs_and_reexported_handlers() {
    // `module.exports = handler` (Vercel) and `export { handler }` (Netlify).
    let dir = write_project(&[
        (
            "api/fetchChat.js",
            "async function handler(req, res) {\n  const r = await fetch(\"https://api.openai.com/v1/chat/completions\", { method: \"POST\", body: JSON.stringify(req.body) });\n  res.status(200).json(await r.json());\n}\n\nmodule.exports = handler\n",
        ),
        (
            "netlify/functions/ask.ts",
            "import { Handler } from \"@netlify/functions\";\nconst handler: Handler = async (event) => {\n  const r = await fetch(\"https://api.openai.com/v1/chat/completions\", { method: \"POST\", body: event.body });\n  return { statusCode: 200, body: await r.text() };\n};\nexport { handler };\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        vec![
            route("ANY", "/api/fetchChat", true),
            route("ANY", "/.netlify/functions/ask", true),
        ]
    );
}

#[test]
fn firebase_auth_helper_and_the_cloudflare_ai_package() {
    // A helper that throws HttpsError("unauthenticated") is an auth helper;
    // `new Ai(env.AI).run("@cf/…")` (@cloudflare/ai) is Workers AI.
    let dir = write_project(&[
        (
            "functions/index.js",
            "const { onCall, HttpsError } = require(\"firebase-functions/v2/https\");\nconst OpenAI = require(\"openai\");\nconst openai = new OpenAI();\nfunction assertUser(request) {\n  if (!request.auth) throw new HttpsError(\"unauthenticated\", \"Sign in\");\n  return request.auth.uid;\n}\nexports.chat = onCall(async (request) => {\n  assertUser(request);\n  return openai.chat.completions.create({ model: \"gpt-4o-mini\", max_tokens: 5, messages: [] });\n});\n",
        ),
        (
            "worker/index.js",
            "import { Ai } from \"@cloudflare/ai\";\nexport default {\n  async fetch(request, env) {\n    const ai = new Ai(env.AI);\n    return Response.json(await ai.run(\"@cf/meta/llama-2-7b-chat-int8\", { prompt: \"hi\" }));\n  },\n};\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        details(endpoint_at(&json, "/chat"), "auth"),
        vec!["assertUser()"]
    );
    let worker = endpoint_at(&json, "/");
    assert_eq!(worker["ai"]["path"], "worker/index.js");
}

#[test]
fn a_netlify_functions_folder_named_api_is_netlify_only() {
    let dir = write_project(&[
        ("netlify.toml", "[functions]\ndirectory = \"api\"\n"),
        (
            "api/chat.mjs",
            "export default async (req, context) => {\n  const r = await fetch(\"https://api.openai.com/v1/chat/completions\", { method: \"POST\", body: await req.text() });\n  return new Response(r.body);\n};\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        vec![route("ANY", "/.netlify/functions/chat", true)]
    );
    assert_eq!(json["frameworks"], serde_json::json!(["Netlify Function"]));
}
