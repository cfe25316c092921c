//! Property: the indexed query gives exactly the result of the linear scan.

use chrono::NaiveDate;
use pi_policy::pi_model::record::PolicyRecord;
use pi_policy::{BuildContext, PolicySet, Query};
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::HashMap;

fn list(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(select(pool), 0..3).prop_map(|v| v.join(", "))
}

const SCOPES: &[&str] = &["admin", "user", "authentication"];
const ACTIONS: &[&str] = &[
    "enable",
    "disable",
    "delete",
    "*",
    "-enable",
    "!disable",
    "en.*",
    "pw.length",
    "otppin=none",
    "otppin=userstore",
    "-otppin=2",
    "*x",
];
const REALMS: &[&str] = &["realm1", "realm2", "*", "!realm1", "r.*", ""];
const USERS: &[&str] = &["alice", "bob", "Alice", "*", "-bob", "a.*", "*x", "!alice"];
const RESOLVERS: &[&str] = &["res1", "res2", "*", "!res1"];
const NODES: &[&str] = &["n1", "n2"];
const UAS: &[&str] = &["PAM", "privacyidea-cp"];
const CLIENTS: &[&str] = &["10.0.0.0/8", "-10.0.0.1", "192.168.0.0/16", "!192.168.1.1"];
const TIMES: &[&str] = &["", "", "Mon-Fri: 9-18", "Sat: 0-23:59", "bad"];

fn policy() -> impl Strategy<Value = PolicyRecord> {
    (
        (
            select(SCOPES),
            prop::collection::vec(select(ACTIONS), 0..3),
            list(REALMS),
            list(USERS),
        ),
        (list(RESOLVERS), list(USERS), list(REALMS), list(NODES)),
        (list(UAS), list(CLIENTS), select(TIMES), 1i64..4),
        (any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(
                (scope, actions, realm, user),
                (resolver, adminuser, adminrealm, pinode),
                (ua, client, time, prio),
                (active, car, uci),
            )| {
                PolicyRecord {
                    scope: scope.into(),
                    action: actions.join(", "),
                    realm,
                    user,
                    resolver,
                    adminuser,
                    adminrealm,
                    pinode,
                    user_agents: ua,
                    client,
                    time: time.into(),
                    priority: prio,
                    active: active || prio == 1,
                    check_all_resolvers: car,
                    user_case_insensitive: uci,
                    ..PolicyRecord::default()
                }
            },
        )
}

#[derive(Debug, Clone)]
struct Q {
    name: Option<String>,
    scope: Option<&'static str>,
    action: Option<&'static str>,
    user: Option<&'static str>,
    realm: Option<&'static str>,
    resolver: Option<&'static str>,
    adminuser: Option<&'static str>,
    adminrealm: Option<&'static str>,
    client: Option<&'static str>,
    pinode: Option<&'static str>,
    ua: Option<&'static str>,
    extra: Option<Vec<String>>,
    active: Option<bool>,
    time: bool,
}

impl Q {
    /// The query, at 2024-07-01 10:00 when it has a time.
    fn query(&self) -> Query<'_> {
        let t = NaiveDate::from_ymd_opt(2024, 7, 1).and_then(|d| d.and_hms_opt(10, 0, 0));
        Query {
            name: self.name.as_deref(),
            scope: self.scope,
            action: self.action,
            user: self.user,
            realm: self.realm,
            resolver: self.resolver,
            adminuser: self.adminuser,
            adminrealm: self.adminrealm,
            client: self.client,
            pinode: self.pinode,
            user_agent: self.ua,
            additional_realms: self.extra.as_deref(),
            active: self.active,
            time: t.filter(|_| self.time),
            ..Query::default()
        }
    }
}

fn query(n: usize) -> impl Strategy<Value = Q> {
    let o = |pool: &'static [&'static str]| prop::option::of(select(pool));
    (
        (
            prop::option::weighted(0.1, 0..n.max(1)),
            o(SCOPES),
            o(&[
                "enable",
                "disable",
                "delete",
                "",
                "en",
                "enable\n",
                "pw.length",
                "pwXlength",
                "otppin",
                "*x",
                "-enable",
            ]),
            o(&["alice", "bob", "ALICE", "", "carl", "alice\n"]),
        ),
        (
            o(&["realm1", "realm2", "", "REALM1", "realm1\n"]),
            o(&["res1", "res2", ""]),
            o(&["alice", "bob", "", "bob\n"]),
            o(&["realm1", "realm2", "", "realm2\n"]),
        ),
        (
            o(&["10.0.0.1", "10.1.1.1", "192.168.1.1", "192.168.2.2", "::1"]),
            o(NODES),
            o(&["PAM", "pam", "privacyidea-cp", ""]),
            prop::option::weighted(
                0.2,
                prop::collection::vec(select(&["realm1", "realm2", "realm3"][..]), 0..3),
            ),
            prop::option::of(any::<bool>()),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (name, scope, action, user),
                (realm, resolver, adminuser, adminrealm),
                (client, pinode, ua, extra, active, time),
            )| Q {
                name: name.map(|i| format!("p{i}")),
                scope,
                action,
                user,
                realm,
                resolver,
                adminuser,
                adminrealm,
                client,
                pinode,
                ua,
                extra: extra.map(|v| v.into_iter().map(str::to_string).collect()),
                active,
                time,
            },
        )
}

fn ctx() -> BuildContext {
    let mut rr = HashMap::new();
    rr.insert("realm1".to_string(), vec!["res1".to_string()]);
    rr.insert(
        "realm2".to_string(),
        vec!["res2".to_string(), "res1".to_string()],
    );
    BuildContext {
        realm_resolvers: rr,
        local_node: "n1".into(),
    }
}

/// The policy set of `recs`, named `p0`, `p1`, … in order.
fn named_set(recs: Vec<PolicyRecord>) -> PolicySet {
    let recs: Vec<PolicyRecord> = recs
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            r.name = format!("p{i}");
            r
        })
        .collect();
    PolicySet::from_records(&recs, ctx())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn index_equals_linear_scan(
        recs in prop::collection::vec(policy(), 0..40),
        queries in prop::collection::vec(query(40), 1..8),
    ) {
        let set = named_set(recs);
        for q in &queries {
            let query = q.query();
            let a = names_of(set.match_policies(&query));
            let b = names_of(set.linear_match_policies(&query));
            prop_assert_eq!(&a, &b);
            // any_match (Match::any, without the list) agrees, errors included
            prop_assert_eq!(
                set.any_match(&query).map_err(|e| e.to_string()),
                a.as_ref().map(|v| !v.is_empty()).map_err(|e| e.to_string())
            );
            // explain agrees with the match result
            if let (Ok(names), Ok(ex)) = (&a, set.explain(&query)) {
                if query.scope.is_some() {
                    prop_assert_eq!(names, &ex.matched);
                }
            }
        }
    }
}

/// Many distinct literal values per attribute, so that buckets use the
/// hashed value tables (not only their short-list form) and wild policies
/// are merged into many action buckets.
fn numbered(prefix: &'static str, n: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::collection::vec(0..n, 1..3).prop_map(move |v| v
            .iter()
            .map(|k| format!("{prefix}{k}"))
            .collect::<Vec<_>>()
            .join(", ")),
        2 => Just(String::new()),
        1 => Just("*".to_string()),
        1 => (0..n).prop_map(move |k| format!("*, !{prefix}{k}")),
    ]
}

fn many_policy() -> impl Strategy<Value = PolicyRecord> {
    (
        select(SCOPES),
        prop_oneof![
            8 => prop::collection::vec(0..30usize, 1..4)
                .prop_map(|v| v.iter().map(|k| format!("a{k}")).collect::<Vec<_>>().join(", ")),
            1 => Just("*".to_string()),
            1 => Just("a1.*".to_string()),
            1 => Just(String::new()),
        ],
        numbered("realm", 60),
        numbered("u", 60),
        numbered("admin", 20),
        1i64..4,
    )
        .prop_map(
            |(scope, action, realm, user, adminuser, priority)| PolicyRecord {
                scope: scope.into(),
                action,
                realm,
                user,
                adminuser,
                priority,
                active: true,
                ..PolicyRecord::default()
            },
        )
}

/// The values of a query on [`many_policy`]'s policies, by number:
/// `a{a}`, `realm{r}`, `u{u}` and `admin{au}` (action and user with `nl` after).
struct ManyValues {
    action: String,
    realm: String,
    user: String,
    adminuser: String,
}

impl ManyValues {
    fn new((a, r, u, au): (usize, usize, usize, usize), nl: &str) -> Self {
        ManyValues {
            action: format!("a{a}{nl}"),
            realm: format!("realm{r}"),
            user: format!("u{u}{nl}"),
            adminuser: format!("admin{au}"),
        }
    }

    fn query<'a>(&'a self, scope: &'a str) -> Query<'a> {
        Query {
            scope: Some(scope),
            action: Some(&self.action),
            realm: Some(&self.realm),
            user: Some(&self.user),
            adminuser: Some(&self.adminuser),
            ..Query::default()
        }
    }
}

/// The names of the matched policies.
fn names_of(
    v: Result<Vec<&pi_policy::pi_model::Policy>, pi_policy::MatchError>,
) -> Result<Vec<String>, pi_policy::MatchError> {
    v.map(|v| v.iter().map(|p| p.name().to_string()).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]
    #[test]
    fn index_equals_linear_scan_many_values(
        recs in prop::collection::vec(many_policy(), 20..300),
        queries in prop::collection::vec(
            (select(SCOPES), 0..32usize, 0..62usize, 0..62usize, 0..22usize, any::<bool>()),
            1..16,
        ),
    ) {
        let set = named_set(recs);
        for &(scope, a, r, u, au, newline) in &queries {
            let nl = if newline { "\n" } else { "" };
            let values = ManyValues::new((a, r, u, au), nl);
            let query = values.query(scope);
            let a = names_of(set.match_policies(&query));
            let b = names_of(set.linear_match_policies(&query));
            prop_assert_eq!(a, b);
        }
    }
}

/// One edit: remove the policy at a position (modulo the length) and/or
/// insert a new one at a position (modulo the length + 1).
fn edit() -> impl Strategy<Value = (Option<usize>, Option<(usize, PolicyRecord)>)> {
    prop_oneof![
        // change in place (same position), as a policy update mostly is
        (0..1000usize, policy()).prop_map(|(i, p)| (Some(i), Some((i, p)))),
        // move: remove here, insert there
        (0..1000usize, 0..1000usize, many_policy()).prop_map(|(i, j, p)| (Some(i), Some((j, p)))),
        (0..1000usize, policy()).prop_map(|(j, p)| (None, Some((j, p)))),
        (0..1000usize).prop_map(|i| (Some(i), None)),
    ]
}

fn names(
    v: Result<Vec<&pi_policy::pi_model::Policy>, pi_policy::MatchError>,
) -> Result<Vec<String>, String> {
    names_of(v).map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]
    /// A set changed one policy at a time (`PolicySet::edited`) decides like
    /// a set built from the resulting list, and like its linear scan.
    #[test]
    fn edited_set_equals_rebuilt_set(
        recs in prop::collection::vec(prop_oneof![policy(), many_policy()], 0..60),
        edits in prop::collection::vec(edit(), 1..12),
        queries in prop::collection::vec(query(80), 1..10),
        many in prop::collection::vec(
            (select(SCOPES), 0..32usize, 0..62usize, 0..62usize, 0..22usize),
            1..8,
        ),
    ) {
        let mut list: Vec<PolicyRecord> = recs;
        let mut counter = 0;
        let mut name = |mut r: PolicyRecord| {
            r.name = format!("p{counter}");
            counter += 1;
            r
        };
        list = list.into_iter().map(&mut name).collect();
        let mut set = PolicySet::from_records(&list, ctx());
        let mut cache = pi_policy::RegexCache::new();
        for (rm, ins) in edits {
            let rm = if list.is_empty() { None } else { rm.map(|i| i % list.len()) };
            if let Some(i) = rm {
                list.remove(i);
            }
            let ins = ins.map(|(j, r)| (j % (list.len() + 1), name(r)));
            if let Some((j, r)) = &ins {
                list.insert(*j, r.clone());
            }
            set = set
                .edited(rm, ins.map(|(j, r)| (j, pi_policy::pi_model::Policy::from_record(&r))), &mut cache)
                .expect("positions in range");
        }
        let fresh = PolicySet::from_records(&list, ctx());
        prop_assert_eq!(set.len(), list.len());
        let order: Vec<&str> = set.policies().map(|p| p.name()).collect();
        let expected: Vec<&str> = list.iter().map(|r| r.name.as_str()).collect();
        prop_assert_eq!(order, expected);
        for q in &queries {
            let query = q.query();
            let a = names(set.match_policies(&query));
            prop_assert_eq!(&a, &names(fresh.match_policies(&query)));
            prop_assert_eq!(&a, &names(set.linear_match_policies(&query)));
            prop_assert_eq!(set.has_active_policies(q.scope), fresh.has_active_policies(q.scope));
        }
        for &(scope, a, r, u, au) in &many {
            let values = ManyValues::new((a, r, u, au), "");
            let query = values.query(scope);
            let a = names(set.match_policies(&query));
            prop_assert_eq!(&a, &names(fresh.match_policies(&query)));
            prop_assert_eq!(&a, &names(set.linear_match_policies(&query)));
        }
    }
}
