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

mod copy;
mod files;
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

#[cfg(test)]
mod tests;
