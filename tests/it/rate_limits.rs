//! Rate limits per client IP (spec §9): 429 `rate_limited` with `Retry-After` past the limit, and the
//! `x-ratelimit-*` headers on every response, errors included, only while a limit is in force.

use std::net::SocketAddr;

use actix_web::http::header::HeaderMap;
use actix_web::http::Method;
use actix_web::test::TestRequest;

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

on_both_backends!(
    the_request_after_the_limit_is_429_with_retry_after,
    errors_carry_the_headers_and_count_too,
    limits_set_to_zero_refuse_nothing_and_send_no_headers,
    the_default_ip_limit_is_300_a_minute,
);
