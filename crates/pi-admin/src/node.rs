//! This node's identity, found as the release finds it
//! (`_setup_node_configuration`): UUID from `PI_NODE_UUID`, else the content
//! of `PI_UUID_FILE`, else the machine's `/etc/machine-id`, else a new random
//! UUID persisted to `PI_UUID_FILE`; name from `PI_NODE` (pi-config falls
//! back to `PI_AUDIT_SERVERNAME`, then `localnode`).

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

/// The machine's installation id (systemd's, a UUID without hyphens).
const MACHINE_ID: &str = "/etc/machine-id";

/// Determine the identity; writes a new UUID to `PI_UUID_FILE` when there is
/// none and the machine has no id.
pub fn identity(cfg: &pi_config::PiConfig) -> anyhow::Result<NodeIdentity> {
    identity_on(cfg, std::path::Path::new(MACHINE_ID))
}

fn identity_on(
    cfg: &pi_config::PiConfig,
    machine_id: &std::path::Path,
) -> anyhow::Result<NodeIdentity> {
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
        log::warn!("`{}` holds no UUID", path.display());
    }
    if let Some(uuid) = std::fs::read_to_string(machine_id)
        .ok()
        .and_then(|id| parse_uuid(&id))
    {
        return Ok(NodeIdentity { uuid, name });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &std::path::Path, extra: &str) -> pi_config::PiConfig {
        let uuid_file = dir.join("uuid.txt");
        let text = format!(
            "SQLALCHEMY_DATABASE_URI = 'sqlite:///{}/pi.sqlite'\nSECRET_KEY = 's'\nPI_PEPPER = 'p'\nPI_UUID_FILE = '{}'\nPI_NODE = 'n1'\n{extra}",
            dir.display(),
            uuid_file.display()
        );
        pi_config::load_str(&text, "pi.cfg", pi_config::EnvOverrides::none()).unwrap()
    }

    #[test]
    fn uuid_from_config_then_file_then_machine_id_then_new() {
        let dir = tempfile::tempdir().unwrap();
        let machine = dir.path().join("machine-id");
        std::fs::write(&machine, "3d1219c7c4c5404aaa1f6d2a48adfda4\n").unwrap();
        let from_machine = "3d1219c7-c4c5-404a-aa1f-6d2a48adfda4";
        // no PI_NODE_UUID, no file: the machine's id, and nothing written
        let cfg = config(dir.path(), "");
        let id = identity_on(&cfg, &machine).unwrap();
        assert_eq!((id.uuid.as_str(), id.name.as_str()), (from_machine, "n1"));
        assert!(!dir.path().join("uuid.txt").exists());
        // a file wins over the machine id
        let in_file = "5b0c7e4c-3f39-4f6e-9a51-6a2b1f0d7e11";
        std::fs::write(dir.path().join("uuid.txt"), format!("{in_file}\n")).unwrap();
        assert_eq!(identity_on(&cfg, &machine).unwrap().uuid, in_file);
        // the configured one wins over both
        let configured = "8e4272a9-9037-40df-8aa3-976e4a04b5a9";
        let cfg = config(dir.path(), &format!("PI_NODE_UUID = '{configured}'\n"));
        assert_eq!(identity_on(&cfg, &machine).unwrap().uuid, configured);
        // none of them: a new one, persisted and then reused
        std::fs::remove_file(dir.path().join("uuid.txt")).unwrap();
        let cfg = config(dir.path(), "");
        let missing = dir.path().join("no-machine-id");
        let new = identity_on(&cfg, &missing).unwrap().uuid;
        assert_ne!(new, from_machine);
        assert_eq!(identity_on(&cfg, &missing).unwrap().uuid, new);
    }
}
