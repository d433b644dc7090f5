//! Loading fixtures, mapping them, and checking what every envelope must hold.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use traceline_capture::{map_hook, CaptureContext, Tool, EMITTER};
use traceline_domain::event::Envelope;
use traceline_domain::ids::SessionId;

pub(crate) const SESSION: &str = "tl-session-1";
pub(crate) const WORKSPACE: &str = "/home/dev/work/bookshelf-api";

pub(crate) fn received_at() -> DateTime<Utc> {
    "2026-09-14T12:00:00.123456Z".parse().unwrap()
}

pub(crate) fn context() -> CaptureContext {
    CaptureContext {
        session_id: SessionId::parse(SESSION).unwrap(),
        workspace: PathBuf::from(WORKSPACE),
        received_at: received_at(),
    }
}

pub(crate) fn fixtures_dir(tool: Tool) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(tool.as_str())
}

pub(crate) fn fixture(tool: Tool, name: &str) -> Value {
    let path = fixtures_dir(tool).join(name);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Every `.json` payload under a tool's fixtures (hook configuration examples excluded).
pub(crate) fn fixture_names(tool: Tool) -> Vec<String> {
    let root = fixtures_dir(tool);
    let mut names = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                let name = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
                if !name.contains("example") {
                    names.push(name);
                }
            }
        }
    }
    names.sort();
    names
}

/// An envelope as it is spooled and sent, checked to read back as the same envelope on the server.
pub(crate) fn sent(envelope: &Envelope) -> Value {
    let json = Value::Object(envelope.to_json());
    match Envelope::parse(&json) {
        Ok(parsed) => assert_eq!(&parsed, envelope, "the server reads back another envelope"),
        Err(errors) => panic!("invalid envelope {json:#}: {errors:?}"),
    }
    json
}

/// Maps a payload and checks what every envelope must hold: it validates, and carries the context.
pub(crate) fn map_checked(tool: Tool, payload: &Value, context: &CaptureContext) -> Vec<Value> {
    let envelopes: Vec<Value> = map_hook(tool, payload, context).iter().map(sent).collect();
    for envelope in &envelopes {
        assert_eq!(envelope["v"], 1);
        assert_eq!(envelope["sessionId"], context.session_id.as_str());
        assert_eq!(envelope["source"]["channel"], "hook");
        assert_eq!(envelope["source"]["integration"], tool.as_str());
        assert_eq!(envelope["source"]["emitter"], EMITTER);
        let ts: DateTime<Utc> = envelope["ts"].as_str().unwrap().parse().unwrap();
        assert_eq!(ts, context.received_at);
    }
    envelopes
}

/// One expected envelope: its kind, `actor.type`, and fields its `data` must hold with exactly these values.
pub(crate) struct Expected {
    pub(crate) kind: &'static str,
    pub(crate) actor: &'static str,
    pub(crate) data: Value,
}

pub(crate) fn expect(kind: &'static str, actor: &'static str, data: Value) -> Expected {
    Expected { kind, actor, data }
}

/// The `test_run` a test command's output gives: runner, passed, failed, skipped.
pub(crate) fn test_run(command: &str, counts: (&str, u64, u64, u64)) -> Expected {
    let (runner, passed, failed, skipped) = counts;
    let data = json!({"command": command, "runner": runner, "passed": passed, "failed": failed,
                      "skipped": skipped});
    expect("test_run", "ai", data)
}

/// Checks every row of a tool's table, and that the table has a row for every fixture file.
pub(crate) fn check_all(tool: Tool, cases: &[(&str, Vec<Expected>)]) {
    for (name, expected) in cases {
        check_fixture(tool, name, expected);
    }
    let mut covered: Vec<String> = cases.iter().map(|(name, _)| (*name).to_owned()).collect();
    covered.sort();
    assert_eq!(covered, fixture_names(tool), "a new fixture needs a row");
}

/// Maps a fixture and compares it with the expected envelopes, in order.
pub(crate) fn check_fixture(tool: Tool, name: &str, expected: &[Expected]) {
    let envelopes = map_checked(tool, &fixture(tool, name), &context());
    let kinds: Vec<&str> = envelopes.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    let expected_kinds: Vec<&str> = expected.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, expected_kinds, "{tool}/{name}");
    for (envelope, expected) in envelopes.iter().zip(expected) {
        assert_eq!(envelope["actor"]["type"], expected.actor, "{tool}/{name}: actor");
        let attribution = match expected.actor {
            "ai" => "likely_ai",
            "human" => "likely_human",
            _ => "system_generated",
        };
        assert_eq!(envelope["provenance"]["attribution"], attribution, "{tool}/{name}");
        for (key, value) in expected.data.as_object().unwrap() {
            assert_eq!(
                &envelope["data"][key], value,
                "{tool}/{name}: data.{key} in {:#}",
                envelope["data"]
            );
        }
    }
}
