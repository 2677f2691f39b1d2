//! tRPC: procedures are the endpoints. A procedure is a chain on a base
//! procedure ending in `.mutation(resolver)` (POST), `.query(resolver)`
//! (GET) or `.subscription(resolver)` (GET, server-sent events), written
//! as a property of a router (`router({ send: … })`,
//! `createTRPCRouter({ … })`); routers nest (`router({ chat: chatRouter })`)
//! and merge (`mergeRouters(a, b)`), and the app router is mounted by an
//! adapter: `fetchRequestHandler` in `app/api/trpc/[trpc]/route.ts` (its
//! `endpoint` option, else the route's folder), `createNextApiHandler` in
//! `pages/api/trpc/[trpc].ts`, `createExpressMiddleware` under
//! `app.use("/trpc", …)`, a standalone server at `/`. The path shown is
//! the mount plus the procedure path (`/api/trpc/chat.send`); without a
//! mount found, the procedure path alone (`chat.send`).
//!
//! Limits and auth are middleware: `.use(mw)` on the procedure or on the
//! base it is built from (`protectedProcedure = t.procedure.use(isAuthed)`),
//! followed through variables and imports. A middleware is judged by its
//! body, not its name: auth when it (or a function it calls) throws
//! `TRPCError` with `UNAUTHORIZED`/`FORBIDDEN` (or calls a project auth
//! helper); a limit when it calls a limit-call library's `.limit(…)`, the
//! project's own limiter, or throws `TOO_MANY_REQUESTS`. A middleware whose
//! body cannot be read (from a package) counts as auth only when its name,
//! or the base procedure's, is an auth name of the catalogue or the
//! config's `extra-auth`. A resolver that throws `UNAUTHORIZED` itself is
//! in-handler auth.
//!
//! Plain objects nested in a router are sub-routers (tRPC 11's
//! `router({ chat: { send: p.mutation(…) } })` → `chat.send`) when their
//! procedures are written in place.
//!
//! Not read: procedures named by variable inside a nested plain object
//! (`{ chat: { send: sendProcedure } }`), v9 `.merge("prefix.", r)` routers.

use std::collections::{HashMap, HashSet};

use super::next::{app_route_path, pages_api_path};
use super::{unquote, Family, Framework};
use crate::facts::{Call, Chain, FileFacts, FnRef, ProjectFacts};
use crate::inventory::auth::{last, named, AuthContext};
use crate::inventory::limits::{
    limit_call_functions, limiter_file, parse_windows, variable_range, window_spec, LimitScope,
};
use crate::inventory::{AuthEvidence, AuthKind, Endpoint, Limit, Misuse};

pub struct Trpc;

const FRAMEWORKS: &[Framework] = &[Framework::Trpc];

/// The package whose import makes a project a tRPC project.
const SERVER: &str = "@trpc/server";

/// Procedure kinds and the HTTP method tRPC's HTTP link uses for each.
const KINDS: [(&str, &str); 3] = [
    ("mutation", "POST"),
    ("query", "GET"),
    ("subscription", "GET"),
];

/// Router makers: `t.router` and the names projects export it under.
const ROUTER_MAKERS: [&str; 3] = ["router", "createTRPCRouter", "createRouter"];
const MERGE: &str = "mergeRouters";

/// Adapters that serve a router (the `router` option of their call).
const ADAPTERS: [&str; 6] = [
    "fetchRequestHandler",
    "createNextApiHandler",
    "createExpressMiddleware",
    "createHTTPServer",
    "createHTTPHandler",
    "createStandaloneServer",
];

const ERROR: &str = "TRPCError";
const AUTH_CODES: [&str; 2] = ["UNAUTHORIZED", "FORBIDDEN"];
const LIMIT_CODE: &str = "TOO_MANY_REQUESTS";

/// How many variables and imports a base procedure or middleware is
/// followed through.
const DEPTH: usize = 6;

/// A call of the project: (file, index in its calls).
type CallAt = (usize, usize);

impl Family for Trpc {
    fn frameworks(&self) -> &'static [Framework] {
        FRAMEWORKS
    }

    fn project_endpoints(&self, facts: &ProjectFacts, out: &mut Vec<Endpoint>) {
        let uses_trpc = facts
            .files()
            .iter()
            .any(|f| f.imports.iter().any(|i| i.module.starts_with(SERVER)));
        if !uses_trpc {
            return;
        }
        let routers: Vec<CallAt> = facts
            .files()
            .iter()
            .enumerate()
            .filter(|(_, f)| f.lang.is_some_and(|l| !l.is_python()))
            .flat_map(|(fi, f)| {
                (0..f.calls.len())
                    .filter(move |&ci| is_router(f, &f.calls[ci]))
                    .map(move |ci| (fi, ci))
            })
            .collect();
        // Routers some other router holds: not roots.
        let mut children = HashSet::new();
        for &r in &routers {
            let mut procs = Vec::new();
            walk(facts, r, "", 0, &mut procs, &mut children);
        }
        let mut seen = HashSet::new();
        for (root, prefix) in mounts(facts) {
            emit(facts, root, Some(&prefix), &mut seen, out);
        }
        for &r in routers.iter().filter(|r| !children.contains(*r)) {
            emit(facts, r, None, &mut seen, out);
        }
    }

    fn limits(
        &self,
        scope: &LimitScope<'_>,
        endpoints: &mut [&mut Endpoint],
        _misuse: &mut Vec<Misuse>,
    ) {
        if endpoints.is_empty() {
            return;
        }
        let facts = scope.facts;
        let spec = &scope.catalog.rate_limit;
        let limit_calls = limit_call_functions(facts, spec);
        let throws_429 = facts.functions_reaching(|_, _, c| throws(c, &[LIMIT_CODE]), 2);
        for e in endpoints.iter_mut() {
            let mut found = Vec::new();
            for mw in middleware_of(facts, e) {
                let Some(f) = mw.function else { continue };
                let via = located(facts, e, &mw, format!(".use({})", mw.text));
                if let Some(chain) = limit_calls.get(&f) {
                    let call = facts.call(chain.call);
                    let (cf, _) = chain.call;
                    let maker = limiter_file(facts, chain.call);
                    let object = call.callee.rsplit_once('.').map_or("", |(o, _)| o);
                    let name = facts
                        .file(cf)
                        .import_of(object)
                        .and_then(|i| i.name.clone())
                        .unwrap_or_else(|| object.to_string());
                    let text = limiter_windows(facts.file(maker), &name, &spec.window_calls)
                        .unwrap_or_else(|| window_spec(facts.file(maker), spec));
                    found.push(Limit {
                        how: format!("{}: {}()", via.0, call.callee),
                        file: e.file,
                        line: via.1,
                        windows: parse_windows(&text),
                        spec: text,
                    });
                } else if let Some(l) = scope
                    .counters
                    .reaching
                    .get(&f)
                    .and_then(|chain| scope.counters.of_chain(chain))
                {
                    let mut limit = l.limit(facts);
                    limit.how = format!("{}: {}", via.0, limit.how);
                    found.push(limit);
                } else if throws_429.contains_key(&f) {
                    found.push(Limit {
                        how: format!("{}: throws {ERROR} {LIMIT_CODE}", via.0),
                        file: e.file,
                        line: via.1,
                        spec: format!("{ERROR} {LIMIT_CODE}"),
                        windows: Vec::new(),
                    });
                }
            }
            e.limits.extend(found);
        }
    }

    fn declared_auth(&self, cx: &AuthContext<'_>, endpoints: &mut [&mut Endpoint]) {
        if endpoints.is_empty() {
            return;
        }
        let facts = cx.facts;
        let rejecting = facts.functions_reaching(
            |_, _, c| {
                throws(c, &AUTH_CODES)
                    || named(&cx.spec.self_checking_calls, &c.callee)
                    || cx.rejecting.contains(last(&c.callee))
            },
            2,
        );
        for e in endpoints.iter_mut() {
            let mut out = Vec::new();
            if named(&cx.spec.js_middleware, &e.object) {
                out.push(AuthEvidence {
                    kind: AuthKind::Enforced,
                    how: format!("{} (an auth name of the catalogue or config)", e.object),
                    line: e.line,
                });
            }
            for mw in middleware_of(facts, e) {
                let enforced = match mw.function {
                    Some(f) => rejecting.contains_key(&f),
                    None => named(&cx.spec.js_middleware, name_of(&mw.text)),
                };
                if enforced {
                    let reads = if mw.function.is_some() {
                        "rejects without a user"
                    } else {
                        "an auth name; its body is not in the project"
                    };
                    let (how, line) = located(facts, e, &mw, format!(".use({})", mw.text));
                    out.push(AuthEvidence {
                        kind: AuthKind::Enforced,
                        how: format!("{how} {reads}"),
                        line,
                    });
                }
            }
            if let Some(evidence) = e
                .handler
                .and_then(|h| resolver_auth(facts, e, h, &rejecting))
            {
                out.push(evidence);
            }
            e.auth.extend(out);
        }
    }
}

/// The window calls of one limiter variable of a file (`chatLimit = new
/// Ratelimit({ limiter: Ratelimit.slidingWindow(10, "1 m") })`): those
/// between its assignment and the file's next module-level one, as written.
fn limiter_windows(file: &FileFacts, var: &str, window_calls: &[String]) -> Option<String> {
    let (start, end) = variable_range(file, var)?;
    let found: Vec<String> = file
        .calls
        .iter()
        .filter(|c| c.line >= start && c.line < end)
        .filter(|c| window_calls.iter().any(|w| w == last(&c.callee)))
        .map(|c| {
            let args: Vec<&str> = c.args.iter().map(|a| a.text.as_str()).collect();
            format!("{}({})", last(&c.callee), args.join(", "))
        })
        .collect();
    (!found.is_empty()).then(|| found.join("; "))
}

/// `throw new TRPCError({ code: "UNAUTHORIZED" })` with one of `codes`.
fn throws(call: &Call, codes: &[&str]) -> bool {
    call.in_function.is_some()
        && last(&call.callee) == ERROR
        && call
            .args
            .iter()
            .any(|a| codes.iter().any(|c| a.text.contains(c)))
}

/// The resolver throws `UNAUTHORIZED` itself (`if (!ctx.session) throw …`):
/// enforced, unless that comes after the line that leads to its AI call.
fn resolver_auth(
    facts: &ProjectFacts,
    e: &Endpoint,
    h: FnRef,
    rejecting: &HashMap<FnRef, Chain>,
) -> Option<AuthEvidence> {
    let chain = rejecting.get(&h)?;
    let line = line_in_handler(facts, h, chain).unwrap_or(e.line);
    let ai_line = e
        .reaches
        .as_ref()
        .and_then(|c| line_in_handler(facts, h, c));
    let after = ai_line.is_some_and(|ai| line > ai);
    Some(AuthEvidence {
        kind: if after {
            AuthKind::AfterAiCall
        } else {
            AuthKind::Enforced
        },
        how: format!("resolver throws {}()", facts.call(chain.call).callee),
        line,
    })
}

/// The line in handler `h` where `chain` starts: its call, or the call to
/// the next function of the chain.
fn line_in_handler(facts: &ProjectFacts, h: FnRef, chain: &Chain) -> Option<u32> {
    match chain.functions.get(1) {
        None => Some(facts.call(chain.call).line),
        Some(next) => {
            let file = facts.file(h.file);
            file.calls
                .iter()
                .filter(|c| c.in_function.is_some_and(|f| file.is_within(f, h.function)))
                .find(|c| facts.resolve_call(h.file, c) == Some(*next))
                .map(|c| c.line)
        }
    }
}

/// `(how, line)` of a middleware: in the endpoint's file at its line, else
/// the endpoint's line with the middleware's place named.
fn located(facts: &ProjectFacts, e: &Endpoint, mw: &Middleware, how: String) -> (String, u32) {
    if mw.file == e.file {
        (how, mw.line)
    } else {
        let path = &facts.file(mw.file).path;
        (format!("{how} ({path}:{})", mw.line), e.line)
    }
}

/// Is `call` a router maker called with an object (`createTRPCRouter({…})`)
/// or `mergeRouters(…)`?
fn is_router(file: &FileFacts, call: &Call) -> bool {
    let name = maker_name(file, &call.callee);
    (ROUTER_MAKERS.contains(&name) && call.args.first().is_some_and(|a| a.text.starts_with('{')))
        || (name == MERGE && !call.args.is_empty())
}

/// The last segment of a callee, through an import alias
/// (`{ router as r }`).
fn maker_name<'f>(file: &'f FileFacts, callee: &'f str) -> &'f str {
    if !callee.contains('.') {
        if let Some(name) = file.import_of(callee).and_then(|i| i.name.as_deref()) {
            if name != "default" {
                return name;
            }
        }
    }
    last(callee)
}

/// A procedure call: `….mutation(resolver)` / `.query` / `.subscription`
/// with a function argument; its method.
fn procedure_method(call: &Call) -> Option<&'static str> {
    let kind = last(&call.callee);
    let method = KINDS.iter().find(|(k, _)| *k == kind)?.1;
    let resolver = call.args.iter().any(|a| a.function.is_some());
    (call.callee.contains('.') && resolver).then_some(method)
}

/// What a router property holds.
enum Value {
    Procedure(CallAt),
    Router(CallAt),
}

fn classify(facts: &ProjectFacts, at: CallAt) -> Option<Value> {
    let file = facts.file(at.0);
    let call = &file.calls[at.1];
    if procedure_method(call).is_some() {
        Some(Value::Procedure(at))
    } else if is_router(file, call) {
        Some(Value::Router(at))
    } else {
        None
    }
}

/// The outermost call starting at (line, column) in a file: the last call
/// of a chain (`p.input(…).mutation(…)`).
fn call_at(file: &FileFacts, (line, column): (u32, u32)) -> Option<usize> {
    file.calls
        .iter()
        .position(|c| c.line == line && c.column == column)
}

/// The call a variable of file `fi` is assigned (`export const chatRouter =
/// createTRPCRouter({…})`), through imports and re-exports.
fn value_of(facts: &ProjectFacts, fi: usize, name: &str, depth: usize) -> Option<CallAt> {
    if depth > DEPTH {
        return None;
    }
    let file = facts.file(fi);
    let head = name.split('.').next().unwrap_or(name);
    if head == name {
        if let Some(a) = file
            .assignments
            .iter()
            .find(|a| a.target == name && a.in_function.is_none())
        {
            let callee = a.value_callee.as_deref()?;
            let ci = file
                .calls
                .iter()
                .position(|c| c.line >= a.line && c.callee == callee)?;
            return Some((fi, ci));
        }
    }
    let import = file.import_of(head)?;
    let target = facts.resolve_import(fi, import)?;
    let wanted = if head == name {
        import.name.as_deref().filter(|n| *n != "default")?
    } else {
        name.rsplit('.').next().unwrap_or(name)
    };
    let defined = facts.definition_file(target, wanted);
    value_of(facts, defined, wanted, depth + 1)
}

/// Is `text` a plain name or dotted path (`chatRouter`, `routers.chat`)?
fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == '.')
}

/// The procedures under router `r`, as (procedure path, procedure call);
/// `children` collects every router held by another.
fn walk(
    facts: &ProjectFacts,
    r: CallAt,
    prefix: &str,
    depth: usize,
    out: &mut Vec<(String, CallAt)>,
    children: &mut HashSet<CallAt>,
) {
    if depth > DEPTH {
        return;
    }
    let file = facts.file(r.0);
    let call = &file.calls[r.1];
    let join = |key: &str| match prefix {
        "" => key.to_string(),
        p => format!("{p}.{key}"),
    };
    let mut visit = |key: Option<&str>, value: Option<Value>, out: &mut Vec<_>| match value {
        Some(Value::Procedure(p)) => {
            if let Some(k) = key {
                out.push((join(k), p));
            }
        }
        Some(Value::Router(child)) if child != r => {
            children.insert(child);
            let inner = key.map(join).unwrap_or_else(|| prefix.to_string());
            walk(facts, child, &inner, depth + 1, out, children);
        }
        _ => {}
    };
    if maker_name(file, &call.callee) == MERGE {
        for a in call.args.iter().filter(|a| is_name(&a.text)) {
            let value = value_of(facts, r.0, &a.text, 0).and_then(|v| classify(facts, v));
            visit(None, value, out);
        }
        return;
    }
    let holder = (call.line, call.column);
    for p in file.property_calls.iter().filter(|p| p.holder == holder) {
        let value = call_at(file, p.value).and_then(|ci| classify(facts, (r.0, ci)));
        visit(Some(&p.key), value, out);
    }
    let Some(object) = call.args.first() else {
        return;
    };
    for (key, text) in object.pairs.iter().filter(|(_, t)| is_name(t)) {
        let value = value_of(facts, r.0, text, 0).and_then(|v| classify(facts, v));
        visit(Some(key), value, out);
    }
}

/// Routers served by an adapter, with the mount path.
fn mounts(facts: &ProjectFacts) -> Vec<(CallAt, String)> {
    let mut out = Vec::new();
    for (fi, file) in facts.files().iter().enumerate() {
        for call in &file.calls {
            let adapter = last(&call.callee);
            if !ADAPTERS.contains(&adapter) {
                continue;
            }
            let pairs = call.args.iter().flat_map(|a| a.pairs.iter());
            let Some((_, router)) = pairs.clone().find(|(k, _)| k == "router") else {
                continue;
            };
            let Some(root) = value_of(facts, fi, router.trim(), 0) else {
                continue;
            };
            if !is_router(facts.file(root.0), facts.call(root)) {
                continue;
            }
            let endpoint = pairs
                .clone()
                .find(|(k, _)| k == "endpoint")
                .and_then(|(_, v)| unquote(v));
            let prefix = endpoint
                .or_else(|| route_folder(&file.path))
                .or_else(|| use_prefix(file, adapter))
                .unwrap_or_else(|| "/".to_string());
            out.push((root, prefix));
        }
    }
    out
}

/// `app/api/trpc/[trpc]/route.ts` and `pages/api/trpc/[trpc].ts` →
/// `/api/trpc`.
fn route_folder(path: &str) -> Option<String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let route = if name.split('.').next() == Some("route") {
        app_route_path(path)
    } else {
        pages_api_path(path)
    }?;
    let (folder, dynamic) = route.rsplit_once('/')?;
    dynamic
        .starts_with('[')
        .then(|| if folder.is_empty() { "/" } else { folder }.to_string())
}

/// `app.use("/trpc", trpcExpress.createExpressMiddleware({…}))` → `/trpc`.
fn use_prefix(file: &FileFacts, adapter: &str) -> Option<String> {
    file.calls.iter().find_map(|c| {
        let (_, "use") = c.callee.rsplit_once('.')? else {
            return None;
        };
        let holds = c.args.get(1)?.text.contains(adapter);
        holds.then(|| unquote(&c.args.first()?.text)).flatten()
    })
}

/// The endpoints of router `root`, mounted at `prefix` (or unmounted).
fn emit(
    facts: &ProjectFacts,
    root: CallAt,
    prefix: Option<&str>,
    seen: &mut HashSet<CallAt>,
    out: &mut Vec<Endpoint>,
) {
    if !seen.insert(root) {
        return;
    }
    let mut procs = Vec::new();
    let mut children = HashSet::new();
    walk(facts, root, "", 0, &mut procs, &mut children);
    seen.extend(children);
    for (path, (fi, ci)) in procs {
        let file = facts.file(fi);
        let call = &file.calls[ci];
        let Some(method) = procedure_method(call) else {
            continue;
        };
        let handler = call
            .args
            .iter()
            .find_map(|a| a.function)
            .map(|function| FnRef { file: fi, function });
        let full = match prefix {
            Some(p) => super::join_paths(p, &path),
            None => path,
        };
        let base = call.callee.split('.').next().unwrap_or("");
        let mut e = Endpoint::new(
            Framework::Trpc,
            method.to_string(),
            full,
            fi,
            call.line,
            handler,
            base,
        );
        // By name, for the config's `extra-limiters`.
        e.middleware = middleware_of(facts, &e)
            .iter()
            .map(|m| name_of(&m.text).to_string())
            .collect();
        out.push(e);
    }
}

/// A `.use(…)` middleware of a procedure.
struct Middleware {
    /// Where `.use` is written.
    file: usize,
    line: u32,
    /// The argument as written.
    text: String,
    /// Its function, when the project has it.
    function: Option<FnRef>,
}

/// The `.use(…)` middleware of an endpoint's procedure: on its own chain,
/// then on the base procedures it is built from, outermost first.
fn middleware_of(facts: &ProjectFacts, e: &Endpoint) -> Vec<Middleware> {
    let mut out = Vec::new();
    let file = facts.file(e.file);
    let Some(h) = e.handler else { return out };
    let Some(ci) = file
        .calls
        .iter()
        .position(|c| c.args.iter().any(|a| a.function == Some(h.function)))
    else {
        return out;
    };
    let mut at = Some((e.file, ci));
    for _ in 0..DEPTH {
        let Some((fi, ci)) = at else { break };
        let file = facts.file(fi);
        let call = &file.calls[ci];
        for c in file
            .calls
            .iter()
            .filter(|c| c.line == call.line && c.column == call.column && last(&c.callee) == "use")
        {
            for a in &c.args {
                let function = match a.function {
                    Some(function) => Some(FnRef { file: fi, function }),
                    None => middleware_function(facts, fi, name_of(&a.text), 0),
                };
                out.push(Middleware {
                    file: fi,
                    line: a.line,
                    text: a.text.clone(),
                    function,
                });
            }
        }
        let base = call.callee.split('.').next().unwrap_or("");
        at = value_of(facts, fi, base, 0).filter(|next| *next != (fi, ci));
    }
    out
}

/// `rateLimit("chat")` → `rateLimit`.
fn name_of(text: &str) -> &str {
    text.split('(').next().unwrap_or(text).trim()
}

/// The function of a middleware named in file `fi`: a function of that
/// name, or the function passed to the call it is assigned
/// (`const isAuthed = t.middleware(async ({ ctx, next }) => …)`), through
/// imports.
fn middleware_function(facts: &ProjectFacts, fi: usize, name: &str, depth: usize) -> Option<FnRef> {
    if depth > DEPTH || !is_name(name) {
        return None;
    }
    let file = facts.file(fi);
    if !name.contains('.') {
        if let Some(function) = file.functions.iter().position(|f| f.name == name) {
            return Some(FnRef { file: fi, function });
        }
    }
    if let Some((vf, vc)) = value_of(facts, fi, name, 0) {
        let call = facts.call((vf, vc));
        if let Some(function) = call.args.iter().find_map(|a| a.function) {
            return Some(FnRef { file: vf, function });
        }
    }
    let head = name.split('.').next().unwrap_or(name);
    let import = file.import_of(head)?;
    let target = facts.resolve_import(fi, import)?;
    let wanted = match (&import.name, head == name) {
        (Some(n), true) if n != "default" => n.clone(),
        _ => name.rsplit('.').next().unwrap_or(name).to_string(),
    };
    let defined = facts.definition_file(target, &wanted);
    middleware_function(facts, defined, &wanted, depth + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_folders() {
        assert_eq!(
            route_folder("src/app/api/trpc/[trpc]/route.ts").as_deref(),
            Some("/api/trpc")
        );
        assert_eq!(
            route_folder("pages/api/trpc/[trpc].ts").as_deref(),
            Some("/api/trpc")
        );
        assert_eq!(route_folder("src/server/index.ts"), None);
    }
}
