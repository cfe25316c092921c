//! `/policy` over HTTP (spec/policy.md §3; cases §5.1 26–37, §5.2 42–55,
//! spec/policy.md §5.6 120, §5.7 129–136, V15–V26). Expected bodies were checked against
//! privacyIDEA 3.14 request by request; where privacyIDEA answers 500 or
//! loses data we answer 400 / keep it (docs/compatibility.md).

use crate::realm::{form_realm, passwd_resolver, passwords_file, register_node, sqlite_query};
use crate::support::*;
use serde_json::{json, Value};

// ----- helpers -----

fn post(app: &TestApp, name: &str, body: Value) -> Answer {
    app.post_json(&format!("/policy/{name}"), &body)
}

/// Create a policy; panics unless 200.
fn put(app: &TestApp, name: &str, body: Value) -> i64 {
    let v = post(app, name, body).expect(200).value();
    v[format!("setPolicy {name}")].as_i64().expect("id")
}

/// The policy dict of `GET /policy/<name>`.
fn get(app: &TestApp, name: &str) -> Value {
    let v = app.get(&format!("/policy/{name}")).expect(200).value();
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    v[0].clone()
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect()
}

/// Assert a privacyIDEA error envelope.
#[track_caller]
fn err(a: Answer, status: u16, code: i64, message: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    let j = a.json();
    assert_eq!(j["result"]["status"], json!(false), "{}", a.text);
    assert_eq!(j["result"]["error"]["code"], json!(code), "{}", a.text);
    assert_eq!(
        j["result"]["error"]["message"],
        json!(message),
        "{}",
        a.text
    );
    assert_eq!(j["detail"], Value::Null);
}

#[track_caller]
fn bad(a: Answer, message: &str) {
    err(a, 400, 905, &format!("ERR905: {message}"));
}

/// realm1 = {resolver1}, realm2 = {resolver1}.
fn realms(app: &TestApp) {
    passwd_resolver(app, "resolver1", &passwords_file());
    form_realm(app, "realm1", "resolver1");
    form_realm(app, "realm2", "resolver1");
}

fn all(app: &TestApp) -> Value {
    app.get("/policy/").expect(200).value()
}

fn export(app: &TestApp) -> String {
    app.get("/policy/export/pols.txt").expect(200).text
}

fn import_text(app: &TestApp, path: &str, text: &[u8]) -> Answer {
    let part = reqwest::blocking::multipart::Part::bytes(text.to_vec()).file_name("policy.cfg");
    let form = reqwest::blocking::multipart::Form::new().part("file", part);
    app.send(app.client().post(app.url(path)).multipart(form), None)
}

fn import(app: &TestApp, text: &str) -> Answer {
    import_text(app, "/policy/import/policy.cfg", text.as_bytes())
}

/// The full dict of a fresh policy with `overrides`.
fn dict(name: &str, scope: &str, overrides: Value) -> Value {
    let mut d = json!({
        "action": {}, "active": true, "adminrealm": [], "adminuser": [],
        "check_all_resolvers": false, "client": [], "conditions": [], "description": null,
        "name": name, "pinode": [], "priority": 1, "realm": [], "resolver": [],
        "scope": scope, "time": "", "user": [], "user_agents": [],
        "user_case_insensitive": false
    });
    for (k, v) in overrides.as_object().expect("object") {
        d[k] = v.clone();
    }
    d
}

// ----- spec/policy.md §5.1 creation / validation -----

#[test]
fn case_026_name_with_space() {
    let app = spawn_app();
    bad(
        post(
            &app,
            "invalid%20policy%20name",
            json!({"scope": "user", "action": "enable"}),
        ),
        "Policy name must not contain white spaces!",
    );
    // `%2F` is a `/` to the release's router: `/policy/a/b` has no route
    let slash = post(&app, "a%2Fb", json!({"scope": "user", "action": "enable"}));
    assert_eq!(slash.expect(404).json(), json!({"error": "Not found"}));
    bad(
        post(
            &app,
            "pi-update-policy-x",
            json!({"scope": "user", "action": "enable"}),
        ),
        "Invalid policy name: pi-update-policy-x",
    );
    assert_eq!(all(&app), json!([]));
}

#[test]
fn case_027_028_missing_action_and_scope() {
    let app = spawn_app();
    bad(
        app.post_form("/policy/enroll", &[("scope", "authentication")]),
        "Missing parameter: action",
    );
    bad(
        app.post_form(
            "/policy/enroll",
            &[("scope", "authentication"), ("action", "")],
        ),
        "Missing parameter: action",
    );
    bad(
        post(&app, "pol1", json!({"action": "enable"})),
        "Missing parameter: scope",
    );
    assert_eq!(all(&app), json!([]));
}

#[test]
fn case_029_user_scope_without_action() {
    let app = spawn_app();
    assert_eq!(put(&app, "pol1", json!({"scope": "user"})), 1);
    assert_eq!(get(&app, "pol1"), dict("pol1", "user", json!({})));
}

#[test]
fn case_030_post_check_is_the_reserved_name() {
    let app = spawn_app();
    for name in ["check", "CHECK"] {
        bad(
            post(&app, name, json!({"scope": "user", "action": "enable"})),
            &format!("Invalid policy name: {name}"),
        );
    }
}

#[test]
fn case_031_032_admin_realms() {
    let app = spawn_app_with_superuser_realms("['adminrealm']");
    realms(&app);
    for (realm, shown) in [("test", "test"), ("realm1", "realm1")] {
        bad(
            post(
                &app,
                "adm",
                json!({"scope": "user", "action": "enable", "adminrealm": realm}),
            ),
            &format!("Undefined Admin realms: ['{shown}']!"),
        );
    }
    put(
        &app,
        "adm",
        json!({"scope": "admin", "action": "enable, policyread", "adminrealm": "adminrealm"}),
    );
    // the local admin is not in adminrealm: the admin policy locks it out now
    err(
        app.get("/policy/"),
        403,
        303,
        "Admin actions are defined, but the action policyread is not allowed!",
    );
}

#[test]
fn case_033_to_035_invalid_conditions() {
    let app = spawn_app();
    realms(&app);
    let msg = |inner: &str| format!("Invalid condition of policy 'x': ERR905: {inner}");
    let cases: Vec<(Value, String)> =
        vec![
        (
            json!([["userinfo", "type", "equals", "secure"]]),
            "Condition of policy 'x' has 4 values, but should have 5 or 6.".into(),
        ),
        (
            json!([["userinfo", "type", "equals", "secure", true, "raise_error", "x"]]),
            "Condition of policy 'x' has 7 values, but should have 5 or 6.".into(),
        ),
        (
            json!([["userinfo", "type", "equals", 123, false]]),
            msg("Value must be a non-empty string. Got '123' of type '<class 'int'>' instead."),
        ),
        (
            json!([["userinfo", "type", "equals", "x", "true"]]),
            msg("Active must be a boolean. Got 'true' of type '<class 'str'>' instead."),
        ),
        (
            json!([["userinfo", ["type"], "equals", "x", true]]),
            msg("Key must be a non-empty string. Got '['type']' of type '<class 'list'>' instead."),
        ),
        (
            json!([["userinfo", "type", "equals", "x", true, false]]),
            msg("Unknown handle missing data value 'False'!"),
        ),
        (
            json!([["invalid", "type", "equals", "x", false]]),
            msg("Unknown section 'invalid' set in condition."),
        ),
        (
            json!([["userinfo", "type", "random", "x", true]]),
            msg("Unknown comparator 'random'."),
        ),
        (
            json!([["userinfo", "type", "equals", false, true]]),
            msg("Value must be a non-empty string. Got 'False' of type '<class 'bool'>' instead."),
        ),
        (
            json!([["userinfo", "type", "equals", "x", true, "random"]]),
            msg("Unknown handle missing data value 'random'!"),
        ),
        (
            json!([["userinfo", "type", "==", "x", true]]),
            msg("Unknown comparator '=='."),
        ),
    ];
    for (conditions, message) in cases {
        bad(
            post(
                &app,
                "x",
                json!({"scope": "authentication", "action": "otppin=none", "realm": "realm1",
                       "conditions": conditions}),
            ),
            &message,
        );
    }
    // nothing was created
    assert_eq!(all(&app), json!([]));
}

#[test]
fn case_037_rename() {
    let app = spawn_app();
    for n in ["pol_old", "pol_a", "pol_b"] {
        put(&app, n, json!({"scope": "user", "action": "enable"}));
    }
    let a = app
        .patch_json("/policy/pol_old", &json!({"name": "pol_new"}))
        .expect(200);
    assert_eq!(a.value(), json!(1));
    assert_eq!(names(&all(&app)), ["pol_new", "pol_a", "pol_b"]);
    bad(
        app.patch_json("/policy/no_such", &json!({"name": "x"})),
        "Policy does not exist: no_such",
    );
    // refused renames of pol_a: (body, message)
    let invalid_name = "The name of the policy may only contain the characters a-zA-Z0-9_. -";
    for (body, message) in [
        (json!({"name": "pol_b"}), "Policy already exists: pol_b"),
        (json!({}), "Missing parameter: name"),
        (json!({"name": "check"}), "Invalid policy name: check"),
        (json!({"name": "a/b"}), invalid_name),
    ] {
        bad(app.patch_json("/policy/pol_a", &body), message);
    }
    // quirk Q9: a rename may introduce a space
    app.patch_json("/policy/pol_a", &json!({"name": "x10 renamed"}))
        .expect(200);
    assert_eq!(get(&app, "x10%20renamed")["name"], "x10 renamed");
}

// ----- spec/policy.md §5.2 stored representation / update semantics -----

#[test]
fn case_042_flags_priority_description() {
    let app = spawn_app();
    put(
        &app,
        "pol1",
        json!({"scope": "user", "action": "enable", "check_all_resolvers": "true",
               "priority": 3, "description": "my description"}),
    );
    let p = get(&app, "pol1");
    assert_eq!(p["check_all_resolvers"], json!(true));
    assert_eq!(p["priority"], json!(3));
    assert_eq!(p["description"], json!("my description"));
    put(
        &app,
        "pol1",
        json!({"scope": "user", "action": "enable", "check_all_resolvers": "false", "priority": "5"}),
    );
    let p = get(&app, "pol1");
    assert_eq!(p["check_all_resolvers"], json!(false));
    assert_eq!(p["priority"], json!(5));
    assert_eq!(p["description"], Value::Null);
}

/// Admin policies with conditions on the request's headers and environment
/// gate the request they arrive with (the server collects headers only once
/// some policy reads them, so the answer must not depend on that).
#[test]
fn admin_gate_reads_headers_and_environment_only_when_policies_do() {
    let app = spawn_app();
    let with_header = |path: &str, value: &str| {
        app.send(
            app.client().get(app.url(path)).header("X-Client", value),
            None,
        )
    };
    put(
        &app,
        "writer",
        json!({"scope": "admin", "action": "policywrite, policydelete"}),
    );
    // no header condition yet: reads need a matching policyread policy
    app.get("/policy/").expect(403);
    put(
        &app,
        "reader",
        json!({"scope": "admin", "action": "policyread"}),
    );
    app.get("/policy/").expect(200);
    let cond = |section: &str, key: &str, value: &str| {
        json!({"scope": "admin", "action": "policyread",
               "conditions": [[section, key, "equals", value, true, "condition_is_false"]]})
    };
    put(
        &app,
        "reader",
        cond("HTTP Request header", "X-Client", "trusted"),
    );
    app.get("/policy/").expect(403);
    with_header("/policy/", "other").expect(403);
    let listed = with_header("/policy/", "trusted").expect(200).value();
    assert_eq!(names(&listed), ["writer", "reader"]);
    put(
        &app,
        "reader",
        cond("HTTP Environment", "PATH_INFO", "/policy/reader"),
    );
    app.get("/policy/").expect(403);
    assert_eq!(
        app.get("/policy/reader").expect(200).value()[0]["name"],
        "reader"
    );
    // the condition switched off: no policy reads the request any more
    let mut off = cond("HTTP Environment", "PATH_INFO", "/policy/reader");
    off["conditions"][0][4] = json!(false);
    put(&app, "reader", off);
    app.get("/policy/").expect(200);
    with_header("/policy/writer", "x").expect(200);
}

#[test]
fn case_043_pinode_and_edumfanode_alias() {
    let app = spawn_app();
    register_node(&app, "8e4272a9-9037-40df-8aa3-976e4a04b5a9", "Node1");
    put(
        &app,
        "pol1",
        json!({"scope": "user", "action": "enable", "pinode": "Node1"}),
    );
    assert_eq!(get(&app, "pol1")["pinode"], json!(["Node1"]));
    put(
        &app,
        "pol2",
        json!({"scope": "user", "action": "enable", "edumfanode": ["Node1", "testnode"]}),
    );
    assert_eq!(get(&app, "pol2")["pinode"], json!(["Node1", "testnode"]));
    bad(
        post(
            &app,
            "pol3",
            json!({"scope": "user", "action": "enable", "pinode": "Node9"}),
        ),
        "Undefined Privacyidea nodes: ['Node9']!",
    );
}

#[test]
fn case_044_045_user_case_insensitive_and_active() {
    let app = spawn_app();
    put(
        &app,
        "pol1",
        json!({"scope": "user", "action": "enable", "user_case_insensitive": "true"}),
    );
    assert_eq!(get(&app, "pol1")["user_case_insensitive"], json!(true));
    put(
        &app,
        "pol1",
        json!({"scope": "user", "action": "enable", "active": false}),
    );
    let p = get(&app, "pol1");
    assert_eq!(p["active"], json!(false));
    assert_eq!(p["user_case_insensitive"], json!(false));
    put(
        &app,
        "pol1",
        json!({"scope": "user", "action": "enable", "active": "true"}),
    );
    assert_eq!(get(&app, "pol1")["active"], json!(true));
}

#[test]
fn case_046_to_048_conditions_replace_semantics() {
    let app = spawn_app();
    realms(&app);
    let c = |v: &str| json!(["userinfo", "type", "equals", v, true]);
    put(
        &app,
        "cond1",
        json!({"scope": "authentication", "action": "otppin=none", "realm": "realm1",
               "conditions": [c("a"), c("b"), ["HTTP Request header", "User-Agent", "matches", ".*", false, null]]}),
    );
    let p = get(&app, "cond1");
    // case 136: a list; realm; three six-element conditions
    assert_eq!(p["realm"], json!(["realm1"]));
    assert_eq!(
        p["conditions"],
        json!([
            ["userinfo", "type", "equals", "a", true, "raise_error"],
            ["userinfo", "type", "equals", "b", true, "raise_error"],
            [
                "HTTP Request header",
                "User-Agent",
                "matches",
                ".*",
                false,
                "raise_error"
            ]
        ])
    );
    // omitted: kept
    put(
        &app,
        "cond1",
        json!({"scope": "authentication", "action": "otppin=none"}),
    );
    assert_eq!(
        get(&app, "cond1")["conditions"].as_array().unwrap().len(),
        3
    );
    // null: kept
    put(
        &app,
        "cond1",
        json!({"scope": "authentication", "action": "otppin=none", "conditions": null}),
    );
    assert_eq!(
        get(&app, "cond1")["conditions"].as_array().unwrap().len(),
        3
    );
    // two new ones replace all (case 47)
    put(
        &app,
        "cond1",
        json!({"scope": "authentication", "action": "otppin=none",
               "conditions": [c("x"), ["userinfo", "groups", "contains", "b", true, "condition_is_false"]]}),
    );
    assert_eq!(
        get(&app, "cond1")["conditions"],
        json!([
            ["userinfo", "type", "equals", "x", true, "raise_error"],
            [
                "userinfo",
                "groups",
                "contains",
                "b",
                true,
                "condition_is_false"
            ]
        ])
    );
    put(
        &app,
        "cond1",
        json!({"scope": "authentication", "action": "otppin=none", "conditions": []}),
    );
    assert_eq!(get(&app, "cond1")["conditions"], json!([]));
}

#[test]
fn case_049_user_agents() {
    let app = spawn_app();
    put(
        &app,
        "p",
        json!({"scope": "authentication", "action": "otppin=none", "user_agents": "PAM, , privacyidea-cp "}),
    );
    assert_eq!(
        get(&app, "p")["user_agents"],
        json!(["PAM", "privacyidea-cp"])
    );
    put(
        &app,
        "p",
        json!({"scope": "authentication", "action": "otppin=none", "user_agents": ""}),
    );
    assert_eq!(get(&app, "p")["user_agents"], json!([]));
}

#[test]
fn case_050_to_052_client_update_enable_disable() {
    let app = spawn_app();
    let id = put(
        &app,
        "pol2",
        json!({"scope": "user", "action": "enable", "client": "127.12.12.12"}),
    );
    put(
        &app,
        "pol2",
        json!({"scope": "user", "action": "enable", "client": "1.1.1.1"}),
    );
    assert_eq!(get(&app, "pol2")["client"], json!(["1.1.1.1"]));
    let a = app
        .post_json("/policy/disable/pol2", &json!({}))
        .expect(200);
    assert_eq!(a.value(), json!(id));
    let p = get(&app, "pol2");
    assert_eq!(p["active"], json!(false));
    assert_eq!(p["client"], json!(["1.1.1.1"]));
    // idempotent
    app.post_json("/policy/disable/pol2", &json!({}))
        .expect(200);
    let a = app.post_json("/policy/enable/pol2", &json!({})).expect(200);
    assert_eq!(a.value(), json!(id));
    let p = get(&app, "pol2");
    assert_eq!(p["active"], json!(true));
    assert_eq!(p["client"], json!(["1.1.1.1"]));
    for path in ["/policy/enable/nope", "/policy/disable/nope"] {
        err(
            app.post_json(path, &json!({})),
            404,
            601,
            "The policy with name 'nope' does not exist",
        );
    }
}

#[test]
fn case_053_to_055_delete() {
    let app = spawn_app();
    for n in ["pol1", "pol2", "pol3", "pol4", "pol5"] {
        put(
            &app,
            n,
            json!({"scope": "user", "action": "enable", "description": n}),
        );
    }
    assert_eq!(sqlite_query(&app, "SELECT count(*) FROM description"), "5");
    let a = app.delete("/policy/pol4").expect(200);
    assert_eq!(a.value(), json!(4));
    assert_eq!(sqlite_query(&app, "SELECT count(*) FROM description"), "4");
    // case 54: wan1, wan3 (missing), wan2
    app.delete("/policy/pol1").expect(200);
    err(
        app.delete("/policy/pol6"),
        404,
        601,
        "The requested Policy could not be found.",
    );
    app.delete("/policy/pol2").expect(200);
    assert_eq!(names(&all(&app)), ["pol3", "pol5"]);
    // case 55: twice
    app.delete("/policy/pol3").expect(200);
    err(
        app.delete("/policy/pol3"),
        404,
        601,
        "The requested Policy could not be found.",
    );
}

// ----- spec/policy.md §5.6 / V22: /policy/check -----

#[test]
fn case_v22_check() {
    let app = spawn_app();
    realms(&app);
    put(
        &app,
        "pol_a",
        json!({"scope": "authentication", "action": "otppin=none", "realm": "realm1",
               "user": "*, -bob", "client": "10.0.0.0/8, -10.0.0.1"}),
    );
    put(
        &app,
        "pol_b",
        json!({"scope": "authentication", "action": "otppin=none", "realm": "realm1, realm2",
               "user_agents": "PAM"}),
    );
    put(
        &app,
        "polc",
        json!({"scope": "authentication", "action": "otppin=none"}),
    );
    let check = |q: &str, ua: Option<&str>| {
        let mut rb = app.client().get(app.url(&format!("/policy/check?{q}")));
        if let Some(ua) = ua {
            rb = rb.header("User-Agent", ua);
        }
        app.send(rb, None).expect(200).value()
    };
    let v = check(
        "user=alice&realm=realm1&scope=authentication&action=otppin&client=10.1.2.3",
        None,
    );
    assert_eq!(v["allowed"], json!(true));
    assert_eq!(names(&v["policy"]), ["pol_a", "polc"]);
    assert_eq!(v["policy"][1], get(&app, "polc"));
    let v = check(
        "user=bob&realm=realm1&scope=authentication&action=otppin&client=10.1.2.3",
        None,
    );
    assert_eq!(names(&v["policy"]), ["polc"]);
    let v = check(
        "user=alice&realm=realm2&scope=authentication&action=otppin&client=10.1.2.3",
        Some("PAM/1.0"),
    );
    assert_eq!(names(&v["policy"]), ["pol_b", "polc"]);
    // parameter names are case-insensitive on GET
    let v = check(
        "User=alice&REALM=realm2&Scope=authentication&Action=otppin",
        Some("PAM/1.0"),
    );
    assert_eq!(names(&v["policy"]), ["pol_b", "polc"]);
    // no match
    let v = check("user=alice&realm=realm1&scope=admin&action=enable", None);
    assert_eq!(v, json!({"allowed": false, "info": "No policies found"}));
    // caller IP (127.0.0.1) is the default client: pol_a does not match
    let v = check(
        "user=alice&realm=realm1&scope=authentication&action=otppin",
        None,
    );
    assert_eq!(names(&v["policy"]), ["polc"]);
    // explain
    let v = check(
        "user=bob&realm=realm1&scope=authentication&action=otppin&client=10.1.2.3&explain=1",
        None,
    );
    assert_eq!(v["explain"]["matched"], json!(["polc"]));
    let entries = v["explain"]["policies"].as_array().unwrap();
    let pol_a = entries.iter().find(|e| e["name"] == "pol_a").unwrap();
    assert_eq!(pol_a["outcome"], "excluded");
    assert_eq!(pol_a["attribute"], "user");
    // required parameters, in privacyIDEA's order
    for (q, missing) in [
        ("realm=r&scope=s&action=a", "user"),
        ("user=u&scope=s&action=a", "realm"),
        ("user=u&realm=r&action=a", "scope"),
        ("user=u&realm=r&scope=s", "action"),
    ] {
        bad(
            app.get(&format!("/policy/check?{q}")),
            &format!("Missing parameter: {missing}"),
        );
    }
    bad(
        app.get("/policy/check?user=u&realm=realm1&scope=authentication&action=otppin&client="),
        "client argument must be a non-empty string",
    );
    // privacyIDEA: AddrFormatError (500); here a clean 400
    let a =
        app.get("/policy/check?user=u&realm=realm1&scope=authentication&action=otppin&client=abc");
    assert_eq!(a.status, 400, "{}", a.text);
}

#[test]
fn case_120_check_uses_the_callers_user_agent() {
    let app = spawn_app();
    put(
        &app,
        "ua",
        json!({"scope": "user", "action": "enrollpin", "user_agents": "privacyIDEA-WebUI"}),
    );
    let check = |ua: &str| {
        app.send(
            app.client()
                .get(app.url("/policy/check?user=u&realm=r&scope=user&action=enrollpin"))
                .header("User-Agent", ua),
            None,
        )
        .expect(200)
        .value()["allowed"]
            .clone()
    };
    assert_eq!(check("privacyIDEA-WebUI/3.14"), json!(true));
    assert_eq!(check("privacyIDEA-CP/1.0"), json!(false));
}

#[test]
fn check_condition_errors_and_request_data() {
    let app = spawn_app();
    put(
        &app,
        "cond",
        json!({"scope": "authentication", "action": "otppin=none",
               "conditions": [["Request Data", "flavour", "equals", "mint", true]]}),
    );
    let a = app.get("/policy/check?user=u&realm=r&scope=authentication&action=otppin&flavour=mint");
    assert_eq!(names(&a.expect(200).value()["policy"]), ["cond"]);
    let a = app.get("/policy/check?user=u&realm=r&scope=authentication&action=otppin&flavour=x");
    assert_eq!(a.expect(200).value()["allowed"], json!(false));
    err(
        app.get("/policy/check?user=u&realm=r&scope=authentication&action=otppin"),
        403,
        303,
        "Unknown Request Data key 'flavour' referenced in condition of policy 'cond'!",
    );
}

// ----- spec/policy.md §5.7 API shape -----

#[test]
fn case_129_130_empty_list_and_export() {
    let app = spawn_app();
    assert_eq!(all(&app), json!([]));
    let a = app.get("/policy/export/pols.txt").expect(200);
    assert_eq!(a.text, "");
    assert_eq!(
        a.headers["content-type"].to_str().unwrap(),
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        a.headers["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"pols.txt\""
    );
    put(
        &app,
        "hide_welcome",
        json!({"scope": "webui", "action": "hide_welcome_info", "client": "10.1.2.3"}),
    );
    assert!(export(&app).contains("[hide_welcome]\n"));
    // a sanitised file name
    let a = app.get("/policy/export/..%5Cp%C3%B6l%22x.cfg").expect(200);
    assert_eq!(
        a.headers["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"..p_l_x.cfg\"; filename*=UTF-8''..p%C3%B6l%22x.cfg"
    );
}

#[test]
fn case_131_132_create_get_export() {
    let app = spawn_app();
    realms(&app);
    let a = app
        .post_json(
            "/policy/pol1",
            &json!({"scope": "user", "action": "enable", "realm": "realm1", "resolver": "resolver1",
                    "user": ["admin"], "time": "", "client": "127.12.12.12", "active": true}),
        )
        .expect(200);
    assert_eq!(a.value(), json!({"setPolicy pol1": 1}));
    let j = a.json();
    assert_eq!(j["jsonrpc"], "2.0");
    assert_eq!(j["id"], 1);
    assert_eq!(j["versionnumber"], "3.14");
    assert_eq!(
        get(&app, "pol1"),
        dict(
            "pol1",
            "user",
            json!({"action": {"enable": true}, "realm": ["realm1"], "resolver": ["resolver1"],
                   "user": ["admin"], "client": ["127.12.12.12"]})
        )
    );
    let text = export(&app);
    assert!(
        text.contains("[pol1]\n") && text.contains("name = pol1\n"),
        "{text}"
    );
    // unknown name: [] with 200
    assert_eq!(app.get("/policy/nope").expect(200).value(), json!([]));
}

#[test]
fn case_133_import_privacyideas_test_file() {
    let app = spawn_app();
    // importpol1 is an admin policy: keep the admin's policy rights
    app.put_admin_policy("grant", "policyread, policywrite, policydelete", "admin");
    let text = "[importpol1]\nname = importpol1\nscope = admin\nactive = True\nrealm = []\naction = {\"enable\": True}\n\n[importpol2]\nscope = enrollment\naction = {\"change_pin_on_first_use\": True}\n";
    let a = import(&app, text).expect(200);
    assert_eq!(a.value(), json!(2));
    assert_eq!(get(&app, "importpol1")["action"], json!({"enable": true}));
    assert_eq!(
        get(&app, "importpol2")["action"],
        json!({"change_pin_on_first_use": true})
    );
    bad(import(&app, ""), "Error loading policy. File empty!");
    bad(
        import_text(&app, "/policy/import/x.bin", &[0xff, 0xfe, 0x00, 0x80]),
        "Unable to convert file contents. Binary data is not supported",
    );
    // no `file` part / not multipart
    let form = reqwest::blocking::multipart::Form::new().text("other", "x");
    bad(
        app.send(
            app.client()
                .post(app.url("/policy/import/x"))
                .multipart(form),
            None,
        ),
        "Missing parameter: file",
    );
    bad(
        app.post_json("/policy/import/x", &json!({"file": "x"})),
        "Missing parameter: file",
    );
}

#[test]
fn case_134_135_defs() {
    let app = spawn_app();
    realms(&app);
    let all_defs = app.get("/policy/defs").expect(200).value();
    for a in ["enable", "enrollTOTP", "enrollHOTP", "enrollPW"] {
        assert!(all_defs["admin"][a].is_object(), "{a}");
    }
    assert!(all_defs.get("audit").is_none());
    assert!(all_defs["conditional_access"].is_object());
    let admin = app.get("/policy/defs/admin").expect(200).value();
    assert_eq!(admin, all_defs["admin"]);
    assert_eq!(
        admin["enable"],
        json!({"type": "bool", "desc": "The administrator may enable tokens.", "group": "token", "mainmenu": ["tokens"]})
    );
    assert_eq!(admin["hotp_otplen"]["value"], json!([6, 8]));
    assert_eq!(admin["resolverread"]["   mainmenu"], json!(["config"]));
    assert!(admin["resolverread"].get("mainmenu").is_none());
    // runtime values: the configured realms and resolvers
    let register = app.get("/policy/defs/register").expect(200).value();
    assert_eq!(register["realm"]["value"], json!(["realm1", "realm2"]));
    assert_eq!(register["resolver"]["value"], json!(["resolver1"]));
    assert_eq!(
        app.get("/policy/defs/audit").expect(200).value(),
        Value::Null
    );
    assert_eq!(
        app.get("/policy/defs/nope").expect(200).value(),
        Value::Null
    );
    let c = app.get("/policy/defs/conditions").expect(200).value();
    assert!(c["sections"]["userinfo"]["description"].is_string());
    assert!(c["comparators"]["contains"]["description"].is_string());
    assert_eq!(
        c["handle_missing_data"]["raise_error"]["display_value"],
        "Raise an error"
    );
    register_node(&app, "8e4272a9-9037-40df-8aa3-976e4a04b5a9", "Node1");
    register_node(&app, "d1d7fde6-330f-4c12-88f3-58a1752594bf", "Node2");
    let nodes = app.get("/policy/defs/pinodes").expect(200).value();
    for n in ["Node1", "Node2", "testnode"] {
        assert!(nodes.as_array().unwrap().contains(&json!(n)), "{nodes}");
    }
    assert_eq!(
        app.get("/policy/defs/edumfanodes").expect(200).value(),
        nodes
    );
}

#[test]
fn static_routes_take_precedence() {
    let app = spawn_app();
    // a policy named `defs` can be created but GET /policy/defs is the catalogue
    put(&app, "defs", json!({"scope": "user", "action": "enable"}));
    assert!(app.get("/policy/defs").expect(200).value()["admin"].is_object());
    // a policy named `enable` is reachable by GET /policy/enable
    put(&app, "enable", json!({"scope": "user", "action": "enable"}));
    assert_eq!(get(&app, "enable")["name"], "enable");
    err(
        app.get("/policy/enable/x"),
        405,
        -405,
        "The method GET is not allowed for the requested URL.",
    );
    assert_eq!(app.delete("/policy/defs").expect(200).value(), json!(1));
    assert_eq!(names(&all(&app)), ["enable"]);
}

// ----- GET filters -----

#[test]
fn list_filters_like_privacyidea() {
    let app = spawn_app();
    realms(&app);
    put(
        &app,
        "pol_a",
        json!({"scope": "user", "action": "enable", "realm": "realm1"}),
    );
    put(
        &app,
        "pol_b",
        json!({"scope": "user", "action": "enable", "realm": "realm1, realm2", "active": false}),
    );
    put(
        &app,
        "polc",
        json!({"scope": "authentication", "action": "otppin=none"}),
    );
    put(
        &app,
        "other",
        json!({"scope": "enrollment", "action": "max_token_per_user=3"}),
    );
    let q = |query: &str| names(&app.get(&format!("/policy/{query}")).expect(200).value());
    assert_eq!(q("pol*"), ["pol_a", "pol_b", "polc"]);
    assert_eq!(q("POL_*"), ["pol_a", "pol_b"]);
    assert_eq!(q("pol_a"), ["pol_a"]);
    assert_eq!(q("?realm=realm1"), ["pol_a"]);
    assert_eq!(q("?realm=realm1,%20realm2"), ["pol_b"]);
    assert_eq!(q("?realm=*realm2*"), ["pol_b"]);
    assert_eq!(q("?Scope=user"), ["pol_a", "pol_b"]);
    assert_eq!(q("?scope=*U*"), ["pol_a", "pol_b", "polc"]);
    assert_eq!(q("?active=1"), ["pol_a", "polc", "other"]);
    assert_eq!(q("?active=false"), ["pol_b"]);
    assert_eq!(q("?active=yes"), ["pol_b"]);
    assert_eq!(q("pol*?scope=user&active=true"), ["pol_a"]);
}

// ----- V15/V16: the admin-policy gate -----

#[test]
fn case_v15_policyread_denied() {
    let app = spawn_app();
    app.put_admin_policy("other", "policyread", "someoneelse");
    let msg = |a: &str| format!("Admin actions are defined, but the action {a} is not allowed!");
    err(app.get("/policy/"), 403, 303, &msg("policyread"));
    err(app.get("/policy/x"), 403, 303, &msg("policyread"));
    err(app.get("/policy/defs"), 403, 303, &msg("policyread"));
    err(
        app.get("/policy/check?user=u&realm=r&scope=admin&action=enable"),
        403,
        303,
        &msg("policyread"),
    );
    err(
        app.get("/policy/export/x.cfg"),
        403,
        303,
        &msg("policyread"),
    );
    err(
        post(&app, "x", json!({"scope": "user", "action": "enable"})),
        403,
        303,
        &msg("policywrite"),
    );
    err(
        app.post_json("/policy/enable/other", &json!({})),
        403,
        303,
        &msg("policywrite"),
    );
    err(
        app.patch_json("/policy/other", &json!({"name": "y"})),
        403,
        303,
        &msg("policywrite"),
    );
    err(import(&app, "[a]\n"), 403, 303, &msg("policywrite"));
    err(app.delete("/policy/other"), 403, 303, &msg("policydelete"));
    // POST /policy/check: the gate answers before the name check
    err(
        post(&app, "check", json!({})),
        403,
        303,
        &msg("policywrite"),
    );
}

#[test]
fn case_v16_realm_restricted_admin() {
    let mut app = spawn_app();
    realms(&app);
    put(
        &app,
        "admin_all",
        json!({"scope": "admin", "action": "policyread, policywrite, policydelete", "adminuser": "admin"}),
    );
    put(
        &app,
        "realmadmin_pol",
        json!({"scope": "admin", "action": "policyread, policywrite", "adminuser": "realmadmin",
               "realm": "realm1"}),
    );
    let token = app.add_admin("realmadmin", "Realm-admin-pw1");
    app.set_token(Some(token));
    let body = |realm: Value| {
        let mut b = json!({"scope": "authentication", "action": "otppin=none"});
        if !realm.is_null() {
            b["realm"] = realm;
        }
        b
    };
    post(&app, "p1", body(json!("realm1"))).expect(200);
    post(&app, "p1b", body(json!(["realm1"]))).expect(200);
    err(
        post(&app, "p2", body(json!("realm2"))),
        403,
        303,
        "Admin actions are defined, but the action policywrite is not allowed!",
    );
    // quirk Q10: no realm → the realm filter is skipped
    post(&app, "p3", body(Value::Null)).expect(200);
    app.get("/policy/").expect(200);
    app.get("/policy/?realm=realm1").expect(200);
    err(
        app.get("/policy/?realm=realm2"),
        403,
        303,
        "Admin actions are defined, but the action policyread is not allowed!",
    );
    err(
        app.delete("/policy/p1"),
        403,
        303,
        "Admin actions are defined, but the action policydelete is not allowed!",
    );
    app.set_token(None);
    err(
        app.get("/policy/"),
        401,
        4033,
        "Authentication failure. Missing Authorization header.",
    );
    app.set_token(Some(user_token("cornelius", "realm1")));
    err(
        app.get("/policy/"),
        401,
        4306,
        "Authentication failure. You do not have the necessary role (['admin']) to access this resource!",
    );
}

// ----- V17–V24 -----

#[test]
fn case_v17_priority_not_an_integer() {
    let app = spawn_app();
    // privacyIDEA: unhandled ValueError (500); here 400
    bad(
        post(
            &app,
            "x",
            json!({"scope": "user", "action": "enable", "priority": "abc"}),
        ),
        "Priority must be an integer, got abc",
    );
    bad(
        post(
            &app,
            "x",
            json!({"scope": "user", "action": "enable", "priority": 0}),
        ),
        "Priority must be at least 1",
    );
    // invalid regular expression (privacyIDEA stores it and fails at match time)
    let a = post(
        &app,
        "x",
        json!({"scope": "user", "action": "enable", "user": "*admin"}),
    );
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.code(), 905);
    assert_eq!(all(&app), json!([]));
}

#[test]
fn case_v18_repeated_form_field() {
    let app = spawn_app();
    realms(&app);
    let a = app.send(
        app.client()
            .post(app.url("/policy/p"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("scope=user&action=enable&realm=realm1&realm=realm2"),
        None,
    );
    a.expect(200);
    assert_eq!(get(&app, "p")["realm"], json!(["realm1"]));
}

#[test]
fn case_v19_v20_action_forms() {
    let app = spawn_app();
    put(
        &app,
        "v19",
        json!({"scope": "authentication",
               "action": {"otppin": "none", "passthru": true, "challenge_response": "hotp totp"}}),
    );
    assert_eq!(
        get(&app, "v19")["action"],
        json!({"challenge_response": "hotp totp", "otppin": "none", "passthru": true})
    );
    app.post_form(
        "/policy/v20",
        &[
            ("scope", "authentication"),
            ("action", "challenge_text=Hello\\, world, otppin=none"),
        ],
    )
    .expect(200);
    assert_eq!(
        get(&app, "v20")["action"],
        json!({"challenge_text": "Hello\\, world", "otppin": "none"})
    );
    put(
        &app,
        "list",
        json!({"scope": "user", "action": ["enable", "disable"]}),
    );
    assert_eq!(
        get(&app, "list")["action"],
        json!({"disable": true, "enable": true})
    );
    bad(
        post(
            &app,
            "x",
            json!({"scope": "admin", "action": "enable, i_am_invalid"}),
        ),
        "Invalid actions ['i_am_invalid']!",
    );
    err(
        post(
            &app,
            "x",
            json!({"scope": "authentication", "action": "otppin=none", "client": "10.1.2.3.4"}),
        ),
        400,
        302,
        "ERR302: Invalid client definition!",
    );
    bad(
        post(
            &app,
            "x",
            json!({"scope": "user", "action": "enable", "time": "Mon: 9-24"}),
        ),
        "Invalid time format 'Mon: 9-24'!",
    );
    bad(
        post(&app, "x", json!({"scope": "nope", "action": "enable"})),
        "Invalid scope 'nope' in policy 'x'!",
    );
    bad(
        post(
            &app,
            "x",
            json!({"scope": "user", "action": "enable", "realm": "nope"}),
        ),
        "Undefined User-realms: ['nope']!",
    );
    bad(
        post(
            &app,
            "x",
            json!({"scope": "user", "action": "enable", "resolver": "nope"}),
        ),
        "Undefined Resolvers: ['nope']!",
    );
    bad(
        post(
            &app,
            "x",
            json!({"scope": "webui", "action": "realm_dropdown=- nope"}),
        ),
        "Invalid value for action 'realm_dropdown': The following realms do not exist: ['nope']!",
    );
}

#[test]
fn case_v21_repost_resets() {
    let app = spawn_app();
    put(
        &app,
        "pol1",
        json!({"scope": "user", "action": "enable", "priority": 4, "description": "d",
               "check_all_resolvers": true, "user_case_insensitive": true, "active": false,
               "user": "hans", "client": "10.0.0.0/8", "time": "Mon: 9-18"}),
    );
    put(&app, "pol1", json!({"scope": "user", "action": "disable"}));
    assert_eq!(
        get(&app, "pol1"),
        dict(
            "pol1",
            "user",
            json!({"action": {"disable": true}, "user": ["hans"], "client": ["10.0.0.0/8"],
                   "time": "Mon: 9-18"})
        )
    );
}

#[test]
fn case_v24_audit_scope_has_no_actions() {
    let app = spawn_app();
    bad(
        post(&app, "x", json!({"scope": "audit", "action": "enable"})),
        "Invalid actions ['enable']!",
    );
    put(
        &app,
        "ca",
        json!({"scope": "conditional_access", "action": "show_default_ca_error_message"}),
    );
}

// ----- V25/V26, import/export round trips -----

/// privacyIDEA 3.14's own export of policies it cannot import itself.
const PI_EXPORT: &str = "[m1]
name = m1
user_case_insensitive = False
active = False
scope = admin
realm = ['realm1', 'realm2']
adminrealm = []
adminuser = ['admin', 'x']
resolver = []
pinode = []
check_all_resolvers = True
user = ['a', 'b']
client = ['10.0.0.0/8', '-10.0.0.1']
time = Mon-Fri: 9-18, Sat: 10-12
conditions = [('userinfo', 'type', 'equals', 'x', True, 'raise_error'), ('Request Data', 'k', 'in', 'a, b', False, 'condition_is_true')]
priority = 3
description = d1, with comma
user_agents = ['PAM', 'privacyidea-cp']
action = {'enable': True, 'disable': True, 'policyread': True, 'policywrite': True, 'policydelete': True}

";

#[test]
fn case_v25_import_privacyideas_multi_value_export() {
    let app = spawn_app();
    realms(&app);
    let a = import(&app, PI_EXPORT).expect(200);
    assert_eq!(a.value(), json!(1));
    assert_eq!(
        get(&app, "m1"),
        dict(
            "m1",
            "admin",
            json!({
                "action": {"enable": true, "disable": true, "policyread": true,
                           "policywrite": true, "policydelete": true},
                "active": false, "realm": ["realm1", "realm2"], "adminuser": ["admin", "x"],
                "check_all_resolvers": true, "user": ["a", "b"],
                "client": ["10.0.0.0/8", "-10.0.0.1"], "time": "Mon-Fri: 9-18, Sat: 10-12",
                "conditions": [["userinfo", "type", "equals", "x", true, "raise_error"],
                               ["Request Data", "k", "in", "a, b", false, "condition_is_true"]],
                "priority": 3, "description": "d1, with comma",
                "user_agents": ["PAM", "privacyidea-cp"]
            })
        )
    );
    // the stored action keeps the file's order
    assert!(export(&app).contains(
        "action = \"{'enable': True, 'disable': True, 'policyread': True, 'policywrite': True, 'policydelete': True}\"\n"
    ));
}

#[test]
fn case_v26_import_keeps_every_field() {
    let app = spawn_app();
    realms(&app);
    let text = "[imp1]\nscope = authentication\naction = {'otppin': 'none'}\nrealm = ['realm1']\npriority = 3\nactive = False\nadminuser = ['x']\n";
    assert_eq!(import(&app, text).expect(200).value(), json!(1));
    // privacyIDEA: active true, adminuser []; here both are kept
    assert_eq!(
        get(&app, "imp1"),
        dict(
            "imp1",
            "authentication",
            json!({"action": {"otppin": "none"}, "realm": ["realm1"], "priority": 3,
                   "active": false, "adminuser": ["x"]})
        )
    );
}

#[test]
fn export_import_export_is_byte_identical() {
    let app = spawn_app();
    realms(&app);
    register_node(&app, "8e4272a9-9037-40df-8aa3-976e4a04b5a9", "Node1");
    put(
        &app,
        "rich",
        json!({"scope": "authentication",
               "action": "otppin=none, passthru, challenge_text=Hello\\, world #1, challenge_response=hotp totp",
               "realm": "realm1, realm2", "resolver": ["resolver1"], "pinode": "Node1",
               "user": ["o'brien", "say \"hi\"", "*"], "client": "10.0.0.0/8, !10.0.0.1",
               "time": "Mon-Fri: 9-18, Sat: 10-12", "priority": 7, "active": false,
               "check_all_resolvers": true, "user_case_insensitive": true,
               "description": "  spaced, \"quoted\" and 'single' # not a comment\nsecond line",
               "user_agents": "PAM, privacyidea-cp",
               "conditions": [["userinfo", "type", "equals", "a, b # c", true, "condition_is_false"],
                              ["HTTP Request header", "X-Foo", "matches", "'q'", false]]}),
    );
    put(
        &app,
        "plain",
        json!({"scope": "user", "action": "enable", "description": "None"}),
    );
    put(
        &app,
        "empty_desc",
        json!({"scope": "user", "description": ""}),
    );
    let before = all(&app);
    let first = export(&app);
    assert!(first.contains("description = \"None\"\n"), "{first}");
    for n in ["rich", "plain", "empty_desc"] {
        app.delete(&format!("/policy/{n}")).expect(200);
    }
    assert_eq!(import(&app, &first).expect(200).value(), json!(3));
    let second = export(&app);
    assert_eq!(first, second);
    // every field survived (ids aside)
    let strip = |v: &Value| v.clone();
    assert_eq!(strip(&all(&app)), strip(&before));
    // importing the same file again changes nothing
    let dry = app
        .send(
            app.client()
                .post(app.url("/policy/import/x.cfg?dry_run=1"))
                .multipart(
                    reqwest::blocking::multipart::Form::new().part(
                        "file",
                        reqwest::blocking::multipart::Part::bytes(first.clone().into_bytes())
                            .file_name("x.cfg"),
                    ),
                ),
            None,
        )
        .expect(200);
    // The file lists the policies in the load order (condition-less ones
    // first on SQLite, last on PostgreSQL); the answer follows the file.
    let mut in_file: Vec<(usize, &str)> = ["rich", "plain", "empty_desc"]
        .into_iter()
        .map(|n| (first.find(&format!("[{n}]")).unwrap(), n))
        .collect();
    in_file.sort();
    let names: Vec<&str> = in_file.into_iter().map(|(_, n)| n).collect();
    assert_eq!(
        dry.value(),
        json!({"created": [], "changed": [], "unchanged": names})
    );
}

#[test]
fn import_is_atomic_and_dry_run_writes_nothing() {
    let app = spawn_app();
    put(
        &app,
        "keep",
        json!({"scope": "user", "action": "enable", "priority": 2}),
    );
    let text = "[keep]\nscope = user\naction = {'disable': True}\n\n[new1]\nscope = user\naction = {'enable': True}\n\n[broken]\nscope = user\naction = {'no_such_action': True}\n";
    bad(import(&app, text), "Invalid actions ['no_such_action']!");
    assert_eq!(names(&all(&app)), ["keep"]);
    assert_eq!(get(&app, "keep")["priority"], json!(2));
    let ok_text = text.replace("no_such_action", "delete");
    let a = import_text(&app, "/policy/import/x.cfg?dry_run=1", ok_text.as_bytes()).expect(200);
    assert_eq!(
        a.value(),
        json!({"created": ["new1", "broken"], "changed": ["keep"], "unchanged": []})
    );
    assert_eq!(names(&all(&app)), ["keep"]);
    assert_eq!(import(&app, &ok_text).expect(200).value(), json!(3));
    assert_eq!(names(&all(&app)), ["keep", "new1", "broken"]);
    assert_eq!(get(&app, "keep")["action"], json!({"disable": true}));
    // conditions not in the file are kept; the rest is reset like privacyIDEA's import
    put(
        &app,
        "c",
        json!({"scope": "user", "action": "enable", "user": "hans",
               "conditions": [["userinfo", "type", "equals", "x", true]]}),
    );
    import(&app, "[c]\nscope = user\naction = {'enable': True}\n").expect(200);
    let c = get(&app, "c");
    assert_eq!(c["conditions"].as_array().unwrap().len(), 1);
    assert_eq!(c["user"], json!([]));
}

#[test]
fn import_errors_are_clean_400s() {
    let app = spawn_app();
    for (text, message) in [
        (
            "[a]\nscope = admin\njunk line\n",
            "Error loading policy file: Invalid line ('junk line') (matched as neither section nor keyword) at line 3.",
        ),
        (
            "[a]\nscope = admin\n[a]\n",
            "Error loading policy file: Duplicate section name at line 3.",
        ),
        (
            "scope = admin\n",
            "Error loading policy file: The line 1 (`scope = admin`) is not inside a [section].",
        ),
        (
            "[a]\nscope = admin\naction = {'enable': \n",
            "Policy 'a': the value of 'action' at line 3 is not a Python literal (unexpected end of text).",
        ),
        ("[a]\nscope = admin\n", "Missing parameter: action"),
        (
            "[a b]\nscope = admin\naction = {'enable': True}\n",
            "Policy name must not contain white spaces!",
        ),
        (
            "[a]\nscope = admin\naction = {'enable': True}\npriority = x\n",
            "Priority must be an integer, got x",
        ),
    ] {
        bad(import(&app, text), message);
    }
    assert_eq!(all(&app), json!([]));
    // a file with comments only imports nothing
    assert_eq!(import(&app, "# nothing\n").expect(200).value(), json!(0));
}

#[test]
fn writes_are_seen_by_the_next_read() {
    let app = spawn_app();
    for i in 0..20 {
        put(
            &app,
            &format!("p{i}"),
            json!({"scope": "user", "action": "enable"}),
        );
        assert_eq!(all(&app).as_array().unwrap().len(), i + 1);
    }
    // a write by another node (directly into the database) is seen too
    app.put_admin_policy("from_db", "policyread, policywrite, policydelete", "admin");
    assert_eq!(get(&app, "from_db")["adminuser"], json!(["admin"]));
}

/// A policy write is applied to the in-memory snapshot without a reload; what
/// it serves must equal what a full reload from the database gives.
#[test]
fn applied_write_equals_reloaded_state() {
    let app = spawn_app();
    let bodies = [
        (
            "pa",
            json!({"scope": "authentication", "action": {"otppin": "none", "passthru": true}, "user": "a, b", "priority": 3, "description": "d", "client": "10.0.0.0/8, -10.0.0.1"}),
        ),
        (
            "pb",
            json!({"scope": "admin", "action": "enable, disable, policyread, policywrite", "adminuser": "admin, x", "user_case_insensitive": "true"}),
        ),
        (
            "pc",
            json!({"scope": "webui", "action": "logout_time=30", "conditions": [["HTTP Request header", "User-Agent", "equals", "App", true, "condition_is_false"]], "user_agents": "PAM, , cp", "active": false}),
        ),
        ("pd", json!({"scope": "user", "time": "Mon-Fri: 9-18"})),
    ];
    for (name, body) in &bodies {
        app.post_json(&format!("/policy/{name}"), body).expect(200);
    }
    // update one policy without conditions: the stored conditions are kept
    app.post_json(
        "/policy/pc",
        &json!({"scope": "webui", "action": "logout_time=60"}),
    )
    .expect(200);
    let applied = app.get("/policy/").expect(200).value();
    // a write by "another node" forces a full reload from the database
    app.store().set_policy_active("pd", true).expect("store");
    let mut reloaded = app.get("/policy/").expect(200).value();
    for p in reloaded.as_array_mut().expect("list") {
        if p["name"] == "pd" {
            p["active"] = json!(true);
        }
    }
    let mut applied = applied;
    for p in applied.as_array_mut().expect("list") {
        if p["name"] == "pd" {
            p["active"] = json!(true);
        }
    }
    assert_eq!(applied, reloaded);
    assert_eq!(applied.as_array().map(Vec::len), Some(4));
}

/// Many concurrent writers on one server (their writes share commits, and
/// the snapshot follows each commit without reloading) while readers read:
/// afterwards every write is in the database and the server serves exactly
/// the database's policies — each with the last value its writer wrote.
#[test]
fn concurrent_writers_and_readers_on_one_node_agree_with_the_database() {
    const WRITERS: usize = 12;
    const WRITES: i64 = 20;
    let app = spawn_app();
    std::thread::scope(|s| {
        for w in 0..WRITERS {
            let app = &app;
            s.spawn(move || {
                for i in 1..=WRITES {
                    // creates (first round of each name) and updates
                    let name = format!("burst{w}_{}", i % 4);
                    post(
                        app,
                        &name,
                        json!({"scope": "webui", "action": "login_mode=userstore",
                               "priority": i, "user": format!("u{w}")}),
                    )
                    .expect(200);
                }
            });
        }
        for _ in 0..2 {
            let app = &app;
            s.spawn(move || {
                for _ in 0..30 {
                    app.get("/policy/").expect(200);
                }
            });
        }
    });
    let served: std::collections::BTreeMap<String, (i64, Value)> = all(&app)
        .as_array()
        .expect("list")
        .iter()
        .map(|p| {
            let name = p["name"].as_str().expect("name").to_owned();
            (
                name,
                (p["priority"].as_i64().expect("priority"), p["user"].clone()),
            )
        })
        .collect();
    let stored: std::collections::BTreeMap<String, (i64, Value)> = app
        .store()
        .list_policies()
        .expect("policies")
        .into_iter()
        .map(|p| {
            let user = json!(p
                .user
                .split(',')
                .filter(|r| !r.is_empty())
                .collect::<Vec<_>>());
            (p.name, (p.priority, user))
        })
        .collect();
    assert_eq!(served.len(), WRITERS * 4, "{served:?}");
    assert_eq!(served, stored);
    for w in 0..WRITERS {
        for k in 0..4 {
            // the last i in 1..=WRITES with i % 4 == k
            let last = (1..=WRITES).filter(|i| i % 4 == k).max().expect("some i");
            assert_eq!(
                served[&format!("burst{w}_{k}")],
                (last, json!([format!("u{w}")])),
                "writer {w}, name {k}"
            );
        }
    }
}
