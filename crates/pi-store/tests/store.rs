//! Integration tests of pi-store: each test runs on SQLite and, when
//! `PI_TEST_POSTGRES_URL` is set, on PostgreSQL too.
// Test code: failing loudly is the point (helpers outside `#[test]` fns
// are not covered by clippy.toml's allow-*-in-tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use common::{describe_schema, each_backend, each_store, fixture_sql, open_with_timeout, scalar};
use pi_store::record::{
    AdminRecord, ConditionRecord, PolicyRecord, RealmResolverAssignment, RealmResolverRecord,
    RemoteServerRecord, ResolverConfigRecord,
};
use pi_store::testing::TestDb;
use pi_store::{
    AnyConnection, Backend, ConfigVersion, DeleteRealmOutcome, DeleteResolverOutcome, PolicyFilter,
    RenameError, ResolverConfigChange, SaveResolverError, SetRealmError, Store, StoreError,
    StoreOptions,
};

fn policy(name: &str) -> PolicyRecord {
    PolicyRecord {
        name: name.into(),
        scope: "admin".into(),
        active: true,
        action: "enable, disable".into(),
        priority: 1,
        ..PolicyRecord::default()
    }
}

fn cond(key: &str) -> ConditionRecord {
    ConditionRecord {
        section: "userinfo".into(),
        key: key.into(),
        comparator: "equals".into(),
        value: "x".into(),
        active: true,
        handle_missing_data: Some("raise_error".into()),
    }
}

fn assign(name: &str, priority: Option<i64>, node: &str) -> RealmResolverAssignment {
    RealmResolverAssignment {
        name: name.into(),
        priority,
        node: node.into(),
    }
}

fn set(key: &str, value: &str) -> ResolverConfigChange {
    ResolverConfigChange::Set {
        key: key.into(),
        value: value.into(),
        typ: None,
        description: None,
    }
}

fn count(db: &TestDb, sql: &str) -> i64 {
    let mut c = db.connect().unwrap();
    let text = if db.backend() == Backend::Mysql {
        "CHAR"
    } else {
        "TEXT"
    };
    scalar(&mut c, &format!("SELECT CAST(({sql}) AS {text}) AS s"))
        .parse()
        .unwrap()
}

/// The names of all stored policies, in the store's order.
fn policy_names(store: &Store) -> Vec<String> {
    store
        .list_policies()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect()
}

#[test]
fn policy_round_trip() {
    each_store(|db, store| {
        let full = PolicyRecord {
            id: 0,
            name: "pol_full".into(),
            scope: "authentication".into(),
            active: false,
            check_all_resolvers: true,
            user_case_insensitive: true,
            action: "otppin=userstore, passthru".into(),
            realm: "realm1, realm2".into(),
            adminrealm: "admins".into(),
            adminuser: "root, admin".into(),
            resolver: "reso1".into(),
            pinode: "node1".into(),
            user: "alice, *, !bob".into(),
            client: "10.0.0.0/8, !10.0.0.1".into(),
            time: "Mon-Fri: 8-16".into(),
            user_agents: "PAM, privacyidea-cp".into(),
            priority: 7,
            conditions: vec![cond("groups"), cond("email")],
            description: Some("a description".into()),
        };
        let id = store.save_policy(&full, Some(&full.conditions)).unwrap();
        assert!(id > 0);
        let plain_id = store.save_policy(&policy("pol_plain"), None).unwrap();
        assert!(plain_id > id);

        let mut expected = full.clone();
        expected.id = id;
        assert_eq!(
            store.get_policy("pol_full").unwrap(),
            Some(expected.clone())
        );
        let all = store.list_policies().unwrap();
        assert_eq!(all.len(), 2);
        // privacyIDEA's load order: condition-less policies first on SQLite,
        // last on PostgreSQL (release-differences.md §D).
        let (full_at, plain_at) = match store.backend() {
            pi_store::Backend::Sqlite | pi_store::Backend::Mysql => (1, 0),
            pi_store::Backend::Postgres => (0, 1),
        };
        assert_eq!(all[full_at], expected);
        assert_eq!(all[plain_at].name, "pol_plain");
        assert!(all[plain_at].conditions.is_empty());
        assert_eq!(all[plain_at].description, None);
        assert_eq!(store.get_policy("nope").unwrap(), None);
        assert_eq!(
            store.get_policy("pol_*").unwrap(),
            None,
            "get_policy is exact"
        );

        // Update: conditions None keeps them, description overwritten.
        let mut upd = full.clone();
        upd.priority = 3;
        upd.description = None;
        upd.active = true;
        assert_eq!(store.save_policy(&upd, None).unwrap(), id);
        let got = store.get_policy("pol_full").unwrap().unwrap();
        assert_eq!(got.priority, 3);
        assert!(got.active);
        assert_eq!(got.description, None);
        assert_eq!(got.conditions, full.conditions);
        // Some(&[]) replaces with nothing.
        assert_eq!(store.save_policy(&upd, Some(&[])).unwrap(), id);
        assert!(store
            .get_policy("pol_full")
            .unwrap()
            .unwrap()
            .conditions
            .is_empty());
        // One description row per policy, always.
        assert_eq!(count(db, "SELECT COUNT(*) FROM description"), 2);
        assert_eq!(
            count(db, &format!("SELECT COUNT(*) FROM description WHERE object_id = {id} AND object_type = 'policy' AND last_update IS NOT NULL")),
            1
        );
    });
}

#[test]
fn policy_enable_rename_delete() {
    each_store(|db, store| {
        let id = store
            .save_policy(&policy("p1"), Some(&[cond("a")]))
            .unwrap();
        store.save_policy(&policy("p2"), None).unwrap();
        assert_eq!(store.set_policy_active("p1", false).unwrap(), Some(id));
        assert!(!store.get_policy("p1").unwrap().unwrap().active);
        assert_eq!(store.set_policy_active("p1", true).unwrap(), Some(id));
        assert_eq!(store.set_policy_active("nope", true).unwrap(), None);

        assert!(matches!(
            store.rename_policy("nope", "x"),
            Err(RenameError::NotFound(n)) if n == "nope"
        ));
        assert!(matches!(
            store.rename_policy("p1", "p2"),
            Err(RenameError::Exists(n)) if n == "p2"
        ));
        assert_eq!(store.rename_policy("p1", "p1new").unwrap(), id);
        let renamed = store.get_policy("p1new").unwrap().unwrap();
        assert_eq!(renamed.id, id);
        assert_eq!(renamed.conditions.len(), 1);
        assert_eq!(store.get_policy("p1").unwrap(), None);

        assert_eq!(store.delete_policy("p1new").unwrap(), Some(id));
        assert_eq!(store.delete_policy("p1new").unwrap(), None);
        assert_eq!(count(db, "SELECT COUNT(*) FROM policycondition"), 0);
        assert_eq!(count(db, "SELECT COUNT(*) FROM description"), 1);
        assert_eq!(store.list_policies().unwrap().len(), 1);
    });
}

#[test]
fn policy_filters_follow_privacyidea_get_policies() {
    each_store(|db, store| {
        let mut a = policy("pol_a");
        a.realm = "realm1".into();
        let mut b = policy("pol_b");
        b.realm = "realm1, realm2".into();
        b.scope = "user".into();
        let mut c = policy("Polc");
        c.active = false;
        let mut d = policy("polxd");
        d.scope = "webui".into();
        for p in [&a, &b, &c, &d] {
            store.save_policy(p, None).unwrap();
        }
        // the names matching the default filter changed by `set`
        let names = |set: fn(&mut PolicyFilter)| -> Vec<String> {
            let mut f = PolicyFilter::default();
            set(&mut f);
            store
                .get_policies_filtered(&f)
                .unwrap()
                .into_iter()
                .map(|p| p.name)
                .collect()
        };
        assert_eq!(names(|_| {}), ["pol_a", "pol_b", "Polc", "polxd"]);
        // Wildcard: case-insensitive LIKE.
        assert_eq!(
            names(|f| f.name = Some("pol*".into())),
            ["pol_a", "pol_b", "Polc", "polxd"]
        );
        // `_` is literal in a wildcard pattern.
        assert_eq!(names(|f| f.name = Some("pol_*".into())), ["pol_a", "pol_b"]);
        // No wildcard: exact, case-sensitive — except on MariaDB/MySQL,
        // whose utf8mb4_general_ci collation (privacyIDEA's tables there)
        // compares case-insensitively, for privacyIDEA too.
        assert_eq!(
            names(|f| f.name = Some("polc".into())),
            if db.backend() == Backend::Mysql {
                vec!["Polc".to_owned()]
            } else {
                Vec::<String>::new()
            }
        );
        assert_eq!(names(|f| f.realm = Some("realm1".into())), ["pol_a"]);
        assert_eq!(names(|f| f.realm = Some("*realm2*".into())), ["pol_b"]);
        assert_eq!(names(|f| f.scope = Some("*US*".into())), ["pol_b"]);
        assert_eq!(names(|f| f.active = Some(false)), ["Polc"]);
        assert_eq!(
            names(|f| {
                f.active = Some(true);
                f.scope = Some("admin".into());
            }),
            ["pol_a"]
        );
    });
}

#[test]
fn import_is_all_or_nothing() {
    each_store(|db, store| {
        store.save_policy(&policy("existing"), None).unwrap();
        let before = store.config_version().unwrap();
        let mut bad = policy("bad");
        bad.priority = i64::from(i32::MAX) + 1; // does not fit the column
        let items = vec![
            (policy("new1"), Some(vec![cond("k")])),
            (policy("existing"), None),
            (bad, None),
        ];
        assert!(store.import_policies(&items).is_err());
        let names = policy_names(store);
        assert_eq!(names, ["existing"]);
        assert_eq!(count(db, "SELECT COUNT(*) FROM policycondition"), 0);
        assert_eq!(store.config_version().unwrap(), before);

        let good = vec![
            (policy("new1"), Some(vec![cond("k")])),
            (policy("new2"), None),
        ];
        let ids = store.import_policies(&good).unwrap();
        assert_eq!(ids.len(), 2);
        assert!(ids[0] < ids[1]);
        assert_eq!(store.list_policies().unwrap().len(), 3);
        assert!(store.config_version().unwrap().version > before.version);
    });
}

#[test]
fn save_policy_versioned_reports_the_step_of_its_own_transaction() {
    each_store(|_, store| {
        store.save_policy(&policy("a"), None).unwrap();
        let before = store.config_version().unwrap();
        let (id, step) = store.save_policy_versioned(&policy("b"), None).unwrap();
        assert!(id > 0);
        assert_eq!(step.before, before);
        assert_eq!(step.after.version, before.version + 1);
        assert_eq!(step.after, store.config_version().unwrap());
        assert_eq!(store.get_policy("b").unwrap().unwrap().id, id);
    });
}

#[test]
fn config_version_and_timestamp_change_on_every_write() {
    each_store(|db, store| {
        let v0 = store.config_version().unwrap();
        assert_eq!(
            v0,
            ConfigVersion {
                version: 0,
                timestamp: None
            }
        );
        let mut last = v0;
        let mut check = |what: &str, changed: bool| {
            let v = store.config_version().unwrap();
            if changed {
                assert_eq!(v.version, last.version + 1, "{what}");
                let ts = v.timestamp.clone().expect("timestamp written");
                let secs: f64 = ts.parse().expect("timestamp is a float");
                assert!(secs > 1.6e9, "{ts}");
            } else {
                assert_eq!(v, last, "{what} must not bump");
            }
            last = v;
        };
        store.save_policy(&policy("p"), None).unwrap();
        check("save_policy", true);
        store.set_policy_active("p", false).unwrap();
        check("set_policy_active", true);
        store.set_policy_active("missing", false).unwrap();
        check("set_policy_active missing", false);
        store
            .save_resolver("r", "passwdresolver", &[set("fileName", "/etc/passwd")])
            .unwrap();
        check("save_resolver", true);
        store.set_realm("realm1", &[assign("r", None, "")]).unwrap();
        check("set_realm", true);
        store.set_default_realm("realm1").unwrap();
        check("set_default_realm", true);
        store.clear_default_realm().unwrap();
        check("clear_default_realm", true);
        store
            .save_remote_server(&RemoteServerRecord {
                identifier: "pi1".into(),
                url: "https://pi".into(),
                ..Default::default()
            })
            .unwrap();
        check("save_remote_server", true);
        store.delete_remote_server("pi1").unwrap();
        check("delete_remote_server", true);
        store
            .save_admin(&AdminRecord {
                username: "a".into(),
                ..Default::default()
            })
            .unwrap();
        check("save_admin", false);
        store
            .register_node(
                "8e4e2a3c-0000-4000-8000-000000000001",
                "n1",
                chrono::Utc::now().naive_utc(),
            )
            .unwrap();
        check("register_node", false);
        store.delete_realm("realm1").unwrap();
        check("delete_realm", true);
        store.delete_policy("p").unwrap();
        check("delete_policy", true);

        // privacyIDEA's own write only changes the timestamp: still detected.
        let mut c = db.connect().unwrap();
        diesel::RunQueryDsl::execute(
            diesel::sql_query(
                "UPDATE config SET \"Value\" = '1.5' WHERE \"Key\" = '__timestamp__'",
            ),
            &mut c,
        )
        .unwrap();
        let v = store.config_version().unwrap();
        assert_ne!(v, last);
        assert_eq!(v.timestamp.as_deref(), Some("1.5"));
        // Our counter row is typed `int`, privacyIDEA's timestamp row has its
        // description.
        assert_eq!(
            scalar(
                &mut c,
                "SELECT \"Type\" AS s FROM config WHERE \"Key\" = '__rs_config_version__'"
            ),
            "int"
        );
        assert_eq!(
            scalar(
                &mut c,
                "SELECT \"Description\" AS s FROM config WHERE \"Key\" = '__timestamp__'"
            ),
            "config timestamp. last changed."
        );
    });
}

#[test]
fn realms_follow_set_realm_semantics() {
    each_store(|db, store| {
        store.save_resolver("reso1", "passwdresolver", &[]).unwrap();
        store.save_resolver("reso2", "ldapresolver", &[]).unwrap();
        let node = "8e4e2a3c-0000-4000-8000-00000000000a";
        store
            .register_node(node, "node-a", chrono::Utc::now().naive_utc())
            .unwrap();

        let out = store
            .set_realm(
                "realm1",
                &[
                    assign(" reso1 ", Some(3), ""),
                    assign("unknown", None, ""),
                    assign("reso2", Some(0), node),
                    assign("reso1", None, "no-such-node"),
                    assign("reso1", Some(5), node),
                ],
            )
            .unwrap();
        assert!(out.id > 0);
        assert_eq!(out.added, ["reso1", "reso2", "reso1"]);
        assert_eq!(out.failed, ["unknown", "reso1"]);
        let realms = store.list_realms().unwrap();
        assert_eq!(realms.len(), 1);
        let r = &realms[0];
        assert_eq!(r.name, "realm1");
        assert!(r.default, "the only realm becomes default");
        assert_eq!(
            r.resolvers,
            vec![
                RealmResolverRecord {
                    name: "reso1".into(),
                    rtype: "passwdresolver".into(),
                    priority: Some(3),
                    node: Some(String::new())
                },
                RealmResolverRecord {
                    name: "reso2".into(),
                    rtype: "ldapresolver".into(),
                    priority: None,
                    node: Some(node.into())
                },
                RealmResolverRecord {
                    name: "reso1".into(),
                    rtype: "passwdresolver".into(),
                    priority: Some(5),
                    node: Some(node.into())
                },
            ]
        );

        // Duplicate (same resolver, same node) → clean error, nothing changed.
        let err = store
            .set_realm(
                "realm1",
                &[assign("reso2", None, ""), assign("reso2", Some(2), "")],
            )
            .unwrap_err();
        assert!(
            matches!(err, SetRealmError::DuplicateAssignment { ref resolver, ref node } if resolver == "reso2" && node.is_empty())
        );
        assert_eq!(store.list_realms().unwrap(), realms);

        // Replace semantics: all rows go.
        let out2 = store
            .set_realm("realm1", &[assign("reso2", Some(1), "")])
            .unwrap();
        assert_eq!(out2.id, out.id);
        assert_eq!(
            store.get_realm("realm1").unwrap().unwrap().resolvers.len(),
            1
        );

        // A second realm is not default; the default moves explicitly.
        let id2 = store.set_realm("realm2", &[]).unwrap().id;
        assert!(!store.get_realm("realm2").unwrap().unwrap().default);
        assert_eq!(store.default_realm().unwrap().unwrap().name, "realm1");
        assert_eq!(store.set_default_realm("realm2").unwrap(), Some(id2));
        assert_eq!(store.set_default_realm("nope").unwrap(), None);
        assert_eq!(store.default_realm().unwrap().unwrap().id, id2);
        assert!(!store.get_realm("realm1").unwrap().unwrap().default);
        assert_eq!(store.clear_default_realm().unwrap(), id2);
        assert_eq!(store.clear_default_realm().unwrap(), 0);
        assert_eq!(store.default_realm().unwrap(), None);

        // Deleting down to one realm makes it default.
        if db.backend() != Backend::Mysql {
            // (MariaDB/MySQL: the collation is case-insensitive)
            assert_eq!(store.delete_realm("REALM2").unwrap(), None, "exact name");
        }
        assert_eq!(store.delete_realm("realm2").unwrap(), Some(id2));
        assert_eq!(store.default_realm().unwrap().unwrap().id, out.id);
        assert_eq!(store.delete_realm("realm1").unwrap(), Some(out.id));
        assert!(store.list_realms().unwrap().is_empty());
        assert_eq!(count(db, "SELECT COUNT(*) FROM resolverrealm"), 0);
    });
}

#[test]
fn resolvers_merge_and_delete() {
    each_store(|db, store| {
        let id = store
            .save_resolver(
                "Reso1",
                "ldapresolver",
                &[
                    set("LDAPURI", "ldap://x"),
                    ResolverConfigChange::Set {
                        key: "BINDPW".into(),
                        value: "enc:abc".into(),
                        typ: Some("password".into()),
                        description: Some("the password".into()),
                    },
                    set("TIMEOUT", "5"),
                ],
            )
            .unwrap();
        // Merge update, found case-insensitively; stored name kept.
        let id_again = store
            .save_resolver(
                "reso1",
                "ldapresolver",
                &[
                    set("LDAPURI", "ldap://y"),
                    ResolverConfigChange::Delete {
                        key: "TIMEOUT".into(),
                    },
                ],
            )
            .unwrap();
        assert_eq!(id, id_again);
        let r = store.get_resolver_ci("RESO1").unwrap().unwrap();
        assert_eq!(r.name, "Reso1");
        assert_eq!(r.rtype, "ldapresolver");
        assert_eq!(
            r.config,
            vec![
                ResolverConfigRecord {
                    key: "LDAPURI".into(),
                    value: Some("ldap://y".into()),
                    typ: Some(String::new()),
                    description: Some(String::new())
                },
                ResolverConfigRecord {
                    key: "BINDPW".into(),
                    value: Some("enc:abc".into()),
                    typ: Some("password".into()),
                    description: Some("the password".into())
                },
            ]
        );
        assert!(matches!(
            store.save_resolver("RESO1", "sqlresolver", &[]),
            Err(SaveResolverError::TypeMismatch(n)) if n == "Reso1"
        ));
        assert_eq!(store.list_resolvers().unwrap(), vec![r.clone()]);

        store
            .set_realm("realm1", &[assign("Reso1", None, "")])
            .unwrap();
        assert_eq!(
            store.delete_resolver("Reso1").unwrap(),
            DeleteResolverOutcome::InRealm("realm1".into())
        );
        if db.backend() != Backend::Mysql {
            // (MariaDB/MySQL: the collation is case-insensitive)
            assert_eq!(
                store.delete_resolver("reso1").unwrap(),
                DeleteResolverOutcome::NotFound
            );
        }
        store.set_realm("realm1", &[]).unwrap();
        assert_eq!(
            store.delete_resolver("Reso1").unwrap(),
            DeleteResolverOutcome::Deleted(id)
        );
        assert!(store.list_resolvers().unwrap().is_empty());
        assert_eq!(count(db, "SELECT COUNT(*) FROM resolverconfig"), 0);
        assert_eq!(store.get_resolver_ci("reso1").unwrap(), None);
    });
}

#[test]
fn nodes_remote_servers_admins_round_trip() {
    each_store(|_, store| {
        let t1 = NaiveDate::from_ymd_opt(2025, 1, 2)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 123_456)
            .unwrap();
        let t2 = NaiveDate::from_ymd_opt(2025, 1, 3)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 0)
            .unwrap();
        let u1 = "8e4e2a3c-0000-4000-8000-000000000002";
        let u2 = "8e4e2a3c-0000-4000-8000-000000000001";
        store.register_node(u1, "node1", t1).unwrap();
        store.register_node(u2, "node2", t1).unwrap();
        store.register_node(u1, "node1-renamed", t2).unwrap();
        let nodes = store.list_nodes().unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(
            (
                nodes[0].uuid.as_str(),
                nodes[0].name.as_str(),
                nodes[0].lastseen
            ),
            (u2, "node2", Some(t1))
        );
        assert_eq!(
            (
                nodes[1].uuid.as_str(),
                nodes[1].name.as_str(),
                nodes[1].lastseen
            ),
            (u1, "node1-renamed", Some(t2))
        );

        let mut s = RemoteServerRecord {
            id: 0,
            identifier: "pi_remote".into(),
            url: "https://pi.example.com".into(),
            tls: true,
            description: "remote".into(),
        };
        let id = store.save_remote_server(&s).unwrap();
        s.id = id;
        assert_eq!(
            store.get_remote_server("pi_remote").unwrap(),
            Some(s.clone())
        );
        s.tls = false;
        s.description = String::new();
        s.url = "https://other".into();
        assert_eq!(store.save_remote_server(&s).unwrap(), id);
        assert_eq!(store.list_remote_servers().unwrap(), vec![s.clone()]);
        assert_eq!(store.delete_remote_server("pi_remote").unwrap(), Some(id));
        assert_eq!(store.delete_remote_server("pi_remote").unwrap(), None);
        assert_eq!(store.get_remote_server("pi_remote").unwrap(), None);

        let mut a = AdminRecord {
            username: "admin".into(),
            password: Some("$argon2id$v=19$m=65536,t=9,p=4$c2FsdA$aGFzaA".into()),
            email: None,
        };
        store.save_admin(&a).unwrap();
        a.email = Some("a@example.com".into());
        store.save_admin(&a).unwrap();
        store
            .save_admin(&AdminRecord {
                username: "zed".into(),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(store.get_admin("admin").unwrap(), Some(a.clone()));
        assert_eq!(store.list_admins().unwrap().len(), 2);
        assert!(store.delete_admin("admin").unwrap());
        assert!(!store.delete_admin("admin").unwrap());
        assert_eq!(store.get_admin("admin").unwrap(), None);
    });
}

#[test]
fn snapshot_reads_everything_consistently() {
    each_store(|_, store| {
        store.save_policy(&policy("p"), Some(&[cond("c")])).unwrap();
        store
            .save_resolver("r", "passwdresolver", &[set("fileName", "/etc/passwd")])
            .unwrap();
        store
            .set_realm("realm1", &[assign("r", Some(2), "")])
            .unwrap();
        store
            .register_node(
                "8e4e2a3c-0000-4000-8000-000000000003",
                "n",
                chrono::Utc::now().naive_utc(),
            )
            .unwrap();
        let snap = store.load_snapshot().unwrap();
        assert_eq!(snap.version, store.config_version().unwrap());
        assert_eq!(snap.policies, store.list_policies().unwrap());
        assert_eq!(snap.realms, store.list_realms().unwrap());
        assert_eq!(snap.resolvers, store.list_resolvers().unwrap());
        assert_eq!(snap.nodes, store.list_nodes().unwrap());
        assert_eq!(snap.version.version, 3);
    });
}

#[test]
fn fresh_schema_equals_privacyidea_fixture() {
    each_store(|db, store| {
        store.ensure_schema().unwrap();
        store.ensure_audit_table().unwrap();
        let ours = describe_schema(db);
        let pi = TestDb::sqlite().unwrap();
        let pi = match db.backend() {
            Backend::Postgres => TestDb::postgres().unwrap().unwrap(),
            Backend::Mysql => TestDb::mysql().unwrap().unwrap(),
            Backend::Sqlite => pi,
        };
        pi.execute_script(fixture_sql(db)).unwrap();
        let theirs = describe_schema(&pi);
        assert!(!ours.is_empty());
        assert_eq!(ours, theirs, "{}", db.label());
    });
}

#[test]
fn privacyidea_database_opens_unchanged_and_is_usable() {
    each_backend(|db| {
        db.execute_script(fixture_sql(db)).unwrap();
        let before = describe_schema(db);
        let store = db.open().unwrap();
        store.ensure_schema().unwrap();
        store.ensure_schema().unwrap();
        store.ensure_audit_table().unwrap();
        assert_eq!(
            describe_schema(db),
            before,
            "ensure_schema changed the schema"
        );

        // Rows written the privacyIDEA way are read back.
        let mut c = db.connect().unwrap();
        let (pid, rid, realm_id) = match c {
            AnyConnection::Postgres(_) => (
                "nextval('policy_seq')",
                "nextval('resolver_seq')",
                "nextval('realm_seq')",
            ),
            AnyConnection::Sqlite(_) => ("NULL", "NULL", "NULL"),
            AnyConnection::Mysql(_) => (
                "NEXTVAL(policy_seq)",
                "NEXTVAL(resolver_seq)",
                "NEXTVAL(realm_seq)",
            ),
        };
        c.batch_execute_helper(&format!(
            "INSERT INTO policy (id, active, check_all_resolvers, name, user_case_insensitive, scope, action, realm, adminrealm, adminuser, resolver, pinode, \"user\", client, \"time\", user_agents, priority) \
               VALUES ({pid}, true, false, 'pi_made', false, 'admin', 'enable', '', '', '', '', '', '', '', '', '', 1);
             INSERT INTO policy (id, active, check_all_resolvers, name, user_case_insensitive, scope, action, realm, adminrealm, adminuser, resolver, pinode, \"user\", client, \"time\", user_agents, priority) \
               VALUES ({pid}, NULL, NULL, 'pi_nulls', NULL, 'user', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 2);
             INSERT INTO resolver (id, name, rtype) VALUES ({rid}, 'pi_reso', 'passwdresolver');
             INSERT INTO realm (id, name, \"default\") VALUES ({realm_id}, 'pi_realm', NULL);"
        ));
        let pols = store.list_policies().unwrap();
        assert_eq!(pols.len(), 2);
        assert_eq!(pols[0].name, "pi_made");
        assert_eq!(pols[0].id, 1);
        let nulls = &pols[1];
        assert_eq!(nulls.id, 2);
        assert!(nulls.active, "NULL active reads as true");
        assert!(!nulls.check_all_resolvers && !nulls.user_case_insensitive);
        assert_eq!(nulls.action, "");
        assert!(!store.get_realm("pi_realm").unwrap().unwrap().default);

        // Our writes continue the same id sequence.
        let id = store
            .save_policy(&policy("ours"), Some(&[cond("k")]))
            .unwrap();
        assert_eq!(id, 3);
        let out = store
            .set_realm("pi_realm", &[assign("pi_reso", Some(1), "")])
            .unwrap();
        assert_eq!(out.added, ["pi_reso"]);
        assert_eq!(store.list_policies().unwrap().len(), 3);
        assert_eq!(
            store.get_policy("ours").unwrap().unwrap().conditions.len(),
            1
        );
        if db.backend() == Backend::Postgres {
            assert_eq!(
                scalar(
                    &mut c,
                    "SELECT CAST(last_value AS TEXT) AS s FROM policy_seq"
                ),
                "3"
            );
            assert_eq!(
                scalar(
                    &mut c,
                    "SELECT CAST(last_value AS TEXT) AS s FROM policycondition_seq"
                ),
                "1"
            );
            assert_eq!(
                scalar(
                    &mut c,
                    "SELECT CAST(last_value AS TEXT) AS s FROM description_seq"
                ),
                "1"
            );
            assert_eq!(
                scalar(
                    &mut c,
                    "SELECT CAST(last_value AS TEXT) AS s FROM resolverrealm_seq"
                ),
                "1"
            );
        }
        // And privacyIDEA's next insert does not collide with ours.
        c.batch_execute_helper(&format!(
            "INSERT INTO policy (id, active, check_all_resolvers, name, user_case_insensitive, scope, action, realm, adminrealm, adminuser, resolver, pinode, \"user\", client, \"time\", user_agents, priority) \
               VALUES ({pid}, true, false, 'pi_after', false, 'admin', '', '', '', '', '', '', '', '', '', '', 1);"
        ));
        assert_eq!(store.get_policy("pi_after").unwrap().unwrap().id, 4);

        // Deleting a realm also removes privacyIDEA's tokenrealm rows of it.
        let realm_id = store.get_realm("pi_realm").unwrap().unwrap().id;
        c.batch_execute_helper(&format!(
            "INSERT INTO token (id, serial, active) VALUES (1, 'S1', true);
             INSERT INTO tokenrealm (id, token_id, realm_id) VALUES (1, 1, {realm_id});"
        ));
        assert_eq!(store.delete_realm("pi_realm").unwrap(), Some(realm_id));
        assert_eq!(count(db, "SELECT COUNT(*) FROM tokenrealm"), 0);
        assert_eq!(count(db, "SELECT COUNT(*) FROM token"), 1);
    });
}

#[test]
fn delete_realm_checked_refuses_owned_realms_like_privacyidea() {
    each_backend(|db| {
        db.execute_script(fixture_sql(db)).unwrap();
        let store = db.open().unwrap();
        store.ensure_schema().unwrap();
        let mut c = db.connect().unwrap();
        let out = store.set_realm("r1", &[]).unwrap();
        let id = out.id;
        assert_eq!(
            store.delete_realm_checked("nosuch", false).unwrap(),
            DeleteRealmOutcome::NotFound
        );
        // the WebUI's counts of a user's tokens and containers
        let owner = |user_id| pi_store::Owner {
            resolver: "reso",
            user_id,
            realm: "r1",
        };
        let counts = |user_id| {
            let tokens = store.user_token_count(owner(user_id)).unwrap();
            (tokens, store.user_container_count(owner(user_id)).unwrap())
        };
        // a token owned by a user of the realm (privacyIDEA's UserError 904),
        // then a container owned by one: (rows written, outcome, rows removed,
        // the owner's counts)
        for (rows, outcome, cleanup, owned) in [
            (
                format!(
                    "INSERT INTO token (id, serial, active) VALUES (1, 'S1', true);
             INSERT INTO tokenowner (id, token_id, resolver, user_id, realm_id) VALUES (1, 1, 'reso', '1000', {id});"
                ),
                DeleteRealmOutcome::TokenOwned,
                "DELETE FROM tokenowner;",
                (1, 0),
            ),
            (
                format!(
                    "INSERT INTO tokencontainer (id, serial, type, description) VALUES (1, 'C1', 'generic', '');
             INSERT INTO tokencontainerowner (id, container_id, resolver, user_id, realm_id) VALUES (1, 1, 'reso', '1000', {id});"
                ),
                DeleteRealmOutcome::ContainerOwned,
                "DELETE FROM tokencontainerowner;",
                (0, 1),
            ),
        ] {
            c.batch_execute_helper(&rows);
            assert_eq!(store.delete_realm_checked("r1", true).unwrap(), outcome);
            assert_eq!(counts("1000"), owned);
            assert_eq!(counts("1001"), (0, 0));
            c.batch_execute_helper(cleanup);
        }
        // custom user attributes need confirmation (code 908), keys sorted and distinct
        c.batch_execute_helper(&format!(
            "INSERT INTO customuserattribute (id, user_id, resolver, realm_id, \"Key\", \"Value\") VALUES (1, '1000', 'reso', {id}, 'department', 'sales');
             INSERT INTO customuserattribute (id, user_id, resolver, realm_id, \"Key\", \"Value\") VALUES (2, '1001', 'reso', {id}, 'department', 'it');
             INSERT INTO customuserattribute (id, user_id, resolver, realm_id, \"Key\", \"Value\") VALUES (3, '1001', 'reso', {id}, 'cost', '1');
             INSERT INTO tokencontainerrealm (container_id, realm_id) VALUES (1, {id});"
        ));
        assert_eq!(
            store.delete_realm_checked("r1", false).unwrap(),
            DeleteRealmOutcome::CustomAttributes(vec!["cost".into(), "department".into()])
        );
        assert!(store.get_realm("r1").unwrap().is_some());
        assert_eq!(count(db, "SELECT COUNT(*) FROM customuserattribute"), 3);
        // confirmed: attributes and container-realm rows go with the realm
        assert_eq!(
            store.delete_realm_checked("r1", true).unwrap(),
            DeleteRealmOutcome::Deleted(id)
        );
        assert_eq!(count(db, "SELECT COUNT(*) FROM customuserattribute"), 0);
        assert_eq!(count(db, "SELECT COUNT(*) FROM tokencontainerrealm"), 0);
        assert!(store.get_realm("r1").unwrap().is_none());
        // on a database of our own (no token tables) it simply deletes
        let own = TestDb::sqlite().unwrap();
        let store = own.open().unwrap();
        store.ensure_schema().unwrap();
        let id = store.set_realm("r2", &[]).unwrap().id;
        assert_eq!(
            store.delete_realm_checked("r2", false).unwrap(),
            DeleteRealmOutcome::Deleted(id)
        );
    });
}

#[test]
fn system_config_value_reads_privacyidea_settings() {
    each_store(|db, store| {
        store.ensure_schema().unwrap();
        assert_eq!(store.system_config_value("splitAtSign").unwrap(), None);
        let mut c = db.connect().unwrap();
        c.batch_execute_helper(
            "INSERT INTO config (\"Key\", \"Value\", \"Type\", \"Description\") VALUES ('splitAtSign', 'False', '', '');",
        );
        assert_eq!(
            store.system_config_value("splitAtSign").unwrap().as_deref(),
            Some("False")
        );
    });
}

#[test]
fn concurrent_writers_are_serialised() {
    each_backend(|db| {
        // Two stores = two processes (or cluster nodes) on one database.
        let stores = [db.open().unwrap(), db.open().unwrap()];
        stores[0].ensure_schema().unwrap();
        let threads = 4;
        let writes = 10;
        std::thread::scope(|scope| {
            for t in 0..threads {
                let store = stores[t % 2].clone();
                scope.spawn(move || {
                    for i in 0..writes {
                        let mut p = policy(&format!("p_{t}_{i}"));
                        p.priority = i64::try_from(i).unwrap();
                        store.save_policy(&p, Some(&[cond("k")])).unwrap();
                    }
                });
            }
        });
        let all = stores[1].list_policies().unwrap();
        assert_eq!(all.len(), threads * writes);
        let mut ids: Vec<i64> = all.iter().map(|p| p.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), threads * writes);
        assert!(all.iter().all(|p| p.conditions.len() == 1));
        assert_eq!(
            stores[0].config_version().unwrap().version,
            i64::try_from(threads * writes).unwrap()
        );
    });
}

/// `save_policy_versioned_then`: the hook runs once per committed write,
/// with the write's id and step, and every write's hook has run before any
/// writer of the commit gets its answer; the steps chain without gaps.
#[test]
fn commit_hooks_announce_every_write_before_writers_return() {
    use std::sync::{Arc, Mutex};
    each_store(|_, store| {
        store.ensure_schema().unwrap();
        let announced: Arc<Mutex<Vec<(i64, pi_store::VersionStep)>>> = Arc::default();
        let threads = 8;
        let writes = 10;
        std::thread::scope(|scope| {
            for t in 0..threads {
                let store = store.clone();
                let announced = announced.clone();
                scope.spawn(move || {
                    for i in 0..writes {
                        let p = policy(&format!("h_{t}_{i}"));
                        let hook_log = announced.clone();
                        let (id, step) = store
                            .save_policy_versioned_then(&p, None, move |id, step| {
                                hook_log.lock().unwrap().push((id, step.clone()));
                            })
                            .unwrap();
                        // announced before this writer got its answer
                        let seen = announced.lock().unwrap();
                        assert!(seen.iter().any(|(i, s)| *i == id && *s == step));
                    }
                });
            }
        });
        let mut seen = announced.lock().unwrap().clone();
        assert_eq!(seen.len(), threads * writes);
        seen.sort_by_key(|(_, s)| s.after.version);
        for pair in seen.windows(2) {
            assert_eq!(pair[0].1.after, pair[1].1.before, "steps chain");
        }
        assert_eq!(seen[0].1.before.version, 0);
        let last = &seen[seen.len() - 1].1.after;
        assert_eq!(&store.config_version().unwrap(), last);
        // a write refused by its precondition announces nothing
        let before = announced.lock().unwrap().len();
        let hook_log = announced.clone();
        let stale = pi_store::Precondition::from_header(
            pi_store::ObjectKind::Policy,
            "h_0_0",
            "\"no-such-version\"",
        );
        let refused = store.with_precondition(Some(stale), |s| {
            s.save_policy_versioned_then(&policy("h_0_0"), None, move |id, step| {
                hook_log.lock().unwrap().push((id, step.clone()));
            })
        });
        assert!(
            matches!(
                refused,
                Err(pi_store::StoreError::PreconditionFailed { .. })
            ),
            "{refused:?}"
        );
        assert_eq!(announced.lock().unwrap().len(), before);
    });
}

#[test]
fn postgres_user_without_create_rights_uses_existing_schema() {
    let Some(db) = TestDb::postgres() else {
        eprintln!("PI_TEST_POSTGRES_URL not set: skipped");
        return;
    };
    struct DropRole(String);
    impl Drop for DropRole {
        fn drop(&mut self) {
            let admin = std::env::var("PI_TEST_POSTGRES_URL").unwrap();
            if let Ok(mut c) = <diesel::PgConnection as diesel::Connection>::establish(&admin) {
                let _ = diesel::connection::SimpleConnection::batch_execute(
                    &mut c,
                    &format!("DROP ROLE IF EXISTS {}", self.0),
                );
            }
        }
    }
    let role = format!("pi_ro_{}", std::process::id());
    let _role_guard = DropRole(role.clone());
    let db = db.unwrap(); // dropped before the role
    db.execute_script(fixture_sql(&db)).unwrap();
    db.execute_script(&format!(
        "CREATE ROLE {role} LOGIN;
         REVOKE CREATE ON SCHEMA public FROM PUBLIC;
         GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
         GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role};"
    ))
    .unwrap();
    let uri = db.uri().replacen("://postgres@", &format!("://{role}@"), 1);
    assert_ne!(
        uri,
        db.uri(),
        "test expects the user `postgres` in PI_TEST_POSTGRES_URL"
    );
    let store = Store::open(&uri, StoreOptions::default()).unwrap();
    store.ensure_schema().unwrap();
    let id = store.save_policy(&policy("p"), None).unwrap();
    assert_eq!(store.get_policy("p").unwrap().unwrap().id, id);
}

/// Tiny extension so the test reads well.
trait BatchExt {
    fn batch_execute_helper(&mut self, sql: &str);
}

impl BatchExt for AnyConnection {
    fn batch_execute_helper(&mut self, sql: &str) {
        use diesel::connection::SimpleConnection;
        self.batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[test]
fn ids_come_from_sequences_on_postgres() {
    let Some(db) = TestDb::postgres() else {
        eprintln!("PI_TEST_POSTGRES_URL not set: skipped");
        return;
    };
    let db = db.unwrap();
    let store = db.open().unwrap();
    store.ensure_schema().unwrap();
    let mut c = db.connect().unwrap();
    // Someone (privacyIDEA) consumed sequence values already.
    c.batch_execute_helper("SELECT setval('policy_seq', 41); SELECT setval('realm_seq', 9); SELECT setval('privacyideaserver_seq', 4); SELECT setval('resolver_seq', 19);");
    assert_eq!(store.save_policy(&policy("p"), None).unwrap(), 42);
    assert_eq!(store.save_resolver("r", "passwdresolver", &[]).unwrap(), 20);
    assert_eq!(
        store
            .set_realm("realm", &[assign("r", None, "")])
            .unwrap()
            .id,
        10
    );
    let s = RemoteServerRecord {
        identifier: "x".into(),
        url: "https://x".into(),
        ..Default::default()
    };
    assert_eq!(store.save_remote_server(&s).unwrap(), 5);
    // The sequences are not column defaults (as in privacyIDEA).
    assert_eq!(
        scalar(&mut c, "SELECT COALESCE(column_default, '-') AS s FROM information_schema.columns WHERE table_name = 'policy' AND column_name = 'id'"),
        "-"
    );
}

/// A store on the database `t_later_<pid>` beside `db`'s, which does not
/// exist yet, and a closure that creates it (`CREATE DATABASE … {create_suffix}`
/// as `admin`, a URL of connection `C`); the database is dropped again
/// (`DROP DATABASE … {drop_suffix}`) when the closure is dropped.
fn store_on_later_database<C: diesel::Connection + 'static>(
    db: &TestDb,
    admin: String,
    create_suffix: &'static str,
    drop_suffix: &'static str,
) -> (Store, Box<dyn Fn()>) {
    let name = format!("t_later_{}", std::process::id());
    let url = db.uri().rsplit_once('/').unwrap().0.to_owned() + "/" + &name;
    let store = open_with_timeout(&url, Duration::from_millis(500));
    let (admin2, name2) = (admin.clone(), name.clone());
    let create = move || {
        let mut c = C::establish(&admin2).unwrap();
        for sql in [
            format!("DROP DATABASE IF EXISTS {name2}"),
            format!("CREATE DATABASE {name2}{create_suffix}"),
        ] {
            c.batch_execute(&sql).unwrap();
        }
    };
    // Drop the database again at the end of the test.
    struct DropDb<C: diesel::Connection>(String, String, &'static str, std::marker::PhantomData<C>);
    impl<C: diesel::Connection> Drop for DropDb<C> {
        fn drop(&mut self) {
            if let Ok(mut c) = C::establish(&self.0) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {}{}", self.1, self.2));
            }
        }
    }
    let guard = DropDb::<C>(admin, name, drop_suffix, std::marker::PhantomData);
    let create2: Box<dyn Fn()> = Box::new(move || {
        let _ = &guard;
        create();
    });
    (store, create2)
}

#[test]
fn unreachable_database_is_unavailable_then_recovers() {
    each_backend(|db| {
        // A database that does not exist yet: the store opens anyway, every
        // use fails with Unavailable (quickly), and once the database exists
        // the same store works and creates its schema lazily.
        let (store, create): (Store, Box<dyn Fn()>) = match db.backend() {
            Backend::Sqlite => {
                let dir =
                    std::env::temp_dir().join(format!("pi-store-missing-{}", std::process::id()));
                let _ = std::fs::remove_dir_all(&dir);
                let uri = format!("sqlite:///{}/pi.sqlite", dir.display());
                let store = open_with_timeout(&uri, Duration::from_millis(500));
                (
                    store,
                    Box::new(move || std::fs::create_dir_all(&dir).unwrap()),
                )
            }
            Backend::Postgres => {
                let admin = std::env::var("PI_TEST_POSTGRES_URL").unwrap();
                store_on_later_database::<diesel::PgConnection>(db, admin, "", " WITH (FORCE)")
            }
            Backend::Mysql => {
                let admin = std::env::var("PI_TEST_MYSQL_URL").unwrap();
                let admin_url = match pi_store::parse_database_uri(&admin).unwrap() {
                    pi_store::DatabaseUrl::Mysql(u) => u,
                    other => panic!("{other:?}"),
                };
                store_on_later_database::<diesel::MysqlConnection>(
                    db,
                    admin_url,
                    " CHARACTER SET utf8mb4",
                    "",
                )
            }
        };
        let started = Instant::now();
        let err = store.list_policies().unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(matches!(
            store.config_version(),
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(store.ping(), Err(StoreError::Unavailable(_))));
        // Loose bound: no hang (the timeout is 0.5 s per call).
        assert!(started.elapsed() < Duration::from_secs(30));
        create();
        // r2d2 retries in the background; give it a moment.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match store.save_policy(&policy("later"), None) {
                Ok(id) => {
                    assert!(id > 0);
                    break;
                }
                Err(StoreError::Unavailable(_)) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(store.list_policies().unwrap().len(), 1);
    });
}

#[test]
fn dead_postgres_port_fails_fast_with_unavailable() {
    // Nothing listens on port 1 of the loopback interface.
    let store = open_with_timeout(
        "postgresql+psycopg2://pi:secret@127.0.0.1:1/pi",
        Duration::from_millis(300),
    );
    assert_eq!(store.backend(), Backend::Postgres);
    assert_eq!(
        store.database_url().to_string(),
        "postgresql://pi:***@127.0.0.1:1/pi"
    );
    let started = Instant::now();
    assert!(matches!(
        store.list_policies(),
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        store.ensure_schema(),
        Err(StoreError::Unavailable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn other_backends_are_refused_clearly() {
    let err = Store::open("mssql+pyodbc://u:p@h/db", StoreOptions::default()).unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedBackend(_)));
    assert_eq!(
        err.to_string(),
        "database backend `mssql+pyodbc` is not supported yet"
    );
}

#[test]
fn mysql_uri_opens_without_connecting() {
    let store = Store::open(
        "mysql+pymysql://u:secret@127.0.0.1:1/db?charset=utf8",
        StoreOptions::default(),
    )
    .unwrap();
    assert_eq!(store.backend(), Backend::Mysql);
    assert_eq!(
        store.database_url().to_string(),
        "mysql://u:***@127.0.0.1:1/db"
    );
}

/// The list order privacyIDEA 3.14 gives (release-differences.md §D,
/// observed on the release with SQLite [G 144/205] and PostgreSQL 15):
/// by smallest condition id, condition-less policies first on SQLite and
/// last on PostgreSQL; re-sent conditions move a policy to the end of the
/// policies with conditions, `[]` moves it among the condition-less ones.
/// `place_written_policy` (the server's in-place snapshot patch) must put a
/// written policy where a reload would.
#[test]
fn policy_load_order_follows_condition_ids() {
    each_store(|_, store| {
        let nulls = pi_store::NullsOrder::from(store.backend());
        let names = |v: &[PolicyRecord]| v.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        let mut mirror: Vec<PolicyRecord> = Vec::new();
        let write =
            |mirror: &mut Vec<PolicyRecord>, name: &str, conds: Option<Vec<ConditionRecord>>| {
                let mut rec = policy(name);
                let written = conds.is_some() || store.get_policy(name).unwrap().is_none();
                if let Some(c) = &conds {
                    rec.conditions = c.clone();
                } else if let Some(old) = store.get_policy(name).unwrap() {
                    rec.conditions = old.conditions;
                }
                let cs = if written {
                    Some(rec.conditions.clone())
                } else {
                    None
                };
                rec.id = store.save_policy(&rec, cs.as_deref()).unwrap();
                pi_store::place_written_policy(mirror, rec, written, nulls);
                let loaded = store.list_policies().unwrap();
                assert_eq!(
                    names(mirror),
                    names(&loaded),
                    "patched order differs from a reload"
                );
            };
        write(&mut mirror, "p1", None);
        write(&mut mirror, "c1", Some(vec![cond("a")]));
        write(&mut mirror, "p2", None);
        write(&mut mirror, "c2", Some(vec![cond("b"), cond("c")]));
        write(&mut mirror, "p3", None);
        let loaded = names(&store.list_policies().unwrap());
        match store.backend() {
            pi_store::Backend::Sqlite | pi_store::Backend::Mysql => {
                assert_eq!(loaded, ["p1", "p2", "p3", "c1", "c2"])
            }
            pi_store::Backend::Postgres => assert_eq!(loaded, ["c1", "c2", "p1", "p2", "p3"]),
        }
        // Re-sending c1's conditions moves it behind c2.
        write(&mut mirror, "c1", Some(vec![cond("a")]));
        // An update without conditions keeps p1's place; `[]` moves c2 among
        // the condition-less policies (by id).
        write(&mut mirror, "p1", None);
        write(&mut mirror, "c2", Some(vec![]));
        // A condition added to p2 moves it to the end of the conditioned run.
        write(&mut mirror, "p2", Some(vec![cond("z")]));
        let loaded = names(&store.list_policies().unwrap());
        match store.backend() {
            pi_store::Backend::Sqlite | pi_store::Backend::Mysql => {
                assert_eq!(loaded, ["p1", "c2", "p3", "c1", "p2"])
            }
            pi_store::Backend::Postgres => assert_eq!(loaded, ["c1", "p2", "p1", "c2", "p3"]),
        }
    });
}

/// Concurrent writers of one store share transactions (group commit): each
/// still gets its own result — a write whose `If-Match` fails or whose
/// rename collides fails alone — and the version steps of the successful
/// writes form one chain that ends at the version in the database.
#[test]
fn group_commit_keeps_each_writers_result() {
    each_store(|_, store| {
        store.save_policy(&policy("target"), None).unwrap();
        store.save_policy(&policy("taken"), None).unwrap();
        let start = store.config_version().unwrap();
        let threads = 24;
        let barrier = std::sync::Barrier::new(threads);
        let results: Vec<(usize, Result<Option<pi_store::VersionStep>, String>)> =
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let (store, barrier) = (store.clone(), &barrier);
                        scope.spawn(move || {
                            barrier.wait();
                            let r = match t % 3 {
                                // a plain write: succeeds
                                0 => store
                                    .save_policy_versioned(&policy(&format!("g{t}")), None)
                                    .map(|(_, step)| Some(step))
                                    .map_err(|e| e.to_string()),
                                // a stale If-Match: fails alone
                                1 => {
                                    let pre = pi_store::Precondition::from_header(
                                        pi_store::ObjectKind::Policy,
                                        "target",
                                        "\"stale\"",
                                    );
                                    store
                                        .with_precondition(Some(pre), |s| {
                                            s.save_policy_versioned(&policy("target"), None)
                                        })
                                        .map(|(_, step)| Some(step))
                                        .map_err(|e| e.to_string())
                                }
                                // a rename onto an existing name: fails alone
                                _ => store
                                    .rename_policy("target", "taken")
                                    .map(|_| None)
                                    .map_err(|e| e.to_string()),
                            };
                            (t, r)
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
        let mut steps = Vec::new();
        for (t, r) in results {
            match t % 3 {
                0 => steps.push(r.unwrap().unwrap()),
                1 => assert!(r.unwrap_err().contains("precondition failed"), "{t}"),
                _ => assert!(r.unwrap_err().contains("already exists"), "{t}"),
            }
        }
        let names = policy_names(store);
        assert_eq!(names.len(), 2 + threads / 3, "{names:?}");
        assert!(names.iter().any(|n| n == "target"));
        // one chain from the version before to the version now
        steps.sort_by_key(|s| s.before.version);
        assert_eq!(steps[0].before.version, start.version);
        for w in steps.windows(2) {
            assert_eq!(w[0].after, w[1].before);
        }
        for s in &steps {
            assert_eq!(s.after.version, s.before.version + 1);
        }
        assert_eq!(steps.last().unwrap().after, store.config_version().unwrap());
    });
}

/// `Store::with_deadline` bounds a call's wait for a connection: with the
/// database unreachable it fails at the deadline, not after the (longer)
/// checkout timeout.
#[test]
fn deadline_bounds_the_wait_for_a_connection() {
    // nothing listens on port 1
    let store = open_with_timeout(
        "postgresql://nobody@127.0.0.1:1/none",
        Duration::from_secs(20),
    );
    let started = Instant::now();
    let deadline = Some(started + Duration::from_millis(300));
    let err = store
        .with_deadline(deadline, |s| s.config_version())
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // a write queued behind the same deadline fails the same way
    let err = store
        .with_deadline(Some(Instant::now() + Duration::from_millis(300)), |s| {
            s.save_policy(&policy("p"), None)
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
}
