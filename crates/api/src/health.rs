//! How often `GET /v1/health` really asks the database: one probe's outcome answers every check for
//! [`PROBE_FRESH_FOR`], so however often a load balancer asks, the probe (a write, see `routes::health`) runs
//! about once a second. Once the outcome is stale, the first check probes again and the checks arriving while
//! it runs are answered with the stale outcome: otherwise every concurrent check would probe at once, each a
//! write of the same heartbeat row: 32 connections asking without pause ran 13 to 53 probes a second
//! (pg_stat_statements, one-second samples), averaging 5 ms each.

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long one probe's outcome answers health checks.
pub const PROBE_FRESH_FOR: Duration = Duration::from_secs(1);

/// The last probe's outcome, and whether a probe is running.
#[derive(Debug, Default)]
pub struct HealthProbe {
    state: Mutex<ProbeState>,
}

#[derive(Debug, Default)]
struct ProbeState {
    /// When the last probe finished, and why it failed if it did.
    last: Option<(Instant, Result<(), String>)>,
    probing: bool,
}

/// Marks a probe as running until dropped, also when the check awaiting it is cancelled (its client went away).
struct Probing<'a> {
    owner: &'a HealthProbe,
}

impl Drop for Probing<'_> {
    fn drop(&mut self) {
        self.owner.lock().probing = false;
    }
}

impl HealthProbe {
    fn lock(&self) -> MutexGuard<'_, ProbeState> {
        // Every change is one assignment: a panic cannot leave the state half-made.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The last outcome while it is fresh, or while another check is probing; else that of `probe`, run now and
    /// kept.
    pub async fn check<F>(&self, probe: impl FnOnce() -> F) -> Result<(), String>
    where
        F: Future<Output = Result<(), String>>,
    {
        let probing = {
            let mut state = self.lock();
            match &state.last {
                Some((at, outcome)) if at.elapsed() < PROBE_FRESH_FOR || state.probing => {
                    return outcome.clone();
                }
                // The very first checks have nothing to answer with: each probes.
                _ => {
                    state.probing = true;
                    Probing { owner: self }
                }
            }
        };
        let outcome = probe().await;
        self.lock().last = Some((Instant::now(), outcome.clone()));
        drop(probing);
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use futures_util::FutureExt;

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

    #[actix_web::test]
    async fn checks_during_a_probe_get_the_stale_outcome_and_do_not_probe() {
        let probe = HealthProbe::default();
        let stale = Err("full disk".to_owned());
        assert_eq!(probe.check(|| async { Err("full disk".to_owned()) }).await, stale);
        actix_web::rt::time::sleep(PROBE_FRESH_FOR).await;

        let runs = Cell::new(0);
        let slow_success = || {
            runs.set(runs.get() + 1);
            actix_web::rt::time::sleep(Duration::from_millis(50)).map(|()| Ok(()))
        };
        let (first, second) =
            futures_util::future::join(probe.check(slow_success), probe.check(slow_success)).await;
        assert_eq!(
            (first, second),
            (Ok(()), stale),
            "the second check got the outcome the probe replaces"
        );
        assert_eq!(runs.get(), 1, "one probe ran");
        assert_eq!(probe.check(slow_success).await, Ok(()), "the new outcome is fresh");
        assert_eq!(runs.get(), 1);
    }

    #[actix_web::test]
    async fn a_cancelled_probe_does_not_stop_the_next_check_from_probing() {
        let probe = HealthProbe::default();
        assert_eq!(probe.check(|| async { Ok(()) }).await, Ok(()));
        actix_web::rt::time::sleep(PROBE_FRESH_FOR).await;
        let never = || futures_util::future::pending::<Result<(), String>>();
        assert_eq!(probe.check(never).now_or_never(), None, "the client went away mid-probe");
        assert_eq!(
            probe.check(|| async { Err("read-only".to_owned()) }).await,
            Err("read-only".to_owned())
        );
    }
}
