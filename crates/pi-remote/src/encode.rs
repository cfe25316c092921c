//! How `user` and `pass` values are prepared before form encoding.

use serde::{Deserialize, Serialize};

/// How the `user` and `pass` values are encoded in the form body.
///
/// The body is always `application/x-www-form-urlencoded`, form-encoded once
/// by the HTTP client. This setting decides what is form-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueEncoding {
    /// privacyIDEA's way (the default): each value is first percent-encoded
    /// like Python's `urllib.parse.quote` (everything but ASCII letters,
    /// digits, `_.-~/` becomes `%XX` of its UTF-8 bytes) and then
    /// form-encoded. A receiving privacyIDEA form-decodes and then
    /// percent-decodes form values once more (spec/realm-auth-server.md §0.1), so it sees exactly
    /// the original value: `pw_w_%123` goes over the wire as
    /// `pw_w_%2525123`, is the form value `pw_w_%25123`, and is checked as
    /// `pw_w_%123`.
    #[default]
    PrivacyIdea,
    /// Plain form encoding only: the form value the receiver sees is the
    /// original value. Only right for receivers that do not percent-decode
    /// form values again; a privacyIDEA receiver would turn `%12` in a
    /// password into a control character and reject a correct password.
    Plain,
}

impl ValueEncoding {
    /// The form value to send for `value` under this encoding.
    #[must_use]
    pub fn prepare(self, value: &str) -> String {
        match self {
            ValueEncoding::PrivacyIdea => python_quote(value),
            ValueEncoding::Plain => value.to_owned(),
        }
    }
}

/// Percent-encodes `value` like Python's `urllib.parse.quote(value)` with its
/// default `safe="/"`: ASCII letters, digits, `_`, `.`, `-`, `~` and `/` stay,
/// every other UTF-8 byte becomes `%XX` (upper-case hex).
#[must_use]
pub fn python_quote(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for &byte in value.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'-' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_python() {
        // Values computed with CPython 3: urllib.parse.quote(x)
        let cases = [
            ("pw_w_%123", "pw_w_%25123"),
            ("a b+c&d=e", "a%20b%2Bc%26d%3De"),
            ("/path/x", "/path/x"),
            ("AZaz09_.-~", "AZaz09_.-~"),
            ("ü€", "%C3%BC%E2%82%AC"),
            ("", ""),
            (
                "?#[]@!$'()*,;:",
                "%3F%23%5B%5D%40%21%24%27%28%29%2A%2C%3B%3A",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(python_quote(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn plain_is_identity() {
        assert_eq!(ValueEncoding::Plain.prepare("a%b c"), "a%b c");
        assert_eq!(ValueEncoding::PrivacyIdea.prepare("a%b c"), "a%25b%20c");
    }
}
