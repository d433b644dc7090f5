//! Property tests of the metrics: totals are order-independent and monotone, metrics and percentiles in range.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

use super::test_support::{at, attributed, fold, int, real};
use super::{
    classify_command, cohort_stats, EventFacts, EventSet, Metric, MetricValue, NamedValues, Ranked,
    SessionMetrics, SessionSpan, SessionTotals,
};
use crate::event::{Envelope, TimelineEvent};

const COMMAND_LINES: &[&str] = &[
    "cargo test",
    "npm run build",
    "ls -la",
    "pytest -q",
    "echo cargo test",
    "cd web && pnpm test",
];
const ATTRIBUTIONS: &[&str] =
    &["likely_ai", "ai_revised_by_human", "likely_human", "mixed", "system_generated", "unknown"];
const ACTORS: &[&str] = &["ai", "human", "system", "unknown"];

/// A kind and a valid `data` for it, covering every kind the totals read and two they ignore.
fn kind_and_data() -> impl Strategy<Value = (&'static str, Value)> {
    let line = || select(COMMAND_LINES);
    let count = || prop::option::of(0_i64..40);
    prop_oneof![
        Just(("prompt", json!({"text": "go"}))),
        Just(("decision_event", json!({}))),
        Just(("checkpoint", json!({}))),
        Just(("note", json!({"x": 1}))),
        (line(), prop::option::of(-2_i64..3))
            .prop_map(|(command, exit)| ("command", json!({"command": command, "exitCode": exit}))),
        (prop::option::of(0_i64..3), prop::option::of(line())).prop_map(|(failed, command)| (
            "test_run",
            json!({"failed": failed, "command": command})
        )),
        prop::option::of(line()).prop_map(|command| ("build_run", json!({"command": command}))),
        (count(), count()).prop_map(|(added, removed)| {
            ("file_diff", json!({"path": "a", "linesAdded": added, "linesRemoved": removed}))
        }),
        count().prop_map(|added| ("file_create", json!({"path": "b", "linesAdded": added}))),
    ]
}

/// Events whose timestamps are `seconds` (in that order).
fn events_at(seconds: Vec<i64>) -> impl Strategy<Value = Vec<Envelope>> {
    let one = (kind_and_data(), select(ATTRIBUTIONS), select(ACTORS));
    prop::collection::vec(one, seconds.len()).prop_map(move |specs| {
        let events = specs.into_iter().zip(&seconds);
        events
            .map(|(((kind, data), attribution, actor), &second)| {
                attributed(kind, second, data, attribution, actor)
            })
            .collect()
    })
}

/// Up to 24 events with pairwise distinct timestamps, in an arbitrary order.
fn events_with_distinct_ts() -> impl Strategy<Value = Vec<Envelope>> {
    (0_usize..24)
        .prop_flat_map(|n| Just((0..n as i64).map(|i| i * 7).collect::<Vec<_>>()).prop_shuffle())
        .prop_flat_map(events_at)
}

/// Up to 24 events whose timestamps often coincide.
fn events_with_any_ts() -> impl Strategy<Value = Vec<Envelope>> {
    prop::collection::vec(0_i64..6, 0..24).prop_flat_map(events_at)
}

fn in_unit_range(value: Option<f64>) -> bool {
    value.is_none_or(|value| (0.0..=1.0).contains(&value))
}

fn all(percentiles: &NamedValues<f64>) -> Vec<Option<f64>> {
    percentiles.iter().map(|(_, value)| value).collect()
}

fn metrics_strategy() -> impl Strategy<Value = SessionMetrics> {
    let ratio = || prop::option::of(select(&[0.0, 0.25, 0.5, 1.0][..]));
    let small = || prop::option::of(0_i64..4);
    (0_i64..5, 0_i64..5, ratio(), small(), ratio(), small(), prop::option::of(any::<bool>()))
        .prop_map(|(duration, prompts, fail_rate, verify, manual, latency, passed)| {
            SessionMetrics::default()
                .with("durationMs", Some(MetricValue::Integer(duration * 1_000)))
                .with("promptCount", Some(MetricValue::Integer(prompts)))
                .with("commandFailRate", fail_rate.map(MetricValue::Real))
                .with("verifyIntensity", verify.map(|v| MetricValue::Real(v as f64 / 2.0)))
                .with("manualEditRatio", manual.map(MetricValue::Real))
                .with("firstChangeLatencyMs", latency.map(|ms| MetricValue::Integer(ms * 1_000)))
                .with("testsPassed", passed.map(MetricValue::Flag))
        })
}

proptest! {
    #[test]
    fn totals_do_not_depend_on_arrival_order(
        (events, arrival) in events_with_distinct_ts()
            .prop_flat_map(|events| (Just(events.clone()), Just(events).prop_shuffle()))
    ) {
        // Insertion sequences follow arrival; everything else, the last test's time and outcome included, not.
        let outcome = |totals: &SessionTotals| totals.last_test.map(|t| (t.at, t.passed));
        let (first, second) = (fold(&events), fold(&arrival));
        prop_assert_eq!(outcome(&first), outcome(&second));
        prop_assert_eq!(
            SessionTotals { last_test: None, ..first },
            SessionTotals { last_test: None, ..second }
        );
    }

    #[test]
    fn with_tied_timestamps_only_the_last_test_follows_arrival(
        (events, arrival) in events_with_any_ts()
            .prop_flat_map(|events| (Just(events.clone()), Just(events).prop_shuffle()))
    ) {
        let (first, second) = (fold(&events), fold(&arrival));
        prop_assert_eq!(first.last_test.map(|t| t.at), second.last_test.map(|t| t.at));
        prop_assert_eq!(
            SessionTotals { last_test: None, ..first },
            SessionTotals { last_test: None, ..second }
        );
    }

    #[test]
    fn recording_adds_one_event_and_never_decreases_a_count(events in events_with_any_ts()) {
        let mut totals = SessionTotals::default();
        for (seq, event) in (0_i64..).zip(&events) {
            let before = totals.clone();
            totals.record(event, seq);
            prop_assert_eq!(totals.event_count, before.event_count + 1);
            let counts = |t: &SessionTotals| [
                t.decision_flag_count, t.prompt_count, t.command_count, t.command_exit_count,
                t.command_fail_count, t.verify_count, t.file_change_count, t.manual_edit_count,
                t.ai_weight_halves, t.ai_attributed_size,
            ];
            for (after, before) in counts(&totals).into_iter().zip(counts(&before)) {
                prop_assert!(after >= before);
            }
        }
    }

    #[test]
    fn metrics_stay_in_range(events in events_with_any_ts(), ended in prop::option::of(0_i64..10)) {
        let totals = fold(&events);
        let started = totals.first_event_at.unwrap_or(at(0));
        let last = totals.last_event_at.unwrap_or(at(0));
        let metrics =
            totals.metrics(&SessionSpan { started_at: started, ended_at: ended.map(at), last_activity_at: last });
        prop_assert!(int(&metrics, "durationMs").is_some_and(|ms| ms >= 0));
        prop_assert!(in_unit_range(real(&metrics, "commandFailRate")));
        prop_assert!(in_unit_range(real(&metrics, "manualEditRatio")));
        prop_assert!(real(&metrics, "verifyIntensity").is_none_or(|v| v >= 0.0));
        prop_assert!(int(&metrics, "firstChangeLatencyMs").is_none_or(|ms| ms >= 0));
        prop_assert!(real(&metrics, "aiAttributionPct").is_none_or(|pct| (0.0..=100.0).contains(&pct)));
        prop_assert!(totals.command_fail_count <= totals.command_exit_count);
        prop_assert!(totals.command_exit_count <= totals.command_count);
        prop_assert!(totals.manual_edit_count <= totals.file_change_count);
    }

    #[test]
    fn percentiles_stay_in_the_unit_range(
        cohort in prop::collection::vec(metrics_strategy(), 1..30),
        member in any::<prop::sample::Index>(),
        outsider in metrics_strategy(),
    ) {
        let member = Ranked::Member(member.index(cohort.len()));
        for ranked in [member, Ranked::Outsider(&outsider)] {
            let stats = cohort_stats(&cohort, Some(ranked)).unwrap();
            prop_assert_eq!(stats.percentiles.is_some(), cohort.len() >= 2);
            let rate = stats.metrics.get("testPassRate").and_then(MetricValue::as_i64);
            prop_assert!(rate.is_some_and(|rate| (0..=100).contains(&rate)));
            for value in stats.percentiles.iter().flat_map(all) {
                prop_assert!(in_unit_range(value));
                // Three decimals exactly.
                prop_assert!(value.is_none_or(|v| (v * 1000.0).round() / 1000.0 == v));
            }
        }
    }

    #[test]
    fn ties_give_one_half(one in metrics_strategy(), n in 2_usize..20, member in any::<prop::sample::Index>()) {
        let cohort = vec![one; n];
        let stats = cohort_stats(&cohort, Some(Ranked::Member(member.index(n)))).unwrap();
        let percentiles = stats.percentiles.unwrap();
        for (name, percentile) in percentiles.iter() {
            let present = one.get(name).is_some();
            prop_assert_eq!(percentile, present.then_some(0.5), "{}", name);
        }
        prop_assert_eq!(percentiles.iter().count(), Metric::ranked().count());
    }

    #[test]
    fn members_percentiles_average_one_half(cohort in prop::collection::vec(metrics_strategy(), 2..30)) {
        // Every pair of members contributes 1 in total (1 + 0, or ½ + ½), so the mean rank is exactly ½,
        // give or take the rounding to 3 decimals.
        let sum: f64 = (0..cohort.len())
            .filter_map(|index| cohort_stats(&cohort, Some(Ranked::Member(index)))?.percentiles?.get("durationMs"))
            .sum();
        prop_assert!((sum / cohort.len() as f64 - 0.5).abs() <= 0.0005 + 1e-9);
    }

    #[test]
    fn member_percentiles_are_the_cohort_stats_of_each_member(
        cohort in prop::collection::vec(metrics_strategy(), 0..25),
    ) {
        let ranked = super::member_percentiles(&cohort);
        if cohort.len() < 2 {
            prop_assert!(ranked.is_empty());
        } else {
            prop_assert_eq!(ranked.len(), cohort.len());
            for (index, ranks) in ranked.iter().enumerate() {
                let one_by_one = cohort_stats(&cohort, Some(Ranked::Member(index)))
                    .and_then(|stats| stats.percentiles)
                    .expect("two or more members are ranked");
                prop_assert_eq!(ranks, &one_by_one, "member {}", index);
            }
        }
    }

    #[test]
    fn classification_never_panics_and_tests_imply_verification(line in "[ -~\\n]{0,80}") {
        let class = classify_command(&line);
        prop_assert!(!class.runs_tests || class.is_verification);
    }

    #[test]
    fn wrapping_in_assignments_or_a_cd_prefix_keeps_the_class(
        line in select(COMMAND_LINES),
        name in "[A-Z_][A-Z0-9_]{0,8}",
        value in "[a-z0-9]{0,8}",
    ) {
        let plain = classify_command(line);
        prop_assert_eq!(classify_command(&format!("{name}={value} {line}")), plain);
        prop_assert_eq!(classify_command(&format!("cd 'some dir' && {line}")), plain);
    }

    #[test]
    fn a_stored_event_belongs_to_the_sets_its_envelope_did(events in events_with_any_ts()) {
        for event in &events {
            let stored = TimelineEvent {
                id: event.id.as_str().to_owned(),
                session_id: event.session_id.as_str().to_owned(),
                kind: event.kind.clone(),
                ts: event.ts,
                source: event.source.to_json(),
                actor: event.actor.to_json(),
                provenance: event.provenance.to_json(),
                data: event.data.clone(),
                created_at: event.ts,
            };
            prop_assert_eq!(EventFacts::of_stored(&stored).marks(), EventFacts::of(event).marks());
        }
    }

    #[test]
    fn the_aggregates_count_the_events_of_their_sets(events in events_with_any_ts()) {
        let totals = fold(&events);
        let members = |set: EventSet| {
            events.iter().filter(|event| EventFacts::of(event).marks().contains(set)).count() as i64
        };
        prop_assert_eq!(totals.prompt_count, members(EventSet::Prompts));
        prop_assert_eq!(totals.command_count, members(EventSet::Commands));
        prop_assert_eq!(totals.command_fail_count, members(EventSet::FailedCommands));
        prop_assert_eq!(totals.verify_count, members(EventSet::Verifications));
        prop_assert_eq!(totals.file_change_count, members(EventSet::FileChanges));
        prop_assert_eq!(totals.manual_edit_count, members(EventSet::ManualEdits));
        prop_assert_eq!(totals.decision_flag_count, members(EventSet::Decisions));
        prop_assert_eq!(totals.last_test.is_some(), members(EventSet::TestEvidence) > 0);
        prop_assert_eq!(totals.ai_attributed_size > 0, members(EventSet::AttributedChanges) > 0);
    }
}
