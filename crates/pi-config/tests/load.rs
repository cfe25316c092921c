//! Loading real privacyIDEA-style files.

#![allow(clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use pi_config::{
    load_file, load_raw, load_str, resolve_config_path_with, EnvOverrides, LoadError, PiConfig,
    DEFAULT_CONFIG_FILE,
};
use serde_json::json;

const REAL: &str = r#"# -*- coding: utf-8 -*-
import logging
import os
# The realm, where users are allowed to login as administrators
SUPERUSER_REALM = ['super', 'administrators']
# Your database
SQLALCHEMY_DATABASE_URI = 'mysql+pymysql://pi:pi@localhost/pi?charset=utf8'
# This is used to encrypt the auth_token
SECRET_KEY = 't0p s3cr3t'
# This is used to encrypt the admin passwords
PI_PEPPER = "Never know..."
# This is used to encrypt the token data and token passwords
PI_ENCFILE = '/etc/privacyidea/enckey'
# This is used to sign the audit log
PI_AUDIT_KEY_PRIVATE = '/etc/privacyidea/private.pem'
PI_AUDIT_KEY_PUBLIC = '/etc/privacyidea/public.pem'
PI_AUDIT_SQL_TRUNCATE = True
PI_AUDIT_SERVERNAME = "pi-node-1"
PI_NODE_UUID = None
PI_LOGFILE = '/var/log/privacyidea/privacyidea.log'
#CRITICAL = 50
#ERROR = 40
#WARNING = 30
#INFO = 20
#DEBUG = 10
PI_LOGLEVEL = logging.WARNING
PI_ENGINE_REGISTRY_CLASS = "shared"
SQLALCHEMY_ENGINE_OPTIONS = {'connect_args': {'timeout': 30},
                             'pool_size': 20}
PI_HASH_ALGO_LIST = [
    'argon2',          # new hashes
    'pbkdf2_sha512',   # old hashes still verify
]
PI_TRUSTED_JWT = [{"public_key": "-----BEGIN PUBLIC KEY-----\nMIIB...\n-----END PUBLIC KEY-----",
                   "algorithm": "RS256",
                   "role": "user",
                   "realm": "realm1",
                   "resolver": "resolverX",
                   "username": "userA"}]
basedir = os.path.abspath(os.path.dirname(__file__))
PI_CUSTOM_TEMPLATES = os.path.join(basedir, 'templates')
PI_REMOTE_TIMEOUT = 2.5
PI_REMOTE_ALLOWED_HOSTS = ('pi2.example.com', 'pi3.example.com')
PI_REMOTE_ALLOW_LINK_LOCAL = False
"#;

fn no_env() -> EnvOverrides {
    EnvOverrides::none()
}

/// `text` loaded as the file `x`, without environment overrides.
fn load_x(text: &str) -> Result<PiConfig, LoadError> {
    load_str(text, "x", no_env())
}

fn syntax(text: &str) -> (String, usize, String, String) {
    match load_str(text, "/etc/privacyidea/pi.cfg", no_env()) {
        Err(LoadError::Syntax {
            file,
            line,
            key,
            message,
        }) => (file, line, key, message),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn reads_a_real_pi_cfg() -> Result<(), LoadError> {
    let cfg = load_str(REAL, "pi.cfg", no_env())?;
    assert_eq!(
        cfg.sqlalchemy_database_uri,
        "mysql+pymysql://pi:pi@localhost/pi?charset=utf8"
    );
    assert_eq!(cfg.secret_key.as_deref(), Some("t0p s3cr3t"));
    assert_eq!(cfg.pi_pepper.as_deref(), Some("Never know..."));
    assert_eq!(cfg.superuser_realm, ["super", "administrators"]);
    assert_eq!(cfg.pi_node, "pi-node-1");
    assert_eq!(cfg.pi_node_uuid, None);
    assert_eq!(cfg.pi_loglevel, 30);
    assert_eq!(cfg.pi_hash_algo_list, ["argon2", "pbkdf2_sha512"]);
    assert_eq!(
        cfg.pi_encfile.as_deref(),
        Some(Path::new("/etc/privacyidea/enckey"))
    );
    assert_eq!(cfg.pi_remote_timeout, Duration::from_millis(2500));
    assert_eq!(cfg.pi_remote_connect_timeout, Duration::from_secs(5));
    assert_eq!(
        cfg.pi_remote_allowed_hosts,
        ["pi2.example.com", "pi3.example.com"]
    );
    assert!(!cfg.pi_remote_allow_link_local);
    // Defaults.
    assert_eq!(cfg.pi_listen, "127.0.0.1:5000");
    assert_eq!(cfg.pi_jwt_validity, 3600);
    assert_eq!(cfg.pi_max_body_size, 1024 * 1024);
    assert_eq!(cfg.pi_uuid_file, Path::new("/etc/privacyidea/uuid.txt"));
    // Raw values of keys we do not type.
    assert_eq!(cfg.get("PI_AUDIT_SQL_TRUNCATE"), Some(&json!(true)));
    assert_eq!(cfg.get("PI_NODE_UUID"), Some(&json!(null)));
    assert_eq!(
        cfg.raw["SQLALCHEMY_ENGINE_OPTIONS"],
        json!({"connect_args": {"timeout": 30}, "pool_size": 20})
    );
    assert_eq!(cfg.raw["PI_TRUSTED_JWT"][0]["algorithm"], json!("RS256"));
    assert!(cfg.raw["PI_TRUSTED_JWT"][0]["public_key"]
        .as_str()
        .is_some_and(|k| k.contains("\nMIIB...\n")));
    // Beyond the subset: skipped with a warning; lower-case names are not config.
    assert_eq!(cfg.get("PI_CUSTOM_TEMPLATES"), None);
    assert_eq!(cfg.get("basedir"), None);
    Ok(())
}

#[test]
fn minimal_file_gets_defaults() -> Result<(), LoadError> {
    let cfg = load_x("SQLALCHEMY_DATABASE_URI = 'sqlite://'\n")?;
    assert_eq!(cfg.pi_node, "localnode");
    assert!(cfg.superuser_realm.is_empty());
    assert_eq!(cfg.pi_loglevel, 30);
    assert_eq!(cfg.secret_key, None);
    assert_eq!(cfg.pi_hash_algo_list, ["argon2", "pbkdf2_sha512"]);
    Ok(())
}

#[test]
fn missing_database_uri_is_an_error() {
    let err = load_x("SECRET_KEY = 'x'\n");
    assert!(
        matches!(err, Err(LoadError::Missing("SQLALCHEMY_DATABASE_URI"))),
        "{err:?}"
    );
}

#[test]
fn environment_overrides_the_file() -> Result<(), LoadError> {
    let env = EnvOverrides::from_vars([
        ("PRIVACYIDEA_SECRET_KEY", "from env"),
        ("PRIVACYIDEA_PI_LOGLEVEL", "10"),
        ("PRIVACYIDEA_SUPERUSER_REALM", r#"["envrealm"]"#),
        ("PRIVACYIDEA_PI_REMOTE_ALLOW_LINK_LOCAL", "true"),
        ("PRIVACYIDEA_PI_NODE", "node-from-env"),
        ("PRIVACYIDEA_SQLALCHEMY_ENGINE_OPTIONS__pool_size", "5"),
        ("PRIVACYIDEA_PI_PEPPER", "123456"),
        ("PRIVACYIDEA_CONFIGFILE", "/somewhere/else.cfg"),
        ("OTHER_SECRET_KEY", "ignored"),
    ]);
    let cfg = load_str(REAL, "pi.cfg", env)?;
    assert_eq!(cfg.secret_key.as_deref(), Some("from env"));
    assert_eq!(cfg.pi_loglevel, 10);
    assert_eq!(cfg.superuser_realm, ["envrealm"]);
    assert!(cfg.pi_remote_allow_link_local);
    assert_eq!(cfg.pi_node, "node-from-env");
    // JSON-parsed numbers become strings for string keys.
    assert_eq!(cfg.pi_pepper.as_deref(), Some("123456"));
    // `__` addresses a nested key; the rest of the dict is kept.
    assert_eq!(
        cfg.raw["SQLALCHEMY_ENGINE_OPTIONS"],
        json!({"connect_args": {"timeout": 30}, "pool_size": 5})
    );
    assert_eq!(cfg.get("CONFIGFILE"), None);
    Ok(())
}

#[test]
fn env_level_names_and_strings() -> Result<(), LoadError> {
    let env = EnvOverrides::from_vars([
        ("PRIVACYIDEA_PI_LOGLEVEL", "logging.DEBUG"),
        ("PRIVACYIDEA_PI_LISTEN", "0.0.0.0:8080"),
    ]);
    let cfg = load_str("SQLALCHEMY_DATABASE_URI = 'sqlite://'", "x", env)?;
    assert_eq!(cfg.pi_loglevel, 10);
    assert_eq!(cfg.pi_listen, "0.0.0.0:8080");
    Ok(())
}

#[test]
fn custom_env_prefix() -> Result<(), LoadError> {
    let env = EnvOverrides::from_vars([("EDUMFA_PI_JWT_VALIDITY", "60")]).with_prefix("EDUMFA_");
    let cfg = load_str("SQLALCHEMY_DATABASE_URI = 'sqlite://'", "x", env)?;
    assert_eq!(cfg.pi_jwt_validity, 60);
    Ok(())
}

#[test]
fn unterminated_string_in_used_key() {
    let (file, line, key, message) = syntax("# x\nSQLALCHEMY_DATABASE_URI = 'sqlite://\nA = 1\n");
    assert_eq!(file, "/etc/privacyidea/pi.cfg");
    assert_eq!((line, key.as_str()), (2, "SQLALCHEMY_DATABASE_URI"));
    assert_eq!(message, "unterminated string literal");
}

#[test]
fn bad_list_in_used_key() {
    let text = "SQLALCHEMY_DATABASE_URI = 'sqlite://'\nSUPERUSER_REALM = ['a',\n    'b' 'c' 3]\n";
    let (_, line, key, message) = syntax(text);
    assert_eq!((line, key.as_str()), (3, "SUPERUSER_REALM"));
    assert!(message.contains("expected `,` or `]` in list"), "{message}");
}

#[test]
fn unclosed_list_in_used_key() {
    let text =
        "SQLALCHEMY_DATABASE_URI = 'sqlite://'\n\nSUPERUSER_REALM = ['a',\n'b'\nPI_PEPPER = 'x'\n";
    let (_, line, key, message) = syntax(text);
    assert_eq!((line, key.as_str()), (3, "SUPERUSER_REALM"));
    assert!(message.contains("never closed"), "{message}");
}

#[test]
fn missing_equals_in_used_key() {
    let text = "SQLALCHEMY_DATABASE_URI = 'sqlite://'\nPI_PEPPER 'abc'\n";
    let (_, line, key, message) = syntax(text);
    assert_eq!((line, key.as_str()), (2, "PI_PEPPER"));
    assert!(
        message.contains("expected `=` after `PI_PEPPER`"),
        "{message}"
    );
}

#[test]
fn unsupported_expression_in_used_key() {
    let (_, line, key, message) = syntax("\n\n\nSECRET_KEY = os.urandom(24)\n");
    assert_eq!((line, key.as_str()), (4, "SECRET_KEY"));
    assert!(message.contains("unsupported value"), "{message}");
}

#[test]
fn error_message_names_file_and_line() {
    let err = load_str("PI_JWT_VALIDITY = [1,", "/etc/pi.cfg", no_env());
    let msg = err
        .map(|_| ())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        msg,
        "syntax error in `/etc/pi.cfg` line 1 (`PI_JWT_VALIDITY`): `[` is never closed"
    );
}

#[test]
fn syntax_errors_in_unused_keys_are_only_warnings() -> Result<(), LoadError> {
    let text = "\
SQLALCHEMY_DATABASE_URI = 'sqlite://'
PI_LOGFILE = '/var/log/pi.log
PI_AUDIT_MODULE 'x'
PI_CUSTOM = [1, 2 3]
PI_TIMEOUT = 60 * 60
PI_OPEN = {'a': [1,
PI_PEPPER = 'still read'
";
    let cfg = load_x(text)?;
    assert_eq!(cfg.pi_pepper.as_deref(), Some("still read"));
    for key in [
        "PI_LOGFILE",
        "PI_AUDIT_MODULE",
        "PI_CUSTOM",
        "PI_TIMEOUT",
        "PI_OPEN",
    ] {
        assert_eq!(cfg.get(key), None, "{key}");
    }
    Ok(())
}

/// Loading `lines` after a valid database URI fails with
/// [`LoadError::InvalidValue`] for `key`.
fn assert_invalid_value(lines: &str, key: &str) {
    let err = load_str(
        &format!("SQLALCHEMY_DATABASE_URI = 'sqlite://'\n{lines}\n"),
        "x",
        no_env(),
    );
    assert!(
        matches!(&err, Err(LoadError::InvalidValue { key: k, .. }) if *k == key),
        "{lines}: {err:?}"
    );
}

#[test]
fn wrong_types_are_errors() {
    assert_invalid_value("PI_JWT_VALIDITY = 'long'", "PI_JWT_VALIDITY");
    assert_invalid_value("SUPERUSER_REALM = [1]", "SUPERUSER_REALM");
}

#[test]
fn later_assignment_wins_and_single_string_realm() -> Result<(), LoadError> {
    let cfg = load_x(
        "SQLALCHEMY_DATABASE_URI = 'a'\nSQLALCHEMY_DATABASE_URI = 'b'\nSUPERUSER_REALM = 'super'\n",
    )?;
    assert_eq!(cfg.sqlalchemy_database_uri, "b");
    assert_eq!(cfg.superuser_realm, ["super"]);
    Ok(())
}

#[test]
fn loads_a_file_from_disk() -> Result<(), Box<dyn std::error::Error>> {
    let mut file = tempfile::NamedTempFile::new()?;
    file.write_all(REAL.as_bytes())?;
    let cfg = load_file(file.path(), no_env())?;
    assert_eq!(cfg.pi_node, "pi-node-1");
    let missing = load_file(Path::new("/nonexistent/pi.cfg"), no_env());
    assert!(matches!(missing, Err(LoadError::Read { .. })));
    Ok(())
}

#[test]
fn config_file_resolution() {
    let explicit = Path::new("/tmp/explicit.cfg");
    let env = Path::new("/tmp/env.cfg");
    assert_eq!(
        resolve_config_path_with(Some(explicit), Some(env)),
        explicit
    );
    assert_eq!(resolve_config_path_with(None, Some(env)), env);
    assert_eq!(
        resolve_config_path_with(None, Some(Path::new(""))),
        Path::new(DEFAULT_CONFIG_FILE)
    );
    assert_eq!(
        resolve_config_path_with(None, None),
        Path::new(DEFAULT_CONFIG_FILE)
    );
}

#[test]
fn raw_loading_and_typing_separately() -> Result<(), LoadError> {
    let raw = load_raw(
        "X = 1\nSQLALCHEMY_DATABASE_URI = 'sqlite://'",
        "x",
        no_env(),
    )?;
    assert_eq!(raw["X"], json!(1));
    let cfg = PiConfig::from_raw(raw)?;
    assert_eq!(cfg.get("X"), Some(&json!(1)));
    Ok(())
}

#[test]
fn trusted_jwt_entries() -> Result<(), LoadError> {
    let text = "SQLALCHEMY_DATABASE_URI = 'sqlite://'\n\
        PI_TRUSTED_JWT = [{'public_key': '''-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----''',\n\
                           'algorithm': 'RS256', 'role': 'user', 'realm': 'realm1',\n\
                           'username': 'h.*s'}]\n";
    let cfg = load_x(text)?;
    assert_eq!(cfg.pi_trusted_jwt.len(), 1);
    let e = &cfg.pi_trusted_jwt[0];
    assert!(e.public_key.starts_with("-----BEGIN PUBLIC KEY-----\nabc"));
    assert_eq!(
        (e.algorithm.as_str(), e.username.as_str()),
        ("RS256", "h.*s")
    );
    assert_eq!(
        (&e.role, &e.realm, &e.resolver),
        (&json!("user"), &json!("realm1"), &json!(null))
    );
    assert!(load_x("SQLALCHEMY_DATABASE_URI = 'sqlite://'\n")?
        .pi_trusted_jwt
        .is_empty());
    for bad in [
        "PI_TRUSTED_JWT = 'x'",
        "PI_TRUSTED_JWT = ['x']",
        "PI_TRUSTED_JWT = [{'algorithm': 'RS256', 'username': '.*'}]",
        "PI_TRUSTED_JWT = [{'public_key': 'k', 'algorithm': 'RS256', 'username': 3}]",
    ] {
        assert_invalid_value(bad, "PI_TRUSTED_JWT");
    }
    Ok(())
}

#[test]
fn metrics_and_log_format_keys() {
    let base = "SQLALCHEMY_DATABASE_URI = 'sqlite://'\n";
    let cfg = pi_config::load_str(base, "t", pi_config::EnvOverrides::none()).unwrap();
    assert!(cfg.pi_metrics);
    assert_eq!(cfg.pi_metrics_token, None);
    assert_eq!(cfg.pi_logformat, pi_config::LogFormat::Text);
    let text =
        format!("{base}PI_METRICS = False\nPI_METRICS_TOKEN = 'tok'\nPI_LOGFORMAT = 'json'\n");
    let cfg = pi_config::load_str(&text, "t", pi_config::EnvOverrides::none()).unwrap();
    assert!(!cfg.pi_metrics);
    assert_eq!(cfg.pi_metrics_token.as_deref(), Some("tok"));
    assert_eq!(cfg.pi_logformat, pi_config::LogFormat::Json);
    // an empty token is no token (loopback only), not "any bearer"
    let text = format!("{base}PI_METRICS_TOKEN = ''\n");
    let cfg = pi_config::load_str(&text, "t", pi_config::EnvOverrides::none()).unwrap();
    assert_eq!(cfg.pi_metrics_token, None);
    let text = format!("{base}PI_LOGFORMAT = 'xml'\n");
    let err = pi_config::load_str(&text, "t", pi_config::EnvOverrides::none()).unwrap_err();
    assert!(err.to_string().contains("PI_LOGFORMAT"), "{err}");
}
