//! go-yaml's resolver: which type a plain (unquoted) scalar has. The reader types yaml-rust2's
//! plain scalars with the number syntax (Go's `strconv.ParseInt(s, 0, 64)` and the YAML float
//! pattern both go-yaml versions use); the writer asks [`must_quote`], so a string never comes
//! back as a bool, null, number or timestamp.

/// The value Go's `strconv.ParseInt(s, 0, 64)` (or `ParseUint`) reads from `s`: optional sign,
/// then `0x`, `0o`, `0b`, a leading `0` (octal) or decimal digits. `None` if it fails.
pub(super) fn go_parse_integer(s: &str) -> Option<i128> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let prefixed = |p: &str, q: &str| digits.strip_prefix(p).or_else(|| digits.strip_prefix(q));
    let (radix, body) = if let Some(rest) = prefixed("0x", "0X") {
        (16, rest)
    } else if let Some(rest) = prefixed("0o", "0O") {
        (8, rest)
    } else if let Some(rest) = prefixed("0b", "0B") {
        (2, rest)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(body, radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    // ParseInt covers i64, ParseUint the rest of u64.
    (i128::from(i64::MIN)..=i128::from(u64::MAX))
        .contains(&value)
        .then_some(value)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
pub(super) fn is_yaml_float(s: &str) -> bool {
    let mut scan = Scan::new(s);
    scan.eat(is_sign);
    if scan.eat_byte(b'.') {
        if scan.digits().is_empty() {
            return false;
        }
    } else {
        if scan.digits().is_empty() {
            return false;
        }
        if scan.eat_byte(b'.') {
            scan.digits();
        }
    }
    if scan.eat(|b| b == b'e' || b == b'E') {
        scan.eat(is_sign);
        if scan.digits().is_empty() {
            return false;
        }
    }
    scan.done()
}

/// Does go-yaml v2 double-quote this string? Yes when unquoted it would read back as something
/// other than a string, and for YAML 1.1 base-60 floats.
pub(super) fn must_quote(s: &str) -> bool {
    resolves_to_non_string(s) || is_base60_float(s)
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
    let digit_or_underscore = |b: u8| b.is_ascii_digit() || b == b'_';
    let mut scan = Scan::new(s);
    scan.eat(is_sign);
    if !scan.eat(|b| b.is_ascii_digit()) {
        return false;
    }
    scan.take_while(digit_or_underscore, usize::MAX);
    let mut groups = 0;
    while scan.eat_byte(b':') {
        let valid = match scan.take_while(|b| b.is_ascii_digit(), 2) {
            [_] => true,
            [tens, _] => *tens <= b'5',
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
    if scan.eat_byte(b'.') {
        scan.take_while(digit_or_underscore, usize::MAX);
    }
    scan.done()
}

/// go-yaml v2 resolves `YYYY-M-D` dates and timestamps (the formats it accepts) to times.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let mut scan = Scan { bytes: b, at: 5 };
    date_then_time(&mut scan).is_some()
}

/// What follows `YYYY-` in a timestamp: `M-D`, then optionally `[Tt ]h:m:s[.fraction]` and, after
/// a `T`, a zone (`Z` or `±hh:mm`).
fn date_then_time(scan: &mut Scan) -> Option<()> {
    let month = scan.number(2)?;
    scan.expect(b'-')?;
    let day = scan.number(2)?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(())?;
    if scan.done() {
        return Some(());
    }
    let zoned = match scan.next()? {
        b'T' | b't' => true,
        b' ' => false,
        _ => return None,
    };
    let hour = scan.number(2)?;
    scan.expect(b':')?;
    let minute = scan.number(2)?;
    scan.expect(b':')?;
    let second = scan.number(2)?;
    (hour <= 23 && minute <= 59 && second <= 59).then_some(())?;
    if scan.eat_byte(b'.') && scan.digits().is_empty() {
        return None;
    }
    if !zoned || scan.eat_byte(b'Z') {
        return scan.done().then_some(());
    }
    scan.eat(is_sign).then_some(())?;
    let zone = scan.take_while(|_| true, usize::MAX);
    let digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
    (zone.len() == 5 && zone[2] == b':' && digits(&zone[..2]) && digits(&zone[3..])).then_some(())
}

fn is_sign(b: u8) -> bool {
    b == b'-' || b == b'+'
}

/// Reads a string's bytes left to right, for the patterns above.
struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn new(s: &'a str) -> Self {
        Self {
            bytes: s.as_bytes(),
            at: 0,
        }
    }

    /// Whether every byte is read.
    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// The next byte, read.
    fn next(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    /// Reads the next byte if `wanted` accepts it.
    fn eat(&mut self, wanted: impl Fn(u8) -> bool) -> bool {
        let accepted = self.bytes.get(self.at).is_some_and(|&b| wanted(b));
        if accepted {
            self.at += 1;
        }
        accepted
    }

    fn eat_byte(&mut self, byte: u8) -> bool {
        self.eat(|b| b == byte)
    }

    /// `Some` when the next byte is `byte` (then read).
    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat_byte(byte).then_some(())
    }

    /// Reads up to `max` bytes that `wanted` accepts; those bytes.
    fn take_while(&mut self, wanted: impl Fn(u8) -> bool, max: usize) -> &'a [u8] {
        let start = self.at;
        while self.at - start < max && self.eat(&wanted) {}
        &self.bytes[start..self.at]
    }

    /// Reads a run of ASCII digits (perhaps none).
    fn digits(&mut self) -> &'a [u8] {
        self.take_while(|b| b.is_ascii_digit(), usize::MAX)
    }

    /// Reads 1 to `max_len` ASCII digits as a number.
    fn number(&mut self, max_len: usize) -> Option<u32> {
        let digits = self.take_while(|b| b.is_ascii_digit(), max_len);
        (!digits.is_empty()).then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    }
}

#[cfg(test)]
mod tests {
    use crate::yaml::testing::{map, s};
    use crate::yaml::to_yaml;

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
}
