//! Candidate index.
//!
//! Level 1: scope → action key. The candidates of a query with an action
//! are the policies of the scope whose action dict has the literal key (or
//! the key without a trailing newline, Python's `$` rule), plus every
//! *wild* policy: one with a `*` key, with a regular-expression key, or with
//! no action at all (quirk Q1). The wild policies are merged into every
//! action's bucket when the set is built, so a query reads one bucket; an
//! action no policy names literally reads the bucket of the wild policies.
//! Without an action: all policies of the scope.
//!
//! Level 2: inside every bucket, the policies are split per attribute
//! (realm, admin realm, user, admin user) into *unrestricted* (empty list),
//! *by literal entry* and *complex* (`*`, regular expressions,
//! case-insensitive users). A query value `v` needs only unrestricted ∪
//! literal[v] ∪ complex — three disjoint lists; the attribute with the
//! fewest candidates is used. A bucket stores its splits in one flat array.
//!
//! Every candidate is then checked completely, so the index only has to
//! return a superset of the matches — the property test compares it with a
//! linear scan.

use crate::compiled::{CompiledPolicy, EntryKind, EntryList};
use std::hash::{BuildHasherDefault, Hasher};

/// FxHash (as in rustc): fast for the short keys of policy values. Keys are
/// written by administrators, so hash flooding is not a concern.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Candidate lists collected for one query (on the stack unless many).
pub(crate) struct Lists<'a> {
    lists: smallvec::SmallVec<[&'a [u32]; 16]>,
    /// Some id may be in two lists (they must be merged and de-duplicated).
    overlap: bool,
}

impl<'a> Lists<'a> {
    #[inline]
    fn push(&mut self, l: &'a [u32]) {
        if !l.is_empty() {
            self.lists.push(l);
        }
    }
}

/// Overlapping candidate lists up to this total size are merged on the stack.
const SMALL: usize = 64;

/// Below this many candidates a split is good enough; no further attributes are tried.
const GOOD_ENOUGH: usize = 4;

/// FxHash of a string: the index is keyed by hashes, not strings. Two
/// values with the same hash share their candidate lists, which only adds
/// candidates (every candidate is checked completely), so collisions cost
/// time, never correctness — and a query never touches a heap string.
#[inline]
fn hash_str(s: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(s.as_bytes());
    // One more round so that short strings spread over the high bits.
    h.write_u8(0xff);
    h.finish()
}

/// A query value as hashes: of `v`, and of `v` without a trailing newline
/// (Python's `$` also matches before it).
#[derive(Debug, Clone, Copy)]
struct ValueKey {
    exact: u64,
    stripped: Option<u64>,
}

impl ValueKey {
    #[inline]
    fn of(v: &str) -> ValueKey {
        ValueKey {
            exact: hash_str(v),
            stripped: v.strip_suffix('\n').map(hash_str),
        }
    }
}

/// The query values of the four split attributes, hashed on first use
/// (most buckets are too small to need them).
struct QueryKeys<'q> {
    strs: [Option<&'q str>; 4],
    keys: [std::cell::Cell<Option<ValueKey>>; 4],
}

impl QueryKeys<'_> {
    #[inline]
    fn get(&self, i: usize) -> Option<ValueKey> {
        let v = *self.strs.get(i)?;
        let cell = self.keys.get(i)?;
        match cell.get() {
            Some(k) => Some(k),
            None => {
                let k = ValueKey::of(v?);
                cell.set(Some(k));
                Some(k)
            }
        }
    }
}

/// How one policy is indexed for one split attribute (classified once per
/// policy at build, used for every bucket the policy is in).
#[derive(Debug)]
enum Class {
    /// Empty list: a candidate for every value.
    Unrestricted,
    /// `*`, regular expressions, case-insensitive users: always a candidate.
    Complex,
    /// Only literal entries, as hashes.
    Values(Box<[u64]>),
}

impl Class {
    fn of(list: &EntryList, force_complex: bool) -> Class {
        if list.is_empty() {
            return Class::Unrestricted;
        }
        let complex = force_complex
            || list
                .entries
                .iter()
                .any(|e| matches!(e.kind, EntryKind::Star | EntryKind::Regex(_)));
        if complex {
            return Class::Complex;
        }
        Class::Values(list.entries.iter().map(|e| hash_str(&e.raw)).collect())
    }
}

/// State shared by the buckets of one build.
struct Builder {
    /// Per policy id, its class for each split attribute.
    classes: Vec<[Class; 4]>,
    /// Reused `(value hash, id)` buffer.
    pairs: Vec<(u64, u32)>,
    /// Reused buffer of complex ids.
    complex: Vec<u32>,
    /// Reused `(value hash, span)` buffer.
    spans: Vec<(u64, Span)>,
}

/// A range of [`Bucket::data`].
#[derive(Debug, Default, Clone, Copy)]
struct Span {
    start: u32,
    end: u32,
}

/// One attribute's split of a bucket: spans of the bucket's flat data.
#[derive(Debug, Default, Clone)]
struct Split {
    /// `false`: not built, because the bucket is small or no policy of it
    /// restricts the attribute (the split could never be smaller than the bucket).
    useful: bool,
    unrestricted: Span,
    complex: Span,
    by_value: ValueTable,
}

impl Split {
    /// Build the split of attribute `attr` for the bucket `ids`, appending
    /// its lists to `data`: one pass over the ids.
    fn fill(&mut self, attr: usize, ids: &[u32], b: &mut Builder, data: &mut Vec<u32>) {
        let class = |id: u32| b.classes.get(id as usize).and_then(|c| c.get(attr));
        if ids
            .iter()
            .all(|&id| matches!(class(id), Some(Class::Unrestricted) | None))
        {
            return;
        }
        let pos = |d: &Vec<u32>| d.len() as u32;
        let start = pos(data);
        b.complex.clear();
        b.pairs.clear();
        for &id in ids {
            match class(id) {
                Some(Class::Unrestricted) | None => data.push(id),
                Some(Class::Complex) => b.complex.push(id),
                Some(Class::Values(vs)) => b.pairs.extend(vs.iter().map(|&v| (v, id))),
            }
        }
        self.unrestricted = Span {
            start,
            end: pos(data),
        };
        let start = pos(data);
        data.extend_from_slice(&b.complex);
        self.complex = Span {
            start,
            end: pos(data),
        };
        b.pairs.sort_unstable();
        b.pairs.dedup();
        let by_value = &mut b.spans;
        by_value.clear();
        for &(v, id) in &b.pairs {
            let end = pos(data) + 1;
            match by_value.last_mut() {
                Some((last, span)) if *last == v => span.end = end,
                _ => by_value.push((
                    v,
                    Span {
                        start: end - 1,
                        end,
                    },
                )),
            }
            data.push(id);
        }
        self.by_value = ValueTable::new(by_value);
        self.useful = true;
    }
}

/// Value hash → span: a linear list when short, else an open-addressing
/// hash table (power-of-two size, at most half full, linear probing) — one
/// probe instead of a binary search's chain of dependent loads.
#[derive(Debug, Default, Clone)]
struct ValueTable {
    slots: Box<[(u64, Span)]>,
    /// `0`: `slots` is a plain list; else log2 of the table size.
    bits: u32,
}

/// Marks a free slot; a value hashing to it is stored in the list form.
const EMPTY: u64 = u64::MAX;
const LINEAR: usize = 8;

impl ValueTable {
    fn new(entries: &[(u64, Span)]) -> ValueTable {
        if entries.len() <= LINEAR || entries.iter().any(|e| e.0 == EMPTY) {
            return ValueTable {
                slots: entries.into(),
                bits: 0,
            };
        }
        let bits = (2 * entries.len()).next_power_of_two().trailing_zeros();
        let mut slots = vec![(EMPTY, Span::default()); 1 << bits];
        let mask = slots.len() - 1;
        for &(v, span) in entries {
            let mut i = Self::home(v, bits);
            while slots.get(i).is_some_and(|s| s.0 != EMPTY) {
                i = (i + 1) & mask;
            }
            if let Some(slot) = slots.get_mut(i) {
                *slot = (v, span);
            }
        }
        ValueTable {
            slots: slots.into_boxed_slice(),
            bits,
        }
    }

    #[inline]
    fn home(v: u64, bits: u32) -> usize {
        (v >> (64 - bits)) as usize
    }

    #[inline]
    fn get(&self, v: Option<u64>) -> Option<Span> {
        let v = v?;
        if self.bits == 0 {
            return self.slots.iter().find(|s| s.0 == v).map(|s| s.1);
        }
        let mask = self.slots.len() - 1;
        let mut i = Self::home(v, self.bits);
        loop {
            let &(k, span) = self.slots.get(i)?;
            if k == v {
                return Some(span);
            }
            if k == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

/// The policies of one bucket (ascending ids, each once) with their
/// attribute splits.
#[derive(Debug, Default, Clone)]
pub(crate) struct Bucket {
    ids: Vec<u32>,
    /// The lists of all splits, one after the other.
    data: Vec<u32>,
    splits: [Split; 4],
}

impl Bucket {
    fn new(ids: Vec<u32>, b: &mut Builder) -> Bucket {
        let mut data: Vec<u32> = Vec::with_capacity(if ids.len() > GOOD_ENOUGH {
            2 * ids.len()
        } else {
            0
        });
        let mut splits: [Split; 4] = Default::default();
        // A bucket this small is used as a whole (see `push_candidates`).
        if ids.len() > GOOD_ENOUGH {
            for (attr, split) in splits.iter_mut().enumerate() {
                split.fill(attr, &ids, b, &mut data);
            }
        }
        Bucket { ids, data, splits }
    }

    #[inline]
    fn span(&self, s: Span) -> &[u32] {
        self.data
            .get(s.start as usize..s.end as usize)
            .unwrap_or(&[])
    }

    /// Push the smallest candidate lists of this bucket for the query values.
    fn push_candidates<'a>(&'a self, keys: &QueryKeys<'_>, out: &mut Lists<'a>) {
        let mut best: Option<[&'a [u32]; 4]> = None;
        let mut best_len = self.ids.len();
        if best_len > GOOD_ENOUGH {
            for (i, split) in self.splits.iter().enumerate() {
                if !split.useful {
                    continue;
                }
                if let Some(v) = keys.get(i) {
                    let exact = split
                        .by_value
                        .get(Some(v.exact))
                        .map(|s| self.span(s))
                        .unwrap_or(&[]);
                    let stripped = split
                        .by_value
                        .get(v.stripped)
                        .map(|s| self.span(s))
                        .unwrap_or(&[]);
                    let l = [
                        self.span(split.unrestricted),
                        exact,
                        stripped,
                        self.span(split.complex),
                    ];
                    let len: usize = l.iter().map(|x| x.len()).sum();
                    if len < best_len {
                        best_len = len;
                        best = Some(l);
                        if len <= GOOD_ENOUGH {
                            break;
                        }
                    }
                }
            }
        }
        match best {
            None => out.push(&self.ids),
            Some(lists) => {
                // One policy can list both `v` and `v` without its newline.
                if !lists[2].is_empty() {
                    out.overlap = true;
                }
                for l in lists {
                    out.push(l);
                }
            }
        }
    }
}

/// Buckets of one scope.
#[derive(Debug, Default, Clone)]
pub(crate) struct ScopeIndex {
    all: Bucket,
    /// Per literal action key (hash): the policies with that key and the wild ones.
    by_action: HashMap<u64, Bucket>,
    /// Policies with a `*` or regular-expression action key, or without actions.
    wild: Bucket,
}

/// A scope's policies while the index is built.
#[derive(Default)]
struct ScopeLists {
    all: Vec<u32>,
    by_action: HashMap<u64, Vec<u32>>,
    wild: Vec<u32>,
}

impl ScopeLists {
    fn add(&mut self, id: u32, p: &CompiledPolicy) {
        self.all.push(id);
        if p.action.is_empty() {
            self.wild.push(id);
            return;
        }
        for e in &p.action.entries {
            let list = match e.kind {
                EntryKind::Star | EntryKind::Regex(_) => &mut self.wild,
                EntryKind::Literal | EntryKind::Invalid(_) => {
                    self.by_action.entry(hash_str(&e.raw)).or_default()
                }
            };
            if list.last() != Some(&id) {
                list.push(id);
            }
        }
    }

    fn build(self, b: &mut Builder) -> ScopeIndex {
        let by_action = self
            .by_action
            .into_iter()
            .map(|(key, ids)| {
                let merged = merge_sorted(&ids, &self.wild);
                (key, Bucket::new(merged, b))
            })
            .collect();
        ScopeIndex {
            all: Bucket::new(self.all, b),
            by_action,
            wild: Bucket::new(self.wild, b),
        }
    }
}

/// The union of two ascending lists, ascending, each id once.
fn merge_sorted(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        if x <= y {
            out.push(x);
            i += 1;
            if x == y {
                j += 1;
            }
        } else {
            out.push(y);
            j += 1;
        }
    }
    out.extend_from_slice(a.get(i..).unwrap_or(&[]));
    out.extend_from_slice(b.get(j..).unwrap_or(&[]));
    out
}

impl ScopeIndex {
    fn push_candidates<'a>(
        &'a self,
        action: Option<&str>,
        keys: &QueryKeys<'_>,
        out: &mut Lists<'a>,
    ) {
        let Some(a) = action else {
            self.all.push_candidates(keys, out);
            return;
        };
        let exact = self.by_action.get(&hash_str(a));
        let stripped = a
            .strip_suffix('\n')
            .and_then(|s| self.by_action.get(&hash_str(s)));
        match (exact, stripped) {
            (Some(b), None) | (None, Some(b)) => b.push_candidates(keys, out),
            (None, None) => self.wild.push_candidates(keys, out),
            (Some(b), Some(c)) => {
                // Both buckets hold the wild policies.
                out.overlap = true;
                b.push_candidates(keys, out);
                c.push_candidates(keys, out);
            }
        }
    }
}

/// The whole index.
#[derive(Debug, Default, Clone)]
pub(crate) struct Index {
    scopes: HashMap<Box<str>, ScopeIndex>,
    by_name: HashMap<Box<str>, Vec<u32>>,
}

/// Attribute values of a query usable for level 2 (`None`: not filtered
/// or not usable, e.g. a realm list).
pub(crate) struct IndexKeys<'q> {
    pub realm: Option<&'q str>,
    pub adminrealm: Option<&'q str>,
    pub user: Option<&'q str>,
    pub adminuser: Option<&'q str>,
}

impl Index {
    pub fn build(policies: &[CompiledPolicy]) -> Index {
        let mut b = Builder {
            classes: Vec::with_capacity(policies.len()),
            pairs: Vec::new(),
            complex: Vec::new(),
            spans: Vec::new(),
        };
        let mut scopes: HashMap<Box<str>, ScopeLists> = HashMap::default();
        let mut by_name: HashMap<Box<str>, Vec<u32>> = HashMap::default();
        for (i, p) in policies.iter().enumerate() {
            let id = i as u32;
            let uci = p.policy.user_case_insensitive();
            b.classes.push([
                Class::of(&p.realm, false),
                Class::of(&p.adminrealm, false),
                Class::of(&p.user, uci),
                Class::of(&p.adminuser, uci),
            ]);
            match scopes.get_mut(p.policy.scope()) {
                Some(s) => s.add(id, p),
                None => scopes
                    .entry(p.policy.scope().into())
                    .or_default()
                    .add(id, p),
            }
            match by_name.get_mut(p.policy.name()) {
                Some(ids) => ids.push(id),
                None => {
                    by_name.insert(p.policy.name().into(), vec![id]);
                }
            }
        }
        let scopes = scopes
            .into_iter()
            .map(|(k, s)| (k, s.build(&mut b)))
            .collect();
        Index { scopes, by_name }
    }

    /// Call `f` with every candidate for the query, each once, in no
    /// particular order.
    pub fn for_each_candidate(
        &self,
        name: Option<&str>,
        scope: Option<&str>,
        action: Option<&str>,
        keys: &IndexKeys<'_>,
        mut f: impl FnMut(u32),
    ) {
        if let Some(n) = name {
            if let Some(ids) = self.by_name.get(n) {
                ids.iter().copied().for_each(f);
            }
            return;
        }
        let k = QueryKeys {
            strs: [keys.realm, keys.adminrealm, keys.user, keys.adminuser],
            keys: Default::default(),
        };
        let mut lists = Lists {
            lists: smallvec::SmallVec::new(),
            overlap: false,
        };
        match scope {
            // Scopes are disjoint: their candidates never overlap.
            None => {
                for si in self.scopes.values() {
                    si.push_candidates(action, &k, &mut lists);
                }
            }
            Some(s) => {
                if let Some(si) = self.scopes.get(s) {
                    si.push_candidates(action, &k, &mut lists);
                }
            }
        }
        let overlap = lists.overlap;
        let lists = &lists.lists;
        if !overlap || lists.len() < 2 {
            lists.iter().copied().flatten().copied().for_each(f);
            return;
        }
        let total: usize = lists.iter().map(|l| l.len()).sum();
        if total <= SMALL {
            let mut buf = [0u32; SMALL];
            let mut n = 0;
            for l in lists.iter().copied() {
                if let Some(dst) = buf.get_mut(n..n + l.len()) {
                    dst.copy_from_slice(l);
                    n += l.len();
                }
            }
            let ids = &mut buf[..n];
            ids.sort_unstable();
            let mut last = None;
            for &id in ids.iter() {
                if last != Some(id) {
                    f(id);
                    last = Some(id);
                }
            }
        } else {
            let mut ids: Vec<u32> = Vec::with_capacity(total);
            for l in lists.iter().copied() {
                ids.extend_from_slice(l);
            }
            ids.sort_unstable();
            ids.dedup();
            ids.into_iter().for_each(&mut f);
        }
    }
}
