//! A stop signal during load: requests in flight get their normal answer, the listener closes at once (new
//! connections are refused and nothing answers after that), the process exits 0 within a bound, and every
//! acknowledged event is there after a restart.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::database::{Backend, TestDatabase};
use crate::support::fixture::{self, UNLIMITED};
use crate::support::{Client, Server};

const LOADERS: usize = 4;
const BATCH: usize = 500;
/// How long the process may take to exit after the signal.
const EXIT_BOUND: Duration = Duration::from_secs(15);

/// One batch request as the client saw it.
struct Sent {
    started: Instant,
    finished: Instant,
    /// `Some(created)` when answered: the number of events answered 201; `Err` for a transport failure.
    outcome: Result<u64, String>,
}

/// What a probe on a new connection saw.
enum Probe {
    Answered(Instant),
    Refused(Instant),
}

fn batch(session: &str, counter: &mut u64) -> Value {
    let events: Vec<Value> = (0..BATCH)
        .map(|_| {
            *counter += 1;
            json!({
                "id": uuid::Uuid::new_v4().to_string(), "sessionId": session, "kind": "command",
                "ts": format!("2026-04-01T10:{:02}:{:02}.{:03}Z", *counter / 60_000 % 60, *counter / 1000 % 60, *counter % 1000),
                "source": "shell", "v": 1,
                "data": {"command": "cargo build", "exitCode": 0, "stdout": "Compiling traceline ".repeat(20)},
            })
        })
        .collect();
    json!({"events": events})
}

fn load(client: &Client, key: &str, session: &str, stop: &AtomicBool) -> Vec<Sent> {
    let mut sent = Vec::new();
    let mut counter = 0;
    while !stop.load(Ordering::Relaxed) {
        // Serialised before the clock starts: `started` is when the bytes begin to go out.
        let body = serde_json::to_vec(&batch(session, &mut counter)).unwrap();
        let started = Instant::now();
        let result = client.try_post_raw("/v1/hooks/ingest/batch", ("X-API-Key", key), &body);
        let outcome = match result {
            Ok(reply) if reply.status == 207 => {
                let results = reply.body["results"].as_array().cloned().unwrap_or_default();
                let created = results.iter().filter(|r| r["status"] == 201).count() as u64;
                if created == BATCH as u64 {
                    Ok(created)
                } else {
                    Err(format!("207 with {}", reply.body))
                }
            }
            Ok(reply) => Err(format!("answered {}: {}", reply.status, reply.body)),
            Err(error) => Err(format!("transport: {error}")),
        };
        let failed = outcome.is_err();
        sent.push(Sent { started, finished: Instant::now(), outcome });
        if failed {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    sent
}

/// Opens a new connection and asks for `/v1/health`, every few milliseconds, until told to stop.
fn probe(address: &str, stop: &AtomicBool) -> Vec<Probe> {
    let mut probes = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match TcpStream::connect(address) {
            Ok(mut stream) => {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
                let request = "GET /v1/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
                let mut answer = String::new();
                let answered = stream.write_all(request.as_bytes()).is_ok()
                    && stream.read_to_string(&mut answer).is_ok()
                    && answer.starts_with("HTTP/1.1 ");
                if answered {
                    probes.push(Probe::Answered(Instant::now()));
                }
            }
            Err(error) if error.kind() == ErrorKind::ConnectionRefused => {
                probes.push(Probe::Refused(Instant::now()));
            }
            Err(error) => panic!("probe connect failed unexpectedly: {error}"),
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    probes
}

fn stop_under_load(backend: Backend, signal: &str) {
    let _serial = crate::one_at_a_time();
    let database = TestDatabase::new(backend);
    let log = database.dir.path().join("server.log");
    let reviewer_key = fixture::create_org(&database.url);
    let mut server = Server::start_with(&database.url, &UNLIMITED, Some(&log));
    let tenant = fixture::tenant(&server.base_url, reviewer_key, LOADERS);
    let sessions: Vec<String> = (0..LOADERS).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let stop = AtomicBool::new(false);
    let client = Client::new(&server.base_url);

    let (signalled, exited, status, loads, probes) = std::thread::scope(|scope| {
        let loaders: Vec<_> = tenant
            .candidate_keys
            .iter()
            .zip(&sessions)
            .map(|(key, session)| {
                let (client, stop) = (Client::new(&server.base_url), &stop);
                scope.spawn(move || load(&client, key, session, stop))
            })
            .collect();
        // Under load for a while, so batches are in flight when the signal comes.
        std::thread::sleep(Duration::from_millis(1500));
        let prober = {
            let (address, stop) = (server.address().to_owned(), &stop);
            scope.spawn(move || probe(&address, stop))
        };
        std::thread::sleep(Duration::from_millis(50));
        let signalled = Instant::now();
        server.send_signal(signal);
        let status = server.wait_exit(EXIT_BOUND);
        let exited = Instant::now();
        // Long enough for every client to see the closed port.
        std::thread::sleep(Duration::from_millis(100));
        stop.store(true, Ordering::Relaxed);
        let loads: Vec<Vec<Sent>> = loaders.into_iter().map(|t| t.join().unwrap()).collect();
        (signalled, exited, status, loads, prober.join().unwrap())
    });

    assert!(status.success(), "{signal}: the server exited with {status:?}");
    let all: Vec<&Sent> = loads.iter().flatten().collect();
    let in_flight: Vec<&&Sent> =
        all.iter().filter(|s| s.started < signalled && s.finished > signalled).collect();
    assert!(!in_flight.is_empty(), "no batch was in flight at the signal; the test proves nothing");
    for sent in &all {
        // A request started well before the signal was read by the server, so it must be answered in full.
        if sent.started + Duration::from_millis(50) < signalled {
            assert!(
                sent.outcome.is_ok(),
                "in-flight batch not answered normally: {:?}",
                sent.outcome
            );
        }
        if let Err(problem) = &sent.outcome {
            assert!(problem.starts_with("transport"), "an answer other than 207/201: {problem}");
        }
    }
    let first_refusal = probes.iter().find_map(|p| match p {
        Probe::Refused(at) => Some(*at),
        Probe::Answered(_) => None,
    });
    let first_refusal = first_refusal.expect("new connections were never refused");
    let answered_after =
        probes.iter().filter(|p| matches!(p, Probe::Answered(at) if *at > first_refusal)).count();
    assert_eq!(answered_after, 0, "a new connection was answered after the listener closed");
    assert!(first_refusal <= exited, "the listener stayed open until the process exited");
    let answered_after_signal =
        all.iter().filter(|s| s.started > signalled && s.outcome.is_ok()).count();
    println!(
        "{backend:?} {signal}: {} in flight at the signal, all answered 207; listener closed after {:?}; \
         exit 0 after {:?}; {answered_after_signal} batches sent on open connections after the signal \
         were answered",
        in_flight.len(),
        first_refusal - signalled,
        exited - signalled,
    );

    // Every acknowledged event is durable.
    let server = Server::start_with(&database.url, &UNLIMITED, Some(&log));
    let client_after = Client::new(&server.base_url);
    drop(client);
    for (session, sent) in sessions.iter().zip(&loads) {
        let acknowledged: u64 = sent.iter().filter_map(|s| s.outcome.as_ref().ok()).sum();
        let (status, body) =
            client_after.get(&format!("/v1/sessions/{session}"), Some(&tenant.reviewer_key));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["session"]["eventCount"], acknowledged, "session {session}");
    }
    database.check_opens_cleanly();
}

mod under_load {
    use super::*;

    #[test]
    fn sqlite_sigterm() {
        stop_under_load(Backend::Sqlite, "TERM");
    }

    #[test]
    fn postgres_sigterm() {
        stop_under_load(Backend::Postgres, "TERM");
    }

    #[test]
    fn sqlite_sigint() {
        stop_under_load(Backend::Sqlite, "INT");
    }
}
