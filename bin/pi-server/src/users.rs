//! Realm users at `POST /auth`: split `user@realm`, find the user in the
//! realm's ordered resolvers, check the password against the resolver.

use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Snapshot};
use actix_web::web;
use std::sync::Arc;

/// A realm user that authenticated.
#[derive(Debug, Clone)]
pub struct AuthenticatedUser {
    /// Login without realm.
    pub login: String,
    /// Lower-case realm.
    pub realm: String,
    /// Resolver the user was found in.
    pub resolver: String,
    /// User id in that resolver.
    pub uid: String,
}

/// The policy engine's view of an authenticated realm user: login, realm,
/// resolver and the resolver's attributes (for `userinfo` conditions). A
/// resolver failure leaves the attributes empty (logged).
pub async fn user_object(
    snap: &Arc<Snapshot>,
    user: &AuthenticatedUser,
) -> ApiResult<pi_policy::UserObject> {
    let mut object = pi_policy::UserObject::new(&user.login, &user.realm, &user.resolver);
    let Some(resolver) = snap.resolver_object(&user.resolver) else {
        return Ok(object);
    };
    let uid = user.uid.clone();
    let info = web::block(move || resolver.user_info(&uid))
        .await
        .map_err(ApiError::internal)?;
    match info {
        Ok(info) => {
            object.attributes = info
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        pi_realm::AttrValue::Str(s) => serde_json::Value::String(s),
                        pi_realm::AttrValue::List(l) => {
                            serde_json::Value::Array(l.into_iter().map(Into::into).collect())
                        }
                    };
                    (k, v)
                })
                .collect();
        }
        Err(e) => log::warn!(
            "attributes of `{}` in resolver `{}`: {e}",
            user.login,
            user.resolver
        ),
    }
    Ok(object)
}

/// privacyIDEA's system setting `splitAtSign` (`config` table, written by
/// privacyIDEA's `POST /system/setConfig`): `user@realm` is split unless it is
/// set to something other than `True`/`true`/`1`. Unset ⇒ true.
pub async fn split_at_sign(state: &AppState) -> ApiResult<bool> {
    let value = state.db(|s| s.system_config_value("splitAtSign")).await?;
    Ok(match value {
        None => true,
        Some(v) => crate::params::is_true(&serde_json::Value::String(v)),
    })
}

/// Authenticate `username` (maybe `user@realm`) with `password`; `Ok(None)`
/// for an unknown realm or user, or a wrong password.
pub async fn authenticate(
    state: &AppState,
    snap: &Arc<Snapshot>,
    username: &str,
    realm_param: Option<&str>,
    password: &str,
) -> ApiResult<Option<AuthenticatedUser>> {
    if password.is_empty() {
        return Ok(None);
    }
    let split_at_sign = split_at_sign(state).await?;
    let default = snap.default_realm().map(|r| r.name.clone());
    let split = pi_realm::auth_user_realm(
        username,
        realm_param,
        split_at_sign,
        |r| snap.realm_exists(r),
        default.as_deref(),
    );
    let Ok((login, realm)) = split else {
        return Ok(None);
    };
    let realm = realm.to_lowercase();
    if snap.realm(&realm).is_none() {
        return Ok(None);
    }
    let snap = snap.clone();
    let password = password.to_string();
    let node_uuid = state.node.uuid.clone();
    web::block(move || -> Option<AuthenticatedUser> {
        let realm_rec = snap.realm(&realm)?;
        let found = pi_realm::find_user_in_realm(&login, realm_rec, &node_uuid, |name| {
            snap.resolver_object(name)
        });
        let user = match found {
            Ok(Some(u)) => u,
            Ok(None) => return None,
            Err(e) => {
                log::warn!("user lookup of `{login}` in realm `{realm}` failed: {e}");
                return None;
            }
        };
        let resolver = snap.resolver_object(&user.resolver)?;
        match resolver.check_password(&user.uid, &password) {
            Ok(true) => Some(AuthenticatedUser {
                login: user.login,
                realm: user.realm,
                resolver: user.resolver,
                uid: user.uid,
            }),
            Ok(false) => None,
            Err(e) => {
                log::warn!("password check of `{login}` failed: {e}");
                None
            }
        }
    })
    .await
    .map_err(ApiError::internal)
}
