//! Prometheus metrics at `GET /metrics` (`metrics` facade +
//! `metrics-exporter-prometheus`, rendered into our own route).
//!
//! Recorded off the request's critical work: the middleware takes one
//! `Instant` and, after the answer is built, bumps a counter and records a
//! histogram sample keyed by the route *template* (`/policy/{name}`), never
//! the concrete path. Pool gauges are read when scraped. Other parts publish
//! through the same facade (`metrics::counter!` …); every name is listed in
//! `docs/operations.md`.
//!
//! Access: with `PI_METRICS_TOKEN` set, `Authorization: Bearer <token>` is
//! required; without it only loopback clients are answered. `PI_METRICS =
//! False` turns the recorder, the middleware and the route off (404).

use crate::server::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use actix_web::http::Method;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// Request latency buckets (seconds).
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The installed exporter (one per process).
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder as the global `metrics` recorder (once
/// per process) and starts its upkeep thread. Returns false when another
/// recorder was installed first.
pub fn install() -> bool {
    if HANDLE.get().is_some() {
        return true;
    }
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
        .and_then(|b| b.upkeep_timeout(Duration::from_secs(5)).install_recorder());
    match builder {
        Ok(handle) => {
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                });
            if let Err(e) = spawned {
                log::warn!("metrics upkeep thread not started: {e}");
            }
            let _ = HANDLE.set(handle);
            describe();
            true
        }
        Err(e) => {
            log::warn!("metrics recorder not installed: {e}");
            false
        }
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "pi_http_requests_total",
        "HTTP requests by method, route template and status"
    );
    describe_histogram!(
        "pi_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP request latency by method and route template"
    );
    describe_counter!(
        "pi_snapshot_rebuilds_total",
        "Configuration snapshots rebuilt after the config version moved"
    );
    describe_histogram!(
        "pi_snapshot_rebuild_duration_seconds",
        Unit::Seconds,
        "Time to read and build a configuration snapshot"
    );
    describe_gauge!(
        "pi_config_version",
        "The configuration version of the current snapshot"
    );
    describe_gauge!("pi_db_pool_connections", "Open database connections");
    describe_gauge!("pi_db_pool_idle", "Idle database connections");
    describe_gauge!("pi_db_pool_max", "Maximum database connections");
    describe_gauge!(
        "pi_db_pool_waiting",
        "Callers waiting for a database connection"
    );
    describe_counter!(
        "pi_db_pool_timeouts_total",
        "Failed database connection checkouts (timeout or connection error)"
    );
    describe_counter!(
        "pi_remote_test_requests_total",
        "POST /privacyideaserver/test_request outcomes"
    );
}

/// Paths served by a templated route but documented (and counted) as their
/// own route: `GET /policy/check`, `GET /policy/defs`, `GET /realm/superuser`.
/// Set once from the API document (`apidoc::operations`) before the first
/// request is counted.
static ALIASES: OnceLock<HashSet<String>> = OnceLock::new();

fn static_aliases() -> &'static HashSet<String> {
    ALIASES.get_or_init(HashSet::new)
}

/// Takes the documented paths (the static ones become [`static_aliases`]).
pub fn set_documented_paths(paths: impl IntoIterator<Item = String>) {
    let _ = ALIASES.set(paths.into_iter().filter(|p| !p.contains('{')).collect());
}

/// The route template of a resource, attached as resource data by
/// `routes::resource` so the middleware learns it without re-matching the
/// path against every route.
#[derive(Debug, Clone)]
pub struct RouteLabel(pub Arc<str>);

/// The route label of a request: the matched template, a documented static
/// path served by a template (`/policy/check`), the pattern of a route
/// registered without [`RouteLabel`] (the WebUI's files), or `unmatched`.
fn route_label(req: &HttpRequest) -> Cow<'_, str> {
    match req.app_data::<RouteLabel>() {
        Some(RouteLabel(t)) if t.contains('{') => Cow::Borrowed(
            static_aliases()
                .get(req.path())
                .map_or(&**t, String::as_str),
        ),
        Some(RouteLabel(t)) => Cow::Borrowed(&**t),
        None => req
            .match_pattern()
            .map_or(Cow::Borrowed("unmatched"), Cow::Owned),
    }
}

/// The method label: the standard methods by name, anything else `OTHER`
/// (a client must not be able to create series at will).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// A worker's metric handles for one route, so a request neither builds a
/// metric key nor looks one up in the shared registry.
#[derive(Default)]
struct RouteHandles {
    latency: Vec<(&'static str, Histogram)>,
    requests: Vec<(&'static str, u16, Counter)>,
}

thread_local! {
    static HANDLES: RefCell<HashMap<String, RouteHandles>> = RefCell::new(HashMap::new());
}

fn record(method: &'static str, route: &str, status: u16, elapsed: f64) {
    HANDLES.with(|cell| {
        let mut map = cell.borrow_mut();
        if !map.contains_key(route) {
            map.insert(route.to_owned(), RouteHandles::default());
        }
        let Some(h) = map.get_mut(route) else { return };
        match h.latency.iter().find(|(m, _)| *m == method) {
            Some((_, hist)) => hist.record(elapsed),
            None => {
                let hist = metrics::histogram!("pi_http_request_duration_seconds", "method" => method, "route" => route.to_owned());
                hist.record(elapsed);
                h.latency.push((method, hist));
            }
        }
        match h
            .requests
            .iter()
            .find(|(m, st, _)| *m == method && *st == status)
        {
            Some((_, _, c)) => c.increment(1),
            None => {
                let c = metrics::counter!("pi_http_requests_total", "method" => method, "route" => route.to_owned(), "status" => status.to_string());
                c.increment(1);
                h.requests.push((method, status, c));
            }
        }
    });
}

/// The middleware: one counter and one histogram sample per request.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let res = next.call(req).await?;
    let elapsed = started.elapsed().as_secs_f64();
    record(
        method,
        &route_label(res.request()),
        res.status().as_u16(),
        elapsed,
    );
    Ok(res)
}

/// Installs the recorder when `PI_METRICS` is on (before the first
/// snapshot is built, so that rebuild is counted). Returns whether metrics
/// are recorded.
pub fn init(cfg: &pi_config::PiConfig) -> bool {
    cfg.pi_metrics && install()
}

fn is_loopback(req: &HttpRequest) -> bool {
    req.peer_addr().is_some_and(|a| a.ip().is_loopback())
}

fn token_matches(req: &HttpRequest, token: &str) -> bool {
    req.headers()
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|given| bool::from(given.trim().as_bytes().ct_eq(token.as_bytes())))
}

/// Who may scrape: with a token, whoever sends it; without, loopback only.
fn access(token: Option<&str>, req: &HttpRequest) -> Result<(), Box<HttpResponse>> {
    let refused = |status: StatusCode, message: &str| {
        Box::new(crate::error::response(crate::error::http(status, message)))
    };
    match token {
        Some(token) if !token_matches(req, token) => {
            let mut resp = refused(
                StatusCode::UNAUTHORIZED,
                "A bearer token (PI_METRICS_TOKEN) is required.",
            );
            resp.headers_mut().insert(
                actix_web::http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer"),
            );
            Err(resp)
        }
        None if !is_loopback(req) => Err(refused(
            StatusCode::FORBIDDEN,
            "Metrics are served to loopback clients only unless PI_METRICS_TOKEN is set.",
        )),
        _ => Ok(()),
    }
}

/// `GET /metrics`.
#[utoipa::path(
    get, path = "/metrics", tag = "operations",
    security(("metrics_token" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", content_type = "text/plain", body = String),
        (status = 401, description = "`PI_METRICS_TOKEN` is set and the bearer token is missing or wrong", body = crate::openapi::ErrorEnvelope),
        (status = 403, description = "No `PI_METRICS_TOKEN`, and the client is not on loopback", body = crate::openapi::ErrorEnvelope),
        (status = 404, description = "`PI_METRICS = False`", body = crate::openapi::ErrorEnvelope),
    ),
)]
pub async fn metrics_route(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let cfg = &state.cfg;
    let refused = |status: StatusCode, message: &str| {
        crate::error::response(crate::error::http(status, message))
    };
    let Some(handle) = HANDLE.get().filter(|_| cfg.pi_metrics) else {
        return refused(StatusCode::NOT_FOUND, "Metrics are disabled (PI_METRICS).");
    };
    if let Err(resp) = access(cfg.pi_metrics_token.as_deref(), &req) {
        return *resp;
    }
    // a policy write patches the snapshot in place (no rebuild): read the
    // version of the snapshot in use now
    if let Some(v) = state.current_version() {
        metrics::gauge!("pi_config_version").set(v as f64);
    }
    let pool = state.store.pool_stats();
    metrics::gauge!("pi_db_pool_connections").set(f64::from(pool.connections));
    metrics::gauge!("pi_db_pool_idle").set(f64::from(pool.idle));
    metrics::gauge!("pi_db_pool_max").set(f64::from(pool.max_size));
    metrics::gauge!("pi_db_pool_waiting").set(pool.waiting as f64);
    metrics::counter!("pi_db_pool_timeouts_total").absolute(pool.timeouts);
    HttpResponse::Ok()
        .insert_header((
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        ))
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(handle.render())
}

#[cfg(test)]
mod tests {
    use super::access;
    use actix_web::test::TestRequest;

    fn from(addr: &str, auth: Option<&str>) -> actix_web::HttpRequest {
        let mut r = TestRequest::default().peer_addr(addr.parse().unwrap());
        if let Some(a) = auth {
            r = r.insert_header(("Authorization", a));
        }
        r.to_http_request()
    }

    fn status(token: Option<&str>, req: &actix_web::HttpRequest) -> u16 {
        match access(token, req) {
            Ok(()) => 200,
            Err(resp) => resp.status().as_u16(),
        }
    }

    #[test]
    fn loopback_only_without_a_token() {
        assert_eq!(status(None, &from("127.0.0.1:4000", None)), 200);
        assert_eq!(status(None, &from("[::1]:4000", None)), 200);
        assert_eq!(status(None, &from("10.1.2.3:4000", None)), 403);
        assert_eq!(status(None, &from("10.1.2.3:4000", Some("Bearer x"))), 403);
    }

    #[test]
    fn a_token_is_needed_from_everywhere_when_set() {
        let t = Some("tok");
        assert_eq!(status(t, &from("10.1.2.3:4000", Some("Bearer tok"))), 200);
        assert_eq!(status(t, &from("127.0.0.1:4000", None)), 401);
        assert_eq!(status(t, &from("10.1.2.3:4000", Some("Bearer tok2"))), 401);
        assert_eq!(status(t, &from("10.1.2.3:4000", Some("tok"))), 401);
    }
}
