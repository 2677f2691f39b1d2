//! Facts of a Python file from tree-sitter-python, as aiguard extracted
//! them before Ruff's parser (tests only: the comparison in `tests.rs`).
//!  Iterative traversal: deeply
//! nested code must not overflow the stack. Frames carry their parent node:
//! tree-sitter's `Node::parent()` descends from the root (O(depth)).

use crate::lang::FieldExt;
use std::borrow::Cow;
use std::rc::Rc;
use std::sync::OnceLock;
use tree_sitter::Node;

use super::python::{is_script, join_path, script_scope};
use super::{
    line_of, text_of, text_ref, Arg, Assignment, Call, Class, Columns, DictEntry, FileFacts,
    Function, Import, Kinds, TopLevelIf,
};
use crate::lang::Lang;

/// The kinds [`extract`] acts on (its `match`, loops included).
fn kinds() -> &'static Kinds {
    static KINDS: OnceLock<Kinds> = OnceLock::new();
    KINDS.get_or_init(|| {
        let mut names = vec![
            "import_statement",
            "import_from_statement",
            "decorator",
            "class_definition",
            "function_definition",
            "call",
            "if_statement",
            "assignment",
            "with_item",
        ];
        names.extend(super::loops::LOOP_KINDS);
        names.extend(super::loops::COMPREHENSIONS);
        Kinds::new(Lang::Python, &names)
    })
}

struct Frame<'t> {
    node: Node<'t>,
    parent: Option<Node<'t>>,
    function: Option<usize>,
    /// Shared, not copied, into every frame below a class.
    class: Option<Rc<str>>,
}

pub(super) fn extract(
    root: Node<'_>,
    src: &[u8],
    facts: &mut FileFacts,
    budget: &mut super::Budget,
) {
    let columns = Columns::new(src);
    let kinds = kinds();
    let mut loop_budget = super::loops::FILE_BUDGET;
    // One cursor for every node's children (a cursor allocates).
    let mut cursor = root.walk();
    let mut stack = vec![Frame {
        node: root,
        parent: None,
        function: None,
        class: None,
    }];
    while let Some(Frame {
        node,
        parent,
        function,
        class,
    }) = stack.pop()
    {
        if budget.spent() {
            return;
        }
        let mut child_function = function;
        let mut child_class = class.clone();
        // Most nodes are of no kind below: their number says so.
        let kind = match kinds.may_be(node) {
            true => node.kind(),
            false => "",
        };
        match kind {
            "import_statement" => {
                collect_import(node, src, facts);
                continue;
            }
            "import_from_statement" => {
                collect_from_import(node, src, facts);
                continue;
            }
            // Decorators are recorded on their function, not as calls.
            "decorator" => continue,
            "class_definition" => {
                child_class = node.field("name").map(|n| Rc::from(text_of(n, src)));
                facts
                    .classes
                    .push(class_facts(node, parent, src, &columns, function));
            }
            "function_definition" => {
                let index = facts.functions.len();
                facts.functions.push(function_facts(
                    node,
                    parent,
                    src,
                    &columns,
                    function,
                    class.as_deref(),
                ));
                child_function = Some(index);
                child_class = None;
            }
            "call" => facts.calls.push(call_facts(node, src, &columns, function)),
            "if_statement" => {
                let leaves = super::is_guard(node, src);
                if leaves {
                    super::note_guard(node, src, function, facts);
                }
                if function.is_none() {
                    facts.top_level_ifs.push(TopLevelIf {
                        line: line_of(node),
                        end_line: node.end_position().row as u32 + 1,
                        condition: node
                            .field("condition")
                            .map(|c| text_of(c, src))
                            .unwrap_or_default(),
                        leaves,
                    });
                }
            }
            k if super::loops::is_loop_kind(k) => {
                facts
                    .loops
                    .extend(super::loops::loop_of(node, src, function, &mut loop_budget));
            }
            "assignment" => {
                if let (Some(left), Some(right)) = (node.field("left"), node.field("right")) {
                    let assignment = Assignment {
                        target: text_of(left, src),
                        value_callee: (right.kind() == "call")
                            .then(|| right.field("function"))
                            .flatten()
                            .map(|f| callee_path(f, src)),
                        text: text_of(right, src),
                        line: line_of(node),
                        in_function: function,
                    };
                    // A class attribute (`permission_classes = [...]`).
                    if let (None, Some(name)) = (function, class.as_deref()) {
                        if let Some(c) = facts.classes.iter_mut().rev().find(|c| c.name == name) {
                            c.attributes.push(assignment.clone());
                        }
                    }
                    if function.is_none() && class.is_none() && right.kind() == "dictionary" {
                        dict_entries(right, &assignment.target, src, 0, facts);
                    }
                    facts.assignments.push(assignment);
                }
            }
            // `with httpx.Client() as client:` binds `client` as an
            // assignment would (a client object, or a local that hides one).
            "with_item" => {
                let bound = node.field("value").filter(|v| v.kind() == "as_pattern");
                if let Some(pattern) = bound {
                    let value = pattern.named_child(0);
                    let target = pattern.field("alias").map(|a| text_of(a, src));
                    if let (Some(value), Some(target)) = (value, target) {
                        let plain = !target.is_empty()
                            && target
                                .bytes()
                                .all(|b| b == b'_' || b.is_ascii_alphanumeric());
                        if plain {
                            facts.assignments.push(Assignment {
                                target,
                                value_callee: (value.kind() == "call")
                                    .then(|| value.field("function"))
                                    .flatten()
                                    .map(|f| callee_path(f, src)),
                                text: text_of(value, src),
                                line: line_of(node),
                                in_function: function,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
        // Children go on the stack in reverse, for a pre-order walk; no
        // `Vec` per node (allocation was a tenth of the instructions).
        let first = stack.len();
        for child in node.named_children(&mut cursor) {
            if !kinds.worth_visiting(child) {
                continue;
            }
            stack.push(Frame {
                node: child,
                parent: Some(node),
                function: child_function,
                class: child_class.clone(),
            });
        }
        stack[first..].reverse();
    }
    facts.calls.sort_by_key(|c| (c.line, c.column));
    if is_script(facts) {
        script_scope(facts, root.end_position().row as u32 + 1);
    }
}

fn collect_import(node: Node<'_>, src: &[u8], facts: &mut FileFacts) {
    let mut cursor = node.walk();
    for child in node.children_by_field_name("name", &mut cursor) {
        let (module, local) = match child.kind() {
            "aliased_import" => (
                child
                    .field("name")
                    .map(|n| text_of(n, src))
                    .unwrap_or_default(),
                child.field("alias").map(|n| text_of(n, src)),
            ),
            _ => (text_of(child, src), None),
        };
        // `import a.b` binds `a`; keep the module path for resolution.
        let local = local.unwrap_or_else(|| module.split('.').next().unwrap_or("").to_string());
        facts.imports.push(Import {
            module,
            name: None,
            local,
            line: line_of(node),
            type_only: false,
        });
    }
}

fn collect_from_import(node: Node<'_>, src: &[u8], facts: &mut FileFacts) {
    let module = node
        .field("module_name")
        .map(|n| text_of(n, src))
        .unwrap_or_default();
    let mut cursor = node.walk();
    // `from m import *`: every public name of `m`, found by name on use.
    if node
        .named_children(&mut cursor)
        .any(|c| c.kind() == "wildcard_import")
    {
        facts.imports.push(Import {
            module: module.clone(),
            name: Some("*".into()),
            local: "*".into(),
            line: line_of(node),
            type_only: false,
        });
    }
    for child in node.children_by_field_name("name", &mut cursor) {
        let (name, local) = match child.kind() {
            "aliased_import" => {
                let name = child
                    .field("name")
                    .map(|n| text_of(n, src))
                    .unwrap_or_default();
                let alias = child.field("alias").map(|n| text_of(n, src));
                (name.clone(), alias.unwrap_or(name))
            }
            _ => (text_of(child, src), text_of(child, src)),
        };
        facts.imports.push(Import {
            module: module.clone(),
            name: Some(name),
            local,
            line: line_of(node),
            type_only: false,
        });
    }
}

/// `up`: the definition's parent node.
fn function_facts(
    node: Node<'_>,
    up: Option<Node<'_>>,
    src: &[u8],
    columns: &Columns<'_>,
    parent: Option<usize>,
    class: Option<&str>,
) -> Function {
    let name = node
        .field("name")
        .map(|n| text_of(n, src))
        .unwrap_or_default();
    let is_async = node.child(0).is_some_and(|c| c.kind() == "async");
    let mut params = Vec::new();
    if let Some(p) = node.field("parameters") {
        params.reserve_exact(p.named_child_count());
        let mut cursor = p.walk();
        params.extend(
            p.named_children(&mut cursor)
                .filter(|c| c.kind() != "comment")
                .map(|c| text_of(c, src)),
        );
    }
    // Decorators belong to the enclosing `decorated_definition`, in order.
    let outer = up.filter(|p| p.kind() == "decorated_definition");
    let decorators = decorators_of(outer, src, columns, parent);
    let start = outer.unwrap_or(node);
    Function {
        name: match class {
            Some(c) if parent.is_none() => format!("{c}.{name}"),
            _ => name,
        },
        line: line_of(start),
        end_line: node.end_position().row as u32 + 1,
        is_async,
        exported: parent.is_none() && class.is_none(),
        params,
        decorators,
        parent,
        property: None,
    }
}

/// The entries of a module-level dictionary, nested dictionaries included
/// (three levels at most).
fn dict_entries(node: Node<'_>, path: &str, src: &[u8], depth: usize, facts: &mut FileFacts) {
    let mut cursor = node.walk();
    for pair in node
        .named_children(&mut cursor)
        .filter(|c| c.kind() == "pair")
    {
        let (Some(k), Some(v)) = (pair.field("key"), pair.field("value")) else {
            continue;
        };
        let key = text_of(k, src)
            .trim_matches(|c| c == '"' || c == '\'')
            .to_string();
        facts.dict_entries.push(DictEntry {
            path: path.to_string(),
            key: key.clone(),
            value: text_of(v, src),
            line: line_of(pair),
        });
        if v.kind() == "dictionary" && depth < 2 {
            dict_entries(v, &format!("{path}.{key}"), src, depth + 1, facts);
        }
    }
}

/// A class definition: name, bases, decorators (`up`: its parent node).
fn class_facts(
    node: Node<'_>,
    up: Option<Node<'_>>,
    src: &[u8],
    columns: &Columns<'_>,
    function: Option<usize>,
) -> Class {
    let mut bases = Vec::new();
    if let Some(list) = node.field("superclasses") {
        let mut cursor = list.walk();
        bases.extend(
            list.named_children(&mut cursor)
                .filter(|c| !matches!(c.kind(), "keyword_argument" | "comment"))
                .map(|c| text_of(c, src)),
        );
    }
    let outer = up.filter(|p| p.kind() == "decorated_definition");
    let decorators = decorators_of(outer, src, columns, function);
    Class {
        name: node
            .field("name")
            .map(|n| text_of(n, src))
            .unwrap_or_default(),
        bases,
        decorators,
        attributes: Vec::new(),
        line: line_of(node),
    }
}

/// The decorators of a `decorated_definition` (a function's or a class's),
/// in order, each as a call at the decorator's line and column.
fn decorators_of(
    def: Option<Node<'_>>,
    src: &[u8],
    columns: &Columns<'_>,
    function: Option<usize>,
) -> Vec<Call> {
    let Some(def) = def else {
        return Vec::new();
    };
    let mut decorators = Vec::new();
    let mut cursor = def.walk();
    for d in def
        .named_children(&mut cursor)
        .filter(|c| c.kind() == "decorator")
    {
        let Some(expr) = d.named_child(0) else {
            continue;
        };
        let mut call = if expr.kind() == "call" {
            call_facts(expr, src, columns, function)
        } else {
            Call {
                callee: callee_path(expr, src),
                ..Call::default()
            }
        };
        call.line = line_of(d);
        call.column = d.start_position().column as u32 + 1;
        decorators.push(call);
    }
    decorators
}

fn call_facts(node: Node<'_>, src: &[u8], columns: &Columns<'_>, function: Option<usize>) -> Call {
    let callee = node
        .field("function")
        .map(|f| callee_path(f, src))
        .unwrap_or_default();
    let mut args = Vec::new();
    if let Some(list) = node.field("arguments") {
        // Exact (comments aside): most calls have one or two arguments,
        // and a pushed-to `Vec` starts at four.
        args.reserve_exact(list.named_child_count());
        let mut cursor = list.walk();
        for a in list
            .named_children(&mut cursor)
            .filter(|c| c.kind() != "comment")
        {
            let (keyword, value) = if a.kind() == "keyword_argument" {
                (
                    a.field("name").map(|n| text_of(n, src)),
                    a.field("value").unwrap_or(a),
                )
            } else {
                (None, a)
            };
            args.push(Arg {
                keyword,
                text: text_of(value, src),
                pairs: Vec::new(),
                line: line_of(a),
                column: columns.of(a),
                function: None,
                end_line: a.end_position().row as u32 + 1,
                end_column: a.end_position().column as u32 + 1,
            });
        }
    }
    Call {
        callee,
        is_new: false,
        args,
        line: line_of(node),
        column: node.start_position().column as u32 + 1,
        in_function: function,
    }
}

/// `client.chat.completions.create`, `OpenAI().models.list`; at most 64 segments.
pub(super) fn callee_path(node: Node<'_>, src: &[u8]) -> String {
    let mut parts: Vec<Cow<'_, str>> = Vec::with_capacity(8);
    let mut cur = node;
    for _ in 0..64 {
        match cur.kind() {
            "identifier" => {
                parts.push(text_ref(cur, src));
                break;
            }
            "attribute" => {
                parts.push(
                    cur.field("attribute")
                        .map(|n| text_ref(n, src))
                        .unwrap_or_default(),
                );
                match cur.field("object") {
                    Some(o) => cur = o,
                    None => break,
                }
            }
            "call" => {
                parts.push(Cow::Borrowed("()"));
                match cur.field("function") {
                    Some(f) => cur = f,
                    None => break,
                }
            }
            "subscript" => match cur.field("value") {
                Some(v) => cur = v,
                None => break,
            },
            "parenthesized_expression" | "await" => match cur.named_child(0) {
                Some(v) => cur = v,
                None => break,
            },
            _ => {
                parts.push(Cow::Borrowed("?"));
                break;
            }
        }
    }
    join_path(&parts)
}
