//! Every route of the API, one module per resource.

mod health;
mod sessions;

use actix_web::web;

/// Registers all routes on an app or scope.
pub(crate) fn configure(config: &mut web::ServiceConfig) {
    health::configure(config);
    sessions::configure(config);
}
