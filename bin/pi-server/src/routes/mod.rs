//! Route table.

use crate::app::method_not_allowed;
use actix_web::web;

mod auth;
mod client;
mod config;
mod health;
mod policy;
mod realm;
mod remote;
mod resolver;
pub mod static_ui;
mod system;
mod user;

/// A resource whose other methods answer 405 in the envelope.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// Register every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    auth::configure(cfg);
    system::configure(cfg);
    realm::configure(cfg);
    resolver::configure(cfg);
    remote::configure(cfg);
    policy::configure(cfg);
    user::configure(cfg);
    client::configure(cfg);
    config::configure(cfg);
}
