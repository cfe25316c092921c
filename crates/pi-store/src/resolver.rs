//! Resolvers: `resolver` and `resolverconfig`.

use std::collections::HashMap;

use diesel::prelude::*;
use pi_model::record::{ResolverConfigRecord, ResolverRecord};

use crate::conn::AnyConnection;
use crate::policy::lower;
use crate::schema::{realm, resolver, resolverconfig, resolverrealm};
use crate::store::{inserted_id, new_id};
use crate::{SaveResolverError, Store, StoreError};
pub use pi_model::record::ResolverConfigChange;

/// Result of [`Store::delete_resolver`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteResolverOutcome {
    /// No resolver has exactly this name.
    NotFound,
    /// The resolver is used by a realm (the first by assignment order); nothing
    /// was deleted.
    InRealm(String),
    /// Deleted; the resolver's id.
    Deleted(i64),
}

fn load_resolvers(
    c: &mut AnyConnection,
    only_id: Option<i32>,
) -> Result<Vec<ResolverRecord>, StoreError> {
    let mut rq = resolver::table.order(resolver::id).into_boxed();
    let mut cq = resolverconfig::table
        .order(resolverconfig::id)
        .select((
            resolverconfig::resolver_id,
            resolverconfig::key,
            resolverconfig::value,
            resolverconfig::typ,
            resolverconfig::description,
        ))
        .into_boxed();
    if let Some(id) = only_id {
        rq = rq.filter(resolver::id.eq(id));
        cq = cq.filter(resolverconfig::resolver_id.eq(id));
    }
    let resolvers: Vec<(i32, String, String)> = rq.load(c)?;
    if resolvers.is_empty() {
        return Ok(Vec::new());
    }
    type Row = (
        Option<i32>,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = cq.load(c)?;
    let mut by_id: HashMap<i32, Vec<ResolverConfigRecord>> = HashMap::new();
    for (rid, key, value, typ, description) in rows {
        let Some(rid) = rid else { continue };
        by_id.entry(rid).or_default().push(ResolverConfigRecord {
            key,
            value,
            typ,
            description,
        });
    }
    Ok(resolvers
        .into_iter()
        .map(|(id, name, rtype)| ResolverRecord {
            id: i64::from(id),
            name,
            rtype,
            config: by_id.remove(&id).unwrap_or_default(),
        })
        .collect())
}

/// The resolver found case-insensitively by name, inside a transaction.
pub(crate) fn get_resolver_in(
    c: &mut AnyConnection,
    name: &str,
) -> Result<Option<ResolverRecord>, StoreError> {
    match find_resolver_ci(c, name)? {
        Some((id, _, _)) => Ok(load_resolvers(c, Some(id))?.pop()),
        None => Ok(None),
    }
}

pub(crate) fn list_resolvers_in(c: &mut AnyConnection) -> Result<Vec<ResolverRecord>, StoreError> {
    load_resolvers(c, None)
}

/// `(id, name, rtype)` of the first resolver whose name equals `name`
/// case-insensitively.
fn find_resolver_ci(
    c: &mut AnyConnection,
    name: &str,
) -> QueryResult<Option<(i32, String, String)>> {
    resolver::table
        .filter(lower(resolver::name.nullable()).eq(lower(Some(name))))
        .order(resolver::id)
        .first(c)
        .optional()
}

impl Store {
    /// All resolvers in id order with their config rows (id order).
    pub fn list_resolvers(&self) -> Result<Vec<ResolverRecord>, StoreError> {
        self.read(list_resolvers_in)
    }

    /// The resolver whose name equals `name` case-insensitively (the first in
    /// id order if the data has several).
    pub fn get_resolver_ci(&self, name: &str) -> Result<Option<ResolverRecord>, StoreError> {
        self.read(|c| get_resolver_in(c, name))
    }

    /// Creates or updates a resolver (privacyIDEA's `save_resolver` storage
    /// part) and returns its id.
    ///
    /// An existing resolver is found case-insensitively by name; with the
    /// same type it is updated (its stored name is kept; `changes` are merged
    /// into its config, rows not mentioned stay), with another type the call
    /// fails with [`SaveResolverError::TypeMismatch`].
    pub fn save_resolver(
        &self,
        name: &str,
        rtype: &str,
        changes: &[ResolverConfigChange],
    ) -> Result<i64, SaveResolverError> {
        let (name, rtype, changes) = (name.to_owned(), rtype.to_owned(), changes.to_vec());
        self.config_write(move |c| {
            let (name, rtype, changes) = (name.as_str(), rtype.as_str(), changes.as_slice());
            let id = match find_resolver_ci(c, name)? {
                Some((id, stored, stored_type)) => {
                    if stored_type != rtype {
                        return Err(SaveResolverError::TypeMismatch(stored));
                    }
                    id
                }
                None => {
                    diesel::insert_into(resolver::table)
                        .values((
                            resolver::id.eq(new_id(c, "resolver_seq")),
                            resolver::name.eq(name),
                            resolver::rtype.eq(rtype),
                        ))
                        .execute(c)?;
                    inserted_id(c, "resolver_seq")?
                }
            };
            for change in changes {
                match change {
                    ResolverConfigChange::Delete { key } => {
                        diesel::delete(
                            resolverconfig::table
                                .filter(resolverconfig::resolver_id.eq(id))
                                .filter(resolverconfig::key.eq(key)),
                        )
                        .execute(c)?;
                    }
                    ResolverConfigChange::Set {
                        key,
                        value,
                        typ,
                        description,
                    } => {
                        let typ = typ.as_deref().unwrap_or("");
                        let description = description.as_deref().unwrap_or("");
                        let n = diesel::update(
                            resolverconfig::table
                                .filter(resolverconfig::resolver_id.eq(id))
                                .filter(resolverconfig::key.eq(key)),
                        )
                        .set((
                            resolverconfig::value.eq(Some(value)),
                            resolverconfig::typ.eq(Some(typ)),
                            resolverconfig::description.eq(Some(description)),
                        ))
                        .execute(c)?;
                        if n == 0 {
                            diesel::insert_into(resolverconfig::table)
                                .values((
                                    resolverconfig::id.eq(new_id(c, "resolverconf_seq")),
                                    resolverconfig::resolver_id.eq(Some(id)),
                                    resolverconfig::key.eq(key),
                                    resolverconfig::value.eq(Some(value)),
                                    resolverconfig::typ.eq(Some(typ)),
                                    resolverconfig::description.eq(Some(description)),
                                ))
                                .execute(c)?;
                        }
                    }
                }
            }
            Ok((i64::from(id), true))
        })
    }

    /// Deletes the resolver with exactly this name and its config rows,
    /// unless a realm uses it.
    pub fn delete_resolver(&self, name: &str) -> Result<DeleteResolverOutcome, StoreError> {
        let name = name.to_owned();
        self.config_write(move |c| {
            let name = name.as_str();
            let id: Option<i32> = resolver::table
                .filter(resolver::name.eq(name))
                .select(resolver::id)
                .first(c)
                .optional()?;
            let Some(id) = id else {
                return Ok((DeleteResolverOutcome::NotFound, false));
            };
            let in_realm: Option<String> = resolverrealm::table
                .inner_join(realm::table)
                .filter(resolverrealm::resolver_id.eq(id))
                .order(resolverrealm::id)
                .select(realm::name)
                .first(c)
                .optional()?;
            if let Some(realm_name) = in_realm {
                return Ok((DeleteResolverOutcome::InRealm(realm_name), false));
            }
            diesel::delete(resolverconfig::table.filter(resolverconfig::resolver_id.eq(id)))
                .execute(c)?;
            diesel::delete(resolver::table.find(id)).execute(c)?;
            Ok((DeleteResolverOutcome::Deleted(i64::from(id)), true))
        })
    }
}
