//! The admin-policy gate (privacyIDEA's `check_base_action` for admins):
//! allowed iff no active admin policy exists at all, or a matching active
//! admin policy contains the action.

use crate::caller::Admin;
use crate::error::{ApiError, ApiResult};
use crate::policyset::{map_match_error, match_context_parts};
use crate::state::{AppState, Snapshot};
use serde_json::{Map, Value};

/// What the admin acts on: the request's `user`, `realm` and `resolver`
/// parameters (path variables included), plus the request data for conditions.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `user` parameter.
    pub user: Option<String>,
    /// The realm names of the `realm` parameter (privacyIDEA's
    /// `split_realms`: a name, a comma list or a JSON list of either;
    /// lower-cased, empty and repeated names dropped). Each is checked on
    /// its own and all must be allowed.
    pub realms: Vec<String>,
    /// The raw `realm` parameter when it names no realm (`None`: absent,
    /// no realm filter; `Some("")`: only realm-unrestricted policies).
    pub raw_realm: Option<String>,
    /// `resolver` parameter.
    pub resolver: Option<String>,
    /// All parameters (conditions on `Request Data`).
    pub data: Value,
}

/// privacyIDEA's `split_realms` over a parameter value.
pub fn split_realms(value: Option<&Value>) -> Vec<String> {
    let items: Vec<&Value> = match value {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().filter(|v| !v.is_null()).collect(),
        Some(v) => vec![v],
    };
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let text = match item {
            Value::String(s) => s.clone(),
            other => pi_model::pyrepr::str_value(other),
        };
        for part in text.split(',') {
            let name = part.trim().to_lowercase();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

impl Target {
    /// From the merged request parameters.
    pub fn from_params(params: &Map<String, Value>) -> Target {
        let get_str = |key: &str| match params.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(pi_model::pyrepr::str_value(v)),
        };
        let value = params.get("realm");
        let realms = split_realms(value);
        let raw_realm = match value {
            _ if !realms.is_empty() => None,
            None | Some(Value::Null) => None,
            Some(Value::Array(_)) => Some(String::new()),
            Some(_) => get_str("realm"),
        };
        Target {
            user: get_str("user"),
            realms,
            raw_realm,
            resolver: get_str("resolver"),
            data: Value::Object(params.clone()),
        }
    }
}

/// The gate against a given snapshot: every realm of the target is checked
/// on its own (privacyIDEA's `check_base_action`).
pub fn check_in(snap: &Snapshot, admin: &Admin, action: &str, target: &Target) -> ApiResult<()> {
    let caller = admin.caller();
    let parts = match_context_parts(caller);
    let ctx = parts.context(Some(&target.data));
    let single: Vec<Option<&str>> = if target.realms.is_empty() {
        vec![target.raw_realm.as_deref()]
    } else {
        target.realms.iter().map(|r| Some(r.as_str())).collect()
    };
    for realm in single {
        let allowed = snap
            .policy_set
            .admin_allowed(
                &ctx,
                action,
                &caller.username,
                &caller.realm,
                target.user.as_deref(),
                realm,
                target.resolver.as_deref(),
            )
            .map_err(map_match_error)?;
        if !allowed {
            return Err(ApiError::policy(format!(
                "Admin actions are defined, but the action {action} is not allowed!"
            )));
        }
    }
    Ok(())
}

/// The gate against the current snapshot.
pub async fn check(
    state: &AppState,
    admin: &Admin,
    action: &str,
    target: &Target,
) -> ApiResult<()> {
    let snap = state.snapshot().await?;
    check_in(&snap, admin, action, target)
}

/// The gate for a request: the target comes from its merged parameters.
pub async fn require(
    state: &AppState,
    admin: &Admin,
    action: &str,
    params: &Map<String, Value>,
) -> ApiResult<()> {
    check(state, admin, action, &Target::from_params(params)).await
}
