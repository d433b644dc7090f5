//! In-memory rate limits (spec §9): requests per client IP over all routes, and events per credential on ingest.
//!
//! # Semantics
//!
//! Each limit counts cost per key in a fixed 60-second window that opens at the key's first request (after the
//! previous window ended). With a limit of 100, the 101st unit of cost inside the window is refused with 429
//! `rate_limited` and `Retry-After` (seconds until the window ends). A refused request consumes nothing, and a
//! cost above the whole limit (a batch larger than the limit) is refused outright. Fixed windows let a client
//! spend up to twice the limit across a window boundary; the spec asks for a per-minute budget, and a window
//! that starts at first use is easy to explain in `x-ratelimit-reset`.
//!
//! - **IP limit** (`Settings::ip_rate_per_min`, default 300, 0 = off): every request costs 1, keyed by the
//!   client's address ([`crate::client_address`]): the TCP peer, or, when the peer is one of
//!   `Settings::trusted_proxies`, the client its `X-Forwarded-For` / `Forwarded` header names. From any other
//!   peer those headers are ignored, since a client could set them to get a fresh budget per request.
//!   IPv4-mapped IPv6 peers count as their IPv4 address. A request without a peer address (only in-process
//!   tests) is not IP-limited.
//! - **Ingest limit** (`Settings::ingest_rate_per_min`, default 100, 0 = off): per candidate credential, a batch
//!   costing its number of events. The IP limit is checked first, so a request refused by the ingest limit has
//!   still spent one unit of its IP budget.
//! - **Failed credentials** (`Settings::auth_failures_per_window`, default 20, 0 = off; spec §10.3): credentials
//!   presented and refused (sign-ins, API keys, candidate keys and tokens, redeemed keys), per client address in
//!   ten-minute windows, IPv6 addresses by their /64 ([`FailedAttempts`]). An address that used up its window is
//!   answered 429 by every route that reads a credential, whatever credential it sends, until the window ends.
//!
//! Every response carries `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (Unix seconds) for
//! the tightest decision made for it (a refusal first, then the fewest remaining): errors, 404s and 401s
//! included. With no limit in force, no such headers are sent.
//!
//! # The ingest handler's part
//!
//! The middleware (`ip_limit::limit_by_ip`, wrapped in `create_app` outside the error handlers, so the headers land on
//! the final response) checks the IP limit and writes the headers on the way out, merging any decision the
//! handler [`attach`]ed to its response. After authenticating, the ingest handler charges the credential:
//!
//! ```
//! use actix_web::{web, HttpResponse};
//! use traceline_api::{rate_limit, ApiError, AppState};
//!
//! async fn ingest(
//!     state: web::Data<AppState>,
//!     candidate_key_id: String,
//!     events: u32,
//! ) -> Result<HttpResponse, ApiError> {
//!     let now = std::time::SystemTime::now();
//!     // Keyed by the candidate key's id, never its secret: tokens redeemed from one key share its budget.
//!     let decision = state.rate_limits.check_ingest(&candidate_key_id, events, now)?;
//!     // ... ingest ...
//!     let mut response = HttpResponse::MultiStatus().json(serde_json::json!({"results": []}));
//!     rate_limit::attach(&mut response, decision);
//!     Ok(response)
//! }
//! ```
//!
//! A refusal is `Err(Refused(decision))`, which converts into `ApiError::RateLimited` carrying its decision, so
//! `?` alone yields the 429 with the right headers. To report the charged decision on a later error response too, turn the error into a response
//! first (`HttpResponse::from_error(error)`) and `attach` to that.
//!
//! # Memory and concurrency
//!
//! Each limiter has 16 mutex-guarded shards chosen by a per-process keyed hash, so workers rarely wait on one
//! another. Expired windows are swept opportunistically, every 1,024 checks per shard: a limiter holds at most
//! the keys seen within one window plus 16 × 1,023 stale entries (see [`RateLimiter`]).
//!
//! Counts live in this process only. Several instances behind a load balancer each count alone, so the
//! effective limit is the number of instances times the configured one (`docs/API-NOTES.md`).

mod failures;
mod limiter;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::SystemTime;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::HttpResponse;

pub use failures::{FailedAttempts, FAILURE_LIMIT, FAILURE_WINDOW};
pub use limiter::{RateDecision, RateLimiter, WINDOW};

const LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");

/// A refused decision: the API answers it 429 `rate_limited` with `Retry-After` and the decision's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused(pub RateDecision);

/// The server's limiters, one per limit in force; shared by every worker through `AppState`.
#[derive(Debug)]
pub struct RateLimits {
    ip: Option<RateLimiter>,
    ingest: Option<RateLimiter>,
    /// Failed credential checks per client address (spec §10.3): sign-ins, API credentials and redeemed keys.
    pub failed_credentials: FailedAttempts,
}

impl RateLimits {
    /// Limiters for requests per IP and events per ingest credential, each per minute; 0 turns a limit off.
    pub fn new(ip_per_minute: u32, ingest_per_minute: u32) -> Self {
        Self {
            ip: NonZeroU32::new(ip_per_minute).map(RateLimiter::new),
            ingest: NonZeroU32::new(ingest_per_minute).map(RateLimiter::new),
            failed_credentials: FailedAttempts::default(),
        }
    }

    /// The same limiters, with `per_window` failed credential checks allowed per client address in each
    /// [`FAILURE_WINDOW`] (0 turns that limit off) instead of [`FAILURE_LIMIT`].
    pub fn with_failed_credential_limit(self, per_window: u32) -> Self {
        Self { failed_credentials: FailedAttempts::new(per_window), ..self }
    }

    /// Charges one request to a client IP; `None` when the IP limit is off. The caller refuses when the
    /// decision is not `allowed`.
    pub fn check_ip(&self, ip: IpAddr, now: SystemTime) -> Option<RateDecision> {
        let limiter = self.ip.as_ref()?;
        Some(limiter.check(&ip.to_canonical().to_string(), 1, now))
    }

    /// Charges `events` to an ingest credential. `Ok(None)` when the ingest limit is off; `Ok(Some(decision))`
    /// to [`attach`] to the response; `Err(Refused)` when refused (nothing is charged then).
    pub fn check_ingest(
        &self,
        credential: &str,
        events: u32,
        now: SystemTime,
    ) -> Result<Option<RateDecision>, Refused> {
        let Some(limiter) = &self.ingest else {
            return Ok(None);
        };
        let decision = limiter.check(credential, events, now);
        if decision.allowed {
            Ok(Some(decision))
        } else {
            Err(Refused(decision))
        }
    }
}

/// Hands a handler's rate-limit decision to the middleware, which reports it in the `x-ratelimit-*` headers if
/// it is tighter than the IP limit's. Attaching twice keeps the tighter of the two.
pub fn attach<B>(response: &mut HttpResponse<B>, decision: Option<RateDecision>) {
    let Some(decision) = decision else {
        return;
    };
    let mut extensions = response.extensions_mut();
    let earlier = extensions.get::<RateDecision>().copied();
    if let Some(tightest) = RateDecision::tightest(earlier.into_iter().chain([decision])) {
        extensions.insert(tightest);
    }
}

/// Sets `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (Unix seconds) from `decision`.
/// `Retry-After` belongs to the 429 itself and is set by `ApiError::RateLimited`.
pub fn write_headers(headers: &mut HeaderMap, decision: &RateDecision) {
    headers.insert(LIMIT, HeaderValue::from(decision.limit));
    headers.insert(REMAINING, HeaderValue::from(decision.remaining));
    headers.insert(RESET, HeaderValue::from(decision.reset_unix_secs));
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let limits = RateLimits::new(0, 0);
        assert_eq!(limits.check_ip("10.0.0.1".parse().unwrap(), now()), None);
        assert_eq!(limits.check_ingest("key", 10_000, now()).unwrap(), None);
    }

    #[test]
    fn ingest_counts_events_and_refuses_with_the_decision() {
        let limits = RateLimits::new(0, 100);
        let first = limits.check_ingest("key-1", 60, now()).unwrap().unwrap();
        assert_eq!((first.limit, first.remaining), (100, 40));
        match limits.check_ingest("key-1", 41, now() + Duration::from_secs(15)) {
            Err(Refused(decision)) if decision.retry_after_secs == 45 => {
                assert_eq!(decision.remaining, 40);
                assert!(!decision.allowed);
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(limits.check_ingest("key-1", 40, now()).unwrap().unwrap().remaining, 0);
        assert_eq!(limits.check_ingest("key-2", 1, now()).unwrap().unwrap().remaining, 99);
    }

    #[test]
    fn ipv4_mapped_ipv6_peers_share_the_ipv4_budget() {
        let limits = RateLimits::new(2, 0);
        assert!(limits.check_ip("192.0.2.7".parse().unwrap(), now()).unwrap().allowed);
        let mapped = limits.check_ip("::ffff:192.0.2.7".parse().unwrap(), now()).unwrap();
        assert_eq!(mapped.remaining, 0);
        assert!(!limits.check_ip("192.0.2.7".parse().unwrap(), now()).unwrap().allowed);
        assert!(limits.check_ip("2001:db8::7".parse().unwrap(), now()).unwrap().allowed);
    }

    #[test]
    fn attaching_keeps_the_tighter_decision() {
        let decision = |remaining| RateDecision {
            allowed: true,
            limit: 100,
            remaining,
            reset_unix_secs: 1,
            retry_after_secs: 0,
        };
        let mut response = HttpResponse::Ok().finish();
        attach(&mut response, None);
        assert!(response.extensions().get::<RateDecision>().is_none());
        attach(&mut response, Some(decision(7)));
        attach(&mut response, Some(decision(30)));
        assert_eq!(response.extensions().get::<RateDecision>(), Some(&decision(7)));
    }
}
