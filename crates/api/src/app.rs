//! Building the app (shared by `main` and the tests) and serving it on a listener.

use std::net::TcpListener;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::{from_fn, ErrorHandlerResponse, ErrorHandlers, Logger};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::json;

use crate::client_address::ClientAddress;
use crate::error::ApiError;
use crate::ip_limit;
use crate::pages;
use crate::request;
use crate::routes;
use crate::security_headers;
use crate::state::AppState;
use crate::telemetry;

/// The whole application: routes, shared state, limits, error bodies and request logging.
pub fn create_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let body_limit = state.settings.body_limit_bytes;
    let batch_body_limit = state.settings.batch_body_limit_bytes;
    let trusted_proxies = web::Data::new(state.settings.trusted_proxies.clone());
    let telemetry = web::Data::from(state.telemetry.clone());
    App::new()
        .app_data(trusted_proxies)
        .app_data(telemetry)
        .app_data(web::Data::new(state))
        .app_data(web::PayloadConfig::new(body_limit))
        .configure(|config| routes::configure(config, batch_body_limit))
        .configure(pages::configure)
        .default_service(web::to(no_route))
        .wrap(from_fn(request::reject_nul_in_uri))
        .wrap(ErrorHandlers::new().default_handler(json_error_body))
        // Outside the error handlers, whose rewritten bodies would drop the x-ratelimit-* headers.
        .wrap(from_fn(ip_limit::limit_by_ip))
        // Outside the IP limit, so its 429s carry them too: every response does (`nosniff`, spec §10.3).
        .wrap(from_fn(security_headers::add))
        // Outside everything that can answer, so every response is counted with the status the client got.
        .wrap(from_fn(telemetry::observe))
        // Outermost, so the log line shows the response the client really got.
        .wrap(Logger::new("%{client}xi \"%r\" %s %b %Dms").custom_request_replace(
            "client",
            |request| {
                ClientAddress::of(request.request())
                    .map_or_else(|| "-".to_owned(), |client| client.to_string())
            },
        ))
}

/// How long in-flight requests may take to finish after a stop signal before their connections are dropped. A
/// full batch takes well under a second; the bound is for a stuck client, and keeps `SIGTERM` to exit bounded.
const SHUTDOWN_TIMEOUT_SECS: u64 = 30;

/// Serves the app on an already bound listener (tests bind port 0). Stops gracefully on SIGTERM or SIGINT:
/// the listener closes at once, in-flight requests finish (their connections are closed after the answer),
/// then the process exits. Call it inside the actix runtime (`actix_web::rt::System`): it installs the signal
/// handlers there before returning.
pub fn run(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    // Blocking threads only ever wait on a database connection, so many more of them than connections buy
    // nothing but memory: each brings a stack and, under glibc, a malloc arena of its own. actix's default is
    // 512 per process; this is twice the pool, per worker.
    let blocking_threads =
        usize::try_from(state.settings.pool.max_connections).unwrap_or(8).clamp(2, 64) * 2;
    let server = HttpServer::new(move || create_app(state.clone()))
        .worker_max_blocking_threads(blocking_threads)
        // actix stops gracefully on SIGTERM but drops in-flight requests on SIGINT; the spec wants both graceful.
        .shutdown_signal(stop_signal())
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .listen(listener)?
        .run();
    Ok(server)
}

/// Resolves on the first SIGTERM or SIGINT. The handlers are installed when this is called, not when the future
/// is first polled, so a signal sent as soon as [`run`] has returned (by a script that waited for the listening
/// line) is already caught rather than killing the process.
#[cfg(unix)]
fn stop_signal() -> impl std::future::Future<Output = ()> {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    use std::task::Poll;

    let handlers = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()));
    async move {
        let (mut terminate, mut interrupt) = match handlers {
            (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
            (Err(error), _) | (_, Err(error)) => {
                // Without handlers the signals keep their default action: the process ends at once.
                log::error!(
                    "could not listen for SIGTERM/SIGINT, stops will not be graceful: {error}"
                );
                return std::future::pending().await;
            }
        };
        std::future::poll_fn(|cx| {
            if terminate.poll_recv(cx).is_ready() || interrupt.poll_recv(cx).is_ready() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        log::info!("stop signal received: closing the listener, finishing in-flight requests");
    }
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
async fn stop_signal() {
    if let Err(error) = actix_web::rt::signal::ctrl_c().await {
        log::error!("could not listen for Ctrl-C: {error}");
        std::future::pending::<()>().await;
    }
}

/// An unknown path: the API's JSON 404, or a page saying so for paths outside the API.
async fn no_route(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    if pages::is_page_path(request.path()) {
        return Ok(pages::error_page_for(StatusCode::NOT_FOUND));
    }
    Err(ApiError::NotFound(format!("no route for {} {}", request.method(), request.path())))
}

/// Gives a JSON body to error responses produced outside our handlers (a wrong method on a known path, a body
/// over the limit, actix's own extractor errors), so no client ever sees a plain-text or empty error; on the web
/// UI's paths the body is an error page instead, and pages our handlers rendered pass through.
fn json_error_body<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let content_type = |prefix: &[u8]| {
        response
            .response()
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(prefix))
    };
    let is_page = pages::is_page_path(response.request().path());
    if content_type(b"application/json") || (is_page && content_type(b"text/html")) {
        return Ok(ErrorHandlerResponse::Response(response.map_into_left_body()));
    }
    let status = response.status();
    if is_page {
        let (request, old) = response.into_parts();
        let mut page = pages::error_page_for(status);
        for name in [header::ALLOW, header::RETRY_AFTER] {
            if let Some(value) = old.headers().get(&name) {
                page.headers_mut().insert(name, value.clone());
            }
        }
        let response = ServiceResponse::new(request, page.map_body(|_, body| BoxBody::new(body)));
        return Ok(ErrorHandlerResponse::Response(response.map_into_right_body()));
    }
    let (code, message) = describe(status, response.request());
    let (request, old) = response.into_parts();
    let mut replacement = HttpResponse::build(status).json(json!({"error": message, "code": code}));
    for (name, value) in old.headers() {
        if name == header::ALLOW || name == header::RETRY_AFTER {
            replacement.headers_mut().insert(name.clone(), value.clone());
        }
    }
    if status == StatusCode::METHOD_NOT_ALLOWED
        && !replacement.headers().contains_key(header::ALLOW)
    {
        replacement
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST, PATCH, DELETE"));
    }
    let response =
        ServiceResponse::new(request, replacement.map_body(|_, body| BoxBody::new(body)));
    Ok(ErrorHandlerResponse::Response(response.map_into_right_body()))
}

fn describe(status: StatusCode, request: &HttpRequest) -> (&'static str, String) {
    match status {
        StatusCode::BAD_REQUEST => ("invalid_body", "the request could not be read".to_owned()),
        StatusCode::UNAUTHORIZED => ("unauthorized", "missing or invalid credentials".to_owned()),
        StatusCode::FORBIDDEN => ("forbidden", "not allowed".to_owned()),
        StatusCode::NOT_FOUND => {
            ("not_found", format!("no route for {} {}", request.method(), request.path()))
        }
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            format!("method {} is not allowed on {}", request.method(), request.path()),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("payload_too_large", "request body is too large".to_owned())
        }
        StatusCode::TOO_MANY_REQUESTS => ("rate_limited", "too many requests".to_owned()),
        StatusCode::SERVICE_UNAVAILABLE => {
            ("service_unavailable", "service unavailable".to_owned())
        }
        status if status.is_server_error() => ("internal", "internal server error".to_owned()),
        _ => ("invalid_body", status.canonical_reason().unwrap_or("bad request").to_lowercase()),
    }
}
