//! End-to-end tests: the real `pi-server` binary, real HTTP, a fresh database per test.

// The whole binary is test code: failing fast with a message is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod audit;
mod auth_users;
mod cluster;
mod etag;
mod foundation;
mod ldap;
mod lint;
mod manage;
mod nodes;
mod ops;
mod policy_api;
mod realm;
mod release;
mod remote;
mod resolver;
mod sql_resolver;
mod transfer;
mod webui;
