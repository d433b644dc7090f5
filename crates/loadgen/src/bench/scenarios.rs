//! The measured scenarios: the trivial route, single-event and batch ingest under load, and timeline paging
//! through one 100,000-event session; plus the assessment and candidate keys they need.

use std::net::SocketAddr;
use std::time::Instant;

use anyhow::{bail, ensure, Context as _, Result};

use traceline_loadgen::http::Client;
use traceline_loadgen::load::{self, describe, micros, Load, LoadReport, Outcome};
use traceline_loadgen::payload::{push_envelope, MS_PER_DAY};
use traceline_loadgen::response::string_fields;
use traceline_loadgen::rng::Rng;
use traceline_loadgen::say;

/// Sessions each connection rotates over in the ingest scenarios.
const SESSIONS_PER_CONNECTION: u32 = 100;

/// Events per batch request (the API's maximum).
pub(crate) const BATCH_SIZE: usize = 500;

/// Events in the session the timeline scenario pages through.
pub(crate) const TIMELINE_EVENTS: usize = 100_000;

/// Events per timeline page requested.
const PAGE_SIZE: usize = 500;

/// Requests per page position left out of the timeline figures.
const TIMELINE_WARMUP: usize = 5;

/// The session the timeline scenario builds (the session view scenario reads it too).
pub(crate) const TIMELINE_SESSION: &str = "bench-timeline";

/// 10:00:00.000, where generated events start.
pub(crate) const START_MS: u32 = 36_000_000;

/// Creates an assessment and at least `count` candidate keys with the reviewer key; returns the keys.
pub(crate) fn candidate_keys(
    address: SocketAddr,
    api_key: &str,
    count: usize,
) -> Result<Vec<String>> {
    let mut client = Client::new(address);
    let assessment = create_assessment(&mut client, api_key, "Benchmark")?;
    issue_keys(&mut client, api_key, &assessment, count)
}

/// `POST /v1/assessments` as the reviewer; returns the new assessment's id.
pub(crate) fn create_assessment(client: &mut Client, api_key: &str, title: &str) -> Result<String> {
    let auth = format!("Authorization: Bearer {api_key}");
    let body = format!(
        r#"{{"title":"{title}","role":"Backend engineer","taskBrief":"Load-test the service."}}"#
    );
    let response = client.send("POST", "/v1/assessments", &[&auth], body.as_bytes())?;
    ensure!(response.status == 201, "creating the assessment: {}", describe(&response));
    let text = response.text();
    string_fields(&text, "id")
        .into_iter()
        .next()
        .with_context(|| format!("no assessment id in {text}"))
}

/// Issues `count` candidate keys of `assessment`, 50 a request (the API's maximum), as the reviewer.
pub(crate) fn issue_keys(
    client: &mut Client,
    api_key: &str,
    assessment: &str,
    count: usize,
) -> Result<Vec<String>> {
    let auth = format!("Authorization: Bearer {api_key}");
    let path = format!("/v1/assessments/{assessment}/keys");
    let mut keys = Vec::with_capacity(count);
    while keys.len() < count {
        let batch = (count - keys.len()).min(50);
        let body = format!(r#"{{"count":{batch}}}"#);
        let response = client.send("POST", &path, &[&auth], body.as_bytes())?;
        ensure!(
            response.status == 201,
            "creating candidate keys ({} issued so far): {}",
            keys.len(),
            describe(&response)
        );
        let created = string_fields(&response.text(), "key");
        ensure!(created.len() == batch, "asked for {batch} keys, got {}", created.len());
        keys.extend(created);
    }
    Ok(keys)
}

/// `GET /v1/health`: the HTTP ceiling of the machine.
pub(crate) fn health(load: &Load) -> Result<LoadReport> {
    load::run(load, 1, |_| {
        |client: &mut Client| Ok(Outcome::of(client.send("GET", "/v1/health", &[], b"")?))
    })
}

/// `POST /v1/hooks/ingest`: connection `i` sends as `keys[i]`, over sessions of its own.
pub(crate) fn single_ingest(load: &Load, keys: &[String]) -> Result<LoadReport> {
    ensure!(keys.len() >= load.connections, "one candidate key per connection is needed");
    load::run(load, 1, |index| {
        let header = format!("X-API-Key: {}", keys[index]);
        let mut rng = Rng::new(seed(index, 1));
        let mut body = String::with_capacity(1024);
        let mut sent: u32 = 0;
        move |client: &mut Client| {
            body.clear();
            let id = rng.uuid();
            let session = format!("bench-{index}-{}", sent % SESSIONS_PER_CONNECTION);
            let ms = (START_MS + sent.wrapping_mul(50) + rng.below(50)) % MS_PER_DAY;
            sent = sent.wrapping_add(1);
            push_envelope(&mut body, &mut rng, &id, &session, ms);
            Ok(Outcome::of(client.send("POST", "/v1/hooks/ingest", &[&header], body.as_bytes())?))
        }
    })
}

/// `POST /v1/hooks/ingest/batch` with 500 events a request, each batch for one of the connection's sessions;
/// a request counts as a success only when every event in it was created.
pub(crate) fn batch_ingest(load: &Load, keys: &[String]) -> Result<LoadReport> {
    ensure!(keys.len() >= load.connections, "one candidate key per connection is needed");
    load::run(load, BATCH_SIZE as u64, |index| {
        let header = format!("X-API-Key: {}", keys[index]);
        let mut rng = Rng::new(seed(index, 2));
        let mut body = String::with_capacity(BATCH_SIZE * 400);
        let mut sent: u32 = 0;
        move |client: &mut Client| {
            let session = format!("batch-{index}-{}", sent % SESSIONS_PER_CONNECTION);
            let first_ms = START_MS + sent.wrapping_mul(1000);
            sent = sent.wrapping_add(1);
            let ids: Vec<String> = (0..BATCH_SIZE).map(|_| rng.uuid()).collect();
            batch_body(&mut body, &mut rng, &ids, &session, first_ms);
            let response =
                client.send("POST", "/v1/hooks/ingest/batch", &[&header], body.as_bytes())?;
            Ok(match created_in(&response.text()) {
                BATCH_SIZE if response.is_success() => Outcome::Success,
                _ => Outcome::Failure(response),
            })
        }
    })
}

/// Timeline page latencies at three depths of one session.
pub(crate) struct TimelineReport {
    /// How long building the session took, in seconds.
    pub(crate) build_seconds: f64,
    /// Timed requests per position.
    pub(crate) repetitions: usize,
    /// `(position, sorted latencies in µs)`: first, middle and last page.
    pub(crate) positions: Vec<(&'static str, Vec<u32>)>,
}

/// Builds one session of [`TIMELINE_EVENTS`] events by batch ingest as `candidate_key`, then times
/// `GET /v1/sessions/:id/timeline?limit=500` for the first, a middle and the last page, `repetitions` times
/// each, one request at a time on one connection, as the reviewer.
pub(crate) fn timeline(
    address: SocketAddr,
    api_key: &str,
    candidate_key: &str,
    repetitions: usize,
) -> Result<TimelineReport> {
    let began = Instant::now();
    let ids = build_timeline_session(address, candidate_key)?;
    let build_seconds = began.elapsed().as_secs_f64();
    say(&format!("  built a {TIMELINE_EVENTS}-event session in {build_seconds:.1} s"));

    let base = format!("/v1/sessions/{TIMELINE_SESSION}/timeline?limit={PAGE_SIZE}");
    let pages = [
        ("first", base.clone(), true),
        ("middle", format!("{base}&after={}", ids[TIMELINE_EVENTS / 2 - 1]), true),
        ("last", format!("{base}&after={}", ids[TIMELINE_EVENTS - PAGE_SIZE - 1]), false),
    ];
    let auth = format!("Authorization: Bearer {api_key}");
    let mut client = Client::new(address);
    let mut positions = Vec::new();
    for (name, path, has_more) in pages {
        let mut latencies = Vec::with_capacity(repetitions);
        for round in 0..TIMELINE_WARMUP + repetitions {
            let sent = Instant::now();
            let response = client.send("GET", &path, &[&auth], b"")?;
            let elapsed = micros(sent.elapsed());
            ensure!(response.status == 200, "{name} timeline page: {}", describe(&response));
            if round == 0 {
                let text = response.text();
                let events = text.matches("\"createdAt\"").count();
                let more = format!("\"hasMore\":{has_more}");
                ensure!(
                    events == PAGE_SIZE && text.contains(&more),
                    "{name} timeline page: expected {PAGE_SIZE} events and {more}, got {events} events"
                );
            }
            if round >= TIMELINE_WARMUP {
                latencies.push(elapsed);
            }
        }
        latencies.sort_unstable();
        positions.push((name, latencies));
    }
    Ok(TimelineReport { build_seconds, repetitions, positions })
}

/// Ingests the timeline session in order (one millisecond apart), returning the event ids in timeline order.
fn build_timeline_session(address: SocketAddr, candidate_key: &str) -> Result<Vec<String>> {
    build_session(address, candidate_key, TIMELINE_SESSION, TIMELINE_EVENTS)
}

/// Ingests `events` events (a multiple of [`BATCH_SIZE`]) into `session` in order, one millisecond apart, as
/// `candidate_key`; returns the event ids in timeline order.
pub(crate) fn build_session(
    address: SocketAddr,
    candidate_key: &str,
    session: &str,
    events: usize,
) -> Result<Vec<String>> {
    let header = format!("X-API-Key: {candidate_key}");
    let mut client = Client::new(address);
    let mut rng = Rng::new(seed(usize::MAX, 3));
    let mut body = String::with_capacity(BATCH_SIZE * 400);
    let mut ids = Vec::with_capacity(events);
    for chunk in 0..events / BATCH_SIZE {
        let batch: Vec<String> = (0..BATCH_SIZE).map(|_| rng.uuid()).collect();
        let first_ms = START_MS + u32::try_from(chunk * BATCH_SIZE)?;
        batch_body(&mut body, &mut rng, &batch, session, first_ms);
        let response =
            client.send("POST", "/v1/hooks/ingest/batch", &[&header], body.as_bytes())?;
        let created = created_in(&response.text());
        if !response.is_success() || created != BATCH_SIZE {
            bail!(
                "building session {session}: {created} of {BATCH_SIZE} created; {}",
                describe(&response)
            );
        }
        ids.extend(batch);
    }
    Ok(ids)
}

/// `{"events":[…]}` with one envelope per id, one millisecond apart from `first_ms`.
fn batch_body(body: &mut String, rng: &mut Rng, ids: &[String], session: &str, first_ms: u32) {
    body.clear();
    body.push_str(r#"{"events":["#);
    for (offset, id) in (0u32..).zip(ids) {
        if offset > 0 {
            body.push(',');
        }
        push_envelope(body, rng, id, session, (first_ms + offset) % MS_PER_DAY);
    }
    body.push_str("]}");
}

/// How many events a batch response reports as created.
pub(crate) fn created_in(text: &str) -> usize {
    text.matches(r#""status":201"#).count()
}

/// A per-connection, per-scenario seed that differs between runs.
pub(crate) fn seed(connection: usize, scenario: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    nanos
        ^ (connection as u64).rotate_left(32)
        ^ scenario.rotate_left(56)
        ^ u64::from(std::process::id())
}
