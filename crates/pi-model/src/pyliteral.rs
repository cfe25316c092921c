//! A parser for the Python literals of privacyIDEA's policy export files
//! (`ast.literal_eval` subset): strings, numbers, `True`/`False`/`None`,
//! lists, tuples and dicts. Dicts keep their source order (the order of
//! actions in an `action = {...}` line is the order they are stored in).

use crate::pyrepr::repr_str;
use serde_json::{Map, Number, Value};

/// A Python literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum PyValue {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An integer that fits 64 bits.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (adjacent literals concatenated).
    Str(String),
    /// `[...]`.
    List(Vec<PyValue>),
    /// `(...)` with a comma (a parenthesised single value is that value).
    Tuple(Vec<PyValue>),
    /// Entries in source order; a repeated key keeps its first position.
    Dict(Vec<(PyValue, PyValue)>),
}

impl From<&str> for PyValue {
    fn from(s: &str) -> Self {
        PyValue::Str(s.to_string())
    }
}

impl PyValue {
    /// Python `str()`.
    pub fn py_str(&self) -> String {
        match self {
            PyValue::Str(s) => s.clone(),
            other => other.py_repr(),
        }
    }

    /// Python `repr()`.
    pub fn py_repr(&self) -> String {
        let join = |items: &[PyValue]| {
            items
                .iter()
                .map(PyValue::py_repr)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            PyValue::None => "None".into(),
            PyValue::Bool(true) => "True".into(),
            PyValue::Bool(false) => "False".into(),
            PyValue::Int(i) => i.to_string(),
            PyValue::Float(f) => crate::pyrepr::repr_float(*f),
            PyValue::Str(s) => repr_str(s),
            PyValue::List(items) => format!("[{}]", join(items)),
            PyValue::Tuple(items) if items.len() == 1 => format!("({},)", join(items)),
            PyValue::Tuple(items) => format!("({})", join(items)),
            PyValue::Dict(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.py_repr(), v.py_repr()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The JSON value a request would carry (tuples become arrays; dict keys
    /// their `str()`).
    pub fn to_json(&self) -> Value {
        match self {
            PyValue::None => Value::Null,
            PyValue::Bool(b) => Value::Bool(*b),
            PyValue::Int(i) => Value::from(*i),
            PyValue::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            PyValue::Str(s) => Value::String(s.clone()),
            PyValue::List(items) | PyValue::Tuple(items) => {
                Value::Array(items.iter().map(PyValue::to_json).collect())
            }
            PyValue::Dict(entries) => {
                let mut m = Map::new();
                for (k, v) in entries {
                    m.entry(k.py_str()).or_insert_with(|| v.to_json());
                }
                Value::Object(m)
            }
        }
    }
}

/// Parse one complete literal (surrounding whitespace allowed).
///
/// # Errors
///
/// A message saying what is not understood.
pub fn parse(text: &str) -> Result<PyValue, String> {
    let mut p = Parser {
        s: text.chars().collect(),
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("unexpected text at offset {}", p.i));
    }
    Ok(v)
}

struct Parser {
    s: Vec<char>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.i += 1;
            } else if c == '\\' && self.s.get(self.i + 1) == Some(&'\n') {
                self.i += 2;
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<PyValue, String> {
        self.ws();
        let Some(c) = self.peek() else {
            return Err("unexpected end of text".into());
        };
        match c {
            '[' => {
                self.i += 1;
                Ok(PyValue::List(self.items(']')?.0))
            }
            '(' => {
                self.i += 1;
                let (items, trailing_comma) = self.items(')')?;
                if items.len() == 1 && !trailing_comma {
                    Ok(items.into_iter().next().unwrap_or(PyValue::None))
                } else {
                    Ok(PyValue::Tuple(items))
                }
            }
            '{' => {
                self.i += 1;
                self.dict()
            }
            '\'' | '"' => self.strings(),
            '-' | '+' => {
                self.i += 1;
                let v = self.value()?;
                match (c, v) {
                    ('-', PyValue::Int(i)) => Ok(PyValue::Int(-i)),
                    ('-', PyValue::Float(f)) => Ok(PyValue::Float(-f)),
                    ('+', v @ (PyValue::Int(_) | PyValue::Float(_))) => Ok(v),
                    _ => Err("a sign must precede a number".into()),
                }
            }
            c if c.is_ascii_digit() || c == '.' => self.number(),
            c if c.is_alphabetic() || c == '_' => {
                let start = self.i;
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    self.i += 1;
                }
                let word: String = self.s[start..self.i].iter().collect();
                match word.as_str() {
                    "True" => Ok(PyValue::Bool(true)),
                    "False" => Ok(PyValue::Bool(false)),
                    "None" => Ok(PyValue::None),
                    w if matches!(self.peek(), Some('\'' | '"'))
                        && matches!(w.to_ascii_lowercase().as_str(), "r" | "u") =>
                    {
                        self.i = start;
                        self.strings()
                    }
                    w => Err(format!("`{w}` is not a literal")),
                }
            }
            c => Err(format!("unexpected `{c}`")),
        }
    }

    /// Comma-separated values up to `close`; also reports a trailing comma.
    fn items(&mut self, close: char) -> Result<(Vec<PyValue>, bool), String> {
        let mut items = Vec::new();
        let mut trailing = false;
        loop {
            if self.eat(close) {
                return Ok((items, trailing));
            }
            items.push(self.value()?);
            trailing = self.eat(',');
            if !trailing {
                if self.eat(close) {
                    return Ok((items, false));
                }
                return Err(format!("expected `,` or `{close}`"));
            }
        }
    }

    fn dict(&mut self) -> Result<PyValue, String> {
        let mut entries: Vec<(PyValue, PyValue)> = Vec::new();
        loop {
            if self.eat('}') {
                return Ok(PyValue::Dict(entries));
            }
            let k = self.value()?;
            if matches!(k, PyValue::List(_) | PyValue::Dict(_) | PyValue::Float(_)) {
                return Err("unsupported dict key".into());
            }
            if !self.eat(':') {
                return Err("expected `:` in a dict".into());
            }
            let v = self.value()?;
            match entries.iter_mut().find(|(ek, _)| *ek == k) {
                Some(slot) => slot.1 = v,
                None => entries.push((k, v)),
            }
            if !self.eat(',') {
                if self.eat('}') {
                    return Ok(PyValue::Dict(entries));
                }
                return Err("expected `,` or `}` in a dict".into());
            }
        }
    }

    fn number(&mut self) -> Result<PyValue, String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_'))
            || (matches!(self.peek(), Some('+' | '-'))
                && matches!(self.s.get(self.i.wrapping_sub(1)), Some('e' | 'E')))
        {
            self.i += 1;
        }
        let raw: String = self.s[start..self.i]
            .iter()
            .filter(|c| **c != '_')
            .collect();
        if let Ok(i) = raw.parse::<i64>() {
            if raw.len() > 1 && raw.starts_with('0') {
                return Err(format!("invalid number `{raw}`"));
            }
            return Ok(PyValue::Int(i));
        }
        raw.parse::<f64>()
            .map(PyValue::Float)
            .map_err(|_| format!("invalid number `{raw}`"))
    }

    /// One or more adjacent string literals (Python concatenates them).
    fn strings(&mut self) -> Result<PyValue, String> {
        let mut out = String::new();
        loop {
            self.ws();
            let start = self.i;
            let mut raw = false;
            while let Some(c) = self.peek() {
                match c.to_ascii_lowercase() {
                    'r' => raw = true,
                    'u' => {}
                    _ => break,
                }
                self.i += 1;
            }
            if !matches!(self.peek(), Some('\'' | '"')) {
                self.i = start;
                break;
            }
            out.push_str(&self.string(raw)?);
        }
        Ok(PyValue::Str(out))
    }

    fn string(&mut self, raw: bool) -> Result<String, String> {
        let q = self.peek().ok_or("unexpected end of text")?;
        let triple = self.s.get(self.i + 1) == Some(&q) && self.s.get(self.i + 2) == Some(&q);
        self.i += if triple { 3 } else { 1 };
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err("unterminated string".into());
            };
            if c == q {
                if !triple {
                    self.i += 1;
                    return Ok(out);
                }
                if self.s.get(self.i + 1) == Some(&q) && self.s.get(self.i + 2) == Some(&q) {
                    self.i += 3;
                    return Ok(out);
                }
            }
            if c == '\n' && !triple {
                return Err("unterminated string".into());
            }
            self.i += 1;
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some(e) = self.peek() else {
                return Err("unterminated string".into());
            };
            self.i += 1;
            if raw {
                out.push('\\');
                out.push(e);
                continue;
            }
            match e {
                '\n' => {}
                '\\' | '\'' | '"' => out.push(e),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'a' => out.push('\u{7}'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'v' => out.push('\u{b}'),
                'x' | 'u' | 'U' => {
                    let n = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let hex: String = self.s.iter().skip(self.i).take(n).collect();
                    if hex.len() != n {
                        return Err("truncated escape".into());
                    }
                    let code = u32::from_str_radix(&hex, 16).map_err(|_| "invalid escape")?;
                    out.push(char::from_u32(code).ok_or("invalid escape")?);
                    self.i += n;
                }
                '0'..='7' => {
                    let mut code = e.to_digit(8).unwrap_or(0);
                    for _ in 0..2 {
                        match self.peek().and_then(|c| c.to_digit(8)) {
                            Some(d) => {
                                code = code * 8 + d;
                                self.i += 1;
                            }
                            None => break,
                        }
                    }
                    out.push(char::from_u32(code).ok_or("invalid escape")?);
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(parse("None").unwrap(), PyValue::None);
        assert_eq!(parse(" True ").unwrap(), PyValue::Bool(true));
        assert_eq!(parse("-3").unwrap(), PyValue::Int(-3));
        assert_eq!(parse("'a\\'b'").unwrap(), PyValue::Str("a'b".into()));
        assert_eq!(parse("\"it's\"").unwrap(), PyValue::Str("it's".into()));
        assert_eq!(parse("'\\x41\\n'").unwrap(), PyValue::Str("A\n".into()));
        assert_eq!(parse("'a\\, b'").unwrap(), PyValue::Str("a\\, b".into()));
        assert_eq!(parse("'a' 'b'").unwrap(), PyValue::Str("ab".into()));
        assert_eq!(
            parse("['a', 'b',]").unwrap(),
            PyValue::List(vec![PyValue::Str("a".into()), PyValue::Str("b".into())])
        );
        assert_eq!(parse("('x')").unwrap(), PyValue::Str("x".into()));
        assert_eq!(
            parse("('x',)").unwrap(),
            PyValue::Tuple(vec![PyValue::Str("x".into())])
        );
        let d = parse("{'enable': True, 'otppin': 'none', 'enable': False}").unwrap();
        assert_eq!(
            d,
            PyValue::Dict(vec![
                (PyValue::Str("enable".into()), PyValue::Bool(false)),
                (PyValue::Str("otppin".into()), PyValue::Str("none".into())),
            ])
        );
        assert_eq!(d.py_repr(), "{'enable': False, 'otppin': 'none'}");
        let c = parse("[('userinfo', 'type', 'equals', 'x', True, 'raise_error')]").unwrap();
        assert_eq!(
            c.to_json(),
            serde_json::json!([["userinfo", "type", "equals", "x", true, "raise_error"]])
        );
        for bad in ["", "[", "{'a' 1}", "foo", "'x", "[1 2]", "07", "{[1]: 2}"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repr_round_trip() {
        for s in ["a'b", "a\"b", "a'\"b", "tab\there", "ü", "back\\slash"] {
            let r = repr_str(s);
            assert_eq!(parse(&r).unwrap(), PyValue::Str(s.into()), "{r}");
        }
    }

    #[test]
    fn floats_repr_like_python() {
        // one rendering path with `pyrepr::repr_value`: Python's repr, not Rust's Debug
        for (f, py) in [(1e16, "1e+16"), (0.5, "0.5"), (1.0, "1.0"), (1e-5, "1e-05")] {
            assert_eq!(PyValue::Float(f).py_repr(), py);
            assert_eq!(crate::pyrepr::repr_value(&serde_json::json!(f)), py);
        }
    }
}
