//! The background sender: threads of their own, outside actix, that take due deliveries from the outbox and post
//! them. A dispatcher claims what is due (a short write, under a lease naming this process) for as many workers as
//! are free; each worker posts one delivery and records the attempt (another short write). No database connection
//! or writer is held while a receiver is waited on, so a slow receiver delays only its own delivery.
//!
//! The outbox is the queue: a restart, a crash or another instance picks up whatever is pending once its lease
//! has passed, so every event is sent at least once (receivers drop repeats by `Traceline-Event-Id`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use chrono::Utc;
use traceline_domain::time::to_storage_precision;
use traceline_storage::deliveries::{self, ClaimedDelivery};
use traceline_storage::Database;

use crate::webhooks::post::{Attempting, DELIVERY_TIMEOUT};
use crate::webhooks::Webhooks;

/// How long a claim lasts: the delivery timeout and ample room to record the attempt. A sender that dies holding
/// a claim delays that delivery by at most this.
pub(crate) const LEASE: Duration = Duration::from_secs(60);

/// Longest pause after the database failed, before looking again.
const MAX_ERROR_PAUSE: Duration = Duration::from_secs(5);

/// Workers free to take a delivery, and the stop flag, shared by the dispatcher and the workers.
struct Slots {
    free: Mutex<usize>,
    changed: Condvar,
    stopping: AtomicBool,
}

impl Slots {
    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn release(&self) {
        *self.lock() += 1;
        self.changed.notify_all();
    }

    /// Waits up to `pause` (or until stopped, or a worker frees up).
    fn pause(&self, pause: Duration) {
        let free = self.lock();
        let _ = self.changed.wait_timeout(free, pause);
    }
}

/// A running sender; [`SenderHandle::stop`] ends it.
pub struct SenderHandle {
    slots: Arc<Slots>,
    database: Database,
    owner: String,
}

impl SenderHandle {
    /// Stops claiming, and frees the claims this process still holds so other instances (or the next start) send
    /// them without waiting for the lease to pass. A delivery in flight may then be sent twice: at least once.
    pub fn stop(&self) {
        self.slots.stopping.store(true, Ordering::SeqCst);
        self.slots.changed.notify_all();
        if let Err(error) = self.database.write({
            let owner = self.owner.clone();
            move |connection| deliveries::release(connection, &owner)
        }) {
            log::warn!("webhooks: could not free this instance's claims on stopping: {error}");
        }
    }
}

/// Starts the dispatcher and `webhooks.settings.concurrency` workers.
pub fn start(database: Database, webhooks: Arc<Webhooks>) -> SenderHandle {
    let workers = webhooks.settings.concurrency.max(1);
    let slots = Arc::new(Slots {
        free: Mutex::new(workers),
        changed: Condvar::new(),
        stopping: AtomicBool::new(false),
    });
    let (work, queue) = mpsc::channel::<ClaimedDelivery>();
    let queue = Arc::new(Mutex::new(queue));
    for index in 0..workers {
        let (database, webhooks, slots, queue) =
            (database.clone(), Arc::clone(&webhooks), Arc::clone(&slots), Arc::clone(&queue));
        spawn(&format!("traceline-webhook-{index}"), move || {
            work_loop(&database, &webhooks, &slots, &queue)
        });
    }
    let handle = SenderHandle {
        slots: Arc::clone(&slots),
        database: database.clone(),
        owner: webhooks.owner.clone(),
    };
    spawn("traceline-webhooks", move || dispatch_loop(&database, &webhooks, &slots, &work));
    handle
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) {
    if let Err(error) = thread::Builder::new().name(name.to_owned()).spawn(body) {
        log::error!("webhooks: could not start thread {name}, deliveries wait for another instance: {error}");
    }
}

fn dispatch_loop(
    database: &Database,
    webhooks: &Webhooks,
    slots: &Slots,
    work: &mpsc::Sender<ClaimedDelivery>,
) {
    let idle = webhooks.settings.poll_interval;
    let mut error_pause = idle;
    while !slots.stopping.load(Ordering::SeqCst) {
        let free = *slots.lock();
        if free == 0 {
            slots.pause(idle);
            continue;
        }
        match claim_due(database, &webhooks.owner, free) {
            Ok(claimed) if claimed.is_empty() => slots.pause(idle),
            Ok(claimed) => {
                for delivery in claimed {
                    *slots.lock() -= 1;
                    if work.send(delivery).is_err() {
                        return;
                    }
                }
            }
            Err(error) => {
                log::warn!("webhooks: could not read the outbox, trying again shortly: {error}");
                slots.pause(error_pause);
                error_pause = (error_pause * 2).min(MAX_ERROR_PAUSE);
                continue;
            }
        }
        error_pause = idle;
    }
}

/// Claims up to `limit` due deliveries. Asks the read pool first whether anything is due, so an idle sender
/// never takes SQLite's writer.
fn claim_due(
    database: &Database,
    owner: &str,
    limit: usize,
) -> Result<Vec<ClaimedDelivery>, traceline_storage::StorageError> {
    let now = to_storage_precision(Utc::now());
    let due = database.read(move |connection| deliveries::next_due(connection, now))?;
    if due.is_none_or(|due| due > now) {
        return Ok(Vec::new());
    }
    let owner = owner.to_owned();
    let lease_until =
        now + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::minutes(1));
    let limit = i64::try_from(limit).unwrap_or(1);
    database.write(move |connection| deliveries::claim(connection, &owner, now, lease_until, limit))
}

fn work_loop(
    database: &Database,
    webhooks: &Webhooks,
    slots: &Slots,
    queue: &Mutex<Receiver<ClaimedDelivery>>,
) {
    loop {
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(delivery) = next else { return };
        if !slots.stopping.load(Ordering::SeqCst) {
            let at = to_storage_precision(Utc::now());
            let attempting = Attempting::Delivery(&webhooks.settings.retry);
            let attempt = webhooks.poster.attempt(&delivery, at, attempting);
            let (id, owner) = (delivery.id.clone(), webhooks.owner.clone());
            let recorded = database
                .write(move |connection| deliveries::record(connection, &id, &owner, &attempt));
            if let Err(error) = recorded {
                // The lease runs out and the delivery is tried again: a repeat, never a loss.
                log::warn!(
                    "webhooks: could not record an attempt on delivery {}: {error}",
                    delivery.id
                );
            }
        }
        slots.release();
    }
}

/// Keeps the lease comfortably longer than an attempt can take.
const _: () = assert!(LEASE.as_secs() > 3 * DELIVERY_TIMEOUT.as_secs());
