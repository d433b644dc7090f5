//! Reading a session's events (spec §5): keyset-paged timeline, decisions, and the recent-activity window.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use traceline_domain::metrics::EventSet;
use traceline_domain::paging::MAX_PAGE_BYTES;
use traceline_domain::{EventKind, TimelineEvent};

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{
    event_data, from_stored_event_id, from_stored_micros, object_from_text, to_stored_event_id,
    to_stored_micros,
};
use crate::schema::timeline_events;

#[derive(Queryable, Selectable)]
#[diesel(table_name = timeline_events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct EventRow {
    seq: i64,
    id: Vec<u8>,
    session_id: String,
    kind: String,
    ts: i64,
    source: String,
    actor: String,
    provenance: String,
    data: Option<String>,
    envelope: String,
    created_at: i64,
}

impl TryFrom<EventRow> for TimelineEvent {
    type Error = StorageError;

    fn try_from(row: EventRow) -> Result<Self, StorageError> {
        Ok(TimelineEvent {
            source: object_from_text("timeline_events.source", &row.source)?,
            actor: object_from_text("timeline_events.actor", &row.actor)?,
            provenance: object_from_text("timeline_events.provenance", &row.provenance)?,
            data: event_data(row.data.as_deref(), &row.envelope)?,
            id: from_stored_event_id(&row.id)?,
            session_id: row.session_id,
            kind: EventKind::from_stored(row.kind),
            ts: from_stored_micros("timeline_events.ts", row.ts)?,
            created_at: from_stored_micros("timeline_events.created_at", row.created_at)?,
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
    /// The `ts` of the event the page follows (its `after` cursor), when it follows one.
    pub previous: Option<DateTime<Utc>>,
}

/// Why a timeline page could not be read.
#[derive(Debug)]
pub enum PageError {
    /// The event the page starts after or at names no event of this session.
    UnknownCursor,
    /// The event the page stops before names no event of this session.
    UnknownBound,
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

/// Where a page of the timeline starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start<'a> {
    /// At the first event.
    Beginning,
    /// Just after the event with this id (the API's `after` cursor).
    After(&'a str),
    /// At the event with this id, which is on the page when it belongs to the filter's set.
    At(&'a str),
}

/// Which of a session's events one page reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageQuery<'a> {
    /// Where the page starts.
    pub start: Start<'a>,
    /// The event the page stops before, when it must not reach it (filling a gap the page already has).
    pub before: Option<&'a str>,
    /// Only the events of this set (`None`: every event).
    pub only: Option<EventSet>,
    /// Events at most.
    pub limit: i64,
}

impl<'a> PageQuery<'a> {
    /// Up to `limit` events after `after` (from the start when `None`), of every kind.
    pub fn after(after: Option<&'a str>, limit: i64) -> PageQuery<'a> {
        let start = after.map_or(Start::Beginning, Start::After);
        PageQuery { start, before: None, only: None, limit }
    }
}

/// Where an event stands in its session's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    ts: i64,
    seq: i64,
}

/// The position of the event `id` of the session, or `UnknownCursor`.
fn position(
    connection: &mut AnyConnection,
    session_id: &str,
    id: &str,
) -> Result<Position, PageError> {
    let id = to_stored_event_id(id).ok_or(PageError::UnknownCursor)?;
    let (ts, seq) = timeline_events::table
        .filter(timeline_events::session_id.eq(session_id))
        .filter(timeline_events::id.eq(id.as_slice()))
        .select((timeline_events::ts, timeline_events::seq))
        .first::<(i64, i64)>(connection)
        .optional()?
        .ok_or(PageError::UnknownCursor)?;
    Ok(Position { ts, seq })
}

/// The SQL that keeps only the events of `set`, spelled exactly as its partial index's predicate (see the
/// migration `add_event_marks`), so both planners use that index; the bit is a constant, never client text.
pub(crate) fn in_set(set: EventSet) -> String {
    format!("(marks & {}) <> 0", set.bit())
}

/// One page of a session's events, as `query` says, and no more than [`MAX_PAGE_BYTES`] of them.
///
/// Keyset paging on (`ts`, `seq`) over the index `(session_id, ts, seq)`, or over the partial index of the
/// filter's set: a page deep in a long session costs what the first page costs, and a filter to a rare set costs
/// what its events cost, not the session's. The page is chosen first by the events' stored sizes (no event text is
/// read), then only its events are loaded, so a session of huge events costs no more memory than the page it
/// answers. The caller checks the session is visible to it.
pub fn page(
    connection: &mut AnyConnection,
    session_id: &str,
    query: PageQuery<'_>,
) -> Result<TimelinePage, PageError> {
    in_index_order(connection, |connection| {
        let (rows, previous) = selection(connection, session_id, query)?;
        let sizes: Vec<(i64, i64)> = rows
            .limit(query.limit + 1)
            .select((timeline_events::seq, diesel::dsl::sql::<BigInt>(EVENT_BYTES)))
            .load(connection)?;
        let wanted = usize::try_from(query.limit).unwrap_or(usize::MAX).min(sizes.len());
        let fit = fitting(&sizes[..wanted]);
        let has_more = sizes.len() > fit;
        let events = load_events(connection, &sizes[..fit])?;
        Ok(TimelinePage { events, has_more, previous })
    })
}

/// Runs `read`, whose statements page through a session's events, with PostgreSQL held to the index's order.
///
/// A keyset read of the timeline has one good plan: walk `(session_id, ts, seq)`, or a set's partial index, in
/// order and stop at the limit. PostgreSQL estimates a session's events from statistics of the whole table, so a
/// session written since the last `ANALYZE`, or far longer than most, is estimated at a few dozen rows; a bitmap
/// scan of every event after the cursor and then a sort looks cheaper than the ordered walk, and in the middle of
/// a 100,000-event session it takes 40 ms against 0.3 ms (EXPLAIN ANALYZE, with the session's ids as random as a
/// client's). PostgreSQL takes no per-statement hints, so the read runs in a transaction with `enable_sort` off
/// for that transaction alone (`SET LOCAL`): the index order is then the one plan without a penalty, while a
/// statement that has no index to follow still sorts. SQLite's planner already walks the index for these.
pub(crate) fn in_index_order<T, E>(
    connection: &mut AnyConnection,
    read: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    if !matches!(connection, AnyConnection::Postgres(_)) {
        return read(connection);
    }
    connection.transaction(|connection| {
        diesel::sql_query("SET LOCAL enable_sort = off").execute(connection)?;
        read(connection)
    })
}

/// The session's events `query` selects, in timeline order, before any limit; and the `ts` of the event the
/// selection follows, when it follows one.
fn selection<'a>(
    connection: &mut AnyConnection,
    session_id: &'a str,
    query: PageQuery<'_>,
) -> Result<(timeline_events::BoxedQuery<'a, AnyBackend>, Option<DateTime<Utc>>), PageError> {
    let (mut rows, previous) = events_from(connection, session_id, query.start)?;
    if let Some(id) = query.before {
        let before = match position(connection, session_id, id) {
            Err(PageError::UnknownCursor) => return Err(PageError::UnknownBound),
            other => other?,
        };
        rows = rows
            .filter(timeline_events::ts.le(before.ts))
            .filter(timeline_events::ts.lt(before.ts).or(timeline_events::seq.lt(before.seq)));
    }
    if let Some(set) = query.only {
        rows = rows.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&in_set(set)));
    }
    Ok((rows.order((timeline_events::ts.asc(), timeline_events::seq.asc())), previous))
}

/// An upper bound of an event's size as API JSON: its stored JSON texts and short columns, byte for byte as
/// they are printed again (`data` when it is stored apart, else the envelope that holds it), 36 bytes for the id
/// as text, and [`EVENT_OVERHEAD_BYTES`] (the 256) for the keys, timestamps and punctuation around them. Each
/// term is cast, since PostgreSQL's `octet_length` is a 32-bit integer. `octet_length` reads the stored length
/// without the text (both engines), so sizing a page reads no event.
const EVENT_BYTES: &str = "CAST(coalesce(octet_length(data), octet_length(envelope)) AS BIGINT) \
     + CAST(octet_length(source) AS BIGINT) + CAST(octet_length(actor) AS BIGINT) \
     + CAST(octet_length(provenance) AS BIGINT) + CAST(octet_length(session_id) AS BIGINT) \
     + CAST(octet_length(kind) AS BIGINT) + 36 + 256";

/// What an event's JSON adds beyond its columns: at most 110 bytes of keys and punctuation and two timestamps
/// of 24 characters, with room to spare.
const EVENT_OVERHEAD_BYTES: usize = 256;

/// How many of `sizes` (`(seq, bytes)`, in page order) fit in [`MAX_PAGE_BYTES`]: at least one, so a page of
/// one event larger than the budget still moves the cursor on.
fn fitting(sizes: &[(i64, i64)]) -> usize {
    let mut total = 0_usize;
    for (index, (_, bytes)) in sizes.iter().enumerate() {
        total = total.saturating_add(usize::try_from(*bytes).unwrap_or(usize::MAX));
        if total > MAX_PAGE_BYTES {
            return index.max(1);
        }
    }
    sizes.len()
}

/// The events of `sizes`' sequence numbers, in that order (the page's, already timeline order).
fn load_events(
    connection: &mut AnyConnection,
    sizes: &[(i64, i64)],
) -> Result<Vec<TimelineEvent>, StorageError> {
    if sizes.is_empty() {
        return Ok(Vec::new());
    }
    let seqs: Vec<i64> = sizes.iter().map(|(seq, _)| *seq).collect();
    // Put in page order here rather than by `ORDER BY`: the rows are looked up by primary key, which gives no
    // timeline order, and a sort in the database is what `in_index_order` turns off.
    let place: HashMap<i64, usize> =
        seqs.iter().enumerate().map(|(index, seq)| (*seq, index)).collect();
    let mut rows: Vec<EventRow> = timeline_events::table
        .filter(timeline_events::seq.eq_any(seqs))
        .select(EventRow::as_select())
        .load(connection)?;
    rows.sort_unstable_by_key(|row| place.get(&row.seq).copied().unwrap_or(usize::MAX));
    rows.into_iter().map(TimelineEvent::try_from).collect()
}

/// The session's events after the event `after` (all when `None`), in timeline order, for the caller to select
/// and limit: the keyset both the timeline and the signed log of a session without a key page through.
pub(crate) fn events_after<'a>(
    connection: &mut AnyConnection,
    session_id: &'a str,
    after: Option<&str>,
) -> Result<timeline_events::BoxedQuery<'a, AnyBackend>, PageError> {
    let (query, _) =
        events_from(connection, session_id, after.map_or(Start::Beginning, Start::After))?;
    Ok(query.order((timeline_events::ts.asc(), timeline_events::seq.asc())))
}

/// The session's events from `start` on, not yet ordered, and the `ts` of the event they follow when `start` is
/// after one.
fn events_from<'a>(
    connection: &mut AnyConnection,
    session_id: &'a str,
    start: Start<'_>,
) -> Result<(timeline_events::BoxedQuery<'a, AnyBackend>, Option<DateTime<Utc>>), PageError> {
    let rows =
        timeline_events::table.filter(timeline_events::session_id.eq(session_id)).into_boxed();
    Ok(match start {
        Start::Beginning => (rows, None),
        Start::After(id) => {
            let after = position(connection, session_id, id)?;
            // `ts >= cursor` bounds the index range; the OR then drops the cursor's own ties up to and including it.
            let rows = rows
                .filter(timeline_events::ts.ge(after.ts))
                .filter(timeline_events::ts.gt(after.ts).or(timeline_events::seq.gt(after.seq)));
            (rows, Some(from_stored_micros("timeline_events.ts", after.ts)?))
        }
        Start::At(id) => {
            let at = position(connection, session_id, id)?;
            let rows = rows
                .filter(timeline_events::ts.ge(at.ts))
                .filter(timeline_events::ts.gt(at.ts).or(timeline_events::seq.ge(at.seq)));
            (rows, None)
        }
    })
}

/// How many events of the session belong to `set` (counted over the set's partial index).
pub fn count_in(
    connection: &mut AnyConnection,
    session_id: &str,
    set: EventSet,
) -> Result<i64, StorageError> {
    Ok(timeline_events::table
        .filter(timeline_events::session_id.eq(session_id))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&in_set(set)))
        .count()
        .get_result(connection)?)
}

type AnyBackend = <AnyConnection as Connection>::Backend;

/// The session's `decision_event`s, in timeline order, as many as [`MAX_PAGE_BYTES`] holds (at least one);
/// `true` when more follow (the timeline filtered to `decisions` pages through them all).
pub fn decisions(
    connection: &mut AnyConnection,
    session_id: &str,
) -> Result<(Vec<TimelineEvent>, bool), StorageError> {
    // Every event costs at least its overhead, so no more than this many can fit.
    let most = i64::try_from(MAX_PAGE_BYTES / EVENT_OVERHEAD_BYTES).unwrap_or(i64::MAX);
    in_index_order(connection, |connection| {
        let sizes: Vec<(i64, i64)> = decision_events(session_id)
            .limit(most + 1)
            .select((timeline_events::seq, diesel::dsl::sql::<BigInt>(EVENT_BYTES)))
            .load(connection)?;
        let wanted = usize::try_from(most).unwrap_or(usize::MAX).min(sizes.len());
        let fit = fitting(&sizes[..wanted]);
        Ok((load_events(connection, &sizes[..fit])?, sizes.len() > fit))
    })
}

/// The session's `decision_event`s in timeline order, over their partial index.
fn decision_events(session_id: &str) -> timeline_events::BoxedQuery<'_, AnyBackend> {
    // The kind is written into the SQL, not bound: only a literal lets the planners prove the partial index
    // `timeline_events_decisions` (WHERE kind = 'decision_event') applies. Kinds are `[a-z0-9_]`, so the literal
    // needs no quoting.
    let is_decision = format!("kind = '{}'", EventKind::DECISION_EVENT.as_str());
    timeline_events::table
        .filter(timeline_events::session_id.eq(session_id))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&is_decision))
        .order((timeline_events::ts.asc(), timeline_events::seq.asc()))
        .into_boxed()
}

/// The session's first `limit` `decision_event`s, in timeline order.
pub fn first_decisions(
    connection: &mut AnyConnection,
    session_id: &str,
    limit: i64,
) -> Result<Vec<TimelineEvent>, StorageError> {
    let rows: Vec<EventRow> = in_index_order(connection, |connection| {
        decision_events(session_id).limit(limit).select(EventRow::as_select()).load(connection)
    })?;
    rows.into_iter().map(TimelineEvent::try_from).collect()
}

/// Events whose `ts` lies in `[from, until]`, in timeline order.
pub fn between(
    connection: &mut AnyConnection,
    session_id: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<TimelineEvent>, StorageError> {
    let rows: Vec<EventRow> = in_index_order(connection, |connection| {
        timeline_events::table
            .filter(timeline_events::session_id.eq(session_id))
            .filter(timeline_events::ts.ge(to_stored_micros(from)))
            .filter(timeline_events::ts.le(to_stored_micros(until)))
            .order((timeline_events::ts.asc(), timeline_events::seq.asc()))
            .select(EventRow::as_select())
            .load(connection)
    })?;
    rows.into_iter().map(TimelineEvent::try_from).collect()
}
