//! Python-compatible textual representations.
//!
//! privacyIDEA builds several user-visible strings with Python's `str()` and
//! `repr()` (error messages listing values, action values given as JSON, the
//! type names in validation errors). These helpers reproduce them for JSON
//! values so our messages are byte-identical.

use serde_json::Value;

/// Python `repr()` of a string: single quotes unless the text contains a
/// single quote and no double quote, with Python's escapes.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python `repr()` of a list of strings, e.g. `['a', 'b']`.
pub fn repr_str_list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| repr_str(s.as_ref())).collect();
    format!("[{}]", parts.join(", "))
}

/// Python `repr()` of a float as produced for a JSON number.
pub(crate) fn repr_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        let s = format!("{f:e}");
        if let Some((mant, exp)) = s.split_once('e') {
            let exp: i32 = exp.parse().unwrap_or(0);
            let sign = if exp < 0 { '-' } else { '+' };
            return format!("{mant}e{sign}{:02}", exp.abs());
        }
        s
    } else {
        format!("{f:?}")
    }
}

fn repr_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        repr_float(n.as_f64().unwrap_or(0.0))
    }
}

/// Python's `json.dumps(v, sort_keys=True)` with its defaults: separators
/// `", "` and `": "`, `ensure_ascii=True` (everything outside printable
/// ASCII as `\uXXXX`, astral characters as surrogate pairs), floats as
/// `repr()`. privacyIDEA signs exactly this text (response signatures).
/// Keys sort by code point, which is the byte order of `serde_json`'s map.
pub fn py_json_dumps(v: &Value) -> String {
    let mut out = String::new();
    dumps_into(v, &mut out);
    out
}

fn dumps_into(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&repr_number(n)),
        Value::String(s) => dumps_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dumps_into(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dumps_str(k, out);
                out.push_str(": ");
                dumps_into(item, out);
            }
            out.push('}');
        }
    }
}

fn dumps_str(s: &str, out: &mut String) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
}

/// Python truthiness of a JSON value (`bool(v)` after `json.loads`): `null`,
/// `false`, `0`, `""`, `[]` and `{}` are false.
pub fn py_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python `repr()` of a JSON value as Python would hold it after `json.loads`.
pub fn repr_value(v: &Value) -> String {
    match v {
        Value::Null => "None".to_string(),
        Value::Bool(true) => "True".to_string(),
        Value::Bool(false) => "False".to_string(),
        Value::Number(n) => repr_number(n),
        Value::String(s) => repr_str(s),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(repr_value).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(o) => {
            let parts: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{}: {}", repr_str(k), repr_value(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// Python `str()` of a JSON value (strings verbatim, everything else `repr`).
pub fn str_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => repr_value(other),
    }
}

/// Python's `type(x)` rendering for a JSON value, e.g. `<class 'list'>`.
pub fn type_repr(v: &Value) -> &'static str {
    match v {
        Value::Null => "<class 'NoneType'>",
        Value::Bool(_) => "<class 'bool'>",
        Value::Number(n) if n.is_f64() => "<class 'float'>",
        Value::Number(_) => "<class 'int'>",
        Value::String(_) => "<class 'str'>",
        Value::Array(_) => "<class 'list'>",
        Value::Object(_) => "<class 'dict'>",
    }
}

/// Python `str.capitalize()`: first character upper-cased, the rest lower-cased.
pub fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

/// Largest value of privacyIDEA's `Integer` columns (32-bit on PostgreSQL
/// and MySQL): priorities and other integers written to the database must
/// fit, on every backend, so a database can move between backends.
pub const DB_INT_MAX: i64 = i32::MAX as i64;

/// Smallest value of privacyIDEA's `Integer` columns.
pub const DB_INT_MIN: i64 = i32::MIN as i64;

/// Whether `i` fits privacyIDEA's `Integer` columns.
pub fn fits_db_int(i: i64) -> bool {
    (DB_INT_MIN..=DB_INT_MAX).contains(&i)
}

/// Python `int(str)` parsing: surrounding whitespace, optional sign, ASCII
/// digits with single underscores between digits. `None` where Python raises.
pub fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut value: i64 = 0;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(10)? as i64;
        value = value.checked_mul(10)?.checked_add(d)?;
    }
    Some(if neg { -value } else { value })
}

/// Python's `x in [1, "1", True, "True", "true", "TRUE"]` (`is_true`).
pub fn is_true(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() == Some(1.0),
        Value::String(s) => matches!(s.as_str(), "1" | "True" | "true" | "TRUE"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reprs() {
        assert_eq!(repr_str("a"), "'a'");
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("a'\""), "'a\\'\"'");
        assert_eq!(repr_value(&json!(["hotp"])), "['hotp']");
        assert_eq!(repr_value(&json!(false)), "False");
        assert_eq!(repr_value(&json!(1.0)), "1.0");
        assert_eq!(repr_value(&json!(1e20)), "1e+20");
        assert_eq!(repr_value(&json!(1.5e-7)), "1.5e-07");
        assert_eq!(repr_value(&json!({"a": [1, null]})), "{'a': [1, None]}");
        assert_eq!(capitalize("privacyIDEA Nodes"), "Privacyidea nodes");
        assert_eq!(capitalize("User-Realms"), "User-realms");
        assert_eq!(parse_int(" 1_000 "), Some(1000));
        assert_eq!(parse_int("1.0"), None);
        assert_eq!(parse_int("-3"), Some(-3));
        assert!(is_true(&json!(1.0)) && is_true(&json!("TRUE")) && !is_true(&json!("yes")));
        let truthy = [
            json!(1),
            json!("1"),
            json!(true),
            json!("True"),
            json!("true"),
        ];
        assert!(truthy.iter().all(is_true));
        let falsy = [
            json!(0),
            json!("on"),
            json!(false),
            json!("tRue"),
            json!(null),
        ];
        assert!(!falsy.iter().any(is_true));
    }

    /// Expected texts printed by CPython 3.11's `json.dumps(v, sort_keys=True)`.
    #[test]
    fn json_dumps_like_python() {
        let cases = [
            (
                json!({"b": 1, "a": [1.5, 2, null, true, false], "é": "ü😀\u{7f}\u{1}\t\n\"\\/"}),
                r#"{"a": [1.5, 2, null, true, false], "b": 1, "\u00e9": "\u00fc\ud83d\ude00\u007f\u0001\t\n\"\\/"}"#,
            ),
            (
                json!({"time": 1795473881.0747218, "x": 1e16, "y": 1.5e-05, "z": 0.0001, "w": -0.0,
                       "v": 123456789012345678_i64, "u": 1.0, "t": 100.0}),
                r#"{"t": 100.0, "time": 1795473881.0747218, "u": 1.0, "v": 123456789012345678, "w": -0.0, "x": 1e+16, "y": 1.5e-05, "z": 0.0001}"#,
            ),
            (json!([]), "[]"),
            (json!({}), "{}"),
            (json!(""), r#""""#),
            (
                json!({"nested": {"z": [{"b": "x", "a": {}}], "A": "upper"}}),
                r#"{"nested": {"A": "upper", "z": [{"a": {}, "b": "x"}]}}"#,
            ),
        ];
        for (v, want) in cases {
            assert_eq!(py_json_dumps(&v), want);
        }
    }
}
