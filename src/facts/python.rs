//! Facts of a Python file, from Ruff's parser (`ruff_python_parser`): about
//! ten times tree-sitter's speed on real code, and the parse is most of a
//! cold audit's time.
//!
//! The facts are what aiguard's tree-sitter extractor gave until 25ed584
//! (texts as written, parentheses included; lines; byte and character
//! columns), so the project pass and the checks read them as before. On the
//! 7,893 Python files of the ecosystem apps the two agreed but for 32 files:
//! where tree-sitter misparsed (`with (a as b, …)`, `type(x).y = …`,
//! `[*map(…)]`) and where a guard's body is long (tree-sitter's scan
//! counted nodes, this one counts tokens). Where a comment below says
//! "tree-sitter", it names the shape those facts had.
//!
//! Every traversal is iterative: deeply nested code must not overflow the
//! stack. Ruff's parser grows its own stack; dropping a syntax tree is
//! recursive, so a deep tree is dropped on a stack sized for it.

use std::borrow::Cow;
use std::rc::Rc;

use ruff_python_ast::token::{TokenKind, Tokens};
use ruff_python_ast::visitor::source_order::{SourceOrderVisitor, TraversalSignal};
use ruff_python_ast::{self as ast, AnyNodeRef, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::{
    loops, Arg, Assignment, Budget, Call, Class, Columns, DictEntry, FileFacts, Function, Guard,
    Import, Loop, LoopKind, TopLevelIf, GUARD_CONDITION, MAX_TEXT,
};

/// Parse `src` with Ruff's parser and extract its facts into `facts`
/// (`has_errors` included).
pub(super) fn extract(src: &[u8], facts: &mut FileFacts, budget: &mut Budget) {
    // Python source is UTF-8; an invalid byte (a syntax error for Python
    // too) becomes U+FFFD, which moves the columns of its line only.
    let text: Cow<'_, str> = crate::source::lossy(src);
    let parsed = ruff_python_parser::parse_unchecked_source(&text, ast::PySourceType::Python);
    facts.has_errors = !parsed.errors().is_empty();
    let depth = {
        let mut walk = Walk::new(&text, parsed.tokens(), facts, budget);
        walk.module(&parsed.syntax().body);
        walk.max_depth
    };
    drop_deep(parsed, depth);
    facts.calls.sort_by_key(|c| (c.line, c.column));
    if is_script(facts) {
        let end = text.bytes().filter(|b| *b == b'\n').count() as u32 + 1;
        script_scope(facts, end);
    }
}

/// Tree depth past which the tree is dropped on a stack of its own
/// (dropping recurses once per level).
const DEEP: usize = 100;
/// Stack per level of a tree being dropped (generous: a debug build's
/// frames are large).
const STACK_PER_LEVEL: usize = 1024;
/// Deeper than this (a hostile file: a megabyte of `-` signs), the tree is
/// leaked rather than dropped: a gigabyte of stack is not worth it.
const DEEPEST_DROPPED: usize = 200_000;

fn drop_deep<T>(tree: T, depth: usize) {
    if depth <= DEEP {
        drop(tree);
    } else if depth <= DEEPEST_DROPPED {
        stacker::grow(depth * STACK_PER_LEVEL + (1 << 20), move || drop(tree));
    } else {
        std::mem::forget(tree);
    }
}

/// The direct children of a node, in source order (Ruff's source-order
/// visitor, stopped one level down).
#[derive(Default)]
struct Children<'a>(Vec<AnyNodeRef<'a>>);

impl<'a> SourceOrderVisitor<'a> for Children<'a> {
    fn enter_node(&mut self, node: AnyNodeRef<'a>) -> TraversalSignal {
        // Leaves that hold no fact and no child.
        if !matches!(
            node,
            AnyNodeRef::Identifier(_)
                | AnyNodeRef::ExprName(_)
                | AnyNodeRef::ExprStringLiteral(_)
                | AnyNodeRef::ExprNumberLiteral(_)
                | AnyNodeRef::ExprBooleanLiteral(_)
                | AnyNodeRef::ExprNoneLiteral(_)
                | AnyNodeRef::ExprEllipsisLiteral(_)
                | AnyNodeRef::ExprBytesLiteral(_)
                | AnyNodeRef::StringLiteral(_)
                | AnyNodeRef::BytesLiteral(_)
                | AnyNodeRef::InterpolatedStringLiteralElement(_)
        ) {
            self.0.push(node);
        }
        TraversalSignal::Skip
    }
}

/// Push the children of `node` onto `out`, in source order.
fn children_of<'a>(node: AnyNodeRef<'a>, out: &mut Children<'a>) {
    node.visit_source_order(out);
}

/// Lines, columns and texts of one file.
struct Text<'s> {
    src: &'s str,
    /// Byte offset of each line's start.
    lines: Vec<u32>,
    tokens: &'s Tokens,
    /// Character columns, with a table for long lines.
    columns: Columns<'s>,
}

impl<'s> Text<'s> {
    fn new(src: &'s str, tokens: &'s Tokens) -> Text<'s> {
        let mut lines = Vec::with_capacity(src.len() / 32 + 1);
        lines.push(0);
        lines.extend(memchr::memchr_iter(b'\n', src.as_bytes()).map(|i| i as u32 + 1));
        Text {
            src,
            lines,
            tokens,
            columns: Columns::new(src.as_bytes()),
        }
    }

    /// 0-based line of a byte offset.
    fn row(&self, at: TextSize) -> usize {
        self.lines.partition_point(|&s| s <= at.to_u32()) - 1
    }

    /// 1-based line.
    fn line(&self, at: TextSize) -> u32 {
        self.row(at) as u32 + 1
    }

    /// 1-based byte column (as tree-sitter counts, plus one).
    fn byte_column(&self, at: TextSize) -> u32 {
        at.to_u32() - self.lines[self.row(at)] + 1
    }

    /// 1-based column in code points.
    fn char_column(&self, at: TextSize) -> u32 {
        let line_start = self.lines[self.row(at)] as usize;
        self.columns.at(at.to_usize(), line_start)
    }

    /// The text of a range, cut at `MAX_TEXT` bytes.
    fn text(&self, range: TextRange) -> String {
        self.text_ref(range).into_owned()
    }

    fn text_ref(&self, range: TextRange) -> Cow<'s, str> {
        self.cut(range, MAX_TEXT)
    }

    fn cut(&self, range: TextRange, max: usize) -> Cow<'s, str> {
        let bytes = self.src.as_bytes();
        let start = range.start().to_usize().min(bytes.len());
        let end = range.end().to_usize().clamp(start, bytes.len());
        let all = &bytes[start..end];
        String::from_utf8_lossy(&all[..all.len().min(max)])
    }

    /// Where a block ends as tree-sitter's grammar ends it: after its last
    /// statement, and after the comments that follow at the block's
    /// indentation or deeper (blank lines between them included).
    fn block_end(&self, body: &[Stmt]) -> TextSize {
        let (Some(first), Some(last)) = (body.first(), body.last()) else {
            return TextSize::default();
        };
        let src = self.src.as_bytes();
        let line_end =
            |from: usize| memchr::memchr(b'\n', &src[from..]).map_or(src.len(), |i| from + i);
        let mut end = last.end().to_usize().min(src.len());
        // A comment after the last statement, on its line.
        let eol = line_end(end);
        if src[end..eol].trim_ascii_start().starts_with(b"#") {
            end = eol;
        }
        let line_start = self.lines[self.row(first.start())] as usize;
        let prefix = &src[line_start..first.start().to_usize().min(src.len())];
        // `if x: return`: a block on its header's line ends there.
        if !prefix.iter().all(|b| matches!(b, b' ' | b'\t' | b'\x0c')) {
            return TextSize::try_from(end).unwrap_or(last.end());
        }
        let indent = prefix.len();
        let mut next = eol + 1;
        while next < src.len() {
            let eol = line_end(next);
            let line = &src[next..eol];
            let text = line.trim_ascii_start();
            if text.is_empty() {
                next = eol + 1;
                continue;
            }
            if !text.starts_with(b"#") || line.len() - text.len() < indent {
                break;
            }
            end = eol;
            next = eol + 1;
        }
        TextSize::try_from(end).unwrap_or(last.end())
    }

    /// `range` with the parentheses around it that belong to it
    /// (`(a + b)`), none past `limit` (a call's own closing parenthesis).
    fn with_parens(&self, range: TextRange, limit: TextSize) -> TextRange {
        let tokens: &[ruff_python_ast::token::Token] = self.tokens;
        let after = tokens.partition_point(|t| t.start() < range.end());
        let before = tokens.partition_point(|t| t.start() < range.start());
        let mut right = tokens[after..]
            .iter()
            .filter(|t| !t.kind().is_trivia())
            .take_while(|t| t.kind() == TokenKind::Rpar && t.end() <= limit);
        let mut left = tokens[..before]
            .iter()
            .rev()
            .filter(|t| !t.kind().is_trivia())
            .take_while(|t| t.kind() == TokenKind::Lpar);
        let mut out = range;
        while let (Some(r), Some(l)) = (right.next(), left.next()) {
            out = TextRange::new(l.start(), r.end());
        }
        out
    }
}

struct Frame<'a> {
    node: AnyNodeRef<'a>,
    function: Option<usize>,
    /// Shared, not copied, into every frame below a class.
    class: Option<Rc<str>>,
    depth: usize,
    /// The end of the statement the node is in: parentheses past it are
    /// not the node's.
    limit: TextSize,
}

struct Walk<'s, 'f> {
    text: Text<'s>,
    facts: &'f mut FileFacts,
    budget: &'f mut Budget,
    loop_budget: usize,
    max_depth: usize,
    children: Children<'s>,
}

impl<'s, 'f> Walk<'s, 'f> {
    fn new(
        src: &'s str,
        tokens: &'s Tokens,
        facts: &'f mut FileFacts,
        budget: &'f mut Budget,
    ) -> Walk<'s, 'f> {
        Walk {
            text: Text::new(src, tokens),
            facts,
            budget,
            loop_budget: loops::FILE_BUDGET,
            max_depth: 0,
            children: Children::default(),
        }
    }

    fn module(&mut self, body: &'s [Stmt]) {
        let mut stack: Vec<Frame<'s>> = body
            .iter()
            .rev()
            .map(|s| Frame {
                node: AnyNodeRef::from(s),
                function: None,
                class: None,
                depth: 1,
                limit: s.end(),
            })
            .collect();
        while let Some(frame) = stack.pop() {
            if self.budget.spent() {
                // Not walked to the end: its depth is unknown.
                self.max_depth = usize::MAX;
                return;
            }
            self.max_depth = self.max_depth.max(frame.depth);
            let (function, class) = self.visit(&frame);
            let first = stack.len();
            children_of(frame.node, &mut self.children);
            for child in self.children.0.drain(..) {
                // Decorators are recorded on their definition, not as calls.
                if matches!(child, AnyNodeRef::Decorator(_)) {
                    continue;
                }
                let limit = match child.as_stmt_ref() {
                    Some(s) => s.end(),
                    None => match frame.node {
                        AnyNodeRef::Arguments(a) => inside(a.range()),
                        _ => frame.limit,
                    },
                };
                stack.push(Frame {
                    node: child,
                    function,
                    class: class.clone(),
                    depth: frame.depth + 1,
                    limit,
                });
            }
            stack[first..].reverse();
        }
    }

    /// Record what `frame` says; the function and class its children are in.
    fn visit(&mut self, frame: &Frame<'s>) -> (Option<usize>, Option<Rc<str>>) {
        let function = frame.function;
        let class = frame.class.clone();
        match frame.node {
            AnyNodeRef::StmtImport(i) => self.import(i),
            AnyNodeRef::StmtImportFrom(i) => self.import_from(i),
            AnyNodeRef::StmtClassDef(c) => {
                let class = self.class(c, function);
                self.facts.classes.push(class);
                return (function, Some(Rc::from(self.text.text(c.name.range))));
            }
            AnyNodeRef::StmtFunctionDef(f) => {
                let index = self.facts.functions.len();
                let facts = self.function(f, function, class.as_deref());
                self.facts.functions.push(facts);
                return (Some(index), None);
            }
            AnyNodeRef::ExprCall(c) => {
                let call = self.call(c, function);
                self.facts.calls.push(call);
            }
            AnyNodeRef::StmtIf(s) => self.if_statement(s, function),
            AnyNodeRef::StmtWhile(_)
            | AnyNodeRef::StmtFor(_)
            | AnyNodeRef::ExprListComp(_)
            | AnyNodeRef::ExprSetComp(_)
            | AnyNodeRef::ExprDictComp(_)
            | AnyNodeRef::ExprGenerator(_) => {
                if let Some(l) = self.loop_of(frame.node, function, frame.limit) {
                    self.facts.loops.push(l);
                }
            }
            AnyNodeRef::StmtAssign(a) => self.assign(a, function, class.as_deref()),
            AnyNodeRef::StmtAnnAssign(a) => {
                if let Some(value) = &a.value {
                    self.assignment(
                        &a.target,
                        value,
                        value.range(),
                        a.end(),
                        function,
                        class.as_deref(),
                    );
                }
            }
            AnyNodeRef::WithItem(w) => self.with_item(w, function, frame.limit),
            _ => {}
        }
        (function, class)
    }

    fn import(&mut self, node: &ast::StmtImport) {
        let line = self.text.line(node.start());
        for alias in &node.names {
            let module = self.text.text(alias.name.range);
            // `import a.b` binds `a`; keep the module path for resolution.
            let local = match &alias.asname {
                Some(a) => self.text.text(a.range),
                None => module.split('.').next().unwrap_or("").to_string(),
            };
            self.facts.imports.push(Import {
                module,
                name: None,
                local,
                line,
                type_only: false,
            });
        }
    }

    fn import_from(&mut self, node: &ast::StmtImportFrom) {
        // `from __future__ import …` is no import of a module.
        if node.level == 0 && node.module.as_ref().is_some_and(|m| m.id == "__future__") {
            return;
        }
        let mut module = ".".repeat(node.level as usize);
        if let Some(m) = &node.module {
            module.push_str(&self.text.text_ref(m.range));
        }
        let line = self.text.line(node.start());
        // `from m import *`: every public name of `m`, found by name on use.
        if node.names.iter().any(|a| a.name.id == "*") {
            self.facts.imports.push(Import {
                module,
                name: Some("*".into()),
                local: "*".into(),
                line,
                type_only: false,
            });
            return;
        }
        for alias in &node.names {
            let name = self.text.text(alias.name.range);
            let local = match &alias.asname {
                Some(a) => self.text.text(a.range),
                None => name.clone(),
            };
            self.facts.imports.push(Import {
                module: module.clone(),
                name: Some(name),
                local,
                line,
                type_only: false,
            });
        }
    }

    /// `parent`: the enclosing function; `class`: the enclosing class.
    fn function(
        &mut self,
        node: &'s ast::StmtFunctionDef,
        parent: Option<usize>,
        class: Option<&str>,
    ) -> Function {
        let name = self.text.text(node.name.range);
        let p = &node.parameters;
        let mut params = Vec::new();
        let param = |w: &ast::ParameterWithDefault| self.text.text(w.range);
        params.extend(p.posonlyargs.iter().map(param));
        if !p.posonlyargs.is_empty() {
            params.push("/".to_string());
        }
        params.extend(p.args.iter().map(param));
        match &p.vararg {
            Some(v) => params.push(self.text.text(self.splat(v.range))),
            None if !p.kwonlyargs.is_empty() => params.push("*".to_string()),
            None => {}
        }
        params.extend(p.kwonlyargs.iter().map(param));
        if let Some(k) = &p.kwarg {
            params.push(self.text.text(self.splat(k.range)));
        }
        let decorators = self.decorators(&node.decorator_list, parent);
        Function {
            name: match class {
                Some(c) if parent.is_none() => format!("{c}.{name}"),
                _ => name,
            },
            line: self.text.line(node.start()),
            end_line: self.text.line(self.text.block_end(&node.body)),
            is_async: node.is_async,
            exported: parent.is_none() && class.is_none(),
            params,
            decorators,
            parent,
            property: None,
        }
    }

    /// A `*args` / `**kw` parameter with its stars.
    fn splat(&self, range: TextRange) -> TextRange {
        let tokens: &[ruff_python_ast::token::Token] = self.text.tokens;
        let before = tokens.partition_point(|t| t.start() < range.start());
        match before.checked_sub(1).map(|i| tokens[i]) {
            Some(t) if matches!(t.kind(), TokenKind::Star | TokenKind::DoubleStar) => {
                TextRange::new(t.start(), range.end())
            }
            _ => range,
        }
    }

    fn class(&mut self, node: &'s ast::StmtClassDef, function: Option<usize>) -> Class {
        let mut bases = Vec::new();
        if let Some(args) = &node.arguments {
            let limit = inside(args.range());
            for a in args.iter_source_order() {
                match a {
                    ast::ArgOrKeyword::Arg(e) => {
                        bases.push(self.text.text(self.text.with_parens(e.range(), limit)))
                    }
                    ast::ArgOrKeyword::Keyword(k) if k.arg.is_none() => {
                        bases.push(self.text.text(k.range))
                    }
                    ast::ArgOrKeyword::Keyword(_) => {}
                }
            }
        }
        Class {
            name: self.text.text(node.name.range),
            bases,
            decorators: self.decorators(&node.decorator_list, function),
            attributes: Vec::new(),
            // The `class` line, after the decorators.
            line: self.text.line(node.name.start()),
        }
    }

    /// Decorators in order, each as a call at the decorator's line and column.
    fn decorators(&self, list: &'s [ast::Decorator], function: Option<usize>) -> Vec<Call> {
        list.iter()
            .map(|d| {
                let mut call = match &d.expression {
                    Expr::Call(c) => self.call(c, function),
                    e => Call {
                        callee: self.callee_path(e),
                        ..Call::default()
                    },
                };
                call.line = self.text.line(d.start());
                call.column = self.text.byte_column(d.start());
                call
            })
            .collect()
    }

    fn call(&self, node: &'s ast::ExprCall, function: Option<usize>) -> Call {
        let callee = self.callee_path(&node.func);
        let a = &node.arguments;
        let limit = inside(a.range());
        let mut args = Vec::with_capacity(a.len());
        for item in a.iter_source_order() {
            match item {
                // `f(x for x in y)`: tree-sitter's arguments were the
                // generator's parts.
                ast::ArgOrKeyword::Arg(Expr::Generator(g)) if !g.parenthesized => {
                    self.generator_parts(g, &mut args);
                }
                ast::ArgOrKeyword::Arg(e) => {
                    let range = self.text.with_parens(e.range(), limit);
                    args.push(self.arg(None, range, range));
                }
                ast::ArgOrKeyword::Keyword(k) => {
                    let keyword = k.arg.as_ref().map(|n| self.text.text(n.range));
                    let value = match keyword {
                        Some(_) => self.text.with_parens(k.value.range(), limit),
                        None => k.range,
                    };
                    args.push(self.arg(keyword, value, k.range));
                }
            }
        }
        Call {
            callee,
            is_new: false,
            args,
            line: self.text.line(node.start()),
            column: self.text.byte_column(node.start()),
            in_function: function,
        }
    }

    fn arg(&self, keyword: Option<String>, value: TextRange, whole: TextRange) -> Arg {
        Arg {
            keyword,
            text: self.text.text(value),
            pairs: Vec::new(),
            line: self.text.line(whole.start()),
            column: self.text.char_column(whole.start()),
            function: None,
            end_line: self.text.line(whole.end()),
            end_column: self.text.byte_column(whole.end()),
        }
    }

    /// The parts of a generator passed as the only argument: its element,
    /// each `for … in …` clause and each `if …` clause.
    fn generator_parts(&self, g: &ast::ExprGenerator, args: &mut Vec<Arg>) {
        let elt = self.text.with_parens(g.elt.range(), g.end());
        args.push(self.arg(None, elt, elt));
        for c in &g.generators {
            let iter_end = self.text.with_parens(c.iter.range(), c.end()).end();
            let start = match c.is_async {
                true => self.keyword_before(c.target.start(), TokenKind::Async),
                false => self.keyword_before(c.target.start(), TokenKind::For),
            };
            let clause = TextRange::new(start, iter_end.max(start));
            args.push(self.arg(None, clause, clause));
            for cond in &c.ifs {
                let start = self.keyword_before(cond.start(), TokenKind::If);
                let end = self.text.with_parens(cond.range(), c.end()).end();
                let clause = TextRange::new(start, end.max(start));
                args.push(self.arg(None, clause, clause));
            }
        }
    }

    /// The start of the nearest `kind` token before `at`.
    fn keyword_before(&self, at: TextSize, kind: TokenKind) -> TextSize {
        let tokens: &[ruff_python_ast::token::Token] = self.text.tokens;
        let before = tokens.partition_point(|t| t.start() < at);
        tokens[..before]
            .iter()
            .rev()
            .take(64)
            .find(|t| t.kind() == kind)
            .map_or(at, |t| t.start())
    }

    /// `client.chat.completions.create`, `OpenAI().models.list`; at most
    /// 64 segments.
    fn callee_path(&self, node: &'s Expr) -> String {
        let mut parts: Vec<Cow<'_, str>> = Vec::with_capacity(8);
        let mut cur = node;
        for _ in 0..64 {
            match cur {
                Expr::Name(n) => {
                    parts.push(self.text.text_ref(n.range));
                    break;
                }
                Expr::Attribute(a) => {
                    parts.push(self.text.text_ref(a.attr.range));
                    cur = &a.value;
                }
                Expr::Call(c) => {
                    parts.push(Cow::Borrowed("()"));
                    cur = &c.func;
                }
                Expr::Subscript(s) => cur = &s.value,
                Expr::Await(a) => cur = &a.value,
                _ => {
                    parts.push(Cow::Borrowed("?"));
                    break;
                }
            }
        }
        join_path(&parts)
    }

    fn if_statement(&mut self, node: &'s ast::StmtIf, function: Option<usize>) {
        let leaves = is_guard(&node.body, &self.text);
        let condition = self.text.with_parens(node.test.range(), node.end());
        let last = node
            .elif_else_clauses
            .last()
            .map_or(&node.body, |c| &c.body);
        let end_line = self.text.line(self.text.block_end(last));
        if leaves {
            let cond = self.text.cut(condition, GUARD_CONDITION);
            let body = match node.body.first() {
                Some(first) => TextRange::new(
                    first.start(),
                    self.text.block_end(&node.body).max(first.start()),
                ),
                None => TextRange::default(),
            };
            self.facts.guards.push(Guard {
                function,
                line: self.text.line(node.start()),
                end_line,
                condition: loops::bare_condition(&cond),
                body: self.text.text(body),
            });
            let cond = loops::bare_condition(&self.text.text(condition));
            if loops::is_counting(&cond) {
                self.facts
                    .limit_guards
                    .push((function, self.text.line(node.start()), cond));
            }
        }
        if function.is_none() {
            self.facts.top_level_ifs.push(TopLevelIf {
                line: self.text.line(node.start()),
                end_line,
                condition: self.text.text(condition),
                leaves,
            });
        }
    }

    fn assign(&mut self, node: &'s ast::StmtAssign, function: Option<usize>, class: Option<&str>) {
        // `a = b = f()`: tree-sitter nests it as `a = (b = f())`.
        let value_end = self.text.with_parens(node.value.range(), node.end()).end();
        for (i, target) in node.targets.iter().enumerate() {
            match node.targets.get(i + 1) {
                Some(next) => {
                    let next = self.text.with_parens(next.range(), node.end()).start();
                    let rest = TextRange::new(next, value_end.max(next));
                    let assignment = Assignment {
                        target: self
                            .text
                            .text(self.text.with_parens(target.range(), node.end())),
                        value_callee: None,
                        text: self.text.text(rest),
                        line: self.text.line(target.start()),
                        in_function: function,
                    };
                    self.push_assignment(assignment, None, function, class);
                }
                None => self.assignment(
                    target,
                    &node.value,
                    node.value.range(),
                    node.end(),
                    function,
                    class,
                ),
            }
        }
    }

    fn assignment(
        &mut self,
        target: &'s Expr,
        value: &'s Expr,
        range: TextRange,
        limit: TextSize,
        function: Option<usize>,
        class: Option<&str>,
    ) {
        let value_range = self.text.with_parens(range, limit);
        let bare = value_range == range;
        let assignment = Assignment {
            target: self.text.text(self.text.with_parens(target.range(), limit)),
            value_callee: match value {
                Expr::Call(c) if bare => Some(self.callee_path(&c.func)),
                _ => None,
            },
            text: self.text.text(value_range),
            line: self
                .text
                .line(self.text.with_parens(target.range(), limit).start()),
            in_function: function,
        };
        let dict = match value {
            Expr::Dict(d) if bare => Some(d),
            _ => None,
        };
        self.push_assignment(assignment, dict, function, class);
    }

    fn push_assignment(
        &mut self,
        assignment: Assignment,
        dict: Option<&'s ast::ExprDict>,
        function: Option<usize>,
        class: Option<&str>,
    ) {
        // A class attribute (`permission_classes = [...]`).
        if let (None, Some(name)) = (function, class) {
            if let Some(c) = self.facts.classes.iter_mut().rev().find(|c| c.name == name) {
                c.attributes.push(assignment.clone());
            }
        }
        if let (None, None, Some(d)) = (function, class, dict) {
            self.dict_entries(d, &assignment.target, 0);
        }
        self.facts.assignments.push(assignment);
    }

    /// The entries of a module-level dictionary, nested dictionaries
    /// included (three levels at most).
    fn dict_entries(&mut self, node: &'s ast::ExprDict, path: &str, depth: usize) {
        let limit = inside(node.range());
        for item in &node.items {
            let Some(k) = &item.key else { continue };
            let key_range = self.text.with_parens(k.range(), limit);
            let value_range = self.text.with_parens(item.value.range(), limit);
            let key = self
                .text
                .text(key_range)
                .trim_matches(|c| c == '"' || c == '\'')
                .to_string();
            self.facts.dict_entries.push(DictEntry {
                path: path.to_string(),
                key: key.clone(),
                value: self.text.text(value_range),
                line: self.text.line(key_range.start()),
            });
            if let Expr::Dict(d) = &item.value {
                if depth < 2 && value_range == item.value.range() {
                    self.dict_entries(d, &format!("{path}.{key}"), depth + 1);
                }
            }
        }
    }

    /// `with httpx.Client() as client:` binds `client` as an assignment
    /// would (a client object, or a local that hides one).
    fn with_item(&mut self, node: &'s ast::WithItem, function: Option<usize>, limit: TextSize) {
        let Some(target) = &node.optional_vars else {
            return;
        };
        let target = self.text.text(self.text.with_parens(target.range(), limit));
        let plain = !target.is_empty()
            && target
                .bytes()
                .all(|b| b == b'_' || b.is_ascii_alphanumeric());
        if !plain {
            return;
        }
        let value = &node.context_expr;
        let value_range = self.text.with_parens(value.range(), limit);
        self.facts.assignments.push(Assignment {
            target,
            value_callee: match value {
                Expr::Call(c) if value_range == value.range() => Some(self.callee_path(&c.func)),
                _ => None,
            },
            text: self.text.text(value_range),
            line: self.text.line(value_range.start()),
            in_function: function,
        });
    }

    /// The loop `node` is (a loop statement or a comprehension).
    fn loop_of(
        &mut self,
        node: AnyNodeRef<'s>,
        function: Option<usize>,
        limit: TextSize,
    ) -> Option<Loop> {
        // `f(x for x in y)`: tree-sitter's generator took the call's
        // parentheses; a loop statement ends with its last block.
        let range = match node {
            AnyNodeRef::ExprGenerator(g) if !g.parenthesized => {
                self.text.with_parens(g.range(), TextSize::from(u32::MAX))
            }
            _ => node.range(),
        };
        let end = match node {
            AnyNodeRef::StmtWhile(w) if !w.orelse.is_empty() => self.text.block_end(&w.orelse),
            AnyNodeRef::StmtWhile(w) => self.text.block_end(&w.body),
            AnyNodeRef::StmtFor(f) if !f.orelse.is_empty() => self.text.block_end(&f.orelse),
            AnyNodeRef::StmtFor(f) => self.text.block_end(&f.body),
            _ => range.end(),
        };
        let mut facts = Loop::new(self.text.line(range.start()), self.text.line(end), function);
        let text = &self.text;
        let end = node.end();
        let condition =
            |e: &Expr| loops::bare_condition(&text.text(text.with_parens(e.range(), end)));
        let body = match node {
            AnyNodeRef::StmtWhile(w) => {
                let cond = condition(&w.test);
                if loops::is_true(&cond) {
                    facts.kind = LoopKind::WhileTrue;
                } else {
                    facts.kind = LoopKind::WhileCondition;
                    facts.bound = loops::is_counting(&cond).then(|| format!("`{cond}`"));
                    facts.condition = facts.bound.is_none().then_some(cond);
                }
                &w.body
            }
            AnyNodeRef::StmtFor(f) => {
                loops::for_each(&mut facts, condition(&f.iter));
                &f.body
            }
            _ => {
                let (generators, end) = match node {
                    AnyNodeRef::ExprListComp(c) => (&c.generators, c.end()),
                    AnyNodeRef::ExprSetComp(c) => (&c.generators, c.end()),
                    AnyNodeRef::ExprDictComp(c) => (&c.generators, c.end()),
                    AnyNodeRef::ExprGenerator(c) => (&c.generators, c.end().max(limit)),
                    _ => return None,
                };
                let first = generators.first()?;
                let iterable = self
                    .text
                    .text(self.text.with_parens(first.iter.range(), end));
                loops::for_each(&mut facts, iterable);
                return Some(facts);
            }
        };
        if !scan_body(body, &self.text, &mut facts, &mut self.loop_budget) {
            facts
                .bound
                .get_or_insert_with(|| loops::NOT_ANALYSED.to_string());
        }
        Some(facts)
    }
}

/// The end of a bracketed node's inside: before its closing bracket.
fn inside(range: TextRange) -> TextSize {
    range
        .end()
        .checked_sub(TextSize::from(1))
        .unwrap_or(range.end())
        .max(range.start())
}

/// Tokens of a block [`is_guard`] looks through: tree-sitter's scan
/// looked at 400 nodes, about one and a half per token.
const GUARD_TOKENS: usize = 266;

/// Does a block leave early (return, raise, or a call such as
/// `abort(401)` / `redirect("/login")` / `st.stop()`) within its first
/// [`GUARD_TOKENS`] tokens?
fn is_guard(body: &[Stmt], text: &Text<'_>) -> bool {
    let Some(first) = body.first() else {
        return false;
    };
    let tokens: &[ruff_python_ast::token::Token] = text.tokens;
    let start = tokens.partition_point(|t| t.start() < first.start());
    let horizon = tokens
        .get(start + GUARD_TOKENS)
        .map_or(TextSize::from(u32::MAX), |t| t.start());
    let mut stack: Vec<AnyNodeRef<'_>> = body.iter().rev().map(AnyNodeRef::from).collect();
    let mut children = Children::default();
    while let Some(n) = stack.pop() {
        if n.start() >= horizon {
            // Pre-order: everything left starts later.
            return false;
        }
        match n {
            AnyNodeRef::StmtReturn(_) | AnyNodeRef::StmtRaise(_) => return true,
            AnyNodeRef::ExprCall(c) if super::leaves_early(&text.text_ref(c.func.range())) => {
                return true
            }
            _ => {}
        }
        let first = stack.len();
        children_of(n, &mut children);
        stack.append(&mut children.0);
        stack[first..].reverse();
    }
    false
}

/// Look through a loop body for exits (`if …: break/return/raise`) and
/// hand-written retries. Nested function bodies are skipped. `false` when
/// a budget ran out before the end.
fn scan_body(body: &[Stmt], text: &Text<'_>, facts: &mut Loop, budget: &mut usize) -> bool {
    // Last statement first, as the tree-sitter scan went (the first exit
    // found names the loop's `exit_on`).
    let mut stack: Vec<(AnyNodeRef<'_>, bool)> =
        body.iter().map(|s| (AnyNodeRef::from(s), false)).collect();
    let mut children = Children::default();
    let mut seen = 0;
    while let Some((node, nested)) = stack.pop() {
        if !loops::spend(&mut seen, budget) {
            return false;
        }
        match node {
            AnyNodeRef::StmtFunctionDef(_) | AnyNodeRef::ExprLambda(_) => continue,
            AnyNodeRef::StmtIf(s) => {
                // An exit in either branch: `if i < MAX: … else: break` counts too.
                let alternative = s.elif_else_clauses.first();
                if has_exit(Exits::Block(&s.body), nested, budget)
                    || alternative.is_some_and(|c| has_exit(Exits::Clause(c), nested, budget))
                {
                    let test = text.with_parens(s.test.range(), s.end());
                    let cond = loops::bare_condition(&text.text(test));
                    if loops::is_counting(&cond) {
                        facts.bound.get_or_insert(format!("`{cond}` → exit"));
                    } else {
                        facts.exit_on.get_or_insert(cond);
                    }
                }
            }
            AnyNodeRef::StmtTry(t) if is_swallowing_retry(t, budget) => {
                facts.retries_on_error = true;
            }
            _ => {}
        }
        let nested_here =
            nested || matches!(node, AnyNodeRef::StmtWhile(_) | AnyNodeRef::StmtFor(_));
        children_of(node, &mut children);
        stack.extend(children.0.drain(..).map(|c| (c, nested_here)));
    }
    true
}

/// What [`has_exit`] looks through.
enum Exits<'a> {
    Block(&'a [Stmt]),
    Clause(&'a ast::ElifElseClause),
    Handler(&'a ast::ExceptHandler),
}

/// Does it contain `return`/`raise`, or a `break` that leaves the loop
/// being scanned (`nested`: already inside an inner loop)?
fn has_exit(what: Exits<'_>, nested: bool, budget: &mut usize) -> bool {
    let mut stack: Vec<(AnyNodeRef<'_>, bool)> = match what {
        Exits::Block(b) => b.iter().map(|s| (AnyNodeRef::from(s), nested)).collect(),
        Exits::Clause(c) => vec![(AnyNodeRef::from(c), nested)],
        Exits::Handler(h) => vec![(AnyNodeRef::from(h), nested)],
    };
    let mut children = Children::default();
    let mut seen = 0;
    while let Some((n, nested)) = stack.pop() {
        if !loops::spend(&mut seen, budget) {
            return false;
        }
        match n {
            AnyNodeRef::StmtReturn(_) | AnyNodeRef::StmtRaise(_) => return true,
            AnyNodeRef::StmtBreak(_) if !nested => return true,
            AnyNodeRef::StmtFunctionDef(_) | AnyNodeRef::ExprLambda(_) => continue,
            _ => {}
        }
        let inner = nested || matches!(n, AnyNodeRef::StmtWhile(_) | AnyNodeRef::StmtFor(_));
        children_of(n, &mut children);
        stack.extend(children.0.drain(..).map(|c| (c, inner)));
    }
    false
}

/// `try: …; return/break  except: (no raise/return/break)`: success leaves
/// the loop, an error goes round again.
fn is_swallowing_retry(node: &ast::StmtTry, budget: &mut usize) -> bool {
    // `except*` clauses were another kind of node to tree-sitter.
    if node.is_star || !has_exit(Exits::Block(&node.body), false, budget) {
        return false;
    }
    !node.handlers.is_empty()
        && node
            .handlers
            .iter()
            .any(|h| !has_exit(Exits::Handler(h), false, budget))
}

/// The name of the function that stands for a script's module-level code.
pub const SCRIPT_SCOPE: &str = "<module>";

/// A Streamlit app script (it imports `streamlit`): the whole script runs
/// again on every interaction of a user, so its module-level code is the
/// request handler of the app.
pub(super) fn is_script(facts: &FileFacts) -> bool {
    facts
        .imports
        .iter()
        .any(|i| i.module == "streamlit" || i.module.starts_with("streamlit."))
}

/// Make a script's module-level code a function, [`SCRIPT_SCOPE`] (line 1
/// to the end, last in `functions`): its calls, guards and loops move into
/// it, so reachability, limits and in-handler auth read it as any handler.
/// Assignments stay at module level (a client made there is a module
/// object, as in any file), and functions defined at module level get no
/// parent (defining a function does not call it).
pub(super) fn script_scope(facts: &mut FileFacts, end_line: u32) {
    let scope = facts.functions.len();
    facts.functions.push(Function {
        name: SCRIPT_SCOPE.to_string(),
        line: 1,
        end_line,
        ..Function::default()
    });
    let here = Some(scope);
    for c in facts.calls.iter_mut().filter(|c| c.in_function.is_none()) {
        c.in_function = here;
    }
    for g in facts.guards.iter_mut().filter(|g| g.function.is_none()) {
        g.function = here;
    }
    for g in facts.limit_guards.iter_mut().filter(|g| g.0.is_none()) {
        g.0 = here;
    }
    for l in facts.loops.iter_mut().filter(|l| l.in_function.is_none()) {
        l.in_function = here;
    }
    // A widget's callback runs on the interaction, before the script:
    // `st.button("Go", on_click=generate)` calls `generate` from where the
    // widget is.
    let callbacks: Vec<Call> = facts
        .calls
        .iter()
        .flat_map(|c| {
            c.args
                .iter()
                .filter(|a| a.keyword.as_deref().is_some_and(|k| CALLBACKS.contains(&k)))
                .filter(|a| {
                    let t = a.text.trim();
                    !t.is_empty()
                        && t.chars()
                            .all(|ch| ch.is_alphanumeric() || ch == '_' || ch == '.')
                })
                .map(|a| Call {
                    callee: a.text.trim().to_string(),
                    line: a.line,
                    column: a.column,
                    in_function: c.in_function,
                    ..Call::default()
                })
        })
        .collect();
    if !callbacks.is_empty() {
        facts.calls.extend(callbacks);
        facts.calls.sort_by_key(|c| (c.line, c.column));
    }
}

/// Keyword arguments of Streamlit widgets that name a callback.
const CALLBACKS: [&str; 3] = ["on_click", "on_change", "on_submit"];

/// Join reversed segments: `["create", "()", "OpenAI"]` → `OpenAI().create`
/// (into a string of the exact length: callees are kept for the audit).
pub(super) fn join_path(parts: &[Cow<'_, str>]) -> String {
    let mut len = 0;
    for p in parts.iter().rev() {
        if p != "()" && len > 0 {
            len += 1;
        }
        len += p.len();
    }
    let mut out = String::with_capacity(len);
    for p in parts.iter().rev() {
        if p == "()" {
            out.push_str("()");
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(p);
        }
    }
    out
}
