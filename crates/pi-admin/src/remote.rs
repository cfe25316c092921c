//! Remote privacyIDEA server use cases (`/privacyideaserver`): the
//! definitions' list and writes, and the test request to a server's
//! `/validate/check` (the HTTP client is pi-remote's); each needs its
//! [`Granted`] proof.

use crate::error::{ApiError, ApiResult};
use crate::gate::{Granted, RemoteRead, RemoteWrite};
use crate::state::AppState;
use crate::write::checked_write;
use pi_model::record::RemoteServerRecord;
use pi_remote::CheckOutcome;
use pi_store::{Precondition, Store};
use serde_json::{json, Map, Value};

/// A URL the definitions accept, or privacyIDEA's parameter error.
pub fn check_url(url: &str) -> ApiResult<()> {
    pi_remote::validate_url(url).map_err(|e| ApiError::parameter(format!("Invalid url: {e}")))
}

/// `GET /privacyideaserver/`: `{identifier: {id, url, tls, description}}`.
pub async fn list_json(state: &AppState, _granted: &Granted<RemoteRead>) -> ApiResult<Value> {
    let servers = state.db(|s| s.list_remote_servers()).await?;
    let mut out = Map::new();
    for s in servers {
        out.insert(
            s.identifier.clone(),
            json!({"id": s.id, "url": s.url, "tls": s.tls, "description": s.description}),
        );
    }
    Ok(Value::Object(out))
}

/// The parameters of `POST /privacyideaserver/<identifier>`.
#[derive(Debug, Clone)]
pub struct Definition {
    /// The name (spaces already replaced by `_`).
    pub identifier: String,
    /// A URL that passed [`check_url`].
    pub url: String,
    /// Verify the server's certificate.
    pub tls: bool,
    /// `None`: keep the stored one (empty for a new definition).
    pub description: Option<String>,
}

/// `POST /privacyideaserver/<identifier>`: create or update (under `pre`,
/// `If-Match`) and refresh the snapshot. Deviation: privacyIDEA cannot
/// switch `tls` off or clear the description on update; here what is sent
/// is what is stored, and an omitted description is kept. The
/// definition's id.
pub async fn save(
    state: &AppState,
    _granted: &Granted<RemoteWrite>,
    def: Definition,
    pre: Option<Precondition>,
) -> ApiResult<i64> {
    let save = move |s: &Store| {
        let record = match s.get_remote_server(&def.identifier)? {
            Some(old) => RemoteServerRecord {
                id: old.id,
                identifier: old.identifier,
                url: def.url,
                tls: def.tls,
                description: def.description.unwrap_or(old.description),
            },
            None => RemoteServerRecord {
                id: 0,
                identifier: def.identifier,
                url: def.url,
                tls: def.tls,
                description: def.description.unwrap_or_default(),
            },
        };
        s.save_remote_server(&record)
    };
    let id = checked_write(state, pre, save, Ok).await?;
    // privacyIDEA's view logs the id as `info`
    crate::audit::log(|r| r.info = id.to_string());
    Ok(id)
}

/// `DELETE /privacyideaserver/<identifier>`: the deleted definition's id.
pub async fn delete(
    state: &AppState,
    _granted: &Granted<RemoteWrite>,
    identifier: String,
    pre: Option<Precondition>,
) -> ApiResult<i64> {
    let delete = move |s: &Store| s.delete_remote_server(&identifier);
    let id = checked_write(state, pre, delete, |deleted| match deleted {
        Some(id) => Ok(id),
        None => Err(ApiError::not_found(
            "The requested PrivacyIDEAServer could not be found.",
        )),
    })
    .await?;
    crate::audit::log(|r| r.info = id.to_string());
    Ok(id)
}

/// `POST /privacyideaserver/test_request`: refuse a URL the outbound
/// policy forbids, send the user's credentials to the server's
/// `/validate/check`, count the outcome (`pi_remote_test_requests_total`).
pub async fn test_request(
    state: &AppState,
    _granted: &Granted<RemoteWrite>,
    url: String,
    tls: bool,
    username: &str,
    password: &str,
) -> ApiResult<CheckOutcome> {
    let client = state.remote_client();
    if let Err(e) = pi_remote::check_target(&url, client.options()) {
        count_test_request("refused");
        return Err(ApiError::parameter(format!(
            "The URL may not be reached: {e}"
        )));
    }
    let outcome = client
        .validate_check(&pi_remote::RemoteTarget::new(url, tls), username, password)
        .await;
    count_test_request(match (outcome.accepted, outcome.http_status) {
        (true, _) => "accepted",
        (false, Some(_)) => "rejected",
        (false, None) => "error",
    });
    Ok(outcome)
}

/// A test request by outcome (the server's metrics recorder, when
/// installed, exports it).
fn count_test_request(outcome: &'static str) {
    metrics::counter!("pi_remote_test_requests_total", "outcome" => outcome).increment(1);
}
