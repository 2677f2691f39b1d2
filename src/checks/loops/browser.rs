//! client-effect-loop: browser code that calls one of the project's AI
//! endpoints (by path) from a `useEffect` that re-runs itself — no
//! dependency array, or a dependency the effect sets — or polls one with
//! SWR / React Query faster than once a minute.
//!
//! A request reaches an endpoint through `fetch`/`axios`/… with a path
//! literal, or through an AI SDK UI hook's sender (`append` of `useChat`),
//! in the effect or in a function it calls (same file or imported, two
//! hops). Gap: URLs built in variables are not followed.

use crate::catalog::loops::{number, setting, Setting};
use crate::context::ProjectContext;
use crate::facts::{Call, Effect, FileFacts};
use crate::findings::Finding;
use crate::inventory::Endpoint;

/// How deep a request is followed from the effect through project functions.
const HOPS: usize = 2;

pub(super) fn effects(project: &ProjectContext<'_>, out: &mut Vec<Finding>) {
    let endpoints: Vec<&Endpoint> = project.inventory.ai_endpoints().collect();
    if endpoints.is_empty() {
        return;
    }
    for (fi, file) in project.facts.files().iter().enumerate() {
        if file.lang.is_none_or(|l| l.is_python()) {
            continue;
        }
        for effect in &file.effects {
            let Some(why) = reruns(file, effect) else {
                continue;
            };
            let Some(callback) = effect.callback.or_else(|| named_callback(file, effect)) else {
                continue;
            };
            let Some((e, how)) = request_from(project, &endpoints, fi, callback, HOPS) else {
                continue;
            };
            let message = format!(
                "useEffect {why}, and each run {how} {} (handler {}), which makes an AI call: every answer renders again and calls the model again",
                endpoint_name(e),
                handler_of(project, e)
            );
            let evidence = format!(
                "useEffect in {} → {}",
                super::place(file, effect.in_function),
                e.path
            );
            out.push(super::finding(
                "client-effect-loop",
                &file.path,
                effect.line,
                1,
                message,
                &evidence,
                &project.catalog.loops.fix.effect,
            ));
        }
        for call in &file.calls {
            polling(project, &endpoints, file, call, out);
        }
    }
}

/// Why the effect runs again and again, if it does.
fn reruns(file: &FileFacts, effect: &Effect) -> Option<String> {
    let Some(deps) = &effect.deps else {
        return Some("has no dependency array, so it runs after every render".into());
    };
    for dep in deps {
        let base = crate::lex::dependency_base(dep);
        let setter = effect
            .setters
            .iter()
            .find(|s| setter_of(file, s).as_deref() == Some(base));
        if let Some(s) = setter {
            return Some(format!(
                "depends on `{dep}`, which it changes itself (`{s}`)"
            ));
        }
    }
    None
}

/// `setMessages` → `messages`: from `const [messages, setMessages] =
/// useState(…)`, else by name.
fn setter_of(file: &FileFacts, setter: &str) -> Option<String> {
    for a in &file.assignments {
        let t = a.target.trim();
        if let Some(inner) = t.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
            if parts.len() == 2 && parts[1] == setter {
                return Some(parts[0].to_string());
            }
        }
    }
    crate::lex::state_by_name(setter)
}

/// `useEffect(load, [])`: the same-file function named as the callback.
fn named_callback(file: &FileFacts, effect: &Effect) -> Option<usize> {
    let call = file
        .calls
        .iter()
        .find(|c| c.line == effect.line && c.callee.ends_with("Effect"))?;
    file.function_named(call.args.first()?.text.trim())
}

/// The AI endpoint a function (or one it calls) sends a request to, and how.
fn request_from<'e>(
    project: &ProjectContext<'_>,
    endpoints: &[&'e Endpoint],
    fi: usize,
    function: usize,
    hops: usize,
) -> Option<(&'e Endpoint, String)> {
    let facts = project.facts;
    let file = facts.file(fi);
    let inside = |c: &&Call| c.in_function.is_some_and(|f| file.is_within(f, function));
    for call in file.calls.iter().filter(inside) {
        if let Some(found) = direct_request(project, endpoints, file, call) {
            return Some(found);
        }
    }
    if hops == 0 {
        return None;
    }
    for call in file.calls.iter().filter(inside) {
        let Some(target) = facts.resolve_call(fi, call) else {
            continue;
        };
        if target.file == fi && file.is_within(target.function, function) {
            continue;
        }
        if let Some(found) =
            request_from(project, endpoints, target.file, target.function, hops - 1)
        {
            return Some(found);
        }
    }
    None
}

/// `fetch("/api/chat", …)`, `axios.post("/api/chat")`, or a UI hook's sender.
fn direct_request<'e>(
    project: &ProjectContext<'_>,
    endpoints: &[&'e Endpoint],
    file: &FileFacts,
    call: &Call,
) -> Option<(&'e Endpoint, String)> {
    let spec = &project.catalog.loops.browser;
    if spec.http_calls.contains(&call.callee) {
        let url = unquote(&call.args.first()?.text)?;
        let e = match_endpoint(endpoints, &url)?;
        return Some((e, format!("calls `{}` on", call.callee)));
    }
    let (object, method) = match call.callee.rsplit_once('.') {
        Some((o, m)) => (Some(o), m),
        None => (None, call.callee.as_str()),
    };
    for hook in &spec.ui_hook {
        if !hook.sends.iter().any(|s| s == method) {
            continue;
        }
        // `const { append } = useChat({ api: "/api/ask" })` or `chat.append(…)`.
        let made = file.assignments.iter().find(|a| {
            a.value_callee.as_deref() == Some(hook.hook.as_str())
                && match object {
                    Some(o) => a.target == o,
                    None => a
                        .target
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .any(|n| n == method),
                }
        })?;
        let api = api_option(&made.text).unwrap_or_else(|| hook.default_api.clone());
        let e = match_endpoint(endpoints, &api)?;
        return Some((
            e,
            format!("calls `{method}` of {}, which posts to", hook.hook),
        ));
    }
    None
}

/// `useChat({ api: "/api/ask" })` → `/api/ask`.
fn api_option(text: &str) -> Option<String> {
    let i = text.find("api:")?;
    let rest = text[i + 4..].trim_start();
    let end = rest.find([',', '}', '\n']).unwrap_or(rest.len());
    unquote(&rest[..end])
}

/// SWR / React Query polling of an AI endpoint faster than the catalogue's minimum.
fn polling(
    project: &ProjectContext<'_>,
    endpoints: &[&Endpoint],
    file: &FileFacts,
    call: &Call,
    out: &mut Vec<Finding>,
) {
    let spec = &project.catalog.loops.browser;
    let last = call.callee.rsplit('.').next().unwrap_or(&call.callee);
    if !spec.polling_hooks.iter().any(|h| h == last) {
        return;
    }
    let ms = match setting(call, &spec.interval_keys) {
        Setting::Number(n) if n > 0.0 && n < spec.min_interval_ms => n,
        Setting::Other(v) => match number(&v) {
            Some(n) if n > 0.0 && n < spec.min_interval_ms => n,
            _ => return,
        },
        _ => return,
    };
    let texts = call.args.iter().flat_map(|a| {
        std::iter::once(a.text.as_str()).chain(a.pairs.iter().map(|(_, v)| v.as_str()))
    });
    let Some(e) = texts
        .flat_map(quoted_paths)
        .find_map(|p| match_endpoint(endpoints, &p))
    else {
        return;
    };
    let message = format!(
        "`{}` polls {} (handler {}) every {} ms, an AI call each time, for as long as the page is open",
        call.callee,
        endpoint_name(e),
        handler_of(project, e),
        ms
    );
    let evidence = format!("{} {} every {ms} ms", call.callee, e.path);
    out.push(super::finding(
        "client-effect-loop",
        &file.path,
        call.line,
        call.column,
        message,
        &evidence,
        &project.catalog.loops.fix.polling,
    ));
}

fn endpoint_name(e: &Endpoint) -> String {
    format!("the AI endpoint {} {}", e.method, e.path)
}

fn handler_of(project: &ProjectContext<'_>, e: &Endpoint) -> String {
    let facts = project.facts;
    let name = e
        .handler
        .map(|h| facts.function(h).name.clone())
        .unwrap_or_else(|| "?".into());
    format!("`{name}` at {}:{}", facts.file(e.file).path, e.line)
}

/// `"/api/chat"`, `'/api/chat'`, `` `/api/chat/${id}` `` → the text inside.
fn unquote(text: &str) -> Option<String> {
    let t = text.trim();
    for q in ['"', '\'', '`'] {
        if let Some(inner) = t.strip_prefix(q).and_then(|t| t.strip_suffix(q)) {
            return Some(inner.to_string());
        }
    }
    None
}

/// Every quoted string in `text` that looks like a path or URL.
fn quoted_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for q in ['"', '\'', '`'] {
        let parts: Vec<&str> = text.split(q).collect();
        for inner in parts.iter().skip(1).step_by(2) {
            if inner.starts_with('/') || inner.starts_with("http") || inner.starts_with("${") {
                out.push(inner.to_string());
            }
        }
    }
    out
}

/// The AI endpoint a URL goes to: same path, with dynamic segments
/// (`[id]`, `:id`, `{id}`, `${id}`) matching any one segment.
fn match_endpoint<'e>(endpoints: &[&'e Endpoint], url: &str) -> Option<&'e Endpoint> {
    let path = strip_origin(url);
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty() {
        return None;
    }
    endpoints.iter().copied().find(|e| {
        let want: Vec<&str> = e.path.split('/').filter(|s| !s.is_empty()).collect();
        want.len() == segments.len()
            && want
                .iter()
                .zip(&segments)
                .all(|(w, s)| w == s || is_dynamic(w) || s.starts_with("${"))
    })
}

fn is_dynamic(segment: &str) -> bool {
    segment.starts_with('[') || segment.starts_with(':') || segment.starts_with('{')
}

/// `http://localhost:8000/chat` → `/chat`; `${API_URL}/chat` → `/chat`.
fn strip_origin(url: &str) -> &str {
    if let Some(rest) = url.strip_prefix("${") {
        return rest.find('}').map(|i| &rest[i + 1..]).unwrap_or("");
    }
    for scheme in ["https://", "http://"] {
        if let Some(rest) = url.strip_prefix(scheme) {
            return rest.find('/').map(|i| &rest[i..]).unwrap_or("/");
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert_eq!(strip_origin("http://localhost:8000/chat"), "/chat");
        assert_eq!(strip_origin("${API}/api/chat"), "/api/chat");
        assert_eq!(
            unquote("`/api/chat/${id}`").as_deref(),
            Some("/api/chat/${id}")
        );
        assert_eq!(
            quoted_paths("() => fetch(\"/api/summary\").then(r => r.json())"),
            vec!["/api/summary"]
        );
        assert_eq!(
            api_option("useChat({ api: \"/api/ask\" })").as_deref(),
            Some("/api/ask")
        );
        assert!(is_dynamic("[id]") && is_dynamic(":id") && !is_dynamic("chat"));
    }
}
