//! Django and Django REST framework. Endpoints come from URL
//! configurations: `urlpatterns` of `path()` / `re_path()` / `url()` calls,
//! `include("app.urls")` and `include(module)` prefixes followed to the
//! included file, DRF routers (`router.register("chat", ChatViewSet)`,
//! mounted by `include(router.urls)` or added to the `urlpatterns` of their
//! file). A view is a function (`@api_view(["POST"])`, `@require_POST` give
//! its methods), a class (`ChatView.as_view()`: one endpoint per HTTP
//! method it defines) or a ViewSet (`list`/`create`/… and `@action`s); the
//! handler is the function or the method, so reachability is the engine's.
//! Limits: DRF `throttle_classes` (the view's, its project base classes',
//! `@throttle_classes`, or `DEFAULT_THROTTLE_CLASSES` in a settings
//! `REST_FRAMEWORK`), with their rate from `DEFAULT_THROTTLE_RATES` (by
//! scope: `anon`, `user`, a `ScopedRateThrottle`'s `throttle_scope`, a
//! project throttle's `scope` or `rate`); django-ratelimit `@ratelimit`
//! (also through `method_decorator`). Auth: `permission_classes` (an empty
//! list, or only `AllowAny`, is none), `@permission_classes`,
//! `DEFAULT_PERMISSION_CLASSES`, `@login_required` and its kin,
//! `LoginRequiredMixin` and its kin. CORS is `checks/cors.rs`.

use std::collections::HashSet;

use regex::Regex;

use super::{join_paths, kwarg, unquote, Family, Framework};
use crate::facts::{Arg, Assignment, Call, Class, FileFacts, FnRef, Import, ProjectFacts};
use crate::inventory::auth::{last, named, AuthContext};
use crate::inventory::limits::{LimitScope, Limiter};
use crate::inventory::{AuthEvidence, AuthKind, Endpoint, Limit, Misuse};

pub struct Django;

const FRAMEWORKS: &[Framework] = &[Framework::Django];

/// How deep `include()` chains and base-class chains are followed.
const MAX_DEPTH: usize = 8;

const CLASS_METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// DRF ViewSet actions: (method name, HTTP method, on the detail route).
const VIEWSET_ACTIONS: [(&str, &str, bool); 8] = [
    ("list", "GET", false),
    ("create", "POST", false),
    ("perform_create", "POST", false),
    ("retrieve", "GET", true),
    ("update", "PUT", true),
    ("perform_update", "PUT", true),
    ("partial_update", "PATCH", true),
    ("destroy", "DELETE", true),
];

/// Decorators that require a signed-in user.
const AUTH_DECORATORS: [&str; 5] = [
    "login_required",
    "permission_required",
    "user_passes_test",
    "staff_member_required",
    "superuser_required",
];

/// Mixins that require a signed-in user.
const AUTH_MIXINS: [&str; 4] = [
    "LoginRequiredMixin",
    "PermissionRequiredMixin",
    "UserPassesTestMixin",
    "StaffuserRequiredMixin",
];

/// Permissions that let anyone in; the "or read only" ones let anyone read.
const OPEN_PERMISSIONS: [&str; 1] = ["AllowAny"];
const READ_OPEN_PERMISSIONS: [&str; 2] = [
    "IsAuthenticatedOrReadOnly",
    "DjangoModelPermissionsOrAnonReadOnly",
];

impl Family for Django {
    fn frameworks(&self) -> &'static [Framework] {
        FRAMEWORKS
    }

    fn project_endpoints(&self, facts: &ProjectFacts, out: &mut Vec<Endpoint>) {
        let confs: Vec<usize> = facts
            .files()
            .iter()
            .enumerate()
            .filter(|(_, f)| is_urlconf(f))
            .map(|(i, _)| i)
            .collect();
        if confs.is_empty() {
            return;
        }
        let mut included = HashSet::new();
        for &fi in &confs {
            for call in url_calls(facts.file(fi)) {
                if let Some(Include::Module(t)) =
                    call.args.get(1).and_then(|a| include(facts, fi, &a.text))
                {
                    if t != fi {
                        included.insert(t);
                    }
                }
            }
        }
        let mut seen = HashSet::new();
        for &root in confs.iter().filter(|c| !included.contains(c)) {
            walk(facts, root, "", 0, &mut seen, out);
        }
    }

    fn limiters(&self, facts: &ProjectFacts, out: &mut Vec<Limiter>) {
        let settings = Settings::collect(facts);
        let throttles = settings.cache("default");
        let ratelimit = settings.cache(settings.ratelimit_cache.as_deref().unwrap_or("default"));
        let mut push =
            |kind: &str, (backend, shared): &(String, bool), file, line, variable: &str| {
                out.push(Limiter {
                    kind: format!("{kind}, cache {backend}"),
                    file,
                    line,
                    column: 1,
                    shared_store: *shared,
                    variable: variable.to_string(),
                });
            };
        if let Some((fi, line, text)) = &settings.throttle_classes {
            if !list_names(text).is_empty() {
                push(
                    "DRF throttling",
                    &throttles,
                    *fi,
                    *line,
                    "DEFAULT_THROTTLE_CLASSES",
                );
            }
        }
        for (fi, f) in facts.files().iter().enumerate() {
            for c in &f.classes {
                if let Some(a) = c.attributes.iter().find(|a| a.target == "throttle_classes") {
                    if !list_names(&a.text).is_empty() {
                        push(
                            "DRF throttling",
                            &throttles,
                            fi,
                            a.line,
                            &format!("{}.throttle_classes", c.name),
                        );
                    }
                }
            }
            for function in &f.functions {
                for d in &function.decorators {
                    match last(&d.callee) {
                        "throttle_classes" => push(
                            "DRF throttling",
                            &throttles,
                            fi,
                            d.line,
                            &format!("@throttle_classes on {}", function.name),
                        ),
                        "ratelimit" if kwarg(d, "block").is_none_or(|b| b.text != "False") => push(
                            "django-ratelimit",
                            &ratelimit,
                            fi,
                            d.line,
                            &format!("@ratelimit on {}", function.name),
                        ),
                        _ => {}
                    }
                }
            }
        }
    }

    fn limits(
        &self,
        scope: &LimitScope<'_>,
        endpoints: &mut [&mut Endpoint],
        _misuse: &mut Vec<Misuse>,
    ) {
        let facts = scope.facts;
        let settings = Settings::collect(facts);
        for e in endpoints.iter_mut() {
            let Some(view) = View::of(facts, e) else {
                continue;
            };
            // DRF throttles.
            let declared = view
                .decorator("throttle_classes")
                .map(|d| {
                    (
                        list_names(&d.args.first().map(|a| a.text.clone()).unwrap_or_default()),
                        e.file,
                        d.line,
                        "@throttle_classes".to_string(),
                    )
                })
                .or_else(|| {
                    view.attribute(facts, "throttle_classes").map(|(fi, a)| {
                        (
                            list_names(&a.text),
                            fi,
                            a.line,
                            "throttle_classes".to_string(),
                        )
                    })
                })
                .or_else(|| {
                    let (fi, line, text) = settings.throttle_classes.clone()?;
                    view.is_drf(facts).then(|| {
                        (
                            list_names(&text),
                            fi,
                            line,
                            "DEFAULT_THROTTLE_CLASSES".to_string(),
                        )
                    })
                });
            if let Some((classes, fi, line, how)) = declared {
                for class in classes {
                    let Some(rate) = throttle_rate(facts, &view, &class, &settings) else {
                        continue;
                    };
                    let windows = drf_window(&rate).into_iter().collect();
                    e.limits.push(Limit {
                        how: format!("{how} {class}"),
                        file: fi,
                        line,
                        spec: rate,
                        windows,
                    });
                }
            }
            // django-ratelimit.
            for d in view.ratelimits() {
                if kwarg(&d, "block").is_some_and(|b| b.text == "False") {
                    continue;
                }
                let spec = kwarg(&d, "rate")
                    .map(|a| a.text.clone())
                    .unwrap_or_default();
                let windows = unquote(&spec)
                    .and_then(|s| ratelimit_window(&s))
                    .into_iter()
                    .collect();
                e.limits.push(Limit {
                    how: "@ratelimit".into(),
                    file: view.file,
                    line: d.line,
                    spec,
                    windows,
                });
            }
        }
    }

    fn declared_auth(&self, cx: &AuthContext<'_>, endpoints: &mut [&mut Endpoint]) {
        let facts = cx.facts;
        let settings = Settings::collect(facts);
        for e in endpoints.iter_mut() {
            let Some(view) = View::of(facts, e) else {
                continue;
            };
            let mut out = Vec::new();
            for d in view.decorators() {
                let name = last(&d.callee);
                if AUTH_DECORATORS.contains(&name) || named(&cx.spec.python_decorators, &d.callee) {
                    out.push(AuthEvidence {
                        kind: AuthKind::Enforced,
                        how: format!("@{}", d.callee),
                        line: d.line,
                    });
                }
                // @method_decorator(login_required, name="dispatch")
                if name == "method_decorator" {
                    if let Some(inner) = d.args.first() {
                        let inner = inner.text.split('(').next().unwrap_or("");
                        if AUTH_DECORATORS.contains(&last(inner))
                            || named(&cx.spec.python_decorators, inner)
                        {
                            out.push(AuthEvidence {
                                kind: AuthKind::Enforced,
                                how: format!("@method_decorator({inner})"),
                                line: d.line,
                            });
                        }
                    }
                }
            }
            for (fi, class) in view.chain(facts) {
                if let Some(mixin) = class.bases.iter().find(|b| AUTH_MIXINS.contains(&last(b))) {
                    let how = format!("{} ({})", last(mixin), class.name);
                    let (how, line) = located(facts, e, fi, class.line, how);
                    out.push(AuthEvidence {
                        kind: AuthKind::Enforced,
                        how,
                        line,
                    });
                    break;
                }
            }
            let permissions = view
                .decorator("permission_classes")
                .map(|d| {
                    let text = d.args.first().map(|a| a.text.clone()).unwrap_or_default();
                    (text, view.file, d.line, "@permission_classes".to_string())
                })
                .or_else(|| {
                    view.attribute(facts, "permission_classes").map(|(fi, a)| {
                        (a.text.clone(), fi, a.line, "permission_classes".to_string())
                    })
                })
                .or_else(|| {
                    let (fi, line, text) = settings.permission_classes.clone()?;
                    view.is_drf(facts)
                        .then(|| (text, fi, line, "DEFAULT_PERMISSION_CLASSES".to_string()))
                });
            if let Some((text, fi, line, how)) = permissions {
                let names = list_names(&text);
                let safe = e
                    .method
                    .split(',')
                    .all(|m| matches!(m.trim(), "GET" | "HEAD" | "OPTIONS"));
                let closed = names.iter().any(|n| {
                    let name = n.as_str();
                    let open = OPEN_PERMISSIONS.contains(&name)
                        || (safe && READ_OPEN_PERMISSIONS.contains(&name));
                    !open
                });
                if closed {
                    let how = format!("{how} = [{}]", names.join(", "));
                    let (how, line) = located(facts, e, fi, line, how);
                    out.push(AuthEvidence {
                        kind: AuthKind::Enforced,
                        how,
                        line,
                    });
                }
            }
            e.auth.extend(out);
        }
    }
}

/// Auth evidence lines are lines of the endpoint's file: evidence in
/// another file (settings, a base class) names where it is and takes the
/// endpoint's line.
fn located(facts: &ProjectFacts, e: &Endpoint, fi: usize, line: u32, how: String) -> (String, u32) {
    if fi == e.file {
        (how, line)
    } else {
        (format!("{how} ({}:{line})", facts.file(fi).path), e.line)
    }
}

/// A file of URL patterns: it assigns `urlpatterns` and imports Django.
fn is_urlconf(file: &FileFacts) -> bool {
    file.lang.is_some_and(|l| l.is_python())
        && file.assignments.iter().any(|a| a.target == "urlpatterns")
        && file
            .imports
            .iter()
            .any(|i| i.module.starts_with("django") || i.module.starts_with("rest_framework"))
}

/// `path(…)`, `re_path(…)`, `url(…)` calls of a URL configuration.
fn url_calls(file: &FileFacts) -> impl Iterator<Item = &Call> {
    file.calls
        .iter()
        .filter(|c| matches!(last(&c.callee), "path" | "re_path" | "url") && c.args.len() >= 2)
}

/// What `include(…)` names.
enum Include {
    /// A URL configuration module.
    Module(usize),
    /// A DRF router: (its file, its variable).
    Router(usize, String),
}

/// The target of a view argument that is `include(…)`.
fn include(facts: &ProjectFacts, fi: usize, text: &str) -> Option<Include> {
    let inner = text.trim().strip_prefix("include(")?;
    let inner = inner.trim_start_matches(['(', '[', ' ']);
    let first: String = if let Some(q) = unquote_prefix(inner) {
        // include("app.urls")
        let import = Import {
            module: q,
            ..Import::default()
        };
        return facts.resolve_import(fi, &import).map(Include::Module);
    } else {
        inner
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
            .collect()
    };
    let file = facts.file(fi);
    // include(router.urls)
    if let Some(router) = first.strip_suffix(".urls") {
        let head = router.split('.').next().unwrap_or(router);
        if let Some(import) = file.import_of(head) {
            let target = facts.resolve_import(fi, import)?;
            let var = if router.contains('.') {
                last(router).to_string()
            } else {
                import.name.clone().unwrap_or_else(|| router.to_string())
            };
            if is_router(facts.file(target), &var) {
                return Some(Include::Router(target, var));
            }
            // `include(app.urls)` with `from app import urls`… as a module.
            return Some(Include::Module(target));
        }
        if is_router(file, router) {
            return Some(Include::Router(fi, router.to_string()));
        }
        return None;
    }
    // include(chat_urls) with `from chat import urls as chat_urls`.
    let import = file.import_of(first.split('.').next().unwrap_or(&first))?;
    facts.resolve_import(fi, import).map(Include::Module)
}

/// A quoted string at the start of a text: `"app.urls", namespace=…`.
fn unquote_prefix(text: &str) -> Option<String> {
    let q = text.chars().next()?;
    if !matches!(q, '"' | '\'') {
        return None;
    }
    let end = text[1..].find(q)?;
    Some(text[1..1 + end].to_string())
}

fn is_router(file: &FileFacts, var: &str) -> bool {
    file.assignments.iter().any(|a| {
        a.target == var
            && a.value_callee
                .as_deref()
                .is_some_and(|c| last(c).ends_with("Router"))
    })
}

/// The endpoints of one URL configuration under `prefix`.
fn walk(
    facts: &ProjectFacts,
    fi: usize,
    prefix: &str,
    depth: usize,
    seen: &mut HashSet<(usize, String)>,
    out: &mut Vec<Endpoint>,
) {
    if depth > MAX_DEPTH || !seen.insert((fi, prefix.to_string())) {
        return;
    }
    let file = facts.file(fi);
    let mut mounted_routers = HashSet::new();
    let calls: Vec<&Call> = url_calls(file).collect();
    let within = enclosing_includes(&calls);
    let mut cx = UrlList {
        facts,
        fi,
        calls: &calls,
        within: &within,
        depth,
        mounted_routers: &mut mounted_routers,
    };
    cx.walk_list(None, prefix, seen, out);
    // `urlpatterns += router.urls` / `urlpatterns = router.urls`: the
    // routers of this file that no include() mounts.
    for a in &file.assignments {
        if a.in_function.is_some() || !is_router(file, &a.target) {
            continue;
        }
        if !mounted_routers.contains(&(fi, a.target.clone())) {
            router_endpoints(facts, fi, &a.target, prefix, out);
        }
    }
}

/// The URL calls of one configuration file, each with the call whose
/// inline `include([…])` it is written in.
struct UrlList<'a, 'f> {
    facts: &'f ProjectFacts,
    fi: usize,
    calls: &'a [&'f Call],
    within: &'a [Option<usize>],
    depth: usize,
    mounted_routers: &'a mut HashSet<(usize, String)>,
}

impl UrlList<'_, '_> {
    /// The endpoints of the calls directly in `list` (the file's
    /// `urlpatterns` for `None`, else the inline include of that call).
    fn walk_list(
        &mut self,
        list: Option<usize>,
        prefix: &str,
        seen: &mut HashSet<(usize, String)>,
        out: &mut Vec<Endpoint>,
    ) {
        let (facts, fi) = (self.facts, self.fi);
        for (i, call) in self.calls.iter().enumerate() {
            if self.within[i] != list {
                continue;
            }
            let Some(route) = call.args.first().and_then(|a| unquote(&a.text)) else {
                continue;
            };
            let route = if last(&call.callee) == "path" {
                route
            } else {
                clean_regex(&route)
            };
            let full = join_paths(prefix, &route);
            let view = &call.args[1].text;
            if inline_include(call).is_some() {
                if self.depth < MAX_DEPTH {
                    self.depth += 1;
                    self.walk_list(Some(i), &full, seen, out);
                    self.depth -= 1;
                }
                continue;
            }
            if view.starts_with("include(") {
                match include(facts, fi, view) {
                    Some(Include::Module(t)) => walk(facts, t, &full, self.depth + 1, seen, out),
                    Some(Include::Router(t, var)) => {
                        self.mounted_routers.insert((t, var.clone()));
                        router_endpoints(facts, t, &var, &full, out);
                    }
                    None => {}
                }
                continue;
            }
            view_endpoints(facts, fi, view, &full, out);
        }
    }
}

/// The view argument of `path("api/", include([path(…), …]))` (also
/// `include(([…], "app_name"))`), whose URL calls are written inline.
fn inline_include(call: &Call) -> Option<&Arg> {
    let view = call.args.get(1)?;
    let inner = view.text.trim().strip_prefix("include(")?;
    inner
        .trim_start_matches(['(', ' ', '\n'])
        .starts_with('[')
        .then_some(view)
}

/// For each URL call, the innermost call whose inline include holds it.
fn enclosing_includes(calls: &[&Call]) -> Vec<Option<usize>> {
    let lists: Vec<(usize, &Arg)> = calls
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((i, inline_include(c)?)))
        .collect();
    calls
        .iter()
        .map(|c| {
            lists
                .iter()
                .filter(|(_, arg)| arg.encloses(c))
                .max_by_key(|(_, arg)| (arg.line, arg.column))
                .map(|(i, _)| *i)
        })
        .collect()
}

/// `^api/chat/(?P<pk>\d+)/$` → `api/chat/<pk>`.
fn clean_regex(route: &str) -> String {
    let named = Regex::new(r"\(\?P<(\w+)>[^)]*\)").expect("static regex");
    let route = named.replace_all(route, "<$1>");
    route
        .trim_start_matches('^')
        .trim_end_matches('$')
        .replace('\\', "")
}

/// The function or class a view argument names, resolved through imports:
/// (file, name).
fn resolve_name(facts: &ProjectFacts, fi: usize, text: &str) -> Option<(usize, String)> {
    let file = facts.file(fi);
    let head = text.split('.').next().unwrap_or(text);
    match file.import_of(head) {
        Some(import) => {
            let target = facts.resolve_import(fi, import)?;
            let name = if text.contains('.') {
                last(text).to_string()
            } else {
                import.name.clone().unwrap_or_else(|| text.to_string())
            };
            Some((facts.definition_file(target, &name), name))
        }
        None => Some((fi, last(text).to_string())),
    }
}

fn module_function(file: &FileFacts, name: &str) -> Option<usize> {
    file.functions
        .iter()
        .position(|f| f.name == name && f.parent.is_none())
}

fn method(file: &FileFacts, class: &str, name: &str) -> Option<usize> {
    let full = format!("{class}.{name}");
    file.functions.iter().position(|f| f.name == full)
}

/// Endpoints of a `path()` view argument: a function, `Class.as_view()`,
/// `ViewSet.as_view({"post": "create"})`.
fn view_endpoints(
    facts: &ProjectFacts,
    fi: usize,
    view: &str,
    path: &str,
    out: &mut Vec<Endpoint>,
) {
    let (name, actions) = match view.split_once(".as_view(") {
        Some((name, rest)) => (name, Some(rest)),
        None => (view.trim(), None),
    };
    let Some((target, name)) = resolve_name(facts, fi, name) else {
        return;
    };
    let file = facts.file(target);
    let push = |out: &mut Vec<Endpoint>, method: String, function: usize| {
        out.push(Endpoint::new(
            Framework::Django,
            method,
            path.to_string(),
            target,
            file.functions[function].line,
            Some(FnRef {
                file: target,
                function,
            }),
            "urlpatterns",
        ));
    };
    if actions.is_none() {
        if let Some(function) = module_function(file, &name) {
            push(
                out,
                function_methods(&file.functions[function].decorators),
                function,
            );
        }
        return;
    }
    let Some(class) = file.classes.iter().find(|c| c.name == name) else {
        return;
    };
    // as_view({"get": "list", "post": "create"})
    let mapping = Regex::new(r#"["'](\w+)["']\s*:\s*["'](\w+)["']"#).expect("static regex");
    let mapped: Vec<(String, String)> = actions
        .map(|a| {
            mapping
                .captures_iter(a)
                .map(|c| (c[1].to_uppercase(), c[2].to_string()))
                .collect()
        })
        .unwrap_or_default();
    if !mapped.is_empty() {
        for (http, action) in mapped {
            if let Some(f) = method(file, &class.name, &action)
                .or_else(|| method(file, &class.name, &format!("perform_{action}")))
            {
                push(out, http, f);
            }
        }
        return;
    }
    let mut any = false;
    for m in CLASS_METHODS {
        if let Some(f) = method(file, &class.name, m) {
            push(out, m.to_uppercase(), f);
            any = true;
        }
    }
    if !any {
        // Generic views: `CreateAPIView` with its `create`/`perform_create`.
        for (action, http, _) in VIEWSET_ACTIONS {
            if let Some(f) = method(file, &class.name, action) {
                push(out, http.to_string(), f);
                any = true;
            }
        }
    }
    if !any {
        // A view that answers every method itself.
        if let Some(f) = method(file, &class.name, "dispatch") {
            push(out, "ALL".into(), f);
        }
    }
}

/// The methods of a function view: `@api_view(["POST"])` (GET without
/// arguments), `@require_POST`, `@require_http_methods([…])`; all without.
fn function_methods(decorators: &[Call]) -> String {
    for d in decorators {
        let methods = |d: &Call| {
            d.args
                .first()
                .map(|a| {
                    a.text
                        .trim_matches(['[', ']', '(', ')'])
                        .replace(['"', '\'', ' '], "")
                        .trim_end_matches(',')
                        .to_uppercase()
                })
                .filter(|m| !m.is_empty())
        };
        match last(&d.callee) {
            "api_view" => return methods(d).unwrap_or_else(|| "GET".into()),
            "require_http_methods" => return methods(d).unwrap_or_else(|| "ALL".into()),
            "require_POST" => return "POST".into(),
            "require_GET" | "require_safe" => return "GET".into(),
            _ => {}
        }
    }
    "ALL".into()
}

/// The endpoints of a DRF router's registered ViewSets under `prefix`.
fn router_endpoints(
    facts: &ProjectFacts,
    fi: usize,
    var: &str,
    prefix: &str,
    out: &mut Vec<Endpoint>,
) {
    let file = facts.file(fi);
    let callee = format!("{var}.register");
    for call in file.calls.iter().filter(|c| c.callee == callee) {
        let (Some(route), Some(view)) = (
            call.args.first().and_then(|a| unquote(&a.text)),
            call.args.get(1),
        ) else {
            continue;
        };
        let base = join_paths(prefix, &route);
        let Some((target, name)) = resolve_name(facts, fi, &view.text) else {
            continue;
        };
        let vf = facts.file(target);
        let Some(class) = vf.classes.iter().find(|c| c.name == name) else {
            continue;
        };
        let mut push = |method: String, path: String, function: usize| {
            out.push(Endpoint::new(
                Framework::Django,
                method,
                path,
                target,
                vf.functions[function].line,
                Some(FnRef {
                    file: target,
                    function,
                }),
                "urlpatterns",
            ));
        };
        let mut done = HashSet::new();
        for (action, http, detail) in VIEWSET_ACTIONS {
            let Some(f) = method(vf, &class.name, action) else {
                continue;
            };
            // `create` and `perform_create` are one endpoint.
            if !done.insert((http, detail)) {
                continue;
            }
            let path = if detail {
                join_paths(&base, "<pk>")
            } else {
                base.clone()
            };
            push(http.to_string(), path, f);
        }
        // @action(detail=False, methods=["post"], url_path="ask")
        let own = format!("{}.", class.name);
        for (f, function) in vf.functions.iter().enumerate() {
            let Some(m) = function.name.strip_prefix(&own) else {
                continue;
            };
            let Some(d) = function
                .decorators
                .iter()
                .find(|d| last(&d.callee) == "action")
            else {
                continue;
            };
            let detail = kwarg(d, "detail").is_some_and(|a| a.text == "True");
            let methods = kwarg(d, "methods")
                .map(|a| {
                    a.text
                        .trim_matches(['[', ']', '(', ')'])
                        .replace(['"', '\'', ' '], "")
                        .trim_end_matches(',')
                        .to_uppercase()
                })
                .unwrap_or_else(|| "GET".into());
            let segment = kwarg(d, "url_path")
                .and_then(|a| unquote(&a.text))
                .unwrap_or_else(|| m.to_string());
            let at = if detail {
                join_paths(&base, "<pk>")
            } else {
                base.clone()
            };
            push(methods, join_paths(&at, &segment), f);
        }
    }
}

/// Names in a list or tuple text: `[IsAuthenticated, perms.IsOwner]`,
/// `(IsAuthenticated & IsOwner,)`, `["app.throttles.Burst"]` → last segments.
fn list_names(text: &str) -> Vec<String> {
    text.split([',', '&', '|', '[', ']', '(', ')', ' ', '\n'])
        .map(|s| s.trim().trim_matches(['"', '\'']))
        .filter(|s| {
            !s.is_empty()
                && s.chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_')
        })
        .map(|s| last(s).to_string())
        .collect()
}

/// The view an endpoint's handler belongs to.
struct View<'f> {
    file: usize,
    function: &'f crate::facts::Function,
    /// The class, for a method.
    class: Option<&'f Class>,
    /// The method's name in its class.
    method: Option<&'f str>,
}

impl<'f> View<'f> {
    fn of(facts: &'f ProjectFacts, e: &Endpoint) -> Option<View<'f>> {
        let h = e.handler?;
        let file = facts.file(h.file);
        let function = file.functions.get(h.function)?;
        let (class, method) = match function.name.split_once('.') {
            Some((c, m)) => (file.classes.iter().find(|k| k.name == c), Some(m)),
            None => (None, None),
        };
        Some(View {
            file: h.file,
            function,
            class,
            method,
        })
    }

    /// Decorators of the function, and those of its class that apply to
    /// it (`@method_decorator(…, name="post"/"dispatch")`).
    fn decorators(&self) -> impl Iterator<Item = &'f Call> + '_ {
        let class = self
            .class
            .into_iter()
            .flat_map(|c| c.decorators.iter())
            .filter(|d| {
                kwarg(d, "name")
                    .and_then(|n| unquote(&n.text))
                    .is_none_or(|n| n == "dispatch" || Some(n.as_str()) == self.method)
            });
        self.function.decorators.iter().chain(class)
    }

    fn decorator(&self, name: &str) -> Option<&'f Call> {
        self.function
            .decorators
            .iter()
            .find(|d| last(&d.callee) == name)
    }

    /// django-ratelimit decorators, direct or through `method_decorator`
    /// (their arguments are read from the inner call's text).
    fn ratelimits(&self) -> Vec<Call> {
        let mut out = Vec::new();
        let rate = Regex::new(r#"rate\s*=\s*(["'][^"']*["'])"#).expect("static regex");
        for d in self.decorators() {
            if last(&d.callee) == "ratelimit" {
                out.push(d.clone());
            } else if last(&d.callee) == "method_decorator" {
                let Some(inner) = d.args.first() else {
                    continue;
                };
                if !inner.text.starts_with("ratelimit(") && !inner.text.contains(".ratelimit(") {
                    continue;
                }
                let mut call = Call {
                    callee: "ratelimit".into(),
                    line: d.line,
                    ..Call::default()
                };
                if let Some(c) = rate.captures(&inner.text) {
                    call.args.push(crate::facts::Arg {
                        keyword: Some("rate".into()),
                        text: c[1].to_string(),
                        line: d.line,
                        ..Default::default()
                    });
                }
                if inner.text.contains("block=False") {
                    call.args.push(crate::facts::Arg {
                        keyword: Some("block".into()),
                        text: "False".into(),
                        ..Default::default()
                    });
                }
                out.push(call);
            }
        }
        out
    }

    /// The view's class and its project base classes, nearest first.
    fn chain(&self, facts: &'f ProjectFacts) -> Vec<(usize, &'f Class)> {
        let Some(class) = self.class else {
            return Vec::new();
        };
        class_chain(facts, self.file, class)
    }

    /// A class attribute of the view or its nearest base that sets it.
    fn attribute(&self, facts: &'f ProjectFacts, name: &str) -> Option<(usize, &'f Assignment)> {
        self.chain(facts).into_iter().find_map(|(fi, c)| {
            c.attributes
                .iter()
                .find(|a| a.target == name)
                .map(|a| (fi, a))
        })
    }

    /// A DRF view: `@api_view`, or a class whose bases reach an
    /// `APIView`, a generic API view or a ViewSet.
    fn is_drf(&self, facts: &'f ProjectFacts) -> bool {
        if self.decorator("api_view").is_some() {
            return true;
        }
        self.chain(facts).iter().any(|(_, c)| {
            c.bases.iter().any(|b| {
                let b = last(b);
                b.ends_with("APIView") || b.ends_with("ViewSet") || b.starts_with("ViewSet")
            })
        })
    }
}

/// A class and its project base classes (same file, imported, or defined
/// once elsewhere in the project), nearest first.
fn class_chain<'f>(
    facts: &'f ProjectFacts,
    fi: usize,
    class: &'f Class,
) -> Vec<(usize, &'f Class)> {
    let mut out = vec![(fi, class)];
    let mut i = 0;
    while i < out.len() && out.len() < MAX_DEPTH {
        let (f, c) = out[i];
        for base in &c.bases {
            if let Some(found) = find_class(facts, f, base) {
                if !out
                    .iter()
                    .any(|(g, k)| *g == found.0 && std::ptr::eq(*k, found.1))
                {
                    out.push(found);
                }
            }
        }
        i += 1;
    }
    out
}

/// A project class by the name a file uses for it.
fn find_class<'f>(facts: &'f ProjectFacts, fi: usize, name: &str) -> Option<(usize, &'f Class)> {
    let file = facts.file(fi);
    let head = name.split('.').next().unwrap_or(name);
    if let Some(import) = file.import_of(head) {
        let target = facts.resolve_import(fi, import)?;
        let wanted = if name.contains('.') {
            last(name).to_string()
        } else {
            import.name.clone().unwrap_or_else(|| name.to_string())
        };
        let t = facts.definition_file(target, &wanted);
        return facts
            .file(t)
            .classes
            .iter()
            .find(|c| c.name == wanted)
            .map(|c| (t, c));
    }
    file.classes
        .iter()
        .find(|c| c.name == name)
        .map(|c| (fi, c))
}

/// A class by its bare name anywhere in the project, when exactly one
/// file defines it (settings name throttles by dotted path).
fn unique_class<'f>(facts: &'f ProjectFacts, name: &str) -> Option<(usize, &'f Class)> {
    let mut found = facts.files().iter().enumerate().flat_map(|(fi, f)| {
        f.classes
            .iter()
            .filter(|c| c.name == name)
            .map(move |c| (fi, c))
    });
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// `REST_FRAMEWORK` of the project's settings: (file, line, value text).
#[derive(Default)]
struct Settings {
    throttle_classes: Option<(usize, u32, String)>,
    permission_classes: Option<(usize, u32, String)>,
    /// Scope → (rate as written, file, line).
    rates: Vec<(String, String, usize, u32)>,
    /// Cache alias → backend as written.
    caches: Vec<(String, String)>,
    /// `RATELIMIT_USE_CACHE` (django-ratelimit), unquoted.
    ratelimit_cache: Option<String>,
}

impl Settings {
    fn collect(facts: &ProjectFacts) -> Settings {
        let mut s = Settings::default();
        for (fi, f) in facts.files().iter().enumerate() {
            for d in &f.dict_entries {
                match (d.path.as_str(), d.key.as_str()) {
                    ("REST_FRAMEWORK", "DEFAULT_THROTTLE_CLASSES") => {
                        s.throttle_classes
                            .get_or_insert((fi, d.line, d.value.clone()));
                    }
                    ("REST_FRAMEWORK", "DEFAULT_PERMISSION_CLASSES") => {
                        s.permission_classes
                            .get_or_insert((fi, d.line, d.value.clone()));
                    }
                    (path, "BACKEND") if path.starts_with("CACHES.") => {
                        s.caches
                            .push((path["CACHES.".len()..].to_string(), d.value.clone()));
                    }
                    ("REST_FRAMEWORK.DEFAULT_THROTTLE_RATES", scope)
                        if !s.rates.iter().any(|r| r.0 == scope) =>
                    {
                        s.rates
                            .push((scope.to_string(), d.value.clone(), fi, d.line));
                    }
                    _ => {}
                }
            }
            if let Some(a) = f
                .assignments
                .iter()
                .find(|a| a.target == "RATELIMIT_USE_CACHE" && a.in_function.is_none())
            {
                s.ratelimit_cache = unquote(&a.text);
            }
        }
        s
    }

    /// A cache's backend (Django's default is process memory,
    /// `LocMemCache`) and whether processes share it: not in process
    /// memory, on one machine's disk, or a dummy that counts nothing.
    fn cache(&self, alias: &str) -> (String, bool) {
        let backend = self
            .caches
            .iter()
            .find(|c| c.0 == alias)
            .map(|c| c.1.trim_matches(['"', '\'']).to_string());
        match backend {
            None => ("LocMemCache (Django's default)".into(), false),
            Some(b) => {
                let local = [
                    "locmem",
                    "LocMem",
                    "dummy",
                    "Dummy",
                    "filebased",
                    "FileBased",
                ]
                .iter()
                .any(|w| b.contains(w));
                (last(&b).to_string(), !local)
            }
        }
    }

    fn rate(&self, scope: &str) -> Option<String> {
        self.rates
            .iter()
            .find(|r| r.0 == scope)
            .map(|r| r.1.clone())
            .filter(|r| r != "None")
    }
}

/// The rate of a throttle class on a view, as written.
fn throttle_rate(
    facts: &ProjectFacts,
    view: &View<'_>,
    class: &str,
    settings: &Settings,
) -> Option<String> {
    let scope_of_view = || {
        view.attribute(facts, "throttle_scope")
            .and_then(|(_, a)| unquote(&a.text))
    };
    let mut name = class.to_string();
    let mut at = view.file;
    for _ in 0..MAX_DEPTH {
        match name.as_str() {
            "AnonRateThrottle" => return settings.rate("anon"),
            "UserRateThrottle" => return settings.rate("user"),
            "ScopedRateThrottle" => return settings.rate(&scope_of_view()?),
            _ => {}
        }
        let (fi, c) = find_class(facts, at, &name).or_else(|| unique_class(facts, &name))?;
        if let Some(rate) = c.attributes.iter().find(|a| a.target == "rate") {
            return Some(rate.text.clone());
        }
        if let Some(scope) = c
            .attributes
            .iter()
            .find(|a| a.target == "scope")
            .and_then(|a| unquote(&a.text))
        {
            return settings.rate(&scope);
        }
        name = c.bases.first().map(|b| last(b).to_string())?;
        at = fi;
    }
    None
}

/// A DRF rate's window in seconds: `"5/min"`, `"100/day"`, `"10/s"` (DRF
/// reads the first letter of the period).
fn drf_window(rate: &str) -> Option<u64> {
    let rate = unquote(rate)?;
    let (_, period) = rate.split_once('/')?;
    Some(match period.trim().chars().next()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    })
}

/// A django-ratelimit rate's window: `5/m`, `100/h`, `10/5m`, `1/d`.
fn ratelimit_window(rate: &str) -> Option<u64> {
    let (_, period) = rate.split_once('/')?;
    let period = period.trim();
    let digits: String = period.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u64 = if digits.is_empty() {
        1
    } else {
        digits.parse().ok()?
    };
    let unit = match period[digits.len()..].chars().next()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    Some(n * unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(path: &str, code: &str) -> FileFacts {
        let lang = crate::lang::Lang::from_path(std::path::Path::new(path)).unwrap();
        FileFacts::of_source(path, lang, code.as_bytes())
    }

    #[test]
    fn facts_keep_classes_and_settings_dicts() {
        let f = facts(
            "chat/views.py",
            r#"@method_decorator(login_required, name="dispatch")
class ChatView(LoginRequiredMixin, APIView, metaclass=Meta):
    permission_classes = ()
    throttle_scope = "chat"

    def post(self, request):
        local = 1
"#,
        );
        let c = &f.classes[0];
        assert_eq!(c.name, "ChatView");
        assert_eq!(c.bases, vec!["LoginRequiredMixin", "APIView"]);
        assert_eq!(c.decorators[0].callee, "method_decorator");
        let attrs: Vec<&str> = c.attributes.iter().map(|a| a.target.as_str()).collect();
        assert_eq!(attrs, vec!["permission_classes", "throttle_scope"]);
        let s = facts(
            "mysite/settings.py",
            r#"REST_FRAMEWORK = {"DEFAULT_THROTTLE_RATES": {"user": "5/minute"}}
def f():
    LOCAL = {"a": 1}
"#,
        );
        let entries: Vec<(&str, &str, &str)> = s
            .dict_entries
            .iter()
            .map(|d| (d.path.as_str(), d.key.as_str(), d.value.as_str()))
            .collect();
        assert_eq!(
            entries,
            vec![
                (
                    "REST_FRAMEWORK",
                    "DEFAULT_THROTTLE_RATES",
                    r#"{"user": "5/minute"}"#
                ),
                (
                    "REST_FRAMEWORK.DEFAULT_THROTTLE_RATES",
                    "user",
                    r#""5/minute""#
                ),
            ]
        );
    }

    #[test]
    fn rates_parse_into_windows() {
        assert_eq!(drf_window("\"5/minute\""), Some(60));
        assert_eq!(drf_window("'100/day'"), Some(86_400));
        assert_eq!(drf_window("\"nonsense\""), None);
        assert_eq!(ratelimit_window("5/m"), Some(60));
        assert_eq!(ratelimit_window("10/5m"), Some(300));
        assert_eq!(ratelimit_window("100/h"), Some(3600));
    }

    #[test]
    fn regex_routes_read_as_paths() {
        assert_eq!(clean_regex(r"^chat/(?P<pk>\d+)/$"), "chat/<pk>/");
        assert_eq!(clean_regex("^api/$"), "api/");
    }

    #[test]
    fn permission_lists_are_names() {
        assert_eq!(
            list_names("(permissions.IsAuthenticated & IsOwner,)"),
            vec!["IsAuthenticated", "IsOwner"]
        );
        assert!(list_names("()").is_empty());
        assert!(list_names("[]").is_empty());
        assert_eq!(
            list_names(r#"["rest_framework.throttling.UserRateThrottle"]"#),
            vec!["UserRateThrottle"]
        );
    }
}
