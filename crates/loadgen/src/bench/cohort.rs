//! Cohort statistics: an assessment whose cohort of completed sessions is built through the API as candidates
//! would build it (a key each, redeemed, one batch of events, completed), then both cohort-stats routes timed
//! one request at a time as the reviewer.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, ensure, Context as _, Result};

use super::scenarios::{create_assessment, issue_keys, seed, START_MS};
use traceline_loadgen::http::Client;
use traceline_loadgen::load::{describe, micros};
use traceline_loadgen::payload::push_event_head;
use traceline_loadgen::response::{field_value, integer_field, string_fields, Response};
use traceline_loadgen::rng::Rng;

/// Completed sessions in the measured cohort, unless `--cohort` says otherwise.
pub(crate) const COHORT_SESSIONS: u64 = 10_000;

/// Requests per route left out of the figures.
const COHORT_WARMUP: usize = 5;

/// Times a setup request answered 503 (the database busy for a moment) is sent again.
const RETRIES: u32 = 5;

/// The pause before sending such a request again.
const RETRY_PAUSE: Duration = Duration::from_millis(200);

/// The routes timed, as the report names them.
pub(crate) const ASSESSMENT_ROUTE: &str = "GET /v1/assessments/:id/cohort-stats?sessionId=…";
/// See [`ASSESSMENT_ROUTE`].
pub(crate) const SESSION_ROUTE: &str = "GET /v1/sessions/:id/cohort-stats";

/// Keys an assessment may hold pending or active at once (spec §8): the cohort is built in waves of this many,
/// each completed before the next is issued.
const WAVE: usize = 500;

/// The cohort's assessment and its first wave of keys, issued but not redeemed yet.
pub(crate) struct CohortKeys {
    assessment: String,
    keys: Vec<String>,
    target: usize,
    seconds: f64,
}

impl CohortKeys {
    /// How many keys were issued.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// How long issuing them took, in seconds.
    pub(crate) fn seconds(&self) -> f64 {
        self.seconds
    }
}

/// What the cohort scenario measured.
pub(crate) struct CohortReport {
    /// Completed sessions in the cohort.
    pub(crate) sessions: usize,
    /// Seconds spent issuing the keys.
    pub(crate) issue_seconds: f64,
    /// Seconds spent redeeming, ingesting into and completing the sessions.
    pub(crate) build_seconds: f64,
    /// Connections the sessions were built over.
    pub(crate) connections: usize,
    /// Timed requests per route.
    pub(crate) repetitions: usize,
    /// `(route, sorted latencies in µs)`, [`ASSESSMENT_ROUTE`] then [`SESSION_ROUTE`].
    pub(crate) routes: Vec<(&'static str, Vec<u32>)>,
}

/// Creates the cohort's own assessment and issues the first wave of keys for `sessions` sessions, 50 a request.
pub(crate) fn issue(address: SocketAddr, api_key: &str, sessions: usize) -> Result<CohortKeys> {
    let began = Instant::now();
    let mut client = Client::new(address);
    let assessment = create_assessment(&mut client, api_key, "Benchmark cohort")?;
    let keys = issue_keys(&mut client, api_key, &assessment, sessions.min(WAVE))
        .context("issuing the cohort's first candidate keys")?;
    Ok(CohortKeys { assessment, keys, target: sessions, seconds: began.elapsed().as_secs_f64() })
}

/// Builds the cohort from `keys` over `connections` connections, each taking every `connections`th key, then
/// times both cohort-stats routes `repetitions` times each (after a warm-up) on one connection as the reviewer,
/// ranking the first session built.
pub(crate) fn cohort(
    address: SocketAddr,
    api_key: &str,
    keys: CohortKeys,
    connections: usize,
    repetitions: usize,
) -> Result<CohortReport> {
    let connections = connections.clamp(1, keys.len().max(1));
    let began = Instant::now();
    let mut members = build(address, &keys.keys, connections, true)?;
    let mut issue_seconds = keys.seconds;
    let mut client = Client::new(address);
    while members.len() < keys.target {
        let issuing = Instant::now();
        let wave = WAVE.min(keys.target - members.len());
        let wave = issue_keys(&mut client, api_key, &keys.assessment, wave).with_context(|| {
            format!("issuing cohort keys ({} sessions built so far)", members.len())
        })?;
        issue_seconds += issuing.elapsed().as_secs_f64();
        members.extend(build(address, &wave, connections, false)?);
    }
    let build_seconds = began.elapsed().as_secs_f64() - (issue_seconds - keys.seconds);
    let member = members.first().context("the cohort has no session")?;
    let routes = measure(address, api_key, &keys.assessment, member, members.len(), repetitions)?;
    Ok(CohortReport {
        sessions: members.len(),
        issue_seconds,
        build_seconds,
        connections,
        repetitions,
        routes,
    })
}

/// Redeems, fills and completes one session per key; returns the session ids, connection 0's first one first.
/// In the first wave, that first session gets every kind of event, so it has every metric to rank.
fn build(
    address: SocketAddr,
    keys: &[String],
    connections: usize,
    first_wave: bool,
) -> Result<Vec<String>> {
    let built: Vec<Result<Vec<String>>> = thread::scope(|scope| {
        let handles: Vec<_> = (0..connections)
            .map(|index| {
                scope.spawn(move || {
                    let mut client = Client::new(address);
                    let mut rng = Rng::new(seed(index, 4));
                    let mut body = String::with_capacity(4096);
                    keys.iter()
                        .skip(index)
                        .step_by(connections)
                        .enumerate()
                        // The ranked session, built first, has every metric, so every percentile is computed.
                        .map(|(n, key)| {
                            let ranked = first_wave && index == 0 && n == 0;
                            member(&mut client, &mut rng, &mut body, key, ranked)
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| Err(anyhow!("a cohort setup thread panicked")))
            })
            .collect()
    });
    let mut sessions = Vec::with_capacity(keys.len());
    for ids in built {
        sessions.extend(ids?);
    }
    Ok(sessions)
}

/// One candidate: redeem `key`, send the session's events in one batch with the key, complete the session.
fn member(
    client: &mut Client,
    rng: &mut Rng,
    body: &mut String,
    key: &str,
    every_kind: bool,
) -> Result<String> {
    let redeem = format!(r#"{{"key":"{key}"}}"#);
    let response = call(
        client,
        "/v1/candidate/redeem",
        &[],
        redeem.as_bytes(),
        200,
        "redeeming a cohort key",
    )?;
    let text = response.text();
    let session = string_fields(&text, "sessionId")
        .into_iter()
        .next()
        .with_context(|| format!("no sessionId in the redeem response {text}"))?;

    let header = format!("X-API-Key: {key}");
    let events = session_events(body, rng, &session, every_kind);
    let response = call(
        client,
        "/v1/hooks/ingest/batch",
        &[&header],
        body.as_bytes(),
        207,
        "ingesting a cohort session",
    )?;
    let text = response.text();
    // A batch sent again after a 503 may find some of its events already stored (200, skipped).
    let accepted =
        text.matches(r#""status":201"#).count() + text.matches(r#""status":200"#).count();
    ensure!(
        accepted == events,
        "ingesting a cohort session: {accepted} of {events} events accepted; {}",
        describe(&response)
    );

    let complete = format!(r#"{{"sessionId":"{session}"}}"#);
    call(
        client,
        "/v1/candidate/complete",
        &[&header],
        complete.as_bytes(),
        200,
        "completing a cohort session",
    )?;
    Ok(session)
}

/// A setup `POST`, sent again a few times while the server answers 503; fails unless it answers `expected`.
fn call(
    client: &mut Client,
    path: &str,
    headers: &[&str],
    body: &[u8],
    expected: u16,
    what: &str,
) -> Result<Response> {
    let mut retries = 0;
    loop {
        let response = client.send("POST", path, headers, body).with_context(|| what.to_owned())?;
        if response.status == 503 && retries < RETRIES {
            retries += 1;
            thread::sleep(RETRY_PAUSE);
            continue;
        }
        ensure!(response.status == expected, "{what}: {}", describe(&response));
        return Ok(response);
    }
}

/// Writes `{"events":[…]}` for one cohort session into `body` and returns how many events it holds: 3 to 6
/// events minutes apart, so that every metric varies between sessions: one or two prompts, often a file change
/// (by the AI, a person or both), a command with an exit code (tests, a build or neither), sometimes a test
/// run, then `session_end`. With `every_kind`, all of them (6 events), so that every metric has a value.
fn session_events(body: &mut String, rng: &mut Rng, session: &str, every_kind: bool) -> usize {
    const SECOND: u32 = 1000;
    body.clear();
    body.push_str(r#"{"events":["#);
    let mut count = 0;
    let mut event =
        |body: &mut String, rng: &mut Rng, ms: u32, kind: &str, actor: &str, attribution: &str| {
            if count > 0 {
                body.push(',');
            }
            count += 1;
            push_event_head(body, &rng.uuid(), session, ms, kind, actor, attribution);
        };

    let mut ms = START_MS + rng.below(8 * 3600 * SECOND);
    let prompts = if every_kind { 2 } else { 1 + rng.below(2) };
    event(body, rng, ms, "prompt", "human", "unknown");
    let tokens = 20 + rng.below(400);
    _ = write!(
        body,
        r#"{{"text":"Add a token bucket to the rate limiter and keep the tests green.","tokenCount":{tokens}}}}}"#
    );
    if every_kind || rng.below(10) < 8 {
        ms += 20 * SECOND + rng.below(600 * SECOND);
        let (actor, attribution) = match rng.below(5) {
            0 | 1 => ("ai", "likely_ai"),
            2 => ("ai", "ai_revised_by_human"),
            3 => ("human", "likely_human"),
            _ => ("ai", "mixed"),
        };
        event(body, rng, ms, "file_diff", actor, attribution);
        let (added, removed) = (1 + rng.below(80), rng.below(30));
        _ = write!(
            body,
            r#"{{"path":"src/limiter.rs","linesAdded":{added},"linesRemoved":{removed}}}}}"#
        );
    }
    if prompts == 2 {
        ms += 10 * SECOND + rng.below(300 * SECOND);
        event(body, rng, ms, "prompt", "human", "unknown");
        body.push_str(r#"{"text":"Why does the refill test fail on a slow clock?"}}"#);
    }
    ms += 5 * SECOND + rng.below(120 * SECOND);
    event(body, rng, ms, "command", "ai", "unknown");
    let command = ["cargo test", "cargo build", "npm test", "ls src"][rng.below(4) as usize];
    let exit_code = u32::from(rng.below(4) == 0);
    let duration = 200 + rng.below(20_000);
    _ = write!(
        body,
        r#"{{"command":"{command}","exitCode":{exit_code},"durationMs":{duration}}}}}"#
    );
    if every_kind || rng.below(2) == 0 {
        ms += SECOND + rng.below(60 * SECOND);
        event(body, rng, ms, "test_run", "system", "unknown");
        let (passed, failed) =
            (5 + rng.below(40), if rng.below(3) == 0 { 1 + rng.below(3) } else { 0 });
        _ = write!(
            body,
            r#"{{"suite":"limiter","passed":{passed},"failed":{failed},"skipped":0,"durationMs":{duration}}}}}"#
        );
    }
    ms += SECOND + rng.below(60 * SECOND);
    event(body, rng, ms, "session_end", "system", "unknown");
    body.push_str("{}}");
    body.push_str("]}");
    count
}

/// Times both routes, checking the first answer of each: the whole cohort counted, percentiles given.
fn measure(
    address: SocketAddr,
    api_key: &str,
    assessment: &str,
    member: &str,
    sessions: usize,
    repetitions: usize,
) -> Result<Vec<(&'static str, Vec<u32>)>> {
    let auth = format!("Authorization: Bearer {api_key}");
    let routes = [
        (ASSESSMENT_ROUTE, format!("/v1/assessments/{assessment}/cohort-stats?sessionId={member}")),
        (SESSION_ROUTE, format!("/v1/sessions/{member}/cohort-stats")),
    ];
    let mut client = Client::new(address);
    let mut measured = Vec::new();
    for (name, path) in routes {
        let mut latencies = Vec::with_capacity(repetitions);
        for round in 0..COHORT_WARMUP + repetitions {
            let sent = Instant::now();
            let response = client.send("GET", &path, &[&auth], b"")?;
            let elapsed = micros(sent.elapsed());
            ensure!(response.status == 200, "{name}: {}", describe(&response));
            if round == 0 {
                check_stats(&response.text(), sessions).context(name)?;
            }
            if round >= COHORT_WARMUP {
                latencies.push(elapsed);
            }
        }
        latencies.sort_unstable();
        measured.push((name, latencies));
    }
    Ok(measured)
}

/// Fails unless `text` counts `sessions` sessions and ranks the member with a `percentiles` object.
fn check_stats(text: &str, sessions: usize) -> Result<()> {
    let count = integer_field(text, "sessionCount");
    ensure!(
        count == Some(sessions as u64),
        "expected \"sessionCount\": {sessions}, got {count:?} in {}",
        excerpt(text)
    );
    ensure!(
        field_value(text, "percentiles").is_some_and(|value| value.starts_with('{')),
        "expected a \"percentiles\" object in {}",
        excerpt(text)
    );
    Ok(())
}

/// The start of a response body, for error messages.
fn excerpt(text: &str) -> String {
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::{check_stats, session_events};
    use traceline_loadgen::rng::Rng;

    #[test]
    fn session_batches_hold_three_to_six_distinct_events() {
        let mut rng = Rng::new(11);
        let mut body = String::new();
        let mut sizes = std::collections::BTreeSet::new();
        for _ in 0..500 {
            let count = session_events(&mut body, &mut rng, "s-1", false);
            assert!((3..=6).contains(&count), "{count}: {body}");
            sizes.insert(count);
            assert!(body.starts_with(r#"{"events":[{"id":""#) && body.ends_with("}]}"), "{body}");
            assert_eq!(body.matches('{').count(), body.matches('}').count(), "{body}");
            assert_eq!(body.matches(r#""sessionId":"s-1""#).count(), count);
            assert_eq!(body.matches(r#""kind":"session_end""#).count(), 1);
            let ids = traceline_loadgen::response::string_fields(&body, "id");
            let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
            assert_eq!((ids.len(), distinct.len()), (count, count));
        }
        assert_eq!(sizes.into_iter().collect::<Vec<_>>(), [3, 4, 5, 6]);
        assert_eq!(session_events(&mut body, &mut rng, "s-2", true), 6);
        for kind in ["prompt", "file_diff", "command", "test_run", "session_end"] {
            assert!(body.contains(&format!(r#""kind":"{kind}""#)), "{kind} missing: {body}");
        }
    }

    #[test]
    fn stats_are_checked() {
        let good =
            r#"{"cohortStats":{"sessionCount":500,"metrics":{},"percentiles":{"durationMs":0.5}}}"#;
        assert!(check_stats(good, 500).is_ok());
        assert!(check_stats(good, 10_000).is_err());
        assert!(check_stats(r#"{"cohortStats":{"sessionCount":500,"metrics":{}}}"#, 500).is_err());
        assert!(check_stats(r#"{"cohortStats":null}"#, 500).is_err());
    }
}
