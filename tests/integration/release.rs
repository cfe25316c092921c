//! Behaviour of the released privacyIDEA 3.14 where it differs from the
//! spec (issue 10, `../shared/spec/release-differences.md`).
//!
//! Every expected value here was obtained by sending the same requests to the
//! released 3.14 (`../shared/tools/ref-server.sh start`, SQLite, the same
//! passwd files — `users.passwd`/`superusers.passwd` of its data folder,
//! copied below) and to this server with `/tmp/t_auth.py`-style scripts (see
//! `scripts/differential.py` for the harness); the answers were identical
//! except for `time`, `signature`, `log_level` (a pi.cfg value), the node
//! name and the order of `menus` (a Python set).

use crate::realm::form_realm;
use crate::support::*;
use serde_json::{json, Value};

const USERS: &str = "alice:$6$refsalt0$PkdAhtYcsuu76o0/qXopFJ6DwsBpQFQOd1cYOCAXGQ0vvg5D7au5EKkfQLWVrmhOnqWDpMQDXtfj.1KzxiBol/:1000:1000:Alice Example,Room 1,+49 111,+49 222,alice@example.com:/home/alice:/bin/bash
bob:$6$refsalt0$BdsNJFGcXDQnoumIzdrO.3YUjngPOhW0Gw.jvCnQmNx7PCe4RGur2NKJrhmwvy.qjJ6T/Rwog.bQUE6uAqJh2.:1001:1001:Bob Builder:/home/bob:/bin/bash
";
const SUPERUSERS: &str = "root:$6$refsalt0$SohpJS9U1We87AD960xR5Y.NWLYZVytuhagbr1grrdvBRV0rXIyBQF/L1tAK.v1P5tbsf2leQVFMhAGhi4hjs0:0:0:Root Admin:/root:/bin/bash
";

/// The local admin `admin`, `realm1` (reso1: alice/alicepw, bob/bobpw,
/// default realm) and the superuser realm `superuser` (root/rootpw).
fn app() -> TestApp {
    let app = spawn_app_with_superuser_realms("['superuser']");
    crate::realm::passwd_resolver(&app, "reso1", USERS);
    crate::realm::passwd_resolver(&app, "supers", SUPERUSERS);
    form_realm(&app, "realm1", "reso1");
    form_realm(&app, "superuser", "supers");
    app
}

fn auth(app: &TestApp, user: &str, pw: &str) -> Answer {
    app.post_auth_json(&json!({"username": user, "password": pw}))
}

fn policy(app: &TestApp, name: &str, body: Value) {
    app.post_json(&format!("/policy/{name}"), &body).expect(200);
}

/// The settings keys the release computes, for one login.
fn settings(a: &Answer) -> Value {
    let v = a.value();
    let keys = [
        "logout_time",
        "timeout_action",
        "audit_page_size",
        "user_page_size",
        "default_tokentype",
        "hide_welcome",
        "rss_age",
        "token_rollover",
        "require_description",
        "policy_template_url",
        "admin_dashboard",
        "user_details",
        "search_on_enter",
    ];
    let mut out = serde_json::Map::new();
    for k in keys {
        out.insert(k.into(), v[k].clone());
    }
    out.insert("show_node".into(), json!(v["show_node"] != ""));
    Value::Object(out)
}

const LOGINS: [(&str, &str); 4] = [
    (ADMIN, ADMIN_PW),
    ("root@superuser", "rootpw"),
    ("alice@realm1", "alicepw"),
    ("bob", "bobpw"),
];

#[test]
fn auth_webui_settings_follow_webui_policies_as_in_the_release() {
    let app = app();
    // the WebUI settings of each of LOGINS
    let all_settings = || -> Vec<Value> {
        LOGINS
            .iter()
            .map(|(u, p)| settings(&auth(&app, u, p).expect(200)))
            .collect()
    };
    let defaults = all_settings();
    // rss_age: 180 for admins (local and superuser realm), 0 for users.
    let rss: Vec<&Value> = defaults.iter().map(|s| &s["rss_age"]).collect();
    assert_eq!(rss, [&json!(180), &json!(180), &json!(0), &json!(0)]);
    assert!(defaults.iter().all(|s| s["logout_time"] == 120
        && s["token_rollover"] == json!({})
        && s["require_description"] == json!([])));

    for (name, body) in [
        ("w1", json!({"scope": "webui", "action": "logout_time=300"})),
        (
            "w2",
            json!({"scope": "webui", "action": "rss_age=30, hide_welcome_info, default_tokentype=totp", "realm": "realm1"}),
        ),
        (
            "w3",
            json!({"scope": "webui", "action": "token_rollover=hotp totp, user_details, show_node", "user": "alice"}),
        ),
        (
            "w4",
            json!({"scope": "enrollment", "action": "require_description=hotp totp"}),
        ),
        (
            "w5",
            json!({"scope": "webui", "action": "audit_page_size=25, policy_template_url=/x/", "realm": "superuser"}),
        ),
        (
            "w6",
            json!({"scope": "webui", "action": "admin_dashboard, search_on_enter", "user": "admin"}),
        ),
        (
            "w7",
            json!({"scope": "webui", "action": "jwt_validity=600, timeout_action=logout", "resolver": "reso1"}),
        ),
    ] {
        policy(&app, name, body);
    }

    let got = all_settings();
    // Recorded from the release (same policies, same logins).
    let base = json!({
        "logout_time": 300, "timeout_action": "lockscreen", "audit_page_size": 10,
        "user_page_size": 15, "default_tokentype": "hotp", "hide_welcome": false,
        "rss_age": 180, "token_rollover": {}, "require_description": ["hotp", "totp"],
        "policy_template_url": "/x/", "admin_dashboard": false, "user_details": false,
        "search_on_enter": false, "show_node": false,
    });
    let with = |changes: Value| {
        let mut v = base.clone();
        for (k, x) in changes.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    // Local admin: user-restricted (w6) and resolver-restricted (w7) policies
    // match (user = login, no resolver filter); realm-restricted ones do not;
    // show_node (w3, user alice) matches any local admin (no user filter).
    assert_eq!(
        got[0],
        with(
            json!({"admin_dashboard": true, "search_on_enter": true, "timeout_action": "logout", "show_node": true})
        )
    );
    // Superuser-realm admin: its realm policy (w5).
    assert_eq!(got[1], with(json!({"audit_page_size": 25})));
    // alice: realm, user and resolver policies; rss_age from w2.
    assert_eq!(
        got[2],
        with(
            json!({"default_tokentype": "totp", "hide_welcome": true, "rss_age": 30,
            "timeout_action": "logout", "token_rollover": {"hotp": ["w3"], "totp": ["w3"]},
            "user_details": true, "show_node": true})
        )
    );
    assert_eq!(
        got[3],
        with(
            json!({"default_tokentype": "totp", "hide_welcome": true, "rss_age": 30,
            "timeout_action": "logout"})
        )
    );

    // jwt_validity=600 (w7, resolver reso1) applies to alice's token, not to
    // the local admin's (empty user object).
    let exp = |a: &Answer| {
        let token = a.value()["token"].as_str().unwrap().to_string();
        let payload = token.split('.').nth(1).unwrap().to_string();
        let claims: Value = serde_json::from_slice(&base64_url_decode(&payload)).unwrap();
        claims["exp"].as_i64().unwrap() - chrono::Utc::now().timestamp()
    };
    let alice = exp(&auth(&app, "alice@realm1", "alicepw").expect(200));
    let admin = exp(&auth(&app, ADMIN, ADMIN_PW).expect(200));
    assert!((590..=600).contains(&alice), "{alice}");
    assert!(admin > 3000, "{admin}");

    // Conflicting values at the top priority: the whole login fails (403/303).
    policy(
        &app,
        "w8",
        json!({"scope": "webui", "action": "logout_time=200"}),
    );
    for (u, p) in LOGINS {
        auth(&app, u, p).expect_error_message(
            403,
            303,
            "There are policies with conflicting actions: ['w1', 'w8']",
        );
    }
    app.delete("/policy/w8").expect(200);

    // A page size that is not an integer: 500 in the release as well.
    policy(
        &app,
        "w9",
        json!({"scope": "webui", "action": "user_page_size=abc", "realm": "realm1"}),
    );
    auth(&app, "alice@realm1", "alicepw").expect(500);
    auth(&app, ADMIN, ADMIN_PW).expect(200);
    app.delete("/policy/w9").expect(200);

    // A userinfo condition is evaluated with alice's own attributes (her
    // email from the passwd file) and locks local admins out (no user).
    policy(
        &app,
        "c1",
        json!({"scope": "webui", "action": "user_page_size=42",
        "conditions": [["userinfo", "email", "equals", "alice@example.com", true]]}),
    );
    assert_eq!(
        auth(&app, "alice@realm1", "alicepw").expect(200).value()["user_page_size"],
        42
    );
    assert_eq!(
        auth(&app, "bob", "bobpw").expect(200).value()["user_page_size"],
        15
    );
    let a = auth(&app, ADMIN, ADMIN_PW).expect(403);
    assert_eq!(
        a.message(),
        "Policy 'c1' has a condition on the section 'userinfo' with key 'email', but a user is unavailable!"
    );
}

#[test]
fn login_mode_disable_and_conflicts() {
    let app = app();
    policy(
        &app,
        "lm",
        json!({"scope": "webui", "action": "login_mode=disable", "user": "bob"}),
    );
    let a = auth(&app, "bob", "bobpw").expect(403);
    assert_eq!(a.message(), "The login for this user is disabled.");
    // Also with a wrong password (the mode is read before the password).
    auth(&app, "bob", "wrong").expect(403);
    auth(&app, "alice@realm1", "alicepw").expect(200);
    policy(
        &app,
        "lm",
        json!({"scope": "webui", "action": "login_mode=userstore", "user": "bob"}),
    );
    policy(
        &app,
        "lm2",
        json!({"scope": "webui", "action": "login_mode=privacyIDEA", "user": "bob"}),
    );
    let a = auth(&app, "bob", "bobpw").expect(403);
    assert_eq!(
        a.message(),
        "There are policies with conflicting actions: ['lm', 'lm2']"
    );
    // Local admins never evaluate the login mode.
    policy(
        &app,
        "lm3",
        json!({"scope": "webui", "action": "login_mode=disable"}),
    );
    auth(&app, ADMIN, ADMIN_PW).expect(200);
}

#[test]
fn wrong_credentials_say_authentication_failed() {
    let app = app();
    for (u, p) in [
        ("admin", "wrong"),
        ("bob", "wrong"),
        ("nobody", "x"),
        ("", "x"),
    ] {
        let a = auth(&app, u, p).expect(401);
        assert_eq!(
            (a.code(), a.message().as_str()),
            (4031, "Authentication failed."),
            "{u}"
        );
        assert_eq!(a.json()["id"], 1);
    }
    let a = app.post_auth_json(&json!({"password": "x"}));
    assert_eq!(
        a.expect(401).message(),
        "Authentication failure. Missing Username"
    );
}

#[test]
fn resolver_exclusions_count_in_policy_check() {
    let app = app();
    policy(
        &app,
        "x1",
        json!({"scope": "authorization", "action": "tokentype=hotp", "resolver": "*, !reso1"}),
    );
    policy(
        &app,
        "x2",
        json!({"scope": "authorization", "action": "tokentype=hotp", "resolver": "reso1"}),
    );
    policy(
        &app,
        "x3",
        json!({"scope": "authorization", "action": "tokentype=hotp",
        "resolver": "*, -reso1", "check_all_resolvers": true}),
    );
    let names = |q: &str| -> Vec<String> {
        app.get(&format!(
            "/policy/check?scope=authorization&action=tokentype&{q}"
        ))
        .expect(200)
        .value()["policy"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names("user=alice&realm=realm1&resolver=reso1&client=1.1.1.1"),
        ["x2"]
    );
    assert_eq!(
        names("user=bob&realm=realm1&resolver=other&client=1.1.1.1"),
        ["x1"]
    );
}

/// release-differences.md §D: the release loads policies ordered by their
/// smallest condition id, condition-less ones first on SQLite; re-sending
/// conditions moves a policy to the end. `/policy/check` then puts matching
/// client-restricted policies first and sorts stably by priority.
#[test]
fn policy_lists_come_in_the_release_order() {
    let app = app();
    let cond = json!([["HTTP Request header", "X-A", "equals", "x", false]]);
    for (name, body) in [
        (
            "p1",
            json!({"scope": "authorization", "action": "tokentype=hotp", "conditions": cond}),
        ),
        (
            "p2",
            json!({"scope": "authorization", "action": "tokentype=hotp"}),
        ),
        (
            "p3",
            json!({"scope": "authorization", "action": "tokentype=hotp", "conditions": cond}),
        ),
        (
            "p4",
            json!({"scope": "authorization", "action": "tokentype=hotp"}),
        ),
    ] {
        policy(&app, name, body);
    }
    let list = |app: &TestApp| -> Vec<String> {
        app.get("/policy/")
            .expect(200)
            .value()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    let sqlite = ["p2", "p4", "p1", "p3"];
    assert_eq!(list(&app), sqlite);
    // Conditions re-sent: p1 moves behind p3; an update without them keeps
    // the place; `[]` moves p3 among the condition-less policies by id.
    policy(
        &app,
        "p1",
        json!({"scope": "authorization", "action": "tokentype=hotp", "conditions": cond}),
    );
    policy(
        &app,
        "p2",
        json!({"scope": "authorization", "action": "tokentype=totp"}),
    );
    assert_eq!(list(&app), ["p2", "p4", "p3", "p1"]);
    policy(
        &app,
        "p3",
        json!({"scope": "authorization", "action": "tokentype=hotp", "conditions": []}),
    );
    assert_eq!(list(&app), ["p2", "p3", "p4", "p1"]);

    // /policy/check: cA (client), cB (none), cC (client), all priority 1
    // -> [cA, cC, cB] (verified on the release).
    let app = self::app();
    for (n, client) in [("cA", "10.0.0.0/8"), ("cB", ""), ("cC", "10.0.0.0/8")] {
        policy(
            &app,
            n,
            json!({"scope": "authorization", "action": "tokentype=hotp", "client": client}),
        );
    }
    let v = app
        .get("/policy/check?scope=authorization&action=tokentype&user=alice&realm=realm1&resolver=reso1&client=10.1.2.3")
        .expect(200)
        .value();
    let names: Vec<&str> = v["policy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["cA", "cC", "cB"]);
}

#[test]
fn out_of_range_numbers_are_user_errors() {
    let app = app();
    // The release answers 500 (SQLite OverflowError); nothing is stored here.
    for body in [
        r#"{"scope": "admin", "action": "enable", "priority": 1180591620717411303424}"#,
        r#"{"scope": "admin", "action": "enable", "priority": 1e300}"#,
        r#"{"scope": "admin", "action": "enable", "priority": "99999999999999999999"}"#,
    ] {
        let a = app
            .send(
                app.client()
                    .post(app.url("/policy/big"))
                    .header("Content-Type", "application/json")
                    .body(body),
                None,
            )
            .expect(400);
        assert_eq!(a.code(), 905, "{body}");
    }
    app.get("/policy/big").expect(200);
    assert_eq!(app.get("/policy/").expect(200).value(), json!([]));
    let a = app
        .send(
            app.client()
                .post(app.url("/realm/r9"))
                .header("Content-Type", "application/json")
                .body(r#"{"resolvers": "reso1", "priority.reso1": 1180591620717411303424}"#),
            None,
        )
        .expect(400);
    assert_eq!(a.code(), 905);
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .unwrap()
}

/// release-differences.md item 18: with `hide_specific_error_message`
/// (scope authentication, matched with the user the request names) every
/// `/auth` error becomes `Authentication failed.` with code 403 and
/// `detail.message`; the HTTP status stays. Recorded from the release.
#[test]
fn hide_specific_error_message_masks_auth_errors() {
    let app = app();
    policy(
        &app,
        "h1",
        json!({"scope": "authentication", "action": "hide_specific_error_message"}),
    );
    let masked = |a: Answer, status: u16| {
        let a = a.expect(status);
        assert_eq!(a.code(), 403);
        assert_eq!(a.message(), "Authentication failed.");
        assert_eq!(a.json()["detail"]["message"], "Authentication failed.");
    };
    masked(auth(&app, "bob", "wrong"), 401);
    masked(auth(&app, "bob@nosuchrealm", "wrong"), 401);
    masked(auth(&app, ADMIN, "wrong"), 401);
    let no_user = app.post_auth_json(&json!({"password": "x"}));
    masked(no_user, 401);
    auth(&app, "bob", "bobpw").expect(200);
    // Restricted to alice: bob's errors are specific again.
    policy(
        &app,
        "h1",
        json!({"scope": "authentication", "action": "hide_specific_error_message", "user": "alice"}),
    );
    assert_eq!(auth(&app, "bob", "wrong").expect(401).code(), 4031);
    masked(auth(&app, "alice", "wrong"), 401);
}

/// release-differences.md items 13/22: a validly signed token that names no
/// user is 4032; a missing or unknown role is 4306 naming the required roles.
#[test]
fn tokens_without_a_user_or_role_are_refused() {
    let app = app();
    let sign = |claims: Value| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    };
    let exp = chrono::Utc::now().timestamp() + 600;
    for claims in [
        json!({"role": "admin", "realm": "", "exp": exp}),
        json!({"role": "admin", "realm": "", "username": "", "exp": exp}),
        json!({"role": "admin", "realm": "", "username": 5, "exp": exp}),
    ] {
        app.get_as("/policy/", &sign(claims)).expect_error_message(
            401,
            4032,
            "Authentication failure. The Authorization token does not name a user.",
        );
    }
    let t = sign(json!({"username": "admin", "realm": "", "exp": exp}));
    let a = app.get_as("/policy/", &t).expect(401);
    assert_eq!(
        (a.code(), a.message().as_str()),
        (4306, "Authentication failure. You do not have the necessary role (['admin']) to access this resource!")
    );
    let a = app.get_as("/auth/rights", &t).expect(401);
    assert_eq!(
        (a.code(), a.message().as_str()),
        (4306, "Authentication failure. You do not have the necessary role (['user', 'admin']) to access this resource!")
    );
    assert_eq!(a.json()["detail"], json!({}));
}

/// release-differences.md items 6 and 23: the admin gate splits the realm
/// parameter (comma string or JSON list), lower-cases the names and checks
/// each; all must be allowed. Recorded from the release with a local admin
/// restricted to realm1.
#[test]
fn admin_gate_checks_every_realm_of_the_request() {
    let mut app = app();
    app.add_admin("radmin", "test");
    policy(
        &app,
        "adm_all",
        json!({"scope": "admin", "action": "*", "adminuser": ADMIN}),
    );
    policy(
        &app,
        "adm_r1",
        json!({"scope": "admin", "action": "*", "adminuser": "radmin", "realm": "realm1"}),
    );
    let radmin = app.login("radmin", "test");
    app.set_token(Some(radmin));
    let r = &app;
    // `POST /realm/REALM1` is gated as realm1.
    r.post_form("/realm/REALM1", &[("resolvers", "reso1")])
        .expect(200);
    let p = |body: Value| r.post_json("/policy/rp", &body);
    p(json!({"scope": "authorization", "action": "tokentype=hotp", "realm": "realm1, realm2"}))
        .expect(403);
    p(json!({"scope": "authorization", "action": "tokentype=hotp", "realm": ["realm1", "realm2"]}))
        .expect(403);
    // Passes the gate as realm1; then the realm name itself is undefined.
    let a = p(json!({"scope": "authorization", "action": "tokentype=hotp", "realm": "REALM1"}))
        .expect(400);
    assert_eq!(a.message(), "ERR905: Undefined User-realms: ['REALM1']!");
    // An explicit empty realm matches only realm-unrestricted admin policies.
    p(json!({"scope": "authorization", "action": "tokentype=hotp", "realm": ""})).expect(403);
    p(json!({"scope": "authorization", "action": "tokentype=hotp", "realm": "realm1"})).expect(200);
}
