//! Glue between the server and the policy engine: building the `PolicySet`
//! of a snapshot, the request context, rights/menus for `/auth`, and the
//! realm filter of `GET /realm/`.

use crate::caller::Caller;
use crate::error::{ApiError, ApiResult};
use crate::node::NodeIdentity;
use crate::request::{LazyHttp, RequestInfo};
use chrono::{DateTime, FixedOffset};
use pi_model::record::{PolicyRecord, RealmRecord};
use pi_model::Policy;
use pi_policy::{
    BuildContext, GenericParams, LoggedInUser, MatchContext, MatchError, PolicySet, RegexCache,
};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// Build the engine over the snapshot's policies; `check_all_resolvers` uses
/// each realm's ordered resolvers on this node. `regexes` keeps compiled
/// regular expressions between rebuilds.
pub fn build<R: std::borrow::Borrow<PolicyRecord>>(
    policies: &[R],
    realms: &[RealmRecord],
    node: &NodeIdentity,
    regexes: &Mutex<RegexCache>,
) -> PolicySet {
    let realm_resolvers: HashMap<String, Vec<String>> = realms
        .iter()
        .map(|r| (r.name.clone(), pi_realm::ordered_resolvers(r, &node.uuid)))
        .collect();
    let ctx = BuildContext {
        realm_resolvers,
        local_node: node.name.clone(),
    };
    // A panic during an earlier build leaves a usable cache behind.
    let mut cache = regexes.lock().unwrap_or_else(|e| e.into_inner());
    PolicySet::from_records_with_cache(policies, ctx, &mut cache)
}

/// The engine after one policy write, edited from `base` instead of rebuilt:
/// the policy with record id `id` was at load position `old_at` of `base`
/// (`None`: new) and is now where `policies` (the snapshot's records in load
/// order after `pi_store::place_written_policy`) has it. Falls back to a full
/// build when `base` does not line up with `policies`.
pub fn apply_write(
    base: &PolicySet,
    old_at: Option<usize>,
    id: i64,
    policies: &[std::sync::Arc<PolicyRecord>],
    realms: &[RealmRecord],
    node: &NodeIdentity,
    regexes: &Mutex<RegexCache>,
) -> PolicySet {
    let new_at = policies.iter().position(|p| p.id == id);
    let lined_up = base.len() + usize::from(old_at.is_none()) == policies.len()
        && old_at.is_none_or(|i| base.get(i).is_some_and(|p| p.id() == id));
    let edited = match (new_at, lined_up) {
        (Some(at), true) => policies.get(at).and_then(|rec| {
            let mut cache = regexes.lock().unwrap_or_else(|e| e.into_inner());
            base.edited(old_at, Some((at, Policy::from_record(rec))), &mut cache)
        }),
        _ => None,
    };
    edited.unwrap_or_else(|| build(policies, realms, node, regexes))
}

/// Map an engine error to privacyIDEA's error.
pub fn map_match_error(e: MatchError) -> ApiError {
    match e.code() {
        303 => ApiError::policy(e.message()),
        905 => ApiError::parameter(e.message()),
        903 => ApiError::generic(903, e.message()),
        _ => ApiError::parameter(e.message()),
    }
}

/// The server's local time with its offset (time ranges use local wall-clock time).
pub fn now() -> DateTime<FixedOffset> {
    chrono::Local::now().fixed_offset()
}

/// Owned pieces a [`MatchContext`] borrows from.
pub struct ContextParts {
    client: String,
    user_agent: String,
    user: LoggedInUser,
    http: LazyHttp,
    now: DateTime<FixedOffset>,
}

impl ContextParts {
    /// The context for decisions of `set` (request data given separately,
    /// it is per call). The request's headers and environment are collected
    /// only when `set` can read them: use the context with `set` only.
    pub fn context<'a>(
        &'a self,
        set: &PolicySet,
        request_data: Option<&'a Value>,
    ) -> MatchContext<'a> {
        MatchContext {
            client_ip: Some(&self.client),
            user_agent: Some(&self.user_agent),
            logged_in_user: Some(&self.user),
            token: None,
            http: self.http.for_set(set),
            request_data,
            now: self.now,
        }
    }
}

/// Context pieces for a logged-in caller.
pub fn match_context_parts(caller: &Caller) -> ContextParts {
    ContextParts {
        client: caller.info.client_ip.to_string(),
        user_agent: caller.info.user_agent.clone(),
        user: LoggedInUser {
            username: caller.username.clone(),
            realm: caller.realm.clone(),
            role: caller.role.as_str().to_string(),
        },
        http: caller.info.http.clone(),
        now: now(),
    }
}

/// Context pieces for an anonymous request (e.g. `/policy/check` uses the caller's context).
pub fn request_context_parts(info: &RequestInfo) -> ContextParts {
    ContextParts {
        client: info.client_ip.to_string(),
        user_agent: info.user_agent.clone(),
        user: LoggedInUser::default(),
        http: info.http.clone(),
        now: now(),
    }
}

/// Rights of a login (`ui_get_rights`); `user` is the realm user (its
/// resolver and attributes feed user-scope policies and their `userinfo`
/// conditions).
pub fn rights(
    set: &PolicySet,
    scope: &str,
    username: &str,
    realm: &str,
    client: &str,
    user_agent: &str,
    user: Option<&pi_policy::UserObject>,
) -> ApiResult<Vec<String>> {
    set.ui_get_rights(
        scope,
        realm,
        username,
        Some(client),
        Some(user_agent),
        user,
        now(),
    )
    .map_err(map_match_error)
}

/// Token types the caller may enroll in the web UI (`ui_get_enroll_tokentypes`).
pub fn enroll_tokentypes(
    set: &PolicySet,
    caller: &Caller,
) -> ApiResult<std::collections::BTreeMap<String, String>> {
    let parts = match_context_parts(caller);
    set.ui_get_enroll_tokentypes(
        Some(&parts.client),
        &parts.user,
        Some(&parts.user_agent),
        None,
        parts.now,
    )
    .map_err(map_match_error)
}

/// Main menus for rights.
pub fn menus(scope: &str, rights: &[String]) -> Vec<String> {
    pi_policy::menus_for_rights(scope, rights)
}

/// The active `scope` policies (with `action`, if given) matching this
/// caller by admin realm and admin user, client, user agent, time and node;
/// conditions are not checked (`extended_condition_check=DO_NOT_CHECK_AT_ALL`).
pub fn callers_policies<'s>(
    set: &'s PolicySet,
    caller: &Caller,
    scope: &str,
    action: Option<&str>,
) -> ApiResult<Vec<&'s pi_model::Policy>> {
    let parts = match_context_parts(caller);
    let ctx = parts.context(set, None);
    set.match_generic(
        &ctx,
        GenericParams {
            scope: Some(scope),
            action,
            adminrealm: Some(&caller.realm),
            adminuser: Some(&caller.username),
            active: Some(Some(true)),
            extended_condition_check: pi_policy::ConditionCheck::Skip,
            ..GenericParams::default()
        },
    )
    .policies()
    .map_err(map_match_error)
}

/// `GET /realm/` for a realm-restricted admin: `None` = all realms; else the
/// realms named in the active admin policies matching this admin
/// (privacyIDEA's `Match.generic(scope, adminrealm, adminuser, active=True,
/// extended_condition_check=DO_NOT_CHECK_AT_ALL)`: client, user agent, time
/// and node are matched, no action filter, no conditions).
pub fn admin_realms(set: &PolicySet, caller: &Caller) -> ApiResult<Option<Vec<String>>> {
    let matched = callers_policies(set, caller, caller.role.as_str(), None)?;
    if matched.is_empty() {
        return Ok(None);
    }
    let mut names: Vec<String> = Vec::new();
    for p in matched {
        let realms = p.realm();
        if realms.is_empty() {
            return Ok(None);
        }
        for r in realms {
            if !names.contains(r) {
                names.push(r.clone());
            }
        }
    }
    Ok(Some(names))
}
