//! What a request tells the policy engine about itself, collected from the
//! actix request (the type is pi-admin's).

use actix_web::http::header;
use actix_web::HttpRequest;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

pub use pi_admin::request::{user_agent_product, RequestInfo};

/// Collect from an actix request.
pub fn from_request(req: &HttpRequest) -> RequestInfo {
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
