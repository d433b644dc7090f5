//! A database of the test's own for the binary to serve: a SQLite file in a temporary directory, or a
//! PostgreSQL schema in the database of `TRACELINE_TEST_DATABASE_URL`, reached through libpq's
//! `options=-c search_path=...` so every connection of the server sees only that schema (as tests/it does).

use std::collections::HashSet;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The two engines the binary serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// A private database; removed when dropped.
pub(crate) struct TestDatabase {
    /// What to pass as `--database-url`.
    pub(crate) url: String,
    /// Where the test may keep files (server logs), removed with the database.
    pub(crate) dir: tempfile::TempDir,
    schema: Option<(String, String)>,
}

/// What the database holds, read directly rather than through the API.
#[derive(Debug, QueryableByName)]
pub(crate) struct StoredCounts {
    #[diesel(sql_type = BigInt)]
    pub(crate) rows: i64,
    #[diesel(sql_type = BigInt)]
    pub(crate) distinct_ids: i64,
    #[diesel(sql_type = BigInt)]
    pub(crate) enveloped_rows: i64,
}

#[derive(QueryableByName)]
struct IntegrityCheck {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM timeline_events) AS rows, \
    (SELECT COUNT(DISTINCT id) FROM timeline_events) AS distinct_ids, \
    (SELECT COUNT(*) FROM timeline_events WHERE length(envelope) > 0) AS enveloped_rows";

impl TestDatabase {
    pub(crate) fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        match backend {
            Backend::Sqlite => {
                let url = dir.path().join("traceline.db").to_string_lossy().into_owned();
                TestDatabase { url, dir, schema: None }
            }
            Backend::Postgres => {
                let admin_url = std::env::var("TRACELINE_TEST_DATABASE_URL")
                    .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
                let schema = format!("bin_{}", uuid::Uuid::new_v4().simple());
                PgConnection::establish(&admin_url)
                    .unwrap_or_else(|error| {
                        panic!("PostgreSQL tests need a server at TRACELINE_TEST_DATABASE_URL: {error}")
                    })
                    .batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create a test schema");
                let separator = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
                TestDatabase { url, dir, schema: Some((admin_url, schema)) }
            }
        }
    }

    /// Opens the database afresh, as an operator would after a crash: SQLite must pass `PRAGMA
    /// integrity_check`; both must answer a read of the event tables, whose counts are returned.
    pub(crate) fn check_opens_cleanly(&self) -> StoredCounts {
        if self.schema.is_some() {
            let mut connection = PgConnection::establish(&self.url).expect("reopen PostgreSQL");
            return diesel::sql_query(COUNTS).get_result(&mut connection).expect("count events");
        }
        let mut connection = checked_sqlite(&self.url);
        diesel::sql_query(COUNTS).get_result(&mut connection).expect("count events")
    }
}

/// A connection to the SQLite file at `path`, once it has passed `PRAGMA integrity_check`.
pub(crate) fn checked_sqlite(path: &str) -> SqliteConnection {
    let mut connection = SqliteConnection::establish(path).expect("open SQLite");
    let checks: Vec<IntegrityCheck> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut connection)
        .expect("run PRAGMA integrity_check");
    let verdicts: Vec<&str> = checks.iter().map(|row| row.integrity_check.as_str()).collect();
    assert_eq!(verdicts, ["ok"], "SQLite integrity_check of {path}");
    connection
}

#[derive(QueryableByName)]
struct EventId {
    #[diesel(sql_type = diesel::sql_types::Binary)]
    id: Vec<u8>,
}

/// The ids of the events stored in the SQLite file at `path`, which must pass `PRAGMA integrity_check`.
pub(crate) fn sqlite_event_ids(path: &str) -> HashSet<String> {
    let rows: Vec<EventId> = diesel::sql_query("SELECT id FROM timeline_events")
        .load(&mut checked_sqlite(path))
        .expect("read the event ids");
    rows.into_iter()
        .map(|row| {
            uuid::Uuid::from_slice(&row.id).expect("16-byte event ids").hyphenated().to_string()
        })
        .collect()
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, schema)) = &self.schema {
            if let Ok(mut connection) = PgConnection::establish(admin_url) {
                let _ =
                    connection.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}
