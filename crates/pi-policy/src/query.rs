//! Query inputs: filters, the user object and the request context that
//! conditions read.

use chrono::{DateTime, NaiveDateTime, Utc};
use pi_model::condition::Section;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A resolved user (privacyIDEA's `User` object) as policy matching sees it.
///
/// An *empty* user (`login`, `realm` and `resolver` all `""`) makes only
/// policies without user/realm/resolver restriction match (case 72/75).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserObject {
    /// Login name.
    pub login: String,
    /// The login the user authenticated with, if different (`used_login`).
    #[serde(default)]
    pub used_login: Option<String>,
    /// Realm (lower-case in privacyIDEA).
    pub realm: String,
    /// Resolver the user was found in.
    pub resolver: String,
    /// User attributes for `userinfo` conditions (strings or lists).
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

impl UserObject {
    /// A user with login, realm and resolver and no attributes.
    pub fn new(login: &str, realm: &str, resolver: &str) -> UserObject {
        UserObject {
            login: login.into(),
            realm: realm.into(),
            resolver: resolver.into(),
            ..UserObject::default()
        }
    }

    /// `true` when login and realm are empty (privacyIDEA's `is_empty`).
    pub fn is_empty(&self) -> bool {
        self.login.is_empty() && self.realm.is_empty()
    }

    /// Python `str(user)`: `<login.resolver@realm>` or `<empty user>`.
    pub fn display(&self) -> String {
        if self.is_empty() {
            "<empty user>".into()
        } else if self.resolver.is_empty() {
            format!("<{}@{}>", self.login, self.realm)
        } else {
            format!("<{}.{}@{}>", self.login, self.resolver, self.realm)
        }
    }
}

/// A token as the `token` / `tokeninfo` condition sections see it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TokenData {
    /// The token's DB dict (`serial`, `tokentype`, `active`, `count`, `realms`, …).
    pub fields: Map<String, Value>,
    /// Token info key/values.
    #[serde(default)]
    pub info: Map<String, Value>,
}

/// A container as the `container` / `container_info` sections see it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerData {
    /// The container dict (without tokens).
    pub fields: Map<String, Value>,
    /// Container info key/values.
    #[serde(default)]
    pub info: Map<String, Value>,
}

/// Request headers and WSGI-style environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpData {
    /// Headers in request order; looked up case-insensitively (first wins).
    pub headers: Vec<(String, String)>,
    /// Environment (`REQUEST_METHOD`, `PATH_INFO`, `REMOTE_ADDR`, …), case-sensitive.
    #[serde(default)]
    pub environ: Map<String, Value>,
}

impl HttpData {
    /// Case-insensitive header lookup.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Which conditions `match_policies` evaluates (`extended_condition_check`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConditionCheck<'a> {
    /// Evaluate all sections (privacyIDEA `None`, the default).
    #[default]
    All,
    /// Do not evaluate conditions (privacyIDEA `1`).
    Skip,
    /// Evaluate only these sections; others count as true.
    Sections(&'a [Section]),
}

/// The data conditions are evaluated against.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConditionInput<'a> {
    /// The token found by the request's serial (`None`: no serial or unknown token).
    pub token: Option<&'a TokenData>,
    /// The container found by the request's container serial.
    pub container: Option<&'a ContainerData>,
    /// Request headers/environment (`None`: not available).
    pub http: Option<&'a HttpData>,
    /// Request data (a JSON object to be available; `pass`/`password` are ignored).
    pub request_data: Option<&'a Value>,
    /// Current instant for `date_within_last` (without it those comparisons fail).
    pub now: Option<DateTime<Utc>>,
}

/// A policy query: privacyIDEA's `list_policies` / `match_policies`
/// parameters. `None` = do not filter on this attribute; `Some("")` filters
/// for policies that do not restrict it (or use `*`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<'a> {
    /// Exact policy name.
    pub name: Option<&'a str>,
    /// Exact scope.
    pub scope: Option<&'a str>,
    /// Action.
    pub action: Option<&'a str>,
    /// Active flag.
    pub active: Option<bool>,
    /// User name (ignored when `user_object` is given, after the conflict check).
    pub user: Option<&'a str>,
    /// User realm.
    pub realm: Option<&'a str>,
    /// User resolver.
    pub resolver: Option<&'a str>,
    /// Extra realms (token realms): a policy passes the realm filter with
    /// any of them; see spec/policy.md §2.4.2 for the user/realm pairing rule.
    pub additional_realms: Option<&'a [String]>,
    /// Admin user (only evaluated when `scope == Some("admin")`).
    pub adminuser: Option<&'a str>,
    /// Admin realm (only evaluated when `scope == Some("admin")`).
    pub adminrealm: Option<&'a str>,
    /// Client IP (`Some("")` is an error, as in privacyIDEA).
    pub client: Option<&'a str>,
    /// Node name.
    pub pinode: Option<&'a str>,
    /// User-agent product token.
    pub user_agent: Option<&'a str>,
    /// Local naive time for time ranges; `None` skips the time filter
    /// (`list_policies` semantics). Pass "now" for privacyIDEA's
    /// `match_policies` semantics.
    pub time: Option<NaiveDateTime>,
    /// Keep load order instead of sorting by priority.
    pub unsorted: bool,
    /// The handled user; replaces user/realm/resolver (spec/policy.md §2.6).
    pub user_object: Option<&'a UserObject>,
    /// Which conditions to evaluate (only `match_policies`).
    pub conditions: ConditionCheck<'a>,
    /// Data for conditions.
    pub input: ConditionInput<'a>,
}
