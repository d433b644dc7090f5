//! Session metrics (spec §6) and cohort statistics (spec §7): the aggregates kept on ingest and the math on them.
//!
//! On every ingest the storage layer folds the new event into the session's [`SessionTotals`]
//! ([`SessionTotals::record`]) and stores them; [`SessionTotals::metrics`] turns them into the
//! [`SessionMetrics`] the API returns, and [`cohort_stats`] summarises a cohort's metrics. Each metric is
//! declared once, in [`METRICS`]: everything that lists metrics (the JSON, the cohort, the artifacts, the API
//! description, the web UI) walks that table. Nothing here scans a timeline, reads a clock or does I/O.
//!
//! Where the spec is silent this module decides as follows:
//!
//! - **Command lines** are read as a shell would (quotes, `&&` / `||` / `;` / pipes, redirections); a chain
//!   verifies, or runs tests, when any of its commands does. Its exit code is taken as the tests' outcome, as
//!   the spec says, even when a later command of the chain produced it. See [`classify_command`] for the
//!   programs and verbs recognised.
//! - **`test_run` / `build_run`** name their command when `data.command` is a non-blank string. A `test_run`
//!   without a `failed` count reported no failure, so it counts as passed.
//! - **Sizes** of file changes ignore negative or non-integer `linesAdded` / `linesRemoved` (the schema
//!   rejects them anyway) and saturate instead of overflowing.
//! - **Per-session ratios** are unrounded; the cohort rounds (see [`cohort_stats`]).
//! - **Negative durations** (an `endedAt` set by hand before the first event) are reported as 0.
//! - **Rounding** is declared per metric; only `aiAttributionPct` is rounded (one decimal).

mod argv;
mod cohort;
mod command;
mod event_set;
#[cfg(feature = "schema")]
mod schema;
mod session_metrics;
mod shell;
mod table;
mod totals;
mod value;

#[cfg(test)]
mod cohort_tests;
#[cfg(test)]
mod command_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod totals_tests;

pub use cohort::{cohort_stats, member_percentiles, CohortStats, NamedValues, Ranked, Standing};
pub use command::{classify_command, CommandClass};
pub use event_set::{EventFacts, EventMarks, EventSet};
pub use session_metrics::SessionMetrics;
pub use table::{
    ai_attribution_pct, Better, CohortSummary, Metric, SessionSpan, Unit, METRICS, METRIC_COUNT,
};
pub use totals::{SessionTotals, TestEvidence};
pub use value::{MetricValue, Rounding};
