//! Candidate index.
//!
//! Level 1: scope → action key. The candidates of a query with an action
//! are the policies of the scope whose action dict has the literal key (or
//! the key without a trailing newline, Python's `$` rule), plus every
//! *wild* policy: one with a `*` key, with a regular-expression key, or with
//! no action at all (quirk Q1). The wild policies are one bucket per scope
//! (read by every action query) and are in no action bucket, so the two
//! never overlap. Without an action: all policies of the scope.
//!
//! Level 2: inside every bucket, the policies are split per attribute
//! (realm, admin realm, user, admin user) into *unrestricted* (empty list),
//! *by literal entry* and *complex* (`*`, regular expressions,
//! case-insensitive users). A query value `v` needs only unrestricted ∪
//! literal[v] ∪ complex — three disjoint lists; the attribute with the
//! fewest candidates is used. A bucket stores its splits in one flat array.
//!
//! The index refers to *slots* (see `PolicySet`), not load positions, and is
//! persistent: buckets are `Arc`-shared, a bucket larger than [`PART`] is
//! kept in parts by slot range, and [`Index::edit`] copies only the parts a
//! changed policy is in — one policy changed in a 100,000 set costs a few
//! hundred microseconds instead of a rebuild.
//!
//! Every candidate is then checked completely, so the index only has to
//! return a superset of the matches — the property tests compare it with a
//! linear scan, and an edited index with a rebuilt one.

use crate::compiled::{CompiledPolicy, Entry, EntryKind};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

pub(crate) use pi_model::hash::FxHasher;

type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A map keyed by scope names: a short list compared by string (a
/// handful of scopes exist; comparing the query's scope with each is
/// cheaper than hashing it). Correct for any number of keys.
#[derive(Debug, Clone)]
pub(crate) struct ScopeMap<V>(Vec<(Box<str>, V)>);

impl<V> Default for ScopeMap<V> {
    fn default() -> Self {
        ScopeMap(Vec::new())
    }
}

impl<V> ScopeMap<V> {
    #[inline]
    pub fn get(&self, k: &str) -> Option<&V> {
        let k = k.as_bytes();
        self.0
            .iter()
            .find(|(n, _)| n.len() == k.len() && name_eq(n.as_bytes(), k))
            .map(|(_, v)| v)
    }

    /// The value of `k`, inserted as `V::default()` if missing.
    pub fn get_or_default(&mut self, k: &str) -> &mut V
    where
        V: Default,
    {
        let at = match self.0.iter().position(|(n, _)| **n == *k) {
            Some(at) => at,
            None => {
                self.0.push((k.into(), V::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[at].1
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn into_iter(self) -> impl Iterator<Item = (Box<str>, V)> {
        self.0.into_iter()
    }
}

/// `a == b` for names of equal length: 4 to 7 bytes as two overlapping
/// 4-byte words (`admin`, `user`, `webui`), else [`short_eq`](crate::compiled::short_eq).
#[inline]
fn name_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    let word = |s: &[u8], at: usize| -> u32 {
        let mut w = [0u8; 4];
        if let Some(x) = s.get(at..at + 4) {
            w.copy_from_slice(x);
        }
        u32::from_le_bytes(w)
    };
    if (4..8).contains(&n) {
        word(a, 0) == word(b, 0) && word(a, n - 4) == word(b, n - 4)
    } else {
        crate::compiled::short_eq(a, b)
    }
}

impl<V> FromIterator<(Box<str>, V)> for ScopeMap<V> {
    fn from_iter<I: IntoIterator<Item = (Box<str>, V)>>(it: I) -> Self {
        ScopeMap(it.into_iter().collect())
    }
}

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

/// Below this many candidates a split is good enough; no further attributes
/// are tried. High: probing the other splits' tables costs more than the few
/// candidates a smaller list would save (measured: 4 → 64 took 100,000
/// policies from 4,775 to 4,599 instructions per decision, 10,000 unchanged).
const GOOD_ENOUGH: usize = 64;

/// A bucket with more policies than this has attribute splits. Low: with
/// the wild policies in their own bucket, most action buckets are small,
/// and probing a split (a cached hash, a short list) is cheaper than fully
/// checking a candidate of another tenant.
const SPLIT_MIN: usize = 1;

/// A string's hash for the index: the index is keyed by hashes, not
/// strings. Two values with the same hash share their candidate lists,
/// which only adds candidates (every candidate is checked completely), so
/// collisions cost time, never correctness — and a query never touches a
/// heap string.
///
/// FxHash's round over 8-byte words; the last (partial) word is read as
/// one word overlapping the one before (strings of 8 bytes and more) or
/// assembled from two overlapping 4-byte reads or three bytes (shorter
/// ones), so every byte is read and a tail costs one round, not one per
/// byte. A last round with the length (which tells how the words
/// overlapped) spreads short strings over the high bits.
#[inline]
pub(crate) fn hash_str(s: &str) -> u64 {
    let b = s.as_bytes();
    let n = b.len();
    let mut h = FxHasher::default();
    let w8 = |at: usize| -> u64 {
        let mut w = [0u8; 8];
        if let Some(x) = b.get(at..at + 8) {
            w.copy_from_slice(x);
        }
        u64::from_le_bytes(w)
    };
    let w4 = |at: usize| -> u64 {
        let mut w = [0u8; 4];
        if let Some(x) = b.get(at..at + 4) {
            w.copy_from_slice(x);
        }
        u64::from(u32::from_le_bytes(w))
    };
    let byte = |at: usize| u64::from(b.get(at).copied().unwrap_or(0));
    if n >= 8 {
        let mut at = 0;
        while at + 8 <= n {
            h.write_u64(w8(at));
            at += 8;
        }
        if at < n {
            h.write_u64(w8(n - 8));
        }
    } else if n >= 4 {
        h.write_u64(w4(0) | (w4(n - 4) << 32));
    } else if n > 0 {
        h.write_u64(byte(0) | (byte(n / 2) << 8) | (byte(n - 1) << 16));
    }
    h.write_u64(n as u64 | 0xff00);
    h.finish()
}

/// A value hash as the attribute splits keep it: 32 bits (the high half
/// of [`hash_str`]). Value tables are most of the index's memory; a
/// collision only merges two values' candidate lists (more candidates,
/// never fewer — values are merged before their lists are built).
type VHash = u32;

#[inline]
fn vhash(h: u64) -> VHash {
    (h >> 32) as VHash
}

/// A query value as hashes: of `v`, and of `v` without a trailing newline
/// (Python's `$` also matches before it).
#[derive(Debug, Clone, Copy)]
struct ValueKey {
    exact: VHash,
    stripped: Option<VHash>,
}

impl ValueKey {
    #[inline]
    fn of(v: &str) -> ValueKey {
        ValueKey {
            exact: vhash(hash_str(v)),
            stripped: v.strip_suffix('\n').map(|s| vhash(hash_str(s))),
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

/// The query values of the four split attributes as exact hashes, for a
/// query without stripped values; each hashed on first use.
struct ExactKeys<'q> {
    strs: [Option<&'q str>; 4],
    /// [`NOT_HASHED`], [`NO_VALUE`] or the value's hash.
    hashes: [std::cell::Cell<u64>; 4],
}

const NOT_HASHED: u64 = u64::MAX;
const NO_VALUE: u64 = u64::MAX - 1;

impl ExactKeys<'_> {
    #[inline]
    fn exact(&self, i: usize) -> Option<VHash> {
        let cell = self.hashes.get(i)?;
        let mut h = cell.get();
        if h == NOT_HASHED {
            h = match self.strs.get(i).copied().flatten() {
                Some(v) => u64::from(vhash(hash_str(v))),
                None => NO_VALUE,
            };
            cell.set(h);
        }
        (h != NO_VALUE).then_some(h as VHash)
    }
}

/// How one policy is indexed for one split attribute (classified once per
/// policy at build, used for every bucket the policy is in).
#[derive(Debug, Clone, Default)]
enum Class {
    /// Empty list: a candidate for every value.
    #[default]
    Unrestricted,
    /// `*`, regular expressions, case-insensitive users: always a candidate.
    Complex,
    /// Only literal entries, as hashes.
    Values(Box<[VHash]>),
}

/// A [`Class`] borrowed (from an owned `Class` or from the flat table of
/// a build, which keeps no allocation per policy).
#[derive(Debug, Clone, Copy)]
enum ClassRef<'a> {
    Unrestricted,
    Complex,
    Values(&'a [VHash]),
}

/// Whether a non-empty list goes to the complex part of a split.
fn is_complex(list: &[Entry], force_complex: bool) -> bool {
    force_complex
        || list
            .iter()
            .any(|e| matches!(e.kind, EntryKind::Star | EntryKind::Regex(_)))
}

/// The classes of every slot of a build, in two flat arrays: per slot and
/// attribute a range of `values` (empty: unrestricted; `COMPLEX`: complex).
#[derive(Default)]
struct FlatClasses {
    values: Vec<VHash>,
    ranges: Vec<[(u32, u32); 4]>,
}

const COMPLEX: (u32, u32) = (u32::MAX, u32::MAX);

impl FlatClasses {
    fn add(&mut self, slot: u32, p: &CompiledPolicy) {
        let uci = p.policy.user_case_insensitive();
        let lists = [
            (p.realm(), false),
            (&p.rare().adminrealm[..], false),
            (p.user(), uci),
            (p.adminuser(), uci),
        ];
        let slot = slot as usize;
        if self.ranges.len() <= slot {
            self.ranges.resize(slot + 1, [(0, 0); 4]);
        }
        let mut ranges = [(0u32, 0u32); 4];
        for (range, (list, force)) in ranges.iter_mut().zip(lists) {
            if list.is_empty() {
                continue;
            }
            if is_complex(list, force) {
                *range = COMPLEX;
                continue;
            }
            let start = self.values.len() as u32;
            self.values.extend(list.iter().map(|e| vhash(e.hash)));
            *range = (start, self.values.len() as u32);
        }
        if let Some(r) = self.ranges.get_mut(slot) {
            *r = ranges;
        }
    }

    #[inline]
    fn get(&self, slot: u32, attr: usize) -> Option<ClassRef<'_>> {
        let &(start, end) = self.ranges.get(slot as usize)?.get(attr)?;
        Some(if (start, end) == COMPLEX {
            ClassRef::Complex
        } else if start == end {
            ClassRef::Unrestricted
        } else {
            ClassRef::Values(self.values.get(start as usize..end as usize)?)
        })
    }
}

impl Class {
    #[inline]
    fn as_ref(&self) -> ClassRef<'_> {
        match self {
            Class::Unrestricted => ClassRef::Unrestricted,
            Class::Complex => ClassRef::Complex,
            Class::Values(v) => ClassRef::Values(v),
        }
    }

    fn of(list: &[Entry], force_complex: bool) -> Class {
        if list.is_empty() {
            return Class::Unrestricted;
        }
        if is_complex(list, force_complex) {
            return Class::Complex;
        }
        Class::Values(list.iter().map(|e| vhash(e.hash)).collect())
    }
}

/// The classes of a policy for the four split attributes.
type Classes = [Class; 4];

fn classes_of(p: &CompiledPolicy) -> Classes {
    let uci = p.policy.user_case_insensitive();
    [
        Class::of(p.realm(), false),
        Class::of(&p.rare().adminrealm, false),
        Class::of(p.user(), uci),
        Class::of(p.adminuser(), uci),
    ]
}

/// The class of slot `id` for split attribute `attr` (`None`: unknown,
/// treated as unrestricted).
type ClassFn<'c> = dyn Fn(u32, usize) -> Option<ClassRef<'c>> + 'c;

/// Buffers reused by the splits of one build or edit.
#[derive(Default)]
struct Scratch {
    /// Reused `(value hash, id)` buffer.
    pairs: Vec<(VHash, u32)>,
    /// Reused buffer of complex ids.
    complex: Vec<u32>,
    /// Reused `(value hash, span)` buffer.
    spans: Vec<(VHash, Span)>,
}

impl Scratch {
    /// The `(value, id)` pairs collected in [`Scratch::pairs`] as one id
    /// list per value, appended to `data` (sorted, without repeats), and
    /// their table (`from`: where the lists start in `data`).
    fn value_lists(&mut self, data: &mut Vec<u32>, from: u32) -> ValueTable {
        self.pairs.sort_unstable();
        self.pairs.dedup();
        self.spans.clear();
        for &(v, id) in &self.pairs {
            let end = data.len() as u32 + 1;
            match self.spans.last_mut() {
                Some((last, span)) if *last == v => span.end = end,
                _ => self.spans.push((
                    v,
                    Span {
                        start: end - 1,
                        end,
                    },
                )),
            }
            data.push(id);
        }
        ValueTable::new(&self.spans, data, from)
    }
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
    /// has a literal value for the attribute (the split could never be
    /// smaller than the bucket).
    useful: bool,
    unrestricted: Span,
    complex: Span,
    by_value: ValueTable,
}

/// The fixed ids of a bucket's realm split (policies without a realm or
/// with `*`: the global ones) split again by [`SUB_ATTR`] (admin user),
/// like a [`Split`]: an admin query needs only `fixed` and the list of its
/// admin user — not the other admins' global policies (`superroot`, in
/// every admin query's wild bucket at 100,000 policies).
#[derive(Debug, Default, Clone)]
struct Sub {
    /// Ids without a literal admin user list (unrestricted or complex).
    fixed: Span,
    by_value: ValueTable,
}

/// The attribute a realm split's fixed ids are split by: admin user.
const SUB_ATTR: usize = 3;
/// A realm split's fixed part is split again from this many ids.
const SUB_MIN: usize = 16;

impl Sub {
    /// The sub-split of `fixed` (a realm split's fixed ids) by `class`
    /// (the ids' admin user classes), its lists appended to `data`;
    /// `None` when `fixed` is short or no id has a literal admin user.
    fn build<'c>(
        fixed: &[u32],
        class: &dyn Fn(u32) -> Option<ClassRef<'c>>,
        b: &mut Scratch,
        data: &mut Vec<u32>,
    ) -> Option<Box<Sub>> {
        if fixed.len() < SUB_MIN
            || !fixed
                .iter()
                .any(|&id| matches!(class(id), Some(ClassRef::Values(_))))
        {
            return None;
        }
        let pos = |d: &Vec<u32>| d.len() as u32;
        let start = pos(data);
        b.pairs.clear();
        for &id in fixed {
            match class(id) {
                Some(ClassRef::Values(vs)) => b.pairs.extend(vs.iter().map(|&v| (v, id))),
                _ => data.push(id),
            }
        }
        let fixed = Span {
            start,
            end: pos(data),
        };
        let by_value = b.value_lists(data, fixed.end);
        Some(Box::new(Sub { fixed, by_value }))
    }
}

impl Split {
    /// The unrestricted and the complex ids: adjacent spans of the
    /// bucket's data (both `fill` and `Bucket::edited` write the complex
    /// list right after the unrestricted one).
    #[inline]
    fn fixed(&self) -> Span {
        Span {
            start: self.unrestricted.start,
            end: self.complex.end,
        }
    }

    /// Build the split of attribute `attr` for the bucket `ids`, appending
    /// its lists to `data`: one pass over the ids.
    fn fill(
        &mut self,
        attr: usize,
        ids: &[u32],
        classes: &ClassFn<'_>,
        b: &mut Scratch,
        data: &mut Vec<u32>,
    ) {
        let class = |id: u32| classes(id, attr);
        // Without a literal value every id is in the fixed part: the
        // split could never be smaller than the bucket.
        if !ids
            .iter()
            .any(|&id| matches!(class(id), Some(ClassRef::Values(_))))
        {
            return;
        }
        let pos = |d: &Vec<u32>| d.len() as u32;
        let start = pos(data);
        b.complex.clear();
        b.pairs.clear();
        for &id in ids {
            match class(id) {
                Some(ClassRef::Unrestricted) | None => data.push(id),
                Some(ClassRef::Complex) => b.complex.push(id),
                Some(ClassRef::Values(vs)) => b.pairs.extend(vs.iter().map(|&v| (v, id))),
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
        debug_assert_eq!(self.unrestricted.end, self.complex.start);
        self.by_value = b.value_lists(data, self.complex.end);
        self.useful = true;
    }
}

/// Value hash → candidate list: a linear list when short, else a hash
/// table in value order: value `v` of `n` sits at its home `v · h / 2³²`
/// (`h` = 6n/5 home positions) or, when earlier values took that place,
/// right after them — the values ascend through the table, so a lookup
/// scans from the home until it finds `v` or passes it (a miss stops as
/// early as a hit; a few slots at five sixths full). One probe region
/// instead of a binary search's chain of dependent loads, and no table
/// size rounded up to a power of two (the tables were half empty on
/// average). Five sixths rather than three quarters full: at 100,000
/// policies the tables hold ~572,000 values, and the free slots went from
/// 191,593 to 116,383 (−0.57 MiB, the set 64.0–64.1 → 63.5–63.6 MiB) for
/// +0.0–0.4 % instructions per decision (the longer scans).
///
/// A slot is 8 bytes, `(value hash, list)`: most values have one policy
/// per bucket (a tenant's realm or admin in an action bucket: 93–96 % at
/// 100,000 policies), and that policy's slot number is the list itself
/// (a one-element slice of the table); a longer list is `MULTI | offset`
/// of its length and ids in the bucket's data. The tables are most of the
/// index's memory (a span of start and end in each slot, and a data entry
/// per single id, cost 8 bytes more per value).
#[derive(Debug, Default, Clone)]
struct ValueTable {
    slots: Box<[(VHash, u32)]>,
    /// `0`: `slots` is a plain list; else the number of home positions.
    homes: u32,
}

/// Marks a free slot; a value hashing to it is stored in the list form.
const EMPTY: VHash = VHash::MAX;
const LINEAR: usize = 8;
/// Set in a slot's list word when it is an offset into the bucket's data
/// (length, then the ids) rather than the one id.
const MULTI: u32 = 1 << 31;

impl ValueTable {
    /// The table of `entries` (ascending spans of `data`, all at or after
    /// `from`: the split's by-value region, the end of `data`). Rewrites
    /// that region: a one-id list moves into its slot, a longer one gets
    /// its length in front.
    fn new(entries: &[(VHash, Span)], data: &mut Vec<u32>, from: u32) -> ValueTable {
        let region: Vec<u32> = data.get(from as usize..).unwrap_or(&[]).to_vec();
        data.truncate(from as usize);
        let packed: Vec<(VHash, u32)> = entries
            .iter()
            .map(|&(v, span)| {
                let ids = region
                    .get((span.start - from) as usize..(span.end - from) as usize)
                    .unwrap_or(&[]);
                (v, Self::list_word(ids, data))
            })
            .collect();
        Self::from_words(packed)
    }

    /// The list word of `ids` (appending a longer list to `data`). An
    /// offset must stay below 2³¹: a part holds at most 8,192 policies, so
    /// that takes ~260,000 list entries per policy and attribute (GBs of
    /// columns). A slot number with the `MULTI` bit is stored as a list.
    fn list_word(ids: &[u32], data: &mut Vec<u32>) -> u32 {
        match ids {
            [id] if id & MULTI == 0 => *id,
            _ => {
                let at = data.len() as u32;
                data.push(ids.len() as u32);
                data.extend_from_slice(ids);
                MULTI | at
            }
        }
    }

    /// The table of `entries` (distinct value hashes, any order).
    fn from_words(mut sorted: Vec<(VHash, u32)>) -> ValueTable {
        if sorted.len() <= LINEAR || sorted.iter().any(|e| e.0 == EMPTY) {
            return ValueTable {
                slots: sorted.into_boxed_slice(),
                homes: 0,
            };
        }
        sorted.sort_unstable_by_key(|e| e.0);
        // Five sixths full.
        let n = sorted.len();
        let homes = (n + n / 5) as u32;
        let mut slots: Vec<(VHash, u32)> = Vec::with_capacity(homes as usize + 16);
        for entry in sorted {
            let home = Self::home(entry.0, homes);
            if slots.len() < home {
                slots.resize(home, (EMPTY, 0));
            }
            slots.push(entry);
        }
        ValueTable {
            slots: slots.into_boxed_slice(),
            homes,
        }
    }

    /// The stored values and their lists, in no particular order.
    fn entries<'a>(&'a self, data: &'a [u32]) -> impl Iterator<Item = (VHash, &'a [u32])> + 'a {
        let table = self.homes != 0;
        self.slots
            .iter()
            .filter(move |e| !table || e.0 != EMPTY)
            .map(move |e| (e.0, Self::list(&e.1, data)))
    }

    /// The list a slot's word stands for.
    #[inline]
    fn list<'a>(word: &'a u32, data: &'a [u32]) -> &'a [u32] {
        if word & MULTI == 0 {
            return std::slice::from_ref(word);
        }
        let at = (word & !MULTI) as usize;
        let len = data.get(at).copied().unwrap_or(0) as usize;
        data.get(at + 1..at + 1 + len).unwrap_or(&[])
    }

    #[inline]
    fn home(v: VHash, homes: u32) -> usize {
        ((u64::from(v) * u64::from(homes)) >> VHash::BITS) as usize
    }

    /// The list of value `v` (`data`: the bucket's data).
    #[inline]
    fn get<'a>(&'a self, v: Option<VHash>, data: &'a [u32]) -> Option<&'a [u32]> {
        let v = v?;
        if self.homes == 0 {
            return self
                .slots
                .iter()
                .find(|s| s.0 == v)
                .map(|s| Self::list(&s.1, data));
        }
        // No stored value is `EMPTY` (such tables are lists).
        if v == EMPTY {
            return None;
        }
        let from = Self::home(v, self.homes);
        for (k, word) in self.slots.get(from..)? {
            if *k >= v {
                return (*k == v).then(|| Self::list(word, data));
            }
        }
        None
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
    /// The realm split's fixed ids split again by admin user, when they
    /// are many and some name admin users (see [`Sub`]).
    sub: Option<Box<Sub>>,
}

impl Bucket {
    /// A bucket holding exactly its lists (no spare capacity: a set of
    /// 100,000 policies has tens of thousands of bucket lists).
    fn packed(
        mut ids: Vec<u32>,
        mut data: Vec<u32>,
        splits: [Split; 4],
        sub: Option<Box<Sub>>,
    ) -> Bucket {
        ids.shrink_to_fit();
        data.shrink_to_fit();
        Bucket {
            ids,
            data,
            splits,
            sub,
        }
    }

    /// The realm split's fixed ids (`data`: the bucket's data).
    fn realm_fixed(splits: &[Split; 4], data: &[u32]) -> Vec<u32> {
        match splits.first().filter(|s| s.useful) {
            Some(split) => {
                let fixed = split.fixed();
                data.get(fixed.start as usize..fixed.end as usize)
                    .unwrap_or(&[])
                    .to_vec()
            }
            None => Vec::new(),
        }
    }

    fn new(ids: Vec<u32>, classes: &ClassFn<'_>, b: &mut Scratch) -> Bucket {
        let mut data: Vec<u32> = Vec::with_capacity(if ids.len() > SPLIT_MIN {
            2 * ids.len()
        } else {
            0
        });
        let mut splits: [Split; 4] = Default::default();
        // A bucket this small is used as a whole (see `push_candidates`).
        if ids.len() > SPLIT_MIN {
            for (attr, split) in splits.iter_mut().enumerate() {
                split.fill(attr, &ids, classes, b, &mut data);
            }
        }
        let fixed = Self::realm_fixed(&splits, &data);
        let sub = Sub::build(&fixed, &|id| classes(id, SUB_ATTR), b, &mut data);
        Bucket::packed(ids, data, splits, sub)
    }

    /// This bucket with slot `remove` taken out and slot `add` (with its
    /// classes) put in — the same lists a fresh [`Bucket::new`] would hold,
    /// up to the order inside a list and splits kept although they no
    /// longer restrict (both only cost time, never change candidates).
    /// Copies the lists instead of sorting and hashing again; `lookup` gives
    /// the classes of other slots when a split must be built from scratch
    /// (a bucket that grows past [`SPLIT_MIN`], or the first policy that
    /// restricts an attribute).
    fn edited(
        &self,
        remove: Option<u32>,
        add: Option<(u32, &Classes)>,
        lookup: &dyn Fn(u32) -> Option<Classes>,
        b: &mut Scratch,
    ) -> Bucket {
        let keep = |id: &u32| Some(*id) != remove;
        let mut ids: Vec<u32> = self.ids.iter().copied().filter(keep).collect();
        if let Some((s, _)) = add {
            if let Err(at) = ids.binary_search(&s) {
                ids.insert(at, s);
            }
        }
        if ids.len() <= SPLIT_MIN {
            return Bucket {
                ids,
                data: Vec::new(),
                splits: Default::default(),
                sub: None,
            };
        }
        // Classes of every slot of the bucket, computed only when a split is
        // built from scratch.
        let local: std::cell::OnceCell<Vec<(u32, Classes)>> = std::cell::OnceCell::new();
        let all_classes = || {
            local.get_or_init(|| {
                ids.iter()
                    .map(|&id| match add {
                        Some((s, c)) if s == id => (id, c.clone()),
                        _ => (id, lookup(id).unwrap_or_default()),
                    })
                    .collect()
            })
        };
        let scratch_class = |id: u32, attr: usize| -> Option<ClassRef<'_>> {
            let l = local.get()?;
            let i = l.binary_search_by_key(&id, |e| e.0).ok()?;
            l.get(i).and_then(|e| e.1.get(attr)).map(Class::as_ref)
        };
        let was_small = self.ids.len() <= SPLIT_MIN;
        let mut data: Vec<u32> = Vec::with_capacity(self.data.len() + 8);
        let mut splits: [Split; 4] = Default::default();
        for (attr, split) in splits.iter_mut().enumerate() {
            let old = self.splits.get(attr).cloned().unwrap_or_default();
            let added = add.and_then(|(s, c)| Some((s, c.get(attr)?)));
            if was_small || !old.useful {
                // Not useful = no old policy has a literal value; that
                // stays true unless the added one has.
                if !was_small && !matches!(added, Some((_, Class::Values(_)))) {
                    continue;
                }
                all_classes();
                split.fill(attr, &ids, &scratch_class, b, &mut data);
                continue;
            }
            let copy = |ids: &[u32], extra: Option<u32>, data: &mut Vec<u32>| -> Span {
                let start = data.len() as u32;
                data.extend(ids.iter().copied().filter(keep));
                data.extend(extra);
                Span {
                    start,
                    end: data.len() as u32,
                }
            };
            let (mut unrestricted_add, mut complex_add, mut values): (_, _, &[VHash]) =
                (None, None, &[]);
            match added {
                Some((s, Class::Unrestricted)) => unrestricted_add = Some(s),
                Some((s, Class::Complex)) => complex_add = Some(s),
                Some((_, Class::Values(vs))) => values = vs,
                None => {}
            }
            let add_slot = added.map(|(s, _)| s);
            split.unrestricted = copy(self.span(old.unrestricted), unrestricted_add, &mut data);
            split.complex = copy(self.span(old.complex), complex_add, &mut data);
            debug_assert_eq!(split.unrestricted.end, split.complex.start);
            let mut new_values: smallvec::SmallVec<[VHash; 4]> = values.iter().copied().collect();
            new_values.sort_unstable();
            new_values.dedup();
            let spans = &mut b.spans;
            spans.clear();
            for (v, ids) in old.by_value.entries(&self.data) {
                let listed = new_values.binary_search(&v).is_ok();
                let extra = if listed { add_slot } else { None };
                let s = copy(ids, extra, &mut data);
                if s.start < s.end {
                    spans.push((v, s));
                }
            }
            for &v in &new_values {
                if old.by_value.get(Some(v), &self.data).is_none() {
                    let start = data.len() as u32;
                    data.extend(add_slot);
                    spans.push((
                        v,
                        Span {
                            start,
                            end: data.len() as u32,
                        },
                    ));
                }
            }
            split.by_value = ValueTable::new(spans, &mut data, split.complex.end);
            split.useful = true;
        }
        let fixed = Self::realm_fixed(&splits, &data);
        let mut sub = None;
        if fixed.len() >= SUB_MIN {
            let classes: Vec<(u32, Classes)> = fixed
                .iter()
                .map(|&id| match add {
                    Some((s, c)) if s == id => (id, c.clone()),
                    _ => (id, lookup(id).unwrap_or_default()),
                })
                .collect();
            let class = |id: u32| {
                let e = classes.iter().find(|e| e.0 == id)?;
                e.1.get(SUB_ATTR).map(Class::as_ref)
            };
            sub = Sub::build(&fixed, &class, b, &mut data);
        }
        Bucket::packed(ids, data, splits, sub)
    }

    #[inline]
    fn span(&self, s: Span) -> &[u32] {
        self.data
            .get(s.start as usize..s.end as usize)
            .unwrap_or(&[])
    }

    /// Call `f` with this bucket's candidates (the smallest split's lists),
    /// for a query whose values have no stripped form (no list overlaps):
    /// per split only the exact value's list and the split's fixed part
    /// (unrestricted and complex ids, next to each other in `data`).
    /// `SUB`: use the bucket's [`Sub`] (only the wild buckets' visits do:
    /// the call alone cost the action buckets' visits ~24 instructions).
    #[inline]
    fn visit<const SUB: bool>(&self, keys: &ExactKeys<'_>, f: &mut impl FnMut(u32)) {
        let mut best: Option<(&[u32], &[u32])> = None;
        let mut best_len = self.ids.len();
        if best_len > SPLIT_MIN {
            for (i, split) in self.splits.iter().enumerate() {
                if !split.useful {
                    continue;
                }
                let Some(v) = keys.exact(i) else {
                    continue;
                };
                let fixed = self.span(split.fixed());
                let hit = split.by_value.get(Some(v), &self.data).unwrap_or(&[]);
                let len = fixed.len() + hit.len();
                if len < best_len {
                    best_len = len;
                    best = Some((fixed, hit));
                    if len <= GOOD_ENOUGH {
                        break;
                    }
                }
            }
        }
        match best {
            None => self.ids.iter().for_each(|&id| f(id)),
            Some((fixed, hit)) => {
                match &self.sub {
                    // The realm split's fixed part (the first split's: its
                    // span starts the bucket's data).
                    Some(sub)
                        if SUB && fixed.as_ptr() == self.data.as_ptr() && !fixed.is_empty() =>
                    {
                        self.visit_sub(sub, fixed, keys, f)
                    }
                    _ => fixed.iter().for_each(|&id| f(id)),
                }
                hit.iter().for_each(|&id| f(id));
            }
        }
    }

    /// The fixed ids of the realm split: for an admin query only those of
    /// its [`Sub`] (admin user) lists, else all of them. Out of line:
    /// only large fixed parts have a `Sub`.
    #[inline(never)]
    fn visit_sub(&self, sub: &Sub, fixed: &[u32], keys: &ExactKeys<'_>, f: &mut impl FnMut(u32)) {
        match keys.exact(SUB_ATTR) {
            Some(u) => {
                self.span(sub.fixed).iter().for_each(|&id| f(id));
                if let Some(hit) = sub.by_value.get(Some(u), &self.data) {
                    hit.iter().for_each(|&id| f(id));
                }
            }
            None => fixed.iter().for_each(|&id| f(id)),
        }
    }

    /// Push the smallest candidate lists of this bucket for the query values.
    fn push_candidates<'a>(&'a self, keys: &QueryKeys<'_>, out: &mut Lists<'a>) {
        match self.best(keys) {
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

    /// The smallest split's lists for the query values (`None`: the whole bucket).
    #[inline]
    fn best<'a>(&'a self, keys: &QueryKeys<'_>) -> Option<[&'a [u32]; 4]> {
        let mut best: Option<[&'a [u32]; 4]> = None;
        let mut best_len = self.ids.len();
        if best_len > SPLIT_MIN {
            for (i, split) in self.splits.iter().enumerate() {
                if !split.useful {
                    continue;
                }
                if let Some(v) = keys.get(i) {
                    let exact = split.by_value.get(Some(v.exact), &self.data).unwrap_or(&[]);
                    let stripped = split.by_value.get(v.stripped, &self.data).unwrap_or(&[]);
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
        best
    }
}

/// A bucket's policies in parts by slot range, so that an edit copies at
/// most one part of [`PART`] (up to twice that) policies, however large the
/// bucket. Parts are disjoint; a query reads every part.
#[derive(Debug, Default, Clone)]
pub(crate) struct Parts {
    /// `(first slot of the part's range, part)`, ascending; the first range starts at 0.
    parts: smallvec::SmallVec<[(u32, Arc<Bucket>); 1]>,
}

/// Policies per part of a large bucket.
const PART: usize = 4096;

impl Parts {
    fn new(ids: Vec<u32>, classes: &ClassFn<'_>, b: &mut Scratch) -> Parts {
        if ids.len() <= PART {
            let mut parts = smallvec::SmallVec::new();
            parts.push((0, Arc::new(Bucket::new(ids, classes, b))));
            return Parts { parts };
        }
        let parts = ids
            .chunks(PART)
            .enumerate()
            .map(|(k, c)| {
                let lo = if k == 0 {
                    0
                } else {
                    c.first().copied().unwrap_or(0)
                };
                (lo, Arc::new(Bucket::new(c.to_vec(), classes, b)))
            })
            .collect();
        Parts { parts }
    }

    /// No policy in any part.
    #[inline]
    fn is_empty(&self) -> bool {
        self.parts.iter().all(|(_, p)| p.ids.is_empty())
    }

    /// The number of policies.
    fn len(&self) -> usize {
        self.parts.iter().map(|(_, p)| p.ids.len()).sum()
    }

    /// The policies, ascending.
    fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.parts.iter().flat_map(|(_, p)| p.ids.iter().copied())
    }

    /// The parts of slots `ids` (ascending), with the classes of `add` for
    /// its slot and `lookup`'s for the others.
    fn of_slots(
        ids: Vec<u32>,
        add: Option<(u32, &Classes)>,
        lookup: &dyn Fn(u32) -> Option<Classes>,
        b: &mut Scratch,
    ) -> Parts {
        let classes: Vec<Classes> = ids
            .iter()
            .map(|&id| match add {
                Some((s, c)) if s == id => c.clone(),
                _ => lookup(id).unwrap_or_default(),
            })
            .collect();
        let class_fn = |id: u32, attr: usize| {
            let i = ids.binary_search(&id).ok()?;
            classes.get(i).and_then(|c| c.get(attr)).map(Class::as_ref)
        };
        Parts::new(ids.clone(), &class_fn, b)
    }

    #[inline]
    fn push_candidates<'a>(&'a self, keys: &QueryKeys<'_>, out: &mut Lists<'a>) {
        for (_, part) in &self.parts {
            part.push_candidates(keys, out);
        }
    }

    #[inline]
    fn visit<const SUB: bool>(&self, keys: &ExactKeys<'_>, f: &mut impl FnMut(u32)) {
        for (_, part) in &self.parts {
            part.visit::<SUB>(keys, f);
        }
    }

    /// The part whose range holds `slot`.
    fn part_of(&self, slot: u32) -> usize {
        self.parts
            .partition_point(|&(lo, _)| lo <= slot)
            .saturating_sub(1)
    }

    /// [`Bucket::edited`] on the part(s) holding `remove` and `add`; a
    /// part grown past twice [`PART`] is split.
    fn edited(
        &self,
        remove: Option<u32>,
        add: Option<(u32, &Classes)>,
        lookup: &dyn Fn(u32) -> Option<Classes>,
        b: &mut Scratch,
    ) -> Parts {
        let mut new = self.clone();
        if new.parts.is_empty() {
            new.parts.push((0, Arc::default()));
        }
        let rm_part = remove.map(|s| new.part_of(s));
        let add_part = add.map(|(s, _)| new.part_of(s));
        let mut touched: smallvec::SmallVec<[usize; 2]> = smallvec::SmallVec::new();
        touched.extend(rm_part);
        touched.extend(add_part);
        touched.dedup();
        for k in touched {
            let rm = remove.filter(|_| rm_part == Some(k));
            let ad = add.filter(|_| add_part == Some(k));
            if let Some((_, part)) = new.parts.get_mut(k) {
                *part = Arc::new(part.edited(rm, ad, lookup, b));
            }
        }
        let big = new.parts.iter().position(|(_, p)| p.ids.len() > 2 * PART);
        if let Some(k) = big {
            if let Some((lo, part)) = new.parts.get(k).cloned() {
                let ids = part.ids.clone();
                let classes: Vec<Classes> = ids
                    .iter()
                    .map(|&id| match add {
                        Some((s, c)) if s == id => c.clone(),
                        _ => lookup(id).unwrap_or_default(),
                    })
                    .collect();
                let class_fn = |id: u32, attr: usize| {
                    let i = ids.binary_search(&id).ok()?;
                    classes.get(i).and_then(|c| c.get(attr)).map(Class::as_ref)
                };
                let half = ids.len() / 2;
                let (a, c) = ids.split_at(half);
                let mid = c.first().copied().unwrap_or(lo);
                let first = (lo, Arc::new(Bucket::new(a.to_vec(), &class_fn, b)));
                let second = (mid, Arc::new(Bucket::new(c.to_vec(), &class_fn, b)));
                if let Some(x) = new.parts.get_mut(k) {
                    *x = first;
                }
                new.parts.insert(k + 1, second);
            }
        }
        new
    }
}

/// Buckets of one scope (shared between the sets an edit derives from
/// each other; an edit copies only the parts of buckets it changes).
#[derive(Debug, Clone)]
pub(crate) struct ScopeIndex {
    all: Parts,
    /// Per literal action key (hash): the non-wild policies with that key.
    by_action: ActionMap,
    /// Policies with a `*` or regular-expression action key, or without
    /// actions: candidates for every action.
    wild: Parts,
    /// The wild policies are also in every bucket of `by_action`, so a
    /// query whose action has a bucket reads that one bucket (one split
    /// choice, one call) instead of two; `wild` alone serves an action
    /// without a bucket. Chosen when the copies are few (see
    /// [`MERGE_BUDGET`]); both forms give the same candidates.
    merged: bool,
}

impl Default for ScopeIndex {
    fn default() -> Self {
        ScopeIndex {
            all: Parts::default(),
            by_action: ActionMap::default(),
            wild: Parts::default(),
            // Empty: nothing to copy yet.
            merged: true,
        }
    }
}

/// Action key → bucket ([`ScopeIndex::by_action`]). The keys are hashes
/// already, so a key's home slot is its high bits; linear probing in one
/// array at most half full, the entries placed in order of their homes
/// (no wrap-around: the array ends after the last entry). A lookup is a
/// few inline instructions instead of a general hash map's probe. Key 0
/// (the free slots' mark) is kept apart. The array is shared between the
/// sets an edit derives from each other (an edit copies the index: only
/// the edited scope's array is copied, once per edit). Replacing a bucket
/// is in place; adding or removing a key lays the array out again (a
/// scope has at most a few hundred action keys, and edits that add one are
/// rare).
#[derive(Debug, Clone, Default)]
struct ActionMap {
    /// `(key, bucket)`; key 0 and an empty bucket: a free slot.
    slots: Arc<[(u64, Parts)]>,
    /// The bucket of key 0.
    zero: Option<Box<Parts>>,
    /// A key's home slot is `key >> shift` (`2^(64 - shift)` homes, at
    /// least twice the number of keys).
    shift: u32,
    len: usize,
}

impl ActionMap {
    #[inline(always)]
    fn position(&self, key: u64) -> Option<usize> {
        let mut i = (key >> self.shift) as usize;
        loop {
            let k = self.slots.get(i)?.0;
            if k == key {
                return Some(i);
            }
            if k == 0 {
                return None;
            }
            i += 1;
        }
    }

    #[inline(always)]
    fn get(&self, key: u64) -> Option<&Parts> {
        if key == 0 {
            return self.zero.as_deref();
        }
        let i = self.position(key)?;
        self.slots.get(i).map(|s| &s.1)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        let zero = self.zero.as_ref().map(|_| 0);
        zero.into_iter()
            .chain(self.slots.iter().map(|s| s.0).filter(|&k| k != 0))
    }

    /// The slots, copied first if shared.
    fn slots_mut(&mut self) -> &mut [(u64, Parts)] {
        unshared(&mut self.slots)
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut Parts> {
        let zero = self.zero.as_deref_mut();
        let slots = unshared(&mut self.slots);
        zero.into_iter()
            .chain(slots.iter_mut().filter(|s| s.0 != 0).map(|s| &mut s.1))
    }

    /// Put `parts` under `key` (replacing its bucket).
    fn insert(&mut self, key: u64, parts: Parts) {
        if key == 0 {
            if self.zero.is_none() {
                self.len += 1;
            }
            self.zero = Some(Box::new(parts));
            return;
        }
        if let Some(i) = self.position(key) {
            if let Some(s) = self.slots_mut().get_mut(i) {
                s.1 = parts;
            }
            return;
        }
        let mut entries = self.take_entries();
        entries.push((key, parts));
        self.place(entries);
    }

    fn remove(&mut self, key: u64) {
        if key == 0 {
            if self.zero.take().is_some() {
                self.len -= 1;
            }
            return;
        }
        if self.position(key).is_none() {
            return;
        }
        let mut entries = self.take_entries();
        entries.retain(|e| e.0 != key);
        self.place(entries);
    }

    /// The entries with a key other than 0 (the slots are laid out again).
    fn take_entries(&mut self) -> Vec<(u64, Parts)> {
        self.slots_mut()
            .iter_mut()
            .filter(|e| e.0 != 0)
            .map(|e| (e.0, std::mem::take(&mut e.1)))
            .collect()
    }

    /// Lay out `entries` (distinct keys other than 0).
    fn place(&mut self, mut entries: Vec<(u64, Parts)>) {
        self.len = usize::from(self.zero.is_some()) + entries.len();
        let bits = (2 * entries.len())
            .next_power_of_two()
            .trailing_zeros()
            .max(1);
        self.shift = 64 - bits;
        let shift = self.shift;
        entries.sort_unstable_by_key(|e| (e.0 >> shift, e.0));
        let mut slots: Vec<(u64, Parts)> = Vec::with_capacity(entries.len() * 2);
        for e in entries {
            let home = (e.0 >> shift) as usize;
            while slots.len() < home {
                slots.push((0, Parts::default()));
            }
            slots.push(e);
        }
        self.slots = Arc::from(slots);
    }
}

/// The slice of `a`, copied first if shared.
fn unshared<T: Clone>(a: &mut Arc<[T]>) -> &mut [T] {
    if Arc::get_mut(a).is_none() {
        *a = Arc::from(a.to_vec());
    }
    Arc::get_mut(a).unwrap_or_default()
}

impl FromIterator<(u64, Parts)> for ActionMap {
    fn from_iter<I: IntoIterator<Item = (u64, Parts)>>(it: I) -> Self {
        let mut map = ActionMap::default();
        let mut entries = Vec::new();
        for (k, p) in it {
            if k == 0 {
                map.zero = Some(Box::new(p));
            } else {
                entries.push((k, p));
            }
        }
        map.place(entries);
        map
    }
}

/// A scope's wild policies are merged into its action buckets when
/// (wild policies × action buckets) is at most this: the copies cost
/// memory, and an edit of a wild policy then edits every action bucket of
/// its scope. An edit that takes the product past twice this separates
/// the scope's buckets again.
pub(crate) const MERGE_BUDGET: usize = 16_384;

/// The ids of two ascending lists, ascending (each id once).
fn merge_ids(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        if x < y {
            out.push(x);
            i += 1;
        } else if y < x {
            out.push(y);
            j += 1;
        } else {
            out.push(x);
            i += 1;
            j += 1;
        }
    }
    out.extend_from_slice(a.get(i..).unwrap_or(&[]));
    out.extend_from_slice(b.get(j..).unwrap_or(&[]));
    out
}

/// A scope's policies while the index is built.
#[derive(Default)]
struct ScopeLists {
    all: Vec<u32>,
    by_action: HashMap<u64, Vec<u32>>,
    wild: Vec<u32>,
}

/// Whether a policy is in the wild bucket (a candidate for every action).
fn is_wild(p: &CompiledPolicy) -> bool {
    p.action().is_empty()
        || p.action()
            .iter()
            .any(|e| matches!(e.kind, EntryKind::Star | EntryKind::Regex(_)))
}

/// The hashes of a non-wild policy's action keys (none for a wild one:
/// the wild bucket already holds it).
fn literal_keys(p: &CompiledPolicy) -> impl Iterator<Item = u64> + '_ {
    let wild = is_wild(p);
    p.action().iter().filter(move |_| !wild).map(|e| e.hash)
}

impl ScopeLists {
    fn add(&mut self, id: u32, p: &CompiledPolicy) {
        self.all.push(id);
        if is_wild(p) {
            self.wild.push(id);
        }
        for key in literal_keys(p) {
            let list = self.by_action.entry(key).or_default();
            if list.last() != Some(&id) {
                list.push(id);
            }
        }
    }

    fn build(self, classes: &ClassFn<'_>, b: &mut Scratch, budget: usize) -> ScopeIndex {
        let ScopeLists {
            all,
            by_action,
            wild,
        } = self;
        let merged = wild.len().saturating_mul(by_action.len()) <= budget;
        let by_action = by_action
            .into_iter()
            .map(|(key, ids)| {
                let ids = if merged { merge_ids(&ids, &wild) } else { ids };
                (key, Parts::new(ids, classes, b))
            })
            .collect();
        ScopeIndex {
            all: Parts::new(all, classes, b),
            by_action,
            wild: Parts::new(wild, classes, b),
            merged,
        }
    }
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
        let exact = self.by_action.get(hash_str(a));
        let stripped = a
            .strip_suffix('\n')
            .and_then(|s| self.by_action.get(hash_str(s)));
        if let (Some(_), Some(_)) = (exact, stripped) {
            // One policy can name both `a` and `a` without its newline.
            out.overlap = true;
        }
        for parts in [exact, stripped].into_iter().flatten() {
            parts.push_candidates(keys, out);
        }
        // Unmerged, the wild policies are never in an action bucket: no
        // overlap. Merged, each action bucket holds them (two buckets
        // overlap, see above).
        let read_wild = !self.merged || (exact.is_none() && stripped.is_none());
        if read_wild && !self.wild.is_empty() {
            self.wild.push_candidates(keys, out);
        }
    }

    /// [`ScopeIndex::push_candidates`] calling `f` directly, for a query
    /// without stripped values (the action's bucket and the wild one never
    /// overlap, nor do a split's lists).
    #[inline(always)]
    fn visit(&self, action: Option<&str>, keys: &ExactKeys<'_>, f: &mut impl FnMut(u32)) {
        let Some(a) = action else {
            self.all.visit::<false>(keys, f);
            return;
        };
        // Merged: the action's bucket holds the wild policies too.
        match self.by_action.get(hash_str(a)) {
            Some(bucket) => {
                bucket.visit::<false>(keys, f);
                if !self.merged {
                    self.wild.visit::<true>(keys, f);
                }
            }
            None => self.wild.visit::<true>(keys, f),
        }
    }

    /// Take slot `remove` out of / put slot `add` into this scope's buckets.
    fn edit(
        &mut self,
        remove: Option<(u32, &CompiledPolicy)>,
        add: Option<(u32, &CompiledPolicy, &Classes)>,
        lookup: &dyn Fn(u32) -> Option<Classes>,
        b: &mut Scratch,
        budget: usize,
    ) {
        let rm = remove.map(|(s, _)| s);
        let ad = add.map(|(s, _, c)| (s, c));
        self.all = self.all.edited(rm, ad, lookup, b);
        let wild_rm = remove.is_some_and(|(_, p)| is_wild(p));
        let wild_add = add.is_some_and(|(_, p, _)| is_wild(p));
        let wild_change = wild_rm || wild_add;
        if self.merged && wild_change {
            let copies = (self.wild.len() + 1).saturating_mul(self.by_action.len().max(1));
            if copies > budget.saturating_mul(2) {
                self.unmerge(lookup, b);
            }
        }
        if wild_change {
            let r = rm.filter(|_| wild_rm);
            let a = ad.filter(|_| wild_add);
            self.wild = self.wild.edited(r, a, lookup, b);
        }
        let old_keys: Vec<u64> = remove
            .map(|(_, p)| literal_keys(p).collect())
            .unwrap_or_default();
        let new_keys: Vec<u64> = add
            .map(|(_, p, _)| literal_keys(p).collect())
            .unwrap_or_default();
        let mut keys: Vec<u64> = old_keys.iter().chain(&new_keys).copied().collect();
        // Merged, a wild policy is in every action bucket.
        let every_bucket = self.merged && wild_change;
        if every_bucket {
            keys.extend(self.by_action.keys());
        }
        keys.sort_unstable();
        keys.dedup();
        // Merged, a bucket holds every wild policy and at least one other.
        let wild_ids: Vec<u32> = if self.merged {
            self.wild.ids().collect()
        } else {
            Vec::new()
        };
        for key in keys {
            let r = rm.filter(|_| (every_bucket && wild_rm) || old_keys.contains(&key));
            let a = ad.filter(|_| (every_bucket && wild_add) || new_keys.contains(&key));
            let edited = match self.by_action.get(key) {
                Some(parts) => parts.edited(r, a, lookup, b),
                None if self.merged => {
                    let ids = merge_ids(&wild_ids, a.map(|(s, _)| s).as_slice());
                    Parts::of_slots(ids, a, lookup, b)
                }
                None => Parts::default().edited(None, a, lookup, b),
            };
            if edited.len() == wild_ids.len() {
                self.by_action.remove(key);
            } else {
                self.by_action.insert(key, edited);
            }
        }
    }

    /// Take the wild policies out of the action buckets (`lookup`: the
    /// classes of the policies in the index now).
    fn unmerge(&mut self, lookup: &dyn Fn(u32) -> Option<Classes>, b: &mut Scratch) {
        let wild: Vec<u32> = self.wild.ids().collect();
        for parts in self.by_action.values_mut() {
            let ids: Vec<u32> = parts
                .ids()
                .filter(|id| wild.binary_search(id).is_err())
                .collect();
            *parts = Parts::of_slots(ids, None, lookup, b);
        }
        self.merged = false;
    }
}

/// Name → slots, in shards so that an edit copies one shard, not every
/// name. A shard is a sorted array of `(name hash, slot)` (8 bytes per
/// policy). Keyed by the name's hash: a collision only adds a candidate
/// (the name is compared when the candidate is checked).
#[derive(Debug, Clone)]
struct NameIndex {
    shards: Vec<Arc<[(VHash, u32)]>>,
}

const NAME_SHARDS: usize = 256;

impl NameIndex {
    fn key(name: &str) -> (usize, VHash) {
        let h = hash_str(name);
        ((h >> 56) as usize % NAME_SHARDS, vhash(h))
    }

    fn get(&self, name: &str) -> impl Iterator<Item = u32> + '_ {
        let (shard, h) = Self::key(name);
        let pairs: &[(VHash, u32)] = self.shards.get(shard).map(|s| &s[..]).unwrap_or(&[]);
        let from = pairs.partition_point(|&(k, _)| k < h);
        pairs
            .get(from..)
            .unwrap_or(&[])
            .iter()
            .take_while(move |&&(k, _)| k == h)
            .map(|&(_, id)| id)
    }

    fn edit(&mut self, name: &str, remove: Option<u32>, add: Option<u32>) {
        let (shard, h) = Self::key(name);
        let Some(pairs) = self.shards.get_mut(shard) else {
            return;
        };
        let mut v: Vec<(VHash, u32)> = pairs
            .iter()
            .copied()
            .filter(|&p| Some(p) != remove.map(|r| (h, r)))
            .collect();
        if let Some(a) = add {
            if let Err(at) = v.binary_search(&(h, a)) {
                v.insert(at, (h, a));
            }
        }
        *pairs = v.into();
    }
}

impl Default for NameIndex {
    fn default() -> NameIndex {
        NameIndex {
            shards: (0..NAME_SHARDS).map(|_| Arc::default()).collect(),
        }
    }
}

/// The whole index, over slot numbers (see [`crate::PolicySet`]).
#[derive(Debug, Clone)]
pub(crate) struct Index {
    scopes: ScopeMap<ScopeIndex>,
    by_name: NameIndex,
    /// [`MERGE_BUDGET`] (tests: 0 keeps the wild buckets separate where
    /// they have policies).
    merge_budget: usize,
}

impl Default for Index {
    fn default() -> Index {
        Index {
            scopes: ScopeMap::default(),
            by_name: NameIndex::default(),
            merge_budget: MERGE_BUDGET,
        }
    }
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
    /// Index `policies` (slot, policy), slots ascending.
    pub fn build<'p>(policies: impl Iterator<Item = (u32, &'p CompiledPolicy)>) -> Index {
        Self::build_with_budget(policies, MERGE_BUDGET)
    }

    /// [`Index::build`] with another [`MERGE_BUDGET`].
    pub fn build_with_budget<'p>(
        policies: impl Iterator<Item = (u32, &'p CompiledPolicy)>,
        merge_budget: usize,
    ) -> Index {
        let mut classes = FlatClasses::default();
        let mut scopes: ScopeMap<ScopeLists> = ScopeMap::default();
        let mut names: Vec<Vec<(VHash, u32)>> = vec![Vec::new(); NAME_SHARDS];
        for (id, p) in policies {
            classes.add(id, p);
            scopes.get_or_default(p.policy.scope()).add(id, p);
            let (shard, h) = NameIndex::key(p.policy.name());
            if let Some(shard) = names.get_mut(shard) {
                shard.push((h, id));
            }
        }
        let class_fn = |id: u32, attr: usize| classes.get(id, attr);
        let mut b = Scratch::default();
        let scopes = scopes
            .into_iter()
            .map(|(k, s)| (k, s.build(&class_fn, &mut b, merge_budget)))
            .collect();
        let shards = names
            .into_iter()
            .map(|mut pairs| {
                pairs.sort_unstable();
                Arc::from(pairs)
            })
            .collect();
        Index {
            scopes,
            by_name: NameIndex { shards },
            merge_budget,
        }
    }

    /// Per scope (in no particular order): whether its wild policies are
    /// merged into its action buckets, and how many wild policies it has.
    #[cfg(test)]
    pub fn merge_state(&self) -> Vec<(bool, usize)> {
        self.scopes
            .values()
            .map(|s| (s.merged, s.wild.len()))
            .collect()
    }

    /// Take slot `remove` (holding the given policy) out and put slot `add`
    /// in; `lookup` gives the policy of any other slot. Buckets not
    /// touched stay shared with the index this one was cloned from.
    pub fn edit<'p>(
        &mut self,
        remove: Option<(u32, &CompiledPolicy)>,
        add: Option<(u32, &CompiledPolicy)>,
        lookup: &dyn Fn(u32) -> Option<&'p CompiledPolicy>,
    ) {
        if let Some((s, p)) = remove {
            self.by_name.edit(p.policy.name(), Some(s), None);
        }
        if let Some((s, p)) = add {
            self.by_name.edit(p.policy.name(), None, Some(s));
        }
        let add_classes = add.map(|(s, p)| (s, p, classes_of(p)));
        let class_lookup = |id: u32| lookup(id).map(classes_of);
        let mut b = Scratch::default();
        let scope_of = |p: &CompiledPolicy| -> Box<str> { p.policy.scope().into() };
        let mut touched: Vec<Box<str>> = Vec::new();
        touched.extend(remove.map(|(_, p)| scope_of(p)));
        touched.extend(add.map(|(_, p)| scope_of(p)));
        touched.dedup();
        for scope in touched {
            let rm = remove.filter(|(_, p)| p.policy.scope() == &*scope);
            let ad = add_classes
                .as_ref()
                .filter(|(_, p, _)| p.policy.scope() == &*scope)
                .map(|(s, p, c)| (*s, *p, c));
            let budget = self.merge_budget;
            let si = self.scopes.get_or_default(&scope);
            si.edit(rm, ad, &class_lookup, &mut b, budget);
        }
    }

    /// Call `f` with every candidate for the query, each once, in no
    /// particular order.
    #[inline(always)]
    pub fn for_each_candidate(
        &self,
        name: Option<&str>,
        scope: Option<&str>,
        action: Option<&str>,
        keys: &IndexKeys<'_>,
        mut f: impl FnMut(u32),
    ) {
        if let Some(n) = name {
            self.by_name.get(n).for_each(f);
            return;
        }
        let strs = [keys.realm, keys.adminrealm, keys.user, keys.adminuser];
        // Python's `$` rule: a value ending in a newline also looks up its
        // stripped form, whose lists may overlap the exact ones. Without
        // such a value (nearly always) no list overlaps another: call `f`
        // straight from the lists.
        let nl = |s: Option<&str>| s.is_some_and(|s| s.ends_with('\n'));
        if !nl(action) && !strs.iter().any(|s| nl(*s)) {
            let k = ExactKeys {
                strs,
                hashes: std::array::from_fn(|_| std::cell::Cell::new(NOT_HASHED)),
            };
            match scope {
                None => {
                    for si in self.scopes.values() {
                        si.visit(action, &k, &mut f);
                    }
                }
                Some(s) => {
                    if let Some(si) = self.scopes.get(s) {
                        si.visit(action, &k, &mut f);
                    }
                }
            }
            return;
        }
        self.for_each_overlapping(scope, action, strs, f);
    }

    /// [`Index::for_each_candidate`] for a query with a value ending in a
    /// newline (its stripped form's lists may overlap the exact ones).
    #[inline(never)]
    fn for_each_overlapping(
        &self,
        scope: Option<&str>,
        action: Option<&str>,
        strs: [Option<&str>; 4],
        mut f: impl FnMut(u32),
    ) {
        let k = QueryKeys {
            strs,
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

#[cfg(test)]
mod name_eq_tests {
    use super::name_eq;

    /// `name_eq` is `==` for names of equal length (every length from 0
    /// to 20, differing in each position).
    #[test]
    fn name_eq_is_eq() {
        let base = b"abcdefghijklmnopqrst";
        for n in 0..=base.len() {
            let a = &base[..n];
            assert!(name_eq(a, a));
            for i in 0..n {
                let mut b = a.to_vec();
                b[i] ^= 1;
                assert!(!name_eq(a, &b), "{n} {i}");
            }
        }
        for (a, b) in [("admin", "webui"), ("user", "usex"), ("admin", "admim")] {
            assert_eq!(name_eq(a.as_bytes(), b.as_bytes()), a == b);
        }
    }
}

/// A xorshift64 generator from `seed` (test data, reproducible).
#[cfg(test)]
fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}

#[cfg(test)]
mod value_table_tests {
    use super::*;

    /// Every stored value finds exactly its list, every other value none —
    /// in list form, in table form (clustered and spread hashes), with
    /// one-id and longer lists, and for a query hash equal to `EMPTY`.
    #[test]
    fn lookups_find_exactly_the_stored_lists() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
        for n in [1usize, 5, 8, 9, 40, 1000] {
            for clustered in [false, true] {
                let mut values: Vec<VHash> = (0..n)
                    .map(|i| {
                        if clustered {
                            // Long runs sharing one home.
                            0x8000_0000 + (i as u32) * 3
                        } else {
                            (next() >> 32) as u32 & !1
                        }
                    })
                    .collect();
                values.sort_unstable();
                values.dedup();
                let mut data: Vec<u32> = vec![7, 7, 7];
                let from = data.len() as u32;
                let mut entries = Vec::new();
                let mut expect = Vec::new();
                for (k, &v) in values.iter().enumerate() {
                    let ids: Vec<u32> = (0..1 + k % 3).map(|j| (k * 10 + j) as u32).collect();
                    let start = data.len() as u32;
                    data.extend(&ids);
                    entries.push((
                        v,
                        Span {
                            start,
                            end: data.len() as u32,
                        },
                    ));
                    expect.push((v, ids));
                }
                let t = ValueTable::new(&entries, &mut data, from);
                assert_eq!(&data[..3], &[7, 7, 7]);
                for (v, ids) in &expect {
                    assert_eq!(t.get(Some(*v), &data), Some(&ids[..]), "n={n} v={v}");
                    // Odd hashes are never stored (unless clustered).
                    if !clustered {
                        assert_eq!(t.get(Some(v | 1), &data), None);
                    }
                }
                assert_eq!(t.get(Some(EMPTY), &data), None);
                assert_eq!(t.get(Some(0), &data).is_some(), values.contains(&0));
                assert_eq!(t.entries(&data).count(), values.len());
                // Five sixths full: 6n/5 home positions.
                if values.len() > LINEAR {
                    assert_eq!(t.homes as usize, values.len() + values.len() / 5);
                }
            }
        }
    }
}

#[cfg(test)]
mod hash_str_tests {
    use super::hash_str;
    use std::collections::HashSet;

    /// Every byte counts: strings of every length from 0 to 40 that
    /// differ in one byte (in each position), or only in length (a zero
    /// byte appended), hash differently; so do the benchmark's realm, user
    /// and action-like values.
    #[test]
    fn hash_str_reads_every_byte() {
        let base: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        let mut seen = HashSet::new();
        for n in 0..=base.len() {
            let a = std::str::from_utf8(&base[..n]).unwrap_or_default();
            assert!(seen.insert(hash_str(a)), "length {n}");
            let mut zero = a.to_string();
            zero.push('\0');
            assert_ne!(hash_str(a), hash_str(&zero), "length {n} + NUL");
            for i in 0..n {
                let mut b = base[..n].to_vec();
                b[i] ^= 1;
                let b = std::str::from_utf8(&b).unwrap_or_default();
                assert!(seen.insert(hash_str(b)), "length {n}, byte {i}");
            }
        }
        let mut values = HashSet::new();
        for t in 0..500 {
            values.insert(hash_str(&format!("realm{t}")));
            values.insert(hash_str(&format!("admin{t}")));
            for u in 0..50 {
                values.insert(hash_str(&format!("user{t}_{u}")));
            }
        }
        assert_eq!(values.len(), 500 * 52);
    }
}

#[cfg(test)]
mod action_map_tests {
    use super::*;

    /// `ActionMap` holds what a `HashMap` holds after every insert,
    /// replacement and removal: keys with equal homes (long probe runs),
    /// key 0, keys at the top of the range, and keys never inserted.
    #[test]
    fn action_map_is_a_map() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
        // A bucket told apart by its one id.
        let parts = |id: u32| Parts::new(vec![id], &|_, _| None, &mut Scratch::default());
        let id_of = |p: &Parts| p.ids().next();
        let pool: Vec<u64> = (0..40u64)
            .map(|i| match i % 4 {
                0 => next(),
                // Same high bits: one home.
                1 => 0x8000_0000_0000_0000 | i,
                2 => u64::MAX - i,
                _ => i,
            })
            .collect();
        let mut map: ActionMap = std::iter::empty().collect();
        let mut model: std::collections::HashMap<u64, u32> = Default::default();
        for step in 0..2_000u32 {
            let k = pool[(next() % pool.len() as u64) as usize];
            if next() % 3 == 0 {
                map.remove(k);
                model.remove(&k);
            } else {
                map.insert(k, parts(step));
                model.insert(k, step);
            }
            assert_eq!(map.len(), model.len(), "step {step}");
            for &q in pool.iter().chain(&[1u64 << 40, 77]) {
                assert_eq!(
                    map.get(q).and_then(id_of),
                    model.get(&q).copied(),
                    "step {step} key {q:#x}"
                );
            }
            let mut keys: Vec<u64> = map.keys().collect();
            keys.sort_unstable();
            let mut want: Vec<u64> = model.keys().copied().collect();
            want.sort_unstable();
            assert_eq!(keys, want, "step {step}");
        }
        let built: ActionMap = model.iter().map(|(&k, &v)| (k, parts(v))).collect();
        for &q in &pool {
            assert_eq!(built.get(q).and_then(id_of), model.get(&q).copied());
        }
        let mut built = built;
        assert_eq!(built.values_mut().count(), model.len());
    }
}
