//! The ingest workload of the failure tests and the check that follows it.
//!
//! Client threads post new events (one at a time and in batches) and retry ids they sent before, keeping a
//! ledger of every answer. An id answered 201 or 200 is *acknowledged*; one whose request failed in transport
//! (the server died) is *unknown*: it may or may not be stored, but at most once. The check then reads every
//! session back and recomputes its counters and metrics from the timeline actually stored.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use serde_json::{json, Value};

use anyhow::{bail, Context as _, Result};

use crate::http::{Client, Reply};
use crate::rng::Rng;

/// What the threads and the test's main thread share: where the server is now, and when to stop.
pub struct Shared {
    /// The base URL of the server now running; the threads follow it across restarts.
    pub base_url: RwLock<String>,
    /// Set to stop the threads after their current request.
    pub stop: AtomicBool,
}

impl Shared {
    /// Shared state for a server at `base_url`.
    pub fn new(base_url: &str) -> Self {
        Shared { base_url: RwLock::new(base_url.to_owned()), stop: AtomicBool::new(false) }
    }

    /// Points the threads at a restarted server.
    pub fn move_to(&self, base_url: &str) {
        *self.base_url.write().unwrap_or_else(PoisonError::into_inner) = base_url.to_owned();
    }
}

/// One thread's record of what it sent and what it was told.
#[derive(Default)]
pub struct Ledger {
    /// The sessions this thread's events go to.
    pub sessions: Vec<String>,
    bodies: HashMap<String, Value>,
    sent_order: Vec<String>,
    /// Ids answered 201 or 200.
    pub acked: HashSet<String>,
    /// Ids whose request failed in transport and were never acknowledged since.
    pub unknown: HashSet<String>,
    /// Requests sent.
    pub requests: u64,
    /// Requests that failed in transport (the server was down).
    pub transport_failures: u64,
    /// Ids sent again.
    pub retries: u64,
    /// Answers that break the contract.
    pub violations: Vec<String>,
    next_second: u64,
}

/// A realistic event of a kind that moves a counter or a metric, at second `second` of its session.
fn event(rng: &mut Rng, session: &str, second: u64) -> Value {
    let id = rng.uuid();
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
        "id": id, "sessionId": session, "ts": ts, "kind": kind,
        "source": {"channel": "hook", "integration": "claude-code"},
        "actor": {"type": "ai"}, "provenance": {"attribution": "likely_ai"}, "v": 1, "data": data,
    })
}

impl Ledger {
    /// A ledger for `sessions` new sessions.
    pub fn new(sessions: usize, rng: &mut Rng) -> Self {
        let sessions = (0..sessions).map(|_| rng.uuid()).collect();
        Ledger { sessions, ..Ledger::default() }
    }

    fn new_event(&mut self, rng: &mut Rng) -> Value {
        let session = self.sessions
            [rng.below(u32::try_from(self.sessions.len()).unwrap_or(1)) as usize]
            .clone();
        self.next_second += 1;
        let body = event(rng, &session, self.next_second);
        let id = id_of(&body).to_owned();
        self.bodies.insert(id.clone(), body.clone());
        self.sent_order.push(id);
        body
    }

    fn old_event(&mut self, rng: &mut Rng) -> Option<Value> {
        if self.sent_order.is_empty() {
            return None;
        }
        self.retries += 1;
        let index = rng.below(u32::try_from(self.sent_order.len()).unwrap_or(u32::MAX));
        let id = &self.sent_order[index as usize];
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

    /// Whether this thread ever sent `id`.
    pub fn was_sent(&self, id: &str) -> bool {
        self.bodies.contains_key(id)
    }
}

/// Posts events as the candidate `key` until told to stop: 65% single new events, 20% batches of 5–60 with a
/// tenth of them retried ids, 15% single retries.
pub fn drive(shared: &Shared, key: &str, mut rng: Rng, ledger: &mut Ledger) {
    let credential = ("X-API-Key", key);
    let mut client: Option<(String, Client)> = None;
    while !shared.stop.load(Ordering::Relaxed) {
        let base_url = shared.base_url.read().unwrap_or_else(PoisonError::into_inner).clone();
        if client.as_ref().is_none_or(|(url, _)| *url != base_url) {
            client = Client::for_url(&base_url).ok().map(|client| (base_url.clone(), client));
        }
        let Some((_, http)) = &mut client else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
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
                fresh.insert(id_of(&body).to_owned());
                body
            });
            events.push(body);
        }
        let ids: Vec<String> = events.iter().map(|event| id_of(event).to_owned()).collect();
        ledger.requests += 1;
        let result = if size == 1 {
            http.json("POST", "/v1/hooks/ingest", credential, Some(&events[0]))
        } else {
            http.json(
                "POST",
                "/v1/hooks/ingest/batch",
                credential,
                Some(&json!({"events": events})),
            )
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

fn record(ledger: &mut Ledger, ids: &[String], fresh: &HashSet<String>, size: u32, reply: &Reply) {
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
pub struct Checked {
    /// Sessions with at least one stored event.
    pub sessions: usize,
    /// Events stored in them.
    pub stored_events: usize,
    /// Ids acknowledged to the clients.
    pub acknowledged: usize,
    /// Ids whose fate the clients never learnt, found stored (at most once).
    pub unknown_stored: usize,
    /// Acknowledged ids missing (must be 0).
    pub losses: usize,
    /// Ids stored twice (must be 0).
    pub duplicates: usize,
}

/// Reads every session back through the API at `base_url` and checks it against the ledgers: every
/// acknowledged event stored exactly once, nothing stored that was never sent, and each session's counters and
/// metrics equal to what its stored timeline says. Fails with every problem found, after counting losses and
/// duplicates over all sessions.
pub fn check(base_url: &str, reviewer_key: &str, ledgers: &[Ledger]) -> Result<Checked> {
    let mut client = Client::for_url(base_url)?;
    let key = format!("Bearer {reviewer_key}");
    let mut checked = Checked::default();
    let mut problems = Vec::new();
    for ledger in ledgers {
        problems.extend(ledger.violations.iter().cloned());
        checked.acknowledged += ledger.acked.len();
        for session in &ledger.sessions {
            let timeline = read_timeline(&mut client, &key, session)?;
            let mut seen = HashSet::new();
            for event in &timeline {
                let id = id_of(event);
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
            problems.extend(check_aggregates(&mut client, &key, session, &timeline)?);
        }
    }
    if !problems.is_empty() {
        bail!("{} problem(s):\n{}", problems.len(), problems.join("\n"));
    }
    Ok(checked)
}

/// The `id` of an envelope or a stored event (every one the workload handles has one).
fn id_of(event: &Value) -> &str {
    event["id"].as_str().unwrap_or_default()
}

/// A reviewer's GET that must answer JSON.
fn get(client: &mut Client, key: &str, path: &str) -> Result<Reply> {
    client.json("GET", path, ("Authorization", key), None).with_context(|| format!("GET {path}"))
}

fn read_timeline(client: &mut Client, key: &str, session: &str) -> Result<Vec<Value>> {
    let mut events = Vec::new();
    let mut after = String::new();
    loop {
        let path = format!("/v1/sessions/{session}/timeline?limit=2000{after}");
        let page = get(client, key, &path)?;
        if page.status == 404 && events.is_empty() {
            return Ok(events);
        }
        if page.status != 200 {
            bail!("GET {path} answered {}: {}", page.status, page.body);
        }
        let batch = page.body["events"].as_array().context("a timeline page without events")?;
        events.extend(batch.iter().cloned());
        match batch.last() {
            Some(last) if page.body["hasMore"] == true => after = format!("&after={}", id_of(last)),
            _ => return Ok(events),
        }
    }
}

/// Milliseconds since the epoch of an RFC 3339 timestamp as the API prints it.
fn millis(ts: &Value) -> Result<i64> {
    let text = ts.as_str().context("a timestamp that is not a string")?;
    Ok(chrono::DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("unreadable timestamp {text}"))?
        .timestamp_millis())
}

/// The session object and its metrics, recomputed from the stored timeline (spec §3, §6).
fn check_aggregates(
    client: &mut Client,
    key: &str,
    id: &str,
    timeline: &[Value],
) -> Result<Vec<String>> {
    let session = get(client, key, &format!("/v1/sessions/{id}"))?.body;
    let metrics = get(client, key, &format!("/v1/sessions/{id}/metrics"))?.body;
    let (session, metrics) = (&session["session"], &metrics["metrics"]);
    let count = |kinds: &[&str]| {
        timeline
            .iter()
            .filter(|e| e["kind"].as_str().is_some_and(|kind| kinds.contains(&kind)))
            .count()
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
    let (Some(first), Some(last)) = (timeline.first(), timeline.last()) else {
        return Ok(Vec::new());
    };
    let (first, last) = (&first["ts"], &last["ts"]);
    let duration = millis(last)? - millis(first)?;
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
    expect("durationMs", &metrics["durationMs"], json!(duration));
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
    Ok(problems)
}

/// Retries every acknowledged id once more, 500 to a batch: each must answer 200 "seen", never 201.
pub fn retry_all_acknowledged(
    base_url: &str,
    ledgers: &[Ledger],
    candidate_keys: &[String],
) -> Result<()> {
    let mut client = Client::for_url(base_url)?;
    for (ledger, key) in ledgers.iter().zip(candidate_keys) {
        let acked: Vec<&Value> = ledger.acked.iter().map(|id| &ledger.bodies[id]).collect();
        for chunk in acked.chunks(500) {
            let body = json!({"events": chunk});
            let reply =
                client.json("POST", "/v1/hooks/ingest/batch", ("X-API-Key", key), Some(&body))?;
            if reply.status != 207 {
                bail!("a batch of retries answered {}: {}", reply.status, reply.body);
            }
            let results =
                reply.body["results"].as_array().context("a batch answer without results")?;
            if let Some(stored) = results.iter().find(|result| result["status"] != 200) {
                bail!("an acknowledged event was stored again: {stored}");
            }
        }
    }
    Ok(())
}
