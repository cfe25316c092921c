//! The admin-policy gate (privacyIDEA's `check_base_action` for admins):
//! allowed iff no active admin policy exists at all, or a matching active
//! admin policy contains the action.

use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::policyset::{map_match_error, match_context_parts};
use crate::state::{AppState, Snapshot};
use serde_json::Value;

/// What the admin acts on: the request's `user`, `realm` and `resolver`
/// parameters (path variables included), plus the request data for conditions.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// `user` parameter.
    pub user: Option<String>,
    /// `realm` parameter (a single-element list is unwrapped).
    pub realm: Option<String>,
    /// `resolver` parameter.
    pub resolver: Option<String>,
    /// All parameters (conditions on `Request Data`).
    pub data: Value,
}

impl Target {
    /// From the merged request parameters.
    pub fn from_params(params: &Params) -> Target {
        let realm = match params.get("realm") {
            Some(Value::Array(a)) if a.len() == 1 => a[0].as_str().map(str::to_string),
            Some(Value::Array(_)) | None | Some(Value::Null) => None,
            Some(_) => params.get_str("realm"),
        };
        Target {
            user: params.get_str("user"),
            realm,
            resolver: params.get_str("resolver"),
            data: Value::Object(params.all().clone()),
        }
    }
}

/// The gate against a given snapshot.
pub fn check_in(snap: &Snapshot, admin: &Admin, action: &str, target: &Target) -> ApiResult<()> {
    let caller = &admin.0;
    let parts = match_context_parts(caller);
    let ctx = parts.context(Some(&target.data));
    let allowed = snap
        .policy_set
        .admin_allowed(
            &ctx,
            action,
            &caller.username,
            &caller.realm,
            target.user.as_deref(),
            target.realm.as_deref(),
            target.resolver.as_deref(),
        )
        .map_err(map_match_error)?;
    if allowed {
        Ok(())
    } else {
        Err(ApiError::policy(format!(
            "Admin actions are defined, but the action {action} is not allowed!"
        )))
    }
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
    params: &Params,
) -> ApiResult<()> {
    check(state, admin, action, &Target::from_params(params)).await
}
