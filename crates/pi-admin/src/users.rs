//! Realm users at `POST /auth`: split `user@realm`, find the user in the
//! realm's ordered resolvers, check the password against the resolver.

use crate::caller::{Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Snapshot};
use std::sync::Arc;

/// The user a login names (privacyIDEA's `request.User` at `/auth`): found
/// in the realm's resolvers, or only login and realm when no resolver knows
/// the login (`resolver` and `uid` empty), or empty when the realm cannot be
/// determined.
#[derive(Debug, Clone, Default)]
pub struct LoginUser {
    /// Login without realm.
    pub login: String,
    /// Lower-case realm.
    pub realm: String,
    /// Resolver the user was found in (`""`: not found).
    pub resolver: String,
    /// The user's id in that resolver (`""`: not found).
    pub uid: String,
    /// User attributes (`userinfo` conditions), read only when a policy
    /// has a userinfo condition.
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

impl LoginUser {
    /// privacyIDEA's `User.exist()`.
    pub fn exists(&self) -> bool {
        !self.uid.is_empty()
    }

    /// The user object policies are matched with.
    pub fn user_object(&self) -> pi_policy::UserObject {
        pi_policy::UserObject {
            login: self.login.clone(),
            realm: self.realm.clone(),
            resolver: self.resolver.clone(),
            attributes: self.attributes.clone(),
            ..pi_policy::UserObject::default()
        }
    }
}

/// privacyIDEA's system setting `splitAtSign` (`config` table, written by
/// privacyIDEA's `POST /system/setConfig`): `user@realm` is split unless it is
/// set to something other than `True`/`true`/`1`. Unset ⇒ true.
pub async fn split_at_sign(state: &AppState) -> ApiResult<bool> {
    let value = state.db(|s| s.system_config_value("splitAtSign")).await?;
    Ok(match value {
        None => true,
        Some(v) => pi_model::pyrepr::is_true(&serde_json::Value::String(v)),
    })
}

/// The login and the (lower-case) realm a login names: `user@realm` split
/// (realm parameter, then the `@` part, then the default realm); `None`
/// when no realm results. privacyIDEA logs this realm for a login attempt
/// before it checks anything.
pub async fn split_login(
    state: &AppState,
    snap: &Arc<Snapshot>,
    username: &str,
    realm_param: Option<&str>,
) -> ApiResult<Option<(String, String)>> {
    let split_at_sign = split_at_sign(state).await?;
    let default = snap.default_realm().map(|r| r.name.clone());
    let split = pi_realm::auth_user_realm(
        username,
        realm_param,
        split_at_sign,
        |r| snap.realm_exists(r),
        default.as_deref(),
    );
    Ok(split
        .ok()
        .map(|(login, realm)| (login, realm.to_lowercase())))
}

/// Resolve the user a login names: split `user@realm` (realm parameter,
/// then the `@` part, then the default realm) and find the login in the
/// realm's resolvers. An unknown realm gives an empty user.
pub async fn resolve(
    state: &AppState,
    snap: &Arc<Snapshot>,
    username: &str,
    realm_param: Option<&str>,
) -> ApiResult<LoginUser> {
    let split = split_login(state, snap, username, realm_param).await?;
    resolve_split(state, snap, split).await
}

/// [`resolve`] of a name already split by [`split_login`].
pub async fn resolve_split(
    state: &AppState,
    snap: &Arc<Snapshot>,
    split: Option<(String, String)>,
) -> ApiResult<LoginUser> {
    let Some((login, realm)) = split else {
        return Ok(LoginUser::default());
    };
    if snap.realm(&realm).is_none() {
        return Ok(LoginUser::default());
    }
    let snap = snap.clone();
    let node_uuid = state.node.uuid.clone();
    crate::blocking(move || -> LoginUser {
        let mut user = LoginUser {
            login: login.clone(),
            realm: realm.clone(),
            ..LoginUser::default()
        };
        let Some(realm_rec) = snap.realm(&realm) else {
            return user;
        };
        match pi_realm::find_user_in_realm(&login, realm_rec, &node_uuid, |name| {
            snap.resolver_object(name)
        }) {
            Ok(Some(u)) => {
                // The resolver may name the user by its primary login
                // (LDAP with several login attributes, spec/resolvers-sql-ldap.md §3.7).
                user.login = u.login;
                user.resolver = u.resolver;
                user.uid = u.uid;
            }
            Ok(None) => {}
            Err(e) => log::warn!("user lookup of `{login}` in realm `{realm}` failed: {e}"),
        }
        if user.exists() && snap.has_userinfo_conditions() {
            if let Some(r) = snap.resolver_object(&user.resolver) {
                match r.user_info(&user.uid) {
                    Ok(info) => {
                        user.attributes = info
                            .into_iter()
                            .map(|(k, v)| (k, serde_json::to_value(v).unwrap_or_default()))
                            .collect();
                    }
                    Err(e) => log::warn!("user info of `{login}` could not be read: {e}"),
                }
            }
        }
        user
    })
    .await
    .map_err(ApiError::internal)
}

/// Check the password of a resolved user against its resolver; `false`
/// for an unknown user, an empty password or a wrong one.
pub async fn check_password(
    snap: &Arc<Snapshot>,
    user: &LoginUser,
    password: &str,
) -> ApiResult<bool> {
    if password.is_empty() || !user.exists() {
        return Ok(false);
    }
    let snap = snap.clone();
    let (resolver, uid, login) = (user.resolver.clone(), user.uid.clone(), user.login.clone());
    let password = password.to_string();
    crate::blocking(move || {
        let Some(r) = snap.resolver_object(&resolver) else {
            return false;
        };
        match r.check_password(&uid, &password) {
            Ok(ok) => ok,
            Err(e) => {
                log::warn!("password check of `{login}` failed: {e}");
                false
            }
        }
    })
    .await
    .map_err(ApiError::internal)
}

/// `GET /user/settings`: the caller's stored WebUI settings document (an
/// empty object when none is stored or it is not JSON). A local admin is
/// keyed by name; any caller with a realm by the resolver identity of its
/// login.
pub async fn settings(state: &AppState, caller: &Caller) -> ApiResult<serde_json::Value> {
    let stored = if caller.role == Role::Admin && caller.realm.is_empty() {
        let name = caller.username.clone();
        state
            .db(move |s| s.user_settings(&pi_store::SettingsSubject::LocalAdmin(&name)))
            .await?
    } else {
        let snap = state.snapshot().await?;
        let user = resolve(state, &snap, &caller.username, Some(&caller.realm)).await?;
        if user.exists() {
            state
                .db(move |s| {
                    s.user_settings(&pi_store::SettingsSubject::User {
                        user_id: &user.uid,
                        resolver: &user.resolver,
                        realm: &user.realm,
                    })
                })
                .await?
        } else {
            log::warn!(
                "Could not resolve settings subject for user '{}' in realm '{}'.",
                caller.username,
                caller.realm
            );
            None
        }
    };
    Ok(stored
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .filter(|v| !v.is_null())
        .unwrap_or_else(|| serde_json::json!({})))
}
