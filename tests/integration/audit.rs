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

/// `audited_app`, logged in as the admin.
fn audited_admin_app(extra: &[&str]) -> TestApp {
    let mut app = audited_app(extra);
    let token = app.login(ADMIN, ADMIN_PW);
    app.set_token(Some(token));
    app
}

/// The realm `r0`: a passwd resolver `files` over /etc/passwd.
fn add_realm_r0(app: &TestApp) {
    app.post_form(
        "/resolver/files",
        &[("type", "passwdresolver"), ("fileName", "/etc/passwd")],
    )
    .expect(200);
    app.post_form("/realm/r0", &[("resolvers", "files")])
        .expect(200);
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
    let app = audited_admin_app(&["PI_AUDIT_NO_SIGN = True"]);
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
    let app = audited_admin_app(&["PI_AUDIT_SQL_URI = 'postgresql://pi@127.0.0.1:9/audit'"]);
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
    let app = audited_admin_app(&[
        "PI_AUDIT_SQL_URI = 'postgresql://pi@127.0.0.1:9/audit'",
        "PI_AUDIT_FAIL_OPEN = True",
    ]);
    for _ in 0..5 {
        app.get("/policy/").expect(200);
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn get_audit_pages_filters_and_restricts_to_the_admins_realms() {
    let app = audited_admin_app(&[]);
    add_realm_r0(&app);
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
    let a = app.get_as("/audit/?page_size=100", &t2).expect(200);
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
    let mut app = audited_admin_app(&["PI_AUDIT_QUEUE_SIZE = 16"]);
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

fn columns(a: &Value) -> Vec<String> {
    a["auditcolumns"]
        .as_array()
        .expect("auditcolumns")
        .iter()
        .map(|c| c.as_str().expect("column").to_owned())
        .collect()
}

#[test]
fn hide_audit_columns_removes_the_columns_its_matching_policies_name() {
    let app = audited_admin_app(&[]);
    add_realm_r0(&app);
    rows(&app, 3);
    // no hide_audit_columns policy: every column, every key
    let all = app.get("/audit/").expect(200).value();
    assert_eq!(columns(&all).len(), 27);
    assert_eq!(all["auditdata"][0].as_object().expect("row").len(), 27);

    app.post_form(
        "/policy/all",
        &[
            ("scope", "admin"),
            ("action", "auditlog, auditlog_download, policywrite"),
        ],
    )
    .expect(200);
    // values split at whitespace; an unknown name hides nothing
    app.post_form(
        "/policy/hide",
        &[
            ("scope", "admin"),
            ("action", "hide_audit_columns=info  serial user bogus"),
        ],
    )
    .expect(200);
    // applies only when the request's user object is in realm r0
    app.post_form(
        "/policy/hide_r0",
        &[
            ("scope", "admin"),
            ("action", "hide_audit_columns=client"),
            ("realm", "r0"),
        ],
    )
    .expect(200);
    let v = app.get("/audit/?page_size=100").expect(200).value();
    let mut expected: Vec<&str> = super_columns()
        .into_iter()
        .filter(|c| !["info", "serial", "user"].contains(c))
        .collect();
    assert_eq!(
        columns(&v),
        expected,
        "the release's order, minus the hidden"
    );
    for row in v["auditdata"].as_array().expect("auditdata") {
        let keys: Vec<&String> = row.as_object().expect("row").keys().collect();
        assert_eq!(keys.len(), 24, "{row}");
        for hidden in ["info", "serial", "user"] {
            assert!(row.get(hidden).is_none(), "{row}");
        }
        assert!(row.get("client").is_some());
    }
    // the realm filter makes request.User a user of r0: hide_r0 matches too
    for path in ["/audit/?realm=r0", "/audit/?user=root&realm=r0"] {
        let v = app.get(path).expect(200).value();
        expected.retain(|c| *c != "client");
        assert_eq!(columns(&v), expected, "{path}");
        for row in v["auditdata"].as_array().expect("auditdata") {
            assert!(row.get("client").is_none(), "{row}");
        }
    }
    // a request's own hidden_columns is replaced by the policies' list
    let v = app.get("/audit/?hidden_columns=number").expect(200).value();
    assert!(columns(&v).contains(&"number".to_owned()));
    // the CSV download is not affected (as in the release)
    let csv = app.get("/audit/audit.csv?action=POST /realm/<realm>");
    assert_eq!(csv.status, 200);
    let line = csv.text.lines().next().expect("a row");
    assert!(line.contains(",r0,"), "{line}");
    assert!(line.contains("127.0.0.1"), "{line}");
}

/// `available_audit_columns` in the release's order.
fn super_columns() -> Vec<&'static str> {
    vec![
        "number",
        "action",
        "success",
        "authentication",
        "serial",
        "date",
        "startdate",
        "duration",
        "token_type",
        "user",
        "realm",
        "administrator",
        "action_detail",
        "info",
        "privacyidea_server",
        "client",
        "user_agent",
        "user_agent_version",
        "log_level",
        "policies",
        "clearance_level",
        "sig_check",
        "missing_line",
        "resolver",
        "thread_id",
        "container_serial",
        "container_type",
    ]
}

/// Stores the admin policy `age` with `auditlog_age=<value>`.
fn set_auditlog_age(app: &TestApp, value: &str) {
    let action = format!("auditlog_age={value}");
    app.post_form("/policy/age", &[("scope", "admin"), ("action", &action)])
        .expect(200);
}

#[test]
fn auditlog_age_replaces_the_requests_timelimit() {
    let app = audited_admin_app(&[]);
    app.post_form(
        "/policy/all",
        &[
            ("scope", "admin"),
            (
                "action",
                "auditlog, auditlog_download, policywrite, policydelete",
            ),
        ],
    )
    .expect(200);
    rows(&app, 2);
    let count = |app: &TestApp, path: &str| app.get(path).expect(200).value()["count"].clone();
    let csv_rows = |app: &TestApp, path: &str| {
        let a = app.get(path);
        assert_eq!(a.status, 200, "{}", a.text);
        a.text.lines().count()
    };
    // without an auditlog_age policy the request's timelimit counts
    assert!(count(&app, "/audit/").as_i64().expect("count") >= 2);
    assert_eq!(count(&app, "/audit/?timelimit=-1d"), json!(0));
    assert_eq!(csv_rows(&app, "/audit/a.csv?timelimit=-1d"), 0);

    // a cut-off in the future: nothing is old enough, whatever the request asks
    set_auditlog_age(&app, "-1d");
    assert_eq!(count(&app, "/audit/"), json!(0));
    assert_eq!(count(&app, "/audit/?timelimit=10y"), json!(0));
    assert_eq!(csv_rows(&app, "/audit/a.csv"), 0);
    // a longer age than the request's timelimit wins too (the release replaces it)
    set_auditlog_age(&app, "1y");
    assert!(
        count(&app, "/audit/?timelimit=-1d")
            .as_i64()
            .expect("count")
            >= 2
    );
    assert!(
        count(&app, "/audit/?timelimit=bogus")
            .as_i64()
            .expect("count")
            >= 2
    );
    assert!(csv_rows(&app, "/audit/a.csv?timelimit=-1d") >= 2);
    // a policy that does not match this admin does not cap
    app.delete("/policy/age").expect(200);
    app.post_form(
        "/policy/other",
        &[
            ("scope", "admin"),
            ("action", "auditlog_age=-1d"),
            ("adminuser", "someoneelse"),
        ],
    )
    .expect(200);
    assert!(count(&app, "/audit/").as_i64().expect("count") >= 2);
    app.delete("/policy/other").expect(200);

    // a malformed value: a clear 400 (the release answers 500)
    set_auditlog_age(&app, "bogus");
    app.get("/audit/").expect_error(400, 905);
    app.get("/audit/a.csv").expect(400);
    // two values in one policy are a conflict, as in the release
    set_auditlog_age(&app, "1d 2d");
    app.get("/audit/").expect_error(403, 303);
}

#[test]
fn the_csv_download_streams_every_row_once_across_rounds() {
    let app = audited_admin_app(&[]);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..130 {
                    app.get("/policy/").expect(200);
                }
            });
        }
    });
    // 2 logins + 520 listings: two rounds of 500 and one of 22
    let mut by_date: Vec<(chrono::NaiveDateTime, i64)> =
        rows(&app, 522).iter().map(|r| (r.date, r.id)).collect();
    assert_eq!(by_date.len(), 522);
    // the release's order: date, then id (concurrent requests' ids and end
    // times need not agree)
    by_date.sort_unstable();
    let written: Vec<i64> = by_date.iter().map(|(_, id)| *id).collect();
    let csv = app.get("/audit/audit.csv");
    assert_eq!(csv.status, 200);
    assert_eq!(
        csv.headers["transfer-encoding"].to_str().expect("te"),
        "chunked"
    );
    let numbers: Vec<i64> = csv
        .text
        .lines()
        .map(|l| l.split(',').next().expect("number").parse().expect("id"))
        .collect();
    // each row once; the download's own row is not part of it
    assert_eq!(numbers, written);
}

/// The rows after the last one of `action`, each as `action success
/// administrator|user|realm detail=… info=…`, for comparing them with what
/// the release writes.
fn lines_after(all: &[AuditRecord], action: &str) -> Vec<String> {
    let start = all
        .iter()
        .rposition(|r| r.action == action)
        .map_or(0, |i| i + 1);
    let line = |r: &AuditRecord| {
        let who = format!("{}|{}|{}", r.administrator, r.user, r.realm);
        let what = format!("detail={} info={}", r.action_detail, r.info);
        format!("{} {} {who} {what}", r.action, r.success)
    };
    all[start..].iter().map(line).collect()
}

/// A `HEAD` request is served as `GET` but audited as `HEAD` with the GET
/// route's rule and details; an `OPTIONS` request runs no view: never a
/// success, the first rule the path matches, the caller and the request's
/// user/realm/resolver, and `/auth` without a JWT too — as the release
/// writes them (scripts/compare-audit.py sends these to both).
#[test]
fn head_and_options_requests_are_audited_as_the_release() {
    let app = audited_admin_app(&[]);
    let send = |method: reqwest::Method, path: &str, auth: Option<&str>| {
        let rb = app.client().request(method, app.url(path));
        app.send(rb, auth).expect(200);
    };
    let token = app.token();
    let head = |path| send(reqwest::Method::HEAD, path, Some(&token));
    head("/policy/");
    head("/policy/check?user=x&realm=r&scope=admin&action=a&client=1.2.3.4");
    head("/policy/defs");
    let options = |path, auth| send(reqwest::Method::OPTIONS, path, auth);
    options("/auth?username=bob", Some(""));
    options("/policy/p1", Some(&token));
    options("/policy/?realm=r2&user=u2", Some(&token));
    let all = rows(&app, 8);
    assert_eq!(
        lines_after(&all, "POST /auth"),
        [
            "HEAD /policy/ 1 admin|| detail= info=name = None, realm = None, scope = None",
            "HEAD /policy/check 1 admin|x|r detail=action = a, realm = r, scope = admin info=",
            "HEAD /policy/defs 1 admin|| detail= info=",
            "OPTIONS /auth 0 || detail= info=",
            "OPTIONS /policy/<old_name> 0 admin|| detail= info=",
            "OPTIONS /policy/ 0 admin|u2|r2 detail= info=",
        ]
    );
}

/// What the release's views write before they fail, and the static routes
/// served here through a path variable (scripts/compare-audit.py sends
/// these to both): a policy name that fails the view's own checks leaves no
/// `action_detail`, a later failure does; `GET /realm/<x>` other than
/// `superuser` is the router's 405 (no row, no authentication), `GET
/// /realm/superuser` has no realm; `GET /defaultrealm` names the default.
#[test]
fn views_audit_what_the_release_writes_before_failing() {
    let app = audited_admin_app(&[]);
    add_realm_r0(&app);
    app.post_form("/defaultrealm/r0", &[]).expect(200);
    let form = [("scope", "admin"), ("action", "a")];
    app.post_form("/policy/check", &form).expect(400);
    let unknown_realm = [("scope", "admin"), ("action", "a"), ("realm", "nosuch")];
    app.post_form("/policy/p1", &unknown_realm).expect(400);
    let x = app.client().get(app.url("/realm/x"));
    app.send(x, Some("")).expect(405);
    app.get("/realm/superuser").expect(200);
    app.get("/defaultrealm").expect(200);
    let all = rows(&app, 9);
    assert_eq!(
        lines_after(&all, "POST /defaultrealm/<realm>"),
        [
            "POST /policy/<name> 0 admin|| detail= info=ERR905: Invalid policy name: check",
            "POST /policy/<name> 0 admin||nosuch detail=p1 info=ERR905: Undefined User-realms: ['nosuch']!",
            "GET /realm/superuser 1 admin|| detail= info=",
            "GET /defaultrealm 1 admin|| detail= info=r0",
        ]
    );
}

/// Values privacyIDEA's views log as they are (scripts/compare-audit.py
/// sends a longer sequence to both): a resolver's id (or -1) as `success`,
/// a remote server's id as `info`, the user list's realm and resolver, a
/// rename, the scope of the definitions; `GET /auth/rights` without the
/// caller; no success where the view logs none.
#[test]
fn views_log_the_values_the_release_logs() {
    let app = audited_admin_app(&[]);
    let form = |path: &str, pairs: &[(&str, &str)]| app.post_form(path, pairs).expect(200);
    let passwd = [("type", "passwdresolver"), ("fileName", "/etc/passwd")];
    form("/resolver/r8", &passwd);
    form("/resolver/r9", &passwd);
    form("/realm/rr9", &[("resolvers", "r9")]);
    let url = [("url", "http://127.0.0.1:1/"), ("tls", "0")];
    form("/privacyideaserver/srv9", &url);
    form("/policy/pp9", &[("scope", "user"), ("action", "disable")]);
    let rename = app.client().patch(app.url("/policy/pp9?name=pp10"));
    app.send(rename, None).expect(200);
    for path in [
        "/user/?realm=RR9",
        "/policy/defs/admin",
        "/auth/rights",
        "/realm/?realm=RR9",
    ] {
        app.get(path).expect(200);
    }
    app.delete("/resolver/nosuch").expect(200);
    app.get("/resolver/passwdresolver/default").expect(200);
    let all = rows(&app, 14);
    assert_eq!(
        lines_after(&all, "POST /auth"),
        [
            "POST /resolver/<resolver> 1 admin|| detail= info=r8",
            "POST /resolver/<resolver> 2 admin|| detail= info=r9",
            "POST /realm/<realm> 1 admin||rr9 detail= info=realm: 'rr9', resolvers: [{'name': 'r9', 'priority': None}]",
            "POST /privacyideaserver/<identifier> 1 admin|| detail= info=1",
            "POST /policy/<name> 1 admin|| detail=pp9 info={'action': 'disable', 'name': 'pp9', 'scope': 'user'}",
            "PATCH /policy/<old_name> 1 admin|| detail=pp9 renamed to pp10 info=",
            "GET /user/ 1 admin||rr9 detail= info=realm: RR9; resolver: None",
            "GET /policy/defs/<scope> 1 admin|| detail= info=admin",
            "GET /auth/rights 1 || detail= info=",
            "GET /realm/ 1 admin||rr9 detail= info=",
            "DELETE /resolver/<resolver> -1 admin|| detail= info=nosuch",
            "GET /resolver/<resolvertype>/default 0 admin|| detail= info=",
        ]
    );
}

/// A failed login is audited as the release writes it (scripts/compare-
/// audit.py sends these to both): the user and realm it was checked as,
/// `loginmode=None` before the error, `Missing parameter "password"` when
/// there was none.
#[test]
fn failed_logins_are_audited_as_the_release() {
    let app = audited_admin_app(&[]);
    add_realm_r0(&app);
    app.post_form("/defaultrealm/r0", &[]).expect(200);
    let attempts: [&[(&str, &str)]; 3] = [
        &[("username", "nobody"), ("password", "x")],
        &[("username", "admin"), ("password", "wrong")],
        &[("username", "admin")],
    ];
    for form in attempts {
        app.send(app.client().post(app.url("/auth")).form(form), Some(""))
            .expect(401);
    }
    let all = rows(&app, 8);
    assert_eq!(
        lines_after(&all, "POST /defaultrealm/<realm>"),
        [
            "POST /auth 0 |nobody|r0 detail= info=loginmode=None,Authentication failed.",
            "POST /auth 0 |admin|r0 detail= info=loginmode=None,Authentication failed.",
            "POST /auth 0 |admin|r0 detail= info=Missing parameter \"password\",Authentication failed.",
        ]
    );
}
