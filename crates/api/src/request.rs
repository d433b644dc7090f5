//! Reading request bodies and query strings into JSON values, with the spec's error codes.
//!
//! Handlers take the raw body as bytes and parse it here, after authentication has run, so an unauthenticated
//! request is told 401 whatever its body, and every parse failure is a JSON 400 rather than actix's plain text.

use std::collections::HashMap;

use actix_web::web;
use serde_json::Value;
use traceline_domain::ValidationErrors;

use crate::error::ApiError;

/// Parses a request body as JSON. An empty body or malformed JSON is a 400 `invalid_body`.
pub(crate) fn json_body(body: &web::Bytes) -> Result<Value, ApiError> {
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
