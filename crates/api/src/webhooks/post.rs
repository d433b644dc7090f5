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

use crate::webhooks::destination::GuardedResolver;

/// How long a receiver has to answer (spec §12).
pub(crate) const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

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
            .tls_config(TlsConfig::builder().provider(TlsProvider::NativeTls).build())
            .user_agent(concat!("Traceline-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent =
            Agent::with_parts(config, DefaultConnector::new(), GuardedResolver { allow_private });
        Poster { agent }
    }

    /// Sends `delivery` once, signed at `at`, and says what follows under `schedule`. A test delivery passes no
    /// schedule: it is tried once.
    pub(crate) fn attempt(
        &self,
        delivery: &ClaimedDelivery,
        at: DateTime<Utc>,
        schedule: Option<&RetrySchedule>,
    ) -> Attempt {
        let started = Instant::now();
        let sent = self
            .agent
            .post(&delivery.url)
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
        ureq::Error::Timeout(_) => format!("no answer within {} s", DELIVERY_TIMEOUT.as_secs()),
        ureq::Error::HostNotFound => "the host does not resolve".to_owned(),
        ureq::Error::ConnectionFailed => "the connection was refused or failed".to_owned(),
        other => other.to_string(),
    };
    text.chars().take(MAX_ERROR_CHARS).collect()
}
