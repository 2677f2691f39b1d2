//! The `nuxt-security` module's rate limiter, configured in `nuxt.config`:
//! on by default once the module is installed (150 requests per 5 minutes
//! per IP, counted in process memory unless a storage driver says
//! otherwise), set with `security: { rateLimiter: { tokensPerInterval,
//! interval } }`, switched off with `rateLimiter: false`, and per route
//! under `routeRules: { "/api/**": { security: { rateLimiter: … } } }`
//! (the most specific matching pattern wins).

use crate::facts::{DictEntry, FileFacts, ProjectFacts};
use crate::inventory::limits::Limiter;
use crate::inventory::{Endpoint, Framework, Limit};

const MODULE: &str = "nuxt-security";
const CONFIG: &str = "defineNuxtConfig";
/// The module's default limit, as its documentation gives it.
const DEFAULT: &str = "{ tokensPerInterval: 150, interval: 300000 } (the module's default)";
const DEFAULT_WINDOW: u64 = 300;

/// A `nuxt.config` that installs `nuxt-security`.
struct Config<'f> {
    index: usize,
    file: &'f FileFacts,
    /// The app folder (`web/`), empty at the root.
    root: String,
}

fn configs(facts: &ProjectFacts) -> Vec<Config<'_>> {
    let mut out = Vec::new();
    for (index, file) in facts.files().iter().enumerate() {
        let (dir, name) = file.path.rsplit_once('/').unwrap_or(("", &file.path));
        if !name.starts_with("nuxt.config.") {
            continue;
        }
        let installed = file
            .dict_entries
            .iter()
            .any(|d| d.path == CONFIG && d.key == "modules" && d.value.contains(MODULE));
        if installed {
            let root = if dir.is_empty() {
                String::new()
            } else {
                format!("{dir}/")
            };
            out.push(Config { index, file, root });
        }
    }
    out
}

/// The `rateLimiter` entry under `path` (`defineNuxtConfig.security`).
fn rate_limiter<'f>(file: &'f FileFacts, path: &str) -> Option<&'f DictEntry> {
    file.dict_entries
        .iter()
        .find(|d| d.path == path && d.key == "rateLimiter")
}

/// Does a Nitro route rule pattern (`/api/**`, `/api/chat`, `/api/*/x`)
/// match `path`? With its specificity (longer is more specific).
fn rule_matches(pattern: &str, path: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix("/**") {
        return path == prefix || path.starts_with(&format!("{prefix}/"));
    }
    let p: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let q: Vec<&str> = path.trim_matches('/').split('/').collect();
    p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| *a == "*" || a == b)
}

/// The limit `rateLimiter`'s value sets, or `None` when it is `false`.
fn limit_of(
    config: &Config<'_>,
    entry: Option<&DictEntry>,
    route_rule: Option<&str>,
) -> Option<Limit> {
    let (spec, line) = match entry {
        Some(e) if e.value.trim() == "false" => return None,
        Some(e) => (e.value.clone(), e.line),
        None => (DEFAULT.to_string(), 1),
    };
    let windows = interval_seconds(&spec).map_or_else(
        || {
            if entry.is_none() {
                vec![DEFAULT_WINDOW]
            } else {
                Vec::new()
            }
        },
        |s| vec![s],
    );
    let at = match route_rule {
        Some(pattern) => format!("routeRules[\"{pattern}\"].security.rateLimiter"),
        None => "security.rateLimiter".into(),
    };
    Some(Limit {
        how: format!("{MODULE} {at} in {}", config.file.path),
        file: config.index,
        line,
        spec,
        windows,
    })
}

/// `interval: 60000` / `interval: 60 * 1000` (milliseconds) in seconds.
fn interval_seconds(spec: &str) -> Option<u64> {
    let at = spec.find("interval")?;
    let value = spec[at + "interval".len()..]
        .trim_start()
        .strip_prefix(':')?;
    let value = value.split([',', '}']).next()?;
    let ms: u64 = value
        .split('*')
        .map(|p| p.trim().replace('_', "").parse::<u64>().ok())
        .product::<Option<u64>>()?;
    Some(ms / 1000)
}

/// The rate limit of each Nuxt endpoint under a `nuxt.config` that
/// installs `nuxt-security`.
pub(super) fn limits(facts: &ProjectFacts, endpoints: &mut [&mut Endpoint]) {
    for config in configs(facts) {
        let global = rate_limiter(config.file, &format!("{CONFIG}.security"));
        let rules_path = format!("{CONFIG}.routeRules.");
        for e in endpoints.iter_mut() {
            if e.framework != Framework::Nuxt || !facts.file(e.file).path.starts_with(&config.root)
            {
                continue;
            }
            // The most specific route rule that sets a rate limiter.
            let rule = config
                .file
                .dict_entries
                .iter()
                .filter(|d| d.key == "rateLimiter")
                .filter_map(|d| {
                    let pattern = d
                        .path
                        .strip_prefix(&rules_path)?
                        .strip_suffix(".security")?;
                    rule_matches(pattern, &e.path).then_some((pattern, d))
                })
                .max_by_key(|(pattern, _)| pattern.len());
            let limit = match rule {
                Some((pattern, d)) => limit_of(&config, Some(d), Some(pattern)),
                None => limit_of(&config, global, None),
            };
            e.limits.extend(limit);
        }
    }
}

/// The module's limiter, for the store check: process memory (its
/// default `lruCache` driver) unless a shared storage driver is named.
pub(super) fn limiters(facts: &ProjectFacts, out: &mut Vec<Limiter>) {
    for config in configs(facts) {
        let global = rate_limiter(config.file, &format!("{CONFIG}.security"));
        if global.is_some_and(|g| g.value.trim() == "false") {
            continue;
        }
        let driver = format!("{CONFIG}.security.rateLimiter");
        let shared = config
            .file
            .dict_entries
            .iter()
            .filter(|d| d.path.starts_with(&driver))
            .chain(global)
            .any(|d| {
                let v = d.value.to_lowercase();
                [
                    "redis",
                    "upstash",
                    "kv",
                    "mongodb",
                    "memcached",
                    "planetscale",
                ]
                .iter()
                .any(|w| v.contains(w))
            });
        out.push(Limiter {
            kind: format!("{MODULE} rateLimiter"),
            file: config.index,
            line: global.map_or(1, |g| g.line),
            column: 1,
            shared_store: shared,
            variable: "security.rateLimiter".into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_rules_and_intervals() {
        assert!(rule_matches("/api/**", "/api/chat"));
        assert!(rule_matches("/api/chat", "/api/chat"));
        assert!(!rule_matches("/api/chat", "/api/chats/[id]"));
        assert!(rule_matches("/api/*/x", "/api/a/x"));
        assert_eq!(
            interval_seconds("{ tokensPerInterval: 5, interval: 60000 }"),
            Some(60)
        );
        assert_eq!(
            interval_seconds("{ interval: 24 * 60 * 60 * 1000 }"),
            Some(86_400)
        );
        assert_eq!(interval_seconds("{ tokensPerInterval: 5 }"), None);
    }
}
