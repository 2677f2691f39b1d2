//! Every bad input of issue 10: the audit completes (no crash, no hang, no
//! stack overflow), says what it skipped and why (notes), still finds what
//! it can, and its exit code reflects the findings.
//!
//! `tests/cli.rs` (`bad_input_is_noted_and_the_audit_goes_on`) already
//! covers a binary file, Latin-1, a sparse 50 MB file, a symlink loop, a
//! dangling symlink, a FIFO and a chmod-000 file; this file covers the rest.
//! Every run here has a time limit ([`audit_within`]): a hang fails the test
//! instead of stalling CI. The limits are generous (debug build, 2 busy
//! cores); the slowest input (100,000 files) takes a few seconds.

mod common;

use common::*;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A `.gitignore` that covers `.env` files, so only planted keys fail.
const GITIGNORE: &str = ".env\n.env.*\n!.env.example\n";

/// Well over the slowest input's time on a loaded machine; a hang or a
/// quadratic blow-up takes minutes.
const LIMIT: Duration = Duration::from_secs(120);

fn fake_key(id: &str, seed: u64) -> String {
    let catalog = catalog();
    let template = aiguard::fake::key_template(&catalog.keys, id).expect("known rule");
    aiguard::fake::expand(&template, &mut fastrand::Rng::with_seed(seed))
}

struct Audit {
    code: i32,
    json: serde_json::Value,
    stderr: String,
}

/// `aiguard audit . --format json` in `dir`, killed after `LIMIT`.
fn audit_within(dir: &Path) -> Audit {
    audit_command(Command::new(env!("CARGO_BIN_EXE_aiguard")), dir)
}

fn audit_command(mut command: Command, dir: &Path) -> Audit {
    let mut child = command
        .args(["audit", ".", "--format", "json"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run aiguard");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "aiguard hung: no result after {LIMIT:?} in {}",
                dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap();
    let stderr = err.join().unwrap();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\nstderr: {stderr}"));
    let audit = Audit {
        code: status.code().unwrap_or(-1),
        json,
        stderr,
    };
    assert_exit_reflects_findings(&audit);
    audit
}

/// Exit 1 if and only if an error-severity finding was reported (the
/// default `--fail-on error`); never 2 for bad input.
fn assert_exit_reflects_findings(audit: &Audit) {
    let errors = audit.json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] == "error")
        .count();
    let expected = if errors > 0 { 1 } else { 0 };
    assert_eq!(
        audit.code, expected,
        "exit code vs {errors} error findings; stderr: {}",
        audit.stderr
    );
}

fn notes(audit: &Audit) -> Vec<(String, String)> {
    notes_of(&audit.json)
}

fn has_note(audit: &Audit, path: &str, kind: &str) -> bool {
    notes(audit).contains(&(path.to_string(), kind.to_string()))
}

/// (path, line, column) of every keys-in-code finding.
fn keys_found(audit: &Audit) -> Vec<(String, u64, u64)> {
    let mut found: Vec<(String, u64, u64)> = audit.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "keys-in-code")
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    found.sort();
    found
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(".gitignore"), GITIGNORE).unwrap();
    dir
}

#[test]
fn a_10mb_single_line_minified_file_is_scanned_not_parsed() {
    let dir = project();
    let key = fake_key("openai-project-key", 1);
    let mut bundle = String::with_capacity(10 << 20);
    bundle.push_str("import OpenAI from \"openai\";");
    let mut j = 0;
    while bundle.len() < 10 << 20 {
        bundle.push_str(&format!("var a{j}=function(e){{return e.chat(e,{j})}};"));
        j += 1;
    }
    bundle.push_str("var k = \"");
    let column = bundle.chars().count() + 1;
    bundle.push_str(&format!("{key}\";"));
    fs::create_dir(dir.path().join("public")).unwrap();
    fs::write(dir.path().join("public/bundle.min.js"), &bundle).unwrap();
    let audit = audit_within(dir.path());
    assert_eq!(
        keys_found(&audit),
        vec![("public/bundle.min.js".into(), 1, column as u64)]
    );
    assert!(
        has_note(&audit, "public/bundle.min.js", "not-parsed"),
        "{:?}",
        notes(&audit)
    );
}

/// Just under the 1 MiB parse limit and mentioning an AI SDK, so it is
/// parsed: per-argument columns used to be counted from the start of the
/// line, quadratic on one line (a minute in release for this file).
#[test]
fn a_minified_bundle_under_the_parse_limit_parses_in_linear_time() {
    let dir = project();
    let mut bundle = String::from("import OpenAI from \"openai\";const c=new OpenAI();");
    let mut j = 0;
    while bundle.len() < 1_000_000 {
        bundle.push_str(&format!("function f{j}(e){{return g(e,{j},f{j})}}"));
        j += 1;
    }
    bundle.push_str("c.chat.completions.create({model:\"gpt-4o\",messages:[]});");
    fs::write(dir.path().join("app.min.js"), &bundle).unwrap();
    let started = Instant::now();
    let audit = audit_within(dir.path());
    assert!(
        !has_note(&audit, "app.min.js", "not-parsed"),
        "{:?}",
        notes(&audit)
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_100000_line_file_is_parsed_and_lines_are_exact() {
    let dir = project();
    // A key per file: one key in several places is one finding.
    let key = fake_key("anthropic-api-key", 2);
    let key2 = fake_key("anthropic-api-key", 12);
    let mut py = String::from("import openai\n");
    let mut ts = String::from("import OpenAI from \"openai\";\n");
    for i in 1..100_000 {
        py.push_str(&format!("a{}()\n", i % 10));
        ts.push_str(&format!("a{}();\n", i % 10));
    }
    py.push_str(&format!("KEY = \"{key}\"\n"));
    ts.push_str(&format!("const KEY = \"{key2}\";\n"));
    assert!(
        py.len() < 1 << 20 && ts.len() < 1 << 20,
        "under the parse limit"
    );
    fs::write(dir.path().join("long.py"), py).unwrap();
    fs::write(dir.path().join("long.ts"), ts).unwrap();
    let audit = audit_within(dir.path());
    assert_eq!(
        keys_found(&audit),
        vec![
            ("long.py".into(), 100_001, 8),
            ("long.ts".into(), 100_001, 14)
        ]
    );
    assert!(!has_note(&audit, "long.py", "not-parsed"));
}

/// Python nested 10,000 deep in expressions, and 500 deep in blocks
/// (indentation makes 10,000 blocks 50 MB, over the parse limit).
fn deep_python(n: usize) -> String {
    let mut s = String::from("import openai\nclient = openai.OpenAI()\n");
    let nest = |open: &str, leaf: &str, close: &str| {
        format!("{}{leaf}{}", open.repeat(n), close.repeat(n))
    };
    s += &format!("calls = {}\n", nest("f(", "1", ")"));
    s += &format!("parens = {}\n", nest("(", "1", ")"));
    s += &format!("lists = {}\n", nest("[", "", "]"));
    s += &format!("dicts = {}\n", nest("{'a': ", "1", "}"));
    s += &format!("subscripts = {}\n", nest("a[", "0", "]"));
    s += &format!("lambdas = {}1\n", "lambda: ".repeat(n));
    s += &format!("nots = {}x\n", "not ".repeat(n));
    s += &format!("sums = 1{}\n", " + 1".repeat(n));
    s += &format!("attrs = a{}\n", ".b".repeat(n));
    s += &format!(
        "chain = client{}\n",
        ".chat.completions.create()".repeat(n / 4)
    );
    s += &format!("ternary = {}0\n", "1 if x else ".repeat(n));
    for i in 0..500 {
        s += &format!("{}def f{i}(x):\n", " ".repeat(i));
    }
    s += &format!(
        "{}return client.chat.completions.create(model=x)\n",
        " ".repeat(500)
    );
    s
}

/// TypeScript nested 10,000 deep; `.tsx` gets JSX and the common forms
/// (all of them would take it over the 1 MiB parse limit).
fn deep_ts(n: usize, jsx: bool) -> String {
    let mut s = String::from("import OpenAI from \"openai\";\nconst client = new OpenAI();\n");
    let nest = |open: &str, leaf: &str, close: &str| {
        format!("{}{leaf}{}", open.repeat(n), close.repeat(n))
    };
    s += &format!("const calls = {};\n", nest("f(", "1", ")"));
    s += &format!("const arrows = {}1;\n", "() => ".repeat(n));
    s += &format!("const objects = {};\n", nest("{a:", "1", "}"));
    s += &format!(
        "{}\n",
        nest(
            "function g(){",
            "return client.chat.completions.create({model: x});",
            "}"
        )
    );
    if jsx {
        s += &format!(
            "export const Page = () => ({});\n",
            nest("<div>", "x", "</div>")
        );
        s += &format!(
            "export const Frag = () => ({});\n",
            nest("<>", "{x}", "</>")
        );
        s += &format!(
            "export const Props = () => {};\n",
            nest("<a b={", "1", "}/>")
        );
        s += &format!("{}\n", nest("if (x) {", "throw e;", "}"));
        s += &format!("{}\n", nest("class C { m() {", "", "} }"));
        return s;
    }
    s += &format!("const news = {};\n", nest("new F(", "1", ")"));
    s += &format!("const parens = {};\n", nest("(", "1", ")"));
    s += &format!("const arrays = {};\n", nest("[", "", "]"));
    s += &format!("const asyncs = {}1;\n", "async (x) => ".repeat(n));
    s += &format!("const nots = {}x;\n", "!".repeat(n));
    s += &format!("const sums = 1{};\n", " + 1".repeat(n));
    s += &format!("const members = a{};\n", ".b".repeat(n));
    s += &format!(
        "const chain = client{};\n",
        ".chat.completions.create()".repeat(n / 4)
    );
    s += &format!("const ternary = {}0;\n", "x ? 1 : ".repeat(n));
    s += &format!("const templates = {};\n", nest("`${", "1", "}`"));
    s += &format!("const casts = {}x;\n", "<T>".repeat(n));
    s
}

#[test]
fn code_nested_10000_deep_neither_overflows_nor_stalls() {
    let dir = project();
    let key = fake_key("groq-api-key", 3);
    let (key2, key3) = (fake_key("groq-api-key", 13), fake_key("groq-api-key", 23));
    let files = [
        (
            "deep.py",
            deep_python(10_000) + &format!("KEY = \"{key}\"\n"),
        ),
        (
            "deep.ts",
            deep_ts(10_000, false) + &format!("const KEY = \"{key2}\";\n"),
        ),
        (
            "deep.tsx",
            deep_ts(10_000, true) + &format!("const KEY = \"{key3}\";\n"),
        ),
    ];
    for (name, text) in &files {
        assert!(text.len() < 1 << 20, "{name} is under the parse limit");
        fs::write(dir.path().join(name), text).unwrap();
    }
    let audit = audit_within(dir.path());
    let found: Vec<String> = keys_found(&audit).into_iter().map(|k| k.0).collect();
    assert_eq!(found, ["deep.py", "deep.ts", "deep.tsx"]);
    for (name, _) in &files {
        assert!(!has_note(&audit, name, "not-parsed"), "{:?}", notes(&audit));
    }
}

/// In-process, on a thread with a 256 KiB stack (walker threads get 2 MiB):
/// the parsers (Ruff's for Python, tree-sitter for TypeScript) and our facts
/// extraction use no stack per level.
#[test]
fn parsing_and_facts_use_no_stack_per_nesting_level() {
    let files = [
        ("deep.py", deep_python(10_000)),
        ("deep.ts", deep_ts(10_000, false)),
        ("deep.tsx", deep_ts(10_000, true)),
    ];
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut parsers = aiguard::lang::Parsers::default();
            let mut counts = Vec::new();
            for (name, text) in &files {
                let lang = aiguard::lang::Lang::from_path(Path::new(name)).unwrap();
                let facts =
                    aiguard::facts::FileFacts::parse(&mut parsers, name, lang, text.as_bytes())
                        .expect("parses");
                counts.push((facts.calls.len(), facts.functions.len()));
            }
            counts
        })
        .unwrap();
    let counts = worker.join().expect("no stack overflow");
    for (calls, functions) in counts {
        assert!(calls >= 10_000, "{calls} calls");
        assert!(functions >= 500, "{functions} functions");
    }
}

#[test]
fn a_folder_of_100000_files() {
    let dir = project();
    let flat = dir.path().join("flat");
    fs::create_dir(&flat).unwrap();
    for i in 0..100_000 {
        fs::File::create(flat.join(format!("f{i:06}.txt"))).unwrap();
    }
    let key = fake_key("huggingface-token", 4);
    fs::write(flat.join("f050000.txt"), format!("token = \"{key}\"\n")).unwrap();
    let audit = audit_within(dir.path());
    assert_eq!(keys_found(&audit), vec![("flat/f050000.txt".into(), 1, 10)]);
    assert!(audit.json["summary"]["files_scanned"].as_u64().unwrap() >= 100_001);
}

/// Is this process root (whom `chmod 000` does not stop)?
fn is_root() -> bool {
    let probe = tempfile::NamedTempFile::new().unwrap();
    std::os::unix::fs::MetadataExt::uid(&probe.as_file().metadata().unwrap()) == 0
}

/// As root, run aiguard as `nobody` (uid 65534) so permissions apply, if
/// it can (the binary and the temp dir must be reachable for that user).
fn as_unprivileged(dir: &Path) -> Option<Command> {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).ok()?;
    let mut probe = Command::new(env!("CARGO_BIN_EXE_aiguard"));
    probe.arg("--version").uid(65534).gid(65534);
    let works = probe.output().ok()?.status.success();
    let mut command = Command::new(env!("CARGO_BIN_EXE_aiguard"));
    command.uid(65534).gid(65534);
    works.then_some(command)
}

#[test]
fn an_unreadable_folder_and_file_are_noted() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project();
    let root = dir.path();
    let key = fake_key("openai-project-key", 5);
    fs::create_dir(root.join("private")).unwrap();
    fs::write(root.join("private/config.py"), format!("KEY = \"{key}\"\n")).unwrap();
    fs::write(root.join("locked.py"), format!("KEY = \"{key}\"\n")).unwrap();
    fs::write(root.join("open.py"), format!("KEY = \"{key}\"\n")).unwrap();
    for p in ["private", "locked.py"] {
        fs::set_permissions(root.join(p), fs::Permissions::from_mode(0o000)).unwrap();
    }
    let (audit, enforced) = match (is_root(), as_unprivileged(root)) {
        (false, _) => (audit_within(root), true),
        (true, Some(nobody)) => (audit_command(nobody, root), true),
        // Root, and no way to drop privileges: permissions stop nothing.
        (true, None) => (audit_within(root), false),
    };
    let found: Vec<String> = keys_found(&audit).into_iter().map(|k| k.0).collect();
    if enforced {
        assert_eq!(found, ["open.py"], "{:?}", notes(&audit));
        assert!(
            has_note(&audit, "private", "walk-error"),
            "{:?}",
            notes(&audit)
        );
        assert!(
            has_note(&audit, "locked.py", "unreadable"),
            "{:?}",
            notes(&audit)
        );
    } else {
        assert_eq!(found, ["locked.py", "open.py", "private/config.py"]);
    }
    fs::set_permissions(root.join("private"), fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_file_that_vanishes_is_skipped_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.py");
    fs::write(&path, "x = 1\n").unwrap();
    fs::remove_file(&path).unwrap();
    match aiguard::source::Source::load(&path, 1 << 20) {
        aiguard::source::Loaded::Skipped(aiguard::findings::NoteKind::Unreadable, why) => {
            assert!(why.contains("vanished"), "{why}")
        }
        _ => panic!("a vanished path loaded"),
    }
}

/// Files and folders created and deleted while audits run: whatever the
/// walk listed and then could not read is a note, never a crash.
#[test]
fn files_vanishing_during_the_walk_never_stop_the_audit() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let dir = project();
    let root = dir.path().to_path_buf();
    let key = fake_key("openai-project-key", 6);
    fs::write(root.join("stable.py"), format!("KEY = \"{key}\"\n")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        let root = root.join("churn");
        std::thread::spawn(move || {
            let mut round = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let d = root.join(format!("d{}", round % 4));
                let _ = fs::create_dir_all(&d);
                for i in 0..50 {
                    let _ = fs::write(
                        d.join(format!("f{i}.ts")),
                        "import OpenAI from \"openai\";\n",
                    );
                }
                let _ = fs::remove_dir_all(root.join(format!("d{}", (round + 2) % 4)));
                round += 1;
            }
        })
    };
    for _ in 0..5 {
        let audit = audit_within(&root);
        let found: Vec<String> = keys_found(&audit).into_iter().map(|k| k.0).collect();
        assert_eq!(found, ["stable.py"]);
        for (path, kind) in notes(&audit) {
            if path.starts_with("churn") {
                assert!(
                    kind == "unreadable" || kind == "walk-error",
                    "{path}: {kind}"
                );
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
}

#[test]
fn non_utf8_file_names() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = project();
    let root = dir.path();
    let key = fake_key("openai-project-key", 7);
    let name = OsStr::from_bytes(b"caf\xe9.py");
    fs::write(root.join(name), format!("KEY = \"{key}\"\n")).unwrap();
    let folder = root.join(OsStr::from_bytes(b"d\xff"));
    fs::create_dir(&folder).unwrap();
    let key2 = fake_key("openai-project-key", 17);
    fs::write(folder.join("app.ts"), format!("const k = \"{key2}\";\n")).unwrap();
    fs::write(folder.join(".env"), format!("OPENAI_API_KEY={key}\n")).unwrap();
    let audit = audit_within(root);
    let found: Vec<String> = keys_found(&audit).into_iter().map(|k| k.0).collect();
    assert_eq!(found, ["caf\u{FFFD}.py", "d\u{FFFD}/app.ts"]);
    for format in ["text", "sarif", "github", "junit", "gitlab"] {
        let run = aiguard(&["audit", ".", "--format", format], root);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert!(run.stdout.contains("caf"), "{format}: {}", run.stdout);
    }
}

fn utf16(text: &str, little: bool) -> Vec<u8> {
    let mut bytes = if little {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for unit in text.encode_utf16() {
        bytes.extend(if little {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        });
    }
    bytes
}

#[test]
fn utf16_with_a_bom_is_decoded_and_latin1_is_scanned_as_bytes() {
    let dir = project();
    let root = dir.path();
    let key = fake_key("openai-project-key", 8);
    let (key2, key3) = (
        fake_key("openai-project-key", 18),
        fake_key("openai-project-key", 28),
    );
    let text = format!("# café settings\r\n$env:OPENAI_API_KEY = \"{key}\"\r\n");
    let text2 = format!("# café settings\r\n$env:OPENAI_API_KEY = \"{key2}\"\r\n");
    fs::write(root.join("setup-le.ps1"), utf16(&text, true)).unwrap();
    fs::write(root.join("setup-be.ps1"), utf16(&text2, false)).unwrap();
    // Without a byte-order mark UTF-16 is binary, to git and to aiguard.
    fs::write(root.join("no-bom.txt"), &utf16(&text, true)[2..]).unwrap();
    let mut latin1 = b"# caf\xe9\n".to_vec();
    latin1.extend(format!("KEY = \"{key3}\"\n").bytes());
    fs::write(root.join("latin1.py"), latin1).unwrap();
    let audit = audit_within(root);
    assert_eq!(
        keys_found(&audit),
        vec![
            ("latin1.py".into(), 2, 8),
            ("setup-be.ps1".into(), 2, 24),
            ("setup-le.ps1".into(), 2, 24),
        ]
    );
    assert!(
        has_note(&audit, "no-bom.txt", "binary"),
        "{:?}",
        notes(&audit)
    );
    assert!(
        has_note(&audit, "latin1.py", "not-utf8"),
        "{:?}",
        notes(&audit)
    );
}

/// PowerShell 5's `echo .env > .gitignore` writes UTF-16: git reads the
/// bytes and ignores nothing, and so must aiguard's model.
#[test]
fn a_utf16_gitignore_ignores_nothing_as_in_git() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git_init(root);
    fs::write(root.join(".gitignore"), utf16(".env\r\n.env.*\r\n", true)).unwrap();
    fs::write(root.join(".env"), "DEBUG=1\n").unwrap();
    let git_ignores = Command::new("git")
        .args(["check-ignore", "-q", ".env"])
        .current_dir(root)
        .status()
        .unwrap()
        .success();
    assert!(!git_ignores, "git reads a UTF-16 .gitignore as bytes");
    let audit = audit_within(root);
    let rules: Vec<&str> = audit.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "env-gitignore")
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"env-not-ignored"), "{rules:?}");
}

#[test]
fn device_files_do_not_block() {
    let dir = project();
    let root = dir.path();
    std::os::unix::fs::symlink("/dev/zero", root.join("zero")).unwrap();
    let made = Command::new("mknod")
        .arg(root.join("null"))
        .args(["c", "1", "3"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let audit = audit_within(root);
    assert!(
        has_note(&audit, "zero", "not-regular"),
        "{:?}",
        notes(&audit)
    );
    if made {
        assert!(
            has_note(&audit, "null", "not-regular"),
            "{:?}",
            notes(&audit)
        );
    }
}

#[test]
fn an_empty_folder_and_an_empty_repository() {
    let empty = tempfile::tempdir().unwrap();
    let audit = audit_within(empty.path());
    assert_eq!(audit.json["summary"]["files_scanned"], 0);

    let repo = tempfile::tempdir().unwrap();
    git_init(repo.path());
    let audit = audit_within(repo.path());
    assert_eq!(audit.json["summary"]["files_scanned"], 0);

    // A repository without commits but with an ignored `.env` and a key.
    let repo = project();
    git_init(repo.path());
    let key = fake_key("openai-project-key", 9);
    fs::write(repo.path().join(".env"), format!("OPENAI_API_KEY={key}\n")).unwrap();
    let audit = audit_within(repo.path());
    assert!(keys_found(&audit).is_empty(), "an ignored .env is not code");
    assert_eq!(audit.code, 0, "{}", audit.stderr);
}
