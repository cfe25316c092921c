//! `GET /metrics` and the request-counting middleware over `pi-metrics`
//! (which holds the recorder, the metric names and the access rule).

use crate::server::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use pi_metrics::Refused;
use std::sync::Arc;
use std::time::Instant;

pub use pi_metrics::set_documented_paths;

/// The route template of a resource, attached as resource data by
/// `routes::resource` so the middleware learns it without re-matching the
/// path against every route.
#[derive(Debug, Clone)]
pub struct RouteLabel(pub Arc<str>);

/// The middleware: one counter and one histogram sample per request,
/// labelled by the route template (the pattern of a route registered
/// without [`RouteLabel`], such as the WebUI's files, or `unmatched`).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = pi_metrics::method_label(req.method().as_str());
    let res = next.call(req).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let req = res.request();
    let status = res.status().as_u16();
    match req.app_data::<RouteLabel>() {
        Some(RouteLabel(t)) => pi_metrics::record(
            method,
            pi_metrics::route_label(t, req.path()),
            status,
            elapsed,
        ),
        None => match req.match_pattern() {
            Some(pattern) => pi_metrics::record(method, &pattern, status, elapsed),
            None => pi_metrics::record(method, "unmatched", status, elapsed),
        },
    }
    Ok(res)
}

/// Installs the recorder when `PI_METRICS` is on (before the first
/// snapshot is built, so that rebuild is counted). Returns whether metrics
/// are recorded.
pub fn init(cfg: &pi_config::PiConfig) -> bool {
    cfg.pi_metrics && pi_metrics::install()
}

/// `GET /metrics`.
pub async fn metrics_route(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let cfg = &state.cfg;
    let refused = |status: StatusCode, message: &str| {
        crate::error::response(crate::error::http(status, message))
    };
    if !cfg.pi_metrics || !pi_metrics::installed() {
        return refused(StatusCode::NOT_FOUND, "Metrics are disabled (PI_METRICS).");
    }
    let access = pi_metrics::access(
        cfg.pi_metrics_token.as_deref(),
        req.headers().get(AUTHORIZATION).map(HeaderValue::as_bytes),
        req.peer_addr().map(|a| a.ip()),
    );
    match access {
        Err(why @ Refused::TokenRequired) => {
            let mut resp = refused(StatusCode::UNAUTHORIZED, why.message());
            resp.headers_mut().insert(
                actix_web::http::header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer"),
            );
            return resp;
        }
        Err(why @ Refused::LoopbackOnly) => return refused(StatusCode::FORBIDDEN, why.message()),
        Ok(()) => {}
    }
    // a policy write patches the snapshot in place (no rebuild): read the
    // version of the snapshot in use now
    let pool = state.store.pool_stats();
    let gauges = pi_metrics::PoolGauges {
        connections: pool.connections,
        idle: pool.idle,
        max_size: pool.max_size,
        waiting: pool.waiting as u64,
        timeouts: pool.timeouts,
    };
    pi_metrics::set_pool(state.current_version(), gauges);
    let Some(body) = pi_metrics::render() else {
        return refused(StatusCode::NOT_FOUND, "Metrics are disabled (PI_METRICS).");
    };
    HttpResponse::Ok()
        .insert_header((
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        ))
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(body)
}
