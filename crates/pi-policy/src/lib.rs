#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod compiled;
mod custom;
mod engine;
mod error;
mod explain;
mod front;
mod index;
pub mod lint;
mod matcher;
mod query;
mod ui;
mod values;

pub use compiled::{FieldMatcher, RegexCache};
pub use custom::{
    convert_action_dict, parse_string_to_dict, CustomAttributes, DELETE_USER_ATTRIBUTES,
    SET_USER_ATTRIBUTES,
};
pub use engine::{Attribute, BuildContext, PolicySet};
pub use error::MatchError;
pub use explain::{ExplainEntry, Explanation, Outcome};
pub use front::{evaluate, Decision, Diagnostics, Principal, Reason, Request, Response};
pub use matcher::{GenericParams, LoggedInUser, Match, MatchContext};
pub use query::{
    ConditionCheck, ConditionInput, ContainerData, HttpData, Query, TokenData, UserObject,
};
pub use ui::menus_for_rights;
pub use values::{check_for_conflicts, extract_action_values, ActionValues};

/// The policy model this engine works on.
pub use pi_model;
/// The role of a logged-in caller (the workspace's one `Role` type).
pub use pi_model::Role;

#[cfg(test)]
mod tests;

// The README example uses serde_json; keep it a dev-visible dependency.
#[cfg(doctest)]
use serde_json as _;
