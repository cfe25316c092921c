//! `POST /auth` for realm users and superuser-realm admins, the realm
//! precedence of spec/realm-auth-server.md §3.5, the local-admin/user name clash, rights, and the admin
//! policy gate on superuser-realm admins, trusted external JWTs and
//! `GET /auth/rights` (spec/realm-auth-server.md §5.2–5.7, §8 cases 54–57, 62–77).
//!
//! Not covered here: audit rows (cases 62–63, 14: this server writes no audit
//! yet), `login_mode=privacyIDEA` (case 71: needs tokens), LDAP (case 69 uses a
//! passwd resolver whose file is missing as the failing user store), JWT
//! lifetimes (case 75, webui policies).

use crate::realm::{
    form_realm, passwd_resolver, passwords_file, put_policy, sqlite_exec, HASH_OTHER, HASH_TEST,
};
use crate::support::*;
use serde_json::{json, Value};

/// `realm1` (default: cornelius, selfservice, hans — password `test`) and
/// `realm3` (only `other`, whose password is `other`).
fn realms_app(opts: AppOptions) -> TestApp {
    let app = spawn_app_with(opts);
    passwd_resolver(&app, "resolver1", &passwords_file());
    passwd_resolver(
        &app,
        "resolver3",
        &format!("other:{HASH_OTHER}:2000:2000:Other::\n"),
    );
    form_realm(&app, "realm1", "resolver1");
    form_realm(&app, "realm3", "resolver3");
    assert_eq!(app.value_keys("/defaultrealm"), ["realm1"]);
    app
}

fn auth(app: &TestApp, form: &[(&str, &str)]) -> Answer {
    app.post_auth(form)
}

/// `(role, username, realm)` of a successful login.
fn who(a: &Answer) -> (String, String, String) {
    let v = a.value();
    (
        v["role"].as_str().expect("role").to_string(),
        v["username"].as_str().expect("username").to_string(),
        v["realm"].as_str().expect("realm").to_string(),
    )
}

fn ok(app: &TestApp, form: &[(&str, &str)]) -> (String, String, String) {
    let a = auth(app, form).expect(200);
    assert_eq!(a.json()["id"], 2);
    assert_eq!(a.json()["result"]["authentication"], "ACCEPT");
    who(&a)
}

#[track_caller]
fn wrong(app: &TestApp, form: &[(&str, &str)]) {
    let a = auth(app, form).expect_error_message(401, 4031, "Authentication failed.");
    assert_eq!(a.json()["detail"], json!({}));
}

/// Asserts that `form` logs in as `want`, written `role/username/realm`.
#[track_caller]
fn accepts(app: &TestApp, form: &[(&str, &str)], want: &str) {
    let parts: Vec<&str> = want.split('/').collect();
    let [role, user, realm] = parts[..] else {
        panic!("{want}: not role/username/realm");
    };
    assert_eq!(ok(app, form), t(role, user, realm), "{form:?}");
}

/// The form `username`, `password`.
fn up<'a>(username: &'a str, password: &'a str) -> [(&'static str, &'a str); 2] {
    [("username", username), ("password", password)]
}

/// The form `username`, `realm`, `password`.
fn urp<'a>(username: &'a str, realm: &'a str, password: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("username", username),
        ("realm", realm),
        ("password", password),
    ]
}

fn t(role: &str, user: &str, realm: &str) -> (String, String, String) {
    (role.into(), user.into(), realm.into())
}

fn set_split_at_sign(app: &TestApp, value: &str) {
    sqlite_exec(app, "DELETE FROM config WHERE \"Key\" = 'splitAtSign'");
    sqlite_exec(app, &format!("INSERT INTO config (\"Key\", \"Value\", \"Type\", \"Description\") VALUES ('splitAtSign', '{value}', 'public', '')"));
}

fn rights(a: &Answer) -> Vec<String> {
    a.value()["rights"]
        .as_array()
        .expect("rights")
        .iter()
        .map(|r| r.as_str().expect("str").to_string())
        .collect()
}

// ----- realm users -----

#[test]
fn case_062_063_user_login_default_realm() {
    let app = realms_app(AppOptions::default());
    let a = auth(&app, &up("cornelius", "test")).expect(200);
    assert_eq!(who(&a), t("user", "cornelius", "realm1"));
    let v = a.value();
    assert!(v["token"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(v["logout_time"], 120);
    assert!(
        !rights(&a).is_empty(),
        "no user policies ⇒ every user right"
    );
    assert!(rights(&a).contains(&"enable".to_string()));
    // the user token is a user token: admin routes refuse it
    let token = v["token"].as_str().expect("token").to_string();
    app.get_as("/realm/", &token).expect_error(401, 4306);
    // 63.
    wrong(&app, &up("cornelius", "wrong"));
    wrong(&app, &[("username", "cornelius")]);
    wrong(&app, &up("cornelius", ""));
}

#[test]
fn case_064_to_066_realm_parameter_wins() {
    let app = realms_app(AppOptions::default());
    // 64.
    accepts(
        &app,
        &up("cornelius@realm1", "test"),
        "user/cornelius/realm1",
    );
    let a = auth(&app, &urp("cornelius@realm1", "unknown", "test")).expect_error_message(
        401,
        4031,
        "Authentication failure. Unknown realm: unknown.",
    );
    assert_eq!(a.json()["detail"], json!({}));
    // 65. an empty realm counts as absent
    accepts(&app, &urp("cornelius", "", "test"), "user/cornelius/realm1");
    wrong(&app, &urp("cornelius@unknown", "realm1", "test"));
    // 66.
    accepts(
        &app,
        &urp("selfservice@realm3", "realm1", "test"),
        "user/selfservice/realm1",
    );
    wrong(&app, &urp("selfservice@realm1", "realm3", "test"));
    // realm names are case-insensitive
    accepts(
        &app,
        &up("cornelius@REALM1", "test"),
        "user/cornelius/realm1",
    );
    accepts(&app, &urp("other", "Realm3", "other"), "user/other/realm3");
    // JSON bodies work the same
    let a = app.post_auth_json(&json!({"username": "other@realm3", "password": "other"}));
    assert_eq!(who(&a.expect(200)), t("user", "other", "realm3"));
}

#[test]
fn case_067_split_at_sign_off() {
    let app = realms_app(AppOptions::default());
    set_split_at_sign(&app, "False");
    // `cornelius@realm1` is the login, looked up in the default realm
    wrong(&app, &up("cornelius@realm1", "test"));
    wrong(&app, &[("username", "cornelius")]);
    accepts(&app, &up("cornelius", "test"), "user/cornelius/realm1");
    accepts(&app, &urp("other", "realm3", "other"), "user/other/realm3");
    // `True` switches it back on
    set_split_at_sign(&app, "True");
    accepts(
        &app,
        &up("cornelius@realm1", "test"),
        "user/cornelius/realm1",
    );
}

#[test]
fn realm_precedence_table_of_section_3_5() {
    // users `user@realm1`, `user@unknown` exist literally in realm3's file
    let app = spawn_app();
    let h = HASH_TEST;
    passwd_resolver(
        &app,
        "r1",
        &format!("user:{h}:1:1:U::\nuser@unknown:{h}:2:2:U::\n"),
    );
    passwd_resolver(
        &app,
        "r2",
        &format!("user:{h}:1:1:U::\nuser@realm1:{h}:3:3:U::\nuser@unknown:{h}:2:2:U::\n"),
    );
    passwd_resolver(
        &app,
        "rdef",
        &format!("user:{h}:1:1:U::\nuser@realm1:{h}:3:3:U::\nuser@unknown:{h}:2:2:U::\n"),
    );
    form_realm(&app, "defrealm", "rdef");
    form_realm(&app, "realm1", "r1");
    form_realm(&app, "realm2", "r2");
    type Row = (
        &'static str,
        Option<&'static str>,
        Option<(&'static str, &'static str)>,
        Option<(&'static str, &'static str)>,
    );
    // (user, realm param, split=true ⇒ (login, realm), split=false ⇒ (login, realm)); None = error
    let rows: Vec<Row> = vec![
        (
            "user",
            None,
            Some(("user", "defrealm")),
            Some(("user", "defrealm")),
        ),
        (
            "user",
            Some("realm1"),
            Some(("user", "realm1")),
            Some(("user", "realm1")),
        ),
        ("user", Some("unknown"), None, None),
        (
            "user@realm1",
            None,
            Some(("user", "realm1")),
            Some(("user@realm1", "defrealm")),
        ),
        (
            "user@realm1",
            Some("realm2"),
            Some(("user", "realm2")),
            Some(("user@realm1", "realm2")),
        ),
        (
            "user@unknown",
            None,
            Some(("user@unknown", "defrealm")),
            Some(("user@unknown", "defrealm")),
        ),
        (
            "user@unknown",
            Some("realm1"),
            Some(("user@unknown", "realm1")),
            Some(("user@unknown", "realm1")),
        ),
    ];
    for split in [true, false] {
        set_split_at_sign(&app, if split { "True" } else { "False" });
        for (user, realm, want_split, want_nosplit) in &rows {
            let want = if split { want_split } else { want_nosplit };
            let mut form = vec![("username", *user), ("password", "test")];
            if let Some(r) = realm {
                form.push(("realm", r));
            }
            let a = auth(&app, &form);
            match want {
                Some((login, realm)) => assert_eq!(
                    who(&a.expect(200)),
                    t("user", login, realm),
                    "{user} {realm:?} split={split}"
                ),
                None => assert_eq!(a.expect(401).code(), 4031, "{user} {realm:?} split={split}"),
            }
        }
    }
}

#[test]
fn case_068_local_admins() {
    let app = realms_app(AppOptions::default());
    app.add_admin("testadmin", "testpw");
    let a = auth(&app, &up("testadmin", "testpw")).expect(200);
    assert_eq!(who(&a), t("admin", "testadmin", ""));
    // a realm given does not matter to a local admin (spec/realm-auth-server.md §5.6)
    accepts(
        &app,
        &urp("testadmin", "realm1", "testpw"),
        "admin/testadmin/",
    );
    // an admin whose name has an @, with splitAtSign on and off
    app.add_admin("super@intern", "testpw");
    for split in ["True", "False"] {
        set_split_at_sign(&app, split);
        assert_eq!(
            ok(&app, &up("super@intern", "testpw")),
            t("admin", "super@intern", ""),
            "split={split}"
        );
    }
    // also when `intern` is a realm
    set_split_at_sign(&app, "True");
    form_realm(&app, "intern", "resolver1");
    accepts(&app, &up("super@intern", "testpw"), "admin/super@intern/");
    wrong(&app, &up("testadmin", "test"));
}

#[test]
fn case_069_failing_user_store() {
    let app = spawn_app();
    app.post_form(
        "/resolver/broken",
        &[
            ("type", "passwdresolver"),
            ("fileName", "/nonexistent/passwd"),
        ],
    )
    .expect(200);
    form_realm(&app, "brokenrealm", "broken");
    accepts(&app, &up(ADMIN, ADMIN_PW), &format!("admin/{ADMIN}/"));
    wrong(&app, &up("hans", "test"));
}

#[test]
fn case_070_other_default_realm() {
    let app = realms_app(AppOptions::default());
    app.post_form("/defaultrealm/realm3", &[]).expect(200);
    accepts(
        &app,
        &up("selfservice@realm1", "test"),
        "user/selfservice/realm1",
    );
    wrong(&app, &up("selfservice", "test"));
    accepts(
        &app,
        &urp("selfservice@realm1", "", "test"),
        "user/selfservice/realm1",
    );
    // without any default realm a bare login finds no user
    app.delete("/defaultrealm").expect(200);
    wrong(&app, &up("selfservice", "test"));
}

#[test]
fn case_071_unknown_user() {
    // (login_mode=privacyIDEA needs tokens: only the userstore mode here)
    let app = realms_app(AppOptions::default());
    wrong(&app, &up("nosuchuser", "test"));
    wrong(&app, &up("nosuchuser@realm1", "test"));
    let a = auth(&app, &[("password", "test")]).expect_error_message(
        401,
        4032,
        "Authentication failure. Missing Username",
    );
    assert_eq!(a.json()["detail"], json!({}));
}

#[test]
fn case_072_deleted_realm() {
    let app = realms_app(AppOptions::default());
    app.delete("/realm/realm3").expect(200);
    auth(&app, &urp("other", "realm3", "other")).expect_error_message(
        401,
        4031,
        "Authentication failure. Unknown realm: realm3.",
    );
}

// ----- superuser realms -----

fn superuser_app() -> TestApp {
    let app = realms_app(AppOptions {
        extra_cfg: vec!["SUPERUSER_REALM = ['realm1', 'SuperUser']".into()],
        ..Default::default()
    });
    passwd_resolver(
        &app,
        "superusers",
        &format!("root:{HASH_TEST}:0:0:Root Admin::\nhelpdesk:{HASH_TEST}:10:10:Help Desk::\n"),
    );
    form_realm(&app, "superuser", "superusers");
    app
}

#[test]
fn case_073_superuser_realm_login_and_rights() {
    let app = superuser_app();
    // no admin policies ⇒ role admin, every admin right
    let a = auth(&app, &up("cornelius@realm1", "test")).expect(200);
    assert_eq!(who(&a), t("admin", "cornelius", "realm1"));
    assert!(rights(&a).contains(&"delete".to_string()));
    assert!(rights(&a).contains(&"resolverwrite".to_string()));
    // the token works on admin routes
    let token = a.value()["token"].as_str().expect("token").to_string();
    app.get_as("/realm/", &token).expect(200);
    // SUPERUSER_REALM is compared lower-case; the login's realm case does not matter
    accepts(&app, &up("root@SUPERUSER", "test"), "admin/root/superuser");
    accepts(
        &app,
        &urp("helpdesk", "SuperUser", "test"),
        "admin/helpdesk/superuser",
    );
    // users of other realms stay users
    accepts(&app, &up("other@realm3", "other"), "user/other/realm3");
    // an admin policy for the superuser realm realm1: rights follow it
    put_policy(&app, "realm1admins", "admin", "disable", |p| {
        p.adminrealm = "realm1".into()
    });
    let a = auth(&app, &up("cornelius@Realm1", "test")).expect(200);
    assert_eq!(who(&a), t("admin", "cornelius", "realm1"));
    assert!(
        rights(&a).contains(&"disable".to_string()),
        "{:?}",
        rights(&a)
    );
    assert!(!rights(&a).contains(&"delete".to_string()));
    // root (adminrealm superuser) matches no admin policy now ⇒ no rights
    let a = auth(&app, &up("root@superuser", "test")).expect(200);
    assert!(
        !rights(&a).contains(&"disable".to_string()),
        "{:?}",
        rights(&a)
    );
}

#[test]
fn case_074_local_admin_and_user_share_a_name() {
    let app = spawn_app();
    passwd_resolver(
        &app,
        "resolver1",
        &format!("testadmin:{HASH_TEST}:1:1:T::\n"),
    );
    form_realm(&app, "realm1", "resolver1");
    app.add_admin("testadmin", "testpw");
    accepts(&app, &up("testadmin", "testpw"), "admin/testadmin/");
    accepts(&app, &up("testadmin", "test"), "user/testadmin/realm1");
    wrong(&app, &up("testadmin", "wrong"));
    // same password for both: the local admin is tried first and wins
    app.add_admin("testadmin", "test");
    accepts(&app, &up("testadmin", "test"), "admin/testadmin/");
}

// ----- admin policy gate -----

fn token_of(app: &TestApp, form: &[(&str, &str)]) -> String {
    auth(app, form).expect(200).value()["token"]
        .as_str()
        .expect("token")
        .to_string()
}

#[test]
fn case_054_resolverread_and_resolverwrite() {
    let mut app = spawn_app();
    passwd_resolver(&app, "reso21", &passwords_file());
    let path = crate::realm::write_file(&app, "p2", &passwords_file());
    put_policy(&app, "pol_read", "admin", "resolverread", |_| {});
    // a fresh token: rights are fixed at login, the gate reads the policies
    let fresh = app.login(ADMIN, ADMIN_PW);
    app.set_token(Some(fresh));
    let post = |app: &TestApp| {
        app.post_form(
            "/resolver/reso21",
            &[("type", "passwdresolver"), ("fileName", &path)],
        )
    };
    post(&app).expect_error_message(
        403,
        303,
        "Admin actions are defined, but the action resolverwrite is not allowed!",
    );
    app.get("/resolver/reso21").expect(200);
    put_policy(&app, "pol_write", "admin", "resolverwrite", |_| {});
    post(&app).expect(200);
    app.store()
        .delete_policy("pol_read")
        .expect("delete policy");
    let a = app.get("/resolver/reso21").expect(403);
    assert_eq!(
        a.message(),
        "Admin actions are defined, but the action resolverread is not allowed!"
    );
    post(&app).expect(200);
    // an inactive policy does not count
    let mut rec = app
        .store()
        .get_policy("pol_write")
        .expect("get")
        .expect("exists");
    rec.active = false;
    app.store().save_policy(&rec, None).expect("save");
    app.get("/resolver/reso21").expect(200);
}

#[test]
fn case_055_policies_per_admin() {
    // privacyIDEA's case uses policywrite/adduser; the /policy and /user routes
    // are not this file's, so resolverwrite/resolverread stand in for them.
    let app = spawn_app();
    let ta = app.add_admin("adminA", "pwA");
    let tb = app.add_admin("adminB", "pwB");
    let tc = app.add_admin("adminC", "pwC");
    put_policy(
        &app,
        "polAdminA",
        "admin",
        "resolverwrite, resolverread, resolverdelete",
        |p| p.adminuser = "admin[aA]".into(),
    );
    put_policy(&app, "polAdminB", "admin", "resolverread", |p| {
        p.adminuser = "adminB".into()
    });
    let post = |t: &str| {
        app.send(
            app.client()
                .post(app.url("/resolver/r"))
                .form(&[("type", "passwdresolver"), ("fileName", "/etc/passwd")]),
            Some(t),
        )
    };
    let get = |t: &str| app.get_as("/resolver/", t);
    post(&ta).expect(200);
    get(&tb).expect(200);
    assert_eq!(post(&tb).expect(403).code(), 303);
    assert_eq!(post(&tc).expect(403).code(), 303);
    assert_eq!(get(&tc).expect(403).code(), 303);
    // the standard admin matches no policy either (issue #701)
    assert_eq!(get(&app.token()).expect(403).code(), 303);
}

#[test]
fn case_056_user_token_on_admin_routes() {
    let app = realms_app(AppOptions::default());
    let user = token_of(&app, &up("selfservice@realm1", "test"));
    for path in ["/realm/", "/resolver/", "/defaultrealm", "/system/nodes"] {
        let a = app.get_as(path, &user).expect(401);
        assert_eq!(a.code(), 4306, "{path}");
        assert_eq!(a.message(), "Authentication failure. You do not have the necessary role (['admin']) to access this resource!");
    }
}

#[test]
fn case_057_realm_list_filtered_for_realm_admins() {
    let app = realms_app(AppOptions::default());
    let helper = app.add_admin("helper", "helperpw");
    put_policy(&app, "helper_realm1", "admin", "userlist", |p| {
        p.adminuser = "helper".into();
        p.realm = "realm1".into();
    });
    let list = |t: &str| -> Value { app.get_as("/realm/", t).expect(200).value() };
    let v = list(&helper);
    assert_eq!(keys(&v), ["realm1"]);
    assert_eq!(v["realm1"]["resolver"][0]["name"], "resolver1");
    // an admin matching no policy sees all realms; a policy without realm ⇒ all
    assert_eq!(list(&app.token()).as_object().expect("obj").len(), 2);
    put_policy(&app, "helper_all", "admin", "resolverread", |p| {
        p.adminuser = "helper".into()
    });
    assert_eq!(list(&helper).as_object().expect("obj").len(), 2);
    app.store().delete_policy("helper_all").expect("delete");
    // a realm named in a policy but missing appears as null (privacyIDEA quirk)
    put_policy(&app, "helper_ghost", "admin", "userlist", |p| {
        p.adminuser = "helper".into();
        p.realm = "ghost".into();
    });
    let v = list(&helper);
    assert_eq!(v["ghost"], Value::Null);
    assert!(v.as_object().expect("obj").contains_key("ghost"));
    assert!(!v["realm1"].is_null());
    app.store().delete_policy("helper_ghost").expect("delete");
    // policies for another node or outside their time do not count
    put_policy(&app, "helper_elsewhere", "admin", "userlist", |p| {
        p.adminuser = "helper".into();
        p.realm = "realm3".into();
        p.pinode = "othernode".into();
    });
    put_policy(&app, "helper_never", "admin", "userlist", |p| {
        p.adminuser = "helper".into();
        p.realm = "realm3".into();
        // a range a few hours away from now (the server uses local time)
        p.time = if chrono::Timelike::hour(&chrono::Local::now()) < 12 {
            "Mon-Sun: 15:00-16:00".into()
        } else {
            "Mon-Sun: 03:00-04:00".into()
        };
    });
    let v = list(&helper);
    assert_eq!(keys(&v), ["realm1"]);
}

#[test]
fn superuser_realm_admins_are_gated_by_adminrealm_and_adminuser() {
    let app = superuser_app();
    let root = token_of(&app, &up("root@superuser", "test"));
    let helpdesk = token_of(&app, &up("helpdesk@superuser", "test"));
    let corn = token_of(&app, &up("cornelius@realm1", "test"));
    // root may read resolvers and write realm3 only; helpdesk may only read
    put_policy(&app, "root_read", "admin", "resolverread", |p| {
        p.adminrealm = "superuser".into();
        p.adminuser = "root".into();
    });
    put_policy(
        &app,
        "root_realm3",
        "admin",
        "resolverwrite, resolverdelete",
        |p| {
            p.adminrealm = "superuser".into();
            p.adminuser = "root".into();
            p.realm = "realm3".into();
        },
    );
    put_policy(&app, "helpdesk_read", "admin", "resolverread", |p| {
        p.adminrealm = "superuser".into();
        p.adminuser = "helpdesk".into();
    });
    let send = |rb: reqwest::blocking::RequestBuilder, t: &str| app.send(rb, Some(t));
    let c = app.client();
    send(c.get(app.url("/resolver/")), &root).expect(200);
    send(c.get(app.url("/resolver/")), &helpdesk).expect(200);
    // writes on realm3: root yes, helpdesk no
    send(
        c.post(app.url("/realm/realm3"))
            .form(&[("resolvers", "resolver3")]),
        &root,
    )
    .expect(200);
    send(c.post(app.url("/defaultrealm/realm3")), &root).expect(200);
    let a = send(
        c.post(app.url("/realm/realm3"))
            .form(&[("resolvers", "resolver3")]),
        &helpdesk,
    )
    .expect(403);
    assert_eq!(
        a.message(),
        "Admin actions are defined, but the action resolverwrite is not allowed!"
    );
    // realm1 is not root's
    send(
        c.post(app.url("/realm/realm1"))
            .form(&[("resolvers", "resolver1")]),
        &root,
    )
    .expect_error(403, 303);
    send(c.post(app.url("/defaultrealm/realm1")), &root).expect(403);
    send(c.delete(app.url("/realm/realm1")), &root).expect(403);
    // node route and resolver writes are gated the same way
    send(
        c.post(app.url(&format!("/realm/realm1/node/{}", crate::realm::ND1)))
            .json(&json!({"resolver": []})),
        &root,
    )
    .expect(403);
    send(
        c.post(app.url("/resolver/x"))
            .form(&[("type", "passwdresolver")]),
        &helpdesk,
    )
    .expect(403);
    // a superuser of another realm (realm1) matches none of these policies
    send(c.get(app.url("/resolver/")), &corn).expect(403);
    // the local admin (adminrealm "") matches none either
    send(c.get(app.url("/resolver/")), &app.token()).expect(403);
    // rights at login follow the same policies
    let a = auth(&app, &up("root@superuser", "test")).expect(200);
    let r = rights(&a);
    assert!(
        r.contains(&"resolverread".to_string()) && r.contains(&"resolverwrite".to_string()),
        "{r:?}"
    );
    assert!(!r.contains(&"policywrite".to_string()));
    let a = auth(&app, &up("helpdesk@superuser", "test")).expect(200);
    assert_eq!(rights(&a), ["resolverread"]);
    // GET /realm/: root_read names no realm ⇒ all realms
    let v = send(c.get(app.url("/realm/")), &root).expect(200).value();
    assert_eq!(v.as_object().expect("obj").len(), 3);
    // helpdesk's only policy names no realm either; a realm-bound one narrows it
    put_policy(&app, "helpdesk_realm3", "admin", "userlist", |p| {
        p.adminrealm = "superuser".into();
        p.adminuser = "helpdesk".into();
        p.realm = "realm3".into();
    });
    app.store().delete_policy("helpdesk_read").expect("delete");
    let v = send(c.get(app.url("/realm/")), &helpdesk)
        .expect(200)
        .value();
    assert_eq!(keys(&v), ["realm3"]);
    // the other blueprints gate superuser-realm admins the same way
    for path in ["/policy/", "/privacyideaserver/"] {
        let a = send(c.get(app.url(path)), &root).expect(403);
        assert_eq!(a.code(), 303, "{path}");
    }
    put_policy(
        &app,
        "root_policyread",
        "admin",
        "policyread, privacyideaserver_read",
        |p| {
            p.adminrealm = "superuser".into();
            p.adminuser = "root".into();
        },
    );
    send(c.get(app.url("/policy/")), &root).expect(200);
    send(c.get(app.url("/privacyideaserver/")), &root).expect(200);
    send(c.get(app.url("/policy/")), &helpdesk).expect(403);
    // endpoints without an action gate stay open to every admin
    send(c.get(app.url("/system/nodes")), &helpdesk).expect(200);
    send(c.get(app.url("/realm/superuser")), &helpdesk).expect(200);
    send(c.get(app.url("/defaultrealm")), &helpdesk).expect(200);
    send(
        c.get(app.url("/resolver/passwdresolver/default")),
        &helpdesk,
    )
    .expect(200);
}

#[test]
fn superuser_realm_without_config_gives_users() {
    let app = realms_app(AppOptions::default());
    accepts(
        &app,
        &up("cornelius@realm1", "test"),
        "user/cornelius/realm1",
    );
    let _ = HASH_OTHER;
}

fn token_exp(token: &str) -> i64 {
    decode_claims(token)["exp"].as_i64().expect("exp")
}

/// Case 75: webui `jwt_validity` sets the token lifetime for admins and users;
/// one restricted to realm1 applies to realm1 users only.
#[test]
fn case_075_jwt_validity_from_webui_policies() {
    let app = spawn_app();
    crate::realm::passwd_resolver(&app, "resolver1", &crate::realm::passwords_file());
    crate::realm::form_realm(&app, "realm1", "resolver1");
    let now = || chrono::Utc::now().timestamp();
    crate::realm::put_policy(&app, "jwt1800", "webui", "jwt_validity=1800", |_| {});
    let admin = app.login(ADMIN, ADMIN_PW);
    assert!((token_exp(&admin) - (now() + 1800)).abs() < 30);
    let user = app.login("cornelius@realm1", "test");
    assert!((token_exp(&user) - (now() + 1800)).abs() < 30);
    app.store().delete_policy("jwt1800").expect("delete");
    crate::realm::put_policy(&app, "jwt7200", "webui", "jwt_validity=7200", |p| {
        p.realm = "realm1".into();
    });
    let admin = app.login(ADMIN, ADMIN_PW);
    assert!(
        (token_exp(&admin) - (now() + 3600)).abs() < 30,
        "admins match only unrestricted policies"
    );
    let user = app.login("cornelius@realm1", "test");
    assert!((token_exp(&user) - (now() + 7200)).abs() < 30);
}

// ----- GET /auth/rights -----

/// The token types of `GET /auth/rights` for a JWT.
fn enroll_types(app: &TestApp, token: &str) -> Vec<String> {
    let a = app.get_as("/auth/rights", token).expect(200);
    a.value()
        .as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| {
            assert!(v.as_str().is_some_and(|d| !d.is_empty()), "{k}: {v}");
            k.clone()
        })
        .collect()
}

#[test]
fn case_125_126_auth_rights_enrollable_token_types() {
    let app = realms_app(AppOptions::default());
    let admin = app.token();
    // No policies: every type the web UI offers to admins.
    let all = enroll_types(&app, &admin);
    assert_eq!(all.len(), 25, "{all:?}");
    for t in [
        "hotp",
        "totp",
        "remote",
        "4eyes",
        "registration",
        "webauthn",
        "yubikey",
    ] {
        assert!(all.iter().any(|a| a == t), "{t} missing");
    }
    assert!(!all
        .iter()
        .any(|a| a == "pw" || a == "ocra" || a == "daplug"));
    // A realm user logs in; no user policies: the user types (no admin-only ones).
    let user = app.login("cornelius@realm1", "test");
    let types = enroll_types(&app, &user);
    assert!(types.iter().any(|a| a == "hotp"));
    assert!(!types
        .iter()
        .any(|a| a == "remote" || a == "4eyes" || a == "vasco"));
    assert_eq!(types.len(), 21, "{types:?}");

    // Admin policies: only what they grant to this admin.
    put_policy(
        &app,
        "tokenEnroll",
        "admin",
        "enrollYUBIKEY, enrollHOTP",
        |_| {},
    );
    put_policy(&app, "otherAdmin", "admin", "enrollTOTP", |p| {
        p.adminuser = "someoneelse".into()
    });
    assert_eq!(enroll_types(&app, &admin), ["hotp", "yubikey"]);
    // User policies: per realm.
    put_policy(&app, "userEnroll", "user", "enrollTOTP, enrollSPASS", |p| {
        p.realm = "realm1".into()
    });
    put_policy(&app, "otherRealm", "user", "enrollSMS", |p| {
        p.realm = "realm3".into()
    });
    assert_eq!(enroll_types(&app, &user), ["spass", "totp"]);
    let other = app.login("other@realm3", "other");
    assert_eq!(enroll_types(&app, &other), ["sms"]);

    // Without a token: the authentication error, nothing else.
    let a = app.get_as("/auth/rights", "");
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(a.json()["result"]["status"], false);
    // POST is not a route of /auth/rights.
    app.send(app.client().post(app.url("/auth/rights")), Some(&admin))
        .expect(405);
}

// ----- trusted external JWTs (PI_TRUSTED_JWT, case 77) -----

fn auth_fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../crates/pi-auth/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn rs256(claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(auth_fixture("trusted-rsa.key").as_bytes())
        .expect("key");
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        claims,
        &key,
    )
    .expect("sign")
}

#[test]
fn case_077_trusted_jwt_over_http() {
    let pem = auth_fixture("trusted-rsa.pub");
    let entry = |role: &str, realm: &str, resolver: &str, username: &str| {
        format!(
            "{{'public_key': '''{pem}''', 'algorithm': 'RS256', 'role': '{role}', \
             'realm': '{realm}', 'resolver': '{resolver}', 'username': '{username}'}}"
        )
    };
    let cfg = format!(
        "PI_TRUSTED_JWT = [{}, {}, {{'public_key': 'x', 'algorithm': 'HS256', 'username': '.*'}}]",
        entry("user", "realmX", "resolverX", "h.*s"),
        entry("admin", "", "", "sso-admin"),
    );
    let app = spawn_app_with(AppOptions {
        extra_cfg: vec![cfg],
        ..AppOptions::default()
    });
    let exp = chrono::Utc::now().timestamp() + 600;
    let user = |name: &str, exp: i64| {
        rs256(
            &json!({"username": name, "realm": "realmX", "resolver": "resolverX",
                      "role": "user", "exp": exp}),
        )
    };
    let get = |path: &str, token: &str| app.get_as(path, token);

    // hans: a user of realmX; may use user routes, not admin routes.
    get("/auth/rights", &user("hans", exp)).expect(200);
    get("/policy/", &user("hans", exp)).expect_error(401, 4306);
    // hanswurst does not match `h.*s`.
    get("/auth/rights", &user("hanswurst", exp)).expect_error_message(
        401,
        403,
        "Authentication failure. The username hanswurst is not allowed to impersonate via JWT.",
    );
    // Expired, garbage.
    assert_eq!(
        get("/auth/rights", &user("hans", exp - 1200))
            .expect(401)
            .code(),
        4305
    );
    assert_eq!(get("/auth/rights", "garbage").expect(401).code(), 4304);
    // The admin entry: an SSO admin reaches the admin routes.
    let admin = rs256(
        &json!({"username": "sso-admin", "realm": "", "resolver": "",
                              "role": "admin", "exp": exp}),
    );
    get("/policy/", &admin).expect(200);
    // Our own tokens keep working.
    let own = app.token();
    get("/policy/", &own).expect(200);
}

#[test]
fn trusted_jwt_with_an_unusable_key_stops_the_start() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = dir.path().join("pi.cfg");
    let db = dir.path().join("pi.sqlite");
    std::fs::write(
        &cfg,
        format!(
            "SQLALCHEMY_DATABASE_URI = 'sqlite:///{}'\nSECRET_KEY = 'x'\nPI_PEPPER = 'y'\n\
             PI_TRUSTED_JWT = [{{'public_key': 'not a key', 'algorithm': 'RS256', 'username': '.*'}}]\n",
            db.display()
        ),
    )
    .expect("cfg");
    let out = run_server(&cfg, &["--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PI_TRUSTED_JWT entry 0"), "{err}");
}
