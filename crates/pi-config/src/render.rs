//! Writing `pi.cfg` files: values rendered as Python literals that [`crate::PiCfgFormat`] (and
//! Python) read back unchanged.

use serde_json::Value;

/// Errors of [`render_assignment`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The key is not an upper-case Python identifier (Flask would ignore it).
    #[error("`{0}` is not an upper-case Python identifier")]
    InvalidKey(String),
}

/// Renders `s` as a single-quoted Python string literal.
///
/// Backslash, `'`, and control characters are escaped (`\n`, `\r`, `\t`, else `\xNN`);
/// everything else, including non-ASCII text, is written as is (`pi.cfg` is UTF-8).
#[must_use]
pub fn render_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' || c == '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Renders a JSON value as a Python literal: `None`, `True`/`False`, numbers, single-quoted
/// strings ([`render_str`]), lists `[…]` and dicts `{'k': …}`.
#[must_use]
pub fn render_value(value: &Value) -> String {
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                n.to_string()
            } else {
                // `{:?}` always keeps a `.` or an exponent, so it reads back as a float.
                format!("{:?}", n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => render_str(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(render_value).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(entries) => {
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", render_str(k), render_value(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

/// Renders one `KEY = value` line (with a trailing newline).
///
/// # Errors
///
/// [`RenderError::InvalidKey`] if `key` is not an upper-case Python identifier.
pub fn render_assignment(key: &str, value: &Value) -> Result<String, RenderError> {
    let mut chars = key.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && key.chars().any(|c| c.is_ascii_uppercase());
    if !valid {
        return Err(RenderError::InvalidKey(key.to_owned()));
    }
    Ok(format!("{key} = {}\n", render_value(value)))
}

/// Renders a whole file from `(key, value)` pairs, in the given order.
///
/// # Errors
///
/// [`RenderError::InvalidKey`] for the first invalid key.
pub fn render_file<'a, I>(entries: I) -> Result<String, RenderError>
where
    I: IntoIterator<Item = (&'a str, &'a Value)>,
{
    let mut out = String::new();
    for (key, value) in entries {
        out.push_str(&render_assignment(key, value)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyparse::{parse_file, PyValue, Stmt};
    use proptest::prelude::*;
    use serde_json::json;

    fn reparse(text: &str) -> PyValue {
        match parse_file(text).into_iter().next() {
            Some(Stmt::Assign { value, .. }) => value,
            other => panic!("{text:?} did not parse: {other:?}"),
        }
    }

    #[test]
    fn renders_python_literals() {
        assert_eq!(render_str("it's a \\ test\n"), r"'it\'s a \\ test\n'");
        assert_eq!(render_value(&json!(null)), "None");
        assert_eq!(render_value(&json!(true)), "True");
        assert_eq!(render_value(&json!(1.0)), "1.0");
        assert_eq!(
            render_value(&json!({"a": [1, "x"], "b": false})),
            "{'a': [1, 'x'], 'b': False}"
        );
        assert_eq!(
            render_assignment("SUPERUSER_REALM", &json!(["super", "admins"])).ok(),
            Some("SUPERUSER_REALM = ['super', 'admins']\n".to_owned())
        );
        assert!(render_assignment("lower", &json!(1)).is_err());
        assert!(render_assignment("1ABC", &json!(1)).is_err());
    }

    #[test]
    fn rendered_values_parse_back() {
        // Keys in sorted order: serde_json may or may not preserve insertion order.
        let v = json!({"f": 0.25, "l": [null, true], "n": -5, "uri": "sqlite:////tmp/x.db"});
        let text = render_assignment("X", &v).unwrap_or_default();
        assert_eq!(
            reparse(&text),
            PyValue::Dict(vec![
                ("f".into(), PyValue::Float(0.25)),
                (
                    "l".into(),
                    PyValue::List(vec![PyValue::None, PyValue::Bool(true)])
                ),
                ("n".into(), PyValue::Int(-5)),
                ("uri".into(), PyValue::Str("sqlite:////tmp/x.db".into())),
            ])
        );
    }

    proptest! {
        #[test]
        fn any_string_round_trips(s in any::<String>()) {
            let text = format!("KEY = {}\n", render_str(&s));
            prop_assert_eq!(reparse(&text), PyValue::Str(s));
        }

        #[test]
        fn any_float_round_trips(f in proptest::num::f64::NORMAL | proptest::num::f64::ZERO) {
            let text = render_assignment("KEY", &json!(f)).unwrap_or_default();
            prop_assert_eq!(reparse(&text), PyValue::Float(f));
        }
    }
}
