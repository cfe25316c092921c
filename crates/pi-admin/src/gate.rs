//! The admin-policy gate (privacyIDEA's `check_base_action` for admins):
//! allowed iff no active admin policy exists at all, or a matching active
//! admin policy contains the action.

use crate::caller::Admin;
use crate::error::{ApiError, ApiResult};
use crate::policyset::{map_match_error, match_context_parts};
use crate::state::{AppState, Snapshot};
use serde_json::{Map, Value};
use std::marker::PhantomData;
use std::sync::Arc;

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

/// The gate against a given snapshot (behind [`grant`]): every realm of the target is checked
/// on its own (privacyIDEA's `check_base_action`).
fn check_in(snap: &Snapshot, admin: &Admin, action: &str, target: &Target) -> ApiResult<()> {
    let caller = admin.caller();
    let parts = match_context_parts(caller);
    let ctx = parts.context(&snap.policy_set, Some(&target.data));
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

/// An admin action a route needs, as a type: the gate runs for
/// `P::ACTION` and hands out a [`Granted<P>`], which the use cases of that
/// action require. A route that forgets its gate has no `Granted` to pass
/// and does not compile:
///
/// ```compile_fail
/// # async fn route(state: &pi_admin::AppState, admin: &pi_admin::Admin) -> pi_admin::ApiResult<()> {
/// use pi_admin::gate::{Granted, PolicyWrite};
/// // a proof cannot be made by hand: its fields are private
/// let forged: Granted<PolicyWrite> = Granted { admin: admin.clone() };
/// # Ok(()) }
/// ```
///
/// ```compile_fail
/// # async fn route(state: &pi_admin::AppState, read: &pi_admin::gate::Granted<pi_admin::gate::PolicyRead>) {
/// // a `policyread` proof does not open a `policydelete` use case
/// let _ = pi_admin::policy::delete(state, read, "p", None).await;
/// # }
/// ```
///
/// ```compile_fail
/// # async fn route(state: &pi_admin::AppState) {
/// // nor does no proof at all
/// let _ = pi_admin::policy::delete(state, "p", None).await;
/// # }
/// ```
///
/// With the gate it compiles:
///
/// ```
/// # fn route(snap: std::sync::Arc<pi_admin::Snapshot>, admin: &pi_admin::Admin) -> pi_admin::ApiResult<String> {
/// use pi_admin::gate::{grant, PolicyRead, Target};
/// let granted = grant::<PolicyRead>(snap, admin, &Target::default())?;
/// Ok(pi_admin::policy::list_json(&granted, &Default::default()).into_owned())
/// # }
/// ```
pub trait Permission {
    /// privacyIDEA's admin action name.
    const ACTION: &'static str;
}

macro_rules! permissions {
    ($($(#[$m:meta])* $t:ident = $action:literal;)*) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy)]
        pub enum $t {}
        impl Permission for $t {
            const ACTION: &'static str = $action;
        }
    )*};
}

permissions! {
    /// `policyread`.
    PolicyRead = "policyread";
    /// `policywrite`.
    PolicyWrite = "policywrite";
    /// `policydelete`.
    PolicyDelete = "policydelete";
    /// `resolverread`.
    ResolverRead = "resolverread";
    /// `resolverwrite` (resolvers and realms).
    ResolverWrite = "resolverwrite";
    /// `resolverdelete` (resolvers and realms).
    ResolverDelete = "resolverdelete";
    /// `privacyideaserver_read`.
    RemoteRead = "privacyideaserver_read";
    /// `privacyideaserver_write`.
    RemoteWrite = "privacyideaserver_write";
    /// `clienttype`.
    ClientType = "clienttype";
    /// `auditlog`.
    AuditLog = "auditlog";
    /// `auditlog_download`.
    AuditLogDownload = "auditlog_download";
    /// `userlist`.
    UserList = "userlist";
}

/// The proof that the admin-policy gate allowed `P` for this admin: only
/// [`grant`] makes one. It carries the admin and the snapshot the decision
/// was made on (the use cases read that snapshot, so the decision and the
/// answer see the same configuration).
pub struct Granted<P: Permission> {
    admin: Admin,
    snapshot: Arc<Snapshot>,
    permission: PhantomData<fn() -> P>,
}

impl<P: Permission> Granted<P> {
    /// The admin the gate allowed.
    pub fn admin(&self) -> &Admin {
        &self.admin
    }

    /// The snapshot the gate decided on.
    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snapshot
    }
}

/// The gate for `P` on `snap`: privacyIDEA's `check_base_action` with the
/// target's realms each checked on its own; the proof, or PolicyError 303.
pub fn grant<P: Permission>(
    snap: Arc<Snapshot>,
    admin: &Admin,
    target: &Target,
) -> ApiResult<Granted<P>> {
    check_in(&snap, admin, P::ACTION, target)?;
    Ok(Granted {
        admin: admin.clone(),
        snapshot: snap,
        permission: PhantomData,
    })
}

/// The gate for `P` against the current snapshot.
pub async fn grant_now<P: Permission>(
    state: &AppState,
    admin: &Admin,
    target: &Target,
) -> ApiResult<Granted<P>> {
    grant(state.snapshot().await?, admin, target)
}
