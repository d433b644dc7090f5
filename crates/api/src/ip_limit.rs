//! The per-IP rate-limit middleware (`crate::rate_limit`), which also writes the `x-ratelimit-*` headers for the
//! tightest decision a request met.

use std::time::SystemTime;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::client_address::ClientAddress;
use crate::error::ApiError;
use crate::rate_limit::{write_headers, RateDecision, Refused};
use crate::state::AppState;

/// Refuses a request over its client IP's limit before routing or authentication (so a flood costs no database
/// work), and writes the rate-limit headers on every response, merging a decision the handler attached.
///
/// Errors the inner service returns as `Err` rather than as a response pass through without headers; our
/// handlers and the JSON error handlers never do that.
pub(crate) async fn limit_by_ip<B: MessageBody>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let client = ClientAddress::of(request.request());
    let ip_decision = match (request.app_data::<web::Data<AppState>>(), client) {
        (Some(state), Some(client)) => state.rate_limits.check_ip(client.ip(), SystemTime::now()),
        _ => None,
    };
    let mut response = match ip_decision {
        Some(decision) if !decision.allowed => {
            request.error_response(ApiError::from(Refused(decision))).map_into_right_body()
        }
        _ => next.call(request).await?.map_into_left_body(),
    };
    let attached = response.response().extensions().get::<RateDecision>().copied();
    if let Some(decision) = RateDecision::tightest(ip_decision.into_iter().chain(attached)) {
        write_headers(response.headers_mut(), &decision);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use actix_web::http::StatusCode;
    use actix_web::middleware::from_fn;
    use actix_web::{test, App, HttpResponse};
    use traceline_storage::DatabaseUrl;

    use super::*;
    use crate::rate_limit::attach;
    use crate::Settings;

    /// A stand-in for the ingest handler: charges `?cost=` events to one credential.
    async fn ingest(
        state: web::Data<AppState>,
        query: web::Query<std::collections::HashMap<String, u32>>,
    ) -> Result<HttpResponse, ApiError> {
        let cost = query.get("cost").copied().unwrap_or(1);
        let decision =
            state.rate_limits.check_ingest("candidate-key-id", cost, SystemTime::now())?;
        let mut response = HttpResponse::Created().finish();
        attach(&mut response, decision);
        Ok(response)
    }

    fn state(ip: u32, ingest: u32) -> AppState {
        // The pools open lazily and these handlers never touch them.
        let mut settings =
            Settings::new(DatabaseUrl::Sqlite { path: "/nonexistent/unused.db".into() });
        settings.ip_rate_per_min = ip;
        settings.ingest_rate_per_min = ingest;
        AppState::new(settings)
    }

    fn header(response: &ServiceResponse<impl MessageBody>, name: &str) -> Option<u64> {
        response.headers().get(name).map(|value| value.to_str().unwrap().parse().unwrap())
    }

    #[actix_web::test]
    async fn the_tighter_of_the_ip_and_ingest_decisions_is_reported() {
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(state(10, 100)))
                .route("/ingest", web::post().to(ingest))
                .wrap(from_fn(limit_by_ip)),
        )
        .await;
        let peer: SocketAddr = "198.51.100.4:5000".parse().unwrap();
        let call = |cost: u32| {
            test::TestRequest::post()
                .uri(&format!("/ingest?cost={cost}"))
                .peer_addr(peer)
                .to_request()
        };

        let small = test::call_service(&app, call(1)).await;
        assert_eq!(small.status(), StatusCode::CREATED);
        assert_eq!(
            header(&small, "x-ratelimit-limit"),
            Some(10),
            "9 requests left beats 99 events"
        );
        assert_eq!(header(&small, "x-ratelimit-remaining"), Some(9));

        let batch = test::call_service(&app, call(95)).await;
        assert_eq!(batch.status(), StatusCode::CREATED);
        assert_eq!(
            header(&batch, "x-ratelimit-limit"),
            Some(100),
            "4 events left beats 8 requests"
        );
        assert_eq!(header(&batch, "x-ratelimit-remaining"), Some(4));

        let refused = test::call_service(&app, call(5)).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            header(&refused, "x-ratelimit-limit"),
            Some(100),
            "the refusing limit is reported"
        );
        assert_eq!(header(&refused, "x-ratelimit-remaining"), Some(4));
        assert!(header(&refused, "retry-after").is_some_and(|secs| (1..=60).contains(&secs)));
        let body: serde_json::Value = test::read_body_json(refused).await;
        assert_eq!(body["code"], "rate_limited");
    }

    #[actix_web::test]
    async fn requests_without_a_peer_address_are_not_ip_limited() {
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(state(1, 0)))
                .route("/ingest", web::post().to(ingest))
                .wrap(from_fn(limit_by_ip)),
        )
        .await;
        for _ in 0..3 {
            let response =
                test::call_service(&app, test::TestRequest::post().uri("/ingest").to_request())
                    .await;
            assert_eq!(response.status(), StatusCode::CREATED);
            assert!(response.headers().get("x-ratelimit-limit").is_none());
        }
    }
}
