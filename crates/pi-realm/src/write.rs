//! privacyIDEA's `save_resolver(params)` checks: from the parameters of
//! `POST /resolver/<name>` (or a `pi-manage config resolver create` file) to
//! the configuration rows to write.

use crate::config::CENSORED;
use crate::crypto::EncKey;
use crate::descriptor::{config_type, descriptor, ConfigType, RESOLVER_TYPES};
use pi_model::pyrepr::{repr_value, str_value};
use pi_model::record::ResolverConfigChange;
use serde_json::{Map, Value};

/// privacyIDEA's resolver-name rule: `a-z`, `A-Z`, `0-9`, `_`, `-`, `.`.
pub fn valid_resolver_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// privacyIDEA's check of a resolver type name, with its message
/// (`resolver type : <t> not in ['passwdresolver', …]`).
///
/// # Errors
///
/// The message when `rtype` is not a known resolver type.
pub fn check_resolver_type(rtype: &str) -> Result<(), String> {
    if descriptor(rtype).is_some() {
        return Ok(());
    }
    let types = Value::Array(
        RESOLVER_TYPES
            .iter()
            .map(|t| Value::String((*t).to_string()))
            .collect(),
    );
    Err(format!(
        "resolver type : {rtype} not in {}",
        repr_value(&types)
    ))
}

/// A value is "falsy" for privacyIDEA's save: `""`, `null`, `0` (not `false`).
fn deletes(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Bool(_) => false,
    }
}

/// The rows to write for resolver `name` of type `rtype` from `params`
/// (every key except `resolver` and `type`; `type.<key>` / `desc.<key>` give
/// a key's type and description). Password-typed values are encrypted with
/// `enc`; the censored placeholder keeps the stored password; falsy values
/// delete the key.
///
/// # Errors
///
/// privacyIDEA's parameter-error messages: invalid name, unknown type, a
/// type or description without a value, a password without `PI_ENCFILE`.
pub fn resolver_changes(
    name: &str,
    rtype: &str,
    params: &Map<String, Value>,
    enc: Option<&EncKey>,
) -> Result<Vec<ResolverConfigChange>, String> {
    if !valid_resolver_name(name) {
        return Err(format!(
            "Invalid resolver name `{name}`: only the characters a-z, A-Z, 0-9, '_', '-' and '.' are allowed."
        ));
    }
    check_resolver_type(rtype)?;
    let mut types: Map<String, Value> = Map::new();
    let mut descs: Map<String, Value> = Map::new();
    let mut values: Vec<(String, Value)> = Vec::new();
    for (k, v) in params {
        if k == "resolver" || k == "type" {
            continue;
        }
        if let Some(key) = k.strip_prefix("type.") {
            types.insert(key.to_string(), v.clone());
        } else if let Some(key) = k.strip_prefix("desc.") {
            descs.insert(key.to_string(), v.clone());
        } else {
            values.push((k.clone(), v.clone()));
        }
    }
    for key in types.keys().chain(descs.keys()) {
        if !values.iter().any(|(k, _)| k == key) {
            return Err(format!("type or description without value: {key}"));
        }
    }
    let mut changes = Vec::new();
    for (key, value) in values {
        let typ = types
            .get(&key)
            .map(str_value)
            .or_else(|| config_type(rtype, &key).map(|t| t.as_str().to_string()));
        let is_password = typ.as_deref().and_then(ConfigType::parse) == Some(ConfigType::Password);
        if deletes(&value) {
            changes.push(ResolverConfigChange::Delete { key });
            continue;
        }
        let text = match &value {
            Value::Object(_) | Value::Array(_) => value.to_string(),
            other => str_value(other),
        };
        if is_password && text == CENSORED {
            continue; // keep the stored password
        }
        let stored = if is_password {
            let Some(enc) = enc else {
                return Err("PI_ENCFILE is not configured: passwords cannot be stored.".into());
            };
            enc.encrypt_password(&text)
        } else {
            text
        };
        let description = descs.get(&key).map(str_value);
        changes.push(ResolverConfigChange::Set {
            key,
            value: stored,
            typ,
            description,
        });
    }
    Ok(changes)
}
