//! Every Claude Code fixture maps to the envelopes it should.

use serde_json::{json, Value};
use traceline_capture::Tool;

use crate::support::{
    check_all, context, expect, fixture, map_checked, test_run, Expected, WORKSPACE,
};

const TOOL: Tool = Tool::ClaudeCode;

fn cases() -> Vec<(&'static str, Vec<Expected>)> {
    let none = Vec::new;
    vec![
        (
            "Notification-idle_prompt.json",
            vec![expect(
                "notification",
                "system",
                json!({"type": "idle_prompt", "message": "Claude is waiting for your input"}),
            )],
        ),
        (
            "Notification-permission_prompt.json",
            vec![expect("notification", "system", json!({"type": "permission_prompt"}))],
        ),
        ("PermissionRequest-Bash.json", none()),
        ("PostCompact.json", none()),
        (
            "PostToolUse-Agent.json",
            vec![expect(
                "task_dispatch",
                "ai",
                json!({"toolName": "Agent", "taskPreview": "Review GET /api/books/:id",
                       "subagentType": "general-purpose", "status": "completed"}),
            )],
        ),
        (
            "PostToolUse-Bash-background.json",
            vec![expect(
                "command",
                "ai",
                json!({"command": "npm run dev", "background": true, "exitCode": null, "durationMs": 6}),
            )],
        ),
        (
            "PostToolUse-Bash-cargo-test.json",
            vec![
                expect(
                    "command",
                    "ai",
                    json!({"command": "cargo test", "exitCode": 0, "durationMs": 5127, "cwd": WORKSPACE}),
                ),
                test_run("cargo test", ("cargo", 6, 0, 0)),
            ],
        ),
        (
            "PostToolUse-Bash-git-commit.json",
            vec![
                expect(
                    "command",
                    "ai",
                    json!({"exitCode": 0, "stdout": "[main 4e1c9a2] feat(api): add GET /api/books/:id endpoint\n \
                        2 files changed, 38 insertions(+), 1 deletion(-)\n create mode 100644 test/books.get-by-id.test.ts"}),
                ),
                expect(
                    "git_action",
                    "ai",
                    json!({"action": "commit", "ref": "main", "commit": "4e1c9a2",
                           "message": "feat(api): add GET /api/books/:id endpoint"}),
                ),
            ],
        ),
        (
            "PostToolUse-Bash-no-output.json",
            vec![expect(
                "command",
                "ai",
                json!({"command": "npx tsc --noEmit", "exitCode": 0, "stdout": null, "stderr": null}),
            )],
        ),
        (
            "PostToolUse-Bash-success.json",
            vec![
                expect("command", "ai", json!({"command": "npm test", "exitCode": 0})),
                test_run("npm test", ("vitest", 4, 0, 0)),
            ],
        ),
        (
            "PostToolUse-Edit.json",
            vec![expect(
                "file_diff",
                "ai",
                json!({"path": "src/routes/books.ts", "linesAdded": 9, "linesRemoved": 0}),
            )],
        ),
        (
            "PostToolUse-Glob.json",
            vec![expect(
                "file_search",
                "ai",
                json!({"toolName": "Glob", "pattern": "src/**/*.ts", "resultsCount": 4}),
            )],
        ),
        (
            "PostToolUse-Grep.json",
            vec![expect(
                "file_search",
                "ai",
                json!({"toolName": "Grep", "pattern": "app\\.use\\(", "path": "src", "resultsCount": 1}),
            )],
        ),
        (
            "PostToolUse-Read.json",
            vec![expect("file_read", "ai", json!({"path": "src/routes/books.ts", "numLines": 8}))],
        ),
        (
            "PostToolUse-TodoWrite.json",
            vec![expect(
                "planning",
                "ai",
                json!({"toolName": "TodoWrite", "todos": [
                    {"content": "Add GET /api/books/:id route", "status": "completed"},
                    {"content": "Write tests for 200/404/400", "status": "in_progress"},
                    {"content": "Run test suite", "status": "pending"},
                ]}),
            )],
        ),
        (
            "PostToolUse-WebFetch.json",
            vec![expect(
                "web_lookup",
                "ai",
                json!({"toolName": "WebFetch", "url": "https://expressjs.com/en/guide/routing.html", "status": 200}),
            )],
        ),
        (
            "PostToolUse-Write-create.json",
            vec![expect(
                "file_create",
                "ai",
                json!({"path": "test/books.get-by-id.test.ts", "linesAdded": 23, "sizeBytes": 832}),
            )],
        ),
        (
            "PostToolUse-mcp-tool.json",
            vec![expect(
                "mcp_call",
                "ai",
                json!({
                    "server": "github",
                    "tool": "get_issue",
                    "input": {"owner": "acme", "repo": "bookshelf-api", "issue_number": 42},
                    "output": "{\"number\":42,\"title\":\"GET /api/books/:id returns 500 for unknown ids\",\
                               \"state\":\"open\"}",
                }),
            )],
        ),
        (
            "PostToolUseFailure-Bash-npm-test.json",
            vec![
                expect(
                    "command",
                    "ai",
                    json!({"command": "npm test", "exitCode": 1, "durationMs": 2388}),
                ),
                test_run("npm test", ("vitest", 3, 1, 0)),
            ],
        ),
        (
            "PostToolUseFailure-Read-missing-file.json",
            vec![expect(
                "tool_error",
                "ai",
                json!({"tool": "Read", "path": "src/routes/authors.ts",
                       "error": "File does not exist. Note: your current working directory is \
                                 /home/dev/work/bookshelf-api."}),
            )],
        ),
        (
            "PreCompact-auto.json",
            vec![expect("context_compact", "system", json!({"trigger": "auto"}))],
        ),
        (
            "PreCompact-manual.json",
            vec![expect("context_compact", "system", json!({"trigger": "manual"}))],
        ),
        ("PreToolUse-Agent.json", none()),
        ("PreToolUse-Bash.json", none()),
        ("PreToolUse-Edit.json", none()),
        ("PreToolUse-Read-inside-subagent.json", none()),
        (
            "SessionEnd.json",
            vec![expect("agent_session_end", "system", json!({"reason": "prompt_input_exit"}))],
        ),
        (
            "SessionStart-clear.json",
            vec![expect(
                "agent_session_start",
                "system",
                json!({"cwd": WORKSPACE, "source": "clear"}),
            )],
        ),
        // A compaction keeps the session; PreCompact records it.
        ("SessionStart-compact.json", none()),
        (
            "SessionStart-resume.json",
            vec![expect(
                "agent_session_start",
                "system",
                json!({"cwd": WORKSPACE, "source": "resume"}),
            )],
        ),
        (
            "SessionStart-startup.json",
            vec![expect(
                "agent_session_start",
                "system",
                json!({"cwd": WORKSPACE, "source": "startup", "model": "claude-sonnet-5",
                       "ideSessionId": "f80195ce-3698-4cf9-9983-2991ba40f607"}),
            )],
        ),
        ("Stop.json", vec![expect("ai_response", "ai", json!({}))]),
        (
            "StopFailure-rate_limit.json",
            vec![expect("agent_error", "system", json!({"error": "rate_limit"}))],
        ),
        (
            "SubagentStart.json",
            vec![expect(
                "subagent_start",
                "ai",
                json!({"subagentId": "b1f9f2747f66d0a24", "subagentType": "general-purpose", "summary": null}),
            )],
        ),
        (
            "SubagentStop.json",
            vec![expect(
                "subagent_stop",
                "ai",
                json!({"subagentId": "b1f9f2747f66d0a24", "subagentType": "general-purpose"}),
            )],
        ),
        (
            "UserPromptSubmit.json",
            vec![expect(
                "prompt",
                "human",
                json!({"text": "Add a GET /api/books/:id endpoint to the bookshelf API. It should return the book \
                    as JSON, respond 404 with {\"error\":\"Book not found\"} when the id doesn't exist, and 400 \
                    for a non-numeric id. Add tests and make sure the suite passes."}),
            )],
        ),
    ]
}

#[test]
fn every_fixture_maps_to_its_envelopes() {
    check_all(TOOL, &cases());
}

fn data_of(name: &str) -> Vec<Value> {
    map_checked(TOOL, &fixture(TOOL, name), &context())
        .into_iter()
        .map(|e| e["data"].clone())
        .collect()
}

#[test]
fn responses_and_summaries_carry_the_agents_words() {
    let stop = fixture(TOOL, "Stop.json");
    assert_eq!(data_of("Stop.json")[0]["lastAssistantMessage"], stop["last_assistant_message"]);
    let subagent = fixture(TOOL, "SubagentStop.json");
    assert_eq!(data_of("SubagentStop.json")[0]["summary"], subagent["last_assistant_message"]);
}

#[test]
fn a_failed_command_keeps_its_output_without_the_exit_code_line() {
    let stdout =
        data_of("PostToolUseFailure-Bash-npm-test.json")[0]["stdout"].as_str().unwrap().to_owned();
    assert!(stdout.starts_with("> bookshelf-api@1.0.0 test"), "{stdout}");
    assert!(stdout.ends_with("prepare 97ms)"));
}

#[test]
fn the_edit_diff_is_the_structured_patch() {
    let diff = data_of("PostToolUse-Edit.json")[0]["diff"].as_str().unwrap().to_owned();
    assert!(
        diff.starts_with("@@ -6,3 +6,12 @@\n booksRouter.get(\"/\", (_req, res) => {\n"),
        "{diff}"
    );
    assert_eq!(diff.lines().filter(|line| line.starts_with('+')).count(), 9);
}

#[test]
fn a_benign_exit_is_one_and_says_why() {
    let mut payload = fixture(TOOL, "PostToolUse-Bash-success.json");
    payload["tool_input"]["command"] = json!("grep -r TODO src");
    payload["tool_response"]["returnCodeInterpretation"] = json!("No matches found");
    let envelopes = map_checked(TOOL, &payload, &context());
    assert_eq!(envelopes.len(), 1);
    assert_eq!(envelopes[0]["data"]["exitCode"], 1);
    assert_eq!(envelopes[0]["data"]["interpretation"], "No matches found");
}

#[test]
fn a_failure_without_an_exit_code_line_gives_none() {
    let mut payload = fixture(TOOL, "PostToolUseFailure-Bash-npm-test.json");
    payload["error"] = json!("spawn /bin/sh ENOENT");
    let envelopes = map_checked(TOOL, &payload, &context());
    assert_eq!(envelopes.len(), 1, "no summary, so no test_run");
    assert_eq!(envelopes[0]["data"]["exitCode"], Value::Null);
    assert_eq!(envelopes[0]["data"]["stdout"], "spawn /bin/sh ENOENT");
}

#[test]
fn actions_inside_a_subagent_are_marked() {
    let mut payload = fixture(TOOL, "PostToolUse-Read.json");
    payload["agent_id"] = json!("b1f9f2747f66d0a24");
    let envelopes = map_checked(TOOL, &payload, &context());
    assert_eq!(envelopes[0]["actor"], json!({"type": "ai", "role": "subagent"}));
}

#[test]
fn ids_are_stable_and_distinct() {
    let payload = fixture(TOOL, "PostToolUse-Bash-cargo-test.json");
    let first = map_checked(TOOL, &payload, &context());
    let mut later = context();
    later.received_at += chrono::Duration::seconds(5);
    // The tool_use_id names the call, so a second delivery later is the same event.
    let again = map_checked(TOOL, &payload, &later);
    let ids = |envelopes: &[Value]| envelopes.iter().map(|e| e["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ids(&again));
    assert_ne!(first[0]["id"], first[1]["id"]);
    let uuid = uuid::Uuid::parse_str(first[0]["id"].as_str().unwrap()).unwrap();
    assert_eq!(uuid.get_version_num(), 8);
    // Without an id of its own, a payload's receive time tells two deliveries apart.
    let stop = fixture(TOOL, "Stop.json");
    assert_ne!(ids(&map_checked(TOOL, &stop, &context())), ids(&map_checked(TOOL, &stop, &later)));
    // Another session never shares ids.
    let mut other = context();
    other.session_id = traceline_domain::ids::SessionId::parse("tl-session-2").unwrap();
    assert_ne!(ids(&first), ids(&map_checked(TOOL, &payload, &other)));
}

#[test]
fn task_notifications_are_not_prompts() {
    let mut payload = fixture(TOOL, "UserPromptSubmit.json");
    payload["prompt"] =
        json!("<task-notification>Background task bq3m8w2tk completed</task-notification>");
    let envelopes = map_checked(TOOL, &payload, &context());
    assert_eq!(envelopes[0]["kind"], "notification");
    assert_eq!(envelopes[0]["actor"]["type"], "system");
}

#[test]
fn paths_outside_the_workspace_stay_absolute_and_cwd_is_a_fallback() {
    let mut payload = fixture(TOOL, "PostToolUse-Read.json");
    payload["tool_input"]["file_path"] = json!("/etc/hosts");
    assert_eq!(map_checked(TOOL, &payload, &context())[0]["data"]["path"], "/etc/hosts");
    payload["cwd"] = json!("/srv/other");
    payload["tool_input"]["file_path"] = json!("/srv/other/lib/x.rs");
    assert_eq!(map_checked(TOOL, &payload, &context())[0]["data"]["path"], "lib/x.rs");
}

#[test]
fn a_test_command_and_its_test_run_count_as_one_verification() {
    use traceline_domain::metrics::SessionTotals;
    use traceline_domain::Envelope;

    let mut totals = SessionTotals::default();
    let envelopes = envelopes_of("PostToolUseFailure-Bash-npm-test.json");
    for (seq, envelope) in envelopes.iter().enumerate() {
        totals.record(&Envelope::parse(envelope).unwrap(), i64::try_from(seq).unwrap());
    }
    assert_eq!(envelopes.len(), 2);
    assert_eq!((totals.command_count, totals.verify_count, totals.command_fail_count), (1, 1, 1));
    assert!(!totals.last_test.unwrap().passed);
}

fn envelopes_of(name: &str) -> Vec<Value> {
    map_checked(TOOL, &fixture(TOOL, name), &context())
}
