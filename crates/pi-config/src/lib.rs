#![doc = include_str!("../README.md")]

mod env;
mod format;
#[cfg(feature = "logging")]
mod logging;
mod pyparse;
mod render;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

pub use env::{EnvOverrides, CONFIGFILE_ENV, ENV_PREFIX};
pub use format::{PiCfgFormat, SyntaxError};
#[cfg(feature = "logging")]
pub use logging::{init_logging, level_filter};
pub use render::{render_assignment, render_file, render_str, render_value, RenderError};

/// The config file used when neither `--config` nor `PRIVACYIDEA_CONFIGFILE` names one.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/privacyidea/pi.cfg";

/// The keys this project reads. A syntax error in an assignment to one of them stops loading;
/// a syntax error anywhere else is only logged (`log::warn!`) and the statement skipped.
pub const USED_KEYS: &[&str] = &[
    "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY",
    "PI_PEPPER",
    "SUPERUSER_REALM",
    "PI_NODE",
    "PI_AUDIT_SERVERNAME",
    "PI_NODE_UUID",
    "PI_UUID_FILE",
    "PI_LOGLEVEL",
    "PI_HASH_ALGO_LIST",
    "PI_ENCFILE",
    "PI_LISTEN",
    "PI_REMOTE_TIMEOUT",
    "PI_REMOTE_CONNECT_TIMEOUT",
    "PI_REMOTE_ALLOWED_HOSTS",
    "PI_REMOTE_ALLOW_LINK_LOCAL",
    "PI_JWT_VALIDITY",
    "PI_MAX_BODY_SIZE",
    "PI_TRUSTED_JWT",
    "PI_AUDIT_KEY_PRIVATE",
    "PI_AUDIT_KEY_PUBLIC",
    "PI_NO_RESPONSE_SIGN",
    "PI_METRICS",
    "PI_METRICS_TOKEN",
    "PI_LOGFORMAT",
];

/// Errors of loading a configuration.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The config file could not be read.
    #[error("cannot read config file `{path}`: {source}")]
    Read {
        /// The file that was tried.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A statement assigning one of the [`USED_KEYS`] is broken.
    #[error("syntax error in `{file}` line {line} (`{key}`): {message}")]
    Syntax {
        /// The file (or origin) name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// The key being assigned.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A required key is missing.
    #[error("missing required key `{0}`")]
    Missing(&'static str),
    /// A key has a value of the wrong type or range.
    #[error("invalid value for `{key}`: expected {expected}, found `{found}`")]
    InvalidValue {
        /// The key.
        key: &'static str,
        /// What was expected.
        expected: &'static str,
        /// The value found (as JSON).
        found: String,
    },
    /// Any other error from the `config` crate while merging sources.
    #[error("cannot build configuration: {0}")]
    Config(#[source] config::ConfigError),
}

impl From<SyntaxError> for LoadError {
    fn from(e: SyntaxError) -> Self {
        Self::Syntax {
            file: e.file,
            line: e.line,
            key: e.key,
            message: e.message,
        }
    }
}

/// The typed configuration, plus every raw value for keys not typed yet.
///
/// Field names are the `pi.cfg` keys in lower case.
#[derive(Debug, Clone, PartialEq)]
pub struct PiConfig {
    /// `SQLALCHEMY_DATABASE_URI` (required).
    pub sqlalchemy_database_uri: String,
    /// `SECRET_KEY`: HS256 key of the JWTs. privacyIDEA generates a random one per process if
    /// unset.
    pub secret_key: Option<String>,
    /// `PI_PEPPER`: prepended to admin passwords before hashing (privacyIDEA requires it at
    /// startup).
    pub pi_pepper: Option<String>,
    /// `SUPERUSER_REALM`: realms whose users get role admin (default `[]`; a single string is
    /// taken as a one-element list).
    pub superuser_realm: Vec<String>,
    /// `PI_NODE`: this node's name; default `PI_AUDIT_SERVERNAME`, else `"localnode"`.
    pub pi_node: String,
    /// `PI_NODE_UUID`: this node's UUID, if configured.
    pub pi_node_uuid: Option<String>,
    /// `PI_UUID_FILE` (default `/etc/privacyidea/uuid.txt`).
    pub pi_uuid_file: PathBuf,
    /// `PI_LOGLEVEL` as a Python logging level number (default 30 = `logging.WARNING`, the
    /// value privacyIDEA's `/auth` reports as `log_level` when unset). Level names
    /// (`"DEBUG"`, `"logging.DEBUG"`) are accepted too, e.g. from the environment.
    pub pi_loglevel: i64,
    /// `PI_HASH_ALGO_LIST` (default `['argon2', 'pbkdf2_sha512']`).
    pub pi_hash_algo_list: Vec<String>,
    /// `PI_ENCFILE`: the encryption key file.
    pub pi_encfile: Option<PathBuf>,
    /// `PI_LISTEN` (ours): listen address, default `127.0.0.1:5000`.
    pub pi_listen: String,
    /// `PI_REMOTE_TIMEOUT` (ours, seconds, default 10): total timeout of remote server calls.
    pub pi_remote_timeout: Duration,
    /// `PI_REMOTE_CONNECT_TIMEOUT` (ours, seconds, default 5).
    pub pi_remote_connect_timeout: Duration,
    /// `PI_REMOTE_ALLOWED_HOSTS` (ours): hosts remote server URLs may name; empty = any.
    pub pi_remote_allowed_hosts: Vec<String>,
    /// `PI_REMOTE_ALLOW_LINK_LOCAL` (ours, default `False`).
    pub pi_remote_allow_link_local: bool,
    /// `PI_JWT_VALIDITY` (ours, seconds, default 3600): JWT lifetime when no policy sets one.
    pub pi_jwt_validity: u64,
    /// `PI_MAX_BODY_SIZE` (ours, bytes, default 1 MiB).
    pub pi_max_body_size: usize,
    /// `PI_TRUSTED_JWT`: external JWT signers whose tokens are accepted (default `[]`).
    pub pi_trusted_jwt: Vec<TrustedJwtConfig>,
    /// `PI_AUDIT_KEY_PRIVATE`: RSA private key (PEM file) signing responses.
    pub pi_audit_key_private: Option<PathBuf>,
    /// `PI_AUDIT_KEY_PUBLIC`: the matching public key; without both keys nothing is signed.
    pub pi_audit_key_public: Option<PathBuf>,
    /// `PI_NO_RESPONSE_SIGN` (default `False`): do not sign responses.
    pub pi_no_response_sign: bool,
    /// `PI_METRICS` (ours, default `True`): serve Prometheus metrics at `GET /metrics`.
    pub pi_metrics: bool,
    /// `PI_METRICS_TOKEN` (ours): when set, `GET /metrics` needs
    /// `Authorization: Bearer <token>`; when not set, it answers loopback clients only.
    pub pi_metrics_token: Option<String>,
    /// `PI_LOGFORMAT` (ours): `text` (default) or `json` (one JSON object per line).
    pub pi_logformat: LogFormat,
    /// Every key after merging file and environment, as JSON (`None` is `null`).
    pub raw: Map<String, Value>,
}

/// How the binaries write log lines (`PI_LOGFORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// env_logger's human-readable lines.
    #[default]
    Text,
    /// One JSON object per line: `ts`, `level`, `target`, `msg`.
    Json,
}

/// One entry of `PI_TRUSTED_JWT`: `{"public_key": PEM, "algorithm": "RS256",
/// "role": …, "realm": …, "resolver": …, "username": regex}`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustedJwtConfig {
    /// The signer's public key (PEM).
    pub public_key: String,
    /// The JWT algorithm (`RS256`, `PS256`, `ES256`, …).
    pub algorithm: String,
    /// `role` the token must carry (`null` when the entry has none).
    pub role: Value,
    /// `realm` the token must carry.
    pub realm: Value,
    /// `resolver` the token must carry.
    pub resolver: Value,
    /// Regular expression the token's `username` must match.
    pub username: String,
}

fn trusted_jwt(raw: &Map<String, Value>) -> Result<Vec<TrustedJwtConfig>, LoadError> {
    const KEY: &str = "PI_TRUSTED_JWT";
    const EXPECTED: &str =
        "a list of dicts with the string keys `public_key`, `algorithm` and `username`";
    let items = match present(raw, KEY) {
        None => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(v) => return Err(invalid(KEY, EXPECTED, v)),
    };
    items
        .iter()
        .map(|item| {
            let Value::Object(m) = item else {
                return Err(invalid(KEY, EXPECTED, item));
            };
            let text = |k: &str| match m.get(k) {
                Some(Value::String(s)) => Ok(s.clone()),
                _ => Err(invalid(KEY, EXPECTED, item)),
            };
            let claim = |k: &str| m.get(k).cloned().unwrap_or(Value::Null);
            Ok(TrustedJwtConfig {
                public_key: text("public_key")?,
                algorithm: text("algorithm")?,
                role: claim("role"),
                realm: claim("realm"),
                resolver: claim("resolver"),
                username: text("username")?,
            })
        })
        .collect()
}

/// Which config file to read: `explicit` (from `--config FILE`), else the value of the
/// environment variable `PRIVACYIDEA_CONFIGFILE`, else [`DEFAULT_CONFIG_FILE`].
#[must_use]
pub fn resolve_config_path(explicit: Option<&Path>) -> PathBuf {
    let env = std::env::var_os(CONFIGFILE_ENV).map(PathBuf::from);
    resolve_config_path_with(explicit, env.as_deref())
}

/// [`resolve_config_path`] with the environment value passed in (pure). An empty value counts
/// as unset.
#[must_use]
pub fn resolve_config_path_with(explicit: Option<&Path>, env_value: Option<&Path>) -> PathBuf {
    explicit
        .or(env_value.filter(|p| !p.as_os_str().is_empty()))
        .map_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE), Path::to_path_buf)
}

/// Resolves the file ([`resolve_config_path`]) and loads it with the process environment's
/// `PRIVACYIDEA_*` overrides.
///
/// # Errors
///
/// See [`load_str`]; also [`LoadError::Read`] if the file cannot be read.
pub fn load(explicit: Option<&Path>) -> Result<PiConfig, LoadError> {
    load_file(&resolve_config_path(explicit), EnvOverrides::from_env())
}

/// Loads `path`, then applies `env`.
///
/// # Errors
///
/// See [`load_str`]; also [`LoadError::Read`] if the file cannot be read.
pub fn load_file(path: &Path, env: EnvOverrides) -> Result<PiConfig, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    load_str(&text, &path.display().to_string(), env)
}

/// Loads `pi.cfg` text through the `config` crate ([`PiCfgFormat`]), then applies `env`
/// (environment wins over the file); `origin` names the text in errors and warnings.
///
/// # Errors
///
/// [`LoadError::Syntax`] for a broken assignment to one of the [`USED_KEYS`],
/// [`LoadError::Missing`] / [`LoadError::InvalidValue`] from [`PiConfig::from_raw`].
pub fn load_str(text: &str, origin: &str, env: EnvOverrides) -> Result<PiConfig, LoadError> {
    let raw = load_raw(text, origin, env)?;
    PiConfig::from_raw(raw)
}

/// Like [`load_str`] but returns only the merged raw values (no typing, no required keys).
///
/// # Errors
///
/// [`LoadError::Syntax`] for a broken assignment to one of the [`USED_KEYS`].
pub fn load_raw(
    text: &str,
    origin: &str,
    env: EnvOverrides,
) -> Result<Map<String, Value>, LoadError> {
    let built = config::Config::builder()
        .add_source(config::File::from_str(text, PiCfgFormat::new(origin)))
        .add_source(env)
        .build()
        .map_err(map_config_error)?;
    built
        .try_deserialize::<Map<String, Value>>()
        .map_err(LoadError::Config)
}

fn map_config_error(e: config::ConfigError) -> LoadError {
    match e {
        config::ConfigError::FileParse { cause, uri } => match cause.downcast::<SyntaxError>() {
            Ok(syntax) => LoadError::from(*syntax),
            Err(cause) => LoadError::Config(config::ConfigError::FileParse { uri, cause }),
        },
        other => LoadError::Config(other),
    }
}

fn found(v: &Value) -> String {
    v.to_string()
}

fn invalid(key: &'static str, expected: &'static str, v: &Value) -> LoadError {
    LoadError::InvalidValue {
        key,
        expected,
        found: found(v),
    }
}

/// A present, non-`None` value.
fn present<'a>(raw: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    raw.get(key).filter(|v| !v.is_null())
}

fn opt_string(raw: &Map<String, Value>, key: &'static str) -> Result<Option<String>, LoadError> {
    match present(raw, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        // Environment values are JSON-parsed: `PRIVACYIDEA_SECRET_KEY=1234` is a number.
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
        Some(v) => Err(invalid(key, "a string", v)),
    }
}

fn opt_string_list(
    raw: &Map<String, Value>,
    key: &'static str,
) -> Result<Option<Vec<String>>, LoadError> {
    match present(raw, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
        Some(v @ Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                _ => Err(invalid(key, "a list of strings", v)),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(v) => Err(invalid(key, "a list of strings", v)),
    }
}

fn opt_u64(raw: &Map<String, Value>, key: &'static str) -> Result<Option<u64>, LoadError> {
    match present(raw, key) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| invalid(key, "a non-negative integer", v)),
    }
}

fn opt_seconds(raw: &Map<String, Value>, key: &'static str) -> Result<Option<Duration>, LoadError> {
    match present(raw, key) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1e12)
            .map(|f| Some(Duration::from_secs_f64(f)))
            .ok_or_else(|| invalid(key, "a non-negative number of seconds", v)),
    }
}

fn opt_bool(raw: &Map<String, Value>, key: &'static str) -> Result<Option<bool>, LoadError> {
    match present(raw, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => match v.as_i64() {
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            _ => Err(invalid(key, "`True` or `False`", v)),
        },
    }
}

fn opt_loglevel(raw: &Map<String, Value>, key: &'static str) -> Result<Option<i64>, LoadError> {
    match present(raw, key) {
        None => Ok(None),
        Some(Value::String(s)) => {
            let name = s.trim().strip_prefix("logging.").unwrap_or(s.trim());
            pyparse::logging_level(&name.to_ascii_uppercase())
                .map(Some)
                .ok_or_else(|| invalid(key, "a logging level", &Value::String(s.clone())))
        }
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(key, "a logging level", v)),
    }
}

impl PiConfig {
    /// Types the raw key/value map (as produced by [`load_raw`]) and fills in defaults.
    ///
    /// # Errors
    ///
    /// [`LoadError::Missing`] without `SQLALCHEMY_DATABASE_URI`, [`LoadError::InvalidValue`]
    /// for a used key of the wrong type.
    pub fn from_raw(raw: Map<String, Value>) -> Result<Self, LoadError> {
        let sqlalchemy_database_uri = opt_string(&raw, "SQLALCHEMY_DATABASE_URI")?
            .ok_or(LoadError::Missing("SQLALCHEMY_DATABASE_URI"))?;
        let audit_servername = opt_string(&raw, "PI_AUDIT_SERVERNAME")?;
        let pi_node = opt_string(&raw, "PI_NODE")?
            .or(audit_servername)
            .unwrap_or_else(|| "localnode".to_owned());
        let pi_max_body_size = match opt_u64(&raw, "PI_MAX_BODY_SIZE")? {
            None => 1024 * 1024,
            Some(n) => usize::try_from(n).map_err(|_| LoadError::InvalidValue {
                key: "PI_MAX_BODY_SIZE",
                expected: "a size in bytes",
                found: n.to_string(),
            })?,
        };
        let pi_logformat = match opt_string(&raw, "PI_LOGFORMAT")?.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(LoadError::InvalidValue {
                    key: "PI_LOGFORMAT",
                    expected: "`text` or `json`",
                    found: other.to_owned(),
                })
            }
        };
        Ok(Self {
            pi_metrics: opt_bool(&raw, "PI_METRICS")?.unwrap_or(true),
            pi_metrics_token: opt_string(&raw, "PI_METRICS_TOKEN")?.filter(|t| !t.is_empty()),
            pi_logformat,
            secret_key: opt_string(&raw, "SECRET_KEY")?,
            pi_pepper: opt_string(&raw, "PI_PEPPER")?,
            superuser_realm: opt_string_list(&raw, "SUPERUSER_REALM")?.unwrap_or_default(),
            pi_node,
            pi_node_uuid: opt_string(&raw, "PI_NODE_UUID")?,
            pi_uuid_file: opt_string(&raw, "PI_UUID_FILE")?
                .map_or_else(|| PathBuf::from("/etc/privacyidea/uuid.txt"), PathBuf::from),
            pi_loglevel: opt_loglevel(&raw, "PI_LOGLEVEL")?.unwrap_or(30),
            pi_hash_algo_list: opt_string_list(&raw, "PI_HASH_ALGO_LIST")?
                .unwrap_or_else(|| vec!["argon2".to_owned(), "pbkdf2_sha512".to_owned()]),
            pi_encfile: opt_string(&raw, "PI_ENCFILE")?.map(PathBuf::from),
            pi_listen: opt_string(&raw, "PI_LISTEN")?
                .unwrap_or_else(|| "127.0.0.1:5000".to_owned()),
            pi_remote_timeout: opt_seconds(&raw, "PI_REMOTE_TIMEOUT")?
                .unwrap_or(Duration::from_secs(10)),
            pi_remote_connect_timeout: opt_seconds(&raw, "PI_REMOTE_CONNECT_TIMEOUT")?
                .unwrap_or(Duration::from_secs(5)),
            pi_remote_allowed_hosts: opt_string_list(&raw, "PI_REMOTE_ALLOWED_HOSTS")?
                .unwrap_or_default(),
            pi_remote_allow_link_local: opt_bool(&raw, "PI_REMOTE_ALLOW_LINK_LOCAL")?
                .unwrap_or(false),
            pi_jwt_validity: opt_u64(&raw, "PI_JWT_VALIDITY")?.unwrap_or(3600),
            pi_max_body_size,
            pi_trusted_jwt: trusted_jwt(&raw)?,
            pi_audit_key_private: opt_string(&raw, "PI_AUDIT_KEY_PRIVATE")?.map(PathBuf::from),
            pi_audit_key_public: opt_string(&raw, "PI_AUDIT_KEY_PUBLIC")?.map(PathBuf::from),
            pi_no_response_sign: opt_bool(&raw, "PI_NO_RESPONSE_SIGN")?.unwrap_or(false),
            sqlalchemy_database_uri,
            raw,
        })
    }

    /// A raw value by key (any key, typed or not); `None` if absent.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.raw.get(key)
    }
}
