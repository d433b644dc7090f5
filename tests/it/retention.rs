//! Retention and erasure (spec §12): an org's retention over `GET`/`PATCH /v1/org`, the sweep deleting exactly
//! the sessions past it while ingest goes on, and erasing a candidate by address.

use actix_web::http::Method;
use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend, TestOrg};
use crate::ingest::envelope;
use crate::storage_sessions::count_rows;

fn days_ago(days: i64) -> String {
    (Utc::now() - Duration::days(days)).to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn the_org_says_its_retention(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let read = app.get("/v1/org", &org.key).await.expect(200);
    assert_eq!(
        (read["org"]["id"].as_str(), read["org"]["name"].as_str()),
        (Some(org.id.as_str()), Some("Acme"))
    );
    assert_eq!(read["org"]["retentionDays"], Value::Null);
    let set = app.patch("/v1/org", &org.key, &json!({"retentionDays": 30})).await.expect(200);
    assert_eq!(set["org"]["retentionDays"], 30);
    assert_eq!(app.get("/v1/org", &org.key).await.expect(200)["org"]["retentionDays"], 30);
    let cleared = app.patch("/v1/org", &org.key, &json!({"retentionDays": null})).await.expect(200);
    assert_eq!(cleared["org"]["retentionDays"], Value::Null);
    for bad in [
        json!({}),
        json!({"retentionDays": 0}),
        json!({"retentionDays": "30"}),
        json!({"retentionDays": 2.5}),
    ] {
        let refused = app.patch("/v1/org", &org.key, &bad).await.expect(400);
        assert_eq!(refused["details"][0]["path"], "retentionDays", "{bad}");
    }
    // Another org's retention is its own; a read-only key and a reviewer may not change it.
    let other = app.org("Other");
    assert_eq!(
        app.get("/v1/org", &other.key).await.expect(200)["org"]["retentionDays"],
        Value::Null
    );
    let read_only = app.api_key(&org, "read");
    app.patch("/v1/org", &read_only, &json!({"retentionDays": 1})).await.expect(403);
    app.user(&org, "rev@example.com", "reviewer");
    let reviewer = app.sign_in("rev@example.com").await;
    app.patch("/v1/org", &reviewer, &json!({"retentionDays": 1})).await.expect(403);
}

/// A reviewer's session that ended `days` ago.
async fn ended_session(app: &TestApp, org: &TestOrg, days: i64) -> String {
    let created = app.post("/v1/sessions", &org.key, &json!({})).await.expect(201);
    let id = created["session"]["id"].as_str().unwrap().to_owned();
    // Its start is its creation (now), and an end may not come before it: move the start back first.
    app.execute_sql(&format!(
        "UPDATE sessions SET started_at = '2000-01-01 00:00:00', last_activity_at = '2000-01-01 00:00:00' \
         WHERE id = '{id}'"
    ));
    app.patch(&format!("/v1/sessions/{id}"), &org.key, &json!({"endedAt": days_ago(days)}))
        .await
        .expect(200);
    id
}

async fn ingest(app: &TestApp, key: &str, event: &Value) -> u16 {
    let body = Some(event.to_string().into_bytes());
    app.send(Method::POST, "/v1/hooks/ingest", Some(key), body).await.status.as_u16()
}

async fn the_sweep_deletes_exactly_the_expired_sessions_while_ingest_goes_on(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| {
        settings.ingest_rate_per_min = 0;
        settings.webhooks.allow_private = true;
    });
    let org = app.org("Acme");
    let hook = json!({"url": "http://127.0.0.1:9/hook", "events": ["session.deleted"]});
    let webhook =
        app.post("/v1/webhooks", &org.key, &hook).await.expect(201)["webhook"]["id"].clone();
    app.patch("/v1/org", &org.key, &json!({"retentionDays": 7})).await.expect(200);
    let assessment = app.assessment(&org, json!({})).await;
    let keys = app.keys(&org, &assessment, 2).await;
    let (stale_key, live_key) =
        (keys[0]["key"].as_str().unwrap(), keys[1]["key"].as_str().unwrap());

    // More expired sessions than one transaction of the sweep takes.
    let mut expired = Vec::new();
    for _ in 0..45 {
        expired.push(ended_session(&app, &org, 10).await);
    }
    // Open, but last active ten days ago.
    let stale = app.redeem(stale_key).await["sessionId"].as_str().unwrap().to_owned();
    assert_eq!(
        ingest(&app, stale_key, &envelope(&stale, "prompt", &days_ago(10), json!({"text": "old"})))
            .await,
        201
    );
    expired.push(stale.clone());
    let recent = ended_session(&app, &org, 3).await;
    let live = app.redeem(live_key).await["sessionId"].as_str().unwrap().to_owned();
    // Another org keeps its sessions for ever.
    let other = app.org("Other");
    let kept_elsewhere = ended_session(&app, &other, 400).await;

    let database = app.db.database.clone();
    let sweep = std::thread::spawn(move || traceline_api::retention::sweep(&database, Utc::now()));
    let mut sent = 0;
    while !sweep.is_finished() || sent < 20 {
        let event =
            envelope(&live, "command", &Utc::now().to_rfc3339(), json!({"command": "cargo test"}));
        assert_eq!(ingest(&app, live_key, &event).await, 201);
        sent += 1;
    }
    let report = sweep.join().unwrap().unwrap();
    assert_eq!(report.sessions, expired.len());

    for id in &expired {
        app.get(&format!("/v1/sessions/{id}"), &org.key).await.expect(404);
    }
    let gone: Vec<String> = expired.iter().map(|id| format!("'{id}'")).collect();
    let gone = gone.join(",");
    assert_eq!(
        count_rows(
            &app,
            &format!("SELECT COUNT(*) AS n FROM timeline_events WHERE session_id IN ({gone})")
        ),
        0
    );
    let listed = app.get("/v1/sessions?limit=100", &org.key).await.expect(200);
    let mut remaining: Vec<&str> =
        listed["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    remaining.sort_unstable();
    let mut wanted = vec![recent.as_str(), live.as_str()];
    wanted.sort_unstable();
    assert_eq!(remaining, wanted);
    let live_session = app.get(&format!("/v1/sessions/{live}"), &org.key).await.expect(200);
    assert_eq!(live_session["session"]["eventCount"], sent);
    app.get(&format!("/v1/sessions/{kept_elsewhere}"), &other.key).await.expect(200);
    // The candidate key of the deleted open session lives on, without it.
    let stale_key_now = app.get("/v1/candidates", &org.key).await.expect(200)["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["key"] == stale_key)
        .cloned()
        .unwrap();
    assert_eq!(stale_key_now["sessionId"], Value::Null);

    let log = app
        .get(&format!("/v1/webhooks/{}/deliveries?limit=100", webhook.as_str().unwrap()), &org.key)
        .await;
    let log = log.expect(200);
    assert_eq!(log["total"], expired.len());
    // A second sweep finds nothing more.
    let again = traceline_api::retention::sweep(&app.db.database, Utc::now()).unwrap();
    assert_eq!(again.sessions, 0);
}

async fn erasing_a_candidate_leaves_no_trace_of_them(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.webhooks.allow_private = true);
    let org = app.org("Acme");
    let hook = json!({"url": "http://127.0.0.1:9/hook", "events": ["key.redeemed", "candidate.hired", "session.deleted"]});
    let webhook =
        app.post("/v1/webhooks", &org.key, &hook).await.expect(201)["webhook"]["id"].clone();
    let first = app.assessment(&org, json!({})).await;
    let second = app.assessment(&org, json!({"title": "Second task"})).await;
    let issue = |names: [&str; 2], emails: [&str; 2]| json!({"count": 2, "candidateNames": names, "candidateEmails": emails});
    let body = issue(["Ada Lovelace", "Bob Builder"], ["ada@example.com", "bob@example.com"]);
    let keys =
        app.post(&format!("/v1/assessments/{first}/keys"), &org.key, &body).await.expect(201);
    let body = issue(["Ada Lovelace", "Ada L."], ["Ada@Example.com", "ada@example.org"]);
    let more =
        app.post(&format!("/v1/assessments/{second}/keys"), &org.key, &body).await.expect(201);
    let (ada, bob, ada_again) = (&keys["keys"][0], &keys["keys"][1], &more["keys"][0]);
    let mut sessions = Vec::new();
    for key in [ada, bob, ada_again] {
        let key_text = key["key"].as_str().unwrap();
        let session = app.redeem(key_text).await["sessionId"].as_str().unwrap().to_owned();
        let text = format!("I am {}", key["candidateName"].as_str().unwrap());
        let event = envelope(&session, "prompt", &Utc::now().to_rfc3339(), json!({"text": text}));
        assert_eq!(ingest(&app, key_text, &event).await, 201);
        sessions.push(session);
    }
    let hire = format!("/v1/assessments/{first}/keys/{}", ada["id"].as_str().unwrap());
    app.patch(&hire, &org.key, &json!({"status": "hired"})).await.expect(200);
    // A revoked key of hers is erased too.
    app.delete(
        &format!("/v1/assessments/{second}/keys/{}", ada_again["id"].as_str().unwrap()),
        &org.key,
    )
    .await
    .expect(200);

    let erased = app.delete("/v1/candidates?email=ADA%40example.com", &org.key).await.expect(200);
    assert_eq!(erased, json!({"erasedSessions": 2, "erasedKeys": 2}));

    for session in [&sessions[0], &sessions[2]] {
        app.get(&format!("/v1/sessions/{session}"), &org.key).await.expect(404);
    }
    app.get(&format!("/v1/sessions/{}", sessions[1]), &org.key).await.expect(200);
    let candidates = app.get("/v1/candidates", &org.key).await.expect(200);
    let text = candidates.to_string();
    assert!(
        !text.contains("ada@example.com") && !text.to_lowercase().contains("ada@example.com"),
        "{text}"
    );
    assert!(text.contains("Bob Builder") && text.contains("ada@example.org"), "{text}");
    for (table, column) in [
        ("candidate_keys", "candidate_name"),
        ("candidate_keys", "candidate_email"),
        ("webhook_deliveries", "body"),
        ("timeline_events", "data"),
        ("timeline_events", "envelope"),
    ] {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM {table} WHERE lower({column}) LIKE '%ada@example.com%' \
             OR {column} LIKE '%Ada Lovelace%'"
        );
        assert_eq!(count_rows(&app, &sql), 0, "{table}.{column} still names her");
    }
    // What webhooks were told of her is gone; that her sessions were deleted is told, naming no one.
    let log = app
        .get(&format!("/v1/webhooks/{}/deliveries?limit=100", webhook.as_str().unwrap()), &org.key)
        .await;
    let types: Vec<String> = log.expect(200)["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|delivery| delivery["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types.iter().filter(|kind| *kind == "session.deleted").count(), 2, "{types:?}");
    assert_eq!(
        types.iter().filter(|kind| *kind == "key.redeemed").count(),
        1,
        "Bob's redeem stays: {types:?}"
    );
    assert!(!types.contains(&"candidate.hired".to_owned()), "{types:?}");

    // Nobody by that address: nothing to erase. No address: a 400. A read-only key: 403.
    let none = app.delete("/v1/candidates?email=nobody%40example.com", &org.key).await.expect(200);
    assert_eq!(none, json!({"erasedSessions": 0, "erasedKeys": 0}));
    assert_eq!(app.delete("/v1/candidates", &org.key).await.expect(400)["code"], "invalid_query");
    let read_only = app.api_key(&org, "read");
    app.delete("/v1/candidates?email=bob%40example.com", &read_only).await.expect(403);
    // Another org cannot erase this org's candidates.
    let other = app.org("Other");
    let elsewhere =
        app.delete("/v1/candidates?email=bob%40example.com", &other.key).await.expect(200);
    assert_eq!(elsewhere, json!({"erasedSessions": 0, "erasedKeys": 0}));
}

on_both_backends!(
    the_org_says_its_retention,
    the_sweep_deletes_exactly_the_expired_sessions_while_ingest_goes_on,
    erasing_a_candidate_leaves_no_trace_of_them,
);
