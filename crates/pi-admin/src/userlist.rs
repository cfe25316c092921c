//! The user list of `GET /user/` and `GET /user/count`, as the released
//! privacyIDEA 3.14 builds it (`get_user_list`): the realms to query and the
//! resolver that narrows each, the resolvers of a realm in priority order as
//! seen from this node, one search filter for all, users deduplicated by
//! `(username, realm)` (first resolver wins), skipped resolvers collected.
//!
//! The use cases before and around it ([`authorize`], [`list`], [`count`]):
//! the user role's forced identity and its `userlist` check, the
//! `realmadmin` pre-policy (what a restricted admin may list), the admin
//! gate (`Granted<UserList>`), the token-ownership right, the realm filters,
//! the search filter and the custom attributes. The route reads the
//! parameters and builds the envelope.
//!
//! [`list_users`] runs on the blocking pool: resolvers do file, SQL or LDAP I/O.

use pi_policy::{FieldMatcher, GenericParams};
use pi_realm::{AttrValue, SearchFilter};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::caller::{Admin, Caller, Role};
use crate::error::{ApiError, ApiResult};
use crate::gate::{self, split_realms, Granted, Target, UserList};
use crate::policyset::{map_match_error, match_context_parts};
use crate::request::{param_is_true, param_str as get_str};
use crate::state::{AppState, Snapshot};
use pi_model::pyrepr::{is_true, str_value as python_str};

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

/// Default of `PI_USERLIST_MAX`: the most users one request lists or counts.
pub const DEFAULT_USERLIST_MAX: usize = 100_000;

/// Parameters that shape the answer or the scope and are never a search field.
const NOT_SEARCH_KEYS: [&str; 7] = [
    "realm",
    "resolver",
    "user",
    "username",
    "has_tokens",
    "attributes",
    "include_custom_attributes",
];

/// The request parameters (query, form and JSON merged by the server).
pub type Params = Map<String, Value>;

/// `PI_USERLIST_MAX` from pi.cfg (a positive integer), else the default.
pub fn userlist_max(cfg: &pi_config::PiConfig) -> usize {
    cfg.get("PI_USERLIST_MAX")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        })
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_USERLIST_MAX)
}

/// A parameter as Python's truthiness sees it (`""`, `[]`, `null` are false).
fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
    }
}

/// A non-empty string parameter.
fn non_empty(params: &Params, key: &str) -> Option<String> {
    get_str(params, key).filter(|s| !s.is_empty())
}

/// The realms that contain a resolver, in realm order.
fn realms_of_resolver(snap: &Snapshot, resolver: &str) -> Vec<String> {
    snap.realms
        .iter()
        .filter(|r| r.resolvers.iter().any(|x| x.name == resolver))
        .map(|r| r.name.clone())
        .collect()
}

/// `policy_realm_names`: `None` when the realm field restricts nothing
/// (empty, or `*` alone), else the existing realms it names.
fn policy_realm_names(snap: &Snapshot, field: &[String]) -> Option<Vec<String>> {
    if field.is_empty() || (field.len() == 1 && field[0].trim() == "*") {
        return None;
    }
    let m = FieldMatcher::new(field, false);
    Some(
        snap.realms
            .iter()
            .filter(|r| m.matches(&r.name))
            .map(|r| r.name.clone())
            .collect(),
    )
}

/// What the `realmadmin` pre-policy decided for the user list.
#[derive(Default)]
struct Restriction {
    allowed_resolvers: Option<HashMap<String, Vec<String>>>,
    user_filter: Option<UserRestriction>,
}

/// `realmadmin` for `userlist` (`_restrict_user_list`): per realm the
/// query will touch, the resolvers a matching policy grants, and for those
/// only granted by policies that all name users, a user check. Without a
/// realm parameter the realms with a resolver to list become the parameter.
fn restrict_user_list(
    snap: &Snapshot,
    caller: &Caller,
    params: &mut Params,
) -> ApiResult<Restriction> {
    if !snap.policy_set.has_active_policies(Some("admin")) {
        return Ok(Restriction::default());
    }
    let requested = split_realms(params.get("realm"));
    let realms: Vec<String> = if !requested.is_empty() {
        requested
            .into_iter()
            .filter(|r| snap.realm(r).is_some())
            .collect()
    } else if let Some(resolver) = non_empty(params, "resolver") {
        realms_of_resolver(snap, &resolver)
    } else {
        snap.realms.iter().map(|r| r.name.clone()).collect()
    };
    let parts = match_context_parts(caller);
    let data = Value::Object(params.clone());
    let ctx = parts.context(&snap.policy_set, Some(&data));
    let mut allowed: HashMap<String, Vec<String>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut user_restricted: UserRestriction = HashMap::new();
    let mut everything_allowed = true;
    for realm in &realms {
        let Some(rec) = snap.realm(realm) else {
            continue;
        };
        let policies = snap
            .policy_set
            .match_generic(
                &ctx,
                GenericParams {
                    scope: Some("admin"),
                    action: Some("userlist"),
                    realm: Some(realm),
                    adminrealm: Some(&caller.realm),
                    adminuser: Some(&caller.username),
                    ..GenericParams::default()
                },
            )
            .policies()
            .map_err(map_match_error)?;
        let entry = allowed.entry(realm.clone()).or_default();
        if !order.contains(realm) {
            order.push(realm.clone());
        }
        for row in &rec.resolvers {
            let granting: Vec<_> = policies
                .iter()
                .filter(|p| FieldMatcher::new(p.resolver(), false).matches(&row.name))
                .collect();
            if granting.is_empty() {
                everything_allowed = false;
                continue;
            }
            entry.push(row.name.clone());
            if granting.iter().all(|p| !p.user().is_empty()) {
                user_restricted.insert(
                    (realm.clone(), row.name.clone()),
                    granting
                        .iter()
                        .map(|p| FieldMatcher::new(p.user(), p.user_case_insensitive()))
                        .collect(),
                );
            }
        }
    }
    let mut out = Restriction::default();
    if !everything_allowed {
        if !truthy(params.get("realm")) {
            let listed: Vec<Value> = order
                .iter()
                .filter(|r| allowed.get(*r).is_some_and(|v| !v.is_empty()))
                .map(|r| Value::String(r.clone()))
                .collect();
            match listed.len() {
                0 => {}
                1 => {
                    params.insert("realm".into(), listed[0].clone());
                }
                _ => {
                    params.insert("realm".into(), Value::Array(listed));
                }
            }
        }
        out.allowed_resolvers = Some(allowed);
    }
    if !user_restricted.is_empty() {
        out.user_filter = Some(user_restricted);
    }
    Ok(out)
}

/// `check_base_action(userlist)` for the user role: `Match.generic(scope=user,
/// action, user, resolver, realm)` allowed, or no active user policy at all.
fn user_gate(snap: &Snapshot, caller: &Caller, params: &Params, resolver: &str) -> ApiResult<()> {
    let parts = match_context_parts(caller);
    let data = Value::Object(params.clone());
    let ctx = parts.context(&snap.policy_set, Some(&data));
    let realm = get_str(params, "realm");
    let allowed = snap
        .policy_set
        .match_generic(
            &ctx,
            GenericParams {
                scope: Some("user"),
                action: Some("userlist"),
                user: Some(&caller.username),
                realm: realm.as_deref(),
                resolver: Some(resolver).filter(|r| !r.is_empty()),
                ..GenericParams::default()
            },
        )
        .allowed()
        .map_err(map_match_error)?;
    if allowed {
        Ok(())
    } else {
        Err(ApiError::policy(
            "User actions are defined, but the action userlist is not allowed!",
        ))
    }
}

/// `_check_token_ownership_right`: an admin learns who owns a token only
/// with `tokenlist` in every realm the users are listed from.
fn check_token_ownership_right(snap: &Snapshot, caller: &Caller, params: &Params) -> ApiResult<()> {
    if caller.role != Role::Admin || !snap.policy_set.has_active_policies(Some("admin")) {
        return Ok(());
    }
    let parts = match_context_parts(caller);
    let data = Value::Object(params.clone());
    let ctx = parts.context(&snap.policy_set, Some(&data));
    let policies = snap
        .policy_set
        .match_admin(&ctx, Some("tokenlist"), None, None, None)
        .and_then(|m| m.policies())
        .map_err(map_match_error)?;
    let mut token_realms: Vec<String> = Vec::new();
    for p in policies {
        match policy_realm_names(snap, p.realm()) {
            None => return Ok(()),
            Some(names) => token_realms.extend(names),
        }
    }
    let mut realms = split_realms(params.get("realm"));
    if realms.is_empty() {
        realms = match non_empty(params, "resolver") {
            Some(r) => realms_of_resolver(snap, &r),
            None => snap.realms.iter().map(|r| r.name.clone()).collect(),
        };
    }
    if realms.iter().all(|r| token_realms.contains(r)) {
        Ok(())
    } else {
        Err(ApiError::policy(
            "Admin actions are defined, but telling which users own a token requires the action \
             tokenlist in every realm the users are listed from!",
        ))
    }
}

/// `has_tokens`: `None` (absent or empty), `true` or `false`; anything else
/// is a ParameterError.
fn has_tokens(params: &Params) -> ApiResult<Option<bool>> {
    let v = match params.get("has_tokens") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(v) => v,
    };
    if is_true(v) {
        return Ok(Some(true));
    }
    let is_false = match v {
        Value::Bool(false) => true,
        Value::Number(n) => n.as_i64() == Some(0) && !n.is_f64(),
        Value::String(s) => ["0", "False", "false", "FALSE"].contains(&s.as_str()),
        _ => false,
    };
    if is_false {
        Ok(Some(false))
    } else {
        Err(ApiError::parameter(format!(
            "Invalid value for has_tokens: {}",
            pi_model::pyrepr::repr_value(v)
        )))
    }
}

/// `get_user_list`'s scope: realm → resolver that narrows it.
fn realm_filters(snap: &Snapshot, params: &Params) -> Vec<(String, Option<String>)> {
    let resolver = non_empty(params, "resolver");
    let raw = params.get("realm");
    let mut filters: Vec<(String, Option<String>)> = Vec::new();
    for realm in split_realms(raw) {
        if !filters.iter().any(|(r, _)| *r == realm) {
            filters.push((realm, resolver.clone()));
        }
    }
    if filters.is_empty() {
        if let Some(res) = &resolver {
            return realms_of_resolver(snap, res)
                .into_iter()
                .map(|r| (r, Some(res.clone())))
                .collect();
        }
        if !truthy(raw) {
            return snap.realms.iter().map(|r| (r.name.clone(), None)).collect();
        }
    }
    filters
}

/// The search filter every resolver gets.
fn search_filter(params: &Params) -> SearchFilter {
    let mut search = SearchFilter::new();
    search.insert("username".into(), "*".into());
    for (k, v) in params {
        if !NOT_SEARCH_KEYS.contains(&k.as_str()) {
            search.insert(k.clone(), python_str(v));
        }
    }
    if let Some(v) = params.get("username") {
        search.insert("username".into(), python_str(v));
    }
    if let Some(v) = params.get("user") {
        search.insert("username".into(), python_str(v));
    }
    search
}

/// The proof that the caller may list users, with what the checks decided:
/// made only by [`authorize`] — for an admin it holds the
/// `Granted<UserList>` of the admin gate, for a user the passed user-scope
/// `userlist` check.
pub struct Authorized {
    caller: Caller,
    snapshot: Arc<Snapshot>,
    params: Params,
    restriction: Restriction,
    _granted: Option<Granted<UserList>>,
}

impl Authorized {
    /// The parameters after the checks rewrote them (the user role's forced
    /// identity, the realms `realmadmin` allows).
    pub fn params(&self) -> &Params {
        &self.params
    }
}

/// Everything before the listing: the user role's forced identity and its
/// `userlist` check, or for an admin `realmadmin` and the `userlist` gate.
pub async fn authorize(
    state: &AppState,
    caller: &Caller,
    mut params: Params,
) -> ApiResult<Authorized> {
    let snap = state.snapshot().await?;
    let (restriction, granted) = match caller.role {
        Role::User => {
            params.insert("user".into(), Value::String(caller.username.clone()));
            params.insert("realm".into(), Value::String(caller.realm.clone()));
            params.remove("resolver");
            params.remove("userid");
            let user =
                crate::users::resolve(state, &snap, &caller.username, Some(&caller.realm)).await?;
            params.insert("resolver".into(), Value::String(user.resolver.clone()));
            user_gate(&snap, caller, &params, &user.resolver)?;
            (Restriction::default(), None)
        }
        Role::Admin => {
            let restriction = restrict_user_list(&snap, caller, &mut params)?;
            let admin = Admin::check(caller.clone())?;
            let granted =
                gate::grant::<UserList>(snap.clone(), &admin, &Target::from_params(&params))?;
            (restriction, Some(granted))
        }
    };
    Ok(Authorized {
        caller: caller.clone(),
        snapshot: snap,
        params,
        restriction,
        _granted: granted,
    })
}

/// Custom user attributes by `(user id, resolver, realm)`, when
/// `include_custom_attributes` (default true) and any exist.
async fn custom_attributes(
    state: &AppState,
    params: &Params,
) -> ApiResult<Option<CustomAttributes>> {
    if !param_is_true(params, "include_custom_attributes", true) {
        return Ok(None);
    }
    let rows = state.db(|s| s.custom_user_attributes()).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut map = CustomAttributes::new();
    for a in rows {
        map.entry((a.user_id, a.resolver, a.realm.to_lowercase()))
            .or_default()
            .insert(a.key, Value::String(a.value));
    }
    Ok(Some(map))
}

/// `attributes`: the attributes to answer (`None`: all).
fn requested_attributes(params: &Params) -> Option<Vec<String>> {
    match params.get("attributes") {
        Some(v) if truthy(Some(v)) => Some(match v {
            Value::Array(items) => items
                .iter()
                .map(|i| python_str(i).trim().to_owned())
                .collect(),
            other => python_str(other)
                .split(',')
                .map(|a| a.trim().to_owned())
                .collect(),
        }),
        _ => None,
    }
}

/// An answer of `GET /user/` or `GET /user/count` and what its `detail`
/// reports.
pub struct Answer {
    /// The users (a list) or the counts (an object).
    pub value: Value,
    /// Resolvers that could not be queried.
    pub skipped_resolvers: Vec<String>,
    /// Whether users were left out because of `limit`.
    pub truncated: bool,
    /// `PI_USERLIST_MAX`.
    pub limit: usize,
}

impl Answer {
    fn new(value: Value, listing: &Listing, limit: usize) -> Answer {
        if listing.truncated {
            log::warn!("user list cut at PI_USERLIST_MAX = {limit} users");
        }
        Answer {
            value,
            skipped_resolvers: listing.failures.clone(),
            truncated: listing.truncated,
            limit,
        }
    }
}

/// The audit `info` of a list or count, as privacyIDEA's views write it:
/// `realm: …; resolver: …` (the realms `realmadmin` allowed joined by
/// commas, `None` when absent), `; has_tokens: …` when filtered (list),
/// `; skipped_resolvers: a,b` when resolvers failed.
fn audit_info(params: &Params, has_tokens: bool, failures: &[String]) -> String {
    let text = |key| match params.get(key) {
        None | Some(Value::Null) => "None".to_owned(),
        Some(Value::Array(items)) => items.iter().map(python_str).collect::<Vec<_>>().join(","),
        Some(v) => python_str(v),
    };
    let mut info = format!("realm: {}; resolver: {}", text("realm"), text("resolver"));
    if has_tokens {
        info.push_str(&format!("; has_tokens: {}", text("has_tokens")));
    }
    if !failures.is_empty() {
        let mut skipped = failures.to_vec();
        skipped.sort();
        info.push_str(&format!("; skipped_resolvers: {}", skipped.join(",")));
    }
    info
}

async fn run(state: &AppState, snap: &Arc<Snapshot>, spec: ListSpec) -> ApiResult<Listing> {
    let snap = snap.clone();
    let node = state.node.uuid.clone();
    crate::blocking(move || list_users(&snap, &node, &spec))
        .await
        .map_err(ApiError::internal)
}

/// `GET /user/`: the users the caller may see, with the attributes asked
/// for, filtered by `has_tokens` (which needs the token-ownership right).
pub async fn list(state: &AppState, auth: Authorized) -> ApiResult<Answer> {
    let (snap, params) = (&auth.snapshot, &auth.params);
    let filter_tokens = !matches!(params.get("has_tokens"), None | Some(Value::Null))
        && get_str(params, "has_tokens").as_deref() != Some("");
    if filter_tokens {
        check_token_ownership_right(snap, &auth.caller, params)?;
    }
    let requested = requested_attributes(params);
    let custom = custom_attributes(state, params).await?;
    let wanted_tokens = has_tokens(params)?;
    let limit = userlist_max(&state.cfg);
    let spec = ListSpec {
        realm_filters: realm_filters(snap, params),
        search: search_filter(params),
        requested,
        allowed_resolvers: auth.restriction.allowed_resolvers,
        user_filter: auth.restriction.user_filter,
        custom_attributes: custom,
        limit,
    };
    let listing = run(state, snap, spec).await?;
    let info = audit_info(params, filter_tokens, &listing.failures);
    crate::audit::log(|r| r.info = info);
    let owners = match wanted_tokens {
        Some(_) if !listing.users.is_empty() => Some(state.db(|s| s.token_owner_keys()).await?),
        _ => None,
    };
    let mut answer = Answer::new(Value::Null, &listing, limit);
    let users: Vec<Value> = listing
        .users
        .into_iter()
        .filter(|u| match (&owners, wanted_tokens) {
            (Some(o), Some(want)) => u.owner_key.as_ref().is_some_and(|k| o.contains(k)) == want,
            _ => true,
        })
        .map(|u| Value::Object(u.info))
        .collect();
    answer.value = Value::Array(users);
    Ok(answer)
}

/// `GET /user/count`: how many users the same query would list, and how
/// many of them own a token (which needs the token-ownership right).
pub async fn count(state: &AppState, auth: Authorized) -> ApiResult<Answer> {
    let snap = &auth.snapshot;
    check_token_ownership_right(snap, &auth.caller, &auth.params)?;
    let mut params = auth.params;
    params.remove("has_tokens");
    let limit = userlist_max(&state.cfg);
    let spec = ListSpec {
        realm_filters: realm_filters(snap, &params),
        search: search_filter(&params),
        requested: Some(
            ["username", "userid", "realm", "resolver"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        ),
        allowed_resolvers: auth.restriction.allowed_resolvers,
        user_filter: auth.restriction.user_filter,
        custom_attributes: None,
        limit,
    };
    let listing = run(state, snap, spec).await?;
    let info = audit_info(&params, false, &listing.failures);
    crate::audit::log(|r| r.info = info);
    let owners: HashSet<(String, String, String)> = if listing.users.is_empty() {
        HashSet::new()
    } else {
        state.db(|s| s.token_owner_keys()).await?
    };
    let with_tokens = listing
        .users
        .iter()
        .filter(|u| u.owner_key.as_ref().is_some_and(|k| owners.contains(k)))
        .count();
    Ok(Answer::new(
        json!({"count": listing.users.len(), "with_tokens": with_tokens}),
        &listing,
        limit,
    ))
}
