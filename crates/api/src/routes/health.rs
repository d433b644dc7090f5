//! `GET /v1/health`: 200 once the database answers, 503 otherwise (spec §9).

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use schemars::JsonSchema;
use serde::Serialize;

use crate::error::ApiError;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

/// The route.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(
        Method::GET,
        "/v1/health",
        "health",
        "200 once the database answers, 503 otherwise",
        Access::Public,
        |route| route.to(health),
    )
    .reply::<OkBody>(200, "The database answers.")]
}

/// `{"ok": true}`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct OkBody {
    /// Always true.
    pub(crate) ok: bool,
}

async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let database = state.database.clone();
    web::block(move || database.ping()).await?.map_err(|error| match error {
        error @ traceline_storage::StorageError::Unavailable(_) => ApiError::Unavailable(error),
        other => {
            ApiError::Unavailable(traceline_storage::StorageError::Unavailable(Box::new(other)))
        }
    })?;
    Ok(HttpResponse::Ok().json(OkBody { ok: true }))
}
