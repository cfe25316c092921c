//! Health probes as privacyIDEA 3.14 answers them (no version fields):
//! `GET /healthz/livez` (the process answers), `GET /healthz/startupz`,
//! `GET /healthz/readyz` and `GET /healthz/` (the database answers; 503 when not).

use super::resource;
use crate::envelope;
use crate::server::AppState;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

fn probe(value: Value) -> HttpResponse {
    let body = json!({
        "id": 1,
        "jsonrpc": "2.0",
        "result": {"status": true, "value": value},
        "time": chrono::Utc::now().timestamp_micros() as f64 / 1e6,
    });
    envelope::json_response(StatusCode::OK, &body)
}

async fn livez() -> HttpResponse {
    probe(json!({"status": "OK"}))
}

async fn startupz() -> HttpResponse {
    probe(json!({"status": "started"}))
}

async fn readyz(state: web::Data<AppState>) -> crate::error::Reply {
    state.db(|s| s.ping()).await?;
    Ok(probe(json!({"hsm": "OK", "status": "ready"})))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/healthz/livez").route(web::get().to(livez)))
        .service(resource("/healthz/startupz").route(web::get().to(startupz)))
        .service(resource("/healthz/readyz").route(web::get().to(readyz)))
        .service(resource("/healthz/").route(web::get().to(readyz)));
}
