#![doc = include_str!("../README.md")]

pub mod ceiling;
pub mod database;
pub mod http;
pub mod load;
pub mod payload;
pub mod response;
pub mod rng;
pub mod server;
pub mod workload;

/// Tells the person running the bench or the test what is happening.
#[expect(clippy::print_stdout, reason = "reporting each step is what the tooling is for")]
pub fn say(message: &str) {
    println!("{message}");
}
