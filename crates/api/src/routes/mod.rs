//! Every route of the API, one module per resource.

mod assessments;
mod candidate;
mod health;
mod ingest;
mod keys;
mod metrics;
mod review;
mod sessions;
mod timeline;

use actix_web::web;

/// Registers all routes on an app or scope; the batch ingest route takes bodies up to `batch_body_limit`.
pub(crate) fn configure(config: &mut web::ServiceConfig, batch_body_limit: usize) {
    health::configure(config);
    ingest::configure(config, batch_body_limit);
    timeline::configure(config);
    metrics::configure(config);
    review::configure(config);
    sessions::configure(config);
    assessments::configure(config);
    keys::configure(config);
    candidate::configure(config);
}
