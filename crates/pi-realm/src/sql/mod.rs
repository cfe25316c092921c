//! The `sqlresolver`: users in a table of an SQL database (SQLite,
//! PostgreSQL; MySQL/MariaDB SQL is generated but no client is built in),
//! configured by privacyIDEA 3.14's keys and answering like its
//! `SQLIdResolver`.
//!
//! * Building a resolver parses its configuration only. The connection pool
//!   is created on first use; the table is reflected (column names and
//!   types) on first use and kept for the life of the resolver object — the
//!   server builds new objects whenever the configuration changes.
//! * Identifiers are quoted per dialect; every value (login, search pattern,
//!   `Where` value, user id) is a bound parameter.
//! * Login resolution and searches use `LIKE … ESCAPE '/'` exactly like the
//!   release, so case sensitivity is the database's (SQLite: ASCII
//!   case-insensitive; PostgreSQL: case-sensitive).

mod conn;
pub mod hash;
pub mod query;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;

use crate::config::ResolverConfig;
use crate::resolver::BuildError;
use crate::resolver::{AttrValue, ConnectionTest, Resolver, ResolverError, SearchFilter, UserInfo};

use conn::{Conn, Pool, PoolSettings, Target};
pub use conn::{ConnError, ConnectParams};
pub use hash::check_password as verify_password;
use query::{
    escape_like, parse_where, split_table, wildcard_to_like, Bind, Builder, Column, ColumnKind,
    Cond, Dialect, WhereCond, WhereError,
};

/// `/resolver/test` description when the engine cannot be created.
pub const UNABLE_TO_CONNECT: &str = "Unable to connect to database.";
/// `/resolver/test` description when the count query fails.
pub const FAILED_TO_RETRIEVE: &str = "Failed to retrieve users.";

const DEFAULT_LIMIT: i64 = 100;
const DEFAULT_POOL_SIZE: u64 = 5;
const DEFAULT_POOL_TIMEOUT: u64 = 10;
const DEFAULT_POOL_RECYCLE: u64 = 7200;

/// How `bytes` column values are decoded (`Encoding`, default `latin1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Latin1,
    Utf8,
}

impl Encoding {
    fn parse(name: &str) -> Encoding {
        let n = name.trim().to_ascii_lowercase().replace(['-', '_'], "");
        match n.as_str() {
            "" | "latin1" | "iso88591" | "l1" | "latin" => Encoding::Latin1,
            "utf8" | "ascii" | "usascii" => Encoding::Utf8,
            _ => {
                log::warn!("sql resolver: encoding `{name}` is not supported, using utf-8");
                Encoding::Utf8
            }
        }
    }

    fn decode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => s.to_owned(),
                // privacyIDEA stores "decoding_error" for undecodable values
                Err(_) => "decoding_error".to_owned(),
            },
        }
    }
}

/// A resolver over an SQL user table.
#[derive(Debug)]
pub struct SqlResolver {
    params: ConnectParams,
    schema: Option<String>,
    table: String,
    /// privacyIDEA attribute → column, in `Map` order.
    map: Vec<(String, String)>,
    where_text: String,
    where_conds: Result<Vec<WhereCond>, WhereError>,
    limit: i64,
    editable: bool,
    password_hash_type: String,
    encoding: Encoding,
    pool_settings: PoolSettings,
    pool: OnceLock<Result<Pool, ConnError>>,
    columns: Mutex<Option<Arc<Vec<Column>>>>,
}

/// A config value as privacyIDEA's `str()` of the stored value: strings as
/// they are, numbers printed, booleans `True`/`False`, absent/`null` → `""`.
fn cfg_str(config: &ResolverConfig, key: &str) -> String {
    match config.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => if *b { "True" } else { "False" }.to_owned(),
        Some(other) => other.to_string(),
    }
}

/// `int(value or default)`.
fn cfg_int(config: &ResolverConfig, key: &str, default: i64) -> Result<i64, BuildError> {
    let s = cfg_str(config, key);
    let s = s.trim();
    if s.is_empty() || s == "0" || s == "False" {
        return Ok(if s == "0" || s == "False" { 0 } else { default });
    }
    s.parse().map_err(|_| BuildError::InvalidConfig {
        key: key.to_owned(),
        reason: format!("`{s}` is not an integer"),
    })
}

fn cfg_secs(config: &ResolverConfig, key: &str, default: u64) -> Result<u64, BuildError> {
    let n = cfg_int(config, key, 0)?;
    Ok(if n <= 0 {
        default
    } else {
        u64::try_from(n).unwrap_or(default)
    })
}

/// privacyIDEA's `is_true`.
fn is_true(v: &str) -> bool {
    matches!(v, "1" | "True" | "true" | "TRUE")
}

/// The connection keys of a configuration.
pub fn connect_params(config: &ResolverConfig) -> ConnectParams {
    ConnectParams {
        driver: cfg_str(config, "Driver"),
        server: cfg_str(config, "Server"),
        port: cfg_str(config, "Port"),
        database: cfg_str(config, "Database"),
        user: cfg_str(config, "User"),
        password: cfg_str(config, "Password"),
        con_params: cfg_str(config, "conParams"),
    }
}

/// Parses `Map`: a JSON object, or the YAML flow mapping the release also
/// accepts (`{userid: id, username: user}`), attribute → column name.
pub fn parse_map(value: Option<&Value>) -> Result<Vec<(String, String)>, String> {
    let text = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Object(m)) => return Ok(map_entries(m)),
        Some(Value::String(s)) => s.trim(),
        Some(other) => return Err(format!("`{other}` is not a mapping")),
    };
    if text.is_empty() {
        return Ok(Vec::new());
    }
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return match v {
            Value::Object(m) => Ok(map_entries(&m)),
            other => Err(format!("`{other}` is not a mapping")),
        };
    }
    // YAML flow mapping of plain or quoted scalars
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| "neither JSON nor a YAML flow mapping".to_owned())?;
    let unquote = |s: &str| -> Result<String, String> {
        let s = s.trim();
        let q = s
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .or_else(|| s.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')));
        match q {
            Some(q) => Ok(q.to_owned()),
            None if s.is_empty() || s.contains(['{', '}', '[', ']', '"', '\'']) => {
                Err(format!("cannot read `{s}`"))
            }
            None => Ok(s.to_owned()),
        }
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for item in inner.split(',').filter(|i| !i.trim().is_empty()) {
        let (k, v) = item
            .split_once(": ")
            .or_else(|| item.split_once(':'))
            .ok_or_else(|| format!("`{}` is not `key: value`", item.trim()))?;
        let (k, v) = (unquote(k)?, unquote(v)?);
        out.retain(|(kk, _)| *kk != k);
        out.push((k, v));
    }
    Ok(out)
}

fn map_entries(m: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    m.iter()
        .map(|(k, v)| {
            let col = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), col)
        })
        .collect()
}

/// A failed select; `unreachable` when the database could not be used at
/// all (as opposed to a statement that failed).
#[derive(Debug)]
struct SelectError {
    unreachable: bool,
    error: ResolverError,
}

impl SelectError {
    fn unreachable(error: ResolverError) -> SelectError {
        SelectError {
            unreachable: true,
            error,
        }
    }
}

impl From<ResolverError> for SelectError {
    fn from(error: ResolverError) -> Self {
        SelectError {
            unreachable: false,
            error,
        }
    }
}

impl From<SelectError> for ResolverError {
    fn from(e: SelectError) -> Self {
        e.error
    }
}

/// A row: column name → value as text (`None` = NULL).
type Row = BTreeMap<String, Option<String>>;

impl SqlResolver {
    /// Builds the resolver from its (decrypted) configuration. Parses only;
    /// no connection is made. `Table` must be set and `Map` must be a
    /// mapping naming `userid` and `username`.
    pub fn from_config(config: &ResolverConfig) -> Result<SqlResolver, BuildError> {
        let invalid = |key: &str, reason: String| BuildError::InvalidConfig {
            key: key.to_owned(),
            reason,
        };
        let table_key = cfg_str(config, "Table");
        if table_key.is_empty() {
            return Err(invalid("Table", "missing".into()));
        }
        let (schema, table) = split_table(&table_key);
        let map = parse_map(config.get("Map")).map_err(|e| invalid("Map", e))?;
        for needed in ["userid", "username"] {
            if !map.iter().any(|(k, _)| k == needed) {
                return Err(invalid("Map", format!("`{needed}` is not mapped")));
            }
        }
        let limit = match config.get("Limit") {
            None | Some(Value::Null) => DEFAULT_LIMIT,
            Some(_) => cfg_int(config, "Limit", DEFAULT_LIMIT)?,
        };
        let hash_type = cfg_str(config, "Password_Hash_Type");
        Ok(SqlResolver {
            params: connect_params(config),
            schema: schema.map(str::to_owned),
            table: table.to_owned(),
            map,
            where_text: cfg_str(config, "Where"),
            where_conds: parse_where(&cfg_str(config, "Where")),
            limit,
            editable: is_true(&cfg_str(config, "Editable")),
            password_hash_type: if hash_type.is_empty() {
                "SSHA256".to_owned()
            } else {
                hash_type
            },
            encoding: Encoding::parse(&cfg_str(config, "Encoding")),
            pool_settings: PoolSettings {
                size: usize::try_from(cfg_secs(config, "poolSize", DEFAULT_POOL_SIZE)?)
                    .unwrap_or(5),
                timeout: Duration::from_secs(cfg_secs(
                    config,
                    "poolTimeout",
                    DEFAULT_POOL_TIMEOUT,
                )?),
                recycle: Duration::from_secs(cfg_secs(
                    config,
                    "poolRecycle",
                    DEFAULT_POOL_RECYCLE,
                )?),
            },
            pool: OnceLock::new(),
            columns: Mutex::new(None),
        })
    }

    /// The hash scheme for writing passwords (`Password_Hash_Type`,
    /// default `SSHA256`). Writing users is not offered by this server yet.
    pub fn password_hash_type(&self) -> &str {
        &self.password_hash_type
    }

    /// `Limit`: the most rows a user listing returns.
    pub fn limit(&self) -> i64 {
        self.limit
    }

    fn dialect(&self) -> Option<Dialect> {
        self.params.dialect()
    }

    fn pool(&self) -> Result<&Pool, ResolverError> {
        self.pool
            .get_or_init(|| {
                let target = self.params.target(self.pool_settings.timeout.as_secs())?;
                Ok(Pool::new(target, self.pool_settings))
            })
            .as_ref()
            .map_err(|e| ResolverError::Backend(e.to_string()))
    }

    fn backend(e: ConnError) -> ResolverError {
        ResolverError::Backend(e.to_string())
    }

    /// The statement builder over this resolver's table and `columns`
    /// (no dialect: the database cannot be reached).
    fn builder<'b>(&'b self, columns: &'b [Column]) -> Result<Builder<'b>, ResolverError> {
        let dialect = self
            .dialect()
            .ok_or_else(|| ResolverError::Backend(UNABLE_TO_CONNECT.to_owned()))?;
        Ok(Builder {
            dialect,
            schema: self.schema.as_deref(),
            table: &self.table,
            columns,
        })
    }

    /// The reflected columns of the table (cached after the first success).
    fn columns(&self) -> Result<Arc<Vec<Column>>, ResolverError> {
        if let Some(c) = self.columns.lock().ok().and_then(|g| g.clone()) {
            return Ok(c);
        }
        let builder = self.builder(&[])?;
        let st = builder.reflect();
        let cols = self
            .pool()?
            .with(|c: &mut Conn| c.columns(&st))
            .map_err(Self::backend)?;
        if cols.is_empty() {
            return Err(ResolverError::Backend(format!(
                "table `{}` not found",
                self.table
            )));
        }
        let cols = Arc::new(
            cols.into_iter()
                .map(|(name, typ)| Column {
                    kind: ColumnKind::classify(builder.dialect, &typ),
                    name,
                })
                .collect::<Vec<_>>(),
        );
        if let Ok(mut g) = self.columns.lock() {
            *g = Some(cols.clone());
        }
        Ok(cols)
    }

    fn mapped(&self, key: &str) -> Option<&str> {
        self.map
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, c)| c.as_str())
    }

    /// Runs a select over the mapped columns that exist, with `conds` built
    /// against the table plus the `Where` filter.
    fn select(
        &self,
        cols: &[Column],
        conds: impl for<'b> FnOnce(&Builder<'b>) -> Result<Vec<Cond<'b>>, ResolverError>,
        limit: Option<i64>,
    ) -> Result<Vec<Row>, SelectError> {
        let builder = self.builder(cols)?;
        let mut wanted: Vec<&Column> = Vec::new();
        for (_, col) in &self.map {
            if let Ok(c) = builder.column(col) {
                if !wanted.iter().any(|w| w.name == c.name) {
                    wanted.push(c);
                }
            }
        }
        let mut all = conds(&builder)?;
        let where_conds = self
            .where_conds
            .as_ref()
            .map_err(|e| ResolverError::Backend(e.to_string()))?;
        all.extend(
            builder
                .where_conds(where_conds)
                .map_err(|e| ResolverError::Backend(e.to_string()))?,
        );
        let st = builder
            .select(&wanted, &all, limit)
            .map_err(|e| ResolverError::Backend(e.to_string()))?;
        let raw = self
            .pool()
            .map_err(SelectError::unreachable)?
            .with(|c: &mut Conn| c.rows(&st))
            .map_err(|e| match e {
                ConnError::Query(_) => SelectError::from(Self::backend(e)),
                ConnError::Connect(_) | ConnError::Driver(_) => {
                    SelectError::unreachable(Self::backend(e))
                }
            })?;
        raw.into_iter()
            .map(|j| {
                let values: Vec<Option<String>> = match j {
                    Some(text) => serde_json::from_str(&text)
                        .map_err(|e| ResolverError::Backend(format!("bad row: {e}")))?,
                    None => Vec::new(),
                };
                Ok(wanted
                    .iter()
                    .zip(values.into_iter().chain(std::iter::repeat(None)))
                    .map(|(c, v)| {
                        let v = match (c.kind, v) {
                            (ColumnKind::Binary, Some(h)) => {
                                Some(self.encoding.decode(&hex::decode(h).unwrap_or_default()))
                            }
                            (_, v) => v,
                        };
                        (c.name.clone(), v)
                    })
                    .collect())
            })
            .collect()
    }

    /// privacyIDEA's `_get_user_from_mapped_object`: `id` = the user-id
    /// column's value, then every Map key whose value is truthy.
    fn record(&self, cols: &[Column], row: &Row) -> UserInfo {
        let kind = |name: &str| cols.iter().find(|c| c.name == name).map(|c| c.kind);
        let mut info = UserInfo::new();
        if let Some(col) = self.mapped("userid") {
            if let Some(Some(v)) = row.get(col) {
                info.insert("id".into(), AttrValue::Str(v.clone()));
            }
        }
        for (key, col) in &self.map {
            let Some(Some(v)) = row.get(col) else {
                continue;
            };
            if truthy(kind(col), v) {
                info.insert(key.clone(), AttrValue::Str(v.clone()));
            }
        }
        info
    }

    /// The full record (password included) of the user with id `uid`.
    fn record_by_uid(&self, uid: &str) -> Result<Option<UserInfo>, ResolverError> {
        let cols = self.columns()?;
        let id_col = self
            .mapped("userid")
            .ok_or_else(|| ResolverError::Backend("`userid` is not mapped".into()))?;
        let column = cols
            .iter()
            .find(|c| c.name == id_col)
            .ok_or_else(|| {
                ResolverError::Backend(format!("column `{id_col}` is not in the table"))
            })?
            .clone();
        let bind = match column.kind {
            ColumnKind::Int => match uid.trim().parse::<i64>() {
                Ok(n) => Some(Bind::Int(n)),
                // int(uid) fails: no such user, no query
                Err(_) => return Ok(None),
            },
            ColumnKind::Text => Some(Bind::Text(uid.to_owned())),
            _ => None,
        };
        let rows = self.select(
            &cols,
            |b| {
                let col = b
                    .column(id_col)
                    .map_err(|e| ResolverError::Backend(e.to_string()))?;
                Ok(vec![match bind {
                    Some(bind) => Cond::IdEquals(col, bind),
                    None => Cond::LikeEscaped(col, escape_like(uid)),
                }])
            },
            None,
        )?;
        Ok(rows.first().map(|r| self.record(&cols, r)))
    }

    /// The connection test of `POST /resolver/test` for an unsaved
    /// configuration, answering privacyIDEA's texts: `(count, "Found <count>
    /// users.")`, `(-1, "Unable to connect to database.")` when the driver
    /// is unusable, `(-1, "Failed to retrieve users.")` for every failure
    /// reaching or reading the table (refused, timeout, authentication,
    /// missing table or column, bad `Where`). `Map`, `Limit` and the pool
    /// keys are ignored; PostgreSQL connects within `poolTimeout` seconds
    /// (default 10) unless `conParams` sets `connect_timeout`.
    ///
    /// A missing `Table` is an error (privacyIDEA answers HTTP 500).
    pub fn test_config(config: &ResolverConfig) -> Result<ConnectionTest, BuildError> {
        let table_key = cfg_str(config, "Table");
        if !config.contains_key("Table") {
            return Err(BuildError::InvalidConfig {
                key: "Table".into(),
                reason: "missing".into(),
            });
        }
        let fail = |desc: &str| ConnectionTest {
            success: false,
            description: desc.to_owned(),
            count: Some(-1),
        };
        let params = connect_params(config);
        let timeout = match cfg_int(config, "poolTimeout", 0) {
            Ok(n) if n > 0 => u64::try_from(n).unwrap_or(DEFAULT_POOL_TIMEOUT),
            _ => DEFAULT_POOL_TIMEOUT,
        };
        let (Some(dialect), Ok(target)) = (params.dialect(), params.target(timeout)) else {
            log::warn!("sql resolver test: unusable driver `{}`", params.driver);
            return Ok(fail(UNABLE_TO_CONNECT));
        };
        if matches!(target, Target::Mysql { .. }) && !cfg!(feature = "mysql") {
            log::warn!("sql resolver test: built without the `mysql` feature");
            return Ok(fail(UNABLE_TO_CONNECT));
        }
        let (schema, table) = split_table(&table_key);
        let count = (|| -> Result<i64, String> {
            let mut conn =
                Conn::open(&target, Duration::from_secs(timeout)).map_err(|e| e.to_string())?;
            let probe = Builder {
                dialect,
                schema,
                table,
                columns: &[],
            };
            let cols: Vec<Column> = conn
                .columns(&probe.reflect())
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|(name, typ)| Column {
                    kind: ColumnKind::classify(dialect, &typ),
                    name,
                })
                .collect();
            if cols.is_empty() {
                return Err(format!("table `{table}` not found"));
            }
            let builder = Builder {
                columns: &cols,
                ..probe
            };
            let where_conds = parse_where(&cfg_str(config, "Where")).map_err(|e| e.to_string())?;
            let conds = builder
                .where_conds(&where_conds)
                .map_err(|e| e.to_string())?;
            let st = builder.count(&conds).map_err(|e| e.to_string())?;
            conn.count(&st).map_err(|e| e.to_string())
        })();
        Ok(match count {
            Ok(n) => ConnectionTest {
                success: true,
                description: format!("Found {n} users."),
                count: Some(n),
            },
            Err(e) => {
                log::warn!("sql resolver test: failed to retrieve users: {e}");
                fail(FAILED_TO_RETRIEVE)
            }
        })
    }
}

/// Python truthiness of a column value given as text.
fn truthy(kind: Option<ColumnKind>, v: &str) -> bool {
    match kind {
        _ if v.is_empty() => false,
        Some(ColumnKind::Int) => v.trim().parse::<i64>() != Ok(0),
        Some(ColumnKind::Float) => v.trim().parse::<f64>() != Ok(0.0),
        Some(ColumnKind::Other) => !matches!(v, "0" | "0.0" | "false"),
        _ => true,
    }
}

/// Python's repr of a list of strings: `['a', 'b']`.
fn py_list(items: &[&str]) -> String {
    let inner: Vec<String> = items
        .iter()
        .map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")))
        .collect();
    format!("[{}]", inner.join(", "))
}

impl Resolver for SqlResolver {
    fn rtype(&self) -> &'static str {
        "sqlresolver"
    }

    /// The user id of the first row whose username column is `LIKE` the
    /// escaped login (and that passes `Where`). Connection and reflection
    /// failures are errors (privacyIDEA fails building the resolver object);
    /// a failing query is logged and means "not found", as in the release.
    fn user_id(&self, login: &str) -> Result<String, ResolverError> {
        let cols = self.columns()?;
        let not_found = || ResolverError::NotFound(login.to_owned());
        let Some(user_col) = self.mapped("username") else {
            return Err(not_found());
        };
        let rows = self.select(
            &cols,
            |b| {
                let col = b
                    .column(user_col)
                    .map_err(|e| ResolverError::Backend(e.to_string()))?;
                Ok(vec![Cond::LikeEscaped(col, escape_like(login))])
            },
            Some(1),
        );
        let rows = match rows {
            Ok(r) => r,
            // the database cannot be reached: an error (privacyIDEA fails
            // creating the resolver object, which ends the realm lookup)
            Err(SelectError {
                unreachable: true,
                error,
            }) => return Err(error),
            // anything else is swallowed like the release's getUserId
            Err(SelectError { error, .. }) => {
                log::error!("sql resolver: could not get the user id of `{login}`: {error}");
                return Err(not_found());
            }
        };
        match rows.first().map(|r| self.record(&cols, r)) {
            Some(info) => match info.get("userid") {
                Some(uid) => Ok(uid.as_str().to_owned()),
                None => Err(not_found()),
            },
            None => Err(not_found()),
        }
    }

    fn username(&self, uid: &str) -> Result<String, ResolverError> {
        match self.record_by_uid(uid)? {
            Some(info) => Ok(info
                .get("username")
                .map(|v| v.as_str().to_owned())
                .unwrap_or_default()),
            None => Err(ResolverError::NotFound(uid.to_owned())),
        }
    }

    /// The mapped attributes of the user (falsy values omitted), plus `id`
    /// (the user-id column's value); never the password.
    fn user_info(&self, uid: &str) -> Result<UserInfo, ResolverError> {
        match self.record_by_uid(uid)? {
            Some(mut info) => {
                info.remove("password");
                Ok(info)
            }
            None => Err(ResolverError::NotFound(uid.to_owned())),
        }
    }

    fn check_password(&self, uid: &str, password: &str) -> Result<bool, ResolverError> {
        let info = self
            .record_by_uid(uid)?
            .ok_or_else(|| ResolverError::NotFound(uid.to_owned()))?;
        Ok(match info.get("password") {
            Some(stored) => hash::check_password(password, stored.as_str()),
            None => false,
        })
    }

    /// privacyIDEA's `getUserList`: every key must be a Map key (else
    /// `Search parameter ([…]) not available in column mapping.`), its column
    /// must exist (else a backend error `Search parameter (<key>) not
    /// available in resolver.`); values use `*` as the only wildcard; plus
    /// `Where`, at most `Limit` rows, database order, rows without a user id
    /// dropped, no password.
    fn user_list(&self, filter: &SearchFilter) -> Result<Vec<UserInfo>, ResolverError> {
        let unknown: Vec<&str> = filter
            .keys()
            .map(String::as_str)
            .filter(|k| self.mapped(k).is_none())
            .collect();
        if !unknown.is_empty() {
            return Err(ResolverError::InvalidSearch(format!(
                "Search parameter ({}) not available in column mapping.",
                py_list(&unknown)
            )));
        }
        let cols = self.columns()?;
        let rows = self.select(
            &cols,
            |b| {
                filter
                    .iter()
                    .map(|(key, value)| {
                        let col = self.mapped(key).unwrap_or_default();
                        let col = b.column(col).map_err(|_| {
                            ResolverError::Backend(format!(
                                "Search parameter ({key}) not available in resolver."
                            ))
                        })?;
                        Ok(Cond::LikeEscaped(col, wildcard_to_like(value)))
                    })
                    .collect()
            },
            Some(self.limit),
        )?;
        Ok(rows
            .iter()
            .map(|r| self.record(&cols, r))
            .filter(|info| info.contains_key("userid"))
            .map(|mut info| {
                info.remove("password");
                info
            })
            .collect())
    }

    fn test_connection(&self) -> Result<ConnectionTest, ResolverError> {
        let mut config = ResolverConfig::new();
        let p = &self.params;
        for (k, v) in [
            ("Driver", &p.driver),
            ("Server", &p.server),
            ("Port", &p.port),
            ("Database", &p.database),
            ("User", &p.user),
            ("Password", &p.password),
            ("conParams", &p.con_params),
        ] {
            config.insert(k.into(), Value::String(v.clone()));
        }
        let table = match &self.schema {
            Some(s) => format!("{s}.{}", self.table),
            None => self.table.clone(),
        };
        config.insert("Table".into(), Value::String(table));
        config.insert("Where".into(), Value::String(self.where_text.clone()));
        config.insert(
            "poolTimeout".into(),
            Value::from(self.pool_settings.timeout.as_secs()),
        );
        SqlResolver::test_config(&config).map_err(|e| ResolverError::Backend(e.to_string()))
    }

    fn editable(&self) -> bool {
        self.editable
    }
}

#[cfg(test)]
mod tests;
