//! The policy set and privacyIDEA's `list_policies` / `match_policies`.

use crate::compiled::{passes, restricts, CompiledCondition, CompiledPolicy, Entries, RegexCache};
use crate::error::MatchError;
use crate::index::{Index, IndexKeys, ScopeMap};
use crate::query::{ConditionCheck, ConditionInput, Query, UserObject};
use pi_model::client::{v4_allows, V4Net};
use pi_model::condition::{HandleMissingData, Section};
use pi_model::pyrepr::repr_str;
use pi_model::record::PolicyRecord;
use pi_model::Policy;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// What the engine needs to know beyond the policies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildContext {
    /// Per realm, its resolver names ordered as privacyIDEA's
    /// `get_ordered_resolvers` does (priority ascending with unset = 1000,
    /// ties alphabetical, only resolvers without node or on the local node,
    /// de-duplicated). Used by `check_all_resolvers`.
    pub realm_resolvers: HashMap<String, Vec<String>>,
    /// The local node name (pi.cfg `PI_NODE`, …, default `localnode`);
    /// the `Match` helpers filter `pinode` with it.
    pub local_node: String,
}

/// The attribute a policy was excluded by (pipeline order of spec/policy.md §2.2/§2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribute {
    /// `name` differs.
    Name,
    /// `active` differs.
    Active,
    /// `scope` differs.
    Scope,
    /// Action not admitted.
    Action,
    /// Realm not admitted.
    Realm,
    /// Admin realm not admitted.
    Adminrealm,
    /// User not admitted.
    User,
    /// User listed, but with several token realms the user/realm pair must be listed literally (spec/policy.md §2.4.2).
    UserRealmPairing,
    /// Admin user not admitted.
    Adminuser,
    /// Resolver not admitted (or `check_all_resolvers` found none).
    Resolver,
    /// Node not listed.
    Pinode,
    /// User agent not listed.
    UserAgent,
    /// Client not admitted.
    Client,
    /// Outside the time range, or the time range is invalid.
    Time,
    /// A condition is false.
    Conditions,
}

pub(crate) enum RealmQ<'q> {
    None,
    Str(&'q str),
    List(Vec<&'q str>),
}

/// A query with everything computed once.
pub(crate) struct Prepared<'q> {
    pub q: &'q Query<'q>,
    pub user: Option<&'q str>,
    pub realm: Option<&'q str>,
    pub resolver: Option<&'q str>,
    pub realm_q: RealmQ<'q>,
    pub pairing: bool,
    pub admin_scope: bool,
    realm_resolvers: &'q FxMap<Box<str>, Vec<String>>,
    pub client: Option<&'q str>,
    client_ip: std::cell::OnceCell<Result<IpAddr, ()>>,
    /// The admit bits a candidate must have (`CompiledPolicy::admit`),
    /// computed for the first candidate.
    admit: std::cell::Cell<u32>,
}

/// [`Prepared::admit`] not computed yet (never a mask: one bit per byte at most).
const NOT_YET: u32 = u32::MAX;

impl<'q> Prepared<'q> {
    /// The values the index selects candidates by: one realm (not a list),
    /// the admin realm and admin user in the admin scope only, the user.
    #[inline(always)]
    fn index_keys(&self) -> IndexKeys<'q> {
        IndexKeys {
            realm: match &self.realm_q {
                RealmQ::Str(r) => Some(r),
                _ => None,
            },
            adminrealm: self.q.adminrealm.filter(|_| self.admin_scope),
            user: self.user,
            adminuser: self.q.adminuser.filter(|_| self.admin_scope),
        }
    }

    /// The admit bits of the query's user, admin user and resolver.
    #[inline]
    fn admit(&self) -> u32 {
        let a = self.admit.get();
        if a != NOT_YET {
            return a;
        }
        // A value ending in a newline may match an entry without it
        // (Python's `$`): not filtered by bits.
        let bit = |v: Option<&str>, shift: u32| match v {
            Some(v) if !v.ends_with('\n') => u32::from(crate::compiled::admit_bit(v)) << shift,
            _ => 0,
        };
        let a = bit(self.user, 0)
            | bit(self.q.adminuser.filter(|_| self.admin_scope), 8)
            | bit(self.resolver, 16);
        self.admit.set(a);
        a
    }

    /// Whether gate word `g` has the [`client_bit`] of the query's client
    /// if that is an IPv4 address (parsed once per query); `true` otherwise
    /// (the full check decides). Out of line: only for candidates with a
    /// client list, and the candidate loop stays as it was for the others.
    #[inline(never)]
    fn client_gate_passes(&self, g: u32) -> bool {
        let cb = match self.client {
            Some(c) => match self.client_ip.get_or_init(|| parse_ip(c)) {
                Ok(IpAddr::V4(a)) => client_bit(u32::from(*a)),
                _ => 0,
            },
            None => 0,
        };
        g & cb == cb
    }

    /// The realm's resolvers in `get_ordered_resolvers` order, if
    /// `check_all_resolvers` applies to this query (user, realm and resolver given).
    pub fn ordered_resolvers(&self) -> Option<&'q [String]> {
        // Only when user, realm and resolver are given (computed here, not
        // per query: few policies have `check_all_resolvers`).
        let ordered_realm = match (self.resolver, self.realm, self.user) {
            (Some(_), Some(r), Some(u)) if !r.is_empty() && !u.is_empty() => Some(r),
            _ => None,
        };
        ordered_realm.map(|r| {
            self.realm_resolvers
                .get(r)
                .map(Vec::as_slice)
                .unwrap_or(&[])
        })
    }
}

/// Policies by *slot*: a slot number stays with a policy for the life of
/// the set (the index refers to slots), load order is kept separately.
/// Stored in chunks shared between the sets that [`PolicySet::edited`]
/// derives from each other: an edit copies one chunk, not every policy.
#[derive(Debug, Clone, Default)]
struct Slots {
    chunks: Vec<Arc<[Option<CompiledPolicy>]>>,
}

/// Policies per chunk of [`Slots`].
const CHUNK: usize = 16;

impl Slots {
    #[inline]
    fn get(&self, slot: u32) -> Option<&CompiledPolicy> {
        let s = slot as usize;
        self.chunks.get(s / CHUNK)?.get(s % CHUNK)?.as_ref()
    }

    /// Put `p` into `slot` (a copy of its chunk: chunks are shared).
    fn set(&mut self, slot: u32, p: Option<CompiledPolicy>) {
        let s = slot as usize;
        while self.chunks.len() <= s / CHUNK {
            self.chunks.push(Arc::from(Vec::new()));
        }
        if let Some(chunk) = self.chunks.get_mut(s / CHUNK) {
            let mut copy: Vec<Option<CompiledPolicy>> = chunk.to_vec();
            if copy.len() <= s % CHUNK {
                copy.resize_with(s % CHUNK + 1, || None);
            }
            if let Some(x) = copy.get_mut(s % CHUNK) {
                *x = p;
            }
            *chunk = Arc::from(copy);
        }
    }
}

/// An immutable, indexed set of policies; cheap to query from many threads.
///
/// A changed policy is applied with [`PolicySet::edited`], which shares
/// everything it does not change with the set it starts from.
#[derive(Debug, Clone)]
pub struct PolicySet {
    slots: Slots,
    /// Load position → slot.
    order: Vec<u32>,
    /// Slot → load position (`u32::MAX`: free slot).
    rank: Vec<u32>,
    /// Slot → gate word ([`gate_of`]: admit bits and active flag): an index
    /// candidate that a query's bits reject is dropped here, without
    /// loading the policy (a dense array: 4 bytes per slot).
    gate: Vec<u32>,
    /// Free slots.
    free: Vec<u32>,
    pub(crate) index: Index,
    pub(crate) ctx: Arc<BuildContext>,
    active_by_scope: ScopeMap<usize>,
    active_total: usize,
    /// Number of policies with an active condition on the request's headers
    /// or environment (see [`PolicySet::reads_http`]).
    http_readers: usize,
    /// `ctx.realm_resolvers` with the faster hasher (looked up per query).
    realm_resolvers: Arc<FxMap<Box<str>, Vec<String>>>,
}

/// A slot's gate word: the admit bits of `p` (`CompiledPolicy::admit`,
/// low three bytes), bit 24 when active, bit 25 when not, and the client
/// bits ([`CLIENT_GATE`]).
fn gate_of(p: &CompiledPolicy) -> u32 {
    let [u, au, res] = p.admit;
    u32::from_le_bytes([u, au, res, 0])
        | if p.active { 1 << 24 } else { 1 << 25 }
        | client_gate_of(p)
}

/// Gate bits 26–31: which IPv4 client addresses can pass the policy's
/// client list, by their /16 prefix ([`client_bit`]; a Bloom filter). All
/// six for a policy without a client list or with an allowing network of
/// a prefix shorter than 16; otherwise the bits of its allowing IPv4
/// networks (none: no IPv4 address passes — an IPv6 network contains none,
/// and an excluding entry only rejects). A candidate without the bit of
/// the query's IPv4 address fails the client filter.
const CLIENT_GATE: u32 = 0b11_1111 << 26;

/// The gate bit of an IPv4 client address's /16 prefix.
#[inline]
fn client_bit(addr: u32) -> u32 {
    1 << (26 + ((addr >> 16).wrapping_mul(0x9E37_79B1) >> 29) % 6)
}

/// [`CLIENT_GATE`] bits of a policy.
fn client_gate_of(p: &CompiledPolicy) -> u32 {
    if !p.has_client {
        return CLIENT_GATE;
    }
    client_gate_of_nets(p.rare.as_ref().map_or(&[][..], |r| &r.client_v4[..]))
}

/// [`CLIENT_GATE`] bits of a client list's IPv4 networks.
fn client_gate_of_nets(nets: &[V4Net]) -> u32 {
    let mut bits = 0;
    for n in nets.iter().filter(|n| !n.exclude) {
        if n.mask >> 16 == 0xFFFF {
            bits |= client_bit(n.addr);
        } else {
            return CLIENT_GATE;
        }
    }
    bits
}

/// The gate bits the query's `active` filter requires.
#[inline]
fn gate_active(active: Option<bool>) -> u32 {
    match active {
        None => 0,
        Some(true) => 1 << 24,
        Some(false) => 1 << 25,
    }
}

/// Whether `v` in lower case passes `list` (a case-insensitive policy's
/// lower-case user or admin user list). Out of line: few policies are
/// case-insensitive, and the candidate check stays small for the others.
#[inline(never)]
fn passes_lowered(list: &[crate::compiled::Entry], v: &str) -> bool {
    list.search(lower(v).as_ref()).passes()
}

/// Python `str.lower()`, borrowing when nothing changes.
fn lower(s: &str) -> Cow<'_, str> {
    if s.is_ascii() && !s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<crate::index::FxHasher>>;

fn py_opt(v: Option<&str>) -> String {
    v.map(repr_str).unwrap_or_else(|| "None".into())
}

impl PolicySet {
    /// Compile and index `policies` (kept in the given load order, which
    /// decides ties of equal priority).
    pub fn build(policies: Vec<Policy>, ctx: BuildContext) -> PolicySet {
        PolicySet::build_with_cache(policies, ctx, &mut RegexCache::new())
    }

    /// [`PolicySet::build`] reusing (and filling) the regular expressions
    /// compiled by earlier builds — for a service that rebuilds its set after
    /// every configuration change.
    pub fn build_with_cache(
        policies: Vec<Policy>,
        ctx: BuildContext,
        cache: &mut RegexCache,
    ) -> PolicySet {
        PolicySet::build_from_iter(policies.into_iter(), ctx, cache)
    }

    /// Compile policies straight into their slot chunks (no intermediate
    /// vector of compiled policies: at 100,000 policies moving them was a
    /// quarter of the build), then index them.
    fn build_from_iter(
        policies: impl Iterator<Item = Policy>,
        ctx: BuildContext,
        cache: &mut RegexCache,
    ) -> PolicySet {
        let mut slots = Slots::default();
        let mut chunk: Vec<Option<CompiledPolicy>> = Vec::with_capacity(CHUNK);
        let (mut n, mut entries, mut active_total) = (0u32, 0usize, 0usize);
        let mut http_readers = 0usize;
        let mut active_by_scope: ScopeMap<usize> = ScopeMap::default();
        // Exact capacity when the count is known (records): grown by
        // doubling, 100,000 policies held 131,072 entries (122 KiB spare).
        let mut gate: Vec<u32> = Vec::with_capacity(policies.size_hint().0);
        for p in policies {
            entries += p.action().len()
                + p.realm().len()
                + p.adminrealm().len()
                + p.user().len()
                + p.adminuser().len()
                + p.resolver().len();
            let cp = CompiledPolicy::new(p, &mut cache.map);
            if cp.reads_http() {
                http_readers += 1;
            }
            if cp.policy.active() {
                *active_by_scope.get_or_default(cp.policy.scope()) += 1;
                active_total += 1;
            }
            gate.push(gate_of(&cp));
            chunk.push(Some(cp));
            n += 1;
            if chunk.len() == CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                slots.chunks.push(Arc::from(full));
            }
        }
        if !chunk.is_empty() {
            slots.chunks.push(Arc::from(chunk));
        }
        cache.trim_for(entries);
        let index = Index::build((0..n).filter_map(|s| Some((s, slots.get(s)?))));
        let realm_resolvers = ctx
            .realm_resolvers
            .iter()
            .map(|(k, v)| (k.as_str().into(), v.clone()))
            .collect();
        PolicySet {
            slots,
            order: (0..n).collect(),
            rank: (0..n).collect(),
            gate,
            free: Vec::new(),
            index,
            ctx: Arc::new(ctx),
            active_by_scope,
            active_total,
            http_readers,
            realm_resolvers: Arc::new(realm_resolvers),
        }
    }

    /// This set with its index rebuilt with merge budget `budget` (see
    /// `index::MERGE_BUDGET`; kept by later edits).
    #[cfg(test)]
    pub(crate) fn with_merge_budget(mut self, budget: usize) -> PolicySet {
        let mut live: Vec<u32> = self.order.clone();
        live.sort_unstable();
        let slots = &self.slots;
        self.index = Index::build_with_budget(
            live.into_iter().filter_map(|s| Some((s, slots.get(s)?))),
            budget,
        );
        self
    }

    /// How many candidates the index gives for `q` (each once).
    #[cfg(test)]
    pub(crate) fn index_candidates(&self, q: &Query<'_>) -> usize {
        let Ok(pq) = self.prepare(q) else {
            return 0;
        };
        let mut n = 0;
        self.index
            .for_each_candidate(q.name, q.scope, q.action, &pq.index_keys(), |_| n += 1);
        n
    }

    /// Per scope: whether the index merged its wild policies into its
    /// action buckets, and how many wild policies it has.
    #[cfg(test)]
    pub(crate) fn merge_state(&self) -> Vec<(bool, usize)> {
        self.index.merge_state()
    }

    /// [`PolicySet::build`] from stored records (lenient, see [`Policy::from_record`]).
    pub fn from_records(records: &[PolicyRecord], ctx: BuildContext) -> PolicySet {
        PolicySet::from_records_with_cache(records, ctx, &mut RegexCache::new())
    }

    /// [`PolicySet::build_with_cache`] from stored records.
    /// `records` may be plain or shared (`Arc<PolicyRecord>`) records.
    pub fn from_records_with_cache<R: std::borrow::Borrow<PolicyRecord>>(
        records: &[R],
        ctx: BuildContext,
        cache: &mut RegexCache,
    ) -> PolicySet {
        let mut lists = std::mem::take(&mut cache.lists);
        let set = PolicySet::build_from_iter(
            records
                .iter()
                .map(|r| Policy::from_record_shared(r.borrow(), &mut lists)),
            ctx,
            cache,
        );
        // Like the regular expressions: dropped when far more than this
        // build needs (columns of policies that no set holds any more).
        if lists.len() > 8 * records.len() + 1024 {
            lists.clear();
        }
        cache.lists = lists;
        set
    }

    /// A new set with the policy at load position `remove_at` taken out
    /// and/or `insert = (position, policy)` put in at that load position
    /// (counted after the removal) — one changed, added, renamed or deleted
    /// policy, with the same decisions as [`PolicySet::build`] of the
    /// resulting list. Takes time in the size of the index buckets the
    /// policy is in, not in the size of the set: what it does not change
    /// (other policies, other buckets) is shared with `self`. `None` when a
    /// position is out of range.
    ///
    /// Load order decides ties of equal priority, so the caller places the
    /// policy where its store's load order puts it.
    pub fn edited(
        &self,
        remove_at: Option<usize>,
        insert: Option<(usize, Policy)>,
        cache: &mut RegexCache,
    ) -> Option<PolicySet> {
        let mut new = self.clone();
        let mut removed: Option<(u32, &CompiledPolicy)> = None;
        if let Some(at) = remove_at {
            let slot = *self.order.get(at)?;
            let old = self.slots.get(slot)?;
            new.order.remove(at);
            new.count(old, false);
            removed = Some((slot, old));
        }
        let mut first = remove_at.unwrap_or(usize::MAX);
        let mut added: Option<u32> = None;
        let insert_at = insert.as_ref().map(|(pos, _)| *pos);
        if let Some((pos, policy)) = insert {
            if pos > new.order.len() {
                return None;
            }
            let compiled = CompiledPolicy::new(policy, &mut cache.map);
            new.count(&compiled, true);
            let gate = gate_of(&compiled);
            let slot = match removed {
                Some((s, _)) => s,
                None => match new.free.pop() {
                    Some(s) => s,
                    None => new.rank.len() as u32,
                },
            };
            new.slots.set(slot, Some(compiled));
            if new.gate.len() <= slot as usize {
                new.gate.resize(slot as usize + 1, 0);
            }
            if let Some(g) = new.gate.get_mut(slot as usize) {
                *g = gate;
            }
            new.order.insert(pos, slot);
            first = first.min(pos);
            added = Some(slot);
        }
        if let Some((slot, _)) = removed {
            if added != Some(slot) {
                new.slots.set(slot, None);
                new.free.push(slot);
                if let Some(r) = new.rank.get_mut(slot as usize) {
                    *r = u32::MAX;
                }
            }
        }
        if let Some(slot) = added {
            if new.rank.len() <= slot as usize {
                new.rank.resize(slot as usize + 1, u32::MAX);
            }
        }
        // Positions shift only between the removed and the inserted one (to
        // the end when only one of them is given).
        let last = match (remove_at, insert_at) {
            (Some(a), Some(b)) => a.max(b) + 1,
            _ => new.order.len(),
        };
        let span = last.saturating_sub(first);
        for (pos, &slot) in new.order.iter().enumerate().skip(first).take(span) {
            if let Some(r) = new.rank.get_mut(slot as usize) {
                *r = pos as u32;
            }
        }
        let PolicySet { index, slots, .. } = &mut new;
        let add = added.and_then(|s| Some((s, slots.get(s)?)));
        index.edit(removed, add, &|s| self.slots.get(s));
        Some(new)
    }

    /// Count `p` into (or out of) the per-scope totals.
    fn count(&mut self, p: &CompiledPolicy, add: bool) {
        let step = |n: &mut usize| {
            if add {
                *n += 1
            } else {
                *n = n.saturating_sub(1)
            }
        };
        if p.reads_http() {
            step(&mut self.http_readers);
        }
        if p.policy.active() {
            step(&mut self.active_total);
            step(self.active_by_scope.get_or_default(p.policy.scope()));
        }
    }

    /// The compiled policies in load order.
    pub(crate) fn in_load_order(&self) -> impl Iterator<Item = &CompiledPolicy> {
        self.order.iter().filter_map(|&s| self.slots.get(s))
    }

    /// All policies in load order.
    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        self.in_load_order().map(|p| &p.policy)
    }

    /// The policy at load position `at`.
    pub fn get(&self, at: usize) -> Option<&Policy> {
        let slot = *self.order.get(at)?;
        self.slots.get(slot).map(|p| &p.policy)
    }

    /// Number of policies.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// `true` without policies.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The build context.
    pub fn context(&self) -> &BuildContext {
        &self.ctx
    }

    /// Whether a decision may read the request's headers or environment
    /// ([`crate::HttpData`]): some policy has an active condition on the
    /// `HTTP Request header` or `HTTP Environment` section. When it is
    /// `false`, a context without HTTP data decides exactly as one with it,
    /// so a caller can skip collecting that data.
    pub fn reads_http(&self) -> bool {
        self.http_readers > 0
    }

    /// Whether any active policy exists in `scope` (`None`: in any scope) —
    /// privacyIDEA's `list_policies(scope=scope, active=True)` being non-empty.
    pub fn has_active_policies(&self, scope: Option<&str>) -> bool {
        match scope {
            None => self.active_total > 0,
            Some(s) => self.active_by_scope.get(s).copied().unwrap_or(0) > 0,
        }
    }

    #[inline(always)]
    pub(crate) fn prepare<'q>(&'q self, q: &'q Query<'q>) -> Result<Prepared<'q>, MatchError> {
        let (mut user, mut realm, mut resolver) = (q.user, q.realm, q.resolver);
        if let Some(uo) = q.user_object {
            let ul = |s: &str| s.trim().to_lowercase();
            let used = uo.used_login.as_deref().unwrap_or(&uo.login);
            let user_conflict = user
                .filter(|u| !u.is_empty())
                .is_some_and(|u| ul(u) != ul(&uo.login) && ul(u) != ul(used));
            let res_conflict = resolver
                .filter(|r| !r.is_empty())
                .is_some_and(|r| r.to_lowercase() != uo.resolver.to_lowercase());
            let realm_conflict = realm
                .filter(|r| !r.is_empty())
                .is_some_and(|r| r.to_lowercase() != uo.realm);
            if user_conflict || res_conflict || realm_conflict {
                return Err(MatchError::Parameter(format!(
                    "Cannot pass user_object ({}) as well as user ({}), resolver ({}), realm ({}) in policy ({}, {}, {})",
                    uo.display(),
                    user.unwrap_or("None"),
                    resolver.unwrap_or("None"),
                    realm.unwrap_or("None"),
                    py_opt(q.name),
                    py_opt(q.scope),
                    py_opt(q.action)
                )));
            }
            user = Some(uo.login.as_str());
            realm = Some(uo.realm.as_str());
            resolver = Some(uo.resolver.as_str());
        }
        let (realm_q, pairing) = match q.additional_realms {
            Some(extra) if !extra.is_empty() => {
                let mut list: Vec<&str> = extra.iter().map(String::as_str).collect();
                if let Some(r) = realm.filter(|r| !r.is_empty()) {
                    if !list.contains(&r) {
                        list.push(r);
                    }
                }
                let pairing = list.len() > 1 && realm.is_some_and(|r| !r.is_empty());
                (RealmQ::List(list), pairing)
            }
            _ => match realm {
                Some(r) => (RealmQ::Str(r), false),
                None => (RealmQ::None, false),
            },
        };
        let client = match q.client {
            None => None,
            Some("") => {
                return Err(MatchError::Parameter(
                    "client argument must be a non-empty string".into(),
                ))
            }
            Some(c) => Some(c),
        };
        let admin_scope = q.scope == Some("admin");
        Ok(Prepared {
            q,
            user,
            realm,
            resolver,
            realm_q,
            pairing,
            admin_scope,
            realm_resolvers: &self.realm_resolvers,
            client,
            client_ip: std::cell::OnceCell::new(),
            admit: std::cell::Cell::new(NOT_YET),
        })
    }

    /// The `list_policies` filters for one policy; `Ok(group)` where group 1
    /// marks a client-less policy appended after a client filter.
    /// `Err(None)` = the client query is not an IP address and this policy has clients.
    pub(crate) fn check(
        &self,
        p: &CompiledPolicy,
        pq: &Prepared<'_>,
    ) -> Result<u8, Option<Attribute>> {
        self.check_impl(p, pq, false)
    }

    /// [`PolicySet::check`]; `scope_known`: the caller guarantees that the
    /// policy's scope equals the queried one (an index candidate).
    #[inline]
    fn check_impl(
        &self,
        p: &CompiledPolicy,
        pq: &Prepared<'_>,
        scope_known: bool,
    ) -> Result<u8, Option<Attribute>> {
        let q = &pq.q;
        let pol = &p.policy;
        if q.name.is_some_and(|n| pol.name() != n) {
            return Err(Some(Attribute::Name));
        }
        if q.active.is_some_and(|a| p.active != a) {
            return Err(Some(Attribute::Active));
        }
        if !scope_known && q.scope.is_some_and(|s| pol.scope() != s) {
            return Err(Some(Attribute::Scope));
        }
        // An index candidate (only whether it passes counts, not which
        // attribute fails first; its admit bits were checked by `collect`
        // with the slot's gate word): the admin user first, which rejects
        // the other tenants' and the global admins' policies cheaply.
        if scope_known && !Self::adminuser_passes(p, pq) {
            return Err(Some(Attribute::Adminuser));
        }
        if let Some(a) = q.action {
            if !p.action().is_empty() && !passes(p.action(), a) {
                return Err(Some(Attribute::Action));
            }
        }
        if p.restricts != 0 {
            Self::check_restrictions(p, pq, scope_known)?;
        }
        let mut group = 0;
        if let Some(c) = &pq.client {
            if !p.has_client {
                group = 1;
            } else {
                let ip = pq.client_ip.get_or_init(|| parse_ip(c));
                // An IPv4 address: the list's IPv4 networks decide (an
                // empty list rejects, as below).
                if let (Ok(IpAddr::V4(a)), Some(rare)) = (ip, &p.rare) {
                    if !v4_allows(&rare.client_v4, u32::from(*a)) {
                        return Err(Some(Attribute::Client));
                    }
                    return Ok(group);
                }
                let list = pol.client_list();
                if list.is_empty() {
                    return Err(Some(Attribute::Client));
                }
                match ip {
                    Err(()) => return Err(None),
                    Ok(ip) => {
                        if !list.allows(*ip) {
                            return Err(Some(Attribute::Client));
                        }
                    }
                }
            }
        }
        Ok(group)
    }

    /// The filters of [`PolicySet::check_impl`] between the action and the
    /// client, for a policy with [`restricts`] bits.
    #[inline]
    fn check_restrictions(
        p: &CompiledPolicy,
        pq: &Prepared<'_>,
        scope_known: bool,
    ) -> Result<(), Option<Attribute>> {
        let q = &pq.q;
        let pol = &p.policy;
        let r = p.restricts;
        if r & restricts::REALM != 0 {
            let s = match &pq.realm_q {
                RealmQ::None => None,
                RealmQ::Str(r) => Some(passes(p.realm(), r)),
                RealmQ::List(l) => Some(p.realm().search_list(l).passes()),
            };
            if s == Some(false) {
                return Err(Some(Attribute::Realm));
            }
        }
        if pq.admin_scope && r & restricts::ADMINREALM != 0 {
            if let (Some(ar), Some(more)) = (q.adminrealm, p.more()) {
                if !more.adminrealm.is_empty() && !more.adminrealm.search(ar).passes() {
                    return Err(Some(Attribute::Adminrealm));
                }
            }
        }
        if let Some(u) = pq.user.filter(|_| r & restricts::USER != 0) {
            // A case-insensitive policy (lower-case entries) compares
            // the query's user in lower case (lowered here, per such
            // candidate: few policies are case-insensitive).
            let ok = match p.more().and_then(|m| m.user_lower.as_ref()) {
                Some(l) => passes_lowered(l, u),
                None => passes(p.user(), u),
            };
            if !ok {
                return Err(Some(Attribute::User));
            }
            if pq.pairing {
                let r = pq.realm.unwrap_or("");
                if !(p.user().contains_raw(u) && p.realm().contains_raw(r)) {
                    return Err(Some(Attribute::UserRealmPairing));
                }
            }
        }
        if !scope_known && r & restricts::ADMINUSER != 0 && !Self::adminuser_passes(p, pq) {
            return Err(Some(Attribute::Adminuser));
        }
        if let Some(res) = pq.resolver.filter(|_| r & restricts::RESOLVER != 0) {
            if p.check_all_resolvers {
                let ok = pq
                    .ordered_resolvers()
                    .is_some_and(|rs| rs.iter().any(|r| p.resolver().search(r).passes()));
                if !ok {
                    return Err(Some(Attribute::Resolver));
                }
            } else if !p.resolver().is_empty() && !passes(p.resolver(), res) {
                return Err(Some(Attribute::Resolver));
            }
        }
        if let Some(node) = q.pinode {
            if r & restricts::PINODE != 0 && !pol.pinode().iter().any(|n| n == node) {
                return Err(Some(Attribute::Pinode));
            }
        }
        if let Some(ua) = q.user_agent.filter(|_| r & restricts::USER_AGENT != 0) {
            let ua = lower(ua);
            if ua.is_empty()
                || !p
                    .rare()
                    .user_agents_lower
                    .iter()
                    .any(|a| **a == *ua.as_ref())
            {
                return Err(Some(Attribute::UserAgent));
            }
        }
        Ok(())
    }

    /// The admin-user filter of [`PolicySet::check`].
    #[inline]
    fn adminuser_passes(p: &CompiledPolicy, pq: &Prepared<'_>) -> bool {
        if !pq.admin_scope {
            return true;
        }
        let Some(au) = pq.q.adminuser else {
            return true;
        };
        if p.adminuser().is_empty() {
            return true;
        }
        // Lowered per case-insensitive candidate, as the user.
        match p.more().and_then(|m| m.adminuser_lower.as_ref()) {
            Some(l) => passes_lowered(l, au),
            None => passes(p.adminuser(), au),
        }
    }

    /// The time filter of `match_policies`.
    pub(crate) fn check_time(p: &CompiledPolicy, q: &Query<'_>) -> bool {
        match (&q.time, &p.rare().time) {
            (None, _) | (_, None) => true,
            (Some(t), Some(Ok(r))) => r.matches_datetime(t),
            (Some(_), Some(Err(_))) => false,
        }
    }

    #[inline(always)]
    fn collect<'s>(
        &'s self,
        pq: &Prepared<'_>,
        linear: bool,
        sort: bool,
        out: &mut Hits<'s>,
    ) -> Result<(), MatchError> {
        let mut bad_client = false;
        // Index candidates of a scope query (without a name) are of that scope.
        let scope_known = !linear && pq.q.name.is_none() && pq.q.scope.is_some();
        // The gate word a candidate must cover (`NOT_YET`: not computed).
        let mut want = NOT_YET;
        let mut visit = |id: u32| {
            if scope_known {
                if want == NOT_YET {
                    want = pq.admit() | gate_active(pq.q.active);
                }
                let g = self.gate.get(id as usize).copied().unwrap_or(0);
                if g & want != want {
                    // Inactive, or the user, admin user or resolver
                    // rejects it (all before the client: the same
                    // outcome as the full check).
                    return;
                }
                if g & CLIENT_GATE != CLIENT_GATE && !pq.client_gate_passes(g) {
                    // A client list without the query's IPv4 address's
                    // bit (only whether a candidate passes counts).
                    return;
                }
            }
            let Some(p) = self.slots.get(id) else {
                return;
            };
            match self.check_impl(p, pq, scope_known) {
                Ok(group) => {
                    let rank = self.rank.get(id as usize).copied().unwrap_or(u32::MAX);
                    out.push(Hit {
                        priority: p.policy.priority(),
                        order: (u64::from(group) << 32) | u64::from(rank),
                        p,
                    })
                }
                Err(None) => bad_client = true,
                Err(Some(_)) => {}
            }
        };
        if linear {
            self.order.iter().copied().for_each(&mut visit);
        } else {
            let keys = pq.index_keys();
            self.index
                .for_each_candidate(pq.q.name, pq.q.scope, pq.q.action, &keys, visit);
        }
        if bad_client {
            return Err(MatchError::InvalidClientIp(
                pq.q.client.unwrap_or_default().to_string(),
            ));
        }
        if sort && out.len() > 1 {
            if pq.q.unsorted {
                sort_small(out, |h| (0, h.order));
            } else {
                sort_small(out, |h| (h.priority, h.order));
            }
        }
        Ok(())
    }

    /// privacyIDEA's `list_policies`: the attribute filters, sorted by
    /// priority (stable: load order, client-specific before client-less after
    /// a client filter). Time and conditions are not applied; `user_object`
    /// is honoured like in `match_policies`.
    pub fn list<'s>(&'s self, q: &Query<'_>) -> Result<Vec<&'s Policy>, MatchError> {
        let pq = self.prepare(q)?;
        let mut hits = Hits::new();
        self.collect(&pq, false, true, &mut hits)?;
        Ok(hits.iter().map(|h| &h.p.policy).collect())
    }

    /// privacyIDEA's `match_policies`: [`PolicySet::list`], then the time
    /// filter (if `q.time` is given), then conditions (per `q.conditions`;
    /// the first condition error aborts, in result order).
    pub fn match_policies<'s>(&'s self, q: &Query<'_>) -> Result<Vec<&'s Policy>, MatchError> {
        self.match_impl(q, false)
    }

    /// Reference implementation of [`PolicySet::match_policies`] scanning
    /// every policy without the index (used by property tests and benchmarks).
    #[doc(hidden)]
    pub fn linear_match_policies<'s>(
        &'s self,
        q: &Query<'_>,
    ) -> Result<Vec<&'s Policy>, MatchError> {
        self.match_impl(q, true)
    }

    #[inline(always)]
    fn match_impl<'s>(
        &'s self,
        q: &Query<'_>,
        linear: bool,
    ) -> Result<Vec<&'s Policy>, MatchError> {
        let pq = self.prepare(q)?;
        let mut hits = Hits::new();
        self.collect(&pq, linear, true, &mut hits)?;
        let mut out = Vec::with_capacity(hits.len());
        for p in hits.iter().map(|h| h.p) {
            if !p.has_more() {
                out.push(&p.policy);
                continue;
            }
            if p.rare().time.is_some() && !Self::check_time(p, q) {
                continue;
            }
            if p.rare().conditions.is_empty() || self.conditions_hold(p, q)? {
                out.push(&p.policy);
            }
        }
        Ok(out)
    }

    /// Whether [`PolicySet::match_policies`] would return any policy (the
    /// same errors), without building the list: the hits are sorted only
    /// when one of them has a time range or conditions (a condition error
    /// is reported for the first erring policy in result order).
    pub fn any_match(&self, q: &Query<'_>) -> Result<bool, MatchError> {
        let pq = self.prepare(q)?;
        let mut hits = Hits::new();
        self.collect(&pq, false, false, &mut hits)?;
        if hits.iter().all(|h| !h.p.has_more()) {
            return Ok(!hits.is_empty());
        }
        if hits.len() > 1 {
            if q.unsorted {
                sort_small(&mut hits, |h| (0, h.order));
            } else {
                sort_small(&mut hits, |h| (h.priority, h.order));
            }
        }
        let mut any = false;
        for p in hits.iter().map(|h| h.p) {
            if !p.has_more() {
                any = true;
                continue;
            }
            if p.rare().time.is_some() && !Self::check_time(p, q) {
                continue;
            }
            if p.rare().conditions.is_empty() || self.conditions_hold(p, q)? {
                any = true;
            }
        }
        Ok(any)
    }

    /// The decision of `Match.allowed`: a policy matches, or no active
    /// policy exists in the query's scope (see [`PolicySet::any_match`]).
    pub fn allowed(&self, q: &Query<'_>) -> Result<bool, MatchError> {
        Ok(self.any_match(q)? || !self.has_active_policies(q.scope))
    }

    pub(crate) fn conditions_hold(
        &self,
        p: &CompiledPolicy,
        q: &Query<'_>,
    ) -> Result<bool, MatchError> {
        if matches!(q.conditions, ConditionCheck::Skip) {
            return Ok(true);
        }
        let name = p.policy.name();
        for c in &p.rare().conditions {
            let (cond, cmp) = match c {
                CompiledCondition::Inactive => continue,
                CompiledCondition::Invalid(e) => {
                    return Err(MatchError::Policy(format!(
                        "Invalid condition of policy '{name}': ERR905: {e}"
                    )))
                }
                CompiledCondition::Active(b) => (&b.0, &b.1),
            };
            if let ConditionCheck::Sections(s) = q.conditions {
                if !s.contains(&cond.section) {
                    continue;
                }
            }
            let ok = match lookup(cond.section, &cond.key, q.user_object, &q.input) {
                Lookup::ObjectMissing => missing(
                    cond.handle_missing_data,
                    format!(
                        "Policy '{name}' has a condition on the section '{}' with key '{}', but a {} is unavailable!",
                        cond.section,
                        cond.key,
                        cond.section.object_name()
                    ),
                )?,
                Lookup::KeyMissing => missing(
                    cond.handle_missing_data,
                    format!(
                        "Unknown {} key '{}' referenced in condition of policy '{name}'!",
                        cond.section, cond.key
                    ),
                )?,
                Lookup::Value(v) => {
                    cmp.eval(&v, q.input.now).map_err(|e| {
                        log::warn!(
                            "error during handling the condition on {} '{}' of policy '{name}': {e}",
                            cond.section,
                            cond.key
                        );
                        MatchError::Policy(format!(
                            "Invalid comparison in the {} conditions of policy '{name}'",
                            cond.section
                        ))
                    })?
                }
            };
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// `s` as an IP address, as `str::parse::<IpAddr>` reads it: a plain
/// dotted quad (`10.1.2.3`, no leading zeros) is read by [`dotted_quad`],
/// anything else by the library (the client's address is parsed once per
/// query, and the library's general parser was ~100 instructions of a
/// decision).
#[inline]
fn parse_ip(s: &str) -> Result<IpAddr, ()> {
    match dotted_quad(s.as_bytes()) {
        Some(octets) => Ok(IpAddr::from(octets)),
        None => s.parse::<IpAddr>().map_err(|_| ()),
    }
}

/// The octets of a plain dotted quad: four numbers of 1–3 digits, each at
/// most 255 and without a leading zero, separated by single dots, nothing
/// else. `None` for anything else (which the caller hands to the library).
/// One pass over the bytes, a digit at a time.
#[inline]
fn dotted_quad(b: &[u8]) -> Option<[u8; 4]> {
    let mut octets = [0u8; 4];
    let mut it = b.iter();
    for (k, o) in octets.iter_mut().enumerate() {
        let d = it.next()?.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        let mut v = u32::from(d);
        let mut digits = 1;
        loop {
            match it.next() {
                Some(&b'.') if k < 3 => break,
                None if k == 3 => break,
                Some(&c) => {
                    let d = c.wrapping_sub(b'0');
                    // not a digit, a leading zero, or a fourth digit
                    if d > 9 || v == 0 || digits == 3 {
                        return None;
                    }
                    v = v * 10 + u32::from(d);
                    digits += 1;
                }
                None => return None,
            }
        }
        *o = u8::try_from(v).ok()?;
    }
    Some(octets)
}

/// A policy passing the attribute filters of one query.
#[derive(Clone, Copy)]
struct Hit<'s> {
    priority: i64,
    /// `group << 32 | load position` (group 1: client-less after a client filter).
    order: u64,
    p: &'s CompiledPolicy,
}

/// The hits of one query, on the stack unless many.
type Hits<'s> = smallvec::SmallVec<[Hit<'s>; 16]>;

/// Sort by `key` (keys are unique: the load position is part of each):
/// insertion sort for the few hits of a selective query, else the library's.
#[inline]
fn sort_small(hits: &mut [Hit<'_>], key: impl Fn(&Hit<'_>) -> (i64, u64)) {
    if hits.len() > 12 {
        hits.sort_unstable_by_key(key);
        return;
    }
    for i in 1..hits.len() {
        let mut j = i;
        while j > 0 && key(&hits[j - 1]) > key(&hits[j]) {
            hits.swap(j - 1, j);
            j -= 1;
        }
    }
}

fn missing(h: HandleMissingData, msg: String) -> Result<bool, MatchError> {
    match h {
        HandleMissingData::RaiseError => {
            log::error!("{msg}");
            Err(MatchError::Policy(msg))
        }
        HandleMissingData::ConditionIsTrue => Ok(true),
        HandleMissingData::ConditionIsFalse => Ok(false),
    }
}

enum Lookup<'a> {
    ObjectMissing,
    KeyMissing,
    Value(Cow<'a, Value>),
}

fn from_map<'a>(m: &'a serde_json::Map<String, Value>, key: &str) -> Lookup<'a> {
    match m.get(key) {
        None | Some(Value::Null) => Lookup::KeyMissing,
        Some(v) => Lookup::Value(Cow::Borrowed(v)),
    }
}

fn lookup<'a>(
    section: Section,
    key: &str,
    user: Option<&'a UserObject>,
    input: &ConditionInput<'a>,
) -> Lookup<'a> {
    match section {
        Section::UserInfo => match user {
            None => Lookup::ObjectMissing,
            Some(u) => from_map(&u.attributes, key),
        },
        Section::Token => match input.token {
            None => Lookup::ObjectMissing,
            Some(t) => from_map(&t.fields, key),
        },
        Section::TokenInfo => match input.token {
            None => Lookup::ObjectMissing,
            Some(t) => from_map(&t.info, key),
        },
        Section::Container => match input.container {
            None => Lookup::ObjectMissing,
            Some(c) => from_map(&c.fields, key),
        },
        Section::ContainerInfo => match input.container {
            None => Lookup::ObjectMissing,
            Some(c) => from_map(&c.info, key),
        },
        Section::HttpRequestHeader => match input.http {
            None => Lookup::ObjectMissing,
            Some(h) => match h.header(key) {
                None => Lookup::KeyMissing,
                Some(v) => Lookup::Value(Cow::Owned(Value::String(v.to_string()))),
            },
        },
        Section::HttpEnvironment => match input.http {
            None => Lookup::ObjectMissing,
            Some(h) => from_map(&h.environ, key),
        },
        Section::RequestData => match input.request_data {
            Some(Value::Object(m)) => {
                if key == "pass" || key == "password" {
                    Lookup::KeyMissing
                } else {
                    from_map(m, key)
                }
            }
            _ => Lookup::ObjectMissing,
        },
    }
}

#[cfg(test)]
mod fast_path_tests {
    use super::parse_ip;
    use std::net::IpAddr;

    /// The client gate rejects only addresses the list does not allow.
    #[test]
    fn client_gate_rejects_only_what_the_list_rejects() {
        use super::{client_bit, client_gate_of_nets, CLIENT_GATE};
        use pi_model::client::{v4_allows, ClientList};
        use std::net::Ipv4Addr;
        let lists: [&[&str]; 10] = [
            &["10.7.0.0/16"],
            &["10.7.0.0/16", "-10.7.1.1"],
            &["10.7.3.4", "10.9.0.0/17", "192.168.1.0/24"],
            &["10.0.0.0/15"],
            &["0.0.0.0/0"],
            &["::/0", "::ffff:10.0.0.0/104"],
            &["-10.0.0.0/8"],
            &["fe80::/10", "10.200.0.0/16"],
            &["10.7.0.0/255.255.0.0", "!10.7.2.3"],
            &[],
        ];
        let mut rejected = 0;
        for l in lists {
            let list = ClientList::from_items(l);
            let nets = list.v4_nets();
            let bits = client_gate_of_nets(&nets);
            assert_eq!(bits & !CLIENT_GATE, 0);
            for a in 0..=255u32 {
                for b in [0u32, 1, 2, 3, 4, 5, 7, 9, 200, 255] {
                    for c in [0u32, 1, 2, 3] {
                        let addr = u32::from(Ipv4Addr::new(10, a as u8, c as u8, b as u8));
                        for addr in [addr, addr ^ (0xC0A8 << 16) ^ (10 << 24), addr ^ (1 << 16)] {
                            let cb = client_bit(addr);
                            assert_eq!(cb.count_ones(), 1);
                            assert_eq!(cb & !CLIENT_GATE, 0);
                            if bits & cb != cb {
                                assert!(!v4_allows(&nets, addr), "{l:?} {addr:x}");
                                assert!(!list.allows(IpAddr::V4(Ipv4Addr::from(addr))));
                                rejected += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(rejected > 1000, "{rejected}");
    }

    #[test]
    fn parse_ip_reads_what_the_library_reads() {
        for s in [
            "10.1.2.3",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3",
            "1.2.3.4.",
            "1.2.3.4.5",
            "1..2.3",
            ".1.2.3",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.-4",
            "1234.1.1.1",
            "10.0.0.1000",
            "::1",
            "fe80::1",
            "::ffff:1.2.3.4",
            "",
            "a.b.c.d",
            "1.2.3.4\n",
            "99.99.99.99",
            "0.00.0.0",
            "00.0.0.0",
            "0.0.0.00",
            "1.2.3.255",
            "1.2.3.256",
            "1.2.3.299",
            "300.2.3.4",
            "1.2.3.4/8",
            "1.2.3.4x",
            "1.2.3.",
            "1.2.3",
            "1",
            ".",
            "...",
            "1.2.3.4.5.6.7",
            "+1.2.3.4",
            "1.2.3.0x1",
            "127.000.0.1",
            "12.34.56.78",
            "199.255.0.100",
            "1:2:3:4:5:6:7:8",
            "1.2.3.4%eth0",
            "١.٢.٣.٤",
        ] {
            assert_eq!(parse_ip(s), s.parse::<IpAddr>().map_err(|_| ()), "{s:?}");
            if let Some(o) = super::dotted_quad(s.as_bytes()) {
                assert_eq!(Ok(IpAddr::from(o)), s.parse::<IpAddr>(), "{s:?}");
            }
        }
        // every one-, two- and three-digit octet in each position
        for n in 0..1000u32 {
            for k in 0..4 {
                let mut parts = ["7"; 4].map(String::from);
                parts[k] = n.to_string();
                let s = parts.join(".");
                assert_eq!(parse_ip(&s), s.parse::<IpAddr>().map_err(|_| ()), "{s:?}");
                let z = format!("0{n}");
                parts[k] = z;
                let s = parts.join(".");
                assert_eq!(parse_ip(&s), s.parse::<IpAddr>().map_err(|_| ()), "{s:?}");
            }
        }
    }
}
