//! Helpers shared by the metrics tests: valid envelopes built through `Envelope::parse`, and folding them.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::{SessionMetrics, SessionSpan, SessionTotals};
use crate::event::Envelope;

/// The instant `second` seconds after 2026-04-01T10:00:00Z.
pub(super) fn at(second: i64) -> DateTime<Utc> {
    let start = DateTime::parse_from_rfc3339("2026-04-01T10:00:00Z").unwrap().with_timezone(&Utc);
    start + Duration::seconds(second)
}

/// A valid envelope of `kind` at `at(second)` with default actor and provenance.
pub(super) fn event(kind: &str, second: i64, data: Value) -> Envelope {
    attributed(kind, second, data, "unknown", "unknown")
}

/// A valid envelope with the given `provenance.attribution` and `actor.type`.
pub(super) fn attributed(
    kind: &str,
    second: i64,
    data: Value,
    attribution: &str,
    actor: &str,
) -> Envelope {
    let body = json!({
        "id": "0b6f4a2e-9c1d-4e8f-a7b3-5d2c1e0f9a8b",
        "sessionId": "3f1c2b9e-5a4d-4c3b-9e8f-7a6b5c4d3e2f",
        "ts": at(second).to_rfc3339_opts(SecondsFormat::Micros, true),
        "kind": kind,
        "source": "hook",
        "actor": {"type": actor},
        "provenance": {"attribution": attribution},
        "v": 1,
        "data": data,
    });
    Envelope::parse(&body).unwrap_or_else(|errors| panic!("invalid test envelope {body}: {errors}"))
}

/// The totals of `events` recorded in slice order, each with its index as its insertion sequence.
pub(super) fn fold<'a>(events: impl IntoIterator<Item = &'a Envelope>) -> SessionTotals {
    let mut totals = SessionTotals::default();
    for (seq, event) in (0_i64..).zip(events) {
        totals.record(event, seq);
    }
    totals
}

/// The span from `at(start)`, ended at `at(ended)` when given, last active at `at(last)`.
pub(super) fn span(start: i64, ended: Option<i64>, last: i64) -> SessionSpan {
    SessionSpan { started_at: at(start), ended_at: ended.map(at), last_activity_at: at(last) }
}

/// A ratio or percentage metric by its API name.
pub(super) fn real(metrics: &SessionMetrics, name: &str) -> Option<f64> {
    metrics.get(name).and_then(|value| value.as_f64())
}

/// A count or duration metric by its API name.
pub(super) fn int(metrics: &SessionMetrics, name: &str) -> Option<i64> {
    metrics.get(name).and_then(|value| value.as_i64())
}

/// An outcome metric by its API name.
pub(super) fn flag(metrics: &SessionMetrics, name: &str) -> Option<bool> {
    metrics.get(name).and_then(|value| value.as_bool())
}
