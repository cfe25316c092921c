//! Placeholder library so the integration-test package builds; the tests live in `integration/`.
