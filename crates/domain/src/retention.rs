//! How long an org keeps its sessions (spec §12): `retentionDays` days after a session ended (or, while open,
//! after its last activity), or for ever.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::json::{expect_object, integer_in};
use crate::validation::ValidationErrors;

/// The longest retention that can be set: a century, which keeps the cutoff arithmetic far from overflow.
pub const MAX_RETENTION_DAYS: i64 = 36_500;

/// An org's retention: `None` keeps sessions for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention(pub Option<i64>);

impl Retention {
    /// Reads `PATCH /v1/org`'s `{retentionDays: N|null}` (N a whole number of days, 1–36500).
    pub fn parse_patch(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(object) = expect_object(body, &mut errors, "") else {
            return Err(errors);
        };
        match object.get("retentionDays") {
            None => Err(ValidationErrors::one(
                "retentionDays",
                "is required (null keeps sessions for ever)",
            )),
            Some(Value::Null) => Ok(Retention(None)),
            Some(value) => integer_in(value, 1, MAX_RETENTION_DAYS)
                .map(|days| Retention(Some(days)))
                .map_err(|message| ValidationErrors::one("retentionDays", message)),
        }
    }

    /// Sessions that ended (or, while open, were last active) before this instant are expired at `now`.
    pub fn cutoff(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0.map(|days| now - Duration::days(days))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn days_or_null_are_read_and_anything_else_refused() {
        assert_eq!(Retention::parse_patch(&json!({"retentionDays": 30})), Ok(Retention(Some(30))));
        assert_eq!(Retention::parse_patch(&json!({"retentionDays": null})), Ok(Retention(None)));
        for bad in [
            json!({}),
            json!({"retentionDays": 0}),
            json!({"retentionDays": 1.5}),
            json!({"retentionDays": "30"}),
            json!({"retentionDays": 36_501}),
            json!([]),
        ] {
            assert!(Retention::parse_patch(&bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn the_cutoff_is_that_many_days_back() {
        let now = DateTime::from_timestamp(1_775_000_000, 0).unwrap();
        assert_eq!(Retention(Some(2)).cutoff(now), Some(now - Duration::days(2)));
        assert_eq!(Retention(None).cutoff(now), None);
    }
}
