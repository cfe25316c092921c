//! privacyIDEA's policy file (spec/policy.md §3.4): the text of
//! `GET /policy/export/…` and `POST /policy/import/…`, read and written in
//! one place for every caller (the server's routes, pi-manage, tests).
//!
//! Export writes privacyIDEA's format (same keys, order and Python `str()`
//! values, [`Policy::export_section`]) and quotes every value ConfigObj would
//! split or misread, so the file imports back into privacyIDEA and into this
//! server unchanged.
//!
//! Import ([`read`], or [`crate::configobj::parse`] then [`items`]) reads
//! privacyIDEA's files and ours and restores every field. Values of the
//! Python-literal keys are read as ConfigObj reads them; where ConfigObj
//! splits or rejects a value (privacyIDEA's own export of two actions,
//! realms, …), the raw text of the line is read as the literal.

use crate::configobj::{self, CoValue, Entry, Section};
use crate::pyliteral::{self, PyValue};
use crate::Policy;
use serde_json::{Map, Value};

/// The export file of all `policies` (empty for none).
pub fn export(policies: impl Iterator<Item = impl std::ops::Deref<Target = Policy>>) -> String {
    policies.map(|p| p.export_section()).collect()
}

/// Why a policy file cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The file is not a ConfigObj file (ConfigObj's message).
    #[error("Error loading policy file: {0}")]
    Syntax(String),
    /// A section's value is not what its key needs.
    #[error("{0}")]
    Value(String),
}

/// Parse a policy file into the write parameters of each section.
///
/// # Errors
///
/// [`ReadError`] with privacyIDEA's message.
pub fn read(text: &str) -> Result<Vec<ImportItem>, ReadError> {
    let sections = configobj::parse(text).map_err(ReadError::Syntax)?;
    items(&sections).map_err(ReadError::Value)
}

/// One policy's section: the header and the `key = value` lines, each value
/// quoted for ConfigObj (`items` are [`Policy::export_items`]).
pub(crate) fn section(p: &Policy, items: Vec<(&'static str, String)>) -> String {
    let name = p.name();
    let header_name = if name.trim() == name {
        name.to_string()
    } else {
        configobj::quote(name, true).unwrap_or_else(|| name.to_string())
    };
    let mut out = format!("[{header_name}]\n");
    for (key, value) in items {
        // A description that is literally `None` must not read back as null.
        let force = key == "description" && p.description() == Some("None");
        let written = configobj::quote(&value, force).unwrap_or_else(|| {
            log::warn!(
                "policy `{name}`: the value of `{key}` cannot be quoted for ConfigObj; written as is"
            );
            value.clone()
        });
        out.push_str(&format!("{key} = {written}\n"));
    }
    out.push('\n');
    out
}

/// Keys whose values are Python literals.
const LITERAL_KEYS: &[&str] = &[
    "action",
    "realm",
    "adminrealm",
    "adminuser",
    "resolver",
    "pinode",
    "edumfanode",
    "user",
    "client",
    "user_agents",
    "conditions",
];

/// Keys whose values are plain strings.
const STRING_KEYS: &[&str] = &[
    "scope",
    "time",
    "priority",
    "active",
    "check_all_resolvers",
    "user_case_insensitive",
    "description",
];

/// List keys that privacyIDEA's import sets to `[]` when the file lacks them
/// (so an import replaces them); the others are kept when missing.
const CLEARED_WHEN_MISSING: &[&str] = &[
    "realm",
    "user",
    "resolver",
    "client",
    "pinode",
    "user_agents",
];

/// Parse the text after `=` as a literal, also without a trailing `# comment`.
fn parse_raw_literal(raw: &str) -> Result<PyValue, String> {
    let first = pyliteral::parse(raw);
    if first.is_ok() {
        return first;
    }
    for (i, _) in raw.rmatch_indices('#') {
        if let Ok(v) = pyliteral::parse(&raw[..i]) {
            return Ok(v);
        }
    }
    first
}

fn literal(entry: &Entry) -> Result<Option<PyValue>, String> {
    if let Ok(CoValue::Str(s)) = &entry.value {
        if s.trim().is_empty() {
            return Ok(None);
        }
        if let Ok(v) = pyliteral::parse(s) {
            return Ok(Some(v));
        }
    }
    parse_raw_literal(&entry.raw).map(Some)
}

fn string_value(entry: &Entry) -> String {
    match &entry.value {
        Ok(CoValue::Str(s)) => s.clone(),
        // ConfigObj splits or rejects it: privacyIDEA wrote the value unquoted.
        _ => entry.raw.trim().to_string(),
    }
}

/// The action column for an action literal: a dict keeps its order (its
/// `True` values become bare keys, others `key=<str(value)>`, as
/// privacyIDEA's `set_policy` does); strings and lists go as they are.
fn action_param(v: &PyValue) -> Value {
    match v {
        PyValue::Dict(entries) => Value::String(
            entries
                .iter()
                .map(|(k, v)| match v {
                    PyValue::Bool(true) => k.py_str(),
                    other => format!("{}={}", k.py_str(), other.py_str()),
                })
                .collect::<Vec<_>>()
                .join(", "),
        ),
        other => other.to_json(),
    }
}

/// One section as the parameters of a `POST /policy/<name>`.
#[derive(Debug)]
pub struct ImportItem {
    /// Section name = policy name.
    pub name: String,
    /// Parameters for `PolicyWrite::from_params`.
    pub params: Map<String, Value>,
    /// Whether the file carries `conditions` (else stored conditions are kept).
    pub has_conditions: bool,
}

/// Turn the parsed sections into write parameters.
pub fn items(sections: &[Section]) -> Result<Vec<ImportItem>, String> {
    let mut out = Vec::with_capacity(sections.len());
    for sec in sections {
        let mut params = Map::new();
        for &key in LITERAL_KEYS {
            let Some(entry) = sec.get(key) else {
                if CLEARED_WHEN_MISSING.contains(&key) {
                    params.insert(key.into(), Value::Array(Vec::new()));
                }
                continue;
            };
            let parsed = literal(entry).map_err(|e| {
                format!(
                    "Policy '{}': the value of '{key}' at line {} is not a Python literal ({e}).",
                    sec.name, entry.line
                )
            })?;
            let value = match parsed {
                None if key == "action" || key == "conditions" => continue,
                None => Value::Array(Vec::new()),
                Some(v) if key == "action" => action_param(&v),
                Some(v) => v.to_json(),
            };
            params.insert(key.into(), value);
        }
        for &key in STRING_KEYS {
            let Some(entry) = sec.get(key) else {
                continue;
            };
            let s = string_value(entry);
            let value = if key == "description" && s == "None" && entry.raw.trim() == "None" {
                Value::Null
            } else {
                Value::String(s)
            };
            params.insert(key.into(), value);
        }
        if !params.contains_key("time") {
            params.insert("time".into(), Value::String(String::new()));
        }
        out.push(ImportItem {
            name: sec.name.clone(),
            has_conditions: params.contains_key("conditions"),
            params,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ConditionRecord, PolicyRecord};

    fn rec() -> PolicyRecord {
        PolicyRecord {
            id: 1,
            name: "e1".into(),
            scope: "authentication".into(),
            active: true,
            action: "otppin=none".into(),
            priority: 1,
            ..PolicyRecord::default()
        }
    }

    #[test]
    fn export_is_privacyideas_format_for_simple_policies() {
        let p = Policy::from_record(&rec());
        let expected = "[e1]\nname = e1\nuser_case_insensitive = False\nactive = True\nscope = authentication\nrealm = []\nadminrealm = []\nadminuser = []\nresolver = []\npinode = []\ncheck_all_resolvers = False\nuser = []\nclient = []\ntime = \nconditions = []\npriority = 1\ndescription = None\nuser_agents = []\naction = {'otppin': 'none'}\n\n";
        assert_eq!(export(std::iter::once(&p)), expected);
        assert_eq!(p.export_section(), expected);
    }

    #[test]
    fn export_import_keeps_everything() {
        let r = PolicyRecord {
            action: "enable, disable, challenge_text=Hello\\, world #1".into(),
            realm: "realm1, realm2".into(),
            user: "a'b, c\"d".into(),
            client: "10.0.0.0/8, -10.0.0.1".into(),
            time: "Mon-Fri: 9-18, Sat: 10-12".into(),
            description: Some("None".into()),
            active: false,
            check_all_resolvers: true,
            adminuser: "x, y".into(),
            priority: 7,
            conditions: vec![ConditionRecord {
                section: "userinfo".into(),
                key: "type".into(),
                comparator: "equals".into(),
                value: "x, y".into(),
                active: true,
                handle_missing_data: Some("raise_error".into()),
            }],
            ..rec()
        };
        let p = Policy::from_record(&r);
        let text = export(std::iter::once(&p));
        let items = read(&text).unwrap();
        let prm = &items[0].params;
        assert_eq!(
            prm["action"],
            "enable, disable, challenge_text=Hello\\, world #1"
        );
        assert_eq!(prm["realm"], serde_json::json!(["realm1", "realm2"]));
        assert_eq!(prm["user"], serde_json::json!(["a'b", "c\"d"]));
        assert_eq!(prm["time"], "Mon-Fri: 9-18, Sat: 10-12");
        assert_eq!(prm["description"], "None");
        assert_eq!(prm["active"], "False");
        assert_eq!(prm["priority"], "7");
        assert_eq!(
            prm["conditions"],
            serde_json::json!([["userinfo", "type", "equals", "x, y", true, "raise_error"]])
        );
        assert!(items[0].has_conditions);
    }

    #[test]
    fn privacyidea_exports_with_unquoted_lists() {
        let text = "[m1]\nname = m1\nactive = True\nscope = admin\nrealm = ['r1', 'r2']\ntime = Mon: 9-18, Tue: 9-18\ndescription = hi, there\nconditions = [('userinfo', 'type', 'equals', 'x', True, 'raise_error')]\naction = {'enable': True, 'disable': True}\n\n";
        let secs = configobj::parse(text).unwrap();
        let items = items(&secs).unwrap();
        let prm = &items[0].params;
        assert_eq!(prm["action"], "enable, disable");
        assert_eq!(prm["realm"], serde_json::json!(["r1", "r2"]));
        assert_eq!(prm["time"], "Mon: 9-18, Tue: 9-18");
        assert_eq!(prm["description"], "hi, there");
        assert_eq!(prm["user"], serde_json::json!([]));
        assert!(!prm.contains_key("adminuser"));
        let bad = read("[x]\nscope = admin\naction = {'a': \n").unwrap_err();
        assert!(matches!(&bad, ReadError::Value(m) if m.contains("not a Python literal")));
        let bad = read("[x]\njunk\n").unwrap_err();
        assert!(bad
            .to_string()
            .starts_with("Error loading policy file: Invalid line"));
    }
}
