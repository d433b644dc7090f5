//! What backup and restore both do: check the two paths, then copy one SQLite file beside the other with
//! `VACUUM INTO` and check the copy, leaving it to the caller to rename into place.

use std::path::{Path, PathBuf};

use diesel::sql_types::Text;
use diesel::RunQueryDsl;
use tempfile::NamedTempFile;

use super::files::{directory_of, partial_file, require_database, same_file};
use super::sqlite_file::{inspect, open_existing, uri, Access, Contents};
use super::BackupError;

/// Checks, before anything is locked or created, that `source` is a SQLite file and that `destination` can be
/// written in its own directory without being `source`. Returns that directory.
pub(super) fn check_paths(source: &Path, destination: &Path) -> Result<PathBuf, BackupError> {
    require_database(source)?;
    let directory = directory_of(destination)?;
    if destination.is_dir() {
        return Err(BackupError::IsADirectory { path: destination.to_path_buf() });
    }
    if same_file(source, destination) {
        return Err(BackupError::SameFile { path: destination.to_path_buf() });
    }
    Ok(directory)
}

/// A copy of a database, complete and checked, in a temporary file not yet renamed into place.
pub(super) struct CheckedCopy {
    /// The temporary file, removed if dropped.
    pub(super) file: NamedTempFile,
    /// What it holds.
    pub(super) contents: Contents,
}

/// Copies `source` into a temporary file in `directory` named after `destination`, then checks the copy
/// (`inspect`); a finding is reported about `source`, the file the operator named.
pub(super) fn checked_copy(
    source: &Path,
    access: Access,
    directory: &Path,
    destination: &Path,
) -> Result<CheckedCopy, BackupError> {
    let file = partial_file(directory, destination)?;
    copy_consistently(source, access, file.path())?;
    let contents = inspect(file.path()).map_err(|error| error.about(source))?;
    Ok(CheckedCopy { file, contents })
}

/// `VACUUM INTO` the empty file `into`: one read transaction over `source`, so the copy holds exactly the
/// commits made before it began (those still in a write-ahead log included), compacted, in one file.
fn copy_consistently(source: &Path, access: Access, into: &Path) -> Result<(), BackupError> {
    let mut connection = open_existing(source, access)?;
    // The destination is bound as a value (VACUUM INTO takes an expression), never spliced into the SQL.
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(uri(into)?)
        .execute(&mut connection)
        .map_err(|error| BackupError::sqlite(source, "copy", error))?;
    Ok(())
}
