//! The health check's write probe: one row rewritten through the real write path (SQLite's writer thread, a
//! PostgreSQL transaction), so `GET /v1/health` fails when writes cannot commit, not only when reads fail.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::to_stored_time;
use crate::schema::heartbeat;

/// Rewrites the heartbeat row. Run it with `Database::write`: its commit is the probe.
pub fn beat(connection: &mut AnyConnection, now: DateTime<Utc>) -> Result<(), StorageError> {
    let updated = diesel::update(heartbeat::table.find(1_i64))
        .set(heartbeat::beat_at.eq(to_stored_time(now)))
        .execute(connection)?;
    if updated == 0 {
        // The row was deleted by hand; the probe puts it back rather than failing forever.
        diesel::insert_into(heartbeat::table)
            .values((heartbeat::id.eq(1_i64), heartbeat::beat_at.eq(to_stored_time(now))))
            .execute(connection)?;
    }
    Ok(())
}
