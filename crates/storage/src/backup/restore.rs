//! `traceline restore`: swapping a checked backup in for the SQLite database, with no process using it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;

use super::copy::{check_paths, checked_copy};
use super::files::persist;
use super::sqlite_file::{open_existing, Access, Contents};
use super::BackupError;
use crate::lock::DatabaseLock;
use crate::migrations;

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// What the database now holds.
    pub contents: Contents,
    /// Where the database it replaced was kept, if there was one.
    pub previous: Option<PathBuf>,
}

/// The files SQLite keeps beside a database that hold its committed writes, and so belong with it.
const JOURNALS: [&str; 2] = ["-wal", "-journal"];

/// Replaces the SQLite database at `database` with the backup at `backup`. Refuses while any other traceline
/// process holds the database ([`BackupError::Locked`]) and when the backup fails its checks; in both cases
/// the database is left as it was. The replaced database is kept beside it, named after `now`.
pub fn restore(
    backup: &Path,
    database: &Path,
    now: DateTime<Utc>,
) -> Result<Restored, BackupError> {
    let directory = check_paths(backup, database)?;
    let _lock = DatabaseLock::exclusive(database)?;
    // The copy beside the database is what gets checked and renamed, so what was checked is what is served. It
    // is made by SQLite rather than byte for byte, so a backup file with a write-ahead log of its own (a copy
    // of a stopped server's files) comes over whole, and the backup itself is only read.
    let copy = checked_copy(backup, Access::ReadOnly, &directory, database)?;
    refuse_unknown_migrations(backup, &copy.contents)?;
    let previous = match fs::metadata(database) {
        Ok(current) => {
            keep_ownership(&current, copy.file.path());
            Some(set_aside(database, now)?)
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => None,
        Err(error) => return Err(BackupError::io(database, "read", error)),
    };
    persist(copy.file, database, &directory)?;
    Ok(Restored { contents: copy.contents, previous })
}

/// An older backup is fine (the server migrates it when it starts); a newer one would meet a binary that does
/// not know its schema.
fn refuse_unknown_migrations(backup: &Path, contents: &Contents) -> Result<(), BackupError> {
    let known = migrations::sqlite_versions();
    let unknown: Vec<String> =
        contents.migrations.iter().filter(|version| !known.contains(version)).cloned().collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(BackupError::TooNew { path: backup.to_path_buf(), unknown })
    }
}

/// Keeps the current database, with the journals holding its latest commits, as
/// `<database>.before-restore-<time>`, and clears the way for the new file: a write-ahead log left beside it
/// would otherwise be replayed into the restored database.
fn set_aside(database: &Path, now: DateTime<Utc>) -> Result<PathBuf, BackupError> {
    // Folds the write-ahead log into the file, so the kept copy is whole by itself. A damaged database (perhaps
    // the reason for the restore) may refuse; its log is then moved along with it below.
    let checkpoint = open_existing(database, Access::ReadWrite).and_then(|mut connection| {
        connection
            .batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(|error| BackupError::sqlite(database, "checkpoint", error))
    });
    if let Err(error) = checkpoint {
        log::warn!("the current database could not be checkpointed before the restore: {error}");
    }
    let aside = free_name(database, &format!("before-restore-{}", now.format("%Y%m%dT%H%M%SZ")));
    // A second name for the same file: the database stays in place until the final rename replaces it.
    fs::hard_link(database, &aside)
        .or_else(|_| fs::copy(database, &aside).map(drop))
        .map_err(|error| BackupError::io(&aside, "create", error))?;
    for journal in JOURNALS {
        let path = with_suffix(database, journal);
        if path.exists() {
            fs::rename(&path, with_suffix(&aside, journal))
                .map_err(|error| BackupError::io(&path, "move", error))?;
        }
    }
    let shared_memory = with_suffix(database, "-shm");
    match fs::remove_file(&shared_memory) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => {
            Err(BackupError::io(&shared_memory, "remove", error))
        }
        _ => Ok(aside),
    }
}

/// `<path>.<label>`, or `<path>.<label>-2`, … when that is taken (two restores within a second).
fn free_name(path: &Path, label: &str) -> PathBuf {
    let mut candidate = with_suffix(path, &format!(".{label}"));
    let mut attempt = 2;
    while candidate.exists() {
        candidate = with_suffix(path, &format!(".{label}-{attempt}"));
        attempt += 1;
    }
    candidate
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Gives the restored file the mode and owner of the file it replaces, so a restore run by an administrator
/// does not leave the service user a database it cannot open. Owner changes need privileges; without them the
/// file keeps the restoring user's.
#[cfg(unix)]
fn keep_ownership(current: &fs::Metadata, incoming: &Path) {
    use std::os::unix::fs::MetadataExt;

    if let Err(error) = fs::set_permissions(incoming, current.permissions()) {
        log::warn!("could not give the restored database the previous file's mode: {error}");
    }
    if let Err(error) = std::os::unix::fs::chown(incoming, Some(current.uid()), Some(current.gid()))
    {
        log::warn!("could not give the restored database the previous file's owner: {error}");
    }
}

#[cfg(not(unix))]
fn keep_ownership(current: &fs::Metadata, incoming: &Path) {
    if let Err(error) = fs::set_permissions(incoming, current.permissions()) {
        log::warn!("could not give the restored database the previous file's permissions: {error}");
    }
}
