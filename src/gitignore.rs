//! Git's ignore semantics over the whole tree, to answer "would git ignore
//! this path?" for paths that may not exist (`apps/web/.env.local`).
//!
//! Matching itself is the `ignore` crate's gitignore matcher; this module
//! adds what git does around it: every `.gitignore` from the repository root
//! down applies to its own directory, deeper files win, `.git/info/exclude`
//! comes last, and a file inside an ignored directory is ignored whatever a
//! negation says (git never looks inside it). The user's global excludes
//! file is deliberately not read: it protects one machine, not the team.

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use std::path::{Path, PathBuf};

pub struct GitignoreModel {
    /// The directory ignore rules are evaluated from (repository root, or
    /// the audited root outside a repository).
    top: PathBuf,
    /// (directory, its `.gitignore`), deepest last.
    matchers: Vec<(PathBuf, Gitignore)>,
    exclude: Option<Gitignore>,
}

impl GitignoreModel {
    /// `files`: (directory, contents of its `.gitignore`). Paths absolute.
    pub fn new(
        top: &Path,
        files: &[(PathBuf, String)],
        info_exclude: Option<&str>,
    ) -> GitignoreModel {
        let mut matchers: Vec<(PathBuf, Gitignore)> = files
            .iter()
            .map(|(dir, text)| (dir.clone(), build(dir, text)))
            .collect();
        matchers.sort_by_key(|(dir, _)| dir.components().count());
        let exclude = info_exclude.map(|text| build(top, text));
        GitignoreModel {
            top: top.to_path_buf(),
            matchers,
            exclude,
        }
    }

    /// Would git ignore `path` (absolute, under `top`)?
    pub fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        let Ok(rel) = path.strip_prefix(&self.top) else {
            return false;
        };
        // Any ignored ancestor directory hides the path from git.
        let mut dir = self.top.clone();
        let components: Vec<_> = rel.components().collect();
        for c in &components[..components.len().saturating_sub(1)] {
            dir.push(c);
            if self.decide(&dir, true) {
                return true;
            }
        }
        self.decide(path, is_dir)
    }

    fn decide(&self, path: &Path, is_dir: bool) -> bool {
        let applicable = self
            .matchers
            .iter()
            .rev()
            .filter(|(dir, _)| path.starts_with(dir) && path != dir);
        for (_, gi) in applicable {
            match gi.matched(path, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        matches!(
            self.exclude.as_ref().map(|gi| gi.matched(path, is_dir)),
            Some(Match::Ignore(_))
        )
    }
}

fn build(dir: &Path, text: &str) -> Gitignore {
    let mut builder = GitignoreBuilder::new(dir);
    for line in text.lines() {
        // A lone `!` negates an empty pattern, which git ignores; the
        // `ignore` crate took it for "un-ignore everything" (found by
        // tests/gitignore_diff.rs).
        if line.trim_end_matches([' ', '\r']) == "!" {
            continue;
        }
        // A bad glob line is skipped, as git does.
        let _ = builder.add_line(None, line);
    }
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(files: &[(&str, &str)]) -> GitignoreModel {
        let top = PathBuf::from("/repo");
        let files: Vec<(PathBuf, String)> = files
            .iter()
            .map(|(d, t)| (top.join(d).components().collect(), t.to_string()))
            .collect();
        GitignoreModel::new(&top, &files, None)
    }

    fn ignored(m: &GitignoreModel, path: &str) -> bool {
        m.is_ignored(&Path::new("/repo").join(path), false)
    }

    #[test]
    fn no_gitignore_ignores_nothing() {
        let m = model(&[]);
        assert!(!ignored(&m, ".env"));
    }

    #[test]
    fn dot_env_only_misses_the_variants() {
        let m = model(&[("", ".env\n")]);
        assert!(ignored(&m, ".env"));
        assert!(
            ignored(&m, "apps/web/.env"),
            "unanchored pattern matches in subfolders"
        );
        assert!(!ignored(&m, ".env.local"));
    }

    #[test]
    fn star_patterns() {
        let m = model(&[("", ".env*\n")]);
        assert!(ignored(&m, ".env.production.local") && ignored(&m, ".env"));
        assert!(ignored(&m, ".env.example"), ".env* also hides the example");
        let m = model(&[("", "*.env\n")]);
        assert!(ignored(&m, ".env") && ignored(&m, "prod.env"));
        assert!(!ignored(&m, ".env.local"));
    }

    #[test]
    fn anchored_pattern_covers_only_the_root() {
        let m = model(&[("", "/.env\n")]);
        assert!(ignored(&m, ".env"));
        assert!(!ignored(&m, "apps/api/.env"));
    }

    #[test]
    fn negation_keeps_the_example() {
        let m = model(&[("", ".env*\n!.env.example\n")]);
        assert!(ignored(&m, ".env.local"));
        assert!(!ignored(&m, ".env.example"));
    }

    #[test]
    fn nested_gitignore_applies_to_its_folder_and_wins() {
        let m = model(&[
            ("", "node_modules/\n"),
            ("apps/web", ".env*.local\n!.env.production.local\n"),
        ]);
        assert!(ignored(&m, "apps/web/.env.local"));
        assert!(!ignored(&m, "apps/web/.env.production.local"));
        assert!(
            !ignored(&m, ".env.local"),
            "the nested file does not reach its parent"
        );
        assert!(!ignored(&m, "apps/web/.env"));
    }

    #[test]
    fn files_in_an_ignored_directory_cannot_be_re_included() {
        let m = model(&[("", "secrets/\n!secrets/.env.example\n")]);
        assert!(ignored(&m, "secrets/.env.example"));
    }

    #[test]
    fn double_star_and_deeper_rules() {
        let m = model(&[("", "**/config/.env\n"), ("apps", "!web/config/.env\n")]);
        assert!(ignored(&m, "x/y/config/.env"));
        assert!(!ignored(&m, "apps/web/config/.env"), "deeper negation wins");
    }

    #[test]
    fn info_exclude_applies_last() {
        let top = PathBuf::from("/repo");
        let m = GitignoreModel::new(
            &top,
            &[(top.clone(), "!.env\n".into())],
            Some(".env\n.env.local\n"),
        );
        assert!(
            !ignored(&m, ".env"),
            ".gitignore negation beats info/exclude"
        );
        assert!(ignored(&m, ".env.local"));
    }

    #[test]
    fn a_lone_negation_is_no_pattern() {
        let m = model(&[("", ".env\n!\n"), ("web", "!  \r\n"), ("api", "!\r")]);
        assert!(ignored(&m, ".env"));
        assert!(ignored(&m, "web/.env") && ignored(&m, "api/.env"));
    }
}
