//! Policy engine benchmarks: decisions per second for realistic policy mixes
//! of 10, 1k, 10k and 100k policies, the linear-scan baseline, and build time.
//!
//! Run: `cargo bench -p pi-policy --bench engine -- --warm-up-time 1 --measurement-time 3`

use chrono::NaiveDate;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pi_policy::{BuildContext, ConditionInput, HttpData, PolicySet};
use std::collections::HashMap;

#[path = "support/mix.rs"]
#[allow(dead_code)]
mod mix;
use mix::{mix, queries};

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
        let mut i = 0usize;
        g.bench_with_input(BenchmarkId::new("indexed", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) % qs.len();
                let mut q = mix::query(&qs[i], t);
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
        // The same decision as `Match::allowed` takes it: no result list.
        let mut i = 0usize;
        g.bench_with_input(BenchmarkId::new("allowed", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) % qs.len();
                let mut q = mix::query(&qs[i], t);
                q.input = ConditionInput {
                    http: Some(&http),
                    ..ConditionInput::default()
                };
                black_box(set.allowed(black_box(&q)).ok())
            })
        });
        let mut i = 0usize;
        g.bench_with_input(BenchmarkId::new("linear", n), &n, |b, _| {
            b.iter(|| {
                i = (i + 1) % qs.len();
                let mut q = mix::query(&qs[i], t);
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

    let mut g = c.benchmark_group("edit");
    for &n in &[10_000usize, 100_000] {
        let recs = mix(n, 0x5eed);
        let set = PolicySet::from_records(&recs, ctx());
        let mut cache = pi_policy::RegexCache::new();
        // A tenant policy changed in place (new action list, other realm),
        // as `POST /policy/<name>` does; and a policy with a `*` action,
        // which is in every action bucket of its scope.
        let at = n / 2;
        let mut changed = recs[at].clone();
        changed.action = "enable, disable".into();
        changed.realm = "realm7".into();
        let changed = pi_policy::pi_model::Policy::from_record(&changed);
        let wild_at = recs
            .iter()
            .position(|r| r.action == "*" && r.scope == "admin")
            .unwrap_or(0);
        let mut wild = recs[wild_at].clone();
        wild.realm = "realm8".into();
        let wild = pi_policy::pi_model::Policy::from_record(&wild);
        for (name, at, policy) in [("one_policy", at, changed), ("wild_policy", wild_at, wild)] {
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    black_box(set.edited(Some(at), Some((at, policy.clone())), &mut cache))
                        .map(|s| s.len())
                })
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("build");
    g.sample_size(10);
    for &n in &[1_000usize, 10_000, 100_000] {
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
