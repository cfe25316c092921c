//! Candidate index: policies bucketed by scope and action key.
//!
//! For a query with scope and action the candidates are the policies of that
//! scope whose action dict has the literal key (or the key without a trailing
//! newline, Python's `$` rule), plus every policy with a `*` key, with a
//! regular-expression key, or with no action at all (quirk Q1). Every
//! candidate is then checked completely, so the index only has to be a
//! superset of the matches — the property test compares it with a linear scan.

use crate::compiled::{CompiledPolicy, EntryKind};
use std::collections::HashMap;

/// Buckets of one scope (or of all policies).
#[derive(Debug, Default, Clone)]
pub(crate) struct ScopeIndex {
    /// All policies, load order.
    pub ids: Vec<u32>,
    /// Literal (and invalid-regex) action keys, including negated ones.
    pub by_action: HashMap<Box<str>, Vec<u32>>,
    /// Policies with a `*` key.
    pub star: Vec<u32>,
    /// Policies with a regular-expression key.
    pub regex: Vec<u32>,
    /// Policies with an empty action dict.
    pub empty: Vec<u32>,
}

impl ScopeIndex {
    fn add(&mut self, id: u32, p: &CompiledPolicy) {
        self.ids.push(id);
        if p.action.is_empty() {
            self.empty.push(id);
            return;
        }
        let (mut star, mut regex) = (false, false);
        for e in &p.action.entries {
            match e.kind {
                EntryKind::Star => star = true,
                EntryKind::Regex(_) => regex = true,
                EntryKind::Literal | EntryKind::Invalid(_) => {
                    let v = self.by_action.entry(e.raw.clone()).or_default();
                    if v.last() != Some(&id) {
                        v.push(id);
                    }
                }
            }
        }
        if star {
            self.star.push(id);
        }
        if regex {
            self.regex.push(id);
        }
    }

    /// Call `f` with every candidate id for `action`, ascending, without duplicates.
    pub fn for_each_candidate(&self, action: Option<&str>, mut f: impl FnMut(u32)) {
        let Some(a) = action else {
            self.ids.iter().copied().for_each(f);
            return;
        };
        let exact = self.by_action.get(a).map(Vec::as_slice).unwrap_or(&[]);
        let stripped = a
            .strip_suffix('\n')
            .and_then(|s| self.by_action.get(s))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut lists: [&[u32]; 5] = [&[]; 5];
        let mut n = 0;
        for l in [
            exact,
            stripped,
            &self.star[..],
            &self.regex[..],
            &self.empty[..],
        ] {
            if !l.is_empty() {
                lists[n] = l;
                n += 1;
            }
        }
        merge(&lists[..n], &mut f);
    }
}

/// K-way merge of ascending lists, emitting each id once.
fn merge(lists: &[&[u32]], f: &mut impl FnMut(u32)) {
    match lists.len() {
        0 => {}
        1 => lists[0].iter().copied().for_each(f),
        _ => {
            let mut pos = [0usize; 5];
            loop {
                let mut min = u32::MAX;
                let mut any = false;
                for (i, l) in lists.iter().enumerate() {
                    if let Some(&v) = l.get(pos[i]) {
                        any = true;
                        if v < min {
                            min = v;
                        }
                    }
                }
                if !any {
                    break;
                }
                f(min);
                for (i, l) in lists.iter().enumerate() {
                    if l.get(pos[i]) == Some(&min) {
                        pos[i] += 1;
                    }
                }
            }
        }
    }
}

/// The whole index.
#[derive(Debug, Default, Clone)]
pub(crate) struct Index {
    pub all: ScopeIndex,
    pub scopes: HashMap<Box<str>, ScopeIndex>,
    pub by_name: HashMap<Box<str>, Vec<u32>>,
}

impl Index {
    pub fn build(policies: &[CompiledPolicy]) -> Index {
        let mut idx = Index::default();
        for (i, p) in policies.iter().enumerate() {
            let id = i as u32;
            idx.all.add(id, p);
            idx.scopes
                .entry(p.policy.scope().into())
                .or_default()
                .add(id, p);
            idx.by_name
                .entry(p.policy.name().into())
                .or_default()
                .push(id);
        }
        idx
    }

    /// Candidates for (name, scope, action), ascending load order.
    pub fn for_each_candidate(
        &self,
        name: Option<&str>,
        scope: Option<&str>,
        action: Option<&str>,
        f: impl FnMut(u32),
    ) {
        if let Some(n) = name {
            if let Some(ids) = self.by_name.get(n) {
                ids.iter().copied().for_each(f);
            }
            return;
        }
        match scope {
            None => self.all.for_each_candidate(action, f),
            Some(s) => {
                if let Some(si) = self.scopes.get(s) {
                    si.for_each_candidate(action, f);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge;

    #[test]
    fn merge_dedups() {
        let mut out = Vec::new();
        merge(&[&[1, 3, 5], &[2, 3, 9], &[3]], &mut |v| out.push(v));
        assert_eq!(out, vec![1, 2, 3, 5, 9]);
    }
}
