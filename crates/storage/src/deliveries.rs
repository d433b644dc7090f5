//! The sender's side of the webhook outbox (spec §12): which deliveries are due, claiming them under a lease so
//! that several instances on one database never send the same one at the same time, recording each attempt, and
//! the per-webhook delivery log.
//!
//! A claim is a conditional update (`… WHERE lease is free`), whose affected-row count says whether this sender
//! won: on PostgreSQL a concurrent claimer waits on the row lock and then finds the lease taken; SQLite has one
//! writer. A sender that dies mid-send leaves its lease to expire, and the delivery is tried again: at least once.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use traceline_domain::webhook::{Delivery, DeliveryStatus, EventType};
use traceline_domain::{OrgId, Page};

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, to_stored_time};
use crate::schema::{webhook_deliveries, webhooks};

/// A delivery this sender holds the lease of, with what it takes to send it.
#[derive(Debug, Clone)]
pub struct ClaimedDelivery {
    /// The delivery's id.
    pub id: String,
    /// The event's id, sent as `Traceline-Event-Id`.
    pub event_id: String,
    /// The exact body to post and sign.
    pub body: String,
    /// Where to post it.
    pub url: String,
    /// The webhook's signing secret.
    pub secret: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// When the event happened (the retry window runs from here).
    pub created_at: DateTime<Utc>,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// When it started.
    pub at: DateTime<Utc>,
    /// The answer's status, if one came.
    pub status_code: Option<u16>,
    /// How long it took.
    pub latency_ms: i64,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// What follows: delivered, tried again at a time, or given up.
    pub next: NextStep,
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// A 2xx answered it.
    Delivered,
    /// Try again then.
    RetryAt(DateTime<Utc>),
    /// No more attempts.
    GiveUp,
}

/// When the next pending delivery that no sender holds at `now` falls due (already due ones included), if any.
/// Deliveries in flight do not count, so a sender waiting on slow receivers does not keep asking to claim.
pub fn next_due(
    connection: &mut AnyConnection,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StorageError> {
    let now = to_stored_time(now);
    let due: Option<NaiveDateTime> = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(
            webhook_deliveries::lease_until.is_null().or(webhook_deliveries::lease_until.lt(now)),
        )
        .select(diesel::dsl::min(webhook_deliveries::next_attempt_at))
        .first(connection)?;
    Ok(due.map(from_stored_time))
}

/// How many deliveries are still pending (not yet delivered, not given up), in flight or not: the webhook
/// backlog `GET /metrics` reports.
pub fn backlog(connection: &mut AnyConnection) -> Result<i64, StorageError> {
    Ok(webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .count()
        .get_result(connection)?)
}

/// Claims up to `limit` deliveries due at `now` whose lease is free, for `owner` until `lease_until`.
pub fn claim(
    connection: &mut AnyConnection,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ClaimedDelivery>, StorageError> {
    let now = to_stored_time(now);
    let free =
        || webhook_deliveries::lease_until.is_null().or(webhook_deliveries::lease_until.lt(now));
    let candidates: Vec<String> = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(free())
        .order(webhook_deliveries::next_attempt_at.asc())
        .limit(limit)
        .select(webhook_deliveries::id)
        .load(connection)?;
    let mut won = Vec::with_capacity(candidates.len());
    for id in candidates {
        let claimed = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(&id))
                .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()))
                .filter(free()),
        )
        .set((
            webhook_deliveries::lease_owner.eq(owner),
            webhook_deliveries::lease_until.eq(to_stored_time(lease_until)),
        ))
        .execute(connection)?;
        if claimed == 1 {
            won.push(id);
        }
    }
    if won.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, String, String, String, i64, NaiveDateTime)> =
        webhook_deliveries::table
            .inner_join(webhooks::table)
            .filter(webhook_deliveries::id.eq_any(&won))
            .select((
                webhook_deliveries::id,
                webhook_deliveries::event_id,
                webhook_deliveries::body,
                webhooks::url,
                webhooks::secret,
                webhook_deliveries::attempts,
                webhook_deliveries::created_at,
            ))
            .load(connection)?;
    Ok(rows
        .into_iter()
        .map(|(id, event_id, body, url, secret, attempts, created_at)| ClaimedDelivery {
            id,
            event_id,
            body,
            url,
            secret,
            attempts,
            created_at: from_stored_time(created_at),
        })
        .collect())
}

/// Records an attempt on a delivery `owner` holds, and frees its lease. Returns false when the lease had passed
/// to another sender (whose own attempt will be recorded instead) or the webhook was deleted meanwhile.
pub fn record(
    connection: &mut AnyConnection,
    id: &str,
    owner: &str,
    attempt: &Attempt,
) -> Result<bool, StorageError> {
    let (status, next_attempt_at, delivered_at) = match attempt.next {
        NextStep::Delivered => (DeliveryStatus::Delivered, None, Some(attempt.at)),
        NextStep::RetryAt(at) => (DeliveryStatus::Pending, Some(at), None),
        NextStep::GiveUp => (DeliveryStatus::Failed, None, None),
    };
    let updated = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::lease_owner.eq(owner)),
    )
    .set((
        webhook_deliveries::status.eq(status.as_str()),
        webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
        webhook_deliveries::next_attempt_at.eq(next_attempt_at.map(to_stored_time)),
        webhook_deliveries::lease_owner.eq(None::<String>),
        webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        webhook_deliveries::last_attempt_at.eq(Some(to_stored_time(attempt.at))),
        webhook_deliveries::last_status_code.eq(attempt.status_code.map(i64::from)),
        webhook_deliveries::last_latency_ms.eq(Some(attempt.latency_ms)),
        webhook_deliveries::last_error.eq(attempt.error.as_deref()),
        webhook_deliveries::delivered_at.eq(delivered_at.map(to_stored_time)),
    ))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Frees the leases `owner` still holds (a sender stopping), so its deliveries are tried at once elsewhere.
pub fn release(connection: &mut AnyConnection, owner: &str) -> Result<usize, StorageError> {
    Ok(diesel::update(webhook_deliveries::table.filter(webhook_deliveries::lease_owner.eq(owner)))
        .set((
            webhook_deliveries::lease_owner.eq(None::<String>),
            webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        ))
        .execute(connection)?)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct DeliveryRow {
    id: String,
    event_id: String,
    event_type: String,
    status: String,
    attempts: i64,
    created_at: NaiveDateTime,
    next_attempt_at: Option<NaiveDateTime>,
    last_attempt_at: Option<NaiveDateTime>,
    last_status_code: Option<i64>,
    last_latency_ms: Option<i64>,
    last_error: Option<String>,
    delivered_at: Option<NaiveDateTime>,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = StorageError;

    fn try_from(row: DeliveryRow) -> Result<Self, StorageError> {
        let corrupt = |column: &str, value: &str| {
            StorageError::Corrupt(format!("webhook_deliveries.{column} '{value}'"))
        };
        Ok(Delivery {
            event_type: EventType::parse_stored(&row.event_type)
                .ok_or_else(|| corrupt("event_type", &row.event_type))?,
            status: DeliveryStatus::parse_stored(&row.status)
                .ok_or_else(|| corrupt("status", &row.status))?,
            id: row.id,
            event_id: row.event_id,
            attempts: row.attempts,
            created_at: from_stored_time(row.created_at),
            next_attempt_at: row.next_attempt_at.map(from_stored_time),
            last_attempt_at: row.last_attempt_at.map(from_stored_time),
            last_status_code: row.last_status_code,
            last_latency_ms: row.last_latency_ms,
            last_error: row.last_error,
            delivered_at: row.delivered_at.map(from_stored_time),
        })
    }
}

/// One page of webhook `webhook_id`'s deliveries, newest first, and how many it has in all. The caller checks
/// the webhook is the org's; `org_id` keeps the query inside it regardless.
pub fn list(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    webhook_id: &str,
    page: Page,
) -> Result<(Vec<Delivery>, i64), StorageError> {
    let of_webhook = || {
        webhook_deliveries::table
            .filter(webhook_deliveries::webhook_id.eq(webhook_id))
            .filter(webhook_deliveries::org_id.eq(org_id.as_str()))
    };
    let total = of_webhook().count().get_result(connection)?;
    let deliveries = of_webhook()
        .order((webhook_deliveries::created_at.desc(), webhook_deliveries::id.desc()))
        .limit(page.limit)
        .offset(page.offset)
        .select(DeliveryRow::as_select())
        .load(connection)?
        .into_iter()
        .map(Delivery::try_from)
        .collect::<Result<_, _>>()?;
    Ok((deliveries, total))
}

/// Delivery `id` as the log shows it.
pub fn get(connection: &mut AnyConnection, id: &str) -> Result<Delivery, StorageError> {
    webhook_deliveries::table
        .find(id)
        .select(DeliveryRow::as_select())
        .first(connection)?
        .try_into()
}

/// Writes a delivery of `event` to webhook `webhook_id` already claimed by `owner` (a test delivery, sent at once
/// by the request that asked for it rather than by the background sender), and returns it claimed.
pub fn insert_claimed(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    webhook_id: &str,
    event: &traceline_domain::webhook::WebhookEvent,
    owner: &str,
    lease_until: DateTime<Utc>,
) -> Result<ClaimedDelivery, StorageError> {
    let id = crate::outbox::insert(connection, org_id, webhook_id, event, None, event.created_at)?;
    diesel::update(webhook_deliveries::table.find(&id))
        .set((
            webhook_deliveries::lease_owner.eq(owner),
            webhook_deliveries::lease_until.eq(to_stored_time(lease_until)),
        ))
        .execute(connection)?;
    let (url, secret): (String, String) = webhooks::table
        .find(webhook_id)
        .select((webhooks::url, webhooks::secret))
        .first(connection)?;
    Ok(ClaimedDelivery {
        id,
        event_id: event.id.clone(),
        body: event.body(),
        url,
        secret,
        attempts: 0,
        created_at: event.created_at,
    })
}
