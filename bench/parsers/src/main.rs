//! `aiguard-parser-bench LIST [ROUNDS]`: LIST holds one path per line (the
//! last word of the line, so an `AIGUARD_DEBUG_SLICE` dump works as is).
//! Prints, per round, each parser's time and speed over the Python files,
//! and the number of files each could not parse cleanly.

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(list) = args.next() else {
        eprintln!("usage: aiguard-parser-bench LIST [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let text = std::fs::read_to_string(&list).unwrap_or_else(|e| {
        eprintln!("{list}: {e}");
        std::process::exit(2);
    });
    let files: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|p| p.ends_with(".py"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let bytes: usize = files.iter().map(String::len).sum();
    println!("{} Python files, {:.1} MiB", files.len(), bytes as f64 / 1048576.0);
    let mut ts = tree_sitter::Parser::new();
    ts.set_language(&tree_sitter_python::LANGUAGE.into())
        .expect("grammar");
    for round in 1..=rounds {
        let started = Instant::now();
        let mut ts_errors = 0;
        for f in &files {
            match ts.parse(f, None) {
                Some(tree) if !tree.root_node().has_error() => {}
                _ => ts_errors += 1,
            }
        }
        let ts_time = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let mut ruff_errors = 0;
        for f in &files {
            if ruff_python_parser::parse_module(f).is_err() {
                ruff_errors += 1;
            }
        }
        let ruff_time = started.elapsed().as_secs_f64();
        let speed = |t: f64| bytes as f64 / t / 1e6;
        println!(
            "round {round}: tree-sitter {:.0} ms ({:.1} MB/s, {ts_errors} with errors); \
             ruff {:.0} ms ({:.1} MB/s, {ruff_errors} with errors); {:.1}x",
            ts_time * 1e3,
            speed(ts_time),
            ruff_time * 1e3,
            speed(ruff_time),
            ts_time / ruff_time
        );
    }
}
