//! Artifacts derived when a session ends (spec §8): `analytics_v1` and `test_results_v1`, computed here from
//! what storage loads, and the artifact as `GET /v1/sessions/:id/artifacts` shows it.
//!
//! Where the spec is silent: `toolUsage` counts events by a string `data.tool` (or `toolName`, `tool_name`);
//! `eventCounts` counts events by kind; `test_results_v1` adds `outcome` (`passed`/`failed`/null), and when the last
//! test evidence is a command its counts are null and `command` names it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::EventKind;
use crate::json::JsonObject;
use crate::metrics::SessionMetrics;

/// Version of the derivation; bumped when what is derived changes, so stale artifacts can be told apart.
pub const DERIVATION_VERSION: i64 = 1;

/// The artifacts a session's end derives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactKind {
    /// `analytics_v1`: tool usage, event counts, duration and metrics.
    Analytics,
    /// `test_results_v1`: the counts or outcome of the last test evidence.
    TestResults,
}

impl ArtifactKind {
    /// The kind as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Analytics => "analytics_v1",
            ArtifactKind::TestResults => "test_results_v1",
        }
    }
}

/// A stored artifact, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Artifact {
    /// Server-generated id.
    pub id: String,
    /// Its session.
    pub session_id: String,
    /// `analytics_v1` or `test_results_v1`.
    pub kind: String,
    /// The derived document.
    pub data: JsonObject,
    /// [`DERIVATION_VERSION`] at the time it was derived.
    pub derivation_v: i64,
    /// When it was derived.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub created_at: DateTime<Utc>,
}

/// How many distinct kinds, and distinct tools, are counted by name; events of further names count under
/// [`OTHER_NAMES`]. Ingest rewrites these counts with every event of the session, so a session that invents a new
/// kind or tool per event must not make that work (or the artifact) grow without end.
pub const MAX_COUNTED_NAMES: usize = 100;

/// The longest tool name counted by name, in bytes (kinds are at most 64 characters already).
pub const MAX_COUNTED_NAME_BYTES: usize = 128;

/// The entry that counts the events of names beyond [`MAX_COUNTED_NAMES`] or longer than
/// [`MAX_COUNTED_NAME_BYTES`]. Never a valid kind, so it cannot be mistaken for one.
pub const OTHER_NAMES: &str = "(other)";

/// Events counted by kind and by the tool they name, folded one event at a time as each is ingested and kept
/// with the session's aggregates, so deriving the artifacts at its end reads no timeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityCounts {
    /// Events per kind.
    pub by_kind: BTreeMap<String, i64>,
    /// Events per tool named in `data.tool`, `data.toolName` or `data.tool_name`.
    pub by_tool: BTreeMap<String, i64>,
}

impl ActivityCounts {
    /// Counts one event.
    pub fn record(&mut self, kind: &EventKind, data: &JsonObject) {
        count(&mut self.by_kind, kind.as_str());
        let tool = ["tool", "toolName", "tool_name"]
            .iter()
            .find_map(|key| data.get(*key).and_then(Value::as_str));
        if let Some(tool) = tool {
            count(&mut self.by_tool, tool);
        }
    }
}

fn count(counts: &mut BTreeMap<String, i64>, name: &str) {
    if let Some(count) = counts.get_mut(name) {
        *count += 1;
        return;
    }
    let named = counts.len() - usize::from(counts.contains_key(OTHER_NAMES));
    let name = if named < MAX_COUNTED_NAMES && name.len() <= MAX_COUNTED_NAME_BYTES {
        name
    } else {
        OTHER_NAMES
    };
    *counts.entry(name.to_owned()).or_default() += 1;
}

/// `analytics_v1`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Analytics<'a> {
    tool_usage: &'a BTreeMap<String, i64>,
    event_counts: &'a BTreeMap<String, i64>,
    duration_ms: Option<i64>,
    metrics: &'a SessionMetrics,
}

/// `test_results_v1`: `{passed, failed, skipped, total, outcome}`, and `command` when the evidence is a command.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct TestResults<'a> {
    passed: Option<i64>,
    failed: Option<i64>,
    skipped: Option<i64>,
    total: Option<i64>,
    outcome: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<Option<&'a str>>,
}

/// The session's last piece of test evidence: its kind, its `data`, and whether it passed.
#[derive(Debug, Clone, Copy)]
pub struct LastTest<'a> {
    /// `test_run`, or `command`.
    pub kind: &'a EventKind,
    /// Its `data`.
    pub data: &'a JsonObject,
    /// The outcome the metrics read from it.
    pub passed: bool,
}

/// Both artifacts of a session that has just ended, each as its kind and its document.
pub fn derive(
    counts: &ActivityCounts,
    metrics: &SessionMetrics,
    last_test: Option<LastTest<'_>>,
) -> [(ArtifactKind, JsonObject); 2] {
    let analytics = Analytics {
        tool_usage: &counts.by_tool,
        event_counts: &counts.by_kind,
        duration_ms: metrics.get("durationMs").and_then(|value| value.as_i64()),
        metrics,
    };
    [
        (ArtifactKind::Analytics, as_object(&analytics)),
        (ArtifactKind::TestResults, as_object(&test_results(last_test))),
    ]
}

fn test_results(last_test: Option<LastTest<'_>>) -> TestResults<'_> {
    let empty = TestResults {
        passed: None,
        failed: None,
        skipped: None,
        total: None,
        outcome: None,
        command: None,
    };
    let Some(last) = last_test else {
        return empty;
    };
    let outcome = Some(if last.passed { "passed" } else { "failed" });
    if *last.kind == EventKind::TEST_RUN {
        let count = |key: &str| last.data.get(key).and_then(Value::as_i64).unwrap_or(0);
        let (passed, failed, skipped) = (count("passed"), count("failed"), count("skipped"));
        let total = passed.saturating_add(failed).saturating_add(skipped);
        return TestResults {
            passed: Some(passed),
            failed: Some(failed),
            skipped: Some(skipped),
            total: Some(total),
            outcome,
            command: None,
        };
    }
    TestResults {
        outcome,
        command: Some(last.data.get("command").and_then(Value::as_str)),
        ..empty
    }
}

fn as_object(value: &impl Serialize) -> JsonObject {
    match serde_json::to_value(value) {
        Ok(Value::Object(object)) => object,
        // Both documents are structs of plain values, which always serialise to objects.
        _ => JsonObject::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> JsonObject {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn analytics_count_kinds_and_tools_and_carry_the_metrics() {
        let mut counts = ActivityCounts::default();
        counts.record(&EventKind::COMMAND, &object(json!({"command": "ls", "tool": "Bash"})));
        counts.record(&EventKind::TOOL_RESULT, &object(json!({"toolName": "Read"})));
        counts.record(&EventKind::TOOL_RESULT, &object(json!({"tool_name": "Read", "tool": 3})));
        let metrics = SessionMetrics::default()
            .with("durationMs", Some(crate::metrics::MetricValue::Integer(90)));
        let [(kind, analytics), _] = derive(&counts, &metrics, None);
        assert_eq!(kind.as_str(), "analytics_v1");
        assert_eq!(analytics["toolUsage"], json!({"Bash": 1, "Read": 2}));
        assert_eq!(analytics["eventCounts"], json!({"command": 1, "tool_result": 2}));
        assert_eq!(analytics["durationMs"], json!(90));
        assert_eq!(analytics["metrics"]["durationMs"], json!(90));
        assert_eq!(analytics["metrics"]["testsPassed"], Value::Null);
    }

    #[test]
    fn counts_by_name_stop_growing_at_their_bound() {
        let mut counts = ActivityCounts::default();
        for index in 0..MAX_COUNTED_NAMES + 5 {
            let kind = EventKind::from_stored(format!("kind_{index}"));
            counts.record(&kind, &object(json!({"tool": format!("tool {index}")})));
        }
        counts.record(
            &EventKind::from_stored("kind_0".to_owned()),
            &object(json!({"tool": "x".repeat(129)})),
        );
        assert_eq!(counts.by_kind.len(), MAX_COUNTED_NAMES + 1);
        assert_eq!(counts.by_kind[OTHER_NAMES], 5);
        assert_eq!(counts.by_kind["kind_0"], 2);
        assert_eq!(counts.by_tool[OTHER_NAMES], 6);
        let stored = serde_json::to_string(&counts).unwrap();
        assert!(stored.starts_with(r#"{"byKind":{"#), "{stored}");
        assert_eq!(serde_json::from_str::<ActivityCounts>(&stored).unwrap(), counts);
    }

    #[test]
    fn test_results_read_the_last_evidence() {
        let counts = ActivityCounts::default();
        let metrics = SessionMetrics::default();
        let results = |last| derive(&counts, &metrics, last)[1].1.clone();
        assert_eq!(
            Value::Object(results(None)),
            json!({"passed": null, "failed": null, "skipped": null, "total": null, "outcome": null})
        );
        let run = object(json!({"passed": 7, "failed": 1}));
        let last = LastTest { kind: &EventKind::TEST_RUN, data: &run, passed: false };
        assert_eq!(
            Value::Object(results(Some(last))),
            json!({"passed": 7, "failed": 1, "skipped": 0, "total": 8, "outcome": "failed"})
        );
        let command = object(json!({"command": "cargo test", "exitCode": 0}));
        let last = LastTest { kind: &EventKind::COMMAND, data: &command, passed: true };
        assert_eq!(
            Value::Object(results(Some(last))),
            json!({"passed": null, "failed": null, "skipped": null, "total": null, "outcome": "passed",
                   "command": "cargo test"})
        );
    }
}
