//! Server settings, built once in `main` from flags and environment and passed down; never global.

use traceline_storage::{DatabaseUrl, PoolSettings};

/// Default request body limit: 1 MiB (spec §1).
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// Everything the HTTP server needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the database is.
    pub database_url: DatabaseUrl,
    /// Pool sizes and timeouts.
    pub pool: PoolSettings,
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub body_limit_bytes: usize,
}

impl Settings {
    /// Settings with the documented defaults for a database.
    pub fn new(database_url: DatabaseUrl) -> Self {
        Self {
            database_url,
            pool: PoolSettings::default(),
            body_limit_bytes: DEFAULT_BODY_LIMIT_BYTES,
        }
    }
}
