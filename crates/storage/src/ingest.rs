//! The ingest write path (spec §4): events appended to their sessions, atomically with every effect.
//!
//! A request's events are stored set-at-a-time, in the caller's write transaction: they are grouped by session;
//! the sessions are locked on PostgreSQL with one statement, in the order of their ids (so concurrent writers of
//! one session serialise, and writers of overlapping sets of sessions cannot deadlock), and checked against the
//! credential; missing ones are created, in the same order (for their events only, ids already stored are
//! looked up first, so a session is never created for events that are all duplicates); the events of every
//! session go in with one multi-row `INSERT … ON CONFLICT (id) DO NOTHING RETURNING`, so concurrent retries yield
//! exactly one row whatever the interleaving; the raw envelopes follow in one more; and each session's counters
//! and metric aggregates are folded once and written with one update. A whole batch costs a handful of
//! statements and one per session, not a handful per event.
//! Every outcome is decided per event: created, duplicate, or forbidden.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use traceline_domain::event::{Envelope, EventKind};
use traceline_domain::json::JsonObject;
use traceline_domain::metrics::EventFacts;
use traceline_domain::signing::{EventSignature, PublicKey};
use traceline_domain::{OrgId, SessionId};

use crate::aggregates::Aggregates;
use crate::backend::per_backend;
use crate::chain::{self, ChainColumns, ChainEvent};
use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::fresh_plan::planned_with_values;
use crate::rows::{
    from_stored_event_id, object_from_text, object_to_text, to_stored_event_id, to_stored_micros,
    to_stored_time,
};
use crate::schema::{sessions, timeline_events};
use crate::scope::SessionScope;
use crate::session_state::{lock_session, lock_sessions, SessionState};
use crate::sessions::NewSessionRecord;
use crate::{candidate_keys, sessions as session_repo};

/// The candidate credential an event arrived with.
#[derive(Debug, Clone)]
pub struct IngestCredential {
    /// The key's org.
    pub org_id: OrgId,
    /// The key's id.
    pub candidate_key_id: String,
    /// The key's assessment.
    pub assessment_id: String,
}

/// An event as received: validated, plus the exact JSON the client sent, with its stored columns rendered (and
/// its signature verified) by the request's own thread, so the single writer does as little as possible.
/// The JSON sent is stored once: `data` is stored beside it only when normalisation changed it.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    envelope: Envelope,
    raw: String,
    /// The id as stored (16 bytes), parsed here rather than in the writer; `None` for an id that is no UUID.
    stored_id: Option<[u8; 16]>,
    source: String,
    actor: String,
    provenance: String,
    /// The normalised `data`, when it differs from the `data` the client sent (`None`: read it from `raw`).
    data: Option<String>,
    /// The sets the event belongs to (`traceline_domain::metrics::EventSet`), stored for the timeline's filters.
    marks: i64,
    signature: EventSignature,
    /// Whether `sig` verified against a key, checked ahead of the write.
    verdict: Option<(PublicKey, bool)>,
}

impl IncomingEvent {
    /// An event to store: its validated envelope, the JSON the client sent as text (kept verbatim) and as
    /// parsed, from which the signature fields are read.
    pub fn new(envelope: Envelope, raw: String, sent: &Value) -> Self {
        let normalised = sent.get("data").and_then(Value::as_object) != Some(&envelope.data);
        IncomingEvent {
            source: object_to_text(&envelope.source.to_json()),
            actor: object_to_text(&envelope.actor.to_json()),
            provenance: object_to_text(&envelope.provenance.to_json()),
            data: normalised.then(|| object_to_text(&envelope.data)),
            marks: EventFacts::of(&envelope).marks().bits(),
            signature: EventSignature::to_verify(sent),
            stored_id: to_stored_event_id(envelope.id.as_str()),
            envelope,
            raw,
            verdict: None,
        }
    }

    /// The validated envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The event's `timeline_events` row, stored at `created_at`. Envelopes are validated, so their ids are
    /// UUIDs; one that is not is refused rather than stored under another id.
    pub(crate) fn row(&self, created_at: DateTime<Utc>) -> Result<NewEventRow<'_>, StorageError> {
        let id = self.stored_id.ok_or_else(|| {
            StorageError::Corrupt(format!("event id {:?} is no UUID", self.envelope.id.as_str()))
        })?;
        Ok(NewEventRow {
            id,
            session_id: self.envelope.session_id.as_str(),
            kind: self.envelope.kind.as_str(),
            ts: to_stored_micros(self.envelope.ts),
            source: &self.source,
            actor: &self.actor,
            provenance: &self.provenance,
            data: self.data.as_deref(),
            envelope: &self.raw,
            created_at: to_stored_micros(created_at),
            marks: Some(self.marks),
        })
    }

    /// The signature fields as sent.
    pub fn signature(&self) -> &EventSignature {
        &self.signature
    }

    /// Verifies the event's signature against `key`, the key its session is expected to have, ahead of the
    /// write: on SQLite the write runs on the one writer thread, which must not spend its time on curve
    /// arithmetic. The write checks that the session still has that key, and verifies again if not.
    pub fn verify_ahead(&mut self, key: &PublicKey) {
        let verified = verify(&self.signature, key);
        self.verdict = Some((key.clone(), verified));
    }

    /// Whether the event's `sig` verifies against `key`: the verdict found ahead, when it was for this key.
    pub(crate) fn verified_by(&self, key: &PublicKey) -> bool {
        match &self.verdict {
            Some((checked, verified)) if checked == key => *verified,
            _ => verify(&self.signature, key),
        }
    }
}

fn verify(signature: &EventSignature, key: &PublicKey) -> bool {
    match (&signature.message, &signature.sig) {
        (Some(message), Some(sig)) => key.verifies(message, sig),
        _ => false,
    }
}

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Stored: 201.
    Created,
    /// Its id was seen before in the same session; nothing changed: 200 with `skipped`.
    Duplicate,
    /// Its id is taken by an event of another session: 409. Answering "skipped" would drop the event without a
    /// word, and storing it is impossible (ids are the idempotency key across the installation).
    IdTaken,
    /// Its session belongs to another org or another candidate: 403.
    Forbidden,
}

/// Stores `events`, in order, and says what became of each. Run it inside a write transaction: a database error
/// leaves nothing of the request behind.
///
/// Ownership is judged before duplicates, so a credential learns nothing about other tenants' sessions or
/// events: an event aimed at a session it may not write is 403 whether or not its id exists.
pub fn ingest(
    connection: &mut AnyConnection,
    credential: &IngestCredential,
    events: &[IncomingEvent],
    received_at: DateTime<Utc>,
) -> Result<Vec<IngestOutcome>, StorageError> {
    let mut sessions: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut session_index: HashMap<&str, usize> = HashMap::new();
    for (index, event) in events.iter().enumerate() {
        let session_id = event.envelope.session_id.as_str();
        let slot = *session_index.entry(session_id).or_insert_with(|| {
            sessions.push((session_id, Vec::new()));
            sessions.len() - 1
        });
        sessions[slot].1.push(index);
    }
    // Sessions are written, and those missing created, in the order of their ids, as they are locked: two
    // requests creating overlapping sets of sessions then wait for each other rather than deadlock.
    sessions.sort_unstable_by_key(|(id, _)| *id);
    let session_ids: Vec<&str> = sessions.iter().map(|(id, _)| *id).collect();
    let mut locked: HashMap<String, SessionState> = lock_sessions(connection, &session_ids)?
        .into_iter()
        .map(|session| (session.id.clone(), session))
        .collect();
    // Ids already stored matter ahead of the insert only for events of sessions yet to be created (a session
    // must not be created for events that are all duplicates or conflicts); in existing sessions the insert's
    // `ON CONFLICT … RETURNING` tells them apart, which spares the common request a statement.
    let lookup: Vec<&str> = sessions
        .iter()
        .filter(|(id, _)| !locked.contains_key(*id))
        .flat_map(|(_, indices)| indices.iter().map(|&index| events[index].envelope.id.as_str()))
        .collect();
    let stored = if lookup.is_empty() { HashMap::new() } else { stored_ids(connection, &lookup)? };
    let mut outcomes = vec![IngestOutcome::Duplicate; events.len()];
    // Where each id is first seen in this very request, in the request's order (not the sessions' order of
    // writing), leaving out sessions the credential may not write: that event is the one stored.
    let mut first_sightings: HashMap<&str, (&str, usize)> = HashMap::new();
    for (index, event) in events.iter().enumerate() {
        let session_id = event.envelope.session_id.as_str();
        if locked.get(session_id).is_some_and(|session| !is_owned_by(session, credential)) {
            continue;
        }
        first_sightings.entry(event.envelope.id.as_str()).or_insert((session_id, index));
    }
    // The sessions that take events, each with the indices of its events to insert, in storage order.
    let mut writable: Vec<(SessionState, Vec<usize>)> = Vec::with_capacity(sessions.len());
    for (session_id, indices) in sessions {
        let existing = locked.remove(session_id);
        if existing.as_ref().is_some_and(|session| !is_owned_by(session, credential)) {
            for index in indices {
                outcomes[index] = IngestOutcome::Forbidden;
            }
            continue;
        }
        let mut fresh = Vec::with_capacity(indices.len());
        for index in indices {
            let id = events[index].envelope.id.as_str();
            let owner = match stored.get(id) {
                Some(owner) => (owner.as_str(), None),
                None => first_sightings
                    .get(id)
                    .map_or((session_id, Some(index)), |&(owner, first)| (owner, Some(first))),
            };
            match owner {
                (owner, _) if owner != session_id => outcomes[index] = IngestOutcome::IdTaken,
                (_, Some(first)) if first == index => fresh.push(index),
                // Stored before, or earlier in this very request: skipped.
                _ => {}
            }
        }
        if fresh.is_empty() {
            continue;
        }
        let session = match existing {
            Some(session) => session,
            None => {
                create_session(connection, credential, &events[fresh[0]].envelope, received_at)?
            }
        };
        // A concurrent request may have created the session for another credential between the lock and here.
        if !is_owned_by(&session, credential) {
            for index in fresh {
                outcomes[index] = IngestOutcome::Forbidden;
            }
            continue;
        }
        writable.push((session, fresh));
    }
    // Every session's events in one insert: a batch over many sessions costs one statement here, not one per
    // session.
    let fresh: Vec<usize> = writable.iter().flat_map(|(_, fresh)| fresh.iter().copied()).collect();
    if fresh.is_empty() {
        return Ok(outcomes);
    }
    let rows: Vec<NewEventRow<'_>> =
        fresh.iter().map(|&index| events[index].row(received_at)).collect::<Result<_, _>>()?;
    let inserted = insert_rows(connection, &rows)?;
    let lost: Vec<usize> = fresh
        .iter()
        .copied()
        .filter(|&index| !inserted.contains_key(events[index].envelope.id.as_str()))
        .collect();
    if !lost.is_empty() {
        // Missing from RETURNING: a concurrent request stored the same id first (or, on PostgreSQL, an earlier
        // one did). Only retries and collisions get here, so the stored event's session is looked up only here:
        // a retry of this very event is a duplicate, an id taken by another session a conflict.
        let ids: Vec<&str> = lost.iter().map(|&index| events[index].envelope.id.as_str()).collect();
        let winners = stored_ids(connection, &ids)?;
        for index in lost {
            let envelope = &events[index].envelope;
            let winner = winners.get(envelope.id.as_str());
            if winner.is_some_and(|winner| winner != envelope.session_id.as_str()) {
                outcomes[index] = IngestOutcome::IdTaken;
            }
        }
    }
    let mut appended_by_session = Vec::with_capacity(writable.len());
    for (session, fresh) in writable {
        let appended: Vec<(&IncomingEvent, i64)> = fresh
            .into_iter()
            .filter_map(|index| {
                let seq = *inserted.get(events[index].envelope.id.as_str())?;
                outcomes[index] = IngestOutcome::Created;
                Some((&events[index], seq))
            })
            .collect();
        if !appended.is_empty() {
            appended_by_session.push((session, appended));
        }
    }
    for (session, appended) in appended_by_session {
        let chain = record_chain(connection, &session, &appended)?;
        update_session(connection, session, &appended, chain, received_at)?;
    }
    Ok(outcomes)
}

pub(crate) fn is_owned_by(session: &SessionState, credential: &IngestCredential) -> bool {
    session.org_id == credential.org_id.as_str()
        && session.candidate_key_id.as_deref() == Some(credential.candidate_key_id.as_str())
}

/// Which of `ids` are already stored, with the session each belongs to.
pub(crate) fn stored_ids(
    connection: &mut AnyConnection,
    ids: &[&str],
) -> Result<HashMap<String, String>, StorageError> {
    let keys: Vec<[u8; 16]> = ids.iter().filter_map(|id| to_stored_event_id(id)).collect();
    let found: Vec<(Vec<u8>, String)> = match keys.as_slice() {
        [] => Vec::new(),
        // The common single-event request uses a statement SQLite and PostgreSQL can keep prepared.
        [key] => timeline_events::table
            .filter(timeline_events::id.eq(key.as_slice()))
            .select((timeline_events::id, timeline_events::session_id))
            .load(connection)?,
        _ => timeline_events::table
            .filter(timeline_events::id.eq_any(keys.iter().map(<[u8; 16]>::as_slice)))
            .filter(planned_with_values())
            .select((timeline_events::id, timeline_events::session_id))
            .load(connection)?,
    };
    found.into_iter().map(|(id, session)| Ok((from_stored_event_id(&id)?, session))).collect()
}

pub(crate) fn create_session(
    connection: &mut AnyConnection,
    credential: &IngestCredential,
    envelope: &Envelope,
    now: DateTime<Utc>,
) -> Result<SessionState, StorageError> {
    let record = NewSessionRecord {
        id: envelope.session_id.clone(),
        org_id: credential.org_id.clone(),
        candidate_key_id: Some(credential.candidate_key_id.clone()),
        assessment_id: Some(credential.assessment_id.clone()),
        source_service: envelope.source.integration.clone(),
        metadata: JsonObject::new(),
        created_at: now,
    };
    // In a savepoint of its own: if a concurrent event created the session first, the unique violation must not
    // abort this event's transaction; the other request's session is used instead.
    match connection.transaction(|connection| session_repo::insert(connection, &record)) {
        Ok(_) => {
            candidate_keys::link_session(
                connection,
                &credential.candidate_key_id,
                envelope.session_id.as_str(),
            )?;
        }
        Err(StorageError::Conflict { .. }) => {}
        Err(other) => return Err(other),
    }
    lock_session(connection, envelope.session_id.as_str())?.ok_or(StorageError::NotFound)
}

/// A new event's row. Its `None`s are NULLs, never "the column's default": with no default to ask for, diesel
/// inserts many rows in one statement on SQLite as well (see [`insert_rows`]).
#[derive(Insertable)]
#[diesel(table_name = timeline_events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_default_value = false)]
pub(crate) struct NewEventRow<'a> {
    id: [u8; 16],
    session_id: &'a str,
    kind: &'a str,
    ts: i64,
    source: &'a str,
    actor: &'a str,
    provenance: &'a str,
    data: Option<&'a str>,
    envelope: &'a str,
    created_at: i64,
    marks: Option<i64>,
}

/// Rows per insert statement: 11 bound values a row keep a statement far below SQLite's 32,766.
const ROWS_PER_INSERT: usize = 1000;

/// Inserts `rows`, skipping ids already stored, with one multi-row `INSERT … ON CONFLICT (id) DO NOTHING
/// RETURNING` per [`ROWS_PER_INSERT`]; returns the sequence number of each row inserted, by id. On SQLite too
/// the rows go in as one statement, because no field of [`NewEventRow`] asks for a column's default (diesel
/// would run the insert once per row): that halved the writer's time per event in batches.
pub(crate) fn insert_rows(
    connection: &mut AnyConnection,
    rows: &[NewEventRow<'_>],
) -> Result<HashMap<String, i64>, StorageError> {
    let mut inserted = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let stored: Vec<(Vec<u8>, i64)> = match chunk {
            [row] => per_backend!(connection, |inner| diesel::insert_into(timeline_events::table)
                .values(row)
                .on_conflict(timeline_events::id)
                .do_nothing()
                .returning((timeline_events::id, timeline_events::seq))
                .get_results(inner)?),
            _ => per_backend!(connection, |inner| diesel::insert_into(timeline_events::table)
                .values(chunk)
                .on_conflict(timeline_events::id)
                .do_nothing()
                .returning((timeline_events::id, timeline_events::seq))
                .get_results(inner)?),
        };
        for (id, seq) in stored {
            inserted.insert(from_stored_event_id(&id)?, seq);
        }
    }
    Ok(inserted)
}

/// The session's chain columns once `appended` is recorded: chain rows and links for a session with a signing
/// key, only the count of signed events for one without.
pub(crate) fn record_chain(
    connection: &mut AnyConnection,
    session: &SessionState,
    appended: &[(&IncomingEvent, i64)],
) -> Result<ChainColumns, StorageError> {
    let Some(key) = session.signing_key()? else {
        let signed = appended.iter().filter(|(event, _)| event.signature.is_signed()).count();
        return Ok(session.chain.with_unkeyed(signed));
    };
    let events: Vec<ChainEvent<'_>> = appended
        .iter()
        .map(|(event, seq)| ChainEvent {
            seq: *seq,
            ts: event.envelope.ts,
            sig: event.signature.sig.as_deref(),
            prev_sig: event.signature.prev_sig.as_deref(),
            verified: event.verified_by(&key),
        })
        .collect();
    chain::append(connection, &session.id, &session.chain, &events)
}

/// Folds the appended events into the session's aggregates and writes them back, with its chain columns, in one
/// statement; applies `session_start` metadata and `session_end`, which also (re)derives the artifacts from
/// those aggregates.
pub(crate) fn update_session(
    connection: &mut AnyConnection,
    session: SessionState,
    appended: &[(&IncomingEvent, i64)],
    chain: ChainColumns,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let mut totals = session.totals();
    let mut activity = session.activity()?;
    let was_open = session.ended_at.is_none();
    let mut ended_at = session.ended_at;
    let mut ends = false;
    let mut starts = Vec::new();
    for (event, seq) in appended {
        let envelope = &event.envelope;
        totals.record(envelope, *seq);
        activity.record(&envelope.kind, &envelope.data);
        if envelope.kind == EventKind::SESSION_END {
            ends = true;
            ended_at = ended_at.or(Some(to_stored_time(envelope.ts)));
        } else if envelope.kind == EventKind::SESSION_START {
            starts.push(&envelope.data);
        }
    }
    let started_at = totals.first_event_at.map_or(session.started_at, to_stored_time);
    let last_activity_at = totals.last_event_at.map_or(session.last_activity_at, to_stored_time);
    diesel::update(sessions::table.find(&session.id))
        .set((
            Aggregates::from_totals(&totals),
            chain,
            sessions::last_activity_at.eq(last_activity_at),
            sessions::ended_at.eq(ended_at),
            sessions::updated_at.eq(to_stored_time(now)),
            sessions::activity_counts.eq(crate::rows::activity_to_text(&activity)),
        ))
        .execute(connection)?;
    // Apart, and only when it moves: started_at is indexed, and rewriting an unchanged index entry on every
    // event would cost a page write each time.
    if started_at != session.started_at {
        diesel::update(sessions::table.find(&session.id))
            .set(sessions::started_at.eq(started_at))
            .execute(connection)?;
    }
    for data in starts {
        copy_start_metadata(connection, &session.id, data)?;
    }
    if ends {
        crate::artifacts::derive(connection, &session.id, now)?;
        if was_open {
            announce_end(connection, &session, now)?;
        }
    }
    Ok(())
}

/// Tells the org's webhooks that a `session_end` event ended the session (`session.ended`).
fn announce_end(
    connection: &mut AnyConnection,
    session: &SessionState,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let scope = SessionScope::org(OrgId::new(session.org_id.clone()));
    let ended = session_repo::get(connection, &scope, &SessionId::from_stored(session.id.clone()))?;
    crate::outbox::session_ended(connection, &ended, now)
}

/// `session_start` fills `cwd` and `assessmentId` into the metadata when they are not there yet.
fn copy_start_metadata(
    connection: &mut AnyConnection,
    id: &str,
    data: &JsonObject,
) -> Result<(), StorageError> {
    let text: String = sessions::table.find(id).select(sessions::metadata).first(connection)?;
    let mut metadata = object_from_text("sessions.metadata", &text)?;
    let mut changed = false;
    for key in ["cwd", "assessmentId"] {
        if let Some(value) = data.get(key).filter(|value| !value.is_null()) {
            if !metadata.contains_key(key) {
                metadata.insert(key.to_owned(), Value::clone(value));
                changed = true;
            }
        }
    }
    if changed {
        diesel::update(sessions::table.find(id))
            .set(sessions::metadata.eq(object_to_text(&metadata)))
            .execute(connection)?;
    }
    Ok(())
}
