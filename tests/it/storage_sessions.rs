//! The session repository, called directly on both backends: the guarantees the HTTP layer builds on.

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use serde_json::json;
use traceline_domain::json::JsonObject;
use traceline_domain::{MetadataMerge, OrgId, Page, SessionId, SessionPatch};
use traceline_storage::sessions::{self, NewSessionRecord, SessionFilter};
use traceline_storage::SessionScope;
use traceline_storage::{migrations, AnyConnection, StorageError};

use crate::harness::{on_both_backends, TestApp, TestBackend};

fn at(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_775_000_000 + seconds, 123_456_000).unwrap()
}

fn record(org: &OrgId, id: &str, created_at: DateTime<Utc>) -> NewSessionRecord {
    NewSessionRecord {
        id: SessionId::parse(id).unwrap(),
        org_id: org.clone(),
        candidate_key_id: None,
        assessment_id: None,
        source_service: Some("cursor".into()),
        metadata: json!({"k": "v"}).as_object().unwrap().clone(),
        created_at,
    }
}

async fn insert_then_get_round_trips_every_field(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = OrgId::new(app.org("Acme").id);
    let db = &app.db.database;
    let new = record(&org, "run-1", at(0));
    let inserted = db.write(move |c| sessions::insert(c, &new)).unwrap();
    assert_eq!(inserted.id.as_str(), "run-1");
    assert_eq!(inserted.started_at, at(0), "microseconds survive the round trip");
    assert_eq!(inserted.last_activity_at, at(0));
    assert_eq!(inserted.metadata, *json!({"k": "v"}).as_object().unwrap());
    assert_eq!(inserted.ai_attribution_pct, None);
    let fetched =
        db.read(|c| sessions::get(c, &SessionScope::org(org.clone()), &inserted.id)).unwrap();
    assert_eq!(fetched, inserted);
}

async fn ids_are_unique_across_orgs(backend: TestBackend) {
    let app = TestApp::new(backend);
    let acme = OrgId::new(app.org("Acme").id);
    let globex = OrgId::new(app.org("Globex").id);
    let db = &app.db.database;
    let (first, second) = (record(&acme, "shared", at(0)), record(&globex, "shared", at(1)));
    db.write(move |c| sessions::insert(c, &first)).unwrap();
    let clash = db.write(move |c| sessions::insert(c, &second));
    assert!(matches!(clash, Err(StorageError::Conflict { .. })), "{clash:?}");
    let id = SessionId::parse("shared").unwrap();
    assert!(matches!(
        db.read(|c| sessions::get(c, &SessionScope::org(globex.clone()), &id)),
        Err(StorageError::NotFound)
    ));
    assert_eq!(
        db.read(|c| sessions::get(c, &SessionScope::org(acme.clone()), &id)).unwrap().org_id,
        acme
    );
}

async fn candidate_scope_sees_only_its_key(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = OrgId::new(app.org("Acme").id);
    let db = &app.db.database;
    let writer_org = org.clone();
    db.write(move |c| {
        let org = &writer_org;
        seed_assessment_with_key(c, org)?;
        let mut mine = record(org, "mine", at(0));
        mine.candidate_key_id = Some("key-1".into());
        mine.assessment_id = Some("as-1".into());
        sessions::insert(c, &mine)?;
        sessions::insert(c, &record(org, "theirs", at(1)))
    })
    .unwrap();
    let scope = SessionScope { org_id: org.clone(), candidate_key_id: Some("key-1".into()) };
    let page = db
        .read(|c| {
            sessions::list(c, &scope, &SessionFilter::default(), Page { limit: 10, offset: 0 })
        })
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.sessions[0].id.as_str(), "mine");
    assert_eq!(page.sessions[0].assessment_id.as_deref(), Some("as-1"));
    let theirs = SessionId::parse("theirs").unwrap();
    assert!(matches!(db.read(|c| sessions::get(c, &scope, &theirs)), Err(StorageError::NotFound)));
    let by_assessment =
        SessionFilter { assessment_id: Some("as-1".into()), ..SessionFilter::default() };
    let page = db
        .read(|c| {
            sessions::list(
                c,
                &SessionScope::org(org.clone()),
                &by_assessment,
                Page { limit: 10, offset: 0 },
            )
        })
        .unwrap();
    assert_eq!(page.total, 1);
}

async fn list_orders_by_start_descending_then_id(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = OrgId::new(app.org("Acme").id);
    let db = &app.db.database;
    for (id, offset) in [("b", 10), ("a", 10), ("c", 5), ("d", 20)] {
        let new = record(&org, id, at(offset));
        db.write(move |c| sessions::insert(c, &new)).unwrap();
    }
    let page = db
        .read(|c| {
            sessions::list(
                c,
                &SessionScope::org(org.clone()),
                &SessionFilter::default(),
                Page { limit: 3, offset: 0 },
            )
        })
        .unwrap();
    let ids: Vec<_> = page.sessions.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["d", "a", "b"]);
    assert_eq!(page.total, 4);
}

async fn patches_and_merges_persist(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = OrgId::new(app.org("Acme").id);
    let scope = SessionScope::org(org.clone());
    let db = &app.db.database;
    let new = record(&org, "s", at(0));
    let session = db.write(move |c| sessions::insert(c, &new)).unwrap();
    let patch = SessionPatch { ended_at: Some(Some(at(60))), metadata: Some(JsonObject::new()) };
    let later = at(0) + Duration::seconds(90);
    let (write_scope, id) = (scope.clone(), session.id.clone());
    let updated = db.write(move |c| sessions::update(c, &write_scope, &id, &patch, later)).unwrap();
    let reread = db.read(|c| sessions::get(c, &scope, &session.id)).unwrap();
    assert_eq!(reread, updated);
    assert_eq!(reread.ended_at, Some(at(60)));
    assert_eq!(reread.updated_at, later);
    assert!(reread.metadata.is_empty());

    let merge = MetadataMerge::parse(&json!({"a": 1})).unwrap();
    let merged = db
        .write({
            let (scope, id) = (scope.clone(), session.id.clone());
            move |c| sessions::merge_metadata(c, &scope, &id, &merge, later)
        })
        .unwrap();
    assert_eq!(db.read(|c| sessions::get(c, &scope, &session.id)).unwrap(), merged);
    assert_eq!(merged.metadata["a"], 1);
}

async fn delete_takes_everything_of_the_session_and_only_that(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = OrgId::new(app.org("Acme").id);
    let scope = SessionScope::org(org.clone());
    let db = &app.db.database;
    db.write(move |c| {
        seed_assessment_with_key(c, &org)?;
        for id in ["doomed", "kept"] {
            let mut session = record(&org, id, at(0));
            session.candidate_key_id = Some("key-1".into());
            sessions::insert(c, &session)?;
            let (e1, e2) = (event_id(backend, id, 1), event_id(backend, id, 2));
            c.batch_execute(&format!(
                "INSERT INTO timeline_events (id, session_id, kind, ts, source, actor, provenance, envelope, created_at)
                 VALUES ({e1}, '{id}', 'prompt', 0, '{{}}', '{{}}', '{{}}', '{{\"data\":{{}}}}', 0),
                        ({e2}, '{id}', 'command', 1000000, '{{}}', '{{}}', '{{}}', '{{\"data\":{{}}}}', 1000000);
                 INSERT INTO artifacts (id, session_id, kind, data, derivation_v, created_at)
                 VALUES ('{id}-a', '{id}', 'analytics_v1', '{{}}', 1, '2026-01-01 00:00:00');
                 INSERT INTO scores (id, session_id, dimension, score, created_at, updated_at)
                 VALUES ('{id}-s', '{id}', 'code_quality', 4, '2026-01-01 00:00:00', '2026-01-01 00:00:00');"
            ))?;
        }
        c.batch_execute("UPDATE candidate_keys SET session_id = 'doomed' WHERE id = 'key-1'")?;
        Ok(())
    })
    .unwrap();

    let doomed = SessionId::parse("doomed").unwrap();
    db.write({
        let (scope, doomed) = (scope.clone(), doomed.clone());
        move |c| sessions::delete(c, &scope, &doomed)
    })
    .unwrap();

    let count = |sql: &str| -> i64 { count_rows(&app, sql) };
    assert_eq!(count("SELECT COUNT(*) AS n FROM sessions WHERE id = 'doomed'"), 0);
    assert_eq!(count("SELECT COUNT(*) AS n FROM timeline_events WHERE session_id = 'doomed'"), 0);
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM timeline_events"),
        2,
        "only the kept session's events remain"
    );
    assert_eq!(count("SELECT COUNT(*) AS n FROM artifacts WHERE session_id = 'doomed'"), 0);
    assert_eq!(count("SELECT COUNT(*) AS n FROM scores WHERE session_id = 'doomed'"), 0);
    assert_eq!(count("SELECT COUNT(*) AS n FROM timeline_events WHERE session_id = 'kept'"), 2);
    assert_eq!(
        count("SELECT COUNT(*) AS n FROM candidate_keys WHERE id = 'key-1' AND session_id IS NULL"),
        1
    );
    assert!(matches!(
        db.write(move |c| sessions::delete(c, &scope, &doomed)),
        Err(StorageError::NotFound)
    ));
}

async fn migrations_are_idempotent(backend: TestBackend) {
    let app = TestApp::new(backend);
    assert_eq!(migrations::run_pending(&app.db.database).unwrap(), Vec::<String>::new());
}

/// The SQL literal of the `n`th event id of session `session` (16 bytes: the session's first byte, then `n`).
fn event_id(backend: TestBackend, session: &str, n: u8) -> String {
    let hex = format!("{:02x}{:030x}", session.as_bytes()[0], n);
    match backend {
        TestBackend::Sqlite => format!("X'{hex}'"),
        TestBackend::Postgres => format!("'\\x{hex}'::bytea"),
    }
}

/// Assessment `as-1` with candidate key `key-1`, written directly: their repositories come with later features.
fn seed_assessment_with_key(c: &mut AnyConnection, org: &OrgId) -> Result<(), StorageError> {
    c.batch_execute(&format!(
        "INSERT INTO assessments (id, org_id, title, role, task_brief, expires_in_days, created_at)
         VALUES ('as-1', '{org}', 'T', 'R', 'B', 7, '2026-01-01 00:00:00');
         INSERT INTO candidate_keys (id, org_id, assessment_id, key, status, expires_at, created_at)
         VALUES ('key-1', '{org}', 'as-1', 'PST-AAAA-BBBB', 'active', '2027-01-01 00:00:00', '2026-01-01 00:00:00');"
    ))?;
    Ok(())
}

pub(crate) fn count_rows(app: &TestApp, sql: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    app.db.database.read(|c| Ok(diesel::sql_query(sql).get_result::<Count>(c)?.n)).unwrap()
}

on_both_backends!(
    insert_then_get_round_trips_every_field,
    ids_are_unique_across_orgs,
    candidate_scope_sees_only_its_key,
    list_orders_by_start_descending_then_id,
    patches_and_merges_persist,
    delete_takes_everything_of_the_session_and_only_that,
    migrations_are_idempotent,
);
