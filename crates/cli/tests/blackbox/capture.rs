//! The capture client as a candidate uses it: `traceline start` in a workspace, the tools running `traceline hook`
//! with their real payloads, `explain` and `done`, against a real server; and the same with the server down.

use std::fs;
use std::time::Duration;

use serde_json::{json, Value};

use crate::candidate::{
    candidate, fixture, hook, session_id, spooled, succeeded, wait_for_empty_spool, workspace,
    Hiring,
};
use crate::operator::sqlite_file;
use crate::support::{Client, Server, BINARY};

/// The Claude Code payloads of one small session, in the order the tool sent them: the fixtures the mapping is
/// tested on, replayed through the real binary.
const RECORDED_SESSION: [&str; 9] = [
    "SessionStart-startup",
    "UserPromptSubmit",
    "PostToolUse-Read",
    "PostToolUse-Edit",
    "PostToolUse-Write-create",
    "PostToolUseFailure-Bash-npm-test",
    "PostToolUse-Bash-cargo-test",
    "PostToolUse-Bash-git-commit",
    "Stop",
];

#[test]
fn a_recorded_claude_code_session_reaches_the_reviewer() {
    let database_dir = tempfile::tempdir().expect("a temporary directory");
    let hiring = Hiring::open(&sqlite_file(&database_dir, "traceline.db"));
    let (_dir, workspace) = workspace();
    let settings = workspace.join(".claude/settings.local.json");
    fs::create_dir_all(settings.parent().expect("a parent")).expect("the .claude directory");
    let users_hook = json!({"hooks": {"PreToolUse": [{"matcher": "Bash",
        "hooks": [{"type": "command", "command": "./guard.sh"}]}]}, "permissions": {"allow": ["Bash(ls)"]}});
    fs::write(&settings, users_hook.to_string()).expect("the user's own settings");

    let key = hiring.candidate_key.to_lowercase();
    let start = ["start", key.as_str(), "--server", hiring.server.base_url.as_str()];
    let printed = succeeded(&candidate(&workspace, &start));
    assert!(
        printed.contains("Bookshelf API") && printed.contains("Add GET /api/books/:id."),
        "{printed}"
    );
    let session_id = session_id(&workspace);
    assert!(fs::read_to_string(workspace.join(".traceline/.gitignore"))
        .expect("ignored")
        .contains('*'));
    let installed = fs::read_to_string(&settings).expect("merged settings");
    assert!(installed.contains("./guard.sh") && installed.contains("Bash(ls)"), "{installed}");
    assert!(installed.contains(&format!("{BINARY} hook claude-code")), "{installed}");
    assert!(fs::read_to_string(workspace.join(".cursor/hooks.json"))
        .expect("cursor")
        .contains("hook cursor"));
    // Starting again (a new terminal, say) keeps the session and changes no hook file.
    succeeded(&candidate(&workspace, &start));
    assert_eq!(fs::read_to_string(&settings).expect("settings"), installed);
    assert_eq!(crate::candidate::session_id(&workspace), session_id);

    for name in RECORDED_SESSION {
        let (output, _) = hook(&workspace, "claude-code", &fixture("claude-code", name));
        assert!(output.status.success(), "{name}: {output:?}");
        assert!(
            output.stdout.is_empty(),
            "{name} printed {:?}",
            String::from_utf8_lossy(&output.stdout)
        );
        // Delivery happens in a detached flusher, after the hook has returned.
        wait_for_empty_spool(&workspace);
    }
    succeeded(&candidate(
        &workspace,
        &[
            "explain",
            "Kept the store synchronous: the data set fits in memory",
            "--title",
            "No async store",
            "--impact",
            "3",
        ],
    ));
    succeeded(&candidate(&workspace, &["done"]));
    assert!(succeeded(&candidate(&workspace, &["status"])).contains("completed:   20"));

    let timeline = hiring.get(&format!("/v1/sessions/{session_id}/timeline"));
    let kinds: Vec<&str> = timeline["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for kind in [
        "session_start",
        "prompt",
        "file_diff",
        "file_create",
        "command",
        "test_run",
        "git_action",
        "decision_event",
        "session_end",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    // Claude Code's own SessionStart is its own kind: the session has the one `session_start` of `traceline start`.
    let count = |kind: &str| kinds.iter().filter(|found| **found == kind).count();
    assert_eq!((count("session_start"), count("agent_session_start")), (1, 1), "{kinds:?}");
    let edit = timeline["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|event| event["kind"] == "file_diff")
        .expect("the edit");
    assert_eq!(edit["data"]["path"], "src/routes/books.ts", "paths are relative to the workspace");
    assert_eq!(
        (edit["actor"]["type"].as_str(), edit["provenance"]["attribution"].as_str()),
        (Some("ai"), Some("likely_ai"))
    );

    let metrics = &hiring.get(&format!("/v1/sessions/{session_id}/metrics"))["metrics"];
    assert_eq!(metrics["promptCount"], 1, "{metrics}");
    assert_eq!(metrics["commandCount"], 3, "{metrics}");
    let fail_rate = metrics["commandFailRate"].as_f64().expect("a fail rate");
    assert!((fail_rate - 1.0 / 3.0).abs() < 1e-9, "{metrics}");
    assert_eq!(metrics["fileChangeCount"], 2, "{metrics}");
    assert_eq!(
        metrics["testsPassed"], true,
        "the last test evidence is the passing cargo test: {metrics}"
    );
    // Two test commands, each with its parsed test_run naming it: two verification actions over two changes.
    assert_eq!(metrics["verifyIntensity"], 1.0, "{metrics}");
    assert_eq!(metrics["aiAttributionPct"], 100.0, "{metrics}");

    let decisions = &hiring.get(&format!("/v1/sessions/{session_id}/decisions"))["decisions"];
    assert_eq!(decisions[0]["data"]["title"], "No async store", "{decisions}");
    assert_eq!(decisions[0]["actor"]["type"], "human");
    let session = &hiring.get(&format!("/v1/sessions/{session_id}"))["session"];
    assert!(session["endedAt"].is_string(), "{session}");
    let candidates = hiring.get("/v1/candidates");
    assert_eq!(candidates["candidates"][0]["status"], "completed", "{candidates}");
}

#[test]
fn with_the_server_down_hooks_return_at_once_and_nothing_is_lost() {
    let database_dir = tempfile::tempdir().expect("a temporary directory");
    let database = sqlite_file(&database_dir, "traceline.db");
    let hiring = Hiring::open(&database);
    let (_dir, workspace) = workspace();
    let key = hiring.candidate_key.clone();
    succeeded(&candidate(&workspace, &["start", &key, "--server", &hiring.server.base_url]));
    let session_id = session_id(&workspace);
    let address = hiring.server.address().to_owned();
    let Hiring { server, reviewer_key, .. } = hiring;
    assert!(server.terminate().success());

    let prompt: Value =
        serde_json::from_str(&fixture("claude-code", "UserPromptSubmit")).expect("JSON");
    let mut slowest = Duration::ZERO;
    for n in 0..12 {
        let mut payload = prompt.clone();
        payload["prompt"] = json!(format!("prompt number {n}"));
        payload["prompt_id"] = json!(format!("prompt-{n}"));
        let (output, took) = hook(&workspace, "claude-code", &payload.to_string());
        assert!(output.status.success(), "{output:?}");
        slowest = slowest.max(took);
    }
    // The promise is 100 ms (measured in docs/BENCHMARKS.md); this bound only catches a hook that waits for a
    // timeout, without failing on a loaded CI machine.
    assert!(slowest < Duration::from_secs(2), "a hook call took {slowest:?} with the server down");
    assert_eq!(spooled(&workspace), 12);
    let flushed = candidate(&workspace, &["flush"]);
    assert!(!flushed.status.success(), "flush must say the events are still waiting");
    assert_eq!(spooled(&workspace), 12);

    let server = Server::start_on(&database, &address);
    let client = Client::new(&server.base_url);
    succeeded(&candidate(&workspace, &["flush"]));
    assert_eq!(spooled(&workspace), 0);
    // A second flush, and a hook call after recovery, send nothing twice.
    succeeded(&candidate(&workspace, &["flush"]));
    let (status, timeline) =
        client.get(&format!("/v1/sessions/{session_id}/timeline"), Some(&reviewer_key));
    assert_eq!(status, 200, "{timeline}");
    let prompts: Vec<&str> = timeline["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|event| event["kind"] == "prompt")
        .filter_map(|event| event["data"]["text"].as_str())
        .collect();
    let expected: Vec<String> = (0..12).map(|n| format!("prompt number {n}")).collect();
    assert_eq!(prompts, expected, "every prompt, once, in order");
    let (_, session) = client.get(&format!("/v1/sessions/{session_id}"), Some(&reviewer_key));
    assert_eq!(
        session["session"]["eventCount"], 13,
        "12 prompts and the session_start of `traceline start`"
    );
}
