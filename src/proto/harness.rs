//! Two-peer in-memory harness.
