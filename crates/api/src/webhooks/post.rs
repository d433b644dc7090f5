//! One attempt at a delivery: a signed `POST` with ureq (the client the capture side already uses, with
//! native-tls on the vendored OpenSSL the binary links anyway, so the server gains no second TLS stack), run on a
//! thread of its own, never on the async executor. Within 10 s a 2xx is delivered; anything else (another status,
//! a redirect, a timeout, a refused address) is a failure that the retry schedule decides about.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use traceline_domain::webhook::{
    signature_header, RetrySchedule, EVENT_ID_HEADER, SIGNATURE_HEADER,
};
use traceline_storage::deliveries::{Attempt, ClaimedDelivery, NextStep};
use ureq::tls::{TlsConfig, TlsProvider};
use ureq::unversioned::transport::DefaultConnector;
use ureq::Agent;

use crate::webhooks::destination::{GuardedResolver, RESOLVE_TIMEOUT};

/// How long a receiver has to answer (spec §12).
pub(crate) const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a test delivery waits: an admin is waiting for the answer on the page.
pub(crate) const TEST_TIMEOUT: Duration = Duration::from_secs(5);

/// What an attempt is part of.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Attempting<'a> {
    /// A delivery from the outbox: on failure, tried again by this schedule.
    Delivery(&'a RetrySchedule),
    /// A test event: sent once, with [`TEST_TIMEOUT`].
    Test,
}

/// Longest error text kept in the delivery log.
const MAX_ERROR_CHARS: usize = 300;

/// Posts deliveries; cheap to share between threads (ureq's agent pools connections).
#[derive(Debug)]
pub(crate) struct Poster {
    agent: Agent,
}

impl Poster {
    /// A poster that refuses private destinations unless `allow_private`.
    pub(crate) fn new(allow_private: bool) -> Self {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            // A redirect is a failure: following it could lead anywhere, including where the address check
            // would not have let the delivery go.
            .max_redirects(0)
            // Not from the environment: a proxy would connect to addresses the resolver never saw.
            .proxy(None)
            .timeout_global(Some(DELIVERY_TIMEOUT))
            .timeout_resolve(Some(RESOLVE_TIMEOUT))
            .tls_config(TlsConfig::builder().provider(TlsProvider::NativeTls).build())
            .user_agent(concat!("Traceline-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent =
            Agent::with_parts(config, DefaultConnector::new(), GuardedResolver { allow_private });
        Poster { agent }
    }

    /// Sends `delivery` once, signed at `at`, and says what follows.
    pub(crate) fn attempt(
        &self,
        delivery: &ClaimedDelivery,
        at: DateTime<Utc>,
        attempting: Attempting<'_>,
    ) -> Attempt {
        let (timeout, schedule) = match attempting {
            Attempting::Delivery(schedule) => (DELIVERY_TIMEOUT, Some(schedule)),
            Attempting::Test => (TEST_TIMEOUT, None),
        };
        let started = Instant::now();
        let sent = self
            .agent
            .post(&delivery.url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", "application/json")
            .header(EVENT_ID_HEADER, &delivery.event_id)
            .header(
                SIGNATURE_HEADER,
                signature_header(&delivery.secret, at.timestamp(), delivery.body.as_bytes()),
            )
            .send(delivery.body.as_bytes());
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status_code, error) = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let error = (!response.status().is_success()).then(|| format!("answered {status}"));
                (Some(status), error)
            }
            Err(ureq::Error::Timeout(_)) => {
                (None, Some(format!("no answer within {} s", timeout.as_secs())))
            }
            Err(error) => (None, Some(describe(&error))),
        };
        let next = match (&error, schedule) {
            (None, _) => NextStep::Delivered,
            (Some(_), None) => NextStep::GiveUp,
            (Some(_), Some(schedule)) => {
                let finished = at + chrono::Duration::milliseconds(latency_ms);
                schedule
                    .next_attempt(delivery.created_at, delivery.attempts + 1, finished)
                    .map_or(NextStep::GiveUp, NextStep::RetryAt)
            }
        };
        Attempt { at, status_code, latency_ms, error, next }
    }
}

/// The log's words for a transport failure, bounded in length.
fn describe(error: &ureq::Error) -> String {
    let text = match error {
        ureq::Error::HostNotFound => "the host does not resolve".to_owned(),
        ureq::Error::ConnectionFailed => "the connection was refused or failed".to_owned(),
        other => other.to_string(),
    };
    text.chars().take(MAX_ERROR_CHARS).collect()
}
