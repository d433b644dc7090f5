//! Response bodies: the JSON shapes of spec §3, built from domain types.

use chrono::{DateTime, Utc};
use serde::Serialize;
use traceline_domain::json::JsonObject;
use traceline_domain::time::format_timestamp;
use traceline_domain::Session;

/// A timestamp as every response prints it: UTC, milliseconds, `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ApiTime(pub DateTime<Utc>);

impl Serialize for ApiTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_timestamp(&self.0))
    }
}

/// SessionObject (spec §3).
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
pub(crate) struct OkIdBody {
    /// Always true.
    pub(crate) ok: bool,
    /// The affected resource.
    pub(crate) id: String,
}
