//! Which calls are paid AI calls: methods of SDK clients and module objects,
//! the SDK functions listed in `rules/sdks.toml` (`generateText`,
//! `litellm.completion`), and raw HTTP to provider hosts. Follows import
//! aliases (`from openai import OpenAI as Client`, `import * as ai`),
//! client objects assigned in the same file (`client = OpenAI()`) or
//! imported from another, factory functions that return a client
//! (`def get_llm(): return ChatOpenAI()`), models composed into chains,
//! agents and engines (`LLMChain(llm=llm)`, `prompt.pipe(model)`), and
//! parameters typed with an SDK class or a model type (`llm: BaseChatModel`),
//! and subclasses of SDK clients and model types (`class Llm(ChatOpenAI)`).

use std::collections::HashMap;

/// Where a name is bound: a function of the file, or `None` for the module
/// (and for attributes, `self.client`, which every method of a class sees).
type Scope = Option<usize>;

use crate::catalog::Catalog;
use crate::facts::{Call, FileFacts, ProjectFacts};

/// Local name → (SDK module, imported name, provider).
pub type SdkImports = HashMap<String, (String, Option<String>, String)>;

/// The SDK modules and names a file imports through a project module that
/// imports them (`from app.llm import litellm`, where `app/llm/__init__.py`
/// says `import litellm`; `from .clients import OpenAI`): local name → the
/// SDK import they stand for. One step: a re-export of a re-export is not
/// followed.
pub fn sdk_reexports(facts: &ProjectFacts, fi: usize, catalog: &Catalog) -> SdkImports {
    let mut out = SdkImports::new();
    for import in &facts.file(fi).imports {
        let Some(name) = import
            .name
            .as_deref()
            .filter(|n| *n != "default" && *n != "*")
        else {
            continue;
        };
        let Some(target) = facts.resolve_import(fi, import).filter(|&t| t != fi) else {
            continue;
        };
        let target = facts.file(target);
        let python = target.lang.is_some_and(|l| l.is_python());
        let Some(original) = target.imports.iter().find(|i| i.local == name) else {
            continue;
        };
        if let Some(sdk) = catalog.sdk_for_name(&original.module, original.name.as_deref(), python)
        {
            out.insert(
                import.local.clone(),
                (
                    original.module.clone(),
                    original.name.clone(),
                    sdk.provider.clone(),
                ),
            );
        }
    }
    out
}

/// The provider of an AI call, if `call` is one.
pub struct AiNames<'c> {
    catalog: &'c Catalog,
    /// Local name → (module, imported name, provider).
    imports: SdkImports,
    /// Client objects: `client`, `self.client`, `model` → where each is
    /// bound and its provider. A variable assigned in a function is that
    /// function's (and its nested functions'): `client = OpenAI()` in one
    /// function says nothing of `client = httpx.Client()` in another.
    objects: HashMap<String, Vec<(Scope, String)>>,
    /// Plain names assigned in a function → those functions: a local that
    /// holds no client hides a client of the same name at module level.
    locals: HashMap<String, Vec<usize>>,
    /// The enclosing function of each function of the file.
    parents: Vec<Option<usize>>,
    /// Project wrappers named in the config (`extra-ai-clients`).
    extra: Vec<String>,
    /// Variables holding a provider URL (`url = f"{base}/chat/completions"`)
    /// → the host or API path it names.
    urls: HashMap<String, String>,
}

impl<'c> AiNames<'c> {
    /// The AI names of a file; `imported` are the client objects and client
    /// factories it imports from project files (local name → provider),
    /// `reexported` the SDK imports it takes from project modules
    /// ([`sdk_reexports`]).
    pub fn of(
        file: &FileFacts,
        catalog: &'c Catalog,
        extra: &[String],
        imported: &HashMap<String, String>,
        reexported: &SdkImports,
    ) -> AiNames<'c> {
        let python = file.lang.is_some_and(|l| l.is_python());
        let mut imports = reexported.clone();
        for i in &file.imports {
            if let Some(sdk) = catalog.sdk_for_name(&i.module, i.name.as_deref(), python) {
                imports.insert(
                    i.local.clone(),
                    (i.module.clone(), i.name.clone(), sdk.provider.clone()),
                );
            }
        }
        let mut locals: HashMap<String, Vec<usize>> = HashMap::new();
        for a in &file.assignments {
            if let (Some(f), true) = (a.in_function, is_plain_name(&a.target)) {
                locals.entry(a.target.clone()).or_default().push(f);
            }
        }
        let mut names = AiNames {
            catalog,
            imports,
            objects: HashMap::new(),
            locals,
            parents: file.functions.iter().map(|f| f.parent).collect(),
            extra: extra.to_vec(),
            urls: HashMap::new(),
        };
        for a in &file.assignments {
            if let Some(label) = names.provider_url(&a.text) {
                names.urls.insert(a.target.clone(), label);
            }
        }
        for (name, provider) in imported {
            names.bind(name, None, provider.clone());
        }
        // Subclasses of client and model classes (`class Llm(ChatOpenAI)`,
        // `class Client(openai.OpenAI)`, a custom `BaseChatModel`, or a
        // subclass of one imported from the project): constructing one
        // gives a client. Not exception classes (`openai.APIError`).
        for class in &file.classes {
            let provider = class.bases.iter().find_map(|b| {
                let last = b.rsplit('.').next().unwrap_or(b);
                if !starts_upper(last) || last.ends_with("Error") || last.ends_with("Exception") {
                    return None;
                }
                names
                    .imports
                    .get(head_of(b))
                    .map(|(_, _, p)| p.clone())
                    .or_else(|| names.object(b, None).cloned())
                    .or_else(|| {
                        library_type(file, catalog, b, python)
                            .then(|| catalog.calls.model_types.get(last).cloned())
                            .flatten()
                    })
            });
            if let Some(provider) = provider {
                names.bind(&class.name, None, provider);
            }
        }
        // Factories: a function that makes a client without keeping it
        // (`return ChatOpenAI(…)`, `return new OpenAI()`): calling it gives
        // a client (`get_llm().invoke(…)`, `llm = get_llm()`).
        for c in &file.calls {
            let Some(f) = c.in_function else { continue };
            let last = c.callee.rsplit('.').next().unwrap_or(&c.callee);
            let kept = file
                .assignments
                .iter()
                .any(|a| a.line == c.line && a.in_function == Some(f));
            if kept || !(starts_upper(last) || names.is_factory_call(&c.callee)) {
                continue;
            }
            if let Some(provider) = names.provider_of_head(&c.callee, c.in_function) {
                let function = &file.functions[f];
                if function.parent.is_none() {
                    let name = function.name.rsplit('.').next().unwrap_or(&function.name);
                    names.bind(name, None, provider);
                }
            }
        }
        // Parameters typed with an SDK class: `client: OpenAI`,
        // `llm: ChatOpenAI`, `private openai: OpenAI`.
        for (fi, f) in file.functions.iter().enumerate() {
            for p in &f.params {
                let Some((name, _)) = p.split_once(':') else {
                    continue;
                };
                let name = name
                    .split_whitespace()
                    .last()
                    .unwrap_or("")
                    .trim_end_matches('?');
                let Some(class) = crate::facts::annotated_class(p, name) else {
                    continue;
                };
                // A list of them (`messages: UIMessage[]`) is data.
                let list = p.split_once(':').is_some_and(|(_, a)| {
                    a.split(&class)
                        .nth(1)
                        .is_some_and(|rest| rest.trim_start().starts_with("[]"))
                });
                if list {
                    continue;
                }
                // Of a package that mixes provider calls with types and
                // utilities (`ai`), only its provider-calling names: a
                // `UIMessage` is a message, not a model.
                let provider = names
                    .imports
                    .get(&class)
                    .filter(|(m, n, _)| catalog.import_can_call_provider(m, n.as_deref()))
                    .map(|(_, _, p)| p.clone())
                    .or_else(|| {
                        library_type(file, catalog, &class, python)
                            .then(|| catalog.calls.model_types.get(&class).cloned())
                            .flatten()
                    });
                if let Some(provider) = provider {
                    names.bind(name, Some(fi), provider);
                }
            }
        }
        // Two rounds: `llm = ChatOpenAI()` then `chain = llm.with_retry()`.
        for round in 0..2 {
            // Builders: a top-level function named for making something
            // (`create_agent`, `getModel`) that holds a client in a local
            // (`agent = AgentExecutor(…)`, then `return agent`): calling it
            // gives that client (`agent = create_agent(); agent.invoke(…)`).
            if round == 1 {
                for (fi, function) in file.functions.iter().enumerate() {
                    let name = function.name.as_str();
                    let builder = is_builder_name(name, &catalog.calls.builder_verbs);
                    if function.parent.is_some() || name.contains('.') || !builder {
                        continue;
                    }
                    let provider = names
                        .objects
                        .values()
                        .flatten()
                        .find(|(s, _)| *s == Some(fi))
                        .map(|(_, p)| p.clone());
                    if let Some(provider) = provider {
                        names.bind(name, None, provider);
                    }
                }
            }
            for a in &file.assignments {
                // `self.client = client` (a typed parameter or another
                // client), and LangChain runnables: `chain = prompt | llm`.
                let scope = a.in_function;
                if a.value_callee.is_none() {
                    let provider = a
                        .text
                        .split('|')
                        .find_map(|part| names.object(part.trim(), scope).cloned());
                    if let Some(provider) = provider {
                        names.bind(&a.target, scope, provider);
                    }
                    continue;
                }
                let Some(callee) = &a.value_callee else {
                    continue;
                };
                // Clients come from constructors (`OpenAI()`, `genai.GenerativeModel`)
                // or factories (`ChatOpenAI`, `openai("gpt-4o")`), not from the
                // result of an AI call (`result = streamText(…)`).
                let last = callee.rsplit('.').next().unwrap_or(callee);
                let factory = names.imports.get(head_of(callee)).is_some_and(|(m, _, _)| {
                    catalog
                        .calls
                        .factory_modules
                        .iter()
                        .any(|f| m.starts_with(f.as_str()))
                });
                // A model configured from another (`llm.bind_tools(…)`,
                // `llm.with_structured_output(…)`), not what a call returns:
                // `runs = client.beta.threads.runs.list()` is a response,
                // and `runs.data.find(…)` no AI call.
                let from_client = names.object(head_of(callee), scope).is_some()
                    && catalog.calls.model_builders.iter().any(|m| m == last);
                // A call to a client factory (`llm = get_llm()`).
                let made = !callee.contains('.') && names.object(callee, scope).is_some();
                if starts_upper(last) || factory || from_client || made {
                    if let Some(provider) = names.provider_of_head(callee, scope) {
                        names.bind(&a.target, scope, provider);
                        continue;
                    }
                }
                // A model composed into a chain, an agent or an engine.
                if let Some(provider) = names.composed(file, callee, &a.text, scope) {
                    names.bind(&a.target, scope, provider);
                }
            }
        }
        names
    }

    /// Is `callee` a factory of a factory module (`openai("gpt-4o")` of
    /// `@ai-sdk/openai`)?
    fn is_factory_call(&self, callee: &str) -> bool {
        self.imports.get(head_of(callee)).is_some_and(|(m, _, _)| {
            self.catalog
                .calls
                .factory_modules
                .iter()
                .any(|f| m.starts_with(f.as_str()))
        })
    }

    /// The provider of a model that a composing call (`LLMChain(llm=llm)`,
    /// `prompt.pipe(model)`, `index.as_query_engine(llm=OpenAI())`) puts
    /// into what it returns: a model its arguments name.
    fn composed(&self, file: &FileFacts, callee: &str, text: &str, scope: Scope) -> Option<String> {
        let calls = &self.catalog.calls;
        let last = callee.rsplit('.').next().unwrap_or(callee);
        let head = head_of(callee);
        let composer = calls.composers.iter().any(|c| c == last)
            || (starts_upper(last)
                && file
                    .import_of(head)
                    .is_some_and(|i| in_package(&i.module, &calls.composer_modules)));
        if !composer {
            return None;
        }
        // The arguments: what follows the callee in the assignment's text.
        let args = text.find('(').map_or("", |i| &text[i..]);
        let mut words = args
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .filter(|w| !w.is_empty());
        words.find_map(|w| {
            let w = w.trim_end_matches('.');
            self.object(w, scope)
                .cloned()
                .or_else(|| self.imports.get(head_of(w)).map(|(_, _, p)| p.clone()))
        })
    }

    /// The provider of a client object another file can import: one bound
    /// at module level (`client = OpenAI()`, `def get_llm(): …`).
    pub fn exported(&self, name: &str) -> Option<&String> {
        let bound = self.objects.get(name)?;
        bound.iter().find(|(s, _)| s.is_none()).map(|(_, p)| p)
    }

    /// Record that `name`, bound in `scope` (attributes at module level),
    /// holds a client of `provider`.
    fn bind(&mut self, name: &str, scope: Scope, provider: String) {
        let scope = scope.filter(|_| is_plain_name(name));
        let bound = self.objects.entry(name.to_string()).or_default();
        match bound.iter_mut().find(|(s, _)| *s == scope) {
            Some(entry) => entry.1 = provider,
            None => bound.push((scope, provider)),
        }
    }

    /// The provider of the client `name` holds where `scope` reads it: the
    /// innermost function (from `scope` outwards) that binds it, else the
    /// module. A function that assigns `name` something else (`client =
    /// httpx.Client()`, `with httpx.Client() as client`) hides every other
    /// client of that name. A name no enclosing scope binds (a parameter,
    /// a destructured field) holds the client the file binds under that name
    /// elsewhere: `def __init__(self, llm): self.llm = llm` called as
    /// `cls(llm)` by a factory method that made `llm = ChatOpenAI()`.
    fn object(&self, name: &str, scope: Scope) -> Option<&String> {
        let bound = self.objects.get(name)?;
        if is_plain_name(name) {
            let mut at = scope;
            while let Some(f) = at {
                if let Some((_, p)) = bound.iter().find(|(s, _)| *s == Some(f)) {
                    return Some(p);
                }
                if self.locals.get(name).is_some_and(|fs| fs.contains(&f)) {
                    return None;
                }
                at = self.parents.get(f).copied().flatten();
            }
        }
        bound
            .iter()
            .find(|(s, _)| s.is_none())
            .or_else(|| bound.first())
            .map(|(_, p)| p)
    }

    pub fn is_empty(&self) -> bool {
        self.imports.is_empty() && self.extra.is_empty()
    }

    fn provider_of_head(&self, callee: &str, scope: Scope) -> Option<String> {
        let head = head_of(callee);
        if let Some((_, _, p)) = self.imports.get(head) {
            return Some(p.clone());
        }
        // `self.client.chat…`: the two-segment head.
        let two: String = callee.split('.').take(2).collect::<Vec<_>>().join(".");
        self.object(head, scope)
            .or_else(|| self.object(&two, scope))
            .cloned()
    }

    /// The provider, if `call` reaches a paid AI API.
    pub fn provider_of(&self, call: &Call) -> Option<String> {
        if let Some(p) = self.raw_http(call) {
            return Some(p);
        }
        if let Some(p) = self.binding_call(call) {
            return Some(p);
        }
        let last_segment = call.callee.rsplit('.').next().unwrap_or(&call.callee);
        if self
            .extra
            .iter()
            .any(|n| *n == call.callee || n == last_segment)
        {
            return Some(format!("configured AI client {}", call.callee));
        }
        if self.imports.is_empty() && self.objects.is_empty() {
            return None;
        }
        let callee = call.callee.as_str();
        // `create().completion.strip()`, `create().then()`: a method on the
        // result of a call made on a lower-case name is not another AI call
        // (the inner call is listed); `OpenAI().chat…` is a constructor.
        if let Some((inner, _)) = callee.split_once("()") {
            let last_inner = inner.rsplit('.').next().unwrap_or(inner);
            if inner.contains('.') && !starts_upper(last_inner) {
                return None;
            }
        }
        let head = head_of(callee);
        let last = callee.rsplit('.').next().unwrap_or(callee);
        let is_method = callee.contains('.');
        // `client.models.list()`, `llm.bind_tools(…)`: no tokens billed.
        if is_method && self.catalog.calls.free_methods.iter().any(|m| m == last) {
            return None;
        }
        if let Some((module, name, provider)) = self.imports.get(head) {
            if self
                .catalog
                .calls
                .factory_modules
                .iter()
                .any(|m| module.starts_with(m.as_str()))
                && !is_method
            {
                return None;
            }
            let listed = self.catalog.calls.functions.get(module.as_str());
            if !is_method {
                // `generateText(…)` / `completion(…)`: an imported function.
                let imported = name.as_deref().unwrap_or(head);
                return listed
                    .is_some_and(|l| l.iter().any(|f| f == imported))
                    .then(|| provider.clone());
            }
            // `openai.ChatCompletion.create`, `ai.generateText`, `litellm.completion`,
            // `OpenAI().chat.completions.create`; not a constructor (`genai.GenerativeModel`).
            if starts_upper(last) || callee == format!("{head}()") {
                return None;
            }
            if let Some(l) = listed {
                // Modules of plain functions (`ai`, `litellm`): only
                // `ns.generateText(…)` is a call; `streamText(…).toX()` is a
                // method on its result (the inner call counts already).
                let namespace_call = name.is_none()
                    && callee.matches('.').count() == 1
                    && l.iter().any(|f| f == last);
                return namespace_call.then(|| provider.clone());
            }
            return Some(provider.clone());
        }
        if is_method && !starts_upper(last) {
            return self.provider_of_head(callee, call.in_function);
        }
        None
    }

    /// A call on a platform's AI binding (`env.AI.run("@cf/meta/…", …)`):
    /// by its last two segments, or a `run` whose model names the platform.
    fn binding_call(&self, call: &Call) -> Option<String> {
        let calls = &self.catalog.calls;
        let mut segments = call.callee.rsplit('.');
        let (last, object) = (segments.next()?, segments.next()?);
        if let Some(p) = calls.binding_calls.get(&format!("{object}.{last}")) {
            return Some(p.clone());
        }
        let model = call.args.first()?.text.trim_start_matches(['"', '\'', '`']);
        (last == "run")
            .then(|| {
                calls
                    .model_prefixes
                    .iter()
                    .find(|(prefix, _)| model.starts_with(prefix.as_str()))
                    .map(|(_, p)| p.clone())
            })
            .flatten()
    }

    /// `fetch("https://api.openai.com/…")`, `requests.post(…)`, `axios.post(…)`.
    fn raw_http(&self, call: &Call) -> Option<String> {
        let first = call.args.first()?;
        let last = call.callee.rsplit('.').next().unwrap_or(&call.callee);
        if !self.catalog.calls.http_calls.iter().any(|c| c == last) {
            return None;
        }
        // A path on the project's own server (`fetch("/api/chat/completions")`,
        // a route declared as `app.post("/v1/chat/completions", …)`) is not
        // the provider.
        let text = first.text.trim().trim_start_matches(['`', '"', '\'']);
        if text.starts_with('/') {
            return None;
        }
        self.provider_url(&first.text)
            .or_else(|| self.urls.get(first.text.trim()).cloned())
            .map(|label| format!("HTTP {label}"))
    }

    /// The provider host, or else the provider API path, a URL text names:
    /// `${baseUrl}/chat/completions`, f"{settings.base}/v1/messages",
    /// base + ":generateContent" are provider paths on a configurable host.
    fn provider_url(&self, text: &str) -> Option<String> {
        let calls = &self.catalog.calls;
        let path = calls.api_paths.iter().find(|p| text.contains(p.as_str()));
        let host = calls.hosts.iter().find(|h| text.contains(h.as_str()));
        // `https://api.cohere.com/v1/models?…`: a listing, not a paid call.
        if path.is_none() && calls.free_paths.iter().any(|p| text.contains(p.as_str())) {
            return None;
        }
        host.or(path).cloned()
    }
}

/// Is the class `name` names (`BaseChatModel`, `langchain.llms.BaseLLM`)
/// imported from a library that composes models or from an AI SDK? A
/// project's own `BaseLLM` (defined here, or imported from the project)
/// is not LangChain's.
fn library_type(file: &FileFacts, catalog: &Catalog, name: &str, python: bool) -> bool {
    let head = head_of(name);
    file.import_of(head).is_some_and(|i| {
        in_package(&i.module, &catalog.calls.composer_modules)
            || catalog
                .sdk_for_name(&i.module, i.name.as_deref(), python)
                .is_some()
    })
}

fn head_of(callee: &str) -> &str {
    let head = callee.split('.').next().unwrap_or(callee);
    head.strip_suffix("()").unwrap_or(head)
}

/// Is `module` one of `packages` or inside one (`langchain.chains` in
/// `langchain`; `@langchain/core/runnables` in `@langchain/`)?
fn in_package(module: &str, packages: &[String]) -> bool {
    packages.iter().any(|p| {
        module == p.trim_end_matches('/')
            || module.strip_prefix(p.as_str()).is_some_and(|rest| {
                p.ends_with('/') || rest.starts_with('.') || rest.starts_with('/')
            })
    })
}

/// Is `name` named for making something (`create_agent`, `getModel`,
/// `build_chain`, `make_llm`)?
fn is_builder_name(name: &str, verbs: &[String]) -> bool {
    verbs.iter().any(|verb| {
        name.strip_prefix(verb.as_str()).is_some_and(|rest| {
            rest.starts_with('_') || rest.starts_with(|c: char| c.is_ascii_uppercase())
        })
    })
}

/// A variable, not an attribute (`client`, not `self.client`).
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b == b'_' || b == b'$' || b.is_ascii_alphanumeric())
}

fn starts_upper(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}
