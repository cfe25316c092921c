//! Plain records that mirror privacyIDEA's tables one to one.
//!
//! These are what `pi-store` reads and writes. They carry no validation: a
//! database written by privacyIDEA itself may hold anything its columns allow.
//! Validated domain types (for example [`crate::policy`]) are built from them.

use serde::{Deserialize, Serialize};

/// One row of `policy` with its `policycondition` rows and its `description` row.
///
/// List columns (`realm`, `user`, …) are kept as the raw stored string
/// (privacyIDEA joins lists with `", "`); `None` stands for SQL `NULL`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PolicyRecord {
    /// `policy.id`; `0` for a record that was not stored yet.
    pub id: i64,
    /// `policy.name` (unique).
    pub name: String,
    /// `policy.scope`.
    pub scope: String,
    /// `policy.active` (`NULL` is read as `true`, the column default).
    pub active: bool,
    /// `policy.check_all_resolvers` (`NULL` read as `false`).
    pub check_all_resolvers: bool,
    /// `policy.user_case_insensitive` (`NULL` read as `false`).
    pub user_case_insensitive: bool,
    /// `policy.action`, the raw action string.
    pub action: String,
    /// `policy.realm`, raw comma list.
    pub realm: String,
    /// `policy.adminrealm`, raw comma list.
    pub adminrealm: String,
    /// `policy.adminuser`, raw comma list.
    pub adminuser: String,
    /// `policy.resolver`, raw comma list.
    pub resolver: String,
    /// `policy.pinode`, raw comma list (eduMFA: `edumfanode`).
    pub pinode: String,
    /// `policy.user`, raw comma list.
    pub user: String,
    /// `policy.client`, raw comma list.
    pub client: String,
    /// `policy.time`, raw time-range string.
    pub time: String,
    /// `policy.user_agents`, raw comma list.
    pub user_agents: String,
    /// `policy.priority`.
    pub priority: i64,
    /// `policycondition` rows in id order.
    pub conditions: Vec<ConditionRecord>,
    /// `description.description` of the policy's description row.
    pub description: Option<String>,
}

/// One row of `policycondition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConditionRecord {
    /// `section`.
    pub section: String,
    /// `Key`.
    pub key: String,
    /// `comparator`.
    pub comparator: String,
    /// `Value`.
    pub value: String,
    /// `active`.
    pub active: bool,
    /// `handle_missing_data` (`NULL` means `raise_error`).
    pub handle_missing_data: Option<String>,
}

/// One row of `realm` with its `resolverrealm` rows (DB order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RealmRecord {
    /// `realm.id`.
    pub id: i64,
    /// `realm.name` (stored lower-case by privacyIDEA).
    pub name: String,
    /// `realm.default` (`NULL` read as `false`).
    pub default: bool,
    /// The realm's resolver assignments in DB (id) order.
    pub resolvers: Vec<RealmResolverRecord>,
}

/// One `resolverrealm` row joined with its resolver's name and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RealmResolverRecord {
    /// `resolver.name`.
    pub name: String,
    /// `resolver.rtype`.
    pub rtype: String,
    /// `resolverrealm.priority` (`NULL` = unset, treated as 1000 when ordering).
    pub priority: Option<i64>,
    /// `resolverrealm.node_uuid`: `Some("")` = all nodes, `None` = SQL `NULL`
    /// (rows migrated from privacyIDEA < 3.10, also "all nodes").
    pub node: Option<String>,
}

/// One assignment to write into `resolverrealm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RealmResolverAssignment {
    /// Resolver name (exact).
    pub name: String,
    /// Priority; `None` stores `NULL`.
    pub priority: Option<i64>,
    /// Node UUID; `""` = all nodes.
    pub node: String,
}

/// One row of `resolver` with its `resolverconfig` rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ResolverRecord {
    /// `resolver.id`.
    pub id: i64,
    /// `resolver.name`.
    pub name: String,
    /// `resolver.rtype`.
    pub rtype: String,
    /// `resolverconfig` rows in id order.
    pub config: Vec<ResolverConfigRecord>,
}

/// One row of `resolverconfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ResolverConfigRecord {
    /// `Key`.
    pub key: String,
    /// `Value` (password-typed values are stored encrypted).
    pub value: Option<String>,
    /// `Type` (`string`, `int`, `bool`, `password`, …).
    pub typ: Option<String>,
    /// `Description`.
    pub description: Option<String>,
}

/// One row of `nodename`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NodeRecord {
    /// `nodename.id`, the node UUID as a string.
    pub uuid: String,
    /// `nodename.name`.
    pub name: String,
    /// `nodename.lastseen` (UTC, naive).
    pub lastseen: Option<chrono::NaiveDateTime>,
}

/// One row of `privacyideaserver`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RemoteServerRecord {
    /// `id`.
    pub id: i64,
    /// `identifier` (unique).
    pub identifier: String,
    /// `url`.
    pub url: String,
    /// `tls` (verify the certificate; `NULL` read as `false`).
    pub tls: bool,
    /// `description` (`NULL` read as `""`).
    pub description: String,
}

/// One row of `admin`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AdminRecord {
    /// `username` (primary key).
    pub username: String,
    /// `password`: a passlib-style hash string.
    pub password: Option<String>,
    /// `email`.
    pub email: Option<String>,
}

/// One change of a resolver's configuration (`pi-store`'s `save_resolver`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolverConfigChange {
    /// Create or overwrite the row `key`. `typ`/`description` `None` store
    /// `""` (privacyIDEA overwrites both on every save, defaulting to `""`).
    Set {
        /// `Key`.
        key: String,
        /// `Value` (already encrypted if password-typed).
        value: String,
        /// `Type`.
        typ: Option<String>,
        /// `Description`.
        description: Option<String>,
    },
    /// Delete the row `key` (if any).
    Delete {
        /// `Key`.
        key: String,
    },
}
