//! `GET /client/`: the client applications privacyIDEA recorded in its
//! `clientapplication` table, grouped by client type (`api/clienttype.py`),
//! behind the `clienttype` admin action. This server never records clients
//! itself (it has no `/validate` endpoints), so the answer is `{}` unless
//! privacyIDEA shares the database.

use super::resource;
use super::Allowed;
use crate::envelope;
use actix_web::web;
use pi_admin::gate::ClientType;
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

#[utoipa::path(
    get, path = "/client/", tag = "client",
    responses((status = 200, description = "Clients by type: `{clienttype: [{hostname, ip, lastseen}]}`", body = crate::openapi::Envelope)),
)]
async fn list(
    Allowed {
        state, params: _, ..
    }: Allowed<ClientType>,
) -> crate::error::Reply {
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
    Ok(envelope::ok(Value::Object(out)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/client/").route(web::get().to(list)));
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
