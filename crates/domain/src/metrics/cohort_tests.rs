//! Tests of the cohort statistics: the seed's example to the digit, nulls, ties, directions and scale.

use std::time::Instant;

use super::{cohort_stats, CohortAverages, CohortStats, Percentiles, Ranked, SessionMetrics};

/// A session with every metric present and neutral; tests override what they look at.
fn session() -> SessionMetrics {
    SessionMetrics {
        duration_ms: 1_000,
        prompt_count: 1,
        command_count: 1,
        command_fail_rate: Some(0.0),
        verify_intensity: Some(1.0),
        manual_edit_ratio: Some(0.0),
        first_change_latency_ms: Some(100),
        tests_passed: None,
        ai_attribution_pct: None,
        file_change_count: 1,
    }
}

fn durations(values: &[i64]) -> Vec<SessionMetrics> {
    values.iter().map(|&duration_ms| SessionMetrics { duration_ms, ..session() }).collect()
}

/// Twelve sessions with distinct values, spread evenly around the seed's means, where session 0 (the ranked
/// one) sits at the rank the seed's percentiles imply: k of the 11 others are worse than it.
fn seed_cohort() -> Vec<SessionMetrics> {
    // Step `i` of twelve evenly spaced offsets, symmetric around 0: -11, -9, …, 9, 11.
    let offset = |i: usize| 2 * i as i64 - 11;
    // Session `j` takes the value of ascending rank (rank + j) mod 12, so session 0 has rank `rank`.
    let pick = |rank: usize, j: usize| (rank + j) % 12;
    (0..12)
        .map(|j| SessionMetrics {
            // 8 others longer → 8/11.
            duration_ms: 4_320_000 + offset(pick(3, j)) * 10_000,
            // 33..=44; 5 others with more prompts → 5/11.
            prompt_count: 33 + pick(6, j) as i64,
            // 9 others failing more → 9/11.
            command_fail_rate: Some(0.142 + offset(pick(2, j)) as f64 * 0.005),
            // 7 others verifying less → 7/11.
            verify_intensity: Some(0.61 + offset(pick(7, j)) as f64 * 0.01),
            // 8 others editing less by hand → 8/11.
            manual_edit_ratio: Some(0.33 + offset(pick(8, j)) as f64 * 0.01),
            // 4 others slower to the first change → 4/11.
            first_change_latency_ms: Some(180_000 + offset(pick(7, j)) * 1_000),
            // 9 of 12 passed.
            tests_passed: Some(j % 4 != 3),
            ..session()
        })
        .collect()
}

#[test]
fn the_seed_example_comes_out_exactly() {
    let stats = cohort_stats(&seed_cohort(), Some(Ranked::Member(0)));
    assert_eq!(
        stats,
        Some(CohortStats {
            session_count: 12,
            metrics: CohortAverages {
                avg_duration_ms: Some(4_320_000),
                avg_prompt_count: Some(38.5),
                avg_command_fail_rate: Some(0.142),
                avg_verify_intensity: Some(0.61),
                avg_manual_edit_ratio: Some(0.33),
                avg_first_change_latency_ms: Some(180_000),
                test_pass_rate: 75,
            },
            percentiles: Some(Percentiles {
                duration_ms: Some(0.727),
                prompt_count: Some(0.455),
                command_fail_rate: Some(0.818),
                verify_intensity: Some(0.636),
                manual_edit_ratio: Some(0.727),
                first_change_latency_ms: Some(0.364),
            }),
        })
    );
}

#[test]
fn an_empty_cohort_has_no_stats_and_a_single_session_no_percentiles() {
    assert_eq!(cohort_stats(&[], Some(Ranked::Outsider(&session()))), None);
    let alone = cohort_stats(&[session()], Some(Ranked::Member(0))).unwrap();
    assert_eq!(alone.session_count, 1);
    assert_eq!(alone.percentiles, None);
    assert_eq!(alone.metrics.avg_duration_ms, Some(1_000));
    let outsider = session();
    assert_eq!(
        cohort_stats(&[session()], Some(Ranked::Outsider(&outsider))).unwrap().percentiles,
        None
    );
    assert_eq!(
        cohort_stats(&durations(&[1, 2]), None).unwrap().percentiles,
        None,
        "nobody to rank"
    );
    let out_of_range = cohort_stats(&durations(&[1, 2]), Some(Ranked::Member(2))).unwrap();
    assert_eq!(out_of_range.percentiles, None);
}

#[test]
fn a_member_is_ranked_among_the_others_and_an_outsider_among_all() {
    let cohort = durations(&[10, 20, 30, 40]);
    let rank =
        |ranked| cohort_stats(&cohort, Some(ranked)).unwrap().percentiles.unwrap().duration_ms;
    // Member 20 among 10, 30, 40: two are longer.
    assert_eq!(rank(Ranked::Member(1)), Some(0.667));
    assert_eq!(rank(Ranked::Member(0)), Some(1.0));
    assert_eq!(rank(Ranked::Member(3)), Some(0.0));
    // An outsider at 20 among all four: two longer, one equal → 2.5/4.
    let outsider = SessionMetrics { duration_ms: 20, ..session() };
    assert_eq!(rank(Ranked::Outsider(&outsider)), Some(0.625));
}

#[test]
fn ties_count_half_and_directions_follow_the_metric() {
    let same = vec![
        SessionMetrics {
            command_fail_rate: Some(0.5),
            manual_edit_ratio: Some(0.5),
            ..session()
        };
        5
    ];
    let percentiles = cohort_stats(&same, Some(Ranked::Member(2))).unwrap().percentiles.unwrap();
    let all = [
        percentiles.duration_ms,
        percentiles.prompt_count,
        percentiles.command_fail_rate,
        percentiles.verify_intensity,
        percentiles.manual_edit_ratio,
        percentiles.first_change_latency_ms,
    ];
    assert_eq!(all, [Some(0.5); 6]);
    let better = SessionMetrics {
        duration_ms: 1,
        prompt_count: 0,
        command_fail_rate: Some(0.0),
        verify_intensity: Some(2.0),
        manual_edit_ratio: Some(1.0),
        first_change_latency_ms: Some(0),
        ..session()
    };
    let best = cohort_stats(&same, Some(Ranked::Outsider(&better))).unwrap().percentiles.unwrap();
    assert_eq!(
        best,
        Percentiles {
            duration_ms: Some(1.0),
            prompt_count: Some(1.0),
            command_fail_rate: Some(1.0),
            verify_intensity: Some(1.0),
            manual_edit_ratio: Some(1.0),
            first_change_latency_ms: Some(1.0),
        }
    );
}

#[test]
fn nulls_are_left_out_of_means_and_percentiles() {
    let blank = SessionMetrics {
        command_fail_rate: None,
        verify_intensity: None,
        manual_edit_ratio: None,
        first_change_latency_ms: None,
        ..session()
    };
    let cohort = [
        blank,
        SessionMetrics { command_fail_rate: Some(0.25), first_change_latency_ms: Some(3), ..blank },
        SessionMetrics { command_fail_rate: Some(0.5), first_change_latency_ms: Some(4), ..blank },
    ];
    let stats = cohort_stats(&cohort, Some(Ranked::Member(1))).unwrap();
    assert_eq!(stats.metrics.avg_command_fail_rate, Some(0.375));
    assert_eq!(stats.metrics.avg_first_change_latency_ms, Some(4), "3.5 rounds half up");
    assert_eq!(stats.metrics.avg_verify_intensity, None);
    assert_eq!(stats.metrics.avg_manual_edit_ratio, None);
    let percentiles = stats.percentiles.unwrap();
    // Ranked among the one other session that has the metric.
    assert_eq!(percentiles.command_fail_rate, Some(1.0));
    assert_eq!(percentiles.first_change_latency_ms, Some(1.0));
    // The ranked session lacks it.
    assert_eq!(percentiles.verify_intensity, None);
    // Ranked session has it, nobody else does.
    let lonely = [SessionMetrics { verify_intensity: Some(1.0), ..blank }, blank];
    let percentiles = cohort_stats(&lonely, Some(Ranked::Member(0))).unwrap().percentiles.unwrap();
    assert_eq!(percentiles.verify_intensity, None);
}

#[test]
fn rates_and_integer_means_round_halves_up() {
    let with_tests = |passed: &[Option<bool>]| {
        let cohort: Vec<_> = passed
            .iter()
            .map(|&tests_passed| SessionMetrics { tests_passed, ..session() })
            .collect();
        cohort_stats(&cohort, None).unwrap().metrics.test_pass_rate
    };
    assert_eq!(with_tests(&[Some(true), Some(true), Some(false)]), 67);
    assert_eq!(with_tests(&[Some(true), None, None]), 33);
    let mut eight = vec![None; 8];
    eight[0] = Some(true);
    assert_eq!(with_tests(&eight), 13, "12.5 rounds up");
    assert_eq!(with_tests(&[None, Some(false)]), 0);
    let means = cohort_stats(&durations(&[1, 2]), None).unwrap().metrics;
    assert_eq!(means.avg_duration_ms, Some(2));
    assert_eq!(
        cohort_stats(&durations(&[0, 1, 1]), None).unwrap().metrics.avg_duration_ms,
        Some(1)
    );
    let prompts: Vec<_> = [1, 1, 2]
        .iter()
        .map(|&prompt_count| SessionMetrics { prompt_count, ..session() })
        .collect();
    assert_eq!(cohort_stats(&prompts, None).unwrap().metrics.avg_prompt_count, Some(1.333));
}

#[test]
fn ten_thousand_sessions_take_well_under_fifty_milliseconds() {
    let cohort: Vec<_> = (0..10_000_i64)
        .map(|i| SessionMetrics {
            duration_ms: (i * 7_919) % 10_007,
            prompt_count: i % 97,
            command_fail_rate: (i % 5 != 0).then(|| (i % 13) as f64 / 13.0),
            verify_intensity: Some((i % 31) as f64 / 7.0),
            manual_edit_ratio: (i % 3 != 0).then(|| (i % 11) as f64 / 11.0),
            first_change_latency_ms: Some(i * 13 % 4_001),
            tests_passed: Some(i % 2 == 0),
            ..session()
        })
        .collect();
    let started = Instant::now();
    let stats = cohort_stats(&cohort, Some(Ranked::Member(4_321))).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(stats.session_count, 10_000);
    assert_eq!(stats.metrics.test_pass_rate, 50);
    assert!(stats.percentiles.is_some());
    assert!(elapsed.as_millis() < 50, "took {elapsed:?}");
}
