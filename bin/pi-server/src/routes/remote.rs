//! `/privacyideaserver`: definitions of remote privacyIDEA servers and the test
//! request to their `/validate/check` (spec/realm-auth-server.md §6).

use super::{etag_if, resource, with_etag};
use super::{Allowed, AllowedOn, IdentifierKey, NewIdentifierKey};
use crate::envelope;
use crate::error::ApiResult;
use crate::params::Params;
use actix_web::web;
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
async fn list(on: Allowed<RemoteRead>) -> crate::error::Reply {
    let one = on.params.get_str("identifier");
    let etag = etag_if(&on.state, ObjectKind::RemoteServer, one.as_deref()).await?;
    let body = remote::list_json(&on.state, &on.granted).await?;
    Ok(with_etag(envelope::ok(body), etag))
}

async fn save(on: AllowedOn<RemoteWrite, NewIdentifierKey>) -> crate::error::Reply {
    let pre = on.if_match(ObjectKind::RemoteServer, &on.name);
    let def = remote::Definition {
        url: checked_url(&on.params)?,
        tls: on.params.is_true("tls", true),
        description: on.params.get_str("description"),
        identifier: on.name.clone(),
    };
    remote::save(&on.state, &on.granted, def, pre).await?;
    Ok(envelope::ok(json!(true)))
}

async fn delete(on: AllowedOn<RemoteWrite, IdentifierKey>) -> crate::error::Reply {
    let pre = on.if_match(ObjectKind::RemoteServer, &on.name);
    remote::delete(&on.state, &on.granted, on.name, pre).await?;
    Ok(envelope::ok(json!(true)))
}

async fn test_request(on: Allowed<RemoteWrite>) -> crate::error::Reply {
    let (state, granted, params) = (&on.state, &on.granted, &on.params);
    params.required_str("identifier")?;
    let url = checked_url(params)?;
    let username = params.required_str("username")?;
    let password = params.required_str("password")?;
    let tls = params.is_true("tls", true);
    let outcome = remote::test_request(state, granted, url, tls, &username, &password).await?;
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
