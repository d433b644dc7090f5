//! Assessments over HTTP (spec §8): create with validation, list, read, soft delete that retires keys.

use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend};

async fn assessments_are_created_listed_read_and_soft_deleted(backend: TestBackend) {
    let app = TestApp::new(backend);
    let acme = app.org("Acme");
    let globex = app.org("Globex");
    let body = json!({
        "title": "Rate limiter", "role": "Backend engineer", "taskBrief": "Add a token bucket",
        "repoUrl": "https://github.com/acme/limiter", "timeLimitMinutes": 90, "allowedTools": ["claude", "cursor"]
    });
    let created =
        app.post("/v1/assessments", &acme.key, &body).await.expect(201)["assessment"].clone();
    assert_eq!(created["title"], "Rate limiter");
    assert_eq!(created["role"], "Backend engineer");
    assert_eq!(created["taskBrief"], "Add a token bucket");
    assert_eq!(created["repoUrl"], "https://github.com/acme/limiter");
    assert_eq!(created["timeLimitMinutes"], 90);
    assert_eq!(created["expiresInDays"], 7, "the default");
    assert_eq!(created["allowedTools"], json!(["claude", "cursor"]));
    assert_eq!(created["orgId"], acme.id.as_str());
    let id = created["id"].as_str().unwrap().to_owned();
    let second = app.assessment(&acme, json!({"title": "Second"})).await;
    app.assessment(&globex, json!({})).await;

    let listed = app.get("/v1/assessments", &acme.key).await.expect(200);
    let ids: Vec<&str> = listed["assessments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str(), second.as_str()], "creation order, own org only");
    assert_eq!(
        app.get(&format!("/v1/assessments/{id}"), &acme.key).await.expect(200)["assessment"],
        created
    );
    app.get(&format!("/v1/assessments/{id}"), &globex.key).await.expect(404);
    app.delete(&format!("/v1/assessments/{id}"), &globex.key).await.expect(404);

    let key = app.keys(&acme, &id, 1).await[0]["key"].as_str().unwrap().to_owned();
    let redeemed = app.redeem(&key).await;
    let token = redeemed["sessionToken"].as_str().unwrap().to_owned();
    let session_path = format!("/v1/sessions/{}", redeemed["sessionId"].as_str().unwrap());
    app.get(&session_path, &key).await.expect(200);
    app.get(&session_path, &token).await.expect(200);

    assert_eq!(
        app.delete(&format!("/v1/assessments/{id}"), &acme.key).await.expect(200),
        json!({"ok": true, "id": id})
    );
    app.get(&format!("/v1/assessments/{id}"), &acme.key).await.expect(404);
    app.delete(&format!("/v1/assessments/{id}"), &acme.key).await.expect(404);
    let listed = app.get("/v1/assessments", &acme.key).await.expect(200);
    assert_eq!(listed["assessments"].as_array().unwrap().len(), 1);
    // Its keys are retired: neither the key nor its token authenticates, and it cannot be redeemed.
    app.get(&session_path, &key).await.expect(401);
    app.get(&session_path, &token).await.expect(401);
    let body = json!({"key": key}).to_string().into_bytes();
    app.send(actix_web::http::Method::POST, "/v1/candidate/redeem", None, Some(body))
        .await
        .expect(401);
    // The session itself stays with the org.
    app.get(&session_path, &acme.key).await.expect(200);
}

async fn invalid_assessments_are_400_with_details(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let response = app
        .post(
            "/v1/assessments",
            &org.key,
            &json!({"title": "", "repoUrl": "nope", "expiresInDays": 0, "allowedTools": ["vim"]}),
        )
        .await;
    assert_eq!(response.code(), "invalid_body");
    let body = response.expect(400);
    let paths: Vec<&str> =
        body["details"].as_array().unwrap().iter().map(|d| d["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["title", "role", "taskBrief", "repoUrl", "expiresInDays", "allowedTools.0"]);
    assert_eq!(app.get("/v1/assessments", &org.key).await.expect(200)["assessments"], json!([]));
}

async fn only_writing_reviewers_create_and_delete(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let read_key = app.api_key(&org, "read");
    let id = app.assessment(&org, json!({})).await;
    let other = app.assessment(&org, json!({"title": "Other"})).await;
    let body = json!({"title": "T", "role": "R", "taskBrief": "B"});
    assert_eq!(
        app.post("/v1/assessments", &read_key, &body).await.expect(403)["code"],
        "forbidden"
    );
    app.delete(&format!("/v1/assessments/{id}"), &read_key).await.expect(403);
    app.get(&format!("/v1/assessments/{id}"), &read_key).await.expect(200);

    let key = app.keys(&org, &id, 1).await[0]["key"].as_str().unwrap().to_owned();
    assert_eq!(app.post("/v1/assessments", &key, &body).await.expect(403)["code"], "forbidden");
    app.get("/v1/assessments", &key).await.expect(403);
    app.delete(&format!("/v1/assessments/{id}"), &key).await.expect(403);
    // A candidate reads its own assessment, and no other.
    let own: Value = app.get(&format!("/v1/assessments/{id}"), &key).await.expect(200);
    assert_eq!(own["assessment"]["id"], id.as_str());
    app.get(&format!("/v1/assessments/{other}"), &key).await.expect(404);
}

on_both_backends!(
    assessments_are_created_listed_read_and_soft_deleted,
    invalid_assessments_are_400_with_details,
    only_writing_reviewers_create_and_delete,
);
