//! The ways users install aiguard, each built from this checkout and run as
//! users run it, without a Rust toolchain on the target environment:
//!
//! - the wheel (`maturin build --release --locked`, the release workflow's
//!   command), installed into a fresh virtualenv with `--no-index`: `aiguard`
//!   and `python -m aiguard` give the cargo-built binary's answers;
//! - the npm packages (`npm pack` of the launcher and of the platform
//!   package `npm/build-platform.js` makes from the release binary),
//!   installed into a temporary project with the registry out of reach;
//! - the GitHub Action (`action.yml`): its run steps, with the INPUT_* and
//!   runner variables set as a runner sets them and pip pointed at the wheel;
//! - the crate (`cargo package --list`) and the one version everywhere.
//!
//! maturin comes from PyPI (tests/common/packaging.rs): when PyPI is
//! unreachable the wheel tests say "SKIPPED"; without node/npm the npm test
//! says so too.
#![cfg(unix)]

mod common;

use common::packaging::*;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `aiguard audit . --format json` of a materialised demo, by `program`.
fn demo_json(program: &Path, dir: &Path) -> (i32, Value) {
    let out = Command::new(program)
        .args(["audit", ".", "--format", "json"])
        .current_dir(dir)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", program.display(), text(&out)));
    (out.status.code().unwrap_or(-1), deterministic(json))
}

fn cargo_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_aiguard"))
}

#[test]
fn wheel_installs_without_the_network_and_audits_like_the_cargo_build() {
    let Some(built) = built() else { return };
    let name = built.wheel.file_name().unwrap().to_string_lossy();
    assert!(
        name.starts_with(&format!("aiguard-{}-", cargo_version())) && name.contains("-py3-none-"),
        "a binary wheel of Cargo.toml's version: {name}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let venv = tmp.path().join("venv");
    make_venv(&venv);
    let bin = bin_dir(&venv);
    let pip = Command::new(bin.join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--find-links",
        ])
        .arg(&built.wheels)
        .arg("aiguard")
        .output()
        .unwrap();
    assert!(pip.status.success(), "pip install: {}", text(&pip));

    let expected = format!("aiguard {}\n", cargo_version());
    let version = Command::new(bin.join("aiguard"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&version.stdout), expected);
    let module = Command::new(bin.join("python"))
        .args(["-m", "aiguard", "--version"])
        .output()
        .unwrap();
    assert!(
        module.status.success(),
        "python -m aiguard: {}",
        text(&module)
    );
    assert_eq!(String::from_utf8_lossy(&module.stdout), expected);
    let said = String::from_utf8_lossy(&module.stderr);
    assert!(
        !said.contains("Warning") && !said.contains("Traceback"),
        "python -m aiguard: {said}"
    );
    // Exit codes pass through `python -m`.
    let usage = Command::new(bin.join("python"))
        .args(["-m", "aiguard", "explain", "no-such-check"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2), "{}", text(&usage));

    let demo = materialize("demo");
    let (code, from_wheel) = demo_json(&bin.join("aiguard"), demo.path());
    let (cargo_code, from_cargo) = demo_json(&cargo_bin(), demo.path());
    assert_eq!(code, 1, "the demo fails the checklist");
    assert_eq!(code, cargo_code);
    assert_eq!(
        from_wheel, from_cargo,
        "the wheel's audit is the cargo build's"
    );
    assert!(from_wheel["summary"]["errors"].as_u64().unwrap() > 0);
}

/// `npm pack` output file of the package in `dir`, into `dest`.
fn npm_pack(dir: &Path, dest: &Path) -> PathBuf {
    let out = Command::new("npm")
        .args(["pack", "--json", "--pack-destination"])
        .arg(dest)
        .current_dir(dir)
        .env("npm_config_cache", dest.join("npm-cache"))
        .output()
        .unwrap();
    assert!(out.status.success(), "npm pack: {}", text(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    dest.join(json[0]["filename"].as_str().unwrap())
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// npm with its cache in `tmp` and a registry nothing listens on: any
/// attempt to reach the registry fails the install.
fn npm_offline(program: &str, tmp: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir)
        .env("npm_config_cache", tmp.join("npm-cache"))
        .env("npm_config_registry", "http://127.0.0.1:9/")
        .env("npm_config_offline", "true")
        .env("npm_config_audit", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_update_notifier", "false");
    cmd
}

#[test]
fn npm_packages_install_from_tarballs_and_run_the_binary() {
    if !have("node") || !have("npm") {
        eprintln!("SKIPPED: node and npm are needed to pack and install the npm packages");
        return;
    }
    let Some(built) = built() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = repo_root();
    let made = Command::new("node")
        .arg(root.join("npm/build-platform.js"))
        .arg("--binary")
        .arg(&built.binary)
        .arg("--out")
        .arg(tmp.path().join("dist"))
        .output()
        .unwrap();
    assert!(made.status.success(), "build-platform.js: {}", text(&made));
    let platform_dir = PathBuf::from(String::from_utf8_lossy(&made.stdout).trim());
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(platform_dir.join("package.json")).unwrap())
            .unwrap();
    let platform_name = manifest["name"].as_str().unwrap().to_string();
    assert_eq!(manifest["version"], cargo_version());
    let launcher: Value =
        serde_json::from_str(&fs::read_to_string(root.join("npm/aiguard/package.json")).unwrap())
            .unwrap();
    assert!(
        launcher["optionalDependencies"][&platform_name].is_string(),
        "{platform_name} is an optional dependency of aiguard"
    );
    assert!(
        launcher["scripts"].get("postinstall").is_none()
            && launcher["scripts"].get("install").is_none(),
        "no install scripts"
    );

    let launcher_tgz = npm_pack(&root.join("npm/aiguard"), tmp.path());
    let platform_tgz = npm_pack(&platform_dir, tmp.path());

    let project = tmp.path().join("project");
    fs::create_dir(&project).unwrap();
    fs::write(
        project.join("package.json"),
        "{\"name\": \"app\", \"version\": \"1.0.0\", \"private\": true}\n",
    )
    .unwrap();
    let install = npm_offline("npm", tmp.path(), &project)
        .args(["install", "--save-dev"])
        .arg(&launcher_tgz)
        .arg(&platform_tgz)
        .output()
        .unwrap();
    assert!(install.status.success(), "npm install: {}", text(&install));

    let version = npm_offline("npx", tmp.path(), &project)
        .args(["aiguard", "--version"])
        .output()
        .unwrap();
    assert!(version.status.success(), "npx aiguard: {}", text(&version));
    assert_eq!(
        String::from_utf8_lossy(&version.stdout),
        format!("aiguard {}\n", cargo_version())
    );
    let demo = materialize("demo");
    let audit = npm_offline("npx", tmp.path(), &project)
        .args(["aiguard", "audit"])
        .arg(demo.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(audit.status.code(), Some(1), "{}", text(&audit));
    let from_npm = deterministic(serde_json::from_slice(&audit.stdout).unwrap());
    let direct = Command::new(cargo_bin())
        .args(["audit"])
        .arg(demo.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    let from_cargo = deterministic(serde_json::from_slice(&direct.stdout).unwrap());
    assert_eq!(
        from_npm, from_cargo,
        "npx aiguard's audit is the cargo build's"
    );

    // Installed without its platform package (--omit=optional): the
    // launcher names the package it misses.
    let bare = tmp.path().join("bare");
    fs::create_dir(&bare).unwrap();
    fs::write(
        bare.join("package.json"),
        "{\"name\": \"bare\", \"private\": true}\n",
    )
    .unwrap();
    let install = npm_offline("npm", tmp.path(), &bare)
        .arg("install")
        .arg(&launcher_tgz)
        .output()
        .unwrap();
    assert!(install.status.success(), "npm install: {}", text(&install));
    let missing = npm_offline("npx", tmp.path(), &bare)
        .args(["aiguard", "--version"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    let said = String::from_utf8_lossy(&missing.stderr);
    assert!(
        said.contains(&platform_name),
        "names {platform_name}: {said}"
    );
}

/// One step of a composite action, as far as these tests need it.
#[derive(Debug, Default)]
struct Step {
    id: Option<String>,
    uses: Option<String>,
    condition: Option<String>,
    shell: Option<String>,
    env: BTreeMap<String, String>,
    with: BTreeMap<String, String>,
    run: String,
}

/// `action.yml`'s inputs (with defaults) and `runs.steps`, read with the
/// indentation the file uses (a full YAML parser is not needed for one file
/// this test keeps in shape).
fn action() -> (BTreeMap<String, String>, Vec<Step>) {
    let text = fs::read_to_string(repo_root().join("action.yml")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let unquote = |v: &str| v.trim().trim_matches('"').to_string();
    let mut inputs = BTreeMap::new();
    let mut steps: Vec<Step> = Vec::new();
    let mut section = "";
    let mut current_input = String::new();
    let mut map: Option<&'static str> = None;
    let mut in_run = false;
    for line in lines {
        if !line.starts_with(' ') && !line.starts_with('#') && !line.is_empty() {
            section = line.split(':').next().unwrap();
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let body = line.trim();
        match section {
            "inputs" if indent == 2 => current_input = body.trim_end_matches(':').to_string(),
            "inputs" if indent == 4 && body.starts_with("default:") => {
                inputs.insert(current_input.clone(), unquote(&body["default:".len()..]));
            }
            "runs" => {
                if indent == 4 && body.starts_with("- ") {
                    steps.push(Step::default());
                    in_run = false;
                    map = None;
                }
                let Some(step) = steps.last_mut() else {
                    continue;
                };
                if in_run {
                    if indent >= 8 || body.is_empty() {
                        step.run.push_str(line.get(8..).unwrap_or(""));
                        step.run.push('\n');
                        continue;
                    }
                    in_run = false;
                }
                let entry = body.trim_start_matches("- ");
                if (indent == 6 || (indent == 4 && body.starts_with("- ")))
                    && !entry.starts_with('#')
                {
                    map = None;
                    let (key, value) = entry.split_once(':').unwrap();
                    let value = unquote(value);
                    match key {
                        "id" => step.id = Some(value),
                        "uses" => step.uses = Some(value),
                        "if" => step.condition = Some(value),
                        "shell" => step.shell = Some(value),
                        "run" => in_run = true,
                        "env" => map = Some("env"),
                        "with" => map = Some("with"),
                        _ => {}
                    }
                } else if indent == 8 {
                    let (key, value) = body.split_once(':').unwrap();
                    match map {
                        Some("env") => step.env.insert(key.to_string(), unquote(value)),
                        Some("with") => step.with.insert(key.to_string(), unquote(value)),
                        _ => None,
                    };
                }
            }
            _ => {}
        }
    }
    (inputs, steps)
}

/// The result of running the action's shell steps.
struct ActionRun {
    /// The exit code of the first step that failed, or 0.
    code: i32,
    outputs: BTreeMap<String, BTreeMap<String, String>>,
    log: String,
}

/// Runs the action's `run:` steps in order as a runner does: `${{ }}` in
/// `env:` resolved from the inputs (defaults filled in) and earlier steps'
/// outputs, `bash --noprofile --norc -eo pipefail`, GITHUB_OUTPUT per step,
/// GITHUB_PATH, RUNNER_TEMP and RUNNER_TOOL_CACHE. `uses:` steps are
/// GitHub's own actions (cache, SARIF upload): skipped.
fn run_action(
    given: &[(&str, &str)],
    workspace: &Path,
    runner: &Path,
    pip_env: &[(&str, &Path)],
) -> ActionRun {
    let (mut inputs, steps) = action();
    for (k, v) in given {
        assert!(inputs.contains_key(*k), "action.yml has no input {k}");
        inputs.insert(k.to_string(), v.to_string());
    }
    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut log = String::new();
    fs::create_dir_all(runner.join("temp")).unwrap();
    fs::create_dir_all(runner.join("tool-cache")).unwrap();
    for (i, step) in steps.iter().enumerate() {
        if step.uses.is_some() {
            continue;
        }
        assert_eq!(step.shell.as_deref(), Some("bash"), "step {i}");
        assert!(
            step.condition.is_none(),
            "step {i}: the test runs every run step"
        );
        assert!(
            !step.run.contains("${{"),
            "step {i}: expressions only in env:"
        );
        let resolve = |value: &str| -> String {
            let Some(expr) = value.strip_prefix("${{").and_then(|v| v.strip_suffix("}}")) else {
                return value.to_string();
            };
            let expr = expr.trim();
            if let Some(name) = expr.strip_prefix("inputs.") {
                return inputs.get(name).cloned().unwrap_or_default();
            }
            let parts: Vec<&str> = expr.split('.').collect();
            match parts.as_slice() {
                ["steps", id, "outputs", name] => outputs
                    .get(*id)
                    .and_then(|o| o.get(*name))
                    .cloned()
                    .unwrap_or_default(),
                _ => panic!("step {i}: unsupported expression {expr}"),
            }
        };
        let output_file = runner.join(format!("output-{i}"));
        fs::write(&output_file, "").unwrap();
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &step.run])
            .current_dir(workspace)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_PATH", runner.join("path"))
            .env("GITHUB_WORKSPACE", workspace)
            .env("GITHUB_ACTION_PATH", repo_root())
            .env("RUNNER_TEMP", runner.join("temp"))
            .env("RUNNER_TOOL_CACHE", runner.join("tool-cache"))
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("AIGUARD_CACHE_DIR", runner.join("aiguard-cache"))
            .env_remove("NO_COLOR");
        for (k, v) in pip_env {
            cmd.env(k, v);
        }
        for (k, v) in &step.env {
            cmd.env(k, resolve(v));
        }
        let out = cmd.output().unwrap();
        log.push_str(&text(&out));
        let mut values = BTreeMap::new();
        for line in fs::read_to_string(&output_file).unwrap().lines() {
            if let Some((k, v)) = line.split_once('=') {
                values.insert(k.to_string(), v.to_string());
            }
        }
        if let Some(id) = &step.id {
            outputs.insert(id.clone(), values);
        }
        if !out.status.success() {
            return ActionRun {
                code: out.status.code().unwrap_or(-1),
                outputs,
                log,
            };
        }
    }
    ActionRun {
        code: 0,
        outputs,
        log,
    }
}

#[test]
fn action_installs_the_wheel_audits_writes_sarif_and_fails_on_findings() {
    let (inputs, steps) = action();
    for input in ["version", "path", "args", "fail-on", "sarif"] {
        assert!(inputs.contains_key(input), "input {input}");
    }
    assert_eq!(
        inputs["version"],
        cargo_version(),
        "the action installs this version by default"
    );
    let upload = steps
        .iter()
        .find(|s| {
            s.uses
                .as_deref()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif@"))
        })
        .expect("a step uploads SARIF");
    assert_eq!(upload.with["sarif_file"], "${{ inputs.sarif }}");
    assert!(upload
        .condition
        .as_deref()
        .is_some_and(|c| c.contains("inputs.sarif != ''")));
    assert!(steps.iter().any(|s| s
        .uses
        .as_deref()
        .is_some_and(|u| u.starts_with("actions/cache@"))
        && s.with["path"] == "${{ steps.setup.outputs.dir }}"));

    let Some(built) = built() else { return };
    let runner = tempfile::tempdir().unwrap();
    let pip_env = [("PIP_FIND_LINKS", built.wheels.as_path())];
    let demo = materialize("demo");
    let no_index = [("PIP_NO_INDEX", Path::new("1"))];
    let pip: Vec<(&str, &Path)> = pip_env.iter().chain(&no_index).copied().collect();
    let run = run_action(
        &[("sarif", "aiguard.sarif")],
        demo.path(),
        runner.path(),
        &pip,
    );
    assert_eq!(run.code, 1, "the demo fails at fail-on error: {}", run.log);
    let (_, expected, _) = audit_json(demo.path(), &[]);
    let audit = &run.outputs["audit"];
    assert_eq!(audit["exit-code"], "1");
    assert_eq!(audit["errors"], expected["summary"]["errors"].to_string());
    assert_eq!(
        audit["warnings"],
        expected["summary"]["warnings"].to_string()
    );
    assert!(
        run.log.contains("FAIL"),
        "the checklist is in the log: {}",
        run.log
    );
    assert!(
        run.log.contains("::error::aiguard: the checklist failed"),
        "{}",
        run.log
    );
    let sarif: Value =
        serde_json::from_str(&fs::read_to_string(demo.path().join("aiguard.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["runs"][0]["tool"]["driver"]["version"],
        cargo_version()
    );
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len() as u64,
        expected["summary"]["errors"].as_u64().unwrap()
            + expected["summary"]["warnings"].as_u64().unwrap()
    );

    // Again, as a later job with the cache restored: no install; fail-on
    // never passes; args reach the audit.
    let again = run_action(
        &[("fail-on", "never"), ("args", "--select keys-in-code")],
        demo.path(),
        runner.path(),
        &pip,
    );
    assert_eq!(again.code, 0, "{}", again.log);
    assert!(again.log.contains("from the cache"), "{}", again.log);
    assert_eq!(again.outputs["audit"]["warnings"], "0");
    let clean = materialize("env-ok");
    let passed = run_action(&[], clean.path(), runner.path(), &pip);
    assert_eq!(passed.code, 0, "{}", passed.log);
    assert_eq!(passed.outputs["audit"]["errors"], "0");
}

#[test]
fn cargo_package_holds_the_rules_not_the_fixtures() {
    let out = Command::new(env!("CARGO"))
        .args(["package", "--list", "--allow-dirty", "--locked"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo package --list: {}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout);
    let files: Vec<&str> = listed.lines().collect();
    for must in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "LICENSE",
        "src/main.rs",
        "rules/checks.toml",
        "rules/keys.toml",
        "src/commands/aiguard.toml",
    ] {
        assert!(files.contains(&must), "{must} packaged: {listed}");
    }
    for rule in fs::read_dir(repo_root().join("rules")).unwrap() {
        let name = format!("rules/{}", rule.unwrap().file_name().to_string_lossy());
        assert!(files.contains(&name.as_str()), "{name} packaged");
    }
    for never in [
        "fixtures/",
        "bench/",
        "fuzz/",
        "npm/",
        "tests/",
        "target/",
        ".ci/",
    ] {
        assert!(
            !files.iter().any(|f| f.starts_with(never)),
            "{never} is not packaged: {listed}"
        );
    }
}

/// `"X.Y.Z"` right after `prefix` in `text`, for every occurrence.
fn versions_after<'t>(text: &'t str, prefix: &str) -> Vec<&'t str> {
    text.match_indices(prefix)
        .map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(rest.len());
            rest[..end].trim_end_matches('.')
        })
        .collect()
}

#[test]
fn one_version_cargo_toml_s() {
    let root = repo_root();
    let version = cargo_version();
    let read = |p: &str| fs::read_to_string(root.join(p)).unwrap();

    let pyproject = read("python/pyproject.toml");
    assert!(
        pyproject.contains("dynamic = [\"version\"]") && !pyproject.contains("\nversion ="),
        "python/pyproject.toml takes its version from Cargo.toml"
    );
    // The pre-commit hook's package: its version and its pin on the wheel.
    let hook: toml::Table = toml::from_str(&read("pyproject.toml")).unwrap();
    assert_eq!(hook["project"]["version"].as_str(), Some(version));
    assert_eq!(
        hook["project"]["dependencies"][0].as_str(),
        Some(format!("aiguard=={version}").as_str()),
        "pyproject.toml (the pre-commit hook) pins this version's wheel"
    );
    let launcher: Value = serde_json::from_str(&read("npm/aiguard/package.json")).unwrap();
    assert_eq!(launcher["version"], version, "npm/aiguard/package.json");
    let optional = launcher["optionalDependencies"].as_object().unwrap();
    assert_eq!(optional.len(), 6, "six platform packages");
    for (name, v) in optional {
        assert_eq!(v, version, "npm/aiguard/package.json: {name}");
    }
    let (inputs, _) = action();
    assert_eq!(inputs["version"], version, "action.yml's default version");

    // Every pinned aiguard version a user copies.
    let mut pins = Vec::new();
    for file in [
        "README.md",
        "pyproject.toml",
        ".pre-commit-hooks.yaml",
        "src/commands/pre-commit.yaml",
        "src/commands/github-workflow.yml",
        "npm/aiguard/README.md",
    ] {
        let text = read(file);
        for prefix in ["aiguard==", "rev: v", "aiguard@", "version: "] {
            for found in versions_after(&text, prefix) {
                if !found.is_empty() {
                    pins.push((file, prefix, found.to_string()));
                }
            }
        }
    }
    let readme = read("README.md");
    assert!(
        !versions_after(&readme, "aiguard==").is_empty(),
        "the README pins the version somewhere"
    );
    for (file, prefix, found) in &pins {
        // `uses: aiguard/aiguard@v1` is the action's major tag.
        if *prefix == "aiguard@" || found.matches('.').count() < 2 {
            continue;
        }
        assert_eq!(
            found, version,
            "{file}: {prefix}{found} is not Cargo.toml's {version}"
        );
    }
    // The platform packages take theirs from Cargo.toml when built.
    let script = read("npm/build-platform.js");
    assert!(script.contains("cargoVersion(root)"));
    // The six platforms are the same in the launcher, the build script and
    // the package's optional dependencies.
    let launcher_js = read("npm/aiguard/bin/aiguard.js");
    for name in optional.keys() {
        let key = name.strip_prefix("@aiguard/cli-").unwrap();
        assert!(
            launcher_js.contains(&format!("\"{key}\": \"{name}\"")),
            "{name} in aiguard.js"
        );
        assert!(
            script.contains(&format!("key: \"{key}\"")),
            "{key} in build-platform.js"
        );
    }
}

/// The release workflow cannot run here: its build and smoke-test steps
/// must be the commands these tests run (and the sdist, PyPI trusted
/// publishing, npm and the checksummed GitHub release must be there).
#[test]
fn release_workflow_runs_the_tested_commands() {
    let root = repo_root();
    let workflow = fs::read_to_string(root.join(".github/workflows/release.yml")).unwrap();
    let helper = fs::read_to_string(root.join("tests/common/packaging.rs")).unwrap();
    // The wheel: maturin build --release --locked --out DIR in python/,
    // here and there.
    assert!(helper.contains(r#"["build", "--release", "--locked", "--out"]"#));
    assert!(helper.contains(r#".current_dir(root.join("python"))"#));
    assert!(workflow.contains("args: --release --locked --out ../dist"));
    assert_eq!(
        workflow.matches("working-directory: python").count(),
        2,
        "the wheels and the sdist are built in python/"
    );
    // The npm platform package, from the release binary.
    assert!(workflow.contains("node npm/build-platform.js --binary "));
    assert!(workflow.contains("npm pack --pack-destination"));
    assert!(workflow.contains("npm install --offline --no-audit --no-fund"));
    // Every artifact audits the demo.
    assert!(
        workflow.matches("audit fixtures/demo").count()
            + workflow.matches("audit /w/fixtures/demo").count()
            + workflow
                .matches("audit \"$GITHUB_WORKSPACE/fixtures/demo\"")
                .count()
            >= 4
    );
    for target in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-unknown-linux-musl",
        "aarch64-unknown-linux-musl",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ] {
        assert!(workflow.contains(&format!("target: {target}")), "{target}");
    }
    for needed in [
        "command: sdist",
        "pypa/gh-action-pypi-publish@",
        "id-token: write",
        "npm publish --provenance",
        "sha256sum",
        "gh release create",
        "cargo package --locked",
    ] {
        assert!(workflow.contains(needed), "release.yml: {needed}");
    }
}
