//! The use cases of the privacyIDEA administration core behind a plain Rust
//! API, shared by `pi-server` (which adds routing, extractors, parameters,
//! the envelope and signing) and `pi-manage`: the configuration snapshot and
//! its refresh after writes, the admin-policy gate, login, and the error
//! classes of privacyIDEA. No HTTP framework: the server wraps these calls.

pub mod audit;
pub mod caller;
pub mod check;
pub mod client;
pub mod defs;
pub mod error;
pub mod gate;
pub mod login;
pub mod node;
pub mod policy;
pub mod policyset;
pub mod qr;
pub mod realm;
pub mod remote;
pub mod request;
pub mod resolver;
pub mod routing;
pub mod state;
pub mod transfer;
pub mod userlist;
pub mod users;
pub mod webui;
mod write;

pub use caller::{Admin, Caller, Role};
pub use error::{ApiError, ApiResult, Kind};
pub use state::{AppState, NodeIdentity, Snapshot};

/// Run blocking work (the store, resolvers, the engine's rebuild) on the
/// runtime's blocking threads, as every use case that touches them does.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, tokio::task::JoinError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f).await
}

/// A snapshot rebuild and its duration; the new config version (the
/// server's metrics recorder, when installed, exports them).
pub(crate) fn metrics_snapshot_rebuilt(duration: std::time::Duration, version: i64) {
    metrics::counter!("pi_snapshot_rebuilds_total").increment(1);
    metrics::histogram!("pi_snapshot_rebuild_duration_seconds").record(duration.as_secs_f64());
    metrics::gauge!("pi_config_version").set(version as f64);
}
