//! Object versions (`ETag`s) and `If-Match` preconditions of configuration
//! writes: no lost updates between concurrent writers on different nodes.
//!
//! The version of a policy, realm, resolver or remote-server definition is a
//! hash of its stored rows, as pi-store reads them (ids, every column, the
//! policy's conditions and description, the realm's resolver rows, the
//! resolver's configuration rows). Any write by any node — ours or
//! privacyIDEA's — that changes the rows changes the version; a delete and
//! re-create changes it too (new id). A precondition is checked inside the
//! write transaction, after the configuration lock is taken, so two writers
//! that both read version `v` cannot both write: the second sees `v'` and
//! fails with [`StoreError::PreconditionFailed`].

use std::cell::RefCell;
use std::fmt;

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::schema::privacyideaserver;
use crate::{AnyConnection, Store, StoreError};

/// The kind of a versioned configuration object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A policy (by exact name).
    Policy,
    /// A realm (by exact name).
    Realm,
    /// A resolver (by name, case-insensitively as privacyIDEA finds it).
    Resolver,
    /// A remote privacyIDEA server definition (by identifier).
    RemoteServer,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Policy => "policy",
            ObjectKind::Realm => "realm",
            ObjectKind::Resolver => "resolver",
            ObjectKind::RemoteServer => "privacyIDEA server",
        })
    }
}

/// An `If-Match` condition on one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition {
    /// The object's kind.
    pub kind: ObjectKind,
    /// Its name (identifier).
    pub name: String,
    /// The accepted versions as sent (quotes and `W/` removed); `*` = any
    /// version, the object must exist.
    pub if_match: Vec<String>,
}

impl Precondition {
    /// Parses an `If-Match` header value (`"v1", W/"v2"` or `*`).
    pub fn from_header(kind: ObjectKind, name: &str, header: &str) -> Precondition {
        let if_match = header
            .split(',')
            .map(|t| {
                let t = t.trim();
                let t = t.strip_prefix("W/").unwrap_or(t);
                t.trim_matches('"').to_owned()
            })
            .filter(|t| !t.is_empty())
            .collect();
        Precondition {
            kind,
            name: name.to_owned(),
            if_match,
        }
    }

    /// Whether `current` (the object's version, `None` = missing) satisfies it.
    pub fn holds(&self, current: Option<&str>) -> bool {
        match current {
            None => false,
            Some(v) => self.if_match.iter().any(|t| t == "*" || t == v),
        }
    }
}

/// The version of a record: the first 128 bits of SHA-256 over its
/// canonical (`Debug`) form, as 32 hex digits.
pub fn etag_of<T: fmt::Debug>(rec: &T) -> String {
    let digest = Sha256::digest(format!("{rec:?}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The current version of an object inside a transaction.
pub(crate) fn current_etag(
    c: &mut AnyConnection,
    kind: ObjectKind,
    name: &str,
) -> Result<Option<String>, StoreError> {
    Ok(match kind {
        ObjectKind::Policy => crate::policy::get_policy_in(c, name)?.map(|r| etag_of(&r)),
        ObjectKind::Realm => crate::realm::get_realm_in(c, name)?.map(|r| etag_of(&r)),
        ObjectKind::Resolver => crate::resolver::get_resolver_in(c, name)?.map(|r| etag_of(&r)),
        ObjectKind::RemoteServer => privacyideaserver::table
            .filter(privacyideaserver::identifier.eq(name))
            .first(c)
            .optional()?
            .map(|row| etag_of(&crate::other::server_record(row))),
    })
}

thread_local! {
    /// The precondition of the configuration writes run by
    /// [`Store::with_precondition`] on this thread.
    static PRECONDITION: RefCell<Option<Precondition>> = const { RefCell::new(None) };
}

/// The precondition set by [`Store::with_precondition`] on this thread; a
/// configuration write takes it along and checks it right after it took the
/// configuration lock.
pub(crate) fn current_precondition() -> Option<Precondition> {
    PRECONDITION.with(|p| p.borrow().clone())
}

/// Checks `pre` (if any) inside a configuration write transaction.
pub(crate) fn check_precondition_of(
    c: &mut AnyConnection,
    pre: Option<&Precondition>,
) -> Result<(), StoreError> {
    let Some(pre) = pre else {
        return Ok(());
    };
    let current = current_etag(c, pre.kind, &pre.name)?;
    if pre.holds(current.as_deref()) {
        Ok(())
    } else {
        Err(StoreError::PreconditionFailed {
            kind: pre.kind,
            name: pre.name.clone(),
            current,
        })
    }
}

/// Restores the previous precondition when dropped (also on unwinding).
struct Restore(Option<Precondition>);

impl Drop for Restore {
    fn drop(&mut self) {
        let prev = self.0.take();
        PRECONDITION.with(|p| *p.borrow_mut() = prev);
    }
}

impl Store {
    /// The current version (`ETag` value, without quotes) of an object;
    /// `None` if it does not exist.
    pub fn object_etag(&self, kind: ObjectKind, name: &str) -> Result<Option<String>, StoreError> {
        self.read(|c| current_etag(c, kind, name))
    }

    /// Runs `f` so that every configuration write it makes first checks
    /// `pre` inside its transaction (after taking the configuration lock)
    /// and fails with [`StoreError::PreconditionFailed`] — changing nothing —
    /// when the object's version is not one of `pre.if_match`. `None` runs
    /// `f` unconditioned. Blocking, like every store call: the condition is
    /// bound to the calling thread.
    pub fn with_precondition<T>(
        &self,
        pre: Option<Precondition>,
        f: impl FnOnce(&Store) -> T,
    ) -> T {
        let prev = PRECONDITION.with(|p| std::mem::replace(&mut *p.borrow_mut(), pre));
        let _restore = Restore(prev);
        f(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_parsing() {
        let p = Precondition::from_header(ObjectKind::Policy, "p", "\"abc\", W/\"def\"");
        assert_eq!(p.if_match, ["abc", "def"]);
        assert!(p.holds(Some("def")));
        assert!(!p.holds(Some("x")));
        assert!(!p.holds(None));
        let any = Precondition::from_header(ObjectKind::Realm, "r", "*");
        assert!(any.holds(Some("x")));
        assert!(!any.holds(None));
    }

    #[test]
    fn etag_is_stable_and_sensitive() {
        assert_eq!(etag_of(&("a", 1)), etag_of(&("a", 1)));
        assert_ne!(etag_of(&("a", 1)), etag_of(&("a", 2)));
        assert_eq!(etag_of(&1).len(), 32);
    }
}
