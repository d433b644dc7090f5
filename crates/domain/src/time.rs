//! Timestamps: what requests may send, how responses print them, and the precision both backends keep.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

/// Why a request timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTimestamp {
    /// Not RFC 3339, or without an offset.
    #[error("must be an RFC 3339 timestamp with an offset, e.g. 2026-04-01T10:15:00Z")]
    Malformed,
    /// Before 1970 or after 9999, once its offset is applied.
    #[error("must lie between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z")]
    OutOfRange,
}

/// The earliest instant a request may name: the Unix epoch.
pub const EARLIEST: DateTime<Utc> = DateTime::UNIX_EPOCH;

/// The latest instant a request may name, 9999-12-31T23:59:59.999Z: the last millisecond the API's own format
/// (four-digit years, milliseconds) can print.
pub fn latest() -> DateTime<Utc> {
    // 253402300799999 ms after the epoch is 9999-12-31T23:59:59.999Z; the conversion cannot fail for it.
    DateTime::from_timestamp_millis(253_402_300_799_999).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Parses an RFC 3339 timestamp that carries an offset (`Z` or `+02:00`), converts it to UTC and checks that it
/// lies between [`EARLIEST`] and [`latest`] (spec §10.1): an offset can carry `9999-12-31T23:00:00-02:00` past
/// the year 9999, which the API could not print back.
///
/// The result is truncated to microseconds, the precision PostgreSQL keeps, so both backends store the same
/// instant and ordering ties behave the same everywhere.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, InvalidTimestamp> {
    let instant = DateTime::parse_from_rfc3339(text)
        .map_err(|_| InvalidTimestamp::Malformed)?
        .with_timezone(&Utc);
    if instant < EARLIEST || instant > latest() {
        return Err(InvalidTimestamp::OutOfRange);
    }
    Ok(to_storage_precision(instant))
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
        assert_eq!(parse_timestamp("2026-04-01T10:15:00"), Err(InvalidTimestamp::Malformed));
        assert_eq!(parse_timestamp("yesterday"), Err(InvalidTimestamp::Malformed));
        assert!(parse_timestamp("2026-04-01T10:15:00Z").is_ok());
        assert_eq!(format_timestamp_micros(&parsed), "2026-04-01T10:15:00.123456Z");
        assert_eq!(parse_timestamp(&format_timestamp_micros(&parsed)), Ok(parsed));
    }

    #[test]
    fn instants_outside_1970_to_9999_are_refused_after_the_offset() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Ok(EARLIEST));
        assert_eq!(
            format_timestamp(&parse_timestamp("9999-12-31T23:59:59.999Z").unwrap()),
            "9999-12-31T23:59:59.999Z"
        );
        for outside in [
            "1969-12-31T23:59:59.999Z",
            "1970-01-01T00:30:00+01:00",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.9991Z",
            "9999-12-31T23:00:00-02:00",
        ] {
            assert_eq!(parse_timestamp(outside), Err(InvalidTimestamp::OutOfRange), "{outside}");
        }
        assert!(parse_timestamp("9999-12-31T23:59:59+00:00").is_ok());
    }
}
