//! The policy engine on arbitrary policy sets and queries: the index must
//! give exactly the linear scan's answer, and nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pi_policy::pi_model::record::PolicyRecord;
use pi_policy::{BuildContext, PolicySet, Query};

// Pieces of `data` separated by `|`: policies are 9 pieces each (scope,
// action, realm, user, resolver, adminuser, adminrealm, client, time), then
// the query (scope, action, realm, user, resolver, adminuser, client).
fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parts: Vec<&str> = text.split('|').collect();
    let (policies, query) = match parts.len() {
        n if n >= 7 => parts.split_at(n - 7),
        _ => return,
    };
    let records: Vec<PolicyRecord> = policies
        .chunks_exact(9)
        .enumerate()
        .map(|(i, p)| PolicyRecord {
            id: i as i64 + 1,
            name: format!("p{i}"),
            scope: p[0].into(),
            action: p[1].into(),
            realm: p[2].into(),
            user: p[3].into(),
            resolver: p[4].into(),
            adminuser: p[5].into(),
            adminrealm: p[6].into(),
            client: p[7].into(),
            time: p[8].into(),
            active: i % 5 != 4,
            priority: 1 + (i as i64 % 3),
            check_all_resolvers: i % 7 == 6,
            user_case_insensitive: i % 4 == 3,
            ..PolicyRecord::default()
        })
        .collect();
    let set = PolicySet::from_records(&records, BuildContext::default());
    fn opt(s: &str) -> Option<&str> {
        if s == "~" {
            None
        } else {
            Some(s)
        }
    }
    let q = Query {
        scope: opt(query[0]),
        action: opt(query[1]),
        realm: opt(query[2]),
        user: opt(query[3]),
        resolver: opt(query[4]),
        adminuser: opt(query[5]),
        client: opt(query[6]),
        ..Query::default()
    };
    let indexed = set
        .match_policies(&q)
        .map(|v| v.iter().map(|p| p.name().to_string()).collect::<Vec<_>>());
    let linear = set
        .linear_match_policies(&q)
        .map(|v| v.iter().map(|p| p.name().to_string()).collect::<Vec<_>>());
    assert_eq!(indexed, linear);
    let _ = set.explain(&q);
});
