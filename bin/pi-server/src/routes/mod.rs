//! Route table.

use crate::app::method_not_allowed;
use crate::error::ApiResult;
use crate::state::AppState;
use actix_web::http::header::{HeaderValue, ETAG, IF_MATCH};
use actix_web::{web, HttpRequest, HttpResponse};
use pi_store::{ObjectKind, Precondition};

mod audit;
mod auth;
mod client;
mod config;
mod health;
mod policy;
mod realm;
mod remote;
mod resolver;
pub mod static_ui;
mod system;
mod user;

/// A resource whose other methods answer 405 in the envelope.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
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
