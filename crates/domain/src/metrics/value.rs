//! The value of one metric (an integer, a real number or a yes/no, as the metric's unit says), and how it is
//! rounded.

use serde::{Serialize, Serializer};

/// How a metric's value is rounded before anyone sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// As computed. Ratios stay unrounded so that distinct values never tie in the cohort percentiles (0.3334
    /// against 0.3333 at three decimals), while equal ratios such as 1/3 and 2/6 already compare equal.
    Exact,
    /// To this many decimals.
    Decimals(u8),
}

impl Rounding {
    /// `value` rounded as declared.
    pub fn apply(self, value: f64) -> f64 {
        match self {
            Rounding::Exact => value,
            Rounding::Decimals(places) => {
                let scale = 10_f64.powi(i32::from(places));
                (value * scale).round() / scale
            }
        }
    }
}

/// A metric's value; a metric that has none (a ratio with nothing to divide by) is `None` where it is held.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricValue {
    /// Counts and milliseconds.
    Integer(i64),
    /// Ratios and percentages.
    Real(f64),
    /// Outcomes.
    Flag(bool),
}

impl MetricValue {
    /// The value as a number to compare and average; `None` for a yes/no.
    pub fn as_f64(self) -> Option<f64> {
        match self {
            // Counts and milliseconds stay far below 2^53, so this is exact.
            MetricValue::Integer(value) => Some(value as f64),
            MetricValue::Real(value) => Some(value),
            MetricValue::Flag(_) => None,
        }
    }

    /// The value as an integer, for counts and milliseconds.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            MetricValue::Integer(value) => Some(value),
            MetricValue::Real(_) | MetricValue::Flag(_) => None,
        }
    }

    /// The value as a yes/no, for outcomes.
    pub fn as_bool(self) -> Option<bool> {
        match self {
            MetricValue::Flag(value) => Some(value),
            MetricValue::Integer(_) | MetricValue::Real(_) => None,
        }
    }

    /// The value rounded as declared; only real numbers are ever rounded.
    pub fn rounded(self, rounding: Rounding) -> MetricValue {
        match self {
            MetricValue::Real(value) => MetricValue::Real(rounding.apply(value)),
            other => other,
        }
    }
}

impl Serialize for MetricValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            MetricValue::Integer(value) => serializer.serialize_i64(value),
            MetricValue::Real(value) => serializer.serialize_f64(value),
            MetricValue::Flag(value) => serializer.serialize_bool(value),
        }
    }
}
