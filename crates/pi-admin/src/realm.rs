//! Realm use cases (`/realm`, `/defaultrealm`, `pi-manage config realm`):
//! privacyIDEA's representation of a realm, which assignments a write keeps,
//! and the writes (each needs its [`Granted`] proof on the server).

use crate::error::{ApiError, ApiResult};
use crate::gate::{Granted, ResolverDelete, ResolverWrite};
use crate::state::{AppState, Snapshot};
use crate::write::checked_write;
use crate::Admin;
use pi_model::record::{RealmRecord, RealmResolverAssignment};
use pi_store::{DeleteRealmOutcome, Precondition, SetRealmError, SetRealmOutcome, Store};
use serde_json::{json, Map, Value};

/// privacyIDEA's representation of one realm.
pub fn realm_json(r: &RealmRecord) -> Value {
    let resolvers: Vec<Value> = r
        .resolvers
        .iter()
        .map(|rr| json!({"name": rr.name, "type": rr.rtype, "priority": rr.priority, "node": rr.node}))
        .collect();
    json!({"id": r.id, "default": r.default, "resolver": resolvers})
}

/// [`pi_model::names::normalize_realm_name`]; privacyIDEA raises a plain
/// exception (HTTP 500) for an invalid name, we answer 400.
pub fn normalize_realm_name(raw: &str) -> ApiResult<String> {
    pi_model::names::normalize_realm_name(raw).map_err(ApiError::parameter)
}

/// `GET /realm/`: every realm, or — when the admin's policies name realms —
/// those (a realm named in a policy but not existing appears as `null`,
/// privacyIDEA's quirk).
pub fn list_json(snap: &Snapshot, admin: &Admin) -> ApiResult<Value> {
    let allowed = crate::policyset::admin_realms(&snap.policy_set, admin.caller())?;
    let mut out = Map::new();
    match allowed {
        None => {
            for r in &snap.realms {
                out.insert(r.name.clone(), realm_json(r));
            }
        }
        Some(names) => {
            for name in names {
                let v = snap.realm(&name).map(realm_json).unwrap_or(Value::Null);
                out.insert(name, v);
            }
        }
    }
    Ok(Value::Object(out))
}

/// `GET /defaultrealm`: `{<name>: realm}` of the default realm, or `{}`.
pub fn default_json(snap: &Snapshot) -> Value {
    let mut out = Map::new();
    if let Some(r) = snap.default_realm() {
        out.insert(r.name.clone(), realm_json(r));
    }
    Value::Object(out)
}

/// `POST /realm/<name>`: the new assignments for all nodes plus the realm's
/// node-specific ones, which the write keeps. (privacyIDEA looks the realm
/// up by the name as typed and drops them for `POST /realm/MyRealm`; we
/// look it up by the stored lower-case name.)
pub fn keep_node_assignments(
    snap: &Snapshot,
    name: &str,
    assignments: Vec<RealmResolverAssignment>,
) -> Vec<RealmResolverAssignment> {
    keep_stored(snap, name, assignments, |node| {
        node.filter(|n| !n.is_empty()).map(str::to_owned)
    })
}

/// `assignments` plus the realm's stored assignments whose node `kept`
/// keeps (`Some(node)`: kept, on that node).
fn keep_stored(
    snap: &Snapshot,
    name: &str,
    mut assignments: Vec<RealmResolverAssignment>,
    kept: impl Fn(Option<&str>) -> Option<String>,
) -> Vec<RealmResolverAssignment> {
    for rr in snap.realm(name).map_or(&[][..], |r| &r.resolvers) {
        if let Some(node) = kept(rr.node.as_deref()) {
            assignments.push(RealmResolverAssignment {
                name: rr.name.clone(),
                priority: rr.priority,
                node,
            });
        }
    }
    assignments
}

/// `POST /realm/<name>/node/<node>`: the new assignments of `node_id` plus
/// the realm's assignments of every other node (migrated rows with node
/// `NULL` are "all nodes", `''` — privacyIDEA loses them here).
pub fn keep_other_nodes(
    snap: &Snapshot,
    name: &str,
    node_id: &str,
    assignments: Vec<RealmResolverAssignment>,
) -> Vec<RealmResolverAssignment> {
    keep_stored(snap, name, assignments, |node| {
        let node = node.unwrap_or_default();
        (node != node_id).then(|| node.to_owned())
    })
}

/// Whether `node_id` is a registered node. A node registered after the
/// snapshot was built does not move the config version: ask `nodename`
/// itself when the snapshot does not know it.
pub async fn node_known(state: &AppState, snap: &Snapshot, node_id: &str) -> ApiResult<bool> {
    if snap.nodes.iter().any(|n| n.uuid == node_id) {
        return Ok(true);
    }
    let nodes = state.db(|s| s.list_nodes()).await?;
    Ok(nodes.iter().any(|n| n.uuid == node_id))
}

/// privacyIDEA's error for a rejected realm write.
pub fn set_realm_error(e: SetRealmError) -> ApiError {
    match e {
        SetRealmError::DuplicateAssignment { resolver, node } => {
            let node = if node.is_empty() {
                "all nodes".to_string()
            } else {
                format!("node {node}")
            };
            ApiError::parameter(format!(
                "The resolver '{resolver}' is given twice for {node}."
            ))
        }
        SetRealmError::Store(s) => s.into(),
    }
}

/// Replace the realm's assignments (the one write `POST /realm`, the
/// node route, `pi-manage config realm create` and the import share).
pub fn store_set(
    store: &pi_store::Store,
    name: &str,
    assignments: &[RealmResolverAssignment],
) -> Result<SetRealmOutcome, SetRealmError> {
    store.set_realm(name, assignments)
}

/// `POST /realm/<name>` and `POST /realm/<name>/node/<node>`: replace the
/// realm's assignments (under `pre`, `If-Match`) and refresh the snapshot.
pub async fn write(
    state: &AppState,
    _granted: &Granted<ResolverWrite>,
    name: String,
    assignments: Vec<RealmResolverAssignment>,
    pre: Option<Precondition>,
) -> ApiResult<SetRealmOutcome> {
    let set = move |s: &Store| Ok(store_set(s, &name, &assignments));
    checked_write(state, pre, set, |outcome| outcome.map_err(set_realm_error)).await
}

/// `DELETE /realm/<name>` (the exact name as typed: privacyIDEA does not
/// lower-case here): the id of the deleted realm.
pub async fn delete(
    state: &AppState,
    _granted: &Granted<ResolverDelete>,
    raw: &str,
    delete_custom_attributes: bool,
    pre: Option<Precondition>,
) -> ApiResult<i64> {
    let name = raw.to_owned();
    let delete = move |s: &Store| s.delete_realm_checked(&name, delete_custom_attributes);
    checked_write(state, pre, delete, |outcome| match outcome {
        DeleteRealmOutcome::Deleted(id) => Ok(id),
        DeleteRealmOutcome::NotFound => {
            Err(ApiError::not_found("The requested Realm could not be found."))
        }
        DeleteRealmOutcome::TokenOwned => Err(ApiError::generic(
            904,
            "Realm can not be deleted, because a user of this realm is still assigned to a token.",
        )),
        DeleteRealmOutcome::ContainerOwned => Err(ApiError::generic(
            904,
            "Realm can not be deleted, because a user of this realm is still assigned to a container.",
        )),
        DeleteRealmOutcome::CustomAttributes(keys) => Err(ApiError::generic(
            908,
            format!(
                "Realm '{raw}' contains custom user attributes ({}). Deleting the realm will also delete these custom user attributes.",
                keys.join(", ")
            ),
        )),
    })
    .await
}

/// `POST /defaultrealm/<name>` (`name` already trimmed and lower-cased):
/// the id of the new default realm.
pub async fn set_default(
    state: &AppState,
    _granted: &Granted<ResolverWrite>,
    name: String,
) -> ApiResult<i64> {
    checked_write(
        state,
        None,
        move |s| s.set_default_realm(&name),
        |id| id.ok_or_else(|| ApiError::not_found("The requested Realm could not be found.")),
    )
    .await
}

/// `DELETE /defaultrealm`: the id of the realm that was the default.
pub async fn clear_default(state: &AppState, _granted: &Granted<ResolverDelete>) -> ApiResult<i64> {
    checked_write(state, None, |s| s.clear_default_realm(), Ok).await
}

// ----- the parameters of the realm writes -----

/// `resolvers` as comma string (names stripped) or JSON list, with the raw
/// (unstripped) name used for the `priority.<name>` lookup.
fn resolver_names(v: &Value) -> ApiResult<Vec<(String, String)>> {
    match v {
        Value::String(s) => Ok(s
            .split(',')
            .map(|raw| (raw.trim().to_string(), raw.to_string()))
            .collect()),
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => Ok((s.trim().to_string(), s.clone())),
                other => Err(ApiError::parameter(format!(
                    "Invalid resolver name {other} in resolvers."
                ))),
            })
            .collect(),
        _ => Err(ApiError::parameter(
            "The parameter resolvers must be a comma separated string or a list.",
        )),
    }
}

/// `priority.<name>`: JSON integers (and `true` = 1) as privacyIDEA, plus
/// numeric strings (privacyIDEA silently drops form values — deviation).
fn priority_of(params: &Map<String, Value>, raw_name: &str) -> ApiResult<Option<i64>> {
    let key = format!("priority.{raw_name}");
    let not_integer = || ApiError::parameter(format!("The value of {key} must be an integer."));
    let p = match params.get(&key) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(1),
        Some(Value::Number(n)) => Some(n.as_i64().ok_or_else(not_integer)?),
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.trim().parse::<i64>().map_err(|_| not_integer())?),
        Some(_) => return Err(not_integer()),
    };
    if p.is_some_and(|i| !pi_model::pyrepr::fits_db_int(i)) {
        return Err(ApiError::parameter(format!(
            "The value of {key} is out of range (-2147483648 to 2147483647)."
        )));
    }
    Ok(p.filter(|&i| i != 0))
}

/// The all-nodes assignments of `POST /realm/<realm>`: `resolvers`
/// (comma string or list) with their `priority.<resolver>` parameters.
pub fn assignments_from_params(
    params: &Map<String, Value>,
) -> ApiResult<Vec<RealmResolverAssignment>> {
    let names = match params.get("resolvers") {
        None | Some(Value::Null) => return Err(ApiError::missing("resolvers")),
        Some(Value::String(s)) if s.is_empty() => return Err(ApiError::missing("resolvers")),
        Some(v) => resolver_names(v)?,
    };
    names
        .into_iter()
        .map(|(name, raw_name)| {
            Ok(RealmResolverAssignment {
                priority: priority_of(params, &raw_name)?,
                name,
                node: String::new(),
            })
        })
        .collect()
}

fn verify_error() -> ApiError {
    ApiError::parameter("Could not verify data in request!")
}

/// The assignments of `POST /realm/<realm>/node/<node_id>`: `resolver`, a
/// list of `{"name": …, "priority": …}` objects (a float priority is
/// truncated, a numeric string parsed, as privacyIDEA's `int()`).
pub fn node_assignments_from_params(
    params: &Map<String, Value>,
    node_id: &str,
) -> ApiResult<Vec<RealmResolverAssignment>> {
    let Some(Value::Array(entries)) = params.get("resolver") else {
        return Err(verify_error());
    };
    let mut assignments = Vec::new();
    for entry in entries {
        let Value::Object(obj) = entry else {
            return Err(verify_error());
        };
        let Some(Value::String(name)) = obj.get("name") else {
            return Err(verify_error());
        };
        let priority = match obj.get("priority") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(1),
            Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Some(i),
                (None, Some(f)) if f.is_finite() => Some(f.trunc() as i64),
                _ => return Err(verify_error()),
            },
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s.trim().parse::<i64>().map_err(|_| verify_error())?),
            Some(_) => return Err(verify_error()),
        };
        if let Some(p) = priority.filter(|&p| !pi_model::pyrepr::fits_db_int(p)) {
            return Err(ApiError::parameter(format!(
                "The priority {p} of resolver '{name}' is out of range (-2147483648 to 2147483647)."
            )));
        }
        assignments.push(RealmResolverAssignment {
            name: name.trim().to_string(),
            priority: priority.filter(|&p| p != 0),
            node: node_id.to_owned(),
        });
    }
    Ok(assignments)
}

/// The audit `info` of `POST /realm/<realm>`, as privacyIDEA writes it:
/// `realm: 'r', resolvers: [{'name': 'a', 'priority': 2}, …]` (the
/// all-nodes assignments).
pub fn audit_info(realm: &str, assignments: &[RealmResolverAssignment]) -> String {
    let items: Vec<String> = assignments
        .iter()
        .filter(|a| a.node.is_empty())
        .map(|a| {
            let p = a
                .priority
                .map_or_else(|| "None".to_owned(), |p| p.to_string());
            format!(
                "{{'name': {}, 'priority': {p}}}",
                pi_model::pyrepr::repr_str(&a.name)
            )
        })
        .collect();
    format!(
        "realm: {}, resolvers: [{}]",
        pi_model::pyrepr::repr_str(realm),
        items.join(", ")
    )
}

#[cfg(test)]
mod param_tests {
    use super::*;

    fn params(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn pairs(a: &[RealmResolverAssignment]) -> Vec<(&str, Option<i64>, &str)> {
        a.iter()
            .map(|x| (x.name.as_str(), x.priority, x.node.as_str()))
            .collect()
    }

    #[test]
    fn resolvers_with_priorities() {
        let p = params(json!({"resolvers": "r1, r2,r3", "priority.r1": 3,
                               "priority. r2": "7", "priority.r3": 0}));
        let a = assignments_from_params(&p).unwrap();
        assert_eq!(
            pairs(&a),
            [("r1", Some(3), ""), ("r2", Some(7), ""), ("r3", None, "")]
        );
        assert_eq!(
            audit_info("realm1", &a),
            "realm: 'realm1', resolvers: [{'name': 'r1', 'priority': 3}, {'name': 'r2', 'priority': 7}, {'name': 'r3', 'priority': None}]"
        );
        let p = params(json!({"resolvers": ["a"], "priority.a": true}));
        assert_eq!(
            pairs(&assignments_from_params(&p).unwrap()),
            [("a", Some(1), "")]
        );
    }

    #[test]
    fn bad_resolver_parameters_are_parameter_errors() {
        for bad in [
            json!({}),
            json!({"resolvers": ""}),
            json!({"resolvers": 5}),
            json!({"resolvers": [1]}),
            json!({"resolvers": "a", "priority.a": 1.5}),
            json!({"resolvers": "a", "priority.a": "x"}),
            json!({"resolvers": "a", "priority.a": [1]}),
            json!({"resolvers": "a", "priority.a": 4_294_967_296_i64}),
        ] {
            let e = assignments_from_params(&params(bad.clone())).unwrap_err();
            assert_eq!(e.kind.status(), 400, "{bad}");
        }
    }

    #[test]
    fn node_entries() {
        let p = params(json!({"resolver": [
            {"name": " r1 ", "priority": 2.9}, {"name": "r2", "priority": "4"},
            {"name": "r3"}, {"name": "r4", "priority": true}]}));
        assert_eq!(
            pairs(&node_assignments_from_params(&p, "n1").unwrap()),
            [
                ("r1", Some(2), "n1"),
                ("r2", Some(4), "n1"),
                ("r3", None, "n1"),
                ("r4", Some(1), "n1")
            ]
        );
        for bad in [
            json!({}),
            json!({"resolver": null}),
            json!({"resolver": ["r1"]}),
            json!({"resolver": [{"priority": 1}]}),
            json!({"resolver": [{"name": "r", "priority": "x"}]}),
            json!({"resolver": [{"name": "r", "priority": 3_000_000_000_i64}]}),
        ] {
            let e = node_assignments_from_params(&params(bad.clone()), "n1").unwrap_err();
            assert_eq!(e.kind.status(), 400, "{bad}");
        }
    }
}
