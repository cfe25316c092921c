//! Route table.

use crate::error::ApiResult;
use crate::server::AppState;
use actix_web::http::header::{HeaderValue, ETAG, IF_MATCH};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use pi_store::{ObjectKind, Precondition};

pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod client;
pub(crate) mod config;
pub(crate) mod health;
pub(crate) mod policy;
pub(crate) mod realm;
pub(crate) mod remote;
pub(crate) mod resolver;
pub mod static_ui;
pub(crate) mod system;
pub(crate) mod user;

/// A resource whose other methods answer 405 in the envelope.
///
/// Every API route is registered through here, so the OpenAPI test sees it
/// (`openapi.rs`).
pub fn resource(path: &str) -> actix_web::Resource {
    #[cfg(test)]
    record(path);
    web::resource(path)
        .app_data(crate::metrics::RouteLabel(path.into()))
        .default_service(web::to(method_not_allowed))
}

#[cfg(test)]
static REGISTERED: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

#[cfg(test)]
fn record(path: &str) {
    if let Ok(mut set) = REGISTERED.lock() {
        set.insert(path.to_owned());
    }
}

/// The paths registered through [`resource`] so far (tests only).
#[cfg(test)]
pub fn registered_paths() -> Vec<String> {
    REGISTERED
        .lock()
        .map(|s| s.iter().cloned().collect())
        .unwrap_or_default()
}

/// The `If-Match` precondition of a write on one object; `None` without the
/// header (then the write behaves exactly as privacyIDEA's).
pub fn if_match(req: &HttpRequest, kind: ObjectKind, name: &str) -> Option<Precondition> {
    let header = req.headers().get(IF_MATCH)?;
    let text = String::from_utf8_lossy(header.as_bytes());
    Some(Precondition::from_header(kind, name, &text))
}

/// The object's current version (read before the snapshot, so a body served
/// from the snapshot is never older than its `ETag`).
pub async fn current_etag(
    state: &AppState,
    kind: ObjectKind,
    name: &str,
) -> ApiResult<Option<String>> {
    let name = name.to_owned();
    state.db(move |s| s.object_etag(kind, &name)).await
}

/// Adds `ETag: "<version>"` to a response (nothing for `None`).
pub fn with_etag(mut resp: HttpResponse, etag: Option<String>) -> HttpResponse {
    if let Some(v) = etag {
        if let Ok(h) = HeaderValue::from_str(&format!("\"{v}\"")) {
            resp.headers_mut().insert(ETAG, h);
        }
    }
    resp
}

/// Register every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    auth::configure(cfg);
    audit::configure(cfg);
    system::configure(cfg);
    realm::configure(cfg);
    resolver::configure(cfg);
    remote::configure(cfg);
    policy::configure(cfg);
    user::configure(cfg);
    client::configure(cfg);
    config::configure(cfg);
}

/// The admin-policy gate for `P` with the request's `user`/`realm`/`resolver`
/// (path variables inserted) as the target: the proof, holding the
/// snapshot it decided on.
pub async fn allowed<P: pi_admin::gate::Permission>(
    state: &AppState,
    admin: &pi_admin::Admin,
    params: &crate::params::Params,
) -> crate::error::ApiResult<pi_admin::gate::Granted<P>> {
    let target = pi_admin::gate::Target::from_params(params.all());
    pi_admin::gate::grant_now::<P>(state, admin, &target).await
}

/// Answer for a path that exists with another method.
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let err = crate::error::http(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "The method {} is not allowed for the requested URL.",
            req.method()
        ),
    );
    crate::error::response(err)
}

/// Answer for an unknown route.
pub async fn not_found(_req: HttpRequest) -> HttpResponse {
    let err = crate::error::http(
        StatusCode::NOT_FOUND,
        "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.",
    );
    crate::error::response(err)
}
