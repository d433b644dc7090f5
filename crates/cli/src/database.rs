//! Opening the database for a command: find out first whether it can be used (and say why not), then hold the
//! SQLite file's lock for as long as the command runs, so that a restore never swaps it out underneath.

use std::path::Path;

use traceline_api::commands;
use traceline_storage::lock::DatabaseLock;
use traceline_storage::{diagnose, Database, DatabaseUrl, PoolSettings};

use crate::failure::Failure;

/// Held for the life of a command that uses the database: the SQLite file's shared lock (nothing on
/// PostgreSQL, which has no file to restore under a server).
pub(crate) struct InUse {
    _lock: Option<DatabaseLock>,
}

/// Checks that the database can be used and takes its lock.
pub(crate) fn claim(url: &DatabaseUrl) -> Result<InUse, Failure> {
    diagnose::check(url)?;
    let lock = match url {
        DatabaseUrl::Sqlite { path } => Some(DatabaseLock::shared(Path::new(path))?),
        DatabaseUrl::Postgres { .. } => None,
    };
    Ok(InUse { _lock: lock })
}

/// The database of an operator command, checked, locked and migrated (so `org create` works on a brand-new
/// file). Keep the [`InUse`] until the command is done.
pub(crate) fn open_migrated(url: &DatabaseUrl) -> anyhow::Result<(Database, InUse)> {
    let in_use = claim(url)?;
    let database = Database::open(url, &PoolSettings::default());
    let applied = commands::migrate(&database)?;
    if !applied.is_empty() {
        log::info!("applied migrations: {}", applied.join(", "));
    }
    Ok((database, in_use))
}
