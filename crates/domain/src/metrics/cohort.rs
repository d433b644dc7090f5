//! Cohort statistics (spec §7): the means of a cohort's session metrics, and one session's percentile ranks.
//!
//! Everything is one linear pass per figure over the cohort's [`SessionMetrics`], so a cohort of 10,000
//! sessions costs well under a millisecond. Rounding, where the spec leaves it open: integer means
//! (`avgDurationMs`, `avgFirstChangeLatencyMs`) and `testPassRate` round halves up, computed exactly in
//! integers; the other means are rounded to 3 decimals, which is how the seed's `0.142` and `38.5` read;
//! percentiles are rounded to 3 decimals exactly, in integers, so that `k/11` and halves always come out the
//! same.

use std::cmp::Ordering;

use super::session_metrics::SessionMetrics;

/// The session the percentiles rank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ranked<'a> {
    /// The cohort member at this index of the cohort slice; it is left out of the sessions it is ranked among.
    Member(usize),
    /// A session that is not in the cohort (its key is still active, say); it is ranked among every member.
    Outsider(&'a SessionMetrics),
}

/// `cohortStats` of spec §7.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CohortStats {
    /// `sessionCount`: sessions in the cohort.
    pub session_count: i64,
    /// `metrics`: the cohort's means.
    pub metrics: CohortAverages,
    /// `percentiles`: the ranked session's standing; present only with a ranked session and ≥ 2 members.
    pub percentiles: Option<Percentiles>,
}

/// `cohortStats.metrics`: each mean is over the sessions where the metric is not null, and null when all are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CohortAverages {
    /// `avgDurationMs`, rounded to an integer.
    pub avg_duration_ms: Option<i64>,
    /// `avgPromptCount`, rounded to 3 decimals.
    pub avg_prompt_count: Option<f64>,
    /// `avgCommandFailRate`, rounded to 3 decimals.
    pub avg_command_fail_rate: Option<f64>,
    /// `avgVerifyIntensity`, rounded to 3 decimals.
    pub avg_verify_intensity: Option<f64>,
    /// `avgManualEditRatio`, rounded to 3 decimals.
    pub avg_manual_edit_ratio: Option<f64>,
    /// `avgFirstChangeLatencyMs`, rounded to an integer.
    pub avg_first_change_latency_ms: Option<i64>,
    /// `testPassRate`: round(100 × sessions whose `testsPassed` is true ÷ `sessionCount`).
    pub test_pass_rate: i64,
}

/// `cohortStats.percentiles`: the share of the other sessions the ranked one does better than, ties counting
/// half, in `0..=1` with 3 decimals; `None` when the ranked session or every other session lacks the metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    /// `durationMs` (shorter is better).
    pub duration_ms: Option<f64>,
    /// `promptCount` (fewer is better).
    pub prompt_count: Option<f64>,
    /// `commandFailRate` (lower is better).
    pub command_fail_rate: Option<f64>,
    /// `verifyIntensity` (higher is better).
    pub verify_intensity: Option<f64>,
    /// `manualEditRatio` (higher is better).
    pub manual_edit_ratio: Option<f64>,
    /// `firstChangeLatencyMs` (sooner is better).
    pub first_change_latency_ms: Option<f64>,
}

/// The cohort statistics of spec §7; `None` for an empty cohort (the API's `{"cohortStats": null}`).
///
/// `ranked` names the session to rank, if any. A [`Ranked::Member`] index outside the cohort ranks nothing.
pub fn cohort_stats(cohort: &[SessionMetrics], ranked: Option<Ranked<'_>>) -> Option<CohortStats> {
    if cohort.is_empty() {
        return None;
    }
    let percentiles =
        ranked.filter(|_| cohort.len() >= 2).and_then(|ranked| percentiles(cohort, ranked));
    Some(CohortStats { session_count: count(cohort.len()), metrics: averages(cohort), percentiles })
}

fn averages(cohort: &[SessionMetrics]) -> CohortAverages {
    let passed = cohort.iter().filter(|metrics| metrics.tests_passed == Some(true)).count();
    CohortAverages {
        avg_duration_ms: integer_mean(cohort.iter().map(|m| Some(m.duration_ms))),
        avg_prompt_count: mean(cohort.iter().map(|m| Some(m.prompt_count as f64))),
        avg_command_fail_rate: mean(cohort.iter().map(|m| m.command_fail_rate)),
        avg_verify_intensity: mean(cohort.iter().map(|m| m.verify_intensity)),
        avg_manual_edit_ratio: mean(cohort.iter().map(|m| m.manual_edit_ratio)),
        avg_first_change_latency_ms: integer_mean(cohort.iter().map(|m| m.first_change_latency_ms)),
        test_pass_rate: i64::try_from(rounded_div(100 * passed as u128, cohort.len() as u128))
            .unwrap_or(100),
    }
}

/// Which way a metric gets worse.
#[derive(Clone, Copy, PartialEq)]
enum Worse {
    Larger,
    Smaller,
}

type Metric = fn(&SessionMetrics) -> Option<f64>;

fn percentiles(cohort: &[SessionMetrics], ranked: Ranked<'_>) -> Option<Percentiles> {
    let (skip, ranked) = match ranked {
        Ranked::Member(index) => (Some(index), cohort.get(index)?),
        Ranked::Outsider(metrics) => (None, metrics),
    };
    let others = || {
        cohort
            .iter()
            .enumerate()
            .filter(move |(index, _)| Some(*index) != skip)
            .map(|(_, other)| other)
    };
    // Millisecond counts stay far below 2^53, so comparing them as f64 is exact.
    let rank = |value: Metric, worse: Worse| percentile(others(), value(ranked)?, value, worse);
    Some(Percentiles {
        duration_ms: rank(|m| Some(m.duration_ms as f64), Worse::Larger),
        prompt_count: rank(|m| Some(m.prompt_count as f64), Worse::Larger),
        command_fail_rate: rank(|m| m.command_fail_rate, Worse::Larger),
        verify_intensity: rank(|m| m.verify_intensity, Worse::Smaller),
        manual_edit_ratio: rank(|m| m.manual_edit_ratio, Worse::Smaller),
        first_change_latency_ms: rank(
            |m| m.first_change_latency_ms.map(|ms| ms as f64),
            Worse::Larger,
        ),
    })
}

/// (|worse than `x`| + ½ |equal to `x`|) ÷ |others having the metric|, rounded to 3 decimals.
fn percentile<'a>(
    others: impl Iterator<Item = &'a SessionMetrics>,
    x: f64,
    value: Metric,
    worse: Worse,
) -> Option<f64> {
    let (mut worse_count, mut equal_count, mut total) = (0_u128, 0_u128, 0_u128);
    for other in others.filter_map(value) {
        total += 1;
        match (other.partial_cmp(&x), worse) {
            (Some(Ordering::Equal), _) => equal_count += 1,
            (Some(Ordering::Greater), Worse::Larger) | (Some(Ordering::Less), Worse::Smaller) => {
                worse_count += 1;
            }
            _ => {}
        }
    }
    // Counted in halves so the ½ stays an integer: (2·worse + equal) ÷ (2·total), to the nearest thousandth.
    (total > 0)
        .then(|| rounded_div(1000 * (2 * worse_count + equal_count), 2 * total) as f64 / 1000.0)
}

/// The mean of the present values rounded to an integer (halves up), or `None` when none is present.
fn integer_mean(values: impl Iterator<Item = Option<i64>>) -> Option<i64> {
    let (sum, present) = values
        .flatten()
        .fold((0_i128, 0_i128), |(sum, present), value| (sum + i128::from(value), present + 1));
    // Halves round up: ⌊(2·sum + n) ÷ 2n⌋. The mean of i64 values is an i64, so the conversion cannot fail.
    (present > 0)
        .then(|| (2 * sum + present).div_euclid(2 * present))
        .and_then(|mean| i64::try_from(mean).ok())
}

/// The mean of the present values rounded to 3 decimals, or `None` when none is present.
fn mean(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, present) =
        values.flatten().fold((0.0, 0_usize), |(sum, present), value| (sum + value, present + 1));
    (present > 0).then(|| (sum / present as f64 * 1000.0).round() / 1000.0)
}

/// `numerator ÷ denominator` rounded to the nearest integer, halves up; `denominator` is never 0 here.
fn rounded_div(numerator: u128, denominator: u128) -> u128 {
    (2 * numerator + denominator) / (2 * denominator)
}

/// A length as the API's integer type.
fn count(length: usize) -> i64 {
    i64::try_from(length).unwrap_or(i64::MAX)
}
