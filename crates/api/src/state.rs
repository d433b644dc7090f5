//! Shared application state, and running blocking storage work off the async workers.

use std::sync::Arc;

use actix_web::web;
use traceline_storage::ingest_together::{IngestReply, IngestRequest};
use traceline_storage::{AnyConnection, Database, StorageError};

use crate::config::Settings;
use crate::credentials::CredentialCache;
use crate::error::ApiError;
use crate::health::HealthProbe;
use crate::rate_limit::RateLimits;
use crate::telemetry::Telemetry;
use crate::webhooks::Webhooks;

/// What every handler can reach: the database, the settings and the rate limiters.
#[derive(Clone)]
pub struct AppState {
    /// The database pools.
    pub database: Database,
    /// The server's settings.
    pub settings: Arc<Settings>,
    /// The in-memory rate limiters, shared by every worker.
    pub rate_limits: Arc<RateLimits>,
    /// Recently authenticated credentials.
    pub credentials: Arc<CredentialCache>,
    /// Webhook delivery, shared by the background sender and the test route.
    pub webhooks: Arc<Webhooks>,
    /// Request and ingest counters for `GET /metrics`.
    pub telemetry: Arc<Telemetry>,
    /// The last write probe of `GET /v1/health`, reused for a moment.
    pub health: Arc<HealthProbe>,
}

impl AppState {
    /// Opens the database pools for `settings` (lazily: nothing is connected yet).
    pub fn new(settings: Settings) -> Self {
        let database = Database::open(&settings.database_url, &settings.pool);
        let webhooks = Arc::new(Webhooks::new(settings.webhooks.clone()));
        let rate_limits = Arc::new(
            RateLimits::new(settings.ip_rate_per_min, settings.ingest_rate_per_min)
                .with_failed_credential_limit(settings.auth_failures_per_window),
        );
        Self {
            database,
            webhooks,
            settings: Arc::new(settings),
            rate_limits,
            credentials: Arc::new(CredentialCache::default()),
            telemetry: Arc::new(Telemetry::default()),
            health: Arc::new(HealthProbe::default()),
        }
    }

    /// Runs read-only storage work on the blocking thread pool. The pooled connection is taken and returned
    /// inside the closure, so it is never held across an `.await`.
    pub async fn read<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        let database = self.database.clone();
        Ok(web::block(move || database.read(work)).await??)
    }

    /// Runs storage work in one write transaction and returns once it has committed. On SQLite the work goes
    /// straight to the group-commit writer and is awaited without holding a thread (a full queue is answered
    /// 503 at once); on PostgreSQL it runs on the blocking thread pool, and again if the database aborts it for a
    /// deadlock (see [`Database::write`]).
    pub async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnMut(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        let database = self.database.clone();
        match self.database.write_queued(work) {
            Ok(pending) => Ok(pending.await?),
            Err(work) => Ok(web::block(move || database.write(work)).await??),
        }
    }

    /// Stores an ingest request and returns once the transaction holding it has committed. The request waits
    /// in the writer's queue without holding a thread (a full queue is answered 503 at once) and is stored
    /// together with the ingest requests queued beside it.
    pub async fn ingest(&self, request: IngestRequest) -> Result<IngestReply, ApiError> {
        Ok(self.database.ingest(request).await?)
    }
}
