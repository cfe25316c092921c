//! Login (`POST /auth`): a local admin or a realm user, the JWT, rights,
//! menus and WebUI settings of privacyIDEA's answer, and the
//! `hide_specific_error_message` rule. The server adds parameter reading,
//! the audit record (through [`Note`]s) and the envelope.

use crate::error::{ApiError, ApiResult};
use crate::request::RequestInfo;
use crate::state::AppState;
use crate::{users, webui};
use serde_json::{json, Map, Value};

/// privacyIDEA's `GENERIC_AUTH_FAILURE`.
pub const GENERIC_AUTH_FAILURE: &str = "Authentication failed.";

/// The released 3.14's answer to wrong credentials.
fn wrong_credentials() -> ApiError {
    ApiError::auth(4031, GENERIC_AUTH_FAILURE).with_detail(json!({}))
}

/// The request's credentials (`None`: absent or `null`).
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// `username`.
    pub username: Option<String>,
    /// `password`.
    pub password: Option<String>,
    /// `realm`, when not empty.
    pub realm: Option<String>,
}

/// What the audit record learns during a login, in order.
#[derive(Debug, Clone, Copy)]
pub enum Note<'a> {
    /// The user and realm as sent.
    Attempt {
        /// The user name.
        user: &'a str,
        /// The realm (`""`: none).
        realm: &'a str,
    },
    /// A local admin logged in.
    LocalAdmin {
        /// The admin's name.
        administrator: &'a str,
    },
    /// No password was sent (and no local admin logged in).
    MissingPassword,
    /// The realm user's password was checked (whatever the outcome), as
    /// privacyIDEA logs it after `check_webui_user`.
    Checked {
        /// The user as resolved (`resolver` empty when not found).
        user: &'a users::LoginUser,
        /// The `user` column: the resolved login, or the name as sent when
        /// no realm resolved it and it is a local admin's (as the release
        /// logs a local admin's failed password).
        login: &'a str,
        /// Whether the user's realm is a superuser realm.
        admin: bool,
        /// The login mode the check used (`Some("privacyIDEA")` when the
        /// token check ran; `None` for the user store).
        loginmode: Option<&'a str>,
    },
}

/// The usual `note` of [`login`]: what each step tells the request's audit
/// record (`crate::audit::log`).
pub fn audit_note(note: Note<'_>) {
    match note {
        Note::Attempt { user, realm } => crate::audit::log(|r| {
            r.user = user.to_owned();
            r.realm = realm.to_owned();
        }),
        Note::LocalAdmin { administrator } => crate::audit::log(|r| {
            r.user = String::new();
            r.realm = String::new();
            r.administrator = administrator.to_owned();
            r.info = "internal admin".into();
        }),
        Note::MissingPassword => crate::audit::log(|r| {
            if !r.info.is_empty() {
                r.info.push(',');
            }
            r.info.push_str("Missing parameter \"password\"");
        }),
        Note::Checked {
            user,
            login,
            admin,
            loginmode,
        } => crate::audit::log(|r| {
            r.realm = user.realm.clone();
            r.resolver = user.resolver.clone();
            r.info = format!("loginmode={}", loginmode.unwrap_or("None"));
            if admin {
                r.user = String::new();
                r.administrator = login.to_owned();
            } else {
                r.user = login.to_owned();
            }
        }),
    }
}

/// Who logged in.
struct Login {
    username: String,
    realm: String,
    role: pi_auth::Role,
    /// The realm user (`None`: a local admin).
    user: Option<users::LoginUser>,
}

/// Whether a `hide_specific_error_message` policy (scope authentication,
/// `Match.user` with the user the request names — an empty user when it
/// names none or an unknown realm) applies: then every login error becomes
/// `Authentication failed.` with code 403.
pub async fn hide_errors(state: &AppState, info: &RequestInfo, creds: &Credentials) -> bool {
    let Ok(snap) = state.snapshot().await else {
        return false;
    };
    let parts = crate::policyset::request_context_parts(info);
    let ctx = parts.context(&snap.policy_set, None);
    let action = Some("hide_specific_error_message");
    // Nothing to resolve when no such policy could match anybody.
    let any = snap
        .policy_set
        .match_user(&ctx, "authentication", action, None)
        .and_then(|m| m.any())
        .unwrap_or(false);
    if !any {
        return false;
    }
    let user = match &creds.username {
        Some(name) => users::resolve(state, &snap, name, creds.realm.as_deref())
            .await
            .map(|u| u.user_object())
            .unwrap_or_default(),
        None => pi_policy::UserObject::default(),
    };
    snap.policy_set
        .match_user(&ctx, "authentication", action, Some(&user))
        .and_then(|m| m.any())
        .unwrap_or(false)
}

/// `POST /auth`: check the credentials (a local admin first, then a realm
/// user; superuser realms give role admin), issue the JWT and answer
/// privacyIDEA's `value` (token, role, username, realm, rights, menus,
/// log level, WebUI settings). `note` receives what the audit record logs.
pub async fn login(
    state: &AppState,
    info: &RequestInfo,
    creds: Credentials,
    note: &dyn Fn(Note<'_>),
) -> ApiResult<Map<String, Value>> {
    let snap = state.snapshot().await?;
    let realm_param = creds.realm;
    if let Some(r) = &realm_param {
        if !snap.realm_exists(r) {
            if let Some(user) = creds.username.as_deref() {
                let realm = r.to_lowercase();
                note(Note::Attempt {
                    user,
                    realm: &realm,
                });
            }
            return Err(ApiError::auth(
                4031,
                format!("Authentication failure. Unknown realm: {r}."),
            )
            .with_detail(json!({})));
        }
    }
    // Only an absent (or null) user name is "missing"; an empty one is an
    // ordinary failed login in the release (4031).
    let username = match creds.username {
        Some(u) if u.is_empty() => return Err(wrong_credentials()),
        Some(u) => u,
        None => {
            return Err(
                ApiError::auth(4032, "Authentication failure. Missing Username")
                    .with_detail(json!({})),
            )
        }
    };
    let password = creds.password;
    // privacyIDEA logs the attempt first: the name as sent, and the realm
    // it names or the default realm
    let split = users::split_login(state, &snap, &username, realm_param.as_deref()).await?;
    let attempt_realm = split.as_ref().map(|(_, realm)| realm.clone());
    note(Note::Attempt {
        user: &username,
        realm: attempt_realm.as_deref().unwrap_or_default(),
    });

    // 1. Local admin (username as sent, unsplit), tried first.
    let pepper = state.pepper().to_string();
    let admin_name = username.clone();
    let admin = state.db(move |s| s.get_admin(&admin_name)).await?;
    let admin_exists = admin.is_some();
    let mut admin_ok = false;
    if let (Some(admin), Some(pw)) = (admin, password.clone()) {
        let hash = admin.password.unwrap_or_default();
        admin_ok = crate::blocking(move || pi_auth::verify_password(&pepper, &pw, &hash))
            .await
            .map_err(ApiError::internal)?
            .unwrap_or_else(|e| {
                log::warn!("cannot verify the hash of admin `{}`: {e}", admin.username);
                false
            });
    }

    let parts = crate::policyset::request_context_parts(info);
    let ctx = parts.context(&snap.policy_set, None);
    let login = if admin_ok {
        note(Note::LocalAdmin {
            administrator: &username,
        });
        Login {
            username: username.clone(),
            realm: String::new(),
            role: pi_auth::Role::Admin,
            user: None,
        }
    } else {
        // 2. A realm user (superuser realms give role admin). An absent
        //    password fails at once; otherwise the login mode of the user's
        //    webui policies decides first (not for a local admin's wrong
        //    password when no such realm user exists).
        let Some(password) = password else {
            note(Note::MissingPassword);
            return Err(wrong_credentials());
        };
        let user = users::resolve_split(state, &snap, split).await?;
        let superuser = state
            .cfg
            .superuser_realm
            .iter()
            .any(|r| r.to_lowercase() == user.realm);
        let login = match user.login.is_empty() && admin_exists {
            true => username.as_str(),
            false => user.login.as_str(),
        };
        let checked = |loginmode| Note::Checked {
            user: &user,
            login,
            admin: superuser,
            loginmode,
        };
        if !admin_exists || user.exists() {
            let mode = webui::login_mode(&snap.policy_set, &ctx, &user.user_object())?;
            if mode == webui::LoginMode::PrivacyIdea {
                // No tokens are managed here: the token check cannot succeed.
                note(checked(user.exists().then_some("privacyIDEA")));
                return Err(wrong_credentials());
            }
        }
        let password_ok = users::check_password(&snap, &user, &password).await?;
        note(checked(None));
        if !password_ok {
            return Err(wrong_credentials());
        }
        if admin_exists {
            log::warn!(
                "a user `{}` exists as local admin and as user in realm `{}`",
                user.login,
                user.realm
            );
        }
        let role = if superuser {
            pi_auth::Role::Admin
        } else {
            pi_auth::Role::User
        };
        Login {
            username: user.login.clone(),
            realm: user.realm.clone(),
            role,
            user: Some(user),
        }
    };

    let scope = login.role.as_str();
    let client = info.client_ip.to_string();
    // `request.User`: the realm user, or an empty user for a local admin.
    let user_object = login
        .user
        .as_ref()
        .map(users::LoginUser::user_object)
        .unwrap_or_default();
    // privacyIDEA's `get_rights` matches user-scope policies with
    // `User(login, realm)`: its resolver and attributes (userinfo conditions)
    let rights = crate::policyset::rights(
        &snap.policy_set,
        scope,
        &login.username,
        &login.realm,
        &client,
        &info.user_agent,
        (login.role == pi_auth::Role::User).then_some(&user_object),
    )?;
    let menus = crate::policyset::menus(scope, &rights);
    let default_validity = i64::try_from(state.cfg.pi_jwt_validity).unwrap_or(i64::MAX);
    let validity = webui::jwt_validity(&snap.policy_set, &ctx, &user_object, default_validity)?;
    let claims = pi_auth::Claims::new(
        login.username.clone(),
        login.realm.clone(),
        login.role,
        "password",
        rights.clone(),
    );
    let token = pi_auth::issue(
        state.jwt_secret(),
        &claims,
        u64::try_from(validity).unwrap_or(0),
        chrono::Utc::now().timestamp(),
    )
    .map_err(ApiError::internal)?;

    // The counts the settings depend on, in one trip to the database: the
    // user's tokens and containers (role user), the assigned active tokens,
    // and the subscriptions only when those exceed the free tier.
    let owner = match (&login.user, login.role) {
        (Some(u), pi_auth::Role::User) if u.exists() => {
            Some((u.resolver.clone(), u.uid.clone(), u.realm.clone()))
        }
        _ => None,
    };
    let (tokens, containers, assigned, ends) = state
        .db(move |s| {
            let (tokens, containers) = match &owner {
                Some((resolver, uid, realm)) => {
                    let owner = pi_store::Owner {
                        resolver,
                        user_id: uid,
                        realm,
                    };
                    (s.user_token_count(owner)?, s.user_container_count(owner)?)
                }
                None => (0, 0),
            };
            let assigned = s.assigned_active_token_count()?;
            let ends = if assigned > webui::FREE_TOKENS {
                s.subscription_end_dates("privacyidea")?
            } else {
                Vec::new()
            };
            Ok((tokens, containers, assigned, ends))
        })
        .await?;
    let subscription_status =
        webui::subscription_status(assigned, &ends, chrono::Utc::now().naive_utc());
    let settings_login = webui::Login {
        role: scope,
        username: &login.username,
        realm: &login.realm,
        user: login.user.as_ref().map(|_| &user_object),
        tokens,
        containers,
        node_name: &state.node.name,
        subscription_status,
    };
    let mut value = webui::settings(&snap.policy_set, &ctx, &settings_login)?;
    value.insert("token".into(), json!(token));
    value.insert("role".into(), json!(login.role.as_str()));
    value.insert("username".into(), json!(login.username));
    value.insert("realm".into(), json!(login.realm));
    value.insert("rights".into(), json!(rights));
    value.insert("menus".into(), json!(menus));
    value.insert("log_level".into(), json!(state.cfg.pi_loglevel));
    value.insert("auth".into(), json!(true));
    Ok(value)
}
