//! Resolver types: default configurations and the factory that builds a
//! [`Resolver`] from a configuration (the descriptors — known config keys and
//! their types — live in `descriptor`, re-exported here).

use pi_model::record::ResolverRecord;

use crate::config::{DecodedResolver, ResolverConfig};
use crate::crypto::EncKey;
pub use crate::descriptor::{
    config_type, descriptor, ConfigType, ResolverDescriptor, RESOLVER_TYPES,
};
use crate::ldap::LdapResolver;
use crate::passwd::PasswdResolver;
pub use crate::resolver::BuildError;
use crate::resolver::{ConnectionTest, Resolver};
use crate::sql::SqlResolver;

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
