//! `pi-server` as a library: the actix application ([`configure`]), its state
//! ([`AppState::start`]) and [`serve`], so that handlers can be tested
//! in-process with `actix_web::test`; `main.rs` only reads the command line.

pub mod apidoc;
mod app;
mod audit_middleware;
mod auth;
mod envelope;
mod error;
mod metrics;
mod params;
mod request;
mod routes;
mod server;
mod signing;

pub use app::configure;
pub use routes::not_found;
pub use server::AppState;

/// The audit trail (`crate::audit::log` in the handlers) is pi-admin's.
use pi_admin::audit;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use std::io::Write;

/// The whole application over `state` — every route with the middleware of
/// the real server (audit, signing, metrics when `metrics_on`, the database
/// deadline) and the envelope for unknown routes. [`serve`] runs it; tests
/// call it with `actix_web::test::init_service`.
pub fn app(
    data: web::Data<AppState>,
    metrics_on: bool,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let limit = data.body_limit();
    App::new()
        .wrap(actix_web::middleware::from_fn(audit_middleware::record))
        .wrap(actix_web::middleware::from_fn(signing::sign_responses))
        .wrap(actix_web::middleware::Condition::new(
            metrics_on,
            actix_web::middleware::from_fn(metrics::track),
        ))
        .wrap_fn(|req, srv| {
            pi_admin::state::with_db_deadline(actix_web::dev::Service::call(srv, req))
        })
        .configure(app::configure(data, limit))
        .default_service(web::to(routes::not_found))
        // HEAD is GET without the body (actix-http leaves the body out);
        // the audit row keeps `HEAD`, as Flask's `request.method` does
        .wrap_fn(|mut req, srv| {
            if let Some(path) = pi_admin::routing::wsgi_path(req.path()) {
                route_as(&mut req, &path);
            }
            if req.method() == actix_web::http::Method::HEAD {
                req.head_mut().method = actix_web::http::Method::GET;
                actix_web::HttpMessage::extensions_mut(&req).insert(audit_middleware::Head);
            }
            actix_web::dev::Service::call(srv, req)
        })
}

/// Routes `req` as if `path` had been sent (the query string kept), as
/// actix's `NormalizePath` rewrites a request.
fn route_as(req: &mut ServiceRequest, path: &str) {
    use actix_web::http::uri::{PathAndQuery, Uri};
    let path_and_query = match req.query_string() {
        "" => path.to_owned(),
        query => format!("{path}?{query}"),
    };
    let Ok(path_and_query) = path_and_query.parse::<PathAndQuery>() else {
        return;
    };
    let mut parts = req.head().uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query);
    if let Ok(uri) = Uri::from_parts(parts) {
        req.match_info_mut().get_mut().update(&uri);
        req.head_mut().uri = uri;
    }
}

/// Start the state and serve on `listen` until the server stops (SIGINT/SIGTERM);
/// prints `pi-server listening on http://<addr>` for every bound address.
pub async fn serve(
    cfg: pi_config::PiConfig,
    listen: String,
    workers: Option<usize>,
) -> anyhow::Result<()> {
    let metrics_on = metrics::init(&cfg);
    metrics::set_documented_paths(apidoc::OPERATIONS.keys().cloned());
    let state = server::AppState::start(cfg).await?;
    let audit = state.audit_writer().cloned();
    let data = web::Data::new(state);
    let mut server = HttpServer::new(move || app(data.clone(), metrics_on));
    if let Some(n) = workers {
        server = server.workers(n.max(1));
    }
    let server = server
        .bind(&listen)
        .with_context(|| format!("cannot listen on `{listen}`"))?;
    for addr in server.addrs() {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "pi-server listening on http://{addr}");
        let _ = out.flush();
    }
    server.run().await?;
    if let Some(audit) = audit {
        // every request is answered: write what is queued, then stop
        actix_web::rt::task::spawn_blocking(move || audit.close()).await?;
    }
    Ok(())
}
