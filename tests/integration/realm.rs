//! Realms and default realm over HTTP (spec/realm-auth-server.md §1, §8 cases
//! 1–8, 11–44). Cases 9 and 10 (custom user attributes) and 41 (tokens) are
//! played with rows written into privacyIDEA's own tables of a privacyIDEA
//! 3.14 schema, since this server manages neither tokens nor attributes.
//! Case 44 (export/import) is out of scope: there is no realm export yet.

use crate::support::*;
use serde_json::{json, Value};

/// sha512_crypt of `test` (passlib, salt `e2esalt0`).
pub const HASH_TEST: &str = "$6$e2esalt0$iD.hPT4Mzl/CEaMxkLAoxW13xzuumvXdpb/eQbUUUGn.Nr6ib4xksj68jzC8P5NbtfgF.o6DtbnI2AtFJcpD40";
/// sha512_crypt of `other`.
pub const HASH_OTHER: &str = "$6$e2esalt0$XG7pd1Y6EzJ4FrIsgR031OPGrt4xcaVQemXVDtNHCVG.1vqeXRyatd/yEN7LdiNwnzUtkTpEodmFy0VCIMK380";

/// privacyIDEA's testing node UUIDs (`nd1` is its `PI_NODE_UUID`).
pub const ND1: &str = "8e4272a9-9037-40df-8aa3-976e4a04b5a9";
/// The second node of privacyIDEA's tests.
pub const ND2: &str = "d1d7fde6-330f-4c12-88f3-58a1752594bf";

/// The users of privacyIDEA's `tests/testdata/passwords` that the cases use,
/// all with password `test`.
pub fn passwords_file() -> String {
    [
        (
            "cornelius",
            "1000",
            "Cornelius,field2,+491111111,+491234566,user@localhost.localdomain",
        ),
        ("selfservice", "1004", "Self Service"),
        ("hans", "1118", "Hans Wurst"),
    ]
    .iter()
    .map(|(u, uid, gecos)| format!("{u}:{HASH_TEST}:{uid}:{uid}:{gecos}:/home/{u}:/bin/bash\n"))
    .collect()
}

/// Write a file into the app's directory; returns its absolute path.
pub fn write_file(app: &TestApp, name: &str, content: &str) -> String {
    let p = app.dir.path().join(name);
    std::fs::write(&p, content).expect("write file");
    p.display().to_string()
}

/// Create a passwd resolver over `content` the privacyideaadm way (form,
/// `type=passwdresolver&fileName=…`); returns its id.
pub fn passwd_resolver(app: &TestApp, name: &str, content: &str) -> i64 {
    let path = write_file(app, &format!("{name}.passwd"), content);
    let a = app
        .post_form(
            &format!("/resolver/{name}"),
            &[("type", "passwdresolver"), ("fileName", &path)],
        )
        .expect(200);
    a.value().as_i64().expect("resolver id")
}

/// `POST /realm/<name>` with `resolvers=<comma list>` as a form.
pub fn form_realm(app: &TestApp, name: &str, resolvers: &str) -> Value {
    app.post_form(&format!("/realm/{name}"), &[("resolvers", resolvers)])
        .expect(200)
        .value()
}

/// Store a policy straight into the app's database (the /policy routes are
/// another engineer's; the server sees it through the config version).
pub fn put_policy(
    app: &TestApp,
    name: &str,
    scope: &str,
    action: &str,
    edit: impl FnOnce(&mut pi_model::record::PolicyRecord),
) {
    let mut rec = pi_model::record::PolicyRecord {
        name: name.into(),
        scope: scope.into(),
        active: true,
        action: action.into(),
        priority: 1,
        ..Default::default()
    };
    edit(&mut rec);
    app.store()
        .save_policy(&rec, Some(&[]))
        .expect("save policy");
}

/// Insert a node into `nodename` the way another privacyIDEA node would.
pub fn register_node(app: &TestApp, uuid: &str, name: &str) {
    app.store()
        .register_node(uuid, name, chrono::Utc::now().naive_utc())
        .expect("register node");
}

/// The realm object of `GET /realm/`.
pub fn get_realm(app: &TestApp, name: &str) -> Value {
    app.get("/realm/").expect(200).value()[name].clone()
}

/// `(name, priority, node)` of the realm's resolver entries in order.
pub fn entries(realm: &Value) -> Vec<(String, Value, String)> {
    realm["resolver"]
        .as_array()
        .expect("resolver list")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().expect("name").to_string(),
                e["priority"].clone(),
                e["node"].as_str().unwrap_or("<null>").to_string(),
            )
        })
        .collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("string").to_string())
        .collect()
}

// ----- realms and default realm -----

#[test]
fn case_001_to_008_realm_and_resolver_lifecycle() {
    let app = spawn_app();
    // 1. privacyideaadm-style form with lower-case `filename` (the loader accepts both)
    let path = write_file(&app, "passwords", &passwords_file());
    let a = app
        .post_form(
            "/resolver/reso1_with_realm",
            &[("filename", &path), ("type", "passwdresolver")],
        )
        .expect(200);
    let reso_id = a.value().as_i64().expect("id");
    assert!(reso_id >= 1);
    // 2. form `resolvers=`
    let v = form_realm(&app, "realm1_with_resolver", "reso1_with_realm");
    assert_eq!(v, json!({"added": ["reso1_with_realm"], "failed": []}));
    // 3. JSON list with an unknown resolver
    let v = app
        .post_json(
            "/realm/realm2",
            &json!({"resolvers": ["reso1_with_realm", "resolver2"]}),
        )
        .expect(200)
        .value();
    assert_eq!(
        v,
        json!({"added": ["reso1_with_realm"], "failed": ["resolver2"]})
    );
    // 4. the listing, with id and type
    let list = app.get("/realm/").expect(200).value();
    let r1 = &list["realm1_with_resolver"];
    assert_eq!(r1["resolver"][0]["name"], "reso1_with_realm");
    assert_eq!(
        r1["resolver"][0],
        json!({"name": "reso1_with_realm", "node": "", "priority": null, "type": "passwdresolver"})
    );
    assert!(r1["id"].as_i64().expect("id") >= 1);
    assert_eq!(r1["default"], true, "first realm is the default");
    assert_eq!(list["realm2"]["default"], false);
    // 6. a resolver in a realm cannot be deleted
    let a = app
        .delete("/resolver/reso1_with_realm")
        .expect_error(400, 302);
    a.assert_message_starts_with(
        "ERR302: The resolver 'reso1_with_realm' is still contained in realm",
    );
    // 7. delete both realms
    let id = app
        .delete("/realm/realm1_with_resolver")
        .expect(200)
        .value();
    assert!(id.as_i64().expect("id") >= 1);
    app.delete("/realm/realm2").expect(200);
    // 8. now the resolver goes, answering its id
    assert_eq!(
        app.delete("/resolver/reso1_with_realm").expect(200).value(),
        json!(reso_id)
    );
    assert_eq!(app.get("/realm/").expect(200).value(), json!({}));
}

#[test]
fn case_005_superuser_realm_list() {
    let app = spawn_app_with_superuser_realms("['adminrealm', 'SuperUsers']");
    let v = app.get("/realm/superuser").expect(200).value();
    assert_eq!(
        v,
        json!(["adminrealm", "SuperUsers"]),
        "as configured, case kept"
    );
    // unset ⇒ []
    let plain = spawn_app();
    assert_eq!(plain.get("/realm/superuser").expect(200).value(), json!([]));
    // only GET is special: POST creates a realm named `superuser`
    passwd_resolver(&plain, "r1", &passwords_file());
    form_realm(&plain, "superuser", "r1");
    assert!(plain
        .get("/realm/")
        .expect(200)
        .value()
        .get("superuser")
        .is_some());
    // GET /realm/<other> is no route
    plain.get("/realm/other").expect(405);
}

/// A server on privacyIDEA's own (SQLite) schema with the realm `realm1`
/// (passwd resolver `resolver1`), and the realm's id.
fn privacyidea_db_with_realm1() -> (TestApp, i64) {
    let app = spawn_app_with(AppOptions {
        sqlite_preload: Some(fixture("privacyidea-3.14-sqlite-schema.sql")),
        ..Default::default()
    });
    passwd_resolver(&app, "resolver1", &passwords_file());
    form_realm(&app, "realm1", "resolver1");
    let realm_id = get_realm(&app, "realm1")["id"].as_i64().expect("id");
    (app, realm_id)
}

#[test]
fn case_009_010_custom_user_attributes_block_deletion() {
    // privacyIDEA's database with a custom attribute of a realm user; this
    // server does not manage attributes, the rows are written as privacyIDEA would.
    let (app, realm_id) = privacyidea_db_with_realm1();
    sqlite_exec(&app, &format!(
        "INSERT INTO customuserattribute (user_id, resolver, realm_id, \"Key\", \"Value\") VALUES ('1000', 'resolver1', {realm_id}, 'department', 'sales');"
    ));
    // 9. refused with code 908 naming the key; realm and attribute stay
    app.delete("/realm/realm1").expect_error_message(
        400,
        908,
        "ERR908: Realm 'realm1' contains custom user attributes (department). Deleting the realm will also delete these custom user attributes.",
    );
    assert!(!get_realm(&app, "realm1").is_null());
    assert_eq!(
        sqlite_query(&app, "SELECT COUNT(*) FROM customuserattribute"),
        "1"
    );
    // 10. confirmed ⇒ realm and attribute gone
    app.delete("/realm/realm1?delete_custom_attributes=1")
        .expect(200);
    assert!(get_realm(&app, "realm1").is_null());
    assert_eq!(
        sqlite_query(
            &app,
            "SELECT COUNT(*) FROM customuserattribute WHERE \"Key\" = 'department'"
        ),
        "0"
    );
}

/// Run SQL on the app's SQLite database.
pub fn sqlite_exec(app: &TestApp, sql: &str) {
    sqlite_query(app, sql);
}

/// On an app whose database is MariaDB/MySQL (`PI_TEST_E2E_DB=mysql`): run
/// the SQL with the `mariadb` client (ANSI quotes, like the server's
/// sessions) and return the first column of the first row.
fn mysql_query(app: &TestApp, sql: &str) -> Option<String> {
    let rest = app.db_uri.strip_prefix("mysql://")?;
    let (auth, hostdb) = rest.rsplit_once('@').unwrap_or(("root", rest));
    let (user, pw) = auth.split_once(':').unwrap_or((auth, ""));
    let (hostport, db) = hostdb.split_once('/').expect("database");
    let db = db.split('?').next().unwrap_or(db);
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    let out = std::process::Command::new("mariadb")
        .args(["--no-defaults", "-N", "-B", "-h", host, "-P", port, "-u", user])
        .arg(format!("--password={pw}"))
        .arg("--init-command=SET SESSION sql_mode = CONCAT_WS(',', @@SESSION.sql_mode, 'ANSI_QUOTES')")
        .arg(db)
        .arg("-e")
        .arg(sql)
        .output()
        .expect("mariadb client");
    Some(
        stdout_of(sql, out)
            .lines()
            .next()
            .unwrap_or("")
            .split('\t')
            .next()
            .unwrap_or("")
            .trim()
            .to_string(),
    )
}

/// Run SQL on the app's SQLite database and return the first column of the
/// first row as text (`""` if none).
pub fn sqlite_query(app: &TestApp, sql: &str) -> String {
    if let Some(out) = mysql_query(app, sql) {
        return out;
    }
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg("import sqlite3,sys\nc=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchone(); c.commit(); print('' if r is None else r[0])")
        .arg(app.dir.path().join("pi.sqlite"))
        .arg(sql)
        .output()
        .expect("python3");
    stdout_of(sql, out).trim().to_string()
}

/// The stdout of a client that ran `sql` (asserting that it succeeded).
#[track_caller]
fn stdout_of(sql: &str, out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn case_011_form_priority_and_case_012_014_default_realm() {
    let app = spawn_app();
    passwd_resolver(&app, "defresolver", &passwords_file());
    // 11. a form value is a string: privacyIDEA drops it, we keep it (docs/compatibility.md)
    app.post_form(
        "/realm/defrealm",
        &[("resolvers", "defresolver"), ("priority.defresolver", "10")],
    )
    .expect(200);
    assert_eq!(
        entries(&get_realm(&app, "defrealm")),
        [("defresolver".to_string(), json!(10), String::new())]
    );
    // 12. the only realm is the default
    let v = app.get("/defaultrealm").expect(200).value();
    assert_eq!(v["defrealm"]["default"], true);
    assert_eq!(v["defrealm"]["resolver"][0]["name"], "defresolver");
    // 13. clear it: answers the old default's id
    let id = get_realm(&app, "defrealm")["id"].clone();
    assert_eq!(app.delete("/defaultrealm").expect(200).value(), id);
    assert_eq!(app.get("/defaultrealm").expect(200).value(), json!({}));
    assert_eq!(
        app.delete("/defaultrealm").expect(200).value(),
        json!(0),
        "no default ⇒ 0"
    );
    app.delete("/defaultrealm/").expect(404);
    // 14. set it again (name lower-cased and stripped first)
    assert_eq!(
        app.post_form("/defaultrealm/DefRealm", &[])
            .expect(200)
            .value(),
        id
    );
    assert!(app
        .get("/defaultrealm")
        .expect(200)
        .value()
        .get("defrealm")
        .is_some());
}

#[test]
fn case_015_016_unknown_realm() {
    let app = spawn_app();
    app.post_form("/defaultrealm/nosuch", &[])
        .expect_error_message(404, 601, "The requested Realm could not be found.");
    app.delete("/realm/nosuch").expect_error_message(
        404,
        601,
        "The requested Realm could not be found.",
    );
    // DELETE uses the name as typed: `MyRealm` is not `myrealm`
    passwd_resolver(&app, "r1", &passwords_file());
    form_realm(&app, "MyRealm", "r1");
    assert!(!get_realm(&app, "myrealm").is_null(), "stored lower-case");
    if app.db_uri.starts_with("mysql") {
        // MariaDB/MySQL: privacyIDEA's tables compare names
        // case-insensitively (utf8mb4_general_ci), privacyIDEA's too
        app.delete("/realm/MyRealm").expect(200);
    } else {
        app.delete("/realm/MyRealm").expect(404);
        app.delete("/realm/myrealm").expect(200);
    }
}

#[test]
fn case_017_spaces_in_form_list() {
    let app = spawn_app();
    passwd_resolver(&app, "r1", &passwords_file());
    let v = form_realm(&app, "realm1", "r1, r2");
    assert_eq!(v, json!({"added": ["r1"], "failed": ["r2"]}));
    // a JSON list is accepted too, names stripped
    let v = app
        .post_json("/realm/realm1", &json!({"resolvers": [" r1 "]}))
        .expect(200)
        .value();
    assert_eq!(v, json!({"added": ["r1"], "failed": []}));
}

#[test]
fn case_018_019_json_priority_and_ignored_node_key() {
    let app = spawn_app();
    passwd_resolver(&app, "local_resolver_1", &passwords_file());
    passwd_resolver(&app, "r1", &passwords_file());
    // 18. `node.<resolver>` is ignored by POST /realm/<realm>
    let v = app
        .post_json(
            "/realm/realm_with_node",
            &json!({"resolvers": ["local_resolver_1"], "node.local_resolver_1": ND1, "priority.local_resolver_1": 10}),
        )
        .expect(200)
        .value();
    assert_eq!(strs(&v["added"]).len(), 1);
    assert_eq!(
        node_entries(&app),
        [("local_resolver_1".to_string(), json!(10), String::new())]
    );
    // 19. JSON integer priority, node ""
    app.post_json(
        "/realm/realm1",
        &json!({"resolvers": "r1", "priority.r1": 5}),
    )
    .expect(200);
    assert_eq!(
        entries(&get_realm(&app, "realm1")),
        [("r1".to_string(), json!(5), String::new())]
    );
    // JSON true counts as 1, 0 and null as no priority
    app.post_json(
        "/realm/realm1",
        &json!({"resolvers": "r1", "priority.r1": true}),
    )
    .expect(200);
    assert_eq!(entries(&get_realm(&app, "realm1"))[0].1, json!(1));
    app.post_json(
        "/realm/realm1",
        &json!({"resolvers": "r1", "priority.r1": 0}),
    )
    .expect(200);
    assert_eq!(entries(&get_realm(&app, "realm1"))[0].1, json!(null));
    // the priority key uses the name as split, before stripping
    app.post_json(
        "/realm/realm1",
        &json!({"resolvers": "local_resolver_1, r1", "priority.r1": 7}),
    )
    .expect(200);
    assert_eq!(
        entries(&get_realm(&app, "realm1"))[1],
        ("r1".to_string(), json!(null), String::new())
    );
    // a priority that is no integer: privacyIDEA drops it silently, we refuse it
    let a = app
        .post_json(
            "/realm/realm1",
            &json!({"resolvers": "r1", "priority.r1": "ten"}),
        )
        .expect(400);
    assert_eq!(a.code(), 905);
}

#[test]
fn case_020_realm_name_normalisation() {
    let app = spawn_app();
    passwd_resolver(&app, "r1", &passwords_file());
    form_realm(&app, "My%20Realm", "r1");
    assert!(!get_realm(&app, "my-realm").is_null());
    form_realm(&app, "realm1.com", "r1");
    assert!(!get_realm(&app, "realm1.com").is_null());
    // privacyIDEA answers 500; we answer 400 in the envelope (docs/compatibility.md)
    let a = app
        .post_form("/realm/bad%23name", &[("resolvers", "r1")])
        .expect_error(400, 905);
    assert_eq!(a.json()["result"]["status"], false);
    app.post_form("/realm/%23%23%23%23%23", &[("resolvers", "r1")])
        .expect_error(400, 905);
    // `resolvers` is required and not empty (3.14)
    let a = app
        .post_form("/realm/realm1", &[("resolvers", "")])
        .expect(400);
    assert_eq!(a.message(), "ERR905: Missing parameter: resolvers");
    let a = app.post_form("/realm/realm1", &[]).expect(400);
    assert_eq!(a.message(), "ERR905: Missing parameter: resolvers");
    // JSON [] is a realm without resolvers
    let v = app
        .post_json("/realm/empty", &json!({"resolvers": []}))
        .expect(200)
        .value();
    assert_eq!(v, json!({"added": [], "failed": []}));
    assert_eq!(get_realm(&app, "empty")["resolver"], json!([]));
    // the same resolver twice: privacyIDEA's integrity error (500), here 400
    app.post_form("/realm/realm1", &[("resolvers", "r1,r1")])
        .expect_error(400, 905);
}

#[test]
fn case_021_022_default_realm_rules() {
    let app = spawn_app();
    passwd_resolver(&app, "r1", &passwords_file());
    form_realm(&app, "a", "r1");
    form_realm(&app, "b", "r1");
    let list = app.get("/realm/").expect(200).value();
    assert_eq!(list["a"]["default"], true, "21. first realm is default");
    assert_eq!(list["b"]["default"], false);
    // 22. deleting the default leaves b as only realm ⇒ default
    app.delete("/realm/a").expect(200);
    assert_eq!(get_realm(&app, "b")["default"], true);
    // a sole realm is re-defaulted by every write, even after clearing
    app.delete("/defaultrealm").expect(200);
    assert_eq!(get_realm(&app, "b")["default"], false);
    form_realm(&app, "b", "r1");
    assert_eq!(get_realm(&app, "b")["default"], true);
}

// ----- node-specific realms (cases 23–35, privacyIDEA's test_31_realm_node_api) -----

#[test]
fn case_023_unknown_node() {
    let app = spawn_app();
    passwd_resolver(&app, "local_resolver_1", &passwords_file());
    let a = app
        .post_json(
            &format!("/realm/realm_with_node/node/{ND1}"),
            &json!({"resolver": [{"name": "local_resolver_1"}]}),
        )
        .expect(400);
    assert_eq!(a.code(), 905);
    assert_eq!(a.message(), "ERR905: The given node does not exist!");
    assert!(
        get_realm(&app, "realm_with_node").is_null(),
        "nothing created"
    );
}

fn node_app() -> TestApp {
    let app = spawn_app();
    for name in ["local_resolver_1", "local_resolver_2", "global_resolver"] {
        passwd_resolver(&app, name, &passwords_file());
    }
    register_node(&app, ND1, "Node1");
    register_node(&app, ND2, "Node2");
    app
}

fn node_post(app: &TestApp, node: &str, body: &Value) -> crate::support::Answer {
    app.post_json(&format!("/realm/realm_with_node/node/{node}"), body)
}

/// Sets `node`'s resolvers of `realm_with_node` (status 200): `result.value`.
fn set_node_resolvers(app: &TestApp, node: &str, resolvers: Value) -> Value {
    node_post(app, node, &json!({ "resolver": resolvers }))
        .expect(200)
        .value()
}

/// The resolver entries of `realm_with_node`.
fn node_entries(app: &TestApp) -> Vec<(String, Value, String)> {
    entries(&get_realm(app, "realm_with_node"))
}

#[test]
fn case_024_to_026_unverifiable_bodies() {
    let app = node_app();
    let verify = "ERR905: Could not verify data in request!";
    // 24. priority that is no integer
    for priority in ["foo", "5.7"] {
        let body = json!({"resolver": [{"name": "local_resolver_1", "priority": priority}]});
        let a = node_post(&app, ND1, &body).expect(400);
        assert_eq!(a.message(), verify, "{body}");
    }
    // 25. not JSON
    let a = app
        .send(
            app.client()
                .post(app.url(&format!("/realm/realm_with_node/node/{ND1}")))
                .header("Content-Type", "text/plain")
                .body("not-json"),
            None,
        )
        .expect(400);
    assert_eq!(a.message(), verify);
    // 26. entry without name; no `resolver` key; a JSON list body
    for body in [
        json!({"resolver": [{"priority": "10"}]}),
        json!({"resolvers": []}),
        json!([{"name": "local_resolver_1"}]),
        // privacyIDEA answers 500 for these; 400 here
        json!({"resolver": ["local_resolver_1"]}),
        json!({"resolver": null}),
    ] {
        let a = node_post(&app, ND1, &body).expect(400);
        assert_eq!(a.message(), verify, "{body}");
    }
    assert!(get_realm(&app, "realm_with_node").is_null());
}

#[test]
fn case_027_to_035_node_specific_assignments() {
    let app = node_app();
    let lr1 = || "local_resolver_1".to_string();
    let lr2 = || "local_resolver_2".to_string();
    // 27. unknown resolver: realm created without resolvers
    let v = set_node_resolvers(
        &app,
        ND1,
        json!([{"name": "unknown_resolver", "priority": 10}]),
    );
    assert_eq!(v, json!({"added": [], "failed": ["unknown_resolver"]}));
    assert_eq!(get_realm(&app, "realm_with_node")["resolver"], json!([]));
    // 28.
    let v = set_node_resolvers(
        &app,
        ND1,
        json!([{"name": "local_resolver_1", "priority": 10}]),
    );
    assert_eq!(v, json!({"added": ["local_resolver_1"], "failed": []}));
    assert_eq!(node_entries(&app), [(lr1(), json!(10), ND1.to_string())]);
    // 29. the same resolver on nd2 without priority; nd1 kept
    // 30. numeric string priority
    for (priority, stored) in [(json!(null), json!(null)), (json!("5"), json!(5))] {
        let v = set_node_resolvers(
            &app,
            ND2,
            json!([{"name": "local_resolver_1", "priority": priority}]),
        );
        assert_eq!(strs(&v["added"]).len(), 2);
        let mut e = node_entries(&app);
        e.sort_by(|a, b| a.2.cmp(&b.2));
        let want = [
            (lr1(), json!(10), ND1.to_string()),
            (lr1(), stored, ND2.to_string()),
        ];
        assert_eq!(e, want, "priority {priority}");
    }
    // 31. two on nd2
    let v = set_node_resolvers(
        &app,
        ND2,
        json!([{"name": "local_resolver_1", "priority": "5"}, {"name": "local_resolver_2", "priority": "20"}]),
    );
    assert_eq!(strs(&v["added"]).len(), 3);
    let e = node_entries(&app);
    assert!(e.contains(&(lr2(), json!(20), ND2.to_string())), "{e:?}");
    // 32. nd1 without priority (a float would be truncated: 5.9 ⇒ 5)
    let v = set_node_resolvers(&app, ND1, json!([{"name": "local_resolver_1"}]));
    assert_eq!(strs(&v["added"]).len(), 3);
    let e = node_entries(&app);
    assert!(e.contains(&(lr1(), json!(null), ND1.to_string())), "{e:?}");
    // 33. the node-less part: node entries are preserved
    let v = app
        .post_json(
            "/realm/realm_with_node",
            &json!({"resolvers": "global_resolver"}),
        )
        .expect(200)
        .value();
    assert_eq!(strs(&v["added"]).len(), 4);
    let e = node_entries(&app);
    let global: Vec<_> = e.iter().filter(|x| x.2.is_empty()).collect();
    assert_eq!(
        global,
        [&("global_resolver".to_string(), json!(null), String::new())]
    );
    // 34. replace nd2's assignments only
    let v = set_node_resolvers(
        &app,
        ND2,
        json!([{"name": "local_resolver_2", "priority": "20"}]),
    );
    assert_eq!(strs(&v["added"]).len(), 3);
    let e = node_entries(&app);
    let lr1_entries: Vec<_> = e.iter().filter(|x| x.0 == "local_resolver_1").collect();
    assert_eq!(lr1_entries, [&(lr1(), json!(null), ND1.to_string())]);
    assert!(e.contains(&(lr2(), json!(20), ND2.to_string())));
    // 35. empty list removes nd1's assignments
    let v = set_node_resolvers(&app, ND1, json!([]));
    let added = strs(&v["added"]);
    assert_eq!(added.len(), 2);
    assert!(added.contains(&lr2()));
    let e = node_entries(&app);
    assert!(e.iter().all(|x| x.0 != "local_resolver_1"), "{e:?}");
    // a float priority is truncated
    node_post(
        &app,
        ND1,
        &json!({"resolver": [{"name": "local_resolver_1", "priority": 5.9}]}),
    )
    .expect(200);
    assert!(node_entries(&app).contains(&(lr1(), json!(5), ND1.to_string())));
}

#[test]
fn node_entries_survive_mixed_case_post() {
    // privacyIDEA looks the realm up by the URL name as typed and drops the
    // node entries for `POST /realm/Realm_With_Node`; we keep them (docs/compatibility.md).
    let app = node_app();
    node_post(
        &app,
        ND1,
        &json!({"resolver": [{"name": "local_resolver_1", "priority": 3}]}),
    )
    .expect(200);
    let v = app
        .post_form(
            "/realm/Realm_With_Node",
            &[("resolvers", "global_resolver")],
        )
        .expect(200)
        .value();
    assert_eq!(
        v,
        json!({"added": ["global_resolver", "local_resolver_1"], "failed": []})
    );
    let e = node_entries(&app);
    assert!(
        e.contains(&("local_resolver_1".to_string(), json!(3), ND1.to_string())),
        "{e:?}"
    );
}

#[test]
fn migrated_null_node_rows_are_kept_by_the_node_endpoint() {
    // rows from privacyIDEA < 3.10 have node NULL (= all nodes); privacyIDEA's
    // node endpoint re-submits them as node "None" and loses them. We keep them.
    let app = node_app();
    form_realm(&app, "realm_with_node", "global_resolver");
    sqlite_exec(&app, "UPDATE resolverrealm SET node_uuid = NULL");
    form_realm(&app, "other", "global_resolver"); // any write moves the config version
    app.delete("/realm/other").expect(200);
    assert_eq!(
        node_entries(&app),
        [(
            "global_resolver".to_string(),
            json!(null),
            "<null>".to_string()
        )]
    );
    node_post(
        &app,
        ND1,
        &json!({"resolver": [{"name": "local_resolver_1"}]}),
    )
    .expect(200);
    let e = node_entries(&app);
    assert!(
        e.iter().any(|x| x.0 == "global_resolver" && x.2.is_empty()),
        "{e:?}"
    );
}

// ----- the library cases through the API -----

#[test]
fn case_036_to_040_set_realm_semantics() {
    let app = spawn_app();
    passwd_resolver(&app, "resolver1", &passwords_file());
    passwd_resolver(&app, "Resolver2", &passwords_file());
    // 36.
    let v = form_realm(&app, "realm1", "resolver1,Resolver2");
    assert_eq!(
        v,
        json!({"added": ["resolver1", "Resolver2"], "failed": []})
    );
    let r = get_realm(&app, "realm1");
    assert_eq!(r["default"], true);
    assert!(entries(&r).iter().all(|e| e.2.is_empty()));
    // 37. (invalid name) see case_020
    // 38. replace semantics
    let v = form_realm(&app, "realm1", "resolver1,non exiting");
    assert_eq!(
        v,
        json!({"added": ["resolver1"], "failed": ["non exiting"]})
    );
    assert_eq!(entries(&get_realm(&app, "realm1")).len(), 1);
    // 39. realm_is_defined is case-insensitive: /defaultrealm lower-cases
    app.post_form("/defaultrealm/REALM1", &[]).expect(200);
    app.post_form("/defaultrealm/non%20exist", &[]).expect(404);
    // 40.
    form_realm(&app, "realm2", "Resolver2");
    assert_eq!(app.value_keys("/defaultrealm"), ["realm1"]);
    app.post_form("/defaultrealm/realm2", &[]).expect(200);
    let list = app.get("/realm/").expect(200).value();
    assert_eq!(
        (
            list["realm1"]["default"].clone(),
            list["realm2"]["default"].clone()
        ),
        (json!(false), json!(true))
    );
    app.delete("/defaultrealm").expect(200);
    assert_eq!(app.get("/defaultrealm").expect(200).value(), json!({}));
}

#[test]
fn case_041_owned_tokens_and_containers_block_deletion() {
    // Tokens and containers live in privacyIDEA's tables of a shared database;
    // the rows are written the way privacyIDEA writes them.
    let (app, realm_id) = privacyidea_db_with_realm1();
    sqlite_exec(
        &app,
        "INSERT INTO token (id, serial, active, tokentype) VALUES (1, 'HOTP1', 1, 'hotp')",
    );
    sqlite_exec(&app, &format!("INSERT INTO tokenowner (token_id, resolver, user_id, realm_id) VALUES (1, 'resolver1', '0', {realm_id})"));
    sqlite_exec(
        &app,
        &format!("INSERT INTO tokenrealm (token_id, realm_id) VALUES (1, {realm_id})"),
    );
    app.delete("/realm/realm1").expect_error_message(
        400,
        904,
        "ERR904: Realm can not be deleted, because a user of this realm is still assigned to a token.",
    );
    sqlite_exec(&app, "DELETE FROM tokenowner");
    sqlite_exec(&app, "INSERT INTO tokencontainer (id, serial, type, description) VALUES (1, 'CONT1', 'generic', '')");
    sqlite_exec(&app, &format!("INSERT INTO tokencontainerowner (container_id, resolver, user_id, realm_id) VALUES (1, 'resolver1', '0', {realm_id})"));
    app.delete("/realm/realm1").expect_error_message(
        400,
        904,
        "ERR904: Realm can not be deleted, because a user of this realm is still assigned to a container.",
    );
    sqlite_exec(&app, "DELETE FROM tokencontainerowner");
    // a token merely in the realm loses that realm
    app.delete("/realm/realm1").expect(200);
    assert_eq!(sqlite_query(&app, "SELECT COUNT(*) FROM tokenrealm"), "0");
    assert_eq!(sqlite_query(&app, "SELECT COUNT(*) FROM token"), "1");
}

#[test]
fn case_042_043_node_entries_next_to_global_ones() {
    let app = node_app();
    // 42. one resolver on two nodes
    node_post(
        &app,
        ND1,
        &json!({"resolver": [{"name": "local_resolver_1"}]}),
    )
    .expect(200);
    node_post(
        &app,
        ND2,
        &json!({"resolver": [{"name": "local_resolver_1"}]}),
    )
    .expect(200);
    let mut nodes: Vec<String> = node_entries(&app).into_iter().map(|e| e.2).collect();
    nodes.sort();
    let mut want = vec![ND1.to_string(), ND2.to_string()];
    want.sort();
    assert_eq!(nodes, want);
    // 43. node-specific and global side by side
    app.post_json(
        &format!("/realm/realm_with_node/node/{ND2}"),
        &json!({"resolver": []}),
    )
    .expect(200);
    form_realm(&app, "realm_with_node", "local_resolver_2");
    let mut e = node_entries(&app);
    e.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2)));
    assert_eq!(
        e,
        [
            ("local_resolver_1".to_string(), json!(null), ND1.to_string()),
            ("local_resolver_2".to_string(), json!(null), String::new())
        ]
    );
}

#[test]
fn realm_routes_need_an_admin_token() {
    let mut app = spawn_app();
    app.set_token(Some(user_token("selfservice", "realm1")));
    for a in [
        app.get("/realm/"),
        app.get("/defaultrealm"),
        app.get("/realm/superuser"),
        app.post_form("/realm/x", &[("resolvers", "a")]),
        app.delete("/realm/x"),
    ] {
        a.expect_error(401, 4306);
    }
    app.set_token(None);
    assert_eq!(app.get("/realm/").expect(401).code(), 4033);
}
