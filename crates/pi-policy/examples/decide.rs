//! A fixed number of decisions over the benchmark's policy mix and queries
//! (`benches/support/mix.rs`), for counting cycles per decision with
//! `perf stat` on a machine too busy for wall-clock benchmarks:
//!
//! ```text
//! cargo build --release -p pi-policy --example decide
//! perf stat -e cycles:u,instructions:u target/release/examples/decide 10000 0
//! perf stat -e cycles:u,instructions:u target/release/examples/decide 10000 2000000
//! # (difference of the two) / 2,000,000 = cycles per decision
//! # a third argument `allowed` decides with `PolicySet::allowed` (no result list)
//! ```
//!
//! `cycles:u` counts only the cycles this process ran in user mode, so time
//! spent waiting for a core does not count (cache pollution by other
//! processes still does).

use pi_policy::{BuildContext, ConditionInput, HttpData, PolicySet};
use std::collections::HashMap;

#[path = "../benches/support/mix.rs"]
#[allow(dead_code)]
mod mix;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let iterations: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    // `allowed`: the decision as `Match::allowed` takes it
    // (`PolicySet::allowed`, no result list); default: `match_policies`.
    let allowed_form = args.next().as_deref() == Some("allowed");
    let ctx = BuildContext {
        realm_resolvers: HashMap::new(),
        local_node: "localnode".into(),
    };
    let set = PolicySet::from_records(&mix::mix(n, 0x5eed), ctx);
    let qs = mix::queries(n, 0xbeef);
    let http = HttpData {
        headers: vec![("X-Env".into(), "prod".into())],
        ..HttpData::default()
    };
    let t = chrono::NaiveDate::from_ymd_opt(2024, 7, 1).and_then(|d| d.and_hms_opt(10, 0, 0));
    let mut allowed = 0usize;
    for i in 0..iterations {
        let Some(q) = qs.get(i % qs.len()) else {
            continue;
        };
        let mut query = mix::query(q, t);
        query.input = ConditionInput {
            http: Some(&http),
            ..ConditionInput::default()
        };
        let ok = if allowed_form {
            set.allowed(std::hint::black_box(&query)).unwrap_or(false)
        } else {
            let res = set.match_policies(std::hint::black_box(&query));
            res.is_ok_and(|v| !v.is_empty() || !set.has_active_policies(query.scope))
        };
        if ok {
            allowed += 1;
        }
    }
    println!("{n} policies, {iterations} decisions, {allowed} allowed");
}
