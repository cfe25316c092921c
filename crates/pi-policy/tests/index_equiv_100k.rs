//! Index ≡ linear scan at 100,000 policies (the benchmark's multi-tenant
//! mix, `benches/support/mix.rs`), before and after edits with
//! `PolicySet::edited`. Deterministic; the queries are chosen to hit the
//! large buckets (tenant realms and users, every scope, every action of a
//! few tenants) so that parts, value tables and the wild bucket are used.

use chrono::NaiveDate;
use pi_policy::pi_model::record::PolicyRecord;
use pi_policy::pi_model::Policy;
use pi_policy::{BuildContext, ConditionInput, HttpData, PolicySet, Query, RegexCache};
use std::collections::HashMap;

#[path = "../benches/support/mix.rs"]
#[allow(dead_code)]
mod mix;
use mix::{actions_of, Rng, SCOPES};

const N: usize = 100_000;

fn ctx() -> BuildContext {
    BuildContext {
        realm_resolvers: HashMap::new(),
        local_node: "localnode".into(),
    }
}

/// Queries over `tenants` tenants: `(scope, action, realm, user, adminuser, client)`.
fn queries(seed: u64, count: usize) -> Vec<(String, String, String, String, String, String)> {
    let mut r = Rng(seed);
    let tenants = N / 20;
    (0..count)
        .map(|_| {
            let (scope, _) = SCOPES[r.below(SCOPES.len())];
            let names = actions_of(scope);
            let t = r.below(tenants);
            (
                scope.to_string(),
                names[r.below(names.len())].clone(),
                format!("realm{t}"),
                format!("user{t}_{}", r.below(50)),
                format!("admin{t}"),
                format!("10.{}.2.3", r.below(200)),
            )
        })
        .collect()
}

fn names(v: Result<Vec<&Policy>, pi_policy::MatchError>) -> Result<Vec<String>, String> {
    v.map(|v| v.iter().map(|p| p.name().to_string()).collect())
        .map_err(|e| e.to_string())
}

fn check(set: &PolicySet, seed: u64) {
    let http = HttpData {
        headers: vec![("X-Env".into(), "prod".into())],
        ..HttpData::default()
    };
    let t = NaiveDate::from_ymd_opt(2024, 7, 1).and_then(|d| d.and_hms_opt(10, 0, 0));
    let mut nonempty = 0;
    for (scope, action, realm, user, adminuser, client) in queries(seed, 16) {
        let admin = scope == "admin";
        for with_action in [true, false] {
            let q = Query {
                scope: Some(&scope),
                action: with_action.then_some(action.as_str()),
                active: Some(true),
                realm: Some(&realm),
                user: Some(&user),
                resolver: Some("resolver1"),
                adminuser: admin.then_some(adminuser.as_str()),
                adminrealm: admin.then_some(""),
                client: Some(&client),
                pinode: Some("localnode"),
                user_agent: Some(""),
                time: t,
                input: ConditionInput {
                    http: Some(&http),
                    ..ConditionInput::default()
                },
                ..Query::default()
            };
            let a = names(set.match_policies(&q));
            let b = names(set.linear_match_policies(&q));
            assert_eq!(a, b, "query {scope}/{action}/{realm}/{user}");
            assert_eq!(
                set.any_match(&q).map_err(|e| e.to_string()),
                a.as_ref().map(|v| !v.is_empty()).map_err(|e| e.to_string()),
                "any_match {scope}/{action}/{realm}/{user}"
            );
            if a.as_ref().is_ok_and(|v| !v.is_empty()) {
                nonempty += 1;
            }
        }
    }
    // The queries are selective, but not empty.
    assert!(nonempty > 4, "only {nonempty} queries matched");
}

#[test]
fn index_equals_linear_scan_at_100k_policies_and_after_edits() {
    let mut recs: Vec<PolicyRecord> = mix::mix(N, 0x5eed);
    let set = PolicySet::from_records(&recs, ctx());
    assert_eq!(set.len(), N);
    check(&set, 0xbeef);

    // Edits: change tenant policies in place, turn one into a `*` policy,
    // move one to the front, delete one, add one at the end.
    let mut r = Rng(0xed17);
    let mut cache = RegexCache::new();
    let mut set = set;
    let mut edits = Vec::new();
    let mut edited: Vec<PolicyRecord> = Vec::new();
    for k in 0..6 {
        let at = r.below(recs.len());
        let mut rec = recs[at].clone();
        let (remove, insert_at) = match k {
            0 => {
                rec.action = "*".into();
                (Some(at), at)
            }
            1 => {
                rec.realm = format!("realm{}", r.below(N / 20));
                (Some(at), 0)
            }
            2 => {
                recs.remove(at);
                set = set.edited(Some(at), None, &mut cache).expect("in range");
                edits.push(format!("delete {at}"));
                continue;
            }
            3 => {
                rec.id = N as i64 + 10;
                rec.name = "added".into();
                rec.user = "svc_.*".into();
                (None, recs.len())
            }
            _ => {
                rec.action = "enable, disable".into();
                rec.adminuser = "admin1".into();
                (Some(at), at)
            }
        };
        if let Some(i) = remove {
            recs.remove(i);
        }
        recs.insert(insert_at, rec.clone());
        set = set
            .edited(
                remove,
                Some((insert_at, Policy::from_record(&rec))),
                &mut cache,
            )
            .expect("in range");
        edits.push(format!("{remove:?} -> {insert_at}"));
        edited.push(rec);
    }
    assert_eq!(set.len(), recs.len());
    assert!(set
        .policies()
        .map(|p| p.name())
        .eq(recs.iter().map(|r| r.name.as_str())));
    check(&set, 0xf00d);
    // Queries aimed at the edited policies: their own scope, action, realm
    // and admin user.
    let first = |s: &str| s.split(',').next().unwrap_or("").trim().to_string();
    for rec in &edited {
        let action = match first(&rec.action).split('=').next() {
            Some(a) if !a.is_empty() && a != "*" => a.to_string(),
            _ => "enable".to_string(),
        };
        let (realm, adminuser) = (first(&rec.realm), first(&rec.adminuser));
        let q = Query {
            scope: Some(&rec.scope),
            action: Some(&action),
            realm: Some(&realm),
            adminuser: (rec.scope == "admin").then_some(adminuser.as_str()),
            ..Query::default()
        };
        let a = names(set.match_policies(&q));
        assert_eq!(a, names(set.linear_match_policies(&q)), "after {edits:?}");
        if rec.active && rec.user.is_empty() && rec.resolver.is_empty() {
            assert!(
                a.is_ok_and(|v| v.contains(&rec.name)),
                "{} not found",
                rec.name
            );
        }
    }
}
