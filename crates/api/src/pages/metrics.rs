//! Metrics as the pages show them, read from the one metric table (`traceline_domain::metrics::METRICS`): each
//! metric's label, value in its unit, which way is better, and its cohort percentile. No page lists metric names
//! itself.

use traceline_domain::metrics::{
    Better, Metric, MetricValue, NamedValues, SessionMetrics, METRICS,
};

use super::cohort_chart::{chart, ChartView};
use super::format;
use crate::routes::Cohort;

/// One metric of one session.
pub(crate) struct MetricCell {
    /// The API name, for the `data-metric` and `data-percentile` hooks.
    pub(crate) name: &'static str,
    pub(crate) label: &'static str,
    pub(crate) definition: &'static str,
    /// The value as people read it; `—` when there is none.
    pub(crate) value: String,
    /// Why there is no value, when there is none.
    pub(crate) missing_because: Option<&'static str>,
    /// A number to sort by (empty when there is no value), for sortable tables.
    pub(crate) sort_key: String,
    /// `lower is better` / `higher is better`, for ranked metrics.
    pub(crate) direction: Option<&'static str>,
    /// The percentile as the API gives it (`0.727`), when the cohort ranks this session on this metric.
    pub(crate) percentile: Option<String>,
    /// Whether the cohort ranks the metric at all.
    pub(crate) ranked: bool,
    /// The events it counts, and the link that filters the session's timeline to them (session pages only).
    pub(crate) counts: Option<CountedEvents>,
    /// The cohort chart (session pages only, with a cohort).
    pub(crate) chart: Option<ChartView>,
}

/// The events a metric counts, as a link to the timeline filtered to them.
pub(crate) struct CountedEvents {
    /// `/sessions/{id}?only=failed-commands`.
    pub(crate) href: String,
    /// `failed commands`.
    pub(crate) label: &'static str,
}

/// Every metric of a session in table order, with its percentiles when a cohort ranks it.
pub(crate) fn cells(
    metrics: &SessionMetrics,
    percentiles: Option<&NamedValues<f64>>,
) -> Vec<MetricCell> {
    metrics
        .iter()
        .map(|(metric, value)| {
            let percentile = percentiles.and_then(|ranks| ranks.get(metric.name));
            MetricCell {
                name: metric.name,
                label: metric.label,
                definition: metric.definition,
                value: value
                    .map_or_else(|| "—".to_owned(), |value| format::metric_value(metric, value)),
                missing_because: value.is_none().then_some(metric.null_when).flatten(),
                sort_key: value.and_then(sortable).map(|key| key.to_string()).unwrap_or_default(),
                direction: metric.better.map(|better| match better {
                    Better::Smaller => "lower is better",
                    Better::Larger => "higher is better",
                }),
                percentile: percentile.map(|rank| rank.to_string()),
                ranked: metric.better.is_some(),
                counts: None,
                chart: None,
            }
        })
        .collect()
}

/// Every metric of one session as its own pages show it: with the link to the events it counts (the metric
/// table's `counts`) and, when it has a cohort, the chart of the cohort with its percentile in words.
pub(crate) fn session_cells(
    session_id: &str,
    metrics: &SessionMetrics,
    cohort: Option<&Cohort>,
) -> Vec<MetricCell> {
    let stats = cohort.and_then(|cohort| cohort.stats.as_ref());
    let mut cells = cells(metrics, stats.and_then(|stats| stats.percentiles.as_ref()));
    for (index, (cell, metric)) in cells.iter_mut().zip(METRICS.iter()).enumerate() {
        cell.counts = metric.counts.map(|set| CountedEvents {
            href: format!("/sessions/{session_id}?only={}", set.name()),
            label: set.label(),
        });
        cell.chart = cohort.and_then(|cohort| chart(index, metric, metrics, cohort));
    }
    cells
}

/// The table's column headings: label and definition of every metric.
pub(crate) fn headings() -> impl Iterator<Item = &'static Metric> {
    METRICS.iter()
}

/// The value as a number to sort by; outcomes sort failed before passed.
fn sortable(value: MetricValue) -> Option<f64> {
    match value {
        MetricValue::Flag(passed) => Some(if passed { 1.0 } else { 0.0 }),
        other => other.as_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_of_the_table_gets_a_cell_in_its_unit() {
        let metrics = SessionMetrics::default()
            .with("durationMs", Some(MetricValue::Integer(245_000)))
            .with("commandFailRate", Some(MetricValue::Real(1.0 / 3.0)))
            .with("testsPassed", Some(MetricValue::Flag(false)))
            .with("aiAttributionPct", Some(MetricValue::Real(62.5)));
        let cells = cells(&metrics, None);
        assert_eq!(cells.len(), METRICS.len());
        let value = |name: &str| cells.iter().find(|cell| cell.name == name).unwrap().value.clone();
        assert_eq!(value("durationMs"), "4 min 05 s");
        assert_eq!(value("commandFailRate"), "0.333");
        assert_eq!(value("testsPassed"), "failed");
        assert_eq!(value("aiAttributionPct"), "62.5 %");
        assert_eq!(value("promptCount"), "—");
        assert!(cells.iter().all(|cell| cell.percentile.is_none()));
    }
}
