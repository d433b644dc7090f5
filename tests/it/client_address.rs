//! The client address behind a reverse proxy (`TRACELINE_TRUSTED_PROXIES`): forwarding headers are believed from
//! trusted peers only, and the per-address rate limit counts the address they name.

use std::net::SocketAddr;

use actix_web::http::Method;
use actix_web::test::TestRequest;

use crate::harness::{on_both_backends, TestApp, TestBackend};

const PROXY: &str = "10.0.0.2:41000";
const OTHER_PROXY: &str = "10.0.0.3:41000";
const DIRECT: &str = "198.51.100.20:40000";

/// A health check from `peer` with extra headers; the response's remaining IP budget.
async fn remaining(app: &TestApp, peer: &str, headers: &[(&str, &str)]) -> (u16, Option<u64>) {
    let mut request = TestRequest::default()
        .method(Method::GET)
        .uri("/v1/health")
        .peer_addr(peer.parse::<SocketAddr>().unwrap());
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    let response = app.call(request).await;
    let remaining = response
        .headers
        .get("x-ratelimit-remaining")
        .map(|value| value.to_str().unwrap().parse().unwrap());
    (response.status.as_u16(), remaining)
}

fn behind_proxy(backend: TestBackend, limit: u32) -> TestApp {
    TestApp::with_settings(backend, |settings| {
        settings.ip_rate_per_min = limit;
        settings.trusted_proxies = "10.0.0.2, 10.0.1.0/24".parse().unwrap();
    })
}

async fn clients_behind_a_trusted_proxy_have_budgets_of_their_own(backend: TestBackend) {
    let app = behind_proxy(backend, 3);
    for expected in [2, 1, 0] {
        assert_eq!(
            remaining(&app, PROXY, &[("X-Forwarded-For", "203.0.113.7")]).await,
            (200, Some(expected))
        );
    }
    assert_eq!(remaining(&app, PROXY, &[("X-Forwarded-For", "203.0.113.7")]).await, (429, Some(0)));
    // Another client behind the same proxy, by either header; and the first one through a second proxy hop.
    assert_eq!(remaining(&app, PROXY, &[("X-Forwarded-For", "203.0.113.8")]).await, (200, Some(2)));
    assert_eq!(
        remaining(&app, PROXY, &[("Forwarded", "for=203.0.113.8;proto=https")]).await,
        (200, Some(1))
    );
    let chained = [("X-Forwarded-For", "203.0.113.7, 10.0.1.9")];
    assert_eq!(
        remaining(&app, PROXY, &chained).await.0,
        429,
        "10.0.1.9 is a trusted hop, not the client"
    );
    // A client-written entry left of the proxy's own is not believed: still 203.0.113.7, still refused.
    let spoofed = [("X-Forwarded-For", "192.0.2.99, 203.0.113.7")];
    assert_eq!(remaining(&app, PROXY, &spoofed).await.0, 429);
    // The proxy's own requests (no header) count as the proxy.
    assert_eq!(remaining(&app, PROXY, &[]).await, (200, Some(2)));
}

async fn forwarding_headers_from_an_untrusted_peer_change_nothing(backend: TestBackend) {
    let app = behind_proxy(backend, 3);
    for (sent, forged) in ["203.0.113.7", "203.0.113.8", "203.0.113.9"].into_iter().enumerate() {
        let headers = [("X-Forwarded-For", forged), ("Forwarded", "for=192.0.2.1")];
        assert_eq!(remaining(&app, DIRECT, &headers).await, (200, Some(2 - sent as u64)));
    }
    assert_eq!(
        remaining(&app, DIRECT, &[("X-Forwarded-For", "203.0.113.10")]).await,
        (429, Some(0))
    );
    // The addresses it named were not charged.
    assert_eq!(remaining(&app, PROXY, &[("X-Forwarded-For", "203.0.113.7")]).await, (200, Some(2)));
    // Nor does an untrusted proxy's header count: 10.0.0.3 is not in the list.
    assert_eq!(
        remaining(&app, OTHER_PROXY, &[("X-Forwarded-For", "203.0.113.8")]).await,
        (200, Some(2))
    );
    assert_eq!(
        remaining(&app, OTHER_PROXY, &[("X-Forwarded-For", "203.0.113.9")]).await,
        (200, Some(1))
    );
}

async fn with_no_trusted_proxy_headers_are_ignored(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.ip_rate_per_min = 2);
    assert_eq!(remaining(&app, PROXY, &[("X-Forwarded-For", "203.0.113.7")]).await, (200, Some(1)));
    assert_eq!(remaining(&app, PROXY, &[("X-Forwarded-For", "203.0.113.8")]).await, (200, Some(0)));
    assert_eq!(remaining(&app, PROXY, &[("Forwarded", "for=203.0.113.9")]).await, (429, Some(0)));
}

async fn headers_that_disagree_count_as_the_proxy(backend: TestBackend) {
    let app = behind_proxy(backend, 5);
    // The proxy appends to X-Forwarded-For; the client added a Forwarded header of its own.
    let forged = [("X-Forwarded-For", "203.0.113.7"), ("Forwarded", "for=192.0.2.50")];
    assert_eq!(remaining(&app, PROXY, &forged).await, (200, Some(4)));
    assert_eq!(
        remaining(&app, PROXY, &[]).await,
        (200, Some(3)),
        "charged to the proxy's own address"
    );
    assert_eq!(remaining(&app, PROXY, &[("X-Forwarded-For", "203.0.113.7")]).await, (200, Some(4)));
}

on_both_backends!(
    clients_behind_a_trusted_proxy_have_budgets_of_their_own,
    forwarding_headers_from_an_untrusted_peer_change_nothing,
    with_no_trusted_proxy_headers_are_ignored,
    headers_that_disagree_count_as_the_proxy,
);
