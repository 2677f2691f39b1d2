//! The lexical import scanner and the slice (engine v2, `src/graph.rs`):
//! fuzzed bytes as up to eight source files of a project (split at NUL
//! bytes; the first byte of each picks its path and language). Every file
//! of an audited tree goes through `scan_imports`, so it must never panic
//! or hang on what it reads; the slice over their summaries must pick a
//! subset of them, always the AI files and the app-wide ones, and resolve
//! only to files of the project.
#![no_main]

use aiguard::graph::{scan_imports, slice, slice_parses, ModuleIndex, Parse, Roles, Summary};
use aiguard::lang::Lang;
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 8] = [
    "app/main.py",
    "app/routes/chat.py",
    "app/services/__init__.py",
    "app/services/llm.py",
    "web/app/api/chat/route.ts",
    "web/lib/ai.ts",
    "web/components/Chat.tsx",
    "web/lib/index.js",
];

fuzz_target!(|data: &[u8]| {
    let mut summaries = Vec::new();
    for (i, part) in data.split(|b| *b == 0).take(PATHS.len()).enumerate() {
        let (pick, text) = part.split_first().unwrap_or((&0, &[]));
        let path = PATHS[(i + *pick as usize) % PATHS.len()];
        if summaries.iter().any(|s: &Summary| s.path == path) {
            continue;
        }
        let lang = Lang::from_path(std::path::Path::new(path)).expect("a source path");
        let imports = scan_imports(lang, text);
        for import in &imports {
            // At most 300 bytes as read; invalid UTF-8 bytes widen to U+FFFD.
            assert!(!import.module.is_empty() && import.module.chars().count() <= 300);
        }
        summaries.push(Summary {
            path: path.to_string(),
            lang,
            // Every role bit of the byte, and the browser role every
            // third pick.
            roles: Roles(u16::from(*pick) | if *pick % 3 == 0 { Roles::BROWSER.0 } else { 0 }),
            bases: aiguard::graph::scan_bases(lang, text),
            imports,
            bytes: text.len() as u64,
        });
    }
    let index = ModuleIndex::new(summaries.iter().map(|s| s.path.as_str()));
    let (wanted, edges) = slice(&summaries, &index);
    assert_eq!(wanted.len(), summaries.len());
    // Only a module that plays no part but a browser one is parsed to its
    // imports.
    let (parses, _) = slice_parses(&summaries, &index, 1);
    for (s, p) in summaries.iter().zip(&parses) {
        if *p == Parse::Imports {
            assert!(s.roles.without(Roles::CLIENT | Roles::BROWSER).is_empty(), "{}", s.path);
        }
    }
    let n = summaries.len();
    assert!(edges <= n * n);
    for (s, w) in summaries.iter().zip(&wanted) {
        if s.roles.has(Roles::AI) || s.roles.has(Roles::ALWAYS) || s.roles.has(Roles::APP) {
            assert!(*w, "{} has a role that is always parsed", s.path);
        }
        for import in &s.imports {
            let names: Vec<Option<&str>> = match import.names.is_empty() {
                true => vec![None],
                false => import.names.iter().map(|n| Some(n.as_str())).collect(),
            };
            for name in names {
                if let Some(target) = index.resolve(s.lang, &s.path, &import.module, name) {
                    assert!(index.contains(&target), "{target} is not a project file");
                }
            }
        }
    }
});
