//! Resolver type descriptors: the known config keys of each type and their
//! types (privacyIDEA's `getResolverClassDescriptor`). Depends on nothing
//! else in the crate, so `config` (reading stored rows) and `registry` (the
//! factory) both use it without depending on each other.

use serde_json::Value;

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
