//! cors: CORS that lets any website call the backend from its visitors'
//! browsers.
//!
//! Project pass over the facts: FastAPI/Starlette `CORSMiddleware`,
//! Flask-CORS `CORS(...)` and `@cross_origin`, Django settings, Express and
//! Hono `cors(...)`, Fastify `@fastify/cors`; option values are read from the
//! call, from a variable assigned in the same file, or from a settings
//! default anywhere in the project (`settings.cors_origins`). File pass over
//! text: `Access-Control-Allow-Origin` set to `*` or to the request's Origin
//! by hand (responses, `next.config.*` headers, `vercel.json`, middleware).
//! Lambda manifests: API Gateway CORS with a wildcard origin
//! (`serverless.yml` `cors: true`, SAM `AllowOrigin: "'*'"`), read by the
//! Lambda family, located at the manifest line.
//! The message names what the policy exposes: the AI endpoints of its own
//! app (the inventory, app folder by app folder), the paths it is mounted
//! on when narrower (a static mount, a discovery document: a warning when
//! no AI endpoint is under it), or the app's own AI calls (never those of
//! tests, scripts or other apps). An origin that defaults to `*`
//! (`os.getenv("CORS_ORIGINS", "*")`, a settings field `= ["*"]`) is a
//! wildcard, and the message says so.

use std::collections::BTreeMap;

use regex::bytes::Regex;
use std::sync::LazyLock;

/// The CORS header, in any case, without copying the file to lower case.
/// Every casing of the header holds one of these (`allow-origin`'s `w-o`):
/// a case-sensitive SIMD search rejects most files before the slower
/// case-insensitive one runs.
static HEADER_HINT: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .build(["w-o", "w-O", "W-o", "W-O"])
        .expect("four literals")
});

static HEADER: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(aho_corasick::MatchKind::LeftmostFirst)
        .build(["access-control-allow-origin"])
        .expect("one literal")
});

use super::{Check, CheckId, Coverage};
use crate::catalog::{Catalog, EnvSpec};
use crate::context::{FileContext, ProjectContext};
use crate::facts::{Arg, Call, FileFacts, ProjectFacts};
use crate::findings::{Finding, Redacted, Severity, Span};

pub struct Cors;

/// What a CORS configuration allows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// `*` written out.
    Wildcard,
    /// Nothing configured, and the library's default is `*`.
    DefaultWildcard,
    /// Any origin echoed back (`origin: true`, a callback that always allows).
    Reflect,
    /// A regex that matches every origin.
    WildcardRegex,
    /// Django's allow-all switch.
    AllowAll,
}

impl Verdict {
    fn rule(self) -> &'static str {
        match self {
            Verdict::Wildcard => "cors-wildcard-origin",
            Verdict::DefaultWildcard => "cors-default-any-origin",
            Verdict::Reflect => "cors-reflects-any-origin",
            Verdict::WildcardRegex => "cors-wildcard-regex",
            Verdict::AllowAll => "cors-allow-all-origins",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Verdict::Wildcard => "allows every origin (`*`)",
            Verdict::DefaultWildcard => "has no origins set, and the default allows every origin",
            Verdict::Reflect => "echoes back any Origin it is sent",
            Verdict::WildcardRegex => "matches every origin with its regex",
            Verdict::AllowAll => "allows all origins",
        }
    }
}

#[derive(Clone, Copy)]
enum Framework {
    FastApi,
    Flask,
    Django,
    Express,
    Hono,
    Fastify,
    Nest,
    Firebase,
}

impl Framework {
    fn name(self) -> &'static str {
        match self {
            Framework::FastApi => "CORSMiddleware",
            Framework::Flask => "Flask-CORS",
            Framework::Django => "django-cors-headers",
            Framework::Express => "cors()",
            Framework::Hono => "hono/cors",
            Framework::Fastify => "@fastify/cors",
            Framework::Nest => "NestJS CORS",
            Framework::Firebase => "Firebase onRequest CORS",
        }
    }

    fn fix(self, catalog: &Catalog) -> &str {
        let f = &catalog.cors.fix;
        match self {
            Framework::FastApi => &f.fastapi,
            Framework::Flask => &f.flask,
            Framework::Django => &f.django,
            Framework::Express => &f.express,
            Framework::Hono => &f.hono,
            Framework::Fastify => &f.fastify,
            Framework::Nest => &f.nest,
            Framework::Firebase => &f.firebase,
        }
    }
}

/// One bad policy, before the project-level message is added.
struct Hit {
    file: usize,
    line: u32,
    column: u32,
    verdict: Verdict,
    framework: Framework,
    credentials: bool,
    detail: String,
    /// The paths the policy covers, when narrower than the app
    /// (`app.use("/static", cors())`, Flask `resources={r"/.well-known/*": …}`).
    scope: Vec<String>,
    /// Why the value is a wildcard when it is not written out
    /// (`os.getenv("CORS_ORIGINS", "*")`: `*` unless CORS_ORIGINS is set).
    note: Option<String>,
}

impl Check for Cors {
    fn id(&self) -> CheckId {
        CheckId::Cors
    }

    fn check_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        let bytes = file.source.bytes();
        // A test's mock server (`scripts/e2e/mock_llm.py`) is never deployed.
        if file.catalog.is_test_path(file.path) {
            return;
        }
        if !HEADER_HINT.is_match(bytes) || !HEADER.is_match(bytes) {
            return;
        }
        for (start, end, reflect) in collect_header_hits(bytes) {
            let line = file.source.line_of(start);
            if reflect
                && has_allowlist_near(file, line, &file.catalog.cors.patterns.allowlist_words)
            {
                continue;
            }
            let what = if reflect {
                "to the request's Origin without checking it"
            } else {
                "to `*`"
            };
            out.push(Finding {
                check: CheckId::Cors,
                rule: if reflect {
                    "cors-header-reflects-origin"
                } else {
                    "cors-header-wildcard"
                }
                .into(),
                severity: Severity::Error,
                path: file.path.to_string(),
                span: Some(file.source.span(start, end)),
                message: format!(
                    "Access-Control-Allow-Origin is set {what}: any website can call this endpoint"
                ),
                evidence: Some(Redacted::public(&String::from_utf8_lossy(
                    &bytes[start..end],
                ))),
                fix: Some(file.catalog.cors.fix.header.trim().to_string()),
            });
        }
    }

    fn check_project(&self, project: &ProjectContext<'_>, out: &mut Vec<Finding>) -> Coverage {
        let facts = project.facts;
        let mut hits = Vec::new();
        let mut backends = 0;
        for (index, file) in facts.files().iter().enumerate() {
            backends += is_backend(file) as usize;
            match file.lang {
                Some(l) if l.is_python() => {
                    python_hits(index, file, facts, project.catalog, &mut hits)
                }
                Some(_) => {
                    js_hits(index, file, project.catalog, &mut hits);
                    nest_hits(index, file, project.catalog, &mut hits);
                    firebase_hits(index, file, &mut hits);
                }
                None => {}
            }
        }
        let exposure = collect_exposure(project);
        for hit in &hits {
            out.push(finding(hit, project, &exposure));
        }
        let manifests = crate::inventory::frameworks::lambda_cors_wildcards(facts);
        for (path, line, detail, routes) in &manifests {
            out.push(manifest_finding(project, path, *line, detail, routes));
        }
        let headers = project
            .paths
            .iter()
            .any(|p| p.ends_with("vercel.json") || p.contains("next.config."));
        let lambda = project
            .inventory
            .frameworks
            .contains(&crate::inventory::Framework::Lambda);
        if hits.is_empty() && backends == 0 && !headers && manifests.is_empty() && !lambda {
            Coverage::NotApplicable("no backend or CORS configuration found".into())
        } else {
            Coverage::Checked
        }
    }
}

fn is_backend(file: &FileFacts) -> bool {
    const FRAMEWORKS: [&str; 12] = [
        "fastapi",
        "flask",
        "django",
        "starlette",
        "express",
        "hono",
        "fastify",
        "next/server",
        "@fastify/cors",
        "@nestjs/core",
        "@nestjs/common",
        "firebase-functions",
    ];
    file.imports.iter().any(|i| {
        FRAMEWORKS.iter().any(|f| {
            i.module.strip_prefix(f).is_some_and(|rest| {
                rest.is_empty()
                    || rest.starts_with('.')
                    || (*f == "firebase-functions" && rest.starts_with('/'))
            })
        })
    })
}

fn local_of<'f>(file: &'f FileFacts, module: &str, name: Option<&str>) -> Vec<&'f str> {
    file.imports
        .iter()
        .filter(|i| i.module == module && (name.is_none() || i.name.as_deref() == name))
        .map(|i| i.local.as_str())
        .collect()
}

fn python_hits(
    index: usize,
    file: &FileFacts,
    facts: &ProjectFacts,
    catalog: &Catalog,
    hits: &mut Vec<Hit>,
) {
    let mut middleware: Vec<&str> =
        local_of(file, "fastapi.middleware.cors", Some("CORSMiddleware"));
    middleware.extend(local_of(
        file,
        "starlette.middleware.cors",
        Some("CORSMiddleware"),
    ));
    let flask_cors = local_of(file, "flask_cors", Some("CORS"));
    let cross_origin = local_of(file, "flask_cors", Some("cross_origin"));
    for call in &file.calls {
        let first = call.args.first().map(|a| a.text.as_str());
        let is_mw = (call.callee.ends_with("add_middleware") || call.callee == "Middleware")
            && first.is_some_and(|f| middleware.contains(&f));
        if is_mw {
            fastapi_hit(index, file, facts, catalog, call, hits);
        } else if flask_cors.contains(&call.callee.as_str()) {
            flask_hit(index, call, call.line, call.column, hits);
        }
    }
    for function in &file.functions {
        for d in function
            .decorators
            .iter()
            .filter(|d| cross_origin.contains(&d.callee.as_str()))
        {
            flask_hit(index, d, d.line, d.column, hits);
        }
    }
    for a in file.assignments.iter().filter(|a| a.in_function.is_none()) {
        if matches!(
            a.target.as_str(),
            "CORS_ALLOW_ALL_ORIGINS" | "CORS_ORIGIN_ALLOW_ALL"
        ) && a.text == "True"
        {
            hits.push(Hit {
                file: index,
                line: a.line,
                column: 1,
                verdict: Verdict::AllowAll,
                framework: Framework::Django,
                credentials: file
                    .assignments
                    .iter()
                    .any(|c| c.target == "CORS_ALLOW_CREDENTIALS" && c.text == "True"),
                detail: format!("{} = True", a.target),
                scope: Vec::new(),
                note: None,
            });
        }
    }
}

fn kwarg<'c>(call: &'c Call, name: &str) -> Option<&'c Arg> {
    call.args
        .iter()
        .find(|a| a.keyword.as_deref() == Some(name))
}

fn fastapi_hit(
    index: usize,
    file: &FileFacts,
    facts: &ProjectFacts,
    catalog: &Catalog,
    call: &Call,
    hits: &mut Vec<Hit>,
) {
    let credentials = kwarg(call, "allow_credentials").is_some_and(|a| a.text == "True");
    let mut push = |arg: &Arg, verdict: Verdict, detail: String, note: Option<String>| {
        hits.push(Hit {
            file: index,
            line: arg.line,
            column: arg.column,
            verdict,
            framework: Framework::FastApi,
            credentials,
            detail,
            scope: Vec::new(),
            note,
        })
    };
    if let Some(arg) = kwarg(call, "allow_origins") {
        if is_wildcard_list(&arg.text) {
            push(
                arg,
                Verdict::Wildcard,
                format!("allow_origins={}", arg.text),
                None,
            );
        } else if let Some(var) = find_env_wildcard_default(&arg.text) {
            push(
                arg,
                Verdict::Wildcard,
                format!("allow_origins={}", arg.text),
                Some(unset_note(&var)),
            );
        } else if let Some((value, place)) = resolve_value(&arg.text, index, file, facts) {
            let setting = arg.text.rsplit('.').next().unwrap_or(&arg.text).to_string();
            if is_wildcard_list(&value) {
                let note = (place.starts_with("set in") || arg.text.contains('.')).then(|| {
                    format!("`*` by default: the setting `{setting}` is {value} ({place})")
                });
                push(
                    arg,
                    Verdict::Wildcard,
                    format!("allow_origins={} is {value} ({place})", arg.text),
                    note,
                );
            } else if let Some(var) = find_env_wildcard_default(&value) {
                push(
                    arg,
                    Verdict::Wildcard,
                    format!("allow_origins={} is {value} ({place})", arg.text),
                    Some(unset_note(&var)),
                );
            }
        }
    }
    if let Some(arg) = kwarg(call, "allow_origin_regex") {
        let value = unquote(&arg.text);
        if catalog
            .cors
            .patterns
            .wildcard_regexes
            .iter()
            .any(|w| *w == value)
        {
            push(
                arg,
                Verdict::WildcardRegex,
                format!("allow_origin_regex={}", arg.text),
                None,
            );
        }
    }
}

fn flask_hit(index: usize, call: &Call, line: u32, column: u32, hits: &mut Vec<Hit>) {
    let credentials = kwarg(call, "supports_credentials").is_some_and(|a| a.text == "True");
    let origins = kwarg(call, "origins");
    let resources = kwarg(call, "resources");
    let verdict = match (origins, resources) {
        (Some(o), _) if is_wildcard_list(&o.text) => Some((
            Verdict::Wildcard,
            o.line,
            o.column,
            format!("origins={}", o.text),
        )),
        (None, Some(r)) if resources_wildcard(&r.text) => Some((
            Verdict::Wildcard,
            r.line,
            r.column,
            format!("resources={}", r.text),
        )),
        (None, None) => Some((
            Verdict::DefaultWildcard,
            line,
            column,
            format!("{}(...) without origins", call.callee),
        )),
        _ => None,
    };
    let scope = match (origins, resources) {
        (None, Some(r)) => collect_wildcard_resources(&r.text),
        _ => Vec::new(),
    };
    let note = origins
        .and_then(|o| find_env_wildcard_default(&o.text))
        .map(|v| unset_note(&v));
    let verdict = verdict.or_else(|| {
        let o = origins?;
        note.as_ref()?;
        Some((
            Verdict::Wildcard,
            o.line,
            o.column,
            format!("origins={}", o.text),
        ))
    });
    if let Some((verdict, line, column, detail)) = verdict {
        hits.push(Hit {
            file: index,
            line,
            column,
            verdict,
            framework: Framework::Flask,
            credentials,
            detail,
            scope,
            note,
        });
    }
}

/// The resource patterns of a Flask-CORS `resources={…}` whose origins are `*`.
fn collect_wildcard_resources(text: &str) -> Vec<String> {
    static ENTRY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"r?["']([^"']+)["']\s*:\s*\{[^{}]*["']origins["']\s*:\s*\[?\s*["']\*["']"#)
            .expect("static regex")
    });
    ENTRY
        .captures_iter(text.as_bytes())
        .map(|c| String::from_utf8_lossy(&c[1]).into_owned())
        .collect()
}

/// `os.getenv("CORS_ORIGINS", "*")`, `os.environ.get("X", "*")`,
/// `process.env.X ?? "*"`, `process.env.X || "*"`: the variable whose
/// absence makes the value `*`.
fn find_env_wildcard_default(text: &str) -> Option<String> {
    static PY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?:getenv|environ\.get|env\.get|env\.str|env\.list|config)\(\s*["']([A-Za-z0-9_]+)["']\s*,\s*(?:default\s*=\s*)?\[?\s*["']\*["']"#)
            .expect("static regex")
    });
    static JS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"process\.env\.([A-Za-z0-9_]+)\s*(?:\?\?|\|\|)\s*\[?\s*["'`]\*["'`]"#)
            .expect("static regex")
    });
    [&*PY, &*JS].iter().find_map(|re| {
        re.captures(text.as_bytes())
            .map(|c| String::from_utf8_lossy(&c[1]).into_owned())
    })
}

fn unset_note(var: &str) -> String {
    format!("`*` wherever {var} is not set (the default)")
}

fn resources_wildcard(text: &str) -> bool {
    let squashed: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .replace('\'', "\"");
    squashed.contains("\"origins\":\"*\"") || squashed.contains("\"origins\":[\"*\"]")
}

fn js_hits(index: usize, file: &FileFacts, catalog: &Catalog, hits: &mut Vec<Hit>) {
    let express = local_of(file, "cors", None);
    let hono = local_of(file, "hono/cors", Some("cors"));
    let fastify = local_of(file, "@fastify/cors", None);
    for call in &file.calls {
        let (framework, options) = if express.contains(&call.callee.as_str()) {
            (Framework::Express, call.args.first())
        } else if hono.contains(&call.callee.as_str()) {
            (Framework::Hono, call.args.first())
        } else if call.callee.ends_with("register")
            && call
                .args
                .first()
                .is_some_and(|a| fastify.contains(&a.text.as_str()))
        {
            (Framework::Fastify, call.args.get(1))
        } else {
            continue;
        };
        let pairs = options.map(|o| options_pairs(o, file)).unwrap_or_default();
        let origin = pairs.get("origin").map(String::as_str);
        let credentials = pairs.get("credentials").is_some_and(|v| v == "true");
        let seen = options.is_none_or(|o| !o.pairs.is_empty() || o.text.starts_with('{'));
        let Some(verdict) = origin_verdict(origin, seen, catalog) else {
            continue;
        };
        let detail = match origin {
            Some(v) => format!("origin: {v}"),
            None => format!(
                "{}({})",
                call.callee,
                options.map(|o| o.text.as_str()).unwrap_or("")
            ),
        };
        let (line, column) = options
            .map(|o| (o.line, o.column))
            .unwrap_or((call.line, call.column));
        let note = origin
            .and_then(find_env_wildcard_default)
            .map(|v| unset_note(&v));
        hits.push(Hit {
            file: index,
            line,
            column,
            verdict,
            framework,
            credentials,
            detail,
            scope: collect_mount_paths(file, call),
            note,
        });
    }
}

/// What a JS `origin` option allows (`None`: not given; `seen`: the
/// options object is written out, so the library's default applies).
fn origin_verdict(origin: Option<&str>, seen: bool, catalog: &Catalog) -> Option<Verdict> {
    match origin {
        None if seen => Some(Verdict::DefaultWildcard),
        None => None, // options from somewhere we cannot see
        Some(v) if is_wildcard_list(v) => Some(Verdict::Wildcard),
        Some(v) if find_env_wildcard_default(v).is_some() => Some(Verdict::Wildcard),
        Some("true") => Some(Verdict::Reflect),
        Some(v) if is_function(v) && always_allows(v, &catalog.cors.patterns.allowlist_words) => {
            Some(Verdict::Reflect)
        }
        Some(_) => None,
    }
}

/// NestJS: `app.enableCors(options?)` and `NestFactory.create(AppModule,
/// { cors: true | options })`, in a file that imports NestJS. Both pass
/// the options to the `cors` package, whose default is every origin.
fn nest_hits(index: usize, file: &FileFacts, catalog: &Catalog, hits: &mut Vec<Hit>) {
    if !file
        .imports
        .iter()
        .any(|i| i.module.starts_with("@nestjs/"))
    {
        return;
    }
    for call in &file.calls {
        let last = call.callee.rsplit('.').next().unwrap_or("");
        let (options, detail) = if last == "enableCors" {
            let options = call.args.first();
            let pairs = options.map(|o| options_pairs(o, file)).unwrap_or_default();
            (
                options.map(|o| (o.line, o.column, o.text.clone())),
                (
                    pairs,
                    options.is_none_or(|o| !o.pairs.is_empty() || o.text.starts_with('{')),
                ),
            )
        } else if call.callee.ends_with("NestFactory.create") {
            let Some((arg, value)) = call.args.get(1).and_then(|o| {
                o.pairs
                    .iter()
                    .find(|(k, _)| k == "cors")
                    .map(|(_, v)| (o, v.clone()))
            }) else {
                continue;
            };
            if value == "false" {
                continue;
            }
            let pairs = if value == "true" {
                BTreeMap::new()
            } else {
                text_pairs(&value)
            };
            let seen = value == "true" || value.starts_with('{');
            (
                Some((arg.line, arg.column, format!("cors: {value}"))),
                (pairs, seen),
            )
        } else {
            continue;
        };
        let (pairs, seen) = detail;
        let origin = pairs.get("origin").map(String::as_str);
        let Some(verdict) = origin_verdict(origin, seen, catalog) else {
            continue;
        };
        let (line, column, text) = options.unwrap_or((call.line, call.column, String::new()));
        let detail = match origin {
            Some(v) => format!("origin: {v}"),
            None if text.starts_with("cors:") => format!("{}(…, {{ {text} }})", call.callee),
            None => format!("{}({text})", call.callee),
        };
        hits.push(Hit {
            file: index,
            line,
            column,
            verdict,
            framework: Framework::Nest,
            credentials: pairs.get("credentials").is_some_and(|v| v == "true"),
            detail,
            scope: Vec::new(),
            note: origin
                .and_then(find_env_wildcard_default)
                .map(|v| unset_note(&v)),
        });
    }
}

/// Firebase Cloud Functions (v2): `onRequest({ cors: true }, …)` answers
/// every origin with its own (`cors: "*"`: `*`); a list or a regex of
/// origins restricts it. In a file that imports firebase-functions.
fn firebase_hits(index: usize, file: &FileFacts, hits: &mut Vec<Hit>) {
    if !file
        .imports
        .iter()
        .any(|i| i.module.starts_with("firebase-functions"))
    {
        return;
    }
    for call in file
        .calls
        .iter()
        .filter(|c| c.callee.ends_with("onRequest"))
    {
        let Some((arg, value)) = call.args.first().and_then(|o| {
            o.pairs
                .iter()
                .find(|(k, _)| k == "cors")
                .map(|(_, v)| (o, v.trim().to_string()))
        }) else {
            continue;
        };
        let verdict = match value.as_str() {
            "true" => Verdict::Reflect,
            v if is_wildcard_list(v) => Verdict::Wildcard,
            _ => continue,
        };
        hits.push(Hit {
            file: index,
            line: arg.line,
            column: arg.column,
            verdict,
            framework: Framework::Firebase,
            credentials: false,
            detail: format!("onRequest({{ cors: {value} }}, …)"),
            // The function it is exported as (`export const chat = …`): `/chat`.
            scope: file
                .assignments
                .iter()
                .filter(|a| a.line == call.line && a.in_function.is_none())
                .map(|a| format!("/{}", a.target.trim_start_matches("exports.")))
                .collect(),
            note: None,
        });
    }
}

/// `origin` and `credentials` of an options object's text.
fn text_pairs(text: &str) -> BTreeMap<String, String> {
    static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(origin|credentials)\s*:\s*("[^"]*"|'[^']*'|`[^`]*`|true|false|\[[^\]]*\])"#)
            .expect("static regex")
    });
    PATTERN
        .captures_iter(text.as_bytes())
        .map(|c| {
            (
                String::from_utf8_lossy(&c[1]).into_owned(),
                String::from_utf8_lossy(&c[2]).into_owned(),
            )
        })
        .collect()
}

/// The paths a `cors(…)` call is mounted on, when it is route middleware:
/// `app.use("/static", cors(), …)`, `app.get("/.well-known/x", cors(), h)`.
fn collect_mount_paths(file: &FileFacts, cors: &Call) -> Vec<String> {
    let text = format!("{}(", cors.callee);
    file.calls
        .iter()
        .filter(|c| c.line <= cors.line && c.args.iter().skip(1).any(|a| a.text.starts_with(&text)))
        .filter_map(|c| {
            let first = c.args.first()?;
            let quoted = first.text.starts_with(['"', '\'', '`']);
            let path = unquote(&first.text);
            (quoted && path.starts_with('/')).then(|| path.to_string())
        })
        .collect()
}

/// An options argument's pairs: written inline, or a same-file variable.
fn options_pairs(arg: &Arg, file: &FileFacts) -> BTreeMap<String, String> {
    if !arg.pairs.is_empty() {
        return arg.pairs.iter().cloned().collect();
    }
    let Some(assigned) = file.assignments.iter().find(|a| a.target == arg.text) else {
        return BTreeMap::new();
    };
    text_pairs(&assigned.text)
}

fn is_function(v: &str) -> bool {
    v.contains("=>") || v.starts_with("function") || v.starts_with("async")
}

/// A callback that calls back with `true` and never looks at an allowlist.
fn always_allows(v: &str, allowlist_words: &[String]) -> bool {
    let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    compact.contains("null,true)") && !allowlist_words.iter().any(|w| v.contains(w.as_str()))
}

fn unquote(text: &str) -> &str {
    let t = text.trim().trim_start_matches(['r', 'f', 'b']);
    t.trim_matches(|c| c == '"' || c == '\'' || c == '`')
}

/// `"*"`, `["*"]`, `('*',)`, `{"*"}`.
fn is_wildcard_list(text: &str) -> bool {
    let inner = text
        .trim()
        .trim_start_matches(['[', '(', '{'])
        .trim_end_matches([']', ')', '}', ','])
        .trim();
    let inner = inner.trim_end_matches(',').trim();
    matches!(inner, "\"*\"" | "'*'" | "`*`")
}

/// `origins` or `settings.cors_origins`: the value it is assigned, in this
/// file or (a settings default) anywhere in the project.
fn resolve_value(
    name: &str,
    index: usize,
    file: &FileFacts,
    facts: &ProjectFacts,
) -> Option<(String, String)> {
    let is_name = name
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    if !is_name {
        return None;
    }
    if let Some(a) = file.assignments.iter().rev().find(|a| a.target == name) {
        return Some((a.text.clone(), format!("{}:{}", file.path, a.line)));
    }
    let last = name.rsplit('.').next()?;
    for (i, f) in facts.files().iter().enumerate() {
        if i == index && !name.contains('.') {
            continue;
        }
        let target = |t: &str| t == last || t.rsplit('.').next() == Some(last);
        if let Some(a) = f.assignments.iter().find(|a| target(&a.target)) {
            return Some((a.text.clone(), format!("set in {}:{}", f.path, a.line)));
        }
    }
    None
}

/// Byte ranges of `Access-Control-Allow-Origin` set to `*` (false) or to
/// the request's own Origin (true), in any language or JSON.
fn collect_header_hits(bytes: &[u8]) -> Vec<(usize, usize, bool)> {
    static WILDCARD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?i)["']?access-control-allow-origin["']?\]?\s*(?:[:=,]|["']\s*,\s*["']?value["']?\s*:)\s*["'`]\*["'`]"#,
        )
        .expect("static regex")
    });
    static REFLECT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?i)["']?access-control-allow-origin["']?\]?\s*[:=,]\s*(?:req|request|c\.req|ctx\.request)\.(?:headers\.origin|headers\.get\(\s*["']origin["']\s*\)|headers\[["']origin["']\]|header\(\s*["']origin["']\s*\))"#,
        )
        .expect("static regex")
    });
    let (wildcard, reflect) = (&*WILDCARD, &*REFLECT);
    let mut hits: Vec<(usize, usize, bool)> = wildcard
        .find_iter(bytes)
        .map(|m| (m.start(), m.end(), false))
        .collect();
    hits.extend(reflect.find_iter(bytes).map(|m| (m.start(), m.end(), true)));
    hits.sort();
    hits
}

fn has_allowlist_near(file: &FileContext<'_>, line: u32, words: &[String]) -> bool {
    let near = String::from_utf8_lossy(file.source.lines_range(line.saturating_sub(6), line + 1))
        .into_owned();
    words.iter().any(|w| near.contains(w.as_str()))
}

/// What an app exposes, by app folder: its AI endpoints (method, path),
/// or, when the inventory found none, the AI call sites of its own code
/// (tests, scripts and examples left out: a policy does not expose them).
struct Exposure {
    endpoints: BTreeMap<String, Vec<(String, String)>>,
    calls: BTreeMap<String, Vec<String>>,
}

fn collect_exposure(project: &ProjectContext<'_>) -> Exposure {
    let facts = project.facts;
    let mut endpoints: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for e in project.inventory.ai_endpoints() {
        let app = app_folder(&facts.file(e.file).path, project);
        endpoints
            .entry(app)
            .or_default()
            .push((e.method.clone(), e.path.clone()));
    }
    let mut calls: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for call in &project.inventory.ai_calls {
        let file = facts.file(call.file);
        if is_test_or_script(&file.path) {
            continue;
        }
        let app = app_folder(&file.path, project);
        let place = format!(
            "{} at {}:{}",
            call.provider,
            file.path,
            facts.call((call.file, call.call)).line
        );
        let list = calls.entry(app).or_default();
        if !list.contains(&place) {
            list.push(place);
        }
    }
    Exposure { endpoints, calls }
}

/// Tests, scripts, examples and notebooks: code no HTTP policy exposes.
fn is_test_or_script(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let folder_hit = path.split('/').rev().skip(1).any(|part| {
        matches!(
            part,
            "tests"
                | "test"
                | "__tests__"
                | "e2e"
                | "scripts"
                | "script"
                | "examples"
                | "example"
                | "notebooks"
                | "benchmarks"
                | "evals"
        )
    });
    // `test_x.py`, `x_test.go`, `x.test.ts`, `compatibility-test-script.cjs`.
    let name_hit = name
        .split(['-', '_', '.'])
        .any(|w| matches!(w, "test" | "tests" | "spec" | "mock" | "mocks" | "conftest"));
    folder_hit || name_hit
}

/// Does an endpoint path fall under a scope pattern (`/static`,
/// `/.well-known/*`, `/api/.*`)?
fn is_under(path: &str, scope: &str) -> bool {
    let prefix = scope
        .split(['*', '(', '['])
        .next()
        .unwrap_or(scope)
        .trim_end_matches('.');
    path.starts_with(prefix.trim_end_matches('/')) && !prefix.is_empty()
}

/// The nearest folder above `path` holding an app marker (`package.json`, …).
/// `project.paths` is sorted: a binary search per marker and level (a scan
/// of every path made this quadratic: minutes on a 50,000-file monorepo).
fn app_folder(path: &str, project: &ProjectContext<'_>) -> String {
    let env: &EnvSpec = &project.catalog.env;
    let mut dir = path;
    while let Some((parent, _)) = dir.rsplit_once('/') {
        dir = parent;
        let has_marker = env.app_markers.iter().any(|m| {
            let marker = format!("{dir}/{m}");
            project
                .paths
                .binary_search_by(|p| p.as_str().cmp(&marker))
                .is_ok()
        });
        if has_marker {
            return dir.to_string();
        }
    }
    String::new()
}

/// A wildcard origin in a Lambda manifest (API Gateway CORS), naming the
/// AI endpoints among the routes it covers.
fn manifest_finding(
    project: &ProjectContext<'_>,
    path: &str,
    line: u32,
    detail: &str,
    routes: &[String],
) -> Finding {
    let ai: Vec<&String> = routes
        .iter()
        .filter(|r| {
            project.inventory.ai_endpoints().any(|e| {
                e.framework == crate::inventory::Framework::Lambda
                    && format!("{} {}", e.method, e.path) == **r
            })
        })
        .collect();
    let exposed = if ai.is_empty() {
        format!(" It covers {}, which reach no AI call.", routes.join(", "))
    } else {
        let named: Vec<&str> = ai.iter().map(|r| r.as_str()).collect();
        format!(
            " Its AI endpoints ({}) can be called from any website, spending your AI budget.",
            named.join(", ")
        )
    };
    Finding {
        check: CheckId::Cors,
        rule: Verdict::Wildcard.rule().into(),
        severity: if ai.is_empty() {
            Severity::Warning
        } else {
            Severity::Error
        },
        path: path.to_string(),
        span: Some(Span {
            line,
            column: 1,
            end_line: line,
            end_column: 1,
        }),
        message: format!("API Gateway CORS {}.{exposed}", Verdict::Wildcard.what()),
        evidence: Some(Redacted::public(detail)),
        fix: Some(project.catalog.cors.fix.lambda.trim().to_string()),
    }
}

fn finding(hit: &Hit, project: &ProjectContext<'_>, exposure: &Exposure) -> Finding {
    let path = project.facts.file(hit.file).path.clone();
    let app = app_folder(&path, project);
    let credentials = if hit.credentials {
        " With credentials allowed, any site can also make the calls as the logged-in user."
    } else {
        ""
    };
    let note = hit
        .note
        .as_ref()
        .map(|n| format!(" It is {n}."))
        .unwrap_or_default();
    let list = |items: Vec<String>| {
        let shown: Vec<&str> = items.iter().take(3).map(String::as_str).collect();
        let more = match items.len() {
            n if n > 3 => format!(" and {} more", n - 3),
            _ => String::new(),
        };
        format!("{}{more}", shown.join(", "))
    };
    let endpoints = exposure.endpoints.get(&app).cloned().unwrap_or_default();
    let mut severity = Severity::Error;
    let exposed = if !hit.scope.is_empty() {
        let scope = hit.scope.join(", ");
        let under: Vec<String> = endpoints
            .iter()
            .filter(|(_, p)| hit.scope.iter().any(|s| is_under(p, s)))
            .map(|(m, p)| format!("{m} {p}"))
            .collect();
        if under.is_empty() {
            severity = Severity::Warning;
            format!(
                " It covers only {scope}, which serves no AI endpoint: what any website can read is what is under {scope}."
            )
        } else {
            format!(
                " It covers {scope}, including AI endpoints ({}) that any website can call, spending your AI budget.",
                list(under)
            )
        }
    } else if !endpoints.is_empty() {
        let named = endpoints.iter().map(|(m, p)| format!("{m} {p}")).collect();
        format!(
            " Its AI endpoints ({}) can be called from any website, spending your AI budget.",
            list(named)
        )
    } else if let Some(calls) = exposure.calls.get(&app) {
        format!(
            " No route of this app was seen reaching an AI call, but its code calls AI ({}): any route that reaches it can be called from any website.",
            list(calls.clone())
        )
    } else {
        " No AI calls were found in this backend, so its AI endpoints are not affected.".to_string()
    };
    Finding {
        check: CheckId::Cors,
        rule: hit.verdict.rule().into(),
        severity,
        path,
        span: Some(Span {
            line: hit.line,
            column: hit.column,
            end_line: hit.line,
            end_column: hit.column,
        }),
        message: format!(
            "{} {}.{note}{credentials}{exposed}",
            hit.framework.name(),
            hit.verdict.what()
        ),
        evidence: Some(Redacted::public(&hit.detail)),
        fix: Some(hit.framework.fix(project.catalog).trim().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_lists() {
        for yes in [
            "[\"*\"]",
            "['*']",
            "(\"*\",)",
            "\"*\"",
            "{'*'}",
            "[ \"*\" ]",
        ] {
            assert!(is_wildcard_list(yes), "{yes}");
        }
        for no in [
            "[\"https://app.example.com\"]",
            "origins",
            "[\"*.example.com\"]",
            "\"http://localhost:3000\"",
        ] {
            assert!(!is_wildcard_list(no), "{no}");
        }
    }

    #[test]
    fn callbacks() {
        let words: Vec<String> = ["includes(", "allowed"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(always_allows("(origin, cb) => cb(null, true)", &words));
        assert!(!always_allows(
            "(origin, cb) => cb(null, allowed.includes(origin))",
            &words
        ));
        assert!(!always_allows("(o, cb) => cb(new Error('no'))", &words));
    }

    #[test]
    fn header_hits() {
        let text = br#"res.setHeader("Access-Control-Allow-Origin", "*");
headers: { 'Access-Control-Allow-Origin': '*' }
{ key: "Access-Control-Allow-Origin", value: "*" }
"Access-Control-Allow-Origin": "https://app.example.com"
response.headers["Access-Control-Allow-Origin"] = "*"
res.setHeader("Access-Control-Allow-Origin", req.headers.origin);
"#;
        let hits = collect_header_hits(text);
        let kinds: Vec<bool> = hits.iter().map(|h| h.2).collect();
        assert_eq!(kinds, vec![false, false, false, false, true]);
    }
}
