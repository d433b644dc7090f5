//! The signing vectors of `tests/fixtures/signing-vectors.json` (a copy of the shared reference, made with an
//! independent Ed25519 implementation, and the Promptster CLI's own pinned vector), matched exactly.

use serde_json::Value;

use super::{canonical_json, sha256_hex, EventSignature, PublicKey, SecretSeed};
use crate::hex;

const VECTORS: &str = include_str!("../../tests/fixtures/signing-vectors.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("the vectors are JSON")
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("no string {key} in {value}"))
}

fn seed(value: &Value) -> SecretSeed {
    SecretSeed::from_bytes(
        hex::decode::<32>(text(value, "signingSeedHex")).expect("a 32-byte seed"),
    )
}

#[test]
fn every_event_vector_matches_byte_for_byte() {
    let vectors = vectors();
    let seed = seed(&vectors);
    let key = PublicKey::parse(text(&vectors, "signingPubKey")).expect("the vectors' public key");
    assert_eq!(seed.public_key(), key, "the seed makes the published public key");
    assert_eq!(key.to_base64(), text(&vectors, "signingPubKey"));
    let events = vectors["events"].as_array().expect("events");
    assert_eq!(events.len(), 4);
    for vector in events {
        let envelope = &vector["envelope"];
        assert_eq!(canonical_json(&envelope["data"]), text(vector, "canonicalData"));
        let signature = EventSignature::of(envelope);
        let message = signature.message.clone().expect("a message");
        assert_eq!(message, text(vector, "signedMessage"));
        assert_eq!(signature.event_hash().as_deref(), Some(text(vector, "eventHash")));
        assert_eq!(sha256_hex(&message), text(vector, "eventHash"));
        let sig = text(envelope, "sig");
        assert_eq!(seed.sign(&message), sig, "Ed25519 signing is deterministic");
        assert!(key.verifies(&message, sig));
        assert_eq!(signature.sig.as_deref(), Some(sig));
        assert_eq!(signature.prev_sig.as_deref(), Some(text(envelope, "prevSig")));
    }
    // Each event names the previous one's signature: the vectors are one chain from "".
    let sigs: Vec<&str> = events.iter().map(|vector| text(&vector["envelope"], "sig")).collect();
    let prev_sigs: Vec<&str> =
        events.iter().map(|vector| text(&vector["envelope"], "prevSig")).collect();
    assert_eq!(prev_sigs, [&[""][..], &sigs[..3]].concat());
}

#[test]
fn the_tampered_event_does_not_verify() {
    let vectors = vectors();
    let key = PublicKey::parse(text(&vectors, "signingPubKey")).expect("the vectors' public key");
    let tampered = &vectors["tampered"];
    let signature = EventSignature::of(tampered);
    let message = signature.message.expect("a message");
    assert!(!key.verifies(&message, text(tampered, "sig")));
    let original = &vectors["events"][2];
    assert_eq!(text(tampered, "sig"), text(&original["envelope"], "sig"), "the signature was kept");
    assert_ne!(message, text(original, "signedMessage"));
}

#[test]
fn the_promptster_cli_vector_matches() {
    let fixture = &vectors()["promptsterCliFixture"];
    let seed = seed(fixture);
    let envelope = &fixture["envelope"];
    let signature = EventSignature::of(envelope);
    let message = signature.message.expect("a message");
    assert_eq!(message, text(fixture, "signedMessage"));
    assert_eq!(seed.sign(&message), text(envelope, "sig"));
    assert!(seed.public_key().verifies(&message, text(envelope, "sig")));
}
