//! The server's state: pi-admin's [`pi_admin::AppState`] (configuration,
//! store, snapshot — reached through `Deref`) plus what only the HTTP side
//! needs: the response signer and the audit trail's writer, database and key.

use crate::audit_middleware::AuditWriter;
use std::sync::Arc;

/// State shared by all workers.
pub struct AppState {
    admin: pi_admin::AppState,
    signer: Option<pi_auth::Signer>,
    audit: Option<Arc<AuditWriter>>,
    audit_trail: pi_admin::audit::Trail,
}

impl std::ops::Deref for AppState {
    type Target = pi_admin::AppState;
    fn deref(&self) -> &pi_admin::AppState {
        &self.admin
    }
}

impl AppState {
    /// pi-admin's state (store, node, first snapshot), then the signer and
    /// the audit writer.
    pub async fn start(cfg: pi_config::PiConfig) -> anyhow::Result<AppState> {
        let admin = pi_admin::AppState::start(cfg).await?;
        let signer = pi_admin::audit::response_signer(&admin.cfg);
        let audit_trail = pi_admin::audit::Trail::open(&admin.cfg, &admin.store)?;
        let audit = match pi_admin::audit::AuditOptions::from_config(&admin.cfg, &admin.node.name)?
        {
            Some(opts) => Some(Arc::new(AuditWriter::start(
                audit_trail.store.clone(),
                opts,
            )?)),
            None => None,
        };
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
