//! Splitting `user@realm` / `realm\user`, and the realm precedence rules of
//! `/auth` and of the other endpoints.

/// Splits a user string into (login, realm) like privacyIDEA's `split_user`.
///
/// The input is trimmed first. With `split_at_sign` (system config
/// `splitAtSign`, default true):
/// * if it contains `@`, it is split at the **last** `@` only if the part
///   after it is an existing realm (`realm_exists` is called with that part
///   lower-cased); otherwise the whole string is the login and no `\` split
///   is tried;
/// * else, if it contains `\`, it is split at the last `\` into
///   (realm, login) **unconditionally**.
///
/// Without `split_at_sign` nothing is split. The realm is returned as typed
/// (not lower-cased); an empty realm part gives `None`.
pub fn split_user(
    s: &str,
    split_at_sign: bool,
    realm_exists: impl Fn(&str) -> bool,
) -> (String, Option<String>) {
    let user = s.trim();
    if !split_at_sign {
        return (user.to_owned(), None);
    }
    if let Some((login, realm)) = user.rsplit_once('@') {
        if realm_exists(&realm.to_lowercase()) {
            return (login.to_owned(), non_empty(realm));
        }
        return (user.to_owned(), None);
    }
    if let Some((realm, login)) = user.rsplit_once('\\') {
        return (login.to_owned(), non_empty(realm));
    }
    (user.to_owned(), None)
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The realm parameter of `/auth` names no existing realm.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown realm `{0}`")]
pub struct UnknownRealm(pub String);

/// Login name and realm for `POST /auth` (and `/validate/check`), per the
/// precedence table of privacyIDEA's `doc/configuration/realms.rst`:
///
/// 1. a non-empty `realm_param` that is not an existing realm is an error
///    ([`UnknownRealm`], privacyIDEA: `Authentication failure. Unknown realm: <r>.`);
/// 2. `username` is split with [`split_user`];
/// 3. realm = non-empty `realm_param`, else the split realm, else
///    `default_realm`; lower-cased. An empty `realm_param` counts as absent.
///
/// The realm is `""` if none applies (no default realm). `realm_exists` is
/// called with lower-cased names.
pub fn auth_user_realm(
    username: &str,
    realm_param: Option<&str>,
    split_at_sign: bool,
    realm_exists: impl Fn(&str) -> bool,
    default_realm: Option<&str>,
) -> Result<(String, String), UnknownRealm> {
    let realm_param = realm_param.filter(|r| !r.is_empty());
    if let Some(r) = realm_param {
        if !realm_exists(&r.to_lowercase()) {
            return Err(UnknownRealm(r.to_owned()));
        }
    }
    let (login, split_realm) = split_user(username, split_at_sign, &realm_exists);
    let realm = realm_param
        .map(str::to_owned)
        .or(split_realm)
        .or_else(|| default_realm.filter(|r| !r.is_empty()).map(str::to_owned))
        .unwrap_or_default();
    Ok((login, realm.to_lowercase()))
}

/// Login name and realm from the `user`/`realm` request parameters of the
/// non-auth endpoints (privacyIDEA's `get_user_from_param`):
///
/// `user` is split with [`split_user`]; if the `realm` parameter is present
/// at all it overrides the split realm — **even when empty**; then, if the
/// login is non-empty and the realm empty, the default realm is used. The
/// realm is lower-cased (as `User` does). No existence check.
pub fn param_user_realm(
    user: Option<&str>,
    realm_param: Option<&str>,
    split_at_sign: bool,
    realm_exists: impl Fn(&str) -> bool,
    default_realm: Option<&str>,
) -> (String, String) {
    let (login, split_realm) = match user {
        Some(u) => split_user(u, split_at_sign, realm_exists),
        None => (String::new(), None),
    };
    let mut realm = match realm_param {
        Some(r) => r.to_owned(),
        None => split_realm.unwrap_or_default(),
    };
    if !login.is_empty() && realm.is_empty() {
        realm = default_realm.unwrap_or_default().to_owned();
    }
    (login, realm.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exists(r: &str) -> bool {
        assert_eq!(r, r.to_lowercase(), "realm_exists gets lower-case names");
        ["realm1", "realm2", "realm3"].contains(&r)
    }

    #[test]
    fn split_table() {
        let cases: &[(&str, bool, &str, Option<&str>)] = &[
            ("user", true, "user", None),
            ("user@realm1", true, "user", Some("realm1")),
            ("user@Realm1", true, "user", Some("Realm1")),
            ("user@test", true, "user@test", None),
            ("me@mail.com@realm1", true, "me@mail.com", Some("realm1")),
            ("me@realm1@mail.com", true, "me@realm1@mail.com", None),
            ("realm1\\user", true, "user", Some("realm1")),
            ("nosuch\\user", true, "user", Some("nosuch")),
            ("a\\b\\user", true, "user", Some("a\\b")),
            ("dom\\user@unknown", true, "dom\\user@unknown", None),
            ("\\user", true, "user", None),
            ("user@", true, "user@", None),
            ("  user@realm1  ", true, "user", Some("realm1")),
            ("user@realm1", false, "user@realm1", None),
            ("realm1\\user", false, "realm1\\user", None),
            ("", true, "", None),
        ];
        for &(input, split, login, realm) in cases {
            let got = split_user(input, split, exists);
            assert_eq!(
                got,
                (login.to_owned(), realm.map(str::to_owned)),
                "{input:?} split={split}"
            );
        }
    }

    /// Rows of the precedence table in spec/realm-auth-server.md §3.5 (`defrealm` = realm3).
    #[test]
    fn auth_precedence_table() {
        type Row = (
            &'static str,
            Option<&'static str>,
            bool,
            Result<(&'static str, &'static str), &'static str>,
        );
        let rows: &[Row] = &[
            ("user", None, true, Ok(("user", "realm3"))),
            ("user", None, false, Ok(("user", "realm3"))),
            ("user", Some("realm1"), true, Ok(("user", "realm1"))),
            ("user", Some("realm1"), false, Ok(("user", "realm1"))),
            ("user", Some("unknown"), true, Err("unknown")),
            ("user", Some("unknown"), false, Err("unknown")),
            ("user@realm1", None, true, Ok(("user", "realm1"))),
            ("user@realm1", None, false, Ok(("user@realm1", "realm3"))),
            ("user@realm1", Some("realm2"), true, Ok(("user", "realm2"))),
            (
                "user@realm1",
                Some("realm2"),
                false,
                Ok(("user@realm1", "realm2")),
            ),
            ("user@unknown", None, true, Ok(("user@unknown", "realm3"))),
            ("user@unknown", None, false, Ok(("user@unknown", "realm3"))),
            (
                "user@unknown",
                Some("realm1"),
                true,
                Ok(("user@unknown", "realm1")),
            ),
            (
                "user@unknown",
                Some("realm1"),
                false,
                Ok(("user@unknown", "realm1")),
            ),
            // empty realm param is absent at /auth (cases 65, 70)
            ("user", Some(""), true, Ok(("user", "realm3"))),
            ("user@realm1", Some(""), true, Ok(("user", "realm1"))),
            // realm param wins and is lower-cased (cases 64, 66, 73)
            ("user@realm3", Some("Realm1"), true, Ok(("user", "realm1"))),
            ("user@realm1", Some("nosuch"), true, Err("nosuch")),
            ("user@Realm1", None, true, Ok(("user", "realm1"))),
        ];
        for &(user, param, split, want) in rows {
            let got = auth_user_realm(user, param, split, exists, Some("realm3"));
            let want = want
                .map(|(l, r)| (l.to_owned(), r.to_owned()))
                .map_err(|r| UnknownRealm(r.to_owned()));
            assert_eq!(got, want, "{user:?} {param:?} split={split}");
        }
        // no default realm
        assert_eq!(
            auth_user_realm("user", None, true, exists, None),
            Ok(("user".into(), String::new()))
        );
        assert_eq!(UnknownRealm("x".into()).to_string(), "unknown realm `x`");
    }

    #[test]
    fn param_precedence_table() {
        type Row = (
            Option<&'static str>,
            Option<&'static str>,
            bool,
            (&'static str, &'static str),
        );
        let rows: &[Row] = &[
            (Some("cornelius"), None, true, ("cornelius", "realm3")),
            (
                Some("cornelius@realm1"),
                None,
                true,
                ("cornelius", "realm1"),
            ),
            // realm key present but empty overrides the split realm, then default
            (
                Some("cornelius@realm1"),
                Some(""),
                true,
                ("cornelius", "realm3"),
            ),
            (
                Some("cornelius@realm1"),
                Some("realm2"),
                true,
                ("cornelius", "realm2"),
            ),
            (
                Some("cornelius"),
                Some("Unknown"),
                true,
                ("cornelius", "unknown"),
            ),
            (
                Some("cornelius@realm1"),
                None,
                false,
                ("cornelius@realm1", "realm3"),
            ),
            (None, Some("realm1"), true, ("", "realm1")),
            (None, None, true, ("", "")),
            (Some(""), None, true, ("", "")),
        ];
        for &(user, param, split, (login, realm)) in rows {
            let got = param_user_realm(user, param, split, exists, Some("realm3"));
            assert_eq!(
                got,
                (login.to_owned(), realm.to_owned()),
                "{user:?} {param:?} split={split}"
            );
        }
    }
}
