//! Reviewer credentials: org API keys (`psk_live_…`), their scopes, and how their secrets are hashed.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::random::{random_string, RandomFill, BASE62};

/// Prefix of every org API key secret.
pub const API_KEY_PREFIX: &str = "psk_live_";
/// Random characters after the prefix; the spec asks for at least 32.
pub const API_KEY_RANDOM_LEN: usize = 40;

/// What a reviewer key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Read routes.
    Read,
    /// Routes that create, change or delete.
    Write,
}

impl Scope {
    /// The scope's name in flags, storage and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }
}

/// Why a scope list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidScopes {
    /// A name other than `read` or `write`.
    #[error("unknown scope '{0}' (expected read or write)")]
    Unknown(String),
    /// No scope at all: such a key could do nothing.
    #[error("at least one scope is required")]
    Empty,
}

/// The set of scopes a key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scopes {
    read: bool,
    write: bool,
}

impl Scopes {
    /// Both scopes, as `traceline org create` grants.
    pub const READ_WRITE: Scopes = Scopes { read: true, write: true };
    /// Read only.
    pub const READ: Scopes = Scopes { read: true, write: false };

    /// Parses a comma-separated list such as `read,write`; blanks around names are ignored.
    pub fn parse(text: &str) -> Result<Self, InvalidScopes> {
        let mut scopes = Scopes { read: false, write: false };
        for name in text.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            match name {
                "read" => scopes.read = true,
                "write" => scopes.write = true,
                other => return Err(InvalidScopes::Unknown(other.to_owned())),
            }
        }
        if scopes.read || scopes.write {
            Ok(scopes)
        } else {
            Err(InvalidScopes::Empty)
        }
    }

    /// Whether the set holds `scope`.
    pub fn allows(self, scope: Scope) -> bool {
        match scope {
            Scope::Read => self.read,
            Scope::Write => self.write,
        }
    }

    /// Whether every scope of `other` is also in this set: what a key may grant another.
    pub fn covers(self, other: Scopes) -> bool {
        (self.read || !other.read) && (self.write || !other.write)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.read, self.write) {
            (true, true) => f.write_str("read,write"),
            (true, false) => f.write_str("read"),
            (false, true) => f.write_str("write"),
            (false, false) => Ok(()),
        }
    }
}

/// A freshly generated org API key secret. It is shown once; only its hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    /// Generates `psk_live_` followed by 40 base62 characters drawn from `fill`'s random bytes.
    pub fn generate<E>(fill: RandomFill<'_, E>) -> Result<Self, E> {
        Ok(Self(format!("{API_KEY_PREFIX}{}", random_string(BASE62, API_KEY_RANDOM_LEN, fill)?)))
    }

    /// The secret, for showing to the operator once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The hash under which the secret is stored and looked up.
    pub fn hash(&self) -> String {
        hash_secret(&self.0)
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret(…)")
    }
}

/// Whether a presented bearer token has the shape of an org API key (a cheap check before any lookup).
pub fn looks_like_api_key(token: &str) -> bool {
    token
        .strip_prefix(API_KEY_PREFIX)
        .is_some_and(|rest| rest.len() >= 32 && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// SHA-256 of a credential, in lower-case hex.
///
/// A fast hash is the right tool here: the secrets are long random strings, so there is nothing for a slow,
/// salted password hash to protect, and every request pays for the hash.
pub fn hash_secret(secret: &str) -> String {
    crate::hex::encode(&Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_print() {
        assert_eq!(Scopes::parse("read, write").unwrap(), Scopes::READ_WRITE);
        assert_eq!(Scopes::parse("read").unwrap(), Scopes::READ);
        assert_eq!(Scopes::parse("read").unwrap().to_string(), "read");
        assert!(!Scopes::READ.allows(Scope::Write));
        assert_eq!(Scopes::parse(""), Err(InvalidScopes::Empty));
        assert_eq!(Scopes::parse("admin"), Err(InvalidScopes::Unknown("admin".into())));
        assert!(Scopes::READ_WRITE.covers(Scopes::READ));
        assert!(!Scopes::READ.covers(Scopes::READ_WRITE));
    }

    #[test]
    fn generated_secrets_have_the_documented_shape() {
        let mut counter = 0u8;
        let secret = ApiKeySecret::generate(&mut |buf: &mut [u8]| {
            for byte in buf {
                counter = counter.wrapping_add(7);
                *byte = counter;
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        assert!(looks_like_api_key(secret.expose()), "{}", secret.expose());
        assert_eq!(secret.expose().len(), API_KEY_PREFIX.len() + API_KEY_RANDOM_LEN);
        assert_eq!(secret.hash(), hash_secret(secret.expose()));
        assert!(!format!("{secret:?}").contains("psk_live_"));
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(!looks_like_api_key("psk_live_short"));
        assert!(!looks_like_api_key("Bearer psk_live_0123456789012345678901234567890123"));
    }
}
