//! The sessions API of spec §3: create, list, get, patch, merge metadata, delete.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use traceline_domain::time::to_storage_precision;
use traceline_domain::{MetadataMerge, NewSession, PageRule, Scope, SessionId, SessionPatch};
use traceline_storage::candidate_keys;
use traceline_storage::sessions::{self, NewSessionRecord, SessionFilter};
use uuid::Uuid;

use crate::auth::Principal;
use crate::dto::{OkIdBody, SessionEnvelope, SessionListBody};
use crate::error::ApiError;
use crate::request::{json_body, query_params};
use crate::state::AppState;

/// Registers the routes.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .service(web::resource("/v1/sessions").get(list_sessions).post(create_session))
        .service(
            web::resource("/v1/sessions/{id}")
                .get(get_session)
                .patch(update_session)
                .delete(delete_session),
        )
        .service(web::resource("/v1/sessions/{id}/metadata").patch(merge_session_metadata));
}

/// A path segment that cannot be a session id names no session: 404, like any other unknown id.
fn session_id(path: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(path).map_err(|_| ApiError::not_found("session"))
}

fn session_not_found(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::not_found("session"),
        other => other,
    }
}

async fn create_session(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::Write)?;
    let request = NewSession::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let id = request.id.unwrap_or_else(|| SessionId::from_uuid(Uuid::new_v4()));
    // A candidate's session belongs to its key and assessment, and becomes the key's session if it has none.
    let candidate = match &principal {
        Principal::Candidate(key) => Some((key.id.clone(), key.assessment_id.clone())),
        Principal::Reviewer { .. } => None,
    };
    let record = NewSessionRecord {
        id: id.clone(),
        org_id: principal.org_id().clone(),
        candidate_key_id: candidate.as_ref().map(|(key_id, _)| key_id.clone()),
        assessment_id: candidate.map(|(_, assessment_id)| assessment_id),
        source_service: request.source_service,
        metadata: request.metadata,
        created_at: to_storage_precision(Utc::now()),
    };
    let created = state.write(move |connection| {
        let session = sessions::insert(connection, &record)?;
        if let Some(key_id) = &record.candidate_key_id {
            candidate_keys::link_session(connection, key_id, session.id.as_str())?;
        }
        Ok(session)
    });
    match created.await {
        Ok(session) => Ok(HttpResponse::Created().json(SessionEnvelope::from(session))),
        Err(ApiError::Conflict(_)) => Err(ApiError::SessionExists { id: id.as_str().to_owned() }),
        Err(other) => Err(other),
    }
}

async fn list_sessions(
    principal: Principal,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::Read)?;
    let params = query_params(request.query_string())?;
    let page = PageRule::SESSIONS
        .page(params.get("limit").map(String::as_str), params.get("offset").map(String::as_str))
        .map_err(ApiError::InvalidQuery)?;
    let filter = SessionFilter {
        assessment_id: params.get("assessmentId").cloned(),
        source_service: params.get("sourceService").cloned(),
    };
    let scope = principal.session_scope();
    let found =
        state.read(move |connection| sessions::list(connection, &scope, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(SessionListBody {
        sessions: found.sessions.into_iter().map(Into::into).collect(),
        total: found.total,
        limit: page.limit,
        offset: page.offset,
    }))
}

async fn get_session(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::Read)?;
    let id = session_id(&path)?;
    let scope = principal.session_scope();
    let session = state.read(move |connection| sessions::get(connection, &scope, &id)).await;
    Ok(HttpResponse::Ok().json(SessionEnvelope::from(session.map_err(session_not_found)?)))
}

async fn update_session(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::Write)?;
    let id = session_id(&path)?;
    let patch = SessionPatch::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let scope = principal.session_scope();
    let now = to_storage_precision(Utc::now());
    let session =
        state.write(move |connection| sessions::update(connection, &scope, &id, &patch, now)).await;
    Ok(HttpResponse::Ok().json(SessionEnvelope::from(session.map_err(session_not_found)?)))
}

async fn merge_session_metadata(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::Write)?;
    let id = session_id(&path)?;
    let merge = MetadataMerge::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let scope = principal.session_scope();
    let now = to_storage_precision(Utc::now());
    let session = state
        .write(move |connection| sessions::merge_metadata(connection, &scope, &id, &merge, now))
        .await;
    Ok(HttpResponse::Ok().json(SessionEnvelope::from(session.map_err(session_not_found)?)))
}

async fn delete_session(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require_reviewer(Scope::Write)?;
    let id = session_id(&path)?;
    let scope = principal.session_scope();
    let deleted_id = id.as_str().to_owned();
    state
        .write(move |connection| sessions::delete(connection, &scope, &id))
        .await
        .map_err(session_not_found)?;
    Ok(HttpResponse::Ok().json(OkIdBody { ok: true, id: deleted_id }))
}
