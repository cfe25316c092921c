//! Candidate index.
//!
//! Level 1: scope → action key. The candidates of a query with an action
//! are the policies of the scope whose action dict has the literal key (or
//! the key without a trailing newline, Python's `$` rule), plus every policy
//! with a `*` key, with a regular-expression key, or with no action at all
//! (quirk Q1). Without an action: all policies of the scope.
//!
//! Level 2: inside every such bucket, the policies are split per attribute
//! (realm, admin realm, user, admin user) into *unrestricted* (empty list),
//! *by literal entry* and *complex* (`*`, regular expressions,
//! case-insensitive users). A query value `v` needs only unrestricted ∪
//! literal[v] ∪ complex; the attribute with the fewest candidates is used.
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
    fixed: [&'a [u32]; 24],
    len: usize,
    more: Vec<&'a [u32]>,
}

impl<'a> Lists<'a> {
    fn new() -> Lists<'a> {
        Lists {
            fixed: [&[]; 24],
            len: 0,
            more: Vec::new(),
        }
    }

    #[inline]
    fn push(&mut self, l: &'a [u32]) {
        if self.len < self.fixed.len() {
            self.fixed[self.len] = l;
            self.len += 1;
        } else {
            self.more.push(l);
        }
    }

    fn count(&self) -> usize {
        self.len + self.more.len()
    }

    fn iter(&self) -> impl Iterator<Item = &'a [u32]> + '_ {
        self.fixed[..self.len]
            .iter()
            .copied()
            .chain(self.more.iter().copied())
    }
}

/// Candidate lists up to this total size are merged on the stack.
const SMALL: usize = 64;

/// Below this many candidates a split is good enough; no further attributes are tried.
const GOOD_ENOUGH: usize = 4;

const REALM: usize = 0;
const ADMINREALM: usize = 1;
const USER: usize = 2;
const ADMINUSER: usize = 3;

/// The literal attribute values of all splits, numbered: a query value is
/// looked up once per query instead of once per bucket.
#[derive(Debug, Default, Clone)]
struct Interner {
    ids: HashMap<Box<str>, u32>,
}

impl Interner {
    fn intern(&mut self, v: &str) -> u32 {
        if let Some(&id) = self.ids.get(v) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(v.into(), id);
        id
    }

    /// The numbers of `v` and of `v` without a trailing newline (Python's
    /// `$` also matches before it).
    #[inline]
    fn key(&self, v: &str) -> ValueKey {
        ValueKey {
            exact: self.ids.get(v).copied(),
            stripped: v.strip_suffix('\n').and_then(|s| self.ids.get(s).copied()),
        }
    }
}

/// A query value as numbers of the [`Interner`] (`None`: no split has it).
#[derive(Debug, Clone, Copy)]
struct ValueKey {
    exact: Option<u32>,
    stripped: Option<u32>,
}

/// The query values of the four split attributes, looked up in the
/// [`Interner`] on first use (most buckets are too small to need them).
struct QueryKeys<'q, 'i> {
    values: &'i Interner,
    strs: [Option<&'q str>; 4],
    keys: [std::cell::Cell<Option<ValueKey>>; 4],
}

impl QueryKeys<'_, '_> {
    #[inline]
    fn get(&self, i: usize) -> Option<ValueKey> {
        let v = self.strs[i]?;
        let cell = &self.keys[i];
        match cell.get() {
            Some(k) => Some(k),
            None => {
                let k = self.values.key(v);
                cell.set(Some(k));
                Some(k)
            }
        }
    }
}

/// One attribute's split of a bucket.
#[derive(Debug, Default, Clone)]
struct Split {
    unrestricted: Vec<u32>,
    by_value: HashMap<u32, Vec<u32>>,
    complex: Vec<u32>,
}

impl Split {
    fn add(&mut self, id: u32, list: &EntryList, force_complex: bool, values: &mut Interner) {
        if list.is_empty() {
            self.unrestricted.push(id);
            return;
        }
        let complex = force_complex
            || list
                .entries
                .iter()
                .any(|e| matches!(e.kind, EntryKind::Star | EntryKind::Regex(_)));
        if complex {
            self.complex.push(id);
            return;
        }
        for e in &list.entries {
            let v = self.by_value.entry(values.intern(&e.raw)).or_default();
            if v.last() != Some(&id) {
                v.push(id);
            }
        }
    }

    #[inline]
    fn lists(&self, v: ValueKey) -> [&[u32]; 4] {
        let get = |k: Option<u32>| {
            k.and_then(|k| self.by_value.get(&k))
                .map(Vec::as_slice)
                .unwrap_or(&[])
        };
        [
            &self.unrestricted,
            get(v.exact),
            get(v.stripped),
            &self.complex,
        ]
    }
}

/// The policies of one bucket with their attribute splits.
#[derive(Debug, Default, Clone)]
pub(crate) struct Bucket {
    ids: Vec<u32>,
    splits: [Split; 4],
}

impl Bucket {
    fn add(&mut self, id: u32, p: &CompiledPolicy, values: &mut Interner) {
        if self.ids.last() == Some(&id) {
            return;
        }
        self.ids.push(id);
        let uci = p.policy.user_case_insensitive();
        self.splits[REALM].add(id, &p.realm, false, values);
        self.splits[ADMINREALM].add(id, &p.adminrealm, false, values);
        self.splits[USER].add(id, &p.user, uci, values);
        self.splits[ADMINUSER].add(id, &p.adminuser, uci, values);
    }

    /// Push the smallest candidate lists of this bucket for the query values.
    fn push_candidates<'a>(&'a self, keys: &QueryKeys<'_, '_>, out: &mut Lists<'a>) {
        if self.ids.is_empty() {
            return;
        }
        let mut best: Option<[&'a [u32]; 4]> = None;
        let mut best_len = self.ids.len();
        if best_len > GOOD_ENOUGH {
            for (i, split) in self.splits.iter().enumerate() {
                if let Some(v) = keys.get(i) {
                    let l = split.lists(v);
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
                for l in lists {
                    if !l.is_empty() {
                        out.push(l);
                    }
                }
            }
        }
    }
}

/// Buckets of one scope (or of all policies).
#[derive(Debug, Default, Clone)]
pub(crate) struct ScopeIndex {
    all: Bucket,
    by_action: HashMap<Box<str>, Bucket>,
    star: Bucket,
    regex: Bucket,
    empty: Bucket,
}

impl ScopeIndex {
    fn add(&mut self, id: u32, p: &CompiledPolicy, values: &mut Interner) {
        self.all.add(id, p, values);
        if p.action.is_empty() {
            self.empty.add(id, p, values);
            return;
        }
        for e in &p.action.entries {
            match e.kind {
                EntryKind::Star => self.star.add(id, p, values),
                EntryKind::Regex(_) => self.regex.add(id, p, values),
                EntryKind::Literal | EntryKind::Invalid(_) => match self.by_action.get_mut(&*e.raw)
                {
                    Some(b) => b.add(id, p, values),
                    None => {
                        let mut b = Bucket::default();
                        b.add(id, p, values);
                        self.by_action.insert(e.raw.clone(), b);
                    }
                },
            }
        }
    }

    fn push_candidates<'a>(
        &'a self,
        action: Option<&str>,
        keys: &QueryKeys<'_, '_>,
        out: &mut Lists<'a>,
    ) {
        let Some(a) = action else {
            self.all.push_candidates(keys, out);
            return;
        };
        if let Some(b) = self.by_action.get(a) {
            b.push_candidates(keys, out);
        }
        if let Some(b) = a.strip_suffix('\n').and_then(|s| self.by_action.get(s)) {
            b.push_candidates(keys, out);
        }
        self.star.push_candidates(keys, out);
        self.regex.push_candidates(keys, out);
        self.empty.push_candidates(keys, out);
    }
}

/// The whole index.
#[derive(Debug, Default, Clone)]
pub(crate) struct Index {
    scopes: HashMap<Box<str>, ScopeIndex>,
    by_name: HashMap<Box<str>, Vec<u32>>,
    values: Interner,
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
        let mut idx = Index::default();
        for (i, p) in policies.iter().enumerate() {
            let id = i as u32;
            match idx.scopes.get_mut(p.policy.scope()) {
                Some(si) => si.add(id, p, &mut idx.values),
                None => {
                    let mut si = ScopeIndex::default();
                    si.add(id, p, &mut idx.values);
                    idx.scopes.insert(p.policy.scope().into(), si);
                }
            }
            idx.by_name
                .entry(p.policy.name().into())
                .or_default()
                .push(id);
        }
        idx
    }

    /// Call `f` with every candidate for the query, ascending load order,
    /// each once.
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
            values: &self.values,
            strs: [keys.realm, keys.adminrealm, keys.user, keys.adminuser],
            keys: Default::default(),
        };
        let mut lists = Lists::new();
        match scope {
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
        match lists.count() {
            0 => {}
            1 => lists.iter().flatten().copied().for_each(f),
            _ => {
                let total: usize = lists.iter().map(|l| l.len()).sum();
                if total <= SMALL {
                    // Small: sort on the stack.
                    let mut buf = [0u32; SMALL];
                    let mut n = 0;
                    for l in lists.iter() {
                        buf[n..n + l.len()].copy_from_slice(l);
                        n += l.len();
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
                    for l in lists.iter() {
                        ids.extend_from_slice(l);
                    }
                    ids.sort_unstable();
                    ids.dedup();
                    ids.into_iter().for_each(&mut f);
                }
            }
        }
    }
}
