//! Policy use cases: list (privacyIDEA's `get_policies` filter over the
//! snapshot), the write rules (validation against the configuration, which
//! conditions are replaced) shared by `POST /policy/<name>` and
//! `pi-manage`, and the writes of the server (each needs its
//! [`Granted`] proof).

use crate::error::{ApiError, ApiResult};
use crate::gate::{Granted, PolicyDelete, PolicyRead, PolicyWrite};
use crate::state::{AppState, Snapshot};
use pi_model::record::{ConditionRecord, PolicyRecord};
use pi_model::{PolicyWrite as Write, ValidationContext, ValidationError};
use pi_store::{PolicyFilter, Precondition};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// privacyIDEA's error for a rejected policy write (its own code, HTTP 400).
pub fn validation_error(e: ValidationError) -> ApiError {
    ApiError::generic(i64::from(e.code()), e.message())
}

/// `GET /policy/`: the JSON list of the snapshot's policies that pass
/// `filter` (the one filter implementation, [`PolicyFilter::matches`]).
pub fn list_json<'a>(granted: &'a Granted<PolicyRead>, filter: &PolicyFilter) -> Cow<'a, str> {
    let snap = granted.snapshot();
    let cache = snap.policy_json();
    if filter.is_empty() {
        return Cow::Borrowed(&cache.all);
    }
    let selected: Vec<&str> = snap
        .policies
        .iter()
        .zip(&cache.items)
        .filter(|(r, _)| filter.matches(r))
        .map(|(_, j)| j.as_str())
        .collect();
    Cow::Owned(format!("[{}]", selected.join(",")))
}

/// The configuration a policy is validated against.
pub fn validation_context(
    snap: &Snapshot,
    cfg: &pi_config::PiConfig,
    nodes: Vec<String>,
) -> ValidationContext {
    ValidationContext {
        realms: snap.realms.iter().map(|r| r.name.clone()).collect(),
        resolvers: snap.resolvers.iter().map(|r| r.name.clone()).collect(),
        nodes,
        superuser_realms: cfg.superuser_realm.clone(),
    }
}

/// The configuration a policy is validated against, read from the store
/// (`pi-manage`, which has no snapshot): realms, resolvers, named nodes.
pub fn stored_validation_context(
    store: &pi_store::Store,
    cfg: &pi_config::PiConfig,
) -> Result<ValidationContext, pi_store::StoreError> {
    Ok(ValidationContext {
        realms: store.list_realms()?.into_iter().map(|r| r.name).collect(),
        resolvers: store
            .list_resolvers()?
            .into_iter()
            .map(|r| r.name)
            .collect(),
        nodes: store
            .list_nodes()?
            .into_iter()
            .filter(|n| !n.name.is_empty())
            .map(|n| n.name)
            .collect(),
        superuser_realms: cfg.superuser_realm.clone(),
    })
}

/// A validated policy write: the record to store and the conditions that
/// replace the stored ones (`None`: keep them).
#[derive(Debug, Clone)]
pub struct PlannedWrite {
    /// The policy's row.
    pub record: PolicyRecord,
    /// The new conditions, when they replace the stored ones (a new policy,
    /// or a `conditions` parameter that is not `null`).
    pub conditions: Option<Vec<ConditionRecord>>,
}

/// privacyIDEA's `set_policy` rules for `POST /policy/<name>`-style
/// parameters over the stored policy `existing`: the server and
/// `pi-manage` write through this one function.
pub fn plan_write(
    ctx: &ValidationContext,
    existing: Option<&PolicyRecord>,
    name: &str,
    params: &Map<String, Value>,
) -> Result<PlannedWrite, ValidationError> {
    let write = Write::from_params(name, params);
    let record = write.validate(ctx, existing)?;
    let replace = existing.is_none() || write.conditions.as_ref().is_some_and(|c| !c.is_null());
    let conditions = replace.then(|| record.conditions.clone());
    Ok(PlannedWrite { record, conditions })
}

/// Known node names, read from `nodename` (a node registering itself does
/// not change the configuration version, so the snapshot may lag behind).
pub async fn node_names(state: &AppState) -> ApiResult<Vec<String>> {
    let nodes = state.db(|s| s.list_nodes()).await?;
    Ok(nodes
        .into_iter()
        .filter(|n| !n.name.is_empty())
        .map(|n| n.name)
        .collect())
}

/// `POST /policy/<name>`: validate, store (under `pre`, `If-Match`), apply
/// to the snapshot; the policy's id.
pub async fn write(
    state: &AppState,
    granted: &Granted<PolicyWrite>,
    name: &str,
    params: &Map<String, Value>,
    pre: Option<Precondition>,
) -> ApiResult<i64> {
    let snap = granted.snapshot();
    let nodes = if params.get("pinode").is_some() || params.get("edumfanode").is_some() {
        node_names(state).await?
    } else {
        Vec::new()
    };
    let ctx = validation_context(snap, &state.cfg, nodes);
    let existing = snap.policies.iter().find(|p| p.name == name).map(|p| &**p);
    let plan = plan_write(&ctx, existing, name, params).map_err(validation_error)?;
    let replaced = plan.conditions.is_some();
    let (id, stored, step) = state
        .db(move |s| {
            let (id, step) = s.with_precondition(pre, |s| {
                s.save_policy_versioned(&plan.record, plan.conditions.as_deref())
            })?;
            Ok((id, PolicyRecord { id, ..plan.record }, step))
        })
        .await?;
    state.apply_policy_write(step, stored, replaced).await?;
    Ok(id)
}

/// `POST /policy/enable|disable/<name>`: the policy's id.
pub async fn set_active(
    state: &AppState,
    _granted: &Granted<PolicyWrite>,
    name: &str,
    active: bool,
    pre: Option<Precondition>,
) -> ApiResult<i64> {
    let n = name.to_owned();
    let id = state
        .db(move |s| s.with_precondition(pre, |s| s.set_policy_active(&n, active)))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("The policy with name '{name}' does not exist"))
        })?;
    state.refresh().await?;
    Ok(id)
}

/// `DELETE /policy/<name>`: the id of the deleted policy.
pub async fn delete(
    state: &AppState,
    _granted: &Granted<PolicyDelete>,
    name: &str,
    pre: Option<Precondition>,
) -> ApiResult<i64> {
    let n = name.to_owned();
    let id = state
        .db(move |s| s.with_precondition(pre, |s| s.delete_policy(&n)))
        .await?
        .ok_or_else(|| ApiError::not_found("The requested Policy could not be found."))?;
    state.refresh().await?;
    Ok(id)
}
