//! Realms: `realm` and `resolverrealm`.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use pi_model::record::{RealmRecord, RealmResolverAssignment, RealmResolverRecord};

use crate::conn::AnyConnection;
use crate::schema::{nodename, realm, resolver, resolverrealm};
use crate::store::{count_existing, inserted_id, new_id, to_i32};
use crate::{SetRealmError, Store, StoreError};

/// Result of [`Store::set_realm`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetRealmOutcome {
    /// The realm's id (new or existing).
    pub id: i64,
    /// Resolver names written, in input order (may repeat).
    pub added: Vec<String>,
    /// Resolver names not written (unknown resolver or unknown node), in
    /// input order (may repeat).
    pub failed: Vec<String>,
}

/// Result of [`Store::delete_realm_checked`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeleteRealmOutcome {
    /// No realm has exactly this name.
    NotFound,
    /// A token is owned by a user of this realm (privacyIDEA's `tokenowner`).
    TokenOwned,
    /// A container is owned by a user of this realm (`tokencontainerowner`).
    ContainerOwned,
    /// The realm has custom user attributes and their deletion was not
    /// confirmed: the distinct attribute keys, sorted.
    CustomAttributes(Vec<String>),
    /// Deleted; the realm's id.
    Deleted(i64),
}

/// Distinct text values of a one-column query whose column is `s`.
fn text_column(c: &mut AnyConnection, sql: &str) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        s: String,
    }
    Ok(diesel::sql_query(sql)
        .load::<Row>(c)?
        .into_iter()
        .map(|r| r.s)
        .collect())
}

type RealmResolverRow = (Option<i32>, String, String, Option<i32>, Option<String>);

/// Loads realms (all, or the one with `only_id`) with their resolver rows.
fn load_realms(
    c: &mut AnyConnection,
    only_id: Option<i32>,
) -> Result<Vec<RealmRecord>, StoreError> {
    let mut rq = realm::table.order(realm::id).into_boxed();
    let mut aq = resolverrealm::table
        .inner_join(resolver::table)
        .order(resolverrealm::id)
        .select((
            resolverrealm::realm_id,
            resolver::name,
            resolver::rtype,
            resolverrealm::priority,
            resolverrealm::node_uuid,
        ))
        .into_boxed();
    if let Some(id) = only_id {
        rq = rq.filter(realm::id.eq(id));
        aq = aq.filter(resolverrealm::realm_id.eq(id));
    }
    let realms: Vec<(i32, String, Option<bool>)> = rq.load(c)?;
    if realms.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<RealmResolverRow> = aq.load(c)?;
    let mut by_realm: HashMap<i32, Vec<RealmResolverRecord>> = HashMap::new();
    for (realm_id, name, rtype, priority, node) in rows {
        let Some(realm_id) = realm_id else { continue };
        by_realm
            .entry(realm_id)
            .or_default()
            .push(RealmResolverRecord {
                name,
                rtype,
                priority: priority.map(i64::from),
                node,
            });
    }
    Ok(realms
        .into_iter()
        .map(|(id, name, default)| RealmRecord {
            id: i64::from(id),
            name,
            default: default.unwrap_or(false),
            resolvers: by_realm.remove(&id).unwrap_or_default(),
        })
        .collect())
}

/// The realm with exactly this name, inside a transaction.
pub(crate) fn get_realm_in(
    c: &mut AnyConnection,
    name: &str,
) -> Result<Option<RealmRecord>, StoreError> {
    match realm_id_by_name(c, name)? {
        Some(id) => Ok(load_realms(c, Some(id))?.pop()),
        None => Ok(None),
    }
}

pub(crate) fn list_realms_in(c: &mut AnyConnection) -> Result<Vec<RealmRecord>, StoreError> {
    load_realms(c, None)
}

fn realm_id_by_name(c: &mut AnyConnection, name: &str) -> QueryResult<Option<i32>> {
    realm::table
        .filter(realm::name.eq(name))
        .select(realm::id)
        .first(c)
        .optional()
}

fn realm_ids(c: &mut AnyConnection) -> QueryResult<Vec<i32>> {
    realm::table.order(realm::id).select(realm::id).load(c)
}

/// Whether a table exists (privacyIDEA's token tables are not ours).
fn table_exists(c: &mut AnyConnection, table: &'static str) -> QueryResult<bool> {
    Ok(count_existing(c, &[table])? == 1)
}

impl Store {
    /// All realms in id order, each with its resolver rows (DB order) joined
    /// with the resolver's name and type.
    pub fn list_realms(&self) -> Result<Vec<RealmRecord>, StoreError> {
        self.read(list_realms_in)
    }

    /// The realm with exactly this name.
    pub fn get_realm(&self, name: &str) -> Result<Option<RealmRecord>, StoreError> {
        self.read(|c| get_realm_in(c, name))
    }

    /// privacyIDEA's `set_realm(name, resolvers)` (replace semantics).
    ///
    /// `name` is stored as given (normalising — lower-case, spaces → `-` —
    /// is the caller's job). Creates the realm if missing, else deletes ALL
    /// its resolver rows (every node). Per entry: the name is trimmed and
    /// looked up exactly; unknown resolver or a non-empty node that is not in
    /// `nodename` → `failed`, else a row is written (`priority` `0`/`None` →
    /// `NULL`, node `""` = all nodes) → `added`. The same resolver twice for
    /// the same node → [`SetRealmError::DuplicateAssignment`] and nothing is
    /// changed. Afterwards, if exactly one realm exists it becomes default.
    pub fn set_realm(
        &self,
        name: &str,
        resolvers: &[RealmResolverAssignment],
    ) -> Result<SetRealmOutcome, SetRealmError> {
        let (name, resolvers) = (name.to_owned(), resolvers.to_vec());
        self.config_write(move |c| {
            let (name, resolvers) = (name.as_str(), resolvers.as_slice());
            let realm_id = match realm_id_by_name(c, name)? {
                Some(id) => {
                    diesel::delete(resolverrealm::table.filter(resolverrealm::realm_id.eq(id)))
                        .execute(c)?;
                    id
                }
                None => {
                    diesel::insert_into(realm::table)
                        .values((
                            realm::id.eq(new_id(c, "realm_seq")),
                            realm::name.eq(name),
                            realm::is_default.eq(Some(false)),
                        ))
                        .execute(c)?;
                    inserted_id(c, "realm_seq")?
                }
            };
            let mut out = SetRealmOutcome {
                id: i64::from(realm_id),
                ..SetRealmOutcome::default()
            };
            let mut seen: HashSet<(i32, String)> = HashSet::new();
            for entry in resolvers {
                let rname = entry.name.trim();
                let resolver_id: Option<i32> = resolver::table
                    .filter(resolver::name.eq(rname))
                    .select(resolver::id)
                    .first(c)
                    .optional()?;
                let Some(resolver_id) = resolver_id else {
                    out.failed.push(rname.to_owned());
                    continue;
                };
                if !entry.node.is_empty() {
                    let known: Option<String> = nodename::table
                        .filter(nodename::id.eq(&entry.node))
                        .select(nodename::id)
                        .first(c)
                        .optional()?;
                    if known.is_none() {
                        out.failed.push(rname.to_owned());
                        continue;
                    }
                }
                if !seen.insert((resolver_id, entry.node.clone())) {
                    return Err(SetRealmError::DuplicateAssignment {
                        resolver: rname.to_owned(),
                        node: entry.node.clone(),
                    });
                }
                let priority = match entry.priority {
                    None | Some(0) => None,
                    Some(p) => Some(to_i32(p, "priority")?),
                };
                diesel::insert_into(resolverrealm::table)
                    .values((
                        resolverrealm::id.eq(new_id(c, "resolverrealm_seq")),
                        resolverrealm::resolver_id.eq(Some(resolver_id)),
                        resolverrealm::realm_id.eq(Some(realm_id)),
                        resolverrealm::priority.eq(priority),
                        resolverrealm::node_uuid.eq(Some(&entry.node)),
                    ))
                    .execute(c)?;
                out.added.push(rname.to_owned());
            }
            if let [only] = realm_ids(c)?.as_slice() {
                diesel::update(realm::table.find(*only))
                    .set(realm::is_default.eq(Some(true)))
                    .execute(c)?;
            }
            Ok((out, true))
        })
    }

    /// Deletes the realm with exactly this name (its resolver rows and, if
    /// privacyIDEA's `tokenrealm` table exists, its token-realm rows too);
    /// returns its id, `None` if there is no such realm. Afterwards, if no
    /// realm is default and exactly one remains, that one becomes default.
    ///
    /// No owner checks: see [`Store::delete_realm_checked`].
    pub fn delete_realm(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.delete_realm_checked_inner(name, true, false)? {
            DeleteRealmOutcome::Deleted(id) => Ok(Some(id)),
            _ => Ok(None),
        }
    }

    /// privacyIDEA's `delete_realm` on a database privacyIDEA shares: refuses
    /// while a token or container of privacyIDEA's tables is owned by a user
    /// of the realm, or while the realm has custom user attributes and
    /// `delete_custom_attributes` is false; otherwise deletes the realm with
    /// its resolver, token-realm, container-realm rows (and the custom
    /// attributes) like [`Store::delete_realm`]. Tables that do not exist
    /// (a database of our own) are skipped.
    pub fn delete_realm_checked(
        &self,
        name: &str,
        delete_custom_attributes: bool,
    ) -> Result<DeleteRealmOutcome, StoreError> {
        self.delete_realm_checked_inner(name, delete_custom_attributes, true)
    }

    fn delete_realm_checked_inner(
        &self,
        name: &str,
        delete_custom_attributes: bool,
        check_owners: bool,
    ) -> Result<DeleteRealmOutcome, StoreError> {
        let name = name.to_owned();
        self.config_write(move |c| {
            let name = name.as_str();
            let Some(id) = realm_id_by_name(c, name)? else {
                return Ok((DeleteRealmOutcome::NotFound, false));
            };
            if check_owners {
                if table_exists(c, "tokenowner")?
                    && !text_column(c, &format!("SELECT CAST(id AS VARCHAR(20)) AS s FROM tokenowner WHERE realm_id = {id} LIMIT 1"))?.is_empty()
                {
                    return Ok((DeleteRealmOutcome::TokenOwned, false));
                }
                if table_exists(c, "tokencontainerowner")?
                    && !text_column(c, &format!("SELECT CAST(id AS VARCHAR(20)) AS s FROM tokencontainerowner WHERE realm_id = {id} LIMIT 1"))?.is_empty()
                {
                    return Ok((DeleteRealmOutcome::ContainerOwned, false));
                }
            }
            let has_attributes = table_exists(c, "customuserattribute")?;
            if has_attributes && !delete_custom_attributes {
                let mut keys = text_column(
                    c,
                    &format!("SELECT DISTINCT \"Key\" AS s FROM customuserattribute WHERE realm_id = {id}"),
                )?;
                keys.sort();
                if !keys.is_empty() {
                    return Ok((DeleteRealmOutcome::CustomAttributes(keys), false));
                }
            }
            if has_attributes && delete_custom_attributes {
                diesel::sql_query(format!("DELETE FROM customuserattribute WHERE realm_id = {id}"))
                    .execute(c)?;
            }
            if table_exists(c, "tokencontainerrealm")? {
                diesel::sql_query(format!("DELETE FROM tokencontainerrealm WHERE realm_id = {id}"))
                    .execute(c)?;
            }
            if table_exists(c, "tokenrealm")? {
                diesel::sql_query(format!("DELETE FROM tokenrealm WHERE realm_id = {id}"))
                    .execute(c)?;
            }
            diesel::delete(resolverrealm::table.filter(resolverrealm::realm_id.eq(id)))
                .execute(c)?;
            diesel::delete(realm::table.find(id)).execute(c)?;
            let has_default = realm::table
                .filter(realm::is_default.eq(true))
                .select(realm::id)
                .first::<i32>(c)
                .optional()?
                .is_some();
            if !has_default {
                if let [only] = realm_ids(c)?.as_slice() {
                    diesel::update(realm::table.find(*only))
                        .set(realm::is_default.eq(Some(true)))
                        .execute(c)?;
                }
            }
            Ok((DeleteRealmOutcome::Deleted(i64::from(id)), true))
        })
    }

    /// Makes the realm with exactly this name the only default realm;
    /// returns its id, `None` (old default kept) if there is no such realm.
    pub fn set_default_realm(&self, name: &str) -> Result<Option<i64>, StoreError> {
        let name = name.to_owned();
        self.config_write(move |c| {
            let name = name.as_str();
            let Some(id) = realm_id_by_name(c, name)? else {
                return Ok((None, false));
            };
            diesel::update(realm::table.filter(realm::is_default.eq(true)))
                .set(realm::is_default.eq(Some(false)))
                .execute(c)?;
            diesel::update(realm::table.find(id))
                .set(realm::is_default.eq(Some(true)))
                .execute(c)?;
            Ok((Some(i64::from(id)), true))
        })
    }

    /// Clears the default realm; returns the id of the realm that was default
    /// (the first in id order), `0` if none was.
    pub fn clear_default_realm(&self) -> Result<i64, StoreError> {
        self.config_write(|c| {
            let ids: Vec<i32> = realm::table
                .filter(realm::is_default.eq(true))
                .order(realm::id)
                .select(realm::id)
                .load(c)?;
            let Some(first) = ids.first() else {
                return Ok((0, false));
            };
            diesel::update(realm::table.filter(realm::is_default.eq(true)))
                .set(realm::is_default.eq(Some(false)))
                .execute(c)?;
            Ok((i64::from(*first), true))
        })
    }

    /// The default realm (the first in id order if the data has several).
    pub fn default_realm(&self) -> Result<Option<RealmRecord>, StoreError> {
        self.read(|c| {
            let id: Option<i32> = realm::table
                .filter(realm::is_default.eq(true))
                .order(realm::id)
                .select(realm::id)
                .first(c)
                .optional()?;
            match id {
                Some(id) => Ok(load_realms(c, Some(id))?.pop()),
                None => Ok(None),
            }
        })
    }
}
