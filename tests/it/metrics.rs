//! Metrics (spec §6) and cohort statistics (spec §7) end to end over HTTP, with hand-computed expectations.

use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend};
use crate::ingest::{candidate, envelope};

fn event(
    session: &str,
    kind: &str,
    ts: &str,
    data: Value,
    actor: &str,
    attribution: &str,
) -> Value {
    let mut event = envelope(session, kind, ts, data);
    event["actor"] = json!({"type": actor});
    event["provenance"] = json!({"attribution": attribution});
    event
}

async fn metrics_follow_the_spec_definitions(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    let events = [
        event(
            "m",
            "prompt",
            "2026-04-01T10:00:00Z",
            json!({"text": "plan"}),
            "human",
            "likely_human",
        ),
        event(
            "m",
            "file_diff",
            "2026-04-01T10:02:00Z",
            json!({"path": "src/a.rs", "linesAdded": 10, "linesRemoved": 2}),
            "ai",
            "likely_ai",
        ),
        event(
            "m",
            "command",
            "2026-04-01T10:03:00Z",
            json!({"command": "RUST_LOG=debug cargo test -p api", "exitCode": 1}),
            "ai",
            "likely_ai",
        ),
        event(
            "m",
            "file_create",
            "2026-04-01T10:04:00Z",
            json!({"path": "notes.md", "linesAdded": 5}),
            "human",
            "unknown",
        ),
        event(
            "m",
            "command",
            "2026-04-01T10:05:00Z",
            json!({"command": "cd web && pnpm test -- --run", "exitCode": 0}),
            "ai",
            "likely_ai",
        ),
        event(
            "m",
            "test_run",
            "2026-04-01T10:05:01Z",
            json!({"command": "cd web && pnpm test -- --run", "passed": 9, "failed": 0}),
            "system",
            "system_generated",
        ),
        event(
            "m",
            "command",
            "2026-04-01T10:06:00Z",
            json!({"command": "cat test.txt", "exitCode": 0}),
            "ai",
            "likely_ai",
        ),
        event(
            "m",
            "command",
            "2026-04-01T10:07:00Z",
            json!({"command": "git commit -m \"test\""}),
            "ai",
            "likely_ai",
        ),
        event(
            "m",
            "prompt",
            "2026-04-01T10:08:00Z",
            json!({"text": "ship it"}),
            "human",
            "likely_human",
        ),
        event(
            "m",
            "test_run",
            "2026-04-01T10:09:00Z",
            json!({"suite": "unit", "passed": 3, "failed": 1}),
            "system",
            "system_generated",
        ),
    ];
    // Arrival order must not matter: post them newest first.
    for event in events.iter().rev() {
        app.post("/v1/hooks/ingest", &key, event).await.expect(201);
    }
    let metrics = app.get("/v1/sessions/m/metrics", &org.key).await.expect(200)["metrics"].clone();
    assert_eq!(metrics["durationMs"], 9 * 60 * 1000);
    assert_eq!(metrics["promptCount"], 2);
    assert_eq!(metrics["commandCount"], 4);
    // Three commands carry an exit code, one of them non-zero.
    assert_eq!(metrics["commandFailRate"].as_f64().unwrap(), 1.0 / 3.0);
    // Two test commands, plus the test_run that names no command; the one naming its command is not counted
    // twice. Two file changes.
    assert_eq!(metrics["verifyIntensity"].as_f64().unwrap(), 1.5);
    // The file_create by a human with unknown attribution is manual.
    assert_eq!(metrics["manualEditRatio"].as_f64().unwrap(), 0.5);
    assert_eq!(metrics["firstChangeLatencyMs"], 2 * 60 * 1000);
    // The last test evidence is the failing test_run at 10:09.
    assert_eq!(metrics["testsPassed"], false);
    // 100 × (1 × 12 + 0 × 5) ÷ 17 = 70.588…
    assert_eq!(metrics["aiAttributionPct"], 70.6);
    assert_eq!(metrics["fileChangeCount"], 2);
    let session = app.get("/v1/sessions/m", &org.key).await.expect(200);
    assert_eq!(session["session"]["aiAttributionPct"], 70.6);
    assert_eq!(app.get("/v1/sessions/m/metrics", &key).await.expect(200)["metrics"], metrics);
}

async fn sessions_without_evidence_get_nulls_not_zeros(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    app.post(
        "/v1/hooks/ingest",
        &key,
        &envelope("quiet", "prompt", "2026-04-01T10:00:00Z", json!({"text": "hi"})),
    )
    .await
    .expect(201);
    let metrics =
        app.get("/v1/sessions/quiet/metrics", &org.key).await.expect(200)["metrics"].clone();
    assert_eq!(
        metrics,
        json!({
            "durationMs": 0, "promptCount": 1, "commandCount": 0, "commandFailRate": null, "verifyIntensity": null,
            "manualEditRatio": null, "firstChangeLatencyMs": null, "testsPassed": null, "aiAttributionPct": null,
            "fileChangeCount": 0
        })
    );
    let created = app.post("/v1/sessions", &org.key, &json!({})).await.expect(201)["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let empty = app.get(&format!("/v1/sessions/{created}/metrics"), &org.key).await.expect(200);
    assert_eq!(empty["metrics"]["durationMs"], 0);
    assert_eq!(empty["metrics"]["promptCount"], 0);
    app.get("/v1/sessions/missing/metrics", &org.key).await.expect(404);
}

/// Twelve candidates whose sessions hold 1..=12 prompts, all completed: the seed's cohort shape.
async fn cohort_percentiles_match_the_seed_example(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let keys = app.keys(&org, &assessment, 13).await;
    let mut sessions = Vec::new();
    for (index, issued) in keys.iter().take(12).enumerate() {
        let key = issued["key"].as_str().unwrap();
        let session = app.redeem(key).await["sessionId"].as_str().unwrap().to_owned();
        let prompts: Vec<Value> = (0..=index)
            .map(|n| {
                envelope(
                    &session,
                    "prompt",
                    &format!("2026-04-01T10:{n:02}:00Z"),
                    json!({"text": "p"}),
                )
            })
            .collect();
        app.post("/v1/hooks/ingest/batch", key, &json!({"events": prompts})).await.expect(207);
        app.post("/v1/candidate/complete", key, &json!({"sessionId": session})).await.expect(200);
        sessions.push(session);
    }
    // The thirteenth candidate is still working: not in the cohort.
    let outsider_key = keys[12]["key"].as_str().unwrap();
    let outsider = app.redeem(outsider_key).await["sessionId"].as_str().unwrap().to_owned();
    let prompt = envelope(&outsider, "prompt", "2026-04-01T10:00:00Z", json!({"text": "p"}));
    app.post("/v1/hooks/ingest", outsider_key, &prompt).await.expect(201);

    // Session 4 has 4 prompts: 8 of the 11 others have more (worse), so its percentile is 8/11.
    let stats =
        app.get(&format!("/v1/sessions/{}/cohort-stats", sessions[3]), &org.key).await.expect(200)
            ["cohortStats"]
            .clone();
    assert_eq!(stats["sessionCount"], 12);
    assert_eq!(stats["metrics"]["avgPromptCount"], 6.5);
    assert_eq!(stats["percentiles"]["promptCount"], 0.727);
    assert_eq!(stats["metrics"]["testPassRate"], 0);
    assert_eq!(stats["percentiles"]["commandFailRate"], Value::Null, "no session has that metric");
    let candidate_view = app
        .get(
            &format!("/v1/sessions/{}/cohort-stats", sessions[3]),
            keys[3]["key"].as_str().unwrap(),
        )
        .await
        .expect(200);
    assert_eq!(candidate_view["cohortStats"], stats);

    let by_assessment = format!("/v1/assessments/{assessment}/cohort-stats");
    let plain = app.get(&by_assessment, &org.key).await.expect(200)["cohortStats"].clone();
    assert_eq!(plain["sessionCount"], 12);
    assert!(plain.get("percentiles").is_none(), "no sessionId, no percentiles: {plain}");
    let ranked =
        app.get(&format!("{by_assessment}?sessionId={}", sessions[10]), &org.key).await.expect(200);
    assert_eq!(
        ranked["cohortStats"]["percentiles"]["promptCount"], 0.091,
        "1 of 11 others is worse"
    );
    // An outsider is ranked against the whole cohort: with 1 prompt, 11 of 12 are worse and one ties.
    let outside =
        app.get(&format!("/v1/sessions/{outsider}/cohort-stats"), &org.key).await.expect(200);
    assert_eq!(outside["cohortStats"]["sessionCount"], 12);
    assert_eq!(outside["cohortStats"]["percentiles"]["promptCount"], 0.958);
    app.get(&format!("{by_assessment}?sessionId=missing"), &org.key).await.expect(404);
    app.get(&by_assessment, outsider_key).await.expect(403);
}

async fn cohort_is_null_without_assessment_or_members(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    app.post(
        "/v1/hooks/ingest",
        &key,
        &envelope("c", "prompt", "2026-04-01T10:00:00Z", json!({"text": "x"})),
    )
    .await
    .expect(201);
    // Active key: its assessment's cohort is empty.
    assert_eq!(
        app.get("/v1/sessions/c/cohort-stats", &org.key).await.expect(200),
        json!({"cohortStats": null})
    );
    let loose = app.post("/v1/sessions", &org.key, &json!({})).await.expect(201)["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.get(&format!("/v1/sessions/{loose}/cohort-stats"), &org.key).await.expect(200),
        json!({"cohortStats": null})
    );
    // A single completed session: statistics without percentiles.
    app.post("/v1/candidate/complete", &key, &json!({"sessionId": "c"})).await.expect(200);
    let stats =
        app.get("/v1/sessions/c/cohort-stats", &org.key).await.expect(200)["cohortStats"].clone();
    assert_eq!(stats["sessionCount"], 1);
    assert!(stats.get("percentiles").is_none());
}

/// Who is in a cohort: the session each completed key is linked to, and nothing else of the assessment's. A
/// candidate's second session, a revoked key's session and another assessment's sessions stay out.
async fn cohort_holds_only_the_linked_sessions_of_counted_keys(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let elsewhere = app.assessment(&org, json!({})).await;
    let keys = app.keys(&org, &assessment, 3).await;
    let key = |index: usize| keys[index]["key"].as_str().unwrap().to_owned();
    let prompts = |session: &str, count: usize| -> Value {
        let events: Vec<Value> = (0..count)
            .map(|n| {
                envelope(
                    session,
                    "prompt",
                    &format!("2026-04-01T10:{n:02}:00Z"),
                    json!({"text": "p"}),
                )
            })
            .collect();
        json!({"events": events})
    };
    let mut linked = Vec::new();
    for (index, count) in [(0, 2), (1, 4), (2, 30)] {
        let session = app.redeem(&key(index)).await["sessionId"].as_str().unwrap().to_owned();
        app.post("/v1/hooks/ingest/batch", &key(index), &prompts(&session, count))
            .await
            .expect(207);
        linked.push(session);
    }
    // The first candidate opens a second session of the same assessment: it is not the key's session.
    let second = app.post("/v1/sessions", &key(0), &json!({})).await.expect(201)["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second, linked[0]);
    app.post("/v1/hooks/ingest/batch", &key(0), &prompts(&second, 50)).await.expect(207);
    for (index, session) in linked.iter().enumerate() {
        let body = json!({"sessionId": session});
        app.post("/v1/candidate/complete", &key(index), &body).await.expect(200);
    }
    // The third key is revoked after completing: its session leaves the cohort.
    let revoked = keys[2]["id"].as_str().unwrap();
    app.delete(&format!("/v1/assessments/{assessment}/keys/{revoked}"), &org.key).await.expect(200);
    // A completed session of another assessment.
    let other_key = app.keys(&org, &elsewhere, 1).await[0]["key"].as_str().unwrap().to_owned();
    let other = app.redeem(&other_key).await["sessionId"].as_str().unwrap().to_owned();
    app.post("/v1/hooks/ingest/batch", &other_key, &prompts(&other, 40)).await.expect(207);
    app.post("/v1/candidate/complete", &other_key, &json!({"sessionId": other})).await.expect(200);

    let stats =
        app.get(&format!("/v1/assessments/{assessment}/cohort-stats"), &org.key).await.expect(200)
            ["cohortStats"]
            .clone();
    assert_eq!(stats["sessionCount"], 2, "{stats}");
    assert_eq!(
        stats["metrics"]["avgPromptCount"], 3.0,
        "the linked sessions' 2 and 4 prompts: {stats}"
    );
}

on_both_backends!(
    metrics_follow_the_spec_definitions,
    sessions_without_evidence_get_nulls_not_zeros,
    cohort_percentiles_match_the_seed_example,
    cohort_is_null_without_assessment_or_members,
    cohort_holds_only_the_linked_sessions_of_counted_keys,
);
