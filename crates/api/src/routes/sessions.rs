//! The sessions API of spec §3: create, list, get, patch, merge metadata, delete.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::SystemTime;
use traceline_domain::audit::AuditAction;
use traceline_domain::session::MAX_SOURCE_SERVICE_CHARS;
use traceline_domain::time::{format_timestamp, to_storage_precision};

use traceline_domain::{
    MetadataMerge, NewSession, PageRule, Scope, SessionId, SessionPatch, SessionStatus,
    ValidationErrors,
};
use traceline_storage::candidate_keys;
use traceline_storage::outbox::{self, DeletionReason};
use traceline_storage::sessions::{self, NewSessionRecord, SessionFilter};
use uuid::Uuid;

use crate::audit_trail::Audit;
use crate::closed_record;
use crate::dto::{OkIdBody, SessionEnvelope, SessionListBody};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::rate_limit;
use crate::request::{json_body, offset_page, query_params};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::POST,
            "/v1/sessions",
            "createSession",
            "Create a session (a candidate's belongs to its key)",
            Access::Shared(Scope::Write),
            |route| route.to(create_session),
        )
        .body(new_session_schema(), json!({"sourceService": "claude-code", "metadata": {"repo": "acme/api"}}))
        .reply::<SessionEnvelope>(201, "The new session.")
        .creates(201, "id", "$response.body#/session/id")
        .refusal(403, CLOSED)
        .refusal(409, "A session with this id exists (in any org); the body repeats the id."),
        Endpoint::new(
            Method::GET,
            "/v1/sessions",
            "listSessions",
            "List the sessions the caller may see, newest first",
            Access::Shared(Scope::Read),
            |route| route.to(list_sessions),
        )
        .query("assessmentId", "Only sessions of this assessment.", json!({"type": "string"}))
        .query("sourceService", "Only sessions from this integration.", json!({"type": "string"}))
        .query(
            "status",
            "Only sessions in progress (active) or ended (ended).",
            json!({"enum": [SessionStatus::Active.as_str(), SessionStatus::Ended.as_str()]}),
        )
        .query(
            "q",
            "Only sessions whose id, tool, or candidate's name or e-mail contains this text (any case).",
            json!({"type": "string"}),
        )
        .paged(PageRule::SESSIONS)
        .reply::<SessionListBody>(200, "A page of sessions."),
        Endpoint::new(
            Method::GET,
            "/v1/sessions/{id}",
            "getSession",
            "Read a session",
            Access::Shared(Scope::Read),
            |route| route.to(get_session),
        )
        .reply::<SessionEnvelope>(200, "The session."),
        Endpoint::new(
            Method::PATCH,
            "/v1/sessions/{id}",
            "updateSession",
            "End or reopen a session, or replace its metadata",
            Access::Shared(Scope::Write),
            |route| route.to(update_session),
        )
        .body(session_patch_schema(), json!({"endedAt": "2026-04-01T10:15:00.000Z"}))
        .reply::<SessionEnvelope>(200, "The updated session.")
        .refusal(403, CLOSED),
        Endpoint::new(
            Method::DELETE,
            "/v1/sessions/{id}",
            "deleteSession",
            "Delete a session with its events, artifacts and scores",
            Access::Reviewer(Scope::Write),
            |route| route.to(delete_session),
        )
        .reply::<OkIdBody>(200, "Deleted."),
        Endpoint::new(
            Method::PATCH,
            "/v1/sessions/{id}/metadata",
            "mergeSessionMetadata",
            "Merge keys into a session's metadata (null removes a key)",
            Access::Shared(Scope::Write),
            |route| route.to(merge_session_metadata),
        )
        .body(
            json!({"type": "object", "description": "Top-level keys to set; a null value removes the key."}),
            json!({"reviewed": true, "draft": null}),
        )
        .reply::<SessionEnvelope>(200, "The updated session.")
        .refusal(403, CLOSED),
    ]
}

/// The 403 of the routes a candidate writes through.
const CLOSED: &str =
    "An API key without the scope, or (`session_closed`) a candidate whose record is closed.";

/// `POST /v1/sessions`, as `NewSession::parse` reads it.
fn new_session_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": {"type": ["string", "null"], "format": "uuid", "description": "Chosen by the server when absent."},
            "sourceService": {"type": ["string", "null"], "maxLength": MAX_SOURCE_SERVICE_CHARS},
            "metadata": {"type": ["object", "null"], "description": "{} when absent."},
        },
    })
}

/// `PATCH /v1/sessions/:id`, as `SessionPatch::parse` reads it.
fn session_patch_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "endedAt": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "Sets status ended; null reopens. The timestamp must carry an offset, lie \
                    between 1970 and 9999, and not be before the session's startedAt.",
            },
            "metadata": {"type": "object", "description": "Replaces the metadata."},
        },
    })
}

/// The filters of a session listing from its query parameters (the API names the assessment `assessmentId`, the
/// sessions page `assessment`); an unknown `status` is a 400.
pub(crate) fn session_filter(
    params: &HashMap<String, String>,
    assessment_param: &str,
) -> Result<SessionFilter, ApiError> {
    let non_empty = |name: &str| params.get(name).filter(|value| !value.is_empty()).cloned();
    let status = match params.get("status").map(String::as_str) {
        None | Some("") => None,
        Some("active") => Some(SessionStatus::Active),
        Some("ended") => Some(SessionStatus::Ended),
        Some(_) => {
            return Err(ApiError::InvalidQuery(ValidationErrors::one(
                "status",
                "must be active or ended",
            )))
        }
    };
    Ok(SessionFilter {
        assessment_id: non_empty(assessment_param),
        source_service: non_empty("sourceService"),
        status,
        text: non_empty("q"),
    })
}

/// A path segment that cannot be a session id names no session: 404, like any other unknown id.
fn session_id(path: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(path).map_err(|_| ApiError::not_found("session"))
}

/// The candidate key a write is made with, for the closed-record check; `None` for reviewers.
fn candidate_key_id(principal: &Principal) -> Option<String> {
    principal.candidate_key().map(|key| key.id.clone())
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
    // A candidate's new session costs one unit of its key's ingest budget (spec §9), charged before any work,
    // so creating sessions in a loop is throttled like posting events in one.
    let decision = match principal.candidate_key() {
        Some(key) => state.rate_limits.check_ingest(&key.id, 1, SystemTime::now())?,
        None => None,
    };
    let mut response = match insert_session(principal, state, body).await {
        Ok(response) => response,
        Err(error) => HttpResponse::from_error(error),
    };
    rate_limit::attach(&mut response, decision);
    Ok(response)
}

async fn insert_session(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request = NewSession::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let id = request.id.unwrap_or_else(|| SessionId::from_uuid(Uuid::new_v4()));
    // A candidate's session belongs to its key and assessment, and becomes the key's session if it has none.
    let candidate = match &principal {
        Principal::Candidate(key) => Some((key.id.clone(), key.assessment_id.clone())),
        Principal::Reviewer(_) => None,
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
    let audit = Audit::by(&principal, record.created_at);
    let created =
        closed_record::write(&state, record.candidate_key_id.clone(), move |connection| {
            let session = sessions::insert(connection, &record)?;
            if let Some(key_id) = &record.candidate_key_id {
                candidate_keys::link_session(connection, key_id, session.id.as_str())?;
            }
            audit.record(
                connection,
                AuditAction::SessionCreated,
                session.id.as_str(),
                json!({}),
            )?;
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
    let params = query_params(request.query_string())?;
    let page = offset_page(&params, PageRule::SESSIONS)?;
    let filter = session_filter(&params, "assessmentId")?;
    let scope = principal.session_scope();
    let found =
        state.read(move |connection| sessions::list(connection, &scope, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(SessionListBody {
        sessions: found.sessions,
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
    let id = session_id(&path)?;
    let patch = SessionPatch::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let scope = principal.session_scope();
    let now = to_storage_precision(Utc::now());
    let audit = Audit::by(&principal, now);
    let session = closed_record::write(&state, candidate_key_id(&principal), move |connection| {
        let session = sessions::update(connection, &scope, &id, &patch, now)?;
        if !patch.is_empty() {
            let details = json!({
                "endedAt": patch.ended_at.map(|ended| ended.map(|at| format_timestamp(&at))),
                "metadataReplaced": patch.metadata.is_some(),
            });
            audit.record(connection, AuditAction::SessionUpdated, id.as_str(), details)?;
        }
        Ok(session)
    })
    .await;
    Ok(HttpResponse::Ok().json(SessionEnvelope::from(session.map_err(session_not_found)?)))
}

async fn merge_session_metadata(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = session_id(&path)?;
    let merge = MetadataMerge::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let scope = principal.session_scope();
    let now = to_storage_precision(Utc::now());
    let audit = Audit::by(&principal, now);
    let session = closed_record::write(&state, candidate_key_id(&principal), move |connection| {
        let session = sessions::merge_metadata(connection, &scope, &id, &merge, now)?;
        let details = json!({"keys": merge.keys()});
        audit.record(connection, AuditAction::SessionMetadataMerged, id.as_str(), details)?;
        Ok(session)
    })
    .await;
    Ok(HttpResponse::Ok().json(SessionEnvelope::from(session.map_err(session_not_found)?)))
}

async fn delete_session(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = session_id(&path)?;
    let scope = principal.session_scope();
    let deleted_id = id.as_str().to_owned();
    let now = to_storage_precision(Utc::now());
    let audit = Audit::by(&principal, now);
    state
        .write(move |connection| {
            let session = sessions::get(connection, &scope, &id)?;
            sessions::delete(connection, &scope, &id)?;
            audit.record(connection, AuditAction::SessionDeleted, id.as_str(), json!({}))?;
            outbox::session_deleted(connection, &session, DeletionReason::Request, now)
        })
        .await
        .map_err(session_not_found)?;
    Ok(HttpResponse::Ok().json(OkIdBody { ok: true, id: deleted_id }))
}
