//! The one connection type both backends share, and the database URL that picks the backend.

use std::fmt;

use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;

/// A connection to either backend; every repository function takes this.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL, for deployments that outgrow one machine.
    Postgres(PgConnection),
    /// SQLite, the embedded default.
    Sqlite(SqliteConnection),
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
