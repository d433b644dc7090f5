//! Candidate keys over HTTP (spec §8): issue, list, every status transition, redeem, complete, hire, revoke,
//! expiry, and the org-wide candidate list.

use actix_web::http::Method;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend};

fn is_candidate_key(text: &str) -> bool {
    const ALPHABET: &str = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = text.as_bytes();
    text.len() == 13
        && text.starts_with("PST-")
        && bytes[8] == b'-'
        && text[4..8].chars().chain(text[9..].chars()).all(|c| ALPHABET.contains(c))
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap().with_timezone(&Utc)
}

async fn status_of(
    app: &TestApp,
    org: &crate::harness::TestOrg,
    assessment: &str,
    key_id: &str,
) -> Value {
    let keys = app.get(&format!("/v1/assessments/{assessment}/keys"), &org.key).await.expect(200);
    keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == key_id)
        .cloned()
        .unwrap_or(Value::Null)
}

async fn keys_are_issued_for_named_candidates(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({"expiresInDays": 3})).await;
    let body = json!({"count": 3, "candidateNames": ["Ada", "Linus"], "candidateEmails": ["ada@example.com"]});
    let created =
        app.post(&format!("/v1/assessments/{assessment}/keys"), &org.key, &body).await.expect(201);
    let keys = created["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3);
    for key in keys {
        assert!(is_candidate_key(key["key"].as_str().unwrap()), "{key}");
        assert_eq!(key["status"], "pending");
        assert_eq!(key["assessmentId"], assessment.as_str());
        assert_eq!(
            (key["sessionId"].clone(), key["redeemedAt"].clone(), key["completedAt"].clone()),
            (Value::Null, Value::Null, Value::Null)
        );
        assert_eq!(time(&key["expiresAt"]) - time(&key["createdAt"]), Duration::days(3));
    }
    assert_eq!(
        (keys[0]["candidateName"].clone(), keys[0]["candidateEmail"].clone()),
        (json!("Ada"), json!("ada@example.com"))
    );
    assert_eq!(
        (keys[1]["candidateName"].clone(), keys[1]["candidateEmail"].clone()),
        (json!("Linus"), Value::Null)
    );
    assert_eq!(keys[2]["candidateName"], Value::Null);
    let distinct: std::collections::HashSet<&str> =
        keys.iter().map(|k| k["key"].as_str().unwrap()).collect();
    assert_eq!(distinct.len(), 3);

    let listed = app.get(&format!("/v1/assessments/{assessment}/keys"), &org.key).await.expect(200);
    assert_eq!(listed["keys"], created["keys"]);

    let candidates = app.get("/v1/candidates?limit=2", &org.key).await.expect(200);
    assert_eq!(
        (candidates["total"].clone(), candidates["limit"].clone(), candidates["offset"].clone()),
        (json!(3), json!(2), json!(0))
    );
    assert_eq!(candidates["candidates"].as_array().unwrap().len(), 2);
    assert!(candidates["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["assessmentTitle"] == "Rate limiter"));
    let clamped = app.get("/v1/candidates?limit=500", &org.key).await.expect(200);
    assert_eq!(clamped["limit"], 200);
    assert_eq!(app.get("/v1/candidates", &org.key).await.expect(200)["limit"], 50);
    app.get("/v1/candidates?limit=x", &org.key).await.expect(400);
}

async fn bad_key_requests_are_refused(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let other = app.org("Globex");
    let assessment = app.assessment(&org, json!({})).await;
    let path = format!("/v1/assessments/{assessment}/keys");
    for body in [
        json!({}),
        json!({"count": 0}),
        json!({"count": 51}),
        json!({"count": 1, "candidateNames": ["a", "b"]}),
    ] {
        let response = app.post(&path, &org.key, &body).await;
        assert_eq!(response.code(), "invalid_body", "{body}");
        response.expect(400);
    }
    app.post(&path, &other.key, &json!({"count": 1})).await.expect(404);
    app.get(&path, &other.key).await.expect(404);
    app.post("/v1/assessments/nope/keys", &org.key, &json!({"count": 1})).await.expect(404);
    let mut issued = Vec::new();
    for _ in 0..10 {
        issued.extend(app.keys(&org, &assessment, 50).await);
    }
    let response = app.post(&path, &org.key, &json!({"count": 1})).await;
    assert_eq!(response.code(), "conflict", "500 live keys is the ceiling");
    response.expect(409);
    assert_eq!(app.get("/v1/candidates?limit=1", &org.key).await.expect(200)["total"], 500);
    // A completed key is history, not capacity: it makes room for one more.
    let done = issued[0]["key"].as_str().unwrap();
    let session = app.redeem(done).await["sessionId"].clone();
    app.post("/v1/candidate/complete", done, &json!({"sessionId": session})).await.expect(200);
    app.post(&path, &org.key, &json!({"count": 1})).await.expect(201);
    app.post(&path, &org.key, &json!({"count": 1})).await.expect(409);
}

async fn a_key_goes_from_pending_to_completed_to_hired(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let assessment = app
        .assessment(
            &org,
            json!({"repoUrl": "https://github.com/acme/task", "timeLimitMinutes": 60}),
        )
        .await;
    let issued = app.keys(&org, &assessment, 1).await.remove(0);
    let (key, key_id) =
        (issued["key"].as_str().unwrap().to_owned(), issued["id"].as_str().unwrap().to_owned());

    // Redeeming with the key in lower case: keys are matched case-insensitively.
    let body =
        json!({"key": key.to_lowercase(), "candidateName": "Grace"}).to_string().into_bytes();
    let redeemed =
        app.send(Method::POST, "/v1/candidate/redeem", None, Some(body)).await.expect(200);
    assert_eq!(redeemed["assessmentId"], assessment.as_str());
    assert_eq!(redeemed["assessmentTitle"], "Rate limiter");
    assert_eq!(redeemed["taskBrief"], "Build it");
    assert_eq!(redeemed["repoUrl"], "https://github.com/acme/task");
    assert_eq!(redeemed["timeLimitMinutes"], 60);
    assert_eq!(redeemed["allowedTools"], Value::Null);
    assert_eq!(redeemed["expiresAt"], issued["expiresAt"]);
    let token = redeemed["sessionToken"].as_str().unwrap().to_owned();
    assert!(token.starts_with("pst_sess_"));
    let session_id = redeemed["sessionId"].as_str().unwrap().to_owned();

    let active = status_of(&app, &org, &assessment, &key_id).await;
    assert_eq!(active["status"], "active");
    assert_eq!(active["sessionId"], session_id.as_str());
    assert_eq!(active["candidateName"], "Grace");
    assert!(active["redeemedAt"].is_string());
    let session = app.get(&format!("/v1/sessions/{session_id}"), &org.key).await.expect(200);
    assert_eq!(session["session"]["assessmentId"], assessment.as_str());

    // Redeeming an active key again: the same session, a new token; both tokens and the key authenticate.
    let again = app.redeem(&key).await;
    assert_eq!(again["sessionId"], session_id.as_str());
    assert_ne!(again["sessionToken"], token.as_str());
    for credential in [key.as_str(), token.as_str(), again["sessionToken"].as_str().unwrap()] {
        app.get(&format!("/v1/sessions/{session_id}"), credential).await.expect(200);
    }

    let completed = app
        .post("/v1/candidate/complete", &token, &json!({"sessionId": session_id}))
        .await
        .expect(200);
    assert_eq!(completed["ok"], true);
    let completed_at = completed["completedAt"].clone();
    assert!(completed_at.is_string());
    let done = status_of(&app, &org, &assessment, &key_id).await;
    assert_eq!(
        (done["status"].clone(), done["completedAt"].clone()),
        (json!("completed"), completed_at.clone())
    );
    let session = app.get(&format!("/v1/sessions/{session_id}"), &org.key).await.expect(200);
    assert_eq!(session["session"]["status"], "ended");
    assert_eq!(session["session"]["endedAt"], completed_at);
    // Completing twice keeps the first completion; a completed key cannot be redeemed.
    let twice = app
        .post("/v1/candidate/complete", &key, &json!({"sessionId": session_id}))
        .await
        .expect(200);
    assert_eq!(twice["completedAt"], completed_at);
    let body = json!({"key": key}).to_string().into_bytes();
    assert_eq!(
        app.send(Method::POST, "/v1/candidate/redeem", None, Some(body)).await.expect(409)["code"],
        "conflict"
    );

    let path = format!("/v1/assessments/{assessment}/keys/{key_id}");
    app.patch(&path, &org.key, &json!({"status": "active"})).await.expect(400);
    let hired = app.patch(&path, &org.key, &json!({"status": "hired"})).await.expect(200);
    assert_eq!(hired["key"]["status"], "hired");
    assert_eq!(status_of(&app, &org, &assessment, &key_id).await["status"], "hired");
}

async fn keys_past_their_expiry_read_as_expired_and_stop_working(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let keys = app.keys(&org, &assessment, 3).await;
    let pending = keys[0]["key"].as_str().unwrap().to_owned();
    let active = keys[1]["key"].as_str().unwrap().to_owned();
    let completed = keys[2]["key"].as_str().unwrap().to_owned();
    let token = app.redeem(&active).await["sessionToken"].as_str().unwrap().to_owned();
    let done = app.redeem(&completed).await;
    app.post("/v1/candidate/complete", &completed, &json!({"sessionId": done["sessionId"]}))
        .await
        .expect(200);

    // Move every key's expiry into the past rather than waiting a day.
    app.execute_sql("UPDATE candidate_keys SET expires_at = '2020-01-01 00:00:00'");
    let listed = app.get(&format!("/v1/assessments/{assessment}/keys"), &org.key).await.expect(200);
    let statuses: Vec<&str> =
        listed["keys"].as_array().unwrap().iter().map(|k| k["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["expired", "expired", "completed"]);
    for credential in [pending.as_str(), active.as_str(), token.as_str(), completed.as_str()] {
        assert_eq!(app.get("/v1/sessions", credential).await.expect(401)["code"], "unauthorized");
    }
    for key in [&pending, &active] {
        let body = json!({"key": key}).to_string().into_bytes();
        app.send(Method::POST, "/v1/candidate/redeem", None, Some(body)).await.expect(401);
    }
}

async fn revoked_keys_disappear_and_stop_working(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let other = app.org("Globex");
    let assessment = app.assessment(&org, json!({})).await;
    let issued = app.keys(&org, &assessment, 2).await;
    let (key, key_id) = (
        issued[0]["key"].as_str().unwrap().to_owned(),
        issued[0]["id"].as_str().unwrap().to_owned(),
    );
    let token = app.redeem(&key).await["sessionToken"].as_str().unwrap().to_owned();
    // Both credentials authenticate (and so sit in the credential cache) before the revocation.
    app.get("/v1/sessions", &key).await.expect(200);
    app.get("/v1/sessions", &token).await.expect(200);
    let path = format!("/v1/assessments/{assessment}/keys/{key_id}");
    app.delete(&path, &other.key).await.expect(404);
    app.delete(&path, &app.api_key(&org, "read")).await.expect(403);
    assert_eq!(app.delete(&path, &org.key).await.expect(200), json!({"ok": true, "id": key_id}));
    app.delete(&path, &org.key).await.expect(404);
    let listed = app.get(&format!("/v1/assessments/{assessment}/keys"), &org.key).await.expect(200);
    assert_eq!(listed["keys"].as_array().unwrap().len(), 1);
    app.get("/v1/sessions", &key).await.expect(401);
    app.get("/v1/sessions", &token).await.expect(401);
    let body = json!({"key": key}).to_string().into_bytes();
    app.send(Method::POST, "/v1/candidate/redeem", None, Some(body)).await.expect(401);
}

async fn redeem_refuses_what_is_not_a_live_key(backend: TestBackend) {
    let app = TestApp::new(backend);
    for body in [json!({"key": "PST-AAAA-BBBB"}), json!({"key": "not a key"}), json!({"key": ""})] {
        let response = app
            .send(Method::POST, "/v1/candidate/redeem", None, Some(body.to_string().into_bytes()))
            .await;
        assert_eq!(response.code(), "unauthorized", "{body}");
        response.expect(401);
    }
    for body in [json!({}), json!({"key": 5}), json!([])] {
        let response = app
            .send(Method::POST, "/v1/candidate/redeem", None, Some(body.to_string().into_bytes()))
            .await;
        assert_eq!(response.code(), "invalid_body", "{body}");
        response.expect(400);
    }
}

on_both_backends!(
    keys_are_issued_for_named_candidates,
    bad_key_requests_are_refused,
    a_key_goes_from_pending_to_completed_to_hired,
    keys_past_their_expiry_read_as_expired_and_stop_working,
    revoked_keys_disappear_and_stop_working,
    redeem_refuses_what_is_not_a_live_key,
);
