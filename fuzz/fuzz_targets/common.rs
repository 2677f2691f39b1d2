//! Shared by the fuzz targets: a scratch project folder per process, and
//! the input format of `audit_files`.
#![allow(dead_code)] // each target uses part of it

use std::path::{Path, PathBuf};

/// Where targets write their project: `$AIGUARD_FUZZ_DIR` (a tmpfs such as
/// /dev/shm is fastest) or the temp dir, one folder per process.
pub fn scratch() -> PathBuf {
    let base = std::env::var_os("AIGUARD_FUZZ_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    base.join(format!("aiguard-fuzz-{}", std::process::id()))
}

/// Empty `dir` (create it if needed).
pub fn reset(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("scratch dir");
}

/// File names an input can pick: each extension and special name the
/// per-file pipeline treats differently, in folders that matter to the
/// checks (Next.js routes and pages, a Python app, a client bundle).
pub const NAMES: &[&str] = &[
    "app.py",
    "api/routes.py",
    "lib/ai.ts",
    "app/api/chat/route.ts",
    "app/page.tsx",
    "pages/api/chat.js",
    "src/main.jsx",
    "notebook.ipynb",
    ".env",
    ".env.local",
    ".gitignore",
    "web/.gitignore",
    "next.config.js",
    "vite.config.mjs",
    "package.json",
    "README.md",
    "Dockerfile",
    ".github/workflows/ci.yml",
];

/// File names a `fix_plan` input can pick: what `aiguard fix` edits or
/// creates (Flask and FastAPI apps, Express, Hono and Next.js servers and
/// routes, `.gitignore`, `.env` files, dependency manifests).
pub const FIX_NAMES: &[&str] = &[
    "app.py",
    "api/app/main.py",
    "requirements.txt",
    "api/requirements.txt",
    "server.js",
    "server.mjs",
    "node/src/server.ts",
    "node/package.json",
    "app/api/chat/route.ts",
    "app/actions.ts",
    "pages/api/ask.ts",
    "package.json",
    ".gitignore",
    ".env",
    ".env.example",
    "pyproject.toml",
];

/// Up to 8 files: segments separated by `\n//--\n`, each starting with a
/// byte that picks its name.
pub fn files(data: &[u8]) -> Vec<(&'static str, &[u8])> {
    files_named(data, NAMES)
}

/// [`files`], the names picked from `names`.
pub fn files_named<'a>(data: &'a [u8], names: &[&'static str]) -> Vec<(&'static str, &'a [u8])> {
    const SEP: &[u8] = b"\n//--\n";
    let mut out = Vec::new();
    let mut rest = data;
    while let Some((&pick, tail)) = rest.split_first() {
        if out.len() == 8 {
            break;
        }
        let end = find(tail, SEP).unwrap_or(tail.len());
        out.push((names[pick as usize % names.len()], &tail[..end]));
        rest = tail.get(end + SEP.len()..).unwrap_or(&[]);
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
