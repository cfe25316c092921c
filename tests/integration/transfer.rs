//! `pi-manage config export|import` with privacyIDEA's configuration file:
//! files written by the released privacyIDEA 3.14's `pi-manage config
//! export` (tests/integration/data/config-export-3.14*.json, made from
//! scripts/config-roundtrip/source.json) are imported and exported again
//! unchanged; the full round trip with the release is
//! scripts/config-roundtrip/run.sh.

use crate::support::*;
use serde_json::{json, Value};

const EXPORT: &str = include_str!("data/config-export-3.14.json");
const CENSORED: &str = include_str!("data/config-export-3.14-censored.json");

/// An export without realm ids and with policies sorted by name.
fn normalized(text: &str) -> Value {
    let mut v: Value = serde_json::from_str(text).expect("json");
    if let Some(realms) = v["realm"].as_object_mut() {
        for r in realms.values_mut() {
            r.as_object_mut().map(|o| o.remove("id"));
        }
    }
    if let Some(p) = v["policy"].as_array_mut() {
        p.sort_by_key(|x| x["name"].as_str().unwrap_or_default().to_string());
    }
    v
}

fn export(app: &TestApp, args: &[&str]) -> String {
    let mut all = vec!["config", "export"];
    all.extend_from_slice(args);
    let (ok, out, err) = manage(&app.cfg, &all, None);
    assert!(ok, "{err}");
    out
}

#[test]
fn import_the_releases_export_and_export_it_unchanged() {
    let app = spawn_app();
    let (ok, out, err) = manage(&app.cfg, &["config", "import"], Some(EXPORT));
    assert!(ok, "{out}{err}");
    assert_eq!(
        out,
        "Importing configuration type 'resolver'.\nImporting configuration type 'realm'.\nImporting configuration type 'policy'.\n"
    );
    // the running server sees it
    let pols = app.get("/policy/").expect(200).value();
    let pol1 = pols
        .as_array()
        .and_then(|a| a.iter().find(|p| p["name"] == "pol1"))
        .cloned()
        .expect("pol1");
    assert_eq!(
        pol1["action"],
        json!({"otppin": "userstore", "passthru": true})
    );
    assert_eq!(pol1["client"], json!(["10.0.0.0/8", "!10.1.0.0/16"]));
    assert_eq!(pol1["conditions"][0][5], json!("condition_is_false"));
    let realms = app.get("/realm/").expect(200).value();
    assert_eq!(realms["realm1"]["default"], json!(true));
    assert_eq!(realms["realm1"]["resolver"][0]["priority"], json!(2));
    let res = app.get("/resolver/ldap1").expect(200).value();
    assert_eq!(res["ldap1"]["data"]["BINDPW"], json!("__CENSORED__"));
    // exported again: what the release exported (the password decrypted again)
    assert_eq!(
        normalized(&export(
            &app,
            &["-t", "policy", "-t", "realm", "-t", "resolver"]
        )),
        normalized(EXPORT)
    );
    // censored: what the release's --censor writes
    assert_eq!(
        normalized(&export(&app, &["--censor"])),
        normalized(CENSORED)
    );
    // a censored file keeps the stored secret
    let (ok, _, err) = manage(
        &app.cfg,
        &["config", "import", "-t", "resolver"],
        Some(CENSORED),
    );
    assert!(ok, "{err}");
    assert_eq!(normalized(&export(&app, &[])), normalized(EXPORT));
}

#[test]
fn export_filters_and_output_file() {
    let app = spawn_app();
    let (ok, _, err) = manage(&app.cfg, &["config", "import"], Some(EXPORT));
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(&export(&app, &["-t", "policy", "-n", "pol3"])).unwrap();
    assert_eq!(
        v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec![
            "policy".to_string(),
            "privacyIDEA_version".to_string()
        ])
    );
    assert_eq!(v["policy"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["policy"][0]["description"], json!("label, with a comma"));
    assert_eq!(v["privacyIDEA_version"], json!("3.14"));
    let file = app.cfg.with_file_name("out.json");
    let path = file.display().to_string();
    assert_eq!(export(&app, &["-t", "realm", "-o", &path]), "");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(v["realm"].as_object().map(|o| o.len()), Some(2), "{v}");
    // `exporter` is the deprecated alias, as in privacyIDEA
    let (ok, out, _) = manage(&app.cfg, &["config", "exporter", "-t", "resolver"], None);
    assert!(ok && out.contains("\"ldap1\""), "{out}");
}

#[test]
fn import_validates_like_the_api_and_goes_on() {
    let app = spawn_app();
    // a policy naming an unknown realm and one with an unknown action; a
    // good one in between; a realm with an unknown resolver
    let text = json!({
        "resolver": {"reso1": {"type": "passwdresolver", "resolvername": "reso1",
                               "censor_keys": [], "data": {"fileName": "/etc/passwd"}}},
        "realm": {"Realm1": {"default": false, "resolver": [{"name": "reso1", "priority": 3, "node": ""}]}},
        "policy": [
            {"name": "bad-realm", "scope": "admin", "action": {"enable": true}, "realm": ["nosuch"]},
            {"name": "good", "scope": "webui", "action": {"login_mode": "privacyIDEA"}, "realm": ["realm1"]},
            {"name": "bad-action", "scope": "webui", "action": {"nosuchaction": true, "login_mode": "userstore"}}
        ],
        "privacyIDEA_version": "3.13.2"
    })
    .to_string();
    let (ok, out, err) = manage(&app.cfg, &["config", "import"], Some(&text));
    assert!(!ok);
    assert!(
        out.contains("Importing configuration type 'policy'."),
        "{out}"
    );
    assert!(
        err.contains("Version of export (3.13) does not match current privacyIDEA version (3.14)."),
        "{err}"
    );
    assert!(
        err.contains("\"bad-realm\" (Undefined User-realms: ['nosuch']!)"),
        "{err}"
    );
    assert!(
        err.contains("\"bad-action\" (Invalid actions ['nosuchaction']!)"),
        "{err}"
    );
    assert!(err.contains("Successfully imported: ['good']."), "{err}");
    assert!(
        err.contains("Import finished with errors. Failed configuration types: policy."),
        "{err}"
    );
    let names: Vec<Value> = app
        .get("/policy/")
        .expect(200)
        .value()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("good")]);
    // the realm name is normalised as the API does
    assert!(app.get("/realm/").expect(200).value()["realm1"].is_object());
    // --skip-invalid drops the unknown action and keeps the rest
    let (ok, _, err) = manage(
        &app.cfg,
        &[
            "config",
            "import",
            "-t",
            "policy",
            "-n",
            "bad-action",
            "--skip-invalid",
        ],
        Some(&text),
    );
    assert!(ok, "{err}");
    let v = app.get("/policy/bad-action").expect(200).value();
    assert_eq!(v[0]["action"], json!({"login_mode": "userstore"}));
}

#[test]
fn import_formats() {
    let app = spawn_app();
    // a Python literal (privacyIDEA's third accepted format)
    let py = "{'policy': [{'name': 'p1', 'scope': 'webui', 'action': {'login_mode': 'privacyIDEA'}, 'active': True, 'description': None}], 'privacyIDEA_version': '3.14'}";
    let (ok, _, err) = manage(&app.cfg, &["config", "import"], Some(py));
    assert!(ok, "{err}");
    assert_eq!(
        app.get("/policy/p1").expect(200).value()[0]["action"],
        json!({"login_mode": "privacyIDEA"})
    );
    // no version: a warning, the import still runs; unknown types are named
    let (ok, _, err) = manage(
        &app.cfg,
        &["config", "import"],
        Some(r#"{"event": {}, "policy": []}"#),
    );
    assert!(ok, "{err}");
    assert!(
        err.contains("Unable to determine the version of exported data."),
        "{err}"
    );
    assert!(err.contains("Skipping configuration type 'event'"), "{err}");
    // garbage
    let err = manage_err(&app.cfg, &["config", "import"], Some("not a config"));
    assert!(err.contains("Could not determine input format!"), "{err}");
    // a missing file
    let err = manage_err(
        &app.cfg,
        &["config", "import", "-i", "/nonexistent/x.json"],
        None,
    );
    assert!(err.contains("cannot read `/nonexistent/x.json`"), "{err}");
}

#[test]
fn resolver_create_internal() {
    let app = spawn_app();
    let (ok, out, err) = manage(
        &app.cfg,
        &["config", "resolver", "create_internal", "intern1"],
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(out, "", "prints nothing, as privacyIDEA");
    let data = app.get("/resolver/intern1").expect(200).value()["intern1"].clone();
    assert_eq!(data["type"], json!("sqlresolver"));
    assert_eq!(data["data"]["Table"], json!("users_intern1"));
    assert_eq!(data["data"]["Editable"], json!("1"));
    assert_eq!(data["data"]["Limit"], json!("500"));
    // the table exists and the resolver reads it: an empty user list, no
    // skipped resolver
    app.post_json("/realm/internal", &json!({"resolvers": "intern1"}))
        .expect(200);
    let a = app.get("/user/?realm=internal").expect(200);
    assert_eq!(a.value(), json!([]), "{}", a.text);
    assert!(
        a.json()["detail"]["skipped_resolvers"].is_null(),
        "{}",
        a.text
    );
    // again: the existing table is kept
    let (ok, _, err) = manage(
        &app.cfg,
        &["config", "resolver", "create_internal", "intern1"],
        None,
    );
    assert!(ok, "{err}");
    // an invalid name is refused before anything is written
    let err = manage_err(
        &app.cfg,
        &["config", "resolver", "create_internal", "bad name"],
        None,
    );
    assert!(err.contains("Invalid resolver name"), "{err}");
}
