//! One piece of work recorded by Promptster's CLI and by Traceline's client reads the same to a reviewer: the
//! metrics of the two sessions, and their places in the cohort, are equal. The events are written as each client
//! sends them (Promptster's shapes from its public CLI; Traceline's from `traceline_capture`).

use serde_json::{json, Value};

use crate::harness::{on_both_backends, TestApp, TestBackend};
use crate::ingest::envelope;

/// An envelope with an author and a source of its own.
fn sent(
    session: &str,
    kind: &str,
    ts: &str,
    data: Value,
    who: (&str, &str),
    source: Value,
) -> Value {
    let mut event = envelope(session, kind, ts, data);
    event["actor"] = json!({"type": who.0});
    event["provenance"] = json!({"attribution": who.1, "confidence": 0.9, "observability": "high"});
    event["source"] = source;
    event
}

const AI: (&str, &str) = ("ai", "likely_ai");
const PERSON: (&str, &str) = ("human", "likely_human");
const SYSTEM: (&str, &str) = ("system", "system_generated");

const DIFF: &str = "@@ -1,2 +1,4 @@\n-old\n+new\n+more\n+lines\n context\n";
const HAND_DIFF: &str = "--- a/src/a.ts\n+++ b/src/a.ts\n@@ -4,0 +5,2 @@\n+// by hand\n+check();\n";

/// What Promptster's CLI sends: `source` a bare string, PostToolUse `command`s with `exitCode` 0, the git watcher's
/// `file_diff`s for the person's edits, `command` with `source: "terminal"` from its shell hook.
fn promptster(session: &str) -> Vec<Value> {
    let hook = json!("claude-code");
    let terminal = json!("terminal");
    let cli = json!("cli");
    vec![
        sent(
            session,
            "session_start",
            "2026-04-01T10:00:00Z",
            json!({"ideSessionId": "cc-1", "model": "opus", "source": "startup", "cwd": "/w"}),
            SYSTEM,
            hook.clone(),
        ),
        sent(
            session,
            "prompt",
            "2026-04-01T10:01:00Z",
            json!({"text": "add the cache"}),
            PERSON,
            hook.clone(),
        ),
        sent(
            session,
            "file_search",
            "2026-04-01T10:02:00Z",
            json!({"toolName": "Grep", "pattern": "cache", "cwd": "src", "resultsCount": 3}),
            AI,
            hook.clone(),
        ),
        sent(
            session,
            "planning",
            "2026-04-01T10:03:00Z",
            json!({"todos": [{"content": "cache", "status": "pending"}]}),
            AI,
            hook.clone(),
        ),
        sent(
            session,
            "file_diff",
            "2026-04-01T10:04:00Z",
            json!({"path": "src/a.ts", "diff": DIFF, "linesAdded": 3, "linesRemoved": 1, "attribution": "likely_ai"}),
            AI,
            hook.clone(),
        ),
        sent(
            session,
            "command",
            "2026-04-01T10:05:00Z",
            json!({"command": "npm test", "exitCode": 0, "stdout": "Tests 3 passed (3)", "stderr": ""}),
            AI,
            hook.clone(),
        ),
        sent(
            session,
            "file_diff",
            "2026-04-01T10:06:00Z",
            json!({"path": "src/a.ts", "diff": HAND_DIFF, "linesAdded": 2, "linesRemoved": 0,
                    "attribution": "ai_revised_by_human", "_gitPoll": true}),
            ("human", "ai_revised_by_human"),
            cli,
        ),
        sent(
            session,
            "command",
            "2026-04-01T10:07:00Z",
            json!({"command": "npm test", "exitCode": 1, "stdout": "", "stderr": "", "durationMs": 2000, "human": true}),
            PERSON,
            terminal,
        ),
        sent(
            session,
            "plan_decision",
            "2026-04-01T10:08:00Z",
            json!({"planPreview": "1. cache 2. test", "responsePreview": "{}"}),
            PERSON,
            hook.clone(),
        ),
        sent(
            session,
            "web_lookup",
            "2026-04-01T10:09:00Z",
            json!({"toolName": "WebFetch", "url": "https://nodejs.org"}),
            AI,
            hook.clone(),
        ),
        sent(
            session,
            "task_dispatch",
            "2026-04-01T10:10:00Z",
            json!({"taskPreview": "review"}),
            AI,
            hook.clone(),
        ),
        sent(
            session,
            "session_end",
            "2026-04-01T10:30:00Z",
            json!({"ideSessionId": "cc-1", "reason": "other"}),
            SYSTEM,
            hook,
        ),
    ]
}

/// What Traceline's client sends for the same work (`traceline_capture`'s kinds and fields).
fn traceline(session: &str) -> Vec<Value> {
    let hook = json!({"channel": "hook", "integration": "claude-code"});
    let shell = json!({"channel": "hook", "integration": "shell"});
    let cli = json!({"channel": "cli"});
    vec![
        sent(
            session,
            "session_start",
            "2026-04-01T10:00:00Z",
            json!({"cwd": "/w", "source": "traceline start"}),
            SYSTEM,
            cli.clone(),
        ),
        sent(
            session,
            "agent_session_start",
            "2026-04-01T10:00:01Z",
            json!({"cwd": "/w", "source": "startup", "model": "opus", "ideSessionId": "cc-1"}),
            SYSTEM,
            hook.clone(),
        ),
        sent(
            session,
            "prompt",
            "2026-04-01T10:01:00Z",
            json!({"text": "add the cache"}),
            PERSON,
            hook.clone(),
        ),
        sent(
            session,
            "file_search",
            "2026-04-01T10:02:00Z",
            json!({"toolName": "Grep", "pattern": "cache", "path": "src", "resultsCount": 3}),
            AI,
            hook.clone(),
        ),
        sent(
            session,
            "planning",
            "2026-04-01T10:03:00Z",
            json!({"toolName": "TodoWrite", "todos": [{"content": "cache", "status": "pending"}]}),
            AI,
            hook.clone(),
        ),
        sent(
            session,
            "file_diff",
            "2026-04-01T10:04:00Z",
            json!({"path": "src/a.ts", "diff": DIFF, "linesAdded": 3, "linesRemoved": 1}),
            AI,
            hook.clone(),
        ),
        sent(
            session,
            "command",
            "2026-04-01T10:05:00Z",
            json!({"command": "npm test", "exitCode": 0, "stdout": "Tests 3 passed (3)"}),
            AI,
            hook.clone(),
        ),
        sent(
            session,
            "test_run",
            "2026-04-01T10:05:00Z",
            json!({"command": "npm test", "runner": "vitest", "passed": 3, "failed": 0, "skipped": 0}),
            AI,
            hook.clone(),
        ),
        sent(
            session,
            "file_diff",
            "2026-04-01T10:06:00Z",
            json!({"path": "src/a.ts", "diff": HAND_DIFF, "linesAdded": 2, "linesRemoved": 0}),
            ("human", "ai_revised_by_human"),
            cli.clone(),
        ),
        sent(
            session,
            "command",
            "2026-04-01T10:07:00Z",
            json!({"command": "npm test", "exitCode": 1, "durationMs": 2000, "cwd": "/w"}),
            PERSON,
            shell,
        ),
        sent(
            session,
            "plan_decision",
            "2026-04-01T10:08:00Z",
            json!({"toolName": "ExitPlanMode", "planPreview": "1. cache 2. test"}),
            PERSON,
            hook.clone(),
        ),
        sent(
            session,
            "web_lookup",
            "2026-04-01T10:09:00Z",
            json!({"toolName": "WebFetch", "url": "https://nodejs.org", "status": 200}),
            AI,
            hook.clone(),
        ),
        sent(
            session,
            "task_dispatch",
            "2026-04-01T10:10:00Z",
            json!({"toolName": "Agent", "taskPreview": "review", "subagentType": "general-purpose"}),
            AI,
            hook,
        ),
        sent(
            session,
            "session_end",
            "2026-04-01T10:30:00Z",
            json!({"reason": "done"}),
            PERSON,
            cli,
        ),
    ]
}

async fn both_clients_give_the_same_metrics_and_cohort_places(backend: TestBackend) {
    let app = TestApp::new(backend);
    let org = app.org("Acme");
    let assessment = app.assessment(&org, json!({})).await;
    let keys = app.keys(&org, &assessment, 2).await;
    let key = |index: usize| keys[index]["key"].as_str().unwrap().to_owned();
    for (index, (session, events)) in
        [("promptster", promptster("promptster")), ("traceline", traceline("traceline"))]
            .into_iter()
            .enumerate()
    {
        let results = app
            .post("/v1/hooks/ingest/batch", &key(index), &json!({"events": events}))
            .await
            .expect(207);
        for result in results["results"].as_array().unwrap() {
            assert_eq!(result["status"], 201, "{session}: {result}");
        }
        app.post("/v1/candidate/complete", &key(index), &json!({"sessionId": session}))
            .await
            .expect(200);
    }
    let metrics = |session: &'static str| {
        let app = &app;
        let org = &org;
        async move {
            app.get(&format!("/v1/sessions/{session}/metrics"), &org.key).await.expect(200)
                ["metrics"]
                .clone()
        }
    };
    let (promptster, traceline) = (metrics("promptster").await, metrics("traceline").await);
    assert_eq!(promptster, traceline);
    // By hand: 2 file changes, the person's one of them; `npm test` twice over 2 changes; the person's run failed.
    assert_eq!(traceline["fileChangeCount"], 2);
    assert_eq!(traceline["manualEditRatio"], 0.5);
    assert_eq!(traceline["verifyIntensity"], 1.0);
    assert_eq!(traceline["commandFailRate"], 0.5);
    assert_eq!(traceline["testsPassed"], false);

    let cohort = |session: &'static str| {
        let app = &app;
        let org = &org;
        async move {
            app.get(&format!("/v1/sessions/{session}/cohort-stats"), &org.key).await.expect(200)
                ["cohortStats"]
                .clone()
        }
    };
    let (promptster, traceline) = (cohort("promptster").await, cohort("traceline").await);
    assert_eq!(traceline["sessionCount"], 2, "{traceline}");
    assert_eq!(promptster["percentiles"], traceline["percentiles"]);
}

on_both_backends!(both_clients_give_the_same_metrics_and_cohort_places);
