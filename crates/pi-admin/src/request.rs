//! What a request tells the policy engine about itself: client IP, User-Agent
//! product, headers and the HTTP environment (filled by the server from its
//! HTTP request).

use pi_policy::HttpData;
use serde_json::{Map, Value};
use std::net::IpAddr;
use std::sync::Arc;

/// The product token of a User-Agent header: `^[A-Za-z0-9_-]+` (so
/// `privacyidea-cp/2.1 Windows/…` gives `privacyidea-cp`); `""` when there is none.
pub fn user_agent_product(ua: &str) -> String {
    pi_model::lists::user_agent_product(Some(ua))
}

/// A request parameter as Python's `str()` renders it; `None` when absent
/// or `null`.
pub fn param_str(params: &Map<String, Value>, key: &str) -> Option<String> {
    match params.get(key)? {
        Value::Null => None,
        v => Some(pi_model::pyrepr::str_value(v)),
    }
}

/// A required parameter: absent, `null` or `""` ⇒ `Missing parameter: <key>`.
pub fn required_param(params: &Map<String, Value>, key: &str) -> crate::ApiResult<String> {
    match param_str(params, key) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(crate::ApiError::missing(key)),
    }
}

/// privacyIDEA's `is_true` over a parameter; `default` when absent or `null`.
pub fn param_is_true(params: &Map<String, Value>, key: &str, default: bool) -> bool {
    match params.get(key) {
        None | Some(Value::Null) => default,
        Some(v) => pi_model::pyrepr::is_true(v),
    }
}

/// Facts about the calling request used for policy matching.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// The TCP peer address.
    pub client_ip: IpAddr,
    /// The User-Agent product token (`""` without header).
    pub user_agent: String,
    /// Request headers (name as sent, value lossily decoded; the first of
    /// each name, by name) and the HTTP environment in the WSGI spelling
    /// (`REQUEST_METHOD`, `PATH_INFO`, `HTTP_<NAME>`, …), as the engine's
    /// conditions read them: built once per request and shared by every
    /// decision of the request.
    pub http: Arc<HttpData>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_tokens() {
        assert_eq!(
            user_agent_product("privacyidea-cp/2.1 Windows/10"),
            "privacyidea-cp"
        );
        assert_eq!(user_agent_product("Mozilla/5.0 (X11)"), "Mozilla");
        assert_eq!(user_agent_product(""), "");
        assert_eq!(user_agent_product("PAM"), "PAM");
        assert_eq!(user_agent_product("/x"), "");
    }
}
