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
