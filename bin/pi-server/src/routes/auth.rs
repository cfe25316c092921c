//! `POST /auth`: admin and user login, answering privacyIDEA's JWT response
//! (spec/realm-auth-server.md §5.2–5.3); `GET /auth/rights`: enrollable token types.

use super::resource;
use crate::envelope;
use crate::params::Params;
use crate::server::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use pi_admin::login;
use serde_json::{json, Value};

/// `POST /auth`. With a matching `hide_specific_error_message` policy
/// (scope authentication, `Match.user` with the user the request names),
/// every error becomes `Authentication failed.` with code 403; the HTTP
/// status stays.
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: Params,
) -> crate::error::Reply {
    let info = crate::request::from_request(&req);
    let creds = login::Credentials {
        username: params.get_str("username"),
        password: params.get_str("password"),
        realm: params.get_str("realm").filter(|r| !r.is_empty()),
    };
    crate::audit::audit_request();
    let result = login::login(&state, &info, creds.clone(), &login::audit_note).await;
    match result {
        Ok(value) => {
            let mut body = envelope::success_body(Value::Object(value));
            if let Value::Object(obj) = &mut body {
                obj.insert("id".into(), json!(2));
                if let Some(Value::Object(result)) = obj.get_mut("result") {
                    result.insert("authentication".into(), json!("ACCEPT"));
                }
            }
            Ok(envelope::json_response(StatusCode::OK, &body))
        }
        Err(e) if login::hide_errors(&state, &info, &creds).await => {
            let status = crate::error::status(&e);
            let mut hidden = crate::error::http(status, login::GENERIC_AUTH_FAILURE);
            hidden.code = 403;
            hidden.detail = json!({
                "message": login::GENERIC_AUTH_FAILURE,
                "threadid": envelope::thread_id(),
            });
            Err(hidden.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /auth/rights`: the token types the caller (admin or user) may
/// enroll in the web UI, type → description (`ui_get_enroll_tokentypes`).
async fn enroll_rights(state: web::Data<AppState>, req: HttpRequest) -> crate::error::Reply {
    // The auth blueprint answers authentication errors with `detail: {}`.
    let caller = crate::auth::authenticate(&req).map_err(|e| e.with_detail(json!({})))?;
    let snap = state.snapshot().await?;
    let types = pi_admin::policyset::enroll_tokentypes(&snap.policy_set, &caller)?;
    Ok(envelope::ok(json!(types)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth").route(web::post().to(login)))
        .service(resource("/auth/rights").route(web::get().to(enroll_rights)));
}
