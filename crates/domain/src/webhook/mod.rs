//! Webhooks (spec §12): the events an org can subscribe to, a subscription and its request, the secret that signs
//! deliveries, and everything about a delivery that needs no I/O (its body, signature, retry schedule, and which
//! destination addresses are refused).

mod address;
mod delivery;
mod schedule;
mod signature;
mod url;

pub use address::is_public_address;
pub use delivery::{Delivery, DeliveryStatus, WebhookEvent};
pub use schedule::RetrySchedule;
pub use signature::{signature_header, EVENT_ID_HEADER, SIGNATURE_HEADER};
pub use url::{WebhookUrl, MAX_URL_CHARS};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::json::expect_object;
use crate::random::{random_string, RandomFill, BASE62};
use crate::validation::ValidationErrors;

/// What a webhook can be told about. `webhook.test` is only ever sent by `POST /v1/webhooks/:id/test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A candidate redeemed their key (it became `active`).
    KeyRedeemed,
    /// A session ended: a `session_end` event, `PATCH` with `endedAt`, or the candidate completing.
    SessionEnded,
    /// A candidate said their work is complete (the key became `completed`).
    SessionCompleted,
    /// A reviewer marked a candidate hired.
    CandidateHired,
    /// A reviewer marked a candidate rejected.
    CandidateRejected,
    /// A session was deleted: by a reviewer, by the retention sweep, or by erasing its candidate.
    SessionDeleted,
    /// A test delivery asked for by an admin.
    Test,
}

impl EventType {
    /// The events a webhook may subscribe to, in the order the spec lists them.
    pub const SUBSCRIBABLE: [EventType; 6] = [
        EventType::KeyRedeemed,
        EventType::SessionEnded,
        EventType::SessionCompleted,
        EventType::CandidateHired,
        EventType::CandidateRejected,
        EventType::SessionDeleted,
    ];

    /// The event's name, as subscribed to and sent in `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::KeyRedeemed => "key.redeemed",
            EventType::SessionEnded => "session.ended",
            EventType::SessionCompleted => "session.completed",
            EventType::CandidateHired => "candidate.hired",
            EventType::CandidateRejected => "candidate.rejected",
            EventType::SessionDeleted => "session.deleted",
            EventType::Test => "webhook.test",
        }
    }

    /// A subscribable event by name.
    pub fn parse_subscribable(text: &str) -> Option<Self> {
        Self::SUBSCRIBABLE.into_iter().find(|event| event.as_str() == text)
    }

    /// Any event by its stored name.
    pub fn parse_stored(text: &str) -> Option<Self> {
        Self::parse_subscribable(text).or((text == "webhook.test").then_some(EventType::Test))
    }
}

impl Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for EventType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "WebhookEventType".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let mut names: Vec<&str> = Self::SUBSCRIBABLE.iter().map(|event| event.as_str()).collect();
        names.push(EventType::Test.as_str());
        schemars::json_schema!({"type": "string", "enum": names})
    }
}

/// A webhook as the API shows it (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Webhook {
    /// Its id (UUID).
    pub id: String,
    /// Where deliveries are posted.
    pub url: String,
    /// The events it receives, in the order of [`EventType::SUBSCRIBABLE`].
    pub events: Vec<EventType>,
    /// When it was created.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub created_at: DateTime<Utc>,
}

impl Webhook {
    /// Whether it receives `event` (test deliveries go to every webhook).
    pub fn receives(&self, event: EventType) -> bool {
        event == EventType::Test || self.events.contains(&event)
    }
}

/// The body of `POST /v1/webhooks`, validated: a well-formed http(s) URL and at least one known event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    /// The destination (its host is still to be checked against private addresses, which takes DNS).
    pub url: WebhookUrl,
    /// The events, without repeats, in the order of [`EventType::SUBSCRIBABLE`].
    pub events: Vec<EventType>,
}

impl NewWebhook {
    /// Reads `{url, events}`; every problem is reported with its path.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(object) = expect_object(body, &mut errors, "") else {
            return Err(errors);
        };
        let url = match object.get("url") {
            Some(Value::String(text)) => match WebhookUrl::parse(text) {
                Ok(url) => Some(url),
                Err(problem) => {
                    errors.push("url", problem);
                    None
                }
            },
            _ => {
                errors.push("url", "is required and must be a string");
                None
            }
        };
        let mut events = Vec::new();
        match object.get("events") {
            Some(Value::Array(items)) if !items.is_empty() => {
                for (index, item) in items.iter().enumerate() {
                    match item.as_str().and_then(EventType::parse_subscribable) {
                        Some(event) => events.push(event),
                        None => errors.push(format!("events[{index}]"), unknown_event_message()),
                    }
                }
            }
            _ => errors.push("events", "is required and must be a non-empty array of event names"),
        }
        events.sort();
        events.dedup();
        match url {
            Some(url) if errors.is_empty() => Ok(NewWebhook { url, events }),
            _ => Err(errors),
        }
    }
}

fn unknown_event_message() -> String {
    let names: Vec<&str> = EventType::SUBSCRIBABLE.iter().map(|event| event.as_str()).collect();
    format!("must be one of {}", names.join(", "))
}

/// Prefix of every webhook signing secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random base62 characters after the prefix (about 190 bits).
pub const SECRET_RANDOM_LEN: usize = 32;

/// A fresh signing secret, `whsec_` and 32 base62 characters from `fill`.
pub fn generate_secret<E>(fill: RandomFill<'_, E>) -> Result<String, E> {
    Ok(format!("{SECRET_PREFIX}{}", random_string(BASE62, SECRET_RANDOM_LEN, fill)?))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_subscription_names_known_events_once_each() {
        let parsed = NewWebhook::parse(&json!({
            "url": "https://ats.example.com/hooks",
            "events": ["candidate.hired", "session.completed", "candidate.hired"],
        }))
        .unwrap();
        assert_eq!(parsed.events, vec![EventType::SessionCompleted, EventType::CandidateHired]);
        assert_eq!(parsed.url.as_str(), "https://ats.example.com/hooks");
    }

    #[test]
    fn bad_subscriptions_say_where() {
        let errors = NewWebhook::parse(&json!({"url": "ftp://x", "events": ["session.exploded"]}))
            .unwrap_err();
        let paths: Vec<&str> = errors.0.iter().map(|error| error.path.as_str()).collect();
        assert_eq!(paths, ["url", "events[0]"]);
        assert!(NewWebhook::parse(&json!({"url": "https://a.example", "events": []})).is_err());
        assert!(NewWebhook::parse(
            &json!({"url": "https://a.example", "events": ["webhook.test"]})
        )
        .is_err());
        assert!(NewWebhook::parse(&json!([])).is_err());
    }

    #[test]
    fn every_event_reads_back_from_its_name() {
        for event in EventType::SUBSCRIBABLE.into_iter().chain([EventType::Test]) {
            assert_eq!(EventType::parse_stored(event.as_str()), Some(event));
        }
        assert_eq!(EventType::parse_subscribable("webhook.test"), None);
    }

    #[test]
    fn secrets_have_the_prefix_and_length() {
        let mut fill = |buffer: &mut [u8]| {
            buffer.iter_mut().enumerate().for_each(|(index, byte)| *byte = index as u8);
            Ok::<(), ()>(())
        };
        let secret = generate_secret(&mut fill).unwrap();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(secret.len(), SECRET_PREFIX.len() + SECRET_RANDOM_LEN);
    }
}
