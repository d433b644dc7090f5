//! The CLI's own events: `traceline explain` and `traceline done`.

use serde_json::{json, Value};
use traceline_capture::{decision_event, session_end};

use crate::support::{context, sent, SESSION};

fn valid(envelope: &Value) {
    assert_eq!(envelope["sessionId"], SESSION);
    assert_eq!(envelope["source"]["channel"], "cli");
    assert_eq!(envelope["actor"]["type"], "human");
    assert_eq!(envelope["provenance"]["attribution"], "likely_human");
}

#[test]
fn explain_is_a_human_decision() {
    let event = sent(&decision_event(
        &context(),
        "Chose SQLite: one file, no server",
        Some("Storage"),
        Some(4),
    ));
    valid(&event);
    assert_eq!(event["kind"], "decision_event");
    assert_eq!(
        event["data"],
        json!({"rationale": "Chose SQLite: one file, no server", "title": "Storage", "impactScore": 4})
    );
    assert_eq!(
        event,
        sent(&decision_event(
            &context(),
            "Chose SQLite: one file, no server",
            Some("Storage"),
            Some(4)
        ))
    );
    assert_ne!(
        event["id"],
        sent(&decision_event(&context(), "Another reason", Some("Storage"), Some(4)))["id"]
    );
}

#[test]
fn explain_leaves_out_what_the_server_would_refuse() {
    let event = sent(&decision_event(&context(), "why", Some("  "), Some(9)));
    valid(&event);
    assert_eq!(event["data"], json!({"rationale": "why"}));
    let redacted = sent(&decision_event(&context(), "used token=abcd1234efgh", None, Some(0)));
    assert_eq!(redacted["data"], json!({"rationale": "used token=[REDACTED]"}));
}

#[test]
fn done_ends_the_session() {
    let event = sent(&session_end(&context()));
    valid(&event);
    assert_eq!(event["kind"], "session_end");
    assert_eq!(event, sent(&session_end(&context())));
}
