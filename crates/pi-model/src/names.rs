//! Policy names.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Rules 1–2 of privacyIDEA's `check_policy_name`: reserved names
/// (`check`, `pi-update-policy-*`, case-insensitive) and the character set
/// `[a-zA-Z0-9_. -]`. This is all a **rename** checks (so a rename may
/// introduce spaces, quirk Q9).
pub fn check_policy_name(name: &str) -> Result<(), ValidationError> {
    let lower = name.to_ascii_lowercase();
    // Python's `re.search("^check$", name, re.I)` also accepts a trailing newline.
    if lower == "check" || lower == "check\n" || lower.starts_with("pi-update-policy-") {
        return Err(ValidationError::ReservedName(name.to_string()));
    }
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b' '));
    // `re.match('^[...]*$')` tolerates one trailing newline.
    let ok = ok
        || (name.ends_with('\n')
            && name[..name.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b' ')));
    if !ok {
        return Err(ValidationError::NameCharset);
    }
    Ok(())
}

/// A policy name accepted for create/update: [`check_policy_name`] plus
/// `set_policy`'s rule that it contains no space.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PolicyName(String);

impl PolicyName {
    /// Validate a name for create/update, in privacyIDEA's order.
    pub fn new(name: &str) -> Result<PolicyName, ValidationError> {
        check_policy_name(name)?;
        if name.contains(' ') {
            return Err(ValidationError::NameWhitespace);
        }
        Ok(PolicyName(name.to_string()))
    }

    /// Validate a new name for `PATCH /policy/<old>` (rules 1–2 only).
    pub fn for_rename(name: &str) -> Result<PolicyName, ValidationError> {
        check_policy_name(name)?;
        Ok(PolicyName(name.to_string()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for PolicyName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        PolicyName::new(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PolicyName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// privacyIDEA's realm-name rule: lower-cased, stripped, spaces become `-`,
/// then only `a-z`, `0-9`, `_`, `-` and `.` remain allowed. The normalised
/// name, or the message for an invalid one.
pub fn normalize_realm_name(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_lowercase().replace(' ', "-");
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(name)
    } else {
        Err(format!(
            "Invalid realm name `{raw}`: only the characters a-z, 0-9, '_', '-' and '.' are allowed."
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            PolicyName::new("check").unwrap_err().to_string(),
            "Invalid policy name: check"
        );
        assert!(PolicyName::new("CHECK").is_err());
        assert!(PolicyName::new("checks").is_ok());
        assert_eq!(
            PolicyName::new("Pi-Update-Policy-x")
                .unwrap_err()
                .to_string(),
            "Invalid policy name: Pi-Update-Policy-x"
        );
        assert_eq!(
            PolicyName::new("a/b").unwrap_err(),
            ValidationError::NameCharset
        );
        assert_eq!(
            PolicyName::new("invalid policy name")
                .unwrap_err()
                .to_string(),
            "Policy name must not contain white spaces!"
        );
        assert!(PolicyName::for_rename("x10 renamed").is_ok());
        assert!(PolicyName::new("defs").is_ok());
        assert!(PolicyName::new("").is_ok());
        assert_eq!(
            PolicyName::new("ä").unwrap_err(),
            ValidationError::NameCharset
        );
    }
}
