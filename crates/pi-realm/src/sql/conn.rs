//! Connections to a user database: where to connect (from the resolver
//! keys), a small fail-fast pool, and statement execution through diesel.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
#[cfg(feature = "mysql")]
use diesel::mysql::{Mysql, MysqlConnection};
use diesel::pg::{Pg, PgConnection};
use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel::sqlite::{Sqlite, SqliteConnection};
use diesel::{Connection, QueryableByName, RunQueryDsl};

use super::query::{Bind, Dialect, Statement};

/// Why the database could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnError {
    /// The `Driver` names no dialect this server speaks (privacyIDEA:
    /// `create_engine` fails → "Unable to connect to database.").
    #[error("unsupported database driver `{0}`")]
    Driver(String),
    /// Connecting failed (refused, timeout, authentication, bad parameter).
    #[error("cannot connect to the user database: {0}")]
    Connect(String),
    /// A statement failed.
    #[error("user database query failed: {0}")]
    Query(String),
}

/// Where the user database is, derived from `Driver`/`Server`/`Port`/
/// `Database`/`User`/`Password`/`conParams`.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// A SQLite file (`:memory:` for an empty path).
    Sqlite {
        /// Path as privacyIDEA derives it from `Server` and `Database`.
        path: String,
    },
    /// A PostgreSQL server: a libpq keyword/value connection string.
    Postgres {
        /// `host='…' port='…' …` (secret inside; never logged).
        conninfo: String,
    },
    /// MySQL/MariaDB: a `mysql://` URL for diesel (user, password and
    /// database percent-encoded; `conParams` as its query: `ssl_mode`,
    /// `ssl_ca`, `unix_socket` … are honoured, others ignored). Usable only
    /// with the `mysql` cargo feature (needs libmysqlclient).
    Mysql {
        /// The URL (secret inside; never logged).
        url: String,
    },
    /// Anything else.
    Unknown(String),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Sqlite { path } => f.debug_struct("Sqlite").field("path", path).finish(),
            Target::Postgres { .. } => f.write_str("Postgres { .. }"),
            Target::Mysql { .. } => f.write_str("Mysql { .. }"),
            Target::Unknown(d) => f.debug_tuple("Unknown").field(d).finish(),
        }
    }
}

/// The resolver keys that locate the database (values as strings).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectParams {
    /// `Driver`, e.g. `sqlite`, `postgresql+psycopg2`, `mysql+pymysql`.
    pub driver: String,
    /// `Server`.
    pub server: String,
    /// `Port`.
    pub port: String,
    /// `Database`.
    pub database: String,
    /// `User`.
    pub user: String,
    /// `Password`.
    pub password: String,
    /// `conParams` (`k=v&k2=v2`).
    pub con_params: String,
}

impl ConnectParams {
    /// The SQLAlchemy dialect named by `Driver` (the part before `+`).
    pub fn dialect(&self) -> Option<Dialect> {
        let name = self.driver.split('+').next().unwrap_or("");
        match name {
            "sqlite" => Some(Dialect::Sqlite),
            "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::Mysql),
            _ => None,
        }
    }

    /// The connection target; `connect_timeout` (seconds) is used for
    /// PostgreSQL unless `conParams` sets its own.
    pub fn target(&self, connect_timeout: u64) -> Result<Target, ConnError> {
        match self.dialect() {
            Some(Dialect::Sqlite) => {
                // URL path = Server + "/" + Database; SQLAlchemy drops the
                // first "/" (the separator after the authority)
                let joined = format!("{}/{}", self.server, self.database);
                let path = joined.strip_prefix('/').unwrap_or(&joined);
                Ok(Target::Sqlite {
                    path: if path.is_empty() {
                        ":memory:".to_owned()
                    } else {
                        path.to_owned()
                    },
                })
            }
            Some(Dialect::Postgres) => Ok(Target::Postgres {
                conninfo: self.pg_conninfo(connect_timeout)?,
            }),
            Some(Dialect::Mysql) => Ok(Target::Mysql {
                url: self.mysql_url()?,
            }),
            None => Ok(Target::Unknown(self.driver.clone())),
        }
    }

    fn mysql_url(&self) -> Result<String, ConnError> {
        let mut url = String::from("mysql://");
        if !self.user.is_empty() || !self.password.is_empty() {
            url.push_str(&percent_encode(&self.user));
            if !self.password.is_empty() {
                url.push(':');
                url.push_str(&percent_encode(&self.password));
            }
            url.push('@');
        }
        url.push_str(if self.server.is_empty() {
            "localhost"
        } else {
            &self.server
        });
        if !self.port.is_empty() {
            let port: u16 = self
                .port
                .trim()
                .parse()
                .map_err(|_| ConnError::Connect(format!("invalid port `{}`", self.port)))?;
            url.push_str(&format!(":{port}"));
        }
        url.push('/');
        url.push_str(&percent_encode(&self.database));
        if !self.con_params.is_empty() {
            url.push('?');
            url.push_str(&self.con_params);
        }
        Ok(url)
    }

    fn pg_conninfo(&self, connect_timeout: u64) -> Result<String, ConnError> {
        let mut parts: Vec<(String, String)> = Vec::new();
        let mut push = |k: &str, v: &str| {
            if !v.is_empty() {
                parts.push((k.to_owned(), v.to_owned()));
            }
        };
        // privacyIDEA splices `Server` into the SQLAlchemy URL, so
        // `host:port` there works (what `create_internal` stores)
        // (with an explicit Port, Server is the host as it is)
        let (host, server_port) = if self.port.is_empty() {
            split_server_port(&self.server)
        } else {
            (self.server.as_str(), None)
        };
        push("host", host);
        if self.port.is_empty() {
            if let Some(p) = server_port {
                push("port", p);
            }
        } else {
            if self.port.trim().parse::<u16>().is_err() {
                return Err(ConnError::Connect(format!("invalid port `{}`", self.port)));
            }
            push("port", self.port.trim());
        }
        push("dbname", &self.database);
        push("user", &self.user);
        push("password", &self.password);
        let mut has_timeout = false;
        for pair in self.con_params.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_decode(k);
            if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(ConnError::Connect(format!(
                    "invalid connection parameter `{k}`"
                )));
            }
            has_timeout |= k == "connect_timeout";
            parts.push((k, percent_decode(v)));
        }
        if !has_timeout {
            parts.push(("connect_timeout".into(), connect_timeout.max(1).to_string()));
        }
        Ok(parts
            .iter()
            .map(|(k, v)| format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
            .collect::<Vec<_>>()
            .join(" "))
    }
}

/// `host:port` → (`host`, `port`) when the part after the last `:` is a port
/// number and the host is a name, an IPv4 address or a bracketed IPv6
/// address; otherwise the whole text is the host.
fn split_server_port(server: &str) -> (&str, Option<&str>) {
    if let Some((host, port)) = server.rsplit_once(':') {
        let bracketed = host.starts_with('[') && host.ends_with(']');
        if port.parse::<u16>().is_ok() && (bracketed || !host.contains(':')) && !host.is_empty() {
            let host = if bracketed {
                &host[1..host.len() - 1]
            } else {
                host
            };
            return (host, Some(port));
        }
    }
    (server, None)
}

/// Percent-encoding of everything but RFC 3986's unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `%xx` and `+` decoding as Python's `parse_qsl` does for URL queries.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| char::from(c).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Nullable<Text>)]
    j: Option<String>,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct ColRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    typ: Option<String>,
}

/// An open connection of either backend.
pub enum Conn {
    /// SQLite.
    Sqlite(SqliteConnection),
    /// PostgreSQL.
    Postgres(PgConnection),
    /// MySQL/MariaDB (`mysql` feature).
    #[cfg(feature = "mysql")]
    Mysql(MysqlConnection),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Sqlite(_) => "Conn::Sqlite",
            Conn::Postgres(_) => "Conn::Postgres",
            #[cfg(feature = "mysql")]
            Conn::Mysql(_) => "Conn::Mysql",
        })
    }
}

macro_rules! load {
    ($conn:expr, $db:ty, $st:expr, $row:ty) => {{
        let mut q = diesel::sql_query($st.sql.as_str()).into_boxed::<$db>();
        for b in &$st.binds {
            q = match b {
                Bind::Text(s) => q.bind::<Text, _>(s.clone()),
                Bind::Int(i) => q.bind::<BigInt, _>(*i),
                Bind::Float(f) => q.bind::<Double, _>(*f),
            };
        }
        q.load::<$row>($conn)
    }};
}

impl Conn {
    /// Opens a connection (blocking; bounded by libpq's `connect_timeout`
    /// for PostgreSQL). `busy_timeout` applies to SQLite locks.
    pub fn open(target: &Target, busy_timeout: Duration) -> Result<Conn, ConnError> {
        match target {
            Target::Sqlite { path } => {
                let mut c = SqliteConnection::establish(path)
                    .map_err(|e| ConnError::Connect(e.to_string()))?;
                c.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}",
                    busy_timeout.as_millis().min(i32::MAX as u128)
                ))
                .map_err(|e| ConnError::Connect(e.to_string()))?;
                Ok(Conn::Sqlite(c))
            }
            Target::Postgres { conninfo } => PgConnection::establish(conninfo)
                .map(Conn::Postgres)
                .map_err(|e| ConnError::Connect(e.to_string())),
            #[cfg(feature = "mysql")]
            Target::Mysql { url } => MysqlConnection::establish(url)
                .map(Conn::Mysql)
                .map_err(|e| ConnError::Connect(e.to_string())),
            #[cfg(not(feature = "mysql"))]
            Target::Mysql { .. } => Err(ConnError::Driver(
                "mysql (this server is built without the `mysql` feature)".into(),
            )),
            Target::Unknown(d) => Err(ConnError::Driver(d.clone())),
        }
    }

    /// Rows of a [`Builder::select`](super::query::Builder::select)
    /// statement: one JSON array text per row.
    pub fn rows(&mut self, st: &Statement) -> Result<Vec<Option<String>>, ConnError> {
        let rows = match self {
            Conn::Sqlite(c) => load!(c, Sqlite, st, JsonRow),
            Conn::Postgres(c) => load!(c, Pg, st, JsonRow),
            #[cfg(feature = "mysql")]
            Conn::Mysql(c) => load!(c, Mysql, st, JsonRow),
        }
        .map_err(|e| ConnError::Query(e.to_string()))?;
        Ok(rows.into_iter().map(|r| r.j).collect())
    }

    /// The value of a `count(*) AS n` statement.
    pub fn count(&mut self, st: &Statement) -> Result<i64, ConnError> {
        let rows = match self {
            Conn::Sqlite(c) => load!(c, Sqlite, st, CountRow),
            Conn::Postgres(c) => load!(c, Pg, st, CountRow),
            #[cfg(feature = "mysql")]
            Conn::Mysql(c) => load!(c, Mysql, st, CountRow),
        }
        .map_err(|e| ConnError::Query(e.to_string()))?;
        Ok(rows.first().map_or(0, |r| r.n))
    }

    /// `(name, type)` rows of a reflection statement.
    pub fn columns(&mut self, st: &Statement) -> Result<Vec<(String, String)>, ConnError> {
        let rows = match self {
            Conn::Sqlite(c) => load!(c, Sqlite, st, ColRow),
            Conn::Postgres(c) => load!(c, Pg, st, ColRow),
            #[cfg(feature = "mysql")]
            Conn::Mysql(c) => load!(c, Mysql, st, ColRow),
        }
        .map_err(|e| ConnError::Query(e.to_string()))?;
        Ok(rows
            .into_iter()
            .map(|r| (r.name, r.typ.unwrap_or_default()))
            .collect())
    }
}

/// Pool settings (`poolSize`, `poolTimeout`, `poolRecycle`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Idle connections kept at most.
    pub size: usize,
    /// Connect timeout (PostgreSQL) and SQLite busy timeout.
    pub timeout: Duration,
    /// Connections older than this are closed instead of reused.
    pub recycle: Duration,
}

/// A fail-fast pool: idle connections are reused (up to `size` kept,
/// recycled after `recycle`); when none is idle the caller connects itself,
/// so a database that is down fails at once (connection refused) or after
/// the connect timeout, never after waiting for a pool slot.
#[derive(Debug)]
pub struct Pool {
    target: Target,
    settings: PoolSettings,
    idle: Mutex<Vec<(Conn, Instant)>>,
}

impl Pool {
    /// A pool for `target`. Does not connect.
    pub fn new(target: Target, settings: PoolSettings) -> Pool {
        Pool {
            target,
            settings,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn idle(&self) -> MutexGuard<'_, Vec<(Conn, Instant)>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on a connection. A failure on a reused connection (the
    /// server may have closed it) is retried once on a fresh one; the
    /// connection goes back to the pool only after success.
    pub fn with<T>(
        &self,
        mut f: impl FnMut(&mut Conn) -> Result<T, ConnError>,
    ) -> Result<T, ConnError> {
        let reused = loop {
            let Some((conn, born)) = self.idle().pop() else {
                break None;
            };
            if born.elapsed() < self.settings.recycle {
                break Some((conn, born));
            }
        };
        if let Some((mut conn, born)) = reused {
            if let Ok(v) = f(&mut conn) {
                self.give_back(conn, born);
                return Ok(v);
            }
        }
        let mut conn = Conn::open(&self.target, self.settings.timeout)?;
        let born = Instant::now();
        let v = f(&mut conn)?;
        self.give_back(conn, born);
        Ok(v)
    }

    fn give_back(&self, conn: Conn, born: Instant) {
        let mut idle = self.idle();
        if idle.len() < self.settings.size.max(1) {
            idle.push((conn, born));
        }
    }
}
