//! Several of our servers on one database (issue 12): a write on either node
//! is served by the other on its next request (config version +
//! `__timestamp__`, no clocks), node-specific realm resolvers resolve per
//! node, and `GET /system/nodes` lists both.
//!
//! Runs on PostgreSQL (`PI_TEST_POSTGRES_URL`) and MariaDB
//! (`PI_TEST_MYSQL_URL`) when they are set, on one shared SQLite file
//! otherwise.

use std::sync::Arc;

use crate::nodes::{cornelius_resolver, sorted_nodes, winner};
use crate::realm::{ND1, ND2};
use crate::support::*;
use pi_store::testing::TestDb;
use serde_json::json;

/// The shared databases to run the cluster on.
pub(crate) fn cluster_dbs() -> Vec<Arc<TestDb>> {
    let mut out = Vec::new();
    if let Some(pg) = TestDb::postgres() {
        out.push(Arc::new(pg.expect("postgres test db")));
    }
    if let Some(my) = TestDb::mysql() {
        out.push(Arc::new(my.expect("mysql test db")));
    }
    if out.is_empty() {
        out.push(Arc::new(TestDb::sqlite().expect("sqlite test db")));
    }
    out
}

/// Two nodes (`Node1` = ND1, `Node2` = ND2) on `db`, sharing the encryption key.
pub(crate) fn two_nodes(db: &Arc<TestDb>) -> (TestApp, TestApp) {
    let a = spawn_app_on(
        AppOptions {
            extra_cfg: vec![
                format!("PI_NODE_UUID = '{ND1}'"),
                "PI_NODE = 'Node1'".into(),
            ],
            ..Default::default()
        },
        Some(db.clone()),
    );
    let enckey = a.dir.path().join("enckey").display().to_string();
    let mut b = spawn_app_on(
        AppOptions {
            extra_cfg: vec![
                format!("PI_NODE_UUID = '{ND2}'"),
                "PI_NODE = 'Node2'".into(),
                format!("PI_ENCFILE = '{enckey}'"),
            ],
            create_admin: false,
            ..Default::default()
        },
        Some(db.clone()),
    );
    let token = b.login(ADMIN, ADMIN_PW);
    b.set_token(Some(token));
    (a, b)
}

fn policy_names(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = app
        .get("/policy/")
        .expect(200)
        .value()
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_write_on_either_node_is_served_by_the_other_next() {
    for db in cluster_dbs() {
        eprintln!("--- cluster on {}", db.label());
        let (a, b) = two_nodes(&db);
        // both nodes registered themselves
        for app in [&a, &b] {
            assert_eq!(
                sorted_nodes(&app.get("/system/nodes").expect(200).value()),
                [
                    ("Node1".to_owned(), ND1.to_owned()),
                    ("Node2".to_owned(), ND2.to_owned())
                ],
                "{}",
                db.label()
            );
        }
        // policies: every write is seen by the other node's next request
        for i in 0..5 {
            let (writer, reader) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
            let name = format!("pol{i}");
            writer
                .post_json(
                    &format!("/policy/{name}"),
                    &json!({"scope": "webui", "action": "login_mode=userstore", "priority": i + 1}),
                )
                .expect(200);
            let got = reader.get(&format!("/policy/{name}")).expect(200).value();
            assert_eq!(got[0]["priority"], json!(i + 1), "{}: {got}", db.label());
            // an update, then a disable, are seen too
            writer
                .post_json(
                    &format!("/policy/{name}"),
                    &json!({"scope": "webui", "action": "login_mode=privacyIDEA", "priority": 50}),
                )
                .expect(200);
            let got = reader.get(&format!("/policy/{name}")).expect(200).value();
            assert_eq!(got[0]["priority"], json!(50));
            assert_eq!(got[0]["action"]["login_mode"], json!("privacyIDEA"));
        }
        assert_eq!(policy_names(&a), policy_names(&b));
        b.delete("/policy/pol0").expect(200);
        assert!(!policy_names(&a).contains(&"pol0".to_owned()));
        for i in 1..5 {
            a.delete(&format!("/policy/pol{i}")).expect(200);
        }
        assert!(policy_names(&b).is_empty());

        // node-specific resolvers: resolver1 on Node1, resolver2 on Node2
        cornelius_resolver(&a, "resolver1", "pw1");
        cornelius_resolver(&a, "resolver2", "pw2");
        a.post_json(
            &format!("/realm/realm1/node/{ND1}"),
            &json!({"resolver": [{"name": "resolver1", "priority": 1}]}),
        )
        .expect(200);
        b.post_json(
            &format!("/realm/realm1/node/{ND2}"),
            &json!({"resolver": [{"name": "resolver2", "priority": 1}]}),
        )
        .expect(200);
        let pws = ["pw1", "pw2"];
        assert_eq!(
            winner(&a, "cornelius", &pws).as_deref(),
            Some("pw1"),
            "Node1 uses its resolver ({})",
            db.label()
        );
        assert_eq!(
            winner(&b, "cornelius", &pws).as_deref(),
            Some("pw2"),
            "Node2 uses its resolver ({})",
            db.label()
        );
        assert_eq!(
            a.get("/realm/").expect(200).value(),
            b.get("/realm/").expect(200).value()
        );
    }
}
