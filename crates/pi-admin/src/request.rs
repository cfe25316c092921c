//! What a request tells the policy engine about itself: client IP, User-Agent
//! product, headers and the HTTP environment (filled by the server from its
//! HTTP request).

use pi_policy::HttpData;
use serde_json::{Map, Value};
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

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
    /// Request headers and the HTTP environment, as the engine's conditions
    /// read them: built on first use (only a policy set with header or
    /// environment conditions needs them) and shared by every decision of
    /// the request.
    pub http: LazyHttp,
}

/// A request's [`HttpData`], built on first use and then shared.
///
/// Collecting it copies every header (the admin's JWT alone is several KB,
/// twice: as a header and as `HTTP_AUTHORIZATION`), which most policy sets
/// never read ([`pi_policy::PolicySet::reads_http`]).
#[derive(Clone)]
pub struct LazyHttp(Arc<LazyLock<HttpData, Box<dyn FnOnce() -> HttpData + Send>>>);

impl LazyHttp {
    /// Built by `collect` when first asked for.
    pub fn new(collect: impl FnOnce() -> HttpData + Send + 'static) -> LazyHttp {
        LazyHttp(Arc::new(LazyLock::new(Box::new(collect))))
    }

    /// Already collected.
    pub fn ready(data: HttpData) -> LazyHttp {
        LazyHttp::new(move || data)
    }

    /// The data (collected now if it was not yet).
    pub fn get(&self) -> &HttpData {
        &self.0
    }

    /// The data when the policy set can read it, else `None` (nothing is
    /// collected; the set decides the same without it).
    pub fn for_set(&self, set: &pi_policy::PolicySet) -> Option<&HttpData> {
        set.reads_http().then(|| self.get())
    }
}

impl Default for LazyHttp {
    fn default() -> LazyHttp {
        LazyHttp::ready(HttpData::default())
    }
}

impl std::fmt::Debug for LazyHttp {
    /// Does not collect the data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LazyHttp")
    }
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
