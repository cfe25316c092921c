//! pi-policy
