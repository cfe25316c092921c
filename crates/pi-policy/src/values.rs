//! Action values of matched policies (spec/policy.md §2.8).

use crate::error::MatchError;
use pi_model::pyrepr::repr_str_list;
use pi_model::{ActionValue, Policy};
use serde::ser::SerializeMap;
use serde::Serialize;

/// `{value: [policy names]}` in first-seen order. The key `None` reproduces
/// privacyIDEA's `None` key: with `allow_white_space_in_action` a matched
/// policy that does not define the action (matched via `*` or an empty
/// action list) contributes `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionValues {
    entries: Vec<(Option<String>, Vec<String>)>,
}

impl ActionValues {
    fn add(&mut self, value: Option<String>, name: &str) {
        if let Some(e) = self.entries.iter_mut().find(|(v, _)| *v == value) {
            e.1.push(name.to_string());
        } else {
            self.entries.push((value, vec![name.to_string()]));
        }
    }

    /// Entries in first-seen order.
    pub fn iter(&self) -> impl Iterator<Item = (Option<&str>, &[String])> {
        self.entries
            .iter()
            .map(|(v, n)| (v.as_deref(), n.as_slice()))
    }

    /// Policy names for `value`.
    pub fn get(&self, value: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(v, _)| v.as_deref() == Some(value))
            .map(|(_, n)| n.as_slice())
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when no value.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first value (what `get_action_values_from_options` returns).
    pub fn first(&self) -> Option<Option<&str>> {
        self.entries.first().map(|(v, _)| v.as_deref())
    }

    /// Names of all contributing policies (for the audit log), first-seen order.
    pub fn policy_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (_, names) in &self.entries {
            for n in names {
                if !out.contains(&n.as_str()) {
                    out.push(n);
                }
            }
        }
        out
    }
}

impl Serialize for ActionValues {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.entries.len()))?;
        for (v, n) in &self.entries {
            m.serialize_entry(v.as_deref().unwrap_or("None"), n)?;
        }
        m.end()
    }
}

/// privacyIDEA's `extract_action_values(policies, action, unique,
/// allow_white_space_in_action)`; `policies` sorted by priority.
pub fn extract_action_values(
    policies: &[&Policy],
    action: &str,
    unique: bool,
    allow_white_space: bool,
) -> Result<ActionValues, MatchError> {
    let mut considered: Vec<&Policy> = policies.to_vec();
    if unique {
        if let Some(first) = policies.first() {
            let top = first.priority();
            considered.retain(|p| p.priority() == top);
        }
    }
    let mut out = ActionValues::default();
    for p in &considered {
        let value = match p.action().get(action) {
            None => None,
            Some(ActionValue::Text(t)) => Some(&**t),
            Some(ActionValue::Flag) => return Err(MatchError::NotAValueAction(action.to_string())),
        };
        let v = value.unwrap_or("");
        if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') || v == "'" {
            let inner = if v.len() >= 2 { &v[1..v.len() - 1] } else { "" };
            out.add(Some(inner.to_string()), p.name());
        } else if allow_white_space {
            out.add(value.map(str::to_string), p.name());
        } else {
            for tok in v.split_whitespace() {
                out.add(Some(tok.to_string()), p.name());
            }
        }
    }
    if unique && out.len() > 1 {
        let names: Vec<&str> = considered.iter().map(|p| p.name()).collect();
        return Err(MatchError::Policy(format!(
            "There are policies with conflicting actions: {}",
            repr_str_list(&names)
        )));
    }
    Ok(out)
}

/// privacyIDEA's `check_for_conflicts(policies, action)`.
pub fn check_for_conflicts(policies: &[&Policy], action: &str) -> Result<(), MatchError> {
    if policies.len() <= 1 {
        return Ok(());
    }
    let Some(top) = policies.iter().min_by_key(|p| p.priority()) else {
        return Ok(());
    };
    let get = |p: &Policy| {
        p.action()
            .get(action)
            .cloned()
            .ok_or_else(|| MatchError::MissingAction {
                policy: p.name().to_string(),
                action: action.to_string(),
            })
    };
    let top_value = get(top)?;
    for p in policies.iter().filter(|p| p.priority() == top.priority()) {
        if get(p)? != top_value {
            return Err(MatchError::Policy(format!(
                "Contradicting {action} policies."
            )));
        }
    }
    Ok(())
}
