//! `traceline backup`: a consistent copy of a live SQLite database, checked, then renamed into place.

use std::path::Path;

use super::copy::{check_paths, checked_copy};
use super::files::persist;
use super::sqlite_file::{Access, Contents};
use super::BackupError;
use crate::lock::DatabaseLock;

/// Writes a snapshot of the SQLite database at `database` to `destination`, replacing any file there only once
/// the new one is complete, checked and synced. Runs beside a serving server: the snapshot holds every write
/// committed before it began, and the server keeps writing meanwhile.
pub fn snapshot(database: &Path, destination: &Path) -> Result<Contents, BackupError> {
    let directory = check_paths(database, destination)?;
    // Shared, like a server's: a restore cannot swap the database out from under the copy.
    let _lock = DatabaseLock::shared(database)?;
    let copy = checked_copy(database, Access::ReadWrite, &directory, destination)?;
    persist(copy.file, destination, &directory)?;
    Ok(copy.contents)
}
