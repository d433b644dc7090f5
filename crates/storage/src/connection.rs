//! The one connection type both backends share, and the database URL that picks the backend.

use std::fmt;
use std::sync::Once;

use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionResult};

/// A connection to either backend; every repository function takes this.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL, for deployments that outgrow one machine.
    Postgres(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
}

/// Opens a SQLite connection: every one the crate opens comes through here, so that the first puts the library
/// in the threading mode the crate relies on.
pub(crate) fn open_sqlite(path_or_uri: &str) -> ConnectionResult<SqliteConnection> {
    SQLITE_THREADING.call_once(use_multi_thread_sqlite);
    SqliteConnection::establish(path_or_uri)
}

static SQLITE_THREADING: Once = Once::new();

/// Switches SQLite from its serialized threading mode to multi-thread mode, when no connection is open yet.
///
/// Serialized mode locks a connection's mutex on every call into the library, `sqlite3_column_*` included; a
/// cohort of 10,000 members spent 12 % of its time in those locks. They guard nothing here: a diesel connection
/// is used by one thread at a time (it is `Send`, not `Sync`, and the pool hands it to one borrower), and so are
/// its prepared statements, which is all multi-thread mode asks. SQLite refuses the change once it is
/// initialized (a connection opened earlier in the process); it then stays serialized, which is only slower.
fn use_multi_thread_sqlite() {
    // SAFETY: `sqlite3_config` is called with an option that takes no further arguments, and SQLite checks
    // itself that it is not yet initialized (it returns SQLITE_MISUSE otherwise and changes nothing).
    let status =
        unsafe { libsqlite3_sys::sqlite3_config(libsqlite3_sys::SQLITE_CONFIG_MULTITHREAD) };
    if status != libsqlite3_sys::SQLITE_OK {
        log::debug!("SQLite stays in serialized threading mode (sqlite3_config returned {status})");
    }
}

/// Which engine a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend's name in logs and test names.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A parsed `DATABASE_URL`: a `postgres://` or `postgresql://` URL, a `sqlite://PATH`, or a bare file path.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file.
    Sqlite {
        /// Path of the file, created when missing.
        path: String,
    },
    /// A PostgreSQL connection URL, passed to libpq as it is.
    Postgres {
        /// The URL.
        url: String,
    },
}

impl DatabaseUrl {
    /// Reads a URL. Anything that is not `postgres://`/`postgresql://` is a SQLite file path.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return DatabaseUrl::Postgres { url: text.to_owned() };
        }
        let path =
            text.strip_prefix("sqlite://").or_else(|| text.strip_prefix("sqlite:")).unwrap_or(text);
        DatabaseUrl::Sqlite { path: path.to_owned() }
    }

    /// The backend the URL names.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite { .. } => Backend::Sqlite,
            DatabaseUrl::Postgres { .. } => Backend::Postgres,
        }
    }
}

/// Shows the URL without a password, so it can be logged.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{path}"),
            DatabaseUrl::Postgres { url } => f.write_str(&redact_password(url)),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_pick_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("traceline.db"),
            DatabaseUrl::Sqlite { path: "traceline.db".into() }
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/t.db"),
            DatabaseUrl::Sqlite { path: "data/t.db".into() }
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/t.db"),
            DatabaseUrl::Sqlite { path: "/var/t.db".into() }
        );
        assert_eq!(DatabaseUrl::parse("postgresql://h/db").backend(), Backend::Postgres);
    }

    #[test]
    fn passwords_never_print() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/traceline");
        assert_eq!(url.to_string(), "postgres://app:***@db:5432/traceline");
    }
}
