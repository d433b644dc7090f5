//! How often `GET /v1/health` really asks the database: one probe's outcome answers every check for
//! [`PROBE_FRESH_FOR`], so however often a load balancer asks, the probe (a write, see `routes::health`) runs
//! about once a second.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long one probe's outcome answers health checks.
pub const PROBE_FRESH_FOR: Duration = Duration::from_secs(1);

/// The last probe's outcome: when it finished, and why it failed if it did.
#[derive(Debug, Default)]
pub struct HealthProbe {
    last: Mutex<Option<(Instant, Result<(), String>)>>,
}

impl HealthProbe {
    /// The last outcome while it is fresh, or else that of `probe`, run now and kept.
    pub async fn check<F>(&self, probe: impl FnOnce() -> F) -> Result<(), String>
    where
        F: Future<Output = Result<(), String>>,
    {
        let cached = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|(at, _)| at.elapsed() < PROBE_FRESH_FOR)
            .map(|(_, outcome)| outcome.clone());
        if let Some(outcome) = cached {
            return outcome;
        }
        let outcome = probe().await;
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((Instant::now(), outcome.clone()));
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[actix_web::test]
    async fn an_outcome_is_reused_while_fresh_then_asked_again() {
        let probe = HealthProbe::default();
        let runs = Cell::new(0);
        let failing = || {
            runs.set(runs.get() + 1);
            async { Err("read-only".to_owned()) }
        };
        assert_eq!(probe.check(failing).await, Err("read-only".to_owned()));
        assert_eq!(probe.check(failing).await, Err("read-only".to_owned()));
        assert_eq!(runs.get(), 1, "the second check reused the first outcome");
        actix_web::rt::time::sleep(PROBE_FRESH_FOR).await;
        assert_eq!(probe.check(|| async { Ok(()) }).await, Ok(()));
    }
}
