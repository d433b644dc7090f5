//! Response envelopes: the JSON shapes of the spec that wrap domain types, which serialise themselves.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use traceline_domain::assessment::Assessment;
use traceline_domain::candidate_key::KeyAt;
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

impl JsonSchema for ApiTime {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "ApiTime".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        traceline_domain::time::ApiTimestamp::json_schema(generator)
    }
}

/// `{session}`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SessionEnvelope {
    /// The session.
    pub(crate) session: Session,
}

impl From<Session> for SessionEnvelope {
    fn from(session: Session) -> Self {
        SessionEnvelope { session }
    }
}

/// `{sessions, total, limit, offset}`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SessionListBody {
    /// The page.
    pub(crate) sessions: Vec<Session>,
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

/// `{assessment}`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct AssessmentEnvelope {
    /// The assessment.
    pub(crate) assessment: Assessment,
}

/// `{keys}`: KeyObjects, each with its status as of the response.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct KeyListBody<'a> {
    /// The keys.
    pub(crate) keys: Vec<KeyAt<'a>>,
}

/// Used where a schema needs a lifetime-free name for a borrowed body.
pub(crate) type KeyList = KeyListBody<'static>;
