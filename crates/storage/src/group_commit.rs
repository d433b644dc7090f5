//! Group commit for SQLite: one writer thread runs concurrent write requests together in one transaction and
//! acknowledges each only after that transaction has committed.
//!
//! SQLite takes one writer at a time and, with `synchronous = FULL`, pays an fsync per commit. Committing each
//! request alone would cap throughput at the disk's fsync rate; batching pays one fsync for every request that
//! arrived while the previous batch was being written. Each request still runs in a savepoint of its own, so a
//! request that fails rolls back alone and the others in its batch commit. Nobody is answered before the commit
//! that makes their write durable; if the commit fails, every request in the batch gets the error.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;

use crate::connection::AnyConnection;
use crate::error::StorageError;
use crate::writer_stats::WriterStats;

/// What a request does inside the batch transaction; it returns how to answer once the commit outcome is known.
type Job = Box<dyn FnOnce(&mut AnyConnection) -> Completion + Send>;
/// Answers one request, given whether the batch committed.
type Completion = Box<dyn FnOnce(Result<(), &str>) + Send>;

/// Requests queued beyond this make submitters wait, which bounds memory under overload.
const QUEUE_DEPTH: usize = 4096;
/// Most requests in one transaction; keeps a batch's latency bounded when the queue is long.
const MAX_BATCH: usize = 512;

/// A handle on the writer thread; cheap to clone.
#[derive(Clone)]
pub(crate) struct GroupCommitter {
    jobs: SyncSender<Job>,
    stats: Arc<WriterStats>,
}

impl GroupCommitter {
    /// Starts the writer thread over the single writer connection of `pool`.
    /// Generic over the connection manager so that this module needs nothing of the pools' own module.
    pub(crate) fn start<M>(pool: r2d2::Pool<M>) -> Self
    where
        M: r2d2::ManageConnection<Connection = AnyConnection>,
    {
        let (jobs, queue) = mpsc::sync_channel(QUEUE_DEPTH);
        let stats = Arc::new(WriterStats::default());
        let writer_stats = Arc::clone(&stats);
        let spawned = thread::Builder::new()
            .name("traceline-writer".to_owned())
            .spawn(move || write_loop(&pool, &queue, &writer_stats));
        if let Err(error) = spawned {
            // Without a writer thread every write fails as unavailable (the queue's receiver is gone); say why.
            log::error!("could not start the SQLite writer thread: {error}");
        }
        Self { jobs, stats }
    }

    /// The writer's queue and batch counters.
    pub(crate) fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Runs `work` in the next batch, in a savepoint of its own, and returns its result once the batch has
    /// committed. Blocks the calling thread.
    pub(crate) fn run<T, F>(&self, work: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        let (answer, answered) = mpsc::sync_channel::<Result<T, StorageError>>(1);
        // The submitter may have given up (its thread was cancelled); nothing to do then.
        let job = job(work, move |result| drop(answer.send(result)));
        self.jobs.send(job).map_err(|_| writer_gone())?;
        self.stats.entered();
        answered.recv().map_err(|_| writer_gone())?
    }

    /// Queues `work` for the next batch without blocking and returns the future of its committed result. When
    /// the queue is full, the write comes back as an [`Overflow`] to be sent from a thread that may block.
    pub(crate) fn enqueue<T, F>(&self, work: F) -> QueuedWrite<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    {
        let slot = Arc::new(Mutex::new(Slot { result: None, waker: None, closed: false }));
        let completer = Completer { slot: Arc::clone(&slot), completed: false };
        let job = job(work, move |result| completer.complete(result));
        let overflow = match self.jobs.try_send(job) {
            Ok(()) => {
                self.stats.entered();
                None
            }
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => {
                Some(Overflow { job, jobs: self.jobs.clone(), stats: Arc::clone(&self.stats) })
            }
        };
        QueuedWrite { pending: PendingWrite { slot }, overflow }
    }
}

/// Wraps a request's work as a job: run in a savepoint, answered through `answer` once the commit is known.
fn job<T, F, A>(work: F, answer: A) -> Job
where
    T: Send + 'static,
    F: FnOnce(&mut AnyConnection) -> Result<T, StorageError> + Send + 'static,
    A: FnOnce(Result<T, StorageError>) + Send + 'static,
{
    Box::new(move |connection| {
        let outcome = connection.transaction(work);
        Box::new(move |committed| {
            answer(match (outcome, committed) {
                (Ok(value), Ok(())) => Ok(value),
                (Ok(_), Err(reason)) => Err(commit_failed(reason)),
                (Err(error), _) => Err(error),
            });
        })
    })
}

/// A write handed to the writer without blocking.
pub struct QueuedWrite<T> {
    /// Resolves to the write's result once its batch has committed.
    pub pending: PendingWrite<T>,
    /// Set when the queue was full: send it (blocking) before awaiting `pending`.
    pub overflow: Option<Overflow>,
}

/// A write that found the writer's queue full.
pub struct Overflow {
    job: Job,
    jobs: SyncSender<Job>,
    stats: Arc<WriterStats>,
}

impl Overflow {
    /// Waits for room in the queue. Blocking: call it off the async executor.
    pub fn send_blocking(self) -> Result<(), StorageError> {
        self.jobs.send(self.job).map_err(|_| writer_gone())?;
        self.stats.entered();
        Ok(())
    }
}

struct Slot<T> {
    result: Option<Result<T, StorageError>>,
    waker: Option<Waker>,
    closed: bool,
}

fn lock<T>(slot: &Mutex<Slot<T>>) -> MutexGuard<'_, Slot<T>> {
    // A panic while the lock was held cannot leave the slot half-written: every update is a single assignment.
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer's end of a [`PendingWrite`]. Dropped without completing (its job was never run), it wakes the
/// waiter with an error rather than leaving it waiting forever.
struct Completer<T> {
    slot: Arc<Mutex<Slot<T>>>,
    completed: bool,
}

impl<T> Completer<T> {
    fn complete(mut self, result: Result<T, StorageError>) {
        self.completed = true;
        let waker = {
            let mut slot = lock(&self.slot);
            slot.result = Some(result);
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Drop for Completer<T> {
    fn drop(&mut self) {
        if self.completed {
            return;
        }
        let waker = {
            let mut slot = lock(&self.slot);
            slot.closed = true;
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The committed result of a queued write.
pub struct PendingWrite<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Future for PendingWrite<T> {
    type Output = Result<T, StorageError>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = lock(&self.slot);
        if let Some(result) = slot.result.take() {
            return Poll::Ready(result);
        }
        if slot.closed {
            return Poll::Ready(Err(writer_gone()));
        }
        slot.waker = Some(context.waker().clone());
        Poll::Pending
    }
}

fn write_loop<M>(pool: &r2d2::Pool<M>, queue: &Receiver<Job>, stats: &WriterStats)
where
    M: r2d2::ManageConnection<Connection = AnyConnection>,
{
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        stats.took_batch(batch.len());
        let mut connection = match pool.get() {
            Ok(connection) => connection,
            Err(error) => {
                let reason = format!("no database connection: {error}");
                fail_all(batch, &reason);
                continue;
            }
        };
        // A panic in one request's code must not take the writer down with it: the batch is rolled back and
        // everyone in it told.
        let outcome = catch_unwind(AssertUnwindSafe(|| run_batch(&mut connection, batch)));
        if outcome.is_err() {
            log::error!("a write request panicked; its batch was rolled back");
            let _ = <AnyConnection as Connection>::TransactionManager::rollback_transaction(
                &mut connection,
            );
        }
    }
}

fn run_batch(connection: &mut AnyConnection, batch: Vec<Job>) {
    if let Err(error) = begin_immediate(connection) {
        fail_all(batch, &format!("could not begin a transaction: {error}"));
        return;
    }
    let completions: Vec<Completion> = batch.into_iter().map(|job| job(connection)).collect();
    let committed =
        <AnyConnection as Connection>::TransactionManager::commit_transaction(connection);
    let reason = match &committed {
        Ok(()) => None,
        Err(error) => {
            log::error!("group commit failed: {error}");
            let _ =
                <AnyConnection as Connection>::TransactionManager::rollback_transaction(connection);
            Some(error.to_string())
        }
    };
    for complete in completions {
        complete(reason.as_deref().map_or(Ok(()), Err));
    }
}

/// `BEGIN IMMEDIATE` takes SQLite's write lock up front (waiting up to `busy_timeout` for another process), so
/// the batch can never fail later on upgrading a read lock. Requests' own transactions nest as savepoints.
fn begin_immediate(connection: &mut AnyConnection) -> diesel::QueryResult<()> {
    match connection {
        AnyConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")
        }
        AnyConnection::Postgres(pg) => AnsiTransactionManager::begin_transaction(pg),
    }
}

fn fail_all(batch: Vec<Job>, reason: &str) {
    log::error!("write batch of {} request(s) failed: {reason}", batch.len());
    // Jobs only become completions by running; these never ran, so answer them through a dead end: dropping the
    // job drops its answer channel, and the submitter sees the writer as gone.
    drop(batch);
}

fn commit_failed(reason: &str) -> StorageError {
    StorageError::Unavailable(Box::new(std::io::Error::other(format!("commit failed: {reason}"))))
}

fn writer_gone() -> StorageError {
    StorageError::Unavailable(Box::new(std::io::Error::other("the database writer is not running")))
}
