//! Resident memory and build time of a policy set built from the benchmark's
//! policy mix (`benches/support/mix.rs`).
//!
//! ```text
//! cargo run --release -p pi-policy --example memory -- [N=100000]
//! ```
//!
//! Prints the process RSS (from `/proc/self/statm`) before and after
//! building (MiB, 2^20 bytes; the set's also in decimal MB, 10^6 bytes),
//! the difference per policy, and how long the build took. The
//! records themselves are generated (and their memory counted) before the
//! first reading, so the difference is what the engine holds. Then the CPU
//! time of `PolicySet::edited` for one changed policy.

use pi_policy::{BuildContext, PolicySet};
use std::collections::HashMap;
use std::time::Instant;

#[path = "../benches/support/mix.rs"]
#[allow(dead_code)]
mod mix;

/// Resident set size in bytes (Linux), `None` elsewhere.
fn rss() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // The page size is 4 KiB on every Linux target this project builds for.
    Some(pages * 4096)
}

/// CPU time this thread has run, in nanoseconds (`/proc/thread-self/schedstat`):
/// unlike wall time, it does not count the time spent waiting for a core on
/// a busy machine.
fn cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Bytes in MiB (2^20 bytes).
fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// Bytes in decimal megabytes (10^6 bytes).
fn mb(b: u64) -> f64 {
    b as f64 / 1e6
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let records = mix::mix(n, 0x5eed);
    let ctx = BuildContext {
        realm_resolvers: HashMap::new(),
        local_node: "localnode".into(),
    };
    let before = rss().unwrap_or(0);
    let started = Instant::now();
    let cpu_before = cpu_ns().unwrap_or(0);
    let set = PolicySet::from_records(&records, ctx);
    let took = started.elapsed();
    let cpu = cpu_ns().unwrap_or(0).saturating_sub(cpu_before) / 1_000_000;
    let after = rss().unwrap_or(0);
    let delta = after.saturating_sub(before);
    println!("policies:        {}", set.len());
    println!(
        "build:           {:.1} ms wall, {cpu} ms CPU",
        took.as_secs_f64() * 1000.0
    );
    println!("rss before:      {:.1} MiB", mib(before));
    println!("rss after:       {:.1} MiB", mib(after));
    println!(
        "set resident:    {:.1} MiB = {:.1} MB ({} bytes per policy)",
        mib(delta),
        mb(delta),
        delta / n.max(1) as u64
    );
    // One policy changed in place (`POST /policy/<name>`): a tenant policy,
    // and a policy with a `*` action (in the wild bucket).
    let mut cache = pi_policy::RegexCache::new();
    let rounds = 200;
    let stars: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.action == "*")
        .map(|(i, _)| i)
        .collect();
    for (what, wild) in [("tenant policy", false), ("`*` policy", true)] {
        let mut spent = 0u64;
        for k in 0..rounds {
            let at = if wild {
                stars.get(k % stars.len().max(1)).copied().unwrap_or(0)
            } else {
                (k * 7919 + n / 3) % n.max(1)
            };
            let Some(rec) = records.get(at) else {
                continue;
            };
            let mut rec = rec.clone();
            rec.realm = format!("realm{k}");
            let policy = pi_policy::pi_model::Policy::from_record(&rec);
            let t0 = cpu_ns().unwrap_or(0);
            let edited = set.edited(Some(at), Some((at, policy)), &mut cache);
            spent += cpu_ns().unwrap_or(0).saturating_sub(t0);
            drop(edited);
        }
        println!(
            "edit ({what}): {:.0} µs CPU per edit (mean of {rounds}; dropping the old set not counted)",
            spent as f64 / rounds as f64 / 1000.0
        );
    }
    // For comparison: copying the record list, as pi-server's write path
    // still does per policy write (`Snapshot::policies`).
    let t0 = cpu_ns().unwrap_or(0);
    let copy = records.clone();
    let spent = cpu_ns().unwrap_or(0).saturating_sub(t0);
    drop(copy);
    println!(
        "copy of the {} records: {:.1} ms CPU",
        records.len(),
        spent as f64 / 1e6
    );
    drop(records);
    println!(
        "rss without the records: {:.1} MiB",
        mib(rss().unwrap_or(0))
    );
}
