//! Sessions: the recorded work of one candidate in one tool, and the requests that create and change them.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::ids::{OrgId, SessionId};
use crate::json::{expect_object, object_field, string_field, Field, JsonObject};
use crate::signing::ChainStatus;
use crate::time::parse_timestamp;
use crate::validation::ValidationErrors;

/// Longest `sourceService` accepted, in characters (the same bound as an envelope's `source.integration`).
pub const MAX_SOURCE_SERVICE_CHARS: usize = 128;

/// Whether a session is still being recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum SessionStatus {
    /// No `endedAt` yet.
    Active,
    /// `endedAt` is set.
    Ended,
}

impl SessionStatus {
    /// The status as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Active => "active",
            SessionStatus::Ended => "ended",
        }
    }

    /// `ended` once there is an `endedAt`, `active` before.
    pub fn of(ended_at: Option<DateTime<Utc>>) -> Self {
        if ended_at.is_some() {
            SessionStatus::Ended
        } else {
            SessionStatus::Active
        }
    }
}

/// A session as reviewers see it: SessionObject of spec §3, which is how it serialises.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Session {
    /// The session's id.
    pub id: SessionId,
    /// The owning org.
    pub org_id: OrgId,
    /// The tool or integration that produced it (`claude-code`, `cursor`, …).
    pub source_service: Option<String>,
    /// `ended` once `endedAt` is set (see [`Session::end_at`]), `active` before.
    pub status: SessionStatus,
    /// Earliest event `ts`, or the creation time while there is no event.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub started_at: DateTime<Utc>,
    /// When it was closed; `None` while in progress.
    #[serde(with = "crate::time::api_format_opt")]
    #[cfg_attr(feature = "schema", schemars(with = "Option<crate::time::ApiTimestamp>"))]
    pub ended_at: Option<DateTime<Utc>>,
    /// Latest event `ts`, or the creation time while there is no event.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub last_activity_at: DateTime<Utc>,
    /// Number of timeline events.
    pub event_count: i64,
    /// Number of `decision_event`s.
    pub decision_flag_count: i64,
    /// The `aiAttributionPct` metric: 0–100 with one decimal; `None` until a file change is attributed.
    pub ai_attribution_pct: Option<f64>,
    /// Whether its signed record is intact (spec §10.2): `unsigned` while it has no signing key.
    pub chain_status: ChainStatus,
    /// Free-form metadata object.
    pub metadata: JsonObject,
    /// The assessment it is linked to through its candidate key.
    pub assessment_id: Option<String>,
    /// The candidate key it was created through, if any (never shown).
    #[serde(skip)]
    pub candidate_key_id: Option<String>,
    /// When the server first stored it.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub created_at: DateTime<Utc>,
    /// When the server last changed it.
    #[serde(with = "crate::time::api_format")]
    #[cfg_attr(feature = "schema", schemars(with = "crate::time::ApiTimestamp"))]
    pub updated_at: DateTime<Utc>,
}

impl Session {
    /// Sets (or, with `None`, clears) `endedAt`, and the status with it.
    pub fn end_at(&mut self, ended_at: Option<DateTime<Utc>>) {
        self.ended_at = ended_at;
        self.status = SessionStatus::of(ended_at);
    }
}

/// A validated `POST /v1/sessions` body.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSession {
    /// The id the client chose, if any (the server generates one otherwise).
    pub id: Option<SessionId>,
    /// The producing tool.
    pub source_service: Option<String>,
    /// Initial metadata, `{}` by default.
    pub metadata: JsonObject,
}

impl NewSession {
    /// Validates a request body: `{id?: UUID, sourceService?: string, metadata?: object}`; other keys are ignored.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(object) = expect_object(body, &mut errors, "") else {
            return Err(errors);
        };
        let id = match object.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => match SessionId::parse_uuid(text) {
                Ok(id) => Some(id),
                Err(error) => {
                    errors.push("id", error.to_string());
                    None
                }
            },
            Some(_) => {
                errors.push("id", "must be a UUID string");
                None
            }
        };
        let source_service =
            string_field(object, "sourceService", MAX_SOURCE_SERVICE_CHARS, &mut errors, "")
                .value();
        let metadata =
            object_field(object, "metadata", &mut errors, "").value().unwrap_or_default();
        errors.into_result(NewSession { id, source_service, metadata })
    }
}

/// A validated `PATCH /v1/sessions/:id` body.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionPatch {
    /// `None`: leave as is; `Some(None)`: reopen; `Some(Some(t))`: end at `t`.
    pub ended_at: Option<Option<DateTime<Utc>>>,
    /// `Some`: replace the metadata object whole.
    pub metadata: Option<JsonObject>,
}

impl SessionPatch {
    /// Validates `{endedAt?: timestamp | null, metadata?: object}`; other keys are ignored.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let Some(object) = expect_object(body, &mut errors, "") else {
            return Err(errors);
        };
        let ended_at = match object.get("endedAt") {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(text)) => match parse_timestamp(text) {
                Ok(instant) => Some(Some(instant)),
                Err(error) => {
                    errors.push("endedAt", error.to_string());
                    None
                }
            },
            Some(_) => {
                errors.push("endedAt", "must be a timestamp string or null");
                None
            }
        };
        let metadata = match object_field(object, "metadata", &mut errors, "") {
            Field::Absent => None,
            Field::Null => {
                errors.push("metadata", "must be a JSON object");
                None
            }
            Field::Value(metadata) => Some(metadata),
        };
        errors.into_result(SessionPatch { ended_at, metadata })
    }

    /// True when the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.ended_at.is_none() && self.metadata.is_none()
    }

    /// Checks the patch against the session it applies to (spec §10.1): a session cannot end before it started.
    pub fn check_against(&self, session: &Session) -> Result<(), ValidationErrors> {
        match self.ended_at {
            Some(Some(ended_at)) if ended_at < session.started_at => Err(ValidationErrors::one(
                "endedAt",
                format!(
                    "must not be earlier than the session's startedAt ({})",
                    crate::time::format_timestamp(&session.started_at)
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// A validated `PATCH /v1/sessions/:id/metadata` body: keys to set, and keys (given as `null`) to remove.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataMerge(JsonObject);

impl MetadataMerge {
    /// The body must be a JSON object.
    pub fn parse(body: &Value) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        match expect_object(body, &mut errors, "") {
            Some(object) => Ok(Self(object.clone())),
            None => Err(errors),
        }
    }

    /// The top-level keys the merge sets or removes.
    pub fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }

    /// Merges into `metadata`, top level only: each key is replaced, and a key whose new value is `null` removed.
    pub fn apply_to(&self, metadata: &mut JsonObject) {
        for (key, value) in &self.0 {
            if value.is_null() {
                metadata.remove(key);
            } else {
                metadata.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn new_session_defaults_and_canonical_id() {
        let parsed = NewSession::parse(&json!({})).unwrap();
        assert_eq!(
            parsed,
            NewSession { id: None, source_service: None, metadata: JsonObject::new() }
        );
        let parsed = NewSession::parse(&json!({
            "id": "6F9619FF-8B86-D011-B42D-00C04FC964FF",
            "sourceService": "cursor",
            "metadata": {"repo": "x"},
            "unknown": true
        }))
        .unwrap();
        assert_eq!(parsed.id.unwrap().as_str(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        assert_eq!(parsed.source_service.as_deref(), Some("cursor"));
        assert_eq!(parsed.metadata["repo"], "x");
    }

    #[test]
    fn new_session_reports_every_bad_field() {
        let errors = NewSession::parse(&json!({"id": "nope", "sourceService": 3, "metadata": []}))
            .unwrap_err();
        let paths: Vec<_> = errors.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["id", "sourceService", "metadata"]);
        assert!(NewSession::parse(&json!([1])).is_err());
        assert!(NewSession::parse(&json!({"sourceService": "x".repeat(129)})).is_err());
    }

    #[test]
    fn patch_distinguishes_absent_null_and_value() {
        assert!(SessionPatch::parse(&json!({})).unwrap().is_empty());
        assert_eq!(SessionPatch::parse(&json!({"endedAt": null})).unwrap().ended_at, Some(None));
        let ended = SessionPatch::parse(&json!({"endedAt": "2026-04-01T10:00:00+01:00"})).unwrap();
        assert_eq!(ended.ended_at.unwrap().unwrap().to_rfc3339(), "2026-04-01T09:00:00+00:00");
        assert!(SessionPatch::parse(&json!({"endedAt": "2026-04-01T10:00:00"})).is_err());
        assert!(SessionPatch::parse(&json!({"endedAt": 5})).is_err());
        assert!(SessionPatch::parse(&json!({"metadata": null})).is_err());
        assert!(SessionPatch::parse(&json!({"metadata": "x"})).is_err());
    }

    #[test]
    fn a_session_cannot_end_before_it_started() {
        let started_at = parse_timestamp("2026-04-01T10:00:00Z").unwrap();
        let session = Session {
            id: SessionId::from_stored("s".to_owned()),
            org_id: OrgId::new("o"),
            source_service: None,
            status: SessionStatus::Active,
            started_at,
            ended_at: None,
            last_activity_at: started_at,
            event_count: 0,
            decision_flag_count: 0,
            ai_attribution_pct: None,
            chain_status: ChainStatus::Unsigned,
            metadata: JsonObject::new(),
            assessment_id: None,
            candidate_key_id: None,
            created_at: started_at,
            updated_at: started_at,
        };
        let patch = |body: Value| SessionPatch::parse(&body).unwrap().check_against(&session);
        assert!(patch(json!({"endedAt": "2026-04-01T10:00:00Z"})).is_ok());
        assert!(patch(json!({"endedAt": "2026-04-01T12:00:00+02:00"})).is_ok(), "the same instant");
        assert!(patch(json!({"endedAt": null})).is_ok());
        assert!(patch(json!({"metadata": {}})).is_ok());
        let refused = patch(json!({"endedAt": "2026-04-01T09:59:59.999Z"})).unwrap_err();
        assert_eq!(refused.0[0].path, "endedAt");
        assert!(refused.0[0].message.contains("2026-04-01T10:00:00.000Z"), "{refused}");
    }

    #[test]
    fn merge_sets_replaces_and_removes_top_level_keys() {
        let mut metadata = json!({"a": 1, "b": {"x": 1}, "c": 3}).as_object().unwrap().clone();
        let merge = MetadataMerge::parse(&json!({"b": {"y": 2}, "c": null, "d": 4})).unwrap();
        merge.apply_to(&mut metadata);
        assert_eq!(Value::Object(metadata), json!({"a": 1, "b": {"y": 2}, "d": 4}));
        assert!(MetadataMerge::parse(&json!("x")).is_err());
    }
}
