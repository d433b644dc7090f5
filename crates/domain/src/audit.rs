//! The audit log (spec §10.4): every state change a reviewer makes, with who made it (an [`ActorRef`]: a user or
//! an API key, with the name it had then), when, what and to which resource. Entries are written in the
//! transaction of the change and never changed afterwards.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::actor_ref::ActorRef;
use crate::candidate_key::KeyStatus;
use crate::json::JsonObject;

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
    /// `PATCH /v1/assessments/:id/keys/:keyId` with `{status: "rejected"}`.
    CandidateKeyRejected,
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
    /// `POST /v1/users`.
    UserCreated,
    /// `PATCH /v1/users/:id`: disabled, enabled, or given another role.
    UserUpdated,
    /// `POST /v1/me/password`: a user changed their own password.
    UserPasswordChanged,
}

impl AuditAction {
    /// Every action, in the order the API documents them.
    pub const ALL: [AuditAction; 16] = [
        AuditAction::AssessmentCreated,
        AuditAction::AssessmentDeleted,
        AuditAction::CandidateKeyIssued,
        AuditAction::CandidateKeyRevoked,
        AuditAction::CandidateKeyHired,
        AuditAction::CandidateKeyRejected,
        AuditAction::SessionCreated,
        AuditAction::SessionUpdated,
        AuditAction::SessionMetadataMerged,
        AuditAction::SessionDeleted,
        AuditAction::ScoresRecorded,
        AuditAction::ApiKeyCreated,
        AuditAction::ApiKeyRevoked,
        AuditAction::UserCreated,
        AuditAction::UserUpdated,
        AuditAction::UserPasswordChanged,
    ];

    /// `(action, targetType)` as the API spells them.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            AuditAction::AssessmentCreated => ("assessment.created", "assessment"),
            AuditAction::AssessmentDeleted => ("assessment.deleted", "assessment"),
            AuditAction::CandidateKeyIssued => ("candidate_key.issued", "candidateKey"),
            AuditAction::CandidateKeyRevoked => ("candidate_key.revoked", "candidateKey"),
            AuditAction::CandidateKeyHired => ("candidate_key.hired", "candidateKey"),
            AuditAction::CandidateKeyRejected => ("candidate_key.rejected", "candidateKey"),
            AuditAction::SessionCreated => ("session.created", "session"),
            AuditAction::SessionUpdated => ("session.updated", "session"),
            AuditAction::SessionMetadataMerged => ("session.metadata_merged", "session"),
            AuditAction::SessionDeleted => ("session.deleted", "session"),
            AuditAction::ScoresRecorded => ("scores.recorded", "session"),
            AuditAction::ApiKeyCreated => ("api_key.created", "apiKey"),
            AuditAction::ApiKeyRevoked => ("api_key.revoked", "apiKey"),
            AuditAction::UserCreated => ("user.created", "user"),
            AuditAction::UserUpdated => ("user.updated", "user"),
            AuditAction::UserPasswordChanged => ("user.password_changed", "user"),
        }
    }

    /// The action recording a reviewer's decision on a candidate (`hired` or `rejected`, spec §10.1).
    pub fn decision(status: KeyStatus) -> Self {
        match status {
            KeyStatus::Rejected => AuditAction::CandidateKeyRejected,
            _ => AuditAction::CandidateKeyHired,
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
    pub actor: ActorRef,
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
        actor: &ActorRef,
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
    }

    #[test]
    fn an_entry_serialises_as_the_api_shows_it() {
        let at = DateTime::from_timestamp(1_775_000_000, 0).unwrap();
        let actor = ActorRef::api_key("k1", "CI");
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
    }
}
