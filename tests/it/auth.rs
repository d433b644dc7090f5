//! Reviewer authentication and scopes (spec §2): 401 without a valid key, 403 for a read key on a write route.

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::harness::{on_both_backends, TestApp, TestBackend};

async fn requests_without_a_valid_key_get_one_401(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let unknown_key = format!("{}X", org.key); // the right shape, an unknown secret
    let headers: Vec<Option<String>> = vec![
        None,
        Some(String::new()),
        Some("Bearer".to_owned()),
        Some(format!("Basic {}", org.key)),
        Some("Bearer psk_live_short".to_owned()),
        Some("Bearer PST-AAAA-BBBB".to_owned()),
        Some(format!("Bearer {unknown_key}")),
        Some(format!("Bearer {}", org.key.to_uppercase())),
    ];
    let mut bodies = Vec::new();
    for header in headers {
        for (method, path) in [
            (Method::GET, "/v1/sessions"),
            (Method::POST, "/v1/sessions"),
            (Method::DELETE, "/v1/sessions/x"),
        ] {
            let mut request =
                TestRequest::default().method(method.clone()).uri(path).set_payload("{}");
            if let Some(value) = &header {
                request = request.insert_header(("Authorization", value.as_str()));
            }
            let response = app.call(request).await;
            assert_eq!(response.code(), "unauthorized", "{method} {path} with {header:?}");
            bodies.push(response.expect(401));
        }
    }
    // One body for every failure: no hint of which part of the credential was wrong.
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]), "{bodies:?}");
    assert_eq!(
        app.get("/v1/sessions", &org.key).await.expect(200)["total"],
        0,
        "nothing was created"
    );
}

async fn bearer_scheme_is_case_insensitive(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let request = TestRequest::get()
        .uri("/v1/sessions")
        .insert_header(("Authorization", format!("bearer  {}", org.key)));
    app.call(request).await.expect(200);
}

async fn an_empty_authorization_header_does_not_hide_the_candidate_key(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let key = app.keys(&org, &assessment, 1).await[0]["key"].as_str().unwrap().to_owned();
    for empty in ["", "Bearer", "Bearer  "] {
        let request = TestRequest::get()
            .uri("/v1/sessions")
            .insert_header(("Authorization", empty))
            .insert_header(("X-API-Key", key.as_str()));
        app.call(request).await.expect(200);
    }
    // A token in Authorization is the credential, even beside a valid X-API-Key.
    let request = TestRequest::get()
        .uri("/v1/sessions")
        .insert_header(("Authorization", "Bearer psk_live_wrong"))
        .insert_header(("X-API-Key", key.as_str()));
    assert_eq!(app.call(request).await.expect(401)["code"], "unauthorized");
}

async fn read_keys_read_but_never_write(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let read_key = app.api_key(&org, "read");
    let write_key = app.api_key(&org, "write");
    let id = app.post("/v1/sessions", &org.key, &json!({"metadata": {"v": 1}})).await.expect(201)
        ["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/sessions/{id}");

    app.get("/v1/sessions", &read_key).await.expect(200);
    app.get(&path, &read_key).await.expect(200);
    let attempts = [
        app.post("/v1/sessions", &read_key, &json!({})).await,
        app.patch(&path, &read_key, &json!({"endedAt": "2026-01-01T00:00:00Z"})).await,
        app.patch(&format!("{path}/metadata"), &read_key, &json!({"v": 2})).await,
        app.delete(&path, &read_key).await,
    ];
    for response in attempts {
        assert_eq!(response.code(), "forbidden");
        response.expect(403);
    }
    let after = app.get(&path, &org.key).await.expect(200);
    assert_eq!(after["session"]["metadata"], json!({"v": 1}));
    assert_eq!(after["session"]["status"], "active");
    assert_eq!(app.get("/v1/sessions", &org.key).await.expect(200)["total"], 1);

    // A write-only key writes but cannot read.
    app.patch(&format!("{path}/metadata"), &write_key, &json!({"v": 3})).await.expect(200);
    app.get(&path, &write_key).await.expect(403);
}

on_both_backends!(
    requests_without_a_valid_key_get_one_401,
    bearer_scheme_is_case_insensitive,
    an_empty_authorization_header_does_not_hide_the_candidate_key,
    read_keys_read_but_never_write,
);
