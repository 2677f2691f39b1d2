//! Cloudflare Workers (issue 17 item 5): a module worker's `fetch` handler
//! (`export default { async fetch(request, env, ctx) {…} }`, also with
//! `satisfies ExportedHandler<Env>`, or any top-level `fetch` method of the
//! file `main` of `wrangler.toml` / `wrangler.json(c)` names) is one
//! endpoint, `ANY /`; a service worker's `addEventListener("fetch", …)`
//! too. Routers on Workers (Hono, itty-router) declare their own routes
//! (`node.rs`): a file that makes one is not a bare `fetch` endpoint.
//!
//! Workers AI (`env.AI.run("@cf/…")`) and AI Gateway URLs are AI calls
//! (`rules/sdks.toml`). Rate limits: the Workers rate-limiting binding,
//! declared in the wrangler configuration (`[[ratelimits]]` or
//! `[[unsafe.bindings]] type = "ratelimit"`, with `simple = { limit,
//! period }`) and called on the request path (`env.LIMITER.limit({ key })`)
//! under any framework. Auth is what the handler checks (generic).
//! Gaps: routing by `url.pathname` inside one `fetch` is one endpoint;
//! Cloudflare Access and WAF rules live outside the repository.

use std::collections::HashMap;

use super::functions::{config_dir, config_value};
use super::{collect_apps, unquote, Family, Framework};
use crate::facts::{ConfigFile, FileFacts, FnRef, ProjectFacts};
use crate::inventory::limits::parse_windows;
use crate::inventory::{Endpoint, Limit};

pub struct Workers;

const FRAMEWORKS: &[Framework] = &[Framework::Workers];

impl Family for Workers {
    fn frameworks(&self) -> &'static [Framework] {
        FRAMEWORKS
    }

    fn config_sources(&self, config: &ConfigFile) -> Vec<String> {
        main_of(config).into_iter().collect()
    }

    fn project_endpoints(&self, facts: &ProjectFacts, out: &mut Vec<Endpoint>) {
        let mains: Vec<String> = facts.configs().iter().filter_map(main_of).collect();
        for (index, file) in facts.files().iter().enumerate() {
            if file.lang.is_none_or(|l| l.is_python()) || !collect_apps(file).is_empty() {
                continue;
            }
            let is_main = mains.iter().any(|m| is_named(&file.path, m));
            if let Some((function, line)) = fetch_handler(file, is_main) {
                out.push(Endpoint::new(
                    Framework::Workers,
                    "ANY".into(),
                    "/".into(),
                    index,
                    line,
                    Some(FnRef {
                        file: index,
                        function,
                    }),
                    "",
                ));
            }
        }
    }

    fn platform_limits(&self, facts: &ProjectFacts, endpoints: &mut [Endpoint]) {
        let bindings: Vec<Binding> = facts
            .configs()
            .iter()
            .flat_map(rate_limit_bindings)
            .collect();
        if bindings.is_empty() {
            return;
        }
        let binding_of = |callee: &str| {
            let object = callee.strip_suffix(".limit")?;
            let name = object.rsplit('.').next()?;
            bindings.iter().find(|b| b.name == name)
        };
        let reaching = facts.functions_reaching(
            |_, _, c| binding_of(&c.callee).is_some(),
            crate::inventory::MAX_DEPTH,
        );
        for e in endpoints.iter_mut() {
            let Some(chain) = e.handler.and_then(|h| reaching.get(&h)) else {
                continue;
            };
            let call = facts.call(chain.call);
            let Some(b) = binding_of(&call.callee) else {
                continue;
            };
            e.limits.push(Limit {
                how: format!(
                    "{}() (Workers rate limiting binding {}, {})",
                    call.callee, b.name, b.config
                ),
                file: chain.call.0,
                line: call.line,
                windows: parse_windows(&b.spec),
                spec: b.spec.clone(),
            });
        }
    }
}

/// Is `path` the file `main` names (`src/index` names `src/index.ts`)?
fn is_named(path: &str, main: &str) -> bool {
    path == main || path.rsplit_once('.').is_some_and(|(stem, _)| stem == main)
}

/// The worker's entry module: `main` of a wrangler configuration, from
/// the audited root.
fn main_of(config: &ConfigFile) -> Option<String> {
    if !is_wrangler(&config.path) {
        return None;
    }
    let value = config_value(config)?;
    let main = value.get("main")?.as_str()?;
    let main = main.trim_start_matches("./");
    Some(match config_dir(&config.path) {
        "" => main.to_string(),
        dir => format!("{dir}/{main}"),
    })
}

fn is_wrangler(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(name, "wrangler.toml" | "wrangler.json" | "wrangler.jsonc")
}

/// The handler of a worker file: the `fetch` method or property of the
/// default-exported object (`default.fetch`); in the entry module, also a
/// top-level `fetch` method of another object (`const worker = { fetch
/// … }; export default worker`) or the function given to
/// `addEventListener("fetch", …)` (service-worker syntax, which browser
/// service workers share: only in the entry module); with its line.
fn fetch_handler(file: &FileFacts, is_main: bool) -> Option<(usize, u32)> {
    let method = file.functions.iter().position(|f| {
        let named = f.name == "default.fetch" || is_main && f.name == "fetch";
        named && f.parent.is_none() && !f.params.is_empty()
    });
    if let Some(f) = method {
        return Some((f, file.functions[f].line));
    }
    if !is_main {
        return None;
    }
    file.calls
        .iter()
        .filter(|c| c.in_function.is_none() && c.callee.ends_with("addEventListener"))
        .filter(|c| c.args.first().and_then(|a| unquote(&a.text)).as_deref() == Some("fetch"))
        .find_map(|c| {
            let a = c.args.get(1)?;
            let f = a.function.or_else(|| file.function_named(a.text.trim()))?;
            Some((f, c.line))
        })
}

/// A Workers rate-limiting binding of a wrangler configuration.
struct Binding {
    name: String,
    /// `limit = 100, period = 60`.
    spec: String,
    /// The configuration's path.
    config: String,
}

/// `[[ratelimits]]` and `[[unsafe.bindings]] type = "ratelimit"`, at the
/// top level and under each `[env.<name>]`.
fn rate_limit_bindings(config: &ConfigFile) -> Vec<Binding> {
    if !is_wrangler(&config.path) {
        return Vec::new();
    }
    let Some(value) = config_value(config) else {
        return Vec::new();
    };
    let mut scopes = vec![&value];
    if let Some(envs) = value.get("env").and_then(|e| e.as_object()) {
        scopes.extend(envs.values());
    }
    let mut out: HashMap<String, Binding> = HashMap::new();
    for scope in scopes {
        let listed = scope.get("ratelimits").and_then(|r| r.as_array());
        let unsafe_bindings = scope
            .pointer("/unsafe/bindings")
            .and_then(|b| b.as_array())
            .map(|bs| {
                bs.iter()
                    .filter(|b| b.get("type").and_then(|t| t.as_str()) == Some("ratelimit"))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        for b in listed.into_iter().flatten().chain(unsafe_bindings) {
            let Some(name) = b.get("name").and_then(|n| n.as_str()) else {
                continue;
            };
            let simple = b.get("simple");
            let number = |key: &str| simple.and_then(|s| s.get(key)).and_then(|v| v.as_u64());
            let spec = match (number("limit"), number("period")) {
                (Some(limit), Some(period)) => format!("{limit}/{period} seconds"),
                _ => String::new(),
            };
            out.entry(name.to_string()).or_insert(Binding {
                name: name.to_string(),
                spec,
                config: config.path.clone(),
            });
        }
    }
    let mut bindings: Vec<Binding> = out.into_values().collect();
    bindings.sort_by(|a, b| a.name.cmp(&b.name));
    bindings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(path: &str, text: &str) -> ConfigFile {
        ConfigFile {
            path: path.into(),
            text: text.into(),
        }
    }

    #[test]
    fn wrangler_main_and_rate_limit_bindings() {
        let toml = config(
            "worker/wrangler.toml",
            "name = \"chat\"\nmain = \"./src/index.ts\"\n\n[[ratelimits]]\nname = \"CHAT_LIMITER\"\nnamespace_id = \"1001\"\nsimple = { limit = 10, period = 60 }\n\n[[env.production.unsafe.bindings]]\nname = \"PROD_LIMITER\"\ntype = \"ratelimit\"\nnamespace_id = \"1002\"\nsimple = { limit = 100, period = 10 }\n",
        );
        assert_eq!(main_of(&toml).as_deref(), Some("worker/src/index.ts"));
        let found: Vec<(String, String)> = rate_limit_bindings(&toml)
            .into_iter()
            .map(|b| (b.name, b.spec))
            .collect();
        assert_eq!(
            found,
            [
                ("CHAT_LIMITER".into(), "10/60 seconds".into()),
                ("PROD_LIMITER".into(), "100/10 seconds".into())
            ]
        );
        assert_eq!(parse_windows("10/60 seconds"), vec![60]);
        let jsonc = config(
            "wrangler.jsonc",
            "{\n  // entry\n  \"main\": \"src/worker.js\",\n  \"unsafe\": { \"bindings\": [{ \"name\": \"RL\", \"type\": \"ratelimit\", \"simple\": { \"limit\": 5, \"period\": 60 } },] },\n}\n",
        );
        assert_eq!(main_of(&jsonc).as_deref(), Some("src/worker.js"));
        assert_eq!(rate_limit_bindings(&jsonc).len(), 1);
        // A broken file is skipped quietly.
        assert_eq!(main_of(&config("wrangler.toml", "main = [")), None);
        assert!(rate_limit_bindings(&config("wrangler.toml", "[[ratelimits]")).is_empty());
    }
}
