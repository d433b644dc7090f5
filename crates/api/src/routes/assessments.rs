//! Assessments (spec §8): create, list, read, soft-delete.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde_json::json;
use traceline_domain::assessment::{Assessment, AssessmentSpec};
use traceline_domain::time::to_storage_precision;
use traceline_domain::Scope;
use traceline_storage::assessments;
use uuid::Uuid;

use crate::auth::Principal;
use crate::dto::{AssessmentBody, OkIdBody};
use crate::error::ApiError;
use crate::request::json_body;
use crate::state::AppState;

/// Registers the routes.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .service(web::resource("/v1/assessments").get(list_assessments).post(create_assessment))
        .service(
            web::resource("/v1/assessments/{id}").get(get_assessment).delete(delete_assessment),
        );
}

/// 404s from this resource say what was missing.
pub(crate) fn assessment_not_found(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::not_found("assessment"),
        other => other,
    }
}

async fn create_assessment(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.require_reviewer(Scope::Write)?.clone();
    let spec = AssessmentSpec::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let assessment = Assessment {
        id: Uuid::now_v7().to_string(),
        org_id,
        spec,
        created_at: to_storage_precision(Utc::now()),
    };
    let stored = assessment.clone();
    state.write(move |connection| assessments::insert(connection, &stored)).await?;
    Ok(HttpResponse::Created().json(json!({"assessment": AssessmentBody::from(assessment)})))
}

async fn list_assessments(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.require_reviewer(Scope::Read)?.clone();
    let found = state.read(move |connection| assessments::list(connection, &org_id)).await?;
    let bodies: Vec<AssessmentBody> = found.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(json!({"assessments": bodies})))
}

async fn get_assessment(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::Read)?;
    let id = path.into_inner();
    // A candidate may read its own assessment; any other id is as unknown to it as a missing one.
    if let Principal::Candidate(key) = &principal {
        if key.assessment_id != id {
            return Err(ApiError::not_found("assessment"));
        }
    }
    let org_id = principal.org_id().clone();
    let found = state.read(move |connection| assessments::get(connection, &org_id, &id)).await;
    Ok(HttpResponse::Ok()
        .json(json!({"assessment": AssessmentBody::from(found.map_err(assessment_not_found)?)})))
}

async fn delete_assessment(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.require_reviewer(Scope::Write)?.clone();
    let id = path.into_inner();
    let deleted_id = id.clone();
    let now = to_storage_precision(Utc::now());
    state
        .write(move |connection| assessments::soft_delete(connection, &org_id, &id, now))
        .await
        .map_err(assessment_not_found)?;
    // Its keys were revoked with it: they must stop working now, not when the cache expires.
    state.credentials.clear();
    Ok(HttpResponse::Ok().json(OkIdBody { ok: true, id: deleted_id }))
}
