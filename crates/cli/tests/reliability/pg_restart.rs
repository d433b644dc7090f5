//! PostgreSQL stopped and started again under load, Traceline left running: while the database is away every
//! request is a quick 503 `service_unavailable` JSON error with `Retry-After` (never a 500, never a hang), and
//! once it is back requests succeed again, stale pooled connections included.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::fixture::{self, UNLIMITED};
use crate::support::pg_cluster::{self, PrivateCluster};
use crate::support::{Client, Server};

const CLIENTS: usize = 3;
/// The pool's wait for a connection in this test; a request while the database is away takes about this long.
const CONNECT_TIMEOUT_MS: u64 = 500;

struct Call {
    started: Instant,
    finished: Instant,
    /// `None` for a transport failure.
    status: Option<u16>,
    body: Value,
    retry_after: Option<String>,
    /// The event this call tried to ingest, if it was an ingest.
    event: Option<Value>,
}

fn event(session: &str, n: u64) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(), "sessionId": session, "kind": "prompt",
        "ts": format!("2026-05-01T{:02}:{:02}:{:02}Z", n / 3600 % 24, n / 60 % 60, n % 60),
        "source": "cli", "v": 1, "data": {"text": "again"},
    })
}

/// Alternates an ingest with reads of the session and its metrics, recording every answer.
fn load(base_url: &str, key: &str, session: &str, stop: &AtomicBool) -> Vec<Call> {
    let client = Client::new(base_url);
    let mut calls = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let body = event(session, n);
        let started = Instant::now();
        let reply = client.try_post("/v1/hooks/ingest", &("X-API-Key", key), &body);
        let stored = matches!(&reply, Ok(reply) if reply.status == 201);
        calls.push(call(started, reply, Some(body)));
        if stored {
            for path in
                [format!("/v1/sessions/{session}"), format!("/v1/sessions/{session}/metrics")]
            {
                let started = Instant::now();
                calls.push(call(started, client.try_get_as(&path, ("X-API-Key", key)), None));
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    calls
}

fn call(
    started: Instant,
    reply: Result<crate::support::Reply, ureq::Error>,
    event: Option<Value>,
) -> Call {
    let finished = Instant::now();
    match reply {
        Ok(reply) => Call {
            started,
            finished,
            status: Some(reply.status),
            body: reply.body,
            retry_after: reply.retry_after,
            event,
        },
        Err(error) => Call {
            started,
            finished,
            status: None,
            body: json!(error.to_string()),
            retry_after: None,
            event,
        },
    }
}

#[test]
fn postgres_restart_under_load_gives_503_then_recovers() {
    let _serial = crate::one_at_a_time();
    let Some(bin) = pg_cluster::binaries() else {
        println!(
            "SKIPPED: no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin, \
             TRACELINE_PG_BIN or pg_config --bindir; this test needs a private cluster it can restart"
        );
        return;
    };
    let cluster = PrivateCluster::start_new(bin);
    let url = cluster.url();
    let reviewer_key = fixture::create_org(&url);
    let timeout = CONNECT_TIMEOUT_MS.to_string();
    let mut env = UNLIMITED.to_vec();
    env.push(("TRACELINE_DB_CONNECT_TIMEOUT_MS", &timeout));
    let log = tempfile::NamedTempFile::new().unwrap();
    let server = Server::start_with(&url, &env, Some(log.path()));
    let tenant = fixture::tenant(&server.base_url, reviewer_key, CLIENTS);
    let sessions: Vec<String> = (0..CLIENTS).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let stop = AtomicBool::new(false);

    let (stopped_at, restarted_at, calls) = std::thread::scope(|scope| {
        let threads: Vec<_> = tenant
            .candidate_keys
            .iter()
            .zip(&sessions)
            .map(|(key, session)| {
                let (base_url, stop) = (&server.base_url, &stop);
                scope.spawn(move || load(base_url, key, session, stop))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(1000));
        let stopped_at = Instant::now();
        cluster.stop_immediately();
        std::thread::sleep(Duration::from_millis(2000));
        let restarted_at = Instant::now();
        cluster.start_server();
        std::thread::sleep(Duration::from_millis(2500));
        stop.store(true, Ordering::Relaxed);
        let calls: Vec<Call> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        (stopped_at, restarted_at, calls)
    });

    let mut unavailable = 0;
    for call in &calls {
        let status = call.status.unwrap_or_else(|| panic!("transport failure: {}", call.body));
        match status {
            200 | 201 => {}
            503 => {
                unavailable += 1;
                assert_eq!(call.body["code"], "service_unavailable", "{}", call.body);
                assert!(call.body["error"].is_string(), "{}", call.body);
                assert!(call.retry_after.is_some(), "a 503 without Retry-After");
                let waited = call.finished - call.started;
                assert!(
                    waited < Duration::from_millis(CONNECT_TIMEOUT_MS + 1500),
                    "503 after {waited:?}"
                );
            }
            _ => panic!("answered {status} while PostgreSQL restarted: {}", call.body),
        }
    }
    // Requests made entirely while the database was away were refused; shortly after it came back, all pass.
    let away = |c: &&Call| {
        c.started > stopped_at + Duration::from_millis(300) && c.finished < restarted_at
    };
    assert!(
        calls.iter().filter(away).count() >= CLIENTS,
        "too few requests while the database was away"
    );
    assert!(
        calls.iter().filter(away).all(|c| c.status == Some(503)),
        "a request succeeded while away"
    );
    let recovered_at = calls
        .iter()
        .filter(|c| c.started > restarted_at && matches!(c.status, Some(200 | 201)))
        .map(|c| c.finished)
        .min()
        .expect("no request succeeded after PostgreSQL came back");
    let late = |c: &&Call| c.started > recovered_at + Duration::from_millis(500);
    assert!(calls.iter().filter(late).count() >= CLIENTS, "too few requests after recovery");
    assert!(
        calls.iter().filter(late).all(|c| matches!(c.status, Some(200 | 201))),
        "not recovered"
    );

    // What was refused was not stored: a retry now stores it; what was acknowledged is all there.
    let client = Client::new(&server.base_url);
    let refused: Vec<&Value> =
        calls.iter().filter(|c| c.status == Some(503)).filter_map(|c| c.event.as_ref()).collect();
    for (session, key) in sessions.iter().zip(&tenant.candidate_keys) {
        let retried: Vec<&&Value> =
            refused.iter().filter(|e| e["sessionId"] == **session).collect();
        if !retried.is_empty() {
            let reply = client
                .try_post(
                    "/v1/hooks/ingest/batch",
                    &("X-API-Key", key),
                    &json!({"events": retried}),
                )
                .unwrap();
            assert_eq!(reply.status, 207, "{}", reply.body);
        }
    }
    let mut stored = 0;
    for session in &sessions {
        let (status, body) =
            client.get(&format!("/v1/sessions/{session}"), Some(&tenant.reviewer_key));
        assert_eq!(status, 200, "{body}");
        stored += body["session"]["eventCount"].as_u64().unwrap();
    }
    let sent = calls.iter().filter(|c| c.event.is_some()).count() as u64;
    assert_eq!(stored, sent, "every event sent is stored exactly once after the retries");
    println!(
        "{} calls, {unavailable} answered 503 while PostgreSQL was away; first success {:?} after restart",
        calls.len(),
        recovered_at - restarted_at,
    );
}
