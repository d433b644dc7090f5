//! Black-box tests of the `traceline` binary: real processes over real HTTP. The operator commands and `serve`;
//! the candidate's capture client driven as the tools drive it. The rest of the suite drives the same app in
//! process (`tests/it`).

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails by panicking, with the expectation as its message"
)]

mod backup;
mod candidate;
mod capture;
mod contention;
mod delivery;
mod doctor;
mod health;
mod instances;
mod isolation;
mod metrics;
mod operator;
mod person;
mod proxy;
mod startup;
#[path = "../support/mod.rs"]
#[expect(dead_code, reason = "the reliability tests use the rest of the shared support")]
mod support;
mod verify;
mod webhooks;
