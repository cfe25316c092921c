//! Prometheus metrics for `GET /metrics` (`metrics` facade +
//! `metrics-exporter-prometheus`, rendered by the server's own route).
//!
//! Recorded off the request's critical work: the server's middleware takes
//! one `Instant` and, after the answer is built, calls [`record`]: a counter
//! and a histogram sample keyed by the route *template* (`/policy/{name}`),
//! never the concrete path. Pool gauges are set when scraped
//! ([`set_pool`]). Other parts publish through the same facade
//! (`metrics::counter!` …); every name is listed in `docs/operations.md`.
//!
//! Access ([`access`]): with `PI_METRICS_TOKEN` set, `Authorization: Bearer
//! <token>` is required; without it only loopback clients are answered.
//! `PI_METRICS = False` turns the recorder, the middleware and the route off.
//!
//! Nothing here knows HTTP frameworks: the server passes the method name,
//! the route template, the status, the peer address and the header value.

use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;
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

/// Whether [`install`] put the recorder in place.
pub fn installed() -> bool {
    HANDLE.get().is_some()
}

/// The exposition (text format 0.0.4) of everything recorded, or `None`
/// when [`install`] has not run.
pub fn render() -> Option<String> {
    HANDLE.get().map(PrometheusHandle::render)
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

/// The database pool as seen at a scrape.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolGauges {
    /// Open connections.
    pub connections: u32,
    /// Idle connections.
    pub idle: u32,
    /// The pool's maximum.
    pub max_size: u32,
    /// Callers waiting for a connection.
    pub waiting: u64,
    /// Failed checkouts since start.
    pub timeouts: u64,
}

/// Sets the gauges read at a scrape: the snapshot's configuration version
/// (when one is built) and the pool.
pub fn set_pool(config_version: Option<i64>, pool: PoolGauges) {
    if let Some(v) = config_version {
        metrics::gauge!("pi_config_version").set(v as f64);
    }
    metrics::gauge!("pi_db_pool_connections").set(f64::from(pool.connections));
    metrics::gauge!("pi_db_pool_idle").set(f64::from(pool.idle));
    metrics::gauge!("pi_db_pool_max").set(f64::from(pool.max_size));
    metrics::gauge!("pi_db_pool_waiting").set(pool.waiting as f64);
    metrics::counter!("pi_db_pool_timeouts_total").absolute(pool.timeouts);
}

/// Paths served by a templated route but documented (and counted) as their
/// own route: `GET /policy/check`, `GET /policy/defs`, `GET /realm/superuser`.
/// Set once from the API document before the first request is counted.
static ALIASES: OnceLock<HashSet<String>> = OnceLock::new();

/// Takes the documented paths (the static ones become their own labels).
pub fn set_documented_paths(paths: impl IntoIterator<Item = String>) {
    let _ = ALIASES.set(paths.into_iter().filter(|p| !p.contains('{')).collect());
}

/// The route label of a request matched by `template` on `path`: a
/// documented static path served by a template (`/policy/check` by
/// `/policy/{name}`) is its own label; otherwise the template.
pub fn route_label<'a>(template: &'a str, path: &str) -> &'a str {
    if !template.contains('{') {
        return template;
    }
    ALIASES
        .get()
        .and_then(|aliases| aliases.get(path))
        .map_or(template, String::as_str)
}

/// The method label: the standard methods by name, anything else `OTHER`
/// (a client must not be able to create series at will).
pub fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "PUT" => "PUT",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
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

/// Counts one request (`method` from [`method_label`], `route` from
/// [`route_label`]) and records its latency in seconds.
pub fn record(method: &'static str, route: &str, status: u16, elapsed: f64) {
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

/// Why a scrape is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A token is configured and the request does not carry it (401).
    TokenRequired,
    /// No token is configured and the client is not on loopback (403).
    LoopbackOnly,
}

impl Refused {
    /// The message of the error answer.
    pub fn message(self) -> &'static str {
        match self {
            Refused::TokenRequired => "A bearer token (PI_METRICS_TOKEN) is required.",
            Refused::LoopbackOnly => {
                "Metrics are served to loopback clients only unless PI_METRICS_TOKEN is set."
            }
        }
    }
}

/// Who may scrape: with a `token` (`PI_METRICS_TOKEN`), whoever sends
/// `Authorization: Bearer <token>` (compared in constant time); without,
/// loopback clients only.
pub fn access(
    token: Option<&str>,
    authorization: Option<&[u8]>,
    peer: Option<IpAddr>,
) -> Result<(), Refused> {
    match token {
        Some(token) => {
            let given = authorization
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| h.strip_prefix("Bearer "));
            match given {
                Some(g) if bool::from(g.trim().as_bytes().ct_eq(token.as_bytes())) => Ok(()),
                _ => Err(Refused::TokenRequired),
            }
        }
        None if peer.is_some_and(|ip| ip.is_loopback()) => Ok(()),
        None => Err(Refused::LoopbackOnly),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(token: Option<&str>, peer: &str, auth: Option<&str>) -> Result<(), Refused> {
        let ip: Option<IpAddr> = peer.parse().ok();
        access(token, auth.map(str::as_bytes), ip)
    }

    #[test]
    fn loopback_only_without_a_token() {
        assert_eq!(check(None, "127.0.0.1", None), Ok(()));
        assert_eq!(check(None, "::1", None), Ok(()));
        assert_eq!(check(None, "10.1.2.3", None), Err(Refused::LoopbackOnly));
        assert_eq!(
            check(None, "10.1.2.3", Some("Bearer x")),
            Err(Refused::LoopbackOnly)
        );
        assert_eq!(check(None, "", None), Err(Refused::LoopbackOnly));
    }

    #[test]
    fn a_token_is_needed_from_everywhere_when_set() {
        let t = Some("tok");
        assert_eq!(check(t, "10.1.2.3", Some("Bearer tok")), Ok(()));
        assert_eq!(check(t, "10.1.2.3", Some("Bearer tok ")), Ok(()));
        assert_eq!(check(t, "127.0.0.1", None), Err(Refused::TokenRequired));
        assert_eq!(
            check(t, "10.1.2.3", Some("Bearer tok2")),
            Err(Refused::TokenRequired)
        );
        assert_eq!(
            check(t, "10.1.2.3", Some("tok")),
            Err(Refused::TokenRequired)
        );
    }

    #[test]
    fn documented_static_paths_are_their_own_route() {
        set_documented_paths(["/policy/check".to_owned(), "/policy/{name}".to_owned()]);
        assert_eq!(
            route_label("/policy/{name}", "/policy/check"),
            "/policy/check"
        );
        assert_eq!(
            route_label("/policy/{name}", "/policy/pol1"),
            "/policy/{name}"
        );
        assert_eq!(route_label("/auth", "/auth"), "/auth");
    }

    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        assert_eq!(method_label("PATCH"), "PATCH");
        assert_eq!(method_label("BREW"), "OTHER");
        assert_eq!(method_label("get"), "OTHER");
    }
}
