//! What reviewers add to and derive from a session (spec §8): scores per dimension, and the artifacts derived
//! when it ends.

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};
use traceline_domain::json::JsonObject;
use traceline_domain::score::{parse_scores, DIMENSIONS, MAX_NOTES_CHARS, MAX_SCORES_PER_REQUEST};
use traceline_domain::time::to_storage_precision;
use traceline_domain::Scope;
use traceline_storage::artifacts::{self, Artifact};
use traceline_storage::scores::{self, Score};
use traceline_storage::sessions;

use crate::auth::Principal;
use crate::dto::ApiTime;
use crate::error::ApiError;
use crate::request::json_body;
use crate::routes::timeline::{read_visible_session, session_not_found, visible_session_id};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::GET,
            "/v1/sessions/{id}/scores",
            "listScores",
            "A session's scores",
            Access::Reviewer(Scope::Read),
            |route| route.to(list_scores),
        )
        .reply::<ScoresBody>(200, "One score per dimension scored."),
        Endpoint::new(
            Method::POST,
            "/v1/sessions/{id}/scores",
            "recordScores",
            "Score a session, one score per dimension (upsert)",
            Access::Reviewer(Scope::Write),
            |route| route.to(record_scores),
        )
        .body(
            scores_schema(),
            json!([{"dimension": DIMENSIONS[0], "score": 4, "notes": "Split the work well"}]),
        )
        .reply::<ScoresBody>(201, "All of the session's scores."),
        Endpoint::new(
            Method::GET,
            "/v1/sessions/{id}/artifacts",
            "listArtifacts",
            "What was derived from a session when it ended",
            Access::Reviewer(Scope::Read),
            |route| route.to(list_artifacts),
        )
        .reply::<ArtifactsBody>(200, "The artifacts."),
    ]
}

/// `POST /v1/sessions/:id/scores`, as `parse_scores` reads it.
fn scores_schema() -> Value {
    json!({
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_SCORES_PER_REQUEST,
        "items": {
            "type": "object",
            "required": ["dimension", "score"],
            "properties": {
                "dimension": {"type": "string", "enum": DIMENSIONS},
                "score": {"type": "integer", "minimum": 1, "maximum": 5},
                "notes": {"type": ["string", "null"], "maxLength": MAX_NOTES_CHARS},
            },
        },
    })
}

/// `{scores}`.
#[derive(Serialize, JsonSchema)]
struct ScoresBody {
    scores: Vec<ScoreBody>,
}

/// `{artifacts}`.
#[derive(Serialize, JsonSchema)]
struct ArtifactsBody {
    artifacts: Vec<ArtifactBody>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ScoreBody {
    id: String,
    session_id: String,
    dimension: String,
    score: i64,
    notes: Option<String>,
    created_at: ApiTime,
    updated_at: ApiTime,
}

impl From<Score> for ScoreBody {
    fn from(score: Score) -> Self {
        ScoreBody {
            id: score.id,
            session_id: score.session_id,
            dimension: score.dimension,
            score: score.score,
            notes: score.notes,
            created_at: ApiTime(score.created_at),
            updated_at: ApiTime(score.updated_at),
        }
    }
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ArtifactBody {
    id: String,
    session_id: String,
    kind: String,
    data: JsonObject,
    derivation_v: i64,
    created_at: ApiTime,
}

impl From<Artifact> for ArtifactBody {
    fn from(artifact: Artifact) -> Self {
        ArtifactBody {
            id: artifact.id,
            session_id: artifact.session_id,
            kind: artifact.kind,
            data: artifact.data,
            derivation_v: artifact.derivation_v,
            created_at: ApiTime(artifact.created_at),
        }
    }
}

/// Scores are the reviewers' judgement of a candidate: candidates may neither read nor write them.
async fn list_scores(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require_reviewer(Scope::Read)?;
    let found = read_visible_session(&principal, &state, &path, |connection, session| {
        scores::list(connection, session.id.as_str())
    })
    .await?;
    let bodies: Vec<ScoreBody> = found.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(ScoresBody { scores: bodies }))
}

async fn record_scores(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    principal.require_reviewer(Scope::Write)?;
    let id = visible_session_id(&path)?;
    let inputs = parse_scores(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let scope = principal.session_scope();
    let now = to_storage_precision(Utc::now());
    let stored = state
        .write(move |connection| {
            sessions::get(connection, &scope, &id)?;
            scores::upsert(connection, id.as_str(), &inputs, now)?;
            scores::list(connection, id.as_str())
        })
        .await
        .map_err(session_not_found)?;
    let bodies: Vec<ScoreBody> = stored.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Created().json(ScoresBody { scores: bodies }))
}

async fn list_artifacts(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // Not among what spec §2 lets candidates read.
    principal.require_reviewer(Scope::Read)?;
    let found = read_visible_session(&principal, &state, &path, |connection, session| {
        artifacts::list(connection, session.id.as_str())
    })
    .await?;
    let bodies: Vec<ArtifactBody> = found.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(ArtifactsBody { artifacts: bodies }))
}
