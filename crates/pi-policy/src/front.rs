//! The engine's front door: build a [`Request`], call [`evaluate`], read the
//! [`Response`] — the decision, the policies that decided it and the
//! diagnostics — the way an authorizer like Cedar is used.
//!
//! It is a thin layer over the public engine API ([`PolicySet::match_generic`],
//! [`crate::Match::allowed`], [`PolicySet::explain`]); decisions are the
//! privacyIDEA `Match` family's (spec/policy.md §2.9), which stays available
//! as the compatibility API for code written against privacyIDEA's names.
//!
//! The decision is privacyIDEA's `check_base_action`: **allow** when an
//! active policy of the scope matches the request, or when the scope has no
//! active policy at all (an unconfigured scope is open); **deny** otherwise,
//! and also when matching fails (the error is in
//! [`Diagnostics::errors`], as privacyIDEA would refuse the request).

use crate::engine::PolicySet;
use crate::error::MatchError;
use crate::explain::Explanation;
use crate::matcher::{GenericParams, LoggedInUser, MatchContext};
use crate::values::{extract_action_values, ActionValues};
use chrono::{DateTime, FixedOffset};
use pi_model::Role;
use serde::Serialize;

/// Who asks: the logged-in caller (privacyIDEA's `logged_in_user`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal<'a> {
    /// Admin or user.
    pub role: Role,
    /// Login name.
    pub username: &'a str,
    /// Realm (`""` for a local admin).
    pub realm: &'a str,
}

/// One authorization question: may this principal do this action (of this
/// scope) on this user/realm/resolver, from this client, now?
///
/// Built with [`Request::new`] and the setters; everything not set does not
/// restrict the match (privacyIDEA's `None`).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    scope: &'a str,
    action: &'a str,
    now: DateTime<FixedOffset>,
    principal: Option<Principal<'a>>,
    user: Option<&'a str>,
    realm: Option<&'a str>,
    resolver: Option<&'a str>,
    client: Option<&'a str>,
    user_agent: Option<&'a str>,
    explain: bool,
}

/// `Request` setters of optional text fields: `field(v)` sets it to `Some(v)`.
macro_rules! optional_setters {
    ($($(#[$doc:meta])* $field:ident;)*) => {$(
        $(#[$doc])*
        pub fn $field(mut self, $field: &'a str) -> Self {
            self.$field = Some($field);
            self
        }
    )*};
}

impl<'a> Request<'a> {
    /// A question about `action` of `scope` at the instant `now` (time
    /// ranges use its local wall-clock time; the engine reads no clock).
    pub fn new(scope: &'a str, action: &'a str, now: DateTime<FixedOffset>) -> Self {
        Request {
            scope,
            action,
            now,
            principal: None,
            user: None,
            realm: None,
            resolver: None,
            client: None,
            user_agent: None,
            explain: false,
        }
    }

    /// The logged-in caller. For scope `admin` an admin principal is the
    /// policies' `adminuser`/`adminrealm`; for scope `user` a user principal
    /// is also the target user unless [`Request::user`] names one.
    pub fn principal(mut self, role: Role, username: &'a str, realm: &'a str) -> Self {
        self.principal = Some(Principal {
            role,
            username,
            realm,
        });
        self
    }

    /// The user the action is about (the policies' `user`/`realm`).
    pub fn user(mut self, user: &'a str, realm: &'a str) -> Self {
        self.user = Some(user);
        self.realm = Some(realm);
        self
    }

    optional_setters! {
        /// Only the realm the action is about.
        realm;
        /// The resolver of the user the action is about.
        resolver;
        /// The client IP address.
        client;
        /// The user-agent product token (e.g. `privacyidea-cp`).
        user_agent;
    }

    /// Also explain the answer (every policy of the scope and why it did or
    /// did not match, [`Response::explanation`]; costs a scan of the scope).
    pub fn explain(mut self, yes: bool) -> Self {
        self.explain = yes;
        self
    }
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The action is allowed.
    Allow,
    /// The action is refused.
    Deny,
}

/// Why the decision is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// At least one policy matched ([`Response::policies`]).
    PolicyMatched,
    /// No active policy exists in the scope: an unconfigured scope allows.
    ScopeUnconfigured,
    /// The scope has active policies and none matched.
    NoPolicyMatched,
    /// Matching failed ([`Diagnostics::errors`]).
    Error,
}

/// What went wrong or looks wrong while answering.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diagnostics {
    /// The matching error (privacyIDEA's message), if matching failed.
    pub errors: Vec<String>,
    /// Problems of the deciding policies that matching tolerates (invalid
    /// regular expressions, times, clients, conditions); filled when the
    /// request asked for an explanation.
    pub warnings: Vec<String>,
}

/// The answer of [`evaluate`].
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    /// Allow or deny.
    pub decision: Decision,
    /// Why.
    pub reason: Reason,
    /// The matching (deciding) policies, by priority.
    pub policies: Vec<String>,
    /// Errors and warnings.
    pub diagnostics: Diagnostics,
    /// Every policy of the scope with why it did (not) match, if asked for.
    pub explanation: Option<Explanation>,
    #[serde(skip)]
    values: ActionValues,
}

impl Response {
    /// `decision == Allow`.
    pub fn is_allowed(&self) -> bool {
        self.decision == Decision::Allow
    }

    /// The values the deciding policies give a value action
    /// (`otppin=userstore` → `userstore`), with the policies giving each;
    /// empty for a boolean action. Conflicts are not checked here
    /// ([`crate::check_for_conflicts`]).
    pub fn values(&self) -> &ActionValues {
        &self.values
    }
}

/// Answer `req` against `set`.
pub fn evaluate(set: &PolicySet, req: &Request<'_>) -> Response {
    let logged_in = req.principal.map(|p| LoggedInUser {
        username: p.username.to_string(),
        realm: p.realm.to_string(),
        role: p.role.as_str().to_string(),
    });
    let mut ctx = MatchContext::new(req.now);
    ctx.client_ip = req.client;
    ctx.user_agent = req.user_agent;
    ctx.logged_in_user = logged_in.as_ref();
    let mut params = GenericParams {
        scope: Some(req.scope),
        action: Some(req.action),
        user: req.user,
        realm: req.realm,
        resolver: req.resolver,
        ..GenericParams::default()
    };
    match req.principal {
        Some(p) if p.role == Role::Admin && req.scope == Role::Admin.scope() => {
            params.adminuser = Some(p.username);
            params.adminrealm = Some(p.realm);
        }
        Some(p)
            if p.role == Role::User && req.scope == Role::User.scope() && params.user.is_none() =>
        {
            params.user = Some(p.username);
            params.realm = Some(p.realm);
        }
        _ => {}
    }
    let m = set.match_generic(&ctx, params);
    let explanation = if req.explain { m.explain().ok() } else { None };
    let answer = m.policies().and_then(|pols| {
        let names: Vec<String> = pols.iter().map(|p| p.name().to_string()).collect();
        let values = match extract_action_values(&pols, req.action, false, false) {
            Ok(v) => v,
            Err(MatchError::NotAValueAction(_)) => ActionValues::default(),
            Err(e) => return Err(e),
        };
        Ok((names, values))
    });
    let (decision, reason, policies, values, errors) = match answer {
        Ok((names, values)) if !names.is_empty() => (
            Decision::Allow,
            Reason::PolicyMatched,
            names,
            values,
            Vec::new(),
        ),
        Ok(_) if !set.has_active_policies(Some(req.scope)) => (
            Decision::Allow,
            Reason::ScopeUnconfigured,
            Vec::new(),
            ActionValues::default(),
            Vec::new(),
        ),
        Ok(_) => (
            Decision::Deny,
            Reason::NoPolicyMatched,
            Vec::new(),
            ActionValues::default(),
            Vec::new(),
        ),
        Err(e) => (
            Decision::Deny,
            Reason::Error,
            Vec::new(),
            ActionValues::default(),
            vec![e.message()],
        ),
    };
    let warnings = explanation
        .iter()
        .flat_map(|x| x.policies.iter())
        .filter(|e| policies.contains(&e.name))
        .flat_map(|e| {
            e.warnings
                .iter()
                .map(|w| format!("policy `{}`: {w}", e.name))
        })
        .collect();
    Response {
        decision,
        reason,
        policies,
        diagnostics: Diagnostics { errors, warnings },
        explanation,
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BuildContext;
    use chrono::TimeZone;
    use pi_model::record::PolicyRecord;

    fn set(records: &[PolicyRecord]) -> PolicySet {
        PolicySet::from_records(
            records,
            BuildContext {
                realm_resolvers: Default::default(),
                local_node: "node1".into(),
            },
        )
    }

    use crate::tests::pol as rec;

    fn now() -> DateTime<FixedOffset> {
        FixedOffset::east_opt(0)
            .unwrap()
            .with_ymd_and_hms(2024, 7, 1, 10, 0, 0)
            .unwrap()
    }

    #[test]
    fn decisions_match_the_admin_gate() {
        let s = set(&[PolicyRecord {
            realm: "realm1".into(),
            adminuser: "alice".into(),
            ..rec("helpdesk", "admin", "enable, disable")
        }]);
        for (admin, realm, action) in [
            ("alice", "realm1", "disable"),
            ("alice", "realm2", "disable"),
            ("bob", "realm1", "disable"),
            ("alice", "realm1", "delete"),
        ] {
            let ctx = MatchContext::new(now());
            let gate = s
                .admin_allowed(&ctx, action, admin, "", None, Some(realm), None)
                .unwrap();
            let req = Request::new("admin", action, now())
                .principal(Role::Admin, admin, "")
                .realm(realm);
            let r = evaluate(&s, &req);
            assert_eq!(r.is_allowed(), gate, "{admin} {realm} {action}");
            assert_eq!(r.policies.is_empty(), !gate);
        }
        let r = evaluate(
            &s,
            &Request::new("admin", "disable", now())
                .principal(Role::Admin, "alice", "")
                .realm("realm2"),
        );
        assert_eq!(
            (r.decision, r.reason),
            (Decision::Deny, Reason::NoPolicyMatched)
        );
    }

    #[test]
    fn unconfigured_scope_values_errors_and_warnings() {
        let s = set(&[
            rec("pin", "authentication", "otppin=userstore"),
            PolicyRecord {
                client: "10.0.0.0/8".into(),
                user: "*bad".into(),
                ..rec("net", "user", "enable")
            },
        ]);
        let r = evaluate(&s, &Request::new("admin", "delete", now()));
        assert_eq!(
            (r.decision, r.reason),
            (Decision::Allow, Reason::ScopeUnconfigured)
        );
        let r = evaluate(&s, &Request::new("authentication", "otppin", now()));
        assert_eq!(r.policies, ["pin"]);
        assert_eq!(r.values().first(), Some(Some("userstore")));
        let r = evaluate(
            &s,
            &Request::new("user", "enable", now())
                .principal(Role::User, "*bad", "r")
                .client("not-an-ip"),
        );
        assert_eq!((r.decision, r.reason), (Decision::Deny, Reason::Error));
        assert_eq!(r.diagnostics.errors.len(), 1);
        let r = evaluate(
            &s,
            &Request::new("user", "enable", now())
                .principal(Role::User, "*bad", "r")
                .client("10.1.2.3")
                .explain(true),
        );
        assert_eq!(r.policies, ["net"]);
        assert!(r.diagnostics.warnings[0].starts_with("policy `net`: user entry `*bad`"));
        assert!(r.explanation.is_some());
    }
}
