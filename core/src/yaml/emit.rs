//! A YAML writer that reproduces go-yaml v2 (the encoder behind `sigs.k8s.io/yaml`, which
//! Flux's pipeline ends with) byte for byte: its key order, block layout and 80-column folding.
//! Which style a scalar gets is decided in `scalar.rs` (with the resolver, `resolve.rs`); this
//! module lays it out.

use std::cmp::Ordering;

use super::scalar::{Style, is_break, is_printable, text_and_style};
use super::value::{Mapping, Value};

/// go-yaml v2 folds plain and quoted scalars once a line passes this column.
const BEST_WIDTH: usize = 80;
/// Indentation step.
const INDENT: usize = 2;

/// One document, with a trailing newline and no `---`.
pub fn to_yaml(doc: &Value) -> String {
    let mut w = Writer::default();
    w.root(doc);
    w.finish()
}

/// Documents joined by `---\n`, as kustomize writes a resource map.
pub fn to_yaml_stream(docs: &[Value]) -> String {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_yaml(doc));
    }
    out
}

/// go-yaml v2's `keyList.Less` for string keys: letters compare by code point, a non-letter
/// sorts before a letter, and runs of digits compare by numeric value.
pub fn compare_keys(a: &str, b: &str) -> Ordering {
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let less = |x: bool| if x { Ordering::Less } else { Ordering::Greater };
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return less(bl);
        }
        // Both numbers start at 1 when a zero follows a non-zero digit of the same run.
        let mut start: i64 = 0;
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    start = 1;
                    break;
                }
            }
        }
        let (an, ai) = read_number(&ar, i, start);
        let (bn, bi) = read_number(&br, i, start);
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// Continues `number` with the digits of `chars` from `from` on (wrapping, as Go's int does);
/// the number and where its digits end.
fn read_number(chars: &[char], from: usize, mut number: i64) -> (i64, usize) {
    let mut end = from;
    while end < chars.len() && chars[end].is_ascii_digit() {
        number = number
            .wrapping_mul(10)
            .wrapping_add(i64::from(chars[end] as u8 - b'0'));
        end += 1;
    }
    (number, end)
}

fn sorted_entries(map: &Mapping) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| compare_keys(a.0, b.0));
    entries
}

#[derive(Default)]
struct Writer {
    out: String,
    /// Characters on the current line.
    column: usize,
    /// The last character written was white space (or nothing yet).
    whitespace: bool,
    /// Only indentation has been written on the current line.
    indention: bool,
    /// A `|+` block scalar ended the stream: go-yaml closes it with `...`.
    open_ended: bool,
}

impl Writer {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_str(&mut self, s: &str) {
        for c in s.chars() {
            self.put(c);
        }
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// libyaml's `write_indent`.
    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, indicator: &str, need_whitespace: bool, is_whitespace: bool) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        self.put_str(indicator);
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_whitespace;
        self.open_ended = false;
    }

    fn finish(mut self) -> String {
        if self.column > 0 {
            self.put_break();
        }
        if self.open_ended {
            self.out.push_str("...\n");
        }
        self.out
    }

    fn root(&mut self, value: &Value) {
        self.whitespace = true;
        self.indention = true;
        self.node(value, 0, Context::Root);
    }

    /// Writes `value` whose block content is indented by `indent`.
    fn node(&mut self, value: &Value, indent: usize, context: Context) {
        match value {
            Value::Map(map) if !map.is_empty() => self.block_mapping(map, indent, context),
            Value::Seq(items) if !items.is_empty() => self.block_sequence(items, indent, context),
            Value::Map(_) => self.write_indicator("{}", true, false),
            Value::Seq(_) => self.write_indicator("[]", true, false),
            scalar => self.scalar(scalar, indent + INDENT, context == Context::Key),
        }
    }

    fn block_mapping(&mut self, map: &Mapping, indent: usize, context: Context) {
        let indent = match context {
            Context::Root => 0,
            Context::SequenceItem | Context::MappingValue => indent,
            Context::Key => indent,
        };
        for (i, (key, value)) in sorted_entries(map).into_iter().enumerate() {
            // The first key of a mapping inside a sequence item stays on the `- ` line.
            if !(i == 0 && context == Context::SequenceItem) {
                self.write_indent(indent);
            }
            self.scalar(&Value::Str(key.clone()), indent + INDENT, true);
            self.write_indicator(":", false, false);
            match value {
                Value::Map(m) if !m.is_empty() => {
                    self.node(value, indent + INDENT, Context::MappingValue)
                }
                // Sequences in mappings are not indented (go-yaml's "indentless" sequences).
                Value::Seq(s) if !s.is_empty() => self.node(value, indent, Context::MappingValue),
                _ => self.node(value, indent, Context::MappingValue),
            }
        }
    }

    fn block_sequence(&mut self, items: &[Value], indent: usize, context: Context) {
        let indent = match context {
            Context::Root => 0,
            _ => indent,
        };
        for (i, item) in items.iter().enumerate() {
            if !(i == 0 && context == Context::SequenceItem) {
                self.write_indent(indent);
            }
            self.write_indicator("-", true, false);
            // Indicators in sequences are followed by the item on the same line.
            self.indention = true;
            match item {
                Value::Map(m) if !m.is_empty() => {
                    self.put(' ');
                    self.whitespace = true;
                    self.node(item, indent + INDENT, Context::SequenceItem)
                }
                Value::Seq(s) if !s.is_empty() => {
                    self.put(' ');
                    self.whitespace = true;
                    self.node(item, indent + INDENT, Context::SequenceItem)
                }
                _ => self.node(item, indent, Context::SequenceItem),
            }
        }
    }

    /// Writes a scalar; `indent` is where folded continuation lines and block content go.
    fn scalar(&mut self, value: &Value, indent: usize, simple_key: bool) {
        let (text, style) = text_and_style(value, simple_key);
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.write_plain(&text, indent, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted(&text, indent, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted(&text, indent, allow_breaks),
            Style::Literal => self.write_literal(&text, indent),
        }
    }

    fn write_plain(&mut self, text: &str, indent: usize, allow_breaks: bool) {
        if !self.whitespace && !text.is_empty() {
            self.put(' ');
        }
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_is_space {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                self.indention = false;
                spaces = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, text: &str, indent: usize, allow_breaks: bool) {
        self.write_indicator("'", true, false);
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_is_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                    && !next_is_space
                {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
            }
        }
        self.write_indicator("'", false, false);
    }

    fn write_double_quoted(&mut self, text: &str, indent: usize, allow_breaks: bool) {
        self.write_indicator("\"", true, false);
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    c if (c as u32) <= 0xFF => self.put_str(&format!("x{:02X}", c as u32)),
                    c if (c as u32) <= 0xFFFF => self.put_str(&format!("u{:04X}", c as u32)),
                    c => self.put_str(&format!("U{:08X}", c as u32)),
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                {
                    self.write_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false);
    }

    fn write_literal(&mut self, text: &str, indent: usize) {
        self.write_indicator("|", true, false);
        // Block scalar hints: an indentation indicator when the text starts with white space,
        // and the chomping indicator from its trailing line breaks.
        let first = text.chars().next();
        if first.is_some_and(|c| c == ' ' || is_break(c)) {
            self.put_str(&INDENT.to_string());
        }
        self.open_ended = false;
        let chars: Vec<char> = text.chars().collect();
        let chomp = match chars.len() {
            0 => Some('-'),
            n if !is_break(chars[n - 1]) => Some('-'),
            1 => {
                self.open_ended = true;
                Some('+')
            }
            n if is_break(chars[n - 2]) => {
                self.open_ended = true;
                Some('+')
            }
            _ => None,
        };
        if let Some(c) = chomp {
            self.put(c);
        }
        let open_ended = self.open_ended;
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.put_break();
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
        self.open_ended = open_ended;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Root,
    SequenceItem,
    MappingValue,
    Key,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::testing::{map, s};

    #[test]
    fn keys_sort_the_go_yaml_v2_way() {
        // spec §5.6: letters by code point, non-letters before letters, digit runs numerically.
        let mut keys = vec!["b", "a10", "a9", "_x", "B", "a", "~", "a-b", "ab"];
        keys.sort_by(|a, b| compare_keys(a, b));
        assert_eq!(keys, ["_x", "~", "B", "a", "a-b", "a9", "a10", "ab", "b"]);
        assert_eq!(compare_keys("x01", "x1"), Ordering::Greater);
        assert_eq!(compare_keys("apiVersion", "kind"), Ordering::Less);
    }

    #[test]
    fn multi_line_strings_use_literal_blocks_with_chomping() {
        assert_eq!(to_yaml(&map(&[("k", s("a\nb"))])), "k: |-\n  a\n  b\n");
        assert_eq!(to_yaml(&map(&[("k", s("a\nb\n"))])), "k: |\n  a\n  b\n");
        assert_eq!(to_yaml(&map(&[("k", s("a\n\nb\n"))])), "k: |\n  a\n\n  b\n");
        assert_eq!(to_yaml(&map(&[("k", s(" a\nb"))])), "k: |2-\n   a\n  b\n");
        // Trailing spaces on a line forbid block style.
        assert_eq!(to_yaml(&map(&[("k", s("a \nb"))])), "k: \"a \\nb\"\n");
    }

    #[test]
    fn long_scalars_fold_after_column_80() {
        let words = "word ".repeat(30);
        let text = words.trim_end();
        let out = to_yaml(&map(&[("description", s(text))]));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1, "{out}");
        // The break happens at the first space past column 80; continuations are indented
        // one level deeper than the key.
        assert!(
            lines[0].chars().count() > 80 && lines[0].chars().count() <= 86,
            "{out}"
        );
        assert!(lines[1].starts_with("  word"));
        // Reading the folded scalar back gives the original text.
        let back = crate::yaml::parse_documents(&out).unwrap();
        assert_eq!(back, vec![map(&[("description", s(text))])]);
    }

    #[test]
    fn block_layout_matches_go_yaml() {
        let doc = map(&[
            (
                "list",
                Value::Seq(vec![
                    s("a"),
                    map(&[("x", Value::Int(1)), ("y", Value::Bool(false))]),
                ]),
            ),
            ("empty", Value::Map(Mapping::new())),
            ("none", Value::Seq(vec![])),
            (
                "nested",
                map(&[("inner", Value::Seq(vec![Value::Seq(vec![s("z")])]))]),
            ),
            ("nil", Value::Null),
        ]);
        assert_eq!(
            to_yaml(&doc),
            // go-yaml v2 quotes the key `y`: YAML 1.1 reads it as a boolean.
            "empty: {}\nlist:\n- a\n- x: 1\n  \"y\": false\nnested:\n  inner:\n  - - z\nnil: null\nnone: []\n"
        );
    }
}
