//! Reviewer scores of a session: upserted per dimension.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use traceline_domain::score::{Score, ScoreInput};

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, to_stored_time};
use crate::schema::scores;

#[derive(Queryable, Selectable)]
#[diesel(table_name = scores)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ScoreRow {
    id: String,
    session_id: String,
    dimension: String,
    score: i64,
    notes: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<ScoreRow> for Score {
    fn from(row: ScoreRow) -> Self {
        Score {
            id: row.id,
            session_id: row.session_id,
            dimension: row.dimension,
            score: row.score,
            notes: row.notes,
            created_at: from_stored_time(row.created_at),
            updated_at: from_stored_time(row.updated_at),
        }
    }
}

/// The session's scores, by dimension name. The caller checks the session is visible.
pub fn list(connection: &mut AnyConnection, session_id: &str) -> Result<Vec<Score>, StorageError> {
    Ok(scores::table
        .filter(scores::session_id.eq(session_id))
        .order(scores::dimension.asc())
        .select(ScoreRow::as_select())
        .load(connection)?
        .into_iter()
        .map(Score::from)
        .collect())
}

/// Sets each input's dimension: updates the existing score of that dimension, or inserts a new one.
/// Run inside a write transaction.
pub fn upsert(
    connection: &mut AnyConnection,
    session_id: &str,
    inputs: &[ScoreInput],
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let new_id = || uuid::Uuid::now_v7().to_string();
    let now = to_stored_time(now);
    for input in inputs {
        let updated = update_existing(connection, session_id, input, now)?;
        if updated == 0 {
            // In a savepoint: should a concurrent request insert the same dimension first, its row is updated.
            let inserted = connection.transaction(|connection| {
                diesel::insert_into(scores::table)
                    .values((
                        scores::id.eq(new_id()),
                        scores::session_id.eq(session_id),
                        scores::dimension.eq(&input.dimension),
                        scores::score.eq(input.score),
                        scores::notes.eq(&input.notes),
                        scores::created_at.eq(now),
                        scores::updated_at.eq(now),
                    ))
                    .execute(connection)
                    .map_err(StorageError::from)
            });
            match inserted {
                Ok(_) => {}
                Err(StorageError::Conflict { .. }) => {
                    update_existing(connection, session_id, input, now)?;
                }
                Err(other) => return Err(other),
            }
        }
    }
    Ok(())
}

/// Sets the score and notes of the session's existing score of `input`'s dimension; returns the rows changed.
fn update_existing(
    connection: &mut AnyConnection,
    session_id: &str,
    input: &ScoreInput,
    now: NaiveDateTime,
) -> Result<usize, StorageError> {
    Ok(diesel::update(
        scores::table
            .filter(scores::session_id.eq(session_id))
            .filter(scores::dimension.eq(&input.dimension)),
    )
    .set((
        scores::score.eq(input.score),
        scores::notes.eq(&input.notes),
        scores::updated_at.eq(now),
    ))
    .execute(connection)?)
}
