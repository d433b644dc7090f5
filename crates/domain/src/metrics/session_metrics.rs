//! `SessionMetrics` of spec §6: one value per metric of the [table](super::METRICS), read off a session's
//! [`SessionTotals`] and its timestamps, and serialised as the API's JSON object straight from the table.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::table::{Metric, SessionSpan, METRICS, METRIC_COUNT};
use super::totals::SessionTotals;
use super::value::MetricValue;

/// A session's metrics, in table order: `GET /v1/sessions/:id/metrics` serialises it as `{name: value}`.
///
/// The default has no value for any metric; [`SessionMetrics::with`] fills them in (for examples and tests).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SessionMetrics {
    values: [Option<MetricValue>; METRIC_COUNT],
}

impl SessionMetrics {
    /// The value of the metric with this API name (`None` when it has none, or no such metric exists).
    pub fn get(&self, name: &str) -> Option<MetricValue> {
        let index = METRICS.iter().position(|metric| metric.name == name)?;
        self.values[index]
    }

    /// Every metric with its value, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static Metric, Option<MetricValue>)> + '_ {
        METRICS.iter().zip(self.values.iter().copied())
    }

    /// The value at a table position, for code that walks the table itself.
    pub fn at(&self, index: usize) -> Option<MetricValue> {
        self.values.get(index).copied().flatten()
    }

    /// The same metrics with one value replaced: for building examples and tests. Unknown names change nothing.
    #[must_use]
    pub fn with(mut self, name: &str, value: Option<MetricValue>) -> Self {
        if let Some(index) = METRICS.iter().position(|metric| metric.name == name) {
            self.values[index] = value;
        }
        self
    }
}

impl SessionTotals {
    /// The metrics of spec §6 given the session's timestamps.
    pub fn metrics(&self, span: &SessionSpan) -> SessionMetrics {
        SessionMetrics { values: METRICS.map(|metric| metric.value(self, span)) }
    }
}

impl Serialize for SessionMetrics {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(METRIC_COUNT))?;
        for (metric, value) in self.iter() {
            map.serialize_entry(metric.name, &value)?;
        }
        map.end()
    }
}
