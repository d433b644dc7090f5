//! The admin's part of `/settings` (spec §12): the org's webhooks, each with its recent deliveries, its retention
//! and candidate erasure. Read with the storage calls the `/v1/webhooks` and `/v1/org` routes make; the forms call
//! those routes.

use traceline_domain::webhook::{DeliveryStatus, EventType};
use traceline_domain::{OrgId, Page};
use traceline_storage::{deliveries, orgs, webhooks, AnyConnection, StorageError};

use super::format;

/// Deliveries shown per webhook; the API pages through the rest.
const LOG_ROWS: i64 = 20;

/// What the admin sees.
pub(super) struct OrgSettings {
    pub(super) webhooks: Vec<WebhookRow>,
    /// Days sessions are kept; `None` for ever.
    pub(super) retention_days: Option<i64>,
    /// Every event a webhook may subscribe to.
    pub(super) events: Vec<&'static str>,
}

pub(super) struct WebhookRow {
    pub(super) id: String,
    pub(super) url: String,
    pub(super) events: String,
    pub(super) created: String,
    pub(super) deliveries: Vec<DeliveryRow>,
    /// Deliveries in the log beyond those shown.
    pub(super) more: i64,
}

pub(super) struct DeliveryRow {
    pub(super) event: &'static str,
    pub(super) status: &'static str,
    pub(super) ok: bool,
    pub(super) attempts: i64,
    pub(super) created: String,
    pub(super) answer: String,
    pub(super) latency: String,
    pub(super) next: String,
}

/// Loads the org's webhooks with their latest deliveries, and its retention.
pub(super) fn load(
    connection: &mut AnyConnection,
    org_id: &OrgId,
) -> Result<OrgSettings, StorageError> {
    let mut rows = Vec::new();
    for webhook in webhooks::list(connection, org_id)? {
        let page = Page { limit: LOG_ROWS, offset: 0 };
        let (log, total) = deliveries::list(connection, org_id, &webhook.id, page)?;
        let shown = i64::try_from(log.len()).unwrap_or(LOG_ROWS);
        rows.push(WebhookRow {
            events: webhook
                .events
                .iter()
                .map(|event| event.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            created: format::moment(webhook.created_at),
            deliveries: log
                .into_iter()
                .map(|delivery| DeliveryRow {
                    event: delivery.event_type.as_str(),
                    status: delivery.status.as_str(),
                    ok: delivery.status == DeliveryStatus::Delivered,
                    attempts: delivery.attempts,
                    created: format::moment(delivery.created_at),
                    answer: match (delivery.last_status_code, delivery.last_error) {
                        (Some(code), _) => code.to_string(),
                        (None, Some(error)) => error,
                        (None, None) => "—".to_owned(),
                    },
                    latency: delivery
                        .last_latency_ms
                        .map_or_else(|| "—".to_owned(), |ms| format!("{ms} ms")),
                    next: delivery.next_attempt_at.map_or_else(|| "—".to_owned(), format::moment),
                })
                .collect(),
            more: total - shown,
            id: webhook.id,
            url: webhook.url,
        });
    }
    Ok(OrgSettings {
        webhooks: rows,
        retention_days: orgs::retention_days(connection, org_id)?,
        events: EventType::SUBSCRIBABLE.iter().map(|event| event.as_str()).collect(),
    })
}
