//! The org's own settings (spec §12): its retention, and erasing a candidate. Admins and `write` keys only.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use traceline_domain::audit::AuditAction;
use traceline_domain::retention::{Retention, MAX_RETENTION_DAYS};
use traceline_domain::time::to_storage_precision;
use traceline_domain::ValidationErrors;
use traceline_storage::{erasure, orgs};

use crate::audit_trail::Audit;
use crate::dto::ApiTime;
use crate::error::ApiError;
use crate::principal::Principal;
use crate::request::{json_body, query_params};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::GET, "/v1/org", "getOrg", "The caller's org and its retention", Access::Admin, |route| {
            route.to(get_org)
        })
        .reply::<OrgBody>(200, "The org."),
        Endpoint::new(
            Method::PATCH,
            "/v1/org",
            "updateOrg",
            "Set how long sessions are kept (null: for ever)",
            Access::Admin,
            |route| route.to(update_org),
        )
        .body(
            json!({
                "type": "object",
                "required": ["retentionDays"],
                "properties": {
                    "retentionDays": {
                        "type": ["integer", "null"],
                        "minimum": 1,
                        "maximum": MAX_RETENTION_DAYS,
                        "description": "Sessions that ended (or, while open, were last active) more than this many \
                            days ago are deleted by a background sweep, at least hourly.",
                    },
                },
            }),
            json!({"retentionDays": 90}),
        )
        .reply::<OrgBody>(200, "The org."),
        Endpoint::new(
            Method::DELETE,
            "/v1/candidates",
            "eraseCandidate",
            "Erase a candidate: their sessions are deleted and their keys keep no name or e-mail",
            Access::Admin,
            |route| route.to(erase_candidate),
        )
        .query("email", "The candidate's address (any case).", json!({"type": "string", "format": "email"}))
        .reply::<ErasedBody>(200, "What was erased (zeros when no key has this address)."),
    ]
}

/// The org as its settings show it.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct OrgView {
    id: String,
    name: String,
    /// Days sessions are kept after they end; null keeps them for ever.
    retention_days: Option<i64>,
    created_at: ApiTime,
}

/// `{org}`.
#[derive(Serialize, JsonSchema)]
struct OrgBody {
    org: OrgView,
}

/// `{erasedSessions, erasedKeys}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ErasedBody {
    erased_sessions: usize,
    erased_keys: usize,
}

fn org_body(org: traceline_domain::Org, retention_days: Option<i64>) -> OrgBody {
    OrgBody {
        org: OrgView {
            id: org.id.as_str().to_owned(),
            name: org.name.as_str().to_owned(),
            retention_days,
            created_at: ApiTime(org.created_at),
        },
    }
}

async fn get_org(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let org_id = principal.org_id().clone();
    let (org, days) = state
        .read(move |connection| {
            Ok((orgs::get(connection, &org_id)?, orgs::retention_days(connection, &org_id)?))
        })
        .await?;
    Ok(HttpResponse::Ok().json(org_body(org, days)))
}

async fn update_org(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let Retention(days) =
        Retention::parse_patch(&json_body(&body)?).map_err(ApiError::invalid_body)?;
    let org_id = principal.org_id().clone();
    let audit = Audit::by(&principal, to_storage_precision(Utc::now()));
    let org = state
        .write(move |connection| {
            let previous = orgs::retention_days(connection, &org_id)?;
            orgs::set_retention_days(connection, &org_id, days)?;
            if previous != days {
                let details = json!({"retentionDays": days, "previousRetentionDays": previous});
                audit.record(
                    connection,
                    AuditAction::RetentionChanged,
                    org_id.as_str(),
                    details,
                )?;
            }
            orgs::get(connection, &org_id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(org_body(org, days)))
}

async fn erase_candidate(
    principal: Principal,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = query_params(request.query_string())?;
    let email = match params.get("email").map(|email| email.trim()) {
        Some(email) if !email.is_empty() => email.to_owned(),
        _ => return Err(ApiError::InvalidQuery(ValidationErrors::one("email", "is required"))),
    };
    let org_id = principal.org_id().clone();
    let now: DateTime<Utc> = to_storage_precision(Utc::now());
    let audit = Audit::by(&principal, now);
    let erased = state
        .write(move |connection| {
            let erased = erasure::erase_candidate(connection, &org_id, &email, now)?;
            // Named by its keys, which stay (nameless); never by the address, which is what was erased.
            if let Some(first) = erased.key_ids.first() {
                let details = json!({"keyIds": erased.key_ids, "sessionIds": erased.session_ids});
                audit.record(connection, AuditAction::CandidateErased, first, details)?;
            }
            Ok(erased)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ErasedBody {
        erased_sessions: erased.session_ids.len(),
        erased_keys: erased.key_ids.len(),
    }))
}
