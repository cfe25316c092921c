//! Extended policy conditions (spec/policy.md §1.12, §2.7): sections, comparators,
//! handling of missing data, validation of condition tuples.

use crate::error::{ConditionError, ValidationError};
use crate::pyrepr::{str_value, type_repr};
use crate::record::ConditionRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Where the left value of a condition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Section {
    /// `userinfo`: an attribute of the handled user.
    #[serde(rename = "userinfo")]
    UserInfo,
    /// `tokeninfo`: a token info key.
    #[serde(rename = "tokeninfo")]
    TokenInfo,
    /// `token`: a key of the token's DB dict.
    #[serde(rename = "token")]
    Token,
    /// `HTTP Request header` (case-insensitive names).
    #[serde(rename = "HTTP Request header")]
    HttpRequestHeader,
    /// `HTTP Environment` (WSGI environ, case-sensitive).
    #[serde(rename = "HTTP Environment")]
    HttpEnvironment,
    /// `container`: a key of the container dict.
    #[serde(rename = "container")]
    Container,
    /// `container_info`: a container info key.
    #[serde(rename = "container_info")]
    ContainerInfo,
    /// `Request Data`: a request parameter (JSON typed; `pass`/`password` removed).
    #[serde(rename = "Request Data")]
    RequestData,
}

impl Section {
    /// All sections in privacyIDEA's order.
    pub const ALL: [Section; 8] = [
        Section::UserInfo,
        Section::TokenInfo,
        Section::Token,
        Section::HttpRequestHeader,
        Section::HttpEnvironment,
        Section::Container,
        Section::ContainerInfo,
        Section::RequestData,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Section::UserInfo => "userinfo",
            Section::TokenInfo => "tokeninfo",
            Section::Token => "token",
            Section::HttpRequestHeader => "HTTP Request header",
            Section::HttpEnvironment => "HTTP Environment",
            Section::Container => "container",
            Section::ContainerInfo => "container_info",
            Section::RequestData => "Request Data",
        }
    }

    /// Exact lookup.
    pub fn from_name(s: &str) -> Option<Section> {
        Section::ALL.iter().copied().find(|x| x.as_str() == s)
    }

    /// The object name used in "…but a `<obj>` is unavailable!" messages.
    pub fn object_name(self) -> &'static str {
        match self {
            Section::UserInfo => "user",
            Section::Token | Section::TokenInfo => "token",
            Section::Container | Section::ContainerInfo => "container",
            other => other.as_str(),
        }
    }

    /// The `/policy/defs/conditions` description.
    pub fn description(self) -> &'static str {
        match self {
            Section::UserInfo => "The policy only matches if certain conditions on the user info are fulfilled.",
            Section::Token => "The policy only matches if certain conditions of the token attributes are fulfilled.",
            Section::TokenInfo => "The policy only matches if certain conditions on the token info are fulfilled.",
            Section::HttpRequestHeader => "The policy only matches if certain conditions on the HTTP Request header are fulfilled.",
            Section::HttpEnvironment => "The policy only matches if certain conditions on the HTTP Environment are fulfilled.",
            Section::Container => "The policy only matches if certain conditions on the container attributes are fulfilled.",
            Section::ContainerInfo => "The policy only matches if certain conditions on the container info are fulfilled.",
            Section::RequestData => "The policy only matches if certain conditions on the request data are fulfilled.",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The 16 primary comparators accepted in policy conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Comparator {
    #[serde(rename = "equals")]
    Equals,
    #[serde(rename = "!equals")]
    NotEquals,
    #[serde(rename = "contains")]
    Contains,
    #[serde(rename = "!contains")]
    NotContains,
    #[serde(rename = "matches")]
    Matches,
    #[serde(rename = "!matches")]
    NotMatches,
    #[serde(rename = "in")]
    In,
    #[serde(rename = "!in")]
    NotIn,
    #[serde(rename = "<")]
    Smaller,
    #[serde(rename = ">")]
    Bigger,
    #[serde(rename = "date_before")]
    DateBefore,
    #[serde(rename = "date_after")]
    DateAfter,
    #[serde(rename = "date_within_last")]
    DateWithinLast,
    #[serde(rename = "!date_within_last")]
    DateNotWithinLast,
    #[serde(rename = "string_contains")]
    StringContains,
    #[serde(rename = "!string_contains")]
    StringNotContains,
}

impl Comparator {
    /// All primary comparators in privacyIDEA's order.
    pub const ALL: [Comparator; 16] = [
        Comparator::Equals,
        Comparator::NotEquals,
        Comparator::Contains,
        Comparator::NotContains,
        Comparator::Matches,
        Comparator::NotMatches,
        Comparator::In,
        Comparator::NotIn,
        Comparator::Smaller,
        Comparator::Bigger,
        Comparator::DateBefore,
        Comparator::DateAfter,
        Comparator::DateWithinLast,
        Comparator::DateNotWithinLast,
        Comparator::StringContains,
        Comparator::StringNotContains,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparator::Equals => "equals",
            Comparator::NotEquals => "!equals",
            Comparator::Contains => "contains",
            Comparator::NotContains => "!contains",
            Comparator::Matches => "matches",
            Comparator::NotMatches => "!matches",
            Comparator::In => "in",
            Comparator::NotIn => "!in",
            Comparator::Smaller => "<",
            Comparator::Bigger => ">",
            Comparator::DateBefore => "date_before",
            Comparator::DateAfter => "date_after",
            Comparator::DateWithinLast => "date_within_last",
            Comparator::DateNotWithinLast => "!date_within_last",
            Comparator::StringContains => "string_contains",
            Comparator::StringNotContains => "!string_contains",
        }
    }

    /// Exact lookup of a primary name (aliases like `==` are not accepted).
    pub fn from_name(s: &str) -> Option<Comparator> {
        Comparator::ALL.iter().copied().find(|x| x.as_str() == s)
    }

    /// The `/policy/defs/conditions` description.
    pub fn description(self) -> &'static str {
        match self {
            Comparator::Equals => "True if the value of the left attribute is equal to the right value",
            Comparator::NotEquals => "False if the value of the left attribute is equal to the right value",
            Comparator::Contains => "True if the list of the left attribute contains the right value",
            Comparator::NotContains => "False if the list of the left attribute contains the right value",
            Comparator::Matches => "True if the value of the left attribute completely matches the given regular expression pattern on the right",
            Comparator::NotMatches => "False if the value of the left attribute completely matches the given regular expression pattern on the right",
            Comparator::In => "True if the value of the left attribute is contained in the comma-separated list on the right",
            Comparator::NotIn => "False if the value of the left attribute is contained in the comma-separated list on the right",
            Comparator::Smaller => "True if the integer value of the left attribute is smaller than the right integer value",
            Comparator::Bigger => "True if the integer value of the left attribute is bigger than the right integer value",
            Comparator::DateBefore => "True if the date and time of the left attribute is before the date and time of the right attribute",
            Comparator::DateAfter => "True if the date and time of the left attribute is after the date and time of the right attribute",
            Comparator::DateWithinLast => "True if the date and time of the left attribute is within the past duration of the right attribute. The right attribute should be a duration such as '1y', '7d', '6h', '15m'.",
            Comparator::DateNotWithinLast => "False if the date and time of the left attribute is within the past duration of the right attribute. The right attribute should be a duration such as '1y', '7d', '6h', '15m'.",
            Comparator::StringContains => "True if the value of the left attribute contains the right value (case-insensitive)",
            Comparator::StringNotContains => "False if the value of the left attribute contains the right value (case-insensitive)",
        }
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do when the data a condition needs is unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HandleMissingData {
    /// PolicyError (default, also for `null`).
    #[default]
    RaiseError,
    /// The condition is true.
    ConditionIsTrue,
    /// The condition is false.
    ConditionIsFalse,
}

impl HandleMissingData {
    /// All values.
    pub const ALL: [HandleMissingData; 3] = [
        HandleMissingData::RaiseError,
        HandleMissingData::ConditionIsTrue,
        HandleMissingData::ConditionIsFalse,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            HandleMissingData::RaiseError => "raise_error",
            HandleMissingData::ConditionIsTrue => "condition_is_true",
            HandleMissingData::ConditionIsFalse => "condition_is_false",
        }
    }

    /// Exact lookup.
    pub fn from_name(s: &str) -> Option<HandleMissingData> {
        HandleMissingData::ALL
            .iter()
            .copied()
            .find(|x| x.as_str() == s)
    }

    /// `(display_value, description)` for `/policy/defs/conditions`.
    pub fn display(self) -> (&'static str, &'static str) {
        match self {
            HandleMissingData::RaiseError => ("Raise an error", "Raise an error if the data that is required to check the condition is not available."),
            HandleMissingData::ConditionIsTrue => ("Condition is true", "If the required data is not available, the condition is considered to be true. Hence, the policy is applied."),
            HandleMissingData::ConditionIsFalse => ("Condition is false", "If the required data is not available, the condition is considered to be false. Hence, the policy is not applied."),
        }
    }
}

/// A valid condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    /// Section.
    pub section: Section,
    /// Key (non-empty).
    pub key: String,
    /// Comparator.
    pub comparator: Comparator,
    /// Right value (non-empty).
    pub value: String,
    /// Whether the condition is evaluated.
    pub active: bool,
    /// Missing-data behaviour.
    pub handle_missing_data: HandleMissingData,
}

fn py_str_type(v: &Value) -> (String, String) {
    (str_value(v), type_repr(v).to_string())
}

impl Condition {
    /// Validate one element list `[section, key, comparator, value, active(, handle)]`
    /// exactly like `PolicyConditionClass` (order: active, section, key,
    /// comparator, value, handle_missing_data), wrapping errors with the
    /// policy name.
    pub fn from_json(policy_name: &str, tuple: &Value) -> Result<Condition, ValidationError> {
        // Python iterates whatever it gets: strings are sequences of characters.
        let items: Vec<Value> = match tuple {
            Value::Array(a) => a.clone(),
            Value::String(s) => s.chars().map(|c| Value::String(c.to_string())).collect(),
            other => {
                return Err(ValidationError::InvalidFieldType {
                    field: "conditions".into(),
                    type_repr: type_repr(other).into(),
                })
            }
        };
        if !(items.len() == 5 || items.len() == 6) {
            return Err(ValidationError::ConditionLength {
                name: policy_name.to_string(),
                count: items.len(),
            });
        }
        let wrap = |inner| ValidationError::InvalidCondition {
            name: policy_name.to_string(),
            inner,
        };
        let active = match &items[4] {
            Value::Bool(b) => *b,
            other => {
                let (value, type_repr) = py_str_type(other);
                return Err(wrap(ConditionError::Active { value, type_repr }));
            }
        };
        let section = items[0]
            .as_str()
            .and_then(Section::from_name)
            .ok_or_else(|| wrap(ConditionError::UnknownSection(str_value(&items[0]))))?;
        let key = match &items[1] {
            Value::String(s) if !s.is_empty() => s.clone(),
            other => {
                let (value, type_repr) = py_str_type(other);
                return Err(wrap(ConditionError::Key { value, type_repr }));
            }
        };
        let comparator = items[2]
            .as_str()
            .and_then(Comparator::from_name)
            .ok_or_else(|| wrap(ConditionError::UnknownComparator(str_value(&items[2]))))?;
        let value = match &items[3] {
            Value::String(s) if !s.is_empty() => s.clone(),
            other => {
                let (value, type_repr) = py_str_type(other);
                return Err(wrap(ConditionError::Value { value, type_repr }));
            }
        };
        let handle_missing_data = match items.get(5) {
            None | Some(Value::Null) => HandleMissingData::RaiseError,
            Some(v) => v
                .as_str()
                .and_then(HandleMissingData::from_name)
                .ok_or_else(|| wrap(ConditionError::HandleMissingData(str_value(v))))?,
        };
        Ok(Condition {
            section,
            key,
            comparator,
            value,
            active,
            handle_missing_data,
        })
    }

    /// Lenient reading of a stored row (`pass_if_inactive`): inactive rows are
    /// never validated (`Ok(None)`); an active row that is invalid gives the
    /// error privacyIDEA raises at match time.
    pub fn from_record(rec: &ConditionRecord) -> Result<Option<Condition>, ConditionError> {
        if !rec.active {
            return Ok(None);
        }
        let section = Section::from_name(&rec.section)
            .ok_or_else(|| ConditionError::UnknownSection(rec.section.clone()))?;
        if rec.key.is_empty() {
            return Err(ConditionError::Key {
                value: String::new(),
                type_repr: "<class 'str'>".into(),
            });
        }
        let comparator = Comparator::from_name(&rec.comparator)
            .ok_or_else(|| ConditionError::UnknownComparator(rec.comparator.clone()))?;
        if rec.value.is_empty() {
            return Err(ConditionError::Value {
                value: String::new(),
                type_repr: "<class 'str'>".into(),
            });
        }
        let handle_missing_data = match &rec.handle_missing_data {
            None => HandleMissingData::RaiseError,
            Some(h) => HandleMissingData::from_name(h)
                .ok_or_else(|| ConditionError::HandleMissingData(h.clone()))?,
        };
        Ok(Some(Condition {
            section,
            key: rec.key.clone(),
            comparator,
            value: rec.value.clone(),
            active: true,
            handle_missing_data,
        }))
    }

    /// The row to store (handle_missing_data always written out).
    pub fn to_record(&self) -> ConditionRecord {
        ConditionRecord {
            section: self.section.as_str().to_string(),
            key: self.key.clone(),
            comparator: self.comparator.as_str().to_string(),
            value: self.value.clone(),
            active: self.active,
            handle_missing_data: Some(self.handle_missing_data.as_str().to_string()),
        }
    }
}

/// The 6-element JSON array of a stored condition row.
pub fn record_to_json(rec: &ConditionRecord) -> Value {
    Value::Array(vec![
        Value::String(rec.section.clone()),
        Value::String(rec.key.clone()),
        Value::String(rec.comparator.clone()),
        Value::String(rec.value.clone()),
        Value::Bool(rec.active),
        rec.handle_missing_data
            .clone()
            .map(Value::String)
            .unwrap_or(Value::Null),
    ])
}

/// `GET /policy/defs/conditions`.
pub fn conditions_defs_json() -> Value {
    let mut sections = serde_json::Map::new();
    for s in Section::ALL {
        sections.insert(
            s.as_str().into(),
            serde_json::json!({"description": s.description()}),
        );
    }
    let mut comparators = serde_json::Map::new();
    for c in Comparator::ALL {
        comparators.insert(
            c.as_str().into(),
            serde_json::json!({"description": c.description()}),
        );
    }
    let mut hmd = serde_json::Map::new();
    for h in HandleMissingData::ALL {
        let (d, desc) = h.display();
        hmd.insert(
            h.as_str().into(),
            serde_json::json!({"display_value": d, "description": desc}),
        );
    }
    serde_json::json!({"sections": sections, "comparators": comparators, "handle_missing_data": hmd})
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(t: Value) -> String {
        Condition::from_json("x9", &t).unwrap_err().to_string()
    }

    #[test]
    fn case_v23_alias_comparator_rejected() {
        assert_eq!(
            err(json!(["userinfo", "type", "==", "secure", true])),
            "Invalid condition of policy 'x9': ERR905: Unknown comparator '=='."
        );
    }

    #[test]
    fn case_033_api_condition_errors() {
        assert_eq!(
            err(json!(["userinfo", "type", "equals", "secure"])),
            "Condition of policy 'x9' has 4 values, but should have 5 or 6."
        );
        assert_eq!(
            err(json!([
                "userinfo", "type", "equals", "secure", true, null, 1
            ])),
            "Condition of policy 'x9' has 7 values, but should have 5 or 6."
        );
        assert_eq!(
            err(json!(["userinfo", "type", "equals", 123, false])),
            "Invalid condition of policy 'x9': ERR905: Value must be a non-empty string. Got '123' of type '<class 'int'>' instead."
        );
        assert_eq!(
            err(json!(["userinfo", "type", "equals", "secure", "true"])),
            "Invalid condition of policy 'x9': ERR905: Active must be a boolean. Got 'true' of type '<class 'str'>' instead."
        );
    }

    #[test]
    fn case_034_lib_condition_errors() {
        assert!(Condition::from_json("p", &json!(["userinfo", "type", "equals", "x"])).is_err());
        assert_eq!(
            err(json!(["userinfo", ["k"], "equals", "x", true])),
            "Invalid condition of policy 'x9': ERR905: Key must be a non-empty string. Got '['k']' of type '<class 'list'>' instead."
        );
        assert_eq!(
            err(json!(["userinfo", "k", "equals", "x", true, false])),
            "Invalid condition of policy 'x9': ERR905: Unknown handle missing data value 'False'!"
        );
        assert_eq!(
            err(json!(["invalid", "k", "equals", "x", false])),
            "Invalid condition of policy 'x9': ERR905: Unknown section 'invalid' set in condition."
        );
    }

    #[test]
    fn case_035_condition_class_errors() {
        assert!(
            err(json!(["invalid", "k", "equals", "v", true])).contains("Unknown section 'invalid'")
        );
        assert!(err(json!(["userinfo", "k", "random", "v", true]))
            .contains("Unknown comparator 'random'"));
        assert!(err(json!(["userinfo", "k", "equals", false, true]))
            .contains("Got 'False' of type '<class 'bool'>'"));
        assert!(err(json!(["userinfo", "k", "equals", "v", "True"]))
            .contains("Active must be a boolean"));
        assert!(err(json!(["userinfo", "k", "equals", "v", true, "random"]))
            .contains("Unknown handle missing data value 'random'!"));
    }

    #[test]
    fn case_036_inactive_invalid_record_tolerated() {
        let rec = ConditionRecord {
            section: "invalid".into(),
            key: "k".into(),
            comparator: "x".into(),
            value: "".into(),
            active: false,
            handle_missing_data: Some("bogus".into()),
        };
        assert_eq!(Condition::from_record(&rec), Ok(None));
        let active = ConditionRecord {
            active: true,
            ..rec
        };
        assert_eq!(
            Condition::from_record(&active),
            Err(ConditionError::UnknownSection("invalid".into()))
        );
    }

    #[test]
    fn case_046_047_defaults() {
        let c = Condition::from_json(
            "p",
            &json!(["userinfo", "type", "equals", "verysecure", true]),
        )
        .unwrap();
        assert_eq!(
            record_to_json(&c.to_record()),
            json!([
                "userinfo",
                "type",
                "equals",
                "verysecure",
                true,
                "raise_error"
            ])
        );
        let c = Condition::from_json("p", &json!(["userinfo", "type", "equals", "v", true, null]))
            .unwrap();
        assert_eq!(c.handle_missing_data, HandleMissingData::RaiseError);
    }

    #[test]
    fn defs_lists_16_comparators() {
        let d = conditions_defs_json();
        assert_eq!(d["comparators"].as_object().unwrap().len(), 16);
        assert!(d["sections"]["userinfo"]["description"].is_string());
        assert!(d["comparators"]["contains"]["description"].is_string());
    }
}
