//! The release artifacts built from this checkout, as users install them:
//! the wheel (`maturin build --release --locked` in `python/`, the release
//! workflow's command) and the release binary it holds, built once per test run and
//! shared by tests/packaging.rs and tests/precommit.rs; plus virtualenv and
//! PyPI helpers.
//!
//! maturin itself comes from PyPI into `target/packaging/maturin-venv`
//! (kept between runs); the build uses this checkout's `target/`, so an
//! unchanged tree rebuilds nothing. When PyPI is unreachable the callers
//! say "SKIPPED" and return.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use super::repo_root;

/// maturin versions the tests and the release workflow build with (the
/// range pyproject.toml's build-system asks for).
pub const MATURIN: &str = "maturin>=1.9,<2";

pub struct Built {
    /// A folder holding exactly one wheel: this checkout's, for this machine.
    pub wheels: PathBuf,
    pub wheel: PathBuf,
    /// The release binary the wheel carries (`target/release/aiguard`).
    pub binary: PathBuf,
}

/// The wheel, built at most once per test process (and per test run: the
/// second process's maturin finds cargo's build fresh). `None` when maturin
/// cannot be installed because PyPI is unreachable (said on stderr).
pub fn built() -> Option<&'static Built> {
    static BUILT: OnceLock<Option<Built>> = OnceLock::new();
    BUILT.get_or_init(build).as_ref()
}

fn build() -> Option<Built> {
    let root = repo_root();
    let work = root.join("target").join("packaging");
    fs::create_dir_all(&work).unwrap();
    // Test binaries run one after another, but a developer may run two.
    let lock = fs::File::create(work.join("build.lock")).unwrap();
    lock.lock().unwrap();
    let venv = work.join("maturin-venv");
    let maturin = bin_dir(&venv).join("maturin");
    let works = |m: &Path| {
        Command::new(m)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !works(&maturin) {
        let _ = fs::remove_dir_all(&venv);
        make_venv(&venv);
        if !pip_install_from_pypi(&venv, &[MATURIN]) {
            return None;
        }
    }
    let wheels = work.join("wheels");
    let _ = fs::remove_dir_all(&wheels);
    let started = std::time::Instant::now();
    let out = Command::new(&maturin)
        .args(["build", "--release", "--locked", "--out"])
        .arg(&wheels)
        .current_dir(root.join("python"))
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "maturin build --release --locked: {}",
        text(&out)
    );
    eprintln!(
        "built the wheel in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let found: Vec<PathBuf> = fs::read_dir(&wheels)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one wheel in {}: {found:?}",
        wheels.display()
    );
    let binary = root.join("target").join("release").join("aiguard");
    assert!(binary.is_file(), "{} after maturin", binary.display());
    Some(Built {
        wheel: found[0].clone(),
        wheels,
        binary,
    })
}

/// `venv/bin` (`Scripts` on Windows).
pub fn bin_dir(venv: &Path) -> PathBuf {
    venv.join(if cfg!(windows) { "Scripts" } else { "bin" })
}

pub fn make_venv(venv: &Path) {
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(venv)
        .output()
        .expect("these tests need python3 (with venv) on PATH");
    assert!(made.status.success(), "python3 -m venv: {}", text(&made));
}

/// `pip install REQS` from PyPI into `venv`; false (after saying "SKIPPED"
/// and why) when PyPI cannot be reached; a failure with PyPI reachable
/// fails the test.
pub fn pip_install_from_pypi(venv: &Path, reqs: &[&str]) -> bool {
    let bin = bin_dir(venv);
    let pip = Command::new(bin.join("python"))
        .args(["-m", "pip", "install", "--quiet", "--retries", "2"])
        .args(["--timeout", "30"])
        .args(reqs)
        .env_remove("PIP_NO_INDEX")
        .env_remove("PIP_FIND_LINKS")
        .output()
        .unwrap();
    if pip.status.success() {
        return true;
    }
    if !pypi_reachable(&bin, reqs[0]) {
        eprintln!(
            "SKIPPED: PyPI is unreachable, so {reqs:?} cannot be installed: {}",
            text(&pip).lines().last().unwrap_or("")
        );
        return false;
    }
    panic!(
        "pip install {reqs:?} failed with PyPI reachable: {}",
        text(&pip)
    );
}

/// Can pip's index be reached at all (as opposed to pip failing)?
pub fn pypi_reachable(venv_bin: &Path, requirement: &str) -> bool {
    let project: String = requirement
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let probe = format!(
        "import os, urllib.request\n\
         url = os.environ.get('PIP_INDEX_URL', 'https://pypi.org/simple').rstrip('/') + '/{project}/'\n\
         urllib.request.urlopen(url, timeout=15).read(64)\n"
    );
    Command::new(venv_bin.join("python"))
        .args(["-c", &probe])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A command's stdout then stderr, as text.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A report's JSON without what differs between two runs of the same
/// audit (`duration_ms`, anywhere).
pub fn deterministic(mut json: serde_json::Value) -> serde_json::Value {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                map.remove("duration_ms");
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut json);
    json
}

/// `version = "…"` of Cargo.toml's [package]: the one version.
pub fn cargo_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
