//! The facts cache (`src/cache.rs`): a second audit of an unchanged tree
//! parses nothing and reports the same; a changed file is parsed again; a
//! file holding a key is never cached; a broken cache is a miss; the
//! audited tree is never written to; `--no-cache` and `AIGUARD_NO_CACHE`
//! leave it alone.

mod common;

use std::path::Path;

use common::{aiguard_with_env, materialize_with_keys};

/// `audit . --format json --stats` with the cache in `cache`: the report
/// (without its duration) and (parsed, from the cache).
fn audit(dir: &Path, cache: &Path, extra: &[&str]) -> (serde_json::Value, (usize, usize)) {
    let mut args = vec!["audit", ".", "--format", "json", "--stats"];
    args.extend_from_slice(extra);
    let run = aiguard_with_env(&args, dir, &[("AIGUARD_CACHE_DIR", path_str(cache))]);
    let mut json: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", run.stdout, run.stderr));
    json["summary"]
        .as_object_mut()
        .expect("summary")
        .remove("duration_ms");
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("stats: slice "))
        .unwrap_or_else(|| panic!("no stats line: {}", run.stderr));
    let number_before = |word: &str| -> usize {
        let at = line
            .find(word)
            .unwrap_or_else(|| panic!("{word} in {line}"));
        line[..at]
            .trim_end()
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("number before {word} in {line}"))
    };
    (
        json,
        (number_before(" parsed"), number_before(" from the cache")),
    )
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn cache_bytes(cache: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(cache).expect("cache folder written") {
        all.extend(std::fs::read(entry.expect("entry").path()).expect("cache file"));
    }
    all
}

fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            out.push(p.strip_prefix(dir).expect("inside").display().to_string());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_second_audit_reads_the_cache_and_reports_the_same() {
    let (project, keys) = materialize_with_keys("demo");
    let cache = tempfile::tempdir().expect("cache dir");
    let before = listing(project.path());
    let (first, (parsed, cached)) = audit(project.path(), cache.path(), &[]);
    assert!(parsed >= 2, "the demo's files are parsed: {parsed}");
    assert_eq!(cached, 0);
    let (second, (reparsed, cached)) = audit(project.path(), cache.path(), &[]);
    assert_eq!(first, second, "the cache changes no report");
    // Every file but the one that holds a key comes from the cache.
    assert_eq!(reparsed, 1, "only app/config.py (it holds a key) is parsed");
    assert_eq!(cached, parsed - 1);
    // The key is nowhere in the cache, and the audited tree gained nothing.
    let stored = cache_bytes(cache.path());
    assert!(!stored.is_empty());
    assert!(!keys.is_empty());
    for key in &keys {
        let hit = stored.windows(key.len()).any(|w| w == key.as_bytes());
        assert!(!hit, "a found key was written to the cache");
    }
    assert_eq!(before, listing(project.path()), "audit wrote into the tree");
}

#[test]
fn a_changed_file_is_parsed_again_and_its_new_facts_count() {
    let files = [
        (
            "app/llm.py",
            "from openai import OpenAI\n\nclient = OpenAI()\n\n\ndef ask(q):\n    return client.chat.completions.create(model=\"gpt-4o\", messages=q)\n",
        ),
        (
            "app/main.py",
            "from fastapi import FastAPI\n\nfrom app.llm import ask\n\napp = FastAPI()\n\n\n@app.get(\"/health\")\ndef health():\n    return {\"ok\": True}\n",
        ),
    ];
    let project = common::write_project(&files);
    let cache = tempfile::tempdir().expect("cache dir");
    let (first, _) = audit(project.path(), cache.path(), &[]);
    let (_, (parsed, cached)) = audit(project.path(), cache.path(), &[]);
    assert_eq!((parsed, cached), (0, 2));
    // The route now calls the model: a new AI endpoint, without a limit.
    let main = files[1].1.replace(
        "    return {\"ok\": True}\n",
        "    return ask([{\"role\": \"user\", \"content\": \"hi\"}])\n",
    );
    std::fs::write(project.path().join("app/main.py"), main).expect("edit");
    let (after, (parsed, cached)) = audit(project.path(), cache.path(), &[]);
    assert_eq!((parsed, cached), (1, 1), "only the edited file is parsed");
    let rate_limited = |json: &serde_json::Value| {
        json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["check"] == "rate-limit" && f["path"] == "app/main.py")
    };
    assert!(!rate_limited(&first));
    assert!(
        rate_limited(&after),
        "the edit's endpoint is reported: {after}"
    );
}

#[test]
fn no_cache_flag_and_variable_neither_read_nor_write() {
    let (project, _) = materialize_with_keys("demo");
    let cache = tempfile::tempdir().expect("cache dir");
    let (_, (_, cached)) = audit(project.path(), cache.path(), &["--no-cache"]);
    assert_eq!(cached, 0);
    assert!(listing(cache.path()).is_empty(), "--no-cache wrote a cache");
    // Filled, then read with --no-cache and with AIGUARD_NO_CACHE=1:
    // parsed again, and the cache file is left as it was.
    let (with, (parsed, _)) = audit(project.path(), cache.path(), &[]);
    let filled = cache_bytes(cache.path());
    let (_, (_, warm)) = audit(project.path(), cache.path(), &[]);
    assert!(warm >= 1, "the filled cache is read");
    let (without, (reparsed, cached)) = audit(project.path(), cache.path(), &["--no-cache"]);
    assert_eq!(with, without);
    assert_eq!((reparsed, cached), (parsed, 0), "--no-cache read the cache");
    let run = aiguard_with_env(
        &["audit", ".", "--stats"],
        project.path(),
        &[
            ("AIGUARD_CACHE_DIR", path_str(cache.path())),
            ("AIGUARD_NO_CACHE", "1"),
        ],
    );
    assert!(run.stderr.contains(", 0 from the cache"), "{}", run.stderr);
    assert_eq!(filled, cache_bytes(cache.path()), "the cache file changed");
}

#[test]
fn a_smaller_parse_budget_is_not_answered_from_the_cache() {
    let files = [(
        "app/main.py",
        "from fastapi import FastAPI\nfrom openai import OpenAI\n\napp = FastAPI()\nclient = OpenAI()\n\n\n@app.post(\"/chat\")\ndef chat(q: str):\n    return client.chat.completions.create(model=\"gpt-4o\", messages=[{\"role\": \"user\", \"content\": q}])\n",
    )];
    let project = common::write_project(&files);
    let cache = tempfile::tempdir().expect("cache dir");
    let (first, _) = audit(project.path(), cache.path(), &[]);
    let (_, (_, cached)) = audit(project.path(), cache.path(), &[]);
    assert_eq!(cached, 1);
    // No time to parse: cold, the file is noted and lends no facts; warm
    // must say the same, not answer from the cache.
    std::fs::write(
        project.path().join("aiguard.toml"),
        "max-parse-time-ms = 0\n",
    )
    .expect("config");
    let (cold, _) = audit(project.path(), cache.path(), &["--no-cache"]);
    let (warm, (_, cached)) = audit(project.path(), cache.path(), &[]);
    assert_eq!(cached, 0);
    assert_eq!(cold, warm);
    assert_ne!(first["notes"], warm["notes"], "the budget note: {warm}");
}

#[test]
fn a_broken_or_unwritable_cache_is_a_miss_not_an_error() {
    let (project, _) = materialize_with_keys("demo");
    let cache = tempfile::tempdir().expect("cache dir");
    let (clean, _) = audit(project.path(), cache.path(), &[]);
    for entry in std::fs::read_dir(cache.path()).expect("cache") {
        let path = entry.expect("entry").path();
        let mut bytes = std::fs::read(&path).expect("read");
        // Truncated mid-entry.
        bytes.truncate(bytes.len() / 2);
        std::fs::write(&path, &bytes).expect("truncate");
    }
    let (read, (parsed, cached)) = audit(project.path(), cache.path(), &[]);
    assert_eq!(clean, read);
    assert_eq!(cached, 0, "a truncated cache file is not read");
    assert!(parsed >= 2);
    // Garbage in every entry's place: rewritten whole by the last audit, so
    // scramble the bytes after the header this time.
    for entry in std::fs::read_dir(cache.path()).expect("cache") {
        let path = entry.expect("entry").path();
        let mut bytes = std::fs::read(&path).expect("read");
        let n = bytes.len();
        for b in &mut bytes[n / 2..] {
            *b = b.wrapping_mul(31).wrapping_add(7);
        }
        std::fs::write(&path, &bytes).expect("scramble");
    }
    let (read, (_, cached)) = audit(project.path(), cache.path(), &[]);
    assert_eq!(clean, read, "a scrambled cache changes no report");
    assert_eq!(cached, 0, "a scrambled cache file is not read");
    // A cache folder that is a file: nothing is written, the audit runs.
    let blocked = cache.path().join("a-file");
    std::fs::write(&blocked, "not a folder").expect("file");
    let run = aiguard_with_env(
        &["audit", ".", "--format", "json"],
        project.path(),
        &[("AIGUARD_CACHE_DIR", path_str(&blocked))],
    );
    assert!(run.stdout.contains("\"findings\""), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(
        std::fs::read(&blocked).expect("still a file"),
        b"not a folder"
    );
}

#[test]
fn new_key_rules_start_a_new_cache_and_their_keys_are_not_written() {
    // `ACME` matches no built-in key rule: the file is cached at first.
    let key = "acme_live_k3j9x0q7m2w8p4z6r1t5y0u3i8o2e7a9";
    let main = format!(
        "from fastapi import FastAPI\nfrom openai import OpenAI\n\nACME = \"{key}\"\napp = FastAPI()\nclient = OpenAI()\n\n\n@app.post(\"/chat\")\ndef chat(q: str):\n    return client.chat.completions.create(model=\"gpt-4o\", messages=[{{\"role\": \"user\", \"content\": ACME + q}}])\n"
    );
    let project = common::write_project(&[("app/main.py", main.as_str())]);
    let cache = tempfile::tempdir().expect("cache dir");
    audit(project.path(), cache.path(), &[]);
    let (_, (_, cached)) = audit(project.path(), cache.path(), &[]);
    assert_eq!(cached, 1, "cached while no rule knows the key");
    // A user's key rule for it: the old entries are not read, and the file,
    // now holding a key, is not written again.
    std::fs::write(
        project.path().join("keys.toml"),
        "[[rule]]\nid = \"acme-ai-key\"\nprovider = \"Acme AI\"\nmessage = \"Acme AI key written in code\"\nregex = '''\\b(?P<secret>acme_live_[a-z0-9]{32})\\b'''\nkeywords = [\"acme_live_\"]\n",
    )
    .expect("rules");
    std::fs::write(
        project.path().join("aiguard.toml"),
        "key-rules = [\"keys.toml\"]\n",
    )
    .expect("config");
    let (json, (parsed, cached)) = audit(project.path(), cache.path(), &[]);
    assert_eq!((parsed, cached), (1, 0));
    assert!(
        json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["rule"] == "acme-ai-key"),
        "{json}"
    );
    let (_, (parsed, cached)) = audit(project.path(), cache.path(), &[]);
    assert_eq!(
        (parsed, cached),
        (1, 0),
        "a file holding a key is never cached"
    );
    let stored = cache_bytes(cache.path());
    let hit = stored.windows(key.len()).any(|w| w == key.as_bytes());
    assert!(!hit, "the key reached the cache");
}
