//! Traceline's end-to-end suite: one integration binary, every behavioural test on SQLite and on PostgreSQL.
//!
//! PostgreSQL tests use the server at `TRACELINE_TEST_DATABASE_URL` (default: the local one) and fail, never
//! skip, when it does not answer.

#![expect(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test fails by panicking, with the expectation as its message"
)]

mod harness;

mod accounts;
mod api_keys;
mod assessments;
mod audit;
mod auth;
mod candidate_access;
mod candidate_keys;
mod client_address;
mod closed_record;
mod coalesced_ingest;
mod compact_events;
mod concurrent_writes;
mod errors;
mod ingest;
mod metrics;
mod openapi;
mod pages;
mod rate_limits;
mod retention;
mod review;
mod review_views;
mod sessions_api;
mod signed_events;
mod storage_ingest;
mod storage_retries;
mod storage_sessions;
mod tenancy;
mod timeline;
mod vocabulary;
mod webhooks;
