//! The org's API keys (spec §10.3): list, create (the key shown once), revoke.

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use traceline_domain::api_key::{ApiKey, ApiKeyRequest, MAX_API_KEY_NAME_CHARS};
use traceline_domain::audit::AuditAction;
use traceline_domain::time::to_storage_precision;
use traceline_domain::Scope;
use traceline_storage::api_keys;

use crate::audit_trail::Audit;
use crate::commands::new_key;
use crate::dto::OkIdBody;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::request::json_body;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::GET,
            "/v1/api-keys",
            "listApiKeys",
            "The org's API keys, revoked ones included (never the keys themselves)",
            Access::Reviewer(Scope::Read),
            |route| route.to(list_keys),
        )
        .reply::<ApiKeyListBody>(200, "The keys, in creation order."),
        Endpoint::new(
            Method::POST,
            "/v1/api-keys",
            "createApiKey",
            "Create an API key for the org; the key is shown only in this response",
            Access::Reviewer(Scope::Write),
            |route| route.to(create_key),
        )
        .body(
            json!({
                "type": "object",
                "required": ["scopes"],
                "properties": {
                    "name": {"type": ["string", "null"], "maxLength": MAX_API_KEY_NAME_CHARS},
                    "scopes": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "enum": ["read", "write"]},
                        "description": "At most the scopes of the key that creates it.",
                    },
                },
            }),
            json!({"name": "Dashboard", "scopes": ["read"]}),
        )
        .reply::<CreatedKeyBody>(201, "The new key, and its secret, shown this once.")
        .carries_secret()
        .creates(201, "id", "$response.body#/apiKey/id")
        .refusal(
            403,
            "A candidate credential, or an API key without the write scope or a scope asked for.",
        ),
        Endpoint::new(
            Method::DELETE,
            "/v1/api-keys/{id}",
            "revokeApiKey",
            "Revoke an API key: refused at once here, by every other instance within 5 seconds",
            Access::Reviewer(Scope::Write),
            |route| route.to(revoke_key),
        )
        .reply::<OkIdBody>(200, "Revoked (a key revoked before keeps its first revokedAt)."),
    ]
}

/// `{apiKeys}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ApiKeyListBody {
    api_keys: Vec<ApiKey>,
}

/// `{apiKey, key}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CreatedKeyBody {
    api_key: ApiKey,
    /// The key itself, `psk_live_…`: shown only here, stored only as its hash.
    key: String,
}

fn key_not_found(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::not_found("API key"),
        other => other,
    }
}

async fn list_keys(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let api_keys = state.read(move |connection| api_keys::list(connection, &org_id)).await?;
    Ok(HttpResponse::Ok().json(ApiKeyListBody { api_keys }))
}

async fn create_key(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request = ApiKeyRequest::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    // A key cannot hand out more than it holds: a write-only key must not mint itself a reader.
    if let Principal::Reviewer { scopes, .. } = &principal {
        if !scopes.covers(request.scopes) {
            return Err(ApiError::Forbidden("a key cannot grant a scope it does not hold"));
        }
    }
    let (secret, key) =
        new_key(principal.org_id(), request.scopes, request.name).map_err(ApiError::Internal)?;
    let audit = Audit::by(&principal, key.created_at);
    let api_key = state
        .write(move |connection| {
            let stored = api_keys::insert(connection, &key)?;
            let details = json!({"name": stored.name, "scopes": stored.scopes});
            audit.record(connection, AuditAction::ApiKeyCreated, &stored.id, details)?;
            Ok(stored)
        })
        .await?;
    let key = secret.expose().to_owned();
    Ok(HttpResponse::Created().json(CreatedKeyBody { api_key, key }))
}

async fn revoke_key(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let id = path.into_inner();
    let now = to_storage_precision(Utc::now());
    let audit = Audit::by(&principal, now);
    let revoked = state
        .write(move |connection| {
            let (key, newly) = api_keys::revoke(connection, &org_id, &id, now)?;
            if newly {
                audit.record(connection, AuditAction::ApiKeyRevoked, &key.id, json!({}))?;
            }
            Ok(key)
        })
        .await
        .map_err(key_not_found)?;
    // The key must stop working here now, not when this instance's cached lookup of it expires.
    state.credentials.clear();
    Ok(HttpResponse::Ok().json(OkIdBody { ok: true, id: revoked.id }))
}
