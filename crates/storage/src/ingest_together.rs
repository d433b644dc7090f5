//! Ingest requests as the write path receives them, and several of them stored together.
//!
//! An [`IngestRequest`] is one call of an ingest route: its credential, its events and when it arrived. Alone
//! it is stored by [`crate::ingest::ingest`]. SQLite's writer runs the ingest requests queued side by side in
//! one transaction; storing each with its own statements would cost a handful of statements per single-event
//! request, so [`ingest_together`] stores them as one set: one lookup of the ids, one read of the sessions, one
//! multi-row insert of the events and one of the envelopes, one aggregate update per session. Every request
//! still gets the outcome it would have had alone, run in queue order.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::candidate_keys;
use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::fresh_plan::planned_with_values;
use crate::ingest::{
    self, create_session, insert_rows, is_owned_by, record_chain, stored_ids, update_session,
    IncomingEvent, IngestCredential, IngestOutcome,
};
use crate::schema::sessions;
use crate::session_state::SessionState;

/// One call of an ingest route.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    /// The credential the events came with.
    pub credential: IngestCredential,
    /// The valid events, in the order sent.
    pub events: Vec<IncomingEvent>,
    /// When the request arrived.
    pub received_at: DateTime<Utc>,
}

/// What became of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestReply {
    /// The candidate's record is closed (spec §10.1): nothing of the request was stored.
    Closed,
    /// One outcome per event, in order.
    Stored(Vec<IngestOutcome>),
}

/// Stores one request: refused whole when its key has closed the record, else [`ingest::ingest`]. Run it inside
/// a write transaction.
pub fn ingest_request(
    connection: &mut AnyConnection,
    request: &IngestRequest,
) -> Result<IngestReply, StorageError> {
    let key_id = request.credential.candidate_key_id.as_str();
    if candidate_keys::lock_status(connection, key_id)?.is_finished() {
        return Ok(IngestReply::Closed);
    }
    let outcomes =
        ingest::ingest(connection, &request.credential, &request.events, request.received_at)?;
    Ok(IngestReply::Stored(outcomes))
}

/// An event of one of the requests: which request, which event of it.
#[derive(Clone, Copy)]
struct At {
    request: usize,
    event: usize,
}

/// Stores `requests` as one set of statements, with the replies each would have had run alone in this order.
/// Run it inside a write transaction; an error leaves nothing of any request behind, so the caller can retry
/// them one by one. Their events together must fit in one statement (SQLite binds at most 32,766 values; an
/// event row takes ten).
pub fn ingest_together(
    connection: &mut AnyConnection,
    requests: &[&IngestRequest],
) -> Result<Vec<IngestReply>, StorageError> {
    let mut key_ids: Vec<&str> =
        requests.iter().map(|request| request.credential.candidate_key_id.as_str()).collect();
    key_ids.sort_unstable();
    key_ids.dedup();
    let statuses = candidate_keys::lock_statuses(connection, &key_ids)?;
    let mut replies: Vec<IngestReply> = requests
        .iter()
        .map(|request| match statuses.get(&request.credential.candidate_key_id) {
            Some(status) if status.is_finished() => IngestReply::Closed,
            _ => IngestReply::Stored(vec![IngestOutcome::Duplicate; request.events.len()]),
        })
        .collect();
    let event = |at: At| &requests[at.request].events[at.event];

    // The open requests' events, grouped by session in order of first sight.
    let mut groups: Vec<(&str, Vec<At>)> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    for (index, request) in requests.iter().enumerate() {
        if replies[index] == IngestReply::Closed {
            continue;
        }
        for position in 0..request.events.len() {
            let session_id = request.events[position].envelope().session_id.as_str();
            let slot = *group_of.entry(session_id).or_insert_with(|| {
                groups.push((session_id, Vec::new()));
                groups.len() - 1
            });
            groups[slot].1.push(At { request: index, event: position });
        }
    }
    let ids: Vec<&str> = groups
        .iter()
        .flat_map(|(_, events)| events.iter().map(|&at| event(at).envelope().id.as_str()))
        .collect();
    if ids.is_empty() {
        return Ok(replies);
    }
    let stored = stored_ids(connection, &ids)?;
    let session_ids: Vec<&str> = groups.iter().map(|(id, _)| *id).collect();
    let mut existing = load_sessions(connection, &session_ids)?;

    // Judged as run one after another: ownership first, then the id (taken by another session, seen before,
    // or new). A session that does not exist yet belongs to the first request with a new event for it.
    let mut first_sightings: HashMap<&str, &str> = HashMap::new();
    let mut appending: Vec<(SessionState, Vec<At>)> = Vec::new();
    for (session_id, events) in groups {
        let mut session = existing.remove(session_id);
        let mut fresh = Vec::new();
        for at in events {
            let request = requests[at.request];
            let outcome = |replies: &mut Vec<IngestReply>, outcome| {
                if let IngestReply::Stored(outcomes) = &mut replies[at.request] {
                    outcomes[at.event] = outcome;
                }
            };
            if session.as_ref().is_some_and(|session| !is_owned_by(session, &request.credential)) {
                outcome(&mut replies, IngestOutcome::Forbidden);
                continue;
            }
            let id = event(at).envelope().id.as_str();
            let owner =
                stored.get(id).map(String::as_str).or_else(|| first_sightings.get(id).copied());
            match owner {
                Some(owner) if owner != session_id => outcome(&mut replies, IngestOutcome::IdTaken),
                Some(_) => {}
                None => {
                    if session.is_none() {
                        let envelope = event(at).envelope();
                        let created = create_session(
                            connection,
                            &request.credential,
                            envelope,
                            request.received_at,
                        )?;
                        if !is_owned_by(&created, &request.credential) {
                            outcome(&mut replies, IngestOutcome::Forbidden);
                            session = Some(created);
                            continue;
                        }
                        session = Some(created);
                    }
                    first_sightings.insert(id, session_id);
                    fresh.push(at);
                }
            }
        }
        if let (Some(session), false) = (session, fresh.is_empty()) {
            appending.push((session, fresh));
        }
    }

    // Each event stamped with its own request's arrival.
    let rows = appending.iter().flat_map(|(_, fresh)| fresh.iter().copied());
    let rows: Vec<_> =
        rows.map(|at| event(at).row(requests[at.request].received_at)).collect::<Result<_, _>>()?;
    let inserted = insert_rows(connection, &rows)?;
    let mut updates = Vec::with_capacity(appending.len());
    for (session, fresh) in appending {
        let mut appended = Vec::with_capacity(fresh.len());
        let mut now = None;
        for at in fresh {
            let (incoming, received_at) = (event(at), requests[at.request].received_at);
            // Nothing else writes while SQLite's writer runs these, so every new row came back; a missing
            // one (another writer on PostgreSQL) fails the set, and the requests are then run one by one.
            let seq = *inserted.get(incoming.envelope().id.as_str()).ok_or_else(|| {
                StorageError::Conflict { constraint: Some("timeline_events.id".to_owned()) }
            })?;
            if let IngestReply::Stored(outcomes) = &mut replies[at.request] {
                outcomes[at.event] = IngestOutcome::Created;
            }
            appended.push((incoming, seq));
            now = now.max(Some(received_at));
        }
        updates.push((session, appended, now.unwrap_or_else(Utc::now)));
    }
    for (session, appended, now) in updates {
        let chain = record_chain(connection, &session, &appended)?;
        update_session(connection, session, &appended, chain, now)?;
    }
    Ok(replies)
}

/// The ingest state of the sessions that exist among `ids`, by id; locked in id order on PostgreSQL.
fn load_sessions(
    connection: &mut AnyConnection,
    ids: &[&str],
) -> Result<HashMap<String, SessionState>, StorageError> {
    let query = sessions::table
        .filter(sessions::id.eq_any(ids))
        .filter(planned_with_values())
        .order(sessions::id.asc());
    let found: Vec<SessionState> = match connection {
        AnyConnection::Postgres(pg) => {
            query.select(SessionState::as_select()).for_update().load(pg)?
        }
        AnyConnection::Sqlite(sqlite) => query.select(SessionState::as_select()).load(sqlite)?,
    };
    Ok(found.into_iter().map(|state| (state.id.clone(), state)).collect())
}
