//! SQLAlchemy database URIs (privacyIDEA's `SQLALCHEMY_DATABASE_URI`).

use std::fmt;
use std::path::PathBuf;

use crate::StoreError;

/// The database backend behind a [`crate::Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (bundled library).
    Sqlite,
    /// PostgreSQL (through libpq).
    Postgres,
    /// MariaDB or MySQL (through libmysqlclient / MariaDB Connector/C).
    Mysql,
}

impl Backend {
    /// Whether text columns compare case-insensitively with `=`: privacyIDEA's
    /// tables on MariaDB/MySQL use the `utf8mb4_general_ci` collation.
    pub fn text_equality_ignores_case(self) -> bool {
        self == Backend::Mysql
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
            Backend::Mysql => "mysql",
        })
    }
}

/// A parsed database URI: what the store actually connects to.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file (relative paths are relative to the working
    /// directory, as with SQLAlchemy).
    Sqlite(PathBuf),
    /// A libpq connection URL (`postgresql://…`, driver part removed).
    Postgres(String),
    /// A `mysql://` URL as diesel's MySQL connection reads it (driver part
    /// removed, only the query parameters libmysqlclient understands kept).
    Mysql(String),
}

impl DatabaseUrl {
    /// The backend of this URL.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Mysql(_) => Backend::Mysql,
        }
    }

    /// A printable form without the password (safe for logs).
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(p) => format!("sqlite:///{}", p.display()),
            DatabaseUrl::Postgres(u) | DatabaseUrl::Mysql(u) => redact_password(u),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Parses a SQLAlchemy URI.
///
/// * `sqlite:////abs/path` → the absolute file `/abs/path`;
///   `sqlite:///rel/path` → `rel/path` relative to the working directory;
///   a query part (`?check_same_thread=false`) is ignored; `sqlite://` (an
///   in-memory database) is refused, every pooled connection would see its own
///   empty database.
/// * `postgresql://…`, `postgres://…`, `postgresql+<driver>://…` → a libpq URL
///   `postgresql://…` (the driver part is dropped, everything else kept).
/// * `mysql://…`, `mysql+<driver>://…` (`pymysql`, `mysqldb`,
///   `mysqlconnector`), `mariadb+<driver>://…` → a `mysql://` URL: the driver
///   part is dropped, user, password, host, port and database are kept; of
///   the query parameters `unix_socket`, `ssl_ca`, `ssl_cert`, `ssl_key` and
///   `ssl_mode` are kept, the others (`charset=utf8`, `binary_prefix`, …) are
///   dropped — the connection always speaks `utf8mb4`. An empty host with a
///   `unix_socket` (`mysql+pymysql://u:p@/db?unix_socket=/run/mysqld/mysqld.sock`)
///   becomes `localhost`.
pub fn parse_database_uri(uri: &str) -> Result<DatabaseUrl, StoreError> {
    let uri = uri.trim();
    let invalid = |reason: &str| StoreError::InvalidUri {
        uri: redact_password(uri),
        reason: reason.to_owned(),
    };
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Err(invalid("missing `://`"));
    };
    let scheme = scheme.to_ascii_lowercase();
    let dialect = scheme.split('+').next().unwrap_or_default();
    match dialect {
        "sqlite" => {
            let path = normalize_sqlite_path(rest).ok_or_else(|| {
                invalid("in-memory SQLite (`sqlite://`) is not supported, give a file path")
            })?;
            Ok(DatabaseUrl::Sqlite(path))
        }
        "postgresql" | "postgres" => {
            if rest.is_empty() {
                return Err(invalid("empty PostgreSQL URL"));
            }
            Ok(DatabaseUrl::Postgres(format!("postgresql://{rest}")))
        }
        "mysql" | "mariadb" => Ok(DatabaseUrl::Mysql(mysql_url(rest).map_err(invalid)?)),
        "" => Err(invalid("empty scheme")),
        _ => Err(StoreError::UnsupportedBackend(scheme)),
    }
}

/// The SQLite file a `sqlite://` URI points to, as pi-store opens it.
///
/// Accepts the full URI (`sqlite:////var/lib/pi/pi.sqlite`) and returns the
/// file path (`/var/lib/pi/pi.sqlite`), so a server can print where its data
/// lives. Fails for non-SQLite URIs and for `sqlite://` (in-memory).
pub fn normalize_sqlite_uri(uri: &str) -> Result<PathBuf, StoreError> {
    match parse_database_uri(uri)? {
        DatabaseUrl::Sqlite(p) => Ok(p),
        DatabaseUrl::Postgres(_) | DatabaseUrl::Mysql(_) => Err(StoreError::InvalidUri {
            uri: redact_password(uri),
            reason: "not a SQLite URI".to_owned(),
        }),
    }
}

/// `rest` is what follows `sqlite://`: `/abs`, `//abs`, `/rel` …
fn normalize_sqlite_path(rest: &str) -> Option<PathBuf> {
    let rest = rest.split('?').next().unwrap_or_default();
    // SQLAlchemy: `sqlite:///<path>`; the third slash separates the (empty)
    // host from the path, so `sqlite:////abs` is `/abs` and `sqlite:///rel`
    // is `rel`.
    let path = rest.strip_prefix('/')?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Query parameters of a SQLAlchemy MySQL URL that libmysqlclient (diesel)
/// understands; the others are dropped.
const MYSQL_KEPT_PARAMS: &[&str] = &["unix_socket", "ssl_ca", "ssl_cert", "ssl_key", "ssl_mode"];

/// `rest` is what follows `mysql+driver://`: `user:pw@host:port/db?params`.
fn mysql_url(rest: &str) -> Result<String, &'static str> {
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, q),
        None => (rest, ""),
    };
    let Some((authority, database)) = main.split_once('/') else {
        return Err("no database name in the MySQL URL");
    };
    if database.is_empty() || database.contains('/') {
        return Err("no database name in the MySQL URL");
    }
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let host = if host.is_empty() { "localhost" } else { host };
    if let Some((_, port)) = host.rsplit_once(':') {
        if !host.ends_with(']') && port.parse::<u16>().is_err() {
            return Err("invalid port in the MySQL URL");
        }
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| {
            let key = p.split('=').next().unwrap_or_default();
            MYSQL_KEPT_PARAMS.contains(&key)
        })
        .collect();
    let mut url = String::from("mysql://");
    if let Some(u) = userinfo {
        url.push_str(u);
        url.push('@');
    }
    url.push_str(host);
    url.push('/');
    url.push_str(database);
    if !kept.is_empty() {
        url.push('?');
        url.push_str(&kept.join("&"));
    }
    Ok(url)
}

/// Replaces the password of `scheme://user:password@host/…` by `***`.
pub(crate) fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Adds `connect_timeout=<secs>` to a libpq URL unless it sets one already.
pub(crate) fn with_connect_timeout(url: &str, secs: u64) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout={}", secs.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            parse_database_uri("sqlite:////var/lib/pi.sqlite").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/var/lib/pi.sqlite"))
        );
        assert_eq!(
            parse_database_uri("sqlite:///data/pi.sqlite").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/pi.sqlite"))
        );
        assert_eq!(
            normalize_sqlite_uri("sqlite:////tmp/x.db?check_same_thread=false").unwrap(),
            PathBuf::from("/tmp/x.db")
        );
        assert!(parse_database_uri("sqlite://").is_err());
        assert!(parse_database_uri("sqlite:///:memory:").is_err());
        assert!(normalize_sqlite_uri("postgresql://h/db").is_err());
    }

    #[test]
    fn postgres_driver_is_stripped() {
        for uri in [
            "postgresql://u:p@h:5432/db",
            "postgresql+psycopg2://u:p@h:5432/db",
            "postgres://u:p@h:5432/db",
        ] {
            assert_eq!(
                parse_database_uri(uri).unwrap(),
                DatabaseUrl::Postgres("postgresql://u:p@h:5432/db".into())
            );
        }
        let u = parse_database_uri("postgresql+psycopg2://u:secret@h/db").unwrap();
        assert_eq!(u.redacted(), "postgresql://u:***@h/db");
        assert!(!format!("{u:?}").contains("secret"));
    }

    #[test]
    fn mysql_uris_as_privacyidea_writes_them() {
        let m = |u: &str| match parse_database_uri(u).unwrap() {
            DatabaseUrl::Mysql(s) => s,
            other => panic!("{u}: {other:?}"),
        };
        // pi-manage / the packages write `?charset=utf8`
        assert_eq!(
            m("mysql+pymysql://pi:secret@localhost/pi?charset=utf8"),
            "mysql://pi:secret@localhost/pi"
        );
        assert_eq!(
            m("mysql+pymysql://pi:p%40ss@db.example.org:3306/pi?charset=utf8mb4"),
            "mysql://pi:p%40ss@db.example.org:3306/pi"
        );
        assert_eq!(
            m("mysql://pi:pw@127.0.0.1:3307/privacyidea"),
            "mysql://pi:pw@127.0.0.1:3307/privacyidea"
        );
        assert_eq!(m("mysql+mysqldb://pi@h/pi"), "mysql://pi@h/pi");
        assert_eq!(
            m("mariadb+mariadbconnector://pi:x@h/pi"),
            "mysql://pi:x@h/pi"
        );
        // unix socket forms
        assert_eq!(
            m("mysql+pymysql://pi:pw@/pi?unix_socket=/run/mysqld/mysqld.sock&charset=utf8"),
            "mysql://pi:pw@localhost/pi?unix_socket=/run/mysqld/mysqld.sock"
        );
        assert_eq!(
            m("mysql+pymysql://pi:pw@localhost/pi?charset=utf8mb4&unix_socket=/tmp/my.sock"),
            "mysql://pi:pw@localhost/pi?unix_socket=/tmp/my.sock"
        );
        assert_eq!(
            m("mysql+pymysql://pi:pw@h/pi?ssl_ca=/etc/ca.pem&ssl_mode=required"),
            "mysql://pi:pw@h/pi?ssl_ca=/etc/ca.pem&ssl_mode=required"
        );
        let u = parse_database_uri("mysql+pymysql://pi:secret@h/pi").unwrap();
        assert_eq!(u.backend(), Backend::Mysql);
        assert_eq!(u.redacted(), "mysql://pi:***@h/pi");
        assert!(!format!("{u:?}").contains("secret"));
        for bad in [
            "mysql://u:p@h",
            "mysql://u:p@h/",
            "mysql://u:p@h:x/db",
            "mysql://h/a/b",
        ] {
            assert!(
                matches!(parse_database_uri(bad), Err(StoreError::InvalidUri { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn unsupported_and_invalid() {
        assert!(matches!(
            parse_database_uri("oracle+cx_oracle://u:p@h/db"),
            Err(StoreError::UnsupportedBackend(s)) if s == "oracle+cx_oracle"
        ));
        assert!(matches!(
            parse_database_uri("nonsense"),
            Err(StoreError::InvalidUri { .. })
        ));
        let e = parse_database_uri("mssql://u:p@h/db")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "database backend `mssql` is not supported yet");
    }

    #[test]
    fn connect_timeout_added_once() {
        assert_eq!(
            with_connect_timeout("postgresql://h/db", 3),
            "postgresql://h/db?connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgresql://h/db?sslmode=require", 0),
            "postgresql://h/db?sslmode=require&connect_timeout=1"
        );
        assert_eq!(
            with_connect_timeout("postgresql://h/db?connect_timeout=9", 3),
            "postgresql://h/db?connect_timeout=9"
        );
    }
}
