//! pi-realm
