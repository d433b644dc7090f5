//! Reviewer credentials: org API keys (`psk_live_…`), their scopes, and how their secrets are hashed.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::json::{expect_object, string_field};
use crate::random::{random_string, RandomFill, BASE62};
use crate::validation::ValidationErrors;

/// Prefix of every org API key secret.
pub const API_KEY_PREFIX: &str = "psk_live_";
/// Random characters after the prefix; the spec asks for at least 32.
pub const API_KEY_RANDOM_LEN: usize = 40;
/// Characters of a key shown in listings to tell keys apart (spec §10.3): `psk_live_` and three of the secret.
pub const SHOWN_PREFIX_CHARS: usize = 12;
/// Longest key name, in characters.
pub const MAX_API_KEY_NAME_CHARS: usize = 255;

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

    /// Whether every scope of `other` is also in this set.
    pub fn covers(self, other: Scopes) -> bool {
        (self.read || !other.read) && (self.write || !other.write)
    }

    /// The scopes held, as their names.
    pub fn names(self) -> Vec<&'static str> {
        [Scope::Read, Scope::Write]
            .into_iter()
            .filter(|scope| self.allows(*scope))
            .map(Scope::as_str)
            .collect()
    }
}

impl serde::Serialize for Scopes {
    /// As a list of names: `["read", "write"]`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.names())
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Scopes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Scopes".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "array",
            "items": {"type": "string", "enum": ["read", "write"]},
            "minItems": 1,
            "uniqueItems": true,
        })
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

    /// The first [`SHOWN_PREFIX_CHARS`] characters, kept to tell keys apart in listings.
    pub fn shown_prefix(&self) -> String {
        self.0.chars().take(SHOWN_PREFIX_CHARS).collect()
    }
}

/// An org API key as `GET /v1/api-keys` shows it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApiKey {
    /// The key's id (what revoking names).
    pub id: String,
    /// The org it acts for.
    #[serde(skip)]
    pub org_id: crate::OrgId,
    /// A name given when it was created, if any.
    pub name: Option<String>,
    /// What it may do.
    pub scopes: Scopes,
    /// The first 12 characters of the key; `null` for keys made before Traceline kept them.
    pub prefix: Option<String>,
    /// When it was created.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request, to the minute; `null` if never.
    #[serde(with = "crate::time::api_format_opt")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::ApiTimestamp>"))]
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; `null` while it works.
    #[serde(with = "crate::time::api_format_opt")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::ApiTimestamp>"))]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// How the audit log names the key: its name, else its prefix.
    pub fn display_name(&self) -> Option<String> {
        self.name.clone().or_else(|| self.prefix.clone())
    }
}

/// A validated `POST /v1/api-keys` body: `{name?, scopes: ["read" | "write", …]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRequest {
    /// The key's name, if given.
    pub name: Option<String>,
    /// Its scopes (at least one).
    pub scopes: Scopes,
}

impl ApiKeyRequest {
    /// Validates the body; other keys are ignored.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(object) = expect_object(body, &mut errors, "") else {
            return Err(errors);
        };
        let name = string_field(object, "name", MAX_API_KEY_NAME_CHARS, &mut errors, "").value();
        let scopes = match object.get("scopes") {
            Some(Value::Array(items)) => {
                let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                match names.map(|names| Scopes::parse(&names.join(","))) {
                    Some(Ok(scopes)) if !names_contain_commas(items) => Some(scopes),
                    Some(Err(error)) => {
                        errors.push("scopes", error.to_string());
                        None
                    }
                    _ => {
                        errors.push("scopes", "must be a list of \"read\" and \"write\"");
                        None
                    }
                }
            }
            _ => {
                errors.push("scopes", "is required: a list of \"read\" and \"write\"");
                None
            }
        };
        match scopes {
            Some(scopes) => errors.into_result(ApiKeyRequest { name, scopes }),
            None => Err(errors),
        }
    }
}

/// A name holding a comma would be split into several by the comma-separated parser.
fn names_contain_commas(items: &[Value]) -> bool {
    items.iter().filter_map(Value::as_str).any(|name| name.contains(','))
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
        assert_eq!(secret.shown_prefix(), secret.expose()[..SHOWN_PREFIX_CHARS]);
        assert_eq!(secret.expose().len(), API_KEY_PREFIX.len() + API_KEY_RANDOM_LEN);
        assert_eq!(secret.hash(), hash_secret(secret.expose()));
        assert!(!format!("{secret:?}").contains("psk_live_"));
    }

    #[test]
    fn key_requests_need_known_scopes_as_a_list() {
        use serde_json::json;

        let parsed = ApiKeyRequest::parse(&json!({"name": "CI", "scopes": ["read"]})).unwrap();
        assert_eq!(parsed, ApiKeyRequest { name: Some("CI".into()), scopes: Scopes::READ });
        let both = ApiKeyRequest::parse(&json!({"scopes": ["write", "read"]})).unwrap();
        assert_eq!(both.scopes, Scopes::READ_WRITE);
        assert_eq!(serde_json::to_value(both.scopes).unwrap(), json!(["read", "write"]));
        for bad in [
            json!({}),
            json!({"scopes": "read"}),
            json!({"scopes": []}),
            json!({"scopes": ["admin"]}),
            json!({"scopes": [1]}),
            json!({"scopes": ["read,write"]}),
            json!({"scopes": ["read"], "name": 5}),
        ] {
            assert!(ApiKeyRequest::parse(&bad).is_err(), "{bad}");
        }
        assert!(Scopes::READ_WRITE.covers(Scopes::READ));
        assert!(!Scopes::READ.covers(Scopes::READ_WRITE));
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
