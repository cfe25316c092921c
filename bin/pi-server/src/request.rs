//! What a request tells the policy engine about itself: client IP, User-Agent
//! product, headers and the HTTP environment.

use actix_web::http::header;
use actix_web::HttpRequest;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

/// The product token of a User-Agent header: `^[A-Za-z0-9_-]+` (so
/// `privacyidea-cp/2.1 Windows/…` gives `privacyidea-cp`); `""` when there is none.
pub fn user_agent_product(ua: &str) -> String {
    pi_model::lists::user_agent_product(Some(ua))
}

/// Facts about the calling request used for policy matching.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// The TCP peer address.
    pub client_ip: IpAddr,
    /// The User-Agent product token (`""` without header).
    pub user_agent: String,
    /// Request headers (name as sent, value lossily decoded).
    pub headers: BTreeMap<String, String>,
    /// HTTP environment in the WSGI spelling (`REQUEST_METHOD`, `PATH_INFO`, …).
    pub environment: BTreeMap<String, String>,
}

impl RequestInfo {
    /// Collect from an actix request.
    pub fn from_request(req: &HttpRequest) -> Self {
        let client_ip = req
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let ua = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let user_agent = user_agent_product(ua);
        let mut headers = BTreeMap::new();
        for (name, value) in req.headers() {
            let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers.entry(name.as_str().to_string()).or_insert(v);
        }
        let mut environment = BTreeMap::new();
        environment.insert("REQUEST_METHOD".into(), req.method().as_str().to_string());
        environment.insert("PATH_INFO".into(), req.path().to_string());
        environment.insert("QUERY_STRING".into(), req.query_string().to_string());
        environment.insert("REMOTE_ADDR".into(), client_ip.to_string());
        if let Some(v) = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        {
            environment.insert("CONTENT_TYPE".into(), v.to_string());
        }
        for (name, value) in req.headers() {
            let key = format!(
                "HTTP_{}",
                name.as_str().to_ascii_uppercase().replace('-', "_")
            );
            environment
                .entry(key)
                .or_insert_with(|| String::from_utf8_lossy(value.as_bytes()).into_owned());
        }
        RequestInfo {
            client_ip,
            user_agent,
            headers,
            environment,
        }
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
