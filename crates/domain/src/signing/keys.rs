//! Ed25519 keys as the API spells them: public keys in base64 (`signingPubKey`), signatures in hex (`sig`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::hex;

/// Why a `signingPubKey` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPublicKey {
    /// Not base64 of exactly 32 bytes.
    #[error("must be the base64 of a raw 32-byte Ed25519 public key")]
    Encoding,
    /// 32 bytes, but no point of the curve, or one of small order that any signature would verify against.
    #[error("is not a usable Ed25519 public key")]
    NotAKey,
}

/// A session's Ed25519 public key, checked to be a point of the curve and not a weak one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Reads base64 (standard alphabet, padded or not) of a raw 32-byte public key.
    pub fn parse(text: &str) -> Result<Self, InvalidPublicKey> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .map_err(|_| InvalidPublicKey::Encoding)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| InvalidPublicKey::Encoding)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| InvalidPublicKey::NotAKey)?;
        if key.is_weak() {
            return Err(InvalidPublicKey::NotAKey);
        }
        Ok(PublicKey(key))
    }

    /// The key in padded standard base64: the one spelling it is stored and compared in.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_bytes())
    }

    /// Whether `sig_hex` (64 bytes in hex, either case) is this key's signature of `message`. Strict
    /// verification: non-canonical signatures are refused, so one event cannot carry two valid `sig`s.
    pub fn verifies(&self, message: &str, sig_hex: &str) -> bool {
        let Some(bytes) = hex::decode::<64>(sig_hex) else {
            return false;
        };
        self.0.verify_strict(message.as_bytes(), &Signature::from_bytes(&bytes)).is_ok()
    }
}

/// The private half of a signing key: the 32-byte seed, wiped from memory when dropped.
pub struct SecretSeed(SigningKey);

impl SecretSeed {
    /// The key made from a 32-byte seed (drawn by the caller from a CSPRNG).
    pub fn from_bytes(seed: [u8; 32]) -> Self {
        SecretSeed(SigningKey::from_bytes(&seed))
    }

    /// The seed in hex, for storing the key.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// Reads a seed written by [`SecretSeed::to_hex`].
    pub fn from_hex(text: &str) -> Option<Self> {
        hex::decode::<32>(text.trim()).map(Self::from_bytes)
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// The signature of `message`, in hex.
    pub fn sign(&self, message: &str) -> String {
        hex::encode(&self.0.sign(message.as_bytes()).to_bytes())
    }
}

impl std::fmt::Debug for SecretSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretSeed(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_must_be_32_byte_curve_points_that_are_not_weak() {
        let seed = SecretSeed::from_bytes([7; 32]);
        let encoded = seed.public_key().to_base64();
        assert_eq!(PublicKey::parse(&encoded), Ok(seed.public_key()));
        assert_eq!(PublicKey::parse(encoded.trim_end_matches('=')), Ok(seed.public_key()));
        assert_eq!(PublicKey::parse("not base64!"), Err(InvalidPublicKey::Encoding));
        assert_eq!(PublicKey::parse(&STANDARD.encode([1u8; 31])), Err(InvalidPublicKey::Encoding));
        // The identity point has small order: every signature would verify against it.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::parse(&STANDARD.encode(identity)), Err(InvalidPublicKey::NotAKey));
    }

    #[test]
    fn signatures_verify_only_for_their_message_and_key() {
        let seed = SecretSeed::from_bytes([9; 32]);
        let sig = seed.sign("hello\n");
        assert!(seed.public_key().verifies("hello\n", &sig));
        assert!(seed.public_key().verifies("hello\n", &sig.to_uppercase()));
        assert!(!seed.public_key().verifies("hello!\n", &sig));
        assert!(!SecretSeed::from_bytes([8; 32]).public_key().verifies("hello\n", &sig));
        assert!(!seed.public_key().verifies("hello\n", &sig[..126]));
        let restored = SecretSeed::from_hex(&seed.to_hex()).unwrap();
        assert_eq!(restored.public_key(), seed.public_key());
        assert!(!format!("{seed:?}").contains(&seed.to_hex()));
    }
}
