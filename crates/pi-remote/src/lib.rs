//! pi-remote
