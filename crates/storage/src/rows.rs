//! Conversions shared by the row structs: naive-UTC timestamps and JSON kept as text.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use traceline_domain::artifact::ActivityCounts;
use traceline_domain::json::JsonObject;
use uuid::Uuid;

use crate::error::StorageError;

/// Timestamps are stored as naive UTC, the one timestamp type both backends read and write alike.
pub(crate) fn to_stored_time(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.naive_utc()
}

/// Reads a stored naive-UTC timestamp back as UTC.
pub(crate) fn from_stored_time(stored: NaiveDateTime) -> DateTime<Utc> {
    stored.and_utc()
}

/// Serialises a JSON object for a TEXT column.
pub(crate) fn object_to_text(object: &JsonObject) -> String {
    Value::Object(object.clone()).to_string()
}

/// Reads a TEXT column that must hold a JSON object.
pub(crate) fn object_from_text(column: &str, text: &str) -> Result<JsonObject, StorageError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(StorageError::Corrupt(format!("{column} is not a JSON object"))),
        Err(error) => Err(StorageError::Corrupt(format!("{column} is not valid JSON: {error}"))),
    }
}

/// Serialises a session's activity counts for `sessions.activity_counts`.
pub(crate) fn activity_to_text(counts: &ActivityCounts) -> String {
    // Maps from strings to integers always serialise; `unwrap_or_default` only satisfies the signature.
    serde_json::to_string(counts).unwrap_or_default()
}

/// Event timestamps are stored as microseconds since the Unix epoch: an integer compares, indexes and decodes
/// with no parsing, on both backends (API times are whole microseconds, `traceline_domain::time`).
pub(crate) fn to_stored_micros(instant: DateTime<Utc>) -> i64 {
    instant.timestamp_micros()
}

/// Reads stored microseconds back as UTC.
pub(crate) fn from_stored_micros(column: &str, micros: i64) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StorageError::Corrupt(format!("{column} is out of range: {micros}")))
}

/// An event id as stored: the UUID's 16 bytes. Event ids are validated UUIDs on the way in, and cursors are
/// parsed before they reach storage, so text that is no UUID names no stored event: `None`.
pub(crate) fn to_stored_event_id(id: &str) -> Option<[u8; 16]> {
    Uuid::try_parse(id).ok().map(Uuid::into_bytes)
}

/// A stored event id back in its canonical (hyphenated, lower-case) form.
pub(crate) fn from_stored_event_id(bytes: &[u8]) -> Result<String, StorageError> {
    Uuid::from_slice(bytes)
        .map(|uuid| uuid.hyphenated().to_string())
        .map_err(|_| StorageError::Corrupt(format!("an event id of {} bytes", bytes.len())))
}

/// An event's `data`: its own column when normalisation changed what the client sent, else the `data` of the
/// envelope the client sent, stored once.
pub(crate) fn event_data(data: Option<&str>, envelope: &str) -> Result<JsonObject, StorageError> {
    if let Some(data) = data {
        return object_from_text("timeline_events.data", data);
    }
    match serde_json::from_str::<JsonObject>(envelope) {
        Ok(mut sent) => match sent.remove("data") {
            Some(Value::Object(data)) => Ok(data),
            _ => Err(StorageError::Corrupt(
                "timeline_events.envelope holds no data object".to_owned(),
            )),
        },
        Err(error) => Err(StorageError::Corrupt(format!(
            "timeline_events.envelope is not valid JSON: {error}"
        ))),
    }
}
