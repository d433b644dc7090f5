//! The audit log (spec §10.4): every state change a reviewer makes, with who made it, when, what and to which
//! resource. Entries are written in the transaction of the change and never changed afterwards.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::json::JsonObject;

/// What kind of credential acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum ActorType {
    /// An org API key.
    ApiKey,
    /// A reviewer's account (the web UI).
    User,
}

impl ActorType {
    /// The type as the API and storage spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorType::ApiKey => "apiKey",
            ActorType::User => "user",
        }
    }

    /// Reads a stored type.
    pub fn parse_stored(text: &str) -> Option<Self> {
        [ActorType::ApiKey, ActorType::User].into_iter().find(|kind| kind.as_str() == text)
    }
}

/// Who made a change: `{type, id, name}`. The name is copied into each entry, so the log still says who acted
/// after the key or user is renamed or gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditActor {
    /// An API key or a user.
    #[serde(rename = "type")]
    pub kind: ActorType,
    /// The key's or user's id.
    pub id: String,
    /// The key's name (its prefix when it has none) or the user's name, as it was then.
    pub name: Option<String>,
}

impl AuditActor {
    /// An org API key.
    pub fn api_key(id: impl Into<String>, name: Option<String>) -> Self {
        AuditActor { kind: ActorType::ApiKey, id: id.into(), name }
    }

    /// A reviewer's account.
    pub fn user(id: impl Into<String>, name: Option<String>) -> Self {
        AuditActor { kind: ActorType::User, id: id.into(), name }
    }
}

/// Every change the log records, each with the type of resource it targets: the one table the API's `action`
/// and `targetType` words come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// `POST /v1/assessments`.
    AssessmentCreated,
    /// `DELETE /v1/assessments/:id` (its keys go with it).
    AssessmentDeleted,
    /// A candidate key issued by `POST /v1/assessments/:id/keys`: one entry per key.
    CandidateKeyIssued,
    /// `DELETE /v1/assessments/:id/keys/:keyId`.
    CandidateKeyRevoked,
    /// `PATCH /v1/assessments/:id/keys/:keyId` with `{status: "hired"}`.
    CandidateKeyHired,
    /// `POST /v1/sessions` by a reviewer.
    SessionCreated,
    /// `PATCH /v1/sessions/:id` by a reviewer.
    SessionUpdated,
    /// `PATCH /v1/sessions/:id/metadata` by a reviewer.
    SessionMetadataMerged,
    /// `DELETE /v1/sessions/:id`.
    SessionDeleted,
    /// `POST /v1/sessions/:id/scores`.
    ScoresRecorded,
    /// `POST /v1/api-keys`.
    ApiKeyCreated,
    /// `DELETE /v1/api-keys/:id`.
    ApiKeyRevoked,
}

impl AuditAction {
    /// Every action, in the order the API documents them.
    pub const ALL: [AuditAction; 12] = [
        AuditAction::AssessmentCreated,
        AuditAction::AssessmentDeleted,
        AuditAction::CandidateKeyIssued,
        AuditAction::CandidateKeyRevoked,
        AuditAction::CandidateKeyHired,
        AuditAction::SessionCreated,
        AuditAction::SessionUpdated,
        AuditAction::SessionMetadataMerged,
        AuditAction::SessionDeleted,
        AuditAction::ScoresRecorded,
        AuditAction::ApiKeyCreated,
        AuditAction::ApiKeyRevoked,
    ];

    /// `(action, targetType)` as the API spells them.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            AuditAction::AssessmentCreated => ("assessment.created", "assessment"),
            AuditAction::AssessmentDeleted => ("assessment.deleted", "assessment"),
            AuditAction::CandidateKeyIssued => ("candidate_key.issued", "candidateKey"),
            AuditAction::CandidateKeyRevoked => ("candidate_key.revoked", "candidateKey"),
            AuditAction::CandidateKeyHired => ("candidate_key.hired", "candidateKey"),
            AuditAction::SessionCreated => ("session.created", "session"),
            AuditAction::SessionUpdated => ("session.updated", "session"),
            AuditAction::SessionMetadataMerged => ("session.metadata_merged", "session"),
            AuditAction::SessionDeleted => ("session.deleted", "session"),
            AuditAction::ScoresRecorded => ("scores.recorded", "session"),
            AuditAction::ApiKeyCreated => ("api_key.created", "apiKey"),
            AuditAction::ApiKeyRevoked => ("api_key.revoked", "apiKey"),
        }
    }

    /// The action's name, e.g. `candidate_key.hired`.
    pub fn as_str(self) -> &'static str {
        self.words().0
    }

    /// The type of resource it changes, e.g. `candidateKey`.
    pub fn target_type(self) -> &'static str {
        self.words().1
    }

    /// Reads a stored action name.
    pub fn parse_stored(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == text)
    }
}

/// One entry of the log, as `GET /v1/audit` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuditEntry {
    /// The entry's id (the cursor of `after`).
    pub id: String,
    /// When the change was made.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub at: DateTime<Utc>,
    /// Who made it.
    pub actor: AuditActor,
    /// What was done.
    #[serde(serialize_with = "serialize_action")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub action: AuditAction,
    /// The kind of resource changed.
    pub target_type: &'static str,
    /// The id of the resource changed.
    pub target_id: String,
    /// What changed, per action (for instance the scores given, or a key's scopes). Never a secret, and no
    /// candidate's name or e-mail, which must be erasable.
    pub details: JsonObject,
}

impl AuditEntry {
    /// A new entry for `action` by `actor` on `target_id` at `at`; `id` is the caller's fresh UUID.
    pub fn new(
        id: String,
        at: DateTime<Utc>,
        actor: &AuditActor,
        action: AuditAction,
        target_id: impl Into<String>,
        details: JsonObject,
    ) -> Self {
        AuditEntry {
            id,
            at,
            actor: actor.clone(),
            action,
            target_type: action.target_type(),
            target_id: target_id.into(),
            details,
        }
    }
}

fn serialize_action<S: serde::Serializer>(
    action: &AuditAction,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(action.as_str())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_action_reads_back_and_names_its_target() {
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse_stored(action.as_str()), Some(action));
            assert!(!action.target_type().is_empty());
        }
        assert_eq!(AuditAction::parse_stored("session.exploded"), None);
        assert_eq!(ActorType::parse_stored("apiKey"), Some(ActorType::ApiKey));
        assert_eq!(ActorType::parse_stored("user"), Some(ActorType::User));
    }

    #[test]
    fn an_entry_serialises_as_the_api_shows_it() {
        let at = DateTime::from_timestamp(1_775_000_000, 0).unwrap();
        let actor = AuditActor::api_key("k1", Some("CI".into()));
        let entry = AuditEntry::new(
            "e1".into(),
            at,
            &actor,
            AuditAction::CandidateKeyHired,
            "ck1",
            JsonObject::new(),
        );
        assert_eq!(
            serde_json::to_value(&entry).unwrap(),
            json!({
                "id": "e1", "at": "2026-03-31T23:33:20.000Z",
                "actor": {"type": "apiKey", "id": "k1", "name": "CI"},
                "action": "candidate_key.hired", "targetType": "candidateKey", "targetId": "ck1", "details": {},
            })
        );
        assert_eq!(serde_json::to_value(AuditActor::user("u", None)).unwrap()["type"], "user");
    }
}
