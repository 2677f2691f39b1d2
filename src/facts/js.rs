//! Facts of a TypeScript / JavaScript / TSX file. Iterative traversal,
//! and no `Node::parent()`: tree-sitter answers it by descending from the
//! root, so on code nested 10,000 deep it made extraction quadratic (minutes).
//! The traversal carries the few ancestors the facts need instead.

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;
use tree_sitter::Node;

use super::python::join_path;
use super::{
    line_of, string_value, text_of, text_ref, Arg, Assignment, Call, Columns, FileFacts, Function,
    Import, Kinds,
};
use crate::lang::Lang;

/// The kinds [`extract`] acts on (its `match`, loops included), per grammar.
fn kinds(lang: Lang) -> &'static Kinds {
    static TS: OnceLock<Kinds> = OnceLock::new();
    static TSX: OnceLock<Kinds> = OnceLock::new();
    let slot = match lang {
        Lang::TypeScript => &TS,
        _ => &TSX,
    };
    slot.get_or_init(|| {
        let mut names = vec![
            "import_statement",
            "export_statement",
            "class_declaration",
            "class",
            "abstract_class_declaration",
            "call_expression",
            "new_expression",
            "if_statement",
            "variable_declarator",
            "assignment_expression",
        ];
        names.extend(FUNCTION_KINDS);
        names.extend(super::loops::LOOP_KINDS);
        names.extend(super::loops::COMPREHENSIONS);
        Kinds::new(lang, &names)
    })
}

const FUNCTION_KINDS: [&str; 6] = [
    "function_declaration",
    "generator_function_declaration",
    "function_expression",
    // `async function* ({ input }) { … }` passed as an argument.
    "generator_function",
    "arrow_function",
    "method_definition",
];

/// How many ancestors a frame carries: `export const f = () => …` puts the
/// function 3 levels under its `export_statement`.
const UP: usize = 4;

/// The nearest ancestors of a node, parent first.
#[derive(Clone, Copy, Default)]
struct Ancestors<'t>([Option<Node<'t>>; UP]);

impl<'t> Ancestors<'t> {
    /// The `n`th ancestor: 0 is the parent.
    fn get(&self, n: usize) -> Option<Node<'t>> {
        self.0.get(n).copied().flatten()
    }

    /// The ancestors of a child of `node` (whose ancestors are `self`).
    fn push(&self, node: Node<'t>) -> Ancestors<'t> {
        let mut up = [None; UP];
        up[0] = Some(node);
        up[1..].copy_from_slice(&self.0[..UP - 1]);
        Ancestors(up)
    }
}

struct Frame<'t> {
    node: Node<'t>,
    up: Ancestors<'t>,
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
    let kinds = kinds(facts.lang.unwrap_or(Lang::Tsx));
    let mut loop_budget = super::loops::FILE_BUDGET;
    // One cursor for every node's children (a cursor allocates).
    let mut cursor = root.walk();
    collect_directives(root, src, facts);
    // call node id → index in facts.calls, to link function arguments to their call.
    let mut call_index: HashMap<usize, usize> = HashMap::new();
    let mut stack = vec![Frame {
        node: root,
        up: Ancestors::default(),
        function: None,
        class: None,
    }];
    while let Some(Frame {
        node,
        up,
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
            // `export { default } from "next-auth/middleware"` uses that module.
            "export_statement" if node.child_by_field_name("source").is_some() => {
                collect_import(node, src, facts);
                continue;
            }
            "class_declaration" | "class" | "abstract_class_declaration" => {
                child_class = node
                    .child_by_field_name("name")
                    .map(|n| Rc::from(text_of(n, src)));
            }
            k if FUNCTION_KINDS.contains(&k) => {
                let index = facts.functions.len();
                facts
                    .functions
                    .push(function_facts(node, up, src, function, class.as_deref()));
                link_argument(node, up, index, &call_index, facts);
                child_function = Some(index);
                child_class = None;
            }
            "call_expression" | "new_expression" => {
                call_index.insert(node.id(), facts.calls.len());
                let call = call_facts(node, src, &columns, function);
                if let Some(p) = property_call(node, up, src) {
                    facts.property_calls.push(p);
                }
                if call.callee == "require" {
                    collect_require(node, up.get(0), src, facts);
                } else if call.callee == "import" {
                    collect_dynamic_import(node, src, facts);
                }
                facts.calls.push(call);
            }
            "if_statement" if super::is_guard(node, src) => {
                facts.guards.push((function, line_of(node)));
                super::loops::note_limit_guard(node, src, function, facts);
            }
            k if super::loops::is_loop_kind(k) => {
                facts
                    .loops
                    .extend(super::loops::loop_of(node, src, function, &mut loop_budget));
            }
            "variable_declarator" | "assignment_expression" => {
                let (left, right) = if kind == "variable_declarator" {
                    (
                        node.child_by_field_name("name"),
                        node.child_by_field_name("value"),
                    )
                } else {
                    (
                        node.child_by_field_name("left"),
                        node.child_by_field_name("right"),
                    )
                };
                if let (Some(left), Some(right)) = (left, right) {
                    facts.assignments.push(Assignment {
                        target: text_of(left, src),
                        value_callee: value_callee(right, src),
                        text: text_of(right, src),
                        line: line_of(node),
                        in_function: function,
                    });
                }
            }
            _ => {}
        }
        let child_up = up.push(node);
        // Children go on the stack in reverse, for a pre-order walk; no
        // `Vec` per node (allocation was a tenth of the instructions).
        let first = stack.len();
        for child in node.named_children(&mut cursor) {
            if !kinds.worth_visiting(child) {
                continue;
            }
            stack.push(Frame {
                node: child,
                up: child_up,
                function: child_function,
                class: child_class.clone(),
            });
        }
        stack[first..].reverse();
    }
    facts.calls.sort_by_key(|c| (c.line, c.column));
}

/// `"use client"` / `"use server"` at the top of the file (or a function body
/// for inline server actions, which the function facts do not need).
fn collect_directives(root: Node<'_>, src: &[u8], facts: &mut FileFacts) {
    let mut cursor = root.walk();
    for stmt in root.named_children(&mut cursor) {
        match stmt.kind() {
            "comment" | "hash_bang_line" => continue,
            "expression_statement" => match stmt.named_child(0).filter(|n| n.kind() == "string") {
                Some(s) => facts.directives.extend(string_value(s, src)),
                None => break,
            },
            _ => break,
        }
    }
}

fn collect_import(node: Node<'_>, src: &[u8], facts: &mut FileFacts) {
    let Some(module) = node
        .child_by_field_name("source")
        .and_then(|s| string_value(s, src))
    else {
        return;
    };
    let line = line_of(node);
    let whole_type = has_token(node, "type");
    let push = |facts: &mut FileFacts, name: Option<String>, local: String, type_only: bool| {
        facts.imports.push(Import {
            module: module.clone(),
            name,
            local,
            line,
            type_only: whole_type || type_only,
        });
    };
    let mut cursor = node.walk();
    let clause = node
        .named_children(&mut cursor)
        .find(|c| c.kind() == "import_clause");
    let Some(clause) = clause else {
        push(facts, None, String::new(), false); // import "server-only"
        return;
    };
    let mut cursor = clause.walk();
    for part in clause.named_children(&mut cursor) {
        match part.kind() {
            "identifier" => push(facts, Some("default".into()), text_of(part, src), false),
            "namespace_import" => {
                let local = part
                    .named_child(0)
                    .map(|n| text_of(n, src))
                    .unwrap_or_default();
                push(facts, None, local, false);
            }
            "named_imports" => {
                let mut c = part.walk();
                for spec in part
                    .named_children(&mut c)
                    .filter(|s| s.kind() == "import_specifier")
                {
                    let name = spec
                        .child_by_field_name("name")
                        .map(|n| text_of(n, src))
                        .unwrap_or_default();
                    let local = spec
                        .child_by_field_name("alias")
                        .map(|n| text_of(n, src))
                        .unwrap_or(name.clone());
                    push(facts, Some(name), local, has_token(spec, "type"));
                }
            }
            _ => {}
        }
    }
}

/// Does `node` have an anonymous child token `kind` (`type` in `import type`)?
fn has_token(node: Node<'_>, kind: &str) -> bool {
    let mut cursor = node.walk();
    let found = node
        .children(&mut cursor)
        .any(|c| !c.is_named() && c.kind() == kind);
    found
}

/// `await import("m")`: a dynamic import loads the module all the same.
fn collect_dynamic_import(call: Node<'_>, src: &[u8], facts: &mut FileFacts) {
    let module = call
        .child_by_field_name("arguments")
        .and_then(|a| a.named_child(0))
        .filter(|a| a.kind() == "string")
        .and_then(|s| string_value(s, src));
    if let Some(module) = module {
        facts.imports.push(Import {
            module,
            line: line_of(call),
            ..Import::default()
        });
    }
}

/// `const x = require("m")`, `const { a, b: c } = require("m")`; `parent`
/// is the call's.
fn collect_require(call: Node<'_>, parent: Option<Node<'_>>, src: &[u8], facts: &mut FileFacts) {
    let Some(module) = call
        .child_by_field_name("arguments")
        .and_then(|a| a.named_child(0))
        .filter(|a| a.kind() == "string")
        .and_then(|s| string_value(s, src))
    else {
        return;
    };
    let line = line_of(call);
    let target = parent
        .filter(|p| p.kind() == "variable_declarator")
        .and_then(|p| p.child_by_field_name("name"));
    match target {
        Some(t) if t.kind() == "identifier" => {
            facts.imports.push(Import {
                module,
                name: None,
                local: text_of(t, src),
                line,
                type_only: false,
            });
        }
        Some(t) if t.kind() == "object_pattern" => {
            let mut cursor = t.walk();
            for p in t.named_children(&mut cursor) {
                let (name, local) = match p.kind() {
                    "shorthand_property_identifier_pattern" => (text_of(p, src), text_of(p, src)),
                    "pair_pattern" => (
                        p.child_by_field_name("key")
                            .map(|n| text_of(n, src))
                            .unwrap_or_default(),
                        p.child_by_field_name("value")
                            .map(|n| text_of(n, src))
                            .unwrap_or_default(),
                    ),
                    _ => continue,
                };
                facts.imports.push(Import {
                    module: module.clone(),
                    name: Some(name),
                    local,
                    line,
                    type_only: false,
                });
            }
        }
        _ => facts.imports.push(Import {
            module,
            name: None,
            local: String::new(),
            line,
            type_only: false,
        }),
    }
}

fn function_facts(
    node: Node<'_>,
    up: Ancestors<'_>,
    src: &[u8],
    parent: Option<usize>,
    class: Option<&str>,
) -> Function {
    let declared = node.child_by_field_name("name").map(|n| text_of(n, src));
    // `const POST = async () => {}` names the arrow after its variable.
    let from_variable = || {
        up.get(0)
            .filter(|p| p.kind() == "variable_declarator")
            .and_then(|p| p.child_by_field_name("name"))
            .map(|n| text_of(n, src))
    };
    let name = declared
        .or_else(from_variable)
        .unwrap_or_else(|| format!("<anonymous:{}>", line_of(node)));
    let name = match (node.kind(), class) {
        ("method_definition", Some(c)) => format!("{c}.{name}"),
        _ => name,
    };
    let is_async = text_of(node, src).starts_with("async");
    let exported = is_exported(up);
    let mut params = Vec::new();
    if let Some(p) = node
        .child_by_field_name("parameters")
        .or_else(|| node.child_by_field_name("parameter"))
    {
        if p.kind() == "identifier" {
            params.push(text_of(p, src));
        } else {
            params.reserve_exact(p.named_child_count());
            let mut cursor = p.walk();
            params.extend(
                p.named_children(&mut cursor)
                    .filter(|c| c.kind() != "comment")
                    .map(|c| text_of(c, src)),
            );
        }
    }
    Function {
        name,
        line: line_of(node),
        end_line: node.end_position().row as u32 + 1,
        is_async,
        exported,
        params,
        decorators: Vec::new(),
        parent,
    }
}

/// Exported by `export function`, `export const f = …`, `export default`
/// (`up`: the function's ancestors).
fn is_exported(up: Ancestors<'_>) -> bool {
    for n in 0..UP {
        match up.get(n) {
            Some(p) if p.kind() == "export_statement" => return true,
            Some(p)
                if matches!(
                    p.kind(),
                    "variable_declarator" | "lexical_declaration" | "variable_declaration"
                ) => {}
            _ => return false,
        }
    }
    false
}

/// A function passed as an argument (`app.post("/x", async (c) => …)`) is
/// linked to its call, so routes know their handler.
fn link_argument(
    node: Node<'_>,
    up: Ancestors<'_>,
    index: usize,
    call_index: &HashMap<usize, usize>,
    facts: &mut FileFacts,
) {
    let Some(args) = up.get(0).filter(|p| p.kind() == "arguments") else {
        return;
    };
    let Some(call) = up.get(1).and_then(|c| call_index.get(&c.id())) else {
        return;
    };
    let mut cursor = args.walk();
    let position = args
        .named_children(&mut cursor)
        .filter(|c| c.kind() != "comment")
        .position(|c| c.id() == node.id());
    if let Some(arg) = position.and_then(|p| facts.calls[*call].args.get_mut(p)) {
        arg.function = Some(index);
    }
}

fn call_facts(node: Node<'_>, src: &[u8], columns: &Columns<'_>, function: Option<usize>) -> Call {
    let is_new = node.kind() == "new_expression";
    let callee_node = node.child_by_field_name(if is_new { "constructor" } else { "function" });
    let callee = callee_node.map(|f| callee_path(f, src)).unwrap_or_default();
    let mut args = Vec::new();
    if let Some(list) = node.child_by_field_name("arguments") {
        // Exact (comments aside): a pushed-to `Vec` starts at four.
        args.reserve_exact(list.named_child_count());
        let mut cursor = list.walk();
        for a in list
            .named_children(&mut cursor)
            .filter(|c| c.kind() != "comment")
        {
            args.push(Arg {
                keyword: None,
                text: text_of(a, src),
                pairs: object_pairs(a, src),
                line: line_of(a),
                column: columns.of(a),
                function: None,
            });
        }
    }
    Call {
        callee,
        is_new,
        args,
        line: line_of(node),
        column: node.start_position().column as u32 + 1,
        in_function: function,
    }
}

/// The property a call is the value of, when that property's object is an
/// argument of another call (`router({ send: proc.mutation(…) })`).
fn property_call(node: Node<'_>, up: Ancestors<'_>, src: &[u8]) -> Option<super::PropertyCall> {
    let pair = up.get(0).filter(|p| p.kind() == "pair")?;
    up.get(1).filter(|o| o.kind() == "object")?;
    up.get(2).filter(|a| a.kind() == "arguments")?;
    let holder = up.get(3).filter(|c| c.kind() == "call_expression")?;
    let key = pair.child_by_field_name("key")?;
    let key = match key.kind() {
        "string" => string_value(key, src)?,
        _ => text_of(key, src),
    };
    let at = |n: Node<'_>| (line_of(n), n.start_position().column as u32 + 1);
    Some(super::PropertyCall {
        key,
        holder: at(holder),
        value: at(node),
    })
}

/// `{ a: 1, b }` → `[("a", "1"), ("b", "b")]`; empty for anything else.
pub(crate) fn object_pairs(node: Node<'_>, src: &[u8]) -> Vec<(String, String)> {
    if node.kind() != "object" {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(node.named_child_count());
    let mut cursor = node.walk();
    for p in node.named_children(&mut cursor) {
        match p.kind() {
            "pair" => {
                let key = p.child_by_field_name("key").map(|k| {
                    if k.kind() == "string" {
                        string_value(k, src).unwrap_or_default()
                    } else {
                        text_of(k, src)
                    }
                });
                let value = p.child_by_field_name("value").map(|v| text_of(v, src));
                if let (Some(k), Some(v)) = (key, value) {
                    out.push((k, v));
                }
            }
            "shorthand_property_identifier" => out.push((text_of(p, src), text_of(p, src))),
            _ => {}
        }
    }
    out
}

fn value_callee(node: Node<'_>, src: &[u8]) -> Option<String> {
    let node = if node.kind() == "await_expression" {
        node.named_child(0)?
    } else {
        node
    };
    match node.kind() {
        "call_expression" => node
            .child_by_field_name("function")
            .map(|f| callee_path(f, src)),
        "new_expression" => node
            .child_by_field_name("constructor")
            .map(|f| callee_path(f, src)),
        _ => None,
    }
}

/// `client.chat.completions.create`, `this.openai.chat`; at most 64 segments.
fn callee_path(node: Node<'_>, src: &[u8]) -> String {
    let mut parts: Vec<Cow<'_, str>> = Vec::with_capacity(8);
    let mut cur = node;
    for _ in 0..64 {
        match cur.kind() {
            "identifier" | "this" | "super" | "property_identifier" | "import" => {
                parts.push(text_ref(cur, src));
                break;
            }
            "member_expression" => {
                parts.push(
                    cur.child_by_field_name("property")
                        .map(|n| text_ref(n, src))
                        .unwrap_or_default(),
                );
                match cur.child_by_field_name("object") {
                    Some(o) => cur = o,
                    None => break,
                }
            }
            "call_expression" | "new_expression" => {
                parts.push(Cow::Borrowed("()"));
                let field = if cur.kind() == "call_expression" {
                    "function"
                } else {
                    "constructor"
                };
                match cur.child_by_field_name(field) {
                    Some(f) => cur = f,
                    None => break,
                }
            }
            "subscript_expression" => match cur.child_by_field_name("object") {
                Some(o) => cur = o,
                None => break,
            },
            "parenthesized_expression"
            | "non_null_expression"
            | "await_expression"
            | "as_expression" => match cur.named_child(0) {
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
