//! Every Codex fixture maps to the envelopes it should, and `apply_patch` edits become file events.

use serde_json::json;
use traceline_capture::Tool;

use crate::support::{
    check_all, context, expect, fixture, map_checked, test_run, Expected, WORKSPACE,
};

const TOOL: Tool = Tool::Codex;

fn cases() -> Vec<(&'static str, Vec<Expected>)> {
    let message =
        "Added GET /api/books/:id with 404 and 400 handling plus tests; `npm test` passes (4/4).";
    vec![
        (
            "hooks/PostToolUse-Bash.json",
            vec![
                expect(
                    "command",
                    "ai",
                    json!({"command": "npm test", "exitCode": 1, "durationMs": 2400, "cwd": WORKSPACE}),
                ),
                test_run("npm test", ("vitest", 3, 1, 0)),
            ],
        ),
        ("hooks/PreToolUse-Bash.json", Vec::new()),
        (
            "hooks/SessionStart.json",
            vec![expect(
                "agent_session_start",
                "system",
                json!({"cwd": WORKSPACE, "source": "startup", "model": "gpt-5-codex"}),
            )],
        ),
        (
            "hooks/Stop.json",
            vec![expect("ai_response", "ai", json!({"lastAssistantMessage": message}))],
        ),
        (
            "hooks/UserPromptSubmit.json",
            vec![expect(
                "prompt",
                "human",
                json!({"text": "Add a GET /api/books/:id endpoint with 404/400 handling and tests, then run npm test."}),
            )],
        ),
        (
            "notify-agent-turn-complete.json",
            vec![expect("ai_response", "ai", json!({"lastAssistantMessage": message}))],
        ),
    ]
}

#[test]
fn every_fixture_maps_to_its_envelopes() {
    check_all(TOOL, &cases());
}

#[test]
fn the_bash_output_follows_the_header() {
    let envelopes = map_checked(TOOL, &fixture(TOOL, "hooks/PostToolUse-Bash.json"), &context());
    let stdout = envelopes[0]["data"]["stdout"].as_str().unwrap();
    assert!(stdout.starts_with("> bookshelf-api@1.0.0 test\n"), "{stdout}");
}

#[test]
fn apply_patch_gives_one_event_per_file() {
    let mut payload = fixture(TOOL, "hooks/PostToolUse-Bash.json");
    payload["tool_name"] = json!("apply_patch");
    payload["tool_input"] = json!({"command": "*** Begin Patch\n*** Add File: test/new.test.ts\n+a\n+b\n\
        *** Update File: /home/dev/work/bookshelf-api/src/app.ts\n@@\n-old\n+new\n+more\n\
        *** Delete File: src/old.ts\n*** End Patch"});
    payload["tool_response"] = json!("Success. Updated the following files: …");
    let envelopes = map_checked(TOOL, &payload, &context());
    let summary: Vec<_> =
        envelopes.iter().map(|e| (e["kind"].clone(), e["data"]["path"].clone())).collect();
    assert_eq!(
        summary,
        [
            (json!("file_create"), json!("test/new.test.ts")),
            (json!("file_diff"), json!("src/app.ts")),
            (json!("file_delete"), json!("src/old.ts")),
        ]
    );
    assert_eq!(envelopes[0]["data"]["content"], "a\nb\n");
    assert_eq!(
        (&envelopes[1]["data"]["linesAdded"], &envelopes[1]["data"]["linesRemoved"]),
        (&json!(2), &json!(1))
    );
    let ids: std::collections::HashSet<_> = envelopes.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids.len(), 3);
}
