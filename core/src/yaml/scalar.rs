//! How go-yaml v2 writes one scalar: its text (numbers as after Flux's JSON round trip) and
//! its style, from what the resolver would make of the plain text and libyaml's scalar
//! analysis (which characters and positions each style can carry). The writer (`emit.rs`)
//! only lays the chosen style out.

use super::resolve::must_quote;
use super::value::Value;

/// The text of a scalar and the style go-yaml v2 writes it in; `simple_key` when it is a
/// mapping key.
pub(super) fn text_and_style(value: &Value, simple_key: bool) -> (String, Style) {
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
            } else if must_quote(s) {
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
    if style == Style::Plain && (!analysis.block_plain_allowed || (text.is_empty() && simple_key)) {
        style = Style::SingleQuoted;
    }
    if style == Style::SingleQuoted && !analysis.single_quoted_allowed {
        style = Style::DoubleQuoted;
    }
    if style == Style::Literal && (!analysis.block_allowed || simple_key) {
        style = Style::DoubleQuoted;
    }
    (text, style)
}

/// The four scalar styles go-yaml v2 writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
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
pub(super) fn is_printable(c: char) -> bool {
    let c = c as u32;
    c == 0x0A
        || (0x20..=0x7E).contains(&c)
        || (0xA0..=0xD7FF).contains(&c)
        || ((0xE000..=0xFFFD).contains(&c) && c != 0xFEFF)
}

/// libyaml's `is_break`: the line break characters.
pub(super) fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `is_blank`: space or tab.
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// libyaml's `yaml_emitter_analyze_scalar`: which styles can write `value` faithfully.
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
        let (space, line_break) = (c == ' ', is_break(c));
        let (first, last) = (i == 0, i + 1 == chars.len());
        if space {
            leading_space |= first;
            trailing_space |= last;
            break_space |= previous_break;
        }
        if line_break {
            line_breaks = true;
            leading_break |= first;
            trailing_break |= last;
            space_break |= previous_space;
        }
        previous_space = space;
        previous_break = line_break;
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

#[cfg(test)]
mod tests {
    use crate::yaml::testing::{map, s};
    use crate::yaml::{Value, to_yaml};

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
