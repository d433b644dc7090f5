//! The person, not only the agent: commands typed in a real interactive bash (under a pseudo-terminal, with the hook
//! `traceline install shell` put in its `~/.bashrc`) and edits made between two agent edits arrive as theirs, the
//! agent's edits are counted once, and the metrics match a computation by hand.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::candidate::{
    candidate, hook, session_id, succeeded, wait_for_empty_spool, wait_for_timeline, workspace,
    Hiring,
};
use crate::support::database::{Backend, TestDatabase};
use crate::support::BINARY;

const V0: &str = "pub fn a() {}\npub fn b() {}\n";
const V1: &str = "pub fn a() -> u8 { 1 }\npub fn b() {}\n";
/// The person's edit: two lines added at the end.
const V2: &str = "pub fn a() -> u8 { 1 }\npub fn b() {}\n// Reviewed by hand.\npub fn c() {}\n";
const V3: &str =
    "pub fn a() -> u8 { 1 }\npub fn b() -> u8 { 2 }\n// Reviewed by hand.\npub fn c() {}\n";

/// The agent edits `src/lib.rs` from `before` to `after` (one line replaced), and Claude Code reports it.
fn agent_edit(workspace: &Path, call: &str, before: &str, after: &str, old: &str, new: &str) {
    let path = workspace.join("src/lib.rs");
    assert_eq!(fs::read_to_string(&path).expect("the file"), before);
    fs::write(&path, after).expect("the agent's edit");
    let file = path.to_string_lossy();
    let payload = json!({
        "session_id": "cc-1", "cwd": workspace, "hook_event_name": "PostToolUse", "tool_name": "Edit",
        "tool_use_id": call,
        "tool_input": {"file_path": file, "old_string": old, "new_string": new},
        "tool_response": {"filePath": file, "oldString": old, "newString": new, "originalFile": before},
    });
    let (output, _) = hook(workspace, "claude-code", &payload.to_string());
    assert!(output.status.success() && output.stdout.is_empty(), "{output:?}");
}

/// Types `lines` into an interactive bash running under a pseudo-terminal (`script`), with `home` as its home.
fn type_into_bash(home: &Path, workspace: &Path, lines: &[&str]) {
    let mut child = Command::new("script")
        .args(["-qfec", "bash -i", "/dev/null"])
        .current_dir(workspace)
        .env("HOME", home)
        .env("SHELL", "/bin/bash")
        .env("TERM", "dumb")
        .env("HISTFILE", home.join(".bash_history"))
        .env_remove("PROMPT_COMMAND")
        .env_remove("PS0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) runs bash under a pseudo-terminal");
    let mut stdin = child.stdin.take().expect("stdin");
    for line in lines {
        stdin.write_all(format!("{line}\n").as_bytes()).expect("type a line");
    }
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("poll bash").is_none() {
        assert!(Instant::now() < deadline, "bash did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("bash's output");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "bash: {printed}");
    // The hook prints nothing: no output of its own, no job-control notices.
    assert!(!printed.contains("traceline") && !printed.contains("Done"), "{printed}");
}

fn human_commands(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .filter(|event| event["kind"] == "command" && event["actor"]["type"] == "human")
        .filter_map(|event| event["data"]["command"].as_str())
        .collect()
}

#[test]
fn a_person_s_terminal_and_edits_are_theirs_and_the_metrics_add_up_on_sqlite() {
    person_and_agent(Backend::Sqlite);
}

#[test]
fn a_person_s_terminal_and_edits_are_theirs_and_the_metrics_add_up_on_postgres() {
    person_and_agent(Backend::Postgres);
}

fn person_and_agent(backend: Backend) {
    let database = TestDatabase::new(backend);
    let hiring = Hiring::open(&database.url);
    let (_dir, workspace) = workspace();
    fs::write(workspace.join("src/lib.rs"), V0).expect("the task's code");
    fs::write(workspace.join(".gitignore"), "target/\n").expect("a .gitignore");
    let home = tempfile::tempdir().expect("a home directory");
    fs::write(home.path().join(".bashrc"), "PS1='$ '\n").expect("a .bashrc");

    let key = hiring.candidate_key.clone();
    succeeded(&candidate(&workspace, &["start", &key, "--server", &hiring.server.base_url]));
    let session = session_id(&workspace);
    let installed = Command::new(BINARY)
        .args(["install", "shell"])
        .env("HOME", home.path())
        .env("SHELL", "/bin/bash")
        .output()
        .expect("install the shell hook");
    assert!(succeeded(&installed).contains(".bashrc"));

    agent_edit(&workspace, "toolu_1", V0, V1, "pub fn a() {}", "pub fn a() -> u8 { 1 }");
    // The person edits the same file before the agent's next edit; ignored build output is no change.
    fs::write(workspace.join("src/lib.rs"), V2).expect("the person's edit");
    fs::create_dir_all(workspace.join("target")).expect("a build folder");
    fs::write(workspace.join("target/app"), "built").expect("build output");
    agent_edit(&workspace, "toolu_2", V2, V3, "pub fn b() {}", "pub fn b() -> u8 { 2 }");
    type_into_bash(
        home.path(),
        &workspace,
        &["cd src", "true", "npm test", "echo done > ../notes.txt", "exit"],
    );

    let typed = ["cd src", "true", "npm test", "echo done > ../notes.txt"];
    let events = wait_for_timeline(&hiring, &session, |events| {
        let created = events.iter().any(|event| event["kind"] == "file_create");
        created && human_commands(events).len() == typed.len()
    });
    assert_eq!(human_commands(&events), typed, "in the order typed");
    let npm = events.iter().find(|event| event["data"]["command"] == "npm test").expect("npm test");
    assert_ne!(npm["data"]["exitCode"], 0, "{npm}");
    assert_eq!(npm["data"]["cwd"], workspace.join("src").to_string_lossy().as_ref());
    assert_eq!(npm["provenance"]["attribution"], "likely_human");
    assert_eq!(npm["source"]["integration"], "shell");

    let changes: Vec<(&str, &str, &str)> = events
        .iter()
        .filter(|event| matches!(event["kind"].as_str(), Some("file_diff" | "file_create")))
        .map(|event| {
            (
                event["data"]["path"].as_str().unwrap_or_default(),
                event["actor"]["type"].as_str().unwrap_or_default(),
                event["provenance"]["attribution"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("src/lib.rs", "ai", "likely_ai"),
            ("src/lib.rs", "human", "ai_revised_by_human"),
            ("src/lib.rs", "ai", "likely_ai"),
            ("notes.txt", "human", "likely_human"),
        ],
        "one change of the person's between the agent's two, each counted once"
    );
    let by_hand = events
        .iter()
        .find(|event| event["provenance"]["attribution"] == "ai_revised_by_human")
        .expect("the person's edit");
    assert_eq!(
        by_hand["data"]["diff"],
        "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,2 +1,4 @@\n pub fn a() -> u8 { 1 }\n pub fn b() {}\n\
         +// Reviewed by hand.\n+pub fn c() {}\n"
    );
    assert_eq!(
        (by_hand["data"]["linesAdded"].as_i64(), by_hand["data"]["linesRemoved"].as_i64()),
        (Some(2), Some(0))
    );

    succeeded(&candidate(&workspace, &["done"]));
    wait_for_empty_spool(&workspace);
    let metrics = &hiring.get(&format!("/v1/sessions/{session}/metrics"))["metrics"];
    // By hand: 4 file changes, 2 of them the person's; 1 verification (`npm test`) over 4 changes; 4 commands, 1
    // failing; AI weight (2·1 + 2·½ + 2·1 + 1·0) ÷ (2 + 2 + 2 + 1) = 5/7.
    assert_eq!(metrics["fileChangeCount"], 4, "{metrics}");
    assert_eq!(metrics["manualEditRatio"], 0.5, "{metrics}");
    assert_eq!(metrics["verifyIntensity"], 0.25, "{metrics}");
    assert_eq!(metrics["commandCount"], 4, "{metrics}");
    assert_eq!(metrics["commandFailRate"], 0.25, "{metrics}");
    assert_eq!(metrics["testsPassed"], false, "{metrics}");
    assert_eq!(metrics["aiAttributionPct"], 71.4, "{metrics}");

    let uninstalled = Command::new(BINARY)
        .args(["uninstall", "shell"])
        .env("HOME", home.path())
        .output()
        .expect("uninstall the shell hook");
    succeeded(&uninstalled);
    assert_eq!(fs::read_to_string(home.path().join(".bashrc")).expect(".bashrc"), "PS1='$ '\n");
}
