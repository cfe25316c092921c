//! Policies compiled for matching: list entries pre-classified (wildcard,
//! literal, regular expression compiled once, invalid), conditions with their
//! comparisons prepared.

use pi_model::client::V4Net;
use pi_model::compare::CompiledComparison;
use pi_model::condition::{Condition, Section};
use pi_model::error::ConditionError;
use pi_model::pattern::{compile_entry, is_literal};
use pi_model::timerange::TimeRange;
use pi_model::Policy;
use regex::Regex;
use std::sync::Arc;

/// How an entry is compared (rule 3/4 of spec/policy.md §2.3).
#[derive(Debug, Clone)]
pub(crate) enum EntryKind {
    /// `*`.
    Star,
    /// No regex metacharacter: string comparison.
    Literal,
    /// A compiled `^entry$` (boxed: most entries are literals, and the
    /// enum's size is paid by every entry).
    Regex(Box<Regex>),
    /// Does not compile: matches only itself by equality (rule 3).
    Invalid(Box<str>),
    /// Starts with `!`/`-`: only excludes `raw[1..]` (rule 1), by equality.
    Negated,
}

/// One list entry: a shared pointer to its interned text and
/// classification ([`RegexMap::entry`]). The same realms, users and action
/// names repeat across thousands of policies; each list holds 8 bytes per
/// entry instead of its own string and compiled form.
#[derive(Debug, Clone)]
pub(crate) struct Entry(Arc<EntryData>);

/// What an [`Entry`] points to (one per distinct entry text and cache).
#[derive(Debug)]
pub(crate) struct EntryData {
    pub raw: Box<str>,
    pub kind: EntryKind,
    /// The index's hash of `raw` (`index::hash_str`), computed once.
    pub hash: u64,
}

impl std::ops::Deref for Entry {
    type Target = EntryData;
    #[inline]
    fn deref(&self) -> &EntryData {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Entry {
    fn borrow(&self) -> &str {
        &self.0.raw
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.0.raw == other.0.raw
    }
}

impl Eq for Entry {}

impl std::hash::Hash for Entry {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.raw.hash(h)
    }
}

/// Compiled regular expressions of list entries, by entry text, and the
/// entries themselves, interned: the same action names and realms repeat
/// across thousands of policies, and each list then holds shared pointers
/// instead of its own copies.
#[derive(Debug, Default, Clone)]
pub(crate) struct RegexMap {
    regexes: std::collections::HashMap<Box<str>, Result<Regex, String>>,
    entries: std::collections::HashSet<Entry, std::hash::BuildHasherDefault<Folded>>,
}

use pi_model::hash::Folded;

impl RegexMap {
    pub fn new() -> RegexMap {
        RegexMap::default()
    }

    /// The compiled `^raw$` (compiled once per text).
    fn compiled(&mut self, raw: &str) -> Result<Regex, String> {
        if let Some(r) = self.regexes.get(raw) {
            return r.clone();
        }
        let r = compile_entry(raw);
        self.regexes.insert(raw.into(), r.clone());
        r
    }

    /// The shared entry for the text `raw`.
    fn entry(&mut self, raw: &str) -> Entry {
        if let Some(e) = self.entries.get(raw) {
            return e.clone();
        }
        let kind = if matches!(raw.as_bytes().first(), Some(b'!' | b'-')) {
            // Negated entries only exclude, by equality; never a pattern.
            EntryKind::Negated
        } else if raw == "*" {
            EntryKind::Star
        } else if is_literal(raw) {
            EntryKind::Literal
        } else {
            match self.compiled(raw) {
                Ok(re) => EntryKind::Regex(Box::new(re)),
                Err(e) => EntryKind::Invalid(e.into()),
            }
        };
        let e = Entry(Arc::new(EntryData {
            raw: raw.into(),
            kind,
            hash: crate::index::hash_str(raw),
        }));
        self.entries.insert(e.clone());
        e
    }
}

/// Compiled regular expressions kept between builds of a [`crate::PolicySet`]
/// ([`crate::PolicySet::build_with_cache`]): rebuilding a set after one policy
/// changed then compiles only new entries (compiling was half of a rebuild of
/// a 1,000-policy set). Compiling is a pure function of the entry text, so
/// reuse cannot change a decision. Owned by the caller — the engine keeps no
/// global state; a build clears it when it has grown far beyond the entries
/// of that build.
#[derive(Debug, Default, Clone)]
pub struct RegexCache {
    pub(crate) map: RegexMap,
    /// Parsed list columns shared by the policies of the sets built from
    /// records with this cache.
    pub(crate) lists: pi_model::policy::ListInterner,
}

impl RegexCache {
    /// An empty cache.
    pub fn new() -> RegexCache {
        RegexCache::default()
    }

    /// Number of distinct entries compiled.
    pub fn len(&self) -> usize {
        self.map.regexes.len()
    }

    /// `true` when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.map.regexes.is_empty()
    }

    /// Drop everything when the cache holds far more than a build of
    /// `entries` list entries needs.
    pub(crate) fn trim_for(&mut self, entries: usize) {
        let limit = 4 * entries + 1024;
        if self.map.regexes.len() > limit || self.map.entries.len() > limit {
            self.map = RegexMap::default();
        }
    }
}

impl EntryData {
    /// The excluded value of a negated entry (`raw[1..]`).
    #[inline]
    pub fn neg(&self) -> Option<&str> {
        match self.kind {
            EntryKind::Negated => self.raw.get(1..),
            _ => None,
        }
    }

    /// Rules 3 and 4 (not the exclusion).
    #[inline]
    fn found(&self, q: &str) -> bool {
        match &self.kind {
            EntryKind::Star => true,
            EntryKind::Literal => literal_eq(&self.raw, q),
            EntryKind::Regex(re) => &*self.raw == q || re.is_match(q),
            EntryKind::Invalid(_) => &*self.raw == q,
            EntryKind::Negated => false,
        }
    }
}

/// One of 8 bits for a query value: a literal entry can only match a value
/// with its own bit (`literal_matches`: equal, or the value is the entry
/// plus a newline — a query value ending in a newline is never filtered by
/// these bits).
#[inline]
pub(crate) fn admit_bit(v: &str) -> u8 {
    let last = v.as_bytes().last().copied().unwrap_or(0);
    1 << ((u32::from(last) + 3 * v.len() as u32) & 7)
}

/// The bits of the values a list can admit: all for an empty list (no
/// restriction), a `*` or regular expression, or `any` (case-insensitive
/// users, `check_all_resolvers`); else the bits of its literal (and
/// invalid, which match themselves) entries — negated entries only exclude.
fn admit_bits(list: &[Entry], any: bool) -> u8 {
    if list.is_empty() || any {
        return u8::MAX;
    }
    let mut bits = 0;
    for e in list {
        match e.kind {
            EntryKind::Star | EntryKind::Regex(_) => return u8::MAX,
            EntryKind::Literal | EntryKind::Invalid(_) => bits |= admit_bit(&e.raw),
            EntryKind::Negated => {}
        }
    }
    bits
}

/// [`literal_matches`](pi_model::pattern::literal_matches) inlined (it is called for most entries a query
/// compares; the call and `memcmp` cost more than the comparison of
/// short texts).
#[inline]
fn literal_eq(entry: &str, q: &str) -> bool {
    let (e, b) = (entry.as_bytes(), q.as_bytes());
    if e.len() == b.len() {
        short_eq(e, b)
    } else {
        b.len() == e.len() + 1
            && b.last() == Some(&b'\n')
            && b.get(..e.len()).is_some_and(|p| short_eq(e, p))
    }
}

/// `a == b` for slices of equal length, word by word from 8 to 16 bytes.
#[inline]
pub(crate) fn short_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    let word = |s: &[u8], at: usize| -> u64 {
        let mut w = [0u8; 8];
        if let Some(x) = s.get(at..at + 8) {
            w.copy_from_slice(x);
        }
        u64::from_le_bytes(w)
    };
    if (8..=16).contains(&n) {
        word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8)
    } else {
        a == b
    }
}

/// `list.search(q).passes()`, inline for the common lists: literal
/// entries and `*` only (no exclusion possible: found is any entry
/// found); any other entry hands the list to [`Entries::search`].
#[inline]
pub(crate) fn passes(list: &[Entry], q: &str) -> bool {
    let mut found = false;
    for e in list {
        match e.kind {
            EntryKind::Literal => {
                if !found && literal_eq(&e.raw, q) {
                    found = true;
                }
            }
            EntryKind::Star => found = true,
            _ => return list.search(q).passes(),
        }
    }
    found
}

/// Outcome of privacyIDEA's `_search_value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Search {
    pub found: bool,
    pub excluded: bool,
}

impl Search {
    #[inline]
    pub fn passes(self) -> bool {
        self.found && !self.excluded
    }
}

/// A compiled list attribute.
#[derive(Debug, Clone, Default)]
pub(crate) struct EntryList {
    pub entries: Box<[Entry]>,
}

impl EntryList {
    #[cfg(test)]
    pub fn new<S: AsRef<str>>(items: &[S]) -> EntryList {
        EntryList::with_cache(items, &mut RegexMap::new())
    }

    pub fn with_cache<S: AsRef<str>>(items: &[S], cache: &mut RegexMap) -> EntryList {
        EntryList {
            entries: items.iter().map(|s| cache.entry(s.as_ref())).collect(),
        }
    }
}

impl std::ops::Deref for EntryList {
    type Target = [Entry];
    #[inline]
    fn deref(&self) -> &[Entry] {
        &self.entries
    }
}

/// privacyIDEA's `_search_value` on a compiled list (an [`EntryList`] or
/// one of the lists a [`CompiledPolicy`] keeps in one allocation).
pub(crate) trait Entries {
    /// `_search_value(P, q)` for a string query. A negated entry (`!x`/`-x`)
    /// only excludes (when `x == q`); it is never compared as a pattern.
    /// Stops early once excluded (the outcome can no longer pass).
    fn search(&self, q: &str) -> Search;
    /// `_search_value(P, list)`: a plain entry is found when it is `*` or an
    /// element of the list (no regular expressions); a negated entry
    /// excludes when the list contains the negated value.
    fn search_list(&self, q: &[&str]) -> Search;
    /// Raw entries whose regular expression does not compile.
    fn invalid(&self) -> impl Iterator<Item = (&str, &str)>;
    /// Whether an entry is exactly `q`.
    fn contains_raw(&self, q: &str) -> bool;
}

impl Entries for [Entry] {
    /// `_search_value(P, q)` for a string query. A negated entry (`!x`/`-x`)
    /// only excludes (when `x == q`); it is never compared as a pattern.
    /// Stops early once excluded (the outcome can no longer pass).
    #[inline]
    fn search(&self, q: &str) -> Search {
        let mut found = false;
        for e in self {
            match e.neg() {
                Some(n) => {
                    if n == q {
                        return Search {
                            found,
                            excluded: true,
                        };
                    }
                }
                None => {
                    if !found && e.found(q) {
                        found = true;
                    }
                }
            }
        }
        Search {
            found,
            excluded: false,
        }
    }

    /// `_search_value(P, list)`: a plain entry is found when it is `*` or an
    /// element of the list (no regular expressions); a negated entry
    /// excludes when the list contains the negated value.
    fn search_list(&self, q: &[&str]) -> Search {
        let mut s = Search {
            found: false,
            excluded: false,
        };
        for e in self {
            match e.neg() {
                Some(n) => s.excluded |= q.contains(&n),
                None => s.found |= &*e.raw == "*" || q.contains(&&*e.raw),
            }
        }
        s
    }

    /// Raw entries whose regular expression does not compile.
    fn invalid(&self) -> impl Iterator<Item = (&str, &str)> {
        self.iter().filter_map(|e| match &e.kind {
            EntryKind::Invalid(err) => Some((&*e.raw, &**err)),
            _ => None,
        })
    }

    /// Raw entries.
    fn contains_raw(&self, q: &str) -> bool {
        self.iter().any(|e| &*e.raw == q)
    }
}

/// A condition ready for evaluation.
#[derive(Debug, Clone)]
pub(crate) enum CompiledCondition {
    /// Inactive: ignored.
    Inactive,
    /// Active but invalid: evaluation raises.
    Invalid(ConditionError),
    /// Active and valid.
    Active(Box<(Condition, CompiledComparison)>),
}

/// Bits of [`CompiledPolicy::restricts`]: the policy has a list for the
/// attribute that can reject a query value (for the resolver: or
/// `check_all_resolvers`; for the realm: an entry other than `*`).
pub(crate) mod restricts {
    pub const REALM: u8 = 1;
    pub const ADMINREALM: u8 = 1 << 1;
    pub const USER: u8 = 1 << 2;
    pub const ADMINUSER: u8 = 1 << 3;
    pub const RESOLVER: u8 = 1 << 4;
    pub const PINODE: u8 = 1 << 5;
    pub const USER_AGENT: u8 = 1 << 6;
}

/// A policy compiled for matching.
#[derive(Debug, Clone)]
pub(crate) struct CompiledPolicy {
    /// Copies of the policy's flags read for every candidate, next to each
    /// other (the `Policy` itself spans many cache lines).
    pub active: bool,
    pub check_all_resolvers: bool,
    pub has_client: bool,
    /// Which filters after the action can reject this policy
    /// ([`restricts`] bits; `0`: none — most global policies — and the
    /// candidate check goes from the action straight to the client).
    pub restricts: u8,
    /// Which query values can pass the user, admin user and resolver
    /// filters, 8 bits each ([`admit_bit`]); a candidate whose bits miss
    /// the query's is rejected without reading its lists. Three bytes: they
    /// fill the padding after the flags. (Not the realm: the index's realm
    /// split already leaves only candidates of the query's realm or none.)
    pub admit: [u8; 3],
    pub policy: Policy,
    /// The action keys, realm, user, admin user and resolver lists, one
    /// after the other in one allocation ([`CompiledPolicy::action`], …).
    lists: Box<[Entry]>,
    /// Where each of the first four lists ends in `lists` (the fifth ends
    /// with `lists`). Two bytes each: the slot is 8 bytes smaller. A policy
    /// whose first four lists hold more than `u16::MAX` entries keeps its
    /// lists in [`CompiledRare::wide`] instead, with `lists` empty and
    /// `ends` all 1 (every range of `lists` out of bounds).
    ends: [u16; 4],
    /// What few policies have (`None`: all empty).
    pub rare: Option<Box<CompiledRare>>,
}

/// The lists of a policy too long for [`CompiledPolicy::ends`] and where
/// the first four end.
pub(crate) type WideLists = (Box<[Entry]>, [u32; 4]);

/// The compiled attributes few policies have: the client networks (15 %
/// of the benchmark's policies) and the lists of a wide policy here, the
/// rarer attributes one box further ([`CompiledMore`], reached through
/// `Deref`), so that a policy with only a client list keeps 32 bytes
/// instead of all of them.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledRare {
    /// The client list's IPv4 networks ([`ClientList::v4_nets`]), tested
    /// against an IPv4 query address without the list's general form.
    ///
    /// [`ClientList::v4_nets`]: pi_model::client::ClientList::v4_nets
    pub client_v4: Box<[V4Net]>,
    /// The lists of a policy too long for [`CompiledPolicy::ends`]: the
    /// same five lists one after the other, and where the first four end.
    pub wide: Option<Box<WideLists>>,
    /// The rarer attributes (`None`: all empty).
    more: Option<Box<CompiledMore>>,
}

impl std::ops::Deref for CompiledRare {
    type Target = CompiledMore;
    #[inline]
    fn deref(&self) -> &CompiledMore {
        match &self.more {
            Some(m) => m,
            None => &NO_MORE,
        }
    }
}

/// The compiled attributes fewer policies still have (see [`CompiledRare`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledMore {
    pub adminrealm: EntryList,
    /// Lower-cased user entries (for `user_case_insensitive`).
    pub user_lower: Option<EntryList>,
    pub adminuser_lower: Option<EntryList>,
    pub user_agents_lower: Box<[Box<str>]>,
    pub time: Option<Result<TimeRange, String>>,
    pub conditions: Box<[CompiledCondition]>,
}

static NO_RARE: std::sync::LazyLock<CompiledRare> = std::sync::LazyLock::new(CompiledRare::default);
static NO_MORE: std::sync::LazyLock<CompiledMore> = std::sync::LazyLock::new(CompiledMore::default);

impl CompiledRare {
    fn is_empty(&self) -> bool {
        self.client_v4.is_empty() && self.wide.is_none() && self.more.is_none()
    }
}

impl CompiledMore {
    fn is_empty(&self) -> bool {
        self.adminrealm.is_empty()
            && self.user_lower.is_none()
            && self.adminuser_lower.is_none()
            && self.user_agents_lower.is_empty()
            && self.time.is_none()
            && self.conditions.is_empty()
    }
}

impl CompiledPolicy {
    pub fn new(policy: Policy, cache: &mut RegexMap) -> CompiledPolicy {
        let keys: Vec<&str> = policy.action().keys().collect();
        let uci = policy.user_case_insensitive();
        let lower = |l: &[String]| -> Vec<String> { l.iter().map(|s| s.to_lowercase()).collect() };
        let conditions = policy
            .conditions()
            .iter()
            .map(|c| match &c.parsed {
                Ok(None) => CompiledCondition::Inactive,
                Err(e) => CompiledCondition::Invalid(e.clone()),
                Ok(Some(cond)) => {
                    let cmp = CompiledComparison::new(cond.comparator, &cond.value);
                    CompiledCondition::Active(Box::new((cond.clone(), cmp)))
                }
            })
            .collect();
        let mut lists: Vec<Entry> = Vec::with_capacity(
            keys.len()
                + policy.realm().len()
                + policy.user().len()
                + policy.adminuser().len()
                + policy.resolver().len(),
        );
        let mut ends = [0u32; 5];
        let texts: [&mut dyn Iterator<Item = &str>; 5] = [
            &mut keys.iter().copied(),
            &mut policy.realm().iter().map(String::as_str),
            &mut policy.user().iter().map(String::as_str),
            &mut policy.adminuser().iter().map(String::as_str),
            &mut policy.resolver().iter().map(String::as_str),
        ];
        for (end, list) in ends.iter_mut().zip(texts) {
            lists.extend(list.map(|t| cache.entry(t)));
            *end = lists.len() as u32;
        }
        let lists = lists.into_boxed_slice();
        let [e0, e1, e2, e3, _] = ends;
        let (lists, ends, wide) = match [e0, e1, e2, e3].map(u16::try_from) {
            [Ok(a), Ok(b), Ok(c), Ok(d)] => (lists, [a, b, c, d], None),
            _ => (
                Box::default(),
                [1; 4],
                Some(Box::new((lists, [e0, e1, e2, e3]))),
            ),
        };
        let more = CompiledMore {
            adminrealm: EntryList::with_cache(policy.adminrealm(), cache),
            user_lower: if uci {
                Some(EntryList::with_cache(&lower(policy.user()), cache))
            } else {
                None
            },
            adminuser_lower: if uci {
                Some(EntryList::with_cache(&lower(policy.adminuser()), cache))
            } else {
                None
            },
            user_agents_lower: policy
                .user_agents()
                .iter()
                .filter(|a| !a.is_empty())
                .map(|a| a.to_lowercase().into())
                .collect(),
            time: policy
                .time_range()
                .map(|r| r.clone().map_err(|e| e.to_string())),
            conditions,
        };
        let rare = CompiledRare {
            client_v4: policy.client_list().v4_nets(),
            wide,
            more: (!more.is_empty()).then(|| Box::new(more)),
        };
        let mut cp = CompiledPolicy {
            admit: [0; 3],
            active: policy.active(),
            check_all_resolvers: policy.check_all_resolvers(),
            has_client: !policy.client().is_empty(),
            restricts: 0,
            lists,
            ends,
            rare: (!rare.is_empty()).then(|| Box::new(rare)),
            policy,
        };
        cp.admit = {
            let uci = cp.policy.user_case_insensitive();
            [
                admit_bits(cp.user(), uci),
                admit_bits(cp.adminuser(), uci),
                admit_bits(cp.resolver(), cp.check_all_resolvers),
            ]
        };
        cp.restricts = {
            use restricts::*;
            let bit = |on: bool, b: u8| if on { b } else { 0 };
            // A realm list of `*` entries only admits every realm query
            // (string or list); the user list is different: with several
            // token realms any non-empty one takes part in the pairing check.
            let realm_rejects = cp
                .realm()
                .iter()
                .any(|e| !matches!(e.kind, EntryKind::Star));
            bit(realm_rejects, REALM)
                | bit(!cp.rare().adminrealm.is_empty(), ADMINREALM)
                | bit(!cp.user().is_empty(), USER)
                | bit(!cp.adminuser().is_empty(), ADMINUSER)
                | bit(
                    cp.check_all_resolvers || !cp.resolver().is_empty(),
                    RESOLVER,
                )
                | bit(!cp.policy.pinode().is_empty(), PINODE)
                | bit(!cp.policy.user_agents().is_empty(), USER_AGENT)
        };
        for (field, list) in [
            ("action", cp.action()),
            ("realm", cp.realm()),
            ("adminrealm", &cp.rare().adminrealm),
            ("user", cp.user()),
            ("adminuser", cp.adminuser()),
            ("resolver", cp.resolver()),
        ] {
            for (raw, err) in list.invalid() {
                log::warn!(
                    "policy `{}`: {field} entry `{raw}` is not a valid regular expression ({err}); it only matches itself",
                    cp.policy.name()
                );
            }
        }
        cp
    }

    /// List `k` of `lists`.
    #[inline]
    fn list(&self, k: usize) -> &[Entry] {
        let start = match k.checked_sub(1) {
            Some(prev) => self.ends.get(prev).copied().unwrap_or(0) as usize,
            None => 0,
        };
        let end = match self.ends.get(k) {
            Some(&e) => e as usize,
            None => self.lists.len(),
        };
        match self.lists.get(start..end) {
            Some(l) => l,
            None => self.wide_list(k),
        }
    }

    /// List `k` of a policy whose lists are in [`CompiledRare::wide`].
    #[cold]
    #[inline(never)]
    fn wide_list(&self, k: usize) -> &[Entry] {
        let Some((lists, ends)) = self.rare().wide.as_deref() else {
            return &[];
        };
        let start = match k.checked_sub(1) {
            Some(prev) => ends.get(prev).copied().unwrap_or(0) as usize,
            None => 0,
        };
        let end = ends.get(k).map_or(lists.len(), |&e| e as usize);
        lists.get(start..end).unwrap_or(&[])
    }

    /// The action keys.
    #[inline]
    pub fn action(&self) -> &[Entry] {
        self.list(0)
    }

    /// The realm list.
    #[inline]
    pub fn realm(&self) -> &[Entry] {
        self.list(1)
    }

    /// The user list.
    #[inline]
    pub fn user(&self) -> &[Entry] {
        self.list(2)
    }

    /// The admin user list.
    #[inline]
    pub fn adminuser(&self) -> &[Entry] {
        self.list(3)
    }

    /// The resolver list.
    #[inline]
    pub fn resolver(&self) -> &[Entry] {
        self.list(4)
    }

    /// The rarely used attributes (all empty for most policies).
    #[inline]
    /// Whether evaluating this policy's conditions can read the request's
    /// headers or environment (an active, valid condition on those sections).
    pub(crate) fn reads_http(&self) -> bool {
        self.rare().conditions.iter().any(|c| {
            matches!(c, CompiledCondition::Active(b)
                if matches!(b.0.section, Section::HttpRequestHeader | Section::HttpEnvironment))
        })
    }

    /// Whether the policy has any of the rarer attributes ([`CompiledMore`]:
    /// time, conditions, …); `false` for most, and for a policy with only a
    /// client list.
    #[inline]
    pub fn has_more(&self) -> bool {
        self.more().is_some()
    }

    /// The rarer attributes, if any.
    #[inline]
    pub fn more(&self) -> Option<&CompiledMore> {
        self.rare.as_ref()?.more.as_deref()
    }

    pub fn rare(&self) -> &CompiledRare {
        match &self.rare {
            Some(r) => r,
            None => &NO_RARE,
        }
    }

    /// Literal `found` test used by tests of the search semantics.
    #[cfg(test)]
    pub fn literal(entry: &str, q: &str) -> bool {
        pi_model::pattern::literal_matches(entry, q)
    }
}

/// A policy target field (`user`, `resolver`, `realm`) compiled once and
/// compared the way the engine compares it (privacyIDEA's `_field_matches`
/// in the user-list restriction): an empty field matches every value;
/// otherwise the value must be found (literally, as `*` or as a full-match
/// regular expression) and not excluded by a `!`/`-` entry.
#[derive(Debug, Clone)]
pub struct FieldMatcher {
    list: EntryList,
    case_insensitive: bool,
}

impl FieldMatcher {
    /// Compile a field; `case_insensitive` lower-cases the entries and every
    /// compared value (`user_case_insensitive`).
    pub fn new<S: AsRef<str>>(values: &[S], case_insensitive: bool) -> FieldMatcher {
        let list = if case_insensitive {
            let lower: Vec<String> = values.iter().map(|v| v.as_ref().to_lowercase()).collect();
            EntryList::with_cache(&lower, &mut RegexMap::new())
        } else {
            EntryList::with_cache(values, &mut RegexMap::new())
        };
        FieldMatcher {
            list,
            case_insensitive,
        }
    }

    /// Whether the field restricts nothing.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether `value` matches the field.
    pub fn matches(&self, value: &str) -> bool {
        if self.list.is_empty() {
            return true;
        }
        let s = if self.case_insensitive {
            self.list.search(&value.to_lowercase())
        } else {
            self.list.search(value)
        };
        s.found && !s.excluded
    }
}

#[cfg(test)]
mod literal_tests {
    use super::literal_eq;
    use pi_model::pattern::literal_matches;

    #[test]
    fn literal_eq_is_literal_matches() {
        let texts = [
            "",
            "a",
            "ab",
            "user1",
            "user1\n",
            "user12",
            "realm1234",
            "realm1235",
            "enrollHOTP",
            "enrollHOTQ",
            "abcdefgh",
            "abcdefgi",
            "bbcdefgh",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "xbcdefghijklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmnopr",
            "abcdefgh\n",
            "ä",
            "äb",
        ];
        for e in texts {
            for q in texts {
                assert_eq!(literal_eq(e, q), literal_matches(e, q), "{e:?} {q:?}");
            }
        }
    }
}

#[cfg(test)]
mod passes_tests {
    use super::{passes, Entries, EntryList};

    /// The inline `passes` is `search(q).passes()` on lists of every kind
    /// of entry (literal, `*`, negated, regular expression, invalid).
    #[test]
    fn passes_is_search_passes() {
        let lists: &[&[&str]] = &[
            &[],
            &["a"],
            &["a", "b"],
            &["*"],
            &["*", "!a"],
            &["!a", "*"],
            &["a", "-a"],
            &["realm1", "realm12"],
            &["user.*"],
            &["a", "user.*"],
            &["(", "a"],
            &["abcdefghijk", "b"],
            &["a\n"],
        ];
        let queries = [
            "",
            "a",
            "b",
            "a\n",
            "c",
            "user1",
            "(",
            "realm1",
            "realm12",
            "abcdefghijk",
            "-a",
            "!a",
        ];
        for l in lists {
            let list = EntryList::new(l);
            for q in queries {
                assert_eq!(passes(&list, q), list.search(q).passes(), "{l:?} {q:?}");
            }
        }
    }
}

#[cfg(test)]
mod layout_tests {
    use super::{CompiledPolicy, Entry, RegexMap};
    use pi_model::record::PolicyRecord;
    use pi_model::Policy;

    fn texts(l: &[Entry]) -> Vec<&str> {
        l.iter().map(|e| &*e.raw).collect()
    }

    /// The five lists read back as written, for policies whose first four
    /// lists fit the two-byte ends (up to `u16::MAX` entries) and for
    /// longer ones (kept in `CompiledRare::wide`), around the limit.
    #[test]
    fn lists_read_back_short_and_wide() {
        assert!(std::mem::size_of::<CompiledPolicy>() <= 144);
        let mut cache = RegexMap::new();
        for realms in [0, 1, 3, 65_530, 65_531, 65_532, 70_000] {
            let realm: Vec<String> = (0..realms).map(|i| format!("r{i}")).collect();
            let rec = PolicyRecord {
                name: "p".into(),
                scope: "admin".into(),
                action: "enable, disable=1, set".into(),
                realm: realm.join(", "),
                user: "u1, !u2".into(),
                adminuser: "a1".into(),
                resolver: "res1, res2".into(),
                active: true,
                ..PolicyRecord::default()
            };
            let cp = CompiledPolicy::new(Policy::from_record(&rec), &mut cache);
            // 3 action keys + realms + 2 users + 1 admin user before the
            // resolvers: wide from 65,536 on.
            assert_eq!(cp.rare().wide.is_some(), 3 + realms + 2 + 1 > 65_535);
            assert_eq!(texts(cp.action()), ["enable", "disable", "set"]);
            assert_eq!(texts(cp.realm()), realm);
            assert_eq!(texts(cp.user()), ["u1", "!u2"]);
            assert_eq!(texts(cp.adminuser()), ["a1"]);
            assert_eq!(texts(cp.resolver()), ["res1", "res2"]);
        }
    }

    /// A policy with only a client list keeps the small rare box (its
    /// networks) and no [`super::CompiledMore`]; each rarer attribute
    /// alone puts one there, where the engine reads it.
    #[test]
    fn rare_attributes_in_their_boxes() {
        assert!(std::mem::size_of::<super::CompiledRare>() <= 32);
        let mut cache = RegexMap::new();
        let base = PolicyRecord {
            name: "p".into(),
            scope: "admin".into(),
            action: "enable".into(),
            active: true,
            ..PolicyRecord::default()
        };
        let compile = |f: &dyn Fn(&mut PolicyRecord), cache: &mut RegexMap| {
            let mut rec = base.clone();
            f(&mut rec);
            CompiledPolicy::new(Policy::from_record(&rec), cache)
        };
        let plain = compile(&|_| {}, &mut cache);
        assert!(plain.rare.is_none() && !plain.has_more());
        let client = compile(&|r| r.client = "10.1.0.0/16".into(), &mut cache);
        assert_eq!(client.rare().client_v4.len(), 1);
        assert!(!client.has_more() && client.rare().time.is_none());
        let time = compile(&|r| r.time = "Mon-Fri: 7-19".into(), &mut cache);
        assert!(time.has_more() && time.rare().time.is_some());
        let admin = compile(&|r| r.adminrealm = "r1".into(), &mut cache);
        assert!(admin.has_more() && admin.more().is_some_and(|m| m.adminrealm.len() == 1));
        let uci = compile(
            &|r| {
                r.user = "Alice".into();
                r.user_case_insensitive = true;
            },
            &mut cache,
        );
        let lowered = uci.more().and_then(|m| m.user_lower.as_ref());
        assert_eq!(lowered.map(|l| texts(l)), Some(vec!["alice"]));
        let ua = compile(&|r| r.user_agents = "PAM".into(), &mut cache);
        assert_eq!(&*ua.rare().user_agents_lower, [Box::<str>::from("pam")]);
        let cond = compile(
            &|r| {
                r.conditions = vec![pi_model::record::ConditionRecord {
                    section: "HTTP Request header".into(),
                    key: "X-Env".into(),
                    comparator: "equals".into(),
                    value: "prod".into(),
                    active: true,
                    handle_missing_data: None,
                }]
            },
            &mut cache,
        );
        assert!(cond.has_more() && cond.rare().conditions.len() == 1 && cond.reads_http());
    }
}
