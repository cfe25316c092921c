//! The audit trail (decisions/0009): one `pidea_audit` row per request, as
//! privacyIDEA writes it.
//!
//! * The middleware [`record`] opens a request-local [`AuditLog`] (start
//!   time, client, User-Agent, node, thread) in the request extensions.
//! * The JWT check ([`note_caller`]) marks the request as audited (a request
//!   refused before authentication leaves no row, as in privacyIDEA) and
//!   names the administrator; the parameter extractor ([`note_params`])
//!   records `user`/`realm`/`resolver`; handlers add `info`/`action_detail`
//!   with [`log()`].
//! * After the handler, `action` (`"<METHOD> <url rule>"`), `success` and the
//!   error's `info` are filled in and the entry goes to the [`AuditWriter`]:
//!   a bounded queue and one background thread that writes batches in one
//!   transaction each, signing every row. A full queue makes the request
//!   wait (never drops); a failed write is retried, and while the audit
//!   database fails requests answer 503 unless `PI_AUDIT_FAIL_OPEN` is set;
//!   [`AuditWriter::close`] flushes at shutdown.

use crate::error::{ApiError, Kind};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest};
use chrono::{Local, NaiveDateTime};
use pi_admin::{Caller, Role};
use pi_store::{AuditRecord, Store};
use std::cell::RefCell;
use std::collections::HashMap;
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
    success: Option<bool>,
    param_user: Option<String>,
    param_realm: Option<String>,
    param_resolver: Option<String>,
    caller_user: Option<(String, String)>,
    raw: Raw,
}

/// What the request path keeps as it is; the writer thread turns it into
/// the row's text (so the request path formats nothing it need not).
#[derive(Debug, Default)]
struct Raw {
    /// The User-Agent header (a reference-counted view of the request).
    user_agent: Option<header::HeaderValue>,
    client: Option<std::net::IpAddr>,
    thread: u64,
    method: actix_web::http::Method,
    /// actix's route pattern (`/policy/{name}`), or the Flask rule itself.
    pattern: String,
}

/// The request's audit entry (cheap to clone; request-local).
#[derive(Debug, Clone, Default)]
pub struct AuditLog(Rc<RefCell<Entry>>);

impl AuditLog {
    fn log(&self, f: impl FnOnce(&mut AuditRecord)) {
        f(&mut self.0.borrow_mut().record);
    }

    /// Sets `success` (else: a 2xx answer is a success).
    fn success(&self, ok: bool) {
        self.0.borrow_mut().success = Some(ok);
    }

    fn audit(&self) {
        self.0.borrow_mut().audited = true;
    }
}

thread_local! {
    /// This worker thread's number.
    static THREAD_ID: u64 = crate::envelope::thread_id();
}

tokio::task_local! {
    /// The entry of the request whose future is running.
    static CURRENT: AuditLog;
}

/// The running request's entry (set by [`record`] for the request's
/// whole future, extractors included).
fn current() -> Option<AuditLog> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Changes the current request's audit entry (nothing when audit is off):
/// handlers enrich their row without taking an extra argument.
pub fn log(f: impl FnOnce(&mut AuditRecord)) {
    let _ = CURRENT.try_with(|a| a.log(f));
}

/// Sets the current request's `success`.
pub fn success(ok: bool) {
    let _ = CURRENT.try_with(|a| a.success(ok));
}

/// Writes a row for the current request even without an authenticated
/// caller (`POST /auth`).
pub fn audit_request() {
    let _ = CURRENT.try_with(AuditLog::audit);
}

/// The request's audit entry as an extractor.
impl actix_web::FromRequest for AuditLog {
    type Error = crate::error::HttpError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;
    fn from_request(_: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(current().unwrap_or_default()))
    }
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

/// actix's `/policy/{name}` as Flask's url rule `/policy/<name>`, with
/// privacyIDEA's names for the variables.
fn url_rule(pattern: &str) -> String {
    let rule = match pattern {
        "/resolver/{name}" => "/resolver/{resolver}",
        "/resolver/{rtype}/default" => "/resolver/{resolvertype}/default",
        "/policy/export/{filename}" => "/policy/export/{export}",
        "/realm/{realm}/node/{nodeid}" => "/realm/{string:realm}/node/{string:nodeid}",
        "/auth/" => "/auth",
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

/// The middleware (a no-op when audit is off).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let writer = req.app_data::<web::Data<Option<Arc<AuditWriter>>>>();
    let Some(writer) = writer.and_then(|w| w.as_ref().clone()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let path = req.path();
    if path.starts_with("/healthz") || path.starts_with("/static/") || path.starts_with("/app/") {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    if !writer.accepting() {
        let err = ApiError::unavailable("the audit log cannot be written");
        let res = crate::error::response(err);
        return Ok(req.into_response(res).map_into_boxed_body());
    }
    let log = AuditLog(Rc::new(RefCell::new(Entry {
        record: AuditRecord {
            startdate: Some(now()),
            // set by the writer (`complete`) unless a handler set them
            loglevel: String::new(),
            clearance_level: String::new(),
            thread_id: String::new(),
            ..AuditRecord::default()
        },
        raw: Raw {
            user_agent: req.headers().get(header::USER_AGENT).cloned(),
            client: req.peer_addr().map(|a| a.ip()),
            thread: THREAD_ID.with(|t| *t),
            method: req.method().clone(),
            pattern: String::new(),
        },
        ..Entry::default()
    })));
    // the call itself inside the scope: extractors may run in it
    let res = CURRENT
        .scope(log.clone(), async move { next.call(req).await })
        .await?;
    let entry = finish(&log, &res);
    if let Some(pending) = entry {
        writer.send(pending).await;
    }
    Ok(res.map_into_boxed_body())
}

/// An entry on its way to the writer: the record and what the writer still
/// renders into it.
#[derive(Debug)]
struct Pending {
    record: AuditRecord,
    raw: Raw,
}

impl Pending {
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
            .and_then(|v| v.to_str().ok())
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

fn finish<B>(log: &AuditLog, res: &ServiceResponse<B>) -> Option<Pending> {
    let mut e = log.0.borrow_mut();
    if !e.audited {
        return None;
    }
    let req = res.request();
    let pattern = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
    // `check` and `defs` are static routes in Flask; here `/policy/{name}`
    // serves them (url_rule leaves these as they are)
    let pattern = match (pattern.as_str(), req.match_info().get("name")) {
        ("/policy/{name}", Some(n @ ("check" | "defs"))) if req.method() == "GET" => {
            format!("/policy/{n}")
        }
        _ => pattern,
    };
    let is_auth = matches!(pattern.as_str(), "/auth" | "/auth/");
    let mut r = std::mem::take(&mut e.record);
    // user/realm/resolver: the logged-in user for user callers, else the
    // request's parameters (path variables included, as Flask's view_args)
    if r.user.is_empty() && r.realm.is_empty() {
        if let Some((u, realm)) = e.caller_user.clone() {
            r.user = u;
            r.realm = realm;
        } else {
            r.user = e.param_user.clone().unwrap_or_default();
            r.realm = e
                .param_realm
                .clone()
                .or_else(|| req.match_info().get("realm").map(str::to_owned))
                .unwrap_or_default();
        }
    }
    if r.resolver.is_empty() {
        r.resolver = e
            .param_resolver
            .clone()
            .or_else(|| {
                pattern
                    .starts_with("/resolver/{name}")
                    .then(|| req.match_info().get("name").map(str::to_owned))
                    .flatten()
            })
            .unwrap_or_default();
    }
    let status = res.status();
    let error = res
        .response()
        .error()
        .and_then(|err| err.as_error::<crate::error::HttpError>())
        .map(|err| &err.0);
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
    } else if is_auth && status.is_success() {
        r.authentication = "ACCEPT".into();
    }
    r.success = i32::from(e.success.unwrap_or(true) && status.is_success());
    let end = now();
    r.duration = r.startdate.map(|s| end - s);
    r.date = end;
    let mut raw = std::mem::take(&mut e.raw);
    raw.pattern = pattern;
    Some(Pending { record: r, raw })
}

enum Msg {
    Entry(Box<Pending>),
    Stop,
}

/// The background writer of the audit trail.
#[derive(Debug)]
pub struct AuditWriter {
    tx: tokio::sync::mpsc::Sender<Msg>,
    healthy: Arc<AtomicBool>,
    fail_open: bool,
    depth: Arc<AtomicI64>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Msg {
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

impl AuditWriter {
    /// Starts the writer thread on `store` (the audit database).
    pub fn start(store: Store, opts: AuditOptions) -> std::io::Result<AuditWriter> {
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
    async fn send(&self, pending: Pending) {
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

fn writer_loop(
    store: Store,
    mut rx: tokio::sync::mpsc::Receiver<Msg>,
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
}
