//! Tests of the strict `data` schemas: every 400 of the spec §4 table, and the normalisation of valid `data`.
//!
//! The table they walk (`test_support::specs`) restates the spec rather than reading `schemas.rs`, so a slip in
//! either one fails a test.

use serde_json::{json, Value};

use super::test_support::{envelope, errors, parsed_data, specs};

fn set(data: &Value, key: &str, value: Option<Value>) -> Value {
    let mut data = data.clone();
    if let Some(object) = data.as_object_mut() {
        match value {
            Some(value) => object.insert(key.to_owned(), value),
            None => object.remove(key),
        };
    }
    data
}

fn one(path: String, message: &str) -> Vec<(String, String)> {
    vec![(path, message.to_owned())]
}

#[test]
fn minimal_data_is_valid_and_unchanged() {
    for spec in specs() {
        assert_eq!(parsed_data(spec.kind, spec.minimal.clone()), spec.minimal, "{}", spec.kind);
    }
}

#[test]
fn required_fields_may_be_neither_absent_nor_null() {
    for spec in specs() {
        for key in spec.required {
            let message = if spec.kind == "prompt" {
                "is required (or its alias `prompt`)"
            } else {
                "is required"
            };
            for missing in [None, Some(Value::Null)] {
                let body = envelope(spec.kind, set(&spec.minimal, key, missing));
                assert_eq!(
                    errors(&body),
                    one(format!("data.{key}"), message),
                    "{} {key}",
                    spec.kind
                );
            }
        }
    }
}

#[test]
fn string_fields_reject_every_other_type() {
    for spec in specs() {
        for key in spec.strings {
            for bad in [json!(1), json!(1.5), json!(true), json!([]), json!({"a": 1})] {
                let body = envelope(spec.kind, set(&spec.minimal, key, Some(bad)));
                assert_eq!(
                    errors(&body),
                    one(format!("data.{key}"), "must be a string"),
                    "{} {key}",
                    spec.kind
                );
            }
            let empty = set(&spec.minimal, key, Some(json!("")));
            assert_eq!(parsed_data(spec.kind, empty.clone()), empty, "empty strings are strings");
        }
    }
}

#[test]
fn counts_reject_negatives_fractions_and_non_numbers() {
    for spec in specs() {
        for key in spec.counts() {
            for bad in [
                json!(-1),
                json!(1.5),
                json!("3"),
                json!(true),
                json!([3]),
                json!(u64::MAX),
                json!(1e19),
            ] {
                let body = envelope(spec.kind, set(&spec.minimal, key, Some(bad)));
                let expected = one(format!("data.{key}"), "must be an integer of at least 0");
                assert_eq!(errors(&body), expected, "{} {key}", spec.kind);
            }
            for (given, stored) in
                [(json!(0), json!(0)), (json!(42.0), json!(42)), (json!(i64::MAX), json!(i64::MAX))]
            {
                let data = parsed_data(spec.kind, set(&spec.minimal, key, Some(given)));
                assert_eq!(data[key], stored, "{} {key}", spec.kind);
            }
        }
    }
}

#[test]
fn optional_fields_sent_as_null_are_dropped_and_unknown_keys_kept() {
    for spec in specs() {
        let integers = spec.integers.iter().map(|(key, _, _)| key);
        let optional =
            spec.strings.iter().chain(integers).filter(|key| !spec.required.contains(key));
        let mut data = set(&spec.minimal, "clientExtra", Some(json!({"kept": null})));
        for key in optional {
            data = set(&data, key, Some(Value::Null));
        }
        let expected = set(&spec.minimal, "clientExtra", Some(json!({"kept": null})));
        assert_eq!(parsed_data(spec.kind, data), expected, "{}", spec.kind);
    }
}

#[test]
fn exit_codes_are_any_integer() {
    for (given, stored) in [
        (json!(0), json!(0)),
        (json!(-1), json!(-1)),
        (json!(137), json!(137)),
        (json!(2.0), json!(2)),
    ] {
        let data = parsed_data("command", json!({"command": "make", "exitCode": given}));
        assert_eq!(data["exitCode"], stored);
    }
    for bad in [json!(1.5), json!("1"), json!(false), json!(u64::MAX)] {
        let body = envelope("command", json!({"command": "make", "exitCode": bad}));
        assert_eq!(errors(&body), one("data.exitCode".to_owned(), "must be an integer"));
    }
}

#[test]
fn impact_scores_are_one_to_five() {
    for score in 1..=5 {
        assert_eq!(
            parsed_data("decision_event", json!({"impactScore": score}))["impactScore"],
            score
        );
    }
    assert_eq!(parsed_data("decision_event", json!({"impactScore": 4.0}))["impactScore"], json!(4));
    for bad in [json!(0), json!(6), json!(-3), json!(2.5), json!("4"), json!(true)] {
        let body = envelope("decision_event", json!({"title": "t", "impactScore": bad}));
        assert_eq!(
            errors(&body),
            one("data.impactScore".to_owned(), "must be an integer from 1 to 5")
        );
    }
}

#[test]
fn prompt_is_an_alias_of_text() {
    let moved = parsed_data("prompt", json!({"prompt": "fix the bug", "tokenCount": 12}));
    assert_eq!(moved, json!({"text": "fix the bug", "tokenCount": 12}));
    let null_text = parsed_data("prompt", json!({"text": null, "prompt": "fix it"}));
    assert_eq!(null_text, json!({"text": "fix it"}));
    let both = parsed_data("prompt", json!({"text": "typed", "prompt": {"raw": true}}));
    assert_eq!(both, json!({"text": "typed", "prompt": {"raw": true}}));
    let bad_alias = envelope("prompt", json!({"prompt": 5}));
    assert_eq!(errors(&bad_alias), one("data.prompt".to_owned(), "must be a string"));
    let bad_text = envelope("prompt", json!({"text": ["x"], "prompt": "fine"}));
    assert_eq!(errors(&bad_text), one("data.text".to_owned(), "must be a string"));
}

#[test]
fn every_misfit_in_data_is_reported() {
    let body = envelope(
        "file_diff",
        json!({"diff": 1, "linesAdded": -1, "linesRemoved": "2", "other": "kept"}),
    );
    let paths: Vec<_> = errors(&body).into_iter().map(|(path, _)| path).collect();
    assert_eq!(paths, ["data.path", "data.diff", "data.linesAdded", "data.linesRemoved"]);
}

#[test]
fn kinds_without_a_schema_take_any_object() {
    for kind in ["build_run", "session_start", "session_end", "tool_result", "custom_kind"] {
        let data = json!({"command": 5, "exitCode": "x", "path": null, "text": []});
        assert_eq!(parsed_data(kind, data.clone()), data, "{kind}");
    }
}
