//! Policy scopes.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the twelve scopes privacyIDEA 3.14 accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `authorization`
    Authorization,
    /// `admin`
    Admin,
    /// `authentication`
    Authentication,
    /// `audit` (valid, but has no actions)
    Audit,
    /// `user`
    User,
    /// `enrollment`
    Enrollment,
    /// `webui`
    Webui,
    /// `register`
    Register,
    /// `container`
    Container,
    /// `token`
    Token,
    /// `hardening`
    Hardening,
    /// `conditional_access` (released 3.14)
    #[serde(rename = "conditional_access")]
    ConditionalAccess,
}

impl Scope {
    /// All scopes in privacyIDEA's validation order.
    pub const ALL: [Scope; 12] = [
        Scope::Authorization,
        Scope::Admin,
        Scope::Authentication,
        Scope::Audit,
        Scope::User,
        Scope::Enrollment,
        Scope::Webui,
        Scope::Register,
        Scope::Container,
        Scope::Token,
        Scope::Hardening,
        Scope::ConditionalAccess,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Authorization => "authorization",
            Scope::Admin => "admin",
            Scope::Authentication => "authentication",
            Scope::Audit => "audit",
            Scope::User => "user",
            Scope::Enrollment => "enrollment",
            Scope::Webui => "webui",
            Scope::Register => "register",
            Scope::Container => "container",
            Scope::Token => "token",
            Scope::Hardening => "hardening",
            Scope::ConditionalAccess => "conditional_access",
        }
    }

    /// Exact (case-sensitive) lookup of a wire name.
    pub fn from_name(s: &str) -> Option<Scope> {
        Scope::ALL.iter().copied().find(|x| x.as_str() == s)
    }

    /// Validating constructor: privacyIDEA's error for an unknown scope.
    pub fn parse(scope: &str, policy_name: &str) -> Result<Scope, ValidationError> {
        Scope::from_name(scope).ok_or_else(|| ValidationError::InvalidScope {
            scope: scope.to_string(),
            name: policy_name.to_string(),
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditional_access_is_a_scope() {
        // privacyIDEA 3.14 (released) accepts it and serves its definitions.
        assert_eq!(
            Scope::parse("conditional_access", "p").unwrap(),
            Scope::ConditionalAccess
        );
        assert_eq!(
            serde_json::to_string(&Scope::ConditionalAccess).unwrap(),
            "\"conditional_access\""
        );
        assert!(crate::defs::policy_defs()
            .scope("conditional_access")
            .is_some());
        for s in Scope::ALL {
            assert_eq!(Scope::from_name(s.as_str()), Some(s));
        }
    }
}
