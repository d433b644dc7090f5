//! The ingest workload of the failure tests and the check that follows it.
//!
//! Client threads post new events (one at a time and in batches) and retry ids they sent before, keeping a
//! ledger of every answer. An id answered 201 or 200 is *acknowledged*; one whose request failed in transport
//! (the server died) is *unknown*: it may or may not be stored, but at most once. The check then reads every
//! session back and recomputes its counters and metrics from the timeline actually stored.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{Client, Reply};

/// A small deterministic generator (SplitMix64), so a failing run can be replayed from its printed seed.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// `TRACELINE_TEST_SEED` when set, else the clock.
    pub(crate) fn seed() -> u64 {
        std::env::var("TRACELINE_TEST_SEED").ok().and_then(|seed| seed.parse().ok()).unwrap_or_else(
            || {
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
                now.map(|elapsed| elapsed.as_nanos() as u64).unwrap_or(7)
            },
        )
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound`.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    pub(crate) fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to - from))
    }
}

/// What the threads and the test's main thread share: where the server is now, and when to stop.
pub(crate) struct Shared {
    pub(crate) base_url: RwLock<String>,
    pub(crate) stop: AtomicBool,
}

impl Shared {
    pub(crate) fn new(base_url: &str) -> Self {
        Shared { base_url: RwLock::new(base_url.to_owned()), stop: AtomicBool::new(false) }
    }

    pub(crate) fn move_to(&self, base_url: &str) {
        *self.base_url.write().unwrap() = base_url.to_owned();
    }
}

/// One thread's record of what it sent and what it was told.
#[derive(Default)]
pub(crate) struct Ledger {
    pub(crate) sessions: Vec<String>,
    bodies: HashMap<String, Value>,
    sent_order: Vec<String>,
    pub(crate) acked: HashSet<String>,
    pub(crate) unknown: HashSet<String>,
    pub(crate) requests: u64,
    pub(crate) transport_failures: u64,
    pub(crate) retries: u64,
    pub(crate) violations: Vec<String>,
    next_second: u64,
}

/// A realistic event of a kind that moves a counter or a metric, at second `second` of its session.
fn event(rng: &mut Rng, session: &str, second: u64) -> Value {
    let ts = format!(
        "2026-03-{:02}T{:02}:{:02}:{:02}Z",
        1 + second / 86_400,
        second / 3600 % 24,
        second / 60 % 60,
        second % 60
    );
    let (kind, data) = match rng.below(6) {
        0 => ("prompt", json!({"text": "make the tests pass", "tokenCount": rng.below(500)})),
        1 => (
            "command",
            json!({"command": "cargo test", "exitCode": rng.below(2), "durationMs": 900}),
        ),
        2 => ("command", json!({"command": "ls -la"})),
        3 => (
            "file_diff",
            json!({"path": "src/lib.rs", "linesAdded": rng.below(40), "linesRemoved": rng.below(9)}),
        ),
        4 => ("test_run", json!({"suite": "unit", "passed": 12, "failed": rng.below(2)})),
        _ => ("checkpoint", json!({"label": "saved"})),
    };
    json!({
        "id": uuid::Uuid::new_v4().to_string(), "sessionId": session, "ts": ts, "kind": kind,
        "source": {"channel": "hook", "integration": "claude-code"},
        "actor": {"type": "ai"}, "provenance": {"attribution": "likely_ai"}, "v": 1, "data": data,
    })
}

impl Ledger {
    pub(crate) fn new(sessions: usize) -> Self {
        let sessions = (0..sessions).map(|_| uuid::Uuid::new_v4().to_string()).collect();
        Ledger { sessions, ..Ledger::default() }
    }

    fn new_event(&mut self, rng: &mut Rng) -> Value {
        let session = self.sessions[rng.below(self.sessions.len() as u64) as usize].clone();
        self.next_second += 1;
        let body = event(rng, &session, self.next_second);
        let id = body["id"].as_str().unwrap().to_owned();
        self.bodies.insert(id.clone(), body.clone());
        self.sent_order.push(id);
        body
    }

    fn old_event(&mut self, rng: &mut Rng) -> Option<Value> {
        if self.sent_order.is_empty() {
            return None;
        }
        self.retries += 1;
        let id = &self.sent_order[rng.below(self.sent_order.len() as u64) as usize];
        Some(self.bodies[id].clone())
    }

    /// Records the answer for `id`; `fresh` when this request was the first to carry it.
    fn answer(&mut self, id: &str, fresh: bool, status: u64, context: &Value) {
        match status {
            201 if self.acked.contains(id) => self.violations.push(format!(
                "{id} was acknowledged before, yet a retry stored it again (201): {context}"
            )),
            200 if fresh => self
                .violations
                .push(format!("{id} was never sent, yet answered as seen: {context}")),
            201 | 200 => {}
            _ => self.violations.push(format!("{id} answered {status}: {context}")),
        }
        if status == 201 || status == 200 {
            self.acked.insert(id.to_owned());
            self.unknown.remove(id);
        }
    }

    fn lost_in_transport(&mut self, ids: &[String]) {
        self.transport_failures += 1;
        for id in ids {
            if !self.acked.contains(id) {
                self.unknown.insert(id.clone());
            }
        }
    }

    pub(crate) fn was_sent(&self, id: &str) -> bool {
        self.bodies.contains_key(id)
    }
}

/// Posts events as the candidate `key` until told to stop: 65% single new events, 20% batches of 5–60 with a
/// tenth of them retried ids, 15% single retries.
pub(crate) fn drive(shared: &Shared, key: &str, mut rng: Rng, ledger: &mut Ledger) {
    let credential = ("X-API-Key", key);
    let mut client: Option<(String, Client)> = None;
    while !shared.stop.load(Ordering::Relaxed) {
        let base_url = shared.base_url.read().unwrap().clone();
        if client.as_ref().is_none_or(|(url, _)| *url != base_url) {
            client = Some((base_url.clone(), Client::new(&base_url)));
        }
        let Some((_, http)) = &client else { continue };
        let roll = rng.below(100);
        let mut events = Vec::new();
        let mut fresh = HashSet::new();
        let size = if (65..85).contains(&roll) { 5 + rng.below(56) } else { 1 };
        for _ in 0..size {
            let retry = if roll >= 85 || (size > 1 && rng.below(10) == 0) {
                ledger.old_event(&mut rng)
            } else {
                None
            };
            let body = retry.unwrap_or_else(|| {
                let body = ledger.new_event(&mut rng);
                fresh.insert(body["id"].as_str().unwrap().to_owned());
                body
            });
            events.push(body);
        }
        let ids: Vec<String> =
            events.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
        ledger.requests += 1;
        let result = if size == 1 {
            http.try_post("/v1/hooks/ingest", &credential, &events[0])
        } else {
            http.try_post("/v1/hooks/ingest/batch", &credential, &json!({"events": events}))
        };
        match result {
            Ok(reply) => record(ledger, &ids, &fresh, size, &reply),
            Err(_) => {
                ledger.lost_in_transport(&ids);
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

fn record(ledger: &mut Ledger, ids: &[String], fresh: &HashSet<String>, size: u64, reply: &Reply) {
    if size == 1 {
        let id = &ids[0];
        let status = u64::from(reply.status);
        // A new id answered "skipped" is only wrong on its first send; a batch may repeat an id within itself.
        return ledger.answer(id, fresh.contains(id), status, &reply.body);
    }
    let Some(results) = reply.body["results"].as_array().filter(|_| reply.status == 207) else {
        ledger.violations.push(format!("batch answered {}: {}", reply.status, reply.body));
        return;
    };
    let mut seen_here = HashSet::new();
    for (id, result) in ids.iter().zip(results) {
        let first_in_batch = seen_here.insert(id.clone());
        let status = result["status"].as_u64().unwrap_or(0);
        ledger.answer(id, fresh.contains(id) && first_in_batch, status, result);
    }
}

/// Totals of a checked run.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub(crate) sessions: usize,
    pub(crate) stored_events: usize,
    pub(crate) acknowledged: usize,
    pub(crate) unknown_stored: usize,
    pub(crate) losses: usize,
    pub(crate) duplicates: usize,
}

/// Reads every session back through the API and checks it against the ledgers; panics on the first session
/// that disagrees, after counting losses and duplicates over all of them.
pub(crate) fn check(client: &Client, reviewer_key: &str, ledgers: &[Ledger]) -> Checked {
    let mut checked = Checked::default();
    let mut problems = Vec::new();
    for ledger in ledgers {
        problems.extend(ledger.violations.iter().cloned());
        checked.acknowledged += ledger.acked.len();
        for session in &ledger.sessions {
            let timeline = read_timeline(client, reviewer_key, session);
            let mut seen = HashSet::new();
            for event in &timeline {
                let id = event["id"].as_str().unwrap();
                if !seen.insert(id.to_owned()) {
                    checked.duplicates += 1;
                    problems.push(format!("{id} is twice in the timeline of {session}"));
                }
                if !ledger.was_sent(id) {
                    problems.push(format!("{id} is stored but was never sent"));
                }
                if ledger.unknown.contains(id) {
                    checked.unknown_stored += 1;
                }
            }
            let expected: HashSet<&String> = ledger
                .acked
                .iter()
                .filter(|id| ledger.bodies[*id]["sessionId"] == session.as_str())
                .collect();
            for id in expected.iter().filter(|id| !seen.contains(id.as_str())) {
                checked.losses += 1;
                problems.push(format!("{id} was acknowledged but is missing from {session}"));
            }
            checked.stored_events += timeline.len();
            if timeline.is_empty() {
                continue;
            }
            checked.sessions += 1;
            problems.extend(check_aggregates(client, reviewer_key, session, &timeline));
        }
    }
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
    checked
}

fn read_timeline(client: &Client, key: &str, session: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = String::new();
    loop {
        let (status, page) =
            client.get(&format!("/v1/sessions/{session}/timeline?limit=2000{after}"), Some(key));
        if status == 404 && events.is_empty() {
            return events;
        }
        assert_eq!(status, 200, "{page}");
        let batch = page["events"].as_array().unwrap();
        events.extend(batch.iter().cloned());
        if page["hasMore"] != true {
            return events;
        }
        after = format!("&after={}", batch.last().unwrap()["id"].as_str().unwrap());
    }
}

/// The session object and its metrics, recomputed from the stored timeline (spec §3, §6).
fn check_aggregates(client: &Client, key: &str, id: &str, timeline: &[Value]) -> Vec<String> {
    let (_, session) = client.get(&format!("/v1/sessions/{id}"), Some(key));
    let (_, metrics) = client.get(&format!("/v1/sessions/{id}/metrics"), Some(key));
    let (session, metrics) = (&session["session"], &metrics["metrics"]);
    let count = |kinds: &[&str]| {
        timeline.iter().filter(|e| kinds.contains(&e["kind"].as_str().unwrap())).count()
    };
    let commands: Vec<&Value> = timeline.iter().filter(|e| e["kind"] == "command").collect();
    let with_exit: Vec<i64> =
        commands.iter().filter_map(|e| e["data"]["exitCode"].as_i64()).collect();
    let fail_rate = (!with_exit.is_empty()).then(|| {
        with_exit.iter().filter(|code| **code != 0).count() as f64 / with_exit.len() as f64
    });
    let tests_passed = timeline.iter().rev().find_map(|e| match e["kind"].as_str() {
        Some("test_run") => Some(e["data"]["failed"] == 0),
        Some("command") if e["data"]["command"] == "cargo test" => {
            e["data"]["exitCode"].as_i64().map(|code| code == 0)
        }
        _ => None,
    });
    let first = &timeline[0]["ts"];
    let last = &timeline[timeline.len() - 1]["ts"];
    let millis = |ts: &Value| {
        chrono::DateTime::parse_from_rfc3339(ts.as_str().unwrap()).unwrap().timestamp_millis()
    };
    let mut problems = Vec::new();
    let mut expect = |what: &str, actual: &Value, expected: Value| {
        if *actual != expected {
            problems
                .push(format!("session {id}: {what} is {actual}, the timeline says {expected}"));
        }
    };
    expect("eventCount", &session["eventCount"], json!(timeline.len()));
    expect("startedAt", &session["startedAt"], first.clone());
    expect("lastActivityAt", &session["lastActivityAt"], last.clone());
    expect("durationMs", &metrics["durationMs"], json!(millis(last) - millis(first)));
    expect("promptCount", &metrics["promptCount"], json!(count(&["prompt"])));
    expect("commandCount", &metrics["commandCount"], json!(commands.len()));
    expect(
        "fileChangeCount",
        &metrics["fileChangeCount"],
        json!(count(&["file_diff", "file_create"])),
    );
    expect("testsPassed", &metrics["testsPassed"], json!(tests_passed));
    let actual_rate = metrics["commandFailRate"].as_f64();
    let rate_agrees = match (actual_rate, fail_rate) {
        (Some(actual), Some(expected)) => (actual - expected).abs() < 1e-3,
        (None, None) => true,
        _ => false,
    };
    if !rate_agrees {
        problems
            .push(format!("session {id}: commandFailRate {actual_rate:?}, expected {fail_rate:?}"));
    }
    problems
}

/// Retries every acknowledged id once more, 500 to a batch: each must answer 200 "seen", never 201.
pub(crate) fn retry_all_acknowledged(
    client: &Client,
    ledgers: &[Ledger],
    candidate_keys: &[String],
) {
    for (ledger, key) in ledgers.iter().zip(candidate_keys) {
        let acked: Vec<&Value> = ledger.acked.iter().map(|id| &ledger.bodies[id]).collect();
        for chunk in acked.chunks(500) {
            let reply = client
                .try_post("/v1/hooks/ingest/batch", &("X-API-Key", key), &json!({"events": chunk}))
                .expect("the server answers");
            assert_eq!(reply.status, 207, "{}", reply.body);
            for result in reply.body["results"].as_array().unwrap() {
                assert_eq!(result["status"], 200, "an acknowledged event stored again: {result}");
            }
        }
    }
}
