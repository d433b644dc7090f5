//! Every Cursor fixture maps to the envelopes it should.

use serde_json::json;
use traceline_capture::Tool;

use crate::support::{
    check_all, context, expect, fixture, map_checked, test_run, Expected, WORKSPACE,
};

const TOOL: Tool = Tool::Cursor;

fn cases() -> Vec<(&'static str, Vec<Expected>)> {
    let none = Vec::new;
    let text = |name: &str| fixture(TOOL, name)["text"].clone();
    vec![
        (
            "afterAgentResponse.json",
            vec![expect(
                "ai_response",
                "ai",
                json!({"lastAssistantMessage": text("afterAgentResponse.json")}),
            )],
        ),
        (
            "afterAgentThought.json",
            vec![expect(
                "ai_thought",
                "ai",
                json!({"text": text("afterAgentThought.json"), "durationMs": 2140}),
            )],
        ),
        (
            "afterFileEdit-new-file.json",
            vec![expect(
                "file_create",
                "ai",
                json!({"path": "test/books.get-by-id.test.ts", "linesAdded": 23, "sizeBytes": 832}),
            )],
        ),
        (
            "afterFileEdit.json",
            vec![expect(
                "file_diff",
                "ai",
                json!({"path": "src/routes/books.ts", "linesAdded": 10, "linesRemoved": 1}),
            )],
        ),
        (
            "afterMCPExecution.json",
            vec![expect(
                "mcp_call",
                "ai",
                json!({
                    "server": "github",
                    "tool": "get_issue",
                    "input": {"owner": "acme", "repo": "bookshelf-api", "issue_number": 42},
                    "durationMs": 604,
                }),
            )],
        ),
        // The command comes from postToolUse{Shell}, which has the exit code.
        ("afterShellExecution-fail.json", none()),
        ("afterShellExecution-success.json", none()),
        ("afterTabFileEdit.json", none()),
        ("beforeMCPExecution.json", none()),
        (
            "beforeReadFile.json",
            vec![expect("file_read", "ai", json!({"path": "src/routes/books.ts"}))],
        ),
        ("beforeShellExecution.json", none()),
        (
            "beforeSubmitPrompt.json",
            vec![expect(
                "prompt",
                "human",
                json!({"text": fixture(TOOL, "beforeSubmitPrompt.json")["prompt"]}),
            )],
        ),
        (
            "postToolUse-Shell-nonzero.json",
            vec![
                expect(
                    "command",
                    "ai",
                    json!({"command": "npm test", "exitCode": 1, "cwd": WORKSPACE, "durationMs": 2415}),
                ),
                test_run("npm test", ("vitest", 3, 1, 0)),
            ],
        ),
        (
            "postToolUse-Shell.json",
            vec![
                expect(
                    "command",
                    "ai",
                    json!({"command": "npm test", "exitCode": 0, "durationMs": 2199}),
                ),
                test_run("npm test", ("vitest", 4, 0, 0)),
            ],
        ),
        (
            "postToolUseFailure-Shell-timeout.json",
            vec![expect(
                "command",
                "ai",
                json!({"command": "npm run e2e", "exitCode": null, "timedOut": true,
                       "stdout": "Command timed out after 30s", "durationMs": 30000}),
            )],
        ),
        (
            "preCompact.json",
            vec![expect("context_compact", "system", json!({"trigger": "auto", "contextPct": 86}))],
        ),
        ("preToolUse-Shell.json", none()),
        (
            "sessionEnd.json",
            vec![expect(
                "agent_session_end",
                "system",
                json!({"reason": "user_close", "finalStatus": "completed", "durationMs": 199365,
                       "ideSessionId": "c7ed7e66-a4dc-4b1e-98c2-d38c7d3bede7"}),
            )],
        ),
        (
            "sessionStart.json",
            vec![expect(
                "agent_session_start",
                "system",
                json!({"cwd": WORKSPACE, "composerMode": "agent",
                       "ideSessionId": "c7ed7e66-a4dc-4b1e-98c2-d38c7d3bede7"}),
            )],
        ),
        ("stop.json", none()),
        (
            "subagentStart.json",
            vec![expect(
                "subagent_start",
                "ai",
                json!({"subagentId": "bd2d7ba7-5b7c-4bc7-b973-224f26c78f33", "subagentType": "explore",
                       "taskDescription": "Find every place that reads req.params.id"}),
            )],
        ),
        (
            "subagentStop.json",
            vec![expect(
                "subagent_stop",
                "ai",
                json!({"subagentType": "explore", "status": "completed", "durationMs": 11200,
                       "summary": "Only src/routes/books.ts reads req.params.id (GET /:id)."}),
            )],
        ),
    ]
}

#[test]
fn every_fixture_maps_to_its_envelopes() {
    check_all(TOOL, &cases());
}

#[test]
fn a_shell_output_without_an_exit_code_gives_none() {
    let mut payload = fixture(TOOL, "postToolUse-Shell.json");
    payload["tool_output"] = json!("{\"stdout\": \"ok\"}");
    let envelopes = map_checked(TOOL, &payload, &context());
    assert_eq!(envelopes.len(), 1);
    assert!(envelopes[0]["data"].get("exitCode").is_none());
    assert_eq!(envelopes[0]["data"]["stdout"], "ok");
    payload["tool_output"] = json!("not json at all");
    let envelopes = map_checked(TOOL, &payload, &context());
    assert!(envelopes[0]["data"].get("exitCode").is_none());
}

#[test]
fn an_edit_diff_shows_only_changed_lines() {
    let envelopes = map_checked(TOOL, &fixture(TOOL, "afterFileEdit.json"), &context());
    let diff = envelopes[0]["data"]["diff"].as_str().unwrap();
    assert!(diff.starts_with(
        "-import { listBooks } from \"../data/books\";\n+import { findBook, listBooks }"
    ));
    assert!(!diff.contains("res.json(listBooks());"), "shared lines are not changes: {diff}");
}
