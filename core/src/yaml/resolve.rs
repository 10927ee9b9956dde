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
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
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
