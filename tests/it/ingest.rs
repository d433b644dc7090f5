//! Ingest over HTTP (spec §4): envelopes, idempotency, session effects, strict schemas, batches and access.

use actix_web::http::Method;
use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend, TestOrg};

/// A valid envelope; `overrides` replaces top-level fields.
pub(crate) fn envelope(session: &str, kind: &str, ts: &str, data: Value) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "sessionId": session,
        "ts": ts,
        "kind": kind,
        "source": {"channel": "hook", "integration": "claude-code"},
        "v": 1,
        "data": data,
    })
}

/// An org, an assessment and one candidate key; returns the org and the key.
pub(crate) async fn candidate(app: &TestApp) -> (TestOrg, String) {
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let key = app.keys(&org, &assessment, 1).await[0]["key"].as_str().unwrap().to_owned();
    (org, key)
}

async fn timeline_ids(app: &TestApp, key: &str, session: &str) -> Vec<String> {
    let page =
        app.get(&format!("/v1/sessions/{session}/timeline?limit=2000"), key).await.expect(200);
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn first_event_creates_the_session_and_retries_are_skipped(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    let event =
        envelope("run-1", "prompt", "2026-04-01T10:00:00Z", json!({"prompt": "add a cache"}));
    let id = event["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.post("/v1/hooks/ingest", &key, &event).await.expect(201),
        json!({"ok": true, "id": id})
    );
    for _ in 0..3 {
        assert_eq!(
            app.post("/v1/hooks/ingest", &key, &event).await.expect(200),
            json!({"ok": true, "skipped": true})
        );
    }
    // The same id spelled in upper case is the same event.
    let mut shouted = event.clone();
    shouted["id"] = json!(id.to_uppercase());
    app.post("/v1/hooks/ingest", &key, &shouted).await.expect(200);
    assert_eq!(timeline_ids(&app, &key, "run-1").await, vec![id.clone()]);

    let session = app.get("/v1/sessions/run-1", &org.key).await.expect(200)["session"].clone();
    assert_eq!(session["sourceService"], "claude-code");
    assert_eq!(session["eventCount"], 1);
    assert_eq!(session["startedAt"], "2026-04-01T10:00:00.000Z");
    assert_eq!(session["lastActivityAt"], "2026-04-01T10:00:00.000Z");
    assert!(session["assessmentId"].is_string());
    let keys = app
        .get(
            &format!("/v1/assessments/{}/keys", session["assessmentId"].as_str().unwrap()),
            &org.key,
        )
        .await
        .expect(200);
    assert_eq!(
        keys["keys"][0]["sessionId"], "run-1",
        "the first session seen becomes the key's session"
    );
    let event = &app.get("/v1/sessions/run-1/timeline", &key).await.expect(200)["events"][0];
    assert_eq!(event["data"]["text"], "add a cache", "prompt is the alias of text");
    assert_eq!(event["actor"]["type"], "unknown");
    assert_eq!(event["provenance"]["attribution"], "unknown");
    assert_eq!(event["provenance"]["confidence"], 0.5);
    assert_eq!(event["provenance"]["observability"], "partial");
}

async fn session_counters_follow_events_in_any_arrival_order(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    let late = envelope(
        "s",
        "command",
        "2026-04-01T10:30:00Z",
        json!({"command": "cargo test", "exitCode": 0}),
    );
    let early = envelope(
        "s",
        "session_start",
        "2026-04-01T10:00:00+02:00",
        json!({"cwd": "/work/app", "assessmentId": "a-1"}),
    );
    let middle = envelope(
        "s",
        "decision_event",
        "2026-04-01T10:10:00Z",
        json!({"title": "Use a trie", "impactScore": 4}),
    );
    let tie_a = envelope("s", "checkpoint", "2026-04-01T10:10:00Z", json!({"label": "a"}));
    let tie_b = envelope("s", "checkpoint", "2026-04-01T10:10:00Z", json!({"label": "b"}));
    for event in [&late, &early, &middle, &tie_a, &tie_b] {
        app.post("/v1/hooks/ingest", &key, event).await.expect(201);
    }
    let session = app.get("/v1/sessions/s", &org.key).await.expect(200)["session"].clone();
    assert_eq!(session["eventCount"], 5);
    assert_eq!(session["decisionFlagCount"], 1);
    assert_eq!(session["startedAt"], "2026-04-01T08:00:00.000Z");
    assert_eq!(session["lastActivityAt"], "2026-04-01T10:30:00.000Z");
    assert_eq!(session["metadata"], json!({"cwd": "/work/app", "assessmentId": "a-1"}));
    // Timeline order is ts, then insertion order for equal ts.
    let id = |event: &Value| event["id"].as_str().unwrap().to_owned();
    assert_eq!(
        timeline_ids(&app, &key, "s").await,
        [id(&early), id(&middle), id(&tie_a), id(&tie_b), id(&late)]
    );
    let decisions = app.get("/v1/sessions/s/decisions", &key).await.expect(200);
    assert_eq!(decisions["decisions"].as_array().unwrap().len(), 1);
    assert_eq!(decisions["decisions"][0]["data"]["title"], "Use a trie");

    // A second session_start does not overwrite metadata already there.
    let restart =
        envelope("s", "session_start", "2026-04-01T10:40:00Z", json!({"cwd": "/elsewhere"}));
    app.post("/v1/hooks/ingest", &key, &restart).await.expect(201);
    let end = envelope("s", "session_end", "2026-04-01T10:45:00Z", json!({}));
    app.post("/v1/hooks/ingest", &key, &end).await.expect(201);
    let later_end = envelope("s", "session_end", "2026-04-01T11:00:00Z", json!({}));
    app.post("/v1/hooks/ingest", &key, &later_end).await.expect(201);
    let session = app.get("/v1/sessions/s", &org.key).await.expect(200)["session"].clone();
    assert_eq!(session["metadata"]["cwd"], "/work/app");
    assert_eq!(session["status"], "ended");
    assert_eq!(session["endedAt"], "2026-04-01T10:45:00.000Z", "the first session_end wins");
    assert_eq!(session["eventCount"], 8);
}

async fn strict_schemas_reject_with_the_offending_path(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("command", json!({}), "data.command"),
        ("command", json!({"command": 1}), "data.command"),
        ("command", json!({"command": "ls", "exitCode": "0"}), "data.exitCode"),
        ("command", json!({"command": "ls", "exitCode": 1.5}), "data.exitCode"),
        ("command", json!({"command": "ls", "durationMs": -1}), "data.durationMs"),
        ("command", json!({"command": "ls", "stdout": 3}), "data.stdout"),
        ("file_diff", json!({"diff": "+a"}), "data.path"),
        ("file_diff", json!({"path": "a.rs", "linesAdded": -2}), "data.linesAdded"),
        ("file_diff", json!({"path": "a.rs", "linesRemoved": "3"}), "data.linesRemoved"),
        ("file_create", json!({"path": "a.rs", "sizeBytes": -1}), "data.sizeBytes"),
        ("file_create", json!({"path": "a.rs", "content": 5}), "data.content"),
        ("test_run", json!({"passed": -1}), "data.passed"),
        ("test_run", json!({"suite": 7}), "data.suite"),
        ("git_action", json!({}), "data.action"),
        ("git_action", json!({"action": "commit", "commit": 1}), "data.commit"),
        ("checkpoint", json!({"label": []}), "data.label"),
        ("prompt", json!({}), "data.text"),
        ("prompt", json!({"text": "x", "tokenCount": -3}), "data.tokenCount"),
        ("decision_event", json!({"impactScore": 6}), "data.impactScore"),
        ("decision_event", json!({"impactScore": 0}), "data.impactScore"),
        ("decision_event", json!({"title": false}), "data.title"),
    ];
    for (kind, data, path) in cases {
        let response = app
            .post(
                "/v1/hooks/ingest",
                &key,
                &envelope("s", kind, "2026-04-01T10:00:00Z", data.clone()),
            )
            .await;
        assert_eq!(response.code(), "invalid_body", "{kind} {data}");
        let body = response.expect(400);
        let paths: Vec<&str> = body["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap())
            .collect();
        assert!(paths.contains(&path), "{kind} {data}: {paths:?}");
    }
    let mut broken = envelope("s", "Bad-Kind", "2026-04-01T10:00:00", json!([]));
    broken["id"] = json!("nope");
    broken["v"] = json!(2);
    broken["source"] = json!(5);
    broken.as_object_mut().unwrap().remove("sessionId");
    let body = app.post("/v1/hooks/ingest", &key, &broken).await.expect(400);
    let mut paths: Vec<&str> =
        body["details"].as_array().unwrap().iter().map(|d| d["path"].as_str().unwrap()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["data", "id", "kind", "sessionId", "source", "ts", "v"]);
    // Nothing of a refused event is stored, not even its session.
    assert_eq!(app.get("/v1/sessions", &org.key).await.expect(200)["total"], 0);
}

async fn real_client_traffic_is_kept_whole(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (_, key) = candidate(&app).await;
    let mut event = envelope(
        "s",
        "tool_call",
        "2026-04-01T10:00:00Z",
        json!({"tool": "Read", "extra": {"nested": [1, 2]}}),
    );
    event["source"] = json!("cursor");
    event["rawPayload"] = json!({"hook_event_name": "PostToolUse"});
    event["sig"] = json!("abc");
    event["futureField"] = json!({"x": 1});
    event["actor"] = json!({"type": "ai", "role": "agent", "model": "x"});
    app.post("/v1/hooks/ingest", &key, &event).await.expect(201);
    let stored = &app.get("/v1/sessions/s/timeline", &key).await.expect(200)["events"][0];
    assert_eq!(stored["kind"], "tool_result", "tool_call is stored as tool_result");
    assert_eq!(stored["source"]["channel"], "cursor");
    assert_eq!(stored["data"]["extra"], json!({"nested": [1, 2]}));
    assert_eq!(stored["actor"]["model"], "x", "unknown fields are kept");
    assert_eq!(stored["actor"]["type"], "ai");
}

async fn batches_judge_each_event_alone(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    let first = envelope("b", "prompt", "2026-04-01T10:00:00Z", json!({"text": "hi"}));
    app.post("/v1/hooks/ingest", &key, &first).await.expect(201);
    let fresh =
        envelope("b", "command", "2026-04-01T10:01:00Z", json!({"command": "ls", "exitCode": 0}));
    let invalid = envelope("b", "command", "2026-04-01T10:02:00Z", json!({}));
    let batch = json!({"events": [fresh, first, invalid, {"not": "an envelope"}]});
    let response = app.post("/v1/hooks/ingest/batch", &key, &batch).await.expect(207);
    let results = response["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(
        (results[0]["id"].clone(), results[0]["status"].clone()),
        (fresh["id"].clone(), json!(201))
    );
    assert_eq!(
        (results[1]["id"].clone(), results[1]["status"].clone()),
        (first["id"].clone(), json!(200))
    );
    assert_eq!(
        (results[2]["id"].clone(), results[2]["status"].clone()),
        (invalid["id"].clone(), json!(400))
    );
    assert!(results[2]["error"].as_str().unwrap().contains("data.command"));
    assert_eq!((results[3]["id"].clone(), results[3]["status"].clone()), (Value::Null, json!(400)));
    assert_eq!(app.get("/v1/sessions/b", &org.key).await.expect(200)["session"]["eventCount"], 2);

    // The same id twice in one batch: the first is stored, the second skipped.
    let twice = envelope("b", "prompt", "2026-04-01T10:03:00Z", json!({"text": "again"}));
    let response = app
        .post("/v1/hooks/ingest/batch", &key, &json!({"events": [twice, twice]}))
        .await
        .expect(207);
    let statuses: Vec<&Value> =
        response["results"].as_array().unwrap().iter().map(|r| &r["status"]).collect();
    assert_eq!(statuses, [&json!(201), &json!(200)]);
    assert_eq!(app.get("/v1/sessions/b", &org.key).await.expect(200)["session"]["eventCount"], 3);

    for body in [json!({"events": []}), json!({"events": "x"}), json!([]), json!({})] {
        let response = app.post("/v1/hooks/ingest/batch", &key, &body).await;
        assert_eq!(response.code(), "invalid_body", "{body}");
        response.expect(400);
    }
    let too_many: Vec<Value> =
        (0..501).map(|_| envelope("b", "checkpoint", "2026-04-01T10:00:00Z", json!({}))).collect();
    app.post("/v1/hooks/ingest/batch", &key, &json!({"events": too_many})).await.expect(400);
}

async fn ingest_takes_only_candidates_and_only_their_sessions(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let keys = app.keys(&org, &assessment, 2).await;
    let (ada, bob) = (keys[0]["key"].as_str().unwrap(), keys[1]["key"].as_str().unwrap());
    let event = envelope("ada-session", "prompt", "2026-04-01T10:00:00Z", json!({"text": "x"}));
    app.send(Method::POST, "/v1/hooks/ingest", None, Some(event.to_string().into_bytes()))
        .await
        .expect(401);
    app.send(
        Method::POST,
        "/v1/hooks/ingest",
        Some("PST-AAAA-BBBB"),
        Some(event.to_string().into_bytes()),
    )
    .await
    .expect(401);
    assert_eq!(
        app.post("/v1/hooks/ingest", &org.key, &event).await.expect(403)["code"],
        "forbidden"
    );
    app.post("/v1/hooks/ingest", ada, &event).await.expect(201);
    let intrusion = envelope("ada-session", "prompt", "2026-04-01T10:01:00Z", json!({"text": "y"}));
    assert_eq!(
        app.post("/v1/hooks/ingest", bob, &intrusion).await.expect(403)["code"],
        "forbidden"
    );
    let batch =
        app.post("/v1/hooks/ingest/batch", bob, &json!({"events": [intrusion]})).await.expect(207);
    assert_eq!(batch["results"][0]["status"], 403);
    // A session of another org is refused the same way, and nothing leaks into it.
    let globex = app.org("Globex");
    let globex_assessment = app.assessment(&globex, json!({})).await;
    let globex_key =
        app.keys(&globex, &globex_assessment, 1).await[0]["key"].as_str().unwrap().to_owned();
    app.post("/v1/hooks/ingest", &globex_key, &intrusion).await.expect(403);
    let reviewer_session = app.post("/v1/sessions", &org.key, &json!({})).await.expect(201)
        ["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        "/v1/hooks/ingest",
        ada,
        &envelope(&reviewer_session, "prompt", "2026-04-01T10:00:00Z", json!({"text": "x"})),
    )
    .await
    .expect(403);
    assert_eq!(
        app.get("/v1/sessions/ada-session", &org.key).await.expect(200)["session"]["eventCount"],
        1
    );
}

async fn event_ids_never_reach_across_sessions_or_orgs(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (acme, ada) = candidate(&app).await;
    let globex = app.org("Globex");
    let globex_assessment = app.assessment(&globex, json!({})).await;
    let eve = app.keys(&globex, &globex_assessment, 1).await[0]["key"].as_str().unwrap().to_owned();
    let original =
        envelope("ada-session", "prompt", "2026-04-01T10:00:00Z", json!({"text": "ada's own"}));
    app.post("/v1/hooks/ingest", &ada, &original).await.expect(201);

    // Aimed at Ada's session, a known id is refused like any other intrusion: 403, not "skipped".
    let mut replay = original.clone();
    replay["data"] = json!({"text": "forged"});
    assert_eq!(app.post("/v1/hooks/ingest", &eve, &replay).await.expect(403)["code"], "forbidden");
    // In a session of her own, the taken id is a conflict she is told about, never a silent skip.
    let mut reused = original.clone();
    reused["sessionId"] = json!("eve-session");
    assert_eq!(app.post("/v1/hooks/ingest", &eve, &reused).await.expect(409)["code"], "conflict");
    // Within one batch too: the same id in two sessions keeps only the first.
    let mut first = envelope("ada-2", "prompt", "2026-04-01T10:01:00Z", json!({"text": "a"}));
    first["id"] = json!(uuid::Uuid::new_v4().to_string());
    let mut second = first.clone();
    second["sessionId"] = json!("ada-3");
    let batch = app
        .post("/v1/hooks/ingest/batch", &ada, &json!({"events": [first, second]}))
        .await
        .expect(207);
    let statuses: Vec<&Value> =
        batch["results"].as_array().unwrap().iter().map(|r| &r["status"]).collect();
    assert_eq!(statuses, [&json!(201), &json!(409)], "{batch}");

    assert_eq!(
        timeline_ids(&app, &acme.key, "ada-session").await,
        [original["id"].as_str().unwrap()]
    );
    let timeline = app.get("/v1/sessions/ada-session/timeline", &acme.key).await.expect(200);
    assert_eq!(timeline["events"][0]["data"]["text"], "ada's own");
    app.get("/v1/sessions/eve-session", &globex.key).await.expect(404);
}

async fn oversized_bodies_are_413(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (_, key) = candidate(&app).await;
    let big = envelope(
        "s",
        "command",
        "2026-04-01T10:00:00Z",
        json!({"command": "x", "stdout": "y".repeat(1024 * 1024)}),
    );
    app.post("/v1/hooks/ingest", &key, &big).await.expect(413);
    // The batch route takes up to 8 MiB: the same event fits there.
    app.post("/v1/hooks/ingest/batch", &key, &json!({"events": [big]})).await.expect(207);
    let huge: Vec<Value> = (0..9)
        .map(|_| {
            envelope(
                "s",
                "command",
                "2026-04-01T10:00:00Z",
                json!({"command": "x", "stdout": "y".repeat(1024 * 1024)}),
            )
        })
        .collect();
    app.post("/v1/hooks/ingest/batch", &key, &json!({"events": huge})).await.expect(413);
}

on_both_backends!(
    first_event_creates_the_session_and_retries_are_skipped,
    session_counters_follow_events_in_any_arrival_order,
    strict_schemas_reject_with_the_offending_path,
    real_client_traffic_is_kept_whole,
    batches_judge_each_event_alone,
    ingest_takes_only_candidates_and_only_their_sessions,
    event_ids_never_reach_across_sessions_or_orgs,
    oversized_bodies_are_413,
);
