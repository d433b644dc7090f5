//! Tests of the cohort statistics: the seed's example to the digit, nulls, ties, directions and scale.

use std::time::Instant;

use serde_json::json;

use super::{cohort_stats, MetricValue, Ranked, SessionMetrics};

const fn int(value: i64) -> Option<MetricValue> {
    Some(MetricValue::Integer(value))
}

const fn real(value: f64) -> Option<MetricValue> {
    Some(MetricValue::Real(value))
}

const fn flag(value: bool) -> Option<MetricValue> {
    Some(MetricValue::Flag(value))
}

/// A session with every ranked metric present and neutral; tests override what they look at.
fn session() -> SessionMetrics {
    SessionMetrics::default()
        .with("durationMs", int(1_000))
        .with("promptCount", int(1))
        .with("commandCount", int(1))
        .with("commandFailRate", real(0.0))
        .with("verifyIntensity", real(1.0))
        .with("manualEditRatio", real(0.0))
        .with("firstChangeLatencyMs", int(100))
        .with("fileChangeCount", int(1))
}

fn durations(values: &[i64]) -> Vec<SessionMetrics> {
    values.iter().map(|&duration| session().with("durationMs", int(duration))).collect()
}

fn summary(stats: &Option<super::CohortStats>, name: &str) -> Option<MetricValue> {
    stats.as_ref().and_then(|stats| stats.metrics.get(name))
}

fn percentile(stats: Option<super::CohortStats>, name: &str) -> Option<f64> {
    stats.and_then(|stats| stats.percentiles).and_then(|percentiles| percentiles.get(name))
}

/// Twelve sessions with distinct values, spread evenly around the seed's means, where session 0 (the ranked
/// one) sits at the rank the seed's percentiles imply: k of the 11 others are worse than it.
fn seed_cohort() -> Vec<SessionMetrics> {
    // Step `i` of twelve evenly spaced offsets, symmetric around 0: -11, -9, …, 9, 11.
    let offset = |i: usize| 2 * i as i64 - 11;
    // Session `j` takes the value of ascending rank (rank + j) mod 12, so session 0 has rank `rank`.
    let pick = |rank: usize, j: usize| (rank + j) % 12;
    (0..12)
        .map(|j| {
            session()
                // 8 others longer → 8/11.
                .with("durationMs", int(4_320_000 + offset(pick(3, j)) * 10_000))
                // 33..=44; 5 others with more prompts → 5/11.
                .with("promptCount", int(33 + pick(6, j) as i64))
                // 9 others failing more → 9/11.
                .with("commandFailRate", real(0.142 + offset(pick(2, j)) as f64 * 0.005))
                // 7 others verifying less → 7/11.
                .with("verifyIntensity", real(0.61 + offset(pick(7, j)) as f64 * 0.01))
                // 8 others editing less by hand → 8/11.
                .with("manualEditRatio", real(0.33 + offset(pick(8, j)) as f64 * 0.01))
                // 4 others slower to the first change → 4/11.
                .with("firstChangeLatencyMs", int(180_000 + offset(pick(7, j)) * 1_000))
                // 9 of 12 passed.
                .with("testsPassed", flag(j % 4 != 3))
        })
        .collect()
}

#[test]
fn the_seed_example_comes_out_exactly() {
    let stats = cohort_stats(&seed_cohort(), Some(Ranked::Member(0)));
    assert_eq!(
        serde_json::to_value(stats).unwrap(),
        json!({
            "sessionCount": 12,
            "metrics": {
                "avgDurationMs": 4_320_000,
                "avgPromptCount": 38.5,
                "avgCommandFailRate": 0.142,
                "avgVerifyIntensity": 0.61,
                "avgManualEditRatio": 0.33,
                "avgFirstChangeLatencyMs": 180_000,
                "testPassRate": 75,
            },
            "percentiles": {
                "durationMs": 0.727,
                "promptCount": 0.455,
                "commandFailRate": 0.818,
                "verifyIntensity": 0.636,
                "manualEditRatio": 0.727,
                "firstChangeLatencyMs": 0.364,
            },
        })
    );
}

#[test]
fn an_empty_cohort_has_no_stats_and_a_single_session_no_percentiles() {
    assert_eq!(cohort_stats(&[], Some(Ranked::Outsider(&session()))), None);
    let alone = cohort_stats(&[session()], Some(Ranked::Member(0)));
    assert_eq!(alone.as_ref().map(|stats| stats.session_count), Some(1));
    assert_eq!(summary(&alone, "avgDurationMs"), int(1_000));
    assert_eq!(alone.and_then(|stats| stats.percentiles), None);
    let outsider = session();
    let ranked_alone = cohort_stats(&[session()], Some(Ranked::Outsider(&outsider)));
    assert_eq!(ranked_alone.and_then(|stats| stats.percentiles), None);
    let unranked = cohort_stats(&durations(&[1, 2]), None);
    assert_eq!(unranked.and_then(|stats| stats.percentiles), None, "nobody to rank");
    let out_of_range = cohort_stats(&durations(&[1, 2]), Some(Ranked::Member(2)));
    assert_eq!(out_of_range.and_then(|stats| stats.percentiles), None);
}

#[test]
fn a_member_is_ranked_among_the_others_and_an_outsider_among_all() {
    let cohort = durations(&[10, 20, 30, 40]);
    let rank = |ranked| percentile(cohort_stats(&cohort, Some(ranked)), "durationMs");
    // Member 20 among 10, 30, 40: two are longer.
    assert_eq!(rank(Ranked::Member(1)), Some(0.667));
    assert_eq!(rank(Ranked::Member(0)), Some(1.0));
    assert_eq!(rank(Ranked::Member(3)), Some(0.0));
    // An outsider at 20 among all four: two longer, one equal → 2.5/4.
    let outsider = session().with("durationMs", int(20));
    assert_eq!(rank(Ranked::Outsider(&outsider)), Some(0.625));
}

#[test]
fn ties_count_half_and_directions_follow_the_metric() {
    let ranked =
        ["durationMs", "promptCount", "commandFailRate", "verifyIntensity", "manualEditRatio"];
    let same =
        vec![session().with("commandFailRate", real(0.5)).with("manualEditRatio", real(0.5)); 5];
    let stats = cohort_stats(&same, Some(Ranked::Member(2)));
    let percentiles = stats.and_then(|stats| stats.percentiles).unwrap();
    assert_eq!(percentiles.iter().count(), 6, "the six ranked metrics, and only those");
    for name in ranked.iter().chain(&["firstChangeLatencyMs"]) {
        assert_eq!(percentiles.get(name), Some(0.5), "{name}");
    }
    let better = session()
        .with("durationMs", int(1))
        .with("promptCount", int(0))
        .with("commandFailRate", real(0.0))
        .with("verifyIntensity", real(2.0))
        .with("manualEditRatio", real(1.0))
        .with("firstChangeLatencyMs", int(0));
    let best = cohort_stats(&same, Some(Ranked::Outsider(&better)));
    let best = best.and_then(|stats| stats.percentiles).unwrap();
    assert!(best.iter().all(|(_, rank)| rank == Some(1.0)), "{best:?}");
}

#[test]
fn nulls_are_left_out_of_means_and_percentiles() {
    let blank = session()
        .with("commandFailRate", None)
        .with("verifyIntensity", None)
        .with("manualEditRatio", None)
        .with("firstChangeLatencyMs", None);
    let cohort = [
        blank,
        blank.with("commandFailRate", real(0.25)).with("firstChangeLatencyMs", int(3)),
        blank.with("commandFailRate", real(0.5)).with("firstChangeLatencyMs", int(4)),
    ];
    let stats = cohort_stats(&cohort, Some(Ranked::Member(1)));
    assert_eq!(summary(&stats, "avgCommandFailRate"), real(0.375));
    assert_eq!(summary(&stats, "avgFirstChangeLatencyMs"), int(4), "3.5 rounds half up");
    assert_eq!(summary(&stats, "avgVerifyIntensity"), None);
    assert_eq!(summary(&stats, "avgManualEditRatio"), None);
    // Ranked among the one other session that has the metric.
    assert_eq!(percentile(stats.clone(), "commandFailRate"), Some(1.0));
    assert_eq!(percentile(stats.clone(), "firstChangeLatencyMs"), Some(1.0));
    // The ranked session lacks it.
    assert_eq!(percentile(stats, "verifyIntensity"), None);
    // Ranked session has it, nobody else does.
    let lonely = [blank.with("verifyIntensity", real(1.0)), blank];
    assert_eq!(percentile(cohort_stats(&lonely, Some(Ranked::Member(0))), "verifyIntensity"), None);
}

#[test]
fn rates_and_integer_means_round_halves_up() {
    let with_tests = |passed: &[Option<bool>]| {
        let cohort: Vec<_> = passed
            .iter()
            .map(|&passed| session().with("testsPassed", passed.map(MetricValue::Flag)))
            .collect();
        summary(&cohort_stats(&cohort, None), "testPassRate")
    };
    assert_eq!(with_tests(&[Some(true), Some(true), Some(false)]), int(67));
    assert_eq!(with_tests(&[Some(true), None, None]), int(33));
    let mut eight = vec![None; 8];
    eight[0] = Some(true);
    assert_eq!(with_tests(&eight), int(13), "12.5 rounds up");
    assert_eq!(with_tests(&[None, Some(false)]), int(0));
    assert_eq!(summary(&cohort_stats(&durations(&[1, 2]), None), "avgDurationMs"), int(2));
    assert_eq!(summary(&cohort_stats(&durations(&[0, 1, 1]), None), "avgDurationMs"), int(1));
    let prompts: Vec<_> =
        [1, 1, 2].iter().map(|&prompts| session().with("promptCount", int(prompts))).collect();
    assert_eq!(summary(&cohort_stats(&prompts, None), "avgPromptCount"), real(1.333));
}

#[test]
fn ten_thousand_sessions_take_well_under_fifty_milliseconds() {
    let cohort: Vec<_> = (0..10_000_i64)
        .map(|i| {
            session()
                .with("durationMs", int((i * 7_919) % 10_007))
                .with("promptCount", int(i % 97))
                .with(
                    "commandFailRate",
                    (i % 5 != 0).then(|| MetricValue::Real((i % 13) as f64 / 13.0)),
                )
                .with("verifyIntensity", real((i % 31) as f64 / 7.0))
                .with(
                    "manualEditRatio",
                    (i % 3 != 0).then(|| MetricValue::Real((i % 11) as f64 / 11.0)),
                )
                .with("firstChangeLatencyMs", int(i * 13 % 4_001))
                .with("testsPassed", flag(i % 2 == 0))
        })
        .collect();
    let started = Instant::now();
    let stats = cohort_stats(&cohort, Some(Ranked::Member(4_321)));
    let elapsed = started.elapsed();
    assert_eq!(stats.as_ref().map(|stats| stats.session_count), Some(10_000));
    assert_eq!(summary(&stats, "testPassRate"), int(50));
    assert!(stats.and_then(|stats| stats.percentiles).is_some());
    assert!(elapsed.as_millis() < 50, "took {elapsed:?}");
}
