//! One candidate ending long sessions does not slow another org's ingest (issue 17): eight threads end sessions of
//! 1,500 events each over and over (`PATCH endedAt`, which derives the artifacts) while another org's candidate
//! posts single events, against a real server. Ending a session reads its aggregates, not its timeline, so on
//! SQLite, whose one writer every end holds, the other org's latency stays near what it is without them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::database::{Backend, TestDatabase};
use crate::support::fixture::{create_org, tenant, UNLIMITED};
use crate::support::{Client, Server};

const LONG_SESSIONS: usize = 8;
const EVENTS_PER_SESSION: usize = 1_500;

fn event(session: &str, index: usize) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(), "sessionId": session, "v": 1, "kind": "command",
        "ts": format!("2026-04-01T{:02}:{:02}:{:02}Z", 10 + index / 3600, index / 60 % 60, index % 60),
        "source": "hook",
        "data": {"command": "cargo test", "exitCode": index % 2, "stdout": "ok ".repeat(100), "tool": "Bash"},
    })
}

/// Milliseconds of single-event ingest by another org's candidate while `running` holds.
fn other_org_latencies(client: &Client, key: &str, running: &AtomicBool) -> Vec<f64> {
    let credential = ("X-API-Key", key);
    let mut latencies = Vec::new();
    let mut index = 0;
    while running.load(Ordering::Relaxed) {
        let body = event("bystander", index);
        let started = Instant::now();
        let reply =
            client.try_post("/v1/hooks/ingest", &credential, &body).expect("reach the server");
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(reply.status, 201, "{}", reply.body);
        index += 1;
    }
    latencies
}

fn percentile(latencies: &mut [f64], quantile: f64) -> f64 {
    latencies.sort_by(f64::total_cmp);
    let rank = ((latencies.len() as f64 * quantile).ceil() as usize).clamp(1, latencies.len());
    latencies[rank - 1]
}

fn measure_while(
    client: &Client,
    key: &str,
    seconds: u64,
    background: impl Fn(&AtomicBool) + Sync,
) -> Vec<f64> {
    let running = AtomicBool::new(true);
    std::thread::scope(|scope| {
        let busy: Vec<_> =
            (0..LONG_SESSIONS).map(|_| scope.spawn(|| background(&running))).collect();
        let measured = scope.spawn(|| other_org_latencies(client, key, &running));
        std::thread::sleep(Duration::from_secs(seconds));
        running.store(false, Ordering::Relaxed);
        for thread in busy {
            thread.join().expect("a background thread");
        }
        measured.join().expect("the measuring thread")
    })
}

fn ending_long_sessions_does_not_slow_another_org(backend: Backend) {
    let database = TestDatabase::new(backend);
    let reviewer = create_org(&database.url);
    let bystander_reviewer = create_org(&database.url);
    let server = Server::start_with(&database.url, &UNLIMITED, None);
    let candidate = tenant(&server.base_url, reviewer.clone(), 1).candidate_keys.remove(0);
    let bystander = tenant(&server.base_url, bystander_reviewer, 1).candidate_keys.remove(0);
    let client = Client::new(&server.base_url);
    let credential = ("X-API-Key", candidate.as_str());
    for session in 0..LONG_SESSIONS {
        let events: Vec<Value> =
            (0..EVENTS_PER_SESSION).map(|index| event(&format!("long-{session}"), index)).collect();
        for chunk in events.chunks(500) {
            let reply = client
                .try_post("/v1/hooks/ingest/batch", &credential, &json!({"events": chunk}))
                .unwrap();
            assert_eq!(reply.status, 207);
        }
    }

    let mut quiet = measure_while(&client, &bystander, 3, |_| {});
    let ends = std::sync::atomic::AtomicUsize::new(0);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut busy = measure_while(&client, &bystander, 5, |running| {
        let client = Client::new(&server.base_url);
        let session = format!("long-{}", next.fetch_add(1, Ordering::Relaxed));
        let mut minute = 0;
        while running.load(Ordering::Relaxed) {
            minute += 1;
            let ended = format!("2026-04-02T{:02}:{:02}:00Z", minute / 60 % 24, minute % 60);
            let (status, body) = client.patch(
                &format!("/v1/sessions/{session}"),
                &reviewer,
                &json!({"endedAt": ended}),
            );
            assert_eq!(status, 200, "{body}");
            ends.fetch_add(1, Ordering::Relaxed);
        }
    });
    let [quiet_p50, quiet_p90, quiet_p99] = [0.5, 0.9, 0.99].map(|q| percentile(&mut quiet, q));
    let [busy_p50, busy_p90, busy_p99] = [0.5, 0.9, 0.99].map(|q| percentile(&mut busy, q));
    let ends = ends.load(Ordering::Relaxed);
    eprintln!(
        "{backend:?}: another org's single-event ingest, ms p50/p90/p99/max: alone \
         {quiet_p50:.1}/{quiet_p90:.1}/{quiet_p99:.1}/{:.1} \
         ({} requests); while {LONG_SESSIONS} threads end {EVENTS_PER_SESSION}-event sessions ({ends} ends in 5 s) \
         {busy_p50:.1}/{busy_p90:.1}/{busy_p99:.1}/{:.1} ({} requests)",
        quiet.last().unwrap(),
        quiet.len(),
        busy.last().unwrap(),
        busy.len(),
    );
    let (_, artifacts) = client.get("/v1/sessions/long-0/artifacts", Some(&reviewer));
    let analytics =
        artifacts["artifacts"].as_array().unwrap().iter().find(|a| a["kind"] == "analytics_v1");
    assert_eq!(analytics.unwrap()["data"]["eventCounts"]["command"], EVENTS_PER_SESSION);
    assert!(ends >= LONG_SESSIONS, "the ends were not under way: {ends}");
    if backend == Backend::Sqlite {
        // SQLite has one writer, which every end used to hold while it read a whole timeline: the other org's
        // median was 130 ms and its p99 220 ms here (debug build) before ends read the aggregates, 23 and 57
        // after. Generous bounds, for a shared machine. The tail is bounded at p90, not p99: of the 200-500
        // requests measured, the p99 is the second to fifth slowest, which the other tests running beside this
        // one on two cores decide (321 ms once in CI, 30-49 ms alone, with a median of 8-11 ms both times).
        // PostgreSQL runs writers side by side; there the other org waits on the pool, which the eight enders
        // hold, whatever they do with it.
        assert!(
            busy_p50 < 70.0,
            "another org's median rose to {busy_p50:.1} ms while sessions were ended"
        );
        assert!(
            busy_p90 < 120.0,
            "another org's p90 rose to {busy_p90:.1} ms while sessions were ended"
        );
    }
}

#[test]
fn ending_long_sessions_does_not_slow_another_org_on_sqlite() {
    ending_long_sessions_does_not_slow_another_org(Backend::Sqlite);
}

#[test]
fn ending_long_sessions_does_not_slow_another_org_on_postgres() {
    ending_long_sessions_does_not_slow_another_org(Backend::Postgres);
}
