//! Resolvers over HTTP (spec/realm-auth-server.md §2, §8 cases 45–53): list
//! filters, merge updates, `type.`/`desc.` keys, censored and encrypted
//! passwords, delete, test, defaults.

use crate::realm::{passwd_resolver, passwords_file, write_file};
use crate::support::*;
use serde_json::{json, Value};

fn ldap_form<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("type", "ldapresolver"),
        ("LDAPURI", "ldap://127.0.0.1:1"),
        ("LDAPBASE", "o=test"),
        ("BINDDN", "cn=admin,o=test"),
        ("BINDPW", "ldaptest"),
        ("LOGINNAMEATTRIBUTE", "cn"),
        ("LDAPSEARCHFILTER", "(cn=*)"),
        ("USERINFO", "{\"username\": \"cn\"}"),
        ("UIDTYPE", "DN"),
        ("TIMEOUT", "5"),
    ];
    form.extend_from_slice(extra);
    form
}

/// The stored `resolverconfig` rows of a resolver: key → (value, type, description).
fn stored(app: &TestApp, name: &str) -> Vec<(String, String, String, String)> {
    let recs = app.store().list_resolvers().expect("list resolvers");
    let rec = recs
        .into_iter()
        .find(|r| r.name == name)
        .expect("resolver stored");
    rec.config
        .into_iter()
        .map(|c| {
            (
                c.key,
                c.value.unwrap_or_default(),
                c.typ.unwrap_or_default(),
                c.description.unwrap_or_default(),
            )
        })
        .collect()
}

fn stored_value(app: &TestApp, name: &str, key: &str) -> Option<String> {
    stored(app, name)
        .into_iter()
        .find(|c| c.0 == key)
        .map(|c| c.1)
}

#[test]
fn case_045_create_and_list() {
    let app = spawn_app();
    let a = app
        .post_form(
            "/resolver/r1",
            &[("type", "passwdresolver"), ("fileName", "/etc/passwd")],
        )
        .expect(200);
    assert_eq!(a.value(), json!(1));
    let a = app.get("/resolver/").expect(200);
    assert!(
        a.text.contains("\"fileName\":\"/etc/passwd\""),
        "{}",
        a.text
    );
    assert!(a.text.contains("\"resolvername\":\"r1\""), "{}", a.text);
    assert_eq!(
        a.value(),
        json!({"r1": {"resolvername": "r1", "type": "passwdresolver", "censor_keys": [], "data": {"fileName": "/etc/passwd"}}})
    );
    // JSON works the same; values are stored as their string form
    app.post_json(
        "/resolver/r2",
        &json!({"type": "passwdresolver", "fileName": "/etc/passwd", "num": 5, "flag": true}),
    )
    .expect(200);
    let v = app.get("/resolver/r2").expect(200).value();
    assert_eq!(
        v["r2"]["data"],
        json!({"fileName": "/etc/passwd", "num": "5", "flag": "True"})
    );
}

#[test]
fn case_046_unknown_resolver_is_empty() {
    let app = spawn_app();
    assert_eq!(app.get("/resolver/unknown").expect(200).value(), json!({}));
    // case-insensitive by name
    passwd_resolver(&app, "MyReso", &passwords_file());
    let v = app.get("/resolver/myreso").expect(200).value();
    assert_eq!(keys(&v), ["MyReso"]);
}

#[test]
fn case_047_filters_editable_and_type() {
    let app = spawn_app();
    passwd_resolver(&app, "resolver1", &passwords_file());
    app.post_form("/resolver/ldap1", &ldap_form(&[("EDITABLE", "1")]))
        .expect(200);
    let keys = |path: &str| app.value_keys(path);
    assert_eq!(keys("/resolver/?editable=1"), ["ldap1"]);
    assert_eq!(keys("/resolver/?editable=0"), ["resolver1"]);
    assert_eq!(keys("/resolver/?type=passwdresolver"), ["resolver1"]);
    assert_eq!(keys("/resolver/?type=ldapresolver"), ["ldap1"]);
    assert!(keys("/resolver/?type=sqlresolver").is_empty());
    assert_eq!(
        keys("/resolver/?type=passwdresolver&editable=1"),
        Vec::<String>::new()
    );
    // an empty type does not filter; the filters apply to GET /resolver/<name> too
    assert_eq!(keys("/resolver/?type="), ["ldap1", "resolver1"]);
    assert_eq!(keys("/resolver/LDAP1?type=ldapresolver"), ["ldap1"]);
    assert!(keys("/resolver/ldap1?type=passwdresolver").is_empty());
    assert!(keys("/resolver/ldap1?editable=0").is_empty());
    assert_eq!(keys("/resolver/ldap1?editable=true"), ["ldap1"]);
    // without EDITABLE the LDAP resolver is not editable
    app.post_form(
        "/resolver/ldap1",
        &[("type", "ldapresolver"), ("EDITABLE", "")],
    )
    .expect(200);
    assert!(keys("/resolver/?editable=1").is_empty());
}

#[test]
fn case_048_delete_unknown_is_minus_one() {
    let app = spawn_app();
    assert_eq!(
        app.delete("/resolver/xycswwf").expect(200).value(),
        json!(-1)
    );
    let id = passwd_resolver(&app, "gone", &passwords_file());
    assert_eq!(app.delete("/resolver/gone").expect(200).value(), json!(id));
    assert_eq!(app.get("/resolver/gone").expect(200).value(), json!({}));
}

#[test]
fn case_049_password_censored_and_encrypted() {
    let app = spawn_app();
    app.post_form("/resolver/testL", &ldap_form(&[]))
        .expect(200);
    for path in ["/resolver/testL", "/resolver/"] {
        let v = app.get(path).expect(200).value();
        assert_eq!(v["testL"]["data"]["BINDPW"], "__CENSORED__", "{path}");
        assert_eq!(v["testL"]["censor_keys"], json!(["BINDPW"]));
        assert_eq!(v["testL"]["data"]["TIMEOUT"], "5");
    }
    // stored encrypted with PI_ENCFILE in privacyIDEA's `<iv hex>:<cipher hex>` form
    let (_, value, typ, _) = stored(&app, "testL")
        .into_iter()
        .find(|c| c.0 == "BINDPW")
        .expect("BINDPW row");
    assert_eq!(typ, "password");
    assert_ne!(value, "ldaptest");
    let (iv, cipher) = value.split_once(':').expect("iv:cipher");
    assert_eq!(iv.len(), 32);
    assert!(
        iv.chars()
            .chain(cipher.chars())
            .all(|c| c.is_ascii_hexdigit()),
        "{value}"
    );
    let key = pi_realm::EncKey::load(app.dir.path().join("enckey"))
        .expect("key made by pi-manage create_enckey");
    assert_eq!(key.decrypt_password(&value).expect("decrypts"), "ldaptest");
    // declared types are stored with the value
    assert_eq!(
        stored(&app, "testL")
            .into_iter()
            .find(|c| c.0 == "TIMEOUT")
            .expect("TIMEOUT")
            .2,
        "int"
    );
}

#[test]
fn case_050_test_connection() {
    let app = spawn_app();
    // LDAP without a server: false with a description (this server has no LDAP
    // client yet, so the description says so)
    let a = app.post_form("/resolver/test", &ldap_form(&[])).expect(200);
    let body = a.json();
    assert_eq!(body["result"]["value"], false);
    assert!(!body["detail"]["description"]
        .as_str()
        .expect("description")
        .is_empty());
    assert!(body["detail"]["threadid"].is_u64());
    // passwd: privacyIDEA's base class answer
    let path = write_file(&app, "passwords", &passwords_file());
    let a = app
        .post_form(
            "/resolver/test",
            &[("type", "passwdresolver"), ("fileName", &path)],
        )
        .expect(200);
    assert_eq!(a.value(), json!(false));
    assert_eq!(a.json()["detail"]["description"], "Not implemented");
    // nothing persisted
    assert_eq!(app.get("/resolver/").expect(200).value(), json!({}));
    // `type` is required
    let a = app
        .post_form("/resolver/test", &[("fileName", &path)])
        .expect(400);
    assert_eq!(a.message(), "ERR905: Missing parameter: type");
}

#[test]
fn case_051_defaults() {
    let app = spawn_app();
    let v = app
        .get("/resolver/httpresolver/default")
        .expect(200)
        .value();
    assert_eq!(v["Editable"], false);
    assert!(v.get("headers").is_some());
    for t in ["passwdresolver", "ldapresolver", "sqlresolver"] {
        assert_eq!(
            app.get(&format!("/resolver/{t}/default"))
                .expect(200)
                .value(),
            json!({}),
            "{t}"
        );
    }
    assert_eq!(
        app.get("/resolver/keycloakresolver/default")
            .expect(200)
            .value()["type"],
        "keycloakresolver"
    );
    // unknown type: privacyIDEA 500, here 400
    app.get("/resolver/nosuchtype/default").expect(400);
}

#[test]
fn case_052_type_errors() {
    let app = spawn_app();
    // unknown type: privacyIDEA 500, here 400 naming the known types
    let a = app
        .post_form("/resolver/x", &[("type", "nosuchtype")])
        .expect_error(400, 905);
    assert!(a.message().contains("nosuchtype"), "{}", a.message());
    let a = app
        .post_form("/resolver/x", &[("fileName", "/etc/passwd")])
        .expect(400);
    assert_eq!(a.message(), "ERR905: Missing parameter: type");
    let a = app.post_form("/resolver/x", &[("type", "")]).expect(400);
    assert_eq!(a.message(), "ERR905: Missing parameter: type");
    // invalid name: privacyIDEA 500, here 400
    app.post_form("/resolver/bad%23name", &[("type", "passwdresolver")])
        .expect_error(400, 905);
    // same name (any case) with another type
    passwd_resolver(&app, "reso", &passwords_file());
    let a = app.post_form("/resolver/RESO", &ldap_form(&[])).expect(400);
    assert!(
        a.message()
            .contains("resolver with similar name and other type already exists"),
        "{}",
        a.message()
    );
    assert_eq!(
        app.get("/resolver/")
            .expect(200)
            .value()
            .as_object()
            .expect("obj")
            .len(),
        1
    );
    // `type.X` without `X`
    app.post_form(
        "/resolver/reso",
        &[("type", "passwdresolver"), ("type.extra", "string")],
    )
    .expect_error(400, 905);
}

#[test]
fn case_053_merge_update() {
    let app = spawn_app();
    let id = app
        .post_form("/resolver/testL", &ldap_form(&[]))
        .expect(200)
        .value();
    let before = stored_value(&app, "testL", "BINDPW").expect("BINDPW");
    // __CENSORED__ keeps the stored password; TIMEOUT changes; other keys kept
    let v = app
        .post_form(
            "/resolver/testL",
            &[
                ("type", "ldapresolver"),
                ("BINDPW", "__CENSORED__"),
                ("TIMEOUT", "10"),
            ],
        )
        .expect(200)
        .value();
    assert_eq!(v, id, "an update answers the same id");
    assert_eq!(
        stored_value(&app, "testL", "BINDPW").as_deref(),
        Some(before.as_str())
    );
    let data = app.get("/resolver/testL").expect(200).value()["testL"]["data"].clone();
    assert_eq!(data["TIMEOUT"], "10");
    assert_eq!(data["LDAPURI"], "ldap://127.0.0.1:1");
    // an empty value deletes the key
    app.post_form(
        "/resolver/testL",
        &[("type", "ldapresolver"), ("TIMEOUT", "")],
    )
    .expect(200);
    let data = app.get("/resolver/testL").expect(200).value()["testL"]["data"].clone();
    assert!(data.get("TIMEOUT").is_none(), "{data}");
    assert!(data.get("BINDDN").is_some());
    // a new password replaces the old one (encrypted again)
    app.post_json(
        "/resolver/testL",
        &json!({"type": "ldapresolver", "BINDPW": "newpw"}),
    )
    .expect(200);
    let key = pi_realm::EncKey::load(app.dir.path().join("enckey")).expect("key");
    let now = stored_value(&app, "testL", "BINDPW").expect("BINDPW");
    assert_eq!(key.decrypt_password(&now).expect("decrypts"), "newpw");
    // the connection test replaces __CENSORED__ by the stored password of `resolver`
    let a = app
        .post_form(
            "/resolver/test",
            &[
                ("type", "ldapresolver"),
                ("resolver", "testL"),
                ("LDAPURI", "ldap://127.0.0.1:1"),
                ("BINDPW", "__CENSORED__"),
            ],
        )
        .expect(200);
    assert_eq!(a.value(), json!(false));
}

#[test]
fn type_and_desc_keys() {
    let app = spawn_app();
    let path = write_file(&app, "passwords", &passwords_file());
    app.post_form(
        "/resolver/r1",
        &[
            ("type", "passwdresolver"),
            ("fileName", &path),
            ("type.fileName", "string"),
            ("desc.fileName", "the file"),
            ("secret", "s3cret"),
            ("type.secret", "password"),
        ],
    )
    .expect(200);
    let rows = stored(&app, "r1");
    let file = rows.iter().find(|c| c.0 == "fileName").expect("fileName");
    assert_eq!((file.2.as_str(), file.3.as_str()), ("string", "the file"));
    let secret = rows.iter().find(|c| c.0 == "secret").expect("secret");
    assert_eq!(secret.2, "password");
    assert_ne!(secret.1, "s3cret", "typed password ⇒ encrypted");
    let v = app.get("/resolver/r1").expect(200).value();
    assert_eq!(v["r1"]["data"]["secret"], "__CENSORED__");
    assert_eq!(v["r1"]["censor_keys"], json!(["secret"]));
    // keys unknown to the type are stored (privacyIDEA logs a warning)
    assert_eq!(v["r1"]["data"]["fileName"], path.as_str());
}

#[test]
fn resolver_used_for_logins_after_update() {
    // a merge update of the file name takes effect on the next request
    let app = spawn_app();
    let p1 = write_file(
        &app,
        "one",
        &format!("alice:{}:1:1:A::\n", crate::realm::HASH_TEST),
    );
    let p2 = write_file(
        &app,
        "two",
        &format!("bob:{}:2:2:B::\n", crate::realm::HASH_TEST),
    );
    app.post_form(
        "/resolver/r",
        &[("type", "passwdresolver"), ("fileName", &p1)],
    )
    .expect(200);
    crate::realm::form_realm(&app, "realm1", "r");
    let login = |u: &str| {
        app.post_auth(&[("username", u), ("password", "test")])
            .status
    };
    assert_eq!(login("alice"), 200);
    assert_eq!(login("bob"), 401);
    app.post_form(
        "/resolver/r",
        &[("type", "passwdresolver"), ("fileName", &p2)],
    )
    .expect(200);
    assert_eq!(login("alice"), 401);
    assert_eq!(login("bob"), 200);
}

#[test]
fn resolver_routes_need_an_admin_token() {
    let mut app = spawn_app();
    app.set_token(Some(user_token("selfservice", "realm1")));
    let answers: Vec<crate::support::Answer> = vec![
        app.get("/resolver/"),
        app.get("/resolver/x"),
        app.post_form("/resolver/x", &[("type", "passwdresolver")]),
        app.delete("/resolver/x"),
        app.post_form("/resolver/test", &[("type", "passwdresolver")]),
        app.get("/resolver/passwdresolver/default"),
    ];
    for a in answers {
        assert_eq!(a.expect(401).code(), 4306);
    }
    let v: Value = app.get("/resolver/").json();
    assert_eq!(v["result"]["status"], false);
}
