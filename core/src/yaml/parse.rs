//! Reading YAML into [`Value`] with yaml-rust2's event parser, typing plain scalars the way
//! kyaml (go-yaml v3) does, and remembering the line each document starts on.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::resolve::{go_parse_integer, is_yaml_float};
use super::value::{Mapping, Value};
use crate::error::Error;

/// One parsed document and the line its content starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The 1-based line the document's content starts on.
    pub line: usize,
    /// The document.
    pub value: Value,
}

enum Frame {
    Seq(Vec<Value>),
    Map(Mapping, Option<String>),
}

#[derive(Default)]
struct Builder {
    documents: Vec<Document>,
    stack: Vec<Frame>,
    document_line: usize,
    awaiting_first_node: bool,
    root: Option<Value>,
    /// Anchored values with their node counts.
    anchors: std::collections::HashMap<usize, (Value, usize)>,
    anchor_stack: Vec<usize>,
    /// Nodes copied in by aliases so far.
    expanded: usize,
    /// Set when the aliases would expand past [`MAX_ALIAS_NODES`]; nothing more is built.
    too_large: bool,
}

/// The most nodes aliases may copy into one stream: a few anchors referring to each other
/// ("billion laughs") would otherwise expand a small file into gigabytes. Flux's release files
/// and bootstrapped repositories use no aliases at all.
pub const MAX_ALIAS_NODES: usize = 100_000;

fn nodes(value: &Value) -> usize {
    1 + match value {
        Value::Seq(items) => items.iter().map(nodes).sum(),
        Value::Map(map) => map.iter().map(|(_, v)| nodes(v)).sum(),
        _ => 0,
    }
}

fn key_text(value: Value) -> String {
    match value {
        Value::Str(s) => s,
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

impl Builder {
    fn push_value(&mut self, value: Value, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (value.clone(), nodes(&value)));
        }
        match self.stack.last_mut() {
            Some(Frame::Seq(items)) => items.push(value),
            Some(Frame::Map(map, pending)) => match pending.take() {
                None => *pending = Some(key_text(value)),
                Some(key) => map.insert(key, value),
            },
            None => self.root = Some(value),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.too_large {
            return;
        }
        let starts_node = matches!(
            event,
            Event::Scalar(..)
                | Event::SequenceStart(..)
                | Event::MappingStart(..)
                | Event::Alias(_)
        );
        if starts_node && self.awaiting_first_node {
            self.document_line = mark.line();
            self.awaiting_first_node = false;
        }
        match event {
            Event::DocumentStart => {
                // The line of the document's first node is set when that node starts; until
                // then (an empty document) the `---` line stands for it.
                self.document_line = mark.line();
                self.awaiting_first_node = true;
                self.root = None;
            }
            Event::DocumentEnd => {
                let value = self.root.take().unwrap_or(Value::Null);
                self.documents.push(Document {
                    line: self.document_line,
                    value,
                });
            }
            Event::Scalar(text, style, anchor, tag) => {
                // Mapping keys stay text: in the JSON flux's pipeline goes through, every key
                // is a string spelled as in the source.
                let is_key = matches!(self.stack.last(), Some(Frame::Map(_, None)));
                let value = if is_key {
                    Value::Str(text)
                } else {
                    scalar(text, style, tag.as_ref())
                };
                self.push_value(value, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                self.anchor_stack.push(anchor);
                self.stack.push(Frame::Seq(Vec::new()));
            }
            Event::MappingStart(anchor, _) => {
                self.anchor_stack.push(anchor);
                self.stack.push(Frame::Map(Mapping::new(), None));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let anchor = self.anchor_stack.pop().unwrap_or(0);
                let value = match self.stack.pop() {
                    Some(Frame::Seq(items)) => Value::Seq(items),
                    Some(Frame::Map(map, _)) => Value::Map(map),
                    None => return,
                };
                self.push_value(value, anchor);
            }
            Event::Alias(id) => {
                let (value, size) = self.anchors.get(&id).cloned().unwrap_or((Value::Null, 1));
                self.expanded += size;
                if self.expanded > MAX_ALIAS_NODES {
                    self.too_large = true;
                    return;
                }
                self.push_value(value, 0);
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }
}

/// Types a scalar: quoted and block scalars are strings; plain ones follow the YAML 1.2 core
/// schema as go-yaml v3 resolves it (so `yes`/`on` stay strings, `0x1f` is an integer).
fn scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag
        && (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!")
    {
        return match tag.suffix.as_str() {
            "str" => Value::Str(text),
            _ => resolve_plain(text),
        };
    }
    match style {
        TScalarStyle::Plain => resolve_plain(text),
        _ => Value::Str(text),
    }
}

/// A plain scalar's value as go-yaml v3 types it (`123` an integer, `true` a boolean, `a` a
/// string).
pub fn resolve_plain(text: String) -> Value {
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first == b'.' {
        // go-yaml tries Go's ParseFloat on the text as written: no underscores.
        return match text.parse::<f64>() {
            Ok(f) if is_yaml_float(&text) => Value::Float(f),
            _ => Value::Str(text),
        };
    }
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+')) {
        return Value::Str(text);
    }
    let plain = text.replace('_', "");
    if let Some(i) = go_parse_integer(&plain) {
        // Beyond i64 (ParseUint's range) JSON keeps the number; f64 is the closest we hold.
        return i64::try_from(i).map_or(Value::Float(i as f64), Value::Int);
    }
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(text)
}

/// Parses every document of a YAML stream.
pub fn parse_documents_with_lines(text: &str) -> Result<Vec<Document>, Error> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| Error::Yaml {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_string(),
    })?;
    if builder.too_large {
        return Err(Error::Yaml {
            line: 0,
            column: 0,
            message: format!(
                "its aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing to read it"
            ),
        });
    }
    Ok(builder.documents)
}

/// The non-empty documents of a YAML stream, as kustomize reads them.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, Error> {
    Ok(parse_documents_with_lines(text)?
        .into_iter()
        .map(|d| d.value)
        .filter(|v| !matches!(v, Value::Null))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_bombs_are_refused_and_small_aliases_work() {
        let small = parse_documents("a: &x [1, 2]\nb: *x\n").unwrap();
        assert_eq!(small[0].pointer(&["b"]), small[0].pointer(&["a"]));
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let names = ["a", "b", "c", "d", "e", "f", "g"];
        for pair in names.windows(2) {
            let refs = vec![format!("*{}", pair[0]); 10].join(", ");
            bomb.push_str(&format!("{}: &{} [{refs}]\n", pair[1], pair[1]));
        }
        let error = parse_documents(&bomb).unwrap_err();
        assert!(error.to_string().contains("aliases expand"), "{error}");
    }

    #[test]
    fn documents_know_the_line_they_start_on() {
        let text = "a: 1\n---\n# comment\nb: 2\n---\n\n- x\n";
        let lines: Vec<usize> = parse_documents_with_lines(text)
            .unwrap()
            .iter()
            .map(|d| d.line)
            .collect();
        assert_eq!(lines, [1, 4, 7]);
    }

    #[test]
    fn keys_keep_their_spelling() {
        let doc = &parse_documents("1.0: a\n0x10: b\ntrue: c\n").unwrap()[0];
        let keys: Vec<&str> = doc
            .as_map()
            .unwrap()
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(keys, ["1.0", "0x10", "true"]);
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse_documents("a: 1\nb: [x\n").unwrap_err();
        assert!(
            matches!(err, Error::Yaml { line: 3, .. }),
            "unexpected error {err:?}"
        );
    }

    #[test]
    fn plain_scalars_are_typed_like_go_yaml_v3() {
        let doc = &parse_documents(
            "a: yes\nb: 0x1f\nc: 017\nd: 1e3\ne: ~\nf: '12'\ng: .5\nh: 1_000\ni: True\nj: -.inf\nk: .0_\n",
        )
        .unwrap()[0];
        let get = |k: &str| doc.pointer(&[k]).unwrap().clone();
        assert_eq!(get("a"), Value::from("yes"));
        assert_eq!(get("b"), Value::Int(31));
        assert_eq!(get("c"), Value::Int(15));
        assert_eq!(get("d"), Value::Float(1000.0));
        assert_eq!(get("e"), Value::Null);
        assert_eq!(get("f"), Value::from("12"));
        assert_eq!(get("g"), Value::Float(0.5));
        assert_eq!(get("h"), Value::Int(1000));
        assert_eq!(get("i"), Value::Bool(true));
        assert_eq!(get("j"), Value::Float(f64::NEG_INFINITY));
        assert_eq!(get("k"), Value::from(".0_"));
    }
}
