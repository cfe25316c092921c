//! Connections: one diesel connection type for all backends, and the r2d2
//! manager that opens the right variant.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, MysqlConnection, PgConnection, SqliteConnection};

use crate::uri::{with_connect_timeout, DatabaseUrl};

/// A connection to one of the backends.
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
    /// MariaDB / MySQL.
    Mysql(MysqlConnection),
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
    /// Whole seconds of the checkout timeout (at least 1): also the longest
    /// a statement waits for a lock on PostgreSQL and MariaDB/MySQL.
    lock_timeout_secs: u64,
}

impl ConnManager {
    pub(crate) fn new(url: DatabaseUrl, connect_timeout: Duration) -> Self {
        let pg_url = match &url {
            DatabaseUrl::Postgres(u) => with_connect_timeout(u, connect_timeout.as_secs().max(1)),
            DatabaseUrl::Sqlite(_) | DatabaseUrl::Mysql(_) => String::new(),
        };
        ConnManager {
            url,
            pg_url,
            lock_timeout_secs: connect_timeout.as_secs_f64().ceil().max(1.0) as u64,
        }
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
            DatabaseUrl::Postgres(_) => {
                let mut c = PgConnection::establish(&self.pg_url)?;
                c.batch_execute(&format!("SET lock_timeout = '{}s'", self.lock_timeout_secs))?;
                Ok(AnyConnection::Postgres(c))
            }
            DatabaseUrl::Mysql(u) => {
                let mut c = MysqlConnection::establish(u)?;
                let n = self.lock_timeout_secs;
                c.batch_execute(&format!(
                    "{MYSQL_SESSION}; SET SESSION lock_wait_timeout = {n}, innodb_lock_wait_timeout = {n}"
                ))?;
                note_mysql_flavor(&mut c)?;
                Ok(AnyConnection::Mysql(c))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), ConnError> {
        conn.batch_execute("SELECT 1").map_err(ConnError::from)
    }

    /// Connections are not tested at checkout (that would cost every store
    /// call a `SELECT 1` round trip on PostgreSQL and MariaDB); instead one
    /// that saw a connection-level error (see [`note_connection_error`]) is
    /// dropped when it goes back, so after a database restart each dead
    /// pooled connection fails at most one call.
    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        use diesel::connection::TransactionManager;
        CONNECTION_ERROR.with(|f| f.replace(false))
            || <AnyConnection as Connection>::TransactionManager::is_broken_transaction_manager(
                conn,
            )
    }
}

thread_local! {
    /// A store call on this thread saw a connection-level error since its
    /// connection was checked out.
    static CONNECTION_ERROR: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Marks the connection in use on this thread as possibly dead.
pub(crate) fn note_connection_error() {
    CONNECTION_ERROR.with(|f| f.set(true));
}

/// Forgets a mark left from an earlier call (at checkout).
pub(crate) fn clear_connection_error() {
    CONNECTION_ERROR.with(|f| f.set(false));
}

/// Session settings of every MariaDB/MySQL connection (diesel itself sets
/// `utf8mb4` and `time_zone = '+00:00'`):
///
/// * `ANSI_QUOTES`: `"Key"` is an identifier, as on the other backends (the
///   raw SQL of this crate quotes privacyIDEA's capitalised column names that
///   way; diesel's own queries use backticks, which still work);
/// * `STRICT_TRANS_TABLES`: an over-long value is an error, never silently
///   truncated;
/// * `READ COMMITTED`: a configuration write that waited for the config lock
///   reads what the writer before it committed;
///
/// and (added at connect) lock waits no longer than the checkout timeout: a
/// statement blocked by another session's lock fails with "lock wait timeout
/// exceeded" (503) instead of holding its request and its connection.
pub(crate) const MYSQL_SESSION: &str = "SET SESSION sql_mode = \
     CONCAT_WS(',', @@SESSION.sql_mode, 'ANSI_QUOTES', 'STRICT_TRANS_TABLES'); \
     SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";

/// Whether the MySQL-protocol server is MariaDB (which has SEQUENCEs, and
/// privacyIDEA's tables there take their ids from them) or MySQL
/// (AUTO_INCREMENT ids): 0 = not known yet, 1 = MariaDB, 2 = MySQL. Learnt
/// from `VERSION()` at every connect.
static MYSQL_FLAVOR: AtomicU8 = AtomicU8::new(0);

fn note_mysql_flavor(c: &mut MysqlConnection) -> Result<(), ConnError> {
    #[derive(diesel::QueryableByName)]
    struct V {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    use diesel::RunQueryDsl;
    let rows: Vec<V> = diesel::sql_query("SELECT VERSION() AS v").load(c)?;
    let mariadb = rows.iter().any(|r| r.v.contains("MariaDB"));
    MYSQL_FLAVOR.store(if mariadb { 1 } else { 2 }, Ordering::Relaxed);
    Ok(())
}

/// Whether the MySQL-protocol server uses SEQUENCEs for ids (MariaDB; also
/// the assumption before the first connection).
pub(crate) fn mysql_has_sequences() -> bool {
    MYSQL_FLAVOR.load(Ordering::Relaxed) != 2
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
