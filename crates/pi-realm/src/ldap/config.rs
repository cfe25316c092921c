//! Parsing an `ldapresolver` configuration (spec/resolvers-sql-ldap.md §3.1).

use std::time::Duration;

use pi_model::pyrepr::{is_true, parse_int, repr_str};
use serde_json::Value;
use sha1::{Digest, Sha1};

use crate::config::ResolverConfig;
use crate::resolver::BuildError;

/// Pool strategy (`SERVERPOOL_STRATEGY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Start with the server after the one used last.
    RoundRobin,
    /// Always start with the first server.
    First,
    /// Start with a random server.
    Random,
}

/// Search scope (`SCOPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The base entry only.
    Base,
    /// Direct children of the base.
    Level,
    /// The whole subtree.
    Subtree,
}

/// One server of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUri {
    /// Host name or address.
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
    /// `ldaps://`.
    pub ssl: bool,
}

impl ServerUri {
    /// privacyIDEA's `split_uri`: `scheme://host[:port]` or a bare host
    /// (plain LDAP). `None` for an unusable entry (bad port, empty host).
    pub fn parse(uri: &str) -> Option<ServerUri> {
        let uri = uri.trim();
        let (ssl, rest) = match uri.split_once("://") {
            Some((scheme, rest)) => (scheme.eq_ignore_ascii_case("ldaps"), rest),
            None => (false, uri),
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if uri.contains("://") => (h, Some(p.parse::<u16>().ok()?)),
            _ => (rest, None),
        };
        if host.is_empty() {
            return None;
        }
        Some(ServerUri {
            host: host.to_owned(),
            port,
            ssl,
        })
    }

    /// The URL handed to the LDAP client.
    pub fn url(&self) -> String {
        let scheme = if self.ssl { "ldaps" } else { "ldap" };
        let port = self.port.unwrap_or(if self.ssl { 636 } else { 389 });
        format!("{scheme}://{}:{port}", self.host)
    }
}

/// A secret string whose `Debug` output is `"***"`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

/// A parsed LDAP resolver configuration.
///
/// Fatal problems (what makes privacyIDEA's `loadConfig` raise: `LDAPURI`
/// missing, non-integer `TIMEOUT`/`SIZELIMIT`/`CACHE_TIMEOUT`/`SERVERPOOL_*`)
/// are build errors; problems privacyIDEA only hits when it talks to the
/// directory (unsupported `AUTHTYPE`, unparsable `USERINFO`, missing search
/// filter) are kept in [`LdapConfig::problem`] and reported by every
/// operation.
#[derive(Debug, Clone)]
pub struct LdapConfig {
    /// The raw `LDAPURI` string.
    pub uri: String,
    /// Pool members.
    pub servers: Vec<ServerUri>,
    /// `LDAPBASE` (`None` if absent).
    pub base: Option<String>,
    /// `BINDDN` (empty → anonymous).
    pub bind_dn: String,
    /// `BINDPW` (not shown by `Debug`).
    pub bind_pw: Secret,
    /// `AUTHTYPE` as configured.
    pub authtype: String,
    /// Connect and receive timeout.
    pub timeout: Duration,
    /// Maximum entries of a listing.
    pub sizelimit: usize,
    /// `CACHE_TIMEOUT` seconds; `<= 0` disables the cache.
    pub cache_timeout: i64,
    /// Login attributes; the first is the `username` attribute.
    pub login_attrs: Vec<String>,
    /// `LDAPSEARCHFILTER` (`None` if absent).
    pub search_filter: Option<String>,
    /// USERINFO pairs (privacyIDEA key → LDAP attribute), `username` set to
    /// the first login attribute. Configuration order.
    pub userinfo: Vec<(String, String)>,
    /// Whether `USERINFO` was configured at all.
    pub userinfo_present: bool,
    /// `UIDTYPE` (`None` if absent; `DN` in any case means the entry DN).
    pub uidtype: Option<String>,
    /// privacyIDEA keys returned as lists.
    pub multivalue: Vec<String>,
    /// `NOREFERRALS`.
    pub noreferrals: bool,
    /// `NOSCHEMAS`.
    pub noschemas: bool,
    /// `SCOPE`.
    pub scope: Scope,
    /// `EDITABLE`.
    pub editable: bool,
    /// StartTLS (ignored for `ldaps` URIs).
    pub start_tls: bool,
    /// Verify the server certificate.
    pub tls_verify: bool,
    /// CA file for verification (`None` → system roots).
    pub tls_ca_file: Option<String>,
    /// `SERVERPOOL_ROUNDS`.
    pub rounds: u32,
    /// `SERVERPOOL_SKIP` seconds.
    pub skip: Duration,
    /// `SERVERPOOL_STRATEGY`.
    pub strategy: Strategy,
    /// Recursive group search: (filter, name attribute, user-info key, base).
    pub groups: Option<GroupSearch>,
    /// A configuration problem every operation reports (see type docs).
    pub problem: Option<String>,
}

/// Settings of the recursive group search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSearch {
    /// `group_search_filter` with `{base_dn}` / `{<key>}` placeholders.
    pub filter: String,
    /// `group_name_attribute`.
    pub name_attr: String,
    /// `group_attribute_mapping_key`.
    pub key: String,
    /// `group_base_dn`, else `LDAPBASE`.
    pub base: String,
}

fn text(config: &ResolverConfig, key: &str) -> Option<String> {
    match config.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Bool(b)) => Some(if *b { "True" } else { "False" }.to_owned()),
        Some(other) => Some(other.to_string()),
    }
}

fn int(
    config: &ResolverConfig,
    key: &str,
    default: i64,
    or_default: bool,
) -> Result<i64, BuildError> {
    let raw = match config.get(key) {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => {
            return n.as_i64().ok_or_else(|| BuildError::InvalidConfig {
                key: key.to_owned(),
                reason: format!("`{n}` is not an integer"),
            })
        }
        Some(Value::Bool(b)) => return Ok(i64::from(*b)),
        Some(v) => v.as_str().unwrap_or_default().to_owned(),
    };
    if or_default && raw.is_empty() {
        return Ok(default);
    }
    parse_int(&raw).ok_or_else(|| BuildError::InvalidConfig {
        key: key.to_owned(),
        reason: format!("`{raw}` is not an integer"),
    })
}

fn flag(config: &ResolverConfig, key: &str) -> bool {
    config.get(key).is_some_and(is_true)
}

impl LdapConfig {
    /// Parses a (decrypted) configuration. No network I/O.
    pub fn parse(config: &ResolverConfig) -> Result<Self, BuildError> {
        let uri = text(config, "LDAPURI").ok_or_else(|| BuildError::InvalidConfig {
            key: "LDAPURI".into(),
            reason: "missing".into(),
        })?;
        let mut problem = None;
        let servers: Vec<ServerUri> = uri
            .split(',')
            .filter(|u| !u.trim().is_empty())
            .filter_map(|u| {
                let s = ServerUri::parse(u);
                if s.is_none() {
                    problem.get_or_insert_with(|| format!("invalid LDAP URI `{}`", u.trim()));
                }
                s
            })
            .collect();
        if servers.is_empty() && problem.is_none() {
            problem = Some("no LDAP server configured".to_owned());
        }
        let timeout = int(config, "TIMEOUT", 5, false)?;
        let sizelimit = int(config, "SIZELIMIT", 500, false)?;
        let cache_timeout = int(config, "CACHE_TIMEOUT", 120, false)?;
        let rounds = int(config, "SERVERPOOL_ROUNDS", 2, true)?;
        let skip = int(config, "SERVERPOOL_SKIP", 30, true)?;
        let strategy = match text(config, "SERVERPOOL_STRATEGY").as_deref() {
            Some("FIRST") => Strategy::First,
            Some("RANDOM") => Strategy::Random,
            _ => Strategy::RoundRobin,
        };
        let login_attrs: Vec<String> = text(config, "LOGINNAMEATTRIBUTE")
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .collect();
        let userinfo_text = text(config, "USERINFO");
        let mut userinfo = match &userinfo_text {
            None => Vec::new(),
            Some(t) => match parse_flow_mapping(t) {
                Ok(map) => map,
                Err(e) => {
                    problem.get_or_insert(format!("USERINFO is not a mapping: {e}"));
                    Vec::new()
                }
            },
        };
        let first_login = login_attrs.first().cloned().unwrap_or_default();
        match userinfo.iter_mut().find(|(k, _)| k == "username") {
            Some(pair) => pair.1 = first_login,
            None => userinfo.push(("username".to_owned(), first_login)),
        }
        let multivalue = match text(config, "MULTIVALUEATTRIBUTES").filter(|s| !s.is_empty()) {
            None => vec!["mobile".to_owned()],
            Some(t) => parse_flow_sequence(&t).unwrap_or_else(|e| {
                problem.get_or_insert(format!("MULTIVALUEATTRIBUTES is not a list: {e}"));
                Vec::new()
            }),
        };
        let authtype = text(config, "AUTHTYPE").unwrap_or_else(|| "Simple".to_owned());
        match authtype.as_str() {
            "Simple" | "Anonymous" => {}
            "NTLM" | "SASL Digest-MD5" | "SASL Kerberos" => {
                problem.get_or_insert(format!(
                    "ERR907: Authentication type {authtype} is not supported by this server"
                ));
            }
            other => {
                problem.get_or_insert(format!("ERR907: Unsupported authentication type: {other}"));
            }
        }
        let scope = match text(config, "SCOPE").as_deref() {
            None | Some("") | Some("SUBTREE") => Scope::Subtree,
            Some("BASE") => Scope::Base,
            Some("LEVEL") => Scope::Level,
            Some(other) => {
                problem.get_or_insert(format!("invalid SCOPE `{other}`"));
                Scope::Subtree
            }
        };
        let base = text(config, "LDAPBASE");
        let groups = if flag(config, "recursive_group_search") {
            match (
                text(config, "group_search_filter").filter(|s| !s.is_empty()),
                text(config, "group_name_attribute").filter(|s| !s.is_empty()),
                text(config, "group_attribute_mapping_key").filter(|s| !s.is_empty()),
            ) {
                (Some(filter), Some(name_attr), Some(key)) => Some(GroupSearch {
                    filter,
                    name_attr,
                    key,
                    base: text(config, "group_base_dn")
                        .filter(|s| !s.is_empty())
                        .or_else(|| base.clone())
                        .unwrap_or_default(),
                }),
                _ => None,
            }
        } else {
            None
        };
        Ok(LdapConfig {
            start_tls: flag(config, "START_TLS") && !uri.to_lowercase().starts_with("ldaps"),
            uri,
            servers,
            base,
            bind_dn: text(config, "BINDDN").unwrap_or_default(),
            bind_pw: Secret(text(config, "BINDPW").unwrap_or_default()),
            authtype,
            timeout: Duration::from_secs(timeout.clamp(1, 3600).unsigned_abs()),
            sizelimit: usize::try_from(sizelimit.max(0)).unwrap_or(usize::MAX),
            cache_timeout,
            login_attrs,
            search_filter: text(config, "LDAPSEARCHFILTER"),
            userinfo_present: userinfo_text.is_some(),
            userinfo,
            uidtype: text(config, "UIDTYPE"),
            multivalue,
            noreferrals: flag(config, "NOREFERRALS"),
            noschemas: flag(config, "NOSCHEMAS"),
            scope,
            editable: flag(config, "EDITABLE"),
            tls_verify: flag(config, "TLS_VERIFY"),
            tls_ca_file: text(config, "TLS_CA_FILE").filter(|s| !s.is_empty()),
            rounds: u32::try_from(rounds.clamp(1, 100)).unwrap_or(1),
            skip: Duration::from_secs(skip.clamp(0, 86_400).unsigned_abs()),
            strategy,
            groups,
            problem,
        })
    }

    /// The uid attribute, `None` for UIDTYPE `DN` (any case) or absent.
    pub fn uid_attr(&self) -> Option<&str> {
        match self.uidtype.as_deref() {
            None => None,
            Some(u) if u.eq_ignore_ascii_case("dn") => None,
            Some(u) => Some(u),
        }
    }

    /// Attributes requested from the directory: the USERINFO values, then
    /// the uid attribute (deduplicated, case-insensitively).
    pub fn requested_attrs(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let extra = self.uid_attr().map(str::to_owned);
        for a in self.userinfo.iter().map(|(_, a)| a.clone()).chain(extra) {
            if !a.is_empty() && !out.iter().any(|x| x.eq_ignore_ascii_case(&a)) {
                out.push(a);
            }
        }
        out
    }

    /// The LDAP attribute mapped to a privacyIDEA key.
    pub fn attr_of(&self, key: &str) -> Option<&str> {
        self.userinfo
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, a)| a.as_str())
    }

    /// privacyIDEA's `getResolverId`:
    /// `sha1(LDAPURI + LDAPBASE + LDAPSEARCHFILTER + repr(sorted(USERINFO)))`.
    pub fn resolver_id(&self) -> String {
        let mut pairs: Vec<&(String, String)> = self.userinfo.iter().collect();
        pairs.sort();
        let items: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("({}, {})", repr_str(k), repr_str(v)))
            .collect();
        let text = format!(
            "{}{}{}[{}]",
            self.uri,
            self.base.as_deref().unwrap_or("None"),
            self.search_filter.as_deref().unwrap_or("None"),
            items.join(", ")
        );
        hex::encode(Sha1::digest(text.as_bytes()))
    }
}

// ----- a small YAML flow-collection parser (USERINFO, MULTIVALUEATTRIBUTES) -----

struct Flow<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
}

impl<'a> Flow<'a> {
    fn new(src: &'a str) -> Self {
        Flow {
            s: src.as_bytes(),
            src,
            pos: 0,
        }
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.pos) == Some(&c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{}` at offset {}", c as char, self.pos))
        }
    }

    /// A quoted or plain scalar; plain scalars end at one of `stops` (and a
    /// `: ` for keys).
    fn scalar(&mut self, stops: &[u8], is_key: bool) -> Result<String, String> {
        self.ws();
        match self.s.get(self.pos) {
            Some(b'"') => self.double_quoted(),
            Some(b'\'') => self.single_quoted(),
            None => Err("unexpected end".into()),
            Some(_) => {
                let start = self.pos;
                while let Some(&c) = self.s.get(self.pos) {
                    if stops.contains(&c) {
                        break;
                    }
                    if is_key
                        && c == b':'
                        && self
                            .s
                            .get(self.pos + 1)
                            .is_none_or(|n| n.is_ascii_whitespace() || stops.contains(n))
                    {
                        break;
                    }
                    self.pos += 1;
                }
                let v = self.src.get(start..self.pos).unwrap_or_default().trim();
                if v.is_empty() {
                    return Err(format!("empty value at offset {start}"));
                }
                Ok(v.to_owned())
            }
        }
    }

    fn single_quoted(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let rest = self.src.get(self.pos..).unwrap_or_default();
            let Some(i) = rest.find('\'') else {
                return Err("unterminated quoted string".into());
            };
            out.push_str(&rest[..i]);
            self.pos += i + 1;
            if self.s.get(self.pos) == Some(&b'\'') {
                out.push('\'');
                self.pos += 1;
            } else {
                return Ok(out);
            }
        }
    }

    fn double_quoted(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.src.get(self.pos..).unwrap_or_default().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next().map(|(_, e)| e) {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('/') => out.push('/'),
                    Some('u') => {
                        let hex: String = (0..4)
                            .filter_map(|_| chars.next().map(|(_, h)| h))
                            .collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .map_err(|_| "bad \\u escape".to_owned())?;
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    Some(e) => out.push(e),
                    None => break,
                },
                c => out.push(c),
            }
        }
        Err("unterminated quoted string".into())
    }
}

/// Parses a JSON object or YAML flow mapping of strings
/// (`{"username": "uid"}`, `{username: uid, 'email': mail}`), keeping order.
pub fn parse_flow_mapping(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut p = Flow::new(text);
    p.expect(b'{')?;
    let mut out: Vec<(String, String)> = Vec::new();
    if !p.eat(b'}') {
        loop {
            let k = p.scalar(b",}", true)?;
            p.expect(b':')?;
            let v = p.scalar(b",}", false)?;
            match out.iter_mut().find(|(ek, _)| *ek == k) {
                Some(pair) => pair.1 = v,
                None => out.push((k, v)),
            }
            if p.eat(b'}') {
                break;
            }
            p.expect(b',')?;
            if p.eat(b'}') {
                break;
            }
        }
    }
    p.ws();
    if p.pos != p.s.len() {
        return Err(format!("trailing text at offset {}", p.pos));
    }
    Ok(out)
}

/// Parses a JSON array or YAML flow sequence of strings
/// (`["mobile"]`, `['mobile','groups']`, `[mobile]`).
pub fn parse_flow_sequence(text: &str) -> Result<Vec<String>, String> {
    let mut p = Flow::new(text);
    p.expect(b'[')?;
    let mut out = Vec::new();
    if !p.eat(b']') {
        loop {
            out.push(p.scalar(b",]", false)?);
            if p.eat(b']') {
                break;
            }
            p.expect(b',')?;
        }
    }
    p.ws();
    if p.pos != p.s.len() {
        return Err(format!("trailing text at offset {}", p.pos));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg(v: serde_json::Value) -> ResolverConfig {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn split_uri_spec_l58() {
        let s = |u| ServerUri::parse(u).unwrap();
        assert_eq!(
            s("ldap://server"),
            ServerUri {
                host: "server".into(),
                port: None,
                ssl: false
            }
        );
        assert_eq!(
            s("ldap://server:389"),
            ServerUri {
                host: "server".into(),
                port: Some(389),
                ssl: false
            }
        );
        assert_eq!(
            s("ldaps://server"),
            ServerUri {
                host: "server".into(),
                port: None,
                ssl: true
            }
        );
        assert_eq!(
            s("server"),
            ServerUri {
                host: "server".into(),
                port: None,
                ssl: false
            }
        );
        assert_eq!(s("ldaps://h:1636").url(), "ldaps://h:1636");
        assert_eq!(s("h").url(), "ldap://h:389");
        assert_eq!(ServerUri::parse("ldap://h:x"), None);
        assert_eq!(ServerUri::parse("ldap://"), None);
    }

    #[test]
    fn userinfo_syntaxes() {
        assert_eq!(
            parse_flow_mapping(r#"{"username":"uid","givenname":"givenName"}"#).unwrap(),
            [
                ("username".into(), "uid".into()),
                ("givenname".into(), "givenName".into())
            ]
        );
        assert_eq!(
            parse_flow_mapping("{username: uid, email: mail}").unwrap(),
            [
                ("username".into(), "uid".into()),
                ("email".into(), "mail".into())
            ]
        );
        assert_eq!(
            parse_flow_mapping("{'phone' : 'telephoneNumber', }").unwrap(),
            [("phone".into(), "telephoneNumber".into())]
        );
        assert_eq!(parse_flow_mapping("{}").unwrap(), []);
        assert_eq!(
            parse_flow_mapping(r#"{"a\"b": "x\u00e4"}"#).unwrap(),
            [("a\"b".into(), "xä".into())]
        );
        assert!(parse_flow_mapping("{username uid}").is_err());
        assert!(parse_flow_mapping("username: uid").is_err());
        assert!(parse_flow_mapping("{a: b} x").is_err());
        assert!(parse_flow_mapping("{'a: b}").is_err());
        assert_eq!(
            parse_flow_sequence("['mobile','groups']").unwrap(),
            ["mobile", "groups"]
        );
        assert_eq!(parse_flow_sequence(r#"["email"]"#).unwrap(), ["email"]);
        assert_eq!(parse_flow_sequence("[mobile, x]").unwrap(), ["mobile", "x"]);
        assert_eq!(parse_flow_sequence("[]").unwrap(), Vec::<String>::new());
        assert!(parse_flow_sequence("mobile").is_err());
    }

    #[test]
    fn defaults_and_username_override() {
        let c = LdapConfig::parse(&cfg(json!({
            "LDAPURI": "ldap://a, ldaps://b:1636",
            "LOGINNAMEATTRIBUTE": "uid, mail",
            "USERINFO": "{\"username\": \"cn\", \"email\": \"mail\"}",
        })))
        .unwrap();
        assert_eq!(c.servers.len(), 2);
        assert!(c.servers[1].ssl);
        assert_eq!(c.timeout, Duration::from_secs(5));
        assert_eq!(c.sizelimit, 500);
        assert_eq!(c.cache_timeout, 120);
        assert_eq!(c.login_attrs, ["uid", "mail"]);
        assert_eq!(c.attr_of("username"), Some("uid"));
        assert_eq!(c.multivalue, ["mobile"]);
        assert_eq!(c.uid_attr(), None);
        assert_eq!(c.rounds, 2);
        assert_eq!(c.strategy, Strategy::RoundRobin);
        assert!(c.problem.is_none());
        assert!(!c.start_tls);
        assert_eq!(c.requested_attrs(), ["uid", "mail"]);
    }

    #[test]
    fn parse_errors() {
        let err = |v| LdapConfig::parse(&cfg(v)).unwrap_err();
        assert!(
            matches!(err(json!({})), BuildError::InvalidConfig { key, .. } if key == "LDAPURI")
        );
        assert!(matches!(
            err(json!({"LDAPURI": "ldap://x", "TIMEOUT": "abc"})),
            BuildError::InvalidConfig { key, .. } if key == "TIMEOUT"
        ));
        assert!(matches!(
            err(json!({"LDAPURI": "ldap://x", "SIZELIMIT": "1.5"})),
            BuildError::InvalidConfig { key, .. } if key == "SIZELIMIT"
        ));
        let problem = |v| LdapConfig::parse(&cfg(v)).unwrap().problem.unwrap();
        assert_eq!(
            problem(json!({"LDAPURI": "ldap://x", "AUTHTYPE": "unknown"})),
            "ERR907: Unsupported authentication type: unknown"
        );
        assert_eq!(
            problem(json!({"LDAPURI": "ldap://x", "AUTHTYPE": "simple"})),
            "ERR907: Unsupported authentication type: simple"
        );
        assert!(problem(json!({"LDAPURI": "ldap://x", "USERINFO": "{x"})).starts_with("USERINFO"));
        assert!(problem(json!({"LDAPURI": "ldap://x:99999"})).starts_with("invalid LDAP URI"));
        assert!(
            problem(json!({"LDAPURI": "ldap://x", "SCOPE": "ONE"})).starts_with("invalid SCOPE")
        );
        // empty SERVERPOOL_* means the default; START_TLS is ignored for ldaps
        let c = LdapConfig::parse(&cfg(json!({
            "LDAPURI": "ldaps://x", "SERVERPOOL_ROUNDS": "", "START_TLS": "1",
            "CACHE_TIMEOUT": "0", "MULTIVALUEATTRIBUTES": "['email']", "UIDTYPE": "entryUUID",
            "SERVERPOOL_STRATEGY": "FIRST", "NOREFERRALS": true, "TIMEOUT": 3
        })))
        .unwrap();
        assert_eq!(c.rounds, 2);
        assert!(!c.start_tls);
        assert_eq!(c.cache_timeout, 0);
        assert_eq!(c.multivalue, ["email"]);
        assert_eq!(c.uid_attr(), Some("entryUUID"));
        assert_eq!(c.strategy, Strategy::First);
        assert!(c.noreferrals);
        assert_eq!(c.timeout, Duration::from_secs(3));
    }

    #[test]
    fn resolver_id_upstream_vectors_l55() {
        let c = |email: &str| {
            LdapConfig::parse(&cfg(json!({
                "LDAPURI": "ldap://localhost",
                "LDAPBASE": "o=test",
                "LDAPSEARCHFILTER": "(cn=*)",
                "LOGINNAMEATTRIBUTE": "cn",
                "USERINFO": format!("{{\"username\": \"cn\", \"phone\": \"telephoneNumber\", \"mobile\": \"mobile\", \"email\": \"{email}\", \"surname\": \"sn\", \"givenname\": \"givenName\"}}"),
            })))
            .unwrap()
        };
        assert_eq!(
            c("mail").resolver_id(),
            "035fbc6272907bc79a2c036b5bf9665ca921d558"
        );
        assert_eq!(
            c("email").resolver_id(),
            "2a92363e3f9da66321d9ff71b3cd0c464e990b02"
        );
    }
}
