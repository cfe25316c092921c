//! UI helpers (spec/policy.md §2.10): rights and main menus for `/auth`, enrollable token
//! types for `/auth/rights`.

use crate::engine::PolicySet;
use crate::error::MatchError;
use crate::matcher::LoggedInUser;
use crate::query::{ConditionCheck, ConditionInput, Query, UserObject};
use chrono::{DateTime, FixedOffset, Utc};
use pi_model::condition::Section;
use pi_model::defs::policy_defs;
use pi_model::tokentypes::TOKEN_TYPES;
use std::collections::BTreeMap;

const USERINFO_ONLY: &[Section] = &[Section::UserInfo];

/// The query for a login's own policies (`ui_get_rights`,
/// `ui_get_enroll_tokentypes`): admins by adminuser/adminrealm without
/// conditions; users by their user object (`user`, else `username@realm`
/// kept in `fallback`) with only `userinfo` conditions; time ranges at
/// `now`. `None` for a scope other than `admin`/`user`.
fn login_query<'a>(
    scope: &'a str,
    username: &'a str,
    realm: &'a str,
    (client, user_agent, user): (Option<&'a str>, Option<&'a str>, Option<&'a UserObject>),
    fallback: &'a mut Option<UserObject>,
    now: DateTime<FixedOffset>,
) -> Option<Query<'a>> {
    let mut q = Query {
        scope: Some(scope),
        active: Some(true),
        client,
        user_agent,
        time: Some(now.naive_local()),
        input: ConditionInput {
            now: Some(now.with_timezone(&Utc)),
            ..ConditionInput::default()
        },
        ..Query::default()
    };
    match scope {
        "admin" => {
            q.adminuser = Some(username);
            q.adminrealm = Some(realm);
            q.conditions = ConditionCheck::Skip;
        }
        "user" => {
            let uo: &'a UserObject = match user {
                Some(u) => u,
                None => fallback.insert(UserObject::new(username, realm, "")),
            };
            q.user_object = Some(uo);
            q.conditions = ConditionCheck::Sections(USERINFO_ONLY);
        }
        _ => return None,
    }
    Some(q)
}

impl PolicySet {
    /// privacyIDEA's `ui_get_rights(scope, realm, username, client, user_agent)`.
    ///
    /// * `admin`: policies matched on adminuser/adminrealm only, no conditions;
    /// * `user`: user object `user` (or `username@realm` without resolver or
    ///   attributes if `None`), only `userinfo` conditions;
    /// * other scopes: PolicyError `Unknown scope: <scope>`.
    ///
    /// Rights are every action with a truthy value plus `action=value` for
    /// text values (first-seen order, de-duplicated). If the scope has no
    /// active policy at all, all action names of the scope in the catalogue.
    /// `user_agent = None` does not filter on user agents (as privacyIDEA
    /// when called without one). No node filter is applied.
    #[allow(clippy::too_many_arguments)]
    pub fn ui_get_rights(
        &self,
        scope: &str,
        realm: &str,
        username: &str,
        client: Option<&str>,
        user_agent: Option<&str>,
        user: Option<&UserObject>,
        now: DateTime<FixedOffset>,
    ) -> Result<Vec<String>, MatchError> {
        let mut fallback = None;
        let Some(q) = login_query(
            scope,
            username,
            realm,
            (client, user_agent, user),
            &mut fallback,
            now,
        ) else {
            return Err(MatchError::Policy(format!("Unknown scope: {scope}")));
        };
        if !self.has_active_policies(Some(scope)) {
            return Ok(policy_defs()
                .scope(scope)
                .map(|s| s.names().map(str::to_string).collect())
                .unwrap_or_default());
        }
        let mut rights: Vec<String> = Vec::new();
        let mut add = |r: String| {
            if !rights.contains(&r) {
                rights.push(r);
            }
        };
        for p in self.match_policies(&q)? {
            for (action, value) in p.action().iter() {
                if value.is_truthy() {
                    add(action.to_string());
                    if let Some(t) = value.as_text() {
                        add(format!("{action}={t}"));
                    }
                }
            }
        }
        Ok(rights)
    }

    /// privacyIDEA's `ui_get_enroll_tokentypes(client, logged_in_user,
    /// user_agent)` (`GET /auth/rights`): the token types the role may enroll
    /// in the web UI, type → description. If the role's scope has active
    /// policies, a type stays only if a policy grants `enroll<TYPE>` to the
    /// login (admins: matched on adminuser/adminrealm, no conditions;
    /// users: user object `user` or `username@realm`, only `userinfo`
    /// conditions; time ranges at `now`; no node filter).
    /// A role other than `admin`/`user`: PolicyError `Unknown role: <role>`.
    pub fn ui_get_enroll_tokentypes(
        &self,
        client: Option<&str>,
        logged_in_user: &LoggedInUser,
        user_agent: Option<&str>,
        user: Option<&UserObject>,
        now: DateTime<FixedOffset>,
    ) -> Result<BTreeMap<String, String>, MatchError> {
        let role = logged_in_user.role.as_str();
        if role != "admin" && role != "user" {
            return Err(MatchError::Policy(format!("Unknown role: {role}")));
        }
        let types = TOKEN_TYPES.iter().filter(|t| t.ui_enroll(role));
        if !self.has_active_policies(Some(role)) {
            return Ok(types
                .map(|t| (t.name.to_string(), t.description.to_string()))
                .collect());
        }
        let mut fallback = None;
        let Some(q) = login_query(
            role,
            &logged_in_user.username,
            &logged_in_user.realm,
            (client, user_agent, user),
            &mut fallback,
            now,
        ) else {
            return Err(MatchError::Policy(format!("Unknown role: {role}")));
        };
        let mut out = BTreeMap::new();
        for t in types {
            let action = t.enroll_action();
            let mut tq = q;
            tq.action = Some(&action);
            if !self.match_policies(&tq)?.is_empty() {
                out.insert(t.name.to_string(), t.description.to_string());
            }
        }
        Ok(out)
    }

    /// privacyIDEA's `ui_get_main_menus(logged_in_user, client, user_agent)`:
    /// the union of the `mainmenu` entries of all granted rights (sorted).
    pub fn ui_get_main_menus(
        &self,
        logged_in_user: &LoggedInUser,
        client: Option<&str>,
        user_agent: Option<&str>,
        user: Option<&UserObject>,
        now: DateTime<FixedOffset>,
    ) -> Result<Vec<String>, MatchError> {
        let rights = self.ui_get_rights(
            &logged_in_user.role,
            &logged_in_user.realm,
            &logged_in_user.username,
            client,
            user_agent,
            user,
            now,
        )?;
        Ok(menus_for_rights(&logged_in_user.role, &rights))
    }
}

/// The main menus the given rights of `role` make visible (sorted, unique).
pub fn menus_for_rights(role: &str, rights: &[String]) -> Vec<String> {
    let mut menus: Vec<String> = Vec::new();
    if let Some(defs) = policy_defs().scope(role) {
        for r in rights {
            if let Some(d) = defs.get(r) {
                for m in &d.mainmenu {
                    if !menus.contains(m) {
                        menus.push(m.clone());
                    }
                }
            }
        }
    }
    menus.sort();
    menus
}
