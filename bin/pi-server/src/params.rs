//! The parameter extractor: the body read within its limits, then merged
//! with the query string the privacyIDEA way by
//! [`pi_admin::request::merge_params`] (spec/realm-auth-server.md §0.1);
//! path variables are added last by the handler ([`Params::insert_path`]).

use crate::error::{ApiError, ApiResult};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use std::future::Future;
use std::pin::Pin;

/// Default cap on request bodies (overridden by `PI_MAX_BODY_SIZE`).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The body limit in force, stored as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The merged parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: Map<String, Value>,
}

/// The `nonce` request parameter, stored by the parameter extractor (body
/// parameters included) so that the signature can echo it.
#[derive(Debug, Clone)]
pub struct Nonce(pub Value);

impl Params {
    /// Build from the request head and its body bytes.
    pub fn parse(req: &HttpRequest, body: &[u8]) -> ApiResult<Self> {
        let params = Self::parse_values(req, body)?;
        if let Some(n) = params.values.get("nonce") {
            actix_web::HttpMessage::extensions_mut(req).insert(Nonce(n.clone()));
        }
        Ok(params)
    }

    fn parse_values(req: &HttpRequest, body: &[u8]) -> ApiResult<Self> {
        let header = |name| {
            req.headers()
                .get(name)
                .and_then(|v: &header::HeaderValue| v.to_str().ok())
                .unwrap_or("")
        };
        let values = pi_admin::request::merge_params(
            req.query_string(),
            header(header::CONTENT_TYPE),
            header(header::USER_AGENT),
            body,
        )?;
        Ok(Params { values })
    }

    /// Lower-case every parameter name (GET list/check endpoints do this).
    pub fn lowercase_keys(&mut self) {
        let old = std::mem::take(&mut self.values);
        for (k, v) in old {
            self.values.entry(k.to_lowercase()).or_insert(v);
        }
    }

    /// Add a (percent-decoded) path variable; it overrides body keys.
    pub fn insert_path(&mut self, key: &str, value: &str) {
        self.values
            .insert(key.to_string(), Value::String(value.to_string()));
    }

    /// The parameters as a map (what pi-admin's use cases take).
    pub fn into_map(self) -> Map<String, Value> {
        self.values
    }

    /// All parameters.
    pub fn all(&self) -> &Map<String, Value> {
        &self.values
    }

    /// The value as a string the way Python's `str()` would render it; `None` for
    /// an absent key or JSON `null`.
    pub fn get_str(&self, key: &str) -> Option<String> {
        pi_admin::request::param_str(&self.values, key)
    }

    /// A required parameter: absent, `null` or `""` ⇒ `Missing parameter: <key>`.
    pub fn required_str(&self, key: &str) -> ApiResult<String> {
        pi_admin::request::required_param(&self.values, key)
    }

    /// privacyIDEA's `is_true` over the value; `default` when absent or `null`.
    pub fn is_true(&self, key: &str, default: bool) -> bool {
        pi_admin::request::param_is_true(&self.values, key, default)
    }
}

/// `PI_BODY_TIMEOUT` (ours, seconds, default 30): how long a client may
/// take to send its request body. A slower body is answered 408 and its
/// connection closed, so slow clients cannot hold the server's resources.
/// (The request head has actix's own limit, 5 s.)
pub fn body_timeout(req: &HttpRequest) -> std::time::Duration {
    let secs = req
        .app_data::<web::Data<crate::server::AppState>>()
        .and_then(|s| s.cfg.get("PI_BODY_TIMEOUT").and_then(|v| v.as_f64()))
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(30.0);
    std::time::Duration::from_secs_f64(secs.min(86_400.0))
}

/// The answer to a body that did not arrive within [`body_timeout`].
pub fn body_timeout_error(timeout: std::time::Duration) -> ApiError {
    crate::error::http(
        StatusCode::REQUEST_TIMEOUT,
        format!(
            "The request body was not received within {} s.",
            timeout.as_secs_f64()
        ),
    )
}

impl FromRequest for Params {
    type Error = crate::error::HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let limit = req
            .app_data::<web::Data<BodyLimit>>()
            .map(|l| l.0)
            .unwrap_or(DEFAULT_BODY_LIMIT);
        let is_multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|c| c.to_ascii_lowercase().starts_with("multipart/"))
            .unwrap_or(false);
        let mut payload = if is_multipart {
            Payload::None
        } else {
            payload.take()
        };
        let timeout = body_timeout(&req);
        let read = async move {
            let mut body = web::BytesMut::new();
            let deadline = tokio::time::Instant::now() + timeout;
            loop {
                let Ok(next) = tokio::time::timeout_at(deadline, payload.next()).await else {
                    return Err(body_timeout_error(timeout));
                };
                let Some(chunk) = next else { break };
                let chunk = chunk.map_err(|e| {
                    crate::error::http(
                        StatusCode::BAD_REQUEST,
                        format!("Error reading the request body: {e}"),
                    )
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(crate::error::http(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("The request body is larger than {limit} bytes."),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            let params = Params::parse(&req, &body)?;
            crate::audit::note_params(
                params.get_str("user"),
                params.get_str("realm"),
                params.get_str("resolver"),
            );
            Ok::<_, ApiError>(params)
        };
        Box::pin(async move { Ok(read.await?) })
    }
}
