//! `/privacyideaserver` end to end (spec/realm-auth-server.md §6, cases 78–88),
//! against a remote privacyIDEA played by a small HTTP server in the test.

use crate::support::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A one-route HTTP server on 127.0.0.1:0 answering every request with
/// `status` and `body`, recording the request bodies it received.
struct FakeRemote {
    base: String,
    bodies: Arc<Mutex<Vec<(String, String)>>>,
}

impl FakeRemote {
    fn start(status: u16, body: &'static str) -> FakeRemote {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut buf = vec![0u8; len];
                let _ = reader.read_exact(&mut buf);
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_string();
                seen.lock()
                    .expect("lock")
                    .push((path, String::from_utf8_lossy(&buf).into_owned()));
                let reason = if status == 200 { "OK" } else { "Not Found" };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        FakeRemote { base, bodies }
    }

    fn received(&self) -> Vec<(String, String)> {
        self.bodies.lock().expect("lock").clone()
    }
}

const ACCEPT: &str = r#"{"result":{"status":true,"value":true}}"#;
const REJECT: &str = r#"{"result":{"status":true,"value":false}}"#;

#[test]
fn case_078_080_authentication_required() {
    let app = spawn_app();
    let a = app.send(
        app.client()
            .post(app.url("/privacyideaserver/server1"))
            .form(&[("url", "https://pi")]),
        Some(""),
    );
    assert_eq!(a.expect(401).code(), 4033);
    let user = user_token("selfservice", "realm1");
    app.get_as("/privacyideaserver/", &user)
        .expect_error(401, 4306);
}

#[test]
fn case_079_081_create_list_delete() {
    let app = spawn_app();
    let a = app.post_form(
        "/privacyideaserver/server1",
        &[
            ("url", "https://pi"),
            ("tls", "0"),
            ("description", "myServer"),
        ],
    );
    assert_eq!(a.expect(200).value(), json!(true));
    let list = app.get("/privacyideaserver/").expect(200).value();
    let obj = list.as_object().expect("dict");
    assert_eq!(obj.len(), 1);
    assert_eq!(list["server1"]["url"], "https://pi");
    assert_eq!(list["server1"]["description"], "myServer");
    assert_eq!(list["server1"]["tls"], false);
    assert!(list["server1"]["id"].as_i64().expect("id") >= 1);
    assert_eq!(
        app.delete("/privacyideaserver/server1").expect(200).value(),
        json!(true)
    );
    assert_eq!(
        app.get("/privacyideaserver/").expect(200).value(),
        json!({})
    );
}

#[test]
fn case_083_084_defaults_and_updates() {
    let app = spawn_app();
    app.post_form("/privacyideaserver/myserver", &[("url", "https://pi/pi")])
        .expect(200);
    app.post_json(
        "/privacyideaserver/myserver2",
        &json!({"url": "https://pi2", "tls": false}),
    )
    .expect(200);
    app.post_json(
        "/privacyideaserver/myserver3",
        &json!({"url": "http://pi3", "tls": "1"}),
    )
    .expect(200);
    let list = app.get("/privacyideaserver/").expect(200).value();
    assert_eq!(list.as_object().expect("dict").len(), 3);
    assert_eq!(list["myserver"]["tls"], true, "tls defaults to verify");
    assert_eq!(list["myserver"]["description"], "");
    assert_eq!(list["myserver2"]["tls"], false);
    // case 84: update url, tls and description
    app.post_form(
        "/privacyideaserver/myserver",
        &[
            ("url", "https://pi/"),
            ("tls", "1"),
            ("description", "Hallo"),
        ],
    )
    .expect(200);
    let list = app.get("/privacyideaserver/").expect(200).value();
    assert_eq!(list["myserver"]["url"], "https://pi/");
    assert_eq!(list["myserver"]["tls"], true);
    assert_eq!(list["myserver"]["description"], "Hallo");
    // an update without description keeps it (as privacyIDEA)
    app.post_form("/privacyideaserver/myserver", &[("url", "https://pi/x")])
        .expect(200);
    assert_eq!(
        app.get("/privacyideaserver/").value()["myserver"]["description"],
        "Hallo"
    );
    for name in ["myserver", "myserver2", "myserver3"] {
        app.delete(&format!("/privacyideaserver/{name}"))
            .expect(200);
    }
    assert_eq!(app.get("/privacyideaserver/").value(), json!({}));
}

#[test]
fn case_087_spaces_tls_off_and_unknown_delete() {
    let app = spawn_app();
    app.post_form("/privacyideaserver/my%20server", &[("url", "https://pi")])
        .expect(200);
    let list = app.get("/privacyideaserver/").value();
    assert!(list.get("my_server").is_some(), "{list}");
    // Deviation (docs/compatibility.md): tls can be switched off and the description cleared.
    app.post_form(
        "/privacyideaserver/my_server",
        &[("url", "https://pi"), ("tls", "0"), ("description", "d")],
    )
    .expect(200);
    assert_eq!(
        app.get("/privacyideaserver/").value()["my_server"]["tls"],
        false
    );
    app.post_form(
        "/privacyideaserver/my_server",
        &[("url", "https://pi"), ("description", "")],
    )
    .expect(200);
    assert_eq!(
        app.get("/privacyideaserver/").value()["my_server"]["description"],
        ""
    );
    app.delete("/privacyideaserver/nosuch")
        .expect_error_message(
            404,
            601,
            "The requested PrivacyIDEAServer could not be found.",
        );
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let app = spawn_app();
    app.post_form("/privacyideaserver/s", &[("description", "x")])
        .expect_error_message(400, 905, "ERR905: Missing parameter: url");
    app.post_form("/privacyideaserver/s", &[("url", "ftp://pi")])
        .expect_error(400, 905);
    app.post_form("/privacyideaserver/s", &[("url", "not a url")])
        .expect_error(400, 905);
    assert_eq!(app.get("/privacyideaserver/").value(), json!({}));
}

#[test]
fn case_082_086_test_request() {
    let app = spawn_app();
    let remote = FakeRemote::start(200, ACCEPT);
    // JSON values reach the handler as sent: `pw_w_%123` is quoted once more
    // like privacyIDEA does, so the remote's form parser sees `pw_w_%25123`
    // (case 86) and a privacyIDEA receiver, which percent-decodes form values
    // again, checks the original password.
    let a = app.post_json(
        "/privacyideaserver/test_request",
        &json!({"identifier": "server1", "tls": "0", "url": remote.base, "username": "testuser", "password": "pw_w_%123"}),
    );
    assert_eq!(a.expect(200).value(), json!(true));
    let got = remote.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "/validate/check");
    let form: Vec<(String, String)> = form_decode(&got[0].1);
    assert_eq!(
        form,
        vec![
            ("user".to_string(), "testuser".to_string()),
            ("pass".to_string(), "pw_w_%25123".to_string())
        ]
    );
    // Form values are percent-decoded once more on arrival (privacyIDEA's
    // request handling, spec/realm-auth-server.md §0.1), so the same password sent as a form field
    // is what privacyIDEA would forward too.
    let remote2 = FakeRemote::start(200, ACCEPT);
    app.post_form(
        "/privacyideaserver/test_request",
        &[
            ("identifier", "server1"),
            ("url", &remote2.base),
            ("username", "testuser"),
            ("password", "a b%20c"),
        ],
    )
    .expect(200);
    let form = form_decode(&remote2.received()[0].1);
    assert_eq!(form[1], ("pass".to_string(), "a%20b%20c".to_string()));
    // nothing is stored by a test request
    assert_eq!(app.get("/privacyideaserver/").value(), json!({}));

    for (status, body) in [
        (200, REJECT),
        (404, ACCEPT),
        (404, REJECT),
        (200, "garbage"),
    ] {
        let remote = FakeRemote::start(status, body);
        let a = app.post_json(
            "/privacyideaserver/test_request",
            &json!({"identifier": "s", "url": remote.base, "username": "u", "password": "p"}),
        );
        let a = a.expect(200);
        assert_eq!(a.value(), json!(false), "{status} {body}");
        assert!(a.json()["detail"]["description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()));
    }
}

#[test]
fn case_088_unreachable_remote_answers_false_not_500() {
    let app = spawn_app();
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let a = app.post_json(
        "/privacyideaserver/test_request",
        &json!({"identifier": "s", "url": url, "username": "u", "password": "p"}),
    );
    let a = a.expect(200);
    assert_eq!(a.value(), json!(false));
    let detail = a.json()["detail"]["description"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!detail.is_empty());
    for missing in ["identifier", "url", "username", "password"] {
        let mut body = json!({"identifier": "s", "url": "http://127.0.0.1:9", "username": "u", "password": "p"});
        body.as_object_mut().expect("obj").remove(missing);
        let a = app
            .post_json("/privacyideaserver/test_request", &body)
            .expect(400);
        assert_eq!(a.message(), format!("ERR905: Missing parameter: {missing}"));
    }
}

#[test]
fn request_forgery_guard() {
    let app = spawn_app_with(AppOptions {
        extra_cfg: vec!["PI_REMOTE_ALLOWED_HOSTS = ['pi.example.com']".into()],
        ..Default::default()
    });
    let remote = FakeRemote::start(200, ACCEPT);
    let a = app.post_json(
        "/privacyideaserver/test_request",
        &json!({"identifier": "s", "url": remote.base, "username": "u", "password": "p"}),
    );
    assert_eq!(a.expect(400).code(), 905);
    assert!(
        remote.received().is_empty(),
        "nothing may be sent to a host outside the list"
    );
    // link-local / metadata addresses are refused even without a host list
    let app = spawn_app();
    let a = app.post_json(
        "/privacyideaserver/test_request",
        &json!({"identifier": "s", "url": "http://169.254.169.254/latest", "username": "u", "password": "p"}),
    );
    assert_eq!(a.expect(400).code(), 905);
}

#[test]
fn gates_read_write_neither() {
    let mut app = spawn_app();
    let reader = app.add_admin("reader", "reader-pw");
    let writer = app.add_admin("writer", "writer-pw");
    let nobody = app.add_admin("nobody", "nobody-pw");
    app.put_admin_policy("ro", "privacyideaserver_read", "reader");
    app.put_admin_policy("rw", "privacyideaserver_write", "writer");
    app.put_admin_policy("other", "policyread", "nobody");
    let denied = |a: Answer, action: &str| {
        let a = a.expect_error(403, 303);
        assert_eq!(
            a.message(),
            format!("Admin actions are defined, but the action {action} is not allowed!")
        );
    };
    let create = |app: &TestApp| app.post_form("/privacyideaserver/s1", &[("url", "https://pi")]);
    app.set_token(Some(writer.clone()));
    create(&app).expect(200);
    denied(app.get("/privacyideaserver/"), "privacyideaserver_read");
    app.set_token(Some(reader));
    assert!(app
        .get("/privacyideaserver/")
        .expect(200)
        .value()
        .get("s1")
        .is_some());
    denied(create(&app), "privacyideaserver_write");
    denied(
        app.delete("/privacyideaserver/s1"),
        "privacyideaserver_write",
    );
    denied(
        app.post_json("/privacyideaserver/test_request", &json!({"identifier": "s", "url": "http://127.0.0.1:9", "username": "u", "password": "p"})),
        "privacyideaserver_write",
    );
    app.set_token(Some(nobody));
    denied(app.get("/privacyideaserver/"), "privacyideaserver_read");
    denied(create(&app), "privacyideaserver_write");
    app.set_token(Some(writer));
    app.delete("/privacyideaserver/s1").expect(200);
}

fn form_decode(body: &str) -> Vec<(String, String)> {
    fn unescape(s: &str) -> String {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (unescape(k), unescape(v))
        })
        .collect()
}
