//! Traceline's HTTP API: actix-web routes over the storage crate, plus the `traceline` binary's commands.
//!
//! [`create_app`] builds the one application that both `main` and the tests serve, so tests exercise exactly
//! what runs in production. Handlers stay thin: parse the request into domain types, call storage inside
//! `web::block`, map the result to a response body.

mod access;
mod app;
mod audit_trail;
mod auth;
pub mod background;
pub mod client_address;
mod closed_record;
pub mod commands;
pub mod config;
pub mod credentials;
mod dto;
pub mod error;
pub mod health;
mod ip_limit;
mod origin;
mod pages;
pub mod password;
pub mod principal;
pub mod random;
pub mod rate_limit;
mod request;
pub mod retention;
mod routes;
mod security_headers;
mod sign_in;
pub mod state;
pub mod telemetry;
pub mod webhooks;

pub use app::{create_app, run};
pub use config::Settings;
pub use error::ApiError;
pub use state::AppState;
