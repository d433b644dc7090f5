//! Property tests of the envelope: valid envelopes round-trip, the kind regex holds, and no input panics.

use proptest::prelude::*;
use serde_json::Value;

use super::strategies::{any_json, valid_envelope, TOP_LEVEL_KEYS};
use super::{Envelope, EventKind};

proptest! {
    #[test]
    fn valid_envelopes_round_trip_through_to_json(body in valid_envelope()) {
        let envelope = Envelope::parse(&body).map_err(|errors| TestCaseError::fail(format!("{errors}: {body}")))?;
        let written = Value::Object(envelope.to_json());
        prop_assert_eq!(Envelope::parse(&written), Ok(envelope));
    }

    #[test]
    fn kinds_matching_the_regex_are_accepted(kind in "[a-z][a-z0-9_]{0,63}") {
        let parsed = EventKind::parse(&kind).map_err(|_| TestCaseError::fail(kind.clone()))?;
        let expected = if kind == "tool_call" { "tool_result" } else { kind.as_str() };
        prop_assert_eq!(parsed.as_str(), expected);
    }

    #[test]
    fn kinds_outside_the_regex_are_rejected(
        kind in prop_oneof![
            Just(String::new()),
            "[0-9_][a-z0-9_]{0,20}",
            "[a-z][a-z0-9_]{64,80}",
            "[a-z][a-z0-9_]{0,10}[^a-z0-9_][a-z0-9_]{0,10}",
            "[A-Z][a-zA-Z0-9_]{0,20}",
        ]
    ) {
        prop_assert!(EventKind::parse(&kind).is_err(), "{:?} was accepted", kind);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_json(body in any_json()) {
        check_outcome(&body)?;
    }

    #[test]
    fn parse_never_panics_on_damaged_envelopes(
        body in valid_envelope(),
        damage in prop::collection::vec((select_top_key(), prop::option::of(any_json())), 1..4),
    ) {
        let mut body = body;
        if let Some(object) = body.as_object_mut() {
            for (key, value) in damage {
                match value {
                    Some(value) => object.insert(key.to_owned(), value),
                    None => object.remove(key),
                };
            }
        }
        check_outcome(&body)?;
    }
}

fn select_top_key() -> impl Strategy<Value = &'static str> {
    prop::sample::select(TOP_LEVEL_KEYS)
}

/// Whatever the input, the outcome is a reasoned rejection or an envelope that reads back the same.
fn check_outcome(body: &Value) -> Result<(), TestCaseError> {
    match Envelope::parse(body) {
        Err(errors) => prop_assert!(!errors.is_empty()),
        Ok(envelope) => {
            prop_assert_eq!(Envelope::parse(&Value::Object(envelope.to_json())), Ok(envelope));
        }
    }
    Ok(())
}
