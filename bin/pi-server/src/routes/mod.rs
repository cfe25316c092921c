//! Route table.

use crate::auth::{Admin, Auth};
use crate::error::{ApiError, ApiResult, HttpError};
use crate::params::Params;
use crate::server::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::{HeaderValue, ETAG, IF_MATCH};
use actix_web::http::StatusCode;
use actix_web::FromRequest;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use pi_admin::gate::{Granted, Permission};
use pi_store::{ObjectKind, Precondition};
use std::marker::PhantomData;

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
/// (`apidoc.rs`).
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
    let text = if_match_header(req)?;
    Some(Precondition::from_header(kind, name, &text))
}

fn if_match_header(req: &HttpRequest) -> Option<String> {
    let header = req.headers().get(IF_MATCH)?;
    Some(String::from_utf8_lossy(header.as_bytes()).into_owned())
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

/// [`current_etag`] of the object `name` when there is one.
pub async fn etag_if(
    state: &AppState,
    kind: ObjectKind,
    name: Option<&str>,
) -> ApiResult<Option<String>> {
    match name {
        Some(name) => current_etag(state, kind, name).await,
        None => Ok(None),
    }
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

/// The served paths and methods (the API document's, which the test in
/// `apidoc.rs` keeps equal to the routes).
static ROUTES: std::sync::LazyLock<pi_admin::routing::RouteTable> =
    std::sync::LazyLock::new(|| {
        pi_admin::routing::RouteTable::new(crate::apidoc::OPERATIONS.clone())
    });

/// The first path segments whose release blueprints authenticate every
/// request before routing it to a view.
const GUARDED: [&str; 9] = [
    "system",
    "policy",
    "realm",
    "defaultrealm",
    "resolver",
    "privacyideaserver",
    "audit",
    "user",
    "client",
];

/// Answer for a path that exists with another method: 405 in the envelope
/// with the route's `Allow`; `OPTIONS` gets the `Allow` alone (200), as from
/// the release.
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    // the WebUI's routes are not in the table: GET only
    let allow = ROUTES.allow(req.path());
    let allow = allow.unwrap_or_else(|| "GET, HEAD, OPTIONS".to_owned());
    let allow = (actix_web::http::header::ALLOW, allow);
    if req.method() == actix_web::http::Method::OPTIONS {
        // the blueprints that check the JWT before every request do it for
        // OPTIONS too (the release answers 401 without one)
        let first = req.path().split('/').nth(1).unwrap_or_default();
        if GUARDED.contains(&first) {
            if let Err(e) = crate::auth::authenticate(&req) {
                return crate::error::response(e);
            }
            // audited as the release's `before_request` logs it: the
            // caller and the request's user, realm and resolver
            let query = pi_admin::request::merge_params(req.query_string(), "", "", b"");
            let query = query.unwrap_or_default();
            let param = |key| pi_admin::request::param_str(&query, key);
            crate::audit::note_params(param("user"), param("realm"), param("resolver"));
        } else if first == "auth" {
            crate::audit::audit_request();
        }
        return HttpResponse::Ok()
            .insert_header(allow)
            .content_type("text/html; charset=utf-8")
            .finish();
    }
    not_allowed(&req, &allow.1)
}

/// 405 in the envelope with `Allow`.
fn not_allowed(req: &HttpRequest, allow: &str) -> HttpResponse {
    let err = crate::error::http(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "The method {} is not allowed for the requested URL.",
            req.method()
        ),
    );
    let mut resp = crate::error::response(err);
    if let Ok(value) = HeaderValue::from_str(allow) {
        resp.headers_mut()
            .insert(actix_web::http::header::ALLOW, value);
    }
    resp
}

/// Answer for a path no route serves, as the release's router and
/// not-found handler give it: a 308 to the path with its route's trailing
/// slash or with doubled slashes merged ([`pi_admin::routing`]), a 405 when
/// the merged path's route does not take the method; else
/// `{"error":"Not found"}` (404), or with the WebUI on, its shell to
/// browsers ([`pi_admin::webui::files::WebUi::not_found`]).
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if let Some(to) = ROUTES.redirect(req.method().as_str(), req.path()) {
        let host = req
            .headers()
            .get(actix_web::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let loopback = req.peer_addr().is_some_and(|a| a.ip().is_loopback());
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let scheme = pi_admin::routing::redirect_scheme(loopback, header);
        let mut url = format!("{scheme}://{host}{to}");
        if !req.query_string().is_empty() {
            url.push('?');
            url.push_str(req.query_string());
        }
        return static_ui::redirect(HttpResponse::PermanentRedirect(), &url);
    }
    if let Some(allow) = ROUTES.merged_not_allowed(req.method().as_str(), req.path()) {
        return not_allowed(&req, &allow);
    }
    match req.app_data::<web::Data<pi_admin::webui::files::WebUi>>() {
        Some(ui) => static_ui::not_found(ui.clone(), req).await,
        None => static_ui::not_found_json(),
    }
}

/// A request the admin-policy gate allowed for `P`: the admin's JWT checked,
/// the parameters read, the gate run with them as the target. A handler
/// taking it cannot forget its gate: `Allowed { state, params, .. }`.
pub type Allowed<P> = AllowedOn<P, NoPath>;

/// A route without a path variable.
pub struct NoPath;

impl PathKey for NoPath {
    const KEY: &'static str = "";
}

/// The parameter a route's single path variable is (`POST /policy/<name>`:
/// `name`; `PATCH /policy/<name>`: `old_name`).
pub trait PathKey {
    /// The parameter name.
    const KEY: &'static str;

    /// The path variable as the route uses it (default: as sent).
    fn normalize(raw: String) -> String {
        raw
    }

    /// Audit fields the route sets before its gate, so that the audit row
    /// of a denied request has them too (default: none).
    fn audit(_name: &str) {}
}

/// [`Allowed`] for a route on one named object: the path variable is
/// inserted into the parameters as `K::KEY` before the gate runs (it is
/// part of the target, e.g. `realm`).
pub struct AllowedOn<P: Permission, K: PathKey> {
    /// The server's state.
    pub state: web::Data<AppState>,
    /// The proof, with the admin and the snapshot it was decided on.
    #[allow(dead_code)] // holding it is the point; use cases may ask for it
    pub granted: Granted<P>,
    /// The request's parameters, the path variable included.
    pub params: Params,
    /// The path variable.
    pub name: String,
    /// The `If-Match` header, as text.
    if_match: Option<String>,
    key: PhantomData<K>,
}

impl<P: Permission, K: PathKey> AllowedOn<P, K> {
    /// The `If-Match` precondition of a write on the object `name` of `kind`;
    /// `None` without the header (see [`if_match`]).
    pub fn if_match(&self, kind: ObjectKind, name: &str) -> Option<Precondition> {
        let text = self.if_match.as_deref()?;
        Some(Precondition::from_header(kind, name, text))
    }
}

impl<P: Permission + 'static, K: PathKey + 'static> FromRequest for AllowedOn<P, K> {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;
    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts = request_parts::<Admin>(req, payload);
        let name = (!K::KEY.is_empty()).then(|| web::Path::<String>::extract(req));
        let if_match = if_match_header(req);
        Box::pin(async move {
            let (state, admin, mut params) = parts.await?;
            let mut value = String::new();
            if let Some(name) = name {
                value = K::normalize(name.await?.into_inner());
                K::audit(&value);
                params.insert_path(K::KEY, &value);
            }
            let granted = allowed::<P>(&state, &admin, &params)
                .await
                .map_err(HttpError)?;
            Ok(AllowedOn {
                state,
                granted,
                params,
                name: value,
                if_match,
                key: PhantomData,
            })
        })
    }
}

/// The server's state, the authenticated caller and the parameters.
pub(crate) type RequestParts<A> = (web::Data<AppState>, A, Params);

/// The server's state, the authenticated caller (`Admin` or `Caller`) and
/// the parameters of a request: the first steps of the extractors that run
/// a gate, in the order actix would run them as handler arguments.
pub(crate) fn request_parts<A: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<RequestParts<A>, actix_web::Error>>
where
    Auth<A>: FromRequest<Error = HttpError>,
    <Auth<A> as FromRequest>::Future: 'static,
{
    let auth = Auth::<A>::from_request(req, payload);
    let params = Params::from_request(req, payload);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    Box::pin(async move {
        let Auth(who) = auth.await?;
        let params = params.await?;
        let state =
            state.ok_or_else(|| HttpError(ApiError::internal("application state missing")))?;
        Ok((state, who, params))
    })
}

macro_rules! path_keys {
    ($($t:ident = $key:literal;)*) => {$(
        #[doc = concat!("The path variable is the `", $key, "` parameter.")]
        pub struct $t;
        impl PathKey for $t {
            const KEY: &'static str = $key;
        }
    )*};
}

path_keys! {
    RealmKey = "realm";
    IdentifierKey = "identifier";
    NameKey = "name";
    OldNameKey = "old_name";
    ScopeKey = "scope";
    ExportKey = "export";
    FilenameKey = "filename";
}

/// The path variable is the `resolver` parameter; the audit row's `info`
/// is the resolver's name.
pub struct ResolverKey;

impl PathKey for ResolverKey {
    const KEY: &'static str = "resolver";
    fn audit(name: &str) {
        crate::audit::log(|r| r.info = name.to_owned());
    }
}

/// The path variable is the `identifier` parameter of a definition being
/// saved, blanks replaced by `_` (privacyIDEA's `POST /privacyideaserver`).
pub struct NewIdentifierKey;

impl PathKey for NewIdentifierKey {
    const KEY: &'static str = "identifier";
    fn normalize(raw: String) -> String {
        raw.replace(' ', "_")
    }
}
