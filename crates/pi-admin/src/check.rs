//! `pi-server --check-config`: everything the start would refuse, checked
//! without starting: no node registration, no tables, no UUID file (SQLite
//! itself creates an empty database file when it is missing).

use anyhow::{bail, Context};
use std::net::ToSocketAddrs;

/// Validates the configuration and connects to the database once.
pub fn run(cfg: &pi_config::PiConfig, listen: Option<&str>) -> anyhow::Result<()> {
    if cfg.pi_pepper.as_deref().is_none_or(str::is_empty) {
        bail!("PI_PEPPER is not set in the configuration");
    }
    if cfg.secret_key.as_deref().is_none_or(str::is_empty) {
        log::warn!(
            "SECRET_KEY is not set: a random key is used, tokens will not survive a restart"
        );
    }
    if let Some(path) = cfg.pi_encfile.as_deref() {
        if path.exists() {
            pi_realm::EncKey::load(path)
                .with_context(|| format!("PI_ENCFILE `{}` cannot be used", path.display()))?;
        } else {
            log::warn!(
                "PI_ENCFILE `{}` does not exist; resolver passwords cannot be stored",
                path.display()
            );
        }
    }
    crate::state::trusted_jwt_entries(&cfg.pi_trusted_jwt).context("PI_TRUSTED_JWT")?;
    if let (Some(private), Some(_)) = (&cfg.pi_audit_key_private, &cfg.pi_audit_key_public) {
        if !cfg.pi_no_response_sign && crate::audit::response_signer(cfg).is_none() {
            bail!(
                "PI_AUDIT_KEY_PRIVATE `{}` cannot be used to sign responses",
                private.display()
            );
        }
    }
    let listen = listen.unwrap_or(&cfg.pi_listen);
    let mut addrs = listen
        .to_socket_addrs()
        .with_context(|| format!("PI_LISTEN `{listen}` is not an address"))?;
    if addrs.next().is_none() {
        bail!("PI_LISTEN `{listen}` resolves to no address");
    }
    let store = pi_store::Store::open(
        &cfg.sqlalchemy_database_uri,
        pi_store::StoreOptions::default(),
    )
    .context("SQLALCHEMY_DATABASE_URI")?;
    store
        .ping()
        .with_context(|| format!("the database `{}` does not answer", store.database_url()))?;
    Ok(())
}
