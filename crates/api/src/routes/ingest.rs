//! Ingest (spec §4): one event per call, or a batch of up to 500 judged one by one.

use std::time::SystemTime;

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};
use traceline_domain::event::Envelope;
use traceline_domain::time::to_storage_precision;
use traceline_domain::ValidationErrors;
use traceline_storage::ingest::{self, IncomingEvent, IngestCredential, IngestOutcome};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::rate_limit;
use crate::request::json_body;
use crate::state::AppState;

/// Most events one batch may carry.
pub(crate) const MAX_BATCH_EVENTS: usize = 500;

/// Registers the routes; the batch route takes bodies up to its own, larger limit.
pub(crate) fn configure(config: &mut web::ServiceConfig, batch_body_limit: usize) {
    config.service(web::resource("/v1/hooks/ingest").post(ingest_one)).service(
        web::resource("/v1/hooks/ingest/batch")
            .app_data(web::PayloadConfig::new(batch_body_limit))
            .post(ingest_batch),
    );
}

fn credential_of(principal: &Principal) -> Result<IngestCredential, ApiError> {
    let key = principal.require_candidate()?;
    Ok(IngestCredential {
        org_id: key.org_id.clone(),
        candidate_key_id: key.id.clone(),
        assessment_id: key.assessment_id.clone(),
    })
}

async fn ingest_one(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let credential = credential_of(&principal)?;
    let decision =
        state.rate_limits.check_ingest(&credential.candidate_key_id, 1, SystemTime::now())?;
    let envelope = Envelope::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let id = envelope.id.as_str().to_owned();
    // The body parsed as JSON, so it is UTF-8: kept byte for byte as the raw envelope.
    let raw = String::from_utf8_lossy(&body).into_owned();
    let event = [IncomingEvent::new(envelope, raw)];
    let now = to_storage_precision(Utc::now());
    let outcomes =
        state.write(move |connection| ingest::ingest(connection, &credential, &event, now)).await?;
    let mut response = match outcomes.first() {
        None => return Err(ApiError::Internal(anyhow::anyhow!("ingest returned no outcome"))),
        Some(IngestOutcome::Created) => HttpResponse::Created().json(json!({"ok": true, "id": id})),
        Some(IngestOutcome::Duplicate) => {
            HttpResponse::Ok().json(json!({"ok": true, "skipped": true}))
        }
        Some(IngestOutcome::Forbidden) => return Err(forbidden_session()),
    };
    rate_limit::attach(&mut response, decision);
    Ok(response)
}

fn forbidden_session() -> ApiError {
    ApiError::Forbidden("this session belongs to another candidate or org")
}

#[derive(Serialize)]
struct BatchResult {
    id: Option<String>,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

async fn ingest_batch(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let credential = credential_of(&principal)?;
    let items = batch_items(json_body(&body)?)?;
    let cost = u32::try_from(items.len()).unwrap_or(u32::MAX);
    let decision =
        state.rate_limits.check_ingest(&credential.candidate_key_id, cost, SystemTime::now())?;

    // Each event is judged alone: invalid ones get their 400 here; the valid ones are stored together, in one
    // transaction and a handful of statements, each with its own outcome.
    let mut results: Vec<Option<BatchResult>> = Vec::with_capacity(items.len());
    let mut positions = Vec::new();
    let mut valid = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match Envelope::parse(&item) {
            Ok(envelope) => {
                positions.push(index);
                valid.push(IncomingEvent::new(envelope, item.to_string()));
                results.push(None);
            }
            Err(errors) => results.push(Some(BatchResult {
                id: item.get("id").and_then(Value::as_str).map(str::to_owned),
                status: 400,
                error: Some(errors.to_string()),
            })),
        }
    }
    let ids: Vec<String> =
        valid.iter().map(|event| event.envelope().id.as_str().to_owned()).collect();
    let now = to_storage_precision(Utc::now());
    let outcomes = if valid.is_empty() {
        Vec::new()
    } else {
        state.write(move |connection| ingest::ingest(connection, &credential, &valid, now)).await?
    };
    for ((index, id), outcome) in positions.into_iter().zip(ids).zip(outcomes) {
        results[index] = Some(match outcome {
            IngestOutcome::Created => BatchResult { id: Some(id), status: 201, error: None },
            IngestOutcome::Duplicate => BatchResult { id: Some(id), status: 200, error: None },
            IngestOutcome::Forbidden => BatchResult {
                id: Some(id),
                status: 403,
                error: Some(forbidden_session().to_string()),
            },
        });
    }
    let results: Vec<BatchResult> = results.into_iter().flatten().collect();
    let mut response = HttpResponse::MultiStatus().json(json!({"results": results}));
    rate_limit::attach(&mut response, decision);
    Ok(response)
}

/// `{"events": [...]}` with 1–500 events, or a plain 400.
fn batch_items(body: Value) -> Result<Vec<Value>, ApiError> {
    let Value::Object(mut object) = body else {
        return Err(ApiError::invalid_body(ValidationErrors::one(
            "",
            "must be an object with an events array",
        )));
    };
    match object.remove("events") {
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= MAX_BATCH_EVENTS => {
            Ok(items)
        }
        Some(Value::Array(_)) => Err(ApiError::invalid_body(ValidationErrors::one(
            "events",
            format!("must hold 1 to {MAX_BATCH_EVENTS} events"),
        ))),
        _ => Err(ApiError::invalid_body(ValidationErrors::one(
            "events",
            "is required and must be an array",
        ))),
    }
}
