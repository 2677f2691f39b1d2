//! The fixed apps really answer 429: fixtures fixed by `aiguard fix`, run
//! with real packages (PyPI / npm) against a local mock of the OpenAI API
//! on 127.0.0.1 (the SDK pointed at it with `OPENAI_BASE_URL`), get 200 for
//! the first 5 requests of a minute and 429 for the 6th: FastAPI (uvicorn,
//! slowapi), Flask (its server, Flask-Limiter), Express
//! (express-rate-limit), Hono on Node (hono-rate-limiter), Fastify
//! (@fastify/rate-limit, and its per-day check); the fixed
//! FastAPI app's CORS allows `http://localhost:3000` and no other origin. The fixed
//! Next.js route handler, server action and pages API route type-check with
//! `tsc --noEmit` against the real `next`, `@upstash/ratelimit` and
//! `@upstash/redis`.
//!
//! Packages are installed once per `target/` (a venv and a node_modules
//! under `target/fix-runtime/`, reused by later runs). When a registry
//! cannot be reached the test prints "skipped" and why; any other failure
//! to install fails it.
#![cfg(unix)]

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const PY_PACKAGES: &[&str] = &[
    "fastapi",
    "uvicorn",
    "slowapi",
    "openai",
    "flask",
    "Flask-Limiter",
];
const NPM_PACKAGES: &[&str] = &[
    "express@4",
    "express-rate-limit@7",
    "openai@4",
    "hono@4",
    "@hono/node-server@1",
    "hono-rate-limiter@0.4",
    "@upstash/ratelimit@2",
    "@upstash/redis@1",
    "typescript@5",
    "next@15",
    "fastify@5",
    "@fastify/rate-limit@10.3",
];

fn cache_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"));
    target.join("fix-runtime")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The venv's bin folder, `Err(reason)` when PyPI is unreachable.
fn python_env() -> Result<PathBuf, String> {
    static ENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let venv = cache_dir().join("venv");
        let bin = venv.join("bin");
        let stamp = venv.join("aiguard-packages.txt");
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(&PY_PACKAGES.join(" ")) {
            return Ok(bin);
        }
        let _ = std::fs::remove_dir_all(&venv);
        std::fs::create_dir_all(cache_dir()).unwrap();
        let made = Command::new("python3").args(["-m", "venv"]).arg(&venv).output()
            .expect("these tests need python3 (with venv) on PATH");
        assert!(made.status.success(), "python3 -m venv: {}", text(&made));
        let pip = Command::new(bin.join("pip"))
            .args(["install", "--quiet", "--retries", "2", "--timeout", "30"])
            .args(PY_PACKAGES)
            .output()
            .unwrap();
        if !pip.status.success() {
            let probe = "import os, urllib.request\n\
                 url = os.environ.get('PIP_INDEX_URL', 'https://pypi.org/simple').rstrip('/') + '/slowapi/'\n\
                 urllib.request.urlopen(url, timeout=15).read(64)\n";
            let reachable = Command::new(bin.join("python")).args(["-c", probe]).output().is_ok_and(|o| o.status.success());
            if !reachable {
                return Err(format!("PyPI is unreachable: {}", text(&pip).lines().last().unwrap_or("")));
            }
            panic!("pip install failed with PyPI reachable: {}", text(&pip));
        }
        std::fs::write(&stamp, PY_PACKAGES.join(" ")).unwrap();
        Ok(bin)
    })
    .clone()
}

/// A `node_modules` with the packages, `Err(reason)` when npm's registry
/// is unreachable or node is missing.
fn node_env() -> Result<PathBuf, String> {
    static ENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = cache_dir().join("node");
        let modules = dir.join("node_modules");
        let stamp = dir.join("aiguard-packages.txt");
        if std::fs::read_to_string(&stamp).ok().as_deref() == Some(&NPM_PACKAGES.join(" ")) {
            return Ok(modules);
        }
        if Command::new("node").arg("--version").output().is_err() {
            return Err("node is not installed".into());
        }
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("package.json"), "{ \"private\": true }\n").unwrap();
        let npm = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .args(NPM_PACKAGES)
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("npm could not run: {e}"))?;
        if !npm.status.success() {
            let ping = Command::new("npm")
                .args(["ping"])
                .current_dir(&dir)
                .output();
            if !ping.is_ok_and(|o| o.status.success()) {
                return Err(format!(
                    "the npm registry is unreachable: {}",
                    text(&npm).lines().last().unwrap_or("")
                ));
            }
            panic!(
                "npm install failed with the registry reachable: {}",
                text(&npm)
            );
        }
        std::fs::write(&stamp, NPM_PACKAGES.join(" ")).unwrap();
        Ok(modules)
    })
    .clone()
}

/// A mock of the OpenAI API: every POST gets a chat completion.
fn mock_openai() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve_completion(stream));
        }
    });
    port
}

fn serve_completion(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    loop {
        let Some((head, _body)) = read_request(&mut stream) else {
            return;
        };
        let body = r#"{"id":"chatcmpl-mock","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"mocked"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"#;
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(response.as_bytes()).is_err()
            || head.to_ascii_lowercase().contains("connection: close")
        {
            return;
        }
    }
}

/// One HTTP/1.1 request: (head, body).
fn read_request(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    Some((head, body))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// POST /api/chat, the response's status code.
fn post_chat(port: u16) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the app");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = r#"{"message":"hello"}"#;
    write!(
        stream,
        "POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_listening(port: u16, server: &mut Server) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = server.0.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = server.0.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("the app exited ({status}): {err}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the app did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Fix the fixture in a committed copy; the fixed tree.
fn fixed(name: &str) -> tempfile::TempDir {
    let dir = materialize(name);
    git_init(dir.path());
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "fixture"]);
    let run = aiguard(&["fix", "."], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    dir
}

/// A CORS preflight for POST /api/chat from `origin`: (status, the
/// Access-Control-Allow-Origin header if any).
fn preflight(port: u16, origin: &str) -> (u16, Option<String>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the app");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "OPTIONS /api/chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {origin}\r\nAccess-Control-Request-Method: POST\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let allowed = response.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("access-control-allow-origin")
            .then(|| value.trim().to_string())
    });
    (status, allowed)
}

/// Start the app, send 6 requests, expect 200 ×5 then 429.
fn assert_six_requests(command: Command, port: u16, what: &str) {
    drop(start_and_limit(command, port, what));
}

/// [`assert_six_requests`], returning the running app.
fn start_and_limit(mut command: Command, port: u16, what: &str) -> Server {
    let mock = mock_openai();
    command
        .env("OPENAI_API_KEY", "test-key-not-real")
        .env("OPENAI_BASE_URL", format!("http://127.0.0.1:{mock}/v1"))
        .env("PORT", port.to_string())
        .env_remove("RATE_LIMIT_STORAGE_URI")
        .env_remove("CORS_ORIGINS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut server = Server(command.spawn().unwrap_or_else(|e| panic!("{what}: {e}")));
    wait_listening(port, &mut server);
    let codes: Vec<u16> = (0..6).map(|_| post_chat(port)).collect();
    assert_eq!(codes, [200, 200, 200, 200, 200, 429], "{what}");
    server
}

/// Serialise the runtime tests: they install packages and start servers.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn fixed_fastapi_app_answers_429_on_the_sixth_request() {
    let _guard = one_at_a_time();
    let bin = match python_env() {
        Ok(bin) => bin,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let dir = fixed("demo");
    let backend = dir.path().join("backend");
    let port = free_port();
    let mut command = Command::new(bin.join("python"));
    command
        .args([
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .current_dir(&backend);
    let _server = start_and_limit(command, port, "FastAPI (uvicorn, slowapi)");
    // The CORS fix: origins from CORS_ORIGINS (unset: http://localhost:3000).
    assert_eq!(
        preflight(port, "http://localhost:3000"),
        (200, Some("http://localhost:3000".to_string()))
    );
    let (_, allowed) = preflight(port, "https://evil.example");
    assert_eq!(allowed, None, "a foreign origin is allowed");
}

#[test]
fn fixed_flask_app_answers_429_on_the_sixth_request() {
    let _guard = one_at_a_time();
    let bin = match python_env() {
        Ok(bin) => bin,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let dir = fixed("fix-flask");
    let port = free_port();
    let mut command = Command::new(bin.join("python"));
    command
        .args([
            "-m",
            "flask",
            "--app",
            "app",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .current_dir(dir.path());
    assert_six_requests(command, port, "Flask (Flask-Limiter)");
}

/// Flask blueprints in files without the app: the limiter in
/// `extensions.py`, bound by `init_app` in the app's file, imported by the
/// blueprint's (no import cycle: the fixed app starts and limits).
#[test]
fn fixed_flask_blueprint_apps_answer_429_on_the_sixth_request() {
    let _guard = one_at_a_time();
    let bin = match python_env() {
        Ok(bin) => bin,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    for (name, app) in [
        ("fix-flask-blueprint", "app"),
        ("fix-flask-factory", "chatapp"),
    ] {
        let dir = fixed(name);
        let port = free_port();
        let mut command = Command::new(bin.join("python"));
        command
            .args([
                "-m",
                "flask",
                "--app",
                app,
                "run",
                "--host",
                "127.0.0.1",
                "--port",
            ])
            .arg(port.to_string())
            .current_dir(dir.path());
        assert_six_requests(command, port, name);
    }
}

/// A project's own limiter, imported into the route aiguard limited.
#[test]
fn fixed_apps_with_their_own_limiter_answer_429_on_the_sixth_request() {
    let _guard = one_at_a_time();
    let bin = match python_env() {
        Ok(bin) => bin,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let dir = fixed("fix-own-limiter");
    let port = free_port();
    let mut command = Command::new(bin.join("python"));
    command
        .args([
            "-m",
            "uvicorn",
            "app.main:app",
            "--host",
            "127.0.0.1",
            "--port",
        ])
        .arg(port.to_string())
        .current_dir(dir.path().join("api"));
    assert_six_requests(command, port, "FastAPI, the project's slowapi limiter");
    let port = free_port();
    let mut command = Command::new(bin.join("python"));
    command
        .args([
            "-m",
            "flask",
            "--app",
            "app",
            "run",
            "--host",
            "127.0.0.1",
            "--port",
        ])
        .arg(port.to_string())
        .current_dir(dir.path().join("web"));
    assert_six_requests(command, port, "Flask, the project's Flask-Limiter limiter");
    match node_env() {
        Err(why) => eprintln!("skipped (Express): {why}"),
        Ok(modules) => {
            let app = dir.path().join("node");
            std::os::unix::fs::symlink(&modules, app.join("node_modules")).unwrap();
            let port = free_port();
            let mut command = Command::new("node");
            command.arg("server.js").current_dir(&app);
            assert_six_requests(
                command,
                port,
                "Express, the project's express-rate-limit limiter",
            );
        }
    }
}

fn node_app(name: &str, script: &str, what: &str) {
    let _guard = one_at_a_time();
    let modules = match node_env() {
        Ok(m) => m,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let dir = fixed(name);
    std::os::unix::fs::symlink(&modules, dir.path().join("node_modules")).unwrap();
    let port = free_port();
    let mut command = Command::new("node");
    command.arg(script).current_dir(dir.path());
    assert_six_requests(command, port, what);
}

#[test]
fn fixed_express_app_answers_429_on_the_sixth_request() {
    node_app("fix-express", "server.js", "Express (express-rate-limit)");
}

#[test]
fn fixed_hono_app_answers_429_on_the_sixth_request() {
    node_app("fix-hono", "server.mjs", "Hono on Node (hono-rate-limiter)");
}

/// GET `path` with `Origin: origin`: the Access-Control-Allow-Origin and
/// Vary headers of the answer.
fn get_with_origin(port: u16, path: &str, origin: &str) -> (Option<String>, Option<String>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the app");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: {origin}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let header = |wanted: &str| {
        response.lines().find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case(wanted)
                .then(|| value.trim().to_string())
        })
    };
    (header("access-control-allow-origin"), header("vary"))
}

/// The hand-set CORS header fixed by aiguard, run: an origin listed in
/// CORS_ORIGINS is echoed, any other gets the first listed origin (which
/// the browser refuses), with `Vary: Origin` (Express, Flask, a FastAPI
/// middleware).
#[test]
fn fixed_hand_set_cors_headers_echo_only_listed_origins() {
    let _guard = one_at_a_time();
    let dir = fixed("fix-cors-headers");
    let check = |port: u16, what: &str| {
        let (allowed, vary) = get_with_origin(port, "/api/status", "https://b.example");
        assert_eq!(allowed.as_deref(), Some("https://b.example"), "{what}");
        assert!(
            vary.is_some_and(|v| v.contains("Origin")),
            "{what}: no Vary"
        );
        let (allowed, _) = get_with_origin(port, "/api/status", "https://evil.example");
        assert_eq!(allowed.as_deref(), Some("https://a.example"), "{what}");
    };
    match node_env() {
        Err(why) => eprintln!("skipped (Express): {why}"),
        Ok(modules) => {
            let app = dir.path().join("express");
            std::os::unix::fs::symlink(&modules, app.join("node_modules")).unwrap();
            let port = free_port();
            let mut command = Command::new("node");
            command
                .arg("server.js")
                .current_dir(&app)
                .env("PORT", port.to_string())
                .env("CORS_ORIGINS", "https://a.example,https://b.example")
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            let mut server = Server(command.spawn().unwrap());
            wait_listening(port, &mut server);
            check(port, "Express");
        }
    }
    match python_env() {
        Err(why) => eprintln!("skipped (Flask): {why}"),
        Ok(bin) => {
            let port = free_port();
            let mut command = Command::new(bin.join("python"));
            command
                .args([
                    "-m",
                    "flask",
                    "--app",
                    "app",
                    "run",
                    "--host",
                    "127.0.0.1",
                    "--port",
                ])
                .arg(port.to_string())
                .current_dir(dir.path().join("flask"))
                .env("CORS_ORIGINS", "https://a.example, https://b.example")
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            let mut server = Server(command.spawn().unwrap());
            wait_listening(port, &mut server);
            check(port, "Flask");
            drop(server);
            let port = free_port();
            let mut command = Command::new(bin.join("python"));
            command
                .args(["-m", "uvicorn", "main:app", "--host", "127.0.0.1", "--port"])
                .arg(port.to_string())
                .current_dir(dir.path().join("fastapi"))
                .env("CORS_ORIGINS", "https://a.example,https://b.example")
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            let mut server = Server(command.spawn().unwrap());
            wait_listening(port, &mut server);
            check(port, "FastAPI middleware");
        }
    }
}

#[test]
fn fixed_fastify_app_answers_429_on_the_sixth_request() {
    node_app("fix-fastify", "server.mjs", "Fastify (@fastify/rate-limit)");
}

/// The per-day check of the Fastify fix (its own count, beside the
/// plugin's per-minute limit): with 10 a minute and 3 a day, the fourth
/// request of the day gets 429.
#[test]
fn fixed_fastify_app_caps_the_day() {
    let _guard = one_at_a_time();
    let modules = match node_env() {
        Ok(m) => m,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let dir = materialize("fix-fastify");
    git_init(dir.path());
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "fixture"]);
    let run = aiguard(
        &["fix", ".", "--per-minute", "10", "--per-day", "3"],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    std::os::unix::fs::symlink(&modules, dir.path().join("node_modules")).unwrap();
    let port = free_port();
    let mock = mock_openai();
    let mut command = Command::new("node");
    command
        .arg("server.mjs")
        .current_dir(dir.path())
        .env("OPENAI_API_KEY", "test-key-not-real")
        .env("OPENAI_BASE_URL", format!("http://127.0.0.1:{mock}/v1"))
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut server = Server(command.spawn().unwrap());
    wait_listening(port, &mut server);
    let codes: Vec<u16> = (0..4).map(|_| post_chat(port)).collect();
    assert_eq!(codes, [200, 200, 200, 429], "Fastify per-day check");
}

#[test]
fn fixed_next_app_type_checks_against_next_and_upstash() {
    let _guard = one_at_a_time();
    let modules = match node_env() {
        Ok(m) => m,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let dir = fixed("fix-next");
    assert!(dir.path().join("lib/ratelimit.ts").is_file());
    assert!(dir.path().join("lib/ratelimit-action.ts").is_file());
    let action = std::fs::read_to_string(dir.path().join("app/actions.ts")).unwrap();
    assert!(action.contains("await limitAction();"), "{action}");
    std::os::unix::fs::symlink(&modules, dir.path().join("node_modules")).unwrap();
    let tsc = Command::new("node")
        .arg(modules.join("typescript/bin/tsc"))
        .args(["--noEmit", "-p", "tsconfig.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(tsc.status.success(), "tsc --noEmit: {}", text(&tsc));
    // And it fails when the module is broken (the check is real).
    std::fs::write(
        dir.path().join("lib/ratelimit.ts"),
        "export const perDay = 1;\n",
    )
    .unwrap();
    let broken = Command::new("node")
        .arg(modules.join("typescript/bin/tsc"))
        .args(["--noEmit", "-p", "tsconfig.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        !broken.status.success(),
        "tsc accepted a route importing missing names"
    );
}

/// `tsc --noEmit` (strict) in `dir` over `include`, with the packages.
fn type_check(dir: &std::path::Path, modules: &std::path::Path, include: &[&str]) -> Output {
    let tsconfig = serde_json::json!({
        "compilerOptions": {
            "target": "ES2022",
            "lib": ["dom", "dom.iterable", "es2022"],
            "module": "esnext",
            "moduleResolution": "bundler",
            "strict": true,
            "noEmit": true,
            "skipLibCheck": true,
            "types": ["node"]
        },
        "include": include
    });
    std::fs::write(dir.join("tsconfig.json"), tsconfig.to_string()).unwrap();
    if !dir.join("node_modules").exists() {
        std::os::unix::fs::symlink(modules, dir.join("node_modules")).unwrap();
    }
    Command::new("node")
        .arg(modules.join("typescript/bin/tsc"))
        .args(["--noEmit", "-p", "tsconfig.json"])
        .current_dir(dir)
        .output()
        .unwrap()
}

/// The hand-set CORS fix in Next.js route handlers and middleware and in a
/// Hono middleware, and the
/// Fastify fix in TypeScript, type-check (strict) against the real `next`
/// and `fastify` / `@fastify/rate-limit`.
#[test]
fn fixed_cors_headers_and_fastify_type_check() {
    let _guard = one_at_a_time();
    let modules = match node_env() {
        Ok(m) => m,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let dir = fixed("fix-cors-headers");
    let web = dir.path().join("web");
    let route = std::fs::read_to_string(web.join("app/api/data/route.ts")).unwrap();
    assert!(
        route.contains("allowedOrigin(request.headers.get"),
        "{route}"
    );
    let tsc = type_check(&web, &modules, &["app/**/*.ts", "middleware.ts"]);
    assert!(tsc.status.success(), "tsc (Next.js): {}", text(&tsc));
    let tsc = type_check(&dir.path().join("hono"), &modules, &["src/**/*.ts"]);
    assert!(tsc.status.success(), "tsc (Hono): {}", text(&tsc));

    let server = "import Fastify from \"fastify\";\n\nconst app = Fastify();\n\napp.post(\"/api/chat\", async (request) => {\n  const r = await fetch(\"https://api.openai.com/v1/chat/completions\", { method: \"POST\", body: JSON.stringify({ model: \"gpt-4o-mini\", max_tokens: 50, messages: [{ role: \"user\", content: String(request.body) }] }) });\n  return r.json();\n});\n\napp.listen({ port: 3000 });\n";
    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("server.ts"), server).unwrap();
    std::fs::write(
        project.path().join(".gitignore"),
        ".env\n.env.*\n!.env.example\nnode_modules\ntsconfig.json\n",
    )
    .unwrap();
    git_init(project.path());
    git(project.path(), &["add", "-A"]);
    git(project.path(), &["commit", "-qm", "fastify"]);
    let run = aiguard(&["fix", ".", "--select", "rate-limit"], project.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let fixed = std::fs::read_to_string(project.path().join("server.ts")).unwrap();
    assert!(
        fixed.contains("preHandler: aiRateLimit"),
        "{fixed}\n{}",
        run.stdout
    );
    let tsc = type_check(project.path(), &modules, &["server.ts"]);
    assert!(
        tsc.status.success(),
        "tsc (Fastify): {}\n{fixed}",
        text(&tsc)
    );
}

/// Every TS/JS file `aiguard fix` changes in any fixture parses with the
/// TypeScript compiler (syntax: `transpileModule` diagnostics; the types of
/// packages the fixtures do not install are not checked here).
#[test]
fn every_fixed_script_parses_with_the_typescript_compiler() {
    let _guard = one_at_a_time();
    let modules = match node_env() {
        Ok(m) => m,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let script = r#"
const ts = require(process.argv[1]);
const fs = require("fs");
let bad = 0;
for (const file of process.argv.slice(2)) {
  const out = ts.transpileModule(fs.readFileSync(file, "utf8"), {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { allowJs: true, jsx: ts.JsxEmit.Preserve },
  });
  for (const d of out.diagnostics) {
    bad++;
    console.log(file + ": " + ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  }
}
process.exit(bad ? 1 : 0);
"#;
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("fixtures"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("fixture.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut checked = 0;
    for name in names {
        let dir = fixed(&name);
        let status = Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=all"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let files: Vec<String> = String::from_utf8_lossy(&status.stdout)
            .lines()
            .map(|l| l[3..].to_string())
            .filter(|f| {
                [".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs"]
                    .iter()
                    .any(|e| f.ends_with(e))
            })
            .collect();
        if files.is_empty() {
            continue;
        }
        checked += files.len();
        let out = Command::new("node")
            .arg("-e")
            .arg(script)
            .arg(modules.join("typescript"))
            .args(&files)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", text(&out));
    }
    assert!(checked >= 10, "only {checked} fixed scripts");
}
