//! Reliability tests of the real `traceline` binary: SIGKILL during ingest and restart (with a longer soak
//! run), SIGTERM during load, and a PostgreSQL restart under load. docs/RELIABILITY.md records their runs.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking, with the expectation as its message"
)]

#[path = "../support/mod.rs"]
#[expect(dead_code, reason = "binary.rs uses the rest of the shared support")]
mod support;

mod crash;
mod fixture;
mod pg_cluster;
mod pg_restart;
mod shutdown;
mod workload;
