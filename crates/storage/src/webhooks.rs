//! Webhook subscriptions (spec §12): created, listed, read and deleted by an org's admins. The signing secret is
//! read only by the sender.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use traceline_domain::webhook::{EventType, Webhook};
use traceline_domain::OrgId;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, to_stored_time};
use crate::schema::{webhook_deliveries, webhooks};

#[derive(Queryable, Selectable)]
#[diesel(table_name = webhooks)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct WebhookRow {
    id: String,
    url: String,
    events: String,
    created_at: NaiveDateTime,
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StorageError;

    fn try_from(row: WebhookRow) -> Result<Self, StorageError> {
        Ok(Webhook {
            events: events_from_text(&row.events)?,
            id: row.id,
            url: row.url,
            created_at: from_stored_time(row.created_at),
        })
    }
}

/// The events column: a JSON array of event names.
fn events_from_text(text: &str) -> Result<Vec<EventType>, StorageError> {
    let corrupt = || StorageError::Corrupt(format!("webhooks.events '{text}'"));
    let names: Vec<String> = serde_json::from_str(text).map_err(|_| corrupt())?;
    names.iter().map(|name| EventType::parse_subscribable(name).ok_or_else(corrupt)).collect()
}

fn events_to_text(events: &[EventType]) -> String {
    serde_json::Value::from(events.iter().map(|event| event.as_str()).collect::<Vec<_>>())
        .to_string()
}

/// Stores a new webhook of `org_id` with its signing secret.
pub fn insert(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    webhook: &Webhook,
    secret: &str,
) -> Result<(), StorageError> {
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::id.eq(&webhook.id),
            webhooks::org_id.eq(org_id.as_str()),
            webhooks::url.eq(&webhook.url),
            webhooks::events.eq(events_to_text(&webhook.events)),
            webhooks::secret.eq(secret),
            webhooks::created_at.eq(to_stored_time(webhook.created_at)),
        ))
        .execute(connection)?;
    Ok(())
}

/// The org's webhooks, in creation order.
pub fn list(connection: &mut AnyConnection, org_id: &OrgId) -> Result<Vec<Webhook>, StorageError> {
    webhooks::table
        .filter(webhooks::org_id.eq(org_id.as_str()))
        .order((webhooks::created_at.asc(), webhooks::id.asc()))
        .select(WebhookRow::as_select())
        .load(connection)?
        .into_iter()
        .map(Webhook::try_from)
        .collect()
}

/// The org's webhook `id`, or [`StorageError::NotFound`] (also for another org's).
pub fn get(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    id: &str,
) -> Result<Webhook, StorageError> {
    get_with_secret(connection, org_id, id).map(|(webhook, _)| webhook)
}

/// The org's webhook `id` with its signing secret, or [`StorageError::NotFound`].
pub fn get_with_secret(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    id: &str,
) -> Result<(Webhook, String), StorageError> {
    let (row, secret) = webhooks::table
        .filter(webhooks::id.eq(id))
        .filter(webhooks::org_id.eq(org_id.as_str()))
        .select((WebhookRow::as_select(), webhooks::secret))
        .first::<(WebhookRow, String)>(connection)?;
    Ok((Webhook::try_from(row)?, secret))
}

/// The ids of the org's webhooks that receive `event`.
pub fn subscribed(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    event: EventType,
) -> Result<Vec<String>, StorageError> {
    let rows: Vec<(String, String)> = webhooks::table
        .filter(webhooks::org_id.eq(org_id.as_str()))
        .select((webhooks::id, webhooks::events))
        .load(connection)?;
    let mut ids = Vec::new();
    for (id, events) in rows {
        if events_from_text(&events)?.contains(&event) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Deletes the org's webhook `id` with its delivery log; what was still pending is never sent. Returns the
/// webhook as it was, or [`StorageError::NotFound`].
pub fn delete(
    connection: &mut AnyConnection,
    org_id: &OrgId,
    id: &str,
) -> Result<Webhook, StorageError> {
    let webhook = get(connection, org_id, id)?;
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
        .execute(connection)?;
    diesel::delete(webhooks::table.find(id)).execute(connection)?;
    Ok(webhook)
}
