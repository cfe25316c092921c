//! Resolver types: descriptors (known config keys and their types), default
//! configurations, and the factory that builds a [`Resolver`] from a
//! configuration.

use pi_model::record::ResolverRecord;
use serde_json::Value;

use crate::config::{DecodedResolver, ResolverConfig};
use crate::crypto::EncKey;
use crate::ldap::LdapResolver;
use crate::passwd::PasswdResolver;
use crate::resolver::{ConnectionTest, Resolver};
use crate::sql::SqlResolver;

/// Type of a resolver config key, as stored in `resolverconfig.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigType {
    /// `string`
    String,
    /// `int`
    Int,
    /// `bool`
    Bool,
    /// `password`: stored encrypted, censored on read.
    Password,
    /// `dict`: stored as JSON text, returned as an object.
    Dict,
    /// `dict_with_password`: a JSON object some of whose entries
    /// (`<key>.<entry>` typed `password` in the descriptor) are encrypted.
    DictWithPassword,
}

impl ConfigType {
    /// The stored type string.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigType::String => "string",
            ConfigType::Int => "int",
            ConfigType::Bool => "bool",
            ConfigType::Password => "password",
            ConfigType::Dict => "dict",
            ConfigType::DictWithPassword => "dict_with_password",
        }
    }

    /// Parses a stored type string; unknown strings give `None`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => ConfigType::String,
            "int" => ConfigType::Int,
            "bool" => ConfigType::Bool,
            "password" => ConfigType::Password,
            "dict" => ConfigType::Dict,
            "dict_with_password" => ConfigType::DictWithPassword,
            _ => return None,
        })
    }
}

/// Errors of building a resolver from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The type name is not one of [`RESOLVER_TYPES`].
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

type Keys = &'static [(&'static str, ConfigType)];

/// What privacyIDEA's `getResolverClassDescriptor` says about a type.
#[derive(Debug, Clone, Copy)]
pub struct ResolverDescriptor {
    /// Type name, e.g. `passwdresolver`.
    pub rtype: &'static str,
    /// privacyIDEA's `clazz` string.
    pub clazz: &'static str,
    parts: &'static [Keys],
}

impl ResolverDescriptor {
    /// Known config keys with their types, in privacyIDEA's order. Nested
    /// password entries of `dict_with_password` keys appear as `key.entry`.
    pub fn config(&self) -> impl Iterator<Item = (&'static str, ConfigType)> + '_ {
        self.parts.iter().flat_map(|p| p.iter().copied())
    }

    /// The declared type of `key`, if the key is known.
    pub fn config_type(&self, key: &str) -> Option<ConfigType> {
        self.config().find(|(k, _)| *k == key).map(|(_, t)| t)
    }

    /// Top-level keys declared as `password`.
    pub fn password_keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.config()
            .filter(|(k, t)| *t == ConfigType::Password && !k.contains('.'))
            .map(|(k, _)| k)
    }

    /// The descriptor as privacyIDEA renders it:
    /// `{"clazz": ..., "config": {key: type}}`.
    pub fn to_json(&self) -> Value {
        let config: serde_json::Map<String, Value> = self
            .config()
            .map(|(k, t)| (k.to_owned(), Value::String(t.as_str().to_owned())))
            .collect();
        serde_json::json!({"clazz": self.clazz, "config": config})
    }
}

use ConfigType::{Bool, Dict, DictWithPassword, Int, Password, String as Str};

const PASSWD_KEYS: Keys = &[("fileName", Str)];

const LDAP_KEYS: Keys = &[
    ("LDAPURI", Str),
    ("LDAPBASE", Str),
    ("BINDDN", Str),
    ("BINDPW", Password),
    ("KEYTABFILE", Str),
    ("TIMEOUT", Int),
    ("SIZELIMIT", Int),
    ("LOGINNAMEATTRIBUTE", Str),
    ("LDAPSEARCHFILTER", Str),
    ("USERINFO", Str),
    ("UIDTYPE", Str),
    ("NOREFERRALS", Bool),
    ("NOSCHEMAS", Bool),
    ("CACERTIFICATE", Str),
    ("EDITABLE", Bool),
    ("SCOPE", Str),
    ("AUTHTYPE", Str),
    ("TLS_VERIFY", Bool),
    ("TLS_VERSION", Int),
    ("TLS_CA_FILE", Str),
    ("START_TLS", Bool),
    ("CACHE_TIMEOUT", Int),
    ("SERVERPOOL_STRATEGY", Str),
    ("SERVERPOOL_ROUNDS", Int),
    ("SERVERPOOL_SKIP", Int),
    ("SERVERPOOL_PERSISTENT", Bool),
    ("OBJECT_CLASSES", Str),
    ("DN_TEMPLATE", Str),
    ("MULTIVALUEATTRIBUTES", Str),
    ("group_name_attribute", Str),
    ("group_base_dn", Str),
    ("group_search_filter", Str),
    ("group_attribute_mapping_key", Str),
    ("recursive_group_search", Bool),
];

const SQL_KEYS: Keys = &[
    ("Server", Str),
    ("Driver", Str),
    ("Database", Str),
    ("User", Str),
    ("Password", Password),
    ("Password_Hash_Type", Str),
    ("Port", Int),
    ("Limit", Int),
    ("Table", Str),
    ("Map", Str),
    ("Where", Str),
    ("Editable", Int),
    ("poolTimeout", Int),
    ("poolSize", Int),
    ("poolRecycle", Int),
    ("Encoding", Str),
    ("conParams", Str),
];

const SCIM_KEYS: Keys = &[
    ("Authserver", Str),
    ("Resourceserver", Str),
    ("Client", Str),
    ("Secret", Password),
    ("Mapping", Str),
];

const HTTP_KEYS: Keys = &[
    ("endpoint", Str),
    ("method", Str),
    ("headers", Str),
    ("requestMapping", Str),
    ("responseMapping", Str),
    ("hasSpecialErrorHandler", Bool),
    ("errorResponse", Str),
    ("base_url", Str),
    ("attribute_mapping", Dict),
    ("Editable", Bool),
    ("config_get_user_list", Dict),
    ("config_get_user_by_id", Dict),
    ("config_get_user_by_name", Dict),
    ("config_create_user", Dict),
    ("config_edit_user", Dict),
    ("config_delete_user", Dict),
    ("config_authorization", Dict),
    ("config_user_auth", Dict),
    ("config_get_user_groups", Dict),
    ("advanced", Bool),
    ("username", Str),
    ("password", Password),
    ("verify_tls", Bool),
    ("tls_ca_path", Str),
    ("timeout", Int),
];

const ENTRAID_KEYS: Keys = &[
    ("client_id", Str),
    ("client_credential_type", Str),
    ("client_secret", Password),
    ("client_certificate", DictWithPassword),
    ("client_certificate.private_key_password", Password),
    ("tenant", Str),
    ("authority", Str),
];

const KEYCLOAK_KEYS: Keys = &[("realm", Str)];

static DESCRIPTORS: [ResolverDescriptor; 7] = [
    ResolverDescriptor {
        rtype: "passwdresolver",
        clazz: "useridresolver.PasswdIdResolver.IdResolver",
        parts: &[PASSWD_KEYS],
    },
    ResolverDescriptor {
        rtype: "ldapresolver",
        clazz: "useridresolver.LDAPIdResolver.IdResolver",
        parts: &[LDAP_KEYS],
    },
    ResolverDescriptor {
        rtype: "sqlresolver",
        clazz: "useridresolver.SQLIdResolver.IdResolver",
        parts: &[SQL_KEYS],
    },
    ResolverDescriptor {
        rtype: "scimresolver",
        clazz: "useridresolver.SCIMIdResolver.IdResolver",
        parts: &[SCIM_KEYS],
    },
    ResolverDescriptor {
        rtype: "httpresolver",
        clazz: "useridresolver.HTTPResolver.HTTPResolver",
        parts: &[HTTP_KEYS],
    },
    ResolverDescriptor {
        rtype: "entraidresolver",
        clazz: "useridresolver.EntraIDResolver.EntraIDResolver",
        parts: &[HTTP_KEYS, ENTRAID_KEYS],
    },
    ResolverDescriptor {
        rtype: "keycloakresolver",
        clazz: "useridresolver.KeycloakResolver.KeycloakResolver",
        parts: &[HTTP_KEYS, KEYCLOAK_KEYS],
    },
];

/// The resolver type names privacyIDEA 3.14 knows.
pub const RESOLVER_TYPES: [&str; 7] = [
    "passwdresolver",
    "ldapresolver",
    "sqlresolver",
    "scimresolver",
    "httpresolver",
    "entraidresolver",
    "keycloakresolver",
];

/// The descriptor of a type (exact, case-sensitive name), if known.
pub fn descriptor(rtype: &str) -> Option<&'static ResolverDescriptor> {
    DESCRIPTORS.iter().find(|d| d.rtype == rtype)
}

/// The declared type of `key` for resolver type `rtype` (`None` for unknown
/// types or keys; privacyIDEA stores such keys with an empty type).
pub fn config_type(rtype: &str, key: &str) -> Option<ConfigType> {
    descriptor(rtype).and_then(|d| d.config_type(key))
}

/// Default configuration shown by `GET /resolver/<rtype>/default`.
///
/// `{}` for passwd, LDAP, SQL and SCIM; the HTTP family answers the templates
/// privacyIDEA 3.14's `get_config()` returns for a fresh instance.
pub fn default_config(rtype: &str) -> Result<ResolverConfig, BuildError> {
    let text = match rtype {
        "passwdresolver" | "ldapresolver" | "sqlresolver" | "scimresolver" => "{}",
        "httpresolver" => HTTP_DEFAULT,
        "entraidresolver" => ENTRAID_DEFAULT,
        "keycloakresolver" => KEYCLOAK_DEFAULT,
        other => return Err(BuildError::UnknownType(other.to_owned())),
    };
    serde_json::from_str(text).map_err(|e| BuildError::InvalidConfig {
        key: "default".into(),
        reason: e.to_string(),
    })
}

const HTTP_DEFAULT: &str = r#"{"headers": {}, "Editable": false, "verify_tls": true, "type": "httpresolver", "timeout": 60, "config_get_user_groups": {}}"#;

const ENTRAID_DEFAULT: &str = r#"{"config_get_user_by_id": {"method": "GET", "endpoint": "/users/{userid}"}, "config_get_user_by_name": {"method": "GET", "endpoint": "/users/{username}"}, "config_get_user_list": {"method": "GET", "endpoint": "/users", "headers": "{\"ConsistencyLevel\": \"eventual\"}"}, "config_create_user": {"method": "POST", "endpoint": "/users", "requestMapping": "{\"accountEnabled\": true, \"displayName\": \"{givenname} {surname}\", \"mailNickname\": \"{givenname}\", \"passwordProfile\": {\"password\": \"{password}\"}}"}, "config_edit_user": {"method": "PATCH", "endpoint": "/users/{userid}"}, "config_delete_user": {"method": "DELETE", "endpoint": "/users/{userid}"}, "config_user_auth": {"method": "POST", "headers": "{\"Content-Type\": \"application/x-www-form-urlencoded\"}", "endpoint": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token", "requestMapping": "client_id={client_id}&scope=https://graph.microsoft.com/.default&username={username}&password={password}&grant_type=password&client_secret={client_credential}"}, "headers": {}, "Editable": false, "verify_tls": true, "type": "entraidresolver", "timeout": 60, "config_get_user_groups": {"active": true, "user_groups_attribute": "displayName", "pi_user_groups_key": "groups"}, "base_url": "https://graph.microsoft.com/v1.0", "attribute_mapping": {"username": "userPrincipalName", "userid": "id", "givenname": "givenName", "surname": "surname", "email": "mail", "mobile": "mobilePhone", "phone": "businessPhones"}, "advanced": true, "authority": "https://login.microsoftonline.com/{tenant}", "client_credential_type": "secret"}"#;

const KEYCLOAK_DEFAULT: &str = r#"{"config_get_user_by_id": {"method": "GET", "endpoint": "/admin/realms/{realm}/users/{userid}"}, "config_get_user_by_name": {"method": "GET", "endpoint": "/admin/realms/{realm}/users", "requestMapping": "{\"username\": \"{username}\", \"exact\": true}"}, "config_get_user_list": {"method": "GET", "endpoint": "/admin/realms/{realm}/users"}, "config_create_user": {"method": "POST", "endpoint": "/admin/realms/{realm}/users", "requestMapping": "{\"enabled\": true}"}, "config_edit_user": {"method": "PUT", "endpoint": "/admin/realms/{realm}/users/{userid}"}, "config_delete_user": {"method": "DELETE", "endpoint": "/admin/realms/{realm}/users/{userid}"}, "config_user_auth": {"method": "POST", "headers": "{\"Content-Type\": \"application/x-www-form-urlencoded\"}", "endpoint": "/realms/{realm}/protocol/openid-connect/token", "requestMapping": "grant_type=password&client_id=admin-cli&username={username}&password={password}"}, "headers": {}, "Editable": false, "verify_tls": true, "type": "keycloakresolver", "timeout": 60, "config_get_user_groups": {"active": true, "method": "get", "endpoint": "/admin/realms/{realm}/users/{userid}/groups", "user_groups_attribute": "name", "pi_user_groups_key": "groups"}, "base_url": "http://localhost:8080", "attribute_mapping": {"username": "username", "userid": "id", "givenname": "firstName", "surname": "lastName", "email": "email"}, "config_authorization": {"method": "POST", "endpoint": "/realms/{realm}/protocol/openid-connect/token", "requestMapping": "grant_type=password&client_id=admin-cli&username={username}&password={password}", "responseMapping": "{\"Authorization\": \"Bearer {access_token}\"}", "headers": "{\"Content-Type\": \"application/x-www-form-urlencoded\"}"}, "advanced": true}"#;

/// Builds a resolver of type `rtype` from its (decrypted) configuration.
///
/// Only configuration is parsed here; user stores are read or contacted on
/// first use (the SQL resolver's connection pool and table reflection
/// included), so building never does I/O. Known privacyIDEA types without an
/// implementation yet give [`BuildError::Unsupported`].
pub fn build(rtype: &str, config: &ResolverConfig) -> Result<Box<dyn Resolver>, BuildError> {
    match rtype {
        "passwdresolver" => Ok(Box::new(PasswdResolver::from_config(config)?)),
        "ldapresolver" => Ok(Box::new(LdapResolver::from_config(config)?)),
        "sqlresolver" => Ok(Box::new(SqlResolver::from_config(config)?)),
        t if descriptor(t).is_some() => Err(BuildError::Unsupported(t.to_owned())),
        t => Err(BuildError::UnknownType(t.to_owned())),
    }
}

/// Builds a resolver from its stored record, decrypting password-typed
/// values with `key` (see [`DecodedResolver::from_record`]).
pub fn build_from_record(
    record: &ResolverRecord,
    key: &EncKey,
) -> Result<Box<dyn Resolver>, BuildError> {
    let decoded = DecodedResolver::from_record(record, key);
    build(&record.rtype, &decoded.data)
}

/// Connection test of an unsaved configuration (`POST /resolver/test`).
///
/// The passwd resolver answers like privacyIDEA's base class:
/// `false` / `"Not implemented"`. Types without an implementation answer
/// `false` with a description saying so, and so does a test that fails with
/// a [`ResolverError`](crate::ResolverError); unknown types are an error.
pub fn test_connection(rtype: &str, config: &ResolverConfig) -> Result<ConnectionTest, BuildError> {
    if rtype == "sqlresolver" {
        // like privacyIDEA's classmethod: needs only the connection keys,
        // `Table` and `Where` (a broken `Map` does not matter)
        return SqlResolver::test_config(config);
    }
    match build(rtype, config) {
        Ok(resolver) => Ok(resolver
            .test_connection()
            .unwrap_or_else(|e| ConnectionTest {
                success: false,
                description: e.to_string(),
                count: None,
            })),
        Err(BuildError::Unsupported(t)) => Ok(ConnectionTest {
            success: false,
            description: format!("resolver type {t} is not supported by this server"),
            count: None,
        }),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_know_all_types() {
        for t in RESOLVER_TYPES {
            let d = descriptor(t).unwrap();
            assert_eq!(d.rtype, t);
            assert!(d.to_json()["config"].is_object());
        }
        assert!(descriptor("PasswdResolver").is_none());
        assert_eq!(
            config_type("passwdresolver", "fileName"),
            Some(ConfigType::String)
        );
        assert_eq!(
            config_type("ldapresolver", "BINDPW"),
            Some(ConfigType::Password)
        );
        assert_eq!(
            config_type("ldapresolver", "TIMEOUT"),
            Some(ConfigType::Int)
        );
        assert_eq!(
            config_type("sqlresolver", "Password"),
            Some(ConfigType::Password)
        );
        assert_eq!(config_type("sqlresolver", "nope"), None);
        assert_eq!(config_type("nope", "x"), None);
        assert_eq!(descriptor("ldapresolver").unwrap().config().count(), 34);
        assert_eq!(descriptor("sqlresolver").unwrap().config().count(), 17);
        let pw: Vec<_> = descriptor("entraidresolver")
            .unwrap()
            .password_keys()
            .collect();
        assert_eq!(pw, ["password", "client_secret"]);
        assert_eq!(
            config_type("entraidresolver", "client_certificate.private_key_password"),
            Some(ConfigType::Password)
        );
        assert_eq!(
            config_type("keycloakresolver", "realm"),
            Some(ConfigType::String)
        );
        assert_eq!(
            config_type("scimresolver", "Secret"),
            Some(ConfigType::Password)
        );
    }

    #[test]
    fn config_type_strings_round_trip() {
        use ConfigType::*;
        for t in [String, Int, Bool, Password, Dict, DictWithPassword] {
            assert_eq!(ConfigType::parse(t.as_str()), Some(t));
        }
        assert_eq!(ConfigType::parse("text"), None);
    }

    #[test]
    fn default_configs() {
        for t in [
            "passwdresolver",
            "ldapresolver",
            "sqlresolver",
            "scimresolver",
        ] {
            assert!(default_config(t).unwrap().is_empty(), "{t}");
        }
        let http = default_config("httpresolver").unwrap();
        assert_eq!(http["timeout"], 60);
        assert_eq!(http["type"], "httpresolver");
        let entra = default_config("entraidresolver").unwrap();
        assert_eq!(entra["base_url"], "https://graph.microsoft.com/v1.0");
        let kc = default_config("keycloakresolver").unwrap();
        assert_eq!(kc["base_url"], "http://localhost:8080");
        assert_eq!(
            default_config("nosuch"),
            Err(BuildError::UnknownType("nosuch".into()))
        );
    }

    #[test]
    fn factory_errors() {
        let cfg = ResolverConfig::new();
        assert_eq!(
            build("nosuch", &cfg).unwrap_err(),
            BuildError::UnknownType("nosuch".into())
        );
        assert!(matches!(
            build("ldapresolver", &cfg).unwrap_err(),
            BuildError::InvalidConfig { key, .. } if key == "LDAPURI"
        ));
        assert!(build("passwdresolver", &cfg).is_ok());
        let t = test_connection("passwdresolver", &cfg).unwrap();
        assert!(!t.success);
        assert_eq!(t.description, "Not implemented");
        // privacyIDEA answers 500 without `Table`; the server turns this error into a 400
        assert!(test_connection("sqlresolver", &cfg).is_err());
        assert!(test_connection("nosuch", &cfg).is_err());
    }
}
