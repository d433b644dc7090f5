//! Scores and derived artifacts (spec §8) over HTTP.

use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend};
use crate::ingest::{candidate, envelope};

async fn scores_are_upserted_per_dimension_by_writing_reviewers(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    app.post(
        "/v1/hooks/ingest",
        &key,
        &envelope("s", "prompt", "2026-04-01T10:00:00Z", json!({"text": "x"})),
    )
    .await
    .expect(201);
    let path = "/v1/sessions/s/scores";
    assert_eq!(app.get(path, &org.key).await.expect(200), json!({"scores": []}));
    let first = app
        .post(path, &org.key, &json!([{"dimension": "code_quality", "score": 3, "notes": "ok"}, {"dimension": "communication", "score": 5}]))
        .await
        .expect(201);
    assert_eq!(first["scores"].as_array().unwrap().len(), 2);
    let again = app
        .post(path, &org.key, &json!([{"dimension": "code_quality", "score": 4}]))
        .await
        .expect(201);
    let scores = again["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 2, "one score per dimension");
    let quality = scores.iter().find(|s| s["dimension"] == "code_quality").unwrap();
    assert_eq!((quality["score"].clone(), quality["notes"].clone()), (json!(4), Value::Null));
    let original = first["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["dimension"] == "code_quality")
        .unwrap();
    assert_eq!(quality["id"], original["id"]);
    assert_eq!(quality["createdAt"], original["createdAt"]);
    assert_eq!(app.get(path, &org.key).await.expect(200)["scores"], again["scores"]);

    for body in [
        json!([]),
        json!({"dimension": "code_quality", "score": 3}),
        json!([{"dimension": "speed", "score": 3}]),
        json!([{"dimension": "code_quality", "score": 0}]),
    ] {
        let response = app.post(path, &org.key, &body).await;
        assert_eq!(response.code(), "invalid_body", "{body}");
        response.expect(400);
    }
    let read_key = app.api_key(&org, "read");
    app.get(path, &read_key).await.expect(200);
    app.post(path, &read_key, &json!([{"dimension": "code_quality", "score": 1}]))
        .await
        .expect(403);
    app.get(path, &key).await.expect(403);
    app.post(path, &key, &json!([{"dimension": "code_quality", "score": 5}])).await.expect(403);
    let other = app.org("Globex");
    app.get(path, &other.key).await.expect(404);
    app.post(path, &other.key, &json!([{"dimension": "code_quality", "score": 1}]))
        .await
        .expect(404);
    let unchanged = app.get(path, &org.key).await.expect(200);
    assert_eq!(unchanged["scores"], again["scores"]);
}

fn artifact<'a>(artifacts: &'a Value, kind: &str) -> &'a Value {
    artifacts["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {artifacts}"))
}

async fn artifacts_are_derived_when_a_session_ends_and_rebuilt_when_it_ends_again(
    backend: TestBackend,
) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    let events = [
        envelope("a", "tool_result", "2026-04-01T10:00:00Z", json!({"tool": "Read"})),
        envelope("a", "tool_result", "2026-04-01T10:01:00Z", json!({"tool": "Read"})),
        envelope(
            "a",
            "command",
            "2026-04-01T10:02:00Z",
            json!({"command": "cargo test", "exitCode": 0}),
        ),
        envelope(
            "a",
            "test_run",
            "2026-04-01T10:03:00Z",
            json!({"command": "cargo test", "passed": 7, "failed": 1, "skipped": 2}),
        ),
    ];
    for event in &events {
        app.post("/v1/hooks/ingest", &key, event).await.expect(201);
    }
    let path = "/v1/sessions/a/artifacts";
    assert_eq!(
        app.get(path, &org.key).await.expect(200),
        json!({"artifacts": []}),
        "nothing before the end"
    );
    app.post(
        "/v1/hooks/ingest",
        &key,
        &envelope("a", "session_end", "2026-04-01T10:05:00Z", json!({})),
    )
    .await
    .expect(201);
    let derived = app.get(path, &org.key).await.expect(200);
    let analytics = artifact(&derived, "analytics_v1");
    assert_eq!(analytics["derivationV"], 1);
    assert_eq!(analytics["sessionId"], "a");
    assert_eq!(analytics["data"]["toolUsage"], json!({"Read": 2}));
    assert_eq!(
        analytics["data"]["eventCounts"],
        json!({"tool_result": 2, "command": 1, "test_run": 1, "session_end": 1})
    );
    assert_eq!(analytics["data"]["durationMs"], 5 * 60 * 1000);
    assert_eq!(analytics["data"]["metrics"]["testsPassed"], false);
    let tests = &artifact(&derived, "test_results_v1")["data"];
    assert_eq!(
        (
            tests["passed"].clone(),
            tests["failed"].clone(),
            tests["skipped"].clone(),
            tests["total"].clone()
        ),
        (json!(7), json!(1), json!(2), json!(10))
    );

    // A late event, then the session is ended again by hand: both artifacts are rebuilt and see it.
    let fix = envelope("a", "test_run", "2026-04-01T10:06:00Z", json!({"passed": 10, "failed": 0}));
    app.post("/v1/hooks/ingest", &key, &fix).await.expect(201);
    app.patch("/v1/sessions/a", &org.key, &json!({"endedAt": "2026-04-01T10:07:00Z"}))
        .await
        .expect(200);
    let rebuilt = app.get(path, &org.key).await.expect(200);
    assert_eq!(rebuilt["artifacts"].as_array().unwrap().len(), 2);
    assert_ne!(artifact(&rebuilt, "analytics_v1")["id"], analytics["id"]);
    assert_eq!(artifact(&rebuilt, "analytics_v1")["data"]["durationMs"], 7 * 60 * 1000);
    assert_eq!(artifact(&rebuilt, "test_results_v1")["data"]["total"], 10);
    assert_eq!(artifact(&rebuilt, "test_results_v1")["data"]["outcome"], "passed");
    app.get(path, &key).await.expect(403);
    app.get("/v1/sessions/missing/artifacts", &org.key).await.expect(404);
}

async fn completing_derives_the_artifacts(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    app.post(
        "/v1/hooks/ingest",
        &key,
        &envelope(
            "done",
            "command",
            "2026-04-01T10:00:00Z",
            json!({"command": "pytest -q", "exitCode": 1}),
        ),
    )
    .await
    .expect(201);
    app.post("/v1/candidate/complete", &key, &json!({"sessionId": "done"})).await.expect(200);
    let derived = app.get("/v1/sessions/done/artifacts", &org.key).await.expect(200);
    let tests = &artifact(&derived, "test_results_v1")["data"];
    assert_eq!(tests["outcome"], "failed");
    assert_eq!(tests["command"], "pytest -q");
    assert_eq!(tests["total"], Value::Null, "a command gives an outcome, not counts");
}

/// Events of several kinds and tools, in session `session`.
fn varied_events(session: &str) -> Vec<Value> {
    let tools = ["Read", "Edit", "Bash"];
    (0..12)
        .map(|index| {
            let ts = format!("2026-04-01T10:{index:02}:00Z");
            match index % 4 {
                0 => envelope(session, "tool_result", &ts, json!({"tool": tools[index % 3]})),
                1 => envelope(session, "tool_result", &ts, json!({"toolName": "Grep", "tool": 3})),
                2 => envelope(session, "command", &ts, json!({"command": "ls", "exitCode": 0})),
                _ => envelope(session, "checkpoint", &ts, json!({"label": "x"})),
            }
        })
        .collect()
}

const VARIED_TOOLS: &str = r#"{"Read": 1, "Edit": 1, "Bash": 1, "Grep": 3}"#;
const VARIED_KINDS: &str = r#"{"tool_result": 6, "command": 3, "checkpoint": 3}"#;

async fn ending_a_session_derives_from_its_aggregates_not_its_timeline(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.ingest_rate_per_min = 0);
    let (org, key) = candidate(&app).await;
    let batch = json!({"events": varied_events("long")});
    app.post("/v1/hooks/ingest/batch", &key, &batch).await.expect(207);
    // Rewriting the stored events behind the server's back changes nothing the end derives: it reads the
    // counts kept at ingest, never the timeline (which is what makes its cost independent of the length).
    app.execute_sql(
        r#"UPDATE timeline_events SET kind = 'checkpoint', data = '{"tool": "Rewritten"}'"#,
    );
    app.patch("/v1/sessions/long", &org.key, &json!({"endedAt": "2026-04-01T11:00:00Z"}))
        .await
        .expect(200);
    let derived = app.get("/v1/sessions/long/artifacts", &org.key).await.expect(200);
    let analytics = &artifact(&derived, "analytics_v1")["data"];
    assert_eq!(analytics["toolUsage"], serde_json::from_str::<Value>(VARIED_TOOLS).unwrap());
    assert_eq!(analytics["eventCounts"], serde_json::from_str::<Value>(VARIED_KINDS).unwrap());
}

async fn the_migration_counts_the_sessions_stored_before_it(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.ingest_rate_per_min = 0);
    let (org, key) = candidate(&app).await;
    let batch = json!({"events": varied_events("old")});
    app.post("/v1/hooks/ingest/batch", &key, &batch).await.expect(207);
    let empty = app.post("/v1/sessions", &org.key, &json!({})).await.expect(201);
    let empty = empty["session"]["id"].as_str().unwrap().to_owned();
    // Back to the layout that migration ran on (the compact events came after it), and forward again.
    let steps = match backend {
        TestBackend::Sqlite => [
            include_str!("../../migrations/sqlite/2026-12-02-000000_compact_events/down.sql"),
            include_str!("../../migrations/sqlite/2026-12-01-040000_count_activity/down.sql"),
            include_str!("../../migrations/sqlite/2026-12-01-040000_count_activity/up.sql"),
            include_str!("../../migrations/sqlite/2026-12-02-000000_compact_events/up.sql"),
        ],
        TestBackend::Postgres => [
            include_str!("../../migrations/postgres/2026-12-02-000000_compact_events/down.sql"),
            include_str!("../../migrations/postgres/2026-12-01-040000_count_activity/down.sql"),
            include_str!("../../migrations/postgres/2026-12-01-040000_count_activity/up.sql"),
            include_str!("../../migrations/postgres/2026-12-02-000000_compact_events/up.sql"),
        ],
    };
    for step in steps {
        app.migrate_sql(step);
    }
    let late = envelope("old", "tool_result", "2026-04-01T10:30:00Z", json!({"tool_name": "Read"}));
    app.post("/v1/hooks/ingest", &key, &late).await.expect(201);
    app.patch("/v1/sessions/old", &org.key, &json!({"endedAt": "2026-04-01T11:00:00Z"}))
        .await
        .expect(200);
    let derived = app.get("/v1/sessions/old/artifacts", &org.key).await.expect(200);
    let analytics = &artifact(&derived, "analytics_v1")["data"];
    assert_eq!(analytics["toolUsage"], json!({"Read": 2, "Edit": 1, "Bash": 1, "Grep": 3}));
    assert_eq!(analytics["eventCounts"], json!({"tool_result": 7, "command": 3, "checkpoint": 3}));
    let path = format!("/v1/sessions/{empty}");
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    app.patch(&path, &org.key, &json!({"endedAt": now})).await.expect(200);
    let artifacts = app.get(&format!("{path}/artifacts"), &org.key).await.expect(200);
    assert_eq!(artifact(&artifacts, "analytics_v1")["data"]["eventCounts"], json!({}));
}

on_both_backends!(
    ending_a_session_derives_from_its_aggregates_not_its_timeline,
    the_migration_counts_the_sessions_stored_before_it,
    scores_are_upserted_per_dimension_by_writing_reviewers,
    artifacts_are_derived_when_a_session_ends_and_rebuilt_when_it_ends_again,
    completing_derives_the_artifacts,
);
