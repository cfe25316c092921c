//! The OpenAPI 3.1 document of every route, generated from the handlers'
//! `#[utoipa::path]` attributes (shared schemas in the `pi-openapi` crate) and served at
//! `GET /openapi.json`; its test fails when a registered path/method is not
//! in the document or a documented one is not served.

use crate::openapi::*;
use actix_web::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use actix_web::HttpResponse;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use utoipa::OpenApi;

/// The generated document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "pi-server",
        description = "privacyIDEA 3.14-compatible administration API: policies, realms, resolvers, remote privacyIDEA servers, admin login. Every answer is privacyIDEA's JSON envelope (`Envelope`, `ErrorEnvelope`). Parameters may be sent as query string, form or JSON body (merged as privacyIDEA does). The optional WebUI static files (`/`, `/app/v2/…`, `/static/…`) are not part of the API and not listed.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    paths(
        crate::routes::health::livez,
        crate::routes::health::startupz,
        crate::routes::health::readyz,
        healthz_root,
        crate::routes::auth::login,
        auth_slash,
        crate::routes::auth::enroll_rights,
        crate::routes::system::nodes,
        crate::routes::realm::list,
        crate::routes::realm::superuser,
        crate::routes::realm::set_realm,
        crate::routes::realm::delete_realm,
        crate::routes::realm::set_realm_node,
        crate::routes::realm::get_default,
        crate::routes::realm::clear_default,
        crate::routes::realm::set_default,
        crate::routes::resolver::list,
        crate::routes::resolver::test,
        crate::routes::resolver::defaults,
        crate::routes::resolver::get_one,
        crate::routes::resolver::save,
        crate::routes::resolver::delete,
        crate::routes::remote::list,
        crate::routes::remote::test_request,
        crate::routes::remote::save,
        crate::routes::remote::delete,
        crate::routes::audit::search,
        crate::routes::audit::download,
        crate::routes::policy::list,
        crate::routes::policy::lint::get,
        crate::routes::policy::check,
        crate::routes::policy::policy_defs,
        crate::routes::policy::defs_scope,
        crate::routes::policy::export,
        crate::routes::policy::import,
        crate::routes::policy::enable,
        crate::routes::policy::disable,
        crate::routes::policy::get_named,
        crate::routes::policy::set,
        crate::routes::policy::rename,
        crate::routes::policy::delete,
        crate::routes::user::list,
        crate::routes::user::count,

        crate::routes::user::settings,
        crate::routes::client::list,
        crate::routes::config::config,
        openapi_json,
        crate::metrics::metrics_route,
    ),
    components(schemas(
        Envelope, SuccessResult, ErrorEnvelope, ErrorResult, ErrorDetail, HealthEnvelope,
        AuthRequest, PolicyRequest, PolicyRename, RealmRequest, RealmNodeRequest,
        RealmNodeResolver, ResolverRequest, RemoteServerRequest, TestRequestRequest,
        ImportUpload,
    )),
    modifiers(&StandardErrors),
    security(("PI-Authorization" = []), ("Authorization" = [])),
    tags(
        (name = "health", description = "Liveness and readiness probes"),
        (name = "auth", description = "Admin and user login (JWT)"),
        (name = "system", description = "Cluster nodes"),
        (name = "realm", description = "Realms, their resolvers and node priorities"),
        (name = "resolver", description = "User resolvers (passwd file, SQL, LDAP)"),
        (name = "privacyideaserver", description = "Remote privacyIDEA servers"),
        (name = "policy", description = "Policies and the policy engine"),
        (name = "audit", description = "The signed audit log"),
        (name = "user", description = "Users from the realms' resolvers"),
        (name = "client", description = "Clients seen by the server"),
        (name = "webui", description = "Settings the privacyIDEA WebUI reads"),
        (name = "operations", description = "API description and metrics"),
    ),
)]
pub struct ApiDoc;

/// The serialised document, built once.
pub fn document() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_default().into_bytes())
}

/// `GET /openapi.json`.
#[utoipa::path(
    get, path = "/openapi.json", tag = "operations", security(()),
    responses((status = 200, description = "This OpenAPI 3.1 document", content_type = "application/json", body = Object)),
)]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(document())
}

/// `GET /healthz/` answers as `GET /healthz/readyz` (same handler).
#[utoipa::path(
    get, path = "/healthz/", tag = "health", security(()),
    responses((status = 200, description = "The database answers", body = HealthEnvelope)),
)]
#[allow(dead_code)] // documentation only: the route is served by readyz
fn healthz_root() {}

/// `POST /auth/` answers as `POST /auth` (same handler).
#[utoipa::path(
    post, path = "/auth/", tag = "auth", security(()),
    request_body(content(
        (AuthRequest = "application/json"),
        (AuthRequest = "application/x-www-form-urlencoded"),
    )),
    responses((status = 200, description = "The JWT in `value.token`, role, rights, WebUI settings", body = Envelope)),
)]
#[allow(dead_code)] // documentation only
fn auth_slash() {}

/// The operations routes: `GET /openapi.json` and `GET /metrics`.
pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_web::web;
    cfg.service(web::resource("/openapi.json").route(web::get().to(openapi_json)))
        .service(web::resource("/metrics").route(web::get().to(crate::metrics::metrics_route)));
}

/// The paths of the document, as `(path, method)` in lower case.
pub fn operations() -> BTreeMap<String, Vec<String>> {
    let doc = ApiDoc::openapi();
    let mut out = BTreeMap::new();
    for (path, item) in doc.paths.paths {
        let mut methods = Vec::new();
        for (m, op) in [
            ("get", item.get.is_some()),
            ("post", item.post.is_some()),
            ("patch", item.patch.is_some()),
            ("delete", item.delete.is_some()),
            ("put", item.put.is_some()),
        ] {
            if op {
                methods.push(m.to_owned());
            }
        }
        out.insert(path, methods);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::Method;
    use actix_web::{test as atest, web, App};
    use serde_json::Value;

    /// `{param}` replaced by a value.
    fn concrete(path: &str) -> String {
        let re = regex::Regex::new(r"\{[^}]*\}").unwrap();
        re.replace_all(path, "x").into_owned()
    }

    /// Whether the app serves `method path`: neither the 404 of an unknown
    /// URL nor the 405 of another method. The app has no state, so any
    /// registered handler fails in its extractors (500/401) instead.
    macro_rules! served {
        ($app:expr, $method:expr, $path:expr) => {{
            let req = atest::TestRequest::default()
                .method($method.clone())
                .uri(&$path)
                .to_request();
            let resp = atest::call_service(&$app, req).await;
            !matches!(resp.status().as_u16(), 404 | 405)
        }};
    }

    #[actix_web::test]
    async fn every_route_is_documented_and_every_documented_route_is_served() {
        let app = atest::init_service(
            App::new()
                .configure(crate::routes::configure)
                .configure(configure)
                .default_service(web::to(crate::routes::not_found)),
        )
        .await;
        let doc = operations();
        let methods = [
            Method::GET,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
            Method::PUT,
        ];
        let registered = crate::routes::registered_paths();
        assert!(registered.len() > 30, "{registered:?}");
        let mut missing = Vec::new();
        for path in &registered {
            for m in &methods {
                if served!(app, m, concrete(path)) {
                    let lower = m.as_str().to_lowercase();
                    if !doc.get(path).is_some_and(|ms| ms.contains(&lower)) {
                        missing.push(format!("{m} {path}"));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "not in /openapi.json: {missing:?}");
        let mut unserved = Vec::new();
        for (path, ms) in &doc {
            for m in ms {
                let method = Method::from_bytes(m.to_uppercase().as_bytes()).unwrap();
                if !served!(app, method, concrete(path)) {
                    unserved.push(format!("{m} {path}"));
                }
            }
        }
        assert!(
            unserved.is_empty(),
            "documented but not served: {unserved:?}"
        );
    }

    #[test]
    fn document_is_openapi_3_1_with_the_envelope() {
        let v: Value = serde_json::from_slice(document()).unwrap();
        assert_eq!(v["openapi"], "3.1.0");
        assert!(v["components"]["schemas"]["Envelope"].is_object());
        let op = &v["paths"]["/policy/{name}"]["post"];
        assert_eq!(
            op["responses"]["403"]["$ref"],
            "#/components/responses/Error403"
        );
        assert!(op["requestBody"]["content"]["application/json"].is_object());
        // public routes do not list 401; only versioned writes list 412 and If-Match
        assert!(v["paths"]["/healthz/livez"]["get"]["responses"]["401"].is_null());
        assert!(v["paths"]["/policy/{name}"]["get"]["responses"]["412"].is_null());
        let params = op["parameters"].as_array().unwrap();
        assert!(params
            .iter()
            .any(|p| p["name"] == "If-Match" && p["in"] == "header"));
        for (m, path) in IF_MATCH {
            assert!(v["paths"][path][m].is_object(), "{m} {path}");
        }
        for (path, item) in v["paths"].as_object().unwrap() {
            for (m, op) in item.as_object().unwrap() {
                let has = !op["responses"]["412"].is_null();
                assert_eq!(
                    has,
                    IF_MATCH.contains(&(m.as_str(), path.as_str())),
                    "{m} {path}"
                );
            }
        }
    }
}
