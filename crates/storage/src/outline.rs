//! A session's events reduced to what a summary of its course needs — id, kind, time and the sets each belongs
//! to — without their data, so the whole of a long session is read in one cheap pass (the compare page and the
//! printable report draw it by time since the start).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use traceline_domain::metrics::EventMarks;
use traceline_domain::EventKind;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_event_id, from_stored_micros};
use crate::schema::timeline_events;

/// One event of an outline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutlineEvent {
    /// The event's id.
    pub id: String,
    /// Its kind.
    pub kind: EventKind,
    /// When it happened.
    pub ts: DateTime<Utc>,
    /// The sets it belongs to.
    pub marks: EventMarks,
}

/// Every event of the session, in timeline order. The caller checks the session is visible to it.
pub fn outline(
    connection: &mut AnyConnection,
    session_id: &str,
) -> Result<Vec<OutlineEvent>, StorageError> {
    let rows: Vec<(Vec<u8>, String, i64, Option<i64>)> = timeline_events::table
        .filter(timeline_events::session_id.eq(session_id))
        .order((timeline_events::ts.asc(), timeline_events::seq.asc()))
        .select((
            timeline_events::id,
            timeline_events::kind,
            timeline_events::ts,
            timeline_events::marks,
        ))
        .load(connection)?;
    rows.into_iter()
        .map(|(id, kind, ts, marks)| {
            Ok(OutlineEvent {
                id: from_stored_event_id(&id)?,
                kind: EventKind::from_stored(kind),
                ts: from_stored_micros("timeline_events.ts", ts)?,
                // Every event is marked before the server answers (`crate::marks`); unmarked would mean no set.
                marks: EventMarks::from_bits(marks.unwrap_or_default()),
            })
        })
        .collect()
}
