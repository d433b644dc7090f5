//! Realistic envelopes, one per strict kind and the session kinds, as hook forwarders build them from the
//! payloads in `shared/reference/hook-fixtures`: they must parse, and normalise only what the rules say.

use serde_json::{json, Value};

use super::test_support::parsed;
use super::{ActorType, Attribution, EventKind};

fn claude(kind: &str, id: &str, data: Value, raw: Value) -> Value {
    json!({
        "id": id,
        "sessionId": "f80195ce-3698-4cf9-9983-2991ba40f607",
        "ts": "2026-09-14T14:07:31.412+02:00",
        "kind": kind,
        "source": {"channel": "hook", "integration": "claude-code", "emitter": "traceline-hook/0.4.1",
                   "repo": "github.com/dev/bookshelf-api"},
        "actor": {"type": "ai", "role": "main"},
        "provenance": {"attribution": "likely_ai", "confidence": 0.9, "observability": "high",
                       "methods": ["hook:PostToolUse"]},
        "v": 1,
        "data": data,
        "rawPayload": raw,
        "hookEvent": "PostToolUse",
    })
}

#[test]
fn a_failed_test_command_from_claude_code() {
    let raw = json!({"hook_event_name": "PostToolUseFailure", "tool_name": "Bash",
                     "tool_input": {"command": "npm test"}, "error": "Exit code 1\n\n> vitest run", "duration_ms": 2388});
    let body = claude(
        "command",
        "5B0E7C52-3D8A-4F21-9B6E-0C4D2A1F8E73",
        json!({"command": "npm test", "exitCode": 1, "durationMs": 2388, "stdout": "> vitest run",
               "stderr": "", "cwd": "/home/dev/work/bookshelf-api", "toolUseId": "toolu_013zkXaUNBQZLxvpxD824v8e"}),
        raw.clone(),
    );
    let event = parsed(&body);
    assert_eq!(event.id.as_str(), "5b0e7c52-3d8a-4f21-9b6e-0c4d2a1f8e73");
    assert_eq!(event.kind, EventKind::COMMAND);
    assert_eq!(event.data["exitCode"], 1);
    assert_eq!(event.data["toolUseId"], "toolu_013zkXaUNBQZLxvpxD824v8e");
    assert_eq!(event.source.integration.as_deref(), Some("claude-code"));
    assert_eq!(event.raw_payload, Some(raw));
    assert_eq!(event.ts.to_rfc3339(), "2026-09-14T12:07:31.412+00:00");
}

#[test]
fn a_cursor_shell_command_without_exit_code() {
    // Cursor's afterShellExecution has no exit code; forwarders send null or leave it out.
    let body = json!({
        "id": "9a3c1e5f-7b2d-4f8a-b6c4-e1d3f5a7b9c2", "sessionId": "c7ed7e66-a4dc-4b1e-98c2-d38c7d3bede7",
        "ts": "2026-09-14T12:10:02Z", "kind": "command", "source": "cursor", "v": 1,
        "data": {"command": "npm run lint", "exitCode": null, "durationMs": 1804.0, "output": "ok"},
    });
    let event = parsed(&body);
    assert_eq!(
        Value::Object(event.data),
        json!({"command": "npm run lint", "durationMs": 1804, "output": "ok"})
    );
    assert_eq!(event.source.channel.as_deref(), Some("cursor"));
    assert_eq!(event.actor.kind, ActorType::Unknown);
}

#[test]
fn file_changes_from_edit_and_write() {
    let diff = "@@ -6,3 +6,12 @@\n booksRouter.get(\"/\", (_req, res) => {\n+booksRouter.get(\"/:id\", ...";
    let edit = claude(
        "file_diff",
        "1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a",
        json!({"path": "src/routes/books.ts", "diff": diff, "linesAdded": 9, "linesRemoved": 0, "tool": "Edit"}),
        json!({"tool_name": "Edit"}),
    );
    let event = parsed(&edit);
    assert!(event.kind.is_file_change());
    assert_eq!(event.provenance.attribution, Attribution::LikelyAi);
    let create = claude(
        "file_create",
        "2e3f4a5b-6c7d-4e8f-9a0b-1c2d3e4f5a6b",
        json!({"path": "test/books.get-by-id.test.ts", "content": "import request from \"supertest\";\n",
               "linesAdded": 1, "sizeBytes": 35}),
        json!({"tool_name": "Write"}),
    );
    assert_eq!(parsed(&create).data["sizeBytes"], 35);
}

#[test]
fn test_runs_git_actions_and_checkpoints() {
    let run = claude(
        "test_run",
        "3f4a5b6c-7d8e-4f9a-8b1c-2d3e4f5a6b7c",
        json!({"suite": "vitest", "passed": 3, "failed": 1, "skipped": 0, "durationMs": 612, "command": "npm test"}),
        Value::Null,
    );
    let event = parsed(&run);
    assert_eq!((event.data["failed"].as_i64(), event.raw_payload), (Some(1), None));
    let commit = claude(
        "git_action",
        "4a5b6c7d-8e9f-4a0b-9c2d-3e4f5a6b7c8d",
        json!({"action": "commit", "ref": "main", "message": "Add GET /api/books/:id", "commit": "8c1f2e4"}),
        json!({"tool_name": "Bash", "tool_input": {"command": "git commit -m 'Add GET /api/books/:id'"}}),
    );
    assert_eq!(parsed(&commit).data["commit"], "8c1f2e4");
    let compact = claude(
        "checkpoint",
        "5b6c7d8e-9f0a-4b1c-8d3e-4f5a6b7c8d9e",
        json!({"label": "pre-compact", "trigger": "auto", "summary": "context compacted"}),
        json!({"hook_event_name": "PreCompact", "trigger": "auto"}),
    );
    assert_eq!(parsed(&compact).data["trigger"], "auto");
}

#[test]
fn a_prompt_sent_under_its_alias() {
    let body = claude(
        "prompt",
        "6c7d8e9f-0a1b-4c2d-9e4f-5a6b7c8d9e0f",
        json!({"prompt": "Add GET /api/books/:id returning 404 when missing", "promptId": "ca996ee3"}),
        json!({"hook_event_name": "UserPromptSubmit"}),
    );
    let mut body = body;
    body["actor"] = json!({"type": "human"});
    body["provenance"] = json!({"attribution": "likely_human"});
    let event = parsed(&body);
    assert_eq!(
        Value::Object(event.data),
        json!({"text": "Add GET /api/books/:id returning 404 when missing", "promptId": "ca996ee3"})
    );
    assert_eq!(event.actor.kind, ActorType::Human);
}

#[test]
fn a_decision_from_the_mcp_server() {
    let body = json!({
        "id": "7d8e9f0a-1b2c-4d3e-8f5a-6b7c8d9e0f1a", "sessionId": "run-2026-09-14:cand-17",
        "ts": "2026-04-01T11:02:00.000Z", "kind": "decision_event",
        "source": {"channel": "mcp", "integration": "promptster-mcp"}, "actor": {"type": "ai"}, "v": 1,
        "data": {"title": "Use JSONB for event payloads over a typed columns approach",
                 "chosenOption": "JSONB payload column",
                 "context": "Need flexible schema for heterogeneous event payloads",
                 "tradeoffs": "Harder to query individual fields without GIN indexes",
                 "rationale": "Avoids migrations as schema changes", "impactScore": 4},
    });
    let event = parsed(&body);
    assert_eq!(event.session_id.as_str(), "run-2026-09-14:cand-17");
    assert_eq!(event.data["impactScore"], 4);
}

#[test]
fn session_start_end_and_tool_calls() {
    let start = claude(
        "session_start",
        "8e9f0a1b-2c3d-4e4f-9a6b-7c8d9e0f1a2b",
        json!({"cwd": "/home/dev/work/bookshelf-api", "assessmentId": "asm_1", "source": "startup"}),
        json!({"hook_event_name": "SessionStart", "source": "startup"}),
    );
    assert_eq!(parsed(&start).data["assessmentId"], "asm_1");
    let end = claude(
        "session_end",
        "9f0a1b2c-3d4e-4f5a-8b7c-8d9e0f1a2b3c",
        json!({"reason": "exit"}),
        Value::Null,
    );
    assert_eq!(parsed(&end).kind, EventKind::SESSION_END);
    let call = claude(
        "tool_call",
        "0a1b2c3d-4e5f-4a6b-9c8d-9e0f1a2b3c4d",
        json!({"toolName": "Read", "input": {"file_path": "src/app.ts"}}),
        Value::Null,
    );
    assert_eq!(parsed(&call).kind, EventKind::TOOL_RESULT);
}
