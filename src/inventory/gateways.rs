//! Rate limits enforced in front of the app, read from the configuration
//! files of the repository (`[configs]` of rules/facts.toml): nginx
//! `limit_req` on the location that proxies the route, a Traefik
//! `rateLimit` middleware on the router (compose labels or the file
//! provider), Caddy's `rate_limit` (caddy-ratelimit) in the site or route,
//! and Kong's `rate-limiting` plugin on the service, the route or the whole
//! gateway. Applied to every endpoint after the frameworks' own limits.
//!
//! A gateway counts requests per client address (nginx's zone key, Kong's
//! `limit_by` fallback), in its own shared memory or store: it is rate-limit
//! evidence, it is no limiter of the app (nothing for the store check), and
//! it is no per-user usage tracking (nothing for quota).
//!
//! Which endpoints a gateway route covers, heuristically:
//! - the path: the route's front prefix (`location /api/`,
//!   `PathPrefix(`/api`)`, a Kong route's `paths`), mapped to the path the
//!   app sees when the gateway rewrites it (`proxy_pass http://api:8000/`,
//!   a `stripPrefix` middleware, `handle_path`, Kong's `strip_path`);
//! - the app: when the route forwards to a compose service built from a
//!   folder of the repository that holds endpoints (`build: ./backend`),
//!   only endpoints in that folder; a service with only an `image:` runs no
//!   code of the project (an image built from the repository elsewhere and
//!   only pulled here is missed: no evidence); any other host (`localhost`,
//!   an upstream not in a compose file, a build folder with no endpoint)
//!   covers every endpoint whose path matches;
//! - nginx picks the most specific location of a server: a `limit_req` on a
//!   location that does not serve the route is no evidence. Other gateways:
//!   any covering route with a limit is evidence (router priorities are not
//!   modelled), and a route with limits beside one without (two server
//!   blocks, two routers) still counts as limited.

use std::collections::HashMap;

use super::limits::Limit;
use super::yaml::{self, dir_of, join_rel, Node};
use super::Endpoint;
use crate::facts::{ConfigFile, ProjectFacts};

/// One limit a gateway applies.
#[derive(Clone, Debug)]
struct Rule {
    /// `nginx limit_req`, `Traefik rateLimit`, …
    how: &'static str,
    /// `deploy/nginx.conf:14`.
    at: String,
    /// As configured: `zone=api rate=10r/s burst=20`.
    spec: String,
    windows: Vec<u64>,
    /// Front paths it is restricted to (a Caddy zone's `match { path }`);
    /// empty: all of the route.
    only: Vec<String>,
}

/// One route of a gateway to the app.
#[derive(Clone, Debug)]
struct Route {
    /// Routes of one group compete: the most specific front prefix that
    /// covers a request serves it (an nginx server, a Caddy site, Traefik's
    /// routers, a Kong file).
    group: String,
    /// The path prefix the gateway matches (`/api/`); `exact` for nginx's
    /// `location = /x`.
    front: String,
    exact: bool,
    /// The prefix the app sees for `front` (rewritten by the proxy).
    backend: String,
    /// The host it forwards to (`backend` of `http://backend:8000`).
    target: Option<String>,
    limits: Vec<Rule>,
}

/// The compose services of the project: name → the folder their image is
/// built from (`None`: an image only, no code of the project).
type Services = HashMap<String, Option<String>>;

pub(super) fn apply(facts: &ProjectFacts, endpoints: &mut [Endpoint]) {
    let configs = facts.configs();
    if configs.is_empty() {
        return;
    }
    api_gateway(facts, endpoints);
    let routes = routes(configs);
    if routes.iter().all(|r| r.limits.is_empty()) {
        return;
    }
    let mut services = compose_services(configs);
    // A service built from a folder that holds no endpoint (a build
    // context that copies the code from elsewhere) says nothing about
    // where the app is: its host is then as unknown as any other.
    let files: Vec<String> = endpoints
        .iter()
        .map(|e| facts.file(e.file).path.clone())
        .collect();
    services.retain(|_, dir| match dir {
        Some(d) if !d.is_empty() => files.iter().any(|f| f.starts_with(&format!("{d}/"))),
        _ => true,
    });
    for e in endpoints.iter_mut() {
        let file = facts.file(e.file).path.as_str();
        for rule in covering(&routes, &services, file, &e.path) {
            e.limits.push(Limit {
                how: format!("{} at {}", rule.how, rule.at),
                file: e.file,
                line: e.line,
                spec: rule.spec.clone(),
                windows: rule.windows.clone(),
            });
        }
    }
}

/// API Gateway in front of a web app wrapped in a Lambda handler
/// (`Mangum(app)`, `serverless(app)`, serverless-wsgi): the route's
/// authorizer and limits apply to the app's endpoints.
fn api_gateway(facts: &ProjectFacts, endpoints: &mut [Endpoint]) {
    let proxies = super::frameworks::lambda_proxies(facts);
    for e in endpoints.iter_mut() {
        let file = facts.file(e.file).path.as_str();
        let mine = proxies.iter().filter(|p| {
            let under = p.scope.is_empty() || file.starts_with(&format!("{}/", p.scope));
            let route = p
                .route
                .as_ref()
                .is_none_or(|(m, path)| *path == e.path && (m == "ANY" || *m == e.method));
            under && route
        });
        let mut limits = Vec::new();
        let mut auth = Vec::new();
        for p in mine {
            limits.extend(p.limits.iter().map(|(how, spec, windows)| Limit {
                how: how.clone(),
                file: e.file,
                line: e.line,
                spec: spec.clone(),
                windows: windows.clone(),
            }));
            auth.extend(p.auth.iter().map(|how| super::AuthEvidence {
                kind: super::AuthKind::Enforced,
                how: how.clone(),
                line: e.line,
            }));
        }
        e.limits.extend(limits);
        e.auth.extend(auth);
    }
}

/// The gateway limits on an endpoint of `file` served at `path`: every
/// way a request reaches it (a route that forwards to its app and wins its
/// group for that request path) must be limited. Ways are compared per
/// target: two upstreams the project does not map to folders may be two
/// apps, and an unlimited way to one does not unlimit the other.
fn covering<'r>(routes: &'r [Route], services: &Services, file: &str, path: &str) -> Vec<&'r Rule> {
    let serves = |r: &Route| match r.target.as_deref().map(|t| services.get(t)) {
        Some(Some(Some(dir))) => dir.is_empty() || file.starts_with(&format!("{dir}/")),
        Some(Some(None)) => false,
        _ => true,
    };
    let matches = |r: &Route, front: &str| {
        if r.exact {
            front == r.front
        } else {
            covers(&r.front, front)
        }
    };
    let weight = |r: &Route| r.front.trim_end_matches('*').len() + 10_000 * usize::from(r.exact);
    // (target, the applicable rules of one way).
    let mut ways: Vec<(&str, Vec<&Rule>)> = Vec::new();
    for r in routes.iter().filter(|r| serves(r)) {
        let Some(front) = front_path(r, path) else {
            continue;
        };
        if !matches(r, &front) {
            continue;
        }
        let beaten = routes.iter().any(|o| {
            !std::ptr::eq(o, r) && o.group == r.group && matches(o, &front) && weight(o) > weight(r)
        });
        if beaten {
            continue;
        }
        let rules = r
            .limits
            .iter()
            .filter(|rule| rule.only.is_empty() || rule.only.iter().any(|p| covers(p, &front)))
            .collect();
        ways.push((r.target.as_deref().unwrap_or(""), rules));
    }
    let mut out: Vec<&Rule> = Vec::new();
    let mut targets: Vec<&str> = ways.iter().map(|(t, _)| *t).collect();
    targets.sort();
    targets.dedup();
    for t in targets {
        let mine: Vec<&Vec<&Rule>> = ways
            .iter()
            .filter(|(x, _)| *x == t)
            .map(|(_, r)| r)
            .collect();
        if mine.iter().all(|rules| !rules.is_empty()) {
            for rule in mine.into_iter().flatten() {
                if !out.iter().any(|o| o.at == rule.at) {
                    out.push(rule);
                }
            }
        }
    }
    out
}

/// The path a request has at the gateway to reach `path` of the app
/// through `r`, if it can.
fn front_path(r: &Route, path: &str) -> Option<String> {
    if r.backend == r.front {
        return Some(path.to_string());
    }
    let rest = strip_prefix(&r.backend, path)?;
    Some(format!(
        "{}/{}",
        r.front.trim_end_matches('/'),
        rest.trim_start_matches('/')
    ))
}

/// The rest of `path` under `prefix` (`/api/` covers `/api` and `/api/x`).
fn strip_prefix<'p>(prefix: &str, path: &'p str) -> Option<&'p str> {
    let bare = prefix.trim_end_matches('/');
    if bare.is_empty() {
        return Some(path);
    }
    let rest = path.strip_prefix(bare)?;
    (rest.is_empty() || rest.starts_with('/') || !prefix.ends_with('/')).then_some(rest)
}

/// Does a path prefix (`/`, `/api/`, `/api/*`) cover `path`?
fn covers(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('*');
    strip_prefix(prefix, path).is_some()
}

fn at(config: &ConfigFile, line: u32) -> String {
    format!("{}:{line}", config.path)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_yaml(path: &str) -> bool {
    path.ends_with(".yml") || path.ends_with(".yaml")
}

/// The files of `[configs]` that are neither YAML, TOML, JSON, a Caddyfile
/// nor a Dockerfile: nginx configurations (`nginx.conf`, `conf.d/*.conf`,
/// `sites-enabled/*`, templates).
fn is_nginx(path: &str) -> bool {
    let name = file_name(path);
    !is_yaml(path)
        && !is_caddy(path)
        && ![".toml", ".json", ".jsonc", ".Dockerfile"]
            .iter()
            .any(|e| name.ends_with(e))
        && !name.starts_with("Dockerfile")
}

fn is_caddy(path: &str) -> bool {
    let name = file_name(path);
    name.starts_with("Caddyfile") || name.ends_with(".caddyfile")
}

/// Every gateway route of the project's configuration files.
fn routes(configs: &[ConfigFile]) -> Vec<Route> {
    let mut out = Vec::new();
    // nginx zones and upstreams are shared by every file (`include`).
    let nginx: Vec<(&ConfigFile, Vec<Directive>)> = configs
        .iter()
        .filter(|c| is_nginx(&c.path))
        .map(|c| (c, blocks(&c.text, false)))
        .collect();
    let mut zones = HashMap::new();
    let mut upstreams = HashMap::new();
    for (_, dirs) in &nginx {
        nginx_globals(dirs, &mut zones, &mut upstreams);
    }
    for (c, dirs) in &nginx {
        let cx = NginxCx {
            config: c,
            zones: &zones,
            upstreams: &upstreams,
        };
        nginx_walk(&cx, dirs, &[], &format!("{}:0", c.path), &mut out);
    }
    for c in configs.iter().filter(|c| is_caddy(&c.path)) {
        caddy_routes(c, &blocks(&c.text, true), &mut out);
    }
    let mut middlewares: HashMap<String, Middleware> = HashMap::new();
    let mut routers: Vec<Router> = Vec::new();
    let mut lb_hosts: HashMap<String, String> = HashMap::new();
    for c in configs {
        let docs = if is_yaml(&c.path) {
            yaml::parse(&c.text)
        } else if c.path.ends_with(".toml") && file_name(&c.path).starts_with("traefik") {
            toml_node(&c.text).into_iter().collect()
        } else {
            Vec::new()
        };
        for doc in &docs {
            traefik_labels(c, doc, &mut middlewares, &mut routers);
            traefik_file(c, doc, &mut middlewares, &mut routers, &mut lb_hosts);
            kong_routes(c, doc, &mut out);
        }
    }
    traefik_routes(&middlewares, &routers, &lb_hosts, &mut out);
    out
}

// ---------------------------------------------------------------- blocks

/// A directive of an nginx configuration or a Caddyfile, with its block.
#[derive(Clone, Debug, Default)]
struct Directive {
    name: String,
    args: Vec<String>,
    line: u32,
    block: Vec<Directive>,
}

/// The directives of an nginx file (`;` ends one) or a Caddyfile (a new
/// line ends one). `{` opens a block only as a word of its own (`{host}`
/// is a Caddy placeholder); `#` comments to the end of the line. An
/// unbalanced `}` is ignored, an unclosed block ends with the file.
fn blocks(text: &str, newline_ends: bool) -> Vec<Directive> {
    let mut stack: Vec<Directive> = vec![Directive::default()];
    let mut words: Vec<(String, u32)> = Vec::new();
    let mut line = 1u32;
    let mut chars = text.chars().peekable();
    let flush = |words: &mut Vec<(String, u32)>, stack: &mut Vec<Directive>, open: bool| {
        if words.is_empty() && !open {
            return;
        }
        let mut it = std::mem::take(words).into_iter();
        let (name, at) = it.next().unwrap_or_default();
        let d = Directive {
            name,
            args: it.map(|(w, _)| w).collect(),
            line: at,
            block: Vec::new(),
        };
        if open {
            stack.push(d);
        } else if let Some(top) = stack.last_mut() {
            top.block.push(d);
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                if newline_ends {
                    flush(&mut words, &mut stack, false);
                }
                line += 1;
            }
            c if c.is_whitespace() => {}
            '#' => {
                while chars.peek().is_some_and(|&n| n != '\n') {
                    chars.next();
                }
            }
            ';' if !newline_ends => flush(&mut words, &mut stack, false),
            // nginx: braces always delimit; Caddy: `{host}` is a placeholder.
            '{' if !newline_ends || chars.peek().is_none_or(|n| n.is_whitespace() || *n == '}') => {
                flush(&mut words, &mut stack, true)
            }
            '}' if !newline_ends
                || chars
                    .peek()
                    .is_none_or(|n| n.is_whitespace() || matches!(n, ';' | '}')) =>
            {
                flush(&mut words, &mut stack, false);
                if stack.len() > 1 {
                    let done = stack.pop().unwrap_or_default();
                    if let Some(top) = stack.last_mut() {
                        top.block.push(done);
                    }
                }
            }
            '"' | '\'' | '`' => {
                let mut word = String::new();
                for n in chars.by_ref() {
                    if n == c {
                        break;
                    }
                    if n == '\n' {
                        line += 1;
                    }
                    word.push(n);
                }
                words.push((word, line));
            }
            c => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || (matches!(n, ';' | '{' | '}') && !newline_ends) {
                        break;
                    }
                    // `server{`: a brace closing the word opens a block.
                    if n == '{' {
                        let mut ahead = chars.clone();
                        ahead.next();
                        if ahead.peek().is_none_or(|a| a.is_whitespace() || *a == '}') {
                            break;
                        }
                    }
                    word.push(n);
                    chars.next();
                }
                words.push((word, line));
            }
        }
    }
    flush(&mut words, &mut stack, false);
    while stack.len() > 1 {
        let done = stack.pop().unwrap_or_default();
        if let Some(top) = stack.last_mut() {
            top.block.push(done);
        }
    }
    stack.pop().map(|d| d.block).unwrap_or_default()
}

// ----------------------------------------------------------------- nginx

struct Zone {
    rate: String,
    key: String,
}

struct NginxCx<'a> {
    config: &'a ConfigFile,
    zones: &'a HashMap<String, Zone>,
    upstreams: &'a HashMap<String, String>,
}

/// `limit_req_zone` and `upstream` blocks, wherever they are.
fn nginx_globals(
    dirs: &[Directive],
    zones: &mut HashMap<String, Zone>,
    upstreams: &mut HashMap<String, String>,
) {
    for d in dirs {
        match d.name.as_str() {
            "limit_req_zone" => {
                let zone = arg_value(&d.args, "zone").map(|z| z.split(':').next().unwrap_or(z));
                if let Some(zone) = zone {
                    zones.insert(
                        zone.to_string(),
                        Zone {
                            rate: arg_value(&d.args, "rate").unwrap_or("").to_string(),
                            key: d.args.first().cloned().unwrap_or_default(),
                        },
                    );
                }
            }
            "upstream" => {
                let server = d.block.iter().find(|s| s.name == "server");
                if let (Some(name), Some(s)) = (d.args.first(), server) {
                    if let Some(addr) = s.args.first() {
                        upstreams.insert(name.clone(), host_of(addr));
                    }
                }
            }
            _ => nginx_globals(&d.block, zones, upstreams),
        }
    }
}

/// `zone=api` → `api`.
fn arg_value<'a>(args: &'a [String], key: &str) -> Option<&'a str> {
    args.iter()
        .find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
}

/// The host of `http://backend:8000/x`, `backend:8000`, `unix:/x`.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or(rest);
    host.to_string()
}

/// The path of a proxy URL (`http://api:8000/v1/` → `/v1/`), if it has one.
fn url_path(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map(|i| rest[i..].to_string())
}

const PROXY_DIRECTIVES: [&str; 4] = ["proxy_pass", "uwsgi_pass", "grpc_pass", "fastcgi_pass"];

/// Locations that proxy, with the `limit_req` in effect on them (a level's
/// own `limit_req` directives replace the ones inherited).
fn nginx_walk(
    cx: &NginxCx<'_>,
    dirs: &[Directive],
    inherited: &[Rule],
    group: &str,
    out: &mut Vec<Route>,
) {
    let own: Vec<Rule> = dirs
        .iter()
        .filter(|d| d.name == "limit_req")
        .map(|d| limit_req_rule(cx, d))
        .collect();
    let limits = if own.is_empty() { inherited } else { &own[..] };
    for d in dirs {
        match d.name.as_str() {
            "http" => nginx_walk(cx, &d.block, limits, group, out),
            "server" => {
                let group = format!("{}:{}", cx.config.path, d.line);
                // A server with a proxy but no location proxies everything.
                nginx_walk(cx, &d.block, limits, &group, out);
                if let Some(route) = proxy_route(cx, &d.block, "/", false, limits, &group) {
                    out.push(route);
                }
            }
            "location" => {
                let (front, exact) = location_prefix(&d.args);
                let inner: Vec<Rule> = d
                    .block
                    .iter()
                    .filter(|x| x.name == "limit_req")
                    .map(|x| limit_req_rule(cx, x))
                    .collect();
                let here = if inner.is_empty() { limits } else { &inner[..] };
                if let Some(route) = proxy_route(cx, &d.block, &front, exact, here, group) {
                    out.push(route);
                }
                let nested: Vec<Directive> = d
                    .block
                    .iter()
                    .filter(|x| x.name == "location")
                    .cloned()
                    .collect();
                nginx_walk(cx, &nested, here, group, out);
            }
            _ => {}
        }
    }
}

/// The route of a location (or server) block that proxies.
fn proxy_route(
    cx: &NginxCx<'_>,
    block: &[Directive],
    front: &str,
    exact: bool,
    limits: &[Rule],
    group: &str,
) -> Option<Route> {
    let pass = block
        .iter()
        .find(|x| PROXY_DIRECTIVES.contains(&x.name.as_str()))?;
    let url = pass.args.first()?;
    let host = host_of(url);
    let target = if host.starts_with('$') || host == "unix" {
        None
    } else {
        Some(cx.upstreams.get(&host).cloned().unwrap_or(host))
    };
    let backend = match url_path(url) {
        Some(p) if pass.name == "proxy_pass" && !p.contains('$') => p,
        _ => front.to_string(),
    };
    Some(Route {
        group: group.to_string(),
        front: front.to_string(),
        exact,
        backend,
        target,
        limits: limits.to_vec(),
    })
}

/// `location /api/`, `location ^~ /api/`, `location = /chat`, and the
/// literal start of a regex (`~ ^/api/(.*)` → `/api/`).
fn location_prefix(args: &[String]) -> (String, bool) {
    match args {
        [m, p, ..] if m == "=" => (p.clone(), true),
        [m, p, ..] if m == "^~" => (p.clone(), false),
        [m, p, ..] if m == "~" || m == "~*" => {
            let p = p.trim_start_matches('^');
            let lit: String = p
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '/' | '-' | '_'))
                .collect();
            (if lit.is_empty() { "/".into() } else { lit }, false)
        }
        [p, ..] => (p.clone(), false),
        [] => ("/".into(), false),
    }
}

fn limit_req_rule(cx: &NginxCx<'_>, d: &Directive) -> Rule {
    let zone = arg_value(&d.args, "zone").unwrap_or("");
    let mut spec = format!("limit_req zone={zone}");
    let mut windows = Vec::new();
    if let Some(z) = cx.zones.get(zone) {
        spec.push_str(&format!(" rate={}", z.rate));
        if z.rate.ends_with("r/s") {
            windows.push(1);
        } else if z.rate.ends_with("r/m") {
            windows.push(60);
        }
        if !z.key.is_empty() {
            spec.push_str(&format!(" key={}", z.key));
        }
    }
    if let Some(b) = arg_value(&d.args, "burst") {
        spec.push_str(&format!(" burst={b}"));
    }
    Rule {
        how: "nginx",
        at: at(cx.config, d.line),
        spec,
        windows,
        only: Vec::new(),
    }
}

// ----------------------------------------------------------------- Caddy

/// Caddy site blocks: a route per `reverse_proxy`, with the `rate_limit`
/// zones of its site (a zone's `match { path … }` narrows it).
fn caddy_routes(c: &ConfigFile, dirs: &[Directive], out: &mut Vec<Route>) {
    for site in dirs {
        if site.block.is_empty() || site.name.is_empty() {
            continue;
        }
        let mut limits = Vec::new();
        caddy_limits(c, &site.block, None, &mut limits);
        let mut proxies = Vec::new();
        caddy_proxies(&site.block, "/", false, &mut proxies);
        for (front, strip, upstream) in proxies {
            out.push(Route {
                group: format!("{}:{}", c.path, site.line),
                backend: if strip { "/".into() } else { front.clone() },
                front,
                exact: false,
                target: upstream.map(|u| host_of(&u)),
                limits: limits.clone(),
            });
        }
    }
}

/// `rate_limit` zones under a block; `scope`: the path of the enclosing
/// `route`/`handle`.
fn caddy_limits(c: &ConfigFile, dirs: &[Directive], scope: Option<&str>, out: &mut Vec<Rule>) {
    for d in dirs {
        match d.name.as_str() {
            "rate_limit" => {
                for zone in d.block.iter().filter(|z| z.name == "zone") {
                    let get = |k: &str| {
                        zone.block
                            .iter()
                            .find(|x| x.name == k)
                            .and_then(|x| x.args.first().cloned())
                    };
                    let window = get("window").unwrap_or_default();
                    let events = get("events").unwrap_or_default();
                    let mut only: Vec<String> = zone
                        .block
                        .iter()
                        .filter(|x| x.name == "match")
                        .flat_map(|m| m.block.iter().filter(|p| p.name == "path"))
                        .flat_map(|p| p.args.clone())
                        .collect();
                    if only.is_empty() {
                        only.extend(scope.map(str::to_string));
                    }
                    let secs = duration_secs(&window);
                    out.push(Rule {
                        how: "Caddy",
                        at: at(c, zone.line),
                        spec: format!(
                            "rate_limit zone {} events {events} window {window}",
                            zone.args.first().map_or("", String::as_str)
                        ),
                        windows: secs.into_iter().collect(),
                        only,
                    });
                }
            }
            "route" | "handle" | "handle_path" => {
                let path = d.args.first().filter(|a| a.starts_with('/'));
                caddy_limits(c, &d.block, path.map(String::as_str).or(scope), out);
            }
            _ => {}
        }
    }
}

/// `reverse_proxy [path] upstream…` under a block: (front path, prefix
/// stripped, upstream).
fn caddy_proxies(
    dirs: &[Directive],
    scope: &str,
    strip: bool,
    out: &mut Vec<(String, bool, Option<String>)>,
) {
    for d in dirs {
        match d.name.as_str() {
            "reverse_proxy" => {
                let (front, rest) = match d.args.first() {
                    Some(p) if p.starts_with('/') => (p.clone(), &d.args[1..]),
                    _ => (scope.to_string(), &d.args[..]),
                };
                let upstream = rest
                    .iter()
                    .find(|a| !a.starts_with('@'))
                    .or_else(|| {
                        d.block
                            .iter()
                            .find(|x| x.name == "to")
                            .and_then(|x| x.args.first())
                    })
                    .cloned();
                out.push((front.trim_end_matches('*').to_string(), strip, upstream));
            }
            "route" | "handle" | "handle_path" => {
                let path = d
                    .args
                    .first()
                    .filter(|a| a.starts_with('/'))
                    .map_or(scope, String::as_str);
                caddy_proxies(&d.block, path, strip || d.name == "handle_path", out);
            }
            _ => {}
        }
    }
}

/// `1m`, `30s`, `1h`, `24h`, `1d` → seconds.
fn duration_secs(text: &str) -> Option<u64> {
    let t = text.trim().trim_matches(['"', '\'']);
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    let n: u64 = digits.parse().ok()?;
    Some(match &t[digits.len()..] {
        "ms" => n / 1000,
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return None,
    })
}

// --------------------------------------------------------------- Traefik

#[derive(Default, Clone)]
struct Middleware {
    limit: Option<Rule>,
    strip: bool,
    chain: Vec<String>,
}

struct Router {
    rule: String,
    middlewares: Vec<String>,
    /// The compose service it is declared on, or the host of its
    /// file-provider service's URL.
    target: Option<String>,
    /// The file-provider service name, resolved once every file is read.
    service: Option<String>,
}

/// The labels of a compose service, as (key, value, line).
fn labels(service: &Node) -> Vec<(String, String, u32)> {
    let node = service.get("labels");
    let mut out: Vec<(String, String, u32)> = node
        .items()
        .iter()
        .filter_map(|n| {
            let (k, v) = n.str()?.split_once('=')?;
            Some((k.trim().to_string(), v.trim().to_string(), n.line))
        })
        .collect();
    out.extend(
        node.entries()
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.str()?.to_string(), v.line))),
    );
    out
}

/// Routers and middlewares of `traefik.*` labels of compose services.
fn traefik_labels(
    c: &ConfigFile,
    doc: &Node,
    middlewares: &mut HashMap<String, Middleware>,
    routers: &mut Vec<Router>,
) {
    for (name, service) in doc.get("services").entries() {
        let mut mine: HashMap<String, (String, Vec<String>)> = HashMap::new();
        for (key, value, line) in labels(service) {
            let lower = key.to_ascii_lowercase();
            let Some(rest) = lower.strip_prefix("traefik.http.") else {
                continue;
            };
            let parts: Vec<&str> = rest.splitn(3, '.').collect();
            match parts.as_slice() {
                ["routers", r, "rule"] => {
                    mine.entry(r.to_string()).or_default().0 = value;
                }
                ["routers", r, "middlewares"] => {
                    mine.entry(r.to_string()).or_default().1 = split_list(&value);
                }
                ["middlewares", m, setting] => {
                    let mw = middlewares.entry(m.to_string()).or_default();
                    if let Some(field) = setting.strip_prefix("ratelimit.") {
                        let rule = mw.limit.get_or_insert_with(|| Rule {
                            how: "Traefik",
                            at: at(c, line),
                            spec: "rateLimit".into(),
                            windows: Vec::new(),
                            only: Vec::new(),
                        });
                        if matches!(field, "average" | "period" | "burst") {
                            rule.spec = join_spec(&rule.spec, field, &value);
                        }
                    } else if setting.starts_with("stripprefix") {
                        mw.strip = true;
                    } else if *setting == "chain.middlewares" {
                        mw.chain = split_list(&value);
                    }
                }
                _ => {}
            }
        }
        for (_, (rule, mws)) in mine {
            routers.push(Router {
                rule,
                middlewares: mws,
                target: Some(name.clone()),
                service: None,
            });
        }
    }
}

/// `a, b@file` → `a`, `b`.
fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|m| {
            m.trim()
                .split('@')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
        })
        .filter(|m| !m.is_empty())
        .collect()
}

fn join_spec(spec: &str, key: &str, value: &str) -> String {
    let item = format!("{key}={value}");
    if spec.is_empty() {
        item
    } else {
        format!("{spec} {item}")
    }
}

/// The file provider's `http:` routers, middlewares and services.
fn traefik_file(
    c: &ConfigFile,
    doc: &Node,
    middlewares: &mut HashMap<String, Middleware>,
    routers: &mut Vec<Router>,
    lb_hosts: &mut HashMap<String, String>,
) {
    let http = doc.get("http");
    for (name, m) in http.get("middlewares").entries() {
        let mw = middlewares.entry(name.to_ascii_lowercase()).or_default();
        let rl = m.get("rateLimit");
        if rl.is_set() {
            let mut spec = "rateLimit".to_string();
            for k in ["average", "period", "burst"] {
                if let Some(v) = rl.get(k).str() {
                    spec = join_spec(&spec, k, v);
                }
            }
            mw.limit = Some(Rule {
                how: "Traefik",
                at: at(c, rl.line.max(m.line)),
                spec,
                windows: Vec::new(),
                only: Vec::new(),
            });
        }
        mw.strip |= m.get("stripPrefix").is_set();
        let chain = m.at(&["chain", "middlewares"]).strings();
        if !chain.is_empty() {
            mw.chain = chain.iter().flat_map(|s| split_list(s)).collect();
        }
    }
    for (_, r) in http.get("routers").entries() {
        routers.push(Router {
            rule: r.get("rule").str().unwrap_or("").to_string(),
            middlewares: r
                .get("middlewares")
                .strings()
                .iter()
                .flat_map(|s| split_list(s))
                .collect(),
            target: None,
            service: r
                .get("service")
                .str()
                .map(|s| s.split('@').next().unwrap_or(s).to_string()),
        });
    }
    for (name, s) in http.get("services").entries() {
        if let Some(url) = s
            .at(&["loadBalancer", "servers"])
            .items()
            .first()
            .and_then(|x| x.get("url").str())
        {
            lb_hosts.insert(name.clone(), host_of(url));
        }
    }
}

fn traefik_routes(
    middlewares: &HashMap<String, Middleware>,
    routers: &[Router],
    lb_hosts: &HashMap<String, String>,
    out: &mut Vec<Route>,
) {
    let prefix = regex::Regex::new(r#"Path(?:Prefix)?\(\s*[`"']([^`"']+)"#).expect("static regex");
    for r in routers {
        let mut names: Vec<String> = Vec::new();
        for m in &r.middlewares {
            names.push(m.clone());
            if let Some(mw) = middlewares.get(m) {
                names.extend(mw.chain.iter().cloned());
            }
        }
        let used: Vec<&Middleware> = names.iter().filter_map(|n| middlewares.get(n)).collect();
        let limits: Vec<Rule> = used
            .iter()
            .filter_map(|m| m.limit.clone())
            .map(|mut rule| {
                let period = rule
                    .spec
                    .split_whitespace()
                    .find_map(|p| p.strip_prefix("period="))
                    .map_or(Some(1), duration_secs);
                rule.windows = period.into_iter().collect();
                rule
            })
            .collect();
        let strip = used.iter().any(|m| m.strip);
        let target = r
            .target
            .clone()
            .or_else(|| r.service.as_ref().and_then(|s| lb_hosts.get(s).cloned()));
        let mut fronts: Vec<String> = prefix
            .captures_iter(&r.rule)
            .map(|c| c[1].to_string())
            .collect();
        if fronts.is_empty() {
            fronts.push("/".into());
        }
        for front in fronts {
            out.push(Route {
                group: "traefik".into(),
                backend: if strip { "/".into() } else { front.clone() },
                front,
                exact: false,
                target: target.clone(),
                limits: limits.clone(),
            });
        }
    }
}

/// A Traefik TOML file as a YAML tree (lines: where each table's key is
/// first written).
fn toml_node(text: &str) -> Option<Node> {
    let value: toml::Value = toml::from_str(text).ok()?;
    fn convert(v: &toml::Value, key: &str, text: &str) -> Node {
        let line = text
            .lines()
            .position(|l| !key.is_empty() && l.contains(key))
            .map_or(1, |i| i as u32 + 1);
        let value = match v {
            toml::Value::Table(t) => yaml::Value::Map(
                t.iter()
                    .map(|(k, v)| (k.clone(), convert(v, k, text)))
                    .collect(),
            ),
            toml::Value::Array(a) => {
                yaml::Value::Seq(a.iter().map(|v| convert(v, key, text)).collect())
            }
            toml::Value::String(s) => yaml::Value::Scalar(s.clone()),
            other => yaml::Value::Scalar(other.to_string()),
        };
        Node { line, value }
    }
    Some(convert(&value, "", text))
}

// ------------------------------------------------------------------ Kong

/// Kong's declarative configuration: services with their routes, and
/// `rate-limiting` plugins on a route, a service, or the whole gateway.
fn kong_routes(c: &ConfigFile, doc: &Node, out: &mut Vec<Route>) {
    if !doc.get("_format_version").is_set() {
        return;
    }
    let global: Vec<Rule> = doc
        .get("plugins")
        .items()
        .iter()
        .filter(|p| !p.get("service").is_set() && !p.get("route").is_set())
        .filter_map(|p| kong_rule(c, p))
        .collect();
    let top_plugins = doc.get("plugins").items();
    let on = |kind: &str, name: Option<&str>| -> Vec<Rule> {
        top_plugins
            .iter()
            .filter(|p| {
                let v = p.get(kind);
                name.is_some() && (v.str() == name || v.get("name").str() == name)
            })
            .filter_map(|p| kong_rule(c, p))
            .collect()
    };
    let mut route_of = |svc: &Node, r: &Node, svc_limits: &[Rule]| {
        let mut limits = global.clone();
        limits.extend(svc_limits.iter().cloned());
        limits.extend(
            r.get("plugins")
                .items()
                .iter()
                .filter_map(|p| kong_rule(c, p)),
        );
        limits.extend(on("route", r.get("name").str()));
        let url = svc.get("url").str();
        let target = url
            .map(host_of)
            .or_else(|| svc.get("host").str().map(str::to_string));
        let svc_path = url
            .and_then(url_path)
            .or_else(|| svc.get("path").str().map(str::to_string))
            .unwrap_or_else(|| "/".into());
        let strip = !matches!(r.get("strip_path").str(), Some("false"));
        let mut paths: Vec<String> = r
            .get("paths")
            .strings()
            .iter()
            .map(|p| p.to_string())
            .collect();
        if paths.is_empty() {
            paths.push("/".into());
        }
        for front in paths {
            out.push(Route {
                group: format!("kong:{}", c.path),
                backend: if strip {
                    svc_path.clone()
                } else {
                    front.clone()
                },
                front,
                exact: false,
                target: target.clone(),
                limits: limits.clone(),
            });
        }
    };
    for svc in doc.get("services").items() {
        let mut svc_limits: Vec<Rule> = svc
            .get("plugins")
            .items()
            .iter()
            .filter_map(|p| kong_rule(c, p))
            .collect();
        svc_limits.extend(on("service", svc.get("name").str()));
        for r in svc.get("routes").items() {
            route_of(svc, r, &svc_limits);
        }
        // Top-level routes naming the service (`service: { name: … }`).
        let name = svc.get("name").str();
        for r in doc.get("routes").items() {
            let of = r.get("service");
            if name.is_some() && (of.str() == name || of.get("name").str() == name) {
                route_of(svc, r, &svc_limits);
            }
        }
    }
}

/// A `rate-limiting` (or `rate-limiting-advanced`) plugin's limits.
fn kong_rule(c: &ConfigFile, plugin: &Node) -> Option<Rule> {
    let name = plugin.get("name").str()?;
    if !name.starts_with("rate-limiting") || plugin.get("enabled").str() == Some("false") {
        return None;
    }
    let config = plugin.get("config");
    let mut spec = name.to_string();
    let mut windows = Vec::new();
    for (k, secs) in [
        ("second", 1),
        ("minute", 60),
        ("hour", 3600),
        ("day", 86_400),
        ("month", 2_592_000),
        ("year", 31_536_000),
    ] {
        if let Some(v) = config.get(k).str() {
            spec = join_spec(&spec, k, v);
            windows.push(secs);
        }
    }
    // rate-limiting-advanced: `limit: [10]`, `window_size: [60]`.
    for (l, w) in config
        .get("limit")
        .strings()
        .iter()
        .zip(config.get("window_size").strings())
    {
        spec = join_spec(&spec, &format!("{w}s"), l);
        windows.extend(w.parse::<u64>().ok());
    }
    for k in ["limit_by", "policy"] {
        if let Some(v) = config.get(k).str() {
            spec = join_spec(&spec, k, v);
        }
    }
    Some(Rule {
        how: "Kong",
        at: at(c, plugin.line),
        spec,
        windows,
        only: Vec::new(),
    })
}

// --------------------------------------------------------------- compose

/// Compose services and the folders they are built from.
fn compose_services(configs: &[ConfigFile]) -> Services {
    let mut out = Services::new();
    for c in configs.iter().filter(|c| {
        let name = file_name(&c.path);
        is_yaml(name) && name.contains("compose")
    }) {
        let Some(doc) = yaml::parse_first(&c.text) else {
            continue;
        };
        let dir = dir_of(&c.path);
        for (name, s) in doc.get("services").entries() {
            let build = s.get("build");
            let context = build.str().or_else(|| build.get("context").str());
            let folder = context
                .filter(|ctx| !ctx.contains("://"))
                .map(|ctx| join_rel(dir, ctx));
            out.insert(name.clone(), folder.clone());
            if let Some(container) = s.get("container_name").str() {
                out.insert(container.to_string(), folder);
            }
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

    fn limits_on(configs: &[ConfigFile], file: &str, path: &str) -> Vec<String> {
        let routes = routes(configs);
        let services = compose_services(configs);
        covering(&routes, &services, file, path)
            .iter()
            .map(|r| format!("{} at {} {}", r.how, r.at, r.spec))
            .collect()
    }

    const NGINX: &str = "http {
  limit_req_zone $binary_remote_addr zone=ai:10m rate=10r/m;
  upstream api { server backend:8000; }
  server {
    listen 80;
    location / { proxy_pass http://frontend:3000; }
    location /api/ {
      limit_req zone=ai burst=5 nodelay;
      proxy_pass http://api/;
    }
    location = /health { proxy_pass http://api/health; }
  }
}
";

    #[test]
    fn nginx_limit_req_covers_the_location_that_proxies_the_route() {
        let configs = [
            config("deploy/nginx.conf", NGINX),
            config(
                "docker-compose.yml",
                "services:\n  backend:\n    build: ./backend\n  frontend:\n    build:\n      context: ./web\n",
            ),
        ];
        // `/api/` is proxied to `/` of the backend: its `/chat` is `/api/chat`.
        assert_eq!(
            limits_on(&configs, "backend/main.py", "/chat"),
            ["nginx at deploy/nginx.conf:8 limit_req zone=ai rate=10r/m key=$binary_remote_addr burst=5"]
        );
        // The frontend is served by `location /`, which has no limit.
        assert!(limits_on(&configs, "web/app/api/chat/route.ts", "/api/chat").is_empty());
        // `location = /health` is more specific than `/api/` and unlimited.
        assert!(limits_on(&configs, "backend/main.py", "/health").is_empty());
    }

    #[test]
    fn server_level_limit_is_inherited_unless_a_location_sets_its_own() {
        let text = "limit_req_zone $binary_remote_addr zone=one:10m rate=5r/s;\nserver {\n  limit_req zone=one;\n  location / { proxy_pass http://127.0.0.1:8000; }\n}\n";
        let configs = [config("nginx.conf", text)];
        assert_eq!(
            limits_on(&configs, "app.py", "/chat"),
            ["nginx at nginx.conf:3 limit_req zone=one rate=5r/s key=$binary_remote_addr"]
        );
        // A location that does not proxy is not a way to the app.
        let text = "limit_req_zone $binary_remote_addr zone=one:10m rate=5r/s;\nserver {\n  location /static/ { limit_req zone=one; root /srv; }\n  location / { proxy_pass http://127.0.0.1:8000; }\n}\n";
        assert!(limits_on(&[config("nginx.conf", text)], "app.py", "/chat").is_empty());
    }

    #[test]
    fn traefik_labels_attach_the_middleware_to_the_router() {
        let compose = r#"services:
  api:
    build: ./api
    labels:
      - "traefik.http.routers.api.rule=Host(`x.dev`) && PathPrefix(`/v1`)"
      - "traefik.http.routers.api.middlewares=limit@docker"
      - "traefik.http.middlewares.limit.ratelimit.average=20"
      - "traefik.http.middlewares.limit.ratelimit.period=1m"
  other:
    build: ./other
    labels:
      traefik.http.routers.other.rule: "PathPrefix(`/`)"
"#;
        let configs = [config("compose.yaml", compose)];
        assert_eq!(
            limits_on(&configs, "api/main.py", "/v1/chat"),
            ["Traefik at compose.yaml:7 rateLimit average=20 period=1m"]
        );
        assert!(limits_on(&configs, "api/main.py", "/chat").is_empty());
        assert!(limits_on(&configs, "other/main.py", "/v1/chat").is_empty());
    }

    #[test]
    fn caddy_and_kong_limits() {
        let caddy = "example.com {\n  rate_limit {\n    zone ai {\n      match {\n        path /api/*\n      }\n      key {remote_host}\n      events 30\n      window 1m\n    }\n  }\n  reverse_proxy localhost:3000\n}\n";
        let configs = [config("Caddyfile", caddy)];
        assert_eq!(
            limits_on(&configs, "app/api/chat/route.ts", "/api/chat"),
            ["Caddy at Caddyfile:3 rate_limit zone ai events 30 window 1m"]
        );
        assert!(limits_on(&configs, "app/page.ts", "/other").is_empty());
        let kong = "_format_version: \"3.0\"\nservices:\n  - name: ai\n    url: http://backend:8000\n    routes:\n      - name: chat\n        paths: [/ai]\n    plugins:\n      - name: rate-limiting\n        config: { minute: 10, day: 500, policy: local }\n";
        let configs = [config("kong.yml", kong)];
        assert_eq!(
            limits_on(&configs, "main.py", "/chat"),
            ["Kong at kong.yml:9 rate-limiting minute=10 day=500 policy=local"]
        );
    }

    #[test]
    fn empty_and_compact_blocks() {
        let dirs = blocks(
            "events {}\nhttp{server{location /{proxy_pass http://a:1;}}}\n",
            false,
        );
        let names: Vec<&str> = dirs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["events", "http"]);
        let location = &dirs[1].block[0].block[0];
        assert_eq!(
            (location.name.as_str(), location.args.clone()),
            ("location", vec!["/".to_string()])
        );
        assert_eq!(location.block[0].name, "proxy_pass");
    }

    #[test]
    fn traefik_toml_and_kong_top_level_routes() {
        let toml = "[http.routers.chat]\nrule = \"PathPrefix(`/chat`)\"\nmiddlewares = [\"slow\"]\nservice = \"app\"\n\n[http.middlewares.slow.rateLimit]\naverage = 5\nperiod = \"1s\"\n";
        let configs = [config("traefik.toml", toml)];
        assert_eq!(
            limits_on(&configs, "main.py", "/chat"),
            ["Traefik at traefik.toml:6 rateLimit average=5 period=1s"]
        );
        let kong = "_format_version: \"3.0\"\nservices:\n  - name: ai\n    url: http://api:8000/v1\nroutes:\n  - name: ask\n    service: { name: ai }\n    paths: [/ask]\n    plugins:\n      - name: rate-limiting\n        config: { hour: 100 }\n";
        let configs = [config("kong.yaml", kong)];
        // `strip_path` (the default): `/ask/x` reaches `/v1/x` of the app.
        assert_eq!(
            limits_on(&configs, "main.py", "/v1/chat"),
            ["Kong at kong.yaml:10 rate-limiting hour=100"]
        );
        assert!(limits_on(&configs, "main.py", "/chat").is_empty());
    }

    #[test]
    fn broken_files_give_no_routes() {
        let configs = [
            config("nginx.conf", "server { location / { proxy_pass"),
            config("Caddyfile", "}}} {{{"),
            config("kong.yml", "_format_version: [\n"),
        ];
        let routes = routes(&configs);
        assert!(routes.iter().all(|r| r.limits.is_empty()));
    }

    #[test]
    fn durations() {
        assert_eq!(duration_secs("1m"), Some(60));
        assert_eq!(duration_secs("10s"), Some(10));
        assert_eq!(duration_secs("24h"), Some(86_400));
        assert_eq!(duration_secs("x"), None);
    }
}
