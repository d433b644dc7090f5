//! Artifacts derived when a session ends (spec §8): `analytics_v1` and `test_results_v1`, rebuilt whenever the
//! session ends again, so they describe every event stored by then.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::{json, Map, Value};
use traceline_domain::json::JsonObject;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::rows::{from_stored_time, object_from_text, to_stored_time};
use crate::schema::{artifacts, sessions, timeline_events};
use crate::session_state::SessionState;

/// Version of the derivation; bumped when what is derived changes, so stale artifacts can be told apart.
pub const DERIVATION_VERSION: i64 = 1;
/// Kind of the analytics artifact.
pub const ANALYTICS: &str = "analytics_v1";
/// Kind of the test-results artifact.
pub const TEST_RESULTS: &str = "test_results_v1";

/// A stored artifact.
#[derive(Debug, Clone, PartialEq)]
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
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = artifacts)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ArtifactRow {
    id: String,
    session_id: String,
    kind: String,
    data: String,
    derivation_v: i64,
    created_at: NaiveDateTime,
}

/// The session's artifacts, by kind. The caller checks the session is visible.
pub fn list(
    connection: &mut AnyConnection,
    session_id: &str,
) -> Result<Vec<Artifact>, StorageError> {
    artifacts::table
        .filter(artifacts::session_id.eq(session_id))
        .order(artifacts::kind.asc())
        .select(ArtifactRow::as_select())
        .load(connection)?
        .into_iter()
        .map(|row| {
            Ok(Artifact {
                data: object_from_text("artifacts.data", &row.data)?,
                id: row.id,
                session_id: row.session_id,
                kind: row.kind,
                derivation_v: row.derivation_v,
                created_at: from_stored_time(row.created_at),
            })
        })
        .collect()
}

/// (Re)derives both artifacts of a session that has just ended. Run it in the transaction that ended it.
pub fn derive(
    connection: &mut AnyConnection,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let state: SessionState =
        sessions::table.find(session_id).select(SessionState::as_select()).first(connection)?;
    let analytics = analytics(connection, session_id, &state)?;
    let test_results = test_results(connection, &state)?;
    diesel::delete(artifacts::table.filter(artifacts::session_id.eq(session_id)))
        .execute(connection)?;
    for (kind, data) in [(ANALYTICS, analytics), (TEST_RESULTS, test_results)] {
        diesel::insert_into(artifacts::table)
            .values((
                artifacts::id.eq(uuid::Uuid::now_v7().to_string()),
                artifacts::session_id.eq(session_id),
                artifacts::kind.eq(kind),
                artifacts::data.eq(Value::Object(data).to_string()),
                artifacts::derivation_v.eq(DERIVATION_VERSION),
                artifacts::created_at.eq(to_stored_time(now)),
            ))
            .execute(connection)?;
    }
    Ok(())
}

/// `{toolUsage, eventCounts, durationMs, metrics}`: events per kind, tool invocations per tool name (from a
/// string `data.tool`, `data.toolName` or `data.tool_name`), and the session's metrics at its end.
fn analytics(
    connection: &mut AnyConnection,
    session_id: &str,
    state: &SessionState,
) -> Result<JsonObject, StorageError> {
    let rows: Vec<(String, String)> = timeline_events::table
        .filter(timeline_events::session_id.eq(session_id))
        .select((timeline_events::kind, timeline_events::data))
        .load(connection)?;
    let mut event_counts: BTreeMap<String, i64> = BTreeMap::new();
    let mut tool_usage: BTreeMap<String, i64> = BTreeMap::new();
    for (kind, data) in rows {
        *event_counts.entry(kind).or_default() += 1;
        let data = object_from_text("timeline_events.data", &data)?;
        let tool = ["tool", "toolName", "tool_name"]
            .iter()
            .find_map(|key| data.get(*key).and_then(Value::as_str));
        if let Some(tool) = tool {
            *tool_usage.entry(tool.to_owned()).or_default() += 1;
        }
    }
    let metrics = state.metrics();
    let mut object = Map::new();
    object.insert("toolUsage".into(), json!(tool_usage));
    object.insert("eventCounts".into(), json!(event_counts));
    object.insert("durationMs".into(), json!(metrics.duration_ms));
    object.insert(
        "metrics".into(),
        json!({
            "durationMs": metrics.duration_ms,
            "promptCount": metrics.prompt_count,
            "commandCount": metrics.command_count,
            "commandFailRate": metrics.command_fail_rate,
            "verifyIntensity": metrics.verify_intensity,
            "manualEditRatio": metrics.manual_edit_ratio,
            "firstChangeLatencyMs": metrics.first_change_latency_ms,
            "testsPassed": metrics.tests_passed,
            "aiAttributionPct": metrics.ai_attribution_pct,
            "fileChangeCount": metrics.file_change_count,
        }),
    );
    Ok(object)
}

/// `{passed, failed, skipped, total}` of the last test evidence. A `test_run` gives its counts (absent ones are
/// 0); a test command gives only its outcome, so its counts are null and `outcome` says passed or failed.
fn test_results(
    connection: &mut AnyConnection,
    state: &SessionState,
) -> Result<JsonObject, StorageError> {
    let empty =
        json!({"passed": null, "failed": null, "skipped": null, "total": null, "outcome": null});
    let Some(seq) = state.last_test_seq else {
        return Ok(as_object(empty));
    };
    let (kind, data): (String, String) = timeline_events::table
        .find(seq)
        .select((timeline_events::kind, timeline_events::data))
        .first(connection)?;
    let data = object_from_text("timeline_events.data", &data)?;
    let outcome = state.last_test_passed.map(|passed| if passed { "passed" } else { "failed" });
    if kind == "test_run" {
        let count = |key: &str| data.get(key).and_then(Value::as_i64).unwrap_or(0);
        let (passed, failed, skipped) = (count("passed"), count("failed"), count("skipped"));
        return Ok(as_object(json!({
            "passed": passed, "failed": failed, "skipped": skipped,
            "total": passed + failed + skipped, "outcome": outcome,
        })));
    }
    let mut object = as_object(empty);
    object.insert("outcome".into(), json!(outcome));
    object.insert("command".into(), data.get("command").cloned().unwrap_or(Value::Null));
    Ok(object)
}

fn as_object(value: Value) -> JsonObject {
    match value {
        Value::Object(object) => object,
        _ => JsonObject::new(),
    }
}
