//! Policy use cases: list (privacyIDEA's `get_policies` filter over the
//! snapshot), `/policy/check`, the action catalogue, export and the import
//! plan, the write rules (validation against the configuration, which
//! conditions are replaced) shared by `POST /policy/<name>` and
//! `pi-manage`, and the writes of the server (each needs its
//! [`Granted`] proof).

use crate::caller::Admin;
use crate::error::{ApiError, ApiResult};
use crate::gate::{Granted, PolicyDelete, PolicyRead, PolicyWrite};
use crate::policyset::{map_match_error, match_context_parts};
use crate::request::{param_is_true, param_str, required_param};
use crate::state::{AppState, Snapshot};
use crate::write::checked_write;
use pi_model::record::{ConditionRecord, PolicyRecord};
use pi_model::{PolicyWrite as Write, ValidationContext, ValidationError};
use pi_policy::GenericParams;
use pi_store::{PolicyFilter, Precondition};
use serde_json::{json, Map, Value};
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

/// The filter of `GET /policy/[<name>]` from its parameters (names
/// lower-cased): `realm`, `scope`, `active`; exact values compare
/// case-insensitively where privacyIDEA's SQL filter does (MariaDB/MySQL's
/// collation).
pub fn list_filter(
    state: &AppState,
    name: Option<String>,
    params: &Map<String, Value>,
) -> PolicyFilter {
    PolicyFilter {
        name,
        realm: param_str(params, "realm"),
        scope: param_str(params, "scope"),
        active: params
            .get("active")
            .filter(|v| !v.is_null())
            .map(pi_model::pyrepr::is_true),
        exact_ignores_case: state.store.backend().text_equality_ignores_case(),
        ..PolicyFilter::default()
    }
}

/// `GET /policy/defs[/<scope>]`: the whole catalogue, one scope (`null`
/// when unknown), the condition definitions, or the node names.
pub async fn defs(
    state: &AppState,
    granted: &Granted<PolicyRead>,
    scope: Option<&str>,
) -> ApiResult<Value> {
    Ok(match scope {
        Some("conditions") => pi_model::condition::conditions_defs_json(),
        Some("pinodes" | "edumfanodes") => json!(node_names(state).await?),
        other => crate::defs::defs_json(other, granted.snapshot()),
    })
}

/// `GET /policy/export/<filename>`: the snapshot's policies in
/// privacyIDEA's file format (pi-model's `policyfile`).
pub fn export(granted: &Granted<PolicyRead>) -> String {
    pi_model::policyfile::export(granted.snapshot().policy_set.policies())
}

/// `Content-Disposition` for a client-chosen export file name: path
/// separators and control characters removed; a quoted ASCII `filename`
/// plus RFC 5987 `filename*` when the name is not plain ASCII (RFC 6266).
pub fn export_disposition(raw: &str) -> String {
    let clean: String = raw
        .chars()
        .filter(|c| !matches!(c, '/' | '\\') && !c.is_control())
        .collect();
    let clean = clean.trim();
    let clean = if clean.is_empty() || clean == "." || clean == ".." {
        "policies.cfg"
    } else {
        clean
    };
    let ascii: String = clean
        .chars()
        .map(|c| if c.is_ascii() && c != '"' { c } else { '_' })
        .collect();
    let mut out = format!("attachment; filename=\"{ascii}\"");
    if ascii != clean {
        let mut enc = String::new();
        for b in clean.bytes() {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                enc.push(char::from(b));
            } else {
                enc.push_str(&format!("%{b:02X}"));
            }
        }
        out.push_str(&format!("; filename*=UTF-8''{enc}"));
    }
    out
}

/// What `POST /policy/import/<filename>` would write, validated against one
/// snapshot before anything is written.
pub struct ImportPlan {
    /// Policies that do not exist yet.
    pub created: Vec<String>,
    /// Existing policies the file changes.
    pub changed: Vec<String>,
    /// Existing policies the file repeats unchanged.
    pub unchanged: Vec<String>,
    writes: Vec<(PolicyRecord, Option<Vec<ConditionRecord>>)>,
}

impl ImportPlan {
    /// The `dry_run` answer: `{created, changed, unchanged}`.
    pub fn summary_json(&self) -> Value {
        json!({
            "created": self.created,
            "changed": self.changed,
            "unchanged": self.unchanged,
        })
    }
}

/// Parse an uploaded policy file (UTF-8, not empty, privacyIDEA's format)
/// and validate every policy in it against the current configuration.
pub async fn plan_import(
    state: &AppState,
    _granted: &Granted<PolicyWrite>,
    bytes: Vec<u8>,
) -> ApiResult<ImportPlan> {
    let text = String::from_utf8(bytes).map_err(|_| {
        ApiError::parameter("Unable to convert file contents. Binary data is not supported")
    })?;
    if text.is_empty() {
        return Err(ApiError::parameter("Error loading policy. File empty!"));
    }
    let items =
        pi_model::policyfile::read(&text).map_err(|e| ApiError::parameter(e.to_string()))?;
    let snap = state.snapshot().await?;
    let ctx = validation_context(&snap, &state.cfg, node_names(state).await?);
    let mut plan = ImportPlan {
        created: Vec::new(),
        changed: Vec::new(),
        unchanged: Vec::new(),
        writes: Vec::with_capacity(items.len()),
    };
    for item in &items {
        let existing = snap
            .policies
            .iter()
            .find(|p| p.name == item.name)
            .map(|p| &**p);
        let rec = Write::from_params(&item.name, &item.params)
            .validate(&ctx, existing)
            .map_err(validation_error)?;
        match existing {
            None => plan.created.push(item.name.clone()),
            Some(old) if *old == rec => plan.unchanged.push(item.name.clone()),
            Some(_) => plan.changed.push(item.name.clone()),
        }
        let conditions =
            (item.has_conditions || existing.is_none()).then(|| rec.conditions.clone());
        plan.writes.push((rec, conditions));
    }
    Ok(plan)
}

/// Write an import plan in one transaction; the number of policies written.
pub async fn import(
    state: &AppState,
    _granted: &Granted<PolicyWrite>,
    plan: ImportPlan,
) -> ApiResult<usize> {
    let writes = plan.writes;
    let ids = state.db(move |s| s.import_policies(&writes)).await?;
    if !ids.is_empty() {
        state.refresh().await?;
    }
    Ok(ids.len())
}

/// The question of `GET /policy/check` (parameter names lower-cased).
pub struct CheckQuery {
    /// `user` (required).
    pub user: String,
    /// `realm` (required).
    pub realm: String,
    /// `scope` (required).
    pub scope: String,
    /// `action` (required).
    pub action: String,
    /// `client`.
    pub client: Option<String>,
    /// `resolver`.
    pub resolver: Option<String>,
    /// `explain`: answer the engine's explanation too.
    pub explain: bool,
}

impl CheckQuery {
    /// From the request parameters; a missing `user`, `realm`, `scope` or
    /// `action` (in this order) is a ParameterError.
    pub fn from_params(params: &Map<String, Value>) -> ApiResult<CheckQuery> {
        Ok(CheckQuery {
            user: required_param(params, "user")?,
            realm: required_param(params, "realm")?,
            scope: required_param(params, "scope")?,
            action: required_param(params, "action")?,
            client: param_str(params, "client"),
            resolver: param_str(params, "resolver"),
            explain: param_is_true(params, "explain", false),
        })
    }
}

/// The answer of `GET /policy/check`.
pub enum CheckAnswer<'a> {
    /// No policy matched: `{allowed: false, info: "No policies found"}`.
    NoPolicy,
    /// The matching policies, in the engine's order.
    Allowed(Vec<&'a pi_model::Policy>),
    /// With `explain`: the whole answer, explanation included.
    Explained(Value),
}

/// `GET /policy/check`: which policies match the question (privacyIDEA's
/// `Match.generic`), on the snapshot the gate decided on; `data` is the
/// request's parameters (conditions on `Request Data`).
pub fn check<'a>(
    granted: &'a Granted<PolicyRead>,
    admin: &Admin,
    q: &CheckQuery,
    data: &Value,
) -> ApiResult<CheckAnswer<'a>> {
    let snap = granted.snapshot();
    let parts = match_context_parts(admin.caller());
    let ctx = parts.context(&snap.policy_set, Some(data));
    let m = snap.policy_set.match_generic(
        &ctx,
        GenericParams {
            scope: Some(&q.scope),
            user: Some(&q.user),
            realm: Some(&q.realm),
            resolver: q.resolver.as_deref(),
            action: Some(&q.action),
            client: q.client.as_deref(),
            ..GenericParams::default()
        },
    );
    let policies = m.policies();
    if !q.explain {
        let policies = policies.map_err(map_match_error)?;
        return Ok(if policies.is_empty() {
            CheckAnswer::NoPolicy
        } else {
            CheckAnswer::Allowed(policies)
        });
    }
    let mut value = Map::new();
    let e = m.explain().map_err(map_match_error)?;
    value.insert(
        "explain".into(),
        serde_json::to_value(e).map_err(ApiError::internal)?,
    );
    let policies = policies.map_err(map_match_error)?;
    if policies.is_empty() {
        value.insert("allowed".into(), json!(false));
        value.insert("info".into(), json!("No policies found"));
    } else {
        value.insert("allowed".into(), json!(true));
        value.insert(
            "policy".into(),
            Value::Array(policies.iter().map(|p| p.to_json()).collect()),
        );
    }
    Ok(CheckAnswer::Explained(Value::Object(value)))
}

/// The serialised `{allowed: true, policy: […]}` of matching policies
/// (each policy's JSON cached in the snapshot, keys in Flask's order).
pub fn allowed_json(granted: &Granted<PolicyRead>, policies: &[&pi_model::Policy]) -> String {
    let cache = granted.snapshot().policy_json();
    let items: Vec<Cow<'_, str>> = policies.iter().map(|p| cache.of(p)).collect();
    format!("{{\"allowed\":true,\"policy\":[{}]}}", items.join(","))
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
/// to the snapshot; the policy's id. The audit entry gets the name and the
/// parameters once the view's own checks passed, as privacyIDEA's.
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
    // privacyIDEA's view audits the request once its own checks passed
    Write::from_params(name, params)
        .check_request(&ctx)
        .map_err(validation_error)?;
    crate::audit::log(|r| {
        r.action_detail = name.to_owned();
        r.info = pi_model::pyrepr::repr_value(&Value::Object(params.clone()));
    });
    let existing = snap.policies.iter().find(|p| p.name == name).map(|p| &**p);
    let plan = plan_write(&ctx, existing, name, params).map_err(validation_error)?;
    let replaced = plan.conditions.is_some();
    let registrar = state.policy_registrar();
    let (id, step) = state
        .db(move |s| {
            let record = plan.record.clone();
            s.with_precondition(pre, |s| {
                s.save_policy_versioned_then(
                    &plan.record,
                    plan.conditions.as_deref(),
                    move |id, step| {
                        registrar.register(step, PolicyRecord { id, ..record }, replaced);
                    },
                )
            })
        })
        .await?;
    state.apply_policy_write(step).await?;
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
    let set = move |s: &pi_store::Store| s.set_policy_active(&n, active);
    let missing = || ApiError::not_found(format!("The policy with name '{name}' does not exist"));
    checked_write(state, pre, set, |id| id.ok_or_else(missing)).await
}

/// `PATCH /policy/<old>`: renames the policy to `new` (checked as a
/// policy name; the old and the new name must exist / must not exist);
/// the policy's id.
pub async fn rename(
    state: &AppState,
    _granted: &Granted<PolicyWrite>,
    old: &str,
    new: &str,
    pre: Option<Precondition>,
) -> ApiResult<i64> {
    pi_model::PolicyName::for_rename(new).map_err(validation_error)?;
    let (o, n) = (old.to_owned(), new.to_owned());
    let result = state
        .blocking(move |store| store.with_precondition(pre, |s| s.rename_policy(&o, &n)))
        .await?;
    let id = match result {
        Ok(id) => id,
        Err(pi_store::RenameError::NotFound(_)) => {
            return Err(ApiError::parameter(format!("Policy does not exist: {old}")))
        }
        Err(pi_store::RenameError::Exists(_)) => {
            return Err(ApiError::parameter(format!("Policy already exists: {new}")))
        }
        Err(pi_store::RenameError::Store(e)) => return Err(e.into()),
    };
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
    let delete = move |s: &pi_store::Store| s.delete_policy(&n);
    let missing = || ApiError::not_found("The requested Policy could not be found.");
    checked_write(state, pre, delete, |id| id.ok_or_else(missing)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition() {
        assert_eq!(
            export_disposition("pols.txt"),
            "attachment; filename=\"pols.txt\""
        );
        assert_eq!(
            export_disposition("../a\\b\"c\n.cfg"),
            "attachment; filename=\"..ab_c.cfg\"; filename*=UTF-8''..ab%22c.cfg"
        );
        assert_eq!(
            export_disposition("pölicies.cfg"),
            "attachment; filename=\"p_licies.cfg\"; filename*=UTF-8''p%C3%B6licies.cfg"
        );
        assert_eq!(
            export_disposition("/"),
            "attachment; filename=\"policies.cfg\""
        );
    }
}
