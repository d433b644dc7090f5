//! The retention sweep (spec §12): at least hourly, every org's sessions past its retention are deleted, a few
//! per transaction so SQLite's single writer is never held for long and ingest goes on between them, each as
//! `DELETE /v1/sessions/:id` deletes it and announced as `session.deleted`. Finished webhook deliveries are
//! dropped from the log after 30 days, or sooner when the org's retention is shorter.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use chrono::{DateTime, Utc};
use traceline_domain::retention::Retention;
use traceline_domain::time::to_storage_precision;
use traceline_storage::{outbox, retention, Database, StorageError};

/// Sessions deleted per transaction.
pub const SWEEP_CHUNK: i64 = 20;

/// How long the delivery log keeps finished deliveries when the org's retention does not cut it shorter.
pub const DELIVERY_LOG_DAYS: i64 = 30;

/// What one sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweepReport {
    /// Sessions deleted.
    pub sessions: usize,
    /// Finished deliveries dropped from the log.
    pub deliveries: usize,
}

/// Runs one sweep as of `now`.
pub fn sweep(database: &Database, now: DateTime<Utc>) -> Result<SweepReport, StorageError> {
    let mut report = SweepReport::default();
    for (org_id, days) in database.read(retention::orgs_with_retention)? {
        let Some(cutoff) = Retention(Some(days)).cutoff(now) else { continue };
        loop {
            let expired = database.read({
                let org_id = org_id.clone();
                move |connection| {
                    retention::expired_sessions(connection, &org_id, cutoff, SWEEP_CHUNK)
                }
            })?;
            let listed = expired.len();
            let org = org_id.clone();
            let deleted = database.write(move |connection| {
                let mut deleted = 0;
                for id in &expired {
                    deleted += usize::from(retention::delete_if_expired(
                        connection, &org, id, cutoff, now,
                    )?);
                }
                Ok(deleted)
            })?;
            report.sessions += deleted;
            // A short chunk was the last; one where nothing was still expired would only come back the same.
            if listed < usize::try_from(SWEEP_CHUNK).unwrap_or(usize::MAX) || deleted == 0 {
                break;
            }
        }
        let org = org_id.clone();
        report.deliveries +=
            database.write(move |connection| outbox::prune(connection, Some(&org), cutoff))?;
    }
    let log_cutoff = now - chrono::Duration::days(DELIVERY_LOG_DAYS);
    report.deliveries +=
        database.write(move |connection| outbox::prune(connection, None, log_cutoff))?;
    Ok(report)
}

/// A running sweeper; [`SweeperHandle::stop`] ends it.
pub struct SweeperHandle {
    stop: Arc<(Mutex<bool>, Condvar)>,
}

impl SweeperHandle {
    /// Stops after the sweep in progress, if any.
    pub fn stop(&self) {
        let (stopped, changed) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        changed.notify_all();
    }
}

/// Sweeps now, then every `interval`, on a thread of its own.
pub fn start(database: Database, interval: Duration) -> SweeperHandle {
    let stop = Arc::new((Mutex::new(false), Condvar::new()));
    let signal = Arc::clone(&stop);
    let spawned = thread::Builder::new().name("traceline-retention".to_owned()).spawn(move || {
        let (stopped, changed) = &*signal;
        loop {
            match sweep(&database, to_storage_precision(Utc::now())) {
                Ok(report) if report.sessions > 0 || report.deliveries > 0 => log::info!(
                    "retention: deleted {} session(s) and {} logged webhook deliveries",
                    report.sessions,
                    report.deliveries
                ),
                Ok(_) => {}
                Err(error) => {
                    log::warn!("retention: the sweep failed, trying again next time: {error}")
                }
            }
            let guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
            let (guard, _) = changed
                .wait_timeout_while(guard, interval, |stopped| !*stopped)
                .unwrap_or_else(PoisonError::into_inner);
            if *guard {
                return;
            }
        }
    });
    if let Err(error) = spawned {
        log::error!("retention: could not start the sweep thread: {error}");
    }
    SweeperHandle { stop }
}
