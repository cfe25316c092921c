//! Error types of the store.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Any failure of a store operation that is not a typed outcome.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached right now (pool checkout timed out,
    /// connection refused or lost, SQLite busy for longer than the busy
    /// timeout). The server answers 503; retrying later may succeed.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database failure (constraint violation, bad SQL, …).
    #[error("database error: {0}")]
    Database(#[source] DieselError),
    /// The URI names a backend this crate does not support (yet).
    #[error("database backend `{0}` is not supported yet")]
    UnsupportedBackend(String),
    /// The URI could not be understood.
    #[error("invalid database uri `{uri}`: {reason}")]
    InvalidUri {
        /// The URI with its password removed.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An `If-Match` precondition of a configuration write failed: the
    /// object was changed (or deleted) since the writer read it. Nothing was
    /// written.
    #[error("{kind} `{name}` was changed by another writer (precondition failed)")]
    PreconditionFailed {
        /// The object's kind.
        kind: crate::ObjectKind,
        /// Its name.
        name: String,
        /// Its current version (`None`: it does not exist).
        current: Option<String>,
    },
    /// A stored value does not fit the type this crate expects (for example
    /// an id beyond the 32-bit column range or a non-numeric config version).
    #[error("invalid data: {0}")]
    InvalidData(String),
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        if is_unavailable(&e) {
            // the connection this came from may be dead: not back into the pool
            crate::conn::note_connection_error();
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Database(e)
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// Whether a diesel error means "the database is not reachable / busy" rather
/// than "this statement is wrong".
fn is_unavailable(e: &DieselError) -> bool {
    match e {
        // A connection lost during COMMIT, whose rollback then fails too
        // (MariaDB killed under load), or a transaction manager left broken
        // by such a loss: the database went away, the statement was fine.
        DieselError::RollbackErrorOnCommit {
            rollback_error,
            commit_error,
        } => is_unavailable(commit_error) || is_unavailable(rollback_error),
        DieselError::BrokenTransactionManager => true,
        DieselError::DatabaseError(kind, info) => {
            matches!(
                kind,
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand
            ) || {
                // (case-insensitive: libmysqlclient says "MySQL server has
                // gone away", MariaDB Connector/C "Server has gone away")
                let msg = info.message().to_ascii_lowercase();
                [
                    "database is locked",
                    "server closed the connection",
                    "terminating connection",
                    "connection to server",
                    "server has gone away",
                    "lost connection to",
                    "can't connect to",
                    "server shutdown in progress",
                    "connection was killed",
                    "lock wait timeout exceeded",
                    "deadlock found",
                    "commands out of sync",
                ]
                .iter()
                .any(|p| msg.contains(p))
            }
        }
        _ => false,
    }
}

/// Failure of [`crate::Store::rename_policy`].
#[derive(Debug, thiserror::Error)]
pub enum RenameError {
    /// No policy has the old name.
    #[error("policy `{0}` does not exist")]
    NotFound(String),
    /// A policy with the new name exists already.
    #[error("policy `{0}` already exists")]
    Exists(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Failure of [`crate::Store::set_realm`].
#[derive(Debug, thiserror::Error)]
pub enum SetRealmError {
    /// The same resolver was given twice for the same node. privacyIDEA hits
    /// its unique constraint `rrix_2` here and answers 500; we refuse the whole
    /// write cleanly instead (nothing is changed).
    #[error("resolver `{resolver}` is given twice for node `{node}`")]
    DuplicateAssignment {
        /// Resolver name.
        resolver: String,
        /// Node UUID (`""` = all nodes).
        node: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Failure of [`crate::Store::save_resolver`].
#[derive(Debug, thiserror::Error)]
pub enum SaveResolverError {
    /// A resolver whose name equals the given one case-insensitively exists
    /// with another type; carries the stored name.
    #[error("resolver with similar name and other type already exists: `{0}`")]
    TypeMismatch(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

macro_rules! from_diesel_via_store {
    ($($t:ty),*) => {$(
        impl From<DieselError> for $t {
            fn from(e: DieselError) -> Self {
                <$t>::Store(StoreError::from(e))
            }
        }
    )*};
}
from_diesel_via_store!(RenameError, SetRealmError, SaveResolverError);

#[cfg(test)]
mod tests {
    use super::*;

    fn db(msg: &str) -> DieselError {
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(msg.to_string()))
    }

    #[test]
    fn lost_connections_are_unavailable() {
        assert!(is_unavailable(&db(
            "Lost connection to server during query"
        )));
        assert!(!is_unavailable(&db("Unknown column 'x' in 'field list'")));
        // Seen when MariaDB is killed during a COMMIT under load: must be a
        // 503, not a 500.
        let e = DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(db("Server has gone away")),
            commit_error: Box::new(db("Lost connection to server during query")),
        };
        assert!(matches!(StoreError::from(e), StoreError::Unavailable(_)));
        assert!(is_unavailable(&DieselError::BrokenTransactionManager));
    }
}
