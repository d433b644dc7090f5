//! Ingest (spec §4): one event per call, or a batch of up to 500 judged one by one.

use std::time::SystemTime;

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Map, Value};
use traceline_domain::event::{
    strict_schemas, ActorType, Attribution, DataFieldType, Envelope, EventKind, Observability,
    ENVELOPE_VERSION, MAX_EVENT_KIND_LEN, MAX_SOURCE_NAME_CHARS,
};
use traceline_domain::ids::MAX_SESSION_ID_LEN;
use traceline_domain::time::to_storage_precision;
use traceline_domain::ValidationErrors;
use traceline_storage::ingest::{IncomingEvent, IngestCredential, IngestOutcome};
use traceline_storage::ingest_together::{IngestReply, IngestRequest};
use traceline_storage::sessions;

use crate::access::Candidate;
use crate::dto::OkIdBody;
use crate::error::ApiError;
use crate::rate_limit;
use crate::request::{json_body, json_value};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

/// Most events one batch may carry.
pub(crate) const MAX_BATCH_EVENTS: usize = 500;

/// The routes; the batch route takes bodies up to its own, larger limit.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::POST,
            "/v1/hooks/ingest",
            "ingestEvent",
            "Append one event to its session (created on first sight)",
            Access::Candidate,
            |route| route.to(ingest_one),
        )
        .body(envelope_schema(), example_envelope())
        .reply::<OkIdBody>(201, "Stored.")
        .reply::<SkippedBody>(200, "An event with this id was stored before; nothing changed.")
        .refusal(
            403,
            "A reviewer's key, a session of another candidate or org, or (`session_closed`) a candidate whose \
             record is closed.",
        )
        .refusal(409, "The id is already used by an event of another session."),
        Endpoint::new(
            Method::POST,
            "/v1/hooks/ingest/batch",
            "ingestBatch",
            "Append up to 500 events, each judged alone",
            Access::Candidate,
            |route| route.to(ingest_batch),
        )
        .large_body()
        .body(
            json!({
                "type": "object",
                "required": ["events"],
                "properties": {
                    "events": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_BATCH_EVENTS,
                        "items": envelope_schema(),
                    },
                },
            }),
            json!({"events": [example_envelope()]}),
        )
        .reply::<BatchBody>(207, "One result per event, in order.")
        .refusal(
            403,
            "A reviewer's key, or (`session_closed`) a candidate whose record is closed: nothing of the batch \
             is stored.",
        ),
    ]
}

/// The ingest envelope of spec §4, built from the domain's word sets, bounds and strict `data` table.
fn envelope_schema() -> Value {
    let words = |names: Vec<&'static str>| json!({"type": "string", "enum": names});
    let name = json!({"type": "string", "maxLength": MAX_SOURCE_NAME_CHARS});
    // The strict `data` schemas, keyed by kind. They are published as an extension rather than as `if`/`then`
    // branches, which schema-driven generators (schemathesis among them) cannot sample from.
    let mut strict_kinds = Map::new();
    for (kind, rules) in strict_schemas() {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for rule in rules {
            let mut schema = match rule.field_type {
                DataFieldType::Text => json!({"type": "string"}),
                DataFieldType::Integer { min, max } => {
                    json!({"type": "integer", "minimum": min, "maximum": max})
                }
            };
            if let Some(alias) = rule.alias {
                schema["description"] = json!(format!("`{alias}` is accepted as its alias."));
            }
            properties.insert(rule.key.to_owned(), schema);
            if rule.required {
                required.push(rule.key);
            }
        }
        strict_kinds.insert(
            kind.to_owned(),
            json!({"type": "object", "properties": properties, "required": required}),
        );
    }
    json!({
        "type": "object",
        "required": ["id", "sessionId", "ts", "kind", "source", "v", "data"],
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "The idempotency key."},
            "sessionId": {
                "type": "string",
                "pattern": format!("^[A-Za-z0-9._:-]{{1,{MAX_SESSION_ID_LEN}}}$"),
                "description": "A UUID, or any string of 1–128 characters from [A-Za-z0-9._:-].",
            },
            "ts": {"type": "string", "format": "date-time"},
            "kind": {
                "type": "string",
                "pattern": format!("^[a-z][a-z0-9_]{{0,{}}}$", MAX_EVENT_KIND_LEN - 1),
            },
            "source": {
                "oneOf": [
                    {"type": "string", "description": "The channel."},
                    {
                        "type": "object",
                        "properties": {
                            "channel": {"type": ["string", "null"]},
                            "integration": name,
                            "emitter": name,
                            "repo": {},
                        },
                    },
                ],
            },
            "actor": {
                "type": ["object", "null"],
                "properties": {
                    "type": words(ActorType::ALL.iter().map(|word| word.as_str()).collect()),
                    "role": {"type": ["string", "null"]},
                },
            },
            "provenance": {
                "type": ["object", "null"],
                "properties": {
                    "attribution": words(Attribution::ALL.iter().map(|word| word.as_str()).collect()),
                    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                    "observability": words(Observability::ALL.iter().map(|word| word.as_str()).collect()),
                    "methods": {"type": ["array", "null"], "items": {"type": "string"}},
                },
            },
            "v": {"const": ENVELOPE_VERSION},
            "data": {
                "type": "object",
                "description": "Checked against x-strict-kinds[kind] when the kind has a strict schema.",
                "x-strict-kinds": strict_kinds,
            },
            "rawPayload": {},
            "sig": {
                "description": "Hex of the Ed25519 signature (64 bytes) of the event's PST-EVT-V1 message. \
                    Verified against the session's key; never a reason to refuse the event.",
            },
            "prevSig": {"description": "The previous event's `sig`; \"\" for the first event of the chain."},
        },
    })
}

fn example_envelope() -> Value {
    json!({
        "id": "0195f3a2-7c1e-7b3a-9f00-1c2d3e4f5a6b",
        "sessionId": "0195f3a2-7c1e-7b3a-9f00-000000000001",
        "ts": "2026-04-01T10:15:00.000Z",
        "kind": EventKind::COMMAND.as_str(),
        "source": {"channel": "hook", "integration": "claude-code"},
        "actor": {"type": "ai"},
        "v": ENVELOPE_VERSION,
        "data": {"command": "cargo test", "exitCode": 0},
    })
}

/// `{"ok": true, "skipped": true}`: a retry of a stored event.
#[derive(Serialize, JsonSchema)]
struct SkippedBody {
    /// Always true.
    ok: bool,
    /// Always true.
    skipped: bool,
}

/// `{"results": [...]}`.
#[derive(Serialize, JsonSchema)]
struct BatchBody {
    /// One per event, in the order sent.
    results: Vec<BatchResult>,
}

fn credential_of(Candidate(key): Candidate) -> IngestCredential {
    IngestCredential {
        org_id: key.org_id,
        candidate_key_id: key.id,
        assessment_id: key.assessment_id,
    }
}

/// Stores `events` as `credential`, in one transaction, unless the candidate's record is closed. Signed events
/// are verified first, off the writer, against the keys their sessions have.
async fn store(
    state: &AppState,
    credential: IngestCredential,
    events: Vec<IncomingEvent>,
    now: chrono::DateTime<Utc>,
) -> Result<Vec<IngestOutcome>, ApiError> {
    let events = verify_ahead(state, events).await?;
    let request = IngestRequest { credential, events, received_at: now };
    let outcomes = match state.ingest(request).await? {
        IngestReply::Closed => return Err(ApiError::SessionClosed),
        IngestReply::Stored(outcomes) => outcomes,
    };
    let created = outcomes.iter().filter(|outcome| **outcome == IngestOutcome::Created).count();
    state.telemetry.ingested(u64::try_from(created).unwrap_or(u64::MAX));
    Ok(outcomes)
}

/// Verifies the signed events against their sessions' keys on the blocking pool: a batch of 500 signatures is
/// tens of milliseconds of arithmetic, which must stall neither an async worker nor SQLite's one writer.
async fn verify_ahead(
    state: &AppState,
    mut events: Vec<IncomingEvent>,
) -> Result<Vec<IncomingEvent>, ApiError> {
    if !events.iter().any(|event| event.signature().is_signed()) {
        return Ok(events);
    }
    state
        .read(move |connection| {
            let mut ids: Vec<&str> = events
                .iter()
                .filter(|event| event.signature().is_signed())
                .map(|event| event.envelope().session_id.as_str())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let keys = sessions::signing_keys(connection, &ids)?;
            for event in &mut events {
                let session_id = event.envelope().session_id.as_str();
                let key = keys.iter().find(|(id, _)| id == session_id).map(|(_, key)| key.clone());
                if let (Some(key), true) = (key, event.signature().is_signed()) {
                    event.verify_ahead(&key);
                }
            }
            Ok(events)
        })
        .await
}

async fn ingest_one(
    candidate: Candidate,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let credential = credential_of(candidate);
    let decision =
        state.rate_limits.check_ingest(&credential.candidate_key_id, 1, SystemTime::now())?;
    let now = to_storage_precision(Utc::now());
    let value = json_body(&body)?;
    let envelope = Envelope::parse_received(&value, now).map_err(ApiError::invalid_body)?;
    let id = envelope.id.as_str().to_owned();
    // The body parsed as JSON, so it is UTF-8: kept byte for byte as the raw envelope.
    let raw = String::from_utf8_lossy(&body).into_owned();
    let event = vec![IncomingEvent::new(envelope, raw, &value)];
    let outcomes = store(&state, credential, event, now).await?;
    let mut response = match outcomes.first() {
        None => return Err(ApiError::Internal(anyhow::anyhow!("ingest returned no outcome"))),
        Some(IngestOutcome::Created) => HttpResponse::Created().json(OkIdBody { ok: true, id }),
        Some(IngestOutcome::Duplicate) => {
            HttpResponse::Ok().json(SkippedBody { ok: true, skipped: true })
        }
        Some(IngestOutcome::Forbidden) => return Err(forbidden_session()),
        Some(IngestOutcome::IdTaken) => return Err(id_taken(&id)),
    };
    rate_limit::attach(&mut response, decision);
    Ok(response)
}

fn forbidden_session() -> ApiError {
    ApiError::Forbidden("this session belongs to another candidate or org")
}

fn id_taken(id: &str) -> ApiError {
    ApiError::Conflict(format!(
        "event id {id} is already used by another session; give this event a new id"
    ))
}

#[derive(Serialize, JsonSchema)]
struct BatchResult {
    /// The event's id, when it had a readable one.
    id: Option<String>,
    /// 201 stored, 200 seen before in this session, 400 invalid, 403 another candidate's or org's session, 409
    /// an id already used by another session.
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

async fn ingest_batch(
    candidate: Candidate,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let credential = credential_of(candidate);
    let items = batch_items(json_value(&body)?)?;
    let cost = u32::try_from(items.len()).unwrap_or(u32::MAX);
    let decision =
        state.rate_limits.check_ingest(&credential.candidate_key_id, cost, SystemTime::now())?;

    // Each event is judged alone: invalid ones get their 400 here; the valid ones are stored together, in one
    // transaction and a handful of statements, each with its own outcome.
    let now = to_storage_precision(Utc::now());
    let mut results: Vec<Option<BatchResult>> = Vec::with_capacity(items.len());
    let mut positions = Vec::new();
    let mut valid = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match Envelope::parse_received(&item, now) {
            Ok(envelope) => {
                positions.push(index);
                valid.push(IncomingEvent::new(envelope, item.to_string(), &item));
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
    // A closed record refuses the whole request, even when no event of it is valid.
    let outcomes = store(&state, credential, valid, now).await?;
    for ((index, id), outcome) in positions.into_iter().zip(ids).zip(outcomes) {
        results[index] = Some(match outcome {
            IngestOutcome::Created => BatchResult { id: Some(id), status: 201, error: None },
            IngestOutcome::Duplicate => BatchResult { id: Some(id), status: 200, error: None },
            IngestOutcome::Forbidden => BatchResult {
                id: Some(id),
                status: 403,
                error: Some(forbidden_session().to_string()),
            },
            IngestOutcome::IdTaken => {
                BatchResult { error: Some(id_taken(&id).to_string()), id: Some(id), status: 409 }
            }
        });
    }
    let results: Vec<BatchResult> = results.into_iter().flatten().collect();
    let mut response = HttpResponse::MultiStatus().json(BatchBody { results });
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
