//! What a check gets to read: one file while walking, or the whole project
//! after the walk. Checks take these by reference and never walk or parse.

use std::collections::BTreeMap;
use std::path::Path;

use crate::catalog::Catalog;
use crate::config::Settings;
use crate::facts::{FileFacts, ProjectFacts};
use crate::git::GitInfo;
use crate::gitignore::GitignoreModel;
use crate::lang::Lang;
use crate::source::Source;

pub struct FileContext<'a> {
    /// `/`-separated, relative to the audited root.
    pub path: &'a str,
    pub source: &'a Source,
    pub lang: Option<Lang>,
    pub facts: Option<&'a FileFacts>,
    pub catalog: &'a Catalog,
    pub settings: &'a Settings,
    /// The key rules whose keywords the walk found in the file, when it
    /// searched for them with the role words
    /// ([`Catalog::source_words`]): `keys-in-code` need not search again.
    pub key_rules: Option<&'a crate::catalog::keys::Candidates>,
}

impl FileContext<'_> {
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }
}

pub struct ProjectContext<'a> {
    pub root: &'a Path,
    pub facts: &'a ProjectFacts,
    /// Every file the walk saw (text or not), sorted, relative to the root.
    pub paths: &'a [String],
    pub gitignore: &'a GitignoreModel,
    pub git: &'a GitInfo,
    pub catalog: &'a Catalog,
    pub settings: &'a Settings,
    pub files_scanned: usize,
    /// The folder excludes, for paths that do not come from the walk (git's index).
    pub excludes: &'a ignore::overrides::Override,
    /// Package folder (`""` for the root) → its package.json dependency names.
    pub packages: &'a BTreeMap<String, Vec<String>>,
    /// Every `.env*` file, ignored by git or not, with its text (only
    /// gathered when a check needs it: keys-in-client).
    pub env_files: &'a [(String, String)],
    /// Endpoints, AI calls and rate limits (built once from the facts).
    pub inventory: &'a crate::inventory::Inventory,
    /// Keys found in git history (only with `--history`).
    pub history: Option<&'a crate::history::HistoryScan>,
}

impl ProjectContext<'_> {
    pub fn is_excluded(&self, rel: &str) -> bool {
        crate::walk::is_excluded(self.excludes, rel)
    }
}
