//! Response signing (spec/realm-auth-server.md §7.3): with `PI_AUDIT_KEY_PRIVATE`/`_PUBLIC`
//! configured, every JSON answer — success or error — carries
//! `signature = rsa_sha256_pss:<hex>` over Python's
//! `json.dumps(body, sort_keys=True)`, after the request's `nonce` (if any)
//! was copied into the body; the body is then written in that same form.
//! Other answers (policy export files, `/config`, `/openapi.json`, metrics)
//! are not signed.

use crate::server::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use pi_model::pyrepr::{py_json_dumps, py_truthy};
use serde_json::Value;

use crate::params::Nonce;

fn query_nonce(req: &ServiceRequest) -> Option<Value> {
    pi_admin::request::form_urlencoded_pairs(req.query_string())
        .into_iter()
        .find(|(k, _)| k == "nonce")
        .map(|(_, v)| Value::String(v))
}

/// The signing middleware (a no-op without a signer).
pub async fn sign_responses(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let Some(signer) = state.as_ref().and_then(|s| s.signer().cloned()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // privacyIDEA's WebUI blueprint (`/config`) answers unsigned; the OpenAPI
    // document is no envelope (a `signature` key would make it invalid).
    if req.path() == "/config" || req.path() == "/openapi.json" {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let from_query = query_nonce(&req);
    let res = next.call(req).await?;
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if !is_json {
        return Ok(res.map_into_boxed_body());
    }
    let nonce = res
        .request()
        .extensions()
        .get::<Nonce>()
        .map(|n| n.0.clone())
        .or(from_query);
    let (req, res) = res.into_parts();
    let (mut head, body) = res.into_parts();
    let bytes = match actix_web::body::to_bytes(body).await {
        Ok(b) => b,
        Err(_) => {
            return Ok(ServiceResponse::new(req, head.set_body(BoxBody::new(()))));
        }
    };
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(&bytes) else {
        return Ok(ServiceResponse::new(
            req,
            head.set_body(BoxBody::new(bytes)),
        ));
    };
    if let Some(n) = nonce.filter(py_truthy) {
        obj.insert("nonce".into(), n);
    }
    obj.remove("signature");
    let mut body = Value::Object(obj);
    match signer.sign(&py_json_dumps(&body)) {
        Ok(signature) => {
            if let Value::Object(obj) = &mut body {
                obj.insert("signature".into(), Value::String(signature));
            }
        }
        Err(e) => log::error!("cannot sign the response: {e}"),
    }
    let text = py_json_dumps(&body);
    head.headers_mut().remove(header::CONTENT_LENGTH);
    head.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(ServiceResponse::new(req, head.set_body(BoxBody::new(text))))
}
