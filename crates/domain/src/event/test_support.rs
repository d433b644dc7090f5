//! Helpers shared by the event tests: the spec's schema table, a valid envelope to vary, and error lists.

use serde_json::{json, Value};

use super::Envelope;

/// A session id used by every fixture.
pub(super) const SESSION: &str = "3f1c2b9e-5a4d-4c3b-9e8f-7a6b5c4d3e2f";

/// A minimal valid envelope of `kind` carrying `data`.
pub(super) fn envelope(kind: &str, data: Value) -> Value {
    json!({
        "id": "0b6f4a2e-9c1d-4e8f-a7b3-5d2c1e0f9a8b",
        "sessionId": SESSION,
        "ts": "2026-04-01T10:15:00.250Z",
        "kind": kind,
        "source": "hook",
        "v": 1,
        "data": data,
    })
}

/// `envelope` with `key` set to `value` (or removed when `value` is `None`).
pub(super) fn with(mut body: Value, key: &str, value: Option<Value>) -> Value {
    if let Some(object) = body.as_object_mut() {
        match value {
            Some(value) => object.insert(key.to_owned(), value),
            None => object.remove(key),
        };
    }
    body
}

/// Every reported error of an envelope that must fail, as `(path, message)`.
pub(super) fn errors(body: &Value) -> Vec<(String, String)> {
    match Envelope::parse(body) {
        Ok(envelope) => panic!("expected errors, parsed {envelope:?}"),
        Err(errors) => errors.0.into_iter().map(|e| (e.path, e.message)).collect(),
    }
}

/// Only the paths of [`errors`].
pub(super) fn error_paths(body: &Value) -> Vec<String> {
    errors(body).into_iter().map(|(path, _)| path).collect()
}

/// The parsed envelope, failing the test with the errors if there are any.
pub(super) fn parsed(body: &Value) -> Envelope {
    Envelope::parse(body).unwrap_or_else(|errors| panic!("expected a valid envelope: {errors}"))
}

/// The normalised `data` of a valid envelope of `kind`.
pub(super) fn parsed_data(kind: &str, data: Value) -> Value {
    Value::Object(parsed(&envelope(kind, data)).data)
}

/// One strict kind as spec §4 lists it, restated here so the tests do not trust `schemas.rs`.
pub(super) struct Spec {
    /// The kind.
    pub(super) kind: &'static str,
    /// The smallest valid `data`: the required fields only.
    pub(super) minimal: Value,
    /// Fields that must be present.
    pub(super) required: &'static [&'static str],
    /// Fields that must be strings when present.
    pub(super) strings: &'static [&'static str],
    /// Fields that must be integers within `min..=max` when present.
    pub(super) integers: &'static [(&'static str, i64, i64)],
}

impl Spec {
    /// The integer fields bounded only below by 0 (counts, sizes, durations).
    pub(super) fn counts(&self) -> impl Iterator<Item = &'static str> {
        self.integers
            .iter()
            .filter(|(_, min, max)| (*min, *max) == (0, i64::MAX))
            .map(|(key, _, _)| *key)
    }
}

const COUNT: i64 = i64::MAX;

/// The strict kinds of spec §4.
pub(super) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            kind: "command",
            minimal: json!({"command": "cargo test"}),
            required: &["command"],
            strings: &["command", "stdout", "stderr", "cwd"],
            integers: &[("exitCode", i64::MIN, i64::MAX), ("durationMs", 0, COUNT)],
        },
        Spec {
            kind: "file_diff",
            minimal: json!({"path": "src/lib.rs"}),
            required: &["path"],
            strings: &["path", "diff"],
            integers: &[("linesAdded", 0, COUNT), ("linesRemoved", 0, COUNT)],
        },
        Spec {
            kind: "file_create",
            minimal: json!({"path": "src/new.rs"}),
            required: &["path"],
            strings: &["path", "content"],
            integers: &[("linesAdded", 0, COUNT), ("sizeBytes", 0, COUNT)],
        },
        Spec {
            kind: "test_run",
            minimal: json!({}),
            required: &[],
            strings: &["suite"],
            integers: &[
                ("passed", 0, COUNT),
                ("failed", 0, COUNT),
                ("skipped", 0, COUNT),
                ("durationMs", 0, COUNT),
            ],
        },
        Spec {
            kind: "git_action",
            minimal: json!({"action": "commit"}),
            required: &["action"],
            strings: &["action", "ref", "message", "commit"],
            integers: &[],
        },
        Spec {
            kind: "checkpoint",
            minimal: json!({}),
            required: &[],
            strings: &["label", "trigger", "summary"],
            integers: &[],
        },
        Spec {
            kind: "prompt",
            minimal: json!({"text": "add a test"}),
            required: &["text"],
            strings: &["text"],
            integers: &[("tokenCount", 0, COUNT)],
        },
        Spec {
            kind: "decision_event",
            minimal: json!({}),
            required: &[],
            strings: &["title", "chosenOption", "context", "tradeoffs", "rationale"],
            integers: &[("impactScore", 1, 5)],
        },
    ]
}
