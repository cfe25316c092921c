//! Errors of policy matching.

use thiserror::Error;

/// A matching failure. [`Display`](std::fmt::Display) is privacyIDEA's bare
/// message; [`MatchError::code`] its error code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MatchError {
    /// privacyIDEA `ParameterError` (905, HTTP 400): empty client, user object
    /// conflicting with user/realm/resolver.
    #[error("{0}")]
    Parameter(String),
    /// privacyIDEA `PolicyError` (303, HTTP 403): condition failures,
    /// conflicting action values, unknown UI scope.
    #[error("{0}")]
    Policy(String),
    /// privacyIDEA `MatchingError` (903, HTTP 400): misuse of a `Match` helper.
    #[error("{0}")]
    Matching(String),
    /// The query's client is not an IP address and a client-restricted
    /// policy was reached (privacyIDEA: `AddrFormatError`, HTTP 500).
    #[error("Invalid client IP address `{0}`")]
    InvalidClientIp(String),
    /// `action_values` on a boolean action (privacyIDEA: `AttributeError`, HTTP 500).
    #[error("The action `{0}` has no value")]
    NotAValueAction(String),
    /// `check_for_conflicts` on a policy without the action (privacyIDEA: `KeyError`, HTTP 500).
    #[error("The policy `{policy}` does not define the action `{action}`")]
    MissingAction {
        /// Policy name.
        policy: String,
        /// Action.
        action: String,
    },
}

impl MatchError {
    /// privacyIDEA's error code (905, 303, 903; −500 for what privacyIDEA
    /// answers with an unhandled exception).
    pub fn code(&self) -> i32 {
        match self {
            MatchError::Parameter(_) => 905,
            MatchError::Policy(_) => 303,
            MatchError::Matching(_) => 903,
            MatchError::InvalidClientIp(_)
            | MatchError::NotAValueAction(_)
            | MatchError::MissingAction { .. } => -500,
        }
    }

    /// The bare message.
    pub fn message(&self) -> String {
        self.to_string()
    }
}
