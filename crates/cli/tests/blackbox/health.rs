//! `GET /v1/health` fails when writes cannot commit while reads still work (spec §9), with real failures of a
//! real server: on SQLite the server runs with a file-size limit (`ulimit -f`, SIGXFSZ ignored), so the disk is
//! full as far as it can tell once its log reaches the limit; on PostgreSQL its database turns read-only, as a
//! failover to a standby would leave it. In both cases reads keep answering and health must say 503, then (on
//! PostgreSQL, where the condition can be lifted) 200 again.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;
use serde_json::json;

use crate::support::database::{Backend, TestDatabase};
use crate::support::fixture::{create_org, tenant, UNLIMITED};
use crate::support::{Client, Server, BINARY};

/// Asks for health until it answers `status`, for at most `bound`; returns the last answer.
fn health_becomes(client: &Client, status: u16, bound: Duration) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let (answer, body) = client.get("/v1/health", None);
        if answer == status {
            return body;
        }
        assert!(started.elapsed() < bound, "health stayed {answer} ({body}), expected {status}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn event(session: &str, minute: usize, data: serde_json::Value) -> serde_json::Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(), "sessionId": session, "v": 1, "kind": "checkpoint",
        "ts": format!("2026-04-01T10:{:02}:{:02}Z", minute / 60 % 60, minute % 60), "source": "hook",
        "data": data,
    })
}

#[test]
fn health_fails_when_sqlite_cannot_grow_its_files_while_reads_still_work() {
    let database = TestDatabase::new(Backend::Sqlite);
    let reviewer = create_org(&database.url);
    let size = std::fs::metadata(&database.url).expect("the migrated database").len();
    // Room for a little over a mebibyte of log beyond what is stored; the log is never checkpointed below
    // SQLite's 1000 pages, so it only grows until the limit stops it.
    let limit_kib = size / 1024 + 1200;
    let launcher = database.dir.path().join("limited.sh");
    std::fs::write(
        &launcher,
        format!("#!/bin/bash\ntrap '' XFSZ\nulimit -f {limit_kib}\nexec '{BINARY}' \"$@\"\n"),
    )
    .expect("write the launcher");
    std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server = Server::start_through(&launcher, &database.url, &UNLIMITED);
    let client = Client::new(&server.base_url);
    let candidate = tenant(&server.base_url, reviewer.clone(), 1).candidate_keys.remove(0);
    health_becomes(&client, 200, Duration::ZERO);

    let filler = "f".repeat(50_000);
    let mut failed = false;
    for round in 0..100 {
        let events: Vec<_> =
            (0..5).map(|n| event("fill", round * 5 + n, json!({"summary": filler}))).collect();
        let (status, body) =
            client.post("/v1/hooks/ingest/batch", &candidate, &json!({"events": events}));
        if status >= 500 {
            failed = true;
            break;
        }
        assert_eq!(status, 207, "{body}");
    }
    assert!(failed, "the writes never hit the file-size limit");
    // Small writes use up what room is left, so that no commit fits any more.
    for minute in 0..200 {
        let (status, _) =
            client.post("/v1/hooks/ingest", &candidate, &event("small", minute, json!({})));
        if status >= 500 {
            break;
        }
    }
    let body = health_becomes(&client, 503, Duration::from_secs(30));
    assert_eq!(body["code"], "service_unavailable");
    let (status, sessions) = client.get("/v1/sessions", Some(&reviewer));
    assert_eq!(status, 200, "reads still answer: {sessions}");
    assert!(!sessions["sessions"].as_array().unwrap().is_empty());
}

/// The admin URL with its database replaced by `name`.
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url.split_once('?').map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let server = &base[..base.rfind('/').expect("a database in the URL")];
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

fn admin(admin_url: &str, sql: &str) {
    PgConnection::establish(admin_url)
        .expect("connect to PostgreSQL")
        .batch_execute(sql)
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// Sets the database's default for new transactions and ends the server's connections, so the ones it opens
/// next run under it.
fn make_read_only(admin_url: &str, name: &str, read_only: bool) {
    let setting = if read_only { "on" } else { "off" };
    admin(
        admin_url,
        &format!(
            "ALTER DATABASE {name} SET default_transaction_read_only = {setting};
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = '{name}' AND pid <> pg_backend_pid();"
        ),
    );
}

#[test]
fn health_fails_when_postgres_turns_read_only_and_recovers_with_it() {
    let admin_url = std::env::var("TRACELINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("health_{}", uuid::Uuid::new_v4().simple());
    admin(&admin_url, &format!("CREATE DATABASE {name}"));
    let url = with_database(&admin_url, &name);
    let reviewer = create_org(&url);
    let server = Server::start_with(&url, &UNLIMITED, None);
    let client = Client::new(&server.base_url);
    health_becomes(&client, 200, Duration::ZERO);

    make_read_only(&admin_url, &name, true);
    let body = health_becomes(&client, 503, Duration::from_secs(15));
    assert_eq!(body["code"], "service_unavailable");
    let (status, sessions) = client.get("/v1/sessions", Some(&reviewer));
    assert_eq!(status, 200, "reads still answer: {sessions}");
    let (status, _) = client.post("/v1/sessions", &reviewer, &json!({}));
    assert_eq!(
        status, 503,
        "a write the read-only database refuses is unavailable, not a server fault"
    );

    make_read_only(&admin_url, &name, false);
    health_becomes(&client, 200, Duration::from_secs(15));
    let (status, body) = client.post("/v1/sessions", &reviewer, &json!({}));
    assert_eq!(status, 201, "{body}");
    drop(server);
    admin(&admin_url, &format!("DROP DATABASE {name} WITH (FORCE)"));
}
