//! `GET /openapi.json`: the API's own description, public like the health check.

use actix_web::http::Method;
use actix_web::HttpResponse;
use serde_json::Value;

use super::openapi;
use crate::routes::{Access, Endpoint};

/// The route.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(
        Method::GET,
        "/openapi.json",
        "openapi",
        "This OpenAPI 3.1 document",
        Access::Public,
        |route| route.to(document),
    )
    .reply::<Value>(200, "The OpenAPI document.")]
}

async fn document() -> HttpResponse {
    HttpResponse::Ok().json(openapi::document())
}
