//! Languages aiguard parses with tree-sitter, and one parser per language per
//! thread.
//!
//! `.ts`/`.mts`/`.cts` use the TypeScript grammar (the TSX grammar rejects
//! `<T>x` casts); `.tsx` and every JavaScript flavour use TSX, which accepts
//! JSX in `.js` files as bundlers do.

use std::path::Path;
use tree_sitter::{Language, Parser, Tree};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Python,
    TypeScript,
    Tsx,
}

impl Lang {
    pub fn from_path(path: &Path) -> Option<Lang> {
        let ext = path.extension()?.to_str()?;
        Some(match ext {
            "py" | "pyi" => Lang::Python,
            "ts" | "mts" | "cts" => Lang::TypeScript,
            "tsx" | "js" | "jsx" | "mjs" | "cjs" => Lang::Tsx,
            _ => return None,
        })
    }

    pub fn is_python(self) -> bool {
        self == Lang::Python
    }

    pub fn grammar(self) -> Language {
        match self {
            Lang::Python => tree_sitter_python::LANGUAGE.into(),
            Lang::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Lang::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        }
    }
}

/// One parser per language, created lazily; keep one per worker thread.
#[derive(Default)]
pub struct Parsers {
    python: Option<Parser>,
    typescript: Option<Parser>,
    tsx: Option<Parser>,
}

impl Parsers {
    /// Parse `bytes`; `None` only if tree-sitter gives up (it returns a tree
    /// with error nodes for broken code, which is still usable).
    pub fn parse(&mut self, lang: Lang, bytes: &[u8]) -> Option<Tree> {
        let slot = match lang {
            Lang::Python => &mut self.python,
            Lang::TypeScript => &mut self.typescript,
            Lang::Tsx => &mut self.tsx,
        };
        if slot.is_none() {
            let mut parser = Parser::new();
            // The grammars are compiled in; a mismatched ABI is a build bug,
            // caught by the `every_grammar_loads` test.
            parser.set_language(&lang.grammar()).ok()?;
            *slot = Some(parser);
        }
        slot.as_mut()?.parse(bytes, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grammar_loads_and_parses() {
        let mut parsers = Parsers::default();
        for (lang, code) in [
            (Lang::Python, "import openai\n"),
            (Lang::TypeScript, "const x = <string>y;\n"),
            (Lang::Tsx, "export default () => <div/>;\n"),
        ] {
            let tree = parsers.parse(lang, code.as_bytes()).expect("parses");
            assert!(
                !tree.root_node().has_error(),
                "{lang:?}: {}",
                tree.root_node().to_sexp()
            );
        }
    }

    #[test]
    fn extensions_map_to_grammars() {
        assert_eq!(Lang::from_path(Path::new("a/b.pyi")), Some(Lang::Python));
        assert_eq!(Lang::from_path(Path::new("x.cts")), Some(Lang::TypeScript));
        assert_eq!(Lang::from_path(Path::new("x.jsx")), Some(Lang::Tsx));
        assert_eq!(Lang::from_path(Path::new("x.mjs")), Some(Lang::Tsx));
        assert_eq!(Lang::from_path(Path::new("x.json")), None);
    }
}
