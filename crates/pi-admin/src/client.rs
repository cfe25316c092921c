//! The client applications privacyIDEA recorded in its `clientapplication`
//! table, grouped by client type (`GET /client/`, `api/clienttype.py`),
//! behind the `clienttype` admin action. This server never records clients
//! itself (it has no `/validate` endpoints), so the answer is `{}` unless
//! privacyIDEA shares the database.

use crate::error::ApiResult;
use crate::gate::{ClientType, Granted};
use crate::state::AppState;
use serde_json::{json, Map, Value};

/// `lastseen` as Flask's JSON provider writes a `datetime`: an HTTP date
/// (`Fri, 01 May 2026 12:34:56 GMT`).
fn http_date(db: &str) -> Value {
    let trimmed = db.trim();
    let parsed = chrono::NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%.f"));
    match parsed {
        Ok(t) => Value::String(t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()),
        Err(_) => Value::String(trimmed.to_owned()),
    }
}

/// The clients by type: `{clienttype: [{ip, hostname, lastseen}]}`.
pub async fn list(state: &AppState, _granted: &Granted<ClientType>) -> ApiResult<Value> {
    let rows = state.db(|s| s.client_applications()).await?;
    let mut out = Map::new();
    for row in rows {
        let entry = out
            .entry(row.clienttype.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = entry {
            items.push(json!({
                "ip": row.ip,
                "hostname": row.hostname,
                "lastseen": row.lastseen.as_deref().map_or(Value::Null, http_date),
            }));
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    #[test]
    fn lastseen_is_an_http_date() {
        assert_eq!(
            super::http_date("2026-05-01 12:34:56.123456"),
            "Fri, 01 May 2026 12:34:56 GMT"
        );
        assert_eq!(super::http_date("garbage"), "garbage");
    }
}
