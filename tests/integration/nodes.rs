//! Nodes and resolver order seen through the API (spec/realm-auth-server.md
//! spec/realm-auth-server.md §3.1, §4, §8 cases 58–61 and 90): `GET /system/nodes`, and which resolver
//! a login is checked against — the first by (priority, name) visible on this
//! node. privacyIDEA's cases 58–61 look at `get_ordered_resolvers` and user
//! lists; here every resolver knows the same login with another password, so
//! the password that works tells which resolver won.

use crate::realm::{passwd_resolver, register_node, write_file, ND1, ND2};
use crate::support::*;
use serde_json::{json, Value};

fn hash(pw: &str) -> String {
    // sha512_crypt hashes (passlib, salt e2esalt0) of the passwords used below
    match pw {
        "pw1" => "$6$e2esalt0$PuoemNNBkPEnAB7/bR3XD3mFbvf2fWkxLyMUjVGM44NryNl0oFxS4PORhxsITl5WaGDn1wuY5cCcruI9scS/m.",
        "pw2" => "$6$e2esalt0$8uPtduIeFvdfRegZB1RcyMfRHKNhGjy1/LdBkv3RH7FGJ7NGIKqXKSWVmtbM4rUFDBtEdNtYnHuNLkZPmnAUN.",
        "pw3" => "$6$e2esalt0$iSifP9oXD1jzG9HtY5phDKsf8BA9Wx19vH7JXBQwwZPU8vT6fe0n402Qmpmb5ipVAKW6WzEsnHt4DCSVsUsYb/",
        "pw4" => "$6$e2esalt0$j1XSrKz13Ch/9Bzysiv5W7Gb7vd1vtN1SwNDHr16P5lOgt3ZP7nddIvoLSddAyUpAjFHWHUV3bLfPenu3LZLW0",
        other => panic!("no hash for {other}"),
    }
    .to_string()
}

/// A passwd resolver named `name` knowing `cornelius` with password `pw`.
pub(crate) fn cornelius_resolver(app: &TestApp, name: &str, pw: &str) {
    passwd_resolver(
        app,
        name,
        &format!("cornelius:{}:1000:1000:Cornelius::\n", hash(pw)),
    );
}

fn login_status(app: &TestApp, user: &str, pw: &str) -> u16 {
    app.post_auth(&[("username", user), ("password", pw)])
        .status
}

/// The password (of `pws`) that logs `user` in: tells which resolver won.
pub(crate) fn winner(app: &TestApp, user: &str, pws: &[&str]) -> Option<String> {
    let ok: Vec<&str> = pws
        .iter()
        .copied()
        .filter(|pw| login_status(app, user, pw) == 200)
        .collect();
    assert!(ok.len() <= 1, "several passwords work: {ok:?}");
    ok.first().map(|s| s.to_string())
}

fn set_priorities(app: &TestApp, realm: &str, prios: &[(&str, i64)]) {
    let names: Vec<&str> = prios.iter().map(|p| p.0).collect();
    let mut body = json!({"resolvers": names});
    for (name, prio) in prios {
        body[format!("priority.{name}")] = json!(prio);
    }
    app.post_json(&format!("/realm/{realm}"), &body).expect(200);
}

#[test]
fn case_058_first_resolver_by_priority_wins() {
    let app = spawn_app();
    cornelius_resolver(&app, "double1", "pw1");
    cornelius_resolver(&app, "double2", "pw2");
    cornelius_resolver(&app, "double3", "pw3");
    set_priorities(
        &app,
        "double",
        &[("double1", 2), ("double2", 1), ("double3", 3)],
    );
    let pws = ["pw1", "pw2", "pw3"];
    assert_eq!(
        winner(&app, "cornelius@double", &pws).as_deref(),
        Some("pw2")
    );
    set_priorities(
        &app,
        "double",
        &[("double1", 3), ("double2", 2), ("double3", 1)],
    );
    assert_eq!(
        winner(&app, "cornelius@double", &pws).as_deref(),
        Some("pw3")
    );
}

/// resolver1, resolver2, reso3 and reso4, whose `cornelius` has the password
/// pw1, pw2, pw3 and pw4; those passwords, in that order.
fn four_cornelius_resolvers(app: &TestApp) -> [&'static str; 4] {
    let pws = ["pw1", "pw2", "pw3", "pw4"];
    for (resolver, pw) in ["resolver1", "resolver2", "reso3", "reso4"]
        .into_iter()
        .zip(pws)
    {
        cornelius_resolver(app, resolver, pw);
    }
    pws
}

#[test]
fn case_059_060_order_by_priority_then_name() {
    let app = spawn_app();
    let pws = four_cornelius_resolvers(&app);
    // 59. [reso4, resolver2, reso3, resolver1]
    set_priorities(
        &app,
        "realm1",
        &[
            ("resolver1", 30),
            ("resolver2", 10),
            ("reso3", 27),
            ("reso4", 5),
        ],
    );
    assert_eq!(winner(&app, "cornelius", &pws).as_deref(), Some("pw4"));
    set_priorities(
        &app,
        "realm1",
        &[("resolver1", 30), ("resolver2", 10), ("reso3", 27)],
    );
    assert_eq!(winner(&app, "cornelius", &pws).as_deref(), Some("pw2"));
    // 60. equal priorities: by name ⇒ reso3 first
    set_priorities(
        &app,
        "realm1",
        &[
            ("resolver1", 10),
            ("resolver2", 10),
            ("reso3", 10),
            ("reso4", 10),
        ],
    );
    assert_eq!(winner(&app, "cornelius", &pws).as_deref(), Some("pw3"));
    // no priority = 1000: a resolver with any priority comes first
    app.post_json(
        "/realm/realm1",
        &json!({"resolvers": ["reso3", "resolver2"], "priority.resolver2": 999}),
    )
    .expect(200);
    assert_eq!(winner(&app, "cornelius", &pws).as_deref(), Some("pw2"));
}

/// An app whose node is privacyIDEA's `nd1` (`PI_NODE_UUID`), with `nd2` known.
fn nd1_app() -> TestApp {
    let app = spawn_app_with(AppOptions {
        extra_cfg: vec![
            format!("PI_NODE_UUID = '{ND1}'"),
            "PI_NODE = 'Node1'".into(),
        ],
        ..Default::default()
    });
    register_node(&app, ND2, "Node2");
    app
}

#[test]
fn case_061_node_specific_resolvers() {
    let app = nd1_app();
    let pws = four_cornelius_resolvers(&app);
    // spec/realm-auth-server.md §3.1 example: resolver1(30,nd2), resolver2(10,nd1), reso3(35,nd2), reso3(27,all), reso4(5,all)
    app.post_json(
        "/realm/realm1",
        &json!({"resolvers": ["reso3", "reso4"], "priority.reso3": 27, "priority.reso4": 5}),
    )
    .expect(200);
    app.post_json(
        &format!("/realm/realm1/node/{ND1}"),
        &json!({"resolver": [{"name": "resolver2", "priority": 10}]}),
    )
    .expect(200);
    app.post_json(&format!("/realm/realm1/node/{ND2}"), &json!({"resolver": [{"name": "resolver1", "priority": 30}, {"name": "reso3", "priority": 35}]}))
        .expect(200);
    // on nd1: [reso4, resolver2, reso3]
    assert_eq!(winner(&app, "cornelius", &pws).as_deref(), Some("pw4"));
    app.post_json(
        "/realm/realm1",
        &json!({"resolvers": ["reso3"], "priority.reso3": 27}),
    )
    .expect(200);
    assert_eq!(
        winner(&app, "cornelius", &pws).as_deref(),
        Some("pw2"),
        "resolver2 (nd1) before reso3"
    );
    // resolver1 is pinned to nd2 only: invisible here, even as the only resolver
    app.post_json(
        &format!("/realm/realm1/node/{ND1}"),
        &json!({"resolver": []}),
    )
    .expect(200);
    app.post_json("/realm/realm1", &json!({"resolvers": []}))
        .expect(200);
    assert_eq!(entries_len(&app), 2, "resolver1@nd2, reso3@nd2 remain");
    assert_eq!(winner(&app, "cornelius", &pws), None);
    // pinned to nd1 it is used
    app.post_json(
        &format!("/realm/realm1/node/{ND1}"),
        &json!({"resolver": [{"name": "resolver1"}]}),
    )
    .expect(200);
    assert_eq!(winner(&app, "cornelius", &pws).as_deref(), Some("pw1"));
}

fn entries_len(app: &TestApp) -> usize {
    app.get("/realm/").expect(200).value()["realm1"]["resolver"]
        .as_array()
        .expect("list")
        .len()
}

/// The (name, uuid) pairs of a `GET /system/nodes` list, sorted.
pub fn sorted_nodes(list: &Value) -> Vec<(String, String)> {
    let mut nodes: Vec<(String, String)> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|n| {
            (
                n["name"].as_str().expect("name").to_owned(),
                n["uuid"].as_str().expect("uuid").to_owned(),
            )
        })
        .collect();
    nodes.sort();
    nodes
}

#[test]
fn case_090_system_nodes() {
    let app = nd1_app();
    let v = app.get("/system/nodes").expect(200).value();
    assert_eq!(
        sorted_nodes(&v),
        [
            ("Node1".to_string(), ND1.to_string()),
            ("Node2".to_string(), ND2.to_string())
        ]
    );
    assert_eq!(
        v[0].as_object().expect("obj").len(),
        2,
        "only name and uuid"
    );
    // without PI_NODE_UUID and PI_UUID_FILE: the machine's id, as the
    // release takes it; on a machine without one, a new UUID written to
    // PI_UUID_FILE at first start
    let app = spawn_app();
    let uuid = default_node_uuid(&app);
    let v = app.get("/system/nodes").expect(200).value();
    assert_eq!(v, json!([{"name": "testnode", "uuid": uuid.trim()}]));
    // user tokens may not list nodes
    app.get_as("/system/nodes", &user_token("u", "r"))
        .expect_error(401, 4306);
}

#[test]
fn node_ids_are_checked_against_nodename() {
    let app = nd1_app();
    let p = write_file(&app, "f", "");
    app.post_form(
        "/resolver/r",
        &[("type", "passwdresolver"), ("fileName", &p)],
    )
    .expect(200);
    // a node that is not registered
    let a = app
        .post_json(
            "/realm/realm1/node/00000000-0000-0000-0000-000000000000",
            &json!({"resolver": [{"name": "r"}]}),
        )
        .expect(400);
    assert_eq!(a.message(), "ERR905: The given node does not exist!");
    // a node registered later (another server starting) becomes usable
    register_node(&app, "00000000-0000-0000-0000-000000000000", "Node3");
    // (registering does not move the config version: the check reads the table)
    app.post_json(
        "/realm/realm1/node/00000000-0000-0000-0000-000000000000",
        &json!({"resolver": [{"name": "r"}]}),
    )
    .expect(200);
}

/// `check_all_resolvers` sees the realm's resolvers as ordered on this node.
#[test]
fn policy_check_uses_the_realms_resolvers_on_this_node() {
    let app = nd1_app();
    cornelius_resolver(&app, "reso_a", "pw1");
    cornelius_resolver(&app, "reso_b", "pw2");
    app.post_json("/realm/realm1", &json!({"resolvers": ["reso_a"]}))
        .expect(200);
    crate::realm::put_policy(&app, "all_resolvers", "user", "enable", |p| {
        p.resolver = "reso_b".into();
        p.check_all_resolvers = true;
    });
    crate::realm::put_policy(&app, "plain", "user", "disable", |p| {
        p.resolver = "reso_b".into()
    });
    let check = |action: &str| -> bool {
        let a = app
            .get(&format!("/policy/check?user=cornelius&realm=realm1&resolver=reso_a&scope=user&action={action}"))
            .expect(200);
        a.value()["allowed"].as_bool().expect("allowed")
    };
    // reso_b is not in the realm
    assert!(!check("enable"));
    // reso_b pinned to the other node: still not visible here
    app.post_json(
        &format!("/realm/realm1/node/{ND2}"),
        &json!({"resolver": [{"name": "reso_b"}]}),
    )
    .expect(200);
    assert!(!check("enable"));
    // pinned to this node: check_all_resolvers finds it
    app.post_json(
        &format!("/realm/realm1/node/{ND1}"),
        &json!({"resolver": [{"name": "reso_b"}]}),
    )
    .expect(200);
    assert!(check("enable"));
    // without check_all_resolvers only the given resolver counts
    assert!(!check("disable"));
    // node-less works too
    app.post_json(
        &format!("/realm/realm1/node/{ND1}"),
        &json!({"resolver": []}),
    )
    .expect(200);
    assert!(!check("enable"));
    app.post_json("/realm/realm1", &json!({"resolvers": ["reso_a", "reso_b"]}))
        .expect(200);
    assert!(check("enable"));
}
