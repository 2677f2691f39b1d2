//! Facts of a TypeScript / JavaScript / TSX file. Iterative traversal,
//! and no `Node::parent()`: tree-sitter answers it by descending from the
//! root, so on code nested 10,000 deep it made extraction quadratic (minutes).
//! The traversal carries the few ancestors the facts need instead.

use crate::lang::FieldExt;
use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;
use tree_sitter::Node;

use super::python::join_path;
use super::{
    line_of, string_value, text_of, text_ref, Arg, Assignment, Call, Class, Columns, DictEntry,
    FileFacts, Function, Import, Kinds,
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
            "class_body",
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
    // method node id → its decorators (TypeScript puts them before the
    // method in the class body, not inside it).
    let mut method_decorators: HashMap<usize, Vec<Call>> = HashMap::new();
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
            "export_statement" if node.field("source").is_some() => {
                collect_import(node, src, facts);
                continue;
            }
            "class_declaration" | "class" | "abstract_class_declaration" => {
                child_class = node.field("name").map(|n| Rc::from(text_of(n, src)));
                if child_class.is_some() {
                    facts
                        .classes
                        .push(class_facts(node, up.get(0), src, &columns, function));
                }
            }
            "class_body" => {
                // Fields belong to the class just recorded when it has a name.
                let named = up.get(0).is_some_and(|c| c.field("name").is_some());
                class_members(
                    node,
                    src,
                    &columns,
                    (function, named),
                    &mut method_decorators,
                    facts,
                );
            }
            k if FUNCTION_KINDS.contains(&k) => {
                let index = facts.functions.len();
                let mut f = function_facts(node, up, src, function, class.as_deref());
                if kind == "method_definition" {
                    f.decorators = method_decorators.remove(&node.id()).unwrap_or_default();
                    f.decorators
                        .extend(decorators_of(node, src, &columns, function));
                    if class.is_some() && f.name.ends_with(".constructor") {
                        collect_parameter_properties(node, src, index, facts);
                    }
                }
                facts.functions.push(f);
                link_argument(node, up, index, &call_index, facts);
                child_function = Some(index);
                child_class = None;
            }
            "call_expression" | "new_expression" => {
                call_index.insert(node.id(), facts.calls.len());
                let call = call_facts(node, src, &columns, function);
                if function.is_none() && facts.dict_entries.len() < MAX_ENTRIES {
                    call_entries(node, &call.callee, src, facts);
                }
                if let Some(p) = property_call(node, up, src) {
                    facts.property_calls.push(p);
                }
                if call.callee == "require" {
                    collect_require(node, up.get(0), up.get(1), src, facts);
                } else if call.callee == "import" {
                    collect_dynamic_import(node, src, facts);
                }
                facts.calls.push(call);
            }
            "if_statement" if super::is_guard(node, src) => {
                super::note_guard(node, src, function, facts);
            }
            k if super::loops::is_loop_kind(k) => {
                facts
                    .loops
                    .extend(super::loops::loop_of(node, src, function, &mut loop_budget));
            }
            "variable_declarator" | "assignment_expression" => {
                let (left, right) = if kind == "variable_declarator" {
                    (node.field("name"), node.field("value"))
                } else {
                    (node.field("left"), node.field("right"))
                };
                if let (Some(left), Some(right)) = (left, right) {
                    destructured(left, right, src, function, facts);
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
    // Deno and CDN specifiers (`npm:openai@4`, `https://esm.sh/openai`)
    // name the package a Node import would.
    for i in &mut facts.imports {
        if let Some(package) = crate::paths::package_specifier(&i.module) {
            i.module = package;
        }
    }
}

/// Most object entries kept per file ([`call_entries`]).
const MAX_ENTRIES: usize = 1024;

/// A class: name, `extends` and `implements` clauses as written, its
/// decorators (on the class, or before `export` when it is exported) and
/// its fields (as assignments to the bare field name). `up`: its parent.
fn class_facts(
    node: Node<'_>,
    up: Option<Node<'_>>,
    src: &[u8],
    columns: &Columns<'_>,
    function: Option<usize>,
) -> Class {
    let mut bases = Vec::new();
    let mut cursor = node.walk();
    for heritage in node
        .named_children(&mut cursor)
        .filter(|c| c.kind() == "class_heritage")
    {
        let mut c = heritage.walk();
        for clause in heritage.named_children(&mut c) {
            match clause.kind() {
                "extends_clause" | "implements_clause" => {
                    let mut cc = clause.walk();
                    bases.extend(
                        clause
                            .named_children(&mut cc)
                            .filter(|t| !matches!(t.kind(), "type_arguments" | "comment"))
                            .map(|t| text_of(t, src)),
                    );
                }
                "comment" => {}
                // JavaScript: `class_heritage` is `extends <expression>`.
                _ => bases.push(text_of(clause, src)),
            }
        }
    }
    let mut decorators = decorators_of(node, src, columns, function);
    if let Some(export) = up.filter(|p| p.kind() == "export_statement") {
        let mut before = decorators_of(export, src, columns, function);
        before.append(&mut decorators);
        decorators = before;
    }
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

/// The `decorator` children of a node, as calls (`@Post("x")` has callee
/// `Post`; a bare `@Public` has no arguments), each at its own line.
fn decorators_of(
    node: Node<'_>,
    src: &[u8],
    columns: &Columns<'_>,
    function: Option<usize>,
) -> Vec<Call> {
    let mut cursor = node.walk();
    let found: Vec<Node<'_>> = node
        .children_by_field_name("decorator", &mut cursor)
        .collect();
    found
        .into_iter()
        .filter_map(|d| decorator_call(d, src, columns, function))
        .collect()
}

fn decorator_call(
    d: Node<'_>,
    src: &[u8],
    columns: &Columns<'_>,
    function: Option<usize>,
) -> Option<Call> {
    let expr = d.named_child(0)?;
    let mut call = if expr.kind() == "call_expression" {
        call_facts(expr, src, columns, function)
    } else {
        Call {
            callee: callee_path(expr, src),
            column: columns.of(expr),
            in_function: function,
            ..Call::default()
        }
    };
    call.line = line_of(d);
    Some(call)
}

/// A class body: the decorators written before each method (TypeScript),
/// by the method's node, and the fields, as class attributes and as
/// assignments to `this.<field>` (`private openai = new OpenAI()` is the
/// constructor's `this.openai = new OpenAI()`).
fn class_members(
    body: Node<'_>,
    src: &[u8],
    columns: &Columns<'_>,
    (function, named): (Option<usize>, bool),
    method_decorators: &mut HashMap<usize, Vec<Call>>,
    facts: &mut FileFacts,
) {
    let mut pending = Vec::new();
    let mut cursor = body.walk();
    for member in body.named_children(&mut cursor) {
        match member.kind() {
            "decorator" => pending.extend(decorator_call(member, src, columns, function)),
            "method_definition" => {
                method_decorators.insert(member.id(), std::mem::take(&mut pending));
            }
            "public_field_definition" | "field_definition" => {
                pending.clear();
                let name = member.field("name").or_else(|| member.field("property"));
                let value = member.field("value");
                let (Some(name), Some(value)) = (name, value) else {
                    continue;
                };
                let is_static = has_token(member, "static");
                let field = Assignment {
                    target: text_of(name, src),
                    value_callee: value_callee(value, src),
                    text: text_of(value, src),
                    line: line_of(member),
                    in_function: function,
                };
                if !is_static {
                    facts.assignments.push(Assignment {
                        target: format!("this.{}", field.target),
                        ..field.clone()
                    });
                }
                if let Some(class) = facts.classes.last_mut().filter(|_| named) {
                    class.attributes.push(field);
                }
            }
            "comment" => {}
            _ => pending.clear(),
        }
    }
}

/// Constructor parameter properties (`constructor(private readonly chat:
/// ChatService)`) are fields the constructor assigns: recorded as
/// `this.chat = chat` in the constructor, so the parameter's type types
/// the field (dependency injection).
fn collect_parameter_properties(node: Node<'_>, src: &[u8], index: usize, facts: &mut FileFacts) {
    let Some(params) = node.field("parameters") else {
        return;
    };
    let mut cursor = params.walk();
    for p in params.named_children(&mut cursor) {
        if !matches!(p.kind(), "required_parameter" | "optional_parameter") {
            continue;
        }
        let mut c = p.walk();
        let modified = p
            .named_children(&mut c)
            .any(|m| m.kind() == "accessibility_modifier")
            || has_token(p, "readonly");
        let Some(pattern) = p.field("pattern").filter(|n| n.kind() == "identifier") else {
            continue;
        };
        if modified {
            let name = text_of(pattern, src);
            facts.assignments.push(Assignment {
                target: format!("this.{name}"),
                value_callee: None,
                text: name,
                line: line_of(p),
                in_function: Some(index),
            });
        }
    }
}

/// The object and array literals passed to a call made outside any
/// function (module configuration, decorators: `@Module({ providers: [{
/// provide: X, useClass: Y }] })`), as entries: the path is the callee,
/// then `.key` per nested object and `[i]` per array element
/// (`Module.providers[1]`, key `useClass`). Three levels at most.
fn call_entries(node: Node<'_>, callee: &str, src: &[u8], facts: &mut FileFacts) {
    let Some(list) = node.field("arguments") else {
        return;
    };
    let mut cursor = list.walk();
    for a in list.named_children(&mut cursor) {
        literal_entries(a, callee, src, 0, facts);
    }
}

fn literal_entries(node: Node<'_>, path: &str, src: &[u8], depth: usize, facts: &mut FileFacts) {
    if depth > 3 || facts.dict_entries.len() >= MAX_ENTRIES {
        return;
    }
    let mut cursor = node.walk();
    match node.kind() {
        "object" => {
            for p in node.named_children(&mut cursor) {
                let (key, value) = match p.kind() {
                    "pair" => {
                        let (Some(k), Some(v)) = (p.field("key"), p.field("value")) else {
                            continue;
                        };
                        let key = match k.kind() {
                            "string" => string_value(k, src).unwrap_or_default(),
                            _ => text_of(k, src),
                        };
                        (key, Some(v))
                    }
                    "shorthand_property_identifier" => (text_of(p, src), None),
                    _ => continue,
                };
                facts.dict_entries.push(DictEntry {
                    path: path.to_string(),
                    key: key.clone(),
                    value: value.map_or_else(|| key.clone(), |v| text_of(v, src)),
                    line: line_of(p),
                });
                if let Some(v) = value.filter(|v| matches!(v.kind(), "object" | "array")) {
                    literal_entries(v, &format!("{path}.{key}"), src, depth + 1, facts);
                }
            }
        }
        "array" => {
            for (i, e) in node.named_children(&mut cursor).enumerate() {
                if matches!(e.kind(), "object" | "array") {
                    literal_entries(e, &format!("{path}[{i}]"), src, depth + 1, facts);
                }
            }
        }
        _ => {}
    }
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
    let Some(module) = node.field("source").and_then(|s| string_value(s, src)) else {
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
                        .field("name")
                        .map(|n| text_of(n, src))
                        .unwrap_or_default();
                    let local = spec
                        .field("alias")
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
        .field("arguments")
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

/// `const x = require("m")`, `const { a, b: c } = require("m")`, `const x =
/// require("m").default` (the name `default`, as an ES default import);
/// `parent` and `grandparent` are the call's.
fn collect_require(
    call: Node<'_>,
    parent: Option<Node<'_>>,
    grandparent: Option<Node<'_>>,
    src: &[u8],
    facts: &mut FileFacts,
) {
    let Some(module) = call
        .field("arguments")
        .and_then(|a| a.named_child(0))
        .filter(|a| a.kind() == "string")
        .and_then(|s| string_value(s, src))
    else {
        return;
    };
    let line = line_of(call);
    // `require("m").default`: the member, bound by the declarator above it.
    let member = parent
        .filter(|p| p.kind() == "member_expression")
        .and_then(|p| p.field("property"))
        .map(|p| text_of(p, src));
    let declarator = if member.is_some() {
        grandparent
    } else {
        parent
    };
    let target = declarator
        .filter(|p| p.kind() == "variable_declarator")
        .and_then(|p| p.field("name"));
    match target {
        Some(t) if t.kind() == "identifier" => {
            facts.imports.push(Import {
                module,
                name: member,
                local: text_of(t, src),
                line,
                type_only: false,
            });
        }
        Some(t) if t.kind() == "object_pattern" => {
            for (name, local) in pattern_bindings(t, src) {
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
    let declared = node.field("name").map(|n| text_of(n, src));
    // `const POST = async () => {}` names the arrow after its variable.
    let from_variable = || {
        up.get(0)
            .filter(|p| p.kind() == "variable_declarator")
            .and_then(|p| p.field("name"))
            .map(|n| text_of(n, src))
    };
    // A method or property of the default-exported object (`export
    // default { async fetch(req, env) {…} }`, `{ fetch: async (req) => … }`)
    // is `default.fetch`, exported: a bare `fetch()` is not it.
    let default_member = match node.kind() {
        "method_definition" => in_default_export(up, 0),
        _ => up.get(0).is_some_and(|p| p.kind() == "pair") && in_default_export(up, 1),
    };
    let from_key = || {
        up.get(0)
            .filter(|p| p.kind() == "pair" && default_member)
            .and_then(|p| p.field("key"))
            .map(|n| text_of(n, src))
    };
    let name = declared
        .or_else(from_variable)
        .or_else(from_key)
        .unwrap_or_else(|| format!("<anonymous:{}>", line_of(node)));
    let name = match (node.kind(), class) {
        ("method_definition", Some(c)) => format!("{c}.{name}"),
        _ if default_member => format!("default.{name}"),
        _ => name,
    };
    let is_async = text_of(node, src).starts_with("async");
    let exported = is_exported(up) || default_member;
    let mut params = Vec::new();
    if let Some(p) = node.field("parameters").or_else(|| node.field("parameter")) {
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
        property: property_of(node, up, src),
    }
}

/// `holder.key` of a function that is a property value of an object
/// literal held by a variable (`const actions = { chat: … }`, also through
/// `satisfies`/`as`) or passed to a call (`defineEventHandler({ handler
/// })`); method shorthand (`{ async chat(e) {} }`) too.
fn property_of(node: Node<'_>, up: Ancestors<'_>, src: &[u8]) -> Option<String> {
    let (key, object_at) = if node.kind() == "method_definition" {
        (node.field("name")?, 0)
    } else {
        let pair = up.get(0).filter(|p| p.kind() == "pair")?;
        (pair.field("key")?, 1)
    };
    up.get(object_at).filter(|o| o.kind() == "object")?;
    let key = text_of(key, src);
    let key = key.trim_matches(['"', '\'', '`']);
    let mut at = object_at + 1;
    while up.get(at).is_some_and(|n| {
        matches!(
            n.kind(),
            "satisfies_expression" | "as_expression" | "parenthesized_expression"
        )
    }) {
        at += 1;
    }
    let holder = up.get(at)?;
    let name = match holder.kind() {
        "variable_declarator" => text_of(holder.field("name")?, src),
        "arguments" => {
            let call = up.get(at + 1).filter(|c| c.kind() == "call_expression")?;
            callee_path(call.field("function")?, src)
        }
        _ => return None,
    };
    Some(format!("{name}.{key}"))
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

/// Is `up.get(at)` an object literal that is the default export
/// (`export default {…}`, also `{…} satisfies ExportedHandler<Env>`)?
fn in_default_export(up: Ancestors<'_>, at: usize) -> bool {
    if up.get(at).is_none_or(|o| o.kind() != "object") {
        return false;
    }
    let mut n = at + 1;
    while up
        .get(n)
        .is_some_and(|p| matches!(p.kind(), "satisfies_expression" | "as_expression"))
    {
        n += 1;
    }
    up.get(n).is_some_and(|p| p.kind() == "export_statement")
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
    let callee_node = node.field(if is_new { "constructor" } else { "function" });
    let callee = callee_node.map(|f| callee_path(f, src)).unwrap_or_default();
    let mut args = Vec::new();
    if let Some(list) = node.field("arguments") {
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
                end_line: a.end_position().row as u32 + 1,
                end_column: a.end_position().column as u32 + 1,
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
    let key_of = |pair: Node<'_>| {
        let key = pair.field("key")?;
        match key.kind() {
            "string" => string_value(key, src),
            _ => Some(text_of(key, src)),
        }
    };
    let pair = up.get(0).filter(|p| p.kind() == "pair")?;
    up.get(1).filter(|o| o.kind() == "object")?;
    let mut keys = vec![key_of(pair)?];
    let mut above = up.get(2)?;
    // Plain objects nested in the one passed (`router({ chat: { send:
    // p.mutation(…) } })`): the key is their path, `chat.send`.
    while above.kind() == "pair" && keys.len() < NESTED_KEYS {
        keys.push(key_of(above)?);
        let object = above.parent().filter(|o| o.kind() == "object")?;
        above = object.parent()?;
    }
    let args = Some(above).filter(|a| a.kind() == "arguments")?;
    let holder = match keys.len() {
        1 => up.get(3),
        _ => args.parent(),
    }
    .filter(|c| c.kind() == "call_expression")?;
    keys.reverse();
    let at = |n: Node<'_>| (line_of(n), n.start_position().column as u32 + 1);
    Some(super::PropertyCall {
        key: keys.join("."),
        holder: at(holder),
        value: at(node),
    })
}

/// How deep plain objects nest in a property call's key.
const NESTED_KEYS: usize = 4;

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
                let key = p.field("key").map(|k| {
                    if k.kind() == "string" {
                        string_value(k, src).unwrap_or_default()
                    } else {
                        text_of(k, src)
                    }
                });
                let value = p.field("value").map(|v| text_of(v, src));
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

/// `const { connector: llm, meta } = await resolveConnector(…)`: each
/// name bound from a call's result, as an assignment from that call (what
/// a factory returns holds what it makes). Not `require`: imports.
fn destructured(
    left: Node<'_>,
    right: Node<'_>,
    src: &[u8],
    function: Option<usize>,
    facts: &mut FileFacts,
) {
    if left.kind() != "object_pattern" {
        return;
    }
    let Some(callee) = value_callee(right, src).filter(|c| c != "require") else {
        return;
    };
    for (_, local) in pattern_bindings(left, src) {
        // `{ a: { b } }` and `{ a = 1 }` bind no plain name to the result.
        if local.is_empty()
            || !local
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            continue;
        }
        facts.assignments.push(Assignment {
            target: local,
            value_callee: Some(callee.clone()),
            text: text_of(right, src),
            // The call's line: factories are found by it.
            line: line_of(right),
            in_function: function,
        });
    }
}

/// The (key, local name) pairs of an object pattern: `{ a, b: c }` →
/// (a, a), (b, c).
fn pattern_bindings(pattern: Node<'_>, src: &[u8]) -> Vec<(String, String)> {
    let mut cursor = pattern.walk();
    pattern
        .named_children(&mut cursor)
        .filter_map(|p| match p.kind() {
            "shorthand_property_identifier_pattern" => Some((text_of(p, src), text_of(p, src))),
            "pair_pattern" => Some((
                p.field("key").map(|n| text_of(n, src)).unwrap_or_default(),
                p.field("value")
                    .map(|n| text_of(n, src))
                    .unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

fn value_callee(node: Node<'_>, src: &[u8]) -> Option<String> {
    let node = if node.kind() == "await_expression" {
        node.named_child(0)?
    } else {
        node
    };
    match node.kind() {
        "call_expression" => node.field("function").map(|f| callee_path(f, src)),
        "new_expression" => node.field("constructor").map(|f| callee_path(f, src)),
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
                    cur.field("property")
                        .map(|n| text_ref(n, src))
                        .unwrap_or_default(),
                );
                match cur.field("object") {
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
                match cur.field(field) {
                    Some(f) => cur = f,
                    None => break,
                }
            }
            "subscript_expression" => match cur.field("object") {
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
