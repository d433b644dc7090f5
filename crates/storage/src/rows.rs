//! Conversions shared by the row structs: naive-UTC timestamps and JSON kept as text.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use traceline_domain::artifact::ActivityCounts;
use traceline_domain::json::JsonObject;

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
