#![doc = include_str!("../README.md")]

mod backoff;
pub mod cli;
mod files;
mod flush;
mod hook;
mod install;
mod server;
mod signer;
mod spool;
mod state;
mod verify;
mod workspace;

pub use cli::{run, ClientCommand};
pub use flush::{flush, FlushBudget, FlushReport};
pub use server::{ItemResult, Patience, Redeemed, SendError, Server};
pub use spool::{Rejection, Spool, SpoolGuard};
pub use state::{SessionState, StateDir};
