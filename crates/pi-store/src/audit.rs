//! privacyIDEA's audit table `pidea_audit`: one row per request, written in
//! batches and signed the way privacyIDEA's `sqlaudit` module signs (so its
//! reader verifies our rows and ours verifies its), and searched with its
//! filters.
//!
//! The signature covers a text built from the row *as the database returns
//! it* (privacyIDEA signs after the insert, from the reloaded row), so every
//! value here is kept at the precision the columns store: microseconds.

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use crate::conn::AnyConnection;
use crate::store::truncate_micros;
use crate::{Store, StoreError};

const SQLITE_AUDIT: &str = include_str!("sql/sqlite/0002_audit.sql");
const POSTGRES_AUDIT: &str = include_str!("sql/postgresql/0002_audit.sql");
const MARIADB_AUDIT: &str = include_str!("sql/mysql/0002_audit_mariadb.sql");
const MYSQL_AUDIT: &str = include_str!("sql/mysql/0002_audit_mysql.sql");

/// The sizes of privacyIDEA's audit columns (`models.audit_column_length`).
pub const AUDIT_COLUMN_LENGTH: &[(&str, usize)] = &[
    ("signature", 1100),
    ("action", 200),
    ("serial", 200),
    ("token_type", 12),
    ("user", 100),
    ("realm", 255),
    ("resolver", 255),
    ("administrator", 100),
    ("action_detail", 500),
    ("info", 500),
    ("privacyidea_server", 255),
    ("client", 50),
    ("loglevel", 12),
    ("clearance_level", 12),
    ("thread_id", 20),
    ("authentication", 12),
    ("user_agent", 50),
    ("user_agent_version", 20),
    ("policies", 255),
    ("container_serial", 40),
    ("container_type", 100),
];

/// One audit entry (a row of `pidea_audit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Row id (`0` before it is written).
    pub id: i64,
    /// End of the request (local time, as privacyIDEA's `datetime.now()`).
    pub date: NaiveDateTime,
    /// Start of the request.
    pub startdate: Option<NaiveDateTime>,
    /// `date - startdate`.
    pub duration: Option<TimeDelta>,
    /// `rsa_sha256_pss:<hex>`, or `""` when unsigned.
    pub signature: String,
    /// `"<METHOD> <url rule>"`, e.g. `POST /policy/<name>`.
    pub action: String,
    /// `1` or `0`.
    pub success: i32,
    /// `ACCEPT`/`REJECT`/… (`/auth`).
    pub authentication: String,
    /// Token serial(s).
    pub serial: String,
    /// Token type.
    pub token_type: String,
    /// Container serial.
    pub container_serial: String,
    /// Container type.
    pub container_type: String,
    /// The user the request was about.
    pub user: String,
    /// The realm the request was about.
    pub realm: String,
    /// The resolver the request was about.
    pub resolver: String,
    /// The admin who sent the request.
    pub administrator: String,
    /// Route-specific detail.
    pub action_detail: String,
    /// Route-specific information (error messages).
    pub info: String,
    /// The node (`PI_AUDIT_SERVERNAME`, else the node name).
    pub privacyidea_server: String,
    /// The client IP.
    pub client: String,
    /// The User-Agent's product.
    pub user_agent: String,
    /// The User-Agent's version.
    pub user_agent_version: String,
    /// Log level (`default`).
    pub loglevel: String,
    /// Clearance level (`default`).
    pub clearance_level: String,
    /// The thread that served the request.
    pub thread_id: String,
    /// Names of the policies that matched, comma separated.
    pub policies: String,
}

impl Default for AuditRecord {
    fn default() -> Self {
        AuditRecord {
            id: 0,
            date: NaiveDateTime::default(),
            startdate: None,
            duration: None,
            signature: String::new(),
            action: String::new(),
            success: 0,
            authentication: String::new(),
            serial: String::new(),
            token_type: String::new(),
            container_serial: String::new(),
            container_type: String::new(),
            user: String::new(),
            realm: String::new(),
            resolver: String::new(),
            administrator: String::new(),
            action_detail: String::new(),
            info: String::new(),
            privacyidea_server: String::new(),
            client: String::new(),
            user_agent: String::new(),
            user_agent_version: String::new(),
            loglevel: "default".into(),
            clearance_level: "default".into(),
            thread_id: "0".into(),
            policies: String::new(),
        }
    }
}

/// privacyIDEA's `truncate_comma_list`: shortens the longest items of a
/// comma list (marking them with `+`) until the list fits `max` characters.
pub fn truncate_comma_list(data: &str, max: usize) -> String {
    let original: Vec<char> = data.chars().collect();
    let cut = || {
        let head: String = original.iter().take(max).collect();
        let mut head: Vec<char> = head.chars().collect();
        head.pop();
        let mut s: String = head.into_iter().collect();
        s.push('+');
        s
    };
    let mut items: Vec<String> = data.split(',').map(str::to_owned).collect();
    if items.len() >= max {
        return cut();
    }
    let len = |items: &[String]| items.join(",").chars().count();
    while len(&items) > max {
        let Some(longest) = items
            .iter()
            .max_by_key(|s| s.chars().count())
            .filter(|s| s.chars().count() > 1)
            .cloned()
        else {
            return cut();
        };
        let longest_len = longest.chars().count();
        // Python's max() takes the first of equal lengths; every equal item
        // is then shortened (the comparison is by value).
        let first = items
            .iter()
            .find(|s| s.chars().count() == longest_len)
            .cloned()
            .unwrap_or(longest);
        for item in items.iter_mut() {
            if *item == first {
                let keep: String = item.chars().take(longest_len.saturating_sub(2)).collect();
                *item = format!("{keep}+");
            }
        }
    }
    items.join(",")
}

fn fit(value: &mut String, max: usize, comma_list: bool) {
    // bytes >= characters: most values need no character count
    if value.len() <= max || value.chars().count() <= max {
        return;
    }
    *value = if comma_list && value.contains(',') {
        truncate_comma_list(value, max)
    } else {
        value.chars().take(max).collect()
    };
}

/// Python's `str(datetime)`: `YYYY-MM-DD HH:MM:SS[.ffffff]`.
pub fn python_datetime(t: &NaiveDateTime) -> String {
    let mut s = String::with_capacity(26);
    push_datetime(&mut s, t, false);
    s
}

/// Appends `t` as `YYYY-MM-DD HH:MM:SS` and `.ffffff` (always, or — like
/// Python's `str(datetime)` — only when the microseconds are not zero),
/// truncated to microseconds. Written by hand: chrono's `format` parses its
/// pattern on every call, and the audit writer formats three values a row.
fn push_datetime(out: &mut String, t: &NaiveDateTime, always_micros: bool) {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    let nanos = t.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        // out of the 4-digit range, or a leap second: chrono's rendering
        let t = truncate_micros(*t);
        let micros = t.nanosecond() % 1_000_000_000 / 1000;
        let f = if always_micros || micros != 0 {
            "%Y-%m-%d %H:%M:%S%.6f"
        } else {
            "%Y-%m-%d %H:%M:%S"
        };
        out.push_str(&t.format(f).to_string());
        return;
    }
    fn digits(out: &mut String, v: u32, width: u32) {
        let mut div = 10u32.pow(width - 1);
        while div > 0 {
            out.push(char::from(b'0' + (v / div % 10) as u8));
            div /= 10;
        }
    }
    digits(out, year as u32, 4);
    out.push('-');
    digits(out, t.month(), 2);
    out.push('-');
    digits(out, t.day(), 2);
    out.push(' ');
    digits(out, t.hour(), 2);
    out.push(':');
    digits(out, t.minute(), 2);
    out.push(':');
    digits(out, t.second(), 2);
    let micros = nanos / 1000;
    if always_micros || micros != 0 {
        out.push('.');
        digits(out, micros, 6);
    }
}

/// Python's `datetime.isoformat()`: `YYYY-MM-DDTHH:MM:SS[.ffffff]`.
pub fn python_isoformat(t: &NaiveDateTime) -> String {
    python_datetime(t).replacen(' ', "T", 1)
}

/// Python's `str(timedelta)`: `[D day[s], ]H:MM:SS[.ffffff]` (negative
/// durations as Python normalises them: `-1 day, 23:59:59.5`).
pub fn python_timedelta(d: &TimeDelta) -> String {
    let micros = d.num_microseconds().unwrap_or(i64::MAX);
    let day = 86_400_000_000i64;
    let days = micros.div_euclid(day);
    let rest = micros.rem_euclid(day);
    let secs = rest / 1_000_000;
    let us = rest % 1_000_000;
    let mut s = String::new();
    if days != 0 {
        let plural = if days.abs() == 1 { "" } else { "s" };
        s.push_str(&format!("{days} day{plural}, "));
    }
    s.push_str(&format!(
        "{}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    ));
    if us != 0 {
        s.push_str(&format!(".{us:06}"));
    }
    s
}

/// `timedelta.total_seconds()` as Python prints the float.
pub fn python_total_seconds(d: &TimeDelta) -> f64 {
    d.num_microseconds().unwrap_or(i64::MAX) as f64 / 1_000_000.0
}

impl AuditRecord {
    /// Cuts every value to its column (`PI_AUDIT_SQL_TRUNCATE`): comma
    /// lists (`serial`, `policies`, `container_serial`) item by item.
    pub fn truncate(&mut self) {
        for (column, max) in AUDIT_COLUMN_LENGTH {
            let comma = matches!(*column, "policies" | "serial" | "container_serial");
            if let Some(v) = self.column_mut(column) {
                fit(v, *max, comma);
            }
        }
    }

    fn column_mut(&mut self, column: &str) -> Option<&mut String> {
        Some(match column {
            "signature" => &mut self.signature,
            "action" => &mut self.action,
            "serial" => &mut self.serial,
            "token_type" => &mut self.token_type,
            "user" => &mut self.user,
            "realm" => &mut self.realm,
            "resolver" => &mut self.resolver,
            "administrator" => &mut self.administrator,
            "action_detail" => &mut self.action_detail,
            "info" => &mut self.info,
            "privacyidea_server" => &mut self.privacyidea_server,
            "client" => &mut self.client,
            "loglevel" => &mut self.loglevel,
            "clearance_level" => &mut self.clearance_level,
            "thread_id" => &mut self.thread_id,
            "authentication" => &mut self.authentication,
            "user_agent" => &mut self.user_agent,
            "user_agent_version" => &mut self.user_agent_version,
            "policies" => &mut self.policies,
            "container_serial" => &mut self.container_serial,
            "container_type" => &mut self.container_type,
            _ => return None,
        })
    }

    /// The text privacyIDEA signs for this row (`sqlaudit._log_to_string`).
    pub fn sign_text(&self) -> String {
        let mut s = format!(
            "id={},date={},action={},succ={},serial={},t={},u={},r={},adm={},ad={},i={},ps={},c={},l={},cl={}",
            self.id,
            python_datetime(&self.date),
            self.action,
            self.success,
            self.serial,
            self.token_type,
            self.user,
            self.realm,
            self.administrator,
            self.action_detail,
            self.info,
            self.privacyidea_server,
            self.client,
            self.loglevel,
            self.clearance_level
        );
        if let Some(start) = &self.startdate {
            s.push(',');
            s.push_str(&python_datetime(start));
        }
        if let Some(d) = self.duration.filter(|d| !d.is_zero()) {
            s.push(',');
            s.push_str(&python_timedelta(&d));
        }
        if !self.container_serial.is_empty() {
            s.push_str(&format!(",c_serial={}", self.container_serial));
        }
        if !self.container_type.is_empty() {
            s.push_str(&format!(",ct={}", self.container_type));
        }
        s
    }
}

/// Signs an audit row's [`AuditRecord::sign_text`] (`None`: left unsigned).
pub type AuditSigner = dyn Fn(&str) -> Option<String>;

/// What `GET /audit/` asks for.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// `(column, value)` filters, AND-ed: `*` is a wildcard, a leading `!`
    /// negates, `""`/`*` means no filter, `success` compares `is_true`.
    /// Unknown columns are ignored (as privacyIDEA ignores them).
    pub filters: Vec<(String, String)>,
    /// Realm restriction of the `auditlog` admin policy: entries of these
    /// realms, plus the admin's own entries (`admin`).
    pub allowed_realms: Option<Vec<String>>,
    /// The reading admin (name, realm) for [`AuditQuery::allowed_realms`].
    pub admin: Option<(String, String)>,
    /// Only entries newer than this (`hide_audit_time`-style limits).
    pub newer_than: Option<NaiveDateTime>,
    /// Page (1-based).
    pub page: i64,
    /// Entries per page.
    pub page_size: i64,
    /// Newest first.
    pub descending: bool,
}

/// One page of [`Store::search_audit`].
#[derive(Debug, Clone, Default)]
pub struct AuditPage {
    /// Matching entries in all pages.
    pub total: i64,
    /// This page's entries.
    pub entries: Vec<AuditRecord>,
    /// Of the entries' neighbours (`id ± 1`), those that exist.
    pub neighbours: HashSet<i64>,
}

fn date_text_expr(c: &AnyConnection, col: &str, micros: bool) -> String {
    match (c, micros) {
        (AnyConnection::Sqlite(_), _) => col.to_owned(),
        (AnyConnection::Postgres(_), true) => {
            format!("to_char({col}, 'YYYY-MM-DD HH24:MI:SS.US')")
        }
        (AnyConnection::Postgres(_), false) => format!("to_char({col}, 'YYYY-MM-DD HH24:MI:SS')"),
        (AnyConnection::Mysql(_), true) => format!("DATE_FORMAT({col}, '%Y-%m-%d %H:%i:%s.%f')"),
        (AnyConnection::Mysql(_), false) => format!("DATE_FORMAT({col}, '%Y-%m-%d %H:%i:%s')"),
    }
}

const TEXT_COLUMNS: &[&str] = &[
    "signature",
    "action",
    "authentication",
    "serial",
    "token_type",
    "container_serial",
    "container_type",
    "user",
    "realm",
    "resolver",
    "administrator",
    "action_detail",
    "info",
    "privacyidea_server",
    "client",
    "user_agent",
    "user_agent_version",
    "loglevel",
    "clearance_level",
    "thread_id",
    "policies",
];

/// The type a 64-bit integer is `CAST` to (MySQL/MariaDB call it `SIGNED`).
fn bigint_cast(c: &AnyConnection) -> &'static str {
    match c {
        AnyConnection::Mysql(_) => "SIGNED",
        _ => "BIGINT",
    }
}

fn quote_col(c: &AnyConnection, col: &str) -> String {
    match c {
        AnyConnection::Mysql(_) => format!("`{col}`"),
        _ => format!("\"{col}\""),
    }
}

/// A `WHERE` clause and its text binds (in order).
fn where_clause(c: &AnyConnection, q: &AuditQuery) -> (String, Vec<String>) {
    let mut conds: Vec<String> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let ph = |binds: &mut Vec<String>, v: String| -> String {
        binds.push(v);
        match c {
            AnyConnection::Mysql(_) => "?".to_owned(),
            _ => format!("${}", binds.len()),
        }
    };
    for (key, value) in &q.filters {
        let trimmed = value.trim();
        if trimmed.is_empty() || trimmed.trim_matches('*').is_empty() {
            continue;
        }
        if key == "success" {
            let v = value.trim_matches('*');
            let truthy = matches!(v, "1" | "True" | "true" | "TRUE");
            conds.push(format!("success = {}", i32::from(truthy)));
            continue;
        }
        let (raw, column) = if key == "date" || key == "startdate" {
            (key.clone(), date_text_expr(c, key, false))
        } else if key == "id" {
            ("id".to_owned(), cast_text(c, "id"))
        } else if key == "duration" {
            // an interval compared as text is not meaningful on every backend
            continue;
        } else if TEXT_COLUMNS.contains(&key.as_str()) {
            let q = quote_col(c, key);
            (q.clone(), q)
        } else {
            continue;
        };
        let (negate, v) = match value.strip_prefix('!') {
            Some(rest) => (true, rest.to_owned()),
            None => (false, value.clone()),
        };
        let cond = if v.contains('*') {
            let p = ph(&mut binds, pi_model::sqllike::wildcard_to_like(&v));
            format!("{column} LIKE {p} ESCAPE '/'")
        } else {
            let p = ph(&mut binds, v);
            format!("{column} = {p}")
        };
        if negate {
            conds.push(format!("({raw} IS NULL OR NOT ({cond}))"));
        } else {
            conds.push(cond);
        }
    }
    if let Some(t) = &q.newer_than {
        let p = ph(&mut binds, python_datetime(t));
        let rhs = match c {
            AnyConnection::Postgres(_) => format!("CAST({p} AS TIMESTAMP)"),
            _ => p,
        };
        conds.push(format!("date >= {rhs}"));
    }
    if let Some(realms) = &q.allowed_realms {
        let mut ors: Vec<String> = realms
            .iter()
            .map(|r| {
                let p = ph(&mut binds, r.clone());
                format!("realm = {p}")
            })
            .collect();
        if let Some((admin, admin_realm)) = &q.admin {
            let p = ph(&mut binds, admin.clone());
            if admin_realm.is_empty() {
                ors.push(format!("administrator = {p}"));
            } else {
                let p2 = ph(&mut binds, admin_realm.clone());
                ors.push(format!("(administrator = {p} AND realm = {p2})"));
            }
        }
        if ors.is_empty() {
            conds.push("1 = 0".to_owned());
        } else {
            conds.push(format!("({})", ors.join(" OR ")));
        }
    }
    if conds.is_empty() {
        (String::new(), binds)
    } else {
        (format!(" WHERE {}", conds.join(" AND ")), binds)
    }
}

fn cast_text(c: &AnyConnection, col: &str) -> String {
    match c {
        AnyConnection::Mysql(_) => format!("CAST({col} AS CHAR)"),
        _ => format!("CAST({col} AS VARCHAR(40))"),
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    date: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    startdate: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    duration: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    success: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    signature: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    action: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    authentication: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    serial: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    token_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    container_serial: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    container_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    user: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    realm: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    resolver: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    administrator: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    action_detail: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    info: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    privacyidea_server: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    client: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    user_agent: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    user_agent_version: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    loglevel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    clearance_level: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    thread_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    policies: Option<String>,
}

fn parse_dt(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()
}

fn epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

impl Row {
    fn into_record(self, pg: bool) -> AuditRecord {
        let duration = self.duration.as_deref().and_then(|d| {
            if pg {
                d.trim().parse::<i64>().ok().map(TimeDelta::microseconds)
            } else {
                parse_dt(d).map(|t| t - epoch())
            }
        });
        let s = |v: Option<String>| v.unwrap_or_default();
        AuditRecord {
            id: self.id,
            date: self.date.as_deref().and_then(parse_dt).unwrap_or_default(),
            startdate: self.startdate.as_deref().and_then(parse_dt),
            duration,
            signature: s(self.signature),
            action: s(self.action),
            success: self.success.unwrap_or(0),
            authentication: s(self.authentication),
            serial: s(self.serial),
            token_type: s(self.token_type),
            container_serial: s(self.container_serial),
            container_type: s(self.container_type),
            user: s(self.user),
            realm: s(self.realm),
            resolver: s(self.resolver),
            administrator: s(self.administrator),
            action_detail: s(self.action_detail),
            info: s(self.info),
            privacyidea_server: s(self.privacyidea_server),
            client: s(self.client),
            user_agent: s(self.user_agent),
            user_agent_version: s(self.user_agent_version),
            loglevel: s(self.loglevel),
            clearance_level: s(self.clearance_level),
            thread_id: s(self.thread_id),
            policies: s(self.policies),
        }
    }
}

fn select_list(c: &AnyConnection) -> String {
    let duration = match c {
        AnyConnection::Postgres(_) => {
            "CAST(CAST(ROUND(EXTRACT(EPOCH FROM duration) * 1000000) AS BIGINT) AS VARCHAR(40))"
                .to_owned()
        }
        _ => date_text_expr(c, "duration", true),
    };
    let text_cols = TEXT_COLUMNS
        .iter()
        .map(|col| format!("{} AS {}", quote_col(c, col), quote_col(c, col)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "CAST(id AS {big}) AS id, {date} AS date, {start} AS startdate, {duration} AS duration, \
         success, {text_cols}",
        big = bigint_cast(c),
        date = date_text_expr(c, "date", true),
        start = date_text_expr(c, "startdate", true),
    )
}

fn load_rows(
    c: &mut AnyConnection,
    sql: String,
    binds: Vec<String>,
) -> QueryResult<Vec<AuditRecord>> {
    let pg = matches!(c, AnyConnection::Postgres(_));
    let mut q = diesel::sql_query(sql).into_boxed();
    for b in binds {
        q = q.bind::<Text, _>(b);
    }
    let rows: Vec<Row> = q.load(c)?;
    Ok(rows.into_iter().map(|r| r.into_record(pg)).collect())
}

/// Format for a DATETIME value written as text (SQLAlchemy's SQLite format).
fn dt_text(t: &NaiveDateTime) -> String {
    let mut s = String::with_capacity(26);
    push_datetime(&mut s, t, true);
    s
}

impl Store {
    /// Creates `pidea_audit` (and its id sequence where the backend has
    /// them) if missing; an existing table is left as it is.
    pub fn ensure_audit_table(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let c: &mut AnyConnection = &mut conn;
        let sql = match c {
            AnyConnection::Sqlite(_) => SQLITE_AUDIT,
            AnyConnection::Postgres(_) => POSTGRES_AUDIT,
            AnyConnection::Mysql(_) if crate::conn::mysql_has_sequences() => MARIADB_AUDIT,
            AnyConnection::Mysql(_) => MYSQL_AUDIT,
        };
        if let AnyConnection::Postgres(_) = c {
            // several nodes may start at once: CREATE … IF NOT EXISTS races
            c.transaction::<_, StoreError, _>(|c| {
                diesel::sql_query("SELECT pg_advisory_xact_lock(7596953311)").execute(c)?;
                c.batch_execute(sql)?;
                Ok(())
            })?;
        } else {
            c.batch_execute(sql)?;
        }
        Ok(())
    }

    /// Writes `records` in one transaction, each with its new id and the
    /// signature `sign` gives for its [`AuditRecord::sign_text`] (no `sign`,
    /// or `None` from it: unsigned, `""`). Values are cut to their columns first. Either all
    /// rows are written or none.
    pub fn write_audit(
        &self,
        records: &mut [AuditRecord],
        sign: Option<&AuditSigner>,
    ) -> Result<(), StoreError> {
        for r in records.iter_mut() {
            r.truncate();
            r.date = truncate_micros(r.date);
            r.startdate = r.startdate.map(truncate_micros);
        }
        self.write::<_, StoreError>(|c| write_batch(c, records, sign))
    }

    /// One page of audit entries matching `q`, with the total count and the
    /// neighbour ids that exist (for privacyIDEA's `missing_line`).
    pub fn search_audit(&self, q: &AuditQuery) -> Result<AuditPage, StoreError> {
        let q = q.clone();
        self.read(move |c| {
            let (wh, binds) = where_clause(c, &q);
            #[derive(QueryableByName)]
            struct Count {
                #[diesel(sql_type = BigInt)]
                n: i64,
            }
            let big = bigint_cast(c);
            let mut cq = diesel::sql_query(format!(
                "SELECT CAST(COUNT(*) AS {big}) AS n FROM pidea_audit{wh}"
            ))
            .into_boxed();
            for b in binds.clone() {
                cq = cq.bind::<Text, _>(b);
            }
            let counts: Vec<Count> = cq.load(c)?;
            let total = counts.first().map(|r| r.n).unwrap_or(0);
            let size = q.page_size.max(1);
            let offset = (q.page.max(1) - 1).saturating_mul(size);
            let order = if q.descending { "DESC" } else { "ASC" };
            let sql = format!(
                "SELECT {} FROM pidea_audit{wh} ORDER BY id {order} LIMIT {size} OFFSET {offset}",
                select_list(c)
            );
            let entries = load_rows(c, sql, binds)?;
            let neighbours = existing_neighbours(c, &entries)?;
            Ok(AuditPage {
                total,
                entries,
                neighbours,
            })
        })
    }
}

impl Store {
    /// The highest id [`Store::search_audit`] would find for `q` (paging
    /// aside): the upper bound that makes an export a snapshot of the log as
    /// it was when the export started.
    pub fn max_audit_id(&self, q: &AuditQuery) -> Result<Option<i64>, StoreError> {
        let q = q.clone();
        self.read(move |c| {
            let (wh, binds) = where_clause(c, &q);
            #[derive(QueryableByName)]
            struct Max {
                #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
                n: Option<i64>,
            }
            let big = bigint_cast(c);
            let mut mq = diesel::sql_query(format!(
                "SELECT CAST(MAX(id) AS {big}) AS n FROM pidea_audit{wh}"
            ))
            .into_boxed();
            for b in binds {
                mq = mq.bind::<Text, _>(b);
            }
            let rows: Vec<Max> = mq.load(c)?;
            Ok(rows.first().and_then(|r| r.n))
        })
    }

    /// One round of an export (privacyIDEA's `csv_generator`): at most
    /// `limit` entries of `q` with an id up to `up_to`, ordered by date, then
    /// id, after the `(date, id)` of the previous round's last entry.
    /// `total` of the answer is the number of entries of this round.
    pub fn audit_export_round(
        &self,
        q: &AuditQuery,
        up_to: i64,
        after: Option<(NaiveDateTime, i64)>,
        limit: i64,
    ) -> Result<AuditPage, StoreError> {
        let q = q.clone();
        self.read(move |c| {
            let (wh, mut binds) = where_clause(c, &q);
            let mut conds = vec![format!("id <= {up_to}")];
            if let Some((date, id)) = after {
                binds.push(dt_text(&date));
                let p = match c {
                    AnyConnection::Mysql(_) => "?".to_owned(),
                    AnyConnection::Postgres(_) => format!("CAST(${} AS TIMESTAMP)", binds.len()),
                    AnyConnection::Sqlite(_) => format!("${}", binds.len()),
                };
                conds.push(format!("(date > {p} OR (date = {p} AND id > {id}))"));
                if matches!(c, AnyConnection::Mysql(_)) {
                    // `?` placeholders are positional: bind the date twice
                    binds.push(dt_text(&date));
                }
            }
            let joined = conds.join(" AND ");
            let wh = if wh.is_empty() {
                format!(" WHERE {joined}")
            } else {
                format!("{wh} AND {joined}")
            };
            let sql = format!(
                "SELECT {} FROM pidea_audit{wh} ORDER BY date, id LIMIT {}",
                select_list(c),
                limit.max(1)
            );
            let entries = load_rows(c, sql, binds)?;
            let neighbours = existing_neighbours(c, &entries)?;
            Ok(AuditPage {
                total: i64::try_from(entries.len()).unwrap_or(i64::MAX),
                entries,
                neighbours,
            })
        })
    }
}

fn existing_neighbours(
    c: &mut AnyConnection,
    entries: &[AuditRecord],
) -> QueryResult<HashSet<i64>> {
    let mut wanted: Vec<i64> = entries.iter().flat_map(|e| [e.id - 1, e.id + 1]).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut found = HashSet::new();
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let big = bigint_cast(c);
    for chunk in wanted.chunks(500) {
        let list = chunk
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let rows: Vec<Id> = diesel::sql_query(format!(
            "SELECT CAST(id AS {big}) AS id FROM pidea_audit WHERE id IN ({list})"
        ))
        .load(c)?;
        found.extend(rows.into_iter().map(|r| r.id));
    }
    Ok(found)
}

const INSERT_COLUMNS: &str = "date, startdate, duration, signature, action, success, \
     authentication, serial, token_type, container_serial, container_type, \"user\", realm, \
     resolver, administrator, action_detail, info, privacyidea_server, client, user_agent, \
     user_agent_version, loglevel, clearance_level, thread_id, policies";

/// Rows per multi-row `INSERT` (26 binds each).
const INSERT_CHUNK: usize = 200;

/// Signs every record (its id set) when there is a signer.
fn sign_all(records: &mut [AuditRecord], sign: Option<&AuditSigner>) {
    for r in records.iter_mut() {
        r.signature = sign
            .and_then(|sign| sign(&r.sign_text()))
            .unwrap_or_default();
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

fn write_batch(
    c: &mut AnyConnection,
    records: &mut [AuditRecord],
    sign: Option<&AuditSigner>,
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    match c {
        AnyConnection::Postgres(_) => {
            // every id of the batch in one round trip, then signed rows
            // inserted with their ids
            let rows: Vec<Id> = diesel::sql_query(format!(
                "SELECT nextval('audit_seq') AS id FROM generate_series(1, {})",
                records.len()
            ))
            .load(c)?;
            insert_with_ids(c, records, rows, sign)
        }
        AnyConnection::Mysql(_) if crate::conn::mysql_has_sequences() => {
            // MariaDB: the batch's ids from the sequence in one statement
            // (NEXTVAL per row of a generated series; privacyIDEA and other
            // nodes draw from the same sequence, so ids never collide),
            // then multi-row inserts of the signed rows with their ids
            let rows: Vec<Id> = diesel::sql_query(format!(
                "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) \
                 SELECT CAST(NEXTVAL(audit_seq) AS SIGNED) AS id FROM n",
                records.len()
            ))
            .load(c)?;
            insert_with_ids(c, records, rows, sign)
        }
        AnyConnection::Sqlite(_) => {
            // One multi-row insert per chunk; SQLite gives each row the
            // largest rowid + 1 and the write lock is held, so the ids of a
            // chunk are consecutive, ending at last_insert_rowid(). (A
            // cached single-row insert is slower through diesel: it
            // rebuilds the statement's text on every execution.)
            let last_id = "SELECT last_insert_rowid() AS id";
            insert_chunks(c, records, sign, last_id, |last, n| (last - n + 1, 1))
        }
        AnyConnection::Mysql(_) => {
            // MySQL: AUTO_INCREMENT. With the "consecutive" lock mode (0 or
            // 1) a multi-row INSERT gets ids in steps of
            // auto_increment_increment from LAST_INSERT_ID() on, even with
            // other writers inserting at the same time; with "interleaved"
            // (2) it may not, so rows go one by one.
            #[derive(QueryableByName)]
            struct Modes {
                #[diesel(sql_type = BigInt)]
                lock_mode: i64,
                #[diesel(sql_type = BigInt)]
                step: i64,
            }
            let modes: Vec<Modes> = diesel::sql_query(
                "SELECT CAST(@@innodb_autoinc_lock_mode AS SIGNED) AS lock_mode, \
                 CAST(@@auto_increment_increment AS SIGNED) AS step",
            )
            .load(c)?;
            let Some(m) = modes.first().filter(|m| m.lock_mode <= 1) else {
                for r in records.iter_mut() {
                    insert_one(c, r, sign)?;
                }
                return Ok(());
            };
            let step = m.step.max(1);
            let first_id = "SELECT CAST(LAST_INSERT_ID() AS SIGNED) AS id";
            insert_chunks(c, records, sign, first_id, |first, _| (first, step))
        }
    }
}

/// Inserts `records` unsigned in chunks of [`INSERT_CHUNK`] rows, each
/// multi-row insert followed by `id_query`, whose answer and the chunk's
/// length `ids` turns into the chunk's first id and the step between ids;
/// then signs the rows with their ids and writes the signatures.
fn insert_chunks(
    c: &mut AnyConnection,
    records: &mut [AuditRecord],
    sign: Option<&AuditSigner>,
    id_query: &str,
    ids: impl Fn(i64, i64) -> (i64, i64),
) -> Result<(), StoreError> {
    for r in records.iter_mut() {
        r.signature.clear();
    }
    for chunk in records.chunks_mut(INSERT_CHUNK) {
        insert_rows(c, chunk, false)?;
        let rows: Vec<Id> = diesel::sql_query(id_query).load(c)?;
        let answer = rows
            .first()
            .map(|r| r.id)
            .ok_or(diesel::result::Error::NotFound)?;
        let (first, step) = ids(answer, chunk.len() as i64);
        for (i, r) in chunk.iter_mut().enumerate() {
            r.id = first + i as i64 * step;
        }
    }
    if sign.is_some() {
        sign_all(records, sign);
        update_signatures(c, records)?;
    }
    Ok(())
}

/// Gives `records` the ids `ids`, signs them and inserts them with their
/// ids (PostgreSQL, MariaDB).
fn insert_with_ids(
    c: &mut AnyConnection,
    records: &mut [AuditRecord],
    ids: Vec<Id>,
    sign: Option<&AuditSigner>,
) -> Result<(), StoreError> {
    if ids.len() != records.len() {
        return Err(diesel::result::Error::NotFound.into());
    }
    for (r, id) in records.iter_mut().zip(ids) {
        r.id = id.id;
    }
    sign_all(records, sign);
    for chunk in records.chunks(INSERT_CHUNK) {
        insert_rows(c, chunk, true)?;
    }
    Ok(())
}

/// Stores the signatures of rows inserted before their ids were known.
fn update_signatures(c: &mut AnyConnection, records: &[AuditRecord]) -> QueryResult<()> {
    let sql = match c {
        AnyConnection::Mysql(_) => "UPDATE pidea_audit SET signature = ? WHERE id = ?",
        _ => "UPDATE pidea_audit SET signature = $1 WHERE id = $2",
    };
    for r in records.iter().filter(|r| !r.signature.is_empty()) {
        diesel::sql_query(sql)
            .bind::<Text, _>(&r.signature)
            .bind::<BigInt, _>(r.id)
            .execute(c)?;
    }
    Ok(())
}

/// One `INSERT … VALUES (…), (…)` of `rows` (with their ids when `with_id`).
fn insert_rows(c: &mut AnyConnection, rows: &[AuditRecord], with_id: bool) -> QueryResult<()> {
    use std::fmt::Write;
    let pg = matches!(c, AnyConnection::Postgres(_));
    let per_row = if with_id { 26 } else { 25 };
    let id_col = if with_id { "id, " } else { "" };
    let mut sql = format!("INSERT INTO pidea_audit ({id_col}{INSERT_COLUMNS}) VALUES ");
    let mut n = 0usize;
    for (k, _) in rows.iter().enumerate() {
        sql.push_str(if k == 0 { "(" } else { ", (" });
        for i in 0..per_row {
            n += 1;
            if i > 0 {
                sql.push_str(", ");
            }
            let col = if with_id { i } else { i + 1 };
            // `?` on SQLite and MySQL: SQLite's named `$n` parameters are
            // looked up by name, quadratic in a statement with thousands
            if !pg {
                sql.push('?');
            } else {
                let _ = match col {
                    1 | 2 => write!(sql, "CAST(${n} AS TIMESTAMP)"),
                    3 => write!(sql, "CAST(${n} AS INTERVAL)"),
                    _ => write!(sql, "${n}"),
                };
            }
        }
        sql.push(')');
    }
    let duration_text = |d: &TimeDelta| -> String {
        if pg {
            format!("{} microseconds", d.num_microseconds().unwrap_or(0))
        } else {
            dt_text(&(epoch() + *d))
        }
    };
    let mut q = diesel::sql_query(sql).into_boxed();
    for r in rows {
        if with_id {
            q = q.bind::<BigInt, _>(r.id);
        }
        q = bind_values_boxed(q, r, &duration_text);
    }
    q.execute(c)?;
    Ok(())
}

/// One row of MySQL with the "interleaved" AUTO_INCREMENT lock mode: insert,
/// read its id, then store its signature.
fn insert_one(
    c: &mut AnyConnection,
    r: &mut AuditRecord,
    sign: Option<&AuditSigner>,
) -> Result<(), StoreError> {
    r.signature.clear();
    insert_rows(c, std::slice::from_ref(r), false)?;
    let rows: Vec<Id> =
        diesel::sql_query("SELECT CAST(LAST_INSERT_ID() AS SIGNED) AS id").load(c)?;
    r.id = rows
        .first()
        .map(|x| x.id)
        .ok_or(diesel::result::Error::NotFound)?;
    if sign.is_some() {
        sign_all(std::slice::from_mut(r), sign);
        update_signatures(c, std::slice::from_ref(r))?;
    }
    Ok(())
}

type Boxed<'a> = diesel::query_builder::BoxedSqlQuery<
    'a,
    crate::conn::MultiBackend,
    diesel::query_builder::SqlQuery,
>;

fn bind_values_boxed<'a>(
    q: Boxed<'a>,
    r: &'a AuditRecord,
    duration_text: &dyn Fn(&TimeDelta) -> String,
) -> Boxed<'a> {
    q.bind::<Text, _>(dt_text(&r.date))
        .bind::<Nullable<Text>, _>(r.startdate.as_ref().map(dt_text))
        .bind::<Nullable<Text>, _>(r.duration.as_ref().map(duration_text))
        .bind::<Text, _>(r.signature.as_str())
        .bind::<Text, _>(r.action.as_str())
        .bind::<Integer, _>(r.success)
        .bind::<Text, _>(r.authentication.as_str())
        .bind::<Text, _>(r.serial.as_str())
        .bind::<Text, _>(r.token_type.as_str())
        .bind::<Text, _>(r.container_serial.as_str())
        .bind::<Text, _>(r.container_type.as_str())
        .bind::<Text, _>(r.user.as_str())
        .bind::<Text, _>(r.realm.as_str())
        .bind::<Text, _>(r.resolver.as_str())
        .bind::<Text, _>(r.administrator.as_str())
        .bind::<Text, _>(r.action_detail.as_str())
        .bind::<Text, _>(r.info.as_str())
        .bind::<Text, _>(r.privacyidea_server.as_str())
        .bind::<Text, _>(r.client.as_str())
        .bind::<Text, _>(r.user_agent.as_str())
        .bind::<Text, _>(r.user_agent_version.as_str())
        .bind::<Text, _>(r.loglevel.as_str())
        .bind::<Text, _>(r.clearance_level.as_str())
        .bind::<Text, _>(r.thread_id.as_str())
        .bind::<Text, _>(r.policies.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        parse_dt(s).unwrap()
    }

    #[test]
    fn sign_text_is_privacyideas() {
        // a row the release wrote (values as its SQLite database returns them)
        let r = AuditRecord {
            id: 1,
            date: dt("2026-12-06 23:48:10.567560"),
            startdate: Some(dt("2026-12-06 23:48:09.084667")),
            duration: Some(TimeDelta::microseconds(1_482_893)),
            action: "POST /auth".into(),
            success: 1,
            authentication: "ACCEPT".into(),
            administrator: "admin".into(),
            info: "internal admin".into(),
            privacyidea_server: "refnode".into(),
            client: "127.0.0.1".into(),
            ..AuditRecord::default()
        };
        assert_eq!(
            r.sign_text(),
            "id=1,date=2026-12-06 23:48:10.567560,action=POST /auth,succ=1,serial=,t=,u=,r=,\
             adm=admin,ad=,i=internal admin,ps=refnode,c=127.0.0.1,l=default,cl=default,\
             2026-12-06 23:48:09.084667,0:00:01.482893"
        );
    }

    #[test]
    fn python_formats() {
        assert_eq!(
            python_datetime(&dt("2026-01-02 03:04:05")),
            "2026-01-02 03:04:05"
        );
        assert_eq!(
            python_datetime(&dt("2026-01-02 03:04:05.000100")),
            "2026-01-02 03:04:05.000100"
        );
        assert_eq!(python_timedelta(&TimeDelta::seconds(0)), "0:00:00");
        assert_eq!(
            python_timedelta(&TimeDelta::microseconds(9860)),
            "0:00:00.009860"
        );
        assert_eq!(
            python_timedelta(&TimeDelta::seconds(90061)),
            "1 day, 1:01:01"
        );
        assert_eq!(
            python_timedelta(&TimeDelta::seconds(2 * 86400 + 5)),
            "2 days, 0:00:05"
        );
        assert_eq!(
            python_timedelta(&TimeDelta::microseconds(-500_000)),
            "-1 day, 23:59:59.500000"
        );
    }

    #[test]
    fn truncation_like_privacyidea() {
        assert_eq!(truncate_comma_list("abcdef,ghi", 8), "abc+,ghi");
        assert_eq!(truncate_comma_list("a,b,c,d", 3), "a,+");
        let mut r = AuditRecord {
            info: "x".repeat(600),
            policies: format!("{},short", "p".repeat(300)),
            ..AuditRecord::default()
        };
        r.truncate();
        assert_eq!(r.info.len(), 500);
        assert!(r.policies.len() <= 255, "{}", r.policies.len());
        assert!(r.policies.ends_with("+,short"));
    }
}
