//! What the candidate-side black-box tests share: a hiring team on a running server, a workspace, and the binary run
//! as the candidate and as the tools run it.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{json_stdout, traceline, Client, Server, BINARY};

/// A recorded payload of the capture crate's fixtures.
pub(crate) fn fixture(tool: &str, name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../capture/tests/fixtures")
        .join(tool)
        .join(format!("{name}.json"));
    fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// A hiring team: an org, an assessment and one candidate key, on a running server.
pub(crate) struct Hiring {
    pub(crate) server: Server,
    pub(crate) client: Client,
    pub(crate) reviewer_key: String,
    pub(crate) candidate_key: String,
}

impl Hiring {
    pub(crate) fn open(database: &str) -> Hiring {
        let org = json_stdout(&traceline(&["org", "create", "--name", "Acme"], database));
        let reviewer_key = org["apiKey"].as_str().expect("an API key").to_owned();
        let server = Server::start(database);
        let client = Client::new(&server.base_url);
        let (status, assessment) = client.post(
            "/v1/assessments",
            &reviewer_key,
            &json!({"title": "Bookshelf API", "role": "Backend", "taskBrief": "Add GET /api/books/:id."}),
        );
        assert_eq!(status, 201, "{assessment}");
        let id = assessment["assessment"]["id"].as_str().expect("an assessment id");
        let (status, keys) =
            client.post(&format!("/v1/assessments/{id}/keys"), &reviewer_key, &json!({"count": 1}));
        assert_eq!(status, 201, "{keys}");
        let candidate_key = keys["keys"][0]["key"].as_str().expect("a key").to_owned();
        Hiring { server, client, reviewer_key, candidate_key }
    }

    pub(crate) fn get(&self, path: &str) -> Value {
        let (status, body) = self.client.get(path, Some(&self.reviewer_key));
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

/// Runs a candidate command in `workspace`.
pub(crate) fn candidate(workspace: &Path, args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .current_dir(workspace)
        .env_remove("TRACELINE_SERVER")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the traceline binary")
}

pub(crate) fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `traceline hook TOOL` the way Claude Code does: from a subdirectory, with `CLAUDE_PROJECT_DIR` set and the
/// payload on stdin. Returns the output and how long the call took.
pub(crate) fn hook(workspace: &Path, tool: &str, payload: &str) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(BINARY)
        .args(["hook", tool])
        .current_dir(workspace.join("src"))
        .env("CLAUDE_PROJECT_DIR", workspace)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the hook");
    child.stdin.take().expect("stdin").write_all(payload.as_bytes()).expect("write the payload");
    let output = child.wait_with_output().expect("wait for the hook");
    (output, started.elapsed())
}

pub(crate) fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary workspace");
    let workspace = dir.path().canonicalize().expect("canonical path");
    fs::create_dir_all(workspace.join("src")).expect("a subdirectory");
    (dir, workspace)
}

pub(crate) fn spooled(workspace: &Path) -> usize {
    fs::read_to_string(workspace.join(".traceline/spool.jsonl"))
        .map(|text| text.lines().filter(|line| !line.trim().is_empty()).count())
        .unwrap_or(0)
}

/// A hiring team on a server over `database_url`, and a workspace where the candidate ran `traceline start` and
/// whose `session_start` has been delivered: the team, the workspace (removed when dropped), its path and the
/// session id.
pub(crate) fn started(database_url: &str) -> (Hiring, tempfile::TempDir, PathBuf, String) {
    let hiring = Hiring::open(database_url);
    let (dir, workspace) = workspace();
    let key = hiring.candidate_key.clone();
    succeeded(&candidate(&workspace, &["start", &key, "--server", &hiring.server.base_url]));
    let session = session_id(&workspace);
    wait_for_empty_spool(&workspace);
    (hiring, dir, workspace, session)
}

/// The session `traceline start` recorded in the workspace.
pub(crate) fn session_id(workspace: &Path) -> String {
    let state: Value = serde_json::from_str(
        &fs::read_to_string(workspace.join(".traceline/session.json")).expect("the session state"),
    )
    .expect("JSON state");
    state["sessionId"].as_str().expect("a session id").to_owned()
}

/// Waits for the detached flushers to empty the spool (failing after 30 s).
pub(crate) fn wait_for_empty_spool(workspace: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while spooled(workspace) > 0 {
        assert!(Instant::now() < deadline, "the spool still holds {} events", spooled(workspace));
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the reviewer's timeline of `session_id` satisfies `done` (failing after 30 s); returns its events.
pub(crate) fn wait_for_timeline(
    hiring: &Hiring,
    session_id: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let timeline = hiring.get(&format!("/v1/sessions/{session_id}/timeline?limit=2000"));
        let events = timeline["events"].as_array().expect("events").clone();
        if done(&events) {
            return events;
        }
        assert!(Instant::now() < deadline, "the timeline never got there: {events:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
