//! Connections: one diesel connection type for both backends, and the r2d2
//! manager that opens the right variant.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::uri::{with_connect_timeout, DatabaseUrl};

/// A connection to either backend.
///
/// `#[derive(MultiConnection)]` generates a diesel backend (`MultiBackend`)
/// that renders every query for the backend of the live connection, so each
/// query is written once.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL.
    Postgres(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

/// r2d2 manager that opens connections for one [`DatabaseUrl`].
///
/// The generic `MultiConnection::establish` would try every backend in turn
/// (and happily create a SQLite *file* named like a PostgreSQL URL), so the
/// backend is chosen from the parsed URL instead.
#[derive(Debug)]
pub(crate) struct ConnManager {
    url: DatabaseUrl,
    pg_url: String,
}

impl ConnManager {
    pub(crate) fn new(url: DatabaseUrl, connect_timeout: Duration) -> Self {
        let pg_url = match &url {
            DatabaseUrl::Postgres(u) => with_connect_timeout(u, connect_timeout.as_secs().max(1)),
            DatabaseUrl::Sqlite(_) => String::new(),
        };
        ConnManager { url, pg_url }
    }
}

/// Error of [`ConnManager`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnError {
    #[error("cannot connect: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("cannot set up connection: {0}")]
    Query(#[from] diesel::result::Error),
}

impl r2d2::ManageConnection for ConnManager {
    type Connection = AnyConnection;
    type Error = ConnError;

    fn connect(&self) -> Result<AnyConnection, ConnError> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                Ok(AnyConnection::Sqlite(SqliteConnection::establish(&path)?))
            }
            DatabaseUrl::Postgres(_) => Ok(AnyConnection::Postgres(PgConnection::establish(
                &self.pg_url,
            )?)),
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), ConnError> {
        conn.batch_execute("SELECT 1").map_err(ConnError::from)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::connection::TransactionManager;
        <AnyConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// Sets the per-connection SQLite pragmas (WAL, busy timeout, foreign keys).
#[derive(Debug)]
pub(crate) struct SqlitePragmas {
    pub(crate) busy_timeout: Duration,
}

impl r2d2::CustomizeConnection<AnyConnection, ConnError> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut AnyConnection) -> Result<(), ConnError> {
        if let AnyConnection::Sqlite(c) = conn {
            // busy_timeout first: switching to WAL needs a (short) lock.
            c.batch_execute(&format!(
                "PRAGMA busy_timeout = {};",
                self.busy_timeout.as_millis()
            ))?;
            c.batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )?;
        }
        Ok(())
    }
}
