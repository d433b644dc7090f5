//! What the server counts about itself for `GET /metrics` (spec §13): requests by route pattern and status with
//! their latency, and events ingested. The database's own gauges (pools, SQLite's writer) are read from
//! `traceline_storage::Database::stats` when the page is rendered.
//!
//! Requests are labelled by the route pattern actix matched (`/v1/sessions/{id}`), never by the raw path, and by
//! a method from a fixed list, so nothing a client puts in a URL can grow the label set: unknown paths are
//! `unmatched`, unknown methods `other`.

pub(crate) mod exposition;
pub(crate) mod render;
mod requests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

pub(crate) use requests::{RequestCounts, LATENCY_BOUNDS};

/// The counters shared by every worker.
#[derive(Debug, Default)]
pub struct Telemetry {
    requests: RequestCounts,
    events_ingested: AtomicU64,
}

impl Telemetry {
    /// Counts `events` newly stored by ingest (duplicates and refusals are not).
    pub fn ingested(&self, events: u64) {
        self.events_ingested.fetch_add(events, Ordering::Relaxed);
    }

    /// Events stored since start.
    pub(crate) fn events_ingested(&self) -> u64 {
        self.events_ingested.load(Ordering::Relaxed)
    }

    /// The request counts.
    pub(crate) fn requests(&self) -> &RequestCounts {
        &self.requests
    }
}

/// Middleware: counts every response by the route it matched, its method and status, and times it. Wrapped
/// outside the error handlers and limits, so the status is the one the client got.
pub(crate) async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    // Registered by `create_app` beside the state (`AppState::telemetry`), so this module needs no state of its own.
    let telemetry = request.app_data::<web::Data<Telemetry>>().cloned();
    let response = next.call(request).await?;
    if let Some(telemetry) = telemetry {
        let route = response.request().match_pattern();
        telemetry.requests.record(
            response.request().method(),
            route.as_deref(),
            response.status().as_u16(),
            started.elapsed(),
        );
    }
    Ok(response)
}
