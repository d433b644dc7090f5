//! Why a database cannot be used, found out once at startup with one plain connection, so that `traceline`
//! can name the cause instead of reporting a pool that timed out.

use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;

use crate::connection::DatabaseUrl;

/// How long the startup check waits for PostgreSQL to answer when the URL sets no `connect_timeout` (libpq's
/// default is to wait forever, which would leave a server silently starting against a host that drops packets).
const POSTGRES_CONNECT_TIMEOUT_SECS: u32 = 10;

/// Why the database a URL names cannot be used. `detail` is the backend's own message, on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseProblem {
    /// Nothing accepts connections at the host and port.
    #[error("PostgreSQL refused the connection ({detail})")]
    PostgresRefused {
        /// libpq's message.
        detail: String,
    },
    /// The server rejected the user or password, or has no such role.
    #[error("PostgreSQL rejected the credentials ({detail})")]
    PostgresAuthentication {
        /// libpq's message.
        detail: String,
    },
    /// The server has no database of that name.
    #[error("the PostgreSQL database does not exist ({detail})")]
    PostgresUnknownDatabase {
        /// libpq's message.
        detail: String,
    },
    /// The host name does not resolve.
    #[error("the PostgreSQL host name does not resolve ({detail})")]
    PostgresUnknownHost {
        /// libpq's message.
        detail: String,
    },
    /// The server did not answer within the connect timeout.
    #[error("PostgreSQL did not answer in time ({detail})")]
    PostgresTimeout {
        /// libpq's message.
        detail: String,
    },
    /// Any other refusal.
    #[error("could not connect to PostgreSQL ({detail})")]
    PostgresOther {
        /// libpq's message.
        detail: String,
    },
    /// The directory that should hold the SQLite file does not exist (or is not a directory).
    #[error("the directory {} for the SQLite database does not exist", directory.display())]
    SqliteMissingDirectory {
        /// The directory.
        directory: PathBuf,
    },
    /// The file, or its directory, may not be read or written by this user.
    #[error("permission denied on the SQLite database {} ({detail})", path.display())]
    SqlitePermissionDenied {
        /// The database file.
        path: PathBuf,
        /// What the system or SQLite said.
        detail: String,
    },
    /// The path names a directory.
    #[error("{} is a directory, not a SQLite database file", path.display())]
    SqliteIsADirectory {
        /// The path.
        path: PathBuf,
    },
    /// The file exists and is not a SQLite database.
    #[error("{} is not a SQLite database", path.display())]
    SqliteNotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// SQLite found the file damaged.
    #[error("the SQLite database {} is damaged ({detail})", path.display())]
    SqliteDamaged {
        /// The file.
        path: PathBuf,
        /// SQLite's message.
        detail: String,
    },
    /// Any other failure to open or write the file.
    #[error("could not open the SQLite database {} ({detail})", path.display())]
    SqliteOther {
        /// The file.
        path: PathBuf,
        /// SQLite's message.
        detail: String,
    },
}

/// Connects once to the database `url` names and checks that it can be written; `Ok` means the pools will
/// work. On SQLite this creates the file when its directory exists, as serving it would.
pub fn check(url: &DatabaseUrl) -> Result<(), DatabaseProblem> {
    match url {
        DatabaseUrl::Postgres { url } => check_postgres(url),
        DatabaseUrl::Sqlite { path } => check_sqlite(path),
    }
}

fn check_postgres(url: &str) -> Result<(), DatabaseProblem> {
    let url = if url.contains("connect_timeout=") {
        url.to_owned()
    } else {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}connect_timeout={POSTGRES_CONNECT_TIMEOUT_SECS}")
    };
    let outcome = PgConnection::establish(&url).map_err(|error| error.to_string()).and_then(
        |mut connection| connection.batch_execute("SELECT 1").map_err(|error| error.to_string()),
    );
    outcome.map_err(|message| postgres_problem(&message))
}

/// Sorts libpq's message (which names the host, port, user or database concerned) into what the operator
/// must fix.
fn postgres_problem(message: &str) -> DatabaseProblem {
    let detail = one_line(message);
    let lower = message.to_lowercase();
    let database_missing = lower.contains("database \"") && lower.contains("does not exist");
    if lower.contains("connection refused") {
        DatabaseProblem::PostgresRefused { detail }
    } else if database_missing {
        DatabaseProblem::PostgresUnknownDatabase { detail }
    } else if lower.contains("authentication failed")
        || lower.contains("no password supplied")
        || lower.contains("pg_hba.conf")
        || (lower.contains("role \"") && lower.contains("does not exist"))
    {
        DatabaseProblem::PostgresAuthentication { detail }
    } else if lower.contains("could not translate host name") {
        DatabaseProblem::PostgresUnknownHost { detail }
    } else if lower.contains("timeout expired") {
        DatabaseProblem::PostgresTimeout { detail }
    } else {
        DatabaseProblem::PostgresOther { detail }
    }
}

fn check_sqlite(path: &str) -> Result<(), DatabaseProblem> {
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    let file = Path::new(path);
    let directory = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    match fs::metadata(directory) {
        Ok(metadata) if metadata.is_dir() => {}
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {
            return Err(DatabaseProblem::SqlitePermissionDenied {
                path: file.to_path_buf(),
                detail: error.to_string(),
            });
        }
        _ => {
            return Err(DatabaseProblem::SqliteMissingDirectory {
                directory: directory.to_path_buf(),
            })
        }
    }
    if file.is_dir() {
        return Err(DatabaseProblem::SqliteIsADirectory { path: file.to_path_buf() });
    }
    let mut connection = crate::connection::open_sqlite(path)
        .map_err(|error| why_sqlite_cannot_open(file, &error.to_string()))?;
    // What serving needs: the pragmas every connection sets, a read of the schema (the first read of the file's
    // header), and a write, rolled back. SQLite opens a file it may not write read-only without a word, and
    // even takes the write lock; only a write itself fails.
    let statements = [
        "PRAGMA busy_timeout = 5000;",
        "PRAGMA journal_mode = WAL;",
        "SELECT COUNT(*) FROM sqlite_master;",
        "BEGIN IMMEDIATE; CREATE TABLE traceline_write_check (probe INTEGER);",
    ];
    let outcome = statements.iter().try_for_each(|statement| connection.batch_execute(statement));
    // Never kept, whether the write went through or not.
    let _ = connection.batch_execute("ROLLBACK;");
    outcome.map_err(|error| sqlite_problem(file, &error.to_string()))
}

/// SQLite says only "unable to open database file"; the file system says why.
fn why_sqlite_cannot_open(file: &Path, message: &str) -> DatabaseProblem {
    match OpenOptions::new().read(true).write(true).create(true).truncate(false).open(file) {
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => {
            DatabaseProblem::SqlitePermissionDenied {
                path: file.to_path_buf(),
                detail: error.to_string(),
            }
        }
        Err(error) => {
            DatabaseProblem::SqliteOther { path: file.to_path_buf(), detail: error.to_string() }
        }
        Ok(_) => sqlite_problem(file, message),
    }
}

fn sqlite_problem(file: &Path, message: &str) -> DatabaseProblem {
    let path = file.to_path_buf();
    let detail = one_line(message);
    if message.contains("file is not a database") {
        DatabaseProblem::SqliteNotADatabase { path }
    } else if message.contains("malformed") {
        DatabaseProblem::SqliteDamaged { path, detail }
    } else if message.contains("readonly") || message.contains("unable to open") {
        DatabaseProblem::SqlitePermissionDenied { path, detail }
    } else {
        DatabaseProblem::SqliteOther { path, detail }
    }
}

/// The first line of a message, its control characters and repeated spaces collapsed, so it prints as one line
/// on a terminal whatever a server put in it.
fn one_line(message: &str) -> String {
    let first = message.trim().lines().next().unwrap_or_default();
    let cleaned: String = first.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_messages_are_sorted_by_cause() {
        let refused = "connection to server at \"127.0.0.1\", port 5999 failed: Connection refused\n\tIs the \
                       server running on that host and accepting TCP/IP connections?";
        assert_eq!(
            postgres_problem(refused),
            DatabaseProblem::PostgresRefused {
                detail:
                    "connection to server at \"127.0.0.1\", port 5999 failed: Connection refused"
                        .into()
            }
        );
        let cases = [
            ("failed: FATAL:  password authentication failed for user \"app\"", "credentials"),
            ("failed: FATAL:  role \"nobody\" does not exist", "credentials"),
            ("failed: fe_sendauth: no password supplied", "credentials"),
            ("failed: FATAL:  database \"nosuch\" does not exist", "database does not exist"),
            ("could not translate host name \"db.invalid\" to address", "does not resolve"),
            ("failed: timeout expired", "in time"),
            ("failed: SSL error: certificate verify failed", "could not connect"),
        ];
        for (message, expected) in cases {
            let problem = postgres_problem(message).to_string();
            assert!(problem.contains(expected), "{message} -> {problem}");
        }
    }

    #[test]
    fn sqlite_problems_name_the_path_and_cause() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir/traceline.db");
        assert_eq!(
            check_sqlite(missing.to_str().unwrap()),
            Err(DatabaseProblem::SqliteMissingDirectory {
                directory: dir.path().join("no/such/dir")
            })
        );
        let text = dir.path().join("notes.db");
        fs::write(&text, "these are notes, not a database, and long enough to fill a header")
            .unwrap();
        assert_eq!(
            check_sqlite(text.to_str().unwrap()),
            Err(DatabaseProblem::SqliteNotADatabase { path: text })
        );
        assert_eq!(
            check_sqlite(dir.path().to_str().unwrap()),
            Err(DatabaseProblem::SqliteIsADirectory { path: dir.path().to_path_buf() })
        );
        let fresh = dir.path().join("fresh.db");
        assert_eq!(check_sqlite(fresh.to_str().unwrap()), Ok(()));
    }

    #[test]
    fn messages_print_on_one_line() {
        assert_eq!(one_line("  a\tb\x1b[31m  c\nsecond line"), "a b [31m c");
    }
}
