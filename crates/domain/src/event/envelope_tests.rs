//! Tests of the envelope's own rules: required fields, their types, defaults, extras and error collection.

use serde_json::{json, Value};

use super::test_support::{envelope, error_paths, errors, parsed, with, SESSION};
use super::{Actor, ActorType, Attribution, EventKind, Observability, Provenance, Source};
use crate::time::format_timestamp;

const REQUIRED: [&str; 7] = ["id", "sessionId", "ts", "kind", "source", "v", "data"];

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(path, message)| ((*path).to_owned(), (*message).to_owned())).collect()
}

#[test]
fn a_minimal_envelope_gets_every_default() {
    let envelope = parsed(&envelope("session_end", json!({})));
    assert_eq!(envelope.id.as_str(), "0b6f4a2e-9c1d-4e8f-a7b3-5d2c1e0f9a8b");
    assert_eq!(envelope.session_id.as_str(), SESSION);
    assert_eq!(format_timestamp(&envelope.ts), "2026-04-01T10:15:00.250Z");
    assert_eq!(envelope.kind, EventKind::SESSION_END);
    assert_eq!(envelope.source, Source { channel: Some("hook".to_owned()), ..Source::default() });
    assert_eq!(envelope.actor.kind, ActorType::Unknown);
    assert_eq!(envelope.provenance, Provenance::default());
    assert_eq!((envelope.raw_payload, envelope.sig, envelope.prev_sig), (None, None, None));
}

#[test]
fn to_json_writes_the_normalised_form() {
    let body = envelope("session_end", json!({"reason": "exit"}));
    let written = Value::Object(parsed(&body).to_json());
    assert_eq!(
        written,
        json!({
            "id": "0b6f4a2e-9c1d-4e8f-a7b3-5d2c1e0f9a8b",
            "sessionId": SESSION,
            "ts": "2026-04-01T10:15:00.250000Z",
            "kind": "session_end",
            "source": {"channel": "hook"},
            "actor": {"type": "unknown"},
            "provenance": {"attribution": "unknown", "confidence": 0.5, "observability": "partial"},
            "v": 1,
            "data": {"reason": "exit"},
        })
    );
}

#[test]
fn every_required_field_is_required_and_null_is_missing() {
    for key in REQUIRED {
        let base = envelope("checkpoint", json!({}));
        assert_eq!(
            errors(&with(base.clone(), key, None)),
            pairs(&[(key, "is required")]),
            "{key} absent"
        );
        assert_eq!(
            errors(&with(base, key, Some(Value::Null))),
            pairs(&[(key, "is required")]),
            "{key} null"
        );
    }
    assert_eq!(error_paths(&json!({})), REQUIRED);
}

#[test]
fn a_body_that_is_not_an_object_is_one_error_at_the_root() {
    for body in [json!([]), json!("event"), json!(1), Value::Null] {
        assert_eq!(errors(&body), pairs(&[("", "must be a JSON object")]));
    }
}

#[test]
fn ids_are_uuids_stored_canonically() {
    let base = envelope("checkpoint", json!({}));
    let upper = with(base.clone(), "id", Some(json!("0B6F4A2E9C1D4E8FA7B35D2C1E0F9A8B")));
    assert_eq!(parsed(&upper).id.as_str(), "0b6f4a2e-9c1d-4e8f-a7b3-5d2c1e0f9a8b");
    assert_eq!(
        errors(&with(base.clone(), "id", Some(json!("evt_1")))),
        pairs(&[("id", "must be a UUID")])
    );
    assert_eq!(errors(&with(base, "id", Some(json!(7)))), pairs(&[("id", "must be a string")]));
}

#[test]
fn session_ids_are_uuids_or_short_tokens() {
    let base = envelope("checkpoint", json!({}));
    let token = with(base.clone(), "sessionId", Some(json!("cursor:conv-42.a_b")));
    assert_eq!(parsed(&token).session_id.as_str(), "cursor:conv-42.a_b");
    let upper = with(base.clone(), "sessionId", Some(json!(SESSION.to_uppercase())));
    assert_eq!(parsed(&upper).session_id.as_str(), SESSION);
    for bad in [json!(""), json!("has space"), json!("x".repeat(129))] {
        assert_eq!(error_paths(&with(base.clone(), "sessionId", Some(bad))), ["sessionId"]);
    }
    assert_eq!(
        errors(&with(base, "sessionId", Some(json!(42)))),
        pairs(&[("sessionId", "must be a string")])
    );
}

#[test]
fn timestamps_need_an_offset_and_keep_microseconds() {
    let base = envelope("checkpoint", json!({}));
    let offset = with(base.clone(), "ts", Some(json!("2026-04-01T12:15:00.123456789+02:00")));
    let ts = parsed(&offset).ts;
    assert_eq!(ts.to_rfc3339(), "2026-04-01T10:15:00.123456+00:00");
    for bad in [json!("2026-04-01T10:15:00"), json!("2026-04-01"), json!("now")] {
        assert_eq!(error_paths(&with(base.clone(), "ts", Some(bad))), ["ts"]);
    }
    assert_eq!(
        errors(&with(base, "ts", Some(json!(1_775_000_000_000_i64)))),
        pairs(&[("ts", "must be a string")])
    );
}

#[test]
fn kinds_follow_the_regex_and_tool_call_is_an_alias() {
    let base = envelope("checkpoint", json!({}));
    assert_eq!(
        parsed(&with(base.clone(), "kind", Some(json!("tool_call")))).kind,
        EventKind::TOOL_RESULT
    );
    assert_eq!(
        parsed(&with(base.clone(), "kind", Some(json!("my_kind_2")))).kind.as_str(),
        "my_kind_2"
    );
    for bad in [json!("Command"), json!("file-diff"), json!(""), json!("a".repeat(65))] {
        assert_eq!(error_paths(&with(base.clone(), "kind", Some(bad))), ["kind"]);
    }
    assert_eq!(
        errors(&with(base, "kind", Some(json!(["command"])))),
        pairs(&[("kind", "must be a string")])
    );
}

#[test]
fn v_must_be_one() {
    let base = envelope("checkpoint", json!({}));
    assert!(super::Envelope::parse(&with(base.clone(), "v", Some(json!(1.0)))).is_ok());
    for bad in [json!(2), json!(0), json!("1"), json!(true), json!(1.5), json!([1])] {
        assert_eq!(errors(&with(base.clone(), "v", Some(bad))), pairs(&[("v", "must be 1")]));
    }
}

#[test]
fn data_must_be_an_object_for_every_kind() {
    for kind in ["checkpoint", "tool_result", "anything"] {
        for bad in [json!([]), json!("x"), json!(1)] {
            assert_eq!(errors(&envelope(kind, bad)), pairs(&[("data", "must be a JSON object")]));
        }
    }
    let free =
        parsed(&envelope("tool_result", json!({"toolName": "Read", "nested": {"a": [1, null]}})));
    assert_eq!(Value::Object(free.data), json!({"toolName": "Read", "nested": {"a": [1, null]}}));
}

#[test]
fn a_bad_kind_skips_the_data_schema() {
    assert_eq!(error_paths(&envelope("Command", json!({}))), ["kind"]);
    assert_eq!(error_paths(&envelope("command", json!({}))), ["data.command"]);
}

#[test]
fn source_actor_and_provenance_are_read() {
    let mut body = envelope("checkpoint", json!({}));
    body["source"] = json!({"channel": "hook", "integration": "claude-code", "x": 1});
    body["actor"] = json!({"type": "ai", "role": "subagent"});
    body["provenance"] = json!({"attribution": "likely_ai", "confidence": 0.9, "observability": "high", "methods": ["hook"]});
    let envelope = parsed(&body);
    assert_eq!(envelope.source.integration.as_deref(), Some("claude-code"));
    assert_eq!(envelope.source.extra["x"], 1);
    assert_eq!(envelope.actor.kind, ActorType::Ai);
    assert_eq!(envelope.actor.role.as_deref(), Some("subagent"));
    assert_eq!(envelope.provenance.attribution, Attribution::LikelyAi);
    assert_eq!(envelope.provenance.confidence, 0.9);
    assert_eq!(envelope.provenance.observability, Observability::High);
    assert_eq!(envelope.provenance.methods, Some(vec!["hook".to_owned()]));
}

#[test]
fn optional_parts_sent_as_null_are_absent() {
    let mut body = envelope("checkpoint", json!({}));
    for key in ["actor", "provenance", "rawPayload", "sig", "prevSig"] {
        body[key] = Value::Null;
    }
    let envelope = parsed(&body);
    assert_eq!(envelope.actor, Actor::default());
    assert_eq!(envelope.provenance, Provenance::default());
    assert_eq!((envelope.raw_payload, envelope.sig, envelope.prev_sig), (None, None, None));
}

#[test]
fn raw_payload_and_signatures_are_kept_as_given() {
    let mut body = envelope("checkpoint", json!({}));
    body["rawPayload"] = json!({"hook_event_name": "PreCompact"});
    body["sig"] = json!("ed25519:abc");
    body["prevSig"] = json!({"alg": "ed25519", "value": "xyz"});
    let envelope = parsed(&body);
    assert_eq!(envelope.raw_payload, Some(json!({"hook_event_name": "PreCompact"})));
    assert_eq!(envelope.sig, Some(json!("ed25519:abc")));
    assert_eq!(envelope.prev_sig, Some(json!({"alg": "ed25519", "value": "xyz"})));
    let written = envelope.to_json();
    assert_eq!(written["rawPayload"], body["rawPayload"]);
    assert_eq!(written["sig"], body["sig"]);
    assert_eq!(written["prevSig"], body["prevSig"]);
}

#[test]
fn unknown_top_level_fields_are_allowed_but_not_interpreted() {
    let body = with(envelope("checkpoint", json!({})), "traceId", Some(json!({"span": 1})));
    let written = parsed(&body).to_json();
    assert!(!written.contains_key("traceId"));
}

#[test]
fn every_problem_is_reported_together_in_field_order() {
    let body = json!({
        "id": "not-a-uuid",
        "sessionId": "bad id",
        "ts": "2026-04-01 10:15",
        "kind": "command",
        "source": {"integration": "i".repeat(129), "emitter": 5},
        "actor": {"type": "robot"},
        "provenance": {"confidence": 2, "attribution": "ai"},
        "v": 2,
        "data": {"exitCode": "1", "durationMs": -5, "stdout": 1},
    });
    assert_eq!(
        error_paths(&body),
        [
            "id",
            "sessionId",
            "ts",
            "source.integration",
            "source.emitter",
            "actor.type",
            "provenance.attribution",
            "provenance.confidence",
            "v",
            "data.command",
            "data.exitCode",
            "data.durationMs",
            "data.stdout",
        ]
    );
}

#[test]
fn a_received_event_may_lie_at_most_a_day_ahead_of_the_clock() {
    use chrono::{DateTime, TimeDelta, Utc};

    use super::{Envelope, MAX_TS_AHEAD};

    let body = envelope("session_end", json!({}));
    let ts: DateTime<Utc> = "2026-04-01T10:15:00.250Z".parse().unwrap();
    assert!(Envelope::parse_received(&body, ts - MAX_TS_AHEAD).is_ok(), "exactly a day ahead");
    let early = ts - MAX_TS_AHEAD - TimeDelta::milliseconds(1);
    let refused = Envelope::parse_received(&with(body.clone(), "v", Some(json!(2))), early);
    let paths: Vec<String> = refused.unwrap_err().0.into_iter().map(|e| e.path).collect();
    assert_eq!(paths, ["ts", "v"], "reported with every other problem");
    assert!(Envelope::parse(&body).is_ok(), "parse alone reads no clock");
}

#[test]
fn timestamps_outside_the_api_range_are_refused_with_their_path() {
    let body =
        with(envelope("prompt", json!({"text": "x"})), "ts", Some(json!("1969-12-31T23:59:59Z")));
    assert_eq!(
        errors(&body),
        pairs(&[("ts", "must lie between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z")])
    );
}
