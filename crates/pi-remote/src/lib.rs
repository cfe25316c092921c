#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod client;
mod encode;
mod options;
mod target;

pub use client::{CheckKind, CheckOutcome, ClientError, RemoteClient};
pub use encode::{python_quote, ValueEncoding};
pub use options::{RemoteOptions, RemoteTarget};
pub use target::{
    check_endpoint, check_target, is_link_local_or_metadata, validate_url, HostPattern,
    PatternError, TargetError, UrlError, METADATA_HOST_NAMES,
};
