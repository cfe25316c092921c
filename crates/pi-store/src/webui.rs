//! Read-only views of privacyIDEA tables the WebUI pages around the users
//! need: token owners (`GET /user/?has_tokens=…`, `GET /user/count`), client
//! applications (`GET /client/`) and per-principal WebUI settings
//! (`GET /user/settings`). This server never writes these tables; a table
//! that does not exist reads as empty.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};

use crate::conn::AnyConnection;
use crate::store::count_existing;
use crate::{Store, StoreError};

fn exists(c: &mut AnyConnection, table: &'static str) -> QueryResult<bool> {
    Ok(count_existing(c, &[table])? == 1)
}

/// The text type of a `CAST` on this backend (MySQL casts to `CHAR`).
fn text_type(c: &AnyConnection, len: Option<u32>) -> String {
    match (c, len) {
        (AnyConnection::Mysql(_), _) => "CHAR".to_owned(),
        (_, Some(n)) => format!("VARCHAR({n})"),
        (_, None) => "TEXT".to_owned(),
    }
}

/// The `n`-th bind placeholder (`$n`; MySQL only knows `?`, which binds in
/// order — the queries here use each parameter once, in order).
fn ph(c: &AnyConnection, n: usize) -> String {
    match c {
        AnyConnection::Mysql(_) => "?".to_owned(),
        _ => format!("${n}"),
    }
}

/// One row of `GET /client/`: a client application grouped by ip, hostname
/// and type, with the latest `lastseen` over all nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientApplication {
    /// Client IP address.
    pub ip: String,
    /// Host name, if recorded.
    pub hostname: Option<String>,
    /// Client type (`PAM`, `SAML`, …).
    pub clienttype: String,
    /// Latest time seen, as the database returns it (`YYYY-MM-DD HH:MM:SS[.ffffff]`).
    pub lastseen: Option<String>,
}

/// One custom user attribute (`customuserattribute`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomAttribute {
    /// The user's id in the resolver.
    pub user_id: String,
    /// Resolver name.
    pub resolver: String,
    /// Realm name.
    pub realm: String,
    /// Attribute name.
    pub key: String,
    /// Attribute value.
    pub value: String,
}

/// Whose WebUI settings (privacyIDEA's `SettingsSubject`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsSubject<'a> {
    /// A local admin, by name.
    LocalAdmin(&'a str),
    /// A resolver user, by its stable identity.
    User {
        /// The user id in the resolver.
        user_id: &'a str,
        /// The resolver name.
        resolver: &'a str,
        /// The realm name (looked up to its id).
        realm: &'a str,
    },
}

impl Store {
    /// privacyIDEA's `get_token_owner_keys`: the `(lower-case realm,
    /// resolver, user id)` triples that own a token that is not revoked.
    pub fn token_owner_keys(&self) -> Result<HashSet<(String, String, String)>, StoreError> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Nullable<Text>)]
            realm: Option<String>,
            #[diesel(sql_type = Nullable<Text>)]
            resolver: Option<String>,
            #[diesel(sql_type = Nullable<Text>)]
            user_id: Option<String>,
        }
        self.read(|c| {
            if !exists(c, "tokenowner")? || !exists(c, "token")? {
                return Ok(HashSet::new());
            }
            let rows: Vec<Row> = diesel::sql_query(
                "SELECT realm.name AS realm, tokenowner.resolver AS resolver, \
                 tokenowner.user_id AS user_id FROM tokenowner \
                 JOIN token ON token.id = tokenowner.token_id \
                 LEFT OUTER JOIN realm ON realm.id = tokenowner.realm_id \
                 WHERE token.revoked = false OR token.revoked IS NULL",
            )
            .load(c)?;
            Ok(rows
                .into_iter()
                .map(|r| {
                    (
                        r.realm.unwrap_or_default().to_lowercase(),
                        r.resolver.unwrap_or_default(),
                        r.user_id.unwrap_or_default(),
                    )
                })
                .collect())
        })
    }

    /// privacyIDEA's `get_clientapplication()` rows (grouped by ip,
    /// hostname and client type, latest `lastseen`), in the database's order.
    pub fn client_applications(&self) -> Result<Vec<ClientApplication>, StoreError> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            ip: String,
            #[diesel(sql_type = Nullable<Text>)]
            hostname: Option<String>,
            #[diesel(sql_type = Text)]
            clienttype: String,
            #[diesel(sql_type = Nullable<Text>)]
            lastseen: Option<String>,
        }
        self.read(|c| {
            if !exists(c, "clientapplication")? {
                return Ok(Vec::new());
            }
            let rows: Vec<Row> = diesel::sql_query(format!(
                "SELECT ip, hostname, clienttype, CAST(MAX(lastseen) AS {}) AS lastseen \
                 FROM clientapplication GROUP BY ip, hostname, clienttype",
                text_type(c, Some(64))
            ))
            .load(c)?;
            Ok(rows
                .into_iter()
                .map(|r| ClientApplication {
                    ip: r.ip,
                    hostname: r.hostname,
                    clienttype: r.clienttype,
                    lastseen: r.lastseen,
                })
                .collect())
        })
    }

    /// The stored WebUI settings document of a principal (JSON text), or
    /// `None` when nothing is stored (or the table does not exist).
    pub fn user_settings(
        &self,
        subject: &SettingsSubject<'_>,
    ) -> Result<Option<String>, StoreError> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Nullable<Text>)]
            settings: Option<String>,
        }
        let subject = subject.clone();
        self.read(move |c| {
            if !exists(c, "usersetting")? {
                return Ok(None);
            }
            let text = text_type(c, None);
            let (p1, p2, p3) = (ph(c, 1), ph(c, 2), ph(c, 3));
            let rows: Vec<Row> = match subject {
                SettingsSubject::LocalAdmin(name) => diesel::sql_query(format!(
                    "SELECT CAST(settings AS {text}) AS settings FROM usersetting \
                     WHERE subject_type = 'local_admin' AND username = {p1} ORDER BY id"
                ))
                .bind::<Text, _>(name)
                .load(c)?,
                SettingsSubject::User {
                    user_id,
                    resolver,
                    realm,
                } => diesel::sql_query(format!(
                    "SELECT CAST(usersetting.settings AS {text}) AS settings FROM usersetting \
                     JOIN realm ON realm.id = usersetting.realm_id \
                     WHERE usersetting.subject_type = 'user' AND usersetting.user_id = {p1} \
                     AND usersetting.resolver = {p2} AND realm.name = {p3} ORDER BY usersetting.id"
                ))
                .bind::<Text, _>(user_id)
                .bind::<Text, _>(resolver)
                .bind::<Text, _>(realm)
                .load(c)?,
            };
            Ok(rows.into_iter().next().and_then(|r| r.settings))
        })
    }

    /// All custom user attributes (privacyIDEA's `customuserattribute`), id
    /// order; empty when the table does not exist (`is_attribute_at_all` is
    /// then false).
    pub fn custom_user_attributes(&self) -> Result<Vec<CustomAttribute>, StoreError> {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = Nullable<Text>)]
            user_id: Option<String>,
            #[diesel(sql_type = Nullable<Text>)]
            resolver: Option<String>,
            #[diesel(sql_type = Nullable<Text>)]
            realm: Option<String>,
            #[diesel(sql_type = Nullable<Text>)]
            key: Option<String>,
            #[diesel(sql_type = Nullable<Text>)]
            value: Option<String>,
        }
        self.read(|c| {
            if !exists(c, "customuserattribute")? {
                return Ok(Vec::new());
            }
            let rows: Vec<Row> = diesel::sql_query(
                "SELECT a.user_id AS user_id, a.resolver AS resolver, realm.name AS realm, \
                 a.\"Key\" AS \"key\", a.\"Value\" AS \"value\" FROM customuserattribute a \
                 LEFT OUTER JOIN realm ON realm.id = a.realm_id ORDER BY a.id",
            )
            .load(c)?;
            Ok(rows
                .into_iter()
                .map(|r| CustomAttribute {
                    user_id: r.user_id.unwrap_or_default(),
                    resolver: r.resolver.unwrap_or_default(),
                    realm: r.realm.unwrap_or_default(),
                    key: r.key.unwrap_or_default(),
                    value: r.value.unwrap_or_default(),
                })
                .collect())
        })
    }
}
