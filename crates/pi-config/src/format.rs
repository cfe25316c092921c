//! The [`config::Format`] implementation for `pi.cfg` files.

use std::error::Error;

use config::{FileStoredFormat, Format, Map, Value, ValueKind};

use crate::pyparse::{parse_file, PyValue, Stmt};
use crate::USED_KEYS;

/// A syntax error in a `pi.cfg` statement that assigns one of the [`USED_KEYS`].
///
/// This is the error [`PiCfgFormat`] returns from [`Format::parse`]; [`crate::load_str`] turns
/// it into [`crate::LoadError::Syntax`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in `{file}` line {line} (`{key}`): {message}")]
pub struct SyntaxError {
    /// The file name (or other origin description) given to [`PiCfgFormat::new`].
    pub file: String,
    /// 1-based line number of the problem.
    pub line: usize,
    /// The key whose assignment is broken.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// [`config::Format`] for privacyIDEA's `pi.cfg` (a Python file of `KEY = <literal>` lines).
///
/// Understood: strings (`'…'`, `"…"`, triple-quoted, `r''`/`u''` prefixes, escapes, adjacent
/// literals concatenated), integers, floats, `True`/`False`/`None`, `logging.<LEVEL>`, lists,
/// tuples (as lists) and dicts with string keys, spanning lines if bracketed or continued with
/// `\`. `import`/`from` lines and lower-case names are skipped (Flask only reads upper-case
/// names). A statement outside this subset is skipped with a `log::warn!`, unless it assigns one
/// of the [`USED_KEYS`]: then parsing fails with a [`SyntaxError`].
#[derive(Debug, Clone, Default)]
pub struct PiCfgFormat {
    origin: String,
}

impl PiCfgFormat {
    /// A format whose errors and warnings name `origin` (normally the file path).
    pub fn new(origin: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
        }
    }

    /// Parses `text` into upper-case keys and their values.
    ///
    /// # Errors
    ///
    /// [`SyntaxError`] for a broken statement that assigns one of the [`USED_KEYS`].
    pub fn parse_text(
        &self,
        uri: Option<&String>,
        text: &str,
    ) -> Result<Map<String, Value>, SyntaxError> {
        let origin = uri.cloned().unwrap_or_else(|| self.origin.clone());
        let mut out = Map::new();
        for stmt in parse_file(text) {
            match stmt {
                Stmt::Assign { key, value, .. } => {
                    out.insert(key, to_config_value(value, Some(&origin)));
                }
                Stmt::Ignored { line, what } => {
                    log::debug!("{origin}:{line}: skipping {what}");
                }
                Stmt::Broken {
                    key: Some(key),
                    line,
                    message,
                } if USED_KEYS.contains(&key.as_str()) => {
                    return Err(SyntaxError {
                        file: origin,
                        line,
                        key,
                        message,
                    });
                }
                Stmt::Broken { key, line, message } => match key {
                    Some(key) => log::warn!("{origin}:{line}: ignoring `{key}`: {message}"),
                    None => log::warn!("{origin}:{line}: ignoring statement: {message}"),
                },
            }
        }
        Ok(out)
    }
}

impl Format for PiCfgFormat {
    fn parse(
        &self,
        uri: Option<&String>,
        text: &str,
    ) -> Result<Map<String, Value>, Box<dyn Error + Send + Sync>> {
        self.parse_text(uri, text)
            .map_err(|e| Box::new(e) as Box<dyn Error + Send + Sync>)
    }
}

impl FileStoredFormat for PiCfgFormat {
    fn file_extensions(&self) -> &'static [&'static str] {
        &["cfg"]
    }
}

fn to_config_value(value: PyValue, origin: Option<&String>) -> Value {
    let kind = match value {
        PyValue::None => ValueKind::Nil,
        PyValue::Bool(b) => ValueKind::Boolean(b),
        PyValue::Int(i) => ValueKind::I64(i),
        PyValue::Float(f) => ValueKind::Float(f),
        PyValue::Str(s) => ValueKind::String(s),
        PyValue::List(items) | PyValue::Tuple(items) => ValueKind::Array(
            items
                .into_iter()
                .map(|v| to_config_value(v, origin))
                .collect(),
        ),
        PyValue::Dict(entries) => ValueKind::Table(
            entries
                .into_iter()
                .map(|(k, v)| (k.py_str(), to_config_value(v, origin)))
                .collect(),
        ),
    };
    Value::new(origin, kind)
}
