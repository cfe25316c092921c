//! The server's state: pi-admin's [`pi_admin::AppState`] (configuration,
//! store, snapshot — reached through `Deref`) plus what only the HTTP side
//! needs: the response signer and the audit trail's writer, database and key.

use pi_store::Store;
use std::sync::Arc;

/// State shared by all workers.
pub struct AppState {
    admin: pi_admin::AppState,
    signer: Option<pi_auth::Signer>,
    audit: Option<Arc<crate::audit_middleware::AuditWriter>>,
    audit_trail: pi_admin::audit::Trail,
}

/// A key read from a PEM file; the error as text.
fn load_pem<T, E: std::fmt::Display>(
    path: &std::path::Path,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, String> {
    let pem = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    parse(&pem).map_err(|e| e.to_string())
}

impl std::ops::Deref for AppState {
    type Target = pi_admin::AppState;
    fn deref(&self) -> &pi_admin::AppState {
        &self.admin
    }
}

/// The response signer: both `PI_AUDIT_KEY_PRIVATE` and
/// `PI_AUDIT_KEY_PUBLIC` configured, `PI_NO_RESPONSE_SIGN` not set, and the
/// private key readable. privacyIDEA answers unsigned when the key cannot be
/// loaded; so does this server, with a warning at the start.
pub fn response_signer(cfg: &pi_config::PiConfig) -> Option<pi_auth::Signer> {
    if cfg.pi_no_response_sign {
        return None;
    }
    let (Some(private), Some(_)) = (&cfg.pi_audit_key_private, &cfg.pi_audit_key_public) else {
        return None;
    };
    let loaded = load_pem(private, pi_auth::Signer::from_pem);
    match loaded {
        Ok(signer) => Some(signer),
        Err(e) => {
            log::warn!(
                "PI_AUDIT_KEY_PRIVATE `{}` cannot be used ({e}); responses are not signed",
                private.display()
            );
            None
        }
    }
}

/// The audit writer on `audit_store`; rows signed with
/// `PI_AUDIT_KEY_PRIVATE` unless `PI_AUDIT_NO_SIGN`.
fn audit_writer(
    cfg: &pi_config::PiConfig,
    audit_store: &Store,
    node: &pi_admin::NodeIdentity,
) -> anyhow::Result<Option<Arc<crate::audit_middleware::AuditWriter>>> {
    let flag = |key: &str| cfg.get(key).is_some_and(pi_model::pyrepr::py_truthy);
    if flag("PI_AUDIT_DISABLE") {
        log::warn!("PI_AUDIT_DISABLE is set: no audit log is written");
        return Ok(None);
    }
    let text = |key: &str| cfg.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let audit_store = audit_store.clone();
    let signer = if flag("PI_AUDIT_NO_SIGN") {
        None
    } else {
        match (&cfg.pi_audit_key_private, &cfg.pi_audit_key_public) {
            (Some(private), Some(_)) => {
                let pem = std::fs::read_to_string(private).map_err(|e| {
                    anyhow::anyhow!("PI_AUDIT_KEY_PRIVATE `{}`: {e}", private.display())
                })?;
                Some(pi_auth::Signer::from_pem(&pem).map_err(|e| {
                    anyhow::anyhow!("PI_AUDIT_KEY_PRIVATE `{}`: {e}", private.display())
                })?)
            }
            _ => {
                log::warn!("PI_AUDIT_KEY_PRIVATE/PUBLIC not set: audit entries are not signed");
                None
            }
        }
    };
    let queue = cfg
        .get("PI_AUDIT_QUEUE_SIZE")
        .and_then(serde_json::Value::as_u64)
        .map_or(10_000, |n| usize::try_from(n).unwrap_or(10_000));
    let writer = crate::audit_middleware::AuditWriter::start(
        audit_store,
        pi_admin::audit::AuditOptions {
            signer,
            queue,
            fail_open: flag("PI_AUDIT_FAIL_OPEN"),
            server_name: text("PI_AUDIT_SERVERNAME").unwrap_or_else(|| node.name.clone()),
        },
    )?;
    Ok(Some(Arc::new(writer)))
}

impl AppState {
    /// pi-admin's state (store, node, first snapshot), then the signer and
    /// the audit writer.
    pub async fn start(cfg: pi_config::PiConfig) -> anyhow::Result<AppState> {
        let admin = pi_admin::AppState::start(cfg).await?;
        let signer = response_signer(&admin.cfg);
        let audit_trail = pi_admin::audit::Trail::open(&admin.cfg, &admin.store)?;
        let audit = audit_writer(&admin.cfg, &audit_trail.store, &admin.node)?;
        Ok(AppState {
            admin,
            signer,
            audit,
            audit_trail,
        })
    }

    /// The response signer, when responses are signed.
    pub fn signer(&self) -> Option<&pi_auth::Signer> {
        self.signer.as_ref()
    }

    /// The audit writer (`None` with `PI_AUDIT_DISABLE`).
    pub fn audit_writer(&self) -> Option<&Arc<crate::audit_middleware::AuditWriter>> {
        self.audit.as_ref()
    }

    /// The audit database and the key that checks its signatures.
    pub fn audit_trail(&self) -> &pi_admin::audit::Trail {
        &self.audit_trail
    }
}
