//! Password hashing (spec §11): Argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's
//! recommendation), stored as a PHC string that names its own parameters, so stronger ones can be adopted later
//! without invalidating old hashes. Each hash costs tens of milliseconds of CPU: callers run these functions on
//! the blocking pool, never on an async worker.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

use crate::random::os_random;

/// Bytes of salt per hash (the PHC string format's recommendation).
const SALT_BYTES: usize = 16;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The operating system's random source failed.
    #[error("could not read random bytes for a salt: {0}")]
    Random(getrandom::Error),
    /// Argon2 refused its input (it never does for the lengths the policy allows).
    #[error("could not hash the password: {0}")]
    Argon2(String),
}

/// Hashes a password with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; SALT_BYTES];
    os_random(&mut salt).map_err(HashError::Random)?;
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| HashError::Argon2(error.to_string()))
}

/// Whether `password` matches `hash`. A hash that cannot be read matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), hash).is_ok()
}

/// A hash of a password nobody knows, checked when the address is unknown so that a wrong address costs what a
/// wrong password costs, and the time taken reveals nothing (spec §11: "the same answer").
static DECOY: LazyLock<Option<String>> = LazyLock::new(|| {
    let mut secret = [0u8; 32];
    os_random(&mut secret).ok()?;
    let text: String = secret.iter().map(|byte| format!("{byte:02x}")).collect();
    hash_password(&text).ok()
});

/// Spends the time a real check would, and fails.
pub fn verify_decoy(password: &str) -> bool {
    if let Some(hash) = DECOY.as_deref() {
        verify_password(password, hash);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password_and_differ_by_salt() {
        let first = hash_password("correct horse battery").unwrap();
        let second = hash_password("correct horse battery").unwrap();
        assert!(first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{first}");
        assert_ne!(first, second, "each hash has its own salt");
        assert!(verify_password("correct horse battery", &first));
        assert!(!verify_password("correct horse batterY", &first));
        assert!(!verify_password("anything", "not a PHC string"));
        assert!(!verify_decoy("correct horse battery"));
    }
}
