//! `GET /v1/health`: 200 once the database answers, 503 otherwise (spec §9).

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::error::ApiError;
use crate::state::AppState;

/// Registers the route.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config.service(web::resource("/v1/health").get(health));
}

async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let database = state.database.clone();
    web::block(move || database.ping()).await?.map_err(|error| match error {
        error @ traceline_storage::StorageError::Unavailable(_) => ApiError::Unavailable(error),
        other => {
            ApiError::Unavailable(traceline_storage::StorageError::Unavailable(Box::new(other)))
        }
    })?;
    Ok(HttpResponse::Ok().json(json!({"ok": true})))
}
