//! The API's one error type and its JSON body `{"error", "code", "details"?}` (spec §1).

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use schemars::JsonSchema;
use serde::Serialize;
use traceline_domain::ValidationErrors;
use traceline_storage::StorageError;

use crate::rate_limit::{self, RateDecision, Refused};

/// `Retry-After` of a 503: the database is restarting or the pool is exhausted; either usually passes within
/// seconds, and a client that waits a little spares the server a burst of retries.
const UNAVAILABLE_RETRY_AFTER_SECS: u32 = 2;

/// Everything a request can fail with, each variant with its status and stable machine code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON, or not the JSON the route takes.
    #[error("invalid request body")]
    InvalidBody(ValidationErrors),
    /// A query parameter is malformed.
    #[error("invalid query parameters")]
    InvalidQuery(ValidationErrors),
    /// Missing, malformed, unknown, revoked or expired credential; deliberately says no more.
    #[error("missing or invalid credentials")]
    Unauthorized,
    /// The credential is valid but may not use this route.
    #[error("{0}")]
    Forbidden(&'static str),
    /// A candidate's write after their record closed (completed, hired): 403 `session_closed` (spec §10.1).
    #[error("this candidate's record is closed: it can be read, but no longer changed")]
    SessionClosed,
    /// No such resource, or one the caller may not see.
    #[error("{0}")]
    NotFound(String),
    /// No route takes this method on this path.
    #[error("method {method} is not allowed here")]
    MethodNotAllowed {
        /// The method the client used.
        method: String,
    },
    /// A write collided with an existing resource.
    #[error("{0}")]
    Conflict(String),
    /// `POST /v1/sessions` with an id that exists in any org.
    #[error("Session already exists")]
    SessionExists {
        /// The id the client sent.
        id: String,
    },
    /// The body is larger than the route accepts.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Over a rate limit (spec §9): 429 with `Retry-After`.
    #[error("too many requests, retry in {retry_after_secs} seconds")]
    RateLimited {
        /// Whole seconds until a retry could succeed; sent as `Retry-After`.
        retry_after_secs: u64,
        /// The refusing limit's state, reported in the `x-ratelimit-*` headers.
        decision: Option<RateDecision>,
    },
    /// The database cannot be reached; retrying later may succeed.
    #[error("the database is unavailable, try again shortly")]
    Unavailable(#[source] StorageError),
    /// A fault of the server. Its cause is logged, never sent.
    #[error("internal server error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 404 naming what was not found.
    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    /// A 400 for a body that failed validation.
    pub fn invalid_body(errors: ValidationErrors) -> Self {
        ApiError::InvalidBody(errors)
    }

    /// The stable machine-readable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidBody(_) => "invalid_body",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::SessionClosed => "session_closed",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Conflict(_) | ApiError::SessionExists { .. } => "conflict",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    fn details(&self) -> Option<Vec<DetailBody<'_>>> {
        match self {
            ApiError::InvalidBody(errors) | ApiError::InvalidQuery(errors)
                if !errors.is_empty() =>
            {
                Some(
                    errors
                        .0
                        .iter()
                        .map(|e| DetailBody { path: &e.path, message: &e.message })
                        .collect(),
                )
            }
            _ => None,
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::InvalidBody(errors) | ApiError::InvalidQuery(errors)
                if !errors.is_empty() =>
            {
                format!("{self}: {errors}")
            }
            _ => self.to_string(),
        }
    }
}

/// Every error response's body (spec §1); the OpenAPI document describes errors by this type.
#[derive(Serialize, JsonSchema)]
pub(crate) struct ErrorBody<'a> {
    /// A sentence for people.
    error: String,
    /// The stable machine code.
    code: &'a str,
    /// What was wrong with which field, for `invalid_body` and `invalid_query`.
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Vec<DetailBody<'a>>>,
    /// The id that already exists, on `POST /v1/sessions`'s 409.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
}

#[derive(Serialize, JsonSchema)]
struct DetailBody<'a> {
    /// The dotted path of the field (`data.command`, `events.3.ts`); empty for the body as a whole.
    path: &'a str,
    message: &'a str,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::InvalidBody(_) | ApiError::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::SessionClosed => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::SessionExists { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => log::error!("internal error: {cause:#}"),
            ApiError::Unavailable(cause) => {
                log::warn!("database unavailable: {}", error_chain(cause))
            }
            _ => {}
        }
        let id = match self {
            ApiError::SessionExists { id } => Some(id.as_str()),
            _ => None,
        };
        let body =
            ErrorBody { error: self.message(), code: self.code(), details: self.details(), id };
        let mut response = HttpResponse::build(self.status_code()).json(body);
        match self {
            ApiError::RateLimited { retry_after_secs, decision } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
                rate_limit::attach(&mut response, *decision);
            }
            ApiError::Unavailable(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS));
            }
            _ => {}
        }
        response
    }
}

/// An error followed by its causes, for logs and health reports.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::NotFound => ApiError::not_found("resource"),
            StorageError::Conflict { .. } => {
                ApiError::Conflict("resource already exists".to_owned())
            }
            // A deadlock or serialisation failure that outlasted the retries: the same request later will do.
            StorageError::Unavailable(_) | StorageError::Contended(_) => {
                ApiError::Unavailable(error)
            }
            StorageError::Refused(errors) => ApiError::InvalidBody(errors),
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

impl From<Refused> for ApiError {
    fn from(Refused(decision): Refused) -> Self {
        ApiError::RateLimited {
            retry_after_secs: decision.retry_after_secs,
            decision: Some(decision),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(anyhow::Error::new(error))
    }
}
