#![doc = include_str!("../README.md")]

pub mod api_keys;
mod connection;
mod database;
mod error;
pub mod migrations;
pub mod orgs;
mod rows;
mod schema;
pub mod sessions;

pub use connection::{AnyConnection, Backend, DatabaseUrl};
pub use database::{Database, PoolSettings};
pub use error::StorageError;
