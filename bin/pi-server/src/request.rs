//! What a request tells the policy engine about itself, collected from the
//! actix request (the type is pi-admin's).

use actix_web::http::header;
use actix_web::HttpRequest;
use std::net::{IpAddr, Ipv4Addr};

pub use pi_admin::request::{user_agent_product, LazyHttp, RequestInfo};

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
    // Cheap to keep (header values and the URI share the request's buffer); copied into
    // strings only when a policy set with header or environment conditions
    // asks.
    let headers = req.headers().clone();
    let method = req.method().clone();
    let uri = req.uri().clone();
    RequestInfo {
        client_ip,
        user_agent,
        http: LazyHttp::new(move || {
            let pairs: Vec<_> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes()))
                .collect();
            let query = uri.query().unwrap_or_default();
            pi_admin::request::http_data(&pairs, method.as_str(), uri.path(), query, client_ip)
        }),
    }
}
