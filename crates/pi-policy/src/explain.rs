//! Explanations: for a query, every policy of the queried scope with the
//! first attribute that excluded it, or its position among the matches.

use crate::compiled::{CompiledCondition, CompiledPolicy, Entries};
use crate::engine::{Attribute, PolicySet, Prepared, RealmQ};
use crate::error::MatchError;
use crate::query::Query;
use serde::{Deserialize, Serialize};

/// Outcome for one policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The policy is in the result.
    Matched,
    /// An attribute, the time or a condition excluded it.
    Excluded,
    /// Evaluating it fails (condition error, invalid client query); in
    /// `match_policies` the first such error (in result order) aborts the query.
    Error,
}

/// One policy in an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainEntry {
    /// Policy name.
    pub name: String,
    /// Scope.
    pub scope: String,
    /// Priority.
    pub priority: i64,
    /// Active flag.
    pub active: bool,
    /// Outcome.
    pub outcome: Outcome,
    /// The excluding attribute (for `excluded`), or `conditions` for errors there.
    pub attribute: Option<Attribute>,
    /// Human-readable reason.
    pub detail: String,
    /// Position in the result (0-based) for matched policies.
    pub position: Option<usize>,
    /// Problems of the stored policy (invalid regular expressions, time,
    /// client entries, conditions) that matching tolerates.
    pub warnings: Vec<String>,
}

/// The explanation of a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// Names of the matching policies in result order.
    pub matched: Vec<String>,
    /// The error `match_policies` returns for this query, if any.
    pub error: Option<String>,
    /// Every policy of the queried scope (all policies without scope), load order.
    pub policies: Vec<ExplainEntry>,
}

fn list(v: &[String]) -> String {
    format!("[{}]", v.join(", "))
}

fn opt(v: Option<&str>) -> String {
    v.map(|s| format!("`{s}`")).unwrap_or_else(|| "None".into())
}

fn warnings(p: &CompiledPolicy) -> Vec<String> {
    let mut w = Vec::new();
    for (field, l) in [
        ("action", p.action()),
        ("realm", p.realm()),
        ("adminrealm", &p.rare().adminrealm),
        ("user", p.user()),
        ("adminuser", p.adminuser()),
        ("resolver", p.resolver()),
    ] {
        for (raw, err) in l.invalid() {
            w.push(format!(
                "{field} entry `{raw}` is not a valid regular expression ({err}); it only matches the identical value (privacyIDEA fails with HTTP 500 here)"
            ));
        }
    }
    if let Some(Err(e)) = &p.rare().time {
        w.push(format!(
            "time `{}` is invalid ({e}); the policy never matches",
            p.policy.time()
        ));
    }
    for bad in p.policy.client_list().invalid_entries() {
        w.push(format!(
            "client entry `{bad}` does not parse; it matches nothing"
        ));
    }
    for c in &p.rare().conditions {
        if let CompiledCondition::Invalid(e) = c {
            w.push(format!("active condition is invalid: {e}"));
        }
    }
    w
}

fn detail(attr: Attribute, p: &CompiledPolicy, pq: &Prepared<'_>) -> String {
    let pol = &p.policy;
    let q = &pq.q;
    let search_word = |l: &[crate::compiled::Entry], v: &str| {
        if l.search(v).excluded {
            "excluded by a negation in"
        } else {
            "not matched by"
        }
    };
    match attr {
        Attribute::Name => format!("name is not {}", opt(q.name)),
        Attribute::Active => format!("active is {}, query asks for {}", pol.active(), q.active.unwrap_or(true)),
        Attribute::Scope => format!("scope `{}` is not {}", pol.scope(), opt(q.scope)),
        Attribute::Action => {
            let a = q.action.unwrap_or("");
            format!(
                "action `{a}` {} {}",
                search_word(p.action(), a),
                list(&pol.action().keys().map(str::to_string).collect::<Vec<_>>())
            )
        }
        Attribute::Realm => match &pq.realm_q {
            RealmQ::List(l) => format!(
                "none of the realms [{}] is listed in {} (negations and regular expressions do not apply to a realm list)",
                l.join(", "),
                list(pol.realm())
            ),
            _ => {
                let r = pq.realm.unwrap_or("");
                format!("realm `{r}` {} {}", search_word(p.realm(), r), list(pol.realm()))
            }
        },
        Attribute::Adminrealm => {
            let r = q.adminrealm.unwrap_or("");
            format!("admin realm `{r}` {} {}", search_word(&p.rare().adminrealm, r), list(pol.adminrealm()))
        }
        Attribute::User => {
            let u = pq.user.unwrap_or("");
            let ci = if pol.user_case_insensitive() { " (case-insensitive)" } else { "" };
            format!("user `{u}`{ci} {} {}", search_word(p.rare().user_lower.as_deref().unwrap_or(p.user()), &if p.rare().user_lower.is_some() { u.to_lowercase() } else { u.to_string() }), list(pol.user()))
        }
        Attribute::UserRealmPairing => format!(
            "with several realms the user `{}` and realm `{}` must both be listed literally (user {}, realm {})",
            pq.user.unwrap_or(""),
            pq.realm.unwrap_or(""),
            list(pol.user()),
            list(pol.realm())
        ),
        Attribute::Adminuser => {
            let u = q.adminuser.unwrap_or("");
            format!("admin user `{u}` not admitted by {}", list(pol.adminuser()))
        }
        Attribute::Resolver => {
            if pol.check_all_resolvers() {
                if pol.resolver().is_empty() {
                    "check_all_resolvers is set but the policy lists no resolver (dropped whenever a resolver is queried)".into()
                } else if pq.ordered_resolvers().is_none() {
                    "check_all_resolvers needs a user and a realm in the query".into()
                } else {
                    format!(
                        "none of the realm's resolvers [{}] is admitted by {} (listed and not excluded)",
                        pq.ordered_resolvers().unwrap_or(&[]).join(", "),
                        list(pol.resolver())
                    )
                }
            } else {
                let r = pq.resolver.unwrap_or("");
                format!("resolver `{r}` {} {}", search_word(p.resolver(), r), list(pol.resolver()))
            }
        }
        Attribute::Pinode => format!("node {} not in {}", opt(q.pinode), list(pol.pinode())),
        Attribute::UserAgent => format!("user agent {} not in {}", opt(q.user_agent), list(pol.user_agents())),
        Attribute::Client => format!("client {} not admitted by {}", opt(q.client), list(pol.client())),
        Attribute::Time => match &p.rare().time {
            Some(Err(e)) => format!("time `{}` is invalid ({e})", pol.time()),
            _ => format!("outside `{}`", pol.time()),
        },
        Attribute::Conditions => "a condition is false".into(),
    }
}

impl PolicySet {
    /// Explain a `match_policies` query: every policy of `q.scope` (all
    /// policies if `None`) with the first attribute that excluded it, or its
    /// position among the matches. Unlike `match_policies`, a condition error
    /// is reported for its policy instead of aborting.
    pub fn explain(&self, q: &Query<'_>) -> Result<Explanation, MatchError> {
        let pq = self.prepare(q)?;
        let mut entries = Vec::new();
        let mut passing: Vec<(i64, u8, usize)> = Vec::new();
        for (i, p) in self.in_load_order().enumerate() {
            if q.scope.is_some_and(|s| p.policy.scope() != s) {
                continue;
            }
            let mut e = ExplainEntry {
                name: p.policy.name().to_string(),
                scope: p.policy.scope().to_string(),
                priority: p.policy.priority(),
                active: p.policy.active(),
                outcome: Outcome::Matched,
                attribute: None,
                detail: String::new(),
                position: None,
                warnings: warnings(p),
            };
            match self.check(p, &pq) {
                Err(Some(attr)) => {
                    e.outcome = Outcome::Excluded;
                    e.attribute = Some(attr);
                    e.detail = detail(attr, p, &pq);
                }
                Err(None) => {
                    e.outcome = Outcome::Error;
                    e.attribute = Some(Attribute::Client);
                    e.detail = format!("client {} is not an IP address", opt(q.client));
                }
                Ok(group) => {
                    if !PolicySet::check_time(p, q) {
                        e.outcome = Outcome::Excluded;
                        e.attribute = Some(Attribute::Time);
                        e.detail = detail(Attribute::Time, p, &pq);
                    } else {
                        match self.conditions_hold(p, q) {
                            Ok(true) => {
                                e.detail = "all attributes match".into();
                                passing.push((p.policy.priority(), group, entries.len()));
                            }
                            Ok(false) => {
                                e.outcome = Outcome::Excluded;
                                e.attribute = Some(Attribute::Conditions);
                                e.detail = detail(Attribute::Conditions, p, &pq);
                            }
                            Err(err) => {
                                e.outcome = Outcome::Error;
                                e.attribute = Some(Attribute::Conditions);
                                e.detail = err.to_string();
                            }
                        }
                    }
                }
            }
            let _ = i;
            entries.push(e);
        }
        if q.unsorted {
            passing.sort_by_key(|&(_, g, i)| (g, i));
        } else {
            passing.sort_by_key(|&(pr, g, i)| (pr, g, i));
        }
        let mut matched = Vec::new();
        for (pos, &(_, _, i)) in passing.iter().enumerate() {
            entries[i].position = Some(pos);
            matched.push(entries[i].name.clone());
        }
        let error = self.match_policies(q).err().map(|e| e.to_string());
        Ok(Explanation {
            matched,
            error,
            policies: entries,
        })
    }
}
