//! The benchmark's deterministic policy mix, shared by `benches/engine.rs`
//! and `examples/memory.rs` (included with `#[path]`).

use pi_policy::pi_model::defs::policy_defs;
use pi_policy::pi_model::record::{ConditionRecord, PolicyRecord};
use std::collections::HashMap;

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

pub const SCOPES: &[(&str, u64)] = &[
    ("admin", 40),
    ("user", 15),
    ("authentication", 20),
    ("authorization", 10),
    ("enrollment", 10),
    ("webui", 5),
];

pub fn actions_of(scope: &str) -> Vec<String> {
    policy_defs()
        .scope(scope)
        .map(|s| s.names().map(str::to_string).collect())
        .unwrap_or_default()
}

/// A realistic multi-tenant mix: one realm per 20 policies ("tenants");
/// a small number of global policies (no realm, some with `*` actions);
/// tenant policies restricted to their realm, admin policies to the tenant's
/// admins; some user, regex, negation, wildcard-action, client, resolver,
/// time and condition restrictions.
pub fn mix(n: usize, seed: u64) -> Vec<PolicyRecord> {
    let mut r = Rng(seed);
    let tenants = (n / 20).max(3);
    let globals = n.min(20 + n / 500);
    let acts: HashMap<&str, Vec<String>> =
        SCOPES.iter().map(|(s, _)| (*s, actions_of(s))).collect();
    (0..n)
        .map(|i| {
            let mut roll = r.below(100) as u64;
            let scope = SCOPES
                .iter()
                .find(|(_, w)| {
                    if roll < *w {
                        true
                    } else {
                        roll -= w;
                        false
                    }
                })
                .map(|(s, _)| *s)
                .unwrap_or("admin");
            let names = &acts[scope];
            let global = i < globals;
            let t = r.below(tenants);
            let action = if r.chance(1) || (global && r.chance(20)) {
                "*".to_string()
            } else if r.chance(1) {
                format!("*, -{}", names[r.below(names.len())])
            } else if scope == "user" && r.chance(3) {
                String::new()
            } else if r.chance(1) {
                "enroll.*".to_string()
            } else {
                let k = 1 + r.below(4);
                (0..k)
                    .map(|_| {
                        let a = &names[r.below(names.len())];
                        if r.chance(30) {
                            format!("{a}={}", r.below(10))
                        } else {
                            a.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let realm = if global {
                if r.chance(50) {
                    "*".to_string()
                } else {
                    String::new()
                }
            } else if r.chance(90) {
                format!("realm{t}")
            } else {
                format!("realm{t}, realm{}", r.below(tenants))
            };
            let user = if global {
                String::new()
            } else if r.chance(20) {
                format!("user{t}_{}", r.below(50))
            } else if r.chance(3) {
                "svc_.*".into()
            } else if r.chance(2) {
                format!("*, !user{t}_{}", r.below(50))
            } else {
                String::new()
            };
            let adminuser = if scope != "admin" {
                String::new()
            } else if global {
                "superroot".into()
            } else if r.chance(70) {
                format!("admin{t}, helpdesk{t}")
            } else {
                String::new()
            };
            let client = if r.chance(15) {
                let k = r.below(200);
                if r.chance(20) {
                    format!("10.{k}.0.0/16, -10.{k}.1.1")
                } else {
                    format!("10.{k}.0.0/16")
                }
            } else {
                String::new()
            };
            let resolver = if r.chance(10) {
                format!("resolver{}", r.below(5))
            } else {
                String::new()
            };
            let time = if r.chance(2) {
                "Mon-Fri: 7-19".to_string()
            } else {
                String::new()
            };
            let conditions = if r.chance(2) {
                vec![ConditionRecord {
                    section: "HTTP Request header".into(),
                    key: "X-Env".into(),
                    comparator: "equals".into(),
                    value: "prod".into(),
                    active: true,
                    handle_missing_data: Some("condition_is_false".into()),
                }]
            } else {
                Vec::new()
            };
            PolicyRecord {
                id: i as i64 + 1,
                name: format!("pol{i}"),
                scope: scope.into(),
                active: !r.chance(5),
                action,
                realm,
                adminuser,
                user,
                resolver,
                client,
                time,
                priority: 1 + r.below(5) as i64,
                conditions,
                ..PolicyRecord::default()
            }
        })
        .collect()
}

pub struct Q {
    pub scope: &'static str,
    pub action: String,
    pub realm: String,
    pub user: String,
    pub adminuser: Option<String>,
    pub client: String,
}

pub fn queries(n: usize, seed: u64) -> Vec<Q> {
    let mut r = Rng(seed);
    let tenants = (n / 20).max(3);
    (0..64)
        .map(|_| {
            let (scope, _) = SCOPES[r.below(SCOPES.len())];
            let names = actions_of(scope);
            let t = r.below(tenants);
            Q {
                scope,
                action: names[r.below(names.len())].clone(),
                realm: format!("realm{t}"),
                user: format!("user{t}_{}", r.below(50)),
                adminuser: (scope == "admin").then(|| format!("admin{t}")),
                client: format!("10.{}.2.3", r.below(200)),
            }
        })
        .collect()
}

/// The benchmark's query for `q` at time `t` (conditions input left empty).
pub fn query(q: &Q, t: Option<chrono::NaiveDateTime>) -> pi_policy::Query<'_> {
    pi_policy::Query {
        scope: Some(q.scope),
        action: Some(&q.action),
        active: Some(true),
        realm: Some(&q.realm),
        user: Some(&q.user),
        resolver: Some("resolver1"),
        adminuser: q.adminuser.as_deref(),
        adminrealm: q.adminuser.as_ref().map(|_| ""),
        client: Some(&q.client),
        pinode: Some("localnode"),
        user_agent: Some(""),
        time: t,
        ..pi_policy::Query::default()
    }
}
