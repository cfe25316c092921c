//! This node's identity: UUID from `PI_NODE_UUID`, else the content of
//! `PI_UUID_FILE`, else a new random UUID persisted to that file; name from
//! `PI_NODE` (pi-config falls back to `PI_AUDIT_SERVERNAME`, then `localnode`).

use anyhow::Context;

/// This server's node identity.
#[derive(Debug, Clone)]
pub struct NodeIdentity {
    /// UUID (`nodename.id`).
    pub uuid: String,
    /// Name (`nodename.name`).
    pub name: String,
}

fn parse_uuid(s: &str) -> Option<String> {
    uuid::Uuid::parse_str(s.trim())
        .ok()
        .map(|u| u.hyphenated().to_string())
}

/// Determine the identity; writes a new UUID to `PI_UUID_FILE` when there is none.
pub fn identity(cfg: &pi_config::PiConfig) -> anyhow::Result<NodeIdentity> {
    let name = cfg.pi_node.clone();
    if let Some(configured) = cfg.pi_node_uuid.as_deref() {
        if let Some(uuid) = parse_uuid(configured) {
            return Ok(NodeIdentity { uuid, name });
        }
        log::warn!("PI_NODE_UUID `{configured}` is not a UUID; ignoring it");
    }
    let path = cfg.pi_uuid_file.as_path();
    if let Ok(content) = std::fs::read_to_string(path) {
        if let Some(uuid) = parse_uuid(&content) {
            return Ok(NodeIdentity { uuid, name });
        }
        log::warn!("`{}` holds no UUID; writing a new one", path.display());
    }
    let uuid = uuid::Uuid::new_v4().hyphenated().to_string();
    match std::fs::write(path, format!("{uuid}\n"))
        .with_context(|| format!("cannot write `{}`", path.display()))
    {
        Ok(()) => log::info!("new node UUID {uuid} written to `{}`", path.display()),
        Err(e) => log::warn!("{e:#}; the node UUID will change at the next start"),
    }
    Ok(NodeIdentity { uuid, name })
}
