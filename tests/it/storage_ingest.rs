//! The ingest write path under concurrency, called directly from many threads on both backends: exactly one
//! row per event id and one session per session id, whatever the interleaving.

use std::sync::{Arc, Barrier};
use std::thread;

use chrono::Utc;
use serde_json::json;
use traceline_domain::event::Envelope;
use traceline_domain::OrgId;
use traceline_storage::ingest::{self, IncomingEvent, IngestCredential, IngestOutcome};
use traceline_storage::Database;

use crate::harness::{on_both_backends, TestApp, TestBackend};
use crate::ingest::envelope;

const THREADS: usize = 8;

async fn credential(app: &TestApp) -> (IngestCredential, crate::harness::TestOrg) {
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let key = app.keys(&org, &assessment, 1).await.remove(0);
    let credential = IngestCredential {
        org_id: OrgId::new(org.id.clone()),
        candidate_key_id: key["id"].as_str().unwrap().to_owned(),
        assessment_id: assessment,
    };
    (credential, org)
}

/// Runs `post(thread_index)` on every thread at once and collects the outcomes.
fn race(
    database: &Database,
    credential: &IngestCredential,
    events: Vec<serde_json::Value>,
) -> Vec<IngestOutcome> {
    let barrier = Arc::new(Barrier::new(events.len()));
    let handles: Vec<_> = events
        .into_iter()
        .map(|value| {
            let (database, credential, barrier) =
                (database.clone(), credential.clone(), Arc::clone(&barrier));
            thread::spawn(move || {
                let event = [IncomingEvent::new(
                    Envelope::parse(&value).unwrap(),
                    value.to_string(),
                    &value,
                )];
                barrier.wait();
                let outcomes = database
                    .write(move |connection| {
                        ingest::ingest(connection, &credential, &event, Utc::now())
                    })
                    .unwrap();
                outcomes[0]
            })
        })
        .collect();
    handles.into_iter().map(|handle| handle.join().unwrap()).collect()
}

async fn concurrent_retries_of_one_event_store_it_once(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (credential, org) = credential(&app).await;
    let event = envelope("retried", "prompt", "2026-04-01T10:00:00Z", json!({"text": "once"}));
    let outcomes = race(&app.db.database, &credential, vec![event.clone(); THREADS]);
    let created = outcomes.iter().filter(|outcome| **outcome == IngestOutcome::Created).count();
    let skipped = outcomes.iter().filter(|outcome| **outcome == IngestOutcome::Duplicate).count();
    assert_eq!((created, skipped), (1, THREADS - 1), "{outcomes:?}");
    let session = app.get("/v1/sessions/retried", &org.key).await.expect(200);
    assert_eq!(session["session"]["eventCount"], 1);
    let timeline = app.get("/v1/sessions/retried/timeline", &org.key).await.expect(200);
    assert_eq!(timeline["events"].as_array().unwrap().len(), 1);
}

async fn one_id_sent_to_many_sessions_at_once_is_stored_once_and_refused_elsewhere(
    backend: TestBackend,
) {
    let app = TestApp::new(backend);
    let (credential, org) = credential(&app).await;
    let id = uuid::Uuid::new_v4().to_string();
    let events: Vec<_> = (0..THREADS)
        .map(|n| {
            let mut event = envelope(
                &format!("contested-{n}"),
                "prompt",
                "2026-04-01T10:00:00Z",
                json!({"text": n.to_string()}),
            );
            event["id"] = json!(id);
            event
        })
        .collect();
    let outcomes = race(&app.db.database, &credential, events);
    let created = outcomes.iter().filter(|outcome| **outcome == IngestOutcome::Created).count();
    let taken = outcomes.iter().filter(|outcome| **outcome == IngestOutcome::IdTaken).count();
    // Never "skipped": that would tell a client its event was stored when it went nowhere.
    assert_eq!((created, taken), (1, THREADS - 1), "{outcomes:?}");
    // A loser may have created its (empty) session before losing the race; no session holds a second copy.
    let mut stored = 0;
    for n in 0..THREADS {
        let response = app.get(&format!("/v1/sessions/contested-{n}"), &org.key).await;
        if response.status.as_u16() == 200 {
            stored += response.body["session"]["eventCount"].as_i64().unwrap();
        }
    }
    assert_eq!(stored, 1);
}

async fn concurrent_first_events_create_one_session(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (credential, org) = credential(&app).await;
    let events: Vec<_> = (0..THREADS)
        .map(|n| {
            envelope(
                "fresh",
                "checkpoint",
                &format!("2026-04-01T10:00:0{n}Z"),
                json!({"label": n.to_string()}),
            )
        })
        .collect();
    let outcomes = race(&app.db.database, &credential, events);
    assert!(outcomes.iter().all(|outcome| *outcome == IngestOutcome::Created), "{outcomes:?}");
    let session = app.get("/v1/sessions/fresh", &org.key).await.expect(200)["session"].clone();
    assert_eq!(session["eventCount"], THREADS);
    assert_eq!(session["startedAt"], "2026-04-01T10:00:00.000Z");
    assert_eq!(session["lastActivityAt"], format!("2026-04-01T10:00:0{}.000Z", THREADS - 1));
    assert_eq!(app.get("/v1/sessions", &org.key).await.expect(200)["total"], 1);
}

on_both_backends!(
    concurrent_retries_of_one_event_store_it_once,
    one_id_sent_to_many_sessions_at_once_is_stored_once_and_refused_elsewhere,
    concurrent_first_events_create_one_session
);
