//! Reading one file: size caps, binary sniffing, UTF-8, and the line index
//! that turns byte offsets into 1-based line/column spans.
//!
//! Every file is read here once; everything downstream borrows the bytes.
//! Columns are counted in Unicode code points (SARIF's `unicodeCodePoints`);
//! bytes that are not valid UTF-8 count as one column each.
//!
//! UTF-16 with a byte-order mark (what Windows PowerShell 5's `>` writes) is
//! decoded to UTF-8 before anything looks at it: git calls it binary, but a
//! key in it is still a key, and lines and code-point columns are the same
//! in both encodings. Except in `.gitignore` files, which git reads as bytes
//! (a UTF-16 `.gitignore` ignores nothing, and the model must agree).

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use crate::findings::{NoteKind as SkipReason, Span};

/// How many leading bytes are sniffed for a NUL to call a file binary (as git does).
const SNIFF_BYTES: usize = 8 * 1024;

/// A file's bytes and its line index.
pub struct Source {
    bytes: Vec<u8>,
    /// Where each line starts, found on the first question about lines:
    /// most files have no finding and are never asked.
    line_starts: std::cell::OnceCell<Vec<usize>>,
    utf8: std::cell::OnceCell<bool>,
}

pub enum Loaded {
    Text(Source),
    Skipped(SkipReason, String),
}

impl Source {
    pub fn new(bytes: Vec<u8>) -> Source {
        Source {
            bytes,
            line_starts: std::cell::OnceCell::new(),
            utf8: std::cell::OnceCell::new(),
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(memchr_newlines(&self.bytes));
            starts
        })
    }

    /// Read `path` unless it is larger than `max_bytes` or binary.
    pub fn load(path: &Path, max_bytes: u64) -> Loaded {
        // Opening a FIFO would block the walker: open non-blocking, or
        // where that flag is unknown, look first.
        if O_NONBLOCK.is_none() {
            if let Err(skipped) = regular_len(fs::metadata(path)) {
                return skipped;
            }
        }
        let file = match open(path) {
            Ok(f) => f,
            Err(e) => return Loaded::Skipped(SkipReason::Unreadable, read_error(&e)),
        };
        // Look at what was opened (`fstat`): the path may have been
        // replaced since the walk listed it (a file that vanished, a FIFO).
        let len = match regular_len(file.metadata()) {
            Ok(len) => len,
            Err(skipped) => return skipped,
        };
        if len > max_bytes {
            return Loaded::Skipped(
                SkipReason::TooLarge,
                format!(
                    "{} is over the {} size limit",
                    human_bytes(len),
                    human_bytes(max_bytes)
                ),
            );
        }
        let mut bytes = Vec::with_capacity(len as usize + 1);
        // `take` bounds memory even if the file grew since `metadata`.
        if let Err(e) = file.take(max_bytes + 1).read_to_end(&mut bytes) {
            return Loaded::Skipped(SkipReason::Unreadable, read_error(&e));
        }
        if bytes.len() as u64 > max_bytes {
            return Loaded::Skipped(
                SkipReason::TooLarge,
                "grew over the size limit while read".into(),
            );
        }
        let is_gitignore = path.file_name().is_some_and(|n| n == ".gitignore");
        if let Some(text) = decode_utf16(&bytes).filter(|_| !is_gitignore) {
            bytes = text;
        }
        if is_binary(&bytes) {
            return Loaded::Skipped(SkipReason::Binary, "binary file".into());
        }
        Loaded::Text(Source::new(bytes))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn is_utf8(&self) -> bool {
        *self
            .utf8
            .get_or_init(|| std::str::from_utf8(&self.bytes).is_ok())
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    /// The 1-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> u32 {
        (self.line_starts().partition_point(|&s| s <= offset)) as u32
    }

    /// The bytes of 1-based line `line`, without its line terminator.
    pub fn line_bytes(&self, line: u32) -> &[u8] {
        let i = (line.max(1) - 1) as usize;
        let Some(&start) = self.line_starts().get(i) else {
            return &[];
        };
        let end = self
            .line_starts()
            .get(i + 1)
            .map(|e| e - 1)
            .unwrap_or(self.bytes.len());
        let text = &self.bytes[start..end.max(start)];
        text.strip_suffix(b"\r").unwrap_or(text)
    }

    /// Byte range of lines `first..=last` (1-based, clamped).
    pub fn lines_range(&self, first: u32, last: u32) -> &[u8] {
        let first = (first.max(1) - 1) as usize;
        let last = (last as usize).min(self.line_starts().len());
        let Some(&start) = self.line_starts().get(first) else {
            return &[];
        };
        let end = self
            .line_starts()
            .get(last)
            .copied()
            .unwrap_or(self.bytes.len());
        &self.bytes[start..end.max(start)]
    }

    /// The 1-based span of bytes `start..end`.
    pub fn span(&self, start: usize, end: usize) -> Span {
        let (line, column) = self.position(start);
        let (end_line, end_column) = self.position(end.max(start));
        Span {
            line,
            column,
            end_line,
            end_column,
        }
    }

    /// 1-based line and code-point column of byte `offset`.
    pub fn position(&self, offset: usize) -> (u32, u32) {
        let offset = offset.min(self.bytes.len());
        let line = self.line_of(offset);
        let start = self.line_starts()[line as usize - 1];
        let column = count_chars(&self.bytes[start..offset]) + 1;
        (line, column as u32)
    }
}

/// Code points in `bytes`; each byte of an invalid sequence counts as one.
fn count_chars(bytes: &[u8]) -> usize {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.chars().count(),
        // Continuation bytes (10xxxxxx) do not start a character.
        Err(_) => bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count(),
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'\n', bytes).map(|i| i + 1)
}

/// The length of a regular file, or why it is skipped.
fn regular_len(metadata: io::Result<fs::Metadata>) -> Result<u64, Loaded> {
    match metadata {
        Ok(m) if m.is_file() => Ok(m.len()),
        Ok(_) => Err(Loaded::Skipped(
            SkipReason::NotRegular,
            "not a regular file (FIFO, socket or device)".into(),
        )),
        Err(e) => Err(Loaded::Skipped(SkipReason::Unreadable, read_error(&e))),
    }
}

/// Open for reading without blocking: if a FIFO took the file's place since
/// it was looked at, opening it must not wait for a writer. Never through a
/// symlink (`O_NOFOLLOW`): the walk decides which links may be read (none:
/// one outside the tree is noted, one inside is read at its target), and a
/// link that took a file's place since is refused, not followed out of the
/// tree (issue 20).
pub(crate) fn open(path: &Path) -> io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        let flags = O_NONBLOCK.unwrap_or(0) | O_NOFOLLOW.unwrap_or(0);
        // They change nothing for regular files.
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, flags);
    }
    if O_NOFOLLOW.is_none() && fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(io::Error::other("a symlink: not followed"));
    }
    options.open(path)
}

/// `O_NONBLOCK` where its value is known without the `libc` crate
/// (asm-generic Linux targets, macOS, FreeBSD); elsewhere files are looked
/// at with `stat` before they are opened.
#[cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    )
))]
const O_NONBLOCK: Option<i32> = Some(0o4000);
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
const O_NONBLOCK: Option<i32> = Some(0x0004);
#[cfg(not(any(
    all(
        target_os = "linux",
        any(
            target_arch = "x86_64",
            target_arch = "x86",
            target_arch = "aarch64",
            target_arch = "arm",
            target_arch = "riscv64"
        )
    ),
    target_os = "macos",
    target_os = "freebsd"
)))]
const O_NONBLOCK: Option<i32> = None;

/// `O_NOFOLLOW`, known the same way as `O_NONBLOCK` (arm and aarch64
/// Linux have their own value); elsewhere the path is looked at with
/// `lstat` first.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "x86", target_arch = "riscv64")
))]
const O_NOFOLLOW: Option<i32> = Some(0o400000);
#[cfg(all(target_os = "linux", any(target_arch = "aarch64", target_arch = "arm")))]
const O_NOFOLLOW: Option<i32> = Some(0o100000);
#[cfg(any(target_os = "macos", target_os = "freebsd"))]
const O_NOFOLLOW: Option<i32> = Some(0x0100);
#[cfg(not(any(
    all(
        target_os = "linux",
        any(
            target_arch = "x86_64",
            target_arch = "x86",
            target_arch = "aarch64",
            target_arch = "arm",
            target_arch = "riscv64"
        )
    ),
    target_os = "macos",
    target_os = "freebsd"
)))]
const O_NOFOLLOW: Option<i32> = None;

/// `bytes` as text, invalid UTF-8 replaced (U+FFFD): borrowed when valid.
/// Like `String::from_utf8_lossy`, but valid text (nearly every file) is
/// checked by `str::from_utf8`, which skips ASCII a word at a time.
pub fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// UTF-16 text with a byte-order mark, decoded to UTF-8 (unpaired
/// surrogates become U+FFFD); `None` for anything else.
pub fn decode_utf16(bytes: &[u8]) -> Option<Vec<u8>> {
    let little = match bytes {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return None,
    };
    let units = bytes[2..].chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if little {
            u16::from_le_bytes(pair)
        } else {
            u16::from_be_bytes(pair)
        }
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    text.extend(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
    Some(text.into_bytes())
}

/// Git's heuristic: a NUL byte in the first 8 KiB. UTF-16 without a
/// byte-order mark has NULs and counts as binary here, as in git.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(SNIFF_BYTES)].contains(&0)
}

fn read_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::InvalidData => "invalid data".into(),
        io::ErrorKind::NotFound => format!("vanished during the audit ({e})"),
        _ => e.to_string(),
    }
}

pub fn human_bytes(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB {
        format!("{:.1} MiB", n as f64 / MIB as f64)
    } else if n >= 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_one_based_code_points() {
        let src = Source::new("a = 1\nkey = \"é sk\"\n".as_bytes().to_vec());
        let at = src.bytes().windows(2).position(|w| w == b"sk").unwrap();
        assert_eq!(src.position(at), (2, 10));
        assert_eq!(src.line_bytes(2), "key = \"é sk\"".as_bytes());
        assert_eq!(src.position(0), (1, 1));
    }

    #[test]
    fn crlf_lines_drop_the_carriage_return() {
        let src = Source::new(b"one\r\ntwo\r\n".to_vec());
        assert_eq!(src.line_bytes(1), b"one");
        assert_eq!(src.line_bytes(2), b"two");
        assert_eq!(src.line_of(5), 2);
    }

    #[test]
    fn binary_is_a_nul_in_the_first_8k() {
        assert!(is_binary(b"PNG\0\x01"));
        assert!(!is_binary(b"plain text"));
        let mut late = vec![b'a'; SNIFF_BYTES + 10];
        late[SNIFF_BYTES + 5] = 0;
        assert!(!is_binary(&late));
    }

    #[test]
    fn invalid_utf8_still_has_positions() {
        let src = Source::new(b"\xff\xfe abc\nx".to_vec());
        assert!(!src.is_utf8());
        assert_eq!(src.position(4), (1, 5));
    }

    fn utf16le(text: &str) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    }

    #[test]
    fn utf16_with_a_bom_is_decoded() {
        assert_eq!(decode_utf16(&utf16le("a=é\n")).unwrap(), "a=é\n".as_bytes());
        let mut be = vec![0xFE, 0xFF];
        be.extend("x😀".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode_utf16(&be).unwrap(), "x😀".as_bytes());
        // An unpaired surrogate, and an odd trailing byte.
        assert_eq!(
            decode_utf16(&[0xFF, 0xFE, 0x00, 0xD8, b'a', 0, 7]).unwrap(),
            "\u{FFFD}a".as_bytes()
        );
        assert_eq!(decode_utf16(b"plain"), None);
    }

    #[test]
    fn load_decodes_utf16_except_gitignore() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        fs::write(&text, utf16le("line one\nKEY=x\n")).unwrap();
        match Source::load(&text, 1 << 20) {
            Loaded::Text(s) => assert_eq!(s.line_bytes(2), b"KEY=x"),
            Loaded::Skipped(kind, why) => panic!("{kind:?}: {why}"),
        }
        let gitignore = dir.path().join(".gitignore");
        fs::write(&gitignore, utf16le(".env\n")).unwrap();
        assert!(matches!(
            Source::load(&gitignore, 1 << 20),
            Loaded::Skipped(SkipReason::Binary, _)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.py");
        fs::write(&target, "x = 1\n").unwrap();
        let link = dir.path().join("link.py");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(
            Source::load(&link, 1 << 20),
            Loaded::Skipped(SkipReason::Unreadable, _)
        ));
        assert!(matches!(Source::load(&target, 1 << 20), Loaded::Text(_)));
    }

    #[test]
    fn a_vanished_file_is_skipped_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.py");
        fs::write(&path, "x = 1\n").unwrap();
        fs::remove_file(&path).unwrap();
        match Source::load(&path, 1 << 20) {
            Loaded::Skipped(SkipReason::Unreadable, why) => {
                assert!(why.contains("vanished"), "{why}")
            }
            _ => panic!("a vanished file loads"),
        }
    }
}
