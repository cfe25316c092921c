//! The LDAP resolver against a real OpenLDAP `slapd` (spec
//! `resolvers-sql-ldap.md` §5.2). Expected values are the ones the released
//! privacyIDEA 3.14 gave against the same fixture (spec/resolvers-sql-ldap.md §7, observed on the
//! reference server; `L<n>` names the spec case).
//!
//! Server: `PI_TEST_LDAP_URI` (plus `PI_TEST_LDAPS_URI`, `PI_TEST_LDAP_CA`
//! for TLS) if set — `.ci/run` starts one with `scripts/ldap-test-server.sh`;
//! otherwise, if `slapd` is installed, every test starts a throw-away slapd
//! (plain + ldaps, self-signed CA) on free loopback ports; otherwise the tests
//! are skipped with a message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{free_port, ldap1, with, TestLdap};
use pi_realm::{LdapResolver, Resolver, ResolverError, SearchFilter};
use serde_json::{json, Value};

macro_rules! ldap_or_skip {
    () => {
        match TestLdap::get(true) {
            Some(l) => l,
            None => return,
        }
    };
}

/// `ldap2` of spec/resolvers-sql-ldap.md §5 (reader account, two login attributes, entryUUID,
/// no cache, employeeNumber, recursive groups).
fn ldap2(uri: &str) -> Value {
    json!({
        "LDAPURI": uri,
        "LDAPBASE": "dc=example,dc=org",
        "BINDDN": "cn=reader,ou=services,dc=example,dc=org",
        "BINDPW": "readerpw",
        "LOGINNAMEATTRIBUTE": "uid, mail",
        "LDAPSEARCHFILTER": "(objectClass=inetOrgPerson)",
        "USERINFO": r#"{"username":"uid","givenname":"givenName","surname":"sn","email":"mail","phone":"telephoneNumber","mobile":"mobile","employeeNumber":"employeeNumber"}"#,
        "UIDTYPE": "entryUUID",
        "CACHE_TIMEOUT": "0",
        "recursive_group_search": "True",
        "group_search_filter": "(&(objectClass=groupOfNames)(member=uid={username},ou=people,{base_dn}))",
        "group_name_attribute": "cn",
        "group_attribute_mapping_key": "groups",
    })
}

fn resolver(cfg: &Value) -> LdapResolver {
    LdapResolver::from_config(cfg.as_object().unwrap()).unwrap()
}

/// The user info of `uid` as JSON.
fn info_json(r: &LdapResolver, uid: &str) -> Value {
    serde_json::to_value(r.user_info(uid).unwrap()).unwrap()
}

fn test(cfg: &Value) -> (bool, String) {
    let t = pi_realm::test_connection("ldapresolver", cfg.as_object().unwrap()).unwrap();
    (t.success, t.description)
}

/// The description without the timing: `…found in <t>s.`.
fn untimed(d: &str) -> String {
    let re = |s: &str| {
        let Some(i) = s.find(" in ") else {
            return s.to_owned();
        };
        let rest = &s[i + 4..];
        let end = rest.find('s').unwrap_or(0);
        format!("{} in <t>{}", &s[..i], &rest[end..])
    };
    re(d)
}

/// The untimed answer of a test that finds `n` users.
fn found(n: usize) -> (bool, String) {
    (
        true,
        format!("Your LDAP config seems to be OK, {n} user objects found in <t>s."),
    )
}

fn ok5() -> (bool, String) {
    found(5)
}

fn untimed_test(cfg: &Value) -> (bool, String) {
    let (ok, d) = test(cfg);
    (ok, untimed(&d))
}

#[test]
fn resolver_test_messages_l1_to_l13() {
    let l = ldap_or_skip!();
    let base = ldap1(&l.uri);
    // `base` with `extra` (null: the key removed) through the resolver test
    let test_with = |extra: Value| test(&with(base.clone(), extra));
    let untimed_with = |extra: Value| untimed_test(&with(base.clone(), extra));
    let bind_fail = (
        false,
        "ERR907: Unable to perform bind operation: invalidCredentials (49)!".to_owned(),
    );
    assert_eq!(untimed_test(&base), ok5(), "L1");
    for (extra, want, label) in [
        (json!({"BINDPW": "wrong"}), bind_fail.clone(), "L2"),
        (
            json!({"BINDDN": "cn=nobody,dc=example,dc=org"}),
            bind_fail,
            "L3",
        ),
        (json!({"BINDDN": "", "BINDPW": ""}), ok5(), "L4 anonymous"),
        (
            json!({"AUTHTYPE": "unknown"}),
            (
                false,
                "ERR907: Unsupported authentication type: unknown".into(),
            ),
            "L5",
        ),
        (json!({"UIDTYPE": "entryUUID"}), ok5(), "L6"),
        (json!({"UIDTYPE": "employeeType"}), found(0), "L7"),
        (json!({"LDAPBASE": "dc=nothere,dc=org"}), found(0), "L10"),
        (json!({"SIZELIMIT": 2}), found(2), "L11"),
        (
            json!({"USERINFO": "{username: uid, email: mail}"}),
            ok5(),
            "YAML USERINFO",
        ),
        (
            json!({"BINDDN": "cn=reader,ou=services,dc=example,dc=org", "BINDPW": "readerpw"}),
            ok5(),
            "reader account",
        ),
    ] {
        assert_eq!(untimed_with(extra), want, "{label}");
    }
    // a bind DN without a password is never an (unauthenticated) bind
    assert_eq!(
        test_with(json!({"BINDPW": null})),
        (false, "password is mandatory in simple bind".into())
    );
    let no_pw = resolver(&with(base.clone(), json!({"BINDPW": ""})));
    assert!(no_pw.user_id("alice").is_err());
    for (extra, error, label) in [
        (
            json!({"LDAPSEARCHFILTER": "(objectClass=inetOrgPerson"}),
            "invalid filter",
            "L12a",
        ),
        (
            json!({"LDAPSEARCHFILTER": "objectClass=inetOrgPerson"}),
            "malformed filter",
            "L12b",
        ),
        (json!({"USERINFO": null}), "'USERINFO'", "L13a"),
        (
            json!({"LDAPSEARCHFILTER": null}),
            "'LDAPSEARCHFILTER'",
            "L13b",
        ),
        (
            json!({"UIDTYPE": null}),
            "'NoneType' object has no attribute 'lower'",
            "L13c",
        ),
    ] {
        assert_eq!(test_with(extra), (false, error.to_owned()), "{label}");
    }
    // L14: missing LDAPURI / TIMEOUT abc are build errors (the release: HTTP 500)
    assert!(pi_realm::test_connection(
        "ldapresolver",
        with(base.clone(), json!({"LDAPURI": null}))
            .as_object()
            .unwrap()
    )
    .is_err());
    assert!(pi_realm::test_connection(
        "ldapresolver",
        with(base.clone(), json!({"TIMEOUT": "abc"}))
            .as_object()
            .unwrap()
    )
    .is_err());
}

#[test]
fn pool_failover_and_dead_servers_l8_l9() {
    let l = ldap_or_skip!();
    let dead = format!("ldap://127.0.0.1:{}", free_port());
    let started = Instant::now();
    assert_eq!(
        test(&with(ldap1(&l.uri), json!({"LDAPURI": dead}))),
        (
            false,
            "no active server available in server pool after maximum number of tries".into()
        ),
        "L8"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused port fails fast"
    );
    let both = format!("{dead}, {}", l.uri);
    assert_eq!(
        untimed_test(&with(ldap1(&l.uri), json!({"LDAPURI": both}))),
        ok5(),
        "L9"
    );
    // the same through lookups, several times (round robin over a dead member)
    let r = resolver(&with(
        ldap1(&l.uri),
        json!({"LDAPURI": both, "CACHE_TIMEOUT": "0"}),
    ));
    for _ in 0..3 {
        assert_eq!(
            r.user_id("bob").unwrap(),
            "uid=bob,ou=people,dc=example,dc=org"
        );
        assert!(r
            .check_password("uid=bob,ou=people,dc=example,dc=org", "bobpw")
            .unwrap());
    }
    // a realm whose only server is down: a clean backend error
    let down = resolver(&with(ldap1(&l.uri), json!({"LDAPURI": dead})));
    assert!(
        matches!(down.user_id("alice"), Err(ResolverError::Backend(m)) if m.contains("no active server"))
    );
}

#[test]
fn blackhole_server_times_out() {
    let l = ldap_or_skip!();
    // accepts TCP connections (kernel backlog) but never answers LDAP
    let hole = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("ldap://127.0.0.1:{}", hole.local_addr().unwrap().port());
    let cfg = with(ldap1(&l.uri), json!({"LDAPURI": uri, "TIMEOUT": 1}));
    let started = Instant::now();
    let (ok, _) = test(&cfg);
    assert!(!ok);
    let r = resolver(&cfg);
    assert!(r.user_id("alice").is_err());
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn login_lookups_and_injection_l22_to_l28() {
    let l = ldap_or_skip!();
    let r = resolver(&ldap1(&l.uri));
    let alice = "uid=alice,ou=people,dc=example,dc=org";
    assert_eq!(r.user_id("alice").unwrap(), alice, "L22");
    assert_eq!(r.user_id("ALICE").unwrap(), alice, "L23");
    assert_eq!(r.user_id(" alice ").unwrap(), alice, "L26");
    for login in [
        "al*",
        "*",
        "alice)(uid=*",
        "a\\b",
        "a/b",
        "*)(uid=*",
        "nobody",
    ] {
        assert!(
            matches!(r.user_id(login), Err(ResolverError::NotFound(_))),
            "L24/L25 {login:?}"
        );
    }
    // NUL is not escaped in logins (as in the release); it never finds anybody
    assert!(r.user_id("alice\0").is_err());
    assert_eq!(r.primary_login(alice).unwrap(), None);
    let r2 = resolver(&ldap2(&l.uri));
    let bob = "22222222-2222-4222-8222-222222222222";
    assert_eq!(r2.user_id("bob@example.org").unwrap(), bob, "L27");
    assert_eq!(r2.user_id("bob").unwrap(), bob, "L27");
    assert_eq!(
        r2.primary_login(bob).unwrap().as_deref(),
        Some("bob"),
        "L28"
    );
    assert!(r2.user_id("*@example.org").is_err());
}

#[test]
fn user_info_l29_to_l31_l45_l46() {
    let l = ldap_or_skip!();
    let r = resolver(&ldap1(&l.uri));
    assert_eq!(
        info_json(&r, "uid=alice,ou=people,dc=example,dc=org"),
        json!({"username":"alice","surname":"Example","givenname":"Alice","email":"alice@example.org","phone":"+49 111 1111","mobile":["+49 170 1111","+49 171 1111"]}),
        "L29"
    );
    assert_eq!(
        r.username("uid=alice,ou=people,dc=example,dc=org").unwrap(),
        "alice"
    );
    assert!(
        r.user_info("uid=nobody,ou=people,dc=example,dc=org")
            .unwrap_err()
            .is_not_found(),
        "L30"
    );
    let r2 = resolver(&ldap2(&l.uri));
    assert_eq!(
        info_json(&r2, "22222222-2222-4222-8222-222222222222"),
        json!({"username":"bob","surname":"Builder","givenname":"Bob","email":"bob@example.org","phone":"+49 222 2222","mobile":[],"employeeNumber":"1002","groups":["staff"]}),
        "L31/L45"
    );
    assert_eq!(
        info_json(&r2, "11111111-1111-4111-8111-111111111111")["groups"],
        json!(["staff", "admins"]),
        "L45"
    );
    // L46: MULTIVALUEATTRIBUTES replaces the default, single-valued entryUUID stays a scalar
    let r3 = resolver(&with(
        ldap1(&l.uri),
        json!({"USERINFO": r#"{"username":"uid","email":"mail","cn":"cn","uuid":"entryUUID","created":"createTimestamp","oc":"objectClass"}"#,
               "MULTIVALUEATTRIBUTES": "['email','uuid','oc']"}),
    ));
    let mut f = SearchFilter::new();
    f.insert("username".into(), "bob".into());
    let list = r3.user_list(&f).unwrap();
    assert_eq!(list.len(), 1);
    let b = serde_json::to_value(&list[0]).unwrap();
    assert_eq!(b["email"], json!(["bob@example.org"]));
    assert_eq!(b["cn"], json!("Bob Builder"));
    assert_eq!(b["uuid"], json!("22222222-2222-4222-8222-222222222222"));
    assert_eq!(b["oc"], json!(["inetOrgPerson"]));
    assert!(
        b["created"].as_str().unwrap().ends_with(" GMT"),
        "L49 {}",
        b["created"]
    );
    // NOSCHEMAS: everything a list of raw strings, unknown attributes allowed
    let r4 = resolver(&with(
        ldap1(&l.uri),
        json!({"USERINFO": r#"{"username":"uid","uuid":"entryUUID","created":"createTimestamp","oc":"objectClass","nosuch":"noSuchAttr"}"#,
               "MULTIVALUEATTRIBUTES": "['uuid']", "NOSCHEMAS": "1"}),
    ));
    let b = serde_json::to_value(&r4.user_list(&f).unwrap()[0]).unwrap();
    assert_eq!(
        b["uuid"],
        json!(["22222222-2222-4222-8222-222222222222"]),
        "L48"
    );
    assert_eq!(b["nosuch"], json!(""));
    assert_eq!(b["oc"], json!("inetOrgPerson"));
    assert!(b["created"].as_str().unwrap().ends_with('Z'));
    // with schema an unknown attribute is an error (listing skipped)
    let r5 = resolver(&with(
        ldap1(&l.uri),
        json!({"USERINFO": r#"{"username":"uid","nosuch":"noSuchAttr"}"#}),
    ));
    assert!(
        matches!(r5.user_list(&f), Err(ResolverError::Backend(m)) if m == "invalid attribute type noSuchAttr")
    );
    // L50: wrong case of an attribute → key missing; userPassword never shown
    let r6 = resolver(&with(
        ldap1(&l.uri),
        json!({"USERINFO": r#"{"username":"uid","givenname":"givenname","password":"userPassword"}"#}),
    ));
    let b = serde_json::to_value(&r6.user_list(&f).unwrap()[0]).unwrap();
    assert!(b.get("givenname").is_none(), "L50 {b}");
    assert_eq!(b["password"], json!(""));
}

#[test]
fn passwords_l32_to_l34() {
    let l = ldap_or_skip!();
    let r = resolver(&ldap1(&l.uri));
    let dn = |u: &str| format!("uid={u},ou=people,dc=example,dc=org");
    assert!(r.check_password(&dn("alice"), "alicepw").unwrap());
    assert!(
        !r.check_password(&dn("alice"), "").unwrap(),
        "empty password never binds"
    );
    assert!(!r.check_password(&dn("alice"), "x").unwrap());
    assert!(!r.check_password(&dn("nobody"), "x").unwrap());
    assert!(r.check_password(&dn("carol"), "cärolpw").unwrap(), "L33");
    assert!(!r.check_password(&dn("dave"), "anything").unwrap(), "L34");
    // an anonymous-bind attempt through a DN with an empty password is refused too
    assert!(!r.check_password("", "").unwrap());
    let r2 = resolver(&ldap2(&l.uri));
    assert!(r2
        .check_password("22222222-2222-4222-8222-222222222222", "bobpw")
        .unwrap());
    assert!(!r2
        .check_password("22222222-2222-4222-8222-222222222222", "")
        .unwrap());
    assert!(r2
        .check_password("00000000-0000-4000-8000-000000000000", "x")
        .is_err());
}

fn names(list: &[pi_realm::UserInfo]) -> Vec<String> {
    list.iter()
        .map(|u| u["username"].as_str().to_owned())
        .collect()
}

#[test]
fn user_lists_l35_to_l44() {
    let l = ldap_or_skip!();
    let r = resolver(&ldap1(&l.uri));
    let list = |pairs: &[(&str, &str)]| {
        let f: SearchFilter = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        r.user_list(&f)
    };
    let all = list(&[]).unwrap();
    assert_eq!(names(&all), ["eve", "dave", "carol", "bob", "alice"], "L35");
    let dave = serde_json::to_value(&all[1]).unwrap();
    assert_eq!(
        dave,
        json!({"email":"dave@example.org","givenname":"Dave","mobile":[],"phone":"","surname":"NoPassword","userid":"uid=dave,ou=people,dc=example,dc=org","username":"dave"})
    );
    assert_eq!(
        names(&list(&[("username", "a*")]).unwrap()),
        ["alice"],
        "L36"
    );
    assert!(list(&[("username", "*)(uid=*")]).unwrap().is_empty(), "L37");
    assert_eq!(list(&[("username", "*")]).unwrap().len(), 5);
    assert_eq!(list(&[("email", "*@example.org")]).unwrap().len(), 5, "L38");
    assert_eq!(
        names(&list(&[("surname", "O'Neil")]).unwrap()),
        ["eve"],
        "L39"
    );
    assert_eq!(
        names(&list(&[("givenname", "Cärol")]).unwrap()),
        ["carol"],
        "L39"
    );
    assert!(list(&[("givenname", "x\0(y)\\")]).unwrap().is_empty());
    assert_eq!(
        list(&[("nokey", "x")]).unwrap_err(),
        ResolverError::InvalidSearch(
            "ERR905: Search parameter (['nokey']) not available in attribute mapping.".into()
        ),
        "L40"
    );
    let small = resolver(&with(ldap1(&l.uri), json!({"SIZELIMIT": "2"})));
    assert_eq!(
        names(&small.user_list(&SearchFilter::new()).unwrap()),
        ["bob", "alice"],
        "L44"
    );
    let r2 = resolver(&ldap2(&l.uri));
    let mut f = SearchFilter::new();
    f.insert("username".into(), "alice".into());
    let a = serde_json::to_value(&r2.user_list(&f).unwrap()[0]).unwrap();
    assert_eq!(
        a,
        json!({"email":"alice@example.org","employeeNumber":"1001","givenname":"Alice","groups":["staff","admins"],"mobile":["+49 170 1111","+49 171 1111"],"phone":"+49 111 1111","surname":"Example","userid":"11111111-1111-4111-8111-111111111111","username":"alice"}),
        "L45"
    );
}

#[test]
fn connection_reuse_and_cache() {
    let l = ldap_or_skip!();
    let r = resolver(&with(ldap1(&l.uri), json!({"CACHE_TIMEOUT": "0"})));
    assert_eq!(r.idle_connections(), 0, "building does no I/O");
    for _ in 0..5 {
        r.user_id("alice").unwrap();
    }
    assert_eq!(r.idle_connections(), 1, "one service connection, reused");
    // concurrent lookups share a few connections
    let r = std::sync::Arc::new(r);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let r = r.clone();
            std::thread::spawn(move || {
                for _ in 0..10 {
                    assert!(r.user_id("bob").is_ok());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(r.idle_connections() <= 4);
    // dropping a resolver with open connections on an async executor thread
    // (the server drops old snapshots there) must not panic
    let r = std::sync::Arc::try_unwrap(r).unwrap();
    assert!(r.idle_connections() > 0);
    let rt = ldap3::tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async move { drop(r) });
    // a resolver whose directory goes away serves cached answers
    let cached = resolver(&ldap1(&l.uri));
    let uid = cached.user_id("eve").unwrap();
    assert_eq!(
        cached.user_info(&uid).unwrap()["surname"].as_str(),
        "O'Neil"
    );
}

#[test]
fn tls_ldaps_and_starttls() {
    let l = ldap_or_skip!();
    let (Some(ldaps), Some(ca)) = (l.ldaps.clone(), l.ca.clone()) else {
        eprintln!("SKIPPED: no TLS server (PI_TEST_LDAPS_URI / PI_TEST_LDAP_CA)");
        return;
    };
    let base = with(ldap1(&ldaps), json!({"TIMEOUT": 3}));
    // no verification: accepted
    assert_eq!(untimed_test(&base), ok5(), "ldaps without verification");
    // verification against the system roots: our CA is unknown → refused
    let (ok, d) = test(&with(base.clone(), json!({"TLS_VERIFY": "1"})));
    assert!(!ok, "{d}");
    // with the CA file: accepted, lookups and binds work
    let verified = with(base.clone(), json!({"TLS_VERIFY": "1", "TLS_CA_FILE": ca}));
    assert_eq!(untimed_test(&verified), ok5(), "ldaps verified");
    let r = resolver(&verified);
    let uid = r.user_id("carol").unwrap();
    assert!(r.check_password(&uid, "cärolpw").unwrap());
    assert!(!r.check_password(&uid, "").unwrap());
    // StartTLS on the plain port, verified
    let st = with(
        ldap1(&l.uri),
        json!({"START_TLS": "1", "TLS_VERIFY": "1", "TLS_CA_FILE": ca}),
    );
    assert_eq!(untimed_test(&st), ok5(), "StartTLS verified");
    let (ok, _) = test(&with(
        ldap1(&l.uri),
        json!({"START_TLS": "1", "TLS_VERIFY": "1"}),
    ));
    assert!(!ok, "StartTLS with an unknown CA is refused");
    // a CA file that does not exist: a clean failure
    let (ok, d) = test(&with(
        base,
        json!({"TLS_VERIFY": "1", "TLS_CA_FILE": "/nonexistent/ca.pem"}),
    ));
    assert!(!ok);
    assert!(d.contains("TLS_CA_FILE"), "{d}");
    // ldaps to the plain port fails cleanly
    let plain_as_tls = l.uri.replace("ldap://", "ldaps://");
    let (ok, _) = test(&with(ldap1(&plain_as_tls), json!({"TIMEOUT": 2})));
    assert!(!ok);
}

#[test]
fn reconnects_after_a_server_restart() {
    let l = ldap_or_skip!();
    if !l.is_own() {
        eprintln!("SKIPPED: needs its own slapd (PI_TEST_LDAP_URI is shared)");
        return;
    }
    let r = resolver(&with(ldap1(&l.uri), json!({"CACHE_TIMEOUT": "0"})));
    assert!(r.user_id("alice").is_ok());
    assert_eq!(r.idle_connections(), 1);
    let run = |cmd: &str| {
        let out = l.own_script(cmd).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run("stop");
    // the directory is down: a clean error, quickly
    let started = Instant::now();
    assert!(matches!(r.user_id("bob"), Err(ResolverError::Backend(_))));
    assert!(started.elapsed() < Duration::from_secs(5));
    run("start");
    // the stale connection was dropped; a new one is opened
    assert!(r.user_id("bob").is_ok());
    assert!(r
        .check_password("uid=bob,ou=people,dc=example,dc=org", "bobpw")
        .unwrap());
}
