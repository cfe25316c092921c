//! Test support: throwaway databases on every available backend.
//!
//! For tests of this crate and of crates that use it. A SQLite database is
//! always available (a file in a fresh temporary directory); a PostgreSQL
//! database is created on the server named by the environment variable
//! [`POSTGRES_URL_ENV`] (`PI_TEST_POSTGRES_URL`, e.g.
//! `postgresql://postgres@127.0.0.1:55432/postgres`, a role that may
//! `CREATE DATABASE`) when it is set, and a MariaDB/MySQL database on the
//! server named by [`MYSQL_URL_ENV`] (`PI_TEST_MYSQL_URL`, e.g.
//! `mysql://root@127.0.0.1:3307/mysql`, a user that may `CREATE DATABASE`)
//! when that is set. Each [`TestDb`] is a new, empty
//! database that is removed again when the value is dropped.
//!
//! ```no_run
//! use pi_store::testing::all_test_dbs;
//!
//! for db in all_test_dbs().unwrap() {
//!     let store = db.open().unwrap();
//!     assert!(store.list_policies().unwrap().is_empty(), "{}", db.label());
//! }
//! ```

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::{Connection, MysqlConnection, PgConnection, SqliteConnection};

use crate::{AnyConnection, Backend, Store, StoreError, StoreOptions};

/// Environment variable naming a PostgreSQL server for tests.
pub const POSTGRES_URL_ENV: &str = "PI_TEST_POSTGRES_URL";
/// Environment variable naming a MariaDB/MySQL server for tests.
pub const MYSQL_URL_ENV: &str = "PI_TEST_MYSQL_URL";

/// A throwaway database; dropped = deleted.
#[derive(Debug)]
pub struct TestDb {
    uri: String,
    backend: Backend,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(PathBuf),
    Postgres { admin_url: String, name: String },
    Mysql { admin_url: String, name: String },
}

fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn db_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// `postgresql://auth@host/db?query` with the database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgresql", url));
    let (before_query, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap_or_default();
    let mut out = format!("{scheme}://{authority}/{name}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The server URL in the environment variable `var`, trimmed; `None` when it
/// is unset or empty.
fn admin_url_from(var: &str) -> Option<String> {
    let url = std::env::var(var).ok()?;
    let url = url.trim();
    (!url.is_empty()).then(|| url.to_owned())
}

impl TestDb {
    /// A new SQLite database file in a fresh temporary directory.
    pub fn sqlite() -> Result<TestDb, StoreError> {
        let dir = std::env::temp_dir().join(format!("pi-store-test-{}", unique_suffix()));
        std::fs::create_dir_all(&dir).map_err(db_error)?;
        let file = dir.join("pi.sqlite");
        Ok(TestDb {
            uri: format!("sqlite:///{}", file.display()),
            backend: Backend::Sqlite,
            cleanup: Cleanup::Dir(dir),
        })
    }

    /// A new, empty PostgreSQL database on the server of
    /// `PI_TEST_POSTGRES_URL`; `None` when the variable is not set.
    pub fn postgres() -> Option<Result<TestDb, StoreError>> {
        admin_url_from(POSTGRES_URL_ENV).map(|url| Self::postgres_at(&url))
    }

    fn postgres_at(admin_url: &str) -> Result<TestDb, StoreError> {
        let admin_url = match crate::parse_database_uri(admin_url)? {
            crate::DatabaseUrl::Postgres(u) => u,
            crate::DatabaseUrl::Sqlite(_) | crate::DatabaseUrl::Mysql(_) => {
                return Err(StoreError::InvalidData(format!(
                    "{POSTGRES_URL_ENV} is not a PostgreSQL URL"
                )))
            }
        };
        let name = format!("t_{}", unique_suffix());
        let mut admin = PgConnection::establish(&admin_url).map_err(db_error)?;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(db_error)?;
        Ok(TestDb {
            uri: with_database(&admin_url, &name),
            backend: Backend::Postgres,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// A new, empty MariaDB/MySQL database (`utf8mb4`) on the server of
    /// `PI_TEST_MYSQL_URL`; `None` when the variable is not set.
    pub fn mysql() -> Option<Result<TestDb, StoreError>> {
        admin_url_from(MYSQL_URL_ENV).map(|url| Self::mysql_at(&url))
    }

    fn mysql_at(admin_url: &str) -> Result<TestDb, StoreError> {
        let admin_url = match crate::parse_database_uri(admin_url)? {
            crate::DatabaseUrl::Mysql(u) => u,
            _ => {
                return Err(StoreError::InvalidData(format!(
                    "{MYSQL_URL_ENV} is not a MySQL URL"
                )))
            }
        };
        let name = format!("t_{}", unique_suffix());
        let mut admin = MysqlConnection::establish(&admin_url).map_err(db_error)?;
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"
            ))
            .map_err(db_error)?;
        Ok(TestDb {
            uri: with_database(&admin_url, &name),
            backend: Backend::Mysql,
            cleanup: Cleanup::Mysql { admin_url, name },
        })
    }

    /// The SQLAlchemy-style URI of this database.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A label for assertion messages (`"sqlite"` / `"postgresql"` / `"mysql"`).
    pub fn label(&self) -> String {
        self.backend.to_string()
    }

    /// Opens a [`Store`] on this database (short connection timeout).
    pub fn open(&self) -> Result<Store, StoreError> {
        Store::open(
            &self.uri,
            StoreOptions::default()
                .with_connection_timeout(Duration::from_secs(5))
                .with_max_connections(4),
        )
    }

    /// A plain connection outside any pool, e.g. to load fixtures or to look
    /// at rows the way privacyIDEA would.
    pub fn connect(&self) -> Result<AnyConnection, StoreError> {
        match crate::parse_database_uri(&self.uri)? {
            crate::DatabaseUrl::Sqlite(p) => {
                let mut c = SqliteConnection::establish(&p.to_string_lossy()).map_err(db_error)?;
                c.batch_execute("PRAGMA busy_timeout = 5000;")?;
                Ok(AnyConnection::Sqlite(c))
            }
            crate::DatabaseUrl::Postgres(u) => Ok(AnyConnection::Postgres(
                PgConnection::establish(&u).map_err(db_error)?,
            )),
            crate::DatabaseUrl::Mysql(u) => {
                let mut c = MysqlConnection::establish(&u).map_err(db_error)?;
                c.batch_execute(crate::conn::MYSQL_SESSION)?;
                Ok(AnyConnection::Mysql(c))
            }
        }
    }

    /// Executes a script (several statements) on a fresh connection.
    pub fn execute_script(&self, sql: &str) -> Result<(), StoreError> {
        let mut c = self.connect()?;
        c.batch_execute(sql)?;
        Ok(())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                if let Ok(mut c) = PgConnection::establish(admin_url) {
                    let _ =
                        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
            Cleanup::Mysql { admin_url, name } => {
                if let Ok(mut c) = MysqlConnection::establish(admin_url) {
                    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name}"));
                }
            }
        }
    }
}

/// A fresh SQLite database plus, when `PI_TEST_POSTGRES_URL` is set, a fresh
/// PostgreSQL database, and when `PI_TEST_MYSQL_URL` is set, a fresh
/// MariaDB/MySQL database. Write a test once and run it on each.
pub fn all_test_dbs() -> Result<Vec<TestDb>, StoreError> {
    let mut out = vec![TestDb::sqlite()?];
    if let Some(pg) = TestDb::postgres() {
        out.push(pg?);
    }
    if let Some(my) = TestDb::mysql() {
        out.push(my?);
    }
    Ok(out)
}

/// The URI of a fresh MariaDB/MySQL database (see [`TestDb::mysql`]); keep
/// the returned [`TestDb`] alive while you use it.
pub fn fresh_mysql_url() -> Option<Result<TestDb, StoreError>> {
    TestDb::mysql()
}

/// The URI of a fresh PostgreSQL database (see [`TestDb::postgres`]); keep
/// the returned [`TestDb`] alive while you use it.
pub fn fresh_postgres_url() -> Option<Result<TestDb, StoreError>> {
    TestDb::postgres()
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_replaced() {
        assert_eq!(
            with_database("postgresql://postgres@127.0.0.1:55432/postgres", "t_1"),
            "postgresql://postgres@127.0.0.1:55432/t_1"
        );
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=disable", "x"),
            "postgresql://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://h", "x"), "postgresql://h/x");
    }
}
