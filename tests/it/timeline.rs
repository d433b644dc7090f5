//! Reading a session (spec §5): keyset-paged timeline, decisions, and recent activity.

use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend};
use crate::ingest::{candidate, envelope};

async fn ingest_all(app: &TestApp, key: &str, events: &[Value]) {
    for chunk in events.chunks(500) {
        let response =
            app.post("/v1/hooks/ingest/batch", key, &json!({"events": chunk})).await.expect(207);
        assert!(
            response["results"].as_array().unwrap().iter().all(|r| r["status"] == 201),
            "{response}"
        );
    }
}

async fn timeline_pages_by_cursor_in_timestamp_order(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.ingest_rate_per_min = 0);
    let (org, key) = candidate(&app).await;
    // 25 events, posted newest first, three sharing each timestamp.
    let events: Vec<Value> = (0..25)
        .rev()
        .map(|n| {
            envelope(
                "t",
                "checkpoint",
                &format!("2026-04-01T10:{:02}:00Z", n / 3),
                json!({"label": n.to_string()}),
            )
        })
        .collect();
    ingest_all(&app, &key, &events).await;
    let mut expected: Vec<(String, usize)> = events
        .iter()
        .enumerate()
        .map(|(arrival, e)| (e["ts"].as_str().unwrap().to_owned(), arrival))
        .collect();
    expected.sort();
    let expected: Vec<String> = expected
        .iter()
        .map(|(_, arrival)| events[*arrival]["id"].as_str().unwrap().to_owned())
        .collect();

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(cursor) => format!("/v1/sessions/t/timeline?limit=10&after={cursor}"),
            None => "/v1/sessions/t/timeline?limit=10".to_owned(),
        };
        let page = app.get(&path, &org.key).await.expect(200);
        let ids: Vec<String> = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(ids.len() <= 10);
        seen.extend(ids.iter().cloned());
        if page["hasMore"] == false {
            break;
        }
        after = ids.last().cloned();
    }
    assert_eq!(seen, expected, "every event once, ts then insertion order, across pages");

    let event =
        &app.get("/v1/sessions/t/timeline?limit=1", &org.key).await.expect(200)["events"][0];
    let mut fields: Vec<&str> = event.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["actor", "createdAt", "data", "id", "kind", "provenance", "sessionId", "source", "ts"]
    );
    assert_eq!(
        app.get("/v1/sessions/t/timeline", &org.key).await.expect(200)["events"]
            .as_array()
            .unwrap()
            .len(),
        25
    );
    assert_eq!(
        app.get("/v1/sessions/t/timeline?limit=0", &org.key).await.expect(200)["events"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The cursor is an event id, so another spelling of the same UUID names the same event.
    let shouted = format!("/v1/sessions/t/timeline?limit=1&after={}", expected[0].to_uppercase());
    assert_eq!(
        app.get(&shouted, &org.key).await.expect(200)["events"][0]["id"],
        expected[1].as_str()
    );
    let last = app
        .get(&format!("/v1/sessions/t/timeline?after={}", expected[24]), &org.key)
        .await
        .expect(200);
    assert_eq!((last["events"].clone(), last["hasMore"].clone()), (json!([]), json!(false)));
    for query in ["limit=abc", "after=00000000-0000-0000-0000-000000000000", "after=nope"] {
        let response = app.get(&format!("/v1/sessions/t/timeline?{query}"), &org.key).await;
        assert_eq!(response.code(), "invalid_query", "{query}");
        response.expect(400);
    }
    app.get("/v1/sessions/missing/timeline", &org.key).await.expect(404);
    app.get("/v1/sessions/missing/decisions", &org.key).await.expect(404);
    app.get("/v1/sessions/missing/recent-activity", &org.key).await.expect(404);
}

async fn recent_activity_covers_the_last_minutes_before_the_last_event(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    let events = [
        envelope("r", "file_diff", "2026-04-01T09:00:00Z", json!({"path": "old.rs"})),
        envelope("r", "prompt", "2026-04-01T09:45:00Z", json!({"text": "go"})),
        envelope("r", "file_diff", "2026-04-01T09:50:00Z", json!({"path": "src/lib.rs"})),
        envelope("r", "file_create", "2026-04-01T09:55:00Z", json!({"path": "src/new.rs"})),
        envelope("r", "file_diff", "2026-04-01T09:56:00Z", json!({"path": "src/lib.rs"})),
        envelope("r", "command", "2026-04-01T10:00:00Z", json!({"command": "cargo test"})),
    ];
    ingest_all(&app, &key, &events).await;
    let recent = app.get("/v1/sessions/r/recent-activity", &org.key).await.expect(200);
    assert_eq!(recent["periodMinutes"], 20);
    assert_eq!(recent["eventCount"], 5);
    assert_eq!(recent["recentActivity"]["filesChanged"], json!(["src/lib.rs", "src/new.rs"]));
    assert_eq!(recent["recentActivity"]["commands"], json!(["cargo test"]));
    assert_eq!(recent["recentActivity"]["promptCount"], 1);
    assert!(recent["summary"].is_string());
    // The window includes its start: 09:55 is exactly five minutes before the last event.
    let narrow = app.get("/v1/sessions/r/recent-activity?minutes=5", &key).await.expect(200);
    assert_eq!(narrow["eventCount"], 3);
    assert_eq!(narrow["recentActivity"]["filesChanged"], json!(["src/lib.rs", "src/new.rs"]));
    assert_eq!(narrow["recentActivity"]["promptCount"], 0);
    assert_eq!(
        app.get("/v1/sessions/r/recent-activity?minutes=500", &key).await.expect(200)
            ["periodMinutes"],
        60
    );
    assert_eq!(
        app.get("/v1/sessions/r/recent-activity?minutes=0", &key).await.expect(200)
            ["periodMinutes"],
        1
    );
    app.get("/v1/sessions/r/recent-activity?minutes=soon", &key).await.expect(400);
}

/// The raw JSON body of a GET as `key`.
async fn body_of(app: &TestApp, path: &str, key: &str) -> String {
    let request = actix_web::test::TestRequest::get()
        .uri(path)
        .insert_header(("Authorization", format!("Bearer {key}")));
    let response = app.raw(request).await;
    assert_eq!(response.status.as_u16(), 200, "{}", &response.text[..response.text.len().min(300)]);
    response.text
}

const MIB: usize = 1 << 20;

async fn pages_of_large_events_stop_at_4_mib_and_continue_where_they_stopped(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.ingest_rate_per_min = 0);
    let (org, key) = candidate(&app).await;
    // Twelve events of 700 KB (five fit in 4 MiB), then one of 5 MB, alone over the budget, then one small.
    let big = "x".repeat(700_000);
    let mut events: Vec<Value> = (0..12)
        .map(|n| {
            let ts = format!("2026-04-01T10:{n:02}:00Z");
            envelope("big", "decision_event", &ts, json!({"title": n.to_string(), "context": big}))
        })
        .collect();
    events.push(envelope(
        "big",
        "checkpoint",
        "2026-04-01T11:00:00Z",
        json!({"summary": "y".repeat(5 * MIB)}),
    ));
    events.push(envelope("big", "checkpoint", "2026-04-01T11:01:00Z", json!({})));
    for chunk in events.chunks(5) {
        let response =
            app.post("/v1/hooks/ingest/batch", &key, &json!({"events": chunk})).await.expect(207);
        assert!(response["results"].as_array().unwrap().iter().all(|r| r["status"] == 201));
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(cursor) => format!("/v1/sessions/big/timeline?limit=2000&after={cursor}"),
            None => "/v1/sessions/big/timeline?limit=2000".to_owned(),
        };
        let text = body_of(&app, &path, &org.key).await;
        let page: Value = serde_json::from_str(&text).unwrap();
        let ids: Vec<String> = page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        sizes.push((ids.len(), text.len()));
        after = ids.last().cloned();
        seen.extend(ids);
        if page["hasMore"] == false {
            break;
        }
        assert!(sizes.len() < 10, "the pages never end: {sizes:?}");
    }
    let expected: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(seen, expected, "every event once, in order, across the pages");
    let counts: Vec<usize> = sizes.iter().map(|(count, _)| *count).collect();
    assert_eq!(counts, [5, 5, 2, 1, 1], "{sizes:?}");
    for (count, bytes) in &sizes {
        assert!(*count == 1 || *bytes <= 4 * MIB, "a page of {count} events is {bytes} bytes");
    }

    let text = body_of(&app, "/v1/sessions/big/decisions", &org.key).await;
    assert!(text.len() <= 4 * MIB, "{} bytes of decisions", text.len());
    let decisions: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(decisions["decisions"].as_array().unwrap().len(), 5);
    assert_eq!(decisions["hasMore"], true);
    let rest = body_of(
        &app,
        &format!("/v1/sessions/big/timeline?only=decisions&after={}", expected[4]),
        &org.key,
    )
    .await;
    let rest: Value = serde_json::from_str(&rest).unwrap();
    assert_eq!(rest["events"][0]["id"], expected[5], "the filtered timeline carries on after them");
}

async fn recent_activity_repeats_long_commands_cut_short(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.ingest_rate_per_min = 0);
    let (org, key) = candidate(&app).await;
    let long = "echo ".to_owned() + &"z".repeat(300_000);
    let events: Vec<Value> = (0..20)
        .map(|n| {
            let ts = format!("2026-04-01T10:00:{n:02}Z");
            envelope("loud", "command", &ts, json!({"command": long}))
        })
        .collect();
    ingest_all(&app, &key, &events).await;
    let text = body_of(&app, "/v1/sessions/loud/recent-activity", &org.key).await;
    assert!(text.len() < 64 * 1024, "{} bytes", text.len());
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["eventCount"], 20);
    let commands = report["recentActivity"]["commands"].as_array().unwrap();
    assert_eq!(commands.len(), 20);
    assert!(commands[0].as_str().unwrap().ends_with('…'));
}

on_both_backends!(
    pages_of_large_events_stop_at_4_mib_and_continue_where_they_stopped,
    recent_activity_repeats_long_commands_cut_short,
    timeline_pages_by_cursor_in_timestamp_order,
    recent_activity_covers_the_last_minutes_before_the_last_event
);
