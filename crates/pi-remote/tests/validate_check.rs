//! `RemoteClient::validate_check` against real HTTP(S) servers on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::{serve, serve_tls, Reply};
use pi_remote::{
    CheckKind, CheckOutcome, RemoteClient, RemoteOptions, RemoteTarget, ValueEncoding,
};

fn client() -> RemoteClient {
    client_with(RemoteOptions::default())
}

fn client_with(options: RemoteOptions) -> RemoteClient {
    RemoteClient::new(options).expect("client")
}

async fn check(url: &str) -> CheckOutcome {
    client()
        .validate_check(&RemoteTarget::new(url, true), "testuser", "testpassword")
        .await
}

/// `check` against a server that answers `status` with `body`.
async fn check_answer(status: u16, body: &str) -> CheckOutcome {
    let server = serve(Reply::json(status, body)).await;
    check(&server.url()).await
}

fn assert_rejected(outcome: &CheckOutcome, kind: CheckKind) {
    assert!(!outcome.accepted, "{outcome:?}");
    assert_eq!(outcome.kind, kind, "{outcome:?}");
    assert!(!outcome.reason.is_empty());
}

#[tokio::test]
async fn accepts_status_and_value_true() {
    let server = serve(Reply::accept()).await;
    let outcome = check(&server.url()).await;
    assert!(outcome.accepted, "{outcome:?}");
    assert_eq!(outcome.kind, CheckKind::Accepted);
    assert_eq!(outcome.http_status, Some(200));
    assert_eq!(
        outcome.reason,
        "accepted by the remote server: matching 1 tokens"
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].target, "/validate/check");
    assert_eq!(
        seen[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert!(seen[0]
        .header("user-agent")
        .is_some_and(|ua| ua.starts_with("pi-remote/")));
    assert_eq!(seen[0].field("user").as_deref(), Some("testuser"));
    assert_eq!(seen[0].field("pass").as_deref(), Some("testpassword"));
}

/// Well-formed answers that reject: the value false, or a status other than
/// 200 whatever the body says. The outcome carries the HTTP status.
#[tokio::test]
async fn rejects_value_false_and_non_200_statuses() {
    let value_true = r#"{"result":{"status":true,"value":true}}"#;
    let value_false = r#"{"result":{"status":true,"value":false}}"#;
    for (status, body, kind) in [
        (200, value_false, CheckKind::Rejected),
        (404, value_true, CheckKind::HttpStatus),
        (404, value_false, CheckKind::HttpStatus),
    ] {
        let outcome = check_answer(status, body).await;
        assert_rejected(&outcome, kind);
        assert_eq!(outcome.http_status, Some(status), "{status} {body}");
    }
}

#[tokio::test]
async fn status_and_value_are_read_like_the_release() {
    // privacyIDEA 3.14: `(status and value) > 0` — a truthy status hands
    // over the value, which must be a positive boolean or number.
    assert!(
        check_answer(200, r#"{"result":{"status":"true","value":1}}"#)
            .await
            .accepted
    );
    assert_rejected(
        &check_answer(200, r#"{"result":{"status":true,"value":"true"}}"#).await,
        CheckKind::Rejected,
    );
}

#[tokio::test]
async fn rejects_404() {
    let outcome = check_answer(404, "not found").await;
    assert_rejected(&outcome, CheckKind::HttpStatus);
    assert_eq!(outcome.http_status, Some(404));
    assert_eq!(outcome.reason, "remote server answered http 404");
}

#[tokio::test]
async fn rejects_garbage_body() {
    let outcome = check_answer(200, "<html>surprise</html>").await;
    assert_rejected(&outcome, CheckKind::InvalidResponse);
    assert!(outcome.reason.contains("not json"), "{}", outcome.reason);
    assert_rejected(
        &check_answer(200, r#"{"status":true,"value":true}"#).await,
        CheckKind::InvalidResponse,
    );
}

/// An accepting answer padded with `pad` bytes.
fn padded_accept(pad: usize) -> Reply {
    let mut reply = Reply::accept();
    reply.body = format!(
        r#"{{"result":{{"status":true,"value":true}},"pad":"{}"}}"#,
        "x".repeat(pad)
    )
    .into_bytes();
    reply
}

#[tokio::test]
async fn rejects_oversized_body_with_content_length() {
    let server = serve(padded_accept(200_000)).await;
    let outcome = check(&server.url()).await;
    assert_rejected(&outcome, CheckKind::TooLarge);
    assert!(outcome.reason.contains("too large"), "{}", outcome.reason);
}

#[tokio::test]
async fn rejects_oversized_body_streamed() {
    // No Content-Length: the cap must stop the incremental read.
    let mut reply = padded_accept(2_000_000);
    reply.content_length = false;
    let server = serve(reply).await;
    let options = RemoteOptions {
        max_response_bytes: 1024,
        ..RemoteOptions::default()
    };
    let outcome = client_with(options)
        .validate_check(&RemoteTarget::new(server.url(), true), "u", "p")
        .await;
    assert_rejected(&outcome, CheckKind::TooLarge);
    assert!(outcome.reason.contains("too large"), "{}", outcome.reason);
    // a small body without Content-Length is fine
    let mut small = Reply::accept();
    small.content_length = false;
    let server = serve(small).await;
    assert!(check(&server.url()).await.accepted);
}

#[tokio::test]
async fn slow_answer_times_out() {
    let mut reply = Reply::accept();
    reply.delay = Duration::from_secs(30);
    let server = serve(reply).await;
    let options = RemoteOptions {
        total_timeout: Duration::from_millis(300),
        ..RemoteOptions::default()
    };
    let started = Instant::now();
    let outcome = client_with(options)
        .validate_check(&RemoteTarget::new(server.url(), true), "u", "p")
        .await;
    let elapsed = started.elapsed();
    assert_rejected(&outcome, CheckKind::Timeout);
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    assert_eq!(server.requests().len(), 1, "the request was sent");
}

#[tokio::test]
async fn redirect_is_not_followed() {
    let target = serve(Reply::accept()).await;
    let mut reply = Reply::json(302, "");
    reply.headers.push((
        "Location".into(),
        format!("{}/validate/check", target.url()),
    ));
    let redirector = serve(reply).await;
    let outcome = check(&redirector.url()).await;
    assert_rejected(&outcome, CheckKind::Redirect);
    assert_eq!(outcome.http_status, Some(302));
    assert!(
        outcome.reason.contains("not followed"),
        "{}",
        outcome.reason
    );
    assert_eq!(redirector.requests().len(), 1);
    assert!(
        target.requests().is_empty(),
        "redirect target must not be called"
    );
}

#[tokio::test]
async fn tls_self_signed_verified_fails() {
    let server = serve_tls(Reply::accept()).await;
    let outcome = check(&server.url()).await;
    assert_rejected(&outcome, CheckKind::Tls);
    assert!(outcome.reason.contains("certificate"), "{}", outcome.reason);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn tls_self_signed_unverified_accepted() {
    let server = serve_tls(Reply::accept()).await;
    let outcome = client()
        .validate_check(&RemoteTarget::new(server.url(), false), "u", "p")
        .await;
    assert!(outcome.accepted, "{outcome:?}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn tls_verified_with_extra_root() {
    let server = serve_tls(Reply::accept()).await;
    let pem = server.cert_pem.clone().unwrap().into_bytes();
    let options = RemoteOptions {
        extra_root_certs_pem: vec![pem],
        ..RemoteOptions::default()
    };
    let client = client_with(options);
    let outcome = client
        .validate_check(&RemoteTarget::new(server.url(), true), "u", "p")
        .await;
    assert!(outcome.accepted, "{outcome:?}");
    // by name too: `localhost` is resolved, checked and pinned
    let by_name = format!("https://localhost:{}", server.addr.port());
    let outcome = client
        .validate_check(&RemoteTarget::new(by_name, true), "u", "p")
        .await;
    assert!(outcome.accepted, "{outcome:?}");
}

#[tokio::test]
async fn unreachable_port_fails_fast() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let started = Instant::now();
    let outcome = check(&format!("http://127.0.0.1:{port}")).await;
    assert_rejected(&outcome, CheckKind::Connect);
    assert!(outcome.kind.privacyidea_raises());
    assert!(outcome.http_status.is_none());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        outcome.reason.contains("cannot connect"),
        "{}",
        outcome.reason
    );
}

#[tokio::test]
async fn unresolvable_host_fails() {
    // `.invalid` never resolves (RFC 6761); without a reachable resolver the
    // lookup may instead run into the (short) total timeout.
    let options = RemoteOptions {
        total_timeout: Duration::from_secs(3),
        ..RemoteOptions::default()
    };
    let outcome = client_with(options)
        .validate_check(
            &RemoteTarget::new("http://no-such-host.invalid", true),
            "u",
            "p",
        )
        .await;
    assert!(!outcome.accepted);
    assert!(
        matches!(outcome.kind, CheckKind::Connect | CheckKind::Timeout),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn url_joined_without_double_slash() {
    let server = serve(Reply::accept()).await;
    for (base, path) in [
        (server.url() + "/", "/validate/check"),
        (server.url() + "/pi", "/pi/validate/check"),
        (server.url() + "/pi/", "/pi/validate/check"),
    ] {
        assert!(check(&base).await.accepted, "{base}");
        assert_eq!(server.requests().last().unwrap().target, path, "{base}");
    }
}

const AWKWARD: &[&str] = &[
    "pw_w_%123",
    "a&b=c+d e",
    "100% sure & + ; #?",
    "Grüße, 密码 🙂",
    "%25%%2",
    "/slash/ ~tilde.",
    "",
];

#[tokio::test]
async fn privacyidea_encoding_roundtrips_through_a_privacyidea_receiver() {
    let server = serve(Reply::accept()).await;
    let client = client();
    for value in AWKWARD {
        let outcome = client
            .validate_check(&RemoteTarget::new(server.url(), true), value, value)
            .await;
        assert!(outcome.accepted);
        let seen = server.requests().pop().unwrap();
        for field in ["user", "pass"] {
            let form_value = seen.field(field).unwrap();
            // decoded once (form): Python's quote() of the value
            assert_eq!(
                form_value,
                pi_remote::python_quote(value),
                "{field} {value:?}"
            );
            // privacyIDEA unquotes form values once more: the original
            let twice = percent_encoding::percent_decode_str(&form_value)
                .decode_utf8()
                .unwrap();
            assert_eq!(twice, *value, "{field} {value:?}");
        }
    }
}

#[tokio::test]
async fn spec_case_86_password_received_as_quoted_form_value() {
    let server = serve(Reply::accept()).await;
    client()
        .validate_check(
            &RemoteTarget::new(server.url(), true),
            "testuser",
            "pw_w_%123",
        )
        .await;
    let seen = server.requests().pop().unwrap();
    assert_eq!(seen.field("pass").as_deref(), Some("pw_w_%25123"));
    let body = String::from_utf8(seen.body).unwrap();
    assert_eq!(body, "user=testuser&pass=pw_w_%2525123");
}

#[tokio::test]
async fn plain_encoding_decodes_once_to_the_original() {
    let server = serve(Reply::accept()).await;
    let client = client_with(RemoteOptions {
        value_encoding: ValueEncoding::Plain,
        ..RemoteOptions::default()
    });
    for value in AWKWARD {
        client
            .validate_check(&RemoteTarget::new(server.url(), true), value, value)
            .await;
        let seen = server.requests().pop().unwrap();
        assert_eq!(
            seen.form(),
            vec![
                ("user".to_owned(), (*value).to_owned()),
                ("pass".to_owned(), (*value).to_owned())
            ]
        );
    }
}

#[tokio::test]
async fn allowed_hosts_filter_before_sending() {
    let server = serve(Reply::accept()).await;
    let target = RemoteTarget::new(server.url(), true);
    let only_example = client_with(RemoteOptions {
        allowed_hosts: vec!["pi.example.com".into()],
        ..RemoteOptions::default()
    });
    let outcome = only_example.validate_check(&target, "u", "p").await;
    assert_rejected(&outcome, CheckKind::Refused);
    assert!(
        outcome.reason.contains("not in the allowed hosts"),
        "{}",
        outcome.reason
    );
    assert!(server.requests().is_empty());

    let loopback_net = client_with(RemoteOptions {
        allowed_hosts: vec!["127.0.0.0/8".into()],
        ..RemoteOptions::default()
    });
    assert!(
        loopback_net
            .validate_check(&target, "u", "p")
            .await
            .accepted
    );

    let by_name = client_with(RemoteOptions {
        allowed_hosts: vec!["localhost".into()],
        ..RemoteOptions::default()
    });
    let named = RemoteTarget::new(format!("http://localhost:{}", server.addr.port()), true);
    assert!(by_name.validate_check(&named, "u", "p").await.accepted);
    assert_rejected(
        &by_name.validate_check(&target, "u", "p").await,
        CheckKind::Refused,
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn link_local_and_metadata_refused_without_sending() {
    let started = Instant::now();
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]:8080",
        "http://metadata.google.internal",
        "http://[fd00:ec2::254]",
    ] {
        let outcome = check(url).await;
        assert_rejected(&outcome, CheckKind::Refused);
        assert!(outcome.reason.contains("link-local"), "{}", outcome.reason);
        assert!(!outcome.kind.privacyidea_raises());
    }
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn invalid_urls_refused() {
    for url in ["ftp://pi", "not a url", "", "file:///etc/passwd"] {
        assert_rejected(&check(url).await, CheckKind::Refused);
    }
}
