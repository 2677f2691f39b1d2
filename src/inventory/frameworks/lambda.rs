//! AWS Lambda behind API Gateway, wired in a function manifest: the
//! Serverless Framework's `serverless.yml` (`functions: <name>: handler:
//! src/handler.chat`, `events: - http: …` / `- httpApi: …`, `url:`) and
//! SAM's `template.yaml` (`AWS::Serverless::Function` with `Handler:
//! app.lambda_handler`, `CodeUri: src/`, `Events: … Type: Api | HttpApi`,
//! `FunctionUrlConfig`). Each route is an endpoint (method, path) whose
//! handler is the named function of the named file, Python or JS/TS; the
//! handler files are named to the slice ([`Family::config_sources`]) so
//! they are parsed whatever their text.
//!
//! Auth: an authorizer on the event (`authorizer:`, `Auth: Authorizer:`)
//! or the API's `DefaultAuthorizer` (not `NONE`), IAM (`aws_iam`,
//! `AWS_IAM`), Cognito, JWT; a function URL with `AuthType: AWS_IAM`. An
//! API key (`private: true`, `ApiKeyRequired`) identifies a client app,
//! not a user: no auth.
//!
//! Rate limits: stage throttling (SAM `MethodSettings` /
//! `DefaultRouteSettings` `ThrottlingRateLimit`, the
//! serverless-api-gateway-throttling plugin's `maxRequestsPerSecond`) is one
//! counter for every caller together; usage-plan `throttle` and `quota`
//! (`period: DAY` is a daily cap) count per API key and apply only to
//! routes that require one (`private: true`, `ApiKeyRequired: true`).
//! Either is rate-limit evidence (API Gateway keeps the counters, so no
//! store warning); neither tracks usage per user, so quota still applies.
//!
//! CORS: `cors: true` (and `httpApi: { cors: true }`), SAM `Cors: "'*'"`,
//! `AllowOrigin(s)` `*` allow every origin ([`cors_wildcards`], read by
//! the cors check).
//!
//! A handler that wraps a web app (`handler = Mangum(app)`,
//! `serverless(app)`, `handle(app)`, serverless-wsgi's `custom.wsgi.app`)
//! is no endpoint of its own: the app's endpoints (listed by its
//! framework, under the app file's folder) get the route's authorizer and
//! limits ([`proxies`], applied with the gateways).
//!
//! Gaps: `${file(…)}` includes and CloudFormation conditions are not
//! followed; a handler in build output (`dist/`) that is not in the
//! repository is not found; a handler file that reaches no AI call and
//! imports nothing that does may not be parsed, so it is not listed.

use super::{Family, Framework};
use crate::facts::{Call, ConfigFile, FileFacts, FnRef, ProjectFacts};
use crate::inventory::auth::AuthContext;
use crate::inventory::limits::{Limit, LimitScope};
use crate::inventory::yaml::{self, dir_of, join_rel, Node};
use crate::inventory::{AuthEvidence, AuthKind, Endpoint, Misuse};

pub struct Lambda;

const FRAMEWORKS: &[Framework] = &[Framework::Lambda];

/// One route to a Lambda function, as its manifest declares it.
#[derive(Clone, Debug, Default)]
pub struct Route {
    /// The manifest, and the line of the event.
    pub config: String,
    pub line: u32,
    /// The handler module without its extension (`src/handler`), from the
    /// audited root, and the function's name in it.
    pub module: String,
    pub function: String,
    /// A container-image function (`PackageType: Image`): the Dockerfile
    /// whose `CMD` names the handler, and the folder it builds from.
    pub image: Option<(String, String)>,
    /// serverless-wsgi: `module`/`function` name the WSGI app itself.
    pub wsgi: bool,
    pub method: String,
    pub path: String,
    /// The authorizer, as `authorizer: cognito` / `DefaultAuthorizer: X`.
    pub auth: Option<String>,
    /// A wildcard CORS origin on the route: (line, as written).
    pub cors: Option<(u32, String)>,
    /// Limits of API Gateway: (line, spec, windows in seconds).
    pub limits: Vec<(u32, String, Vec<u64>)>,
}

impl Family for Lambda {
    fn frameworks(&self) -> &'static [Framework] {
        FRAMEWORKS
    }

    fn config_sources(&self, config: &ConfigFile) -> Vec<String> {
        routes_of(config)
            .into_iter()
            .map(|r| match r.image {
                // The handler is named in the Dockerfile: the whole context.
                Some((_, context)) if r.module.is_empty() => format!("{context}/"),
                _ => r.module,
            })
            .collect()
    }

    fn project_endpoints(&self, facts: &ProjectFacts, out: &mut Vec<Endpoint>) {
        for route in all_routes(facts) {
            let Some((file, handler)) = handler_file(facts, &route) else {
                continue;
            };
            // A wrapped web app: its own endpoints are listed by its
            // framework, with this route's protections ([`proxies`]).
            if handler.is_none() && wrapped_app(facts, &route).is_some() {
                continue;
            }
            let line = handler.map_or(1, |h| facts.function(h).line);
            out.push(Endpoint::new(
                Framework::Lambda,
                route.method.clone(),
                route.path.clone(),
                file,
                line,
                handler,
                "",
            ));
        }
    }

    fn limits(&self, scope: &LimitScope<'_>, endpoints: &mut [&mut Endpoint], _: &mut Vec<Misuse>) {
        let routes = all_routes(scope.facts);
        for e in endpoints.iter_mut() {
            let mine: Vec<Limit> = routes
                .iter()
                .filter(|r| is_route_of(scope.facts, r, e))
                .flat_map(|r| {
                    r.limits.iter().map(|(line, spec, windows)| Limit {
                        how: format!("API Gateway at {}:{line}", r.config),
                        file: e.file,
                        line: e.line,
                        spec: spec.clone(),
                        windows: windows.clone(),
                    })
                })
                .collect();
            e.limits.extend(mine);
        }
    }

    fn declared_auth(&self, cx: &AuthContext<'_>, endpoints: &mut [&mut Endpoint]) {
        let routes = all_routes(cx.facts);
        for e in endpoints.iter_mut() {
            let route = routes.iter().find(|r| is_route_of(cx.facts, r, e));
            if let Some(how) = route.and_then(|r| r.auth.as_ref().map(|a| (r, a))) {
                e.auth.push(AuthEvidence {
                    kind: AuthKind::Enforced,
                    how: format!("{} ({}:{})", how.1, how.0.config, how.0.line),
                    line: e.line,
                });
            }
        }
    }
}

/// Every route of the project's manifests, container-image handlers
/// resolved from their Dockerfile's `CMD ["app.handler"]`.
fn all_routes(facts: &ProjectFacts) -> Vec<Route> {
    let mut routes: Vec<Route> = facts.configs().iter().flat_map(routes_of).collect();
    for r in routes.iter_mut().filter(|r| r.module.is_empty()) {
        let Some((dockerfile, context)) = &r.image else {
            continue;
        };
        let cmd = facts
            .configs()
            .iter()
            .find(|c| c.path == *dockerfile)
            .and_then(|c| dockerfile_cmd(&c.text));
        if let Some((module, function)) = cmd.and_then(|h| split_handler(context, "", &h)) {
            r.module = module;
            r.function = function;
        }
    }
    routes.retain(|r| !r.module.is_empty());
    routes
}

/// The handler named by a Dockerfile's last `CMD` (`CMD ["app.handler"]`).
fn dockerfile_cmd(text: &str) -> Option<String> {
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().to_ascii_uppercase().starts_with("CMD"))?;
    let rest = line.trim_start()[3..].trim();
    let first = rest
        .trim_start_matches('[')
        .split(',')
        .next()?
        .trim()
        .trim_matches(['"', '\'', ']', ' ']);
    (!first.is_empty()).then(|| first.to_string())
}

/// The file of a route's endpoint and its handler: the handler's own file
/// when the module re-exports it (`export const chat = chatHandler`).
fn handler_file(facts: &ProjectFacts, r: &Route) -> Option<(usize, Option<FnRef>)> {
    let index = module_file(facts, &r.module)?;
    let handler = handler_of(facts, index, &r.function);
    Some((handler.map_or(index, |h| h.file), handler))
}

fn is_route_of(facts: &ProjectFacts, r: &Route, e: &Endpoint) -> bool {
    r.method == e.method
        && r.path == e.path
        && handler_file(facts, r).is_some_and(|(file, _)| file == e.file)
}

/// An API Gateway route to a web app a Lambda handler wraps
/// (`handler = Mangum(app)`, `serverless(app)`, serverless-wsgi's
/// `custom.wsgi.app`): the app's endpoints (files under the app's folder)
/// get the route's authorizer and limits.
pub struct Proxy {
    /// The folder of the wrapped app's file (`""`: the root).
    pub scope: String,
    /// `None`: every path (`ANY /{proxy+}`, `httpApi: '*'`).
    pub route: Option<(String, String)>,
    /// (how, at) of the authorizer.
    pub auth: Option<String>,
    /// (how, spec, windows) of each limit.
    pub limits: Vec<(String, String, Vec<u64>)>,
}

/// The project's [`Proxy`] routes.
pub fn proxies(facts: &ProjectFacts) -> Vec<Proxy> {
    all_routes(facts)
        .into_iter()
        .filter_map(|r| {
            let app = wrapped_app(facts, &r)?;
            let dir = facts.file(app).path.rsplit_once('/').map_or("", |(d, _)| d);
            let every = r.method == "ANY" && (r.path.contains("{proxy+}") || r.path == "/");
            Some(Proxy {
                scope: dir.to_string(),
                route: (!every).then(|| (r.method.clone(), r.path.clone())),
                auth: r
                    .auth
                    .as_ref()
                    .map(|a| format!("API Gateway {a} ({}:{})", r.config, r.line)),
                limits: r
                    .limits
                    .iter()
                    .map(|(line, spec, windows)| {
                        (
                            format!("API Gateway at {}:{line}", r.config),
                            spec.clone(),
                            windows.clone(),
                        )
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The file of the web app a route's handler wraps: the handler name is
/// assigned a call (`Mangum(app)`, `serverless(app)`, `handle(app)`), whose
/// first plain argument (or `{ app }`) is the app, imported or local; a
/// serverless-wsgi route names the app itself (`app = Flask(__name__)`).
fn wrapped_app(facts: &ProjectFacts, r: &Route) -> Option<usize> {
    let index = module_file(facts, &r.module)?;
    if handler_of(facts, index, &r.function).is_some() {
        return None;
    }
    let file = facts.file(index);
    let targets = [
        r.function.clone(),
        format!("module.exports.{}", r.function),
        format!("exports.{}", r.function),
    ];
    let a = file
        .assignments
        .iter()
        .find(|a| targets.contains(&a.target))?;
    let callee = a.value_callee.as_ref()?;
    if r.wsgi {
        return Some(index);
    }
    let call = file
        .calls
        .iter()
        .find(|c| &c.callee == callee && c.line == a.line)?;
    let arg = call.args.first()?.text.trim();
    let name = arg.trim_matches(['{', '}', ' ']);
    let name = name.split([',', ':']).next().unwrap_or(name).trim();
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    match file.import_of(name) {
        Some(i) => facts.resolve_import(index, i),
        None => Some(index),
    }
}

/// Wildcard CORS origins the project's manifests set: (manifest, line, as
/// written, the routes it covers as `METHOD /path`).
pub fn cors_wildcards(facts: &ProjectFacts) -> Vec<(String, u32, String, Vec<String>)> {
    let mut out: Vec<(String, u32, String, Vec<String>)> = Vec::new();
    for r in all_routes(facts) {
        let Some((line, detail)) = r.cors else {
            continue;
        };
        let route = format!("{} {}", r.method, r.path);
        match out
            .iter_mut()
            .find(|(c, l, _, _)| *c == r.config && *l == line)
        {
            Some(hit) => hit.3.push(route),
            None => out.push((r.config.clone(), line, detail, vec![route])),
        }
    }
    out
}

/// The file of a handler module (`src/handler` → `src/handler.ts`, or
/// `src/handler/index.js`).
fn module_file(facts: &ProjectFacts, module: &str) -> Option<usize> {
    let stem = |p: &str| {
        p.rsplit_once('.')
            .map_or(p.to_string(), |(s, _)| s.to_string())
    };
    let index = format!("{module}/index");
    facts.files().iter().position(|f| {
        let s = stem(&f.path);
        s == module || s == index
    })
}

/// The handler function `name` of a module: a function of that name, an
/// export assigned one (`module.exports.chat = async (event) => …`,
/// `exports.handler = …`), or the function a wrapper is given
/// (`export const handler = middy(chat)`).
fn handler_of(facts: &ProjectFacts, index: usize, name: &str) -> Option<FnRef> {
    let file = facts.file(index);
    let by_name = |n: &str| {
        let call = Call {
            callee: n.to_string(),
            ..Call::default()
        };
        facts.resolve_call(index, &call)
    };
    if let Some(f) = by_name(name) {
        return Some(f);
    }
    let targets = [
        format!("module.exports.{name}"),
        format!("exports.{name}"),
        name.to_string(),
    ];
    let a = file
        .assignments
        .iter()
        .find(|a| targets.contains(&a.target))?;
    // A function written in place.
    if let Some(function) = defined_at(file, a.line) {
        return Some(FnRef {
            file: index,
            function,
        });
    }
    let plain = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_');
    // `export const chat = chatHandler` (imported or defined above).
    let value = a.text.trim();
    if plain(value) {
        return by_name(value);
    }
    // `middy(chat)`, `withSentry(handler)`: the first plain argument.
    let inner = a
        .value_callee
        .as_ref()
        .and_then(|c| {
            file.calls
                .iter()
                .find(|x| &x.callee == c && x.line == a.line)
        })
        .and_then(|c| c.args.first())
        .map(|x| x.text.trim().to_string())?;
    plain(&inner).then(|| by_name(&inner)).flatten()
}

fn defined_at(file: &FileFacts, line: u32) -> Option<usize> {
    file.functions
        .iter()
        .position(|f| f.line == line && f.parent.is_none())
}

/// Every route a manifest declares (none for other files, or a manifest
/// that does not parse). A container-image function's module is empty
/// until its Dockerfile is read ([`all_routes`]).
pub fn routes_of(config: &ConfigFile) -> Vec<Route> {
    let name = config.path.rsplit('/').next().unwrap_or(&config.path);
    let is_yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    if !is_yaml {
        return Vec::new();
    }
    let Some(doc) = yaml::parse_first(&config.text) else {
        return Vec::new();
    };
    if name.starts_with("serverless.") && doc.get("functions").is_set() {
        serverless_routes(config, &doc)
    } else if doc.get("Resources").is_set() {
        sam_routes(config, &doc)
    } else {
        Vec::new()
    }
}

/// `src/handler.chat` → (`src/handler`, `chat`), from the manifest's folder.
fn split_handler(dir: &str, prefix: &str, handler: &str) -> Option<(String, String)> {
    let (module, function) = handler.rsplit_once('.')?;
    let base = join_rel(dir, prefix);
    Some((join_rel(&base, module), function.to_string()))
}

fn api_path(path: &str) -> String {
    let p = path.trim();
    let p = if p.len() > 1 {
        p.trim_end_matches('/')
    } else {
        p
    };
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("/{p}")
    }
}

fn method_of(m: &str) -> String {
    match m.trim() {
        "*" | "any" | "ANY" | "" => "ANY".into(),
        m => m.to_ascii_uppercase(),
    }
}

/// Is a CORS setting a wildcard origin? `true`, `'*'`, `"'*'"`, `['*']`,
/// `{ origin: '*' }`, `{ AllowOrigin: "'*'" }`.
fn cors_wildcard(node: &Node) -> Option<(u32, String)> {
    if node.is_true() {
        return Some((node.line, "cors: true".into()));
    }
    let star = |s: &str| s.trim_matches(['\'', '"', ' ']) == "*";
    if node.str().is_some_and(star) {
        return Some((node.line, format!("Cors: {}", node.str().unwrap_or(""))));
    }
    for key in [
        "origin",
        "origins",
        "allowedOrigins",
        "AllowOrigin",
        "AllowOrigins",
    ] {
        let v = node.get(key);
        if v.strings().into_iter().any(star) {
            return Some((v.line, format!("{key}: *")));
        }
    }
    None
}

fn secs_of_period(p: &str) -> Option<u64> {
    Some(match p.to_ascii_uppercase().as_str() {
        "DAY" => 86_400,
        "WEEK" => 604_800,
        "MONTH" => 2_592_000,
        _ => return None,
    })
}

/// A usage plan's `throttle` / `quota` (serverless: `rateLimit`,
/// `burstLimit`, `limit`, `period`; SAM: capitalised).
fn usage_plan_limits(plan: &Node) -> Vec<(u32, String, Vec<u64>)> {
    let mut out = Vec::new();
    let pick = |n: &Node, keys: &[&str]| -> Option<String> {
        keys.iter().find_map(|k| n.get(k).str().map(str::to_string))
    };
    let throttle = [plan.get("throttle"), plan.get("Throttle")]
        .into_iter()
        .find(|n| n.is_set());
    if let Some(t) = throttle {
        if let Some(rate) = pick(t, &["rateLimit", "RateLimit"]) {
            let burst = pick(t, &["burstLimit", "BurstLimit"]).unwrap_or_default();
            out.push((
                t.line,
                format!("usage plan throttle {rate}/s burst {burst} per API key"),
                vec![1],
            ));
        }
    }
    let quota = [plan.get("quota"), plan.get("Quota")]
        .into_iter()
        .find(|n| n.is_set());
    if let Some(q) = quota {
        if let Some(limit) = pick(q, &["limit", "Limit"]) {
            let period = pick(q, &["period", "Period"]).unwrap_or_default();
            out.push((
                q.line,
                format!("usage plan quota {limit} per {period} per API key"),
                secs_of_period(&period).into_iter().collect(),
            ));
        }
    }
    out
}

/// `ThrottlingRateLimit` of stage settings: one counter for every caller.
fn stage_throttle(settings: &Node) -> Option<(u32, String, Vec<u64>)> {
    let rate = settings.get("ThrottlingRateLimit");
    let r = rate.str()?;
    let burst = settings.get("ThrottlingBurstLimit").str().unwrap_or("");
    Some((
        rate.line,
        format!("stage throttling {r}/s burst {burst}, one counter for all callers"),
        vec![1],
    ))
}

// ------------------------------------------------------------ serverless

fn serverless_routes(config: &ConfigFile, doc: &Node) -> Vec<Route> {
    let dir = dir_of(&config.path);
    let provider = doc.get("provider");
    let mut plans: Vec<(u32, String, Vec<u64>)> = Vec::new();
    let plan = provider.at(&["apiGateway", "usagePlan"]);
    plans.extend(usage_plan_limits(plan));
    for p in plan.items() {
        for (_, v) in p.entries() {
            plans.extend(usage_plan_limits(v));
        }
    }
    // serverless-api-gateway-throttling: stage-wide and per endpoint.
    let plugin = |n: &Node| -> Option<(u32, String, Vec<u64>)> {
        let rps = n.get("maxRequestsPerSecond");
        rps.str().map(|r| {
            (
                rps.line,
                format!("throttling {r} requests/s, one counter for all callers"),
                vec![1],
            )
        })
    };
    let stage = plugin(doc.at(&["custom", "apiGatewayThrottling"]));
    let http_api_cors = cors_wildcard(provider.at(&["httpApi", "cors"]));
    let mut functions: Vec<(&str, &Node)> = doc
        .get("functions")
        .entries()
        .iter()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    // `functions:` as a list of maps.
    for item in doc.get("functions").items() {
        functions.extend(item.entries().iter().map(|(k, v)| (k.as_str(), v)));
    }
    // serverless-wsgi: `handler: wsgi_handler.handler` runs `custom.wsgi.app`.
    let wsgi_app = doc.at(&["custom", "wsgi", "app"]).str();
    let mut out = Vec::new();
    for (_, f) in functions {
        let Some(handler) = f.get("handler").str() else {
            continue;
        };
        let prefix = f.get("module").str().unwrap_or("");
        let wsgi = handler.starts_with("wsgi_handler.") && wsgi_app.is_some();
        let named = if wsgi {
            wsgi_app.unwrap_or(handler)
        } else {
            handler
        };
        let Some((module, function)) = split_handler(dir, prefix, named) else {
            continue;
        };
        let base = Route {
            config: config.path.clone(),
            module,
            function,
            wsgi,
            ..Route::default()
        };
        for event in f.get("events").items() {
            let (kind, e) = match event.entries().first() {
                Some((k, v)) => (k.as_str(), v),
                None => continue,
            };
            if kind != "http" && kind != "httpApi" {
                continue;
            }
            let (method, path) = match e.str() {
                // `http: POST chat`, `httpApi: 'POST /chat'`, `httpApi: '*'`.
                Some(s) => match s.trim().split_once(' ') {
                    Some((m, p)) => (method_of(m), api_path(p)),
                    None => ("ANY".into(), "/{proxy+}".into()),
                },
                None => (
                    method_of(e.get("method").str().unwrap_or("any")),
                    api_path(e.get("path").str().unwrap_or("/")),
                ),
            };
            let mut route = Route {
                line: e.line,
                method,
                path,
                ..base.clone()
            };
            let authorizer = e.get("authorizer");
            if authorizer.is_set() {
                let what = authorizer
                    .str()
                    .or_else(|| authorizer.get("type").str())
                    .or_else(|| authorizer.get("name").str())
                    .unwrap_or("custom");
                route.auth = Some(format!("authorizer: {what}"));
            }
            route.cors = cors_wildcard(e.get("cors"));
            if kind == "httpApi" && route.cors.is_none() {
                route.cors = http_api_cors.clone();
            }
            if kind == "http" {
                route.limits.extend(stage.clone());
                route.limits.extend(plugin(e.get("throttling")));
                if e.get("private").is_true() {
                    route.limits.extend(plans.iter().cloned());
                }
            }
            out.push(route);
        }
        // A function URL: its own public HTTPS endpoint.
        let url = f.get("url");
        if url.is_set() && url.str() != Some("false") {
            let mut route = Route {
                line: url.line,
                method: "ANY".into(),
                path: format!(
                    "/{} (function URL)",
                    f.get("name").str().unwrap_or(&base.function)
                ),
                ..base.clone()
            };
            if url.get("authorizer").str() == Some("aws_iam") {
                route.auth = Some("function URL authorizer: aws_iam".into());
            }
            route.cors = cors_wildcard(url.get("cors"));
            out.push(route);
        }
    }
    out
}

// ------------------------------------------------------------------- SAM

fn sam_routes(config: &ConfigFile, doc: &Node) -> Vec<Route> {
    let dir = dir_of(&config.path);
    let resources = doc.get("Resources");
    let globals = doc.get("Globals");
    let global_fn = globals.get("Function");
    let reference = |n: &Node| -> Option<String> {
        let s = n.str()?;
        Some(s.strip_prefix("!Ref ").unwrap_or(s).trim().to_string())
    };
    let mut out = Vec::new();
    for (name, res) in resources.entries() {
        if res.get("Type").str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let props = res.get("Properties");
        let handler = props
            .get("Handler")
            .str()
            .or_else(|| global_fn.get("Handler").str());
        let code = props
            .get("CodeUri")
            .str()
            .or_else(|| global_fn.get("CodeUri").str())
            .unwrap_or("");
        // A container image: the handler is the image's command
        // (`ImageConfig: Command`, else the Dockerfile's `CMD`).
        let image = props.get("PackageType").str() == Some("Image");
        let metadata = res.get("Metadata");
        let context = join_rel(dir, metadata.get("DockerContext").str().unwrap_or("."));
        let command = props
            .at(&["ImageConfig", "Command"])
            .strings()
            .first()
            .map(|c| c.to_string());
        let (module, function) = match (image, handler) {
            (true, _) => command
                .and_then(|c| split_handler(&context, "", &c))
                .unwrap_or_default(),
            (false, Some(h)) => match split_handler(dir, code, h) {
                Some(mf) => mf,
                None => continue,
            },
            (false, None) => continue,
        };
        let dockerfile = metadata.get("Dockerfile").str().unwrap_or("Dockerfile");
        let base = Route {
            config: config.path.clone(),
            module,
            function,
            image: image.then(|| (join_rel(&context, dockerfile), context.clone())),
            ..Route::default()
        };
        for (_, event) in props.get("Events").entries() {
            let kind = event.get("Type").str().unwrap_or("");
            if kind != "Api" && kind != "HttpApi" {
                continue;
            }
            let p = event.get("Properties");
            let (method, path) = match (p.get("Method").str(), p.get("Path").str()) {
                (Some(m), Some(path)) => (method_of(m), api_path(path)),
                _ => ("ANY".into(), "/{proxy+}".into()),
            };
            // The API resource, or the implicit one shaped by Globals.
            let api_key = if kind == "Api" { "RestApiId" } else { "ApiId" };
            let api = reference(p.get(api_key))
                .map(|id| resources.get(&id).get("Properties"))
                .unwrap_or_else(|| globals.get(kind));
            let mut route = Route {
                line: event.line,
                method,
                path,
                ..base.clone()
            };
            let own = p.at(&["Auth", "Authorizer"]).str();
            let default = api
                .at(&["Auth", "DefaultAuthorizer"])
                .str()
                .or_else(|| globals.get(kind).at(&["Auth", "DefaultAuthorizer"]).str());
            route.auth = match (own, default) {
                (Some("NONE"), _) => None,
                (Some(a), _) => Some(format!("Auth: Authorizer: {a}")),
                (None, Some("NONE")) | (None, None) => None,
                (None, Some(d)) => Some(format!("DefaultAuthorizer: {d}")),
            };
            let cors_key = if kind == "Api" {
                "Cors"
            } else {
                "CorsConfiguration"
            };
            route.cors = cors_wildcard(api.get(cors_key))
                .or_else(|| cors_wildcard(globals.get(kind).get(cors_key)));
            if kind == "Api" {
                for s in api.get("MethodSettings").items() {
                    let resource = s.get("ResourcePath").str().unwrap_or("/*");
                    let covers =
                        resource == "/*" || route.path.starts_with(resource.trim_end_matches("/*"));
                    if covers {
                        route.limits.extend(stage_throttle(s));
                    }
                }
                let key_required = p.at(&["Auth", "ApiKeyRequired"]).is_true()
                    || api.at(&["Auth", "ApiKeyRequired"]).is_true();
                if key_required {
                    route
                        .limits
                        .extend(usage_plan_limits(api.at(&["Auth", "UsagePlan"])));
                }
            } else {
                route
                    .limits
                    .extend(stage_throttle(api.get("DefaultRouteSettings")));
                let key = format!("{} {}", route.method, route.path);
                route
                    .limits
                    .extend(stage_throttle(api.at(&["RouteSettings", &key])));
            }
            out.push(route);
        }
        let url = props.get("FunctionUrlConfig");
        if url.is_set() {
            let mut route = Route {
                line: url.line,
                method: "ANY".into(),
                path: format!("/{name} (function URL)"),
                ..base.clone()
            };
            if url.get("AuthType").str() == Some("AWS_IAM") {
                route.auth = Some("FunctionUrlConfig AuthType: AWS_IAM".into());
            }
            route.cors = cors_wildcard(url.get("Cors"));
            out.push(route);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(path: &str, text: &str) -> ConfigFile {
        ConfigFile::new(path, text)
    }

    #[test]
    fn serverless_events_become_routes() {
        let text = "service: ai\nprovider:\n  name: aws\n  apiGateway:\n    usagePlan:\n      quota: { limit: 100, period: DAY }\n      throttle: { rateLimit: 5, burstLimit: 10 }\nfunctions:\n  chat:\n    handler: src/handler.chat\n    events:\n      - http: { path: chat, method: post, cors: true, private: true }\n      - httpApi: 'GET /ask'\n  admin:\n    handler: admin.main\n    events:\n      - http:\n          path: admin\n          method: post\n          authorizer: aws_iam\n";
        let routes = routes_of(&config("api/serverless.yml", text));
        let summary: Vec<(String, String, String, String, bool, usize)> = routes
            .iter()
            .map(|r| {
                (
                    r.method.clone(),
                    r.path.clone(),
                    r.module.clone(),
                    r.function.clone(),
                    r.auth.is_some(),
                    r.limits.len(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "POST".into(),
                    "/chat".into(),
                    "api/src/handler".into(),
                    "chat".into(),
                    false,
                    2
                ),
                (
                    "GET".into(),
                    "/ask".into(),
                    "api/src/handler".into(),
                    "chat".into(),
                    false,
                    0
                ),
                (
                    "POST".into(),
                    "/admin".into(),
                    "api/admin".into(),
                    "main".into(),
                    true,
                    0
                ),
            ]
        );
        assert_eq!(routes[0].cors, Some((12, "cors: true".into())));
        assert_eq!(routes[0].limits[1].2, vec![86_400]);
    }

    #[test]
    fn sam_functions_with_default_authorizer_and_throttling() {
        let text = "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Runtime: python3.12\nResources:\n  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: prod\n      Cors: \"'*'\"\n      Auth:\n        DefaultAuthorizer: Cognito\n      MethodSettings:\n        - ResourcePath: /*\n          HttpMethod: '*'\n          ThrottlingRateLimit: 10\n          ThrottlingBurstLimit: 20\n  ChatFn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: src/\n      Handler: app.lambda_handler\n      Events:\n        Chat:\n          Type: Api\n          Properties:\n            RestApiId: !Ref Api\n            Path: /chat\n            Method: post\n        Health:\n          Type: Api\n          Properties:\n            RestApiId: !Ref Api\n            Path: /health\n            Method: get\n            Auth:\n              Authorizer: NONE\n";
        let routes = routes_of(&config("template.yaml", text));
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].module, "src/app");
        assert_eq!(routes[0].function, "lambda_handler");
        assert_eq!(
            routes[0].auth.as_deref(),
            Some("DefaultAuthorizer: Cognito")
        );
        assert_eq!(routes[1].auth, None);
        assert_eq!(routes[0].cors, Some((10, "Cors: '*'".into())));
        assert_eq!(
            routes[0].limits,
            [(
                16,
                "stage throttling 10/s burst 20, one counter for all callers".into(),
                vec![1]
            )]
        );
    }

    #[test]
    fn dockerfile_commands() {
        assert_eq!(
            dockerfile_cmd("FROM x\nCMD [\"app.lambda_handler\"]\n").as_deref(),
            Some("app.lambda_handler")
        );
        assert_eq!(
            dockerfile_cmd("FROM x\ncmd app.handler\n").as_deref(),
            Some("app.handler")
        );
        assert_eq!(dockerfile_cmd("FROM x\n"), None);
    }

    #[test]
    fn other_yaml_and_broken_manifests_give_nothing() {
        assert!(routes_of(&config("serverless.yml", "functions: [\n")).is_empty());
        assert!(routes_of(&config("docker-compose.yml", "services: {}\n")).is_empty());
    }
}
