//! `traceline backup` and `traceline restore` against a real server: a backup taken while clients keep ingesting
//! restores to a database that passes `integrity_check` and holds every event acknowledged before the backup
//! began; restore refuses while the server runs; on PostgreSQL both name the tools to use instead.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::database::{sqlite_event_ids, Backend, TestDatabase};
use crate::support::fixture::{self, UNLIMITED};
use crate::support::{json_stdout, traceline, Client, Server};

const WRITERS: usize = 3;
const BATCH: u64 = 25;
/// Events stored before the backup starts, so that copying takes long enough for ingest to go on meanwhile.
const STORED_BEFORE: usize = 6_000;

/// An event the server acknowledged (201 in its batch's results), and when the answer arrived.
struct Ack {
    at: Instant,
    id: String,
}

/// What the writers share with the test.
#[derive(Default)]
struct Ledger {
    acks: Mutex<Vec<Ack>>,
    failures: Mutex<Vec<String>>,
    stop: AtomicBool,
}

impl Ledger {
    fn acked(&self) -> usize {
        self.acks.lock().unwrap().len()
    }

    fn wait_for(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(180);
        while self.acked() < count {
            assert!(Instant::now() < deadline, "only {} events acknowledged", self.acked());
            assert!(
                self.failures.lock().unwrap().is_empty(),
                "{:?}",
                self.failures.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn command_event(session: &str, second: u64) -> Value {
    let ts =
        format!("2026-04-01T{:02}:{:02}:{:02}Z", second / 3600 % 24, second / 60 % 60, second % 60);
    json!({
        "id": uuid::Uuid::new_v4().to_string(), "sessionId": session, "ts": ts, "kind": "command",
        "source": {"integration": "claude-code"}, "v": 1,
        "data": {"command": "cargo test", "exitCode": second % 2},
    })
}

/// Posts batches as one candidate, in a session of its own, until told to stop.
fn ingest(base_url: &str, key: &str, ledger: &Ledger) {
    let client = Client::new(base_url);
    let session = uuid::Uuid::new_v4().to_string();
    let mut second = 0;
    while !ledger.stop.load(Ordering::Relaxed) {
        let events: Vec<Value> = (0..BATCH)
            .map(|_| {
                second += 1;
                command_event(&session, second)
            })
            .collect();
        let reply = client.try_post(
            "/v1/hooks/ingest/batch",
            &("X-API-Key", key),
            &json!({"events": events}),
        );
        let at = Instant::now();
        match reply {
            Ok(reply) if reply.status == 207 => {
                let results = reply.body["results"].as_array().cloned().unwrap_or_default();
                let mut acks = ledger.acks.lock().unwrap();
                for (event, result) in events.iter().zip(&results) {
                    match result["status"].as_u64() {
                        Some(201) => {
                            acks.push(Ack { at, id: event["id"].as_str().unwrap().to_owned() })
                        }
                        _ => ledger.failures.lock().unwrap().push(result.to_string()),
                    }
                }
            }
            Ok(reply) => {
                ledger.failures.lock().unwrap().push(format!("{} {}", reply.status, reply.body))
            }
            Err(error) => ledger.failures.lock().unwrap().push(error.to_string()),
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_backup_during_ingest_restores_every_event_acknowledged_before_it() {
    let database = TestDatabase::new(Backend::Sqlite);
    let reviewer_key = fixture::create_org(&database.url);
    let server = Server::start_with(&database.url, &UNLIMITED, None);
    let tenant = fixture::tenant(&server.base_url, reviewer_key.clone(), WRITERS);
    let backups = database.dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let backup = backups.join("traceline-nightly.db").to_string_lossy().into_owned();

    let ledger = Ledger::default();
    let (before, began, ended, output) = std::thread::scope(|scope| {
        for key in &tenant.candidate_keys {
            scope.spawn(|| ingest(&server.base_url, key, &ledger));
        }
        ledger.wait_for(STORED_BEFORE);
        // Every answer in the ledger now arrived before the backup began.
        let before: HashSet<String> =
            ledger.acks.lock().unwrap().iter().map(|ack| ack.id.clone()).collect();
        let began = Instant::now();
        let output = traceline(&["backup", "--to", &backup], &database.url);
        let ended = Instant::now();
        ledger.wait_for(ledger.acked() + 500);
        ledger.stop.store(true, Ordering::Relaxed);
        (before, began, ended, output)
    });
    assert!(ledger.failures.lock().unwrap().is_empty(), "{:?}", ledger.failures.lock().unwrap());
    let report = json_stdout(&output);
    let acks = ledger.acks.into_inner().unwrap();
    let acknowledged: HashSet<String> = acks.iter().map(|ack| ack.id.clone()).collect();
    let during = acks.iter().filter(|ack| ack.at > began && ack.at < ended).count();
    println!(
        "backup took {:?}; {} events acknowledged before it, {during} while it ran, {} in all",
        ended - began,
        before.len(),
        acknowledged.len()
    );

    // The backup file on its own: sound, complete up to its start, and nothing in it that was never sent.
    let in_backup = sqlite_event_ids(&backup);
    let missing = before.difference(&in_backup).count();
    assert_eq!(missing, 0, "{missing} events acknowledged before the backup are not in it");
    assert!(in_backup.is_subset(&acknowledged), "the backup holds events nobody sent");
    assert_eq!(report["contents"]["events"], json!(in_backup.len()), "{report}");
    assert_eq!(report["contents"]["sessions"], json!(WRITERS), "{report}");
    assert_eq!(report["contents"]["integrityCheck"], "ok");

    // While the server runs, restore refuses and touches nothing.
    let refused = traceline(&["restore", "--from", &backup], &database.url);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("in use by a running traceline server"),
        "{}",
        text(&refused.stderr)
    );
    assert!(text(&refused.stderr).contains("Stop the server first"));
    assert_eq!(Client::new(&server.base_url).get("/v1/health", None).0, 200);
    assert!(server.terminate().success());
    let live = sqlite_event_ids(&database.url);
    assert!(acknowledged.is_subset(&live), "the refused restore lost events");

    // Stopped, it restores, keeping the replaced database whole beside it.
    let restored = json_stdout(&traceline(&["restore", "--from", &backup], &database.url));
    let previous = restored["previous"].as_str().expect("the replaced database was kept");
    assert!(Path::new(previous).starts_with(database.dir.path()), "{previous}");
    assert_eq!(sqlite_event_ids(previous), live);
    assert_eq!(sqlite_event_ids(&database.url), in_backup);

    // And it serves what the backup held, and takes new events.
    let server = Server::start_with(&database.url, &UNLIMITED, None);
    let client = Client::new(&server.base_url);
    let (status, sessions) = client.get("/v1/sessions?limit=100", Some(&reviewer_key));
    assert_eq!(status, 200, "{sessions}");
    let served: u64 = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["eventCount"].as_u64().unwrap())
        .sum();
    assert_eq!(served, in_backup.len() as u64);
    let fresh_session = uuid::Uuid::new_v4().to_string();
    let credential = ("X-API-Key", tenant.candidate_keys[0].as_str());
    let reply = client
        .try_post("/v1/hooks/ingest", &credential, &command_event(&fresh_session, 1))
        .unwrap();
    assert_eq!(reply.status, 201, "{}", reply.body);
}

#[test]
fn backups_of_a_database_that_is_not_there_or_not_sqlite_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db").to_string_lossy().into_owned();
    let backup = dir.path().join("backup.db").to_string_lossy().into_owned();
    let output = traceline(&["backup", "--to", &backup], &missing);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("missing.db does not exist"), "{}", text(&output.stderr));
    assert!(!Path::new(&missing).exists() && !Path::new(&backup).exists(), "nothing created");

    let database = TestDatabase::new(Backend::Sqlite);
    fixture::create_org(&database.url);
    let output = traceline(&["backup", "--to", &database.url], &database.url);
    assert!(text(&output.stderr).contains("is the database itself"), "{}", text(&output.stderr));
    let output = traceline(&["restore", "--from", &database.url], &missing);
    assert!(
        json_stdout(&output)["previous"].is_null(),
        "a restore onto a new path keeps nothing aside"
    );
    assert_eq!(sqlite_event_ids(&missing), HashSet::new());
}

#[test]
fn on_postgres_backup_and_restore_name_the_tools_to_use() {
    let database = TestDatabase::new(Backend::Postgres);
    let file = database.dir.path().join("backup.db").to_string_lossy().into_owned();
    for (command, flag, tool) in
        [("backup", "--to", "pg_dump"), ("restore", "--from", "pg_restore")]
    {
        let output = traceline(&[command, flag, &file], &database.url);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("names a PostgreSQL database") && stderr.contains(tool),
            "{stderr}"
        );
    }
    assert!(!Path::new(&file).exists());
    let with_password =
        traceline(&["backup", "--to", &file], "postgres://app:s3cret@127.0.0.1:5432/traceline");
    let stderr = text(&with_password.stderr);
    assert!(
        stderr.contains("postgres://app:***@127.0.0.1:5432/traceline")
            && !stderr.contains("s3cret"),
        "{stderr}"
    );
}
