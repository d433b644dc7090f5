//! What reviewers add to and derive from a session (spec §8): scores per dimension and reviewer, and the
//! artifacts derived when it ends.

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};
use traceline_domain::artifact::Artifact;
use traceline_domain::audit::AuditAction;
use traceline_domain::score::{
    parse_scores, Score, DIMENSIONS, MAX_NOTES_CHARS, MAX_SCORES_PER_REQUEST,
};
use traceline_domain::time::to_storage_precision;
use traceline_domain::Scope;
use traceline_storage::artifacts;
use traceline_storage::scores;
use traceline_storage::sessions;

use crate::audit_trail::Audit;
use crate::error::ApiError;
use crate::principal::Principal;
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
        .reply::<ScoresBody>(200, "Every reviewer's scores, by dimension, each with who gave it."),
        Endpoint::new(
            Method::POST,
            "/v1/sessions/{id}/scores",
            "recordScores",
            "Score a session: the caller's own score per dimension (upsert)",
            Access::Reviewer(Scope::Write),
            |route| route.to(record_scores),
        )
        .body(
            scores_schema(),
            json!([{"dimension": DIMENSIONS[0], "score": 4, "notes": "Split the work well"}]),
        )
        .reply::<ScoresBody>(201, "All of the session's scores, every reviewer's."),
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
    scores: Vec<Score>,
}

/// `{artifacts}`.
#[derive(Serialize, JsonSchema)]
struct ArtifactsBody {
    artifacts: Vec<Artifact>,
}

/// Scores are the reviewers' judgement of a candidate: candidates may neither read nor write them.
async fn list_scores(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let found = read_visible_session(&principal, &state, &path, |connection, session| {
        scores::list(connection, session.id.as_str())
    })
    .await?;
    Ok(HttpResponse::Ok().json(ScoresBody { scores: found }))
}

async fn record_scores(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = visible_session_id(&path)?;
    let inputs = parse_scores(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let scorer = principal
        .reviewer()
        .map(|reviewer| reviewer.actor.clone())
        .ok_or(ApiError::Forbidden("candidate credentials cannot use this route"))?;
    let scope = principal.session_scope();
    let now = to_storage_precision(Utc::now());
    let audit = Audit::by(&principal, now);
    let stored = state
        .write(move |connection| {
            sessions::get(connection, &scope, &id)?;
            scores::upsert(connection, id.as_str(), &scorer, &inputs, now)?;
            // The dimensions and scores given; notes stay with the scores, not in the log.
            let given: Vec<Value> = inputs
                .iter()
                .map(|input| json!({"dimension": input.dimension, "score": input.score}))
                .collect();
            audit.record(
                connection,
                AuditAction::ScoresRecorded,
                id.as_str(),
                json!({"scores": given}),
            )?;
            scores::list(connection, id.as_str())
        })
        .await
        .map_err(session_not_found)?;
    Ok(HttpResponse::Created().json(ScoresBody { scores: stored }))
}

async fn list_artifacts(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // Not among what spec §2 lets candidates read.
    let found = read_visible_session(&principal, &state, &path, |connection, session| {
        artifacts::list(connection, session.id.as_str())
    })
    .await?;
    Ok(HttpResponse::Ok().json(ArtifactsBody { artifacts: found }))
}
