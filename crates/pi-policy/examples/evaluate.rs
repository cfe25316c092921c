//! Evaluate a policy set loaded from a JSON file (a list of policy dicts as
//! `GET /policy/` returns them) against a query given on the command line.
//!
//! ```text
//! cargo run -p pi-policy --example evaluate -- FILE key=value...
//! keys: scope action user realm resolver adminuser adminrealm client pinode
//!       user_agent name active(true|false) time(YYYY-MM-DDTHH:MM)
//!       header:<Name>=<value>   (feeds HTTP Request header conditions)
//! ```

use chrono::NaiveDateTime;
use pi_policy::pi_model::Policy;
use pi_policy::{BuildContext, ConditionInput, HttpData, PolicySet, Query};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        eprintln!("usage: evaluate FILE key=value...");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {file}: {e}");
            return ExitCode::from(1);
        }
    };
    let dicts: Vec<serde_json::Value> = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{file} is not a JSON list: {e}");
            return ExitCode::from(1);
        }
    };
    let mut policies = Vec::new();
    for d in &dicts {
        match Policy::from_json(d) {
            Ok(p) => policies.push(p),
            Err(e) => {
                eprintln!("skipping a policy: {e}");
            }
        }
    }
    let set = PolicySet::build(
        policies,
        BuildContext {
            realm_resolvers: Default::default(),
            local_node: "localnode".into(),
        },
    );

    let mut kv: Vec<(String, String)> = Vec::new();
    let mut http = HttpData::default();
    for a in &args[1..] {
        let Some((k, v)) = a.split_once('=') else {
            eprintln!("ignoring `{a}` (expected key=value)");
            continue;
        };
        if let Some(h) = k.strip_prefix("header:") {
            http.headers.push((h.to_string(), v.to_string()));
        } else {
            kv.push((k.to_string(), v.to_string()));
        }
    }
    let get = |k: &str| kv.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    let time = get("time").and_then(|t| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").ok());
    let q = Query {
        name: get("name"),
        scope: get("scope"),
        action: get("action"),
        user: get("user"),
        realm: get("realm"),
        resolver: get("resolver"),
        adminuser: get("adminuser"),
        adminrealm: get("adminrealm"),
        client: get("client"),
        pinode: get("pinode"),
        user_agent: get("user_agent"),
        active: get("active").map(|a| a == "true"),
        time,
        input: ConditionInput {
            http: Some(&http),
            ..ConditionInput::default()
        },
        ..Query::default()
    };
    match set.match_policies(&q) {
        Ok(pols) => {
            println!("matching policies ({}):", pols.len());
            for p in &pols {
                println!("  {} (priority {})", p.name(), p.priority());
            }
            if let Some(a) = q.action {
                if let Ok(v) = pi_policy::extract_action_values(&pols, a, false, false) {
                    if !v.is_empty() {
                        println!(
                            "action values: {}",
                            serde_json::to_string(&v).unwrap_or_default()
                        );
                    }
                }
            }
            if q.scope.is_some() {
                println!(
                    "allowed (policy matches or scope unconfigured): {}",
                    !pols.is_empty() || !set.has_active_policies(q.scope)
                );
            }
        }
        Err(e) => println!("error {}: {e}", e.code()),
    }
    match set.explain(&q) {
        Ok(ex) => match serde_json::to_string_pretty(&ex) {
            Ok(s) => println!("explanation:\n{s}"),
            Err(e) => eprintln!("cannot serialise: {e}"),
        },
        Err(e) => println!("error {}: {e}", e.code()),
    }
    ExitCode::SUCCESS
}
