//! Endpoints: FastAPI and Flask decorators (with `include_router` /
//! `register_blueprint` prefixes), Next.js route handlers, `pages/api`,
//! server actions, and Express / Hono / Fastify route calls (with
//! `app.use(prefix, router)` / `app.route(prefix, sub)` prefixes).

use std::collections::HashMap;

use super::{Endpoint, Framework};
use crate::facts::{Arg, Call, FileFacts, FnRef, ProjectFacts};

const HTTP_METHODS: [&str; 8] = [
    "get", "post", "put", "patch", "delete", "options", "head", "all",
];

/// App and router objects of a file: variable → framework.
pub(super) fn collect_apps(file: &FileFacts) -> HashMap<String, Framework> {
    let mut apps = HashMap::new();
    for a in &file.assignments {
        let Some(callee) = &a.value_callee else {
            continue;
        };
        let resolved = resolve_alias(file, callee);
        let last = resolved.rsplit('.').next().unwrap_or(&resolved);
        let framework = match (last, module_of(file, callee).as_deref()) {
            ("FastAPI" | "APIRouter", _) => Framework::FastApi,
            ("Flask" | "Blueprint", _) => Framework::Flask,
            ("Hono" | "OpenAPIHono", _) => Framework::Hono,
            ("Router", Some("express")) | ("express", _) => Framework::Express,
            ("Fastify" | "fastify", _) => Framework::Fastify,
            ("Router", _) if resolved == "express.Router" => Framework::Express,
            _ => continue,
        };
        apps.insert(a.target.clone(), framework);
    }
    apps
}

fn module_of(file: &FileFacts, callee: &str) -> Option<String> {
    let head = callee.split('.').next()?;
    file.import_of(head).map(|i| i.module.clone())
}

/// `Router` imported as `{ Router } from "express"` → `express.Router`;
/// `APIRouter as R` → `APIRouter`.
fn resolve_alias(file: &FileFacts, callee: &str) -> String {
    let head = callee.split('.').next().unwrap_or(callee);
    match file.import_of(head) {
        Some(i) => match &i.name {
            Some(name) if name != "default" && callee == head => {
                if i.module == "express" {
                    format!("express.{name}")
                } else {
                    name.clone()
                }
            }
            _ => callee.to_string(),
        },
        None => callee.to_string(),
    }
}

pub(super) fn unquote(text: &str) -> Option<String> {
    let t = text.trim().trim_start_matches(['r', 'f', 'b']);
    let q = t.chars().next()?;
    (matches!(q, '"' | '\'' | '`') && t.len() >= 2 && t.ends_with(q))
        .then(|| t[1..t.len() - 1].to_string())
}

fn kwarg<'c>(call: &'c Call, name: &str) -> Option<&'c Arg> {
    call.args
        .iter()
        .find(|a| a.keyword.as_deref() == Some(name))
}

/// Python: decorated functions on app/router objects.
pub(super) fn python_endpoints(index: usize, file: &FileFacts, out: &mut Vec<Endpoint>) {
    let apps = collect_apps(file);
    for (fi, function) in file.functions.iter().enumerate() {
        for d in &function.decorators {
            let Some((object, method)) = d.callee.rsplit_once('.') else {
                continue;
            };
            let Some(&framework) = apps.get(object) else {
                continue;
            };
            if !matches!(method, "route" | "api_route" | "websocket")
                && !HTTP_METHODS.contains(&method)
            {
                continue;
            }
            let path = d
                .args
                .first()
                .and_then(|a| unquote(&a.text))
                .unwrap_or_default();
            let methods = match method {
                "route" | "api_route" => kwarg(d, "methods")
                    .map(|m| {
                        m.text
                            .trim_matches(['[', ']', '(', ')'])
                            .replace(['"', '\''], "")
                    })
                    .unwrap_or_else(|| "GET".into()),
                m => m.to_uppercase(),
            };
            out.push(Endpoint::new(
                framework,
                methods,
                path,
                index,
                d.line,
                Some(FnRef {
                    file: index,
                    function: fi,
                }),
                object,
            ));
        }
    }
}

/// JS/TS: `app.post("/x", mw, handler)` on express/Hono/Fastify objects.
pub(super) fn js_endpoints(index: usize, file: &FileFacts, out: &mut Vec<Endpoint>) {
    let apps = collect_apps(file);
    for call in &file.calls {
        let Some((object, method)) = call.callee.rsplit_once('.') else {
            continue;
        };
        let Some(&framework) = apps.get(object) else {
            continue;
        };
        if !HTTP_METHODS.contains(&method) {
            continue;
        }
        let Some(path) = call.args.first().and_then(|a| unquote(&a.text)) else {
            continue;
        };
        let handler = call.args.last().and_then(|a| {
            a.function
                .or_else(|| file.function_named(&a.text))
                .map(|function| FnRef {
                    file: index,
                    function,
                })
        });
        let mut e = Endpoint::new(
            framework,
            method.to_uppercase(),
            path,
            index,
            call.line,
            handler,
            object,
        );
        // Between the path and the handler; none with one argument
        // (`app.get("env")` reads an Express setting: it panicked here).
        e.middleware = call
            .args
            .get(1..call.args.len().saturating_sub(1))
            .unwrap_or_default()
            .iter()
            .map(|a| a.text.clone())
            .collect();
        out.push(e);
    }
}

/// Next.js route handlers, `pages/api`, and server actions: found by file
/// path and exports.
pub(super) fn next_endpoints(index: usize, file: &FileFacts, out: &mut Vec<Endpoint>) {
    let path = file.path.as_str();
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    let exported = |(_, f): &(usize, &crate::facts::Function)| f.exported && f.parent.is_none();
    if stem == "route" {
        if let Some(route) = app_route_path(path) {
            for (fi, f) in file.functions.iter().enumerate().filter(exported) {
                if ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&f.name.as_str()) {
                    let handler = Some(FnRef {
                        file: index,
                        function: fi,
                    });
                    out.push(Endpoint::new(
                        Framework::NextApp,
                        f.name.clone(),
                        route.clone(),
                        index,
                        f.line,
                        handler,
                        "",
                    ));
                }
            }
        }
    } else if let Some(api) = pages_api_path(path) {
        let handler = file
            .functions
            .iter()
            .position(|f| f.exported && f.parent.is_none());
        if let Some(fi) = handler {
            let f = &file.functions[fi];
            out.push(Endpoint::new(
                Framework::NextPages,
                "ANY".into(),
                api,
                index,
                f.line,
                Some(FnRef {
                    file: index,
                    function: fi,
                }),
                "",
            ));
        }
    } else if file.has_directive("use server") {
        for (fi, f) in file
            .functions
            .iter()
            .enumerate()
            .filter(exported)
            .filter(|(_, f)| f.is_async)
        {
            let handler = Some(FnRef {
                file: index,
                function: fi,
            });
            out.push(Endpoint::new(
                Framework::ServerAction,
                "ACTION".into(),
                f.name.clone(),
                index,
                f.line,
                handler,
                "",
            ));
        }
    }
}

/// `src/app/(chat)/api/chat/route.ts` → `/api/chat`.
fn app_route_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let app = parts.iter().rposition(|p| *p == "app")?;
    let segments: Vec<&str> = parts[app + 1..parts.len() - 1]
        .iter()
        .copied()
        .filter(|s| !(s.starts_with('@') || s.starts_with('(') && s.ends_with(')')))
        .collect();
    Some(format!("/{}", segments.join("/")))
}

/// `pages/api/chat/[id].ts` → `/api/chat/[id]`.
fn pages_api_path(path: &str) -> Option<String> {
    let at = path.find("pages/api/")?;
    if at > 0 && !path[..at].ends_with('/') {
        return None;
    }
    let rest = &path[at + "pages/api/".len()..];
    let stem = rest.rsplit_once('.').map(|(s, _)| s).unwrap_or(rest);
    let stem = stem.strip_suffix("/index").unwrap_or(stem);
    Some(if stem == "index" {
        "/api".to_string()
    } else {
        format!("/api/{stem}")
    })
}

/// Prefixes from `include_router(r, prefix=…)`, `register_blueprint(bp,
/// url_prefix=…)`, `app.use("/p", router)`, `app.route("/p", sub)`, and
/// router constructors (`APIRouter(prefix=…)`), as
/// (file holding the router, router variable) → prefix.
pub(super) fn collect_prefixes(facts: &ProjectFacts) -> HashMap<(usize, String), String> {
    let mut prefixes = HashMap::new();
    for (fi, file) in facts.files().iter().enumerate() {
        for a in &file.assignments {
            if let Some(p) = constructor_prefix(&a.text) {
                prefixes.insert((fi, a.target.clone()), p);
            }
        }
    }
    for (fi, file) in facts.files().iter().enumerate() {
        for call in &file.calls {
            let last = call.callee.rsplit('.').next().unwrap_or("");
            let (router_arg, prefix) = match last {
                "include_router" => (
                    call.args.first(),
                    kwarg(call, "prefix").and_then(|a| unquote(&a.text)),
                ),
                "register_blueprint" => (
                    call.args.first(),
                    kwarg(call, "url_prefix").and_then(|a| unquote(&a.text)),
                ),
                "use" | "route" | "register" if call.args.len() >= 2 => (
                    call.args.get(1),
                    call.args.first().and_then(|a| unquote(&a.text)),
                ),
                _ => continue,
            };
            let (Some(router), Some(prefix)) = (router_arg, prefix) else {
                continue;
            };
            let text = router.text.as_str();
            let head = text.split('.').next().unwrap_or(text);
            let target = match file.import_of(head) {
                Some(import) => match facts.resolve_import(fi, import) {
                    Some(t) => {
                        let var = if text.contains('.') {
                            text.rsplit('.').next().unwrap_or(text).to_string()
                        } else {
                            import
                                .name
                                .clone()
                                .filter(|n| n != "default")
                                .unwrap_or_else(|| "default".into())
                        };
                        // `export * from "./chat"` in routes/index.ts.
                        (facts.definition_file(t, &var), var)
                    }
                    None => continue,
                },
                None => (fi, text.to_string()),
            };
            let inner = prefixes.get(&target).cloned().unwrap_or_default();
            prefixes.insert(target, join_paths(&prefix, &inner));
        }
    }
    prefixes
}

fn constructor_prefix(text: &str) -> Option<String> {
    let at = text.find("prefix=").or_else(|| text.find("url_prefix="))?;
    let rest = &text[at..];
    let start = rest.find(['"', '\''])?;
    let q = rest.as_bytes()[start] as char;
    let end = rest[start + 1..].find(q)?;
    Some(rest[start + 1..start + 1 + end].to_string())
}

pub(super) fn join_paths(prefix: &str, path: &str) -> String {
    let joined = format!(
        "{}/{}",
        prefix.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    let joined = if joined.len() > 1 {
        joined.trim_end_matches('/').to_string()
    } else {
        joined
    };
    if joined.starts_with('/') {
        joined
    } else {
        format!("/{joined}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths() {
        assert_eq!(
            app_route_path("src/app/(chat)/api/chat/route.ts").as_deref(),
            Some("/api/chat")
        );
        assert_eq!(app_route_path("app/route.ts").as_deref(), Some("/"));
        assert_eq!(
            pages_api_path("pages/api/chat/[id].ts").as_deref(),
            Some("/api/chat/[id]")
        );
        assert_eq!(
            pages_api_path("web/src/pages/api/index.js").as_deref(),
            Some("/api")
        );
        assert_eq!(pages_api_path("mypages/api/x.ts"), None);
        assert_eq!(join_paths("/api/", "/chat"), "/api/chat");
        assert_eq!(join_paths("", "/"), "/");
    }
}
