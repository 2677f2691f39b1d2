//! The project pass: all files' facts, module resolution across files, and
//! reachability over the call graph ("which project functions reach a call
//! that matches X, and through which chain").

use std::collections::{HashMap, VecDeque};
use std::sync::OnceLock;

use super::{Call, FileFacts, Import};
use crate::graph::ModuleIndex;

/// A function of the project: file index and function index in that file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FnRef {
    pub file: usize,
    pub function: usize,
}

/// How a function reaches a target call: the functions on the way (the
/// first is the one asked about), and the target call in the last of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub functions: Vec<FnRef>,
    pub call: (usize, usize),
}

/// How many re-exporting files (`__init__.py`, `index.ts`) a name is
/// followed through.
const REEXPORT_DEPTH: usize = 3;

#[derive(Default)]
pub struct ProjectFacts {
    files: Vec<FileFacts>,
    by_path: HashMap<String, usize>,
    /// Every source file of the project, parsed or not (imports may lead to
    /// a file that was not parsed; see [`ProjectFacts::missing_imports`]).
    modules: ModuleIndex,
    /// Per file, [`FileFacts::function_named`] as two maps (full name, then
    /// last dotted segment → first such function): resolving every call by
    /// a scan over every function was quadratic on a minified bundle.
    function_names: Vec<FunctionNames>,
    /// Every call's project function ([`ProjectFacts::resolve_call`]),
    /// worked out once: reachability asks it for every call several times.
    /// Packed as [`pack`] writes them (a third of `Option<FnRef>`'s size).
    resolved: OnceLock<Vec<Box<[u64]>>>,
    /// Per file, the project file of each of its imports
    /// ([`ProjectFacts::resolve_import`]), worked out on first use: call
    /// resolution asks it once per call, and module resolution builds
    /// candidate paths.
    import_targets: Vec<OnceLock<Box<[Option<usize>]>>>,
    /// Methods of project classes → the methods of their project
    /// subclasses that override them ([`ProjectFacts::overrides`]).
    overrides: OnceLock<HashMap<FnRef, Vec<FnRef>>>,
    /// Configuration files that route or limit requests outside the source
    /// (`[configs]` of rules/facts.toml), whole, by path.
    configs: Vec<ConfigFile>,
}

/// A configuration file kept whole for the framework modules: a function
/// manifest (`serverless.yml`, `wrangler.toml`), a proxy or gateway
/// configuration (`nginx.conf`, a compose file's labels).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigFile {
    /// Relative to the audited root, `/`-separated.
    pub path: String,
    /// Decoded as UTF-8, invalid bytes replaced.
    pub text: String,
}

impl ConfigFile {
    pub fn new(path: &str, text: &str) -> ConfigFile {
        ConfigFile {
            path: path.to_string(),
            text: text.to_string(),
        }
    }
}

/// A file's functions sorted by full name and by last dotted segment (as
/// indices, stable: the first of equal names comes first), so lookups
/// answer as [`FileFacts::function_named`] does without a copy of every
/// name.
#[derive(Default)]
struct FunctionNames {
    full: Box<[u32]>,
    last: Box<[u32]>,
}

fn last_segment(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

impl FunctionNames {
    fn new(facts: &FileFacts) -> FunctionNames {
        let functions = &facts.functions;
        let mut full: Vec<u32> = (0..functions.len() as u32).collect();
        full.sort_by(|&a, &b| functions[a as usize].name.cmp(&functions[b as usize].name));
        // Stable sorts from index order: among equal keys, the lowest index first.
        let mut by_index: Vec<u32> = (0..functions.len() as u32).collect();
        by_index.sort_by(|&a, &b| {
            let (x, y) = (&functions[a as usize].name, &functions[b as usize].name);
            last_segment(x).cmp(last_segment(y))
        });
        FunctionNames {
            full: full.into_boxed_slice(),
            last: by_index.into_boxed_slice(),
        }
    }

    /// The first function (by index) whose full name is `name`.
    fn full(&self, facts: &FileFacts, name: &str) -> Option<usize> {
        let f = &facts.functions;
        let at = self
            .full
            .partition_point(|&i| f[i as usize].name.as_str() < name);
        self.full
            .get(at)
            .filter(|&&i| f[i as usize].name == name)
            .map(|&i| i as usize)
    }

    /// The first function (by index) whose last dotted segment is `name`.
    fn last(&self, facts: &FileFacts, name: &str) -> Option<usize> {
        let f = &facts.functions;
        let at = self
            .last
            .partition_point(|&i| last_segment(&f[i as usize].name) < name);
        self.last
            .get(at)
            .filter(|&&i| last_segment(&f[i as usize].name) == name)
            .map(|&i| i as usize)
    }

    /// Same answer as [`FileFacts::function_named`].
    fn find(&self, facts: &FileFacts, name: &str) -> Option<usize> {
        self.full(facts, name).or_else(|| self.last(facts, name))
    }
}

impl ProjectFacts {
    /// `all_paths`: every file of the project, for import resolution.
    pub fn new(files: Vec<FileFacts>, all_paths: &[String]) -> ProjectFacts {
        Self::with_index(
            files,
            ModuleIndex::new(all_paths.iter().map(String::as_str)),
        )
    }

    /// [`ProjectFacts::new`] with the module index of every file of the
    /// project already built (the slice's).
    pub fn with_index(mut files: Vec<FileFacts>, mut modules: ModuleIndex) -> ProjectFacts {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let by_path = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        for f in &files {
            modules.add(&f.path);
        }
        let function_names = files.iter().map(FunctionNames::new).collect();
        let import_targets = files.iter().map(|_| OnceLock::new()).collect();
        ProjectFacts {
            files,
            by_path,
            modules,
            function_names,
            resolved: OnceLock::new(),
            import_targets,
            overrides: OnceLock::new(),
            configs: Vec::new(),
        }
    }

    /// The project's configuration files, sorted by path.
    pub fn with_configs(mut self, mut configs: Vec<ConfigFile>) -> ProjectFacts {
        configs.sort_by(|a, b| a.path.cmp(&b.path));
        self.configs = configs;
        self
    }

    /// The configuration files of `[configs]` (rules/facts.toml), by path.
    pub fn configs(&self) -> &[ConfigFile] {
        &self.configs
    }

    /// Project files that parsed files import but that have no facts (the
    /// walk's parse gate skipped them): the project pass parses these too.
    pub fn missing_imports(&self) -> Vec<String> {
        let mut missing: Vec<String> = self
            .files
            .iter()
            .enumerate()
            .flat_map(|(i, f)| {
                f.imports
                    .iter()
                    .filter_map(move |imp| self.resolve_import_path(i, imp))
            })
            .filter(|p| !self.by_path.contains_key(p))
            .collect();
        missing.sort();
        missing.dedup();
        missing
    }

    /// Rebuild with more files' facts.
    pub fn with_more(self, more: Vec<FileFacts>) -> ProjectFacts {
        let mut files = self.files;
        files.extend(more);
        let mut facts = ProjectFacts::new(files, &[]);
        facts.modules = self.modules;
        facts
    }

    pub fn files(&self) -> &[FileFacts] {
        &self.files
    }

    pub fn file(&self, index: usize) -> &FileFacts {
        &self.files[index]
    }

    pub fn index_of(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    pub fn call(&self, (file, call): (usize, usize)) -> &Call {
        &self.files[file].calls[call]
    }

    pub fn function(&self, f: FnRef) -> &super::Function {
        &self.files[f.file].functions[f.function]
    }

    /// The project file (with facts) an import refers to, if it is one of ours.
    pub fn resolve_import(&self, from: usize, import: &Import) -> Option<usize> {
        let imports = &self.files[from].imports;
        // One of the file's own imports (every caller's case): from the table.
        let at = imports
            .iter()
            .position(|i| std::ptr::eq(i, import))
            .and_then(|i| Some((i, self.import_targets.get(from)?)));
        match at {
            Some((i, slot)) => slot.get_or_init(|| {
                imports
                    .iter()
                    .map(|i| self.resolve_import_now(from, i))
                    .collect()
            })[i],
            None => self.resolve_import_now(from, import),
        }
    }

    fn resolve_import_now(&self, from: usize, import: &Import) -> Option<usize> {
        self.index_of(&self.resolve_import_path(from, import)?)
    }

    /// The path of the project file an import refers to, parsed or not.
    pub fn resolve_import_path(&self, from: usize, import: &Import) -> Option<String> {
        let file = &self.files[from];
        self.modules.resolve(
            file.lang?,
            &file.path,
            &import.module,
            import.name.as_deref(),
        )
    }

    /// The project function a call in `file` goes to, if any: same-file
    /// definitions first, then names imported from project files
    /// (`helper()`, `llm.complete()`, `svc.helper()`).
    pub fn resolve_call(&self, file: usize, call: &Call) -> Option<FnRef> {
        let facts = &self.files[file];
        let callee = call.callee.as_str();
        let mut segments = callee.split('.');
        let head = segments.next()?;
        let last = callee.rsplit('.').next()?;
        if let Some(import) = facts.import_of(head) {
            let target = self.resolve_import(file, import)?;
            let wanted = match (&import.name, callee == head) {
                // `from m import helper; helper()` / `import { helper }`
                (Some(name), true) if name != "default" => name.as_str(),
                // `import * as svc; svc.helper()`, `from pkg import mod; mod.helper()`
                _ => last,
            };
            return self.function_in(target, wanted, REEXPORT_DEPTH);
        }
        // `self.helper()` is a method of this file; `this.chat.ask()` is
        // first a method of what `this.chat` holds (an injected service).
        let own = head == "self" || head == "this";
        let attribute = own && callee.matches('.').count() > 1;
        if callee == head || (own && !attribute) {
            if let Some(function) = self.function_names[file].find(facts, last) {
                return Some(FnRef { file, function });
            }
        }
        if callee == head {
            if let Some(found) = self.star_imported(file, head) {
                return Some(found);
            }
        }
        if attribute {
            if let Some(method) = self.resolve_method(file, call) {
                return Some(method);
            }
            return self.function_names[file]
                .find(facts, last)
                .map(|function| FnRef { file, function });
        }
        self.resolve_method(file, call)
    }

    /// `name` brought by a `from m import *` of file `file` (the last such
    /// import that defines it wins, as in Python).
    pub fn star_imported(&self, file: usize, name: &str) -> Option<FnRef> {
        self.files[file]
            .imports
            .iter()
            .rev()
            .filter(|i| i.local == "*")
            .find_map(|i| {
                let target = self.resolve_import(file, i)?;
                self.function_in(target, name, REEXPORT_DEPTH)
            })
    }

    /// Every call's project function ([`ProjectFacts::resolve_call`]),
    /// worked out now if it was not yet (a second thread can do it while
    /// the first does other work).
    pub fn resolve_all_calls(&self) -> &[Box<[u64]>] {
        self.resolved.get_or_init(|| {
            self.files
                .iter()
                .enumerate()
                .map(|(fi, f)| {
                    f.calls
                        .iter()
                        .map(|c| pack(self.resolve_call(fi, c)))
                        .collect()
                })
                .collect()
        })
    }

    /// [`ProjectFacts::resolve_call`] of call `call` of file `file`, from
    /// the table made on first use.
    pub fn resolved_call(&self, file: usize, call: usize) -> Option<FnRef> {
        let table = self.resolve_all_calls();
        match *table.get(file)?.get(call)? {
            NOT_PACKED => self.resolve_call(file, &self.files[file].calls[call]),
            packed => unpack(packed),
        }
    }

    /// `svc.ask()`, `self.helper.run()`, `LLMService().ask()`: a method of a
    /// project class, the receiver's class read from a parameter's
    /// annotation (`svc: LLMService`, FastAPI `Depends` included), an
    /// assignment from a constructor (`svc = LLMService()`,
    /// `self.helper = Helper()`, `new Helper()`), or the call itself.
    fn resolve_method(&self, file: usize, call: &Call) -> Option<FnRef> {
        let facts = &self.files[file];
        let (receiver, method) = call.callee.rsplit_once('.')?;
        if method.is_empty() || receiver.is_empty() {
            return None;
        }
        let class = match receiver.strip_suffix("()") {
            Some(ctor) if is_class_name(ctor) => ctor.to_string(),
            Some(_) => return None,
            None => match self.class_of(file, call.in_function, receiver) {
                Some(class) => class,
                None => return self.factory_method(file, call.in_function, receiver, method),
            },
        };
        let wanted = format!("{class}.{method}");
        if let Some(function) = self.function_names[file].full(facts, &wanted) {
            return Some(FnRef { file, function });
        }
        let import = facts.import_of(&class)?;
        let target = self.resolve_import(file, import)?;
        let imported = import
            .name
            .as_deref()
            .filter(|n| *n != "default")
            .unwrap_or(&class);
        self.function_in(target, &format!("{imported}.{method}"), REEXPORT_DEPTH)
    }

    /// A method of what a project factory returns: `llm =
    /// getLLMProvider(…)` (a plain function call) where the factory makes
    /// instances (`return new OpenAiLLM(…)`, one per provider): the first
    /// of those classes that has the method. Dynamic dispatch read as "any
    /// of them", which is what reachability needs.
    fn factory_method(
        &self,
        file: usize,
        in_function: Option<usize>,
        receiver: &str,
        method: &str,
    ) -> Option<FnRef> {
        let facts = &self.files[file];
        let assignment = facts
            .assignments
            .iter()
            .filter(|a| a.target == receiver)
            .filter(|a| a.in_function.is_none() || a.in_function == in_function)
            .find(|a| a.value_callee.as_deref().is_some_and(|c| !c.contains('.')))?;
        let callee = assignment.value_callee.as_deref()?;
        let call = facts
            .calls
            .iter()
            .find(|c| c.line == assignment.line && c.callee == callee)?;
        let factory = self.resolve_call(file, call)?;
        self.instance_method(factory, method, FACTORY_DEPTH)
    }

    /// The method `method` of a class the factory `factory` instantiates
    /// (`return new OpenAiLLM(…)`), or of one a factory it calls does
    /// (`return { connector: getLLMProvider(…) }`), `depth` factories deep.
    fn instance_method(&self, factory: FnRef, method: &str, depth: usize) -> Option<FnRef> {
        let home = &self.files[factory.file];
        let inside = |f: Option<usize>| {
            let mut scope = f;
            while let Some(i) = scope {
                if i == factory.function {
                    return true;
                }
                scope = home.functions[i].parent;
            }
            false
        };
        // In source order, the first instance with the method: a class it
        // instantiates, or what a factory it calls returns (`return
        // { connector: getLLMProvider(…) }` before a router made below).
        home.calls
            .iter()
            .filter(|c| inside(c.in_function) && !c.callee.contains('.'))
            .take(64)
            .find_map(|c| {
                if !is_class_name(&c.callee) {
                    return match depth > 1 {
                        true => self
                            .resolve_call(factory.file, c)
                            .filter(|f| *f != factory)
                            .and_then(|f| self.instance_method(f, method, depth - 1)),
                        false => None,
                    };
                }
                let wanted = format!("{}.{method}", c.callee);
                if let Some(function) = self.function_names[factory.file].full(home, &wanted) {
                    return Some(FnRef {
                        file: factory.file,
                        function,
                    });
                }
                let import = home.import_of(&c.callee)?;
                let target = self.resolve_import(factory.file, import)?;
                let imported = import
                    .name
                    .as_deref()
                    .filter(|n| *n != "default")
                    .unwrap_or(&c.callee);
                self.function_in(target, &format!("{imported}.{method}"), REEXPORT_DEPTH)
            })
    }

    /// The file that defines `name` (a variable or a function) as `file`
    /// exports it: `file` itself, or the file it re-exports it from.
    pub fn definition_file(&self, file: usize, name: &str) -> usize {
        self.definition_in(file, name, REEXPORT_DEPTH)
            .unwrap_or(file)
    }

    fn definition_in(&self, file: usize, name: &str, depth: usize) -> Option<usize> {
        let facts = &self.files[file];
        let defines = facts.assignments.iter().any(|a| a.target == name)
            || self.function_names[file].full(facts, name).is_some();
        if defines {
            return Some(file);
        }
        if depth == 0 {
            return None;
        }
        if let Some(import) = facts.import_of(name) {
            let target = self.resolve_import(file, import)?;
            let original = import
                .name
                .as_deref()
                .filter(|n| *n != "default")
                .unwrap_or(name);
            return self.definition_in(target, original, depth - 1);
        }
        facts
            .imports
            .iter()
            .filter(|i| i.local.is_empty() || i.local == "*")
            .filter_map(|i| self.resolve_import(file, i))
            .find_map(|target| self.definition_in(target, name, depth - 1))
    }

    /// The function `name` (`helper`, `Class.method`) of `file`, or of the
    /// file it re-exports it from (`from .llm import LLMService` in an
    /// `__init__.py`, `export { ask } from "./ai"`, `export * from "./ai"`).
    fn function_in(&self, file: usize, name: &str, depth: usize) -> Option<FnRef> {
        let names = &self.function_names[file];
        let facts = &self.files[file];
        let found = match name.contains('.') {
            true => names.full(facts, name),
            false => names.find(facts, name),
        };
        if let Some(function) = found {
            return Some(FnRef { file, function });
        }
        if depth == 0 {
            return None;
        }
        let head = name.split('.').next().unwrap_or(name);
        if let Some(import) = facts.import_of(head) {
            let target = self.resolve_import(file, import)?;
            let renamed = match import.name.as_deref() {
                Some(n) if n != "default" && n != head => name.replacen(head, n, 1),
                _ => name.to_string(),
            };
            return self.function_in(target, &renamed, depth - 1);
        }
        // `export * from "./ai"`: try each star re-export.
        facts
            .imports
            .iter()
            .filter(|i| i.local.is_empty() || i.local == "*")
            .filter_map(|i| self.resolve_import(file, i))
            .find_map(|target| self.function_in(target, name, depth - 1))
    }

    /// The project class a receiver holds, if the file says.
    fn class_of(&self, file: usize, in_function: Option<usize>, receiver: &str) -> Option<String> {
        let facts = &self.files[file];
        if let Some(f) = in_function {
            let mut scope = Some(f);
            while let Some(i) = scope {
                let function = &facts.functions[i];
                for p in &function.params {
                    if let Some(class) = annotated_class(p, receiver) {
                        return Some(class);
                    }
                }
                scope = function.parent;
            }
        }
        facts
            .assignments
            .iter()
            .filter(|a| a.target == receiver)
            .find_map(|a| {
                let Some(callee) = a.value_callee.as_deref() else {
                    // `self.svc = svc` / `this.chat = chat` (a constructor
                    // parameter property): the parameter's annotation.
                    let function = &facts.functions[a.in_function?];
                    let name = a.text.trim();
                    return function
                        .params
                        .iter()
                        .find_map(|p| annotated_class(p, name));
                };
                let last = callee.rsplit('.').next().unwrap_or(callee);
                is_class_name(last).then(|| last.to_string())
            })
    }

    /// The methods of project subclasses that override `method` (a method
    /// of a project class): a call resolved to an abstract `LLM.stream` (a
    /// parameter typed `llm: LLM`) runs one of them (`LitellmLLM.stream`).
    /// Dynamic dispatch read as "any of them", as reachability needs. One
    /// level of subclassing per step; a subclass of a subclass overrides
    /// its own base.
    pub fn overrides(&self, method: FnRef) -> &[FnRef] {
        let map = self.overrides.get_or_init(|| {
            let mut map: HashMap<FnRef, Vec<FnRef>> = HashMap::new();
            for (fi, facts) in self.files.iter().enumerate() {
                for class in &facts.classes {
                    let prefix = format!("{}.", class.name);
                    let methods: Vec<(usize, &str)> = facts
                        .functions
                        .iter()
                        .enumerate()
                        .filter_map(|(i, f)| Some((i, f.name.strip_prefix(&prefix)?)))
                        .filter(|(_, m)| !m.contains('.'))
                        .collect();
                    if methods.is_empty() {
                        continue;
                    }
                    for base in &class.bases {
                        let base = base.rsplit('.').next().unwrap_or(base);
                        if !is_class_name(base) || base == class.name {
                            continue;
                        }
                        // The base's file (through re-exports), and its name there.
                        let (target, original) = match facts.import_of(base) {
                            Some(i) => match self.resolve_import(fi, i) {
                                Some(t) => {
                                    let name = i.name.as_deref().filter(|n| *n != "default");
                                    (t, name.unwrap_or(base))
                                }
                                None => continue,
                            },
                            None => (fi, base),
                        };
                        for &(i, m) in &methods {
                            let wanted = format!("{original}.{m}");
                            let Some(overridden) =
                                self.function_in(target, &wanted, REEXPORT_DEPTH)
                            else {
                                continue;
                            };
                            map.entry(overridden).or_default().push(FnRef {
                                file: fi,
                                function: i,
                            });
                        }
                    }
                }
            }
            map
        });
        map.get(&method).map_or(&[], Vec::as_slice)
    }

    /// Every project function that makes a call matching `is_target`, or
    /// calls (transitively, at most `max_depth` hops, across files) a
    /// function that does, with the shortest chain for each.
    pub fn functions_reaching(
        &self,
        is_target: impl Fn(usize, usize, &Call) -> bool,
        max_depth: usize,
    ) -> HashMap<FnRef, Chain> {
        let mut reached: HashMap<FnRef, Chain> = HashMap::new();
        let mut callers: HashMap<FnRef, Vec<FnRef>> = HashMap::new();
        let mut queue = VecDeque::new();
        for (fi, facts) in self.files.iter().enumerate() {
            for (ci, call) in facts.calls.iter().enumerate() {
                let Some(function) = call.in_function else {
                    continue;
                };
                let here = FnRef { file: fi, function };
                if is_target(fi, ci, call) {
                    if let std::collections::hash_map::Entry::Vacant(e) = reached.entry(here) {
                        e.insert(Chain {
                            functions: vec![here],
                            call: (fi, ci),
                        });
                        queue.push_back((here, 0));
                    }
                } else if let Some(callee) = self.resolved_call(fi, ci) {
                    callers.entry(callee).or_default().push(here);
                    for &o in self.overrides(callee) {
                        callers.entry(o).or_default().push(here);
                    }
                }
            }
        }
        // Nested functions (a closure inside a handler) count for their
        // parents at the same depth: the closure's call is the parent's own
        // (`execute: async () => streamText(…)` inside a route handler comes
        // before a helper the handler calls). A 0-1 breadth-first walk: a
        // function keeps the chain of its smallest depth.
        let mut depth_of: HashMap<FnRef, usize> = reached.keys().map(|&f| (f, 0)).collect();
        while let Some((f, depth)) = queue.pop_front() {
            if depth_of.get(&f).is_some_and(|&d| d < depth) {
                continue;
            }
            let chain = reached[&f].clone();
            let parent = self.files[f.file].functions[f.function]
                .parent
                .map(|function| {
                    (
                        FnRef {
                            file: f.file,
                            function,
                        },
                        depth,
                    )
                });
            let calls = (depth < max_depth)
                .then(|| callers.get(&f))
                .flatten()
                .into_iter()
                .flatten()
                .map(|&caller| (caller, depth + 1));
            for (caller, d) in parent.into_iter().chain(calls) {
                if depth_of.get(&caller).is_some_and(|&known| known <= d) {
                    continue;
                }
                let mut functions = vec![caller];
                functions.extend(&chain.functions);
                reached.insert(
                    caller,
                    Chain {
                        functions,
                        call: chain.call,
                    },
                );
                depth_of.insert(caller, d);
                match d == depth {
                    true => queue.push_front((caller, d)),
                    false => queue.push_back((caller, d)),
                }
            }
        }
        reached
    }

    /// Every project function that `starts` reach by calls, at most
    /// `max_depth` hops (the starts included); functions nested in a
    /// reached function are reached too.
    pub fn functions_reached_from(
        &self,
        starts: impl IntoIterator<Item = FnRef>,
        max_depth: usize,
    ) -> std::collections::HashSet<FnRef> {
        let mut children: HashMap<FnRef, Vec<FnRef>> = HashMap::new();
        for (fi, facts) in self.files.iter().enumerate() {
            for (i, f) in facts.functions.iter().enumerate() {
                if let Some(parent) = f.parent {
                    children
                        .entry(FnRef {
                            file: fi,
                            function: parent,
                        })
                        .or_default()
                        .push(FnRef {
                            file: fi,
                            function: i,
                        });
                }
            }
        }
        let mut calls_in: HashMap<FnRef, Vec<usize>> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        let mut queue: VecDeque<(FnRef, usize)> = VecDeque::new();
        for s in starts {
            if seen.insert(s) {
                queue.push_back((s, 0));
            }
        }
        while let Some((f, depth)) = queue.pop_front() {
            for &child in children.get(&f).into_iter().flatten() {
                if seen.insert(child) {
                    queue.push_back((child, depth));
                }
            }
            if depth >= max_depth {
                continue;
            }
            let facts = &self.files[f.file];
            let list = calls_in.entry(f).or_insert_with(|| {
                facts
                    .calls
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.in_function == Some(f.function))
                    .map(|(i, _)| i)
                    .collect()
            });
            for ci in list.clone() {
                if let Some(callee) = self.resolved_call(f.file, ci) {
                    let overriding = self.overrides(callee).iter().copied();
                    for target in std::iter::once(callee).chain(overriding) {
                        if seen.insert(target) {
                            queue.push_back((target, depth + 1));
                        }
                    }
                }
            }
        }
        seen
    }
}

/// A resolved call in the table: no function.
const NO_FUNCTION: u64 = u64::MAX;
/// A function whose indices do not fit in 32 bits: resolved again when asked.
const NOT_PACKED: u64 = u64::MAX - 1;

fn pack(f: Option<FnRef>) -> u64 {
    match f {
        None => NO_FUNCTION,
        Some(FnRef { file, function }) => match (u32::try_from(file), u32::try_from(function)) {
            (Ok(file), Ok(function)) if file < u32::MAX - 1 => {
                (u64::from(file) << 32) | u64::from(function)
            }
            _ => NOT_PACKED,
        },
    }
}

fn unpack(packed: u64) -> Option<FnRef> {
    (packed != NO_FUNCTION).then_some(FnRef {
        file: (packed >> 32) as usize,
        function: (packed & u64::from(u32::MAX)) as usize,
    })
}

/// How many factories deep [`ProjectFacts::instance_method`] looks: a
/// helper that resolves the connector, which calls the provider factory.
const FACTORY_DEPTH: usize = 3;

fn is_class_name(name: &str) -> bool {
    name.chars().next().is_some_and(char::is_uppercase)
        && name.chars().all(|c| c == '_' || c.is_alphanumeric())
}

/// `svc: LLMService = Depends(get_service)` → `LLMService` when the
/// parameter is `receiver`; `Optional[X]`, `X | None`, `Annotated[X, …]`
/// unwrapped to `X`.
pub fn annotated_class(param: &str, receiver: &str) -> Option<String> {
    let (name, annotation) = param.split_once(':')?;
    // TypeScript modifiers and parameter decorators (`@Inject(X) private
    // readonly x: X`): the name is the last word.
    let name = name.split_whitespace().last()?;
    if name.trim_end_matches('?') != receiver {
        return None;
    }
    let annotation = annotation.split('=').next()?.trim();
    let inner = ["Optional[", "Annotated[", "Depends["]
        .iter()
        .find_map(|w| annotation.strip_prefix(w))
        .unwrap_or(annotation);
    let class: String = inner
        .chars()
        .take_while(|c| *c == '_' || c.is_alphanumeric() || *c == '.')
        .collect();
    let class = class.rsplit('.').next().unwrap_or(&class).to_string();
    is_class_name(&class).then_some(class)
}
