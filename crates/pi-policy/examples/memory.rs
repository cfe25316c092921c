//! Resident memory and build time of a policy set built from the benchmark's
//! policy mix (`benches/support/mix.rs`).
//!
//! ```text
//! cargo run --release -p pi-policy --example memory -- [N=100000]
//! ```
//!
//! Prints the process RSS (from `/proc/self/statm`) before and after
//! building, the difference per policy, and how long the build took. The
//! records themselves are generated (and their memory counted) before the
//! first reading, so the difference is what the engine holds.

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

/// CPU time (user + system) of this process in milliseconds, from
/// `/proc/self/stat` (clock ticks of 10 ms): unlike wall time, it does not
/// count the time spent waiting for a core on a busy machine.
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) * 10)
}

fn mb(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
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
    let cpu_before = cpu_ms().unwrap_or(0);
    let set = PolicySet::from_records(&records, ctx);
    let took = started.elapsed();
    let cpu = cpu_ms().unwrap_or(0).saturating_sub(cpu_before);
    let after = rss().unwrap_or(0);
    let delta = after.saturating_sub(before);
    println!("policies:        {}", set.len());
    println!(
        "build:           {:.1} ms wall, {cpu} ms CPU",
        took.as_secs_f64() * 1000.0
    );
    println!("rss before:      {:.1} MB", mb(before));
    println!("rss after:       {:.1} MB", mb(after));
    println!(
        "set resident:    {:.1} MB ({} bytes per policy)",
        mb(delta),
        delta / n.max(1) as u64
    );
    drop(records);
    println!("rss without the records: {:.1} MB", mb(rss().unwrap_or(0)));
}
