//! keys-in-client: no AI key and no AI SDK call may reach browser code.
//!
//! Four rules:
//! - `public-env-secret` (file and project pass): an env name with a public
//!   prefix (`NEXT_PUBLIC_`, `VITE_`, …) that names a secret, wherever it is
//!   used (`process.env.X`, `import.meta.env.X`) or defined (`.env*` files,
//!   ignored ones included; `next.config.*`, `vercel.json`, CI workflows,
//!   Dockerfiles). The allowlist of values built to be public is data.
//! - `ai-sdk-in-client` (project pass): an AI SDK imported in code that runs
//!   in the browser: `"use client"` files and what they import (project
//!   imports followed), Next.js `pages/` outside `pages/api`, component
//!   folders outside Next.js, `src/` of browser-only packages (Vite, CRA),
//!   and `.vue`/`.svelte` components. Route handlers, `pages/api`,
//!   `"use server"` files, `server-only` importers and middleware are server.
//! - `dangerously-allow-browser` (file pass): the SDK flag, anywhere.
//! - `bundle-inlines-secret` (file pass): `env:` in `next.config.*`,
//!   `define` in `vite.config.*`, webpack `DefinePlugin` with a secret name.

use std::collections::{BTreeMap, VecDeque};

use memchr::memmem::Finder;
use regex::bytes::Regex;
use std::sync::LazyLock;

use super::{Check, CheckId, Coverage};
use crate::catalog::{Catalog, PublicEnvSpec};
use crate::context::{FileContext, ProjectContext};
use crate::facts::ProjectFacts;
use crate::findings::{Finding, Redacted, Severity, Span};
use crate::source::Source;

static DANGEROUS: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new("dangerouslyAllowBrowser"));
static SVELTEKIT_PUBLIC: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new("$env/static/public"));

pub struct KeysInClient;

impl Check for KeysInClient {
    fn id(&self) -> CheckId {
        CheckId::KeysInClient
    }

    /// It drops the file pass's `public-env-secret` findings that a
    /// public configuration name explains.
    fn edits_findings(&self) -> bool {
        true
    }

    fn check_file(&self, file: &FileContext<'_>, out: &mut Vec<Finding>) {
        let name = file.file_name();
        let bytes = file.source.bytes();
        // Test code (`tests/`, `*.test.ts`, mock outputs under a test
        // folder) is never bundled: its reads reach no browser.
        let is_source = (file.lang.is_some_and(|l| !l.is_python())
            || name.ends_with(".vue")
            || name.ends_with(".svelte"))
            && !file.catalog.is_test_path(file.path);
        let is_env = crate::catalog::EnvSpec::is_env_file(name);
        // .env files are judged in the project pass (ignored ones included).
        if !is_env && (is_source || is_definition_file(file.path)) {
            collect_public_env(file.catalog, file.path, file.source, is_source, out);
        }
        if is_source && DANGEROUS.find(bytes).is_some() {
            collect_dangerous(file, out);
        }
        if is_bundler_config(name) {
            collect_inlined(file, out);
        }
        if name.ends_with(".vue") || name.ends_with(".svelte") {
            collect_component_imports(file, out);
        }
        if (is_source || name.ends_with(".svelte")) && SVELTEKIT_PUBLIC.find(bytes).is_some() {
            collect_sveltekit_public(file, out);
        }
        if name.starts_with("nuxt.config.") {
            collect_nuxt_public_config(file, out);
        }
    }

    fn check_project(&self, project: &ProjectContext<'_>, out: &mut Vec<Finding>) -> Coverage {
        for (path, text) in project.env_files {
            let source = Source::new(text.as_bytes().to_vec());
            collect_public_env(project.catalog, path, &source, false, out);
        }
        drop_public_config_names(out);
        let client = collect_client_files(project);
        for (&index, reason) in &client {
            let file = project.facts.file(index);
            for import in file.imports.iter().filter(|i| !i.type_only) {
                let Some(sdk) = project.catalog.sdk_for_import(&import.module, false) else {
                    continue;
                };
                if !project
                    .catalog
                    .import_can_call_provider(&import.module, import.name.as_deref())
                {
                    continue;
                }
                out.push(Finding {
                    check: CheckId::KeysInClient,
                    rule: "ai-sdk-in-client".into(),
                    severity: Severity::Error,
                    path: file.path.clone(),
                    span: Some(Span { line: import.line, column: 1, end_line: import.line, end_column: 1 }),
                    message: format!(
                        "{} (`{}`) is imported in browser code ({reason}): its calls need the API key in the bundle",
                        sdk_name(&sdk.provider), import.module
                    ),
                    evidence: Some(Redacted::public(&import.module)),
                    fix: Some(project.catalog.public_env.fix.sdk_in_client.trim().to_string()),
                });
            }
        }
        let has_js = project
            .facts
            .files()
            .iter()
            .any(|f| f.lang.is_some_and(|l| !l.is_python()));
        if has_js || !project.packages.is_empty() || !project.env_files.is_empty() {
            Coverage::Checked
        } else {
            Coverage::NotApplicable("no JavaScript/TypeScript, package.json or .env files".into())
        }
    }
}

/// Names read into a public web config are public under any name: their
/// reads and definitions everywhere are not findings.
fn drop_public_config_names(out: &mut Vec<Finding>) {
    let public: std::collections::BTreeSet<String> = out
        .iter()
        .filter(|f| f.rule == PUBLIC_CONFIG)
        .filter_map(|f| f.evidence.as_ref().map(|e| e.as_str().to_string()))
        .collect();
    out.retain(|f| {
        f.rule != PUBLIC_CONFIG
            && !(f.rule == "public-env-secret"
                && f.evidence
                    .as_ref()
                    .is_some_and(|e| public.contains(e.as_str())))
    });
}

fn is_definition_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("next.config.")
        || name == "vercel.json"
        || name.starts_with("Dockerfile")
        || name.starts_with("docker-compose")
        || (path.contains(".github/workflows/")
            && (name.ends_with(".yml") || name.ends_with(".yaml")))
        || path.ends_with(".gitlab-ci.yml")
}

fn is_bundler_config(name: &str) -> bool {
    name.starts_with("next.config.")
        || name.starts_with("vite.config.")
        || name.starts_with("webpack.config.")
}

/// In config and env files any mention is a definition; in source code only
/// reads count (`process.env.X`, `import.meta.env.X`, `env("X")`), not a
/// comment or a string that merely names the variable.
/// (Compiled once: this runs for every file.)
fn env_name_regex(reads_only: bool) -> &'static Regex {
    const NAME: &str = r"(?:NEXT_PUBLIC_|NUXT_PUBLIC_|EXPO_PUBLIC_|REACT_APP_|STORYBOOK_|GATSBY_|VITE_|PUBLIC_)[A-Z0-9_]+\b";
    static READS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(&format!(r#"\benv(?:\.|\[\s*["'`]|\(\s*["'`])({NAME})"#)).expect("static regex")
    });
    static MENTIONS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(&format!(r"\b({NAME})")).expect("static regex"));
    match reads_only {
        true => &READS,
        false => &MENTIONS,
    }
}

/// Byte ranges of public-prefixed names: every mention in config files;
/// in source, reads (`env.X`, `env["X"]`) and destructuring
/// (`const { VITE_X } = import.meta.env`).
fn collect_name_spans(bytes: &[u8], reads_only: bool) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = env_name_regex(reads_only)
        .captures_iter(bytes)
        .filter_map(|c| c.get(1))
        .map(|m| (m.start(), m.end()))
        .collect();
    if reads_only {
        static DESTRUCTURE: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"\{([^{}]*)\}\s*=\s*(?:process\.env|import\.meta\.env)\b")
                .expect("static regex")
        });
        let destructure = &*DESTRUCTURE;
        let names = env_name_regex(false);
        for c in destructure.captures_iter(bytes) {
            let block = c.get(1).expect("group 1");
            for n in names
                .captures_iter(block.as_bytes())
                .filter_map(|n| n.get(1))
            {
                spans.push((block.start() + n.start(), block.start() + n.end()));
            }
        }
        spans.sort();
    }
    spans
}

/// Internal rule: a public-prefixed name read inside a public config (the
/// Firebase web config passed to `initializeApp`). The file pass records it,
/// the project pass drops every `public-env-secret` of that name and then
/// these records: never reported.
const PUBLIC_CONFIG: &str = "public-env-config";

/// How much a place says about the value behind a name: it decides whether
/// the fix tells the user to rotate a key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ValueSeen {
    /// A template or placeholder value: there was no key.
    Placeholder,
    /// A read, or a definition from elsewhere (`${{ secrets.X }}`).
    Hidden,
    /// A real-looking value, written here.
    Real,
}

/// Every public-prefixed env name in `source` that names a secret.
fn collect_public_env(
    catalog: &Catalog,
    path: &str,
    source: &Source,
    reads_only: bool,
    out: &mut Vec<Finding>,
) {
    let spec = &catalog.public_env;
    let bytes = source.bytes();
    if !spec.mentions_prefix(bytes) {
        return;
    }
    let config = if reads_only {
        collect_public_config_regions(bytes, &spec.public_config_calls)
    } else {
        Vec::new()
    };
    for (start, end) in collect_name_spans(bytes, reads_only) {
        let name = String::from_utf8_lossy(&bytes[start..end]).into_owned();
        let Some((prefix, bare)) = spec.prefix_of(&name) else {
            continue;
        };
        if !spec.names_secret(bare) {
            continue;
        }
        if config.iter().any(|(a, b)| *a <= start && end <= *b) {
            out.push(Finding {
                check: CheckId::KeysInClient,
                rule: PUBLIC_CONFIG.into(),
                severity: Severity::Warning,
                path: path.to_string(),
                span: Some(source.span(start, end)),
                message: format!("{name} is read into a public web config"),
                evidence: Some(Redacted::public(&name)),
                fix: None,
            });
            continue;
        }
        // Env files and build/CI/deploy config define the name; source reads it.
        let seen = if reads_only {
            ValueSeen::Hidden
        } else {
            match find_visible_value(bytes, end) {
                Some(v) if spec.is_public_value(&v) => continue,
                Some(v) if catalog.keys.is_placeholder(v.as_bytes()) => ValueSeen::Placeholder,
                Some(_) => ValueSeen::Real,
                None => ValueSeen::Hidden,
            }
        };
        let line = source.line_of(start);
        if out.iter().any(|f| {
            f.path == path
                && f.rule == "public-env-secret"
                && f.span.is_some_and(|s| s.line == line)
        }) {
            continue;
        }
        let role = if reads_only { "used" } else { "defined" };
        out.push(Finding {
            check: CheckId::KeysInClient,
            rule: "public-env-secret".into(),
            severity: Severity::Error,
            path: path.to_string(),
            span: Some(source.span(start, end)),
            message: format!(
                "{name} is {role} here: {prefix} variables are copied into the browser bundle, and this one names a secret"
            ),
            evidence: Some(Redacted::public(&name)),
            fix: Some(public_env_fix(spec, bare, seen)),
        });
    }
}

fn public_env_fix(spec: &PublicEnvSpec, bare: &str, seen: ValueSeen) -> String {
    let base = spec.fix.public_env.trim().replace("{bare}", bare);
    match seen {
        ValueSeen::Placeholder => base,
        ValueSeen::Hidden => format!("{base} {}", spec.fix.public_env_rotate_if.trim()),
        ValueSeen::Real => format!("{base} {}", spec.fix.public_env_rotate.trim()),
    }
}

/// The value written right after a name in a definition (`NAME=value`,
/// `NAME: value`, `"NAME": "value"`), if one is visible: `None` for a bare
/// `ARG NAME`, a YAML mapping, or a value taken from elsewhere (`$X`,
/// `${{ secrets.X }}`, `process.env.X`).
fn find_visible_value(bytes: &[u8], name_end: usize) -> Option<String> {
    let line_end = memchr::memchr(b'\n', &bytes[name_end..]).map_or(bytes.len(), |i| name_end + i);
    let rest = String::from_utf8_lossy(&bytes[name_end..line_end]);
    let rest = rest.trim_end_matches('\r').trim_start_matches(['"', '\'']);
    let (sep, value) = match rest.trim_start().chars().next()? {
        '=' => ('=', &rest.trim_start()[1..]),
        ':' => (':', &rest.trim_start()[1..]),
        _ => return None,
    };
    let value = value.trim();
    let literal = match value.chars().next() {
        None if sep == '=' => return Some(String::new()),
        None => return None,
        Some(q @ ('"' | '\'' | '`')) => {
            let body = &value[1..];
            body[..body.find(q)?].to_string()
        }
        Some(_) => value
            .split(" #")
            .next()
            .unwrap_or(value)
            .trim_end_matches(',')
            .trim()
            .to_string(),
    };
    let borrowed = ["$", "process.env", "import.meta", "(", "{", "["];
    (!borrowed.iter().any(|b| literal.contains(b))).then_some(literal)
}

/// Byte ranges of the configs passed to a public-config call: the object
/// literal argument of `initializeApp({…})`, or the object a name passed to
/// it was built from (`const firebaseConfig = {…}; initializeApp(firebaseConfig)`).
fn collect_public_config_regions(bytes: &[u8], calls: &[String]) -> Vec<(usize, usize)> {
    let mut regions = Vec::new();
    for call in calls {
        let finder = Finder::new(call.as_bytes());
        for at in finder.find_iter(bytes) {
            let mut i = at + call.len();
            while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
                i += 1;
            }
            if bytes.get(i) != Some(&b'(') {
                continue;
            }
            i += 1;
            while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
                i += 1;
            }
            if bytes.get(i) == Some(&b'{') {
                regions.push((i, matching_brace(bytes, i)));
                continue;
            }
            let ident_end = bytes[i..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$'))
                .map_or(bytes.len(), |n| i + n);
            let ident = String::from_utf8_lossy(&bytes[i..ident_end]);
            if ident.is_empty() {
                continue;
            }
            let Ok(define) = Regex::new(&format!(
                r"\b{}\s*(?::[^=;\n]+)?=\s*\{{",
                regex::escape(&ident)
            )) else {
                continue;
            };
            for m in define.find_iter(bytes) {
                regions.push((m.end() - 1, matching_brace(bytes, m.end() - 1)));
            }
        }
    }
    regions
}

fn collect_dangerous(file: &FileContext<'_>, out: &mut Vec<Finding>) {
    let flag = Regex::new(r"dangerouslyAllowBrowser\s*:\s*true").expect("static regex");
    for m in flag.find_iter(file.source.bytes()) {
        out.push(Finding {
            check: CheckId::KeysInClient,
            rule: "dangerously-allow-browser".into(),
            severity: Severity::Error,
            path: file.path.to_string(),
            span: Some(file.source.span(m.start(), m.end())),
            message: "dangerouslyAllowBrowser: true switches off the SDK's refusal to run in a browser, \
                      so the API key ships to every visitor, who can copy it and spend on your account"
                .into(),
            evidence: Some(Redacted::public("dangerouslyAllowBrowser: true")),
            fix: Some(file.catalog.public_env.fix.dangerously_allow_browser.trim().to_string()),
        });
    }
}

/// Secret names inside `env: {…}` (next.config), `define: {…}` (vite) or
/// `DefinePlugin({…})` (webpack).
fn collect_inlined(file: &FileContext<'_>, out: &mut Vec<Finding>) {
    static BLOCK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?:\benv|\bdefine)\s*:\s*\{|DefinePlugin\(\s*\{").expect("static regex")
    });
    static KEY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"["']?(?:process\.env\.|import\.meta\.env\.)?([A-Z][A-Z0-9_]{2,})["']?\s*:"#)
            .expect("static regex")
    });
    let (block, key) = (&*BLOCK, &*KEY);
    let bytes = file.source.bytes();
    let spec = &file.catalog.public_env;
    for open in block.find_iter(bytes) {
        let body_end = matching_brace(bytes, open.end() - 1);
        for caps in key.captures_iter(&bytes[open.end()..body_end]) {
            let m = caps.get(1).expect("group 1");
            let name = String::from_utf8_lossy(m.as_bytes()).into_owned();
            // Public-prefixed names are `public-env-secret` findings already.
            if spec.prefix_of(&name).is_some() || !spec.names_secret(&name) {
                continue;
            }
            let (start, end) = (open.end() + m.start(), open.end() + m.end());
            out.push(Finding {
                check: CheckId::KeysInClient,
                rule: "bundle-inlines-secret".into(),
                severity: Severity::Error,
                path: file.path.to_string(),
                span: Some(file.source.span(start, end)),
                message: format!("{name} is inlined into the browser bundle by this build config"),
                evidence: Some(Redacted::public(&name)),
                fix: Some(spec.fix.bundle_inlines.trim().replace("{name}", &name)),
            });
        }
    }
}

/// The offset of the `}` closing the `{` at `open` (or the end).
fn matching_brace(bytes: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    bytes.len()
}

/// Names imported from SvelteKit's `$env/static/public` that name a
/// secret: public under any name (the prefix is configurable with
/// `kit.env.publicPrefix`, and may be empty). `$env/dynamic/public` reads
/// (`env.PUBLIC_X`) are env reads, found by [`collect_public_env`].
fn collect_sveltekit_public(file: &FileContext<'_>, out: &mut Vec<Finding>) {
    let import =
        Regex::new(r#"import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*["']\$env/static/public["']"#)
            .expect("static regex");
    let spec = &file.catalog.public_env;
    let bytes = file.source.bytes();
    for caps in import.captures_iter(bytes) {
        let block = caps.get(1).expect("group 1");
        let mut at = block.start();
        for part in block.as_bytes().split(|b| *b == b',') {
            let start = at + part.iter().take_while(|b| b.is_ascii_whitespace()).count();
            at += part.len() + 1;
            let text = String::from_utf8_lossy(part);
            let name = text.split(" as ").next().unwrap_or("").trim();
            if name.is_empty() || name.starts_with("type ") {
                continue;
            }
            let bare = spec.prefix_of(name).map_or(name, |(_, b)| b);
            if !spec.names_secret(bare) {
                continue;
            }
            out.push(Finding {
                check: CheckId::KeysInClient,
                rule: "public-env-secret".into(),
                severity: Severity::Error,
                path: file.path.to_string(),
                span: Some(file.source.span(start, start + name.len())),
                message: format!(
                    "{name} is imported from $env/static/public: SvelteKit inlines those into the browser bundle, and this one names a secret"
                ),
                evidence: Some(Redacted::public(name)),
                fix: Some(format!(
                    "{} {}",
                    spec.fix.sveltekit_public.trim().replace("{name}", name),
                    spec.fix.public_env_rotate_if.trim()
                )),
            });
        }
    }
}

/// Keys of Nuxt's `runtimeConfig.public` (in `nuxt.config.*`) that name a
/// secret: Nuxt sends that object to the browser. Top-level
/// `runtimeConfig` keys are server-only and fine.
fn collect_nuxt_public_config(file: &FileContext<'_>, out: &mut Vec<Finding>) {
    let bytes = file.source.bytes();
    let spec = &file.catalog.public_env;
    let config = Regex::new(r"\bruntimeConfig\s*:\s*\{").expect("static regex");
    let public = Regex::new(r#"^["']?public["']?\s*:\s*\{"#).expect("static regex");
    let key = Regex::new(r#"^["']?([A-Za-z_$][\w$]*)["']?\s*:"#).expect("static regex");
    for open in config.find_iter(bytes) {
        let end = matching_brace(bytes, open.end() - 1);
        for (start, entry_end) in top_level_entries(bytes, open.end(), end) {
            let Some(m) = public.find(&bytes[start..entry_end]) else {
                continue;
            };
            let inner_open = start + m.end() - 1;
            let inner_end = matching_brace(bytes, inner_open);
            for (k_start, k_end) in top_level_entries(bytes, inner_open + 1, inner_end) {
                let Some(c) = key.captures(&bytes[k_start..k_end]) else {
                    continue;
                };
                let k = c.get(1).expect("group 1");
                let name = String::from_utf8_lossy(k.as_bytes()).into_owned();
                let upper = screaming_snake(&name);
                if !spec.names_secret(&upper) {
                    continue;
                }
                let at = k_start + k.start();
                out.push(Finding {
                    check: CheckId::KeysInClient,
                    rule: "public-env-secret".into(),
                    severity: Severity::Error,
                    path: file.path.to_string(),
                    span: Some(file.source.span(at, at + name.len())),
                    message: format!(
                        "runtimeConfig.public.{name} is sent to every visitor by Nuxt, and it names a secret"
                    ),
                    evidence: Some(Redacted::public(&format!("runtimeConfig.public.{name}"))),
                    fix: Some(format!(
                        "{} {}",
                        spec.fix
                            .nuxt_public_config
                            .trim()
                            .replace("{key}", &name)
                            .replace("{env}", &format!("NUXT_{upper}")),
                        spec.fix.public_env_rotate_if.trim()
                    )),
                });
            }
        }
    }
}

/// The byte ranges of the comma-separated entries of an object body
/// between `start` and `end` (the closing brace), at its top level; line
/// comments skipped.
fn top_level_entries(bytes: &[u8], start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut entry = start;
    let mut i = start;
    let mut quote: Option<u8> = None;
    while i < end.min(bytes.len()) {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' | b'`' => quote = Some(b),
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < end && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'{' | b'[' | b'(' => depth += 1,
                b'}' | b']' | b')' => depth -= 1,
                b',' if depth == 0 => {
                    out.push(entry_start(bytes, entry, i));
                    entry = i + 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    out.push(entry_start(bytes, entry, end.min(bytes.len())));
    out.retain(|(a, b)| a < b);
    out
}

/// An entry's range without its leading whitespace and comment lines.
fn entry_start(bytes: &[u8], mut start: usize, end: usize) -> (usize, usize) {
    loop {
        while start < end && bytes[start].is_ascii_whitespace() {
            start += 1;
        }
        if bytes[start..end].starts_with(b"//") {
            while start < end && bytes[start] != b'\n' {
                start += 1;
            }
        } else {
            return (start, end);
        }
    }
}

/// `openaiApiKey` → `OPENAI_API_KEY` (Nuxt's env override spelling).
fn screaming_snake(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// `.vue` / `.svelte` components run in the browser; they are not parsed,
/// so their imports are read from the text.
fn collect_component_imports(file: &FileContext<'_>, out: &mut Vec<Finding>) {
    let import =
        Regex::new(r#"(?m)^\s*import\s([^;\n]*?)from\s+["']([^"']+)["']"#).expect("static regex");
    let server = file.file_name().contains(".server.");
    for caps in import.captures_iter(file.source.bytes()) {
        let m = caps.get(2).expect("group 2");
        let module = String::from_utf8_lossy(m.as_bytes());
        let Some(sdk) = file.catalog.sdk_for_import(&module, false) else {
            continue;
        };
        let clause = String::from_utf8_lossy(caps.get(1).map_or(&b""[..], |c| c.as_bytes()));
        if server || !component_import_can_call(file.catalog, &module, &clause) {
            continue;
        }
        out.push(Finding {
            check: CheckId::KeysInClient,
            rule: "ai-sdk-in-client".into(),
            severity: Severity::Error,
            path: file.path.to_string(),
            span: Some(file.source.span(m.start(), m.end())),
            message: format!(
                "{} (`{module}`) is imported in a browser component: its calls need the API key in the bundle",
                sdk_name(&sdk.provider)
            ),
            evidence: Some(Redacted::public(&module)),
            fix: Some(file.catalog.public_env.fix.sdk_in_client.trim().to_string()),
        });
    }
}

/// Can the import clause of a component (`{ generateId, type UIMessage }`,
/// `* as ai`, `OpenAI`) call a provider? Type-only imports never can.
fn component_import_can_call(catalog: &Catalog, module: &str, clause: &str) -> bool {
    let clause = clause.trim();
    if clause.starts_with("type ") {
        return false;
    }
    let Some((before, rest)) = clause.split_once('{') else {
        return catalog.import_can_call_provider(module, None);
    };
    let before = before.trim().trim_end_matches(',').trim();
    if !before.is_empty() && catalog.import_can_call_provider(module, None) {
        return true;
    }
    rest.split('}')
        .next()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.starts_with("type "))
        .any(|n| {
            let name = n.split(" as ").next().unwrap_or(n).trim();
            catalog.import_can_call_provider(module, Some(name))
        })
}

/// Parsed JS/TS files that run in the browser, with the reason why.
fn collect_client_files(project: &ProjectContext<'_>) -> BTreeMap<usize, String> {
    let facts: &ProjectFacts = project.facts;
    let spec = &project.catalog.public_env;
    let mut client: BTreeMap<usize, String> = BTreeMap::new();
    let mut queue = VecDeque::new();
    for (i, f) in facts.files().iter().enumerate() {
        if f.lang.is_none_or(|l| l.is_python()) || is_server_file(facts, i) {
            continue;
        }
        let reason = if f.has_directive("use client") {
            Some("a \"use client\" file".to_string())
        } else if is_pages_file(&f.path) && is_next_package(&f.path, project) {
            Some("a Next.js page".to_string())
        } else {
            browser_package_reason(&f.path, project, spec)
        };
        if let Some(reason) = reason {
            client.insert(i, reason);
            queue.push_back(i);
        }
    }
    // Whatever a client file imports from the project ships with it.
    while let Some(i) = queue.pop_front() {
        let from = facts.file(i).path.clone();
        for import in facts.file(i).imports.iter().filter(|i| !i.type_only) {
            let Some(target) = facts.resolve_import(i, import) else {
                continue;
            };
            if is_type_name(facts.file(target), import.name.as_deref()) {
                continue;
            }
            if client.contains_key(&target) || is_server_file(facts, target) {
                continue;
            }
            client.insert(
                target,
                format!("imported from {from}, which runs in the browser"),
            );
            queue.push_back(target);
        }
    }
    client
}

/// Does `name` look like a type of `file` (`import { LLMModelConfig }`
/// without `type`): capitalised, and no function, class or variable of
/// that name there? TypeScript erases such an import, so the file does not
/// ship with it.
fn is_type_name(file: &crate::facts::FileFacts, name: Option<&str>) -> bool {
    let Some(name) = name.filter(|n| *n != "default") else {
        return false;
    };
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && !file.functions.iter().any(|f| {
            f.name == name
                || f.name
                    .strip_prefix(name)
                    .is_some_and(|r| r.starts_with('.'))
        })
        && !file.assignments.iter().any(|a| a.target == name)
}

fn is_server_file(facts: &ProjectFacts, index: usize) -> bool {
    let f = facts.file(index);
    let name = f.path.rsplit('/').next().unwrap_or(&f.path);
    let stem = name.split('.').next().unwrap_or(name);
    f.has_directive("use server")
        || f.imports.iter().any(|i| i.module == "server-only")
        || f.path.contains("pages/api/")
        || (stem == "route" && (f.path.starts_with("app/") || f.path.contains("/app/")))
        || stem == "middleware"
        || stem == "proxy" && !f.path.contains('/')
        || name.contains(".server.")
}

/// The package holding `path` depends on Next.js (or none is known).
fn is_next_package(path: &str, project: &ProjectContext<'_>) -> bool {
    let owner = project
        .packages
        .iter()
        .filter(|(dir, _)| dir.is_empty() || path.starts_with(&format!("{dir}/")))
        .max_by_key(|(dir, _)| dir.len());
    owner.is_none_or(|(_, deps)| deps.iter().any(|d| d == "next"))
}

/// "The OpenAI SDK", but "The Vercel AI SDK", not "… SDK SDK".
fn sdk_name(provider: &str) -> String {
    if provider.ends_with("SDK") {
        format!("The {provider}")
    } else {
        format!("The {provider} SDK")
    }
}

fn is_pages_file(path: &str) -> bool {
    let in_pages =
        path.starts_with("pages/") || path.contains("/pages/") || path.starts_with("src/pages/");
    let name = path.rsplit('/').next().unwrap_or(path);
    in_pages && !path.contains("pages/api/") && !name.starts_with("_document")
}

/// `src/` of a browser-only package, or a component folder outside Next.js.
fn browser_package_reason(
    path: &str,
    project: &ProjectContext<'_>,
    spec: &PublicEnvSpec,
) -> Option<String> {
    let (pkg, deps) = project
        .packages
        .iter()
        .filter(|(dir, _)| dir.is_empty() || path.starts_with(&format!("{dir}/")))
        .max_by_key(|(dir, _)| dir.len())?;
    let has = |list: &[String]| deps.iter().any(|d| list.contains(d));
    let rel = if pkg.is_empty() {
        path
    } else {
        &path[pkg.len() + 1..]
    };
    if has(&spec.browser_frameworks) && !has(&spec.server_frameworks) && rel.starts_with("src/") {
        let at = if pkg.is_empty() {
            "the root package"
        } else {
            pkg.as_str()
        };
        return Some(format!(
            "the src/ of {at}, a browser app with no server framework"
        ));
    }
    let next = deps.iter().any(|d| d == "next");
    if !next && has(&spec.browser_frameworks) && rel.split('/').any(|part| part == "components") {
        return Some("a UI component".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nuxt_config_keys() {
        assert_eq!(screaming_snake("openaiApiKey"), "OPENAI_API_KEY");
        assert_eq!(screaming_snake("apiBase"), "API_BASE");
        let text = b"{ a: 1, // note\n public: { k: [1, 2], s: \"x,y\" }, b }";
        let entries: Vec<String> = top_level_entries(text, 1, text.len() - 1)
            .into_iter()
            .map(|(a, b)| String::from_utf8_lossy(&text[a..b]).trim().to_string())
            .collect();
        assert_eq!(
            entries,
            vec!["a: 1", "public: { k: [1, 2], s: \"x,y\" }", "b"]
        );
    }
}
