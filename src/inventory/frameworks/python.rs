//! FastAPI and Flask: routes declared by decorators on app and router
//! objects (`@app.post`, `@router.get`, `@bp.route(methods=[…])`), mounted
//! with `include_router(r, prefix=…)` / `register_blueprint(bp,
//! url_prefix=…)` or a constructor prefix (`APIRouter(prefix=…)`).
//! Limits: slowapi and flask-limiter decorators (`@limiter.limit`), their
//! `default_limits` bound to the app (`SlowAPIMiddleware`, `app=` /
//! `init_app`), `@limiter.exempt`, fastapi-limiter `RateLimiter`
//! dependencies; slowapi wiring misuse. Auth: FastAPI dependencies on the
//! route, its router or its mount (`Depends(get_current_user)` or a
//! project function that rejects), auth decorators, Flask
//! `before_request` hooks that reject.

use std::collections::{HashMap, HashSet};

use super::{kwarg, unquote, Family, Framework, HTTP_METHODS};
use crate::facts::{Arg, Call, FileFacts, FnRef, ProjectFacts};
use crate::inventory::auth::{last, named, AuthContext};
use crate::inventory::limits::{parse_windows, LimitScope};
use crate::inventory::{AuthEvidence, AuthKind, Endpoint, Limit, Misuse};

pub struct Python;

const FRAMEWORKS: &[Framework] = &[Framework::FastApi, Framework::Flask];

impl Family for Python {
    fn frameworks(&self) -> &'static [Framework] {
        FRAMEWORKS
    }

    fn app_constructor(&self, callee: &str, _module: Option<&str>) -> Option<Framework> {
        match callee.rsplit('.').next().unwrap_or(callee) {
            "FastAPI" | "APIRouter" => Some(Framework::FastApi),
            "Flask" | "Blueprint" => Some(Framework::Flask),
            _ => None,
        }
    }

    fn endpoints(
        &self,
        index: usize,
        file: &FileFacts,
        apps: &HashMap<String, Framework>,
        out: &mut Vec<Endpoint>,
    ) {
        if !file.lang.is_some_and(|l| l.is_python()) {
            return;
        }
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

    fn mount<'c>(&self, call: &'c Call) -> Option<(&'c Arg, String)> {
        let key = match call.callee.rsplit('.').next().unwrap_or("") {
            "include_router" => "prefix",
            "register_blueprint" => "url_prefix",
            _ => return None,
        };
        let prefix = kwarg(call, key).and_then(|a| unquote(&a.text))?;
        Some((call.args.first()?, prefix))
    }

    fn constructor_prefix(&self, text: &str) -> Option<String> {
        let at = text.find("prefix=").or_else(|| text.find("url_prefix="))?;
        let rest = &text[at..];
        let start = rest.find(['"', '\''])?;
        let q = rest.as_bytes()[start] as char;
        let end = rest[start + 1..].find(q)?;
        Some(rest[start + 1..start + 1 + end].to_string())
    }

    fn limits(
        &self,
        scope: &LimitScope<'_>,
        endpoints: &mut [&mut Endpoint],
        misuse: &mut Vec<Misuse>,
    ) {
        let globals = collect_globals(scope);
        for e in endpoints.iter_mut() {
            route_limits(e, scope, misuse);
            // slowapi / flask-limiter: a route's own `@limiter.limit`
            // replaces the app's default limits (`override_defaults=True`
            // is their default), and `@limiter.exempt` removes them.
            let file = scope.facts.file(e.file);
            let skips_defaults = skips_defaults(e, file);
            for (framework, limit, app_var) in &globals {
                if *framework != e.framework || !scope.same_app(limit.file, e.file) {
                    continue;
                }
                if skips_defaults && limit.how.ends_with("default_limits") {
                    continue;
                }
                // flask-limiter binds one app: its routes and blueprints,
                // not another Flask() app in the project.
                let covered = match app_var {
                    Some(app) => {
                        (e.file == limit.file && &e.object == app) || is_blueprint(file, &e.object)
                    }
                    None => true,
                };
                if covered {
                    e.limits.push(limit.clone());
                }
            }
        }
        slowapi_wiring(scope, misuse);
    }

    fn declared_auth(&self, cx: &AuthContext<'_>, endpoints: &mut [&mut Endpoint]) {
        let mounts = collect_mounts(cx.facts);
        let chained = depending_on_auth(cx);
        for e in endpoints.iter_mut() {
            let mut out = Vec::new();
            declared(cx, &chained, &mounts, e, &mut out);
            e.auth.extend(out);
        }
    }
}

/// Do the app's default limits not apply to this route: it is
/// `@limiter.exempt`, or it has its own `@limiter.limit` without
/// `override_defaults=False`?
fn skips_defaults(e: &Endpoint, file: &FileFacts) -> bool {
    let Some(h) = e.handler else { return false };
    let decorators = &file.functions[h.function].decorators;
    let exempt = decorators.iter().any(|d| d.callee.ends_with(".exempt"));
    let own: Vec<&Call> = decorators
        .iter()
        .filter(|d| d.callee.ends_with(".limit") || d.callee.ends_with(".shared_limit"))
        .collect();
    let keeps_defaults = own.iter().any(|d| {
        d.args
            .iter()
            .any(|a| a.keyword.as_deref() == Some("override_defaults") && a.text == "False")
    });
    exempt
        || (!own.is_empty() && !keeps_defaults && e.limits.iter().any(|l| l.how.starts_with('@')))
}

fn route_limits(e: &mut Endpoint, scope: &LimitScope<'_>, misuse: &mut Vec<Misuse>) {
    let facts = scope.facts;
    let file = facts.file(e.file);
    let limiters = &scope.per_file[e.file];
    let Some(h) = e.handler else { return };
    let function = &file.functions[h.function];
    let route_at = function.decorators.iter().position(|d| d.line == e.line);
    for (i, d) in function.decorators.iter().enumerate() {
        // fastapi-limiter: dependencies=[Depends(RateLimiter(times=5, seconds=60))]
        if Some(i) == route_at {
            if let Some(dep) = d.args.iter().find(|a| {
                a.keyword.as_deref() == Some("dependencies") && a.text.contains("RateLimiter(")
            }) {
                let windows = parse_windows(&dep.text);
                e.limits.push(Limit {
                    how: "fastapi-limiter RateLimiter".into(),
                    file: h.file,
                    line: dep.line,
                    spec: dep.text.clone(),
                    windows,
                });
            }
            continue;
        }
        let Some((object, method)) = d.callee.rsplit_once('.') else {
            continue;
        };
        // The limiter is made here, or imported from the file that makes it
        // (`from ..main import limiter` in `routers/chat.py`).
        let local = limiters
            .python
            .iter()
            .find(|(v, _, _)| *v == object)
            .map(|l| l.2.clone());
        let imported = || {
            let import = file.import_of(object)?;
            let target = facts.resolve_import(h.file, import)?;
            let name = import.name.as_deref().unwrap_or(object);
            scope.per_file[target]
                .python
                .iter()
                .find(|(v, _, _)| *v == name)
                .map(|l| l.2.clone())
        };
        let Some(kind) = local.or_else(imported) else {
            continue;
        };
        if !matches!(method, "limit" | "shared_limit") {
            continue;
        }
        // `@limiter.limit("5/minute")` or `@limiter.limit(limit_value="5/minute")`.
        let spec = d
            .args
            .iter()
            .find(|a| a.keyword.is_none() || a.keyword.as_deref() == Some("limit_value"))
            .map(|a| a.text.clone())
            .unwrap_or_default();
        if route_at.is_some_and(|r| i < r) {
            misuse.push(Misuse {
                rule: "slowapi-decorator-order",
                framework: e.framework,
                file: h.file,
                line: d.line,
                message: format!(
                    "@{} is above the route decorator, so the route registers the unlimited function: put it below @{}",
                    d.callee,
                    function.decorators[route_at.unwrap_or(0)].callee
                ),
            });
            continue;
        }
        if kind == "slowapi"
            && !function
                .params
                .iter()
                .any(|p| p.starts_with("request") || p.contains(": Request"))
        {
            misuse.push(Misuse {
                rule: "slowapi-missing-request",
                framework: e.framework,
                file: h.file,
                line: function.line,
                message: format!(
                    "{} is limited by slowapi but takes no `request: Request` parameter: slowapi raises at the first call",
                    function.name
                ),
            });
        }
        let windows = parse_windows(&spec);
        e.limits.push(Limit {
            how: format!("@{}", d.callee),
            file: h.file,
            line: d.line,
            spec,
            windows,
        });
    }
    // The project's own limiter as a dependency of the route, its
    // parameters or its router (`Depends(rate_limit)`).
    let texts = function
        .decorators
        .iter()
        .flat_map(|d| d.args.iter().map(|a| (a.text.as_str(), a.line)))
        .chain(function.params.iter().map(|p| (p.as_str(), function.line)))
        .chain(
            file.assignments
                .iter()
                .filter(|a| a.target == e.object)
                .map(|a| (a.text.as_str(), a.line)),
        );
    let mut seen = Vec::new();
    for (text, line) in texts {
        for dep in dependency_names(text) {
            if let Some(l) = scope.counters.named(&dep) {
                if !seen.contains(&dep) {
                    e.limits.push(Limit {
                        how: format!("project limiter Depends({dep})"),
                        file: h.file,
                        line,
                        spec: l.spec(facts),
                        windows: l.windows.clone(),
                    });
                    seen.push(dep);
                }
            }
        }
    }
    let deps_on_object = file
        .assignments
        .iter()
        .any(|a| a.target == e.object && a.text.contains("RateLimiter("));
    if deps_on_object {
        e.limits.push(Limit {
            how: format!("{} dependencies", e.object),
            file: h.file,
            line: e.line,
            spec: "RateLimiter".into(),
            windows: Vec::new(),
        });
    }
}

fn is_blueprint(file: &FileFacts, object: &str) -> bool {
    file.assignments.iter().any(|a| {
        a.target == object
            && a.value_callee
                .as_deref()
                .is_some_and(|c| c.ends_with("Blueprint"))
    })
}

/// slowapi `default_limits` with `SlowAPIMiddleware`, flask-limiter
/// `default_limits` bound to an app: (framework, limit, the Flask app
/// variable it is bound to).
fn collect_globals(scope: &LimitScope<'_>) -> Vec<(Framework, Limit, Option<String>)> {
    let facts = scope.facts;
    let has_slowapi_mw = facts.files().iter().any(|f| {
        f.calls.iter().any(|c| {
            c.callee.ends_with("add_middleware")
                && c.args
                    .first()
                    .is_some_and(|a| a.text.contains("SlowAPIMiddleware"))
        })
    });
    let init_app_of = |var: &str| {
        let callee = format!("{var}.init_app");
        facts
            .files()
            .iter()
            .flat_map(|f| f.calls.iter())
            .find(|c| c.callee == callee)
    };
    let mut out = Vec::new();
    for (fi, limiters) in scope.per_file.iter().enumerate() {
        for (var, call, kind) in &limiters.python {
            let Some(defaults) = kwarg(call, "default_limits") else {
                continue;
            };
            let (framework, app_var) = if kind == "slowapi" {
                if !has_slowapi_mw {
                    continue;
                }
                (Framework::FastApi, None)
            } else {
                let given = call.args.iter().find(|a| {
                    a.keyword.as_deref() == Some("app") || (a.keyword.is_none() && a.text == "app")
                });
                let init = init_app_of(var);
                if given.is_none() && init.is_none() {
                    continue;
                }
                let app = kwarg(call, "app")
                    .map(|a| a.text.clone())
                    .or_else(|| init.and_then(|c| c.args.first().map(|a| a.text.clone())))
                    .unwrap_or_else(|| "app".into());
                (Framework::Flask, Some(app))
            };
            let limit = Limit {
                how: format!("{var} default_limits"),
                file: fi,
                line: call.line,
                spec: defaults.text.clone(),
                windows: parse_windows(&defaults.text),
            };
            out.push((framework, limit, app_var));
        }
    }
    out
}

/// slowapi needs `app.state.limiter = limiter` and a `RateLimitExceeded` handler.
fn slowapi_wiring(scope: &LimitScope<'_>, misuse: &mut Vec<Misuse>) {
    let facts = scope.facts;
    let all_calls = || facts.files().iter().flat_map(|f| f.calls.iter());
    let attached = facts.files().iter().any(|f| {
        f.assignments
            .iter()
            .any(|a| a.target.ends_with("state.limiter"))
    });
    let handled = all_calls().any(|c| {
        c.callee.ends_with("add_exception_handler")
            && c.args
                .first()
                .is_some_and(|a| a.text.contains("RateLimitExceeded"))
    }) || facts.files().iter().any(|f| {
        f.functions.iter().any(|func| {
            func.decorators.iter().any(|d| {
                d.callee.ends_with("exception_handler")
                    && d.args
                        .first()
                        .is_some_and(|a| a.text.contains("RateLimitExceeded"))
            })
        })
    });
    let used: HashSet<&str> = scope
        .per_file
        .iter()
        .flat_map(|l| {
            l.python
                .iter()
                .filter(|(_, _, k)| k == "slowapi")
                .map(|(v, _, _)| *v)
        })
        .collect();
    for (fi, limiters) in scope.per_file.iter().enumerate() {
        for (var, call, kind) in &limiters.python {
            if kind != "slowapi" || !used.contains(var) {
                continue;
            }
            if !attached {
                misuse.push(Misuse {
                    rule: "slowapi-not-attached",
                    framework: Framework::FastApi,
                    file: fi,
                    line: call.line,
                    message: format!("the slowapi Limiter `{var}` is never set as app.state.limiter, so its limits are not enforced"),
                });
            }
            if !handled {
                misuse.push(Misuse {
                    rule: "slowapi-no-exceeded-handler",
                    framework: Framework::FastApi,
                    file: fi,
                    line: call.line,
                    message: "no RateLimitExceeded handler is registered (app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)): limited calls fail with a 500".into(),
                });
            }
        }
    }
}

/// Every `include_router(…)` / `register_blueprint(…)` call, gathered once
/// (scanning all calls per endpoint was quadratic: minutes on a
/// 50,000-file monorepo), under the file of the router it mounts (`r0.router`
/// is the `router` of the file `r0` imports: every router file names its
/// object `router`, so matching by name alone gave every endpoint every
/// mount): file → (file index of the mount, call), in file order.
fn collect_mounts(facts: &ProjectFacts) -> HashMap<usize, Vec<(usize, &Call)>> {
    let mut mounts: HashMap<usize, Vec<(usize, &Call)>> = HashMap::new();
    for (fi, f) in facts.files().iter().enumerate() {
        for c in &f.calls {
            if !(c.callee.ends_with("include_router") || c.callee.ends_with("register_blueprint")) {
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
    mounts
}

/// How many dependencies deep an auth dependency makes the dependencies
/// that take it auth dependencies.
const DEPENDS_DEPTH: usize = 3;

/// Project dependencies that take an auth dependency as a sub-dependency,
/// by name: FastAPI resolves `Depends(current_user)` in a dependency's own
/// parameters first, so a request without a user is rejected before the
/// dependency runs (`def require_admin(user = Depends(current_user))`).
/// Also the factories that return one (`Depends(require_permission("chat"))`,
/// whose inner function takes `Depends(base_user)`, with `base_user` one of
/// several dependencies it assigns, an auth dependency among them).
fn depending_on_auth(cx: &AuthContext<'_>) -> HashSet<String> {
    // The Python functions whose parameters name a dependency, with the
    // names (read once: the rounds below ask again about the same ones).
    let with_dependencies: Vec<(&FileFacts, usize, Vec<String>)> = cx
        .facts
        .files()
        .iter()
        .filter(|file| file.lang.is_some_and(|l| l.is_python()))
        .flat_map(|file| {
            file.functions
                .iter()
                .enumerate()
                .filter_map(move |(fi, function)| {
                    let names: Vec<String> = function
                        .params
                        .iter()
                        .flat_map(|p| dependency_names(p))
                        .collect();
                    (!names.is_empty()).then_some((file, fi, names))
                })
        })
        .collect();
    let mut found: HashSet<String> = HashSet::new();
    for _ in 0..DEPENDS_DEPTH {
        let before = found.len();
        for (file, fi, dependencies) in &with_dependencies {
            let function = &file.functions[*fi];
            let is_auth = |name: &str| cx.is_auth_dependency(name) || found.contains(last(name));
            // A name assigned in an enclosing function stands for the
            // dependencies its value names.
            let assigned = |name: &str| {
                file.assignments.iter().any(|a| {
                    a.target == name
                        && a.in_function.is_some()
                        && a.in_function == function.parent
                        && a.text
                            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                            .any(|w| !w.is_empty() && is_auth(w))
                })
            };
            let depends = dependencies.iter().any(|d| is_auth(d) || assigned(d));
            if !depends {
                continue;
            }
            let mut at = Some(*fi);
            let mut names = Vec::new();
            while let Some(f) = at {
                names.push(last(&file.functions[f].name).to_string());
                at = file.functions[f].parent;
            }
            found.extend(names);
        }
        if found.len() == before {
            break;
        }
    }
    found
}

/// Dependencies, decorators and hooks declared around a route.
fn declared(
    cx: &AuthContext<'_>,
    chained: &HashSet<String>,
    mounts: &HashMap<usize, Vec<(usize, &Call)>>,
    e: &Endpoint,
    out: &mut Vec<AuthEvidence>,
) {
    let file = cx.facts.file(e.file);
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
    // Router/app constructors and include_router(…, dependencies=…) for this
    // object. In file order, the endpoint's own assignments before its
    // file's mounts.
    let mounts = mounts.get(&e.file).map_or(&[][..], Vec::as_slice);
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
            .find(|d| cx.is_auth_dependency(d) || chained.contains(last(d)))
        {
            out.push(AuthEvidence {
                kind: AuthKind::Enforced,
                how: format!("Depends({dep})"),
                line: *line,
            });
        }
    }
    for d in &function.decorators {
        if named(&cx.spec.python_decorators, &d.callee) {
            out.push(AuthEvidence {
                kind: AuthKind::Enforced,
                how: format!("@{}", d.callee),
                line: d.line,
            });
        }
    }
    // Flask `@app.before_request` hooks that reject.
    if e.framework == Framework::Flask {
        let hook_name = format!("{}.before_request", e.object);
        for (fi, f) in file.functions.iter().enumerate() {
            let hook = f.decorators.iter().any(|d| d.callee == hook_name);
            if hook && file.guards.iter().any(|g| g.function == Some(fi)) {
                out.push(AuthEvidence {
                    kind: AuthKind::Enforced,
                    how: format!("{}.before_request {}", e.object, f.name),
                    line: f.line,
                });
            }
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

/// `Depends(x)` / `Security(x)` names in a text.
fn dependency_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["Depends(", "Security("] {
        let mut rest = text;
        while let Some(at) = rest.find(key) {
            rest = &rest[at + key.len()..];
            // `Depends(\n    require_permission(…)\n)`: the name may follow
            // on the next line.
            let name: String = rest
                .trim_start()
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
