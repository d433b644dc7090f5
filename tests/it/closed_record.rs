//! A finished candidate's record is read-only, and its timestamps stay sane (spec §10.1): every write with a
//! completed or hired key's credentials is 403 `session_closed` and changes nothing; `endedAt` never precedes
//! `startedAt`; request timestamps outside 1970–9999, or events a day ahead of the clock, are 400.

use actix_web::http::Method;
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend, TestOrg};
use crate::ingest::envelope;

/// A redeemed candidate with one recorded event: the org, the key's id, the key, the token and the session.
struct Candidate {
    org: TestOrg,
    assessment: String,
    key_id: String,
    key: String,
    token: String,
    session: String,
}

async fn candidate(app: &TestApp) -> Candidate {
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let issued = app.keys(&org, &assessment, 1).await.remove(0);
    let key = issued["key"].as_str().unwrap().to_owned();
    let redeemed = app.redeem(&key).await;
    let session = redeemed["sessionId"].as_str().unwrap().to_owned();
    let failing = envelope(
        &session,
        "test_run",
        "2026-04-01T10:00:00Z",
        json!({"suite": "api", "passed": 3, "failed": 2}),
    );
    app.post("/v1/hooks/ingest", &key, &failing).await.expect(201);
    Candidate {
        key_id: issued["id"].as_str().unwrap().to_owned(),
        token: redeemed["sessionToken"].as_str().unwrap().to_owned(),
        org,
        assessment,
        key,
        session,
    }
}

/// Everything a reviewer can see of the candidate's record, to compare before and after.
async fn record(app: &TestApp, who: &Candidate) -> Value {
    let session = app.get(&format!("/v1/sessions/{}", who.session), &who.org.key).await.expect(200);
    let metrics =
        app.get(&format!("/v1/sessions/{}/metrics", who.session), &who.org.key).await.expect(200);
    let timeline =
        app.get(&format!("/v1/sessions/{}/timeline", who.session), &who.org.key).await.expect(200);
    let sessions = app.get("/v1/sessions?limit=100", &who.org.key).await.expect(200);
    json!({"session": session, "metrics": metrics, "timeline": timeline, "sessions": sessions["total"]})
}

/// Every write a candidate can make, each answered 403 `session_closed`, for both of its credentials.
async fn every_write_is_refused(app: &TestApp, who: &Candidate) {
    let session_path = format!("/v1/sessions/{}", who.session);
    let passing = |session: &str| {
        envelope(
            session,
            "test_run",
            "2026-04-01T11:00:00Z",
            json!({"suite": "api", "passed": 5, "failed": 0}),
        )
    };
    for credential in [&who.key, &who.token] {
        let writes: [(Method, String, Value); 7] = [
            (Method::POST, "/v1/hooks/ingest".into(), passing(&who.session)),
            (Method::POST, "/v1/hooks/ingest".into(), passing("a-new-session")),
            (
                Method::POST,
                "/v1/hooks/ingest/batch".into(),
                json!({"events": [passing(&who.session), {"not": "an event"}]}),
            ),
            (Method::POST, "/v1/sessions".into(), json!({"sourceService": "cursor"})),
            (Method::PATCH, session_path.clone(), json!({"endedAt": null})),
            (Method::PATCH, session_path.clone(), json!({"endedAt": "2026-04-01T09:00:00Z"})),
            (Method::PATCH, format!("{session_path}/metadata"), json!({"passed": true})),
        ];
        for (method, path, body) in writes {
            let response = app.send_json(method.clone(), &path, Some(credential), &body).await;
            assert_eq!(response.code(), "session_closed", "{method} {path}");
            response.expect(403);
        }
        // Reading is still allowed.
        app.get(&session_path, credential).await.expect(200);
        app.get(&format!("{session_path}/timeline"), credential).await.expect(200);
    }
}

async fn a_completed_record_refuses_every_write_and_keeps_its_completion(backend: TestBackend) {
    let app = TestApp::new(backend);
    let who = candidate(&app).await;
    let complete = json!({"sessionId": who.session});
    let completed = app.post("/v1/candidate/complete", &who.token, &complete).await.expect(200);
    let before = record(&app, &who).await;
    assert_eq!(before["metrics"]["metrics"]["testsPassed"], false);

    every_write_is_refused(&app, &who).await;

    assert_eq!(record(&app, &who).await, before, "nothing was stored");
    let again = app.post("/v1/candidate/complete", &who.key, &complete).await.expect(200);
    assert_eq!(again["completedAt"], completed["completedAt"], "the original completion");
    assert_eq!(record(&app, &who).await, before, "completing again changes nothing");
}

async fn a_hired_record_refuses_every_write(backend: TestBackend) {
    let app = TestApp::new(backend);
    let who = candidate(&app).await;
    let key_path = format!("/v1/assessments/{}/keys/{}", who.assessment, who.key_id);
    app.patch(&key_path, &who.org.key, &json!({"status": "hired"})).await.expect(200);
    let before = record(&app, &who).await;
    assert_eq!(before["session"]["session"]["status"], "active");

    every_write_is_refused(&app, &who).await;

    let complete = json!({"sessionId": who.session});
    let answer = app.post("/v1/candidate/complete", &who.token, &complete).await.expect(200);
    assert_eq!(answer["completedAt"], Value::Null, "hired without ever completing");
    assert_eq!(record(&app, &who).await, before, "nothing was stored, the session not even ended");
}

async fn a_session_cannot_end_before_it_started(backend: TestBackend) {
    let app = TestApp::new(backend);
    let who = candidate(&app).await;
    let path = format!("/v1/sessions/{}", who.session);
    for credential in [&who.org.key, &who.token] {
        let early =
            app.patch(&path, credential, &json!({"endedAt": "2026-04-01T09:59:59.999Z"})).await;
        assert_eq!(early.body["details"][0]["path"], "endedAt");
        assert!(early.body["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2026-04-01T10:00:00.000Z"));
        early.expect(400);
    }
    let at_start =
        app.patch(&path, &who.token, &json!({"endedAt": "2026-04-01T12:00:00+02:00"})).await;
    assert_eq!(at_start.expect(200)["session"]["endedAt"], "2026-04-01T10:00:00.000Z");
}

async fn timestamps_outside_the_range_or_ahead_of_the_clock_are_refused(backend: TestBackend) {
    let app = TestApp::new(backend);
    let who = candidate(&app).await;
    let at = |ts: &str| envelope(&who.session, "prompt", ts, json!({"text": "x"}));
    let format =
        |instant: chrono::DateTime<Utc>| instant.to_rfc3339_opts(SecondsFormat::Secs, true);
    for ts in [
        "1969-12-31T23:59:59Z".to_owned(),
        "1970-01-01T00:30:00+01:00".to_owned(),
        "9999-12-31T23:00:00-02:00".to_owned(),
        format(Utc::now() + Duration::hours(25)),
    ] {
        let response = app.post("/v1/hooks/ingest", &who.token, &at(&ts)).await;
        assert_eq!(response.body["details"][0]["path"], "ts", "{ts}");
        response.expect(400);
    }
    app.post("/v1/hooks/ingest", &who.token, &at(&format(Utc::now() + Duration::hours(23))))
        .await
        .expect(201);
    let batch = json!({"events": [at("1969-01-01T00:00:00Z"), at("2026-04-01T10:05:00Z")]});
    let results = app.post("/v1/hooks/ingest/batch", &who.token, &batch).await.expect(207);
    assert_eq!(results["results"][0]["status"], 400);
    assert!(results["results"][0]["error"].as_str().unwrap().contains("ts"));
    assert_eq!(results["results"][1]["status"], 201);
    let path = format!("/v1/sessions/{}", who.session);
    let far =
        app.patch(&path, &who.org.key, &json!({"endedAt": "9999-12-31T23:00:00-02:00"})).await;
    assert_eq!(far.body["details"][0]["path"], "endedAt");
    far.expect(400);
}

on_both_backends!(
    a_completed_record_refuses_every_write_and_keeps_its_completion,
    a_hired_record_refuses_every_write,
    a_session_cannot_end_before_it_started,
    timestamps_outside_the_range_or_ahead_of_the_clock_are_refused,
);
