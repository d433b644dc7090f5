//! Fuzzes the ingest envelope's parser and validator: `Envelope::parse` on any JSON, and on what it accepts, that
//! writing the envelope back out and reading it again gives the same envelope (normalisation is idempotent).

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use traceline_domain::event::Envelope;

fuzz_target!(|bytes: &[u8]| {
    // The server parses the body with serde_json before the envelope sees it; bytes that are not JSON end there.
    let Ok(body) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    match Envelope::parse(&body) {
        Ok(envelope) => {
            let written = Value::Object(envelope.to_json());
            match Envelope::parse(&written) {
                Ok(again) => assert_eq!(again, envelope, "re-reading {written} changed the envelope"),
                Err(errors) => panic!("the normalised form {written} was refused: {errors}"),
            }
        }
        // Every refusal must be reportable: the API puts this text and the paths in its 400 body.
        Err(errors) => assert!(!errors.is_empty() && !errors.to_string().is_empty()),
    }
});
