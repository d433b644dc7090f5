//! Concurrent writes to one session never lose each other's changes (spec §10.1): metadata merges, a
//! `session_start` copying its `cwd` into the metadata and a `session_end` setting `endedAt`, all sent at once,
//! all take effect. On PostgreSQL the requests really run in parallel (the session's row lock orders them), so the
//! race is repeated many times; on SQLite the one writer orders them.

use actix_web::http::Method;
use futures_util::future::join_all;
use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend};
use crate::ingest::envelope;

/// How many times the race is run.
const ROUNDS: usize = 25;
/// Metadata merges in each round.
const MERGES: usize = 4;

async fn merges_and_session_end_at_once_all_take_effect(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| {
        settings.ingest_rate_per_min = 0;
        settings.ip_rate_per_min = 0;
    });
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let keys = app.keys(&org, &assessment, ROUNDS).await;
    for (round, issued) in keys.iter().enumerate() {
        let key = issued["key"].as_str().unwrap();
        let session = app.redeem(key).await["sessionId"].as_str().unwrap().to_owned();
        let metadata_path = format!("/v1/sessions/{session}/metadata");
        let end = envelope(&session, "session_end", "2026-04-01T11:00:00Z", json!({}));
        let start = envelope(
            &session,
            "session_start",
            "2026-04-01T10:00:00Z",
            json!({"cwd": "/home/ada/task"}),
        );
        let merges: Vec<Value> = (0..MERGES).map(|i| json!({format!("reviewer{i}"): i})).collect();
        // Half the merges by the reviewer, half by the candidate, the events in between.
        let mut writes: Vec<(Method, &str, &str, &Value)> =
            vec![(Method::POST, "/v1/hooks/ingest", key, &end)];
        for merge in &merges[..MERGES / 2] {
            writes.push((Method::PATCH, &metadata_path, &org.key, merge));
        }
        writes.push((Method::POST, "/v1/hooks/ingest", key, &start));
        for merge in &merges[MERGES / 2..] {
            writes.push((Method::PATCH, &metadata_path, key, merge));
        }
        let requests = writes.into_iter().map(|(method, path, credential, body)| {
            app.send_json(method, path, Some(credential), body)
        });
        for response in join_all(requests).await {
            assert!(
                response.status.is_success(),
                "round {round}: {} {}",
                response.status,
                response.body
            );
        }
        let stored = app.get(&format!("/v1/sessions/{session}"), &org.key).await.expect(200);
        let session_object = &stored["session"];
        assert_eq!(session_object["endedAt"], "2026-04-01T11:00:00.000Z", "round {round}");
        assert_eq!(session_object["eventCount"], 2, "round {round}");
        let mut expected: serde_json::Map<String, Value> =
            (0..MERGES).map(|i| (format!("reviewer{i}"), json!(i))).collect();
        expected.insert("cwd".to_owned(), json!("/home/ada/task"));
        assert_eq!(session_object["metadata"], Value::Object(expected), "round {round}");
    }
}

on_both_backends!(merges_and_session_end_at_once_all_take_effect);
