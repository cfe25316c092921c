//! Decoding stored resolver configurations (`resolverconfig` rows) the way
//! privacyIDEA's config cache does: passwords decrypted, dicts parsed,
//! `censor_keys` collected.

use pi_model::record::ResolverRecord;
use serde_json::Value;

use crate::crypto::{EncKey, FAILED_TO_DECRYPT_PASSWORD};
use crate::descriptor::{config_type, ConfigType};

/// A resolver configuration: key → value (strings as stored; `dict` types as
/// JSON objects).
pub type ResolverConfig = serde_json::Map<String, Value>;

/// The placeholder privacyIDEA shows instead of secrets.
pub const CENSORED: &str = "__CENSORED__";

/// A resolver as privacyIDEA represents it after loading its config rows.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedResolver {
    /// `resolvername`.
    pub name: String,
    /// `type`.
    pub rtype: String,
    /// Keys holding secrets (stored type `password`; dotted `key.entry` for
    /// password entries of `dict_with_password` values), in row order.
    pub censor_keys: Vec<String>,
    /// Decrypted configuration.
    pub data: ResolverConfig,
}

impl DecodedResolver {
    /// Decodes a stored resolver:
    ///
    /// * stored type `password`: value decrypted with `key` (a value that
    ///   does not decrypt becomes [`FAILED_TO_DECRYPT_PASSWORD`], as in
    ///   privacyIDEA); the key is added to `censor_keys`;
    /// * `dict`: parsed as JSON (kept as text if it does not parse);
    /// * `dict_with_password`: parsed, and entries the type's descriptor
    ///   declares as `key.entry: password` are decrypted and censored;
    /// * everything else: the stored string (`NULL` → JSON `null`).
    pub fn from_record(record: &ResolverRecord, key: &EncKey) -> Self {
        let decrypt = |v: Option<&str>| match v {
            Some(v) => key
                .decrypt_password(v)
                .unwrap_or_else(|_| FAILED_TO_DECRYPT_PASSWORD.to_owned()),
            None => FAILED_TO_DECRYPT_PASSWORD.to_owned(),
        };
        let mut censor_keys = Vec::new();
        let mut data = ResolverConfig::new();
        for row in &record.config {
            let raw = row.value.as_deref();
            let value = match row.typ.as_deref().and_then(ConfigType::parse) {
                Some(ConfigType::Password) => {
                    censor_keys.push(row.key.clone());
                    Value::String(decrypt(raw))
                }
                Some(ConfigType::Dict) => parse_json_or_text(raw),
                Some(ConfigType::DictWithPassword) => match parse_json_or_text(raw) {
                    Value::Object(mut map) => {
                        for (entry, val) in map.iter_mut() {
                            let dotted = format!("{}.{entry}", row.key);
                            if config_type(&record.rtype, &dotted) == Some(ConfigType::Password) {
                                *val = Value::String(decrypt(val.as_str()));
                                censor_keys.push(dotted);
                            }
                        }
                        Value::Object(map)
                    }
                    other => other,
                },
                _ => raw.map_or(Value::Null, |s| Value::String(s.to_owned())),
            };
            data.insert(row.key.clone(), value);
        }
        Self {
            name: record.name.clone(),
            rtype: record.rtype.clone(),
            censor_keys,
            data,
        }
    }

    /// The data with every censor key replaced by [`CENSORED`] (dotted keys
    /// address entries of nested objects), as `GET /resolver/` shows it.
    pub fn censored_data(&self) -> ResolverConfig {
        let mut data = self.data.clone();
        for key in &self.censor_keys {
            if let Some(v) = data.get_mut(key) {
                *v = Value::String(CENSORED.to_owned());
                continue;
            }
            let mut parts = key.split('.');
            let Some(first) = parts.next() else { continue };
            let mut cur = data.get_mut(first);
            let rest: Vec<&str> = parts.collect();
            for (i, part) in rest.iter().enumerate() {
                let Some(Value::Object(map)) = cur else { break };
                if i + 1 == rest.len() {
                    if let Some(v) = map.get_mut(*part) {
                        *v = Value::String(CENSORED.to_owned());
                    }
                    break;
                }
                cur = map.get_mut(*part);
            }
        }
        data
    }
}

fn parse_json_or_text(raw: Option<&str>) -> Value {
    match raw {
        None => Value::Null,
        Some(s) => serde_json::from_str(s).unwrap_or_else(|e| {
            log::warn!("resolver config value is not valid json: {e}");
            Value::String(s.to_owned())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pi_model::record::ResolverConfigRecord;

    fn row(key: &str, value: &str, typ: &str) -> ResolverConfigRecord {
        ResolverConfigRecord {
            key: key.into(),
            value: Some(value.into()),
            typ: Some(typ.into()),
            description: None,
        }
    }

    fn key() -> EncKey {
        EncKey::from_bytes(&[9u8; 96]).unwrap()
    }

    #[test]
    fn decodes_passwords_and_dicts() {
        let k = key();
        let cert = serde_json::json!({
            "private_key_file": "/k.pem",
            "private_key_password": k.encrypt_password("keypw"),
        });
        let rec = ResolverRecord {
            id: 1,
            name: "entra".into(),
            rtype: "entraidresolver".into(),
            config: vec![
                row("client_secret", &k.encrypt_password("s3cret"), "password"),
                row("attribute_mapping", r#"{"username": "upn"}"#, "dict"),
                row("headers", "not json", "dict"),
                row(
                    "client_certificate",
                    &cert.to_string(),
                    "dict_with_password",
                ),
                row("tenant", "t1", "string"),
                row("bad", "zz:zz", "password"),
                ResolverConfigRecord {
                    key: "nullval".into(),
                    ..Default::default()
                },
            ],
        };
        let d = DecodedResolver::from_record(&rec, &k);
        assert_eq!(
            d.censor_keys,
            [
                "client_secret",
                "client_certificate.private_key_password",
                "bad"
            ]
        );
        assert_eq!(d.data["client_secret"], "s3cret");
        assert_eq!(d.data["attribute_mapping"]["username"], "upn");
        assert_eq!(d.data["headers"], "not json");
        assert_eq!(
            d.data["client_certificate"]["private_key_password"],
            "keypw"
        );
        assert_eq!(d.data["client_certificate"]["private_key_file"], "/k.pem");
        assert_eq!(d.data["bad"], FAILED_TO_DECRYPT_PASSWORD);
        assert_eq!(d.data["nullval"], Value::Null);
        let c = d.censored_data();
        assert_eq!(c["client_secret"], CENSORED);
        assert_eq!(c["client_certificate"]["private_key_password"], CENSORED);
        assert_eq!(c["client_certificate"]["private_key_file"], "/k.pem");
        assert_eq!(c["tenant"], "t1");
    }

    #[test]
    fn ldap_bindpw() {
        let k = key();
        let rec = ResolverRecord {
            id: 2,
            name: "ldap1".into(),
            rtype: "ldapresolver".into(),
            config: vec![
                row("LDAPURI", "ldap://x", "string"),
                row("BINDPW", &k.encrypt_password("pw"), "password"),
            ],
        };
        let d = DecodedResolver::from_record(&rec, &k);
        assert_eq!(d.censor_keys, ["BINDPW"]);
        assert_eq!(d.data["BINDPW"], "pw");
        assert_eq!(d.censored_data()["BINDPW"], CENSORED);
    }
}
