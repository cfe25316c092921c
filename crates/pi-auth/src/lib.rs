//! pi-auth
