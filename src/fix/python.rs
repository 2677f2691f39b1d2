//! Python editing helpers shared by the FastAPI, Flask, CORS, keys and
//! quota fixes: where imports go, where a handler's `def` is, adding a
//! parameter. They locate by the facts' line numbers and edit text.

use super::edit::{indent_of, statement_end, Doc};
use super::{parent, Ctx};
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

/// Does `from` import `target`, directly or through other project files?
/// (Importing `from`'s limiter into `target` would then be a cycle.)
pub fn imports_transitively(ctx: &Ctx, from: usize, target: usize) -> bool {
    let mut seen = std::collections::BTreeSet::from([from]);
    let mut queue = vec![from];
    while let Some(k) = queue.pop() {
        for import in &ctx.facts.file(k).imports {
            let Some(next) = ctx.facts.resolve_import(k, import) else {
                continue;
            };
            if next == target {
                return true;
            }
            if seen.insert(next) {
                queue.push(next);
            }
        }
    }
    false
}

/// A limiter of `kind` (`slowapi`, `flask_limiter`) made in another file
/// than `fi`, that `fi` can import without a cycle: (the module to import
/// from, in the project's style, and its variable). `fallback` says how to
/// import when no file imports the limiter's file yet.
pub fn importable_limiter(
    ctx: &Ctx,
    fi: usize,
    kind: &str,
    fallback: impl Fn() -> Option<Style>,
) -> Option<(String, String)> {
    let file = ctx.facts.file(fi);
    ctx.inventory
        .limiters
        .iter()
        .filter(|l| l.kind.starts_with(kind) && l.file != fi)
        .find_map(|l| {
            if imports_transitively(ctx, l.file, fi) {
                return None;
            }
            let target = ctx.facts.file(l.file).path.clone();
            let style = import_style(ctx, &target).or_else(&fallback)?;
            let module = module_for(&style, &file.path, &target)?;
            Some((module, l.variable.clone()))
        })
}

/// How Python modules of the project import each other.
pub enum Style {
    /// `from .chat import bp`: inside a package.
    Relative,
    /// `from routes.chat import bp`: modules from the folder `root`.
    Absolute { root: String },
}

/// The style of `importer`'s import of `target`.
pub fn style_of(ctx: &Ctx, importer: usize, target: usize) -> Option<Style> {
    let from = ctx.facts.file(importer);
    let import = from
        .imports
        .iter()
        .find(|i| ctx.facts.resolve_import(importer, i) == Some(target))?;
    style_from(import, &ctx.facts.file(target).path)
}

/// The style of any import of `target` in the project.
pub fn import_style(ctx: &Ctx, target: &str) -> Option<Style> {
    let ti = ctx.facts.index_of(target)?;
    ctx.facts.files().iter().enumerate().find_map(|(k, f)| {
        let import = f
            .imports
            .iter()
            .find(|i| ctx.facts.resolve_import(k, i) == Some(ti))?;
        style_from(import, target)
    })
}

pub fn style_from(import: &crate::facts::Import, target: &str) -> Option<Style> {
    if import.module.starts_with('.') {
        return Some(Style::Relative);
    }
    // `routes.chat` ↔ `routes/chat.py`: the root is what precedes it.
    let stem = target
        .strip_suffix("/__init__.py")
        .or_else(|| target.strip_suffix(".py"))?;
    let mut module = import.module.replace('.', "/");
    if !stem.ends_with(&module) {
        module = format!("{module}/{}", import.name.as_deref()?);
    }
    let root = stem.strip_suffix(&module)?.trim_end_matches('/');
    Some(Style::Absolute {
        root: root.to_string(),
    })
}

/// The module `from_file` imports `target` (a `.py` path) as.
pub fn module_for(style: &Style, from_file: &str, target: &str) -> Option<String> {
    let stem = target
        .strip_suffix("/__init__.py")
        .or_else(|| target.strip_suffix(".py"))?;
    match style {
        Style::Absolute { root } => {
            let rel = match root.is_empty() {
                true => stem,
                false => stem.strip_prefix(&format!("{root}/"))?,
            };
            Some(rel.replace('/', "."))
        }
        Style::Relative => {
            let dir = parent(from_file);
            let from: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
            let to: Vec<&str> = stem.split('/').filter(|s| !s.is_empty()).collect();
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            let dots = ".".repeat(from.len() - common + 1);
            Some(format!("{dots}{}", to[common..].join(".")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_between_files() {
        let rel = Style::Relative;
        assert_eq!(
            module_for(&rel, "chatapp/views/chat.py", "chatapp/extensions.py").as_deref(),
            Some("..extensions")
        );
        assert_eq!(
            module_for(&rel, "chatapp/__init__.py", "chatapp/extensions.py").as_deref(),
            Some(".extensions")
        );
        let abs = Style::Absolute {
            root: String::new(),
        };
        assert_eq!(
            module_for(&abs, "routes/chat.py", "extensions.py").as_deref(),
            Some("extensions")
        );
        let abs = Style::Absolute { root: "src".into() };
        assert_eq!(
            module_for(&abs, "src/app/routes/chat.py", "src/app/ext.py").as_deref(),
            Some("app.ext")
        );
    }
}
