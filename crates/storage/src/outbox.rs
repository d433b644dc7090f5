//! The webhook outbox (spec §12): an event is written here, once per subscribed webhook, in the transaction of
//! the change that causes it, so it is sent exactly when the change committed, and survives a crash until it is
//! delivered. The sender's side (claiming, recording attempts, the log) is `deliveries`.
//!
//! Each function here builds one event from what the change left in the database and stores it; callers run them
//! inside the change's own write.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use traceline_domain::candidate_key::CandidateKey;
use traceline_domain::json::JsonObject;
use traceline_domain::webhook::{DeliveryStatus, EventType, WebhookEvent};
use traceline_domain::{OrgId, Session};
use uuid::Uuid;

use diesel::prelude::*;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::to_stored_time;
use crate::schema::webhook_deliveries;
use crate::{assessments, webhooks};

/// Why a session was deleted, as `session.deleted` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletionReason {
    /// `DELETE /v1/sessions/:id`.
    Request,
    /// The org's retention sweep.
    Retention,
    /// `DELETE /v1/candidates?email=`: its candidate was erased.
    Erasure,
}

impl DeletionReason {
    fn as_str(self) -> &'static str {
        match self {
            DeletionReason::Request => "request",
            DeletionReason::Retention => "retention",
            DeletionReason::Erasure => "erasure",
        }
    }
}

/// `session.ended` for `session`, which has just ended: `{session}`.
pub fn session_ended(
    connection: &mut AnyConnection,
    session: &Session,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let data = object(json!({"session": session}));
    let subject = session.candidate_key_id.as_deref();
    enqueue(connection, &session.org_id, EventType::SessionEnded, data, subject, now)
}

/// `session.completed` for `key`, just completed, and its `session`: `{session, key}`.
pub fn session_completed(
    connection: &mut AnyConnection,
    session: &Session,
    key: &CandidateKey,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let data = object(json!({"session": session, "key": key.at(now)}));
    enqueue(connection, &key.org_id, EventType::SessionCompleted, data, Some(&key.id), now)
}

/// `key.redeemed` for `key`, just redeemed: `{key}`.
pub fn key_redeemed(
    connection: &mut AnyConnection,
    key: &CandidateKey,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let data = object(json!({"key": key.at(now)}));
    enqueue(connection, &key.org_id, EventType::KeyRedeemed, data, Some(&key.id), now)
}

/// `candidate.hired` or `candidate.rejected` for `key`, just decided: `{candidate}`, the key with its assessment's
/// title as `GET /v1/candidates` shows it.
pub fn candidate_decided(
    connection: &mut AnyConnection,
    event: EventType,
    key: &CandidateKey,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let title = match assessments::get(connection, &key.org_id, &key.assessment_id) {
        Ok(assessment) => Value::from(assessment.spec.title),
        Err(StorageError::NotFound) => Value::Null,
        Err(other) => return Err(other),
    };
    let mut candidate = object(json!(key.at(now)));
    candidate.insert("assessmentTitle".to_owned(), title);
    let data = object(json!({"candidate": candidate}));
    enqueue(connection, &key.org_id, event, data, Some(&key.id), now)
}

/// `session.deleted` for `session`, just deleted: `{session: {id, orgId, assessmentId}, reason}`. Only its ids:
/// what the session held is what deleting it removes.
pub fn session_deleted(
    connection: &mut AnyConnection,
    session: &Session,
    reason: DeletionReason,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let data = object(json!({
        "session": {"id": session.id, "orgId": session.org_id, "assessmentId": session.assessment_id},
        "reason": reason.as_str(),
    }));
    enqueue(connection, &session.org_id, EventType::SessionDeleted, data, None, now)
}

fn object(value: Value) -> JsonObject {
    match value {
        Value::Object(object) => object,
        _ => JsonObject::new(),
    }
}

/// Writes `event_type` with `data` to the outbox of every webhook of the org that receives it (none: nothing is
/// written). `subject_key_id` is the candidate key it is about, which erasure looks for.
pub fn enqueue(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    event_type: EventType,
    data: JsonObject,
    subject_key_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let receivers = webhooks::subscribed(connection, org_id, event_type)?;
    if receivers.is_empty() {
        return Ok(());
    }
    let event = WebhookEvent { id: Uuid::new_v4().to_string(), event_type, created_at: now, data };
    for webhook_id in &receivers {
        insert(connection, org_id, webhook_id, &event, subject_key_id, now)?;
    }
    Ok(())
}

/// Writes one delivery of `event` to `webhook_id`, due at `due`; returns its id.
pub(crate) fn insert(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    webhook_id: &str,
    event: &WebhookEvent,
    subject_key_id: Option<&str>,
    due: DateTime<Utc>,
) -> Result<String, StorageError> {
    let id = Uuid::new_v4().to_string();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(&id),
            webhook_deliveries::webhook_id.eq(webhook_id),
            webhook_deliveries::org_id.eq(org_id.as_str()),
            webhook_deliveries::event_id.eq(&event.id),
            webhook_deliveries::event_type.eq(event.event_type.as_str()),
            webhook_deliveries::subject_key_id.eq(subject_key_id),
            webhook_deliveries::body.eq(event.body()),
            webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
            webhook_deliveries::attempts.eq(0_i64),
            webhook_deliveries::created_at.eq(to_stored_time(event.created_at)),
            webhook_deliveries::next_attempt_at.eq(Some(to_stored_time(due))),
        ))
        .execute(connection)?;
    Ok(id)
}

/// Deletes every delivery, sent or not, of events about these candidate keys: erasing a candidate leaves no
/// copy of their name or e-mail in the outbox or the log.
pub fn forget_subjects(
    connection: &mut AnyConnection,
    key_ids: &[String],
) -> Result<usize, StorageError> {
    Ok(diesel::delete(
        webhook_deliveries::table.filter(webhook_deliveries::subject_key_id.eq_any(key_ids)),
    )
    .execute(connection)?)
}

/// Deletes finished deliveries (delivered or failed) older than `before`, of one org or of every org; returns
/// how many.
pub fn prune(
    connection: &mut AnyConnection,
    org_id: Option<&OrgId>,
    before: DateTime<Utc>,
) -> Result<usize, StorageError> {
    let finished = webhook_deliveries::table
        .filter(webhook_deliveries::status.ne(DeliveryStatus::Pending.as_str()))
        .filter(webhook_deliveries::created_at.lt(to_stored_time(before)));
    let deleted = match org_id {
        Some(org_id) => diesel::delete(
            finished.filter(webhook_deliveries::org_id.eq(org_id.as_str().to_owned())),
        )
        .execute(connection)?,
        None => diesel::delete(finished).execute(connection)?,
    };
    Ok(deleted)
}
