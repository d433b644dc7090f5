//! The sessions API of spec §3 over HTTP: bodies, defaults, clamps, ordering, conflicts and org isolation.

use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend};

const SESSION_FIELDS: [&str; 15] = [
    "id",
    "orgId",
    "sourceService",
    "status",
    "startedAt",
    "endedAt",
    "lastActivityAt",
    "chainStatus",
    "eventCount",
    "decisionFlagCount",
    "aiAttributionPct",
    "metadata",
    "assessmentId",
    "createdAt",
    "updatedAt",
];

fn is_api_timestamp(value: &Value) -> bool {
    let Some(text) = value.as_str() else { return false };
    // 2026-04-01T10:15:00.000Z: UTC, milliseconds, Z.
    text.len() == 24
        && text.ends_with('Z')
        && text.as_bytes()[19] == b'.'
        && text.as_bytes()[10] == b'T'
}

async fn created_session_has_every_field_and_default(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let session =
        app.post("/v1/sessions", &org.key, &json!({})).await.expect(201)["session"].clone();
    let object = session.as_object().unwrap();
    let mut keys: Vec<_> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = SESSION_FIELDS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert!(uuid::Uuid::parse_str(session["id"].as_str().unwrap()).is_ok());
    assert_eq!(session["orgId"], org.id.as_str());
    assert_eq!(session["sourceService"], Value::Null);
    assert_eq!(session["status"], "active");
    assert_eq!(session["endedAt"], Value::Null);
    assert_eq!(session["chainStatus"], "unsigned");
    assert_eq!(session["eventCount"], 0);
    assert_eq!(session["decisionFlagCount"], 0);
    assert_eq!(session["aiAttributionPct"], Value::Null);
    assert_eq!(session["metadata"], json!({}));
    assert_eq!(session["assessmentId"], Value::Null);
    for field in ["startedAt", "lastActivityAt", "createdAt", "updatedAt"] {
        assert!(is_api_timestamp(&session[field]), "{field}: {}", session[field]);
    }
    // With no events yet, startedAt and lastActivityAt are the creation time.
    assert_eq!(session["startedAt"], session["createdAt"]);
    assert_eq!(session["lastActivityAt"], session["createdAt"]);

    let fetched =
        app.get(&format!("/v1/sessions/{}", session["id"].as_str().unwrap()), &org.key).await;
    assert_eq!(fetched.expect(200)["session"], session);
}

async fn client_chosen_ids_are_kept_and_never_overwritten(backend: TestBackend) {
    let app = TestApp::new(backend);
    let acme = app.org("Acme");
    let globex = app.org("Globex");
    let body = json!({
        "id": "6F9619FF-8B86-D011-B42D-00C04FC964FF",
        "sourceService": "claude-code",
        "metadata": {"repo": "acme/api"},
        "ignored": [1, 2]
    });
    let created = app.post("/v1/sessions", &acme.key, &body).await.expect(201);
    assert_eq!(created["session"]["id"], "6f9619ff-8b86-d011-b42d-00c04fc964ff");
    assert_eq!(created["session"]["sourceService"], "claude-code");
    assert_eq!(created["session"]["metadata"], json!({"repo": "acme/api"}));

    let again =
        json!({"id": "6f9619ff-8b86-d011-b42d-00c04fc964ff", "metadata": {"repo": "other"}});
    for key in [&acme.key, &globex.key] {
        let conflict = app.post("/v1/sessions", key, &again).await.expect(409);
        // Exactly the spec's body: no hint of which org owns the id.
        assert_eq!(
            conflict,
            json!({"error": "Session already exists", "code": "conflict", "id": "6f9619ff-8b86-d011-b42d-00c04fc964ff"})
        );
    }
    let kept =
        app.get("/v1/sessions/6f9619ff-8b86-d011-b42d-00c04fc964ff", &acme.key).await.expect(200);
    assert_eq!(kept["session"]["metadata"], json!({"repo": "acme/api"}));
    app.get("/v1/sessions/6f9619ff-8b86-d011-b42d-00c04fc964ff", &globex.key).await.expect(404);
}

async fn invalid_create_bodies_are_400_and_store_nothing(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let cases: [(&[u8], &[&str]); 8] = [
        (br#"{"id": "not-a-uuid"}"#, &["id"]),
        (br#"{"id": 42}"#, &["id"]),
        (br#"{"metadata": "x"}"#, &["metadata"]),
        (br#"{"metadata": [1]}"#, &["metadata"]),
        (br#"{"sourceService": {"a": 1}}"#, &["sourceService"]),
        (
            br#"{"id": "x", "metadata": 1, "sourceService": 2}"#,
            &["id", "sourceService", "metadata"],
        ),
        (br#"[{"id": "x"}]"#, &[""]),
        (br#"{"id": "#, &[""]),
    ];
    for (body, paths) in cases {
        let response = app
            .send(
                actix_web::http::Method::POST,
                "/v1/sessions",
                Some(&org.key),
                Some(body.to_vec()),
            )
            .await;
        assert_eq!(response.code(), "invalid_body", "{}", String::from_utf8_lossy(body));
        let error = response.expect(400);
        let reported: Vec<_> = error["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["path"].as_str().unwrap())
            .collect();
        assert_eq!(reported, paths, "{}", String::from_utf8_lossy(body));
    }
    let empty = app
        .send(actix_web::http::Method::POST, "/v1/sessions", Some(&org.key), Some(Vec::new()))
        .await;
    assert_eq!(empty.code(), "invalid_body");
    empty.expect(400);
    let listed = app.get("/v1/sessions", &org.key).await.expect(200);
    assert_eq!(listed["total"], 0);
}

async fn create(app: &TestApp, key: &str, body: Value) -> String {
    app.post("/v1/sessions", key, &body).await.expect(201)["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn list_pages_sorts_filters_and_clamps(backend: TestBackend) {
    let app = TestApp::new(backend);
    let acme = app.org("Acme");
    let globex = app.org("Globex");
    let mut created = Vec::new();
    for n in 0..25 {
        let service = if n % 2 == 0 { "cursor" } else { "claude-code" };
        created.push(create(&app, &acme.key, json!({"sourceService": service})).await);
    }
    create(&app, &globex.key, json!({"sourceService": "cursor"})).await;

    let page = app.get("/v1/sessions", &acme.key).await.expect(200);
    assert_eq!(
        (page["total"].clone(), page["limit"].clone(), page["offset"].clone()),
        (json!(25), json!(20), json!(0))
    );
    let sessions = page["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 20);
    assert!(sessions.iter().all(|s| s["orgId"] == acme.id.as_str()));
    // startedAt descending. Responses print milliseconds while storage keeps microseconds, so ties by id are
    // checked in the repository suite, where timestamps are exact.
    for pair in sessions.windows(2) {
        assert!(
            pair[0]["startedAt"].as_str() >= pair[1]["startedAt"].as_str(),
            "{} before {}",
            pair[0],
            pair[1]
        );
    }

    let rest = app.get("/v1/sessions?limit=20&offset=20", &acme.key).await.expect(200);
    assert_eq!(rest["sessions"].as_array().unwrap().len(), 5);
    let mut seen: Vec<String> = sessions
        .iter()
        .chain(rest["sessions"].as_array().unwrap())
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    seen.sort();
    created.sort();
    assert_eq!(seen, created);

    let filtered =
        app.get("/v1/sessions?sourceService=cursor&limit=100", &acme.key).await.expect(200);
    assert_eq!(filtered["total"], 13);
    assert!(filtered["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["sourceService"] == "cursor"));
    let none = app
        .get("/v1/sessions?assessmentId=00000000-0000-0000-0000-000000000000", &acme.key)
        .await
        .expect(200);
    assert_eq!((none["total"].clone(), none["sessions"].clone()), (json!(0), json!([])));

    for (query, limit, offset) in [
        ("limit=0", 1, 0),
        ("limit=-4", 1, 0),
        ("limit=1000", 100, 0),
        ("offset=-3", 20, 0),
        ("limit=5&offset=40", 5, 40),
    ] {
        let page = app.get(&format!("/v1/sessions?{query}"), &acme.key).await.expect(200);
        assert_eq!(
            (page["limit"].as_i64(), page["offset"].as_i64()),
            (Some(limit), Some(offset)),
            "{query}"
        );
    }
    let beyond = app.get("/v1/sessions?offset=40", &acme.key).await.expect(200);
    assert_eq!(beyond["sessions"], json!([]));
    assert_eq!(beyond["total"], 25);

    for query in ["limit=ten", "offset=1.5", "limit="] {
        let response = app.get(&format!("/v1/sessions?{query}"), &acme.key).await;
        assert_eq!(response.code(), "invalid_query", "{query}");
        response.expect(400);
    }
}

async fn patch_ends_reopens_and_replaces_metadata(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let id = create(&app, &org.key, json!({"metadata": {"a": 1, "b": 2}})).await;
    let path = format!("/v1/sessions/{id}");

    // After the session's start (its creation, since it has no event), which it cannot end before.
    let ended = app
        .patch(&path, &org.key, &json!({"endedAt": "2099-04-01T12:15:00.5+02:00"}))
        .await
        .expect(200);
    assert_eq!(ended["session"]["status"], "ended");
    assert_eq!(ended["session"]["endedAt"], "2099-04-01T10:15:00.500Z");
    assert_eq!(ended["session"]["metadata"], json!({"a": 1, "b": 2}));

    let replaced = app.patch(&path, &org.key, &json!({"metadata": {"c": 3}})).await.expect(200);
    assert_eq!(replaced["session"]["metadata"], json!({"c": 3}));
    assert_eq!(replaced["session"]["status"], "ended");

    let reopened = app.patch(&path, &org.key, &json!({"endedAt": null})).await.expect(200);
    assert_eq!(reopened["session"]["status"], "active");
    assert_eq!(reopened["session"]["endedAt"], Value::Null);

    let unchanged = app.patch(&path, &org.key, &json!({})).await.expect(200);
    assert_eq!(unchanged["session"], reopened["session"]);

    for body in [
        json!({"endedAt": "2026-04-01T10:15:00"}),
        json!({"endedAt": 7}),
        json!({"metadata": null}),
        json!({"metadata": [1]}),
        json!("x"),
    ] {
        let response = app.patch(&path, &org.key, &body).await;
        assert_eq!(response.code(), "invalid_body", "{body}");
        response.expect(400);
    }
    let after = app.get(&path, &org.key).await.expect(200);
    assert_eq!(after["session"], reopened["session"], "a rejected patch must change nothing");

    app.patch(
        "/v1/sessions/00000000-0000-0000-0000-000000000000",
        &org.key,
        &json!({"endedAt": null}),
    )
    .await
    .expect(404);
}

async fn metadata_patch_merges_top_level_keys(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let id =
        create(&app, &org.key, json!({"metadata": {"keep": 1, "drop": 2, "nested": {"x": 1}}}))
            .await;
    let path = format!("/v1/sessions/{id}/metadata");
    let merged = app
        .patch(&path, &org.key, &json!({"drop": null, "nested": {"y": 2}, "new": "v"}))
        .await
        .expect(200);
    assert_eq!(merged["session"]["metadata"], json!({"keep": 1, "nested": {"y": 2}, "new": "v"}));
    for body in [json!([1]), json!("x"), json!(null)] {
        let response = app.patch(&path, &org.key, &body).await;
        assert_eq!(response.code(), "invalid_body");
        response.expect(400);
    }
    app.patch("/v1/sessions/missing-session/metadata", &org.key, &json!({"a": 1}))
        .await
        .expect(404);
}

async fn delete_removes_the_session_once(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let id = create(&app, &org.key, json!({})).await;
    let path = format!("/v1/sessions/{id}");
    assert_eq!(app.delete(&path, &org.key).await.expect(200), json!({"ok": true, "id": id}));
    app.get(&path, &org.key).await.expect(404);
    app.delete(&path, &org.key).await.expect(404);
    assert_eq!(app.get("/v1/sessions", &org.key).await.expect(200)["total"], 0);
}

async fn another_orgs_session_is_answered_like_a_missing_one(backend: TestBackend) {
    let app = TestApp::new(backend);
    let acme = app.org("Acme");
    let globex = app.org("Globex");
    let id = create(&app, &acme.key, json!({"metadata": {"secret": true}})).await;
    let path = format!("/v1/sessions/{id}");
    let missing =
        app.get("/v1/sessions/00000000-0000-0000-0000-000000000000", &globex.key).await.expect(404);
    let foreign = app.get(&path, &globex.key).await.expect(404);
    assert_eq!(foreign, missing, "a foreign session must be indistinguishable from a missing one");
    app.patch(&path, &globex.key, &json!({"endedAt": null})).await.expect(404);
    app.patch(&format!("{path}/metadata"), &globex.key, &json!({"x": 1})).await.expect(404);
    app.delete(&path, &globex.key).await.expect(404);
    assert_eq!(app.get("/v1/sessions", &globex.key).await.expect(200)["total"], 0);
    let intact = app.get(&path, &acme.key).await.expect(200);
    assert_eq!(intact["session"]["metadata"], json!({"secret": true}));
    assert_eq!(intact["session"]["status"], "active");
}

async fn path_ids_that_cannot_be_sessions_are_404(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    for path in [
        "/v1/sessions/has%20space",
        "/v1/sessions/%C3%A9",
        &format!("/v1/sessions/{}", "a".repeat(200)),
    ] {
        let response = app.get(path, &org.key).await;
        assert_eq!(response.code(), "not_found", "{path}");
        response.expect(404);
    }
}

on_both_backends!(
    created_session_has_every_field_and_default,
    client_chosen_ids_are_kept_and_never_overwritten,
    invalid_create_bodies_are_400_and_store_nothing,
    list_pages_sorts_filters_and_clamps,
    patch_ends_reopens_and_replaces_metadata,
    metadata_patch_merges_top_level_keys,
    delete_removes_the_session_once,
    another_orgs_session_is_answered_like_a_missing_one,
    path_ids_that_cannot_be_sessions_are_404,
);
