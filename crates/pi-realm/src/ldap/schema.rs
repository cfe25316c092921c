//! The directory's attribute types (from its subschema entry) and how they
//! shape user-info values (spec/resolvers-sql-ldap.md §3.5).

use std::collections::HashMap;

/// Syntax OID of GeneralizedTime.
pub const GENERALIZED_TIME: &str = "1.3.6.1.4.1.1466.115.121.1.24";
/// Syntax OID of Octet String (e.g. `userPassword`).
pub const OCTET_STRING: &str = "1.3.6.1.4.1.1466.115.121.1.40";

/// One attribute type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrType {
    /// The first NAME, the spelling the server returns.
    pub name: String,
    /// `SINGLE-VALUE`.
    pub single: bool,
    /// SYNTAX OID (inherited through `SUP`), without length bound.
    pub syntax: Option<String>,
}

/// The attribute types of a directory, by lower-case name.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    types: HashMap<String, AttrType>,
}

fn tokens(def: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = def.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut s = String::new();
            for ch in chars.by_ref() {
                if ch == '\'' {
                    break;
                }
                s.push(ch);
            }
            out.push(format!("'{s}"));
        } else if c == '(' || c == ')' {
            out.push(c.to_string());
            chars.next();
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || ch == '(' || ch == ')' || ch == '\'' {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            out.push(s);
        }
    }
    out
}

struct RawType {
    names: Vec<String>,
    sup: Option<String>,
    syntax: Option<String>,
    single: bool,
}

fn parse_def(def: &str) -> Option<RawType> {
    let t = tokens(def);
    let mut i = 0;
    let mut raw = RawType {
        names: Vec::new(),
        sup: None,
        syntax: None,
        single: false,
    };
    while i < t.len() {
        match t[i].as_str() {
            "NAME" => {
                i += 1;
                if t.get(i).map(String::as_str) == Some("(") {
                    i += 1;
                    while i < t.len() && t[i] != ")" {
                        raw.names.push(t[i].trim_start_matches('\'').to_owned());
                        i += 1;
                    }
                } else if let Some(n) = t.get(i) {
                    raw.names.push(n.trim_start_matches('\'').to_owned());
                }
            }
            "SUP" => {
                i += 1;
                raw.sup = t.get(i).map(|s| s.trim_start_matches('\'').to_owned());
            }
            "SYNTAX" => {
                i += 1;
                raw.syntax = t.get(i).map(|s| {
                    let s = s.trim_start_matches('\'');
                    s.split('{').next().unwrap_or(s).to_owned()
                });
            }
            "SINGLE-VALUE" => raw.single = true,
            _ => {}
        }
        i += 1;
    }
    (!raw.names.is_empty()).then_some(raw)
}

impl Schema {
    /// Builds the schema from `attributeTypes` values.
    pub fn from_definitions<S: AsRef<str>>(defs: &[S]) -> Schema {
        let raws: Vec<RawType> = defs.iter().filter_map(|d| parse_def(d.as_ref())).collect();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (i, r) in raws.iter().enumerate() {
            for n in &r.names {
                by_name.insert(n.to_lowercase(), i);
            }
        }
        let syntax_of = |start: usize| {
            let mut cur = Some(start);
            for _ in 0..16 {
                let r = &raws[cur?];
                if r.syntax.is_some() {
                    return r.syntax.clone();
                }
                cur = r
                    .sup
                    .as_ref()
                    .and_then(|s| by_name.get(&s.to_lowercase()).copied());
            }
            None
        };
        let mut types = HashMap::new();
        for (i, r) in raws.iter().enumerate() {
            let t = AttrType {
                name: r.names[0].clone(),
                single: r.single,
                syntax: syntax_of(i),
            };
            for n in &r.names {
                types.insert(n.to_lowercase(), t.clone());
            }
        }
        Schema { types }
    }

    /// The type of an attribute name (case-insensitive; `;options` ignored).
    pub fn get(&self, name: &str) -> Option<&AttrType> {
        let base = name.split(';').next().unwrap_or(name);
        self.types.get(&base.to_lowercase())
    }

    /// Number of known attribute names.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// Whether no attribute type is known.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }
}

/// GeneralizedTime (`20261206200755Z`, fractions and offsets allowed) as
/// the release's JSON encoder prints a datetime:
/// `Sun, 06 Dec 2026 20:07:55 GMT`. `None` if unparsable.
pub fn generalized_time_to_http(v: &str) -> Option<String> {
    use chrono::{FixedOffset, NaiveDateTime, TimeZone, Utc};
    let v = v.trim();
    let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
    let rest = &v[digits.len()..];
    let rest = if let Some(r) = rest.strip_prefix(['.', ',']) {
        r.trim_start_matches(|c: char| c.is_ascii_digit())
    } else {
        rest
    };
    let padded = match digits.len() {
        10 => format!("{digits}0000"),
        12 => format!("{digits}00"),
        14 => digits,
        _ => return None,
    };
    let naive = NaiveDateTime::parse_from_str(&padded, "%Y%m%d%H%M%S").ok()?;
    let offset_secs = match rest {
        "Z" | "" => 0,
        r => {
            let sign = match r.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hh: i32 = r.get(1..3)?.parse().ok()?;
            let mm: i32 = r.get(3..5).map_or(Some(0), |m| m.parse().ok())?;
            sign * (hh * 3600 + mm * 60)
        }
    };
    let dt = FixedOffset::east_opt(offset_secs)?
        .from_local_datetime(&naive)
        .single()?
        .with_timezone(&Utc);
    Some(dt.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openldap_definitions() {
        let defs = [
            "( 2.5.4.41 NAME 'name' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )",
            "( 2.5.4.4 NAME ( 'sn' 'surname' ) DESC 'RFC2256: last (family) name(s) for which the entity is known by' SUP name )",
            "( 1.3.6.1.1.16.4 NAME 'entryUUID' DESC 'UUID of the entry' EQUALITY UUIDMatch ORDERING UUIDOrderingMatch SYNTAX 1.3.6.1.1.16.1 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )",
            "( 2.5.18.1 NAME 'createTimestamp' EQUALITY generalizedTimeMatch ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation )",
            "( 2.5.4.35 NAME 'userPassword' DESC 'RFC2256/2307: password of user' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40{128} )",
        ];
        let s = Schema::from_definitions(&defs);
        let sn = s.get("SURNAME").unwrap();
        assert_eq!(sn.name, "sn");
        assert!(!sn.single);
        assert_eq!(sn.syntax.as_deref(), Some("1.3.6.1.4.1.1466.115.121.1.15"));
        assert!(s.get("entryuuid").unwrap().single);
        assert_eq!(
            s.get("createTimestamp").unwrap().syntax.as_deref(),
            Some(GENERALIZED_TIME)
        );
        assert_eq!(
            s.get("userPassword;binary").unwrap().syntax.as_deref(),
            Some(OCTET_STRING)
        );
        assert!(s.get("nosuch").is_none());
        assert_eq!(s.len(), 6);
    }

    #[test]
    fn generalized_time() {
        assert_eq!(
            generalized_time_to_http("20261206200755Z").unwrap(),
            "Sun, 06 Dec 2026 20:07:55 GMT"
        );
        assert_eq!(
            generalized_time_to_http("20261206200755.123Z").unwrap(),
            "Sun, 06 Dec 2026 20:07:55 GMT"
        );
        assert_eq!(
            generalized_time_to_http("20261206220755+0200").unwrap(),
            "Sun, 06 Dec 2026 20:07:55 GMT"
        );
        assert_eq!(generalized_time_to_http("yesterday"), None);
    }
}
