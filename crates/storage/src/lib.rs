#![doc = include_str!("../README.md")]

mod aggregates;
pub mod api_keys;
pub mod artifacts;
pub mod assessments;
pub mod audit;
mod backend;
pub mod backup;
pub mod candidate_keys;
mod chain;
mod coalesce;
mod connection;
mod database;
pub mod deliveries;
pub mod diagnose;
pub mod erasure;
mod error;
mod fresh_plan;
mod group_commit;
pub mod heartbeat;
pub mod ingest;
mod ingest_committers;
pub mod ingest_together;
pub mod lock;
mod marks;
pub mod migrations;
pub mod orgs;
pub mod outbox;
pub mod outline;
mod pending;
pub mod retention;
mod retry;
mod rows;
mod schema;
mod scope;
pub mod scores;
pub mod session_state;
pub mod sessions;
pub mod sign_ins;
pub mod signed_log;
pub mod timeline;
pub mod users;
pub mod webhooks;
mod write_gate;
pub mod writer_stats;

pub use connection::{AnyConnection, Backend, DatabaseUrl};
pub use database::{
    Database, DatabaseStats, PoolSettings, PoolUse, DEFAULT_CONNECTION_TIMEOUT, DEFAULT_WRITE_WAIT,
};
pub use error::StorageError;
pub use pending::PendingWrite;
pub use scope::SessionScope;
