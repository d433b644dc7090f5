//! Backing up and restoring the SQLite database: `traceline backup` and `traceline restore`.
//!
//! A backup is `VACUUM INTO` a temporary file beside the destination: one read transaction, so it is a
//! consistent snapshot of every commit made before it began, taken while the server keeps ingesting (in WAL mode
//! a reader never blocks the writer). The copy is then checked with `PRAGMA integrity_check`, synced, and renamed
//! over the destination, so the destination is always either the previous backup or the complete new one.
//!
//! A restore takes the database's lock exclusively (see [`crate::lock`]), so it refuses while a server or any
//! other command uses the database. It copies the backup beside the database, checks the copy (integrity,
//! Traceline's schema, no migration newer than this build), sets the current database aside as
//! `<database>.before-restore-<UTC time>` together with its write-ahead log, and renames the copy into place.
//!
//! PostgreSQL has its own tools (`pg_dump`, `pg_restore`); nothing here applies to it.

mod restore;
mod snapshot;
mod sqlite_file;

use std::error::Error;
use std::io;
use std::path::{Path, PathBuf};

pub use restore::{restore, Restored};
pub use snapshot::snapshot;
pub use sqlite_file::Contents;

use crate::lock::LockError;

/// Why a backup or a restore did not happen. In every case the destination is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The file to read does not exist.
    #[error("{} does not exist", path.display())]
    NotFound {
        /// The missing file.
        path: PathBuf,
    },
    /// A file was expected, and a directory found.
    #[error("{} is a directory, not a file", path.display())]
    IsADirectory {
        /// The directory.
        path: PathBuf,
    },
    /// The directory that should hold the new file does not exist.
    #[error("the directory {} does not exist", path.display())]
    MissingDirectory {
        /// The missing directory.
        path: PathBuf,
    },
    /// Source and destination are the same file.
    #[error("{} is the database itself", path.display())]
    SameFile {
        /// The file named twice.
        path: PathBuf,
    },
    /// The file is not a SQLite database at all.
    #[error("{} is not a SQLite database", path.display())]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// The file is a SQLite database, but not one of Traceline's.
    #[error("{} is a SQLite database, but not a Traceline one", path.display())]
    NotTraceline {
        /// The file.
        path: PathBuf,
    },
    /// `PRAGMA integrity_check` found problems (the first few are listed).
    #[error("{} is damaged: {}", path.display(), findings.join("; "))]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What SQLite reported.
        findings: Vec<String>,
    },
    /// The backup has migrations this build does not know: it was made by a newer version.
    #[error("{} was written by a newer traceline (unknown migrations: {})", path.display(), unknown.join(", "))]
    TooNew {
        /// The backup.
        path: PathBuf,
        /// The migration versions this build lacks.
        unknown: Vec<String>,
    },
    /// The database's lock is held by another process.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// SQLite failed.
    #[error("could not {action} {}", path.display())]
    Sqlite {
        /// The file SQLite was working on.
        path: PathBuf,
        /// What was being done: open, copy, check, read.
        action: &'static str,
        /// SQLite's error.
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
    /// The file system failed.
    #[error("could not {action} {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done: create, copy, sync, rename.
        action: &'static str,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
}

impl BackupError {
    /// Classifies a SQLite failure on `path`: the two that mean "this file is not usable" get variants of their
    /// own, so the operator is told about the file rather than about SQLite.
    fn sqlite(
        path: &Path,
        action: &'static str,
        error: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> Self {
        let source = error.into();
        let message = source.to_string();
        let path = path.to_path_buf();
        if message.contains("file is not a database") {
            BackupError::NotADatabase { path }
        } else if message.contains("malformed") {
            BackupError::Damaged { path, findings: vec![message] }
        } else {
            BackupError::Sqlite { path, action, source }
        }
    }

    /// The same finding, about the file the operator named rather than the temporary copy it was made on.
    fn about(self, named: &Path) -> Self {
        let path = named.to_path_buf();
        match self {
            BackupError::NotADatabase { .. } => BackupError::NotADatabase { path },
            BackupError::NotTraceline { .. } => BackupError::NotTraceline { path },
            BackupError::Damaged { findings, .. } => BackupError::Damaged { path, findings },
            other => other,
        }
    }

    fn io(path: &Path, action: &'static str, source: io::Error) -> Self {
        BackupError::Io { path: path.to_path_buf(), action, source }
    }
}

/// Every SQLite database file starts with these 16 bytes.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Fails unless `path` is an existing file that starts like a SQLite database, before anything is locked or
/// created on its behalf.
fn require_database(path: &Path) -> Result<(), BackupError> {
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
fn directory_of(path: &Path) -> Result<PathBuf, BackupError> {
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
fn same_file(one: &Path, other: &Path) -> bool {
    match (std::fs::canonicalize(one), std::fs::canonicalize(other)) {
        (Ok(one), Ok(other)) => one == other,
        _ => false,
    }
}

/// A temporary file in `directory` that becomes `final_path` once complete (removed if dropped before).
fn partial_file(
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
fn persist(
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

#[cfg(test)]
mod tests;
