//! Candidate keys (spec §8): issue, list, revoke, mark a hire, and the org-wide candidate list.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use traceline_domain::candidate_key::{
    generate_key, parse_key_request, CandidateKey, KeyStatus, MAX_LIVE_KEYS_PER_ASSESSMENT,
};
use traceline_domain::time::to_storage_precision;
use traceline_domain::{PageRule, Scope, ValidationErrors};
use traceline_storage::{assessments, candidate_keys, StorageError};
use uuid::Uuid;

use crate::auth::Principal;
use crate::commands::os_random;
use crate::dto::{KeyBody, OkIdBody};
use crate::error::ApiError;
use crate::request::{json_body, query_params};
use crate::routes::assessments::assessment_not_found;
use crate::state::AppState;

/// Registers the routes.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .service(web::resource("/v1/assessments/{id}/keys").get(list_keys).post(create_keys))
        .service(
            web::resource("/v1/assessments/{id}/keys/{key_id}")
                .patch(mark_hired)
                .delete(revoke_key),
        )
        .service(web::resource("/v1/candidates").get(list_candidates));
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
    let org_id = principal.require_reviewer(Scope::Write)?.clone();
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
    let issued = state
        .write(move |connection| {
            let assessment = assessments::get(connection, &org_id, &assessment_id)?;
            let live = candidate_keys::count_live(connection, &assessment_id, now)?;
            let requested = i64::try_from(holders.len()).unwrap_or(i64::MAX);
            if live + requested > MAX_LIVE_KEYS_PER_ASSESSMENT {
                return Ok(Issued::OverLimit { live });
            }
            let mut spares = spares.into_iter();
            let mut issued = Vec::with_capacity(holders.len());
            for holder in holders {
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
            let bodies: Vec<KeyBody> = keys.into_iter().map(|key| KeyBody::at(key, now)).collect();
            Ok(HttpResponse::Created().json(json!({"keys": bodies})))
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
    let org_id = principal.require_reviewer(Scope::Read)?.clone();
    let assessment_id = path.into_inner();
    let keys = state
        .read(move |connection| {
            assessments::get(connection, &org_id, &assessment_id)?;
            candidate_keys::list_for_assessment(connection, &org_id, &assessment_id)
        })
        .await
        .map_err(assessment_not_found)?;
    let now = Utc::now();
    let bodies: Vec<KeyBody> = keys.into_iter().map(|key| KeyBody::at(key, now)).collect();
    Ok(HttpResponse::Ok().json(json!({"keys": bodies})))
}

async fn revoke_key(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.require_reviewer(Scope::Write)?.clone();
    let (assessment_id, key_id) = path.into_inner();
    let revoked_id = key_id.clone();
    let now = to_storage_precision(Utc::now());
    state
        .write(move |connection| {
            candidate_keys::get(connection, &org_id, &assessment_id, &key_id)?;
            candidate_keys::revoke(connection, &key_id, now)
        })
        .await
        .map_err(key_not_found)?;
    // The key, and every token redeemed from it, must stop working now, not when the cache expires.
    state.credentials.clear();
    Ok(HttpResponse::Ok().json(OkIdBody { ok: true, id: revoked_id }))
}

async fn mark_hired(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.require_reviewer(Scope::Write)?.clone();
    match json_body(&body)?.get("status") {
        Some(Value::String(status)) if status == "hired" => {}
        _ => {
            return Err(ApiError::invalid_body(ValidationErrors::one(
                "status",
                "the only status that can be set is \"hired\"",
            )))
        }
    }
    let (assessment_id, key_id) = path.into_inner();
    let key = state
        .write(move |connection| {
            candidate_keys::get(connection, &org_id, &assessment_id, &key_id)?;
            candidate_keys::set_status(connection, &key_id, KeyStatus::Hired)?;
            candidate_keys::get(connection, &org_id, &assessment_id, &key_id)
        })
        .await
        .map_err(key_not_found)?;
    Ok(HttpResponse::Ok().json(json!({"key": KeyBody::at(key, Utc::now())})))
}

async fn list_candidates(
    principal: Principal,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.require_reviewer(Scope::Read)?.clone();
    let params = query_params(request.query_string())?;
    let page = PageRule::CANDIDATES
        .page(params.get("limit").map(String::as_str), params.get("offset").map(String::as_str))
        .map_err(ApiError::InvalidQuery)?;
    let (keys, total) = state
        .read(move |connection| candidate_keys::list_for_org(connection, &org_id, page))
        .await?;
    let now = Utc::now();
    let bodies: Vec<KeyBody> =
        keys.into_iter().map(|(key, title)| KeyBody::at(key, now).with_title(title)).collect();
    Ok(HttpResponse::Ok().json(
        json!({"candidates": bodies, "total": total, "limit": page.limit, "offset": page.offset}),
    ))
}
