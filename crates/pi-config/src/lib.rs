//! pi-config
