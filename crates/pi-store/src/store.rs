//! The [`Store`]: pool, schema, transactions and the configuration version.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Integer;

use crate::conn::{AnyConnection, ConnError, ConnManager, SqlitePragmas};
use crate::schema::config;
use crate::uri::{parse_database_uri, Backend, DatabaseUrl};
use crate::StoreError;

/// Key of pi-store's configuration counter in privacyIDEA's `config` table.
pub const CONFIG_VERSION_KEY: &str = "__rs_config_version__";
/// Key of privacyIDEA's own configuration timestamp in `config`.
pub const PRIVACYIDEA_TIMESTAMP_KEY: &str = "__timestamp__";

const SQLITE_SCHEMA: &[&str] = &[include_str!("sql/sqlite/0001_core.sql")];
/// Every table, index and sequence the schema files create: when all exist,
/// `ensure_schema` runs no DDL at all (a database user without `CREATE`
/// rights can then use a privacyIDEA database as it is).
const SCHEMA_OBJECTS: &[&str] = &[
    "admin",
    "config",
    "description",
    "nodename",
    "policy",
    "policycondition",
    "privacyideaserver",
    "realm",
    "resolver",
    "resolverconfig",
    "resolverrealm",
    "ix_nodename_lastseen",
    "ix_nodename_name",
];
const POSTGRES_SEQUENCES: &[&str] = &[
    "description_seq",
    "policy_seq",
    "policycondition_seq",
    "privacyideaserver_seq",
    "realm_seq",
    "resolver_seq",
    "resolverconf_seq",
    "resolverrealm_seq",
];
const POSTGRES_SCHEMA: &[&str] = &[include_str!("sql/postgresql/0001_core.sql")];
const MARIADB_SCHEMA: &[&str] = &[include_str!("sql/mysql/0001_core_mariadb.sql")];
const MYSQL_SCHEMA: &[&str] = &[include_str!("sql/mysql/0001_core_mysql.sql")];
/// `GET_LOCK` name that serialises concurrent schema creation on MariaDB/MySQL.
const MYSQL_SCHEMA_LOCK: &str = "pi_store_schema";
/// `pg_advisory_xact_lock` key that serialises concurrent schema creation.
const SCHEMA_LOCK_KEY: i64 = 0x7069_5f73_746f_7265; // "pi_store"

/// Options of [`Store::open`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreOptions {
    /// How long a pool checkout (including connecting) may take before the
    /// operation fails with [`StoreError::Unavailable`]. Default 3 s.
    pub connection_timeout: Duration,
    /// Maximum number of pooled connections. Default 8.
    pub max_connections: u32,
    /// Idle connections the pool keeps open. Default 1.
    pub min_idle: u32,
    /// SQLite `busy_timeout`: how long a statement waits for another
    /// writer's lock. Default 5 s.
    pub sqlite_busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            connection_timeout: Duration::from_secs(3),
            max_connections: 8,
            min_idle: 1,
            sqlite_busy_timeout: Duration::from_millis(5000),
        }
    }
}

impl StoreOptions {
    /// Sets [`StoreOptions::connection_timeout`].
    pub fn with_connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// Sets [`StoreOptions::max_connections`] (at least 1).
    pub fn with_max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// Sets [`StoreOptions::min_idle`].
    pub fn with_min_idle(mut self, n: u32) -> Self {
        self.min_idle = n;
        self
    }

    /// Sets [`StoreOptions::sqlite_busy_timeout`].
    pub fn with_sqlite_busy_timeout(mut self, timeout: Duration) -> Self {
        self.sqlite_busy_timeout = timeout;
        self
    }
}

/// The configuration version: changes whenever the configuration (policies,
/// realms, resolvers, remote servers) was written — by pi-store (both values
/// change) or by privacyIDEA (only `timestamp` changes).
///
/// Compare the whole value for (in)equality; neither field is a clock.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ConfigVersion {
    /// pi-store's counter (`config.__rs_config_version__`); `0` before the
    /// first write.
    pub version: i64,
    /// privacyIDEA's `config.__timestamp__` value (a Unix time as Python
    /// prints a float, e.g. `"1732390000.123456"`); `None` if absent.
    pub timestamp: Option<String>,
}

/// The configuration version right before and right after one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionStep {
    /// The version the write started from.
    pub before: ConfigVersion,
    /// The version the write produced.
    pub after: ConfigVersion,
}

/// Handle to the database: a connection pool plus the schema state. Cheap to
/// clone; all clones share the pool. Every method is blocking.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: r2d2::Pool<ConnManager>,
    url: DatabaseUrl,
    schema_ready: AtomicBool,
    waiting: AtomicUsize,
    timeouts: AtomicU64,
    /// [`StoreOptions::connection_timeout`].
    checkout_timeout: Duration,
    /// [`StoreOptions::sqlite_busy_timeout`].
    sqlite_busy_timeout: Duration,
    /// Configuration writes, committed in groups.
    group: crate::group::GroupCommit,
    /// SQLite only: this process's write transactions take turns here
    /// instead of in SQLite's busy handler (see [`WriterLock`]).
    sqlite_writer: WriterLock,
}

/// The write lock of an SQLite store inside this process.
///
/// SQLite allows one writer at a time; a second one gets `SQLITE_BUSY` and
/// its busy handler *sleeps* (1, 2, 5, 10 … ms) before it tries again,
/// however soon the lock is free. Write transactions of one store (the
/// configuration batches of `group.rs`, the audit writer, admin and node
/// writes) therefore queue here first and are woken the moment the previous
/// one ends; the busy handler is left for writers of other processes.
#[derive(Default)]
pub(crate) struct WriterLock {
    busy: std::sync::Mutex<bool>,
    free: std::sync::Condvar,
}

/// Held while an SQLite write transaction runs.
pub(crate) struct WriterGuard<'a>(Option<&'a WriterLock>);

impl WriterLock {
    /// Waits until no other write transaction of this process runs (at most
    /// until `deadline`: then [`StoreError::Unavailable`]).
    fn acquire(&self, deadline: Instant) -> Result<WriterGuard<'_>, StoreError> {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        while *busy {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::Unavailable(
                    "database is locked by another write".to_owned(),
                ));
            }
            busy = self
                .free
                .wait_timeout(busy, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        *busy = true;
        Ok(WriterGuard(Some(self)))
    }
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        if let Some(lock) = self.0 {
            *lock.busy.lock().unwrap_or_else(|p| p.into_inner()) = false;
            lock.free.notify_one();
        }
    }
}

/// The connection pool's state, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections (idle and in use).
    pub connections: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The pool's maximum size.
    pub max_size: u32,
    /// Callers waiting for a connection right now.
    pub waiting: usize,
    /// Checkouts that failed (timeout or connection error) since the start.
    pub timeouts: u64,
}

thread_local! {
    /// The deadline of the store calls on this thread (see
    /// [`Store::with_deadline`]).
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Restores the previous deadline when dropped.
struct RestoreDeadline(Option<Instant>);

impl Drop for RestoreDeadline {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.0));
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("url", &self.inner.url)
            .field(
                "schema_ready",
                &self.inner.schema_ready.load(Ordering::Relaxed),
            )
            .finish()
    }
}

/// Logs failed background connection attempts at `warn` (the default
/// handler logs at `error` on every retry while the database is down).
#[derive(Debug)]
struct WarnOnError;

impl r2d2::HandleError<ConnError> for WarnOnError {
    fn handle_error(&self, error: ConnError) {
        log::warn!("database connection attempt failed: {error}");
    }
}

pub(crate) type PooledConn = r2d2::PooledConnection<ConnManager>;

/// A pooled connection. When the caller had to wait for it and has less
/// time left than a lock wait may take, the connection's lock wait is
/// shortened to what is left (so waiting for the pool and then for a lock
/// stays within one budget) and restored when the connection goes back.
pub(crate) struct Conn {
    inner: PooledConn,
    restore: Option<Duration>,
}

impl std::ops::Deref for Conn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(full) = self.restore {
            let _ = set_lock_wait(&mut self.inner, full);
        }
    }
}

/// Sets how long a statement of this connection waits for a lock (whole
/// seconds, rounded down, on MariaDB/MySQL: `0` is "do not wait" on MariaDB,
/// MySQL raises it to its minimum, 1).
fn set_lock_wait(c: &mut AnyConnection, wait: Duration) -> Result<(), StoreError> {
    match c {
        AnyConnection::Postgres(pg) => pg.batch_execute(&format!(
            "SET lock_timeout = '{}ms'",
            wait.as_millis().max(1)
        ))?,
        AnyConnection::Mysql(my) => {
            let n = wait.as_secs();
            my.batch_execute(&format!(
                "SET SESSION lock_wait_timeout = {n}, innodb_lock_wait_timeout = {n}"
            ))?
        }
        AnyConnection::Sqlite(lite) => {
            lite.batch_execute(&format!("PRAGMA busy_timeout = {}", wait.as_millis()))?
        }
    }
    Ok(())
}

impl Store {
    /// Opens a store for a SQLAlchemy URI (see [`parse_database_uri`]).
    ///
    /// Does not connect: the pool is built unchecked so a server can start
    /// while its database is down. The first operation that needs the
    /// database connects (or fails with [`StoreError::Unavailable`] after
    /// [`StoreOptions::connection_timeout`]) and creates missing tables.
    pub fn open(uri: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let url = parse_database_uri(uri)?;
        let manager = ConnManager::new(url.clone(), options.connection_timeout);
        let max = options.max_connections.max(1);
        let pool = r2d2::Pool::builder()
            .max_size(max)
            .min_idle(Some(options.min_idle.min(max)))
            .connection_timeout(options.connection_timeout)
            .test_on_check_out(false)
            .error_handler(Box::new(WarnOnError))
            .connection_customizer(Box::new(SqlitePragmas {
                busy_timeout: options.sqlite_busy_timeout,
            }))
            .build_unchecked(manager);
        Ok(Store {
            inner: Arc::new(Inner {
                pool,
                url,
                schema_ready: AtomicBool::new(false),
                waiting: AtomicUsize::new(0),
                timeouts: AtomicU64::new(0),
                checkout_timeout: options.connection_timeout,
                sqlite_busy_timeout: options.sqlite_busy_timeout,
                group: crate::group::GroupCommit::default(),
                sqlite_writer: WriterLock::default(),
            }),
        })
    }

    /// The backend of this store.
    pub fn backend(&self) -> Backend {
        self.inner.url.backend()
    }

    /// The parsed database URL (print it with `Display`: the password is
    /// redacted).
    pub fn database_url(&self) -> &DatabaseUrl {
        &self.inner.url
    }

    /// The pool's current state.
    pub fn pool_stats(&self) -> PoolStats {
        let state = self.inner.pool.state();
        PoolStats {
            connections: state.connections,
            idle: state.idle_connections,
            max_size: self.inner.pool.max_size(),
            waiting: self.inner.waiting.load(Ordering::Relaxed),
            timeouts: self.inner.timeouts.load(Ordering::Relaxed),
        }
    }

    /// [`StoreOptions::connection_timeout`]: the longest a store call waits
    /// for a connection.
    pub fn checkout_timeout(&self) -> Duration {
        self.inner.checkout_timeout
    }

    /// Runs `f` (store calls on this thread) with a deadline for all their
    /// waits for a connection together: each checkout waits at most until
    /// `deadline` (and never longer than the checkout timeout), so a caller
    /// that makes several store calls for one request — a version check,
    /// then a write — waits for the database at most once in total. `None`:
    /// each call may wait the whole checkout timeout.
    pub fn with_deadline<T>(&self, deadline: Option<Instant>, f: impl FnOnce(&Store) -> T) -> T {
        let prev = DEADLINE.with(|d| d.replace(deadline));
        let _restore = RestoreDeadline(prev);
        f(self)
    }

    /// When the current call's waits for a connection end.
    pub(crate) fn deadline(&self) -> Instant {
        let own = Instant::now() + self.inner.checkout_timeout;
        match DEADLINE.with(Cell::get) {
            Some(d) => d.min(own),
            None => own,
        }
    }

    /// A pooled connection, waiting at most until `deadline` (default:
    /// [`Store::deadline`]); with the schema in place.
    pub(crate) fn conn_until(&self, deadline: Option<Instant>) -> Result<Conn, StoreError> {
        let deadline = deadline.unwrap_or_else(|| self.deadline());
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(self.inner.checkout_timeout);
        let mut conn = Conn {
            inner: self.checkout(wait)?,
            restore: None,
        };
        crate::conn::clear_connection_error();
        let full = match *conn {
            AnyConnection::Sqlite(_) => self.inner.sqlite_busy_timeout,
            // as set at connect (whole seconds, see `ConnManager`)
            AnyConnection::Postgres(_) | AnyConnection::Mysql(_) => {
                Duration::from_secs(self.inner.checkout_timeout.as_secs_f64().ceil().max(1.0) as u64)
            }
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left + Duration::from_millis(200) < full.min(self.inner.checkout_timeout) {
            set_lock_wait(&mut conn, left)?;
            conn.restore = Some(full);
        }
        if !self.inner.schema_ready.load(Ordering::Acquire) {
            self.ensure_schema_on(&mut conn)?;
        }
        Ok(conn)
    }

    /// Checks that the database answers (`SELECT 1`).
    pub fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn_raw()?;
        conn.batch_execute("SELECT 1")?;
        Ok(())
    }

    /// Creates the tables (and, on PostgreSQL, the id sequences) that are
    /// missing; existing ones are left exactly as they are.
    ///
    /// Runs its DDL at most once per store: after the first success further
    /// calls return at once. Every other operation calls it lazily, so a
    /// store opened while the database was down creates its schema on first
    /// successful use.
    pub fn ensure_schema(&self) -> Result<(), StoreError> {
        if self.inner.schema_ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut conn = self.conn_raw()?;
        self.ensure_schema_on(&mut conn)
    }

    fn ensure_schema_on(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        let with_sequences = match conn {
            AnyConnection::Postgres(_) => true,
            AnyConnection::Sqlite(_) => false,
            AnyConnection::Mysql(_) => crate::conn::mysql_has_sequences(),
        };
        let expected = SCHEMA_OBJECTS.len()
            + if with_sequences {
                POSTGRES_SEQUENCES.len()
            } else {
                0
            };
        let present = count_existing(conn, SCHEMA_OBJECTS)?
            + if with_sequences {
                count_existing(conn, POSTGRES_SEQUENCES)?
            } else {
                0
            };
        if present == expected {
            self.inner.schema_ready.store(true, Ordering::Release);
            return Ok(());
        }
        if let AnyConnection::Mysql(_) = conn {
            // DDL commits implicitly on MariaDB/MySQL: no transaction, a
            // named lock instead; every statement is IF NOT EXISTS.
            let files = if with_sequences {
                MARIADB_SCHEMA
            } else {
                MYSQL_SCHEMA
            };
            diesel::sql_query(format!("SELECT GET_LOCK('{MYSQL_SCHEMA_LOCK}', 30)"))
                .execute(conn)?;
            let result = files.iter().try_for_each(|sql| conn.batch_execute(sql));
            let _ = diesel::sql_query(format!("SELECT RELEASE_LOCK('{MYSQL_SCHEMA_LOCK}')"))
                .execute(conn);
            result?;
            self.inner.schema_ready.store(true, Ordering::Release);
            log::debug!("database schema ready on {}", self.inner.url);
            return Ok(());
        }
        conn.transaction::<_, StoreError, _>(|c| {
            let files = match c {
                AnyConnection::Postgres(pg) => {
                    diesel::sql_query(format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})"))
                        .execute(pg)?;
                    POSTGRES_SCHEMA
                }
                AnyConnection::Sqlite(_) | AnyConnection::Mysql(_) => SQLITE_SCHEMA,
            };
            for sql in files {
                c.batch_execute(sql)?;
            }
            Ok(())
        })?;
        self.inner.schema_ready.store(true, Ordering::Release);
        log::debug!("database schema ready on {}", self.inner.url);
        Ok(())
    }

    /// A connection from the pool, waiting at most `wait`; counts waiters
    /// and failed checkouts (for metrics).
    fn checkout(&self, wait: Duration) -> Result<PooledConn, StoreError> {
        self.inner.waiting.fetch_add(1, Ordering::Relaxed);
        let conn = self.inner.pool.get_timeout(wait);
        self.inner.waiting.fetch_sub(1, Ordering::Relaxed);
        if conn.is_err() {
            self.inner.timeouts.fetch_add(1, Ordering::Relaxed);
        }
        Ok(conn?)
    }

    /// A pooled connection (within [`Store::deadline`]), schema unchecked.
    fn conn_raw(&self) -> Result<PooledConn, StoreError> {
        let wait = self
            .deadline()
            .saturating_duration_since(Instant::now())
            .min(self.inner.checkout_timeout);
        let conn = self.checkout(wait)?;
        crate::conn::clear_connection_error();
        Ok(conn)
    }

    /// A pooled connection with the schema in place.
    pub(crate) fn conn(&self) -> Result<Conn, StoreError> {
        self.conn_until(None)
    }

    /// Runs `f` in one read transaction (a consistent snapshot on
    /// PostgreSQL: `REPEATABLE READ, READ ONLY`).
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let conn: &mut AnyConnection = &mut conn;
        if let AnyConnection::Mysql(my) = conn {
            // applies to the next transaction only (the session default is
            // READ COMMITTED, for the writers)
            my.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        }
        conn.transaction(|c| {
            if let AnyConnection::Postgres(pg) = c {
                pg.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
            }
            f(c)
        })
    }

    /// Runs `f` in one write transaction that does not touch the
    /// configuration version (admins, nodes). `f` must write before it reads
    /// what it then writes (SQLite takes its write lock at the first write).
    pub(crate) fn write<T, E>(
        &self,
        f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
    {
        let mut conn = self.conn()?;
        let _turn = self.writer_turn(&conn, self.deadline())?;
        let conn: &mut AnyConnection = &mut conn;
        conn.transaction(f)
    }

    /// On SQLite: waits for this process's other write transactions (see
    /// [`WriterLock`]); take it after the connection, hold it until the
    /// transaction ended. A no-op on the server databases.
    pub(crate) fn writer_turn(
        &self,
        conn: &AnyConnection,
        deadline: Instant,
    ) -> Result<WriterGuard<'_>, StoreError> {
        match conn {
            AnyConnection::Sqlite(_) => self.inner.sqlite_writer.acquire(deadline),
            AnyConnection::Postgres(_) | AnyConnection::Mysql(_) => Ok(WriterGuard(None)),
        }
    }

    /// Runs `f` in one configuration write transaction. `f` returns its value
    /// and whether it changed anything; if so the configuration version and
    /// privacyIDEA's `__timestamp__` are bumped in the same transaction.
    ///
    /// The transaction first takes the configuration write lock (the write
    /// lock on SQLite, a row lock on the version row on PostgreSQL and
    /// MariaDB), so concurrent configuration writers are serialised and
    /// their read-then-write steps are safe. Concurrent writers of this
    /// store share transactions (group commit, `group.rs`): each still gets
    /// its own result, and a failing write does not affect the others.
    pub(crate) fn config_write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<(T, bool), E> + Send + 'static,
    {
        Ok(self.inner.group.submit(self, f, None)?.0)
    }

    /// [`Store::config_write`] of a write that always changes the
    /// configuration, also reporting the configuration version right before
    /// and right after it: a caller whose in-memory view was at `before` may
    /// apply its own change to that view and call it `after` without
    /// reloading. (Several writes committed together are numbered in order:
    /// the `after` of one is the `before` of the next, the last `after` is
    /// the version the commit left in the database.) `on_commit` runs right
    /// after the commit, before any writer of the batch returns.
    pub(crate) fn config_write_versioned<T, F>(
        &self,
        f: F,
        on_commit: crate::group::OnCommit<T>,
    ) -> Result<(T, VersionStep), StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let (value, step) = self.inner.group.submit(
            self,
            move |c| Ok::<_, StoreError>((f(c)?, true)),
            Some(on_commit),
        )?;
        let step = step.ok_or_else(|| StoreError::InvalidData("write without version".into()))?;
        Ok((value, step))
    }

    /// The current [`ConfigVersion`] (one indexed query).
    pub fn config_version(&self) -> Result<ConfigVersion, StoreError> {
        let mut conn = self.conn()?;
        read_config_version(&mut conn)
    }
}

/// How many of `names` exist as tables, indexes or sequences (in the current
/// schema on PostgreSQL). The names are our own constants.
pub(crate) fn count_existing(c: &mut AnyConnection, names: &[&'static str]) -> QueryResult<usize> {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let list = names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = match c {
        AnyConnection::Postgres(_) => format!(
            "SELECT COUNT(*) AS n FROM pg_catalog.pg_class \
             WHERE relnamespace = current_schema()::regnamespace \
             AND relkind IN ('r', 'p', 'i', 'S') AND relname IN ({list})"
        ),
        AnyConnection::Sqlite(_) => format!(
            "SELECT COUNT(*) AS n FROM sqlite_master \
             WHERE type IN ('table', 'index') AND name IN ({list})"
        ),
        // tables and MariaDB sequences are in `tables`, indexes in `statistics`
        AnyConnection::Mysql(_) => format!(
            "SELECT CAST(COUNT(DISTINCT name) AS SIGNED) AS n FROM ( \
               SELECT table_name AS name FROM information_schema.tables \
                WHERE table_schema = DATABASE() AND table_name IN ({list}) \
               UNION ALL \
               SELECT index_name FROM information_schema.statistics \
                WHERE table_schema = DATABASE() AND index_name IN ({list}) \
             ) AS objects"
        ),
    };
    let rows: Vec<Count> = diesel::sql_query(sql).load(c)?;
    Ok(rows
        .first()
        .map(|r| usize::try_from(r.n).unwrap_or(0))
        .unwrap_or(0))
}

/// Reads both version rows in one query.
pub(crate) fn read_config_version(c: &mut AnyConnection) -> Result<ConfigVersion, StoreError> {
    let rows: Vec<(String, Option<String>)> = config::table
        .filter(
            config::key
                .eq(CONFIG_VERSION_KEY)
                .or(config::key.eq(PRIVACYIDEA_TIMESTAMP_KEY)),
        )
        .select((config::key, config::value))
        .load(c)?;
    let mut out = ConfigVersion::default();
    for (key, value) in rows {
        if key == CONFIG_VERSION_KEY {
            let v = value.unwrap_or_default();
            out.version = v.trim().parse().map_err(|_| {
                StoreError::InvalidData(format!("config `{CONFIG_VERSION_KEY}` is `{v}`"))
            })?;
        } else {
            out.timestamp = value;
        }
    }
    Ok(out)
}

/// First statement of every configuration write: makes sure the version row
/// exists and locks it (SQLite: any write statement takes the database write
/// lock; PostgreSQL: `FOR UPDATE` on the row).
pub(crate) fn lock_config(c: &mut AnyConnection) -> QueryResult<()> {
    if let AnyConnection::Mysql(my) = c {
        // the no-op update of an existing row takes its exclusive lock too
        diesel::sql_query(format!(
            "INSERT INTO config (\"Key\", \"Value\", \"Type\", \"Description\") \
             VALUES ('{CONFIG_VERSION_KEY}', '0', 'int', 'pi-store configuration version') \
             ON DUPLICATE KEY UPDATE \"Key\" = \"Key\""
        ))
        .execute(my)?;
        diesel::sql_query(format!(
            "SELECT 1 FROM config WHERE \"Key\" = '{CONFIG_VERSION_KEY}' FOR UPDATE"
        ))
        .execute(my)?;
        return Ok(());
    }
    diesel::sql_query(format!(
        "INSERT INTO config (\"Key\", \"Value\", \"Type\", \"Description\") \
         VALUES ('{CONFIG_VERSION_KEY}', '0', 'int', 'pi-store configuration version') \
         ON CONFLICT (\"Key\") DO NOTHING"
    ))
    .execute(c)?;
    if let AnyConnection::Postgres(pg) = c {
        diesel::sql_query(format!(
            "SELECT 1 FROM config WHERE \"Key\" = '{CONFIG_VERSION_KEY}' FOR UPDATE"
        ))
        .execute(pg)?;
    }
    Ok(())
}

/// Sets the version counter (whose row [`lock_config`] created and locked)
/// and writes privacyIDEA's timestamp `ts`.
pub(crate) fn set_config_version(c: &mut AnyConnection, version: i64, ts: &str) -> QueryResult<()> {
    // both values are numbers formatted here: safe to inline
    diesel::sql_query(format!(
        "UPDATE config SET \"Value\" = '{version}' WHERE \"Key\" = '{CONFIG_VERSION_KEY}'"
    ))
    .execute(c)?;
    let upsert = match c {
        AnyConnection::Mysql(_) => "ON DUPLICATE KEY UPDATE \"Value\" = VALUES(\"Value\")",
        AnyConnection::Sqlite(_) | AnyConnection::Postgres(_) => {
            "ON CONFLICT (\"Key\") DO UPDATE SET \"Value\" = excluded.\"Value\""
        }
    };
    diesel::sql_query(format!(
        "INSERT INTO config (\"Key\", \"Value\", \"Type\", \"Description\") \
         VALUES ('{PRIVACYIDEA_TIMESTAMP_KEY}', '{ts}', '', 'config timestamp. last changed.') {upsert}"
    ))
    .execute(c)?;
    Ok(())
}

/// Unix time as Python's `str(datetime.now().timestamp())` prints it
/// (privacyIDEA's `save_config_timestamp`): shortest float repr,
/// e.g. `1732390000.123456` or `1732390000.0`.
pub(crate) fn python_timestamp(now: DateTime<Utc>) -> String {
    let secs = now.timestamp_micros() as f64 / 1_000_000.0;
    format!("{secs:?}")
}

/// Current UTC time truncated to microseconds (the precision of both
/// backends' timestamp columns and of SQLAlchemy's SQLite format).
pub(crate) fn now_naive() -> NaiveDateTime {
    truncate_micros(Utc::now().naive_utc())
}

/// Truncates to whole microseconds.
pub(crate) fn truncate_micros(t: NaiveDateTime) -> NaiveDateTime {
    let nanos = t.nanosecond();
    t.with_nanosecond(nanos - nanos % 1000).unwrap_or(t)
}

/// The id expression for a new row: `nextval('<seq>')` on PostgreSQL and
/// `NEXTVAL(<seq>)` on MariaDB (the sequences are not column defaults),
/// `NULL` on SQLite (an `INTEGER PRIMARY KEY` assigns the next rowid itself)
/// and on MySQL (AUTO_INCREMENT).
pub(crate) fn new_id(c: &AnyConnection, seq: &str) -> diesel::expression::SqlLiteral<Integer> {
    match c {
        AnyConnection::Postgres(_) => diesel::dsl::sql::<Integer>(&format!("nextval('{seq}')")),
        AnyConnection::Mysql(_) if crate::conn::mysql_has_sequences() => {
            diesel::dsl::sql::<Integer>(&format!("NEXTVAL({seq})"))
        }
        AnyConnection::Sqlite(_) | AnyConnection::Mysql(_) => diesel::dsl::sql::<Integer>("NULL"),
    }
}

/// The id the last insert with [`new_id`]`(c, seq)` on this connection
/// assigned (session-local on every backend: `currval`, `LASTVAL`,
/// `last_insert_rowid()`, `LAST_INSERT_ID()`). Stands in for `RETURNING`,
/// which MySQL lacks.
pub(crate) fn inserted_id(c: &mut AnyConnection, seq: &str) -> QueryResult<i32> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let sql = match c {
        AnyConnection::Postgres(_) => format!("SELECT currval('{seq}') AS id"),
        AnyConnection::Mysql(_) if crate::conn::mysql_has_sequences() => {
            format!("SELECT CAST(LASTVAL({seq}) AS SIGNED) AS id")
        }
        AnyConnection::Mysql(_) => "SELECT CAST(LAST_INSERT_ID() AS SIGNED) AS id".to_owned(),
        AnyConnection::Sqlite(_) => "SELECT last_insert_rowid() AS id".to_owned(),
    };
    let rows: Vec<Id> = diesel::sql_query(sql).load(c)?;
    let id = rows
        .first()
        .map(|r| r.id)
        .ok_or(diesel::result::Error::NotFound)?;
    i32::try_from(id).map_err(|_| diesel::result::Error::NotFound)
}

/// `i64` → `i32` for the 32-bit id/priority columns.
pub(crate) fn to_i32(v: i64, what: &str) -> Result<i32, StoreError> {
    i32::try_from(v).map_err(|_| StoreError::InvalidData(format!("{what} {v} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn python_timestamp_format() {
        let t = Utc.timestamp_opt(1_732_390_000, 123_456_000).unwrap();
        assert_eq!(python_timestamp(t), "1732390000.123456");
        let t = Utc.timestamp_opt(1_732_390_000, 0).unwrap();
        assert_eq!(python_timestamp(t), "1732390000.0");
        let t = Utc.timestamp_opt(1_732_390_000, 500_000_000).unwrap();
        assert_eq!(python_timestamp(t), "1732390000.5");
    }

    #[test]
    fn pool_stats_count_failed_checkouts() {
        let store = Store::open(
            "postgresql://nobody@127.0.0.1:1/none",
            StoreOptions::default().with_connection_timeout(Duration::from_millis(200)),
        )
        .unwrap();
        let before = store.pool_stats();
        assert_eq!(
            (before.connections, before.waiting, before.timeouts),
            (0, 0, 0)
        );
        assert!(before.max_size >= 1);
        assert!(matches!(store.ping(), Err(StoreError::Unavailable(_))));
        assert!(store.ping().is_err());
        let after = store.pool_stats();
        assert_eq!(
            (after.connections, after.waiting, after.timeouts),
            (0, 0, 2)
        );
    }

    #[test]
    fn truncation() {
        let t = Utc.timestamp_opt(5, 123_456_789).unwrap().naive_utc();
        assert_eq!(truncate_micros(t).nanosecond(), 123_456_000);
    }
}
