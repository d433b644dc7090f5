//! Offset pagination: defaults and clamps per route, and the one way a query value can be wrong.

use crate::validation::ValidationErrors;

/// The most JSON one response of a session's events carries (a timeline page, the decisions), in bytes: a page
/// stops before the event that would take it past this, whatever `limit` says, and says `hasMore`. A page always
/// holds at least one event, so one event larger than this (bounded by the request body limits) is a page alone.
pub const MAX_PAGE_BYTES: usize = 4 << 20;

/// A route's pagination rule: the default page size and the clamp range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRule {
    /// `limit` when the query names none.
    pub default_limit: i64,
    /// Smallest `limit` served.
    pub min_limit: i64,
    /// Largest `limit` served.
    pub max_limit: i64,
}

impl PageRule {
    /// `GET /v1/sessions`: 20 by default, 1–100.
    pub const SESSIONS: PageRule = PageRule { default_limit: 20, min_limit: 1, max_limit: 100 };
    /// `GET /v1/sessions/:id/timeline`: 500 by default, 1–2000 (it pages by cursor, not offset).
    pub const TIMELINE: PageRule = PageRule { default_limit: 500, min_limit: 1, max_limit: 2000 };
    /// `GET /v1/sessions/:id/recent-activity`: a window of 20 minutes by default, 1–60.
    pub const RECENT_MINUTES: PageRule =
        PageRule { default_limit: 20, min_limit: 1, max_limit: 60 };
    /// `GET /v1/candidates`: 50 by default, 1–200.
    pub const CANDIDATES: PageRule = PageRule { default_limit: 50, min_limit: 1, max_limit: 200 };
    /// `GET /v1/audit`: 50 by default, 1–200, by cursor.
    pub const AUDIT: PageRule = PageRule { default_limit: 50, min_limit: 1, max_limit: 200 };
    /// `GET /v1/sessions/:id/signed-log`: without `limit`, the first 10,000 events in one (streamed) response,
    /// which is what the Promptster CLI's `verify` reads; with it, pages of 1–2000 by cursor, like the timeline.
    pub const SIGNED_LOG: PageRule =
        PageRule { default_limit: 10_000, min_limit: 1, max_limit: 2000 };

    /// Reads `limit` and `offset` from raw query values.
    ///
    /// Out-of-range numbers are clamped rather than rejected, as the spec asks; only a value that is not an
    /// integer at all (`limit=ten`, `limit=1.5`) is an error.
    pub fn page(self, limit: Option<&str>, offset: Option<&str>) -> Result<Page, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let limit = match limit.map(parse_integer) {
            None => self.default_limit,
            Some(Some(value)) => clamp(value, self.min_limit, self.max_limit),
            Some(None) => {
                errors.push("limit", "must be an integer");
                self.default_limit
            }
        };
        let offset = match offset.map(parse_integer) {
            None => 0,
            Some(Some(value)) => clamp(value, 0, i64::MAX),
            Some(None) => {
                errors.push("offset", "must be an integer");
                0
            }
        };
        errors.into_result(Page { limit, offset })
    }
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// How many rows at most.
    pub limit: i64,
    /// How many rows to skip.
    pub offset: i64,
}

impl PageRule {
    /// Reads one clamped integer parameter (`limit`, `minutes`): the default when absent, an error naming
    /// `name` when it is not an integer.
    pub fn clamp_param(self, name: &str, value: Option<&str>) -> Result<i64, ValidationErrors> {
        match value.map(parse_integer) {
            None => Ok(self.default_limit),
            Some(Some(value)) => Ok(clamp(value, self.min_limit, self.max_limit)),
            Some(None) => Err(ValidationErrors::one(name, "must be an integer")),
        }
    }
}

/// Parses an optionally signed run of digits of any length, saturating at the bounds of `i128`.
fn parse_integer(text: &str) -> Option<i128> {
    let trimmed = text.trim();
    let (negative, digits) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.parse::<i128>().unwrap_or(i128::MAX);
    Some(if negative { -magnitude } else { magnitude })
}

fn clamp(value: i128, min: i64, max: i64) -> i64 {
    i64::try_from(value.clamp(i128::from(min), i128::from(max))).unwrap_or(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: PageRule = PageRule::SESSIONS;

    #[test]
    fn defaults_apply_when_absent() {
        assert_eq!(RULE.page(None, None).unwrap(), Page { limit: 20, offset: 0 });
    }

    #[test]
    fn out_of_range_values_are_clamped() {
        assert_eq!(RULE.page(Some("0"), Some("-3")).unwrap(), Page { limit: 1, offset: 0 });
        assert_eq!(RULE.page(Some("1000"), Some("7")).unwrap().limit, 100);
        assert_eq!(
            RULE.page(Some("99999999999999999999999999999999999999999"), None).unwrap().limit,
            100
        );
        assert_eq!(RULE.page(Some("-99999999999999999999999999"), None).unwrap().limit, 1);
    }

    #[test]
    fn non_numeric_values_are_errors_naming_the_parameter() {
        let errors = RULE.page(Some("ten"), Some("1.5")).unwrap_err();
        let paths: Vec<_> = errors.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["limit", "offset"]);
        assert!(RULE.page(Some(""), None).is_err());
    }
}
