//! Environment overrides (`PRIVACYIDEA_<KEY>`), the way Flask's `from_prefixed_env` reads them.

use config::{Map, Source, Value, ValueKind};

/// The default prefix of override variables.
pub const ENV_PREFIX: &str = "PRIVACYIDEA_";

/// The variable naming the config file; never treated as an override.
pub const CONFIGFILE_ENV: &str = "PRIVACYIDEA_CONFIGFILE";

/// A [`config::Source`] of `PRIVACYIDEA_<KEY>=<value>` overrides.
///
/// Like Flask's `app.config.from_prefixed_env("PRIVACYIDEA")`: the key is the variable name
/// without the prefix (case kept), `__` addresses a nested dict key
/// (`PRIVACYIDEA_SQLALCHEMY_ENGINE_OPTIONS__pool_size=5`), and the value is JSON-parsed if it
/// parses (`10`, `true`, `["a","b"]`, `null`), else taken as a string.
/// `PRIVACYIDEA_CONFIGFILE` itself is skipped.
#[derive(Debug, Clone)]
pub struct EnvOverrides {
    prefix: String,
    vars: Vec<(String, String)>,
}

impl EnvOverrides {
    /// Overrides from the process environment (variables that are not UTF-8 are skipped).
    #[must_use]
    pub fn from_env() -> Self {
        let vars: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Self::from_vars(vars)
    }

    /// Overrides from the given `(name, value)` pairs (for tests and embedding).
    pub fn from_vars<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            prefix: ENV_PREFIX.to_owned(),
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// No overrides at all.
    #[must_use]
    pub fn none() -> Self {
        Self::from_vars(Vec::<(String, String)>::new())
    }

    /// Uses another prefix instead of [`ENV_PREFIX`] (include the trailing `_`).
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The overrides as `(key path, value)`, in variable order.
    fn entries(&self) -> Vec<(Vec<&str>, serde_json::Value)> {
        let mut out = Vec::new();
        for (name, value) in &self.vars {
            if name == CONFIGFILE_ENV {
                continue;
            }
            let Some(rest) = name.strip_prefix(self.prefix.as_str()) else {
                continue;
            };
            let path: Vec<&str> = rest.split("__").collect();
            let valid_top = path.first().is_some_and(|top| {
                let mut chars = top.chars();
                chars
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
            if !valid_top || path.iter().any(|p| p.is_empty()) {
                log::warn!("ignoring environment variable `{name}`: not a valid key");
                continue;
            }
            let parsed = serde_json::from_str::<serde_json::Value>(value)
                .unwrap_or_else(|_| serde_json::Value::String(value.clone()));
            out.push((path, parsed));
        }
        out
    }
}

impl Source for EnvOverrides {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, config::ConfigError> {
        let origin = "environment".to_owned();
        let mut out: Map<String, Value> = Map::new();
        for (path, value) in self.entries() {
            let mut value = json_to_config(value, &origin);
            // Wrap from the innermost key outwards: A__b__c = v  =>  A = {b: {c: v}}.
            for key in path.iter().skip(1).rev() {
                let mut table = Map::new();
                table.insert((*key).to_owned(), value);
                value = Value::new(Some(&origin), ValueKind::Table(table));
            }
            let top = path.first().map(|s| (*s).to_owned()).unwrap_or_default();
            merge_into(&mut out, top, value);
        }
        Ok(out)
    }
}

/// Inserts `value` under `key`, deep-merging tables (several `A__x` variables).
fn merge_into(map: &mut Map<String, Value>, key: String, value: Value) {
    if let ValueKind::Table(incoming) = &value.kind {
        if let Some(Value {
            kind: ValueKind::Table(existing),
            ..
        }) = map.get_mut(&key)
        {
            for (k, v) in incoming.clone() {
                merge_into(existing, k, v);
            }
            return;
        }
    }
    map.insert(key, value);
}

pub(crate) fn json_to_config(value: serde_json::Value, origin: &String) -> Value {
    let kind = match value {
        serde_json::Value::Null => ValueKind::Nil,
        serde_json::Value::Bool(b) => ValueKind::Boolean(b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                ValueKind::I64(i)
            } else if let Some(u) = n.as_u64() {
                ValueKind::U64(u)
            } else {
                ValueKind::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => ValueKind::String(s),
        serde_json::Value::Array(items) => ValueKind::Array(
            items
                .into_iter()
                .map(|v| json_to_config(v, origin))
                .collect(),
        ),
        serde_json::Value::Object(entries) => ValueKind::Table(
            entries
                .into_iter()
                .map(|(k, v)| (k, json_to_config(v, origin)))
                .collect(),
        ),
    };
    Value::new(Some(origin), kind)
}
