//! The embedded migrations of both backends, and applying them.

use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::connection::AnyConnection;
use crate::database::Database;
use crate::error::StorageError;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Applies every pending migration and returns the versions applied, oldest first.
pub fn run_pending(database: &Database) -> Result<Vec<String>, StorageError> {
    database.write_outside_transaction(apply_pending)
}

fn apply_pending(connection: &mut AnyConnection) -> Result<Vec<String>, StorageError> {
    match connection {
        AnyConnection::Postgres(pg) => applied_versions(pg.run_pending_migrations(POSTGRES)),
        AnyConnection::Sqlite(sqlite) => {
            // Table rebuilds in SQLite migrations need foreign keys off, and the pragma is ignored inside the
            // transaction diesel wraps each migration in, so it is set here and restored after.
            sqlite.batch_execute("PRAGMA foreign_keys = OFF;")?;
            let applied = applied_versions(sqlite.run_pending_migrations(SQLITE));
            sqlite.batch_execute("PRAGMA foreign_keys = ON;")?;
            applied
        }
    }
}

fn applied_versions(
    outcome: diesel::migration::Result<Vec<diesel::migration::MigrationVersion<'_>>>,
) -> Result<Vec<String>, StorageError> {
    let versions = outcome.map_err(StorageError::Migration)?;
    Ok(versions.iter().map(ToString::to_string).collect())
}
