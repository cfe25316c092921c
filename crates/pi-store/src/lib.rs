//! pi-store
