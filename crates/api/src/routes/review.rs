//! What reviewers add to and derive from a session (spec §8): scores per dimension, and the artifacts derived
//! when it ends.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Serialize;
use serde_json::json;
use traceline_domain::json::JsonObject;
use traceline_domain::score::parse_scores;
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
use crate::state::AppState;

/// Registers the routes.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .service(web::resource("/v1/sessions/{id}/scores").get(list_scores).post(record_scores))
        .service(web::resource("/v1/sessions/{id}/artifacts").get(list_artifacts));
}

#[derive(Serialize)]
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

#[derive(Serialize)]
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
    Ok(HttpResponse::Ok().json(json!({"scores": bodies})))
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
    Ok(HttpResponse::Created().json(json!({"scores": bodies})))
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
    Ok(HttpResponse::Ok().json(json!({"artifacts": bodies})))
}
