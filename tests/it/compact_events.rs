//! The migration to compact event rows (binary ids, integer times, the envelope stored once): events stored in
//! the earlier layout read back exactly as before, and the store goes on working after it.

use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend};
use crate::ingest::{candidate, envelope};
use crate::storage_sessions::count_rows as count;

/// Events of several kinds: two whose `data` normalisation changes (an exit code written `0.0`, an optional
/// field sent as null), three at times with fractions of a second, a decision.
fn mixed_events(session: &str) -> Vec<Value> {
    vec![
        envelope(session, "prompt", "2026-04-01T10:00:00Z", json!({"text": "add a cache"})),
        envelope(
            session,
            "command",
            "2026-04-01T10:00:01.5Z",
            json!({"command": "ls", "exitCode": 0.0}),
        ),
        envelope(
            session,
            "command",
            "2026-04-01T10:00:02.123Z",
            json!({"command": "cargo test", "exitCode": 1}),
        ),
        envelope(
            session,
            "command",
            "2026-04-01T10:00:03Z",
            json!({"command": "pwd", "durationMs": null}),
        ),
        envelope(
            session,
            "decision_event",
            "2026-04-01T10:00:04Z",
            json!({"title": "Use an LRU cache", "impactScore": 4}),
        ),
        envelope(session, "checkpoint", "2026-04-01T09:59:59.999Z", json!({"label": "early"})),
    ]
}

async fn snapshot(app: &TestApp, key: &str, session: &str) -> Vec<Value> {
    let mut views = Vec::new();
    for path in ["", "/timeline?limit=100", "/timeline?limit=100&only=commands", "/decisions"] {
        views.push(app.get(&format!("/v1/sessions/{session}{path}"), key).await.expect(200));
    }
    views
}

async fn events_in_the_earlier_layout_read_back_the_same_after_the_migration(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.ingest_rate_per_min = 0);
    let (org, key) = candidate(&app).await;
    let events = mixed_events("converted");
    app.post("/v1/hooks/ingest/batch", &key, &json!({"events": events})).await.expect(207);
    let before = snapshot(&app, &org.key, "converted").await;
    assert_eq!(before[1]["events"].as_array().unwrap().len(), 6);
    assert_eq!(before[1]["events"][0]["ts"], "2026-04-01T09:59:59.999Z");
    // Stored once: data beside the envelope only where normalisation changed it (the 0.0 and the null).
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM timeline_events WHERE data IS NULL"), 4);

    let (down, up) = match backend {
        TestBackend::Sqlite => (
            include_str!("../../migrations/sqlite/2026-12-02-000000_compact_events/down.sql"),
            include_str!("../../migrations/sqlite/2026-12-02-000000_compact_events/up.sql"),
        ),
        TestBackend::Postgres => (
            include_str!("../../migrations/postgres/2026-12-02-000000_compact_events/down.sql"),
            include_str!("../../migrations/postgres/2026-12-02-000000_compact_events/up.sql"),
        ),
    };
    app.migrate_sql(down);
    // The earlier layout: text ids and times, every envelope in raw_events beside a parsed copy.
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM raw_events"), 6);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM timeline_events WHERE length(id) = 36"), 6);
    app.migrate_sql(up);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM timeline_events WHERE length(id) = 16"), 6);
    assert_eq!(count(&app, "SELECT COUNT(*) AS n FROM timeline_events WHERE data IS NULL"), 4);
    assert_eq!(snapshot(&app, &org.key, "converted").await, before);

    // Still one store: a retry is skipped by the unique id, a new event gets a later sequence number.
    let retry = app.post("/v1/hooks/ingest", &key, &events[0]).await.expect(200);
    assert_eq!(retry, json!({"ok": true, "skipped": true}));
    let late = envelope("converted", "prompt", "2026-04-01T10:00:04Z", json!({"text": "later"}));
    app.post("/v1/hooks/ingest", &key, &late).await.expect(201);
    let timeline = app.get("/v1/sessions/converted/timeline?limit=100", &org.key).await.expect(200);
    let ids: Vec<&str> =
        timeline["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 7);
    assert_eq!(ids.last().copied(), late["id"].as_str(), "ties in ts keep arrival order");
}

on_both_backends!(events_in_the_earlier_layout_read_back_the_same_after_the_migration);
