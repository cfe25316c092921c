//! `/resolver` (spec/realm-auth-server.md §2.3–2.4).

use super::{current_etag, resource, with_etag};
use super::{Allowed, AllowedOn, ResolverKey};
use crate::auth::{Admin, Auth};
use crate::envelope;
use crate::params::Params;
use crate::server::AppState;
use actix_web::{web, HttpRequest};
use pi_admin::gate::{ResolverDelete, ResolverRead, ResolverWrite};
use pi_admin::resolver::{self, ListFilter};
use pi_store::ObjectKind;
use serde_json::json;

/// The `GET /resolver/` filter of the request (`type` when not empty,
/// `editable` when present) for the resolver `name` (`GET /resolver/<name>`).
async fn list(on: Allowed<ResolverRead>) -> crate::error::Reply {
    let filter = ListFilter::from_params(on.params.all(), None);
    Ok(envelope::ok(resolver::list_json(
        &on.state,
        &on.granted,
        &filter,
    )))
}

/// `GET /resolver/<name>`, with the resolver's `ETag` (for `If-Match`).
async fn get_one(
    state: web::Data<AppState>,
    Auth(admin): Auth<Admin>,
    path: web::Path<String>,
    mut params: Params,
) -> crate::error::Reply {
    let name = path.into_inner();
    crate::audit::log(|r| r.info = name.clone());
    params.insert_path("resolver", &name);
    let etag = current_etag(&state, ObjectKind::Resolver, &name).await?;
    // the gate's snapshot is read after the `ETag`, so the body is never older
    let granted = super::allowed::<ResolverRead>(&state, &admin, &params).await?;
    let body = resolver::list_json(
        &state,
        &granted,
        &ListFilter::from_params(params.all(), Some(&name)),
    );
    Ok(with_etag(envelope::ok(body), etag))
}

async fn save(on: AllowedOn<ResolverWrite, ResolverKey>) -> crate::error::Reply {
    let pre = on.if_match(ObjectKind::Resolver, &on.name);
    let rtype = on.params.required_str("type")?;
    let id = resolver::save(
        &on.state,
        &on.granted,
        &on.name,
        &rtype,
        on.params.all(),
        pre,
    )
    .await?;
    Ok(envelope::ok(json!(id)))
}

async fn delete(on: AllowedOn<ResolverDelete, ResolverKey>) -> crate::error::Reply {
    let pre = on.if_match(ObjectKind::Resolver, &on.name);
    let id = resolver::delete(&on.state, &on.granted, &on.name, pre).await?;
    Ok(envelope::ok(json!(id.unwrap_or(-1))))
}

async fn test(
    state: web::Data<AppState>,
    Auth(admin): Auth<Admin>,
    params: Params,
    req: HttpRequest,
) -> crate::error::Reply {
    let granted = super::allowed::<ResolverWrite>(&state, &admin, &params).await?;
    let rtype = params.required_str("type")?;
    // privacyIDEA translates the LDAP success text by Accept-Language
    let language = req
        .headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let (value, description) = resolver::test(
        &state,
        &granted,
        rtype,
        params.all(),
        params.get_str("resolver"),
        language,
    )
    .await?;
    // privacyIDEA's view logs no success
    crate::audit::success(false);
    let body = envelope::success_body_with_detail(
        value,
        json!({"description": description, "threadid": crate::envelope::thread_id()}),
    );
    Ok(envelope::json_response(
        actix_web::http::StatusCode::OK,
        &body,
    ))
}

async fn defaults(Auth(_admin): Auth<Admin>, path: web::Path<String>) -> crate::error::Reply {
    let defaults = resolver::defaults(&path.into_inner())?;
    crate::audit::success(false); // privacyIDEA's view logs none
    Ok(envelope::ok(defaults))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/resolver/").route(web::get().to(list)))
        .service(resource("/resolver/test").route(web::post().to(test)))
        .service(resource("/resolver/{rtype}/default").route(web::get().to(defaults)))
        .service(
            resource("/resolver/{name}")
                .route(web::get().to(get_one))
                .route(web::post().to(save))
                .route(web::delete().to(delete)),
        );
}
