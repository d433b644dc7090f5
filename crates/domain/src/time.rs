//! Timestamps: what requests may send, how responses print them, and the precision both backends keep.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

/// Why a request timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an RFC 3339 timestamp with an offset, e.g. 2026-04-01T10:15:00Z")]
pub struct InvalidTimestamp;

/// Parses an RFC 3339 timestamp that carries an offset (`Z` or `+02:00`) and converts it to UTC.
///
/// The result is truncated to microseconds, the precision PostgreSQL keeps, so both backends store the same
/// instant and ordering ties behave the same everywhere.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, InvalidTimestamp> {
    DateTime::parse_from_rfc3339(text)
        .map(|parsed| to_storage_precision(parsed.with_timezone(&Utc)))
        .map_err(|_| InvalidTimestamp)
}

/// Truncates to whole microseconds.
pub fn to_storage_precision(instant: DateTime<Utc>) -> DateTime<Utc> {
    instant.trunc_subsecs(6)
}

/// Formats an instant as the API prints every timestamp: UTC, milliseconds, `Z`.
pub fn format_timestamp(instant: &DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Formats an instant in UTC with microseconds, the storage precision: it parses back to the same instant.
pub fn format_timestamp_micros(instant: &DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Serde adapter printing an instant as the API does (`#[serde(with = "crate::time::api_format")]`).
pub mod api_format {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    /// Serialises `instant` with [`format_timestamp`](super::format_timestamp).
    pub fn serialize<S: Serializer>(
        instant: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format_timestamp(instant))
    }
}

/// The same for an optional instant, `null` when absent.
pub mod api_format_opt {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    /// Serialises `instant` with [`format_timestamp`](super::format_timestamp), or `null`.
    pub fn serialize<S: Serializer>(
        instant: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match instant {
            Some(instant) => serializer.serialize_str(&super::format_timestamp(instant)),
            None => serializer.serialize_none(),
        }
    }
}

/// The JSON Schema of a timestamp as the API prints it, for fields serialised with [`api_format`].
#[cfg(feature = "schema")]
pub struct ApiTimestamp;

#[cfg(feature = "schema")]
impl schemars::JsonSchema for ApiTimestamp {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ApiTimestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339, UTC, milliseconds, Z: 2026-04-01T10:15:00.000Z",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_required_and_converted() {
        let parsed = parse_timestamp("2026-04-01T12:15:00.123456789+02:00").unwrap();
        assert_eq!(format_timestamp(&parsed), "2026-04-01T10:15:00.123Z");
        assert_eq!(parsed.timestamp_subsec_nanos(), 123_456_000);
        assert_eq!(parse_timestamp("2026-04-01T10:15:00"), Err(InvalidTimestamp));
        assert_eq!(parse_timestamp("yesterday"), Err(InvalidTimestamp));
        assert!(parse_timestamp("2026-04-01T10:15:00Z").is_ok());
        assert_eq!(format_timestamp_micros(&parsed), "2026-04-01T10:15:00.123456Z");
        assert_eq!(parse_timestamp(&format_timestamp_micros(&parsed)), Ok(parsed));
    }
}
