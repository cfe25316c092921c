//! `/privacyideaserver`: definitions of remote privacyIDEA servers and the test
//! request to their `/validate/check` (spec/realm-auth-server.md §6).

use super::{current_etag, if_match, resource, with_etag};
use super::{Allowed, AllowedOn, IdentifierKey};
use crate::auth::{Admin, Auth};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::server::AppState;
use actix_web::{web, HttpRequest};
use pi_admin::gate::{RemoteRead, RemoteWrite};
use pi_model::record::RemoteServerRecord;
use pi_store::ObjectKind;
use serde_json::{json, Map, Value};

fn checked_url(params: &Params) -> ApiResult<String> {
    let url = params.required_str("url")?;
    pi_remote::validate_url(&url).map_err(|e| ApiError::parameter(format!("Invalid url: {e}")))?;
    Ok(url)
}

/// `GET /privacyideaserver/`; with `?identifier=<id>` the answer (still the
/// whole list) also carries that definition's `ETag` for `If-Match`.
#[utoipa::path(
    get, path = "/privacyideaserver/", tag = "privacyideaserver", params(("identifier" = Option<String>, Query, description = "Also answer this definition's `ETag`")),
    responses((status = 200, description = "`{identifier: {id, url, tls, description}}`", body = crate::openapi::Envelope)),
)]
async fn list(Allowed { state, params, .. }: Allowed<RemoteRead>) -> crate::error::Reply {
    let etag = match params.get_str("identifier") {
        Some(id) => current_etag(&state, ObjectKind::RemoteServer, &id).await?,
        None => None,
    };
    let servers = state.db(|s| s.list_remote_servers()).await?;
    let mut out = Map::new();
    for s in servers {
        out.insert(
            s.identifier.clone(),
            json!({"id": s.id, "url": s.url, "tls": s.tls, "description": s.description}),
        );
    }
    Ok(with_etag(envelope::ok(Value::Object(out)), etag))
}

#[utoipa::path(
    post, path = "/privacyideaserver/{identifier}", tag = "privacyideaserver", params(("identifier" = String, Path, description = "Name of the definition")), request_body(content((crate::openapi::RemoteServerRequest = "application/json"), (crate::openapi::RemoteServerRequest = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "`true`", body = crate::openapi::Envelope)),
)]
async fn save(
    state: web::Data<AppState>,
    Auth(admin): Auth<Admin>,
    req: HttpRequest,
    path: web::Path<String>,
    mut params: Params,
) -> crate::error::Reply {
    let identifier = path.into_inner().replace(' ', "_");
    let pre = if_match(&req, ObjectKind::RemoteServer, &identifier);
    params.insert_path("identifier", &identifier);
    super::allowed::<RemoteWrite>(&state, &admin, &params).await?;
    let url = checked_url(&params)?;
    let tls = params.is_true("tls", true);
    let description = params.get_str("description");
    let ident = identifier.clone();
    state
        .db(move |s| {
            s.with_precondition(pre, |s| {
                let existing = s.get_remote_server(&ident)?;
                let record = match existing {
                    // Deviation: privacyIDEA cannot switch `tls` off or clear the
                    // description on update; here what is sent is what is stored, and an
                    // omitted description is kept.
                    Some(old) => RemoteServerRecord {
                        id: old.id,
                        identifier: old.identifier,
                        url,
                        tls,
                        description: description.unwrap_or(old.description),
                    },
                    None => RemoteServerRecord {
                        id: 0,
                        identifier: ident,
                        url,
                        tls,
                        description: description.unwrap_or_default(),
                    },
                };
                s.save_remote_server(&record)
            })
        })
        .await?;
    state.refresh().await?;
    Ok(envelope::ok(json!(true)))
}

#[utoipa::path(
    delete, path = "/privacyideaserver/{identifier}", tag = "privacyideaserver", params(("identifier" = String, Path, description = "Name of the definition")),
    responses((status = 200, description = "`true`", body = crate::openapi::Envelope)),
)]
async fn delete(
    AllowedOn {
        state,
        params: _,
        name: identifier,
        ..
    }: AllowedOn<RemoteWrite, IdentifierKey>,
    req: HttpRequest,
) -> crate::error::Reply {
    let pre = if_match(&req, ObjectKind::RemoteServer, &identifier);
    let deleted = state
        .db(move |s| s.with_precondition(pre, |s| s.delete_remote_server(&identifier)))
        .await?;
    if deleted.is_none() {
        return Err(
            ApiError::not_found("The requested PrivacyIDEAServer could not be found.").into(),
        );
    }
    state.refresh().await?;
    Ok(envelope::ok(json!(true)))
}

#[utoipa::path(
    post, path = "/privacyideaserver/test_request", tag = "privacyideaserver", request_body(content((crate::openapi::TestRequestRequest = "application/json"), (crate::openapi::TestRequestRequest = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Whether the remote server accepted the user", body = crate::openapi::Envelope)),
)]
async fn test_request(Allowed { state, params, .. }: Allowed<RemoteWrite>) -> crate::error::Reply {
    params.required_str("identifier")?;
    let url = checked_url(&params)?;
    let username = params.required_str("username")?;
    let password = params.required_str("password")?;
    let tls = params.is_true("tls", true);
    let client = state.remote_client();
    if let Err(e) = pi_remote::check_target(&url, client.options()) {
        crate::metrics::remote_test_request("refused");
        return Err(ApiError::parameter(format!("The URL may not be reached: {e}")).into());
    }
    let outcome = client
        .validate_check(
            &pi_remote::RemoteTarget::new(url, tls),
            &username,
            &password,
        )
        .await;
    crate::metrics::remote_test_request(match (outcome.accepted, outcome.http_status) {
        (true, _) => "accepted",
        (false, Some(_)) => "rejected",
        (false, None) => "error",
    });
    let body = envelope::success_body_with_detail(
        json!(outcome.accepted),
        json!({"description": outcome.reason, "http_status": outcome.http_status}),
    );
    Ok(envelope::json_response(
        actix_web::http::StatusCode::OK,
        &body,
    ))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/privacyideaserver/").route(web::get().to(list)))
        .service(resource("/privacyideaserver/test_request").route(web::post().to(test_request)))
        .service(
            resource("/privacyideaserver/{identifier}")
                .route(web::post().to(save))
                .route(web::delete().to(delete)),
        );
}
