//! Assessments (spec §8): create, list, read, soft-delete.

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};
use traceline_domain::assessment::{
    Assessment, AssessmentSpec, DEFAULT_EXPIRES_IN_DAYS, KNOWN_TOOLS, MAX_EXPIRES_IN_DAYS,
    MAX_REPO_URL_CHARS, MAX_TASK_BRIEF_CHARS, MAX_TITLE_CHARS,
};
use traceline_domain::audit::AuditAction;
use traceline_domain::time::to_storage_precision;
use traceline_domain::Scope;
use traceline_storage::assessments;
use uuid::Uuid;

use crate::audit_trail::Audit;
use crate::dto::{AssessmentEnvelope, OkIdBody};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::request::json_body;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::POST,
            "/v1/assessments",
            "createAssessment",
            "Create an assessment",
            Access::Reviewer(Scope::Write),
            |route| route.to(create_assessment),
        )
        .body(
            assessment_schema(),
            json!({
                "title": "Rate limiter",
                "role": "Backend engineer",
                "taskBrief": "Add a token-bucket rate limiter to the API.",
                "repoUrl": "https://github.com/acme/api",
                "timeLimitMinutes": 90,
                "allowedTools": [KNOWN_TOOLS[0]],
            }),
        )
        .reply::<AssessmentEnvelope>(201, "The new assessment.")
        .creates(201, "id", "$response.body#/assessment/id"),
        Endpoint::new(
            Method::GET,
            "/v1/assessments",
            "listAssessments",
            "The org's assessments in creation order",
            Access::Reviewer(Scope::Read),
            |route| route.to(list_assessments),
        )
        .reply::<AssessmentListBody>(200, "The assessments, deleted ones left out."),
        Endpoint::new(
            Method::GET,
            "/v1/assessments/{id}",
            "getAssessment",
            "Read an assessment (a candidate reads its own)",
            Access::Shared(Scope::Read),
            |route| route.to(get_assessment),
        )
        .reply::<AssessmentEnvelope>(200, "The assessment."),
        Endpoint::new(
            Method::DELETE,
            "/v1/assessments/{id}",
            "deleteAssessment",
            "Soft-delete an assessment and revoke its keys",
            Access::Reviewer(Scope::Write),
            |route| route.to(delete_assessment),
        )
        .reply::<OkIdBody>(200, "Deleted."),
    ]
}

/// `POST /v1/assessments`, as `AssessmentSpec::parse` reads it.
fn assessment_schema() -> Value {
    let text =
        |max: usize| json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": "\\S"});
    json!({
        "type": "object",
        "required": ["title", "role", "taskBrief"],
        "properties": {
            "title": text(MAX_TITLE_CHARS),
            "role": text(MAX_TITLE_CHARS),
            "taskBrief": text(MAX_TASK_BRIEF_CHARS),
            "repoUrl": {"type": ["string", "null"], "format": "uri", "maxLength": MAX_REPO_URL_CHARS},
            "timeLimitMinutes": {"type": ["integer", "null"], "minimum": 1},
            "expiresInDays": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": MAX_EXPIRES_IN_DAYS,
                "default": DEFAULT_EXPIRES_IN_DAYS,
            },
            "allowedTools": {
                "type": ["array", "null"],
                "items": {"type": "string", "enum": KNOWN_TOOLS},
                "description": "null: any tool.",
            },
        },
    })
}

/// `{assessments}`.
#[derive(Serialize, JsonSchema)]
struct AssessmentListBody {
    assessments: Vec<Assessment>,
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
    let org_id = principal.org_id().clone();
    let spec = AssessmentSpec::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let assessment = Assessment {
        id: Uuid::now_v7().to_string(),
        org_id,
        spec,
        created_at: to_storage_precision(Utc::now()),
    };
    let stored = assessment.clone();
    let audit = Audit::by(&principal, assessment.created_at);
    state
        .write(move |connection| {
            assessments::insert(connection, &stored)?;
            let details = json!({"title": stored.spec.title});
            audit.record(connection, AuditAction::AssessmentCreated, &stored.id, details)
        })
        .await?;
    Ok(HttpResponse::Created().json(AssessmentEnvelope { assessment }))
}

async fn list_assessments(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let found = state.read(move |connection| assessments::list(connection, &org_id)).await?;
    Ok(HttpResponse::Ok().json(AssessmentListBody { assessments: found }))
}

async fn get_assessment(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    // A candidate may read its own assessment; any other id is as unknown to it as a missing one.
    if let Principal::Candidate(key) = &principal {
        if key.assessment_id != id {
            return Err(ApiError::not_found("assessment"));
        }
    }
    let org_id = principal.org_id().clone();
    let found = state.read(move |connection| assessments::get(connection, &org_id, &id)).await;
    let assessment = found.map_err(assessment_not_found)?;
    Ok(HttpResponse::Ok().json(AssessmentEnvelope { assessment }))
}

async fn delete_assessment(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let id = path.into_inner();
    let deleted_id = id.clone();
    let now = to_storage_precision(Utc::now());
    let audit = Audit::by(&principal, now);
    state
        .write(move |connection| {
            assessments::soft_delete(connection, &org_id, &id, now)?;
            audit.record(connection, AuditAction::AssessmentDeleted, &id, json!({}))
        })
        .await
        .map_err(assessment_not_found)?;
    // Its keys were revoked with it: they must stop working now, not when the cache expires.
    state.credentials.clear();
    Ok(HttpResponse::Ok().json(OkIdBody { ok: true, id: deleted_id }))
}
