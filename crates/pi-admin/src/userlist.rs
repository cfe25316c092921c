//! The user list of `GET /user/` and `GET /user/count`, as the released
//! privacyIDEA 3.14 builds it (`get_user_list`): the realms to query and the
//! resolver that narrows each, the resolvers of a realm in priority order as
//! seen from this node, one search filter for all, users deduplicated by
//! `(username, realm)` (first resolver wins), skipped resolvers collected.
//!
//! Runs on the blocking pool: resolvers do file, SQL or LDAP I/O.

use pi_policy::FieldMatcher;
use pi_realm::{AttrValue, SearchFilter};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::state::Snapshot;

/// The policies that name the users of a `(realm, resolver)`: the user
/// field of each.
pub type UserRestriction = HashMap<(String, String), Vec<FieldMatcher>>;

/// Custom user attributes by `(user id, resolver, realm)`.
pub type CustomAttributes = HashMap<(String, String, String), Map<String, Value>>;

/// What to list.
#[derive(Default)]
pub struct ListSpec {
    /// Realms in query order, each with the resolver that narrows it.
    pub realm_filters: Vec<(String, Option<String>)>,
    /// The search filter every resolver gets (`username` included).
    pub search: SearchFilter,
    /// `attributes`: the attributes to return (`None`: all, plus
    /// `realm`, `resolver` and `editable`).
    pub requested: Option<Vec<String>>,
    /// The resolvers a restricted admin may list, by realm (`None`: all).
    pub allowed_resolvers: Option<HashMap<String, Vec<String>>>,
    /// Users of these `(realm, resolver)` pairs must match a policy's user field.
    pub user_filter: Option<UserRestriction>,
    /// Custom user attributes to merge, by `(user id, resolver, realm)`.
    pub custom_attributes: Option<CustomAttributes>,
    /// The most users to collect (`PI_USERLIST_MAX`).
    pub limit: usize,
}

/// One listed user with the key its token ownership is looked up by.
pub struct Listed {
    /// The user's attributes as answered.
    pub info: Map<String, Value>,
    /// `(lower-case realm, resolver, user id)`, `None` without a user id.
    pub owner_key: Option<(String, String, String)>,
}

/// The outcome of a listing.
#[derive(Default)]
pub struct Listing {
    /// Users in answer order.
    pub users: Vec<Listed>,
    /// Resolvers that could not be queried (sorted, once each).
    pub failures: Vec<String>,
    /// Whether users were left out because of the limit.
    pub truncated: bool,
}

fn attr_json(v: AttrValue) -> Value {
    match v {
        AttrValue::Str(s) => Value::String(s),
        AttrValue::List(l) => Value::Array(l.into_iter().map(Value::String).collect()),
    }
}

/// Run the listing (blocking).
pub fn list_users(snap: &Arc<Snapshot>, node_uuid: &str, spec: &ListSpec) -> Listing {
    let mut out = Listing::default();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut failures: Vec<String> = Vec::new();
    let mut succeeded: HashSet<String> = HashSet::new();
    let requested = spec.requested.as_deref();
    let wants = |name: &str| requested.is_none_or(|r| r.iter().any(|a| a == name));
    'realms: for (realm, resolver_filter) in &spec.realm_filters {
        let Some(realm_rec) = snap.realm(realm) else {
            continue;
        };
        let mut resolvers = pi_realm::ordered_resolvers(realm_rec, node_uuid);
        if let Some(allowed) = &spec.allowed_resolvers {
            let names = allowed.get(realm).map(Vec::as_slice).unwrap_or(&[]);
            resolvers.retain(|r| names.contains(r));
        }
        let mut assigned: Vec<&str> = realm_rec
            .resolvers
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        if let Some(allowed) = &spec.allowed_resolvers {
            let names = allowed.get(realm).map(Vec::as_slice).unwrap_or(&[]);
            assigned.retain(|r| names.iter().any(|n| n == r));
        }
        for name in assigned {
            if !resolvers.iter().any(|r| r == name) && !failures.iter().any(|f| f == name) {
                failures.push(name.to_owned());
            }
        }
        if let Some(only) = resolver_filter {
            if !resolvers.contains(only) {
                continue;
            }
            resolvers = vec![only.clone()];
        }
        for name in &resolvers {
            let Some(resolver) = snap.resolver_object(name) else {
                continue;
            };
            let room = spec.limit.saturating_sub(out.users.len());
            let (list, cut) = match resolver.user_list_limited(&spec.search, room) {
                Ok(r) => r,
                Err(e) => {
                    log::warn!("Unable to get user list for resolver `{name}`: {e}");
                    if !failures.contains(name) {
                        failures.push(name.clone());
                    }
                    continue;
                }
            };
            succeeded.insert(name.clone());
            let editable = resolver.editable();
            for info in list {
                let username = info.get("username").map(|v| v.as_str().to_owned());
                if let Some(restricted) = spec
                    .user_filter
                    .as_ref()
                    .and_then(|f| f.get(&(realm.clone(), name.clone())))
                {
                    let Some(login) = username.as_deref().filter(|u| !u.is_empty()) else {
                        continue;
                    };
                    let allowed = restricted.iter().any(|field| field.matches(login));
                    if !allowed {
                        continue;
                    }
                }
                let uid = info.get("userid").map(|v| v.as_str().to_owned());
                let owner_key = uid
                    .as_ref()
                    .filter(|u| !u.is_empty())
                    .map(|u| (realm.to_lowercase(), name.clone(), u.clone()));
                let key = (username.clone().unwrap_or_default(), realm.clone());
                if seen.contains(&key) {
                    continue;
                }
                let mut obj = Map::new();
                for (k, v) in info {
                    if requested.is_none_or(|r| r.contains(&k)) {
                        obj.insert(k, attr_json(v));
                    }
                }
                if wants("realm") {
                    obj.insert("realm".into(), Value::String(realm.clone()));
                }
                if wants("resolver") {
                    obj.insert("resolver".into(), Value::String(name.clone()));
                }
                if wants("editable") {
                    obj.insert("editable".into(), Value::Bool(editable));
                }
                if let (Some(custom), Some(u)) = (&spec.custom_attributes, &uid) {
                    if let Some(attrs) = custom.get(&(u.clone(), name.clone(), realm.clone())) {
                        for (k, v) in attrs {
                            if wants(k) {
                                obj.insert(k.clone(), v.clone());
                            }
                        }
                    }
                }
                seen.insert(key);
                if out.users.len() >= spec.limit {
                    out.truncated = true;
                    break 'realms;
                }
                out.users.push(Listed {
                    info: obj,
                    owner_key,
                });
            }
            if cut {
                out.truncated = true;
                break 'realms;
            }
        }
    }
    failures.retain(|f| !succeeded.contains(f));
    failures.sort();
    out.failures = failures;
    out
}
