//! `POST /auth`: admin and user login, answering privacyIDEA's JWT response
//! (spec/realm-auth-server.md §5.2–5.3); `GET /auth/rights`: enrollable token types.

use super::resource;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::server::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use pi_admin::users;
use pi_admin::webui;
use serde_json::{json, Value};

/// privacyIDEA's `GENERIC_AUTH_FAILURE`.
const GENERIC_AUTH_FAILURE: &str = "Authentication failed.";

/// The released 3.14's answer to wrong credentials.
fn wrong_credentials() -> ApiError {
    ApiError::auth(4031, GENERIC_AUTH_FAILURE).with_detail(json!({}))
}

/// Who logged in.
struct Login {
    username: String,
    realm: String,
    role: pi_auth::Role,
    /// The realm user (`None`: a local admin).
    user: Option<users::LoginUser>,
}

/// `POST /auth`. With a matching `hide_specific_error_message` policy
/// (scope authentication, `Match.user` with the user the request names),
/// every error becomes `Authentication failed.` with code 403; the HTTP
/// status stays.
#[utoipa::path(
    post, path = "/auth", tag = "auth", security(()), request_body(content((crate::openapi::AuthRequest = "application/json"), (crate::openapi::AuthRequest = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "The JWT in `value.token`, role, rights, WebUI settings", body = crate::openapi::Envelope)),
)]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: Params,
) -> crate::error::Reply {
    let result = login_inner(&state, &req, &params).await;
    match result {
        Err(e) if hide_errors(&state, &req, &params).await => {
            let status = crate::error::status(&e);
            let mut hidden = crate::error::http(status, GENERIC_AUTH_FAILURE);
            hidden.code = 403;
            hidden.detail = json!({
                "message": GENERIC_AUTH_FAILURE,
                "threadid": envelope::thread_id(),
            });
            Err(hidden.into())
        }
        other => Ok(other?),
    }
}

/// Whether a `hide_specific_error_message` policy applies to the user the
/// request names (an empty user when it names none or an unknown realm).
async fn hide_errors(state: &AppState, req: &HttpRequest, params: &Params) -> bool {
    let Ok(snap) = state.snapshot().await else {
        return false;
    };
    let info = crate::request::from_request(req);
    let parts = pi_admin::policyset::request_context_parts(&info);
    let ctx = parts.context(None);
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
    let user = match params.get_str("username") {
        Some(name) => {
            let realm = params.get_str("realm").filter(|r| !r.is_empty());
            users::resolve(state, &snap, &name, realm.as_deref())
                .await
                .map(|u| u.user_object())
                .unwrap_or_default()
        }
        None => pi_policy::UserObject::default(),
    };
    snap.policy_set
        .match_user(&ctx, "authentication", action, Some(&user))
        .and_then(|m| m.any())
        .unwrap_or(false)
}

async fn login_inner(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    params: &Params,
) -> ApiResult<HttpResponse> {
    let info = crate::request::from_request(req);
    crate::audit::audit_request();
    let snap = state.snapshot().await?;
    let realm_param = params.get_str("realm").filter(|r| !r.is_empty());
    if let Some(r) = &realm_param {
        if !snap.realm_exists(r) {
            return Err(ApiError::auth(
                4031,
                format!("Authentication failure. Unknown realm: {r}."),
            )
            .with_detail(json!({})));
        }
    }
    // Only an absent (or null) user name is "missing"; an empty one is an
    // ordinary failed login in the release (4031).
    let username = match params.get_str("username") {
        Some(u) if u.is_empty() => return Err(wrong_credentials()),
        Some(u) => u,
        None => {
            return Err(
                ApiError::auth(4032, "Authentication failure. Missing Username")
                    .with_detail(json!({})),
            )
        }
    };
    let password = params.get_str("password");
    crate::audit::log(|r| {
        r.user = username.clone();
        r.realm = realm_param.clone().unwrap_or_default();
    });

    // 1. Local admin (username as sent, unsplit), tried first.
    let pepper = state.pepper().to_string();
    let admin_name = username.clone();
    let admin = state.db(move |s| s.get_admin(&admin_name)).await?;
    let admin_exists = admin.is_some();
    let mut admin_ok = false;
    if let (Some(admin), Some(pw)) = (admin, password.clone()) {
        let hash = admin.password.unwrap_or_default();
        admin_ok = web::block(move || pi_auth::verify_password(&pepper, &pw, &hash))
            .await
            .map_err(ApiError::internal)?
            .unwrap_or_else(|e| {
                log::warn!("cannot verify the hash of admin `{}`: {e}", admin.username);
                false
            });
    }

    let parts = pi_admin::policyset::request_context_parts(&info);
    let ctx = parts.context(None);
    let login = if admin_ok {
        crate::audit::log(|r| {
            r.user = String::new();
            r.administrator = username.clone();
            r.info = "internal admin".into();
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
            return Err(wrong_credentials());
        };
        let user = users::resolve(state, &snap, &username, realm_param.as_deref()).await?;
        if !admin_exists || user.exists() {
            let mode = webui::login_mode(&snap.policy_set, &ctx, &user.user_object())?;
            if mode == webui::LoginMode::PrivacyIdea {
                // No tokens are managed here: the token check cannot succeed.
                return Err(wrong_credentials());
            }
        }
        if !users::check_password(&snap, &user, &password).await? {
            return Err(wrong_credentials());
        }
        if admin_exists {
            log::warn!(
                "a user `{}` exists as local admin and as user in realm `{}`",
                user.login,
                user.realm
            );
        }
        let role = if state
            .cfg
            .superuser_realm
            .iter()
            .any(|r| r.to_lowercase() == user.realm)
        {
            pi_auth::Role::Admin
        } else {
            pi_auth::Role::User
        };
        crate::audit::log(|r| {
            r.user = user.login.clone();
            r.realm = user.realm.clone();
            r.info = user.login.clone();
        });
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
    let rights = pi_admin::policyset::rights(
        &snap.policy_set,
        scope,
        &login.username,
        &login.realm,
        &client,
        &info.user_agent,
        (login.role == pi_auth::Role::User).then_some(&user_object),
    )?;
    let menus = pi_admin::policyset::menus(scope, &rights);
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
    let settings = webui::settings(&snap.policy_set, &ctx, &settings_login)?;

    let mut value = settings;
    value.insert("token".into(), json!(token));
    value.insert("role".into(), json!(login.role.as_str()));
    value.insert("username".into(), json!(login.username));
    value.insert("realm".into(), json!(login.realm));
    value.insert("rights".into(), json!(rights));
    value.insert("menus".into(), json!(menus));
    value.insert("log_level".into(), json!(state.cfg.pi_loglevel));
    value.insert("auth".into(), json!(true));
    let mut body = envelope::success_body(Value::Object(value));
    if let Value::Object(obj) = &mut body {
        obj.insert("id".into(), json!(2));
        if let Some(Value::Object(result)) = obj.get_mut("result") {
            result.insert("authentication".into(), json!("ACCEPT"));
        }
    }
    Ok(envelope::json_response(StatusCode::OK, &body))
}

/// `GET /auth/rights`: the token types the caller (admin or user) may
/// enroll in the web UI, type → description (`ui_get_enroll_tokentypes`).
#[utoipa::path(
    get, path = "/auth/rights", tag = "auth",
    responses((status = 200, description = "Token types the caller may enroll, type → description", body = crate::openapi::Envelope)),
)]
async fn enroll_rights(state: web::Data<AppState>, req: HttpRequest) -> crate::error::Reply {
    // The auth blueprint answers authentication errors with `detail: {}`.
    let caller = crate::auth::authenticate(&req).map_err(|e| e.with_detail(json!({})))?;
    let snap = state.snapshot().await?;
    let types = pi_admin::policyset::enroll_tokentypes(&snap.policy_set, &caller)?;
    Ok(envelope::ok(json!(types)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth").route(web::post().to(login)))
        .service(resource("/auth/").route(web::post().to(login)))
        .service(resource("/auth/rights").route(web::get().to(enroll_rights)));
}
