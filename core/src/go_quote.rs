//! Go's two double-quoted string forms that fluxstrap reproduces byte for byte: `strconv.Quote`
//! (in the `time` package's error messages) and `encoding/json`'s strings (in the image pull
//! secret). Both escape `"`, `\`, newline, carriage return and tab the same way; they differ, on
//! purpose, in what else they escape and how.

/// `s` in double quotes: `"`, `\`, `\n`, `\r` and `\t` backslash-escaped, and every other
/// character that `escape` has an escape for replaced by it.
fn quote_with(s: &str, escape: impl Fn(char) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => match escape(c) {
                Some(escaped) => out.push_str(&escaped),
                None => out.push(c),
            },
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.Quote` for the strings that can reach an error message: printable input is
/// quoted as is, other control characters become `\xNN`.
pub(crate) fn strconv_quote(s: &str) -> String {
    quote_with(s, |c| {
        c.is_control().then(|| format!("\\x{:02x}", c as u32))
    })
}

/// A JSON string as Go's `encoding/json` writes it: like any JSON encoder (control characters
/// as `\u00XX`), plus `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u00XX`/`\u20XX`.
pub(crate) fn json_string(s: &str) -> String {
    quote_with(s, |c| {
        let html = matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}');
        (html || (c as u32) < 0x20).then(|| format!("\\u{:04x}", c as u32))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_forms_share_the_backslash_escapes_only() {
        assert_eq!(strconv_quote("a\"b\\c\n\r\t"), r#""a\"b\\c\n\r\t""#);
        assert_eq!(json_string("a\"b\\c\n\r\t"), r#""a\"b\\c\n\r\t""#);
        assert_eq!(strconv_quote("<\u{1}\u{7f}é"), "\"<\\x01\\x7fé\"");
        assert_eq!(json_string("<\u{1}\u{7f}é"), "\"\\u003c\\u0001\u{7f}é\"");
    }
}
