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

/// `PolicyRecord` setters of text fields: `method => field`.
macro_rules! record_text_setters {
    ($($method:ident => $field:ident),* $(,)?) => {
        $(fn $method(self, v: &str) -> Self {
            self.with(|p| p.$field = v.into())
        })*
    };
}

trait B: Sized {
    fn with(self, f: impl FnOnce(&mut PolicyRecord)) -> Self;
    record_text_setters! {
        realm => realm,
        user => user,
        resolver => resolver,
        adminuser => adminuser,
        client => client,
        pinode => pinode,
        ua => user_agents,
        time => time,
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
    fn cond(self, c: ConditionRecord) -> Self {
        self.with(|p| p.conditions.push(c))
    }
}

impl B for PolicyRecord {
    fn with(mut self, f: impl FnOnce(&mut PolicyRecord)) -> Self {
        f(&mut self);
        self
    }
}

/// Policies of one scope and action, a row each: `(name, realm, user, resolver)`.
fn pols((scope, action): (&str, &str), rows: &[(&str, &str, &str, &str)]) -> Vec<PolicyRecord> {
    rows.iter()
        .map(|&(name, realm, user, resolver)| {
            pol(name, scope, action)
                .realm(realm)
                .user(user)
                .resolver(resolver)
        })
        .collect()
}

/// An active condition without `handle_missing_data`; see [`Cond`].
fn c(section: &str, key: &str, cmp: &str, value: &str) -> ConditionRecord {
    ConditionRecord {
        section: section.into(),
        key: key.into(),
        comparator: cmp.into(),
        value: value.into(),
        active: true,
        handle_missing_data: None,
    }
}

trait Cond {
    fn active(self, active: bool) -> Self;
    fn missing(self, h: Option<&str>) -> Self;
}

impl Cond for ConditionRecord {
    fn active(self, active: bool) -> Self {
        ConditionRecord { active, ..self }
    }
    fn missing(self, h: Option<&str>) -> Self {
        let handle_missing_data = h.map(str::to_string);
        ConditionRecord {
            handle_missing_data,
            ..self
        }
    }
}

/// `q().scope("admin").user("bob")` is
/// `Query { scope: Some("admin"), user: Some("bob"), ..Query::default() }`.
fn q<'a>() -> Query<'a> {
    Query::default()
}

macro_rules! query_builder {
    ($($field:ident: $ty:ty),* $(,)?) => {
        /// One setter per `Query` field, each setting it to `Some(v)`.
        trait Qb<'a>: Sized {
            $(fn $field(self, v: $ty) -> Self;)*
        }
        impl<'a> Qb<'a> for Query<'a> {
            $(fn $field(mut self, v: $ty) -> Self {
                self.$field = Some(v);
                self
            })*
        }
    };
}

query_builder! {
    name: &'a str,
    scope: &'a str,
    action: &'a str,
    active: bool,
    user: &'a str,
    realm: &'a str,
    resolver: &'a str,
    additional_realms: &'a [String],
    adminuser: &'a str,
    client: &'a str,
    pinode: &'a str,
    user_agent: &'a str,
    time: NaiveDateTime,
    user_object: &'a UserObject,
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

/// A table of queries and the policies each matches (by [`m`]).
fn expect(s: &PolicySet, cases: &[(Query<'_>, &[&str])]) {
    for (q, want) in cases {
        assert_eq!(m(s, *q), n(want), "{q:?}");
    }
}

fn merr(s: &PolicySet, q: Query<'_>) -> MatchError {
    let e = s.match_policies(&q).unwrap_err();
    assert_eq!(Some(&e), s.linear_match_policies(&q).err().as_ref());
    e
}

fn n(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn sv(v: &[&str]) -> Vec<String> {
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

fn login(username: &str, realm: &str, role: &str) -> LoggedInUser {
    LoggedInUser {
        username: username.into(),
        realm: realm.into(),
        role: role.into(),
    }
}

fn names(v: &[&Policy]) -> BTreeSet<String> {
    v.iter().map(|p| p.name().to_string()).collect()
}

/// The names of the policies of a successful `match_*` call.
fn matched(r: Result<Match<'_, '_>, MatchError>) -> BTreeSet<String> {
    names(&r.unwrap().policies().unwrap())
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

/// Removes and inserts a record as `PolicySet::edited` does a policy, and
/// returns the insertion as `edited` takes it.
fn edit_records(
    recs: &mut Vec<PolicyRecord>,
    remove_at: Option<usize>,
    insert: Option<(usize, PolicyRecord)>,
) -> Option<(usize, Policy)> {
    if let Some(at) = remove_at {
        recs.remove(at);
    }
    insert.map(|(at, r)| {
        let p = Policy::from_record(&r);
        recs.insert(at, r);
        (at, p)
    })
}

/// `s` decides each query as `rebuilt` does (and as the linear scan, by [`mq`]).
fn same_decisions<'a>(
    s: &PolicySet,
    rebuilt: &PolicySet,
    queries: impl IntoIterator<Item = Query<'a>>,
) {
    for q in queries {
        let names = mq(s, q);
        assert_eq!(names, mq(rebuilt, q), "{q:?}");
    }
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
    assert_eq!(mq(&s, q().name("pol3")).len(), 1);
    assert_eq!(mq(&s, q().scope("authorization")).len(), 2);
    expect(
        &s,
        &[
            (q().scope("authorization").action("tokentype"), &["pol2"]),
            (q().scope("admin").action("disable"), &["pol4"]),
        ],
    );
    let p4 = s.list(&q().name("pol4")).unwrap();
    assert_eq!(p4[0].description(), Some("test"));
}

// ---------- 5.3 ----------

fn recs_057() -> Vec<PolicyRecord> {
    vec![
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
    ]
}

fn set_057() -> PolicySet {
    set(recs_057())
}

#[test]
fn case_057_inactive() {
    expect(&set_057(), &[(q().active(false), &["pol1"])]);
}

#[test]
fn case_058_action_and_scope_counts() {
    let s = set_057();
    assert_eq!(mq(&s, q().action("tokentype")).len(), 2);
    assert_eq!(mq(&s, q().action("serial")).len(), 1);
    assert_eq!(mq(&s, q().scope("authorization")).len(), 3);
}

#[test]
fn case_059_adminuser_case_insensitive() {
    let admin = q().scope("admin");
    expect(
        &set_057(),
        &[
            (admin.adminuser("admin"), &["pol4", "pol5"]),
            (admin.adminuser("Admin"), &["pol5"]),
        ],
    );
}

#[test]
fn case_060_resolver_and_realm() {
    let s = set_057();
    let authz = q().scope("authorization");
    expect(
        &s,
        &[
            (authz.resolver("resolver2"), &["pol2", "pol2a"]),
            (authz.realm("realm1"), &["pol2", "pol3"]),
        ],
    );
    assert_eq!(mq(&s, authz.resolver("resolver1")).len(), 3);
}

#[test]
fn case_061_user_agent() {
    // The policies of case 057 with user agents, pol1 active, pol5 enrolling only.
    let mut recs = recs_057();
    recs[0].active = true;
    recs[0].user_agents = "privacyidea-cp".into();
    recs[1].user_agents = "PAM".into();
    recs[5].action = "enrollHOTP".into();
    expect(
        &set(recs),
        &[(
            q().user_agent("privacyidea-cp"),
            &["pol1", "pol2a", "pol3", "pol4", "pol5"],
        )],
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
    expect(
        &s,
        &[
            (q().client("10.0.0.1"), &["pol3", "pol4"]),
            (q().client("192.168.2.3"), &["pol2", "pol4"]),
            (q().client("192.168.1.1"), &["pol4"]),
        ],
    );
    let e = merr(&s, q().client(""));
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

/// Cases 063 and 064: the name asked for and the policies of [`set_063`] it matches.
const NEGATION_063: [(&str, &[&str]); 4] = [
    ("user1", &["pol1", "pol2", "pol4"]),
    ("root", &["pol1", "pol2", "pol3"]),
    ("admin", &["pol1", "pol2", "pol3", "pol4"]),
    ("", &["pol1", "pol3", "pol4"]),
];

#[test]
fn case_063_user_negation() {
    let s = set_063(|p, v| p.user(v), "authorization");
    for (u, want) in NEGATION_063 {
        assert_eq!(m(&s, q().user(u)), n(want), "{u}");
    }
}

#[test]
fn case_064_adminuser_negation() {
    let s = set_063(|p, v| p.adminuser(v), "admin");
    for (u, want) in NEGATION_063 {
        assert_eq!(m(&s, q().scope("admin").adminuser(u)), n(want), "{u}");
    }
    // adminuser is ignored unless the query scope is admin
    assert_eq!(mq(&s, q().adminuser("nobody")).len(), 4);
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
    expect(
        &s,
        &[
            (q().realm("realm1"), &["pol1", "pol2", "pol3"]),
            (q().realm("realm3"), &["pol3", "pol4"]),
            (q().realm(""), &["pol3"]),
        ],
    );
    assert_eq!(m(&s, q()).len(), 4);
}

#[test]
fn case_066_resolver() {
    expect(
        &set_065(),
        &[
            (q().resolver("resolver1"), &["pol1", "pol2", "pol4"]),
            (q().resolver("reso3"), &["pol1", "pol3", "pol4"]),
            (q().resolver(""), &["pol1", "pol4"]),
        ],
    );
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
    let admin = q().scope("admin");
    assert_eq!(mq(&s, admin.action("enrollHOTP")).len(), 2);
    assert_eq!(mq(&s, admin.action("enable")).len(), 2);
    expect(
        &s,
        &[
            (admin.action("disable"), &["pol1"]),
            (q().scope("authentication").action("otppin"), &["pol2"]),
        ],
    );
}

#[test]
fn case_068_empty_action_query() {
    let s = set_067();
    expect(&s, &[(q().action(""), &["pol3", "pol4"])]);
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
    let query = q()
        .scope("authorization")
        .realm("test_realm")
        .resolver("reso1")
        .user("cornelius");
    let mk = |check_all: PolicyRecord| {
        set(vec![
            check_all,
            pol("catchAll", "authorization", "x").realm("test_realm"),
        ])
    };
    let check_all = pol("checkAll", "authorization", "x")
        .realm("test_realm")
        .resolver("resoX");
    assert_eq!(m(&mk(check_all.clone()), query), n(&["catchAll"]));
    assert_eq!(mq(&mk(check_all.car()), query).len(), 2);
}

#[test]
fn case_071_non_ascii_user() {
    let s = set(vec![
        pol("p", "user", "enrollHOTP, otp_pin_minlength=4").user("nönäscii")
    ]);
    let enroll = q().action("enrollHOTP");
    assert_eq!(mq(&s, enroll.user("somebodyelse")).len(), 0);
    assert_eq!(mq(&s, enroll.user("nönäscii")).len(), 1);
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
    let otppin = q().scope("authentication").action("otppin");
    let run = |u: Option<&UserObject>| {
        m(
            &s,
            Query {
                user_object: u,
                ..otppin
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
        let q = q()
            .scope("authentication")
            .action("otppin")
            .active(true)
            .user_object(u);
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
    let e = merr(&s, q().user_object(&c).realm("realm3"));
    assert_eq!(e.code(), 905);
    assert_eq!(
        e.to_string(),
        "Cannot pass user_object (<cornelius.reso1@realm1>) as well as user (None), resolver (None), realm (realm3) in policy (None, None, None)"
    );
    let q = q()
        .scope("authentication")
        .action("otppin")
        .user_object(&c)
        .user("selfservice");
    let e = merr(&s, q);
    assert!(
        e.to_string()
            .ends_with("in policy (None, 'authentication', 'otppin')"),
        "{e}"
    );
}

#[test]
fn case_075_empty_user_and_case_of_realm() {
    let empty = UserObject::default();
    let c = UserObject::new("cornelius", "realm1", "reso1");
    expect(
        &set_072(true),
        &[
            (q().user_object(&empty), &["act5"]),
            (
                q().user_object(&c).user("cornelius").realm("REALM1"),
                &["act1", "act2", "act3", "act5"],
            ),
        ],
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
    let qa = |u, a| q().scope("admin").adminuser(u).action(a);
    expect(
        &s,
        &[
            (
                qa("import_admin", "importtokens").pinode("pinode1"),
                &["import_node1"],
            ),
            (qa("import_admin", "importtokens").pinode("pinode2"), &[]),
            (qa("import_admin", "delete"), &[]),
        ],
    );
    for node in ["pinode1", "pinode2"] {
        expect(
            &s,
            &[
                (qa("delete_admin", "delete").pinode(node), &["delete_node2"]),
                (qa("enable_admin", "enable").pinode(node), &["enable"]),
            ],
        );
    }
}

#[test]
fn case_077_match_admin_uses_local_node() {
    let mut c = ctx();
    c.local_node = "Node1".into();
    let s = PolicySet::from_records(&set_076(), c);
    let del = login("delete_admin", "", "admin");
    let mut cx = mctx();
    cx.logged_in_user = Some(&del);
    assert!(matched(s.match_admin(&cx, Some("delete"), None, None, None)).is_empty());
    let en = login("enable_admin", "", "admin");
    cx.logged_in_user = Some(&en);
    assert_eq!(
        matched(s.match_admin(&cx, Some("enable"), None, None, None)),
        n(&["enable"])
    );
}

#[test]
fn case_078_user_realm_resolver_lists() {
    let mut recs = vec![pol("enable", "admin", "enable")];
    recs.extend(pols(
        ("admin", "disable"),
        &[
            ("disable", "", "", ""),
            ("disable_realm1", "realm1", "", ""),
            ("disable_realm2", "realm2", "", ""),
            ("disable_realm3", "realm3", "", ""),
            ("disable_realm1_userA", "realm1", "userA", ""),
            ("disable_realm2_userA", "realm2", "userA", ""),
            ("disable_resolver1", "", "", "resolver1"),
            ("disable_resolver3", "", "", "resolver3"),
            (
                "disable_realm1_userA_resolver1",
                "realm1",
                "userA",
                "resolver1",
            ),
            (
                "disable_realm1_userA_resolver3",
                "realm1",
                "userA",
                "resolver3",
            ),
        ],
    ));
    let s = set(recs);
    let l = |q: Query| -> BTreeSet<String> {
        s.list(&q)
            .unwrap()
            .iter()
            .map(|p| p.name().to_string())
            .collect()
    };
    let d = q().action("disable");
    assert_eq!(l(d).len(), 10);
    assert_eq!(
        l(d.realm("realm1")),
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
        l(d.realm("realm1").user("").resolver("")),
        n(&["disable", "disable_realm1"])
    );
    let base = d.realm("realm1").user("userA").resolver("resolver1");
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
    expect(
        &s,
        &[(
            base.additional_realms(&extra),
            &[
                "disable",
                "disable_realm1",
                "disable_realm2",
                "disable_realm1_userA",
                "disable_resolver1",
                "disable_realm1_userA_resolver1",
            ],
        )],
    );
}

#[test]
fn case_079_time() {
    let s = set(vec![
        pol("time1", "authorization", "x").time("Mon-Wed: 0-23:59")
    ]);
    // list ignores time
    assert_eq!(s.list(&q().name("time1")).unwrap().len(), 1);
    assert_eq!(mq(&s, q().time(at(2019, 7, 3, 13, 0))).len(), 1);
    assert_eq!(mq(&s, q().time(at(2019, 7, 4, 14, 34))).len(), 0);
}

#[test]
fn case_080_user_agents() {
    let s = set(vec![
        pol("policy-cp", "authentication", "x").ua("privacyidea-cp, PAM"),
        pol("policy-keycloak", "authentication", "x").ua("privacyIDEA-Keycloak, Mozilla"),
        pol("policy-no-agent", "authentication", "x"),
    ]);
    let auth = q().scope("authentication");
    for ua in ["privacyidea-cp", "privacyIDEA-CP", "PAM"] {
        expect(
            &s,
            &[(auth.user_agent(ua), &["policy-cp", "policy-no-agent"])],
        );
    }
    expect(
        &s,
        &[
            (
                auth.user_agent("privacyidea-keycloak"),
                &["policy-keycloak", "policy-no-agent"],
            ),
            (auth.user_agent(""), &["policy-no-agent"]),
        ],
    );
    assert_eq!(m(&s, auth).len(), 3);
}

// ---------- 5.4 ----------

fn values(
    s: &PolicySet,
    scope: &str,
    action: &str,
    unique: bool,
    ws: bool,
) -> Result<Value, MatchError> {
    let pols = s.match_policies(&q().scope(scope).action(action).active(true))?;
    extract_action_values(&pols, action, unique, ws).map(|v| serde_json::to_value(v).unwrap())
}

/// A table of `(unique, ws)` and the [`values`] of `(scope, action)` they
/// give, or the message of the error.
fn expect_values(
    s: &PolicySet,
    (scope, action): (&str, &str),
    cases: &[(bool, bool, Result<Value, &str>)],
) {
    for (unique, ws, want) in cases {
        let got = values(s, scope, action, *unique, *ws).map_err(|e| e.to_string());
        let want = want.clone().map_err(str::to_string);
        assert_eq!(got, want, "unique: {unique}, ws: {ws}");
    }
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
    let want = json!({"hotp": ["tt1"], "totp": ["tt1"], "motp": ["tt2"]});
    expect_values(
        &s,
        ("authorization", "tokentype"),
        &[(false, false, Ok(want))],
    );
}

#[test]
fn case_084_serial_values() {
    let s = set(vec![
        pol("st1", "authorization", "serial=OATH"),
        pol("st2", "authorization", "serial=mOTP "),
    ]);
    let want = json!({"OATH": ["st1"], "mOTP": ["st2"]});
    expect_values(&s, ("authorization", "serial"), &[(false, false, Ok(want))]);
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
    let pols = s.match_policies(&q().scope("authentication")).unwrap();
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
    let order: Vec<String> = mq(&s, q().scope("authentication"));
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
    let type_is = |v| c("userinfo", "type", "equals", v);
    set(vec![
        pol("verysecure", "authentication", "otppin=none").cond(type_is("verysecure")),
        pol("notverysecure", "authentication", "otppin=userstore")
            .cond(type_is("notverysecure"))
            .cond(c("userinfo", "groups", "contains", "b")),
    ])
}

#[test]
fn case_091_allowed_custom_attributes() {
    let admin = login("admin", "", "admin");
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
    let want: std::collections::BTreeMap<String, Vec<String>> = [
        ("*".to_string(), sv(&["off", "on"])),
        ("hello".to_string(), sv(&["one", "three", "two"])),
        ("hello2".to_string(), sv(&["*"])),
    ]
    .into_iter()
    .collect();
    assert_eq!(got.set, want);
    // A user gets the user-scope policies of their realm.
    let user = login("alice", "realm1", "user");
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
    let e = merr(&set_093(), q().user_object(&empty));
    assert!(
        e.to_string().starts_with("Unknown userinfo key 'type'"),
        "{e}"
    );
}

#[test]
fn case_095_condition_userinfo_values() {
    let s = set_093();
    let cases: [(&str, Value, &[&str]); 3] = [
        (
            "u1",
            json!({"type": "verysecure", "groups": ["a", "b", "c"]}),
            &["verysecure"],
        ),
        ("u2", json!({"type": "notverysecure", "groups": ["c"]}), &[]),
        (
            "u3",
            json!({"type": "notverysecure", "groups": ["b", "c"]}),
            &["notverysecure"],
        ),
    ];
    for (login, attrs, want) in cases {
        let u = uo(login, "", "", attrs);
        assert_eq!(m(&s, q().user_object(&u)), n(want), "{login}");
    }
}

#[test]
fn case_096_100_invalid_comparison() {
    let s = set(vec![pol("p", "authentication", "x").cond(
        c("userinfo", "number", "contains", "b").missing(Some("condition_is_true")),
    )]);
    let u = uo("u", "", "", json!({"number": 5}));
    assert_eq!(
        merr(&s, q().user_object(&u)).to_string(),
        "Invalid comparison in the userinfo conditions of policy 'p'"
    );
}

#[test]
fn case_097_inactive_condition_ignored() {
    let u1 = uo("u1", "", "", json!({"type": "verysecure"}));
    for (active, want) in [(false, &["extremelysecure"][..]), (true, &[])] {
        let s = set(vec![pol("extremelysecure", "authentication", "x").cond(
            c("userinfo", "type", "equals", "notverysecure").active(active),
        )]);
        assert_eq!(m(&s, q().user_object(&u1)), n(want), "active: {active}");
    }
}

#[test]
fn case_098_unknown_section_in_db() {
    let u1 = uo("u1", "", "", json!({"type": "x"}));
    let mk = |active| {
        set(vec![pol("p", "authentication", "x")
            .cond(c("somesection", "k", "equals", "v").active(active))])
    };
    assert_eq!(
        merr(&mk(true), q().user_object(&u1)).to_string(),
        "Invalid condition of policy 'p': ERR905: Unknown section 'somesection' set in condition."
    );
    expect(&mk(false), &[(q().user_object(&u1), &["p"])]);
    // with conditions skipped nothing is evaluated
    let skip = Query {
        conditions: ConditionCheck::Skip,
        ..Query::default()
    };
    expect(&mk(true), &[(skip, &["p"])]);
}

#[test]
fn case_099_unknown_key() {
    let u1 = uo("u1", "", "", json!({"type": "x"}));
    let s = set(vec![
        pol("p", "authentication", "x").cond(c("userinfo", "bla", "equals", "v"))
    ]);
    assert_eq!(
        merr(&s, q().user_object(&u1)).to_string(),
        "Unknown userinfo key 'bla' referenced in condition of policy 'p'!"
    );
}

fn token(fields: Value, info: Value) -> TokenData {
    TokenData {
        fields: fields.as_object().cloned().unwrap_or_default(),
        info: info.as_object().cloned().unwrap_or_default(),
    }
}

fn with_input(input: ConditionInput<'_>) -> Query<'_> {
    Query {
        input,
        ..Query::default()
    }
}

fn with_token(token: Option<&TokenData>) -> Query<'_> {
    with_input(ConditionInput {
        token,
        ..ConditionInput::default()
    })
}

#[test]
fn case_101_tokeninfo_condition() {
    let t = token(
        json!({"serial": "SPASS1", "tokentype": "spass"}),
        json!({"fixedpin": "true"}),
    );
    let mk = |active, h: Option<&str>| {
        set(vec![pol("setpin_pol", "user", "setpin").cond(
            c("tokeninfo", "fixedpin", "equals", "false")
                .active(active)
                .missing(h),
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
        let s = set(vec![pol("p", "user", "x").cond(c("token", key, cmp, val))]);
        s.match_policies(&with_token(Some(&t))).map(|v| v.len())
    };
    assert_eq!(run("tokentype", "equals", "hotp"), Ok(0));
    assert_eq!(run("tokentype", "equals", "Spass"), Ok(0));
    assert_eq!(run("count", "<", "100"), Ok(1));
    let t2 = token(json!({"count": 102}), json!({}));
    let s = set(vec![
        pol("p", "user", "x").cond(c("token", "count", "<", "100"))
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
        c("tokeninfo", "fixedpin", "equals", "false").missing(Some("raise_error")),
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
            let s = set(vec![pol("p", "user", "x")
                .cond(c("tokeninfo", "count_auth", cmp, right).missing(Some(h)))]);
            assert!(merr(&s, with_token(Some(&t)))
                .to_string()
                .starts_with("Invalid comparison"));
        }
    }
}

#[test]
fn case_105_userinfo_matches_and_missing_data() {
    let mk = |h: Option<&str>| {
        set(vec![pol("policy", "authentication", "x").cond(
            c("userinfo", "phone", "matches", r"\+49.*").missing(h),
        )])
    };
    let user = |login, phone| uo(login, "realm1", "resolver1", json!({ "phone": phone }));
    let cornelius = user("cornelius", "+491234567");
    let selfservice = user("selfservice", "0123");
    let empty = UserObject::default();
    let s = mk(None);
    expect(
        &s,
        &[
            (q().user_object(&cornelius), &["policy"]),
            (q().user_object(&selfservice), &[]),
        ],
    );
    assert!(s.match_policies(&q()).is_err());
    assert!(s.match_policies(&q().user_object(&empty)).is_err());
    for (h, want) in [
        ("condition_is_true", &["policy"][..]),
        ("condition_is_false", &[]),
    ] {
        let s = mk(Some(h));
        expect(&s, &[(q(), want), (q().user_object(&empty), want)]);
    }
}

fn with_http(h: &HttpData) -> Query<'_> {
    with_input(ConditionInput {
        http: Some(h),
        ..ConditionInput::default()
    })
}

#[test]
fn reads_http_counts_active_header_and_environment_conditions() {
    let cond = |name: &str, section: &str, active: bool| {
        pol(name, "admin", "x").cond(c(section, "User-Agent", "equals", "A").active(active))
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
    let header = |action, cmp, value, h| {
        set(vec![pol("policy", "authorization", action).cond(
            c("HTTP Request header", "User-Agent", cmp, value).missing(h),
        )])
    };
    let s = header("no_detail_on_success", "equals", "SpecialApp", None);
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
        let s = header("x", "equals", "SpecialApp", Some(h));
        assert_eq!(mq(&s, with_http(&none)).len(), expect);
    }
    let s = header("x", "contains", "Special", None);
    assert_eq!(
        merr(&s, with_http(&ua("SpecialApp"))).to_string(),
        "Invalid comparison in the HTTP Request header conditions of policy 'policy'"
    );
    let env = |m: &str| HttpData {
        environ: json!({"REQUEST_METHOD": m}).as_object().cloned().unwrap(),
        ..HttpData::default()
    };
    let environment = |key, value| {
        set(vec![pol("policy", "authorization", "x").cond(c(
            "HTTP Environment",
            key,
            "equals",
            value,
        ))])
    };
    let s = environment("REQUEST_METHOD", "POST");
    assert_eq!(mq(&s, with_http(&env("GET"))).len(), 0);
    assert_eq!(mq(&s, with_http(&env("POST"))).len(), 1);
    let s = environment("NON_EXISTING", "x");
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
    let s = set(vec![pol("p", "authorization", "x").cond(c(
        "HTTP Request header",
        "user-agent",
        "equals",
        "SpecialApp",
    ))]);
    assert_eq!(m(&s, with_http(&h)), n(&["p"]));
}

fn with_data(d: &Value) -> Query<'_> {
    with_input(ConditionInput {
        request_data: Some(d),
        ..ConditionInput::default()
    })
}

/// One policy with one active `Request Data` condition.
fn request_data_set(
    (name, scope, action): (&str, &str, &str),
    (key, cmp, value): (&str, &str, &str),
    h: Option<&str>,
) -> PolicySet {
    set(vec![
        pol(name, scope, action).cond(c("Request Data", key, cmp, value).missing(h))
    ])
}

#[test]
fn case_112_113_request_data() {
    let type_is = |v| c("Request Data", "type", "equals", v);
    let s = set(vec![
        pol("offline", "enrollment", "tokenlabel=pi_offline").cond(type_is("hotp")),
        pol("online", "enrollment", "tokenlabel=pi_online")
            .cond(type_is("totp").missing(Some("condition_is_false"))),
    ]);
    assert_eq!(m(&s, with_data(&json!({"type": "hotp"}))), n(&["offline"]));
    assert_eq!(m(&s, with_data(&json!({"type": "totp"}))), n(&["online"]));
    let is_false = Some("condition_is_false");
    let s = request_data_set(
        ("p", "admin", "container_create"),
        ("template_name", "matches", ".+"),
        is_false,
    );
    assert_eq!(mq(&s, with_data(&json!({"template_name": "t"}))).len(), 1);
    assert_eq!(mq(&s, with_data(&json!({}))).len(), 0);
    // pass/password are removed before matching
    let s = request_data_set(("p", "admin", "x"), ("pass", "equals", "secret"), is_false);
    assert_eq!(mq(&s, with_data(&json!({"pass": "secret"}))).len(), 0);
    // not a dict → unavailable
    let s = request_data_set(("p", "admin", "x"), ("a", "equals", "b"), None);
    assert_eq!(
        merr(&s, with_data(&json!(["a"]))).to_string(),
        "Policy 'p' has a condition on the section 'Request Data' with key 'a', but a Request Data is unavailable!"
    );
}

#[test]
fn case_v28_request_data_types() {
    let s = request_data_set(("p", "enrollment", "x"), ("genkey", "equals", "1"), None);
    assert_eq!(mq(&s, with_data(&json!({"genkey": 1}))).len(), 0);
    assert_eq!(mq(&s, with_data(&json!({"genkey": "1"}))).len(), 1);
}

#[test]
fn case_v29_first_false_condition_stops() {
    let s = set(vec![pol("p", "enrollment", "x")
        .cond(c("Request Data", "a", "equals", "x"))
        .cond(c("Request Data", "missing", "equals", "y"))]);
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
    let run = |s: &PolicySet, t: Option<(&TokenData, Option<&UserObject>, &[String])>| {
        matched(s.match_token(&cx, "enrollment", a, t))
    };
    assert_eq!(run(&s, Some((&no_user, None, &none))), n(&["no_condition"]));
    assert_eq!(
        run(&s, Some((&no_user, Some(&hans), &r4))),
        n(&["no_condition", "realm4", "hans", "resolver1"])
    );
    assert_eq!(
        run(&s, Some((&no_user, Some(&corny), &r4))),
        n(&["no_condition", "realm4", "resolver3"])
    );
    assert_eq!(run(&s, None), n(&["no_condition"]));
    let r41 = vec!["realm4".to_string(), "realm1".to_string()];
    let t_corny = token(
        json!({"serial": "C1", "realms": ["realm4", "realm1"]}),
        json!({}),
    );
    assert_eq!(
        run(&s, Some((&t_corny, Some(&corny), &r41))),
        n(&["no_condition", "realm4", "resolver3", "realm1"])
    );
    let s = set(vec![
        pol("no_condition", "enrollment", "change_pin_every"),
        pol("realm1", "enrollment", "change_pin_every")
            .realm("realm1")
            .cond(c("token", "realms", "!contains", "realm4")),
    ]);
    assert_eq!(
        run(&s, Some((&t_corny, Some(&corny), &r41))),
        n(&["no_condition"])
    );
}

// ---------- 5.6 Match / allowed / UI ----------

/// Case 057's pol2 to pol4 (pol4 granting auditlog too) and a user policy pol1.
fn set_115() -> PolicySet {
    let mut recs = recs_057();
    recs.truncate(5);
    recs[0] = pol("pol1", "user", "auditlog")
        .realm("realm1")
        .resolver("resolver1")
        .user("foobar")
        .client("0.0.0.0/0");
    recs[4].action = "enrollHOTP, disable , enable, auditlog".into();
    set(recs)
}

#[test]
fn case_115_match_action_only() {
    let s = set_115();
    let cx = mctx();
    let p = |a| matched(s.match_action_only(&cx, "authorization", a));
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
    let p = |a, r| matched(s.match_realm(&cx, "authorization", Some(a), r));
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
    let p = |u| matched(s.match_user(&cx, "user", Some("auditlog"), u));
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
    let su = login("superroot", "", "admin");
    cx.logged_in_user = Some(&su);
    let c2 = UserObject::new("cornelius", "realm2", "resolver1");
    let c1 = UserObject::new("cornelius", "realm1", "resolver1");
    let p = |u| matched(s.match_admin(&cx, Some("enable"), u, None, None));
    assert_eq!(p(None), n(&["pol4"]));
    assert_eq!(p(Some(&c2)), n(&["pol4"]));
    assert_eq!(p(Some(&c1)), n(&[]));
    let u = login("superroot", "", "user");
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
    let su = login("superroot", "", "admin");
    cx.logged_in_user = Some(&su);
    let p =
        |cx: &MatchContext, u| matched(s.match_admin_or_user(cx, Some("auditlog"), u, None, None));
    assert_eq!(p(&cx, None), n(&["pol4"]));
    assert_eq!(p(&cx, Some(&c2)), n(&["pol4"]));
    assert_eq!(p(&cx, Some(&c1)), n(&[]));
    let fb = login("foobar", "realm1", "user");
    cx.logged_in_user = Some(&fb);
    assert_eq!(p(&cx, None), n(&["pol1"]));
    assert_eq!(p(&cx, Some(&c2)), n(&[]));
    assert_eq!(p(&cx, Some(&c1)), n(&[]));
    let baz = login("baz", "asdf", "user");
    cx.logged_in_user = Some(&baz);
    assert_eq!(p(&cx, None), n(&[]));
    let st = login("baz", "asdf", "something");
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
    let a = login("admin", "", "admin");
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
    let lu = login(username, realm, role);
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
    let lu = login("admin", "", "admin");
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
    let admin = login("admin", "", "admin");
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
    assert!(m(&s, q().user("bob")).is_empty());
    assert_eq!(mq(&s, Query::default()).len(), 1);
}

#[test]
fn case_v02_negation_only_client() {
    let s = set(vec![pol("p", "webui", "x").client("-10.0.0.1")]);
    assert!(m(&s, q().client("10.0.0.2")).is_empty());
    assert!(m(&s, q().client("10.0.0.1")).is_empty());
}

#[test]
fn case_v03_invalid_regex_entry() {
    // Deviation: privacyIDEA raises re.error (HTTP 500); the entry matches only itself here.
    let s = set(vec![pol("p", "authorization", "x").user("*admin")]);
    assert!(m(&s, q().user("superadmin")).is_empty());
    expect(&s, &[(q().user("*admin"), &["p"])]);
    let ex = s.explain(&q().user("superadmin")).unwrap();
    assert_eq!(ex.policies[0].attribute, Some(Attribute::User));
    assert!(ex.policies[0].warnings[0].contains("not a valid regular expression"));
}

#[test]
fn case_v04_user_case_insensitive() {
    let s = set(vec![
        pol("uc", "authorization", "x").user("Alice"),
        pol("uci", "authorization", "x").user("Alice").uci(),
    ]);
    expect(
        &s,
        &[
            (q().user("alice"), &["uci"]),
            (q().user("Alice"), &["uc", "uci"]),
        ],
    );
}

#[test]
fn case_v05_realm_wildcards() {
    let s = set(vec![
        pol("rstar", "authorization", "x").realm("*"),
        pol("rneg", "authorization", "x").realm("*, !realm1"),
        pol("r1", "authorization", "x").realm("realm1"),
    ]);
    expect(
        &s,
        &[
            (q().realm(""), &["rneg", "rstar"]),
            (q().realm("realm1"), &["r1", "rstar"]),
            (q().realm("realm2"), &["rneg", "rstar"]),
            (q().realm("REALM1"), &["rneg", "rstar"]),
        ],
    );
}

#[test]
/// V6 as the released 3.14 decides it (release-differences.md (a)): the
/// exclusion counts, `resneg` does not match `resolver1`.
fn case_v06_resolver_exclusion_counts() {
    let s = set(vec![
        pol("resneg", "authorization", "x").resolver("*, !resolver1"),
        pol("resonly", "authorization", "x").resolver("resolver1"),
    ]);
    expect(
        &s,
        &[
            (q().resolver("resolver1"), &["resonly"]),
            (q().resolver("reso3"), &["resneg"]),
            (q().resolver(""), &["resneg"]),
        ],
    );
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
    expect(
        &s,
        &[
            (q().user_object(&c), &["car_r1"]),
            (q().resolver("resolver1"), &[]),
            (
                q().user("cornelius").realm("realm1"),
                &["car_empty", "car_r1"],
            ),
        ],
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
    let cornelius = q().user("cornelius").resolver("resolver1");
    expect(
        &s,
        &[
            // realm1 = [resolver1]: only the excluded resolver is there.
            (cornelius.realm("realm1"), &["car_not_reso3"]),
            // realm4 = [resolver1, reso3]: each policy admits one of them.
            (cornelius.realm("realm4"), &["car_not_r1", "car_not_reso3"]),
            // realm3 = [reso3].
            (cornelius.realm("realm3"), &["car_not_r1"]),
        ],
    );
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
    expect(&s, &[(q().user("bob"), &["u"]), (q().user("("), &[])]);
}

#[test]
fn case_v08_star_and_empty_actions() {
    let s = set(vec![
        pol("a_star", "admin", "*"),
        pol("a_star_neg", "admin", "*, -delete"),
        pol("a_enable", "admin", "enable"),
        pol("u_empty", "user", ""),
    ]);
    let admin = q().scope("admin");
    expect(
        &s,
        &[
            (admin.action("delete"), &["a_star"]),
            (
                admin.action("enable"),
                &["a_enable", "a_star", "a_star_neg"],
            ),
            (q().scope("user").action("enable"), &["u_empty"]),
        ],
    );
}

#[test]
fn case_v09_unique_multi_token() {
    let s = set(vec![
        pol("v1", "authentication", "challenge_response=hotp totp"),
        pol("v2", "authentication", "challenge_response=totp email").prio(2),
    ]);
    expect_values(
        &s,
        ("authentication", "challenge_response"),
        &[
            (
                false,
                false,
                Ok(json!({"hotp": ["v1"], "totp": ["v1", "v2"], "email": ["v2"]})),
            ),
            (
                true,
                false,
                Err("There are policies with conflicting actions: ['v1']"),
            ),
        ],
    );
}

#[test]
fn case_v10_quoted_values() {
    let s = set(vec![
        pol("v3", "authentication", "challenge_text='hello world'"),
        pol("v4", "authentication", "challenge_text=hello world").prio(2),
    ]);
    expect_values(
        &s,
        ("authentication", "challenge_text"),
        &[
            (
                false,
                false,
                Ok(json!({"hello world": ["v3"], "hello": ["v4"], "world": ["v4"]})),
            ),
            (false, true, Ok(json!({"hello world": ["v3", "v4"]}))),
            (true, true, Ok(json!({"hello world": ["v3"]}))),
        ],
    );
}

#[test]
fn case_v11_conflicts() {
    let s = set(vec![
        pol("c1", "authentication", "otppin=userstore"),
        pol("c2", "authentication", "otppin=none"),
    ]);
    expect_values(
        &s,
        ("authentication", "otppin"),
        &[
            (
                true,
                false,
                Err("There are policies with conflicting actions: ['c1', 'c2']"),
            ),
            (
                false,
                false,
                Ok(json!({"userstore": ["c1"], "none": ["c2"]})),
            ),
        ],
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
    assert_eq!(mq(&s, q().time(at(2024, 7, 1, 18, 0))), vec!["p"]);
    assert!(mq(&s, q().time(at(2024, 7, 1, 18, 1))).is_empty());
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
        expect(&s, &[(q().scope("admin").action(a), &["empty"])]);
    }
}

#[test]
fn quirk_q2_check_all_resolvers_without_resolvers_is_dropped() {
    let s = set(vec![pol("p", "admin", "enable").car()]);
    let q = q().user("hans").realm("realm1").resolver("resolver1");
    assert!(m(&s, q).is_empty());
    let without_resolver = Query {
        resolver: None,
        ..q
    };
    expect(&s, &[(without_resolver, &["p"])]);
}

#[test]
fn quirk_q3_resolver_exclusions_count_in_the_release() {
    let s = set(vec![
        pol("p", "admin", "enable").resolver("*, !resolver1, -resolver1"),
        pol("dash", "admin", "enable").resolver("*, -resolver2"),
    ]);
    expect(
        &s,
        &[
            (q().resolver("resolver1"), &["dash"]),
            (q().resolver("resolver2"), &["p"]),
            (q().resolver("resolver3"), &["dash", "p"]),
        ],
    );
}

#[test]
fn quirk_q4_negation_only_lists_match_nobody() {
    let s = set(vec![
        pol("u", "admin", "enable").user("!alice"),
        pol("r", "admin", "enable").realm("-realm1"),
        pol("a", "admin", "-enable"),
        pol("c", "admin", "enable").client("!10.0.0.1"),
    ]);
    for (query, negated) in [
        (q().user("bob"), "u"),
        (q().realm("realm2"), "r"),
        (q().action("disable"), "a"),
        (q().client("10.0.0.2"), "c"),
    ] {
        assert!(m(&s, query).iter().all(|x| x != negated), "{negated}");
    }
}

#[test]
fn quirk_q5_entries_are_full_match_regexes() {
    let s = set(vec![
        pol("cust", "admin", "enable").user("customer_.*"),
        pol("dot", "admin", "enable").user("a.b"),
        pol("lit", "admin", "enable").user("user1"),
    ]);
    expect(
        &s,
        &[
            (q().user("customer_12"), &["cust"]),
            (q().user("xcustomer_12"), &[]),
            (q().user("axb"), &["dot"]),
            (q().user("user1234"), &[]),
            (q().user("user1"), &["lit"]),
        ],
    );
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
    assert_eq!(mq(&s, q().client("10.1.1.1")), vec!["client", "noclient"]);
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
    let query = q()
        .scope("admin")
        .action("enable")
        .realm("realm2")
        .user("bob");
    let ex = s.explain(&query).unwrap();
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
        pol("p", "user", "enable").cond(c("token", "x", "equals", "y"))
    ]);
    let only = [Section::UserInfo];
    let userinfo_only = Query {
        conditions: ConditionCheck::Sections(&only),
        ..Query::default()
    };
    assert_eq!(mq(&s, userinfo_only).len(), 1);
    assert!(s.match_policies(&Query::default()).is_err());
}

#[test]
fn invalid_client_query() {
    let s = set(vec![
        pol("p", "admin", "x").client("10.0.0.0/8"),
        pol("q", "admin", "x"),
    ]);
    let nonsense = q().client("nonsense");
    assert!(matches!(merr(&s, nonsense), MatchError::InvalidClientIp(_)));
    let s = set(vec![pol("q", "admin", "x")]);
    assert_eq!(mq(&s, nonsense), vec!["q"]);
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
        let authz = q().scope("authorization");
        expect(
            &s,
            &[
                (authz.user("u11"), &["re", "lit"]),
                (authz.user("u21"), &["re"]),
                (authz.user("*admin"), &["re"]),
                (authz.user("superadmin"), &[]),
            ],
        );
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
    let bare = q().scope("authorization").action("x");
    let base = bare
        .realm("realm1")
        .user("alice")
        .resolver("resolver2")
        .pinode("n2")
        .user_agent("other");
    expect(
        &s,
        &[
            (base, &["plain", "star", "star_user"]),
            (base.additional_realms(&extra), &["plain", "star"]),
        ],
    );
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
    let check =
        |s: &PolicySet, rebuilt: &PolicySet| same_decisions(s, rebuilt, queries.iter().copied());
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
        let insert = edit_records(&mut recs, remove_at, insert_at.map(|at| (at, rec)));
        for s in sets.iter_mut() {
            *s = s.edited(remove_at, insert.clone(), &mut cache).unwrap();
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
        queries(&mut |q| same_decisions(s, rebuilt, [q]));
    };
    let s = set(recs.clone());
    check(&s, &s);
    // 24 global `superroot` policies and 6 more with other admin users'
    // literal lists are candidates of a plain `adm3` query no more.
    let q = q()
        .scope("admin")
        .action("setpin")
        .realm("r9")
        .adminuser("adm3");
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
        let insert = edit_records(&mut recs, remove_at, insert);
        s = s.edited(remove_at, insert, &mut cache).unwrap();
        check(&s, &set(recs.clone()));
    }
}
