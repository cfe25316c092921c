//! Resolver use cases (`/resolver`, `pi-manage config resolver`, the
//! import): privacyIDEA's censored representation and list filter, the
//! write rules shared by the server and `pi-manage`, the connection test,
//! and the writes (each needs its [`Granted`] proof on the server).

use crate::error::{ApiError, ApiResult};
use crate::gate::{Granted, ResolverDelete, ResolverRead, ResolverWrite};
use crate::state::AppState;
use crate::write::checked_write;
use pi_model::record::{ResolverConfigChange, ResolverRecord};
use pi_realm::{DecodedResolver, EncKey, CENSORED};
use pi_store::{DeleteResolverOutcome, Precondition, SaveResolverError, Store};
use serde_json::{json, Map, Value};

fn resolver_json(d: &DecodedResolver) -> Value {
    json!({
        "resolvername": d.name,
        "type": d.rtype,
        "censor_keys": d.censor_keys,
        "data": Value::Object(d.censored_data()),
    })
}

fn editable(d: &DecodedResolver) -> bool {
    ["Editable", "EDITABLE"].iter().any(|k| {
        d.data
            .get(*k)
            .map(pi_model::pyrepr::is_true)
            .unwrap_or(false)
    })
}

/// privacyIDEA's `get_resolver_list(filter_resolver_name,
/// filter_resolver_type, editable, censor=True)` filter.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    /// Exact type (`None`: any).
    pub rtype: Option<String>,
    /// Keep editable (`true`) or non-editable (`false`) ones.
    pub editable: Option<bool>,
    /// The name, matched case-insensitively (path of `GET /resolver/<name>`).
    pub name: Option<String>,
}

impl ListFilter {
    /// The filter of a request's `type` and `editable` parameters and the
    /// path's `name`.
    pub fn from_params(params: &serde_json::Map<String, Value>, name: Option<&str>) -> Self {
        ListFilter {
            rtype: crate::request::param_str(params, "type").filter(|t| !t.is_empty()),
            editable: match params.get("editable") {
                None | Some(Value::Null) => None,
                Some(v) => Some(pi_model::pyrepr::is_true(v)),
            },
            name: name.map(str::to_owned),
        }
    }
}

/// `GET /resolver/` and `GET /resolver/<name>`: the resolvers of the
/// snapshot the gate decided on that pass `filter`, secrets censored.
pub fn list_json(state: &AppState, granted: &Granted<ResolverRead>, filter: &ListFilter) -> Value {
    let snap = granted.snapshot();
    let lower = filter.name.as_deref().map(str::to_lowercase);
    let mut out = Map::new();
    for rec in &snap.resolvers {
        if filter.rtype.as_deref().is_some_and(|t| t != rec.rtype) {
            continue;
        }
        if lower
            .as_deref()
            .is_some_and(|n| rec.name.to_lowercase() != n)
        {
            continue;
        }
        let d = decode(state, rec);
        if filter.editable.is_some_and(|want| want != editable(&d)) {
            continue;
        }
        out.insert(rec.name.clone(), resolver_json(&d));
    }
    Value::Object(out)
}

fn decode(state: &AppState, rec: &ResolverRecord) -> DecodedResolver {
    DecodedResolver::from_record(rec, state.enc_key_or_ephemeral())
}

/// A known resolver type, or privacyIDEA's parameter error.
pub fn known_type(rtype: &str) -> ApiResult<()> {
    pi_realm::check_resolver_type(rtype).map_err(ApiError::parameter)
}

/// `GET /resolver/<type>/default`: the type's default configuration.
pub fn defaults(rtype: &str) -> ApiResult<Value> {
    known_type(rtype)?;
    let config = pi_realm::default_config(rtype).map_err(|e| ApiError::parameter(e.to_string()))?;
    Ok(Value::Object(config))
}

/// A rejected resolver write.
#[derive(Debug)]
pub enum SaveError {
    /// The parameters (privacyIDEA's message).
    Invalid(String),
    /// A resolver with this name and another type exists.
    TypeMismatch(String),
    /// The store.
    Store(pi_store::StoreError),
}

impl std::fmt::Display for SaveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SaveError::Invalid(m) => f.write_str(m),
            SaveError::TypeMismatch(existing) => write!(
                f,
                "resolver with similar name and other type already exists: {existing}"
            ),
            SaveError::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for SaveError {}

impl From<SaveError> for ApiError {
    fn from(e: SaveError) -> Self {
        match e {
            SaveError::Store(s) => s.into(),
            other => ApiError::parameter(other.to_string()),
        }
    }
}

/// The validated rows of a resolver write (privacyIDEA's `save_resolver`
/// rules: type, keys, encryption of secrets).
pub fn plan_save(
    name: &str,
    rtype: &str,
    params: &Map<String, Value>,
    enc: Option<&EncKey>,
) -> Result<Vec<ResolverConfigChange>, SaveError> {
    pi_realm::resolver_changes(name, rtype, params, enc).map_err(SaveError::Invalid)
}

/// Store a planned resolver write: its id.
pub fn store_save(
    store: &Store,
    name: &str,
    rtype: &str,
    changes: &[ResolverConfigChange],
) -> Result<i64, SaveError> {
    store
        .save_resolver(name, rtype, changes)
        .map_err(|e| match e {
            SaveResolverError::TypeMismatch(existing) => SaveError::TypeMismatch(existing),
            SaveResolverError::Store(s) => SaveError::Store(s),
        })
}

/// `pi-manage`: validate and store a resolver write (no snapshot, no gate).
pub fn save_stored(
    store: &Store,
    name: &str,
    rtype: &str,
    params: &Map<String, Value>,
    enc: Option<&EncKey>,
) -> Result<i64, SaveError> {
    let changes = plan_save(name, rtype, params, enc)?;
    store_save(store, name, rtype, &changes)
}

/// `POST /resolver/<name>`: validate, store (under `pre`, `If-Match`),
/// refresh; the resolver's id. privacyIDEA stores a JSON bool as
/// "True"/"False" when it creates the row, but as "1"/"0" when the row
/// already exists (its update path assigns the raw bool; spec
/// resolvers-sql-ldap.md §1.1, L20).
pub async fn save(
    state: &AppState,
    granted: &Granted<ResolverWrite>,
    name: &str,
    rtype: &str,
    params: &Map<String, Value>,
    pre: Option<Precondition>,
) -> ApiResult<i64> {
    let mut values = params.clone();
    if let Some(stored) = granted
        .snapshot()
        .resolvers
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(name))
    {
        for (k, v) in values.iter_mut() {
            if let Value::Bool(b) = v {
                if stored.config.iter().any(|row| &row.key == k) {
                    *v = Value::String(if *b { "1" } else { "0" }.into());
                }
            }
        }
    }
    let changes = plan_save(name, rtype, &values, state.enc_key())?;
    let (n, t) = (name.to_owned(), rtype.to_owned());
    let save = move |s: &Store| Ok(store_save(s, &n, &t, &changes));
    let id = checked_write(state, pre, save, |saved| Ok(saved?)).await?;
    // privacyIDEA's view logs the id as the audit row's `success`
    crate::audit::success_value(id);
    Ok(id)
}

/// `DELETE /resolver/<name>`: the id of the deleted resolver (`None`: there
/// was none), or privacyIDEA's error 302 while a realm contains it. The
/// audit row's `success` is the id, or -1, as privacyIDEA's view logs it.
pub async fn delete(
    state: &AppState,
    _granted: &Granted<ResolverDelete>,
    name: &str,
    pre: Option<Precondition>,
) -> ApiResult<Option<i64>> {
    let n = name.to_owned();
    match state
        .db(move |s| s.with_precondition(pre, |s| s.delete_resolver(&n)))
        .await?
    {
        DeleteResolverOutcome::NotFound => {
            crate::audit::success_value(-1);
            Ok(None)
        }
        DeleteResolverOutcome::InRealm(realm) => Err(ApiError::generic(
            302,
            format!("The resolver '{name}' is still contained in realm '{realm}'."),
        )),
        DeleteResolverOutcome::Deleted(id) => {
            state.refresh().await?;
            crate::audit::success_value(id);
            Ok(Some(id))
        }
    }
}

/// `POST /resolver/test`: the connection test of the configuration in
/// `params` (a censored value is replaced by the stored one of resolver
/// `params.resolver`); the result value (a bool, or the SQL resolver's user
/// count) and the description, localised by `language` (Accept-Language).
pub async fn test(
    state: &AppState,
    granted: &Granted<ResolverWrite>,
    rtype: String,
    params: &Map<String, Value>,
    resolver: Option<String>,
    language: Option<&str>,
) -> ApiResult<(Value, String)> {
    known_type(&rtype)?;
    let mut config = Map::new();
    for (k, v) in params {
        if k != "type" && k != "resolver" && !k.starts_with("type.") && !k.starts_with("desc.") {
            config.insert(k.clone(), v.clone());
        }
    }
    if let Some(name) = resolver {
        if let Some(rec) = granted.snapshot().resolvers.iter().find(|r| r.name == name) {
            let stored = decode(state, rec);
            for (k, v) in config.iter_mut() {
                if v.as_str() == Some(CENSORED) {
                    if let Some(real) = stored.data.get(k) {
                        *v = real.clone();
                    }
                }
            }
        }
    }
    let outcome = crate::blocking(move || pi_realm::test_connection(&rtype, &config))
        .await
        .map_err(ApiError::internal)?;
    let (value, description) = match outcome {
        // the SQL resolver answers its user count (-1 on failure), not a bool
        Ok(t) => (
            t.count.map_or_else(|| json!(t.success), |n| json!(n)),
            t.description,
        ),
        // privacyIDEA answers 500 for a configuration its test cannot even
        // start with (SQL without `Table`); we answer a parameter error
        Err(e @ pi_realm::BuildError::InvalidConfig { .. }) => {
            return Err(ApiError::parameter(e.to_string()))
        }
        Err(e) => (json!(false), e.to_string()),
    };
    // privacyIDEA translates the LDAP success text by Accept-Language
    let description = pi_realm::ldap::localize_test_description(&description, language);
    Ok((value, description))
}
