//! Response bodies: the JSON shapes of spec §3, built from domain types.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use traceline_domain::assessment::Assessment;
use traceline_domain::candidate_key::CandidateKey;
use traceline_domain::json::JsonObject;
use traceline_domain::time::format_timestamp;
use traceline_domain::Session;
use traceline_storage::timeline::TimelineEvent;

/// A timestamp as every response prints it: UTC, milliseconds, `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ApiTime(pub DateTime<Utc>);

impl Serialize for ApiTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_timestamp(&self.0))
    }
}

impl JsonSchema for ApiTime {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "ApiTime".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339, UTC, milliseconds, Z: 2026-04-01T10:15:00.000Z",
        })
    }
}

/// SessionObject (spec §3).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionBody {
    id: String,
    org_id: String,
    source_service: Option<String>,
    status: &'static str,
    started_at: ApiTime,
    ended_at: Option<ApiTime>,
    last_activity_at: ApiTime,
    event_count: i64,
    decision_flag_count: i64,
    ai_attribution_pct: Option<f64>,
    metadata: JsonObject,
    assessment_id: Option<String>,
    created_at: ApiTime,
    updated_at: ApiTime,
}

impl From<Session> for SessionBody {
    fn from(session: Session) -> Self {
        SessionBody {
            status: session.status().as_str(),
            id: session.id.as_str().to_owned(),
            org_id: session.org_id.as_str().to_owned(),
            source_service: session.source_service,
            started_at: ApiTime(session.started_at),
            ended_at: session.ended_at.map(ApiTime),
            last_activity_at: ApiTime(session.last_activity_at),
            event_count: session.event_count,
            decision_flag_count: session.decision_flag_count,
            ai_attribution_pct: session.ai_attribution_pct,
            metadata: session.metadata,
            assessment_id: session.assessment_id,
            created_at: ApiTime(session.created_at),
            updated_at: ApiTime(session.updated_at),
        }
    }
}

/// `{session}`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SessionEnvelope {
    /// The session.
    pub(crate) session: SessionBody,
}

impl From<Session> for SessionEnvelope {
    fn from(session: Session) -> Self {
        SessionEnvelope { session: session.into() }
    }
}

/// `{sessions, total, limit, offset}`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SessionListBody {
    /// The page.
    pub(crate) sessions: Vec<SessionBody>,
    /// Matching sessions in all.
    pub(crate) total: i64,
    /// The clamped limit.
    pub(crate) limit: i64,
    /// The offset.
    pub(crate) offset: i64,
}

/// `{"ok": true, "id": …}`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct OkIdBody {
    /// Always true.
    pub(crate) ok: bool,
    /// The affected resource.
    pub(crate) id: String,
}

/// An assessment (spec §8).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AssessmentBody {
    id: String,
    org_id: String,
    title: String,
    role: String,
    task_brief: String,
    repo_url: Option<String>,
    time_limit_minutes: Option<i64>,
    expires_in_days: i64,
    allowed_tools: Option<Vec<String>>,
    created_at: ApiTime,
}

impl From<Assessment> for AssessmentBody {
    fn from(assessment: Assessment) -> Self {
        let spec = assessment.spec;
        AssessmentBody {
            id: assessment.id,
            org_id: assessment.org_id.as_str().to_owned(),
            title: spec.title,
            role: spec.role,
            task_brief: spec.task_brief,
            repo_url: spec.repo_url,
            time_limit_minutes: spec.time_limit_minutes,
            expires_in_days: spec.expires_in_days,
            allowed_tools: spec.allowed_tools,
            created_at: ApiTime(assessment.created_at),
        }
    }
}

/// KeyObject (spec §8), with its status as of the moment of the response.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyBody {
    id: String,
    key: String,
    assessment_id: String,
    candidate_name: Option<String>,
    candidate_email: Option<String>,
    status: &'static str,
    session_id: Option<String>,
    expires_at: ApiTime,
    redeemed_at: Option<ApiTime>,
    completed_at: Option<ApiTime>,
    created_at: ApiTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    assessment_title: Option<String>,
}

impl KeyBody {
    /// The key as seen at `now`.
    pub(crate) fn at(key: CandidateKey, now: DateTime<Utc>) -> Self {
        KeyBody {
            status: key.status_at(now).as_str(),
            id: key.id,
            key: key.key,
            assessment_id: key.assessment_id,
            candidate_name: key.candidate_name,
            candidate_email: key.candidate_email,
            session_id: key.session_id,
            expires_at: ApiTime(key.expires_at),
            redeemed_at: key.redeemed_at.map(ApiTime),
            completed_at: key.completed_at.map(ApiTime),
            created_at: ApiTime(key.created_at),
            assessment_title: None,
        }
    }

    /// The same, joined with its assessment's title (`GET /v1/candidates`).
    pub(crate) fn with_title(mut self, title: String) -> Self {
        self.assessment_title = Some(title);
        self
    }
}

/// `{assessment}`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AssessmentEnvelope {
    /// The assessment.
    pub(crate) assessment: AssessmentBody,
}

/// `{keys}`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct KeyListBody {
    /// The keys.
    pub(crate) keys: Vec<KeyBody>,
}

/// TimelineEvent (spec §5).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TimelineEventBody {
    id: String,
    session_id: String,
    kind: String,
    ts: ApiTime,
    source: JsonObject,
    actor: JsonObject,
    provenance: JsonObject,
    data: JsonObject,
    created_at: ApiTime,
}

impl From<TimelineEvent> for TimelineEventBody {
    fn from(event: TimelineEvent) -> Self {
        TimelineEventBody {
            id: event.id,
            session_id: event.session_id,
            kind: event.kind,
            ts: ApiTime(event.ts),
            source: event.source,
            actor: event.actor,
            provenance: event.provenance,
            data: event.data,
            created_at: ApiTime(event.created_at),
        }
    }
}
