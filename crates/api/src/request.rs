//! Reading request bodies and query strings into JSON values, with the spec's error codes.
//!
//! Handlers take the raw body as bytes and parse it here, after authentication has run, so an unauthenticated
//! request is told 401 whatever its body, and every parse failure is a JSON 400 rather than actix's plain text.

use std::collections::HashMap;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, ResponseError as _};
use serde_json::Value;
use traceline_domain::json::{nul_path, NUL_MESSAGE};
use traceline_domain::{Page, PageRule, ValidationErrors};

use crate::error::ApiError;

/// Parses a request body as JSON. An empty body, malformed JSON, or a string holding U+0000 (which PostgreSQL
/// cannot store) is a 400 `invalid_body`.
pub(crate) fn json_body(body: &web::Bytes) -> Result<Value, ApiError> {
    let value = json_value(body)?;
    match nul_path(&value, "") {
        Some(path) => Err(ApiError::invalid_body(ValidationErrors::one(path, NUL_MESSAGE))),
        None => Ok(value),
    }
}

/// Parses a request body as JSON, leaving the NUL check to the caller: the batch route judges it per event.
pub(crate) fn json_value(body: &web::Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_body(ValidationErrors::one("", "a JSON body is required")));
    }
    serde_json::from_slice(body).map_err(|error| {
        ApiError::invalid_body(ValidationErrors::one(
            "",
            format!("malformed JSON at line {} column {}", error.line(), error.column()),
        ))
    })
}

/// The query string as a map of its parameters; a parameter given twice keeps its last value.
pub(crate) fn query_params(query_string: &str) -> Result<HashMap<String, String>, ApiError> {
    web::Query::<Vec<(String, String)>>::from_query(query_string)
        .map(|pairs| pairs.into_inner().into_iter().collect())
        .map_err(|_| ApiError::InvalidQuery(ValidationErrors::one("", "malformed query string")))
}

/// The `limit` and `offset` of an offset-paged listing, read by `rule` (clamped; a non-integer is a 400).
pub(crate) fn offset_page(
    params: &HashMap<String, String>,
    rule: PageRule,
) -> Result<Page, ApiError> {
    rule.page(params.get("limit").map(String::as_str), params.get("offset").map(String::as_str))
        .map_err(ApiError::InvalidQuery)
}

/// Refuses a request whose path or query string encodes U+0000 (`%00`) with a 400 `invalid_query`, before any
/// handler reads it: path ids and query values reach the database, and PostgreSQL cannot compare text holding
/// NUL (it fails the statement, which would be a 500).
pub(crate) async fn reject_nul_in_uri<B: MessageBody>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let uri = request.uri();
    let encodes_nul =
        |text: &str| text.as_bytes().windows(3).any(|window| window.eq_ignore_ascii_case(b"%00"));
    if encodes_nul(uri.path()) || uri.query().is_some_and(encodes_nul) {
        let refusal = ApiError::InvalidQuery(ValidationErrors::one("", NUL_MESSAGE));
        return Ok(request.into_response(refusal.error_response()).map_into_right_body());
    }
    Ok(next.call(request).await?.map_into_left_body())
}
