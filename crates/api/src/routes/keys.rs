//! Candidate keys (spec §8): issue, list, revoke, hire or reject, and the org-wide candidate list.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};
use traceline_domain::audit::AuditAction;
use traceline_domain::candidate_key::{
    generate_key, parse_key_request, CandidateKey, KeyAt, KeyStatus, MAX_CANDIDATE_EMAIL_CHARS,
    MAX_CANDIDATE_NAME_CHARS, MAX_KEYS_PER_REQUEST, MAX_LIVE_KEYS_PER_ASSESSMENT,
};
use traceline_domain::time::to_storage_precision;
use traceline_domain::webhook::EventType;
use traceline_domain::{PageRule, Scope, ValidationErrors};
use traceline_storage::{assessments, candidate_keys, outbox, StorageError};
use uuid::Uuid;

use crate::audit_trail::Audit;
use crate::dto::{KeyList, KeyListBody, OkIdBody};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::random::os_random;
use crate::request::{json_body, offset_page, query_params};
use crate::routes::assessments::assessment_not_found;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::POST,
            "/v1/assessments/{id}/keys",
            "createKeys",
            "Issue candidate keys for an assessment",
            Access::Reviewer(Scope::Write),
            |route| route.to(create_keys),
        )
        .body(
            key_request_schema(),
            json!({"count": 1, "candidateNames": ["Ada"], "candidateEmails": ["ada@example.com"]}),
        )
        .reply::<KeyList>(201, "The new keys, each shown in full.")
        .carries_secret()
        .creates(201, "keyId", "$response.body#/keys/0/id")
        .refusal(409, "The assessment would hold more than 500 live keys."),
        Endpoint::new(
            Method::GET,
            "/v1/assessments/{id}/keys",
            "listKeys",
            "An assessment's candidate keys",
            Access::Reviewer(Scope::Read),
            |route| route.to(list_keys),
        )
        .reply::<KeyList>(200, "The keys, with their status as of now."),
        Endpoint::new(
            Method::PATCH,
            "/v1/assessments/{id}/keys/{keyId}",
            "decideKey",
            "Mark a candidate hired or rejected",
            Access::Reviewer(Scope::Write),
            |route| route.to(decide),
        )
        .body(
            json!({
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"enum": KeyStatus::DECISIONS.map(KeyStatus::as_str)}},
            }),
            json!({"status": KeyStatus::Hired.as_str()}),
        )
        .reply::<KeyEnvelope<'static>>(200, "The key."),
        Endpoint::new(
            Method::DELETE,
            "/v1/assessments/{id}/keys/{keyId}",
            "revokeKey",
            "Revoke a candidate key and its session tokens",
            Access::Reviewer(Scope::Write),
            |route| route.to(revoke_key),
        )
        .reply::<OkIdBody>(200, "Revoked."),
        Endpoint::new(
            Method::GET,
            "/v1/candidates",
            "listCandidates",
            "The org's candidate keys with their assessment's title",
            Access::Reviewer(Scope::Read),
            |route| route.to(list_candidates),
        )
        .paged(PageRule::CANDIDATES)
        .reply::<CandidateListBody<'static>>(200, "A page of keys."),
    ]
}

/// `POST /v1/assessments/:id/keys`, as `parse_key_request` reads it.
fn key_request_schema() -> Value {
    let strings = |max: usize, format: Option<&str>| {
        let mut item = json!({"type": ["string", "null"], "maxLength": max});
        if let Some(format) = format {
            item["format"] = json!(format);
        }
        json!({
            "type": ["array", "null"],
            "maxItems": MAX_KEYS_PER_REQUEST,
            "items": item,
            "description": "At most count entries; entry i belongs to key i.",
        })
    };
    json!({
        "type": "object",
        "required": ["count"],
        "properties": {
            "count": {"type": "integer", "minimum": 1, "maximum": MAX_KEYS_PER_REQUEST},
            "candidateNames": strings(MAX_CANDIDATE_NAME_CHARS, None),
            "candidateEmails": strings(MAX_CANDIDATE_EMAIL_CHARS, Some("email")),
        },
    })
}

/// `{key}`.
#[derive(Serialize, JsonSchema)]
struct KeyEnvelope<'a> {
    key: KeyAt<'a>,
}

/// A KeyObject joined with its assessment's title (`GET /v1/candidates`).
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CandidateEntry<'a> {
    #[serde(flatten)]
    key: KeyAt<'a>,
    assessment_title: &'a str,
}

/// `{candidates, total, limit, offset}`.
#[derive(Serialize, JsonSchema)]
struct CandidateListBody<'a> {
    /// Keys with `assessmentTitle`.
    candidates: Vec<CandidateEntry<'a>>,
    total: i64,
    limit: i64,
    offset: i64,
}

fn key_not_found(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::not_found("key"),
        other => other,
    }
}

/// What issuing keys can run into besides storage errors.
enum Issued {
    Keys(Vec<CandidateKey>),
    OverLimit { live: i64 },
}

async fn create_keys(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let holders = parse_key_request(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    // Keys are drawn here, off the transaction: twice as many as needed, so the rare collision with an existing
    // key (1 in 10^12 per key) is retried with a spare.
    let mut spares = Vec::with_capacity(holders.len() * 2);
    for _ in 0..holders.len() * 2 {
        spares
            .push(generate_key(&mut os_random).map_err(|error| ApiError::Internal(error.into()))?);
    }
    let assessment_id = path.into_inner();
    let now = to_storage_precision(Utc::now());
    let audit = Audit::by(&principal, now);
    let issued = state
        .write(move |connection| {
            let assessment = assessments::get(connection, &org_id, &assessment_id)?;
            let live = candidate_keys::count_live(connection, &assessment_id, now)?;
            let requested = i64::try_from(holders.len()).unwrap_or(i64::MAX);
            if live + requested > MAX_LIVE_KEYS_PER_ASSESSMENT {
                return Ok(Issued::OverLimit { live });
            }
            // Cloned: the transaction runs again if PostgreSQL aborts it for a deadlock.
            let mut spares = spares.clone().into_iter();
            let mut issued = Vec::with_capacity(holders.len());
            for holder in holders.clone() {
                loop {
                    let Some(key) = spares.next() else {
                        return Err(StorageError::Corrupt(
                            "ran out of distinct candidate keys".into(),
                        ));
                    };
                    let candidate = CandidateKey {
                        // v7 ids sort in creation order within the process, which keeps a batch in issue order.
                        id: Uuid::now_v7().to_string(),
                        org_id: org_id.clone(),
                        assessment_id: assessment_id.clone(),
                        key,
                        candidate_name: holder.name.clone(),
                        candidate_email: holder.email.clone(),
                        stored_status: KeyStatus::Pending,
                        session_id: None,
                        expires_at: now + Duration::days(assessment.spec.expires_in_days),
                        redeemed_at: None,
                        completed_at: None,
                        created_at: now,
                    };
                    match candidate_keys::insert(connection, &candidate) {
                        Ok(()) => {
                            let details = json!({"assessmentId": assessment_id});
                            audit.record(
                                connection,
                                AuditAction::CandidateKeyIssued,
                                &candidate.id,
                                details,
                            )?;
                            issued.push(candidate);
                            break;
                        }
                        Err(StorageError::Conflict { .. }) => continue,
                        Err(other) => return Err(other),
                    }
                }
            }
            Ok(Issued::Keys(issued))
        })
        .await
        .map_err(assessment_not_found)?;
    match issued {
        Issued::Keys(keys) => {
            let keys = keys.iter().map(|key| key.at(now)).collect();
            Ok(HttpResponse::Created().json(KeyListBody { keys }))
        }
        Issued::OverLimit { live } => Err(ApiError::Conflict(format!(
            "an assessment holds at most {MAX_LIVE_KEYS_PER_ASSESSMENT} live keys; this one has {live}"
        ))),
    }
}

async fn list_keys(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let assessment_id = path.into_inner();
    let keys = state
        .read(move |connection| {
            assessments::get(connection, &org_id, &assessment_id)?;
            candidate_keys::list_for_assessment(connection, &org_id, &assessment_id)
        })
        .await
        .map_err(assessment_not_found)?;
    let now = Utc::now();
    let keys = keys.iter().map(|key| key.at(now)).collect();
    Ok(HttpResponse::Ok().json(KeyListBody { keys }))
}

async fn revoke_key(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let (assessment_id, key_id) = path.into_inner();
    let revoked_id = key_id.clone();
    let now = to_storage_precision(Utc::now());
    let audit = Audit::by(&principal, now);
    state
        .write(move |connection| {
            candidate_keys::get(connection, &org_id, &assessment_id, &key_id)?;
            candidate_keys::revoke(connection, &key_id, now)?;
            let details = json!({"assessmentId": assessment_id});
            audit.record(connection, AuditAction::CandidateKeyRevoked, &key_id, details)
        })
        .await
        .map_err(key_not_found)?;
    // The key, and every token redeemed from it, must stop working now, not when the cache expires.
    state.credentials.clear();
    Ok(HttpResponse::Ok().json(OkIdBody { ok: true, id: revoked_id }))
}

/// A reviewer's decision on a candidate: `{"status": "hired"}` or `{"status": "rejected"}`, from any status.
async fn decide(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let decision = json_body(&body)?
        .get("status")
        .and_then(Value::as_str)
        .and_then(KeyStatus::parse_decision)
        .ok_or_else(|| {
            ApiError::invalid_body(ValidationErrors::one(
                "status",
                "must be \"hired\" or \"rejected\"",
            ))
        })?;
    let (assessment_id, key_id) = path.into_inner();
    let now = to_storage_precision(Utc::now());
    let audit = Audit::by(&principal, now);
    let key = state
        .write(move |connection| {
            let before = candidate_keys::get(connection, &org_id, &assessment_id, &key_id)?;
            let changed = candidate_keys::set_status(connection, &key_id, decision)?;
            let details = json!({
                "assessmentId": assessment_id,
                "previousStatus": before.stored_status.as_str(),
            });
            audit.record(connection, AuditAction::decision(decision), &key_id, details)?;
            let key = candidate_keys::get(connection, &org_id, &assessment_id, &key_id)?;
            // Told once per decision: repeating it changes nothing, changing it is a new decision.
            if changed {
                outbox::candidate_decided(connection, decision_event(decision), &key, now)?;
            }
            Ok(key)
        })
        .await
        .map_err(key_not_found)?;
    Ok(HttpResponse::Ok().json(KeyEnvelope { key: key.at(now) }))
}

/// The webhook event of a reviewer's decision.
fn decision_event(decision: KeyStatus) -> EventType {
    match decision {
        KeyStatus::Rejected => EventType::CandidateRejected,
        _ => EventType::CandidateHired,
    }
}

async fn list_candidates(
    principal: Principal,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let params = query_params(request.query_string())?;
    let page = offset_page(&params, PageRule::CANDIDATES)?;
    let (keys, total) = state
        .read(move |connection| candidate_keys::list_for_org(connection, &org_id, page))
        .await?;
    let now = Utc::now();
    let candidates = keys
        .iter()
        .map(|(key, title)| CandidateEntry { key: key.at(now), assessment_title: title })
        .collect();
    Ok(HttpResponse::Ok().json(CandidateListBody {
        candidates,
        total,
        limit: page.limit,
        offset: page.offset,
    }))
}
