//! Identifiers: opaque org ids, session ids that are either UUIDs or short client-chosen strings, and event ids.

use std::fmt;

use uuid::Uuid;

/// The tenant's id. Opaque: the server creates UUIDs, but nothing may rely on that.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(transparent))]
pub struct OrgId(String);

impl OrgId {
    /// Wraps a stored or freshly generated org id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a string is not a valid session id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSessionId {
    /// A route that creates sessions explicitly takes UUIDs only.
    #[error("must be a UUID")]
    NotUuid,
    /// Free-form ids (from ingest) are limited in length and alphabet.
    #[error("must be a UUID or 1-128 characters from A-Z, a-z, 0-9, '.', '_', ':' and '-'")]
    Malformed,
}

/// A session's id: a UUID in canonical form (lower-case, hyphenated), or a client's own short token.
///
/// UUIDs are canonicalised on parse so that `POST /v1/sessions` and ingest agree on one spelling of the same id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(transparent))]
pub struct SessionId(String);

/// Longest accepted free-form session id, in bytes (the alphabet is ASCII).
pub const MAX_SESSION_ID_LEN: usize = 128;

impl SessionId {
    /// Accepts a UUID (any form the `uuid` crate reads) or 1–128 characters of `[A-Za-z0-9._:-]`.
    pub fn parse(text: &str) -> Result<Self, InvalidSessionId> {
        if let Ok(uuid) = Uuid::try_parse(text) {
            return Ok(Self::from_uuid(uuid));
        }
        let well_formed = !text.is_empty()
            && text.len() <= MAX_SESSION_ID_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidSessionId::Malformed)
        }
    }

    /// Accepts UUIDs only, as `POST /v1/sessions` requires.
    pub fn parse_uuid(text: &str) -> Result<Self, InvalidSessionId> {
        Uuid::try_parse(text).map(Self::from_uuid).map_err(|_| InvalidSessionId::NotUuid)
    }

    /// The canonical id of a UUID.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid.hyphenated().to_string())
    }

    /// Wraps an id read back from storage, where it was validated on the way in.
    pub fn from_stored(id: String) -> Self {
        Self(id)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a string is not a valid event id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a UUID")]
pub struct InvalidEventId;

/// A timeline event's id: the envelope's `id`, chosen by the client and used as the ingest idempotency key.
///
/// Always a UUID, kept in canonical form (lower-case, hyphenated) so that a retry spelling the same UUID in
/// upper case or without hyphens is recognised as the same event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(transparent))]
pub struct EventId(String);

impl EventId {
    /// Accepts a UUID in any form the `uuid` crate reads (hyphenated, simple, braced, URN; any case).
    pub fn parse(text: &str) -> Result<Self, InvalidEventId> {
        Uuid::try_parse(text).map(Self::from_uuid).map_err(|_| InvalidEventId)
    }

    /// The canonical id of a UUID.
    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid.hyphenated().to_string())
    }

    /// Wraps an id read back from storage, where it was validated on the way in.
    pub fn from_stored(id: String) -> Self {
        Self(id)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_canonicalised() {
        let id = SessionId::parse("6F9619FF-8B86-D011-B42D-00C04FC964FF").unwrap();
        assert_eq!(id.as_str(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        let simple = SessionId::parse("6f9619ff8b86d011b42d00c04fc964ff").unwrap();
        assert_eq!(simple, id);
    }

    #[test]
    fn free_form_ids_follow_the_alphabet() {
        assert_eq!(SessionId::parse("run-42:step_1.a").unwrap().as_str(), "run-42:step_1.a");
        assert_eq!(SessionId::parse(""), Err(InvalidSessionId::Malformed));
        assert_eq!(SessionId::parse("has space"), Err(InvalidSessionId::Malformed));
        assert_eq!(SessionId::parse("slash/y"), Err(InvalidSessionId::Malformed));
        assert_eq!(SessionId::parse("é"), Err(InvalidSessionId::Malformed));
        assert!(SessionId::parse(&"a".repeat(128)).is_ok());
        assert_eq!(SessionId::parse(&"a".repeat(129)), Err(InvalidSessionId::Malformed));
    }

    #[test]
    fn explicit_creation_takes_uuids_only() {
        assert_eq!(SessionId::parse_uuid("run-42"), Err(InvalidSessionId::NotUuid));
        assert!(SessionId::parse_uuid("6f9619ff-8b86-d011-b42d-00c04fc964ff").is_ok());
    }

    #[test]
    fn event_ids_are_canonical_uuids() {
        let canonical = "6f9619ff-8b86-d011-b42d-00c04fc964ff";
        for spelling in [
            canonical,
            "6F9619FF-8B86-D011-B42D-00C04FC964FF",
            "6f9619ff8b86d011b42d00c04fc964ff",
            "{6f9619ff-8b86-d011-b42d-00c04fc964ff}",
            "urn:uuid:6f9619ff-8b86-d011-b42d-00c04fc964ff",
        ] {
            assert_eq!(EventId::parse(spelling).unwrap().as_str(), canonical, "{spelling}");
        }
        assert_eq!(EventId::parse("evt-1"), Err(InvalidEventId));
        assert_eq!(EventId::parse(""), Err(InvalidEventId));
        assert_eq!(EventId::parse("6f9619ff-8b86-d011-b42d-00c04fc964f"), Err(InvalidEventId));
    }
}
