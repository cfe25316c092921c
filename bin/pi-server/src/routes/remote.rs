//! `/privacyideaserver`: definitions of remote privacyIDEA servers and the test
//! request to their `/validate/check` (spec/realm-auth-server.md §6).

use super::{current_etag, if_match, resource, with_etag};
use super::{Allowed, AllowedOn, IdentifierKey};
use crate::auth::{Admin, Auth};
use crate::envelope;
use crate::error::ApiResult;
use crate::params::Params;
use crate::server::AppState;
use actix_web::{web, HttpRequest};
use pi_admin::gate::{RemoteRead, RemoteWrite};
use pi_admin::remote;
use pi_store::ObjectKind;
use serde_json::json;

fn checked_url(params: &Params) -> ApiResult<String> {
    let url = params.required_str("url")?;
    remote::check_url(&url)?;
    Ok(url)
}

/// `GET /privacyideaserver/`; with `?identifier=<id>` the answer (still the
/// whole list) also carries that definition's `ETag` for `If-Match`.
#[utoipa::path(
    get, path = "/privacyideaserver/", tag = "privacyideaserver", params(("identifier" = Option<String>, Query, description = "Also answer this definition's `ETag`")),
    responses((status = 200, description = "`{identifier: {id, url, tls, description}}`", body = crate::openapi::Envelope)),
)]
async fn list(
    Allowed {
        state,
        granted,
        params,
        ..
    }: Allowed<RemoteRead>,
) -> crate::error::Reply {
    let etag = match params.get_str("identifier") {
        Some(id) => current_etag(&state, ObjectKind::RemoteServer, &id).await?,
        None => None,
    };
    let body = remote::list_json(&state, &granted).await?;
    Ok(with_etag(envelope::ok(body), etag))
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
    let granted = super::allowed::<RemoteWrite>(&state, &admin, &params).await?;
    let def = remote::Definition {
        url: checked_url(&params)?,
        tls: params.is_true("tls", true),
        description: params.get_str("description"),
        identifier,
    };
    remote::save(&state, &granted, def, pre).await?;
    Ok(envelope::ok(json!(true)))
}

#[utoipa::path(
    delete, path = "/privacyideaserver/{identifier}", tag = "privacyideaserver", params(("identifier" = String, Path, description = "Name of the definition")),
    responses((status = 200, description = "`true`", body = crate::openapi::Envelope)),
)]
async fn delete(
    AllowedOn {
        state,
        granted,
        name: identifier,
        ..
    }: AllowedOn<RemoteWrite, IdentifierKey>,
    req: HttpRequest,
) -> crate::error::Reply {
    let pre = if_match(&req, ObjectKind::RemoteServer, &identifier);
    remote::delete(&state, &granted, identifier, pre).await?;
    Ok(envelope::ok(json!(true)))
}

#[utoipa::path(
    post, path = "/privacyideaserver/test_request", tag = "privacyideaserver", request_body(content((crate::openapi::TestRequestRequest = "application/json"), (crate::openapi::TestRequestRequest = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "Whether the remote server accepted the user", body = crate::openapi::Envelope)),
)]
async fn test_request(
    Allowed {
        state,
        granted,
        params,
        ..
    }: Allowed<RemoteWrite>,
) -> crate::error::Reply {
    params.required_str("identifier")?;
    let url = checked_url(&params)?;
    let username = params.required_str("username")?;
    let password = params.required_str("password")?;
    let tls = params.is_true("tls", true);
    let outcome = remote::test_request(&state, &granted, url, tls, &username, &password).await?;
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
