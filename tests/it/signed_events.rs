//! Signed events over HTTP (spec §10.2): the shared vectors through the real app, chains delivered out of order,
//! in batches and as retries, and each way a chain breaks, with the break named in the signed log.

use actix_web::http::Method;
use serde_json::{json, Value};
use traceline_domain::signing::{EventSignature, SecretSeed};

use crate::harness::{on_both_backends, TestApp, TestBackend, TestOrg};

const VECTORS: &str = include_str!("../../crates/domain/tests/fixtures/signing-vectors.json");

/// A client's chain: each event signed and linked to the previous one, as the Promptster CLI does.
pub(crate) struct Chain {
    seed: SecretSeed,
    session: String,
    prev_sig: String,
    minute: u32,
}

impl Chain {
    /// A chain for `session`, signed with the key made from `[seed_byte; 32]`.
    pub(crate) fn new(seed_byte: u8, session: &str) -> Self {
        Chain {
            seed: SecretSeed::from_bytes([seed_byte; 32]),
            session: session.to_owned(),
            prev_sig: String::new(),
            minute: 0,
        }
    }

    /// The key to give at redeem.
    pub(crate) fn public_key(&self) -> String {
        self.seed.public_key().to_base64()
    }

    /// The next event of the chain, a prompt a minute after the previous one.
    pub(crate) fn next(&mut self) -> Value {
        self.minute += 1;
        let mut envelope = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "sessionId": self.session,
            "ts": format!("2026-04-01T{:02}:{:02}:00Z", 10 + self.minute / 60, self.minute % 60),
            "kind": "prompt",
            "source": {"channel": "hook", "integration": "claude-code"},
            "v": 1,
            "data": {"text": format!("step {}", self.minute), "tokenCount": 3.0},
            "prevSig": self.prev_sig,
        });
        let message = EventSignature::of(&envelope).message.expect("a complete envelope");
        let sig = self.seed.sign(&message);
        envelope["sig"] = json!(sig);
        self.prev_sig = sig;
        envelope
    }
}

fn vectors() -> Value {
    serde_json::from_str(VECTORS).unwrap()
}

/// A candidate key of a fresh org, and the org.
async fn candidate_key(app: &TestApp) -> (TestOrg, String) {
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let key = app.keys(&org, &assessment, 1).await[0]["key"].as_str().unwrap().to_owned();
    (org, key)
}

/// Redeems `key` with a signing key; returns the session id and token.
async fn redeem_signed(app: &TestApp, key: &str, public_key: &str) -> (String, String) {
    let body = json!({"key": key, "signingPubKey": public_key});
    let redeemed =
        app.send_json(Method::POST, "/v1/candidate/redeem", None, &body).await.expect(200);
    (
        redeemed["sessionId"].as_str().unwrap().to_owned(),
        redeemed["sessionToken"].as_str().unwrap().to_owned(),
    )
}

async fn signed_log(app: &TestApp, key: &str, session: &str, query: &str) -> Value {
    app.get(&format!("/v1/sessions/{session}/signed-log{query}"), key).await.expect(200)
}

fn ids(events: &Value) -> Vec<String> {
    events.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
}

/// The vectors' session, created with the vectors' id and given their public key at redeem.
async fn vector_session(app: &TestApp) -> (TestOrg, String, Value) {
    let vectors = vectors();
    let (org, key) = candidate_key(app).await;
    let session = vectors["events"][0]["envelope"]["sessionId"].as_str().unwrap().to_owned();
    app.post("/v1/sessions", &key, &json!({"id": session})).await.expect(201);
    let (redeemed, _) = redeem_signed(app, &key, vectors["signingPubKey"].as_str().unwrap()).await;
    assert_eq!(redeemed, session, "redeem returns the key's first session");
    (org, key, vectors)
}

async fn the_shared_vectors_verify_and_chain_through_the_api(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key, vectors) = vector_session(&app).await;
    let session = vectors["events"][0]["envelope"]["sessionId"].as_str().unwrap();
    let events = vectors["events"].as_array().unwrap();
    // The second in a batch with the fourth, the first alone, the third last: any order will do.
    let batch = json!({"events": [events[3]["envelope"], events[1]["envelope"]]});
    let results = app.post("/v1/hooks/ingest/batch", &key, &batch).await.expect(207);
    assert_eq!(results["results"][0]["status"], 201);
    assert_eq!(results["results"][1]["status"], 201);
    app.post("/v1/hooks/ingest", &key, &events[0]["envelope"]).await.expect(201);
    let state = app.get(&format!("/v1/sessions/{session}"), &org.key).await.expect(200);
    assert_eq!(state["session"]["chainStatus"], "broken", "the third event is still missing");
    app.post("/v1/hooks/ingest", &key, &events[2]["envelope"]).await.expect(201);

    let log = signed_log(&app, &org.key, session, "").await;
    assert_eq!(log["sessionId"], session);
    assert_eq!(log["signingPubkey"], vectors["signingPubKey"]);
    assert_eq!(
        log["chain"],
        json!({"status": "intact", "signedCount": 4, "verifiedCount": 4, "eventCount": 4})
    );
    assert_eq!(log["hasMore"], false);
    let listed = log["events"].as_array().unwrap();
    for (event, vector) in listed.iter().zip(events) {
        assert_eq!(event["id"], vector["envelope"]["id"], "chain order, not timeline order");
        assert_eq!(event["eventHash"], vector["eventHash"]);
        assert_eq!(event["sig"], vector["envelope"]["sig"]);
        assert_eq!(event["prevSig"], vector["envelope"]["prevSig"]);
        assert_eq!(event["sigVerified"], true);
        assert_eq!(event["payload"]["ts"], vector["envelope"]["ts"], "the envelope as sent");
    }
    assert_eq!(listed[3]["kind"], "tool_result");
    assert_eq!(listed[3]["payload"]["kind"], "tool_call");
    let session_object = app.get(&format!("/v1/sessions/{session}"), &key).await.expect(200);
    assert_eq!(session_object["session"]["chainStatus"], "intact");
    assert!(
        chain_in_view(&app, &org, session).await.contains(">intact</span>"),
        "the session view's header"
    );
    // The timeline orders by time: the second event happened first (10:01:30+02:00).
    let timeline = app.get(&format!("/v1/sessions/{session}/timeline"), &key).await.expect(200);
    assert_eq!(ids(&timeline["events"])[0], events[1]["envelope"]["id"].as_str().unwrap());
}

async fn a_tampered_event_breaks_the_chain_at_itself(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key, vectors) = vector_session(&app).await;
    let session = vectors["events"][0]["envelope"]["sessionId"].as_str().unwrap();
    let events = vectors["events"].as_array().unwrap();
    let sent = [
        &events[0]["envelope"],
        &events[1]["envelope"],
        &vectors["tampered"],
        &events[3]["envelope"],
    ];
    let batch = json!({"events": sent});
    let results = app.post("/v1/hooks/ingest/batch", &key, &batch).await.expect(207);
    assert!(
        results["results"].as_array().unwrap().iter().all(|r| r["status"] == 201),
        "never refused"
    );
    let log = signed_log(&app, &org.key, session, "").await;
    assert_eq!(log["chain"]["status"], "broken");
    assert_eq!(log["chain"]["verifiedCount"], 3);
    assert_eq!(log["chain"]["brokenAt"], vectors["tampered"]["id"]);
    assert_eq!(log["chain"]["reason"], "the signature does not verify against the session's key");
    let verdicts: Vec<&Value> =
        log["events"].as_array().unwrap().iter().map(|e| &e["sigVerified"]).collect();
    assert_eq!(verdicts, [&json!(true), &json!(true), &json!(false), &json!(true)]);
    let metrics = app.get(&format!("/v1/sessions/{session}/metrics"), &org.key).await.expect(200);
    assert_eq!(metrics["metrics"]["commandCount"], 1, "the tampered event is kept");
    let view = chain_in_view(&app, &org, session).await;
    assert!(view.contains(">broken</span>") && view.contains("The signature chain is broken"));
}

/// The session view's HTML, as a reviewer of `org` sees it (its header shows the chain's status, UI.md).
async fn chain_in_view(app: &TestApp, org: &TestOrg, session: &str) -> String {
    app.user(org, "chain-reader@acme.test", "reviewer");
    let cookie = app.sign_in("chain-reader@acme.test").await;
    app.page(&format!("/sessions/{session}"), Some(&cookie)).await.text
}

async fn a_missing_link_breaks_the_chain_after_the_gap(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key, vectors) = vector_session(&app).await;
    let session = vectors["events"][0]["envelope"]["sessionId"].as_str().unwrap();
    let events = vectors["events"].as_array().unwrap();
    for index in [0, 1, 3] {
        app.post("/v1/hooks/ingest", &key, &events[index]["envelope"]).await.expect(201);
    }
    let log = signed_log(&app, &org.key, session, "").await;
    assert_eq!(log["chain"]["status"], "broken");
    assert_eq!(log["chain"]["verifiedCount"], 3);
    assert_eq!(log["chain"]["brokenAt"], events[3]["envelope"]["id"]);
    assert_eq!(log["chain"]["reason"], "the event this one names as previous is missing");
    let listed = ids(&log["events"]);
    let expected: Vec<&str> =
        [0, 1, 3].iter().map(|&i| events[i]["envelope"]["id"].as_str().unwrap()).collect();
    assert_eq!(listed, expected, "the chain, then the event off it");
}

async fn an_unsigned_event_in_a_signed_session_breaks_the_chain(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate_key(&app).await;
    let seed = SecretSeed::from_bytes([5; 32]);
    let (session, token) = redeem_signed(&app, &key, &seed.public_key().to_base64()).await;
    let mut chain = Chain::new(5, &session);
    let first = chain.next();
    app.post("/v1/hooks/ingest", &token, &first).await.expect(201);
    // Sent by something other than the signing client, between two signed events that chain around it.
    let unsigned = crate::ingest::envelope(
        &session,
        "command",
        "2026-04-01T10:01:30Z",
        json!({"command": "cargo test", "exitCode": 0}),
    );
    app.post("/v1/hooks/ingest", &token, &unsigned).await.expect(201);
    let third = chain.next();
    app.post("/v1/hooks/ingest", &token, &third).await.expect(201);

    let log = signed_log(&app, &org.key, &session, "").await;
    assert_eq!(log["chain"]["status"], "broken");
    assert_eq!(log["chain"]["signedCount"], 2);
    assert_eq!(log["chain"]["eventCount"], 3);
    assert_eq!(log["chain"]["brokenAt"], unsigned["id"]);
    assert_eq!(log["chain"]["reason"], "the event is not signed");
    let unsigned_listed = &log["events"][2];
    assert_eq!(unsigned_listed["id"], unsigned["id"]);
    assert_eq!(unsigned_listed["sigVerified"], false);
    assert_eq!(unsigned_listed["sig"], Value::Null);
}

async fn a_chain_delivered_out_of_order_in_batches_and_retried_is_intact(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate_key(&app).await;
    let redeem_chain = Chain::new(7, "");
    let (session, token) = redeem_signed(&app, &key, &redeem_chain.public_key()).await;
    let mut chain = Chain::new(7, &session);
    let events: Vec<Value> = (0..60).map(|_| chain.next()).collect();
    // Scrambled by a fixed stride and sent from the end, seven to a batch, every second batch sent twice.
    let mut order: Vec<usize> = (0..60).map(|i| (i * 37) % 60).collect();
    order.reverse();
    let mut stored = std::collections::BTreeSet::new();
    for (round, batch) in order.chunks(7).enumerate() {
        let body = json!({"events": batch.iter().map(|&i| &events[i]).collect::<Vec<_>>()});
        app.post("/v1/hooks/ingest/batch", &token, &body).await.expect(207);
        if round % 2 == 1 {
            let retry = app.post("/v1/hooks/ingest/batch", &token, &body).await.expect(207);
            assert!(retry["results"].as_array().unwrap().iter().all(|r| r["status"] == 200));
        }
        stored.extend(batch.iter().copied());
        // Intact exactly when what is stored is the chain's beginning, with no gap.
        let prefix = stored.iter().copied().eq(0..stored.len());
        let status = app.get(&format!("/v1/sessions/{session}"), &token).await.expect(200);
        let expected = if prefix { "intact" } else { "broken" };
        assert_eq!(status["session"]["chainStatus"], expected, "after batch {round}");
    }
    assert_eq!(stored.len(), 60);
    app.post("/v1/hooks/ingest", &token, &events[30]).await.expect(200);

    let log = signed_log(&app, &org.key, &session, "").await;
    assert_eq!(
        log["chain"],
        json!({"status": "intact", "signedCount": 60, "verifiedCount": 60, "eventCount": 60})
    );
    let in_order: Vec<String> =
        events.iter().map(|event| event["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids(&log["events"]), in_order);

    // Paged with limit and after, the pages add up to the same log.
    let mut paged = Vec::new();
    let mut query = "?limit=25".to_owned();
    loop {
        let page = signed_log(&app, &token, &session, &query).await;
        assert_eq!(page["chain"]["status"], "intact", "chain describes the whole session");
        paged.extend(ids(&page["events"]));
        if page["hasMore"] == false {
            break;
        }
        query = format!("?limit=25&after={}", paged.last().unwrap());
    }
    assert_eq!(paged, in_order);
}

async fn redeem_keeps_the_first_signing_key(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate_key(&app).await;
    let first = SecretSeed::from_bytes([1; 32]).public_key().to_base64();
    let second = SecretSeed::from_bytes([2; 32]).public_key().to_base64();
    for bad in [json!("not base64"), json!("AAAA"), json!(7)] {
        let body = json!({"key": key, "signingPubKey": bad});
        let refused = app.send_json(Method::POST, "/v1/candidate/redeem", None, &body).await;
        assert_eq!(refused.body["details"][0]["path"], "signingPubKey", "{bad}");
        refused.expect(400);
    }
    let (session, _) = redeem_signed(&app, &key, &first).await;
    let (again, _) = redeem_signed(&app, &key, &first).await;
    assert_eq!(again, session, "the same key again is fine");
    let body = json!({"key": key, "signingPubKey": second});
    let conflict = app.send_json(Method::POST, "/v1/candidate/redeem", None, &body).await;
    assert_eq!(conflict.code(), "conflict");
    conflict.expect(409);
    let log = signed_log(&app, &org.key, &session, "").await;
    assert_eq!(log["signingPubkey"], first.as_str(), "the first key stays");
    assert_eq!(log["chain"]["status"], "intact", "no event yet, nothing broken");

    // A session that already holds unsigned events cannot be given a key.
    let (late_org, late_key) = candidate_key(&app).await;
    let unsigned = app.redeem(&late_key).await;
    let late_session = unsigned["sessionId"].as_str().unwrap();
    let event = crate::ingest::envelope(
        late_session,
        "prompt",
        "2026-04-01T10:00:00Z",
        json!({"text": "x"}),
    );
    app.post("/v1/hooks/ingest", &late_key, &event).await.expect(201);
    let body = json!({"key": late_key, "signingPubKey": first});
    app.send_json(Method::POST, "/v1/candidate/redeem", None, &body).await.expect(409);
    let log = signed_log(&app, &late_org.key, late_session, "").await;
    assert_eq!(
        log["chain"],
        json!({"status": "unsigned", "signedCount": 0, "verifiedCount": 0, "eventCount": 1})
    );
    assert_eq!(log["signingPubkey"], Value::Null);
    assert_eq!(log["events"][0]["sigVerified"], Value::Null);
    assert!(log["events"][0]["eventHash"].as_str().is_some_and(|hash| hash.len() == 64));
}

async fn the_signed_log_is_read_like_the_timeline(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate_key(&app).await;
    let public_key = SecretSeed::from_bytes([3; 32]).public_key().to_base64();
    let (session, _) = redeem_signed(&app, &key, &public_key).await;
    let path = format!("/v1/sessions/{session}/signed-log");
    app.get(&path, &key).await.expect(200);
    let other = app.org("Globex");
    app.get(&path, &other.key).await.expect(404);
    let (_, stranger) = candidate_key(&app).await;
    app.get(&path, &stranger).await.expect(404);
    let unknown = app.get(&format!("{path}?after={}", uuid::Uuid::new_v4()), &org.key).await;
    assert_eq!(unknown.code(), "invalid_query");
    unknown.expect(400);
    app.get(&format!("{path}?limit=ten"), &org.key).await.expect(400);
    app.get("/v1/sessions/nope/signed-log", &org.key).await.expect(404);
}

on_both_backends!(
    the_shared_vectors_verify_and_chain_through_the_api,
    a_tampered_event_breaks_the_chain_at_itself,
    a_missing_link_breaks_the_chain_after_the_gap,
    an_unsigned_event_in_a_signed_session_breaks_the_chain,
    a_chain_delivered_out_of_order_in_batches_and_retried_is_intact,
    redeem_keeps_the_first_signing_key,
    the_signed_log_is_read_like_the_timeline,
);
