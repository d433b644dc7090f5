//! The error model of spec §1 for failures outside the handlers: unknown routes, wrong methods, oversized bodies,
//! and health.

use actix_web::http::Method;
use serde_json::json;

use crate::harness::{on_both_backends, TestApp, TestBackend};

async fn unknown_routes_and_methods_answer_json(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    for path in ["/v1", "/v1/nope", "/v1/sessions/a/b/c"] {
        let response = app.get(path, &org.key).await;
        assert_eq!(response.code(), "not_found", "{path}");
        response.expect(404);
    }
    // Outside the API, paths belong to the web UI, which answers with a page.
    for path in ["/v2/sessions", "/nope"] {
        let page = app.page(path, None).await;
        assert_eq!(page.status.as_u16(), 404, "{path}");
        assert!(
            page.header("content-type").is_some_and(|value| value.starts_with("text/html")),
            "{path}"
        );
    }
    let unauthenticated = app.send(Method::GET, "/v1/nope", None, None).await;
    assert_eq!(unauthenticated.code(), "not_found");
    for (method, path) in [
        (Method::PUT, "/v1/sessions"),
        (Method::DELETE, "/v1/sessions"),
        (Method::POST, "/v1/sessions/x"),
        (Method::POST, "/v1/health"),
    ] {
        let response = app.send(method.clone(), path, Some(&org.key), Some(b"{}".to_vec())).await;
        assert_eq!(response.code(), "method_not_allowed", "{method} {path}");
        assert!(response.headers.contains_key("allow"), "{method} {path} lacks Allow");
        response.expect(405);
    }
}

async fn bodies_over_the_limit_are_413_and_store_nothing(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let padding = "x".repeat(1024 * 1024);
    let body = json!({"metadata": {"padding": padding}}).to_string().into_bytes();
    let response = app.send(Method::POST, "/v1/sessions", Some(&org.key), Some(body)).await;
    assert_eq!(response.code(), "payload_too_large");
    response.expect(413);
    assert_eq!(app.get("/v1/sessions", &org.key).await.expect(200)["total"], 0);

    let just_under =
        json!({"metadata": {"padding": "x".repeat(1024 * 1024 - 100)}}).to_string().into_bytes();
    app.send(Method::POST, "/v1/sessions", Some(&org.key), Some(just_under)).await.expect(201);
}

async fn body_limit_is_configurable(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.body_limit_bytes = 64);
    let org = app.org("Acme");
    let body = json!({"metadata": {"padding": "x".repeat(100)}});
    let response = app.post("/v1/sessions", &org.key, &body).await;
    assert_eq!(response.code(), "payload_too_large");
    response.expect(413);
    app.post("/v1/sessions", &org.key, &json!({})).await.expect(201);
}

async fn health_answers_once_the_database_does(backend: TestBackend) {
    let app = TestApp::new(backend);
    let response = app.send(Method::GET, "/v1/health", None, None).await;
    assert_eq!(response.expect(200), json!({"ok": true}));
}

async fn health_is_503_when_the_database_is_unreachable(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| {
        settings.database_url = match backend {
            TestBackend::Sqlite => {
                traceline_storage::DatabaseUrl::Sqlite { path: "/nonexistent-dir/x/t.db".into() }
            }
            // Port 1 on loopback: nothing listens there, so the connection is refused at once.
            TestBackend::Postgres => traceline_storage::DatabaseUrl::Postgres {
                url: "postgres://postgres@127.0.0.1:1/none".into(),
            },
        };
        settings.pool.connection_timeout = std::time::Duration::from_millis(300);
    });
    let response = app.send(Method::GET, "/v1/health", None, None).await;
    assert_eq!(response.code(), "service_unavailable");
    let body = response.expect(503);
    assert!(!body.to_string().contains("127.0.0.1"), "no internals in the body: {body}");
}

/// PostgreSQL stores NUL in neither text nor jsonb; every input path refuses it with a 400 on both backends, rather
/// than failing in the database (found by schemathesis as a 500 on a timeline cursor).
async fn nul_characters_are_refused_wherever_they_come_in(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = crate::ingest::candidate(&app).await;
    let session = app.post("/v1/sessions", &org.key, &json!({})).await.expect(201)["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        "/v1/sessions/abc%00def".to_owned(),
        format!("/v1/sessions/{session}/timeline?after=%00"),
        format!("/v1/sessions/{session}/timeline?limit=5&after=x%00y"),
    ] {
        assert_eq!(app.get(&path, &org.key).await.expect(400)["code"], "invalid_query", "{path}");
    }
    // A cursor that is no UUID names no event, without a query reaching the database.
    let refused = app.get(&format!("/v1/sessions/{session}/timeline?after=nope"), &org.key).await;
    assert_eq!(refused.expect(400)["details"][0]["path"], "after");

    let refused = app
        .post("/v1/sessions", &org.key, &json!({"metadata": {"note": "a\u{0}b"}}))
        .await
        .expect(400);
    assert_eq!(refused["details"][0]["path"], "metadata.note");
    let mut poisoned =
        crate::ingest::envelope("nul", "prompt", "2026-04-01T10:00:00Z", json!({"text": "x\u{0}"}));
    app.post("/v1/hooks/ingest", &key, &poisoned).await.expect(400);
    let clean =
        crate::ingest::envelope("nul", "prompt", "2026-04-01T10:00:00Z", json!({"text": "x"}));
    poisoned["id"] = json!(uuid::Uuid::new_v4().to_string());
    let batch = app
        .post("/v1/hooks/ingest/batch", &key, &json!({"events": [poisoned, clean]}))
        .await
        .expect(207);
    assert_eq!(batch["results"][0]["status"], 400, "{batch}");
    assert_eq!(batch["results"][1]["status"], 201, "each event is judged alone: {batch}");
}

on_both_backends!(
    nul_characters_are_refused_wherever_they_come_in,
    unknown_routes_and_methods_answer_json,
    bodies_over_the_limit_are_413_and_store_nothing,
    body_limit_is_configurable,
    health_answers_once_the_database_does,
    health_is_503_when_the_database_is_unreachable,
);
