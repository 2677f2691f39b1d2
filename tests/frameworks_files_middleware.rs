//! Middleware in front of file-routed endpoints (issue 17 item 4):
//! SvelteKit `handle`, Astro `onRequest`, Nuxt server middleware and
//! object-form `onRequest` hooks as auth and rate-limit evidence, the paths
//! their guards let through, `nuxt-security`'s limiter, and SvelteKit page
//! loads and form actions as endpoints.

mod common;

use common::*;

/// (framework, method, path, reaches AI, limits, enforced auth count).
type Row = (String, String, String, bool, usize, usize);

fn rows(json: &serde_json::Value) -> Vec<Row> {
    let mut rows: Vec<Row> = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let limits = e["rate_limits"].as_array().unwrap().len();
            let enforced = e["auth"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["kind"] == "enforced")
                .count();
            (
                e["framework"].as_str().unwrap().to_string(),
                e["method"].as_str().unwrap().to_string(),
                e["path"].as_str().unwrap().to_string(),
                !e["ai"].is_null(),
                limits,
                enforced,
            )
        })
        .collect();
    rows.sort();
    rows
}

fn row(f: &str, m: &str, p: &str, limits: usize, auth: usize) -> Row {
    (f.into(), m.into(), p.into(), true, limits, auth)
}

#[test]
fn middleware_covers_the_paths_its_guards_let_through() {
    let dir = materialize("file-routes-middleware");
    let json = inventory_json(dir.path());
    let mut want = vec![
        row("Astro", "POST", "/api/chat", 0, 1),
        row("Astro", "GET", "/feeds/summary", 0, 0),
        row("Nuxt", "POST", "/api/chat", 1, 1),
        row("Nuxt", "POST", "/api/free/ask", 0, 0),
        // The server middleware and the route's own onRequest hook.
        row("Nuxt", "POST", "/api/summary", 1, 2),
        row("Nuxt", "GET", "/og", 1, 0),
        row("SvelteKit", "POST", "/api/private/chat", 1, 1),
        row("SvelteKit", "POST", "/api/public/chat", 1, 0),
        row("SvelteKit", "GET", "/assistant", 0, 0),
        row("SvelteKit", "POST", "/assistant", 0, 0),
        row("SvelteKit", "POST", "/assistant?/summarize", 0, 1),
    ];
    want.sort();
    assert_eq!(rows(&json), want);
    // The evidence says where and for which paths.
    let private = endpoint_at(&json, "/api/private/chat");
    let auth = private["auth"][0]["detail"].as_str().unwrap();
    assert!(
        auth.contains("handle `guard`") && auth.contains("/api/private"),
        "{auth}"
    );
    let limit = private["rate_limits"][0]["detail"].as_str().unwrap();
    assert!(
        limit.contains("handle `limit`") && limit.contains("slidingWindow(10, \"1 m\")"),
        "{limit}"
    );
    // The form action's handler is the object property.
    assert_eq!(
        endpoint_at(&json, "/assistant?/summarize")["handler"],
        "actions.summarize"
    );
    // The route rule wins over the global limit.
    let chat = json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["framework"] == "Nuxt" && e["path"] == "/api/chat")
        .unwrap();
    assert!(
        chat["rate_limits"]
            .to_string()
            .contains("tokensPerInterval: 5"),
        "{chat}"
    );
}

const AI: &str = r#"import OpenAI from "openai";
const client = new OpenAI();
export async function complete(prompt: string) {
  const r = await client.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 100, messages: [{ role: "user", content: prompt }] });
  return r.choices[0].message.content;
}
"#;

const ROUTE: &str = r#"import { json } from "@sveltejs/kit";
import { complete } from "$lib/server/ai";
export const POST = async ({ request }) => json({ text: await complete((await request.json()).prompt) });
"#;

/// Enforced auth entries per endpoint path of a SvelteKit app with this
/// `hooks.server.ts`, routes `/chat` and `/api/chat`.
fn svelte_auth(hooks: &str) -> Vec<(String, usize)> {
    let dir = write_project(&[
        (
            "package.json",
            r#"{"dependencies":{"@sveltejs/kit":"2.7.0","openai":"4.67.0"}}"#,
        ),
        ("src/lib/server/ai.ts", AI),
        ("src/routes/chat/+server.ts", ROUTE),
        ("src/routes/api/chat/+server.ts", ROUTE),
        ("src/hooks.server.ts", hooks),
    ]);
    let json = inventory_json(dir.path());
    let mut out: Vec<(String, usize)> = rows(&json)
        .into_iter()
        .map(|(_, _, path, _, _, auth)| (path, auth))
        .collect();
    out.sort();
    out
}

fn auth_on(api: usize, chat: usize) -> Vec<(String, usize)> {
    vec![("/api/chat".into(), api), ("/chat".into(), chat)]
}

#[test]
fn pass_through_and_session_only_handles_are_not_auth() {
    // Only resolves.
    let hooks = r#"import type { Handle } from "@sveltejs/kit";
export const handle: Handle = async ({ event, resolve }) => resolve(event);
"#;
    assert_eq!(svelte_auth(hooks), auth_on(0, 0));
    // Reads the session into locals, rejects nothing.
    let hooks = r#"import type { Handle } from "@sveltejs/kit";
export const handle: Handle = async ({ event, resolve }) => {
  const session = await event.locals.auth();
  event.locals.user = session?.user;
  if (!session) return resolve(event);
  return resolve(event);
};
"#;
    assert_eq!(svelte_auth(hooks), auth_on(0, 0));
    // Auth.js's handle sets the session up; it protects nothing.
    let hooks = r#"import { SvelteKitAuth } from "@auth/sveltekit";
import GitHub from "@auth/sveltekit/providers/github";
export const { handle } = SvelteKitAuth({ providers: [GitHub] });
"#;
    assert_eq!(svelte_auth(hooks), auth_on(0, 0));
}

#[test]
fn a_rejecting_handle_covers_what_its_path_test_names() {
    // Every path.
    let hooks = r#"import { error, type Handle } from "@sveltejs/kit";
export const handle: Handle = async ({ event, resolve }) => {
  if (!event.locals.user) error(401, "Unauthorized");
  return resolve(event);
};
"#;
    assert_eq!(svelte_auth(hooks), auth_on(1, 1));
    // A redirect to the login page for /chat only; the root redirect is
    // about no user and protects nothing.
    let hooks = r#"import { redirect, type Handle } from "@sveltejs/kit";
export const handle: Handle = async ({ event, resolve }) => {
  if (event.url.pathname === "/") redirect(307, "/chat");
  const session = await event.locals.auth();
  if (event.url.pathname.startsWith("/chat") && !session?.user) {
    redirect(303, "/login");
  }
  return resolve(event);
};
"#;
    assert_eq!(svelte_auth(hooks), auth_on(0, 1));
    // The path test in a local (Astro and SvelteKit examples do this).
    let hooks = r#"import { redirect, type Handle } from "@sveltejs/kit";
export const handle: Handle = async ({ event, resolve }) => {
  const { pathname } = event.url;
  const isApi = pathname.startsWith("/api/");
  const session = await event.locals.auth();
  if (isApi && !session) return new Response("Unauthorized", { status: 401 });
  return resolve(event);
};
"#;
    assert_eq!(svelte_auth(hooks), auth_on(1, 0));
    // A list of prefixes aiguard cannot read: no evidence.
    let hooks = r#"import { error, type Handle } from "@sveltejs/kit";
const PROTECTED = ["/api", "/chat"];
export const handle: Handle = async ({ event, resolve }) => {
  if (PROTECTED.some((p) => event.url.pathname.startsWith(p)) && !event.locals.user) {
    error(401, "Unauthorized");
  }
  return resolve(event);
};
"#;
    assert_eq!(svelte_auth(hooks), auth_on(0, 0));
    // A 401 Response from a handle of a sequence, imported from $lib.
    let dir_hooks = r#"import { sequence } from "@sveltejs/kit/hooks";
import { requireUser } from "$lib/server/guard";
export const handle = sequence(requireUser);
"#;
    let dir = write_project(&[
        (
            "package.json",
            r#"{"dependencies":{"@sveltejs/kit":"2.7.0","openai":"4.67.0"}}"#,
        ),
        ("src/lib/server/ai.ts", AI),
        ("src/routes/api/chat/+server.ts", ROUTE),
        ("src/hooks.server.ts", dir_hooks),
        (
            "src/lib/server/guard.ts",
            r#"import type { Handle } from "@sveltejs/kit";
export const requireUser: Handle = async ({ event, resolve }) => {
  if (!event.url.pathname.startsWith("/api")) return resolve(event);
  if (!event.locals.user) return new Response("Unauthorized", { status: 401 });
  return resolve(event);
};
"#,
        ),
    ]);
    let json = inventory_json(dir.path());
    let auth = &endpoint_at(&json, "/api/chat")["auth"];
    assert!(auth.to_string().contains("handle `requireUser`"), "{auth}");
}

#[test]
fn nuxt_security_off_or_absent_is_no_limit() {
    let route = r#"import OpenAI from "openai";
const client = new OpenAI();
export default defineEventHandler(async (event) => {
  const r = await client.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 100, messages: [] });
  return r.choices[0].message.content;
});
"#;
    let limits_with = |config: &str| {
        let dir = write_project(&[
            (
                "package.json",
                r#"{"dependencies":{"nuxt":"3.13.2","openai":"4.67.0"}}"#,
            ),
            ("nuxt.config.ts", config),
            ("server/api/chat.post.ts", route),
        ]);
        let json = inventory_json(dir.path());
        endpoint_at(&json, "/api/chat")["rate_limits"]
            .as_array()
            .unwrap()
            .len()
    };
    // Installed, no settings: the module's default limiter is on.
    assert_eq!(
        limits_with(r#"export default defineNuxtConfig({ modules: ["nuxt-security"] });"#),
        1
    );
    assert_eq!(
        limits_with(
            r#"export default defineNuxtConfig({ modules: ["nuxt-security"], security: { rateLimiter: false } });"#
        ),
        0
    );
    // Settings without the module configure nothing.
    assert_eq!(
        limits_with(
            r#"export default defineNuxtConfig({ security: { rateLimiter: { tokensPerInterval: 5, interval: 60000 } } });"#
        ),
        0
    );
}

#[test]
fn nuxt_on_request_hooks_resolve_auto_imported_server_utils() {
    let dir = write_project(&[
        (
            "package.json",
            r#"{"dependencies":{"nuxt":"3.13.2","openai":"4.67.0","@upstash/ratelimit":"2.0.3"}}"#,
        ),
        (
            "server/api/ask.post.ts",
            r#"import OpenAI from "openai";
const client = new OpenAI();
export default defineEventHandler({
  onRequest: [limitAsk],
  handler: async (event) => {
    const r = await client.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 100, messages: [] });
    return r.choices[0].message.content;
  },
});
"#,
        ),
        (
            "server/utils/limit.ts",
            r#"import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
const ratelimit = new Ratelimit({ redis: Redis.fromEnv(), limiter: Ratelimit.slidingWindow(5, "1 m") });
export async function limitAsk(event) {
  const { success } = await ratelimit.limit(getRequestIP(event));
  if (!success) throw createError({ statusCode: 429 });
}
"#,
        ),
    ]);
    let json = inventory_json(dir.path());
    let limits = endpoint_at(&json, "/api/ask")["rate_limits"].to_string();
    assert!(limits.contains("onRequest hook `limitAsk`"), "{limits}");
}
