//! `traceline backup`: a consistent copy of a live SQLite database, checked, then renamed into place.

use std::path::Path;

use diesel::sql_types::Text;
use diesel::RunQueryDsl;

use super::sqlite_file::{inspect, open_existing, uri, Access, Contents};
use super::{directory_of, partial_file, persist, require_database, same_file, BackupError};
use crate::lock::DatabaseLock;

/// Writes a snapshot of the SQLite database at `database` to `destination`, replacing any file there only once
/// the new one is complete, checked and synced. Runs beside a serving server: the snapshot holds every write
/// committed before it began, and the server keeps writing meanwhile.
pub fn snapshot(database: &Path, destination: &Path) -> Result<Contents, BackupError> {
    require_database(database)?;
    let directory = directory_of(destination)?;
    if destination.is_dir() {
        return Err(BackupError::IsADirectory { path: destination.to_path_buf() });
    }
    if same_file(database, destination) {
        return Err(BackupError::SameFile { path: destination.to_path_buf() });
    }
    // Shared, like a server's: a restore cannot swap the database out from under the copy.
    let _lock = DatabaseLock::shared(database)?;
    let partial = partial_file(&directory, destination)?;
    copy_consistently(database, Access::ReadWrite, partial.path())?;
    let contents = inspect(partial.path()).map_err(|error| error.about(database))?;
    persist(partial, destination, &directory)?;
    Ok(contents)
}

/// `VACUUM INTO` the empty file `into`: one read transaction over `source`, so the copy holds exactly the
/// commits made before it began (those still in a write-ahead log included), compacted, in one file.
pub(super) fn copy_consistently(
    source: &Path,
    access: Access,
    into: &Path,
) -> Result<(), BackupError> {
    let mut connection = open_existing(source, access)?;
    // The destination is bound as a value (VACUUM INTO takes an expression), never spliced into the SQL.
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(uri(into)?)
        .execute(&mut connection)
        .map_err(|error| BackupError::sqlite(source, "copy", error))?;
    Ok(())
}
