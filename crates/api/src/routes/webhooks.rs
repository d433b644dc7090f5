//! Webhooks over the API (spec §12): subscribe (the signing secret shown once), list, read, delete, the delivery
//! log, and a test delivery. Admins and `write` keys only.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Value};
use traceline_domain::audit::AuditAction;
use traceline_domain::time::to_storage_precision;
use traceline_domain::webhook::{
    generate_secret, Delivery, EventType, NewWebhook, Webhook, WebhookEvent, WebhookUrl,
    MAX_URL_CHARS,
};
use traceline_domain::{PageRule, ValidationErrors};
use traceline_storage::{deliveries, webhooks};
use uuid::Uuid;

use crate::audit_trail::Audit;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::random::os_random;
use crate::request::{json_body, offset_page, query_params};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;
use crate::webhooks::destination;
use crate::webhooks::post::Attempting;
use crate::webhooks::sender::LEASE;

/// Pages of the delivery log: 20 by default, 1–100.
const DELIVERY_PAGES: PageRule = PageRule { default_limit: 20, min_limit: 1, max_limit: 100 };

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    let events: Vec<&str> = EventType::SUBSCRIBABLE.iter().map(|event| event.as_str()).collect();
    vec![
        Endpoint::new(
            Method::POST,
            "/v1/webhooks",
            "createWebhook",
            "Subscribe a URL to events; the signing secret is shown only in this response",
            Access::Admin,
            |route| route.to(create),
        )
        .body(
            json!({
                "type": "object",
                "required": ["url", "events"],
                "properties": {
                    "url": {
                        "type": "string",
                        "format": "uri",
                        "maxLength": MAX_URL_CHARS,
                        "description": "http(s); its host must resolve to public addresses only, unless the \
                            server allows private ones.",
                    },
                    "events": {"type": "array", "minItems": 1, "items": {"enum": events}},
                },
            }),
            json!({"url": "https://ats.example.com/traceline", "events": ["session.completed", "candidate.hired"]}),
        )
        .reply::<CreatedWebhookBody>(201, "The webhook, and its signing secret (only here).")
        .carries_secret()
        .creates(201, "id", "$response.body#/webhook/id"),
        Endpoint::new(
            Method::GET,
            "/v1/webhooks",
            "listWebhooks",
            "The org's webhooks (never their secrets)",
            Access::Admin,
            |route| route.to(list),
        )
        .reply::<WebhookListBody>(200, "The webhooks, in creation order."),
        Endpoint::new(
            Method::GET,
            "/v1/webhooks/{id}",
            "getWebhook",
            "Read a webhook",
            Access::Admin,
            |route| route.to(get),
        )
        .reply::<WebhookBody>(200, "The webhook."),
        Endpoint::new(
            Method::DELETE,
            "/v1/webhooks/{id}",
            "deleteWebhook",
            "Delete a webhook with its delivery log; nothing more is sent to it",
            Access::Admin,
            |route| route.to(delete),
        )
        .reply::<DeletedWebhookBody>(200, "Deleted."),
        Endpoint::new(
            Method::GET,
            "/v1/webhooks/{id}/deliveries",
            "listWebhookDeliveries",
            "A webhook's delivery log, newest first",
            Access::Admin,
            |route| route.to(list_deliveries),
        )
        .paged(DELIVERY_PAGES)
        .reply::<DeliveryListBody>(200, "A page of deliveries."),
        Endpoint::new(
            Method::POST,
            "/v1/webhooks/{id}/test",
            "testWebhook",
            "Send a signed webhook.test event now, once (5 s to answer), and say how the receiver answered",
            Access::Admin,
            |route| route.to(test),
        )
        .reply::<DeliveryBody>(200, "The attempt, as the delivery log records it."),
    ]
}

/// `{webhook, secret}`.
#[derive(Serialize, JsonSchema)]
struct CreatedWebhookBody {
    webhook: Webhook,
    /// `whsec_…`, which signs every delivery: shown only in this response.
    secret: String,
}

/// `{webhook}`.
#[derive(Serialize, JsonSchema)]
struct WebhookBody {
    webhook: Webhook,
}

/// `{webhooks}`.
#[derive(Serialize, JsonSchema)]
struct WebhookListBody {
    webhooks: Vec<Webhook>,
}

/// `{ok, id}`.
#[derive(Serialize, JsonSchema)]
struct DeletedWebhookBody {
    ok: bool,
    id: String,
}

/// `{deliveries, total, limit, offset}`.
#[derive(Serialize, JsonSchema)]
struct DeliveryListBody {
    deliveries: Vec<Delivery>,
    total: i64,
    limit: i64,
    offset: i64,
}

/// `{delivery}`.
#[derive(Serialize, JsonSchema)]
struct DeliveryBody {
    delivery: Delivery,
}

fn webhook_not_found(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::not_found("webhook"),
        other => other,
    }
}

async fn create(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let request = NewWebhook::parse(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    // DNS blocks: off the executor.
    let allow_private = state.settings.webhooks.allow_private;
    let url = request.url.clone();
    web::block(move || destination::check(&url, allow_private))
        .await?
        .map_err(|problem| ApiError::invalid_body(ValidationErrors::one("url", problem)))?;
    let secret =
        generate_secret(&mut os_random).map_err(|error| ApiError::Internal(error.into()))?;
    let webhook = Webhook {
        id: Uuid::now_v7().to_string(),
        url: request.url.as_str().to_owned(),
        events: request.events,
        created_at: to_storage_precision(Utc::now()),
    };
    let org_id = principal.org_id().clone();
    let audit = Audit::by(&principal, webhook.created_at);
    let details = json!({"url": request.url.without_credentials(), "events": webhook.events});
    let (stored, key) = (webhook.clone(), secret.clone());
    state
        .write(move |connection| {
            webhooks::insert(connection, &org_id, &stored, &key)?;
            audit.record(connection, AuditAction::WebhookCreated, &stored.id, details.clone())
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedWebhookBody { webhook, secret }))
}

async fn list(principal: Principal, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let found = state.read(move |connection| webhooks::list(connection, &org_id)).await?;
    Ok(HttpResponse::Ok().json(WebhookListBody { webhooks: found }))
}

async fn get(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let id = path.into_inner();
    let webhook = state
        .read(move |connection| webhooks::get(connection, &org_id, &id))
        .await
        .map_err(webhook_not_found)?;
    Ok(HttpResponse::Ok().json(WebhookBody { webhook }))
}

async fn delete(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let id = path.into_inner();
    let audit = Audit::by(&principal, to_storage_precision(Utc::now()));
    let deleted = state
        .write(move |connection| {
            let deleted = webhooks::delete(connection, &org_id, &id)?;
            let details = json!({"url": strip_credentials(&deleted.url)});
            audit.record(connection, AuditAction::WebhookDeleted, &deleted.id, details)?;
            Ok(deleted)
        })
        .await
        .map_err(webhook_not_found)?;
    Ok(HttpResponse::Ok().json(DeletedWebhookBody { ok: true, id: deleted.id }))
}

async fn list_deliveries(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = query_params(request.query_string())?;
    let page = offset_page(&params, DELIVERY_PAGES)?;
    let org_id = principal.org_id().clone();
    let id = path.into_inner();
    let (found, total) = state
        .read(move |connection| {
            webhooks::get(connection, &org_id, &id)?;
            deliveries::list(connection, &org_id, &id, page)
        })
        .await
        .map_err(webhook_not_found)?;
    Ok(HttpResponse::Ok().json(DeliveryListBody {
        deliveries: found,
        total,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// Sends `webhook.test` at once: written to the log already claimed by this request (so the background sender
/// leaves it alone), posted on a blocking thread, recorded, and answered as the log now shows it. Not retried.
async fn test(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let id = path.into_inner();
    let now = to_storage_precision(Utc::now());
    let owner = state.webhooks.owner.clone();
    let lease_until =
        now + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(1));
    let audit = Audit::by(&principal, now);
    let claimed = state
        .write(move |connection| {
            let webhook = webhooks::get(connection, &org_id, &id)?;
            let event = WebhookEvent {
                id: Uuid::new_v4().to_string(),
                event_type: EventType::Test,
                created_at: now,
                data: test_data(&webhook),
            };
            let details = json!({"eventId": event.id});
            audit.record(connection, AuditAction::WebhookTested, &webhook.id, details)?;
            deliveries::insert_claimed(
                connection,
                &org_id,
                &webhook.id,
                &event,
                &owner,
                lease_until,
            )
        })
        .await
        .map_err(webhook_not_found)?;
    let webhooks = state.webhooks.clone();
    let sent = claimed.clone();
    let attempt =
        web::block(move || webhooks.poster().attempt(&sent, now, Attempting::Test)).await?;
    let owner = state.webhooks.owner.clone();
    let delivery = state
        .write(move |connection| {
            deliveries::record(connection, &claimed.id, &owner, &attempt)?;
            deliveries::get(connection, &claimed.id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(DeliveryBody { delivery }))
}

/// A stored URL as the audit log names it: without credentials a user may have put in it.
fn strip_credentials(url: &str) -> String {
    WebhookUrl::parse(url).map_or_else(|_| url.to_owned(), |url| url.without_credentials())
}

/// A test event's `data`: the webhook it was sent to.
fn test_data(webhook: &Webhook) -> traceline_domain::json::JsonObject {
    match json!({"webhook": webhook}) {
        Value::Object(object) => object,
        _ => Default::default(),
    }
}
