//! The audit trail (decisions/0009): one `pidea_audit` row per request, as
//! privacyIDEA writes it.
//!
//! The server's middleware (pi-server's `audit_middleware.rs`) captures the
//! request's raw values and drives the entry; everything else is here:
//!
//! * [`RequestLog::open`] starts the request-local entry (start time); the
//!   server runs the request inside [`RequestLog::scope`] and keeps its
//!   [`Raw`] values (client, User-Agent, method, thread) untouched.
//! * The JWT check ([`note_caller`]) marks the request as audited (a request
//!   refused before authentication leaves no row, as in privacyIDEA) and
//!   names the administrator; the parameter extractor ([`note_params`])
//!   records `user`/`realm`/`resolver`; handlers add `info`/`action_detail`
//!   with [`log()`].
//! * After the handler, [`RequestLog::finish`] fills in `success`, the
//!   error's `info`, the user/realm/resolver and the dates from the
//!   [`Outcome`], and the entry goes to the [`AuditWriter`], whose thread
//!   renders `action` (`"<METHOD> <url rule>"`) and the User-Agent parts:
//!   a bounded queue and one background thread that writes batches in one
//!   transaction each, signing every row. A full queue makes the request
//!   wait (never drops); a failed write is retried, and while the audit
//!   database fails requests answer 503 unless `PI_AUDIT_FAIL_OPEN` is set;
//!   [`AuditWriter::close`] flushes at shutdown.

pub mod read;

pub use read::{search, CsvExport, Trail};

use crate::error::{ApiError, Kind};
use crate::{Caller, Role};
use chrono::{Local, NaiveDateTime};
use pi_store::{AuditRecord, Store};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Entries one transaction writes at most.
const BATCH: usize = 1000;
/// How long the writer waits for more entries when several are queued.
const LINGER: Duration = Duration::from_millis(2);

#[derive(Debug, Default)]
struct Entry {
    record: AuditRecord,
    audited: bool,
    /// The `success` column as the view set it (a boolean, or the value
    /// privacyIDEA's view logs, e.g. a resolver's id).
    success: Option<i32>,
    param_user: Option<String>,
    param_realm: Option<String>,
    param_resolver: Option<String>,
    caller_user: Option<(String, String)>,
}

/// What the request path keeps as it is; the writer thread turns it into
/// the row's text (so the request path formats nothing it need not).
/// `U` is the server's User-Agent header value (a reference-counted view
/// of the request; anything that is bytes).
#[derive(Debug)]
pub struct Raw<U> {
    /// The User-Agent header.
    pub user_agent: Option<U>,
    /// The TCP peer.
    pub client: Option<IpAddr>,
    /// The number of the worker thread that took the request.
    pub thread: u64,
    /// The HTTP method (`GET`, …).
    pub method: Cow<'static, str>,
    /// The route pattern (`/policy/{name}`), or the Flask rule itself
    /// (set by [`RequestLog::finish`]).
    pattern: String,
}

impl<U> Raw<U> {
    /// The raw values of a request.
    pub fn new(
        user_agent: Option<U>,
        client: Option<IpAddr>,
        thread: u64,
        method: Cow<'static, str>,
    ) -> Raw<U> {
        Raw {
            user_agent,
            client,
            thread,
            method,
            pattern: String::new(),
        }
    }
}

/// How the request ended, as the server saw it.
#[derive(Debug)]
pub struct Outcome<'a> {
    /// The matched route pattern (`/policy/{name}`), else the path.
    pub pattern: String,
    /// The path variable `name`.
    pub path_name: Option<&'a str>,
    /// The path variable `realm`.
    pub path_realm: Option<&'a str>,
    /// A 2xx answer.
    pub status_ok: bool,
    /// The error the answer carries, when it is one of ours.
    pub error: Option<&'a ApiError>,
}

/// The request's audit entry (cheap to clone; request-local).
#[derive(Debug, Clone)]
pub struct RequestLog(Rc<RefCell<Entry>>);

impl RequestLog {
    /// A new entry started now (`startdate`).
    pub fn open() -> RequestLog {
        RequestLog(Rc::new(RefCell::new(Entry {
            record: AuditRecord {
                startdate: Some(now()),
                // set by the writer (`complete`) unless a handler set them
                loglevel: String::new(),
                clearance_level: String::new(),
                thread_id: String::new(),
                ..AuditRecord::default()
            },
            ..Entry::default()
        })))
    }

    /// Runs `f` (the whole request, extractors included) with this entry
    /// as the current one ([`log()`], [`success`], [`note_caller`], …).
    pub async fn scope<F: std::future::Future>(self, f: F) -> F::Output {
        CURRENT.scope(self, f).await
    }

    /// Whether the request leaves a row (it passed the JWT check, or
    /// [`audit_request`]).
    pub fn audited(&self) -> bool {
        self.0.borrow().audited
    }

    /// The finished entry of an audited request (`None`: no row): success,
    /// the error's `info` (by error class), `authentication` of `/auth`,
    /// user/realm/resolver (the logged-in user for user callers, else the
    /// parameters and path variables), `date` and `duration`.
    pub fn finish<U>(&self, outcome: Outcome<'_>, raw: Raw<U>) -> Option<Pending<U>> {
        finish(self, outcome, raw)
    }

    fn log(&self, f: impl FnOnce(&mut AuditRecord)) {
        f(&mut self.0.borrow_mut().record);
    }

    /// Sets `success` (else: a 2xx answer is a success, 1).
    fn success(&self, value: i32) {
        self.0.borrow_mut().success = Some(value);
    }

    fn audit(&self) {
        self.0.borrow_mut().audited = true;
    }
}

tokio::task_local! {
    /// The entry of the request whose future is running.
    static CURRENT: RequestLog;
}

/// The running request's entry (set by [`RequestLog::scope`] for the
/// request's whole future, extractors included).
fn current() -> Option<RequestLog> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Changes the current request's audit entry (nothing when audit is off):
/// handlers enrich their row without taking an extra argument.
pub fn log(f: impl FnOnce(&mut AuditRecord)) {
    let _ = CURRENT.try_with(|a| a.log(f));
}

/// Sets the current request's `success`.
pub fn success(ok: bool) {
    let _ = CURRENT.try_with(|a| a.success(i32::from(ok)));
}

/// Sets the current request's `success` column to a value privacyIDEA's
/// view logs there as it is (`POST /resolver/<name>` logs the resolver's
/// id, a failed `DELETE` -1); kept only for a 2xx answer.
pub fn success_value(value: i64) {
    let value = i32::try_from(value).unwrap_or(if value < 0 { i32::MIN } else { i32::MAX });
    let _ = CURRENT.try_with(|a| a.success(value));
}

/// Writes a row for the current request even without an authenticated
/// caller (`POST /auth`).
pub fn audit_request() {
    let _ = CURRENT.try_with(RequestLog::audit);
}

/// The caller passed the JWT check: the request is audited.
pub fn note_caller(caller: &Caller) {
    if let Some(a) = current() {
        let mut e = a.0.borrow_mut();
        e.audited = true;
        match caller.role {
            Role::Admin => e.record.administrator = caller.username.clone(),
            Role::User => e.caller_user = Some((caller.username.clone(), caller.realm.clone())),
        }
    }
}

/// The request's `user`, `realm` and `resolver` parameters.
pub fn note_params(user: Option<String>, realm: Option<String>, resolver: Option<String>) {
    if let Some(a) = current() {
        let mut e = a.0.borrow_mut();
        e.param_user = user;
        e.param_realm = realm;
        e.param_resolver = resolver;
    }
}

/// `"curl/7.88.1 (x)"` → (`curl`, `7.88.1`) (privacyIDEA's
/// `get_plugin_info_from_useragent`, for the common `name/version` form).
fn user_agent_parts(ua: &str) -> (String, String) {
    let first = ua.split_whitespace().next().unwrap_or("");
    let name = crate::request::user_agent_product(ua);
    let version = first
        .split_once('/')
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    (name, version)
}

/// A route pattern `/policy/{name}` as Flask's url rule `/policy/<name>`, with
/// privacyIDEA's names for the variables.
fn url_rule(pattern: &str) -> String {
    let rule = match pattern {
        "/resolver/{name}" => "/resolver/{resolver}",
        "/resolver/{rtype}/default" => "/resolver/{resolvertype}/default",
        "/policy/export/{filename}" => "/policy/export/{export}",
        "/realm/{realm}/node/{nodeid}" => "/realm/{string:realm}/node/{string:nodeid}",
        other => other,
    };
    rule.replace('{', "<").replace('}', ">")
}

fn add_with_comma(info: &mut String, msg: &str) {
    if !info.is_empty() {
        info.push(',');
    }
    info.push_str(msg);
}

/// Local time now, at microseconds (privacyIDEA's `datetime.now()`).
fn now() -> NaiveDateTime {
    Local::now().naive_local()
}

/// An entry on its way to the writer: the record and what the writer still
/// renders into it.
#[derive(Debug)]
pub struct Pending<U> {
    record: AuditRecord,
    raw: Raw<U>,
}

impl<U: AsRef<[u8]>> Pending<U> {
    /// The finished row (on the writer thread): action, client, User-Agent,
    /// node, thread and the `default` levels.
    fn complete(self, server_name: &str, rules: &mut HashMap<String, String>) -> AuditRecord {
        let Pending { mut record, raw } = self;
        let r = &mut record;
        let rule = match rules.get(&raw.pattern) {
            Some(rule) => rule,
            None => rules
                .entry(raw.pattern.clone())
                .or_insert_with(|| url_rule(&raw.pattern)),
        };
        r.action = format!("{} {}", raw.method, rule);
        if let Some(ip) = raw.client {
            r.client = ip.to_string();
        }
        let ua = raw
            .user_agent
            .as_ref()
            .and_then(|v| header_text(v.as_ref()))
            .unwrap_or("");
        (r.user_agent, r.user_agent_version) = user_agent_parts(ua);
        r.privacyidea_server = server_name.to_owned();
        if r.thread_id.is_empty() {
            r.thread_id = raw.thread.to_string();
        }
        for level in [&mut r.loglevel, &mut r.clearance_level] {
            if level.is_empty() {
                level.push_str("default");
            }
        }
        record
    }
}

/// A header value as text: visible ASCII and tabs only (as `http`'s
/// `HeaderValue::to_str`), else `None`.
fn header_text(bytes: &[u8]) -> Option<&str> {
    bytes
        .iter()
        .all(|&b| b == b'\t' || (32..127).contains(&b))
        .then(|| std::str::from_utf8(bytes).ok())
        .flatten()
}

fn finish<U>(log: &RequestLog, outcome: Outcome<'_>, mut raw: Raw<U>) -> Option<Pending<U>> {
    let mut e = log.0.borrow_mut();
    if !e.audited {
        return None;
    }
    let Outcome {
        pattern,
        path_name,
        path_realm,
        status_ok,
        error,
    } = outcome;
    // an automatic OPTIONS answer runs no view: never a success, and its
    // rule is the first registered one the path matches
    let options = raw.method == "OPTIONS";
    // `/policy/check`, `/policy/defs` and `/realm/superuser` are static
    // routes in Flask (no path variable); here `/policy/{name}` and
    // `/realm/{realm}` serve them
    let get = matches!(&*raw.method, "GET" | "HEAD" | "OPTIONS");
    let (pattern, path_realm) = match (pattern.as_str(), path_name, path_realm) {
        ("/policy/{name}", Some(n @ ("check" | "defs")), _) if get => {
            (format!("/policy/{n}"), path_realm)
        }
        ("/policy/{name}", _, _) if options || raw.method == "PATCH" => {
            ("/policy/{old_name}".to_owned(), path_realm)
        }
        ("/realm/{realm}", _, Some("superuser")) if get => ("/realm/superuser".to_owned(), None),
        _ => (pattern, path_realm),
    };
    let is_auth = pattern == "/auth" && !options;
    // the auth blueprint's view of the rights logs no caller
    if pattern == "/auth/rights" {
        e.record.administrator.clear();
        e.caller_user = None;
    }
    let mut r = std::mem::take(&mut e.record);
    // user/realm/resolver: the logged-in user for user callers, else the
    // request's parameters (path variables included, as Flask's view_args)
    if r.user.is_empty() && r.realm.is_empty() {
        if let Some((u, realm)) = e.caller_user.clone() {
            r.user = u;
            r.realm = realm;
        } else {
            r.user = e.param_user.clone().unwrap_or_default();
            // lower-cased, as the release's request user has it
            r.realm = e
                .param_realm
                .as_deref()
                .or(path_realm)
                .unwrap_or_default()
                .to_lowercase();
        }
    }
    if r.resolver.is_empty() {
        r.resolver = e
            .param_resolver
            .clone()
            .or_else(|| {
                pattern
                    .starts_with("/resolver/{name}")
                    .then(|| path_name.map(str::to_owned))
                    .flatten()
            })
            .unwrap_or_default();
    }
    if let Some(err) = error {
        match err.kind {
            Kind::Auth => {
                if is_auth {
                    r.authentication = "REJECT".into();
                }
                add_with_comma(&mut r.info, &err.message);
            }
            Kind::Policy => add_with_comma(&mut r.info, &err.message),
            Kind::Generic => r.info = format!("ERR{}: {}", err.code, err.message),
            _ => r.info = err.message.clone(),
        }
    } else if is_auth && status_ok {
        r.authentication = "ACCEPT".into();
    }
    r.success = match status_ok && !options {
        true => e.success.unwrap_or(1),
        false => 0,
    };
    let end = now();
    r.duration = r.startdate.map(|s| end - s);
    r.date = end;
    raw.pattern = pattern;
    Some(Pending { record: r, raw })
}

enum Msg<U> {
    Entry(Box<Pending<U>>),
    Stop,
}

/// The background writer of the audit trail (`U`: the User-Agent value of
/// [`Raw`]).
#[derive(Debug)]
pub struct AuditWriter<U = String> {
    tx: tokio::sync::mpsc::Sender<Msg<U>>,
    healthy: Arc<AtomicBool>,
    fail_open: bool,
    depth: Arc<AtomicI64>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl<U> std::fmt::Debug for Msg<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Msg")
    }
}

/// How the writer is set up (from pi.cfg).
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Sign rows (`PI_AUDIT_NO_SIGN` not set and the key loads).
    pub signer: Option<pi_auth::Signer>,
    /// Queue capacity (`PI_AUDIT_QUEUE_SIZE`, default 10,000).
    pub queue: usize,
    /// `PI_AUDIT_FAIL_OPEN`: keep serving while the audit database fails.
    pub fail_open: bool,
    /// `PI_AUDIT_SERVERNAME`, else the node name.
    pub server_name: String,
}

/// A key read from a PEM file; the error as text.
fn load_pem<T, E: std::fmt::Display>(
    path: &std::path::Path,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, String> {
    let pem = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    parse(&pem).map_err(|e| e.to_string())
}

impl AuditOptions {
    /// The writer's options from pi.cfg, or `None` with `PI_AUDIT_DISABLE`
    /// (no audit log). Rows are signed with `PI_AUDIT_KEY_PRIVATE` unless
    /// `PI_AUDIT_NO_SIGN`; a configured key that cannot be read is an
    /// error (the server does not start with an unsigned trail it was told
    /// to sign). `node_name` is the default `PI_AUDIT_SERVERNAME`.
    pub fn from_config(
        cfg: &pi_config::PiConfig,
        node_name: &str,
    ) -> anyhow::Result<Option<AuditOptions>> {
        let flag = |key: &str| cfg.get(key).is_some_and(pi_model::pyrepr::py_truthy);
        if flag("PI_AUDIT_DISABLE") {
            log::warn!("PI_AUDIT_DISABLE is set: no audit log is written");
            return Ok(None);
        }
        let signer = match (&cfg.pi_audit_key_private, &cfg.pi_audit_key_public) {
            _ if flag("PI_AUDIT_NO_SIGN") => None,
            (Some(private), Some(_)) => {
                Some(load_pem(private, pi_auth::Signer::from_pem).map_err(|e| {
                    anyhow::anyhow!("PI_AUDIT_KEY_PRIVATE `{}`: {e}", private.display())
                })?)
            }
            _ => {
                log::warn!("PI_AUDIT_KEY_PRIVATE/PUBLIC not set: audit entries are not signed");
                None
            }
        };
        let queue = cfg
            .get("PI_AUDIT_QUEUE_SIZE")
            .and_then(serde_json::Value::as_u64)
            .map_or(10_000, |n| usize::try_from(n).unwrap_or(10_000));
        let server_name = cfg
            .get("PI_AUDIT_SERVERNAME")
            .and_then(|v| v.as_str())
            .map_or_else(|| node_name.to_owned(), str::to_owned);
        Ok(Some(AuditOptions {
            signer,
            queue,
            fail_open: flag("PI_AUDIT_FAIL_OPEN"),
            server_name,
        }))
    }
}

/// The response signer: both `PI_AUDIT_KEY_PRIVATE` and
/// `PI_AUDIT_KEY_PUBLIC` configured, `PI_NO_RESPONSE_SIGN` not set, and the
/// private key readable. privacyIDEA answers unsigned when the key cannot be
/// loaded; so does this server, with a warning at the start.
pub fn response_signer(cfg: &pi_config::PiConfig) -> Option<pi_auth::Signer> {
    if cfg.pi_no_response_sign {
        return None;
    }
    let (Some(private), Some(_)) = (&cfg.pi_audit_key_private, &cfg.pi_audit_key_public) else {
        return None;
    };
    load_pem(private, pi_auth::Signer::from_pem)
        .inspect_err(|e| {
            log::warn!(
                "PI_AUDIT_KEY_PRIVATE `{}` cannot be used ({e}); responses are not signed",
                private.display()
            );
        })
        .ok()
}

impl<U: AsRef<[u8]> + Send + 'static> AuditWriter<U> {
    /// Starts the writer thread on `store` (the audit database).
    pub fn start(store: Store, opts: AuditOptions) -> std::io::Result<AuditWriter<U>> {
        let (tx, rx) = tokio::sync::mpsc::channel(opts.queue.max(1));
        let healthy = Arc::new(AtomicBool::new(true));
        let depth = Arc::new(AtomicI64::new(0));
        let thread = {
            let healthy = healthy.clone();
            let depth = depth.clone();
            let signer = opts.signer.clone();
            std::thread::Builder::new()
                .name("pi-audit-writer".into())
                .spawn({
                    let server_name = opts.server_name;
                    move || writer_loop(store, rx, healthy, depth, signer, server_name)
                })?
        };
        Ok(AuditWriter {
            tx,
            healthy,
            fail_open: opts.fail_open,
            depth,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Whether new requests are served (the audit database works, or
    /// `PI_AUDIT_FAIL_OPEN`).
    pub fn accepting(&self) -> bool {
        self.fail_open || self.healthy.load(Ordering::Relaxed)
    }

    /// Queues one entry; waits while the queue is full. (The queue-depth
    /// gauge is set by the writer, once a batch.)
    pub async fn send(&self, pending: Pending<U>) {
        self.depth.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(Msg::Entry(Box::new(pending))).await.is_err() {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            log::error!("audit writer stopped: an audit entry was not written");
        }
    }

    /// Writes every queued entry and stops the writer (at shutdown).
    pub fn close(&self) {
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        let Some(handle) = handle else { return };
        if self.tx.blocking_send(Msg::Stop).is_err() {
            log::error!("audit writer already stopped");
        }
        if handle.join().is_err() {
            log::error!("audit writer panicked");
        }
    }
}

fn writer_loop<U: AsRef<[u8]>>(
    store: Store,
    mut rx: tokio::sync::mpsc::Receiver<Msg<U>>,
    healthy: Arc<AtomicBool>,
    depth: Arc<AtomicI64>,
    signer: Option<pi_auth::Signer>,
    server_name: String,
) {
    let signing = signer.is_some();
    let sign = move |text: &str| -> Option<String> {
        let s = signer.as_ref()?;
        match s.sign(text) {
            Ok(sig) => Some(sig),
            Err(e) => {
                log::error!("cannot sign an audit entry: {e}");
                None
            }
        }
    };
    let mut table_ready = false;
    let mut stopping = false;
    let mut rules = HashMap::new();
    let mut pending = Vec::new();
    while !stopping {
        let Some(first) = rx.blocking_recv() else {
            break;
        };
        match first {
            Msg::Entry(r) => pending.push(*r),
            Msg::Stop => stopping = true,
        }
        // take what is queued; under load wait a moment for more, so one
        // commit carries many rows (the entries' requests are answered
        // already: this delays the rows, not the answers)
        for round in 0..2 {
            while pending.len() < BATCH && !stopping {
                match rx.try_recv() {
                    Ok(Msg::Entry(r)) => pending.push(*r),
                    Ok(Msg::Stop) => stopping = true,
                    Err(_) => break,
                }
            }
            if round == 0 && pending.len() > 1 && pending.len() < BATCH && !stopping {
                std::thread::sleep(LINGER);
            }
        }
        if pending.is_empty() {
            continue;
        }
        metrics::gauge!("pi_audit_queue_depth").set(depth.load(Ordering::Relaxed).max(0) as f64);
        let mut batch: Vec<AuditRecord> = pending
            .drain(..)
            .map(|p| p.complete(&server_name, &mut rules))
            .collect();
        let mut failures = 0u32;
        loop {
            let result = if table_ready {
                Ok(())
            } else {
                store.ensure_audit_table()
            }
            .and_then(|()| {
                table_ready = true;
                store.write_audit(
                    &mut batch,
                    signing.then_some(&sign as &dyn Fn(&str) -> Option<String>),
                )
            });
            match result {
                Ok(()) => {
                    if !healthy.swap(true, Ordering::Relaxed) {
                        log::warn!("the audit database works again");
                    }
                    break;
                }
                Err(e) => {
                    failures += 1;
                    if healthy.swap(false, Ordering::Relaxed) {
                        log::error!("cannot write the audit log ({e}); retrying, requests answer 503 meanwhile");
                    }
                    if stopping && failures >= 10 {
                        for r in &batch {
                            log::error!("audit entry lost at shutdown: {}", r.sign_text());
                        }
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            }
        }
        let left = depth.fetch_sub(batch.len() as i64, Ordering::Relaxed) - batch.len() as i64;
        metrics::gauge!("pi_audit_queue_depth").set(left.max(0) as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_like_flask() {
        assert_eq!(url_rule("/policy/{name}"), "/policy/<name>");
        assert_eq!(url_rule("/resolver/{name}"), "/resolver/<resolver>");
        assert_eq!(url_rule("/policy/check"), "/policy/check");
        assert_eq!(
            url_rule("/realm/{realm}/node/{nodeid}"),
            "/realm/<string:realm>/node/<string:nodeid>"
        );
    }

    #[test]
    fn user_agents() {
        assert_eq!(
            user_agent_parts("curl/7.88.1"),
            ("curl".into(), "7.88.1".into())
        );
        assert_eq!(
            user_agent_parts("privacyidea-cp/2.1 Windows/10"),
            ("privacyidea-cp".into(), "2.1".into())
        );
        assert_eq!(user_agent_parts(""), (String::new(), String::new()));
    }

    /// Runs `f` as a `method` request with its own entry, ending on
    /// `pattern` (path variable `name`) with `error`; the finished row as
    /// the writer thread renders it.
    fn row(
        method: &'static str,
        (pattern, name): (&str, Option<&str>),
        error: Option<&ApiError>,
        f: impl FnOnce(),
    ) -> Option<AuditRecord> {
        let log = RequestLog::open();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(log.clone().scope(async { f() }));
        let outcome = Outcome {
            pattern: pattern.to_owned(),
            path_name: name,
            path_realm: None,
            status_ok: error.is_none(),
            error,
        };
        let raw = Raw::new(Some("curl/8.0 x".to_owned()), None, 7, method.into());
        let pending = log.finish(outcome, raw)?;
        Some(pending.complete("node1", &mut HashMap::new()))
    }

    #[test]
    fn unauthenticated_requests_leave_no_row() {
        let r = row("GET", ("/policy/", None), None, || {
            log(|r| r.info = "x".into())
        });
        assert!(r.is_none());
    }

    #[test]
    fn rows_of_finished_requests() {
        let admin = Caller {
            username: "admin".into(),
            realm: String::new(),
            role: Role::Admin,
            info: crate::request::RequestInfo {
                client_ip: IpAddr::from([127, 0, 0, 1]),
                user_agent: String::new(),
                http: Default::default(),
            },
        };
        // `/policy/{name}` serving `check`; the resolver parameter; info joined
        let err = ApiError::policy("denied");
        let r = row("GET", ("/policy/{name}", Some("check")), Some(&err), || {
            note_caller(&admin);
            note_params(None, Some("r1".into()), Some("res".into()));
            log(|r| r.info = "first".into());
        });
        let r = r.unwrap();
        assert_eq!(r.action, "GET /policy/check");
        assert_eq!(r.administrator, "admin");
        assert_eq!((r.realm.as_str(), r.resolver.as_str()), ("r1", "res"));
        assert_eq!(r.info, "first,denied");
        assert_eq!(r.success, 0);
        assert_eq!(
            (r.user_agent.as_str(), r.user_agent_version.as_str()),
            ("curl", "8.0")
        );
        assert_eq!(
            (r.privacyidea_server.as_str(), r.thread_id.as_str()),
            ("node1", "7")
        );
        assert_eq!(r.loglevel, "default");
        // a generic error replaces info; `/resolver/{name}` names the resolver
        let err = ApiError::generic(601, "boom");
        let pattern = ("/resolver/{name}", Some("res2"));
        let r = row("POST", pattern, Some(&err), || {
            note_caller(&admin);
            log(|r| r.info = "lost".into());
        });
        let r = r.unwrap();
        assert_eq!(r.action, "POST /resolver/<resolver>");
        assert_eq!(r.resolver, "res2");
        assert_eq!(r.info, "ERR601: boom");
        // /auth: ACCEPT; `success(false)` wins over a 2xx
        let r = row("POST", ("/auth", None), None, || {
            audit_request();
            success(false);
        });
        let r = r.unwrap();
        assert_eq!((r.authentication.as_str(), r.success), ("ACCEPT", 0));
        assert!(r.duration.is_some() && r.startdate.is_some());
    }

    #[test]
    fn header_text_like_http() {
        assert_eq!(header_text(b"curl/8.0\tx"), Some("curl/8.0\tx"));
        assert_eq!(header_text("curl/ä".as_bytes()), None);
        assert_eq!(header_text(b"a\x7f"), None);
    }
}
