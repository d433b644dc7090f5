//! Opening a SQLite file that must already exist, and reading what a backup holds after checking its integrity.

use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{QueryableByName, RunQueryDsl};

use super::BackupError;

/// What a database file holds, read from the file itself once `PRAGMA integrity_check` has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Sessions stored.
    pub sessions: i64,
    /// Timeline events stored.
    pub events: i64,
    /// The versions of the migrations applied to it, oldest first.
    pub migrations: Vec<String>,
}

/// How a file is opened.
#[derive(Debug, Clone, Copy)]
pub(super) enum Access {
    /// For a file the operator hands us to read (a backup to restore), which may sit on read-only storage.
    ReadOnly,
    /// For our own files.
    ReadWrite,
}

/// Opens an existing SQLite file, never creating one: a mistyped path must be an error, not a new empty
/// database. The path goes through a `file:` URI (`mode=ro` or `mode=rw`), escaped byte by byte so that any
/// file name works.
pub(super) fn open_existing(path: &Path, access: Access) -> Result<SqliteConnection, BackupError> {
    let mode = match access {
        Access::ReadOnly => "ro",
        Access::ReadWrite => "rw",
    };
    let mut connection = crate::connection::open_sqlite(&format!("{}?mode={mode}", uri(path)?))
        .map_err(|error| BackupError::sqlite(path, "open", error))?;
    // A server may be committing: wait for its write lock rather than fail.
    connection
        .batch_execute("PRAGMA busy_timeout = 5000;")
        .map_err(|error| BackupError::sqlite(path, "open", error))?;
    Ok(connection)
}

/// `file:` followed by the absolute path, every byte other than unreserved ones percent-encoded (SQLite decodes
/// `%HH` in URI paths; `?` and `#` would otherwise end the path).
pub(super) fn uri(path: &Path) -> Result<String, BackupError> {
    let absolute =
        std::path::absolute(path).map_err(|error| BackupError::io(path, "resolve", error))?;
    let mut uri = String::from("file:");
    for &byte in absolute.as_os_str().as_encoded_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(uri)
}

#[derive(QueryableByName)]
struct Verdict {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

/// How many of `PRAGMA integrity_check`'s findings an error carries; the first few say enough.
const FINDINGS_SHOWN: i64 = 5;

/// Checks the file with `PRAGMA integrity_check`, then reads what it holds. A file that is no SQLite database,
/// fails the check, or lacks Traceline's schema is refused.
pub(super) fn inspect(path: &Path) -> Result<Contents, BackupError> {
    let mut connection = open_existing(path, Access::ReadWrite)?;
    let findings: Vec<Verdict> =
        diesel::sql_query(format!("PRAGMA integrity_check({FINDINGS_SHOWN})"))
            .load(&mut connection)
            .map_err(|error| BackupError::sqlite(path, "check", error))?;
    let findings: Vec<String> = findings.into_iter().map(|row| row.integrity_check).collect();
    if findings != ["ok"] {
        return Err(BackupError::Damaged { path: path.to_path_buf(), findings });
    }
    let count = |connection: &mut SqliteConnection, sql: &str| {
        diesel::sql_query(sql)
            .get_result::<Count>(connection)
            .map(|row| row.count)
            .map_err(|error| BackupError::sqlite(path, "read", error))
    };
    let is_traceline = count(
        &mut connection,
        "SELECT COUNT(*) AS count FROM sqlite_master \
         WHERE type = 'table' AND name IN ('__diesel_schema_migrations', 'sessions', 'timeline_events')",
    )? == 3;
    if !is_traceline {
        return Err(BackupError::NotTraceline { path: path.to_path_buf() });
    }
    let migrations =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load::<Version>(&mut connection)
            .map_err(|error| BackupError::sqlite(path, "read", error))?
            .into_iter()
            .map(|row| row.version)
            .collect();
    let sessions = count(&mut connection, "SELECT COUNT(*) AS count FROM sessions")?;
    let events = count(&mut connection, "SELECT COUNT(*) AS count FROM timeline_events")?;
    drop(connection);
    let bytes =
        std::fs::metadata(path).map_err(|error| BackupError::io(path, "read", error))?.len();
    Ok(Contents { bytes, sessions, events, migrations })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_escape_what_would_end_or_change_the_path() {
        let uri = uri(Path::new("/srv/trace line/a?b#c%d.db")).unwrap();
        assert_eq!(uri, "file:/srv/trace%20line/a%3Fb%23c%25d.db");
    }

    #[test]
    fn opening_never_creates_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.db");
        assert!(open_existing(&missing, Access::ReadWrite).is_err());
        assert!(open_existing(&missing, Access::ReadOnly).is_err());
        assert!(!missing.exists());
    }
}
