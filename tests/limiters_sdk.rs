//! Limiter SDKs (issue 17 item 6): Arcjet, Unkey, `@vercel/firewall` and
//! rate-limiter-flexible checked on the request path are rate-limit
//! evidence of the route, with their windows and their store; what only
//! looks like one (bot protection, dry-run rules, Clerk's `protect()`, a
//! limiter made and never checked) is not.

mod common;

use common::*;
use serde_json::Value;

fn inventory(fixture: &str) -> Value {
    fixture_inventory(fixture)
}

/// The `detail` of every rate limit of the endpoint at `path`.
fn limits(json: &Value, path: &str) -> Vec<String> {
    details(endpoint_at(json, path), "rate_limits")
}

fn auth(json: &Value, path: &str) -> Vec<String> {
    evidence_lines(endpoint_at(json, path), "auth")
}

#[test]
fn each_sdk_check_is_the_limit_of_its_route_with_its_windows() {
    let json = inventory("limiters-sdk-protected");
    assert_eq!(
        limits(&json, "/api/chat"),
        ["aj.protect() slidingWindow({ mode: \"LIVE\", interval: \"1m\", max: 10 }); slidingWindow({ mode: \"LIVE\", interval: \"1d\", max: 200 })"]
    );
    // Arcjet's protect() is its rate limit (and bot shield), not auth.
    assert_eq!(auth(&json, "/api/chat"), Vec::<String>::new());
    assert_eq!(
        limits(&json, "/api/summarize"),
        ["limiter.limit() Ratelimit({ rootKey: process.env.UNKEY_ROOT_KEY!, namespace: \"summarize\", limit: 5, duration: 60_000, })"]
    );
    // The 429 after checkRateLimit is the SDK's, not a second, project limiter.
    assert_eq!(
        limits(&json, "/api/translate"),
        ["checkRateLimit() checkRateLimit(\"translate\", { request })"]
    );
    assert_eq!(
        limits(&json, "/api/complete"),
        ["perMinute.consume() RateLimiterRedis({ storeClient: redisClient, keyPrefix: \"ai-min\", points: 10, duration: 60 }); RateLimiterRedis({ storeClient: redisClient, keyPrefix: \"ai-day\", points: 100, duration: 60 * 60 * 24 })"]
    );
}

#[test]
fn bot_rules_dry_runs_and_other_protects_are_no_limit() {
    let json = inventory("limiters-sdk-tempting");
    for path in [
        "/api/bots",
        "/api/ask",
        "/api/admin",
        "/api/rewrite",
        "/api/expand",
    ] {
        assert_eq!(limits(&json, path), Vec::<String>::new(), "{path}");
    }
    assert_eq!(
        limits(&json, "/api/draft"),
        ["ajProd.protect() fixedWindow({ mode: process.env.NODE_ENV === \"production\" ? \"LIVE\" : \"DRY_RUN\", window: \"1m\", max: 5 })"]
    );
    assert_eq!(
        limits(&json, "/api/complete"),
        ["perMinute.consume() RateLimiterMemory({ points: 10, duration: 60 })"]
    );
    assert_eq!(auth(&json, "/api/bots"), Vec::<String>::new());
    assert_eq!(auth(&json, "/api/admin"), ["enforced: auth.protect()"]);
}

const ARCJET_SERVER: &str = r#"import express from "express";
import OpenAI from "openai";
import aj from "./lib/arcjet.js";
import { slidingWindow } from "@arcjet/node";

const app = express();
const openai = new OpenAI();

app.post("/api/chat", async (req, res) => {
  const decision = await aj.withRule(slidingWindow({ mode: "LIVE", interval: 60, max: 5 })).protect(req);
  if (decision.isDenied()) return res.status(429).end();
  const r = await openai.responses.create({ model: "gpt-4o-mini", input: req.body.q, max_output_tokens: 100 });
  res.json({ text: r.output_text });
});

app.post("/api/plain", async (req, res) => {
  const decision = await aj.protect(req);
  if (decision.isDenied()) return res.status(403).end();
  const r = await openai.responses.create({ model: "gpt-4o-mini", input: req.body.q, max_output_tokens: 100 });
  res.json({ text: r.output_text });
});

app.listen(3000);
"#;

#[test]
fn a_rule_added_at_the_call_limits_that_route_only() {
    let dir = write_project(&[
        ("server.mjs", ARCJET_SERVER),
        (
            "lib/arcjet.js",
            "import arcjet, { shield } from \"@arcjet/node\";\n\nconst aj = arcjet({ key: process.env.ARCJET_KEY, rules: [shield({ mode: \"LIVE\" })] });\n\nexport default aj;\n",
        ),
    ]);
    let json = inventory_json(dir.path());
    // The default-exported client, with a window added by withRule(): a
    // limit (of 60 s), and not a limiter made per request.
    assert_eq!(
        limits(&json, "/api/chat"),
        ["aj.withRule().protect() slidingWindow({ mode: \"LIVE\", interval: 60, max: 5 })"]
    );
    // The same client with its shield only.
    assert_eq!(limits(&json, "/api/plain"), Vec::<String>::new());
    let (_, audit, _) = audit_json(dir.path(), &["--select", "rate-limit"]);
    assert_eq!(
        finding_keys(&audit),
        [
            "rate-limit ai-endpoint-not-rate-limited server.mjs:16",
            "rate-limit rate-limit-no-daily-cap server.mjs:9",
        ]
    );
}

#[test]
fn unkey_string_durations_and_a_daily_window() {
    let dir = write_project(&[(
        "app/api/chat/route.ts",
        "import { Ratelimit } from \"@unkey/ratelimit\";\nimport OpenAI from \"openai\";\n\nconst openai = new OpenAI();\nconst minute = new Ratelimit({ rootKey: process.env.UNKEY_ROOT_KEY!, namespace: \"chat-m\", limit: 5, duration: \"60s\" });\nconst day = new Ratelimit({ rootKey: process.env.UNKEY_ROOT_KEY!, namespace: \"chat-d\", limit: 100, duration: \"1d\" });\n\nexport async function POST(req: Request) {\n  const ip = req.headers.get(\"x-forwarded-for\") ?? \"\";\n  if (!(await minute.limit(ip)).success || !(await day.limit(ip)).success) {\n    return new Response(\"Too many requests\", { status: 429 });\n  }\n  const r = await openai.responses.create({ model: \"gpt-4o-mini\", input: \"hi\", max_output_tokens: 100 });\n  return Response.json({ text: r.output_text });\n}\n",
    )]);
    let (_, audit, _) = audit_json(dir.path(), &["--select", "rate-limit,rate-limit-store"]);
    // Both windows read: no daily-cap warning; Unkey counts in its service.
    assert_eq!(finding_keys(&audit), Vec::<String>::new());
    assert_eq!(status_of(&audit, "rate-limit"), "pass");
    assert_eq!(status_of(&audit, "rate-limit-store"), "pass");
}

const FASTIFY_SERVER: &str = r#"import Fastify from "fastify";
import jwt from "@fastify/jwt";
import OpenAI from "openai";

const fastify = Fastify();
const client = new OpenAI();
fastify.register(jwt, { secret: process.env.JWT_SECRET });

fastify.decorate("authenticate", async (request, reply) => {
  try {
    await request.jwtVerify();
  } catch (err) {
    reply.code(401).send(err);
  }
});

async function ask(m) {
  const c = await client.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 50, messages: [{ role: "user", content: m }] });
  return c.choices[0].message.content;
}

fastify.post("/a", { onRequest: [fastify.authenticate] }, async (request) => ({ r: await ask(request.body.m) }));
fastify.post("/b", { preHandler: fastify.auth([fastify.authenticate]) }, async (request) => ({ r: await ask(request.body.m) }));
fastify.post("/c", async (request) => {
  await request.jwtVerify();
  return { r: await ask(request.body.m) };
});
fastify.post("/d", async (request) => ({ r: await ask(request.body.m) }));
"#;

const FASTIFY_HOOKED: &str = r#"import Fastify from "fastify";
import OpenAI from "openai";
const app = Fastify();
const client = new OpenAI();
app.addHook("onRequest", async (request, reply) => {
  await request.jwtVerify();
});
app.post("/e", async (request) => {
  const c = await client.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 50, messages: [{ role: "user", content: request.body.m }] });
  return c.choices[0].message.content;
});
"#;

const FASTIFY_LOGGED: &str = r#"import Fastify from "fastify";
import OpenAI from "openai";
const app = Fastify();
const client = new OpenAI();
app.addHook("onRequest", async (request) => {
  request.log.info("hit");
});
app.addHook("onSend", async (request, reply) => {
  await request.jwtVerify();
});
app.post("/f", async (request) => {
  const c = await client.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 50, messages: [{ role: "user", content: request.body.m }] });
  return c.choices[0].message.content;
});
"#;

#[test]
fn fastify_auth_hooks_and_jwt_verify() {
    let dir = write_project(&[
        ("server.mjs", FASTIFY_SERVER),
        ("hooked.mjs", FASTIFY_HOOKED),
        ("logged.mjs", FASTIFY_LOGGED),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        auth(&json, "/a"),
        ["enforced: route middleware fastify.authenticate"]
    );
    assert_eq!(
        auth(&json, "/b"),
        ["enforced: route middleware fastify.auth([fastify.authenticate])"]
    );
    // @fastify/jwt: request.jwtVerify() throws a 401.
    assert_eq!(auth(&json, "/c"), ["enforced: request.jwtVerify()"]);
    assert_eq!(auth(&json, "/d"), Vec::<String>::new());
    assert_eq!(
        auth(&json, "/e"),
        ["enforced: app.addHook(\"onRequest\", …)"]
    );
    // A request hook that only logs, and a hook after the handler: no auth.
    assert_eq!(auth(&json, "/f"), Vec::<String>::new());
}

const ARCJET_CJS: &str = r#"const arcjet = require("@arcjet/node").default;
const { shield, detectBot, slidingWindow } = require("@arcjet/node");
const aj = arcjet({
    key: process.env.ARCJET_KEY,
    rules: [
        shield({ mode: "LIVE" }),
        detectBot({ mode: "LIVE", allow: ["CATEGORY:SEARCH_ENGINE"] }),
        slidingWindow({ mode: "LIVE", max: 100, interval: 60 }),
    ],
});

module.exports = aj;
"#;

const ARCJET_MIDDLEWARE: &str = r#"const aj = require("../lib/arcjet");

const arcjetMiddleware = async (req, res, next) => {
  const decision = await aj.protect(req, { requested: 1 });
  if (decision.isDenied()) {
    if (decision.reason.isRateLimit()) return res.status(429).json({ message: "Too many requests" });
    return res.status(403).json({ message: "Access denied" });
  }
  next();
};

module.exports = { arcjetMiddleware };
"#;

const ARCJET_APP: &str = r#"const express = require("express");
const OpenAI = require("openai");
const { arcjetMiddleware } = require("./middleware/arcjet");

const app = express();
const openai = new OpenAI();
app.use(express.json());
app.use(arcjetMiddleware);

app.post("/api/chat", async (req, res) => {
  const r = await openai.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 100, messages: [{ role: "user", content: req.body.q }] });
  res.json({ text: r.choices[0].message.content });
});
app.listen(3000);
"#;

#[test]
fn a_middleware_wrapping_an_sdk_check_limits_and_its_403_is_no_auth() {
    // server → middleware → lib/arcjet.js (`require("@arcjet/node").default`).
    let dir = write_project(&[
        ("src/lib/arcjet.js", ARCJET_CJS),
        ("src/middleware/arcjet.js", ARCJET_MIDDLEWARE),
        ("src/server.js", ARCJET_APP),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        limits(&json, "/api/chat"),
        ["app.use(arcjetMiddleware): aj.protect() slidingWindow({ mode: \"LIVE\", max: 100, interval: 60 })"]
    );
    // Its 403 answers Arcjet's bot rule, not a missing user.
    assert_eq!(auth(&json, "/api/chat"), Vec::<String>::new());
}

#[test]
fn a_limiter_made_under_a_condition_keeps_its_windows() {
    // Nutlope/roomGPT's shape: `const ratelimit = redis ? new Ratelimit(…) : undefined`.
    let dir = write_project(&[(
        "app/generate/route.ts",
        "import { Ratelimit } from \"@upstash/ratelimit\";\nimport redis from \"../../utils/redis\";\nimport OpenAI from \"openai\";\n\nconst openai = new OpenAI();\nconst ratelimit = redis\n  ? new Ratelimit({ redis, limiter: Ratelimit.fixedWindow(5, \"1440 m\") })\n  : undefined;\n\nexport async function POST(request: Request) {\n  if (ratelimit) {\n    const result = await ratelimit.limit(request.headers.get(\"x-real-ip\") ?? \"\");\n    if (!result.success) return new Response(\"Too many\", { status: 429 });\n  }\n  const r = await openai.responses.create({ model: \"gpt-4o-mini\", input: \"hi\", max_output_tokens: 100 });\n  return Response.json({ text: r.output_text });\n}\n",
    )]);
    let json = inventory_json(dir.path());
    assert_eq!(
        limits(&json, "/generate"),
        ["ratelimit.limit() fixedWindow(5, \"1440 m\")"]
    );
}

const ROUTE: &str = "import OpenAI from \"openai\";\n\nconst openai = new OpenAI();\n\nexport async function POST(req: Request) {\n  const { q } = await req.json();\n  const r = await openai.responses.create({ model: \"gpt-4o-mini\", input: q, max_output_tokens: 100 });\n  return Response.json({ text: r.output_text });\n}\n";

#[test]
fn arcjet_middleware_limits_the_routes_its_matcher_covers() {
    let middleware = |mode: &str| {
        format!(
            "import arcjet, {{ createMiddleware, slidingWindow }} from \"@arcjet/next\";\n\nexport const config = {{ matcher: [\"/api/:path*\"] }};\n\nconst aj = arcjet({{\n  key: process.env.ARCJET_KEY!,\n  rules: [slidingWindow({{ mode: \"{mode}\", interval: \"1m\", max: 10 }})],\n}});\n\nexport default createMiddleware(aj);\n"
        )
    };
    for (mode, limited) in [("LIVE", true), ("DRY_RUN", false)] {
        let text = middleware(mode);
        let dir = write_project(&[("middleware.ts", &text), ("app/api/chat/route.ts", ROUTE)]);
        let json = inventory_json(dir.path());
        assert_eq!(
            limits(&json, "/api/chat").len(),
            usize::from(limited),
            "{mode}: {json}"
        );
    }
}
