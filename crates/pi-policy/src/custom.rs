//! Helpers that read structured action values: allowed custom user
//! attributes (`get_allowed_custom_attributes`) and the `'key':'value'-…`
//! dictionaries of `convert_action_dict_to_python_dict`.

use crate::engine::PolicySet;
use crate::error::MatchError;
use crate::matcher::MatchContext;
use crate::query::UserObject;
use serde::Serialize;
use std::collections::BTreeMap;

/// Action naming the custom user attributes that may be deleted.
pub const DELETE_USER_ATTRIBUTES: &str = "delete_custom_user_attributes";
/// Action naming the custom user attributes (and their values) that may be set.
pub const SET_USER_ATTRIBUTES: &str = "set_custom_user_attributes";

/// The custom user attributes the logged-in admin or user may change.
///
/// privacyIDEA builds both parts from Python sets, so their order is
/// arbitrary there; here keys and values are sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CustomAttributes {
    /// Attribute keys that may be deleted (`*`: any).
    pub delete: Vec<String>,
    /// Attribute key (`*`: any) → values that may be set (`*`: any).
    pub set: BTreeMap<String, Vec<String>>,
}

impl PolicySet {
    /// privacyIDEA's `get_allowed_custom_attributes(g, user_obj)`: the
    /// values of `delete_custom_user_attributes` (whitespace-separated keys)
    /// and `set_custom_user_attributes` (`:key: value value :key2: …`) of
    /// the `Match.admin_or_user` policies, all policies together
    /// (`unique=False`).
    ///
    /// A policy that matches without defining the action (`*` or no
    /// actions) contributes nothing; privacyIDEA fails on it (its value is
    /// `None`), see `docs/compatibility.md`.
    pub fn allowed_custom_attributes(
        &self,
        ctx: &MatchContext<'_>,
        user: Option<&UserObject>,
    ) -> Result<CustomAttributes, MatchError> {
        let mut out = CustomAttributes::default();
        let del = self
            .match_admin_or_user(ctx, Some(DELETE_USER_ATTRIBUTES), user, None, None)?
            .action_values(false, true)?;
        for (value, _) in del.iter() {
            for key in value.unwrap_or("").split_whitespace() {
                if !out.delete.iter().any(|k| k == key) {
                    out.delete.push(key.to_string());
                }
            }
        }
        out.delete.sort();
        let set = self
            .match_admin_or_user(ctx, Some(SET_USER_ATTRIBUTES), user, None, None)?
            .action_values(false, true)?;
        for (value, _) in set.iter() {
            for (key, values) in parse_string_to_dict(value.unwrap_or("")) {
                let allowed = out.set.entry(key).or_default();
                for v in values {
                    if !allowed.contains(&v) {
                        allowed.push(v);
                    }
                }
                allowed.sort();
            }
        }
        Ok(out)
    }
}

/// privacyIDEA's `parse_string_to_dict(s)`: `":key1: a b :key2: c"` →
/// `[("key1", ["a", "b"]), ("key2", ["c"])]`. Pieces between `:` alternate
/// key and values (a trailing key without values is dropped); a repeated
/// key keeps its first position and its last values, like a Python dict.
pub fn parse_string_to_dict(s: &str) -> Vec<(String, Vec<String>)> {
    // Empty pieces are dropped before stripping, as in Python.
    let pieces: Vec<&str> = s
        .trim()
        .split(':')
        .filter(|x| !x.is_empty())
        .map(str::trim)
        .collect();
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for pair in pieces.chunks_exact(2) {
        let [key, values] = pair else { continue };
        let values: Vec<String> = values.split_whitespace().map(str::to_string).collect();
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = values,
            None => out.push((key.to_string(), values)),
        }
    }
    out
}

/// privacyIDEA's `convert_action_dict_to_python_dict(action)`: an action
/// value `'key1':'value1'-'key2':'value2'` (actions cannot contain commas)
/// as key/value pairs. A pair without exactly one `':'` is skipped; a
/// repeated key keeps its first position and its last value.
pub fn convert_action_dict(action: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in action.split("'-'") {
        let parts: Vec<&str> = pair.split("':'").collect();
        let [key, value] = parts.as_slice() else {
            log::debug!("invalid action dictionary entry (no ':' separator): {pair}");
            continue;
        };
        let key = key.strip_prefix('\'').unwrap_or(key);
        let value = value.strip_suffix('\'').unwrap_or(value);
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.to_string(),
            None => out.push((key.to_string(), value.to_string())),
        }
    }
    out
}
