//! Reviewer scores of a session: upserted per dimension and scorer.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use traceline_domain::actor_ref::{ActorKind, ActorRef};
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
    scorer_type: Option<String>,
    scorer_id: Option<String>,
    scorer_name: Option<String>,
}

impl TryFrom<ScoreRow> for Score {
    type Error = StorageError;

    fn try_from(row: ScoreRow) -> Result<Self, StorageError> {
        let scored_by = match (row.scorer_type, row.scorer_id) {
            (Some(kind), Some(id)) => Some(ActorRef {
                kind: ActorKind::parse(&kind)
                    .ok_or_else(|| StorageError::Corrupt(format!("scores.scorer_type '{kind}'")))?,
                id,
                name: row.scorer_name.unwrap_or_default(),
            }),
            _ => None,
        };
        Ok(Score {
            id: row.id,
            session_id: row.session_id,
            dimension: row.dimension,
            score: row.score,
            notes: row.notes,
            scored_by,
            created_at: from_stored_time(row.created_at),
            updated_at: from_stored_time(row.updated_at),
        })
    }
}

/// The session's scores, every reviewer's, by dimension name and then in the order they were first given. The
/// caller checks the session is visible.
pub fn list(connection: &mut AnyConnection, session_id: &str) -> Result<Vec<Score>, StorageError> {
    scores::table
        .filter(scores::session_id.eq(session_id))
        .order((scores::dimension.asc(), scores::created_at.asc(), scores::id.asc()))
        .select(ScoreRow::as_select())
        .load(connection)?
        .into_iter()
        .map(Score::try_from)
        .collect()
}

/// Sets `scorer`'s score of each input's dimension: updates their existing score of that dimension, or inserts
/// a new one; other reviewers' scores are left alone. Run inside a write transaction.
pub fn upsert(
    connection: &mut AnyConnection,
    session_id: &str,
    scorer: &ActorRef,
    inputs: &[ScoreInput],
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let new_id = || uuid::Uuid::now_v7().to_string();
    let now = to_stored_time(now);
    for input in inputs {
        let updated = update_existing(connection, session_id, scorer, input, now)?;
        if updated == 0 {
            // In a savepoint: should a concurrent request of the same scorer insert the dimension first, its row
            // is updated.
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
                        scores::scorer_type.eq(scorer.kind.as_str()),
                        scores::scorer_id.eq(&scorer.id),
                        scores::scorer_name.eq(&scorer.name),
                    ))
                    .execute(connection)
                    .map_err(StorageError::from)
            });
            match inserted {
                Ok(_) => {}
                Err(StorageError::Conflict { .. }) => {
                    update_existing(connection, session_id, scorer, input, now)?;
                }
                Err(other) => return Err(other),
            }
        }
    }
    Ok(())
}

/// Sets the score and notes of `scorer`'s existing score of `input`'s dimension (and the name they now go by);
/// returns the rows changed.
fn update_existing(
    connection: &mut AnyConnection,
    session_id: &str,
    scorer: &ActorRef,
    input: &ScoreInput,
    now: NaiveDateTime,
) -> Result<usize, StorageError> {
    Ok(diesel::update(
        scores::table
            .filter(scores::session_id.eq(session_id))
            .filter(scores::dimension.eq(&input.dimension))
            .filter(scores::scorer_type.eq(scorer.kind.as_str()))
            .filter(scores::scorer_id.eq(&scorer.id)),
    )
    .set((
        scores::score.eq(input.score),
        scores::notes.eq(&input.notes),
        scores::scorer_name.eq(&scorer.name),
        scores::updated_at.eq(now),
    ))
    .execute(connection)?)
}
