//! The LDAP resolver (`ldapresolver`), behaviour of privacyIDEA 3.14's
//! `LDAPIdResolver` (spec `resolvers-sql-ldap.md` §3); deviations are listed
//! on [`LdapResolver`].

mod config;
pub mod filter;
mod schema;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use ldap3::{
    LdapConn, LdapConnSettings, LdapError, Scope as LdapScope, SearchEntry, SearchOptions,
    StdStream,
};

pub use config::{
    parse_flow_mapping, parse_flow_sequence, GroupSearch, LdapConfig, Scope, Secret, ServerUri,
    Strategy,
};
pub use schema::{generalized_time_to_http, AttrType, Schema};

use crate::config::ResolverConfig;
use crate::resolver::BuildError;
use crate::resolver::{AttrValue, ConnectionTest, Resolver, ResolverError, SearchFilter, UserInfo};

/// The error text when no server of the pool answers (as in the release).
pub const NO_ACTIVE_SERVER: &str =
    "no active server available in server pool after maximum number of tries";

/// Idle service connections kept per resolver.
const MAX_IDLE: usize = 4;
/// Entries per page of a listing (the release reverses each page).
const PAGE: usize = 100;

/// Resolver over an LDAP directory.
///
/// Built without network I/O. The first lookup opens a service connection
/// (bound as `BINDDN`, or anonymous) and keeps it for reuse; up to a few
/// idle connections are kept so concurrent lookups do not queue on one
/// socket, and a connection that fails is dropped and the operation retried
/// once on a fresh one. Password checks bind as the user on a connection of
/// their own (never reused). The directory schema is read once per resolver
/// (unless `NOSCHEMAS`) to shape values as the release does.
///
/// Deviations from the release (see `docs/compatibility.md`):
/// * a pool without a reachable server fails after one pass over the
///   servers (each bounded by `TIMEOUT`) instead of sleeping
///   `SERVERPOOL_ROUNDS` × 10 s; `SERVERPOOL_ROUNDS`/`PERSISTENT` are
///   accepted and have no further effect, `SERVERPOOL_SKIP` is honoured
///   (a dead server is tried last for that many seconds);
/// * the lookup cache lives in the resolver object, so saving the resolver
///   (a new object) starts with an empty cache; a login lookup also caches
///   the DN and the user info it fetched;
/// * `AUTHTYPE` `NTLM`, `SASL Digest-MD5`, `SASL Kerberos` are refused with
///   a clear error; `TLS_VERSION` is not used (rustls negotiates TLS 1.2/1.3);
/// * referrals are never chased (`NOREFERRALS` is always in effect);
/// * with the schema, Octet String values (e.g. `userPassword`) are left
///   out (the release answers HTTP 500), INTEGER/Boolean values stay strings;
/// * the editing functions (`EDITABLE`) are not implemented.
#[derive(Debug)]
pub struct LdapResolver {
    cfg: LdapConfig,
    id: String,
    pool: Mutex<PoolState>,
    idle: Mutex<Vec<LdapConn>>,
    schema: Mutex<Option<Arc<Schema>>>,
    tls: OnceLock<Result<Option<Arc<rustls::ClientConfig>>, String>>,
    cache: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct PoolState {
    next: usize,
    dead_until: HashMap<usize, Instant>,
}

#[derive(Debug, Default)]
struct Cache {
    user_id: HashMap<String, (Instant, Option<String>)>,
    info: HashMap<String, (Instant, Option<UserInfo>)>,
    dn: HashMap<String, (Instant, Option<String>)>,
}

/// An entry as returned by the directory.
#[derive(Debug, Clone)]
struct Entry {
    dn: String,
    attrs: Vec<(String, Vec<String>)>,
    bin: Vec<(String, Vec<Vec<u8>>)>,
}

/// Why an operation failed.
#[derive(Debug)]
enum Fail {
    /// No server could be reached.
    NoServer,
    /// The service bind was rejected (`description (code)`).
    Bind(String),
    /// StartTLS was refused.
    StartTls(String),
    /// Anything else.
    Other(String),
}

impl Fail {
    fn text(&self) -> String {
        match self {
            Fail::NoServer => NO_ACTIVE_SERVER.to_owned(),
            Fail::Bind(d) => format!("ERR907: Unable to perform bind operation: {d}"),
            Fail::StartTls(d) => format!("ERR907: Unable to create connection with StartTLS: {d}"),
            Fail::Other(d) => d.clone(),
        }
    }
}

impl From<Fail> for ResolverError {
    fn from(f: Fail) -> Self {
        ResolverError::Backend(f.text())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Result code names as the release's client library prints them.
pub fn result_name(rc: u32) -> &'static str {
    match rc {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        13 => "confidentialityRequired",
        14 => "saslBindInProgress",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        18 => "inappropriateMatching",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "unknown",
    }
}

fn ldap_err(e: &LdapError) -> String {
    match e {
        LdapError::LdapResult { result } => {
            format!("{} ({})", result_name(result.rc), result.rc)
        }
        other => other.to_string(),
    }
}

impl LdapResolver {
    /// Builds the resolver from its (decrypted) configuration. No network
    /// I/O; see [`LdapConfig::parse`] for what is an error here.
    pub fn from_config(config: &ResolverConfig) -> Result<Self, BuildError> {
        let cfg = LdapConfig::parse(config)?;
        Ok(Self::new(cfg))
    }

    /// A resolver over a parsed configuration.
    pub fn new(cfg: LdapConfig) -> Self {
        let id = cfg.resolver_id();
        LdapResolver {
            cfg,
            id,
            pool: Mutex::new(PoolState::default()),
            idle: Mutex::new(Vec::new()),
            schema: Mutex::new(None),
            tls: OnceLock::new(),
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The parsed configuration.
    pub fn config(&self) -> &LdapConfig {
        &self.cfg
    }

    /// privacyIDEA's `getResolverId` (see [`LdapConfig::resolver_id`]).
    pub fn resolver_id(&self) -> &str {
        &self.id
    }

    /// Number of idle service connections (for tests of connection reuse).
    pub fn idle_connections(&self) -> usize {
        lock(&self.idle).len()
    }

    fn problem(&self) -> Result<(), ResolverError> {
        match &self.cfg.problem {
            Some(p) => Err(ResolverError::Backend(p.clone())),
            None => Ok(()),
        }
    }

    fn search_filter(&self) -> Result<&str, ResolverError> {
        self.cfg
            .search_filter
            .as_deref()
            .ok_or_else(|| ResolverError::Backend("LDAPSEARCHFILTER is not configured".into()))
    }

    fn base(&self) -> &str {
        self.cfg.base.as_deref().unwrap_or("")
    }

    // ----- connections -----

    fn tls_config(&self) -> Result<Option<Arc<rustls::ClientConfig>>, Fail> {
        self.tls
            .get_or_init(|| {
                if !self.cfg.tls_verify {
                    return Ok(None);
                }
                let Some(path) = &self.cfg.tls_ca_file else {
                    return Ok(None);
                };
                build_tls_config(path).map(|c| Some(Arc::new(c)))
            })
            .clone()
            .map_err(Fail::Other)
    }

    /// Servers in the order to try: strategy start, servers marked dead
    /// (within `SERVERPOOL_SKIP`) last.
    fn server_order(&self) -> Vec<usize> {
        let n = self.cfg.servers.len();
        let mut pool = lock(&self.pool);
        let start = match self.cfg.strategy {
            Strategy::First => 0,
            Strategy::RoundRobin => {
                let s = pool.next % n.max(1);
                pool.next = s + 1;
                s
            }
            Strategy::Random => usize::from(rand::random::<u16>()) % n.max(1),
        };
        let now = Instant::now();
        pool.dead_until.retain(|_, until| *until > now);
        let (mut alive, dead): (Vec<usize>, Vec<usize>) = (0..n)
            .map(|i| (start + i) % n)
            .partition(|i| !pool.dead_until.contains_key(i));
        alive.extend(dead);
        alive
    }

    fn mark(&self, idx: usize, ok: bool) {
        let mut pool = lock(&self.pool);
        if ok {
            pool.dead_until.remove(&idx);
        } else {
            pool.dead_until.insert(idx, Instant::now() + self.cfg.skip);
        }
    }

    /// Opens a connection to the first reachable server of the pool
    /// (TCP connect bounded by `TIMEOUT`, then TLS/StartTLS). No bind.
    fn connect(&self) -> Result<LdapConn, Fail> {
        for idx in self.server_order() {
            let Some(server) = self.cfg.servers.get(idx) else {
                continue;
            };
            let stream = match tcp_connect(server, self.cfg.timeout) {
                Ok(s) => s,
                Err(e) => {
                    log::warn!("ldap server {} unreachable: {e}", server.url());
                    self.mark(idx, false);
                    continue;
                }
            };
            self.mark(idx, true);
            let mut settings = LdapConnSettings::new()
                .set_conn_timeout(self.cfg.timeout)
                .set_std_stream(StdStream::Tcp(stream));
            if server.ssl || self.cfg.start_tls {
                let tls = self.tls_config()?;
                settings = settings.set_starttls(self.cfg.start_tls && !server.ssl);
                match &tls {
                    _ if !self.cfg.tls_verify => settings = settings.set_no_tls_verify(true),
                    Some(c) => settings = settings.set_config(c.clone()),
                    None => {}
                }
            }
            return match LdapConn::with_settings(settings, &server.url()) {
                Ok(c) => Ok(c),
                Err(LdapError::LdapResult { result }) if self.cfg.start_tls => Err(Fail::StartTls(
                    format!("startTLS failed - {}", result_name(result.rc)),
                )),
                Err(e) if self.cfg.start_tls => Err(Fail::StartTls(e.to_string())),
                Err(e) => Err(Fail::Other(format!("{}: {e}", server.url()))),
            };
        }
        Err(Fail::NoServer)
    }

    /// A connection bound as the service account (or anonymous).
    fn service_connection(&self) -> Result<LdapConn, Fail> {
        self.service_connection_reused().map(|(c, _)| c)
    }

    /// [`Self::service_connection`] and whether it is a reused idle one.
    fn service_connection_reused(&self) -> Result<(LdapConn, bool), Fail> {
        if let Some(c) = lock(&self.idle).pop() {
            return Ok((c, true));
        }
        let mut conn = self.connect()?;
        let anonymous = self.cfg.bind_dn.is_empty() || self.cfg.authtype == "Anonymous";
        if !anonymous {
            // a DN with an empty password would be an unauthenticated bind
            // (RFC 4513), which servers accept as anonymous; the release's
            // client refuses it with this text
            if self.cfg.bind_pw.0.is_empty() {
                return Err(Fail::Other("password is mandatory in simple bind".into()));
            }
            conn.with_timeout(self.cfg.timeout);
            match conn.simple_bind(&self.cfg.bind_dn, &self.cfg.bind_pw.0) {
                Ok(r) if r.rc == 0 => {}
                Ok(r) => {
                    return Err(Fail::Bind(format!("{} ({})", result_name(r.rc), r.rc)));
                }
                Err(e) => {
                    return Err(Fail::Other(format!(
                        "ERR907: Error performing bind operation: {}",
                        ldap_err(&e)
                    )))
                }
            }
        }
        if !self.cfg.noschemas && lock(&self.schema).is_none() {
            match read_schema(&mut conn, self.cfg.timeout) {
                Ok(s) => *lock(&self.schema) = Some(Arc::new(s)),
                Err(e) => log::warn!("ldap schema of {} not readable: {e}", self.cfg.uri),
            }
        }
        Ok((conn, false))
    }

    fn give_back(&self, conn: LdapConn) {
        let mut idle = lock(&self.idle);
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    fn current_schema(&self) -> Option<Arc<Schema>> {
        if self.cfg.noschemas {
            None
        } else {
            lock(&self.schema).clone()
        }
    }

    /// Runs a search on a service connection; a transport failure on a
    /// reused connection is retried once on a fresh one.
    fn search(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[String],
        sizelimit: Option<usize>,
    ) -> Result<Vec<Entry>, Fail> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (mut conn, reused) = self.service_connection_reused()?;
            // the release's client checks requested attributes against the schema
            if let Some(schema) = self.current_schema() {
                if let Some(bad) = attrs.iter().find(|a| schema.get(a).is_none()) {
                    self.give_back(conn);
                    return Err(Fail::Other(format!("invalid attribute type {bad}")));
                }
            }
            match run_search(
                &mut conn,
                self.cfg.timeout,
                base,
                scope,
                filter,
                attrs,
                sizelimit,
            ) {
                Ok(entries) => {
                    self.give_back(conn);
                    return Ok(entries);
                }
                Err(SearchFail::Ldap(text)) => {
                    self.give_back(conn);
                    return Err(Fail::Other(text));
                }
                Err(SearchFail::Transport(text)) => {
                    drop(conn);
                    // only a reused connection may have gone stale
                    if attempt >= 2 || !reused {
                        return Err(Fail::Other(text));
                    }
                    log::info!(
                        "ldap connection to {} lost ({text}); reconnecting",
                        self.cfg.uri
                    );
                }
            }
        }
    }

    // ----- cache -----

    fn cache_on(&self) -> bool {
        self.cfg.cache_timeout > 0
    }

    fn cached<T: Clone>(
        &self,
        pick: impl FnOnce(&mut Cache) -> &mut HashMap<String, (Instant, T)>,
        key: &str,
    ) -> Option<T> {
        if !self.cache_on() {
            return None;
        }
        let ttl = Duration::from_secs(self.cfg.cache_timeout.unsigned_abs());
        let mut cache = lock(&self.cache);
        let map = pick(&mut cache);
        let now = Instant::now();
        map.retain(|_, (t, _)| now < *t + ttl);
        map.get(key).map(|(_, v)| v.clone())
    }

    fn store<T>(
        &self,
        pick: impl FnOnce(&mut Cache) -> &mut HashMap<String, (Instant, T)>,
        key: &str,
        value: T,
    ) {
        if self.cache_on() {
            let mut cache = lock(&self.cache);
            pick(&mut cache).insert(key.to_owned(), (Instant::now(), value));
        }
    }

    // ----- entries → uids and user info -----

    fn uid_of(&self, entry: &Entry) -> Option<String> {
        let Some(attr) = self.cfg.uid_attr() else {
            return Some(entry.dn.clone());
        };
        if let Some((_, vals)) = entry
            .attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(attr))
        {
            let v = vals.first()?;
            return Some(if attr.eq_ignore_ascii_case("objectguid") {
                v.trim_start_matches('{').trim_end_matches('}').to_owned()
            } else {
                v.clone()
            });
        }
        let (_, vals) = entry
            .bin
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(attr))?;
        filter::uid_from_bytes(attr, vals.first()?)
    }

    fn shape(&self, entry: &Entry, schema: Option<&Schema>) -> UserInfo {
        let mut info = UserInfo::new();
        for (key, attr) in &self.cfg.userinfo {
            let multi = self.cfg.multivalue.iter().any(|m| m == key);
            // binary values: 16-byte GUIDs as their text, anything else dropped
            let returned: Option<Vec<String>> = entry
                .attrs
                .iter()
                .find(|(n, _)| n == attr)
                .map(|(_, v)| v.clone())
                .or_else(|| {
                    entry.bin.iter().find(|(n, _)| n == attr).map(|(_, v)| {
                        v.iter()
                            .filter_map(|b| filter::uid_from_bytes(attr, b))
                            .collect()
                    })
                });
            let values: Vec<String> = match &returned {
                Some(v) => v.clone(),
                None => {
                    // returned under another spelling (the server's), or
                    // binary: the key stays absent; requested but not in
                    // the entry: empty
                    let other_case = entry
                        .attrs
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case(attr))
                        || entry.bin.iter().any(|(n, _)| n.eq_ignore_ascii_case(attr));
                    let canonical_differs = schema
                        .and_then(|s| s.get(attr))
                        .is_some_and(|t| t.name != *attr);
                    if other_case || canonical_differs {
                        continue;
                    }
                    Vec::new()
                }
            };
            let atype = schema.and_then(|s| s.get(attr));
            let values: Vec<String> = match atype.and_then(|t| t.syntax.as_deref()) {
                Some(schema::OCTET_STRING) => Vec::new(),
                Some(schema::GENERALIZED_TIME) => values
                    .iter()
                    .map(|v| generalized_time_to_http(v).unwrap_or_else(|| v.clone()))
                    .collect(),
                _ => values,
            };
            let single = schema.is_some() && atype.is_some_and(|t| t.single) && returned.is_some();
            let value = if attr.eq_ignore_ascii_case("objectguid") {
                AttrValue::Str(
                    values
                        .first()
                        .map(|v| v.trim_start_matches('{').trim_end_matches('}').to_owned())
                        .unwrap_or_default(),
                )
            } else if single || !multi {
                AttrValue::Str(values.into_iter().next().unwrap_or_default())
            } else {
                AttrValue::List(values)
            };
            info.insert(key.clone(), value);
        }
        if let Some(groups) = &self.cfg.groups {
            let names = self.groups_of(groups, &info);
            info.insert(groups.key.clone(), AttrValue::List(names));
        }
        info
    }

    fn groups_of(&self, g: &GroupSearch, info: &UserInfo) -> Vec<String> {
        let mut f = g.filter.replace("{base_dn}", self.base());
        for (k, v) in info {
            if let AttrValue::Str(s) = v {
                f = f.replace(&format!("{{{k}}}"), &filter::escape_value(s, false));
            }
        }
        match self.search(
            &g.base,
            Scope::Subtree,
            &f,
            std::slice::from_ref(&g.name_attr),
            None,
        ) {
            Ok(entries) => {
                let mut out: Vec<String> = Vec::new();
                for e in entries {
                    for (n, vals) in e.attrs {
                        if n.eq_ignore_ascii_case(&g.name_attr) {
                            for v in vals {
                                if !out.contains(&v) {
                                    out.push(v);
                                }
                            }
                        }
                    }
                }
                out
            }
            Err(e) => {
                log::info!("group search `{f}` failed: {}", e.text());
                Vec::new()
            }
        }
    }

    /// One entry for a uid (`None`: no such entry).
    fn entry_by_uid(&self, uid: &str) -> Result<Option<Entry>, ResolverError> {
        let sf = self.search_filter()?;
        let attrs = self.cfg.requested_attrs();
        let entries = match self.cfg.uid_attr() {
            None => self.search(uid, self.cfg.scope, &format!("(&{sf})"), &attrs, None),
            Some(ua) => {
                let Some(f) = filter::uid_filter(sf, ua, uid) else {
                    return Ok(None);
                };
                self.search(self.base(), self.cfg.scope, &f, &attrs, None)
            }
        }?;
        match entries.len() {
            0 => Ok(None),
            1 => Ok(entries.into_iter().next()),
            _ => Err(ResolverError::Backend(format!(
                "Found more than one object for uid '{uid}'"
            ))),
        }
    }

    /// The DN of a uid (privacyIDEA's `_getDN`).
    fn dn_of(&self, uid: &str) -> Result<Option<String>, ResolverError> {
        if self.cfg.uid_attr().is_none() {
            return Ok(Some(uid.to_owned()));
        }
        if let Some(v) = self.cached(|c| &mut c.dn, uid) {
            return Ok(v);
        }
        let dn = self.entry_by_uid(uid)?.map(|e| e.dn);
        self.store(|c| &mut c.dn, uid, dn.clone());
        Ok(dn)
    }

    /// The filter of a user listing (privacyIDEA's `_create_search_filter`):
    /// `(&F` + one term per search key (`username` first) + `)`.
    pub fn list_filter(
        &self,
        search: &SearchFilter,
        now_ticks: u64,
    ) -> Result<String, ResolverError> {
        let sf = self.search_filter()?;
        if let Some(k) = search.keys().find(|k| self.cfg.attr_of(k).is_none()) {
            return Err(ResolverError::InvalidSearch(format!(
                "ERR905: Search parameter (['{k}']) not available in attribute mapping."
            )));
        }
        let ordered = search
            .get_key_value("username")
            .into_iter()
            .chain(search.iter().filter(|(k, _)| k.as_str() != "username"));
        let mut f = format!("(&{sf}");
        for (key, value) in ordered {
            let attr = self.cfg.attr_of(key).unwrap_or_default();
            if let Some(term) = filter::list_term(key, attr, value, now_ticks) {
                f.push_str(&term);
            }
        }
        f.push(')');
        Ok(f)
    }

    fn test(&self) -> ConnectionTest {
        let fail = |d: String| ConnectionTest {
            count: None,
            success: false,
            description: d,
        };
        if let Some(p) = &self.cfg.problem {
            if p.starts_with("ERR907") {
                return fail(p.clone());
            }
        }
        let started = Instant::now();
        let mut conn = match self.service_connection() {
            Ok(c) => c,
            Err(Fail::Bind(d)) => return fail(format!("{}!", Fail::Bind(d).text())),
            Err(e) => return fail(e.text()),
        };
        let elapsed = started.elapsed().as_secs_f64();
        if !self.cfg.userinfo_present {
            return fail("'USERINFO'".into());
        }
        if let Some(p) = &self.cfg.problem {
            return fail(p.clone());
        }
        if self.cfg.uidtype.is_none() {
            return fail("'NoneType' object has no attribute 'lower'".into());
        }
        let Some(base) = self.cfg.base.as_deref() else {
            return fail("'LDAPBASE'".into());
        };
        let Some(sf) = self.cfg.search_filter.as_deref() else {
            return fail("'LDAPSEARCHFILTER'".into());
        };
        let full = format!("(&{sf})");
        if let Err(e) = filter::check_filter(&full) {
            return fail(e.to_owned());
        }
        let attrs = self.cfg.requested_attrs();
        if let Some(schema) = self.current_schema() {
            if let Some(bad) = attrs.iter().find(|a| schema.get(a).is_none()) {
                return fail(format!("invalid attribute type {bad}"));
            }
        }
        let entries = match run_search(
            &mut conn,
            self.cfg.timeout,
            base,
            self.cfg.scope,
            &full,
            &attrs,
            Some(self.cfg.sizelimit),
        ) {
            Ok(e) => e,
            Err(SearchFail::Ldap(t) | SearchFail::Transport(t)) => return fail(t),
        };
        self.give_back(conn);
        let count = entries.len();
        let with_uid = entries.iter().filter(|e| self.uid_of(e).is_some()).count();
        // the release counts entries whose uid could be read (an exception
        // while reading it skips the entry)
        let (count, with_uid) = if self.cfg.uid_attr().is_some() {
            (with_uid, with_uid)
        } else {
            (count, with_uid)
        };
        ConnectionTest {
            count: None,
            success: true,
            description: if with_uid < count {
                format!(
                    "Your LDAP config found {count} user objects in {elapsed:.4}s, but only {with_uid} with the specified uidtype."
                )
            } else {
                format!(
                    "Your LDAP config seems to be OK, {count} user objects found in {elapsed:.4}s."
                )
            },
        }
    }
}

impl Drop for LdapResolver {
    /// Connections own a small tokio runtime, which must not be dropped on
    /// an async executor thread (the server drops old snapshots there):
    /// idle connections are closed on a background thread.
    fn drop(&mut self) {
        let idle = std::mem::take(&mut *lock(&self.idle));
        if !idle.is_empty() {
            close_in_background(idle);
        }
    }
}

fn close_in_background(conns: Vec<LdapConn>) {
    static CLOSER: OnceLock<Option<Mutex<std::sync::mpsc::Sender<Vec<LdapConn>>>>> =
        OnceLock::new();
    let closer = CLOSER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Vec<LdapConn>>();
        std::thread::Builder::new()
            .name("ldap-closer".into())
            .spawn(move || {
                for mut batch in rx {
                    for conn in &mut batch {
                        let _ = conn.unbind();
                    }
                    drop(batch);
                }
            })
            .ok()
            .map(|_| Mutex::new(tx))
    });
    let unsent = match closer {
        Some(tx) => lock(tx).send(conns).err().map(|e| e.0),
        None => Some(conns),
    };
    if let Some(conns) = unsent {
        // no closer thread: leak rather than panic on an executor thread
        std::mem::forget(conns);
    }
}

enum SearchFail {
    /// The server answered with an error (the connection is fine).
    Ldap(String),
    /// The connection failed.
    Transport(String),
}

fn to_ldap_scope(s: Scope) -> LdapScope {
    match s {
        Scope::Base => LdapScope::Base,
        Scope::Level => LdapScope::OneLevel,
        Scope::Subtree => LdapScope::Subtree,
    }
}

fn run_search(
    conn: &mut LdapConn,
    timeout: Duration,
    base: &str,
    scope: Scope,
    filter: &str,
    attrs: &[String],
    sizelimit: Option<usize>,
) -> Result<Vec<Entry>, SearchFail> {
    if let Err(e) = filter::check_filter(filter) {
        return Err(SearchFail::Ldap(e.to_owned()));
    }
    let mut opts = SearchOptions::new();
    if let Some(n) = sizelimit {
        opts = opts.sizelimit(i32::try_from(n).unwrap_or(i32::MAX));
    }
    conn.with_search_options(opts).with_timeout(timeout);
    let attr_refs: Vec<&str> = attrs.iter().map(String::as_str).collect();
    let result = conn.search(base, to_ldap_scope(scope), filter, attr_refs);
    let ldap3::SearchResult(raw, res) = match result {
        Ok(r) => r,
        Err(LdapError::LdapResult { result }) => {
            return Err(SearchFail::Ldap(format!(
                "{} ({})",
                result_name(result.rc),
                result.rc
            )))
        }
        Err(LdapError::FilterParsing) => return Err(SearchFail::Ldap("malformed filter".into())),
        Err(e) => return Err(SearchFail::Transport(e.to_string())),
    };
    match res.rc {
        // success, sizeLimitExceeded (entries so far are kept), noSuchObject
        // (a base that does not exist holds no users), referral
        0 | 4 | 32 | 10 => {}
        rc => {
            let mut text = format!("{} ({rc})", result_name(rc));
            if !res.text.is_empty() {
                text.push_str(&format!(": {}", res.text));
            }
            return Err(SearchFail::Ldap(text));
        }
    }
    let mut entries = Vec::with_capacity(raw.len());
    for re in raw {
        if re.is_ref() || re.is_intermediate() {
            continue;
        }
        let Ok(se) = catch_unwind(AssertUnwindSafe(|| SearchEntry::construct(re))) else {
            log::warn!("unparsable ldap entry skipped");
            continue;
        };
        entries.push(Entry {
            dn: se.dn,
            attrs: se.attrs.into_iter().collect(),
            bin: se.bin_attrs.into_iter().collect(),
        });
    }
    if let Some(n) = sizelimit {
        entries.truncate(n);
    }
    Ok(entries)
}

fn tcp_connect(server: &ServerUri, timeout: Duration) -> Result<TcpStream, String> {
    let port = server.port.unwrap_or(if server.ssl { 636 } else { 389 });
    let addrs: Vec<SocketAddr> = (server.host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .collect();
    let mut last = "no address".to_owned();
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

fn build_tls_config(ca_file: &str) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_file)
        .map_err(|e| format!("TLS_CA_FILE `{ca_file}` not readable: {e}"))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("TLS_CA_FILE `{ca_file}`: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("TLS_CA_FILE `{ca_file}`: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("TLS_CA_FILE `{ca_file}` holds no certificate"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn read_schema(conn: &mut LdapConn, timeout: Duration) -> Result<Schema, String> {
    let root = run_search(
        conn,
        timeout,
        "",
        Scope::Base,
        "(objectClass=*)",
        &["subschemaSubentry".to_owned()],
        None,
    )
    .map_err(|(SearchFail::Ldap(t) | SearchFail::Transport(t))| t)?;
    let sub = root
        .first()
        .and_then(|e| {
            e.attrs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("subschemaSubentry"))
        })
        .and_then(|(_, v)| v.first().cloned())
        .ok_or("no subschemaSubentry")?;
    let entries = run_search(
        conn,
        timeout,
        &sub,
        Scope::Base,
        "(objectClass=subschema)",
        &["attributeTypes".to_owned()],
        None,
    )
    .map_err(|(SearchFail::Ldap(t) | SearchFail::Transport(t))| t)?;
    let defs: Vec<String> = entries
        .into_iter()
        .flat_map(|e| e.attrs)
        .filter(|(n, _)| n.eq_ignore_ascii_case("attributeTypes"))
        .flat_map(|(_, v)| v)
        .collect();
    if defs.is_empty() {
        return Err("no attributeTypes".into());
    }
    Ok(Schema::from_definitions(&defs))
}

impl Resolver for LdapResolver {
    fn rtype(&self) -> &'static str {
        "ldapresolver"
    }

    fn user_id(&self, login: &str) -> Result<String, ResolverError> {
        self.problem()?;
        if let Some(v) = self.cached(|c| &mut c.user_id, login) {
            return v
                .filter(|u| !u.is_empty())
                .ok_or_else(|| ResolverError::NotFound(login.to_owned()));
        }
        let sf = self.search_filter()?;
        let Some(f) = filter::login_filter(sf, &self.cfg.login_attrs, login) else {
            return Err(ResolverError::Backend(format!(
                "login `{login}` is no GUID for the objectGUID login attribute"
            )));
        };
        let attrs = self.cfg.requested_attrs();
        let entries = self.search(self.base(), self.cfg.scope, &f, &attrs, None)?;
        let entry = match entries.len() {
            0 => {
                self.store(|c| &mut c.user_id, login, None);
                return Err(ResolverError::NotFound(login.to_owned()));
            }
            1 => &entries[0],
            _ => {
                return Err(ResolverError::Backend(format!(
                    "Found more than one object for Login '{}'",
                    filter::escape_login(login)
                )))
            }
        };
        let uid = self.uid_of(entry).ok_or_else(|| {
            ResolverError::Backend(format!(
                "entry `{}` has no uid attribute `{}`",
                entry.dn,
                self.cfg.uid_attr().unwrap_or("dn")
            ))
        })?;
        self.store(|c| &mut c.user_id, login, Some(uid.clone()));
        self.store(|c| &mut c.dn, &uid, Some(entry.dn.clone()));
        let schema = self.current_schema();
        let info = self.shape(entry, schema.as_deref());
        self.store(|c| &mut c.info, &uid, Some(info));
        Ok(uid)
    }

    fn username(&self, uid: &str) -> Result<String, ResolverError> {
        let info = self.user_info(uid)?;
        match info.get("username").map(AttrValue::as_str) {
            Some(name) if !name.is_empty() => Ok(name.to_owned()),
            _ => Err(ResolverError::NotFound(uid.to_owned())),
        }
    }

    fn user_info(&self, uid: &str) -> Result<UserInfo, ResolverError> {
        self.problem()?;
        if let Some(v) = self.cached(|c| &mut c.info, uid) {
            return v.ok_or_else(|| ResolverError::NotFound(uid.to_owned()));
        }
        let entry = self.entry_by_uid(uid)?;
        let schema = self.current_schema();
        let info = entry.map(|e| self.shape(&e, schema.as_deref()));
        self.store(|c| &mut c.info, uid, info.clone());
        info.ok_or_else(|| ResolverError::NotFound(uid.to_owned()))
    }

    fn check_password(&self, uid: &str, password: &str) -> Result<bool, ResolverError> {
        // never an unauthenticated bind
        if password.is_empty() {
            return Ok(false);
        }
        self.problem()?;
        let Some(dn) = self.dn_of(uid)?.filter(|d| !d.is_empty()) else {
            return Err(ResolverError::NotFound(uid.to_owned()));
        };
        let mut conn = self.connect()?;
        conn.with_timeout(self.cfg.timeout);
        let ok = match conn.simple_bind(&dn, password) {
            Ok(r) => r.rc == 0,
            Err(e) => {
                log::info!("bind as `{dn}` failed: {}", ldap_err(&e));
                false
            }
        };
        let _ = conn.unbind();
        Ok(ok)
    }

    fn user_list(&self, search: &SearchFilter) -> Result<Vec<UserInfo>, ResolverError> {
        self.problem()?;
        let f = self.list_filter(search, filter::ad_ticks_now())?;
        let attrs = self.cfg.requested_attrs();
        let entries = self.search(
            self.base(),
            self.cfg.scope,
            &f,
            &attrs,
            Some(self.cfg.sizelimit),
        )?;
        let schema = self.current_schema();
        let mut out = Vec::with_capacity(entries.len());
        for page in entries.chunks(PAGE) {
            for entry in page.iter().rev() {
                let Some(uid) = self.uid_of(entry) else {
                    continue;
                };
                let mut info = self.shape(entry, schema.as_deref());
                info.insert("userid".into(), AttrValue::Str(uid));
                out.push(info);
            }
        }
        Ok(out)
    }

    fn test_connection(&self) -> Result<ConnectionTest, ResolverError> {
        Ok(self.test())
    }

    fn editable(&self) -> bool {
        self.cfg.editable
    }

    fn primary_login(&self, uid: &str) -> Result<Option<String>, ResolverError> {
        if self.cfg.login_attrs.len() > 1 {
            self.username(uid).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// Languages privacyIDEA 3.14 ships translations for (plus English).
const UI_LANGUAGES: &[&str] = &[
    "en", "cs", "de", "es", "fr", "id", "it", "lo", "nl", "pl", "pt", "ro", "ru", "si", "sk", "sv",
    "ta", "tr", "uk", "zh",
];

/// The language of an `Accept-Language` header privacyIDEA would answer in
/// (the highest-weighted listed language it has a translation for).
pub fn preferred_language(accept_language: &str) -> Option<String> {
    let mut langs: Vec<(f32, String)> = accept_language
        .split(',')
        .filter_map(|part| {
            let mut it = part.split(';');
            let tag = it.next()?.trim().to_lowercase();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split(['-', '_']).next()?.to_owned();
            (!primary.is_empty() && q > 0.0).then_some((q, primary))
        })
        .collect();
    langs.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    langs
        .into_iter()
        .map(|(_, l)| l)
        .find(|l| UI_LANGUAGES.contains(&l.as_str()))
}

/// The success text of the connection test in the caller's language
/// (privacyIDEA translates it; error texts stay English). Only the German
/// translation is known here (observed on the release); other languages
/// get the English text.
pub fn localize_test_description(description: &str, accept_language: Option<&str>) -> String {
    let german = accept_language
        .and_then(preferred_language)
        .is_some_and(|l| l == "de");
    if !german {
        return description.to_owned();
    }
    let parsed = description
        .strip_prefix("Your LDAP config seems to be OK, ")
        .and_then(|r| r.split_once(" user objects found in "))
        .and_then(|(n, t)| Some((n, t.strip_suffix("s.")?)));
    match parsed {
        Some((n, t)) => format!(
            "Die LDAP-Konfiguration scheint in Ordnung zu sein. Es wurden {n} Benutzerobjekte in {t}s gefunden."
        ),
        None => description.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_test_message_l16() {
        let en = "Your LDAP config seems to be OK, 5 user objects found in 0.0386s.";
        assert_eq!(
            localize_test_description(en, Some("de")),
            "Die LDAP-Konfiguration scheint in Ordnung zu sein. Es wurden 5 Benutzerobjekte in 0.0386s gefunden."
        );
        assert_eq!(
            localize_test_description(en, Some("de-DE,de;q=0.9,en;q=0.8")),
            "Die LDAP-Konfiguration scheint in Ordnung zu sein. Es wurden 5 Benutzerobjekte in 0.0386s gefunden."
        );
        assert_eq!(localize_test_description(en, Some("en-US,de;q=0.5")), en);
        assert!(localize_test_description(en, Some("xx,de;q=0.5")).starts_with("Die LDAP"));
        assert_eq!(localize_test_description(en, None), en);
        let err = "ERR907: Unable to perform bind operation: invalidCredentials (49)!";
        assert_eq!(localize_test_description(err, Some("de")), err);
        assert_eq!(preferred_language("fr;q=0.2, de;q=0.7"), Some("de".into()));
        assert_eq!(preferred_language("*"), None);
    }

    #[test]
    fn result_names() {
        assert_eq!(result_name(49), "invalidCredentials");
        assert_eq!(result_name(2), "protocolError");
        assert_eq!(result_name(999), "unknown");
        assert_eq!(
            Fail::Bind("invalidCredentials (49)".into()).text(),
            "ERR907: Unable to perform bind operation: invalidCredentials (49)"
        );
        assert_eq!(Fail::NoServer.text(), NO_ACTIVE_SERVER);
    }

    fn upstream(userinfo: &str) -> LdapResolver {
        let cfg = serde_json::json!({"LDAPURI": "ldap://localhost", "LDAPBASE": "o=test",
            "LDAPSEARCHFILTER": "(cn=*)", "LOGINNAMEATTRIBUTE": "cn", "USERINFO": userinfo});
        LdapResolver::from_config(cfg.as_object().unwrap()).unwrap()
    }

    fn search(pairs: &[(&str, &str)]) -> SearchFilter {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn list_filters_l42_l43_and_spec_3_4() {
        let r = upstream(
            r#"{"username": "cn", "surname": "sn", "email": "mail", "givenname": "givenName"}"#,
        );
        let f = |pairs: &[(&str, &str)]| r.list_filter(&search(pairs), 0);
        assert_eq!(f(&[("surname", "***")]).unwrap(), "(&(cn=*))");
        assert_eq!(f(&[("surname", "*")]).unwrap(), "(&(cn=*))");
        assert_eq!(
            f(&[("username", "*hans*"), ("email", "*.*@example*")]).unwrap(),
            "(&(cn=*)(cn=*hans*)(mail=*.*@example*))"
        );
        // username first whatever the key order
        assert_eq!(
            f(&[
                ("email", "*@example.org"),
                ("username", "a*"),
                ("surname", "***")
            ])
            .unwrap(),
            "(&(cn=*)(cn=a*)(mail=*@example.org))"
        );
        assert_eq!(
            f(&[("username", "*)(cn=*"), ("givenname", "x\0(y)\\")]).unwrap(),
            "(&(cn=*)(cn=*\\29\\28cn=*)(givenName=x\\00\\28y\\29\\5c))"
        );
        assert_eq!(
            f(&[("nokey", "x")]).unwrap_err(),
            ResolverError::InvalidSearch(
                "ERR905: Search parameter (['nokey']) not available in attribute mapping.".into()
            )
        );
        assert_eq!(upstream("{}").resolver_id().len(), 40);
    }

    #[test]
    fn cache_semantics_l53_l54() {
        let r = upstream("{}");
        assert_eq!(r.cfg.cache_timeout, 120);
        assert_eq!(r.cached(|c| &mut c.user_id, "bob"), None);
        r.store(|c| &mut c.user_id, "bob", Some("uid=bob".to_owned()));
        r.store(|c| &mut c.user_id, "nobody", None);
        assert_eq!(
            r.cached(|c| &mut c.user_id, "bob"),
            Some(Some("uid=bob".to_owned()))
        );
        // negative answers are cached too; keys are the login as passed
        assert_eq!(r.cached(|c| &mut c.user_id, "nobody"), Some(None));
        assert_eq!(r.cached(|c| &mut c.user_id, "BOB"), None);
        // expiry: entries older than CACHE_TIMEOUT are evicted on access
        let mut short = upstream("{}");
        short.cfg.cache_timeout = 1;
        short.store(|c| &mut c.dn, "u1", Some("dn1".to_owned()));
        assert!(short.cached(|c| &mut c.dn, "u1").is_some());
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(short.cached(|c| &mut c.dn, "u1"), None);
        assert!(lock(&short.cache).dn.is_empty());
        // CACHE_TIMEOUT 0 disables it
        let mut off = upstream("{}");
        off.cfg.cache_timeout = 0;
        off.store(|c| &mut c.user_id, "bob", Some("x".to_owned()));
        assert_eq!(off.cached(|c| &mut c.user_id, "bob"), None);
        assert!(lock(&off.cache).user_id.is_empty());
    }

    #[test]
    fn build_does_no_io_and_hides_the_password() {
        let cfg = serde_json::json!({"LDAPURI": "ldap://192.0.2.1:389", "BINDPW": "s3cret"});
        let r = LdapResolver::from_config(cfg.as_object().unwrap()).unwrap();
        assert_eq!(r.idle_connections(), 0);
        assert!(!format!("{r:?}").contains("s3cret"));
        assert_eq!(r.rtype(), "ldapresolver");
        assert!(!r.editable());
    }
}
