//! `POST /auth`: admin and user login, answering privacyIDEA's JWT response
//! (spec/realm-auth-server.md §5.2–5.3); `GET /auth/rights`: enrollable token types.

use super::resource;
use crate::auth::Caller;
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::request::RequestInfo;
use crate::state::AppState;
use crate::users;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

fn wrong_credentials() -> ApiError {
    ApiError::auth(4031, "Authentication failure. Wrong credentials").with_detail(json!({}))
}

/// Who logged in.
struct Login {
    username: String,
    realm: String,
    role: pi_auth::Role,
    /// A realm user's policy view (resolver and attributes for `userinfo`
    /// conditions); `None` for admins.
    user_object: Option<pi_policy::UserObject>,
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: Params,
) -> ApiResult<HttpResponse> {
    let info = RequestInfo::from_request(&req);
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
    let username = match params.get_str("username") {
        Some(u) if !u.is_empty() => u,
        _ => {
            return Err(
                ApiError::auth(4032, "Authentication failure. Missing Username")
                    .with_detail(json!({})),
            )
        }
    };
    let password = params.get_str("password").unwrap_or_default();

    // 1. Local admin (username as sent, unsplit), tried first.
    let pepper = state.pepper().to_string();
    let admin_name = username.clone();
    let admin = state.db(move |s| s.get_admin(&admin_name)).await?;
    let mut login: Option<Login> = None;
    let admin_exists = admin.is_some();
    if let Some(admin) = admin {
        let hash = admin.password.unwrap_or_default();
        let pw = password.clone();
        let ok = web::block(move || pi_auth::verify_password(&pepper, &pw, &hash))
            .await
            .map_err(ApiError::internal)?
            .unwrap_or_else(|e| {
                log::warn!("cannot verify the hash of admin `{}`: {e}", admin.username);
                false
            });
        if ok {
            login = Some(Login {
                username: username.clone(),
                realm: String::new(),
                role: pi_auth::Role::Admin,
                user_object: None,
            });
        }
    }

    // 2. Only if that failed: a realm user (superuser realms give role admin).
    //    A local admin and a default-realm user may share a login: the admin
    //    password logs in the admin, the user password the user (§5.2 step 8).
    let user = match login {
        Some(_) => None,
        None => {
            users::authenticate(&state, &snap, &username, realm_param.as_deref(), &password).await?
        }
    };
    if let Some(user) = user {
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
        if admin_exists {
            log::warn!(
                "a user `{}` exists as local admin and as user in realm `{}`",
                user.login,
                user.realm
            );
        }
        // privacyIDEA matches user-scope rights with `User(login, realm)`:
        // its resolver and its attributes (userinfo conditions)
        let user_object = match role {
            pi_auth::Role::User => Some(users::user_object(&snap, &user).await?),
            _ => None,
        };
        login = Some(Login {
            username: user.login,
            realm: user.realm,
            role,
            user_object,
        });
    }
    let Some(login) = login else {
        return Err(wrong_credentials());
    };

    let scope = login.role.as_str();
    let client = info.client_ip.to_string();
    let rights = crate::policyset::rights(
        &snap,
        scope,
        &login.username,
        &login.realm,
        &client,
        &info.user_agent,
        login.user_object.as_ref(),
    )?;
    let menus = crate::policyset::menus(&snap, scope, &rights);
    let validity = crate::policyset::jwt_validity(
        &snap,
        scope,
        &login.username,
        &login.realm,
        &info,
        login.user_object.as_ref(),
    )
    .unwrap_or(state.cfg.pi_jwt_validity);
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
        validity,
        chrono::Utc::now().timestamp(),
    )
    .map_err(ApiError::internal)?;
    let mut value = webui_defaults();
    if let Value::Object(obj) = &mut value {
        obj.insert("token".into(), json!(token));
        obj.insert("role".into(), json!(login.role.as_str()));
        obj.insert("username".into(), json!(login.username));
        obj.insert("realm".into(), json!(login.realm));
        obj.insert("rights".into(), json!(rights));
        obj.insert("menus".into(), json!(menus));
        obj.insert("log_level".into(), json!(state.cfg.pi_loglevel));
    }
    let mut body = envelope::success_body(value);
    if let Value::Object(obj) = &mut body {
        obj.insert("id".into(), json!(2));
        if let Some(Value::Object(result)) = obj.get_mut("result") {
            result.insert("authentication".into(), json!("ACCEPT"));
        }
    }
    Ok(envelope::json_response(StatusCode::OK, &body))
}

/// The WebUI settings privacyIDEA 3.14 sends when no webui policy says otherwise.
fn webui_defaults() -> Value {
    json!({
        "admin_dashboard": false,
        "audit_page_size": 10,
        "auth": true,
        "container_wizard": {"enabled": false},
        "default_container_type": "generic",
        "default_tokentype": "hotp",
        "deletion_confirmation": false,
        "dialog_no_token": false,
        "hide_buttons": false,
        "hide_welcome": false,
        "logout_redirect_url": "",
        "logout_time": 120,
        "policy_template_url": "/static/policy-templates/",
        "qr_image_android": null,
        "qr_image_custom": null,
        "qr_image_ios": null,
        "require_description": [],
        "rss_age": 180,
        "search_on_enter": false,
        "session_persistence": "tab",
        "show_node": "",
        "show_seed": false,
        "subscription_status": 0,
        "timeout_action": "lockscreen",
        "token_page_size": 15,
        "token_rollover": {},
        "token_wizard": false,
        "token_wizard_2nd": false,
        "user_details": false,
        "user_page_size": 15,
    })
}

/// `GET /auth/rights`: the token types the caller (admin or user) may
/// enroll in the web UI, type → description (`ui_get_enroll_tokentypes`).
async fn enroll_rights(state: web::Data<AppState>, caller: Caller) -> ApiResult<HttpResponse> {
    let snap = state.snapshot().await?;
    let types = crate::policyset::enroll_tokentypes(&snap, &caller)?;
    Ok(envelope::ok(json!(types)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth").route(web::post().to(login)))
        .service(resource("/auth/").route(web::post().to(login)))
        .service(resource("/auth/rights").route(web::get().to(enroll_rights)));
}
