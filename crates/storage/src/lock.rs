//! The lock every `traceline` process holds beside a SQLite database while it uses it, so that `restore` can
//! tell, reliably, that a server is running on the file it is about to replace.
//!
//! The lock is an advisory `flock` on a file of its own, `<database>.lock`, never on the database: SQLite's own
//! locks come and go with transactions and pooled connections (an idle server may hold none), and a restore
//! replaces the database file, so a lock on it would not carry over to the new one. The operating system drops
//! the lock when the process ends, however it ends (SIGKILL included), so a crash leaves no stale lock behind,
//! and the lock file itself is never deleted: deleting it could let two processes lock two different files.
//!
//! Servers and operator commands hold the lock shared (several may run at once, as SQLite allows); `restore`
//! holds it exclusively, so it runs only when nothing else does, and nothing starts while it runs.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock in a mode that excludes ours.
    #[error("{} is in use by another traceline process (lock {})", database.display(), lock.display())]
    Held {
        /// The database the lock guards.
        database: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// Whether we asked for the exclusive lock (restore) rather than the shared one.
        exclusive: bool,
    },
    /// The lock file could not be opened, created or locked.
    #[error("could not lock {}", lock.display())]
    Io {
        /// The lock file.
        lock: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
}

/// A held lock on a SQLite database; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

impl DatabaseLock {
    /// Takes the lock shared, as every process that reads or writes the database does. Fails at once with
    /// [`LockError::Held`] while a restore holds it.
    pub fn shared(database: &Path) -> Result<Self, LockError> {
        Self::take(database, false)
    }

    /// Takes the lock exclusively, as `restore` does. Fails at once with [`LockError::Held`] while any other
    /// process (a server, an operator command, a backup) holds it.
    pub fn exclusive(database: &Path) -> Result<Self, LockError> {
        Self::take(database, true)
    }

    fn take(database: &Path, exclusive: bool) -> Result<Self, LockError> {
        let lock = lock_path(database);
        let io_error = |source| LockError::Io { lock: lock.clone(), source };
        let file = open_or_create(&lock).map_err(io_error)?;
        let locked = if exclusive { file.try_lock() } else { file.try_lock_shared() };
        match locked {
            Ok(()) => Ok(DatabaseLock { _file: file }),
            Err(TryLockError::WouldBlock) => {
                Err(LockError::Held { database: database.to_path_buf(), lock, exclusive })
            }
            Err(TryLockError::Error(source)) => Err(io_error(source)),
        }
    }
}

/// `<database>.lock`, beside the database.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Opens the lock file read-only when it exists, so a service user can lock a file an administrator created
/// (`flock` needs no write access); creates it otherwise.
fn open_or_create(lock: &Path) -> io::Result<File> {
    match File::open(lock) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            OpenOptions::new().write(true).create(true).truncate(false).open(lock)
        }
        opened => opened,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_locks_coexist_and_exclude_the_exclusive_one() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("traceline.db");
        let server = DatabaseLock::shared(&database).unwrap();
        let command = DatabaseLock::shared(&database).unwrap();
        assert!(matches!(
            DatabaseLock::exclusive(&database),
            Err(LockError::Held { exclusive: true, .. })
        ));
        drop((server, command));
        let restore = DatabaseLock::exclusive(&database).unwrap();
        assert!(matches!(
            DatabaseLock::shared(&database),
            Err(LockError::Held { exclusive: false, .. })
        ));
        drop(restore);
        assert!(DatabaseLock::shared(&database).is_ok());
        assert!(lock_path(&database).ends_with("traceline.db.lock"));
    }

    #[test]
    fn a_missing_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = DatabaseLock::shared(&dir.path().join("missing/traceline.db")).unwrap_err();
        assert!(
            matches!(error, LockError::Io { ref source, .. } if source.kind() == io::ErrorKind::NotFound)
        );
    }
}
