#![doc = include_str!("../README.md")]

mod background;
mod backoff;
pub mod cli;
mod commands;
mod doctor;
mod files;
mod flush;
mod hook;
mod install;
mod observe;
mod server;
mod shell;
mod signer;
mod snapshot;
mod spool;
mod state;
mod verify;
mod workspace;

pub use cli::{run, ClientCommand};
pub use flush::{flush, FlushBudget, FlushReport};
pub use hook::HookSource;
pub use server::{ItemResult, Patience, Redeemed, SendError, Server};
pub use spool::{Rejection, Spool};
pub use state::{SessionState, StateDir};
