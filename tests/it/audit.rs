//! The audit log (spec §10.4): every reviewer's state change recorded with who, when, what and the target, newest
//! first; nothing for candidates' writes or refused changes; other orgs see nothing; entries cannot be changed.

use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend};
use crate::ingest::envelope;

fn actions(page: &Value) -> Vec<String> {
    page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn every_reviewer_change_is_recorded_newest_first(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let keys = app.get("/v1/api-keys", &org.key).await.expect(200);
    let actor_id = keys["apiKeys"][0]["id"].as_str().unwrap().to_owned();
    let actor_name = format!("API key {}…", keys["apiKeys"][0]["prefix"].as_str().unwrap());

    let assessment = app.assessment(&org, json!({})).await;
    let issued = app.keys(&org, &assessment, 2).await;
    let (hired, revoked) = (issued[0]["id"].as_str().unwrap(), issued[1]["id"].as_str().unwrap());
    let key_path = |id: &str| format!("/v1/assessments/{assessment}/keys/{id}");
    let candidate_key = issued[0]["key"].as_str().unwrap();
    let session = app.redeem(candidate_key).await["sessionId"].as_str().unwrap().to_owned();
    // The candidate's own writes are the record, not changes to it: no entries.
    let event = envelope(&session, "prompt", "2026-04-01T10:00:00Z", json!({"text": "hello"}));
    app.post("/v1/hooks/ingest", candidate_key, &event).await.expect(201);
    app.get("/v1/audit", candidate_key).await.expect(403);
    app.patch(&format!("/v1/sessions/{session}/metadata"), candidate_key, &json!({"by": "ada"}))
        .await
        .expect(200);

    app.patch(&key_path(hired), &org.key, &json!({"status": "rejected"})).await.expect(200);
    app.patch(&key_path(hired), &org.key, &json!({"status": "hired"})).await.expect(200);
    app.delete(&key_path(revoked), &org.key).await.expect(200);
    let scores = json!([{"dimension": "code_quality", "score": 4, "notes": "Private remark"}]);
    app.post(&format!("/v1/sessions/{session}/scores"), &org.key, &scores).await.expect(201);
    let other = app.post("/v1/sessions", &org.key, &json!({})).await.expect(201)["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(
        &format!("/v1/sessions/{other}"),
        &org.key,
        &json!({"endedAt": "2099-01-01T00:00:00Z"}),
    )
    .await
    .expect(200);
    app.patch(&format!("/v1/sessions/{other}/metadata"), &org.key, &json!({"reviewed": true}))
        .await
        .expect(200);
    app.delete(&format!("/v1/sessions/{other}"), &org.key).await.expect(200);
    let api_key = app
        .post("/v1/api-keys", &org.key, &json!({"name": "CI", "scopes": ["read"]}))
        .await
        .expect(201);
    let api_key_id = api_key["apiKey"]["id"].as_str().unwrap().to_owned();
    app.delete(&format!("/v1/api-keys/{api_key_id}"), &org.key).await.expect(200);
    let user = app
        .post("/v1/users", &org.key, &json!({"email": "grace@acme.test", "role": "reviewer"}))
        .await
        .expect(201);
    let user_id = user["user"]["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/v1/users/{user_id}"), &org.key, &json!({"disabled": true}))
        .await
        .expect(200);
    app.delete(&format!("/v1/assessments/{assessment}"), &org.key).await.expect(200);
    // Refused changes leave no entry.
    app.delete(&format!("/v1/api-keys/{api_key_id}"), &org.key).await.expect(200);
    app.delete("/v1/api-keys/unknown", &org.key).await.expect(404);
    app.post(&format!("/v1/sessions/{session}/scores"), &org.key, &json!([])).await.expect(400);

    let page = app.get("/v1/audit", &org.key).await.expect(200);
    assert_eq!(
        actions(&page),
        [
            "assessment.deleted",
            "user.updated",
            "user.created",
            "api_key.revoked",
            "api_key.created",
            "session.deleted",
            "session.metadata_merged",
            "session.updated",
            "session.created",
            "scores.recorded",
            "candidate_key.revoked",
            "candidate_key.hired",
            "candidate_key.rejected",
            "candidate_key.issued",
            "candidate_key.issued",
            "assessment.created",
        ]
    );
    assert_eq!(page["hasMore"], false);
    let entries = page["entries"].as_array().unwrap();
    for entry in entries {
        assert_eq!(entry["actor"], json!({"type": "apiKey", "id": actor_id, "name": actor_name}));
        assert!(entry["at"].as_str().unwrap().ends_with('Z'));
    }
    let entry = |action: &str| entries.iter().find(|entry| entry["action"] == action).unwrap();
    assert_eq!(entry("candidate_key.hired")["targetType"], "candidateKey");
    assert_eq!(entry("candidate_key.hired")["targetId"], hired);
    assert_eq!(entry("candidate_key.hired")["details"]["previousStatus"], "rejected");
    assert_eq!(entry("candidate_key.rejected")["details"]["previousStatus"], "active");
    assert_eq!(entry("user.created")["targetId"], user_id.as_str());
    assert_eq!(entry("user.created")["details"], json!({"role": "reviewer"}));
    assert_eq!(entry("user.updated")["details"], json!({"disabled": true, "role": null}));
    assert!(!page.to_string().contains("grace@acme.test"), "no address in the log");
    assert_eq!(entry("scores.recorded")["targetId"], session.as_str());
    assert_eq!(
        entry("scores.recorded")["details"],
        json!({"scores": [{"dimension": "code_quality", "score": 4}]})
    );
    assert!(!page.to_string().contains("Private remark"), "notes stay with the scores");
    assert_eq!(entry("session.deleted")["targetId"], other.as_str());
    assert_eq!(entry("api_key.created")["details"], json!({"name": "CI", "scopes": ["read"]}));
    assert_eq!(entry("assessment.created")["targetId"], assessment.as_str());

    // Pages by cursor add up to the whole log.
    let first = app.get("/v1/audit?limit=5", &org.key).await.expect(200);
    assert_eq!(first["hasMore"], true);
    let last_id = first["entries"][4]["id"].as_str().unwrap();
    let second =
        app.get(&format!("/v1/audit?limit=100&after={last_id}"), &org.key).await.expect(200);
    assert_eq!([actions(&first), actions(&second)].concat(), actions(&page));
    let unknown = app.get("/v1/audit?after=nope", &org.key).await;
    assert_eq!(unknown.code(), "invalid_query");
    unknown.expect(400);

    // Readers may read it; other orgs see none of it (candidates may not read it at all, above).
    let reader = app.api_key(&org, "read");
    assert_eq!(actions(&app.get("/v1/audit", &reader).await.expect(200)).len(), 16);
    let globex = app.org("Globex");
    assert_eq!(app.get("/v1/audit", &globex.key).await.expect(200)["entries"], json!([]));
    app.get(&format!("/v1/audit?after={last_id}"), &globex.key).await.expect(400);
}

async fn entries_can_be_neither_changed_nor_removed(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    app.assessment(&org, json!({})).await;
    for statement in ["UPDATE audit_log SET action = 'assessment.deleted'", "DELETE FROM audit_log"]
    {
        let refused =
            app.db.database.write(move |connection| Ok(connection.batch_execute(statement)?));
        assert!(refused.is_err(), "{statement} must be refused by the database");
    }
    let page = app.get("/v1/audit", &org.key).await.expect(200);
    assert_eq!(actions(&page), ["assessment.created"]);
}

on_both_backends!(
    every_reviewer_change_is_recorded_newest_first,
    entries_can_be_neither_changed_nor_removed,
);
