//! Python editing helpers shared by the FastAPI, Flask, CORS, keys and
//! quota fixes: where imports go, where a handler's `def` is, adding a
//! parameter. They locate by the facts' line numbers and edit text.

use super::edit::{indent_of, statement_end, Doc};
use crate::facts::FileFacts;

/// Add `import` lines (a full statement each) after the file's last
/// top-level import (or its docstring), skipping those already there.
pub fn ensure_imports(doc: &mut Doc, file: Option<&FileFacts>, wanted: &[String]) -> Vec<String> {
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| !has_import(doc, file, w))
        .cloned()
        .collect();
    if missing.is_empty() {
        return missing;
    }
    let last = (0..doc.lines().len())
        .filter(|&i| {
            let l = &doc.lines()[i];
            l.starts_with("import ") || l.starts_with("from ") && l.contains(" import")
        })
        .max();
    let at = match last {
        Some(line) => statement_end(doc, line) + 1,
        None => after_docstring(doc),
    };
    doc.insert_before(at, missing.clone());
    missing
}

/// Is the statement `import x` / `from m import a, b` already satisfied?
fn has_import(doc: &Doc, file: Option<&FileFacts>, statement: &str) -> bool {
    if doc.lines().iter().any(|l| l.trim() == statement) || doc.contains(statement) {
        return true;
    }
    let Some(file) = file else { return false };
    if let Some(module) = statement.strip_prefix("import ") {
        return file
            .imports
            .iter()
            .any(|i| i.module == module.trim() && i.name.is_none());
    }
    let Some((module, names)) = statement
        .strip_prefix("from ")
        .and_then(|r| r.split_once(" import "))
    else {
        return false;
    };
    names.split(',').all(|n| {
        let n = n.trim();
        file.imports
            .iter()
            .any(|i| i.module == module.trim() && i.name.as_deref() == Some(n))
    })
}

/// The line after a module docstring (and `from __future__` imports), else 0.
fn after_docstring(doc: &Doc) -> usize {
    let lines = doc.lines();
    let mut i = 0;
    while i < lines.len() && (lines[i].trim().is_empty() || lines[i].starts_with('#')) {
        i += 1;
    }
    if let Some(first) = lines.get(i) {
        let t = first.trim_start();
        for q in ["\"\"\"", "'''"] {
            if let Some(rest) = t.strip_prefix(q) {
                if rest.contains(q) {
                    return i + 1;
                }
                let end = (i + 1..lines.len()).find(|&j| lines[j].contains(q));
                return end.map_or(0, |e| e + 1);
            }
        }
    }
    0
}

/// The 0-based line of `def name(` at or after 1-based `from`.
pub fn def_line(doc: &Doc, from: u32, name: &str) -> Option<usize> {
    let name = name.rsplit('.').next().unwrap_or(name);
    let start = (from as usize).saturating_sub(1);
    (start..doc.lines().len().min(start + 60)).find(|&i| {
        let t = doc.lines()[i].trim_start();
        let t = t.strip_prefix("async ").unwrap_or(t).trim_start();
        t.strip_prefix("def ")
            .is_some_and(|r| r.trim_start().starts_with(&format!("{name}(")))
    })
}

/// The parameter's name (`request` of `request: Request = None`).
pub fn param_name(param: &str) -> &str {
    param
        .trim_start_matches('*')
        .split([':', '='])
        .next()
        .unwrap_or("")
        .trim()
}

/// Add `param` as the first parameter of the `def` at line `def`.
pub fn add_first_param(doc: &mut Doc, def: usize, param: &str, has_params: bool) -> bool {
    let line = doc.line(def).to_string();
    let Some(open) = line.find('(') else {
        return false;
    };
    let after = &line[open + 1..];
    if after.trim().is_empty() {
        // Parameters on the following lines: one more line, same indent.
        let next = doc.lines().get(def + 1).cloned().unwrap_or_default();
        let indent = indent_of(&next).to_string();
        doc.insert_before(def + 1, [format!("{indent}{param},")]);
        return true;
    }
    let sep = if has_params && !after.trim_start().starts_with(')') {
        ", "
    } else {
        ""
    };
    doc.replace(def, format!("{}{param}{sep}{}", &line[..open + 1], after));
    true
}

/// Rename identifier `old` to `new` in lines `from..=to` (0-based), not
/// after a `.` (attributes) and not inside strings (approximately).
pub fn rename_in(doc: &mut Doc, from: usize, to: usize, old: &str, new: &str) {
    for i in from..=to.min(doc.lines().len().saturating_sub(1)) {
        let line = doc.line(i).to_string();
        let mut out = String::new();
        let bytes = line.as_bytes();
        let mut k = 0;
        let mut quote: Option<u8> = None;
        while k < bytes.len() {
            let c = bytes[k];
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                let ch = line[k..].chars().next().unwrap_or(' ');
                out.push(ch);
                k += ch.len_utf8();
                continue;
            }
            if c == b'"' || c == b'\'' {
                quote = Some(c);
            }
            let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
            if line[k..].starts_with(old)
                && (k == 0 || (!word(bytes[k - 1]) && bytes[k - 1] != b'.'))
                && bytes.get(k + old.len()).is_none_or(|b| !word(*b))
            {
                out.push_str(new);
                k += old.len();
                continue;
            }
            let ch = line[k..].chars().next().unwrap_or(' ');
            out.push(ch);
            k += ch.len_utf8();
        }
        if out != line {
            doc.replace(i, out);
        }
    }
}

/// Insert `lines` after the statement starting at 1-based `line`.
pub fn insert_after_statement(doc: &mut Doc, line: u32, lines: Vec<String>) {
    let end = statement_end(doc, (line as usize).saturating_sub(1));
    doc.insert_before(end + 1, lines);
}
