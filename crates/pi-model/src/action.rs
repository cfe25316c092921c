//! Policy action strings (spec/policy.md §1.4) and their validation (§1.7).

use crate::defs;
use crate::defs::Name;
use crate::error::ValidationError;
use crate::inline::InlineStr;
use crate::pyrepr::{str_value, type_repr};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// The value of one action: a bare key (`true`) or the raw text after `=`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ActionValue {
    /// Key given without `=` (JSON `true`).
    Flag,
    /// Key given as `key=value`; the raw value (escaped commas keep their
    /// backslash), inline when short (most values are a few bytes).
    Text(InlineStr),
}

impl ActionValue {
    /// The text value, if any.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            ActionValue::Flag => None,
            ActionValue::Text(t) => Some(t),
        }
    }

    /// JSON rendering (`true` or the string).
    pub fn to_json(&self) -> Value {
        match self {
            ActionValue::Flag => Value::Bool(true),
            ActionValue::Text(t) => Value::String(t.as_str().to_string()),
        }
    }

    /// Python truthiness (`""` is falsy).
    pub fn is_truthy(&self) -> bool {
        match self {
            ActionValue::Flag => true,
            ActionValue::Text(t) => !t.is_empty(),
        }
    }
}

/// A parsed action string with Python dict semantics: keys in first-insertion
/// order, later duplicates overwrite the value in place.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActionMap {
    /// Keys as [`Name`]s: catalogue names are not copied per policy. A
    /// boxed slice (no capacity word): a set keeps one map per policy.
    entries: Box<[(Name, ActionValue)]>,
}

impl ActionMap {
    /// privacyIDEA's `parse_action_string`, including the "empty column → `{}`"
    /// rule of `Policy.get()`: split at commas not preceded by a backslash,
    /// strip each part, split at the first `=`.
    pub fn parse(action: &str) -> ActionMap {
        if action.is_empty() {
            return ActionMap::default();
        }
        let mut entries: Vec<(Name, ActionValue)> = Vec::new();
        let mut start = 0;
        let bytes = action.as_bytes();
        let mut parts = Vec::new();
        for (i, &b) in bytes.iter().enumerate() {
            if b == b',' && (i == 0 || bytes[i - 1] != b'\\') {
                parts.push(&action[start..i]);
                start = i + 1;
            }
        }
        parts.push(&action[start..]);
        for part in parts {
            let part = part.trim();
            let (key, value) = match part.split_once('=') {
                Some((k, v)) => (k, ActionValue::Text(v.into())),
                None => (part, ActionValue::Flag),
            };
            Self::insert_into(&mut entries, key, value);
        }
        // Kept by every policy of a set: no spare capacity.
        ActionMap {
            entries: entries.into_boxed_slice(),
        }
    }

    fn insert_into(entries: &mut Vec<(Name, ActionValue)>, key: &str, value: ActionValue) {
        if let Some(slot) = entries.iter_mut().find(|(k, _)| k.as_str() == key) {
            slot.1 = value;
        } else {
            entries.push((Name::new(key), value));
        }
    }

    /// Insert with dict semantics (existing key keeps its position).
    pub fn insert(&mut self, key: String, value: ActionValue) {
        let mut entries = std::mem::take(&mut self.entries).into_vec();
        Self::insert_into(&mut entries, &key, value);
        self.entries = entries.into_boxed_slice();
    }

    /// Value of `key`.
    pub fn get(&self, key: &str) -> Option<&ActionValue> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }

    /// Keys in dict order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Entries in dict order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ActionValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` for `{}` (which matches every action query, quirk Q1).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The action column for this map: `key` or `key=value`, joined with
    /// `", "` (what [`ActionMap::parse`] reads back as the same map).
    pub fn to_action_string(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(k.as_str());
            if let ActionValue::Text(t) = v {
                out.push('=');
                out.push_str(t);
            }
        }
        out
    }

    /// Whether `raw` is exactly [`ActionMap::to_action_string`] (without
    /// building that string).
    pub fn renders_as(&self, raw: &str) -> bool {
        let mut rest = raw;
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if i > 0 {
                match rest.strip_prefix(", ") {
                    Some(r) => rest = r,
                    None => return false,
                }
            }
            match rest.strip_prefix(k.as_str()) {
                Some(r) => rest = r,
                None => return false,
            }
            if let ActionValue::Text(t) = v {
                match rest.strip_prefix('=').and_then(|r| r.strip_prefix(&**t)) {
                    Some(r) => rest = r,
                    None => return false,
                }
            }
        }
        rest.is_empty()
    }

    /// JSON object with the keys sorted (as Flask emits it).
    pub fn to_json_sorted(&self) -> Value {
        let mut keys: Vec<&(Name, ActionValue)> = self.entries.iter().collect();
        keys.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let mut m = serde_json::Map::new();
        for (k, v) in keys {
            m.insert(k.as_str().to_string(), v.to_json());
        }
        Value::Object(m)
    }
}

impl Serialize for ActionMap {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            match v {
                ActionValue::Flag => m.serialize_entry(k.as_str(), &true)?,
                ActionValue::Text(t) => m.serialize_entry(k.as_str(), t.as_str())?,
            }
        }
        m.end()
    }
}

/// An action as given to a write: a string or a JSON object.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionInput {
    /// An action string.
    Text(String),
    /// A JSON object `{action: value}`.
    Dict(serde_json::Map<String, Value>),
}

impl ActionInput {
    /// From a JSON request value: strings and objects as they are, lists of
    /// strings joined with `", "`; anything else is privacyIDEA's
    /// `Invalid actions type …` error.
    pub fn from_json(v: &Value) -> Result<ActionInput, ValidationError> {
        match v {
            Value::String(s) => Ok(ActionInput::Text(s.clone())),
            Value::Object(o) => Ok(ActionInput::Dict(o.clone())),
            Value::Array(items) => {
                let mut parts = Vec::with_capacity(items.len());
                for it in items {
                    match it {
                        Value::String(s) => parts.push(s.clone()),
                        other => {
                            return Err(ValidationError::InvalidFieldType {
                                field: "action".into(),
                                type_repr: type_repr(other).into(),
                            })
                        }
                    }
                }
                Ok(ActionInput::Text(parts.join(", ")))
            }
            other => Err(ValidationError::InvalidActionsType(type_repr(other).into())),
        }
    }

    /// The string stored in the `action` column: a dict becomes
    /// `key` for value `true`, else `key=<Python str(value)>`, joined by `", "`
    /// in the map's iteration order (key-sorted with the workspace's
    /// serde_json; privacyIDEA keeps the request's order — the parsed dict is
    /// the same either way).
    pub fn to_action_string(&self) -> String {
        match self {
            ActionInput::Text(t) => t.clone(),
            ActionInput::Dict(d) => d
                .iter()
                .map(|(k, v)| match v {
                    Value::Bool(true) => k.clone(),
                    other => format!("{k}={}", str_value(other)),
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Remove `*` and `""`, strip one leading `!`/`-` (privacyIDEA's
/// `remove_wildcards_and_negations`).
pub fn remove_wildcards_and_negations<S: AsRef<str>>(values: &[S]) -> Vec<String> {
    values
        .iter()
        .map(AsRef::as_ref)
        .filter(|v| !v.is_empty() && *v != "*")
        .map(|v| {
            v.strip_prefix('!')
                .or_else(|| v.strip_prefix('-'))
                .unwrap_or(v)
                .to_string()
        })
        .collect()
}

fn dedup(values: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// privacyIDEA's `validate_actions(scope, action)`: every key (without
/// `!`/`-`, ignoring `*` and `""`) must be an action of `scope` in the
/// catalogue, then value evaluators run (`realm_dropdown` against `realms`).
/// The list in `Invalid actions [...]!` is in first-seen order (privacyIDEA:
/// set order).
pub fn validate_actions(
    scope: &str,
    action: &ActionInput,
    realms: &[String],
) -> Result<(), ValidationError> {
    let entries: Vec<(String, Value)> = match action {
        ActionInput::Text(t) => ActionMap::parse_for_validation(t),
        ActionInput::Dict(d) => d.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    };
    let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
    let raw = remove_wildcards_and_negations(&keys);
    let invalid: Vec<String> = dedup(
        raw.into_iter()
            .filter(|k| !defs::is_action_allowed(scope, k))
            .collect(),
    );
    if !invalid.is_empty() {
        log::error!("invalid actions for scope `{scope}`: {invalid:?}");
        return Err(ValidationError::InvalidActions(invalid));
    }
    for (k, v) in &entries {
        if k == "realm_dropdown" {
            check_realm_list(v, realms).map_err(|message| ValidationError::InvalidActionValue {
                action: k.clone(),
                message,
            })?;
        }
    }
    Ok(())
}

impl ActionMap {
    /// Like [`ActionMap::parse`] but keeps Python's `{"": True}` for an empty
    /// string (validation runs on the raw parse) and yields JSON values.
    fn parse_for_validation(t: &str) -> Vec<(String, Value)> {
        let map = if t.is_empty() {
            let mut m = ActionMap::default();
            m.insert(String::new(), ActionValue::Flag);
            m
        } else {
            ActionMap::parse(t)
        };
        map.entries
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_json()))
            .collect()
    }
}

/// The `realm_dropdown` evaluator: space-separated realm names, each must be
/// configured or `-`.
fn check_realm_list(value: &Value, realms: &[String]) -> Result<(), String> {
    let text = match value {
        Value::String(s) if !s.is_empty() => s.as_str(),
        // privacyIDEA: falsy → "No realms specified!", other non-strings crash (500).
        _ => return Err("No realms specified!".into()),
    };
    let invalid: Vec<String> = dedup(
        text.split(' ')
            .filter(|r| *r != "-" && !realms.iter().any(|x| x == r))
            .map(str::to_string)
            .collect(),
    );
    if invalid.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "The following realms do not exist: {}!",
            crate::pyrepr::repr_str_list(&invalid)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(t: &str) -> ActionInput {
        ActionInput::Text(t.into())
    }

    #[test]
    fn parse_rules() {
        let m = ActionMap::parse(r"challenge_text=Hello\, world, otppin=none");
        assert_eq!(
            m.get("challenge_text"),
            Some(&ActionValue::Text(r"Hello\, world".into()))
        );
        assert_eq!(m.get("otppin"), Some(&ActionValue::Text("none".into())));
        let m = ActionMap::parse("otppin = none");
        assert_eq!(m.get("otppin "), Some(&ActionValue::Text(" none".into())));
        let m = ActionMap::parse("enable,,disable");
        assert_eq!(m.keys().collect::<Vec<_>>(), vec!["enable", "", "disable"]);
        let m = ActionMap::parse("a=1, b, a=2");
        assert_eq!(m.keys().collect::<Vec<_>>(), vec!["a", "b"]);
        assert_eq!(m.get("a"), Some(&ActionValue::Text("2".into())));
        let m = ActionMap::parse("x=a=b");
        assert_eq!(m.get("x"), Some(&ActionValue::Text("a=b".into())));
        assert!(ActionMap::parse("").is_empty());
        let m = ActionMap::parse("*, -otppin=2");
        assert_eq!(m.keys().collect::<Vec<_>>(), vec!["*", "-otppin"]);
    }

    #[test]
    fn dict_serialisation() {
        let d = json!({"otppin": "none", "passthru": true, "x": false, "cr": ["hotp"], "n": 4});
        let a = ActionInput::from_json(&d).unwrap();
        let mut parts: Vec<String> = a
            .to_action_string()
            .split(", ")
            .map(str::to_string)
            .collect();
        parts.sort();
        assert_eq!(
            parts,
            vec!["cr=['hotp']", "n=4", "otppin=none", "passthru", "x=False"]
        );
        let l = ActionInput::from_json(&json!(["enable", "disable"])).unwrap();
        assert_eq!(l.to_action_string(), "enable, disable");
    }

    #[test]
    fn case_011_validate_actions_ok() {
        let d = ActionInput::from_json(
            &json!({"enable": true, "hide_tokeninfo": "hashlib private_server_key", "disable": true}),
        )
        .unwrap();
        for scope in ["admin", "user"] {
            validate_actions(scope, &d, &[]).unwrap();
            validate_actions(
                scope,
                &s("enable, hide_tokeninfo=hashlib private_server_key ,disable"),
                &[],
            )
            .unwrap();
        }
    }

    #[test]
    fn case_012_validate_actions_wrong_scope() {
        for scope in ["enrollment", "non-exisiting-scope"] {
            let e = validate_actions(
                scope,
                &s("enable, hide_tokeninfo=hashlib private_server_key ,disable"),
                &[],
            )
            .unwrap_err();
            assert_eq!(
                e.to_string(),
                "Invalid actions ['enable', 'hide_tokeninfo', 'disable']!"
            );
        }
    }

    #[test]
    fn case_013_actions_type_list() {
        let e = ActionInput::from_json(&json!(123)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid actions type <class 'int'>. Must be a string or a dictionary."
        );
    }

    #[test]
    fn case_014_wildcards_and_negations() {
        validate_actions("admin", &s("*"), &[]).unwrap();
        validate_actions("admin", &s("*, -enable, disable, !delete"), &[]).unwrap();
    }

    #[test]
    fn case_015_invalid_negated() {
        let e = validate_actions("admin", &s("*, -i_am_invalid, disable, !not-existing"), &[])
            .unwrap_err();
        assert_eq!(
            e,
            ValidationError::InvalidActions(vec!["i_am_invalid".into(), "not-existing".into()])
        );
    }

    #[test]
    fn case_016_invalid_dict_key() {
        let d = ActionInput::from_json(&json!({"i_am_invalid": false})).unwrap();
        assert_eq!(
            validate_actions("admin", &d, &[]).unwrap_err().to_string(),
            "Invalid actions ['i_am_invalid']!"
        );
    }

    #[test]
    fn case_017_malformed_parts() {
        let e = validate_actions(
            "admin",
            &s("enable, hide_tokeninfo:hashlib private_server_key ,disable; delete"),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            e,
            ValidationError::InvalidActions(vec![
                "hide_tokeninfo:hashlib private_server_key".into(),
                "disable; delete".into()
            ])
        );
    }

    #[test]
    fn case_018_to_020_realm_dropdown() {
        let realms = vec!["realm1".to_string(), "realm2".to_string()];
        validate_actions("webui", &s("realm_dropdown=- realm1 realm2"), &realms).unwrap();
        let e = validate_actions(
            "webui",
            &s("realm_dropdown=invalid_realm realm1 random"),
            &realms[..1],
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "Invalid value for action 'realm_dropdown': The following realms do not exist: ['invalid_realm', 'random']!");
        let d = ActionInput::from_json(&json!({"realm_dropdown": "invalid_realm realm1 random"}))
            .unwrap();
        assert!(validate_actions("webui", &d, &realms[..1]).is_err());
        for a in [
            s("realm_dropdown="),
            ActionInput::from_json(&json!({"realm_dropdown": ""})).unwrap(),
        ] {
            assert_eq!(
                validate_actions("webui", &a, &realms)
                    .unwrap_err()
                    .to_string(),
                "Invalid value for action 'realm_dropdown': No realms specified!"
            );
        }
    }

    #[test]
    fn case_v24_audit_scope_has_no_actions() {
        assert_eq!(
            validate_actions("audit", &s("enable"), &[])
                .unwrap_err()
                .to_string(),
            "Invalid actions ['enable']!"
        );
        // empty parts are ignored
        validate_actions("admin", &s("enable,,disable"), &[]).unwrap();
    }
}
