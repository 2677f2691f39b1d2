//! Path helpers below everything that names files (config globs, the walk,
//! reports): one spelling of a project path, `/`-separated and relative to
//! the audited root.

use std::path::Path;

/// `/`-separated path relative to the root.
pub fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path).to_string_lossy();
    match std::path::MAIN_SEPARATOR {
        '/' => rel.into_owned(),
        sep => rel.replace(sep, "/"),
    }
}
