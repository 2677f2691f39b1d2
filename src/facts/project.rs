//! The project pass: all files' facts, module resolution across files, and
//! reachability over the call graph ("which project functions reach a call
//! that matches X, and through which chain").

use std::collections::{HashMap, HashSet, VecDeque};

use super::{Call, FileFacts, Import};
use crate::lang::Lang;

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

const JS_EXTENSIONS: [&str; 7] = ["ts", "tsx", "js", "jsx", "mjs", "cjs", "mts"];

#[derive(Default)]
pub struct ProjectFacts {
    files: Vec<FileFacts>,
    by_path: HashMap<String, usize>,
    /// Every source file of the project, parsed or not (imports may lead to
    /// a file the walk did not parse; see [`ProjectFacts::missing_imports`]).
    known: HashSet<String>,
    /// Python module name (`llm`) → (dotted module path, file) of every
    /// file that provides a module of that name (`app.services.llm`,
    /// `app/services/llm.py`); a dotted suffix resolves among them.
    py_modules: HashMap<String, Vec<(String, String)>>,
    /// Per file, [`FileFacts::function_named`] as two maps (full name, then
    /// last dotted segment → first such function): resolving every call by
    /// a scan over every function was quadratic on a minified bundle.
    function_names: Vec<FunctionNames>,
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
        let mut known: HashSet<String> = all_paths.iter().cloned().collect();
        known.extend(files.iter().map(|f| f.path.clone()));
        let mut py_modules: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for path in known
            .iter()
            .filter(|p| p.ends_with(".py") || p.ends_with(".pyi"))
        {
            let stem = path.trim_end_matches(".pyi").trim_end_matches(".py");
            let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
            let name = stem.rsplit('/').next().unwrap_or(stem);
            py_modules
                .entry(name.to_string())
                .or_default()
                .push((stem.replace('/', "."), path.clone()));
        }
        let function_names = files.iter().map(FunctionNames::new).collect();
        ProjectFacts {
            files,
            by_path,
            known,
            py_modules,
            function_names,
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
        let all: Vec<String> = self.known.iter().cloned().collect();
        let mut files = self.files;
        files.extend(more);
        ProjectFacts::new(files, &all)
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
        match file.lang? {
            Lang::Python => self.resolve_python(from, &import.module, import.name.as_deref()),
            Lang::TypeScript | Lang::Tsx => self.resolve_js(&file.path, &import.module),
        }
    }

    fn resolve_python(&self, from: usize, module: &str, name: Option<&str>) -> Option<String> {
        let dir = parent_dir(&self.files[from].path);
        let dots = module.chars().take_while(|c| *c == '.').count();
        let absolute = if dots > 0 {
            // `.llm` from `app/api/chat.py` → `app/api/llm`; `..x` goes one more up.
            let mut base = dir.to_string();
            for _ in 1..dots {
                base = parent_dir(&base).to_string();
            }
            let rest = &module[dots..];
            let joined = [base.replace('/', "."), rest.to_string()]
                .iter()
                .filter(|s| !s.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(".");
            joined
        } else {
            module.to_string()
        };
        // `from pkg import mod` may name a submodule rather than a symbol.
        let candidates = name
            .map(|n| format!("{absolute}.{n}"))
            .into_iter()
            .chain([absolute.clone()]);
        for candidate in candidates {
            let key = candidate.trim_start_matches('.');
            if let Some(found) = self.python_module(key) {
                return closest(&found, &self.files[from].path);
            }
        }
        None
    }

    /// The files whose dotted module path ends with `key` at a `.`:
    /// `services.llm` is `app/services/llm.py` or `services/llm/__init__.py`.
    fn python_module(&self, key: &str) -> Option<Vec<String>> {
        let name = key.rsplit('.').next().unwrap_or(key);
        let found: Vec<String> = self
            .py_modules
            .get(name)?
            .iter()
            .filter(|(dotted, _)| {
                dotted
                    .strip_suffix(key)
                    .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
            })
            .map(|(_, path)| path.clone())
            .collect();
        (!found.is_empty()).then_some(found)
    }

    fn resolve_js(&self, from_path: &str, spec: &str) -> Option<String> {
        let mut bases = Vec::new();
        if spec.starts_with('.') {
            bases.push(normalize(&format!("{}/{}", parent_dir(from_path), spec)));
        } else if let Some(rest) = spec.strip_prefix("@/").or_else(|| spec.strip_prefix("~/")) {
            // The conventional tsconfig alias: the app root or its `src/`.
            let mut dir = parent_dir(from_path).to_string();
            loop {
                for base in [format!("{dir}/{rest}"), format!("{dir}/src/{rest}")] {
                    bases.push(normalize(&base));
                }
                if dir.is_empty() {
                    break;
                }
                dir = parent_dir(&dir).to_string();
            }
        } else {
            return None;
        }
        for base in bases {
            let stem = base
                .trim_end_matches(".js")
                .trim_end_matches(".jsx")
                .trim_end_matches(".mjs");
            for candidate in std::iter::once(base.clone())
                .chain(JS_EXTENSIONS.iter().map(|e| format!("{stem}.{e}")))
                .chain(JS_EXTENSIONS.iter().map(|e| format!("{base}/index.{e}")))
            {
                let candidate = candidate.trim_start_matches('/');
                if self.known.contains(candidate) {
                    return Some(candidate.to_string());
                }
            }
        }
        None
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
            let function = self.function_names[target].find(wanted)?;
            return Some(FnRef {
                file: target,
                function,
            });
        }
        if callee == head || head == "self" || head == "this" {
            let function = self.function_names[file].find(last)?;
            return Some(FnRef { file, function });
        }
        None
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
                } else if let Some(callee) = self.resolve_call(fi, call) {
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
}

fn parent_dir(path: &str) -> &str {
    path.rfind('/').map(|i| &path[..i]).unwrap_or("")
}

/// Resolve `.` and `..` in a `/` path.
fn normalize(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

/// Of several files providing a module, the one sharing the longest
/// directory prefix with the importer.
fn closest(found: &[String], importer: &str) -> Option<String> {
    found
        .iter()
        .max_by_key(|p| {
            let shared = p
                .split('/')
                .zip(importer.split('/'))
                .take_while(|(a, b)| a == b)
                .count();
            // Ties go to the first path in sorted order, whatever the
            // order of `found`.
            (shared, std::cmp::Reverse(p.len()), std::cmp::Reverse(*p))
        })
        .cloned()
}
