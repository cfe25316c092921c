//! `GET /openapi.json`: the OpenAPI 3.1 document of the `pi-openapi` crate
//! (its `paths` module describes every operation). The test here fails when
//! a registered path/method is not in the document or a documented one is
//! not served.

use actix_web::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use actix_web::HttpResponse;
pub use pi_openapi::document;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The documented paths and their methods, from one build of the document
/// (the metrics labels and the router's table read it).
pub static OPERATIONS: LazyLock<BTreeMap<String, Vec<String>>> =
    LazyLock::new(pi_openapi::operations);

/// `GET /openapi.json`.
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(document())
}

/// The operations routes: `GET /openapi.json` and `GET /metrics`.
pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    use actix_web::web;
    cfg.service(web::resource("/openapi.json").route(web::get().to(openapi_json)))
        .service(web::resource("/metrics").route(web::get().to(crate::metrics::metrics_route)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::Method;
    use actix_web::{test as atest, web, App};

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
        let doc = OPERATIONS.clone();
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
}
