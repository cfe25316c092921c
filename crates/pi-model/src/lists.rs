//! Comma-list fields (spec/policy.md §1.3), `validate_values` (§1.8) and user agents (§1.13).

use crate::action::remove_wildcards_and_negations;
use crate::error::ValidationError;
use crate::pyrepr::{capitalize, type_repr};
use serde_json::Value;

/// Read a stored list column: split on `,`, strip every element; a single
/// empty element becomes the empty list. Inner empty elements survive.
pub fn split_list(raw: &str) -> Vec<String> {
    if raw.is_empty() {
        return Vec::new();
    }
    let items: Vec<String> = raw.split(',').map(|s| s.trim().to_string()).collect();
    if items.len() == 1 && items[0].is_empty() {
        Vec::new()
    } else {
        items
    }
}

fn strings_of(field: &str, items: &[Value]) -> Result<Vec<String>, ValidationError> {
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.clone()),
            other => Err(ValidationError::InvalidFieldType {
                field: field.to_string(),
                type_repr: type_repr(other).to_string(),
            }),
        })
        .collect()
}

/// The stored form of a list field given as JSON: a string verbatim, a list
/// of strings joined with `", "`. `null` means "not given" (`Ok(None)`).
pub fn list_storage(field: &str, value: &Value) -> Result<Option<String>, ValidationError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Array(items) => Ok(Some(strings_of(field, items)?.join(", "))),
        other => Err(ValidationError::InvalidFieldType {
            field: field.to_string(),
            type_repr: type_repr(other).to_string(),
        }),
    }
}

/// The stored form of `user_agents`: a list loses its empty entries, a string
/// is split on `,`, stripped, emptied entries dropped; both joined by `", "`.
pub fn user_agents_storage(value: &Value) -> Result<Option<String>, ValidationError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
        )),
        Value::Array(items) => {
            let mut out = Vec::new();
            for it in items {
                match it {
                    Value::Null => {}
                    Value::String(s) if s.is_empty() => {}
                    Value::String(s) => out.push(s.clone()),
                    other => {
                        return Err(ValidationError::InvalidFieldType {
                            field: "user_agents".into(),
                            type_repr: type_repr(other).into(),
                        })
                    }
                }
            }
            // A list is joined as given and then normalised like a string.
            Ok(Some(
                out.join(", ")
                    .split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
            ))
        }
        other => Err(ValidationError::InvalidFieldType {
            field: "user_agents".into(),
            type_repr: type_repr(other).into(),
        }),
    }
}

/// privacyIDEA's `validate_values(values, allowed, name)`: a string has all
/// spaces removed and is split on `,`; a list is used as is; `*` and `""` are
/// dropped and one leading `!`/`-` removed; every remainder must be allowed.
/// `label` is the raw label (`"User-Realms"`, `"Resolvers"`,
/// `"privacyIDEA Nodes"`, `"Admin Realms"`); messages use its
/// `str.capitalize()`.
pub fn validate_values(
    values: Option<&Value>,
    allowed: &[String],
    label: &str,
) -> Result<(), ValidationError> {
    let items: Vec<String> = match values {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(s)) => s.replace(' ', "").split(',').map(str::to_string).collect(),
        Some(Value::Array(a)) => strings_of(label, a)?,
        Some(other) => {
            return Err(ValidationError::InvalidValuesType {
                label: capitalize(label),
                type_repr: type_repr(other).to_string(),
            })
        }
    };
    let mut undefined: Vec<String> = Vec::new();
    for v in remove_wildcards_and_negations(&items) {
        if !allowed.contains(&v) && !undefined.contains(&v) {
            undefined.push(v);
        }
    }
    if undefined.is_empty() {
        Ok(())
    } else {
        Err(ValidationError::UndefinedValues {
            label: capitalize(label),
            values: undefined,
        })
    }
}

/// The product token of a `User-Agent` header as privacyIDEA uses it for the
/// `user_agents` policy attribute: the leading `[A-Za-z0-9_-]+` (so
/// `privacyidea-cp/2.1 Windows/…` → `privacyidea-cp`); no header → `""`.
pub fn user_agent_product(header: Option<&str>) -> String {
    header
        .map(|h| {
            h.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn split() {
        assert!(split_list("").is_empty());
        assert!(split_list("  ").is_empty());
        assert_eq!(split_list("a,,b"), vec!["a", "", "b"]);
        assert_eq!(split_list(" hans , *"), vec!["hans", "*"]);
    }

    #[test]
    fn storage() {
        assert_eq!(
            list_storage("realm", &json!(["a", "b"])).unwrap(),
            Some("a, b".into())
        );
        assert_eq!(
            list_storage("realm", &json!("a,b ")).unwrap(),
            Some("a,b ".into())
        );
        assert_eq!(
            user_agents_storage(&json!("PAM, , privacyidea-cp ")).unwrap(),
            Some("PAM, privacyidea-cp".into())
        );
        assert_eq!(user_agents_storage(&json!("")).unwrap(), Some("".into()));
        assert_eq!(
            user_agents_storage(&json!(["PAM", "", null])).unwrap(),
            Some("PAM".into())
        );
    }

    fn r(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn case_021_realms_accepted() {
        let allowed = r(&["realm1", "realm2"]);
        for v in [
            json!("realm1"),
            json!(["realm1", "realm2"]),
            json!("realm1, realm2"),
            Value::Null,
            json!("*, -realm1, realm2, !realm1"),
        ] {
            validate_values(Some(&v), &allowed, "User-Realms").unwrap();
        }
        validate_values(None, &allowed, "User-Realms").unwrap();
    }

    #[test]
    fn case_022_realm_wrong_type() {
        let e = validate_values(Some(&json!({"a": 1})), &[], "User-Realms").unwrap_err();
        assert_eq!(e.to_string(), "Invalid User-realms type '<class 'dict'>'!");
    }

    #[test]
    fn case_023_undefined_values() {
        let e = validate_values(
            Some(&json!("realm1, -undefined")),
            &r(&["realm1"]),
            "User-Realms",
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "Undefined User-realms: ['undefined']!");
        let e = validate_values(Some(&json!(["x"])), &[], "Resolvers").unwrap_err();
        assert_eq!(e.to_string(), "Undefined Resolvers: ['x']!");
        let e =
            validate_values(Some(&json!("invalid_node")), &[], "privacyIDEA Nodes").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Undefined Privacyidea nodes: ['invalid_node']!"
        );
        let e =
            validate_values(Some(&json!("test")), &r(&["adminrealm"]), "Admin Realms").unwrap_err();
        assert_eq!(e.to_string(), "Undefined Admin realms: ['test']!");
    }

    #[test]
    fn case_024_025_resolvers_nodes() {
        let res = r(&["resolver1", "reso3"]);
        validate_values(Some(&json!(["resolver1", "reso3", ""])), &res, "Resolvers").unwrap();
        validate_values(Some(&json!("*, -resolver1, !reso3, ")), &res, "Resolvers").unwrap();
        let nodes = r(&["pinode1", "pinode2"]);
        validate_values(
            Some(&json!(["pinode1", "", "*", "pinode2"])),
            &nodes,
            "privacyIDEA Nodes",
        )
        .unwrap();
        validate_values(
            Some(&json!("*, -pinode1, !pinode2")),
            &nodes,
            "privacyIDEA Nodes",
        )
        .unwrap();
    }

    #[test]
    fn ua_product() {
        assert_eq!(
            user_agent_product(Some("privacyidea-cp/2.1 Windows/10")),
            "privacyidea-cp"
        );
        assert_eq!(user_agent_product(Some("Mozilla/5.0 (X11)")), "Mozilla");
        assert_eq!(user_agent_product(None), "");
    }
}
