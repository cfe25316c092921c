//! Operations around the API: `GET /openapi.json`, `GET /metrics` (access
//! control, route-template labels, snapshot/pool/remote series),
//! `pi-server --check-config`, `--openapi` and JSON logs.

use crate::support::{bin, run_server, spawn_app, spawn_app_with, AppOptions};
use serde_json::{json, Value};

/// A concrete path for a documented template: the parameter's `example`
/// when the document gives one, else `x`.
fn concrete(path: &str, op: &Value) -> String {
    let mut out = path.to_owned();
    for p in op["parameters"].as_array().into_iter().flatten() {
        if p["in"] == "path" {
            let name = p["name"].as_str().unwrap();
            let example = p["example"].as_str().unwrap_or("x");
            out = out.replace(&format!("{{{name}}}"), example);
        }
    }
    assert!(!out.contains('{'), "unfilled parameter in {path}");
    out
}

#[test]
fn openapi_document_is_served_and_every_documented_route_answers() {
    let app = spawn_app();
    let doc = app.get("/openapi.json").expect(200);
    assert!(doc.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let doc = doc.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/auth",
        "/policy/{name}",
        "/policy/check",
        "/realm/{realm}/node/{nodeid}",
        "/metrics",
        "/openapi.json",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert!(doc["components"]["schemas"]["ErrorEnvelope"].is_object());
    // every documented operation is a route of the real server: without a
    // token it answers 401 (or its own answer), never the router's 404/405
    let mut checked = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let url = app.url(&concrete(path, op));
            let rb = match method.as_str() {
                "get" => app.client().get(&url),
                "post" => app.client().post(&url),
                "patch" => app.client().patch(&url),
                "delete" => app.client().delete(&url),
                other => panic!("unexpected method {other}"),
            };
            let a = app.send(rb, Some(""));
            let routed = match a.status {
                405 => false,
                404 => a.json() != json!({"error": "Not found"}),
                _ => true,
            };
            assert!(routed, "{method} {path}: {} {}", a.status, a.text);
            checked += 1;
        }
    }
    assert!(checked >= 45, "{checked}");
}

#[test]
fn openapi_flag_prints_the_served_document() {
    let app = spawn_app();
    let served = app.get("/openapi.json").expect(200).json();
    let out = std::process::Command::new(bin("pi-server"))
        .arg("--openapi")
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, served);
}

/// The sample of `name` whose labels include every `label=value` given.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|lab| l.contains(lab)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_count_requests_by_route_template_on_loopback() {
    let app = spawn_app();
    app.post_json(
        "/policy/pol1",
        &json!({"scope": "admin", "action": "policyread"}),
    )
    .expect(200);
    for _ in 0..3 {
        app.get("/policy/check?user=u&realm=r1&scope=admin&action=policyread")
            .expect(200);
    }
    app.get("/policy/pol1").expect(200);
    app.get("/policy/nosuch").expect(200);
    app.get("/no/such/route").expect(404);
    // an invented method is not a label value of its own
    let foo = reqwest::Method::from_bytes(b"FOO").unwrap();
    let a = app.send(app.client().request(foo, app.url("/realm/")), None);
    assert_eq!(a.status, 405);
    let m = app.get("/metrics").expect(200);
    assert!(m.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let t = &m.text;
    // templates, not concrete paths; documented static paths keep their name
    assert_eq!(
        sample(
            t,
            "pi_http_requests_total",
            &[
                "method=\"GET\"",
                "route=\"/policy/check\"",
                "status=\"200\""
            ]
        ),
        Some(3.0),
        "{t}"
    );
    assert_eq!(
        sample(
            t,
            "pi_http_requests_total",
            &["method=\"GET\"", "route=\"/policy/{name}\""]
        ),
        Some(2.0),
        "{t}"
    );
    assert_eq!(
        sample(
            t,
            "pi_http_requests_total",
            &["route=\"unmatched\"", "status=\"404\""]
        ),
        Some(1.0),
        "{t}"
    );
    assert!(!t.contains("pol1") && !t.contains("nosuch") && !t.contains("/no/such"));
    assert_eq!(
        sample(
            t,
            "pi_http_requests_total",
            &["method=\"OTHER\"", "route=\"/realm/\"", "status=\"405\""]
        ),
        Some(1.0),
        "{t}"
    );
    assert!(!t.contains("FOO"));
    // latency histogram with buckets
    assert!(
        sample(
            t,
            "pi_http_request_duration_seconds_count",
            &["route=\"/policy/check\""]
        ) == Some(3.0),
        "{t}"
    );
    assert!(t.contains("pi_http_request_duration_seconds_bucket{"));
    assert!(t.contains("le=\"0.001\""));
    // snapshot rebuilds (start + the policy write), config version, pool
    assert!(sample(t, "pi_snapshot_rebuilds_total", &[]).unwrap() >= 1.0);
    assert!(t.contains("pi_snapshot_rebuild_duration_seconds_bucket"));
    assert!(sample(t, "pi_config_version", &[]).unwrap() >= 1.0);
    assert!(sample(t, "pi_db_pool_connections", &[]).unwrap() >= 1.0);
    assert!(sample(t, "pi_db_pool_max", &[]).unwrap() >= 1.0);
    assert_eq!(sample(t, "pi_db_pool_waiting", &[]), Some(0.0));
    assert_eq!(sample(t, "pi_db_pool_timeouts_total", &[]), Some(0.0));
}

#[test]
fn metrics_count_remote_test_request_outcomes() {
    let app = spawn_app();
    // link-local is refused by the SSRF guard
    let a = app.post_json(
        "/privacyideaserver/test_request",
        &json!({"identifier": "r", "url": "http://169.254.169.254/", "username": "u", "password": "p"}),
    );
    assert_eq!(a.status, 400, "{}", a.text);
    // nothing listens on port 9 of loopback: no answer
    app.post_json(
        "/privacyideaserver/test_request",
        &json!({"identifier": "r", "url": "http://127.0.0.1:9/", "username": "u", "password": "p"}),
    )
    .expect(200);
    let t = app.get("/metrics").expect(200).text;
    assert_eq!(
        sample(
            &t,
            "pi_remote_test_requests_total",
            &["outcome=\"refused\""]
        ),
        Some(1.0),
        "{t}"
    );
    assert_eq!(
        sample(&t, "pi_remote_test_requests_total", &["outcome=\"error\""]),
        Some(1.0),
        "{t}"
    );
}

#[test]
fn metrics_need_the_bearer_token_when_one_is_configured() {
    let app = spawn_app_with(AppOptions {
        extra_cfg: vec!["PI_METRICS_TOKEN = 's3cret-token'".into()],
        ..AppOptions::default()
    });
    let url = app.url("/metrics");
    let a = app.send(app.client().get(&url), Some(""));
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(a.code(), -401);
    assert_eq!(a.headers["www-authenticate"], "Bearer");
    let a = app.send(app.client().get(&url), Some("Bearer wrong"));
    assert_eq!(a.status, 401);
    // the admin JWT is not the metrics token
    let a = app.send(app.client().get(&url), None);
    assert_eq!(a.status, 401);
    let a = app.send(app.client().get(&url), Some("Bearer s3cret-token"));
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.text.contains("pi_http_requests_total"));
}

#[test]
fn metrics_can_be_switched_off() {
    let app = spawn_app_with(AppOptions {
        extra_cfg: vec!["PI_METRICS = False".into()],
        ..AppOptions::default()
    });
    app.get("/realm/").expect(200);
    let a = app.get("/metrics").expect(404);
    assert_eq!(a.code(), -404);
    assert!(a.message().contains("PI_METRICS"), "{}", a.text);
}

#[test]
fn check_config_validates_the_file_and_the_database() {
    let app = spawn_app();
    let run = |cfg: &std::path::Path| {
        std::process::Command::new(bin("pi-server"))
            .arg("--config")
            .arg(cfg)
            .arg("--check-config")
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap()
    };
    let ok = run(&app.cfg);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("OK"));
    let text = std::fs::read_to_string(&app.cfg).unwrap();
    // an unreachable database
    let bad_db = app.dir.path().join("bad-db.cfg");
    std::fs::write(
        &bad_db,
        format!("{text}\nSQLALCHEMY_DATABASE_URI = 'postgresql://u@127.0.0.1:1/none'\n"),
    )
    .unwrap();
    let out = run(&bad_db);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not answer"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // a bad value of one of our keys
    let bad_key = app.dir.path().join("bad-key.cfg");
    std::fs::write(&bad_key, format!("{text}\nPI_LOGFORMAT = 'xml'\n")).unwrap();
    let out = run(&bad_key);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PI_LOGFORMAT"));
    // no pepper
    let no_pepper = app.dir.path().join("no-pepper.cfg");
    let stripped: String = text
        .lines()
        .filter(|l| !l.starts_with("PI_PEPPER"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&no_pepper, stripped).unwrap();
    let out = run(&no_pepper);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PI_PEPPER"));
}

#[test]
fn json_logs_are_one_object_per_line() {
    let app = spawn_app();
    let text = std::fs::read_to_string(&app.cfg).unwrap();
    let cfg = app.dir.path().join("json-log.cfg");
    std::fs::write(
        &cfg,
        format!(
            "{text}\nPI_LOGFORMAT = 'json'\nPI_LOGLEVEL = 30\nPI_ENCFILE = '/nonexistent/enckey'\n"
        ),
    )
    .unwrap();
    let out = run_server(&cfg, &["--check-config"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let warn = lines
        .iter()
        .find(|l| l["msg"].as_str().unwrap_or("").contains("PI_ENCFILE"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(warn["level"], "WARN");
    assert!(warn["ts"].as_str().unwrap().ends_with('Z'));
    assert!(warn["target"].is_string());
}

#[test]
fn openapi_document_is_not_signed_with_audit_keys() {
    let key = |name: &str| {
        format!(
            "{}/../crates/pi-auth/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        )
    };
    let app = spawn_app_with(AppOptions {
        extra_cfg: vec![
            format!("PI_AUDIT_KEY_PRIVATE = '{}'", key("trusted-rsa.key")),
            format!("PI_AUDIT_KEY_PUBLIC = '{}'", key("trusted-rsa.pub")),
        ],
        ..AppOptions::default()
    });
    // envelopes are signed …
    assert!(app.get("/realm/").expect(200).json()["signature"].is_string());
    // … the document is served as generated
    let doc = app.get("/openapi.json").expect(200).json();
    assert!(doc.get("signature").is_none());
    assert_eq!(doc["openapi"], "3.1.0");
}
