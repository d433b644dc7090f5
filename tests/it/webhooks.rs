//! Webhooks over HTTP (spec §12): subscribing and its refusals, who may manage them, and what each change writes
//! to the outbox (read back through the delivery log), once per change and only for subscribed events. Delivery
//! itself, to a real receiver, is tested against the binary (`crates/cli/tests/blackbox/webhooks.rs`).

use actix_web::http::Method;
use chrono::Utc;
use serde_json::{json, Value};
use traceline_storage::deliveries;

use crate::harness::{on_both_backends, TestApp, TestBackend, TestOrg};
use crate::ingest::envelope;

const ALL_EVENTS: [&str; 6] = [
    "key.redeemed",
    "session.ended",
    "session.completed",
    "candidate.hired",
    "candidate.rejected",
    "session.deleted",
];

/// The app with private destinations allowed, as the tests' receivers are on 127.0.0.1.
fn app(backend: TestBackend) -> TestApp {
    TestApp::with_settings(backend, |settings| settings.webhooks.allow_private = true)
}

async fn subscribe(app: &TestApp, org: &TestOrg, events: &[&str]) -> String {
    let body = json!({"url": "http://127.0.0.1:9/hook", "events": events});
    let created = app.post("/v1/webhooks", &org.key, &body).await.expect(201);
    created["webhook"]["id"].as_str().unwrap().to_owned()
}

/// The event types in a webhook's log, oldest first.
async fn logged(app: &TestApp, org: &TestOrg, webhook: &str) -> Vec<String> {
    let page = app
        .get(&format!("/v1/webhooks/{webhook}/deliveries?limit=100"), &org.key)
        .await
        .expect(200);
    let mut types: Vec<String> = page["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|delivery| delivery["type"].as_str().unwrap().to_owned())
        .collect();
    types.reverse();
    types
}

async fn subscribing_shows_the_secret_once(backend: TestBackend) {
    let app = app(backend);
    let org = app.org("Acme");
    let body = json!({"url": "https://127.0.0.1:8443/traceline", "events": ["candidate.hired", "session.completed"]});
    let response = app.post("/v1/webhooks", &org.key, &body).await;
    assert_eq!(response.headers.get("cache-control").unwrap(), "no-store");
    let created = response.expect(201);
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() == 38, "{secret}");
    let webhook = &created["webhook"];
    assert_eq!(webhook["url"], "https://127.0.0.1:8443/traceline");
    assert_eq!(webhook["events"], json!(["session.completed", "candidate.hired"]));
    let id = webhook["id"].as_str().unwrap();

    let listed = app.get("/v1/webhooks", &org.key).await.expect(200);
    assert_eq!(listed["webhooks"], json!([webhook]));
    let read = app.get(&format!("/v1/webhooks/{id}"), &org.key).await.expect(200);
    assert_eq!(read["webhook"], *webhook);
    assert!(!listed.to_string().contains(secret) && !read.to_string().contains(secret));

    // Another org sees nothing of it.
    let other = app.org("Other");
    app.get(&format!("/v1/webhooks/{id}"), &other.key).await.expect(404);
    app.get(&format!("/v1/webhooks/{id}/deliveries"), &other.key).await.expect(404);
    app.delete(&format!("/v1/webhooks/{id}"), &other.key).await.expect(404);
    app.post(&format!("/v1/webhooks/{id}/test"), &other.key, &json!({})).await.expect(404);
    assert_eq!(app.get("/v1/webhooks", &other.key).await.expect(200)["webhooks"], json!([]));

    let deleted = app.delete(&format!("/v1/webhooks/{id}"), &org.key).await.expect(200);
    assert_eq!(deleted, json!({"ok": true, "id": id}));
    app.get(&format!("/v1/webhooks/{id}"), &org.key).await.expect(404);
}

async fn bad_subscriptions_are_refused_with_details(backend: TestBackend) {
    let strict = TestApp::new(backend);
    let org = strict.org("Acme");
    let refused = |url: &str, events: Value| json!({"url": url, "events": events});
    for (body, path) in [
        (refused("ftp://example.com/x", json!(["session.ended"])), "url"),
        (refused("javascript:alert(1)", json!(["session.ended"])), "url"),
        (refused("https://example.com", json!([])), "events"),
        (refused("https://example.com", json!(["session.exploded"])), "events[0]"),
        (json!({"events": ["session.ended"]}), "url"),
        // Loopback, link-local (the cloud metadata address) and private destinations, unless allowed.
        (refused("http://127.0.0.1:8080/hook", json!(["session.ended"])), "url"),
        (refused("http://localhost/hook", json!(["session.ended"])), "url"),
        (refused("http://169.254.169.254/latest", json!(["session.ended"])), "url"),
        (refused("http://10.1.2.3/hook", json!(["session.ended"])), "url"),
        (refused("http://[::1]/hook", json!(["session.ended"])), "url"),
        (refused("http://[::ffff:192.168.0.1]/hook", json!(["session.ended"])), "url"),
        (refused("https://no-such-host.invalid/hook", json!(["session.ended"])), "url"),
    ] {
        let answer = strict.post("/v1/webhooks", &org.key, &body).await.expect(400);
        assert_eq!(answer["code"], "invalid_body");
        assert_eq!(answer["details"][0]["path"], path, "{body} → {answer}");
    }
    strict
        .send(Method::POST, "/v1/webhooks", Some(&org.key), Some(b"[1".to_vec()))
        .await
        .expect(400);
    assert_eq!(strict.get("/v1/webhooks", &org.key).await.expect(200)["webhooks"], json!([]));
}

async fn only_admins_and_write_keys_manage_webhooks(backend: TestBackend) {
    let app = app(backend);
    let org = app.org("Acme");
    let body = json!({"url": "http://127.0.0.1:9/hook", "events": ["session.ended"]});
    let read_only = app.api_key(&org, "read");
    assert_eq!(app.post("/v1/webhooks", &read_only, &body).await.expect(403)["code"], "forbidden");
    app.get("/v1/webhooks", &read_only).await.expect(403);
    app.user(&org, "rev@example.com", "reviewer");
    let reviewer = app.sign_in("rev@example.com").await;
    app.post("/v1/webhooks", &reviewer, &body).await.expect(403);
    app.user(&org, "admin@example.com", "admin");
    let admin = app.sign_in("admin@example.com").await;
    let created = app.post("/v1/webhooks", &admin, &body).await.expect(201);
    let id = created["webhook"]["id"].as_str().unwrap();
    app.get(&format!("/v1/webhooks/{id}/deliveries"), &admin).await.expect(200);
    app.delete(&format!("/v1/webhooks/{id}"), &admin).await.expect(200);
}

/// Redeems a fresh key of a new assessment; returns (key id, key, session id).
async fn redeemed(app: &TestApp, org: &TestOrg) -> (String, String, String) {
    let assessment = app.assessment(org, json!({})).await;
    let key = app.keys(org, &assessment, 1).await.remove(0);
    let redeem = app.redeem(key["key"].as_str().unwrap()).await;
    let session = redeem["sessionId"].as_str().unwrap().to_owned();
    (key["id"].as_str().unwrap().to_owned(), key["key"].as_str().unwrap().to_owned(), session)
}

async fn each_change_writes_its_event_once(backend: TestBackend) {
    let app = app(backend);
    let org = app.org("Acme");
    let everything = subscribe(&app, &org, &ALL_EVENTS).await;
    let hires_only = subscribe(&app, &org, &["candidate.hired"]).await;

    let (key_id, key, session) = redeemed(&app, &org).await;
    // Redeeming an active key again is not a second redeem.
    app.redeem(&key).await;
    let end = envelope(&session, "session_end", &Utc::now().to_rfc3339(), json!({}));
    app.send(Method::POST, "/v1/hooks/ingest", Some(&key), Some(end.to_string().into_bytes()))
        .await
        .expect(201);
    let body = json!({"sessionId": session});
    app.post("/v1/candidate/complete", &key, &body).await.expect(200);
    app.post("/v1/candidate/complete", &key, &body).await.expect(200);
    let assessment = app.get("/v1/candidates", &org.key).await.expect(200)["candidates"][0]
        ["assessmentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let decide = format!("/v1/assessments/{assessment}/keys/{key_id}");
    for status in ["hired", "hired", "rejected", "hired"] {
        app.patch(&decide, &org.key, &json!({"status": status})).await.expect(200);
    }
    app.delete(&format!("/v1/sessions/{session}"), &org.key).await.expect(200);

    assert_eq!(
        logged(&app, &org, &everything).await,
        [
            "key.redeemed",
            "session.ended",
            "session.completed",
            "candidate.hired",
            "candidate.rejected",
            "candidate.hired",
            "session.deleted",
        ]
    );
    assert_eq!(logged(&app, &org, &hires_only).await, ["candidate.hired", "candidate.hired"]);
    let log = app.get(&format!("/v1/webhooks/{everything}/deliveries"), &org.key).await.expect(200);
    assert_eq!(log["total"], 7);
    for delivery in log["deliveries"].as_array().unwrap() {
        assert_eq!(
            (delivery["status"].clone(), delivery["attempts"].clone()),
            (json!("pending"), json!(0))
        );
    }
}

async fn reviewers_ending_a_session_write_session_ended(backend: TestBackend) {
    let app = app(backend);
    let org = app.org("Acme");
    let webhook = subscribe(&app, &org, &["session.ended"]).await;
    let created = app.post("/v1/sessions", &org.key, &json!({})).await.expect(201);
    let path = format!("/v1/sessions/{}", created["session"]["id"].as_str().unwrap());
    let ended = json!({"endedAt": "2099-01-01T00:00:00Z"});
    app.patch(&path, &org.key, &ended).await.expect(200);
    // Ending an ended session again, or changing only its metadata, is no new end.
    app.patch(&path, &org.key, &ended).await.expect(200);
    app.patch(&path, &org.key, &json!({"metadata": {"x": 1}})).await.expect(200);
    app.patch(&path, &org.key, &json!({"endedAt": null})).await.expect(200);
    app.patch(&path, &org.key, &ended).await.expect(200);
    assert_eq!(logged(&app, &org, &webhook).await, ["session.ended", "session.ended"]);
}

async fn an_org_without_webhooks_writes_nothing(backend: TestBackend) {
    let app = app(backend);
    let org = app.org("Acme");
    let other = app.org("Other");
    let webhook = subscribe(&app, &other, &ALL_EVENTS).await;
    let (_, key, session) = redeemed(&app, &org).await;
    app.post("/v1/candidate/complete", &key, &json!({"sessionId": session})).await.expect(200);
    assert!(logged(&app, &other, &webhook).await.is_empty());
}

async fn a_lease_keeps_a_delivery_to_one_sender(backend: TestBackend) {
    let app = app(backend);
    let org = app.org("Acme");
    subscribe(&app, &org, &["session.deleted"]).await;
    let created = app.post("/v1/sessions", &org.key, &json!({})).await.expect(201);
    app.delete(&format!("/v1/sessions/{}", created["session"]["id"].as_str().unwrap()), &org.key)
        .await
        .expect(200);
    let now = Utc::now();
    let database = &app.db.database;
    let claim = |owner: &'static str, at: chrono::DateTime<Utc>| {
        let lease_until = at + chrono::Duration::seconds(60);
        database
            .write(move |connection| deliveries::claim(connection, owner, at, lease_until, 10))
            .unwrap()
    };
    let first = claim("instance-a", now);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].url, "http://127.0.0.1:9/hook");
    assert!(claim("instance-b", now).is_empty(), "a leased delivery was claimed twice");
    // Once the lease has passed (its holder died), another sender takes it.
    assert_eq!(claim("instance-b", now + chrono::Duration::seconds(61)).len(), 1);
}

async fn admins_see_webhooks_with_their_log_on_the_settings_page(backend: TestBackend) {
    let app = app(backend);
    let org = app.org("Acme");
    app.user(&org, "admin@example.com", "admin");
    let admin = app.sign_in("admin@example.com").await;
    let body =
        json!({"url": "http://127.0.0.1:9/hook?team=<b>ats</b>", "events": ["candidate.hired"]});
    let created = app.post("/v1/webhooks", &admin, &body).await.expect(201);
    let id = created["webhook"]["id"].as_str().unwrap();
    // Nothing listens on the discard port: the test delivery fails at once, and is not retried.
    let tested = app.post(&format!("/v1/webhooks/{id}/test"), &admin, &json!({})).await.expect(200);
    let delivery = &tested["delivery"];
    assert_eq!(
        (delivery["type"].as_str(), delivery["status"].as_str()),
        (Some("webhook.test"), Some("failed"))
    );
    assert_eq!(
        (delivery["attempts"].as_i64(), delivery["lastStatusCode"].is_null()),
        (Some(1), true)
    );
    assert!(delivery["lastError"].as_str().is_some_and(|error| !error.is_empty()), "{delivery}");
    app.patch("/v1/org", &admin, &json!({"retentionDays": 90})).await.expect(200);

    let page = app.page("/settings", Some(&admin)).await;
    assert_eq!(page.status.as_u16(), 200);
    for shown in
        ["Webhooks", "webhook.test", "failed", "Retention", "value=\"90\"", "Erase a candidate"]
    {
        assert!(page.text.contains(shown), "the settings page lacks {shown}");
    }
    let at = page.text.find("127.0.0.1:9").unwrap();
    let shown = &page.text[at..at + 60];
    assert!(
        shown.contains("team=") && !page.text.contains("<b>ats"),
        "the URL is not escaped: {shown}"
    );
    assert!(!page.text.contains(created["secret"].as_str().unwrap()));

    app.user(&org, "rev@example.com", "reviewer");
    let reviewer = app.sign_in("rev@example.com").await;
    let page = app.page("/settings", Some(&reviewer)).await;
    assert!(!page.text.contains("webhooks-heading") && !page.text.contains("127.0.0.1:9"));
}

async fn webhook_retention_and_erasure_changes_are_audited(backend: TestBackend) {
    let app = app(backend);
    let org = app.org("Acme");
    let body = json!({"url": "http://ats:s3cret@127.0.0.1:9/hook", "events": ["candidate.hired"]});
    let created = app.post("/v1/webhooks", &org.key, &body).await.expect(201);
    let id = created["webhook"]["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/webhooks/{id}/test"), &org.key, &json!({})).await.expect(200);
    app.delete(&format!("/v1/webhooks/{id}"), &org.key).await.expect(200);
    app.patch("/v1/org", &org.key, &json!({"retentionDays": 30})).await.expect(200);
    // Setting what is already set changes nothing, and records nothing.
    app.patch("/v1/org", &org.key, &json!({"retentionDays": 30})).await.expect(200);
    let assessment = app.assessment(&org, json!({})).await;
    let issued = json!({"count": 1, "candidateEmails": ["ada@example.com"]});
    let keys = app
        .post(&format!("/v1/assessments/{assessment}/keys"), &org.key, &issued)
        .await
        .expect(201);
    let key_id = keys["keys"][0]["id"].as_str().unwrap().to_owned();
    let session = app.redeem(keys["keys"][0]["key"].as_str().unwrap()).await["sessionId"].clone();
    app.delete("/v1/candidates?email=ada%40example.com", &org.key).await.expect(200);
    // Erasing nobody changes nothing.
    app.delete("/v1/candidates?email=nobody%40example.com", &org.key).await.expect(200);

    let log = app.get("/v1/audit?limit=100", &org.key).await.expect(200);
    let entries = log["entries"].as_array().unwrap();
    let find = |action: &str| -> Vec<&Value> {
        entries.iter().filter(|entry| entry["action"] == action).collect()
    };
    let created_entry = find("webhook.created");
    assert_eq!(created_entry.len(), 1);
    assert_eq!(created_entry[0]["targetType"], "webhook");
    assert_eq!(created_entry[0]["targetId"], id.as_str());
    assert_eq!(
        created_entry[0]["details"],
        json!({"url": "http://127.0.0.1:9/hook", "events": ["candidate.hired"]})
    );
    assert_eq!(find("webhook.tested")[0]["targetId"], id.as_str());
    assert_eq!(find("webhook.deleted")[0]["details"], json!({"url": "http://127.0.0.1:9/hook"}));
    let retention = find("org.retention_changed");
    assert_eq!(retention.len(), 1);
    assert_eq!(retention[0]["targetId"], org.id.as_str());
    assert_eq!(
        retention[0]["details"],
        json!({"retentionDays": 30, "previousRetentionDays": null})
    );
    let erased = find("candidate.erased");
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0]["targetType"], "candidate");
    assert_eq!(erased[0]["details"], json!({"keyIds": [key_id], "sessionIds": [session]}));
    let text = log.to_string();
    assert!(!text.contains("s3cret") && !text.contains("ada@example.com"), "{text}");
}

on_both_backends!(
    webhook_retention_and_erasure_changes_are_audited,
    admins_see_webhooks_with_their_log_on_the_settings_page,
    subscribing_shows_the_secret_once,
    bad_subscriptions_are_refused_with_details,
    only_admins_and_write_keys_manage_webhooks,
    each_change_writes_its_event_once,
    reviewers_ending_a_session_write_session_ended,
    an_org_without_webhooks_writes_nothing,
    a_lease_keeps_a_delivery_to_one_sender,
);
