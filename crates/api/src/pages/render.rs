//! Turning templates into responses, and failures into pages: a page answers with a page (or sends the browser
//! to the sign-in form), never with the API's JSON.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use askama::Template;

use super::layout::Layout;
use crate::error::ApiError;

/// Renders a template as a page that is never cached (it shows an org's data).
pub(crate) fn html(
    status: StatusCode,
    template: &impl Template,
) -> Result<HttpResponse, PageError> {
    let body = template.render().map_err(|error| {
        PageError(ApiError::Internal(anyhow::anyhow!("rendering a page: {error}")))
    })?;
    let mut response = HttpResponse::build(status).body(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A redirect after a form post or to the sign-in form (`303 See Other`: the next request is a GET).
pub(crate) fn see_other(location: &str) -> HttpResponse {
    let mut response = HttpResponse::SeeOther().finish();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A page handler's failure: an API error, shown as a page.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub(crate) struct PageError(pub(crate) ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError(error)
    }
}

impl From<actix_web::error::BlockingError> for PageError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        PageError(error.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    status: u16,
    heading: &'static str,
    message: String,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.0.status_code()
    }

    fn error_response(&self) -> HttpResponse {
        // The API error logs internal causes once, as it would for a JSON answer, and carries Retry-After.
        let api = self.0.error_response();
        let status = api.status();
        // A page names what was wrong with the query, as the API's `details` do.
        let message = match &self.0 {
            ApiError::InvalidQuery(errors) | ApiError::InvalidBody(errors) => errors.to_string(),
            other => other.to_string(),
        };
        let mut page = error_page(status, &message);
        for name in [header::RETRY_AFTER] {
            if let Some(value) = api.headers().get(&name) {
                page.headers_mut().insert(name, value.clone());
            }
        }
        page
    }
}

/// An error page for `status`. 5xx pages say nothing of the cause, like the API's bodies.
pub(crate) fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    let (heading, message) = match status {
        StatusCode::NOT_FOUND => {
            ("Not found", "There is nothing here, or nothing you may see.".to_owned())
        }
        StatusCode::FORBIDDEN => ("Not allowed", sentence(message)),
        StatusCode::TOO_MANY_REQUESTS => ("Too many attempts", sentence(message)),
        StatusCode::SERVICE_UNAVAILABLE => {
            ("Unavailable", "The database is not answering. Try again in a moment.".to_owned())
        }
        status if status.is_server_error() => (
            "Something went wrong",
            "The server could not show this page. It has been logged.".to_owned(),
        ),
        _ => ("Cannot show this page", sentence(message)),
    };
    let template = ErrorPage {
        layout: Layout::new("", None).titled(heading),
        status: status.as_u16(),
        heading,
        message,
    };
    match html(status, &template) {
        Ok(response) => response,
        Err(_) => HttpResponse::build(status).finish(),
    }
}

/// `message` with a capital letter and a full stop, as a page shows it.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut text: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

/// How a page refuses a caller (see `crate::access::Refuse`): no credential sends the browser to the sign-in
/// form, which brings it back afterwards; anything else is an error page.
pub(crate) fn refuse_with_page(request: &HttpRequest, refusal: ApiError) -> HttpResponse {
    match refusal {
        ApiError::Unauthorized => see_other(&login_url(request)),
        other => PageError(other).error_response(),
    }
}

/// `/login?next=<this page>`.
fn login_url(request: &HttpRequest) -> String {
    let here = match request.uri().query() {
        Some(query) => format!("{}?{query}", request.path()),
        None => request.path().to_owned(),
    };
    format!("/login?next={}", super::text::percent_encode(&here))
}

/// Whether a path belongs to the web UI rather than the API: everything outside `/v1`, the OpenAPI document and
/// `/metrics`.
pub(crate) fn is_page_path(path: &str) -> bool {
    !(path == "/v1" || path.starts_with("/v1/") || path == "/openapi.json" || path == "/metrics")
}

/// The page for an error actix produced itself (a wrong method, a body over the limit) on a page path.
pub(crate) fn error_page_for(status: StatusCode) -> HttpResponse {
    let message = status.canonical_reason().unwrap_or("the request could not be served");
    error_page(status, message)
}
