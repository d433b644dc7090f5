//! Tests of the session totals and the metrics read from them: one test per rule of spec §6.

use serde_json::json;

use super::test_support::{at, attributed, event, flag, fold, int, real, span};
use super::{SessionMetrics, SessionTotals, TestEvidence};

fn metrics(totals: &SessionTotals) -> SessionMetrics {
    totals.metrics(&span(0, None, 600))
}

#[test]
fn every_event_is_counted_and_bounds_its_session() {
    let events = [
        event("prompt", 30, json!({"text": "add a test"})),
        event("decision_event", 10, json!({"title": "use sqlite"})),
        event("checkpoint", 50, json!({})),
        event("custom_thing", 20, json!({"x": 1})),
        event("prompt", 40, json!({"prompt": "alias"})),
    ];
    let totals = fold(&events);
    assert_eq!(totals.event_count, 5);
    assert_eq!(totals.prompt_count, 2);
    assert_eq!(totals.decision_flag_count, 1);
    assert_eq!((totals.first_event_at, totals.last_event_at), (Some(at(10)), Some(at(50))));
    let rest = SessionTotals {
        event_count: 0,
        prompt_count: 0,
        decision_flag_count: 0,
        first_event_at: None,
        last_event_at: None,
        ..totals
    };
    assert_eq!(rest, SessionTotals::default(), "no other aggregate moves");
}

#[test]
fn command_fail_rate_counts_only_commands_with_an_exit_code() {
    let totals = fold(&[
        event("command", 1, json!({"command": "ls"})),
        event("command", 2, json!({"command": "ls", "exitCode": 0})),
        event("command", 3, json!({"command": "false", "exitCode": 1})),
        event("command", 4, json!({"command": "kill", "exitCode": -9})),
        event("command", 5, json!({"command": "true", "exitCode": 0.0})),
    ]);
    assert_eq!(
        (totals.command_count, totals.command_exit_count, totals.command_fail_count),
        (5, 4, 2)
    );
    assert_eq!(real(&metrics(&totals), "commandFailRate"), Some(0.5));
    assert_eq!(int(&metrics(&totals), "commandCount"), Some(5));
    let none = fold(&[event("command", 1, json!({"command": "ls"}))]);
    assert_eq!(real(&metrics(&none), "commandFailRate"), None);
}

#[test]
fn verification_actions_count_commands_and_runs_that_name_no_command() {
    let totals = fold(&[
        event("command", 1, json!({"command": "cargo test", "exitCode": 0})),
        event("command", 2, json!({"command": "npm run lint"})),
        event("command", 3, json!({"command": "echo cargo test", "exitCode": 0})),
        // The same action as the `cargo test` command: counted once, there.
        event("test_run", 4, json!({"command": "cargo test", "passed": 3, "failed": 0})),
        event("build_run", 5, json!({"command": "cargo build"})),
        event("test_run", 6, json!({"passed": 3})),
        event("build_run", 7, json!({})),
        event("build_run", 8, json!({"command": "  "})),
        event("build_run", 9, json!({"command": 7})),
    ]);
    assert_eq!(totals.verify_count, 6);
    assert_eq!(real(&metrics(&totals), "verifyIntensity"), None, "no file change to divide by");
    let with_changes = fold(&[
        event("file_diff", 1, json!({"path": "a"})),
        event("file_create", 2, json!({"path": "b"})),
        event("test_run", 3, json!({})),
        event("command", 4, json!({"command": "pytest"})),
        event("command", 5, json!({"command": "make build"})),
    ]);
    assert_eq!(real(&metrics(&with_changes), "verifyIntensity"), Some(1.5));
}

#[test]
fn test_evidence_is_test_runs_and_test_commands_with_an_exit_code() {
    let passed = |events: &[_]| flag(&metrics(&fold(events)), "testsPassed");
    assert_eq!(passed(&[event("test_run", 1, json!({"passed": 4, "failed": 0}))]), Some(true));
    assert_eq!(passed(&[event("test_run", 1, json!({"passed": 4, "failed": 2}))]), Some(false));
    assert_eq!(passed(&[event("test_run", 1, json!({"passed": 4}))]), Some(true));
    assert_eq!(
        passed(&[event("command", 1, json!({"command": "pytest -q", "exitCode": 0}))]),
        Some(true)
    );
    assert_eq!(
        passed(&[event("command", 1, json!({"command": "go test", "exitCode": 1}))]),
        Some(false)
    );
    // Not evidence: no exit code, a build, a look-alike, a build run.
    assert_eq!(passed(&[event("command", 1, json!({"command": "cargo test"}))]), None);
    assert_eq!(
        passed(&[event("command", 1, json!({"command": "cargo build", "exitCode": 1}))]),
        None
    );
    assert_eq!(
        passed(&[event("command", 1, json!({"command": "cat test.txt", "exitCode": 1}))]),
        None
    );
    assert_eq!(passed(&[event("build_run", 1, json!({"failed": 1}))]), None);
}

#[test]
fn the_last_test_evidence_is_last_by_ts_then_by_insertion() {
    let failing = event("test_run", 20, json!({"failed": 1}));
    let passing = event("command", 10, json!({"command": "cargo test", "exitCode": 0}));
    // Arrived late but happened earlier: the failing run stays the last word.
    let totals = fold(&[failing.clone(), passing.clone()]);
    assert_eq!(totals.last_test, Some(TestEvidence { at: at(20), seq: 0, passed: false }));
    assert_eq!(fold(&[passing, failing]).last_test.map(|t| t.passed), Some(false));
    // Same ts: insertion order decides.
    let first = event("test_run", 5, json!({"failed": 0}));
    let second = event("test_run", 5, json!({"failed": 3}));
    assert_eq!(fold(&[first.clone(), second.clone()]).last_test.map(|t| t.passed), Some(false));
    assert_eq!(fold(&[second, first]).last_test.map(|t| t.passed), Some(true));
}

#[test]
fn file_changes_give_count_first_change_and_latency() {
    let totals = fold(&[
        event("file_diff", 90, json!({"path": "a"})),
        event("file_create", 45, json!({"path": "b"})),
        event("command", 10, json!({"command": "ls"})),
    ]);
    assert_eq!(totals.file_change_count, 2);
    assert_eq!(totals.first_change_at, Some(at(45)));
    let metrics = totals.metrics(&span(5, None, 90));
    assert_eq!(int(&metrics, "firstChangeLatencyMs"), Some(40_000));
    assert_eq!(int(&metrics, "fileChangeCount"), Some(2));
    let no_change = fold(&[event("prompt", 1, json!({"text": "x"}))]);
    assert_eq!(int(&no_change.metrics(&span(0, None, 1)), "firstChangeLatencyMs"), None);
}

#[test]
fn manual_edits_follow_attribution_then_the_actor() {
    let cases = [
        ("likely_human", "ai", true),
        ("ai_revised_by_human", "ai", true),
        ("likely_ai", "human", false),
        ("mixed", "human", false),
        ("system_generated", "human", false),
        ("unknown", "human", true),
        ("unknown", "ai", false),
        ("unknown", "system", false),
        ("unknown", "unknown", false),
    ];
    for (attribution, actor, manual) in cases {
        let totals = fold(&[attributed("file_diff", 1, json!({"path": "a"}), attribution, actor)]);
        assert_eq!(totals.manual_edit_count, i64::from(manual), "{attribution} by {actor}");
        let expected = if manual { 1.0 } else { 0.0 };
        assert_eq!(real(&metrics(&totals), "manualEditRatio"), Some(expected));
    }
    assert_eq!(real(&metrics(&SessionTotals::default()), "manualEditRatio"), None);
}

#[test]
fn ai_attribution_weighs_known_authors_by_change_size() {
    let change =
        |attribution: &str, actor: &str, data| attributed("file_diff", 1, data, attribution, actor);
    let lines = |added: i64, removed: i64| json!({"path": "a", "linesAdded": added, "linesRemoved": removed});
    // Weights and sizes: likely_ai 1 × 10, mixed ½ × 4, likely_human 0 × 6, unknown-by-ai 1 × 1 (no sizes).
    let totals = fold(&[
        change("likely_ai", "unknown", lines(7, 3)),
        change("mixed", "ai", lines(4, 0)),
        change("likely_human", "ai", lines(0, 6)),
        change("unknown", "ai", json!({"path": "a"})),
        // Left out: generated by a tool, or nobody known.
        change("system_generated", "ai", lines(100, 0)),
        change("unknown", "system", lines(100, 0)),
        change("unknown", "unknown", lines(100, 0)),
    ]);
    assert_eq!((totals.ai_weight_halves, totals.ai_attributed_size), (20 + 4 + 2, 21));
    assert_eq!(real(&metrics(&totals), "aiAttributionPct"), Some(61.9));
    let revised = fold(&[change("ai_revised_by_human", "human", lines(0, 0))]);
    assert_eq!((revised.ai_weight_halves, revised.ai_attributed_size), (1, 1));
    assert_eq!(real(&metrics(&revised), "aiAttributionPct"), Some(50.0));
    let create = fold(&[attributed(
        "file_create",
        1,
        json!({"path": "b", "linesAdded": 12}),
        "unknown",
        "human",
    )]);
    assert_eq!((create.ai_weight_halves, create.ai_attributed_size), (0, 12));
    assert_eq!(real(&metrics(&create), "aiAttributionPct"), Some(0.0));
    let unattributed = fold(&[change("system_generated", "ai", lines(1, 1))]);
    assert_eq!(real(&metrics(&unattributed), "aiAttributionPct"), None);
}

#[test]
fn huge_sizes_saturate_instead_of_overflowing() {
    let huge = json!({"path": "a", "linesAdded": i64::MAX, "linesRemoved": i64::MAX});
    let totals = fold(&[
        attributed("file_diff", 1, huge.clone(), "likely_ai", "ai"),
        attributed("file_diff", 2, huge, "likely_ai", "ai"),
    ]);
    assert_eq!((totals.ai_weight_halves, totals.ai_attributed_size), (i64::MAX, i64::MAX));
    let pct = real(&metrics(&totals), "aiAttributionPct").unwrap();
    assert!((0.0..=100.0).contains(&pct));
}

#[test]
fn duration_runs_to_ended_at_else_last_activity_and_is_never_negative() {
    let totals = fold(&[event("prompt", 0, json!({"text": "x"}))]);
    assert_eq!(int(&totals.metrics(&span(0, None, 0)), "durationMs"), Some(0), "one event");
    assert_eq!(int(&totals.metrics(&span(0, None, 90)), "durationMs"), Some(90_000));
    assert_eq!(int(&totals.metrics(&span(0, Some(30), 90)), "durationMs"), Some(30_000));
    assert_eq!(int(&totals.metrics(&span(60, Some(30), 90)), "durationMs"), Some(0));
    let late = fold(&[event("file_diff", 10, json!({"path": "a"}))]);
    assert_eq!(int(&late.metrics(&span(20, None, 20)), "firstChangeLatencyMs"), Some(0));
}

#[test]
fn a_whole_session_gives_every_metric() {
    let events = [
        event("session_start", 0, json!({"cwd": "/repo"})),
        event("prompt", 5, json!({"text": "add login"})),
        attributed(
            "file_diff",
            65,
            json!({"path": "src/a.rs", "linesAdded": 8, "linesRemoved": 2}),
            "likely_ai",
            "ai",
        ),
        attributed(
            "file_create",
            70,
            json!({"path": "src/b.rs", "linesAdded": 10}),
            "likely_human",
            "human",
        ),
        event("command", 80, json!({"command": "cargo build", "exitCode": 101})),
        event("command", 90, json!({"command": "cargo test -p api", "exitCode": 0})),
        event("command", 95, json!({"command": "git status", "exitCode": 0})),
        event("prompt", 100, json!({"text": "thanks"})),
        event("session_end", 120, json!({})),
    ];
    let totals = fold(&events);
    assert_eq!(
        serde_json::to_value(totals.metrics(&span(0, Some(120), 120))).unwrap(),
        json!({
            "durationMs": 120_000,
            "promptCount": 2,
            "commandCount": 3,
            "commandFailRate": 1.0 / 3.0,
            "verifyIntensity": 1.0,
            "manualEditRatio": 0.5,
            "firstChangeLatencyMs": 65_000,
            "testsPassed": true,
            "aiAttributionPct": 50.0,
            "fileChangeCount": 2,
        })
    );
    assert_eq!(totals.event_count, 9);
}

#[test]
fn every_event_set_has_its_own_bit_and_name() {
    use super::EventSet;
    let mut bits = 0_i64;
    for set in EventSet::ALL {
        assert_eq!(bits & set.bit(), 0, "{set:?} shares a bit");
        bits |= set.bit();
        assert_eq!(EventSet::named(set.name()), Some(set));
    }
    let counted: Vec<EventSet> = super::METRICS.iter().filter_map(|metric| metric.counts).collect();
    assert!(
        counted.contains(&EventSet::FailedCommands) && counted.contains(&EventSet::ManualEdits)
    );
}

#[test]
fn failures_are_failed_commands_and_test_runs_with_failures() {
    use super::{EventFacts, EventSet};
    let marks = |envelope: &crate::event::Envelope| EventFacts::of(envelope).marks();
    let failing = event("test_run", 1, json!({"failed": 2, "command": "cargo test"}));
    let passing = event("test_run", 2, json!({"failed": 0}));
    let failed = event("command", 3, json!({"command": "cargo test", "exitCode": 101}));
    assert!(marks(&failing).contains(EventSet::Failures));
    assert!(!marks(&failing).contains(EventSet::Verifications), "it names its command");
    assert!(marks(&failing).contains(EventSet::TestEvidence));
    assert!(!marks(&passing).contains(EventSet::Failures));
    assert!(marks(&passing).contains(EventSet::Verifications));
    for set in [EventSet::Failures, EventSet::FailedCommands, EventSet::TestEvidence] {
        assert!(marks(&failed).contains(set), "{set:?}");
    }
}
