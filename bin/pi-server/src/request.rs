//! What a request tells the policy engine about itself, collected from the
//! actix request (the type is pi-admin's).

use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, Uri};
use actix_web::HttpRequest;
use pi_policy::HttpData;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
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
        http: LazyHttp::new(move || http_data(&headers, &method, &uri, client_ip)),
    }
}

/// The engine's view of the request: the first value of each header name,
/// by name (as the engine's header and environment conditions have always
/// seen them), and the WSGI-style environment.
fn http_data(headers: &HeaderMap, method: &Method, uri: &Uri, client_ip: IpAddr) -> HttpData {
    let mut first: BTreeMap<&str, &[u8]> = BTreeMap::new();
    for (name, value) in headers {
        first.entry(name.as_str()).or_insert(value.as_bytes());
    }
    let lossy = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    let mut environ = Map::new();
    let mut put = |k: &str, v: String| {
        environ.insert(k.to_owned(), Value::String(v));
    };
    put("REQUEST_METHOD", method.as_str().to_owned());
    put("PATH_INFO", uri.path().to_owned());
    put("QUERY_STRING", uri.query().unwrap_or_default().to_owned());
    put("REMOTE_ADDR", client_ip.to_string());
    if let Some(v) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        put("CONTENT_TYPE", v.to_owned());
    }
    for (name, value) in headers {
        let key = format!(
            "HTTP_{}",
            name.as_str().to_ascii_uppercase().replace('-', "_")
        );
        environ
            .entry(key)
            .or_insert_with(|| Value::String(lossy(value.as_bytes())));
    }
    let headers = first
        .into_iter()
        .map(|(name, value)| (name.to_owned(), lossy(value)))
        .collect();
    HttpData { headers, environ }
}
