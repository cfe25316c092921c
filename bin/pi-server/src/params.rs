//! Request parameters merged the privacyIDEA way (spec/realm-auth-server.md §0.1).
//!
//! 1. query string and form fields (first value of a repeated key), each string
//!    additionally percent-decoded unless the User-Agent product is one of
//!    `privacyidea-cp`, `privacyidea-ldap-proxy`, `simplesamlphp`;
//! 2. a JSON body (typed values, not decoded); a non-JSON content type whose
//!    body parses as a JSON object is merged as well;
//! 3. path variables, added last by the handler ([`Params::insert_path`]).

use crate::error::{ApiError, ApiResult};
use crate::request::user_agent_product;
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

/// Python's `urllib.parse.unquote`: `%XX` sequences decoded as UTF-8 (invalid
/// bytes replaced), malformed sequences kept.
pub fn unquote(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn skip_unquote(req: &HttpRequest) -> bool {
    let ua = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let product = user_agent_product(ua).to_ascii_lowercase();
    matches!(
        product.as_str(),
        "privacyidea-cp" | "privacyidea-ldap-proxy" | "simplesamlphp"
    )
}

fn merge_urlencoded(values: &mut Map<String, Value>, raw: &str, decode: bool) {
    for (k, v) in form_urlencoded_pairs(raw) {
        if values.contains_key(&k) {
            continue; // first value wins, like request.values.get
        }
        let v = if decode { unquote(&v) } else { v };
        values.insert(k, Value::String(v));
    }
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space).
pub(crate) fn form_urlencoded_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (unquote(&k.replace('+', " ")), unquote(&v.replace('+', " ")))
        })
        .collect()
}

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
        let decode = !skip_unquote(req);
        let mut values = Map::new();
        merge_urlencoded(&mut values, req.query_string(), decode);
        let ctype = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mime = ctype.split(';').next().unwrap_or("").trim().to_string();
        if body.is_empty() {
            return Ok(Params { values });
        }
        if mime == "application/json" || mime.ends_with("+json") {
            let parsed: Value = serde_json::from_slice(body).map_err(|e| {
                crate::error::http(
                    StatusCode::BAD_REQUEST,
                    format!("Invalid JSON in request body: {e}"),
                )
            })?;
            if let Value::Object(obj) = parsed {
                values.extend(obj);
            }
        } else if mime == "application/x-www-form-urlencoded" {
            let text = std::str::from_utf8(body).map_err(|_| {
                crate::error::http(StatusCode::BAD_REQUEST, "The form body is not valid UTF-8.")
            })?;
            merge_urlencoded(&mut values, text, decode);
        } else if mime.starts_with("multipart/") {
            // read by the handlers that accept uploads
        } else if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) {
            values.extend(obj);
        }
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

    /// The raw value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
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

/// privacyIDEA's `is_true`, Python's `str()` and `repr()` of request values:
/// the model's implementations, named for this module's callers.
pub use pi_model::pyrepr::is_true;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unquote_like_python() {
        assert_eq!(unquote("a%20b"), "a b");
        assert_eq!(unquote("pw_w_%25123"), "pw_w_%123");
        assert_eq!(unquote("100%"), "100%");
        assert_eq!(unquote("%zz"), "%zz");
        assert_eq!(unquote("%C3%A4"), "ä");
    }

    #[test]
    fn is_true_matches_privacyidea() {
        for v in [
            json!(1),
            json!("1"),
            json!(true),
            json!("True"),
            json!("true"),
            json!("TRUE"),
        ] {
            assert!(is_true(&v), "{v}");
        }
        for v in [
            json!(0),
            json!("yes"),
            json!("on"),
            json!(false),
            json!("tRue"),
            json!(null),
        ] {
            assert!(!is_true(&v), "{v}");
        }
    }
}
