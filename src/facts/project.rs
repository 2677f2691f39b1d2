//! The project pass: all files' facts, module resolution across files, and
//! reachability over the call graph ("which project functions reach a call
//! that matches X, and through which chain").

use std::collections::{HashMap, VecDeque};

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
    resolved: std::sync::OnceLock<Vec<Vec<Option<FnRef>>>>,
}

#[derive(Default)]
struct FunctionNames {
    full: HashMap<String, usize>,
    last: HashMap<String, usize>,
}

impl FunctionNames {
    fn new(facts: &FileFacts) -> FunctionNames {
        let mut names = FunctionNames::default();
        for (i, f) in facts.functions.iter().enumerate() {
            names.full.entry(f.name.clone()).or_insert(i);
            let last = f.name.rsplit('.').next().unwrap_or(&f.name);
            names.last.entry(last.to_string()).or_insert(i);
        }
        names
    }

    /// Same answer as [`FileFacts::function_named`].
    fn find(&self, name: &str) -> Option<usize> {
        self.full.get(name).or_else(|| self.last.get(name)).copied()
    }
}

impl ProjectFacts {
    /// `all_paths`: every file of the project, for import resolution.
    pub fn new(mut files: Vec<FileFacts>, all_paths: &[String]) -> ProjectFacts {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let by_path = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.path.clone(), i))
            .collect();
        let mut modules = ModuleIndex::new(all_paths.iter().map(String::as_str));
        for f in &files {
            modules.add(&f.path);
        }
        let function_names = files.iter().map(FunctionNames::new).collect();
        ProjectFacts {
            files,
            by_path,
            modules,
            function_names,
            resolved: std::sync::OnceLock::new(),
        }
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
        if callee == head || head == "self" || head == "this" {
            if let Some(function) = self.function_names[file].find(last) {
                return Some(FnRef { file, function });
            }
        }
        self.resolve_method(file, call)
    }

    /// [`ProjectFacts::resolve_call`] of call `call` of file `file`, from
    /// the table made on first use.
    pub fn resolved_call(&self, file: usize, call: usize) -> Option<FnRef> {
        let table = self.resolved.get_or_init(|| {
            self.files
                .iter()
                .enumerate()
                .map(|(fi, f)| f.calls.iter().map(|c| self.resolve_call(fi, c)).collect())
                .collect()
        });
        table.get(file)?.get(call).copied().flatten()
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
            None => self.class_of(file, call.in_function, receiver)?,
        };
        let wanted = format!("{class}.{method}");
        if let Some(function) = self.function_names[file].full.get(&wanted) {
            return Some(FnRef {
                file,
                function: *function,
            });
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

    /// The file that defines `name` (a variable or a function) as `file`
    /// exports it: `file` itself, or the file it re-exports it from.
    pub fn definition_file(&self, file: usize, name: &str) -> usize {
        self.definition_in(file, name, REEXPORT_DEPTH)
            .unwrap_or(file)
    }

    fn definition_in(&self, file: usize, name: &str, depth: usize) -> Option<usize> {
        let facts = &self.files[file];
        let defines = facts.assignments.iter().any(|a| a.target == name)
            || self.function_names[file].full.contains_key(name);
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
        let found = match name.contains('.') {
            true => names.full.get(name).copied(),
            false => names.find(name),
        };
        if let Some(function) = found {
            return Some(FnRef { file, function });
        }
        if depth == 0 {
            return None;
        }
        let facts = &self.files[file];
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
                let callee = a.value_callee.as_deref()?;
                let last = callee.rsplit('.').next().unwrap_or(callee);
                is_class_name(last).then(|| last.to_string())
            })
    }

    /// Every project function that makes a call matching `is_target`, or
    /// calls (transitively, at most `max_depth` hops, across files) a
    /// function that does, with the shortest chain for each.
    pub fn functions_reaching(
        &self,
        is_target: impl Fn(&FileFacts, &Call) -> bool,
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
                if is_target(facts, call) {
                    if let std::collections::hash_map::Entry::Vacant(e) = reached.entry(here) {
                        e.insert(Chain {
                            functions: vec![here],
                            call: (fi, ci),
                        });
                        queue.push_back((here, 0));
                    }
                } else if let Some(callee) = self.resolved_call(fi, ci) {
                    callers.entry(callee).or_default().push(here);
                }
            }
        }
        // Nested functions (a closure inside a handler) count for their parents.
        for (fi, facts) in self.files.iter().enumerate() {
            for (i, f) in facts.functions.iter().enumerate() {
                if let Some(parent) = f.parent {
                    callers
                        .entry(FnRef {
                            file: fi,
                            function: i,
                        })
                        .or_default()
                        .push(FnRef {
                            file: fi,
                            function: parent,
                        });
                }
            }
        }
        while let Some((f, depth)) = queue.pop_front() {
            if depth >= max_depth {
                continue;
            }
            let chain = reached[&f].clone();
            for caller in callers.get(&f).into_iter().flatten() {
                if reached.contains_key(caller) {
                    continue;
                }
                let mut functions = vec![*caller];
                functions.extend(&chain.functions);
                reached.insert(
                    *caller,
                    Chain {
                        functions,
                        call: chain.call,
                    },
                );
                queue.push_back((*caller, depth + 1));
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
                    if seen.insert(callee) {
                        queue.push_back((callee, depth + 1));
                    }
                }
            }
        }
        seen
    }
}

fn is_class_name(name: &str) -> bool {
    name.chars().next().is_some_and(char::is_uppercase)
        && name.chars().all(|c| c == '_' || c.is_alphanumeric())
}

/// `svc: LLMService = Depends(get_service)` → `LLMService` when the
/// parameter is `receiver`; `Optional[X]`, `X | None`, `Annotated[X, …]`
/// unwrapped to `X`.
pub fn annotated_class(param: &str, receiver: &str) -> Option<String> {
    let (name, annotation) = param.split_once(':')?;
    let name = name
        .trim()
        .trim_start_matches("private ")
        .trim_start_matches("readonly ");
    let name = name
        .trim_start_matches("public ")
        .trim_start_matches("protected ")
        .trim();
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
