//! The policy linter: `GET /policy/lint` (and `/policy/lint/`) and
//! `pi-manage policy lint [--format json]`.

use crate::realm::{form_realm, passwd_resolver, passwords_file};
use crate::support::*;
use pi_model::record::PolicyRecord;
use serde_json::{json, Value};

fn put(app: &TestApp, rec: PolicyRecord) {
    app.store()
        .save_policy(&rec, Some(&[]))
        .expect("save policy");
}

fn pol(name: &str, scope: &str, action: &str) -> PolicyRecord {
    PolicyRecord {
        name: name.into(),
        scope: scope.into(),
        action: action.into(),
        active: true,
        priority: 1,
        ..Default::default()
    }
}

/// A set with: two enrollment policies at equal priority with different
/// `tokenlabel` values that may meet (realm1), one also referring to a
/// deleted realm.
fn troubled(app: &TestApp) {
    passwd_resolver(app, "resolver1", &passwords_file());
    form_realm(app, "realm1", "resolver1");
    let mut a = pol("label-a", "enrollment", "tokenlabel=<u>");
    a.realm = "realm1".into();
    put(app, a);
    let mut b = pol("label-b", "enrollment", "tokenlabel=<s>");
    b.realm = "gone, realm1".into();
    put(app, b);
}

fn codes(v: &Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
                f["policy"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

#[test]
fn lint_route_reports_findings() {
    let app = spawn_app();
    troubled(&app);
    let v = app.get("/policy/lint").expect(200).value();
    let c = codes(&v);
    assert!(
        c.contains(&("unknown_realm".into(), "warning".into(), "label-b".into())),
        "{v}"
    );
    // realm1 vs gone/realm1: they may meet, so a warning on both
    assert!(
        c.contains(&(
            "conflicting_values".into(),
            "warning".into(),
            "label-a".into()
        )),
        "{v}"
    );
    assert_eq!(v["summary"]["error"], json!(0), "{v}");
    assert!(v["findings"][0]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    // label-b without a realm matches whatever label-a matches: an error
    let mut b = pol("label-b", "enrollment", "tokenlabel=<s>");
    b.realm = String::new();
    put(&app, b);
    let v = app.get("/policy/lint/").expect(200).value();
    assert_eq!(v["summary"]["error"], json!(2), "{v}");
    assert_eq!(
        codes(&v),
        vec![
            (
                "conflicting_values".into(),
                "error".into(),
                "label-a".into()
            ),
            (
                "conflicting_values".into(),
                "error".into(),
                "label-b".into()
            ),
        ]
    );
}

#[test]
fn lint_route_clean_set() {
    let app = spawn_app();
    passwd_resolver(&app, "resolver1", &passwords_file());
    form_realm(&app, "realm1", "resolver1");
    app.post_json(
        "/policy/pin",
        &json!({"scope": "authentication", "action": "otppin=userstore", "realm": "realm1"}),
    )
    .expect(200);
    let v = app.get("/policy/lint").expect(200).value();
    assert_eq!(
        v,
        json!({"findings": [], "summary": {"error": 0, "warning": 0, "info": 0}})
    );
}

#[test]
fn lint_route_admin_lockout_and_gate() {
    let app = spawn_app();
    // policyread only: the linter answers and reports the lock-out
    app.put_admin_policy("readers", "policyread", "admin");
    let v = app.get("/policy/lint").expect(200).value();
    assert_eq!(
        codes(&v),
        vec![("admin_lockout".into(), "error".into(), "-".into())],
        "{v}"
    );
    // without policyread: privacyIDEA's 403
    app.store().delete_policy("readers").expect("delete");
    app.put_admin_policy("others", "enable", "admin");
    for path in ["/policy/lint", "/policy/lint/"] {
        app.get(path).expect_error_message(
            403,
            303,
            "Admin actions are defined, but the action policyread is not allowed!",
        );
    }
    // no token: 401
    let a = app.get_as("/policy/lint", "");
    assert_eq!(a.status, 401, "{}", a.text);
}

#[test]
fn policy_named_lint_keeps_its_route() {
    let app = spawn_app();
    app.post_json(
        "/policy/lint",
        &json!({"scope": "webui", "action": "login_mode=privacyIDEA"}),
    )
    .expect(200);
    let v = app.get("/policy/lint").expect(200).value();
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v[0]["name"], json!("lint"));
    assert!(app.get("/policy/lint").headers.contains_key("etag"));
    let v = app.get("/policy/lint/").expect(200).value();
    assert_eq!(v["findings"], json!([]), "{v}");
}

fn manage(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(bin("pi-manage"))
        .arg("--config")
        .arg(&app.cfg)
        .args(args)
        .output()
        .expect("pi-manage");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn manage_policy_lint_exit_codes_and_formats() {
    let app = spawn_app();
    troubled(&app);
    // warnings only: exit 0; text lists them
    let (code, out, err) = manage(&app, &["policy", "lint"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("label-b: warning[unknown_realm]: realm entry `gone`")),
        "{out}"
    );
    assert!(
        out.lines()
            .last()
            .is_some_and(|l| l.starts_with("0 error(s), ") && l.ends_with(" in 2 policies")),
        "{out}"
    );
    // the JSON is what the API answers
    let (code, out, _) = manage(&app, &["policy", "lint", "--format", "json"]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v, app.get("/policy/lint").expect(200).value());
    // an error: exit status 1
    put(&app, pol("label-b", "enrollment", "tokenlabel=<s>"));
    let (code, out, _) = manage(&app, &["policy", "lint", "--format", "json"]);
    assert_eq!(code, Some(1), "{out}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["summary"]["error"], json!(2), "{v}");
    let (code, out, _) = manage(&app, &["policy", "lint"]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains("label-a: error[conflicting_values]: "),
        "{out}"
    );
    // a bad format is a usage error
    let (code, _, err) = manage(&app, &["policy", "lint", "--format", "xml"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("xml"), "{err}");
}
