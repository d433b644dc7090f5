//! An event on its way to a webhook: the body that is posted (and signed), and a delivery as the log shows it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::json::JsonObject;
use crate::time::format_timestamp;
use crate::webhook::EventType;

/// One event, as every subscribed webhook receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// Its id (UUID), sent as `Traceline-Event-Id` too and the same on every retry.
    pub id: String,
    /// What happened.
    pub event_type: EventType,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// The session, key or candidate it is about, as the API shows them.
    pub data: JsonObject,
}

impl WebhookEvent {
    /// The body posted: `{id, type, createdAt, data}`. Rendered once, when the event is stored, so every retry
    /// sends (and signs) the same bytes.
    pub fn body(&self) -> String {
        json!({
            "id": self.id,
            "type": self.event_type.as_str(),
            "createdAt": format_timestamp(&self.created_at),
            "data": self.data,
        })
        .to_string()
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum DeliveryStatus {
    /// Not delivered yet; tried again at `nextAttemptAt`.
    Pending,
    /// A 2xx answered it.
    Delivered,
    /// Given up: no 2xx within the retry window (or a test delivery that was not answered 2xx).
    Failed,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Reads a stored name.
    pub fn parse_stored(text: &str) -> Option<Self> {
        [DeliveryStatus::Pending, DeliveryStatus::Delivered, DeliveryStatus::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// One event's delivery to one webhook, as `GET /v1/webhooks/:id/deliveries` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Delivery {
    /// The delivery's id.
    pub id: String,
    /// The event's id (`Traceline-Event-Id`).
    pub event_id: String,
    /// The event's type.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i64,
    /// When the event happened.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub created_at: DateTime<Utc>,
    /// When it will be tried next, while pending.
    #[serde(with = "crate::time::api_format_opt")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::ApiTimestamp>"))]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was last tried.
    #[serde(with = "crate::time::api_format_opt")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::ApiTimestamp>"))]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last answer; null when there was none (refused address, timeout, no connection).
    pub last_status_code: Option<i64>,
    /// How long the last attempt took, in milliseconds.
    pub last_latency_ms: Option<i64>,
    /// Why the last attempt failed, when it did.
    pub last_error: Option<String>,
    /// When a 2xx answered it.
    #[serde(with = "crate::time::api_format_opt")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::ApiTimestamp>"))]
    pub delivered_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_the_four_fields() {
        let mut data = JsonObject::new();
        data.insert("session".into(), json!({"id": "s1"}));
        let event = WebhookEvent {
            id: "e1".into(),
            event_type: EventType::SessionCompleted,
            created_at: DateTime::from_timestamp(1_775_000_000, 0).unwrap(),
            data,
        };
        let body: serde_json::Value = serde_json::from_str(&event.body()).unwrap();
        assert_eq!(
            body,
            json!({"id": "e1", "type": "session.completed", "createdAt": "2026-03-31T23:33:20.000Z",
                   "data": {"session": {"id": "s1"}}})
        );
    }
}
