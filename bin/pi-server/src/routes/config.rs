//! `GET /config`: the WebUI's configuration (`pi_admin::webui::config`);
//! the route reads the token, the request facts and `Accept-Language`, and
//! hides the envelope's version when the configuration says so.

use super::resource;
use crate::envelope;
use crate::server::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest};
use pi_admin::webui::config::ui_config;

async fn config(state: web::Data<AppState>, req: HttpRequest) -> crate::error::Reply {
    let logged_in = crate::auth::authenticate(&req).is_ok();
    let info = crate::request::from_request(&req);
    let accept_language = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let ui = ui_config(&state, &info, logged_in, accept_language).await?;
    let mut body = envelope::success_body(ui.value);
    if ui.version_hidden {
        if let Some(obj) = body.as_object_mut() {
            obj.remove("version");
            obj.remove("versionnumber");
        }
    }
    Ok(envelope::json_response(StatusCode::OK, &body))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/config").route(web::get().to(config)));
}
