//! `/realm` and `/defaultrealm` (spec/realm-auth-server.md §1.4).

use super::{etag_if, if_match, resource, with_etag};
use super::{Allowed, AllowedOn, RealmKey};
use crate::auth::{Admin, Auth};
use crate::envelope;
use crate::error::ApiError;
use crate::params::Params;
use crate::server::AppState;
use actix_web::{web, FromRequest, HttpRequest};
use pi_admin::gate::{Granted, ResolverDelete, ResolverWrite};
use pi_admin::realm;
use pi_admin::realm::normalize_realm_name;
use pi_model::record::RealmResolverAssignment;
use pi_store::{ObjectKind, Precondition};
use serde_json::json;

/// Write the realm's assignments and answer `{"added": …, "failed": …}`.
async fn write_realm(
    state: &AppState,
    granted: &Granted<ResolverWrite>,
    name: String,
    assignments: Vec<RealmResolverAssignment>,
    pre: Option<Precondition>,
) -> crate::error::Reply {
    let outcome = realm::write(state, granted, name, assignments, pre).await?;
    crate::audit::success(outcome.failed.is_empty());
    Ok(envelope::ok(
        json!({"added": outcome.added, "failed": outcome.failed}),
    ))
}

/// `GET /realm/`; with `?realm=<name>` the answer (still the whole list, as
/// privacyIDEA's) also carries that realm's `ETag` for `If-Match`.
async fn list(
    state: web::Data<AppState>,
    Auth(admin): Auth<Admin>,
    req: HttpRequest,
) -> crate::error::Reply {
    let query =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string());
    let one = query
        .ok()
        .and_then(|q| q.get("realm").map(|r| r.to_lowercase()));
    crate::audit::note_params(None, one.clone(), None);
    let etag = etag_if(&state, ObjectKind::Realm, one.as_deref()).await?;
    let snap = state.snapshot().await?;
    let body = realm::list_json(&snap, &admin)?;
    Ok(with_etag(envelope::ok(body), etag))
}

/// `GET /realm/superuser`; any other `GET /realm/<x>` is not a route: 405
/// before any authentication, as from privacyIDEA's router.
async fn superuser(
    state: web::Data<AppState>,
    path: web::Path<String>,
    req: HttpRequest,
) -> crate::error::Reply {
    if path.as_str() != "superuser" {
        return Ok(super::method_not_allowed(req).await);
    }
    let Auth(_admin) = Auth::<Admin>::extract(&req).await?;
    Ok(envelope::ok(json!(state.cfg.superuser_realm)))
}

async fn set_realm(on: AllowedOn<ResolverWrite, RealmKey>) -> crate::error::Reply {
    let (params, granted) = (&on.params, &on.granted);
    let name = normalize_realm_name(&on.name)?;
    let assignments = realm::assignments_from_params(params.all())?;
    let assignments = realm::keep_node_assignments(granted.snapshot(), &name, assignments);
    crate::audit::log(|r| r.info = realm::audit_info(&name, &assignments));
    let pre = on.if_match(ObjectKind::Realm, &name);
    write_realm(&on.state, granted, name, assignments, pre).await
}

async fn set_realm_node(
    state: web::Data<AppState>,
    Auth(admin): Auth<Admin>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    mut params: Params,
) -> crate::error::Reply {
    let (raw, node_id) = path.into_inner();
    params.insert_path("realm", &raw);
    let granted = super::allowed::<ResolverWrite>(&state, &admin, &params).await?;
    if !realm::node_known(&state, granted.snapshot(), &node_id).await? {
        return Err(ApiError::parameter("The given node does not exist!").into());
    }
    let assignments = realm::node_assignments_from_params(params.all(), &node_id)?;
    let name = normalize_realm_name(&raw)?;
    let assignments = realm::keep_other_nodes(granted.snapshot(), &name, &node_id, assignments);
    let pre = if_match(&req, ObjectKind::Realm, &name);
    write_realm(&state, &granted, name, assignments, pre).await
}

async fn delete_realm(on: AllowedOn<ResolverDelete, RealmKey>) -> crate::error::Reply {
    let confirm = on.params.is_true("delete_custom_attributes", false);
    crate::audit::log(|r| r.info = on.name.clone());
    let pre = on.if_match(ObjectKind::Realm, &on.name);
    // Exact name as typed (privacyIDEA does not lower-case here).
    let id = realm::delete(&on.state, &on.granted, &on.name, confirm, pre).await?;
    Ok(envelope::ok(json!(id)))
}

async fn get_default(state: web::Data<AppState>, Auth(_admin): Auth<Admin>) -> crate::error::Reply {
    let snap = state.snapshot().await?;
    if let Some(default) = snap.default_realm() {
        crate::audit::log(|r| r.info = default.name.clone());
    }
    Ok(envelope::ok(realm::default_json(&snap)))
}

async fn set_default(on: AllowedOn<ResolverWrite, RealmKey>) -> crate::error::Reply {
    let name = on.name.trim().to_lowercase();
    crate::audit::log(|r| r.info = name.clone());
    let id = realm::set_default(&on.state, &on.granted, name).await?;
    Ok(envelope::ok(json!(id)))
}

async fn clear_default(
    Allowed { state, granted, .. }: Allowed<ResolverDelete>,
) -> crate::error::Reply {
    let id = realm::clear_default(&state, &granted).await?;
    Ok(envelope::ok(json!(id)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/realm/").route(web::get().to(list)))
        .service(resource("/realm/{realm}/node/{nodeid}").route(web::post().to(set_realm_node)))
        .service(
            resource("/realm/{realm}")
                .route(web::get().to(superuser))
                .route(web::post().to(set_realm))
                .route(web::delete().to(delete_realm)),
        )
        .service(
            resource("/defaultrealm")
                .route(web::get().to(get_default))
                .route(web::delete().to(clear_default)),
        )
        .service(resource("/defaultrealm/{realm}").route(web::post().to(set_default)));
}
