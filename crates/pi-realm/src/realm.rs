//! Realm → ordered resolvers, and finding a user in a realm.

use pi_model::record::{RealmRecord, RealmResolverRecord};
use serde::{Deserialize, Serialize};

use crate::resolver::{Resolver, ResolverError};

/// Priority used for `resolverrealm` rows whose priority is `NULL` or `0`.
pub const DEFAULT_PRIORITY: i64 = 1000;

/// The resolver names of a realm in search order, as seen from the node
/// `local_node_uuid` (privacyIDEA 3.14 `get_ordered_resolvers`):
///
/// 1. effective priority = stored priority, or [`DEFAULT_PRIORITY`] if
///    `NULL`/`0`;
/// 2. sorted by (priority, name), names compared byte-wise (so upper-case
///    sorts before lower-case);
/// 3. rows pinned to another node (node non-empty and ≠ `local_node_uuid`)
///    are dropped; `NULL` and `""` mean "all nodes";
/// 4. duplicate names removed, keeping the first.
pub fn ordered_resolvers(realm: &RealmRecord, local_node_uuid: &str) -> Vec<String> {
    ordered_resolver_names(&realm.resolvers, local_node_uuid)
}

/// [`ordered_resolvers`] over the `resolverrealm` rows of one realm.
pub fn ordered_resolver_names(rows: &[RealmResolverRecord], local_node_uuid: &str) -> Vec<String> {
    let mut sorted: Vec<(i64, &str, &str)> = rows
        .iter()
        .map(|r| {
            let prio = match r.priority {
                None | Some(0) => DEFAULT_PRIORITY,
                Some(p) => p,
            };
            (prio, r.name.as_str(), r.node.as_deref().unwrap_or(""))
        })
        .collect();
    sorted.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut out: Vec<String> = Vec::with_capacity(sorted.len());
    for (_, name, node) in sorted {
        if (node.is_empty() || node == local_node_uuid) && !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
    }
    out
}

/// A user located in a realm.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct User {
    /// Login name as given.
    pub login: String,
    /// Realm name, lower-cased.
    pub realm: String,
    /// Name of the resolver that knows the user.
    pub resolver: String,
    /// User id within that resolver.
    pub uid: String,
}

/// Finds `login` in the first resolver (in the given order) that knows it
/// (privacyIDEA's `User(login, realm)`): later resolvers are not asked, so
/// users of the same login in lower-priority resolvers are masked.
///
/// `Ok(None)` if no resolver knows the login (including an empty list, e.g.
/// an unknown realm). A backend failure of a resolver that is asked stops
/// the search and is returned, as in privacyIDEA.
pub fn find_user(
    login: &str,
    realm: &str,
    resolvers: &[(&str, &dyn Resolver)],
) -> Result<Option<User>, ResolverError> {
    for &(name, resolver) in resolvers {
        match resolver.user_id(login) {
            Ok(uid) if !uid.is_empty() => {
                let login = match resolver.primary_login(&uid)? {
                    Some(primary) if !primary.is_empty() => primary,
                    _ => login.to_owned(),
                };
                return Ok(Some(User {
                    login,
                    realm: realm.to_lowercase(),
                    resolver: name.to_owned(),
                    uid,
                }));
            }
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// [`ordered_resolvers`] followed by [`find_user`]: `lookup` maps a resolver
/// name to its instance (resolvers it does not know are skipped, as privacyIDEA
/// skips resolvers it cannot load).
pub fn find_user_in_realm<R, F>(
    login: &str,
    realm: &RealmRecord,
    local_node_uuid: &str,
    mut lookup: F,
) -> Result<Option<User>, ResolverError>
where
    R: std::ops::Deref<Target = dyn Resolver>,
    F: FnMut(&str) -> Option<R>,
{
    let names = ordered_resolvers(realm, local_node_uuid);
    let found: Vec<(&str, R)> = names
        .iter()
        .filter_map(|n| lookup(n).map(|r| (n.as_str(), r)))
        .collect();
    let refs: Vec<(&str, &dyn Resolver)> = found.iter().map(|(n, r)| (*n, &**r)).collect();
    find_user(login, &realm.name, &refs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passwd::PasswdResolver;
    use std::collections::HashMap;
    use std::sync::Arc;

    const ND1: &str = "8e4272a9-9037-40df-8aa3-976e4a04b5a9";
    const ND2: &str = "d1d7fde6-330f-4c12-88f3-58a1752594bf";

    fn row(name: &str, priority: Option<i64>, node: Option<&str>) -> RealmResolverRecord {
        RealmResolverRecord {
            name: name.into(),
            rtype: "passwdresolver".into(),
            priority,
            node: node.map(str::to_owned),
        }
    }

    fn realm(rows: Vec<RealmResolverRecord>) -> RealmRecord {
        RealmRecord {
            id: 1,
            name: "realm1".into(),
            default: false,
            resolvers: rows,
        }
    }

    #[test]
    fn spec_node_example_case_61() {
        let r = realm(vec![
            row("resolver1", Some(30), Some(ND2)),
            row("resolver2", Some(10), Some(ND1)),
            row("reso3", Some(35), Some(ND2)),
            row("reso3", Some(27), Some("")),
            row("reso4", Some(5), Some("")),
        ]);
        assert_eq!(ordered_resolvers(&r, ND1), ["reso4", "resolver2", "reso3"]);
        assert_eq!(ordered_resolvers(&r, ND2), ["reso4", "reso3", "resolver1"]);
        assert_eq!(ordered_resolvers(&r, ""), ["reso4", "reso3"]);
    }

    #[test]
    fn table_cases_58_to_60() {
        type Case = (
            &'static str,
            Vec<RealmResolverRecord>,
            &'static [&'static str],
        );
        let cases: Vec<Case> = vec![
            (
                "58a double",
                vec![
                    row("double1", Some(2), Some("")),
                    row("double2", Some(1), Some("")),
                    row("double3", Some(3), Some("")),
                ],
                &["double2", "double1", "double3"],
            ),
            (
                "58b double re-set",
                vec![
                    row("double1", Some(3), Some("")),
                    row("double2", Some(2), Some("")),
                    row("double3", Some(1), Some("")),
                ],
                &["double3", "double2", "double1"],
            ),
            (
                "59 priorities",
                vec![
                    row("resolver1", Some(30), None),
                    row("resolver2", Some(10), None),
                    row("reso3", Some(27), None),
                    row("reso4", Some(5), None),
                ],
                &["reso4", "resolver2", "reso3", "resolver1"],
            ),
            (
                "60 equal priorities sort by name",
                vec![
                    row("resolver1", Some(10), Some("")),
                    row("resolver2", Some(10), Some("")),
                    row("reso3", Some(10), Some("")),
                    row("reso4", Some(10), Some("")),
                ],
                &["reso3", "reso4", "resolver1", "resolver2"],
            ),
            (
                "null and zero priority are 1000",
                vec![
                    row("b", None, None),
                    row("a", Some(0), None),
                    row("c", Some(999), None),
                    row("d", Some(1001), None),
                ],
                &["c", "a", "b", "d"],
            ),
            (
                "byte-wise: upper case first",
                vec![
                    row("alpha", None, None),
                    row("Zulu", None, None),
                    row("Beta", None, None),
                ],
                &["Beta", "Zulu", "alpha"],
            ),
            (
                "duplicate keeps best priority",
                vec![
                    row("x", Some(50), Some("")),
                    row("y", Some(20), Some("")),
                    row("x", Some(10), Some(ND1)),
                ],
                &["x", "y"],
            ),
            ("empty realm", vec![], &[]),
        ];
        for (name, rows, want) in cases {
            assert_eq!(ordered_resolvers(&realm(rows), ND1), want, "{name}");
        }
    }

    fn passwd_file(dir: &std::path::Path, name: &str, body: &str) -> Arc<dyn Resolver> {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        Arc::new(PasswdResolver::new(p))
    }

    #[test]
    fn case_58_first_resolver_wins() {
        let dir = tempfile::tempdir().unwrap();
        let file = "cornelius:x:1000:1000:C\n";
        let mut all: HashMap<&str, Arc<dyn Resolver>> = HashMap::new();
        for n in ["double1", "double2", "double3"] {
            all.insert(n, passwd_file(dir.path(), "same", file));
        }
        let r = realm(vec![
            row("double1", Some(2), Some("")),
            row("double2", Some(1), Some("")),
            row("double3", Some(3), Some("")),
        ]);
        let u = find_user_in_realm("cornelius", &r, ND1, |n| all.get(n).cloned())
            .unwrap()
            .unwrap();
        assert_eq!(u.resolver, "double2");
        assert_eq!(u.uid, "1000");
        assert_eq!(u.realm, "realm1");
        let r = realm(vec![
            row("double1", Some(3), Some("")),
            row("double2", Some(2), Some("")),
            row("double3", Some(1), Some("")),
        ]);
        let u = find_user_in_realm("cornelius", &r, ND1, |n| all.get(n).cloned())
            .unwrap()
            .unwrap();
        assert_eq!(u.resolver, "double3");
    }

    #[test]
    fn lookup_masks_and_skips() {
        let dir = tempfile::tempdir().unwrap();
        let a = passwd_file(dir.path(), "a", "hans:x:1:1:A\n");
        let b = passwd_file(dir.path(), "b", "hans:x:2:2:B\nanna:x:3:3:Anna\n");
        let broken: Arc<dyn Resolver> = Arc::new(PasswdResolver::new(dir.path().join("missing")));
        let list: Vec<(&str, &dyn Resolver)> = vec![("a", &*a), ("b", &*b)];
        let u = find_user("hans", "Realm1", &list).unwrap().unwrap();
        assert_eq!(
            (u.resolver.as_str(), u.uid.as_str(), u.realm.as_str()),
            ("a", "1", "realm1")
        );
        let u = find_user("anna", "realm1", &list).unwrap().unwrap();
        assert_eq!(u.resolver, "b");
        assert_eq!(find_user("nobody", "realm1", &list).unwrap(), None);
        assert_eq!(find_user("hans", "realm1", &[]).unwrap(), None);
        // a failing resolver before the user is found aborts the search
        let list: Vec<(&str, &dyn Resolver)> = vec![("broken", &*broken), ("a", &*a)];
        assert!(matches!(
            find_user("hans", "r", &list),
            Err(ResolverError::Backend(_))
        ));
        // ...but one after the hit is never asked
        let list: Vec<(&str, &dyn Resolver)> = vec![("a", &*a), ("broken", &*broken)];
        assert_eq!(
            find_user("hans", "r", &list).unwrap().unwrap().resolver,
            "a"
        );
    }

    #[test]
    fn case_61_node_specific_user_lists() {
        let dir = tempfile::tempdir().unwrap();
        let big: String = (0..48).map(|i| format!("u{i}:x:{i}:{i}:U\n")).collect();
        let small: String = (0..15).map(|i| format!("s{i}:x:{i}:{i}:S\n")).collect();
        let mut all: HashMap<&str, Arc<dyn Resolver>> = HashMap::new();
        all.insert("resolver1", passwd_file(dir.path(), "passwd", &big));
        all.insert("reso3", passwd_file(dir.path(), "passwords", &small));
        let r = realm(vec![
            row("resolver1", None, Some(ND1)),
            row("reso3", None, Some(ND2)),
        ]);
        let count = |node: &str| -> usize {
            ordered_resolvers(&r, node)
                .iter()
                .map(|n| {
                    all[n.as_str()]
                        .user_list(&Default::default())
                        .unwrap()
                        .len()
                })
                .sum()
        };
        assert_eq!(count(ND1), 48);
        assert_eq!(count(ND2), 15);
        assert!(find_user_in_realm("u3", &r, ND1, |n| all.get(n).cloned())
            .unwrap()
            .is_some());
        assert!(find_user_in_realm("u3", &r, ND2, |n| all.get(n).cloned())
            .unwrap()
            .is_none());
        // resolvers the lookup does not know are skipped
        assert!(
            find_user_in_realm("u3", &r, ND1, |_| None::<Arc<dyn Resolver>>)
                .unwrap()
                .is_none()
        );
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// A direct transcription of the rules, for comparison.
    fn reference(rows: &[RealmResolverRecord], local: &str) -> Vec<String> {
        let mut t: Vec<(i64, String, Option<String>)> = rows
            .iter()
            .map(|r| {
                let p = r.priority.filter(|&p| p != 0).unwrap_or(1000);
                (p, r.name.clone(), r.node.clone())
            })
            .collect();
        t.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.as_bytes().cmp(b.1.as_bytes()))
        });
        let mut out = Vec::new();
        for (_, name, node) in t {
            let visible = match node.as_deref() {
                None | Some("") => true,
                Some(n) => n == local,
            };
            if visible && !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    fn row() -> impl Strategy<Value = RealmResolverRecord> {
        (
            prop::sample::select(vec!["a", "B", "b", "reso1", "Reso1", "r\u{e9}so"]),
            prop::option::of(-2i64..1500),
            prop::option::of(prop::sample::select(vec!["", "n1", "n2"])),
        )
            .prop_map(|(name, priority, node)| RealmResolverRecord {
                name: name.into(),
                rtype: "passwdresolver".into(),
                priority,
                node: node.map(str::to_owned),
            })
    }

    proptest! {
        #[test]
        fn ordering_equals_reference(rows in prop::collection::vec(row(), 0..12),
                                     local in prop::sample::select(vec!["", "n1", "n2"])) {
            let got = ordered_resolver_names(&rows, local);
            prop_assert_eq!(&got, &reference(&rows, local));
            let mut dedup = got.clone();
            dedup.sort();
            dedup.dedup();
            prop_assert_eq!(dedup.len(), got.len());
        }
    }
}
