//! `aiguard fix` on a copy of every fixture: what it says it fixed no
//! longer fails the re-audit, no new error appears, the fixed Python files
//! compile (`python3 -m py_compile`), the fixed TS/JS files parse without
//! syntax errors, and a second run has nothing to do. Plus the command's
//! contract: `--diff` writes nothing and exits 1/0, dirty files are
//! refused, CRLF and permissions survive.

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::Path;

/// A fixture copy committed to a fresh repository (as a user's project).
fn committed(name: &str) -> tempfile::TempDir {
    let dir = materialize(name);
    git_init(dir.path());
    git(dir.path(), &["add", "-A"]);
    // Tracked although ignored, as in the fixture's scenario.
    let spec =
        std::fs::read_to_string(repo_root().join("fixtures").join(name).join("fixture.toml"))
            .unwrap();
    let spec: toml::Value = toml::from_str(&spec).unwrap();
    for f in spec
        .get("force_add")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        git(dir.path(), &["add", "-f", f.as_str().unwrap()]);
    }
    git(dir.path(), &["commit", "-qm", "fixture", "--allow-empty"]);
    dir
}

/// `check rule path` of every error finding (lines shift when fixing).
fn errors(json: &serde_json::Value) -> BTreeSet<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            format!(
                "{} {} {}",
                f["check"].as_str().unwrap(),
                f["rule"].as_str().unwrap(),
                f["path"].as_str().unwrap()
            )
        })
        .collect()
}

/// `(path, rule)` of each "Fixed:" line.
fn fixed_lines(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .skip_while(|l| *l != "Fixed:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| {
            let mut parts = l.split("  ").map(str::trim).filter(|s| !s.is_empty());
            Some((parts.next()?.to_string(), parts.next()?.to_string()))
        })
        .collect()
}

fn changed_files(dir: &Path) -> Vec<String> {
    let out = std::process::Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=all"])
        .current_dir(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l[3..].trim_matches('"').to_string())
        .collect()
}

fn python_compiles(dir: &Path, files: &[String]) -> Result<(), String> {
    let py: Vec<&String> = files.iter().filter(|f| f.ends_with(".py")).collect();
    if py.is_empty() {
        return Ok(());
    }
    let out = std::process::Command::new("python3")
        .args(["-m", "py_compile"])
        .args(&py)
        .current_dir(dir)
        .output();
    match out {
        Err(e) => Err(format!("python3 could not run: {e}")),
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "py_compile: {}",
            String::from_utf8_lossy(&o.stderr)
        )),
    }
}

fn scripts_parse(dir: &Path, files: &[String]) -> Result<(), String> {
    let mut parsers = aiguard::lang::Parsers::default();
    for f in files {
        let Some(lang) = aiguard::lang::Lang::from_path(Path::new(f)) else {
            continue;
        };
        if lang.is_python() {
            continue;
        }
        let bytes = std::fs::read(dir.join(f)).map_err(|e| format!("{f}: {e}"))?;
        let tree = parsers.parse(lang, &bytes).ok_or(format!("{f}: no tree"))?;
        if tree.root_node().has_error() {
            return Err(format!("{f}: syntax error after the fix"));
        }
    }
    Ok(())
}

fn fix_fixture(name: &str) -> Result<usize, String> {
    let dir = committed(name);
    let (_, before, _) = audit_json(dir.path(), &[]);
    let run = aiguard(&["fix", "."], dir.path());
    if run.code != 0 {
        return Err(format!(
            "fix exit {}: {}{}",
            run.code, run.stdout, run.stderr
        ));
    }
    let fixed = fixed_lines(&run.stdout);
    let (_, after, _) = audit_json(dir.path(), &[]);
    let mut problems = Vec::new();
    // Files a fix only adds to (a variable name, a dependency) may hold
    // findings of the same rule that stay manual (a key in .env.example);
    // elsewhere each fixed (path, rule) has fewer findings than before
    // (lines shift, and a file may hold a second, manual one).
    let auxiliary = [
        ".env.example",
        ".env",
        "requirements.txt",
        "package.json",
        "pyproject.toml",
    ];
    let count = |json: &serde_json::Value, key: &(String, String)| {
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["path"] == key.0.as_str() && f["rule"] == key.1.as_str())
            .count()
    };
    for key in &fixed {
        let aux = auxiliary
            .iter()
            .any(|a| key.0 == *a || key.0.ends_with(&format!("/{a}")));
        let (was, is) = (count(&before, key), count(&after, key));
        if !aux && was > 0 && is >= was {
            problems.push(format!(
                "still flagged after the fix: {} {} ({is} of {was})",
                key.0, key.1
            ));
        }
    }
    let new: Vec<_> = errors(&after)
        .difference(&errors(&before))
        .cloned()
        .collect();
    if !new.is_empty() {
        problems.push(format!("new errors: {new:?}"));
    }
    let changed = changed_files(dir.path());
    if let Err(e) = python_compiles(dir.path(), &changed) {
        problems.push(e);
    }
    if let Err(e) = scripts_parse(dir.path(), &changed) {
        problems.push(e);
    }
    let again = aiguard(&["fix", "--diff", ".", "--allow-dirty"], dir.path());
    if again.code != 0 || !again.stdout.is_empty() {
        problems.push(format!(
            "second run not a no-op (exit {}):\n{}",
            again.code, again.stdout
        ));
    }
    match problems.is_empty() {
        true => Ok(fixed.len()),
        false => Err(format!(
            "{name}:\n  {}\n  fix output:\n{}",
            problems.join("\n  "),
            run.stdout
        )),
    }
}

#[test]
fn every_fixture_is_fixed_safely_and_once() {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("fixtures"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("fixture.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let mut fixed_any = 0;
    for name in &names {
        match fix_fixture(name) {
            Ok(n) => fixed_any += (n > 0) as usize,
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        fixed_any >= 10,
        "only {fixed_any} fixtures had something fixed"
    );
}

#[test]
fn demo_keeps_only_what_has_no_automatic_fix() {
    let dir = committed("demo");
    let run = aiguard(&["fix", "."], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let (_, json, _) = audit_json(dir.path(), &[]);
    let left: BTreeSet<String> = json["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] != "pass" && i["status"] != "skipped")
        .map(|i| i["check"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        left,
        BTreeSet::from(["auth".to_string(), "spend-limits".to_string()]),
        "{}",
        run.stdout
    );
    let main = std::fs::read_to_string(dir.path().join("backend/app/main.py")).unwrap();
    for expected in [
        "limiter = Limiter(key_func=get_remote_address, storage_uri=os.environ.get(\"RATE_LIMIT_STORAGE_URI\"))",
        "app.state.limiter = limiter",
        "app.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)",
        "@app.post(\"/api/chat\")\n@limiter.limit(\"5/minute\")\n@limiter.limit(\"50/day\")\nasync def chat(request: Request, body: ChatRequest):",
    ] {
        assert!(main.contains(expected), "missing {expected:?} in:\n{main}");
    }
    // The key moved to the ignored .env; the manual steps say to rotate it.
    let env = std::fs::read_to_string(dir.path().join("backend/.env")).unwrap();
    assert!(env.starts_with("OPENAI_API_KEY=sk-proj-"));
    assert!(run.stdout.contains("Rotate these keys"), "{}", run.stdout);
    assert!(
        !run.stdout
            .contains(env.trim().trim_start_matches("OPENAI_API_KEY=")),
        "the key is printed in full"
    );
    // git rm --cached: untracked, still on disk.
    assert!(dir.path().join("frontend/.env.local").is_file());
}

#[test]
fn diff_writes_nothing_and_exits_1_then_0() {
    let dir = committed("demo");
    let before = changed_files(dir.path());
    let run = aiguard(&["fix", "--diff", "."], dir.path());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("--- a/backend/app/main.py\n+++ b/backend/app/main.py\n@@ "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+@limiter.limit(\"5/minute\")"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains(
            &std::fs::read_to_string(dir.path().join("backend/app/config.py")).unwrap()[40..90]
        ),
        "key in the diff"
    );
    assert_eq!(changed_files(dir.path()), before, "--diff wrote something");
    let selected = aiguard(
        &["fix", "--diff", "--select", "spend-limits", "."],
        dir.path(),
    );
    assert_eq!((selected.code, selected.stdout.as_str()), (0, ""));
    let limits = aiguard(
        &[
            "fix",
            "--diff",
            "--select",
            "rate-limit",
            "--per-minute",
            "7",
            "--per-day",
            "70",
            ".",
        ],
        dir.path(),
    );
    assert!(
        limits.stdout.contains("@limiter.limit(\"7/minute\")")
            && limits.stdout.contains("\"70/day\""),
        "{}",
        limits.stdout
    );
    assert!(
        !limits.stdout.contains(".gitignore"),
        "--select rate-limit fixed the gitignore"
    );
}

#[test]
fn config_sets_the_limits() {
    let dir = committed("ratelimit-flask");
    std::fs::write(
        dir.path().join("aiguard.toml"),
        "[fix]\nper-minute = 3\nper-day = 30\n",
    )
    .unwrap();
    let run = aiguard(&["fix", "--diff", "."], dir.path());
    assert!(
        run.stdout.contains("@limiter.limit(\"3 per minute\")"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    std::fs::write(dir.path().join("aiguard.toml"), "[fix]\nper-hour = 3\n").unwrap();
    let run = aiguard(&["fix", "--diff", "."], dir.path());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("aiguard.toml:2"), "{}", run.stderr);
}

#[test]
fn dirty_files_are_refused_unless_allowed() {
    let dir = committed("ratelimit-flask");
    let ops = dir.path().join("app/ops.py");
    let mut text = std::fs::read_to_string(&ops).unwrap();
    text.push_str("\n# work in progress\n");
    std::fs::write(&ops, &text).unwrap();
    let run = aiguard(&["fix", "."], dir.path());
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("app/ops.py") && run.stderr.contains("--allow-dirty"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&ops).unwrap(), text);
    let run = aiguard(&["fix", ".", "--allow-dirty"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(std::fs::read_to_string(&ops)
        .unwrap()
        .ends_with("# work in progress\n"));
    // Outside git: refused too.
    let plain = materialize("ratelimit-flask");
    let run = aiguard(&["fix", "."], plain.path());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--allow-dirty"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn crlf_and_permissions_survive() {
    use std::os::unix::fs::PermissionsExt;
    let dir = committed("ratelimit-flask");
    let ops = dir.path().join("app/ops.py");
    let crlf = std::fs::read_to_string(&ops).unwrap().replace('\n', "\r\n");
    std::fs::write(&ops, &crlf).unwrap();
    std::fs::set_permissions(&ops, std::fs::Permissions::from_mode(0o751)).unwrap();
    git(dir.path(), &["commit", "-qam", "crlf"]);
    let run = aiguard(&["fix", "."], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let after = std::fs::read_to_string(&ops).unwrap();
    assert!(
        after.contains("@limiter.limit(\"5 per minute\")\r\n"),
        "{after:?}"
    );
    assert_eq!(
        after.matches('\n').count(),
        after.matches("\r\n").count(),
        "a bare LF"
    );
    let mode = std::fs::metadata(&ops).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o751);
}

#[test]
fn public_env_secret_is_renamed_only_when_server_code_reads_it() {
    let dir = committed("fix-public-env");
    let run = aiguard(&["fix", ".", "--select", "keys-in-client"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let route = std::fs::read_to_string(dir.path().join("app/api/chat/route.ts")).unwrap();
    assert!(route.contains("process.env.OPENAI_API_KEY"), "{route}");
    let example = std::fs::read_to_string(dir.path().join(".env.example")).unwrap();
    assert_eq!(example, "OPENAI_API_KEY=\nNEXT_PUBLIC_SITE_NAME=chat\n");
    assert!(
        run.stdout
            .contains("rename it in your hosting and CI settings"),
        "{}",
        run.stdout
    );
    // Browser code reads it here: nothing renamed, the manual step says why.
    let client = committed("client-next-app");
    let run = aiguard(
        &["fix", "--diff", ".", "--select", "public-env-secret"],
        client.path(),
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, ""),
        "renamed a variable browser code reads"
    );
}

/// A project written in a temp repository.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = write_project(files);
    git_init(dir.path());
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "project"]);
    dir
}

#[test]
fn an_existing_request_parameter_is_kept_working() {
    let main = r#"from fastapi import FastAPI, Request
from openai import OpenAI
from pydantic import BaseModel

app = FastAPI()
client = OpenAI()


class ChatRequest(BaseModel):
    message: str


@app.post("/chat")
async def chat(request: ChatRequest):
    r = client.chat.completions.create(model="gpt-4o-mini", max_tokens=50, messages=[{"role": "user", "content": request.message}])
    return {"reply": r.choices[0].message.content, "echo": "request"}


@app.post("/raw")
async def raw(request: Request):
    body = await request.json()
    r = client.chat.completions.create(model="gpt-4o-mini", max_tokens=50, messages=[{"role": "user", "content": body["m"]}])
    return {"reply": r.choices[0].message.content}
"#;
    let dir = project(&[
        ("app/main.py", main),
        ("requirements.txt", "fastapi\nopenai\n"),
        (".gitignore", ".env\n.env.*\n!.env.example\n"),
    ]);
    let run = aiguard(&["fix", ".", "--select", "rate-limit"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let fixed = std::fs::read_to_string(dir.path().join("app/main.py")).unwrap();
    assert!(
        fixed.contains("async def chat(request: Request, payload: ChatRequest):"),
        "{fixed}"
    );
    assert!(fixed.contains("\"content\": payload.message}"), "{fixed}");
    assert!(
        fixed.contains("\"echo\": \"request\""),
        "a string was renamed: {fixed}"
    );
    assert!(
        fixed.contains("async def raw(request: Request):"),
        "{fixed}"
    );
    assert_eq!(
        fixed.matches("@limiter.limit(\"5/minute\")").count(),
        2,
        "{fixed}"
    );
    python_compiles(dir.path(), &["app/main.py".to_string()]).unwrap();
    let (_, json, _) = audit_json(dir.path(), &["--select", "rate-limit"]);
    assert_eq!(status_of(&json, "rate-limit"), "pass", "{json}");
}

#[test]
fn pyproject_dependencies_get_slowapi_and_unknown_ids_are_refused() {
    let main = r#"from fastapi import FastAPI
from openai import OpenAI

app = FastAPI()
client = OpenAI()


@app.post("/chat")
def chat(message: str):
    r = client.chat.completions.create(model="gpt-4o-mini", max_tokens=50, messages=[{"role": "user", "content": message}])
    return {"reply": r.choices[0].message.content}
"#;
    let pyproject = "[project]\nname = \"chat\"\nversion = \"0.1.0\"\ndependencies = [\n    \"fastapi>=0.110\",\n    \"openai>=1.40\",\n]\n";
    let dir = project(&[("chat/main.py", main), ("pyproject.toml", pyproject)]);
    let unknown = aiguard(&["fix", ".", "--select", "rate-limitt"], dir.path());
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    let run = aiguard(&["fix", ".", "--select", "rate-limit"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let text = std::fs::read_to_string(dir.path().join("pyproject.toml")).unwrap();
    assert!(
        text.contains("    \"openai>=1.40\",\n    \"slowapi>=0.1.9\",\n]"),
        "{text}"
    );
    assert!(!dir.path().join("requirements.txt").exists());
    assert!(
        run.stdout.contains("pip install 'slowapi>=0.1.9'"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_key_is_not_written_to_a_dotenv_git_would_commit() {
    let dir = committed("demo");
    // The .gitignore gaps stay (not selected): .env would not be ignored.
    let run = aiguard(&["fix", ".", "--select", "keys-in-code"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!dir.path().join("backend/.env").exists(), "{}", run.stdout);
    let config = std::fs::read_to_string(dir.path().join("backend/app/config.py")).unwrap();
    assert!(
        config.contains("OPENAI_API_KEY = os.environ[\"OPENAI_API_KEY\"]"),
        "{config}"
    );
    assert!(
        run.stdout.contains("OPENAI_API_KEY  the key\n"),
        "{}",
        run.stdout
    );
}

/// slowapi-decorator-order: the route decorator goes on top, and the
/// handler gets `request: Request` (slowapi raises without it) exactly
/// once, whether the limit fix asks for it too (`/ask`, an AI endpoint)
/// or only the order fix does (`/ping`). Found by the `fix_plan` fuzz
/// target: the second run added what the first had not, or the first
/// added it twice (a duplicate argument, a SyntaxError).
#[test]
fn hand_set_cors_headers_check_the_origin_in_each_idiom() {
    let dir = committed("fix-cors-headers");
    let run = aiguard(&["fix", ".", "--select", "cors"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
    for (path, expected) in [
        ("express/server.js", "res.setHeader(\"Access-Control-Allow-Origin\", allowedOrigin(req.headers.origin));\n  res.vary(\"Origin\");\n"),
        ("express/server.js", "res.header(\"Access-Control-Allow-Origin\", allowedOrigin(req.headers.origin));\n"),
        ("express/server.js", "function allowedOrigin(origin) {"),
        ("flask/app.py", "response.headers[\"Access-Control-Allow-Origin\"] = allowed_origin(request.headers.get(\"Origin\"))\n    response.vary.add(\"Origin\")\n"),
        ("flask/app.py", "from flask import request\n"),
        ("fastapi/main.py", "response.headers[\"Access-Control-Allow-Origin\"] = allowed_origin(request.headers.get(\"origin\"))\n    response.headers.append(\"Vary\", \"Origin\")\n"),
        ("hono/src/index.ts", "c.header(\"Access-Control-Allow-Origin\", allowedOrigin(c.req.header(\"origin\")));\n"),
        ("hono/src/index.ts", "function allowedOrigin(origin: string | null | undefined): string {"),
        ("web/middleware.ts", "response.headers.set(\"Access-Control-Allow-Origin\", allowedOrigin(request.headers.get(\"origin\")));\n  response.headers.append(\"Vary\", \"Origin\");\n"),
        ("web/app/api/data/route.ts", "export async function GET(request: Request) {"),
        ("web/app/api/data/route.ts", "{ headers: { \"Access-Control-Allow-Origin\": allowedOrigin(request.headers.get(\"origin\")), Vary: \"Origin\" } },"),
        ("web/next.config.js", "value: (process.env.CORS_ORIGINS ?? \"http://localhost:3000\").split(\",\")[0].trim() }"),
    ] {
        let text = read(path);
        assert!(text.contains(expected), "{path}: missing {expected:?} in:\n{text}");
    }
    // The helper is added once per file, however many headers it fixes.
    assert_eq!(
        read("express/server.js")
            .matches("function allowedOrigin(")
            .count(),
        1
    );
    for app in ["express", "flask", "fastapi", "hono", "web"] {
        assert_eq!(
            read(&format!("{app}/.env.example")),
            "CORS_ORIGINS=http://localhost:3000\n",
            "{app}"
        );
    }
    assert!(
        run.stdout
            .contains("only the first origin in CORS_ORIGINS is sent"),
        "{}",
        run.stdout
    );
    let (_, json, _) = audit_json(dir.path(), &[]);
    assert_eq!(status_of(&json, "cors"), "pass", "{json}");
    // The Python helper itself: an allowed origin is echoed, another is not.
    let probe = "import os\nos.environ['CORS_ORIGINS'] = 'https://a.example, https://b.example'\nsrc = open('fastapi/main.py').read()\nhelper = src[src.index('def allowed_origin'):src.index('app = FastAPI()')]\nns = {'os': os}\nexec(helper, ns)\nassert ns['allowed_origin']('https://b.example') == 'https://b.example'\nassert ns['allowed_origin']('https://evil.example') == 'https://a.example'\nassert ns['allowed_origin'](None) == 'https://a.example'\n";
    let out = std::process::Command::new("python3")
        .args(["-c", probe])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fastify_routes_get_the_plugin_and_a_per_minute_and_per_day_check() {
    let dir = committed("fix-fastify");
    let run = aiguard(&["fix", ".", "--select", "rate-limit"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let server = std::fs::read_to_string(dir.path().join("server.mjs")).unwrap();
    for expected in [
        "import rateLimit from \"@fastify/rate-limit\";\n",
        "const fastify = Fastify();\nfastify.register(rateLimit, { global: false });\n",
        "createRateLimit({ max: 5, timeWindow: \"1 minute\" })",
        "createRateLimit({ max: 50, timeWindow: \"1 day\" })",
        "fastify.post(\"/api/chat\", { preHandler: aiRateLimit }, async (request) => {",
        "fastify.post(\"/api/summarize\", { preHandler: aiRateLimit, schema: { body: {",
        "fastify.get(\"/health\", async () => ({ ok: true }));",
    ] {
        assert!(
            server.contains(expected),
            "missing {expected:?} in:\n{server}"
        );
    }
    assert_eq!(server.matches("async function aiRateLimit(").count(), 1);
    let package = std::fs::read_to_string(dir.path().join("package.json")).unwrap();
    assert!(
        package.contains("\"@fastify/rate-limit\": \"^10.3.0\""),
        "{package}"
    );
    // CommonJS and TypeScript: a require, and typed parameters.
    let cjs = "const Fastify = require(\"fastify\");\nconst OpenAI = require(\"openai\");\n\nconst app = Fastify({ logger: true });\nconst client = new OpenAI();\n\napp.post(\"/chat\", async (request) => {\n  const r = await client.chat.completions.create({ model: \"gpt-4o-mini\", max_tokens: 50, messages: [{ role: \"user\", content: request.body.m }] });\n  return { reply: r.choices[0].message.content };\n});\n\napp.listen({ port: 3000 });\n";
    let ts = cjs
        .replace(
            "const Fastify = require(\"fastify\");",
            "import Fastify from \"fastify\";",
        )
        .replace(
            "const OpenAI = require(\"openai\");",
            "import OpenAI from \"openai\";",
        );
    let dir = project(&[
        ("cjs/server.js", cjs),
        (
            "cjs/package.json",
            "{ \"dependencies\": { \"fastify\": \"^5.0.0\" } }\n",
        ),
        ("ts/server.ts", &ts),
        (".gitignore", ".env\n.env.*\n!.env.example\n"),
    ]);
    let run = aiguard(&["fix", ".", "--select", "rate-limit"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let cjs = std::fs::read_to_string(dir.path().join("cjs/server.js")).unwrap();
    assert!(
        cjs.contains("const rateLimit = require(\"@fastify/rate-limit\");\n")
            && cjs.contains("app.register(rateLimit, { global: false });")
            && cjs.contains("app.post(\"/chat\", { preHandler: aiRateLimit }, async"),
        "{cjs}"
    );
    let ts = std::fs::read_to_string(dir.path().join("ts/server.ts")).unwrap();
    assert!(
        ts.contains("async function aiRateLimit(request: FastifyRequest, reply: FastifyReply) {")
            && ts.contains(
                "import type { FastifyInstance, FastifyReply, FastifyRequest } from \"fastify\";"
            ),
        "{ts}"
    );
    scripts_parse(
        dir.path(),
        &["cjs/server.js".to_string(), "ts/server.ts".to_string()],
    )
    .unwrap();
    let (_, json, _) = audit_json(dir.path(), &["--select", "rate-limit"]);
    assert_eq!(status_of(&json, "rate-limit"), "pass", "{json}");
}

#[test]
fn a_projects_own_limiter_is_imported_not_duplicated() {
    let dir = committed("fix-own-limiter");
    let run = aiguard(&["fix", ".", "--select", "rate-limit"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
    let chat = read("api/app/routers/chat.py");
    assert!(
        chat.contains("from ..limiter import limiter\n")
            && chat.contains("@router.post(\"/chat\")\n@limiter.limit(\"5/minute\")\n@limiter.limit(\"50/day\")\nasync def chat(request: Request, body: ChatRequest):"),
        "{chat}"
    );
    let web = read("web/routes/chat.py");
    assert!(
        web.contains("from extensions import limiter\n")
            && web.contains("@chat_bp.post(\"/chat\")\n@limiter.limit(\"5 per minute\")\n@limiter.limit(\"50 per day\")\ndef chat():"),
        "{web}"
    );
    // No second limiter, no dependency, nothing else touched.
    let node = read("node/chat.js");
    assert!(
        node.contains("const { aiLimiter } = require(\"./middleware/limits\");\n")
            && node.contains("router.post(\"/api/chat\", aiLimiter, async (req, res) => {"),
        "{node}"
    );
    assert_eq!(
        changed_files(dir.path()),
        [
            "api/app/routers/chat.py",
            "node/chat.js",
            "web/routes/chat.py"
        ],
        "{}",
        run.stdout
    );
    assert!(!node.contains("aiPerMinute"), "{node}");
    assert!(!chat.contains("Limiter(") && !web.contains("Limiter("));

    // A limiter made in the app's module, which imports the router: importing
    // it back would be a cycle, so the router gets its own.
    let main = "from fastapi import FastAPI\nfrom slowapi import Limiter, _rate_limit_exceeded_handler\nfrom slowapi.errors import RateLimitExceeded\nfrom slowapi.util import get_remote_address\n\nfrom .routers import chat\n\nlimiter = Limiter(key_func=get_remote_address)\napp = FastAPI()\napp.state.limiter = limiter\napp.add_exception_handler(RateLimitExceeded, _rate_limit_exceeded_handler)\napp.include_router(chat.router)\n";
    let router = "from fastapi import APIRouter, Request\nfrom openai import OpenAI\n\nrouter = APIRouter()\nclient = OpenAI()\n\n\n@router.post(\"/chat\")\nasync def chat(request: Request):\n    r = client.chat.completions.create(model=\"gpt-4o-mini\", max_tokens=50, messages=[{\"role\": \"user\", \"content\": \"hi\"}])\n    return {\"reply\": r.choices[0].message.content}\n";
    let cyclic = project(&[
        ("app/__init__.py", ""),
        ("app/main.py", main),
        ("app/routers/__init__.py", ""),
        ("app/routers/chat.py", router),
        ("requirements.txt", "fastapi\nslowapi\nopenai\n"),
        (".gitignore", ".env\n.env.*\n!.env.example\n"),
    ]);
    let run = aiguard(&["fix", ".", "--select", "rate-limit"], cyclic.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let fixed = std::fs::read_to_string(cyclic.path().join("app/routers/chat.py")).unwrap();
    assert!(!fixed.contains("main import"), "an import cycle:\n{fixed}");
    assert!(fixed.contains("limiter = Limiter("), "{fixed}");
}

#[test]
fn a_project_limiting_with_another_library_gets_no_second_one() {
    let limiter = "const { RateLimiterMemory } = require(\"rate-limiter-flexible\");\n\nconst limiter = new RateLimiterMemory({ points: 5, duration: 60 });\n\nasync function limit(req, res, next) {\n  try {\n    await limiter.consume(req.ip);\n    next();\n  } catch {\n    res.status(429).send(\"Too many requests\");\n  }\n}\n\nmodule.exports = { limit };\n";
    let server = "const express = require(\"express\");\nconst OpenAI = require(\"openai\");\nconst { limit } = require(\"./limit\");\n\nconst app = express();\nconst client = new OpenAI();\n\napp.post(\"/api/chat\", async (req, res) => {\n  const r = await client.chat.completions.create({ model: \"gpt-4o-mini\", max_tokens: 50, messages: [{ role: \"user\", content: req.body.m }] });\n  res.json({ reply: r.choices[0].message.content });\n});\n\napp.listen(3000);\n";
    let dir = project(&[
        ("limit.js", limiter),
        ("server.js", server),
        (
            "package.json",
            "{ \"dependencies\": { \"express\": \"^4.19.2\", \"rate-limiter-flexible\": \"^5.0.0\" } }\n",
        ),
        (".gitignore", ".env\n.env.*\n!.env.example\n"),
    ]);
    let run = aiguard(&["fix", ".", "--select", "rate-limit"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        changed_files(dir.path()),
        Vec::<String>::new(),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("the project limits with rate-limiter-flexible (limit.js:3); apply that limiter to POST /api/chat too"),
        "{}",
        run.stdout
    );
}

#[test]
fn keys_move_into_the_projects_settings_object() {
    let dir = committed("fix-keys-settings");
    let run = aiguard(
        &["fix", ".", "--select", "keys-in-code,env-gitignore"],
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
    let config = read("flaskapp/config.py");
    let service = read("flaskapp/services/summarize.py");
    let settings = read("djangosite/mysite/settings.py");
    let llm = read("djangosite/chat/llm.py");
    // A key in the settings class: read in the class's idiom.
    assert!(
        config.contains("    ANTHROPIC_API_KEY = os.environ.get(\"ANTHROPIC_API_KEY\")\n"),
        "{config}"
    );
    // A key in code importing the settings class: an attribute of it.
    assert!(
        config.contains("    OPENAI_API_KEY = os.environ.get(\"OPENAI_API_KEY\")\n"),
        "{config}"
    );
    assert!(
        service.contains("client = OpenAI(api_key=Config.OPENAI_API_KEY)\n"),
        "{service}"
    );
    assert!(!service.contains("import os"), "{service}");
    // Django: settings.NAME, read in settings.py's idiom.
    assert!(
        settings.ends_with("ANTHROPIC_API_KEY = os.getenv(\"ANTHROPIC_API_KEY\")\n"),
        "{settings}"
    );
    assert!(
        llm.contains("from django.conf import settings\n")
            && llm.contains("client = Anthropic(api_key=settings.ANTHROPIC_API_KEY)\n"),
        "{llm}"
    );
    python_compiles(
        dir.path(),
        &[
            "flaskapp/config.py".into(),
            "flaskapp/services/summarize.py".into(),
            "djangosite/mysite/settings.py".into(),
            "djangosite/chat/llm.py".into(),
        ],
    )
    .unwrap();
    // The values went to each app's ignored .env; the keys are to rotate.
    assert!(read("flaskapp/.env").contains("OPENAI_API_KEY="));
    assert!(read("djangosite/.env").contains("ANTHROPIC_API_KEY="));
    let (_, json, _) = audit_json(dir.path(), &[]);
    assert_eq!(status_of(&json, "keys-in-code"), "pass", "{json}");
}

#[test]
fn a_client_chosen_bound_is_capped_also_through_a_variable() {
    let main = "from fastapi import FastAPI, Request\nfrom openai import OpenAI\n\napp = FastAPI()\nclient = OpenAI()\n\n\n@app.post(\"/chat\")\nasync def chat(request: Request):\n    body = await request.json()\n    limit = body.get(\"max_tokens\", 200)\n    r = client.chat.completions.create(model=\"gpt-4o-mini\", max_tokens=limit, messages=[{\"role\": \"user\", \"content\": body[\"m\"]}])\n    return {\"reply\": r.choices[0].message.content}\n";
    let route = "import OpenAI from \"openai\";\n\nconst client = new OpenAI();\n\nexport async function POST(request: Request) {\n  const { message, max_tokens } = await request.json();\n  const r = await client.chat.completions.create({\n    model: \"gpt-4o-mini\",\n    max_tokens,\n    messages: [{ role: \"user\", content: message }],\n  });\n  return Response.json({ reply: r.choices[0].message.content });\n}\n";
    let dir = project(&[
        ("api/main.py", main),
        ("web/app/api/chat/route.ts", route),
        (
            "web/package.json",
            "{ \"dependencies\": { \"next\": \"^15.0.0\", \"openai\": \"^4.67.0\" } }\n",
        ),
        (".gitignore", ".env\n.env.*\n!.env.example\n"),
    ]);
    let (_, before, _) = audit_json(dir.path(), &["--select", "quota"]);
    let chosen = before["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "quota-client-chooses-cost")
        .count();
    assert_eq!(chosen, 2, "{before}");
    let run = aiguard(&["fix", ".", "--select", "quota"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let main = std::fs::read_to_string(dir.path().join("api/main.py")).unwrap();
    assert!(main.contains("max_tokens=min(limit, 1024)"), "{main}");
    let route = std::fs::read_to_string(dir.path().join("web/app/api/chat/route.ts")).unwrap();
    assert!(
        route.contains("    max_tokens: Math.min(Number(max_tokens), 1024),\n"),
        "{route}"
    );
    python_compiles(dir.path(), &["api/main.py".to_string()]).unwrap();
    scripts_parse(dir.path(), &["web/app/api/chat/route.ts".to_string()]).unwrap();
    let (_, after, _) = audit_json(dir.path(), &["--select", "quota"]);
    let left = after["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "quota-client-chooses-cost")
        .count();
    assert_eq!(left, 0, "{after}");
}

#[test]
fn hand_set_cors_headers_in_python_dicts_and_django_views() {
    let api = "from fastapi import FastAPI, Request\nfrom fastapi.responses import JSONResponse\n\napp = FastAPI()\n\n\n@app.get(\"/status\")\ndef status(request: Request):\n    return JSONResponse({\"ok\": True}, headers={\"Access-Control-Allow-Origin\": \"*\"})\n";
    let view = "from django.http import JsonResponse\n\n\ndef status(request):\n    response = JsonResponse({\"ok\": True})\n    response[\"Access-Control-Allow-Origin\"] = \"*\"\n    return response\n";
    let dir = project(&[
        ("api/main.py", api),
        ("site/status/views.py", view),
        (".gitignore", ".env\n.env.*\n!.env.example\n"),
    ]);
    let run = aiguard(&["fix", ".", "--select", "cors"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let api = std::fs::read_to_string(dir.path().join("api/main.py")).unwrap();
    assert!(
        api.contains("headers={\"Access-Control-Allow-Origin\": allowed_origin(request.headers.get(\"origin\")), \"Vary\": \"Origin\"})"),
        "{api}"
    );
    let view = std::fs::read_to_string(dir.path().join("site/status/views.py")).unwrap();
    assert!(
        view.contains("response[\"Access-Control-Allow-Origin\"] = allowed_origin(request.headers.get(\"origin\"))\n"),
        "{view}"
    );
    python_compiles(
        dir.path(),
        &[
            "api/main.py".to_string(),
            "site/status/views.py".to_string(),
        ],
    )
    .unwrap();
    let (_, json, _) = audit_json(dir.path(), &["--select", "cors"]);
    assert_eq!(status_of(&json, "cors"), "pass", "{json}");
}

#[test]
fn fastify_cors_reflecting_any_origin_reads_the_environment() {
    let dir = committed("cors-node");
    let run = aiguard(&["fix", ".", "--select", "cors"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let app = std::fs::read_to_string(dir.path().join("fastify/app.mjs")).unwrap();
    assert!(
        app.contains("await fastify.register(cors, { origin: (process.env.CORS_ORIGINS ?? \"http://localhost:3000\").split(\",\") });"),
        "{app}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("fastify/.env.example")).unwrap(),
        "CORS_ORIGINS=http://localhost:3000\n"
    );
}

#[test]
fn a_misordered_slowapi_limit_gets_one_request_parameter() {
    let main = r#"from fastapi import FastAPI
from openai import OpenAI
from slowapi import Limiter
from slowapi.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)
app = FastAPI()
client = OpenAI()


@limiter.limit("5/minute;100/day")
@app.post("/ask")
def ask(q: str):
    return client.responses.create(model="gpt-4o-mini", input=q).output_text


@limiter.limit("10/minute")
@app.get("/ping")
def ping(n: int):
    return {"n": n}
"#;
    let dir = project(&[
        ("app/main.py", main),
        ("requirements.txt", "fastapi\nopenai\nslowapi\n"),
        (".gitignore", ".env\n.env.*\n!.env.example\n"),
    ]);
    let run = aiguard(&["fix", ".", "--select", "rate-limit"], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let fixed = std::fs::read_to_string(dir.path().join("app/main.py")).unwrap();
    assert!(
        fixed.contains("@app.post(\"/ask\")\n@limiter.limit(\"5/minute;100/day\")\ndef ask(request: Request, q: str):"),
        "{fixed}"
    );
    assert!(
        fixed.contains("@app.get(\"/ping\")\n@limiter.limit(\"10/minute\")\ndef ping(request: Request, n: int):"),
        "{fixed}"
    );
    python_compiles(dir.path(), &["app/main.py".to_string()]).unwrap();
    git(dir.path(), &["commit", "-qam", "fixed"]);
    let again = aiguard(
        &["fix", ".", "--diff", "--select", "rate-limit"],
        dir.path(),
    );
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (0, ""),
        "{}",
        again.stdout
    );
}

/// A source file with syntax errors is never edited (as `ruff --fix`
/// leaves such files): its facts are best effort, and each edit changes
/// how the rest is recovered. A manual step says so; the other files are
/// still fixed. Found by the `fix_plan` fuzz target.
#[test]
fn a_file_with_syntax_errors_is_not_edited() {
    let app = r#"from flask import Flask, jsonify, request
from openai import OpenAI

app = Flask(__name__)
client = OpenAI()


@app.post("/api/chat")
def chat(:
    r = client.chat.completions.create(model="gpt-4o-mini", max_tokens=50, messages=[{"role": "user", "content": request.json["m"]}])
    return jsonify(reply=r.choices[0].message.content)
"#;
    let dir = project(&[
        ("app.py", app),
        ("requirements.txt", "flask\nopenai\n"),
        (".gitignore", "node_modules/\n"),
    ]);
    let run = aiguard(&["fix", "."], dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("app.py")).unwrap(),
        app
    );
    assert!(
        run.stdout
            .contains("app.py: has syntax errors, so aiguard did not edit it"),
        "{}",
        run.stdout
    );
    // .gitignore is still fixed.
    let ignore = std::fs::read_to_string(dir.path().join(".gitignore")).unwrap();
    assert!(ignore.contains(".env"), "{ignore}");
}
