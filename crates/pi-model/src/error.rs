//! The validation error of policy writes.

use crate::pyrepr::{repr_str, repr_str_list};
use thiserror::Error;

/// Why a policy definition (or one of its parts) was rejected.
///
/// [`Display`](std::fmt::Display) gives privacyIDEA's bare message (without
/// the `ERR905: ` prefix the API adds); [`ValidationError::code`] gives its
/// error code. Messages that contain user input reproduce privacyIDEA's
/// wording exactly, including its Python list rendering.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    /// Reserved name (`check`, `pi-update-policy-*`).
    #[error("Invalid policy name: {0}")]
    ReservedName(String),
    /// Name outside `[a-zA-Z0-9_. -]`.
    #[error("The name of the policy may only contain the characters a-zA-Z0-9_. -")]
    NameCharset,
    /// Name with a space (create/update only, not rename).
    #[error("Policy name must not contain white spaces!")]
    NameWhitespace,
    /// A required request parameter is missing or empty.
    #[error("Missing parameter: {0}")]
    MissingParameter(String),
    /// Scope not in [`crate::scope::Scope::ALL`].
    #[error("Invalid scope '{scope}' in policy '{name}'!")]
    InvalidScope {
        /// The rejected scope.
        scope: String,
        /// The policy name.
        name: String,
    },
    /// Priority that is not an integer (privacyIDEA: unhandled `ValueError`, HTTP 500).
    #[error("Priority must be an integer, got {0}")]
    PriorityNotInteger(String),
    /// Priority beyond the database's integer column (privacyIDEA: HTTP 500).
    #[error("Priority must be an integer between 1 and 2147483647, got {0}")]
    PriorityOutOfRange(String),
    /// Priority ≤ 0.
    #[error("Priority must be at least 1")]
    PriorityTooSmall,
    /// `validate_values` found entries that are not configured.
    #[error("Undefined {label}: {}!", repr_str_list(.values))]
    UndefinedValues {
        /// Capitalised label (`User-realms`, `Resolvers`, `Privacyidea nodes`, `Admin realms`).
        label: String,
        /// The undefined entries (first-seen order).
        values: Vec<String>,
    },
    /// `validate_values` got something that is neither a string nor a list.
    #[error("Invalid {label} type '{type_repr}'!")]
    InvalidValuesType {
        /// Capitalised label.
        label: String,
        /// Python type rendering, e.g. `<class 'dict'>`.
        type_repr: String,
    },
    /// A field got a JSON type privacyIDEA cannot store (privacyIDEA: HTTP 500).
    #[error("Invalid type {type_repr} for parameter '{field}'!")]
    InvalidFieldType {
        /// Parameter name.
        field: String,
        /// Python type rendering.
        type_repr: String,
    },
    /// Time range that does not parse.
    #[error("Invalid time format '{0}'!")]
    InvalidTime(String),
    /// Client list that does not parse (code 302).
    #[error("Invalid client definition!")]
    InvalidClient,
    /// A condition with a wrong number of elements.
    #[error("Condition of policy '{name}' has {count} values, but should have 5 or 6.")]
    ConditionLength {
        /// Policy name.
        name: String,
        /// Number of elements given.
        count: usize,
    },
    /// A condition element failed validation (note the doubled `ERR905:`).
    #[error("Invalid condition of policy '{name}': ERR905: {inner}")]
    InvalidCondition {
        /// Policy name.
        name: String,
        /// What was wrong.
        inner: ConditionError,
    },
    /// Action given neither as string nor as object.
    #[error("Invalid actions type {0}. Must be a string or a dictionary.")]
    InvalidActionsType(String),
    /// Action given without scope on a new policy.
    #[error("Scope is required to set action values!")]
    ScopeRequired,
    /// Action names unknown in the scope.
    #[error("Invalid actions {}!", repr_str_list(.0))]
    InvalidActions(Vec<String>),
    /// An action value rejected by its evaluator (`realm_dropdown`).
    #[error("Invalid value for action '{action}': {message}")]
    InvalidActionValue {
        /// Action name.
        action: String,
        /// Evaluator message.
        message: String,
    },
    /// A list entry that is not a valid full-match regular expression
    /// (deviation: privacyIDEA stores it and fails with HTTP 500 at match time).
    #[error("Invalid {field} entry {}: not a valid regular expression!", repr_str(.entry))]
    InvalidRegex {
        /// Field name (`user`, `realm`, …).
        field: String,
        /// The entry.
        entry: String,
    },
}

impl ValidationError {
    /// privacyIDEA's error code: 302 for client definitions, else 905 (ParameterError).
    pub fn code(&self) -> i32 {
        match self {
            ValidationError::InvalidClient => 302,
            _ => 905,
        }
    }

    /// The bare message (same as `to_string()`).
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// Validation failure of one condition element (`PolicyConditionClass`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConditionError {
    /// Section unknown.
    #[error("Unknown section '{0}' set in condition.")]
    UnknownSection(String),
    /// Key not a non-empty string.
    #[error("Key must be a non-empty string. Got '{value}' of type '{type_repr}' instead.")]
    Key {
        /// `str()` of the given key.
        value: String,
        /// Python type rendering.
        type_repr: String,
    },
    /// Comparator unknown (aliases are rejected).
    #[error("Unknown comparator '{0}'.")]
    UnknownComparator(String),
    /// Value not a non-empty string.
    #[error("Value must be a non-empty string. Got '{value}' of type '{type_repr}' instead.")]
    Value {
        /// `str()` of the given value.
        value: String,
        /// Python type rendering.
        type_repr: String,
    },
    /// Active flag not a boolean.
    #[error("Active must be a boolean. Got '{value}' of type '{type_repr}' instead.")]
    Active {
        /// `str()` of the given flag.
        value: String,
        /// Python type rendering.
        type_repr: String,
    },
    /// handle_missing_data unknown.
    #[error("Unknown handle missing data value '{0}'!")]
    HandleMissingData(String),
}
