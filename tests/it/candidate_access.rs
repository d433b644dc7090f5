//! What a candidate credential may reach (spec §2), route by route: its own sessions and assessment, nothing
//! of another candidate or another org, and none of the reviewers' routes.

use actix_web::http::Method;
use serde_json::json;

use crate::harness::{on_both_backends, TestApp, TestBackend};

async fn candidates_see_and_change_only_their_own_sessions(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let keys = app.keys(&org, &assessment, 2).await;
    let (ada, bob) =
        (keys[0]["key"].as_str().unwrap().to_owned(), keys[1]["key"].as_str().unwrap().to_owned());
    let ada_session = app.redeem(&ada).await["sessionId"].as_str().unwrap().to_owned();
    let bob_session = app.redeem(&bob).await["sessionId"].as_str().unwrap().to_owned();
    let reviewer_session = app.post("/v1/sessions", &org.key, &json!({})).await.expect(201)
        ["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A session Ada creates herself is hers, linked to her assessment.
    let created =
        app.post("/v1/sessions", &ada, &json!({"sourceService": "cursor"})).await.expect(201);
    assert_eq!(created["session"]["assessmentId"], assessment.as_str());
    let second = created["session"]["id"].as_str().unwrap().to_owned();
    let listed = app.get("/v1/sessions", &ada).await.expect(200);
    let mut ids: Vec<&str> =
        listed["sessions"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut expected = vec![ada_session.as_str(), second.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    assert_eq!(listed["total"], 2);
    // The key's session stays the first one.
    let key_list =
        app.get(&format!("/v1/assessments/{assessment}/keys"), &org.key).await.expect(200);
    assert_eq!(key_list["keys"][0]["sessionId"], ada_session.as_str());

    let own = format!("/v1/sessions/{ada_session}");
    app.get(&own, &ada).await.expect(200);
    app.patch(&own, &ada, &json!({"metadata": {"step": 1}})).await.expect(200);
    app.patch(&format!("{own}/metadata"), &ada, &json!({"step": 2})).await.expect(200);
    assert_eq!(
        app.delete(&own, &ada).await.expect(403)["code"],
        "forbidden",
        "candidates never delete"
    );

    for foreign in [&bob_session, &reviewer_session] {
        let path = format!("/v1/sessions/{foreign}");
        app.get(&path, &ada).await.expect(404);
        app.patch(&path, &ada, &json!({"endedAt": null})).await.expect(404);
        app.patch(&format!("{path}/metadata"), &ada, &json!({"x": 1})).await.expect(404);
        app.post("/v1/candidate/complete", &ada, &json!({"sessionId": foreign})).await.expect(404);
    }
    let bob_view = app.get(&format!("/v1/sessions/{bob_session}"), &bob).await.expect(200);
    assert_eq!(
        bob_view["session"]["metadata"],
        json!({}),
        "nothing of Ada's requests touched Bob's session"
    );
}

async fn candidates_are_refused_every_reviewer_route(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let issued = app.keys(&org, &assessment, 1).await.remove(0);
    let key = issued["key"].as_str().unwrap().to_owned();
    let token = app.redeem(&key).await["sessionToken"].as_str().unwrap().to_owned();
    let key_path = format!("/v1/assessments/{assessment}/keys/{}", issued["id"].as_str().unwrap());
    let routes = [
        (Method::GET, "/v1/assessments".to_owned(), None),
        (
            Method::POST,
            "/v1/assessments".to_owned(),
            Some(json!({"title": "t", "role": "r", "taskBrief": "b"})),
        ),
        (Method::DELETE, format!("/v1/assessments/{assessment}"), None),
        (Method::GET, format!("/v1/assessments/{assessment}/keys"), None),
        (Method::POST, format!("/v1/assessments/{assessment}/keys"), Some(json!({"count": 1}))),
        (Method::DELETE, key_path.clone(), None),
        (Method::PATCH, key_path, Some(json!({"status": "hired"}))),
        (Method::GET, "/v1/candidates".to_owned(), None),
    ];
    for credential in [&key, &token] {
        for (method, path, body) in &routes {
            let response = app
                .send(
                    method.clone(),
                    path,
                    Some(credential),
                    body.as_ref().map(|b| b.to_string().into_bytes()),
                )
                .await;
            assert_eq!(response.code(), "forbidden", "{method} {path}");
            response.expect(403);
        }
    }
    // And the reviewer routes still see everything untouched.
    assert_eq!(
        app.get(&format!("/v1/assessments/{assessment}/keys"), &org.key).await.expect(200)["keys"]
            [0]["status"],
        "active"
    );
    // Complete is the candidates' route: a reviewer is refused.
    app.post("/v1/candidate/complete", &org.key, &json!({"sessionId": "x"})).await.expect(403);
}

async fn nothing_crosses_orgs(backend: TestBackend) {
    let app = TestApp::new(backend);
    let acme = app.org("Acme");
    let globex = app.org("Globex");
    let acme_assessment = app.assessment(&acme, json!({})).await;
    let globex_assessment = app.assessment(&globex, json!({})).await;
    let acme_key =
        app.keys(&acme, &acme_assessment, 1).await[0]["key"].as_str().unwrap().to_owned();
    let globex_key =
        app.keys(&globex, &globex_assessment, 1).await[0]["key"].as_str().unwrap().to_owned();
    let acme_session = app.redeem(&acme_key).await["sessionId"].as_str().unwrap().to_owned();
    let globex_session = app.redeem(&globex_key).await["sessionId"].as_str().unwrap().to_owned();

    app.get(&format!("/v1/sessions/{acme_session}"), &globex.key).await.expect(404);
    app.get(&format!("/v1/sessions/{acme_session}"), &globex_key).await.expect(404);
    app.get(&format!("/v1/sessions/{globex_session}"), &acme_key).await.expect(404);
    app.get(&format!("/v1/assessments/{acme_assessment}"), &globex_key).await.expect(404);
    app.get(&format!("/v1/assessments/{acme_assessment}"), &globex.key).await.expect(404);
    app.get(&format!("/v1/assessments/{acme_assessment}/keys"), &globex.key).await.expect(404);
    let candidates = app.get("/v1/candidates", &globex.key).await.expect(200);
    assert_eq!(candidates["total"], 1);
    assert_eq!(candidates["candidates"][0]["key"], globex_key.as_str());
    let filtered = app
        .get(&format!("/v1/sessions?assessmentId={acme_assessment}"), &globex.key)
        .await
        .expect(200);
    assert_eq!(filtered["total"], 0);
    let mine = app
        .get(&format!("/v1/sessions?assessmentId={acme_assessment}"), &acme.key)
        .await
        .expect(200);
    assert_eq!(mine["total"], 1);
}

on_both_backends!(
    candidates_see_and_change_only_their_own_sessions,
    candidates_are_refused_every_reviewer_route,
    nothing_crosses_orgs,
);
