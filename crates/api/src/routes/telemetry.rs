//! `GET /metrics` (spec §13): the server's counters in Prometheus' text format, without authentication, unless
//! `TRACELINE_METRICS=off`, which answers it 404 like any unknown path.

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use traceline_storage::deliveries;

use crate::error::ApiError;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;
use crate::telemetry::exposition::CONTENT_TYPE;
use crate::telemetry::render::render;

/// The route.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(
        Method::GET,
        "/metrics",
        "getServerMetrics",
        "The server's counters in Prometheus text format (off with TRACELINE_METRICS=off)",
        Access::Public,
        |route| route.to(metrics),
    )
    .reply_text(
        200,
        "Requests by route and status, latencies, ingest, the database's pools and writer.",
    )
    .refusal(404, "Metrics are off (TRACELINE_METRICS=off).")]
}

async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if !state.settings.metrics {
        return Err(ApiError::NotFound("no route for GET /metrics".to_owned()));
    }
    // The backlog is one indexed count; without an answer the page still reports everything else.
    let backlog = match state.read(deliveries::backlog).await {
        Ok(backlog) => Some(backlog),
        Err(error) => {
            log::warn!("metrics: the webhook backlog could not be read: {error}");
            None
        }
    };
    let page = render(&state.telemetry, &state.database.stats(), backlog);
    Ok(HttpResponse::Ok().content_type(CONTENT_TYPE).body(page))
}
