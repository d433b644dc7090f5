//! Artifacts derived when a session ends (spec §8): loaded and stored here, derived by the domain
//! (`traceline_domain::artifact`), and rebuilt whenever the session ends again, so they describe every event
//! stored by then.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use traceline_domain::artifact::{self, Artifact, LastTest, DERIVATION_VERSION};
use traceline_domain::EventKind;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{event_data, from_stored_time, object_from_text, to_stored_time};
use crate::schema::{artifacts, timeline_events};
use crate::session_state;

#[derive(Queryable, Selectable)]
#[diesel(table_name = artifacts)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ArtifactRow {
    id: String,
    session_id: String,
    kind: String,
    data: String,
    derivation_v: i64,
    created_at: NaiveDateTime,
}

/// The session's artifacts, by kind. The caller checks the session is visible.
pub fn list(
    connection: &mut AnyConnection,
    session_id: &str,
) -> Result<Vec<Artifact>, StorageError> {
    artifacts::table
        .filter(artifacts::session_id.eq(session_id))
        .order(artifacts::kind.asc())
        .select(ArtifactRow::as_select())
        .load(connection)?
        .into_iter()
        .map(|row| {
            Ok(Artifact {
                data: object_from_text("artifacts.data", &row.data)?,
                id: row.id,
                session_id: row.session_id,
                kind: row.kind,
                derivation_v: row.derivation_v,
                created_at: from_stored_time(row.created_at),
            })
        })
        .collect()
}

/// (Re)derives both artifacts of a session that has just ended. Run it in the transaction that ended it: it
/// reads the session's aggregates and at most one event (its last test evidence), never the timeline, so ending
/// a session costs the same whatever its length, inside SQLite's single writer too.
pub fn derive(
    connection: &mut AnyConnection,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let state = session_state::get(connection, session_id)?;
    let counts = state.activity()?;
    let last_test = match state.aggregates.last_test_seq() {
        Some(seq) => {
            let (kind, data, envelope): (String, Option<String>, String) = timeline_events::table
                .find(seq)
                .select((timeline_events::kind, timeline_events::data, timeline_events::envelope))
                .first(connection)?;
            Some((EventKind::from_stored(kind), event_data(data.as_deref(), &envelope)?))
        }
        None => None,
    };
    let totals = state.totals();
    let last_test = last_test
        .as_ref()
        .zip(totals.last_test)
        .map(|((kind, data), evidence)| LastTest { kind, data, passed: evidence.passed });
    let derived = artifact::derive(&counts, &totals.metrics(&state.span()), last_test);
    diesel::delete(artifacts::table.filter(artifacts::session_id.eq(session_id)))
        .execute(connection)?;
    for (kind, data) in derived {
        diesel::insert_into(artifacts::table)
            .values((
                artifacts::id.eq(uuid::Uuid::now_v7().to_string()),
                artifacts::session_id.eq(session_id),
                artifacts::kind.eq(kind.as_str()),
                artifacts::data.eq(Value::Object(data).to_string()),
                artifacts::derivation_v.eq(DERIVATION_VERSION),
                artifacts::created_at.eq(to_stored_time(now)),
            ))
            .execute(connection)?;
    }
    Ok(())
}
