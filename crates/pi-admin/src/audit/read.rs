//! Reading the audit trail: one page of it (`GET /audit/`: privacyIDEA's
//! filters and paging, the `auditlog`, `auditlog_age` and
//! `hide_audit_columns` admin policies, the realm restriction) and the CSV
//! export (`GET /audit/<file>.csv`: the `auditlog_download` export, capped
//! by `auditlog_age`, in rounds of 500 like the release's `csv_generator`).
//! Parameters are the request's merged parameters.

use crate::caller::Admin;
use crate::error::{ApiError, ApiResult};
use crate::gate::{AuditLog, AuditLogDownload, Granted, Permission};
use crate::policyset::{callers_policies, map_match_error, match_context_parts};
use crate::state::{AppState, Snapshot};
use chrono::{Local, NaiveDateTime, TimeDelta};
use pi_policy::UserObject;
use pi_store::{AuditPage, AuditQuery, AuditRecord, Store};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Where the trail is read: the audit database (`PI_AUDIT_SQL_URI`, else
/// the main one) and the key that checks the rows' signatures.
#[derive(Debug, Clone)]
pub struct Trail {
    /// The audit database.
    pub store: Store,
    /// `PI_AUDIT_KEY_PUBLIC` (`None` with `PI_AUDIT_NO_SIGN`: every entry
    /// then reads `sig_check: FAIL`, as in privacyIDEA).
    pub verifier: Option<pi_auth::SignatureVerifier>,
}

impl Trail {
    /// The audit database (`PI_AUDIT_SQL_URI`, else `main`) and the public
    /// audit key (`PI_AUDIT_KEY_PUBLIC`, unless `PI_AUDIT_NO_SIGN`; a key
    /// that cannot be read is a warning, as in privacyIDEA).
    pub fn open(cfg: &pi_config::PiConfig, main: &Store) -> anyhow::Result<Trail> {
        let store = match cfg
            .get("PI_AUDIT_SQL_URI")
            .and_then(|v| v.as_str())
            .filter(|u| !u.is_empty())
        {
            Some(uri) => Store::open(uri, pi_store::StoreOptions::default())?,
            None => main.clone(),
        };
        let no_sign = cfg
            .get("PI_AUDIT_NO_SIGN")
            .is_some_and(pi_model::pyrepr::py_truthy);
        let verifier = match &cfg.pi_audit_key_public {
            Some(path) if !no_sign => {
                let loaded = std::fs::read_to_string(path)
                    .map_err(|e| e.to_string())
                    .and_then(|pem| {
                        pi_auth::SignatureVerifier::from_pem(&pem).map_err(|e| e.to_string())
                    });
                loaded
                    .inspect_err(|e| log::warn!("PI_AUDIT_KEY_PUBLIC `{}`: {e}", path.display()))
                    .ok()
            }
            _ => None,
        };
        Ok(Trail { store, verifier })
    }
}

/// The request's parameters (query, form and JSON merged).
type Params = Map<String, Value>;

/// A parameter as Python's `str()` renders it; `None` when absent or `null`.
fn get_str(params: &Params, key: &str) -> Option<String> {
    match params.get(key)? {
        Value::Null => None,
        v => Some(pi_model::pyrepr::str_value(v)),
    }
}

/// The columns `GET /audit/` lists (`available_audit_columns`).
const COLUMNS: &[&str] = &[
    "number",
    "action",
    "success",
    "authentication",
    "serial",
    "date",
    "startdate",
    "duration",
    "token_type",
    "user",
    "realm",
    "administrator",
    "action_detail",
    "info",
    "privacyidea_server",
    "client",
    "user_agent",
    "user_agent_version",
    "log_level",
    "policies",
    "clearance_level",
    "sig_check",
    "missing_line",
    "resolver",
    "thread_id",
    "container_serial",
    "container_type",
];

/// Parameters that steer the search rather than filter.
const CONTROL: &[&str] = &[
    "sortorder",
    "page",
    "page_size",
    "timelimit",
    "hidden_columns",
    "sortname",
];

/// privacyIDEA's `parse_timedelta`: `[+-]<n>[smhdy]` (`1d`, `2h`, `30m`),
/// whitespace allowed around the parts.
fn parse_timedelta(s: &str) -> Option<TimeDelta> {
    let t = s.trim();
    let unit = t.chars().last()?;
    let body = t[..t.len() - unit.len_utf8()].trim_end();
    let (negative, digits) = match body.strip_prefix(['+', '-']) {
        Some(rest) => (body.starts_with('-'), rest.trim_start()),
        None => (false, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'y' => 365 * 86_400,
        _ => return None,
    };
    let secs = n.checked_mul(factor)?;
    TimeDelta::try_seconds(if negative { -secs } else { secs })
}

/// The cut-off of a `timelimit` value: entries newer than now minus it.
fn newer_than(timelimit: &str, origin: &str) -> ApiResult<chrono::NaiveDateTime> {
    parse_timedelta(timelimit)
        .and_then(|d| Local::now().naive_local().checked_sub_signed(d))
        .ok_or_else(|| ApiError::parameter(format!("Invalid {origin} `{timelimit}`")))
}

/// `prepolicy.auditlog_age`: the `auditlog_age` value of the admin policies
/// matching this admin (no user object for admins), unique at the top
/// priority (conflict: 403/303). It replaces the request's own `timelimit`,
/// longer or shorter.
fn auditlog_age(snap: &Snapshot, admin: &Admin) -> ApiResult<Option<String>> {
    let parts = match_context_parts(admin.caller());
    let ctx = parts.context(&snap.policy_set, None);
    let values = snap
        .policy_set
        .match_admin_or_user(&ctx, Some("auditlog_age"), None, None, None)
        .and_then(|m| m.action_values(true, false))
        .map_err(map_match_error)?;
    Ok(values.first().flatten().map(str::to_owned))
}

/// The request's user object (`request.User`, `get_user_from_param`): the
/// `user` parameter found in its realm, else only the `realm` and
/// `resolver` parameters.
async fn request_user(
    state: &AppState,
    snap: &Arc<Snapshot>,
    params: &Params,
) -> ApiResult<UserObject> {
    let realm = get_str(params, "realm");
    let resolver = get_str(params, "resolver")
        .filter(|r| r != "**")
        .unwrap_or_default();
    let mut user = match get_str(params, "user").filter(|u| !u.is_empty()) {
        Some(login) => {
            let found = crate::users::resolve(state, snap, &login, realm.as_deref()).await?;
            if found.login.is_empty() {
                // an unknown realm: the login and realm as given
                let realm = realm
                    .filter(|r| !r.is_empty())
                    .or_else(|| snap.default_realm().map(|r| r.name.clone()))
                    .unwrap_or_default();
                UserObject::new(&login, &realm.to_lowercase(), "")
            } else {
                found.user_object()
            }
        }
        None => UserObject::new("", &realm.unwrap_or_default().to_lowercase(), ""),
    };
    if !resolver.is_empty() {
        user.resolver = resolver;
    }
    Ok(user)
}

/// `prepolicy.hide_audit_columns`: every value of the `hide_audit_columns`
/// admin policies matching this admin and the request's user object.
fn hidden_columns(snap: &Snapshot, admin: &Admin, user: &UserObject) -> ApiResult<Vec<String>> {
    let parts = match_context_parts(admin.caller());
    let ctx = parts.context(&snap.policy_set, None);
    let values = snap
        .policy_set
        .match_admin_or_user(&ctx, Some("hide_audit_columns"), Some(user), None, None)
        .and_then(|m| m.action_values(false, false))
        .map_err(map_match_error)?;
    Ok(values
        .iter()
        .filter_map(|(v, _)| v.map(str::to_owned))
        .collect())
}

fn int_param(params: &Params, key: &str) -> ApiResult<Option<i64>> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::parameter(format!("{key} must be an integer"))),
        Some(v) => pi_model::pyrepr::str_value(v)
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ApiError::parameter(format!("{key} must be an integer"))),
    }
}

/// The realms a realm-restricted `auditlog` admin may read
/// (`get_admin_audit_params`): `None` when unrestricted.
fn allowed_realms(snap: &Snapshot, admin: &Admin) -> ApiResult<Option<Vec<String>>> {
    let matched = callers_policies(&snap.policy_set, admin.caller(), "admin", Some("auditlog"))?;
    let mut realms: Vec<String> = Vec::new();
    let mut restricted = false;
    for p in matched {
        if !p.resolver().is_empty() || !p.user().is_empty() {
            restricted = true;
            continue;
        }
        let names = p.realm();
        if names.is_empty() {
            return Ok(None);
        }
        restricted = true;
        for n in names {
            if !realms.contains(n) {
                realms.push(n.clone());
            }
        }
    }
    Ok(restricted.then_some(realms))
}

/// The query of a request (its filters, paging and the admin's realms).
/// (`check_base_action` for auditlog ignores the request's
/// user/realm/resolver: the gate's target is empty.)
fn query<P: Permission>(granted: &Granted<P>, params: &Params) -> ApiResult<AuditQuery> {
    let snap = granted.snapshot();
    let admin = granted.admin();
    let allowed = allowed_realms(snap, admin)?;
    let page = int_param(params, "page")?.unwrap_or(1).max(1);
    let page_size = match int_param(params, "page_size")? {
        Some(n) if n >= 1 => n,
        _ => 15,
    };
    let descending = get_str(params, "sortorder").is_none_or(|s| s != "asc");
    // auditlog_age replaces the request's timelimit
    let newer_than = match auditlog_age(snap, admin)? {
        Some(age) => Some(newer_than(&age, "auditlog_age")?),
        None => match get_str(params, "timelimit").filter(|s| !s.is_empty()) {
            Some(t) => Some(newer_than(&t, "timelimit")?),
            None => None,
        },
    };
    let filters = params
        .iter()
        .filter(|(k, _)| !CONTROL.contains(&k.as_str()))
        .filter_map(|(k, v)| match v {
            Value::Null => None,
            Value::String(s) => Some((k.clone(), s.clone())),
            other => Some((k.clone(), pi_model::pyrepr::str_value(other))),
        })
        .collect();
    Ok(AuditQuery {
        filters,
        admin: allowed.is_some().then(|| {
            (
                admin.caller().username.clone(),
                admin.caller().realm.clone(),
            )
        }),
        allowed_realms: allowed,
        newer_than,
        page,
        page_size,
        descending,
    })
}

/// One entry as `audit_entry_to_dict` gives it.
fn entry_json(trail: &Trail, r: &AuditRecord, neighbours_ok: bool) -> Map<String, Value> {
    let sig_ok = trail
        .verifier
        .as_ref()
        .is_some_and(|v| v.verify(&r.sign_text(), &r.signature));
    let ok = |b: bool| json!(if b { "OK" } else { "FAIL" });
    let mut m = Map::new();
    m.insert("number".into(), json!(r.id));
    m.insert("date".into(), json!(pi_store::python_isoformat(&r.date)));
    m.insert("sig_check".into(), ok(sig_ok));
    m.insert("missing_line".into(), ok(neighbours_ok));
    m.insert("action".into(), json!(r.action));
    m.insert("authentication".into(), json!(r.authentication));
    m.insert("success".into(), json!(r.success));
    m.insert("serial".into(), json!(r.serial));
    m.insert("token_type".into(), json!(r.token_type));
    m.insert("container_serial".into(), json!(r.container_serial));
    m.insert("container_type".into(), json!(r.container_type));
    m.insert("user".into(), json!(r.user));
    m.insert("realm".into(), json!(r.realm));
    m.insert("resolver".into(), json!(r.resolver));
    m.insert("administrator".into(), json!(r.administrator));
    m.insert("action_detail".into(), json!(r.action_detail));
    m.insert("info".into(), json!(r.info));
    m.insert("privacyidea_server".into(), json!(r.privacyidea_server));
    m.insert("policies".into(), json!(r.policies));
    m.insert("client".into(), json!(r.client));
    m.insert("user_agent".into(), json!(r.user_agent));
    m.insert("user_agent_version".into(), json!(r.user_agent_version));
    m.insert("log_level".into(), json!(r.loglevel));
    m.insert("clearance_level".into(), json!(r.clearance_level));
    m.insert(
        "startdate".into(),
        r.startdate
            .as_ref()
            .map_or(Value::Null, |t| json!(pi_store::python_isoformat(t))),
    );
    m.insert(
        "duration".into(),
        r.duration
            .filter(|d| !d.is_zero())
            .map_or(Value::Null, |d| json!(pi_store::python_total_seconds(&d))),
    );
    m.insert("thread_id".into(), json!(r.thread_id));
    m
}

fn neighbours_ok(page: &AuditPage, id: i64) -> bool {
    page.neighbours.contains(&(id - 1)) && page.neighbours.contains(&(id + 1))
}

/// `GET /audit/`'s value: one page of the audit log, filtered and paged as
/// privacyIDEA does (`{auditdata, auditcolumns, prev, next, current,
/// count}`), without the columns `hide_audit_columns` names.
pub async fn search(
    state: &AppState,
    granted: &Granted<AuditLog>,
    trail: &Trail,
    params: &Params,
) -> ApiResult<Value> {
    let q = query(granted, params)?;
    let snap = granted.snapshot();
    let user = request_user(state, snap, params).await?;
    let hidden = hidden_columns(snap, granted.admin(), &user)?;
    let store = trail.store.clone();
    let q2 = q.clone();
    let page = crate::blocking(move || store.search_audit(&q2))
        .await
        .map_err(ApiError::internal)??;
    let data: Vec<Value> = page
        .entries
        .iter()
        .map(|r| {
            let mut m = entry_json(trail, r, neighbours_ok(&page, r.id));
            m.retain(|k, _| !hidden.contains(k));
            Value::Object(m)
        })
        .collect();
    let columns: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !hidden.iter().any(|h| h == c))
        .collect();
    let next = (page.total > q.page_size * q.page).then_some(q.page + 1);
    let prev = (q.page > 1).then_some(q.page - 1);
    Ok(json!({
        "auditdata": data,
        "auditcolumns": columns,
        "prev": prev,
        "next": next,
        "current": q.page,
        "count": page.total,
    }))
}

/// privacyIDEA's `_csv_cell`: a value a spreadsheet would read as a
/// formula gets a leading apostrophe (plain numbers excepted).
fn csv_cell(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        other => pi_model::pyrepr::str_value(other),
    };
    let starts = text
        .trim_start()
        .starts_with(['=', '+', '-', '@', '|', '\t', '\r']);
    let number = {
        let t = text.trim();
        let t = t.strip_prefix(['+', '-']).unwrap_or(t);
        !t.is_empty()
            && t.parse::<f64>().is_ok()
            && t.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    };
    if starts && !number {
        format!("'{text}")
    } else {
        text
    }
}

/// Python's `csv.writer` quoting (minimal): quote fields with `,`, `"`,
/// line breaks; double the quotes.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The dict order of `audit_entry_to_dict` (the CSV column order).
const CSV_ORDER: &[&str] = &[
    "number",
    "date",
    "sig_check",
    "missing_line",
    "action",
    "authentication",
    "success",
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
    "policies",
    "client",
    "user_agent",
    "user_agent_version",
    "log_level",
    "clearance_level",
    "startdate",
    "duration",
    "thread_id",
];

/// Where a round of the CSV export starts: after this `(date, id)`.
pub type Cursor = (NaiveDateTime, i64);

/// The CSV export of the filtered audit log (`auditlog_download`): the
/// log as it is when the export starts (entries written during it are left
/// out), read in rounds.
#[derive(Debug, Clone)]
pub struct CsvExport {
    query: AuditQuery,
    up_to: i64,
}

impl CsvExport {
    /// The export of the request's query; `None` when no entry matches.
    pub async fn start(
        granted: &Granted<AuditLogDownload>,
        trail: &Trail,
        params: &Params,
    ) -> ApiResult<Option<CsvExport>> {
        let query = query(granted, params)?;
        let store = trail.store.clone();
        let q2 = query.clone();
        let up_to = crate::blocking(move || store.max_audit_id(&q2))
            .await
            .map_err(ApiError::internal)??;
        Ok(up_to.map(|up_to| CsvExport { query, up_to }))
    }

    /// One round: its rows as CSV lines and where the next round starts
    /// (`None`: this was the last round).
    pub async fn round(
        &self,
        trail: &Trail,
        after: Option<Cursor>,
    ) -> ApiResult<(String, Option<Cursor>)> {
        csv_round(trail, &self.query, self.up_to, after).await
    }
}

/// The download's file name as the `Content-Disposition` carries it
/// (no path separators, quotes or control characters).
pub fn attachment_name(filename: &str) -> String {
    filename
        .chars()
        .filter(|c| !matches!(c, '/' | '\\' | '"') && !c.is_control())
        .collect()
}

/// Rows of one round of the export.
const CSV_ROUND: i64 = 500;

/// One round of the CSV export: its rows as CSV and the `(date, id)` the
/// next round starts after (`None`: this was the last round).
async fn csv_round(
    trail: &Trail,
    q: &AuditQuery,
    up_to: i64,
    after: Option<Cursor>,
) -> ApiResult<(String, Option<Cursor>)> {
    let store = trail.store.clone();
    let qq = q.clone();
    let page = crate::blocking(move || store.audit_export_round(&qq, up_to, after, CSV_ROUND))
        .await
        .map_err(ApiError::internal)??;
    let mut out = String::new();
    for r in &page.entries {
        let m = entry_json(trail, r, neighbours_ok(&page, r.id));
        let row: Vec<String> = CSV_ORDER
            .iter()
            .map(|k| csv_field(&csv_cell(m.get(*k).unwrap_or(&Value::Null))))
            .collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    let next = match page.entries.last() {
        Some(last) if page.total >= CSV_ROUND => Some((last.date, last.id)),
        _ => None,
    };
    Ok((out, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_like_privacyidea() {
        assert_eq!(csv_cell(&json!("=1+1")), "'=1+1");
        assert_eq!(csv_cell(&json!("-5")), "-5");
        assert_eq!(csv_cell(&json!("plain")), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
    }

    #[test]
    fn timelimits() {
        assert_eq!(parse_timedelta("2h"), Some(TimeDelta::seconds(7200)));
        assert_eq!(parse_timedelta(" 1d "), Some(TimeDelta::seconds(86_400)));
        assert_eq!(parse_timedelta("- 3 m"), Some(TimeDelta::seconds(-180)));
        assert_eq!(
            parse_timedelta("+1y"),
            Some(TimeDelta::seconds(365 * 86_400))
        );
        for bad in [
            "x",
            "",
            "d",
            "1",
            "1w",
            "1.5d",
            "--1d",
            "99999999999999999999d",
            "9223372036854775807y",
        ] {
            assert_eq!(parse_timedelta(bad), None, "{bad}");
        }
    }
}
