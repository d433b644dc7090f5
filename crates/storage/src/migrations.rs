//! The embedded migrations of both backends, and applying them.

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::sqlite::Sqlite;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::connection::AnyConnection;
use crate::database::Database;
use crate::error::StorageError;
use crate::marks;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Instances started together on one PostgreSQL database would race to apply the same migration, and all but
/// the first would fail on its `CREATE TABLE`. A session-level advisory lock per schema makes them take turns:
/// the later ones then find nothing pending. PostgreSQL drops it with the session if the process dies.
const POSTGRES_MIGRATION_LOCK: &str =
    "SELECT pg_advisory_lock(1953653091, hashtext(coalesce(current_schema(), '')))";
const POSTGRES_MIGRATION_UNLOCK: &str =
    "SELECT pg_advisory_unlock(1953653091, hashtext(coalesce(current_schema(), '')))";

/// Applies every pending migration, then marks the events stored before events carried marks
/// (`crate::marks`), and returns the versions applied, oldest first.
pub fn run_pending(database: &Database) -> Result<Vec<String>, StorageError> {
    database.write_outside_transaction(apply_pending)
}

/// The versions of the SQLite migrations this build carries, as `__diesel_schema_migrations` records them.
pub(crate) fn sqlite_versions() -> Vec<String> {
    // Embedded migrations are read from memory; listing them cannot fail.
    MigrationSource::<Sqlite>::migrations(&SQLITE)
        .map(|migrations| {
            migrations.iter().map(|migration| migration.name().version().to_string()).collect()
        })
        .unwrap_or_default()
}

fn apply_pending(connection: &mut AnyConnection) -> Result<Vec<String>, StorageError> {
    let postgres = matches!(connection, AnyConnection::Postgres(_));
    if postgres {
        connection.batch_execute(POSTGRES_MIGRATION_LOCK)?;
    }
    let applied = match &mut *connection {
        AnyConnection::Postgres(pg) => applied_versions(pg.run_pending_migrations(POSTGRES)),
        AnyConnection::Sqlite(sqlite) => {
            // Table rebuilds in SQLite migrations need foreign keys off, and the pragma is ignored inside the
            // transaction diesel wraps each migration in, so it is set here and restored after.
            sqlite.batch_execute("PRAGMA foreign_keys = OFF;")?;
            let applied = applied_versions(sqlite.run_pending_migrations(SQLITE));
            sqlite.batch_execute("PRAGMA foreign_keys = ON;")?;
            applied
        }
    };
    // Under the migration lock, so instances started together do not mark the same events at once.
    let applied = applied.and_then(|applied| {
        marks::backfill(connection)?;
        Ok(applied)
    });
    if postgres {
        let unlocked = connection.batch_execute(POSTGRES_MIGRATION_UNLOCK);
        let applied = applied?;
        unlocked?;
        return Ok(applied);
    }
    applied
}

fn applied_versions(
    outcome: diesel::migration::Result<Vec<diesel::migration::MigrationVersion<'_>>>,
) -> Result<Vec<String>, StorageError> {
    let versions = outcome.map_err(StorageError::Migration)?;
    Ok(versions.iter().map(ToString::to_string).collect())
}
