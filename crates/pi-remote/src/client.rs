//! The `/validate/check` call.

use std::error::Error as StdError;

use reqwest::redirect::Policy;
use serde_json::Value;

use crate::target::{check_parsed, endpoint_url, resolve_checked, Host, PatternError, TargetError};
use crate::{HostPattern, RemoteOptions, RemoteTarget};

/// The `User-Agent` sent. It must not be one of the product names for which
/// privacyIDEA skips its extra percent-decoding (`privacyidea-cp`,
/// `privacyidea-ldap-proxy`, `simplesamlphp`), or
/// [`crate::ValueEncoding::PrivacyIdea`] would no longer round-trip.
pub const USER_AGENT: &str = concat!("pi-remote/", env!("CARGO_PKG_VERSION"));

/// Why a [`RemoteClient`] cannot be built from the given options.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// An `allowed_hosts` entry is invalid.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// A timeout or size limit is zero.
    #[error("`{0}` must be greater than zero")]
    Zero(&'static str),
    /// An extra root certificate is not valid PEM.
    #[error("invalid extra root certificate: {0}")]
    Certificate(String),
}

/// What kind of result a [`CheckOutcome`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    /// HTTP 200 and `(result.status and result.value) > 0` as Python reads
    /// it: a truthy status and a positive boolean or number as value.
    Accepted,
    /// HTTP 200 with a JSON `result` object that does not say accepted.
    Rejected,
    /// Any HTTP status other than 200 and not a redirect.
    HttpStatus,
    /// A 3xx answer; redirects are never followed. (privacyIDEA follows
    /// them; this is a deliberate deviation against request forgery.)
    Redirect,
    /// HTTP 200 but the body is not JSON or has no `result` object.
    InvalidResponse,
    /// The body is longer than [`RemoteOptions::max_response_bytes`].
    TooLarge,
    /// The connect or total timeout passed.
    Timeout,
    /// The name did not resolve, or the connection failed or broke off.
    Connect,
    /// The TLS handshake failed, e.g. the certificate did not verify.
    Tls,
    /// The request-forgery guard refused the target; nothing was sent.
    Refused,
}

impl CheckKind {
    /// Whether privacyIDEA itself would have raised an unhandled error here
    /// (its `test_request` answers HTTP 500, code -500), rather than
    /// answering `false`. Useful for a compatible API layer.
    #[must_use]
    pub fn privacyidea_raises(self) -> bool {
        matches!(
            self,
            CheckKind::InvalidResponse
                | CheckKind::TooLarge
                | CheckKind::Timeout
                | CheckKind::Connect
                | CheckKind::Tls
        )
    }
}

/// The result of [`RemoteClient::validate_check`]. Never an error: every
/// failure is `accepted == false` with a reason.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    /// True only for HTTP 200 with `result.status == true` and
    /// `result.value == true` (JSON booleans).
    pub accepted: bool,
    /// What happened, as a category.
    pub kind: CheckKind,
    /// What happened, for humans (never contains the password).
    pub reason: String,
    /// The HTTP status of the answer, if one was received.
    pub http_status: Option<u16>,
    /// The `detail` object of the remote JSON answer, if any (the Remote
    /// token reads `detail.serial` from it).
    pub remote_detail: Option<Value>,
}

impl CheckOutcome {
    fn new(kind: CheckKind, reason: impl Into<String>, http_status: Option<u16>) -> Self {
        CheckOutcome {
            accepted: kind == CheckKind::Accepted,
            kind,
            reason: reason.into(),
            http_status,
            remote_detail: None,
        }
    }
}

/// Client for remote privacyIDEA servers.
///
/// Each call builds its own connection settings (certificate verification
/// per target, connection pinned to the checked addresses), so a
/// `RemoteClient` holds only the options and can be shared freely.
#[derive(Debug, Clone)]
pub struct RemoteClient {
    options: RemoteOptions,
    roots: Vec<reqwest::Certificate>,
}

impl RemoteClient {
    /// A client with these options; checks the allowed-hosts entries, the
    /// extra root certificates and that timeouts and the size cap are
    /// non-zero.
    pub fn new(options: RemoteOptions) -> Result<Self, ClientError> {
        if options.connect_timeout.is_zero() {
            return Err(ClientError::Zero("connect_timeout"));
        }
        if options.total_timeout.is_zero() {
            return Err(ClientError::Zero("total_timeout"));
        }
        if options.max_response_bytes == 0 {
            return Err(ClientError::Zero("max_response_bytes"));
        }
        for entry in &options.allowed_hosts {
            HostPattern::parse(entry)?;
        }
        let mut roots = Vec::new();
        for pem in &options.extra_root_certs_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| ClientError::Certificate(error_text(&e)))?;
            if certs.is_empty() {
                return Err(ClientError::Certificate("no certificate in pem".to_owned()));
            }
            roots.extend(certs);
        }
        Ok(RemoteClient { options, roots })
    }

    /// The options this client was built with.
    #[must_use]
    pub fn options(&self) -> &RemoteOptions {
        &self.options
    }

    /// Asks the remote privacyIDEA server whether `user` with `pass` is
    /// accepted: `POST <url>/validate/check` with the form fields `user` and
    /// `pass` (encoded per [`RemoteOptions::value_encoding`]).
    ///
    /// Accepted only for HTTP 200 with JSON `result.status == true` and
    /// `result.value == true`. Everything else — other statuses, redirects
    /// (never followed), unreachable hosts, timeouts, TLS failures, bodies
    /// that are not JSON or too large, targets refused by the forgery guard
    /// — gives `accepted == false` with a reason. The whole call, name
    /// resolution included, is bounded by
    /// [`RemoteOptions::total_timeout`].
    ///
    /// Deviations from privacyIDEA: the URL is joined without producing
    /// `//` for a base URL ending in `/` (see [`crate::check_endpoint`]);
    /// redirects are not followed; no proxy from the environment is used;
    /// the default timeout is 10 s instead of 60 s; errors are outcomes, not
    /// exceptions.
    pub async fn validate_check(
        &self,
        server: &RemoteTarget,
        user: &str,
        pass: &str,
    ) -> CheckOutcome {
        let total = self.options.total_timeout;
        let outcome = match tokio::time::timeout(total, self.call(server, user, pass)).await {
            Ok(outcome) => outcome,
            Err(_) => CheckOutcome::new(
                CheckKind::Timeout,
                format!("no complete answer from `{}` within {total:?}", server.url),
                None,
            ),
        };
        log::debug!(
            "validate/check at `{}` for user `{user}`: {:?}, {}",
            server.url,
            outcome.kind,
            outcome.reason
        );
        outcome
    }

    async fn call(&self, server: &RemoteTarget, user: &str, pass: &str) -> CheckOutcome {
        let refused =
            |e: TargetError| CheckOutcome::new(CheckKind::Refused, format!("refused: {e}"), None);
        let endpoint = match endpoint_url(&server.url) {
            Ok(url) => url,
            Err(e) => return refused(e.into()),
        };
        let host = match check_parsed(&endpoint, &self.options) {
            Ok(host) => host,
            Err(e) => return refused(e),
        };
        let mut builder = reqwest::Client::builder()
            .redirect(Policy::none())
            .no_proxy()
            .connect_timeout(self.options.connect_timeout)
            .timeout(self.options.total_timeout)
            .user_agent(USER_AGENT)
            .danger_accept_invalid_certs(!server.tls);
        for root in &self.roots {
            builder = builder.add_root_certificate(root.clone());
        }
        if let (Host::Name(_), Some(name)) = (&host, endpoint.host_str()) {
            let port = endpoint.port_or_known_default().unwrap_or(80);
            match resolve_checked(name, port, &self.options).await {
                // Pin the connection to exactly the checked addresses, so a
                // second lookup cannot return something else (DNS rebinding).
                Ok(addrs) => builder = builder.resolve_to_addrs(name, &addrs),
                Err(e @ (TargetError::Resolve { .. } | TargetError::NoAddress(_))) => {
                    return CheckOutcome::new(CheckKind::Connect, e.to_string(), None)
                }
                Err(e) => return refused(e),
            }
        }
        let client = match builder.build() {
            Ok(client) => client,
            Err(e) => {
                return CheckOutcome::new(
                    CheckKind::Connect,
                    format!("cannot set up the http client: {}", error_text(&e)),
                    None,
                )
            }
        };
        let encoding = self.options.value_encoding;
        let form = [
            ("user", encoding.prepare(user)),
            ("pass", encoding.prepare(pass)),
        ];
        let response = match client.post(endpoint.clone()).form(&form).send().await {
            Ok(response) => response,
            Err(e) => return self.send_failure(&endpoint, &e),
        };
        self.interpret(&endpoint, response).await
    }

    fn send_failure(&self, endpoint: &url::Url, e: &reqwest::Error) -> CheckOutcome {
        let detail = error_text(e);
        if find_rustls_error(e).is_some() {
            return CheckOutcome::new(
                CheckKind::Tls,
                format!("tls handshake with `{endpoint}` failed: {detail}"),
                None,
            );
        }
        if e.is_timeout() {
            let reason = if e.is_connect() {
                format!(
                    "connecting to `{endpoint}` timed out after {:?}",
                    self.options.connect_timeout
                )
            } else {
                format!(
                    "no answer from `{endpoint}` within {:?}",
                    self.options.total_timeout
                )
            };
            return CheckOutcome::new(CheckKind::Timeout, reason, None);
        }
        if e.is_connect() {
            return CheckOutcome::new(
                CheckKind::Connect,
                format!("cannot connect to `{endpoint}`: {detail}"),
                None,
            );
        }
        CheckOutcome::new(
            CheckKind::Connect,
            format!("request to `{endpoint}` failed: {detail}"),
            None,
        )
    }

    async fn interpret(
        &self,
        endpoint: &url::Url,
        mut response: reqwest::Response,
    ) -> CheckOutcome {
        let status = response.status();
        let code = Some(status.as_u16());
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            return CheckOutcome::new(
                CheckKind::Redirect,
                format!(
                    "remote server answered http {} with a redirect to `{location}`, which is not followed",
                    status.as_u16()
                ),
                code,
            );
        }
        if status != reqwest::StatusCode::OK {
            return CheckOutcome::new(
                CheckKind::HttpStatus,
                format!("remote server answered http {}", status.as_u16()),
                code,
            );
        }
        let cap = self.options.max_response_bytes;
        let too_large = || {
            CheckOutcome::new(
                CheckKind::TooLarge,
                format!("answer from `{endpoint}` is too large (more than {cap} bytes)"),
                code,
            )
        };
        if response
            .content_length()
            .is_some_and(|len| usize::try_from(len).map_or(true, |len| len > cap))
        {
            return too_large();
        }
        let mut body: Vec<u8> = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len().saturating_add(chunk.len()) > cap {
                        return too_large();
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => {
                    return CheckOutcome::new(
                        CheckKind::Timeout,
                        format!(
                            "no complete answer from `{endpoint}` within {:?}",
                            self.options.total_timeout
                        ),
                        code,
                    )
                }
                Err(e) => {
                    return CheckOutcome::new(
                        CheckKind::InvalidResponse,
                        format!("reading the answer failed: {}", error_text(&e)),
                        code,
                    )
                }
            }
        }
        judge_body(&body, code)
    }
}

/// Judges a 200 answer's body.
fn judge_body(body: &[u8], code: Option<u16>) -> CheckOutcome {
    let json: Value = match serde_json::from_slice(body) {
        Ok(json) => json,
        Err(e) => {
            return CheckOutcome::new(
                CheckKind::InvalidResponse,
                format!("answer is not json: {e}"),
                code,
            )
        }
    };
    let Some(result) = json.get("result").filter(|r| r.is_object()) else {
        return CheckOutcome::new(
            CheckKind::InvalidResponse,
            "answer has no `result` object",
            code,
        );
    };
    let detail = json.get("detail").filter(|d| !d.is_null()).cloned();
    let message = detail
        .as_ref()
        .and_then(|d| d.get("message"))
        .and_then(Value::as_str)
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let status = result.get("status");
    let value = result.get("value");
    // privacyIDEA: `r = result.get("status") and result.get("value")`, then
    // `r > 0`: a truthy status hands over the value; only booleans and
    // numbers compare (anything else raises there, HTTP 500; a rejection
    // with the reason here).
    let status_truthy = status.is_some_and(pi_model::pyrepr::py_truthy);
    let r = if status_truthy { value } else { status };
    let positive = match r {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Number(n)) => Some(n.as_f64().is_some_and(|f| f > 0.0)),
        _ => None,
    };
    let mut outcome = if !status_truthy {
        let error = result
            .get("error")
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        CheckOutcome::new(
            CheckKind::Rejected,
            format!("remote server reported no success (`result.status` is not true){error}"),
            code,
        )
    } else if positive == Some(true) {
        CheckOutcome::new(
            CheckKind::Accepted,
            format!("accepted by the remote server{message}"),
            code,
        )
    } else {
        let shown = value.map_or_else(|| "missing".to_owned(), |v| format!("`{v}`"));
        CheckOutcome::new(
            CheckKind::Rejected,
            format!("rejected by the remote server (`result.value` is {shown}){message}"),
            code,
        )
    };
    outcome.remote_detail = detail;
    outcome
}

/// The messages of an error's sources, joined with `: ` (the top-level
/// reqwest message repeats the URL and is left out when there are sources).
fn error_text(e: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = e.source();
    while let Some(err) = current {
        let text = err.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        current = err.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

/// A rustls error somewhere in the chain. `io::Error::source` skips the
/// wrapped error itself, so wrapped errors are looked into explicitly.
fn find_rustls_error<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current: Option<&'a (dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            current = Some(inner as &(dyn StdError + 'static));
            continue;
        }
        current = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn judge_body_cases() {
        // The release's `(status and value) > 0` (release-differences.md
        // item 27): a truthy status with a positive boolean or number.
        for body in [
            &br#"{"result":{"status":true,"value":true}}"#[..],
            br#"{"result":{"status":true,"value":1}}"#,
            br#"{"result":{"status":1,"value":true}}"#,
            br#"{"result":{"status":"yes","value":2.5}}"#,
        ] {
            let accepted = judge_body(body, Some(200));
            assert!(accepted.accepted, "{body:?}");
            assert_eq!(accepted.kind, CheckKind::Accepted);
        }
        for (body, kind) in [
            (
                &br#"{"result":{"status":true,"value":false}}"#[..],
                CheckKind::Rejected,
            ),
            (
                br#"{"result":{"status":false,"value":true}}"#,
                CheckKind::Rejected,
            ),
            (
                br#"{"result":{"status":true,"value":"true"}}"#,
                CheckKind::Rejected,
            ),
            (
                br#"{"result":{"status":true,"value":0}}"#,
                CheckKind::Rejected,
            ),
            (
                br#"{"result":{"status":0,"value":true}}"#,
                CheckKind::Rejected,
            ),
            (br#"{"result":{"status":true}}"#, CheckKind::Rejected),
            (
                br#"{"result":{"status":true,"value":{"a":1}}}"#,
                CheckKind::Rejected,
            ),
            (br#"{"result":true}"#, CheckKind::InvalidResponse),
            (br#"[1,2]"#, CheckKind::InvalidResponse),
            (b"<html>", CheckKind::InvalidResponse),
            (b"", CheckKind::InvalidResponse),
            (b"\xff\xfe", CheckKind::InvalidResponse),
        ] {
            let outcome = judge_body(body, Some(200));
            assert!(!outcome.accepted, "{body:?}");
            assert_eq!(outcome.kind, kind, "{body:?}");
        }
    }

    #[test]
    fn detail_and_messages_are_kept() {
        let outcome = judge_body(
            br#"{"result":{"status":true,"value":false},"detail":{"message":"wrong otp pin","serial":"S1"}}"#,
            Some(200),
        );
        assert_eq!(
            outcome.reason,
            "rejected by the remote server (`result.value` is `false`): wrong otp pin"
        );
        assert_eq!(
            outcome.remote_detail.as_ref().and_then(|d| d.get("serial")),
            Some(&Value::from("S1"))
        );
        let outcome = judge_body(
            br#"{"result":{"status":false,"error":{"code":904,"message":"ERR904: The user can not be found"}}}"#,
            Some(200),
        );
        assert!(
            outcome
                .reason
                .ends_with("ERR904: The user can not be found"),
            "{}",
            outcome.reason
        );
    }

    #[test]
    fn new_checks_options() {
        assert!(RemoteClient::new(RemoteOptions::default()).is_ok());
        let zero = RemoteOptions {
            total_timeout: Duration::ZERO,
            ..RemoteOptions::default()
        };
        assert!(matches!(
            RemoteClient::new(zero),
            Err(ClientError::Zero("total_timeout"))
        ));
        let bad = RemoteOptions {
            allowed_hosts: vec!["a b".into()],
            ..RemoteOptions::default()
        };
        assert!(matches!(
            RemoteClient::new(bad),
            Err(ClientError::Pattern(_))
        ));
        let pem = RemoteOptions {
            extra_root_certs_pem: vec![b"nonsense".to_vec()],
            ..RemoteOptions::default()
        };
        assert!(matches!(
            RemoteClient::new(pem),
            Err(ClientError::Certificate(_))
        ));
    }

    #[test]
    fn privacyidea_raises_mapping() {
        assert!(CheckKind::Connect.privacyidea_raises());
        assert!(CheckKind::InvalidResponse.privacyidea_raises());
        assert!(!CheckKind::HttpStatus.privacyidea_raises());
        assert!(!CheckKind::Rejected.privacyidea_raises());
        assert!(!CheckKind::Refused.privacyidea_raises());
    }
}
