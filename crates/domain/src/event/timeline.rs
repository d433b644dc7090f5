//! A stored event as reviewers read it: TimelineEvent of spec §5, which is how it serialises.

use chrono::{DateTime, Utc};

use super::kind::EventKind;
use crate::json::JsonObject;

/// One event of a session's timeline, as stored: its envelope normalised, plus when the server stored it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TimelineEvent {
    /// The client's event id (canonical UUID).
    pub id: String,
    /// Its session.
    pub session_id: String,
    /// Its kind (aliases already resolved).
    pub kind: EventKind,
    /// When it happened.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub ts: DateTime<Utc>,
    /// Normalised `source`.
    pub source: JsonObject,
    /// Normalised `actor`.
    pub actor: JsonObject,
    /// Normalised `provenance`.
    pub provenance: JsonObject,
    /// The event's data.
    pub data: JsonObject,
    /// When the server stored it.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub created_at: DateTime<Utc>,
}

impl TimelineEvent {
    /// A string field of `data`, if it holds one.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(serde_json::Value::as_str)
    }
}
