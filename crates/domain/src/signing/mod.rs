//! Signed events (spec §10.2), compatible with the Promptster CLI's tamper-evident log: canonical JSON, the
//! message an event's `sig` covers, `eventHash`, Ed25519 keys and signatures, and the chain a session's signed
//! events form.
//!
//! The candidate's client signs each event with a key made on their machine; the server keeps the public half
//! with the session and verifies every event it receives, never refusing one for its signature. What the client
//! signed is fixed by [`signed_message`], which the test vectors in `tests/fixtures/signing-vectors.json` (made
//! with an independent implementation) pin byte for byte.

mod canonical;
mod chain;
mod keys;
mod message;

#[cfg(test)]
mod vectors_tests;

pub use canonical::canonical_json;
pub use chain::{BreakReason, ChainCounts, ChainStatus, ChainSummary, ChainTip};
pub use keys::{InvalidPublicKey, PublicKey, SecretSeed};
pub use message::{sha256_hex, signed_message, EventSignature, MESSAGE_TAG};
