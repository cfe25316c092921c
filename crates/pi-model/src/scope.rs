//! Policy scopes.

use crate::error::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the eleven scopes privacyIDEA 3.14 accepts.
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
}

impl Scope {
    /// All scopes in privacyIDEA's validation order.
    pub const ALL: [Scope; 11] = [
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
