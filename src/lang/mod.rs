//! The languages aiguard parses, and one tree-sitter parser per language
//! per thread for TypeScript and JavaScript. Python is parsed with Ruff's
//! parser (`facts::python`), which needs no state kept between files.
//!
//! `.ts`/`.mts`/`.cts` use the TypeScript grammar (the TSX grammar rejects
//! `<T>x` casts); `.tsx` and every JavaScript flavour use TSX, which accepts
//! JSX in `.js` files as bundlers do.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;
use tree_sitter::{Language, Node, ParseOptions, ParseState, Parser, Tree};

/// A parse stopped at its deadline (issue 20: one pathological file must
/// not stall an audit).
#[derive(Debug, PartialEq, Eq)]
pub struct OutOfTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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

    /// The tree-sitter grammar; `None` for Python (Ruff's parser).
    pub fn grammar(self) -> Option<Language> {
        match self {
            Lang::Python => None,
            Lang::TypeScript => Some(tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into()),
            Lang::Tsx => Some(tree_sitter_typescript::LANGUAGE_TSX.into()),
        }
    }
}

/// One parser per language, created lazily; keep one per worker thread.
#[derive(Default)]
pub struct Parsers {
    typescript: Option<Parser>,
    tsx: Option<Parser>,
}

impl Parsers {
    /// Parse `bytes`; `None` if tree-sitter gives up (it returns a tree
    /// with error nodes for broken code, which is still usable) and for
    /// Python, which tree-sitter does not parse here.
    pub fn parse(&mut self, lang: Lang, bytes: &[u8]) -> Option<Tree> {
        self.parse_until(lang, bytes, None).ok().flatten()
    }

    /// [`Parsers::parse`], stopped at `deadline`: tree-sitter calls back
    /// every hundred or so parse steps, and the callback ends the parse
    /// once the deadline has passed (tree-sitter 0.26 has no timeout of its
    /// own: `ParseOptions::progress_callback` replaced it).
    pub fn parse_until(
        &mut self,
        lang: Lang,
        bytes: &[u8],
        deadline: Option<Instant>,
    ) -> Result<Option<Tree>, OutOfTime> {
        let slot = match lang {
            Lang::Python => return Ok(None),
            Lang::TypeScript => &mut self.typescript,
            Lang::Tsx => &mut self.tsx,
        };
        if slot.is_none() {
            let mut parser = Parser::new();
            // The grammars are compiled in; a mismatched ABI is a build bug,
            // caught by the `every_grammar_loads` test.
            let Some(grammar) = lang.grammar() else {
                return Ok(None);
            };
            if parser.set_language(&grammar).is_err() {
                return Ok(None);
            }
            *slot = Some(parser);
        }
        let Some(parser) = slot.as_mut() else {
            return Ok(None);
        };
        let Some(deadline) = deadline else {
            return Ok(parser.parse(bytes, None));
        };
        let mut expired = false;
        let mut progress = |_: &ParseState| {
            if Instant::now() < deadline {
                return ControlFlow::Continue(());
            }
            expired = true;
            ControlFlow::Break(())
        };
        let options = ParseOptions::new().progress_callback(&mut progress);
        let len = bytes.len();
        let tree = parser.parse_with_options(
            &mut |i, _| if i < len { &bytes[i..] } else { &[] },
            None,
            Some(options),
        );
        if tree.is_none() {
            // Otherwise the next parse would resume this one.
            parser.reset();
        }
        match expired {
            true => Err(OutOfTime),
            false => Ok(tree),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_by_cached_id_are_the_fields_by_name() {
        let mut parsers = Parsers::default();
        // One thread, two grammars, the same names: ids do not leak
        // from one grammar to another.
        for (lang, code) in [
            (Lang::TypeScript, "function f(a: T) { return g(a); }\n"),
            (Lang::Tsx, "function f(a) { return <A b={g(a)} />; }\n"),
        ] {
            let tree = parsers.parse(lang, code.as_bytes()).expect("parses");
            let function = tree.root_node().named_child(0).expect("a function");
            for name in ["name", "parameters", "body", "no_such_field"] {
                assert_eq!(
                    function.field(name),
                    function.child_by_field_name(name),
                    "{lang:?} {name}"
                );
            }
            assert!(function.field("body").is_some(), "{lang:?}");
        }
    }

    #[test]
    fn every_grammar_loads_and_parses() {
        let mut parsers = Parsers::default();
        // Python is Ruff's to parse: no tree-sitter grammar.
        assert!(Lang::Python.grammar().is_none());
        assert!(parsers.parse(Lang::Python, b"import openai\n").is_none());
        for (lang, code) in [
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
    fn a_parse_stops_at_its_deadline_and_the_parser_starts_afresh() {
        let mut parsers = Parsers::default();
        let big = "let x = [1, 2, 3];\n".repeat(20_000);
        let past = Some(Instant::now());
        assert!(matches!(
            parsers.parse_until(Lang::TypeScript, big.as_bytes(), past),
            Err(OutOfTime)
        ));
        // The next parse is of its own text, not the rest of the last one.
        let tree = parsers
            .parse(Lang::TypeScript, b"import openai from \"openai\";\n")
            .unwrap();
        assert_eq!(
            tree.root_node().to_sexp(),
            "(program (import_statement (import_clause (identifier)) source: (string (string_fragment))))"
        );
        let later = Some(Instant::now() + std::time::Duration::from_secs(60));
        assert!(parsers
            .parse_until(Lang::TypeScript, big.as_bytes(), later)
            .unwrap()
            .is_some());
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

type FieldKey = (usize, usize, usize);

thread_local! {
    /// Field ids by (name, grammar), for [`FieldExt::field`].
    static FIELD_IDS: std::cell::RefCell<std::collections::HashMap<FieldKey, Option<u16>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// `child_by_field_name` with the field's id looked up once per grammar
/// and thread: tree-sitter finds a field by comparing its name with every
/// field name of the grammar, on every call (a tenth of the facts' time on
/// application trees).
pub trait FieldExt<'t> {
    fn field(&self, name: &'static str) -> Option<Node<'t>>;
}

impl<'t> FieldExt<'t> for Node<'t> {
    fn field(&self, name: &'static str) -> Option<Node<'t>> {
        let language = self.language();
        // A grammar by its sizes (older grammars carry no name): Python,
        // TypeScript and TSX differ in their node kinds.
        let grammar = language.node_kind_count() << 16 | language.field_count();
        let key = (name.as_ptr() as usize, name.len(), grammar);
        let id = FIELD_IDS.with(|ids| {
            *ids.borrow_mut()
                .entry(key)
                .or_insert_with(|| language.field_id_for_name(name).map(|f| f.get()))
        });
        self.child_by_field_id(id?)
    }
}
