//! privacyIDEA's SQL `LIKE` patterns (`convert_wildcard_to_like` in
//! `privacyidea/lib/utils`): `*` is the only wildcard; `%`, `_` and the
//! escape character `/` in a value are matched literally. Used by the
//! policy and audit queries of pi-store and by the SQL resolver, each with
//! `ESCAPE '/'`.

/// The escape character of every `LIKE` pattern built here.
pub const LIKE_ESCAPE: char = '/';

/// `value` with `/`, `%` and `_` escaped, so that `LIKE` matches it
/// literally: `100%/x` → `100/%//x`.
pub fn escape_like(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, LIKE_ESCAPE | '%' | '_') {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
}

/// `*` → `%`, every other piece escaped with [`escape_like`]:
/// `w*l_%/x` → `w%l/_/%//x`.
pub fn wildcard_to_like(value: &str) -> String {
    value
        .split('*')
        .map(escape_like)
        .collect::<Vec<_>>()
        .join("%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_the_release_converts() {
        let escaped = [
            ("wal_ter", "wal/_ter"),
            ("100%/x", "100/%//x"),
            ("a*b", "a*b"),
        ];
        for (value, want) in escaped {
            assert_eq!(escape_like(value), want, "{value}");
        }
        let wildcards = [
            ("w*l_%/x", "w%l/_/%//x"),
            ("*", "%"),
            ("**", "%%"),
            ("", ""),
            ("' OR 1=1 --*", "' OR 1=1 --%"),
            ("pol*", "pol%"),
            ("*a_b%c*", "%a/_b/%c%"),
            ("x/y", "x//y"),
            ("plain", "plain"),
            ("POST /policy*", "POST //policy%"),
            ("a_b%*", "a/_b/%%"),
        ];
        for (value, want) in wildcards {
            assert_eq!(wildcard_to_like(value), want, "{value}");
        }
    }
}
