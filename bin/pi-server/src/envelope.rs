//! privacyIDEA's JSON envelope for success and error answers.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Value};

/// The privacyIDEA API level this server implements.
pub use pi_admin::webui::config::VERSION_NUMBER;

/// `version` as privacyIDEA writes it.
pub fn version_string() -> String {
    format!("privacyIDEA {VERSION_NUMBER}")
}

fn now_secs() -> f64 {
    let now = chrono::Utc::now();
    now.timestamp() as f64 + f64::from(now.timestamp_subsec_micros()) / 1e6
}

/// A success body: `{"id":1,"jsonrpc":"2.0","result":{"status":true,"value":…},…}`.
pub fn success_body(value: Value) -> Value {
    json!({
        "id": 1,
        "jsonrpc": "2.0",
        "result": {"status": true, "value": value},
        "time": now_secs(),
        "version": version_string(),
        "versionnumber": VERSION_NUMBER,
    })
}

/// A success body with `detail` (privacyIDEA adds it only when an endpoint has details).
pub fn success_body_with_detail(value: Value, detail: Value) -> Value {
    let mut body = success_body(value);
    if let Some(obj) = body.as_object_mut() {
        obj.insert("detail".into(), detail);
    }
    body
}

/// An error body: `detail: null`, `result.error.{code,message}`, no `versionnumber`.
pub fn error_body(code: i64, message: &str, detail: Value) -> Value {
    json!({
        "detail": detail,
        "id": 1,
        "jsonrpc": "2.0",
        "result": {"status": false, "error": {"code": code, "message": message}},
        "time": now_secs(),
        "version": version_string(),
    })
}

/// Serialise a body as `application/json` with privacyIDEA's `Cache-Control: no-cache`.
pub fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    HttpResponse::build(status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .body(bytes)
}

/// `200 OK` with the success envelope around `value`.
pub fn ok(value: Value) -> HttpResponse {
    json_response(StatusCode::OK, &success_body(value))
}

/// A number for the handling thread, like privacyIDEA's
/// `threading.get_ident()` in `detail.threadid`.
pub fn thread_id() -> u64 {
    let text = format!("{:?}", std::thread::current().id());
    text.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or(0)
}
