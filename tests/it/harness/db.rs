//! A private, migrated database for one test: a SQLite file in a temporary directory, or a PostgreSQL schema of
//! its own in the database named by `TRACELINE_TEST_DATABASE_URL`.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;
use traceline_storage::{migrations, Database, DatabaseUrl, PoolSettings};

/// Where PostgreSQL tests run unless `TRACELINE_TEST_DATABASE_URL` says otherwise.
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TestBackend {
    Sqlite,
    Postgres,
}

/// A migrated database that disappears with the test.
pub(crate) struct TestDb {
    pub(crate) url: DatabaseUrl,
    pub(crate) database: Database,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(
        #[expect(dead_code, reason = "held so the directory lives as long as the database")]
        tempfile::TempDir,
    ),
    Postgres {
        admin_url: String,
        schema: String,
    },
}

impl TestDb {
    /// Creates and migrates a database nobody else uses.
    pub(crate) fn new(backend: TestBackend) -> Self {
        let (url, cleanup) = match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("create a temporary directory");
                let path = dir.path().join("traceline.db").to_string_lossy().into_owned();
                (DatabaseUrl::Sqlite { path }, Cleanup::Sqlite(dir))
            }
            TestBackend::Postgres => {
                let admin_url = postgres_url();
                let schema = format!("test_{}", uuid::Uuid::new_v4().simple());
                admin_connection(&admin_url)
                    .batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create a test schema");
                let separator = if admin_url.contains('?') { '&' } else { '?' };
                // libpq passes `options` to the server: every pooled connection sees only this test's schema.
                let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
                (DatabaseUrl::Postgres { url }, Cleanup::Postgres { admin_url, schema })
            }
        };
        let settings = PoolSettings {
            max_connections: 4,
            connection_timeout: Duration::from_secs(10),
            ..PoolSettings::default()
        };
        let database = Database::open(&url, &settings);
        migrations::run_pending(&database).expect("migrate the test database");
        TestDb { url, database, cleanup }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, schema } = &self.cleanup {
            if let Ok(mut connection) = PgConnection::establish(admin_url) {
                let _ =
                    connection.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

fn postgres_url() -> String {
    std::env::var("TRACELINE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

fn admin_connection(url: &str) -> PgConnection {
    PgConnection::establish(url).unwrap_or_else(|error| {
        panic!(
            "PostgreSQL tests need a server, and none answered at {}: {error}\n\
             Start the local one with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, \
             or point TRACELINE_TEST_DATABASE_URL at another (e.g. postgres://user@host:5432/db).",
            DatabaseUrl::parse(url)
        )
    })
}
