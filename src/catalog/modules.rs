//! The SDK modules of `rules/sdks.toml` as hash tables, for
//! [`super::Catalog::sdk_for_import`]: a module is looked up as itself and
//! as each of its parents (`openai.types.chat`, `openai.types`, `openai`)
//! rather than compared with every module of every SDK. The walk asks for
//! every import of every source file, and the inventory for every name a
//! project file imports, so this was 3% of an audit's CPU.

use std::collections::{HashMap, HashSet};

use super::SdkSpec;

#[derive(Default)]
pub(super) struct ModuleTable {
    /// Module → the first SDK (catalogue order) that lists it.
    python: HashMap<String, usize>,
    js: HashMap<String, usize>,
    /// Submodules that hold types and helpers, no client.
    helpers: HashSet<String>,
    ui_only: HashSet<String>,
}

impl ModuleTable {
    pub(super) fn new(sdks: &[SdkSpec], helpers: &[String], ui_only: &[String]) -> ModuleTable {
        let mut table = ModuleTable {
            helpers: helpers.iter().cloned().collect(),
            ui_only: ui_only.iter().cloned().collect(),
            ..ModuleTable::default()
        };
        for (index, sdk) in sdks.iter().enumerate() {
            for m in &sdk.python {
                table.python.entry(m.clone()).or_insert(index);
            }
            for m in &sdk.js {
                table.js.entry(m.clone()).or_insert(index);
            }
        }
        table
    }

    pub(super) fn is_ui_only(&self, module: &str) -> bool {
        self.ui_only.contains(module)
    }

    /// Is `module` a helper module or inside one?
    pub(super) fn is_helper(&self, module: &str, sep: char) -> bool {
        within(module, sep).any(|m| self.helpers.contains(m))
    }

    /// The first SDK (in catalogue order) with a module that is `module`
    /// or one of its parents.
    pub(super) fn sdk(&self, module: &str, python: bool) -> Option<usize> {
        let (table, sep) = match python {
            true => (&self.python, '.'),
            false => (&self.js, '/'),
        };
        within(module, sep)
            .filter_map(|m| table.get(m))
            .min()
            .copied()
    }
}

/// `module` and each prefix of it that ends before a `sep`: the modules
/// `module` is within (`a.b.c`, `a.b`, `a`).
fn within(module: &str, sep: char) -> impl Iterator<Item = &str> {
    std::iter::once(module).chain(module.rmatch_indices(sep).map(move |(i, _)| &module[..i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sdk(provider: &str, python: &[&str], js: &[&str]) -> SdkSpec {
        SdkSpec {
            provider: provider.into(),
            python: python.iter().map(|s| s.to_string()).collect(),
            js: js.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_module_is_found_as_itself_or_inside_a_listed_one() {
        let sdks = [
            sdk("Google", &["google.genai"], &["@google/genai"]),
            sdk("Vertex", &["google"], &[]),
            sdk("OpenAI", &["openai"], &["openai"]),
        ];
        let t = ModuleTable::new(&sdks, &["openai.types".into()], &["ai/react".into()]);
        assert_eq!(t.sdk("openai", true), Some(2));
        assert_eq!(t.sdk("openai.resources.chat", true), Some(2));
        assert_eq!(t.sdk("openai_helpers", true), None);
        // Two SDKs hold it: the first in catalogue order wins, as before.
        assert_eq!(t.sdk("google.genai.types", true), Some(0));
        assert_eq!(t.sdk("google.cloud", true), Some(1));
        assert_eq!(t.sdk("@google/genai/web", false), Some(0));
        assert_eq!(t.sdk("@google", false), None);
        assert_eq!(t.sdk("openai/resources", false), Some(2));
        assert_eq!(t.sdk("openai.resources", false), None);
        assert!(t.is_helper("openai.types.chat", '.'));
        assert!(t.is_helper("openai.types", '.'));
        assert!(!t.is_helper("openai.typesafe", '.'));
        assert!(!t.is_helper("openai", '.'));
        assert!(t.is_ui_only("ai/react"));
        assert!(!t.is_ui_only("ai/react/x"));
    }

    #[test]
    fn every_parent_is_a_candidate() {
        let parents: Vec<&str> = within("a..b.c", '.').collect();
        assert_eq!(parents, ["a..b.c", "a..b", "a.", "a"]);
    }
}
