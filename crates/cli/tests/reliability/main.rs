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
mod pg_restart;
mod shutdown;

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Held by each test for its whole run. The tests measure timing (requests in flight at a signal, how fast a
/// 503 comes) and each loads both cores; run side by side they would measure each other.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}
