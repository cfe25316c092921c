//! The policy linter: static findings about a policy set that privacyIDEA
//! only reveals at request time, or never.
//!
//! [`lint`] takes the stored policy records (in load order) and the names
//! that exist (realms, resolvers, nodes, superuser realms) and returns
//! [`Finding`]s — each with a [`Code`], a [`Severity`], the policy it is
//! about (`None` for findings about the whole set) and a one-line message.
//! The order is deterministic: set-wide findings first, then by policy
//! name, code and message.
//!
//! The linter never changes what the engine decides; it explains traps of
//! privacyIDEA's matching rules (negation-only lists, entries that are
//! regular expressions, equal priorities with different values, …).
//!
//! Findings and how they are decided:
//!
//! | code | severity | when |
//! | --- | --- | --- |
//! | `shadowed` | warning | an active policy of the same scope with a higher priority (lower number) matches every request this one matches and sets every action it sets |
//! | `conflicting_values` | error / warning | two active policies of one scope and equal priority give one action different values: error when every request matching one matches the other (privacyIDEA raises `There are policies with conflicting actions` on it), warning when they may overlap |
//! | `unknown_realm`, `unknown_adminrealm`, `unknown_resolver`, `unknown_node` | warning | a literal entry names something that does not exist (admin realms are checked against the superuser realms) |
//! | `invalid_regex` | error | a non-negated entry is not a valid regular expression (privacyIDEA answers 500 for every request reaching the policy) |
//! | `regex_matches_everything` | info | a regular-expression entry matches every value (write `*`) |
//! | `regex_matches_nothing` | warning | a regular-expression entry can never match |
//! | `negation_only` | warning | a list holds exclusions only, so it matches no concrete value |
//! | `action_excludes_everything` | warning | the action list is `*` with exclusions that exclude every action of the scope |
//! | `admin_lockout` | error | admin policies exist, but none can grant `policywrite` to any administrator |
//! | `time_never_matches` | warning | the time range does not parse, or every item's first day is after its last day |

use crate::FieldMatcher;
use pi_model::action::ActionValue;
use pi_model::pattern::{compile_entry, entry_pattern, is_literal};
use pi_model::record::PolicyRecord;
use pi_model::Policy;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Requests fail, or the configuration cannot do what it is obviously meant to.
    Error,
    /// Very likely a mistake.
    Warning,
    /// Worth knowing; harmless.
    Info,
}

impl Severity {
    /// The lower-case name (`error`, `warning`, `info`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// What a finding is about (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// Locks every administrator out of `policywrite`.
    AdminLockout,
    /// Never decisive: a higher-priority policy always matches first.
    Shadowed,
    /// Different values for one action at equal priority.
    ConflictingValues,
    /// A realm that does not exist.
    UnknownRealm,
    /// An admin realm that is not a superuser realm.
    UnknownAdminrealm,
    /// A resolver that does not exist.
    UnknownResolver,
    /// A node that does not exist.
    UnknownNode,
    /// An entry that is not a valid regular expression.
    InvalidRegex,
    /// A regular expression that matches every value.
    RegexMatchesEverything,
    /// A regular expression that matches no value.
    RegexMatchesNothing,
    /// A list of exclusions only.
    NegationOnly,
    /// `*` with exclusions of every action of the scope.
    ActionExcludesEverything,
    /// A time range that never matches.
    TimeNeverMatches,
}

impl Code {
    /// The snake-case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::AdminLockout => "admin_lockout",
            Code::Shadowed => "shadowed",
            Code::ConflictingValues => "conflicting_values",
            Code::UnknownRealm => "unknown_realm",
            Code::UnknownAdminrealm => "unknown_adminrealm",
            Code::UnknownResolver => "unknown_resolver",
            Code::UnknownNode => "unknown_node",
            Code::InvalidRegex => "invalid_regex",
            Code::RegexMatchesEverything => "regex_matches_everything",
            Code::RegexMatchesNothing => "regex_matches_nothing",
            Code::NegationOnly => "negation_only",
            Code::ActionExcludesEverything => "action_excludes_everything",
            Code::TimeNeverMatches => "time_never_matches",
        }
    }
}

/// `Display` as the type's `as_str`.
macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

display_as_str!(Severity, Code);

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What kind of problem.
    pub code: Code,
    /// How bad.
    pub severity: Severity,
    /// The policy it is about; `None` for the whole set.
    pub policy: Option<String>,
    /// One line, user input in backticks.
    pub message: String,
}

/// The names a policy may refer to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintContext {
    /// Realm names.
    pub realms: Vec<String>,
    /// Resolver names.
    pub resolvers: Vec<String>,
    /// Node names.
    pub nodes: Vec<String>,
    /// Superuser realms (pi.cfg `SUPERUSER_REALM`): the only admin realms.
    pub superuser_realms: Vec<String>,
}

/// Lint `records` (in load order) against `ctx`.
/// `records` may be plain or shared (`Arc<PolicyRecord>`) records.
pub fn lint<R: std::borrow::Borrow<PolicyRecord>>(
    records: &[R],
    ctx: &LintContext,
) -> Vec<Finding> {
    let policies: Vec<Policy> = records
        .iter()
        .map(|r| Policy::from_record(r.borrow()))
        .collect();
    let mut out = Vec::new();
    let mut regexes = RegexVerdicts::new();
    for p in &policies {
        per_policy(p, ctx, &mut regexes, &mut out);
    }
    let active: Vec<&Policy> = policies.iter().filter(|p| p.active()).collect();
    shadowed(&active, &mut out);
    conflicts(&active, &mut out);
    admin_lockout(&active, ctx, &mut out);
    out.sort_by(|a, b| {
        (a.policy.is_some(), &a.policy, a.code, &a.message).cmp(&(
            b.policy.is_some(),
            &b.policy,
            b.code,
            &b.message,
        ))
    });
    out.dedup();
    out
}

/// The report as `GET /policy/lint` and `pi-manage policy lint --format
/// json` give it: `{"findings": [...], "summary": {"error": n, "warning": n, "info": n}}`.
pub fn report(findings: &[Finding]) -> serde_json::Value {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    serde_json::json!({
        "findings": findings,
        "summary": {
            "error": count(Severity::Error),
            "warning": count(Severity::Warning),
            "info": count(Severity::Info),
        },
    })
}

/// Whether any finding is an error (for a CI exit code).
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

fn push(out: &mut Vec<Finding>, code: Code, severity: Severity, p: &Policy, message: String) {
    out.push(Finding {
        code,
        severity,
        policy: Some(p.name().to_string()),
        message,
    });
}

fn negated(entry: &str) -> Option<&str> {
    entry.strip_prefix('!').or_else(|| entry.strip_prefix('-'))
}

/// The list fields compared with privacyIDEA's `_search_value`.
fn regex_fields(p: &Policy) -> [(&'static str, Vec<String>); 6] {
    [
        ("action", p.action().keys().map(str::to_string).collect()),
        ("realm", p.realm().to_vec()),
        ("adminrealm", p.adminrealm().to_vec()),
        ("user", p.user().to_vec()),
        ("adminuser", p.adminuser().to_vec()),
        ("resolver", p.resolver().to_vec()),
    ]
}

/// Per entry text: the compile error, or what the expression can match
/// (entries repeat across policies; each is analysed once).
type RegexVerdicts = std::collections::HashMap<String, Result<RegexClass, String>>;

fn per_policy(p: &Policy, ctx: &LintContext, regexes: &mut RegexVerdicts, out: &mut Vec<Finding>) {
    // references
    for (field, list, known, code) in [
        ("realm", p.realm(), &ctx.realms, Code::UnknownRealm),
        (
            "adminrealm",
            p.adminrealm(),
            &ctx.superuser_realms,
            Code::UnknownAdminrealm,
        ),
        (
            "resolver",
            p.resolver(),
            &ctx.resolvers,
            Code::UnknownResolver,
        ),
    ] {
        for e in list {
            let name = negated(e).unwrap_or(e);
            if name.is_empty() || name == "*" || !is_literal(name) {
                continue;
            }
            if !known.iter().any(|k| k == name) {
                let what = match code {
                    Code::UnknownAdminrealm => "superuser realm",
                    Code::UnknownResolver => "resolver",
                    _ => "realm",
                };
                push(
                    out,
                    code,
                    Severity::Warning,
                    p,
                    format!("{field} entry `{e}`: there is no {what} `{name}`"),
                );
            }
        }
    }
    for e in p.pinode() {
        let name = negated(e).unwrap_or(e);
        if name.is_empty() || name == "*" {
            continue;
        }
        if !ctx.nodes.iter().any(|k| k == name) {
            push(
                out,
                Code::UnknownNode,
                Severity::Warning,
                p,
                format!("pinode entry `{e}`: there is no node `{name}`"),
            );
        }
    }
    // regular expressions and negation-only lists
    let mut fields: Vec<(&'static str, Vec<String>)> = regex_fields(p).into();
    for (field, list) in &fields {
        for e in list {
            if e.is_empty() || e == "*" || negated(e).is_some() || is_literal(e) {
                continue;
            }
            let verdict = regexes
                .entry(e.clone())
                .or_insert_with(|| compile_entry(e).map(|_| classify(e)))
                .clone();
            let class = match verdict {
                Ok(class) => class,
                Err(err) => {
                    push(
                    out,
                    Code::InvalidRegex,
                    Severity::Error,
                    p,
                    format!(
                        "{field} entry `{e}` is not a valid regular expression ({err}); privacyIDEA fails every request that reaches this policy"
                    ),
                );
                    continue;
                }
            };
            match class {
                RegexClass::Everything => push(
                    out,
                    Code::RegexMatchesEverything,
                    Severity::Info,
                    p,
                    format!("{field} entry `{e}` matches every value; `*` says the same"),
                ),
                RegexClass::Nothing => push(
                    out,
                    Code::RegexMatchesNothing,
                    Severity::Warning,
                    p,
                    format!("{field} entry `{e}` is a regular expression that matches no value"),
                ),
                RegexClass::Some | RegexClass::Unknown => {}
            }
        }
    }
    fields.push(("client", p.client().to_vec()));
    for (field, list) in &fields {
        let entries: Vec<&String> = list.iter().filter(|e| !e.is_empty()).collect();
        if !entries.is_empty() && entries.iter().all(|e| negated(e).is_some()) {
            push(
                out,
                Code::NegationOnly,
                Severity::Warning,
                p,
                format!(
                    "{field} holds exclusions only (`{}`), so it matches no value; add `*` to mean \"all except\"",
                    list.join(", ")
                ),
            );
        }
    }
    // `*` with exclusions of every action of the scope
    if p.action().get("*").is_some() {
        if let Some(defs) = pi_model::defs::policy_defs().scope(p.scope()) {
            let excluded: BTreeSet<&str> = p.action().keys().filter_map(negated).collect();
            let mut names = defs.names().peekable();
            if names.peek().is_some() && names.all(|n| excluded.contains(n)) {
                push(
                    out,
                    Code::ActionExcludesEverything,
                    Severity::Warning,
                    p,
                    format!(
                        "action `*` excludes every action of scope `{}`, so the policy matches no action",
                        p.scope()
                    ),
                );
            }
        }
    }
    // time
    match p.time_range() {
        Some(Err(e)) => push(
            out,
            Code::TimeNeverMatches,
            Severity::Warning,
            p,
            format!("time `{}` never matches: {e}", p.time()),
        ),
        Some(Ok(r)) if r.items().iter().all(|i| i.day_from > i.day_to) => push(
            out,
            Code::TimeNeverMatches,
            Severity::Warning,
            p,
            format!(
                "time `{}` never matches: day ranges do not wrap around the week (write `Fri-Sun` and `Mon-Mon`, not `Fri-Mon`)",
                p.time()
            ),
        ),
        _ => {}
    }
}

/// What a regular-expression entry can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegexClass {
    /// Every value of printable characters.
    Everything,
    /// No value at all.
    Nothing,
    /// Some values.
    Some,
    /// Not analysed (the automaton would be too large or uses a feature the
    /// DFA does not support, such as Unicode word boundaries).
    Unknown,
}

/// Decide an entry's class by walking the states of its anchored DFA
/// (Python's `^entry$` semantics as the engine compiles it).
fn classify(entry: &str) -> RegexClass {
    use regex_automata::dfa::{dense, Automaton, StartKind};
    use regex_automata::{Anchored, Input, MatchKind};
    let limit = Some(1 << 20);
    let built = dense::Builder::new()
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::All)
                .start_kind(StartKind::Anchored)
                .dfa_size_limit(limit)
                .determinize_size_limit(limit),
        )
        .build(&entry_pattern(entry));
    let Ok(dfa) = built else {
        return RegexClass::Unknown;
    };
    let Ok(start) = dfa.start_state_forward(&Input::new("").anchored(Anchored::Yes)) else {
        return RegexClass::Unknown;
    };
    let walk = |bytes: &mut dyn Iterator<Item = u8>| {
        let bytes: Vec<u8> = bytes.collect();
        let mut seen = std::collections::HashSet::new();
        let mut todo = vec![start];
        seen.insert(start);
        let mut states = Vec::new();
        while let Some(s) = todo.pop() {
            states.push(s);
            if states.len() > 100_000 {
                return None;
            }
            for &b in &bytes {
                let n = dfa.next_state(s, b);
                if seen.insert(n) {
                    todo.push(n);
                }
            }
        }
        Some(states)
    };
    let accepts = |s| dfa.is_match_state(s) || dfa.is_match_state(dfa.next_eoi_state(s));
    let Some(all) = walk(&mut (0..=255u8)) else {
        return RegexClass::Unknown;
    };
    if !all.iter().any(|&s| accepts(s)) {
        return RegexClass::Nothing;
    }
    let Some(printable) = walk(&mut (0x20..=0x7eu8)) else {
        return RegexClass::Unknown;
    };
    if printable
        .iter()
        .all(|&s| dfa.is_match_state(dfa.next_eoi_state(s)))
    {
        RegexClass::Everything
    } else {
        RegexClass::Some
    }
}

/// Entries as a set, empty entries dropped.
fn set(list: &[String], lower: bool) -> BTreeSet<String> {
    list.iter()
        .filter(|e| !e.is_empty())
        .map(|e| if lower { e.to_lowercase() } else { e.clone() })
        .collect()
}

/// What the pairwise checks compare, computed once per policy.
struct Facts<'a> {
    p: &'a Policy,
    realm: BTreeSet<String>,
    adminrealm: BTreeSet<String>,
    user: BTreeSet<String>,
    user_lower: BTreeSet<String>,
    adminuser: BTreeSet<String>,
    adminuser_lower: BTreeSet<String>,
    resolver: BTreeSet<String>,
    pinode: BTreeSet<String>,
    client: BTreeSet<String>,
    user_agents: BTreeSet<String>,
    plain_keys: BTreeSet<&'a str>,
    negated_keys: BTreeSet<&'a str>,
    /// Active conditions; `None` when one of them is invalid.
    conditions: Option<Vec<pi_model::record::ConditionRecord>>,
}

impl<'a> Facts<'a> {
    fn new(p: &'a Policy) -> Facts<'a> {
        Facts {
            p,
            realm: set(p.realm(), false),
            adminrealm: set(p.adminrealm(), false),
            user: set(p.user(), false),
            user_lower: set(p.user(), true),
            adminuser: set(p.adminuser(), false),
            adminuser_lower: set(p.adminuser(), true),
            resolver: set(p.resolver(), false),
            pinode: set(p.pinode(), false),
            client: set(p.client(), false),
            user_agents: set(p.user_agents(), true),
            plain_keys: p
                .action()
                .keys()
                .filter(|k| negated(k).is_none() && !k.is_empty())
                .collect(),
            negated_keys: p.action().keys().filter_map(negated).collect(),
            conditions: p
                .conditions()
                .iter()
                .filter(|c| !matches!(c.parsed, Ok(None)))
                .map(|c| c.parsed.is_ok().then(|| c.record.clone()))
                .collect(),
        }
    }
}

fn star_only(s: &BTreeSet<String>) -> bool {
    s.len() == 1 && s.contains("*")
}

/// Whether a `_search_value` list `q` admits every value `p` admits
/// (conservative: empty, `*` only, or the same entries).
fn search_covers(q: &BTreeSet<String>, p: &BTreeSet<String>) -> bool {
    q.is_empty() || star_only(q) || q == p
}

/// Whether `q` matches every request `p` matches, all attributes but the
/// action (conservative: `false` when unsure).
fn covers(q: &Facts<'_>, p: &Facts<'_>) -> bool {
    let same_uci = q.p.user_case_insensitive() == p.p.user_case_insensitive();
    let user_ok = q.user.is_empty()
        || (same_uci
            && q.user == p.user
            // with several token realms a user-restricted policy needs the
            // user/realm pair listed literally (spec/policy.md §2.4.2)
            && q.realm == p.realm);
    let adminuser_ok = q.adminuser.is_empty() || (same_uci && q.adminuser == p.adminuser);
    let resolver_ok = if q.p.check_all_resolvers() {
        p.p.check_all_resolvers() && q.resolver == p.resolver
    } else {
        search_covers(&q.resolver, &p.resolver)
    };
    let exact = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.is_empty() || a == b;
    let conditions_ok = match (&q.conditions, &p.conditions) {
        (Some(qc), _) if qc.is_empty() => true,
        (Some(qc), Some(pc)) => qc.iter().all(|c| pc.contains(c)),
        _ => false,
    };
    user_ok
        && adminuser_ok
        && resolver_ok
        && search_covers(&q.realm, &p.realm)
        && search_covers(&q.adminrealm, &p.adminrealm)
        && exact(&q.pinode, &p.pinode)
        && exact(&q.client, &p.client)
        && exact(&q.user_agents, &p.user_agents)
        && (q.p.time().is_empty() || q.p.time() == p.p.time())
        && conditions_ok
}

/// Whether no request can match both (conservative: `false` when unsure).
/// Realm lists count as disjoint when their literal entries differ, although
/// a token in both realms would reach both policies.
fn disjoint(a: &Facts<'_>, b: &Facts<'_>) -> bool {
    let plain = |s: &BTreeSet<String>| {
        !s.is_empty()
            && s.iter()
                .all(|e| e != "*" && negated(e).is_none() && is_literal(e))
    };
    let literal_disjoint =
        |x: &BTreeSet<String>, y: &BTreeSet<String>| plain(x) && plain(y) && x.is_disjoint(y);
    let sets_disjoint = |x: &BTreeSet<String>, y: &BTreeSet<String>| {
        !x.is_empty() && !y.is_empty() && x.is_disjoint(y)
    };
    let either_uci = a.p.user_case_insensitive() || b.p.user_case_insensitive();
    let (au, bu, aau, bau) = if either_uci {
        (
            &a.user_lower,
            &b.user_lower,
            &a.adminuser_lower,
            &b.adminuser_lower,
        )
    } else {
        (&a.user, &b.user, &a.adminuser, &b.adminuser)
    };
    literal_disjoint(&a.realm, &b.realm)
        || literal_disjoint(au, bu)
        || literal_disjoint(&a.resolver, &b.resolver)
        || literal_disjoint(&a.adminrealm, &b.adminrealm)
        || literal_disjoint(aau, bau)
        || sets_disjoint(&a.pinode, &b.pinode)
        || sets_disjoint(&a.user_agents, &b.user_agents)
}

/// Whether `q` matches every action query `p` matches and has a value for
/// every action `p` sets.
fn actions_cover(q: &Facts<'_>, p: &Facts<'_>) -> bool {
    if p.p.action().is_empty() {
        return q.p.action().is_empty();
    }
    p.plain_keys.is_subset(&q.plain_keys) && q.negated_keys.is_subset(&p.negated_keys)
}

/// The active policies grouped by scope, each with its facts.
fn by_scope<'a>(active: &[&'a Policy]) -> Vec<Vec<Facts<'a>>> {
    let mut groups: std::collections::BTreeMap<&str, Vec<Facts<'a>>> = Default::default();
    for p in active {
        groups.entry(p.scope()).or_default().push(Facts::new(p));
    }
    groups.into_values().collect()
}

fn shadowed(active: &[&Policy], out: &mut Vec<Finding>) {
    for group in by_scope(active) {
        for p in &group {
            let by = group
                .iter()
                .filter(|q| q.p.priority() < p.p.priority() && actions_cover(q, p) && covers(q, p))
                .min_by_key(|q| q.p.priority());
            if let Some(q) = by {
                push(
                    out,
                    Code::Shadowed,
                    Severity::Warning,
                    p.p,
                    format!(
                        "never decisive: `{}` (priority {}) matches every request this policy (priority {}) matches and sets the same actions",
                        q.p.name(),
                        q.p.priority(),
                        p.p.priority()
                    ),
                );
            }
        }
    }
}

/// One policy's conflicts on one action: the other policies, whether the
/// conflict is certain, and their values.
type Partners<'a> = Vec<(&'a Policy, bool, &'a ActionValue)>;

fn conflicts(active: &[&Policy], out: &mut Vec<Finding>) {
    for group in by_scope(active) {
        // (policy index in group, action) -> partners
        let mut found: std::collections::BTreeMap<(usize, &str), Partners<'_>> = Default::default();
        for (i, fa) in group.iter().enumerate() {
            for (j, fb) in group.iter().enumerate().skip(i + 1) {
                let (a, b) = (fa.p, fb.p);
                if a.priority() != b.priority() {
                    continue;
                }
                let mut differing: Vec<(&str, &ActionValue, &ActionValue)> = Vec::new();
                for (k, va) in a.action().iter() {
                    if k == "*" || negated(k).is_some() {
                        continue;
                    }
                    if let Some(vb) = b.action().get(k) {
                        if va != vb {
                            differing.push((k, va, vb));
                        }
                    }
                }
                if differing.is_empty() || disjoint(fa, fb) {
                    continue;
                }
                let certain = covers(fa, fb) || covers(fb, fa);
                for (k, va, vb) in differing {
                    found.entry((i, k)).or_default().push((b, certain, vb));
                    found.entry((j, k)).or_default().push((a, certain, va));
                }
            }
        }
        let shown = |v: &ActionValue| match v {
            ActionValue::Flag => "True".to_string(),
            ActionValue::Text(t) => format!("`{t}`"),
        };
        for ((i, k), partners) in found {
            let me = group[i].p;
            let Some(mine) = me.action().get(k) else {
                continue;
            };
            let certain = partners.iter().any(|(_, c, _)| *c);
            const SHOWN: usize = 5;
            let mut others: Vec<String> = partners
                .iter()
                .take(SHOWN)
                .map(|(o, _, v)| format!("{} in `{}`", shown(v), o.name()))
                .collect();
            if partners.len() > SHOWN {
                others.push(format!("{} more", partners.len() - SHOWN));
            }
            let message = format!(
                "{} `{k}` = {} here but {} at the same priority {}",
                if certain {
                    "conflicting action values:"
                } else {
                    "possibly conflicting action values (the policies may match one request):"
                },
                shown(mine),
                others.join(", "),
                me.priority()
            );
            push(
                out,
                Code::ConflictingValues,
                if certain {
                    Severity::Error
                } else {
                    Severity::Warning
                },
                me,
                message,
            );
        }
    }
}

/// Whether an admin policy can grant `policywrite` to some administrator.
fn grants_policywrite(p: &Policy, ctx: &LintContext) -> bool {
    let keys: Vec<&str> = p.action().keys().collect();
    if !FieldMatcher::new(&keys, false).matches("policywrite") {
        return false;
    }
    // a time range that never matches
    match p.time_range() {
        Some(Err(_)) => return false,
        Some(Ok(r)) if r.items().iter().all(|i| i.day_from > i.day_to) => return false,
        _ => {}
    }
    let negation_only = |l: &[String]| {
        let e: Vec<&String> = l.iter().filter(|e| !e.is_empty()).collect();
        !e.is_empty() && e.iter().all(|e| negated(e).is_some())
    };
    if negation_only(p.adminuser()) || negation_only(p.client()) {
        return false;
    }
    // local admins have admin realm ""; others log in through a superuser realm
    let adminrealm = FieldMatcher::new(p.adminrealm(), false);
    adminrealm.is_empty()
        || ctx
            .superuser_realms
            .iter()
            .any(|r| adminrealm.matches(&r.to_lowercase()))
}

fn admin_lockout(active: &[&Policy], ctx: &LintContext, out: &mut Vec<Finding>) {
    let admin: Vec<&&Policy> = active.iter().filter(|p| p.scope() == "admin").collect();
    if admin.is_empty() || admin.iter().any(|p| grants_policywrite(p, ctx)) {
        return;
    }
    out.push(Finding {
        code: Code::AdminLockout,
        severity: Severity::Error,
        policy: None,
        message: format!(
            "{} active admin polic{} exist, but none grants `policywrite` to any administrator: no admin can change policies through the API any more",
            admin.len(),
            if admin.len() == 1 { "y" } else { "ies" }
        ),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::tests::pol as rec;

    fn ctx() -> LintContext {
        LintContext {
            realms: vec!["realm1".into(), "realm2".into()],
            resolvers: vec!["res1".into()],
            nodes: vec!["node1".into()],
            superuser_realms: vec!["super".into()],
        }
    }

    fn codes(records: &[PolicyRecord], code: Code) -> Vec<(Option<String>, Severity)> {
        lint(records, &ctx())
            .into_iter()
            .filter(|f| f.code == code)
            .map(|f| (f.policy, f.severity))
            .collect()
    }

    fn one(name: &str, sev: Severity) -> Vec<(Option<String>, Severity)> {
        vec![(Some(name.to_string()), sev)]
    }

    #[test]
    fn shadowed() {
        let mut hi = rec("hi", "authentication", "otppin=userstore");
        hi.realm = "realm1".into();
        let mut lo = rec("lo", "authentication", "otppin=tokenpin");
        lo.priority = 5;
        lo.realm = "realm1".into();
        lo.user = "alice".into();
        assert_eq!(
            codes(&[lo.clone(), hi.clone()], Code::Shadowed),
            one("lo", Severity::Warning)
        );
        // the higher-priority policy is restricted to a node: not shadowed
        let mut hi_node = hi.clone();
        hi_node.pinode = "node1".into();
        assert!(codes(&[lo.clone(), hi_node], Code::Shadowed).is_empty());
        // another realm: not shadowed
        let mut hi2 = hi.clone();
        hi2.realm = "realm2".into();
        assert!(codes(&[lo.clone(), hi2], Code::Shadowed).is_empty());
        // equal priority: not shadowed (a conflict instead)
        let mut lo_eq = lo.clone();
        lo_eq.priority = 1;
        assert!(codes(&[lo_eq, hi.clone()], Code::Shadowed).is_empty());
        // an inactive higher-priority policy shadows nothing
        let mut hi_off = hi;
        hi_off.active = false;
        assert!(codes(&[lo.clone(), hi_off], Code::Shadowed).is_empty());
        // the lower one sets an action the higher one does not
        let mut hi3 = rec("hi3", "authentication", "otppin=userstore");
        hi3.realm = "realm1".into();
        let mut lo3 = lo;
        lo3.action = "otppin=tokenpin, passthru".into();
        assert!(codes(&[lo3, hi3], Code::Shadowed).is_empty());
    }

    #[test]
    fn conflicting_values() {
        let a = rec("a", "enrollment", "tokenlabel=<u>");
        let b = rec("b", "enrollment", "tokenlabel=<s>");
        let found = codes(&[a.clone(), b.clone()], Code::ConflictingValues);
        assert_eq!(
            found,
            vec![
                (Some("a".into()), Severity::Error),
                (Some("b".into()), Severity::Error)
            ]
        );
        // may overlap only: warning
        let mut bu = b.clone();
        bu.user = "alice".into();
        let mut au = a.clone();
        au.client = "10.0.0.0/8".into();
        assert!(codes(&[au, bu.clone()], Code::ConflictingValues)
            .iter()
            .all(|(_, s)| *s == Severity::Warning));
        // different realms never meet in one request
        let mut ar = a.clone();
        ar.realm = "realm1".into();
        let mut br = b.clone();
        br.realm = "realm2".into();
        assert!(codes(&[ar, br], Code::ConflictingValues).is_empty());
        // same values, or different priorities, or different scopes: fine
        let same = rec("same", "enrollment", "tokenlabel=<u>");
        assert!(codes(&[a.clone(), same], Code::ConflictingValues).is_empty());
        let mut b2 = b.clone();
        b2.priority = 2;
        assert!(codes(&[a.clone(), b2], Code::ConflictingValues).is_empty());
        let c = rec("c", "webui", "tokenlabel=<s>");
        assert!(codes(&[a.clone(), c], Code::ConflictingValues).is_empty());
        // one finding per policy and action, naming every other policy
        let d = rec("d", "enrollment", "tokenlabel=<d>");
        let f = lint(&[a, b, d], &ctx());
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(f[0].message.contains("`<s>` in `b`, `<d>` in `d`"), "{f:?}");
    }

    #[test]
    fn unknown_references() {
        // A policy with these realm, resolver, node and admin realm lists.
        let referring = |name, [realm, resolver, pinode, adminrealm]: [&str; 4]| PolicyRecord {
            realm: realm.into(),
            resolver: resolver.into(),
            pinode: pinode.into(),
            adminrealm: adminrealm.into(),
            ..rec(name, "admin", "enable")
        };
        let p = referring(
            "p",
            [
                "realm1, gone, !gone2, *, r.*",
                "res1, nores",
                "node1, nonode",
                "super, notsuper",
            ],
        );
        let f = lint(&[p], &ctx());
        let msgs: Vec<(Code, String)> = f
            .iter()
            .filter(|f| f.code.as_str().starts_with("unknown_"))
            .map(|f| (f.code, f.message.clone()))
            .collect();
        assert_eq!(msgs.len(), 5, "{msgs:?}");
        // (a message mentioning "" is any message)
        for (code, mention) in [
            (Code::UnknownRealm, "`gone`"),
            (Code::UnknownRealm, "`!gone2`"),
            (Code::UnknownResolver, ""),
            (Code::UnknownNode, ""),
            (Code::UnknownAdminrealm, ""),
        ] {
            assert!(
                msgs.iter().any(|(c, m)| *c == code && m.contains(mention)),
                "{code} {mention}"
            );
        }
        let ok = referring("ok", ["realm1, !realm2", "res1", "node1", "super"]);
        assert!(lint(&[ok], &ctx())
            .iter()
            .all(|f| !f.code.as_str().starts_with("unknown_")));
    }

    #[test]
    fn regex_everything_nothing_invalid() {
        let mut p = rec("p", "admin", "enable");
        p.user = ".*".into();
        p.realm = "a^b".into();
        p.adminuser = "*admin".into();
        for (code, severity) in [
            (Code::RegexMatchesEverything, Severity::Info),
            (Code::RegexMatchesNothing, Severity::Warning),
            (Code::InvalidRegex, Severity::Error),
        ] {
            assert_eq!(codes(&[p.clone()], code), one("p", severity), "{code}");
        }
        let mut q = rec("q", "admin", "enable");
        q.user = "customer_.*, [a-z]+".into();
        q.realm = "realm1, !(".into();
        q.adminuser = "admin".into();
        for c in [
            Code::RegexMatchesEverything,
            Code::RegexMatchesNothing,
            Code::InvalidRegex,
        ] {
            assert!(codes(&[q.clone()], c).is_empty(), "{c}");
        }
        assert_eq!(classify(".+"), RegexClass::Some);
        assert_eq!(classify("(.*|x)"), RegexClass::Everything);
        assert_eq!(classify("[^\\s\\S]"), RegexClass::Nothing);
    }

    #[test]
    fn negation_only() {
        let negation_only = |p: &PolicyRecord| codes(std::slice::from_ref(p), Code::NegationOnly);
        let mut p = rec("p", "authentication", "otppin=userstore");
        p.user = "!alice".into();
        assert_eq!(negation_only(&p), one("p", Severity::Warning));
        p.user = "*, !alice".into();
        assert!(negation_only(&p).is_empty());
        p.client = "-10.0.0.1".into();
        assert_eq!(negation_only(&p), one("p", Severity::Warning));
    }

    #[test]
    fn action_excludes_everything() {
        let all: Vec<String> = pi_model::defs::policy_defs()
            .scope("webui")
            .map(|d| d.names().map(|n| format!("-{n}")).collect())
            .unwrap_or_default();
        assert!(!all.is_empty());
        let p = rec("p", "webui", &format!("*, {}", all.join(", ")));
        assert_eq!(
            codes(&[p], Code::ActionExcludesEverything),
            one("p", Severity::Warning)
        );
        let some = rec("s", "webui", &format!("*, {}", all[1..].join(", ")));
        assert!(codes(&[some], Code::ActionExcludesEverything).is_empty());
    }

    #[test]
    fn admin_lockout() {
        let only_read = rec("ro", "admin", "policyread, enable");
        assert_eq!(
            codes(std::slice::from_ref(&only_read), Code::AdminLockout),
            vec![(None, Severity::Error)]
        );
        // granted, but only to an admin realm nobody can log in through
        let mut elsewhere = rec("w", "admin", "policywrite");
        elsewhere.adminrealm = "nosuchrealm".into();
        assert_eq!(
            codes(&[only_read.clone(), elsewhere.clone()], Code::AdminLockout).len(),
            1
        );
        // excluded explicitly
        let star = rec("star", "admin", "*, -policywrite");
        assert_eq!(codes(&[star], Code::AdminLockout).len(), 1);
        // fine: a policy grants it (to superuser-realm admins, or via `*`)
        elsewhere.adminrealm = "super".into();
        assert!(codes(&[only_read.clone(), elsewhere], Code::AdminLockout).is_empty());
        let star = rec("star", "admin", "*, -enable");
        assert!(codes(&[only_read, star], Code::AdminLockout).is_empty());
        // no admin policy at all: everybody may
        assert!(codes(&[rec("u", "user", "enable")], Code::AdminLockout).is_empty());
    }

    #[test]
    fn time_never_matches() {
        let mut p = rec("p", "authentication", "otppin=userstore");
        for (time, never) in [
            ("Fri-Mon: 8-18", true),
            ("Montag: 8-12", true),
            ("Fri-Mon: 8-18, Sat-Sun: 0-23", false),
            ("Mon-Fri: 8:00-18:00", false),
        ] {
            p.time = time.into();
            let want = if never {
                one("p", Severity::Warning)
            } else {
                vec![]
            };
            assert_eq!(codes(&[p.clone()], Code::TimeNeverMatches), want, "{time}");
        }
    }

    /// Timing aid (run with `--ignored --nocapture`), not an assertion.
    #[test]
    #[ignore]
    fn many_policies() {
        let mut set = Vec::new();
        for i in 0..2000 {
            let mut p = rec(
                &format!("p{i}"),
                "enrollment",
                &format!("tokenlabel=<{}>", i % 7),
            );
            p.realm = format!("realm{}", i % 3);
            p.user = format!("user{i}, .*x");
            p.priority = i % 5;
            set.push(p);
        }
        let t = std::time::Instant::now();
        let f = lint(&set, &ctx());
        eprintln!(
            "{} findings for {} policies in {:?}",
            f.len(),
            set.len(),
            t.elapsed()
        );
    }

    #[test]
    fn deterministic_order_and_clean_set() {
        let mut a = rec("b-pol", "admin", "policywrite");
        a.realm = "gone".into();
        let mut b = rec("a-pol", "admin", "policyread");
        b.realm = "gone".into();
        let f = lint(&[a.clone(), b.clone()], &ctx());
        let g = lint(&[b, a], &ctx());
        assert_eq!(f, g);
        assert_eq!(f[0].policy.as_deref(), Some("a-pol"));
        assert!(!has_errors(&f));
        assert!(lint(&[rec("x", "admin", "policywrite")], &ctx()).is_empty());
    }
}
