//! The audit trail's actix glue (decisions/0009; the trail itself is
//! `pi_admin::audit`): the middleware [`record`] captures the request's raw
//! values (client, User-Agent, method, worker thread), runs the request with
//! its entry as the current one, then hands the route pattern, path
//! variables, status and error over and queues the finished entry.

use crate::error::{ApiError, HttpError};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web;
use pi_admin::audit::{Outcome, Raw, RequestLog};
use std::borrow::Cow;
use std::sync::Arc;

/// The server's audit writer (User-Agent kept as the header value).
pub type AuditWriter = pi_admin::audit::AuditWriter<header::HeaderValue>;

thread_local! {
    /// This worker thread's number.
    static THREAD_ID: u64 = crate::envelope::thread_id();
}

/// The method's name, without allocating for the standard ones.
fn method_name(m: &Method) -> Cow<'static, str> {
    const KNOWN: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    match KNOWN.iter().find(|k| **k == m.as_str()) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(m.as_str().to_owned()),
    }
}

/// Marks a `HEAD` request, which the router serves as `GET`.
pub(crate) struct Head;

/// The middleware (a no-op when audit is off).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let writer = req.app_data::<web::Data<Option<Arc<AuditWriter>>>>();
    let Some(writer) = writer.and_then(|w| w.as_ref().clone()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let path = req.path();
    if path.starts_with("/healthz") || path.starts_with("/static/") || path.starts_with("/app/") {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    if !writer.accepting() {
        let err = ApiError::unavailable("the audit log cannot be written");
        let res = crate::error::response(err);
        return Ok(req.into_response(res).map_into_boxed_body());
    }
    let log = RequestLog::open();
    let raw = Raw::new(
        req.headers().get(header::USER_AGENT).cloned(),
        req.peer_addr().map(|a| a.ip()),
        THREAD_ID.with(|t| *t),
        match actix_web::HttpMessage::extensions(&req).contains::<Head>() {
            true => Cow::Borrowed("HEAD"),
            false => method_name(req.method()),
        },
    );
    // the call itself inside the scope: extractors may run in it
    let res = log
        .clone()
        .scope(async move { next.call(req).await })
        .await?;
    if log.audited() {
        let r = res.request();
        let outcome = Outcome {
            pattern: r.match_pattern().unwrap_or_else(|| r.path().to_owned()),
            path_name: r.match_info().get("name"),
            path_realm: r.match_info().get("realm"),
            status_ok: res.status().is_success(),
            error: res
                .response()
                .error()
                .and_then(|err| err.as_error::<HttpError>())
                .map(|err| &err.0),
        };
        if let Some(pending) = log.finish(outcome, raw) {
            writer.send(pending).await;
        }
    }
    Ok(res.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names() {
        assert!(matches!(method_name(&Method::GET), Cow::Borrowed("GET")));
        let custom = Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(method_name(&custom), "PURGE");
    }
}
