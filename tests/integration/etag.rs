//! No lost updates (issue 12): `ETag` on the GETs of one policy, realm,
//! resolver or remote-server definition, honoured in `If-Match` on its
//! writes (412 in privacyIDEA's envelope when stale); without `If-Match`
//! everything behaves as before. Concurrent writers on two nodes of one
//! database lose no update when they use `If-Match`.

use crate::cluster::{cluster_dbs, two_nodes};
use crate::realm::{passwd_resolver, passwords_file};
use crate::support::*;
use serde_json::json;

fn etag(a: &Answer) -> String {
    let v = a
        .headers
        .get("etag")
        .unwrap_or_else(|| panic!("no ETag: {:?}", a.headers))
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(v.starts_with('"') && v.ends_with('"') && v.len() > 2, "{v}");
    v
}

fn post_if(app: &TestApp, path: &str, tag: &str, body: &serde_json::Value) -> Answer {
    app.send(
        app.client()
            .post(app.url(path))
            .header("If-Match", tag)
            .json(body),
        None,
    )
}

fn delete_if(app: &TestApp, path: &str, tag: &str) -> Answer {
    app.send(
        app.client().delete(app.url(path)).header("If-Match", tag),
        None,
    )
}

fn assert_412(a: Answer) {
    let a = a.expect(412);
    let body = a.json();
    assert_eq!(body["result"]["status"], json!(false), "{}", a.text);
    assert_eq!(body["result"]["error"]["code"], json!(-412), "{}", a.text);
    assert!(a.message().contains("changed"), "{}", a.text);
}

#[test]
fn policy_etag_and_if_match() {
    let app = spawn_app();
    let pol = json!({"scope": "webui", "action": "login_mode=userstore"});
    app.post_json("/policy/p1", &pol).expect(200);
    let t1 = etag(&app.get("/policy/p1").expect(200));
    assert_eq!(t1, etag(&app.get("/policy/p1").expect(200)), "stable");
    // a wildcard GET names no single object: no ETag
    assert!(app
        .get("/policy/p*")
        .expect(200)
        .headers
        .get("etag")
        .is_none());
    // current version: accepted, and the version moves
    post_if(
        &app,
        "/policy/p1",
        &t1,
        &json!({"scope": "webui", "action": "login_mode=privacyIDEA"}),
    )
    .expect(200);
    let t2 = etag(&app.get("/policy/p1").expect(200));
    assert_ne!(t1, t2);
    // stale version: 412, nothing written
    assert_412(post_if(&app, "/policy/p1", &t1, &pol));
    let got = app.get("/policy/p1").expect(200).value();
    assert_eq!(got[0]["action"]["login_mode"], json!("privacyIDEA"));
    assert_412(delete_if(&app, "/policy/p1", &t1));
    assert_412(
        app.send(
            app.client()
                .post(app.url("/policy/disable/p1"))
                .header("If-Match", &t1),
            None,
        ),
    );
    assert_412(
        app.send(
            app.client()
                .patch(app.url("/policy/p1"))
                .header("If-Match", &t1)
                .json(&json!({"name": "p2"})),
            None,
        ),
    );
    assert_eq!(
        app.get("/policy/p1").expect(200).value()[0]["active"],
        json!(true)
    );
    // several tags, weak form, `*`
    post_if(
        &app,
        "/policy/p1",
        &format!("\"x\", W/{t2}"),
        &json!({"scope": "webui", "action": "login_mode=privacyIDEA", "priority": 3}),
    )
    .expect(200);
    post_if(
        &app,
        "/policy/p1",
        "*",
        &json!({"scope": "webui", "action": "login_mode=privacyIDEA", "priority": 4}),
    )
    .expect(200);
    assert_412(post_if(&app, "/policy/nosuch", "*", &pol));
    assert!(app
        .get("/policy/nosuch")
        .expect(200)
        .value()
        .as_array()
        .expect("list")
        .is_empty());
    // without If-Match: as privacyIDEA (no precondition at all)
    app.post_json("/policy/p1", &pol).expect(200);
    let t3 = etag(&app.get("/policy/p1").expect(200));
    delete_if(&app, "/policy/p1", &t3).expect(200);
    app.delete("/policy/p1").expect(404);
}

#[test]
fn realm_resolver_and_remote_etags() {
    let app = spawn_app();
    passwd_resolver(&app, "reso1", &passwords_file());
    // resolver
    let t = etag(&app.get("/resolver/reso1").expect(200));
    let file = app.dir.path().join("reso1.passwd").display().to_string();
    post_if(
        &app,
        "/resolver/reso1",
        &t,
        &json!({"type": "passwdresolver", "fileName": file}),
    )
    .expect(200);
    // the same content again is still a write: the version is the stored rows,
    // unchanged rows keep it
    let t2 = etag(&app.get("/resolver/reso1").expect(200));
    app.post_json(
        "/resolver/reso1",
        &json!({"type": "passwdresolver", "fileName": "/etc/passwd"}),
    )
    .expect(200);
    assert_412(post_if(
        &app,
        "/resolver/reso1",
        &t2,
        &json!({"type": "passwdresolver", "fileName": file}),
    ));
    assert_412(delete_if(&app, "/resolver/reso1", &t2));
    // realm (GET /realm/?realm=<name> carries the realm's ETag)
    app.post_json("/realm/realm1", &json!({"resolvers": "reso1"}))
        .expect(200);
    assert!(app.get("/realm/").expect(200).headers.get("etag").is_none());
    let t = etag(&app.get("/realm/?realm=realm1").expect(200));
    post_if(
        &app,
        "/realm/realm1",
        &t,
        &json!({"resolvers": "reso1", "priority.reso1": 3}),
    )
    .expect(200);
    assert_412(post_if(
        &app,
        "/realm/realm1",
        &t,
        &json!({"resolvers": "reso1"}),
    ));
    let node = default_node_uuid(&app);
    assert_412(post_if(
        &app,
        &format!("/realm/realm1/node/{}", node.trim()),
        &t,
        &json!({"resolver": []}),
    ));
    assert_412(delete_if(&app, "/realm/realm1", &t));
    let t = etag(&app.get("/realm/?realm=realm1").expect(200));
    delete_if(&app, "/realm/realm1", &t).expect(200);
    // remote server definitions (GET /privacyideaserver/?identifier=<id>)
    app.post_json(
        "/privacyideaserver/remote1",
        &json!({"url": "https://pi.example.org"}),
    )
    .expect(200);
    let t = etag(
        &app.get("/privacyideaserver/?identifier=remote1")
            .expect(200),
    );
    post_if(
        &app,
        "/privacyideaserver/remote1",
        &t,
        &json!({"url": "https://pi2.example.org"}),
    )
    .expect(200);
    assert_412(post_if(
        &app,
        "/privacyideaserver/remote1",
        &t,
        &json!({"url": "https://pi3.example.org"}),
    ));
    assert_412(delete_if(&app, "/privacyideaserver/remote1", &t));
    let t = etag(
        &app.get("/privacyideaserver/?identifier=remote1")
            .expect(200),
    );
    delete_if(&app, "/privacyideaserver/remote1", &t).expect(200);
}

/// Writers on two nodes increment a policy's priority read–modify–write.
/// With `If-Match` (retrying on 412) no increment is lost.
#[test]
fn concurrent_writers_on_two_nodes_lose_no_update() {
    const PER_WRITER: i64 = 10;
    for db in cluster_dbs() {
        eprintln!("--- {}", db.label());
        let (a, b) = two_nodes(&db);
        a.post_json(
            "/policy/counter",
            &json!({"scope": "webui", "action": "login_mode=userstore", "priority": 1}),
        )
        .expect(200);
        let stale_seen = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for app in [&a, &b, &a, &b] {
                let stale_seen = &stale_seen;
                s.spawn(move || {
                    let mut done = 0;
                    while done < PER_WRITER {
                        let g = app.get("/policy/counter").expect(200);
                        let tag = etag(&g);
                        let prio = g.value()[0]["priority"].as_i64().expect("priority");
                        let a = post_if(
                            app,
                            "/policy/counter",
                            &tag,
                            &json!({"scope": "webui", "action": "login_mode=userstore", "priority": prio + 1}),
                        );
                        match a.status {
                            200 => done += 1,
                            412 => {
                                stale_seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                            other => panic!("unexpected {other}: {}", a.text),
                        }
                    }
                });
            }
        });
        let final_prio = b.get("/policy/counter").expect(200).value()[0]["priority"].clone();
        assert_eq!(
            final_prio,
            json!(1 + 4 * PER_WRITER),
            "{}: no lost update",
            db.label()
        );
        eprintln!(
            "{}: {} stale writes refused with 412",
            db.label(),
            stale_seen.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}
