//! The one table of session metrics (spec §6): each metric is declared here once — its API name, label, unit,
//! definition, how it is computed from a session's [`SessionTotals`], rounding, which way is better, and how the
//! cohort summarises it (spec §7).
//!
//! Everything that lists metrics reads this table: [`SessionMetrics`](super::SessionMetrics) and its JSON, the
//! cohort's averages and percentiles, the artifacts, the OpenAPI schema and the web UI. Adding a metric that the
//! existing aggregates can compute is one row here; one that needs a new aggregate also adds a field to
//! `SessionTotals` (and its column, see ARCHITECTURE.md).

use chrono::{DateTime, Utc};

use super::event_set::EventSet;
use super::totals::SessionTotals;
use super::value::{MetricValue, Rounding};

/// What a metric's number means, and so how it is typed in JSON and shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A duration in milliseconds (an integer).
    Milliseconds,
    /// A number of events (an integer).
    Count,
    /// A quotient of two counts (a number; not always at most 1).
    Ratio,
    /// A share out of 100 (a number).
    Percent,
    /// Yes or no (a boolean).
    Outcome,
}

impl Unit {
    /// The JSON Schema type of a value in this unit.
    pub fn json_type(self) -> &'static str {
        match self {
            Unit::Milliseconds | Unit::Count => "integer",
            Unit::Ratio | Unit::Percent => "number",
            Unit::Outcome => "boolean",
        }
    }
}

/// Which way a metric is better, when the cohort ranks it (spec §7: "worse" is the other way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Smaller values are better: larger ones are worse.
    Smaller,
    /// Larger values are better: smaller ones are worse.
    Larger,
}

/// How the cohort summarises a metric in `cohortStats.metrics`, under the given name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CohortSummary {
    /// The mean over the sessions that have the metric, rounded to an integer (halves up); null when none has it.
    IntegerMean(&'static str),
    /// The mean over the sessions that have the metric, rounded to 3 decimals; null when none has it.
    Mean(&'static str),
    /// round(100 × sessions whose value is `true` ÷ all sessions of the cohort): an integer, never null.
    PercentTrue(&'static str),
}

impl CohortSummary {
    /// The summary's name in `cohortStats.metrics`.
    pub fn name(self) -> &'static str {
        match self {
            CohortSummary::IntegerMean(name)
            | CohortSummary::Mean(name)
            | CohortSummary::PercentTrue(name) => name,
        }
    }
}

/// A session's timestamps, which the durations are measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSpan {
    /// The earliest event `ts`, or the creation time while there is no event.
    pub started_at: DateTime<Utc>,
    /// When the session ended, if it has.
    pub ended_at: Option<DateTime<Utc>>,
    /// The latest event `ts`, or the creation time while there is no event.
    pub last_activity_at: DateTime<Utc>,
}

impl SessionSpan {
    /// Milliseconds from the start to `at`, never negative (only a hand-set `endedAt` before the start could
    /// make it so).
    fn since_start(&self, at: DateTime<Utc>) -> i64 {
        (at - self.started_at).num_milliseconds().max(0)
    }
}

/// One metric of spec §6.
#[derive(Debug, Clone, Copy)]
pub struct Metric {
    /// The field name in the API (`commandFailRate`).
    pub name: &'static str,
    /// What people call it (`Command failure rate`).
    pub label: &'static str,
    /// The definition, in one sentence.
    pub definition: &'static str,
    /// When the value is null, or `None` when it never is.
    pub null_when: Option<&'static str>,
    /// What its number means.
    pub unit: Unit,
    /// How its value is rounded.
    pub rounding: Rounding,
    /// Which way is better, for the metrics the cohort ranks (`percentiles`); `None` for the others.
    pub better: Option<Better>,
    /// How `cohortStats.metrics` summarises it, if it does.
    pub cohort: Option<CohortSummary>,
    /// The events it counts, to which a reader can filter the timeline; `None` for a metric of time alone.
    pub counts: Option<EventSet>,
    /// The value, from the aggregates and the session's timestamps, before rounding.
    pub compute: fn(&SessionTotals, &SessionSpan) -> Option<MetricValue>,
}

/// How many metrics there are.
pub const METRIC_COUNT: usize = METRICS.len();

/// Every metric, in the order the API lists them.
pub const METRICS: [Metric; 10] = [
    Metric {
        name: "durationMs",
        label: "Duration",
        definition: "From the first event to the end (or, while in progress, to the last event).",
        null_when: None,
        unit: Unit::Milliseconds,
        rounding: Rounding::Exact,
        better: Some(Better::Smaller),
        cohort: Some(CohortSummary::IntegerMean("avgDurationMs")),
        counts: None,
        compute: |_, span| {
            Some(MetricValue::Integer(
                span.since_start(span.ended_at.unwrap_or(span.last_activity_at)),
            ))
        },
    },
    Metric {
        name: "promptCount",
        label: "Prompts",
        definition: "Prompts sent to the AI.",
        null_when: None,
        unit: Unit::Count,
        rounding: Rounding::Exact,
        better: Some(Better::Smaller),
        cohort: Some(CohortSummary::Mean("avgPromptCount")),
        counts: Some(EventSet::Prompts),
        compute: |totals, _| Some(MetricValue::Integer(totals.prompt_count)),
    },
    Metric {
        name: "commandCount",
        label: "Commands",
        definition: "Shell commands run.",
        null_when: None,
        unit: Unit::Count,
        rounding: Rounding::Exact,
        better: None,
        cohort: None,
        counts: Some(EventSet::Commands),
        compute: |totals, _| Some(MetricValue::Integer(totals.command_count)),
    },
    Metric {
        name: "commandFailRate",
        label: "Command failure rate",
        definition: "Commands that exited non-zero, out of the commands whose exit code is known.",
        null_when: Some("no command carries an exit code"),
        unit: Unit::Ratio,
        rounding: Rounding::Exact,
        better: Some(Better::Smaller),
        cohort: Some(CohortSummary::Mean("avgCommandFailRate")),
        counts: Some(EventSet::FailedCommands),
        compute: |totals, _| ratio(totals.command_fail_count, totals.command_exit_count),
    },
    Metric {
        name: "verifyIntensity",
        label: "Verification intensity",
        definition: "Verification actions (tests, builds, type checks, linters) per file change.",
        null_when: Some("there is no file change"),
        unit: Unit::Ratio,
        rounding: Rounding::Exact,
        better: Some(Better::Larger),
        cohort: Some(CohortSummary::Mean("avgVerifyIntensity")),
        counts: Some(EventSet::Verifications),
        compute: |totals, _| ratio(totals.verify_count, totals.file_change_count),
    },
    Metric {
        name: "manualEditRatio",
        label: "Manual edit ratio",
        definition: "File changes made by a person, out of all file changes.",
        null_when: Some("there is no file change"),
        unit: Unit::Ratio,
        rounding: Rounding::Exact,
        better: Some(Better::Larger),
        cohort: Some(CohortSummary::Mean("avgManualEditRatio")),
        counts: Some(EventSet::ManualEdits),
        compute: |totals, _| ratio(totals.manual_edit_count, totals.file_change_count),
    },
    Metric {
        name: "firstChangeLatencyMs",
        label: "First change after",
        definition: "From the start to the first file change.",
        null_when: Some("there is no file change"),
        unit: Unit::Milliseconds,
        rounding: Rounding::Exact,
        better: Some(Better::Smaller),
        cohort: Some(CohortSummary::IntegerMean("avgFirstChangeLatencyMs")),
        counts: Some(EventSet::FileChanges),
        compute: |totals, span| {
            totals.first_change_at.map(|at| MetricValue::Integer(span.since_start(at)))
        },
    },
    Metric {
        name: "testsPassed",
        label: "Tests passed",
        definition: "The outcome of the last test run, or of the last command that ran tests.",
        null_when: Some("no test ran"),
        unit: Unit::Outcome,
        rounding: Rounding::Exact,
        better: None,
        cohort: Some(CohortSummary::PercentTrue("testPassRate")),
        counts: Some(EventSet::TestEvidence),
        compute: |totals, _| totals.last_test.map(|test| MetricValue::Flag(test.passed)),
    },
    Metric {
        name: "aiAttributionPct",
        label: "AI attribution",
        definition:
            "The share of changed lines written by AI (revised or mixed changes count half).",
        null_when: Some("no file change has a known author"),
        unit: Unit::Percent,
        rounding: ATTRIBUTION_ROUNDING,
        better: None,
        cohort: None,
        counts: Some(EventSet::AttributedChanges),
        compute: |totals, _| {
            attribution_share(totals.ai_weight_halves, totals.ai_attributed_size)
                .map(MetricValue::Real)
        },
    },
    Metric {
        name: "fileChangeCount",
        label: "File changes",
        definition: "Files edited or created.",
        null_when: None,
        unit: Unit::Count,
        rounding: Rounding::Exact,
        better: None,
        cohort: None,
        counts: Some(EventSet::FileChanges),
        compute: |totals, _| Some(MetricValue::Integer(totals.file_change_count)),
    },
];

/// How `aiAttributionPct` is rounded, in the metrics and on the session object alike.
const ATTRIBUTION_ROUNDING: Rounding = Rounding::Decimals(1);

/// `aiAttributionPct` from its aggregates (Σ 2·weight·size and Σ size over attributed file changes), rounded as
/// the metric is: the session object shows the same number as the metrics.
pub fn ai_attribution_pct(weight_halves: i64, attributed_size: i64) -> Option<f64> {
    attribution_share(weight_halves, attributed_size).map(|pct| ATTRIBUTION_ROUNDING.apply(pct))
}

/// 100 × Σ weight·size ÷ Σ size, unrounded; `None` while no attributed change exists. Weights are 0, ½ or 1, so
/// the doubled sum stays an exact integer.
fn attribution_share(weight_halves: i64, attributed_size: i64) -> Option<f64> {
    // Both sums stay far below 2^52 for any real session, so converting them to f64 loses nothing.
    (attributed_size > 0).then(|| 100.0 * weight_halves as f64 / (2.0 * attributed_size as f64))
}

/// `part ÷ whole`, or `None` when there is nothing to divide by.
fn ratio(part: i64, whole: i64) -> Option<MetricValue> {
    // Counts stay far below 2^53, so both conversions are exact.
    (whole > 0).then(|| MetricValue::Real(part as f64 / whole as f64))
}

impl Metric {
    /// The metric with this API name.
    pub fn named(name: &str) -> Option<&'static Metric> {
        METRICS.iter().find(|metric| metric.name == name)
    }

    /// The metrics the cohort ranks, in table order.
    pub fn ranked() -> impl Iterator<Item = (usize, &'static Metric)> {
        METRICS.iter().enumerate().filter(|(_, metric)| metric.better.is_some())
    }

    /// Its value for a session, rounded as declared.
    pub fn value(&self, totals: &SessionTotals, span: &SessionSpan) -> Option<MetricValue> {
        (self.compute)(totals, span).map(|value| value.rounded(self.rounding))
    }
}
