//! tRPC: procedures as endpoints (method from the procedure kind, path from
//! the router tree and the adapter's mount), auth and rate limits read
//! from `.use()` middleware bodies, on the two fixtures and on small
//! projects written here for the shapes the fixtures do not hold.

mod common;

use common::*;

#[test]
fn unprotected_procedures_are_open_endpoints_under_the_fetch_mount() {
    let dir = materialize("trpc-unprotected");
    let json = inventory_json(dir.path());
    assert_eq!(json["frameworks"], serde_json::json!(["tRPC"]));
    assert_eq!(
        endpoint_routes(&json),
        routes(&[
            ("POST", "/api/trpc/chat.send", true),
            ("GET", "/api/trpc/chat.history", false),
            ("POST", "/api/trpc/summary.summarize", true),
        ])
    );
    for path in ["/api/trpc/chat.send", "/api/trpc/summary.summarize"] {
        let e = endpoint_at(&json, path);
        assert_eq!(evidence(e, "auth"), vec![], "{path}");
        assert_eq!(evidence(e, "rate_limits"), vec![], "{path}");
    }
    // Reached through summarize() in the services module.
    let summarize = endpoint_at(&json, "/api/trpc/summary.summarize");
    assert_eq!(summarize["ai"]["path"], "src/server/services/llm.ts");
}

#[test]
fn protected_procedures_carry_their_middleware_auth_and_limits() {
    let dir = materialize("trpc-protected");
    let json = inventory_json(dir.path());
    // mergeRouters(coreRouter, studioRouter), mounted by createNextApiHandler
    // in pages/api/trpc/[trpc].ts.
    assert_eq!(
        endpoint_routes(&json),
        routes(&[
            ("POST", "/api/trpc/chat.ask", true),
            ("GET", "/api/trpc/chat.models", false),
            ("POST", "/api/trpc/drafts.write", true),
        ])
    );
    let ask = endpoint_at(&json, "/api/trpc/chat.ask");
    assert_eq!(
        evidence(ask, "auth"),
        vec![(
            "enforced".to_string(),
            ".use(enforceUserIsAuthed) (src/server/trpc.ts:28) rejects without a user".to_string()
        )]
    );
    assert_eq!(
        evidence(ask, "rate_limits"),
        vec![(
            "rate-limit".to_string(),
            ".use(rateLimited) (src/server/trpc.ts:39): chatLimit.limit() slidingWindow(10, \"1 m\")"
                .to_string()
        )]
    );
    // Its own .use(dailyCap), imported from another file, then the base's.
    let write = endpoint_at(&json, "/api/trpc/drafts.write");
    let limits: Vec<String> = evidence(write, "rate_limits")
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    assert_eq!(
        limits,
        vec![
            ".use(dailyCap): dailyLimit.limit() fixedWindow(100, \"1 d\")".to_string(),
            ".use(rateLimited) (src/server/trpc.ts:39): chatLimit.limit() slidingWindow(10, \"1 m\")"
                .to_string(),
        ]
    );
    assert_eq!(evidence(write, "auth").len(), 1);
    let models = endpoint_at(&json, "/api/trpc/chat.models");
    assert!(models["ai"].is_null());
}

const TRPC_BASE: &str = r#"
import { initTRPC, TRPCError } from "@trpc/server";
const t = initTRPC.context<{ user?: { id: string } }>().create();
export const router = t.router;
export const publicProcedure = t.procedure;
export const adminProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "FORBIDDEN" });
  return next();
});
const noop = t.middleware(({ next }) => next());
export const authedProcedure = t.procedure.use(noop);
"#;

const LLM: &str = r#"
import OpenAI from "openai";
const openai = new OpenAI();
export async function ask(q: string) {
  return openai.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 100, messages: [{ role: "user", content: q }] });
}
"#;

#[test]
fn express_mount_inline_routers_and_generator_resolvers() {
    let dir = write_project(&[
        ("src/trpc.ts", TRPC_BASE),
        ("src/llm.ts", LLM),
        (
            "src/router.ts",
            r#"
import { z } from "zod";
import { router, publicProcedure, adminProcedure, authedProcedure } from "./trpc";
import { ask } from "./llm";
export const appRouter = router({
  admin: router({
    run: adminProcedure.input(z.string()).mutation(({ input }) => ask(input)),
  }),
  stream: publicProcedure.subscription(async function* ({ input }) {
    yield await ask("hi");
  }),
  fake: authedProcedure.query(({ input }) => ask("x")),
  // tRPC 11: a plain object is a sub-router.
  chat: {
    send: publicProcedure.input(z.string()).mutation(({ input }) => ask(input)),
    history: { list: publicProcedure.query(() => []) },
  },
});
"#,
        ),
        (
            "src/server.ts",
            r#"
import express from "express";
import * as trpcExpress from "@trpc/server/adapters/express";
import { appRouter } from "./router";
const app = express();
app.use("/trpc", trpcExpress.createExpressMiddleware({ router: appRouter }));
app.listen(3000);
"#,
        ),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        routes(&[
            ("POST", "/trpc/admin.run", true),
            ("GET", "/trpc/stream", true),
            ("GET", "/trpc/fake", true),
            ("POST", "/trpc/chat.send", true),
            ("GET", "/trpc/chat.history.list", false),
        ])
    );
    // An inline middleware throwing FORBIDDEN is auth; a middleware that
    // only calls next() is not, whatever the base is named.
    let run = endpoint_at(&json, "/trpc/admin.run");
    assert_eq!(evidence(run, "auth").len(), 1, "{run}");
    assert!(evidence(run, "auth")[0]
        .1
        .contains("rejects without a user"));
    assert_eq!(evidence(endpoint_at(&json, "/trpc/fake"), "auth"), vec![]);
    assert_eq!(evidence(endpoint_at(&json, "/trpc/stream"), "auth"), vec![]);
}

#[test]
fn unmounted_routers_show_procedure_paths_and_resolver_checks() {
    let dir = write_project(&[
        ("src/trpc.ts", TRPC_BASE),
        ("src/llm.ts", LLM),
        (
            "src/chat.ts",
            r#"
import { TRPCError } from "@trpc/server";
import { router, publicProcedure } from "./trpc";
import { ask } from "./llm";
export const chatRouter = router({
  guarded: publicProcedure.mutation(async ({ ctx }) => {
    if (!ctx.user) {
      throw new TRPCError({ code: "UNAUTHORIZED" });
    }
    return ask("hello");
  }),
  late: publicProcedure.mutation(async ({ ctx }) => {
    const answer = await ask("hello");
    if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED" });
    return answer;
  }),
});
"#,
        ),
    ]);
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        routes(&[("POST", "guarded", true), ("POST", "late", true)])
    );
    let kinds = |path: &str| -> Vec<String> {
        evidence(endpoint_at(&json, path), "auth")
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    };
    assert_eq!(kinds("guarded"), vec!["enforced"]);
    // The throw comes after the line that leads to the AI call.
    assert_eq!(kinds("late"), vec!["after-ai-call"]);
}

#[test]
fn no_trpc_import_no_trpc_endpoints() {
    // `router({ … })` and `.query(fn)` of another library are not tRPC,
    // even when the function calls AI (so the file is parsed).
    let dir = write_project(&[(
        "src/db.ts",
        r#"
import OpenAI from "openai";
import { router } from "some-router";
const openai = new OpenAI();
export const r = router({
  list: db.items.query(() => openai.chat.completions.create({ model: "gpt-4o-mini", messages: [] })),
});
"#,
    )]);
    let json = inventory_json(dir.path());
    assert_eq!(endpoint_routes(&json), vec![]);
}

#[test]
fn middleware_from_a_package_counts_by_name_only_when_named() {
    // `.use(requireAuth)` from a package: its body is not in the project,
    // so the catalogue's auth name decides; `withOrg` and `orgProcedure`
    // count only once the config names them (`extra-auth`), and
    // `perTenant` once `extra-limiters` does.
    let files = [
        ("src/trpc.ts", TRPC_BASE),
        ("src/llm.ts", LLM),
        (
            "src/router.ts",
            r#"
import { requireAuth, withOrg, perTenant } from "@acme/trpc-kit";
import { router, publicProcedure } from "./trpc";
import { ask } from "./llm";
const orgProcedure = publicProcedure.use(withOrg).use(perTenant);
export const appRouter = router({
  a: publicProcedure.use(requireAuth).mutation(() => ask("a")),
  b: orgProcedure.mutation(() => ask("b")),
});
"#,
        ),
    ];
    let dir = write_project(&files);
    let json = inventory_json(dir.path());
    assert_eq!(
        endpoint_routes(&json),
        routes(&[("POST", "a", true), ("POST", "b", true)])
    );
    let a = endpoint_at(&json, "a");
    assert_eq!(
        evidence(a, "auth"),
        vec![(
            "enforced".to_string(),
            ".use(requireAuth) an auth name; its body is not in the project".to_string()
        )]
    );
    assert_eq!(evidence(endpoint_at(&json, "b"), "auth"), vec![]);
    assert_eq!(evidence(endpoint_at(&json, "b"), "rate_limits"), vec![]);

    std::fs::write(
        dir.path().join("aiguard.toml"),
        "extra-auth = [\"withOrg\"]\nextra-limiters = [\"perTenant\"]\n",
    )
    .unwrap();
    let json = inventory_json(dir.path());
    let b = endpoint_at(&json, "b");
    assert_eq!(evidence(b, "auth").len(), 1, "{b}");
    assert_eq!(evidence(b, "rate_limits").len(), 1, "{b}");
}
