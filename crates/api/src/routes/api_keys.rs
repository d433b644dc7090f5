//! Org API keys over the API (spec §10.3): list, create (the secret shown once), revoke. The web UI's settings
//! page calls these routes with its cookie.

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use traceline_domain::api_key_record::{
    parse_api_key_request, ApiKeyRecord, MAX_API_KEY_NAME_CHARS,
};
use traceline_domain::audit::AuditAction;
use traceline_domain::time::to_storage_precision;
use traceline_domain::Scope;
use traceline_storage::api_keys;

use crate::audit_trail::Audit;
use crate::commands::new_key;
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
            "The org's API keys, revoked ones included (never their secrets)",
            Access::Reviewer(Scope::Read),
            |route| route.to(list_keys),
        )
        .reply::<ApiKeyListBody>(200, "The keys, in creation order."),
        Endpoint::new(
            Method::POST,
            "/v1/api-keys",
            "createApiKey",
            "Create an API key; its secret is shown only in this response",
            Access::Admin,
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
                        "items": {"enum": [Scope::Read.as_str(), Scope::Write.as_str()]},
                    },
                },
            }),
            json!({"name": "Dashboard", "scopes": [Scope::Read.as_str()]}),
        )
        .reply::<CreatedApiKeyBody>(201, "The key, and its secret (only here).")
        .carries_secret()
        .creates(201, "id", "$response.body#/apiKey/id")
        .refusal(403, "Not an admin or a write key, or a scope the creating key does not hold."),
        Endpoint::new(
            Method::DELETE,
            "/v1/api-keys/{id}",
            "revokeApiKey",
            "Revoke an API key: refused at once here, by every other instance within 5 seconds",
            Access::Admin,
            |route| route.to(revoke_key),
        )
        .reply::<ApiKeyBody>(200, "The revoked key (revoking again keeps the first revokedAt)."),
    ]
}

/// `{apiKeys}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ApiKeyListBody {
    api_keys: Vec<ApiKeyRecord>,
}

/// `{apiKey, key}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct CreatedApiKeyBody {
    api_key: ApiKeyRecord,
    /// The secret, `psk_live_…`: shown only in this response.
    key: String,
}

/// `{ok, id, apiKey}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ApiKeyBody {
    ok: bool,
    id: String,
    api_key: ApiKeyRecord,
}

async fn list_keys(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let found = state.read(move |connection| api_keys::list(connection, &org_id)).await?;
    Ok(HttpResponse::Ok().json(ApiKeyListBody { api_keys: found }))
}

async fn create_key(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request = parse_api_key_request(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    // A key cannot hand out more than it holds: a write-only key must not mint itself a reader.
    if principal.reviewer().is_some_and(|reviewer| !reviewer.scopes.covers(request.scopes)) {
        return Err(ApiError::Forbidden("a key cannot grant a scope it does not hold"));
    }
    let org_id = principal.org_id().clone();
    let (secret, key) =
        new_key(&org_id, request.scopes, request.name).map_err(ApiError::Internal)?;
    let id = key.id.clone();
    let audit = Audit::by(&principal, key.created_at);
    let stored = state
        .write(move |connection| {
            api_keys::insert(connection, &key)?;
            let stored = api_keys::get(connection, &org_id, &id)?;
            let details = json!({"name": stored.name, "scopes": stored.scopes.names()});
            audit.record(connection, AuditAction::ApiKeyCreated, &id, details)?;
            Ok(stored)
        })
        .await?;
    Ok(HttpResponse::Created()
        .json(CreatedApiKeyBody { api_key: stored, key: secret.expose().to_owned() }))
}

async fn revoke_key(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let id = path.into_inner();
    let now = to_storage_precision(Utc::now());
    let revoked_id = id.clone();
    let audit = Audit::by(&principal, now);
    let revoked = state
        .write(move |connection| {
            let before = api_keys::get(connection, &org_id, &id)?;
            let revoked = api_keys::revoke(connection, &org_id, &id, now)?;
            // Revoking a revoked key changes nothing, and records nothing.
            if before.revoked_at.is_none() {
                audit.record(connection, AuditAction::ApiKeyRevoked, &id, json!({}))?;
            }
            Ok(revoked)
        })
        .await
        .map_err(|error| match error {
            ApiError::NotFound(_) => ApiError::not_found("API key"),
            other => other,
        })?;
    // Refused at once by this instance; other instances' caches expire within five seconds (spec §10.3).
    state.credentials.clear();
    Ok(HttpResponse::Ok().json(ApiKeyBody { ok: true, id: revoked_id, api_key: revoked }))
}
