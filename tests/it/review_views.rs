//! The reviewer's views beyond the first page of a session (issue 13), over HTTP on both backends: the timeline
//! filtered to the events a metric counts (API and pages, with the cursor), the export as NDJSON, deep-link
//! windows and idle gaps in the timeline's fragments, the cohort charts' percentile in words, the compare page
//! and the printable report, and the marks of events stored before marks existed.

use actix_web::http::StatusCode;
use serde_json::{json, Value};
use traceline_domain::metrics::{EventSet, METRICS};

use crate::harness::{on_both_backends, TestApp, TestBackend, TestOrg};
use crate::ingest::envelope;

/// One event of each shape the metrics tell apart, in time order (ids in `sent` order).
fn varied_events(session: &str) -> Vec<Value> {
    let at = |minute: u32, second: u32| format!("2026-04-01T10:{minute:02}:{second:02}Z");
    let human = |mut event: Value| {
        event["actor"] = json!({"type": "human"});
        event
    };
    let ai = |mut event: Value| {
        event["provenance"] = json!({"attribution": "likely_ai"});
        event
    };
    vec![
        envelope(session, "prompt", &at(0, 0), json!({"text": "add a limiter"})),
        envelope(session, "command", &at(0, 5), json!({"command": "ls", "exitCode": 0})),
        envelope(session, "command", &at(0, 9), json!({"command": "cargo test", "exitCode": 101})),
        ai(envelope(
            session,
            "file_diff",
            &at(0, 20),
            json!({"path": "src/a.rs", "linesAdded": 3}),
        )),
        human(envelope(
            session,
            "file_diff",
            &at(1, 0),
            json!({"path": "src/b.rs", "linesAdded": 1}),
        )),
        envelope(session, "test_run", &at(1, 30), json!({"passed": 3, "failed": 1})),
        envelope(session, "decision_event", &at(2, 0), json!({"title": "Token bucket"})),
        // Twenty minutes of quiet, then the build and the last passing tests.
        envelope(session, "command", &at(22, 0), json!({"command": "cargo build", "exitCode": 0})),
        envelope(session, "command", &at(23, 0), json!({"command": "cargo test", "exitCode": 0})),
        envelope(session, "tool_result", &at(23, 5), json!({"tool": "Read"})),
    ]
}

/// Which of `varied_events` belong to each set, by index.
fn expected_members(set: EventSet) -> Vec<usize> {
    match set {
        EventSet::Prompts => vec![0],
        EventSet::Commands => vec![1, 2, 7, 8],
        EventSet::FailedCommands => vec![2],
        EventSet::Failures => vec![2, 5],
        EventSet::Verifications => vec![2, 5, 7, 8],
        EventSet::TestEvidence => vec![2, 5, 8],
        EventSet::FileChanges => vec![3, 4],
        EventSet::ManualEdits => vec![4],
        EventSet::AttributedChanges => vec![3, 4],
        EventSet::Decisions => vec![6],
    }
}

/// An org, an assessment and `sessions` candidates who each sent `varied_events` (session `s0`, `s1`, …) and
/// completed; returns the org.
async fn cohort(app: &TestApp, sessions: usize) -> TestOrg {
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    for (n, key) in app.keys(&org, &assessment, sessions).await.iter().enumerate() {
        let key = key["key"].as_str().unwrap();
        let session = format!("s{n}");
        // Each candidate fails one command fewer than the one before, so the ranks differ.
        let events: Vec<Value> = varied_events(&session).into_iter().skip(n.min(2)).collect();
        app.post("/v1/hooks/ingest/batch", key, &json!({"events": events})).await.expect(207);
        app.post("/v1/candidate/complete", key, &json!({"sessionId": session})).await.expect(200);
    }
    org
}

/// An org with one candidate who sent `varied_events` as session `s`: the org, the key and the events.
async fn one_session(app: &TestApp) -> (TestOrg, String, Vec<Value>) {
    let (org, key) = crate::ingest::candidate(app).await;
    let sent = varied_events("s");
    app.post("/v1/hooks/ingest/batch", &key, &json!({"events": sent})).await.expect(207);
    (org, key, sent)
}

fn ids(events: &[Value]) -> Vec<String> {
    events.iter().map(|event| event["id"].as_str().unwrap().to_owned()).collect()
}

/// The event ids a page of HTML shows, in order.
fn shown(html: &str) -> Vec<String> {
    html.match_indices("id=\"evt-").map(|(at, _)| html[at + 8..at + 44].to_owned()).collect()
}

async fn the_timeline_filters_to_the_events_each_metric_counts(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key, sent) = one_session(&app).await;
    let all = ids(&sent);
    for set in EventSet::ALL {
        let expected: Vec<String> =
            expected_members(set).into_iter().map(|i| all[i].clone()).collect();
        let page = app.get(&format!("/v1/sessions/s/timeline?only={}", set.name()), &key).await;
        let page = page.expect(200);
        assert_eq!(ids(page["events"].as_array().unwrap()), expected, "{set:?}");
        // The cursor pages through the same set, one event at a time.
        let mut paged = Vec::new();
        let mut after = String::new();
        loop {
            let path = format!("/v1/sessions/s/timeline?only={}&limit=1{after}", set.name());
            let page = app.get(&path, &key).await.expect(200);
            paged.extend(ids(page["events"].as_array().unwrap()));
            if !page["hasMore"].as_bool().unwrap() {
                break;
            }
            after = format!("&after={}", paged.last().unwrap());
        }
        assert_eq!(paged, expected, "{set:?} by cursor");
    }
    // The metrics count exactly the events their link shows.
    let metrics = app.get("/v1/sessions/s/metrics", &key).await.expect(200)["metrics"].clone();
    assert_eq!(metrics["commandFailRate"], json!(0.25), "1 of the 4 commands with an exit code");
    assert_eq!(metrics["manualEditRatio"], json!(0.5));
    assert_eq!(metrics["verifyIntensity"], json!(2.0), "4 verification actions over 2 changes");
    let refused = app.get("/v1/sessions/s/timeline?only=everything", &key).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.body["details"][0]["path"], "only");

    app.user(&org, "ada@acme.test", "reviewer");
    let cookie = app.sign_in("ada@acme.test").await;
    let view = app.page("/sessions/s", Some(&cookie)).await;
    for metric in METRICS.iter() {
        if let Some(set) = metric.counts {
            let href = format!(
                "href=\"/sessions/s?only={}\" data-metric-link=\"{}\"",
                set.name(),
                metric.name
            );
            assert!(view.text.contains(&href), "{}: {href}", metric.name);
        }
    }
    let failed = app.page("/sessions/s?only=failed-commands", Some(&cookie)).await;
    assert_eq!(failed.status, StatusCode::OK);
    assert_eq!(shown(&failed.text), vec![all[2].clone()]);
    assert!(failed.text.contains("Only failed commands: 1 event."));
    assert!(!failed.text.contains("data-idle"), "between filtered events quiet is not idleness");
    assert_eq!(
        app.page("/sessions/s?only=nope", Some(&cookie)).await.status,
        StatusCode::BAD_REQUEST
    );
}

async fn fragments_open_a_window_at_a_deep_link_and_fold_idle_gaps(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (org, key, sent) = one_session(&app).await;
    let all = ids(&sent);
    app.user(&org, "ada@acme.test", "reviewer");
    let cookie = app.sign_in("ada@acme.test").await;

    let view = app.page("/sessions/s", Some(&cookie)).await;
    assert_eq!(view.text.matches("data-idle").count(), 1, "one gap over 5 minutes");
    assert!(view.text.contains("Idle for 20 min 00 s"));

    // A deep link beyond what is loaded: the window starts at the event itself…
    let at = app.page(&format!("/sessions/s/timeline?at={}", all[7]), Some(&cookie)).await;
    assert_eq!(at.status, StatusCode::OK);
    assert_eq!(shown(&at.text), all[7..].to_vec());
    assert_eq!(at.header("traceline-session-status"), Some("active"));
    // …and the gap before it loads the events between, bounded by it.
    let gap = format!("/sessions/s/timeline?after={}&before={}&limit=2", all[1], all[7]);
    let between = app.page(&gap, Some(&cookie)).await;
    assert_eq!(shown(&between.text), all[2..4].to_vec());
    let next = format!("after={}&#38;before={}", all[3], all[7]);
    assert!(between.text.contains(&next), "the next page keeps the bound: {}", between.text);
    // The cursor's page folds the quiet before its first event too.
    let after = app.page(&format!("/sessions/s/timeline?after={}", all[6]), Some(&cookie)).await;
    assert!(after.text.contains("data-idle"));
    // With a filter on, a deep link to an event outside it starts at the next event of the set instead.
    let filtered = format!("/sessions/s/timeline?at={}&only=failures", all[3]);
    assert_eq!(shown(&app.page(&filtered, Some(&cookie)).await.text), vec![all[5].clone()]);
    let unknown = format!("/sessions/s/timeline?at={}", uuid::Uuid::new_v4());
    assert_eq!(app.page(&unknown, Some(&cookie)).await.status, StatusCode::BAD_REQUEST);
    let bad_bound = format!("/sessions/s/timeline?before={}", uuid::Uuid::new_v4());
    assert_eq!(app.page(&bad_bound, Some(&cookie)).await.status, StatusCode::BAD_REQUEST);

    app.patch("/v1/sessions/s", &key, &json!({"endedAt": "2026-04-01T10:30:00Z"}))
        .await
        .expect(200);
    let ended = app.page(&format!("/sessions/s/timeline?after={}", all[9]), Some(&cookie)).await;
    assert_eq!(ended.header("traceline-session-status"), Some("ended"));
    assert!(shown(&ended.text).is_empty());
}

async fn the_export_streams_every_event_with_the_timelines_access_rule(backend: TestBackend) {
    let app = TestApp::with_settings(backend, |settings| settings.ingest_rate_per_min = 0);
    let (org, key) = crate::ingest::candidate(&app).await;
    // More events than one chunk of the stream holds.
    let sent: Vec<Value> = (0..1_234)
        .map(|n| {
            let ts = format!("2026-04-01T1{}:{:02}:{:02}Z", n / 3600, n / 60 % 60, n % 60);
            envelope("s", "command", &ts, json!({"command": format!("echo {n}"), "exitCode": 0}))
        })
        .collect();
    for chunk in sent.chunks(500) {
        app.post("/v1/hooks/ingest/batch", &key, &json!({"events": chunk})).await.expect(207);
    }
    for credential in [org.key.as_str(), key.as_str()] {
        let request = actix_web::test::TestRequest::get().uri("/v1/sessions/s/export");
        let request = if credential.starts_with("psk_live_") {
            request.insert_header(("Authorization", format!("Bearer {credential}")))
        } else {
            request.insert_header(("X-API-Key", credential))
        };
        let export = app.raw(request).await;
        assert_eq!(export.status, StatusCode::OK);
        assert_eq!(export.header("content-type"), Some("application/x-ndjson"));
        assert_eq!(
            export.header("content-disposition"),
            Some("attachment; filename=\"session-s.ndjson\"")
        );
        let lines: Vec<Value> =
            export.text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        assert_eq!(ids(&lines), ids(&sent), "every event once, in timeline order");
        let first = app.get("/v1/sessions/s/timeline?limit=1", &org.key).await.expect(200);
        assert_eq!(lines[0], first["events"][0], "each line is the timeline's TimelineEvent");
    }
    let other = app.org("Globex");
    app.get("/v1/sessions/s/export", &other.key).await.expect(404);
    let anonymous = app.raw(actix_web::test::TestRequest::get().uri("/v1/sessions/s/export")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

async fn cohort_charts_say_the_percentile_in_words(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = cohort(&app, 4).await;
    app.user(&org, "ada@acme.test", "reviewer");
    let cookie = app.sign_in("ada@acme.test").await;
    let view = app.page("/sessions/s0", Some(&cookie)).await;
    assert_eq!(view.status, StatusCode::OK);
    let cohort = app.get("/v1/sessions/s0/cohort-stats", &org.key).await.expect(200);
    let percentiles = cohort["cohortStats"]["percentiles"].as_object().unwrap().clone();
    for (name, value) in percentiles {
        let Some(rank) = value.as_f64() else { continue };
        let hook = format!("data-percentile-words=\"{name}\">");
        let at = view.text.find(&hook).unwrap_or_else(|| panic!("no words for {name}"));
        let words = &view.text[at + hook.len()..];
        let words = &words[..words.find('<').unwrap()];
        assert!(words.starts_with("Better than "), "{name}: {words}");
        assert!(words.contains("of the 3 others"), "{name}: {words}");
        assert!(words.ends_with(&format!("= {rank}.")), "{name}: {words} vs {rank}");
    }
    assert_eq!(view.text.matches("<svg class=\"histogram\"").count(), METRICS.len());
    assert!(view.text.contains("n = 4"));
}

async fn compare_lays_two_sessions_side_by_side(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = cohort(&app, 3).await;
    app.user(&org, "ada@acme.test", "reviewer");
    let cookie = app.sign_in("ada@acme.test").await;
    let picked = app.page("/compare?pick=s0&pick=s2", Some(&cookie)).await;
    assert_eq!(picked.status, StatusCode::SEE_OTHER);
    assert_eq!(picked.header("location"), Some("/compare?a=s0&b=s2"));
    let page = app.page("/compare?a=s0&b=s2", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for metric in METRICS.iter() {
        assert_eq!(page.text.matches(&format!("data-metric=\"{}\"", metric.name)).count(), 2);
    }
    assert!(page.text.contains("Both are ranked among the 3 finished sessions"));
    assert!(
        page.text.contains("href=\"/sessions/s0#evt-")
            && page.text.contains("href=\"/sessions/s2#evt-")
    );
    assert!(page.text.contains("Token bucket"), "the decisions");
    assert!(
        page.text.contains("Nothing happened in either session"),
        "the quiet stretch is folded"
    );
    assert!(page.text.contains("<span class=\"badge ok\">better</span>"));
    let one = app.page("/compare?pick=s0", Some(&cookie)).await;
    assert_eq!(one.status, StatusCode::BAD_REQUEST);
    assert!(one.text.contains("pick exactly two sessions"));
    assert_eq!(app.page("/compare?a=s0", Some(&cookie)).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.page("/compare?a=s0&b=nope", Some(&cookie)).await.status, StatusCode::NOT_FOUND);
    let other = app.org("Globex");
    app.user(&other, "gus@globex.test", "admin");
    let outsider = app.sign_in("gus@globex.test").await;
    assert_eq!(app.page("/compare?a=s0&b=s1", Some(&outsider)).await.status, StatusCode::NOT_FOUND);
}

async fn the_report_holds_what_a_printed_review_needs(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = cohort(&app, 3).await;
    app.user(&org, "ada@acme.test", "reviewer");
    let cookie = app.sign_in("ada@acme.test").await;
    let scores =
        json!([{"dimension": "problem_decomposition", "score": 4, "notes": "clear steps"}]);
    app.post("/v1/sessions/s0/scores", &cookie, &scores).await.expect(201);
    let report = app.page("/sessions/s0/report", Some(&cookie)).await;
    assert_eq!(report.status, StatusCode::OK);
    for part in ["Metrics", "Decisions", "Scores", "Timeline, condensed", "Prompts"] {
        assert!(report.text.contains(&format!(">{part}</h")), "{part}");
    }
    assert!(report.text.contains("Token bucket") && report.text.contains("clear steps"));
    assert!(report.text.contains("add a limiter"), "the prompts");
    assert!(report.text.contains("data-percentile=\"commandFailRate\""));
    assert!(report.text.contains(">unsigned</span>"), "the signature chain's status (§10.2)");
    let other = app.org("Globex");
    app.user(&other, "gus@globex.test", "admin");
    let outsider = app.sign_in("gus@globex.test").await;
    assert_eq!(
        app.page("/sessions/s0/report", Some(&outsider)).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn events_stored_before_marks_existed_are_marked_by_the_migrations(backend: TestBackend) {
    let app = TestApp::new(backend);
    let (_, key, _) = one_session(&app).await;
    let path = "/v1/sessions/s/timeline?only=verifications";
    let before = app.get(path, &key).await.expect(200);
    // As the migration left them: no marks, so no set holds them…
    app.execute_sql("UPDATE timeline_events SET marks = NULL");
    assert_eq!(app.get(path, &key).await.expect(200)["events"], json!([]));
    // …until `traceline migrate` (or `serve`) marks them, exactly as ingest would have.
    traceline_storage::migrations::run_pending(&app.db.database).unwrap();
    assert_eq!(app.get(path, &key).await.expect(200), before);
}

on_both_backends!(
    the_timeline_filters_to_the_events_each_metric_counts,
    fragments_open_a_window_at_a_deep_link_and_fold_idle_gaps,
    the_export_streams_every_event_with_the_timelines_access_rule,
    cohort_charts_say_the_percentile_in_words,
    compare_lays_two_sessions_side_by_side,
    the_report_holds_what_a_printed_review_needs,
    events_stored_before_marks_existed_are_marked_by_the_migrations,
);
