//! privacyIDEA's configuration file (`pi-manage config export|import`:
//! `{"policy": [...], "realm": {...}, "resolver": {...},
//! "privacyIDEA_version": "3.14"}`) for the types this server manages: how
//! each object is exported, and the import plans — the file parsed (JSON or
//! a Python literal), a realm's assignment list and priorities, a resolver
//! entry (dict or the list of privacyIDEA < 3.8), `--skip-invalid`'s policy
//! action filter. The writes go through the same use cases as the API
//! (`realm::store_set`, `resolver::save_stored`, `policy::plan_write`).

use pi_model::record::{PolicyRecord, RealmRecord, RealmResolverAssignment};
use pi_realm::DecodedResolver;
use serde_json::{json, Map, Value};

/// The version written into exports and compared on import.
pub const VERSION: &str = "3.14";

/// The sections this server imports and exports (the others are skipped
/// with a note).
pub const SECTIONS: [&str; 4] = ["policy", "realm", "resolver", "privacyIDEA_version"];

/// A policy as exported (the API's JSON of the policy).
pub fn export_policy(r: &PolicyRecord) -> Value {
    pi_model::Policy::from_record(r).to_json()
}

/// A realm as exported: id, default flag and its assignments (name, type,
/// priority, node — `""` for all nodes).
pub fn export_realm(r: &RealmRecord) -> Value {
    let resolvers: Vec<Value> = r
        .resolvers
        .iter()
        .map(|rr| {
            json!({"name": rr.name, "type": rr.rtype, "priority": rr.priority,
                   "node": rr.node.clone().unwrap_or_default()})
        })
        .collect();
    json!({"id": r.id, "default": r.default, "resolver": resolvers})
}

/// A resolver as exported, its secrets in clear text unless `censor`.
pub fn export_resolver(d: &DecodedResolver, censor: bool) -> Value {
    let data = if censor {
        d.censored_data()
    } else {
        d.data.clone()
    };
    json!({"type": d.rtype, "resolvername": d.name,
           "censor_keys": d.censor_keys, "data": data})
}

/// Parse an import file: JSON, else a Python literal (`ast.literal_eval`);
/// `None` unless it is a non-empty dict.
pub fn parse(text: &str) -> Option<Map<String, Value>> {
    let value = serde_json::from_str::<Value>(text)
        .ok()
        .or_else(|| pi_model::pyliteral::parse(text).ok().map(|v| v.to_json()))?;
    match value {
        Value::Object(m) if !m.is_empty() => Some(m),
        _ => None,
    }
}

/// What the release says about the file's `privacyIDEA_version`: `None`
/// when it matches ours (major.minor), else the warning's first line.
pub fn version_warning(data: &Map<String, Value>) -> Option<String> {
    let minor = |s: &str| s.split('.').take(2).collect::<Vec<_>>().join(".");
    match data.get("privacyIDEA_version").and_then(Value::as_str) {
        None => Some("Unable to determine the version of exported data.".into()),
        Some(v) if minor(v) != VERSION => Some(format!(
            "Version of export ({}) does not match current privacyIDEA version ({VERSION}).",
            minor(v)
        )),
        Some(_) => None,
    }
}

/// The resolvers of an import's section by name: a dict, or the list of
/// privacyIDEA < 3.8 (named by each entry's `resolvername`).
pub fn resolver_entries(section: &Value) -> Result<Vec<(String, Value)>, String> {
    match section {
        Value::Object(m) => Ok(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        Value::Array(a) => Ok(a
            .iter()
            .map(|v| {
                let n = v
                    .get("resolvername")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                (n.to_string(), v.clone())
            })
            .collect()),
        _ => Err("the resolver section is neither a dict nor a list".into()),
    }
}

/// One resolver to import: name, type and parameters.
pub struct ResolverPlan<'a> {
    /// `resolvername`, else the entry's key.
    pub name: &'a str,
    /// `type`.
    pub rtype: &'a str,
    /// `data` (empty when absent).
    pub params: Map<String, Value>,
}

/// Read one resolver entry of an import.
pub fn resolver_plan<'a>(key: &'a str, entry: &'a Value) -> Result<ResolverPlan<'a>, String> {
    let Value::Object(obj) = entry else {
        return Err("not a dict".into());
    };
    let rtype = obj.get("type").and_then(Value::as_str).ok_or("no `type`")?;
    let name = obj
        .get("resolvername")
        .and_then(Value::as_str)
        .unwrap_or(key);
    let params = match obj.get("data") {
        Some(Value::Object(d)) => d.clone(),
        None => Map::new(),
        Some(_) => return Err("`data` is not a dict".into()),
    };
    Ok(ResolverPlan {
        name,
        rtype,
        params,
    })
}

/// A realm assignment's priority: absent, `null`, `""` and `0` are unset;
/// a number or a numeric string within the database's integer range.
pub fn priority_of(v: Option<&Value>) -> Result<Option<i64>, String> {
    let p = match v {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(n.as_i64().ok_or(format!("invalid priority {n}"))?),
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(
            s.trim()
                .parse::<i64>()
                .map_err(|_| format!("invalid priority `{s}`"))?,
        ),
        Some(other) => return Err(format!("invalid priority {other}")),
    };
    match p {
        Some(p) if !pi_model::pyrepr::fits_db_int(p) => Err(format!(
            "the priority {p} is out of range (-2147483648 to 2147483647)"
        )),
        Some(0) => Ok(None),
        p => Ok(p),
    }
}

/// One realm to import.
pub struct RealmPlan {
    /// The normalised realm name.
    pub name: String,
    /// Its resolvers (names trimmed), priorities and nodes.
    pub assignments: Vec<RealmResolverAssignment>,
    /// Whether it becomes the default realm.
    pub default: bool,
}

/// Read one realm entry of an import: its `resolver` list holds names
/// (older exports) or `{name, priority, node}` dicts.
pub fn realm_plan(raw_name: &str, conf: &Value) -> Result<RealmPlan, String> {
    let name = pi_model::names::normalize_realm_name(raw_name)?;
    let entries = match conf.get("resolver") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err("`resolver` is not a list".into()),
    };
    let mut assignments = Vec::with_capacity(entries.len());
    for e in entries {
        let (rname, priority, node) = match e {
            Value::String(s) => (s.clone(), None, String::new()),
            Value::Object(o) => (
                o.get("name")
                    .and_then(Value::as_str)
                    .ok_or("a resolver entry without `name`")?
                    .to_string(),
                priority_of(o.get("priority"))?,
                o.get("node")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            ),
            _ => return Err("a resolver entry is neither a name nor a dict".into()),
        };
        assignments.push(RealmResolverAssignment {
            name: rname.trim().to_string(),
            priority,
            node,
        });
    }
    let default = conf.get("default").is_some_and(pi_model::pyrepr::is_true);
    Ok(RealmPlan {
        name,
        assignments,
        default,
    })
}

/// `--skip-invalid`: drop the actions that do not exist in the policy's
/// scope. `None` when no action is left (the policy is skipped); whether
/// any was dropped.
pub fn drop_invalid_actions(params: &mut Map<String, Value>) -> Option<bool> {
    let scope = params
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(Value::Object(actions)) = params.get("action") else {
        return Some(false);
    };
    let before = actions.len();
    let kept: Map<String, Value> = actions
        .iter()
        .filter(|(k, _)| {
            let bare = k.trim_start_matches(['!', '-']);
            bare == "*" || bare.is_empty() || pi_model::defs::is_action_allowed(&scope, bare)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if kept.len() == before {
        return Some(false);
    }
    if kept.is_empty() {
        return None;
    }
    params.insert("action".into(), Value::Object(kept));
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realm_entries_and_priorities() {
        let plan = realm_plan(
            "Realm1",
            &json!({"default": "True", "resolver": ["r1 ", {"name": "r2", "priority": "5", "node": "n"}, {"name": "r3", "priority": 0}]}),
        )
        .unwrap();
        assert_eq!(plan.name, "realm1");
        assert!(plan.default);
        let got: Vec<_> = plan
            .assignments
            .iter()
            .map(|a| (a.name.as_str(), a.priority, a.node.as_str()))
            .collect();
        assert_eq!(
            got,
            [("r1", None, ""), ("r2", Some(5), "n"), ("r3", None, "")]
        );
        assert!(realm_plan("r", &json!({"resolver": "x"})).is_err());
        assert!(realm_plan("r", &json!({"resolver": [{"priority": 1}]})).is_err());
        assert!(priority_of(Some(&json!("abc"))).is_err());
        assert!(priority_of(Some(&json!(4_000_000_000_i64))).is_err());
        assert_eq!(priority_of(Some(&json!(" 7 "))), Ok(Some(7)));
    }

    #[test]
    fn files_and_versions() {
        assert!(parse("{}").is_none());
        assert!(parse("[1]").is_none());
        let py = parse("{'policy': [], 'privacyIDEA_version': '3.14.1'}").unwrap();
        assert_eq!(version_warning(&py), None);
        let old = parse(r#"{"privacyIDEA_version": "3.9"}"#).unwrap();
        assert!(version_warning(&old).unwrap().contains("(3.9)"));
    }

    #[test]
    fn invalid_actions_dropped() {
        let mut p = json!({"scope": "admin", "action": {"policyread": true, "nosuchaction": true}})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(drop_invalid_actions(&mut p), Some(true));
        assert_eq!(p["action"], json!({"policyread": true}));
        let mut none = json!({"scope": "admin", "action": {"nosuchaction": true}})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(drop_invalid_actions(&mut none), None);
    }
}
