//! Server settings, built once in `main` from flags and environment and passed down; never global.

use std::time::Duration;

use traceline_domain::webhook::RetrySchedule;
use traceline_storage::{DatabaseUrl, PoolSettings};

use crate::client_address::TrustedProxies;

/// Default request body limit: 1 MiB (spec §1).
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// Default body limit of the batch ingest route: 8 MiB (spec §4).
pub const DEFAULT_BATCH_BODY_LIMIT_BYTES: usize = 8 * 1024 * 1024;

/// Default requests per minute from one client IP over all routes (spec §9).
pub const DEFAULT_IP_RATE_PER_MIN: u32 = 300;

/// Default events per minute one credential may ingest (spec §9).
pub const DEFAULT_INGEST_RATE_PER_MIN: u32 = 100;

/// Default failed credential checks one client address may make in ten minutes (spec §10.3).
pub const DEFAULT_AUTH_FAILURES_PER_WINDOW: u32 = 20;

/// Everything the HTTP server needs to know.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the database is.
    pub database_url: DatabaseUrl,
    /// Pool sizes and timeouts.
    pub pool: PoolSettings,
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub body_limit_bytes: usize,
    /// Largest body of `POST /v1/hooks/ingest/batch`, in bytes (a batch carries up to 500 events).
    pub batch_body_limit_bytes: usize,
    /// Requests per minute from one client IP over all routes; 0 turns the limit off.
    pub ip_rate_per_min: u32,
    /// Events per minute one credential may ingest (a batch costs its event count); 0 turns the limit off.
    pub ingest_rate_per_min: u32,
    /// Failed credential checks one client address (IPv6: its /64) may make in ten minutes before every route
    /// that reads a credential answers it 429; 0 turns the limit off.
    pub auth_failures_per_window: u32,
    /// Where browsers reach the server (`TRACELINE_PUBLIC_URL`, e.g. `https://review.example.com`): the origin
    /// cookie requests must come from, and, when it is `https://`, the sign-in cookie is `Secure`. Without it the
    /// origin must match the request's `Host`.
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` / `Forwarded` headers name the client; none by default.
    pub trusted_proxies: TrustedProxies,
    /// How webhooks are delivered.
    pub webhooks: WebhookSettings,
    /// How often the retention sweep runs (spec §12: at least hourly).
    pub retention_sweep_interval: Duration,
    /// Whether `GET /metrics` is served (`TRACELINE_METRICS`, on by default; spec §13).
    pub metrics: bool,
}

/// Default time between two retention sweeps: an hour, the longest the spec allows.
pub const DEFAULT_RETENTION_SWEEP_INTERVAL: Duration = Duration::from_secs(3600);

/// How webhooks are delivered (spec §12).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Whether destinations on loopback, link-local and private addresses are allowed
    /// (`TRACELINE_WEBHOOK_ALLOW_PRIVATE=1`); refused by default.
    pub allow_private: bool,
    /// When failed deliveries are tried again.
    pub retry: RetrySchedule,
    /// Deliveries in flight at once per process; a slow receiver holds one of them for up to the timeout.
    pub concurrency: usize,
    /// How often an idle sender looks for due deliveries (those written by any instance).
    pub poll_interval: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            allow_private: false,
            retry: RetrySchedule::default(),
            concurrency: 4,
            poll_interval: Duration::from_millis(500),
        }
    }
}

impl Settings {
    /// Settings with the documented defaults for a database.
    pub fn new(database_url: DatabaseUrl) -> Self {
        Self {
            database_url,
            pool: PoolSettings::default(),
            body_limit_bytes: DEFAULT_BODY_LIMIT_BYTES,
            batch_body_limit_bytes: DEFAULT_BATCH_BODY_LIMIT_BYTES,
            ip_rate_per_min: DEFAULT_IP_RATE_PER_MIN,
            ingest_rate_per_min: DEFAULT_INGEST_RATE_PER_MIN,
            auth_failures_per_window: DEFAULT_AUTH_FAILURES_PER_WINDOW,
            public_url: None,
            trusted_proxies: TrustedProxies::default(),
            webhooks: WebhookSettings::default(),
            retention_sweep_interval: DEFAULT_RETENTION_SWEEP_INTERVAL,
            metrics: true,
        }
    }
}

impl Settings {
    /// Whether browsers reach the server over HTTPS, so cookies may be marked `Secure`.
    pub fn served_over_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.to_ascii_lowercase().starts_with("https://"))
    }
}
