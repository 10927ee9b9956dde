//! A YAML writer that reproduces go-yaml v2 (the encoder behind `sigs.k8s.io/yaml`, which
//! Flux's pipeline ends with) byte for byte: its key order, block layout, scalar styles and
//! 80-column folding.

use std::cmp::Ordering;

use super::resolve::{go_parse_integer, is_yaml_float};
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
        let mut an: i64 = 0;
        let mut bn: i64 = 0;
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
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

fn sorted_entries(map: &Mapping) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| compare_keys(a.0, b.0));
    entries
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// What libyaml's scalar analysis allows for a string.
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// libyaml's `is_printable` as go-yaml v2 implements it (no characters beyond the BMP).
fn is_printable(c: char) -> bool {
    let c = c as u32;
    c == 0x0A
        || (0x20..=0x7E).contains(&c)
        || (0xA0..=0xD7FF).contains(&c)
        || ((0xE000..=0xFFFD).contains(&c) && c != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = value.chars().collect();
    let mut block_indicators = false;
    let mut line_breaks = false;
    let mut special_characters = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut previous_space = false;
    let mut previous_break = false;
    if value.starts_with("---") || value.starts_with("...") {
        block_indicators = true;
    }
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = chars.get(i + 1).is_none_or(|&n| is_blank(n) || is_break(n));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == chars.len() {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == chars.len() {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blank(c) || is_break(c);
    }
    let mut analysis = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        analysis.block_plain_allowed = false;
    }
    if trailing_space {
        analysis.block_allowed = false;
    }
    if break_space {
        analysis.block_plain_allowed = false;
        analysis.single_quoted_allowed = false;
    }
    if space_break || special_characters {
        analysis.block_plain_allowed = false;
        analysis.single_quoted_allowed = false;
        analysis.block_allowed = false;
    }
    if line_breaks {
        analysis.block_plain_allowed = false;
    }
    if block_indicators {
        analysis.block_plain_allowed = false;
    }
    analysis
}

/// Would go-yaml v2 read this string back as something other than a string when unquoted?
fn resolves_to_non_string(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return true; // "" is null
    };
    match first {
        'y' | 'Y' | 'n' | 'N' | 't' | 'T' | 'f' | 'F' | 'o' | 'O' | '~' => matches!(
            s,
            "y" | "Y"
                | "yes"
                | "Yes"
                | "YES"
                | "true"
                | "True"
                | "TRUE"
                | "on"
                | "On"
                | "ON"
                | "n"
                | "N"
                | "no"
                | "No"
                | "NO"
                | "false"
                | "False"
                | "FALSE"
                | "off"
                | "Off"
                | "OFF"
                | "~"
                | "null"
                | "Null"
                | "NULL"
        ),
        '.' => {
            matches!(s, ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF") // Go's ParseFloat accepts exactly the float pattern for strings starting with `.`.
                || is_yaml_float(s)
        }
        '+' | '-' | '0'..='9' => {
            if matches!(s, "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF") {
                return true;
            }
            if is_timestamp(s) {
                return true;
            }
            let plain = s.replace('_', "");
            go_parse_integer(&plain).is_some() || is_yaml_float(&plain) || binary_int(&plain)
        }
        _ => false,
    }
}

fn binary_int(s: &str) -> bool {
    let body = s.strip_prefix("-0b").or_else(|| s.strip_prefix("0b"));
    body.is_some_and(|b| !b.is_empty() && b.chars().all(|c| c == '0' || c == '1'))
}

/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$` — YAML 1.1 base-60 floats, which
/// go-yaml v2 quotes although it does not parse them.
fn is_base60_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        let group = &s[start..i];
        let valid = match group.len() {
            1 => true,
            2 => group.as_bytes()[0] <= b'5',
            _ => false,
        };
        if !valid {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// go-yaml v2 resolves `YYYY-M-D` dates and timestamps (the formats it accepts) to times.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut i = 5;
    let number = |i: &mut usize, max_len: usize| -> Option<u32> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max_len {
            *i += 1;
        }
        if *i == start {
            None
        } else {
            s[start..*i].parse().ok()
        }
    };
    let Some(month) = number(&mut i, 2) else {
        return false;
    };
    if i >= b.len() || b[i] != b'-' {
        return false;
    }
    i += 1;
    let Some(day) = number(&mut i, 2) else {
        return false;
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let zoned = match b[i] {
        b'T' | b't' => true,
        b' ' => false,
        _ => return false,
    };
    i += 1;
    let Some(h) = number(&mut i, 2) else {
        return false;
    };
    if i >= b.len() || b[i] != b':' {
        return false;
    }
    i += 1;
    let Some(m) = number(&mut i, 2) else {
        return false;
    };
    if i >= b.len() || b[i] != b':' {
        return false;
    }
    i += 1;
    let Some(sec) = number(&mut i, 2) else {
        return false;
    };
    if h > 23 || m > 59 || sec > 59 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if !zoned {
        return i == b.len();
    }
    if i < b.len() && b[i] == b'Z' {
        return i + 1 == b.len();
    }
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        let rest = &s[i + 1..];
        let rb = rest.as_bytes();
        return rb.len() == 5
            && rb[2] == b':'
            && rb[..2].iter().all(u8::is_ascii_digit)
            && rb[3..].iter().all(u8::is_ascii_digit);
    }
    false
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` with go-yaml's names for the special values.
fn format_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits, as Go's shortest formatting does.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if !(-4..21).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        return format!("{sign}{first}{fraction}e{exp_sign}{:02}", exponent.abs());
    }
    let point = exponent + 1; // digits before the decimal point
    if point <= 0 {
        format!("{sign}0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!(
            "{sign}{digits}{}",
            "0".repeat(point as usize - digits.len())
        )
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{sign}{int}.{frac}")
    }
}

/// A float as it comes out of the JSON round trip: integral values become integers.
fn format_number(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e21 {
        if f.abs() < 9.2e18 {
            return format!("{}", f as i64);
        }
        return format!("{f:.0}");
    }
    format_float(f)
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
        let text = match value {
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => format_number(*f),
            Value::Str(s) => s.clone(),
            Value::Seq(_) | Value::Map(_) => String::new(),
        };
        let requested = match value {
            Value::Str(s) => {
                if s.contains('\n') {
                    Style::Literal
                } else if resolves_to_non_string(s) || is_base60_float(s) {
                    Style::DoubleQuoted
                } else {
                    Style::Plain
                }
            }
            _ => Style::Plain,
        };
        let analysis = analyze(&text);
        let mut style = requested;
        if simple_key && analysis.multiline {
            style = Style::DoubleQuoted;
        }
        if style == Style::Plain
            && (!analysis.block_plain_allowed || (text.is_empty() && simple_key))
        {
            style = Style::SingleQuoted;
        }
        if style == Style::SingleQuoted && !analysis.single_quoted_allowed {
            style = Style::DoubleQuoted;
        }
        if style == Style::Literal && (!analysis.block_allowed || simple_key) {
            style = Style::DoubleQuoted;
        }
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

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn s(text: &str) -> Value {
        Value::from(text)
    }

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
    fn strings_that_would_change_type_are_double_quoted() {
        for text in [
            "true",
            "yes",
            "on",
            "Off",
            "n",
            "~",
            "null",
            "",
            "1000",
            "0x1F",
            "017",
            "1.5",
            "1e3",
            ".5",
            ".inf",
            "-.Inf",
            "1:20",
            "2024-01-02",
            "2001-12-14t21:59:43.10-05:00",
            "+12",
        ] {
            assert_eq!(
                to_yaml(&map(&[("k", s(text))])),
                format!("k: \"{text}\"\n"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn ordinary_strings_stay_plain_and_indicators_get_single_quotes() {
        assert_eq!(
            to_yaml(&map(&[("k", s("hello world"))])),
            "k: hello world\n"
        );
        assert_eq!(to_yaml(&map(&[("k", s("1.2.3"))])), "k: 1.2.3\n");
        assert_eq!(to_yaml(&map(&[("k", s("<<"))])), "k: <<\n");
        assert_eq!(to_yaml(&map(&[("k", s("*"))])), "k: '*'\n");
        assert_eq!(to_yaml(&map(&[("k", s("- x"))])), "k: '- x'\n");
        assert_eq!(to_yaml(&map(&[("k", s("a: b"))])), "k: 'a: b'\n");
        assert_eq!(to_yaml(&map(&[("k", s("it's"))])), "k: it's\n");
        assert_eq!(to_yaml(&map(&[("k", s(" lead"))])), "k: ' lead'\n");
        assert_eq!(to_yaml(&map(&[("k", s("'q' x"))])), "k: '''q'' x'\n");
        assert_eq!(
            to_yaml(&map(&[("k", s("tab\there"))])),
            "k: \"tab\\there\"\n"
        );
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

    #[test]
    fn numbers_come_out_as_after_a_json_round_trip() {
        assert_eq!(to_yaml(&map(&[("f", Value::Float(1.0))])), "f: 1\n");
        assert_eq!(to_yaml(&map(&[("f", Value::Float(0.5))])), "f: 0.5\n");
        assert_eq!(
            to_yaml(&map(&[("f", Value::Float(1.5e-7))])),
            "f: 1.5e-07\n"
        );
        assert_eq!(
            to_yaml(&map(&[("f", Value::Float(2.5e25))])),
            "f: 2.5e+25\n"
        );
        assert_eq!(to_yaml(&map(&[("i", Value::Int(-42))])), "i: -42\n");
    }
}
