//! The comparators of policy conditions (privacyIDEA `lib/utils/compare.py`)
//! applied to JSON-typed left values with Python semantics.

use crate::condition::Comparator;
use crate::pyrepr::parse_int;
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use regex::Regex;
use serde_json::Value;
use thiserror::Error;

/// A comparison that cannot be carried out (privacyIDEA: `CompareError` or a
/// Python exception; both become "Invalid comparison …" at match time).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct CompareError(pub String);

fn cerr<T>(msg: impl Into<String>) -> Result<T, CompareError> {
    Err(CompareError(msg.into()))
}

/// Python's `re` full-pattern anchoring helper shared with the engine: builds
/// a Rust pattern equivalent to Python's `"^" + body + "$"` where `$` also
/// matches before a final newline. A `body` ending in an odd number of
/// backslashes escapes the final `$` in Python; that is reproduced.
pub fn python_anchor_end(body: &str, multiline: bool) -> String {
    let trailing = body.chars().rev().take_while(|c| *c == '\\').count();
    if trailing % 2 == 1 || multiline {
        format!("{body}$")
    } else {
        format!("{body}(?:\n?\\z)")
    }
}

/// A comparator with its right-hand side pre-processed once.
#[derive(Debug, Clone)]
pub struct CompiledComparison {
    comparator: Comparator,
    right: String,
    regex: Option<Result<Regex, String>>,
}

impl CompiledComparison {
    /// Prepare `left <comparator> right`.
    pub fn new(comparator: Comparator, right: &str) -> CompiledComparison {
        let regex = match comparator {
            Comparator::Matches | Comparator::NotMatches => Some(build_matches_regex(right)),
            _ => None,
        };
        CompiledComparison {
            comparator,
            right: right.to_string(),
            regex,
        }
    }

    /// The comparator.
    pub fn comparator(&self) -> Comparator {
        self.comparator
    }

    /// Evaluate against `left`; `now` is used by `date_within_last` (which
    /// fails without it).
    pub fn eval(&self, left: &Value, now: Option<DateTime<Utc>>) -> Result<bool, CompareError> {
        use Comparator::*;
        let r = self.right.as_str();
        Ok(match self.comparator {
            Equals => equals(left, r),
            NotEquals => !equals(left, r),
            Contains => contains(left, r)?,
            NotContains => !contains(left, r)?,
            Matches => self.matches(left)?,
            NotMatches => !self.matches(left)?,
            In => in_list(left, r)?,
            NotIn => !in_list(left, r)?,
            Smaller => int_left(left)? < int_right(r)?,
            Bigger => int_left(left)? > int_right(r)?,
            DateBefore => date_cmp(left, r)? == std::cmp::Ordering::Less,
            DateAfter => date_cmp(left, r)? == std::cmp::Ordering::Greater,
            DateWithinLast => within_last(left, r, now)?,
            DateNotWithinLast => !within_last(left, r, now)?,
            StringContains => string_contains(left, r)?,
            StringNotContains => !string_contains(left, r)?,
        })
    }

    fn matches(&self, left: &Value) -> Result<bool, CompareError> {
        let Value::String(l) = left else {
            return cerr("expected string or bytes-like object");
        };
        match &self.regex {
            Some(Ok(re)) => Ok(re.is_match(l)),
            Some(Err(e)) => cerr(format!("Error during matching: {e}")),
            None => cerr("no regular expression"),
        }
    }
}

/// One-shot comparison (compiles the right side every time).
pub fn compare(
    left: &Value,
    comparator: Comparator,
    right: &str,
    now: DateTime<Utc>,
) -> Result<bool, CompareError> {
    CompiledComparison::new(comparator, right).eval(left, Some(now))
}

/// `re.match` of `^right$`, keeping a leading inline flag group in front.
fn build_matches_regex(right: &str) -> Result<Regex, String> {
    let flag_re = Regex::new(r"^(\(\?[a-zA-Z]+\))(.+)\n?\z").map_err(|e| e.to_string())?;
    let (flags, body) = match flag_re.captures(right) {
        Some(c) => (
            c.get(1).map_or("", |m| m.as_str()).to_string(),
            c.get(2).map_or("", |m| m.as_str()).to_string(),
        ),
        None => (String::new(), right.to_string()),
    };
    let multiline = flags.contains('m');
    // re.match only tries position 0: anchor the whole alternation there.
    let pattern = format!("{flags}\\A(?:^{})", python_anchor_end(&body, multiline));
    Regex::new(&pattern).map_err(|e| e.to_string())
}

fn equals(left: &Value, right: &str) -> bool {
    matches!(left, Value::String(s) if s == right)
}

fn contains(left: &Value, right: &str) -> Result<bool, CompareError> {
    match left {
        Value::Array(items) => Ok(items.iter().any(|v| equals(v, right))),
        _ => cerr("Left value must be a list"),
    }
}

fn in_list(left: &Value, right: &str) -> Result<bool, CompareError> {
    let items = parse_comma_separated(right)?;
    Ok(match left {
        Value::String(l) => items.iter().any(|i| i == l),
        _ => false,
    })
}

/// Python `csv.reader([s], strict=True, skipinitialspace=True,
/// doublequote=False, escapechar="\\")` for one line.
pub fn parse_comma_separated(input: &str) -> Result<Vec<String>, CompareError> {
    #[derive(PartialEq)]
    enum St {
        Start,
        Field,
        Quoted,
        EscField,
        EscQuoted,
        AfterNewline,
    }
    let mut out = Vec::new();
    if input.is_empty() {
        return Ok(out);
    }
    let mut field = String::new();
    let mut st = St::Start;
    for c in input.chars() {
        match st {
            St::AfterNewline => {
                return cerr(format!("Malformed comma-separated value: {input:?}"));
            }
            St::Start => match c {
                '"' => st = St::Quoted,
                '\\' => st = St::EscField,
                ' ' => {}
                ',' => out.push(std::mem::take(&mut field)),
                '\n' | '\r' => {
                    out.push(std::mem::take(&mut field));
                    st = St::AfterNewline;
                }
                c => {
                    field.push(c);
                    st = St::Field;
                }
            },
            St::Field => match c {
                '\\' => st = St::EscField,
                ',' => {
                    out.push(std::mem::take(&mut field));
                    st = St::Start;
                }
                '\n' | '\r' => {
                    out.push(std::mem::take(&mut field));
                    st = St::AfterNewline;
                }
                c => field.push(c),
            },
            St::EscField => {
                field.push(c);
                st = St::Field;
            }
            St::Quoted => match c {
                '\\' => st = St::EscQuoted,
                '"' => st = St::Field,
                c => field.push(c),
            },
            St::EscQuoted => {
                field.push(c);
                st = St::Quoted;
            }
        }
    }
    match st {
        St::Quoted | St::EscQuoted | St::EscField => {
            cerr(format!("Malformed comma-separated value: {input:?}"))
        }
        St::AfterNewline => Ok(out),
        St::Start | St::Field => {
            out.push(field);
            Ok(out)
        }
    }
}

/// `int(left or 0)`.
fn int_left(left: &Value) -> Result<i128, CompareError> {
    match left {
        Value::Null => Ok(0),
        Value::Bool(b) => Ok(i128::from(*b)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(i128::from(i))
            } else if let Some(u) = n.as_u64() {
                Ok(i128::from(u))
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.is_finite() {
                    Ok(f.trunc() as i128)
                } else {
                    cerr("cannot convert float to integer")
                }
            }
        }
        Value::String(s) if s.is_empty() => Ok(0),
        Value::String(s) => parse_int(s)
            .map(i128::from)
            .ok_or_else(|| CompareError(format!("Cannot convert value '{s}' to integer."))),
        Value::Array(a) if a.is_empty() => Ok(0),
        Value::Object(o) if o.is_empty() => Ok(0),
        _ => cerr("int() argument must be a string or a number"),
    }
}

fn int_right(right: &str) -> Result<i128, CompareError> {
    parse_int(right)
        .map(i128::from)
        .ok_or_else(|| CompareError(format!("Cannot convert value '{right}' to integer.")))
}

/// A parsed ISO 8601 date-time: naive or with offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsoDateTime {
    /// Without offset.
    Naive(NaiveDateTime),
    /// With offset.
    Aware(DateTime<FixedOffset>),
}

fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    if s.len() < n || !s.as_bytes()[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

/// Parse a date-time like dateutil's `isoparse` (common forms: `YYYY-MM-DD`,
/// `YYYYMMDD`, optional separator + `HH[:MM[:SS[.f]]]` or `HHMM[SS]`,
/// optional `Z`/`±HH[:MM]`). Strings shorter than 10 characters are rejected.
pub fn parse_iso(s: &str) -> Result<IsoDateTime, CompareError> {
    let bad = || CompareError(format!("Invalid date format: {s:?}. Expected ISO format."));
    if s.chars().count() < 10 {
        return Err(bad());
    }
    let (y, rest) = digits(s, 4).ok_or_else(bad)?;
    let (m, d, rest) = if let Some(r) = rest.strip_prefix('-') {
        let (m, r) = digits(r, 2).ok_or_else(bad)?;
        let r = r.strip_prefix('-').ok_or_else(bad)?;
        let (d, r) = digits(r, 2).ok_or_else(bad)?;
        (m, d, r)
    } else {
        let (m, r) = digits(rest, 2).ok_or_else(bad)?;
        let (d, r) = digits(r, 2).ok_or_else(bad)?;
        (m, d, r)
    };
    let date = NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(bad)?;
    let mut time = NaiveTime::MIN;
    let mut rest = rest;
    if !rest.is_empty() {
        let mut chars = rest.chars();
        chars.next();
        let r = chars.as_str();
        let (h, r) = digits(r, 2).ok_or_else(bad)?;
        let (mut mi, mut sec, mut nanos, mut r) = (0, 0, 0u32, r);
        let extended = r.starts_with(':');
        if let Some(x) = r
            .strip_prefix(':')
            .or(if extended { None } else { Some(r) })
        {
            if let Some((v, x2)) = digits(x, 2) {
                mi = v;
                r = x2;
                let x = if extended {
                    r.strip_prefix(':')
                } else {
                    Some(r)
                };
                if let Some((v, x3)) = x.and_then(|x| digits(x, 2)) {
                    sec = v;
                    r = x3;
                    if let Some(f) = r.strip_prefix('.').or_else(|| r.strip_prefix(',')) {
                        let n = f.bytes().take_while(u8::is_ascii_digit).count();
                        if n == 0 {
                            return Err(bad());
                        }
                        let frac = &f[..n.min(9)];
                        let scale = 10u32.pow(9 - frac.len() as u32);
                        nanos = frac.parse::<u32>().map_err(|_| bad())? * scale;
                        r = &f[n..];
                    }
                } else if extended && r.starts_with(':') {
                    return Err(bad());
                }
            } else if extended {
                return Err(bad());
            }
        }
        time = NaiveTime::from_hms_nano_opt(h, mi, sec, nanos).ok_or_else(bad)?;
        rest = r;
    }
    let naive = date.and_time(time);
    if rest.is_empty() {
        return Ok(IsoDateTime::Naive(naive));
    }
    let offset_secs = if rest == "Z" || rest == "z" {
        0
    } else {
        let sign = match rest.as_bytes()[0] {
            b'+' => 1,
            b'-' => -1,
            _ => return Err(bad()),
        };
        let r = &rest[1..];
        let (oh, r) = digits(r, 2).ok_or_else(bad)?;
        let r = r.strip_prefix(':').unwrap_or(r);
        let om = if r.is_empty() {
            0
        } else {
            let (om, r) = digits(r, 2).ok_or_else(bad)?;
            if !r.is_empty() {
                return Err(bad());
            }
            om
        };
        sign * (oh as i32 * 3600 + om as i32 * 60)
    };
    let off = FixedOffset::east_opt(offset_secs).ok_or_else(bad)?;
    let dt = off.from_local_datetime(&naive).single().ok_or_else(bad)?;
    Ok(IsoDateTime::Aware(dt))
}

fn date_of(v: &Value) -> Result<IsoDateTime, CompareError> {
    match v {
        Value::String(s) => parse_iso(s),
        _ => cerr("Expected a datetime object or a string in ISO format"),
    }
}

fn date_cmp(left: &Value, right: &str) -> Result<std::cmp::Ordering, CompareError> {
    let l = date_of(left)?;
    let r = parse_iso(right)?;
    match (l, r) {
        (IsoDateTime::Naive(a), IsoDateTime::Naive(b)) => Ok(a.cmp(&b)),
        (IsoDateTime::Aware(a), IsoDateTime::Aware(b)) => Ok(a.cmp(&b)),
        _ => cerr("Cannot compare timezone-naive and timezone-aware datetimes."),
    }
}

/// privacyIDEA's `parse_timedelta`: `[+-]<int><s|m|h|d|y>` (y = 365 days).
pub fn parse_timedelta(s: &str) -> Result<Duration, CompareError> {
    let re = Regex::new(r"^\s*([+-]?)\s*(\d+)\s*([smhdy])\s*\n?\z")
        .map_err(|e| CompareError(e.to_string()))?;
    let c = re
        .captures(s)
        .ok_or_else(|| CompareError(format!("Unsupported timedelta {s:?}")))?;
    let count: i64 = c[2]
        .parse()
        .map_err(|_| CompareError(format!("Unsupported timedelta {s:?}")))?;
    let count = if &c[1] == "-" { -count } else { count };
    let secs = match &c[3] {
        "s" => Some(count),
        "m" => count.checked_mul(60),
        "h" => count.checked_mul(3600),
        "d" => count.checked_mul(86400),
        _ => count.checked_mul(365 * 86400),
    };
    secs.and_then(Duration::try_seconds)
        .ok_or_else(|| CompareError("timedelta out of range".into()))
}

fn within_last(
    left: &Value,
    right: &str,
    now: Option<DateTime<Utc>>,
) -> Result<bool, CompareError> {
    let now = now.ok_or_else(|| CompareError("no current time given".into()))?;
    let l = match date_of(left)? {
        IsoDateTime::Naive(n) => Utc.from_utc_datetime(&n),
        IsoDateTime::Aware(a) => a.with_timezone(&Utc),
    };
    let delta = parse_timedelta(right)?;
    Ok(now.signed_duration_since(l) < delta)
}

fn string_contains(left: &Value, right: &str) -> Result<bool, CompareError> {
    match left {
        Value::String(l) => Ok(l.to_lowercase().contains(&right.to_lowercase())),
        _ => cerr("Expected a string"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use Comparator::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 10, 12, 0, 0).unwrap()
    }

    fn c(l: Value, cmp: Comparator, r: &str) -> Result<bool, CompareError> {
        compare(&l, cmp, r, now())
    }

    #[test]
    fn case_140_equals() {
        assert!(c(json!("hello"), Equals, "hello").unwrap());
        assert!(!c(json!("hello"), Equals, " hello").unwrap());
        assert!(!c(json!(1), Equals, "1").unwrap());
        assert!(c(json!(1), NotEquals, "1").unwrap());
        assert!(!c(json!(true), Equals, "True").unwrap());
    }

    #[test]
    fn case_141_contains() {
        assert!(c(json!(["hello", "world"]), Contains, "hello").unwrap());
        assert!(!c(json!([1, "world"]), Contains, "1").unwrap());
        assert!(c(json!("hello world"), Contains, "hello").is_err());
        assert!(c(json!("hello world"), NotContains, "hello").is_err());
        assert!(c(json!(["a"]), NotContains, "b").unwrap());
    }

    #[test]
    fn case_142_matches() {
        assert!(c(json!("hello world"), Matches, ".*world").unwrap());
        assert!(!c(json!("hello world"), Matches, "world").unwrap());
        assert!(c(
            json!("hElLo WoRLd"),
            Matches,
            "(?i)hello world( and stuff)?"
        )
        .unwrap());
        assert!(c(json!("x"), Matches, "(").is_err());
        assert!(c(json!(5), Matches, "5").is_err());
        assert!(c(json!("+4912345"), Matches, r"\+49.*").unwrap());
        assert!(!c(json!("+4912345"), NotMatches, r"\+49.*").unwrap());
        // Python `$` accepts a final newline; alternation is anchored at 0 only.
        assert!(c(json!("abc\n"), Matches, "abc").unwrap());
        assert!(c(json!("axyz"), Matches, "a|b").unwrap());
        assert!(!c(json!("xb"), Matches, "a|b").unwrap());
    }

    #[test]
    fn case_143_in() {
        assert!(c(json!("world"), In, "hello, world, this is a list").unwrap());
        assert!(!c(json!("hello"), In, "hello world").unwrap());
        assert!(c(json!("hello,world"), In, "\"hello,world\"").unwrap());
        assert!(!c(json!("hello,world"), In, "hello,world").unwrap());
        assert!(!c(json!("hello"), NotIn, " hello, world").unwrap());
        assert!(c(json!("a\"b"), In, r#""a\"b", c"#).unwrap());
        assert!(c(json!("x"), In, "\"unterminated").is_err());
        assert!(!c(json!(1), In, "1").unwrap());
    }

    #[test]
    fn case_144_smaller_bigger() {
        assert!(c(json!("1"), Smaller, "2").unwrap());
        assert!(c(json!(7), Bigger, "1").unwrap());
        assert!(!c(json!("2"), Smaller, "1").unwrap());
        assert!(!c(json!(2), Bigger, "2").unwrap());
        for (l, r) in [("1.0", "2"), ("1", "2.1"), ("0.5", "1")] {
            assert!(c(json!(l), Smaller, r).is_err(), "{l} {r}");
        }
        assert!(c(json!(""), Smaller, "1").unwrap());
        assert!(c(json!(null), Smaller, "1").unwrap());
        assert!(c(json!("invalid_count"), Bigger, "3").is_err());
        assert!(c(json!("3"), Bigger, "3.5").is_err());
        assert!(c(json!([1]), Bigger, "0").is_err());
    }

    #[test]
    fn case_145_string_contains() {
        assert!(c(json!("hello world"), StringContains, "Hello").unwrap());
        assert!(!c(json!("hello world"), StringContains, "hello world!").unwrap());
        assert!(c(json!(42), StringContains, "4").is_err());
        assert!(!c(json!("hello world"), StringNotContains, "WoRlD").unwrap());
    }

    #[test]
    fn dates() {
        assert!(c(json!("2024-01-01"), DateBefore, "2024-01-02").unwrap());
        assert!(c(
            json!("2024-01-02T10:00:00+01:00"),
            DateAfter,
            "2024-01-02T08:59:59Z"
        )
        .unwrap());
        assert!(c(
            json!("2024-01-02T10:00:00+01:00"),
            DateAfter,
            "2024-01-02T08:59:59"
        )
        .is_err());
        assert!(c(json!("2024-1-2"), DateBefore, "2024-01-02").is_err());
        assert!(c(json!(5), DateBefore, "2024-01-02").is_err());
        assert!(c(json!("20240101T1000"), DateBefore, "2024-01-01 10:01").unwrap());
        assert!(c(json!("2025-01-09T12:00:01Z"), DateWithinLast, "1d").unwrap());
        assert!(!c(json!("2025-01-09T11:59:59"), DateWithinLast, "1d").unwrap());
        assert!(c(json!("2025-01-09T11:59:59"), DateNotWithinLast, "1d").unwrap());
        assert!(c(json!("2025-01-09T11:59:59"), DateWithinLast, "1w").is_err());
        assert!(c(json!("2024-02-10"), DateWithinLast, " + 1 y ").unwrap());
    }
}
