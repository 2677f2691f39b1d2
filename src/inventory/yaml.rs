//! YAML configuration files as plain trees with line numbers, for the
//! modules that read function manifests (`serverless.yml`, SAM
//! `template.yaml`) and gateway configurations (compose labels, Traefik,
//! Kong). Built on `yaml-rust2`'s event parser, so every YAML form is read
//! (flow and block collections, block scalars, anchors and aliases);
//! CloudFormation tags (`!Ref X`, `!GetAtt A.B`, `!Sub …`) keep their value
//! as a scalar. A file that does not parse gives nothing: a broken
//! configuration is skipped, never an error.

use std::collections::HashMap;

use yaml_rust2::parser::{MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;
use yaml_rust2::Event;

/// One YAML value, with the line it starts on (1-based).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub line: u32,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Every scalar as written (`true`, `10`, `chat`); a tagged one keeps
    /// its tag's name in front of it (`!Ref MyApi`).
    Scalar(String),
    Seq(Vec<Node>),
    /// Keys in order; non-scalar keys are dropped.
    Map(Vec<(String, Node)>),
}

static NULL: Node = Node {
    line: 0,
    value: Value::Scalar(String::new()),
};

impl Node {
    /// The value under `key` of a mapping (`Null` when absent or not a map).
    pub fn get(&self, key: &str) -> &Node {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k == key)
                .map_or(&NULL, |(_, v)| v),
            _ => &NULL,
        }
    }

    /// `get` along a path of keys.
    pub fn at(&self, keys: &[&str]) -> &Node {
        keys.iter().fold(self, |n, k| n.get(k))
    }

    /// Is there a value (not absent, not `~`/`null`/empty)?
    pub fn is_set(&self) -> bool {
        match &self.value {
            Value::Scalar(s) => !matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"),
            _ => true,
        }
    }

    /// A scalar's text.
    pub fn str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) if self.is_set() => Some(s.as_str()),
            _ => None,
        }
    }

    /// A scalar that is YAML true (`true`, `True`, `yes`).
    pub fn is_true(&self) -> bool {
        matches!(self.str(), Some("true" | "True" | "TRUE" | "yes" | "Yes"))
    }

    /// Items of a sequence (none for other values).
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// Entries of a mapping (none for other values).
    pub fn entries(&self) -> &[(String, Node)] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// The scalars of a value that is a scalar or a list of scalars.
    pub fn strings(&self) -> Vec<&str> {
        match &self.value {
            Value::Seq(items) => items.iter().filter_map(Node::str).collect(),
            _ => self.str().into_iter().collect(),
        }
    }
}

/// The documents of a YAML text; none when it does not parse.
pub fn parse(text: &str) -> Vec<Node> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    if parser.load(&mut builder, true).is_err() {
        return Vec::new();
    }
    builder.docs
}

/// The first document of a YAML text, if it parses.
pub fn parse_first(text: &str) -> Option<Node> {
    parse(text).into_iter().next()
}

#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    /// Open collections: the node, its anchor, and for a mapping the key
    /// waiting for its value.
    stack: Vec<(Node, usize, Option<String>)>,
    anchors: HashMap<usize, Node>,
}

impl Builder {
    fn push_value(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let Some((parent, _, key)) = self.stack.last_mut() else {
            self.docs.push(node);
            return;
        };
        match &mut parent.value {
            Value::Seq(items) => items.push(node),
            Value::Map(entries) => match key.take() {
                Some(k) if k == "<<" => {
                    // A merge key: the aliased mapping's entries, unless
                    // set here.
                    if let Value::Map(merged) = node.value {
                        for (k, v) in merged {
                            if !entries.iter().any(|(e, _)| *e == k) {
                                entries.push((k, v));
                            }
                        }
                    }
                }
                Some(k) => entries.push((k, node)),
                None => match node.value {
                    Value::Scalar(s) => *key = Some(s),
                    // A complex key: its value is dropped.
                    _ => *key = Some(String::new()),
                },
            },
            Value::Scalar(_) => {}
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line() as u32;
        match ev {
            Event::Scalar(text, _, anchor, tag) => {
                let text = match tag {
                    Some(t) if t.handle == "!" && !t.suffix.is_empty() => {
                        format!("!{} {text}", t.suffix)
                    }
                    _ => text,
                };
                self.push_value(
                    Node {
                        line,
                        value: Value::Scalar(text),
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push((
                Node {
                    line,
                    value: Value::Seq(Vec::new()),
                },
                anchor,
                None,
            )),
            Event::MappingStart(anchor, _) => self.stack.push((
                Node {
                    line,
                    value: Value::Map(Vec::new()),
                },
                anchor,
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, anchor, _)) = self.stack.pop() {
                    self.push_value(node, anchor);
                }
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().unwrap_or(Node {
                    line,
                    value: Value::Scalar(String::new()),
                });
                self.push_value(node, 0);
            }
            _ => {}
        }
    }
}

/// The folder of a `/`-separated path (`deploy/nginx.conf` → `deploy`; ``
/// for a file at the root).
pub fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `dir` + `rel` as a `/`-separated path from the root, `./` and `../`
/// resolved (`deploy` + `../backend` → `backend`).
pub fn join_rel(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_keep_lines_tags_and_merges() {
        let text = "base: &b\n  runtime: python3.12\nfunctions:\n  chat:\n    <<: *b\n    handler: app.chat\n    events:\n      - http: { path: chat, method: post }\n      - httpApi: 'POST /ask'\nApi:\n  Id: !Ref MyApi\n";
        let doc = parse_first(text).unwrap();
        let chat = doc.at(&["functions", "chat"]);
        assert_eq!(chat.get("handler").str(), Some("app.chat"));
        assert_eq!(chat.get("handler").line, 6);
        assert_eq!(chat.get("runtime").str(), Some("python3.12"));
        let events = chat.get("events").items();
        assert_eq!(events[0].at(&["http", "path"]).str(), Some("chat"));
        assert_eq!(events[0].at(&["http", "path"]).line, 8);
        assert_eq!(events[1].get("httpApi").str(), Some("POST /ask"));
        assert_eq!(doc.at(&["Api", "Id"]).str(), Some("!Ref MyApi"));
        assert!(!doc.get("missing").is_set());
    }

    #[test]
    fn broken_yaml_gives_nothing() {
        assert!(parse("a: [1, 2\nb: {").is_empty());
        assert!(parse_first("key: 'unterminated\n").is_none());
    }

    #[test]
    fn relative_paths_join() {
        assert_eq!(join_rel("deploy", "../backend"), "backend");
        assert_eq!(join_rel("", "./api/"), "api");
        assert_eq!(dir_of("a/b/c.yml"), "a/b");
    }
}
