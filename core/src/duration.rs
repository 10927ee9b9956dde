//! Durations with Go's syntax and formatting: flux parses `--interval`/`--timeout` with
//! `time.ParseDuration` and writes them back with `Duration.String()` (`1m0s`, `10m0s`, `1h0m0s`),
//! and those exact strings end up in `gotk-sync.yaml`.

use std::fmt;
use std::str::FromStr;

use crate::go_quote::strconv_quote;

/// A signed duration in nanoseconds, as Go's `time.Duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(i64);

/// Why a string is not a Go duration; the text is what Go's `time` package says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationParseError(pub String);

impl fmt::Display for DurationParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1_000 * NANOSECOND;
const MILLISECOND: u64 = 1_000 * MICROSECOND;
const SECOND: u64 = 1_000 * MILLISECOND;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => NANOSECOND,
        "us" | "µs" | "μs" => MICROSECOND,
        "ms" => MILLISECOND,
        "s" => SECOND,
        "m" => MINUTE,
        "h" => HOUR,
        _ => return None,
    })
}

impl GoDuration {
    /// A duration of `nanos` nanoseconds.
    pub const fn from_nanos(nanos: i64) -> Self {
        Self(nanos)
    }

    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs * SECOND as i64)
    }

    /// The duration in nanoseconds (negative for negative durations).
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// The duration as a `std::time::Duration`; `None` when negative.
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.0)
            .ok()
            .map(std::time::Duration::from_nanos)
    }

    /// Parses like Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?unit)+`, or a bare `0`.
    pub fn parse(input: &str) -> Result<Self, DurationParseError> {
        let invalid =
            || DurationParseError(format!("time: invalid duration {}", strconv_quote(input)));
        let mut s = input;
        let mut negative = false;
        if let Some(rest) = s.strip_prefix('-') {
            negative = true;
            s = rest;
        } else if let Some(rest) = s.strip_prefix('+') {
            s = rest;
        }
        if s == "0" {
            return Ok(Self(0));
        }
        if s.is_empty() {
            return Err(invalid());
        }
        let mut total: u64 = 0;
        while !s.is_empty() {
            // The integer part.
            let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
            let (int_digits, rest) = s.split_at(int_len);
            s = rest;
            let mut whole: u64 = 0;
            for d in int_digits.bytes() {
                whole = whole
                    .checked_mul(10)
                    .and_then(|w| w.checked_add(u64::from(d - b'0')))
                    .ok_or_else(invalid)?;
            }
            // The fraction, kept as digits scaled later.
            let mut frac: u64 = 0;
            let mut frac_scale: f64 = 1.0;
            let mut had_fraction = false;
            if let Some(rest) = s.strip_prefix('.') {
                s = rest;
                let frac_len = s.bytes().take_while(u8::is_ascii_digit).count();
                let (frac_digits, rest) = s.split_at(frac_len);
                s = rest;
                had_fraction = frac_len > 0;
                let mut overflow = false;
                for d in frac_digits.bytes() {
                    if overflow {
                        continue;
                    }
                    match frac
                        .checked_mul(10)
                        .and_then(|f| f.checked_add(u64::from(d - b'0')))
                    {
                        Some(f) if f < (1 << 62) => {
                            frac = f;
                            frac_scale *= 10.0;
                        }
                        _ => overflow = true,
                    }
                }
            }
            if int_len == 0 && !had_fraction {
                return Err(invalid());
            }
            let unit_len = s
                .char_indices()
                .find(|(_, c)| *c == '.' || c.is_ascii_digit())
                .map_or(s.len(), |(i, _)| i);
            let (unit, rest) = s.split_at(unit_len);
            s = rest;
            if unit.is_empty() {
                return Err(DurationParseError(format!(
                    "time: missing unit in duration {}",
                    strconv_quote(input)
                )));
            }
            let scale = unit_nanos(unit).ok_or_else(|| {
                DurationParseError(format!(
                    "time: unknown unit {} in duration {}",
                    strconv_quote(unit),
                    strconv_quote(input)
                ))
            })?;
            let mut value = whole.checked_mul(scale).ok_or_else(invalid)?;
            if frac > 0 {
                value = value
                    .checked_add((frac as f64 * (scale as f64 / frac_scale)) as u64)
                    .ok_or_else(invalid)?;
            }
            total = total.checked_add(value).ok_or_else(invalid)?;
            if total > i64::MAX as u64 + u64::from(negative) {
                return Err(invalid());
            }
        }
        let nanos = if negative {
            (total as i128).wrapping_neg() as i64
        } else {
            total as i64
        };
        Ok(Self(nanos))
    }
}

impl FromStr for GoDuration {
    type Err = DurationParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Formats like Go's `Duration.String()`: `0s`, `1.5µs`, `500ms`, `30s`, `1m0s`, `1h0m0s`.
impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let negative = self.0 < 0;
        let mut u = self.0.unsigned_abs();
        let sign = if negative { "-" } else { "" };
        if u < SECOND {
            if u == 0 {
                return f.write_str("0s");
            }
            let (scale, unit) = if u < MICROSECOND {
                (NANOSECOND, "ns")
            } else if u < MILLISECOND {
                (MICROSECOND, "µs")
            } else {
                (MILLISECOND, "ms")
            };
            return write!(f, "{sign}{}{unit}", fixed(u, scale));
        }
        let mut out = String::new();
        let secs_and_frac = fixed(u % MINUTE, SECOND);
        u /= MINUTE;
        if u > 0 {
            let minutes = u % 60;
            u /= 60;
            if u > 0 {
                out.push_str(&format!("{u}h"));
            }
            out.push_str(&format!("{minutes}m"));
        }
        out.push_str(&format!("{secs_and_frac}s"));
        write!(f, "{sign}{out}")
    }
}

/// `value / scale` with the fractional digits Go prints (no trailing zeros).
fn fixed(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let frac = value % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(input: &str) -> String {
        GoDuration::parse(input).unwrap().to_string()
    }

    #[test]
    fn formats_like_go() {
        // Expected strings are Go's documented `Duration.String()` outputs.
        assert_eq!(roundtrip("1m"), "1m0s");
        assert_eq!(roundtrip("10m"), "10m0s");
        assert_eq!(roundtrip("60m"), "1h0m0s");
        assert_eq!(roundtrip("90s"), "1m30s");
        assert_eq!(roundtrip("30s"), "30s");
        assert_eq!(roundtrip("1.5s"), "1.5s");
        assert_eq!(roundtrip("1h2m3.5s"), "1h2m3.5s");
        assert_eq!(roundtrip("500ms"), "500ms");
        assert_eq!(roundtrip("1500us"), "1.5ms");
        assert_eq!(roundtrip("2µs"), "2µs");
        assert_eq!(roundtrip("7ns"), "7ns");
        assert_eq!(roundtrip("0"), "0s");
        assert_eq!(roundtrip("-1m"), "-1m0s");
        assert_eq!(roundtrip("1.5h"), "1h30m0s");
        assert_eq!(roundtrip(".5m"), "30s");
        assert_eq!(
            roundtrip("2562047h47m16.854775807s"),
            "2562047h47m16.854775807s"
        );
    }

    #[test]
    fn rejects_like_go() {
        let err = |s: &str| GoDuration::parse(s).unwrap_err().0;
        assert_eq!(err(""), "time: invalid duration \"\"");
        assert_eq!(err("abc"), "time: invalid duration \"abc\"");
        assert_eq!(err("1"), "time: missing unit in duration \"1\"");
        assert_eq!(err("1d"), "time: unknown unit \"d\" in duration \"1d\"");
        assert_eq!(err("."), "time: invalid duration \".\"");
        assert_eq!(err("-"), "time: invalid duration \"-\"");
        assert_eq!(err("9999999999h"), "time: invalid duration \"9999999999h\"");
    }

    #[test]
    fn std_conversion_refuses_negative() {
        assert_eq!(GoDuration::parse("-1s").unwrap().to_std(), None);
        assert_eq!(
            GoDuration::parse("1m").unwrap().to_std(),
            Some(std::time::Duration::from_secs(60))
        );
    }
}
