#![doc = include_str!("../README.md")]

pub mod config;
pub mod crypto;
pub mod descriptor;
pub mod ldap;
pub mod passwd;
pub mod realm;
pub mod registry;
pub mod resolver;
pub mod split;
pub mod sql;
mod write;

pub use config::{DecodedResolver, ResolverConfig, CENSORED};
pub use crypto::{CryptoError, EncKey, FAILED_TO_DECRYPT_PASSWORD};
pub use ldap::LdapResolver;
pub use passwd::PasswdResolver;
pub use realm::{
    find_user, find_user_in_realm, ordered_resolver_names, ordered_resolvers, User,
    DEFAULT_PRIORITY,
};
pub use registry::{
    build, build_from_record, config_type, default_config, descriptor, test_connection, BuildError,
    ConfigType, ResolverDescriptor, RESOLVER_TYPES,
};
pub use resolver::{AttrValue, ConnectionTest, Resolver, ResolverError, SearchFilter, UserInfo};
pub use split::{auth_user_realm, param_user_realm, split_user, UnknownRealm};
pub use sql::SqlResolver;
pub use write::{check_resolver_type, resolver_changes, valid_resolver_name};
