//! `GET /v1/health`: 200 while the database answers a read and commits a write, 503 otherwise (spec §9). The
//! write rewrites one heartbeat row through the real write path (SQLite's writer thread, a PostgreSQL
//! transaction), so a read-only database, a full disk or a stuck writer shows here; `crate::health` keeps one
//! outcome for a second, so checks cannot become load.

use std::time::Duration;

use actix_web::http::Method;
use actix_web::{web, HttpResponse};
use chrono::Utc;
use schemars::JsonSchema;
use serde::Serialize;
use traceline_storage::{heartbeat, StorageError};

use crate::error::{error_chain, ApiError};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

/// How long the write may take before the database counts as unable to commit: under a long write queue a commit
/// can take a while, and beyond this callers are better sent elsewhere.
pub(crate) const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The route.
pub(super) fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(
        Method::GET,
        "/v1/health",
        "health",
        "200 while the database answers reads and commits writes, 503 otherwise",
        Access::Public,
        |route| route.to(health),
    )
    .reply::<OkBody>(200, "The database reads and commits.")]
}

/// `{"ok": true}`.
#[derive(Serialize, JsonSchema)]
pub(crate) struct OkBody {
    /// Always true.
    pub(crate) ok: bool,
}

async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.health.check(|| probe(&state)).await.map_err(|reason| {
        ApiError::Unavailable(StorageError::Unavailable(Box::new(std::io::Error::other(reason))))
    })?;
    Ok(HttpResponse::Ok().json(OkBody { ok: true }))
}

/// A read, then a write that must commit within [`PROBE_TIMEOUT`]; the failure says which, for the log line of
/// the 503 (never its body).
async fn probe(state: &AppState) -> Result<(), String> {
    let database = state.database.clone();
    match web::block(move || database.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            return Err(format!("the database does not answer a read: {}", error_chain(&error)))
        }
        Err(error) => return Err(format!("the read probe could not run: {error}")),
    }
    let now = Utc::now();
    let write = state.write(move |connection| heartbeat::beat(connection, now));
    match actix_web::rt::time::timeout(PROBE_TIMEOUT, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(format!("a write cannot commit: {}", error_chain(&error))),
        Err(_) => Err(format!("a write did not commit within {PROBE_TIMEOUT:?}")),
    }
}
