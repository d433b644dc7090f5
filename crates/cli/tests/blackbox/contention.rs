//! Overlapping batches of one candidate on PostgreSQL, the traffic of issue 17: 32 batches of 500 events sent at
//! once, each spread over the same 64 sessions of one candidate key, as concurrent hook calls of one candidate
//! flush them. It once gave 500s (`deadlock detected`) and 503s (connections not had in time). Every batch must
//! now be stored whole, with no 5xx, and every event exactly once; then the same batches sent again at once are
//! all duplicates and change nothing.

use std::sync::Barrier;
use std::time::Instant;

use serde_json::{json, Value};

use crate::support::database::{Backend, TestDatabase};
use crate::support::fixture::{self, UNLIMITED};
use crate::support::{Client, Reply, Server};

const BATCHES: usize = 32;
const EVENTS_PER_BATCH: usize = 500;
const SESSIONS: usize = 64;

#[test]
fn overlapping_batches_of_one_candidate_all_commit_on_postgres() {
    let database = TestDatabase::new(Backend::Postgres);
    let server = Server::start_with(&database.url, &UNLIMITED, None);
    let reviewer_key = fixture::create_org(&database.url);
    let tenant = fixture::tenant(&server.base_url, reviewer_key.clone(), 1);
    let key = tenant.candidate_keys[0].as_str();
    let sessions: Vec<String> = (0..SESSIONS).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let bodies: Vec<Vec<u8>> = (0..BATCHES).map(|batch| batch_body(batch, &sessions)).collect();

    let started = Instant::now();
    let first = send_all_at_once(&server.base_url, key, &bodies);
    let elapsed = started.elapsed();
    for reply in &first {
        assert_eq!(reply.status, 207, "{} (Retry-After {:?})", reply.body, reply.retry_after);
        assert!(statuses(reply).iter().all(|status| *status == 201), "{}", reply.body);
    }
    println!(
        "{} events in {BATCHES} overlapping batches stored in {elapsed:?} ({:.0} events/s)",
        BATCHES * EVENTS_PER_BATCH,
        (BATCHES * EVENTS_PER_BATCH) as f64 / elapsed.as_secs_f64()
    );
    assert_stored_once(&database, &server, &reviewer_key, &sessions);

    // The client retries every batch at once (its acknowledgement was lost): all duplicates, nothing changes.
    for reply in send_all_at_once(&server.base_url, key, &bodies) {
        assert_eq!(reply.status, 207, "{}", reply.body);
        assert!(statuses(&reply).iter().all(|status| *status == 200), "{}", reply.body);
    }
    assert_stored_once(&database, &server, &reviewer_key, &sessions);
    assert!(server.terminate().success());
}

/// Batch `batch`: events over every session, walked from an offset of its own and, for every other batch,
/// backwards, so that no two batches meet the sessions in the same order.
fn batch_body(batch: usize, sessions: &[String]) -> Vec<u8> {
    let events: Vec<Value> = (0..EVENTS_PER_BATCH)
        .map(|index| {
            let step = if batch.is_multiple_of(2) { index } else { EVENTS_PER_BATCH * SESSIONS - index };
            let session = &sessions[(step + batch * 7) % SESSIONS];
            let second = batch * EVENTS_PER_BATCH + index;
            json!({
                "id": uuid::Uuid::new_v4().to_string(), "sessionId": session,
                "ts": format!("2026-04-01T{:02}:{:02}:{:02}Z", 8 + second / 3600, second / 60 % 60, second % 60),
                "kind": "prompt", "source": {"integration": "claude-code"}, "v": 1,
                "data": {"text": format!("step {second}")},
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "events": events })).unwrap()
}

/// Sends every body from a thread and connection of its own, released together.
fn send_all_at_once(base_url: &str, key: &str, bodies: &[Vec<u8>]) -> Vec<Reply> {
    let barrier = Barrier::new(bodies.len());
    std::thread::scope(|scope| {
        let sending: Vec<_> = bodies
            .iter()
            .map(|body| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let client = Client::new(base_url);
                    barrier.wait();
                    client
                        .try_post_raw("/v1/hooks/ingest/batch", ("X-API-Key", key), body)
                        .expect("the batch reaches the server")
                })
            })
            .collect();
        sending.into_iter().map(|thread| thread.join().unwrap()).collect()
    })
}

fn statuses(reply: &Reply) -> Vec<u64> {
    let results = reply.body["results"].as_array().expect("a result per event");
    assert_eq!(results.len(), EVENTS_PER_BATCH, "{}", reply.body);
    results.iter().map(|result| result["status"].as_u64().unwrap()).collect()
}

/// Every event sent is stored once, with its envelope, and counted once in its session's aggregates.
fn assert_stored_once(
    database: &TestDatabase,
    server: &Server,
    reviewer_key: &str,
    sessions: &[String],
) {
    let total = i64::try_from(BATCHES * EVENTS_PER_BATCH).unwrap();
    let counts = database.check_opens_cleanly();
    assert_eq!((counts.rows, counts.distinct_ids, counts.enveloped_rows), (total, total, total));
    let client = Client::new(&server.base_url);
    let counted: u64 = sessions
        .iter()
        .map(|session| {
            let (status, read) = client.get(&format!("/v1/sessions/{session}"), Some(reviewer_key));
            assert_eq!(status, 200, "{read}");
            read["session"]["eventCount"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(counted, u64::try_from(total).unwrap());
}
