//! Rate limiters the project wrote itself: a function that rejects with
//! 429 (`raise HTTPException(429)`, `res.status(429)`, `new Response(…, {
//! status: 429 })`) where requests are counted: it, a function nested in
//! it or around it, or a function it calls makes a counter call on a store
//! (`redis.incr`, `zadd`, `expire`, `count_documents`,
//! `rules/protections.toml` `[rate_limit.project]`), or calls something
//! named for limiting (`is_rate_limited(ip)`). A 429 that only passes on
//! the provider's own rate limit counts nothing and is not a limiter.
//!
//! Such a limiter is rate-limit evidence for an endpoint whose handler is
//! it or reaches it (up to two calls deep), or that names it as a
//! dependency or middleware (read by the framework families).

use std::collections::{HashMap, HashSet};

use super::limits::{parse_windows, Limit};
use crate::catalog::Catalog;
use crate::facts::{Call, Chain, FileFacts, FnRef, ProjectFacts};

/// How many calls deep a handler reaches the project's limiter.
const DEPTH: usize = 2;

/// A project function that counts requests and rejects with 429.
#[derive(Clone, Debug)]
pub struct ProjectLimiter {
    pub function: FnRef,
    /// Its name and the names of the functions it is nested in (a
    /// middleware factory `rateLimit(opts)` returns the closure that
    /// rejects): how routes name it.
    pub names: Vec<String>,
    /// The windows read from its counter calls (`expire(key, 60)`), in
    /// seconds; empty when they cannot be read.
    pub windows: Vec<u64>,
    /// Whether it counts in a store (a counter call) rather than in memory.
    pub shared_store: bool,
    /// The 429 it answers with: (file, line).
    pub reject_at: (usize, u32),
}

/// The project's limiters, and every function that reaches one (with the
/// chain), for handlers.
pub struct Counters {
    pub limiters: Vec<ProjectLimiter>,
    pub reaching: HashMap<FnRef, Chain>,
    by_name: HashMap<String, usize>,
}

impl ProjectLimiter {
    /// Where it answers 429, as a limit's spec.
    pub fn spec(&self, facts: &ProjectFacts) -> String {
        format!(
            "429 at {}:{}",
            facts.file(self.reject_at.0).path,
            self.reject_at.1
        )
    }

    /// As rate-limit evidence, reached by the handler's calls.
    pub fn limit(&self, facts: &ProjectFacts) -> Limit {
        let function = facts.function(self.function);
        let name = self.names.first().unwrap_or(&function.name);
        Limit {
            how: format!("project limiter {name}()"),
            file: self.reject_at.0,
            line: self.reject_at.1,
            spec: self.spec(facts),
            windows: self.windows.clone(),
        }
    }
}

impl Counters {
    /// The limiter a route names (`Depends(rate_limit)`, `rateLimit({…})`,
    /// `limiter.check`), by its last segment.
    pub fn named(&self, text: &str) -> Option<&ProjectLimiter> {
        let name = text.split('(').next().unwrap_or(text).trim();
        let last = name.rsplit('.').next().unwrap_or(name);
        self.by_name.get(last).map(|&i| &self.limiters[i])
    }

    /// The limiter a chain ends in (the function of its last call).
    pub fn of_chain(&self, chain: &Chain) -> Option<&ProjectLimiter> {
        let at = *chain.functions.last()?;
        self.limiters.iter().find(|l| l.function == at)
    }
}

fn last(callee: &str) -> &str {
    let name = callee.split('(').next().unwrap_or(callee);
    name.rsplit('.').next().unwrap_or(name)
}

pub(super) fn collect(facts: &ProjectFacts, catalog: &Catalog) -> Counters {
    let spec = &catalog.rate_limit;
    let project = &spec.project;
    let rejects = |call: &Call| {
        call.in_function.is_some()
            && {
                let name = last(&call.callee);
                catalog.auth.is_reject_call(name)
            }
            && call.args.iter().any(|a| {
                let lower = a.text.to_ascii_lowercase();
                project
                    .reject_words
                    .iter()
                    .any(|w| lower.contains(w.as_str()))
            })
    };
    let limit_named = |name: &str| {
        let lower = name.to_ascii_lowercase();
        spec.hand_written
            .limit_words
            .iter()
            .any(|w| lower.contains(w.as_str()))
    };
    let is_counter = |call: &Call| {
        let name = last(&call.callee);
        project.counter_calls.iter().any(|c| c == name)
    };
    let mut limiters = Vec::new();
    for (fi, file) in facts.files().iter().enumerate() {
        // Not an error handler's 429 (`handleAPIError(error)` passing on
        // the provider's rate limit).
        let rejecting: Vec<&Call> = file
            .calls
            .iter()
            .filter(|c| rejects(c) && !super::auth::in_error_handler(facts, fi, c, &catalog.auth))
            .collect();
        if rejecting.is_empty() {
            continue;
        }
        // Functions of this file with a counter call, and the calls by function.
        let mut calls_in: Vec<Vec<&Call>> = vec![Vec::new(); file.functions.len()];
        for c in &file.calls {
            if let Some(slot) = c.in_function.and_then(|f| calls_in.get_mut(f)) {
                slot.push(c);
            }
        }
        let family = |f: usize| ancestors(file, f).chain(descendants(file, f));
        let mut done: HashSet<usize> = HashSet::new();
        for reject in rejecting {
            let Some(f) = reject.in_function else {
                continue;
            };
            if !done.insert(f) {
                continue;
            }
            let related: Vec<usize> = family(f).collect();
            let counter_calls: Vec<&Call> = related
                .iter()
                .flat_map(|&g| calls_in[g].iter().copied())
                .filter(|c| is_counter(c))
                .collect();
            // A function it calls that counts or is named for limiting.
            // (`ratelimit.limit(key)` of a limiter library is that library's
            // evidence, read in `limits`, not a limiter of the project.)
            let counts_by_name =
                |name: &str| name_words(name).any(|w| project.counter_name_words.contains(&w));
            let callee_counts = calls_in[f].iter().any(|c| {
                counts_by_name(last(&c.callee))
                    || (limit_named(last(&c.callee))
                        && last(&c.callee) != "limit"
                        && !super::limits::is_sdk_call(facts, fi, c, spec))
                    || facts.resolve_call(fi, c).is_some_and(|g| {
                        let callee_file = facts.file(g.file);
                        limit_named(&facts.function(g).name)
                            || callee_file
                                .calls
                                .iter()
                                .any(|x| x.in_function == Some(g.function) && is_counter(x))
                    })
            });
            let named = related
                .iter()
                .any(|&g| limit_named(&file.functions[g].name));
            if counter_calls.is_empty() && !callee_counts && !named {
                continue;
            }
            let names: Vec<String> = ancestors(file, f)
                .map(|g| last(&file.functions[g].name).to_string())
                .filter(|n| !n.is_empty() && !n.starts_with('<'))
                .collect();
            limiters.push(ProjectLimiter {
                function: FnRef {
                    file: fi,
                    function: f,
                },
                names,
                windows: windows(&counter_calls, project),
                shared_store: !counter_calls.is_empty() || callee_counts,
                reject_at: (fi, reject.line),
            });
        }
    }
    let targets: HashSet<(usize, u32)> = limiters.iter().map(|l| l.reject_at).collect();
    let reaching = if limiters.is_empty() {
        HashMap::new()
    } else {
        facts.functions_reaching(
            |fi, _, c| rejects(c) && targets.contains(&(fi, c.line)),
            DEPTH,
        )
    };
    let mut by_name = HashMap::new();
    for (i, l) in limiters.iter().enumerate() {
        for n in &l.names {
            by_name.entry(n.clone()).or_insert(i);
        }
    }
    Counters {
        limiters,
        reaching,
        by_name,
    }
}

/// The words of a name, lower case: `getMessageCountByUserId` → get,
/// message, count, by, user, id; `count_requests` → count, requests (so
/// `getAccount` holds no "count").
fn name_words(name: &str) -> impl Iterator<Item = String> + '_ {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            words.extend((!current.is_empty()).then(|| std::mem::take(&mut current)));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    words.extend((!current.is_empty()).then_some(current));
    words.into_iter()
}

/// `f` and the functions it is nested in, innermost first.
fn ancestors(file: &FileFacts, f: usize) -> impl Iterator<Item = usize> + '_ {
    std::iter::successors(Some(f), move |&g| file.functions[g].parent)
}

/// The functions nested in `f` (one level: a middleware's closure).
fn descendants(file: &FileFacts, f: usize) -> impl Iterator<Item = usize> + '_ {
    file.functions
        .iter()
        .enumerate()
        .filter(move |(_, g)| g.parent == Some(f))
        .map(|(i, _)| i)
}

/// Windows from the counter calls: the seconds of `expire(key, 60)` /
/// `setex(key, 60, v)`, milliseconds of `pexpire`, else what
/// [`parse_windows`] reads in their arguments (`ex=60`, `windowMs: …`).
fn windows(calls: &[&Call], project: &crate::catalog::ProjectLimiterSpec) -> Vec<u64> {
    let mut out = Vec::new();
    for c in calls {
        let name = last(&c.callee);
        if !project.expire_calls.iter().any(|e| e == name) {
            // A limiter made by the framework (`createRateLimit({ max: 5,
            // timeWindow: "1 minute" })`): its options say the window.
            let text: Vec<&str> = c.args.iter().map(|a| a.text.as_str()).collect();
            out.extend(parse_windows(&text.join(",")));
            continue;
        }
        let number = c
            .args
            .iter()
            .skip(1)
            .find_map(|a| a.text.trim().replace('_', "").parse::<u64>().ok());
        match number {
            Some(n) if name.starts_with('p') => out.push(n / 1000),
            Some(n) => out.push(n),
            None => {
                let text: Vec<&str> = c.args.iter().map(|a| a.text.as_str()).collect();
                out.extend(parse_windows(&text.join(",")));
            }
        }
    }
    out.retain(|w| *w > 0);
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::name_words;

    #[test]
    fn names_split_into_words() {
        let words = |n: &str| name_words(n).collect::<Vec<_>>();
        assert_eq!(
            words("getMessageCountByUserId"),
            ["get", "message", "count", "by", "user", "id"]
        );
        assert_eq!(words("count_requests"), ["count", "requests"]);
        assert_eq!(words("getAccount"), ["get", "account"]);
        assert_eq!(words("HTTPCount2"), ["httpcount2"]);
    }
}
