//! Signed capture end to end, on both backends (spec §10.2): `traceline start` makes a key and gives the server its
//! public half, every hook signs its events into one chain, and `traceline verify` checks the chain the server
//! holds, here, and exits non-zero once it is broken.

use std::fs;

use serde_json::{json, Value};

use crate::candidate::{
    candidate, fixture, hook, session_id, succeeded, wait_for_empty_spool, workspace, Hiring,
};
use crate::support::database::{Backend, TestDatabase};

/// A few Claude Code payloads, replayed through the real hook.
const RECORDED: [&str; 5] = [
    "UserPromptSubmit",
    "PostToolUse-Read",
    "PostToolUse-Edit",
    "PostToolUse-Bash-cargo-test",
    "Stop",
];

fn a_signed_session_verifies_until_an_unsigned_event_breaks_it(backend: Backend) {
    let database = TestDatabase::new(backend);
    let hiring = Hiring::open(&database.url);
    let (_dir, workspace) = workspace();
    let start =
        ["start", hiring.candidate_key.as_str(), "--server", hiring.server.base_url.as_str()];
    succeeded(&candidate(&workspace, &start));
    let key_file = workspace.join(".traceline/signing.key");
    assert!(key_file.is_file(), "start makes the key inside .traceline/");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Starting again keeps the key (the server would refuse another).
    succeeded(&candidate(&workspace, &start));
    for name in RECORDED {
        let (output, _) = hook(&workspace, "claude-code", &fixture("claude-code", name));
        assert!(output.status.success(), "{name}: {output:?}");
    }
    succeeded(&candidate(&workspace, &["explain", "Kept it synchronous", "--impact", "2"]));
    wait_for_empty_spool(&workspace);

    let state: Value = serde_json::from_str(
        &fs::read_to_string(workspace.join(".traceline/session.json")).unwrap(),
    )
    .unwrap();
    let session_id = session_id(&workspace);
    let session = hiring.get(&format!("/v1/sessions/{session_id}"));
    let events = session["session"]["eventCount"].as_u64().unwrap();
    assert!(events > RECORDED.len() as u64, "{session}");
    assert_eq!(session["session"]["chainStatus"], "intact", "{session}");
    let verified = succeeded(&candidate(&workspace, &["verify"]));
    assert_eq!(verified.trim(), format!("✓ {events} / {events} events signed · chain intact"));
    let log = hiring.get(&format!("/v1/sessions/{session_id}/signed-log"));
    let pubkey = log["signingPubkey"].as_str().unwrap();
    assert!(
        !fs::read_to_string(&key_file).unwrap().contains(pubkey),
        "only the public half leaves"
    );

    // An event sent around the client, unsigned, breaks the chain: the server says so, and so does verify.
    let token = state["sessionToken"].as_str().unwrap();
    let unsigned = json!({
        "id": uuid::Uuid::new_v4().to_string(), "sessionId": session_id, "ts": "2026-04-01T10:30:00Z",
        "kind": "prompt", "source": "curl", "v": 1, "data": {"text": "not from the client"},
    });
    let reply =
        hiring.client.try_post("/v1/hooks/ingest", &("X-API-Key", token), &unsigned).unwrap();
    assert_eq!(reply.status, 201, "never refused for its signature");
    let session = hiring.get(&format!("/v1/sessions/{session_id}"));
    assert_eq!(session["session"]["chainStatus"], "broken");
    let broken = candidate(&workspace, &["verify", &session_id]);
    assert!(!broken.status.success(), "verify exits non-zero on a broken chain");
    let printed = String::from_utf8_lossy(&broken.stdout);
    let total = events + 1;
    assert!(
        printed.starts_with(&format!(
            "✗ {events} / {total} events signed · chain broken at event {}",
            unsigned["id"].as_str().unwrap()
        )),
        "{printed}"
    );
    assert!(printed.contains("the event is not signed"), "{printed}");

    // Done still completes the session, and its record stays readable and checkable.
    succeeded(&candidate(&workspace, &["done"]));
    assert!(!candidate(&workspace, &["verify"]).status.success());
    assert!(hiring.server.terminate().success());
}

#[test]
fn a_signed_session_verifies_until_an_unsigned_event_breaks_it_on_sqlite() {
    a_signed_session_verifies_until_an_unsigned_event_breaks_it(Backend::Sqlite);
}

#[test]
fn a_signed_session_verifies_until_an_unsigned_event_breaks_it_on_postgres() {
    a_signed_session_verifies_until_an_unsigned_event_breaks_it(Backend::Postgres);
}
