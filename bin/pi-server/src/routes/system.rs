//! `GET /system/nodes`: the registered nodes as `{name, uuid}` (no action gate).

use super::resource;
use crate::auth::{Admin, Auth};
use crate::envelope;
use crate::server::AppState;
use actix_web::web;
use serde_json::{json, Value};

async fn nodes(state: web::Data<AppState>, Auth(_admin): Auth<Admin>) -> crate::error::Reply {
    // The snapshot registers this node on first use; the list itself is read
    // from `nodename`, since a node starting elsewhere does not move the
    // config version.
    state.snapshot().await?;
    let nodes = state.db(|s| s.list_nodes()).await?;
    let list: Vec<Value> = nodes
        .iter()
        .map(|n| json!({"name": n.name, "uuid": n.uuid}))
        .collect();
    Ok(envelope::ok(Value::Array(list)))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/system/nodes").route(web::get().to(nodes)));
}
