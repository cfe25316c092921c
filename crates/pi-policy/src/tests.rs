//! Table-driven tests named after the spec's cases (spec/policy.md §5) and quirks (§2.11).

use crate::*;
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use pi_model::condition::Section;
use pi_model::record::{ConditionRecord, PolicyRecord};
use pi_model::Policy;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

// ---------- helpers ----------

/// An active priority-1 policy record (shared by the crate's test modules).
pub(crate) fn pol(name: &str, scope: &str, action: &str) -> PolicyRecord {
    PolicyRecord {
        name: name.into(),
        scope: scope.into(),
        action: action.into(),
        active: true,
        priority: 1,
        ..PolicyRecord::default()
    }
}

trait B: Sized {
    fn with(self, f: impl FnOnce(&mut PolicyRecord)) -> Self;
    fn realm(self, v: &str) -> Self {
        self.with(|p| p.realm = v.into())
    }
    fn user(self, v: &str) -> Self {
        self.with(|p| p.user = v.into())
    }
    fn resolver(self, v: &str) -> Self {
        self.with(|p| p.resolver = v.into())
    }
    fn adminuser(self, v: &str) -> Self {
        self.with(|p| p.adminuser = v.into())
    }
    fn client(self, v: &str) -> Self {
        self.with(|p| p.client = v.into())
    }
    fn pinode(self, v: &str) -> Self {
        self.with(|p| p.pinode = v.into())
    }
    fn ua(self, v: &str) -> Self {
        self.with(|p| p.user_agents = v.into())
    }
    fn time(self, v: &str) -> Self {
        self.with(|p| p.time = v.into())
    }
    fn prio(self, v: i64) -> Self {
        self.with(|p| p.priority = v)
    }
    fn inactive(self) -> Self {
        self.with(|p| p.active = false)
    }
    fn uci(self) -> Self {
        self.with(|p| p.user_case_insensitive = true)
    }
    fn car(self) -> Self {
        self.with(|p| p.check_all_resolvers = true)
    }
    fn cond(
        self,
        section: &str,
        key: &str,
        cmp: &str,
        value: &str,
        active: bool,
        h: Option<&str>,
    ) -> Self {
        self.with(|p| {
            p.conditions.push(ConditionRecord {
                section: section.into(),
                key: key.into(),
                comparator: cmp.into(),
                value: value.into(),
                active,
                handle_missing_data: h.map(str::to_string),
            })
        })
    }
}

impl B for PolicyRecord {
    fn with(mut self, f: impl FnOnce(&mut PolicyRecord)) -> Self {
        f(&mut self);
        self
    }
}

fn ctx() -> BuildContext {
    let mut rr = HashMap::new();
    rr.insert("realm1".to_string(), vec!["resolver1".to_string()]);
    rr.insert("realm2".to_string(), vec!["resolver1".to_string()]);
    rr.insert("realm3".to_string(), vec!["reso3".to_string()]);
    rr.insert(
        "realm4".to_string(),
        vec!["resolver1".to_string(), "reso3".to_string()],
    );
    rr.insert(
        "test_realm".to_string(),
        vec!["reso1".into(), "resoX".into(), "resoA".into()],
    );
    BuildContext {
        realm_resolvers: rr,
        local_node: "localnode".into(),
    }
}

fn set(recs: Vec<PolicyRecord>) -> PolicySet {
    PolicySet::from_records(&recs, ctx())
}

/// match_policies, asserting the index gives the linear scan's result.
fn mq(s: &PolicySet, q: Query<'_>) -> Vec<String> {
    let a = s.match_policies(&q);
    let b = s.linear_match_policies(&q);
    let a: Vec<String> = a.unwrap().iter().map(|p| p.name().to_string()).collect();
    let b: Vec<String> = b.unwrap().iter().map(|p| p.name().to_string()).collect();
    assert_eq!(a, b, "index and linear scan differ");
    a
}

fn m(s: &PolicySet, q: Query<'_>) -> BTreeSet<String> {
    mq(s, q).into_iter().collect()
}

fn merr(s: &PolicySet, q: Query<'_>) -> MatchError {
    let e = s.match_policies(&q).unwrap_err();
    assert_eq!(Some(&e), s.linear_match_policies(&q).err().as_ref());
    e
}

fn n(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn now() -> chrono::DateTime<FixedOffset> {
    FixedOffset::east_opt(0)
        .unwrap()
        .with_ymd_and_hms(2024, 7, 1, 12, 0, 0)
        .unwrap()
}

fn mctx<'a>() -> MatchContext<'a> {
    let mut c = MatchContext::new(now());
    c.client_ip = Some("127.0.0.1");
    c
}

fn names(v: &[&Policy]) -> BTreeSet<String> {
    v.iter().map(|p| p.name().to_string()).collect()
}

fn uo(login: &str, realm: &str, resolver: &str, attrs: Value) -> UserObject {
    let mut u = UserObject::new(login, realm, resolver);
    if let Value::Object(m) = attrs {
        u.attributes = m;
    }
    u
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .unwrap()
        .and_hms_opt(h, mi, 0)
        .unwrap()
}

// ---------- 5.1 ----------

#[test]
fn case_002_match_by_name_scope_action() {
    let s = set(vec![
        pol("pol1", "container", "container_client_rollover"),
        pol("pol2", "authorization", "tokentype=HOTP"),
        pol("pol3", "authorization", "serial=OATH"),
        pol("pol4", "admin", "enrollHOTP, disable , enable")
            .with(|p| p.description = Some("test".into())),
    ]);
    assert_eq!(
        mq(
            &s,
            Query {
                name: Some("pol3"),
                ..Query::default()
            }
        )
        .len(),
        1
    );
    assert_eq!(
        mq(
            &s,
            Query {
                scope: Some("authorization"),
                ..Query::default()
            }
        )
        .len(),
        2
    );
    assert_eq!(
        m(
            &s,
            Query {
                scope: Some("authorization"),
                action: Some("tokentype"),
                ..Query::default()
            }
        ),
        n(&["pol2"])
    );
    assert_eq!(
        m(
            &s,
            Query {
                scope: Some("admin"),
                action: Some("disable"),
                ..Query::default()
            }
        ),
        n(&["pol4"])
    );
    let p4 = s
        .list(&Query {
            name: Some("pol4"),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(p4[0].description(), Some("test"));
}

// ---------- 5.3 ----------

fn set_057() -> PolicySet {
    set(vec![
        pol("pol1", "container", "container_client_rollover")
            .realm("*")
            .resolver("*")
            .user("*")
            .client("0.0.0.0/0")
            .inactive(),
        pol("pol2", "authorization", "tokentype=HOTP").realm("*"),
        pol("pol2a", "authorization", "tokentype=TOTP").realm("realm2"),
        pol("pol3", "authorization", "serial=OATH")
            .realm("realm1")
            .resolver("resolver1"),
        pol("pol4", "admin", "enrollHOTP, disable, enable")
            .realm("realm2")
            .adminuser("admin, superroot"),
        pol("pol5", "admin", "enrollHOTP, disable , enable")
            .realm("realm2")
            .adminuser("Admin, superroot")
            .uci(),
    ])
}

#[test]
fn case_057_inactive() {
    let s = set_057();
    assert_eq!(
        m(
            &s,
            Query {
                active: Some(false),
                ..Query::default()
            }
        ),
        n(&["pol1"])
    );
}

#[test]
fn case_058_action_and_scope_counts() {
    let s = set_057();
    assert_eq!(
        mq(
            &s,
            Query {
                action: Some("tokentype"),
                ..Query::default()
            }
        )
        .len(),
        2
    );
    assert_eq!(
        mq(
            &s,
            Query {
                action: Some("serial"),
                ..Query::default()
            }
        )
        .len(),
        1
    );
    assert_eq!(
        mq(
            &s,
            Query {
                scope: Some("authorization"),
                ..Query::default()
            }
        )
        .len(),
        3
    );
}

#[test]
fn case_059_adminuser_case_insensitive() {
    let s = set_057();
    assert_eq!(
        m(
            &s,
            Query {
                scope: Some("admin"),
                adminuser: Some("admin"),
                ..Query::default()
            }
        ),
        n(&["pol4", "pol5"])
    );
    assert_eq!(
        m(
            &s,
            Query {
                scope: Some("admin"),
                adminuser: Some("Admin"),
                ..Query::default()
            }
        ),
        n(&["pol5"])
    );
}

#[test]
fn case_060_resolver_and_realm() {
    let s = set_057();
    let authz = Some("authorization");
    assert_eq!(
        m(
            &s,
            Query {
                scope: authz,
                resolver: Some("resolver2"),
                ..Query::default()
            }
        ),
        n(&["pol2", "pol2a"])
    );
    assert_eq!(
        m(
            &s,
            Query {
                scope: authz,
                realm: Some("realm1"),
                ..Query::default()
            }
        ),
        n(&["pol2", "pol3"])
    );
    assert_eq!(
        mq(
            &s,
            Query {
                scope: authz,
                resolver: Some("resolver1"),
                ..Query::default()
            }
        )
        .len(),
        3
    );
}

#[test]
fn case_061_user_agent() {
    let recs = vec![
        pol("pol1", "container", "container_client_rollover")
            .realm("*")
            .resolver("*")
            .user("*")
            .client("0.0.0.0/0")
            .ua("privacyidea-cp"),
        pol("pol2", "authorization", "tokentype=HOTP")
            .realm("*")
            .ua("PAM"),
        pol("pol2a", "authorization", "tokentype=TOTP").realm("realm2"),
        pol("pol3", "authorization", "serial=OATH")
            .realm("realm1")
            .resolver("resolver1"),
        pol("pol4", "admin", "enrollHOTP, disable, enable")
            .realm("realm2")
            .adminuser("admin, superroot"),
        pol("pol5", "admin", "enrollHOTP")
            .realm("realm2")
            .adminuser("Admin, superroot")
            .uci(),
    ];
    let s = set(recs);
    assert_eq!(
        m(
            &s,
            Query {
                user_agent: Some("privacyidea-cp"),
                ..Query::default()
            }
        ),
        n(&["pol1", "pol2a", "pol3", "pol4", "pol5"])
    );
}

fn set_062() -> PolicySet {
    set(vec![
        pol("pol1", "container", "x").client("172.16.0.3, 172.16.0.4/24"),
        pol("pol2", "authorization", "x").client("192.168.0.0/16, -192.168.1.1"),
        pol("pol3", "authentication", "x").client("10.0.0.1, 10.0.0.2, 10.0.0.3"),
        pol("pol4", "admin", "x"),
    ])
}

#[test]
fn case_062_client() {
    let s = set_062();
    assert_eq!(
        m(
            &s,
            Query {
                client: Some("10.0.0.1"),
                ..Query::default()
            }
        ),
        n(&["pol3", "pol4"])
    );
    assert_eq!(
        m(
            &s,
            Query {
                client: Some("192.168.2.3"),
                ..Query::default()
            }
        ),
        n(&["pol2", "pol4"])
    );
    assert_eq!(
        m(
            &s,
            Query {
                client: Some("192.168.1.1"),
                ..Query::default()
            }
        ),
        n(&["pol4"])
    );
    let e = merr(
        &s,
        Query {
            client: Some(""),
            ..Query::default()
        },
    );
    assert_eq!(e.code(), 905);
    assert_eq!(e.to_string(), "client argument must be a non-empty string");
}

fn set_063(field: fn(PolicyRecord, &str) -> PolicyRecord, scope: &str) -> PolicySet {
    set(vec![
        field(pol("pol1", scope, "enable"), "*"),
        field(pol("pol2", scope, "enable"), "admin, root, user1"),
        field(pol("pol3", scope, "enable"), "*, !user1"),
        field(pol("pol4", scope, "enable"), "*, -root"),
    ])
}

#[test]
fn case_063_user_negation() {
    let s = set_063(|p, v| p.user(v), "authorization");
    let q = |u| Query {
        user: Some(u),
        ..Query::default()
    };
    assert_eq!(m(&s, q("user1")), n(&["pol1", "pol2", "pol4"]));
    assert_eq!(m(&s, q("root")), n(&["pol1", "pol2", "pol3"]));
    assert_eq!(m(&s, q("admin")), n(&["pol1", "pol2", "pol3", "pol4"]));
    assert_eq!(m(&s, q("")), n(&["pol1", "pol3", "pol4"]));
}

#[test]
fn case_064_adminuser_negation() {
    let s = set_063(|p, v| p.adminuser(v), "admin");
    let q = |u| Query {
        scope: Some("admin"),
        adminuser: Some(u),
        ..Query::default()
    };
    assert_eq!(m(&s, q("user1")), n(&["pol1", "pol2", "pol4"]));
    assert_eq!(m(&s, q("root")), n(&["pol1", "pol2", "pol3"]));
    assert_eq!(m(&s, q("admin")), n(&["pol1", "pol2", "pol3", "pol4"]));
    assert_eq!(m(&s, q("")), n(&["pol1", "pol3", "pol4"]));
    // adminuser is ignored unless the query scope is admin
    assert_eq!(
        mq(
            &s,
            Query {
                adminuser: Some("nobody"),
                ..Query::default()
            }
        )
        .len(),
        4
    );
}

fn set_065() -> PolicySet {
    set(vec![
        pol("pol1", "container", "x").realm("realm1"),
        pol("pol2", "authorization", "x")
            .realm("realm1")
            .resolver("resolver1"),
        pol("pol3", "authentication", "x").resolver("reso3"),
        pol("pol4", "enrollment", "x").realm("realm3"),
    ])
}

#[test]
fn case_065_realm() {
    let s = set_065();
    let q = |r| Query {
        realm: r,
        ..Query::default()
    };
    assert_eq!(m(&s, q(Some("realm1"))), n(&["pol1", "pol2", "pol3"]));
    assert_eq!(m(&s, q(Some("realm3"))), n(&["pol3", "pol4"]));
    assert_eq!(m(&s, q(Some(""))), n(&["pol3"]));
    assert_eq!(m(&s, q(None)).len(), 4);
}

#[test]
fn case_066_resolver() {
    let s = set_065();
    let q = |r| Query {
        resolver: Some(r),
        ..Query::default()
    };
    assert_eq!(m(&s, q("resolver1")), n(&["pol1", "pol2", "pol4"]));
    assert_eq!(m(&s, q("reso3")), n(&["pol1", "pol3", "pol4"]));
    assert_eq!(m(&s, q("")), n(&["pol1", "pol4"]));
}

fn set_067() -> PolicySet {
    set(vec![
        pol("pol1", "admin", "enrollHOTP, enable, disable"),
        pol("pol2", "authentication", "reset_all_user_tokens, otppin=1"),
        pol("pol3", "admin", "*, -disable"),
        pol("pol4", "authentication", "*, -otppin=2"),
    ])
}

#[test]
fn case_067_action_negation() {
    let s = set_067();
    let q = |sc, a| Query {
        scope: Some(sc),
        action: Some(a),
        ..Query::default()
    };
    assert_eq!(mq(&s, q("admin", "enrollHOTP")).len(), 2);
    assert_eq!(mq(&s, q("admin", "enable")).len(), 2);
    assert_eq!(m(&s, q("admin", "disable")), n(&["pol1"]));
    assert_eq!(m(&s, q("authentication", "otppin")), n(&["pol2"]));
}

#[test]
fn case_068_empty_action_query() {
    let s = set_067();
    assert_eq!(
        m(
            &s,
            Query {
                action: Some(""),
                ..Query::default()
            }
        ),
        n(&["pol3", "pol4"])
    );
    assert_eq!(mq(&s, Query::default()).len(), 4);
}

#[test]
fn case_069_search_value() {
    use crate::compiled::{Entries, EntryList};
    let l = EntryList::new(&["v1", "v2"]);
    assert!(l.search("v1").found);
    assert!(!l.search("v3").found);
    assert!(EntryList::new(&["v1", "*"]).search("v3").found);
    assert!(EntryList::new(&["v1", "-v2"]).search("v2").excluded);
    assert!(EntryList::new(&["v1", "v.*"]).search("v3").found);
    assert!(!EntryList::new(&["v1", "r.*"]).search("v13").found);
    assert!(crate::compiled::CompiledPolicy::literal("user1", "user1"));
}

#[test]
fn case_070_check_all_resolvers() {
    let q = Query {
        scope: Some("authorization"),
        realm: Some("test_realm"),
        resolver: Some("reso1"),
        user: Some("cornelius"),
        ..Query::default()
    };
    let s = set(vec![
        pol("checkAll", "authorization", "x")
            .realm("test_realm")
            .resolver("resoX"),
        pol("catchAll", "authorization", "x").realm("test_realm"),
    ]);
    assert_eq!(m(&s, q), n(&["catchAll"]));
    let s = set(vec![
        pol("checkAll", "authorization", "x")
            .realm("test_realm")
            .resolver("resoX")
            .car(),
        pol("catchAll", "authorization", "x").realm("test_realm"),
    ]);
    assert_eq!(mq(&s, q).len(), 2);
}

#[test]
fn case_071_non_ascii_user() {
    let s = set(vec![
        pol("p", "user", "enrollHOTP, otp_pin_minlength=4").user("nönäscii")
    ]);
    let q = |u| Query {
        action: Some("enrollHOTP"),
        user: Some(u),
        ..Query::default()
    };
    assert_eq!(mq(&s, q("somebodyelse")).len(), 0);
    assert_eq!(mq(&s, q("nönäscii")).len(), 1);
}

fn set_072(extra: bool) -> PolicySet {
    let mut v = vec![
        pol("act1", "authentication", "otppin=userstore").user("cornelius, nönäscii"),
        pol("act2", "authentication", "otppin=userstore").resolver("reso1"),
        pol("act3", "authentication", "otppin=none").realm("realm1"),
        pol("act4", "authentication", "otppin=none")
            .user("nönäscii")
            .realm("realm1"),
    ];
    if extra {
        v.push(pol("act5", "authentication", "otppin=none"));
    }
    set(v)
}

#[test]
fn case_072_user_object() {
    let s = set_072(false);
    let run = |u: Option<&UserObject>| {
        m(
            &s,
            Query {
                scope: Some("authentication"),
                action: Some("otppin"),
                user_object: u,
                ..Query::default()
            },
        )
    };
    let cornelius = UserObject::new("cornelius", "realm1", "reso1");
    assert_eq!(run(Some(&cornelius)), n(&["act1", "act2", "act3"]));
    assert_eq!(
        run(Some(&UserObject::new("nönäscii", "realm1", "reso1"))).len(),
        4
    );
    assert_eq!(
        run(Some(&UserObject::new("selfservice", "realm1", "reso1"))),
        n(&["act2", "act3"])
    );
    assert_eq!(
        run(Some(&UserObject::new("whoopsie", "realm2", "reso2"))),
        n(&[])
    );
    assert_eq!(run(None).len(), 4);
    assert_eq!(run(Some(&UserObject::default())), n(&[]));
}

#[test]
fn case_073_action_values_user_object() {
    let s = set_072(false);
    let av = |u: &UserObject| {
        let q = Query {
            scope: Some("authentication"),
            action: Some("otppin"),
            active: Some(true),
            user_object: Some(u),
            ..Query::default()
        };
        let pols = s.match_policies(&q).unwrap();
        serde_json::to_value(extract_action_values(&pols, "otppin", false, false).unwrap()).unwrap()
    };
    assert_eq!(
        av(&UserObject::new("cornelius", "realm1", "reso1")),
        json!({"userstore": ["act1", "act2"], "none": ["act3"]})
    );
    assert_eq!(
        av(&UserObject::new("selfservice", "realm1", "reso1")),
        json!({"userstore": ["act2"], "none": ["act3"]})
    );
}

#[test]
fn case_074_user_object_conflicts() {
    let s = set_072(false);
    let c = UserObject::new("cornelius", "realm1", "reso1");
    let e = merr(
        &s,
        Query {
            user_object: Some(&c),
            realm: Some("realm3"),
            ..Query::default()
        },
    );
    assert_eq!(e.code(), 905);
    assert_eq!(
        e.to_string(),
        "Cannot pass user_object (<cornelius.reso1@realm1>) as well as user (None), resolver (None), realm (realm3) in policy (None, None, None)"
    );
    let e = merr(
        &s,
        Query {
            scope: Some("authentication"),
            action: Some("otppin"),
            user_object: Some(&c),
            user: Some("selfservice"),
            ..Query::default()
        },
    );
    assert!(
        e.to_string()
            .ends_with("in policy (None, 'authentication', 'otppin')"),
        "{e}"
    );
}

#[test]
fn case_075_empty_user_and_case_of_realm() {
    let s = set_072(true);
    assert_eq!(
        m(
            &s,
            Query {
                user_object: Some(&UserObject::default()),
                ..Query::default()
            }
        ),
        n(&["act5"])
    );
    let c = UserObject::new("cornelius", "realm1", "reso1");
    assert_eq!(
        m(
            &s,
            Query {
                user_object: Some(&c),
                user: Some("cornelius"),
                realm: Some("REALM1"),
                ..Query::default()
            }
        ),
        n(&["act1", "act2", "act3", "act5"])
    );
}

fn set_076() -> Vec<PolicyRecord> {
    vec![
        pol("import_node1", "admin", "importtokens")
            .adminuser("import_admin, delete_admin")
            .pinode("pinode1"),
        pol("delete_node2", "admin", "delete")
            .adminuser("delete_admin")
            .pinode("pinode2, pinode1"),
        pol("enable", "admin", "enable").adminuser("enable_admin"),
    ]
}

#[test]
fn case_076_pinode() {
    let s = set(set_076());
    let q = |u, a, node| Query {
        scope: Some("admin"),
        adminuser: Some(u),
        action: Some(a),
        pinode: node,
        ..Query::default()
    };
    assert_eq!(
        m(&s, q("import_admin", "importtokens", Some("pinode1"))),
        n(&["import_node1"])
    );
    assert_eq!(
        m(&s, q("import_admin", "importtokens", Some("pinode2"))),
        n(&[])
    );
    assert_eq!(m(&s, q("import_admin", "delete", None)), n(&[]));
    for node in ["pinode1", "pinode2"] {
        assert_eq!(
            m(&s, q("delete_admin", "delete", Some(node))),
            n(&["delete_node2"])
        );
        assert_eq!(
            m(&s, q("enable_admin", "enable", Some(node))),
            n(&["enable"])
        );
    }
}

#[test]
fn case_077_match_admin_uses_local_node() {
    let mut c = ctx();
    c.local_node = "Node1".into();
    let s = PolicySet::from_records(&set_076(), c);
    let lu = |name: &str| LoggedInUser {
        username: name.into(),
        realm: "".into(),
        role: "admin".into(),
    };
    let del = lu("delete_admin");
    let mut cx = mctx();
    cx.logged_in_user = Some(&del);
    assert!(names(
        &s.match_admin(&cx, Some("delete"), None, None, None)
            .unwrap()
            .policies()
            .unwrap()
    )
    .is_empty());
    let en = lu("enable_admin");
    cx.logged_in_user = Some(&en);
    assert_eq!(
        names(
            &s.match_admin(&cx, Some("enable"), None, None, None)
                .unwrap()
                .policies()
                .unwrap()
        ),
        n(&["enable"])
    );
}

#[test]
fn case_078_user_realm_resolver_lists() {
    let s = set(vec![
        pol("enable", "admin", "enable"),
        pol("disable", "admin", "disable"),
        pol("disable_realm1", "admin", "disable").realm("realm1"),
        pol("disable_realm2", "admin", "disable").realm("realm2"),
        pol("disable_realm3", "admin", "disable").realm("realm3"),
        pol("disable_realm1_userA", "admin", "disable")
            .realm("realm1")
            .user("userA"),
        pol("disable_realm2_userA", "admin", "disable")
            .realm("realm2")
            .user("userA"),
        pol("disable_resolver1", "admin", "disable").resolver("resolver1"),
        pol("disable_resolver3", "admin", "disable").resolver("resolver3"),
        pol("disable_realm1_userA_resolver1", "admin", "disable")
            .realm("realm1")
            .user("userA")
            .resolver("resolver1"),
        pol("disable_realm1_userA_resolver3", "admin", "disable")
            .realm("realm1")
            .user("userA")
            .resolver("resolver3"),
    ]);
    let l = |q: Query| -> BTreeSet<String> {
        s.list(&q)
            .unwrap()
            .iter()
            .map(|p| p.name().to_string())
            .collect()
    };
    let d = Some("disable");
    assert_eq!(
        l(Query {
            action: d,
            ..Query::default()
        })
        .len(),
        10
    );
    assert_eq!(
        l(Query {
            action: d,
            realm: Some("realm1"),
            ..Query::default()
        }),
        n(&[
            "disable",
            "disable_realm1",
            "disable_realm1_userA",
            "disable_resolver1",
            "disable_resolver3",
            "disable_realm1_userA_resolver1",
            "disable_realm1_userA_resolver3"
        ])
    );
    assert_eq!(
        l(Query {
            action: d,
            realm: Some("realm1"),
            user: Some(""),
            resolver: Some(""),
            ..Query::default()
        }),
        n(&["disable", "disable_realm1"])
    );
    let base = Query {
        action: d,
        realm: Some("realm1"),
        user: Some("userA"),
        resolver: Some("resolver1"),
        ..Query::default()
    };
    assert_eq!(
        l(base),
        n(&[
            "disable",
            "disable_realm1",
            "disable_realm1_userA",
            "disable_resolver1",
            "disable_realm1_userA_resolver1"
        ])
    );
    let extra = vec!["realm2".to_string()];
    assert_eq!(
        m(
            &s,
            Query {
                additional_realms: Some(&extra),
                ..base
            }
        ),
        n(&[
            "disable",
            "disable_realm1",
            "disable_realm2",
            "disable_realm1_userA",
            "disable_resolver1",
            "disable_realm1_userA_resolver1"
        ])
    );
}

#[test]
fn case_079_time() {
    let s = set(vec![
        pol("time1", "authorization", "x").time("Mon-Wed: 0-23:59")
    ]);
    // list ignores time
    assert_eq!(
        s.list(&Query {
            name: Some("time1"),
            ..Query::default()
        })
        .unwrap()
        .len(),
        1
    );
    let q = |t| Query {
        time: Some(t),
        ..Query::default()
    };
    assert_eq!(mq(&s, q(at(2019, 7, 3, 13, 0))).len(), 1);
    assert_eq!(mq(&s, q(at(2019, 7, 4, 14, 34))).len(), 0);
}

#[test]
fn case_080_user_agents() {
    let s = set(vec![
        pol("policy-cp", "authentication", "x").ua("privacyidea-cp, PAM"),
        pol("policy-keycloak", "authentication", "x").ua("privacyIDEA-Keycloak, Mozilla"),
        pol("policy-no-agent", "authentication", "x"),
    ]);
    let q = |ua| Query {
        scope: Some("authentication"),
        user_agent: ua,
        ..Query::default()
    };
    for ua in ["privacyidea-cp", "privacyIDEA-CP", "PAM"] {
        assert_eq!(m(&s, q(Some(ua))), n(&["policy-cp", "policy-no-agent"]));
    }
    assert_eq!(
        m(&s, q(Some("privacyidea-keycloak"))),
        n(&["policy-keycloak", "policy-no-agent"])
    );
    assert_eq!(m(&s, q(None)).len(), 3);
    assert_eq!(m(&s, q(Some(""))), n(&["policy-no-agent"]));
}

// ---------- 5.4 ----------

fn values(
    s: &PolicySet,
    scope: &str,
    action: &str,
    unique: bool,
    ws: bool,
) -> Result<Value, MatchError> {
    let q = Query {
        scope: Some(scope),
        action: Some(action),
        active: Some(true),
        ..Query::default()
    };
    let pols = s.match_policies(&q)?;
    extract_action_values(&pols, action, unique, ws).map(|v| serde_json::to_value(v).unwrap())
}

#[test]
fn case_083_tokentype_values() {
    let s = set(vec![
        pol(
            "tt1",
            "authorization",
            "tokentype=hotp totp, api_key_required",
        ),
        pol("tt2", "authorization", "tokentype=motp"),
    ]);
    assert_eq!(
        values(&s, "authorization", "tokentype", false, false).unwrap(),
        json!({"hotp": ["tt1"], "totp": ["tt1"], "motp": ["tt2"]})
    );
}

#[test]
fn case_084_serial_values() {
    let s = set(vec![
        pol("st1", "authorization", "serial=OATH"),
        pol("st2", "authorization", "serial=mOTP "),
    ]);
    assert_eq!(
        values(&s, "authorization", "serial", false, false).unwrap(),
        json!({"OATH": ["st1"], "mOTP": ["st2"]})
    );
}

#[test]
fn case_085_unique_conflict() {
    let s = set(vec![
        pol("email1", "authentication", "emailtext=text 1"),
        pol("email2", "authentication", "emailtext=text 2"),
    ]);
    let e = values(&s, "authentication", "emailtext", true, true).unwrap_err();
    assert_eq!(e.code(), 303);
}

#[test]
fn case_086_087_priorities() {
    let mk = |v: Vec<PolicyRecord>| set(v);
    let e1 = pol("email1", "authentication", "emailtext=text 1").prio(4);
    let e2 = pol("email2", "authentication", "emailtext=text 2").prio(1);
    let e3 = pol("email3", "authentication", "emailtext=text 3").prio(77);
    let v = |s: &PolicySet| values(s, "authentication", "emailtext", true, true);
    assert_eq!(
        v(&mk(vec![e1.clone(), e2.clone(), e3.clone()])).unwrap(),
        json!({"text 2": ["email2"]})
    );
    assert_eq!(
        v(&mk(vec![e1.clone(), e3.clone()])).unwrap(),
        json!({"text 1": ["email1"]})
    );
    let e4 = pol("email4", "authentication", "emailtext=text 4").prio(77);
    assert_eq!(
        v(&mk(vec![e1.clone(), e3.clone(), e4.clone()])).unwrap(),
        json!({"text 1": ["email1"]})
    );
    let s = mk(vec![e1.clone(), e3.clone(), e4.clone().prio(4)]);
    let e = v(&s).unwrap_err();
    assert!(e.to_string().contains("policies with conflicting actions"));
    let pols = s
        .match_policies(&Query {
            scope: Some("authentication"),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(
        check_for_conflicts(&pols, "emailtext")
            .unwrap_err()
            .to_string(),
        "Contradicting emailtext policies."
    );
    check_for_conflicts(&[], "emailtext").unwrap();
    check_for_conflicts(&pols[..1], "emailtext").unwrap();
    let s = mk(vec![e1, e3, e4.prio(3)]);
    assert_eq!(v(&s).unwrap(), json!({"text 4": ["email4"]}));
    let order: Vec<String> = mq(
        &s,
        Query {
            scope: Some("authentication"),
            ..Query::default()
        },
    );
    assert_eq!(order, vec!["email4", "email1", "email3"]);
}

#[test]
fn case_088_equal_values_same_priority() {
    let s = set(vec![
        pol("email1", "authentication", "emailtext='text 1'"),
        pol("email2", "authentication", "emailtext='text 1'"),
    ]);
    for unique in [false, true] {
        assert_eq!(
            values(&s, "authentication", "emailtext", unique, true).unwrap(),
            json!({"text 1": ["email1", "email2"]})
        );
    }
    let s = set(vec![
        pol("email1", "authentication", "emailtext='text 1'"),
        pol("email2", "authentication", "emailtext='text 2'"),
    ]);
    assert!(values(&s, "authentication", "emailtext", true, true).is_err());
}

#[test]
fn case_089_unique_lists_all_top_priority() {
    let s = set(vec![
        pol("act1", "authentication", "otppin=userstore"),
        pol("act2", "authentication", "otppin=userstore"),
        pol("act3", "authentication", "otppin=userstore").prio(3),
    ]);
    let ctx = mctx();
    let mm = s
        .match_action_only(&ctx, "authentication", Some("otppin"))
        .unwrap();
    let av = mm.action_values(true, false).unwrap();
    assert_eq!(
        serde_json::to_value(&av).unwrap(),
        json!({"userstore": ["act1", "act2"]})
    );
    assert_eq!(av.policy_names(), vec!["act1", "act2"]);
}

#[test]
fn case_090_challenge_text_with_whitespace() {
    let s = set(vec![pol(
        "chaltext",
        "authentication",
        "challenge_text=Insert your yubikey and press the button",
    )]);
    let ctx = mctx();
    let av = s
        .match_user(&ctx, "authentication", Some("challenge_text"), None)
        .unwrap()
        .action_values(true, true)
        .unwrap();
    assert_eq!(
        av.first(),
        Some(Some("Insert your yubikey and press the button"))
    );
}

// ---------- 5.5 conditions ----------

fn set_093() -> PolicySet {
    set(vec![
        pol("verysecure", "authentication", "otppin=none").cond(
            "userinfo",
            "type",
            "equals",
            "verysecure",
            true,
            None,
        ),
        pol("notverysecure", "authentication", "otppin=userstore")
            .cond("userinfo", "type", "equals", "notverysecure", true, None)
            .cond("userinfo", "groups", "contains", "b", true, None),
    ])
}

#[test]
fn case_091_allowed_custom_attributes() {
    let admin = LoggedInUser {
        username: "admin".into(),
        realm: "".into(),
        role: "admin".into(),
    };
    let mut ctx = mctx();
    ctx.logged_in_user = Some(&admin);
    let none = set(vec![]).allowed_custom_attributes(&ctx, None).unwrap();
    assert_eq!(none, CustomAttributes::default());
    assert_eq!(
        serde_json::to_value(&none).unwrap(),
        json!({"set": {}, "delete": []})
    );
    let s = set(vec![
        pol(
            "custom_attr",
            "admin",
            "set_custom_user_attributes=:hello: one two",
        ),
        pol(
            "custom_attr2",
            "admin",
            "set_custom_user_attributes=:hello2: * :hello: three",
        ),
        pol(
            "custom_attr3",
            "admin",
            "set_custom_user_attributes=:*: on off",
        ),
        pol("custom_attr4", "admin", "delete_custom_user_attributes=*"),
        pol(
            "custom_attr5",
            "admin",
            "set_custom_user_attributes=:hello: one",
        ),
    ]);
    let got = s.allowed_custom_attributes(&ctx, None).unwrap();
    assert_eq!(got.delete, vec!["*"]);
    let sv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let want: std::collections::BTreeMap<String, Vec<String>> = [
        ("*".to_string(), sv(&["off", "on"])),
        ("hello".to_string(), sv(&["one", "three", "two"])),
        ("hello2".to_string(), sv(&["*"])),
    ]
    .into_iter()
    .collect();
    assert_eq!(got.set, want);
    // A user gets the user-scope policies of their realm.
    let user = LoggedInUser {
        username: "alice".into(),
        realm: "realm1".into(),
        role: "user".into(),
    };
    ctx.logged_in_user = Some(&user);
    let s = set(vec![
        pol(
            "u1",
            "user",
            "delete_custom_user_attributes=department  room",
        )
        .realm("realm1"),
        pol("u2", "user", "delete_custom_user_attributes=room phone").realm("realm1"),
        pol("u3", "user", "delete_custom_user_attributes=secret").realm("realm2"),
        // Matches every action without defining it: contributes nothing.
        pol("u4", "user", "*").realm("realm1"),
    ]);
    let got = s.allowed_custom_attributes(&ctx, None).unwrap();
    assert_eq!(got.delete, vec!["department", "phone", "room"]);
    assert!(got.set.is_empty());
    // No logged-in user: Match.admin_or_user's error.
    ctx.logged_in_user = None;
    assert!(s.allowed_custom_attributes(&ctx, None).is_err());
}

#[test]
fn case_091_parse_string_to_dict() {
    let d = |s: &str| parse_string_to_dict(s);
    let sv = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        d(":key1: a b  c :key2: d"),
        vec![
            ("key1".into(), sv(&["a", "b", "c"])),
            ("key2".into(), sv(&["d"]))
        ]
    );
    assert!(d("").is_empty());
    // A key without values is dropped; a repeated key keeps its last values.
    assert_eq!(d(":k: x :k: y :lonely:"), vec![("k".into(), sv(&["y"]))]);
    // Without a leading colon the first piece is a key as well.
    assert_eq!(d("k: v w"), vec![("k".into(), sv(&["v", "w"]))]);
}

#[test]
fn case_092_convert_action_dict() {
    let pairs = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        convert_action_dict("'News':'https://example.org/feed.rss'-'Key 2':'Value2'-'K3':'v3'"),
        pairs(&[
            ("News", "https://example.org/feed.rss"),
            ("Key 2", "Value2"),
            ("K3", "v3")
        ])
    );
    assert_eq!(
        convert_action_dict("'only':'one'"),
        pairs(&[("only", "one")])
    );
    assert!(convert_action_dict("").is_empty());
    // Malformed: wrong pair separator, no quotes, wrong key/value separator.
    for bad in [
        "'a':'1'- 'b':'2','c':'3'",
        "a:1-b:2",
        "'a' '1'-'b': '2'-'c'-'3'",
    ] {
        assert!(convert_action_dict(bad).is_empty(), "{bad}");
    }
    // A good pair next to a malformed one is kept.
    assert_eq!(convert_action_dict("'a':'1'-'b'"), pairs(&[("a", "1")]));
}

#[test]
fn case_093_condition_user_unavailable() {
    let e = merr(&set_093(), Query::default());
    assert_eq!(e.code(), 303);
    assert_eq!(
        e.to_string(),
        "Policy 'verysecure' has a condition on the section 'userinfo' with key 'type', but a user is unavailable!"
    );
}

#[test]
fn case_094_condition_unknown_userinfo_key() {
    let empty = UserObject::default();
    let e = merr(
        &set_093(),
        Query {
            user_object: Some(&empty),
            ..Query::default()
        },
    );
    assert!(
        e.to_string().starts_with("Unknown userinfo key 'type'"),
        "{e}"
    );
}

#[test]
fn case_095_condition_userinfo_values() {
    let s = set_093();
    let u1 = uo(
        "u1",
        "",
        "",
        json!({"type": "verysecure", "groups": ["a", "b", "c"]}),
    );
    let u2 = uo(
        "u2",
        "",
        "",
        json!({"type": "notverysecure", "groups": ["c"]}),
    );
    let u3 = uo(
        "u3",
        "",
        "",
        json!({"type": "notverysecure", "groups": ["b", "c"]}),
    );
    let q = |u| Query {
        user_object: Some(u),
        ..Query::default()
    };
    assert_eq!(m(&s, q(&u1)), n(&["verysecure"]));
    assert_eq!(m(&s, q(&u2)), n(&[]));
    assert_eq!(m(&s, q(&u3)), n(&["notverysecure"]));
}

#[test]
fn case_096_100_invalid_comparison() {
    let s = set(vec![pol("p", "authentication", "x").cond(
        "userinfo",
        "number",
        "contains",
        "b",
        true,
        Some("condition_is_true"),
    )]);
    let u = uo("u", "", "", json!({"number": 5}));
    let e = merr(
        &s,
        Query {
            user_object: Some(&u),
            ..Query::default()
        },
    );
    assert_eq!(
        e.to_string(),
        "Invalid comparison in the userinfo conditions of policy 'p'"
    );
}

#[test]
fn case_097_inactive_condition_ignored() {
    let u1 = uo("u1", "", "", json!({"type": "verysecure"}));
    let s = set(vec![pol("extremelysecure", "authentication", "x").cond(
        "userinfo",
        "type",
        "equals",
        "notverysecure",
        false,
        None,
    )]);
    assert_eq!(
        m(
            &s,
            Query {
                user_object: Some(&u1),
                ..Query::default()
            }
        ),
        n(&["extremelysecure"])
    );
    let s = set(vec![pol("extremelysecure", "authentication", "x").cond(
        "userinfo",
        "type",
        "equals",
        "notverysecure",
        true,
        None,
    )]);
    assert_eq!(
        m(
            &s,
            Query {
                user_object: Some(&u1),
                ..Query::default()
            }
        ),
        n(&[])
    );
}

#[test]
fn case_098_unknown_section_in_db() {
    let u1 = uo("u1", "", "", json!({"type": "x"}));
    let s = set(vec![pol("p", "authentication", "x").cond(
        "somesection",
        "k",
        "equals",
        "v",
        true,
        None,
    )]);
    let e = merr(
        &s,
        Query {
            user_object: Some(&u1),
            ..Query::default()
        },
    );
    assert_eq!(
        e.to_string(),
        "Invalid condition of policy 'p': ERR905: Unknown section 'somesection' set in condition."
    );
    let s = set(vec![pol("p", "authentication", "x").cond(
        "somesection",
        "k",
        "equals",
        "v",
        false,
        None,
    )]);
    assert_eq!(
        m(
            &s,
            Query {
                user_object: Some(&u1),
                ..Query::default()
            }
        ),
        n(&["p"])
    );
    // with conditions skipped nothing is evaluated
    let s = set(vec![pol("p", "authentication", "x").cond(
        "somesection",
        "k",
        "equals",
        "v",
        true,
        None,
    )]);
    assert_eq!(
        m(
            &s,
            Query {
                conditions: ConditionCheck::Skip,
                ..Query::default()
            }
        ),
        n(&["p"])
    );
}

#[test]
fn case_099_unknown_key() {
    let u1 = uo("u1", "", "", json!({"type": "x"}));
    let s = set(vec![
        pol("p", "authentication", "x").cond("userinfo", "bla", "equals", "v", true, None)
    ]);
    let e = merr(
        &s,
        Query {
            user_object: Some(&u1),
            ..Query::default()
        },
    );
    assert_eq!(
        e.to_string(),
        "Unknown userinfo key 'bla' referenced in condition of policy 'p'!"
    );
}

fn token(fields: Value, info: Value) -> TokenData {
    TokenData {
        fields: fields.as_object().cloned().unwrap_or_default(),
        info: info.as_object().cloned().unwrap_or_default(),
    }
}

fn with_token<'a>(t: Option<&'a TokenData>) -> Query<'a> {
    Query {
        input: ConditionInput {
            token: t,
            ..ConditionInput::default()
        },
        ..Query::default()
    }
}

#[test]
fn case_101_tokeninfo_condition() {
    let t = token(
        json!({"serial": "SPASS1", "tokentype": "spass"}),
        json!({"fixedpin": "true"}),
    );
    let mk = |active, h: Option<&str>| {
        set(vec![pol("setpin_pol", "user", "setpin").cond(
            "tokeninfo",
            "fixedpin",
            "equals",
            "false",
            active,
            h,
        )])
    };
    assert_eq!(
        m(&mk(false, None), with_token(Some(&t))),
        n(&["setpin_pol"])
    );
    assert_eq!(m(&mk(true, None), with_token(Some(&t))), n(&[]));
    let e = merr(&mk(true, None), with_token(None));
    assert_eq!(e.to_string(), "Policy 'setpin_pol' has a condition on the section 'tokeninfo' with key 'fixedpin', but a token is unavailable!");
    assert_eq!(
        m(&mk(true, Some("condition_is_true")), with_token(None)),
        n(&["setpin_pol"])
    );
    assert_eq!(
        m(&mk(true, Some("condition_is_false")), with_token(None)),
        n(&[])
    );
}

#[test]
fn case_102_token_condition() {
    let t = token(
        json!({"serial": "SPASS1", "tokentype": "spass", "count": 0}),
        json!({}),
    );
    let run = |key: &str, cmp: &str, val: &str| {
        let s = set(vec![
            pol("p", "user", "x").cond("token", key, cmp, val, true, None)
        ]);
        s.match_policies(&with_token(Some(&t))).map(|v| v.len())
    };
    assert_eq!(run("tokentype", "equals", "hotp"), Ok(0));
    assert_eq!(run("tokentype", "equals", "Spass"), Ok(0));
    assert_eq!(run("count", "<", "100"), Ok(1));
    let t2 = token(json!({"count": 102}), json!({}));
    let s = set(vec![
        pol("p", "user", "x").cond("token", "count", "<", "100", true, None)
    ]);
    assert_eq!(mq(&s, with_token(Some(&t2))).len(), 0);
    assert!(run("random", "equals", "x").is_err());
    assert_eq!(
        run("count", "<", "not a number").unwrap_err().to_string(),
        "Invalid comparison in the token conditions of policy 'p'"
    );
}

#[test]
fn case_103_missing_token_messages() {
    let s = set(vec![pol("policy", "user", "x").cond(
        "tokeninfo",
        "fixedpin",
        "equals",
        "false",
        true,
        Some("raise_error"),
    )]);
    assert_eq!(
        merr(&s, with_token(None)).to_string(),
        "Policy 'policy' has a condition on the section 'tokeninfo' with key 'fixedpin', but a token is unavailable!"
    );
    let t = token(json!({"serial": "H1"}), json!({}));
    assert_eq!(
        merr(&s, with_token(Some(&t))).to_string(),
        "Unknown tokeninfo key 'fixedpin' referenced in condition of policy 'policy'!"
    );
}

#[test]
fn case_104_comparison_errors_ignore_handle_missing_data() {
    for (val, cmp, right) in [
        ("invalid_count", ">", "3"),
        ("3", ">", "3.5"),
        ("three", "<", "3"),
    ] {
        for h in ["raise_error", "condition_is_true", "condition_is_false"] {
            let t = token(json!({}), json!({ "count_auth": val }));
            let s = set(vec![pol("p", "user", "x").cond(
                "tokeninfo",
                "count_auth",
                cmp,
                right,
                true,
                Some(h),
            )]);
            assert!(merr(&s, with_token(Some(&t)))
                .to_string()
                .starts_with("Invalid comparison"));
        }
    }
}

#[test]
fn case_105_userinfo_matches_and_missing_data() {
    let mk = |h: Option<&str>| {
        set(vec![pol("policy", "authentication", "x")
            .cond("userinfo", "phone", "matches", r"\+49.*", true, h)])
    };
    let cornelius = uo(
        "cornelius",
        "realm1",
        "resolver1",
        json!({"phone": "+491234567"}),
    );
    let selfservice = uo(
        "selfservice",
        "realm1",
        "resolver1",
        json!({"phone": "0123"}),
    );
    let empty = UserObject::default();
    let q = |u| Query {
        user_object: u,
        ..Query::default()
    };
    let s = mk(None);
    assert_eq!(m(&s, q(Some(&cornelius))), n(&["policy"]));
    assert_eq!(m(&s, q(Some(&selfservice))), n(&[]));
    assert!(s.match_policies(&q(None)).is_err());
    assert!(s.match_policies(&q(Some(&empty))).is_err());
    let s = mk(Some("condition_is_true"));
    assert_eq!(m(&s, q(None)), n(&["policy"]));
    assert_eq!(m(&s, q(Some(&empty))), n(&["policy"]));
    let s = mk(Some("condition_is_false"));
    assert_eq!(m(&s, q(None)), n(&[]));
    assert_eq!(m(&s, q(Some(&empty))), n(&[]));
}

fn with_http(h: &HttpData) -> Query<'_> {
    Query {
        input: ConditionInput {
            http: Some(h),
            ..ConditionInput::default()
        },
        ..Query::default()
    }
}

#[test]
fn reads_http_counts_active_header_and_environment_conditions() {
    let cond = |name: &str, section: &str, active: bool| {
        pol(name, "admin", "x").cond(section, "User-Agent", "equals", "A", active, None)
    };
    let header = cond("h", "HTTP Request header", true);
    let environ = cond("e", "HTTP Environment", true);
    let off = cond("off", "HTTP Request header", false);
    let other = cond("u", "userinfo", true);
    assert!(!set(vec![off.clone(), other.clone()]).reads_http());
    assert!(!set(vec![]).reads_http());
    assert!(set(vec![other, header.clone()]).reads_http());
    assert!(set(vec![environ.clone()]).reads_http());
    // edits keep the count: remove the reader, then add another one
    let mut cache = RegexCache::new();
    let s = set(vec![off, header]);
    let without = s.edited(Some(1), None, &mut cache).expect("in range");
    assert!(!without.reads_http());
    let again = without
        .edited(None, Some((1, Policy::from_record(&environ))), &mut cache)
        .expect("in range");
    assert!(again.reads_http());
    assert!(s.reads_http(), "the original set is unchanged");
}

#[test]
fn case_106_to_111_http_conditions() {
    let ua = |v: &str| HttpData {
        headers: vec![("User-Agent".into(), v.into())],
        ..HttpData::default()
    };
    let s = set(vec![pol("policy", "authorization", "no_detail_on_success")
        .cond(
            "HTTP Request header",
            "User-Agent",
            "equals",
            "SpecialApp",
            true,
            None,
        )]);
    assert_eq!(m(&s, with_http(&ua("somethingelse"))), n(&[]));
    assert_eq!(m(&s, with_http(&ua("SpecialApp"))), n(&["policy"]));
    let none = HttpData::default();
    assert_eq!(
        merr(&s, with_http(&none)).to_string(),
        "Unknown HTTP Request header key 'User-Agent' referenced in condition of policy 'policy'!"
    );
    assert_eq!(
        merr(&s, Query::default()).to_string(),
        "Policy 'policy' has a condition on the section 'HTTP Request header' with key 'User-Agent', but a HTTP Request header is unavailable!"
    );
    for (h, expect) in [("condition_is_true", 1), ("condition_is_false", 0)] {
        let s = set(vec![pol("policy", "authorization", "x").cond(
            "HTTP Request header",
            "User-Agent",
            "equals",
            "SpecialApp",
            true,
            Some(h),
        )]);
        assert_eq!(mq(&s, with_http(&none)).len(), expect);
    }
    let s = set(vec![pol("policy", "authorization", "x").cond(
        "HTTP Request header",
        "User-Agent",
        "contains",
        "Special",
        true,
        None,
    )]);
    assert_eq!(
        merr(&s, with_http(&ua("SpecialApp"))).to_string(),
        "Invalid comparison in the HTTP Request header conditions of policy 'policy'"
    );
    let env = |m: &str| HttpData {
        environ: json!({"REQUEST_METHOD": m}).as_object().cloned().unwrap(),
        ..HttpData::default()
    };
    let s = set(vec![pol("policy", "authorization", "x").cond(
        "HTTP Environment",
        "REQUEST_METHOD",
        "equals",
        "POST",
        true,
        None,
    )]);
    assert_eq!(mq(&s, with_http(&env("GET"))).len(), 0);
    assert_eq!(mq(&s, with_http(&env("POST"))).len(), 1);
    let s = set(vec![pol("policy", "authorization", "x").cond(
        "HTTP Environment",
        "NON_EXISTING",
        "equals",
        "x",
        true,
        None,
    )]);
    assert_eq!(
        merr(&s, with_http(&env("POST"))).to_string(),
        "Unknown HTTP Environment key 'NON_EXISTING' referenced in condition of policy 'policy'!"
    );
}

#[test]
fn case_v30_header_lookup_case_insensitive() {
    let h = HttpData {
        headers: vec![("User-Agent".into(), "SpecialApp".into())],
        ..HttpData::default()
    };
    let s = set(vec![pol("p", "authorization", "x").cond(
        "HTTP Request header",
        "user-agent",
        "equals",
        "SpecialApp",
        true,
        None,
    )]);
    assert_eq!(m(&s, with_http(&h)), n(&["p"]));
}

fn with_data(d: &Value) -> Query<'_> {
    Query {
        input: ConditionInput {
            request_data: Some(d),
            ..ConditionInput::default()
        },
        ..Query::default()
    }
}

#[test]
fn case_112_113_request_data() {
    let s = set(vec![
        pol("offline", "enrollment", "tokenlabel=pi_offline").cond(
            "Request Data",
            "type",
            "equals",
            "hotp",
            true,
            None,
        ),
        pol("online", "enrollment", "tokenlabel=pi_online").cond(
            "Request Data",
            "type",
            "equals",
            "totp",
            true,
            Some("condition_is_false"),
        ),
    ]);
    assert_eq!(m(&s, with_data(&json!({"type": "hotp"}))), n(&["offline"]));
    assert_eq!(m(&s, with_data(&json!({"type": "totp"}))), n(&["online"]));
    let s = set(vec![pol("p", "admin", "container_create").cond(
        "Request Data",
        "template_name",
        "matches",
        ".+",
        true,
        Some("condition_is_false"),
    )]);
    assert_eq!(mq(&s, with_data(&json!({"template_name": "t"}))).len(), 1);
    assert_eq!(mq(&s, with_data(&json!({}))).len(), 0);
    // pass/password are removed before matching
    let s = set(vec![pol("p", "admin", "x").cond(
        "Request Data",
        "pass",
        "equals",
        "secret",
        true,
        Some("condition_is_false"),
    )]);
    assert_eq!(mq(&s, with_data(&json!({"pass": "secret"}))).len(), 0);
    // not a dict → unavailable
    let s = set(vec![pol("p", "admin", "x").cond(
        "Request Data",
        "a",
        "equals",
        "b",
        true,
        None,
    )]);
    assert_eq!(
        merr(&s, with_data(&json!(["a"]))).to_string(),
        "Policy 'p' has a condition on the section 'Request Data' with key 'a', but a Request Data is unavailable!"
    );
}

#[test]
fn case_v28_request_data_types() {
    let s = set(vec![pol("p", "enrollment", "x").cond(
        "Request Data",
        "genkey",
        "equals",
        "1",
        true,
        None,
    )]);
    assert_eq!(mq(&s, with_data(&json!({"genkey": 1}))).len(), 0);
    assert_eq!(mq(&s, with_data(&json!({"genkey": "1"}))).len(), 1);
}

#[test]
fn case_v29_first_false_condition_stops() {
    let s = set(vec![pol("p", "enrollment", "x")
        .cond("Request Data", "a", "equals", "x", true, None)
        .cond("Request Data", "missing", "equals", "y", true, None)]);
    assert_eq!(mq(&s, with_data(&json!({"a": "y"}))).len(), 0);
    assert_eq!(
        merr(&s, with_data(&json!({"a": "x"}))).to_string(),
        "Unknown Request Data key 'missing' referenced in condition of policy 'p'!"
    );
}

#[test]
fn case_114_match_token() {
    let s = set(vec![
        pol("no_condition", "enrollment", "change_pin_every"),
        pol("realm4", "enrollment", "change_pin_every").realm("realm4"),
        pol("hans", "enrollment", "change_pin_every")
            .user("hans")
            .realm("realm4"),
        pol("resolver1", "enrollment", "change_pin_every")
            .realm("realm4")
            .resolver("resolver1"),
        pol("resolver3", "enrollment", "change_pin_every")
            .realm("realm4")
            .resolver("reso3"),
        pol("realm1", "enrollment", "change_pin_every").realm("realm1"),
    ]);
    let cx = mctx();
    let a = Some("change_pin_every");
    let no_user = token(json!({"serial": "T0"}), json!({}));
    let hans = UserObject::new("hans", "realm4", "resolver1");
    let corny = UserObject::new("corny", "realm4", "reso3");
    let r4 = vec!["realm4".to_string()];
    let none: Vec<String> = vec![];
    let run = |t: Option<(&TokenData, Option<&UserObject>, &[String])>| {
        names(
            &s.match_token(&cx, "enrollment", a, t)
                .unwrap()
                .policies()
                .unwrap(),
        )
    };
    assert_eq!(run(Some((&no_user, None, &none))), n(&["no_condition"]));
    assert_eq!(
        run(Some((&no_user, Some(&hans), &r4))),
        n(&["no_condition", "realm4", "hans", "resolver1"])
    );
    assert_eq!(
        run(Some((&no_user, Some(&corny), &r4))),
        n(&["no_condition", "realm4", "resolver3"])
    );
    assert_eq!(run(None), n(&["no_condition"]));
    let r41 = vec!["realm4".to_string(), "realm1".to_string()];
    let t_corny = token(
        json!({"serial": "C1", "realms": ["realm4", "realm1"]}),
        json!({}),
    );
    assert_eq!(
        run(Some((&t_corny, Some(&corny), &r41))),
        n(&["no_condition", "realm4", "resolver3", "realm1"])
    );
    let s = set(vec![
        pol("no_condition", "enrollment", "change_pin_every"),
        pol("realm1", "enrollment", "change_pin_every")
            .realm("realm1")
            .cond("token", "realms", "!contains", "realm4", true, None),
    ]);
    assert_eq!(
        names(
            &s.match_token(&cx, "enrollment", a, Some((&t_corny, Some(&corny), &r41)))
                .unwrap()
                .policies()
                .unwrap()
        ),
        n(&["no_condition"])
    );
}

// ---------- 5.6 Match / allowed / UI ----------

fn set_115() -> PolicySet {
    set(vec![
        pol("pol1", "user", "auditlog")
            .realm("realm1")
            .resolver("resolver1")
            .user("foobar")
            .client("0.0.0.0/0"),
        pol("pol2", "authorization", "tokentype=HOTP").realm("*"),
        pol("pol2a", "authorization", "tokentype=TOTP").realm("realm2"),
        pol("pol3", "authorization", "serial=OATH")
            .realm("realm1")
            .resolver("resolver1"),
        pol("pol4", "admin", "enrollHOTP, disable , enable, auditlog")
            .realm("realm2")
            .adminuser("admin, superroot"),
    ])
}

#[test]
fn case_115_match_action_only() {
    let s = set_115();
    let cx = mctx();
    let p = |a| {
        names(
            &s.match_action_only(&cx, "authorization", a)
                .unwrap()
                .policies()
                .unwrap(),
        )
    };
    assert_eq!(p(None), n(&["pol2", "pol2a", "pol3"]));
    assert_eq!(p(Some("tokentype")), n(&["pol2", "pol2a"]));
    let av = s
        .match_action_only(&cx, "authorization", Some("tokentype"))
        .unwrap()
        .action_values(false, false)
        .unwrap();
    assert_eq!(
        serde_json::to_value(&av).unwrap(),
        json!({"HOTP": ["pol2"], "TOTP": ["pol2a"]})
    );
    assert_eq!(p(Some("no_detail_on_success")), n(&[]));
    let e = s
        .match_action_only(&cx, "admin", Some("tokenview"))
        .unwrap_err();
    assert_eq!(e.code(), 903);
}

#[test]
fn case_116_match_realm() {
    let s = set_115();
    let cx = mctx();
    let p = |a, r| {
        names(
            &s.match_realm(&cx, "authorization", Some(a), r)
                .unwrap()
                .policies()
                .unwrap(),
        )
    };
    assert_eq!(p("tokentype", None), n(&["pol2", "pol2a"]));
    assert_eq!(p("tokentype", Some("realm1")), n(&["pol2"]));
    assert_eq!(p("tokentype", Some("realm2")), n(&["pol2", "pol2a"]));
    assert_eq!(p("tokentype", Some("realm3")), n(&["pol2"]));
    assert_eq!(p("serial", Some("realm1")), n(&["pol3"]));
    assert!(s
        .match_realm(&cx, "admin", Some("tokentype"), Some("realm1"))
        .is_err());
}

#[test]
fn case_117_match_user() {
    let s = set_115();
    let cx = mctx();
    let foobar = UserObject::new("foobar", "realm1", "resolver1");
    let baz = UserObject::new("baz", "realm1", "resolver1");
    let p = |u| {
        names(
            &s.match_user(&cx, "user", Some("auditlog"), u)
                .unwrap()
                .policies()
                .unwrap(),
        )
    };
    assert_eq!(p(Some(&foobar)), n(&["pol1"]));
    assert_eq!(p(Some(&baz)), n(&[]));
    assert_eq!(p(None), n(&["pol1"]));
    assert_eq!(
        s.match_user(&cx, "admin", Some("tokentype"), Some(&foobar))
            .unwrap_err()
            .code(),
        903
    );
}

#[test]
fn case_118_match_admin() {
    let s = set_115();
    let mut cx = mctx();
    let su = LoggedInUser {
        username: "superroot".into(),
        realm: "".into(),
        role: "admin".into(),
    };
    cx.logged_in_user = Some(&su);
    let c2 = UserObject::new("cornelius", "realm2", "resolver1");
    let c1 = UserObject::new("cornelius", "realm1", "resolver1");
    let p = |u| {
        names(
            &s.match_admin(&cx, Some("enable"), u, None, None)
                .unwrap()
                .policies()
                .unwrap(),
        )
    };
    assert_eq!(p(None), n(&["pol4"]));
    assert_eq!(p(Some(&c2)), n(&["pol4"]));
    assert_eq!(p(Some(&c1)), n(&[]));
    let u = LoggedInUser {
        role: "user".into(),
        ..su.clone()
    };
    cx.logged_in_user = Some(&u);
    assert_eq!(
        s.match_admin(&cx, Some("enable"), Some(&c1), None, None)
            .unwrap_err()
            .to_string(),
        "Policies with scope ADMIN can only be retrieved by admins"
    );
}

#[test]
fn case_119_match_admin_or_user() {
    let s = set_115();
    let mut cx = mctx();
    let c2 = UserObject::new("cornelius", "realm2", "resolver1");
    let c1 = UserObject::new("cornelius", "realm1", "resolver1");
    let su = LoggedInUser {
        username: "superroot".into(),
        realm: "".into(),
        role: "admin".into(),
    };
    cx.logged_in_user = Some(&su);
    let p = |cx: &MatchContext, u| {
        names(
            &s.match_admin_or_user(cx, Some("auditlog"), u, None, None)
                .unwrap()
                .policies()
                .unwrap(),
        )
    };
    assert_eq!(p(&cx, None), n(&["pol4"]));
    assert_eq!(p(&cx, Some(&c2)), n(&["pol4"]));
    assert_eq!(p(&cx, Some(&c1)), n(&[]));
    let fb = LoggedInUser {
        username: "foobar".into(),
        realm: "realm1".into(),
        role: "user".into(),
    };
    cx.logged_in_user = Some(&fb);
    assert_eq!(p(&cx, None), n(&["pol1"]));
    assert_eq!(p(&cx, Some(&c2)), n(&[]));
    assert_eq!(p(&cx, Some(&c1)), n(&[]));
    let baz = LoggedInUser {
        username: "baz".into(),
        realm: "asdf".into(),
        role: "user".into(),
    };
    cx.logged_in_user = Some(&baz);
    assert_eq!(p(&cx, None), n(&[]));
    let st = LoggedInUser {
        role: "something".into(),
        ..baz.clone()
    };
    cx.logged_in_user = Some(&st);
    assert_eq!(
        s.match_admin_or_user(&cx, Some("enable"), Some(&c1), None, None)
            .unwrap_err()
            .to_string(),
        "Unknown role"
    );
}

#[test]
fn case_120_allowed_with_user_agent_restricted_policy() {
    let s = set(vec![
        pol("only-webui", "user", "enrollpin").ua("privacyIDEA-WebUI")
    ]);
    let u = UserObject::new("cornelius", "realm1", "resolver1");
    let allowed = |ua| {
        let mut cx = mctx();
        cx.user_agent = Some(ua);
        s.match_user(&cx, "user", Some("enrollpin"), Some(&u))
            .unwrap()
            .allowed()
            .unwrap()
    };
    assert!(allowed("privacyIDEA-WebUI"));
    assert!(!allowed("privacyIDEA-CP"));
    let s = set(vec![pol("only-cp", "admin", "delete").ua("privacyIDEA-CP")]);
    let a = LoggedInUser {
        username: "admin".into(),
        realm: "".into(),
        role: "admin".into(),
    };
    let allowed = |ua| {
        let mut cx = mctx();
        cx.user_agent = Some(ua);
        cx.logged_in_user = Some(&a);
        s.match_admin(&cx, Some("delete"), None, None, None)
            .unwrap()
            .allowed()
            .unwrap()
    };
    assert!(allowed("privacyIDEA-CP"));
    assert!(!allowed("privacyIDEA-WebUI"));
}

#[test]
fn case_121_rights_without_policies() {
    let s = set(vec![]);
    let r = s
        .ui_get_rights("admin", "realm1", "admin", None, None, None, now())
        .unwrap();
    assert!(r.len() >= 60);
    assert_eq!(
        s.ui_get_rights("enrollment", "realm1", "admin", None, None, None, now())
            .unwrap_err()
            .to_string(),
        "Unknown scope: enrollment"
    );
}

#[test]
fn case_122_rights() {
    let s = set(vec![
        pol("tokenEnroll", "admin", "enrollYUBIKEY"),
        pol("someUserAction", "user", "disable"),
        pol("userpol", "user", "enable"),
    ]);
    assert_eq!(
        s.ui_get_rights("admin", "realm1", "admin", None, None, None, now())
            .unwrap(),
        vec!["enrollYUBIKEY"]
    );
    let r: BTreeSet<String> = s
        .ui_get_rights("user", "realm2", "user", None, None, None, now())
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(r, n(&["enable", "disable"]));
}

#[test]
fn case_123_rights_per_admin() {
    let s = set(vec![
        pol("polAdminA", "admin", "enrollHOTP, enrollTOTP").adminuser("adminA"),
        pol("polAdminB", "admin", "enrollHOTP")
            .adminuser("adminB")
            .realm("realm2"),
    ]);
    let r = |a| {
        s.ui_get_rights("admin", "", a, None, None, None, now())
            .unwrap()
    };
    assert_eq!(r("adminA"), vec!["enrollHOTP", "enrollTOTP"]);
    assert_eq!(r("adminB"), vec!["enrollHOTP"]);
    assert!(r("adminC").is_empty());
}

#[test]
fn case_124_rights_users_in_different_resolvers() {
    let s = set(vec![
        pol("someUserAction", "user", "disable"),
        pol("userpol41", "user", "enable")
            .realm("realm4")
            .resolver("passwd"),
        pol("userpol42", "user", "delete")
            .realm("realm4")
            .resolver("passwords"),
    ]);
    let postfix = UserObject::new("postfix", "realm4", "passwd");
    let unt = UserObject::new("usernotoken", "realm4", "passwords");
    let r = |u: &UserObject| -> BTreeSet<String> {
        s.ui_get_rights("user", "realm4", &u.login, None, None, Some(u), now())
            .unwrap()
            .into_iter()
            .collect()
    };
    assert_eq!(r(&postfix), n(&["enable", "disable"]));
    assert_eq!(r(&unt), n(&["disable", "delete"]));
}

fn enroll_types(s: &PolicySet, role: &str, username: &str, realm: &str) -> Vec<String> {
    let lu = LoggedInUser {
        username: username.into(),
        realm: realm.into(),
        role: role.into(),
    };
    s.ui_get_enroll_tokentypes(Some("127.0.0.1"), &lu, Some(""), None, now())
        .unwrap()
        .into_keys()
        .collect()
}

#[test]
fn case_125_enroll_tokentypes() {
    let all = enroll_types(&set(vec![]), "admin", "admin", "");
    for t in [
        "hotp",
        "totp",
        "spass",
        "motp",
        "sshkey",
        "yubikey",
        "remote",
        "yubico",
        "radius",
        "email",
        "sms",
        "certificate",
        "4eyes",
        "registration",
        "webauthn",
        "passkey",
    ] {
        assert!(all.iter().any(|a| a == t), "{t} missing in {all:?}");
    }
    // Not UI-enrollable at all.
    for t in ["pw", "ocra", "daplug"] {
        assert!(!all.iter().any(|a| a == t), "{t}");
    }
    // Admin-only types are not offered to users.
    let user_all = enroll_types(&set(vec![]), "user", "kurt", "realm1");
    assert!(user_all.iter().any(|a| a == "hotp"));
    assert!(!user_all.iter().any(|a| a == "remote" || a == "4eyes"));
    let s = set(vec![
        pol("tokenEnroll", "admin", "enrollYUBIKEY"),
        pol("someUserAction", "user", "disable"),
    ]);
    assert_eq!(enroll_types(&s, "admin", "admin", ""), vec!["yubikey"]);
    assert!(enroll_types(&s, "user", "kurt", "realm1").is_empty());
    let s = set(vec![
        pol("u", "user", "enrollHOTP, enrollREMOTE").realm("realm1")
    ]);
    // enrollREMOTE is not a user action; remote is admin-only anyway.
    assert_eq!(enroll_types(&s, "user", "kurt", "realm1"), vec!["hotp"]);
    assert!(enroll_types(&s, "user", "kurt", "realm2").is_empty());
    // The descriptions come along.
    let lu = LoggedInUser {
        username: "admin".into(),
        realm: "".into(),
        role: "admin".into(),
    };
    let map = set(vec![])
        .ui_get_enroll_tokentypes(None, &lu, None, None, now())
        .unwrap();
    assert!(map.get("hotp").is_some_and(|d| d.contains("HOTP")));
    let bad = LoggedInUser {
        role: "auditor".into(),
        ..lu
    };
    assert_eq!(
        set(vec![])
            .ui_get_enroll_tokentypes(None, &bad, None, None, now())
            .unwrap_err()
            .to_string(),
        "Unknown role: auditor"
    );
}

#[test]
fn case_126_enroll_tokentypes_per_adminrealm() {
    let s = set(vec![
        pol("tokenEnroll", "admin", "enrollYUBIKEY").with(|p| p.adminrealm = "realm1".into())
    ]);
    assert_eq!(
        enroll_types(&s, "admin", "admin", "realm1"),
        vec!["yubikey"]
    );
    assert!(enroll_types(&s, "admin", "admin", "OtherRealm").is_empty());
}

#[test]
fn case_127_main_menus() {
    let admin = LoggedInUser {
        username: "admin".into(),
        realm: "".into(),
        role: "admin".into(),
    };
    let menus = |recs: Vec<PolicyRecord>| {
        set(recs)
            .ui_get_main_menus(&admin, None, None, None, now())
            .unwrap()
    };
    let all = menus(vec![]);
    for x in ["users", "tokens", "components", "config", "machines"] {
        assert!(all.contains(&x.to_string()), "{x}");
    }
    let mut recs = vec![pol("p1", "admin", "enrollHOTP")];
    assert_eq!(menus(recs.clone()), vec!["tokens"]);
    recs.push(pol("p2", "admin", "userlist"));
    assert_eq!(menus(recs.clone()), vec!["tokens", "users"]);
    recs.push(pol("p3", "admin", "machinelist"));
    assert_eq!(menus(recs.clone()), vec!["machines", "tokens", "users"]);
    recs.push(pol("p4", "admin", "configdelete"));
    assert_eq!(menus(recs), vec!["config", "machines", "tokens", "users"]);
}

// ---------- V cases ----------

#[test]
fn case_v01_negation_only_user() {
    let s = set(vec![pol("p", "authorization", "x").user("!alice")]);
    assert!(m(
        &s,
        Query {
            user: Some("bob"),
            ..Query::default()
        }
    )
    .is_empty());
    assert_eq!(mq(&s, Query::default()).len(), 1);
}

#[test]
fn case_v02_negation_only_client() {
    let s = set(vec![pol("p", "webui", "x").client("-10.0.0.1")]);
    assert!(m(
        &s,
        Query {
            client: Some("10.0.0.2"),
            ..Query::default()
        }
    )
    .is_empty());
    assert!(m(
        &s,
        Query {
            client: Some("10.0.0.1"),
            ..Query::default()
        }
    )
    .is_empty());
}

#[test]
fn case_v03_invalid_regex_entry() {
    // Deviation: privacyIDEA raises re.error (HTTP 500); the entry matches only itself here.
    let s = set(vec![pol("p", "authorization", "x").user("*admin")]);
    assert!(m(
        &s,
        Query {
            user: Some("superadmin"),
            ..Query::default()
        }
    )
    .is_empty());
    assert_eq!(
        m(
            &s,
            Query {
                user: Some("*admin"),
                ..Query::default()
            }
        ),
        n(&["p"])
    );
    let ex = s
        .explain(&Query {
            user: Some("superadmin"),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(ex.policies[0].attribute, Some(Attribute::User));
    assert!(ex.policies[0].warnings[0].contains("not a valid regular expression"));
}

#[test]
fn case_v04_user_case_insensitive() {
    let s = set(vec![
        pol("uc", "authorization", "x").user("Alice"),
        pol("uci", "authorization", "x").user("Alice").uci(),
    ]);
    assert_eq!(
        m(
            &s,
            Query {
                user: Some("alice"),
                ..Query::default()
            }
        ),
        n(&["uci"])
    );
    assert_eq!(
        m(
            &s,
            Query {
                user: Some("Alice"),
                ..Query::default()
            }
        ),
        n(&["uc", "uci"])
    );
}

#[test]
fn case_v05_realm_wildcards() {
    let s = set(vec![
        pol("rstar", "authorization", "x").realm("*"),
        pol("rneg", "authorization", "x").realm("*, !realm1"),
        pol("r1", "authorization", "x").realm("realm1"),
    ]);
    let q = |r| Query {
        realm: Some(r),
        ..Query::default()
    };
    assert_eq!(m(&s, q("")), n(&["rneg", "rstar"]));
    assert_eq!(m(&s, q("realm1")), n(&["r1", "rstar"]));
    assert_eq!(m(&s, q("realm2")), n(&["rneg", "rstar"]));
    assert_eq!(m(&s, q("REALM1")), n(&["rneg", "rstar"]));
}

#[test]
/// V6 as the released 3.14 decides it (release-differences.md (a)): the
/// exclusion counts, `resneg` does not match `resolver1`.
fn case_v06_resolver_exclusion_counts() {
    let s = set(vec![
        pol("resneg", "authorization", "x").resolver("*, !resolver1"),
        pol("resonly", "authorization", "x").resolver("resolver1"),
    ]);
    let q = |r| Query {
        resolver: Some(r),
        ..Query::default()
    };
    assert_eq!(m(&s, q("resolver1")), n(&["resonly"]));
    assert_eq!(m(&s, q("reso3")), n(&["resneg"]));
    assert_eq!(m(&s, q("")), n(&["resneg"]));
}

#[test]
fn case_v07_check_all_resolvers() {
    let s = set(vec![
        pol("car_empty", "authorization", "x").car(),
        pol("car_r1", "authorization", "x")
            .car()
            .resolver("resolver1"),
    ]);
    let c = UserObject::new("cornelius", "realm1", "resolver1");
    assert_eq!(
        m(
            &s,
            Query {
                user_object: Some(&c),
                ..Query::default()
            }
        ),
        n(&["car_r1"])
    );
    assert_eq!(
        m(
            &s,
            Query {
                resolver: Some("resolver1"),
                ..Query::default()
            }
        ),
        n(&[])
    );
    assert_eq!(
        m(
            &s,
            Query {
                user: Some("cornelius"),
                realm: Some("realm1"),
                ..Query::default()
            }
        ),
        n(&["car_empty", "car_r1"])
    );
}

/// check_all_resolvers with an exclusion (released 3.14: an excluded
/// resolver of the realm is left out, the others still count).
#[test]
fn check_all_resolvers_skips_excluded_resolvers() {
    let s = set(vec![
        pol("car_not_r1", "authorization", "x")
            .car()
            .resolver("*, !resolver1"),
        pol("car_not_reso3", "authorization", "x")
            .car()
            .resolver("*, -reso3"),
    ]);
    let q = |realm| Query {
        user: Some("cornelius"),
        realm: Some(realm),
        resolver: Some("resolver1"),
        ..Query::default()
    };
    // realm1 = [resolver1]: only the excluded resolver is there.
    assert_eq!(m(&s, q("realm1")), n(&["car_not_reso3"]));
    // realm4 = [resolver1, reso3]: each policy admits one of them.
    assert_eq!(m(&s, q("realm4")), n(&["car_not_r1", "car_not_reso3"]));
    // realm3 = [reso3].
    assert_eq!(m(&s, q("realm3")), n(&["car_not_r1"]));
}

/// List queries (token realms / additional realms): a negated entry excludes
/// when the list contains it (release-differences.md item 3); negated
/// entries are never patterns (item 4).
#[test]
fn list_query_exclusions_and_negated_entries_are_literal() {
    let s = set(vec![pol("p", "admin", "enable").realm("*, !realm2")]);
    use crate::compiled::Entries;
    let cp = s.in_load_order().next().unwrap();
    assert!(cp.realm().search_list(&["realm1"]).passes());
    assert!(!cp.realm().search_list(&["realm1", "realm2"]).passes());
    let s = set(vec![pol("u", "admin", "enable").user("*, !(")]);
    assert_eq!(
        m(
            &s,
            Query {
                user: Some("bob"),
                ..Query::default()
            }
        ),
        n(&["u"])
    );
    assert_eq!(
        m(
            &s,
            Query {
                user: Some("("),
                ..Query::default()
            }
        ),
        n(&[])
    );
}

#[test]
fn case_v08_star_and_empty_actions() {
    let s = set(vec![
        pol("a_star", "admin", "*"),
        pol("a_star_neg", "admin", "*, -delete"),
        pol("a_enable", "admin", "enable"),
        pol("u_empty", "user", ""),
    ]);
    let q = |sc, a| Query {
        scope: Some(sc),
        action: Some(a),
        ..Query::default()
    };
    assert_eq!(m(&s, q("admin", "delete")), n(&["a_star"]));
    assert_eq!(
        m(&s, q("admin", "enable")),
        n(&["a_enable", "a_star", "a_star_neg"])
    );
    assert_eq!(m(&s, q("user", "enable")), n(&["u_empty"]));
}

#[test]
fn case_v09_unique_multi_token() {
    let s = set(vec![
        pol("v1", "authentication", "challenge_response=hotp totp"),
        pol("v2", "authentication", "challenge_response=totp email").prio(2),
    ]);
    assert_eq!(
        values(&s, "authentication", "challenge_response", false, false).unwrap(),
        json!({"hotp": ["v1"], "totp": ["v1", "v2"], "email": ["v2"]})
    );
    assert_eq!(
        values(&s, "authentication", "challenge_response", true, false)
            .unwrap_err()
            .to_string(),
        "There are policies with conflicting actions: ['v1']"
    );
}

#[test]
fn case_v10_quoted_values() {
    let s = set(vec![
        pol("v3", "authentication", "challenge_text='hello world'"),
        pol("v4", "authentication", "challenge_text=hello world").prio(2),
    ]);
    assert_eq!(
        values(&s, "authentication", "challenge_text", false, false).unwrap(),
        json!({"hello world": ["v3"], "hello": ["v4"], "world": ["v4"]})
    );
    assert_eq!(
        values(&s, "authentication", "challenge_text", false, true).unwrap(),
        json!({"hello world": ["v3", "v4"]})
    );
    assert_eq!(
        values(&s, "authentication", "challenge_text", true, true).unwrap(),
        json!({"hello world": ["v3"]})
    );
}

#[test]
fn case_v11_conflicts() {
    let s = set(vec![
        pol("c1", "authentication", "otppin=userstore"),
        pol("c2", "authentication", "otppin=none"),
    ]);
    assert_eq!(
        values(&s, "authentication", "otppin", true, false)
            .unwrap_err()
            .to_string(),
        "There are policies with conflicting actions: ['c1', 'c2']"
    );
    assert_eq!(
        values(&s, "authentication", "otppin", false, false).unwrap(),
        json!({"userstore": ["c1"], "none": ["c2"]})
    );
    let pols: Vec<&Policy> = s.policies().collect();
    assert_eq!(
        check_for_conflicts(&pols, "otppin")
            .unwrap_err()
            .to_string(),
        "Contradicting otppin policies."
    );
}

#[test]
fn case_v12_time_edges_in_engine() {
    let s = set(vec![
        pol("p", "authorization", "x").time("Mon: 9-18"),
        pol("bad", "authorization", "x").time("Mon: 9-24"),
    ]);
    let q = |t| Query {
        time: Some(t),
        ..Query::default()
    };
    assert_eq!(mq(&s, q(at(2024, 7, 1, 18, 0))), vec!["p"]);
    assert!(mq(&s, q(at(2024, 7, 1, 18, 1))).is_empty());
    // an invalid stored time never matches but does not fail
    assert_eq!(s.list(&Query::default()).unwrap().len(), 2);
}

#[test]
fn case_v22_policy_check() {
    let s = set(vec![
        pol("pol_a", "authentication", "otppin=none")
            .realm("realm1")
            .user("*, -bob")
            .client("10.0.0.0/8, -10.0.0.1"),
        pol("pol_b", "authentication", "otppin=none")
            .realm("realm1, realm2")
            .ua("PAM"),
        pol("polc", "authentication", "otppin=none"),
    ]);
    let check = |user: &'static str, realm: &'static str, ua: Option<&'static str>| {
        let mut cx = mctx();
        cx.client_ip = Some("10.1.2.3");
        cx.user_agent = ua;
        let mm = s.match_generic(
            &cx,
            GenericParams {
                scope: Some("authentication"),
                user: Some(user),
                realm: Some(realm),
                action: Some("otppin"),
                ..GenericParams::default()
            },
        );
        mm.policies()
            .unwrap()
            .iter()
            .map(|p| p.name().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(check("alice", "realm1", None), vec!["pol_a", "polc"]);
    assert_eq!(check("bob", "realm1", None), vec!["polc"]);
    assert_eq!(check("alice", "realm2", Some("PAM")), vec!["pol_b", "polc"]);
}

#[test]
fn case_v27_actionless_user_policy() {
    let s = set(vec![pol("u", "user", "")]);
    let cx = mctx();
    assert!(s
        .match_user(&cx, "user", Some("enable"), None)
        .unwrap()
        .allowed()
        .unwrap());
    assert!(s
        .ui_get_rights("user", "realm1", "hans", None, None, None, now())
        .unwrap()
        .is_empty());
}

// ---------- quirks ----------

#[test]
fn quirk_q1_empty_action_matches_every_action() {
    let s = set(vec![pol("empty", "admin", "")]);
    for a in ["enable", "delete", "", "anything"] {
        assert_eq!(
            m(
                &s,
                Query {
                    scope: Some("admin"),
                    action: Some(a),
                    ..Query::default()
                }
            ),
            n(&["empty"])
        );
    }
}

#[test]
fn quirk_q2_check_all_resolvers_without_resolvers_is_dropped() {
    let s = set(vec![pol("p", "admin", "enable").car()]);
    let q = Query {
        user: Some("hans"),
        realm: Some("realm1"),
        resolver: Some("resolver1"),
        ..Query::default()
    };
    assert!(m(&s, q).is_empty());
    assert_eq!(
        m(
            &s,
            Query {
                resolver: None,
                ..q
            }
        ),
        n(&["p"])
    );
}

#[test]
fn quirk_q3_resolver_exclusions_count_in_the_release() {
    let s = set(vec![
        pol("p", "admin", "enable").resolver("*, !resolver1, -resolver1"),
        pol("dash", "admin", "enable").resolver("*, -resolver2"),
    ]);
    let q = |r| Query {
        resolver: Some(r),
        ..Query::default()
    };
    assert_eq!(m(&s, q("resolver1")), n(&["dash"]));
    assert_eq!(m(&s, q("resolver2")), n(&["p"]));
    assert_eq!(m(&s, q("resolver3")), n(&["dash", "p"]));
}

#[test]
fn quirk_q4_negation_only_lists_match_nobody() {
    let s = set(vec![
        pol("u", "admin", "enable").user("!alice"),
        pol("r", "admin", "enable").realm("-realm1"),
        pol("a", "admin", "-enable"),
        pol("c", "admin", "enable").client("!10.0.0.1"),
    ]);
    assert!(m(
        &s,
        Query {
            user: Some("bob"),
            ..Query::default()
        }
    )
    .iter()
    .all(|x| x != "u"));
    assert!(m(
        &s,
        Query {
            realm: Some("realm2"),
            ..Query::default()
        }
    )
    .iter()
    .all(|x| x != "r"));
    assert!(m(
        &s,
        Query {
            action: Some("disable"),
            ..Query::default()
        }
    )
    .iter()
    .all(|x| x != "a"));
    assert!(m(
        &s,
        Query {
            client: Some("10.0.0.2"),
            ..Query::default()
        }
    )
    .iter()
    .all(|x| x != "c"));
}

#[test]
fn quirk_q5_entries_are_full_match_regexes() {
    let s = set(vec![
        pol("cust", "admin", "enable").user("customer_.*"),
        pol("dot", "admin", "enable").user("a.b"),
        pol("lit", "admin", "enable").user("user1"),
    ]);
    let q = |u| Query {
        user: Some(u),
        ..Query::default()
    };
    assert_eq!(m(&s, q("customer_12")), n(&["cust"]));
    assert!(m(&s, q("xcustomer_12")).is_empty());
    assert_eq!(m(&s, q("axb")), n(&["dot"]));
    assert!(m(&s, q("user1234")).is_empty());
    assert_eq!(m(&s, q("user1")), n(&["lit"]));
}

#[test]
fn quirk_q6_unique_with_multi_token_value_conflicts() {
    let s = set(vec![pol(
        "v1",
        "authentication",
        "challenge_response=hotp totp",
    )]);
    assert!(values(&s, "authentication", "challenge_response", true, false).is_err());
    assert!(values(&s, "authentication", "challenge_response", true, true).is_ok());
}

// ---------- ordering, explain, misc ----------

#[test]
fn ordering_priority_ties_and_client_groups() {
    let s = set(vec![
        pol("pz", "authentication", "x").prio(2),
        pol("pa", "authentication", "x").prio(2),
        pol("pm", "authentication", "x").prio(1),
    ]);
    assert_eq!(mq(&s, Query::default()), vec!["pm", "pz", "pa"]);
    let s = set(vec![
        pol("noclient", "authentication", "x"),
        pol("client", "authentication", "x").client("10.0.0.0/8"),
    ]);
    assert_eq!(mq(&s, Query::default()), vec!["noclient", "client"]);
    assert_eq!(
        mq(
            &s,
            Query {
                client: Some("10.1.1.1"),
                ..Query::default()
            }
        ),
        vec!["client", "noclient"]
    );
}

#[test]
fn explain_reports_first_excluding_attribute() {
    let s = set(vec![
        pol("a", "admin", "enable").realm("realm1"),
        pol("b", "admin", "disable"),
        pol("c", "admin", "enable").user("*, !bob"),
        pol("d", "admin", "enable"),
        pol("other", "user", "enable"),
    ]);
    let ex = s
        .explain(&Query {
            scope: Some("admin"),
            action: Some("enable"),
            realm: Some("realm2"),
            user: Some("bob"),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(ex.policies.len(), 4);
    let get = |name: &str| ex.policies.iter().find(|e| e.name == name).unwrap();
    assert_eq!(get("a").attribute, Some(Attribute::Realm));
    assert_eq!(get("b").attribute, Some(Attribute::Action));
    assert_eq!(get("c").attribute, Some(Attribute::User));
    assert!(get("c").detail.contains("excluded"));
    assert_eq!(get("d").outcome, Outcome::Matched);
    assert_eq!(get("d").position, Some(0));
    assert_eq!(ex.matched, vec!["d"]);
    let js = serde_json::to_value(&ex).unwrap();
    assert_eq!(js["policies"][0]["attribute"], "realm");
}

#[test]
fn admin_gate() {
    let s = set(vec![pol("realmadmin", "admin", "policyread, policywrite")
        .realm("realm1")
        .adminuser("realmadmin")]);
    let cx = mctx();
    let g = |a, u, r| s.admin_allowed(&cx, a, u, "", None, r, None).unwrap();
    assert!(g("policywrite", "realmadmin", Some("realm1")));
    assert!(!g("policywrite", "realmadmin", Some("realm2")));
    assert!(g("policywrite", "realmadmin", None));
    assert!(!g("policyread", "testadmin", None));
    assert!(set(vec![])
        .admin_allowed(&cx, "policyread", "testadmin", "", None, None, None)
        .unwrap());
}

#[test]
fn sections_check_only_userinfo() {
    let s = set(vec![
        pol("p", "user", "enable").cond("token", "x", "equals", "y", true, None)
    ]);
    let only = [Section::UserInfo];
    assert_eq!(
        mq(
            &s,
            Query {
                conditions: ConditionCheck::Sections(&only),
                ..Query::default()
            }
        )
        .len(),
        1
    );
    assert!(s.match_policies(&Query::default()).is_err());
}

#[test]
fn invalid_client_query() {
    let s = set(vec![
        pol("p", "admin", "x").client("10.0.0.0/8"),
        pol("q", "admin", "x"),
    ]);
    assert!(matches!(
        merr(
            &s,
            Query {
                client: Some("nonsense"),
                ..Query::default()
            }
        ),
        MatchError::InvalidClientIp(_)
    ));
    let s = set(vec![pol("q", "admin", "x")]);
    assert_eq!(
        mq(
            &s,
            Query {
                client: Some("nonsense"),
                ..Query::default()
            }
        ),
        vec!["q"]
    );
}

#[test]
fn policy_set_is_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<PolicySet>();
}

#[test]
fn rebuilds_share_compiled_regexes() {
    // Regular expressions compiled by one build are reused by the next; the
    // outcome of matching must not depend on it, invalid entries included.
    let recs = || {
        vec![
            pol("re", "authorization", "tokentype=hotp").user("u.*1, *admin"),
            pol("lit", "authorization", "tokentype=totp").user("u11"),
        ]
    };
    let mut cache = RegexCache::new();
    for round in 0..3 {
        let s = if round == 0 {
            set(recs())
        } else {
            PolicySet::from_records_with_cache(&recs(), ctx(), &mut cache)
        };
        if round > 0 {
            // `u.*1` and the invalid `*admin` are cached; literals are not.
            assert_eq!(cache.len(), 2);
        }
        let q = |u: &'static str| Query {
            scope: Some("authorization"),
            user: Some(u),
            ..Query::default()
        };
        assert_eq!(m(&s, q("u11")), n(&["re", "lit"]));
        assert_eq!(m(&s, q("u21")), n(&["re"]));
        assert_eq!(m(&s, q("*admin")), n(&["re"]));
        assert_eq!(m(&s, q("superadmin")), n(&[]));
    }
}

#[test]
/// The candidate check skips the filters a policy cannot fail
/// (`CompiledPolicy::restricts`): a realm of `*` only admits, but a user
/// list still takes part in the user/realm pairing; node and user-agent
/// lists still reject; a policy without restrictions passes.
fn restricts_skip_only_filters_that_cannot_reject() {
    let s = set(vec![
        pol("star_user", "authorization", "x")
            .realm("*")
            .user("alice"),
        pol("star", "authorization", "x").realm("*"),
        pol("star_neg", "authorization", "x").realm("*, !realm1"),
        pol("plain", "authorization", "x"),
        pol("node", "authorization", "x").pinode("n1"),
        pol("agent", "authorization", "x").ua("agent1"),
        pol("res", "authorization", "x").resolver("resolver1"),
    ]);
    let extra = vec!["realm2".to_string()];
    let base = Query {
        scope: Some("authorization"),
        action: Some("x"),
        realm: Some("realm1"),
        user: Some("alice"),
        resolver: Some("resolver2"),
        pinode: Some("n2"),
        user_agent: Some("other"),
        ..Query::default()
    };
    assert_eq!(m(&s, base), n(&["plain", "star", "star_user"]));
    let paired = Query {
        additional_realms: Some(&extra),
        ..base
    };
    assert_eq!(m(&s, paired), n(&["plain", "star"]));
    let bare = Query {
        scope: Some("authorization"),
        action: Some("x"),
        ..Query::default()
    };
    assert_eq!(
        m(&s, bare),
        n(&[
            "agent",
            "node",
            "plain",
            "res",
            "star",
            "star_neg",
            "star_user"
        ])
    );
}

/// The wild policies merged into the action buckets (`index::MERGE_BUDGET`)
/// or kept apart decide alike, and as the linear scan: built either way,
/// and after edits that add and remove wild and other policies, create
/// and empty action buckets, and take a merged scope past its budget
/// (which separates its buckets again).
#[test]
fn wild_merged_into_action_buckets_decides_as_linear_scan() {
    let rng = std::cell::Cell::new(0x2545_f491_4f6c_dd1du64);
    let next = |n: usize| {
        let mut r = rng.get();
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        rng.set(r);
        (r % n as u64) as usize
    };
    const ACTIONS: &[&str] = &[
        "enroll", "delete", "reset", "setpin", "revoke", "a1", "a2", "a3", "a4",
    ];
    let policy = |i: usize, wild: bool| -> PolicyRecord {
        let scope = ["admin", "user"][next(2)];
        let action = if wild {
            ["*", "*, -delete", "en.*", ""][next(4)].to_string()
        } else {
            let k = 1 + next(3);
            let mut names: Vec<String> = (0..k)
                .map(|_| ACTIONS[next(ACTIONS.len())].to_string())
                .collect();
            // Edits add actions without a bucket yet.
            if i >= 1000 && next(3) == 0 {
                names.push(format!("b{}", next(4)));
            }
            names.join(", ")
        };
        let realm = match next(6) {
            0 => String::new(),
            1 => "*".into(),
            2 => format!("r{}, r{}", next(6), next(6)),
            3 => "r1.*".into(),
            _ => format!("r{}", next(6)),
        };
        let user = match next(5) {
            0 => format!("u{}", next(4)),
            1 => "*".into(),
            _ => String::new(),
        };
        let adminuser = match next(4) {
            0 => format!("adm{}", next(3)),
            1 => "*, !adm1".into(),
            _ => String::new(),
        };
        pol(&format!("p{i}"), scope, &action)
            .realm(&realm)
            .user(&user)
            .adminuser(&adminuser)
            .prio(1 + next(3) as i64)
    };
    // One wild policy per scope: merged at a budget of 24 (1 × ≤ 9 action
    // buckets); an edit that adds a wild policy when (wild policies + 1) ×
    // action buckets passes 2 × 24 separates the scope's buckets again.
    let mut recs: Vec<PolicyRecord> = (0..120).map(|i| policy(i, false)).collect();
    recs.push(pol("wild_admin", "admin", "*"));
    recs.push(pol("wild_user", "user", "").realm("r2"));
    let realms = ["r0", "r1", "r2", "r5", "r1\n", "other"];
    let mut queries: Vec<Query<'static>> = Vec::new();
    for k in 0..120 {
        let scope = [Some("admin"), Some("user"), None][k % 3];
        let action = match k % 7 {
            0 => None,
            1 => Some(["unknown", "b0", "b1", "b2", "b3"][(k / 7) % 5]),
            2 => Some(["enroll\n", "b1\n"][(k / 7) % 2]),
            _ => Some(ACTIONS[(k * 5) % ACTIONS.len()]),
        };
        let realm = (k % 4 != 0).then(|| realms[(k / 3) % realms.len()]);
        let user = (k % 3 != 1).then(|| ["u0", "u1", "u3", "u2\n"][(k / 2) % 4]);
        let adminuser = (k % 5 != 0).then(|| ["adm0", "adm1", "adm2"][k % 3]);
        queries.push(Query {
            scope,
            action,
            realm,
            user,
            adminuser,
            ..Query::default()
        });
    }
    let check = |s: &PolicySet, rebuilt: &PolicySet| {
        for &q in &queries {
            let names = mq(s, q);
            assert_eq!(names, mq(rebuilt, q), "{q:?}");
        }
    };
    let budgets = [0, 24, usize::MAX];
    let mut sets: Vec<PolicySet> = budgets
        .iter()
        .map(|&b| set(recs.clone()).with_merge_budget(b))
        .collect();
    assert!(sets[0]
        .merge_state()
        .iter()
        .all(|&(merged, wild)| !merged || wild == 0));
    assert!(sets[1].merge_state().iter().all(|&(merged, _)| merged));
    assert!(sets[2].merge_state().iter().all(|&(merged, _)| merged));
    let rebuilt = set(recs.clone());
    for s in &sets {
        check(s, &rebuilt);
    }
    let mut cache = RegexCache::new();
    let mut separated = false;
    for e in 0..80 {
        let wild = next(2) == 0;
        let rec = policy(1000 + e, wild);
        let (remove_at, insert_at) = match next(4) {
            0 => (Some(next(recs.len())), None),
            1 => (None, Some(next(recs.len() + 1))),
            _ => {
                let at = next(recs.len());
                (Some(at), Some(at))
            }
        };
        if let Some(at) = remove_at {
            recs.remove(at);
        }
        if let Some(at) = insert_at {
            recs.insert(at, rec.clone());
        }
        for s in sets.iter_mut() {
            let insert = insert_at.map(|at| (at, Policy::from_record(&rec)));
            *s = s.edited(remove_at, insert, &mut cache).unwrap();
        }
        if sets[1].merge_state().iter().any(|&(merged, _)| !merged) {
            separated = true;
        }
        let rebuilt = set(recs.clone());
        for s in &sets {
            check(s, &rebuilt);
        }
    }
    assert!(separated, "no edit took a scope past its merge budget");
    assert!(sets[2].merge_state().iter().all(|&(merged, _)| merged));
}

/// The realm split's fixed part split again by admin user (`index::Sub`,
/// read by the wild buckets' visits): an admin query gets the global
/// policies of other admin users no longer as candidates, and decides as
/// the linear scan and as a rebuilt set — built and after edits of global
/// and tenant wild policies; with admin users in lists, `*`, negations,
/// case-insensitive, a trailing newline, and without an admin user.
#[test]
fn realm_fixed_split_by_admin_user_decides_as_linear_scan() {
    let admins = ["superroot", "adm1", "adm2", "*", "adm1, adm2", "!adm1", ""];
    let mut recs: Vec<PolicyRecord> = Vec::new();
    for i in 0..40 {
        let realm = ["", "*"][i % 2];
        let admin = if i < 24 {
            "superroot"
        } else {
            admins[i % admins.len()]
        };
        let mut p = pol(
            &format!("g{i}"),
            "admin",
            ["*", "en.*", "*, -delete"][i % 3],
        )
        .realm(realm)
        .adminuser(admin);
        if i == 39 {
            p = p.uci();
        }
        recs.push(p);
    }
    for i in 0..60 {
        recs.push(
            pol(&format!("t{i}"), "admin", ["*", "enroll, delete"][i % 2])
                .realm(&format!("r{}", i % 5))
                .adminuser(["adm1", "", "adm2, ADM3"][i % 3]),
        );
    }
    recs.push(pol("other_scope", "user", "*"));
    let queries = |f: &mut dyn FnMut(Query<'_>)| {
        for adminuser in [
            Some("superroot"),
            Some("adm1"),
            Some("adm3"),
            Some("ADM2"),
            Some("adm1\n"),
            None,
        ] {
            for realm in [Some("r1"), Some("r9"), None] {
                for action in [Some("enroll"), Some("setpin"), None] {
                    for scope in [Some("admin"), Some("user")] {
                        f(Query {
                            scope,
                            action,
                            realm,
                            adminuser,
                            ..Query::default()
                        });
                    }
                }
            }
        }
    };
    let check = |s: &PolicySet, rebuilt: &PolicySet| {
        queries(&mut |q| {
            let names = mq(s, q);
            assert_eq!(names, mq(rebuilt, q), "{q:?}");
        });
    };
    let s = set(recs.clone());
    check(&s, &s);
    // 24 global `superroot` policies and 6 more with other admin users'
    // literal lists are candidates of a plain `adm3` query no more.
    let q = Query {
        scope: Some("admin"),
        action: Some("setpin"),
        realm: Some("r9"),
        adminuser: Some("adm3"),
        ..Query::default()
    };
    let without_admin = Query {
        adminuser: None,
        ..q
    };
    assert!(s.index_candidates(&q) + 24 <= s.index_candidates(&without_admin));
    let mut cache = RegexCache::new();
    let mut s = s;
    type Edit = (Option<usize>, Option<(usize, PolicyRecord)>);
    let edits: Vec<Edit> = vec![
        (
            Some(3),
            Some((3, pol("e1", "admin", "*").adminuser("adm3"))),
        ),
        (
            None,
            Some((
                0,
                pol("e2", "admin", "*").realm("*").adminuser("adm1, adm3"),
            )),
        ),
        (Some(10), None),
        (
            Some(50),
            Some((50, pol("e3", "admin", "en.*").adminuser(""))),
        ),
        (
            None,
            Some((7, pol("e4", "admin", "*").realm("r1").adminuser("adm3"))),
        ),
        (Some(0), Some((0, pol("e5", "admin", "*").adminuser("*")))),
    ];
    for (remove_at, insert) in edits {
        if let Some(at) = remove_at {
            recs.remove(at);
        }
        if let Some((at, r)) = &insert {
            recs.insert(*at, r.clone());
        }
        let insert = insert.map(|(at, r)| (at, Policy::from_record(&r)));
        s = s.edited(remove_at, insert, &mut cache).unwrap();
        check(&s, &set(recs.clone()));
    }
}
