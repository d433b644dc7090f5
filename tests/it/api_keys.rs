//! Org API keys and credentials over HTTP (spec §10.3), beyond what `accounts.rs` covers of listing, creating and
//! revoking: a key revoked while cached is refused at once; no key grants more than it holds; failed credentials
//! are limited per client address; `Cache-Control: no-store` on secrets and `nosniff` everywhere.

use std::net::SocketAddr;

use actix_web::http::Method;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::harness::{on_both_backends, TestApp, TestBackend};

async fn a_key_revoked_while_cached_is_refused_at_once(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let second = app.api_key(&org, "read,write");
    // Both keys are now in the credential cache.
    app.get("/v1/sessions", &second).await.expect(200);
    app.get("/v1/sessions", &org.key).await.expect(200);
    let listed = app.get("/v1/api-keys", &second).await.expect(200);
    let first_id = listed["apiKeys"][0]["id"].as_str().unwrap().to_owned();
    // A key may revoke itself: the request that does so is the last it makes.
    app.delete(&format!("/v1/api-keys/{first_id}"), &org.key).await.expect(200);
    let refused = app.get("/v1/sessions", &org.key).await;
    assert_eq!(refused.code(), "unauthorized");
    refused.expect(401);
    app.get("/v1/sessions", &second).await.expect(200);
}

async fn a_key_cannot_grant_more_than_it_holds(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let writer = app.api_key(&org, "write");
    let escalate = app.post("/v1/api-keys", &writer, &json!({"scopes": ["read", "write"]})).await;
    assert_eq!(escalate.code(), "forbidden");
    escalate.expect(403);
    app.post("/v1/api-keys", &writer, &json!({"scopes": ["write"]})).await.expect(201);
    let reader = app.api_key(&org, "read");
    app.post("/v1/api-keys", &reader, &json!({"scopes": ["read"]})).await.expect(403);
    for bad in
        [json!({}), json!({"scopes": []}), json!({"scopes": ["admin"]}), json!({"scopes": 3})]
    {
        let response = app.post("/v1/api-keys", &org.key, &bad).await;
        assert_eq!(response.body["details"][0]["path"], "scopes", "{bad}");
        response.expect(400);
    }
}

fn from(address: &str, method: Method, path: &str) -> TestRequest {
    let peer: SocketAddr = address.parse().unwrap();
    TestRequest::default().method(method).uri(path).peer_addr(peer)
}

async fn the_21st_failed_credential_from_one_address_is_429(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let candidate_key = app.keys(&org, &assessment, 1).await[0]["key"].as_str().unwrap().to_owned();
    let attacker = "[2001:db8:7:1::10]:5000";
    // Twenty failures of every kind the spec names: unknown org keys, unknown candidate keys on a route and on
    // redeem, and credentials of no known shape.
    for attempt in 0..20 {
        let request = match attempt % 4 {
            0 => from(attacker, Method::GET, "/v1/sessions").insert_header((
                "Authorization",
                "Bearer psk_live_00000000000000000000000000000000",
            )),
            1 => from(attacker, Method::GET, "/v1/sessions")
                .insert_header(("X-API-Key", "PST-AAAA-BBBB")),
            2 => from(attacker, Method::POST, "/v1/candidate/redeem")
                .insert_header(("Content-Type", "application/json"))
                .set_payload(json!({"key": "PST-CCCC-DDDD"}).to_string()),
            _ => from(attacker, Method::GET, "/v1/assessments")
                .insert_header(("X-API-Key", "garbage")),
        };
        app.call(request).await.expect(401);
    }
    // The 21st attempt, whatever it carries (here the org's valid key), is refused until the window passes.
    let blocked = app
        .call(
            from(attacker, Method::GET, "/v1/sessions")
                .insert_header(("Authorization", format!("Bearer {}", org.key))),
        )
        .await;
    assert_eq!(blocked.code(), "rate_limited");
    let retry_after: u64 =
        blocked.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((590..=600).contains(&retry_after), "{retry_after}");
    blocked.expect(429);
    // The same /64 is the same client; redeem is refused too, even with a real key.
    let neighbour = "[2001:db8:7:1::99]:5000";
    let redeem = from(neighbour, Method::POST, "/v1/candidate/redeem")
        .insert_header(("Content-Type", "application/json"))
        .set_payload(json!({"key": candidate_key}).to_string());
    app.call(redeem).await.expect(429);
    // Routes that read no credential still answer.
    app.call(from(attacker, Method::GET, "/v1/health")).await.expect(200);
    // Another address is not affected.
    for other in ["[2001:db8:7:2::10]:5000", "198.51.100.7:5000"] {
        let request = from(other, Method::GET, "/v1/sessions")
            .insert_header(("Authorization", format!("Bearer {}", org.key)));
        app.call(request).await.expect(200);
    }
    // A request without any credential is no failed check, and is answered 401 as before the limit.
    let fresh = "198.51.100.8:5000";
    for _ in 0..25 {
        app.call(from(fresh, Method::GET, "/v1/sessions")).await.expect(401);
    }
    let request = from(fresh, Method::GET, "/v1/sessions")
        .insert_header(("Authorization", format!("Bearer {}", org.key)));
    app.call(request).await.expect(200);
}

async fn every_response_is_nosniff(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    for (method, path, key) in [
        (Method::GET, "/v1/health", None),
        (Method::GET, "/v1/sessions", Some(org.key.as_str())),
        (Method::GET, "/v1/sessions", None),
        (Method::GET, "/v1/nowhere", None),
        (Method::PUT, "/v1/sessions", Some(org.key.as_str())),
    ] {
        let response = app.send(method.clone(), path, key, None).await;
        assert_eq!(
            response.headers.get("x-content-type-options").unwrap(),
            "nosniff",
            "{method} {path}"
        );
        assert!(response.headers.get("cache-control").is_none(), "{method} {path}: no secret here");
    }
    let assessment = app.assessment(&org, json!({})).await;
    let keys = app
        .post(&format!("/v1/assessments/{assessment}/keys"), &org.key, &json!({"count": 1}))
        .await;
    assert_eq!(keys.headers.get("cache-control").unwrap(), "no-store");
    let key = keys.expect(201)["keys"][0]["key"].as_str().unwrap().to_owned();
    let body = json!({"key": key}).to_string().into_bytes();
    let redeemed = app.send(Method::POST, "/v1/candidate/redeem", None, Some(body)).await;
    assert_eq!(redeemed.headers.get("cache-control").unwrap(), "no-store");
    redeemed.expect(200);
}

on_both_backends!(
    a_key_revoked_while_cached_is_refused_at_once,
    a_key_cannot_grant_more_than_it_holds,
    the_21st_failed_credential_from_one_address_is_429,
    every_response_is_nosniff,
);
