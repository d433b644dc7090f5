//! The file handling backups and restores share: what must exist first, temporary files beside the destination,
//! and making a finished file and its name durable.

use std::io;
use std::path::{Path, PathBuf};

use super::BackupError;

/// Every SQLite database file starts with these 16 bytes.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Fails unless `path` is an existing file that starts like a SQLite database, before anything is locked or
/// created on its behalf.
pub(super) fn require_database(path: &Path) -> Result<(), BackupError> {
    let not_found = || BackupError::NotFound { path: path.to_path_buf() };
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_dir() => {
            return Err(BackupError::IsADirectory { path: path.to_path_buf() })
        }
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Err(not_found()),
        Err(error) => return Err(BackupError::io(path, "read", error)),
    }
    let mut header = [0; 16];
    std::fs::File::open(path)
        .and_then(|mut file| io::Read::read_exact(&mut file, &mut header))
        .or_else(|error| match error.kind() {
            io::ErrorKind::UnexpectedEof => Ok(()),
            _ => Err(BackupError::io(path, "read", error)),
        })?;
    if &header == SQLITE_MAGIC {
        Ok(())
    } else {
        Err(BackupError::NotADatabase { path: path.to_path_buf() })
    }
}

/// The directory a new file at `path` goes into, which must exist.
pub(super) fn directory_of(path: &Path) -> Result<PathBuf, BackupError> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if directory.is_dir() {
        Ok(directory)
    } else {
        Err(BackupError::MissingDirectory { path: directory })
    }
}

/// Whether two paths name the same file (a missing file is nobody's twin).
pub(super) fn same_file(one: &Path, other: &Path) -> bool {
    match (std::fs::canonicalize(one), std::fs::canonicalize(other)) {
        (Ok(one), Ok(other)) => one == other,
        _ => false,
    }
}

/// A temporary file in `directory` that becomes `final_path` once complete (removed if dropped before).
pub(super) fn partial_file(
    directory: &Path,
    final_path: &Path,
) -> Result<tempfile::NamedTempFile, BackupError> {
    let name = final_path.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
    tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(directory)
        .map_err(|error| BackupError::io(directory, "create a file in", error))
}

/// Makes a completed file and its name durable: the data, then the rename in its directory.
pub(super) fn persist(
    partial: tempfile::NamedTempFile,
    destination: &Path,
    directory: &Path,
) -> Result<(), BackupError> {
    partial.as_file().sync_all().map_err(|error| BackupError::io(partial.path(), "sync", error))?;
    partial
        .persist(destination)
        .map_err(|error| BackupError::io(destination, "replace", error.error))?;
    sync_directory(directory)
}

/// fsyncs a directory, so a rename in it survives a power loss.
fn sync_directory(directory: &Path) -> Result<(), BackupError> {
    std::fs::File::open(directory)
        .and_then(|handle| handle.sync_all())
        .map_err(|error| BackupError::io(directory, "sync", error))
}
