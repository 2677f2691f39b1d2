//! Authentication evidence per endpoint: FastAPI dependencies (route,
//! router, app; catalogue names or project functions that raise 401/403),
//! Flask decorators and rejecting `before_request` hooks, session reads in
//! the handler followed by an early exit before the AI call, self-checking
//! calls (`auth.protect()`), JS auth middleware on the route or its
//! app/prefix, and Next.js `middleware.ts` auth on a matcher covering the
//! route. Anonymous sign-ins are recorded as such: they are not auth.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{limits::Matcher, Endpoint, Framework};
use crate::catalog::{AuthSpec, Catalog};
use crate::facts::{Call, FileFacts, ProjectFacts};

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
}

#[derive(Clone, Debug, Serialize)]
pub struct AuthEvidence {
    pub kind: AuthKind,
    pub how: String,
    pub line: u32,
}

fn last(name: &str) -> &str {
    let name = name.trim_end_matches("()");
    name.rsplit('.').next().unwrap_or(name)
}

fn named(list: &[String], name: &str) -> bool {
    list.iter().any(|n| n == last(name) || n == name)
}

/// Project functions that reject with 401/403 (`raise HTTPException(401)`,
/// `abort(403)`, `return Response(…, status=401)`, `res.status(401)`), by
/// name; also those that call one (a helper two calls deep:
/// `get_current_user → verify_token → raise`), and factories whose inner
/// function rejects (`Depends(require_permission("chat"))`).
pub(super) fn collect_rejecting_functions(
    facts: &ProjectFacts,
    spec: &AuthSpec,
) -> HashSet<String> {
    let rejecting = facts.functions_reaching(|_, call| rejects(call, spec), REJECT_DEPTH);
    let mut out = HashSet::new();
    for f in rejecting.keys() {
        let mut function = facts.function(*f);
        out.insert(last(&function.name).to_string());
        while let Some(parent) = function.parent {
            function = &facts.file(f.file).functions[parent];
            out.insert(last(&function.name).to_string());
        }
    }
    out
}

/// How many calls deep a rejection makes its callers auth helpers.
const REJECT_DEPTH: usize = 2;

/// A call that answers 401/403 (`rules/protections.toml` `reject_calls`
/// with one of `reject_words` in its arguments).
fn rejects(call: &Call, spec: &AuthSpec) -> bool {
    call.in_function.is_some()
        && spec.reject_calls.iter().any(|c| c == last(&call.callee))
        && call.args.iter().any(|a| {
            spec.reject_words
                .iter()
                .any(|w| a.text.contains(w.as_str()))
        })
}

/// `Depends(x)` / `Security(x)` names in a text.
fn dependency_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["Depends(", "Security("] {
        let mut rest = text;
        while let Some(at) = rest.find(key) {
            rest = &rest[at + key.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

pub(super) struct AuthContext<'a> {
    pub facts: &'a ProjectFacts,
    /// The catalogue's names plus the config's `extra-auth`.
    pub spec: AuthSpec,
    pub rejecting: HashSet<String>,
    pub middleware: Vec<(usize, Vec<Matcher>)>,
    /// Every `include_router(…)` / `register_blueprint(…)` call, gathered
    /// once (scanning all calls per endpoint was quadratic: minutes on a
    /// 50,000-file monorepo), under the file of the router it mounts:
    /// (file index of the mount, call), in file order.
    mounts: HashMap<usize, Vec<(usize, &'a Call)>>,
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

        let mut middleware = Vec::new();
        for (fi, file) in facts.files().iter().enumerate() {
            let name = file.path.rsplit('/').next().unwrap_or(&file.path);
            let stem = name.split('.').next().unwrap_or(name);
            if !matches!(stem, "middleware" | "proxy") || file.lang.is_none_or(|l| l.is_python()) {
                continue;
            }
            let uses_auth = file
                .imports
                .iter()
                .any(|i| spec.next_middleware_modules.contains(&i.module));
            let clerk = file.imports.iter().any(|i| i.module.starts_with("@clerk/"));
            // Clerk's middleware only protects what calls auth.protect().
            let protects = !clerk
                || file
                    .calls
                    .iter()
                    .any(|c| named(&spec.self_checking_calls, &c.callee));
            if uses_auth && protects {
                let protected: Vec<Matcher> = file
                    .calls
                    .iter()
                    .filter(|c| last(&c.callee) == "createRouteMatcher")
                    .flat_map(|c| {
                        c.args.iter().flat_map(|a| {
                            super::limits::parse_matchers(&format!("matcher: {}", a.text))
                        })
                    })
                    .collect();
                let matchers = if protected.is_empty() {
                    file.assignments
                        .iter()
                        .find(|a| a.target == "config")
                        .map(|a| super::limits::parse_matchers(&a.text))
                        .unwrap_or_default()
                } else {
                    protected
                };
                middleware.push((fi, matchers));
            }
        }
        // Each mount under the file of the router it mounts (`r0.router` is
        // the `router` of the file `r0` imports): every router file names
        // its object `router`, so matching by name alone gave every
        // endpoint every mount (wrong, and quadratic on large apps).
        let mut mounts: HashMap<usize, Vec<(usize, &Call)>> = HashMap::new();
        for (fi, f) in facts.files().iter().enumerate() {
            for c in &f.calls {
                if !(c.callee.ends_with("include_router")
                    || c.callee.ends_with("register_blueprint"))
                {
                    continue;
                }
                let Some(arg) = c.args.first() else { continue };
                let head = arg.text.split('.').next().unwrap_or(&arg.text);
                let target = match f.import_of(head) {
                    Some(import) => match facts.resolve_import(fi, import) {
                        Some(t) => facts.definition_file(t, last(&arg.text)),
                        None => continue,
                    },
                    None => fi,
                };
                mounts.entry(target).or_default().push((fi, c));
            }
        }
        let rejecting = collect_rejecting_functions(facts, &spec);
        AuthContext {
            facts,
            spec,
            rejecting,
            middleware,
            mounts,
        }
    }

    fn is_auth_dependency(&self, name: &str) -> bool {
        named(&self.spec.python_dependencies, name) || self.rejecting.contains(last(name))
    }

    pub fn evidence(&self, e: &Endpoint) -> Vec<AuthEvidence> {
        let file = self.facts.file(e.file);
        let mut out = Vec::new();
        if e.framework.is_python() {
            self.python_declared(e, file, &mut out);
        } else {
            self.js_declared(e, file, &mut out);
        }
        self.in_handler(e, file, &mut out);
        out
    }

    /// Dependencies, decorators and hooks declared around a Python route.
    fn python_declared(&self, e: &Endpoint, file: &FileFacts, out: &mut Vec<AuthEvidence>) {
        let Some(h) = e.handler else { return };
        let function = &file.functions[h.function];
        let mut texts: Vec<(String, u32)> = function
            .decorators
            .iter()
            .flat_map(|d| {
                std::iter::once((d.callee.clone(), d.line))
                    .chain(d.args.iter().map(|a| (a.text.clone(), a.line)))
            })
            .collect();
        texts.extend(function.params.iter().map(|p| (p.clone(), function.line)));
        // Router/app constructors and include_router(…, dependencies=…) for this object.
        // In file order, the endpoint's own assignments before its file's mounts.
        let mounts = self.mounts.get(&e.file).map_or(&[][..], Vec::as_slice);
        let own = mounts.partition_point(|(fi, _)| *fi < e.file);
        let assignments = file.assignments.iter().filter(|a| a.target == e.object);
        let (before, after) = mounts.split_at(own);
        for (_, c) in before {
            push_mount(c, e, &mut texts);
        }
        for a in assignments {
            texts.push((a.text.clone(), a.line));
        }
        for (_, c) in after {
            push_mount(c, e, &mut texts);
        }
        for (text, line) in &texts {
            if let Some(dep) = dependency_names(text)
                .into_iter()
                .find(|d| self.is_auth_dependency(d))
            {
                out.push(AuthEvidence {
                    kind: AuthKind::Enforced,
                    how: format!("Depends({dep})"),
                    line: *line,
                });
            }
        }
        for d in &function.decorators {
            if named(&self.spec.python_decorators, &d.callee) {
                out.push(AuthEvidence {
                    kind: AuthKind::Enforced,
                    how: format!("@{}", d.callee),
                    line: d.line,
                });
            }
        }
        // Flask `@app.before_request` hooks that reject.
        if e.framework == Framework::Flask {
            for (fi, f) in file.functions.iter().enumerate() {
                let hook = f
                    .decorators
                    .iter()
                    .any(|d| d.callee == format!("{}.before_request", e.object));
                if hook && file.guards.iter().any(|(g, _)| *g == Some(fi)) {
                    out.push(AuthEvidence {
                        kind: AuthKind::Enforced,
                        how: format!("{}.before_request {}", e.object, f.name),
                        line: f.line,
                    });
                }
            }
        }
    }

    /// JS middleware on the route, its app/prefix, and Next.js middleware.
    fn js_declared(&self, e: &Endpoint, file: &FileFacts, out: &mut Vec<AuthEvidence>) {
        for m in &e.middleware {
            let name = m.split('(').next().unwrap_or(m);
            if named(&self.spec.js_middleware, name) || self.rejecting.contains(last(name)) {
                out.push(AuthEvidence {
                    kind: AuthKind::Enforced,
                    how: format!("route middleware {m}"),
                    line: e.line,
                });
            }
        }
        for c in &file.calls {
            let Some((object, "use")) = c.callee.rsplit_once('.') else {
                continue;
            };
            if object != e.object {
                continue;
            }
            let (prefix, rest) = match c.args.first().and_then(|a| super::routes::unquote(&a.text))
            {
                Some(p) => (p, &c.args[1..]),
                None => (String::new(), &c.args[..]),
            };
            let covers = prefix.is_empty()
                || e.path
                    .starts_with(prefix.trim_end_matches("/*").trim_end_matches('*'));
            for a in rest.iter().filter(|a| {
                let name = a.text.split('(').next().unwrap_or(&a.text);
                named(&self.spec.js_middleware, name) || self.rejecting.contains(last(name))
            }) {
                if covers {
                    out.push(AuthEvidence {
                        kind: AuthKind::Enforced,
                        how: format!("{}.use({})", object, a.text),
                        line: c.line,
                    });
                }
            }
        }
        if matches!(
            e.framework,
            Framework::NextApp | Framework::NextPages | Framework::ServerAction
        ) {
            for (mw, matchers) in &self.middleware {
                let mw_path = &self.facts.file(*mw).path;
                let root = mw_path
                    .rsplit_once('/')
                    .map(|(d, _)| d.trim_end_matches("/src").to_string())
                    .unwrap_or_default();
                let in_app = root.is_empty() || file.path.starts_with(&format!("{root}/"));
                if in_app && (matchers.is_empty() || matchers.iter().any(|m| m.is_match(&e.path))) {
                    out.push(AuthEvidence {
                        kind: AuthKind::Enforced,
                        how: format!("{mw_path} (auth on a matcher covering the route)"),
                        line: 1,
                    });
                }
            }
        }
    }

    /// Session reads and self-checking calls inside the handler, judged
    /// against the early exits around them and the AI call's line.
    fn in_handler(&self, e: &Endpoint, file: &FileFacts, out: &mut Vec<AuthEvidence>) {
        let Some(h) = e.handler else { return };
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
            let self_checking =
                named(&self.spec.self_checking_calls, &c.callee) || self.rejecting.contains(name);
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
                let guarded = file.guards.iter().any(|(f, line)| {
                    *f == Some(h.function) && *line >= c.line && ai_line.is_none_or(|ai| *line < ai)
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
    }
}

/// `include_router(router, dependencies=…)` mounting the endpoint's object:
/// its arguments may name auth dependencies.
fn push_mount(c: &Call, e: &Endpoint, texts: &mut Vec<(String, u32)>) {
    if c.args
        .first()
        .is_some_and(|a| a.text == e.object || a.text.ends_with(&format!(".{}", e.object)))
    {
        texts.extend(c.args.iter().map(|a| (a.text.clone(), a.line)));
    }
}
