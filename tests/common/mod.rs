//! Shared test helpers: materialise a fixture project in a temp dir (fake
//! keys expanded, `dot.*` names restored), run the built binary, build
//! scratch git repositories.
#![allow(dead_code)]

pub mod packaging;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn catalog() -> aiguard::catalog::Catalog {
    aiguard::catalog::Catalog::load(&[]).expect("built-in catalog")
}

/// Copy `fixtures/<name>` to a fresh temp dir. A name component `dot.x`
/// becomes `.x` (so fixture `.gitignore` files do not act on this repo),
/// `fixture.toml` and `SCENARIO.md` are left behind, and `{{fake:RULE}}` placeholders become
/// random keys of that rule's format (seeded by the file path: stable).
pub fn materialize(name: &str) -> tempfile::TempDir {
    materialize_with_keys(name).0
}

/// [`materialize`], also returning every fake key written.
pub fn materialize_with_keys(name: &str) -> (tempfile::TempDir, Vec<String>) {
    let src = repo_root().join("fixtures").join(name);
    let dst = tempfile::tempdir().expect("temp dir");
    let catalog = catalog();
    let mut keys = Vec::new();
    copy_tree(&src, dst.path(), &src, &catalog, &mut keys);
    (dst, keys)
}

fn copy_tree(
    dir: &Path,
    dst_root: &Path,
    src_root: &Path,
    catalog: &aiguard::catalog::Catalog,
    keys: &mut Vec<String>,
) {
    for entry in std::fs::read_dir(dir).expect("fixture dir") {
        let entry = entry.unwrap();
        let path = entry.path();
        let rel = path.strip_prefix(src_root).unwrap();
        if rel == Path::new("fixture.toml") || rel == Path::new("SCENARIO.md") {
            continue;
        }
        let target: PathBuf = dst_root.join(
            rel.components()
                .map(|c| {
                    let s = c.as_os_str().to_string_lossy();
                    match s.strip_prefix("dot.") {
                        Some(rest) => format!(".{rest}"),
                        None => s.into_owned(),
                    }
                })
                .collect::<PathBuf>(),
        );
        if path.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&path, dst_root, src_root, catalog, keys);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            let out = match String::from_utf8(bytes.clone()) {
                Ok(text) if text.contains("{{fake:") => {
                    let seed = rel
                        .to_string_lossy()
                        .bytes()
                        .fold(17u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
                    let mut rng = fastrand::Rng::with_seed(seed);
                    let expanded =
                        aiguard::fake::expand_placeholders(&text, &catalog.keys, &mut rng, keys);
                    assert!(
                        !expanded.contains("{{fake:"),
                        "{}: unknown fake key id",
                        rel.display()
                    );
                    expanded.into_bytes()
                }
                _ => bytes,
            };
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(&target, out).unwrap();
        }
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn aiguard(args: &[&str], cwd: &Path) -> Run {
    aiguard_with_env(args, cwd, &[])
}

/// Run the binary with extra environment variables (`AIGUARD_TODAY`, …).
pub fn aiguard_with_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Run {
    // The facts cache of the tests' audits, in cargo's target folder, not
    // the user's (tests that need their own set AIGUARD_CACHE_DIR).
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aiguard-cache");
    let out: Output = Command::new(env!("CARGO_BIN_EXE_aiguard"))
        .args(args)
        .current_dir(cwd)
        .env("AIGUARD_CACHE_DIR", cache)
        .envs(env.iter().copied())
        .env_remove("NO_COLOR")
        .output()
        .expect("run aiguard");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn audit_json(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["audit", ".", "--format", "json"];
    args.extend_from_slice(extra);
    let run = aiguard(&args, dir);
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", run.stdout, run.stderr));
    (run.code, json, run.stderr)
}

pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn git_init(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
}

/// `check rule path[:line]` for every finding, sorted.
pub fn finding_keys(json: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = json["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            let place = match f["line"].as_u64() {
                Some(line) => format!("{}:{line}", f["path"].as_str().unwrap()),
                None => f["path"].as_str().unwrap().to_string(),
            };
            format!(
                "{} {} {place}",
                f["check"].as_str().unwrap(),
                f["rule"].as_str().unwrap()
            )
        })
        .collect();
    keys.sort();
    keys
}

pub fn status_of(json: &serde_json::Value, check: &str) -> String {
    json["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check"] == check)
        .map(|i| i["status"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A JSON report's notes as (path, kind) pairs.
pub fn notes_of(json: &serde_json::Value) -> Vec<(String, String)> {
    json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["path"].as_str().unwrap().to_string(),
                n["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A project from (path, text) pairs, in a temp folder.
pub fn write_project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

/// `aiguard inventory . --format json` in `dir`, parsed (exit 0 asserted).
pub fn inventory_json(dir: &Path) -> serde_json::Value {
    let run = aiguard(&["inventory", ".", "--format", "json"], dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("inventory JSON")
}

/// (method, path, reaches AI) of every endpoint, in inventory order.
pub fn endpoint_routes(json: &serde_json::Value) -> Vec<(String, String, bool)> {
    json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().to_string(),
                e["path"].as_str().unwrap().to_string(),
                !e["ai"].is_null(),
            )
        })
        .collect()
}

/// The endpoint of the inventory at `path` (panics if there is none).
pub fn endpoint_at<'j>(json: &'j serde_json::Value, path: &str) -> &'j serde_json::Value {
    json["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == path)
        .unwrap_or_else(|| panic!("no endpoint {path}: {json}"))
}

/// `aiguard inventory` of a fixture, as JSON.
pub fn fixture_inventory(fixture: &str) -> serde_json::Value {
    inventory_json(materialize(fixture).path())
}

/// (kind, detail) of an endpoint's `auth` or `rate_limits`.
pub fn evidence(e: &serde_json::Value, key: &str) -> Vec<(String, String)> {
    e[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["kind"].as_str().unwrap_or("").to_string(),
                x["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `kind: detail` of an endpoint's `auth` or `rate_limits`.
pub fn evidence_lines(e: &serde_json::Value, key: &str) -> Vec<String> {
    evidence(e, key)
        .into_iter()
        .map(|(kind, detail)| format!("{kind}: {detail}"))
        .collect()
}

/// The `detail` of each evidence of an endpoint's `auth` or `rate_limits`.
pub fn details(e: &serde_json::Value, key: &str) -> Vec<String> {
    evidence(e, key).into_iter().map(|(_, d)| d).collect()
}

/// (method, path, reaches AI) rows, owned, to compare with
/// [`endpoint_routes`].
pub fn routes(items: &[(&str, &str, bool)]) -> Vec<(String, String, bool)> {
    items
        .iter()
        .map(|(m, p, ai)| (m.to_string(), p.to_string(), *ai))
        .collect()
}

/// One (method, path, reaches AI) row, as [`endpoint_routes`] gives them.
pub fn route(method: &str, path: &str, ai: bool) -> (String, String, bool) {
    (method.to_string(), path.to_string(), ai)
}
