//! LDAP filter building: the two escaping functions of privacyIDEA 3.14,
//! objectGUID conversion and the filters of every lookup (spec/resolvers-sql-ldap.md §3.4).

use std::fmt::Write as _;

/// Escapes a login name (privacyIDEA's `escape_filter_chars` for logins):
/// `\` → `\5c`, then `*` → `\2a`, `(` → `\28`, `)` → `\29`, `/` → `\2f`.
/// NUL is not escaped (as in the release).
pub fn escape_login(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\5c"),
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '/' => out.push_str("\\2f"),
            c => out.push(c),
        }
    }
    out
}

/// RFC 4515 escaping of an assertion value: `\` → `\5c`, `(` → `\28`,
/// `)` → `\29`, NUL → `\00`, and `*` → `\2a` unless `keep_wildcards`.
/// `/` is not escaped.
pub fn escape_value(s: &str, keep_wildcards: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\5c"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\0' => out.push_str("\\00"),
            '*' if !keep_wildcards => out.push_str("\\2a"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes every byte as `\xx` (binary assertion values such as objectGUID).
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for b in bytes {
        let _ = write!(out, "\\{b:02x}");
    }
    out
}

/// Parses a textual GUID (`fa44faa0-e051-4fb9-afa2-1e24c7fbaeb0`, optionally
/// in braces, dashes optional) into its 16 bytes in canonical (big-endian)
/// order. `None` if it is not a GUID.
pub fn parse_guid(s: &str) -> Option<[u8; 16]> {
    let t = s.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(t);
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, slot) in out.iter_mut().enumerate() {
        let pair = hex.get(2 * i..2 * i + 2)?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// Swaps canonical GUID bytes into Microsoft's little-endian layout
/// (`uuid.bytes_le`): the first three fields are byte-reversed. The swap is
/// its own inverse.
pub fn guid_swap(b: [u8; 16]) -> [u8; 16] {
    let mut o = b;
    o[0] = b[3];
    o[1] = b[2];
    o[2] = b[1];
    o[3] = b[0];
    o[4] = b[5];
    o[5] = b[4];
    o[6] = b[7];
    o[7] = b[6];
    o
}

/// Formats 16 canonical bytes as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn format_uuid(b: &[u8; 16]) -> String {
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let _ = write!(s, "{byte:02x}");
    }
    s
}

/// The textual uid of a binary uid value (privacyIDEA's `_get_uid`):
/// `objectGUID` is read little-endian (Active Directory), any other 16-byte
/// value big-endian (eDirectory `GUID`). `None` for other lengths.
pub fn uid_from_bytes(attr: &str, bytes: &[u8]) -> Option<String> {
    let arr: [u8; 16] = bytes.try_into().ok()?;
    let canonical = if attr.eq_ignore_ascii_case("objectguid") {
        guid_swap(arr)
    } else {
        arr
    };
    Some(format_uuid(&canonical))
}

/// The assertion value for a uid search: objectGUID as escaped little-endian
/// bytes, everything else RFC 4515-escaped. `None` when an objectGUID value
/// is not a GUID.
pub fn uid_assertion(attr: &str, uid: &str) -> Option<String> {
    if attr.eq_ignore_ascii_case("objectguid") {
        parse_guid(uid).map(|g| escape_bytes(&guid_swap(g)))
    } else {
        Some(escape_value(uid, false))
    }
}

/// Filter of a login lookup: `(&F(A=v))` for one login attribute,
/// `(&F(|(A1=v)(A2=v)…))` for several, `v` = [`escape_login`]. An objectGUID
/// login attribute takes the GUID bytes instead and is left out when the
/// login is no GUID. `None` when no alternative is left.
pub fn login_filter(search_filter: &str, login_attrs: &[String], login: &str) -> Option<String> {
    let escaped = escape_login(login);
    let terms: Vec<String> = login_attrs
        .iter()
        .filter_map(|a| {
            if a.eq_ignore_ascii_case("objectguid") {
                parse_guid(login).map(|g| format!("({a}={})", escape_bytes(&guid_swap(g))))
            } else {
                Some(format!("({a}={escaped})"))
            }
        })
        .collect();
    match terms.len() {
        0 => None,
        1 if login_attrs.len() == 1 => Some(format!("(&{search_filter}{})", terms[0])),
        _ => Some(format!("(&{search_filter}(|{}))", terms.concat())),
    }
}

/// Filter of a uid lookup for a non-DN uid type: `(&F(U=esc(uid)))`.
pub fn uid_filter(search_filter: &str, uid_attr: &str, uid: &str) -> Option<String> {
    uid_assertion(uid_attr, uid).map(|v| format!("(&{search_filter}({uid_attr}={v}))"))
}

/// One term of a user-list search (`(attr=esc_wild(value))`), or `None` when
/// the value consists only of `*` (or is empty) and adds no restriction.
/// `accountExpires` is special (Active Directory ticks, see spec/resolvers-sql-ldap.md §3.4).
pub fn list_term(key: &str, attr: &str, value: &str, now_ticks: u64) -> Option<String> {
    if key == "accountExpires" {
        return Some(if value == "1" {
            format!("(&({attr}<={now_ticks})(!({attr}=0)))")
        } else {
            format!("(&({attr}>={now_ticks})(!({attr}=0)))")
        });
    }
    if value.chars().all(|c| c == '*') {
        return None;
    }
    Some(format!("({attr}={})", escape_value(value, true)))
}

/// Current time in Active Directory ticks (100 ns since 1601-01-01 UTC).
pub fn ad_ticks_now() -> u64 {
    const EPOCH_DIFF_SECS: u64 = 11_644_473_600;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (now.as_secs() + EPOCH_DIFF_SECS) * 10_000_000 + u64::from(now.subsec_nanos() / 100)
}

/// Checks a configured search filter the way the release's client library
/// does before sending `(&F)`: unbalanced parentheses → `invalid filter`,
/// anything else it cannot parse → `malformed filter`.
pub fn check_filter(full: &str) -> Result<(), &'static str> {
    let t = full.trim();
    let unescaped_count = |c: char| t.chars().filter(|x| *x == c).count();
    if t.is_empty()
        || unescaped_count('(') != unescaped_count(')')
        || !t.starts_with('(')
        || !t.ends_with(')')
    {
        return Err("invalid filter");
    }
    ldap3::parse_filter(t)
        .map(|_| ())
        .map_err(|()| "malformed filter")
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "(objectClass=inetOrgPerson)";

    #[test]
    fn login_escaping_upstream_vectors() {
        assert_eq!(escape_login("hans*"), "hans\\2a");
        assert_eq!(escape_login("hans()"), "hans\\28\\29");
        assert_eq!(escape_login("hans\\/"), "hans\\5c\\2f");
        assert_eq!(escape_login("a\0b"), "a\0b");
    }

    #[test]
    fn login_filters_spec_3_4() {
        let uid = vec!["uid".to_owned()];
        let cases = [
            ("alice", "(&(objectClass=inetOrgPerson)(uid=alice))"),
            ("ALICE", "(&(objectClass=inetOrgPerson)(uid=ALICE))"),
            ("al*", "(&(objectClass=inetOrgPerson)(uid=al\\2a))"),
            ("*", "(&(objectClass=inetOrgPerson)(uid=\\2a))"),
            (
                "alice)(uid=*",
                "(&(objectClass=inetOrgPerson)(uid=alice\\29\\28uid=\\2a))",
            ),
            ("a\\b", "(&(objectClass=inetOrgPerson)(uid=a\\5cb))"),
            ("a/b", "(&(objectClass=inetOrgPerson)(uid=a\\2fb))"),
            (" alice ", "(&(objectClass=inetOrgPerson)(uid= alice ))"),
        ];
        for (login, want) in cases {
            assert_eq!(login_filter(F, &uid, login).unwrap(), want, "{login}");
        }
        let two = vec!["uid".to_owned(), "mail".to_owned()];
        assert_eq!(
            login_filter(F, &two, "bob@example.org").unwrap(),
            "(&(objectClass=inetOrgPerson)(|(uid=bob@example.org)(mail=bob@example.org)))"
        );
    }

    #[test]
    fn value_escaping_and_list_terms() {
        assert_eq!(escape_value("x\0(y)\\", true), "x\\00\\28y\\29\\5c");
        assert_eq!(escape_value("a*", false), "a\\2a");
        assert_eq!(escape_value("a/b", false), "a/b");
        assert_eq!(list_term("username", "uid", "a*", 0).unwrap(), "(uid=a*)");
        assert_eq!(list_term("surname", "sn", "***", 0), None);
        assert_eq!(list_term("surname", "sn", "*", 0), None);
        assert_eq!(list_term("surname", "sn", "", 0), None);
        assert_eq!(
            list_term("username", "uid", "*)(uid=*", 0).unwrap(),
            "(uid=*\\29\\28uid=*)"
        );
        assert_eq!(
            list_term("givenname", "givenName", "x\0(y)\\", 0).unwrap(),
            "(givenName=x\\00\\28y\\29\\5c)"
        );
        assert_eq!(
            list_term("accountExpires", "accountExpires", "1", 42).unwrap(),
            "(&(accountExpires<=42)(!(accountExpires=0)))"
        );
        assert_eq!(
            list_term("accountExpires", "accountExpires", "0", 42).unwrap(),
            "(&(accountExpires>=42)(!(accountExpires=0)))"
        );
        assert!(ad_ticks_now() > 130_000_000_000_000_000);
    }

    #[test]
    fn uid_filters() {
        assert_eq!(
            uid_filter(F, "entryUUID", "22222222-2222-4222-8222-222222222222").unwrap(),
            "(&(objectClass=inetOrgPerson)(entryUUID=22222222-2222-4222-8222-222222222222))"
        );
        assert_eq!(
            uid_filter(F, "uidNumber", "1*").unwrap(),
            "(&(objectClass=inetOrgPerson)(uidNumber=1\\2a))"
        );
        assert_eq!(uid_filter(F, "objectGUID", "not-a-guid"), None);
    }

    #[test]
    fn object_guid_spec_l56_l57() {
        let raw = hex::decode("a0fa44fa51e0b94fafa21e24c7fbaeb0").unwrap();
        assert_eq!(
            uid_from_bytes("objectGUID", &raw).unwrap(),
            "fa44faa0-e051-4fb9-afa2-1e24c7fbaeb0"
        );
        let edir = hex::decode("fa44faa0e0514fb9afa21e24c7fbaeb0").unwrap();
        assert_eq!(
            uid_from_bytes("GUID", &edir).unwrap(),
            "fa44faa0-e051-4fb9-afa2-1e24c7fbaeb0"
        );
        assert_eq!(uid_from_bytes("objectGUID", &[1, 2, 3]), None);
        assert_eq!(
            uid_assertion("objectGUID", "fa44faa0-e051-4fb9-afa2-1e24c7fbaeb0").unwrap(),
            "\\a0\\fa\\44\\fa\\51\\e0\\b9\\4f\\af\\a2\\1e\\24\\c7\\fb\\ae\\b0"
        );
        assert_eq!(
            uid_assertion("objectGUID", "{fa44faa0-e051-4fb9-afa2-1e24c7fbaeb0}").unwrap(),
            "\\a0\\fa\\44\\fa\\51\\e0\\b9\\4f\\af\\a2\\1e\\24\\c7\\fb\\ae\\b0"
        );
        // login with an objectGUID alternative: the GUID term is dropped for non-GUIDs
        let attrs = vec!["sAMAccountName".to_owned(), "objectGUID".to_owned()];
        assert_eq!(
            login_filter("(objectClass=user)", &attrs, "hans").unwrap(),
            "(&(objectClass=user)(|(sAMAccountName=hans)))"
        );
        assert_eq!(
            login_filter("(objectClass=user)", &attrs[1..], "hans"),
            None
        );
    }

    #[test]
    fn filter_checks_spec_l12() {
        assert_eq!(check_filter("(&(objectClass=inetOrgPerson))"), Ok(()));
        assert_eq!(
            check_filter("(&(objectClass=inetOrgPerson)"),
            Err("invalid filter")
        );
        assert_eq!(
            check_filter("(&objectClass=inetOrgPerson)"),
            Err("malformed filter")
        );
        assert_eq!(
            check_filter("(&(objectClass=person)(!(disabled=TRUE)))"),
            Ok(())
        );
    }

    fn only_escapes(v: &str) -> bool {
        let b = v.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'(' | b')' | b'*' => return false,
                b'\\' => {
                    if i + 2 >= b.len() {
                        return false;
                    }
                    if !(b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit()) {
                        return false;
                    }
                    i += 3;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        true
    }

    proptest::proptest! {
        /// Whatever a login contains, it stays one equality assertion: no
        /// unescaped `(`, `)`, `*`, `\`, and the whole filter parses.
        #[test]
        fn escaped_logins_never_change_the_filter(login in "[^\u{0}]{0,24}") {
            let esc = escape_login(&login);
            proptest::prop_assert!(only_escapes(&esc), "{esc}");
            let f = login_filter(F, &["uid".to_owned()], &login).unwrap();
            proptest::prop_assert!(check_filter(&f).is_ok(), "{f}");
            let v = escape_value(&login, false);
            proptest::prop_assert!(only_escapes(&v), "{v}");
        }
    }
}
