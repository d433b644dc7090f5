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
mod connection;
mod database;
pub mod diagnose;
mod error;
mod group_commit;
pub mod ingest;
pub mod lock;
mod marks;
pub mod migrations;
pub mod orgs;
pub mod outline;
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

pub use connection::{AnyConnection, Backend, DatabaseUrl};
pub use database::{Database, PoolSettings, DEFAULT_CONNECTION_TIMEOUT};
pub use error::StorageError;
pub use group_commit::{Overflow, PendingWrite, QueuedWrite};
pub use scope::SessionScope;
