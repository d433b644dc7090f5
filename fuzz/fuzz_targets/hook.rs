//! Fuzzes the capture client's mapping of tool hook payloads (`traceline_capture::map_hook`): the bytes a hook
//! reads on stdin, from any of the three tools. The first byte picks the tool, the rest is the payload.
//!
//! Checks what the client relies on: no panic; the same payload maps to the same envelopes (ids included), since
//! the spool's dedup and the server's idempotency both rest on that; every envelope belongs to the context's
//! session, has an id of its own, and passes the server's validation, reading back as the same envelope; and the
//! privacy pass left no string in `data` over its bound, so nothing large or unredacted slips past the limits.

#![no_main]

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::{TimeZone as _, Utc};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use traceline_capture::{map_hook, CaptureContext, Tool, PROMPT_LIMIT_BYTES};
use traceline_domain::event::Envelope;
use traceline_domain::ids::SessionId;

/// The longest string the privacy pass may leave: the largest limit plus the truncation marker.
const LONGEST_STRING: usize = PROMPT_LIMIT_BYTES + 64;

fuzz_target!(|bytes: &[u8]| {
    let Some((&selector, payload)) = bytes.split_first() else {
        return;
    };
    let tool = [Tool::ClaudeCode, Tool::Cursor, Tool::Codex][usize::from(selector % 3)];
    let Ok(payload) = serde_json::from_slice::<Value>(payload) else {
        return;
    };
    let Ok(session_id) = SessionId::parse("fuzz-session") else {
        return;
    };
    let context = CaptureContext {
        session_id,
        workspace: PathBuf::from("/home/dev/work/project"),
        received_at: Utc.timestamp_opt(1_790_000_000, 123_456_000).single().unwrap_or_default(),
    };
    let envelopes = map_hook(tool, &payload, &context);
    assert_eq!(envelopes, map_hook(tool, &payload, &context), "mapping is not deterministic");
    let mut ids = HashSet::new();
    for envelope in &envelopes {
        assert_eq!(envelope.session_id.as_str(), "fuzz-session");
        let id = envelope.id.as_str();
        assert!(ids.insert(id.to_owned()), "two envelopes of one payload share the id {id}");
        let sent = Value::Object(envelope.to_json());
        match Envelope::parse(&sent) {
            Ok(parsed) => assert_eq!(&parsed, envelope, "the server reads back another envelope"),
            Err(errors) => panic!("the server would refuse {sent}: {errors}"),
        }
        assert_strings_bounded(&sent["data"]);
    }
});

fn assert_strings_bounded(value: &Value) {
    match value {
        Value::String(text) => {
            assert!(text.len() <= LONGEST_STRING, "a {} byte string left the privacy pass", text.len());
        }
        Value::Array(items) => items.iter().for_each(assert_strings_bounded),
        Value::Object(fields) => fields.values().for_each(assert_strings_bounded),
        _ => {}
    }
}
