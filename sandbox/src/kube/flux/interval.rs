//! `spec.interval` as source-controller reads it: a `metav1.Duration`, which is Go's
//! `time.ParseDuration` — a sequence of decimal numbers, each with an optional fraction and a
//! unit (`ns`, `us`/`µs`, `ms`, `s`, `m`, `h`), optionally signed, or a bare `0`.

use std::time::Duration;

use serde_json::Value;

use super::super::text;

/// The requeue interval when `spec.interval` is missing or not a duration (flux's default for
/// a GitRepository is one minute).
const FALLBACK: Duration = Duration::from_secs(60);

/// How often an object asks to be reconciled.
pub(super) fn interval_of(object: &Value) -> Duration {
    parse_go_duration(text(object, "/spec/interval")).unwrap_or(FALLBACK)
}

/// How long one clone of a GitRepository may take: `spec.timeout`, source-controller's default
/// of one minute when it is missing or not a duration.
pub(super) fn timeout_of(object: &Value) -> Duration {
    parse_go_duration(text(object, "/spec/timeout")).unwrap_or(FALLBACK)
}

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        // U+00B5 (micro sign) and U+03BC (Greek mu), as Go accepts both.
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60 * 1_000_000_000,
        "h" => 3600 * 1_000_000_000,
        _ => return None,
    })
}

/// Go's `time.ParseDuration`, as a non-negative [`Duration`]; `None` for text Go refuses, for a
/// negative duration, and beyond Go's limit (about 290 years).
pub(super) fn parse_go_duration(text: &str) -> Option<Duration> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let whole_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let whole = &rest[..whole_len];
        rest = &rest[whole_len..];
        let mut fraction = "";
        if let Some(after_dot) = rest.strip_prefix('.') {
            let fraction_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            fraction = &after_dot[..fraction_len];
            rest = &after_dot[fraction_len..];
        }
        if whole.is_empty() && fraction.is_empty() {
            return None;
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = unit_nanos(&rest[..unit_len])?;
        rest = &rest[unit_len..];
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        // Go keeps only as many fraction digits as fit; nanosecond precision needs at most 19.
        let fraction = &fraction[..fraction.len().min(19)];
        let fraction_nanos = if fraction.is_empty() {
            0
        } else {
            fraction.parse::<u128>().ok()? * scale / 10u128.pow(fraction.len() as u32)
        };
        total = total.checked_add(whole.checked_mul(scale)?.checked_add(fraction_nanos)?)?;
        if total > i64::MAX as u128 {
            return None;
        }
    }
    if negative && total > 0 {
        return None;
    }
    Some(Duration::from_nanos(total as u64))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn go_duration_syntax() {
        let secs = |s: u64| Some(Duration::from_secs(s));
        // flux's own spellings (gotk-sync.yaml) and the examples of Go's documentation
        // (`"300ms"`, `"-1.5h"`, `"2h45m"`).
        assert_eq!(parse_go_duration("1m0s"), secs(60));
        assert_eq!(parse_go_duration("10m0s"), secs(600));
        assert_eq!(parse_go_duration("2h45m"), secs(9900));
        assert_eq!(parse_go_duration("300ms"), Some(Duration::from_millis(300)));
        assert_eq!(parse_go_duration("1.5h"), secs(5400));
        assert_eq!(parse_go_duration(".5m"), secs(30));
        assert_eq!(
            parse_go_duration("1h2m3.5s"),
            Some(Duration::from_millis(3_723_500))
        );
        assert_eq!(
            parse_go_duration("1500us"),
            Some(Duration::from_micros(1500))
        );
        assert_eq!(parse_go_duration("2µs"), Some(Duration::from_micros(2)));
        assert_eq!(parse_go_duration("7ns"), Some(Duration::from_nanos(7)));
        assert_eq!(parse_go_duration("+30s"), secs(30));
        assert_eq!(parse_go_duration("0"), secs(0));
        // The longest duration Go holds, and one past it.
        assert_eq!(
            parse_go_duration("2562047h47m16.854775807s"),
            Some(Duration::from_nanos(i64::MAX as u64))
        );
        assert_eq!(parse_go_duration("2562047h47m16.854775808s"), None);
    }

    #[test]
    fn what_go_refuses_is_not_an_interval() {
        // Go: missing unit, unknown unit `d`, no digits, a lone sign; negative intervals
        // cannot requeue.
        for text in [
            "",
            "1",
            "1d",
            ".",
            "-",
            "abc",
            "1m-",
            "-1.5h",
            "9999999999h",
        ] {
            assert_eq!(parse_go_duration(text), None, "{text:?}");
        }
    }

    #[test]
    fn objects_without_a_readable_interval_fall_back_to_a_minute() {
        let object = |interval: Value| json!({"spec": {"interval": interval}});
        assert_eq!(interval_of(&object(json!("5s"))), Duration::from_secs(5));
        assert_eq!(interval_of(&object(json!("soon"))), FALLBACK);
        assert_eq!(interval_of(&json!({})), FALLBACK);
    }
}
