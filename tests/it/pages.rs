//! The web UI's pages over HTTP, in process (the browser suite in `tests/ui` drives the same pages in Chromium):
//! who may see them, their headers, the escaping of everything a candidate sent, the UI.md hooks, paging the
//! timeline by its cursor, and the assets.

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend};
use crate::ingest::{candidate, envelope};

const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&";

/// A session of `events` events with hostile text in every place a candidate writes, the first prompt first.
async fn hostile_session(app: &TestApp, key: &str, events: usize) -> Vec<Value> {
    let mut sent = vec![
        envelope("s", "prompt", "2026-04-01T10:00:00Z", json!({"text": HOSTILE})),
        envelope(
            "s",
            "command",
            "2026-04-01T10:00:01Z",
            json!({"command": HOSTILE, "exitCode": 1,
            "stdout": format!("\u{1b}[31m{HOSTILE}\u{1b}[0m"), "cwd": HOSTILE}),
        ),
        envelope(
            "s",
            "file_diff",
            "2026-04-01T10:00:02Z",
            json!({"path": HOSTILE,
            "diff": format!("--- a\n+++ b\n@@ -1 +1 @@\n-{HOSTILE}\n+{HOSTILE}\n {HOSTILE}")}),
        ),
        envelope(
            "s",
            "decision_event",
            "2026-04-01T10:00:03Z",
            json!({"title": HOSTILE, "rationale": HOSTILE}),
        ),
        envelope("s", "custom_thing", "2026-04-01T10:00:04Z", json!({HOSTILE: HOSTILE, "n": 3})),
    ];
    for n in sent.len()..events {
        let ts = format!("2026-04-01T11:{:02}:{:02}Z", n / 60 % 60, n % 60);
        sent.push(envelope("s", "prompt", &ts, json!({"text": format!("prompt {n}")})));
    }
    for chunk in sent.chunks(500) {
        app.post("/v1/hooks/ingest/batch", key, &json!({"events": chunk})).await.expect(207);
    }
    sent
}

async fn signed_out_visitors_are_sent_to_sign_in_and_candidates_are_refused(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (_, key) = candidate(&app).await;
    for path in ["/", "/sessions?q=a%20b", "/settings", "/sessions/s", "/assessments/x"] {
        let page = app.page(path, None).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        let location = page.header("location").unwrap();
        assert!(location.starts_with("/login?next=/"), "{path} → {location}");
    }
    let login = app.page("/login", None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.text.contains("name=\"email\"") && login.text.contains("name=\"password\""));
    let as_candidate = app
        .raw(
            actix_web::test::TestRequest::get().uri("/").insert_header(("X-API-Key", key.as_str())),
        )
        .await;
    assert_eq!(as_candidate.status, StatusCode::FORBIDDEN);
    assert!(
        as_candidate.header("content-type").unwrap().starts_with("text/html"),
        "pages answer with a page"
    );
}

async fn every_page_escapes_what_the_candidate_sent_and_carries_the_hooks(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    let sent = hostile_session(&app, &key, 5).await;
    app.user(&org, "ada@acme.test", "reviewer");
    let cookie = app.sign_in("ada@acme.test").await;
    let page = app.page("/sessions/s", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(
        page.header("content-security-policy").unwrap().split(';').next(),
        Some("default-src 'self'")
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(!page.text.contains("<script>alert"), "a script tag from the candidate");
    assert!(!page.text.contains("<img src=x"), "an img tag from the candidate");
    assert!(!page.text.contains("onerror=alert(2)>"), "an attribute could break out");
    assert!(
        page.text.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "shown as text, escaped"
    );
    assert!(!page.text.contains("style="), "the CSP forbids inline styles, so colours are classes");
    assert!(page.text.contains("class=\"ansi-fg-1\""));
    assert!(!page.text.contains('\u{1b}'));
    for event in &sent {
        let id = event["id"].as_str().unwrap();
        assert!(page.text.contains(&format!("id=\"evt-{id}\"")), "{id}");
        assert!(page.text.contains(&format!("data-kind=\"{}\"", event["kind"].as_str().unwrap())));
    }
    assert!(page.text.contains("data-actor=\"unknown\""));
    for line in ["add", "del", "ctx"] {
        assert!(page.text.contains(&format!("data-line=\"{line}\"")), "{line}");
    }
    for metric in traceline_domain::metrics::METRICS {
        assert!(page.text.contains(&format!("data-metric=\"{}\"", metric.name)), "{}", metric.name);
    }
    assert!(page.text.contains(&format!("data-decision=\"{}\"", sent[3]["id"].as_str().unwrap())));

    for path in [
        "/",
        "/sessions?q=%3Cscript%3E",
        "/settings",
        &format!("/assessments/{}", first_assessment(&app, &org).await),
    ] {
        let page = app.page(path, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.text.contains("<script>"), "{path}");
    }
}

async fn first_assessment(app: &TestApp, org: &crate::harness::TestOrg) -> String {
    let listed = app.get("/v1/assessments", &org.key).await.expect(200);
    listed["assessments"][0]["id"].as_str().unwrap().to_owned()
}

async fn the_first_page_of_a_long_timeline_is_in_the_html_and_the_rest_follows_the_cursor(
    backend: TestBackend,
) {
    let app = TestApp::with_settings(backend, |settings| settings.ingest_rate_per_min = 0);
    let (org, key) = candidate(&app).await;
    let sent = hostile_session(&app, &key, 450).await;
    app.user(&org, "ada@acme.test", "reviewer");
    let cookie = app.sign_in("ada@acme.test").await;
    let mut seen = Vec::new();
    let first = app.page("/sessions/s", Some(&cookie)).await;
    let mut text = first.text;
    loop {
        seen.extend(
            text.match_indices("id=\"evt-").map(|(at, _)| text[at + 8..at + 44].to_owned()),
        );
        let Some(at) = text.find("data-more-link") else { break };
        let href_start = text[..at].rfind("href=\"").unwrap() + 6;
        let href = &text[href_start..href_start + text[href_start..].find('"').unwrap()];
        assert!(href.starts_with("/sessions/s/timeline?after="), "{href}");
        let next = app.page(href, Some(&cookie)).await;
        assert_eq!(next.status, StatusCode::OK);
        assert!(!next.text.contains("<html"), "a fragment, not a page");
        text = next.text;
    }
    let expected: Vec<String> =
        sent.iter().map(|event| event["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(seen, expected, "every event once, in timeline order");
    let unknown = app
        .page("/sessions/s/timeline?after=00000000-0000-4000-8000-000000000000", Some(&cookie))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

async fn the_first_page_stays_small_whatever_the_events_hold(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.ingest_rate_per_min = 0);
    let (org, key) = candidate(&app).await;
    // Lines of nothing but characters that escaping makes five times longer, in long diffs.
    let line = format!("+{}", "<".repeat(300));
    let diff = vec![line.as_str(); 500].join("\n");
    let events: Vec<Value> = (0..40)
        .map(|n| {
            let ts = format!("2026-04-01T10:00:{n:02}Z");
            envelope(
                "s",
                "file_diff",
                &ts,
                json!({"path": "<".repeat(200), "diff": diff, "stdout": "&".repeat(9000)}),
            )
        })
        .collect();
    app.post("/v1/hooks/ingest/batch", &key, &json!({"events": events})).await.expect(207);
    app.user(&org, "ada@acme.test", "reviewer");
    let cookie = app.sign_in("ada@acme.test").await;
    let page = app.page("/sessions/s", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.len() <= 500_000, "{} bytes", page.text.len());
    assert!(page.text.contains("data-more-link"), "the rest follows by the cursor");
    assert!(page.text.contains("more lines not shown"));
}

async fn another_orgs_reviewer_finds_nothing(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key) = candidate(&app).await;
    hostile_session(&app, &key, 5).await;
    let assessment = first_assessment(&app, &org).await;
    let other = app.org("Globex");
    app.user(&other, "gus@globex.test", "admin");
    let cookie = app.sign_in("gus@globex.test").await;
    for path in ["/sessions/s", "/sessions/s/timeline", &format!("/assessments/{assessment}")] {
        let page = app.page(path, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.header("content-type").unwrap().starts_with("text/html"));
        assert!(!page.text.contains(&assessment));
    }
    let listed = app.page("/sessions", Some(&cookie)).await;
    assert!(!listed.text.contains("/sessions/s\""), "another org's sessions are not listed");
    app.get("/v1/sessions/s", &cookie).await.expect(404);
}

async fn unknown_pages_and_assets(backend: TestBackend) {
    let app = TestApp::new(backend);
    let missing = app.page("/no/such/page", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text.contains("Not found"));
    let login = app.page("/login", None).await;
    for (extension, content_type) in [("css", "text/css"), ("js", "text/javascript")] {
        let at = login.text.find(&format!(".{extension}\"")).unwrap();
        let start = login.text[..at].rfind("/assets/").unwrap();
        let url = &login.text[start..at + extension.len() + 1];
        let asset = app.page(url, None).await;
        assert_eq!(asset.status, StatusCode::OK, "{url}");
        assert!(asset.header("content-type").unwrap().starts_with(content_type));
        assert_eq!(asset.header("cache-control"), Some("public, max-age=31536000, immutable"));
    }
    assert_eq!(app.page("/assets/app.0000.css", None).await.status, StatusCode::NOT_FOUND);
    let wrong_method = app.raw(actix_web::test::TestRequest::delete().uri("/login")).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(wrong_method.header("content-type").unwrap().starts_with("text/html"));
}

on_both_backends!(
    signed_out_visitors_are_sent_to_sign_in_and_candidates_are_refused,
    every_page_escapes_what_the_candidate_sent_and_carries_the_hooks,
    the_first_page_of_a_long_timeline_is_in_the_html_and_the_rest_follows_the_cursor,
    the_first_page_stays_small_whatever_the_events_hold,
    another_orgs_reviewer_finds_nothing,
    unknown_pages_and_assets,
);
