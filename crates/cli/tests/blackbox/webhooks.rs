//! Webhooks delivered by the real binary to a real receiver on 127.0.0.1 (spec §12), on both backends: each event
//! arrives once, signed (checked by the verification script of docs/WEBHOOKS.md), with the body the API shows; a
//! failing receiver gets it on the fourth try; a delivery survives SIGKILL; a receiver that takes 30 s delays no
//! API request; two instances on one PostgreSQL database send each event once.

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::database::{Backend, TestDatabase};
use crate::support::fixture::{self, UNLIMITED};
use crate::support::receiver::{Received, Receiver};
use crate::support::{Client, Server};

/// The retry base the tests serve with: 200 ms, 400 ms, 800 ms… instead of 30 s, 1 min, 2 min…
const RETRY_BASE_MS: u64 = 200;

fn settings() -> Vec<(&'static str, &'static str)> {
    let mut settings = UNLIMITED.to_vec();
    settings.push(("TRACELINE_WEBHOOK_ALLOW_PRIVATE", "1"));
    settings.push(("TRACELINE_WEBHOOK_RETRY_BASE_MS", "200"));
    settings
}

fn serve(database: &TestDatabase) -> Server {
    Server::start_with(&database.url, &settings(), None)
}

/// Subscribes `url` to `events`; returns the webhook's id and secret.
fn subscribe(client: &Client, key: &str, url: &str, events: &[&str]) -> (String, String) {
    let (status, created) =
        client.post("/v1/webhooks", key, &json!({"url": url, "events": events}));
    assert_eq!(status, 201, "{created}");
    (
        created["webhook"]["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

/// An assessment with one key for Ada; returns (assessment id, key id, key).
fn candidate(client: &Client, key: &str) -> (String, String, String) {
    let body =
        json!({"title": "Rate limiter", "role": "Backend", "taskBrief": "Add a token bucket"});
    let (_, created) = client.post("/v1/assessments", key, &body);
    let assessment = created["assessment"]["id"].as_str().unwrap().to_owned();
    let body =
        json!({"count": 1, "candidateNames": ["Ada"], "candidateEmails": ["ada@example.com"]});
    let (status, keys) = client.post(&format!("/v1/assessments/{assessment}/keys"), key, &body);
    assert_eq!(status, 201, "{keys}");
    let issued = &keys["keys"][0];
    (
        assessment,
        issued["id"].as_str().unwrap().to_owned(),
        issued["key"].as_str().unwrap().to_owned(),
    )
}

fn hire(client: &Client, key: &str, assessment: &str, key_id: &str) {
    let path = format!("/v1/assessments/{assessment}/keys/{key_id}");
    let (status, body) = client.patch(&path, key, &json!({"status": "hired"}));
    assert_eq!(status, 200, "{body}");
}

/// Runs the verification script of docs/WEBHOOKS.md on a captured delivery, as a receiver's developer would.
fn script_verifies(secret: &str, delivery: &Received) -> bool {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/verify_webhook.py");
    let mut child = Command::new("python3")
        .args([script, secret, &delivery.headers["traceline-signature"], "600"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("run python3");
    child.stdin.take().unwrap().write_all(&delivery.body).unwrap();
    child.wait().unwrap().success()
}

fn of_type<'a>(received: &'a [Received], kind: &str) -> Vec<&'a Received> {
    received.iter().filter(|request| request.event_type() == kind).collect()
}

fn a_completed_session_and_a_hire_arrive_once_signed(backend: Backend) {
    let database = TestDatabase::new(backend);
    let key = fixture::create_org(&database.url);
    let server = serve(&database);
    let client = Client::new(&server.base_url);
    let receiver = Receiver::start(&[], Duration::ZERO);
    let events = ["key.redeemed", "session.ended", "session.completed", "candidate.hired"];
    let (_, secret) = subscribe(&client, &key, &receiver.url, &events);

    let (assessment, key_id, candidate_key) = candidate(&client, &key);
    let redeemed =
        client.try_post("/v1/candidate/redeem", &("X-API-Key", ""), &json!({"key": candidate_key}));
    let session = redeemed.unwrap().body["sessionId"].as_str().unwrap().to_owned();
    let complete = client.try_post(
        "/v1/candidate/complete",
        &("X-API-Key", &candidate_key),
        &json!({"sessionId": session}),
    );
    assert_eq!(complete.unwrap().status, 200);
    hire(&client, &key, &assessment, &key_id);

    receiver.wait_for(Duration::from_secs(20), |received| {
        events.iter().all(|kind| !of_type(received, kind).is_empty())
    });
    // Time for a duplicate to show up, if there were one.
    std::thread::sleep(Duration::from_secs(2));
    let received = receiver.received();
    for kind in events {
        assert_eq!(
            of_type(&received, kind).len(),
            1,
            "{kind} arrived {} times",
            of_type(&received, kind).len()
        );
    }
    for delivery in &received {
        let body = delivery.json();
        assert_eq!(delivery.headers["traceline-event-id"], body["id"].as_str().unwrap());
        assert_eq!(delivery.headers["content-type"], "application/json");
        assert!(script_verifies(&secret, delivery), "the signature of {body} does not verify");
        let mut tampered = delivery.clone();
        tampered.body.extend_from_slice(b" ");
        assert!(!script_verifies(&secret, &tampered), "a changed body verified");
        assert!(!script_verifies("whsec_wrong", delivery), "a wrong secret verified");
    }
    // The bodies hold the session and the candidate exactly as the API shows them now.
    let (_, shown) = client.get(&format!("/v1/sessions/{session}"), Some(&key));
    let completed = of_type(&received, "session.completed")[0].json();
    assert_eq!(completed["data"]["session"], shown["session"]);
    assert_eq!(completed["data"]["key"]["status"], "completed");
    let (_, candidates) = client.get("/v1/candidates", Some(&key));
    let hired = of_type(&received, "candidate.hired")[0].json();
    assert_eq!(hired["data"]["candidate"], candidates["candidates"][0]);
    assert_eq!(hired["data"]["candidate"]["status"], "hired");
    let redeemed = of_type(&received, "key.redeemed")[0].json();
    assert_eq!(redeemed["data"]["key"]["status"], "active");
    assert_eq!(redeemed["data"]["key"]["sessionId"], session.as_str());
}

fn a_failing_receiver_gets_it_on_the_fourth_try(backend: Backend) {
    let database = TestDatabase::new(backend);
    let key = fixture::create_org(&database.url);
    let server = serve(&database);
    let client = Client::new(&server.base_url);
    let receiver = Receiver::start(&[500, 503, 500], Duration::ZERO);
    let (webhook, _) = subscribe(&client, &key, &receiver.url, &["candidate.hired"]);
    let (assessment, key_id, _) = candidate(&client, &key);
    hire(&client, &key, &assessment, &key_id);

    let received = receiver.wait_for(Duration::from_secs(30), |received| received.len() >= 4);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(receiver.received().len(), 4, "nothing is sent after the delivery succeeded");
    let first = &received[0];
    for retry in &received[1..] {
        assert_eq!(retry.body, first.body, "every attempt sends the same body");
        assert_eq!(retry.headers["traceline-event-id"], first.headers["traceline-event-id"]);
    }
    // The waits grow: about 200, 400 and 800 ms.
    for (index, pair) in received.windows(2).enumerate() {
        let waited = pair[1].at - pair[0].at;
        let planned = Duration::from_millis(RETRY_BASE_MS << index);
        assert!(waited >= planned, "retry {} came after {waited:?}, before {planned:?}", index + 1);
    }
    let (_, log) = client.get(&format!("/v1/webhooks/{webhook}/deliveries"), Some(&key));
    let delivery = &log["deliveries"][0];
    assert_eq!(
        (&delivery["status"], &delivery["attempts"], &delivery["lastStatusCode"]),
        (&json!("delivered"), &json!(4), &json!(200)),
        "{log}"
    );
    assert!(delivery["lastLatencyMs"].is_i64() && delivery["deliveredAt"].is_string(), "{log}");
}

fn a_delivery_survives_sigkill(backend: Backend) {
    let database = TestDatabase::new(backend);
    let key = fixture::create_org(&database.url);
    let server = serve(&database);
    let address = server.address().to_owned();
    let client = Client::new(&server.base_url);
    // A port nobody listens on yet: the receiver starts only after the crash.
    let reserved = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = reserved.local_addr().unwrap().port();
    drop(reserved);
    let url = format!("http://127.0.0.1:{port}/hook");
    let (webhook, secret) = subscribe(&client, &key, &url, &["candidate.hired"]);
    let (assessment, key_id, _) = candidate(&client, &key);
    hire(&client, &key, &assessment, &key_id);
    // The change committed; the delivery has failed at least once, and is not delivered.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, log) = client.get(&format!("/v1/webhooks/{webhook}/deliveries"), Some(&key));
        if log["deliveries"][0]["attempts"].as_i64().unwrap_or(0) >= 1 {
            assert_eq!(log["deliveries"][0]["status"], "pending", "{log}");
            break;
        }
        assert!(Instant::now() < deadline, "no attempt was made: {log}");
        std::thread::sleep(Duration::from_millis(50));
    }
    server.kill();

    let receiver =
        Receiver::start_on(TcpListener::bind(("127.0.0.1", port)).unwrap(), &[], Duration::ZERO);
    let _restarted = Server::start_on_with(&database.url, &address, &settings());
    // Up to the sender's lease (60 s) if the crash came in the middle of an attempt.
    let received = receiver.wait_for(Duration::from_secs(90), |received| !received.is_empty());
    assert_eq!(received[0].event_type(), "candidate.hired");
    assert!(script_verifies(&secret, &received[0]));
}

fn a_slow_receiver_delays_no_request(backend: Backend) {
    let database = TestDatabase::new(backend);
    let key = fixture::create_org(&database.url);
    let server = serve(&database);
    let client = Client::new(&server.base_url);
    let receiver = Receiver::start(&[], Duration::from_secs(30));
    subscribe(
        &client,
        &key,
        &receiver.url,
        &["candidate.hired", "key.redeemed", "session.completed"],
    );
    // More deliveries than the sender has workers, so every one of them waits on the receiver.
    for _ in 0..6 {
        let (assessment, key_id, _) = candidate(&client, &key);
        hire(&client, &key, &assessment, &key_id);
    }
    receiver.wait_for(Duration::from_secs(10), |received| received.len() >= 4);

    let (_, _, candidate_key) = candidate(&client, &key);
    let redeemed =
        client.try_post("/v1/candidate/redeem", &("X-API-Key", ""), &json!({"key": candidate_key}));
    let session = redeemed.unwrap().body["sessionId"].as_str().unwrap().to_owned();
    let mut slowest = Duration::ZERO;
    let until = Instant::now() + Duration::from_secs(12);
    let mut n = 0;
    while Instant::now() < until {
        let started = Instant::now();
        let event = json!({
            "id": uuid_like(n), "sessionId": session, "ts": "2026-04-01T10:00:00Z", "kind": "prompt",
            "source": "hook", "v": 1, "data": {"text": "next step"},
        });
        let ingested =
            client.try_post("/v1/hooks/ingest", &("X-API-Key", &candidate_key), &event).unwrap();
        assert_eq!(ingested.status, 201, "{}", ingested.body);
        let (status, _) = client.get(&format!("/v1/sessions/{session}"), Some(&key));
        assert_eq!(status, 200);
        let (assessment, key_id, _) = candidate(&client, &key);
        hire(&client, &key, &assessment, &key_id);
        slowest = slowest.max(started.elapsed());
        n += 1;
    }
    assert!(
        slowest < Duration::from_secs(2),
        "a round of requests took {slowest:?} while the receiver stalled"
    );
    eprintln!(
        "{n} rounds of 5 requests while the receiver stalled; the slowest round took {slowest:?}"
    );
}

fn uuid_like(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

#[test]
fn a_completed_session_and_a_hire_arrive_once_signed_on_sqlite() {
    a_completed_session_and_a_hire_arrive_once_signed(Backend::Sqlite);
}

#[test]
fn a_completed_session_and_a_hire_arrive_once_signed_on_postgres() {
    a_completed_session_and_a_hire_arrive_once_signed(Backend::Postgres);
}

#[test]
fn a_failing_receiver_gets_it_on_the_fourth_try_on_sqlite() {
    a_failing_receiver_gets_it_on_the_fourth_try(Backend::Sqlite);
}

#[test]
fn a_failing_receiver_gets_it_on_the_fourth_try_on_postgres() {
    a_failing_receiver_gets_it_on_the_fourth_try(Backend::Postgres);
}

#[test]
fn a_delivery_survives_sigkill_on_sqlite() {
    a_delivery_survives_sigkill(Backend::Sqlite);
}

#[test]
fn a_delivery_survives_sigkill_on_postgres() {
    a_delivery_survives_sigkill(Backend::Postgres);
}

#[test]
fn a_slow_receiver_delays_no_request_on_sqlite() {
    a_slow_receiver_delays_no_request(Backend::Sqlite);
}

#[test]
fn a_slow_receiver_delays_no_request_on_postgres() {
    a_slow_receiver_delays_no_request(Backend::Postgres);
}

#[test]
fn two_instances_send_each_event_once() {
    let database = TestDatabase::new(Backend::Postgres);
    let key = fixture::create_org(&database.url);
    let servers = [serve(&database), serve(&database)];
    let client = Client::new(&servers[0].base_url);
    let receiver = Receiver::start(&[], Duration::from_millis(50));
    subscribe(&client, &key, &receiver.url, &["candidate.hired"]);
    for _ in 0..12 {
        let (assessment, key_id, _) = candidate(&client, &key);
        hire(&client, &key, &assessment, &key_id);
    }
    receiver.wait_for(Duration::from_secs(30), |received| received.len() >= 12);
    std::thread::sleep(Duration::from_secs(2));
    let mut ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|request| request.headers["traceline-event-id"].clone())
        .collect();
    ids.sort();
    let total = ids.len();
    ids.dedup();
    assert_eq!((total, ids.len()), (12, 12), "an event was sent twice");
}
