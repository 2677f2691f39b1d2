//! `aiguard-parser-bench LIST [ROUNDS]`: LIST holds one path per line
//! (`bench/parsers.sh` makes it from an `AIGUARD_DEBUG_SLICE` dump).
//! Prints, per round, each parser's time and speed over the Python files,
//! and the number of files each could not parse cleanly; and Ruff's parse
//! followed by a walk that collects what the facts extractor collects most
//! of (each call's callee path, argument texts and line; assignments), as
//! a floor for an extractor on Ruff's syntax tree.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};
use std::time::Instant;

/// A few of the facts `src/facts/python.rs` extracts.
struct Walk<'s> {
    src: &'s str,
    line_starts: Vec<u32>,
    calls: Vec<(String, Vec<String>, u32)>,
    assignments: Vec<String>,
}

impl Walk<'_> {
    fn text(&self, range: TextRange) -> String {
        let text = &self.src[range.start().to_usize()..range.end().to_usize()];
        let mut cut = text.len().min(160);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text[..cut].to_string()
    }
}

fn callee(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Name(n) => out.push(n.id.to_string()),
        Expr::Attribute(a) => {
            callee(&a.value, out);
            out.push(a.attr.to_string());
        }
        Expr::Call(c) => {
            callee(&c.func, out);
            out.push("()".into());
        }
        Expr::Subscript(s) => callee(&s.value, out),
        Expr::Await(a) => callee(&a.value, out),
        _ => out.push("?".into()),
    }
}

impl<'a> Visitor<'a> for Walk<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::Assign(a) = stmt {
            let text = self.text(a.value.range());
            self.assignments.push(text);
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(c) = expr {
            let mut parts = Vec::new();
            callee(&c.func, &mut parts);
            let args = c
                .arguments
                .args
                .iter()
                .map(|a| self.text(a.range()))
                .chain(
                    c.arguments
                        .keywords
                        .iter()
                        .map(|k| self.text(k.value.range())),
                )
                .collect();
            let start = c.range().start().to_u32();
            let line = self.line_starts.partition_point(|&s| s <= start) as u32;
            self.calls.push((parts.join("."), args, line));
        }
        visitor::walk_expr(self, expr);
    }
}

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
        .filter(|p| p.ends_with(".py"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    let bytes: usize = files.iter().map(String::len).sum();
    println!(
        "{} Python files, {:.1} MiB",
        files.len(),
        bytes as f64 / 1048576.0
    );
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
        let started = Instant::now();
        let mut calls = 0;
        for f in &files {
            let Ok(module) = ruff_python_parser::parse_module(f) else {
                continue;
            };
            let line_starts = std::iter::once(0)
                .chain(f.match_indices('\n').map(|(i, _)| i as u32 + 1))
                .collect();
            let mut walk = Walk {
                src: f,
                line_starts,
                calls: Vec::new(),
                assignments: Vec::new(),
            };
            for stmt in &module.syntax().body {
                walk.visit_stmt(stmt);
            }
            calls += walk.calls.len();
            // What was collected is used: the optimizer keeps the work.
            std::hint::black_box((&walk.calls, &walk.assignments));
        }
        let walk_time = started.elapsed().as_secs_f64();
        let speed = |t: f64| bytes as f64 / t / 1e6;
        println!(
            "round {round}: tree-sitter {:.0} ms ({:.1} MB/s, {ts_errors} with errors); \
             ruff {:.0} ms ({:.1} MB/s, {ruff_errors} with errors); {:.1}x; \
             ruff and a walk collecting {calls} calls {:.0} ms",
            ts_time * 1e3,
            speed(ts_time),
            ruff_time * 1e3,
            speed(ruff_time),
            ts_time / ruff_time,
            walk_time * 1e3
        );
    }
}
