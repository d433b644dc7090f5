//! Rate limits per client IP (spec §9): 429 `rate_limited` with `Retry-After` past the limit, and the
//! `x-ratelimit-*` headers on every response, errors included, only while a limit is in force.

use std::net::SocketAddr;

use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use actix_web::test::TestRequest;

use serde_json::json;

use crate::harness::{on_both_backends, TestApp, TestBackend};

const CLIENT: &str = "203.0.113.10:40000";
const OTHER_CLIENT: &str = "203.0.113.11:40000";

fn peer(address: &str) -> SocketAddr {
    address.parse().unwrap()
}

fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name).map(|value| value.to_str().unwrap().parse().unwrap())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A request from `address`, optionally with a bearer key.
fn from(address: &str, method: Method, path: &str, key: Option<&str>) -> TestRequest {
    let request = TestRequest::default().method(method).uri(path).peer_addr(peer(address));
    match key {
        Some(key) => request.insert_header(("Authorization", format!("Bearer {key}"))),
        None => request,
    }
}

async fn the_request_after_the_limit_is_429_with_retry_after(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.ip_rate_per_min = 5);
    let org = app.org("Acme");
    let started = unix_now();
    let mut resets = Vec::new();
    for expected_remaining in (0..5).rev() {
        let response = app.call(from(CLIENT, Method::GET, "/v1/sessions", Some(&org.key))).await;
        assert_eq!(number(&response.headers, "x-ratelimit-limit"), Some(5));
        assert_eq!(number(&response.headers, "x-ratelimit-remaining"), Some(expected_remaining));
        resets.push(number(&response.headers, "x-ratelimit-reset").unwrap());
        assert!(!response.headers.contains_key("retry-after"));
        response.expect(200);
    }
    assert!(resets.windows(2).all(|pair| pair[0] == pair[1]), "one window: {resets:?}");
    assert!(
        (started + 60..=unix_now() + 61).contains(&resets[0]),
        "reset {} vs now {started}",
        resets[0]
    );

    let refused = app.call(from(CLIENT, Method::GET, "/v1/sessions", Some(&org.key))).await;
    assert_eq!(refused.code(), "rate_limited");
    let retry_after = number(&refused.headers, "retry-after").expect("Retry-After on a 429");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(number(&refused.headers, "x-ratelimit-limit"), Some(5));
    assert_eq!(number(&refused.headers, "x-ratelimit-remaining"), Some(0));
    assert_eq!(number(&refused.headers, "x-ratelimit-reset"), Some(resets[0]));
    let body = refused.expect(429);
    assert_eq!(body.as_object().unwrap().len(), 2, "exactly error and code: {body}");

    let unauthenticated = app.call(from(CLIENT, Method::GET, "/v1/nope", None)).await;
    assert_eq!(unauthenticated.code(), "rate_limited", "refused before routing and authentication");
    unauthenticated.expect(429);

    let other = app.call(from(OTHER_CLIENT, Method::GET, "/v1/sessions", Some(&org.key))).await;
    assert_eq!(
        number(&other.headers, "x-ratelimit-remaining"),
        Some(4),
        "each IP has its own budget"
    );
    other.expect(200);
}

async fn errors_carry_the_headers_and_count_too(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.ip_rate_per_min = 6);
    let org = app.org("Acme");
    let requests = [
        (from(CLIENT, Method::GET, "/v1/nope", None), 404),
        (from(CLIENT, Method::GET, "/v1/sessions", None), 401),
        (from(CLIENT, Method::GET, "/v1/sessions", Some("psk_live_not_a_real_key")), 401),
        (from(CLIENT, Method::PUT, "/v1/sessions", Some(&org.key)), 405),
        (
            from(
                CLIENT,
                Method::GET,
                "/v1/sessions/00000000-0000-4000-8000-000000000000",
                Some(&org.key),
            ),
            404,
        ),
        (from(CLIENT, Method::GET, "/v1/health", None), 200),
    ];
    for (sent, (request, status)) in requests.into_iter().enumerate() {
        let response = app.call(request).await;
        assert_eq!(number(&response.headers, "x-ratelimit-limit"), Some(6), "request {sent}");
        assert_eq!(number(&response.headers, "x-ratelimit-remaining"), Some(5 - sent as u64));
        assert!(response.headers.contains_key("x-ratelimit-reset"));
        response.expect(status);
    }
    app.call(from(CLIENT, Method::GET, "/v1/health", None)).await.expect(429);
}

async fn limits_set_to_zero_refuse_nothing_and_send_no_headers(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| {
        settings.ip_rate_per_min = 0;
        settings.ingest_rate_per_min = 0;
    });
    let org = app.org("Acme");
    for _ in 0..40 {
        let response = app.call(from(CLIENT, Method::GET, "/v1/sessions", Some(&org.key))).await;
        assert!(
            !response.headers.keys().any(|name| name.as_str().starts_with("x-ratelimit")),
            "{:?}",
            response.headers
        );
        response.expect(200);
    }
    let missing = app.call(from(CLIENT, Method::GET, "/v1/nope", None)).await;
    assert!(!missing.headers.contains_key("x-ratelimit-limit"));
    missing.expect(404);
}

async fn the_default_ip_limit_is_300_a_minute(backend: TestBackend) {
    let app = TestApp::new(backend);
    let response = app.call(from(CLIENT, Method::GET, "/v1/health", None)).await;
    assert_eq!(number(&response.headers, "x-ratelimit-limit"), Some(300));
    assert_eq!(number(&response.headers, "x-ratelimit-remaining"), Some(299));
    response.expect(200);
}

/// The spec's default: 100 events a minute per credential, a batch costing its events.
async fn the_101st_ingested_event_of_a_minute_is_429(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = crate::ingest::candidate(&app).await;
    for n in 0..100u64 {
        let event = crate::ingest::envelope(
            "limited",
            "checkpoint",
            "2026-04-01T10:00:00Z",
            json!({"label": n.to_string()}),
        );
        let response = app.post("/v1/hooks/ingest", &key, &event).await;
        assert_eq!(number(&response.headers, "x-ratelimit-limit"), Some(100));
        assert_eq!(number(&response.headers, "x-ratelimit-remaining"), Some(99 - n));
        response.expect(201);
    }
    let refused = app
        .post(
            "/v1/hooks/ingest",
            &key,
            &crate::ingest::envelope("limited", "checkpoint", "2026-04-01T10:00:00Z", json!({})),
        )
        .await;
    assert_eq!(refused.code(), "rate_limited");
    let retry_after = number(&refused.headers, "retry-after").unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(number(&refused.headers, "x-ratelimit-remaining"), Some(0));
    refused.expect(429);
    let batch = json!({"events": [crate::ingest::envelope("limited", "checkpoint", "2026-04-01T10:00:00Z", json!({}))]});
    app.post("/v1/hooks/ingest/batch", &key, &batch).await.expect(429);
    assert_eq!(
        app.get("/v1/sessions/limited", &org.key).await.expect(200)["session"]["eventCount"],
        100
    );

    // Another candidate has a budget of its own; a batch larger than what is left is refused whole.
    let assessment = app.get("/v1/assessments", &org.key).await.expect(200)["assessments"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.keys(&org, &assessment, 1).await[0]["key"].as_str().unwrap().to_owned();
    let ninety: Vec<_> = (0..90)
        .map(|_| crate::ingest::envelope("other", "checkpoint", "2026-04-01T10:00:00Z", json!({})))
        .collect();
    app.post("/v1/hooks/ingest/batch", &other, &json!({"events": ninety})).await.expect(207);
    let eleven: Vec<_> = (0..11)
        .map(|_| crate::ingest::envelope("other", "checkpoint", "2026-04-01T10:00:00Z", json!({})))
        .collect();
    app.post("/v1/hooks/ingest/batch", &other, &json!({"events": eleven})).await.expect(429);
    assert_eq!(
        app.get("/v1/sessions/other", &org.key).await.expect(200)["session"]["eventCount"],
        90
    );
}

async fn creating_sessions_spends_the_candidates_ingest_budget(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| {
        settings.ip_rate_per_min = 0;
        settings.ingest_rate_per_min = 3;
    });
    let (org, key) = crate::ingest::candidate(&app).await;
    let event = crate::ingest::envelope("s0", "checkpoint", "2026-04-01T10:00:00Z", json!({}));
    let first = app.post("/v1/hooks/ingest", &key, &event).await;
    assert_eq!(number(&first.headers, "x-ratelimit-remaining"), Some(2));
    first.expect(201);
    let (s1, s2) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
    let second = app.post("/v1/sessions", &key, &json!({"id": s1})).await;
    assert_eq!(number(&second.headers, "x-ratelimit-limit"), Some(3));
    assert_eq!(number(&second.headers, "x-ratelimit-remaining"), Some(1));
    second.expect(201);
    let bad = app.post("/v1/sessions", &key, &json!({"id": 7})).await;
    assert_eq!(number(&bad.headers, "x-ratelimit-remaining"), Some(0), "a refused body costs too");
    bad.expect(400);
    let refused = app.post("/v1/sessions", &key, &json!({"id": s2})).await;
    assert_eq!(refused.code(), "rate_limited");
    assert!(number(&refused.headers, "retry-after").is_some());
    refused.expect(429);
    let late = crate::ingest::envelope("s0", "checkpoint", "2026-04-01T10:01:00Z", json!({}));
    app.post("/v1/hooks/ingest", &key, &late).await.expect(429);
    app.get(&format!("/v1/sessions/{s2}"), &org.key).await.expect(404);
    // A reviewer's key has no ingest budget: creating sessions spends nothing and is never refused by it.
    for _ in 0..5 {
        let created = app.post("/v1/sessions", &org.key, &json!({})).await;
        assert!(!created.headers.contains_key("x-ratelimit-limit"));
        created.expect(201);
    }
}

on_both_backends!(
    creating_sessions_spends_the_candidates_ingest_budget,
    the_101st_ingested_event_of_a_minute_is_429,
    the_request_after_the_limit_is_429_with_retry_after,
    errors_carry_the_headers_and_count_too,
    limits_set_to_zero_refuse_nothing_and_send_no_headers,
    the_default_ip_limit_is_300_a_minute,
);
