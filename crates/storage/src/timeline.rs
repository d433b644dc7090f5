//! Reading a session's events (spec §5): keyset-paged timeline, decisions, and the recent-activity window.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use traceline_domain::{EventKind, TimelineEvent};

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, object_from_text, to_stored_time};
use crate::schema::timeline_events;

#[derive(Queryable, Selectable)]
#[diesel(table_name = timeline_events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct EventRow {
    id: String,
    session_id: String,
    kind: String,
    ts: NaiveDateTime,
    source: String,
    actor: String,
    provenance: String,
    data: String,
    created_at: NaiveDateTime,
}

impl TryFrom<EventRow> for TimelineEvent {
    type Error = StorageError;

    fn try_from(row: EventRow) -> Result<Self, StorageError> {
        Ok(TimelineEvent {
            source: object_from_text("timeline_events.source", &row.source)?,
            actor: object_from_text("timeline_events.actor", &row.actor)?,
            provenance: object_from_text("timeline_events.provenance", &row.provenance)?,
            data: object_from_text("timeline_events.data", &row.data)?,
            id: row.id,
            session_id: row.session_id,
            kind: EventKind::from_stored(row.kind),
            ts: from_stored_time(row.ts),
            created_at: from_stored_time(row.created_at),
        })
    }
}

/// One page of a timeline.
#[derive(Debug, Clone)]
pub struct TimelinePage {
    /// Events in `ts` order, then insertion order.
    pub events: Vec<TimelineEvent>,
    /// Whether more events follow the last one.
    pub has_more: bool,
}

/// Why a timeline page could not be read.
#[derive(Debug)]
pub enum PageError {
    /// `after` names no event of this session.
    UnknownCursor,
    /// The database failed.
    Storage(StorageError),
}

impl From<diesel::result::Error> for PageError {
    fn from(error: diesel::result::Error) -> Self {
        PageError::Storage(error.into())
    }
}

impl From<StorageError> for PageError {
    fn from(error: StorageError) -> Self {
        PageError::Storage(error)
    }
}

/// Up to `limit` events of a session after the event `after` (from the start when `None`).
///
/// Keyset paging on (`ts`, `seq`) over the index `(session_id, ts, seq)`: a page deep in a long session costs what
/// the first page costs. The caller checks the session is visible to it.
pub fn page(
    connection: &mut AnyConnection,
    session_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<TimelinePage, PageError> {
    let mut rows = events_after(connection, session_id, after)?
        .limit(limit + 1)
        .select(EventRow::as_select())
        .load(connection)?;
    let has_more = i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let events = rows.into_iter().map(TimelineEvent::try_from).collect::<Result<_, _>>()?;
    Ok(TimelinePage { events, has_more })
}

/// The session's events after the event `after` (all when `None`), in timeline order, for the caller to select
/// and limit: the keyset both the timeline and the signed log of a session without a key page through.
pub(crate) fn events_after<'a>(
    connection: &mut AnyConnection,
    session_id: &'a str,
    after: Option<&str>,
) -> Result<timeline_events::BoxedQuery<'a, AnyBackend>, PageError> {
    let mut query =
        timeline_events::table.filter(timeline_events::session_id.eq(session_id)).into_boxed();
    if let Some(after) = after {
        let (ts, seq) = timeline_events::table
            .filter(timeline_events::session_id.eq(session_id))
            .filter(timeline_events::id.eq(after))
            .select((timeline_events::ts, timeline_events::seq))
            .first::<(NaiveDateTime, i64)>(connection)
            .optional()?
            .ok_or(PageError::UnknownCursor)?;
        // `ts >= cursor` bounds the index range; the OR then drops the cursor's own ties up to and including it.
        query = query
            .filter(timeline_events::ts.ge(ts))
            .filter(timeline_events::ts.gt(ts).or(timeline_events::seq.gt(seq)));
    }
    Ok(query.order((timeline_events::ts.asc(), timeline_events::seq.asc())))
}

type AnyBackend = <AnyConnection as Connection>::Backend;

/// The session's `decision_event`s, in timeline order.
pub fn decisions(
    connection: &mut AnyConnection,
    session_id: &str,
) -> Result<Vec<TimelineEvent>, StorageError> {
    first_decisions(connection, session_id, i64::MAX)
}

/// The session's first `limit` `decision_event`s, in timeline order.
pub fn first_decisions(
    connection: &mut AnyConnection,
    session_id: &str,
    limit: i64,
) -> Result<Vec<TimelineEvent>, StorageError> {
    // The kind is written into the SQL, not bound: only a literal lets the planners prove the partial index
    // `timeline_events_decisions` (WHERE kind = 'decision_event') applies. Kinds are `[a-z0-9_]`, so the literal
    // needs no quoting.
    let is_decision = format!("kind = '{}'", EventKind::DECISION_EVENT.as_str());
    timeline_events::table
        .filter(timeline_events::session_id.eq(session_id))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&is_decision))
        .order((timeline_events::ts.asc(), timeline_events::seq.asc()))
        .limit(limit)
        .select(EventRow::as_select())
        .load(connection)?
        .into_iter()
        .map(TimelineEvent::try_from)
        .collect()
}

/// Events whose `ts` lies in `[from, until]`, in timeline order.
pub fn between(
    connection: &mut AnyConnection,
    session_id: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<TimelineEvent>, StorageError> {
    timeline_events::table
        .filter(timeline_events::session_id.eq(session_id))
        .filter(timeline_events::ts.ge(to_stored_time(from)))
        .filter(timeline_events::ts.le(to_stored_time(until)))
        .order((timeline_events::ts.asc(), timeline_events::seq.asc()))
        .select(EventRow::as_select())
        .load(connection)?
        .into_iter()
        .map(TimelineEvent::try_from)
        .collect()
}
