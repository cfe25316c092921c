//! The SQL resolver end to end (issue 11; spec resolvers-sql-ldap.md §2,
//! spec/resolvers-sql-ldap.md §4, §5.1, §7.2, §7.5): `POST /resolver/<name>` with a SQLite user table,
//! `POST /resolver/test`, realms mixing passwd and SQL resolvers, `/auth` of
//! SQL users (also as superuser-realm admins), a `userinfo` condition on a
//! SQL attribute; PostgreSQL too when `PI_TEST_POSTGRES_URL` is set.
//!
//! Expected answers were taken from the released privacyIDEA 3.14 run on the
//! same fixture table: `PI_REF_DIR=… REF_PORT=5103 ref-server.sh start`,
//! then the same requests (script: POST /auth admin/test, POST
//! /resolver/test with the bodies below, POST /resolver/sql1, POST
//! /realm/{sqlrealm,superuser} resolvers=sql1, POST /auth …, POST
//! /policy/emailpol with the userinfo condition). Recorded answers:
//! test → `{"status":true,"value":20}` + `Found 20 users.`; `Where id > 15`
//! → 5 / `Found 5 users.`; `Driver nosuchdb` → -1 / `Unable to connect to
//! database.`; `Table nosuchtable` and `Where active 1` → -1 / `Failed to
//! retrieve users.`; no `Table` → HTTP 500 (we: 400, docs/compatibility.md);
//! `alice@superuser/alicepw` and `ALICE@superuser` → 200 role admin
//! (username as typed); `alice/x`, `ZOE/ZOEpw` and `alice' OR '1'='1` → 401
//! 4031 `Authentication failed.`; with the policy `alice` gets rights
//! `["disable"]`, `bob` `[]`.

use crate::realm::{form_realm, passwd_resolver, passwords_file, HASH_TEST};
use crate::support::*;
use serde_json::{json, Value};

const MAP: &str = r#"{"userid":"id","username":"username","givenname":"givenname","surname":"surname","email":"email","phone":"phone","mobile":"mobile","password":"password"}"#;

fn fixture_sql() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../crates/pi-realm/testdata/sql-users.sql"),
    )
    .expect("fixture")
}

/// The resolver `sql1` on [`user_table`].
fn add_sql1(app: &TestApp) {
    let path = user_table(app);
    app.post_json("/resolver/sql1", &sqlite_body(&path, json!({})))
        .expect(200);
}

/// The spec/resolvers-sql-ldap.md §6.2 user table as a SQLite file in the app's directory.
fn user_table(app: &TestApp) -> String {
    let path = app.dir.path().join("users.sqlite");
    sqlite_script(&path, &fixture_sql());
    path.display().to_string()
}

fn sqlite_body(path: &str, extra: Value) -> Value {
    let mut body = json!({
        "type": "sqlresolver", "Driver": "sqlite", "Database": path, "Table": "users",
        "Map": MAP, "Encoding": "utf8", "Limit": 500,
    });
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    body
}

fn auth(app: &TestApp, user: &str, pw: &str) -> Answer {
    app.post_auth(&[("username", user), ("password", pw)])
}

fn role_of(a: &Answer) -> (String, String, String) {
    let v = a.value();
    (
        v["role"].as_str().expect("role").to_owned(),
        v["username"].as_str().expect("username").to_owned(),
        v["realm"].as_str().expect("realm").to_owned(),
    )
}

/// Each `(login, password)` logs in to the realm `superuser` as an admin.
#[track_caller]
fn assert_superuser_admins(app: &TestApp, logins: &[(&str, &str)]) {
    for (login, pw) in logins {
        let a = auth(app, &format!("{login}@superuser"), pw).expect(200);
        assert_eq!(role_of(&a), t("admin", login, "superuser"), "{login}");
    }
}

fn t(role: &str, user: &str, realm: &str) -> (String, String, String) {
    (role.into(), user.into(), realm.into())
}

#[test]
fn sql_resolver_test_endpoint_matches_the_release() {
    let app = spawn_app();
    let path = user_table(&app);
    let test = |extra: Value| {
        let a = app
            .post_json("/resolver/test", &sqlite_body(&path, extra))
            .expect(200);
        let j = a.json();
        (
            j["result"]["value"].clone(),
            j["detail"]["description"]
                .as_str()
                .expect("description")
                .to_owned(),
        )
    };
    assert_eq!(test(json!({})), (json!(20), "Found 20 users.".into()));
    assert_eq!(
        test(json!({"Where": "id > 15"})),
        (json!(5), "Found 5 users.".into())
    );
    assert_eq!(
        test(json!({"Where": "username like wal%"})),
        (json!(2), "Found 2 users.".into())
    );
    assert_eq!(
        test(json!({"Where": "active != 1"})),
        (json!(20), "Found 20 users.".into())
    );
    assert_eq!(
        test(json!({"Driver": "nosuchdb"})),
        (json!(-1), "Unable to connect to database.".into())
    );
    for extra in [
        json!({"Table": "nosuchtable"}),
        json!({"Where": "active 1"}),
        json!({"Where": "nocol == 1"}),
        json!({"Table": "users; DROP TABLE users"}),
    ] {
        assert_eq!(test(extra), (json!(-1), "Failed to retrieve users.".into()));
    }
    // form-encoded works the same
    let a = app
        .post_form(
            "/resolver/test",
            &[
                ("type", "sqlresolver"),
                ("Driver", "sqlite"),
                ("Database", &path),
                ("Table", "users"),
                ("Where", "id < 3"),
            ],
        )
        .expect(200);
    assert_eq!(a.value(), json!(2));
    // the release answers 500 without `Table`; we answer a parameter error
    let mut body = sqlite_body(&path, json!({}));
    body.as_object_mut().expect("object").remove("Table");
    app.post_json("/resolver/test", &body)
        .expect_error(400, 905);
    // an unreachable database server is a clean -1 in time
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let a = app
        .post_json(
            "/resolver/test",
            &json!({"type": "sqlresolver", "Driver": "postgresql", "Server": "127.0.0.1",
                    "Port": closed, "Database": "x", "User": "u", "Password": "p", "Table": "users"}),
        )
        .expect(200);
    assert_eq!(a.value(), json!(-1));
    // nothing was stored
    assert_eq!(app.get("/resolver/").expect(200).value(), json!({}));
}

#[test]
fn sql_users_log_in_through_realms() {
    let app = spawn_app_with_superuser_realms("['superuser']");
    let path = user_table(&app);
    let a = app
        .post_json("/resolver/sql1", &sqlite_body(&path, json!({})))
        .expect(200);
    assert_eq!(a.value(), json!(1));
    // stored like the release: no password, so nothing to censor
    let r = app.get("/resolver/sql1").expect(200).value();
    assert_eq!(r["sql1"]["censor_keys"], json!([]));
    assert_eq!(r["sql1"]["data"]["Limit"], json!("500"));
    form_realm(&app, "sqlrealm", "sql1");
    form_realm(&app, "superuser", "sql1");
    // users: role user, login as typed
    assert_eq!(
        role_of(&auth(&app, "alice@sqlrealm", "alicepw").expect(200)),
        t("user", "alice", "sqlrealm")
    );
    assert_eq!(
        role_of(&auth(&app, "ALICE@sqlrealm", "alicepw").expect(200)),
        t("user", "ALICE", "sqlrealm")
    );
    // superuser realm: role admin (spec/resolvers-sql-ldap.md §7.5 sqlite1 column)
    assert_superuser_admins(
        &app,
        &[
            ("alice", "alicepw"),
            ("carol", "carolpw"),
            ("eve", "evepw"),
            ("heidi", "heidipw"),
            ("ivan", "ivanpw"),
            ("judy", "judypw"),
            ("mallory", "mallorypw"),
            ("oscar", "oscarpw"),
            ("zoe", "zoepw"),
            ("inactive", "inactivepw"),
        ],
    );
    for (login, pw) in [
        ("alice", "x"),
        ("alice", "alicepwx"),
        ("trent", "trentpw"),
        ("victor", "x"),
        ("ZOE", "ZOEpw"),
        ("wal%ter", "walterpw"),
        ("walXter", "walterpw"),
        ("%", "alicepw"),
        ("*", "alicepw"),
        ("alice' OR '1'='1", "alicepw"),
        ("nobody", "x"),
    ] {
        let a = auth(&app, &format!("{login}@superuser"), pw).expect(401);
        assert_eq!(a.code(), 4031, "{login}");
        assert_eq!(a.message(), "Authentication failed.", "{login}");
    }
    // a SQL superuser's token works on admin routes
    let a = auth(&app, "alice@superuser", "alicepw").expect(200);
    let token = a.value()["token"].as_str().expect("token").to_owned();
    app.get_as("/resolver/", &token).expect(200);
}

#[test]
fn realms_mixing_passwd_and_sql_resolve_by_priority() {
    let app = spawn_app();
    add_sql1(&app);
    // the passwd file also has an `alice` (password `test`)
    passwd_resolver(
        &app,
        "files",
        &format!(
            "{}alice:{HASH_TEST}:1000:1000:Alice Passwd::\n",
            passwords_file()
        ),
    );
    let set = |sql: &str, files: &str| {
        app.post_form(
            "/realm/mixed",
            &[
                ("resolvers", "sql1,files"),
                ("priority.sql1", sql),
                ("priority.files", files),
            ],
        )
        .expect(200);
    };
    set("1", "2");
    auth(&app, "alice@mixed", "alicepw").expect(200);
    auth(&app, "alice@mixed", "test").expect(401);
    // users only the lower-priority resolver knows are still found
    auth(&app, "hans@mixed", "test").expect(200);
    set("3", "2");
    auth(&app, "alice@mixed", "test").expect(200);
    auth(&app, "alice@mixed", "alicepw").expect(401);
    auth(&app, "bob@mixed", "bobpw").expect(200);
    // a SQL resolver whose database is down ends the lookup (spec/resolvers-sql-ldap.md §1.6 on the release /
    // spec/resolvers-sql-ldap.md §7.5 "PG closed port … 401 immediately"): lower priorities are not asked
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    app.post_json(
        "/resolver/down",
        &json!({"type": "sqlresolver", "Driver": "postgresql", "Server": "127.0.0.1",
                "Port": closed, "Database": "x", "User": "u", "Password": "p",
                "Table": "users", "Map": MAP}),
    )
    .expect(200);
    app.post_form(
        "/realm/downfirst",
        &[
            ("resolvers", "down,files"),
            ("priority.down", "1"),
            ("priority.files", "2"),
        ],
    )
    .expect(200);
    let start = std::time::Instant::now();
    auth(&app, "hans@downfirst", "test").expect(401);
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    app.post_form(
        "/realm/downfirst",
        &[
            ("resolvers", "down,files"),
            ("priority.down", "3"),
            ("priority.files", "2"),
        ],
    )
    .expect(200);
    auth(&app, "hans@downfirst", "test").expect(200);
}

#[test]
fn userinfo_conditions_see_sql_attributes() {
    let app = spawn_app();
    add_sql1(&app);
    form_realm(&app, "sqlrealm", "sql1");
    app.post_json(
        "/policy/emailpol",
        &json!({"scope": "user", "action": "disable", "realm": "sqlrealm", "active": true,
                "conditions": [["userinfo", "email", "equals", "alice@example.org", true]]}),
    )
    .expect(200);
    let rights = |user: &str, pw: &str| auth(&app, user, pw).expect(200).value()["rights"].clone();
    // the release: alice ["disable"], bob []
    assert_eq!(rights("alice@sqlrealm", "alicepw"), json!(["disable"]));
    assert_eq!(rights("bob@sqlrealm", "bobpw"), json!([]));
    // the resolver is part of the user object too
    app.post_json(
        "/policy/respol",
        &json!({"scope": "user", "action": "enable", "realm": "sqlrealm", "resolver": "sql1", "active": true}),
    )
    .expect(200);
    assert_eq!(rights("bob@sqlrealm", "bobpw"), json!(["enable"]));
}

#[test]
fn postgres_user_table_when_available() {
    let Some(db) = PgDb::create() else {
        return;
    };
    db.exec(&fixture_sql().replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY"));
    let base = std::env::var("PI_TEST_POSTGRES_URL").expect("url");
    let rest = base.split_once("://").expect("scheme").1;
    let (auth_part, hostdb) = rest.rsplit_once('@').unwrap_or(("", rest));
    let (user, password) = auth_part.split_once(':').unwrap_or((auth_part, ""));
    let hostport = hostdb.split('/').next().expect("host");
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "5432"));
    let dbname = db.uri.rsplit('/').next().expect("db");
    let app = spawn_app_with_superuser_realms("['superuser']");
    let body = json!({
        "type": "sqlresolver", "Driver": "postgresql+psycopg2", "Server": host, "Port": port,
        "Database": dbname, "User": user, "Password": password, "Table": "users", "Map": MAP,
        "Where": "active == 1", "Limit": 500, "Editable": 1,
    });
    let a = app.post_json("/resolver/test", &body).expect(200);
    assert_eq!(a.value(), json!(19));
    assert_eq!(a.json()["detail"]["description"], "Found 19 users.");
    let mut public = body.clone();
    public["Table"] = json!("public.users");
    assert_eq!(
        app.post_json("/resolver/test", &public).expect(200).value(),
        json!(19)
    );
    app.post_json("/resolver/pg1", &body).expect(200);
    if !password.is_empty() {
        // S49: the stored secret replaces __CENSORED__ for the exact name
        let mut censored = body.clone();
        censored["Password"] = json!("__CENSORED__");
        censored["resolver"] = json!("pg1");
        assert_eq!(
            app.post_json("/resolver/test", &censored)
                .expect(200)
                .value(),
            json!(19)
        );
        let g = app.get("/resolver/pg1").expect(200).value();
        assert_eq!(g["pg1"]["censor_keys"], json!(["Password"]));
    }
    form_realm(&app, "superuser", "pg1");
    // spec/resolvers-sql-ldap.md §7.5 pg1: case-sensitive LIKE, Where active == 1
    assert_superuser_admins(
        &app,
        &[
            ("alice", "alicepw"),
            ("zoe", "zoepw"),
            ("ZOE", "ZOEpw"),
            ("heidi", "heidipw"),
            ("mallory", "mallorypw"),
        ],
    );
    for (login, pw) in [("ALICE", "alicepw"), ("inactive", "inactivepw")] {
        auth(&app, &format!("{login}@superuser"), pw).expect(401);
    }
}
