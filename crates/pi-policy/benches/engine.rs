//! Policy engine benchmarks: decisions per second for realistic policy mixes
//! of 10, 1k, 10k and 100k policies, the linear-scan baseline, and build time.
//!
//! Run: `cargo bench -p pi-policy --bench engine -- --warm-up-time 1 --measurement-time 3`

use chrono::NaiveDate;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pi_policy::pi_model::defs::policy_defs;
use pi_policy::pi_model::record::{ConditionRecord, PolicyRecord};
use pi_policy::{BuildContext, ConditionInput, HttpData, PolicySet, Query};
use std::collections::HashMap;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const SCOPES: &[(&str, u64)] = &[
    ("admin", 40),
    ("user", 15),
    ("authentication", 20),
    ("authorization", 10),
    ("enrollment", 10),
    ("webui", 5),
];

fn actions_of(scope: &str) -> Vec<String> {
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
fn mix(n: usize, seed: u64) -> Vec<PolicyRecord> {
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

struct Q {
    scope: &'static str,
    action: String,
    realm: String,
    user: String,
    adminuser: Option<String>,
    client: String,
}

fn queries(n: usize, seed: u64) -> Vec<Q> {
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

fn ctx() -> BuildContext {
    BuildContext {
        realm_resolvers: HashMap::new(),
        local_node: "localnode".into(),
    }
}

fn bench(c: &mut Criterion) {
    let http = HttpData {
        headers: vec![("X-Env".into(), "prod".into())],
        ..HttpData::default()
    };
    let t = NaiveDate::from_ymd_opt(2024, 7, 1).and_then(|d| d.and_hms_opt(10, 0, 0));
    let mut g = c.benchmark_group("decision");
    g.throughput(Throughput::Elements(1));
    for &n in &[10usize, 1_000, 10_000, 100_000] {
        let set = PolicySet::from_records(&mix(n, 0x5eed), ctx());
        let qs = queries(n, 0xbeef);
        fn mk(q: &Q, t: Option<chrono::NaiveDateTime>) -> Query<'_> {
            Query {
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
                ..Query::default()
            }
        }
        let mut i = 0usize;
        g.bench_with_input(BenchmarkId::new("indexed", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) % qs.len();
                let mut q = mk(&qs[i], t);
                q.input = ConditionInput {
                    http: Some(&http),
                    ..ConditionInput::default()
                };
                let res = set.match_policies(black_box(&q));
                black_box(
                    res.map(|v| !v.is_empty() || !set.has_active_policies(q.scope))
                        .ok(),
                )
            })
        });
        let mut i = 0usize;
        g.bench_with_input(BenchmarkId::new("linear", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) % qs.len();
                let mut q = mk(&qs[i], t);
                q.input = ConditionInput {
                    http: Some(&http),
                    ..ConditionInput::default()
                };
                let res = set.linear_match_policies(black_box(&q));
                black_box(
                    res.map(|v| !v.is_empty() || !set.has_active_policies(q.scope))
                        .ok(),
                )
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("build");
    for &n in &[1_000usize, 10_000] {
        let recs = mix(n, 0x5eed);
        g.bench_with_input(BenchmarkId::new("from_records", n), &n, |b, _| {
            b.iter(|| black_box(PolicySet::from_records(black_box(&recs), ctx())).len())
        });
        g.bench_with_input(BenchmarkId::new("parse_only", n), &n, |b, _| {
            b.iter(|| {
                black_box(
                    recs.iter()
                        .map(pi_policy::pi_model::Policy::from_record)
                        .collect::<Vec<_>>(),
                )
                .len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
