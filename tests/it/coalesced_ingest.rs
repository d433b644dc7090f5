//! Ingest requests stored together (SQLite's writer and PostgreSQL's ingest committers coalesce the ingest
//! requests queued side by side): each gets the reply it gets alone, a request that fails fails alone, and a full
//! write queue is refused at once.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{json, Value};
use traceline_domain::event::Envelope;
use traceline_domain::OrgId;
use traceline_storage::ingest::{IncomingEvent, IngestCredential, IngestOutcome};
use traceline_storage::ingest_together::{
    ingest_request, ingest_together, IngestReply, IngestRequest,
};
use traceline_storage::{Database, PendingWrite, StorageError};

use crate::harness::{on_both_backends, TestApp, TestBackend, TestOrg};
use crate::ingest::envelope;

/// The writer's queue depth (`group_commit::QUEUE_DEPTH`).
const QUEUE_DEPTH: usize = 4096;

struct Cast {
    org: TestOrg,
    alice: IngestCredential,
    bob: IngestCredential,
    carol: IngestCredential,
}

/// Three candidates of one assessment; Carol's record is closed.
async fn cast(app: &TestApp) -> Cast {
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let keys = app.keys(&org, &assessment, 3).await;
    let credential = |n: usize| IngestCredential {
        org_id: OrgId::new(org.id.clone()),
        candidate_key_id: keys[n]["id"].as_str().unwrap().to_owned(),
        assessment_id: assessment.clone(),
    };
    let (alice, bob, carol) = (credential(0), credential(1), credential(2));
    app.execute_sql(&format!(
        "UPDATE candidate_keys SET status = 'completed' WHERE id = '{}'",
        carol.candidate_key_id
    ));
    Cast { org, alice, bob, carol }
}

fn request(credential: &IngestCredential, events: &[&Value]) -> IngestRequest {
    let events = events
        .iter()
        .map(|value| {
            let envelope = Envelope::parse(value).unwrap();
            IncomingEvent::new(envelope, value.to_string(), value)
        })
        .collect();
    IngestRequest { credential: credential.clone(), events, received_at: Utc::now() }
}

fn event(id: &str, session: &str, second: u32) -> Value {
    let mut value =
        envelope(session, "prompt", &format!("2026-04-01T10:00:{second:02}Z"), json!({"text": id}));
    // The same id for the same name, in both databases a comparison uses.
    let hex: String = id.bytes().map(|byte| format!("{byte:02x}")).collect();
    value["id"] = json!(format!("00000000-0000-4000-8000-{hex:0>12}"));
    value
}

/// Requests exercising every rule at once: duplicates within a request and across requests, a session created
/// by one candidate and then aimed at by another, an id taken by another session, a closed record.
fn mixed_requests(cast: &Cast) -> Vec<IngestRequest> {
    let (a0, a1, a2) = (event("a0", "alice", 0), event("a1", "alice", 1), event("a2", "new", 2));
    let (a3, b1, b2) = (event("a3", "alice", 3), event("b1", "alice", 4), event("b2", "new", 5));
    let mut a0_elsewhere = a0.clone();
    a0_elsewhere["sessionId"] = json!("elsewhere");
    vec![
        request(&cast.alice, &[&a1, &a0, &a1]),
        request(&cast.bob, &[&b1, &b2]),
        request(&cast.alice, &[&a2, &a0_elsewhere]),
        request(&cast.carol, &[&event("c1", "carol", 6)]),
        request(&cast.bob, &[&b2]),
        request(&cast.alice, &[&a3]),
    ]
}

fn stored(outcomes: &[IngestOutcome]) -> IngestReply {
    IngestReply::Stored(outcomes.to_vec())
}

/// What the reviewer sees of a session: its counters and the ids of its timeline.
async fn session_view(app: &TestApp, org: &TestOrg, id: &str) -> Value {
    let response = app.get(&format!("/v1/sessions/{id}"), &org.key).await;
    if response.status.as_u16() == 404 {
        return Value::Null;
    }
    let session = response.expect(200)["session"].clone();
    let timeline = app.get(&format!("/v1/sessions/{id}/timeline"), &org.key).await.expect(200);
    let ids: Vec<Value> =
        timeline["events"].as_array().unwrap().iter().map(|event| event["id"].clone()).collect();
    json!({
        "eventCount": session["eventCount"],
        "startedAt": session["startedAt"],
        "lastActivityAt": session["lastActivityAt"],
        "ids": ids,
    })
}

async fn requests_stored_together_get_the_replies_they_get_alone(backend: TestBackend) {
    use IngestOutcome::{Created, Duplicate, Forbidden, IdTaken};
    let (together, alone) = (TestApp::new(backend), TestApp::new(backend));
    let mut views = Vec::new();
    let mut replies = Vec::new();
    for (app, coalesce) in [(&together, true), (&alone, false)] {
        let cast = cast(app).await;
        // Alice's first event is already stored.
        let first = request(&cast.alice, &[&event("a0", "alice", 0)]);
        let done = app.db.database.write(move |connection| ingest_request(connection, &first));
        assert_eq!(done.unwrap(), stored(&[Created]));
        let requests = mixed_requests(&cast);
        let answered = app
            .db
            .database
            .write(move |connection| match coalesce {
                true => ingest_together(connection, &requests.iter().collect::<Vec<_>>()),
                false => {
                    requests.iter().map(|request| ingest_request(connection, request)).collect()
                }
            })
            .unwrap();
        replies.push(answered);
        let mut view = Vec::new();
        for session in ["alice", "new", "elsewhere", "carol"] {
            view.push(session_view(app, &cast.org, session).await);
        }
        views.push(view);
    }
    assert_eq!(
        replies[0],
        vec![
            stored(&[Created, Duplicate, Duplicate]),
            stored(&[Forbidden, Created]),
            stored(&[Forbidden, IdTaken]),
            IngestReply::Closed,
            stored(&[Duplicate]),
            stored(&[Created]),
        ]
    );
    assert_eq!(replies[0], replies[1], "the same replies as one by one");
    assert_eq!(views[0], views[1], "the same stored state as one by one");
    assert_eq!(views[0][0]["eventCount"], 3, "{:?}", views[0]);
    assert_eq!(views[0][0]["lastActivityAt"], "2026-04-01T10:00:03.000Z");
    assert_eq!(views[0][1]["eventCount"], 1, "Bob's new session holds his event only");
    assert_eq!(views[0][2], Value::Null, "no session for an id taken elsewhere");
    assert_eq!(views[0][3], Value::Null, "nothing of a closed record");
}

/// Holds SQLite's writer busy until the returned sender is dropped or sent to.
fn hold_writer(database: &Database) -> (mpsc::Sender<()>, PendingWrite<()>) {
    let (started, running) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let pending = database
        .write_queued(move |_| {
            started.send(()).unwrap();
            let _ = released.recv();
            Ok(())
        })
        .unwrap_or_else(|_| panic!("SQLite has a group-commit writer"));
    running.recv_timeout(Duration::from_secs(10)).expect("the writer takes the job");
    (release, pending)
}

async fn a_request_that_fails_in_a_coalesced_batch_fails_alone() {
    let app = TestApp::new(TestBackend::Sqlite);
    let cast = cast(&app).await;
    let database = &app.state.database;
    let mut gone = cast.bob.clone();
    gone.candidate_key_id = "no-such-key".to_owned();
    let (release, holder) = hold_writer(database);
    // Queued behind the held job, so the writer takes all three into one batch.
    let queued: Vec<_> = [
        request(&cast.alice, &[&event("x1", "alice", 1)]),
        request(&gone, &[&event("x2", "alice", 2)]),
        request(&cast.alice, &[&event("x3", "alice", 3)]),
    ]
    .into_iter()
    .map(|request| database.ingest(request))
    .collect();
    release.send(()).unwrap();
    holder.await.unwrap();
    let mut answers = Vec::new();
    for pending in queued {
        answers.push(pending.await);
    }
    assert_eq!(answers[0].as_ref().unwrap(), &stored(&[IngestOutcome::Created]));
    assert!(matches!(answers[1], Err(StorageError::NotFound)), "{:?}", answers[1]);
    assert_eq!(answers[2].as_ref().unwrap(), &stored(&[IngestOutcome::Created]));
    assert_eq!(session_view(&app, &cast.org, "alice").await["eventCount"], 2);
}

async fn a_full_write_queue_is_answered_503_at_once() {
    let app = TestApp::new(TestBackend::Sqlite);
    let (org, key) = crate::ingest::candidate(&app).await;
    let database = &app.state.database;
    let (release, holder) = hold_writer(database);
    let filling: Vec<_> = (0..QUEUE_DEPTH)
        .map(|_| database.write_queued(|_| Ok(())).unwrap_or_else(|_| panic!("SQLite queues")))
        .collect();
    let started = Instant::now();
    let refused = app.post("/v1/hooks/ingest", &key, &event("late", "queued", 1)).await;
    let waited = started.elapsed();
    let retry_after = refused.headers.get("retry-after").map(|value| value.to_str().unwrap());
    assert_eq!(retry_after, Some("2"));
    assert_eq!(refused.expect(503)["code"], "service_unavailable");
    assert!(waited < Duration::from_secs(1), "answered after {waited:?}, not at once");
    release.send(()).unwrap();
    holder.await.unwrap();
    for pending in filling {
        pending.await.unwrap();
    }
    app.post("/v1/hooks/ingest", &key, &event("late", "queued", 1)).await.expect(201);
    assert_eq!(session_view(&app, &org, "queued").await["eventCount"], 1);
}

/// PostgreSQL's committers take whatever is queued when they are free: many requests at once, some failing or
/// refused, a large batch among them (stored as a set of its own), each get their own reply, and everything that
/// was answered stored is there.
async fn queued_requests_on_postgres_get_their_own_replies() {
    let app = TestApp::new(TestBackend::Postgres);
    let cast = cast(&app).await;
    let mut gone = cast.bob.clone();
    gone.candidate_key_id = "no-such-key".to_owned();
    let database = &app.state.database;
    let mut queued = Vec::new();
    for n in 0..48_u32 {
        let (credential, session) = match n % 3 {
            0 => (&cast.alice, "alice"),
            1 => (&cast.bob, "bob"),
            _ => (&cast.alice, "alice-2"),
        };
        let id = format!("q{n}");
        queued.push(database.ingest(request(credential, &[&event(&id, session, n % 60)])));
    }
    let batch: Vec<Value> = (0..150).map(|n| event(&format!("b{n}"), "bob-big", n % 60)).collect();
    let big = database.ingest(request(&cast.bob, &batch.iter().collect::<Vec<_>>()));
    let refused_whole = database.ingest(request(&cast.carol, &[&event("c1", "carol", 1)]));
    let failing = database.ingest(request(&gone, &[&event("g1", "alice", 1)]));
    for pending in queued {
        assert_eq!(pending.await.unwrap(), stored(&[IngestOutcome::Created]));
    }
    assert_eq!(big.await.unwrap(), stored(&[IngestOutcome::Created; 150]));
    assert_eq!(refused_whole.await.unwrap(), IngestReply::Closed);
    assert!(matches!(failing.await, Err(StorageError::NotFound)));
    for (session, count) in [("alice", 16), ("bob", 16), ("alice-2", 16), ("bob-big", 150)] {
        assert_eq!(session_view(&app, &cast.org, session).await["eventCount"], count, "{session}");
    }
    assert_eq!(session_view(&app, &cast.org, "carol").await, Value::Null);
}

on_both_backends!(requests_stored_together_get_the_replies_they_get_alone);

#[actix_web::test]
async fn queued_requests_on_postgres_get_their_own_replies_postgres() {
    queued_requests_on_postgres_get_their_own_replies().await;
}

#[actix_web::test]
async fn a_request_that_fails_in_a_coalesced_batch_fails_alone_sqlite() {
    a_request_that_fails_in_a_coalesced_batch_fails_alone().await;
}

#[actix_web::test]
async fn a_full_write_queue_is_answered_503_at_once_sqlite() {
    a_full_write_queue_is_answered_503_at_once().await;
}
