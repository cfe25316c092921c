//! The audit trail through the real server: one `pidea_audit` row per
//! audited request, filled like privacyIDEA 3.14 fills it for the same
//! route, signed so that privacyIDEA's reader verifies it.

use crate::support::*;
use pi_store::{AuditQuery, AuditRecord};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn key(name: &str) -> String {
    format!(
        "{}/../crates/pi-auth/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn audited_app(extra: &[&str]) -> TestApp {
    let mut extra_cfg = vec![
        format!("PI_AUDIT_KEY_PRIVATE = '{}'", key("trusted-rsa.key")),
        format!("PI_AUDIT_KEY_PUBLIC = '{}'", key("trusted-rsa.pub")),
        "PI_AUDIT_SERVERNAME = 'auditnode'".to_owned(),
    ];
    extra_cfg.extend(extra.iter().map(|s| (*s).to_owned()));
    spawn_app_with(AppOptions {
        extra_cfg,
        ..AppOptions::default()
    })
}

/// Waits until the writer has written `n` rows; returns them in id order.
fn rows(app: &TestApp, n: usize) -> Vec<AuditRecord> {
    let store = app.store();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = store.search_audit(&AuditQuery {
            page: 1,
            page_size: 1000,
            ..AuditQuery::default()
        });
        if let Ok(p) = page {
            if p.entries.len() >= n || Instant::now() > deadline {
                return p.entries;
            }
        } else if Instant::now() > deadline {
            panic!("no audit table: {page:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn every_request_leaves_a_signed_row_like_privacyideas() {
    let mut app = audited_app(&[]);
    // a login writes its row; the failed one is REJECT
    app.post_form("/auth", &[("username", "admin"), ("password", "wrong")])
        .expect(401);
    let token = app.login(ADMIN, ADMIN_PW);
    app.set_token(Some(token));
    app.post_form(
        "/policy/pol1",
        &[
            ("scope", "admin"),
            ("action", "auditlog, policyread, policywrite, policydelete"),
        ],
    )
    .expect(200);
    app.get("/policy/check?user=u&realm=r1&scope=admin&action=auditlog")
        .expect(200);
    app.delete("/policy/nopol").expect(404);
    app.get("/policy/").expect(200);
    // no token: refused before the audit entry exists, as in privacyIDEA
    app.set_token(None);
    app.get("/policy/").expect(401);

    let all = rows(&app, 7);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        app.store()
            .search_audit(&AuditQuery {
                page: 1,
                page_size: 100,
                ..AuditQuery::default()
            })
            .expect("search")
            .total,
        7
    );
    // the first row is the login of spawn_app itself
    let rows = &all[1..];
    let summary: Vec<(String, i32)> = rows.iter().map(|r| (r.action.clone(), r.success)).collect();
    assert_eq!(
        summary,
        vec![
            ("POST /auth".to_owned(), 0),
            ("POST /auth".to_owned(), 1),
            ("POST /policy/<name>".to_owned(), 1),
            ("GET /policy/check".to_owned(), 1),
            ("DELETE /policy/<name>".to_owned(), 0),
            ("GET /policy/".to_owned(), 1),
        ]
    );
    let (fail, login, set, check, del, list) =
        (&rows[0], &rows[1], &rows[2], &rows[3], &rows[4], &rows[5]);
    assert_eq!(fail.authentication, "REJECT");
    assert_eq!(fail.user, "admin");
    assert_eq!(fail.administrator, "");
    assert_eq!(login.authentication, "ACCEPT");
    assert_eq!(login.administrator, "admin");
    assert_eq!(login.info, "internal admin");
    assert_eq!(set.action_detail, "pol1");
    assert_eq!(set.administrator, "admin");
    assert!(set.info.contains("'scope': 'admin'"), "{}", set.info);
    assert_eq!(check.user, "u");
    assert_eq!(check.realm, "r1");
    assert_eq!(
        check.action_detail,
        "action = auditlog, realm = r1, scope = admin"
    );
    assert_eq!(check.info, "allowed by policy ['pol1']");
    assert_eq!(del.info, "The requested Policy could not be found.");
    assert_eq!(list.info, "name = None, realm = None, scope = None");
    for r in rows {
        assert_eq!(r.privacyidea_server, "auditnode");
        assert_eq!(r.client, "127.0.0.1");
        assert_eq!(r.loglevel, "default");
        assert!(r.startdate.is_some() && r.duration.is_some());
    }
    // signed over privacyIDEA's text of the stored row
    let verifier = pi_auth::SignatureVerifier::from_pem(
        &std::fs::read_to_string(key("trusted-rsa.pub")).expect("public key"),
    )
    .expect("verifier");
    for r in rows {
        assert!(verifier.verify(&r.sign_text(), &r.signature), "{r:?}");
    }
    let mut forged = rows[2].clone();
    forged.info = "changed".into();
    assert!(!verifier.verify(&forged.sign_text(), &forged.signature));
}

#[test]
fn unsigned_with_no_sign_and_long_values_cut_to_the_column() {
    let mut app = audited_app(&["PI_AUDIT_NO_SIGN = True"]);
    app.set_token(Some(app.login(ADMIN, ADMIN_PW)));
    let long = "x".repeat(700);
    app.get(&format!(
        "/policy/check?user={long}&realm=r&scope=admin&action=a"
    ))
    .expect(200);
    let rows = rows(&app, 3);
    let check = rows.last().expect("row");
    assert_eq!(check.action, "GET /policy/check");
    assert_eq!(check.signature, "");
    assert_eq!(check.user.len(), 100);
    assert!(check.action_detail.len() <= 500);
}

#[test]
fn audit_database_down_answers_503() {
    // the audit table on a database that refuses connections
    let mut app = audited_app(&["PI_AUDIT_SQL_URI = 'postgresql://pi@127.0.0.1:9/audit'"]);
    let token = app.login(ADMIN, ADMIN_PW);
    app.set_token(Some(token));
    // the login's entry cannot be written: the server refuses new work
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = 0;
    while Instant::now() < deadline {
        last = app.get("/policy/").status;
        if last == 503 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(last, 503);
    let a = app.get("/policy/").expect(503);
    assert_eq!(a.json()["result"]["status"], json!(false));
    assert_eq!(a.code(), 902);
}

#[test]
fn fail_open_keeps_serving_while_the_audit_database_is_down() {
    let mut app = audited_app(&[
        "PI_AUDIT_SQL_URI = 'postgresql://pi@127.0.0.1:9/audit'",
        "PI_AUDIT_FAIL_OPEN = True",
    ]);
    let token = app.login(ADMIN, ADMIN_PW);
    app.set_token(Some(token));
    for _ in 0..5 {
        app.get("/policy/").expect(200);
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn get_audit_pages_filters_and_restricts_to_the_admins_realms() {
    let mut app = audited_app(&[]);
    let token = app.login(ADMIN, ADMIN_PW);
    app.set_token(Some(token));
    app.post_form(
        "/resolver/files",
        &[("type", "passwdresolver"), ("fileName", "/etc/passwd")],
    )
    .expect(200);
    app.post_form("/realm/r0", &[("resolvers", "files")])
        .expect(200);
    for i in 0..4 {
        app.get(&format!(
            "/policy/check?user=u{i}&realm=r{}&scope=admin&action=x",
            i % 2
        ))
        .expect(200);
    }
    // 2 logins, resolver, realm, 4 checks written
    let written = rows(&app, 8);
    assert_eq!(written[2].action, "POST /resolver/<resolver>");
    assert_eq!(written[2].resolver, "files");
    assert_eq!(written[2].info, "files");
    assert_eq!(written[3].action, "POST /realm/<realm>");
    assert_eq!(written[3].realm, "r0");
    assert_eq!(
        written[3].info,
        "realm: 'r0', resolvers: [{'name': 'files', 'priority': None}]"
    );
    let a = app
        .get("/audit/?page_size=2&page=2&action=GET /policy/check")
        .expect(200);
    let v = a.value();
    assert_eq!(v["count"], json!(4));
    assert_eq!(v["current"], json!(2));
    assert_eq!(v["prev"], json!(1));
    assert_eq!(v["next"], Value::Null);
    let data = v["auditdata"].as_array().expect("auditdata");
    assert_eq!(data.len(), 2);
    // newest first by default
    assert_eq!(data[0]["user"], json!("u1"));
    assert_eq!(data[0]["sig_check"], json!("OK"));
    assert_eq!(data[0]["log_level"], json!("default"));
    assert!(v["auditcolumns"].as_array().expect("columns").len() == 27);
    let a = app
        .get("/audit/?realm=r1&sortorder=asc&user=u*")
        .expect(200);
    let users: Vec<Value> = a.value()["auditdata"]
        .as_array()
        .expect("auditdata")
        .iter()
        .map(|e| e["user"].clone())
        .collect();
    assert_eq!(users, vec![json!("u1"), json!("u3")]);
    app.get("/audit/?page=x").expect(400);

    // the CSV download
    let csv = app.get("/audit/audit.csv?action=GET /policy/check");
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("text/csv"));
    assert_eq!(csv.text.lines().count(), 4, "{}", csv.text);

    // an admin whose auditlog policy names realm r0 sees r0 and their own entries
    app.post_form(
        "/policy/all",
        &[
            ("scope", "admin"),
            ("action", "auditlog, policyread, policywrite"),
        ],
    )
    .expect(200);
    let t2 = app.add_admin("auditor", "Audit0r!pass");
    app.post_form(
        "/policy/all",
        &[
            ("scope", "admin"),
            ("action", "policywrite, policyread"),
            ("adminuser", "admin"),
        ],
    )
    .expect(200);
    app.post_form(
        "/policy/r0only",
        &[
            ("scope", "admin"),
            ("action", "auditlog"),
            ("realm", "r0"),
            ("adminuser", "auditor"),
        ],
    )
    .expect(200);
    let a = app
        .send(
            app.client().get(app.url("/audit/?page_size=100")),
            Some(&t2),
        )
        .expect(200);
    let data = a.value()["auditdata"]
        .as_array()
        .expect("auditdata")
        .clone();
    assert!(!data.is_empty());
    for e in &data {
        assert!(
            e["realm"] == json!("r0") || e["administrator"] == json!("auditor"),
            "{e}"
        );
    }
    // the admin without auditlog is refused
    app.get("/audit/").expect(403);
}

#[test]
fn a_graceful_shutdown_writes_every_queued_entry() {
    let mut app = audited_app(&["PI_AUDIT_QUEUE_SIZE = 16"]);
    let token = app.login(ADMIN, ADMIN_PW);
    app.set_token(Some(token));
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..25 {
                    app.get("/policy/").expect(200);
                }
            });
        }
    });
    let status = app.terminate();
    assert!(status.success(), "{status:?}");
    let page = app
        .store()
        .search_audit(&AuditQuery {
            page: 1,
            page_size: 10,
            ..AuditQuery::default()
        })
        .expect("search");
    // 2 logins + 200 listings, none lost
    assert_eq!(page.total, 202);
}
