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

use crate::catalog::Catalog;
use crate::facts::{Call, FileFacts};

/// The provider of an AI call, if `call` is one.
pub struct AiNames<'c> {
    catalog: &'c Catalog,
    /// Local name → (module, imported name, provider).
    imports: HashMap<String, (String, Option<String>, String)>,
    /// Client objects: `client`, `self.client`, `model` → provider.
    objects: HashMap<String, String>,
    /// Project wrappers named in the config (`extra-ai-clients`).
    extra: Vec<String>,
    /// Variables holding a provider URL (`url = f"{base}/chat/completions"`)
    /// → the host or API path it names.
    urls: HashMap<String, String>,
}

impl<'c> AiNames<'c> {
    /// The AI names of a file; `imported` are the client objects and client
    /// factories it imports from project files (local name → provider).
    pub fn of(
        file: &FileFacts,
        catalog: &'c Catalog,
        extra: &[String],
        imported: &HashMap<String, String>,
    ) -> AiNames<'c> {
        let python = file.lang.is_some_and(|l| l.is_python());
        let mut imports = HashMap::new();
        for i in &file.imports {
            if let Some(sdk) = catalog.sdk_for_import(&i.module, python) {
                imports.insert(
                    i.local.clone(),
                    (i.module.clone(), i.name.clone(), sdk.provider.clone()),
                );
            }
        }
        let mut names = AiNames {
            catalog,
            imports,
            objects: HashMap::new(),
            extra: extra.to_vec(),
            urls: HashMap::new(),
        };
        for a in &file.assignments {
            if let Some(label) = names.provider_url(&a.text) {
                names.urls.insert(a.target.clone(), label);
            }
        }
        names
            .objects
            .extend(imported.iter().map(|(k, v)| (k.clone(), v.clone())));
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
                    .or_else(|| names.objects.get(b.as_str()).cloned())
                    .or_else(|| catalog.calls.model_types.get(last).cloned())
            });
            if let Some(provider) = provider {
                names.objects.insert(class.name.clone(), provider);
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
            if let Some(provider) = names.provider_of_head(&c.callee) {
                let function = &file.functions[f];
                if function.parent.is_none() {
                    let name = function.name.rsplit('.').next().unwrap_or(&function.name);
                    names.objects.insert(name.to_string(), provider);
                }
            }
        }
        // Parameters typed with an SDK class: `client: OpenAI`,
        // `llm: ChatOpenAI`, `private openai: OpenAI`.
        for f in &file.functions {
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
                let provider = names
                    .imports
                    .get(&class)
                    .map(|(_, _, p)| p.clone())
                    .or_else(|| catalog.calls.model_types.get(&class).cloned());
                if let Some(provider) = provider {
                    names.objects.insert(name.to_string(), provider);
                }
            }
        }
        // Two rounds: `llm = ChatOpenAI()` then `chain = llm.with_retry()`.
        for _ in 0..2 {
            for a in &file.assignments {
                // `self.client = client` (a typed parameter or another
                // client), and LangChain runnables: `chain = prompt | llm`.
                if a.value_callee.is_none() {
                    let provider = a
                        .text
                        .split('|')
                        .find_map(|part| names.objects.get(part.trim()).cloned());
                    if let Some(provider) = provider {
                        names.objects.insert(a.target.clone(), provider);
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
                let from_client = names.objects.contains_key(head_of(callee))
                    && catalog.calls.model_builders.iter().any(|m| m == last);
                // A call to a client factory (`llm = get_llm()`).
                let made = !callee.contains('.') && names.objects.contains_key(callee.as_str());
                if starts_upper(last) || factory || from_client || made {
                    if let Some(provider) = names.provider_of_head(callee) {
                        names.objects.insert(a.target.clone(), provider);
                        continue;
                    }
                }
                // A model composed into a chain, an agent or an engine.
                if let Some(provider) = names.composed(file, callee, &a.text) {
                    names.objects.insert(a.target.clone(), provider);
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
    fn composed(&self, file: &FileFacts, callee: &str, text: &str) -> Option<String> {
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
            self.objects
                .get(w)
                .cloned()
                .or_else(|| self.imports.get(head_of(w)).map(|(_, _, p)| p.clone()))
        })
    }

    /// Client objects of this file: variable → provider.
    pub fn objects(&self) -> &HashMap<String, String> {
        &self.objects
    }

    /// A client object imported from another project file.
    pub fn add_object(&mut self, local: &str, provider: &str) {
        self.objects.insert(local.to_string(), provider.to_string());
    }

    pub fn is_empty(&self) -> bool {
        self.imports.is_empty() && self.extra.is_empty()
    }

    fn provider_of_head(&self, callee: &str) -> Option<String> {
        let head = head_of(callee);
        if let Some((_, _, p)) = self.imports.get(head) {
            return Some(p.clone());
        }
        // `self.client.chat…`: the two-segment head.
        let two: String = callee.split('.').take(2).collect::<Vec<_>>().join(".");
        self.objects
            .get(head)
            .or_else(|| self.objects.get(&two))
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
            return self.provider_of_head(callee);
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

fn starts_upper(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}
