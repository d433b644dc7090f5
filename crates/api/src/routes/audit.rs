//! The audit log (spec §10.4): read only, newest first. Nothing in the API changes or removes an entry.

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use schemars::JsonSchema;
use serde::Serialize;
use traceline_domain::audit::AuditEntry;
use traceline_domain::{PageRule, Scope};
use traceline_storage::audit;

use crate::error::ApiError;
use crate::principal::Principal;
use crate::request::query_params;
use crate::routes::{cursor_page, Access, Endpoint};
use crate::state::AppState;

/// The routes.
pub(super) fn endpoints() -> Vec<Endpoint> {
    let rule = PageRule::AUDIT;
    vec![Endpoint::new(
        Method::GET,
        "/v1/audit",
        "listAuditEntries",
        "Every change reviewers made in the org, newest first",
        Access::Reviewer(Scope::Read),
        |route| route.to(list_entries),
    )
    .cursor_paged(rule, "entry")
    .reply::<AuditPageBody>(200, "A page of entries.")]
}

/// `{entries, hasMore}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct AuditPageBody {
    entries: Vec<AuditEntry>,
    /// Whether older entries follow.
    has_more: bool,
}

async fn list_entries(
    principal: Principal,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let params = query_params(request.query_string())?;
    let limit = PageRule::AUDIT
        .clamp_param("limit", params.get("limit").map(String::as_str))
        .map_err(ApiError::InvalidQuery)?;
    let after = params.get("after").cloned();
    let org_id = principal.org_id().clone();
    let page = state
        .read(move |connection| Ok(audit::list(connection, &org_id, after.as_deref(), limit)))
        .await?;
    let page = cursor_page(page, "entry of this org's log")?;
    Ok(HttpResponse::Ok().json(AuditPageBody { entries: page.entries, has_more: page.has_more }))
}
