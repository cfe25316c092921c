//! `GET /client/`: the recorded client applications by type
//! (`pi_admin::client`), behind the `clienttype` admin action.

use super::resource;
use super::Allowed;
use crate::envelope;
use actix_web::web;
use pi_admin::gate::ClientType;

async fn list(Allowed { state, granted, .. }: Allowed<ClientType>) -> crate::error::Reply {
    Ok(envelope::ok(
        pi_admin::client::list(&state, &granted).await?,
    ))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/client/").route(web::get().to(list)));
}
