//! The resolver trait every user store implements, and its error type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One user attribute: a single string or a list (LDAP multi-value
/// attributes such as `mobile`). Serialises untagged, as privacyIDEA shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttrValue {
    /// A single value.
    Str(String),
    /// A multi-valued attribute.
    List(Vec<String>),
}

impl AttrValue {
    /// The value as a single string (the first element of a list, `""` for
    /// an empty list).
    pub fn as_str(&self) -> &str {
        match self {
            AttrValue::Str(s) => s,
            AttrValue::List(v) => v.first().map_or("", String::as_str),
        }
    }
}

impl From<&str> for AttrValue {
    fn from(s: &str) -> Self {
        AttrValue::Str(s.to_owned())
    }
}

impl From<String> for AttrValue {
    fn from(s: String) -> Self {
        AttrValue::Str(s)
    }
}

/// User attributes by privacyIDEA attribute name (`username`, `userid`,
/// `givenname`, `surname`, `email`, `phone`, `mobile`, `description`, …).
/// Sorted by key, as privacyIDEA's JSON output is.
pub type UserInfo = BTreeMap<String, AttrValue>;

/// Search filter of a user list: privacyIDEA attribute name → pattern
/// (resolver-specific syntax, e.g. `*` wildcards or `>=1000`).
pub type SearchFilter = BTreeMap<String, String>;

/// Result of a connection test: success flag and the human-readable
/// description privacyIDEA returns in `detail.description`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionTest {
    /// Whether the test succeeded.
    pub success: bool,
    /// What happened.
    pub description: String,
    /// The value `POST /resolver/test` answers instead of `success` when
    /// set: the SQL resolver reports the user count (`-1` on failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
}

/// Errors of resolver operations.
///
/// [`ResolverError::NotFound`] is an ordinary answer ("no such user"); every
/// other variant means the operation could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolverError {
    /// The login name or user id is unknown to this resolver.
    #[error("user `{0}` not found")]
    NotFound(String),
    /// The user store could not be read or reached (file missing, network
    /// error, bad credentials for the bind, …).
    #[error("resolver backend failure: {0}")]
    Backend(String),
    /// The operation is not supported for this user (privacyIDEA raises
    /// `NotImplementedError`, HTTP 501). The passwd resolver uses this for
    /// shadowed passwords (`x`/`*`); privacyIDEA's text there is
    /// `Sorry, currently no support for shadow passwords`.
    #[error("{0}")]
    NotImplemented(String),
    /// A user-list search filter is invalid (unknown search key, malformed
    /// pattern). privacyIDEA 3.14 answers a ParameterError (905) for an
    /// unknown key; a malformed `userid` pattern is a 500 there.
    #[error("invalid search filter: {0}")]
    InvalidSearch(String),
}

impl ResolverError {
    /// Whether this is [`ResolverError::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, ResolverError::NotFound(_))
    }
}

/// A user store: passwd file, SQL table, LDAP directory, …
///
/// Object safe, `Send + Sync` and synchronous; implementations that do
/// network I/O block the calling thread (run them on a blocking pool from
/// async code). Every method can fail with a backend error; lookups of
/// unknown users answer [`ResolverError::NotFound`].
pub trait Resolver: Send + Sync + std::fmt::Debug {
    /// The resolver type name, e.g. `passwdresolver`.
    fn rtype(&self) -> &'static str;

    /// Resolves a login name to the user id (privacyIDEA's `getUserId`).
    fn user_id(&self, login: &str) -> Result<String, ResolverError>;

    /// Resolves a user id to the login name (`getUsername`).
    fn username(&self, uid: &str) -> Result<String, ResolverError>;

    /// All known attributes of a user (`get_user_info`).
    fn user_info(&self, uid: &str) -> Result<UserInfo, ResolverError>;

    /// Checks a user's password (`checkPass`). `Ok(false)` for a wrong
    /// password; an unknown uid is [`ResolverError::NotFound`].
    fn check_password(&self, uid: &str, password: &str) -> Result<bool, ResolverError>;

    /// Users matching every entry of `filter` (`getUserList`); an empty
    /// filter lists all users. Entries never contain password hashes.
    fn user_list(&self, filter: &SearchFilter) -> Result<Vec<UserInfo>, ResolverError>;

    /// Tests the connection to the user store with this configuration
    /// (`testconnection`, used by `POST /resolver/test`). An unreachable
    /// store is normally `Ok` with `success: false` and a description (as
    /// privacyIDEA answers); `Err` is for failures the test itself hits.
    fn test_connection(&self) -> Result<ConnectionTest, ResolverError>;

    /// [`Resolver::user_list`] with a cap: at most `limit` users, and
    /// whether more matched (the list was cut). Resolvers that can stop
    /// early (LDAP size limit, SQL `LIMIT`) override this so a directory of
    /// a million users never reaches memory; the default lists and cuts.
    fn user_list_limited(
        &self,
        filter: &SearchFilter,
        limit: usize,
    ) -> Result<(Vec<UserInfo>, bool), ResolverError> {
        let mut list = self.user_list(filter)?;
        let cut = list.len() > limit;
        list.truncate(limit);
        Ok((list, cut))
    }

    /// The primary login name of a user found by an alternative login
    /// attribute (LDAP with several `LOGINNAMEATTRIBUTE`s: privacyIDEA then
    /// replaces the login by the first attribute's value). `None` (the
    /// default) keeps the login as typed.
    fn primary_login(&self, _uid: &str) -> Result<Option<String>, ResolverError> {
        Ok(None)
    }

    /// Whether users can be created/edited in this store. Default `false`.
    fn editable(&self) -> bool {
        false
    }
}

/// Errors of building a resolver from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The type name is not one of [`RESOLVER_TYPES`](crate::RESOLVER_TYPES).
    #[error("unknown resolver type `{0}`")]
    UnknownType(String),
    /// A known privacyIDEA type this server cannot run yet.
    #[error("resolver type `{0}` is not supported by this server")]
    Unsupported(String),
    /// A config value is unusable.
    #[error("invalid resolver configuration `{key}`: {reason}")]
    InvalidConfig {
        /// The offending key.
        key: String,
        /// Why.
        reason: String,
    },
}
