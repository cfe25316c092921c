//! A directory for the LDAP tests, shared by pi-realm's tests and the
//! end-to-end tests (`tests/integration/ldap.rs` includes this file by path).
//!
//! `PI_TEST_LDAP_URI` (plus `PI_TEST_LDAPS_URI`, `PI_TEST_LDAP_CA` for TLS) if
//! set — `.ci/run` starts one with `scripts/ldap-test-server.sh`; otherwise, if
//! `slapd` is installed, a throw-away slapd from that script on a free
//! loopback port (with `tls`: ldaps too, self-signed CA), stopped on drop;
//! otherwise none (the test is skipped with a message).
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub struct TestLdap {
    pub uri: String,
    pub ldaps: Option<String>,
    pub ca: Option<String>,
    own: Option<(tempfile::TempDir, u16, Option<u16>)>,
}

pub const USERINFO: &str = r#"{"username":"uid","givenname":"givenName","surname":"sn","email":"mail","phone":"telephoneNumber","mobile":"mobile"}"#;

/// `ldap1` of spec/resolvers-sql-ldap.md §5 (admin bind, UIDTYPE DN).
pub fn ldap1(uri: &str) -> Value {
    serde_json::json!({
        "LDAPURI": uri,
        "LDAPBASE": "dc=example,dc=org",
        "BINDDN": "cn=admin,dc=example,dc=org",
        "BINDPW": "adminpw",
        "LOGINNAMEATTRIBUTE": "uid",
        "LDAPSEARCHFILTER": "(objectClass=inetOrgPerson)",
        "USERINFO": USERINFO,
        "UIDTYPE": "DN",
        "TIMEOUT": "5",
        "SIZELIMIT": "500",
        "CACHE_TIMEOUT": "120",
        "NOREFERRALS": "True",
        "AUTHTYPE": "Simple",
    })
}

/// A resolver configuration: `base` with the keys of `extra` set (a null
/// value: the key removed).
pub fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

/// `scripts/ldap-test-server.sh`, found above the package being tested.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("scripts/ldap-test-server.sh"))
        .find(|p| p.exists())
        .expect("scripts/ldap-test-server.sh above CARGO_MANIFEST_DIR")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The script with `command` for the throw-away server in `dir`.
fn run_script(command: &str, dir: &Path, port: u16, tls_port: Option<u16>) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(script())
        .arg(command)
        .env("LDAP_TEST_DIR", dir)
        .env("LDAP_TEST_PORT", port.to_string());
    if let Some(tls_port) = tls_port {
        cmd.env("LDAP_TEST_TLS_PORT", tls_port.to_string());
    }
    cmd
}

impl TestLdap {
    pub fn get(tls: bool) -> Option<TestLdap> {
        if let Ok(uri) = std::env::var("PI_TEST_LDAP_URI") {
            return Some(TestLdap {
                uri,
                ldaps: std::env::var("PI_TEST_LDAPS_URI").ok(),
                ca: std::env::var("PI_TEST_LDAP_CA").ok(),
                own: None,
            });
        }
        if !Path::new("/usr/sbin/slapd").exists() {
            eprintln!(
                "SKIPPED: no slapd (apt-get install slapd ldap-utils) and PI_TEST_LDAP_URI unset"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let (port, tls_port) = (free_port(), tls.then(free_port));
        let out = run_script("start", dir.path(), port, tls_port)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "slapd start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ca = tls_port.map(|_| dir.path().join("tls/ca.pem").to_string_lossy().into_owned());
        Some(TestLdap {
            uri: format!("ldap://127.0.0.1:{port}"),
            ldaps: tls_port.map(|p| format!("ldaps://127.0.0.1:{p}")),
            ca,
            own: Some((dir, port, tls_port)),
        })
    }
}

impl TestLdap {
    /// Whether this test started its own slapd (not `PI_TEST_LDAP_URI`).
    pub fn is_own(&self) -> bool {
        self.own.is_some()
    }

    /// The script with `command` (`stop`, `start`) for this test's own slapd.
    pub fn own_script(&self, command: &str) -> Command {
        let (dir, port, tls_port) = self.own.as_ref().expect("a slapd of this test's own");
        run_script(command, dir.path(), *port, *tls_port)
    }
}

impl Drop for TestLdap {
    fn drop(&mut self) {
        if let Some((dir, port, tls_port)) = &self.own {
            let _ = run_script("stop", dir.path(), *port, *tls_port).output();
        }
    }
}
