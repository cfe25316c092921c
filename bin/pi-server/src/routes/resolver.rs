//! `/resolver` (spec/realm-auth-server.md §2.3–2.4).

use super::Allowed;
use super::{current_etag, if_match, resource, with_etag};
use crate::auth::{Admin, Auth};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::server::AppState;
use actix_web::{web, HttpRequest};
use pi_admin::gate::{ResolverDelete, ResolverRead, ResolverWrite};
use pi_admin::Snapshot;
use pi_model::record::ResolverRecord;
use pi_realm::{DecodedResolver, CENSORED};
use pi_store::ObjectKind;
use pi_store::{DeleteResolverOutcome, SaveResolverError};
use serde_json::{json, Map, Value};

fn resolver_json(d: &DecodedResolver) -> Value {
    json!({
        "resolvername": d.name,
        "type": d.rtype,
        "censor_keys": d.censor_keys,
        "data": Value::Object(d.censored_data()),
    })
}

fn editable(d: &DecodedResolver) -> bool {
    ["Editable", "EDITABLE"]
        .iter()
        .any(|k| d.data.get(*k).map(crate::params::is_true).unwrap_or(false))
}

fn decode(state: &AppState, rec: &ResolverRecord) -> DecodedResolver {
    DecodedResolver::from_record(rec, state.enc_key_or_ephemeral())
}

/// privacyIDEA's `get_resolver_list(filter_resolver_name, filter_resolver_type,
/// editable, censor=True)`: `type` filters by exact type when not empty;
/// `editable` (when present, `is_true`) keeps editable / non-editable ones; the
/// name (path of `GET /resolver/<name>`) matches case-insensitively.
fn resolver_list(state: &AppState, snap: &Snapshot, params: &Params, name: Option<&str>) -> Value {
    let typ = params.get_str("type").filter(|t| !t.is_empty());
    let editable_filter = match params.get("editable") {
        None | Some(Value::Null) => None,
        Some(v) => Some(crate::params::is_true(v)),
    };
    let lower = name.map(str::to_lowercase);
    let mut out = Map::new();
    for rec in &snap.resolvers {
        if typ.as_deref().is_some_and(|t| t != rec.rtype) {
            continue;
        }
        if lower
            .as_deref()
            .is_some_and(|n| rec.name.to_lowercase() != n)
        {
            continue;
        }
        let d = decode(state, rec);
        if editable_filter.is_some_and(|want| want != editable(&d)) {
            continue;
        }
        out.insert(rec.name.clone(), resolver_json(&d));
    }
    Value::Object(out)
}

#[utoipa::path(
    get, path = "/resolver/", tag = "resolver", params(crate::openapi::ResolverQuery),
    responses((status = 200, description = "Every resolver (secrets censored)", body = crate::openapi::Envelope)),
)]
async fn list(Allowed { state, params, .. }: Allowed<ResolverRead>) -> crate::error::Reply {
    let snap = state.snapshot().await?;
    Ok(envelope::ok(resolver_list(&state, &snap, &params, None)))
}

/// `GET /resolver/<name>`, with the resolver's `ETag` (for `If-Match`).
#[utoipa::path(
    get, path = "/resolver/{name}", tag = "resolver", params(("name" = String, Path, description = "Resolver name")),
    responses((status = 200, description = "The resolver (secrets censored), with its `ETag`", body = crate::openapi::Envelope)),
)]
async fn get_one(
    state: web::Data<AppState>,
    Auth(admin): Auth<Admin>,
    path: web::Path<String>,
    mut params: Params,
) -> crate::error::Reply {
    let name = path.into_inner();
    crate::audit::log(|r| r.info = name.clone());
    params.insert_path("resolver", &name);
    super::allowed::<ResolverRead>(&state, &admin, &params).await?;
    let etag = current_etag(&state, ObjectKind::Resolver, &name).await?;
    let snap = state.snapshot().await?;
    Ok(with_etag(
        envelope::ok(resolver_list(&state, &snap, &params, Some(&name))),
        etag,
    ))
}

fn known_type(rtype: &str) -> ApiResult<()> {
    pi_realm::check_resolver_type(rtype).map_err(ApiError::parameter)
}

#[utoipa::path(
    post, path = "/resolver/{name}", tag = "resolver", params(("name" = String, Path, description = "Resolver name")), request_body(content((crate::openapi::ResolverRequest = "application/json"), (crate::openapi::ResolverRequest = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "The resolver id", body = crate::openapi::Envelope)),
)]
async fn save(
    state: web::Data<AppState>,
    Auth(admin): Auth<Admin>,
    req: HttpRequest,
    path: web::Path<String>,
    mut params: Params,
) -> crate::error::Reply {
    let name = path.into_inner();
    crate::audit::log(|r| r.info = name.clone());
    let pre = if_match(&req, ObjectKind::Resolver, &name);
    params.insert_path("resolver", &name);
    super::allowed::<ResolverWrite>(&state, &admin, &params).await?;
    let rtype = params.required_str("type")?;
    // privacyIDEA stores a JSON bool as "True"/"False" when it creates the
    // row, but as "1"/"0" when the row already exists (its update path
    // assigns the raw bool; spec resolvers-sql-ldap.md §1.1, L20)
    let mut values = params.all().clone();
    let snap = state.snapshot().await?;
    if let Some(stored) = snap
        .resolvers
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(&name))
    {
        for (k, v) in values.iter_mut() {
            if let Value::Bool(b) = v {
                if stored.config.iter().any(|row| &row.key == k) {
                    *v = Value::String(if *b { "1" } else { "0" }.into());
                }
            }
        }
    }
    let changes = pi_realm::resolver_changes(&name, &rtype, &values, state.enc_key())
        .map_err(ApiError::parameter)?;
    let result = state
        .blocking(move |store| {
            store.with_precondition(pre, |s| s.save_resolver(&name, &rtype, &changes))
        })
        .await?;
    let id = match result {
        Ok(id) => id,
        Err(SaveResolverError::TypeMismatch(existing)) => {
            return Err(ApiError::parameter(format!(
                "resolver with similar name and other type already exists: {existing}"
            ))
            .into())
        }
        Err(SaveResolverError::Store(e)) => return Err(e.into()),
    };
    state.refresh().await?;
    Ok(envelope::ok(json!(id)))
}

#[utoipa::path(
    delete, path = "/resolver/{name}", tag = "resolver", params(("name" = String, Path, description = "Resolver name")),
    responses((status = 200, description = "The id of the deleted resolver (`-1` when there was none)", body = crate::openapi::Envelope)),
)]
async fn delete(
    state: web::Data<AppState>,
    Auth(admin): Auth<Admin>,
    req: HttpRequest,
    path: web::Path<String>,
    mut params: Params,
) -> crate::error::Reply {
    let name = path.into_inner();
    crate::audit::log(|r| r.info = name.clone());
    params.insert_path("resolver", &name);
    super::allowed::<ResolverDelete>(&state, &admin, &params).await?;
    let n = name.clone();
    let pre = if_match(&req, ObjectKind::Resolver, &name);
    match state
        .db(move |s| s.with_precondition(pre, |s| s.delete_resolver(&n)))
        .await?
    {
        DeleteResolverOutcome::NotFound => {
            crate::audit::success(false);
            Ok(envelope::ok(json!(-1)))
        }
        DeleteResolverOutcome::InRealm(realm) => Err(ApiError::generic(
            302,
            format!("The resolver '{name}' is still contained in realm '{realm}'."),
        )
        .into()),
        DeleteResolverOutcome::Deleted(id) => {
            state.refresh().await?;
            Ok(envelope::ok(json!(id)))
        }
    }
}

#[utoipa::path(
    post, path = "/resolver/test", tag = "resolver", request_body(content((crate::openapi::ResolverRequest = "application/json"), (crate::openapi::ResolverRequest = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "`{result, description}` of the connection test", body = crate::openapi::Envelope)),
)]
async fn test(
    state: web::Data<AppState>,
    Auth(admin): Auth<Admin>,
    params: Params,
    req: HttpRequest,
) -> crate::error::Reply {
    super::allowed::<ResolverWrite>(&state, &admin, &params).await?;
    let rtype = params.required_str("type")?;
    known_type(&rtype)?;
    let mut config = Map::new();
    for (k, v) in params.all() {
        if k != "type" && k != "resolver" && !k.starts_with("type.") && !k.starts_with("desc.") {
            config.insert(k.clone(), v.clone());
        }
    }
    if let Some(name) = params.get_str("resolver") {
        let snap = state.snapshot().await?;
        if let Some(rec) = snap.resolvers.iter().find(|r| r.name == name) {
            let stored = decode(&state, rec);
            for (k, v) in config.iter_mut() {
                if v.as_str() == Some(CENSORED) {
                    if let Some(real) = stored.data.get(k) {
                        *v = real.clone();
                    }
                }
            }
        }
    }
    let outcome = web::block(move || pi_realm::test_connection(&rtype, &config))
        .await
        .map_err(ApiError::internal)?;
    let (value, description) = match outcome {
        // the SQL resolver answers its user count (-1 on failure), not a bool
        Ok(t) => (
            t.count.map_or_else(|| json!(t.success), |n| json!(n)),
            t.description,
        ),
        // privacyIDEA answers 500 for a configuration its test cannot even
        // start with (SQL without `Table`); we answer a parameter error
        Err(e @ pi_realm::BuildError::InvalidConfig { .. }) => {
            return Err(ApiError::parameter(e.to_string()).into())
        }
        Err(e) => (json!(false), e.to_string()),
    };
    // privacyIDEA translates the LDAP success text by Accept-Language
    let language = req
        .headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let description = pi_realm::ldap::localize_test_description(&description, language);
    let body = envelope::success_body_with_detail(
        value,
        json!({"description": description, "threadid": crate::envelope::thread_id()}),
    );
    Ok(envelope::json_response(
        actix_web::http::StatusCode::OK,
        &body,
    ))
}

#[utoipa::path(
    get, path = "/resolver/{rtype}/default", tag = "resolver", params(("rtype" = String, Path, description = "`passwdresolver`, `sqlresolver` or `ldapresolver`")),
    responses((status = 200, description = "The default configuration of a resolver type", body = crate::openapi::Envelope)),
)]
async fn defaults(Auth(_admin): Auth<Admin>, path: web::Path<String>) -> crate::error::Reply {
    let rtype = path.into_inner();
    known_type(&rtype)?;
    let config =
        pi_realm::default_config(&rtype).map_err(|e| ApiError::parameter(e.to_string()))?;
    Ok(envelope::ok(Value::Object(config)))
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
