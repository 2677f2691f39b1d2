//! Edits to one file, kept as operations on its original lines (replace a
//! line, insert lines before one), so fixes planned from the facts' line
//! numbers never shift each other; rendering keeps every untouched byte,
//! each line's own ending (LF or CRLF), a byte-order mark and a missing
//! final newline. Writing is atomic (temporary file + rename, permissions
//! kept) and refuses a file that changed since it was read.
//!
//! The unified diff is written from the same operations (no diff
//! algorithm: an edit knows what it changed).

use std::collections::BTreeMap;
use std::path::Path;

/// One file: its original lines and the edits planned on them.
pub struct Doc {
    pub path: String,
    /// The bytes read; `None` for a file the fix creates.
    original: Option<Vec<u8>>,
    bom: bool,
    /// The line ending new lines get: the file's most common one.
    eol: &'static str,
    lines: Vec<String>,
    eols: Vec<&'static str>,
    replaced: BTreeMap<usize, String>,
    inserts: BTreeMap<usize, Vec<String>>,
    /// Secrets the diff shows redacted (a key moved out of code, into `.env`).
    secrets: Vec<String>,
    /// A `.env` file: the diff shows every value redacted.
    env_file: bool,
}

impl Doc {
    /// A file as read from disk; `None` when it is not UTF-8 text.
    pub fn from_bytes(path: &str, bytes: Vec<u8>) -> Option<Doc> {
        let text = std::str::from_utf8(&bytes).ok()?;
        let (bom, text) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let mut lines = Vec::new();
        let mut eols = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let (line, eol, next) = match rest.find('\n') {
                Some(i) if rest[..i].ends_with('\r') => (&rest[..i - 1], "\r\n", &rest[i + 1..]),
                Some(i) => (&rest[..i], "\n", &rest[i + 1..]),
                None => (rest, "", ""),
            };
            lines.push(line.to_string());
            eols.push(eol);
            rest = next;
        }
        let crlf = eols.iter().filter(|e| **e == "\r\n").count();
        let lf = eols.iter().filter(|e| **e == "\n").count();
        Some(Doc {
            path: path.to_string(),
            eol: if crlf > lf { "\r\n" } else { "\n" },
            original: Some(bytes.clone()),
            bom,
            lines,
            eols,
            replaced: BTreeMap::new(),
            inserts: BTreeMap::new(),
            secrets: Vec::new(),
            env_file: is_env_file(path),
        })
    }

    /// A file the fix creates.
    pub fn new_file(path: &str) -> Doc {
        Doc {
            path: path.to_string(),
            original: None,
            bom: false,
            eol: "\n",
            lines: Vec::new(),
            eols: Vec::new(),
            replaced: BTreeMap::new(),
            inserts: BTreeMap::new(),
            secrets: Vec::new(),
            env_file: is_env_file(path),
        }
    }

    /// Never show `secret` in full in a diff.
    pub fn mask(&mut self, secret: &str) {
        if !secret.is_empty() && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_string());
        }
    }

    pub fn is_new(&self) -> bool {
        self.original.is_none()
    }

    /// The original lines (0-based), as read.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// Line `i` (0-based) with the replacement planned on it, if any.
    pub fn line(&self, i: usize) -> &str {
        self.replaced
            .get(&i)
            .or_else(|| self.lines.get(i))
            .map_or("", String::as_str)
    }

    pub fn replace(&mut self, i: usize, text: String) {
        if i < self.lines.len() {
            self.replaced.insert(i, text);
        }
    }

    /// Insert `new` before original line `i` (`i == len`: at the end),
    /// after what was already inserted there.
    pub fn insert_before(&mut self, i: usize, new: impl IntoIterator<Item = String>) {
        let i = i.min(self.lines.len());
        self.inserts.entry(i).or_default().extend(new);
    }

    pub fn append(&mut self, new: impl IntoIterator<Item = String>) {
        self.insert_before(self.lines.len(), new);
    }

    /// Does the file, edits included, contain `needle` on one line?
    pub fn contains(&self, needle: &str) -> bool {
        self.entries()
            .iter()
            .any(|(tag, t)| *tag != '-' && t.contains(needle))
    }

    /// Is there a line equal to `line` (surrounding blanks ignored), edits included?
    pub fn has_line(&self, line: &str) -> bool {
        self.entries()
            .iter()
            .any(|(tag, t)| *tag != '-' && t.trim() == line.trim())
    }

    pub fn is_changed(&self) -> bool {
        !self.inserts.is_empty()
            || self
                .replaced
                .iter()
                .any(|(i, t)| self.lines.get(*i) != Some(t))
    }

    /// The file after the edits.
    pub fn render(&self) -> Vec<u8> {
        let mut out = String::new();
        if self.bom {
            out.push('\u{feff}');
        }
        let last = self.lines.len();
        for i in 0..=last {
            let inserted = self.inserts.get(&i).map(Vec::as_slice).unwrap_or(&[]);
            if i == last && !inserted.is_empty() {
                // Appending to a file without a final newline ends its last line first.
                if out.len() > self.bom as usize * 3 && !out.ends_with('\n') {
                    out.push_str(self.eol);
                }
            }
            for line in inserted {
                out.push_str(line);
                out.push_str(self.eol);
            }
            if i < last {
                out.push_str(self.line(i));
                out.push_str(self.eols[i]);
            }
        }
        out.into_bytes()
    }

    /// The file as `(tag, line)` pairs: ' ' kept, '-' removed, '+' added.
    fn entries(&self) -> Vec<(char, &str)> {
        let mut out = Vec::new();
        for i in 0..=self.lines.len() {
            for line in self.inserts.get(&i).map(Vec::as_slice).unwrap_or(&[]) {
                out.push(('+', line.as_str()));
            }
            if let Some(original) = self.lines.get(i) {
                match self.replaced.get(&i) {
                    Some(new) if new != original => {
                        out.push(('-', original.as_str()));
                        out.push(('+', new.as_str()));
                    }
                    _ => out.push((' ', original.as_str())),
                }
            }
        }
        out
    }

    /// A unified diff (3 lines of context), paths prefixed `a/` and `b/`.
    pub fn unified_diff(&self) -> String {
        let entries = self.entries();
        let mut out = match self.is_new() {
            true => format!("--- /dev/null\n+++ b/{}\n", self.path),
            false => format!("--- a/{}\n+++ b/{}\n", self.path, self.path),
        };
        let changed: Vec<usize> = (0..entries.len())
            .filter(|&k| entries[k].0 != ' ')
            .collect();
        let mut k = 0;
        while k < changed.len() {
            let start = changed[k].saturating_sub(3);
            let mut end = changed[k];
            while k < changed.len() && changed[k] <= end + 7 {
                end = changed[k];
                k += 1;
            }
            let end = (end + 4).min(entries.len());
            let old_start = entries[..start].iter().filter(|e| e.0 != '+').count();
            let new_start = entries[..start].iter().filter(|e| e.0 != '-').count();
            let hunk = &entries[start..end];
            let old_len = hunk.iter().filter(|e| e.0 != '+').count();
            let new_len = hunk.iter().filter(|e| e.0 != '-').count();
            let at = |s: usize, n: usize| if n == 0 { s } else { s + 1 };
            out.push_str(&format!(
                "@@ -{},{old_len} +{},{new_len} @@\n",
                at(old_start, old_len),
                at(new_start, new_len)
            ));
            for (tag, line) in hunk {
                let mut line = line.to_string();
                for secret in &self.secrets {
                    let shown = crate::findings::Redacted::from_secret(secret);
                    line = line.replace(secret.as_str(), shown.as_str());
                }
                if self.env_file {
                    if let Some((name, value)) = line.split_once('=') {
                        let value = value.trim().trim_matches(['"', '\'']);
                        let shown = crate::findings::Redacted::from_secret(value);
                        line = format!("{name}={shown}");
                    }
                }
                out.push_str(&format!("{tag}{line}\n"));
            }
        }
        out
    }

    /// Write the edits: a temporary file beside the original, its
    /// permissions copied, renamed over it, unless the file changed since
    /// it was read (or, for a new file, appeared).
    pub fn write(&self, root: &Path) -> Result<(), String> {
        let target = root.join(&self.path);
        let now = std::fs::read(&target).ok();
        if now != self.original {
            return Err(format!(
                "{}: changed since aiguard read it; not written (run `aiguard fix` again)",
                self.path
            ));
        }
        let dir = target.parent().unwrap_or(root);
        // The nearest folder that exists must already be inside the
        // project before any missing one is made: under a folder that is
        // a link out of the tree, nothing is created, not even a folder.
        let existing = dir.ancestors().find(|a| a.exists()).unwrap_or(root);
        let existing_inside = match (std::fs::canonicalize(existing), std::fs::canonicalize(root)) {
            (Ok(d), Ok(r)) => d.starts_with(r),
            _ => false,
        };
        if !existing_inside {
            return Err(format!(
                "{}: a folder on its path leads outside the project; not written",
                self.path
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", self.path))?;
        // Never write through a symlink (the file, or a folder on the way)
        // to somewhere outside the project.
        let inside = match (std::fs::canonicalize(dir), std::fs::canonicalize(root)) {
            (Ok(d), Ok(r)) => d.starts_with(r),
            _ => false,
        };
        let is_link = std::fs::symlink_metadata(&target).is_ok_and(|m| m.file_type().is_symlink());
        if !inside || is_link {
            return Err(format!("{}: a symlink; not written", self.path));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dir.join(format!(".{name}.aiguard-{}.tmp", std::process::id()));
        let result = (|| {
            std::fs::write(&temp, self.render())?;
            if self.original.is_some() {
                let permissions = std::fs::metadata(&target)?.permissions();
                std::fs::set_permissions(&temp, permissions)?;
            }
            // Last look: a write between the first check and here is refused too.
            if std::fs::read(&target).ok() != self.original {
                return Err(std::io::Error::other(
                    "changed since aiguard read it; not written",
                ));
            }
            std::fs::rename(&temp, &target)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&temp);
        }
        result.map_err(|e| format!("{}: {e}", self.path))
    }
}

/// `.env`, `.env.local`, … but not the committed templates.
fn is_env_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with(".env")
        && ![".env.example", ".env.sample", ".env.template", ".env.dist"].contains(&name)
}

/// The indentation of `line`.
pub fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// The line (0-based) where the statement starting at line `start` ends:
/// brackets balanced, strings skipped (approximately: quotes on one line).
pub fn statement_end(doc: &Doc, start: usize) -> usize {
    let mut depth: i64 = 0;
    for i in start..doc.lines().len() {
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        for c in doc.lines()[i].chars() {
            match quote {
                Some(q) => {
                    if c == q && prev != '\\' {
                        quote = None;
                    }
                }
                None => match c {
                    '"' | '\'' | '`' => quote = Some(c),
                    '#' if depth == 0 => break,
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' => depth -= 1,
                    _ => {}
                },
            }
            prev = c;
        }
        if depth <= 0 {
            return i;
        }
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_bom_and_missing_final_newline_survive() {
        let bytes = "\u{feff}a\r\nb\r\nc".as_bytes().to_vec();
        let mut doc = Doc::from_bytes("x.py", bytes.clone()).unwrap();
        assert_eq!(doc.render(), bytes);
        doc.insert_before(1, ["new".to_string()]);
        doc.append(["end".to_string()]);
        assert_eq!(
            String::from_utf8(doc.render()).unwrap(),
            "\u{feff}a\r\nnew\r\nb\r\nc\r\nend\r\n"
        );
    }

    #[test]
    fn env_values_are_redacted_in_diffs() {
        let mut doc = Doc::from_bytes(
            "app/.env",
            b"DATABASE_URL=postgres://user:hunter2hunter2@db/x\n".to_vec(),
        )
        .unwrap();
        doc.append(["NEW_KEY=abcdefghijklmnopqrstuvwxyz".to_string()]);
        let diff = doc.unified_diff();
        assert!(
            !diff.contains("hunter2hunter2") && !diff.contains("abcdefghijklmnop"),
            "{diff}"
        );
        assert!(diff.contains("+NEW_KEY=abcd…wxyz"), "{diff}");
        assert!(is_env_file(".env.local") && !is_env_file("web/.env.example"));
    }

    #[test]
    fn diff_counts_lines_of_each_side() {
        let mut doc = Doc::from_bytes("x", b"1\n2\n3\n4\n5\n6\n7\n8\n9\n".to_vec()).unwrap();
        doc.replace(4, "five".into());
        doc.insert_before(0, ["zero".to_string()]);
        let diff = doc.unified_diff();
        assert!(diff.contains("@@ -1,8 +1,9 @@\n+zero\n 1\n"), "{diff}");
        assert!(diff.contains("-5\n+five\n 6\n 7\n 8\n"), "{diff}");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "one\n").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.path().join("a.txt"))
            .unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("lib")).unwrap();
        let mut doc = Doc::from_bytes("a.txt", b"one\n".to_vec()).unwrap();
        doc.append(["two".to_string()]);
        assert!(doc.write(dir.path()).is_err());
        let mut new = Doc::new_file("lib/new.ts");
        new.append(["x".to_string()]);
        assert!(new.write(dir.path()).is_err());
        assert!(!outside.path().join("new.ts").exists());
        // A missing folder under the linked one is not made where it points.
        let mut deeper = Doc::new_file("lib/x/ratelimit.ts");
        deeper.append(["x".to_string()]);
        assert!(deeper.write(dir.path()).is_err());
        assert!(!outside.path().join("x").exists());
        assert_eq!(
            std::fs::read_to_string(outside.path().join("secret.txt")).unwrap(),
            "one\n"
        );
    }

    #[test]
    fn a_file_changed_after_reading_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "one\n").unwrap();
        let mut doc = Doc::from_bytes("a.txt", b"one\n".to_vec()).unwrap();
        doc.append(["two".to_string()]);
        std::fs::write(dir.path().join("a.txt"), "edited\n").unwrap();
        assert!(doc.write(dir.path()).is_err());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("a.txt")).unwrap(),
            "edited\n"
        );
    }
}
