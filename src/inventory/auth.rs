//! Authentication evidence per endpoint, the generic part: project
//! functions that reject with 401/403 (auth helpers, also two calls deep),
//! session reads in the handler followed by an early exit before the AI
//! call, self-checking calls (`auth.protect()`). What each framework
//! declares around its routes (dependencies, decorators, middleware, hooks)
//! is read by its family in `frameworks/`. Anonymous sign-ins are recorded
//! as such: they are not auth.

use std::collections::HashSet;

use serde::Serialize;

use super::Endpoint;
use crate::catalog::{AuthSpec, Catalog, RateLimitSpec};
use crate::facts::{Call, ProjectFacts};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthKind {
    /// Enforced: the request is rejected without a user.
    Enforced,
    /// The session is read but nothing rejects a request without one.
    Unchecked,
    /// The check happens after the AI call has been made.
    AfterAiCall,
    /// Only an anonymous session is created.
    Anonymous,
    /// A check that lets any user of the app through: a platform gate
    /// that accepts a public key (Supabase `verify_jwt`), an app
    /// attestation (Firebase App Check). Not auth.
    NotUser,
}

#[derive(Clone, Debug, Serialize)]
pub struct AuthEvidence {
    pub kind: AuthKind,
    pub how: String,
    pub line: u32,
}

pub(super) fn last(name: &str) -> &str {
    let name = name.trim_end_matches("()");
    name.rsplit('.').next().unwrap_or(name)
}

pub(super) fn named(list: &[String], name: &str) -> bool {
    let short = last(name);
    list.iter().any(|n| n == short || n == name)
}

/// Project functions that reject with 401/403 (`raise HTTPException(401)`,
/// `abort(403)`, `return Response(…, status=401)`, `res.status(401)`), by
/// name; also those that call one (a helper two calls deep:
/// `get_current_user → verify_token → raise`), and factories whose inner
/// function rejects (`Depends(require_permission("chat"))`).
pub(super) fn collect_rejecting_functions(
    facts: &ProjectFacts,
    spec: &AuthSpec,
    limiters: &RateLimitSpec,
) -> HashSet<String> {
    let rejecting = facts.functions_reaching(
        |fi, _, call| {
            (rejects(call, spec) && !in_error_handler(facts, fi, call, spec))
                || throws_without_user(facts, fi, call, spec)
        },
        REJECT_DEPTH,
    );
    let mut out = HashSet::new();
    for (f, chain) in &rejecting {
        if chain.functions.len() == 1 && denies_for_a_limiter(facts, *f, spec, limiters) {
            continue;
        }
        let mut function = facts.function(*f);
        out.insert(last(&function.name).to_string());
        while let Some(parent) = function.parent {
            function = &facts.file(f.file).functions[parent];
            out.insert(last(&function.name).to_string());
        }
    }
    out
}

/// A function that checks a limiter SDK and reads no session: its 403 is
/// the SDK's denial (Arcjet's bot or shield rule), not a missing user.
fn denies_for_a_limiter(
    facts: &ProjectFacts,
    f: crate::facts::FnRef,
    spec: &AuthSpec,
    limiters: &RateLimitSpec,
) -> bool {
    let calls = || {
        facts
            .file(f.file)
            .calls
            .iter()
            .filter(move |c| c.in_function == Some(f.function))
    };
    calls().any(|c| super::limits::sdk_call(facts, f.file, c, limiters).is_some())
        && !calls().any(|c| {
            named(&spec.session_calls, &c.callee)
                || (named(&spec.self_checking_calls, &c.callee)
                    && super::limits::sdk_call(facts, f.file, c, limiters).is_none())
        })
}

/// Is `call` made in a function that handles an error it is given
/// (`handleAPIError(error, …)`, `def on_error(exc)`)? Its 403 passes on the
/// provider's refusal of the API key; it checks no user.
pub(super) fn in_error_handler(
    facts: &ProjectFacts,
    fi: usize,
    call: &Call,
    spec: &AuthSpec,
) -> bool {
    let Some(f) = call.in_function else {
        return false;
    };
    let first = facts.file(fi).functions[f].params.first().map(|p| {
        p.split([':', '='])
            .next()
            .unwrap_or(p)
            .trim()
            .trim_end_matches('?')
    });
    first.is_some_and(|p| spec.error_params.iter().any(|e| e == p))
}

/// A session read whose user the same function checks right after,
/// throwing (or answering 401/403, or redirecting) when there is none:
/// `const user = (await supabase.auth.getUser()).data.user; if (!user)
/// throw new Error("User not found")`. Not a helper that returns `null`
/// for the caller to decide. Also a request header read for a credential
/// (`const token = request.header("x-device-token"); if (!token) return
/// response.status(400)…`): a missing credential is often a 400.
fn throws_without_user(facts: &ProjectFacts, fi: usize, call: &Call, spec: &AuthSpec) -> bool {
    let Some(f) = call.in_function else {
        return false;
    };
    let credential = reads_credential(call, spec);
    if !credential && !named(&spec.session_calls, &call.callee) {
        return false;
    }
    let file = facts.file(fi);
    let bound: Vec<&str> = file
        .assignments
        .iter()
        .filter(|a| a.in_function == Some(f) && a.line == call.line)
        .flat_map(|a| {
            a.target
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                .filter(|n| !n.is_empty())
        })
        .collect();
    file.guards.iter().any(|g| {
        let about_user = denies_user(&g.condition, &spec.user_state)
            || bound.iter().any(|n| tests_missing(&g.condition, n));
        let rejects = ["throw ", "raise ", "redirect("]
            .iter()
            .any(|w| g.body.contains(w))
            || spec
                .reject_words
                .iter()
                .chain(
                    credential
                        .then_some(&spec.missing_credential_words)
                        .into_iter()
                        .flatten(),
                )
                .any(|w| g.body.contains(w.as_str()));
        g.function == Some(f) && g.line > call.line && about_user && rejects
    })
}

/// Does `call` read a credential from the request's headers
/// (`request.header("x-anythingllm-mobile-device-token")`,
/// `request.headers.get("Authorization")`)? By `rules/protections.toml`
/// `[auth]` `credential_reads`, `credential_sources` and `credential_words`.
fn reads_credential(call: &Call, spec: &AuthSpec) -> bool {
    let callee = call.callee.to_ascii_lowercase();
    let reads_header = spec
        .credential_reads
        .iter()
        .any(|r| callee.ends_with(&r.to_ascii_lowercase()))
        && spec
            .credential_sources
            .iter()
            .any(|w| callee.contains(w.as_str()));
    reads_header
        && call.args.first().is_some_and(|a| {
            let text = a.text.to_ascii_lowercase();
            spec.credential_words
                .iter()
                .any(|w| text.contains(w.as_str()))
                && !spec
                    .not_credential_words
                    .iter()
                    .any(|w| text.contains(w.as_str()))
        })
}

/// Does `condition` hold when `name` has no value (`!user`, `not user`,
/// `user is None`, `!user?.id`)?
fn tests_missing(condition: &str, name: &str) -> bool {
    let after = |prefix: &str| {
        condition.match_indices(prefix).any(|(i, m)| {
            let rest = &condition[i + m.len()..];
            rest.strip_prefix(name).is_some_and(|r| {
                !r.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$')
            })
        })
    };
    after("!") || after("not ") || {
        let named = condition
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .any(|w| w == name);
        named && NULL_TESTS.iter().any(|t| condition.contains(t))
    }
}

/// How many calls deep a rejection makes its callers auth helpers.
const REJECT_DEPTH: usize = 2;

/// A call that answers 401/403 (`rules/protections.toml` `reject_calls`
/// with one of `reject_words` in its arguments).
fn rejects(call: &Call, spec: &AuthSpec) -> bool {
    call.in_function.is_some()
        && {
            let name = last(&call.callee);
            spec.is_reject_call(name)
        }
        && call.args.iter().any(|a| {
            spec.reject_words
                .iter()
                .any(|w| a.text.contains(w.as_str()))
        })
}

pub struct AuthContext<'a> {
    pub facts: &'a ProjectFacts,
    /// The catalogue's names plus the config's `extra-auth`.
    pub spec: AuthSpec,
    /// Project functions that reject without a user, by name.
    pub rejecting: HashSet<String>,
    /// The limiter SDKs: their checks (Arcjet `aj.protect(req)`) are no auth.
    limiters: &'a RateLimitSpec,
}

impl<'a> AuthContext<'a> {
    pub fn new(facts: &'a ProjectFacts, catalog: &'a Catalog, extra: &[String]) -> AuthContext<'a> {
        let mut spec = catalog.auth.clone();
        for list in [
            &mut spec.python_dependencies,
            &mut spec.python_decorators,
            &mut spec.js_middleware,
            &mut spec.self_checking_calls,
        ] {
            list.extend(extra.iter().cloned());
        }
        let rejecting = collect_rejecting_functions(facts, &spec, &catalog.rate_limit);
        AuthContext {
            facts,
            spec,
            rejecting,
            limiters: &catalog.rate_limit,
        }
    }

    pub fn is_auth_dependency(&self, name: &str) -> bool {
        named(&self.spec.python_dependencies, name) || self.rejecting.contains(last(name))
    }

    /// Session reads and self-checking calls inside the handler, judged
    /// against the early exits around them and the AI call's line.
    pub fn in_handler(&self, e: &Endpoint, out: &mut Vec<AuthEvidence>) {
        let file = self.facts.file(e.file);
        let Some(h) = e.handler else { return };
        let found = out.len();
        let ai_line = e.reaches.as_ref().and_then(|chain| {
            // The line in the handler that leads to the AI call.
            let next = chain.functions.get(1).copied();
            match next {
                None => Some(self.facts.call(chain.call).line),
                Some(callee) => file
                    .calls
                    .iter()
                    .filter(|c| c.in_function == Some(h.function))
                    .find(|c| self.facts.resolve_call(h.file, c) == Some(callee))
                    .map(|c| c.line),
            }
        });
        let in_scope = |c: &&crate::facts::Call| {
            c.in_function == Some(h.function)
                || c.in_function
                    .is_some_and(|f| file.functions[f].parent == Some(h.function))
        };
        for c in file.calls.iter().filter(in_scope) {
            let name = last(&c.callee);
            if named(&self.spec.anonymous_calls, &c.callee) {
                out.push(AuthEvidence {
                    kind: AuthKind::Anonymous,
                    how: format!("{}()", c.callee),
                    line: c.line,
                });
                continue;
            }
            let self_checking = (named(&self.spec.self_checking_calls, &c.callee)
                && super::limits::sdk_call(self.facts, e.file, c, self.limiters).is_none())
                || self.rejecting.contains(name);
            let session = named(&self.spec.session_calls, &c.callee);
            if !(self_checking || session) {
                continue;
            }
            let after_ai = ai_line.is_some_and(|ai| c.line > ai);
            let kind = if after_ai {
                AuthKind::AfterAiCall
            } else if self_checking {
                AuthKind::Enforced
            } else {
                let guarded = file.guards.iter().any(|g| {
                    g.function == Some(h.function)
                        && g.line >= c.line
                        && ai_line.is_none_or(|ai| g.line < ai)
                });
                if guarded {
                    AuthKind::Enforced
                } else {
                    AuthKind::Unchecked
                }
            };
            out.push(AuthEvidence {
                kind,
                how: format!("{}()", c.callee),
                line: c.line,
            });
        }
        // `if not request.user.is_authenticated: return …` in the handler
        // (unless a session read above already counts, through this guard).
        if out[found..].iter().any(|a| a.kind == AuthKind::Enforced) {
            return;
        }
        for g in &file.guards {
            if g.function != Some(h.function) || !denies_user(&g.condition, &self.spec.user_state) {
                continue;
            }
            let kind = match ai_line.is_some_and(|ai| g.line > ai) {
                true => AuthKind::AfterAiCall,
                false => AuthKind::Enforced,
            };
            out.push(AuthEvidence {
                kind,
                how: format!("early exit when `{}`", g.condition),
                line: g.line,
            });
        }
    }
}

/// Does a guard's condition hold when there is no signed-in user? A word
/// of `user_state` negated (`not request.user.is_authenticated`,
/// `!req.user`), tested for null, or `is_anonymous` (not negated).
fn denies_user(condition: &str, words: &[String]) -> bool {
    let Some(word) = words.iter().find(|w| condition.contains(w.as_str())) else {
        return false;
    };
    let anonymous = condition.contains("is_anonymous") || condition.contains("isAnonymous");
    let negated = condition.starts_with("not ")
        || condition.starts_with('!')
        || condition.contains(&format!("not {word}"))
        || condition.contains(&format!("!{word}"))
        || NULL_TESTS.iter().any(|n| condition.contains(n));
    negated != anonymous
}

/// Comparisons that test for no value.
const NULL_TESTS: [&str; 9] = [
    "is None",
    "== None",
    "=== null",
    "== null",
    "=== undefined",
    "== undefined",
    "is False",
    "== False",
    "=== false",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_that_test_for_a_missing_value() {
        for missing in [
            "!user",
            "not user",
            "user is None",
            "!user || !user.id",
            "user === null",
        ] {
            assert!(tests_missing(missing, "user"), "{missing}");
        }
        for present in [
            "user",
            "!username",
            "users.length === 0",
            "!profile",
            "not user_id",
        ] {
            assert!(!tests_missing(present, "user"), "{present}");
        }
    }

    #[test]
    fn guards_that_turn_away_anonymous_users() {
        let words: Vec<String> = [
            "is_authenticated",
            "is_anonymous",
            "request.user",
            "req.user",
            "session?.user",
        ]
        .iter()
        .map(|w| w.to_string())
        .collect();
        for denies in [
            "not request.user.is_authenticated",
            "request.user.is_anonymous",
            "!req.user",
            "!session?.user",
            "request.user is None",
            "!req.user || !req.user.id",
        ] {
            assert!(denies_user(denies, &words), "{denies}");
        }
        for lets_through in [
            "request.user.is_authenticated",
            "not request.user.is_anonymous",
            "req.user && req.user.plan === 'free'",
            "not prompt",
            "len(messages) > 50",
        ] {
            assert!(!denies_user(lets_through, &words), "{lets_through}");
        }
    }
}
