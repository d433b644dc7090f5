//! Several instances on one PostgreSQL database, as `docs/DEPLOY.md` describes: started together on an empty
//! schema they take turns migrating; afterwards each serves what any of them stored, and a candidate key or an
//! API key revoked through one is refused by the others within the five seconds their credential caches keep it.

use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use serde_json::{json, Value};

use crate::support::database::{Backend, TestDatabase};
use crate::support::fixture::{self, UNLIMITED};
use crate::support::{Client, Server};

const INSTANCES: usize = 3;
/// Times the same event is posted to two instances at once.
const ROUNDS_AT_ONCE: usize = 20;

#[test]
fn several_instances_share_one_postgres_database() {
    let database = TestDatabase::new(Backend::Postgres);
    // All at once on a schema no migration has touched: each must start (Server::start fails the test if the
    // process exits instead of announcing itself).
    let servers: Vec<Server> = std::thread::scope(|scope| {
        let starting: Vec<_> = (0..INSTANCES)
            .map(|_| scope.spawn(|| Server::start_with(&database.url, &UNLIMITED, None)))
            .collect();
        starting.into_iter().map(|started| started.join().expect("an instance started")).collect()
    });
    let clients: Vec<Client> = servers.iter().map(|server| Client::new(&server.base_url)).collect();

    let reviewer_key = fixture::create_org(&database.url);
    let tenant = fixture::tenant(&servers[0].base_url, reviewer_key.clone(), 1);
    let credential = ("X-API-Key", tenant.candidate_keys[0].as_str());
    let session = uuid::Uuid::new_v4().to_string();
    // Events go to the instances in turn, as a load balancer would send them.
    for second in 0..30_u64 {
        let event = prompt(&session, second);
        let instance = &clients[second as usize % INSTANCES];
        let reply = instance.try_post("/v1/hooks/ingest", &credential, &event).unwrap();
        assert_eq!(reply.status, 201, "{}", reply.body);
        // The same event again, through another instance: one database, so it is a duplicate everywhere.
        let retry = clients[(second as usize + 1) % INSTANCES].try_post(
            "/v1/hooks/ingest",
            &credential,
            &event,
        );
        assert_eq!(retry.unwrap().status, 200);
    }
    assert_eq!(
        migration_versions(&database.url),
        migration_directories(),
        "every migration applied once"
    );
    // The same event posted to two instances at the same instant, as a client retrying on a timeout through a
    // load balancer would: stored once, one answer 201, the other the duplicate's 200.
    for round in 0..ROUNDS_AT_ONCE {
        let event = prompt(&session, 30 + round as u64);
        let barrier = std::sync::Barrier::new(2);
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let posting: Vec<_> = clients[..2]
                .iter()
                .map(|client| {
                    let (event, barrier, credential) = (&event, &barrier, &credential);
                    scope.spawn(move || {
                        barrier.wait();
                        client.try_post("/v1/hooks/ingest", credential, event).unwrap()
                    })
                })
                .collect();
            let mut statuses: Vec<u16> =
                posting.into_iter().map(|posted| posted.join().unwrap().status).collect();
            statuses.sort_unstable();
            statuses
        });
        assert_eq!(statuses, [200, 201], "round {round}");
    }
    let stored = 30 + ROUNDS_AT_ONCE as u64;
    for client in &clients {
        let (status, read) = client.get(&format!("/v1/sessions/{session}"), Some(&reviewer_key));
        assert_eq!((status, read["session"]["eventCount"].as_u64()), (200, Some(stored)), "{read}");
        let (status, metrics) =
            client.get(&format!("/v1/sessions/{session}/metrics"), Some(&reviewer_key));
        assert_eq!(
            (status, metrics["metrics"]["promptCount"].as_u64()),
            (200, Some(stored)),
            "{metrics}"
        );
    }

    // Revoked through the first instance: refused there at once, by the others once their cache entry expires.
    let (_, listed) = clients[1].get("/v1/candidates", Some(&reviewer_key));
    let key = &listed["candidates"][0];
    assert_eq!(key["key"].as_str(), Some(credential.1), "{listed}");
    let (assessment, key_id) = (key["assessmentId"].as_str().unwrap(), key["id"].as_str().unwrap());
    let revoke = format!("/v1/assessments/{assessment}/keys/{key_id}");
    assert_eq!(clients[0].delete(&revoke, &reviewer_key).0, 200);
    let revoked_at = Instant::now();
    let status = |client: &Client| {
        let event = prompt(&session, 200);
        client.try_post("/v1/hooks/ingest", &credential, &event).unwrap().status
    };
    assert_eq!(status(&clients[0]), 401, "the revoking instance refuses at once");
    for client in &clients[1..] {
        while status(client) != 401 {
            assert!(revoked_at.elapsed() < Duration::from_secs(5), "still accepted after 5 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    println!(
        "a revoked key was refused by every instance {:?} after the revocation",
        revoked_at.elapsed()
    );

    // The same for an API key, created through one instance, used (so cached) by all, revoked through another.
    let (status, created) =
        clients[1].post("/v1/api-keys", &reviewer_key, &json!({"scopes": ["read"]}));
    assert_eq!(status, 201, "{created}");
    let (api_key, api_key_id) =
        (created["key"].as_str().unwrap(), created["apiKey"]["id"].as_str().unwrap());
    for client in &clients {
        assert_eq!(client.get("/v1/sessions", Some(api_key)).0, 200);
    }
    let revoke = format!("/v1/api-keys/{api_key_id}");
    assert_eq!(clients[0].delete(&revoke, &reviewer_key).0, 200);
    let revoked_at = Instant::now();
    assert_eq!(clients[0].get("/v1/sessions", Some(api_key)).0, 401, "refused at once there");
    for client in &clients[1..] {
        while client.get("/v1/sessions", Some(api_key)).0 != 401 {
            assert!(revoked_at.elapsed() < Duration::from_secs(5), "still accepted after 5 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    println!(
        "a revoked API key was refused by every instance {:?} after the revocation",
        revoked_at.elapsed()
    );
    for server in servers {
        assert!(server.terminate().success());
    }
}

fn prompt(session: &str, second: u64) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(), "sessionId": session,
        "ts": format!("2026-04-01T10:{:02}:{:02}Z", second / 60, second % 60), "kind": "prompt",
        "source": {"integration": "claude-code"}, "v": 1, "data": {"text": "next step"},
    })
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Text)]
    version: String,
}

/// The versions the migration table records, in order (diesel's own table; one row per applied migration).
fn migration_versions(url: &str) -> Vec<String> {
    let mut connection = PgConnection::establish(url).expect("connect to the test schema");
    let rows: Vec<Version> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load(&mut connection)
            .expect("read the migration table");
    rows.into_iter().map(|row| row.version).collect()
}

/// The version of every PostgreSQL migration in the repository, in order.
fn migration_directories() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/postgres");
    let mut versions: Vec<String> = std::fs::read_dir(root)
        .expect("list the migrations")
        .map(|entry| {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            name.split('_').next().unwrap().replace('-', "")
        })
        .collect();
    versions.sort();
    versions
}
