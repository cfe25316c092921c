#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod action;
pub mod client;
pub mod compare;
pub mod condition;
pub mod configobj;
pub mod defs;
pub mod error;
pub mod hash;
pub mod inline;
pub mod lists;
pub mod names;
pub mod pattern;
pub mod policy;
pub mod policyfile;
pub mod pyliteral;
pub mod pyrepr;
pub mod record;
pub mod role;
pub mod scope;
pub mod sqllike;
pub mod timerange;
pub mod tokentypes;

pub use action::{ActionInput, ActionMap, ActionValue};
pub use client::ClientList;
pub use condition::{Comparator, Condition, HandleMissingData, Section};
pub use error::{ConditionError, ValidationError};
pub use names::{check_policy_name, PolicyName};
pub use policy::{Policy, PolicyWrite, StoredCondition, ValidationContext};
pub use role::Role;
pub use scope::Scope;
pub use timerange::TimeRange;
