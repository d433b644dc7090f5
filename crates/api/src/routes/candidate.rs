//! The candidate's side (spec §8): redeem a key for a session and a token, and say the work is complete.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};
use traceline_domain::candidate_key::{
    parse_redeem_request, KeyStatus, RedeemRequest, SessionToken, MAX_CANDIDATE_NAME_CHARS,
};
use traceline_domain::json::JsonObject;
use traceline_domain::time::to_storage_precision;
use traceline_domain::{SessionId, SessionPatch, ValidationErrors};
use traceline_storage::sessions::{self, KeyOffer, NewSessionRecord};
use traceline_storage::SessionScope;
use traceline_storage::{artifacts, assessments, candidate_keys, AnyConnection, StorageError};
use uuid::Uuid;

use crate::access::Candidate;
use crate::auth::{failed, refuse_blocked_client};
use crate::dto::ApiTime;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::random::os_random;
use crate::request::json_body;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::POST,
            "/v1/candidate/redeem",
            "redeemKey",
            "Trade a candidate key for a session and a session token",
            Access::Public,
            |route| route.to(redeem),
        )
        .body(
            json!({
                "type": "object",
                "required": ["key"],
                "properties": {
                    "key": {"type": "string", "description": "PST-XXXX-XXXX, any case."},
                    "candidateName": {"type": ["string", "null"], "maxLength": MAX_CANDIDATE_NAME_CHARS},
                    "signingPubKey": {
                        "type": ["string", "null"],
                        "description": "Base64 of the raw 32-byte Ed25519 public key the client signs its \
                            events with. The session keeps the first key it is given.",
                    },
                },
            }),
            json!({"key": "PST-ABCD-EFGH", "candidateName": "Ada"}),
        )
        .reply::<RedeemBody>(200, "The session and its token.")
        .carries_secret()
        .refusal(401, "Unknown, revoked or expired key.")
        .refusal(
            409,
            "The key was completed; or the session already has another signing key, or events no key \
             covered.",
        ),
        Endpoint::new(
            Method::POST,
            "/v1/candidate/complete",
            "completeSession",
            "Say the work is done: the key completes and the session ends",
            Access::Candidate,
            |route| route.to(complete),
        )
        .body(
            json!({
                "type": "object",
                "required": ["sessionId"],
                "properties": {"sessionId": {"type": "string"}},
            }),
            json!({"sessionId": "0195f3a2-7c1e-7b3a-9f00-000000000001"}),
        )
        .refusal(404, "No session of this candidate has this id.")
        .reply::<CompletedBody>(200, "Completed."),
    ]
}

/// `{"ok": true, "completedAt"}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CompletedBody {
    /// Always true.
    ok: bool,
    completed_at: Option<ApiTime>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct RedeemBody {
    session_id: String,
    session_token: String,
    assessment_id: String,
    assessment_title: String,
    task_brief: String,
    repo_url: Option<String>,
    time_limit_minutes: Option<i64>,
    expires_at: ApiTime,
    allowed_tools: Option<Vec<String>>,
}

/// Why a redeem was refused, decided inside the transaction.
enum Redeemed {
    Ok(Box<RedeemBody>),
    Refused,
    AlreadyCompleted,
    SigningKey(KeyOffer),
}

async fn redeem(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // Redeem reads a credential like every other route, so guessing keys here is limited the same way.
    refuse_blocked_client(&request, &state)?;
    let RedeemRequest { key, candidate_name, signing_key } =
        parse_redeem_request(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    // Something that cannot be a key is answered like an unknown one.
    let key = key.ok_or_else(|| failed(&request, &state))?;
    let token =
        SessionToken::generate(&mut os_random).map_err(|error| ApiError::Internal(error.into()))?;
    let now = to_storage_precision(Utc::now());
    let outcome = state
        .write(move |connection| {
            let Some(candidate) = candidate_keys::find_by_key(connection, &key)? else {
                return Ok(Redeemed::Refused);
            };
            match candidate.status_at(now) {
                KeyStatus::Expired => return Ok(Redeemed::Refused),
                KeyStatus::Completed | KeyStatus::Hired | KeyStatus::Rejected => {
                    return Ok(Redeemed::AlreadyCompleted)
                }
                KeyStatus::Pending => {
                    // A concurrent redeem may have activated it first; either way it is active now.
                    candidate_keys::activate(
                        connection,
                        &candidate.id,
                        candidate_name.as_deref(),
                        now,
                    )?;
                }
                KeyStatus::Active => {}
            }
            let assessment =
                assessments::get(connection, &candidate.org_id, &candidate.assessment_id)?;
            let session_id = match candidate.session_id.clone() {
                Some(existing) => existing,
                None => start_session(connection, &candidate, now)?,
            };
            if let Some(signing_key) = &signing_key {
                match sessions::offer_signing_key(connection, &session_id, signing_key)? {
                    KeyOffer::Kept => {}
                    // Nothing was written yet on this path: the key was already active with its session.
                    refused => return Ok(Redeemed::SigningKey(refused)),
                }
            }
            candidate_keys::insert_token(connection, &candidate.id, &token.hash(), now)?;
            Ok(Redeemed::Ok(Box::new(RedeemBody {
                session_id,
                session_token: token.expose().to_owned(),
                assessment_id: assessment.id,
                assessment_title: assessment.spec.title,
                task_brief: assessment.spec.task_brief,
                repo_url: assessment.spec.repo_url,
                time_limit_minutes: assessment.spec.time_limit_minutes,
                expires_at: ApiTime(candidate.expires_at),
                allowed_tools: assessment.spec.allowed_tools,
            })))
        })
        .await;
    match outcome {
        Ok(Redeemed::Ok(body)) => Ok(HttpResponse::Ok().json(body)),
        Ok(Redeemed::Refused) | Err(ApiError::NotFound(_)) => Err(failed(&request, &state)),
        Ok(Redeemed::AlreadyCompleted) => Err(ApiError::Conflict(
            "this key has been completed and cannot be redeemed again".to_owned(),
        )),
        Ok(Redeemed::SigningKey(KeyOffer::OtherKeyKept)) => Err(ApiError::Conflict(
            "this session already has another signing key, which it keeps".to_owned(),
        )),
        Ok(Redeemed::SigningKey(_)) => Err(ApiError::Conflict(
            "this session already holds unsigned events: a signing key can only be set before the first \
             event"
                .to_owned(),
        )),
        Err(other) => Err(other),
    }
}

/// Creates the key's session and links it, unless a concurrent request linked another first, in which case the
/// new (empty) session is dropped and the winner's returned.
fn start_session(
    connection: &mut AnyConnection,
    candidate: &traceline_domain::candidate_key::CandidateKey,
    now: DateTime<Utc>,
) -> Result<String, StorageError> {
    let record = NewSessionRecord {
        id: SessionId::from_uuid(Uuid::new_v4()),
        org_id: candidate.org_id.clone(),
        candidate_key_id: Some(candidate.id.clone()),
        assessment_id: Some(candidate.assessment_id.clone()),
        source_service: None,
        metadata: JsonObject::new(),
        created_at: now,
    };
    let created = sessions::insert(connection, &record)?;
    let linked = candidate_keys::link_session(connection, &candidate.id, created.id.as_str())?;
    match linked {
        Some(winner) if winner != created.id.as_str() => {
            sessions::delete(
                connection,
                &SessionScope::org(candidate.org_id.clone()),
                &created.id,
            )?;
            Ok(winner)
        }
        _ => Ok(created.id.as_str().to_owned()),
    }
}

async fn complete(
    Candidate(candidate): Candidate,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body = json_body(&body)?;
    let session_id = match body.get("sessionId") {
        Some(Value::String(text)) => {
            SessionId::parse(text).map_err(|_| ApiError::not_found("session"))?
        }
        _ => {
            return Err(ApiError::invalid_body(ValidationErrors::one(
                "sessionId",
                "is required and must be a string",
            )))
        }
    };
    let scope = Principal::Candidate(candidate.clone()).session_scope();
    let now = to_storage_precision(Utc::now());
    let completed_at = state
        .write(move |connection| {
            let session = sessions::get(connection, &scope, &session_id)?;
            // A closed record is not touched again: completing it once more only reports when it was.
            let closed = candidate_keys::lock_status(connection, &candidate.id)?.is_finished();
            let completed_at = candidate_keys::complete(connection, &candidate.id, now)?;
            if closed {
                return Ok(completed_at);
            }
            if session.ended_at.is_none() {
                // Ending the session also derives its artifacts. Events stamped ahead of the server's clock
                // may have put its start after now; it still cannot end before it started.
                let ended_at = now.max(session.started_at);
                let patch = SessionPatch { ended_at: Some(Some(ended_at)), metadata: None };
                sessions::update(connection, &scope, &session_id, &patch, now)?;
            } else {
                artifacts::derive(connection, session_id.as_str(), now)?;
            }
            Ok(completed_at)
        })
        .await
        .map_err(|error| match error {
            ApiError::NotFound(_) => ApiError::not_found("session"),
            other => other,
        })?;
    Ok(HttpResponse::Ok().json(CompletedBody { ok: true, completed_at: completed_at.map(ApiTime) }))
}
