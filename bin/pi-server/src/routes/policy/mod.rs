//! `/policy`: create/update, list, rename, enable/disable, delete, export,
//! import, check and the action catalogue (spec/policy.md §3).
//!
//! Reads are served from the configuration snapshot; every write goes
//! through pi-model's validation and pi-store, then refreshes the snapshot
//! before answering. Each handler takes the snapshot once and runs the
//! admin-policy gate (`policyread`/`policywrite`/`policydelete`) against it,
//! with the request's `user`/`realm`/`resolver` as the target — for
//! `POST /policy/<name>` these are the policy's own fields (spec/policy.md §2.9).

pub(crate) mod lint;

use super::{current_etag, resource, with_etag};
use crate::auth::{Admin, Auth};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::server::AppState;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use pi_admin::gate::{Granted, PolicyDelete, PolicyRead, PolicyWrite};
use pi_admin::policy::{self, CheckAnswer, CheckQuery};
use pi_store::ObjectKind;
use serde_json::{json, Map, Value};

use super::allowed as gated;
use super::{Allowed, AllowedOn, ExportKey, FilenameKey, NameKey, OldNameKey, ScopeKey};

/// The success envelope around an already serialised JSON value.
fn ok_raw(value_json: &str) -> HttpResponse {
    const MARK: &str = "@@pi-server-raw-value@@";
    let body = envelope::success_body(Value::String(MARK.into())).to_string();
    let body = body.replacen(&format!("\"{MARK}\""), value_json, 1);
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(body)
}

// ----- GET /policy/, GET /policy/<name> -----

/// The gate, then [`list_granted`].
async fn list_policies(
    state: &AppState,
    admin: &Admin,
    name: Option<String>,
    params: Params,
) -> crate::error::Reply {
    let granted = gated::<PolicyRead>(state, admin, &params).await?;
    list_granted(state, &granted, name, params)
}

/// The audit `info` of a list (and of the export, which shares its view):
/// `name = …, realm = …, scope = …` from lower-cased parameters.
fn list_info(name: Option<String>, params: &Params) -> String {
    let none = |v: Option<String>| v.unwrap_or_else(|| "None".into());
    let (realm, scope) = (params.get_str("realm"), params.get_str("scope"));
    format!(
        "name = {}, realm = {}, scope = {}",
        none(name),
        none(realm),
        none(scope)
    )
}

/// The policies the filter of `params` (and `name`) selects.
fn list_granted(
    state: &AppState,
    granted: &Granted<PolicyRead>,
    name: Option<String>,
    mut params: Params,
) -> crate::error::Reply {
    params.lowercase_keys();
    let info = list_info(name.clone(), &params);
    crate::audit::log(|r| r.info = info);
    let filter = policy::list_filter(state, name, params.all());
    Ok(ok_raw(&policy::list_json(granted, &filter)))
}

async fn list(on: Allowed<PolicyRead>) -> crate::error::Reply {
    list_granted(&on.state, &on.granted, None, on.params)
}

/// `GET /policy/<name>`; `defs` and `check` are the static routes.
///
/// A name without `*` also gets the policy's `ETag` (its version, for
/// `If-Match` on the writes); it is read before the answer is built.
async fn get_named(
    state: web::Data<AppState>,
    Auth(admin): Auth<Admin>,
    path: web::Path<String>,
    params: Params,
) -> crate::error::Reply {
    let name = path.into_inner();
    if name == "lint" {
        if let Some(resp) = lint::unless_named_policy(&state, &admin, &params).await? {
            return Ok(resp);
        }
    }
    match name.as_str() {
        "defs" => policy_defs(&state, &admin, params).await,
        "check" => check(&state, &admin, params).await,
        _ if name.contains('*') => list_policies(&state, &admin, Some(name), params).await,
        _ => {
            let etag = current_etag(&state, ObjectKind::Policy, &name).await?;
            let resp = list_policies(&state, &admin, Some(name), params).await?;
            Ok(with_etag(resp, etag))
        }
    }
}

// ----- POST /policy/<name> -----

async fn set(on: AllowedOn<PolicyWrite, NameKey>) -> crate::error::Reply {
    let pre = on.if_match(ObjectKind::Policy, &on.name);
    let id = policy::write(&on.state, &on.granted, &on.name, on.params.all(), pre).await?;
    let mut value = Map::new();
    value.insert(format!("setPolicy {}", on.name), json!(id));
    Ok(envelope::ok(Value::Object(value)))
}

// ----- PATCH /policy/<old_name> -----

async fn rename(on: AllowedOn<PolicyWrite, OldNameKey>) -> crate::error::Reply {
    let old = &on.name;
    let pre = on.if_match(ObjectKind::Policy, old);
    let new = on.params.required_str("name")?;
    let id = policy::rename(&on.state, &on.granted, old, &new, pre).await?;
    crate::audit::log(|r| r.action_detail = format!("{old} renamed to {new}"));
    Ok(envelope::ok(json!(id)))
}

// ----- enable / disable / delete -----

async fn set_active(on: AllowedOn<PolicyWrite, NameKey>, active: bool) -> crate::error::Reply {
    let pre = on.if_match(ObjectKind::Policy, &on.name);
    let id = policy::set_active(&on.state, &on.granted, &on.name, active, pre).await?;
    Ok(envelope::ok(json!(id)))
}

async fn enable(on: AllowedOn<PolicyWrite, NameKey>) -> crate::error::Reply {
    set_active(on, true).await
}

async fn disable(on: AllowedOn<PolicyWrite, NameKey>) -> crate::error::Reply {
    set_active(on, false).await
}

async fn delete(on: AllowedOn<PolicyDelete, NameKey>) -> crate::error::Reply {
    let pre = on.if_match(ObjectKind::Policy, &on.name);
    let id = policy::delete(&on.state, &on.granted, &on.name, pre).await?;
    crate::audit::log(|r| r.info = on.name);
    Ok(envelope::ok(json!(id)))
}

// ----- export / import -----

async fn export(on: AllowedOn<PolicyRead, ExportKey>) -> crate::error::Reply {
    let body = policy::export(&on.granted);
    // the release's view shares the list's audit `info` (no name)
    let mut params = on.params.clone();
    params.lowercase_keys();
    let info = list_info(None, &params);
    crate::audit::log(|r| r.info = info);
    let disposition = HeaderValue::from_str(&policy::export_disposition(&on.name))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment; filename=\"policies.cfg\""));
    Ok(HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        ))
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(body))
}

/// The bytes of the multipart field `file`.
async fn read_file_part(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> ApiResult<Vec<u8>> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return Err(ApiError::missing("file"));
    }
    let bad = |e: actix_multipart::MultipartError| {
        crate::error::http(
            StatusCode::BAD_REQUEST,
            format!("The multipart body cannot be read: {e}"),
        )
    };
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    let mut file = None;
    let mut total = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(bad)?;
        let wanted = file.is_none() && field.name() == Some("file");
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(bad)?;
            total += chunk.len();
            if total > limit {
                return Err(crate::error::http(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("The request body is larger than {limit} bytes."),
                ));
            }
            if wanted {
                data.extend_from_slice(&chunk);
            }
        }
        if wanted {
            file = Some(data);
        }
    }
    file.ok_or_else(|| ApiError::missing("file"))
}

async fn import(
    on: AllowedOn<PolicyWrite, FilenameKey>,
    req: HttpRequest,
    payload: web::Payload,
) -> crate::error::Reply {
    let (state, granted, params) = (&on.state, &on.granted, &on.params);
    let timeout = crate::params::body_timeout(&req);
    let bytes = tokio::time::timeout(timeout, read_file_part(&req, payload, state.body_limit()))
        .await
        .map_err(|_| crate::params::body_timeout_error(timeout))??;
    let plan = policy::plan_import(state, granted, bytes).await?;
    if params.is_true("dry_run", false) {
        return Ok(envelope::ok(plan.summary_json()));
    }
    let written = policy::import(state, granted, plan).await?;
    Ok(envelope::ok(json!(written)))
}

// ----- GET /policy/check -----

async fn check(state: &AppState, admin: &Admin, mut params: Params) -> crate::error::Reply {
    let granted = gated::<PolicyRead>(state, admin, &params).await?;
    params.lowercase_keys();
    let q = CheckQuery::from_params(params.all())?;
    crate::audit::log(|r| {
        r.action_detail = format!(
            "action = {}, realm = {}, scope = {}",
            q.action, q.realm, q.scope
        );
    });
    let data = Value::Object(params.into_map());
    match policy::check(&granted, admin, &q, &data)? {
        CheckAnswer::NoPolicy => Ok(envelope::ok(
            json!({"allowed": false, "info": "No policies found"}),
        )),
        CheckAnswer::Allowed(policies) => {
            crate::audit::log(|r| {
                let names: Vec<&str> = policies.iter().map(|p| p.name()).collect();
                r.info = format!(
                    "allowed by policy {}",
                    pi_model::pyrepr::repr_str_list(&names)
                );
            });
            Ok(ok_raw(&policy::allowed_json(&granted, &policies)))
        }
        CheckAnswer::Explained(value) => Ok(envelope::ok(value)),
    }
}

// ----- GET /policy/defs[/<scope>] -----

async fn policy_defs(state: &AppState, admin: &Admin, params: Params) -> crate::error::Reply {
    let granted = gated::<PolicyRead>(state, admin, &params).await?;
    Ok(envelope::ok(policy::defs(state, &granted, None).await?))
}

async fn defs_scope(on: AllowedOn<PolicyRead, ScopeKey>) -> crate::error::Reply {
    let scope = Some(on.name.as_str());
    crate::audit::log(|r| r.info = on.name.clone());
    Ok(envelope::ok(
        policy::defs(&on.state, &on.granted, scope).await?,
    ))
}

/// Register the routes. Static paths first; `GET /policy/defs` and
/// `GET /policy/check` are dispatched inside `GET /policy/<name>`, so every
/// other method on those paths reaches the policy of that name, as in
/// privacyIDEA (`POST /policy/check` answers the reserved-name error).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/policy/").route(web::get().to(list)))
        .service(resource("/policy/lint/").route(web::get().to(lint::get)))
        .service(resource("/policy/defs/{scope}").route(web::get().to(defs_scope)))
        .service(resource("/policy/export/{filename}").route(web::get().to(export)))
        .service(resource("/policy/import/{filename}").route(web::post().to(import)))
        .service(resource("/policy/enable/{name}").route(web::post().to(enable)))
        .service(resource("/policy/disable/{name}").route(web::post().to(disable)))
        .service(
            resource("/policy/{name}")
                .route(web::get().to(get_named))
                .route(web::post().to(set))
                .route(web::patch().to(rename))
                .route(web::delete().to(delete)),
        );
}
