#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod audit;
mod conn;
mod error;
mod group;
mod internal;
mod other;
mod policy;
mod realm;
mod resolver;
mod schema;
mod store;
pub mod testing;
mod tokens;
mod uri;
mod version;
mod webui;

pub use audit::{
    python_datetime, python_isoformat, python_timedelta, python_total_seconds, truncate_comma_list,
    AuditPage, AuditQuery, AuditRecord, AuditSigner, AUDIT_COLUMN_LENGTH,
};
pub use conn::AnyConnection;
pub use error::{RenameError, SaveResolverError, SetRealmError, StoreError};
pub use other::ConfigSnapshot;
pub use policy::{column_matches, place_written_policy, NullsOrder, PolicyFilter};
pub use realm::{DeleteRealmOutcome, SetRealmOutcome};
pub use resolver::{DeleteResolverOutcome, ResolverConfigChange};
pub use store::{
    ConfigVersion, PoolStats, Store, StoreOptions, VersionStep, CONFIG_VERSION_KEY,
    PRIVACYIDEA_TIMESTAMP_KEY,
};
pub use tokens::Owner;
pub use uri::{normalize_sqlite_uri, parse_database_uri, Backend, DatabaseUrl};
pub use version::{etag_of, ObjectKind, Precondition};
pub use webui::{ClientApplication, CustomAttribute, SettingsSubject};

/// The raw record types this crate reads and writes (from `pi-model`).
pub use pi_model::record;
