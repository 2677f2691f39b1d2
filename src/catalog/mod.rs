//! What aiguard knows, as data: `rules/*.toml`, embedded at build time and
//! loaded through the same functions as users' own rule files.
//!
//! `spec` structs mirror the TOML (serde, `deny_unknown_fields`); loading
//! compiles them (regexes, Aho-Corasick prefilters) once. Any error names the
//! file and line; built-in files are checked by tests so they cannot break.

pub mod fixes;
pub mod keys;
pub mod loops;
mod modules;

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

use crate::findings::CheckId;
use crate::graph::Roles;
pub use keys::KeyRules;
pub use loops::LoopsSpec;

pub const CHECKS_TOML: &str = include_str!("../../rules/checks.toml");
pub const KEYS_TOML: &str = include_str!("../../rules/keys.toml");
pub const FACTS_TOML: &str = include_str!("../../rules/facts.toml");
pub const SDKS_TOML: &str = include_str!("../../rules/sdks.toml");
pub const CORS_TOML: &str = include_str!("../../rules/cors.toml");
pub const PUBLIC_ENV_TOML: &str = include_str!("../../rules/public_env.toml");
pub const PROTECTIONS_TOML: &str = include_str!("../../rules/protections.toml");

#[derive(Debug, Error)]
#[error("{file}:{line}: {message}")]
pub struct CatalogError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl CatalogError {
    pub fn new(file: &str, line: usize, message: impl Into<String>) -> CatalogError {
        CatalogError {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }
}

/// Parse TOML into `T`, turning serde's byte span into a line number.
pub fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &str,
    text: &str,
) -> Result<T, CatalogError> {
    toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_at(text, s.start)).unwrap_or(1);
        CatalogError::new(file, line, e.message().trim().to_string())
    })
}

/// 1-based line of byte `offset`.
pub fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// 1-based line where `needle` first occurs after a line starting with `anchor`
/// (to point errors in an array of tables at the right entry).
pub fn line_of_entry(text: &str, needle: &str) -> usize {
    text.find(needle).map(|o| line_at(text, o)).unwrap_or(1)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecksFile {
    check: Vec<CheckSpec>,
    env: EnvSpec,
    standards: Standards,
    #[serde(default)]
    rule: Vec<RuleSpec>,
    #[serde(default)]
    meta_rule: Vec<MetaRuleSpec>,
}

/// A rule about aiguard's own suppression comments: reported under the
/// check the comment names, so it belongs to no single check.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaRuleSpec {
    pub id: String,
    pub title: String,
    pub why: String,
    pub fix: String,
    pub bad: String,
    pub good: String,
}

/// A rule that is not a key format: id, check and a one-line title.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub check: String,
    pub title: String,
    /// The files it looks at, when narrower than its check's.
    pub files: Option<String>,
    /// Its own example for `aiguard explain`, when the check's does not show it.
    pub bad: Option<String>,
    pub good: Option<String>,
}

/// Any rule, key format or not, as listed by `aiguard rules` and SARIF.
#[derive(Clone, Debug)]
pub struct RuleInfo {
    pub id: String,
    pub check: CheckId,
    pub title: String,
    /// For key rules: where to revoke a key.
    pub revoke_url: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub id: String,
    pub title: String,
    pub severity: String,
    /// The CWE entries a failing check stands for (`CWE-798`).
    pub cwe: Vec<String>,
    /// The OWASP Top 10 for LLM Applications entries (`LLM10`).
    pub owasp: Vec<String>,
    /// GitHub code scanning's 0–10 score for the check's rules (SARIF).
    pub security_severity: String,
    /// The languages and file kinds it reads (`aiguard rules`).
    pub files: String,
    pub why: String,
    /// Code that fails the check, and the same code fixed (`aiguard explain`).
    pub bad: String,
    pub good: String,
    pub fix: String,
}

/// The names of the CWE and OWASP LLM Top 10 entries the checks cite.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standards {
    pub cwe: std::collections::BTreeMap<String, String>,
    pub owasp: std::collections::BTreeMap<String, String>,
}

/// What `env-gitignore` knows about `.env` files.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvSpec {
    pub variants: Vec<String>,
    pub examples: Vec<String>,
    /// A `.`-separated word of a file name that makes it a template
    /// (`.example.env`, `example.env`, `.env.example.local`).
    #[serde(default)]
    pub example_words: Vec<String>,
    pub app_markers: Vec<String>,
    /// Folder names (`*` globs) of tooling, not apps: a lint rule package,
    /// a Terraform provider. App folders only when they read `.env` files.
    #[serde(default)]
    pub tooling_folders: Vec<String>,
    /// Dependencies and imported modules that read `.env` files.
    #[serde(default)]
    pub env_readers: Vec<String>,
}

impl EnvSpec {
    pub fn is_example(&self, name: &str) -> bool {
        self.examples.iter().any(|e| e == name)
            || name
                .split('.')
                .any(|part| self.example_words.iter().any(|w| w == part))
    }

    /// Is a folder of this name tooling (`eslint-plugin-acme`)?
    pub fn is_tooling_folder(&self, name: &str) -> bool {
        self.tooling_folders.iter().any(|g| glob_match(g, name))
    }

    /// `.env`, `.env.local`, `prod.env`… but not `.envrc` or `.environment`.
    pub fn is_env_file(name: &str) -> bool {
        name == ".env" || name.starts_with(".env.") || name.ends_with(".env")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FactsFile {
    parse: ParseSpec,
    configs: ConfigsSpec,
}

/// `[configs]`: configuration files kept whole for the framework modules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigsSpec {
    files: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParseSpec {
    paths: Vec<String>,
    always_paths: Vec<String>,
    test_folders: Vec<String>,
    test_file_prefixes: Vec<String>,
    test_file_suffixes: Vec<String>,
    roles: RolesSpec,
    #[serde(default)]
    together: Vec<TogetherSpec>,
}

/// Words that make a file worth parsing only next to another word.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TogetherSpec {
    words: Vec<String>,
    also: Vec<String>,
    /// A third list, one of whose words must be there too.
    #[serde(default)]
    and_also: Vec<String>,
    /// Only when a React effect of the file may re-run itself
    /// ([`crate::lex::effect_may_rerun`]).
    #[serde(default)]
    effect_reruns: bool,
    /// Only when one of `also` starts a value assigned at module level
    /// ([`crate::lex::module_level_value`]: `hits = defaultdict(list)`).
    #[serde(default)]
    module_level: bool,
}

/// A compiled `[[parse.together]]` group.
#[derive(Debug)]
struct Together {
    words: regex::bytes::Regex,
    also: regex::bytes::Regex,
    and_also: Option<regex::bytes::Regex>,
    effect_reruns: bool,
    /// `also`, as written, when it must start a module-level value.
    module_level: Option<Vec<String>>,
}

impl Together {
    fn is_match(&self, bytes: &[u8]) -> bool {
        self.words.is_match(bytes)
            && self.also.is_match(bytes)
            && self.and_also.as_ref().is_none_or(|r| r.is_match(bytes))
            && (!self.effect_reruns || crate::lex::effect_may_rerun(bytes))
            && self
                .module_level
                .as_ref()
                .is_none_or(|values| crate::lex::module_level_value(bytes, values))
    }
}

/// The literals of each role a file can play (`rules/facts.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesSpec {
    ai: Vec<String>,
    endpoint: Vec<String>,
    protection: Vec<String>,
    client: Vec<String>,
    browser: Vec<String>,
    always: Vec<String>,
    app: Vec<String>,
    loops: Vec<String>,
}

impl RolesSpec {
    fn all(&self) -> Vec<(&String, Roles)> {
        [
            (&self.ai, Roles::AI),
            (&self.endpoint, Roles::ENDPOINT),
            (&self.protection, Roles::PROTECTION),
            (&self.client, Roles::CLIENT),
            (&self.browser, Roles::CLIENT | Roles::BROWSER),
            (&self.always, Roles::ALWAYS),
            (&self.loops, Roles::LOOP),
            (&self.app, Roles::APP | Roles::ENDPOINT),
        ]
        .into_iter()
        .flat_map(|(v, r)| v.iter().map(move |s| (s, r)))
        .collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SdksFile {
    ui_only: Vec<String>,
    #[serde(default)]
    helper_modules: Vec<String>,
    #[serde(default)]
    client_provider_names: std::collections::BTreeMap<String, Vec<String>>,
    sdk: Vec<SdkSpec>,
    calls: CallsSpec,
}

/// AI call sites that are not methods of an SDK client (`rules/sdks.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallsSpec {
    pub functions: std::collections::BTreeMap<String, Vec<String>>,
    /// First words of a function name that say it makes something
    /// (`create_agent`, `getModel`): a builder hands its client to callers.
    #[serde(default)]
    pub builder_verbs: Vec<String>,
    pub factory_modules: Vec<String>,
    pub free_methods: Vec<String>,
    /// Paid calls that are not the main generation (`embeddings`).
    #[serde(default)]
    pub side_calls: Vec<String>,
    /// Calls that compose a model into a chain, agent or engine.
    #[serde(default)]
    pub composers: Vec<String>,
    /// Modules whose classes compose models (`LLMChain`, `AgentExecutor`).
    #[serde(default)]
    pub composer_modules: Vec<String>,
    /// Parameter types that hold a model: type → provider label.
    #[serde(default)]
    pub model_types: std::collections::BTreeMap<String, String>,
    pub model_builders: Vec<String>,
    pub api_paths: Vec<String>,
    /// Last segments of calls that send raw HTTP (`fetch`, `post`, `urlopen`).
    pub http_calls: Vec<String>,
    /// Paths on a provider host that cost nothing (`/models`).
    #[serde(default)]
    pub free_paths: Vec<String>,
    pub hosts: Vec<String>,
    /// Calls on a platform AI binding: last two callee segments → provider.
    #[serde(default)]
    pub binding_calls: std::collections::BTreeMap<String, String>,
    /// Model-name prefixes of a binding's `run(model, …)` → provider.
    #[serde(default)]
    pub model_prefixes: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProtectionsFile {
    rate_limit: RateLimitSpec,
    fix: RateLimitFixes,
    auth: AuthSpec,
    quota: QuotaSpec,
    auth_fix: AuthFixes,
    quota_fix: QuotaFixes,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthFixes {
    /// By framework fix key (`Framework::fix_key`).
    pub framework: BTreeMap<String, String>,
    pub unchecked: String,
    pub after: String,
    pub anonymous: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaFixes {
    pub client_chosen: String,
    pub unbounded: String,
}

/// Authentication helpers (`rules/protections.toml` `[auth]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    pub python_dependencies: Vec<String>,
    pub python_decorators: Vec<String>,
    pub session_calls: Vec<String>,
    pub self_checking_calls: Vec<String>,
    pub js_middleware: Vec<String>,
    pub next_middleware_modules: Vec<String>,
    pub anonymous_calls: Vec<String>,
    /// Calls that reject a request with a status in `reject_words`.
    pub reject_calls: Vec<String>,
    /// Endings of a project's error classes that reject too (`AppError`,
    /// `ChatSDKError("rate_limit:chat")`).
    #[serde(default)]
    pub reject_class_endings: Vec<String>,
    /// Names of a function's first parameter that make it an error handler
    /// (`handleAPIError(error)`): its 401/403/429 passes on the provider's.
    #[serde(default)]
    pub error_params: Vec<String>,
    pub reject_words: Vec<String>,
    /// Words of a guard's condition that read the signed-in user
    /// (`request.user.is_authenticated`, `req.user`).
    #[serde(default)]
    pub user_state: Vec<String>,
    /// Words (lower case) that make a middleware guard's condition about
    /// the user or session, so a 403 or a redirect under it is auth.
    #[serde(default)]
    pub user_condition_words: Vec<String>,
    /// Words in the condition of a script's module-level `if` that make it
    /// a login gate (Streamlit `st.user.is_logged_in`,
    /// `st.session_state["authentication_status"]`).
    #[serde(default)]
    pub script_gates: Vec<String>,
    /// Calls that offer a sign-in in a script (`st.login`,
    /// `authenticator.login`): a login without a gate checks nothing.
    #[serde(default)]
    pub script_logins: Vec<String>,
    /// Header reads that take a credential (`request.header(…)`,
    /// `headers.get(…)`), by the callee's ending; the callee also holds one
    /// of `credential_sources` (lower case: `header`).
    #[serde(default)]
    pub credential_reads: Vec<String>,
    #[serde(default)]
    pub credential_sources: Vec<String>,
    /// Words (lower case) of a header name that make it a credential, and
    /// words that do not (`x-csrf-token`).
    #[serde(default)]
    pub credential_words: Vec<String>,
    #[serde(default)]
    pub not_credential_words: Vec<String>,
    /// Statuses that also turn away a request whose credential header is
    /// missing (`400`), besides `reject_words`.
    #[serde(default)]
    pub missing_credential_words: Vec<String>,
}

impl AuthSpec {
    /// Is a call named `name` (its last segment) one that answers with a
    /// status: a listed call, or a class (capitalised) whose name ends with
    /// one of `reject_class_endings`?
    pub fn is_reject_call(&self, name: &str) -> bool {
        self.reject_calls.iter().any(|c| c == name)
            || (name.starts_with(|c: char| c.is_ascii_uppercase())
                && self
                    .reject_class_endings
                    .iter()
                    .any(|e| name.len() > e.len() && name.ends_with(e.as_str())))
    }
}

/// Per-user quota evidence (`rules/protections.toml` `[quota]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSpec {
    pub usage_words: Vec<String>,
    pub token_bounds: Vec<String>,
    pub request_words: Vec<String>,
    pub cap_words: Vec<String>,
    /// Words of a call's arguments that name the user it is about.
    #[serde(default)]
    pub user_words: Vec<String>,
    /// Last callee segments that write a store (DB, Redis).
    #[serde(default)]
    pub store_writes: Vec<String>,
    /// Verbs of a function name that check or spend a budget (`checkCredits`).
    #[serde(default)]
    pub check_verbs: Vec<String>,
    /// Callee heads that log or measure, never track a budget.
    #[serde(default)]
    pub not_tracking: Vec<String>,
}

impl CallsSpec {
    /// Is a paid call a side call (an embedding, a moderation): a segment
    /// of its callee (`client.embeddings.create`, `embedMany`) is listed?
    pub fn is_side_call(&self, callee: &str) -> bool {
        callee
            .split(['.', '('])
            .any(|segment| self.side_calls.iter().any(|s| s == segment))
    }
}

/// Fix texts of the rate-limit checks, per framework.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitFixes {
    /// By framework fix key (`Framework::fix_key`).
    pub framework: BTreeMap<String, String>,
    pub daily: String,
    pub store: String,
    pub own_limiter: String,
    pub own_limiter_decorator: String,
    pub own_limiter_slowapi: String,
    pub own_limiter_middleware: String,
    pub own_limiter_call: String,
    pub per_request: String,
    pub slowapi_wiring: String,
    pub slowapi_signature: String,
}

/// Rate limiters (`rules/protections.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    pub python_limiters: Vec<String>,
    pub python_dependencies: Vec<String>,
    pub js_middleware: Vec<String>,
    pub js_limit_calls: Vec<String>,
    /// Window constructors of the limit-call libraries (`slidingWindow`).
    #[serde(default)]
    pub window_calls: Vec<String>,
    /// The methods that check a limit-call library's limiter (`limit`,
    /// `consume`, `protect`), and its functions that check one by
    /// themselves (`checkRateLimit`).
    #[serde(default)]
    pub js_limit_methods: Vec<String>,
    #[serde(default)]
    pub js_limit_functions: Vec<String>,
    /// Limit-call libraries that limit only with a window rule (Arcjet:
    /// without `slidingWindow`/`fixedWindow`/`tokenBucket`, `protect()` is
    /// bot or attack protection).
    #[serde(default)]
    pub js_window_rules: Vec<String>,
    /// Words in a window rule's options that switch it off (it only
    /// logs), unless one of `live_words` is there too (a mode picked by
    /// environment).
    #[serde(default)]
    pub dry_run_words: Vec<String>,
    #[serde(default)]
    pub live_words: Vec<String>,
    /// Limit-call libraries whose numeric `duration` is in milliseconds.
    #[serde(default)]
    pub millisecond_durations: Vec<String>,
    /// The class of the Python limiter libraries (`Limiter`).
    #[serde(default)]
    pub python_limiter_class: String,
    /// Texts in a limiter's arguments that keep its counts in process
    /// memory (`memory://`) or name a store option (`storage_uri`).
    #[serde(default)]
    pub memory_words: Vec<String>,
    #[serde(default)]
    pub store_options: Vec<String>,
    pub shared_store_words: Vec<String>,
    #[serde(default)]
    pub hand_written: HandWrittenSpec,
    #[serde(default)]
    pub project: ProjectLimiterSpec,
}

/// What makes a project function a rate limiter in a store
/// (`[rate_limit.project]` of rules/protections.toml).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectLimiterSpec {
    /// Words in a rejecting call's arguments that make it a 429 (matched
    /// lower-case).
    pub reject_words: Vec<String>,
    /// Calls that count requests in a store (`incr`, `zadd`, `expire`).
    pub counter_calls: Vec<String>,
    /// Counter calls that set the window (`expire(key, 60)`).
    pub expire_calls: Vec<String>,
    /// Words (lower case) of a call's name that say it counts
    /// (`getMessageCountByUserId`, `count_requests`): a store query the
    /// slice may not have parsed.
    #[serde(default)]
    pub counter_name_words: Vec<String>,
}

/// What makes a module-level map/dict a hand-written rate limiter
/// (`[rate_limit.hand_written]` of rules/protections.toml).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandWrittenSpec {
    /// How a module-level in-memory map starts (`new Map(`, `{}`, `defaultdict(`).
    pub map_values: Vec<String>,
    /// Words of the key it is read or written with that name a client.
    pub client_key_words: Vec<String>,
    /// Calls that read the clock (the time window).
    pub clock_calls: Vec<String>,
    /// Words in a call's arguments that reject a request (`429`).
    pub reject_words: Vec<String>,
    /// Words of a function or map name that say it limits.
    pub limit_words: Vec<String>,
    /// Words of a map name that say it counts requests (with a clock read).
    pub counter_words: Vec<String>,
}

/// An AI provider SDK and the modules it is imported by.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdkSpec {
    pub provider: String,
    pub python: Vec<String>,
    pub js: Vec<String>,
}

/// What the cors check knows (`rules/cors.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsSpec {
    pub patterns: CorsPatterns,
    pub fix: CorsFixes,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsPatterns {
    pub wildcard_regexes: Vec<String>,
    pub allowlist_words: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsFixes {
    pub fastapi: String,
    pub flask: String,
    pub django: String,
    pub express: String,
    pub hono: String,
    pub fastify: String,
    pub nest: String,
    pub firebase: String,
    pub header: String,
    /// API Gateway CORS in a Lambda manifest.
    pub lambda: String,
}

/// What keys-in-client knows (`rules/public_env.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicEnvSpec {
    pub prefixes: Vec<String>,
    pub secret_words: Vec<String>,
    pub provider_words: Vec<String>,
    pub public_last_words: Vec<String>,
    pub flag_first_words: Vec<String>,
    pub public_value_prefixes: Vec<String>,
    pub public_config_calls: Vec<String>,
    pub allow: Vec<String>,
    pub browser_frameworks: Vec<String>,
    pub server_frameworks: Vec<String>,
    pub fix: PublicEnvFixes,
    /// Every prefix, searched at once (built on first use).
    #[serde(skip)]
    prefix_search: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicEnvFixes {
    pub public_env: String,
    pub public_env_rotate: String,
    pub public_env_rotate_if: String,
    pub sdk_in_client: String,
    pub dangerously_allow_browser: String,
    pub bundle_inlines: String,
    /// A secret imported from SvelteKit's `$env/static/public` or
    /// `$env/dynamic/public` ({name}).
    pub sveltekit_public: String,
    /// A secret under Nuxt's `runtimeConfig.public` ({key}, {env}).
    pub nuxt_public_config: String,
}

impl PublicEnvSpec {
    /// Does any public prefix occur in `bytes`?
    pub fn mentions_prefix(&self, bytes: &[u8]) -> bool {
        self.prefix_search
            .get_or_init(|| {
                // Leftmost-first lets the automaton use its SIMD (Teddy)
                // search: 15× faster than the standard semantics here, where
                // `_` made the prefilter useless (bench/run.sh profile).
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                    .build(&self.prefixes)
                    .ok()
            })
            .as_ref()
            .is_some_and(|ac| ac.is_match(bytes))
    }

    /// The public prefix of `name`, if it has one.
    pub fn prefix_of<'n>(&self, name: &'n str) -> Option<(&str, &'n str)> {
        self.prefixes
            .iter()
            .find_map(|p| Some((p.as_str(), name.strip_prefix(p.as_str())?)))
    }

    /// Does `bare` (a name without its public prefix) name a secret? Judged
    /// word by word: a secret or provider word makes it one, unless the
    /// last word says it is a flag, an address, an id or a setting, or the
    /// first word makes it a flag.
    pub fn names_secret(&self, bare: &str) -> bool {
        if bare.is_empty() || self.allow.iter().any(|a| glob_match(a, bare)) {
            return false;
        }
        let parts: Vec<&str> = bare.split('_').filter(|p| !p.is_empty()).collect();
        let is_in = |words: &[String], part: &str| words.iter().any(|w| w == part);
        let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
            return false;
        };
        if is_in(&self.public_last_words, last) || is_in(&self.flag_first_words, first) {
            return false;
        }
        parts
            .iter()
            .any(|p| is_in(&self.secret_words, p) || is_in(&self.provider_words, p))
    }

    /// Is a visible value public whatever the name: empty, a boolean, a
    /// URL without credentials (`user:password@`), or a public-by-design
    /// format (`pk.` Mapbox token)?
    pub fn is_public_value(&self, value: &str) -> bool {
        let v = value.trim();
        let lower = v.to_ascii_lowercase();
        let plain_url = v.split_once("://").is_some_and(|(scheme, rest)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '+')
                && !rest
                    .split(['/', '?', '#'])
                    .next()
                    .unwrap_or("")
                    .contains('@')
                && !rest.contains("key=")
                && !rest.contains("token=")
        });
        v.is_empty()
            || ["true", "false", "0", "1", "yes", "no", "on", "off"].contains(&lower.as_str())
            || plain_url
            || self
                .public_value_prefixes
                .iter()
                .any(|p| v.starts_with(p.as_str()))
    }
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + (ca != *cb) as usize)
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// One `*` matches any run of characters; nothing else is special.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.len() >= head.len() + tail.len() && text.starts_with(head) && text.ends_with(tail)
        }
    }
}

/// An alternation of escaped literals (built-in, from `rules/`), compiled
/// on first use. No literals match nothing (an empty alternation would
/// match everything).
struct LaterRegex {
    alternatives: Vec<String>,
    compiled: std::sync::OnceLock<Option<regex::bytes::Regex>>,
}

impl LaterRegex {
    fn new(alternatives: Vec<String>) -> LaterRegex {
        LaterRegex {
            alternatives,
            compiled: std::sync::OnceLock::new(),
        }
    }

    fn is_match(&self, bytes: &[u8]) -> bool {
        let compiled = self.compiled.get_or_init(|| {
            (!self.alternatives.is_empty()).then(|| {
                regex::bytes::Regex::new(&self.alternatives.join("|"))
                    .expect("escaped built-in literals compile (unit tests)")
            })
        });
        compiled.as_ref().is_some_and(|r| r.is_match(bytes))
    }
}

/// Everything loaded and compiled.
pub struct Catalog {
    pub auth_fix: AuthFixes,
    pub quota_fix: QuotaFixes,
    pub auth: AuthSpec,
    pub quota: QuotaSpec,
    pub rate_limit_fix: RateLimitFixes,
    pub calls: CallsSpec,
    pub rate_limit: RateLimitSpec,
    pub public_env: PublicEnvSpec,
    pub sdks: Vec<SdkSpec>,
    pub ui_only: Vec<String>,
    /// Submodules of an SDK that hold types, errors and format converters,
    /// no client (`rules/sdks.toml`, `helper_modules`).
    pub helper_modules: Vec<String>,
    /// The three lists above as hash tables (what the lookups read).
    modules: modules::ModuleTable,
    /// Packages mixing provider calls and UI utilities → the names that
    /// call a provider (`rules/sdks.toml`, `[client_provider_names]`).
    pub client_provider_names: std::collections::BTreeMap<String, Vec<String>>,
    pub cors: CorsSpec,
    pub checks: Vec<CheckSpec>,
    pub other_rules: Vec<RuleSpec>,
    pub meta_rules: Vec<MetaRuleSpec>,
    pub env: EnvSpec,
    pub standards: Standards,
    pub keys: KeyRules,
    /// Agents, retries and browser hooks for the `loops` check.
    pub loops: LoopsSpec,
    /// The trigger words as one regex alternation, then (for the files
    /// that pass) the same literals with their roles: [`Catalog::roles_of`],
    /// the plain search that the walk's one read ([`Catalog::source_words`])
    /// must agree with (unit test, `per_file` fuzz target).
    ///
    /// An audit reads each file once with [`Catalog::source_words`]
    /// instead, so these two (and `parse_gate`) are compiled on first use:
    /// at load they were half of the catalogue's start-up time.
    parse_triggers: LaterRegex,
    role_literals: std::sync::OnceLock<aho_corasick::AhoCorasick>,
    role_of_literal: Vec<Roles>,
    /// The key keywords (ASCII case-insensitive) then the role literals, in
    /// one automaton: the walk reads each source file once for both
    /// ([`Catalog::source_words`]).
    source_words: aho_corasick::AhoCorasick,
    /// The role literals as written (their matches are checked for case).
    role_literal_text: Vec<String>,
    /// Every literal but the protection-only ones, for [`Catalog::wants_parse`]
    /// (`--staged`).
    parse_gate: LaterRegex,
    parse_paths: Vec<String>,
    always_paths: Vec<String>,
    test_folders: Vec<String>,
    test_file_prefixes: Vec<String>,
    test_file_suffixes: Vec<String>,
    /// `[[parse.together]]`: (any of these words, and any of those).
    parse_together: Vec<Together>,
    /// `[configs] files`: globs of the configuration files kept whole.
    config_files: globset::GlobSet,
}

impl Catalog {
    /// The built-in rules, plus users' extra key rule files.
    pub fn load(extra_key_files: &[&Path]) -> Result<Catalog, CatalogError> {
        let checks_file: ChecksFile = parse_toml("rules/checks.toml", CHECKS_TOML)?;
        for (i, c) in checks_file.check.iter().enumerate() {
            let line = line_of_entry(CHECKS_TOML, &format!("id = \"{}\"", c.id));
            let expected = CheckId::ALL.get(i).map(|c| c.as_str());
            if expected != Some(c.id.as_str()) {
                return Err(CatalogError::new(
                    "rules/checks.toml",
                    line,
                    format!(
                        "check `{}` out of checklist order (expected `{}`)",
                        c.id,
                        expected.unwrap_or("none")
                    ),
                ));
            }
            let named = |ids: &[String], names: &std::collections::BTreeMap<String, String>| {
                ids.iter().find(|id| !names.contains_key(*id)).cloned()
            };
            let unnamed = named(&c.cwe, &checks_file.standards.cwe)
                .or_else(|| named(&c.owasp, &checks_file.standards.owasp));
            if let Some(id) = unnamed {
                let message = format!("check `{}` cites `{id}`, not named in [standards]", c.id);
                return Err(CatalogError::new("rules/checks.toml", line, message));
            }
            if !c
                .security_severity
                .parse::<f32>()
                .is_ok_and(|s| (0.0..=10.0).contains(&s))
            {
                let message = format!("check `{}`: security_severity is not 0.0-10.0", c.id);
                return Err(CatalogError::new("rules/checks.toml", line, message));
            }
        }
        let mut keys = KeyRules::from_toml("rules/keys.toml", KEYS_TOML)?.compiled_on_first_use();
        for path in extra_key_files {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CatalogError::new(&path.display().to_string(), 0, e.to_string()))?;
            keys.extend(KeyRules::from_toml(&path.display().to_string(), &text)?);
        }
        keys.compile()?;
        let facts: FactsFile = parse_toml("rules/facts.toml", FACTS_TOML)?;
        let sdks: SdksFile = parse_toml("rules/sdks.toml", SDKS_TOML)?;
        let mut literals: Vec<(&String, Roles)> = facts.parse.roles.all();
        literals.extend(
            sdks.calls
                .hosts
                .iter()
                .chain(&sdks.calls.api_paths)
                .chain(sdks.calls.binding_calls.keys())
                .chain(sdks.calls.model_prefixes.keys())
                .map(|h| (h, Roles::AI | Roles::AI_HTTP)),
        );
        let alternation: Vec<String> = literals.iter().map(|(t, _)| regex::escape(t)).collect();
        let role_of_literal: Vec<Roles> = literals.iter().map(|(_, r)| *r).collect();
        let role_literal_text: Vec<String> = literals.iter().map(|(t, _)| t.to_string()).collect();
        let source_words = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(aho_corasick::MatchKind::Standard)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .build(keys.keywords().iter().chain(&role_literal_text))
            .map_err(|e| CatalogError::new("rules/facts.toml", 1, e.to_string()))?;
        // `--staged` parses context files as it reads them (no slice): the
        // protection-only words (broad: "401", "usage") would make it parse
        // most of the tree, so its gate leaves them out.
        let gate: Vec<String> = literals
            .iter()
            .filter(|(_, r)| *r != Roles::PROTECTION)
            .map(|(t, _)| regex::escape(t))
            .collect();
        let parse_gate = LaterRegex::new(gate);
        let parse_triggers = LaterRegex::new(alternation);
        let mut parse_together = Vec::new();
        for group in &facts.parse.together {
            let compile = |words: &[String]| {
                let alternation: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
                let line = line_of_entry(FACTS_TOML, "[[parse.together]]");
                if words.is_empty() {
                    return Err(CatalogError::new(
                        "rules/facts.toml",
                        line,
                        "empty word list",
                    ));
                }
                regex::bytes::Regex::new(&alternation.join("|"))
                    .map_err(|e| CatalogError::new("rules/facts.toml", line, e.to_string()))
            };
            parse_together.push(Together {
                words: compile(&group.words)?,
                also: compile(&group.also)?,
                and_also: match group.and_also.is_empty() {
                    true => None,
                    false => Some(compile(&group.and_also)?),
                },
                effect_reruns: group.effect_reruns,
                module_level: group.module_level.then(|| group.also.clone()),
            });
        }
        let mut config_files = globset::GlobSetBuilder::new();
        for pattern in &facts.configs.files {
            let line = line_of_entry(FACTS_TOML, &format!("\"{pattern}\""));
            let glob = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| CatalogError::new("rules/facts.toml", line, e.to_string()))?;
            config_files.add(glob);
        }
        let config_files = config_files
            .build()
            .map_err(|e| CatalogError::new("rules/facts.toml", 1, e.to_string()))?;
        for r in &checks_file.rule {
            if CheckId::parse(&r.check).is_none() {
                let line = line_of_entry(CHECKS_TOML, &format!("id = \"{}\"", r.id));
                let message = format!("rule `{}`: unknown check `{}`", r.id, r.check);
                return Err(CatalogError::new("rules/checks.toml", line, message));
            }
        }
        let cors: CorsSpec = parse_toml("rules/cors.toml", CORS_TOML)?;
        let public_env: PublicEnvSpec = parse_toml("rules/public_env.toml", PUBLIC_ENV_TOML)?;
        let protections: ProtectionsFile = parse_toml("rules/protections.toml", PROTECTIONS_TOML)?;
        let loops = LoopsSpec::load("rules/loops.toml", loops::LOOPS_TOML)?;
        Ok(Catalog {
            calls: sdks.calls,
            rate_limit: protections.rate_limit,
            rate_limit_fix: protections.fix,
            auth: protections.auth,
            auth_fix: protections.auth_fix,
            quota_fix: protections.quota_fix,
            quota: protections.quota,
            public_env,
            modules: modules::ModuleTable::new(&sdks.sdk, &sdks.helper_modules, &sdks.ui_only),
            sdks: sdks.sdk,
            ui_only: sdks.ui_only,
            helper_modules: sdks.helper_modules,
            client_provider_names: sdks.client_provider_names,
            cors,
            checks: checks_file.check,
            other_rules: checks_file.rule,
            meta_rules: checks_file.meta_rule,
            env: checks_file.env,
            standards: checks_file.standards,
            keys,
            loops,
            parse_triggers,
            role_literals: std::sync::OnceLock::new(),
            role_of_literal,
            source_words,
            role_literal_text,
            parse_gate,
            parse_together,
            parse_paths: facts.parse.paths,
            always_paths: facts.parse.always_paths,
            test_folders: facts.parse.test_folders,
            test_file_prefixes: facts.parse.test_file_prefixes,
            test_file_suffixes: facts.parse.test_file_suffixes,
            config_files,
        })
    }

    /// Is `path` (relative, `/`-separated) a configuration file the
    /// framework modules read ([`crate::facts::ConfigFile`])?
    /// Test folders hold example manifests, not the deployed ones.
    pub fn is_config(&self, path: &str) -> bool {
        self.config_files.is_match(path) && !self.is_test_path(path)
    }

    /// Every rule, in checklist order of their checks, key rules in catalogue order.
    pub fn all_rules(&self) -> Vec<RuleInfo> {
        let keys = self.keys.rules().iter().map(|r| RuleInfo {
            id: r.spec.id.clone(),
            check: CheckId::KeysInCode,
            title: r.spec.message.clone(),
            revoke_url: r.spec.revoke_url.clone(),
        });
        let others = self.other_rules.iter().filter_map(|r| {
            Some(RuleInfo {
                id: r.id.clone(),
                check: CheckId::parse(&r.check)?,
                title: r.title.clone(),
                revoke_url: None,
            })
        });
        let mut all: Vec<RuleInfo> = keys.chain(others).collect();
        all.sort_by_key(|r| r.check);
        all
    }

    pub fn find_rule(&self, id: &str) -> Option<RuleInfo> {
        self.all_rules().into_iter().find(|r| r.id == id)
    }

    /// Every id a user may name: checks, rules and suppression rules.
    pub fn known_ids(&self) -> Vec<String> {
        let checks = CheckId::ALL.iter().map(|c| c.as_str().to_string());
        let rules = self.all_rules().into_iter().map(|r| r.id);
        let meta = self.meta_rules.iter().map(|r| r.id.clone());
        checks.chain(rules).chain(meta).collect()
    }

    /// Known ids close to a misspelt `id`, closest first (for "did you mean").
    pub fn close_matches(&self, id: &str) -> Vec<String> {
        let id = id.to_ascii_lowercase();
        let mut scored: Vec<(usize, String)> = self
            .known_ids()
            .into_iter()
            .filter_map(|known| {
                let distance = edit_distance(&id, &known);
                let close = distance <= (known.len() / 3).max(2)
                    || (id.len() >= 4 && (known.contains(&id) || id.contains(&known)));
                close.then_some((distance, known))
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(3).map(|(_, id)| id).collect()
    }

    /// The AI SDK an import of `name` from `module` brings in, if any: a
    /// Python submodule by its full name (`from google import genai` is
    /// `google.genai`; `from google.genai import types` is a helper module),
    /// else as [`Catalog::sdk_for_import`] of `module`.
    pub fn sdk_for_name(&self, module: &str, name: Option<&str>, python: bool) -> Option<&SdkSpec> {
        if let (true, Some(name)) = (python, name) {
            let full = format!("{module}.{name}");
            if self.is_helper_module(&full, python) {
                return None;
            }
            if let Some(sdk) = self.sdk_for_import(&full, python) {
                return Some(sdk);
            }
        }
        self.sdk_for_import(module, python)
    }

    fn is_helper_module(&self, module: &str, python: bool) -> bool {
        self.modules
            .is_helper(module, if python { '.' } else { '/' })
    }

    /// The AI SDK an import of `module` brings in, if any.
    pub fn sdk_for_import(&self, module: &str, python: bool) -> Option<&SdkSpec> {
        let sep = if python { '.' } else { '/' };
        // `npm:openai@4`, `https://esm.sh/openai` (Deno).
        let package = (!python)
            .then(|| crate::paths::package_specifier(module))
            .flatten();
        let module = package.as_deref().unwrap_or(module);
        if self.modules.is_ui_only(module) || self.modules.is_helper(module, sep) {
            return None;
        }
        self.modules.sdk(module, python).map(|i| &self.sdks[i])
    }

    /// A test file (`rules/facts.toml`): never part of the slice.
    pub fn is_test_path(&self, path: &str) -> bool {
        let (dirs, name) = path.rsplit_once('/').unwrap_or(("", path));
        dirs.split('/')
            .any(|d| self.test_folders.iter().any(|t| t == d))
            || self
                .test_file_prefixes
                .iter()
                .any(|p| name.starts_with(p.as_str()))
            || self
                .test_file_suffixes
                .iter()
                .any(|s| name.ends_with(s.as_str()))
    }

    /// The roles of a source file from its text and its imports: the AI
    /// role needs an import of an SDK module (a word in a config file or a
    /// comment is not an AI call) or a provider host or API path.
    pub fn roles_with_imports(
        &self,
        path: &str,
        bytes: &[u8],
        python: bool,
        imports: &[crate::graph::LexImport],
    ) -> Roles {
        self.roles_given_imports(self.roles_of(path, bytes), python, imports)
    }

    /// One pass over a source file for the walk's two literal searches:
    /// the key rules whose keywords it holds ([`KeyRules::scan_rules`]), and
    /// the roles of its words (with [`Catalog::roles_from_words`]).
    pub fn source_words(&self, bytes: &[u8]) -> (keys::Candidates, Roles) {
        let keywords = self.keys.keywords().len();
        let mut found = self.keys.no_candidates();
        let mut roles = Roles::default();
        for m in self.source_words.find_overlapping_iter(bytes) {
            let p = m.pattern().as_usize();
            match p.checked_sub(keywords) {
                None => self.keys.keyword_at(p, m.start(), &mut found),
                // Role literals are case-sensitive.
                Some(r) if &bytes[m.range()] == self.role_literal_text[r].as_bytes() => {
                    roles |= self.role_of_literal[r];
                }
                Some(_) => {}
            }
        }
        (found, roles)
    }

    /// [`Catalog::roles_with_imports`] given the roles of the file's words
    /// from [`Catalog::source_words`].
    pub fn roles_from_words(
        &self,
        path: &str,
        bytes: &[u8],
        words: Roles,
        python: bool,
        imports: &[crate::graph::LexImport],
    ) -> Roles {
        self.roles_given_imports(self.path_roles(path, bytes) | words, python, imports)
    }

    fn roles_given_imports(
        &self,
        roles: Roles,
        python: bool,
        imports: &[crate::graph::LexImport],
    ) -> Roles {
        let imports_sdk = || {
            imports.iter().any(|i| match i.names.is_empty() {
                true => self.sdk_for_import(&i.module, python).is_some(),
                false => i
                    .names
                    .iter()
                    .any(|n| self.sdk_for_name(&i.module, Some(n), python).is_some()),
            })
        };
        if roles.has(Roles::AI) && !roles.has(Roles::AI_HTTP) && !imports_sdk() {
            return roles.without(Roles::AI);
        }
        roles
    }

    /// In browser code, can this import of `module` call a provider? A
    /// package mixing provider calls and UI utilities (`ai`) only when the
    /// import names a provider-calling function or takes the whole module
    /// (`name` is `None`, or `default`); any other SDK import can.
    pub fn import_can_call_provider(&self, module: &str, name: Option<&str>) -> bool {
        match (self.client_provider_names.get(module), name) {
            (Some(callers), Some(name)) if name != "default" => callers.iter().any(|c| c == name),
            _ => true,
        }
    }

    /// Is this source worth parsing (does any check need its facts)? By
    /// its path (route files, middleware) or by a trigger word inside.
    pub fn wants_parse(&self, path: &str, bytes: &[u8]) -> bool {
        let by_path = |paths: &[String]| {
            paths
                .iter()
                // As if `path` began with `/`: `/route.` matches `route.ts` too.
                .any(|p| {
                    path.contains(p.as_str())
                        || p.strip_prefix('/').is_some_and(|p| path.starts_with(p))
                })
        };
        by_path(&self.parse_paths)
            || by_path(&self.always_paths)
            || self.parse_gate.is_match(bytes)
            || self.parse_together.iter().any(|t| t.is_match(bytes))
    }

    /// The roles a source file can play, by its path and its text (see
    /// `rules/facts.toml` and [`crate::graph`]).
    pub fn roles_of(&self, path: &str, bytes: &[u8]) -> Roles {
        let mut roles = self.path_roles(path, bytes);
        // Most files name nothing: one SIMD literal search rejects them.
        if !self.parse_triggers.is_match(bytes) {
            return roles;
        }
        let all = Roles::AI
            | Roles::APP
            | Roles::AI_HTTP
            | Roles::ENDPOINT
            | Roles::PROTECTION
            | Roles::CLIENT
            | Roles::BROWSER
            | Roles::ALWAYS
            | Roles::LOOP;
        let role_literals = self.role_literals.get_or_init(|| {
            // A DFA: each trigger file is searched whole for overlapping
            // matches of a few hundred patterns.
            aho_corasick::AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&self.role_literal_text)
                .expect("the built-in role literals build an automaton (unit tests)")
        });
        for m in role_literals.find_overlapping_iter(bytes) {
            roles |= self.role_of_literal[m.pattern().as_usize()];
            if roles == all {
                break;
            }
        }
        roles
    }

    /// The roles of a file by its path, and by its words together
    /// (`[[parse.together]]`).
    fn path_roles(&self, path: &str, bytes: &[u8]) -> Roles {
        let on_path = |paths: &[String]| {
            paths.iter().any(|p| {
                path.contains(p.as_str())
                    || p.strip_prefix('/').is_some_and(|p| path.starts_with(p))
            })
        };
        let mut roles = Roles::default();
        if on_path(&self.parse_paths) {
            roles |= Roles::ENDPOINT;
        }
        if on_path(&self.always_paths) {
            // Middleware runs in front of the whole app: the helpers it
            // imports (the session check, the limiter) are parsed as an
            // app file's are.
            roles |= Roles::ALWAYS | Roles::APP;
        }
        if self.parse_together.iter().any(|t| t.is_match(bytes)) {
            roles |= Roles::ALWAYS;
        }
        roles
    }

    pub fn check(&self, id: CheckId) -> &CheckSpec {
        // Order and completeness are verified in `load`.
        &self.checks[id as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalog_loads_in_checklist_order() {
        let catalog = Catalog::load(&[]).expect("built-in rules are valid");
        let ids: Vec<&str> = catalog.checks.iter().map(|c| c.id.as_str()).collect();
        let expected: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(ids, expected);
        assert!(!catalog.keys.is_empty());
    }

    #[test]
    fn configuration_files_by_glob() {
        let catalog = Catalog::load(&[]).unwrap();
        for kept in [
            "serverless.yml",
            "services/chat/serverless.yml",
            "supabase/config.toml",
            "deploy/nginx/conf.d/app.conf",
            "nginx.conf",
            "docker-compose.prod.yml",
            "Caddyfile",
        ] {
            assert!(catalog.is_config(kept), "{kept}");
        }
        for left in [
            "config.toml",
            "src/serverless.yml.ts",
            "docs/nginx.conf.md",
            "tests/fixtures/serverless.yml",
            "app.conf",
        ] {
            assert!(!catalog.is_config(left), "{left}");
        }
    }

    #[test]
    fn every_sdk_module_trips_the_parse_gate() {
        let catalog = Catalog::load(&[]).unwrap();
        for sdk in &catalog.sdks {
            for m in sdk.python.iter().chain(&sdk.js) {
                // `ai` alone is too common a word; its call names are triggers instead.
                if m == "ai" {
                    continue;
                }
                let import = format!("import x from \"{m}\"\nfrom {m} import y\n");
                assert!(
                    catalog.wants_parse("lib/x.ts", import.as_bytes()),
                    "{m} does not trigger parsing"
                );
            }
        }
    }

    #[test]
    fn roles_need_the_package_or_the_call_not_the_word() {
        let catalog = Catalog::load(&[]).unwrap();
        let roles = |path: &str, code: &str| catalog.roles_of(path, code.as_bytes());
        // Prose and SQL helpers are not routes.
        for prose in [
            "from sqlalchemy.sql.expression import and_\n",
            "# the server honored the request\n",
            "\"\"\"A FastAPI dependency that checks the user.\"\"\"\n",
        ] {
            assert!(!roles("app/db.py", prose).has(Roles::ENDPOINT), "{prose}");
        }
        for route in [
            "import express from \"express\";\n",
            "const express = require('express');\n",
            "import { Hono } from 'hono';\n",
            "def mount(app: FastAPI):\n    app.include_router(chat)\n",
        ] {
            assert!(
                roles("src/server.ts", route).has(Roles::ENDPOINT),
                "{route}"
            );
        }
        // A project hook named like the AI SDK's is not `useChat`.
        let hook = "export function useChatSession() { return useChatSessionStore(); }\n";
        assert!(!roles("web/hooks.ts", hook).has(Roles::ALWAYS));
        assert!(
            roles("web/chat.tsx", "const { messages } = useChat({ api });\n").has(Roles::ALWAYS)
        );
        // An API client backing off from a provider's rate limit is no
        // limiter of the app: followed from endpoints as a protection,
        // never parsed for itself.
        let backoff = "def fetch(url):\n    if r.status == 429:\n        raise RateLimitError()\n";
        let r = roles("connectors/github.py", backoff);
        assert!(r.has(Roles::PROTECTION) && !r.has(Roles::ALWAYS));
        // A limiter library, or a limiter counting in a module-level map,
        // is always parsed (`rate-limit-store` reports it wherever it is).
        let library = "from slowapi import Limiter\nlimiter = Limiter(key_func=ip)\n";
        assert!(roles("app/limits.py", library).has(Roles::ALWAYS));
        let hand_written = "const hits = new Map();\nfunction rateLimit(ip) { hits.set(ip, 1); }\n";
        assert!(roles("lib/limit.js", hand_written).has(Roles::ALWAYS));
        let local = "function rateLimit(ip) {\n  const hits = new Map();\n}\n";
        assert!(!roles("lib/limit.js", local).has(Roles::ALWAYS));
        // The slice's module-level maps are the maps the hand-written
        // limiter detection reads (rules/facts.toml and
        // rules/protections.toml list them twice: they must not drift).
        let slice_maps = catalog
            .parse_together
            .iter()
            .find_map(|t| t.module_level.as_ref())
            .expect("a module-level group");
        for value in &catalog.rate_limit.hand_written.map_values {
            assert!(
                slice_maps.contains(value),
                "{value} is not in the slice's maps"
            );
        }
    }

    #[test]
    fn one_read_finds_what_the_two_searches_find() {
        let catalog = Catalog::load(&[]).unwrap();
        for (path, text) in [
            ("app/chat.py", "from openai import OpenAI\nOPENAI_API_KEY = 'x'\nrouter = APIRouter()\n"),
            ("lib/ai.ts", "import Anthropic from \"@anthropic-ai/sdk\";\nconst key = process.env.ANTHROPIC_API_KEY;\n"),
            // Case: `OPENAI` is a key keyword's spelling, not the role word `OpenAI`.
            ("x.py", "OPENAI = 1\nMISTRAL_API_KEY = 'k'\nCORS = []\ntask_id = 3\n"),
            ("middleware.ts", "export function middleware() {}\n"),
            ("empty.py", ""),
        ] {
            let bytes = text.as_bytes();
            let (keys, words) = catalog.source_words(bytes);
            let alone = catalog.keys.candidate_rules(bytes);
            assert_eq!(keys.wanted, alone.wanted, "{path}");
            // The same keywords' places (matches ending together may come
            // in another order from the larger automaton).
            let sorted = |c: &keys::Candidates| {
                let mut p = c.places.clone();
                p.sort();
                p
            };
            assert_eq!(sorted(&keys), sorted(&alone), "{path}");
            for python in [true, false] {
                assert_eq!(
                    catalog.roles_from_words(path, bytes, words, python, &[]),
                    catalog.roles_with_imports(path, bytes, python, &[]),
                    "{path}"
                );
            }
        }
    }

    #[test]
    fn effects_are_parsed_only_next_to_a_request() {
        let catalog = Catalog::load(&[]).unwrap();
        let parse = |code: &str| catalog.wants_parse("src/Card.tsx", code.as_bytes());
        assert!(!parse("useEffect(() => { document.title = t; }, [t]);"));
        assert!(parse("useEffect(() => { fetch(\"/api/chat\"); });"));
        assert!(parse(
            "useSWR(\"/api/summary\", fetcher, { refreshInterval: 5000 })"
        ));
        assert!(parse("while True:\n    step()\n"));
    }

    #[test]
    fn sdk_imports_and_ui_packages() {
        let catalog = Catalog::load(&[]).unwrap();
        let provider =
            |m: &str, py: bool| catalog.sdk_for_import(m, py).map(|s| s.provider.as_str());
        assert_eq!(provider("openai", true), Some("OpenAI"));
        assert_eq!(provider("google.generativeai", true), Some("Google Gemini"));
        assert_eq!(provider("@ai-sdk/anthropic", false), Some("Anthropic"));
        assert_eq!(provider("ai", false), Some("Vercel AI SDK"));
        assert_eq!(provider("ai/react", false), None);
        assert_eq!(provider("@ai-sdk/react", false), None);
        assert_eq!(provider("openai_helpers", true), None);
        assert_eq!(provider("aiohttp", true), None);
        // The `ai` package: provider calls count in the browser, UI utilities not.
        assert!(catalog.import_can_call_provider("ai", Some("streamText")));
        assert!(catalog.import_can_call_provider("ai", None));
        assert!(!catalog.import_can_call_provider("ai", Some("DefaultChatTransport")));
        assert!(!catalog.import_can_call_provider("ai", Some("generateId")));
        assert!(catalog.import_can_call_provider("openai", Some("OpenAI")));
        // Types, errors and format converters are no client, and a
        // submodule imported by name is that submodule.
        assert_eq!(provider("openai.types.chat", true), None);
        assert_eq!(provider("litellm.llms.anthropic.adapters", true), None);
        assert_eq!(provider("litellm.router", true), Some("LiteLLM"));
        assert_eq!(provider("openai/resources/chat", false), None);
        let named = |m: &str, n: &str| {
            catalog
                .sdk_for_name(m, Some(n), true)
                .map(|s| s.provider.as_str())
        };
        assert_eq!(named("google", "genai"), Some("Google Gemini"));
        assert_eq!(named("google.genai", "types"), None);
        assert_eq!(named("google.genai", "Client"), Some("Google Gemini"));
        assert_eq!(named("openai", "OpenAI"), Some("OpenAI"));
        assert_eq!(named("google", "auth"), None);
        // The slice's AI role follows the same names: `from google import
        // genai` is an AI file, a file of OpenAI types is not.
        let roles = |text: &str| {
            let imports = crate::graph::scan_imports(crate::lang::Lang::Python, text.as_bytes());
            catalog.roles_with_imports("app/x.py", text.as_bytes(), true, &imports)
        };
        assert!(roles("from google import genai\nclient = genai.Client()\n").has(Roles::AI));
        assert!(!roles("from openai.types.chat import ChatCompletionMessage\n").has(Roles::AI));
    }

    #[test]
    fn public_env_names() {
        let catalog = Catalog::load(&[]).unwrap();
        let env = &catalog.public_env;
        let secret = |name: &str| {
            env.prefix_of(name)
                .is_some_and(|(_, bare)| env.names_secret(bare))
        };
        for yes in [
            "NEXT_PUBLIC_OPENAI_API_KEY",
            "VITE_ANTHROPIC_KEY",
            "REACT_APP_STRIPE_SECRET_KEY",
            "PUBLIC_GROQ",
            "EXPO_PUBLIC_API_TOKEN",
            "NEXT_PUBLIC_OPENAI_API_KEY_PROD",
            "NEXT_PUBLIC_PUSHER_APP_SECRET",
        ] {
            assert!(secret(yes), "{yes}");
        }
        for no in [
            "NEXT_PUBLIC_SUPABASE_ANON_KEY",
            "NEXT_PUBLIC_SITE_URL",
            "VITE_FIREBASE_API_KEY",
            "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY",
            "NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY",
            "NEXT_PUBLIC_POSTHOG_KEY",
            "NEXT_PUBLIC_OPENAI_MODEL",
            "NEXT_PUBLIC_KEYBOARD_LAYOUT",
            "OPENAI_API_KEY",
            "NEXT_PUBLIC_GOOGLE_MAPS_API_KEY",
            // Word by word: a flag, an address, an id or a setting.
            "NEXT_PUBLIC_FORGOT_PASSWORD_ENABLED",
            "NEXT_PUBLIC_API_KEY_LOGIN_DISABLED",
            "NEXT_PUBLIC_OPENAI_ORGANIZATION_ID",
            "NEXT_PUBLIC_TOKEN_ENDPOINT",
            "VITE_OPENAI_REGION",
            "NEXT_PUBLIC_ENABLE_PASSWORD_LOGIN",
            "NEXT_PUBLIC_PUSHER_APP_KEY",
            "NEXT_PUBLIC_ALGOLIA_SEARCH_ONLY_KEY",
            "NEXT_PUBLIC_NO_API_KEY_INPUT",
            "NEXT_PUBLIC_SEGMENT_WRITE_KEY",
        ] {
            assert!(!secret(no), "{no}");
        }
        for public in [
            "",
            "true",
            "FALSE",
            "0",
            "https://api.example.com",
            "pk.eyJ1Ijo",
        ] {
            assert!(env.is_public_value(public), "{public}");
        }
        assert!(env.is_public_value("postgres://localhost:5432/test"));
        for secret in [
            "sk-abc",
            "${OPENAI_API_KEY}",
            "pk",
            "postgres://app:s3cret@db/app",
            "https://x.example/?key=abc",
        ] {
            assert!(!env.is_public_value(secret), "{secret}");
        }
        assert!(
            glob_match("*_URL", "API_URL")
                && glob_match("FIREBASE_*", "FIREBASE_APP_ID")
                && !glob_match("*_URL", "URLS")
        );
    }

    #[test]
    fn toml_errors_name_the_line() {
        let err =
            parse_toml::<ChecksFile>("x.toml", "[[check]]\nid = \"a\"\nbogus = 1\n").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("x.toml", 3), "{err}");
    }

    #[test]
    fn env_names() {
        for yes in [".env", ".env.local", ".env.production.local", "prod.env"] {
            assert!(EnvSpec::is_env_file(yes), "{yes}");
        }
        for no in [".envrc", ".environment", "env.py", "dotenv"] {
            assert!(!EnvSpec::is_env_file(no), "{no}");
        }
    }
}
