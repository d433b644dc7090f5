//! Reviewer accounts (spec §11) and API keys (§10.3) over HTTP: signing in, the cookie on `/v1/*`, the
//! same-origin rule, users and roles, passwords, API key management, and who a score or a decision names.

use actix_web::http::{header, Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::json;

use crate::harness::{on_both_backends, same_origin, TestApp, TestBackend, HOST};
use crate::ingest::{candidate, envelope};

async fn the_cookie_authenticates_the_api_and_writes_must_come_from_the_same_origin(
    backend: TestBackend,
) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    app.user(&org, "ada@acme.test", "reviewer");
    let cookie = app.sign_in("ada@acme.test").await;
    assert_eq!(app.get("/v1/assessments", &cookie).await.expect(200)["assessments"], json!([]));
    let body = json!({"title": "T", "role": "R", "taskBrief": "B"});
    app.post("/v1/assessments", &cookie, &body).await.expect(201);

    let cross_site = |origin: Option<&str>, referer: Option<&str>| {
        let mut request = TestRequest::post()
            .uri("/v1/assessments")
            .insert_header((header::HOST, HOST))
            .insert_header((header::COOKIE, cookie.as_str()))
            .insert_header((header::CONTENT_TYPE, "application/json"))
            .set_payload(body.to_string());
        if let Some(origin) = origin {
            request = request.insert_header((header::ORIGIN, origin));
        }
        if let Some(referer) = referer {
            request = request.insert_header((header::REFERER, referer));
        }
        request
    };
    for (origin, referer) in [
        (Some("http://evil.test"), None),
        (Some("null"), None),
        (None, None),
        (None, Some("http://evil.test/page")),
    ] {
        let refused = app.call(cross_site(origin, referer)).await;
        assert_eq!(refused.code(), "forbidden", "{origin:?} {referer:?}");
        refused.expect(403);
    }
    app.call(cross_site(None, Some(&format!("http://{HOST}/assessments")))).await.expect(201);
    // Reads need no origin: links and bookmarks are reads.
    let read = TestRequest::get()
        .uri("/v1/assessments")
        .insert_header((header::COOKIE, cookie.as_str()))
        .insert_header((header::ORIGIN, "http://evil.test"));
    assert_eq!(app.call(read).await.expect(200)["assessments"].as_array().unwrap().len(), 2);

    // A wrong key in a header is judged as a wrong key, not rescued by the cookie.
    let both = TestRequest::get()
        .uri("/v1/assessments")
        .insert_header((header::COOKIE, cookie.as_str()))
        .insert_header((
            header::AUTHORIZATION,
            "Bearer psk_live_0000000000000000000000000000000000000000",
        ));
    app.call(both).await.expect(401);

    let signed_out = app
        .raw(
            same_origin(TestRequest::post().uri("/logout"))
                .insert_header((header::COOKIE, cookie.as_str())),
        )
        .await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert!(signed_out.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")));
    app.get("/v1/assessments", &cookie).await.expect(401);
}

async fn sign_in_checks_the_password_and_says_the_same_for_every_failure(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let ada = app.user(&org, "ada@acme.test", "admin");
    let wrong_password = app.form("/login", "email=ada@acme.test&password=not+it+at+all").await;
    let wrong_email =
        app.form("/login", "email=nobody@acme.test&password=correct horse battery staple").await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_email.status, StatusCode::UNAUTHORIZED);
    assert!(wrong_password.text.contains("Wrong email or password."));
    assert_eq!(
        wrong_password.text.replace("ada@acme.test", ""),
        wrong_email.text.replace("nobody@acme.test", ""),
        "the two pages differ only in the address typed"
    );
    assert!(wrong_email.header("set-cookie").is_none());

    let cookie = app.sign_in("ADA@acme.test ").await;
    let response = app
        .form(
            "/login",
            "email=ada@acme.test&password=correct horse battery staple&next=//evil.test",
        )
        .await;
    assert_eq!(response.header("location"), Some("/"), "never sent to another site");
    let set_cookie = response.header("set-cookie").unwrap().to_owned();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=604800"] {
        assert!(set_cookie.contains(flag), "{set_cookie} lacks {flag}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http");
    let cross = TestRequest::post()
        .uri("/login")
        .insert_header((header::HOST, HOST))
        .insert_header((header::ORIGIN, "http://evil.test"))
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload("email=ada%40acme.test&password=correct+horse+battery+staple");
    assert_eq!(
        app.raw(cross).await.status,
        StatusCode::FORBIDDEN,
        "no signing in from another site"
    );

    // Disabling ends every sign-in at once; the right password then says the account is disabled.
    let admin_key = org.key.clone();
    app.patch(&format!("/v1/users/{ada}"), &admin_key, &json!({"disabled": true}))
        .await
        .expect(200);
    app.get("/v1/assessments", &cookie).await.expect(401);
    let disabled =
        app.form("/login", "email=ada@acme.test&password=correct horse battery staple").await;
    assert_eq!(disabled.status, StatusCode::FORBIDDEN);
    assert!(disabled.text.contains("disabled"));
}

async fn the_secure_flag_follows_the_public_url(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| {
        settings.public_url = Some("https://review.example".to_owned());
    });
    let org = app.org("Acme");
    app.user(&org, "ada@acme.test", "reviewer");
    let request = TestRequest::post()
        .uri("/login")
        .insert_header((header::HOST, "10.0.0.5:8080"))
        .insert_header((header::ORIGIN, "https://review.example"))
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload("email=ada%40acme.test&password=correct+horse+battery+staple");
    let response = app.raw(request).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert!(response.header("set-cookie").unwrap().ends_with("; Secure"));
    let cookie = response.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let from_host = TestRequest::post()
        .uri("/v1/assessments")
        .insert_header((header::HOST, "10.0.0.5:8080"))
        .insert_header((header::ORIGIN, "http://10.0.0.5:8080"))
        .insert_header((header::COOKIE, cookie.as_str()))
        .set_payload("{}");
    app.call(from_host).await.expect(403);
}

async fn admins_manage_users_and_reviewers_do_not(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let ada = app.user(&org, "ada@acme.test", "admin");
    app.user(&org, "rita@acme.test", "reviewer");
    let admin = app.sign_in("ada@acme.test").await;
    let reviewer = app.sign_in("rita@acme.test").await;

    let created = app.post("/v1/users", &admin, &json!({"email": "Grace@Acme.test"})).await;
    assert_eq!(created.headers.get("cache-control").unwrap(), "no-store");
    let created = created.expect(201);
    assert_eq!(created["user"]["email"], "grace@acme.test");
    assert_eq!(
        (created["user"]["name"].as_str(), created["user"]["role"].as_str()),
        (Some("grace"), Some("reviewer"))
    );
    let password = created["password"].as_str().unwrap();
    assert!(password.len() >= 12);
    assert!(created["user"].get("passwordHash").is_none());
    app.post("/v1/users", &admin, &json!({"email": "grace@acme.test"})).await.expect(409);
    let other = app.org("Globex");
    app.post("/v1/users", &other.key, &json!({"email": "grace@acme.test"})).await.expect(409);
    let bad = app
        .post("/v1/users", &admin, &json!({"email": "x", "role": "owner", "password": "short"}))
        .await;
    assert_eq!(bad.code(), "invalid_body");
    bad.expect(400);

    app.post("/v1/users", &reviewer, &json!({"email": "x@acme.test"})).await.expect(403);
    let read_key = app.api_key(&org, "read");
    app.post("/v1/users", &read_key, &json!({"email": "x@acme.test"})).await.expect(403);
    let listed = app.get("/v1/users", &reviewer).await.expect(200);
    assert_eq!(listed["users"].as_array().unwrap().len(), 3);
    app.patch(&format!("/v1/users/{ada}"), &admin, &json!({"disabled": true})).await.expect(409);
    app.patch(&format!("/v1/users/{ada}"), &admin, &json!({"role": "reviewer"})).await.expect(409);
    app.patch(&format!("/v1/users/{ada}"), &other.key, &json!({"disabled": true}))
        .await
        .expect(404);
    app.patch("/v1/users/nobody", &admin, &json!({"disabled": true})).await.expect(404);
    let grace = created["user"]["id"].as_str().unwrap();
    let promoted = app
        .patch(&format!("/v1/users/{grace}"), &admin, &json!({"role": "admin"}))
        .await
        .expect(200);
    assert_eq!(promoted["user"]["role"], "admin");
}

async fn users_change_their_own_password_and_other_sign_ins_end(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    app.user(&org, "ada@acme.test", "reviewer");
    let here = app.sign_in("ada@acme.test").await;
    let elsewhere = app.sign_in("ada@acme.test").await;
    let path = "/v1/me/password";
    let wrong = app
        .post(
            path,
            &here,
            &json!({"currentPassword": "nope", "newPassword": "a much longer passphrase"}),
        )
        .await;
    assert_eq!(wrong.body["details"][0]["path"], "currentPassword");
    wrong.expect(400);
    app.post(
        path,
        &here,
        &json!({"currentPassword": crate::harness::PASSWORD, "newPassword": "short"}),
    )
    .await
    .expect(400);
    app.post(
        path,
        &org.key,
        &json!({"currentPassword": "x", "newPassword": "a much longer passphrase"}),
    )
    .await
    .expect(403);
    app.post(path, &here, &json!({"currentPassword": crate::harness::PASSWORD, "newPassword": "a much longer passphrase"}))
        .await
        .expect(200);
    app.get("/v1/assessments", &here).await.expect(200);
    app.get("/v1/assessments", &elsewhere).await.expect(401);
    let old = app.form("/login", "email=ada@acme.test&password=correct horse battery staple").await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app.form("/login", "email=ada@acme.test&password=a much longer passphrase").await;
    assert_eq!(new.status, StatusCode::SEE_OTHER);
}

async fn api_keys_are_listed_without_secrets_and_revoked_at_once(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let created =
        app.post("/v1/api-keys", &org.key, &json!({"name": "Dashboard", "scopes": ["read"]})).await;
    assert_eq!(created.headers.get("cache-control").unwrap(), "no-store");
    let created = created.expect(201);
    let secret = created["key"].as_str().unwrap().to_owned();
    let id = created["apiKey"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["apiKey"]["prefix"], secret[..12]);
    assert_eq!(created["apiKey"]["scopes"], json!(["read"]));
    assert_eq!(created["apiKey"]["lastUsedAt"], json!(null));
    app.get("/v1/sessions", &secret).await.expect(200);
    let listed = app.get("/v1/api-keys", &secret).await.expect(200);
    assert!(!listed.to_string().contains(&secret), "never the key itself");
    let entry = listed["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["id"] == id.as_str())
        .unwrap()
        .clone();
    assert!(entry["lastUsedAt"].is_string(), "its use was recorded: {entry}");
    app.post("/v1/api-keys", &secret, &json!({"scopes": ["read"]})).await.expect(403);
    app.post("/v1/api-keys", &org.key, &json!({"scopes": ["admin"]})).await.expect(400);
    let other = app.org("Globex");
    app.delete(&format!("/v1/api-keys/{id}"), &other.key).await.expect(404);
    let revoked = app.delete(&format!("/v1/api-keys/{id}"), &org.key).await.expect(200);
    assert!(revoked["apiKey"]["revokedAt"].is_string());
    app.get("/v1/sessions", &secret).await.expect(401);
    let again = app.delete(&format!("/v1/api-keys/{id}"), &org.key).await.expect(200);
    assert_eq!(again["apiKey"]["revokedAt"], revoked["apiKey"]["revokedAt"]);
}

async fn scores_are_kept_per_reviewer_and_name_who_gave_them(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    app.post(
        "/v1/hooks/ingest",
        &key,
        &envelope("s", "prompt", "2026-04-01T10:00:00Z", json!({"text": "x"})),
    )
    .await
    .expect(201);
    app.user(&org, "ada@acme.test", "reviewer");
    let ada = app.sign_in("ada@acme.test").await;
    let path = "/v1/sessions/s/scores";
    app.post(path, &ada, &json!([{"dimension": "code_quality", "score": 4}])).await.expect(201);
    app.post(path, &org.key, &json!([{"dimension": "code_quality", "score": 2}])).await.expect(201);
    let again = app
        .post(path, &ada, &json!([{"dimension": "code_quality", "score": 5, "notes": "tidy"}]))
        .await
        .expect(201);
    let scores = again["scores"].as_array().unwrap();
    assert_eq!(scores.len(), 2, "one per reviewer: {again}");
    let by = |kind: &str| scores.iter().find(|score| score["scoredBy"]["type"] == kind).unwrap();
    assert_eq!(
        (by("user")["score"].clone(), by("user")["scoredBy"]["name"].clone()),
        (json!(5), json!("ada"))
    );
    assert_eq!(by("apiKey")["score"], 2);
    assert!(by("apiKey")["scoredBy"]["name"].as_str().unwrap().starts_with("API key psk_live_"));
}

async fn a_rejected_candidate_is_in_the_cohort_and_cannot_redeem_again(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let keys = app.keys(&org, &assessment, 2).await;
    for key in &keys {
        let redeemed = app.redeem(key["key"].as_str().unwrap()).await;
        let token = redeemed["sessionToken"].as_str().unwrap();
        let session = redeemed["sessionId"].as_str().unwrap();
        app.post(
            "/v1/hooks/ingest",
            token,
            &envelope(session, "prompt", "2026-04-01T10:00:00Z", json!({"text": "x"})),
        )
        .await
        .expect(201);
    }
    let first = &keys[0];
    let path = format!("/v1/assessments/{assessment}/keys/{}", first["id"].as_str().unwrap());
    let bad = app.patch(&path, &org.key, &json!({"status": "completed"})).await;
    assert_eq!(bad.body["details"][0]["path"], "status");
    bad.expect(400);
    let rejected = app.patch(&path, &org.key, &json!({"status": "rejected"})).await.expect(200);
    assert_eq!(rejected["key"]["status"], "rejected");
    let second = format!("/v1/assessments/{assessment}/keys/{}", keys[1]["id"].as_str().unwrap());
    app.patch(&second, &org.key, &json!({"status": "hired"})).await.expect(200);
    let cohort =
        app.get(&format!("/v1/assessments/{assessment}/cohort-stats"), &org.key).await.expect(200);
    assert_eq!(
        cohort["cohortStats"]["sessionCount"], 2,
        "hired and rejected are both in the cohort"
    );
    let again = app
        .send(
            Method::POST,
            "/v1/candidate/redeem",
            None,
            Some(json!({"key": first["key"]}).to_string().into_bytes()),
        )
        .await;
    again.expect(409);
    // A decision can be changed.
    app.patch(&path, &org.key, &json!({"status": "hired"})).await.expect(200);
}

on_both_backends!(
    the_cookie_authenticates_the_api_and_writes_must_come_from_the_same_origin,
    sign_in_checks_the_password_and_says_the_same_for_every_failure,
    the_secure_flag_follows_the_public_url,
    admins_manage_users_and_reviewers_do_not,
    users_change_their_own_password_and_other_sign_ins_end,
    api_keys_are_listed_without_secrets_and_revoked_at_once,
    scores_are_kept_per_reviewer_and_name_who_gave_them,
    a_rejected_candidate_is_in_the_cohort_and_cannot_redeem_again,
);
