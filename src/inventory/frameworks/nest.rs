//! NestJS. Endpoints are methods of `@Controller("prefix")` classes
//! decorated with `@Get`/`@Post`/`@Put`/`@Delete`/`@Patch`/`@All`/
//! `@Options`/`@Head`/`@Sse` (from `@nestjs/common`), their full path the
//! app's `app.setGlobalPrefix("api")` (its `exclude` list honoured), the
//! controller's prefix (a string, `{ path }` or a list) and the method's
//! path. Services injected in constructors are the engine's: a parameter
//! property (`private readonly chat: ChatService`) types `this.chat`.
//!
//! Auth: guards (`@UseGuards(…)` on the method or the controller, global
//! guards bound as an `APP_GUARD` provider or with `app.useGlobalGuards`)
//! that authenticate: passport's `AuthGuard("jwt")`, a project guard
//! extending it, one that throws `UnauthorizedException` or calls a
//! project function that rejects, or one named for auth. A `@Public()`-
//! style decorator (by name, or a project decorator made with
//! `SetMetadata` under a "public" key) skips the guards that read that
//! metadata (project guards that ask the `Reflector`): the route is open.
//!
//! Limits: `@nestjs/throttler`. `ThrottlerModule.forRoot(…)` (v4 `{ ttl,
//! limit }` in seconds, v5+ `[{ ttl, limit }]` / `{ throttlers: […] }` in
//! milliseconds, named throttlers, `seconds(…)`/`minutes(…)` helpers)
//! limits only routes a `ThrottlerGuard` (or a subclass) covers: bound
//! globally, or by `@UseGuards`. `@Throttle({ name: { limit, ttl } })`
//! overrides a throttler for a route or controller, `@SkipThrottle()`
//! removes it. The throttler's `storage` decides the store: in process
//! memory unless it names a shared one (`ThrottlerStorageRedisService`).
//!
//! URI versioning (`app.enableVersioning()`, type URI) puts `v<version>`
//! after the global prefix: the controller's `version`, a method's
//! `@Version(…)`, else `defaultVersion`; `VERSION_NEUTRAL` adds none.
//! Guards and `@Public()`/`@SkipThrottle()` on a controller's project base
//! classes apply to its routes.
//!
//! `RouterModule.register([{ path, module }])` puts the path before the
//! controllers the module lists (its `children` are not read).
//! CORS (`app.enableCors()`, `NestFactory.create(…, { cors: true })`) is
//! `checks/cors.rs`.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::{join_paths, unquote, Family, Framework};
use crate::facts::{Call, Class, FileFacts, FnRef, ProjectFacts};
use crate::inventory::auth::{last, named, AuthContext};
use crate::inventory::limits::{LimitScope, Limiter};
use crate::inventory::{AuthEvidence, AuthKind, Endpoint, Limit, Misuse};

pub struct Nest;

const FRAMEWORKS: &[Framework] = &[Framework::Nest];

/// Where the routing decorators come from.
const COMMON: &str = "@nestjs/common";

/// Route decorators and their HTTP methods (`@Sse` answers GET).
const ROUTES: [(&str, &str); 9] = [
    ("Get", "GET"),
    ("Post", "POST"),
    ("Put", "PUT"),
    ("Delete", "DELETE"),
    ("Patch", "PATCH"),
    ("All", "ALL"),
    ("Options", "OPTIONS"),
    ("Head", "HEAD"),
    ("Sse", "GET"),
];

/// The throttler's default storage, in process memory.
const MEMORY_STORAGE: &str = "ThrottlerStorageService(";

/// The throttler's guard; project guards extending it throttle too.
const THROTTLER_GUARD: &str = "ThrottlerGuard";

/// Passport's guard factory (`AuthGuard("jwt")`), and guards of auth
/// libraries.
const AUTH_GUARDS: [&str; 4] = [
    "AuthGuard",
    "ClerkAuthGuard",
    "SupabaseAuthGuard",
    "FirebaseAuthGuard",
];

/// Words of a guard's name that say it authenticates (lower case).
const AUTH_GUARD_WORDS: [&str; 7] = [
    "auth", "jwt", "apikey", "api_key", "session", "token", "login",
];

/// Exceptions a guard throws when there is no user.
const REJECTIONS: [&str; 2] = ["UnauthorizedException", "ForbiddenException"];

/// Decorators that open a route by name.
const PUBLIC_DECORATORS: [&str; 7] = [
    "Public",
    "IsPublic",
    "PublicRoute",
    "AllowAnonymous",
    "Anonymous",
    "SkipAuth",
    "NoAuth",
];

/// Words of a `SetMetadata` key that mark a route as open (lower case).
const PUBLIC_WORDS: [&str; 5] = ["public", "anonymous", "skipauth", "skip_auth", "noauth"];

/// How deep guard base classes are followed.
const MAX_DEPTH: usize = 4;

impl Family for Nest {
    fn frameworks(&self) -> &'static [Framework] {
        FRAMEWORKS
    }

    fn project_endpoints(&self, facts: &ProjectFacts, out: &mut Vec<Endpoint>) {
        let prefixes = global_prefixes(facts);
        let versionings = uri_versionings(facts);
        let module_paths = router_module_paths(facts);
        for (fi, file) in facts.files().iter().enumerate() {
            if file.lang.is_none_or(|l| l.is_python()) || file.classes.is_empty() {
                continue;
            }
            for class in &file.classes {
                let Some(controller) = class
                    .decorators
                    .iter()
                    .find(|d| from_nest(file, &d.callee, "Controller"))
                else {
                    continue;
                };
                let global = prefixes
                    .iter()
                    .filter(|p| in_app(facts, p.file, fi))
                    .max_by_key(|p| facts.file(p.file).path.len());
                let versioning = versionings
                    .iter()
                    .filter(|v| in_app(facts, v.file, fi))
                    .max_by_key(|v| facts.file(v.file).path.len());
                let versions = versioning.map(|v| {
                    let own = controller.args.first().and_then(|a| {
                        a.pairs
                            .iter()
                            .find(|(k, _)| k == "version")
                            .map(|(_, t)| versions_of(t))
                    });
                    (v, own.unwrap_or_else(|| v.default.clone()))
                });
                for base in controller_paths(controller) {
                    let base = match module_paths.get(&class.name) {
                        Some(module) => join_paths(module, &base),
                        None => base,
                    };
                    let excluded = global.is_some_and(|g| {
                        g.exclude
                            .iter()
                            .any(|x| x.trim_matches('/') == base.trim_matches('/'))
                    });
                    let global = match global {
                        Some(g) if !excluded => g.prefix.as_str(),
                        _ => "",
                    };
                    let at = Mount {
                        global,
                        base: &base,
                        versions: versions.as_ref().map(|(v, own)| (v.prefix.as_str(), own)),
                    };
                    route_methods(fi, file, class, &at, out);
                }
            }
        }
    }

    fn limiters(&self, facts: &ProjectFacts, out: &mut Vec<Limiter>) {
        let configs = collect_throttlers(facts, &[]);
        if configs.is_empty() {
            return;
        }
        let guards = Guards::collect(facts);
        for config in configs {
            let bound = guards.global.iter().any(|g| {
                g.kind(facts) == GuardKind::Throttle && in_app(facts, g.file, config.file)
            }) || guards
                .local_throttle
                .iter()
                .any(|f| in_app(facts, *f, config.file));
            if bound {
                out.push(Limiter {
                    kind: "@nestjs/throttler".into(),
                    file: config.file,
                    line: config.line,
                    column: 1,
                    shared_store: config.shared,
                    variable: config.callee.clone(),
                });
            }
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
        let guards = Guards::collect(facts);
        let configs = collect_throttlers(facts, &scope.catalog.rate_limit.shared_store_words);
        for e in endpoints.iter_mut() {
            let Some(route) = Route::of(facts, e) else {
                continue;
            };
            // The ThrottlerGuard that covers the route, if any.
            let local = route
                .guards()
                .into_iter()
                .find(|(fi, g, _)| guard_kind(facts, *fi, g, 0) == GuardKind::Throttle);
            let bound = match local {
                Some((_, g, d)) => Some((format!("@UseGuards({g})"), e.file, d.line)),
                None => guards
                    .global
                    .iter()
                    .find(|g| g.kind(facts) == GuardKind::Throttle && in_app(facts, g.file, e.file))
                    .map(|g| (g.how(facts), g.file, g.line)),
            };
            let Some((how, gfile, gline)) = bound else {
                continue;
            };
            let skipped = route.skipped();
            let config = configs
                .iter()
                .filter(|c| in_app(facts, c.file, e.file))
                .max_by_key(|c| facts.file(c.file).path.len());
            let overrides = route.overrides();
            let throttlers: Vec<Throttler> = match config {
                Some(c) if !c.throttlers.is_empty() => c.throttlers.clone(),
                // Limits not read (`forRootAsync` with values from config):
                // the overrides, or one throttler of unknown window.
                _ if !overrides.is_empty() => overrides.iter().map(|(t, _, _)| t.clone()).collect(),
                _ => vec![Throttler::named("default")],
            };
            for t in throttlers {
                if skipped.is_skipped(&t.name) {
                    continue;
                }
                let over = overrides.iter().find(|(o, _, _)| o.name == t.name);
                let (t, file, line, how) = match (over, config) {
                    (Some((o, fi, line)), _) => (
                        t.merged(o),
                        *fi,
                        *line,
                        format!(
                            "@Throttle on {}, throttler `{}`, under {how}",
                            route.name(),
                            t.name
                        ),
                    ),
                    (None, Some(c)) => {
                        let how = format!("{how}, {} throttler `{}`", c.callee, t.name);
                        (t, c.file, c.line, how)
                    }
                    (None, None) => (t, gfile, gline, how.clone()),
                };
                e.limits.push(Limit {
                    how,
                    file,
                    line,
                    spec: t.spec(),
                    windows: t.ttl.into_iter().collect(),
                });
            }
        }
    }

    fn declared_auth(&self, cx: &AuthContext<'_>, endpoints: &mut [&mut Endpoint]) {
        if endpoints.is_empty() {
            return;
        }
        let facts = cx.facts;
        let guards = Guards::collect(facts);
        for e in endpoints.iter_mut() {
            let Some(route) = Route::of(facts, e) else {
                continue;
            };
            let public = route.is_public(facts);
            let mut out = Vec::new();
            for (fi, g, d) in route.guards() {
                let is_auth = guard_kind(facts, fi, &g, 0) == GuardKind::Auth
                    || named(&cx.spec.js_middleware, guard_name(&g))
                    || rejects(cx, fi, &g);
                if !is_auth || (public && honors_public(facts, fi, &g)) {
                    continue;
                }
                let on_class = route.class.decorators.iter().any(|c| std::ptr::eq(c, d));
                out.push(AuthEvidence {
                    kind: AuthKind::Enforced,
                    how: if on_class {
                        format!("@UseGuards({g}) on {}", route.class.name)
                    } else {
                        format!("@UseGuards({g})")
                    },
                    line: d.line,
                });
            }
            for g in guards
                .global
                .iter()
                .filter(|g| in_app(facts, g.file, e.file))
            {
                let is_auth = g.kind(facts) == GuardKind::Auth
                    || named(&cx.spec.js_middleware, guard_name(&g.guard))
                    || rejects(cx, g.file, &g.guard);
                if !is_auth || (public && honors_public(facts, g.file, &g.guard)) {
                    continue;
                }
                out.push(AuthEvidence {
                    kind: AuthKind::Enforced,
                    how: g.how(facts),
                    line: e.line,
                });
            }
            e.auth.extend(out);
        }
    }
}

/// Is `name` (a decorator's callee) the `wanted` export of `@nestjs/common`
/// in this file?
fn from_nest(file: &FileFacts, name: &str, wanted: &str) -> bool {
    file.import_of(name)
        .is_some_and(|i| i.module == COMMON && i.name.as_deref() == Some(wanted))
}

/// The prefixes a `@Controller(…)` gives its routes: `"chat"`, `{ path:
/// "chat" }`, `["a", "b"]`, none.
fn controller_paths(d: &Call) -> Vec<String> {
    let Some(arg) = d.args.first() else {
        return vec![String::new()];
    };
    if let Some(p) = unquote(&arg.text) {
        return vec![p];
    }
    if let Some((_, v)) = arg.pairs.iter().find(|(k, _)| k == "path") {
        return strings(v).into_iter().take(8).collect::<Vec<_>>().or_root();
    }
    if arg.text.starts_with('[') {
        return strings(&arg.text).or_root();
    }
    // `@Controller({ host: … })`, or a constant: no prefix we can read.
    vec![String::new()]
}

trait OrRoot {
    fn or_root(self) -> Vec<String>;
}

impl OrRoot for Vec<String> {
    fn or_root(self) -> Vec<String> {
        if self.is_empty() {
            vec![String::new()]
        } else {
            self
        }
    }
}

/// The quoted strings of a text (`["a", 'b']` → a, b).
fn strings(text: &str) -> Vec<String> {
    static QUOTED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"["'`]([^"'`]*)["'`]"#).expect("static regex"));
    QUOTED
        .captures_iter(text)
        .map(|c| c[1].to_string())
        .collect()
}

/// Where a controller's routes hang: the global prefix, the controller's
/// path, and with URI versioning, its prefix (`v`) and the controller's
/// versions (`None`: `VERSION_NEUTRAL`, no segment).
struct Mount<'a> {
    global: &'a str,
    base: &'a str,
    versions: Option<(&'a str, &'a Vec<Option<String>>)>,
}

impl Mount<'_> {
    /// The full paths of a route written `path` with these decorators
    /// (`@Version("2")` overrides the controller's versions).
    fn paths(&self, file: &FileFacts, decorators: &[Call], path: &str) -> Vec<String> {
        let Some((prefix, controller)) = self.versions else {
            return vec![join_paths(&join_paths(self.global, self.base), path)];
        };
        let own = decorators
            .iter()
            .find(|d| from_nest(file, &d.callee, "Version"))
            .and_then(|d| d.args.first())
            .map(|a| versions_of(&a.text));
        let versions = own.as_ref().unwrap_or(controller);
        let versions: Vec<Option<String>> = match versions.is_empty() {
            true => vec![None],
            false => versions.clone(),
        };
        versions
            .iter()
            .map(|v| {
                let segment = v
                    .as_ref()
                    .map(|v| format!("{prefix}{v}"))
                    .unwrap_or_default();
                let versioned = join_paths(self.global, &segment);
                join_paths(&join_paths(&versioned, self.base), path)
            })
            .collect()
    }
}

/// `RouterModule.register([{ path: "admin", module: AdminModule }])`: the
/// path of each controller the module lists (`@Module({ controllers: […]
/// })`), by controller class name. Nested `children` are not read.
fn router_module_paths(facts: &ProjectFacts) -> HashMap<String, String> {
    static ROUTE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"path\s*:\s*["'`]([^"'`]*)["'`]\s*,\s*module\s*:\s*([\w$]+)|module\s*:\s*([\w$]+)\s*,\s*path\s*:\s*["'`]([^"'`]*)["'`]"#,
        )
        .expect("static regex")
    });
    let mut modules: HashMap<String, String> = HashMap::new();
    for file in facts.files() {
        for c in file
            .calls
            .iter()
            .filter(|c| c.callee.ends_with("RouterModule.register"))
        {
            let Some(routes) = c.args.first() else {
                continue;
            };
            for cap in ROUTE.captures_iter(&routes.text) {
                let (path, module) = match (cap.get(1), cap.get(2)) {
                    (Some(p), Some(m)) => (p, m),
                    _ => match (cap.get(4), cap.get(3)) {
                        (Some(p), Some(m)) => (p, m),
                        _ => continue,
                    },
                };
                modules.insert(module.as_str().to_string(), path.as_str().to_string());
            }
        }
    }
    let mut out = HashMap::new();
    if modules.is_empty() {
        return out;
    }
    for file in facts.files() {
        for class in &file.classes {
            let Some(path) = modules.get(&class.name) else {
                continue;
            };
            let listed = class
                .decorators
                .iter()
                .filter(|d| last(&d.callee) == "Module")
                .filter_map(|d| d.args.first())
                .flat_map(|a| a.pairs.iter())
                .filter(|(k, _)| k == "controllers")
                .flat_map(|(_, v)| list_names(v));
            for controller in listed {
                out.insert(controller, path.clone());
            }
        }
    }
    out
}

/// `[ChatController, AdminController]` → the names.
fn list_names(text: &str) -> Vec<String> {
    text.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(|n| n.trim().to_string())
        .filter(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        })
        .collect()
}

/// `app.enableVersioning({ type: VersioningType.URI, defaultVersion: "1" })`
/// (URI is also the type with no options).
struct Versioning {
    file: usize,
    prefix: String,
    default: Vec<Option<String>>,
}

fn uri_versionings(facts: &ProjectFacts) -> Vec<Versioning> {
    let mut out = Vec::new();
    for (fi, file) in facts.files().iter().enumerate() {
        for c in file
            .calls
            .iter()
            .filter(|c| last(&c.callee) == "enableVersioning")
        {
            let pairs: &[(String, String)] = c.args.first().map_or(&[], |a| &a.pairs);
            let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim());
            if value("type").is_some_and(|t| !t.ends_with("URI")) {
                continue;
            }
            let prefix = match value("prefix") {
                Some("false") => String::new(),
                Some(p) => unquote(p).unwrap_or_else(|| "v".into()),
                None => "v".into(),
            };
            out.push(Versioning {
                file: fi,
                prefix,
                default: value("defaultVersion").map(versions_of).unwrap_or_default(),
            });
        }
    }
    out
}

/// `"1"`, `["1", "2"]`, `VERSION_NEUTRAL` → the versions (`None`: neutral).
fn versions_of(text: &str) -> Vec<Option<String>> {
    let t = text.trim();
    if t.contains("VERSION_NEUTRAL") && !t.starts_with('[') {
        return vec![None];
    }
    let mut out: Vec<Option<String>> = strings(t).into_iter().map(Some).collect();
    if t.starts_with('[') && t.contains("VERSION_NEUTRAL") {
        out.push(None);
    }
    out
}

/// The endpoints of one controller's methods, mounted at `at`.
fn route_methods(
    fi: usize,
    file: &FileFacts,
    class: &Class,
    at: &Mount<'_>,
    out: &mut Vec<Endpoint>,
) {
    let own = format!("{}.", class.name);
    for (index, f) in file.functions.iter().enumerate() {
        if !f.name.starts_with(&own) || f.name[own.len()..].contains('.') {
            continue;
        }
        for d in &f.decorators {
            let Some(&(_, method)) = ROUTES.iter().find(|(n, _)| from_nest(file, &d.callee, n))
            else {
                continue;
            };
            let paths = match d.args.first() {
                None => vec![String::new()],
                Some(a) => match unquote(&a.text) {
                    Some(p) => vec![p],
                    None if a.text.starts_with('[') => strings(&a.text).or_root(),
                    None => vec![String::new()],
                },
            };
            for full in paths.iter().flat_map(|p| at.paths(file, &f.decorators, p)) {
                out.push(Endpoint::new(
                    Framework::Nest,
                    method.to_string(),
                    full,
                    fi,
                    f.line,
                    Some(FnRef {
                        file: fi,
                        function: index,
                    }),
                    &class.name,
                ));
            }
        }
    }
}

/// `app.setGlobalPrefix("api", { exclude: ["health"] })`.
struct GlobalPrefix {
    file: usize,
    prefix: String,
    exclude: Vec<String>,
}

fn global_prefixes(facts: &ProjectFacts) -> Vec<GlobalPrefix> {
    let mut out = Vec::new();
    for (fi, file) in facts.files().iter().enumerate() {
        for c in file
            .calls
            .iter()
            .filter(|c| last(&c.callee) == "setGlobalPrefix")
        {
            let Some(prefix) = c.args.first().and_then(|a| unquote(&a.text)) else {
                continue;
            };
            let exclude = c
                .args
                .get(1)
                .and_then(|o| o.pairs.iter().find(|(k, _)| k == "exclude"))
                .map(|(_, v)| strings(v))
                .unwrap_or_default();
            out.push(GlobalPrefix {
                file: fi,
                prefix,
                exclude,
            });
        }
    }
    out
}

/// Same app: the folder of `config` (its `src/` left out) holds `file`.
fn in_app(facts: &ProjectFacts, config: usize, file: usize) -> bool {
    let path = &facts.file(config).path;
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    let root = dir
        .strip_suffix("/src")
        .or_else(|| (dir == "src").then_some(""))
        .unwrap_or(dir);
    root.is_empty() || facts.file(file).path.starts_with(&format!("{root}/"))
}

/// One endpoint's controller and method.
struct Route<'f> {
    file: &'f FileFacts,
    fi: usize,
    class: &'f Class,
    method: &'f crate::facts::Function,
    /// The controller's project base classes, nearest first (a guard
    /// decorating a base controller guards its subclasses' routes).
    ancestors: Vec<(usize, &'f FileFacts, &'f Class)>,
}

impl<'f> Route<'f> {
    fn of(facts: &'f ProjectFacts, e: &Endpoint) -> Option<Route<'f>> {
        let h = e.handler?;
        let file = facts.file(e.file);
        let class = file.classes.iter().find(|c| c.name == e.object)?;
        let mut ancestors = Vec::new();
        let (mut at, mut current) = (e.file, class);
        while ancestors.len() < MAX_DEPTH {
            let Some(base) = current.bases.first() else {
                break;
            };
            let Some((bi, b)) = find_class(facts, at, guard_name(base)) else {
                break;
            };
            ancestors.push((bi, facts.file(bi), b));
            (at, current) = (bi, b);
        }
        Some(Route {
            file,
            fi: e.file,
            class,
            method: facts.function(h),
            ancestors,
        })
    }

    /// The decorators of the controller's base classes, with their files.
    fn inherited(&self) -> impl Iterator<Item = (usize, &'f FileFacts, &'f Call)> + '_ {
        self.ancestors
            .iter()
            .flat_map(|&(fi, file, c)| c.decorators.iter().map(move |d| (fi, file, d)))
    }

    fn name(&self) -> &str {
        &self.method.name
    }

    /// The decorators of the method, then of the controller.
    fn decorators(&self) -> impl Iterator<Item = &'f Call> {
        self.method.decorators.iter().chain(&self.class.decorators)
    }

    /// Guards of `@UseGuards(…)` on the method and the controller: (the
    /// file, the guard as written, the decorator).
    fn guards(&self) -> Vec<(usize, String, &'f Call)> {
        self.decorators()
            .map(|d| (self.fi, self.file, d))
            .chain(self.inherited())
            .filter(|(_, file, d)| from_nest(file, &d.callee, "UseGuards"))
            .flat_map(|(fi, _, d)| d.args.iter().map(move |a| (fi, a.text.clone(), d)))
            .collect()
    }

    fn is_public(&self, facts: &ProjectFacts) -> bool {
        self.decorators()
            .map(|d| (self.fi, d))
            .chain(self.inherited().map(|(fi, _, d)| (fi, d)))
            .any(|(fi, d)| is_public_decorator(facts, fi, &d.callee))
    }

    /// `@SkipThrottle()` on the controller, then on the method.
    fn skipped(&self) -> Skips {
        let mut skips = Skips::default();
        let inherited = self
            .ancestors
            .iter()
            .rev()
            .flat_map(|(_, _, c)| &c.decorators);
        for d in inherited
            .chain(&self.class.decorators)
            .chain(&self.method.decorators)
        {
            if last(&d.callee) != "SkipThrottle" {
                continue;
            }
            match d.args.first() {
                None => skips.all = true,
                Some(a) if a.text.trim() == "true" => skips.all = true,
                Some(a) if a.text.trim() == "false" => skips.all = false,
                Some(a) => {
                    for (name, v) in &a.pairs {
                        skips.set(name, v.trim() != "false");
                    }
                }
            }
        }
        skips
    }

    /// `@Throttle(…)` overrides, the method's before the controller's:
    /// (throttler, file, line).
    fn overrides(&self) -> Vec<(Throttler, usize, u32)> {
        let mut out: Vec<(Throttler, usize, u32)> = Vec::new();
        for d in self.method.decorators.iter().chain(&self.class.decorators) {
            if last(&d.callee) != "Throttle" {
                continue;
            }
            let found = match d.args.first() {
                Some(a) if !a.pairs.is_empty() => a
                    .pairs
                    .iter()
                    .map(|(name, v)| Throttler::from_text(name, v, true))
                    .collect(),
                // v4: `@Throttle(limit, ttlSeconds)`.
                Some(a) => vec![Throttler {
                    name: "default".into(),
                    limit: Some(a.text.clone()),
                    ttl: d.args.get(1).and_then(|t| duration(&t.text, false)),
                    ttl_text: d.args.get(1).map(|t| ttl_shown(&t.text, false)),
                }],
                None => Vec::new(),
            };
            for t in found {
                if !out.iter().any(|(o, _, _)| o.name == t.name) {
                    out.push((t, self.fi, d.line));
                }
            }
        }
        out
    }
}

#[derive(Default)]
struct Skips {
    all: bool,
    named: Vec<(String, bool)>,
}

impl Skips {
    fn set(&mut self, name: &str, skip: bool) {
        self.named.retain(|(n, _)| n != name);
        self.named.push((name.to_string(), skip));
    }

    fn is_skipped(&self, name: &str) -> bool {
        self.named
            .iter()
            .find(|(n, _)| n == name)
            .map_or(self.all, |(_, s)| *s)
    }
}

/// One throttler: its name, limit and window (seconds).
#[derive(Clone, Debug)]
struct Throttler {
    name: String,
    limit: Option<String>,
    ttl: Option<u64>,
    ttl_text: Option<String>,
}

impl Throttler {
    fn named(name: &str) -> Throttler {
        Throttler {
            name: name.to_string(),
            limit: None,
            ttl: None,
            ttl_text: None,
        }
    }

    /// From an object's text (`{ limit: 3, ttl: 60000 }`); `ms`: its ttl is
    /// in milliseconds (v5+).
    fn from_text(name: &str, text: &str, ms: bool) -> Throttler {
        static PAIR: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"\b(name|limit|ttl)\s*:\s*([^,}]+)").expect("static regex")
        });
        let value = |key: &str| {
            PAIR.captures_iter(text)
                .find(|c| &c[1] == key)
                .map(|c| c[2].trim().to_string())
        };
        let ttl_text = value("ttl");
        Throttler {
            name: value("name")
                .and_then(|n| unquote(&n))
                .unwrap_or_else(|| name.to_string()),
            limit: value("limit"),
            ttl: ttl_text.as_deref().and_then(|t| duration(t, ms)),
            ttl_text: ttl_text.map(|t| ttl_shown(&t, ms)),
        }
    }

    /// A route's override of this throttler (what it does not say stays).
    fn merged(&self, o: &Throttler) -> Throttler {
        Throttler {
            name: self.name.clone(),
            limit: o.limit.clone().or_else(|| self.limit.clone()),
            ttl: o.ttl.or(self.ttl),
            ttl_text: o.ttl_text.clone().or_else(|| self.ttl_text.clone()),
        }
    }

    fn spec(&self) -> String {
        match (&self.limit, &self.ttl_text) {
            (Some(l), Some(t)) => format!("limit {l} per ttl {t}"),
            (Some(l), None) => format!("limit {l}"),
            (None, Some(t)) => format!("ttl {t}"),
            (None, None) => "limits not read".into(),
        }
    }
}

/// A ttl as written, with its unit when it is a bare number.
fn ttl_shown(text: &str, ms: bool) -> String {
    match (text.contains('('), ms) {
        (true, _) => text.to_string(),
        (false, true) => format!("{text} ms"),
        (false, false) => format!("{text} s"),
    }
}

/// Seconds of a ttl as written: `60000` (ms when `ms`), `60_000`,
/// `60 * 1000`, `seconds(60)`, `minutes(1)`, `hours(24)`, `days(1)`.
fn duration(text: &str, ms: bool) -> Option<u64> {
    let t = text.trim();
    static HELPER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(seconds|minutes|hours|days)\(\s*([\d_]+)\s*\)$").expect("static regex")
    });
    if let Some(c) = HELPER.captures(t) {
        let n: u64 = c[2].replace('_', "").parse().ok()?;
        return Some(
            n * match &c[1] {
                "seconds" => 1,
                "minutes" => 60,
                "hours" => 3600,
                _ => 86_400,
            },
        );
    }
    let mut product: u64 = 1;
    for part in t.split('*') {
        product = product.checked_mul(part.trim().replace('_', "").parse().ok()?)?;
    }
    Some(if ms { product / 1000 } else { product })
}

/// `ThrottlerModule.forRoot(…)` / `forRootAsync(…)` of one file.
struct ThrottlerConfig {
    file: usize,
    line: u32,
    callee: String,
    throttlers: Vec<Throttler>,
    shared: bool,
}

fn collect_throttlers(facts: &ProjectFacts, shared_words: &[String]) -> Vec<ThrottlerConfig> {
    let mut out = Vec::new();
    for (fi, file) in facts.files().iter().enumerate() {
        for c in file.calls.iter().filter(|c| c.in_function.is_none()) {
            let async_form = c.callee.ends_with("ThrottlerModule.forRootAsync");
            if !(c.callee.ends_with("ThrottlerModule.forRoot") || async_form) {
                continue;
            }
            let path = c.callee.as_str();
            let entries: Vec<&crate::facts::DictEntry> = file
                .dict_entries
                .iter()
                .filter(|d| {
                    d.path == path
                        || d.path.starts_with(&format!("{path}["))
                        || d.path.starts_with(&format!("{path}."))
                })
                .filter(|d| d.line >= c.line)
                .collect();
            let mut throttlers: Vec<Throttler> = Vec::new();
            // v5+: `forRoot([{ … }])` or `forRoot({ throttlers: [{ … }] })`.
            let mut groups: Vec<&str> = entries
                .iter()
                .map(|d| d.path.as_str())
                .filter(|p| {
                    let rest = &p[path.len()..];
                    let rest = rest.strip_prefix(".throttlers").unwrap_or(rest);
                    rest.starts_with('[') && rest.ends_with(']') && !rest[1..].contains('[')
                })
                .collect();
            groups.dedup();
            for g in groups {
                let text: String = entries
                    .iter()
                    .filter(|d| d.path == g)
                    .map(|d| format!("{}: {}, ", d.key, d.value))
                    .collect();
                let mut t = Throttler::from_text("default", &format!("{{ {text} }}"), true);
                if t.name == "default" {
                    let index = throttlers.len();
                    if index > 0 {
                        t.name = format!("default#{index}");
                    }
                }
                throttlers.push(t);
            }
            // v4: `forRoot({ ttl: 60, limit: 10 })`, in seconds.
            let top = |key: &str| entries.iter().find(|d| d.path == path && d.key == key);
            if throttlers.is_empty() {
                if let Some(ttl) = top("ttl") {
                    let ms = ttl.value.contains('(');
                    throttlers.push(Throttler {
                        name: "default".into(),
                        limit: top("limit").map(|d| d.value.clone()),
                        ttl: duration(&ttl.value, ms),
                        ttl_text: Some(ttl_shown(&ttl.value, ms)),
                    });
                }
            }
            // `forRootAsync({ useFactory: () => ({ … }) })`: read what the
            // argument's text shows.
            let text: String = c
                .args
                .iter()
                .map(|a| a.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            if throttlers.is_empty() && async_form && text.contains("ttl") {
                throttlers.push(Throttler::from_text("default", &text, true));
            }
            let storage = top("storage").map(|d| d.value.clone()).unwrap_or_else(|| {
                if async_form && text.contains("storage") {
                    text.clone()
                } else {
                    String::new()
                }
            });
            // A storage other than the default in-memory one counts in a
            // store the processes share (Redis, Mongo, a project storage).
            let shared = shared_words.iter().any(|w| storage.contains(w.as_str()))
                || (!storage.is_empty() && !storage.contains(MEMORY_STORAGE));
            out.push(ThrottlerConfig {
                file: fi,
                line: c.line,
                callee: last_two(&c.callee),
                throttlers,
                shared,
            });
        }
    }
    out
}

/// `ThrottlerModule.forRoot`.
fn last_two(callee: &str) -> String {
    let mut parts: Vec<&str> = callee.rsplit('.').take(2).collect();
    parts.reverse();
    parts.join(".")
}

/// Guards bound to the whole app.
struct GlobalGuard {
    file: usize,
    line: u32,
    guard: String,
    /// `APP_GUARD` or `app.useGlobalGuards`.
    by: &'static str,
}

impl GlobalGuard {
    fn kind(&self, facts: &ProjectFacts) -> GuardKind {
        guard_kind(facts, self.file, &self.guard, 0)
    }

    fn how(&self, facts: &ProjectFacts) -> String {
        format!(
            "global guard {} ({} in {}:{})",
            guard_name(&self.guard),
            self.by,
            facts.file(self.file).path,
            self.line
        )
    }
}

struct Guards {
    global: Vec<GlobalGuard>,
    /// Files whose `@UseGuards` bind a ThrottlerGuard.
    local_throttle: Vec<usize>,
}

impl Guards {
    fn collect(facts: &ProjectFacts) -> Guards {
        let mut global = Vec::new();
        let mut local_throttle = Vec::new();
        for (fi, file) in facts.files().iter().enumerate() {
            if file.lang.is_none_or(|l| l.is_python()) {
                continue;
            }
            for d in &file.dict_entries {
                if d.key != "provide" || last(&d.value) != "APP_GUARD" {
                    continue;
                }
                let guard = file.dict_entries.iter().find(|u| {
                    u.path == d.path && matches!(u.key.as_str(), "useClass" | "useExisting")
                });
                if let Some(u) = guard {
                    global.push(GlobalGuard {
                        file: fi,
                        line: u.line,
                        guard: u.value.clone(),
                        by: "APP_GUARD",
                    });
                }
            }
            for c in file
                .calls
                .iter()
                .filter(|c| last(&c.callee) == "useGlobalGuards")
            {
                for a in &c.args {
                    global.push(GlobalGuard {
                        file: fi,
                        line: c.line,
                        guard: a.text.clone(),
                        by: "app.useGlobalGuards",
                    });
                }
            }
            let throttles = file
                .classes
                .iter()
                .flat_map(|c| &c.decorators)
                .chain(file.functions.iter().flat_map(|f| &f.decorators));
            for d in throttles.filter(|d| last(&d.callee) == "UseGuards") {
                if d.args
                    .iter()
                    .any(|a| guard_kind(facts, fi, &a.text, 0) == GuardKind::Throttle)
                {
                    local_throttle.push(fi);
                }
            }
        }
        Guards {
            global,
            local_throttle,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GuardKind {
    Auth,
    Throttle,
    Other,
}

/// `new JwtAuthGuard(reflector)` / `app.get(JwtAuthGuard)` /
/// `AuthGuard("jwt")` → `JwtAuthGuard` / `AuthGuard`.
fn guard_name(text: &str) -> &str {
    let t = text.trim().trim_start_matches("new ").trim();
    let t = match t.strip_prefix("app.get(") {
        Some(inner) => inner,
        None => t,
    };
    let end = t.find(['(', ')', '<', ',']).unwrap_or(t.len());
    last(t[..end].trim())
}

/// What a guard does, from its name and, for a project class, its bases
/// (followed `depth` deep) and what its methods throw.
fn guard_kind(facts: &ProjectFacts, fi: usize, text: &str, depth: usize) -> GuardKind {
    let name = guard_name(text);
    if name == THROTTLER_GUARD {
        return GuardKind::Throttle;
    }
    if AUTH_GUARDS.contains(&name) {
        return GuardKind::Auth;
    }
    if let Some((cf, class)) = find_class(facts, fi, name) {
        if depth < MAX_DEPTH {
            for base in &class.bases {
                match guard_kind(facts, cf, base, depth + 1) {
                    GuardKind::Other => {}
                    kind => return kind,
                }
            }
        }
        let own = format!("{}.", class.name);
        let file = facts.file(cf);
        let throws = file.calls.iter().any(|c| {
            REJECTIONS.contains(&last(&c.callee))
                && c.in_function.is_some_and(|f| {
                    file.functions[f].name.starts_with(&own) || within(file, f, &own)
                })
        });
        if throws {
            return GuardKind::Auth;
        }
    }
    let lower = name.to_ascii_lowercase();
    if !lower.contains("throttl") && AUTH_GUARD_WORDS.iter().any(|w| lower.contains(w)) {
        return GuardKind::Auth;
    }
    GuardKind::Other
}

/// Is function `f` nested in a method of the class whose methods start with `own`?
fn within(file: &FileFacts, f: usize, own: &str) -> bool {
    let mut cur = file.functions[f].parent;
    for _ in 0..16 {
        match cur {
            Some(p) if file.functions[p].name.starts_with(own) => return true,
            Some(p) => cur = file.functions[p].parent,
            None => return false,
        }
    }
    false
}

/// A project guard whose methods call a project function that rejects
/// without a user (401/403).
fn rejects(cx: &AuthContext<'_>, fi: usize, text: &str) -> bool {
    let Some((cf, class)) = find_class(cx.facts, fi, guard_name(text)) else {
        return false;
    };
    let own = format!("{}.", class.name);
    let file = cx.facts.file(cf);
    file.calls.iter().any(|c| {
        c.in_function
            .is_some_and(|f| file.functions[f].name.starts_with(&own))
            && cx.rejecting.contains(last(&c.callee))
    })
}

/// Does a guard read route metadata (`this.reflector.getAllAndOverride(
/// IS_PUBLIC_KEY, …)`), so that a `@Public()` decorator opens the route?
/// Guards of libraries do not (passport's `AuthGuard("jwt")`).
fn honors_public(facts: &ProjectFacts, fi: usize, text: &str) -> bool {
    let Some((cf, class)) = find_class(facts, fi, guard_name(text)) else {
        return false;
    };
    let own = format!("{}.", class.name);
    let file = facts.file(cf);
    file.calls.iter().any(|c| {
        c.in_function
            .is_some_and(|f| file.functions[f].name.starts_with(&own) || within(file, f, &own))
            && (c.callee.to_ascii_lowercase().contains("reflector")
                || last(&c.callee).starts_with("getAllAnd"))
    })
}

/// `@Public()` and its kin: by name, or a project decorator made with
/// `SetMetadata` under a key that says public.
fn is_public_decorator(facts: &ProjectFacts, fi: usize, callee: &str) -> bool {
    let name = last(callee);
    if PUBLIC_DECORATORS.contains(&name) {
        return true;
    }
    let file = facts.file(fi);
    let (target, wanted) = match file.import_of(name) {
        Some(i) => match facts.resolve_import(fi, i) {
            Some(t) => {
                let wanted = i
                    .name
                    .clone()
                    .filter(|n| n != "default")
                    .unwrap_or_else(|| name.to_string());
                (facts.definition_file(t, &wanted), wanted)
            }
            None => return false,
        },
        None => (fi, name.to_string()),
    };
    let home = facts.file(target);
    home.assignments
        .iter()
        .filter(|a| a.target == wanted && a.text.contains("SetMetadata("))
        .any(|a| {
            let mut text = a.text.to_ascii_lowercase();
            // The key's value when it is a constant of that file.
            if let Some(key) = a
                .text
                .split("SetMetadata(")
                .nth(1)
                .and_then(|r| r.split([',', ')']).next())
            {
                if let Some(k) = home.assignments.iter().find(|k| k.target == key.trim()) {
                    text.push_str(&k.text.to_ascii_lowercase());
                }
            }
            PUBLIC_WORDS.iter().any(|w| text.contains(w))
        })
}

/// A class by name as file `fi` sees it: its own, or imported from a
/// project file.
fn find_class<'f>(facts: &'f ProjectFacts, fi: usize, name: &str) -> Option<(usize, &'f Class)> {
    let file = facts.file(fi);
    if let Some(c) = file.classes.iter().find(|c| c.name == name) {
        return Some((fi, c));
    }
    let import = file.import_of(name)?;
    let target = facts.resolve_import(fi, import)?;
    let wanted = import
        .name
        .clone()
        .filter(|n| n != "default")
        .unwrap_or_else(|| name.to_string());
    let t = facts.definition_file(target, &wanted);
    facts
        .file(t)
        .classes
        .iter()
        .find(|c| c.name == wanted)
        .map(|c| (t, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_seconds() {
        assert_eq!(duration("60000", true), Some(60));
        assert_eq!(duration("60_000", true), Some(60));
        assert_eq!(duration("24 * 60 * 60 * 1000", true), Some(86_400));
        assert_eq!(duration("60", false), Some(60));
        assert_eq!(duration("minutes(1)", true), Some(60));
        assert_eq!(duration("days(1)", true), Some(86_400));
        assert_eq!(duration("config.get('TTL')", true), None);
    }

    #[test]
    fn guard_names() {
        assert_eq!(guard_name("new JwtAuthGuard(reflector)"), "JwtAuthGuard");
        assert_eq!(guard_name("app.get(JwtAuthGuard)"), "JwtAuthGuard");
        assert_eq!(guard_name("AuthGuard('jwt')"), "AuthGuard");
        assert_eq!(guard_name("ThrottlerGuard"), "ThrottlerGuard");
    }

    #[test]
    fn throttle_overrides() {
        let t = Throttler::from_text("default", "{ limit: 3, ttl: 60000 }", true);
        assert_eq!(
            (t.name.as_str(), t.limit.as_deref(), t.ttl),
            ("default", Some("3"), Some(60))
        );
        let t = Throttler::from_text("x", "{ name: 'long', ttl: days(1), limit: 100 }", true);
        assert_eq!((t.name.as_str(), t.ttl), ("long", Some(86_400)));
    }

    #[test]
    fn controller_prefixes() {
        let call = |text: &str, pairs: Vec<(String, String)>| Call {
            args: vec![crate::facts::Arg {
                text: text.into(),
                pairs,
                ..Default::default()
            }],
            ..Default::default()
        };
        assert_eq!(controller_paths(&call("'chat'", vec![])), vec!["chat"]);
        assert_eq!(
            controller_paths(&call(
                "{ path: 'chat', version: '1' }",
                vec![
                    ("path".into(), "'chat'".into()),
                    ("version".into(), "'1'".into())
                ]
            )),
            vec!["chat"]
        );
        assert_eq!(
            controller_paths(&call("['a', 'b']", vec![])),
            vec!["a", "b"]
        );
        assert_eq!(controller_paths(&Call::default()), vec![""]);
    }
}
