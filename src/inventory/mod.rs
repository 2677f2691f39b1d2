//! The project's AI endpoints: frameworks, endpoints (method, path,
//! handler), AI call sites, which endpoints reach an AI call (and through
//! which chain of project functions), and the rate limits that cover each.
//! What a framework looks like lives in `frameworks/` (one module per
//! family); this module and its siblings are framework-free.
//!
//! Built once per audit from the facts, never from sources; the rate-limit,
//! rate-limit-store, auth and quota checks and `aiguard inventory` read it.

mod ai;
mod auth;
mod counters;
pub mod frameworks;
mod gateways;
mod limits;
mod loops;
mod quota;
mod routes;
mod view;
mod yaml;

pub use view::{AiLoopView, AiView, EndpointView, EvidenceView, InventoryView};

use std::collections::{BTreeSet, HashSet};

pub use ai::AiNames;
pub use auth::{AuthEvidence, AuthKind};
pub use counters::ProjectLimiter;
pub use frameworks::{Family, Framework, FAMILIES};
pub use limits::{Limit, Limiter, Misuse};
pub use loops::{LoopSite, Repeater};
pub use quota::{QuotaEvidence, UsageEvidence};

use crate::catalog::Catalog;
use crate::config::Extras;
use crate::facts::{Chain, FnRef, ProjectFacts};

/// How many project functions deep reachability follows calls. Real
/// backends go deep: onyx's chat route reaches `litellm.completion` ten
/// functions down (route → stream handler → turn → models → model → loop →
/// step → `LitellmLLM.stream` → `_completion` → `_call_litellm`).
const MAX_DEPTH: usize = 12;

/// One HTTP endpoint (or server action).
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub framework: Framework,
    pub method: String,
    /// Full path, prefixes applied (`/api/chat`); the action name for actions.
    pub path: String,
    pub file: usize,
    pub line: u32,
    pub handler: Option<FnRef>,
    /// The app/router variable the route is declared on (`app`, `router`).
    pub object: String,
    /// When `object` is a parameter of a project function that an app or
    /// router is passed to (`chatEndpoints(apiRouter)` in the server file):
    /// that app or router, as (file, variable). Its mounts and middleware
    /// apply to the route.
    pub mounted_on: Option<(usize, String)>,
    /// Middleware arguments between path and handler (JS).
    pub middleware: Vec<String>,
    /// How it reaches an AI call, if it does.
    pub reaches: Option<Chain>,
    pub limits: Vec<Limit>,
    /// Authentication found around the endpoint.
    pub auth: Vec<AuthEvidence>,
    /// For AI endpoints: who picks the cost.
    pub quota: Option<QuotaEvidence>,
}

impl Endpoint {
    pub(crate) fn new(
        framework: Framework,
        method: String,
        path: String,
        file: usize,
        line: u32,
        handler: Option<FnRef>,
        object: &str,
    ) -> Endpoint {
        Endpoint {
            framework,
            method,
            path,
            file,
            line,
            handler,
            object: object.to_string(),
            mounted_on: None,
            middleware: Vec::new(),
            reaches: None,
            limits: Vec::new(),
            auth: Vec::new(),
            quota: None,
        }
    }
}

/// A call to a paid AI API.
#[derive(Clone, Debug)]
pub struct AiCall {
    pub file: usize,
    pub call: usize,
    pub provider: String,
}

#[derive(Default)]
pub struct Inventory {
    /// Signs of per-user usage tracking anywhere in the project.
    pub usage_tracking: Vec<quota::UsageEvidence>,
    pub frameworks: BTreeSet<Framework>,
    pub endpoints: Vec<Endpoint>,
    pub ai_calls: Vec<AiCall>,
    pub limiters: Vec<Limiter>,
    pub misuse: Vec<Misuse>,
    /// AI call sites no endpoint reaches: scripts, workers, or endpoints
    /// aiguard does not see. When there are any, coverage is unknown.
    pub unlinked: Vec<AiCall>,
    /// Project functions that reach an AI call, with the shortest chain.
    pub reaching: std::collections::HashMap<FnRef, Chain>,
    /// Loops and recursive functions that repeat an AI call (`loops`).
    pub loop_sites: Vec<LoopSite>,
}

impl Inventory {
    pub fn build(facts: &ProjectFacts, catalog: &Catalog, extras: &Extras) -> Inventory {
        Inventory::build_on(facts, catalog, extras, 1)
    }

    /// [`Inventory::build`] on up to two threads: what needs no AI call
    /// (usage tracking, mount prefixes, the auth helpers, every call's
    /// project function) is worked out beside the AI calls and endpoints.
    /// The second thread resolves the calls and reads the auth helpers;
    /// usage tracking and the mount prefixes go to whichever thread is
    /// free first (on a large tree the second thread has the longer list).
    pub fn build_on(
        facts: &ProjectFacts,
        catalog: &Catalog,
        extras: &Extras,
        threads: usize,
    ) -> Inventory {
        let usage_tracking = Spare::default();
        let prefixes = Spare::default();
        let spare = || {
            usage_tracking.take_on(|| quota::collect_usage_tracking(facts, &catalog.quota));
            prefixes.take_on(|| routes::collect_prefixes(facts));
        };
        let aside = || {
            facts.resolve_all_calls();
            let auth = auth::AuthContext::new(facts, catalog, &extras.auth);
            spare();
            auth
        };
        let parts = |auth| (usage_tracking.result(), prefixes.result(), auth);
        if threads <= 1 {
            let auth = aside();
            return Inventory::build_with(facts, catalog, extras, false, || parts(auth));
        }
        std::thread::scope(|scope| {
            let handle = std::thread::Builder::new().spawn_scoped(scope, aside);
            match handle {
                Ok(handle) => Inventory::build_with(facts, catalog, extras, true, || {
                    spare();
                    let auth = handle
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p));
                    parts(auth)
                }),
                Err(_) => Inventory::build_with(facts, catalog, extras, false, || parts(aside())),
            }
        })
    }

    fn build_with<'a>(
        facts: &'a ProjectFacts,
        catalog: &'a Catalog,
        extras: &Extras,
        parallel: bool,
        aside: impl FnOnce() -> (
            Vec<quota::UsageEvidence>,
            routes::Prefixes,
            auth::AuthContext<'a>,
        ),
    ) -> Inventory {
        let mut inv = Inventory::default();
        let mut ai_sites: HashSet<(usize, usize)> = HashSet::new();
        // Client objects and client factories made in one file and imported
        // into another (`export const client = new OpenAI()` in lib/ai.ts,
        // `def get_llm(): return ChatOpenAI()`): two rounds, so a factory
        // built on an imported client is seen too.
        type Objects = std::collections::HashMap<String, String>;
        let reexports: Vec<ai::SdkImports> = (0..facts.files().len())
            .map(|fi| ai::sdk_reexports(facts, fi, catalog))
            .collect();
        let ai_names = |fi: usize, imported: &Objects| {
            AiNames::of(
                facts.file(fi),
                catalog,
                &extras.ai_clients,
                imported,
                &reexports[fi],
            )
        };
        let imported_objects = |fi: usize, names: &[AiNames<'_>]| {
            let mut out = Objects::new();
            for import in &facts.file(fi).imports {
                let Some(target) = facts.resolve_import(fi, import) else {
                    continue;
                };
                let name = import
                    .name
                    .as_deref()
                    .filter(|n| *n != "default")
                    .unwrap_or(&import.local);
                if let Some(provider) = names[target].exported(name) {
                    out.insert(import.local.clone(), provider.clone());
                }
            }
            out
        };
        let files = facts.files().len();
        let none = Objects::new();
        let mut names: Vec<AiNames<'_>> = (0..files).map(|fi| ai_names(fi, &none)).collect();
        let mut imported: Vec<Objects> = vec![Objects::new(); files];
        for _ in 0..2 {
            let next: Vec<Objects> = (0..files).map(|fi| imported_objects(fi, &names)).collect();
            for (fi, objects) in next.into_iter().enumerate() {
                // Only a file whose imported clients changed is read again.
                if objects != imported[fi] {
                    names[fi] = ai_names(fi, &objects);
                    imported[fi] = objects;
                }
            }
        }
        let bindings = routes::router_bindings(facts);
        for (fi, file) in facts.files().iter().enumerate() {
            let names = &names[fi];
            for (ci, call) in file.calls.iter().enumerate() {
                if let Some(provider) = names.provider_of(call) {
                    inv.ai_calls.push(AiCall {
                        file: fi,
                        call: ci,
                        provider,
                    });
                    ai_sites.insert((fi, ci));
                }
            }
            routes::endpoints(fi, file, bindings.get(&fi), &mut inv.endpoints);
        }
        for family in FAMILIES {
            family.project_endpoints(facts, &mut inv.endpoints);
        }
        let (usage_tracking, prefixes, auth) = aside();
        for e in &mut inv.endpoints {
            let own = prefixes.get(&(e.file, e.object.clone()));
            let passed = e.mounted_on.as_ref().and_then(|m| prefixes.get(m));
            if let Some(prefix) = own.or(passed) {
                e.path = frameworks::join_paths(prefix, &e.path);
            }
        }
        // Reachability: the handler (or a function it calls) makes an AI call.
        let reaching =
            facts.functions_reaching(|fi, ci, _| ai_sites.contains(&(fi, ci)), MAX_DEPTH);
        // Chains to the main generation call, when an endpoint reaches one
        // besides side calls (an embedding first, then the completion):
        // quota and the inventory judge the call that generates.
        let side =
            |fi: usize, ci: usize| catalog.calls.is_side_call(&facts.file(fi).calls[ci].callee);
        let generation = inv.ai_calls.iter().any(|c| side(c.file, c.call)).then(|| {
            facts.functions_reaching(
                |fi, ci, _| ai_sites.contains(&(fi, ci)) && !side(fi, ci),
                MAX_DEPTH,
            )
        });
        for e in &mut inv.endpoints {
            e.reaches = e.handler.and_then(|h| {
                generation
                    .as_ref()
                    .and_then(|g| g.get(&h))
                    .or_else(|| reaching.get(&h))
                    .cloned()
            });
            inv.frameworks.insert(e.framework);
        }
        let reached =
            facts.functions_reached_from(inv.endpoints.iter().filter_map(|e| e.handler), MAX_DEPTH);
        inv.unlinked = inv
            .ai_calls
            .iter()
            .filter(|c| {
                let call = &facts.file(c.file).calls[c.call];
                !call.in_function.is_some_and(|function| {
                    reached.contains(&FnRef {
                        file: c.file,
                        function,
                    })
                })
            })
            .cloned()
            .collect();
        // The project's limiters: worked out by the thread beside before
        // its loops (the limits read them after their own first steps).
        let project_limiters = std::sync::OnceLock::new();
        let count = || project_limiters.get_or_init(|| counters::collect(facts, catalog));
        // The loops that repeat AI calls, beside the limits and the
        // declared auth (neither reads them).
        let loop_sites = || {
            count();
            loops::collect(
                facts,
                &|f, c| ai_sites.contains(&(f, c)),
                &reaching,
                &catalog.loops.interactive,
            )
        };
        let limits_and_auth = |inv: &mut Inventory| {
            limits::apply(inv, facts, catalog, extras, count);
            for family in FAMILIES {
                let mut mine = frameworks::of_family(*family, &mut inv.endpoints);
                family.declared_auth(&auth, &mut mine);
            }
        };
        inv.loop_sites = match parallel {
            true => std::thread::scope(|scope| {
                let beside = std::thread::Builder::new().spawn_scoped(scope, loop_sites);
                limits_and_auth(&mut inv);
                match beside {
                    Ok(handle) => handle
                        .join()
                        .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                    Err(_) => loop_sites(),
                }
            }),
            false => {
                limits_and_auth(&mut inv);
                loop_sites()
            }
        };
        inv.reaching = reaching;
        // Each endpoint's auth in its handler, quota and fan-out: on two
        // threads, half of the endpoints each (each writes its own).
        let loop_sites = &inv.loop_sites;
        let finish = |endpoints: &mut [Endpoint]| {
            for e in endpoints {
                let mut in_handler = Vec::new();
                auth.in_handler(e, &mut in_handler);
                e.auth.extend(in_handler);
                e.quota = quota::evidence(e, facts, catalog);
                let fan_out = loops::fan_out(e, loop_sites, facts, &catalog.quota);
                if let Some(q) = &mut e.quota {
                    q.fan_out = fan_out;
                }
            }
        };
        let endpoints = &mut inv.endpoints;
        let mid = endpoints.len() / 2;
        let beside = parallel && mid > 0 && {
            let (first, second) = endpoints.split_at_mut(mid);
            std::thread::scope(|scope| {
                let handle = std::thread::Builder::new().spawn_scoped(scope, || finish(second));
                finish(first);
                match handle {
                    Ok(handle) => handle
                        .join()
                        .map(|_| true)
                        .unwrap_or_else(|p| std::panic::resume_unwind(p)),
                    Err(_) => false,
                }
            })
        };
        match (parallel && mid > 0, beside) {
            (false, _) => finish(endpoints),
            // No second thread: the second half here.
            (true, false) => finish(&mut endpoints[mid..]),
            (true, true) => {}
        }
        // An AI call is no usage tracking, whatever its arguments say
        // (`create({ max_tokens, messages: [{ content: userInput }] })`).
        let mut usage_tracking = usage_tracking;
        usage_tracking.retain(|u| {
            !inv.ai_calls.iter().any(|a| {
                let call = &facts.file(a.file).calls[a.call];
                call.line == u.line && call.callee == u.detail && facts.file(a.file).path == u.path
            })
        });
        inv.usage_tracking = usage_tracking;
        inv.endpoints.sort_by(|a, b| {
            (facts.file(a.file).path.as_str(), a.line)
                .cmp(&(facts.file(b.file).path.as_str(), b.line))
        });
        inv
    }

    pub fn ai_endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.iter().filter(|e| e.reaches.is_some())
    }
}

/// A part of the inventory that either of two threads works out: the
/// first to ask takes it, and its result is read once both are done.
struct Spare<T> {
    taken: std::sync::atomic::AtomicBool,
    result: std::sync::Mutex<Option<T>>,
}

impl<T> Default for Spare<T> {
    fn default() -> Self {
        Spare {
            taken: std::sync::atomic::AtomicBool::new(false),
            result: std::sync::Mutex::new(None),
        }
    }
}

impl<T: Default> Spare<T> {
    /// Work it out with `make`, unless a thread took it already.
    fn take_on(&self, make: impl FnOnce() -> T) {
        if !self.taken.swap(true, std::sync::atomic::Ordering::AcqRel) {
            let value = make();
            *self.result.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
        }
    }

    /// The result, once every thread that may take it has finished.
    fn result(&self) -> T {
        self.result
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default()
    }
}
