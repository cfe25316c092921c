//! privacyIDEA's `Match` API (spec/policy.md §2.9): one `match_policies` call bound to a
//! request context, with `policies`, `any`, `action_values` and `allowed`.

use crate::engine::PolicySet;
use crate::error::MatchError;
use crate::query::{ConditionCheck, ContainerData, HttpData, Query, TokenData, UserObject};
use crate::values::{extract_action_values, ActionValues};
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use pi_model::Policy;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;

/// The logged-in user of a request (`g.logged_in_user`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedInUser {
    /// User name.
    pub username: String,
    /// Realm (admin realm for admins; `""` for local admins).
    pub realm: String,
    /// `admin` or `user`.
    pub role: String,
}

/// The request context privacyIDEA keeps in `g`.
#[derive(Debug, Clone, Copy)]
pub struct MatchContext<'a> {
    /// Client IP (`g.client_ip`).
    pub client_ip: Option<&'a str>,
    /// User-agent product token; `None` is treated as `""` (3.14).
    pub user_agent: Option<&'a str>,
    /// The logged-in user.
    pub logged_in_user: Option<&'a LoggedInUser>,
    /// The token of the request's `serial` (`None`: no serial or no such token).
    pub token: Option<&'a TokenData>,
    /// Request headers/environment.
    pub http: Option<&'a HttpData>,
    /// Request data (`pass`/`password` are never looked at).
    pub request_data: Option<&'a Value>,
    /// The current instant in the server's local offset (time ranges use its
    /// local wall-clock time, `date_within_last` its UTC instant).
    pub now: DateTime<FixedOffset>,
}

impl<'a> MatchContext<'a> {
    /// A context with only the time set.
    pub fn new(now: DateTime<FixedOffset>) -> MatchContext<'a> {
        MatchContext {
            client_ip: None,
            user_agent: None,
            logged_in_user: None,
            token: None,
            http: None,
            request_data: None,
            now,
        }
    }

    fn local(&self) -> NaiveDateTime {
        self.now.naive_local()
    }

    fn utc(&self) -> DateTime<Utc> {
        self.now.with_timezone(&Utc)
    }
}

/// Parameters of [`PolicySet::match_generic`] (privacyIDEA `Match.generic`).
#[derive(Debug, Clone, Copy, Default)]
#[allow(missing_docs)]
pub struct GenericParams<'a> {
    pub scope: Option<&'a str>,
    pub realm: Option<&'a str>,
    pub resolver: Option<&'a str>,
    pub user: Option<&'a str>,
    pub user_object: Option<&'a UserObject>,
    /// `None`: the context's client IP.
    pub client: Option<&'a str>,
    pub action: Option<&'a str>,
    pub adminrealm: Option<&'a str>,
    pub adminuser: Option<&'a str>,
    /// `None`: the context's time.
    pub time: Option<NaiveDateTime>,
    /// `None`: `Some(true)` (privacyIDEA's default `active=True`).
    pub active: Option<Option<bool>>,
    pub unsorted: bool,
    /// `None`: the context's token.
    pub token: Option<&'a TokenData>,
    pub extended_condition_check: ConditionCheck<'a>,
    pub additional_realms: Option<&'a [String]>,
    pub container: Option<&'a ContainerData>,
}

/// A bound policy match.
#[derive(Debug, Clone)]
pub struct Match<'s, 'a> {
    set: &'s PolicySet,
    q: Query<'a>,
    user_object: Option<Cow<'a, UserObject>>,
    additional_realms: Option<Vec<String>>,
}

impl<'s, 'a> Match<'s, 'a>
where
    's: 'a,
{
    fn new(set: &'s PolicySet, ctx: &MatchContext<'a>, q: Query<'a>) -> Match<'s, 'a> {
        let mut q = q;
        if q.user_agent.is_none() {
            q.user_agent = Some("");
        }
        q.pinode = Some(set.context().local_node.as_str());
        q.input.http = ctx.http;
        q.input.request_data = ctx.request_data;
        q.input.now = Some(ctx.utc());
        if q.time.is_none() {
            q.time = Some(ctx.local());
        }
        Match {
            set,
            q,
            user_object: None,
            additional_realms: None,
        }
    }

    /// The query this match runs (user object and additional realms aside).
    pub fn query(&self) -> &Query<'a> {
        &self.q
    }

    /// The matching policies, sorted by priority.
    pub fn policies(&self) -> Result<Vec<&'s Policy>, MatchError> {
        let mut q = self.q;
        q.user_object = self.user_object.as_deref();
        q.additional_realms = self.additional_realms.as_deref();
        // Re-borrow with the set's lifetime: the query's data outlive this call.
        let res = self.set.match_policies(&q)?;
        Ok(res)
    }

    /// The explanation of this match.
    pub fn explain(&self) -> Result<crate::explain::Explanation, MatchError> {
        let mut q = self.q;
        q.user_object = self.user_object.as_deref();
        q.additional_realms = self.additional_realms.as_deref();
        self.set.explain(&q)
    }

    /// At least one policy matches (without building the list).
    pub fn any(&self) -> Result<bool, MatchError> {
        let mut q = self.q;
        q.user_object = self.user_object.as_deref();
        q.additional_realms = self.additional_realms.as_deref();
        self.set.any_match(&q)
    }

    /// Alias of [`Match::any`] for opt-in switches (3.14).
    pub fn enforced(&self) -> Result<bool, MatchError> {
        self.any()
    }

    /// Action values of the matching policies (spec/policy.md §2.8); the audit log gets
    /// [`ActionValues::policy_names`].
    pub fn action_values(
        &self,
        unique: bool,
        allow_white_space: bool,
    ) -> Result<ActionValues, MatchError> {
        let pols = self.policies()?;
        extract_action_values(
            &pols,
            self.q.action.unwrap_or(""),
            unique,
            allow_white_space,
        )
    }

    /// True iff a policy matches **or** there is no active policy at all in
    /// the scope (fail-open for unconfigured scopes; every active policy of the
    /// scope counts, whatever its restrictions).
    pub fn allowed(&self) -> Result<bool, MatchError> {
        let any = self.any()?;
        Ok(any || !self.set.has_active_policies(self.q.scope))
    }
}

/// The scope of a `Match` helper's query.
struct Scope<'a>(&'a str);

/// `scope`, unless it is `admin` (which the helper `helper` refuses, 903).
fn not_admin<'a>(helper: &str, scope: &'a str) -> Result<Scope<'a>, MatchError> {
    if scope == "admin" {
        return Err(MatchError::Matching(format!(
            "Match.{helper} cannot be used for policies with scope ADMIN"
        )));
    }
    Ok(Scope(scope))
}

impl<'a> Scope<'a> {
    /// The query every `Match` helper starts from: scope, action, active
    /// policies only, client and user agent from the context.
    fn base(self, ctx: &MatchContext<'a>, action: Option<&'a str>) -> Query<'a> {
        Query {
            scope: Some(self.0),
            action,
            active: Some(true),
            client: ctx.client_ip,
            user_agent: ctx.user_agent,
            ..Query::default()
        }
    }
}

impl PolicySet {
    /// `Match.action_only(g, scope, action)`: scope + action, client and UA
    /// from the context, no user, no token.
    pub fn match_action_only<'s, 'a>(
        &'s self,
        ctx: &MatchContext<'a>,
        scope: &'a str,
        action: Option<&'a str>,
    ) -> Result<Match<'s, 'a>, MatchError>
    where
        's: 'a,
    {
        let q = not_admin("action_only", scope)?.base(ctx, action);
        Ok(Match::new(self, ctx, q))
    }

    /// `Match.realm(g, scope, action, realm)`.
    pub fn match_realm<'s, 'a>(
        &'s self,
        ctx: &MatchContext<'a>,
        scope: &'a str,
        action: Option<&'a str>,
        realm: Option<&'a str>,
    ) -> Result<Match<'s, 'a>, MatchError>
    where
        's: 'a,
    {
        let mut q = not_admin("realm", scope)?.base(ctx, action);
        q.realm = realm;
        q.input.token = ctx.token;
        Ok(Match::new(self, ctx, q))
    }

    /// `Match.user(g, scope, action, user_object)`; `None` = no user filter.
    pub fn match_user<'s, 'a>(
        &'s self,
        ctx: &MatchContext<'a>,
        scope: &'a str,
        action: Option<&'a str>,
        user: Option<&'a UserObject>,
    ) -> Result<Match<'s, 'a>, MatchError>
    where
        's: 'a,
    {
        let mut q = not_admin("user", scope)?.base(ctx, action);
        q.input.token = ctx.token;
        let mut m = Match::new(self, ctx, q);
        m.user_object = user.map(Cow::Borrowed);
        Ok(m)
    }

    /// `Match.token(g, scope, action, token)`: the owner (or an empty user)
    /// and the token realms as additional realms; the token feeds conditions.
    /// `token = None`: empty user, no realms, no token.
    pub fn match_token<'s, 'a>(
        &'s self,
        ctx: &MatchContext<'a>,
        scope: &'a str,
        action: Option<&'a str>,
        token: Option<(&'a TokenData, Option<&'a UserObject>, &'a [String])>,
    ) -> Result<Match<'s, 'a>, MatchError>
    where
        's: 'a,
    {
        let mut q = Scope(scope).base(ctx, action);
        let (owner, realms) = match token {
            Some((data, owner, realms)) => {
                q.input.token = Some(data);
                (
                    owner
                        .map(Cow::Borrowed)
                        .unwrap_or_else(|| Cow::Owned(UserObject::default())),
                    Some(realms.to_vec()),
                )
            }
            None => (Cow::Owned(UserObject::default()), None),
        };
        let mut m = Match::new(self, ctx, q);
        m.user_object = Some(owner);
        m.additional_realms = realms;
        Ok(m)
    }

    /// `Match.admin(g, action, user_obj, serial, container_serial)`:
    /// admin scope, adminuser/adminrealm from the logged-in admin.
    /// `token = None` uses the context's token.
    pub fn match_admin<'s, 'a>(
        &'s self,
        ctx: &MatchContext<'a>,
        action: Option<&'a str>,
        user: Option<&'a UserObject>,
        token: Option<&'a TokenData>,
        container: Option<&'a ContainerData>,
    ) -> Result<Match<'s, 'a>, MatchError>
    where
        's: 'a,
    {
        let lu = ctx
            .logged_in_user
            .filter(|u| u.role == "admin")
            .ok_or_else(|| {
                MatchError::Matching(
                    "Policies with scope ADMIN can only be retrieved by admins".into(),
                )
            })?;
        let mut q = Query {
            scope: Some("admin"),
            action,
            active: Some(true),
            adminuser: Some(lu.username.as_str()),
            adminrealm: Some(lu.realm.as_str()),
            client: ctx.client_ip,
            user_agent: ctx.user_agent,
            ..Query::default()
        };
        q.input.token = token.or(ctx.token);
        q.input.container = container;
        let mut m = Match::new(self, ctx, q);
        m.user_object = user.map(Cow::Borrowed);
        Ok(m)
    }

    /// `Match.admin_or_user(g, action, user_obj, additional_realms, container_serial)`.
    pub fn match_admin_or_user<'s, 'a>(
        &'s self,
        ctx: &MatchContext<'a>,
        action: Option<&'a str>,
        user: Option<&'a UserObject>,
        additional_realms: Option<&'a [String]>,
        container: Option<&'a ContainerData>,
    ) -> Result<Match<'s, 'a>, MatchError>
    where
        's: 'a,
    {
        let lu = ctx
            .logged_in_user
            .ok_or_else(|| MatchError::Matching("Unknown role".into()))?;
        let mut q = Query {
            action,
            active: Some(true),
            client: ctx.client_ip,
            user_agent: ctx.user_agent,
            ..Query::default()
        };
        match lu.role.as_str() {
            "admin" => {
                q.scope = Some("admin");
                q.adminuser = Some(lu.username.as_str());
                q.adminrealm = Some(lu.realm.as_str());
            }
            "user" => {
                q.scope = Some("user");
                // privacyIDEA: `if not user_obj` — an empty user object counts as none.
                if user.is_none_or_empty() {
                    q.user = Some(lu.username.as_str());
                    q.realm = Some(lu.realm.as_str());
                }
            }
            _ => return Err(MatchError::Matching("Unknown role".into())),
        }
        q.input.token = ctx.token;
        q.input.container = container;
        let mut m = Match::new(self, ctx, q);
        m.user_object = user.map(Cow::Borrowed);
        m.additional_realms = additional_realms.map(<[String]>::to_vec);
        Ok(m)
    }

    /// `Match.generic(g, …)`: every parameter explicit; client, token and time
    /// default to the context's.
    pub fn match_generic<'s, 'a>(
        &'s self,
        ctx: &MatchContext<'a>,
        p: GenericParams<'a>,
    ) -> Match<'s, 'a>
    where
        's: 'a,
    {
        let mut q = Query {
            scope: p.scope,
            realm: p.realm,
            resolver: p.resolver,
            user: p.user,
            client: p.client.or(ctx.client_ip),
            action: p.action,
            adminrealm: p.adminrealm,
            adminuser: p.adminuser,
            time: p.time,
            active: p.active.unwrap_or(Some(true)),
            unsorted: p.unsorted,
            conditions: p.extended_condition_check,
            user_agent: ctx.user_agent,
            ..Query::default()
        };
        q.input.token = p.token.or(ctx.token);
        q.input.container = p.container;
        let mut m = Match::new(self, ctx, q);
        m.user_object = p.user_object.map(Cow::Borrowed);
        m.additional_realms = p.additional_realms.map(<[String]>::to_vec);
        m
    }

    /// The admin gate of `check_base_action`: `Match.generic(scope=admin,
    /// action, user, resolver, realm, adminrealm, adminuser).allowed()`.
    #[allow(clippy::too_many_arguments)]
    pub fn admin_allowed(
        &self,
        ctx: &MatchContext<'_>,
        action: &str,
        adminuser: &str,
        adminrealm: &str,
        user: Option<&str>,
        realm: Option<&str>,
        resolver: Option<&str>,
    ) -> Result<bool, MatchError> {
        self.match_generic(
            ctx,
            GenericParams {
                scope: Some("admin"),
                action: Some(action),
                adminuser: Some(adminuser),
                adminrealm: Some(adminrealm),
                user,
                realm,
                resolver,
                ..GenericParams::default()
            },
        )
        .allowed()
    }
}

trait NoneOrEmpty {
    fn is_none_or_empty(&self) -> bool;
}

impl NoneOrEmpty for Option<&UserObject> {
    fn is_none_or_empty(&self) -> bool {
        self.is_none_or(|u| u.is_empty())
    }
}
