//! The actix application: routes, HTTP-layer error handlers, fallbacks.

use crate::params::BodyLimit;
use crate::routes;
use crate::server::AppState;
use actix_web::http::StatusCode;
use actix_web::web;

/// The envelope for a body, query or path actix could not read.
fn bad_request(what: &str, e: impl std::fmt::Display) -> actix_web::Error {
    crate::error::HttpError(crate::error::http(
        StatusCode::BAD_REQUEST,
        format!("{what}: {e}"),
    ))
    .into()
}

/// Register state, error handlers and every route.
pub fn configure(state: web::Data<AppState>, limit: usize) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        let json_cfg = web::JsonConfig::default()
            .limit(limit)
            .error_handler(|e, _| bad_request("Invalid JSON", e));
        let form_cfg = web::FormConfig::default()
            .limit(limit)
            .error_handler(|e, _| bad_request("Invalid form data", e));
        let query_cfg = web::QueryConfig::default()
            .error_handler(|e, _| bad_request("Invalid query string", e));
        let path_cfg =
            web::PathConfig::default().error_handler(|e, _| bad_request("Invalid path", e));
        let webui = pi_admin::webui::files::WebUi::from_config(&state.cfg);
        let audit = web::Data::new(state.audit_writer().cloned());
        cfg.app_data(state)
            .app_data(audit)
            .app_data(web::Data::new(BodyLimit(limit)))
            .app_data(json_cfg)
            .app_data(form_cfg)
            .app_data(query_cfg)
            .app_data(path_cfg);
        routes::configure(cfg);
        cfg.service(
            web::resource("/openapi.json").route(web::get().to(crate::apidoc::openapi_json)),
        )
        .service(web::resource("/metrics").route(web::get().to(crate::metrics::metrics_route)));
        if let Some(ui) = webui {
            routes::static_ui::configure(cfg, ui);
        }
    }
}
