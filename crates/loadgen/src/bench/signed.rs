//! `cargo xtask bench-signed`: what signed events cost (spec §10.2), measured on the release server and written into
//! a marked section of `docs/BENCHMARKS.md`.
//!
//! Two sessions of one candidate each receive the same events in 500-event batches, one signed (its key given at
//! redeem, every event signed and chained) and one not, batch for batch in turn, so the difference is what
//! verifying and chaining cost on ingest. Then the signed session, grown to 100,000 events, is read: its chain
//! status (the session object, and the signed log's chain once the chain is broken), and the signed log's pages.
//! Signatures are made before the clock starts: the client's signing is not the server's cost.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context as _, Result};
use clap::Args;
use ed25519_dalek::{Signer as _, SigningKey};
use sha2::{Digest, Sha256};

use traceline_loadgen::database::{Backend, BenchDatabase};
use traceline_loadgen::http::Client;
use traceline_loadgen::load::{describe, micros, percentile_ms};
use traceline_loadgen::payload::push_timestamp;
use traceline_loadgen::response::string_fields;
use traceline_loadgen::rng::Rng;
use traceline_loadgen::say;
use traceline_loadgen::server::{create_org, Server, ServerOptions};

use super::sections::{existing_marked, replace_marked};
use super::{build_server, commit, machine, output_of, scenarios, BackendChoice};

/// Where the section starts and ends in the report; `cargo xtask bench` keeps it when it rewrites the rest.
pub(crate) const SECTION_START: &str = "<!-- bench-signed:start -->";
/// See [`SECTION_START`].
pub(crate) const SECTION_END: &str = "<!-- bench-signed:end -->";

/// Events per batch (the API's maximum).
const BATCH: usize = 500;
/// Timed requests per read.
const READS: usize = 50;
/// 10:00:00.000: where the events start.
const START_MS: u32 = 36_000_000;

/// Options of `cargo xtask bench-signed`.
#[derive(Debug, Args)]
pub(crate) struct SignedBenchArgs {
    /// Which database to measure.
    #[arg(long, value_enum, default_value_t = BackendChoice::Sqlite)]
    backend: BackendChoice,
    /// Events in each of the two sessions.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1000..=1_000_000))]
    events: u64,
    /// The report to update, relative to the workspace root unless absolute.
    #[arg(long, default_value = "docs/BENCHMARKS.md")]
    out: PathBuf,
}

/// What one backend measured.
struct Figures {
    backend: Backend,
    events: usize,
    unsigned_ingest: Duration,
    signed_ingest: Duration,
    /// (what, sorted microseconds)
    reads: Vec<(&'static str, Vec<u32>)>,
    stream_bytes: usize,
}

/// Runs the bench and rewrites its section of the report.
pub(crate) fn bench_signed(root: &Path, args: &SignedBenchArgs) -> Result<()> {
    let binary = build_server(root)?;
    let work_dir =
        std::env::temp_dir().join(format!("traceline-bench-signed-{}", std::process::id()));
    fs::create_dir_all(&work_dir)?;
    let events = usize::try_from(args.events)?;
    let figures: Result<Vec<Figures>> = args
        .backend
        .backends()
        .into_iter()
        .map(|backend| measure(&binary, &work_dir, backend, events))
        .collect();
    _ = fs::remove_dir_all(&work_dir);
    let section = render(&figures?, &machine(root), &commit(root)?, events)?;
    let out = root.join(&args.out);
    let existing = fs::read_to_string(&out).unwrap_or_default();
    fs::write(&out, replace_marked(&existing, SECTION_START, SECTION_END, &section))
        .with_context(|| format!("could not write {}", out.display()))?;
    say(&format!("wrote the signed-events section of {}", out.display()));
    Ok(())
}

/// This section of an existing report, so a full `cargo xtask bench` run can carry it over.
pub(crate) fn existing_section(report: &str) -> Option<&str> {
    existing_marked(report, SECTION_START, SECTION_END)
}

fn measure(binary: &Path, work_dir: &Path, backend: Backend, events: usize) -> Result<Figures> {
    say(&format!("== {} ({events} events per session)", backend.label()));
    let database = BenchDatabase::create(backend, work_dir)?;
    let api_key = create_org(binary, database.url())?;
    let options = ServerOptions::unlimited(&work_dir.join("server.log"));
    let server = Server::start(binary, database.url(), &options)?;
    let keys = scenarios::candidate_keys(server.address, &api_key, 2)?;
    let mut client = Client::new(server.address);
    let seed = SigningKey::from_bytes(&[7; 32]);
    let public_key = base64(seed.verifying_key().as_bytes());
    let signed_session = redeem(&mut client, &keys[0], Some(&public_key))?;
    let unsigned_session = redeem(&mut client, &keys[1], None)?;

    let mut rng = Rng::new(14);
    let (signed, signed_ids) = batches(&mut rng, &signed_session, events, Some(&seed));
    let (unsigned, _) = batches(&mut rng, &unsigned_session, events, None);
    say(&format!("  signed {} batches in advance", signed.len()));
    let (mut signed_ingest, mut unsigned_ingest) = (Duration::ZERO, Duration::ZERO);
    for (signed_body, unsigned_body) in signed.iter().zip(&unsigned) {
        unsigned_ingest += post_batch(&mut client, &keys[1], unsigned_body)?;
        signed_ingest += post_batch(&mut client, &keys[0], signed_body)?;
    }
    let per_second = |time: Duration| events as f64 / time.as_secs_f64();
    say(&format!(
        "  batch ingest: unsigned {:.0} events/s, signed {:.0} events/s",
        per_second(unsigned_ingest),
        per_second(signed_ingest)
    ));

    let auth = format!("Authorization: Bearer {api_key}");
    let session_path = format!("/v1/sessions/{signed_session}");
    let log_path = format!("{session_path}/signed-log");
    let session = expect_ok(&mut client, &session_path, &auth)?;
    ensure!(
        session.contains("\"chainStatus\":\"intact\""),
        "the signed session is not intact: {session}"
    );
    let first = expect_ok(&mut client, &format!("{log_path}?limit=1"), &auth)?;
    ensure!(
        first.contains(&signed_ids[0]),
        "the signed log does not start with the first event: {first}"
    );
    let mut reads = vec![
        ("session object (chainStatus), intact", time_reads(&mut client, &session_path, &auth)?),
        (
            "signed log, first page of 500",
            time_reads(&mut client, &format!("{log_path}?limit=500"), &auth)?,
        ),
    ];
    // The log is in chain order, which is the order the events were made in.
    let last_page_cursor = &signed_ids[events - BATCH - 1];
    reads.push((
        "signed log, last page of 500",
        time_reads(&mut client, &format!("{log_path}?limit=500&after={last_page_cursor}"), &auth)?,
    ));
    let stream = client.send("GET", &log_path, &[&auth], b"")?;
    ensure!(stream.status == 200, "the streamed log: {}", describe(&stream));
    let stream_bytes = stream.body.len();
    reads.push((
        "signed log without limit (10,000 events, streamed)",
        time_reads(&mut client, &log_path, &auth)?,
    ));

    // Break the chain with one unsigned event at its end: reading the chain now names where it breaks.
    let unsigned_event = format!(
        r#"{{"id":"{}","sessionId":"{signed_session}","ts":"2026-04-01T23:00:00.000Z","kind":"prompt","source":"curl","v":1,"data":{{"text":"unsigned"}}}}"#,
        rng.uuid()
    );
    let sent = client.send(
        "POST",
        "/v1/hooks/ingest",
        &[&format!("X-API-Key: {}", keys[0])],
        unsigned_event.as_bytes(),
    )?;
    ensure!(sent.status == 201, "the unsigned event: {}", describe(&sent));
    let broken = expect_ok(&mut client, &format!("{log_path}?limit=1"), &auth)?;
    ensure!(broken.contains("\"brokenAt\""), "the chain does not say where it breaks: {broken}");
    reads.push((
        "session object (chainStatus), broken",
        time_reads(&mut client, &session_path, &auth)?,
    ));
    reads.push((
        "signed log's chain with brokenAt (`limit=1`), broken",
        time_reads(&mut client, &format!("{log_path}?limit=1"), &auth)?,
    ));
    for (what, sorted) in &reads {
        say(&format!(
            "  {what}: p50 {:.2} ms, p99 {:.2} ms",
            percentile_ms(sorted, 50.0),
            percentile_ms(sorted, 99.0)
        ));
    }
    drop(server);
    Ok(Figures { backend, events, unsigned_ingest, signed_ingest, reads, stream_bytes })
}

/// `POST /v1/candidate/redeem`, with a signing key or without; returns the session id.
fn redeem(client: &mut Client, key: &str, public_key: Option<&str>) -> Result<String> {
    let body = match public_key {
        Some(public_key) => format!(r#"{{"key":"{key}","signingPubKey":"{public_key}"}}"#),
        None => format!(r#"{{"key":"{key}"}}"#),
    };
    let response = client.send("POST", "/v1/candidate/redeem", &[], body.as_bytes())?;
    ensure!(response.status == 200, "redeem: {}", describe(&response));
    string_fields(&response.text(), "sessionId")
        .into_iter()
        .next()
        .context("redeem gave no sessionId")
}

/// The batch bodies of `events` events of `session`, in order, and the events' ids; each event signed and chained
/// when `seed` is given.
fn batches(
    rng: &mut Rng,
    session: &str,
    events: usize,
    seed: Option<&SigningKey>,
) -> (Vec<String>, Vec<String>) {
    let mut prev_sig = String::new();
    let mut bodies = Vec::with_capacity(events.div_ceil(BATCH));
    let mut ids = Vec::with_capacity(events);
    for first in (0..events).step_by(BATCH) {
        let mut body = String::from(r#"{"events":["#);
        for n in first..(first + BATCH).min(events) {
            if n > first {
                body.push(',');
            }
            let ms = START_MS + u32::try_from(n).unwrap_or(u32::MAX).saturating_mul(10);
            let mut ts = String::new();
            push_timestamp(&mut ts, ms);
            // Keys sorted and integers only: the text is its own canonical JSON.
            let data = if n % 2 == 0 {
                format!(r#"{{"text":"step {n}: keep the chain intact"}}"#)
            } else {
                format!(
                    r#"{{"command":"cargo test case_{n}","durationMs":{},"exitCode":0}}"#,
                    200 + n % 97
                )
            };
            let kind = if n % 2 == 0 { "prompt" } else { "command" };
            let id = rng.uuid();
            ids.push(id.clone());
            _ = write!(
                body,
                r#"{{"id":"{id}","sessionId":"{session}","ts":"{ts}","kind":"{kind}","source":{{"channel":"hook","integration":"claude-code"}},"v":1,"data":{data}"#
            );
            if let Some(seed) = seed {
                let message = format!(
                    "PST-EVT-V1\n{id}\n{session}\n{ts}\n{kind}\nclaude-code\n1\n{}\n{prev_sig}\n",
                    hex(&Sha256::digest(data.as_bytes()))
                );
                let sig = hex(&seed.sign(message.as_bytes()).to_bytes());
                _ = write!(body, r#","prevSig":"{prev_sig}","sig":"{sig}""#);
                prev_sig = sig;
            }
            body.push('}');
        }
        body.push_str("]}");
        bodies.push(body);
    }
    (bodies, ids)
}

/// Sends one batch; every event must be created. Returns how long the request took.
fn post_batch(client: &mut Client, key: &str, body: &str) -> Result<Duration> {
    let started = Instant::now();
    let response = client.send(
        "POST",
        "/v1/hooks/ingest/batch",
        &[&format!("X-API-Key: {key}")],
        body.as_bytes(),
    )?;
    let took = started.elapsed();
    ensure!(response.status == 207, "batch: {}", describe(&response));
    let text = response.text();
    ensure!(!text.contains("\"status\":4"), "a batch event was refused: {text}");
    Ok(took)
}

fn expect_ok(client: &mut Client, path: &str, auth: &str) -> Result<String> {
    let response = client.send("GET", path, &[auth], b"")?;
    ensure!(response.status == 200, "GET {path}: {}", describe(&response));
    Ok(response.text())
}

/// Times `READS` sequential GETs of `path`, after a few untimed; returns the sorted microseconds.
fn time_reads(client: &mut Client, path: &str, auth: &str) -> Result<Vec<u32>> {
    for _ in 0..3 {
        expect_ok(client, path, auth)?;
    }
    let mut times = Vec::with_capacity(READS);
    for _ in 0..READS {
        let started = Instant::now();
        let response = client.send("GET", path, &[auth], b"")?;
        times.push(micros(started.elapsed()));
        ensure!(response.status == 200, "GET {path}: {}", describe(&response));
    }
    times.sort_unstable();
    Ok(times)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
        _ = write!(out, "{byte:02x}");
        out
    })
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let word = chunk
            .iter()
            .enumerate()
            .fold(0_u32, |word, (i, byte)| word | u32::from(*byte) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[usize::try_from((word >> (18 - 6 * i)) & 63).unwrap_or(0)])
            } else {
                '='
            });
        }
    }
    out
}

fn render(figures: &[Figures], machine: &str, commit: &str, events: usize) -> Result<String> {
    let date = output_of(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))?;
    let mut out = format!(
        "{SECTION_START}\n## Signed events\n\n\
         `cargo xtask bench-signed --events {events}` on {date}, commit {commit}; {machine}.\n\n\
         Two sessions of one org receive the same {events} events (prompts and commands) in batches of {BATCH}, \
         in order, on one connection, alternately: one session has a signing key and every event is signed and \
         chained; the other has none. Signing happens before the timing. Then the signed session is read, {READS} \
         sequential requests a row after 3 untimed, first while its chain is intact, then after one unsigned \
         event broke it at its end (the costliest case for naming where a chain breaks: every event on the chain \
         is checked first). Targets: signing costs ingest at most 10 %; reading the chain of a 100,000-event \
         session takes at most 200 ms.\n\n"
    );
    for figure in figures {
        let rate = |time: Duration| figure.events as f64 / time.as_secs_f64();
        let cost = 100.0
            * (figure.signed_ingest.as_secs_f64() / figure.unsigned_ingest.as_secs_f64() - 1.0);
        _ = write!(
            out,
            "### {}\n\n| batch ingest | events/s |\n|---|---:|\n| unsigned session | {:.0} |\n\
             | signed session | {:.0} |\n\nSigned batches take {cost:+.1} % of the unsigned ones' time.\n\n\
             | read of the signed {}-event session | p50 ms | p99 ms |\n|---|---:|---:|\n",
            figure.backend.label(),
            rate(figure.unsigned_ingest),
            rate(figure.signed_ingest),
            figure.events,
        );
        for (what, sorted) in &figure.reads {
            _ = writeln!(
                out,
                "| {what} | {:.2} | {:.2} |",
                percentile_ms(sorted, 50.0),
                percentile_ms(sorted, 99.0)
            );
        }
        _ = writeln!(
            out,
            "\nThe streamed log of 10,000 events is {:.1} MB.\n",
            figure.stream_bytes as f64 / 1e6
        );
    }
    out.push_str(SECTION_END);
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_hex_match_their_definitions() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(hex(&[0, 171, 255]), "00abff");
        // The seed of the shared signing vectors makes their published public key.
        let seed: Vec<u8> = (0..32).collect();
        let key = SigningKey::from_bytes(&seed.try_into().unwrap());
        assert_eq!(
            base64(key.verifying_key().as_bytes()),
            "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
        );
    }
}
