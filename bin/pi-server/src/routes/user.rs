//! `GET /user/`, `GET /user/count` and `GET /user/settings`: the users the
//! resolvers of the realms know, as the released privacyIDEA 3.14 lists and
//! counts them (`api/user.py`): the `realmadmin` pre-policy (what a
//! restricted admin may list), the `userlist` gate (`check_base_action`),
//! the token-ownership right, then `get_user_list` on the blocking pool.

use super::resource;
use crate::auth::{Admin, Auth, Caller, Role};
use crate::envelope;
use crate::error::{ApiError, ApiResult};
use crate::params::{python_str, Params};
use crate::server::AppState;
use actix_web::{web, HttpResponse};
use pi_admin::gate::{self, split_realms, Target, UserList};
use pi_admin::policyset::{map_match_error, match_context_parts};
use pi_admin::userlist::{self, CustomAttributes, ListSpec, Listing, UserRestriction};
use pi_admin::Snapshot;
use pi_policy::{FieldMatcher, GenericParams};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

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

/// `PI_USERLIST_MAX` from pi.cfg (a positive integer), else the default.
fn userlist_max(state: &AppState) -> usize {
    state
        .cfg
        .get("PI_USERLIST_MAX")
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
    params.get_str(key).filter(|s| !s.is_empty())
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
    let data = Value::Object(params.all().clone());
    let ctx = parts.context(Some(&data));
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
                1 => params.set("realm", listed[0].clone()),
                _ => params.set("realm", Value::Array(listed)),
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
    let data = Value::Object(params.all().clone());
    let ctx = parts.context(Some(&data));
    let realm = params.get_str("realm");
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
    let data = Value::Object(params.all().clone());
    let ctx = parts.context(Some(&data));
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
    if crate::params::is_true(v) {
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
fn search_filter(params: &Params) -> pi_realm::SearchFilter {
    let mut search = pi_realm::SearchFilter::new();
    search.insert("username".into(), "*".into());
    for (k, v) in params.all() {
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

/// Everything before the listing: the user role's forced identity,
/// `realmadmin`, the `userlist` gate. Returns the snapshot, the rewritten
/// parameters and the restriction.
async fn prepare(
    state: &AppState,
    caller: &Caller,
    mut params: Params,
) -> ApiResult<(Arc<Snapshot>, Params, Restriction)> {
    let snap = state.snapshot().await?;
    match caller.role {
        Role::User => {
            params.set("user", Value::String(caller.username.clone()));
            params.set("realm", Value::String(caller.realm.clone()));
            params.remove("resolver");
            params.remove("userid");
            let user =
                pi_admin::users::resolve(state, &snap, &caller.username, Some(&caller.realm))
                    .await?;
            params.set("resolver", Value::String(user.resolver.clone()));
            user_gate(&snap, caller, &params, &user.resolver)?;
            Ok((snap, params, Restriction::default()))
        }
        Role::Admin => {
            let restriction = restrict_user_list(&snap, caller, &mut params)?;
            let admin = Admin::check(caller.clone())?;
            gate::grant::<UserList>(snap.clone(), &admin, &Target::from_params(params.all()))?;
            Ok((snap, params, restriction))
        }
    }
}

/// Custom user attributes by `(user id, resolver, realm)`, when
/// `include_custom_attributes` (default true) and any exist.
async fn custom_attributes(
    state: &AppState,
    params: &Params,
) -> ApiResult<Option<CustomAttributes>> {
    if !params.is_true("include_custom_attributes", true) {
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

async fn run(state: &AppState, snap: Arc<Snapshot>, spec: ListSpec) -> ApiResult<Listing> {
    let node = state.node.uuid.clone();
    web::block(move || userlist::list_users(&snap, &node, &spec))
        .await
        .map_err(ApiError::internal)
}

fn detail(listing: &Listing, limit: usize) -> Option<Value> {
    let mut d = Map::new();
    if !listing.failures.is_empty() {
        d.insert("skipped_resolvers".into(), json!(listing.failures));
    }
    if listing.truncated {
        log::warn!("user list cut at PI_USERLIST_MAX = {limit} users");
        d.insert("truncated".into(), json!(true));
        d.insert("userlist_max".into(), json!(limit));
    }
    if d.is_empty() {
        return None;
    }
    d.insert("threadid".into(), json!(envelope::thread_id()));
    Some(Value::Object(d))
}

fn answer(value: Value, detail: Option<Value>) -> HttpResponse {
    match detail {
        Some(d) => envelope::json_response(
            actix_web::http::StatusCode::OK,
            &envelope::success_body_with_detail(value, d),
        ),
        None => envelope::ok(value),
    }
}

/// `GET /user/`.
#[utoipa::path(
    get, path = "/user/", tag = "user", params(crate::openapi::UserQuery),
    responses((status = 200, description = "The users of the realm(s), with the attributes asked for", body = crate::openapi::Envelope)),
)]
async fn list(
    state: web::Data<AppState>,
    Auth(caller): Auth<Caller>,
    params: Params,
) -> crate::error::Reply {
    let (snap, params, restriction) = prepare(&state, &caller, params).await?;
    let filter_tokens = !matches!(params.get("has_tokens"), None | Some(Value::Null))
        && params.get_str("has_tokens").as_deref() != Some("");
    if filter_tokens {
        check_token_ownership_right(&snap, &caller, &params)?;
    }
    let requested: Option<Vec<String>> = match params.get("attributes") {
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
    };
    let custom = custom_attributes(&state, &params).await?;
    let wanted_tokens = has_tokens(&params)?;
    let limit = userlist_max(&state);
    let spec = ListSpec {
        realm_filters: realm_filters(&snap, &params),
        search: search_filter(&params),
        requested,
        allowed_resolvers: restriction.allowed_resolvers,
        user_filter: restriction.user_filter,
        custom_attributes: custom,
        limit,
    };
    let listing = run(&state, snap, spec).await?;
    let owners = match wanted_tokens {
        Some(_) if !listing.users.is_empty() => Some(state.db(|s| s.token_owner_keys()).await?),
        _ => None,
    };
    let detail = detail(&listing, limit);
    let users: Vec<Value> = listing
        .users
        .into_iter()
        .filter(|u| match (&owners, wanted_tokens) {
            (Some(o), Some(want)) => u.owner_key.as_ref().is_some_and(|k| o.contains(k)) == want,
            _ => true,
        })
        .map(|u| Value::Object(u.info))
        .collect();
    Ok(answer(Value::Array(users), detail))
}

/// `GET /user/count`.
#[utoipa::path(
    get, path = "/user/count", tag = "user", params(crate::openapi::UserQuery),
    responses((status = 200, description = "The number of users the same query would list", body = crate::openapi::Envelope)),
)]
async fn count(
    state: web::Data<AppState>,
    Auth(caller): Auth<Caller>,
    params: Params,
) -> crate::error::Reply {
    let (snap, mut params, restriction) = prepare(&state, &caller, params).await?;
    check_token_ownership_right(&snap, &caller, &params)?;
    params.remove("has_tokens");
    let limit = userlist_max(&state);
    let spec = ListSpec {
        realm_filters: realm_filters(&snap, &params),
        search: search_filter(&params),
        requested: Some(
            ["username", "userid", "realm", "resolver"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        ),
        allowed_resolvers: restriction.allowed_resolvers,
        user_filter: restriction.user_filter,
        custom_attributes: None,
        limit,
    };
    let listing = run(&state, snap, spec).await?;
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
    Ok(answer(
        json!({"count": listing.users.len(), "with_tokens": with_tokens}),
        detail(&listing, limit),
    ))
}

/// `GET /user/settings`: the caller's stored WebUI settings document (an
/// empty object when none is stored). A local admin is keyed by name; any
/// caller with a realm by the resolver identity of its login.
#[utoipa::path(
    get, path = "/user/settings", tag = "user",
    responses((status = 200, description = "The calling user's WebUI settings", body = crate::openapi::Envelope)),
)]
async fn settings(state: web::Data<AppState>, Auth(caller): Auth<Caller>) -> crate::error::Reply {
    let stored = if caller.role == Role::Admin && caller.realm.is_empty() {
        let name = caller.username.clone();
        state
            .db(move |s| s.user_settings(&pi_store::SettingsSubject::LocalAdmin(&name)))
            .await?
    } else {
        let snap = state.snapshot().await?;
        let user =
            pi_admin::users::resolve(&state, &snap, &caller.username, Some(&caller.realm)).await?;
        if user.exists() {
            state
                .db(move |s| {
                    s.user_settings(&pi_store::SettingsSubject::User {
                        user_id: &user.uid,
                        resolver: &user.resolver,
                        realm: &user.realm,
                    })
                })
                .await?
        } else {
            log::warn!(
                "Could not resolve settings subject for user '{}' in realm '{}'.",
                caller.username,
                caller.realm
            );
            None
        }
    };
    let value = stored
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .filter(|v| !v.is_null())
        .unwrap_or_else(|| json!({}));
    Ok(envelope::ok(value))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/user/").route(web::get().to(list)))
        .service(resource("/user/count").route(web::get().to(count)))
        .service(resource("/user/settings").route(web::get().to(settings)));
}
