//! Nodes, remote privacyIDEA servers, local admins and the whole-config
//! snapshot.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use pi_model::record::{
    AdminRecord, NodeRecord, PolicyRecord, RealmRecord, RemoteServerRecord, ResolverRecord,
};

use crate::conn::AnyConnection;
use crate::policy::list_policies_in;
use crate::realm::list_realms_in;
use crate::resolver::list_resolvers_in;
use crate::schema::{admin, nodename, privacyideaserver};
use crate::store::{inserted_id, new_id, read_config_version, truncate_micros};
use crate::{ConfigVersion, Store, StoreError};

/// Everything a server needs to build its in-memory configuration, read in
/// one consistent transaction by [`Store::load_snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigSnapshot {
    /// The version these records belong to.
    pub version: ConfigVersion,
    /// [`Store::list_policies`].
    pub policies: Vec<PolicyRecord>,
    /// [`Store::list_realms`].
    pub realms: Vec<RealmRecord>,
    /// [`Store::list_resolvers`].
    pub resolvers: Vec<ResolverRecord>,
    /// [`Store::list_nodes`].
    pub nodes: Vec<NodeRecord>,
}

fn list_nodes_in(c: &mut AnyConnection) -> Result<Vec<NodeRecord>, StoreError> {
    let rows: Vec<(String, Option<String>, Option<NaiveDateTime>)> =
        nodename::table.order(nodename::id).load(c)?;
    Ok(rows
        .into_iter()
        .map(|(uuid, name, lastseen)| NodeRecord {
            uuid,
            name: name.unwrap_or_default(),
            lastseen,
        })
        .collect())
}

pub(crate) fn server_record(
    (id, identifier, url, tls, description): (i32, String, String, Option<bool>, Option<String>),
) -> RemoteServerRecord {
    RemoteServerRecord {
        id: i64::from(id),
        identifier,
        url,
        tls: tls.unwrap_or(false),
        description: description.unwrap_or_default(),
    }
}

impl Store {
    /// Version, policies, realms, resolvers and nodes in one read
    /// transaction (a consistent snapshot on PostgreSQL).
    pub fn load_snapshot(&self) -> Result<ConfigSnapshot, StoreError> {
        self.read(|c| {
            Ok(ConfigSnapshot {
                version: read_config_version(c)?,
                policies: list_policies_in(c)?,
                realms: list_realms_in(c)?,
                resolvers: list_resolvers_in(c)?,
                nodes: list_nodes_in(c)?,
            })
        })
    }

    /// The value of one system-config row (`config` table, e.g. privacyIDEA's
    /// `splitAtSign`); `None` if the row does not exist.
    pub fn system_config_value(&self, key: &str) -> Result<Option<String>, StoreError> {
        use crate::schema::config;
        self.read(|c| {
            let v: Option<Option<String>> = config::table
                .filter(config::key.eq(key))
                .select(config::value)
                .first(c)
                .optional()?;
            Ok(v.map(Option::unwrap_or_default))
        })
    }

    // ----- nodes -----

    /// Registers this node (privacyIDEA's start-up `merge`): inserts the
    /// row or updates name and `lastseen` of the same UUID. Does not bump the
    /// configuration version.
    pub fn register_node(
        &self,
        uuid: &str,
        name: &str,
        now: NaiveDateTime,
    ) -> Result<(), StoreError> {
        let now = truncate_micros(now);
        self.write(|c| {
            let n = diesel::update(nodename::table.find(uuid))
                .set((
                    nodename::name.eq(Some(name)),
                    nodename::lastseen.eq(Some(now)),
                ))
                .execute(c)?;
            if n == 0 {
                diesel::insert_into(nodename::table)
                    .values((
                        nodename::id.eq(uuid),
                        nodename::name.eq(Some(name)),
                        nodename::lastseen.eq(Some(now)),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
    }

    /// All nodes, ordered by UUID.
    pub fn list_nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        let mut conn = self.conn()?;
        list_nodes_in(&mut conn)
    }

    // ----- remote privacyIDEA servers -----

    /// All `privacyideaserver` rows in id order.
    pub fn list_remote_servers(&self) -> Result<Vec<RemoteServerRecord>, StoreError> {
        let mut conn = self.conn()?;
        let rows = privacyideaserver::table
            .order(privacyideaserver::id)
            .load(&mut *conn)?;
        Ok(rows.into_iter().map(server_record).collect())
    }

    /// The server definition with exactly this identifier.
    pub fn get_remote_server(
        &self,
        identifier: &str,
    ) -> Result<Option<RemoteServerRecord>, StoreError> {
        let mut conn = self.conn()?;
        let row = privacyideaserver::table
            .filter(privacyideaserver::identifier.eq(identifier))
            .first(&mut *conn)
            .optional()?;
        Ok(row.map(server_record))
    }

    /// Inserts or fully overwrites (`url`, `tls`, `description`) the server
    /// definition `rec.identifier` (its `id` is ignored); returns its id.
    pub fn save_remote_server(&self, rec: &RemoteServerRecord) -> Result<i64, StoreError> {
        let rec = rec.clone();
        self.config_write(move |c| {
            let rec = &rec;
            let n = diesel::update(
                privacyideaserver::table.filter(privacyideaserver::identifier.eq(&rec.identifier)),
            )
            .set((
                privacyideaserver::url.eq(&rec.url),
                privacyideaserver::tls.eq(Some(rec.tls)),
                privacyideaserver::description.eq(Some(&rec.description)),
            ))
            .execute(c)?;
            let id: i32 = if n == 0 {
                {
                    diesel::insert_into(privacyideaserver::table)
                        .values((
                            privacyideaserver::id.eq(new_id(c, "privacyideaserver_seq")),
                            privacyideaserver::identifier.eq(&rec.identifier),
                            privacyideaserver::url.eq(&rec.url),
                            privacyideaserver::tls.eq(Some(rec.tls)),
                            privacyideaserver::description.eq(Some(&rec.description)),
                        ))
                        .execute(c)?;
                    inserted_id(c, "privacyideaserver_seq")?
                }
            } else {
                privacyideaserver::table
                    .filter(privacyideaserver::identifier.eq(&rec.identifier))
                    .select(privacyideaserver::id)
                    .first(c)?
            };
            Ok((i64::from(id), true))
        })
    }

    /// Deletes the server definition with exactly this identifier; returns
    /// its id, `None` if there is none.
    pub fn delete_remote_server(&self, identifier: &str) -> Result<Option<i64>, StoreError> {
        let identifier = identifier.to_owned();
        self.config_write(move |c| {
            let identifier = identifier.as_str();
            let id: Option<i32> = privacyideaserver::table
                .filter(privacyideaserver::identifier.eq(identifier))
                .select(privacyideaserver::id)
                .first(c)
                .optional()?;
            let Some(id) = id else {
                return Ok((None, false));
            };
            diesel::delete(privacyideaserver::table.find(id)).execute(c)?;
            Ok((Some(i64::from(id)), true))
        })
    }

    // ----- local admins -----

    /// All local admins ordered by username.
    pub fn list_admins(&self) -> Result<Vec<AdminRecord>, StoreError> {
        let mut conn = self.conn()?;
        let rows: Vec<(String, Option<String>, Option<String>)> =
            admin::table.order(admin::username).load(&mut *conn)?;
        Ok(rows
            .into_iter()
            .map(|(username, password, email)| AdminRecord {
                username,
                password,
                email,
            })
            .collect())
    }

    /// The admin with exactly this username.
    pub fn get_admin(&self, username: &str) -> Result<Option<AdminRecord>, StoreError> {
        let mut conn = self.conn()?;
        let row: Option<(String, Option<String>, Option<String>)> =
            admin::table.find(username).first(&mut *conn).optional()?;
        Ok(row.map(|(username, password, email)| AdminRecord {
            username,
            password,
            email,
        }))
    }

    /// Inserts or fully overwrites (password, email) an admin. Does not bump
    /// the configuration version.
    pub fn save_admin(&self, rec: &AdminRecord) -> Result<(), StoreError> {
        self.write(|c| {
            let n = diesel::update(admin::table.find(&rec.username))
                .set((
                    admin::password.eq(rec.password.as_deref()),
                    admin::email.eq(rec.email.as_deref()),
                ))
                .execute(c)?;
            if n == 0 {
                diesel::insert_into(admin::table)
                    .values((
                        admin::username.eq(&rec.username),
                        admin::password.eq(rec.password.as_deref()),
                        admin::email.eq(rec.email.as_deref()),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
    }

    /// Deletes an admin; `true` if one was deleted.
    pub fn delete_admin(&self, username: &str) -> Result<bool, StoreError> {
        self.write(|c| Ok(diesel::delete(admin::table.find(username)).execute(c)? > 0))
    }
}
