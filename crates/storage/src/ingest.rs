//! The ingest write path (spec §4): one event appended to its session, atomically with every effect.
//!
//! For each event, inside a savepoint of the caller's transaction: refuse a seen id; find or create the session
//! (locked on PostgreSQL, so concurrent events of one session serialise); check it belongs to the credential;
//! insert the event with `ON CONFLICT (id) DO NOTHING`, so that concurrent retries yield exactly one row whatever
//! the interleaving; keep the raw envelope; fold the event into the session's counters and metric aggregates.
//! Anything refused rolls the savepoint back, so a refused event leaves no trace, not even a new session.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use traceline_domain::event::{Envelope, EventKind};
use traceline_domain::json::JsonObject;
use traceline_domain::OrgId;

use crate::backend::per_backend;
use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{object_from_text, object_to_text, to_stored_time};
use crate::schema::{raw_events, sessions, timeline_events};
use crate::session_state::{lock_session, SessionState};
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

/// An event as received: validated, plus the exact JSON the client sent.
#[derive(Debug, Clone)]
pub struct IncomingEvent {
    /// The validated, normalised envelope.
    pub envelope: Envelope,
    /// The envelope as sent, kept verbatim (unknown fields included).
    pub raw: String,
}

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Stored: 201.
    Created,
    /// Its id was seen before; nothing changed: 200 with `skipped`.
    Duplicate,
    /// Its session belongs to another org or another candidate: 403.
    Forbidden,
}

/// Why an event's savepoint is rolled back.
enum Abort {
    Outcome(IngestOutcome),
    Storage(StorageError),
}

impl From<diesel::result::Error> for Abort {
    fn from(error: diesel::result::Error) -> Self {
        Abort::Storage(error.into())
    }
}

impl From<StorageError> for Abort {
    fn from(error: StorageError) -> Self {
        Abort::Storage(error)
    }
}

/// Appends one event. Run it inside a write transaction; it opens its own savepoint.
pub fn ingest(
    connection: &mut AnyConnection,
    credential: &IngestCredential,
    event: &IncomingEvent,
    received_at: DateTime<Utc>,
) -> Result<IngestOutcome, StorageError> {
    match connection.transaction(|connection| append(connection, credential, event, received_at)) {
        Ok(()) => Ok(IngestOutcome::Created),
        Err(Abort::Outcome(outcome)) => Ok(outcome),
        Err(Abort::Storage(error)) => Err(error),
    }
}

fn append(
    connection: &mut AnyConnection,
    credential: &IngestCredential,
    event: &IncomingEvent,
    received_at: DateTime<Utc>,
) -> Result<(), Abort> {
    let envelope = &event.envelope;
    let seen = timeline_events::table
        .filter(timeline_events::id.eq(envelope.id.as_str()))
        .select(timeline_events::seq)
        .first::<i64>(connection)
        .optional()?;
    if seen.is_some() {
        return Err(Abort::Outcome(IngestOutcome::Duplicate));
    }
    let session = match lock_session(connection, envelope.session_id.as_str())? {
        Some(session) => session,
        None => create_session(connection, credential, envelope, received_at)?,
    };
    if session.org_id != credential.org_id.as_str()
        || session.candidate_key_id.as_deref() != Some(credential.candidate_key_id.as_str())
    {
        return Err(Abort::Outcome(IngestOutcome::Forbidden));
    }
    let Some(seq) = insert_event(connection, envelope, received_at)? else {
        // A concurrent request stored the same id between our check and our insert: it won.
        return Err(Abort::Outcome(IngestOutcome::Duplicate));
    };
    diesel::insert_into(raw_events::table)
        .values((
            raw_events::event_seq.eq(seq),
            raw_events::envelope.eq(&event.raw),
            raw_events::received_at.eq(to_stored_time(received_at)),
        ))
        .execute(connection)?;
    update_session(connection, session, envelope, seq, received_at)?;
    Ok(())
}

fn create_session(
    connection: &mut AnyConnection,
    credential: &IngestCredential,
    envelope: &Envelope,
    now: DateTime<Utc>,
) -> Result<SessionState, Abort> {
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
        Err(other) => return Err(other.into()),
    }
    lock_session(connection, envelope.session_id.as_str())?
        .ok_or(Abort::Storage(StorageError::NotFound))
}

#[derive(Insertable)]
#[diesel(table_name = timeline_events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct NewEventRow<'a> {
    id: &'a str,
    session_id: &'a str,
    kind: &'a str,
    ts: NaiveDateTime,
    source: String,
    actor: String,
    provenance: String,
    data: String,
    created_at: NaiveDateTime,
}

/// Inserts the event unless its id exists; returns its sequence number, or `None` when another write won.
fn insert_event(
    connection: &mut AnyConnection,
    envelope: &Envelope,
    received_at: DateTime<Utc>,
) -> Result<Option<i64>, StorageError> {
    let row = NewEventRow {
        id: envelope.id.as_str(),
        session_id: envelope.session_id.as_str(),
        kind: envelope.kind.as_str(),
        ts: to_stored_time(envelope.ts),
        source: object_to_text(&envelope.source.to_json()),
        actor: object_to_text(&envelope.actor.to_json()),
        provenance: object_to_text(&envelope.provenance.to_json()),
        data: object_to_text(&envelope.data),
        created_at: to_stored_time(received_at),
    };
    let seq = per_backend!(connection, |inner| diesel::insert_into(timeline_events::table)
        .values(&row)
        .on_conflict(timeline_events::id)
        .do_nothing()
        .returning(timeline_events::seq)
        .get_result::<i64>(inner)
        .optional()?);
    Ok(seq)
}

fn update_session(
    connection: &mut AnyConnection,
    session: SessionState,
    envelope: &Envelope,
    seq: i64,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let mut totals = session.totals();
    totals.record(envelope, seq);
    let started_at = totals.first_event_at.map_or(session.started_at, to_stored_time);
    let last_activity_at = totals.last_event_at.map_or(session.last_activity_at, to_stored_time);
    let ended_at = match (session.ended_at, envelope.kind == EventKind::SESSION_END) {
        (None, true) => Some(to_stored_time(envelope.ts)),
        (ended_at, _) => ended_at,
    };
    let last_test = totals.last_test.as_ref();
    diesel::update(sessions::table.find(&session.id))
        .set((
            sessions::event_count.eq(totals.event_count),
            sessions::decision_flag_count.eq(totals.decision_flag_count),
            sessions::prompt_count.eq(totals.prompt_count),
            sessions::command_count.eq(totals.command_count),
            sessions::command_exit_count.eq(totals.command_exit_count),
            sessions::command_fail_count.eq(totals.command_fail_count),
            sessions::verify_count.eq(totals.verify_count),
            sessions::file_change_count.eq(totals.file_change_count),
            sessions::manual_edit_count.eq(totals.manual_edit_count),
            sessions::first_change_at.eq(totals.first_change_at.map(to_stored_time)),
            sessions::ai_weight_halves.eq(totals.ai_weight_halves),
            sessions::ai_attributed_size.eq(totals.ai_attributed_size),
            sessions::last_test_at.eq(last_test.map(|test| to_stored_time(test.at))),
            sessions::last_test_seq.eq(last_test.map(|test| test.seq)),
            sessions::last_test_passed.eq(last_test.map(|test| test.passed)),
            sessions::started_at.eq(started_at),
            sessions::last_activity_at.eq(last_activity_at),
            sessions::ended_at.eq(ended_at),
            sessions::updated_at.eq(to_stored_time(now)),
        ))
        .execute(connection)?;
    if envelope.kind == EventKind::SESSION_START {
        copy_start_metadata(connection, &session.id, &envelope.data)?;
    }
    if envelope.kind == EventKind::SESSION_END {
        crate::artifacts::derive(connection, &session.id, now)?;
    }
    Ok(())
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
